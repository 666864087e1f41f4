#include "backend/backend.h"
#include "core/error.h"
#ifdef VN_HAVE_CUDA
#include "cuda_module.h"
#endif

#include <string.h>

const char *vn_op_name(vn_op op)
{
    static const char *const names[VN_OP_COUNT] = {
        "gemm", "add", "mul", "scale", "axpy", "sum", "sumsq", "max", "gemm_tf32", "gemm_bf16", "gemm_gelu", "nn",
        "allreduce", "gemm_bf16_act",
    };
    return ((int)op >= 0 && op < VN_OP_COUNT) ? names[op] : "unknown";
}

const vn_backend *vn_backend_table(vn_backend_kind kind)
{
    switch (kind) {
    case VN_BACKEND_CPU: return &vn_backend_cpu;
    case VN_BACKEND_REFERENCE: return &vn_backend_reference;
#ifdef VN_HAVE_CUDA
    case VN_BACKEND_CUDA: return vn_cuda_module_backend(NULL);
#else
    case VN_BACKEND_CUDA: return NULL;
#endif
    case VN_BACKEND_AUTO: return NULL;
    }
    return NULL;
}

int vn_backend_is_compiled(vn_backend_kind kind)
{
    switch (kind) {
    case VN_BACKEND_CPU:
    case VN_BACKEND_REFERENCE: return 1;
#ifdef VN_HAVE_CUDA
    case VN_BACKEND_CUDA: return 1;
#else
    case VN_BACKEND_CUDA: return 0;
#endif
    case VN_BACKEND_AUTO: return 0;
    }
    return 0;
}

int vn_backend_usable(vn_backend_kind kind, const char **why)
{
    const char *reason = "";
    int ok = 0;
    if (!vn_backend_is_compiled(kind)) {
        reason = "not compiled into this build (configure with -Dcuda=enabled where the CUDA Toolkit is installed)";
    } else {
#ifdef VN_HAVE_CUDA
        /* Without a driver there is no GPU: say so before mapping cudart and cuBLAS. */
        if (kind == VN_BACKEND_CUDA && !vn_cuda_driver_present(&reason)) {
            if (why)
                *why = reason;
            return 0;
        }
#endif
        const vn_backend *t = kind == VN_BACKEND_CUDA ? NULL : vn_backend_table(kind);
#ifdef VN_HAVE_CUDA
        if (kind == VN_BACKEND_CUDA)
            t = vn_cuda_module_backend(&reason);
#endif
        ok = t && t->available(&reason);
    }
    if (why)
        *why = ok ? "" : reason;
    return ok;
}

vn_status vn_gemm_desc_check(const vn_gemm_desc *d)
{
    if (!d)
        return vn_error(VN_ERR_INVALID_ARG, "gemm: descriptor is NULL");
    if (d->m < 0 || d->n < 0 || d->k < 0 || d->batch < 1)
        return vn_error(VN_ERR_SHAPE, "gemm: m=%lld n=%lld k=%lld batch=%lld; sizes must be >= 0 and batch >= 1",
                        (long long)d->m, (long long)d->n, (long long)d->k, (long long)d->batch);
    int64_t min_lda = d->trans_a ? d->m : d->k;
    int64_t min_ldb = d->trans_b ? d->k : d->n;
    if (d->lda < (min_lda > 1 ? min_lda : 1) || d->ldb < (min_ldb > 1 ? min_ldb : 1) ||
        d->ldc < (d->n > 1 ? d->n : 1))
        return vn_error(VN_ERR_SHAPE,
                        "gemm: leading dimensions lda=%lld ldb=%lld ldc=%lld are below the minimum %lld, %lld, %lld "
                        "(trans_a=%d trans_b=%d m=%lld n=%lld k=%lld)",
                        (long long)d->lda, (long long)d->ldb, (long long)d->ldc, (long long)min_lda,
                        (long long)min_ldb, (long long)d->n, d->trans_a, d->trans_b, (long long)d->m,
                        (long long)d->n, (long long)d->k);
    if (d->stride_a < 0 || d->stride_b < 0 || d->stride_c < 0)
        return vn_error(VN_ERR_SHAPE, "gemm: batch strides must be >= 0 (got %lld, %lld, %lld)",
                        (long long)d->stride_a, (long long)d->stride_b, (long long)d->stride_c);
    /* C's batches must not overlap, or results would depend on execution order. */
    int64_t c_span = (d->m - 1) * d->ldc + d->n;
    if (d->batch > 1 && d->m > 0 && d->n > 0 && d->stride_c < c_span)
        return vn_error(VN_ERR_SHAPE, "gemm: stride_c=%lld lets the %lld output matrices overlap (each spans %lld)",
                        (long long)d->stride_c, (long long)d->batch, (long long)c_span);
    return VN_OK;
}

