/*
 * The encoder families (encoder.h, nn/encoder_train.h): configs and presets, parameter
 * counts and names, output shapes, deterministic init, parameter access, encode against
 * the training forward, thread-safe encoding, the whole-encoder backward against finite
 * differences, and each family overfitting a tiny batch.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "vn_test.h"
#include "nn_gradcheck.h"
#include "nn/encoder_train.h"
#include "nn/optim.h"


/* 4 frames of 8 x 8 RGB, patch 4, tubelet 2, dim 16, depth 1, 2 heads. */
static vn_encoder_config tiny(vn_encoder_family family, vn_attention_kind att, vn_pooling pool, vn_pos_embedding pos)
{
    vn_encoder_config c = VN_ENCODER_CONFIG_INIT;
    c.family = family;
    c.frames = 4;
    c.size = 8;
    c.patch = 4;
    c.tubelet_t = family == VN_ENCODER_VIDEO ? 2 : 1;
    c.dim = 16;
    c.depth = 1;
    c.heads = 2;
    c.mlp_ratio = 2.0f;
    c.attention = att;
    c.pooling = pool;
    c.pos = pos;
    c.temporal_depth = 1;
    c.seed = 7;
    return c;
}

static int64_t block_params(int64_t D, int64_t H, int divided)
{
    int64_t attn = 2 * D + 3 * D * D + 3 * D + D * D + D;
    return attn * (divided ? 2 : 1) + 2 * D + H * D + H + D * H + D;
}

/* The parameter count the layout in encoder.h and the issue implies, derived independently. */
static int64_t expected_params(const vn_encoder_config *c)
{
    int64_t D = c->dim, H = lroundf((float)c->dim * c->mlp_ratio), S = (int64_t)(c->size / c->patch) * (c->size / c->patch);
    int64_t tt = c->family == VN_ENCODER_VIDEO ? c->tubelet_t : 1;
    int64_t L = c->family == VN_ENCODER_VIDEO ? (c->frames / tt) * S : S;
    int64_t n = D * c->channels * tt * c->patch * c->patch + D;
    if (c->pos == VN_POS_LEARNED)
        n += L * D;
    n += c->depth * block_params(D, H, c->attention == VN_ATTENTION_DIVIDED);
    n += 2 * D;
    if (c->pooling == VN_POOLING_ATTENTIVE)
        n += D;
    if (c->family == VN_ENCODER_FRAMES_TEMPORAL)
        n += (int64_t)c->frames * D + c->temporal_depth * block_params(D, H, 0) + 2 * D;
    return n;
}

static float *random_clips(const vn_encoder_config *c, int64_t N, uint64_t seed)
{
    int64_t n = N * c->channels * c->frames * c->size * c->size;
    float *x = vn_test_zeros(n);
    vn_test_rng r;
    vn_test_rng_seed(&r, seed);
    vn_test_fill_normal(&r, x, n, 1.0f);
    return x;
}

START_TEST(presets_and_param_counts)
{
    vn_encoder_config c;
    VN_ASSERT_OK(vn_encoder_config_init(&c, VN_ENCODER_CONFIG_VERSION));
    ck_assert_int_eq(c.family, VN_ENCODER_VIDEO);
    ck_assert_int_eq(c.dim, 128);
    {
        /* tubelet_t belongs to the video family: a frames encoder made from the default
         * (video) config ignores it, and its stored config says 1 */
        vn_context *ctx = vn_test_cpu_context(1);
        vn_encoder *enc = NULL;
        c.family = VN_ENCODER_FRAMES;
        VN_ASSERT_OK(vn_encoder_create(&enc, ctx, &c));
        vn_encoder_config got;
        VN_ASSERT_OK(vn_encoder_get_config(enc, &got));
        ck_assert_int_eq(got.tubelet_t, 1);
        int64_t L, D;
        VN_ASSERT_OK(vn_encoder_output_shape(enc, &L, &D));
        ck_assert_int_eq(L, 16 * 16);
        vn_encoder_destroy(enc);
        vn_context_destroy(ctx);
    }
    VN_ASSERT_OK(vn_encoder_config_preset(&c, "xs", VN_ENCODER_VIDEO));
    ck_assert(c.frames == 16 && c.size == 32 && c.channels == 3 && c.patch == 8 && c.tubelet_t == 2);
    ck_assert(c.dim == 128 && c.depth == 4 && c.heads == 4);
    VN_ASSERT_OK(vn_encoder_config_preset(&c, "s", VN_ENCODER_FRAMES));
    ck_assert(c.frames == 16 && c.size == 64 && c.patch == 8 && c.tubelet_t == 1);
    ck_assert(c.dim == 192 && c.depth == 6 && c.heads == 3 && c.family == VN_ENCODER_FRAMES);
    VN_ASSERT_FAILS(vn_encoder_config_preset(&c, "m", VN_ENCODER_VIDEO), VN_ERR_INVALID_ARG);

    vn_context *ctx = vn_test_cpu_context(1);
    static const char *presets[] = {"xs", "s"};
    for (int p = 0; p < 2; p++)
        for (int f = 0; f <= VN_ENCODER_VIDEO; f++)
            for (int a = 0; a < (f == VN_ENCODER_VIDEO ? 2 : 1); a++) {
                VN_ASSERT_OK(vn_encoder_config_preset(&c, presets[p], (vn_encoder_family)f));
                c.attention = (vn_attention_kind)a;
                c.pooling = a ? VN_POOLING_ATTENTIVE : VN_POOLING_MEAN;
                vn_encoder *enc = NULL;
                VN_ASSERT_OK(vn_encoder_create(&enc, ctx, &c));
                int64_t n = 0;
                VN_ASSERT_OK(vn_encoder_num_params(enc, &n));
                ck_assert_msg(n == expected_params(&c), "%s %s attention %d: %lld params, expected %lld", presets[p],
                              vn_encoder_family_name(c.family), a, (long long)n, (long long)expected_params(&c));
                /* the sum over the table agrees with the total */
                int count = 0;
                VN_ASSERT_OK(vn_encoder_param_count(enc, &count));
                int64_t sum = 0;
                for (int i = 0; i < count; i++) {
                    int nd = 0;
                    int64_t sh[VN_MAX_DIMS];
                    VN_ASSERT_OK(vn_encoder_param_info(enc, i, NULL, &nd, sh));
                    int64_t m = 1;
                    for (int d = 0; d < nd; d++)
                        m *= sh[d];
                    sum += m;
                }
                ck_assert_int_eq(sum, n);
                vn_encoder_destroy(enc);
            }
    /* xs video, counted by hand: patch 49280 + pos 16384 + 4 blocks of 198272 + norm 256 */
    VN_ASSERT_OK(vn_encoder_config_preset(&c, "xs", VN_ENCODER_VIDEO));
    ck_assert_int_eq(expected_params(&c), 859008);
    vn_context_destroy(ctx);
}
END_TEST

