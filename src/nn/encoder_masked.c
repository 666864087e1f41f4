/*
 * encoder_masked.c: the encoder's main stack over a tube-masked subset of the patch
 * positions, as V-JEPA's context encoder runs it, and its backward from a gradient on
 * the tokens.
 *
 * Only the kept patches are unfolded and embedded: a Conv3d with stride = kernel acts on
 * each patch alone, so embedding all positions and gathering the kept ones gives the same
 * numbers for more work. The positional embedding is added at each kept token's true
 * position. Because the same positions are kept in every frame, the kept tokens form an
 * F x n_keep grid and the stack runs as for a smaller frame (divided attention included).
 */
#include <string.h>

#include "core/error.h"
#include "nn/encoder_internal.h"
#include "nn/ops_internal.h"

void vn_encoder_token_grid(const vn_encoder *enc, int64_t *F, int64_t *Lh, int64_t *Lw)
{
    *F = enc->F;
    *Lh = enc->Lh;
    *Lw = enc->Lw;
}

static vn_status check_keep(const vn_encoder *enc, const int32_t *keep, int64_t N, int64_t n_keep)
{
    const char *fn = "vn_encoder_forward_masked";
    int64_t S = enc->S;
    if (!keep) {
        if (n_keep != S)
            return vn_error(VN_ERR_INVALID_ARG,
                            "%s: keep is NULL (all positions) but n_keep is %lld; it must then be S = %lld", fn,
                            (long long)n_keep, (long long)S);
        return VN_OK;
    }
    if (n_keep < 1 || n_keep > S)
        return vn_error(VN_ERR_INVALID_ARG, "%s: n_keep is %lld; it must be in 1..%lld (the patch positions S)", fn,
                        (long long)n_keep, (long long)S);
    for (int64_t n = 0; n < N; n++) {
        const int32_t *k = keep + n * n_keep;
        for (int64_t i = 0; i < n_keep; i++) {
            if (k[i] < 0 || k[i] >= S)
                return vn_error(VN_ERR_INVALID_ARG, "%s: keep[%lld][%lld] is %d; positions must be in 0..%lld", fn,
                                (long long)n, (long long)i, (int)k[i], (long long)(S - 1));
            if (i && k[i] <= k[i - 1])
                return vn_error(VN_ERR_INVALID_ARG,
                                "%s: keep[%lld] is not strictly ascending: [%lld] = %d after [%lld] = %d", fn,
                                (long long)n, (long long)i, (int)k[i], (long long)(i - 1), (int)k[i - 1]);
        }
    }
    return VN_OK;
}

/* The row of the positional table for token r = (n, f, k): the video table covers the
 * F x S grid, the frames families' a single frame's S positions. */
static inline int64_t pos_row(const vn_encoder *enc, const int32_t *keep, int64_t nk, int64_t r)
{
    int64_t k = r % nk, f = (r / nk) % enc->F, n = r / (nk * enc->F);
    int64_t s = keep[n * nk + k];
    return enc->cfg.family == VN_ENCODER_VIDEO ? f * enc->S + s : s;
}

