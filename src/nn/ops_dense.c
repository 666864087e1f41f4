/*
 * ops_dense.c: the fast CPU paths of linear, layernorm, GELU, softmax, residual and
 * mean pooling (ops.h).
 *
 * Every loop is partitioned by rows or by column blocks with schedule(static), and every
 * reduction runs in a fixed order inside one iteration, so apart from linear (whose
 * GEMMs belong to the backend) these ops are bit-identical at any thread count, which is
 * stronger than the deterministic mode asks for.
 */
/* Floating-point exceptions are never inspected here, and under the default
 * -ftrapping-math GCC will not if-convert the clamps and selects of vn_nn_expf, which
 * leaves the exp loops scalar. */
#if defined(__GNUC__) && !defined(__clang__)
#  pragma GCC optimize("no-trapping-math")
/* Multiplies and adds fuse into FMAs, as in ops_attention.c; before the includes, so
 * that the inline kernels of ops_internal.h get it too. The host halves of the fused
 * ops (ops_fused.c) that reuse these kernels are in this file, so they get the same
 * code and bits. (GELU is not here: its arithmetic is pinned, see ops_gelu.c.) */
#  pragma GCC optimize("fp-contract=fast")
/* the 64-byte vector helpers below always inline, so no vector crosses an ABI */
#  pragma GCC diagnostic ignored "-Wpsabi"
#endif

#include "nn/ops.h"
#include "core/profile.h"

#include <math.h>
#include <string.h>

#include "backend/backend_nn.h"
#include "backend/cpu_bf16.h"
#include "nn/ops_internal.h"

/* Columns per block in column reductions: a block's double accumulators stay in
 * registers or L1, and OC = 128..768 still spreads over the threads. */
#define COL_BLOCK 64

/* GEMMs are issued from the calling thread, never inside a parallel region, so one
 * thread-local slot per caller thread is enough and concurrent encodes do not mix. */
static _Thread_local vn_status tl_nn_error = VN_OK;

vn_status vn_nn_take_error(void)
{
    vn_status s = tl_nn_error;
    tl_nn_error = VN_OK;
    return s;
}

void vn_nn_record(vn_status s)
{
    if (s != VN_OK && tl_nn_error == VN_OK)
        tl_nn_error = s;
}

void vn_nn_gemm(const vn_nn *nn, const vn_gemm_desc *d, const float *a, const float *b, const float *bias, float *c)
{
    VN_PROF_FLOPS(nn->prof, VN_PROF_GEMM, 2.0 * (double)d->m * (double)d->n * (double)d->k * (double)d->batch);
    vn_gemm_desc dd = *d;
    dd.precision = nn->precision;
    vn_nn_record(vn_be_gemm(nn->be, &dd, a, b, bias, c));
}

void vn_linear_forward(const vn_nn *nn, float *out, const float *inp, const float *w, const float *b, int64_t N,
                       int64_t IC, int64_t OC)
{
    VN_PROF(nn->prof, VN_PROF_LINEAR_FWD);
    vn_gemm_desc d = vn_gemm_desc_plain(0, 1, N, OC, IC);
    vn_nn_gemm(nn, &d, inp, w, b, out);
}

void vn_linear_gelu_forward(const vn_nn *nn, float *h, float *g, const float *inp, const float *w, const float *b,
                            int64_t N, int64_t IC, int64_t OC)
{
    VN_PROF(nn->prof, VN_PROF_LINEAR_FWD);
    /* On a device the GEMM's epilogue applies GELU on the way out (cuBLASLt's GELU_AUX):
     * one pass over the [N, OC] output instead of three. The host keeps two passes: its
     * GEMM has no fused GELU that also keeps the pre-activation. */
    if (nn->dev && vn_be_supports(nn->be, VN_OP_GEMM_GELU)) {
        vn_gemm_desc d = vn_gemm_desc_plain(0, 1, N, OC, IC);
        d.epilogue = VN_GEMM_EPI_GELU;
        d.aux = h;
        vn_nn_gemm(nn, &d, inp, w, b, g);
        return;
    }
    vn_linear_forward(nn, h, inp, w, b, N, IC, OC);
    vn_gelu_forward(nn, g, h, N * OC);
}

