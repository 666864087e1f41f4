/*
 * ops_loss.c: the fast CPU paths of the losses (ops.h).
 *
 * Each returns the mean loss and accumulates dloss * dL/dinput. The mean is reduced over
 * VN_NN_LOSS_CHUNKS fixed chunks of rows, each summed in order, then the chunks in order:
 * the result does not depend on the thread count.
 */
/* Floating-point exceptions are never inspected here, and under the default
 * -ftrapping-math GCC will not if-convert the clamps and selects of vn_nn_expf, which
 * leaves the exp loops scalar. */
#if defined(__GNUC__) && !defined(__clang__)
#  pragma GCC optimize("no-trapping-math")
#endif

#include "nn/ops.h"
#include "core/profile.h"

#include <math.h>

#include "backend/backend_nn.h"
#include "nn/ops_internal.h"

static int64_t chunk_begin(int64_t k, int64_t N)
{
    return k * N / VN_NN_LOSS_CHUNKS;
}

/* A device loss leaves its value in backend memory; the caller wants it now, so this is
 * the one place a step waits for the device (4 bytes per objective). NaN on failure,
 * with the failure recorded for vn_nn_take_error. */
static float device_loss(const vn_nn *nn, vn_status s)
{
    float loss = NAN;
    if (s == VN_OK)
        s = vn_be_download(nn->be, &loss, nn->dev_scalars, sizeof loss);
    vn_nn_record(s);
    return s == VN_OK ? loss : NAN;
}

static float sum_chunks(const double *part)
{
    double s = 0.0;
    for (int k = 0; k < VN_NN_LOSS_CHUNKS; k++)
        s += part[k];
    return (float)s;
}

float vn_bce_logits_loss(const vn_nn *nn, float *dlogits, const float *logits, const float *targets, int64_t N,
                         float dloss)
{
    VN_PROF(nn->prof, VN_PROF_LOSS);
    if (nn->dev)
        return device_loss(nn, nn->dev->bce_logits(nn->be->state, nn->dev_scalars, dlogits, logits, targets, N, dloss));
    double part[VN_NN_LOSS_CHUNKS];
    float scale = dloss / (float)N;
#pragma omp parallel for num_threads(nn->n_threads) schedule(static) if (N >= VN_NN_PAR_MIN)
    for (int k = 0; k < VN_NN_LOSS_CHUNKS; k++) {
        double s = 0.0;
        for (int64_t i = chunk_begin(k, N); i < chunk_begin(k + 1, N); i++) {
            float x = logits[i], t = targets[i];
            /* max(x, 0) - x t + log(1 + e^-|x|): stable for logits of either sign. */
            float e = expf(-fabsf(x));
            s += (double)((x > 0.0f ? x : 0.0f) - x * t + log1pf(e));
            if (dlogits) {
                float sig = x >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
                dlogits[i] += scale * (sig - t);
            }
        }
        part[k] = s;
    }
    return sum_chunks(part) / (float)N;
}

/* Cross-entropy of one row; with g, g += scale * (softmax(x) - onehot(label)). */
static float ce_row(float *g, const float *x, int64_t K, int32_t label, float scale)
{
    float mx = vn_nn_max(x, K);
    double s = 0.0;
    for (int64_t k = 0; k < K; k++)
        s += (double)vn_nn_expf(x[k] - mx);
    float lse = mx + (float)log(s);
    if (g) {
        for (int64_t k = 0; k < K; k++)
            g[k] += scale * vn_nn_expf(x[k] - lse);
        g[label] -= scale;
    }
    return lse - x[label];
}

float vn_softmax_ce_loss(const vn_nn *nn, float *dlogits, const float *logits, const int32_t *labels, int64_t N,
                         int64_t K, float dloss)
{
    VN_PROF(nn->prof, VN_PROF_LOSS);
    if (nn->dev)
        return device_loss(nn, nn->dev->softmax_ce(nn->be->state, nn->dev_scalars, dlogits, logits, labels, N, K, dloss));
    double part[VN_NN_LOSS_CHUNKS];
    float scale = dloss / (float)N;
#pragma omp parallel for num_threads(nn->n_threads) schedule(static) if (N * K >= VN_NN_PAR_MIN)
    for (int k = 0; k < VN_NN_LOSS_CHUNKS; k++) {
        double s = 0.0;
        for (int64_t n = chunk_begin(k, N); n < chunk_begin(k + 1, N); n++)
            s += ce_row(dlogits ? dlogits + n * K : NULL, logits + n * K, K, labels[n], scale);
        part[k] = s;
    }
    return sum_chunks(part) / (float)N;
}

