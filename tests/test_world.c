/*
 * The world suite: vn_world's options and arguments, determinism, balanced labels,
 * descriptions, the future task and the `vnative world` export. The physics checks
 * are in test_world_physics.c and the shortcut test in test_world_shortcut.c.
 */
#include "vn_test.h"
#include "test_world.h"

#include <math.h>
#include <string.h>
#include <sys/stat.h>

static const vn_world_task binary[] = {VN_TASK_AOT,   VN_TASK_GRAVITY, VN_TASK_COLLISION,
                                       VN_TASK_ORDER, VN_TASK_SPEED,   VN_TASK_INTPHYS};
#define N_BINARY 6

/* ---- options and arguments ---------------------------------------------------------- */

START_TEST(task_names_round_trip)
{
    for (int k = 0; k < VN_WORLD_TASK_COUNT; k++) {
        vn_world_task t;
        VN_ASSERT_OK(vn_world_task_from_name(vn_world_task_name((vn_world_task)k), &t));
        ck_assert_int_eq(t, k);
    }
    vn_world_task t;
    VN_ASSERT_OK(vn_world_task_from_name("GRAVITY", &t));
    ck_assert_int_eq(t, VN_TASK_GRAVITY);
    VN_ASSERT_FAILS(vn_world_task_from_name("physics", &t), VN_ERR_INVALID_ARG);
    ck_assert_str_eq(vn_world_task_name((vn_world_task)VN_WORLD_TASK_COUNT), "unknown");
}
END_TEST

START_TEST(options_init_matches_the_macro)
{
    vn_world_options a = VN_WORLD_OPTIONS_INIT, b;
    memset(&b, 0xAB, sizeof b);
    VN_ASSERT_OK(vn_world_options_init(&b, VN_WORLD_OPTIONS_VERSION));
    ck_assert_int_eq(b.version, a.version);
    ck_assert_int_eq(b.n_frames, a.n_frames);
    ck_assert_int_eq(b.size, a.size);
    ck_assert_int_eq(b.channels, a.channels);
    ck_assert(b.noise == a.noise && b.jitter == a.jitter && b.std[2] == a.std[2]);
    ck_assert_int_eq(b.future_candidates, a.future_candidates);
    vn_world *w = NULL;
    VN_ASSERT_OK(vn_world_create(&w, NULL)); /* NULL: the defaults */
    vn_world_destroy(w);
}
END_TEST

START_TEST(create_rejects_bad_options)
{
    vn_world *w = (vn_world *)0x1;
    vn_world_options o = VN_WORLD_OPTIONS_INIT;
#define BAD(field, value, status)                                                                          \
    do {                                                                                                   \
        vn_world_options b = o;                                                                            \
        b.field = value;                                                                                   \
        VN_ASSERT_FAILS(vn_world_create(&w, &b), status);                                                  \
        ck_assert_ptr_null(w);                                                                             \
    } while (0)
    BAD(version, 0, VN_ERR_VERSION);
    BAD(version, VN_WORLD_OPTIONS_VERSION + 1, VN_ERR_VERSION);
    BAD(n_frames, 1, VN_ERR_INVALID_ARG);
    BAD(size, 15, VN_ERR_INVALID_ARG);
    BAD(size, 257, VN_ERR_INVALID_ARG);
    BAD(channels, 2, VN_ERR_INVALID_ARG);
    BAD(noise, -0.1f, VN_ERR_INVALID_ARG);
    BAD(noise, NAN, VN_ERR_INVALID_ARG);
    BAD(jitter, 100.0f, VN_ERR_INVALID_ARG);
    BAD(textured, 2, VN_ERR_INVALID_ARG);
    BAD(n_threads, -1, VN_ERR_INVALID_ARG);
    BAD(std[1], 0.0f, VN_ERR_INVALID_ARG);
    BAD(mean[0], INFINITY, VN_ERR_INVALID_ARG);
#undef BAD
    /* Gray output reads only the first channel's normalisation. */
    o.channels = 1;
    o.std[1] = 0.0f;
    VN_ASSERT_OK(vn_world_create(&w, &o));
    vn_world_destroy(w);
}
END_TEST

