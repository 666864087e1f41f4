/*
 * backend.h: the private dispatch table every compute backend fills in.
 *
 * One static const vn_backend per backend (cpu, reference, cuda), chosen per
 * context. A backend that lacks an op says so through supports() and leaves the
 * pointer NULL; callers go through the vn_be_* wrappers in dispatch.c, which
 * validate arguments once and turn a missing op into VN_ERR_UNSUPPORTED.
 *
 * Every pointer an op takes is backend memory from the same backend's alloc():
 * host memory for cpu and reference, device memory for cuda. Results of
 * reductions are written to backend memory too, so that a GPU never has to
 * round-trip to the host in the middle of a step.
 */
#ifndef VN_BACKEND_H
#define VN_BACKEND_H

#include <stdint.h>
#include <stddef.h>

#include "vnative/context.h"

struct vn_backend_nn; /* backend_nn.h: the engine ops of a device backend */

typedef enum vn_op {
    VN_OP_GEMM = 0,
    VN_OP_ADD,    /* y = a + b */
    VN_OP_MUL,    /* y = a * b */
    VN_OP_SCALE,  /* y = alpha * x */
    VN_OP_AXPY,   /* y += alpha * x */
    VN_OP_SUM,    /* out[0] = sum x */
    VN_OP_SUMSQ,  /* out[0] = sum x^2 */
    VN_OP_MAX,    /* out[0] = max x (n >= 1) */
    VN_OP_GEMM_TF32,  /* gemm with precision VN_GEMM_TF32 */
    VN_OP_GEMM_BF16,  /* gemm with precision VN_GEMM_BF16 */
    VN_OP_GEMM_GELU,  /* gemm with epilogue VN_GEMM_EPI_GELU */
    VN_OP_NN,         /* the engine ops of backend_nn.h (device backends) */
    VN_OP_ALLREDUCE,  /* collectives across processes: comm_id, comm_init, allreduce_sum */
    VN_OP_GEMM_BF16_ACT, /* gemm_bf16_act: bf16 activations in and out (inference) */
    VN_OP_COUNT
} vn_op;

const char *vn_op_name(vn_op op);

/* The ops every backend has (the base table); the rest are optional. */
#define VN_OP_BASE_MASK ((1u << (VN_OP_MAX + 1)) - 1u)

/*
 * How a GEMM multiplies. FP32 is exact fp32 arithmetic (every backend, and the
 * default). TF32 rounds A and B to 10-bit mantissas and BF16 to 7-bit mantissas
 * (round to nearest even), then multiplies with fp32 (or wider) accumulation; C, bias
 * and the output stay fp32. Those two exist for tensor cores (cuda) and, BF16 only,
 * for CPUs with AMX or avx512_bf16 (cpu); the reference backend emulates them so that
 * the fast backends can be checked against it.
 */
typedef enum vn_gemm_precision {
    VN_GEMM_FP32 = 0,
    VN_GEMM_TF32,
    VN_GEMM_BF16,
} vn_gemm_precision;

/*
 * What happens after alpha, beta and the bias. With GELU the pre-activation
 * X = alpha op(A) op(B) + beta C + bias goes to aux (laid out as C: ldc, stride_c) and
 * C receives gelu_tanh(X), so a backward can use aux as the GELU input.
 */
typedef enum vn_gemm_epilogue {
    VN_GEMM_EPI_NONE = 0,
    VN_GEMM_EPI_GELU,
} vn_gemm_epilogue;

/*
 * Batched, strided GEMM, row-major:
 *   C[b] = alpha * op(A[b]) @ op(B[b]) + beta * C[b] + bias      for b in [0, batch)
 * op(A) is m x k: A is stored m x k (lda >= k) or, with trans_a, k x m (lda >= m).
 * op(B) is k x n: B is stored k x n (ldb >= n) or, with trans_b, n x k (ldb >= k).
 * C is m x n with ldc >= n. Batch strides are in elements; a zero stride_a or
 * stride_b broadcasts that operand over the batch. bias (n floats, may be NULL)
 * is added to every row after alpha and beta are applied.
 */
