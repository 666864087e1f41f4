/*
 * ops_gelu.c: GELU (tanh approximation, PyTorch approximate='tanh'), forward and
 * backward, and the host halves of the fused GELU ops (ops_fused.c).
 *
 * The arithmetic here is pinned: the cpu backend's GEMM epilogue (backend_cpu.c,
 * VN_GEMM_EPI_GELU), which a device vn_nn uses for vn_linear_gelu_forward, must agree
 * with the host ops bit for bit, so it calls vn_nn_gelu_fwd_rows below rather than
 * having its own copy; and every GELU value and derivative comes from the inline
 * functions below, so that the fused ops reproduce the plain ones exactly. Multiplies
 * and adds contract into FMAs where the clone has them (a quarter fewer instructions in
 * the forward, measured); the bits are then those of the clone the CPU runs, the same
 * for every caller on one machine.
 */
/* The clamps if-convert only without trapping math (see ops_dense.c). */
#if defined(__GNUC__) && !defined(__clang__)
#  pragma GCC optimize("no-trapping-math", "fp-contract=fast")
#endif

#include "nn/ops.h"
#include "core/profile.h"

#include <string.h>

#include "backend/backend_nn.h"
#include "nn/ops_internal.h"

#define GELU_S 0.7978845608028654f /* sqrt(2 / pi) */
#define GELU_A 0.044715f

/* tanh(u) = 1 - 2 / (1 + e^{2u}) of GELU's inner argument u = sqrt(2/pi) (x + a x^3),
 * clamped to |u| <= 10, where tanh is +-1 in float; 2u is then within exp's range, so
 * vn_nn_expf's own clamps (which would not change the result) are skipped. NaN passes
 * through. */
static inline float gelu_t(float x)
{
    float u = GELU_S * (x + GELU_A * x * x * x);
    u = u > 10.0f ? 10.0f : u;
    u = u < -10.0f ? -10.0f : u;
    return 1.0f - 2.0f / (1.0f + vn_nn_expf_inrange(2.0f * u));
}

static inline float gelu_of(float x, float t)
{
    return 0.5f * x * (1.0f + t);
}

/* d GELU / dx from x and its t. */
static inline float gelu_d(float x, float t)
{
    return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * GELU_S * (1.0f + 3.0f * GELU_A * x * x);
}

VN_NN_CLONES static void gelu_fwd_range(float *restrict out, const float *restrict inp, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        float x = inp[i];
        out[i] = gelu_of(x, gelu_t(x));
    }
}

void vn_nn_gelu_fwd_rows(float *out, const float *inp, int64_t n)
{
    gelu_fwd_range(out, inp, n);
}

VN_NN_CLONES static void gelu_bwd_range(float *restrict dinp, const float *restrict inp, const float *restrict dout,
                                        int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        float x = inp[i];
        dinp[i] += gelu_d(x, gelu_t(x)) * dout[i];
    }
}

/* g = GELU(h) and h = GELU'(h), in place: one exp for both. */
VN_NN_CLONES static void gelu_fwd_grad_range(float *restrict g, float *restrict hd, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        float x = hd[i], t = gelu_t(x);
        g[i] = gelu_of(x, t);
        hd[i] = gelu_d(x, t);
    }
}

/* Elementwise ops go in chunks so that each thread runs the vectorised range kernel on
 * a contiguous slice; the chunk is a multiple of every vector width. */
#define EW_CHUNK 4096
#define EW_PAR(n) ((n) >= VN_NN_PAR_MIN / 4)

void vn_gelu_forward(const vn_nn *nn, float *out, const float *inp, int64_t n)
{
    VN_PROF(nn->prof, VN_PROF_GELU_FWD);
    if (nn->dev) {
        vn_nn_record(nn->dev->gelu_forward(nn->be->state, out, inp, n));
        return;
    }
    int64_t nchunks = (n + EW_CHUNK - 1) / EW_CHUNK;
#pragma omp parallel for num_threads(nn->n_threads) schedule(static) if (EW_PAR(n))
    for (int64_t k = 0; k < nchunks; k++) {
        int64_t i0 = k * EW_CHUNK;
        gelu_fwd_range(out + i0, inp + i0, n - i0 < EW_CHUNK ? n - i0 : EW_CHUNK);
    }
}

