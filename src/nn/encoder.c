/*
 * encoder.c: the three encoder families on the shared block stack (encoder_blocks.c).
 *
 *   frames           tubelet_t = 1 patch tokens [N*T, S, D] + pos, blocks, norm, pool over
 *                    the S patches of each frame -> [N*T, D], mean over frames -> [N, D];
 *                    tokens are the normed patch tokens [N, T*S, D].
 *   frames+temporal  the same per-frame ViT gives frame embeddings [N, T, D]; plus
 *                    temporal.pos_embed, temporal blocks (joint over T), temporal.norm,
 *                    mean over T -> [N, D]; tokens are the temporal outputs [N, T, D].
 *                    The per-frame pooling follows cfg.pooling; the pooling over T is a mean.
 *                    temporal.pos_embed is learned whatever cfg.pos says: cfg.pos is the
 *                    patch tokens' embedding (for the frames families a per-frame table,
 *                    the 3-D sin-cos one with a single time step).
 *   video            tubelet tokens [N, F*S, D] + pos, joint or divided blocks, norm, pool
 *                    over all tokens -> [N, D]; tokens [N, F*S, D].
 * The tube-masked forward of JEPA's context encoder (encoder_masked.c) runs the main
 * stack on the same activations, over fewer positions per frame.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "nn/encoder_internal.h"

/* Sequences and tokens per sequence of the main (per-frame or space-time) stack. */
static void main_shape(const vn_encoder *enc, int64_t N, int64_t *B, int64_t *T)
{
    if (enc->cfg.family == VN_ENCODER_VIDEO) {
        *B = N;
        *T = enc->F * enc->S;
    } else {
        *B = N * enc->cfg.frames;
        *T = enc->S;
    }
}

static void acts_layout(vn_encoder_acts *a, vn_enc_bump *m, int64_t N)
{
    const vn_encoder *enc = a->enc;
    const vn_encoder_config *c = &enc->cfg;
    int64_t D = enc->D, H = enc->hidden, NH = c->heads, B, T, T0 = c->frames;
    main_shape(enc, N, &B, &T);
    int64_t rows = B * T, K = (int64_t)c->channels * enc->tt * c->patch * c->patch;
    a->patches = vn_enc_take(m, rows * K);
    a->tok = vn_enc_take(m, rows * D);
    a->main = (vn_enc_stack){enc->blocks, c->depth, c->attention == VN_ATTENTION_DIVIDED, B, enc->F, enc->S, T,
                             NULL, a->blk, 0};
    a->main.regroup = a->main.divided && !vn_attention_temporal_in_place(&enc->nn, enc->F, D, NH);
    vn_enc_stack_layout(&a->main, m, D, H, NH);
    a->fin = vn_enc_take(m, rows * D);
    a->fin_mean = vn_enc_take(m, rows);
    a->fin_rstd = vn_enc_take(m, rows);
    a->pooled = vn_enc_take(m, B * D);
    a->pool_attn = vn_enc_take(m, rows);
    a->emb = vn_enc_take(m, N * D);
    if (c->family == VN_ENCODER_FRAMES_TEMPORAL) {
        a->temporal = (vn_enc_stack){enc->tblocks, c->temporal_depth, 0, N, 1, T0, T0, NULL, a->tblk, 0};
        vn_enc_stack_layout(&a->temporal, m, D, H, NH);
        a->tfin = vn_enc_take(m, N * T0 * D);
        a->tfin_mean = vn_enc_take(m, N * T0);
        a->tfin_rstd = vn_enc_take(m, N * T0);
        if (a->train) {
            a->dtx = vn_enc_take(m, N * T0 * D);
            a->dtfin = vn_enc_take(m, N * T0 * D);
        }
    }
    vn_enc_work *w = &a->work;
    w->tmp = vn_enc_take(m, rows * D);
    if (a->train) {
        /* the main stack has the most rows of any stack */
        a->dx = vn_enc_take(m, rows * D);
        a->dfin = vn_enc_take(m, rows * D);
        a->dpooled = vn_enc_take(m, B * D);
        w->dln = vn_enc_take(m, rows * D);
        w->dqkv = vn_enc_take(m, rows * 3 * D);
        w->datt = vn_enc_take(m, rows * D);
        if (a->main.regroup) {
            w->dqkvg = vn_enc_take(m, rows * 3 * D);
            w->dattg = vn_enc_take(m, rows * D);
        }
        w->dh = vn_enc_take(m, rows * H);
        w->dg = vn_enc_take(m, rows * H);
    }
    int nt = enc->nn.n_threads;
    int64_t sc = vn_attention_scratch_floats(B, T, D, NH, nt);
    if (c->attention == VN_ATTENTION_DIVIDED) {
        int64_t s1 = vn_attention_scratch_floats(B * enc->S, enc->F, D, NH, nt);
        int64_t s2 = vn_attention_scratch_floats(B * enc->F, enc->S, D, NH, nt);
        sc = s1 > sc ? s1 : sc;
        sc = s2 > sc ? s2 : sc;
    }
    if (c->family == VN_ENCODER_FRAMES_TEMPORAL) {
        int64_t s3 = vn_attention_scratch_floats(N, T0, D, NH, nt);
        sc = s3 > sc ? s3 : sc;
    }
    w->attn_scratch = vn_enc_take(m, sc);
    /* inference acts: the AMX attention's scratch, for the sequences the stacks attend over */
    w->attn16_scratch = NULL;
    if (!a->train && !enc->nn.dev) {
        int64_t seqs[2] = {c->attention == VN_ATTENTION_DIVIDED ? enc->S : T,
                           c->family == VN_ENCODER_FRAMES_TEMPORAL ? T0 : 0};
        int64_t bytes = 0;
        for (int i = 0; i < 2; i++)
            if (seqs[i] > 0 && vn_attention_bf16_supported(seqs[i], D / NH, NULL)) {
                int64_t b = vn_attention_bf16_scratch_bytes(seqs[i], D / NH, nt);
                bytes = b > bytes ? b : bytes;
            }
        if (bytes > 0)
            w->attn16_scratch = vn_enc_take(m, (bytes + 3) / 4);
    }
}