typedef struct vn_gemm_desc {
    int trans_a, trans_b;
    int64_t m, n, k;
    int64_t batch;
    int64_t lda, ldb, ldc;
    int64_t stride_a, stride_b, stride_c;
    float alpha, beta;
    vn_gemm_precision precision; /* VN_GEMM_FP32 unless the backend supports the op */
    vn_gemm_epilogue epilogue;
    float *aux;                  /* with VN_GEMM_EPI_GELU: the pre-activation, as C */
} vn_gemm_desc;

/* A plain, contiguous, non-batched fp32 desc with alpha 1, beta 0 and no epilogue.
 * Inline, because the CUDA module builds descs too and links nothing of libvnative. */
static inline vn_gemm_desc vn_gemm_desc_plain(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k)
{
    vn_gemm_desc d = {
        .trans_a = trans_a,
        .trans_b = trans_b,
        .m = m,
        .n = n,
        .k = k,
        .batch = 1,
        .lda = trans_a ? m : k,
        .ldb = trans_b ? k : n,
        .ldc = n,
        .stride_a = m * k,
        .stride_b = k * n,
        .stride_c = m * n,
        .alpha = 1.0f,
        .beta = 0.0f,
        .precision = VN_GEMM_FP32,
        .epilogue = VN_GEMM_EPI_NONE,
        .aux = NULL,
    };
    return d;
}

/* Check a desc for consistency; on failure sets the message and returns VN_ERR_SHAPE
 * or VN_ERR_INVALID_ARG. */
vn_status vn_gemm_desc_check(const vn_gemm_desc *d);

typedef struct vn_backend_config {
    int n_threads;
    int deterministic;
    int device;
    uint64_t seed;
} vn_backend_config;

/* Opaque per-context state of a backend. */
typedef struct vn_backend_state vn_backend_state;

typedef struct vn_backend {
    vn_backend_kind kind;
    const char *name;

    /* Static queries, no state needed. */
    int (*available)(const char **reason);
    vn_status (*device_count)(int *out);
    vn_status (*device_info)(int index, vn_device_info *info);

    vn_status (*init)(vn_backend_state **out, const vn_backend_config *cfg);
    void (*fini)(vn_backend_state *st);
    int (*supports)(const vn_backend_state *st, vn_op op);

    /* Memory. */
    vn_status (*alloc)(vn_backend_state *st, size_t bytes, void **out);
    void (*free)(vn_backend_state *st, void *ptr);
    vn_status (*upload)(vn_backend_state *st, void *dst, const void *src_host, size_t bytes);
    vn_status (*download)(vn_backend_state *st, void *dst_host, const void *src, size_t bytes);
    vn_status (*synchronize)(vn_backend_state *st);
    /* Upload that need not wait: the host buffer may be reused as soon as the call
     * returns (a device stages it), and the copy lands before any op queued after it.
     * NULL: upload is used. */
    vn_status (*upload_async)(vn_backend_state *st, void *dst, const void *src_host, size_t bytes);

    /* Ops. */
    vn_status (*gemm)(vn_backend_state *st, const vn_gemm_desc *d, const float *a,
                      const float *b, const float *bias, float *c);
    vn_status (*add)(vn_backend_state *st, int64_t n, const float *a, const float *b, float *y);
    vn_status (*mul)(vn_backend_state *st, int64_t n, const float *a, const float *b, float *y);
    vn_status (*scale)(vn_backend_state *st, int64_t n, float alpha, const float *x, float *y);
    vn_status (*axpy)(vn_backend_state *st, int64_t n, float alpha, const float *x, float *y);
    vn_status (*sum)(vn_backend_state *st, int64_t n, const float *x, float *out);
    vn_status (*sumsq)(vn_backend_state *st, int64_t n, const float *x, float *out);
    vn_status (*max)(vn_backend_state *st, int64_t n, const float *x, float *out);

    /* The engine ops on backend memory (backend_nn.h), or NULL when the engine runs
     * its host implementations on this backend's (host) memory. */
    const struct vn_backend_nn *nn;

    /* Collectives across processes for data parallelism (NCCL on cuda), or NULL: one
     * process makes an id (comm_id, at most cap bytes, its length in *len), every
     * process of the group hands it to comm_init with its rank, and allreduce_sum then
     * sums n floats of backend memory in place across the group, in stream order. */
    vn_status (*comm_id)(void *id, size_t cap, size_t *len);
    vn_status (*comm_init)(vn_backend_state *st, const void *id, size_t len, int rank, int size);
    vn_status (*allreduce_sum)(vn_backend_state *st, float *buf, int64_t n);

    /* Why supports(st, op) is false, as static text for the error message (the missing
     * hardware, say), or NULL when there is no more to say than that. May be NULL. */
    const char *(*why_unsupported)(const vn_backend_state *st, vn_op op);

    /* VN_OP_GEMM_BF16_ACT, or NULL: a VN_GEMM_BF16 GEMM whose activations stay bf16
     * between layers of an inference forward, so that no fp32 copy of them is written
     * and converted again. A holds bf16 bits (uint16, already rounded; not transposed,
     * batch 1); B is fp32 and rounded as for VN_GEMM_BF16; C (dense rows, ldc == n;
     * beta 0) is fp32 or, with c_bf16, bf16 bits rounded to nearest even. With the GELU
     * epilogue C receives gelu_tanh(X) and no pre-activation is kept (aux NULL). */
    vn_status (*gemm_bf16_act)(vn_backend_state *st, const vn_gemm_desc *d, const uint16_t *a, const float *b,
                               const float *bias, void *c, int c_bf16);
} vn_backend;