START_TEST(clip_rejects_bad_arguments)
{
    vn_world *w = tw_world(1, 8, 16, 0.02f);
    uint8_t buf[8 * 16 * 16 * 3];
    int64_t good[4] = {8, 16, 16, 3}, bad[4] = {8, 16, 16, 1}, fshape[4] = {3, 8, 16, 16};
    vn_tensor t, tb, tf;
    vn_tensor_init(&t, buf, VN_DTYPE_U8, 4, good);
    vn_tensor_init(&tb, buf, VN_DTYPE_U8, 4, bad);
    vn_tensor_init(&tf, buf, VN_DTYPE_I32, 4, fshape);
    int label;
    VN_ASSERT_FAILS(vn_world_clip(NULL, VN_TASK_AOT, 0, &t, &label), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_world_clip(w, VN_TASK_AOT, 0, NULL, &label), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_world_clip(w, VN_TASK_AOT, -1, &t, &label), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_world_clip(w, (vn_world_task)42, 0, &t, &label), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_world_clip(w, VN_TASK_FUTURE, 0, &t, &label), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_world_clip(w, VN_TASK_AOT, 0, &tb, &label), VN_ERR_SHAPE);
    VN_ASSERT_FAILS(vn_world_clip(w, VN_TASK_AOT, 0, &tf, &label), VN_ERR_SHAPE);
    t.data = NULL;
    VN_ASSERT_FAILS(vn_world_clip(w, VN_TASK_AOT, 0, &t, &label), VN_ERR_INVALID_ARG);
    t.data = buf;
    VN_ASSERT_OK(vn_world_clip(w, VN_TASK_AOT, 0, &t, NULL)); /* the label is optional */

    int64_t b5[5] = {2, 8, 16, 16, 3};
    uint8_t *bb = malloc(2 * sizeof buf);
    vn_tensor bt;
    vn_tensor_init(&bt, bb, VN_DTYPE_U8, 5, b5);
    VN_ASSERT_FAILS(vn_world_batch(w, VN_TASK_AOT, 0, &t, NULL), VN_ERR_SHAPE); /* 4-D */
    VN_ASSERT_FAILS(vn_world_batch(w, VN_TASK_FUTURE, 0, &bt, NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_world_batch(w, VN_TASK_AOT, INT64_MAX, &bt, NULL), VN_ERR_INVALID_ARG);
    bt.shape[1] = 7;
    VN_ASSERT_FAILS(vn_world_batch(w, VN_TASK_AOT, 0, &bt, NULL), VN_ERR_SHAPE);
    bt.shape[1] = 8;
    bt.shape[0] = 0;
    VN_ASSERT_OK(vn_world_batch(w, VN_TASK_AOT, 0, &bt, NULL)); /* an empty batch is fine */
    free(bb);
    vn_world_destroy(w);
}
END_TEST

/* ---- determinism --------------------------------------------------------------------- */

START_TEST(same_seed_same_bytes_different_indices_differ)
{
    enum { T = 8, S = 32, N = 12 };
    vn_world *a = tw_world(77, T, S, 0.02f), *b = tw_world(77, T, S, 0.02f), *c = tw_world(78, T, S, 0.02f);
    size_t cb = (size_t)T * S * S * 3;
    for (int k = 0; k < N_BINARY; k++) {
        uint8_t *clips[N];
        for (int i = 0; i < N; i++) {
            int la, lb;
            clips[i] = tw_clip(a, T, S, binary[k], i, &la);
            uint8_t *again = tw_clip(b, T, S, binary[k], i, &lb);
            ck_assert_msg(memcmp(clips[i], again, cb) == 0, "%s %d: same seed, different bytes",
                          vn_world_task_name(binary[k]), i);
            ck_assert_int_eq(la, lb);
            free(again);
            uint8_t *other = tw_clip(c, T, S, binary[k], i, NULL);
            ck_assert_msg(memcmp(clips[i], other, cb) != 0, "%s %d: another seed gives the same clip",
                          vn_world_task_name(binary[k]), i);
            free(other);
        }
        for (int i = 0; i < N; i++)
            for (int j = i + 1; j < N; j++)
                ck_assert_msg(memcmp(clips[i], clips[j], cb) != 0, "%s: clips %d and %d are identical",
                              vn_world_task_name(binary[k]), i, j);
        for (int i = 0; i < N; i++)
            free(clips[i]);
    }
    vn_world_destroy(a);
    vn_world_destroy(b);
    vn_world_destroy(c);
}
END_TEST

START_TEST(batch_equals_clips_on_any_number_of_threads)
{
    enum { T = 8, S = 24, N = 13 };
    size_t cb = (size_t)T * S * S * 3;
    uint8_t *ref = malloc(cb * N), *got = malloc(cb * N);
    int ref_labels[N], labels[N];
    for (int k = 0; k < N_BINARY; k++) {
        vn_world *w1 = tw_world(5, T, S, 0.05f);
        for (int i = 0; i < N; i++) {
            uint8_t *c = tw_clip(w1, T, S, binary[k], 100 + i, &ref_labels[i]);
            memcpy(ref + cb * i, c, cb);
            free(c);
        }
        vn_world_destroy(w1);
        for (int nt = 1; nt <= 3; nt++) {
            vn_world_options o = VN_WORLD_OPTIONS_INIT;
            o.seed = 5;
            o.n_frames = T;
            o.size = S;
            o.noise = 0.05f;
            o.n_threads = nt;
            vn_world *w = NULL;
            VN_ASSERT_OK(vn_world_create(&w, &o));
            int64_t shape[5] = {N, T, S, S, 3};
            vn_tensor t;
            vn_tensor_init(&t, got, VN_DTYPE_U8, 5, shape);
            memset(got, 0, cb * N);
            VN_ASSERT_OK(vn_world_batch(w, binary[k], 100, &t, labels));
            ck_assert_msg(memcmp(ref, got, cb * N) == 0, "%s: the batch on %d threads differs from single clips",
                          vn_world_task_name(binary[k]), nt);
            ck_assert(memcmp(ref_labels, labels, sizeof labels) == 0);
            vn_world_destroy(w);
        }
    }
    free(ref);
    free(got);
}
END_TEST

START_TEST(float_output_is_the_normalised_uint8_output)
{
    const int T = 6, S = 20;
    vn_world_options o = VN_WORLD_OPTIONS_INIT;
    o.n_frames = T;
    o.size = S;
    o.jitter = 2.0f;
    o.mean[1] = 0.3f;
    o.std[2] = 0.7f;
    vn_world *w = NULL;
    VN_ASSERT_OK(vn_world_create(&w, &o));
    uint8_t *u8 = tw_clip(w, T, S, VN_TASK_SPEED, 3, NULL);
    /* Float [C, T, H, W] through a transposed view: memory is [T, W, H, C]. */
    float *f = malloc(sizeof(float) * T * S * S * 3);
    vn_tensor ft;
    ft.data = f;
    ft.dtype = VN_DTYPE_F32;
    ft.ndim = 4;
    int64_t shape[4] = {3, T, S, S}, strides[4] = {1, (int64_t)S * S * 3, 3, (int64_t)S * 3};
    memcpy(ft.shape, shape, sizeof shape);
    memcpy(ft.strides, strides, sizeof strides);
    VN_ASSERT_OK(vn_world_clip(w, VN_TASK_SPEED, 3, &ft, NULL));
    for (int t = 0; t < T; t++)
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++)
                for (int c = 0; c < 3; c++) {
                    float want = ((float)u8[((t * S + y) * S + x) * 3 + c] / 255.0f - o.mean[c]) / o.std[c];
                    float have = f[t * S * S * 3 + x * S * 3 + y * 3 + c];
                    ck_assert_msg(fabsf(want - have) < 1e-5f, "t %d y %d x %d c %d: %g != %g", t, y, x, c, have,
                                  want);
                }
    /* A uint8 view with padded rows gives the same pixels. */
    uint8_t *pad = calloc((size_t)T * S * (S + 3) * 3, 1);
    vn_tensor pt;
    pt.data = pad;
    pt.dtype = VN_DTYPE_U8;
    pt.ndim = 4;
    int64_t ps[4] = {T, S, S, 3}, pst[4] = {(int64_t)S * (S + 3) * 3, (S + 3) * 3, 3, 1};
    memcpy(pt.shape, ps, sizeof ps);
    memcpy(pt.strides, pst, sizeof pst);
    VN_ASSERT_OK(vn_world_clip(w, VN_TASK_SPEED, 3, &pt, NULL));
    for (int t = 0; t < T; t++)
        for (int y = 0; y < S; y++)
            ck_assert(memcmp(pad + t * pst[0] + y * pst[1], u8 + (size_t)(t * S + y) * S * 3, (size_t)S * 3) == 0);
    free(u8);
    free(f);
    free(pad);
    vn_world_destroy(w);
}
END_TEST