START_TEST(param_names_and_layouts)
{
    vn_context *ctx = vn_test_cpu_context(1);
    vn_encoder_config c = tiny(VN_ENCODER_VIDEO, VN_ATTENTION_DIVIDED, VN_POOLING_ATTENTIVE, VN_POS_LEARNED);
    vn_encoder *enc = NULL;
    VN_ASSERT_OK(vn_encoder_create(&enc, ctx, &c));
    const char *name;
    int nd;
    int64_t sh[VN_MAX_DIMS];
    VN_ASSERT_OK(vn_encoder_param_info(enc, 0, &name, &nd, sh));
    ck_assert_str_eq(name, "patch_embed.proj.weight");
    ck_assert(nd == 5 && sh[0] == 16 && sh[1] == 3 && sh[2] == 2 && sh[3] == 4 && sh[4] == 4);
    static const char *want[] = {"patch_embed.proj.bias", "pos_embed", "blocks.0.tnorm.weight",
                                 "blocks.0.tattn.qkv.weight", "blocks.0.tattn.proj.bias", "blocks.0.norm1.bias",
                                 "blocks.0.attn.qkv.weight", "blocks.0.attn.proj.weight", "blocks.0.mlp.fc1.weight",
                                 "blocks.0.mlp.fc2.bias", "norm.weight", "pool.query"};
    int count;
    VN_ASSERT_OK(vn_encoder_param_count(enc, &count));
    for (size_t w = 0; w < sizeof want / sizeof want[0]; w++) {
        int found = -1;
        for (int i = 0; i < count; i++) {
            VN_ASSERT_OK(vn_encoder_param_info(enc, i, &name, &nd, sh));
            if (!strcmp(name, want[w]))
                found = i;
        }
        ck_assert_msg(found >= 0, "no parameter %s", want[w]);
        VN_ASSERT_OK(vn_encoder_param_info(enc, found, &name, &nd, sh));
        if (!strcmp(want[w], "blocks.0.attn.qkv.weight"))
            ck_assert(nd == 2 && sh[0] == 48 && sh[1] == 16);
        if (!strcmp(want[w], "blocks.0.mlp.fc1.weight"))
            ck_assert(nd == 2 && sh[0] == 32 && sh[1] == 16);
        if (!strcmp(want[w], "pos_embed"))
            ck_assert(nd == 2 && sh[0] == 8 && sh[1] == 16);
        /* decay: weights only */
        int decays = vn_encoder_param_decays(enc, found);
        ck_assert_int_eq(decays, strstr(want[w], "qkv.weight") || strstr(want[w], "proj.weight") ||
                                     strstr(want[w], "fc1.weight") || strstr(want[w], "patch_embed.proj.weight"));
    }
    vn_encoder_destroy(enc);
    /* a sin-cos encoder has no pos_embed parameter; frames+temporal has its own blocks */
    c = tiny(VN_ENCODER_FRAMES_TEMPORAL, VN_ATTENTION_JOINT, VN_POOLING_MEAN, VN_POS_SINCOS);
    VN_ASSERT_OK(vn_encoder_create(&enc, ctx, &c));
    vn_tensor t;
    float buf[4096];
    VN_ASSERT_OK(vn_tensor_init(&t, buf, VN_DTYPE_F32, 2, (int64_t[]){4, 16}));
    VN_ASSERT_FAILS(vn_encoder_get_param(enc, "pos_embed", &t), VN_ERR_NOT_FOUND);
    VN_ASSERT_OK(vn_encoder_get_param(enc, "temporal.pos_embed", &t));
    VN_ASSERT_OK(vn_tensor_init(&t, buf, VN_DTYPE_F32, 2, (int64_t[]){48, 16}));
    VN_ASSERT_OK(vn_encoder_get_param(enc, "temporal.blocks.0.attn.qkv.weight", &t));
    vn_encoder_destroy(enc);
    vn_context_destroy(ctx);
}
END_TEST

