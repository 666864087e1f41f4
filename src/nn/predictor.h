/*
 * predictor.h: the JEPA predictor, as V-JEPA's: a narrow transformer that reads the
 * context encoder's tokens and predicts the target encoder's tokens at masked positions.
 *
 *   ctx [N, Kc, D] -> predictor_embed (D -> Dp) + sincos(ctx_pos)      context rows
 *   mask_token [Dp] + sincos(tgt_pos)                                   target queries
 *   [context ; targets] per clip [N, Kc+Kt, Dp] -> depth pre-norm blocks (joint
 *   attention, the encoder's block stack) -> predictor_norm -> target rows ->
 *   predictor_proj (Dp -> D) -> pred [N, Kt, D]
 *
 * sincos is the fixed 3-D table (vn_sincos3d_table) over the encoder's F x Lh x Lw token
 * grid, Dp wide; a position is f*Lh*Lw + h*Lw + w. Parameters live in one flat arena
 * (PyTorch layouts, Linear weight [out, in]); gradients in a caller's arena of the same
 * layout. The model is read-only after create; acts are per thread.
 */
#ifndef VN_NN_PREDICTOR_H
#define VN_NN_PREDICTOR_H

#include <stdint.h>

#include "nn/ops.h"

typedef struct vn_predictor_config {
    int64_t in_dim;            /* D of the encoder tokens */
    int64_t dim, depth, heads; /* Dp, blocks, heads; dim % heads == 0 */
    float mlp_ratio;           /* hidden = round(dim * mlp_ratio) */
    int64_t F, Lh, Lw;         /* token grid positions are f*Lh*Lw + h*Lw + w */
    uint64_t seed;
    float init_std;
} vn_predictor_config;

typedef struct vn_predictor vn_predictor;
typedef struct vn_predictor_acts vn_predictor_acts;

/* nn is copied; its backend must outlive the predictor. */
vn_status vn_predictor_create(vn_predictor **out, const vn_nn *nn, const vn_predictor_config *cfg);
void vn_predictor_destroy(vn_predictor *p);

float *vn_predictor_params(vn_predictor *p, int64_t *n_floats);
/* The field holding the arena, for a checkpoint that stages it through host memory. */
float **vn_predictor_arena_slot(vn_predictor *p);
/* The GEMM precision the predictor's ops ask for. */
void vn_predictor_set_precision(vn_predictor *p, vn_gemm_precision g);
int vn_predictor_param_count(const vn_predictor *p);
/* name, shape (up to VN_MAX_DIMS), offset into the arena, and whether AdamW decays it
 * (weights of linear layers: 1; biases, norms, mask_token: 0). Any output may be NULL. */
vn_status vn_predictor_param_info(const vn_predictor *p, int i, const char **name, int *ndim, int64_t *shape,
                                  int64_t *offset, int *decays);

/* Activation memory for up to max_batch clips of up to max_ctx context and max_tgt
 * target tokens each. */
vn_status vn_predictor_acts_create(const vn_predictor *p, int64_t max_batch, int64_t max_ctx, int64_t max_tgt,
                                   vn_predictor_acts **out);
void vn_predictor_acts_destroy(vn_predictor_acts *a);

/* ctx [N, Kc, D]; ctx_pos [N, Kc] and tgt_pos [N, Kt] are token indices in
 * [0, F*Lh*Lw); pred [N, Kt, D]. Saves what the backward needs in a (ctx is copied). */
vn_status vn_predictor_forward(const vn_predictor *p, vn_predictor_acts *a, const float *ctx, const int32_t *ctx_pos,
                               int64_t Kc, const int32_t *tgt_pos, int64_t Kt, int64_t N, float *pred);
/* Backward of the last forward on a: ACCUMULATES parameter grads into grads (arena
 * layout) and, when d_ctx != NULL, dL/dctx into d_ctx [N, Kc, D]. */
vn_status vn_predictor_backward(const vn_predictor *p, vn_predictor_acts *a, const float *dpred, float *grads,
                                float *d_ctx);

#endif