vn_status vn_be_open(vn_be *be, vn_backend_kind kind, const vn_backend_config *cfg)
{
    VN_CHECK_NULL(be);
    VN_CHECK_NULL(cfg);
    memset(be, 0, sizeof *be);
    if (!vn_backend_is_compiled(kind))
        return vn_error(VN_ERR_UNSUPPORTED, "backend '%s' is not compiled into this build of libvnative",
                        vn_backend_name(kind));
    const char *why = "";
    if (!vn_backend_usable(kind, &why))
        return vn_error(VN_ERR_UNSUPPORTED, "backend '%s' is not available on this machine: %s", vn_backend_name(kind),
                        why);
    const vn_backend *t = vn_backend_table(kind);
    vn_status s = t->init(&be->state, cfg);
    if (s != VN_OK)
        return s;
    be->table = t;
    return VN_OK;
}

void vn_be_close(vn_be *be)
{
    if (!be || !be->table)
        return;
    be->table->fini(be->state);
    be->table = NULL;
    be->state = NULL;
}

int vn_be_supports(const vn_be *be, vn_op op)
{
    if (!be || !be->table || (int)op < 0 || op >= VN_OP_COUNT)
        return 0;
    return be->table->supports(be->state, op);
}

const char *vn_be_why_unsupported(const vn_be *be, vn_op op)
{
    if (!be || !be->table || !be->table->why_unsupported || vn_be_supports(be, op))
        return "";
    const char *why = be->table->why_unsupported(be->state, op);
    return why ? why : "";
}

/* Common entry check for an op: an open backend that supports it. */
static vn_status op_ready(const vn_be *be, vn_op op)
{
    if (!be || !be->table)
        return vn_error(VN_ERR_STATE, "%s: no backend is open", vn_op_name(op));
    if (!be->table->supports(be->state, op)) {
        const char *why = vn_be_why_unsupported(be, op);
        return vn_error(VN_ERR_UNSUPPORTED, "the %s backend does not support op '%s'%s%s", be->table->name,
                        vn_op_name(op), *why ? ": " : "", why);
    }
    return VN_OK;
}

/* An elementwise or reduction op over n floats and up to three buffers. */
static vn_status vec_ready(const vn_be *be, vn_op op, int64_t n, const void *p0, const void *p1,
                           const void *p2)
{
    vn_status s = op_ready(be, op);
    if (s != VN_OK)
        return s;
    if (n < 0)
        return vn_error(VN_ERR_SHAPE, "%s: length %lld is negative", vn_op_name(op), (long long)n);
    if ((op == VN_OP_MAX) && n == 0)
        return vn_error(VN_ERR_SHAPE, "max: the maximum of zero elements is undefined");
    if (!p0 || !p1 || !p2)
        return vn_error(VN_ERR_INVALID_ARG, "%s: a buffer argument is NULL", vn_op_name(op));
    return VN_OK;
}

vn_status vn_be_alloc(const vn_be *be, size_t bytes, void **out)
{
    VN_CHECK_NULL(be);
    VN_CHECK_NULL(out);
    if (!be->table)
        return vn_error(VN_ERR_STATE, "alloc: no backend is open");
    return be->table->alloc(be->state, bytes, out);
}

void vn_be_free(const vn_be *be, void *ptr)
{
    if (be && be->table && ptr)
        be->table->free(be->state, ptr);
}

vn_status vn_be_upload(const vn_be *be, void *dst, const void *src_host, size_t bytes)
{
    VN_CHECK_NULL(be);
    if (!be->table)
        return vn_error(VN_ERR_STATE, "upload: no backend is open");
    if (bytes == 0)
        return VN_OK;
    VN_CHECK_NULL(dst);
    VN_CHECK_NULL(src_host);
    return be->table->upload(be->state, dst, src_host, bytes);
}

vn_status vn_be_download(const vn_be *be, void *dst_host, const void *src, size_t bytes)
{
    VN_CHECK_NULL(be);
    if (!be->table)
        return vn_error(VN_ERR_STATE, "download: no backend is open");
    if (bytes == 0)
        return VN_OK;
    VN_CHECK_NULL(dst_host);
    VN_CHECK_NULL(src);
    return be->table->download(be->state, dst_host, src, bytes);
}

vn_status vn_be_synchronize(const vn_be *be)
{
    VN_CHECK_NULL(be);
    if (!be->table)
        return vn_error(VN_ERR_STATE, "synchronize: no backend is open");
    return be->table->synchronize(be->state);
}

vn_status vn_be_upload_async(const vn_be *be, void *dst, const void *src_host, size_t bytes)
{
    VN_CHECK_NULL(be);
    if (!be->table)
        return vn_error(VN_ERR_STATE, "upload: no backend is open");
    if (!be->table->upload_async)
        return vn_be_upload(be, dst, src_host, bytes);
    if (bytes == 0)
        return VN_OK;
    VN_CHECK_NULL(dst);
    VN_CHECK_NULL(src_host);
    return be->table->upload_async(be->state, dst, src_host, bytes);
}

const struct vn_backend_nn *vn_be_nn(const vn_be *be)
{
    return be && be->table && vn_be_supports(be, VN_OP_NN) ? be->table->nn : NULL;
}

