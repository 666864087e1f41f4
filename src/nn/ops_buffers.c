/*
 * ops_buffers.c: the engine's view of memory (ops.h "buffers"): a vn_nn on a device
 * backend keeps every buffer in backend memory and sends each op to the backend's
 * engine table; on the cpu backend the same calls are plain host loops. Also the small
 * row ops that the encoder, the predictor and the objectives build on (gather, scatter,
 * bias gradient, L2 normalisation, EMA, the kept-position unfold and indexed
 * positional adds), so that none of them touches a buffer with the host directly.
 */
#include "nn/ops.h"
#include "core/profile.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend_nn.h"
#include "core/error.h"
#include "nn/ops_internal.h"

#define DEV(nn) ((nn)->be->state)

vn_status vn_nn_init(vn_nn *nn, const vn_be *be, int n_threads, int deterministic)
{
    memset(nn, 0, sizeof *nn);
    nn->be = be;
    nn->n_threads = n_threads > 0 ? n_threads : 1;
    nn->deterministic = deterministic;
    nn->dev = vn_be_nn(be);
    if (nn->dev) {
        void *p = NULL;
        vn_status s = vn_be_alloc(be, VN_NN_DEV_SCALARS * sizeof(float), &p);
        if (s != VN_OK) {
            nn->dev = NULL;
            return s;
        }
        nn->dev_scalars = p;
    }
    return VN_OK;
}

void vn_nn_fini(vn_nn *nn)
{
    if (nn && nn->dev_scalars)
        vn_be_free(nn->be, nn->dev_scalars);
    if (nn)
        nn->dev_scalars = NULL;
}

float *vn_nn_alloc(const vn_nn *nn, int64_t n)
{
    size_t bytes = (size_t)(n > 0 ? n : 1) * sizeof(float);
    void *p = NULL;
    vn_status s = vn_be_alloc(nn->be, bytes, &p);
    if (s != VN_OK || !p) {
        vn_nn_record(s != VN_OK ? s : vn_error(VN_ERR_OUT_OF_MEMORY, "out of memory for %zu bytes", bytes));
        return NULL;
    }
    return p;
}

void vn_nn_free(const vn_nn *nn, void *p)
{
    if (p)
        vn_be_free(nn->be, p);
}

vn_status vn_nn_upload(const vn_nn *nn, void *dst, const void *src_host, size_t bytes)
{
    VN_PROF(nn->prof, VN_PROF_TRANSFER);
    if (!nn->dev) {
        if (bytes)
            memmove(dst, src_host, bytes);
        return VN_OK;
    }
    return vn_be_upload(nn->be, dst, src_host, bytes);
}

vn_status vn_nn_upload_async(const vn_nn *nn, void *dst, const void *src_host, size_t bytes)
{
    VN_PROF(nn->prof, VN_PROF_TRANSFER);
    return nn->dev ? vn_be_upload_async(nn->be, dst, src_host, bytes) : vn_nn_upload(nn, dst, src_host, bytes);
}

vn_status vn_nn_download(const vn_nn *nn, void *dst_host, const void *src, size_t bytes)
{
    VN_PROF(nn->prof, VN_PROF_TRANSFER);
    if (!nn->dev) {
        if (bytes)
            memmove(dst_host, src, bytes);
        return VN_OK;
    }
    return vn_be_download(nn->be, dst_host, src, bytes);
}

float *vn_nn_host_view(const vn_nn *nn, const float *p, int64_t n)
{
    if (!nn->dev)
        return (float *)p;
    float *h = malloc((size_t)(n > 0 ? n : 1) * sizeof *h);
    if (!h) {
        vn_nn_record(vn_error(VN_ERR_OUT_OF_MEMORY, "out of memory for a host copy of %lld floats", (long long)n));
        return NULL;
    }
    vn_status s = vn_be_download(nn->be, h, p, (size_t)n * sizeof *h);
    if (s != VN_OK) {
        vn_nn_record(s);
        free(h);
        return NULL;
    }
    return h;
}

