/*
 * Bad-argument checks for the public functions of probe.h.
 * Part of the api_errors suite: test_api_errors.c finds entries here by name.
 */
#include "vn_test.h"

#include <math.h>

typedef void (*api_check_fn)(void);

typedef struct api_entry {
    const char *name;
    api_check_fn check;
} api_entry;

/* 4 rows of 2 features, two classes; the same rows serve as the test set. */
static float xs[] = {1, 0, 0.9f, 0.1f, 0, 1, 0.1f, 0.9f};
static int ys[] = {0, 0, 1, 1};

static vn_tensor features(void)
{
    vn_tensor t;
    VN_ASSERT_OK(vn_tensor_init(&t, xs, VN_DTYPE_F32, 2, (int64_t[]){4, 2}));
    return t;
}

static void c_vn_probe_result_init(void)
{
    vn_probe_result r;
    VN_ASSERT_OPTIONS_INIT(vn_probe_result_init, r, VN_PROBE_RESULT_VERSION);
}

static void c_vn_linear_probe_options_init(void)
{
    vn_linear_probe_options o;
    VN_ASSERT_OPTIONS_INIT(vn_linear_probe_options_init, o, VN_LINEAR_PROBE_OPTIONS_VERSION);
}

static void c_vn_knn_probe_options_init(void)
{
    vn_knn_probe_options o;
    VN_ASSERT_OPTIONS_INIT(vn_knn_probe_options_init, o, VN_KNN_PROBE_OPTIONS_VERSION);
}

