/*
 * encoder_blocks_bf16.c: the block stack's inference forward at bf16 precision with
 * bf16 activations (ops_bf16.h), the same blocks as vn_enc_stack_forward computes:
 * the norms write bf16 rows for the GEMMs they feed, fc1's GEMM applies GELU and writes
 * bf16 for fc2, and where AMX runs attention (ops_attention_amx.c) qkv and the
 * attention output stay bf16 as well. An fp32 encode of the same weights reads and
 * writes about three times the bytes around the same GEMMs. Divided blocks keep their
 * temporal branch (attention over a handful of frames) in fp32.
 *
 * The block buffers laid out for fp32 hold the bf16 rows (half the room they have); the
 * residual stream (x_t, x1, x2) stays fp32.
 */
#include "nn/encoder_internal.h"
#include "nn/ops_bf16.h"

int vn_enc_stack_bf16_act(const vn_enc_net *net, const vn_enc_work *w)
{
    return w->bf16_act && vn_nn_bf16_act_ok(net->nn);
}

void vn_enc_stack_forward_bf16(const vn_enc_net *net, const vn_enc_stack *s, const vn_enc_work *w)
{
    const vn_nn *nn = net->nn;
    const float *P = net->params;
    int64_t D = net->D, H = net->hidden, NH = net->heads, n = s->B * s->T;
    /* the spatial or joint attention's sequences */
    int64_t AB = s->divided ? s->B * s->F : s->B, AT = s->divided ? s->S : s->T;
    int amx = w->attn16_scratch && vn_attention_bf16_supported(AT, D / NH, NULL);
    for (int l = 0; l < s->depth; l++) {
        const vn_enc_block *p = &s->blocks[l];
        const vn_enc_block_acts *b = &s->blk[l];
        const float *x = l ? s->blk[l - 1].x2 : s->x0;
        uint16_t *ln1 = (uint16_t *)b->ln1, *ln2 = (uint16_t *)b->ln2, *g = (uint16_t *)b->g;
        if (l == 0) {
            if (s->divided)
                vn_layernorm_forward_bf16(nn, (uint16_t *)b->t_ln, x, P + p->tnorm_w, P + p->tnorm_b, n, D);
            else
                vn_layernorm_forward_bf16(nn, ln1, x, P + p->norm1_w, P + p->norm1_b, n, D);
        }
        if (s->divided) {
            vn_linear_forward_bf16_act(nn, b->t_qkv, 0, (const uint16_t *)b->t_ln, P + p->tqkv_w, P + p->tqkv_b, n, D,
                                       3 * D, 0);
            vn_attention_forward_temporal(nn, b->t_att, b->t_lse, b->t_qkv, s->B, s->F, s->S, D, NH, b->t_qkvg,
                                          b->t_attg, w->attn_scratch);
            vn_linear_forward(nn, w->tmp, b->t_att, P + p->tproj_w, P + p->tproj_b, n, D, D);
            vn_residual_layernorm_forward_bf16(nn, b->x_t, ln1, x, w->tmp, P + p->norm1_w, P + p->norm1_b, n, D);
            x = b->x_t;
        }
        if (amx) {
            uint16_t *qkv = (uint16_t *)b->qkv, *att = (uint16_t *)b->att;
            vn_linear_forward_bf16_act(nn, qkv, 1, ln1, P + p->qkv_w, P + p->qkv_b, n, D, 3 * D, 0);
            vn_attention_forward_bf16(nn, att, qkv, AB, AT, D, NH, w->attn16_scratch);
            vn_linear_forward_bf16_act(nn, w->tmp, 0, att, P + p->proj_w, P + p->proj_b, n, D, D, 0);
        } else {
            vn_linear_forward_bf16_act(nn, b->qkv, 0, ln1, P + p->qkv_w, P + p->qkv_b, n, D, 3 * D, 0);
            vn_attention_forward(nn, b->att, b->lse, b->qkv, AB, AT, D, NH, w->attn_scratch);
            vn_linear_forward(nn, w->tmp, b->att, P + p->proj_w, P + p->proj_b, n, D, D);
        }
        vn_residual_layernorm_forward_bf16(nn, b->x1, ln2, x, w->tmp, P + p->norm2_w, P + p->norm2_b, n, D);
        vn_linear_forward_bf16_act(nn, g, 1, ln2, P + p->fc1_w, P + p->fc1_b, n, D, H, 1);
        vn_linear_forward_bf16_act(nn, w->tmp, 0, g, P + p->fc2_w, P + p->fc2_b, n, H, D, 0);
        if (l + 1 < s->depth) {
            const vn_enc_block *pn = &s->blocks[l + 1];
            const vn_enc_block_acts *bn = &s->blk[l + 1];
            if (s->divided)
                vn_residual_layernorm_forward_bf16(nn, b->x2, (uint16_t *)bn->t_ln, b->x1, w->tmp, P + pn->tnorm_w,
                                                   P + pn->tnorm_b, n, D);
            else
                vn_residual_layernorm_forward_bf16(nn, b->x2, (uint16_t *)bn->ln1, b->x1, w->tmp, P + pn->norm1_w,
                                                   P + pn->norm1_b, n, D);
        } else {
            vn_residual_forward(nn, b->x2, b->x1, w->tmp, n * D);
        }
    }
}
