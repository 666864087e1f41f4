/*
 * ops_ref.c: the reference twins of the dense ops and losses. Obvious loops, double
 * accumulation, one thread; the truth the fast paths in ops_dense.c and ops_loss.c are
 * measured against.
 */
#include "nn/ops_ref.h"

#include <math.h>
#include <stdlib.h>

#define REF_LN_EPS 1e-5

void vn_ref_linear_forward(float *out, const float *inp, const float *w, const float *b, int64_t N, int64_t IC,
                           int64_t OC)
{
    for (int64_t n = 0; n < N; n++)
        for (int64_t o = 0; o < OC; o++) {
            double s = b ? b[o] : 0.0;
            for (int64_t i = 0; i < IC; i++)
                s += (double)inp[n * IC + i] * w[o * IC + i];
            out[n * OC + o] = (float)s;
        }
}

void vn_ref_linear_backward(float *dinp, float *dw, float *db, const float *dout, const float *inp, const float *w,
                            int64_t N, int64_t IC, int64_t OC)
{
    if (dinp)
        for (int64_t n = 0; n < N; n++)
            for (int64_t i = 0; i < IC; i++) {
                double s = 0.0;
                for (int64_t o = 0; o < OC; o++)
                    s += (double)dout[n * OC + o] * w[o * IC + i];
                dinp[n * IC + i] += (float)s;
            }
    if (dw)
        for (int64_t o = 0; o < OC; o++)
            for (int64_t i = 0; i < IC; i++) {
                double s = 0.0;
                for (int64_t n = 0; n < N; n++)
                    s += (double)dout[n * OC + o] * inp[n * IC + i];
                dw[o * IC + i] += (float)s;
            }
    if (db)
        for (int64_t o = 0; o < OC; o++) {
            double s = 0.0;
            for (int64_t n = 0; n < N; n++)
                s += dout[n * OC + o];
            db[o] += (float)s;
        }
}

void vn_ref_layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *w, const float *b,
                              int64_t N, int64_t C)
{
    for (int64_t n = 0; n < N; n++) {
        const float *x = inp + n * C;
        double m = 0.0, v = 0.0;
        for (int64_t c = 0; c < C; c++)
            m += x[c];
        m /= (double)C;
        for (int64_t c = 0; c < C; c++)
            v += ((double)x[c] - m) * ((double)x[c] - m);
        v /= (double)C;
        double r = 1.0 / sqrt(v + REF_LN_EPS);
        for (int64_t c = 0; c < C; c++) {
            double y = ((double)x[c] - m) * r;
            out[n * C + c] = (float)(y * (w ? w[c] : 1.0) + (b ? b[c] : 0.0));
        }
        mean[n] = (float)m;
        rstd[n] = (float)r;
    }
}

void vn_ref_layernorm_backward(float *dinp, float *dw, float *db, const float *dout, const float *inp, const float *w,
                               const float *mean, const float *rstd, int64_t N, int64_t C)
{
    for (int64_t n = 0; n < N; n++) {
        const float *x = inp + n * C, *g = dout + n * C;
        double m = mean[n], r = rstd[n];
        double sum_g = 0.0, sum_gx = 0.0;
        for (int64_t c = 0; c < C; c++) {
            double xhat = ((double)x[c] - m) * r;
            double gn = (double)g[c] * (w ? w[c] : 1.0);
            sum_g += gn;
            sum_gx += gn * xhat;
            if (dw)
                dw[c] += (float)((double)g[c] * xhat);
            if (db)
                db[c] += g[c];
        }
        if (dinp)
            for (int64_t c = 0; c < C; c++) {
                double xhat = ((double)x[c] - m) * r;
                double gn = (double)g[c] * (w ? w[c] : 1.0);
                dinp[n * C + c] += (float)(r * (gn - sum_g / (double)C - xhat * sum_gx / (double)C));
            }
    }
}

#define GELU_S 0.7978845608028654 /* sqrt(2 / pi) */
#define GELU_A 0.044715

void vn_ref_gelu_forward(float *out, const float *inp, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        double x = inp[i];
        out[i] = (float)(0.5 * x * (1.0 + tanh(GELU_S * (x + GELU_A * x * x * x))));
    }
}

void vn_ref_gelu_backward(float *dinp, const float *inp, const float *dout, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        double x = inp[i];
        double t = tanh(GELU_S * (x + GELU_A * x * x * x));
        double d = 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * GELU_S * (1.0 + 3.0 * GELU_A * x * x);
        dinp[i] += (float)(d * dout[i]);
    }
}