static void c_vn_probe_linear(void)
{
    vn_tensor t = features(), bad = t;
    vn_probe_result r = VN_PROBE_RESULT_INIT;
    VN_ASSERT_FAILS(vn_probe_linear(NULL, ys, NULL, &t, ys, NULL, 2, NULL, &r), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_probe_linear(&t, ys, NULL, &t, ys, NULL, 2, NULL, NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_probe_linear(&t, ys, NULL, &t, ys, NULL, 0, NULL, &r), VN_ERR_INVALID_ARG);
    bad.dtype = VN_DTYPE_BF16;
    VN_ASSERT_FAILS(vn_probe_linear(&t, ys, NULL, &bad, ys, NULL, 2, NULL, &r), VN_ERR_SHAPE);
    vn_linear_probe_options o = VN_LINEAR_PROBE_OPTIONS_INIT;
    o.max_iter = -1;
    VN_ASSERT_FAILS(vn_probe_linear(&t, ys, NULL, &t, ys, NULL, 2, &o, &r), VN_ERR_INVALID_ARG);
    o = (vn_linear_probe_options)VN_LINEAR_PROBE_OPTIONS_INIT;
    o.version = 99;
    VN_ASSERT_FAILS(vn_probe_linear(&t, ys, NULL, &t, ys, NULL, 2, &o, &r), VN_ERR_VERSION);
    VN_ASSERT_OK(vn_probe_linear(&t, ys, NULL, &t, ys, NULL, 2, NULL, &r));
    ck_assert(r.accuracy >= 0.0 && r.accuracy <= 1.0 && r.n_train == 4);
}

static void c_vn_probe_knn(void)
{
    vn_tensor t = features(), bad = t;
    vn_probe_result r = VN_PROBE_RESULT_INIT;
    VN_ASSERT_FAILS(vn_probe_knn(&t, NULL, &t, ys, NULL, 2, NULL, &r), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_probe_knn(&t, ys, &t, ys, NULL, 2, NULL, NULL), VN_ERR_INVALID_ARG);
    bad.ndim = 1;
    VN_ASSERT_FAILS(vn_probe_knn(&bad, ys, &t, ys, NULL, 2, NULL, &r), VN_ERR_SHAPE);
    vn_knn_probe_options o = VN_KNN_PROBE_OPTIONS_INIT;
    o.temperature = NAN;
    VN_ASSERT_FAILS(vn_probe_knn(&t, ys, &t, ys, NULL, 2, &o, &r), VN_ERR_INVALID_ARG);
    VN_ASSERT_OK(vn_probe_knn(&t, ys, &t, ys, NULL, 2, NULL, &r));
    ck_assert(r.accuracy == 1.0 && isnan(r.train_accuracy));
}

static void c_vn_probe_embed_world(void)
{
    float buf[2 * 128];
    int labels[2];
    vn_tensor emb;
    VN_ASSERT_OK(vn_tensor_init(&emb, buf, VN_DTYPE_F32, 2, (int64_t[]){2, 128}));
    VN_ASSERT_FAILS(vn_probe_embed_world(NULL, NULL, VN_TASK_AOT, 0, 0, 0, &emb, labels), VN_ERR_INVALID_ARG);
    vn_context *ctx = vn_test_cpu_context(1);
    vn_encoder_config cfg = VN_ENCODER_CONFIG_INIT;
    vn_encoder *enc = NULL;
    VN_ASSERT_OK(vn_encoder_create(&enc, ctx, &cfg));
    vn_world_options wo = VN_WORLD_OPTIONS_INIT; /* 64 x 64: the xs encoder takes 32 x 32 */
    vn_world *w = NULL;
    VN_ASSERT_OK(vn_world_create(&w, &wo));
    VN_ASSERT_FAILS(vn_probe_embed_world(enc, w, VN_TASK_AOT, 0, 0, 0, &emb, labels), VN_ERR_SHAPE);
    VN_ASSERT_FAILS(vn_probe_embed_world(enc, w, VN_TASK_FUTURE, 0, 0, 0, &emb, labels), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_probe_embed_world(enc, w, VN_TASK_AOT, 0, 0, 0, &emb, NULL), VN_ERR_INVALID_ARG);
    vn_world_destroy(w);
    vn_encoder_destroy(enc);
    vn_context_destroy(ctx);
}

static void c_vn_window_options_init(void)
{
    vn_window_options o;
    VN_ASSERT_OPTIONS_INIT(vn_window_options_init, o, VN_WINDOW_OPTIONS_VERSION);
}

static void c_vn_real_aot_options_init(void)
{
    vn_real_aot_options o;
    VN_ASSERT_OPTIONS_INIT(vn_real_aot_options_init, o, VN_REAL_AOT_OPTIONS_VERSION);
}

static void c_vn_probe_embed_video(void)
{
    float buf[2 * 128];
    int64_t n;
    vn_tensor emb;
    VN_ASSERT_OK(vn_tensor_init(&emb, buf, VN_DTYPE_F32, 2, (int64_t[]){2, 128}));
    VN_ASSERT_FAILS(vn_probe_embed_video(NULL, "x.mp4", NULL, 0, &emb, NULL, &n), VN_ERR_INVALID_ARG);
    vn_context *ctx = vn_test_cpu_context(1);
    vn_encoder_config cfg = VN_ENCODER_CONFIG_INIT;
    vn_encoder *enc = NULL;
    VN_ASSERT_OK(vn_encoder_create(&enc, ctx, &cfg));
    VN_ASSERT_FAILS(vn_probe_embed_video(enc, NULL, NULL, 0, &emb, NULL, &n), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_probe_embed_video(enc, "x.mp4", NULL, 0, &emb, NULL, NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_probe_embed_video(enc, "x.mp4", NULL, 2u, &emb, NULL, &n), VN_ERR_INVALID_ARG);
    vn_window_options o = VN_WINDOW_OPTIONS_INIT;
    o.window_stride = 0;
    VN_ASSERT_FAILS(vn_probe_embed_video(enc, "x.mp4", &o, 0, &emb, NULL, &n), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_probe_embed_video(enc, "/nonexistent/x.mp4", NULL, 0, &emb, NULL, &n), VN_ERR_NOT_FOUND);
    emb.shape[1] = 7;
    VN_ASSERT_FAILS(vn_probe_embed_video(enc, "x.mp4", NULL, 0, &emb, NULL, &n), VN_ERR_SHAPE);
    vn_encoder_destroy(enc);
    vn_context_destroy(ctx);
}

static void c_vn_probe_real_aot(void)
{
    const char *paths[2] = {"a.mp4", "b.mp4"};
    vn_probe_result r = VN_PROBE_RESULT_INIT;
    VN_ASSERT_FAILS(vn_probe_real_aot(NULL, paths, 2, NULL, &r), VN_ERR_INVALID_ARG);
    vn_context *ctx = vn_test_cpu_context(1);
    vn_encoder_config cfg = VN_ENCODER_CONFIG_INIT;
    vn_encoder *enc = NULL;
    VN_ASSERT_OK(vn_encoder_create(&enc, ctx, &cfg));
    VN_ASSERT_FAILS(vn_probe_real_aot(enc, NULL, 2, NULL, &r), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_probe_real_aot(enc, paths, 2, NULL, NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_probe_real_aot(enc, paths, 1, NULL, &r), VN_ERR_INVALID_ARG);
    vn_real_aot_options o = VN_REAL_AOT_OPTIONS_INIT;
    o.folds = 0;
    VN_ASSERT_FAILS(vn_probe_real_aot(enc, paths, 2, &o, &r), VN_ERR_INVALID_ARG);
    o = (vn_real_aot_options)VN_REAL_AOT_OPTIONS_INIT;
    o.version = 2;
    VN_ASSERT_FAILS(vn_probe_real_aot(enc, paths, 2, &o, &r), VN_ERR_VERSION);
    r.version = 0;
    VN_ASSERT_FAILS(vn_probe_real_aot(enc, paths, 2, NULL, &r), VN_ERR_VERSION);
    vn_encoder_destroy(enc);
    vn_context_destroy(ctx);
}

static void c_vn_timevec_options_init(void)
{
    vn_timevec_options o;
    VN_ASSERT_OPTIONS_INIT(vn_timevec_options_init, o, VN_TIMEVEC_OPTIONS_VERSION);
}

static void c_vn_timevec_result_init(void)
{
    vn_timevec_result r;
    VN_ASSERT_OPTIONS_INIT(vn_timevec_result_init, r, VN_TIMEVEC_RESULT_VERSION);
}

static void c_vn_timevec_fit(void)
{
    vn_tensor t = features(), bad = t;
    float tv[2];
    double off;
    VN_ASSERT_FAILS(vn_timevec_fit(NULL, &t, tv, &off), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_timevec_fit(&t, &t, tv, NULL), VN_ERR_INVALID_ARG);
    bad.shape[0] = 3;
    VN_ASSERT_FAILS(vn_timevec_fit(&t, &bad, tv, &off), VN_ERR_SHAPE);
}

static void c_vn_timevec_evaluate(void)
{
    vn_tensor t = features();
    float tv[2] = {1, -1};
    vn_timevec_result r = VN_TIMEVEC_RESULT_INIT;
    VN_ASSERT_FAILS(vn_timevec_evaluate(NULL, 0.0, &t, &t, NULL, &r), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_timevec_evaluate(tv, 0.0, &t, &t, NULL, NULL), VN_ERR_INVALID_ARG);
    r.version = 0;
    VN_ASSERT_FAILS(vn_timevec_evaluate(tv, 0.0, &t, &t, NULL, &r), VN_ERR_VERSION);
}

static void c_vn_timevec_project(void)
{
    vn_tensor t = features();
    float tv[2] = {1, -1};
    double out[4];
    VN_ASSERT_FAILS(vn_timevec_project(tv, NULL, out), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_timevec_project(tv, &t, NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_OK(vn_timevec_project(tv, &t, out));
}

static void c_vn_timevec_probe_normal(void)
{
    vn_tensor t = features(), bad = t;
    float normal[2];
    VN_ASSERT_FAILS(vn_timevec_probe_normal(NULL, &t, NULL, normal), VN_ERR_INVALID_ARG);
    bad.shape[1] = 1;
    VN_ASSERT_FAILS(vn_timevec_probe_normal(&t, &bad, NULL, normal), VN_ERR_SHAPE);
    VN_ASSERT_OK(vn_timevec_probe_normal(&t, &t, NULL, normal));
}

static void c_vn_timevec_cosine(void)
{
    float a[2] = {1, 0};
    double c;
    VN_ASSERT_FAILS(vn_timevec_cosine(a, NULL, 2, &c), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_timevec_cosine(a, a, -1, &c), VN_ERR_INVALID_ARG);
}

static void c_vn_future_probe_options_init(void)
{
    vn_future_probe_options o;
    VN_ASSERT_OPTIONS_INIT(vn_future_probe_options_init, o, VN_FUTURE_PROBE_OPTIONS_VERSION);
}

static void c_vn_future_probe_result_init(void)
{
    vn_future_probe_result r;
    VN_ASSERT_OPTIONS_INIT(vn_future_probe_result_init, r, VN_FUTURE_PROBE_RESULT_VERSION);
}

static void c_vn_probe_future(void)
{
    vn_future_probe_result r = VN_FUTURE_PROBE_RESULT_INIT;
    VN_ASSERT_FAILS(vn_probe_future(NULL, NULL, 8, 8, NULL, &r), VN_ERR_INVALID_ARG);
    vn_world_options wo = VN_WORLD_OPTIONS_INIT;
    vn_world *w = NULL;
    VN_ASSERT_OK(vn_world_create(&w, &wo));
    VN_ASSERT_FAILS(vn_probe_future(NULL, w, 8, 8, NULL, &r), VN_ERR_INVALID_ARG);
    vn_world_destroy(w);
}

static void c_vn_probe_pixels_world(void)
{
    vn_tensor t = features();
    int labels[4];
    VN_ASSERT_FAILS(vn_probe_pixels_world(NULL, VN_TASK_AOT, 0, 2, &t, labels), VN_ERR_INVALID_ARG);
    vn_world_options wo = VN_WORLD_OPTIONS_INIT;
    vn_world *w = NULL;
    VN_ASSERT_OK(vn_world_create(&w, &wo));
    VN_ASSERT_FAILS(vn_probe_pixels_world(w, VN_TASK_AOT, 0, 2, &t, labels), VN_ERR_SHAPE);
    VN_ASSERT_FAILS(vn_probe_pixels_world(w, (vn_world_task)-1, 0, 2, &t, labels), VN_ERR_INVALID_ARG);
    vn_world_destroy(w);
}

#define ENTRY(fn) {#fn, c_##fn}

const api_entry api_table_probe[] = {
    ENTRY(vn_probe_result_init),
    ENTRY(vn_linear_probe_options_init),
    ENTRY(vn_knn_probe_options_init),
    ENTRY(vn_probe_linear),
    ENTRY(vn_probe_knn),
    ENTRY(vn_probe_embed_world),
    ENTRY(vn_window_options_init),
    ENTRY(vn_probe_embed_video),
    ENTRY(vn_real_aot_options_init),
    ENTRY(vn_probe_real_aot),
    ENTRY(vn_timevec_options_init),
    ENTRY(vn_future_probe_options_init),
    ENTRY(vn_future_probe_result_init),
    ENTRY(vn_probe_future),
    ENTRY(vn_probe_pixels_world),
    ENTRY(vn_timevec_result_init),
    ENTRY(vn_timevec_fit),
    ENTRY(vn_timevec_evaluate),
    ENTRY(vn_timevec_project),
    ENTRY(vn_timevec_cosine),
    ENTRY(vn_timevec_probe_normal),
    {NULL, NULL},
};
