/*
 * The engine pieces of the V-JEPA objective: the encoder's tube-masked forward and its
 * token-gradient backward (nn/encoder_masked.c), and the predictor (nn/predictor.c).
 * Masking all positions reproduces the whole forward; a masked patch cannot reach the
 * output; backwards agree with central differences; the predictor's parameter table,
 * determinism and argument checks.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vn_test.h"
#include "nn_gradcheck.h"
#include "nn/encoder_train.h"
#include "nn/predictor.h"


/* 4 frames of 8 x 8 RGB, patch 4 (S = 4), tubelet 2, dim 8, 2 heads. */
static vn_encoder_config tiny(vn_encoder_family family, vn_attention_kind att, vn_pos_embedding pos, int depth)
{
    vn_encoder_config c = VN_ENCODER_CONFIG_INIT;
    c.family = family;
    c.frames = 4;
    c.size = 8;
    c.patch = 4;
    c.tubelet_t = family == VN_ENCODER_VIDEO ? 2 : 1;
    c.dim = 8;
    c.depth = depth;
    c.heads = 2;
    c.mlp_ratio = 2.0f;
    c.attention = att;
    c.pooling = VN_POOLING_MEAN;
    c.pos = pos;
    c.temporal_depth = 1;
    c.seed = 11;
    return c;
}

static float *random_clips(const vn_encoder_config *c, int64_t N, uint64_t seed)
{
    int64_t n = N * c->channels * c->frames * c->size * c->size;
    float *x = vn_test_zeros(n);
    ck_assert_ptr_nonnull(x);
    vn_test_rng r;
    vn_test_rng_seed(&r, seed);
    vn_test_fill_normal(&r, x, n, 1.0f);
    return x;
}

static vn_encoder *make(vn_context *ctx, const vn_encoder_config *c)
{
    vn_encoder *enc = NULL;
    VN_ASSERT_OK(vn_encoder_create(&enc, ctx, c));
    return enc;
}

/* Tokens per clip of the masked forward. */
static int64_t masked_L(const vn_encoder *enc, int64_t n_keep)
{
    int64_t F, Lh, Lw;
    vn_encoder_token_grid(enc, &F, &Lh, &Lw);
    return F * n_keep;
}

/* The four kinds the masked forward has: the main stack of each family, video twice. */
typedef struct kind {
    vn_encoder_family family;
    vn_attention_kind att;
    const char *label;
} kind;

static const kind kinds[] = {{VN_ENCODER_VIDEO, VN_ATTENTION_JOINT, "video joint"},
                             {VN_ENCODER_VIDEO, VN_ATTENTION_DIVIDED, "video divided"},
                             {VN_ENCODER_FRAMES, VN_ATTENTION_JOINT, "frames"},
                             {VN_ENCODER_FRAMES_TEMPORAL, VN_ATTENTION_JOINT, "frames+temporal"}};
enum { N_KINDS = sizeof kinds / sizeof kinds[0] };

/* ---- the masked forward ---------------------------------------------------------------- */

START_TEST(token_grid)
{
    vn_context *ctx = vn_test_cpu_context(1);
    for (int k = 0; k < N_KINDS; k++) {
        vn_encoder_config c = tiny(kinds[k].family, kinds[k].att, VN_POS_LEARNED, 1);
        vn_encoder *enc = make(ctx, &c);
        int64_t F, Lh, Lw;
        vn_encoder_token_grid(enc, &F, &Lh, &Lw);
        ck_assert_int_eq(F, kinds[k].family == VN_ENCODER_VIDEO ? 2 : 4);
        ck_assert(Lh == 2 && Lw == 2);
        vn_encoder_destroy(enc);
    }
    vn_context_destroy(ctx);
}
END_TEST

/* Keeping every position is the whole forward: bit for bit, with keep NULL or explicit,
 * on acts that also ran (and keep running) the whole forward. frames+temporal is compared
 * with a frames encoder of the same seed, whose shared parameters start equal (init is
 * per name), since its own encode_tokens gives the temporal stack's outputs. */