float vn_infonce_loss(const vn_nn *nn, float *dq, float *dk, const float *q, const float *k, const int32_t *pos,
                      int64_t N, int64_t M, int64_t D, float tau, float dloss, float *scratch)
{
    VN_PROF(nn->prof, VN_PROF_LOSS);
    if (nn->dev)
        return device_loss(nn, nn->dev->infonce(nn->be->state, nn->dev_scalars, dq, dk, q, k, pos, N, M, D, tau, dloss, scratch));
    /* scratch[N, M] = q k^T / tau, then overwritten row by row with dL/dlogits. */
    vn_gemm_desc d = vn_gemm_desc_plain(0, 1, N, M, D);
    d.alpha = 1.0f / tau;
    vn_nn_gemm(nn, &d, q, k, NULL, scratch);

    int grads = dq || dk;
    double part[VN_NN_LOSS_CHUNKS];
    float scale = dloss / (float)N;
#pragma omp parallel for num_threads(nn->n_threads) schedule(static) if (N * M >= VN_NN_PAR_MIN)
    for (int c = 0; c < VN_NN_LOSS_CHUNKS; c++) {
        double s = 0.0;
        for (int64_t n = chunk_begin(c, N); n < chunk_begin(c + 1, N); n++) {
            float *row = scratch + n * M;
            float mx = vn_nn_max(row, M);
            double z = 0.0;
            for (int64_t m = 0; m < M; m++)
                z += (double)vn_nn_expf(row[m] - mx);
            float lse = mx + (float)log(z);
            s += (double)(lse - row[pos[n]]);
            if (grads) {
                for (int64_t m = 0; m < M; m++)
                    row[m] = scale * vn_nn_expf(row[m] - lse);
                row[pos[n]] -= scale;
            }
        }
        part[c] = s;
    }
    if (dq) {
        /* dq[N, D] += dlogits[N, M] @ k[M, D] / tau */
        vn_gemm_desc g = vn_gemm_desc_plain(0, 0, N, D, M);
        g.alpha = 1.0f / tau;
        g.beta = 1.0f;
        vn_nn_gemm(nn, &g, scratch, k, NULL, dq);
    }
    if (dk) {
        /* dk[M, D] += dlogits^T @ q / tau */
        vn_gemm_desc g = vn_gemm_desc_plain(1, 0, M, D, N);
        g.alpha = 1.0f / tau;
        g.beta = 1.0f;
        vn_nn_gemm(nn, &g, scratch, q, NULL, dk);
    }
    return sum_chunks(part) / (float)N;
}

VN_NN_CLONES static void ln_target_row(float *restrict y, const float *restrict x, int64_t C)
{
    float m, r;
    vn_nn_row_stats(x, C, &m, &r);
    for (int64_t c = 0; c < C; c++)
        y[c] = (x[c] - m) * r;
}

/* Shared by L1 (p = 1) and MSE (p = 2): the mean is over all N * C elements, as
 * torch.nn.functional.l1_loss and mse_loss reduce by default. */
static float ln_target_loss(const vn_nn *nn, float *dpred, const float *pred, const float *target, int64_t N,
                            int64_t C, float dloss, float *scratch, int p)
{
    if (nn->dev)
        return device_loss(nn, nn->dev->ln_target(nn->be->state, p == 2, nn->dev_scalars, dpred, pred, target, N, C, dloss, scratch));
    double part[VN_NN_LOSS_CHUNKS];
    float scale = dloss / ((float)N * (float)C);
#pragma omp parallel for num_threads(nn->n_threads) schedule(static) if (N * C >= VN_NN_PAR_MIN)
    for (int k = 0; k < VN_NN_LOSS_CHUNKS; k++) {
        double s = 0.0;
        for (int64_t n = chunk_begin(k, N); n < chunk_begin(k + 1, N); n++) {
            float *t = scratch + n * C;
            const float *x = pred + n * C;
            ln_target_row(t, target + n * C, C);
            float acc = 0.0f;
            if (p == 1) {
                for (int64_t c = 0; c < C; c++)
                    acc += fabsf(x[c] - t[c]);
                if (dpred)
                    for (int64_t c = 0; c < C; c++) {
                        float d = x[c] - t[c];
                        dpred[n * C + c] += d > 0.0f ? scale : d < 0.0f ? -scale : 0.0f;
                    }
            } else {
                for (int64_t c = 0; c < C; c++) {
                    float d = x[c] - t[c];
                    acc += d * d;
                }
                if (dpred)
                    for (int64_t c = 0; c < C; c++)
                        dpred[n * C + c] += 2.0f * scale * (x[c] - t[c]);
            }
            s += (double)acc;
        }
        part[k] = s;
    }
    return (float)((double)sum_chunks(part) / ((double)N * (double)C));
}

float vn_l1_ln_target_loss(const vn_nn *nn, float *dpred, const float *pred, const float *target, int64_t N,
                           int64_t C, float dloss, float *scratch)
{
    VN_PROF(nn->prof, VN_PROF_LOSS);
    return ln_target_loss(nn, dpred, pred, target, N, C, dloss, scratch, 1);
}

float vn_mse_ln_target_loss(const vn_nn *nn, float *dpred, const float *pred, const float *target, int64_t N,
                            int64_t C, float dloss, float *scratch)
{
    VN_PROF(nn->prof, VN_PROF_LOSS);
    return ln_target_loss(nn, dpred, pred, target, N, C, dloss, scratch, 2);
}