void vn_linear_backward(const vn_nn *nn, float *dinp, float *dw, float *db, const float *dout, const float *inp,
                        const float *w, int64_t N, int64_t IC, int64_t OC)
{
    VN_PROF(nn->prof, VN_PROF_LINEAR_BWD);
    if (dinp) {
        /* dinp[N, IC] += dout[N, OC] @ W[OC, IC] */
        vn_gemm_desc d = vn_gemm_desc_plain(0, 0, N, IC, OC);
        d.beta = 1.0f;
        vn_nn_gemm(nn, &d, dout, w, NULL, dinp);
    }
    if (dw) {
        /* dW[OC, IC] += dout^T @ inp: dout is stored N x OC, so trans_a with lda = OC. */
        vn_gemm_desc d = vn_gemm_desc_plain(1, 0, OC, IC, N);
        d.beta = 1.0f;
        vn_nn_gemm(nn, &d, dout, inp, NULL, dw);
    }
    if (db)
        vn_bias_grad(nn, db, dout, N, OC);
}

/* ---- layernorm kernels (also behind the fused ops of ops_fused.c) -------------------- */

#define ALWAYS_INLINE inline __attribute__((always_inline))

/* The row kernels work on 16-float vectors (GCC vector extensions: one zmm in the
 * AVX-512 clone, two ymm in the AVX2 one), which the auto-vectoriser got badly wrong for
 * these reductions (permutes and spills, measured); lane sums are reduced in a fixed
 * tree, so the result does not depend on the clone's vector width. */
typedef float vf16 __attribute__((vector_size(64)));

static ALWAYS_INLINE vf16 ld16(const float *p)
{
    vf16 v;
    memcpy(&v, p, sizeof v);
    return v;
}

static ALWAYS_INLINE void st16(float *p, vf16 v)
{
    memcpy(p, &v, sizeof v);
}

static ALWAYS_INLINE float hsum16(vf16 v)
{
    float t[16];
    memcpy(t, &v, sizeof t);
    for (int w = 8; w >= 1; w /= 2)
        for (int l = 0; l < w; l++)
            t[l] += t[l + w];
    return t[0];
}

/* Mean and 1/sqrt(var + eps) of one row (biased variance, two passes for accuracy). */
static ALWAYS_INLINE void ln_stats(const float *restrict x, int64_t C, float *mean_out, float *rstd_out)
{
    vf16 a0 = {0}, a1 = {0};
    int64_t c = 0;
    for (; c + 32 <= C; c += 32) {
        a0 += ld16(x + c);
        a1 += ld16(x + c + 16);
    }
    if (c + 16 <= C) {
        a0 += ld16(x + c);
        c += 16;
    }
    float s = hsum16(a0 + a1);
    for (; c < C; c++)
        s += x[c];
    float mean = s / (float)C;
    vf16 q0 = {0}, q1 = {0};
    for (c = 0; c + 32 <= C; c += 32) {
        vf16 d0 = ld16(x + c) - mean, d1 = ld16(x + c + 16) - mean;
        q0 += d0 * d0;
        q1 += d1 * d1;
    }
    if (c + 16 <= C) {
        vf16 d0 = ld16(x + c) - mean;
        q0 += d0 * d0;
        c += 16;
    }
    float ss = hsum16(q0 + q1);
    for (; c < C; c++) {
        float d = x[c] - mean;
        ss += d * d;
    }
    *mean_out = mean;
    *rstd_out = 1.0f / sqrtf(ss / (float)C + VN_NN_LN_EPS);
}

