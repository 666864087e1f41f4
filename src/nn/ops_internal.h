/*
 * ops_internal.h: small kernels the dense and loss ops share (private to src/nn).
 */
#ifndef VN_NN_OPS_INTERNAL_H
#define VN_NN_OPS_INTERNAL_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* One build per ISA, picked at load time, as in backend/cpu_kernels.c. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(VN_NO_CLONES)
#  define VN_NN_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#  define VN_NN_CLONES
#endif

/* Below this many elements a parallel region costs more than it saves. */
#define VN_NN_PAR_MIN 32768

#define VN_NN_LN_EPS 1e-5f

/* Loss sums are reduced over this many fixed chunks of rows, whatever the thread count,
 * so that the returned loss is bit-identical at 1 or many threads. */
#define VN_NN_LOSS_CHUNKS 64

/*
 * exp(x) without libm, so that loops calling it vectorise (libm's expf does not without
 * -ffast-math). Cody-Waite reduction x = n ln2 + r, |r| <= ln2/2, then a degree-7 Taylor
 * polynomial (truncation below 1e-8 relative) and 2^n from the exponent bits. Below -87
 * the result is 0 (the true value is at most denormal, and softmax wants exact zeros for
 * far-off logits); above 88 it saturates at e^88, since callers only pass x <= 0 or a
 * clamped argument. NaN passes both clamps and the polynomial, so NaN gives NaN.
 */
static inline float vn_nn_expf(float x)
{
    float x_in = x;
    x = x < -87.0f ? -87.0f : x;
    x = x > 88.0f ? 88.0f : x;
    /* Round to nearest by the 1.5 * 2^23 trick: no branch, no libm call. */
    float fn = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    int n = (int)fn;
    float r = x - fn * 0.693145751953125f;
    r = r - fn * 1.42860682030941723212e-6f;
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    int32_t bits = (int32_t)((uint32_t)(n + 127) << 23);
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return x_in < -87.0f ? 0.0f : p * scale;
}

/* Sum with eight independent lanes: the compiler may vectorise it without reassociating
 * (no -ffast-math), and the lanes also shorten the rounding chains. */
static inline float vn_nn_sum(const float *x, int64_t n)
{
    float acc[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int l = 0; l < 8; l++)
            acc[l] += x[i + l];
    float s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (; i < n; i++)
        s += x[i];
    return s;
}

/* Max of n floats (NaN elements are skipped, as the reference's x > m ? x : m does).
 * Written with vector extensions because GCC only vectorises a float max reduction under
 * -ffinite-math-only, which would break the -INFINITY start value. */
typedef float vn_nn_v8f __attribute__((vector_size(32)));
typedef int32_t vn_nn_v8i __attribute__((vector_size(32)));

static inline float vn_nn_max(const float *x, int64_t n)
{
    float mx = -INFINITY;
    int64_t i = 0;
    if (n >= 8) {
        vn_nn_v8f acc, v;
        memcpy(&acc, x, sizeof acc);
        for (i = 8; i + 8 <= n; i += 8) {
            memcpy(&v, x + i, sizeof v);
            vn_nn_v8i gt = v > acc;
            acc = (vn_nn_v8f)((gt & (vn_nn_v8i)v) | (~gt & (vn_nn_v8i)acc));
        }
        for (int l = 0; l < 8; l++)
            mx = acc[l] > mx ? acc[l] : mx;
    }
    for (; i < n; i++)
        mx = x[i] > mx ? x[i] : mx;
    return mx;
}

/* Mean and 1/sqrt(var + eps) of one row (biased variance, two passes for accuracy). */
static inline void vn_nn_row_stats(const float *x, int64_t C, float *mean_out, float *rstd_out)
{
    float mean = vn_nn_sum(x, C) / (float)C;
    float acc[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= C; i += 8)
        for (int l = 0; l < 8; l++) {
            float d = x[i + l] - mean;
            acc[l] += d * d;
        }
    float ss = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (; i < C; i++) {
        float d = x[i] - mean;
        ss += d * d;
    }
    *mean_out = mean;
    *rstd_out = 1.0f / sqrtf(ss / (float)C + VN_NN_LN_EPS);
}

#endif