static vn_status acts_create(const vn_encoder *enc, int64_t max_batch, int train, vn_encoder_acts **out)
{
    VN_CHECK_NULL(out);
    *out = NULL;
    VN_CHECK_NULL(enc);
    if (max_batch < 1)
        return vn_error(VN_ERR_INVALID_ARG, "vn_encoder_acts_create: max_batch is %lld; it must be >= 1",
                        (long long)max_batch);
    vn_encoder_acts *a = calloc(1, sizeof *a);
    if (!a)
        return vn_error(VN_ERR_OUT_OF_MEMORY, "vn_encoder_acts_create: out of memory");
    a->enc = enc;
    a->max_batch = max_batch;
    a->train = train;
    a->blk = calloc((size_t)enc->cfg.depth, sizeof *a->blk);
    a->keep = malloc((size_t)(max_batch * enc->S) * sizeof *a->keep);
    a->pos_idx_host = malloc((size_t)(max_batch * enc->F * enc->S) * sizeof *a->pos_idx_host);
    if (enc->cfg.family == VN_ENCODER_FRAMES_TEMPORAL)
        a->tblk = calloc((size_t)enc->cfg.temporal_depth, sizeof *a->tblk);
    vn_enc_bump m = {NULL, 0};
    acts_layout(a, &m, max_batch);
    /* engine memory: the int32 index arrays of the masked forward ride in the arena */
    int64_t idx_floats = max_batch * enc->S + max_batch * enc->F * enc->S;
    int64_t L, D;
    vn_encoder_output_shape(enc, &L, &D);
    int64_t io_floats = enc->nn.dev && !train ? max_batch * (vn_enc_clip_floats(enc) + L * D) : 0;
    if (a->blk && a->keep && a->pos_idx_host && (a->tblk || enc->cfg.family != VN_ENCODER_FRAMES_TEMPORAL))
        a->arena = vn_nn_alloc(&enc->nn, m.used + idx_floats + io_floats);
    if (!a->arena) {
        vn_encoder_acts_destroy(a);
        return vn_error(VN_ERR_OUT_OF_MEMORY, "vn_encoder_acts_create: out of memory for %lld activation floats",
                        (long long)m.used);
    }
    m = (vn_enc_bump){a->arena, 0};
    acts_layout(a, &m, max_batch);
    a->keep_dev = (int32_t *)(a->arena + m.used);
    a->pos_idx = a->keep_dev + max_batch * enc->S;
    if (io_floats) {
        a->io_clips = a->arena + m.used + idx_floats;
        a->io_out = a->io_clips + max_batch * vn_enc_clip_floats(enc);
    }
    *out = a;
    return VN_OK;
}

vn_status vn_encoder_acts_create(const vn_encoder *enc, int64_t max_batch, vn_encoder_acts **out)
{
    return acts_create(enc, max_batch, 1, out);
}

