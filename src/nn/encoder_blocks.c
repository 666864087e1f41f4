/*
 * encoder_blocks.c: the pre-norm transformer block every encoder family stacks,
 * forward and backward, with joint or divided (temporal, then spatial) attention:
 *   divided: x = x + tattn(tnorm(x)) along F for each of the S patch positions
 *            x = x + attn(norm1(x))  along S within each frame
 *   joint:   x = x + attn(norm1(x))  over all T tokens
 *   then     x = x + fc2(gelu(fc1(norm2(x))))
 * The stack knows only the widths and a parameter arena (vn_enc_net), so the JEPA
 * predictor (predictor.c) runs the same blocks over its own arena.
 */
#include <string.h>

#include "nn/encoder_internal.h"

void vn_enc_stack_layout(vn_enc_stack *s, vn_enc_bump *a, int64_t D, int64_t H, int64_t NH)
{
    int64_t n = s->B * s->T;
    s->x0 = vn_enc_take(a, n * D);
    for (int l = 0; l < s->depth; l++) {
        vn_enc_block_acts b = {0};
        if (s->divided) {
            b.t_ln = vn_enc_take(a, n * D);
            b.t_mean = vn_enc_take(a, n);
            b.t_rstd = vn_enc_take(a, n);
            b.t_qkv = vn_enc_take(a, n * 3 * D);
            if (s->regroup) {
                b.t_qkvg = vn_enc_take(a, n * 3 * D);
                b.t_attg = vn_enc_take(a, n * D);
            }
            b.t_lse = vn_enc_take(a, n * NH);
            b.t_att = vn_enc_take(a, n * D);
            b.x_t = vn_enc_take(a, n * D);
        }
        b.ln1 = vn_enc_take(a, n * D);
        b.mean1 = vn_enc_take(a, n);
        b.rstd1 = vn_enc_take(a, n);
        b.qkv = vn_enc_take(a, n * 3 * D);
        b.att = vn_enc_take(a, n * D);
        b.lse = vn_enc_take(a, n * NH);
        b.x1 = vn_enc_take(a, n * D);
        b.ln2 = vn_enc_take(a, n * D);
        b.mean2 = vn_enc_take(a, n);
        b.rstd2 = vn_enc_take(a, n);
        b.h = vn_enc_take(a, n * H);
        b.g = vn_enc_take(a, n * H);
        b.x2 = vn_enc_take(a, n * D);
        if (s->blk)
            s->blk[l] = b;
    }
}

/* Each residual add is fused with the norm that reads its output (the next branch's, or
 * the next block's first), so the sum is normalised while its rows are in cache. */
void vn_enc_stack_forward(const vn_enc_net *net, const vn_enc_stack *s, const vn_enc_work *w)
{
    if (vn_enc_stack_bf16_act(net, w)) {
        vn_enc_stack_forward_bf16(net, s, w);
        return;
    }
    const vn_nn *nn = net->nn;
    const float *P = net->params;
    int64_t D = net->D, H = net->hidden, NH = net->heads, n = s->B * s->T;
    for (int l = 0; l < s->depth; l++) {
        const vn_enc_block *p = &s->blocks[l];
        const vn_enc_block_acts *b = &s->blk[l];
        const float *x = l ? s->blk[l - 1].x2 : s->x0;
        /* the first norm of block l > 0 ran with block l - 1's last residual */
        if (l == 0) {
            if (s->divided)
                vn_layernorm_forward(nn, b->t_ln, b->t_mean, b->t_rstd, x, P + p->tnorm_w, P + p->tnorm_b, n, D);
            else
                vn_layernorm_forward(nn, b->ln1, b->mean1, b->rstd1, x, P + p->norm1_w, P + p->norm1_b, n, D);
        }
        if (s->divided) {
            vn_linear_forward(nn, b->t_qkv, b->t_ln, P + p->tqkv_w, P + p->tqkv_b, n, D, 3 * D);
            vn_attention_forward_temporal(nn, b->t_att, b->t_lse, b->t_qkv, s->B, s->F, s->S, D, NH, b->t_qkvg,
                                          b->t_attg, w->attn_scratch);
            vn_linear_forward(nn, w->tmp, b->t_att, P + p->tproj_w, P + p->tproj_b, n, D, D);
            vn_residual_layernorm_forward(nn, b->x_t, b->ln1, b->mean1, b->rstd1, x, w->tmp, P + p->norm1_w,
                                          P + p->norm1_b, n, D);
            x = b->x_t;
        }
        vn_linear_forward(nn, b->qkv, b->ln1, P + p->qkv_w, P + p->qkv_b, n, D, 3 * D);
        if (s->divided)
            vn_attention_forward(nn, b->att, b->lse, b->qkv, s->B * s->F, s->S, D, NH, w->attn_scratch);
        else
            vn_attention_forward(nn, b->att, b->lse, b->qkv, s->B, s->T, D, NH, w->attn_scratch);
        vn_linear_forward(nn, w->tmp, b->att, P + p->proj_w, P + p->proj_b, n, D, D);
        vn_residual_layernorm_forward(nn, b->x1, b->ln2, b->mean2, b->rstd2, x, w->tmp, P + p->norm2_w,
                                      P + p->norm2_b, n, D);
        if (w->gelu_grad)
            vn_linear_gelu_forward_train(nn, b->h, b->g, b->ln2, P + p->fc1_w, P + p->fc1_b, n, D, H);
        else
            vn_linear_gelu_forward(nn, b->h, b->g, b->ln2, P + p->fc1_w, P + p->fc1_b, n, D, H);
        vn_linear_forward(nn, w->tmp, b->g, P + p->fc2_w, P + p->fc2_b, n, H, D);
        if (l + 1 < s->depth) {
            const vn_enc_block *pn = &s->blocks[l + 1];
            const vn_enc_block_acts *bn = &s->blk[l + 1];
            if (s->divided)
                vn_residual_layernorm_forward(nn, b->x2, bn->t_ln, bn->t_mean, bn->t_rstd, b->x1, w->tmp,
                                              P + pn->tnorm_w, P + pn->tnorm_b, n, D);
            else
                vn_residual_layernorm_forward(nn, b->x2, bn->ln1, bn->mean1, bn->rstd1, b->x1, w->tmp,
                                              P + pn->norm1_w, P + pn->norm1_b, n, D);
        } else {
            vn_residual_forward(nn, b->x2, b->x1, w->tmp, n * D);
        }
    }
}

