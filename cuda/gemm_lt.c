/*
 * gemm_lt.c: the cuda backend's GEMM, on cuBLASLt.
 *
 * Operands. cuBLASLt is column-major, and a row-major R x C matrix with leading
 * dimension ld is, byte for byte, the column-major C x R matrix with the same ld. So
 * the row-major C = op(A) op(B) is the column-major C^T = op(B)^T op(A)^T: cuBLASLt's
 * A is the desc's B and its B is the desc's A, each keeping its own transpose flag,
 * and D is n x m with ld = ldc. Every leading dimension vn_gemm_desc_check accepts is
 * then at least the rows of its column-major view, as cuBLASLt requires. Batches are
 * strided layouts (CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, _STRIDED_BATCH_OFFSET); a zero
 * stride_a or stride_b reuses one matrix for every batch.
 *
 * Bias. CUBLASLT_EPILOGUE_BIAS adds a vector whose length is the number of rows of D,
 * broadcast over D's columns: D(r, col) += bias[r]. D's rows are the n columns of the
 * row-major C, so bias[j] lands on C[i][j] for every row i, which is the contract. The
 * bias batch stride is 0: the same vector for every batch.
 *
 * GELU. CUBLASLT_EPILOGUE_GELU_AUX(_BIAS) writes the GELU input (alpha op(A) op(B), plus
 * the bias) to the aux buffer and GELU of it to D. The aux matrix is laid out as D: its
 * ld (EPILOGUE_AUX_LD) is ldc and its batch stride (EPILOGUE_AUX_BATCH_STRIDE) is
 * stride_c, the desc's aux layout. cuBLASLt's GELU is the tanh approximation (what
 * PyTorch and TensorRT-LLM fuse it for, approximate='tanh'), the form ops_dense.c uses,
 * though its tanh may be the hardware approximation; the tests allow for that.
 *
 * Where cuBLASLt is not asked, or declines, the epilogue runs as a kernel
 * (kernels.cu, rows_epilogue) after a plain matmul on the same stream:
 *   - k = 0: no matmul at all; the kernel computes C = beta * C + bias (and GELU);
 *   - a bias with alpha != 1: whether cuBLASLt scales its bias by alpha is not
 *     documented, and the two readings differ only then;
 *   - GELU with beta != 0 (the order of the beta * C term and the activation is not
 *     documented either), with ldc or stride_c not a multiple of 8 (EPILOGUE_AUX_LD and
 *     _BATCH_STRIDE must be), or with an unfused bias: the matmul writes the
 *     pre-activation into aux and the kernel writes GELU of it into C;
 *   - more than LT_MAX_BATCH matrices: the matmul goes in chunks, and the epilogue,
 *     whose aux pointer would move with every chunk, stays out of them;
 *   - any fused configuration for which the heuristic finds no algorithm or that
 *     cublasLtMatmul rejects before launching anything.
 *
 * Precision. FP32 is CUBLAS_COMPUTE_32F, which never uses TF32 tensor cores; TF32 is
 * CUBLAS_COMPUTE_32F_FAST_TF32. BF16 converts A and B to bf16 copies (round to nearest
 * even, kernels.cu) in a workspace that grows on demand, then multiplies CUDA_R_16BF
 * inputs with CUBLAS_COMPUTE_32F into fp32 C and D.
 *
 * Determinism. Each call asks the heuristic for one algorithm, which is a function of
 * the shape, the types and the operands' alignments, and runs it on the context's one
 * stream with the context's own workspace, which is what cuBLAS needs to give the same
 * bits every run on a given GPU. Split-K is limited to the schemes that reduce the
 * partial products in the workspace in a separate pass; none of cuBLASLt's schemes
 * uses atomics, but the in-place one sums into D, and D is better written once.
 * cuBLASLt caches heuristic answers itself, so no cache is kept here.
 */
#include "core/error.h"
#include "cuda_kernels.h"
#include "cuda_state.h"

#include <stdint.h>
#include <string.h>

#define LT_WORKSPACE_BYTES ((size_t)32 << 20)

