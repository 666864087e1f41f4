/* vn_probe_future: future-clip retrieval on frozen features, and why a bag of images
 * cannot tell a continuation from its reversal. */
#include <math.h>
#include <string.h>

#include "vn_test.h"

enum { T = 8, S = 16 };

static vn_encoder *small_encoder(vn_context *ctx, vn_encoder_family family)
{
    vn_encoder_config c = vn_test_small_config(family, 3);
    vn_encoder *enc = NULL;
    VN_ASSERT_OK(vn_encoder_create(&enc, ctx, &c));
    return enc;
}

static vn_world *future_world(int frames, int context, float noise)
{
    vn_world_options wo = VN_WORLD_OPTIONS_INIT;
    wo.noise = noise;
    wo.seed = 5;
    wo.n_frames = frames;
    wo.future_context = context;
    wo.size = S;
    wo.n_threads = 2;
    vn_world *w = NULL;
    VN_ASSERT_OK(vn_world_create(&w, &wo));
    return w;
}

static void check_ranges(const vn_future_probe_result *r, int64_t n_test)
{
    ck_assert_int_eq(r->n_queries, n_test);
    ck_assert_int_eq(r->candidates, 8);
    ck_assert(r->r1 >= 0.0 && r->r1 <= r->r5 && r->r5 <= 1.0);
    ck_assert_msg(r->mrr >= 1.0 / 8 - 1e-12 && r->mrr <= 1.0 && r->mrr >= r->r1 - 1e-12, "mrr %g", r->mrr);
    ck_assert(r->r1_ci_low <= r->r1 && r->r1 <= r->r1_ci_high);
    ck_assert(r->hard_ci_low <= r->hard_negative && r->hard_negative <= r->hard_ci_high);
}

START_TEST(video_encoder_runs_and_repeats)
{
    vn_context *ctx = vn_test_cpu_context(2);
    vn_encoder *enc = small_encoder(ctx, VN_ENCODER_VIDEO);
    vn_world *w = future_world(2 * T, T, 0.02f);
    vn_future_probe_result a = VN_FUTURE_PROBE_RESULT_INIT, b = VN_FUTURE_PROBE_RESULT_INIT;
    VN_ASSERT_OK(vn_probe_future(enc, w, 32, 24, NULL, &a));
    check_ranges(&a, 24);
    ck_assert(a.ridge > 0.0);
    VN_ASSERT_OK(vn_probe_future(enc, w, 32, 24, NULL, &b));
    ck_assert(memcmp(&a, &b, sizeof a) == 0);
    vn_future_probe_options o = VN_FUTURE_PROBE_OPTIONS_INIT;
    o.map = VN_FUTURE_MAP_NONE;
    o.batch = 5; /* ragged batches give the same embeddings */
    VN_ASSERT_OK(vn_probe_future(enc, w, 0, 24, &o, &b));
    check_ranges(&b, 24);
    ck_assert(isnan(b.ridge));
    vn_world_destroy(w);
    vn_encoder_destroy(enc);
    vn_context_destroy(ctx);
}
END_TEST

/* A frames encoder embeds the true continuation and its reversal alike (the reversed
 * candidate holds exactly the true one's frames), so every query is a tie between them
 * and scores one half, with or without a map. */
START_TEST(frames_encoder_cannot_beat_the_reversal)
{
    vn_context *ctx = vn_test_cpu_context(2);
    vn_encoder *enc = small_encoder(ctx, VN_ENCODER_FRAMES);
    vn_world *w = future_world(2 * T, T, 0.0f);
    vn_future_probe_result r = VN_FUTURE_PROBE_RESULT_INIT;
    VN_ASSERT_OK(vn_probe_future(enc, w, 32, 24, NULL, &r));
    check_ranges(&r, 24);
    ck_assert_msg(r.hard_negative == 0.5, "frames against the reversal: %g, not the 0.5 of ties", r.hard_negative);
    ck_assert(r.hard_ci_low == 0.5 && r.hard_ci_high == 0.5);
    ck_assert_msg(r.r1 <= 0.5 + 1e-12, "frames ranked the true continuation first on %g: ties count against it", r.r1);
    vn_future_probe_options o = VN_FUTURE_PROBE_OPTIONS_INIT;
    o.map = VN_FUTURE_MAP_NONE;
    VN_ASSERT_OK(vn_probe_future(enc, w, 0, 24, &o, &r));
    ck_assert(r.hard_negative == 0.5);
    vn_world_destroy(w);
    vn_encoder_destroy(enc);
    vn_context_destroy(ctx);
}
END_TEST

START_TEST(bad_arguments)
{
    vn_context *ctx = vn_test_cpu_context(1);
    vn_encoder *enc = small_encoder(ctx, VN_ENCODER_VIDEO);
    vn_world *w = future_world(2 * T, T, 0.02f), *off = future_world(2 * T, 6, 0.02f);
    vn_future_probe_result r = VN_FUTURE_PROBE_RESULT_INIT;
    VN_ASSERT_FAILS(vn_probe_future(NULL, w, 8, 8, NULL, &r), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_probe_future(enc, NULL, 8, 8, NULL, &r), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_probe_future(enc, w, 8, 8, NULL, NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_probe_future(enc, off, 8, 8, NULL, &r), VN_ERR_SHAPE);
    ck_assert_msg(strstr(vn_last_error(), "future_context = 8") != NULL, "%s", vn_last_error());
    VN_ASSERT_FAILS(vn_probe_future(enc, w, 4, 8, NULL, &r), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_probe_future(enc, w, 8, 0, NULL, &r), VN_ERR_INVALID_ARG);
    vn_future_probe_options o = VN_FUTURE_PROBE_OPTIONS_INIT;
    o.map = 9;
    VN_ASSERT_FAILS(vn_probe_future(enc, w, 8, 8, &o, &r), VN_ERR_INVALID_ARG);
    o = (vn_future_probe_options)VN_FUTURE_PROBE_OPTIONS_INIT;
    o.version = 0;
    VN_ASSERT_FAILS(vn_probe_future(enc, w, 8, 8, &o, &r), VN_ERR_VERSION);
    r.version = 99;
    VN_ASSERT_FAILS(vn_probe_future(enc, w, 8, 8, NULL, &r), VN_ERR_VERSION);
    vn_world_destroy(w);
    vn_world_destroy(off);
    vn_encoder_destroy(enc);
    vn_context_destroy(ctx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("probe_future");
    TCase *tc = tcase_create("future");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, video_encoder_runs_and_repeats);
    tcase_add_test(tc, frames_encoder_cannot_beat_the_reversal);
    tcase_add_test(tc, bad_arguments);
    suite_add_tcase(s, tc);
    return vn_test_run(s);
}