START_TEST(output_shapes_all_kinds)
{
    vn_context *ctx = vn_test_cpu_context(2);
    for (int f = 0; f <= VN_ENCODER_VIDEO; f++)
        for (int a = 0; a < (f == VN_ENCODER_VIDEO ? 2 : 1); a++)
            for (int p = 0; p < 2; p++)
                for (int pos = 0; pos < 2; pos++) {
                    vn_encoder_config c = tiny((vn_encoder_family)f, (vn_attention_kind)a, (vn_pooling)p,
                                               (vn_pos_embedding)pos);
                    vn_encoder *enc = NULL;
                    VN_ASSERT_OK(vn_encoder_create(&enc, ctx, &c));
                    int64_t L, D;
                    VN_ASSERT_OK(vn_encoder_output_shape(enc, &L, &D));
                    int64_t want_L = f == VN_ENCODER_VIDEO ? 2 * 4 : f == VN_ENCODER_FRAMES ? 4 * 4 : 4;
                    ck_assert_int_eq(L, want_L);
                    ck_assert_int_eq(D, 16);
                    float *clips = random_clips(&c, 3, 1);
                    float emb[3 * 16], tok[3 * 16 * 16];
                    vn_tensor tc, te, tt;
                    VN_ASSERT_OK(vn_tensor_init(&tc, clips, VN_DTYPE_F32, 5, (int64_t[]){3, 3, 4, 8, 8}));
                    VN_ASSERT_OK(vn_tensor_init(&te, emb, VN_DTYPE_F32, 2, (int64_t[]){3, 16}));
                    VN_ASSERT_OK(vn_tensor_init(&tt, tok, VN_DTYPE_F32, 3, (int64_t[]){3, L, 16}));
                    VN_ASSERT_OK(vn_encoder_encode(enc, &tc, &te));
                    VN_ASSERT_OK(vn_encoder_encode_tokens(enc, &tc, &tt));
                    for (int i = 0; i < 3 * 16; i++)
                        ck_assert(isfinite(emb[i]));
                    /* different clips embed differently */
                    ck_assert(memcmp(emb, emb + 16, 16 * sizeof(float)) != 0);
                    /* the wrong token count is refused */
                    VN_ASSERT_OK(vn_tensor_init(&tt, tok, VN_DTYPE_F32, 3, (int64_t[]){3, L + 1, 16}));
                    VN_ASSERT_FAILS(vn_encoder_encode_tokens(enc, &tc, &tt), VN_ERR_SHAPE);
                    free(clips);
                    vn_encoder_destroy(enc);
                }
    vn_context_destroy(ctx);
}
END_TEST

START_TEST(init_is_deterministic)
{
    vn_context *ctx = vn_test_cpu_context(1);
    vn_encoder_config c = tiny(VN_ENCODER_FRAMES_TEMPORAL, VN_ATTENTION_JOINT, VN_POOLING_ATTENTIVE, VN_POS_LEARNED);
    vn_encoder *a = NULL, *b = NULL, *d = NULL;
    VN_ASSERT_OK(vn_encoder_create(&a, ctx, &c));
    VN_ASSERT_OK(vn_encoder_create(&b, ctx, &c));
    c.seed = 8;
    VN_ASSERT_OK(vn_encoder_create(&d, ctx, &c));
    int64_t na, nb, nd;
    float *pa = vn_encoder_params(a, &na), *pb = vn_encoder_params(b, &nb), *pd = vn_encoder_params(d, &nd);
    ck_assert(na == nb && na == nd);
    ck_assert(memcmp(pa, pb, (size_t)na * sizeof(float)) == 0);
    ck_assert(memcmp(pa, pd, (size_t)na * sizeof(float)) != 0);
    /* weights: truncated at 2 std, std close to init_std; norms 1 and 0; biases 0 */
    int count;
    VN_ASSERT_OK(vn_encoder_param_count(a, &count));
    for (int i = 0; i < count; i++) {
        const char *name;
        int ndim;
        int64_t sh[VN_MAX_DIMS], n = 1;
        VN_ASSERT_OK(vn_encoder_param_info(a, i, &name, &ndim, sh));
        for (int k = 0; k < ndim; k++)
            n *= sh[k];
        const float *x = pa + vn_encoder_param_offset(a, i);
        int is_norm = strstr(name, "norm") != NULL;
        if (strstr(name, ".bias")) {
            for (int64_t k = 0; k < n; k++)
                ck_assert_msg(x[k] == 0.0f, "%s[%lld] = %g", name, (long long)k, x[k]);
        } else if (is_norm) {
            for (int64_t k = 0; k < n; k++)
                ck_assert_msg(x[k] == 1.0f, "%s[%lld] = %g", name, (long long)k, x[k]);
        } else {
            double ss = 0.0;
            for (int64_t k = 0; k < n; k++) {
                ck_assert_msg(fabsf(x[k]) <= 2.0f * c.init_std, "%s[%lld] = %g", name, (long long)k, x[k]);
                ss += (double)x[k] * x[k];
            }
            double sd = sqrt(ss / (double)n);
            /* a normal truncated at 2 std has std 0.88 std */
            if (n >= 256)
                ck_assert_msg(sd > 0.8 * 0.88 * c.init_std && sd < 1.2 * 0.88 * c.init_std, "%s std %g", name, sd);
        }
    }
    vn_encoder_destroy(a);
    vn_encoder_destroy(b);
    vn_encoder_destroy(d);
    vn_context_destroy(ctx);
}
END_TEST