/* The most matrices per cublasLtMatmul call. cuBLASLt documents no limit, but 65535 is
 * where a grid's y and z dimensions stop, which batched kernels commonly map the batch
 * to; chunks this large cost nothing and keep clear of it. */
#define LT_MAX_BATCH 65535

vn_status vn_cuda_gemm_init(vn_backend_state *st)
{
    cublasStatus_t bs = cublasLtCreate(&st->lt);
    if (bs != CUBLAS_STATUS_SUCCESS) {
        st->lt = NULL;
        return vn_cuda_blas_fail(bs, "cublasLtCreate");
    }
    vn_status s = vn_cuda_arena_alloc(st, LT_WORKSPACE_BYTES, &st->lt_workspace);
    if (s == VN_OK)
        st->lt_workspace_bytes = LT_WORKSPACE_BYTES;
    return s;
}

void vn_cuda_gemm_fini(vn_backend_state *st)
{
    /* The workspaces are arena buffers and go with it. */
    if (st->lt)
        cublasLtDestroy(st->lt);
    st->lt = NULL;
}

/* ---- one cuBLASLt call ------------------------------------------------------------- */

/* A matrix as cuBLASLt sees it: column-major rows x cols, before its transpose. */
typedef struct lt_mat {
    const void *ptr;
    cudaDataType_t type;
    size_t elem;
    uint64_t rows, cols;
    int64_t ld, stride;
    int trans;
} lt_mat;

/* The row-major stored_rows x stored_cols matrix at ptr. stride is 0 for one matrix
 * shared by the whole batch. */
static lt_mat row_major(const void *ptr, cudaDataType_t type, size_t elem, int trans, int64_t stored_rows,
                        int64_t stored_cols, int64_t ld, int64_t stride)
{
    lt_mat x = {ptr, type, elem, (uint64_t)stored_cols, (uint64_t)stored_rows, ld, stride, trans};
    return x;
}

typedef struct lt_plan {
    cublasComputeType_t compute;
    lt_mat a, b;       /* cuBLASLt's A and B: the desc's B and A */
    lt_mat c, d;       /* both n x m with ldc and stride_c; d may be aux */
    int64_t batch;
    float alpha, beta;
    const float *bias; /* fused bias, or NULL */
    float *aux;        /* fused GELU's pre-activation output, or NULL */
} lt_plan;

/* The largest power of two, at most 256, that divides the address of every matrix of
 * the batch: the heuristic must not pick a kernel that needs more. */
static uint32_t alignment(const lt_mat *x, int64_t batch)
{
    uintptr_t v = (uintptr_t)x->ptr;
    if (batch > 1)
        v |= (uintptr_t)x->stride * x->elem;
    uint32_t al = 256;
    while (al > 1 && v % al != 0)
        al >>= 1;
    return al;
}

static cublasStatus_t layout(cublasLtMatrixLayout_t l, const lt_mat *x, int32_t count)
{
    cublasStatus_t s = cublasLtMatrixLayoutInit(l, x->type, x->rows, x->cols, x->ld);
    if (s == CUBLAS_STATUS_SUCCESS)
        s = cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &count, sizeof count);
    if (s == CUBLAS_STATUS_SUCCESS)
        s = cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &x->stride,
                                             sizeof x->stride);
    return s;
}

static cublasStatus_t layouts(const lt_plan *p, int32_t count, cublasLtMatrixLayout_t la, cublasLtMatrixLayout_t lb,
                              cublasLtMatrixLayout_t lc, cublasLtMatrixLayout_t ld)
{
    cublasStatus_t s = layout(la, &p->a, count);
    if (s == CUBLAS_STATUS_SUCCESS)
        s = layout(lb, &p->b, count);
    if (s == CUBLAS_STATUS_SUCCESS)
        s = layout(lc, &p->c, count);
    if (s == CUBLAS_STATUS_SUCCESS)
        s = layout(ld, &p->d, count);
    return s;
}

#define SET(obj, fn, attr, value) (s == CUBLAS_STATUS_SUCCESS ? (s = fn(obj, attr, &(value), sizeof(value))) : s)

