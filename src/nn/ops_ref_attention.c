/*
 * ops_ref_attention.c: plain-C reference twins of the attention, embedding and
 * pooling ops (ops_attention.c, ops_embed.c). Straightforward loops in double, the
 * attention with its full score matrix, so that they read like the formulas.
 */
#include <math.h>
#include <string.h>

#include "nn/ops_ref.h"

int64_t vn_ref_attention_scratch_floats(int64_t T)
{
    return 2 * T * T;
}

/* P = softmax(q k^T / sqrt(HS)) of one (b, h) pair into p [T, T], and each row's
 * log-sum-exp of the scaled scores into lse [T] when lse is not NULL. */
static void ref_probs(double *p, float *lse, const float *qkv, int64_t b, int64_t h, int64_t T, int64_t C,
                      int64_t HS)
{
    const float *base = qkv + b * T * 3 * C;
    double scale = 1.0 / sqrt((double)HS);
    for (int64_t i = 0; i < T; i++) {
        const float *q = base + i * 3 * C + h * HS;
        double *pi = p + i * T, mx = -INFINITY, sum = 0.0;
        for (int64_t j = 0; j < T; j++) {
            const float *k = base + j * 3 * C + C + h * HS;
            double s = 0.0;
            for (int64_t d = 0; d < HS; d++)
                s += (double)q[d] * k[d];
            pi[j] = s * scale;
            mx = pi[j] > mx ? pi[j] : mx;
        }
        for (int64_t j = 0; j < T; j++)
            sum += (pi[j] = exp(pi[j] - mx));
        for (int64_t j = 0; j < T; j++)
            pi[j] /= sum;
        if (lse)
            lse[i] = (float)(mx + log(sum));
    }
}

void vn_ref_attention_forward(float *out, float *lse, const float *qkv, int64_t B, int64_t T, int64_t C, int64_t NH,
                              double *scratch)
{
    int64_t HS = C / NH;
    for (int64_t b = 0; b < B; b++)
        for (int64_t h = 0; h < NH; h++) {
            const float *v = qkv + b * T * 3 * C + 2 * C + h * HS;
            ref_probs(scratch, lse ? lse + (b * NH + h) * T : NULL, qkv, b, h, T, C, HS);
            for (int64_t i = 0; i < T; i++)
                for (int64_t d = 0; d < HS; d++) {
                    double o = 0.0;
                    for (int64_t j = 0; j < T; j++)
                        o += scratch[i * T + j] * v[j * 3 * C + d];
                    out[(b * T + i) * C + h * HS + d] = (float)o;
                }
        }
}

void vn_ref_attention_backward(float *dqkv, const float *dout, const float *qkv, int64_t B, int64_t T, int64_t C,
                               int64_t NH, double *scratch)
{
    if (!dqkv)
        return;
    int64_t HS = C / NH;
    double scale = 1.0 / sqrt((double)HS);
    double *p = scratch, *ds = scratch + T * T;
    for (int64_t b = 0; b < B; b++)
        for (int64_t h = 0; h < NH; h++) {
            const float *base = qkv + b * T * 3 * C;
            float *dbase = dqkv + b * T * 3 * C;
            ref_probs(p, NULL, qkv, b, h, T, C, HS);
            /* dP_ij = dout_i . v_j; dS_ij = P_ij (dP_ij - sum_k P_ik dP_ik) */
            for (int64_t i = 0; i < T; i++) {
                const float *go = dout + (b * T + i) * C + h * HS;
                double rowsum = 0.0;
                for (int64_t j = 0; j < T; j++) {
                    const float *v = base + j * 3 * C + 2 * C + h * HS;
                    double dp = 0.0;
                    for (int64_t d = 0; d < HS; d++)
                        dp += (double)go[d] * v[d];
                    ds[i * T + j] = dp;
                    rowsum += p[i * T + j] * dp;
                }
                for (int64_t j = 0; j < T; j++)
                    ds[i * T + j] = p[i * T + j] * (ds[i * T + j] - rowsum);
            }
            for (int64_t i = 0; i < T; i++)
                for (int64_t d = 0; d < HS; d++) {
                    double gq = 0.0, gk = 0.0, gv = 0.0;
                    for (int64_t j = 0; j < T; j++) {
                        gq += ds[i * T + j] * base[j * 3 * C + C + h * HS + d];
                        gk += ds[j * T + i] * base[j * 3 * C + h * HS + d];
                        gv += p[j * T + i] * dout[(b * T + j) * C + h * HS + d];
                    }
                    dbase[i * 3 * C + h * HS + d] += (float)(gq * scale);
                    dbase[i * 3 * C + C + h * HS + d] += (float)(gk * scale);
                    dbase[i * 3 * C + 2 * C + h * HS + d] += (float)gv;
                }
        }
}