START_TEST(get_set_param_round_trip)
{
    vn_context *ctx = vn_test_cpu_context(1);
    vn_encoder_config c = tiny(VN_ENCODER_VIDEO, VN_ATTENTION_JOINT, VN_POOLING_MEAN, VN_POS_LEARNED);
    vn_encoder *enc = NULL;
    VN_ASSERT_OK(vn_encoder_create(&enc, ctx, &c));
    float w[48 * 16], back[48 * 16];
    for (int i = 0; i < 48 * 16; i++)
        w[i] = (float)i * 0.001f - 0.3f;
    vn_tensor t, u;
    VN_ASSERT_OK(vn_tensor_init(&t, w, VN_DTYPE_F32, 2, (int64_t[]){48, 16}));
    VN_ASSERT_OK(vn_tensor_init(&u, back, VN_DTYPE_F32, 2, (int64_t[]){48, 16}));
    float *clips = random_clips(&c, 2, 3);
    float e0[32], e1[32];
    vn_tensor tc, te;
    VN_ASSERT_OK(vn_tensor_init(&tc, clips, VN_DTYPE_F32, 5, (int64_t[]){2, 3, 4, 8, 8}));
    VN_ASSERT_OK(vn_tensor_init(&te, e0, VN_DTYPE_F32, 2, (int64_t[]){2, 16}));
    VN_ASSERT_OK(vn_encoder_encode(enc, &tc, &te));
    VN_ASSERT_OK(vn_encoder_set_param(enc, "blocks.0.attn.qkv.weight", &t));
    VN_ASSERT_OK(vn_encoder_get_param(enc, "blocks.0.attn.qkv.weight", &u));
    ck_assert(memcmp(w, back, sizeof w) == 0);
    /* the new weights are the ones the encoder computes with */
    te.data = e1;
    VN_ASSERT_OK(vn_encoder_encode(enc, &tc, &te));
    ck_assert(memcmp(e0, e1, sizeof e0) != 0);
    /* wrong shape and non-contiguous strides are refused */
    VN_ASSERT_OK(vn_tensor_init(&t, w, VN_DTYPE_F32, 2, (int64_t[]){16, 48}));
    VN_ASSERT_FAILS(vn_encoder_set_param(enc, "blocks.0.attn.qkv.weight", &t), VN_ERR_SHAPE);
    VN_ASSERT_OK(vn_tensor_init(&t, w, VN_DTYPE_F32, 2, (int64_t[]){48, 16}));
    t.strides[0] = 17;
    VN_ASSERT_FAILS(vn_encoder_set_param(enc, "blocks.0.attn.qkv.weight", &t), VN_ERR_SHAPE);
    free(clips);
    vn_encoder_destroy(enc);
    vn_context_destroy(ctx);
}
END_TEST