vn_status vn_nn_host_release(const vn_nn *nn, float *view, float *p, int64_t n, int writeback)
{
    if (!nn->dev || !view)
        return VN_OK;
    vn_status s = writeback ? vn_be_upload(nn->be, p, view, (size_t)n * sizeof *view) : VN_OK;
    free(view);
    return s;
}

static void fill(const vn_nn *nn, float *x, int64_t n, float value)
{
    if (n <= 0)
        return;
    if (nn->dev) {
        vn_nn_record(nn->dev->fill(DEV(nn), x, n, value));
        return;
    }
    if (value == 0.0f && !signbit(value)) {
        memset(x, 0, (size_t)n * sizeof *x);
        return;
    }
    for (int64_t i = 0; i < n; i++)
        x[i] = value;
}

void vn_nn_fill(const vn_nn *nn, float *x, int64_t n, float value)
{
    VN_PROF(nn->prof, VN_PROF_MEMORY);
    fill(nn, x, n, value);
}

/* Not through vn_nn_fill, so that the profile counts one call. */
void vn_nn_zero(const vn_nn *nn, float *x, int64_t n)
{
    VN_PROF(nn->prof, VN_PROF_MEMORY);
    fill(nn, x, n, 0.0f);
}

void vn_nn_copy(const vn_nn *nn, float *dst, const float *src, int64_t n)
{
    VN_PROF(nn->prof, VN_PROF_MEMORY);
    if (n <= 0 || dst == src)
        return;
    if (nn->dev) {
        vn_nn_record(nn->dev->copy(DEV(nn), dst, src, n));
        return;
    }
    memcpy(dst, src, (size_t)n * sizeof *dst);
}

void vn_nn_gather_rows(const vn_nn *nn, float *dst, const float *src, const int32_t *idx, int64_t rows,
                       int64_t width)
{
    VN_PROF(nn->prof, VN_PROF_MEMORY);
    if (rows <= 0 || width <= 0)
        return;
    if (nn->dev) {
        vn_nn_record(nn->dev->gather_rows(DEV(nn), dst, src, idx, rows, width));
        return;
    }
#pragma omp parallel for num_threads(nn->n_threads) schedule(static) if (rows * width >= VN_NN_PAR_MIN)
    for (int64_t r = 0; r < rows; r++)
        memcpy(dst + r * width, src + (int64_t)idx[r] * width, (size_t)width * sizeof *dst);
}

void vn_nn_scatter_add_rows(const vn_nn *nn, float *dst, const float *src, const int32_t *idx, int64_t rows,
                            int64_t width)
{
    VN_PROF(nn->prof, VN_PROF_MEMORY);
    if (rows <= 0 || width <= 0)
        return;
    if (nn->dev) {
        vn_nn_record(nn->dev->scatter_add_rows(DEV(nn), dst, src, idx, rows, width));
        return;
    }
    /* Distinct destinations: no two iterations write the same row. */
#pragma omp parallel for num_threads(nn->n_threads) schedule(static) if (rows * width >= VN_NN_PAR_MIN)
    for (int64_t r = 0; r < rows; r++) {
        float *d = dst + (int64_t)idx[r] * width;
        const float *s = src + r * width;
        for (int64_t j = 0; j < width; j++)
            d[j] += s[j];
    }
}

/* Columns per block in column reductions: a block's double accumulators stay in
 * registers or L1, and OC = 128..768 still spreads over the threads. */
#define COL_BLOCK 64

VN_NN_CLONES static void bias_grad_panel(float *db, const float *restrict dout, int64_t N, int64_t OC, int64_t o0,
                                         int64_t w_)
{
    vn_nn_colsum cs;
    vn_nn_colsum_init(&cs, w_);
    for (int64_t n = 0; n < N; n++) {
        vn_nn_colsum_add(&cs, dout + n * OC + o0, w_);
        vn_nn_colsum_row_done(&cs, n, N, w_);
    }
    vn_nn_colsum_store(db + o0, &cs, w_);
}