START_TEST(keep_all_is_the_whole_forward)
{
    vn_context *ctx = vn_test_cpu_context(2);
    enum { N = 3 };
    for (int k = 0; k < N_KINDS; k++)
        for (int pos = 0; pos < 2; pos++) {
            vn_encoder_config c = tiny(kinds[k].family, kinds[k].att, (vn_pos_embedding)pos, 2);
            vn_encoder *enc = make(ctx, &c);
            vn_encoder_config cf = c;
            if (c.family == VN_ENCODER_FRAMES_TEMPORAL)
                cf.family = VN_ENCODER_FRAMES;
            vn_encoder *ref = make(ctx, &cf);
            int64_t S = 4, L = masked_L(enc, S), D = c.dim, n = N * L * D;
            float *clips = random_clips(&c, N, 3 + k), *want = vn_test_zeros(n), *got = vn_test_zeros(n),
                  *got2 = vn_test_zeros(n), emb[N * 8], emb2[N * 8];
            vn_tensor tc, tt;
            VN_ASSERT_OK(vn_tensor_init(&tc, clips, VN_DTYPE_F32, 5, (int64_t[]){N, 3, 4, 8, 8}));
            VN_ASSERT_OK(vn_tensor_init(&tt, want, VN_DTYPE_F32, 3, (int64_t[]){N, L, D}));
            VN_ASSERT_OK(vn_encoder_encode_tokens(ref, &tc, &tt));
            vn_encoder_acts *acts = NULL;
            VN_ASSERT_OK(vn_encoder_acts_create(enc, N + 1, &acts));
            VN_ASSERT_OK(vn_encoder_forward(enc, acts, clips, N, emb, NULL));
            VN_ASSERT_OK(vn_encoder_forward_masked(enc, acts, clips, N, NULL, S, got));
            int32_t keep[N * 4];
            for (int i = 0; i < N * 4; i++)
                keep[i] = i % 4;
            VN_ASSERT_OK(vn_encoder_forward_masked(enc, acts, clips, N, keep, S, got2));
            ck_assert_msg(memcmp(got, want, (size_t)n * sizeof(float)) == 0, "%s pos %d: keep NULL differs (%.3e)",
                          kinds[k].label, pos, vn_rel_err(kinds[k].label, got, want, n, -1));
            ck_assert_msg(memcmp(got2, want, (size_t)n * sizeof(float)) == 0, "%s: explicit keep-all differs",
                          kinds[k].label);
            /* the whole forward on the same acts afterwards is unchanged */
            VN_ASSERT_OK(vn_encoder_forward(enc, acts, clips, N, emb2, NULL));
            ck_assert(memcmp(emb, emb2, sizeof emb) == 0);
            vn_encoder_acts_destroy(acts);
            free(clips), free(want), free(got), free(got2);
            vn_encoder_destroy(enc);
            vn_encoder_destroy(ref);
        }
    vn_context_destroy(ctx);
}
END_TEST

/* Add delta to every pixel of patch position s of clip n, in every frame. */
static void poke_patch(const vn_encoder_config *c, float *clips, int64_t n, int s, float delta)
{
    int64_t Lw = c->size / c->patch, h0 = (s / Lw) * c->patch, w0 = (s % Lw) * c->patch;
    for (int64_t ch = 0; ch < c->channels; ch++)
        for (int64_t t = 0; t < c->frames; t++)
            for (int64_t y = 0; y < c->patch; y++)
                for (int64_t x = 0; x < c->patch; x++)
                    clips[(((n * c->channels + ch) * c->frames + t) * c->size + h0 + y) * c->size + w0 + x] += delta;
}

/* Tube masking hides a patch entirely: changing its pixels leaves the output bit-identical,
 * while changing a kept patch changes it; the kept tokens differ from the same tokens of
 * the whole forward (attention sees fewer tokens); a clip's tokens do not depend on the
 * other clips of the batch. */