START_TEST(encode_matches_forward)
{
    vn_context *ctx = vn_test_cpu_context(2);
    for (int f = 0; f <= VN_ENCODER_VIDEO; f++) {
        vn_encoder_config c = tiny((vn_encoder_family)f, f == VN_ENCODER_VIDEO ? VN_ATTENTION_DIVIDED : VN_ATTENTION_JOINT,
                                   VN_POOLING_ATTENTIVE, VN_POS_LEARNED);
        vn_encoder *enc = NULL;
        VN_ASSERT_OK(vn_encoder_create(&enc, ctx, &c));
        int64_t L, D;
        VN_ASSERT_OK(vn_encoder_output_shape(enc, &L, &D));
        float *clips = random_clips(&c, 3, 5);
        float e0[48], e1[48], t0[3 * 16 * 16], t1[3 * 16 * 16];
        vn_encoder_acts *acts = NULL;
        /* acts for more clips than the batch: a smaller batch must give the same result */
        VN_ASSERT_OK(vn_encoder_acts_create(enc, 5, &acts));
        VN_ASSERT_OK(vn_encoder_forward(enc, acts, clips, 3, e0, t0));
        vn_tensor tc, te, tt;
        VN_ASSERT_OK(vn_tensor_init(&tc, clips, VN_DTYPE_F32, 5, (int64_t[]){3, 3, 4, 8, 8}));
        VN_ASSERT_OK(vn_tensor_init(&te, e1, VN_DTYPE_F32, 2, (int64_t[]){3, 16}));
        VN_ASSERT_OK(vn_tensor_init(&tt, t1, VN_DTYPE_F32, 3, (int64_t[]){3, L, 16}));
        VN_ASSERT_OK(vn_encoder_encode(enc, &tc, &te));
        VN_ASSERT_OK(vn_encoder_encode_tokens(enc, &tc, &tt));
        ck_assert(memcmp(e0, e1, sizeof e0) == 0);
        ck_assert(memcmp(t0, t1, (size_t)(3 * L * D) * sizeof(float)) == 0);
        VN_ASSERT_FAILS(vn_encoder_forward(enc, acts, clips, 6, e0, NULL), VN_ERR_SHAPE);
        vn_encoder_acts_destroy(acts);
        free(clips);
        vn_encoder_destroy(enc);
    }
    vn_context_destroy(ctx);
}
END_TEST

typedef struct enc_job {
    const vn_encoder *enc;
    const vn_tensor *clips;
    float out[4 * 16];
    vn_status st;
} enc_job;

static void *encode_job(void *arg)
{
    enc_job *j = arg;
    vn_tensor te;
    vn_tensor_init(&te, j->out, VN_DTYPE_F32, 2, (int64_t[]){4, 16});
    for (int rep = 0; rep < 20 && !j->st; rep++)
        j->st = vn_encoder_encode(j->enc, j->clips, &te);
    return NULL;
}

/* Encode reuses activation arenas between calls: a batch after a larger one (a reused,
 * bigger arena) and after a smaller one (a fresh arena) gives the same rows as alone. */
START_TEST(encode_reuses_memory_exactly)
{
    vn_context *ctx = vn_test_cpu_context(2);
    vn_encoder_config c = tiny(VN_ENCODER_VIDEO, VN_ATTENTION_DIVIDED, VN_POOLING_ATTENTIVE, VN_POS_LEARNED);
    vn_encoder *enc = NULL;
    VN_ASSERT_OK(vn_encoder_create(&enc, ctx, &c));
    enum { D = 16 };
    float *clips = random_clips(&c, 5, 21), big[5 * D], small[2 * D], again[2 * D], big2[5 * D];
    vn_tensor t5, t2, e5, e2;
    VN_ASSERT_OK(vn_tensor_init(&t5, clips, VN_DTYPE_F32, 5, (int64_t[]){5, 3, 4, 8, 8}));
    VN_ASSERT_OK(vn_tensor_init(&t2, clips, VN_DTYPE_F32, 5, (int64_t[]){2, 3, 4, 8, 8}));
    VN_ASSERT_OK(vn_tensor_init(&e5, big, VN_DTYPE_F32, 2, (int64_t[]){5, D}));
    VN_ASSERT_OK(vn_tensor_init(&e2, small, VN_DTYPE_F32, 2, (int64_t[]){2, D}));
    VN_ASSERT_OK(vn_encoder_encode(enc, &t2, &e2)); /* fresh arena for 2 */
    VN_ASSERT_OK(vn_encoder_encode(enc, &t5, &e5)); /* too small: a fresh arena for 5 */
    e2.data = again;
    VN_ASSERT_OK(vn_encoder_encode(enc, &t2, &e2)); /* reuses an arena */
    e5.data = big2;
    VN_ASSERT_OK(vn_encoder_encode(enc, &t5, &e5));
    ck_assert(memcmp(small, again, sizeof small) == 0);
    ck_assert(memcmp(big, big2, sizeof big) == 0);
    ck_assert(memcmp(big, small, sizeof small) == 0);
    free(clips);
    vn_encoder_destroy(enc);
    vn_context_destroy(ctx);
}
END_TEST

START_TEST(encode_is_thread_safe)
{
    vn_context *ctx = vn_test_cpu_context(1);
    vn_encoder_config c = tiny(VN_ENCODER_VIDEO, VN_ATTENTION_DIVIDED, VN_POOLING_ATTENTIVE, VN_POS_SINCOS);
    vn_encoder *enc = NULL;
    VN_ASSERT_OK(vn_encoder_create(&enc, ctx, &c));
    float *clips = random_clips(&c, 4, 9);
    vn_tensor tc;
    VN_ASSERT_OK(vn_tensor_init(&tc, clips, VN_DTYPE_F32, 5, (int64_t[]){4, 3, 4, 8, 8}));
    enc_job ref = {enc, &tc, {0}, 0}, j[2] = {{enc, &tc, {0}, 0}, {enc, &tc, {0}, 0}};
    encode_job(&ref);
    VN_ASSERT_OK(ref.st);
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, encode_job, &j[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 2; i++) {
        VN_ASSERT_OK(j[i].st);
        ck_assert(memcmp(j[i].out, ref.out, sizeof ref.out) == 0);
    }
    free(clips);
    vn_encoder_destroy(enc);
    vn_context_destroy(ctx);
}
END_TEST