void vn_ref_softmax_forward(float *out, const float *inp, int64_t N, int64_t C)
{
    for (int64_t n = 0; n < N; n++) {
        const float *x = inp + n * C;
        double mx = -INFINITY, s = 0.0;
        for (int64_t c = 0; c < C; c++)
            mx = x[c] > mx ? x[c] : mx;
        for (int64_t c = 0; c < C; c++)
            s += exp((double)x[c] - mx);
        for (int64_t c = 0; c < C; c++)
            out[n * C + c] = (float)(exp((double)x[c] - mx) / s);
    }
}

void vn_ref_softmax_backward(float *dinp, const float *out, const float *dout, int64_t N, int64_t C)
{
    for (int64_t n = 0; n < N; n++) {
        const float *y = out + n * C, *g = dout + n * C;
        double dot = 0.0;
        for (int64_t c = 0; c < C; c++)
            dot += (double)y[c] * g[c];
        for (int64_t c = 0; c < C; c++)
            dinp[n * C + c] += (float)((double)y[c] * ((double)g[c] - dot));
    }
}

void vn_ref_residual_forward(float *out, const float *a, const float *b, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        out[i] = a[i] + b[i];
}

void vn_ref_residual_backward(float *da, float *db, const float *dout, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        if (da)
            da[i] += dout[i];
        if (db)
            db[i] += dout[i];
    }
}

void vn_ref_meanpool_forward(float *out, const float *inp, int64_t B, int64_t T, int64_t C)
{
    for (int64_t b = 0; b < B; b++)
        for (int64_t c = 0; c < C; c++) {
            double s = 0.0;
            for (int64_t t = 0; t < T; t++)
                s += inp[(b * T + t) * C + c];
            out[b * C + c] = (float)(s / (double)T);
        }
}

void vn_ref_meanpool_backward(float *dinp, const float *dout, int64_t B, int64_t T, int64_t C)
{
    for (int64_t b = 0; b < B; b++)
        for (int64_t t = 0; t < T; t++)
            for (int64_t c = 0; c < C; c++)
                dinp[(b * T + t) * C + c] += (float)((double)dout[b * C + c] / (double)T);
}

double vn_ref_bce_logits_loss_f64(float *dlogits, const float *logits, const float *targets, int64_t N, float dloss)
{
    double loss = 0.0;
    for (int64_t i = 0; i < N; i++) {
        double x = logits[i], t = targets[i];
        /* max(x, 0) - x t + log(1 + e^-|x|): never exponentiates a large positive number. */
        loss += (x > 0 ? x : 0.0) - x * t + log1p(exp(-fabs(x)));
        if (dlogits) {
            double sig = x >= 0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x));
            dlogits[i] += (float)((double)dloss * (sig - t) / (double)N);
        }
    }
    return loss / (double)N;
}

/* Cross-entropy of row x against label, and (when g) g += scale * (softmax(x) - onehot). */
static double ref_ce_row(float *g, const double *x, int64_t K, int32_t label, double scale)
{
    double mx = -INFINITY, s = 0.0;
    for (int64_t k = 0; k < K; k++)
        mx = x[k] > mx ? x[k] : mx;
    for (int64_t k = 0; k < K; k++)
        s += exp(x[k] - mx);
    double lse = mx + log(s);
    if (g)
        for (int64_t k = 0; k < K; k++)
            g[k] += (float)(scale * (exp(x[k] - lse) - (k == label ? 1.0 : 0.0)));
    return lse - x[label];
}

double vn_ref_softmax_ce_loss_f64(float *dlogits, const float *logits, const int32_t *labels, int64_t N, int64_t K,
                                  float dloss)
{
    double *row = malloc((size_t)(K > 0 ? K : 1) * sizeof *row);
    if (!row)
        return NAN;
    double loss = 0.0;
    for (int64_t n = 0; n < N; n++) {
        for (int64_t k = 0; k < K; k++)
            row[k] = logits[n * K + k];
        loss += ref_ce_row(dlogits ? dlogits + n * K : NULL, row, K, labels[n], (double)dloss / (double)N);
    }
    free(row);
    return loss / (double)N;
}