static cublasStatus_t matmul_desc(cublasLtMatmulDesc_t md, const lt_plan *p)
{
    cublasStatus_t s = cublasLtMatmulDescInit(md, p->compute, CUDA_R_32F);
    int32_t ta = p->a.trans ? CUBLAS_OP_T : CUBLAS_OP_N, tb = p->b.trans ? CUBLAS_OP_T : CUBLAS_OP_N;
    uint32_t epi = p->aux ? (p->bias ? CUBLASLT_EPILOGUE_GELU_AUX_BIAS : CUBLASLT_EPILOGUE_GELU_AUX)
                          : (p->bias ? CUBLASLT_EPILOGUE_BIAS : CUBLASLT_EPILOGUE_DEFAULT);
    SET(md, cublasLtMatmulDescSetAttribute, CUBLASLT_MATMUL_DESC_TRANSA, ta);
    SET(md, cublasLtMatmulDescSetAttribute, CUBLASLT_MATMUL_DESC_TRANSB, tb);
    SET(md, cublasLtMatmulDescSetAttribute, CUBLASLT_MATMUL_DESC_EPILOGUE, epi);
    if (p->bias) {
        const void *bias = p->bias;
        int32_t type = CUDA_R_32F;
        int64_t stride = 0;
        SET(md, cublasLtMatmulDescSetAttribute, CUBLASLT_MATMUL_DESC_BIAS_POINTER, bias);
        SET(md, cublasLtMatmulDescSetAttribute, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, type);
        SET(md, cublasLtMatmulDescSetAttribute, CUBLASLT_MATMUL_DESC_BIAS_BATCH_STRIDE, stride);
    }
    if (p->aux) {
        void *aux = p->aux;
        int64_t ld = p->d.ld, stride = p->batch > 1 ? p->d.stride : 0;
        SET(md, cublasLtMatmulDescSetAttribute, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_POINTER, aux);
        SET(md, cublasLtMatmulDescSetAttribute, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_LD, ld);
        SET(md, cublasLtMatmulDescSetAttribute, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_BATCH_STRIDE, stride);
    }
    return s;
}

/* One algorithm for the layouts as they stand. */
static cublasStatus_t pick(vn_backend_state *st, const lt_plan *p, cublasLtMatmulDesc_t md, cublasLtMatrixLayout_t la,
                           cublasLtMatrixLayout_t lb, cublasLtMatrixLayout_t lc, cublasLtMatrixLayout_t ld,
                           cublasLtMatmulAlgo_t *algo)
{
    cublasLtMatmulPreference_t pref = NULL;
    cublasStatus_t s = cublasLtMatmulPreferenceCreate(&pref);
    uint64_t ws = st->lt_workspace_bytes;
    uint32_t schemes = CUBLASLT_REDUCTION_SCHEME_COMPUTE_TYPE | CUBLASLT_REDUCTION_SCHEME_OUTPUT_TYPE;
    uint32_t al_a = alignment(&p->a, p->batch), al_b = alignment(&p->b, p->batch);
    uint32_t al_c = alignment(&p->c, p->batch), al_d = alignment(&p->d, p->batch);
    SET(pref, cublasLtMatmulPreferenceSetAttribute, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, ws);
    SET(pref, cublasLtMatmulPreferenceSetAttribute, CUBLASLT_MATMUL_PREF_REDUCTION_SCHEME_MASK, schemes);
    SET(pref, cublasLtMatmulPreferenceSetAttribute, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, al_a);
    SET(pref, cublasLtMatmulPreferenceSetAttribute, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, al_b);
    SET(pref, cublasLtMatmulPreferenceSetAttribute, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, al_c);
    SET(pref, cublasLtMatmulPreferenceSetAttribute, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, al_d);
    cublasLtMatmulHeuristicResult_t res;
    memset(&res, 0, sizeof res);
    int found = 0;
    if (s == CUBLAS_STATUS_SUCCESS)
        s = cublasLtMatmulAlgoGetHeuristic(st->lt, md, la, lb, lc, ld, pref, 1, &res, &found);
    if (s == CUBLAS_STATUS_SUCCESS && (found < 1 || res.state != CUBLAS_STATUS_SUCCESS))
        s = CUBLAS_STATUS_NOT_SUPPORTED;
    if (s == CUBLAS_STATUS_SUCCESS)
        *algo = res.algo;
    if (pref)
        cublasLtMatmulPreferenceDestroy(pref);
    return s;
}

