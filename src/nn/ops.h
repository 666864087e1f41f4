/*
 * ops.h: the neural-engine ops, llm.c style.
 *
 * Every op is a pair of plain functions, forward and backward, over contiguous
 * row-major float32 buffers whose shapes are passed as integers. There is no graph
 * object: encoders call forwards in order and backwards in reverse, keeping what the
 * backwards need (inputs, saved statistics) in their activation arena.
 *
 * Conventions, shared by every op:
 *  - Shapes: B batch, T tokens (or frames), C channels, NH heads, HS = C / NH head size.
 *    Buffers are [B, T, C] unless the comment says otherwise.
 *  - Backward functions ACCUMULATE (+=) into every gradient buffer, inputs and
 *    parameters alike, so that residual branches and shared weights need no extra
 *    adds; the caller zeroes gradients once per step.
 *  - A gradient pointer may be NULL when that gradient is not needed (e.g. the input
 *    gradient of the first layer); the op then skips that work.
 *  - Ops run on a vn_nn: its backend does the GEMMs, its thread count the loops. With
 *    deterministic set, results are bit-identical across runs at a fixed thread count
 *    (fixed work partitioning, no atomics, reductions in a fixed order).
 *  - Every op has a plain-C reference twin (ops_ref.h, vn_ref_* names, double
 *    accumulation, single-threaded) that the fast path is tested against, and every
 *    backward is checked against central finite differences in float64.
 *  - Ops do not allocate in the hot path except through the scratch argument where one
 *    is declared, and return void: shapes are checked once, where a model is built. The
 *    backend can still fail at run time (oneDNN primitive creation, memory), so a failed
 *    GEMM is recorded on the calling thread and vn_nn_take_error() hands it over: callers
 *    that run a sequence of ops (the encoder's forward and backward) check it after.
 */
#ifndef VN_NN_OPS_H
#define VN_NN_OPS_H

#include <stdint.h>

#include "backend/backend.h"

struct vn_backend_nn;

typedef struct vn_nn {
    const vn_be *be;     /* GEMMs go through vn_be_gemm on this backend */
    int n_threads;
    int deterministic;
    /* Set by vn_nn_init on a device backend (NULL: buffers are host memory and the ops
     * run here): every op then goes to the backend's engine table (backend_nn.h). */
    const struct vn_backend_nn *dev;
    float *dev_scalars;  /* VN_NN_DEV_SCALARS floats of backend memory for device results */
    vn_gemm_precision precision; /* what the engine's GEMMs ask for (mixed precision) */
    struct vn_profile *prof;     /* the context's per-op timer (core/profile.h); NULL: none */
} vn_nn;

#define VN_NN_DEV_SCALARS 16

/* A vn_nn on be: on a device backend this takes the engine table and allocates the
 * device scalars; vn_nn_fini frees them. A zero-initialised vn_nn with be set is a valid
 * host vn_nn too (tests build them by hand). */
vn_status vn_nn_init(vn_nn *nn, const vn_be *be, int n_threads, int deterministic);
void vn_nn_fini(vn_nn *nn);

/* The first backend failure recorded on this thread since the last call (its message is
 * in vn_last_error()), or VN_OK; the record is cleared. */
vn_status vn_nn_take_error(void);
/* Record a failure for vn_nn_take_error (the first one since the last take wins). */
void vn_nn_record(vn_status s);

/* ---- buffers: backend memory on a device vn_nn, host memory otherwise ---------------
 * alloc returns NULL (and records VN_ERR_OUT_OF_MEMORY) on failure; upload and
 * download move host data in and out (memcpy on the host). upload_async may return
 * before the copy is done; the host buffer may be reused at once. */
float *vn_nn_alloc(const vn_nn *nn, int64_t n);
void vn_nn_free(const vn_nn *nn, void *p);
vn_status vn_nn_upload(const vn_nn *nn, void *dst, const void *src_host, size_t bytes);
vn_status vn_nn_upload_async(const vn_nn *nn, void *dst, const void *src_host, size_t bytes);
vn_status vn_nn_download(const vn_nn *nn, void *dst_host, const void *src, size_t bytes);

/* A host view of n floats of engine memory p: p itself on the host, otherwise a
 * malloc'ed copy (NULL, with the error set, on failure). vn_nn_host_release frees the
 * copy, first uploading it back into p when writeback is set. Serialisation uses these.
 * A failed view is recorded for vn_nn_take_error. */
