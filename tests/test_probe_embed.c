/* vn_probe_embed_world: world clips through a frozen encoder, and the bag-of-images
 * invariance that makes a frames encoder blind to the order of frames. */
#include <math.h>
#include <string.h>

#include "vn_test.h"

enum { T = 8, S = 16, D = 32 };

static vn_world *small_world(int size)
{
    vn_world_options wo = VN_WORLD_OPTIONS_INIT;
    wo.seed = 11;
    wo.n_frames = T;
    wo.size = size;
    wo.n_threads = 2;
    vn_world *w = NULL;
    VN_ASSERT_OK(vn_world_create(&w, &wo));
    return w;
}

/* Ten clips in ragged batches of 4, into a strided view, equal one direct batch. */
START_TEST(embed_matches_direct_encode)
{
    vn_context *ctx = vn_test_cpu_context(2);
    vn_encoder_config cfg = vn_test_small_config(VN_ENCODER_VIDEO, 7);
    vn_encoder *enc = NULL;
    VN_ASSERT_OK(vn_encoder_create(&enc, ctx, &cfg));
    vn_world *w = small_world(S);
    enum { N = 10, FIRST = 5 };
    static float wide[N][2 * D], direct[N][D], clips[N][3][T][S][S];
    int labels[N], want_labels[N];
    vn_tensor emb = {wide, VN_DTYPE_F32, 2, {N, D}, {2 * D, 1}};
    for (int i = 0; i < N; i++)
        for (int j = 0; j < 2 * D; j++)
            wide[i][j] = -7.0f;
    VN_ASSERT_OK(vn_probe_embed_world(enc, w, VN_TASK_GRAVITY, FIRST, 4, 0, &emb, labels));

    int64_t cs[5] = {N, 3, T, S, S}, es[2] = {N, D};
    vn_tensor tc, te;
    vn_tensor_init(&tc, clips, VN_DTYPE_F32, 5, cs);
    vn_tensor_init(&te, direct, VN_DTYPE_F32, 2, es);
    VN_ASSERT_OK(vn_world_batch(w, VN_TASK_GRAVITY, FIRST, &tc, want_labels));
    VN_ASSERT_OK(vn_encoder_encode(enc, &tc, &te));
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(labels[i], want_labels[i]);
        for (int j = 0; j < D; j++) {
            ck_assert_msg(fabsf(wide[i][j] - direct[i][j]) <= 1e-5f * (1.0f + fabsf(direct[i][j])),
                          "clip %d dim %d: %g vs %g", i, j, wide[i][j], direct[i][j]);
            ck_assert_msg(wide[i][D + j] == -7.0f, "the gap between strided rows was written");
        }
    }
    vn_world_destroy(w);
    vn_encoder_destroy(enc);
    vn_context_destroy(ctx);
}
END_TEST

/* Reverse or shuffle a clip's frames: [C, T, H, W] -> out with frame t = in frame order[t]. */
static void permute_frames(const float *in, float *out, const int *order)
{
    for (int c = 0; c < 3; c++)
        for (int t = 0; t < T; t++)
            memcpy(out + ((size_t)c * T + t) * S * S, in + ((size_t)c * T + order[t]) * S * S,
                   (size_t)S * S * sizeof *out);
}

/* VN_PROBE_EMBED_REVERSED embeds each clip played backwards: the same as reversing the
 * rendered frames by hand, and (for a video encoder) not the same as the clip itself. */
