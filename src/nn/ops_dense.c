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
#endif

#include "nn/ops.h"

#include <math.h>

#include "backend/backend_nn.h"
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
    vn_gemm_desc dd = *d;
    dd.precision = nn->precision;
    vn_nn_record(vn_be_gemm(nn->be, &dd, a, b, bias, c));
}

void vn_linear_forward(const vn_nn *nn, float *out, const float *inp, const float *w, const float *b, int64_t N,
                       int64_t IC, int64_t OC)
{
    vn_gemm_desc d = vn_gemm_desc_plain(0, 1, N, OC, IC);
    vn_nn_gemm(nn, &d, inp, w, b, out);
}

void vn_linear_gelu_forward(const vn_nn *nn, float *h, float *g, const float *inp, const float *w, const float *b,
                            int64_t N, int64_t IC, int64_t OC)
{
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

VN_NN_CLONES static void ln_row(float *restrict y, const float *restrict x, const float *restrict w,
                                const float *restrict b, int64_t C, float *mean, float *rstd)
{
    float m, r;
    vn_nn_row_stats(x, C, &m, &r);
    if (w && b)
        for (int64_t c = 0; c < C; c++)
            y[c] = (x[c] - m) * r * w[c] + b[c];
    else
        for (int64_t c = 0; c < C; c++)
            y[c] = (x[c] - m) * r * (w ? w[c] : 1.0f) + (b ? b[c] : 0.0f);
    *mean = m;
    *rstd = r;
}

void vn_layernorm_forward(const vn_nn *nn, float *out, float *mean, float *rstd, const float *inp, const float *w,
                          const float *b, int64_t N, int64_t C)
{
    if (nn->dev) {
        vn_nn_record(nn->dev->layernorm_forward(nn->be->state, out, mean, rstd, inp, w, b, N, C));
        return;
    }
#pragma omp parallel for num_threads(nn->n_threads) schedule(static) if (N * C >= VN_NN_PAR_MIN)
    for (int64_t n = 0; n < N; n++)
        ln_row(out + n * C, inp + n * C, w, b, C, &mean[n], &rstd[n]);
}

VN_NN_CLONES static void ln_backward_row(float *restrict dx, const float *restrict g, const float *restrict x,
                                         const float *restrict w, float m, float r, int64_t C)
{
    float acc_g[8] = {0}, acc_gx[8] = {0};
    int64_t c = 0;
    for (; c + 8 <= C; c += 8)
        for (int l = 0; l < 8; l++) {
            float gn = g[c + l] * (w ? w[c + l] : 1.0f);
            acc_g[l] += gn;
            acc_gx[l] += gn * (x[c + l] - m) * r;
        }
    float sg = 0.0f, sgx = 0.0f;
    for (int l = 0; l < 8; l++) {
        sg += acc_g[l];
        sgx += acc_gx[l];
    }
    for (; c < C; c++) {
        float gn = g[c] * (w ? w[c] : 1.0f);
        sg += gn;
        sgx += gn * (x[c] - m) * r;
    }
    float mg = sg / (float)C, mgx = sgx / (float)C;
    for (c = 0; c < C; c++) {
        float xhat = (x[c] - m) * r;
        float gn = g[c] * (w ? w[c] : 1.0f);
        dx[c] += r * (gn - mg - xhat * mgx);
    }
}

void vn_layernorm_backward(const vn_nn *nn, float *dinp, float *dw, float *db, const float *dout, const float *inp,
                           const float *w, const float *mean, const float *rstd, int64_t N, int64_t C)
{
    if (nn->dev) {
        vn_nn_record(nn->dev->layernorm_backward(nn->be->state, dinp, dw, db, dout, inp, w, mean, rstd, N, C));
        return;
    }
    int par = N * C >= VN_NN_PAR_MIN;
    /* The parameter gradients reduce over rows: split them by column blocks instead of by
     * rows, so that no thread needs a private partial and the sum order is fixed. */
    if (dw || db) {
        int64_t nblocks = (C + COL_BLOCK - 1) / COL_BLOCK;
#pragma omp parallel for num_threads(nn->n_threads) schedule(static) if (par)
        for (int64_t blk = 0; blk < nblocks; blk++) {
            int64_t c0 = blk * COL_BLOCK, w_ = C - c0 < COL_BLOCK ? C - c0 : COL_BLOCK;
            double aw[COL_BLOCK] = {0}, ab[COL_BLOCK] = {0};
            for (int64_t n = 0; n < N; n++) {
                const float *x = inp + n * C + c0, *g = dout + n * C + c0;
                float m = mean[n], r = rstd[n];
                for (int64_t j = 0; j < w_; j++) {
                    aw[j] += (double)(g[j] * ((x[j] - m) * r));
                    ab[j] += (double)g[j];
                }
            }
            for (int64_t j = 0; j < w_; j++) {
                if (dw)
                    dw[c0 + j] += (float)aw[j];
                if (db)
                    db[c0 + j] += (float)ab[j];
            }
        }
    }
    if (dinp) {
#pragma omp parallel for num_threads(nn->n_threads) schedule(static) if (par)
        for (int64_t n = 0; n < N; n++)
            ln_backward_row(dinp + n * C, dout + n * C, inp + n * C, w, mean[n], rstd[n], C);
    }
}

#define GELU_S 0.7978845608028654f /* sqrt(2 / pi) */
#define GELU_A 0.044715f

/* tanh(u) = 1 - 2 / (1 + e^{2u}). Clamped to |u| <= 10, where tanh is +-1 in float, so
 * that e^{2u} never overflows; NaN passes through because the callers multiply by x. */
static inline float gelu_tanh(float x)
{
    float u = GELU_S * (x + GELU_A * x * x * x);
    u = u > 10.0f ? 10.0f : u;
    u = u < -10.0f ? -10.0f : u;
    return 1.0f - 2.0f / (1.0f + vn_nn_expf(2.0f * u));
}

VN_NN_CLONES static void gelu_fwd_range(float *restrict out, const float *restrict inp, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        float x = inp[i];
        out[i] = 0.5f * x * (1.0f + gelu_tanh(x));
    }
}