void vn_bias_grad(const vn_nn *nn, float *db, const float *dout, int64_t N, int64_t OC)
{
    VN_PROF(nn->prof, VN_PROF_BIAS_GRAD);
    if (N <= 0 || OC <= 0)
        return;
    if (nn->dev) {
        vn_nn_record(nn->dev->bias_grad(DEV(nn), db, dout, N, OC));
        return;
    }
    /* Column panels, rows in groups (ops_internal.h): the fused ops that fold this sum
     * into another pass give the same bits. */
    int64_t np = vn_nn_panels(OC, N * OC >= VN_NN_PAR_MIN ? nn->n_threads : 1);
#pragma omp parallel for num_threads(nn->n_threads) schedule(static) if (N * OC >= VN_NN_PAR_MIN)
    for (int64_t k = 0; k < np; k++) {
        int64_t o0 = vn_nn_panel_lo(OC, np, k), o1 = vn_nn_panel_lo(OC, np, k + 1);
        bias_grad_panel(db, dout, N, OC, o0, o1 - o0);
    }
}

void vn_l2norm_forward(const vn_nn *nn, float *y, float *norm, const float *x, int64_t N, int64_t D)
{
    VN_PROF(nn->prof, VN_PROF_L2NORM);
    if (N <= 0)
        return;
    if (nn->dev) {
        vn_nn_record(nn->dev->l2norm_forward(DEV(nn), y, norm, x, N, D));
        return;
    }
    for (int64_t i = 0; i < N; i++) {
        double s = 0;
        for (int64_t j = 0; j < D; j++)
            s += (double)x[i * D + j] * x[i * D + j];
        float n = (float)sqrt(s);
        if (n < 1e-12f)
            n = 1e-12f;
        norm[i] = n;
        for (int64_t j = 0; j < D; j++)
            y[i * D + j] = x[i * D + j] / n;
    }
}

void vn_l2norm_backward(const vn_nn *nn, float *dx, const float *dy, const float *y, const float *norm, int64_t N,
                        int64_t D)
{
    VN_PROF(nn->prof, VN_PROF_L2NORM);
    if (N <= 0)
        return;
    if (nn->dev) {
        vn_nn_record(nn->dev->l2norm_backward(DEV(nn), dx, dy, y, norm, N, D));
        return;
    }
    for (int64_t i = 0; i < N; i++) {
        double dot = 0;
        for (int64_t j = 0; j < D; j++)
            dot += (double)y[i * D + j] * dy[i * D + j];
        for (int64_t j = 0; j < D; j++)
            dx[i * D + j] += (float)((dy[i * D + j] - y[i * D + j] * dot) / norm[i]);
    }
}

void vn_ema_update(const vn_nn *nn, float *t, const float *o, int64_t n, float m)
{
    VN_PROF(nn->prof, VN_PROF_EMA);
    if (n <= 0)
        return;
    if (nn->dev) {
        vn_nn_record(nn->dev->ema(DEV(nn), t, o, n, m));
        return;
    }
    float om = 1.0f - m;
#pragma omp parallel for schedule(static) num_threads(nn->n_threads) if (n >= VN_NN_PAR_MIN)
    for (int64_t i = 0; i < n; i++)
        t[i] = m * t[i] + om * o[i];
}

/* Rows of patches are tokens; columns are (c, kt, kh, kw), the flattening of a Conv3d
 * weight [C, Ch, tt, p, p], so the conv is one GEMM against the weight as it is stored.
 * Each (c, kt, kh) run of p pixels is contiguous in the clip. */