START_TEST(gray_flat_and_jittered_worlds)
{
    const int T = 8, S = 32;
    vn_world_options o = VN_WORLD_OPTIONS_INIT;
    o.n_frames = T;
    o.size = S;
    o.channels = 1;
    o.textured = 0;
    o.noise = 0.0f;
    vn_world *w = NULL;
    VN_ASSERT_OK(vn_world_create(&w, &o));
    uint8_t buf[8 * 32 * 32];
    int64_t shape[4] = {T, S, S, 1};
    vn_tensor t;
    vn_tensor_init(&t, buf, VN_DTYPE_U8, 4, shape);
    VN_ASSERT_OK(vn_world_clip(w, VN_TASK_GRAVITY, 0, &t, NULL));
    /* A flat, noiseless background is one value; objects are brighter than any background. */
    int bg = buf[0], brighter = 0, darker = 0;
    for (int i = 0; i < T * S * S; i++) {
        brighter += buf[i] > bg;
        darker += buf[i] < bg;
    }
    ck_assert_msg(brighter > 0 && darker == 0, "gray flat frames: %d pixels above the background, %d below",
                  brighter, darker);
    vn_world_destroy(w);

    /* Jitter moves the background but nothing else about the clip. */
    o.channels = 3;
    o.textured = 1;
    vn_world *still = NULL, *shaky = NULL;
    VN_ASSERT_OK(vn_world_create(&still, &o));
    o.jitter = 3.0f;
    VN_ASSERT_OK(vn_world_create(&shaky, &o));
    int l1, l2;
    uint8_t *a = tw_clip(still, T, S, VN_TASK_ORDER, 4, &l1), *b = tw_clip(shaky, T, S, VN_TASK_ORDER, 4, &l2);
    ck_assert_int_eq(l1, l2);
    ck_assert(memcmp(a, b, (size_t)T * S * S * 3) != 0);
    free(a);
    free(b);
    vn_world_destroy(still);
    vn_world_destroy(shaky);
}
END_TEST