float *vn_nn_host_view(const vn_nn *nn, const float *p, int64_t n);
vn_status vn_nn_host_release(const vn_nn *nn, float *view, float *p, int64_t n, int writeback);

void vn_nn_fill(const vn_nn *nn, float *x, int64_t n, float value);
void vn_nn_zero(const vn_nn *nn, float *x, int64_t n);
void vn_nn_copy(const vn_nn *nn, float *dst, const float *src, int64_t n);
/* dst[r, :] = src[idx[r], :]; scatter: dst[idx[r], :] += src[r, :] with distinct idx.
 * idx is backend memory like the floats. */
void vn_nn_gather_rows(const vn_nn *nn, float *dst, const float *src, const int32_t *idx, int64_t rows,
                       int64_t width);
void vn_nn_scatter_add_rows(const vn_nn *nn, float *dst, const float *src, const int32_t *idx, int64_t rows,
                            int64_t width);

/* db[OC] += column sums of dout[N, OC] (a linear layer's bias gradient) */
void vn_bias_grad(const vn_nn *nn, float *db, const float *dout, int64_t N, int64_t OC);

/* y = x / max(|x|, 1e-12) per row of [N, D], the norms saved in norm[N];
 * backward: dx += (dy - y (y . dy)) / norm. */
void vn_l2norm_forward(const vn_nn *nn, float *y, float *norm, const float *x, int64_t N, int64_t D);
void vn_l2norm_backward(const vn_nn *nn, float *dx, const float *dy, const float *y, const float *norm, int64_t N,
                        int64_t D);

/* t = m * t + (1 - m) * o elementwise (an EMA of weights) */
void vn_ema_update(const vn_nn *nn, float *t, const float *o, int64_t n, float m);

/* Issue a GEMM for an op, recording a failure for vn_nn_take_error(). */
void vn_nn_gemm(const vn_nn *nn, const vn_gemm_desc *d, const float *a, const float *b, const float *bias,
                float *c);

/* ---- linear: out[N, OC] = inp[N, IC] @ W^T + b, W is [OC, IC] (PyTorch layout) ---- */
void vn_linear_forward(const vn_nn *nn, float *out, const float *inp, const float *w, const float *b, int64_t N,
                       int64_t IC, int64_t OC);
void vn_linear_backward(const vn_nn *nn, float *dinp, float *dw, float *db, const float *dout, const float *inp,
                        const float *w, int64_t N, int64_t IC, int64_t OC);

/* h = inp @ W^T + b and g = GELU(h) (the MLP's first layer; h is what GELU's backward
 * needs). One GEMM with a GELU epilogue where the backend fuses it, else two ops. */
void vn_linear_gelu_forward(const vn_nn *nn, float *h, float *g, const float *inp, const float *w, const float *b,
                            int64_t N, int64_t IC, int64_t OC);

/* ---- layernorm over the last dim C, eps 1e-5; mean and rstd [N] are saved ---------- */
void vn_layernorm_forward(const vn_nn *nn, float *out, float *mean, float *rstd, const float *inp, const float *w,
                          const float *b, int64_t N, int64_t C);
void vn_layernorm_backward(const vn_nn *nn, float *dinp, float *dw, float *db, const float *dout, const float *inp,
                           const float *w, const float *mean, const float *rstd, int64_t N, int64_t C);

/* ---- GELU, tanh approximation (PyTorch approximate='tanh') ------------------------- */
void vn_gelu_forward(const vn_nn *nn, float *out, const float *inp, int64_t n);
void vn_gelu_backward(const vn_nn *nn, float *dinp, const float *inp, const float *dout, int64_t n);

/* ---- softmax over the last dim C, rows [N, C] ------------------------------------- */
void vn_softmax_forward(const vn_nn *nn, float *out, const float *inp, int64_t N, int64_t C);
void vn_softmax_backward(const vn_nn *nn, float *dinp, const float *out, const float *dout, int64_t N, int64_t C);

/* ---- residual: out = a + b; backward adds dout to both ---------------------------- */
void vn_residual_forward(const vn_nn *nn, float *out, const float *a, const float *b, int64_t n);
void vn_residual_backward(const vn_nn *nn, float *da, float *db, const float *dout, int64_t n);

/* ---- mean pooling over tokens: out[B, C] = mean_t inp[B, T, C] -------------------- */
void vn_meanpool_forward(const vn_nn *nn, float *out, const float *inp, int64_t B, int64_t T, int64_t C);
void vn_meanpool_backward(const vn_nn *nn, float *dinp, const float *dout, int64_t B, int64_t T, int64_t C);