static const void *offset(const lt_mat *x, int64_t first)
{
    return (const char *)x->ptr + (size_t)(first * x->stride) * x->elem;
}

/*
 * Runs p in chunks of at most LT_MAX_BATCH matrices. Algorithms for both chunk sizes
 * are picked before anything is queued, so that a configuration cuBLASLt declines
 * fails with *queued 0 and can be retried another way: once a matmul has run, C may
 * already be overwritten.
 */
static cublasStatus_t run(vn_backend_state *st, const lt_plan *p, int *queued, const char **what)
{
    cublasLtMatmulDescOpaque_t md_mem;
    cublasLtMatrixLayoutOpaque_t la_mem, lb_mem, lc_mem, ld_mem;
    cublasLtMatmulDesc_t md = &md_mem;
    cublasLtMatrixLayout_t la = &la_mem, lb = &lb_mem, lc = &lc_mem, ld = &ld_mem;
    /* In place (D is C) is documented as C == D with Cdesc == Ddesc: one descriptor. */
    cublasLtMatrixLayout_t dl = p->d.ptr == p->c.ptr ? lc : ld;
    const int64_t full = p->batch < LT_MAX_BATCH ? p->batch : LT_MAX_BATCH;
    const int64_t last = p->batch - (p->batch - 1) / full * full;
    cublasLtMatmulAlgo_t algo_full, algo_last;
    *queued = 0;
    *what = "cuBLASLt matmul descriptor";
    cublasStatus_t s = matmul_desc(md, p);
    for (int pass = 0; pass < 2 && s == CUBLAS_STATUS_SUCCESS; pass++) {
        int32_t count = (int32_t)(pass == 0 ? full : last);
        if (pass == 1 && last == full) {
            algo_last = algo_full;
            break;
        }
        *what = "cuBLASLt matrix layouts";
        s = layouts(p, count, la, lb, lc, ld);
        *what = "cublasLtMatmulAlgoGetHeuristic";
        if (s == CUBLAS_STATUS_SUCCESS)
            s = pick(st, p, md, la, lb, lc, dl, pass == 0 ? &algo_full : &algo_last);
    }
    *what = "cublasLtMatmul";
    for (int64_t first = 0; first < p->batch && s == CUBLAS_STATUS_SUCCESS; first += full) {
        int32_t count = (int32_t)(p->batch - first < full ? p->batch - first : full);
        if (first == 0 || count != full)
            s = layouts(p, count, la, lb, lc, ld);
        if (s == CUBLAS_STATUS_SUCCESS)
            s = cublasLtMatmul(st->lt, md, &p->alpha, offset(&p->a, first), la, offset(&p->b, first), lb, &p->beta,
                               offset(&p->c, first), lc, (void *)offset(&p->d, first), dl,
                               count == full ? &algo_full : &algo_last, st->lt_workspace, st->lt_workspace_bytes,
                               st->stream);
        if (s == CUBLAS_STATUS_SUCCESS)
            *queued = 1;
    }
    return s;
}

/* ---- the backend's GEMM ------------------------------------------------------------ */

static int64_t round_up(int64_t v, int64_t to)
{
    return (v + to - 1) / to * to;
}

/* The bytes of batch bf16 matrices stride elements apart; nonzero on overflow. */
static int bf16_bytes(int64_t batch, int64_t stride, size_t *out)
{
    size_t n;
    return __builtin_mul_overflow((size_t)batch, (size_t)stride, &n) || __builtin_mul_overflow(n, (size_t)2, out);
}