/* ---- labels and descriptions ---------------------------------------------------------- */

START_TEST(labels_are_balanced)
{
    const int N = 1000, T = 4, S = 16;
    vn_world *w = tw_world(31, T, S, 0.0f);
    uint8_t *buf = malloc((size_t)N * T * S * S * 3);
    int *labels = malloc(N * sizeof *labels);
    int64_t shape[5] = {N, T, S, S, 3};
    vn_tensor t;
    vn_tensor_init(&t, buf, VN_DTYPE_U8, 5, shape);
    char desc[2048], want[32];
    for (int k = 0; k < N_BINARY; k++) {
        VN_ASSERT_OK(vn_world_batch(w, binary[k], 0, &t, labels));
        int ones = 0, runs = 0;
        for (int i = 0; i < N; i++) {
            ck_assert(labels[i] == 0 || labels[i] == 1);
            ones += labels[i];
            if (i & 1)
                ck_assert_msg(labels[i] != labels[i - 1], "%s: labels of %d and %d are equal",
                              vn_world_task_name(binary[k]), i - 1, i);
            else if (i > 0)
                runs += labels[i] == labels[i - 2];
            if (i < 20) {
                VN_ASSERT_OK(vn_world_describe(w, binary[k], i, desc, sizeof desc));
                snprintf(want, sizeof want, "\"label\":%d,", labels[i]);
                ck_assert_msg(strstr(desc, want) != NULL, "description without %s: %s", want, desc);
            }
        }
        ck_assert_int_eq(ones, N / 2);
        /* Which member of a pair is 1 is random, not the parity of the index. */
        ck_assert_msg(runs > N / 2 / 4 && runs < N / 2 * 3 / 4, "%s: %d of %d pairs repeat the previous pair",
                      vn_world_task_name(binary[k]), runs, N / 2 - 1);
    }
    free(buf);
    free(labels);
    vn_world_destroy(w);
}
END_TEST