vn_status vn_be_gemm(const vn_be *be, const vn_gemm_desc *d, const float *a, const float *b,
                     const float *bias, float *c)
{
    vn_status s = op_ready(be, VN_OP_GEMM);
    if (s != VN_OK)
        return s;
    s = vn_gemm_desc_check(d);
    if (s != VN_OK)
        return s;
    if (d->precision == VN_GEMM_TF32)
        s = op_ready(be, VN_OP_GEMM_TF32);
    else if (d->precision == VN_GEMM_BF16)
        s = op_ready(be, VN_OP_GEMM_BF16);
    if (s != VN_OK)
        return s;
    if (d->epilogue == VN_GEMM_EPI_GELU && (s = op_ready(be, VN_OP_GEMM_GELU)) != VN_OK)
        return s;
    if (d->epilogue == VN_GEMM_EPI_GELU && !d->aux && d->m > 0 && d->n > 0)
        return vn_error(VN_ERR_INVALID_ARG, "gemm: the GELU epilogue needs an aux buffer for the pre-activation");
    if (d->m == 0 || d->n == 0)
        return VN_OK;
    if (!c || (d->k > 0 && (!a || !b)))
        return vn_error(VN_ERR_INVALID_ARG, "gemm: a matrix pointer is NULL (a=%p b=%p c=%p)", (const void *)a,
                        (const void *)b, (void *)c);
    return be->table->gemm(be->state, d, a, b, bias, c);
}

vn_status vn_be_gemm_bf16_act(const vn_be *be, const vn_gemm_desc *d, const uint16_t *a, const float *b,
                              const float *bias, void *c, int c_bf16)
{
    vn_status s = op_ready(be, VN_OP_GEMM_BF16_ACT);
    if (s != VN_OK || (s = vn_gemm_desc_check(d)) != VN_OK)
        return s;
    if (!be->table->gemm_bf16_act)
        return vn_error(VN_ERR_UNSUPPORTED, "the %s backend has no gemm_bf16_act", be->table->name);
    if (d->precision != VN_GEMM_BF16 || d->trans_a || d->batch != 1 || d->k < 1)
        return vn_error(VN_ERR_INVALID_ARG,
                        "gemm_bf16_act: precision %d, trans_a %d, batch %lld, k %lld; it takes bf16 precision, an "
                        "untransposed A, batch 1 and k >= 1",
                        (int)d->precision, d->trans_a, (long long)d->batch, (long long)d->k);
    if (d->beta != 0.0f || d->ldc != d->n)
        return vn_error(VN_ERR_INVALID_ARG, "gemm_bf16_act: beta %g, ldc %lld, n %lld; it takes beta 0 and dense rows",
                        (double)d->beta, (long long)d->ldc, (long long)d->n);
    if (d->epilogue == VN_GEMM_EPI_GELU && d->aux)
        return vn_error(VN_ERR_INVALID_ARG, "gemm_bf16_act: the GELU epilogue keeps no pre-activation (aux must be NULL)");
    if (d->m == 0 || d->n == 0)
        return VN_OK;
    if (!c || (d->k > 0 && (!a || !b)))
        return vn_error(VN_ERR_INVALID_ARG, "gemm_bf16_act: a matrix pointer is NULL (a=%p b=%p c=%p)",
                        (const void *)a, (const void *)b, c);
    return be->table->gemm_bf16_act(be->state, d, a, b, bias, c, c_bf16);
}

#define VN_BINARY_WRAPPER(fn, OP)                                                              \
    vn_status vn_be_##fn(const vn_be *be, int64_t n, const float *a, const float *b, float *y) \
    {                                                                                          \
        vn_status s = vec_ready(be, OP, n, a, b, y);                                           \
        return s != VN_OK ? s : be->table->fn(be->state, n, a, b, y);                          \
    }
VN_BINARY_WRAPPER(add, VN_OP_ADD)
VN_BINARY_WRAPPER(mul, VN_OP_MUL)

#define VN_SCALED_WRAPPER(fn, OP)                                                             \
    vn_status vn_be_##fn(const vn_be *be, int64_t n, float alpha, const float *x, float *y)   \
    {                                                                                         \
        vn_status s = vec_ready(be, OP, n, x, y, y);                                          \
        return s != VN_OK ? s : be->table->fn(be->state, n, alpha, x, y);                     \
    }
VN_SCALED_WRAPPER(scale, VN_OP_SCALE)
VN_SCALED_WRAPPER(axpy, VN_OP_AXPY)

#define VN_REDUCE_WRAPPER(fn, OP)                                                     \
    vn_status vn_be_##fn(const vn_be *be, int64_t n, const float *x, float *out)      \
    {                                                                                 \
        vn_status s = vec_ready(be, OP, n, x, out, out);                              \
        return s != VN_OK ? s : be->table->fn(be->state, n, x, out);                  \
    }
VN_REDUCE_WRAPPER(sum, VN_OP_SUM)
VN_REDUCE_WRAPPER(sumsq, VN_OP_SUMSQ)
VN_REDUCE_WRAPPER(max, VN_OP_MAX)