void vn_encoder_acts_destroy(vn_encoder_acts *a)
{
    if (!a)
        return;
    vn_nn_free(&a->enc->nn, a->arena);
    free(a->blk);
    free(a->tblk);
    free(a->keep);
    free(a->pos_idx_host);
    free(a);
}

/* The stacks were laid out for max_batch and every position; a smaller batch or a
 * masked forward uses the front of each buffer, so only the shape in the stack
 * descriptors changes. */
void vn_enc_acts_set_batch(vn_encoder_acts *a, int64_t N, int64_t n_keep)
{
    int64_t B, T;
    main_shape(a->enc, N, &B, &T);
    a->main.B = B;
    a->main.S = n_keep;
    a->main.T = a->enc->cfg.family == VN_ENCODER_VIDEO ? a->enc->F * n_keep : n_keep;
    a->temporal.B = N;
    a->N = N;
    a->work.gelu_grad = a->train && a->backward_seen;
    a->work.bf16_act = !a->train;
    a->masked = 0; /* the masked forward sets it after this */
    a->n_keep = n_keep;
}

vn_status vn_encoder_forward(const vn_encoder *enc, vn_encoder_acts *a, const float *clips, int64_t N,
                             float *embeddings, float *tokens)
{
    VN_CHECK_NULL(enc);
    VN_CHECK_NULL(a);
    VN_CHECK_NULL(clips);
    if (a->enc != enc)
        return vn_error(VN_ERR_INVALID_ARG, "vn_encoder_forward: the activations belong to another encoder");
    if (N < 1 || N > a->max_batch)
        return vn_error(VN_ERR_SHAPE, "vn_encoder_forward: batch %lld is outside 1..%lld (the acts' max_batch)",
                        (long long)N, (long long)a->max_batch);
    const vn_encoder_config *c = &enc->cfg;
    const vn_nn *nn = &enc->nn;
    (void)vn_nn_take_error();
    const float *P = enc->arena;
    int64_t D = enc->D, T0 = c->frames, B, T;
    vn_enc_acts_set_batch(a, N, enc->S);
    main_shape(enc, N, &B, &T);
    vn_enc_net net = vn_enc_net_of(enc);
    vn_tubelet_forward(nn, a->tok, a->patches, clips, P + enc->patch_w, P + enc->patch_b, N, c->channels, T0, c->size,
                       c->size, enc->tt, c->patch, D);
    vn_posembed_forward(nn, a->main.x0, a->tok, enc->pos >= 0 ? P + enc->pos : enc->pos_fixed, B, T, D);
    vn_enc_stack_forward(&net, &a->main, &a->work);
    vn_layernorm_forward(nn, a->fin, a->fin_mean, a->fin_rstd, a->main.blk[c->depth - 1].x2, P + enc->norm_w,
                         P + enc->norm_b, B * T, D);
    if (c->pooling == VN_POOLING_ATTENTIVE)
        vn_attnpool_forward(nn, a->pooled, a->pool_attn, a->fin, P + enc->pool_q, B, T, D);
    else
        vn_meanpool_forward(nn, a->pooled, a->fin, B, T, D);
    const float *tok_out = a->fin;
    switch (c->family) {
    case VN_ENCODER_VIDEO:
        vn_nn_copy(nn, a->emb, a->pooled, N * D);
        break;
    case VN_ENCODER_FRAMES:
        vn_meanpool_forward(nn, a->emb, a->pooled, N, T0, D);
        break;
    case VN_ENCODER_FRAMES_TEMPORAL:
        vn_posembed_forward(nn, a->temporal.x0, a->pooled, P + enc->tpos, N, T0, D);
        vn_enc_stack_forward(&net, &a->temporal, &a->work);
        vn_layernorm_forward(nn, a->tfin, a->tfin_mean, a->tfin_rstd, a->temporal.blk[c->temporal_depth - 1].x2,
                             P + enc->tnorm_w, P + enc->tnorm_b, N * T0, D);
        vn_meanpool_forward(nn, a->emb, a->tfin, N, T0, D);
        tok_out = a->tfin;
        break;
    }
    if (embeddings)
        vn_nn_copy(nn, embeddings, a->emb, N * D);
    if (tokens) {
        int64_t L, Dd;
        vn_encoder_output_shape(enc, &L, &Dd);
        vn_nn_copy(nn, tokens, tok_out, N * L * D);
    }
    vn_status st = vn_nn_take_error();
    return st == VN_OK ? VN_OK : vn_error_prefix(st, "vn_encoder_forward: ");
}