START_TEST(describe_gives_one_line_of_json)
{
    vn_world *w = tw_world(2, 16, 32, 0.02f);
    char buf[2048];
    for (int k = 0; k < VN_WORLD_TASK_COUNT; k++) {
        VN_ASSERT_OK(vn_world_describe(w, (vn_world_task)k, 5, buf, sizeof buf));
        char want[64];
        snprintf(want, sizeof want, "{\"task\":\"%s\",\"index\":5,", vn_world_task_name((vn_world_task)k));
        ck_assert_msg(strncmp(buf, want, strlen(want)) == 0, "%s", buf);
        ck_assert(buf[strlen(buf) - 1] == '}' && strchr(buf, '\n') == NULL);
    }
    VN_ASSERT_OK(vn_world_describe(w, VN_TASK_FUTURE, 5, buf, sizeof buf));
    ck_assert(strstr(buf, "\"kinds\":[") != NULL && strstr(buf, "\"true_index\":") != NULL);
    size_t need = strlen(buf) + 1;
    VN_ASSERT_OK(vn_world_describe(w, VN_TASK_FUTURE, 5, buf, need));
    VN_ASSERT_FAILS(vn_world_describe(w, VN_TASK_FUTURE, 5, buf, need - 1), VN_ERR_SHAPE);
    vn_world_destroy(w);
}
END_TEST

/* ---- future -------------------------------------------------------------------------- */

START_TEST(future_candidates_are_what_kinds_say)
{
    enum { T = 16, S = 24, TC = 8, TF = 8, K = 6 };
    vn_world_options o = VN_WORLD_OPTIONS_INIT;
    o.n_frames = T;
    o.size = S;
    o.noise = 0.0f; /* so that equal frames are equal bytes */
    o.future_context = TC;
    o.future_candidates = K;
    vn_world *w = NULL;
    VN_ASSERT_OK(vn_world_create(&w, &o));
    size_t fb = (size_t)S * S * 3;
    uint8_t *ctx = malloc(fb * TC), *cand = malloc(fb * TF * K), *again = malloc(fb * TF * K);
    vn_tensor ct, kt, at;
    int64_t cs[4] = {TC, S, S, 3}, ks[5] = {K, TF, S, S, 3};
    vn_tensor_init(&ct, ctx, VN_DTYPE_U8, 4, cs);
    vn_tensor_init(&kt, cand, VN_DTYPE_U8, 5, ks);
    vn_tensor_init(&at, again, VN_DTYPE_U8, 5, ks);
    int rev_equal = 0;
    for (int64_t q = 0; q < 20; q++) {
        int kinds[K], ti = -1, count[4] = {0};
        VN_ASSERT_OK(vn_world_future(w, q, &ct, &kt, kinds, &ti));
        for (int k = 0; k < K; k++) {
            ck_assert(kinds[k] >= 0 && kinds[k] <= 3);
            count[kinds[k]]++;
        }
        ck_assert(count[0] == 1 && count[1] == 1 && count[2] == 1 && count[3] == K - 3);
        ck_assert_int_eq(kinds[ti], 0);
        int ti2;
        VN_ASSERT_OK(vn_world_future(w, q, &ct, &at, NULL, &ti2));
        ck_assert(ti2 == ti && memcmp(cand, again, fb * TF * K) == 0);
        const uint8_t *tru = NULL, *rev = NULL;
        for (int k = 0; k < K; k++) {
            if (kinds[k] == 0)
                tru = cand + (size_t)k * TF * fb;
            if (kinds[k] == 1)
                rev = cand + (size_t)k * TF * fb;
        }
        /* Without noise or jitter the reversed candidate is the true one backwards. */
        int same = 1;
        for (int t = 0; t < TF; t++)
            same &= memcmp(tru + t * fb, rev + (TF - 1 - t) * fb, fb) == 0;
        ck_assert_msg(same, "query %lld: the reversed candidate is not the true one reversed", (long long)q);
        rev_equal += memcmp(tru, rev, fb * TF) == 0;
        /* The shifted candidate repeats true frames moved by the shift in the description. */
        char desc[2048];
        VN_ASSERT_OK(vn_world_describe(w, VN_TASK_FUTURE, q, desc, sizeof desc));
        const char *sh = strstr(desc, "\"shift\":");
        ck_assert_ptr_nonnull(sh);
        int shift = atoi(sh + 8);
        ck_assert(shift != 0 && abs(shift) >= 2);
        const uint8_t *shifted = NULL;
        for (int k = 0; k < K; k++)
            if (kinds[k] == 2)
                shifted = cand + (size_t)k * TF * fb;
        for (int t = 0; t < TF; t++) {
            int src = t + shift; /* the true candidate's frame index */
            if (src >= 0 && src < TF)
                ck_assert_msg(memcmp(shifted + t * fb, tru + src * fb, fb) == 0,
                              "query %lld: shifted frame %d is not true frame %d", (long long)q, t, src);
            else if (src < 0 && TC + src >= 0)
                ck_assert_msg(memcmp(shifted + t * fb, ctx + (TC + src) * fb, fb) == 0,
                              "query %lld: shifted frame %d is not context frame %d", (long long)q, t, TC + src);
        }
    }
    ck_assert_msg(rev_equal == 0, "%d queries have a static continuation", rev_equal);
    int kinds[K], ti;
    VN_ASSERT_FAILS(vn_world_future(w, -1, &ct, &kt, kinds, &ti), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_world_future(w, 0, &ct, &kt, kinds, NULL), VN_ERR_INVALID_ARG);
    kt.shape[0] = K - 1;
    VN_ASSERT_FAILS(vn_world_future(w, 0, &ct, &kt, kinds, &ti), VN_ERR_SHAPE);
    kt.shape[0] = K;
    ct.shape[0] = TC + 1;
    VN_ASSERT_FAILS(vn_world_future(w, 0, &ct, &kt, kinds, &ti), VN_ERR_SHAPE);
    vn_world_destroy(w);

    o.future_context = T - 1; /* a one-frame continuation has no direction */
    VN_ASSERT_OK(vn_world_create(&w, &o));
    ct.shape[0] = T - 1;
    VN_ASSERT_FAILS(vn_world_future(w, 0, &ct, &kt, kinds, &ti), VN_ERR_INVALID_ARG);
    vn_world_destroy(w);
    free(ctx);
    free(cand);
    free(again);
}
END_TEST