/* y = (x - m) r w + b over C columns. */
static ALWAYS_INLINE void ln_apply(float *restrict y, const float *restrict x, const float *restrict w,
                                   const float *restrict b, int64_t C, float m, float r)
{
    int64_t c = 0;
    if (w && b) {
        for (; c + 16 <= C; c += 16)
            st16(y + c, (ld16(x + c) - m) * r * ld16(w + c) + ld16(b + c));
        for (; c < C; c++)
            y[c] = (x[c] - m) * r * w[c] + b[c];
    } else {
        for (; c < C; c++)
            y[c] = (x[c] - m) * r * (w ? w[c] : 1.0f) + (b ? b[c] : 0.0f);
    }
}

static ALWAYS_INLINE void vn_nn_ln_row(float *restrict y, const float *restrict x, const float *restrict w,
                                       const float *restrict b, int64_t C, float *mean, float *rstd)
{
    float m, r;
    ln_stats(x, C, &m, &r);
    ln_apply(y, x, w, b, C, m, r);
    *mean = m;
    *rstd = r;
}

/* The same row rounded to bf16 (what vn_bf16_convert makes of vn_nn_ln_row's floats),
 * through a stack piece of the row that stays in L1. Pieces are multiples of 16 columns,
 * so each column takes the same vector or tail arithmetic as in the whole row. */
#define LN_PIECE 512
static ALWAYS_INLINE void ln_row_bf16(uint16_t *restrict y, const float *restrict x, const float *restrict w,
                                      const float *restrict b, int64_t C)
{
    float m, r, piece[LN_PIECE];
    ln_stats(x, C, &m, &r);
    for (int64_t c0 = 0; c0 < C; c0 += LN_PIECE) {
        int64_t len = C - c0 < LN_PIECE ? C - c0 : LN_PIECE;
        ln_apply(piece, x + c0, w ? w + c0 : NULL, b ? b + c0 : NULL, len, m, r);
        vn_bf16_convert(y + c0, piece, len);
    }
}

/* dx += r (g w - mean(g w) - xhat mean(g w xhat)) for one row; has_w is a constant in
 * each inlined copy, so the loops carry no select. */
static ALWAYS_INLINE void ln_bwd_row_impl(float *restrict dx, const float *restrict g, const float *restrict x,
                                          const float *restrict w, float m, float r, int64_t C, int has_w)
{
    vf16 ag0 = {0}, ag1 = {0}, ax0 = {0}, ax1 = {0};
    int64_t c = 0;
    for (; c + 32 <= C; c += 32) {
        vf16 g0 = has_w ? ld16(g + c) * ld16(w + c) : ld16(g + c);
        vf16 g1 = has_w ? ld16(g + c + 16) * ld16(w + c + 16) : ld16(g + c + 16);
        ag0 += g0;
        ag1 += g1;
        ax0 += g0 * ((ld16(x + c) - m) * r);
        ax1 += g1 * ((ld16(x + c + 16) - m) * r);
    }
    if (c + 16 <= C) {
        vf16 g0 = has_w ? ld16(g + c) * ld16(w + c) : ld16(g + c);
        ag0 += g0;
        ax0 += g0 * ((ld16(x + c) - m) * r);
        c += 16;
    }
    float sg = hsum16(ag0 + ag1), sgx = hsum16(ax0 + ax1);
    for (; c < C; c++) {
        float gn = has_w ? g[c] * w[c] : g[c];
        sg += gn;
        sgx += gn * ((x[c] - m) * r);
    }
    float mg = sg / (float)C, mgx = sgx / (float)C;
    for (c = 0; c + 16 <= C; c += 16) {
        vf16 xhat = (ld16(x + c) - m) * r;
        vf16 gn = has_w ? ld16(g + c) * ld16(w + c) : ld16(g + c);
        st16(dx + c, ld16(dx + c) + r * (gn - mg - xhat * mgx));
    }
    for (; c < C; c++) {
        float xhat = (x[c] - m) * r;
        float gn = has_w ? g[c] * w[c] : g[c];
        dx[c] += r * (gn - mg - xhat * mgx);
    }
}