vn_status vn_encoder_backward(const vn_encoder *enc, vn_encoder_acts *a, const float *d_embeddings, float *grads)
{
    VN_CHECK_NULL(enc);
    VN_CHECK_NULL(a);
    VN_CHECK_NULL(d_embeddings);
    VN_CHECK_NULL(grads);
    if (a->enc != enc)
        return vn_error(VN_ERR_INVALID_ARG, "vn_encoder_backward: the activations belong to another encoder");
    if (a->N < 1 || !a->train)
        return vn_error(VN_ERR_STATE, "vn_encoder_backward: no forward has run on these training activations");
    if (a->masked)
        return vn_error(VN_ERR_STATE, "vn_encoder_backward: the last forward on these activations was "
                                      "vn_encoder_forward_masked; use vn_encoder_backward_tokens");
    const vn_encoder_config *c = &enc->cfg;
    const vn_nn *nn = &enc->nn;
    (void)vn_nn_take_error();
    const float *P = enc->arena;
    float *G = grads;
    int64_t N = a->N, D = enc->D, T0 = c->frames, B, T;
    main_shape(enc, N, &B, &T);
    vn_enc_net net = vn_enc_net_of(enc);
    a->backward_seen = 1;
    vn_nn_zero(nn, a->dpooled, B * D);
    switch (c->family) {
    case VN_ENCODER_VIDEO:
        vn_nn_copy(nn, a->dpooled, d_embeddings, N * D);
        break;
    case VN_ENCODER_FRAMES:
        vn_meanpool_backward(nn, a->dpooled, d_embeddings, N, T0, D);
        break;
    case VN_ENCODER_FRAMES_TEMPORAL:
        vn_nn_zero(nn, a->dtfin, N * T0 * D);
        vn_meanpool_backward(nn, a->dtfin, d_embeddings, N, T0, D);
        vn_nn_zero(nn, a->dtx, N * T0 * D);
        vn_layernorm_backward(nn, a->dtx, G + enc->tnorm_w, G + enc->tnorm_b, a->dtfin,
                              a->temporal.blk[c->temporal_depth - 1].x2, P + enc->tnorm_w, a->tfin_mean,
                              a->tfin_rstd, N * T0, D);
        vn_enc_stack_backward(&net, &a->temporal, &a->work, a->dtx, grads);
        vn_posembed_backward(nn, a->dpooled, G + enc->tpos, a->dtx, N, T0, D);
        break;
    }
    vn_nn_zero(nn, a->dfin, B * T * D);
    if (c->pooling == VN_POOLING_ATTENTIVE)
        vn_attnpool_backward(nn, a->dfin, G + enc->pool_q, a->dpooled, a->fin, P + enc->pool_q, a->pool_attn, B, T,
                             D);
    else
        vn_meanpool_backward(nn, a->dfin, a->dpooled, B, T, D);
    vn_nn_zero(nn, a->dx, B * T * D);
    vn_layernorm_backward(nn, a->dx, G + enc->norm_w, G + enc->norm_b, a->dfin, a->main.blk[c->depth - 1].x2,
                          P + enc->norm_w, a->fin_mean, a->fin_rstd, B * T, D);
    vn_enc_stack_backward(&net, &a->main, &a->work, a->dx, grads);
    /* the clip needs no gradient, so the patch tokens' gradient is dx itself */
    if (enc->pos >= 0)
        vn_posembed_backward(nn, NULL, G + enc->pos, a->dx, B, T, D);
    int64_t K = (int64_t)c->channels * enc->tt * c->patch * c->patch;
    vn_tubelet_backward(nn, G + enc->patch_w, G + enc->patch_b, a->dx, a->patches, P + enc->patch_w, N, B * T / N, K,
                        D);
    vn_status st = vn_nn_take_error();
    return st == VN_OK ? VN_OK : vn_error_prefix(st, "vn_encoder_backward: ");
}

/* ---- the public model ---------------------------------------------------------------- */

