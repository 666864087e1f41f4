/*
 * ops_embed.c: tubelet/patch embedding, positional embeddings and attentive pooling
 * (ops.h).
 *
 * Every loop is partitioned by rows (or by element ranges for the positional-embedding
 * gradient) with schedule(static), and every reduction runs in a fixed order inside one
 * iteration, so these ops give the same bits at any thread count; the tubelet GEMMs
 * belong to the backend.
 */
#include <math.h>
#include <string.h>

#include "nn/ops.h"
#include "core/profile.h"
#include "backend/backend_nn.h"
#include "nn/ops_internal.h"

/* ---- tubelet embedding ------------------------------------------------------------ */

void vn_tubelet_forward(const vn_nn *nn, float *out, float *patches, const float *inp, const float *w,
                        const float *b, int64_t B, int64_t Ch, int64_t Fr, int64_t H, int64_t W, int64_t tt,
                        int64_t p, int64_t C)
{
    VN_PROF(nn->prof, VN_PROF_EMBED_FWD);
    int64_t L = (Fr / tt) * (H / p) * (W / p), K = Ch * tt * p * p;
    vn_unfold(nn, patches, inp, NULL, (H / p) * (W / p), B, Ch, Fr, H, W, tt, p);
    vn_linear_forward(nn, out, patches, w, b, B * L, K, C);
}

/* A linear layer over the patches whose input gradient nobody needs: the clip is data. */
void vn_tubelet_backward(const vn_nn *nn, float *dw, float *db, const float *dout, const float *patches,
                         const float *w, int64_t B, int64_t L, int64_t K, int64_t C)
{
    VN_PROF(nn->prof, VN_PROF_EMBED_BWD);
    vn_linear_backward(nn, NULL, dw, db, dout, patches, w, B * L, K, C);
}

/* ---- positional embeddings -------------------------------------------------------- */

VN_NN_CLONES void vn_posembed_forward(const vn_nn *nn, float *out, const float *inp, const float *pos, int64_t B,
                                      int64_t L, int64_t C)
{
    VN_PROF(nn->prof, VN_PROF_EMBED_FWD);
    if (nn->dev) {
        vn_nn_record(nn->dev->pos_add(nn->be->state, out, inp, pos, NULL, B * L, L, C));
        return;
    }
#pragma omp parallel for num_threads(nn->n_threads) schedule(static) if (B * L * C >= VN_NN_PAR_MIN)
    for (int64_t r = 0; r < B * L; r++) {
        const float *x = inp + r * C, *pr = pos + (r % L) * C;
        float *o = out + r * C;
        for (int64_t c = 0; c < C; c++)
            o[c] = x[c] + pr[c];
    }
}

/* Element blocks for the dpos reduction over the batch: each block is summed by one
 * thread in batch order, whatever the thread count. */
#define POS_BLOCK 1024

VN_NN_CLONES void vn_posembed_backward(const vn_nn *nn, float *dinp, float *dpos, const float *dout, int64_t B,
                                       int64_t L, int64_t C)
{
    VN_PROF(nn->prof, VN_PROF_EMBED_BWD);
    if (nn->dev) {
        vn_nn_record(nn->dev->pos_add_backward(nn->be->state, dinp, dpos, dout, NULL, B * L, L, C));
        return;
    }
    int64_t n = L * C;
    if (dinp) {
#pragma omp parallel for num_threads(nn->n_threads) schedule(static) if (B * n >= VN_NN_PAR_MIN)
        for (int64_t r = 0; r < B * L; r++) {
            float *d = dinp + r * C;
            const float *g = dout + r * C;
            for (int64_t c = 0; c < C; c++)
                d[c] += g[c];
        }
    }
    if (dpos) {
        int64_t nb = (n + POS_BLOCK - 1) / POS_BLOCK;
#pragma omp parallel for num_threads(nn->n_threads) schedule(static) if (B * n >= VN_NN_PAR_MIN)
        for (int64_t blk = 0; blk < nb; blk++) {
            int64_t lo = blk * POS_BLOCK, len = n - lo < POS_BLOCK ? n - lo : POS_BLOCK;
            float acc[POS_BLOCK];
            memcpy(acc, dout + lo, (size_t)len * sizeof *acc);
            for (int64_t b = 1; b < B; b++) {
                const float *g = dout + b * n + lo;
                for (int64_t i = 0; i < len; i++)
                    acc[i] += g[i];
            }
            float *d = dpos + lo;
            for (int64_t i = 0; i < len; i++)
                d[i] += acc[i];
        }
    }
}

/*
 * The fixed 3-D sin-cos table of V-JEPA's get_3d_sincos_pos_embed with
 * uniform_power=True (the setting of its pretraining configs), so that every axis gets
 * the same share of the channels whatever the grid:
 *   D = 2 * ceil(C / 6) channels per axis, axes concatenated in the order (t, h, w) and
 *   the result truncated to C columns (so w loses the tail of its cosines when 6 does
 *   not divide C);
 *   within an axis of D channels, column i < D/2 is sin(pos * omega_i) and column
 *   D/2 + i is cos(pos * omega_i), omega_i = 10000^(-i / (D/2)), pos the integer grid
 *   coordinate along that axis (0-based, no scaling).
 * Rows are tokens in (t, h, w) order, as the tubelet embedding emits them. Computed in
 * double and rounded once.
 */