extern const vn_backend vn_backend_cpu;
extern const vn_backend vn_backend_reference;

/* Whether the build contains the backend (for CUDA: whether its module was built). */
int vn_backend_is_compiled(vn_backend_kind kind);

/* The table of a backend, or NULL when it is not compiled in (or for AUTO). For CUDA
 * this loads the CUDA module on first use (cuda/cuda_module.h). */
const vn_backend *vn_backend_table(vn_backend_kind kind);

/* Whether the backend can run here now. On CPU-only machines this answers for CUDA
 * without loading the module. *why (static, may be NULL) says why not. */
int vn_backend_usable(vn_backend_kind kind, const char **why);

/*
 * A backend instance: what a context holds and what ops run on. The vn_be_*
 * wrappers validate arguments, check supports(), and call the table.
 */
typedef struct vn_be {
    const vn_backend *table;
    vn_backend_state *state;
} vn_be;

vn_status vn_be_open(vn_be *be, vn_backend_kind kind, const vn_backend_config *cfg);
void vn_be_close(vn_be *be);
int vn_be_supports(const vn_be *be, vn_op op);
/* Why be does not support op (static text, "" when nothing is known or it does). */
const char *vn_be_why_unsupported(const vn_be *be, vn_op op);

vn_status vn_be_alloc(const vn_be *be, size_t bytes, void **out);
void vn_be_free(const vn_be *be, void *ptr);
vn_status vn_be_upload(const vn_be *be, void *dst, const void *src_host, size_t bytes);
vn_status vn_be_download(const vn_be *be, void *dst_host, const void *src, size_t bytes);
vn_status vn_be_synchronize(const vn_be *be);
vn_status vn_be_upload_async(const vn_be *be, void *dst, const void *src_host, size_t bytes);
/* The backend's engine table, or NULL when the engine runs on host memory. */
const struct vn_backend_nn *vn_be_nn(const vn_be *be);

vn_status vn_be_gemm(const vn_be *be, const vn_gemm_desc *d, const float *a, const float *b,
                     const float *bias, float *c);
/* The table's gemm_bf16_act, with d checked (see there) and VN_ERR_UNSUPPORTED where the
 * backend lacks it. */
vn_status vn_be_gemm_bf16_act(const vn_be *be, const vn_gemm_desc *d, const uint16_t *a, const float *b,
                              const float *bias, void *c, int c_bf16);
vn_status vn_be_add(const vn_be *be, int64_t n, const float *a, const float *b, float *y);
vn_status vn_be_mul(const vn_be *be, int64_t n, const float *a, const float *b, float *y);
vn_status vn_be_scale(const vn_be *be, int64_t n, float alpha, const float *x, float *y);
vn_status vn_be_axpy(const vn_be *be, int64_t n, float alpha, const float *x, float *y);
vn_status vn_be_sum(const vn_be *be, int64_t n, const float *x, float *out);
vn_status vn_be_sumsq(const vn_be *be, int64_t n, const float *x, float *out);
vn_status vn_be_max(const vn_be *be, int64_t n, const float *x, float *out);

#endif