void vn_ref_attention_group_temporal(float *dst, const float *src, int64_t B, int64_t F, int64_t S, int64_t W)
{
    for (int64_t b = 0; b < B; b++)
        for (int64_t s = 0; s < S; s++)
            for (int64_t f = 0; f < F; f++)
                for (int64_t i = 0; i < W; i++)
                    dst[((b * S + s) * F + f) * W + i] = src[((b * F + f) * S + s) * W + i];
}

void vn_ref_attention_ungroup_temporal(float *dst, const float *src, int64_t B, int64_t F, int64_t S, int64_t W,
                                       int accumulate)
{
    for (int64_t b = 0; b < B; b++)
        for (int64_t s = 0; s < S; s++)
            for (int64_t f = 0; f < F; f++)
                for (int64_t i = 0; i < W; i++) {
                    float *d = dst + ((b * F + f) * S + s) * W + i;
                    float x = src[((b * S + s) * F + f) * W + i];
                    *d = accumulate ? *d + x : x;
                }
}

void vn_ref_tubelet_unfold(float *patches, const float *inp, int64_t B, int64_t Ch, int64_t Fr, int64_t H, int64_t W,
                           int64_t tt, int64_t p)
{
    int64_t Lt = Fr / tt, Lh = H / p, Lw = W / p, K = Ch * tt * p * p;
    for (int64_t b = 0; b < B; b++)
        for (int64_t lt = 0; lt < Lt; lt++)
            for (int64_t lh = 0; lh < Lh; lh++)
                for (int64_t lw = 0; lw < Lw; lw++) {
                    float *row = patches + (((b * Lt + lt) * Lh + lh) * Lw + lw) * K;
                    for (int64_t c = 0; c < Ch; c++)
                        for (int64_t kt = 0; kt < tt; kt++)
                            for (int64_t kh = 0; kh < p; kh++)
                                for (int64_t kw = 0; kw < p; kw++)
                                    row[((c * tt + kt) * p + kh) * p + kw] =
                                        inp[(((b * Ch + c) * Fr + lt * tt + kt) * H + lh * p + kh) * W + lw * p + kw];
                }
}

void vn_ref_tubelet_forward(float *out, float *patches, const float *inp, const float *w, const float *b, int64_t B,
                            int64_t Ch, int64_t Fr, int64_t H, int64_t W, int64_t tt, int64_t p, int64_t C)
{
    int64_t L = (Fr / tt) * (H / p) * (W / p), K = Ch * tt * p * p;
    vn_ref_tubelet_unfold(patches, inp, B, Ch, Fr, H, W, tt, p);
    for (int64_t r = 0; r < B * L; r++)
        for (int64_t c = 0; c < C; c++) {
            double acc = b ? b[c] : 0.0;
            for (int64_t k = 0; k < K; k++)
                acc += (double)patches[r * K + k] * w[c * K + k];
            out[r * C + c] = (float)acc;
        }
}