vn_status vn_encoder_forward_masked(const vn_encoder *enc, vn_encoder_acts *a, const float *clips, int64_t N,
                                    const int32_t *keep, int64_t n_keep, float *tokens)
{
    VN_CHECK_NULL(enc);
    VN_CHECK_NULL(a);
    VN_CHECK_NULL(clips);
    VN_CHECK_NULL(tokens);
    if (a->enc != enc)
        return vn_error(VN_ERR_INVALID_ARG, "vn_encoder_forward_masked: the activations belong to another encoder");
    if (N < 1 || N > a->max_batch)
        return vn_error(VN_ERR_SHAPE,
                        "vn_encoder_forward_masked: batch %lld is outside 1..%lld (the acts' max_batch)",
                        (long long)N, (long long)a->max_batch);
    vn_status st = check_keep(enc, keep, N, n_keep);
    if (st)
        return st;
    const vn_encoder_config *c = &enc->cfg;
    const vn_nn *nn = &enc->nn;
    (void)vn_nn_take_error();
    const float *P = enc->arena;
    int64_t D = enc->D, S = enc->S, nk = n_keep;
    if (keep)
        memcpy(a->keep, keep, (size_t)(N * nk) * sizeof *a->keep);
    else
        for (int64_t n = 0; n < N; n++)
            for (int64_t s = 0; s < S; s++)
                a->keep[n * S + s] = (int32_t)s;
    vn_enc_acts_set_batch(a, N, nk);
    a->masked = 1;
    vn_enc_net net = vn_enc_net_of(enc);
    int64_t rows = a->main.B * a->main.T, K = (int64_t)c->channels * enc->tt * c->patch * c->patch;
    for (int64_t r = 0; r < rows; r++)
        a->pos_idx_host[r] = (int32_t)pos_row(enc, a->keep, nk, r);
    /* the masks are drawn on the host; the engine reads them from its own memory */
    st = vn_nn_upload_async(nn, a->keep_dev, a->keep, (size_t)(N * nk) * sizeof *a->keep);
    if (!st)
        st = vn_nn_upload_async(nn, a->pos_idx, a->pos_idx_host, (size_t)rows * sizeof *a->pos_idx);
    if (st)
        return vn_error_prefix(st, "vn_encoder_forward_masked: ");
    vn_unfold(nn, a->patches, clips, a->keep_dev, nk, N, c->channels, c->frames, c->size, c->size, enc->tt,
              c->patch);
    vn_linear_forward(nn, a->tok, a->patches, P + enc->patch_w, P + enc->patch_b, rows, K, D);
    const float *pos = enc->pos >= 0 ? P + enc->pos : enc->pos_fixed;
    int64_t pos_rows = c->family == VN_ENCODER_VIDEO ? enc->F * S : S;
    vn_pos_add_rows(nn, a->main.x0, a->tok, pos, a->pos_idx, rows, pos_rows, D);
    vn_enc_stack_forward(&net, &a->main, &a->work);
    vn_layernorm_forward(nn, a->fin, a->fin_mean, a->fin_rstd, a->main.blk[c->depth - 1].x2, P + enc->norm_w,
                         P + enc->norm_b, rows, D);
    vn_nn_copy(nn, tokens, a->fin, rows * D);
    st = vn_nn_take_error();
    return st == VN_OK ? VN_OK : vn_error_prefix(st, "vn_encoder_forward_masked: ");
}

vn_status vn_encoder_backward_tokens(const vn_encoder *enc, vn_encoder_acts *a, const float *d_tokens, float *grads)
{
    VN_CHECK_NULL(enc);
    VN_CHECK_NULL(a);
    VN_CHECK_NULL(d_tokens);
    VN_CHECK_NULL(grads);
    if (a->enc != enc)
        return vn_error(VN_ERR_INVALID_ARG, "vn_encoder_backward_tokens: the activations belong to another encoder");
    if (a->N < 1 || !a->train || !a->masked)
        return vn_error(VN_ERR_STATE, "vn_encoder_backward_tokens: the last forward on these activations was not "
                                      "a vn_encoder_forward_masked");
    const vn_encoder_config *c = &enc->cfg;
    const vn_nn *nn = &enc->nn;
    (void)vn_nn_take_error();
    const float *P = enc->arena;
    float *G = grads;
    int64_t N = a->N, D = enc->D, rows = a->main.B * a->main.T;
    int64_t K = (int64_t)c->channels * enc->tt * c->patch * c->patch;
    vn_enc_net net = vn_enc_net_of(enc);
    a->backward_seen = 1;
    vn_nn_zero(nn, a->dx, rows * D);
    vn_layernorm_backward(nn, a->dx, G + enc->norm_w, G + enc->norm_b, d_tokens, a->main.blk[c->depth - 1].x2,
                          P + enc->norm_w, a->fin_mean, a->fin_rstd, rows, D);
    vn_enc_stack_backward(&net, &a->main, &a->work, a->dx, grads);
    /* Tokens of different clips (and, for the frames families, of different frames)
     * share a table row; the scatter sums them in row order. */
    if (enc->pos >= 0)
        vn_pos_add_rows_backward(nn, NULL, G + enc->pos, a->dx, a->pos_idx, rows,
                                 c->family == VN_ENCODER_VIDEO ? enc->F * enc->S : enc->S, D);
    vn_tubelet_backward(nn, G + enc->patch_w, G + enc->patch_b, a->dx, a->patches, P + enc->patch_w, N, rows / N, K,
                        D);
    vn_status st = vn_nn_take_error();
    return st == VN_OK ? VN_OK : vn_error_prefix(st, "vn_encoder_backward_tokens: ");
}
