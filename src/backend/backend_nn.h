/*
 * backend_nn.h: the engine ops of a device backend.
 *
 * The cpu and reference backends run the engine (src/nn) on host memory with the
 * host implementations in src/nn, so their tables leave `nn` NULL. A backend whose
 * memory the host cannot touch (cuda, and the tests' guarded stand-in) fills in this
 * table, and src/nn sends every op there instead: with it, a whole training step runs
 * on the device and the host only queues work, uploads batches and reads back the
 * few scalars it reports.
 *
 * Every entry mirrors an op of nn/ops.h (or optim.h) with the same shapes and the
 * same semantics, including "backward ACCUMULATES (+=) into every gradient" and
 * "a NULL gradient is skipped". Differences from the host ops:
 *  - every float and int32 pointer is backend memory (index arrays too);
 *  - entries return a status (launch failures, memory) instead of recording it;
 *  - losses write the mean loss into *loss (one float of backend memory) rather than
 *    returning it, so that no op has to wait for the device;
 *  - the optimizer's global norm stays on the device: sumsq accumulates into a
 *    double of backend memory and clip_scale reads it there.
 * Entries run in stream order and may return before the device is done.
 *
 * Preconditions the caller keeps (only the tests' stand-in checks them): index arrays
 * hold valid rows (gather's source rows exist, pos_idx[r] is in [0, L)), scatter's
 * destinations are distinct, and the only host pointer, adamw's scalars, is read
 * before the entry returns. Every entry multiplies in fp32: the mixed-precision
 * choice (vn_nn.precision) reaches the engine's GEMMs through the base table, not the
 * products inside a loss.
 */
#ifndef VN_BACKEND_NN_H
#define VN_BACKEND_NN_H

#include <stdint.h>

#include "vnative/context.h"

typedef struct vn_backend_state vn_backend_state;

/* The per-group scalars of one AdamW step, rounded to float exactly as torch does
 * (nn/optim.c computes them; see vn_adamw_step for the update). */
typedef struct vn_adamw_scalars {
    float decay;     /* 1 - lr * weight_decay */
    float w1;        /* 1 - beta1 (lerp weight) */
    float b2;        /* beta2 */
    float w2;        /* 1 - beta2 */
    float step_size; /* lr / (1 - beta1^step) */
    float bc2_sqrt;  /* sqrt(1 - beta2^step) */
    float eps;
} vn_adamw_scalars;