START_TEST(mask_hides_patches)
{
    vn_context *ctx = vn_test_cpu_context(2);
    enum { N = 2, NK = 2 };
    for (int k = 0; k < N_KINDS; k++) {
        vn_encoder_config c = tiny(kinds[k].family, kinds[k].att, VN_POS_LEARNED, 2);
        vn_encoder *enc = make(ctx, &c);
        int64_t L = masked_L(enc, NK), Lall = masked_L(enc, 4), D = c.dim, n = N * L * D;
        /* clip 0 keeps positions 1, 3; clip 1 keeps 0, 2 */
        const int32_t keep[N * NK] = {1, 3, 0, 2};
        float *clips = random_clips(&c, N, 40 + k), *t0 = vn_test_zeros(n), *t1 = vn_test_zeros(n),
              *full = vn_test_zeros(N * Lall * D), *one = vn_test_zeros(L * D);
        vn_encoder_acts *acts = NULL;
        VN_ASSERT_OK(vn_encoder_acts_create(enc, N, &acts));
        VN_ASSERT_OK(vn_encoder_forward_masked(enc, acts, clips, N, keep, NK, t0));
        poke_patch(&c, clips, 0, 2, 5.0f);
        poke_patch(&c, clips, 1, 3, -5.0f);
        VN_ASSERT_OK(vn_encoder_forward_masked(enc, acts, clips, N, keep, NK, t1));
        ck_assert_msg(memcmp(t0, t1, (size_t)n * sizeof(float)) == 0, "%s: a masked patch changed the tokens",
                      kinds[k].label);
        poke_patch(&c, clips, 0, 3, 0.5f);
        VN_ASSERT_OK(vn_encoder_forward_masked(enc, acts, clips, N, keep, NK, t1));
        ck_assert_msg(memcmp(t0, t1, (size_t)(L * D) * sizeof(float)) != 0, "%s: a kept patch changed nothing",
                      kinds[k].label);
        /* clip 1 did not change */
        ck_assert_msg(memcmp(t0 + L * D, t1 + L * D, (size_t)(L * D) * sizeof(float)) == 0,
                      "%s: clip 0's pixels reached clip 1", kinds[k].label);
        /* clip 1 alone gives its rows of the batch */
        VN_ASSERT_OK(vn_encoder_forward_masked(enc, acts, clips + 3 * 4 * 8 * 8, 1, keep + NK, NK, one));
        ck_assert_msg(vn_rel_err(kinds[k].label, one, t1 + L * D, L * D, 1e-6) < 1e-6,
                      "%s: clip 1 alone differs from its rows in the batch", kinds[k].label);
        /* against the whole forward: kept tokens see fewer neighbours, so they differ */
        VN_ASSERT_OK(vn_encoder_forward_masked(enc, acts, clips, N, NULL, 4, full));
        int64_t F = L / NK;
        double diff = 0.0;
        for (int64_t f = 0; f < F; f++)
            for (int64_t j = 0; j < NK; j++)
                for (int64_t d = 0; d < D; d++)
                    diff += fabs((double)t1[(f * NK + j) * D + d] - full[(f * 4 + keep[j]) * D + d]);
        ck_assert_msg(diff > 1e-3, "%s: masked tokens equal the whole forward's", kinds[k].label);
        vn_encoder_acts_destroy(acts);
        free(clips), free(t0), free(t1), free(full), free(one);
        vn_encoder_destroy(enc);
    }
    vn_context_destroy(ctx);
}
END_TEST

START_TEST(masked_args_are_checked)
{
    vn_context *ctx = vn_test_cpu_context(1);
    vn_encoder_config c = tiny(VN_ENCODER_VIDEO, VN_ATTENTION_DIVIDED, VN_POS_LEARNED, 1);
    vn_encoder *enc = make(ctx, &c), *other = make(ctx, &c);
    float *clips = random_clips(&c, 2, 1), tok[2 * 8 * 8], g[2 * 8 * 8] = {0};
    int64_t nf;
    vn_encoder_params(enc, &nf);
    float *grads = vn_test_zeros(nf);
    vn_encoder_acts *acts = NULL;
    VN_ASSERT_OK(vn_encoder_acts_create(enc, 2, &acts));
    /* no masked forward yet */
    VN_ASSERT_FAILS(vn_encoder_backward_tokens(enc, acts, g, grads), VN_ERR_STATE);
    const int32_t ok[4] = {0, 3, 1, 2};
    VN_ASSERT_FAILS(vn_encoder_forward_masked(enc, acts, clips, 2, (const int32_t[]){0, 4, 1, 2}, 2, tok),
                    VN_ERR_INVALID_ARG);
    ck_assert_msg(strstr(vn_last_error(), "keep[0][1] is 4"), "%s", vn_last_error());
    VN_ASSERT_FAILS(vn_encoder_forward_masked(enc, acts, clips, 2, (const int32_t[]){0, 3, -1, 2}, 2, tok),
                    VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_encoder_forward_masked(enc, acts, clips, 2, (const int32_t[]){0, 3, 2, 1}, 2, tok),
                    VN_ERR_INVALID_ARG);
    ck_assert_msg(strstr(vn_last_error(), "ascending"), "%s", vn_last_error());
    VN_ASSERT_FAILS(vn_encoder_forward_masked(enc, acts, clips, 2, (const int32_t[]){1, 1, 0, 2}, 2, tok),
                    VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_encoder_forward_masked(enc, acts, clips, 2, ok, 0, tok), VN_ERR_INVALID_ARG);
    ck_assert_msg(strstr(vn_last_error(), "n_keep"), "%s", vn_last_error());
    VN_ASSERT_FAILS(vn_encoder_forward_masked(enc, acts, clips, 1, ok, 5, tok), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_encoder_forward_masked(enc, acts, clips, 2, NULL, 3, tok), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_encoder_forward_masked(enc, acts, clips, 3, ok, 2, tok), VN_ERR_SHAPE);
    VN_ASSERT_FAILS(vn_encoder_forward_masked(enc, acts, clips, 0, ok, 2, tok), VN_ERR_SHAPE);
    VN_ASSERT_FAILS(vn_encoder_forward_masked(other, acts, clips, 2, ok, 2, tok), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_encoder_forward_masked(enc, acts, clips, 2, ok, 2, NULL), VN_ERR_INVALID_ARG);
    /* the failures above left no masked forward behind */
    VN_ASSERT_FAILS(vn_encoder_backward_tokens(enc, acts, g, grads), VN_ERR_STATE);
    /* each backward belongs to its forward */
    VN_ASSERT_OK(vn_encoder_forward_masked(enc, acts, clips, 2, ok, 2, tok));
    VN_ASSERT_FAILS(vn_encoder_backward(enc, acts, g, grads), VN_ERR_STATE);
    VN_ASSERT_OK(vn_encoder_backward_tokens(enc, acts, g, grads));
    VN_ASSERT_OK(vn_encoder_forward(enc, acts, clips, 2, tok, NULL));
    VN_ASSERT_FAILS(vn_encoder_backward_tokens(enc, acts, g, grads), VN_ERR_STATE);
    VN_ASSERT_OK(vn_encoder_backward(enc, acts, g, grads));
    vn_encoder_acts_destroy(acts);
    free(clips), free(grads);
    vn_encoder_destroy(enc);
    vn_encoder_destroy(other);
    vn_context_destroy(ctx);
}
END_TEST