void vn_ref_tubelet_backward(float *dw, float *db, const float *dout, const float *patches, int64_t B, int64_t L,
                             int64_t K, int64_t C)
{
    for (int64_t c = 0; c < C; c++) {
        if (db) {
            double acc = 0.0;
            for (int64_t r = 0; r < B * L; r++)
                acc += dout[r * C + c];
            db[c] += (float)acc;
        }
        if (dw)
            for (int64_t k = 0; k < K; k++) {
                double acc = 0.0;
                for (int64_t r = 0; r < B * L; r++)
                    acc += (double)dout[r * C + c] * patches[r * K + k];
                dw[c * K + k] += (float)acc;
            }
    }
}

void vn_ref_posembed_forward(float *out, const float *inp, const float *pos, int64_t B, int64_t L, int64_t C)
{
    for (int64_t b = 0; b < B; b++)
        for (int64_t i = 0; i < L * C; i++)
            out[b * L * C + i] = (float)((double)inp[b * L * C + i] + pos[i]);
}

void vn_ref_posembed_backward(float *dinp, float *dpos, const float *dout, int64_t B, int64_t L, int64_t C)
{
    if (dinp)
        for (int64_t i = 0; i < B * L * C; i++)
            dinp[i] += dout[i];
    if (dpos)
        for (int64_t i = 0; i < L * C; i++) {
            double acc = 0.0;
            for (int64_t b = 0; b < B; b++)
                acc += dout[b * L * C + i];
            dpos[i] += (float)acc;
        }
}

void vn_ref_attnpool_forward(float *out, float *attn, const float *inp, const float *query, int64_t B, int64_t T,
                             int64_t C, double *s)
{
    double scale = 1.0 / sqrt((double)C);
    for (int64_t b = 0; b < B; b++) {
        const float *x = inp + b * T * C;
        double mx = -INFINITY, sum = 0.0;
        for (int64_t t = 0; t < T; t++) {
            double acc = 0.0;
            for (int64_t c = 0; c < C; c++)
                acc += (double)query[c] * x[t * C + c];
            s[t] = acc * scale;
            mx = s[t] > mx ? s[t] : mx;
        }
        for (int64_t t = 0; t < T; t++)
            sum += (s[t] = exp(s[t] - mx));
        for (int64_t t = 0; t < T; t++) {
            s[t] /= sum;
            if (attn)
                attn[b * T + t] = (float)s[t];
        }
        for (int64_t c = 0; c < C; c++) {
            double acc = 0.0;
            for (int64_t t = 0; t < T; t++)
                acc += s[t] * x[t * C + c];
            out[b * C + c] = (float)acc;
        }
    }
}

void vn_ref_attnpool_backward(float *dinp, float *dquery, const float *dout, const float *inp, const float *query,
                              const float *attn, int64_t B, int64_t T, int64_t C, double *ds)
{
    double scale = 1.0 / sqrt((double)C);
    for (int64_t b = 0; b < B; b++) {
        const float *x = inp + b * T * C, *g = dout + b * C, *a = attn + b * T;
        double dot = 0.0;
        for (int64_t t = 0; t < T; t++) {
            double da = 0.0;
            for (int64_t c = 0; c < C; c++)
                da += (double)g[c] * x[t * C + c];
            ds[t] = da;
            dot += a[t] * da;
        }
        for (int64_t t = 0; t < T; t++)
            ds[t] = a[t] * (ds[t] - dot) * scale;
        for (int64_t t = 0; t < T; t++)
            for (int64_t c = 0; c < C; c++) {
                if (dinp)
                    dinp[(b * T + t) * C + c] += (float)((double)a[t] * g[c] + ds[t] * query[c]);
            }
        if (dquery)
            for (int64_t c = 0; c < C; c++) {
                double acc = 0.0;
                for (int64_t t = 0; t < T; t++)
                    acc += ds[t] * x[t * C + c];
                dquery[c] += (float)acc;
            }
    }
}
