/*
 * The shortcut test of the world suite: for every binary task, a logistic regression
 * on frame-level statistics averaged over the clip must be at chance on held-out
 * clips (<= 55%), and one on simple temporal statistics must not be, for the tasks
 * whose label is plainly in the motion (>= 60% on aot, gravity, order and speed).
 *
 * Clips: 2,400 per task (indices 0..2399, seed 2024), 16 frames of 32 x 32 RGB with the
 * default noise and textured backgrounds. Training rows are indices 0..1399, held-out
 * rows 1400..2399, so every (2k, 2k+1) pair sits on one side.
 */
#include "vn_test.h"
#include "world_probe.h"
#include "test_world.h"

#include <string.h>

#define N_CLIPS 2400
#define N_TRAIN 1400
#define SIZE 32
#define FRAMES 16
#define CHUNK 200

typedef struct shortcut_row {
    vn_world_task task;
    int needs_temporal; /* the label is in plain motion statistics */
} shortcut_row;

static const shortcut_row rows[] = {
    {VN_TASK_AOT, 1},       {VN_TASK_GRAVITY, 1}, {VN_TASK_COLLISION, 0},
    {VN_TASK_ORDER, 1},     {VN_TASK_SPEED, 1},   {VN_TASK_INTPHYS, 0},
};

/* plant > 0: add that many levels of red to the top-left quadrant of every frame of
 * label-1 clips, a single-frame cue the frame-level probe must then find. */
static void measure(vn_world_task task, int plant, wp_result *rf, wp_result *rt)
{
    vn_world_options o = VN_WORLD_OPTIONS_INIT;
    o.seed = 2024;
    o.size = SIZE;
    o.n_frames = FRAMES;
    vn_world *w = NULL;
    VN_ASSERT_OK(vn_world_create(&w, &o));
    size_t clip_bytes = (size_t)FRAMES * SIZE * SIZE * 3;
    uint8_t *buf = malloc(clip_bytes * CHUNK);
    double *xf = malloc((size_t)N_CLIPS * WP_MAX_FEATURES * sizeof *xf);
    double *xt = malloc((size_t)N_CLIPS * WP_MAX_FEATURES * sizeof *xt);
    int *y = malloc(N_CLIPS * sizeof *y);
    ck_assert(buf && xf && xt && y);
    int df = 0, dt = 0;
    for (int base = 0; base < N_CLIPS; base += CHUNK) {
        vn_tensor t;
        int64_t shape[5] = {CHUNK, FRAMES, SIZE, SIZE, 3};
        VN_ASSERT_OK(vn_tensor_init(&t, buf, VN_DTYPE_U8, 5, shape));
        VN_ASSERT_OK(vn_world_batch(w, task, base, &t, y + base));
        for (int i = 0; plant > 0 && i < CHUNK; i++) {
            if (!y[base + i])
                continue;
            uint8_t *clip = buf + (size_t)i * clip_bytes;
            for (int f = 0; f < FRAMES; f++)
                for (int yy = 0; yy < SIZE / 2; yy++)
                    for (int xx = 0; xx < SIZE / 2; xx++) {
                        uint8_t *p = clip + (((size_t)f * SIZE + yy) * SIZE + xx) * 3;
                        p[0] = (uint8_t)(p[0] + plant > 255 ? 255 : p[0] + plant);
                    }
        }
        int dfs[CHUNK], dts[CHUNK];
#pragma omp parallel for schedule(dynamic, 8)
        for (int i = 0; i < CHUNK; i++) {
            const uint8_t *clip = buf + (size_t)i * clip_bytes;
            dfs[i] = wp_frame_features(clip, FRAMES, SIZE, 3, xf + (size_t)(base + i) * WP_MAX_FEATURES);
            dts[i] = wp_temporal_features(clip, FRAMES, SIZE, 3, xt + (size_t)(base + i) * WP_MAX_FEATURES);
        }
        df = dfs[0];
        dt = dts[0];
    }
    /* Pack rows to the feature counts. */
    for (int i = 0; i < N_CLIPS; i++) {
        memmove(xf + (size_t)i * df, xf + (size_t)i * WP_MAX_FEATURES, (size_t)df * sizeof *xf);
        memmove(xt + (size_t)i * dt, xt + (size_t)i * WP_MAX_FEATURES, (size_t)dt * sizeof *xt);
    }
    int ones = 0;
    for (int i = 0; i < N_CLIPS; i++)
        ones += y[i];
    ck_assert_int_eq(ones, N_CLIPS / 2);
    *rf = wp_logreg_holdout(xf, y, N_CLIPS, df, N_TRAIN);
    *rt = wp_logreg_holdout(xt, y, N_CLIPS, dt, N_TRAIN);
    printf("shortcut test %-9s frame-level %5.1f%% held-out (%d features, lambda %g, train %.1f%%); "
           "temporal %5.1f%% held-out (%d features, train %.1f%%)%s\n",
           vn_world_task_name(task), 100.0 * rf->heldout_accuracy, df, rf->lambda, 100.0 * rf->train_accuracy,
           100.0 * rt->heldout_accuracy, dt, 100.0 * rt->train_accuracy, plant ? " [planted cue]" : "");
    fflush(stdout);
    free(buf);
    free(xf);
    free(xt);
    free(y);
    vn_world_destroy(w);
}

START_TEST(shortcut_test)
{
    vn_world_task task = rows[_i].task;
    wp_result rf, rt;
    measure(task, 0, &rf, &rt);
    ck_assert_msg(rf.heldout_accuracy <= 0.55, "%s: frame-level statistics score %.1f%% held-out: single frames "
                  "give the label away", vn_world_task_name(task), 100.0 * rf.heldout_accuracy);
    if (rows[_i].needs_temporal)
        ck_assert_msg(rt.heldout_accuracy >= 0.60, "%s: temporal statistics score only %.1f%% held-out",
                      vn_world_task_name(task), 100.0 * rt.heldout_accuracy);
}
END_TEST

/* The probe's power: a faint tint (6 levels of red on a quarter of the frame, under
 * noise of 5 levels and textures that vary far more) in one class is found. */
START_TEST(frame_probe_finds_a_planted_cue)
{
    wp_result rf, rt;
    measure(VN_TASK_GRAVITY, 6, &rf, &rt);
    ck_assert_msg(rf.heldout_accuracy >= 0.65, "a planted single-frame cue scores only %.1f%%: the frame-level "
                  "probe is too weak to certify anything", 100.0 * rf.heldout_accuracy);
}
END_TEST

void world_add_shortcut_tests(Suite *s)
{
    TCase *tc = tcase_create("shortcut");
    tcase_set_timeout(tc, 240);
    tcase_add_loop_test(tc, shortcut_test, 0, (int)(sizeof rows / sizeof rows[0]));
    tcase_add_test(tc, frame_probe_finds_a_planted_cue);
    suite_add_tcase(s, tc);
}
