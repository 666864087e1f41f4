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

/* exp(x) for x already known to lie in [-87, 88] (no clamps, NaN gives NaN): the core of
 * vn_nn_expf below. */
static inline float vn_nn_expf_inrange(float x)
{
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
    return p * scale;
}

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
    float e = vn_nn_expf_inrange(x);
    return x_in < -87.0f ? 0.0f : e;
}

/*
 * Column reductions over rows (bias gradients, layernorm's weight gradients): every
 * column on its own, rows in groups of VN_NN_ROWGRP from row 0, each group summed in
 * float in row order (from +0) and added to a double accumulator, groups in order. The
 * float group sums keep the accumulation in L1 cheap; the double keeps long sums
 * accurate. The result does not depend on how the columns are split or which thread
 * takes a part, and every op that sums columns this way (vn_bias_grad, and the fused
 * ops that fold it into another pass) gets the same bits.
 * Columns are split into contiguous panels, one or more per thread, each walked over all
 * rows: a panel's rows are long contiguous runs (prefetch-friendly, unlike narrow column
 * blocks at a large row stride) and its accumulators stay in L1.
 */
#define VN_NN_PANEL_MAX 512
#define VN_NN_ROWGRP 8

/* The number of panels for C columns: a multiple of n_threads, each at most
 * VN_NN_PANEL_MAX wide. Panel k covers [vn_nn_panel_lo(C, np, k), ..._lo(C, np, k+1)). */
static inline int64_t vn_nn_panels(int64_t C, int n_threads)
{
    int64_t nt = n_threads > 0 ? n_threads : 1;
    int64_t per = (C + nt * VN_NN_PANEL_MAX - 1) / (nt * VN_NN_PANEL_MAX);
    int64_t np = nt * (per > 0 ? per : 1);
    /* no more panels than 16-column groups */
    int64_t groups = (C + 15) / 16;
    return np < groups ? np : (groups > 0 ? groups : 1);
}

/* Panel edges on 16-column boundaries (one AVX-512 vector) */
static inline int64_t vn_nn_panel_lo(int64_t C, int64_t np, int64_t k)
{
    int64_t groups = (C + 15) / 16;
    int64_t lo = (groups * k / np) * 16;
    return lo < C ? lo : C;
}

/* The running column sums of one panel of w <= VN_NN_PANEL_MAX columns. */
typedef struct vn_nn_colsum {
    double acc[VN_NN_PANEL_MAX];
    float part[VN_NN_PANEL_MAX];
} vn_nn_colsum;

static inline void vn_nn_colsum_init(vn_nn_colsum *s, int64_t w)
{
    memset(s->acc, 0, (size_t)w * sizeof *s->acc);
    memset(s->part, 0, (size_t)w * sizeof *s->part);
}

/* After row n has been added to part: close the group when n ends one (or is the last). */
static inline void vn_nn_colsum_row_done(vn_nn_colsum *s, int64_t n, int64_t N, int64_t w)
{
    if ((n + 1) % VN_NN_ROWGRP && n + 1 < N)
        return;
    double *restrict acc = s->acc;
    float *restrict part = s->part;
    for (int64_t j = 0; j < w; j++) {
        acc[j] += (double)part[j];
        part[j] = 0.0f;
    }
}

/* part[0..w) += x[0..w): one row of a plain column sum */
static inline void vn_nn_colsum_add(vn_nn_colsum *s, const float *restrict x, int64_t w)
{
    float *restrict part = s->part;
    for (int64_t j = 0; j < w; j++)
        part[j] += x[j];
}

/* out[0..w) += (float)acc[0..w) */
static inline void vn_nn_colsum_store(float *out, const vn_nn_colsum *s, int64_t w)
{
    for (int64_t j = 0; j < w; j++)
        out[j] += (float)s->acc[j];
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

/* Host halves of the fused ops (ops_dense.c and ops_gelu.c, beside the kernels they share):
 *  ln_backward_host: vn_layernorm_backward, then dnext += column sums of the new dinp
 *    (dnext may be NULL);
 *  gelu_backward_bias_host: dinp = GELU'(inp) * dout (or, saved, inp * dout: inp holds
 *    GELU' already), overwritten, and db += its column sums (db may be NULL); dinp may
 *    be dout;
 *  gelu_forward_grad_host: g = GELU(hd), then hd = GELU'(hd) in place (ops_gelu.c);
 *  residual_ln_host: out = a + b, then layernorm of out. */
struct vn_nn;
void vn_nn_ln_backward_host(const struct vn_nn *nn, float *dinp, float *dw, float *db, const float *dout,
                            const float *inp, const float *w, const float *mean, const float *rstd, int64_t N,
                            int64_t C, float *dnext);
void vn_nn_gelu_backward_bias_host(const struct vn_nn *nn, float *dinp, float *db, const float *inp,
                                   const float *dout, int64_t N, int64_t OC, int saved);
void vn_nn_gelu_forward_grad_host(const struct vn_nn *nn, float *g, float *hd, int64_t n);
/* out = a + b (b NULL: a alone, out unused), then LayerNorm of it rounded to bf16 into
 * ln (ops_bf16.c). */
void vn_nn_ln_bf16_host(const struct vn_nn *nn, float *out, uint16_t *ln, const float *a, const float *b,
                        const float *w, const float *bias, int64_t N, int64_t C);
void vn_nn_residual_ln_host(const struct vn_nn *nn, float *out, float *ln, float *mean, float *rstd, const float *a,
                            const float *b, const float *w, const float *bias, int64_t N, int64_t C);

/* out[i] = GELU(inp[i]) (tanh form), single-threaded, with exactly the bits of the host
 * GELU ops (ops_gelu.c): for the cpu backend's GEMM epilogue. */
void vn_nn_gelu_fwd_rows(float *out, const float *inp, int64_t n);

/* The attention core for short sequences (ops_attention_short.c), host only: whole
 * (sequence, head) pairs, where short_ok(T, HS) says the path applies. G sequences of T
 * rows, S rows apart, S of them interleaved in each block of T S rows (S = 1: the
 * layout of vn_attention_forward; S > 1: divided attention's temporal sequences read in
 * place); lse is [G, NH, T]. Same results (up to rounding) as vn_attention_forward and
 * vn_attention_backward(_set) on the regrouped rows; set stores the gradients into dqkv
 * instead of adding. */
int vn_nn_attention_short_ok(int64_t T, int64_t HS);
/* Pull a (sequence, head) pair's rows toward L2 before it computes: T rows of q, k, v at
 * qb (S 3C floats apart) and, when dob is set, of dout and out (S C apart); strided
 * lines that the hardware prefetchers miss. */
void vn_nn_attention_prefetch_pair(const float *qb, const float *dob, const float *ob, int64_t T, int64_t C,
                                   int64_t S, int64_t HS);
void vn_nn_attention_forward_short(const struct vn_nn *nn, float *out, float *lse, const float *qkv, int64_t G,
                                   int64_t T, int64_t S, int64_t C, int64_t NH);
void vn_nn_attention_backward_short(const struct vn_nn *nn, float *dqkv, const float *dout, const float *qkv,
                                    const float *out, const float *lse, int64_t G, int64_t T, int64_t S, int64_t C,
                                    int64_t NH, int set);

#endif