/* ---- losses: return the mean loss over the batch and write dlogits (+=) scaled by
 *      dloss (the upstream gradient of the mean loss, usually 1 or an objective weight) */

/* Binary cross-entropy with logits: logits[N], targets[N] in {0, 1} (or soft in [0, 1]). */
float vn_bce_logits_loss(const vn_nn *nn, float *dlogits, const float *logits, const float *targets, int64_t N,
                         float dloss);
/* Softmax cross-entropy: logits [N, K], labels[N] in [0, K). */
float vn_softmax_ce_loss(const vn_nn *nn, float *dlogits, const float *logits, const int32_t *labels, int64_t N,
                         int64_t K, float dloss);
/* InfoNCE with temperature tau: queries q[N, D] against keys k[M, D] (already normalised
 * by the caller if cosine similarity is wanted); the positive of query i is key pos[i].
 * scratch holds N * M floats. dq and dk may be NULL. */
float vn_infonce_loss(const vn_nn *nn, float *dq, float *dk, const float *q, const float *k, const int32_t *pos,
                      int64_t N, int64_t M, int64_t D, float tau, float dloss, float *scratch);
/* L1 or MSE between pred[N, C] and LayerNorm(target) (no affine, eps 1e-5), as V-JEPA
 * regresses normalised target features; the target gets no gradient. scratch: N * C. */
float vn_l1_ln_target_loss(const vn_nn *nn, float *dpred, const float *pred, const float *target, int64_t N,
                           int64_t C, float dloss, float *scratch);
float vn_mse_ln_target_loss(const vn_nn *nn, float *dpred, const float *pred, const float *target, int64_t N,
                            int64_t C, float dloss, float *scratch);

/* ---- multi-head self-attention core (after the qkv linear, before the projection) ---
 * qkv is [B, T, 3C] laid out as (q | k | v) per token, heads contiguous within each;
 * out is [B, T, C]. Joint attention attends over all T tokens. Divided attention
 * (TimeSformer) is the same core applied to regrouped sequences: see
 * vn_attention_group for the temporal/spatial regrouping of a [B, F*S, 3C] buffer.
 * The fused kernel never materialises a full [T, T] score matrix per head: it streams
 * key blocks with an online softmax and saves only the row log-sum-exp (lse [B, NH, T])
 * for the backward. scratch: vn_attention_scratch_floats(...) floats. */
int64_t vn_attention_scratch_floats(int64_t B, int64_t T, int64_t C, int64_t NH, int n_threads);
void vn_attention_forward(const vn_nn *nn, float *out, float *lse, const float *qkv, int64_t B, int64_t T, int64_t C,
                          int64_t NH, float *scratch);
void vn_attention_backward(const vn_nn *nn, float *dqkv, const float *dout, const float *qkv, const float *out,
                           const float *lse, int64_t B, int64_t T, int64_t C, int64_t NH, float *scratch);

/* Divided space-time attention regroups tokens of F frames x S patches: temporal
 * attention attends along F for each patch position, spatial along S within each frame.
 * Gather copies [B, F*S, W] into [B*S, F, W] (temporal) or leaves it as [B*F, S, W]
 * (spatial, already contiguous); scatter is the inverse (accumulating for gradients). */
void vn_attention_group_temporal(const vn_nn *nn, float *dst, const float *src, int64_t B, int64_t F, int64_t S,
                                 int64_t W);
void vn_attention_ungroup_temporal(const vn_nn *nn, float *dst, const float *src, int64_t B, int64_t F, int64_t S,
                                   int64_t W, int accumulate);

/* Divided attention's temporal half in one op: qkv [B, F, S, 3C] (token (b, f, s) at
 * row (b F + f) S + s) attends along F for each (b, s); out [B, F, S, C] in the same
 * layout, lse [B S, NH, F]. The same as group_temporal, forward, ungroup_temporal. The
 * host reads short sequences in place (vn_attention_temporal_in_place); otherwise it
 * regroups through qkvg [B S F, 3C] and outg [B S F, C], which may be NULL when in
 * place, and which the backward reads: pass it the forward's. */
int vn_attention_temporal_in_place(const vn_nn *nn, int64_t F, int64_t C, int64_t NH);
void vn_attention_forward_temporal(const vn_nn *nn, float *out, float *lse, const float *qkv, int64_t B, int64_t F,
                                   int64_t S, int64_t C, int64_t NH, float *qkvg, float *outg, float *scratch);