vn_status vn_encoder_create(vn_encoder **out, vn_context *ctx, const vn_encoder_config *cfg)
{
    VN_CHECK_NULL(out);
    *out = NULL;
    VN_CHECK_NULL(ctx);
    VN_CHECK_NULL(cfg);
    vn_status st = vn_enc_validate_config(__func__, cfg);
    if (st)
        return st;
    vn_encoder *enc = calloc(1, sizeof *enc);
    if (!enc)
        return vn_error(VN_ERR_OUT_OF_MEMORY, "vn_encoder_create: out of memory");
    pthread_mutex_init(&enc->pool_lock, NULL);
    enc->ctx = ctx;
    enc->cfg = *cfg;
    enc->cfg.version = VN_ENCODER_CONFIG_VERSION;
    /* tubelet_t is the video family's; the frames families embed single frames, and the
     * stored config says so */
    if (cfg->family != VN_ENCODER_VIDEO)
        enc->cfg.tubelet_t = 1;
    st = vn_nn_init(&enc->nn, vn_context_be(ctx), ctx->n_threads, ctx->deterministic);
    if (st) {
        vn_encoder_destroy(enc);
        return vn_error_prefix(st, "vn_encoder_create: ");
    }
    enc->nn.prof = vn_context_profile(ctx);
    enc->D = cfg->dim;
    enc->hidden = lroundf((float)cfg->dim * cfg->mlp_ratio);
    enc->tt = cfg->family == VN_ENCODER_VIDEO ? cfg->tubelet_t : 1;
    enc->Lh = enc->Lw = cfg->size / cfg->patch;
    enc->S = enc->Lh * enc->Lw;
    enc->F = cfg->family == VN_ENCODER_VIDEO ? cfg->frames / cfg->tubelet_t : cfg->frames;
    st = vn_enc_build_params(enc);
    if (st) {
        vn_encoder_destroy(enc);
        return st;
    }
    *out = enc;
    return VN_OK;
}

void vn_encoder_destroy(vn_encoder *enc)
{
    if (!enc)
        return;
    if (enc->owned) {
        vn_log(VN_LOG_ERROR, "vn_encoder_destroy: the encoder belongs to a trainer and was not destroyed; "
                             "vn_trainer_destroy frees it");
        return;
    }
    for (int i = 0; i < enc->n_pool; i++)
        vn_encoder_acts_destroy(enc->pool[i]);
    pthread_mutex_destroy(&enc->pool_lock);
    free(enc->params);
    vn_nn_free(&enc->nn, enc->arena);
    vn_nn_free(&enc->nn, enc->pos_fixed);
    vn_nn_fini(&enc->nn);
    free(enc->blocks);
    free(enc->tblocks);
    free(enc);
}

vn_status vn_encoder_output_shape(const vn_encoder *enc, int64_t *tokens, int64_t *dim)
{
    VN_CHECK_NULL(enc);
    VN_CHECK_NULL(tokens);
    VN_CHECK_NULL(dim);
    switch (enc->cfg.family) {
    case VN_ENCODER_VIDEO:
        *tokens = enc->F * enc->S;
        break;
    case VN_ENCODER_FRAMES:
        *tokens = (int64_t)enc->cfg.frames * enc->S;
        break;
    default:
        *tokens = enc->cfg.frames;
        break;
    }
    *dim = enc->D;
    return VN_OK;
}

/* Check clips [N, C, T, H, W] and the output [N, rest...], returning N. */
static vn_status check_io(const vn_encoder *enc, const char *fn, const vn_tensor *clips, const vn_tensor *out,
                          const char *out_what, int out_ndim, int64_t *N)
{
    const vn_encoder_config *c = &enc->cfg;
    if (clips->ndim != 5)
        return vn_error(VN_ERR_SHAPE, "%s: clips must be f32 [N, C, T, H, W] (5 dims), got %d dims", fn,
                        clips->ndim);
    *N = clips->shape[0];
    if (*N < 1)
        return vn_error(VN_ERR_SHAPE, "%s: clips hold %lld clips; at least 1 is needed", fn, (long long)*N);
    int64_t cs[5] = {*N, c->channels, c->frames, c->size, c->size};
    vn_status st = vn_enc_expect_f32(fn, "clips", clips, 5, cs);
    if (st)
        return st;
    int64_t L, D;
    vn_encoder_output_shape(enc, &L, &D);
    int64_t os[3] = {*N, out_ndim == 3 ? L : D, D};
    return vn_enc_expect_f32(fn, out_what, out, out_ndim, os);
}