static ALWAYS_INLINE void vn_nn_ln_backward_row(float *restrict dx, const float *restrict g,
                                                const float *restrict x, const float *restrict w, float m, float r,
                                                int64_t C)
{
    if (w)
        ln_bwd_row_impl(dx, g, x, w, m, r, C, 1);
    else
        ln_bwd_row_impl(dx, g, x, NULL, m, r, C, 0);
}

/* Rows [n0, n1) of one panel of w_ <= VN_NN_PANEL_MAX columns from c0: dw += g xhat,
 * db += g and dnext += dinp (the new input gradient), each summed as vn_bias_grad sums
 * (N, the row count of the whole sum, places the row groups); a NULL state skips its
 * sum. */
static ALWAYS_INLINE void vn_nn_ln_param_panel(vn_nn_colsum *sw, vn_nn_colsum *sb, vn_nn_colsum *sn,
                                               const float *restrict dout, const float *restrict inp,
                                               const float *restrict dinp, const float *restrict mean,
                                               const float *restrict rstd, int64_t n0, int64_t n1, int64_t N,
                                               int64_t C, int64_t c0, int64_t w_)
{
    for (int64_t n = n0; n < n1; n++) {
        const float *restrict x = inp + n * C + c0, *restrict g = dout + n * C + c0;
        if (sw) {
            float m = mean[n], r = rstd[n];
            float *restrict part = sw->part;
            for (int64_t j = 0; j < w_; j++)
                part[j] += g[j] * ((x[j] - m) * r);
            vn_nn_colsum_row_done(sw, n, N, w_);
        }
        if (sb) {
            vn_nn_colsum_add(sb, g, w_);
            vn_nn_colsum_row_done(sb, n, N, w_);
        }
        if (sn) {
            vn_nn_colsum_add(sn, dinp + n * C + c0, w_);
            vn_nn_colsum_row_done(sn, n, N, w_);
        }
    }
}

VN_NN_CLONES static void ln_row(float *restrict y, const float *restrict x, const float *restrict w,
                                const float *restrict b, int64_t C, float *mean, float *rstd)
{
    vn_nn_ln_row(y, x, w, b, C, mean, rstd);
}

void vn_layernorm_forward(const vn_nn *nn, float *out, float *mean, float *rstd, const float *inp, const float *w,
                          const float *b, int64_t N, int64_t C)
{
    VN_PROF(nn->prof, VN_PROF_LAYERNORM_FWD);
    if (nn->dev) {
        vn_nn_record(nn->dev->layernorm_forward(nn->be->state, out, mean, rstd, inp, w, b, N, C));
        return;
    }
#pragma omp parallel for num_threads(nn->n_threads) schedule(static) if (N * C >= VN_NN_PAR_MIN)
    for (int64_t n = 0; n < N; n++)
        ln_row(out + n * C, inp + n * C, w, b, C, &mean[n], &rstd[n]);
}

VN_NN_CLONES static void ln_backward_rows(float *restrict dinp, const float *restrict dout, const float *restrict inp,
                                          const float *restrict w, const float *restrict mean,
                                          const float *restrict rstd, int64_t n0, int64_t n1, int64_t C)
{
    for (int64_t n = n0; n < n1; n++)
        vn_nn_ln_backward_row(dinp + n * C, dout + n * C, inp + n * C, w, mean[n], rstd[n], C);
}

VN_NN_CLONES static void ln_param_panel(vn_nn_colsum *sw, vn_nn_colsum *sb, vn_nn_colsum *sn,
                                        const float *restrict dout, const float *restrict inp,
                                        const float *restrict dinp, const float *restrict mean,
                                        const float *restrict rstd, int64_t n0, int64_t n1, int64_t N, int64_t C,
                                        int64_t c0, int64_t w_)
{
    vn_nn_ln_param_panel(sw, sb, sn, dout, inp, dinp, mean, rstd, n0, n1, N, C, c0, w_);
}