START_TEST(embed_reversed)
{
    vn_context *ctx = vn_test_cpu_context(2);
    vn_encoder_config cfg = vn_test_small_config(VN_ENCODER_VIDEO, 7);
    vn_encoder *enc = NULL;
    VN_ASSERT_OK(vn_encoder_create(&enc, ctx, &cfg));
    vn_world *w = small_world(S);
    enum { N = 3 };
    static const int reverse[T] = {7, 6, 5, 4, 3, 2, 1, 0};
    static float got[N][D], fwd[N][D], want[N][D], clips[N][3][T][S][S], rev[N][3][T][S][S];
    int labels[N], rlabels[N];
    int64_t es[2] = {N, D}, cs[5] = {N, 3, T, S, S};
    vn_tensor tg, tf, tw, tc;
    vn_tensor_init(&tg, got, VN_DTYPE_F32, 2, es);
    vn_tensor_init(&tf, fwd, VN_DTYPE_F32, 2, es);
    vn_tensor_init(&tw, want, VN_DTYPE_F32, 2, es);
    VN_ASSERT_OK(vn_probe_embed_world(enc, w, VN_TASK_AOT, 0, 2, VN_PROBE_EMBED_REVERSED, &tg, rlabels));
    VN_ASSERT_OK(vn_probe_embed_world(enc, w, VN_TASK_AOT, 0, 2, 0, &tf, labels));
    vn_tensor_init(&tc, clips, VN_DTYPE_F32, 5, cs);
    VN_ASSERT_OK(vn_world_batch(w, VN_TASK_AOT, 0, &tc, NULL));
    for (int i = 0; i < N; i++)
        permute_frames(&clips[i][0][0][0][0], &rev[i][0][0][0][0], reverse);
    vn_tensor_init(&tc, rev, VN_DTYPE_F32, 5, cs);
    VN_ASSERT_OK(vn_encoder_encode(enc, &tc, &tw));
    double moved = 0.0;
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(labels[i], rlabels[i]);
        for (int j = 0; j < D; j++) {
            ck_assert_msg(fabsf(got[i][j] - want[i][j]) <= 1e-5f * (1.0f + fabsf(want[i][j])), "clip %d dim %d", i, j);
            moved = fmax(moved, fabs((double)got[i][j] - fwd[i][j]));
        }
    }
    ck_assert_msg(moved > 1e-4, "the reversed embeddings equal the forward ones");
    vn_world_destroy(w);
    vn_encoder_destroy(enc);
    vn_context_destroy(ctx);
}
END_TEST

/* The frames family embeds each frame and averages: a clip, its reversal and a shuffle
 * of it embed alike, so no probe on those embeddings can see the arrow of time. The video
 * family is not blind to it. */
START_TEST(frames_family_is_blind_to_order)
{
    vn_context *ctx = vn_test_cpu_context(2);
    vn_world *w = small_world(S);
    static const int reverse[T] = {7, 6, 5, 4, 3, 2, 1, 0}, shuffle[T] = {3, 0, 6, 1, 7, 2, 5, 4};
    static float clip[3][3][T][S][S], emb[3][D];
    int64_t cs[5] = {1, 3, T, S, S}, c3[5] = {3, 3, T, S, S}, es[2] = {3, D};
    vn_tensor one, three, te;
    vn_tensor_init(&one, clip[0], VN_DTYPE_F32, 5, cs);
    vn_tensor_init(&three, clip, VN_DTYPE_F32, 5, c3);
    vn_tensor_init(&te, emb, VN_DTYPE_F32, 2, es);
    VN_ASSERT_OK(vn_world_batch(w, VN_TASK_AOT, 3, &one, NULL));
    permute_frames(&clip[0][0][0][0][0], &clip[1][0][0][0][0], reverse);
    permute_frames(&clip[0][0][0][0][0], &clip[2][0][0][0][0], shuffle);
    for (int f = 0; f < 2; f++) {
        vn_encoder_config cfg = vn_test_small_config(f ? VN_ENCODER_VIDEO : VN_ENCODER_FRAMES, 7);
        vn_encoder *enc = NULL;
        VN_ASSERT_OK(vn_encoder_create(&enc, ctx, &cfg));
        VN_ASSERT_OK(vn_encoder_encode(enc, &three, &te));
        double worst = 0.0, scale = 0.0;
        for (int k = 1; k < 3; k++)
            for (int j = 0; j < D; j++) {
                worst = fmax(worst, fabs((double)emb[k][j] - emb[0][j]));
                scale = fmax(scale, fabs((double)emb[0][j]));
            }
        if (f == 0)
            ck_assert_msg(worst <= 1e-5 * (1.0 + scale), "frames: reversal or shuffle moved the embedding by %g",
                          worst);
        else
            ck_assert_msg(worst > 1e-3 * scale, "video: reversal and shuffle left the embedding alone (%g)", worst);
        vn_encoder_destroy(enc);
    }
    vn_world_destroy(w);
    vn_context_destroy(ctx);
}
END_TEST