static vn_status encode(const vn_encoder *enc, const char *fn, const vn_tensor *clips, vn_tensor *out, int tokens)
{
    int64_t N = 0;
    vn_status st = check_io(enc, fn, clips, out, tokens ? "tokens" : "embeddings", tokens ? 3 : 2, &N);
    if (st)
        return st;
    vn_encoder *pooled = (vn_encoder *)enc; /* only the lock-guarded pool is written */
    vn_encoder_acts *a = NULL;
    pthread_mutex_lock(&pooled->pool_lock);
    for (int i = 0; i < pooled->n_pool; i++)
        if (pooled->pool[i]->max_batch >= N) {
            a = pooled->pool[i];
            pooled->pool[i] = pooled->pool[--pooled->n_pool];
            break;
        }
    pthread_mutex_unlock(&pooled->pool_lock);
    if (!a) {
        st = acts_create(enc, N, 0, &a);
        if (st)
            return vn_error_prefix(st, "%s: ", fn);
    }
    if (!enc->nn.dev) {
        st = vn_encoder_forward(enc, a, clips->data, N, tokens ? NULL : out->data, tokens ? out->data : NULL);
    } else {
        /* a device computes on its own memory: the clips go up, the result comes down */
        int64_t L, D, n_out;
        vn_encoder_output_shape(enc, &L, &D);
        n_out = N * (tokens ? L * D : D);
        st = vn_nn_upload(&enc->nn, a->io_clips, clips->data, (size_t)(N * vn_enc_clip_floats(enc)) * sizeof(float));
        if (!st)
            st = vn_encoder_forward(enc, a, a->io_clips, N, tokens ? NULL : a->io_out, tokens ? a->io_out : NULL);
        if (!st)
            st = vn_nn_download(&enc->nn, out->data, a->io_out, (size_t)n_out * sizeof(float));
        if (st)
            st = vn_error_prefix(st, "%s: ", fn);
    }
    pthread_mutex_lock(&pooled->pool_lock);
    if (pooled->n_pool < VN_ENC_POOL_CAP) {
        pooled->pool[pooled->n_pool++] = a;
        a = NULL;
    }
    pthread_mutex_unlock(&pooled->pool_lock);
    vn_encoder_acts_destroy(a);
    return st;
}

vn_status vn_encoder_encode(const vn_encoder *enc, const vn_tensor *clips, vn_tensor *embeddings)
{
    VN_CHECK_NULL(enc);
    VN_CHECK_NULL(clips);
    VN_CHECK_NULL(embeddings);
    return encode(enc, __func__, clips, embeddings, 0);
}

vn_status vn_encoder_encode_tokens(const vn_encoder *enc, const vn_tensor *clips, vn_tensor *tokens)
{
    VN_CHECK_NULL(enc);
    VN_CHECK_NULL(clips);
    VN_CHECK_NULL(tokens);
    return encode(enc, __func__, clips, tokens, 1);
}

vn_status vn_enc_gemm_precision(const vn_be *be, const char *fn, vn_precision precision, vn_gemm_precision *out)
{
    vn_op op;
    switch (precision) {
    case VN_PRECISION_FP32: *out = VN_GEMM_FP32, op = VN_OP_GEMM; break;
    case VN_PRECISION_TF32: *out = VN_GEMM_TF32, op = VN_OP_GEMM_TF32; break;
    case VN_PRECISION_BF16: *out = VN_GEMM_BF16, op = VN_OP_GEMM_BF16; break;
    default:
        return vn_error(VN_ERR_INVALID_ARG, "%s: precision %d is not a vn_precision", fn, (int)precision);
    }
    if (!vn_be_supports(be, op)) {
        const char *why = vn_be_why_unsupported(be, op);
        return vn_error(VN_ERR_UNSUPPORTED, "%s: the %s backend has no %s GEMMs here%s%s", fn, be->table->name,
                        vn_precision_name(precision), *why ? ": " : "", why);
    }
    return VN_OK;
}

vn_status vn_encoder_set_precision(vn_encoder *enc, vn_precision precision)
{
    VN_CHECK_NULL(enc);
    vn_gemm_precision g = VN_GEMM_FP32;
    vn_status s = vn_enc_gemm_precision(enc->nn.be, __func__, precision, &g);
    if (s == VN_OK)
        enc->nn.precision = g;
    return s;
}

vn_status vn_encoder_get_precision(const vn_encoder *enc, vn_precision *precision)
{
    VN_CHECK_NULL(enc);
    VN_CHECK_NULL(precision);
    switch (enc->nn.precision) {
    case VN_GEMM_FP32: *precision = VN_PRECISION_FP32; break;
    case VN_GEMM_TF32: *precision = VN_PRECISION_TF32; break;
    case VN_GEMM_BF16: *precision = VN_PRECISION_BF16; break;
    }
    return VN_OK;
}