void vn_gelu_backward(const vn_nn *nn, float *dinp, const float *inp, const float *dout, int64_t n)
{
    VN_PROF(nn->prof, VN_PROF_GELU_BWD);
    if (nn->dev) {
        vn_nn_record(nn->dev->gelu_backward(nn->be->state, dinp, inp, dout, n));
        return;
    }
    if (!dinp)
        return;
    int64_t nchunks = (n + EW_CHUNK - 1) / EW_CHUNK;
#pragma omp parallel for num_threads(nn->n_threads) schedule(static) if (EW_PAR(n))
    for (int64_t k = 0; k < nchunks; k++) {
        int64_t i0 = k * EW_CHUNK;
        gelu_bwd_range(dinp + i0, inp + i0, dout + i0, n - i0 < EW_CHUNK ? n - i0 : EW_CHUNK);
    }
}

/* ---- host halves of the fused ops ------------------------------------------------------ */

void vn_nn_gelu_forward_grad_host(const vn_nn *nn, float *g, float *hd, int64_t n)
{
    int64_t nchunks = (n + EW_CHUNK - 1) / EW_CHUNK;
#pragma omp parallel for num_threads(nn->n_threads) schedule(static) if (EW_PAR(n))
    for (int64_t k = 0; k < nchunks; k++) {
        int64_t i0 = k * EW_CHUNK;
        gelu_fwd_grad_range(g + i0, hd + i0, n - i0 < EW_CHUNK ? n - i0 : EW_CHUNK);
    }
}

/* One column panel [c0, c0 + w_) over all rows: dinp = GELU'(inp) * dout (or, with
 * saved, dinp = inp * dout: inp already holds GELU'), cs gets its column sums (when
 * sum is set). + 0.0f is exactly what adding into a zeroed buffer gives (0 + -0 is +0).
 * inplace (dinp is dout) is its own copy of the loops, so that the other keeps
 * restrict. */
static inline __attribute__((always_inline)) void gelu_bwd_rows(float *restrict d, float *restrict part,
                                                                const float *restrict x, const float *restrict g,
                                                                int64_t w_, int saved)
{
    for (int64_t j = 0; j < w_; j++) {
        float gd = saved ? x[j] : gelu_d(x[j], gelu_t(x[j]));
        float v = gd * g[j] + 0.0f;
        d[j] = v;
        if (part)
            part[j] += v;
    }
}

static inline __attribute__((always_inline)) void gelu_bwd_rows_inplace(float *restrict d, float *restrict part,
                                                                        const float *restrict x, int64_t w_,
                                                                        int saved)
{
    for (int64_t j = 0; j < w_; j++) {
        float gd = saved ? x[j] : gelu_d(x[j], gelu_t(x[j]));
        float v = gd * d[j] + 0.0f;
        d[j] = v;
        if (part)
            part[j] += v;
    }
}

/* Rows [n0, n1) of one column panel; N is the row count of the whole sum (for its row
 * groups). */
VN_NN_CLONES static void gelu_bwd_panel(float *dinp, vn_nn_colsum *cs, const float *inp, const float *dout,
                                        int64_t n0, int64_t n1, int64_t N, int64_t OC, int64_t c0, int64_t w_,
                                        int saved)
{
    for (int64_t n = n0; n < n1; n++) {
        const float *x = inp + n * OC + c0;
        float *d = dinp + n * OC + c0, *part = cs ? cs->part : NULL;
        if (dinp == dout) {
            if (saved)
                gelu_bwd_rows_inplace(d, part, x, w_, 1);
            else
                gelu_bwd_rows_inplace(d, part, x, w_, 0);
        } else {
            const float *g = dout + n * OC + c0;
            if (saved)
                gelu_bwd_rows(d, part, x, g, w_, 1);
            else
                gelu_bwd_rows(d, part, x, g, w_, 0);
        }
        if (cs)
            vn_nn_colsum_row_done(cs, n, N, w_);
    }
}

/* The column sums go as vn_bias_grad's (ops_internal.h), so the work is split by column
 * panels. */
void vn_nn_gelu_backward_bias_host(const vn_nn *nn, float *dinp, float *db, const float *inp, const float *dout,
                                   int64_t N, int64_t OC, int saved)
{
    int par = EW_PAR(N * OC);
    int64_t np = vn_nn_panels(OC, par ? nn->n_threads : 1);
#pragma omp parallel for num_threads(nn->n_threads) schedule(static) if (par)
    for (int64_t k = 0; k < np; k++) {
        int64_t c0 = vn_nn_panel_lo(OC, np, k), c1 = vn_nn_panel_lo(OC, np, k + 1), w_ = c1 - c0;
        vn_nn_colsum cs;
        if (db)
            vn_nn_colsum_init(&cs, w_);
        gelu_bwd_panel(dinp, db ? &cs : NULL, inp, dout, 0, N, N, OC, c0, w_, saved);
        if (db)
            vn_nn_colsum_store(db + c0, &cs, w_);
    }
}