/*
 * bf16 copies of A and B in st->bf16_ws, compact (a broadcast operand once) with rows
 * padded to 8 elements, so that every row starts 16-byte aligned as tensor-core
 * kernels prefer; the padding is never read. The workspace is an arena buffer, so
 * replacing it with a larger one is ordered after the GEMMs still reading it.
 */
static vn_status bf16_operands(vn_backend_state *st, const vn_gemm_desc *d, const float *a, const float *b,
                               lt_plan *p)
{
    int64_t ar = d->trans_a ? d->k : d->m, ac = d->trans_a ? d->m : d->k;
    int64_t br = d->trans_b ? d->n : d->k, bc = d->trans_b ? d->k : d->n;
    int64_t a_batch = d->stride_a == 0 ? 1 : d->batch, b_batch = d->stride_b == 0 ? 1 : d->batch;
    int64_t a_ld = round_up(ac, 8), b_ld = round_up(bc, 8);
    int64_t a_stride = ar * a_ld, b_stride = br * b_ld;
    size_t a_bytes = 0, b_bytes = 0, b_off = 0, total = 0;
    int too_big = bf16_bytes(a_batch, a_stride, &a_bytes) || bf16_bytes(b_batch, b_stride, &b_bytes) ||
                  a_bytes > SIZE_MAX / 2;
    if (!too_big) {
        b_off = (a_bytes + 255) & ~(size_t)255;
        too_big = __builtin_add_overflow(b_off, b_bytes, &total);
    }
    if (too_big)
        return vn_error(VN_ERR_OUT_OF_MEMORY, "gemm (bf16): the bf16 copies of A and B would not fit in memory");
    if (total > st->bf16_ws_bytes) {
        if (st->bf16_ws)
            vn_cuda_arena_free(st, st->bf16_ws);
        st->bf16_ws = NULL;
        st->bf16_ws_bytes = 0;
        size_t want = (total + ((size_t)1 << 20) - 1) & ~(((size_t)1 << 20) - 1);
        vn_status s = vn_cuda_arena_alloc(st, want, &st->bf16_ws);
        if (s != VN_OK)
            return s;
        st->bf16_ws_bytes = want;
    }
    uint16_t *a16 = st->bf16_ws, *b16 = (uint16_t *)((char *)st->bf16_ws + b_off);
    cudaError_t e = vn_cuda_launch_to_bf16(st->stream, a_batch, ar, ac, d->lda, a_batch > 1 ? d->stride_a : 0, a,
                                           a_ld, a_stride, a16);
    if (e == cudaSuccess)
        e = vn_cuda_launch_to_bf16(st->stream, b_batch, br, bc, d->ldb, b_batch > 1 ? d->stride_b : 0, b, b_ld,
                                   b_stride, b16);
    if (e != cudaSuccess)
        return vn_cuda_fail(e, "gemm (bf16) conversion kernel launch");
    p->a = row_major(b16, CUDA_R_16BF, 2, d->trans_b, br, bc, b_ld, b_batch > 1 ? b_stride : 0);
    p->b = row_major(a16, CUDA_R_16BF, 2, d->trans_a, ar, ac, a_ld, a_batch > 1 ? a_stride : 0);
    return VN_OK;
}

/* The matmul with as much of the epilogue fused as cuBLASLt takes (see the top of the
 * file), then the rest as a kernel. */