/* Rows in chunks of this many per parallel work item. */
#define ROW_CHUNK 64

void vn_nn_ln_backward_host(const vn_nn *nn, float *dinp, float *dw, float *db, const float *dout, const float *inp,
                            const float *w, const float *mean, const float *rstd, int64_t N, int64_t C, float *dnext)
{
    int par = N * C >= VN_NN_PAR_MIN;
    if (dinp) {
        int64_t nch = (N + ROW_CHUNK - 1) / ROW_CHUNK;
#pragma omp parallel for num_threads(nn->n_threads) schedule(static) if (par)
        for (int64_t k = 0; k < nch; k++) {
            int64_t n0 = k * ROW_CHUNK, n1 = n0 + ROW_CHUNK < N ? n0 + ROW_CHUNK : N;
            ln_backward_rows(dinp, dout, inp, w, mean, rstd, n0, n1, C);
        }
    }
    if (!dinp)
        dnext = NULL;
    /* The parameter gradients (and the column sums of the new dinp) reduce over rows:
     * split them by column panels instead, so that no thread needs a private partial
     * and each column is summed in row order. */
    if (dw || db || dnext) {
        int64_t np = vn_nn_panels(C, par ? nn->n_threads : 1);
#pragma omp parallel for num_threads(nn->n_threads) schedule(static) if (par)
        for (int64_t k = 0; k < np; k++) {
            int64_t c0 = vn_nn_panel_lo(C, np, k), w_ = vn_nn_panel_lo(C, np, k + 1) - c0;
            vn_nn_colsum sw, sb, sn;
            vn_nn_colsum_init(&sw, w_);
            vn_nn_colsum_init(&sb, w_);
            vn_nn_colsum_init(&sn, w_);
            ln_param_panel(dw ? &sw : NULL, db ? &sb : NULL, dnext ? &sn : NULL, dout, inp, dinp, mean, rstd, 0, N,
                           N, C, c0, w_);
            if (dw)
                vn_nn_colsum_store(dw + c0, &sw, w_);
            if (db)
                vn_nn_colsum_store(db + c0, &sb, w_);
            if (dnext)
                vn_nn_colsum_store(dnext + c0, &sn, w_);
        }
    }
}

void vn_layernorm_backward(const vn_nn *nn, float *dinp, float *dw, float *db, const float *dout, const float *inp,
                           const float *w, const float *mean, const float *rstd, int64_t N, int64_t C)
{
    VN_PROF(nn->prof, VN_PROF_LAYERNORM_BWD);
    if (nn->dev) {
        vn_nn_record(nn->dev->layernorm_backward(nn->be->state, dinp, dw, db, dout, inp, w, mean, rstd, N, C));
        return;
    }
    vn_nn_ln_backward_host(nn, dinp, dw, db, dout, inp, w, mean, rstd, N, C, NULL);
}

VN_NN_CLONES static void softmax_row(float *restrict y, const float *restrict x, int64_t C)
{
    float mx = vn_nn_max(x, C);
    for (int64_t c = 0; c < C; c++)
        y[c] = vn_nn_expf(x[c] - mx);
    float inv = 1.0f / vn_nn_sum(y, C);
    for (int64_t c = 0; c < C; c++)
        y[c] *= inv;
}

void vn_softmax_forward(const vn_nn *nn, float *out, const float *inp, int64_t N, int64_t C)
{
    VN_PROF(nn->prof, VN_PROF_SOFTMAX);
    if (nn->dev) {
        vn_nn_record(nn->dev->softmax_forward(nn->be->state, out, inp, N, C));
        return;
    }
#pragma omp parallel for num_threads(nn->n_threads) schedule(static) if (N * C >= VN_NN_PAR_MIN)
    for (int64_t n = 0; n < N; n++)
        softmax_row(out + n * C, inp + n * C, C);
}