/* ---- the CLI ------------------------------------------------------------------------- */

static int run_cli(const char *args)
{
    const char *cli = getenv("VN_CLI");
    ck_assert_msg(cli && *cli, "VN_CLI is not set (run through meson test)");
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' %s", cli, args);
    return system(cmd);
}

START_TEST(cli_exports_npy_clips_and_a_manifest)
{
    char dir[700], args[1400], path[900];
    snprintf(dir, sizeof dir, "%s/world_npy", vn_test_tmpdir());
    snprintf(args, sizeof args, "world --task intphys --count 6 --frames 8 --size 24 --seed 3 --format npy "
                                "--out '%s' 2>/dev/null", dir);
    ck_assert_int_eq(run_cli(args), 0);
    snprintf(path, sizeof path, "%s/manifest.csv", dir);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    char line[4096];
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert_str_eq(line, "path,label,task,split,seed,index,params\n");
    vn_world *w = tw_world(3, 8, 24, 0.02f);
    int rows = 0;
    while (fgets(line, sizeof line, f)) {
        char name[64], split[16];
        int label, index;
        ck_assert_msg(sscanf(line, "%63[^,],%d,intphys,%15[^,],3,%d,\"{", name, &label, split, &index) == 4, "row: %s",
                      line);
        ck_assert_int_eq(index, rows);
        char want[64];
        snprintf(want, sizeof want, "intphys_%07d.npy", index);
        ck_assert_str_eq(name, want);
        ck_assert(!strcmp(split, "train") || !strcmp(split, "val") || !strcmp(split, "test"));
        /* The file holds exactly what vn_world_clip renders, as uint8 [T, H, W, C]. */
        int expect_label;
        uint8_t *clip = tw_clip(w, 8, 24, VN_TASK_INTPHYS, index, &expect_label);
        ck_assert_int_eq(label, expect_label);
        snprintf(path, sizeof path, "%s/%s", dir, name);
        FILE *npy = fopen(path, "rb");
        ck_assert_ptr_nonnull(npy);
        fseek(npy, 0, SEEK_END);
        long size = ftell(npy);
        size_t data = (size_t)8 * 24 * 24 * 3;
        ck_assert(size > (long)data);
        fseek(npy, size - (long)data, SEEK_SET);
        uint8_t *got = malloc(data);
        ck_assert_uint_eq(fread(got, 1, data, npy), data);
        fclose(npy);
        ck_assert(memcmp(got, clip, data) == 0);
        free(got);
        free(clip);
        rows++;
    }
    fclose(f);
    ck_assert_int_eq(rows, 6);
    vn_world_destroy(w);
    snprintf(args, sizeof args, "world --task nonsense --count 2 --out '%s' 2>/dev/null", dir);
    ck_assert_int_ne(run_cli(args), 0);
}
END_TEST