/* The residual stream's gradient lives in dx throughout: each branch's backward ends in
 * a layernorm backward that accumulates into dx, which adds the branch's share to the
 * identity path's without a copy. Input gradients of linear layers and attention are
 * written over their buffers (no zeroing first), and every bias gradient is summed in a
 * pass that already reads its rows: fc1's in GELU's backward (which, for training activations,
 * multiplies by the GELU' that the forward saved instead of recomputing it), and those
 * whose output gradient is dx (proj, tproj, and fc2 of the block below) in the layernorm
 * backward that last updated dx. Only the top block's fc2 and the qkv layers sum on
 * their own. */
void vn_enc_stack_backward(const vn_enc_net *net, const vn_enc_stack *s, const vn_enc_work *w, float *dx,
                           float *grads)
{
    const vn_nn *nn = net->nn;
    const float *P = net->params;
    float *G = grads;
    int64_t D = net->D, H = net->hidden, NH = net->heads, n = s->B * s->T;
    for (int l = s->depth - 1; l >= 0; l--) {
        const vn_enc_block *p = &s->blocks[l];
        const vn_enc_block_acts *b = &s->blk[l];
        const float *x_in = l ? s->blk[l - 1].x2 : s->x0;
        const float *x_a = s->divided ? b->x_t : x_in;
        /* the bias gradient of fc2 of the block below: dx's column sums after this block */
        float *db_below = l ? G + s->blocks[l - 1].fc2_b : NULL;

        vn_linear_backward_set(nn, w->dg, G + p->fc2_w, l == s->depth - 1 ? G + p->fc2_b : NULL, dx, b->g,
                               P + p->fc2_w, n, H, D);
        /* dL/dh, in place of dL/dg on the host */
        float *dh = w->gelu_grad ? vn_gelu_backward_saved(nn, w->dh, w->dg, G + p->fc1_b, b->h, n, H)
                                 : vn_gelu_backward_bias(nn, w->dh, w->dg, G + p->fc1_b, b->h, n, H);
        vn_linear_backward_set(nn, w->dln, G + p->fc1_w, NULL, dh, b->ln2, P + p->fc1_w, n, D, H);
        vn_layernorm_backward_bias(nn, dx, G + p->norm2_w, G + p->norm2_b, w->dln, b->x1, P + p->norm2_w, b->mean2,
                                   b->rstd2, n, D, G + p->proj_b);

        vn_linear_backward_set(nn, w->datt, G + p->proj_w, NULL, dx, b->att, P + p->proj_w, n, D, D);
        if (s->divided)
            vn_attention_backward_set(nn, w->dqkv, w->datt, b->qkv, b->att, b->lse, s->B * s->F, s->S, D, NH,
                                      w->attn_scratch);
        else
            vn_attention_backward_set(nn, w->dqkv, w->datt, b->qkv, b->att, b->lse, s->B, s->T, D, NH,
                                      w->attn_scratch);
        vn_linear_backward_set(nn, w->dln, G + p->qkv_w, G + p->qkv_b, w->dqkv, b->ln1, P + p->qkv_w, n, D, 3 * D);
        vn_layernorm_backward_bias(nn, dx, G + p->norm1_w, G + p->norm1_b, w->dln, x_a, P + p->norm1_w, b->mean1,
                                   b->rstd1, n, D, s->divided ? G + p->tproj_b : db_below);

        if (s->divided) {
            vn_linear_backward_set(nn, w->datt, G + p->tproj_w, NULL, dx, b->t_att, P + p->tproj_w, n, D, D);
            vn_attention_backward_temporal_set(nn, w->dqkv, w->datt, b->t_qkv, b->t_att, b->t_lse, s->B, s->F, s->S,
                                               D, NH, b->t_qkvg, b->t_attg, w->dqkvg, w->dattg, w->attn_scratch);
            vn_linear_backward_set(nn, w->dln, G + p->tqkv_w, G + p->tqkv_b, w->dqkv, b->t_ln, P + p->tqkv_w, n, D,
                                   3 * D);
            vn_layernorm_backward_bias(nn, dx, G + p->tnorm_w, G + p->tnorm_b, w->dln, x_in, P + p->tnorm_w,
                                       b->t_mean, b->t_rstd, n, D, db_below);
        }
    }
}