typedef struct vn_backend_nn {
    /* ---- memory -------------------------------------------------------------- */
    /* x[0..n) = value */
    vn_status (*fill)(vn_backend_state *st, float *x, int64_t n, float value);
    /* dst[0..n) = src[0..n); the ranges do not overlap */
    vn_status (*copy)(vn_backend_state *st, float *dst, const float *src, int64_t n);
    /* dst[r, 0..width) = src[idx[r], 0..width) for r in [0, rows) */
    vn_status (*gather_rows)(vn_backend_state *st, float *dst, const float *src, const int32_t *idx, int64_t rows,
                             int64_t width);
    /* dst[idx[r], 0..width) += src[r, 0..width); the idx[r] are distinct */
    vn_status (*scatter_add_rows)(vn_backend_state *st, float *dst, const float *src, const int32_t *idx,
                                  int64_t rows, int64_t width);

    /* ---- dense ----------------------------------------------------------------- */
    /* db[0..OC) += sum over n of dout[n, 0..OC): the bias gradient of a linear layer */
    vn_status (*bias_grad)(vn_backend_state *st, float *db, const float *dout, int64_t N, int64_t OC);
    /* w and b may be NULL (no affine), as in the host op */
    vn_status (*layernorm_forward)(vn_backend_state *st, float *out, float *mean, float *rstd, const float *inp,
                                   const float *w, const float *b, int64_t N, int64_t C);
    vn_status (*layernorm_backward)(vn_backend_state *st, float *dinp, float *dw, float *db, const float *dout,
                                    const float *inp, const float *w, const float *mean, const float *rstd, int64_t N,
                                    int64_t C);
    vn_status (*gelu_forward)(vn_backend_state *st, float *out, const float *inp, int64_t n);
    vn_status (*gelu_backward)(vn_backend_state *st, float *dinp, const float *inp, const float *dout, int64_t n);
    vn_status (*softmax_forward)(vn_backend_state *st, float *out, const float *inp, int64_t N, int64_t C);
    vn_status (*softmax_backward)(vn_backend_state *st, float *dinp, const float *out, const float *dout, int64_t N,
                                  int64_t C);
    /* residual: out = a + b is the base table's add; its backward is two axpys */
    vn_status (*meanpool_forward)(vn_backend_state *st, float *out, const float *inp, int64_t B, int64_t T,
                                  int64_t C);
    vn_status (*meanpool_backward)(vn_backend_state *st, float *dinp, const float *dout, int64_t B, int64_t T,
                                   int64_t C);
    /* y = x / max(|x|, 1e-12) per row, norm[N] saved; backward: dx += (dy - y (y . dy)) / norm */
    vn_status (*l2norm_forward)(vn_backend_state *st, float *y, float *norm, const float *x, int64_t N, int64_t D);
    vn_status (*l2norm_backward)(vn_backend_state *st, float *dx, const float *dy, const float *y, const float *norm,
                                 int64_t N, int64_t D);

    /* ---- embeddings -------------------------------------------------------------
     * unfold: the patches of a tubelet embedding (vn_tubelet_forward's scratch).
     * clips [B, Ch, Fr, H, W]; row r = (n, f, k) of patches holds the tubelet of
     * spatial position s = keep ? keep[n * nk + k] : k over frames f*tt .. f*tt+tt-1,
     * columns (ch, kt, kh, kw); nk is the number of positions per frame kept (all
     * (H/p)*(W/p) of them when keep is NULL). */
    vn_status (*unfold)(vn_backend_state *st, float *patches, const float *clips, const int32_t *keep, int64_t nk,
                        int64_t B, int64_t Ch, int64_t Fr, int64_t H, int64_t W, int64_t tt, int64_t p);
    /* out[r, :] = inp[r, :] + pos[row(r), :] for r in [0, rows), with
     * row(r) = pos_idx ? pos_idx[r] : r % L (vn_posembed_forward is pos_idx NULL,
     * rows = B * L). out may alias inp. */
    vn_status (*pos_add)(vn_backend_state *st, float *out, const float *inp, const float *pos, const int32_t *pos_idx,
                         int64_t rows, int64_t L, int64_t C);
    /* dpos[row(r), :] += dout[r, :] (dpos may be NULL); dinp[r, :] += dout[r, :] (may be NULL).
     * Several rows may share a pos row: the sum over them must not depend on timing. */
    vn_status (*pos_add_backward)(vn_backend_state *st, float *dinp, float *dpos, const float *dout,
                                  const int32_t *pos_idx, int64_t rows, int64_t L, int64_t C);

    /* ---- attention ---------------------------------------------------------------- */
    vn_status (*attention_forward)(vn_backend_state *st, float *out, float *lse, const float *qkv, int64_t B,
                                   int64_t T, int64_t C, int64_t NH);
    vn_status (*attention_backward)(vn_backend_state *st, float *dqkv, const float *dout, const float *qkv,
                                    const float *out, const float *lse, int64_t B, int64_t T, int64_t C, int64_t NH);
    vn_status (*group_temporal)(vn_backend_state *st, float *dst, const float *src, int64_t B, int64_t F, int64_t S,
                                int64_t W);
    vn_status (*ungroup_temporal)(vn_backend_state *st, float *dst, const float *src, int64_t B, int64_t F,
                                  int64_t S, int64_t W, int accumulate);
    vn_status (*attnpool_forward)(vn_backend_state *st, float *out, float *attn, const float *inp,
                                  const float *query, int64_t B, int64_t T, int64_t C);
    vn_status (*attnpool_backward)(vn_backend_state *st, float *dinp, float *dquery, const float *dout,
                                   const float *inp, const float *query, const float *attn, int64_t B, int64_t T,
                                   int64_t C);

    /* ---- losses: *loss = the mean loss; gradients += dloss * d(mean loss) ---------- */
    vn_status (*bce_logits)(vn_backend_state *st, float *loss, float *dlogits, const float *logits,
                            const float *targets, int64_t N, float dloss);
    vn_status (*softmax_ce)(vn_backend_state *st, float *loss, float *dlogits, const float *logits,
                            const int32_t *labels, int64_t N, int64_t K, float dloss);
    /* scratch: N * M floats of workspace, left unspecified on return */
    vn_status (*infonce)(vn_backend_state *st, float *loss, float *dq, float *dk, const float *q, const float *k,
                         const int32_t *pos, int64_t N, int64_t M, int64_t D, float tau, float dloss,
                         float *scratch);
    /* l1: 0, mse: 1; scratch: N * C floats */
    vn_status (*ln_target)(vn_backend_state *st, int mse, float *loss, float *dpred, const float *pred,
                           const float *target, int64_t N, int64_t C, float dloss, float *scratch);

    /* ---- optimizer -------------------------------------------------------------------- */
    vn_status (*adamw)(vn_backend_state *st, float *param, const float *grad, float *m, float *v, int64_t n,
                       const vn_adamw_scalars *sc);
    /* *acc += sum x^2, accumulated in double */
    vn_status (*sumsq)(vn_backend_state *st, double *acc, const float *x, int64_t n);
    /* with c = max_norm / (sqrt(*sumsq) + 1e-6): x *= (float)c when c < 1, else nothing */
    vn_status (*clip_scale)(vn_backend_state *st, float *x, int64_t n, const double *sumsq, double max_norm);
    /* t = m * t + (1 - m) * o (the JEPA target's EMA) */
    vn_status (*ema)(vn_backend_state *st, float *t, const float *o, int64_t n, float m);
} vn_backend_nn;

#endif