/* Its backward, storing dqkv [B, F, S, 3C] (overwritten, as vn_attention_backward_set);
 * doutg [B S F, C] and dqkvg [B S F, 3C] are regrouping buffers like qkvg. */
void vn_attention_backward_temporal_set(const vn_nn *nn, float *dqkv, const float *dout, const float *qkv,
                                        const float *out, const float *lse, int64_t B, int64_t F, int64_t S, int64_t C,
                                        int64_t NH, const float *qkvg, const float *outg, float *dqkvg, float *doutg,
                                        float *scratch);

/* Inference-only multi-head attention on AMX with bf16 operands (the bf16 precision
 * mode's encode; ops_attention_amx.c says how it rounds). qkv is bf16 (uint16 bits)
 * [B, T, 3C] laid out like the fp32 qkv; out is bf16 [B, T, C]. No lse. Host buffers only.
 * Supported: 1 if AMX is usable here (cpuid, the kernel's tile permission, and oneDNN not
 * capped below avx512_core_amx) and HS is a multiple of 32 up to 256 and 1 <= T <= 4096;
 * else 0 and *why (if why != NULL) says why. The forward does nothing where it is 0.
 * scratch: vn_attention_bf16_scratch_bytes(T, HS, n_threads) bytes, n_threads at least
 * nn->n_threads (0 for an unsupported shape). */
int vn_attention_bf16_supported(int64_t T, int64_t HS, const char **why);
int64_t vn_attention_bf16_scratch_bytes(int64_t T, int64_t HS, int n_threads);
void vn_attention_forward_bf16(const vn_nn *nn, uint16_t *out, const uint16_t *qkv, int64_t B, int64_t T, int64_t C,
                               int64_t NH, void *scratch);

/* ---- tubelet / patch embedding: a Conv3d with kernel = stride = (tt, p, p) --------
 * inp is a clip batch [B, Ch, Fr, H, W] (NCTHW); out is [B, L, C] with
 * L = (Fr/tt) * (H/p) * (W/p) tokens in (t, h, w) order; w is [C, Ch*tt*p*p] in
 * PyTorch's Conv3d weight order (c_out, c_in, kt, kh, kw), b is [C].
 * scratch: B * L * Ch*tt*p*p floats (the unfolded patches, kept for the backward). */
void vn_tubelet_forward(const vn_nn *nn, float *out, float *patches, const float *inp, const float *w,
                        const float *b, int64_t B, int64_t Ch, int64_t Fr, int64_t H, int64_t W, int64_t tt,
                        int64_t p, int64_t C);
void vn_tubelet_backward(const vn_nn *nn, float *dw, float *db, const float *dout, const float *patches,
                         const float *w, int64_t B, int64_t L, int64_t K, int64_t C);

/* ---- positional embeddings -------------------------------------------------------
 * Learned: out[B, L, C] = inp + pos[L, C]; backward accumulates dpos.
 * 3-D sin-cos: fills table[L, C] for a (Lt, Lh, Lw) grid, C split over the three axes
 * as in V-JEPA (fixed, no gradient). */
void vn_posembed_forward(const vn_nn *nn, float *out, const float *inp, const float *pos, int64_t B, int64_t L,
                         int64_t C);
void vn_posembed_backward(const vn_nn *nn, float *dinp, float *dpos, const float *dout, int64_t B, int64_t L,
                          int64_t C);
void vn_sincos3d_table(float *table, int64_t Lt, int64_t Lh, int64_t Lw, int64_t C);

/* The tubelet unfold restricted to kept positions: row (n, f, k) holds the tubelet of
 * spatial position keep[n * nk + k] over frames f*tt .. f*tt+tt-1 (all positions, in
 * order, when keep is NULL and nk = (H/p)*(W/p)); columns as in vn_tubelet_forward. */
void vn_unfold(const vn_nn *nn, float *patches, const float *clips, const int32_t *keep, int64_t nk, int64_t B,
               int64_t Ch, int64_t Fr, int64_t H, int64_t W, int64_t tt, int64_t p);
/* out[r] = inp[r] + pos[pos_idx[r]] over rows [0, rows) of width C (out may alias inp);
 * backward: dinp[r] += dout[r], dpos[pos_idx[r]] += dout[r] (either may be NULL). */
