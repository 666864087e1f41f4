/*
 * The plain-C reference backend: single-threaded loops with double accumulation.
 * Slow on purpose; it is the ground truth every fast path is tested against.
 *
 * It also emulates the GEMM variants a device runs on tensor cores (TF32, BF16: the
 * operands rounded to the format, then the same double accumulation) and computes the
 * GELU epilogue, so that a device can be checked against it.
 */
#include "backend/host.h"
#include "core/error.h"
#include "nn/ops_internal.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

/* Everything but the engine table, which runs on host memory without one. */
static int ref_supports(const vn_backend_state *st, vn_op op)
{
    (void)st;
    return (int)op >= 0 && op < VN_OP_COUNT && op != VN_OP_NN && op != VN_OP_ALLREDUCE;
}

/* x rounded to nearest even with the `drop` low mantissa bits cleared: 13 for TF32
 * (10 explicit bits), 16 for BF16 (7). Rounding up may carry into the exponent, up to
 * infinity, as it does in hardware; infinities stay, and NaN stays NaN (quieted, so
 * that a payload in the dropped bits cannot turn it into infinity). */
static float round_mantissa(float x, int drop)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    if ((u & 0x7f800000u) == 0x7f800000u) {
        if (u & 0x007fffffu)
            u |= 0x00400000u;
    } else {
        uint32_t half = (1u << (drop - 1)) - 1u + ((u >> drop) & 1u);
        u += half;
    }
    u &= ~((1u << drop) - 1u);
    memcpy(&x, &u, sizeof x);
    return x;
}

static double operand(const vn_gemm_desc *d, float x)
{
    switch (d->precision) {
    case VN_GEMM_TF32: return round_mantissa(x, 13);
    case VN_GEMM_BF16: return round_mantissa(x, 16);
    case VN_GEMM_FP32: break;
    }
    return x;
}

/* The tanh GELU exactly as src/nn/ops_dense.c computes it, in float. */
static float gelu_tanh(float x)
{
    const float s = 0.7978845608028654f, a = 0.044715f;
    float u = s * (x + a * x * x * x);
    u = u > 10.0f ? 10.0f : u;
    u = u < -10.0f ? -10.0f : u;
    return 0.5f * x * (1.0f + (1.0f - 2.0f / (1.0f + vn_nn_expf(2.0f * u))));
}

static vn_status ref_gemm(vn_backend_state *st, const vn_gemm_desc *d, const float *a, const float *b,
                          const float *bias, float *c)
{
    (void)st;
    const int gelu = d->epilogue == VN_GEMM_EPI_GELU;
    for (int64_t bi = 0; bi < d->batch; bi++) {
        const float *A = a ? a + bi * d->stride_a : NULL;
        const float *B = b ? b + bi * d->stride_b : NULL;
        float *C = c + bi * d->stride_c;
        float *X = gelu ? d->aux + bi * d->stride_c : NULL;
        for (int64_t i = 0; i < d->m; i++) {
            for (int64_t j = 0; j < d->n; j++) {
                double acc = 0.0;
                for (int64_t p = 0; p < d->k; p++)
                    acc += operand(d, A[vn_gemm_index(d->trans_a, d->lda, i, p)]) *
                           operand(d, B[vn_gemm_index(d->trans_b, d->ldb, p, j)]);
                double v = (double)d->alpha * acc;
                /* beta == 0 must ignore C entirely, even NaN garbage, as BLAS does. */
                if (d->beta != 0.0f)
                    v += (double)d->beta * C[i * d->ldc + j];
                if (bias)
                    v += bias[j];
                if (gelu) {
                    X[i * d->ldc + j] = (float)v;
                    C[i * d->ldc + j] = gelu_tanh((float)v);
                } else {
                    C[i * d->ldc + j] = (float)v;
                }
            }
        }
    }
    return VN_OK;
}

static float bf16_value(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* The same sums with A read from its bf16 bits and C, when c_bf16, rounded to them. */
static vn_status ref_gemm_bf16_act(vn_backend_state *st, const vn_gemm_desc *d, const uint16_t *a, const float *b,
                                   const float *bias, void *c, int c_bf16)
{
    (void)st;
    const int gelu = d->epilogue == VN_GEMM_EPI_GELU;
    for (int64_t i = 0; i < d->m; i++)
        for (int64_t j = 0; j < d->n; j++) {
            double acc = 0.0;
            for (int64_t p = 0; p < d->k; p++)
                acc += (double)bf16_value(a[i * d->lda + p]) * operand(d, b[vn_gemm_index(d->trans_b, d->ldb, p, j)]);
            double v = (double)d->alpha * acc;
            if (bias)
                v += bias[j];
            float y = gelu ? gelu_tanh((float)v) : (float)v;
            if (c_bf16) {
                uint32_t u;
                y = round_mantissa(y, 16);
                memcpy(&u, &y, sizeof u);
                ((uint16_t *)c)[i * d->n + j] = (uint16_t)(u >> 16);
            } else {
                ((float *)c)[i * d->ldc + j] = y;
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
    .gemm_bf16_act = ref_gemm_bf16_act,
};