/* ---- the token backward against central differences ------------------------------------- */

typedef struct enc_fd {
    const vn_encoder *enc;
    vn_encoder_acts *acts;
    const float *clips, *w;
    const int32_t *keep;
    int64_t N, n_keep, n;
    float *tok;
} enc_fd;

static double enc_loss(void *p)
{
    enc_fd *f = p;
    vn_encoder_forward_masked(f->enc, f->acts, f->clips, f->N, f->keep, f->n_keep, f->tok);
    return vn_gradcheck_dot(f->tok, f->w, f->n);
}

static double check_tokens_backward(vn_context *ctx, const vn_encoder_config *c, const int32_t *keep, int64_t n_keep,
                                    const char *label)
{
    enum { N = 2 };
    vn_encoder *enc = make(ctx, c);
    int64_t nf, n = N * masked_L(enc, n_keep) * c->dim;
    float *params = vn_encoder_params(enc, &nf);
    float *grads = vn_test_zeros(nf), *clips = random_clips(c, N, 17), *w = vn_test_zeros(n), *tok = vn_test_zeros(n);
    vn_test_rng r;
    vn_test_rng_seed(&r, 29);
    vn_test_fill_normal(&r, w, n, 1.0f);
    vn_encoder_acts *acts = NULL;
    VN_ASSERT_OK(vn_encoder_acts_create(enc, N, &acts));
    VN_ASSERT_OK(vn_encoder_forward_masked(enc, acts, clips, N, keep, n_keep, tok));
    VN_ASSERT_OK(vn_encoder_backward_tokens(enc, acts, w, grads));
    int count;
    VN_ASSERT_OK(vn_encoder_param_count(enc, &count));
    vn_gradcheck_input *in = calloc((size_t)count, sizeof *in);
    int n_in = 0, seen_pos = 0;
    for (int i = 0; i < count; i++) {
        const char *name;
        int nd;
        int64_t sh[VN_MAX_DIMS], m = 1;
        VN_ASSERT_OK(vn_encoder_param_info(enc, i, &name, &nd, sh));
        for (int d = 0; d < nd; d++)
            m *= sh[d];
        int64_t off = vn_encoder_param_offset(enc, i);
        /* the temporal stack is not part of the masked forward: its gradient stays 0 */
        if (!strncmp(name, "temporal.", 9)) {
            for (int64_t j = 0; j < m; j++)
                ck_assert_msg(grads[off + j] == 0.0f, "%s: %s has gradient", label, name);
            continue;
        }
        seen_pos |= !strcmp(name, "pos_embed");
        in[n_in++] = (vn_gradcheck_input){params + off, m, grads + off, name};
    }
    ck_assert(seen_pos || c->pos == VN_POS_SINCOS);
    enc_fd f = {enc, acts, clips, w, keep, N, n_keep, n, tok};
    vn_gradcheck_opts o = {1e-2, 8, 1e-3, 0};
    double err = vn_gradcheck(label, in, n_in, enc_loss, &f, &o);
    /* a second backward accumulates: twice the gradient */
    float *once = vn_test_copy(grads, nf);
    VN_ASSERT_OK(vn_encoder_forward_masked(enc, acts, clips, N, keep, n_keep, tok));
    VN_ASSERT_OK(vn_encoder_backward_tokens(enc, acts, w, grads));
    for (int64_t i = 0; i < nf; i++)
        ck_assert_msg(fabsf(grads[i] - 2.0f * once[i]) <= 1e-5f * (1.0f + fabsf(once[i])),
                      "%s: grads[%lld] %g vs 2 x %g", label, (long long)i, grads[i], once[i]);
    vn_encoder_acts_destroy(acts);
    free(in), free(grads), free(clips), free(w), free(tok), free(once);
    vn_encoder_destroy(enc);
    return err;
}