void vn_pos_add_rows(const vn_nn *nn, float *out, const float *inp, const float *pos, const int32_t *pos_idx,
                     int64_t rows, int64_t L, int64_t C);
void vn_pos_add_rows_backward(const vn_nn *nn, float *dinp, float *dpos, const float *dout, const int32_t *pos_idx,
                              int64_t rows, int64_t L, int64_t C);

/* ---- attentive pooling: one learned query attends over tokens (single head) --------
 * out[B, C] = softmax(q . k_t / sqrt(C)) v_t with k_t = v_t = inp[b, t]. attn [B, T]
 * is saved for the backward. */
void vn_attnpool_forward(const vn_nn *nn, float *out, float *attn, const float *inp, const float *query, int64_t B,
                         int64_t T, int64_t C);
void vn_attnpool_backward(const vn_nn *nn, float *dinp, float *dquery, const float *dout, const float *inp,
                          const float *query, const float *attn, int64_t B, int64_t T, int64_t C);

/* ---- fused and overwriting variants (the encoder block's fast path) ----------------
 * Each gives bit for bit what the sequence of plain ops in its comment gives (so a
 * device, which runs that sequence through its engine table, and the host agree), but
 * the host does it in fewer passes over memory: no zeroing of a buffer that is then
 * accumulated into, and bias gradients summed in a pass that already reads the rows.
 * "Overwritten" outputs need not be initialised. */

/* vn_linear_backward with dinp overwritten instead of accumulated: its GEMM writes with
 * beta 0 on every path, so it replaces "zero dinp, then vn_linear_backward" (up to the
 * GEMM's own rounding, the same on host and device). */
void vn_linear_backward_set(const vn_nn *nn, float *dinp, float *dw, float *db, const float *dout, const float *inp,
                            const float *w, int64_t N, int64_t IC, int64_t OC);

/* GELU's backward with the bias gradient of the layer before it folded in: dinp[N, OC] =
 * GELU'(h) * dout, overwritten, then db += column sums of dinp (db may be NULL); as
 * vn_nn_zero(dinp), vn_gelu_backward, vn_bias_grad(db, dinp). The host writes dinp over
 * dout, which it no longer needs (the lines are in cache already); a device writes the
 * separate buffer dh. Returns the buffer that holds dinp: dout or dh. */
float *vn_gelu_backward_bias(const vn_nn *nn, float *dh, float *dout, float *db, const float *h, int64_t N,
                             int64_t OC);

/* The training pair of vn_linear_gelu_forward: on the host, hg receives GELU'(h)
 * instead of h (the backward's only use of h), computed in the same pass as GELU(h);
 * on a device hg is h, as vn_linear_gelu_forward leaves it. vn_gelu_backward_saved
 * is vn_gelu_backward_bias taking what vn_linear_gelu_forward_train saved: on the
 * host a multiply, with no GELU to recompute. Both must run on the same vn_nn. */
void vn_linear_gelu_forward_train(const vn_nn *nn, float *hg, float *g, const float *inp, const float *w,
                                  const float *b, int64_t N, int64_t IC, int64_t OC);
float *vn_gelu_backward_saved(const vn_nn *nn, float *dh, float *dout, float *db, const float *hg, int64_t N,
                              int64_t OC);

/* vn_layernorm_backward, then dnext += column sums of the updated dinp (the bias gradient
 * of the linear layer that dinp is the output gradient of; dnext may be NULL):
 * vn_layernorm_backward, vn_bias_grad(dnext, dinp). */
void vn_layernorm_backward_bias(const vn_nn *nn, float *dinp, float *dw, float *db, const float *dout,
                                const float *inp, const float *w, const float *mean, const float *rstd, int64_t N,
                                int64_t C, float *dnext);

/* out = a + b, then ln = LayerNorm(out) with mean and rstd saved (the pre-norm block's
 * residual and the next norm): vn_residual_forward, vn_layernorm_forward. */
void vn_residual_layernorm_forward(const vn_nn *nn, float *out, float *ln, float *mean, float *rstd, const float *a,
                                   const float *b, const float *w, const float *bias, int64_t N, int64_t C);

/* vn_attention_backward into a dqkv it overwrites: vn_nn_zero(dqkv),
 * vn_attention_backward. */
void vn_attention_backward_set(const vn_nn *nn, float *dqkv, const float *dout, const float *qkv, const float *out,
                               const float *lse, int64_t B, int64_t T, int64_t C, int64_t NH, float *scratch);

#endif