START_TEST(bad_configs_name_the_field)
{
    vn_context *ctx = vn_test_cpu_context(1);
    static const char *fields[] = {"frames", "size", "channels", "patch", "tubelet_t", "dim", "depth", "heads",
                                   "mlp_ratio", "pooling", "attention", "pos", "temporal_depth", "init_std",
                                   "family"};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        vn_encoder_config c = tiny(VN_ENCODER_VIDEO, VN_ATTENTION_JOINT, VN_POOLING_MEAN, VN_POS_LEARNED);
        const char *f = fields[i];
        if (!strcmp(f, "frames")) c.tubelet_t = 1, c.frames = 0;
        if (!strcmp(f, "size")) c.size = -8;
        if (!strcmp(f, "channels")) c.channels = 2;
        if (!strcmp(f, "patch")) c.patch = 3;
        if (!strcmp(f, "tubelet_t")) c.tubelet_t = 3;
        if (!strcmp(f, "dim")) c.dim = 15;
        if (!strcmp(f, "depth")) c.depth = 0;
        if (!strcmp(f, "heads")) c.heads = 0;
        if (!strcmp(f, "mlp_ratio")) c.mlp_ratio = NAN;
        if (!strcmp(f, "pooling")) c.pooling = (vn_pooling)7;
        if (!strcmp(f, "attention")) c.family = VN_ENCODER_FRAMES, c.tubelet_t = 1, c.attention = VN_ATTENTION_DIVIDED;
        if (!strcmp(f, "pos")) c.pos = (vn_pos_embedding)-1;
        if (!strcmp(f, "temporal_depth")) c.family = VN_ENCODER_FRAMES_TEMPORAL, c.tubelet_t = 1, c.temporal_depth = 0;
        if (!strcmp(f, "init_std")) c.init_std = -1.0f;
        if (!strcmp(f, "family")) c.family = (vn_encoder_family)3;
        vn_encoder *enc = (vn_encoder *)0x1;
        VN_ASSERT_FAILS(vn_encoder_create(&enc, ctx, &c), VN_ERR_INVALID_ARG);
        ck_assert_ptr_null(enc);
        char want[64];
        fmt_into(want, sizeof want, "'%s'", f);
        ck_assert_msg(strstr(vn_last_error(), want), "message for %s: %s", f, vn_last_error());
    }
    vn_encoder_config c = tiny(VN_ENCODER_VIDEO, VN_ATTENTION_JOINT, VN_POOLING_MEAN, VN_POS_LEARNED);
    c.version = 0;
    vn_encoder *enc = NULL;
    VN_ASSERT_FAILS(vn_encoder_create(&enc, ctx, &c), VN_ERR_VERSION);
    vn_context_destroy(ctx);
}
END_TEST

/* ---- the whole-encoder backward against central differences ------------------------- */

typedef struct fd_ctx {
    const vn_encoder *enc;
    vn_encoder_acts *acts;
    const float *clips, *g;
    float *emb;
    int64_t N, D;
} fd_ctx;

static double fd_loss(void *p)
{
    fd_ctx *f = p;
    vn_encoder_forward(f->enc, f->acts, f->clips, f->N, f->emb, NULL);
    return vn_gradcheck_dot(f->emb, f->g, f->N * f->D);
}

static double check_config(vn_context *ctx, const vn_encoder_config *c, const char *label)
{
    vn_encoder *enc = NULL;
    VN_ASSERT_OK(vn_encoder_create(&enc, ctx, c));
    int64_t nf, N = 2, D = c->dim;
    float *params = vn_encoder_params(enc, &nf);
    float *grads = vn_test_zeros(nf), *clips = random_clips(c, N, 21), *g = vn_test_zeros(N * D),
          *emb = vn_test_zeros(N * D);
    vn_test_rng r;
    vn_test_rng_seed(&r, 33);
    vn_test_fill_normal(&r, g, N * D, 1.0f);
    vn_encoder_acts *acts = NULL;
    VN_ASSERT_OK(vn_encoder_acts_create(enc, N, &acts));
    VN_ASSERT_OK(vn_encoder_forward(enc, acts, clips, N, emb, NULL));
    VN_ASSERT_OK(vn_encoder_backward(enc, acts, g, grads));
    int count;
    VN_ASSERT_OK(vn_encoder_param_count(enc, &count));
    vn_gradcheck_input in[24];
    int n_in = 0;
    /* about 20 of the parameters, always the first (the patch embedding, at the end of
     * the backward) and a random choice of the rest */
    for (int i = 0; i < count && n_in < 24; i++) {
        if (i && count > 20 && vn_test_uniform(&r) > 20.0 / count)
            continue;
        const char *name;
        int nd;
        int64_t sh[VN_MAX_DIMS], n = 1;
        VN_ASSERT_OK(vn_encoder_param_info(enc, i, &name, &nd, sh));
        for (int k = 0; k < nd; k++)
            n *= sh[k];
        int64_t off = vn_encoder_param_offset(enc, i);
        in[n_in++] = (vn_gradcheck_input){params + off, n, grads + off, name};
    }
    fd_ctx f = {enc, acts, clips, g, emb, N, D};
    vn_gradcheck_opts o = {1e-2, 6, 1e-3, 0};
    double err = vn_gradcheck(label, in, n_in, fd_loss, &f, &o);
    vn_encoder_acts_destroy(acts);
    free(grads), free(clips), free(g), free(emb);
    vn_encoder_destroy(enc);
    return err;
}