START_TEST(cli_mp4_export_reads_back_through_the_loader)
{
    const char *encoder = NULL;
    if (vn_video_codec_resolve(VN_CODEC_AUTO, &encoder) != VN_OK) {
        printf("cli mp4 export: no video encoder here (%s); not tested\n", vn_last_error());
        return;
    }
    char dir[700], args[1400], path[900];
    snprintf(dir, sizeof dir, "%s/world_mp4", vn_test_tmpdir());
    snprintf(args, sizeof args, "world --task gravity --count 4 --frames 8 --size 32 --seed 5 --format mp4 "
                                "--out '%s' 2>/dev/null", dir);
    ck_assert_int_eq(run_cli(args), 0);
    snprintf(path, sizeof path, "%s/manifest.csv", dir);
    vn_clip_options clip = VN_CLIP_OPTIONS_INIT;
    clip.n_frames = 8;
    clip.start = 0;
    vn_loader_options lo = VN_LOADER_OPTIONS_INIT;
    lo.source = path;
    lo.batch_size = 4;
    lo.shuffle = 0;
    lo.dtype = VN_DTYPE_U8;
    lo.clip = &clip;
    vn_loader *L = NULL;
    VN_ASSERT_OK(vn_loader_create(&L, &lo));
    int64_t n = 0, shape[5];
    VN_ASSERT_OK(vn_loader_size(L, &n));
    ck_assert_int_eq(n, 4);
    VN_ASSERT_OK(vn_loader_batch_shape(L, shape));
    ck_assert(shape[0] == 4 && shape[1] == 8 && shape[2] == 32 && shape[3] == 32 && shape[4] == 3);
    size_t cb = (size_t)8 * 32 * 32 * 3;
    uint8_t *batch = malloc(cb * 4);
    vn_tensor bt;
    vn_tensor_init(&bt, batch, VN_DTYPE_U8, 5, shape);
    int64_t labels[4], items[4], got = 0;
    VN_ASSERT_OK(vn_loader_start_epoch(L, 0));
    VN_ASSERT_OK(vn_loader_next(L, &bt, labels, items, &got));
    ck_assert_int_eq(got, 4);
    vn_world *w = tw_world(5, 8, 32, 0.02f);
    for (int i = 0; i < 4; i++) {
        int label;
        uint8_t *ref = tw_clip(w, 8, 32, VN_TASK_GRAVITY, items[i], &label);
        ck_assert_int_eq(labels[i], label);
        /* Lossy video: the decoded clip is close to the rendered one, not equal. */
        double err = 0.0;
        for (size_t k = 0; k < cb; k++)
            err += fabs((double)batch[cb * i + k] - ref[k]);
        err /= (double)cb;
        ck_assert_msg(err < 12.0, "clip %lld decodes %.1f levels away from what was rendered", (long long)items[i],
                      err);
        free(ref);
    }
    free(batch);
    vn_world_destroy(w);
    vn_loader_destroy(L);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("world");
    TCase *api = tcase_create("api");
    tcase_add_test(api, task_names_round_trip);
    tcase_add_test(api, options_init_matches_the_macro);
    tcase_add_test(api, create_rejects_bad_options);
    tcase_add_test(api, clip_rejects_bad_arguments);
    tcase_add_test(api, describe_gives_one_line_of_json);
    suite_add_tcase(s, api);
    TCase *det = tcase_create("determinism");
    tcase_set_timeout(det, 120);
    tcase_add_test(det, same_seed_same_bytes_different_indices_differ);
    tcase_add_test(det, batch_equals_clips_on_any_number_of_threads);
    tcase_add_test(det, float_output_is_the_normalised_uint8_output);
    tcase_add_test(det, gray_flat_and_jittered_worlds);
    tcase_add_test(det, labels_are_balanced);
    tcase_add_test(det, future_candidates_are_what_kinds_say);
    suite_add_tcase(s, det);
    TCase *cli = tcase_create("cli");
    tcase_set_timeout(cli, 120);
    tcase_add_test(cli, cli_exports_npy_clips_and_a_manifest);
    tcase_add_test(cli, cli_mp4_export_reads_back_through_the_loader);
    suite_add_tcase(s, cli);
    world_add_physics_tests(s);
    world_add_shortcut_tests(s);
    return vn_test_run(s);
}