/* A linear probe on a frames encoder's aot embeddings is at chance: both classes hold the
 * same frames, and the embedding cannot see their order. */
START_TEST(frames_aot_probe_is_at_chance)
{
    vn_context *ctx = vn_test_cpu_context(2);
    vn_world *w = small_world(S);
    vn_encoder_config cfg = vn_test_small_config(VN_ENCODER_FRAMES, 7);
    vn_encoder *enc = NULL;
    VN_ASSERT_OK(vn_encoder_create(&enc, ctx, &cfg));
    enum { NTR = 200, NTE = 200 };
    static float emb[NTR + NTE][D];
    int labels[NTR + NTE];
    int64_t s_all[2] = {NTR + NTE, D}, s_tr[2] = {NTR, D}, s_te[2] = {NTE, D};
    vn_tensor all, tr, te;
    vn_tensor_init(&all, emb, VN_DTYPE_F32, 2, s_all);
    VN_ASSERT_OK(vn_probe_embed_world(enc, w, VN_TASK_AOT, 0, 0, 0, &all, labels));
    vn_tensor_init(&tr, emb, VN_DTYPE_F32, 2, s_tr);
    vn_tensor_init(&te, emb[NTR], VN_DTYPE_F32, 2, s_te);
    vn_probe_result r = VN_PROBE_RESULT_INIT;
    VN_ASSERT_OK(vn_probe_linear(&tr, labels, NULL, &te, labels + NTR, NULL, 2, NULL, &r));
    ck_assert_msg(r.accuracy < 0.62 && r.ci_low < 0.5, "frames aot probe at %.3f [%.3f, %.3f]", r.accuracy,
                  r.ci_low, r.ci_high);
    vn_encoder_destroy(enc);
    vn_world_destroy(w);
    vn_context_destroy(ctx);
}
END_TEST