/* The training cases run thousands of tiny ops: one thread keeps them free of OpenMP
 * barriers, which cost a scheduler slice each when the machine is oversubscribed. */
START_TEST(backward_finite_differences)
{
    vn_context *ctx = vn_test_cpu_context(1);
    double worst = 0.0;
    for (int f = 0; f <= VN_ENCODER_VIDEO; f++)
        for (int a = 0; a < (f == VN_ENCODER_VIDEO ? 2 : 1); a++)
            for (int p = 0; p < 2; p++) {
                vn_encoder_config c = tiny((vn_encoder_family)f, (vn_attention_kind)a, (vn_pooling)p,
                                           p ? VN_POS_SINCOS : VN_POS_LEARNED);
                /* larger weights than the default 0.02 so that every path carries gradient
                 * well above float32 rounding */
                c.init_std = 0.3f;
                char label[96];
                fmt_into(label, sizeof label, "%s %s %s", vn_encoder_family_name(c.family), a ? "divided" : "joint",
                         p ? "attentive" : "mean");
                double err = check_config(ctx, &c, label);
                printf("encoder fd %-36s max rel err %.2e\n", label, err);
                if (err > worst)
                    worst = err;
            }
    ck_assert_msg(worst < 5e-3, "worst finite-difference error %.3e", worst);
    vn_context_destroy(ctx);
}
END_TEST

/* ---- overfitting a tiny fixed batch --------------------------------------------------- */

/* The embeddings of 8 random clips regress onto fixed random targets (MSE), with no head
 * of their own: only the encoder's parameters, trained through vn_encoder_backward and
 * AdamW, can bring the loss down. */
typedef struct train_result {
    double first, curve[5]; /* loss at step 0, and at steps 0/50/100/150 and the last */
    int reached;            /* first step with the loss 10x below the first, or -1 */
    float *params;          /* a copy of the final parameter arena (free it) */
    int64_t n_params;
} train_result;

static void train_tiny(vn_encoder_family family, vn_attention_kind att, int threads, int steps, train_result *res)
{
    nn_env env;
    env_open(&env, threads);
    vn_context *ctx = vn_test_cpu_context(threads);
    vn_encoder_config c = tiny(family, att, VN_POOLING_MEAN, VN_POS_LEARNED);
    vn_encoder *enc = NULL;
    VN_ASSERT_OK(vn_encoder_create(&enc, ctx, &c));
    enum { N = 8, D = 16 };
    int64_t nf;
    float *params = vn_encoder_params(enc, &nf);
    float *grads = vn_test_zeros(nf), *m = vn_test_zeros(nf), *v = vn_test_zeros(nf);
    float *clips = random_clips(&c, N, 77), emb[N * D], demb[N * D], targets[N * D];
    vn_test_rng r;
    vn_test_rng_seed(&r, 5);
    vn_test_fill_normal(&r, targets, N * D, 1.0f);
    int count;
    VN_ASSERT_OK(vn_encoder_param_count(enc, &count));
    vn_param_group *groups = calloc((size_t)count, sizeof *groups);
    for (int i = 0; i < count; i++) {
        int nd;
        int64_t sh[VN_MAX_DIMS], n = 1, off = vn_encoder_param_offset(enc, i);
        VN_ASSERT_OK(vn_encoder_param_info(enc, i, NULL, &nd, sh));
        for (int k = 0; k < nd; k++)
            n *= sh[k];
        groups[i] = (vn_param_group){params + off, grads + off, m + off, v + off, n,
                                     vn_encoder_param_decays(enc, i) ? 0.05f : 0.0f};
    }
    vn_adamw_hparams hp = VN_ADAMW_HPARAMS_DEFAULT;
    vn_encoder_acts *acts = NULL;
    VN_ASSERT_OK(vn_encoder_acts_create(enc, N, &acts));
    double first = 0.0, *curve = res->curve;
    int reached = -1;
    memset(res->curve, 0, sizeof res->curve);
    for (int step = 0; step < steps; step++) {
        VN_ASSERT_OK(vn_encoder_forward(enc, acts, clips, N, emb, NULL));
        double loss = 0.0;
        for (int i = 0; i < N * D; i++) {
            double e = (double)emb[i] - targets[i];
            loss += e * e / (N * D);
            demb[i] = (float)(2.0 * e / (N * D));
        }
        if (step == 0)
            first = loss;
        if (step % 50 == 0)
            curve[step / 50] = loss;
        curve[4] = loss;
        if (reached < 0 && loss < first / 10.0)
            reached = step;
        memset(grads, 0, (size_t)nf * sizeof(float));
        VN_ASSERT_OK(vn_encoder_backward(enc, acts, demb, grads));
        vn_adamw_step(&env.nn, groups, count, 1e-3, &hp, step + 1);
    }
    res->first = first;
    res->reached = reached;
    res->n_params = nf;
    res->params = malloc((size_t)nf * sizeof(float));
    ck_assert_ptr_nonnull(res->params);
    memcpy(res->params, params, (size_t)nf * sizeof(float));
    vn_encoder_acts_destroy(acts);
    free(groups), free(grads), free(m), free(v), free(clips);
    vn_encoder_destroy(enc);
    vn_context_destroy(ctx);
    vn_be_close(&env.be);
}