VN_NN_CLONES static void softmax_bwd_row(float *restrict dx, const float *restrict y, const float *restrict g,
                                         int64_t C)
{
    float acc[8] = {0};
    int64_t c = 0;
    for (; c + 8 <= C; c += 8)
        for (int l = 0; l < 8; l++)
            acc[l] += y[c + l] * g[c + l];
    float dot = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (; c < C; c++)
        dot += y[c] * g[c];
    for (c = 0; c < C; c++)
        dx[c] += y[c] * (g[c] - dot);
}

void vn_softmax_backward(const vn_nn *nn, float *dinp, const float *out, const float *dout, int64_t N, int64_t C)
{
    VN_PROF(nn->prof, VN_PROF_SOFTMAX);
    if (nn->dev) {
        vn_nn_record(nn->dev->softmax_backward(nn->be->state, dinp, out, dout, N, C));
        return;
    }
    if (!dinp)
        return;
#pragma omp parallel for num_threads(nn->n_threads) schedule(static) if (N * C >= VN_NN_PAR_MIN)
    for (int64_t n = 0; n < N; n++)
        softmax_bwd_row(dinp + n * C, out + n * C, dout + n * C, C);
}

void vn_residual_forward(const vn_nn *nn, float *out, const float *a, const float *b, int64_t n)
{
    VN_PROF(nn->prof, VN_PROF_RESIDUAL);
    if (nn->dev) {
        vn_nn_record(vn_be_add(nn->be, n, a, b, out));
        return;
    }
#pragma omp parallel for num_threads(nn->n_threads) schedule(static) if (n >= VN_NN_PAR_MIN)
    for (int64_t i = 0; i < n; i++)
        out[i] = a[i] + b[i];
}

void vn_residual_backward(const vn_nn *nn, float *da, float *db, const float *dout, int64_t n)
{
    VN_PROF(nn->prof, VN_PROF_RESIDUAL);
    if (nn->dev) {
        if (da)
            vn_nn_record(vn_be_axpy(nn->be, n, 1.0f, dout, da));
        if (db)
            vn_nn_record(vn_be_axpy(nn->be, n, 1.0f, dout, db));
        return;
    }
    if (da) {
#pragma omp parallel for num_threads(nn->n_threads) schedule(static) if (n >= VN_NN_PAR_MIN)
        for (int64_t i = 0; i < n; i++)
            da[i] += dout[i];
    }
    if (db) {
#pragma omp parallel for num_threads(nn->n_threads) schedule(static) if (n >= VN_NN_PAR_MIN)
        for (int64_t i = 0; i < n; i++)
            db[i] += dout[i];
    }
}

void vn_meanpool_forward(const vn_nn *nn, float *out, const float *inp, int64_t B, int64_t T, int64_t C)
{
    VN_PROF(nn->prof, VN_PROF_POOL_FWD);
    if (nn->dev) {
        vn_nn_record(nn->dev->meanpool_forward(nn->be->state, out, inp, B, T, C));
        return;
    }
    int64_t nblocks = (C + COL_BLOCK - 1) / COL_BLOCK;
    float inv = 1.0f / (float)T;
    /* (batch, column block) pairs, so that B = 1 at encode time still uses every thread. */
#pragma omp parallel for num_threads(nn->n_threads) schedule(static) if (B * T * C >= VN_NN_PAR_MIN)
    for (int64_t job = 0; job < B * nblocks; job++) {
        int64_t b = job / nblocks, c0 = (job % nblocks) * COL_BLOCK;
        int64_t w_ = C - c0 < COL_BLOCK ? C - c0 : COL_BLOCK;
        float acc[COL_BLOCK] = {0};
        for (int64_t t = 0; t < T; t++) {
            const float *x = inp + (b * T + t) * C + c0;
            for (int64_t j = 0; j < w_; j++)
                acc[j] += x[j];
        }
        for (int64_t j = 0; j < w_; j++)
            out[b * C + c0 + j] = acc[j] * inv;
    }
}