void vn_unfold(const vn_nn *nn, float *patches, const float *clips, const int32_t *keep, int64_t nk, int64_t B,
               int64_t Ch, int64_t Fr, int64_t H, int64_t W, int64_t tt, int64_t p)
{
    VN_PROF(nn->prof, VN_PROF_EMBED_FWD);
    if (B <= 0 || nk <= 0)
        return;
    if (nn->dev) {
        vn_nn_record(nn->dev->unfold(DEV(nn), patches, clips, keep, nk, B, Ch, Fr, H, W, tt, p));
        return;
    }
    int64_t F = Fr / tt, Lw = W / p, K = Ch * tt * p * p, rows = B * F * nk;
#pragma omp parallel for num_threads(nn->n_threads) schedule(static) if (rows * K >= VN_NN_PAR_MIN)
    for (int64_t r = 0; r < rows; r++) {
        int64_t k = r % nk, f = (r / nk) % F, n = r / (nk * F);
        int64_t s = keep ? keep[n * nk + k] : k, lh = s / Lw, lw = s % Lw;
        float *row = patches + r * K;
        for (int64_t ch = 0; ch < Ch; ch++)
            for (int64_t kt = 0; kt < tt; kt++)
                for (int64_t kh = 0; kh < p; kh++)
                    memcpy(row + ((ch * tt + kt) * p + kh) * p,
                           clips + (((n * Ch + ch) * Fr + f * tt + kt) * H + lh * p + kh) * W + lw * p,
                           (size_t)p * sizeof *row);
    }
}

void vn_pos_add_rows(const vn_nn *nn, float *out, const float *inp, const float *pos, const int32_t *pos_idx,
                     int64_t rows, int64_t L, int64_t C)
{
    VN_PROF(nn->prof, VN_PROF_EMBED_FWD);
    if (rows <= 0)
        return;
    if (nn->dev) {
        vn_nn_record(nn->dev->pos_add(DEV(nn), out, inp, pos, pos_idx, rows, L, C));
        return;
    }
#pragma omp parallel for num_threads(nn->n_threads) schedule(static) if (rows * C >= VN_NN_PAR_MIN)
    for (int64_t r = 0; r < rows; r++) {
        const float *x = inp + r * C, *pr = pos + (pos_idx ? (int64_t)pos_idx[r] : r % L) * C;
        float *o = out + r * C;
        for (int64_t c = 0; c < C; c++)
            o[c] = x[c] + pr[c];
    }
}

void vn_pos_add_rows_backward(const vn_nn *nn, float *dinp, float *dpos, const float *dout, const int32_t *pos_idx,
                              int64_t rows, int64_t L, int64_t C)
{
    VN_PROF(nn->prof, VN_PROF_EMBED_BWD);
    if (rows <= 0)
        return;
    if (nn->dev) {
        vn_nn_record(nn->dev->pos_add_backward(DEV(nn), dinp, dpos, dout, pos_idx, rows, L, C));
        return;
    }
    if (!pos_idx && rows % L == 0) {
        /* the plain positional embedding: its own kernel sums over the batch first */
        vn_posembed_backward(nn, dinp, dpos, dout, rows / L, L, C);
        return;
    }
    if (dinp) {
#pragma omp parallel for num_threads(nn->n_threads) schedule(static) if (rows * C >= VN_NN_PAR_MIN)
        for (int64_t r = 0; r < rows; r++)
            for (int64_t c = 0; c < C; c++)
                dinp[r * C + c] += dout[r * C + c];
    }
    if (dpos) {
        /* Column blocks, rows in order within each: the sums do not depend on threads. */
        int64_t nblocks = (C + COL_BLOCK - 1) / COL_BLOCK;
#pragma omp parallel for num_threads(nn->n_threads) schedule(static) if (rows * C >= VN_NN_PAR_MIN)
        for (int64_t blk = 0; blk < nblocks; blk++) {
            int64_t c0 = blk * COL_BLOCK, w_ = C - c0 < COL_BLOCK ? C - c0 : COL_BLOCK;
            for (int64_t r = 0; r < rows; r++) {
                float *d = dpos + (pos_idx ? (int64_t)pos_idx[r] : r % L) * C + c0;
                const float *g = dout + r * C + c0;
                for (int64_t j = 0; j < w_; j++)
                    d[j] += g[j];
            }
        }
    }
}