double vn_ref_infonce_loss_f64(float *dq, float *dk, const float *q, const float *k, const int32_t *pos, int64_t N,
                               int64_t M, int64_t D, float tau, float dloss, float *scratch)
{
    double *row = malloc((size_t)(M > 0 ? M : 1) * sizeof *row);
    if (!row)
        return NAN;
    double loss = 0.0;
    for (int64_t n = 0; n < N; n++) {
        for (int64_t m = 0; m < M; m++) {
            double s = 0.0;
            for (int64_t d = 0; d < D; d++)
                s += (double)q[n * D + d] * k[m * D + d];
            row[m] = s / (double)tau;
        }
        float *g = scratch + n * M;
        for (int64_t m = 0; m < M; m++)
            g[m] = 0.0f;
        loss += ref_ce_row(g, row, M, pos[n], (double)dloss / (double)N);
    }
    free(row);
    /* scratch now holds dL/dlogits; logits = q k^T / tau. */
    if (dq)
        for (int64_t n = 0; n < N; n++)
            for (int64_t d = 0; d < D; d++) {
                double s = 0.0;
                for (int64_t m = 0; m < M; m++)
                    s += (double)scratch[n * M + m] * k[m * D + d];
                dq[n * D + d] += (float)(s / (double)tau);
            }
    if (dk)
        for (int64_t m = 0; m < M; m++)
            for (int64_t d = 0; d < D; d++) {
                double s = 0.0;
                for (int64_t n = 0; n < N; n++)
                    s += (double)scratch[n * M + m] * q[n * D + d];
                dk[m * D + d] += (float)(s / (double)tau);
            }
    return loss / (double)N;
}

/* scratch = LayerNorm(target) without affine. */
static void ref_ln_rows(float *scratch, const float *target, int64_t N, int64_t C)
{
    for (int64_t n = 0; n < N; n++) {
        const float *x = target + n * C;
        double m = 0.0, v = 0.0;
        for (int64_t c = 0; c < C; c++)
            m += x[c];
        m /= (double)C;
        for (int64_t c = 0; c < C; c++)
            v += ((double)x[c] - m) * ((double)x[c] - m);
        double r = 1.0 / sqrt(v / (double)C + REF_LN_EPS);
        for (int64_t c = 0; c < C; c++)
            scratch[n * C + c] = (float)(((double)x[c] - m) * r);
    }
}

double vn_ref_l1_ln_target_loss_f64(float *dpred, const float *pred, const float *target, int64_t N, int64_t C,
                                    float dloss, float *scratch)
{
    ref_ln_rows(scratch, target, N, C);
    double loss = 0.0, scale = (double)dloss / ((double)N * (double)C);
    for (int64_t i = 0; i < N * C; i++) {
        double d = (double)pred[i] - scratch[i];
        loss += fabs(d);
        if (dpred)
            dpred[i] += (float)(scale * (d > 0 ? 1.0 : d < 0 ? -1.0 : 0.0));
    }
    return loss / ((double)N * (double)C);
}

double vn_ref_mse_ln_target_loss_f64(float *dpred, const float *pred, const float *target, int64_t N, int64_t C,
                                     float dloss, float *scratch)
{
    ref_ln_rows(scratch, target, N, C);
    double loss = 0.0, scale = (double)dloss / ((double)N * (double)C);
    for (int64_t i = 0; i < N * C; i++) {
        double d = (double)pred[i] - scratch[i];
        loss += d * d;
        if (dpred)
            dpred[i] += (float)(scale * 2.0 * d);
    }
    return loss / ((double)N * (double)C);
}

float vn_ref_bce_logits_loss(float *dlogits, const float *logits, const float *targets, int64_t N, float dloss)
{
    return (float)vn_ref_bce_logits_loss_f64(dlogits, logits, targets, N, dloss);
}

float vn_ref_softmax_ce_loss(float *dlogits, const float *logits, const int32_t *labels, int64_t N, int64_t K,
                             float dloss)
{
    return (float)vn_ref_softmax_ce_loss_f64(dlogits, logits, labels, N, K, dloss);
}

float vn_ref_infonce_loss(float *dq, float *dk, const float *q, const float *k, const int32_t *pos, int64_t N,
                          int64_t M, int64_t D, float tau, float dloss, float *scratch)
{
    return (float)vn_ref_infonce_loss_f64(dq, dk, q, k, pos, N, M, D, tau, dloss, scratch);
}

float vn_ref_l1_ln_target_loss(float *dpred, const float *pred, const float *target, int64_t N, int64_t C,
                               float dloss, float *scratch)
{
    return (float)vn_ref_l1_ln_target_loss_f64(dpred, pred, target, N, C, dloss, scratch);
}

float vn_ref_mse_ln_target_loss(float *dpred, const float *pred, const float *target, int64_t N, int64_t C,
                                float dloss, float *scratch)
{
    return (float)vn_ref_mse_ln_target_loss_f64(dpred, pred, target, N, C, dloss, scratch);
}