void vn_meanpool_backward(const vn_nn *nn, float *dinp, const float *dout, int64_t B, int64_t T, int64_t C)
{
    VN_PROF(nn->prof, VN_PROF_POOL_BWD);
    if (nn->dev) {
        vn_nn_record(nn->dev->meanpool_backward(nn->be->state, dinp, dout, B, T, C));
        return;
    }
    if (!dinp)
        return;
    float inv = 1.0f / (float)T;
#pragma omp parallel for num_threads(nn->n_threads) schedule(static) if (B * T * C >= VN_NN_PAR_MIN)
    for (int64_t row = 0; row < B * T; row++) {
        const float *g = dout + (row / T) * C;
        float *dx = dinp + row * C;
        for (int64_t c = 0; c < C; c++)
            dx[c] += g[c] * inv;
    }
}

/* ---- host halves of the fused ops (ops_fused.c); here so that they share the kernels,
 * and thus the bits, of the unfused ops above --------------------------------------- */

VN_NN_CLONES static void add_ln_rows(float *restrict out, float *restrict y, float *mean, float *rstd,
                                     const float *restrict a, const float *restrict b, const float *restrict w,
                                     const float *restrict bias, int64_t n0, int64_t n1, int64_t C)
{
    for (int64_t n = n0; n < n1; n++) {
        float *o = out + n * C;
        const float *ar = a + n * C, *br = b + n * C;
        for (int64_t c = 0; c < C; c++)
            o[c] = ar[c] + br[c];
        vn_nn_ln_row(y + n * C, o, w, bias, C, &mean[n], &rstd[n]);
    }
}

/* a + b into out (when b is not NULL; else x = a is normalised as it is), then its
 * norm as bf16: the host half of ops_bf16.c's norms. */
VN_NN_CLONES static void ln_rows_bf16(float *restrict out, uint16_t *restrict y, const float *restrict a,
                                      const float *restrict b, const float *restrict w, const float *restrict bias,
                                      int64_t n0, int64_t n1, int64_t C)
{
    for (int64_t n = n0; n < n1; n++) {
        const float *x = a + n * C;
        if (b) {
            float *o = out + n * C;
            const float *br = b + n * C;
            for (int64_t c = 0; c < C; c++)
                o[c] = x[c] + br[c];
            x = o;
        }
        ln_row_bf16(y + n * C, x, w, bias, C);
    }
}

void vn_nn_ln_bf16_host(const vn_nn *nn, float *out, uint16_t *ln, const float *a, const float *b, const float *w,
                        const float *bias, int64_t N, int64_t C)
{
    int64_t nch = (N + ROW_CHUNK - 1) / ROW_CHUNK;
#pragma omp parallel for num_threads(nn->n_threads) schedule(static) if (N * C >= VN_NN_PAR_MIN)
    for (int64_t k = 0; k < nch; k++) {
        int64_t n0 = k * ROW_CHUNK, n1 = n0 + ROW_CHUNK < N ? n0 + ROW_CHUNK : N;
        ln_rows_bf16(out, ln, a, b, w, bias, n0, n1, C);
    }
}

void vn_nn_residual_ln_host(const vn_nn *nn, float *out, float *ln, float *mean, float *rstd, const float *a,
                            const float *b, const float *w, const float *bias, int64_t N, int64_t C)
{
    int64_t nch = (N + ROW_CHUNK - 1) / ROW_CHUNK;
#pragma omp parallel for num_threads(nn->n_threads) schedule(static) if (N * C >= VN_NN_PAR_MIN)
    for (int64_t k = 0; k < nch; k++) {
        int64_t n0 = k * ROW_CHUNK, n1 = n0 + ROW_CHUNK < N ? n0 + ROW_CHUNK : N;
        add_ln_rows(out, ln, mean, rstd, a, b, w, bias, n0, n1, C);
    }
}