void vn_sincos3d_table(float *table, int64_t Lt, int64_t Lh, int64_t Lw, int64_t C)
{
    int64_t D = 2 * ((C + 5) / 6), half = D / 2;
    for (int64_t t = 0; t < Lt; t++)
        for (int64_t h = 0; h < Lh; h++)
            for (int64_t w = 0; w < Lw; w++) {
                float *row = table + ((t * Lh + h) * Lw + w) * C;
                int64_t coord[3] = {t, h, w};
                for (int64_t c = 0; c < C; c++) {
                    int64_t axis = c / D, i = c % D, f = i < half ? i : i - half;
                    double omega = pow(10000.0, -(double)f / (double)half);
                    double a = (double)coord[axis] * omega;
                    row[c] = (float)(i < half ? sin(a) : cos(a));
                }
            }
}

/* ---- attentive pooling ------------------------------------------------------------- */

static inline float dot8(const float *restrict a, const float *restrict b, int64_t n)
{
    float acc[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int l = 0; l < 8; l++)
            acc[l] += a[i + l] * b[i + l];
    float s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (; i < n; i++)
        s += a[i] * b[i];
    return s;
}

VN_NN_CLONES void vn_attnpool_forward(const vn_nn *nn, float *out, float *attn, const float *inp, const float *query,
                                      int64_t B, int64_t T, int64_t C)
{
    VN_PROF(nn->prof, VN_PROF_POOL_FWD);
    if (nn->dev) {
        vn_nn_record(nn->dev->attnpool_forward(nn->be->state, out, attn, inp, query, B, T, C));
        return;
    }
    float scale = 1.0f / sqrtf((float)C);
#pragma omp parallel for num_threads(nn->n_threads) schedule(static) if (B * T * C >= VN_NN_PAR_MIN)
    for (int64_t b = 0; b < B; b++) {
        const float *x = inp + b * T * C;
        float *a = attn + b * T, *o = out + b * C;
        float mx = -INFINITY;
        for (int64_t t = 0; t < T; t++) {
            a[t] = scale * dot8(query, x + t * C, C);
            mx = a[t] > mx ? a[t] : mx;
        }
        for (int64_t t = 0; t < T; t++)
            a[t] = expf(a[t] - mx);
        float inv = 1.0f / vn_nn_sum(a, T);
        for (int64_t t = 0; t < T; t++)
            a[t] *= inv;
        for (int64_t c = 0; c < C; c++)
            o[c] = 0.0f;
        for (int64_t t = 0; t < T; t++) {
            const float *xt = x + t * C;
            float at = a[t];
            for (int64_t c = 0; c < C; c++)
                o[c] += at * xt[c];
        }
    }
}

/* sum_t a_t (dout . x_t): the softmax backward's correction term for one sequence. */
static float attnpool_dot(const float *x, const float *g, const float *a, int64_t T, int64_t C)
{
    float s = 0.0f;
    for (int64_t t = 0; t < T; t++)
        s += a[t] * dot8(g, x + t * C, C);
    return s;
}

/* With k = v = x_t: dx_t = a_t dout + ds_t q / sqrt(C), dq = sum_t ds_t x_t / sqrt(C),
 * ds_t = a_t (dout . x_t - sum_u a_u dout . x_u). The scores are recomputed instead of
 * kept, since ops.h gives this op no scratch and they cost one dot per token. */
VN_NN_CLONES void vn_attnpool_backward(const vn_nn *nn, float *dinp, float *dquery, const float *dout,
                                       const float *inp, const float *query, const float *attn, int64_t B, int64_t T,
                                       int64_t C)
{
    VN_PROF(nn->prof, VN_PROF_POOL_BWD);
    if (nn->dev) {
        vn_nn_record(nn->dev->attnpool_backward(nn->be->state, dinp, dquery, dout, inp, query, attn, B, T, C));
        return;
    }
    float scale = 1.0f / sqrtf((float)C);
    if (dinp) {
#pragma omp parallel for num_threads(nn->n_threads) schedule(static) if (B * T * C >= VN_NN_PAR_MIN)
        for (int64_t b = 0; b < B; b++) {
            const float *x = inp + b * T * C, *g = dout + b * C, *a = attn + b * T;
            float corr = attnpool_dot(x, g, a, T, C);
            for (int64_t t = 0; t < T; t++) {
                float at = a[t], ds = scale * at * (dot8(g, x + t * C, C) - corr);
                float *d = dinp + (b * T + t) * C;
                for (int64_t c = 0; c < C; c++)
                    d[c] += at * g[c] + ds * query[c];
            }
        }
    }
    if (dquery) {
        /* One sum over (b, t) in a fixed order; the work is B * T * C, small next to any
         * layer, so one thread is cheaper than a partial-sum buffer. */
        for (int64_t b = 0; b < B; b++) {
            const float *x = inp + b * T * C, *g = dout + b * C, *a = attn + b * T;
            float corr = attnpool_dot(x, g, a, T, C);
            for (int64_t t = 0; t < T; t++) {
                const float *xt = x + t * C;
                float ds = scale * a[t] * (dot8(g, xt, C) - corr);
                for (int64_t c = 0; c < C; c++)
                    dquery[c] += ds * xt[c];
            }
        }
    }
}
