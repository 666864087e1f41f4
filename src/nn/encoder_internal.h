/*
 * encoder_internal.h: what the encoder's files share: the parameter table and the
 * layout of one transformer block inside the flat parameter arena.
 */
#ifndef VN_NN_ENCODER_INTERNAL_H
#define VN_NN_ENCODER_INTERNAL_H

#include "core/context_internal.h"
#include "nn/encoder_train.h"

#include <pthread.h>

#define VN_ENC_NAME_MAX 64

typedef enum vn_enc_init { VN_ENC_INIT_TRUNC_NORMAL, VN_ENC_INIT_ZERO, VN_ENC_INIT_ONE } vn_enc_init;

typedef struct vn_enc_param {
    char name[VN_ENC_NAME_MAX];
    int ndim;
    int64_t shape[VN_MAX_DIMS];
    int64_t offset, numel;
    int decays;
    vn_enc_init init;
} vn_enc_param;

/* Offsets into the parameter arena of one block's tensors; the t* fields are -1 unless
 * the block uses divided attention. */
typedef struct vn_enc_block {
    int64_t tnorm_w, tnorm_b, tqkv_w, tqkv_b, tproj_w, tproj_b;
    int64_t norm1_w, norm1_b, qkv_w, qkv_b, proj_w, proj_b;
    int64_t norm2_w, norm2_b, fc1_w, fc1_b, fc2_w, fc2_b;
} vn_enc_block;

#define VN_ENC_POOL_CAP 4

struct vn_encoder {
    vn_context *ctx;
    vn_encoder_config cfg;
    vn_nn nn;
    int64_t D, hidden, S, F, Lh, Lw; /* S patches per frame, F token frames (T/tt or T) */
    int64_t tt;                      /* 1 for the frames families */
    vn_enc_param *params;
    int n_params, cap_params;
    float *arena;
    int64_t n_floats;
    float *pos_fixed;                /* the sin-cos table [F*S or S, D], or NULL */
    /* offsets, -1 when absent */
    int64_t patch_w, patch_b, pos, norm_w, norm_b, pool_q;
    int64_t tpos, tnorm_w, tnorm_b;
    vn_enc_block *blocks, *tblocks;
    /* Forward-only activation arenas kept between vn_encoder_encode calls: allocating and
     * faulting in a fresh arena per call cost about half of an xs encode. Mutable state of
     * an otherwise read-only model, so it has its own lock. */
    pthread_mutex_t pool_lock;
    vn_encoder_acts *pool[VN_ENC_POOL_CAP];
    int n_pool;
};

/* Build the parameter table and initialise the arena from cfg (already validated). */
vn_status vn_enc_build_params(vn_encoder *enc);
vn_status vn_enc_expect_f32(const char *fn, const char *what, const vn_tensor *t, int ndim, const int64_t *shape);
vn_status vn_enc_validate_config(const char *fn, const vn_encoder_config *cfg);

/* ---- a stack of transformer blocks over B sequences of T = F * S tokens ------------ */

/* What one block saves for its backward; the t_* buffers exist for divided attention. */
typedef struct vn_enc_block_acts {
    float *t_ln, *t_mean, *t_rstd, *t_qkv, *t_qkvg, *t_attg, *t_lse, *t_att, *x_t;
    float *ln1, *mean1, *rstd1, *qkv, *att, *lse, *x1;
    float *ln2, *mean2, *rstd2, *h, *g, *x2;
} vn_enc_block_acts;

typedef struct vn_enc_stack {
    const vn_enc_block *blocks;
    int depth, divided;
    int64_t B, F, S, T;           /* T = F * S; F, S only matter when divided */
    float *x0;                    /* input [B*T, D]; the output is blk[depth-1].x2 */
    vn_enc_block_acts *blk;
} vn_enc_stack;

/* Shared buffers of one forward/backward, sized for the largest stack. */
typedef struct vn_enc_work {
    float *tmp, *attn_scratch;
    float *dln, *dqkv, *dqkvg, *datt, *dattg, *dh, *dg;
} vn_enc_work;

/* Bump allocation over a float arena: a first pass with base NULL measures. */
typedef struct vn_enc_bump {
    float *base;
    int64_t used;
} vn_enc_bump;

static inline float *vn_enc_take(vn_enc_bump *a, int64_t n)
{
    float *p = a->base ? a->base + a->used : NULL;
    a->used += (n + 15) & ~(int64_t)15;
    return p;
}

void vn_enc_stack_layout(vn_enc_stack *s, vn_enc_bump *a, int64_t D, int64_t H, int64_t NH);
void vn_enc_stack_forward(const vn_encoder *enc, const vn_enc_stack *s, const vn_enc_work *w);
/* dx holds dL/d(output) on entry and dL/d(input) on return. */
void vn_enc_stack_backward(const vn_encoder *enc, const vn_enc_stack *s, const vn_enc_work *w, float *dx,
                           float *grads);

#endif