START_TEST(embed_args_are_checked)
{
    vn_context *ctx = vn_test_cpu_context(1);
    vn_encoder_config cfg = vn_test_small_config(VN_ENCODER_VIDEO, 7);
    vn_encoder *enc = NULL;
    VN_ASSERT_OK(vn_encoder_create(&enc, ctx, &cfg));
    vn_world *w = small_world(S), *big = small_world(2 * S);
    static float buf[4][D + 1];
    int labels[4];
    int64_t ok_shape[2] = {4, D}, wide_shape[2] = {4, D + 1};
    vn_tensor emb, wide;
    vn_tensor_init(&emb, buf, VN_DTYPE_F32, 2, ok_shape);
    vn_tensor_init(&wide, buf, VN_DTYPE_F32, 2, wide_shape);
    VN_ASSERT_FAILS(vn_probe_embed_world(NULL, w, VN_TASK_AOT, 0, 0, 0, &emb, labels), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_probe_embed_world(enc, NULL, VN_TASK_AOT, 0, 0, 0, &emb, labels), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_probe_embed_world(enc, w, VN_TASK_AOT, 0, 0, 0, NULL, labels), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_probe_embed_world(enc, w, VN_TASK_AOT, 0, 0, 0, &emb, NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_probe_embed_world(enc, w, VN_TASK_FUTURE, 0, 0, 0, &emb, labels), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_probe_embed_world(enc, w, (vn_world_task)99, 0, 0, 0, &emb, labels), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_probe_embed_world(enc, w, VN_TASK_AOT, -1, 0, 0, &emb, labels), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_probe_embed_world(enc, big, VN_TASK_AOT, 0, 0, 0, &emb, labels), VN_ERR_SHAPE);
    ck_assert_msg(strstr(vn_last_error(), "32x32") != NULL, "message: %s", vn_last_error());
    VN_ASSERT_FAILS(vn_probe_embed_world(enc, w, VN_TASK_AOT, 0, 0, 0, &wide, labels), VN_ERR_SHAPE);
    VN_ASSERT_FAILS(vn_probe_embed_world(enc, w, VN_TASK_AOT, 0, 0, 2u, &emb, labels), VN_ERR_INVALID_ARG);
    emb.dtype = VN_DTYPE_I32;
    VN_ASSERT_FAILS(vn_probe_embed_world(enc, w, VN_TASK_AOT, 0, 0, 0, &emb, labels), VN_ERR_SHAPE);
    vn_world_destroy(w);
    vn_world_destroy(big);
    vn_encoder_destroy(enc);
    vn_context_destroy(ctx);
}
END_TEST

/* The pixel baseline's features by hand: block means of gray frames, then differences. */
START_TEST(pixel_features)
{
    vn_world *w = small_world(S);
    enum { SIDE = 4, F = (T - 1) * SIDE * SIDE, N = 3 };
    static float feat[N][F];
    static uint8_t clip[T][S][S][3];
    int labels[N], label;
    int64_t fs[2] = {N, F}, cs[4] = {T, S, S, 3};
    vn_tensor tf, tc;
    vn_tensor_init(&tf, feat, VN_DTYPE_F32, 2, fs);
    vn_tensor_init(&tc, clip, VN_DTYPE_U8, 4, cs);
    VN_ASSERT_OK(vn_probe_pixels_world(w, VN_TASK_AOT, 4, SIDE, &tf, labels));
    VN_ASSERT_OK(vn_world_clip(w, VN_TASK_AOT, 6, &tc, &label));
    ck_assert_int_eq(label, labels[2]);
    /* cell (1, 2) of the difference between frames 5 and 4 */
    double m[2] = {0, 0};
    for (int k = 0; k < 2; k++)
        for (int y = 4; y < 8; y++)
            for (int x = 8; x < 12; x++)
                for (int c = 0; c < 3; c++)
                    m[k] += clip[4 + k][y][x][c] / (16.0 * 3 * 255.0);
    float want = (float)(m[1] - m[0]), got = feat[2][4 * SIDE * SIDE + 1 * SIDE + 2];
    ck_assert_msg(fabsf(got - want) < 1e-6f, "feature %g, by hand %g", got, want);
    VN_ASSERT_FAILS(vn_probe_pixels_world(w, VN_TASK_AOT, 0, 0, &tf, labels), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_probe_pixels_world(w, VN_TASK_AOT, 0, S + 1, &tf, labels), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_probe_pixels_world(w, VN_TASK_FUTURE, 0, SIDE, &tf, labels), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_probe_pixels_world(w, VN_TASK_AOT, 0, 2, &tf, labels), VN_ERR_SHAPE);
    VN_ASSERT_FAILS(vn_probe_pixels_world(w, VN_TASK_AOT, 0, SIDE, &tf, NULL), VN_ERR_INVALID_ARG);
    vn_world_destroy(w);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("probe_embed");
    TCase *tc = tcase_create("embed");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, embed_matches_direct_encode);
    tcase_add_test(tc, embed_reversed);
    tcase_add_test(tc, frames_family_is_blind_to_order);
    tcase_add_test(tc, frames_aot_probe_is_at_chance);
    tcase_add_test(tc, embed_args_are_checked);
    tcase_add_test(tc, pixel_features);
    suite_add_tcase(s, tc);
    return vn_test_run(s);
}