START_TEST(tokens_backward_finite_differences)
{
    vn_context *ctx = vn_test_cpu_context(1);
    const int32_t keep[2 * 3] = {0, 1, 3, 1, 2, 3};
    double worst = 0.0;
    for (int k = 0; k < N_KINDS; k++)
        for (int pos = 0; pos < 2; pos++) {
            vn_encoder_config c = tiny(kinds[k].family, kinds[k].att, (vn_pos_embedding)pos, 2);
            c.init_std = 0.3f; /* every path well above float32 rounding */
            char label[96];
            fmt_into(label, sizeof label, "masked %s %s", kinds[k].label, pos ? "sincos" : "learned");
            double err = check_tokens_backward(ctx, &c, keep, 3, label);
            printf("encoder tokens fd %-36s max rel err %.2e\n", label, err);
            worst = err > worst ? err : worst;
        }
    /* and the unmasked case through the same path */
    vn_encoder_config c = tiny(VN_ENCODER_VIDEO, VN_ATTENTION_DIVIDED, VN_POS_LEARNED, 1);
    c.init_std = 0.3f;
    double err = check_tokens_backward(ctx, &c, NULL, 4, "masked video divided keep-all");
    worst = err > worst ? err : worst;
    ck_assert_msg(worst < 5e-3, "worst finite-difference error %.3e", worst);
    vn_context_destroy(ctx);
}
END_TEST

/* ---- the predictor ------------------------------------------------------------------------ */

static vn_predictor_config pred_cfg(void)
{
    vn_predictor_config c = {.in_dim = 8, .dim = 12, .depth = 2, .heads = 2, .mlp_ratio = 2.0f, .F = 2, .Lh = 2,
                             .Lw = 3, .seed = 5, .init_std = 0.02f};
    return c;
}

