/*
 * The plain-C reference backend: single-threaded loops with double accumulation.
 * Slow on purpose; it is the ground truth every fast path is tested against.
 */
#include "backend/host.h"
#include "core/error.h"

#include <math.h>
#include <stdlib.h>

struct vn_backend_state {
    int unused;
};

static vn_status ref_init(vn_backend_state **out, const vn_backend_config *cfg)
{
    (void)cfg;
    *out = calloc(1, sizeof **out);
    return *out ? VN_OK : vn_error(VN_ERR_OUT_OF_MEMORY, "reference backend: out of memory");
}

static void ref_fini(vn_backend_state *st)
{
    free(st);
}

static int ref_supports(const vn_backend_state *st, vn_op op)
{
    (void)st;
    return (int)op >= 0 && op < VN_OP_COUNT;
}

static vn_status ref_gemm(vn_backend_state *st, const vn_gemm_desc *d, const float *a, const float *b,
                          const float *bias, float *c)
{
    (void)st;
    for (int64_t bi = 0; bi < d->batch; bi++) {
        const float *A = a ? a + bi * d->stride_a : NULL;
        const float *B = b ? b + bi * d->stride_b : NULL;
        float *C = c + bi * d->stride_c;
        for (int64_t i = 0; i < d->m; i++) {
            for (int64_t j = 0; j < d->n; j++) {
                double acc = 0.0;
                for (int64_t p = 0; p < d->k; p++)
                    acc += (double)A[vn_gemm_index(d->trans_a, d->lda, i, p)] *
                           (double)B[vn_gemm_index(d->trans_b, d->ldb, p, j)];
                double v = (double)d->alpha * acc;
                /* beta == 0 must ignore C entirely, even NaN garbage, as BLAS does. */
                if (d->beta != 0.0f)
                    v += (double)d->beta * C[i * d->ldc + j];
                if (bias)
                    v += bias[j];
                C[i * d->ldc + j] = (float)v;
            }
        }
    }
    return VN_OK;
}

static vn_status ref_add(vn_backend_state *st, int64_t n, const float *a, const float *b, float *y)
{
    (void)st;
    for (int64_t i = 0; i < n; i++)
        y[i] = a[i] + b[i];
    return VN_OK;
}

static vn_status ref_mul(vn_backend_state *st, int64_t n, const float *a, const float *b, float *y)
{
    (void)st;
    for (int64_t i = 0; i < n; i++)
        y[i] = a[i] * b[i];
    return VN_OK;
}

static vn_status ref_scale(vn_backend_state *st, int64_t n, float alpha, const float *x, float *y)
{
    (void)st;
    for (int64_t i = 0; i < n; i++)
        y[i] = alpha * x[i];
    return VN_OK;
}

static vn_status ref_axpy(vn_backend_state *st, int64_t n, float alpha, const float *x, float *y)
{
    (void)st;
    for (int64_t i = 0; i < n; i++)
        y[i] += alpha * x[i];
    return VN_OK;
}

static vn_status ref_sum(vn_backend_state *st, int64_t n, const float *x, float *out)
{
    (void)st;
    double acc = 0.0;
    for (int64_t i = 0; i < n; i++)
        acc += x[i];
    *out = (float)acc;
    return VN_OK;
}

static vn_status ref_sumsq(vn_backend_state *st, int64_t n, const float *x, float *out)
{
    (void)st;
    double acc = 0.0;
    for (int64_t i = 0; i < n; i++)
        acc += (double)x[i] * x[i];
    *out = (float)acc;
    return VN_OK;
}

static vn_status ref_max(vn_backend_state *st, int64_t n, const float *x, float *out)
{
    (void)st;
    float m = x[0];
    for (int64_t i = 1; i < n; i++)
        m = (x[i] > m || isnan(x[i])) ? x[i] : m;
    *out = m;
    return VN_OK;
}

const vn_backend vn_backend_reference = {
    .kind = VN_BACKEND_REFERENCE,
    .name = "reference",
    .available = vn_host_available,
    .device_count = vn_host_device_count,
    .device_info = vn_host_device_info,
    .init = ref_init,
    .fini = ref_fini,
    .supports = ref_supports,
    .alloc = vn_host_alloc,
    .free = vn_host_free,
    .upload = vn_host_copy_in,
    .download = vn_host_copy_out,
    .synchronize = vn_host_synchronize,
    .gemm = ref_gemm,
    .add = ref_add,
    .mul = ref_mul,
    .scale = ref_scale,
    .axpy = ref_axpy,
    .sum = ref_sum,
    .sumsq = ref_sumsq,
    .max = ref_max,
};