static void overfit(vn_encoder_family family, vn_attention_kind att)
{
    enum { STEPS = 200 };
    train_result r;
    train_tiny(family, att, 1, STEPS, &r);
    printf("encoder overfit %-16s %-7s mse at steps 0/50/100/150/199: %.4f %.4f %.4f %.4f %.4f; "
           "10x lower first at step %d\n",
           vn_encoder_family_name(family), att ? "divided" : "joint", r.curve[0], r.curve[1], r.curve[2], r.curve[3],
           r.curve[4], r.reached);
    ck_assert_msg(r.reached >= 0, "%s: loss %.4f -> %.4f in %d steps, not 10x lower", vn_encoder_family_name(family),
                  r.first, r.curve[4], STEPS);
    free(r.params);
}

/* Deterministic mode: two training runs at the same thread count end in bit-identical
 * weights (forward, backward and AdamW, every family). */
START_TEST(training_is_bit_identical)
{
    const vn_encoder_family fam[] = {VN_ENCODER_FRAMES, VN_ENCODER_FRAMES_TEMPORAL, VN_ENCODER_VIDEO,
                                     VN_ENCODER_VIDEO};
    const vn_attention_kind att[] = {VN_ATTENTION_JOINT, VN_ATTENTION_JOINT, VN_ATTENTION_JOINT,
                                     VN_ATTENTION_DIVIDED};
    for (int i = 0; i < 4; i++) {
        train_result a, b;
        train_tiny(fam[i], att[i], 2, 4, &a);
        train_tiny(fam[i], att[i], 2, 4, &b);
        ck_assert_int_eq(a.n_params, b.n_params);
        ck_assert_msg(memcmp(a.params, b.params, (size_t)a.n_params * sizeof(float)) == 0,
                      "%s %s: two deterministic runs of 4 steps differ", vn_encoder_family_name(fam[i]),
                      att[i] ? "divided" : "joint");
        ck_assert_msg(a.curve[4] != a.curve[0], "%s: training did not move the loss", vn_encoder_family_name(fam[i]));
        free(a.params), free(b.params);
    }
}
END_TEST

START_TEST(overfit_frames) { overfit(VN_ENCODER_FRAMES, VN_ATTENTION_JOINT); }
END_TEST
START_TEST(overfit_frames_temporal) { overfit(VN_ENCODER_FRAMES_TEMPORAL, VN_ATTENTION_JOINT); }
END_TEST
START_TEST(overfit_video_joint) { overfit(VN_ENCODER_VIDEO, VN_ATTENTION_JOINT); }
END_TEST
START_TEST(overfit_video_divided) { overfit(VN_ENCODER_VIDEO, VN_ATTENTION_DIVIDED); }
END_TEST

int main(void)
{
    Suite *s = suite_create("encoder");
    TCase *tc = tcase_create("model");
    tcase_add_test(tc, presets_and_param_counts);
    tcase_add_test(tc, param_names_and_layouts);
    tcase_add_test(tc, output_shapes_all_kinds);
    tcase_add_test(tc, init_is_deterministic);
    tcase_add_test(tc, get_set_param_round_trip);
    tcase_add_test(tc, encode_matches_forward);
    tcase_add_test(tc, encode_is_thread_safe);
    tcase_add_test(tc, encode_reuses_memory_exactly);
    tcase_add_test(tc, bad_configs_name_the_field);
    suite_add_tcase(s, tc);
    TCase *tr = tcase_create("training");
    tcase_add_test(tr, backward_finite_differences);
    tcase_add_test(tr, overfit_frames);
    tcase_add_test(tr, overfit_frames_temporal);
    tcase_add_test(tr, overfit_video_joint);
    tcase_add_test(tr, overfit_video_divided);
    tcase_add_test(tr, training_is_bit_identical);
    suite_add_tcase(s, tr);
    return vn_test_run(s);
}