static vn_status gemm_epilogue(vn_backend_state *st, const vn_gemm_desc *d, lt_plan *p, const float *bias,
                               float *aux, float *c)
{
    const int gelu = aux != NULL, one_call = d->batch <= LT_MAX_BATCH;
    int fuse_bias = bias && d->alpha == 1.0f && one_call;
    int fuse_gelu = gelu && one_call && d->beta == 0.0f && (!bias || fuse_bias) && d->ldc % 8 == 0 &&
                    (d->batch == 1 || d->stride_c % 8 == 0);
    cublasStatus_t bs = CUBLAS_STATUS_SUCCESS;
    int queued = 0;
    const char *what = "";
    if (fuse_bias || fuse_gelu) {
        p->bias = fuse_bias ? bias : NULL;
        p->aux = fuse_gelu ? aux : NULL;
        p->d = p->c;
        p->d.ptr = gelu && !fuse_gelu ? aux : c;
        bs = run(st, p, &queued, &what);
        if (bs != CUBLAS_STATUS_SUCCESS && !queued) {
            vn_log(VN_LOG_DEBUG,
                   "cuda backend: cuBLASLt declined the fused %s epilogue for m=%lld n=%lld k=%lld batch=%lld "
                   "(%s: %s); it runs as a kernel",
                   fuse_gelu ? "GELU" : "bias", (long long)d->m, (long long)d->n, (long long)d->k,
                   (long long)d->batch, what, cublasGetStatusName(bs));
            fuse_bias = fuse_gelu = 0;
        }
    }
    if (!fuse_bias && !fuse_gelu) {
        p->bias = NULL;
        p->aux = NULL;
        p->d = p->c;
        p->d.ptr = gelu ? aux : c;
        bs = run(st, p, &queued, &what);
    }
    if (bs != CUBLAS_STATUS_SUCCESS)
        return vn_cuda_blas_fail(bs, what);
    if (gelu && !fuse_gelu)
        return vn_cuda_launched(vn_cuda_launch_rows_epilogue(st->stream, d->batch, d->m, d->n, d->ldc, d->stride_c,
                                                             1.0f, aux, fuse_bias ? NULL : bias, aux, c, 1),
                                "gemm GELU epilogue kernel launch");
    if (bias && !fuse_bias)
        return vn_cuda_launched(vn_cuda_launch_rows_epilogue(st->stream, d->batch, d->m, d->n, d->ldc, d->stride_c,
                                                             1.0f, c, bias, NULL, c, 0),
                                "gemm bias kernel launch");
    return VN_OK;
}

vn_status vn_cuda_gemm(vn_backend_state *st, const vn_gemm_desc *d, const float *a, const float *b,
                       const float *bias, float *c)
{
    vn_status s = vn_cuda_use_device(st);
    if (s != VN_OK)
        return s;
    float *aux = d->epilogue == VN_GEMM_EPI_GELU ? d->aux : NULL;
    if (d->k == 0) {
        /* An empty product: C = beta * C + bias, then GELU. The dispatcher lets a and b
         * be NULL here, and cuBLASLt documents nothing about empty operands. */
        return vn_cuda_launched(vn_cuda_launch_rows_epilogue(st->stream, d->batch, d->m, d->n, d->ldc, d->stride_c,
                                                             d->beta, c, bias, aux, c, aux != NULL),
                                "gemm (k = 0) epilogue kernel launch");
    }
    lt_plan p;
    memset(&p, 0, sizeof p);
    p.compute = d->precision == VN_GEMM_TF32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
    p.batch = d->batch;
    p.alpha = d->alpha;
    p.beta = d->beta;
    p.c = row_major(c, CUDA_R_32F, sizeof(float), 0, d->m, d->n, d->ldc, d->batch > 1 ? d->stride_c : 0);
    /* The bf16 workspace is shared: its conversion and its matmul must not interleave
     * with another thread's. The other paths hold the lock too, which costs nothing
     * since one stream runs them in order anyway. */
    pthread_mutex_lock(&st->op_lock);
    if (d->precision == VN_GEMM_BF16) {
        s = bf16_operands(st, d, a, b, &p);
    } else {
        int64_t ar = d->trans_a ? d->k : d->m, ac = d->trans_a ? d->m : d->k;
        int64_t br = d->trans_b ? d->n : d->k, bc = d->trans_b ? d->k : d->n;
        p.a = row_major(b, CUDA_R_32F, sizeof(float), d->trans_b, br, bc, d->ldb, d->batch > 1 ? d->stride_b : 0);
        p.b = row_major(a, CUDA_R_32F, sizeof(float), d->trans_a, ar, ac, d->lda, d->batch > 1 ? d->stride_a : 0);
    }
    if (s == VN_OK)
        s = gemm_epilogue(st, d, &p, bias, aux, c);
    pthread_mutex_unlock(&st->op_lock);
    return s;
}