VN_NN_CLONES static void gelu_bwd_range(float *restrict dinp, const float *restrict inp, const float *restrict dout,
                                        int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        float x = inp[i];
        float t = gelu_tanh(x);
        float d = 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * GELU_S * (1.0f + 3.0f * GELU_A * x * x);
        dinp[i] += d * dout[i];
    }
}

/* Elementwise ops go in chunks so that each thread runs the vectorised range kernel on
 * a contiguous slice; the chunk is a multiple of every vector width. */
#define EW_CHUNK 4096

void vn_gelu_forward(const vn_nn *nn, float *out, const float *inp, int64_t n)
{
    if (nn->dev) {
        vn_nn_record(nn->dev->gelu_forward(nn->be->state, out, inp, n));
        return;
    }
    int64_t nchunks = (n + EW_CHUNK - 1) / EW_CHUNK;
#pragma omp parallel for num_threads(nn->n_threads) schedule(static) if (n >= VN_NN_PAR_MIN / 4)
    for (int64_t k = 0; k < nchunks; k++) {
        int64_t i0 = k * EW_CHUNK;
        gelu_fwd_range(out + i0, inp + i0, n - i0 < EW_CHUNK ? n - i0 : EW_CHUNK);
    }
}

void vn_gelu_backward(const vn_nn *nn, float *dinp, const float *inp, const float *dout, int64_t n)
{
    if (nn->dev) {
        vn_nn_record(nn->dev->gelu_backward(nn->be->state, dinp, inp, dout, n));
        return;
    }
    if (!dinp)
        return;
    int64_t nchunks = (n + EW_CHUNK - 1) / EW_CHUNK;
#pragma omp parallel for num_threads(nn->n_threads) schedule(static) if (n >= VN_NN_PAR_MIN / 4)
    for (int64_t k = 0; k < nchunks; k++) {
        int64_t i0 = k * EW_CHUNK;
        gelu_bwd_range(dinp + i0, inp + i0, dout + i0, n - i0 < EW_CHUNK ? n - i0 : EW_CHUNK);
    }
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