START_TEST(predictor_params)
{
    nn_env env;
    env_open(&env, 1);
    vn_predictor_config c = pred_cfg();
    vn_predictor *p = NULL, *q = NULL, *r = NULL;
    VN_ASSERT_OK(vn_predictor_create(&p, &env.nn, &c));
    VN_ASSERT_OK(vn_predictor_create(&q, &env.nn, &c));
    c.seed = 6;
    VN_ASSERT_OK(vn_predictor_create(&r, &env.nn, &c));
    int count = vn_predictor_param_count(p);
    ck_assert_int_eq(count, 3 + 2 * 12 + 4);
    static const struct {
        const char *name;
        int ndim;
        int64_t s0, s1;
        int decays;
    } want[] = {{"predictor_embed.weight", 2, 12, 8, 1}, {"predictor_embed.bias", 1, 12, 0, 0},
                {"mask_token", 1, 12, 0, 0},            {"blocks.0.norm1.weight", 1, 12, 0, 0},
                {"blocks.0.norm1.bias", 1, 12, 0, 0},   {"blocks.0.attn.qkv.weight", 2, 36, 12, 1},
                {"blocks.0.attn.qkv.bias", 1, 36, 0, 0}, {"blocks.0.attn.proj.weight", 2, 12, 12, 1},
                {"blocks.0.attn.proj.bias", 1, 12, 0, 0}, {"blocks.0.norm2.weight", 1, 12, 0, 0},
                {"blocks.0.norm2.bias", 1, 12, 0, 0},   {"blocks.0.mlp.fc1.weight", 2, 24, 12, 1},
                {"blocks.0.mlp.fc1.bias", 1, 24, 0, 0}, {"blocks.0.mlp.fc2.weight", 2, 12, 24, 1},
                {"blocks.0.mlp.fc2.bias", 1, 12, 0, 0}};
    for (int i = 0; i < (int)(sizeof want / sizeof want[0]); i++) {
        const char *name;
        int nd, decays;
        int64_t sh[VN_MAX_DIMS], off;
        VN_ASSERT_OK(vn_predictor_param_info(p, i, &name, &nd, sh, &off, &decays));
        ck_assert_str_eq(name, want[i].name);
        ck_assert_int_eq(nd, want[i].ndim);
        ck_assert_int_eq(sh[0], want[i].s0);
        if (nd == 2)
            ck_assert_int_eq(sh[1], want[i].s1);
        ck_assert_int_eq(decays, want[i].decays);
        ck_assert_int_eq(off % 16, 0);
    }
    static const char *tail[] = {"predictor_norm.weight", "predictor_norm.bias", "predictor_proj.weight",
                                 "predictor_proj.bias"};
    int64_t nf, total = 0;
    float *pa = vn_predictor_params(p, &nf), *pq = vn_predictor_params(q, NULL), *pr = vn_predictor_params(r, NULL);
    for (int i = 0; i < count; i++) {
        const char *name;
        int nd, decays;
        int64_t sh[VN_MAX_DIMS], off, m = 1;
        VN_ASSERT_OK(vn_predictor_param_info(p, i, &name, &nd, sh, &off, &decays));
        if (i >= count - 4)
            ck_assert_str_eq(name, tail[i - (count - 4)]);
        if (!strcmp(name, "predictor_proj.weight"))
            ck_assert(nd == 2 && sh[0] == 8 && sh[1] == 12 && decays == 1);
        for (int d = 0; d < nd; d++)
            m *= sh[d];
        total += m;
        ck_assert(off + m <= nf);
        const float *x = pa + off;
        for (int64_t j = 0; j < m; j++) {
            if (strstr(name, ".bias"))
                ck_assert(x[j] == 0.0f);
            else if (strstr(name, "norm"))
                ck_assert(x[j] == 1.0f);
            else
                ck_assert_msg(fabsf(x[j]) <= 2.0f * 0.02f && x[j] != 0.0f, "%s[%lld] = %g", name, (long long)j, x[j]);
        }
    }
    ck_assert(total <= nf);
    ck_assert(memcmp(pa, pq, (size_t)nf * sizeof(float)) == 0);
    ck_assert(memcmp(pa, pr, (size_t)nf * sizeof(float)) != 0);
    VN_ASSERT_FAILS(vn_predictor_param_info(p, count, NULL, NULL, NULL, NULL, NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_predictor_param_info(p, -1, NULL, NULL, NULL, NULL, NULL), VN_ERR_INVALID_ARG);
    vn_predictor_destroy(p);
    vn_predictor_destroy(q);
    vn_predictor_destroy(r);
    vn_predictor_destroy(NULL);
    vn_be_close(&env.be);
}
END_TEST

typedef struct pred_fd {
    const vn_predictor *p;
    vn_predictor_acts *a;
    const float *ctx, *w;
    const int32_t *cpos, *tpos;
    int64_t Kc, Kt, N, n;
    float *pred;
} pred_fd;

static double pred_loss(void *v)
{
    pred_fd *f = v;
    vn_predictor_forward(f->p, f->a, f->ctx, f->cpos, f->Kc, f->tpos, f->Kt, f->N, f->pred);
    return vn_gradcheck_dot(f->pred, f->w, f->n);
}

START_TEST(predictor_finite_differences)
{
    nn_env env;
    env_open(&env, 1);
    vn_predictor_config c = pred_cfg();
    c.init_std = 0.3f;
    vn_predictor *p = NULL;
    VN_ASSERT_OK(vn_predictor_create(&p, &env.nn, &c));
    enum { N = 2, KC = 3, KT = 2, D = 8 };
    const int32_t cpos[N * KC] = {0, 4, 11, 2, 3, 7}, tpos[N * KT] = {5, 9, 0, 10};
    vn_test_rng r;
    vn_test_rng_seed(&r, 71);
    float ctx[N * KC * D], w[N * KT * D], pred[N * KT * D], dctx[N * KC * D] = {0};
    vn_test_fill_normal(&r, ctx, N * KC * D, 1.0f);
    vn_test_fill_normal(&r, w, N * KT * D, 1.0f);
    int64_t nf;
    float *params = vn_predictor_params(p, &nf), *grads = vn_test_zeros(nf);
    vn_predictor_acts *a = NULL;
    /* acts larger than the call: the forward uses a prefix of each buffer */
    VN_ASSERT_OK(vn_predictor_acts_create(p, N + 1, KC + 2, KT + 1, &a));
    VN_ASSERT_OK(vn_predictor_forward(p, a, ctx, cpos, KC, tpos, KT, N, pred));
    VN_ASSERT_OK(vn_predictor_backward(p, a, w, grads, dctx));
    int count = vn_predictor_param_count(p);
    vn_gradcheck_input *in = calloc((size_t)count + 1, sizeof *in);
    for (int i = 0; i < count; i++) {
        const char *name;
        int nd;
        int64_t sh[VN_MAX_DIMS], off, m = 1;
        VN_ASSERT_OK(vn_predictor_param_info(p, i, &name, &nd, sh, &off, NULL));
        for (int d = 0; d < nd; d++)
            m *= sh[d];
        in[i] = (vn_gradcheck_input){params + off, m, grads + off, name};
    }
    in[count] = (vn_gradcheck_input){ctx, N * KC * D, dctx, "ctx"};
    pred_fd f = {p, a, ctx, w, cpos, tpos, KC, KT, N, N * KT * D, pred};
    vn_gradcheck_opts o = {1e-2, 12, 1e-3, 0};
    double err = vn_gradcheck("predictor", in, count + 1, pred_loss, &f, &o);
    printf("predictor fd max rel err %.2e\n", err);
    ck_assert_msg(err < 5e-3, "predictor finite-difference error %.3e", err);
    /* backward accumulates, and d_ctx may be left out */
    float *once = vn_test_copy(grads, nf);
    VN_ASSERT_OK(vn_predictor_forward(p, a, ctx, cpos, KC, tpos, KT, N, pred));
    VN_ASSERT_OK(vn_predictor_backward(p, a, w, grads, NULL));
    for (int64_t i = 0; i < nf; i++)
        ck_assert(fabsf(grads[i] - 2.0f * once[i]) <= 1e-5f * (1.0f + fabsf(once[i])));
    vn_predictor_acts_destroy(a);
    free(in), free(grads), free(once);
    vn_predictor_destroy(p);
    vn_be_close(&env.be);
}
END_TEST

/* Same inputs give the same bits; a clip's predictions do not depend on the other clips;
 * reordering the target queries reorders the predictions (attention has no notion of
 * order beyond the position embedding). */
START_TEST(predictor_determinism)
{
    nn_env env;
    env_open(&env, 2);
    vn_predictor_config c = pred_cfg();
    c.init_std = 0.2f;
    vn_predictor *p = NULL;
    VN_ASSERT_OK(vn_predictor_create(&p, &env.nn, &c));
    enum { N = 2, KC = 4, KT = 3, D = 8 };
    const int32_t cpos[N * KC] = {0, 1, 6, 7, 2, 3, 4, 5}, tpos[N * KT] = {2, 8, 11, 0, 9, 10},
                  tperm[KT] = {11, 2, 8};
    vn_test_rng r;
    vn_test_rng_seed(&r, 3);
    float ctx[N * KC * D], p0[N * KT * D], p1[N * KT * D], one[KT * D], perm[KT * D];
    vn_test_fill_normal(&r, ctx, N * KC * D, 1.0f);
    vn_predictor_acts *a = NULL;
    VN_ASSERT_OK(vn_predictor_acts_create(p, N, KC, KT, &a));
    VN_ASSERT_OK(vn_predictor_forward(p, a, ctx, cpos, KC, tpos, KT, N, p0));
    VN_ASSERT_OK(vn_predictor_forward(p, a, ctx, cpos, KC, tpos, KT, N, p1));
    ck_assert(memcmp(p0, p1, sizeof p0) == 0);
    VN_ASSERT_OK(vn_predictor_forward(p, a, ctx + KC * D, cpos + KC, KC, tpos + KT, KT, 1, one));
    ck_assert(vn_rel_err("predictor clip 1 alone", one, p0 + KT * D, KT * D, 1e-6) < 1e-6);
    VN_ASSERT_OK(vn_predictor_forward(p, a, ctx, cpos, KC, tperm, KT, 1, perm));
    static const int from[KT] = {2, 0, 1};
    for (int j = 0; j < KT; j++)
        ck_assert(vn_rel_err("predictor permuted targets", perm + j * D, p0 + from[j] * D, D, 1e-5) < 1e-5);
    /* different target positions give different predictions */
    ck_assert(memcmp(perm, p0, KT * D * sizeof(float)) != 0);
    vn_predictor_acts_destroy(a);
    vn_predictor_destroy(p);
    vn_be_close(&env.be);
}
END_TEST

START_TEST(predictor_args_are_checked)
{
    nn_env env;
    env_open(&env, 1);
    vn_predictor_config good = pred_cfg();
    static const char *fields[] = {"in_dim", "dim", "depth", "heads", "mlp_ratio", "F", "Lh", "Lw", "init_std"};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        vn_predictor_config c = good;
        const char *f = fields[i];
        if (!strcmp(f, "in_dim")) c.in_dim = 0;
        if (!strcmp(f, "dim")) c.dim = 13;
        if (!strcmp(f, "depth")) c.depth = 0;
        if (!strcmp(f, "heads")) c.heads = -1;
        if (!strcmp(f, "mlp_ratio")) c.mlp_ratio = NAN;
        if (!strcmp(f, "F")) c.F = 0;
        if (!strcmp(f, "Lh")) c.Lh = -2;
        if (!strcmp(f, "Lw")) c.Lw = 0;
        if (!strcmp(f, "init_std")) c.init_std = 0.0f;
        vn_predictor *p = (vn_predictor *)0x1;
        VN_ASSERT_FAILS(vn_predictor_create(&p, &env.nn, &c), VN_ERR_INVALID_ARG);
        ck_assert_ptr_null(p);
        char want[32];
        fmt_into(want, sizeof want, "'%s'", f);
        ck_assert_msg(strstr(vn_last_error(), want), "message for %s: %s", f, vn_last_error());
    }
    vn_predictor *p = NULL, *q = NULL;
    VN_ASSERT_FAILS(vn_predictor_create(&p, NULL, &good), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_predictor_create(&p, &env.nn, NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_OK(vn_predictor_create(&p, &env.nn, &good));
    VN_ASSERT_OK(vn_predictor_create(&q, &env.nn, &good));
    vn_predictor_acts *a = NULL;
    VN_ASSERT_FAILS(vn_predictor_acts_create(p, 0, 2, 2, &a), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_predictor_acts_create(p, 1, 0, 2, &a), VN_ERR_INVALID_ARG);
    ck_assert_msg(strstr(vn_last_error(), "max_ctx"), "%s", vn_last_error());
    VN_ASSERT_FAILS(vn_predictor_acts_create(p, 1, 2, -1, &a), VN_ERR_INVALID_ARG);
    VN_ASSERT_OK(vn_predictor_acts_create(p, 2, 3, 2, &a));
    float ctx[2 * 3 * 8] = {0}, pred[2 * 2 * 8], grads_dummy[1];
    const int32_t cpos[6] = {0, 1, 2, 3, 4, 5}, tpos[4] = {6, 7, 8, 9};
    VN_ASSERT_FAILS(vn_predictor_backward(p, a, pred, grads_dummy, NULL), VN_ERR_STATE);
    VN_ASSERT_FAILS(vn_predictor_forward(p, a, ctx, (const int32_t[]){0, 1, 12, 3, 4, 5}, 3, tpos, 2, 2, pred),
                    VN_ERR_INVALID_ARG);
    ck_assert_msg(strstr(vn_last_error(), "ctx_pos[0][2] is 12"), "%s", vn_last_error());
    VN_ASSERT_FAILS(vn_predictor_forward(p, a, ctx, cpos, 3, (const int32_t[]){6, 7, -1, 9}, 2, 2, pred),
                    VN_ERR_INVALID_ARG);
    ck_assert_msg(strstr(vn_last_error(), "tgt_pos[1][0]"), "%s", vn_last_error());
    VN_ASSERT_FAILS(vn_predictor_forward(p, a, ctx, cpos, 0, tpos, 2, 2, pred), VN_ERR_SHAPE);
    ck_assert_msg(strstr(vn_last_error(), "Kc"), "%s", vn_last_error());
    VN_ASSERT_FAILS(vn_predictor_forward(p, a, ctx, cpos, 4, tpos, 2, 1, pred), VN_ERR_SHAPE);
    VN_ASSERT_FAILS(vn_predictor_forward(p, a, ctx, cpos, 3, tpos, 0, 2, pred), VN_ERR_SHAPE);
    VN_ASSERT_FAILS(vn_predictor_forward(p, a, ctx, cpos, 3, tpos, 3, 1, pred), VN_ERR_SHAPE);
    VN_ASSERT_FAILS(vn_predictor_forward(p, a, ctx, cpos, 3, tpos, 2, 3, pred), VN_ERR_SHAPE);
    VN_ASSERT_FAILS(vn_predictor_forward(p, a, ctx, cpos, 3, tpos, 2, 0, pred), VN_ERR_SHAPE);
    VN_ASSERT_FAILS(vn_predictor_forward(p, a, NULL, cpos, 3, tpos, 2, 2, pred), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_predictor_forward(q, a, ctx, cpos, 3, tpos, 2, 2, pred), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_predictor_backward(p, a, pred, grads_dummy, NULL), VN_ERR_STATE);
    VN_ASSERT_OK(vn_predictor_forward(p, a, ctx, cpos, 3, tpos, 2, 2, pred));
    VN_ASSERT_FAILS(vn_predictor_backward(p, a, NULL, grads_dummy, NULL), VN_ERR_INVALID_ARG);
    vn_predictor_acts_destroy(a);
    vn_predictor_acts_destroy(NULL);
    vn_predictor_destroy(p);
    vn_predictor_destroy(q);
    vn_be_close(&env.be);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("jepa_parts");
    TCase *tm = tcase_create("masked_encoder");
    tcase_add_test(tm, token_grid);
    tcase_add_test(tm, keep_all_is_the_whole_forward);
    tcase_add_test(tm, mask_hides_patches);
    tcase_add_test(tm, masked_args_are_checked);
    tcase_add_test(tm, tokens_backward_finite_differences);
    suite_add_tcase(s, tm);
    TCase *tp = tcase_create("predictor");
    tcase_add_test(tp, predictor_params);
    tcase_add_test(tp, predictor_finite_differences);
    tcase_add_test(tp, predictor_determinism);
    tcase_add_test(tp, predictor_args_are_checked);
    suite_add_tcase(s, tp);
    return vn_test_run(s);
}
