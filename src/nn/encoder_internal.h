/*
 * encoder_internal.h: what the encoder's files share: the parameter table, the layout
 * of one transformer block inside the flat parameter arena, the block stack (which the
 * JEPA predictor reuses) and the activation arena.
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
    /* 1 for a trainer's encoder (vn_trainer_get_encoder hands it out): vn_encoder_destroy
     * refuses it, since vn_trainer_destroy frees it */
    int owned;
};

/* Build the parameter table and initialise the arena from cfg (already validated). */
vn_status vn_enc_build_params(vn_encoder *enc);
vn_status vn_enc_expect_f32(const char *fn, const char *what, const vn_tensor *t, int ndim, const int64_t *shape);
vn_status vn_enc_validate_config(const char *fn, const vn_encoder_config *cfg);
/* Initial values of p per p->init; truncated-normal ones (at +-2 std) come from the
 * stream of (seed, hash of stream_name), so a model whose names repeat the encoder's
 * (the predictor's blocks) passes a prefixed name to draw different values. */
void vn_enc_param_fill(const vn_enc_param *p, uint64_t seed, double init_std, const char *stream_name, float *x);

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
    int regroup;                  /* divided: temporal attention goes through regrouped copies
                                     (t_qkvg, t_attg; vn_attention_forward_temporal) */
} vn_enc_stack;

/* Shared buffers of one forward/backward, sized for the largest stack. */
typedef struct vn_enc_work {
    float *tmp, *attn_scratch;
    float *dln, *dqkv, *dqkvg, *datt, *dattg, *dh, *dg;
    /* the forward keeps GELU'(h) in the blocks' h for the backward, through
     * vn_linear_gelu_forward_train (ops.h); 0: h itself. Set per forward, for training
     * activations that have seen a backward (so that forward-only users of training
     * activations, such as JEPA's target encoder, skip the GELU' pass); the backward
     * reads it, and either way gives the same bits. */
    int gelu_grad;
    /* inference activations: at bf16 precision on the host the stacks keep their
     * activations bf16 (encoder_blocks_bf16.c); attn16_scratch is the AMX attention's,
     * NULL where that does not run */
    int bf16_act;
    void *attn16_scratch;
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

/* What a stack computes with: the block offsets of vn_enc_stack point into params. */
typedef struct vn_enc_net {
    const vn_nn *nn;
    const float *params;
    int64_t D, hidden, heads;
} vn_enc_net;

static inline vn_enc_net vn_enc_net_of(const vn_encoder *enc)
{
    return (vn_enc_net){&enc->nn, enc->arena, enc->D, enc->hidden, enc->cfg.heads};
}

/* Lays out buffers for s->B * s->T rows; a later call may use fewer rows (a smaller B,
 * or a smaller T and S for a masked forward), which use the front of each buffer. */
void vn_enc_stack_layout(vn_enc_stack *s, vn_enc_bump *a, int64_t D, int64_t H, int64_t NH);
void vn_enc_stack_forward(const vn_enc_net *net, const vn_enc_stack *s, const vn_enc_work *w);
/* Whether vn_enc_stack_forward takes the bf16-activation path, which it then runs. */
int vn_enc_stack_bf16_act(const vn_enc_net *net, const vn_enc_work *w);
void vn_enc_stack_forward_bf16(const vn_enc_net *net, const vn_enc_stack *s, const vn_enc_work *w);
/* dx holds dL/d(output) on entry and dL/d(input) on return. */
void vn_enc_stack_backward(const vn_enc_net *net, const vn_enc_stack *s, const vn_enc_work *w, float *dx,
                           float *grads);

/* ---- the activation arena (encoder.c; encoder_masked.c runs the masked forward on it) */

struct vn_encoder_acts {
    const vn_encoder *enc;
    int64_t max_batch, N; /* N of the last forward, 0 before the first */
    int train;            /* 0: encoding only, without the backward's buffers */
    int backward_seen;    /* a backward has run on these activations (see work.gelu_grad) */
    float *arena;
    vn_enc_block_acts *blk, *tblk;
    vn_enc_stack main, temporal;
    vn_enc_work work;
    float *patches, *tok, *fin, *fin_mean, *fin_rstd, *pooled, *pool_attn;
    float *tfin, *tfin_mean, *tfin_rstd, *emb;
    float *dx, *dfin, *dpooled, *dtx, *dtfin;
    /* the last forward: masked (1) or whole (0), and the kept positions [N, n_keep] */
    int masked;
    int64_t n_keep;
    int32_t *keep;          /* host: max_batch * S */
    int32_t *pos_idx_host;  /* host: the positional row of each token of the masked forward */
    int32_t *keep_dev;      /* engine memory: keep, and pos_idx [max_batch * F * S] */
    int32_t *pos_idx;
    float *io_clips, *io_out; /* engine memory for vn_encoder_encode on a device, else NULL */
};

/* Floats of one input clip [C, T, H, W]. */
static inline int64_t vn_enc_clip_floats(const vn_encoder *enc)
{
    return (int64_t)enc->cfg.channels * enc->cfg.frames * enc->cfg.size * enc->cfg.size;
}

/* Point the stack descriptors at a batch of N clips with n_keep of the S positions of
 * each frame visible (n_keep = S for the whole forward); clears masked. */
void vn_enc_acts_set_batch(vn_encoder_acts *a, int64_t N, int64_t n_keep);

/* The GEMM precision of a public vn_precision, if backend be has it; else
 * VN_ERR_INVALID_ARG or VN_ERR_UNSUPPORTED with the backend's reason, as fn's error. */
vn_status vn_enc_gemm_precision(const vn_be *be, const char *fn, vn_precision precision, vn_gemm_precision *out);

#endif
