/*
 * encoder_train.h: the encoder's training interface inside the library, for the
 * trainer, the parity tests and the benchmarks.
 *
 * Parameters live in one flat float arena (llm.c style) in the order of
 * vn_encoder_param_info; gradients live in a second arena with the same layout, so
 * that AdamW and the global-norm clip run over one contiguous buffer. Activations for
 * a batch size live in a third arena, reused across steps.
 */
#ifndef VN_NN_ENCODER_TRAIN_H
#define VN_NN_ENCODER_TRAIN_H

#include "vnative/encoder.h"
#include "nn/ops.h"

typedef struct vn_encoder_acts vn_encoder_acts;

/* Activation memory for batches of up to max_batch clips. */
vn_status vn_encoder_acts_create(const vn_encoder *enc, int64_t max_batch, vn_encoder_acts **out);
void vn_encoder_acts_destroy(vn_encoder_acts *acts);

/* The flat parameter arena and its length; parameter i starts at vn_encoder_param_offset(i). */
float *vn_encoder_params(vn_encoder *enc, int64_t *n_floats);
int64_t vn_encoder_param_offset(const vn_encoder *enc, int index);
/* 1 when AdamW should decay parameter i (weights of linear and embedding layers), 0 for
 * biases, norms, positional embeddings and the pooling query. */
int vn_encoder_param_decays(const vn_encoder *enc, int index);

/* Forward a batch clips [N, C, T, H, W] (N <= max_batch), saving what the backward needs
 * in acts; writes the pooled embeddings [N, D] and, when tokens is not NULL, the final
 * token features [N, L, D]. */
vn_status vn_encoder_forward(const vn_encoder *enc, vn_encoder_acts *acts, const float *clips, int64_t N,
                             float *embeddings, float *tokens);

/* Backward from the gradient of the loss with respect to the embeddings [N, D] of the
 * last forward on acts; ACCUMULATES into grads (a buffer of n_floats, laid out as the
 * parameter arena). */
vn_status vn_encoder_backward(const vn_encoder *enc, vn_encoder_acts *acts, const float *d_embeddings,
                              float *grads);

/* ---- the masked forward of JEPA's context encoder (encoder_masked.c) ----------------- */

/* Grid of the main stack: F token frames (T/tubelet_t for video, T for the frames
 * families), Lh x Lw patch positions (S = Lh*Lw). */
void vn_encoder_token_grid(const vn_encoder *enc, int64_t *F, int64_t *Lh, int64_t *Lw);

/* Forward with only some patch positions visible. keep is [N, n_keep] spatial patch
 * indices in [0, S), strictly ascending per clip; the same positions are kept in every
 * frame (tube masks), so the token grid stays F x n_keep and divided attention still
 * works. keep == NULL means all S positions (n_keep must then be S).
 * Writes the main stack's final LayerNorm'd tokens [N, F*n_keep, D], in (f, kept
 * position) order, into tokens. For frames+temporal only the per-frame (main) stack
 * runs. A kept token's positional embedding is that of its true position; masked
 * patches never enter the computation. acts come from vn_encoder_acts_create and serve
 * both forwards (the masked one uses the front of each buffer). */
vn_status vn_encoder_forward_masked(const vn_encoder *enc, vn_encoder_acts *acts, const float *clips, int64_t N,
                                    const int32_t *keep, int64_t n_keep, float *tokens);

/* Backward of the last vn_encoder_forward_masked on acts from d_tokens [N, F*n_keep, D];
 * ACCUMULATES into grads (parameter-arena layout). */
vn_status vn_encoder_backward_tokens(const vn_encoder *enc, vn_encoder_acts *acts, const float *d_tokens,
                                     float *grads);

#endif
