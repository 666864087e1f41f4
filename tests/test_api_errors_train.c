/*
 * Bad-argument checks for the public functions of train.h.
 * Part of the api_errors suite: test_api_errors.c finds entries here by name.
 */
#include "vn_test.h"

#include "backend/cpu_gemm_onednn.h"

#include <math.h>
#include <string.h>

typedef void (*api_check_fn)(void);

typedef struct api_entry {
    const char *name;
    api_check_fn check;
} api_entry;

typedef struct fixture {
    vn_context *ctx;
    vn_trainer *tr;
} fixture;

/* A trainer on 2 frames of 8 x 8 grey, patch 4, dim 8: small enough to step in a blink. */
static fixture open_trainer(void)
{
    fixture f = {0};
    vn_context_options o = VN_CONTEXT_OPTIONS_INIT;
    o.backend = VN_BACKEND_CPU;
    o.n_threads = 1;
    VN_ASSERT_OK(vn_context_create(&f.ctx, &o));
    vn_encoder_config c = VN_ENCODER_CONFIG_INIT;
    c.frames = 2;
    c.size = 16;
    c.channels = 1;
    c.patch = 8;
    c.tubelet_t = 2;
    c.dim = 8;
    c.depth = 1;
    c.heads = 2;
    vn_train_options t = VN_TRAIN_OPTIONS_INIT;
    t.batch = 2;
    t.eval_clips = 2;
    VN_ASSERT_OK(vn_trainer_create(&f.tr, f.ctx, &c, &t));
    return f;
}

static void close_trainer(fixture f)
{
    vn_trainer_destroy(f.tr);
    vn_context_destroy(f.ctx);
}

static void c_vn_objective_name(void)
{
    ck_assert_str_eq(vn_objective_name((vn_objective)-1), "unknown");
    ck_assert_str_eq(vn_objective_name((vn_objective)VN_OBJECTIVE_COUNT), "unknown");
    ck_assert_str_eq(vn_objective_name(VN_OBJECTIVE_AOT), "aot");
}

static void c_vn_objective_from_name(void)
{
    vn_objective o;
    VN_ASSERT_FAILS(vn_objective_from_name(NULL, &o), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_objective_from_name("aot", NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_objective_from_name("time", &o), VN_ERR_INVALID_ARG);
}

static void c_vn_objectives_parse(void)
{
    float w[VN_OBJECTIVE_COUNT];
    VN_ASSERT_FAILS(vn_objectives_parse(NULL, w), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_objectives_parse("aot", NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_objectives_parse("aot=inf", w), VN_ERR_INVALID_ARG);
}

static void c_vn_train_options_init(void)
{
    vn_train_options o;
    VN_ASSERT_OPTIONS_INIT(vn_train_options_init, o, VN_TRAIN_OPTIONS_VERSION);
}

static void c_vn_train_metrics_init(void)
{
    vn_train_metrics m;
    VN_ASSERT_OPTIONS_INIT(vn_train_metrics_init, m, VN_TRAIN_METRICS_VERSION);
}

static void c_vn_trainer_create(void)
{
    vn_context_options o = VN_CONTEXT_OPTIONS_INIT;
    o.backend = VN_BACKEND_CPU;
    vn_context *ctx = NULL;
    VN_ASSERT_OK(vn_context_create(&ctx, &o));
    vn_encoder_config c = VN_ENCODER_CONFIG_INIT;
    vn_train_options t = VN_TRAIN_OPTIONS_INIT;
    vn_trainer *tr = (vn_trainer *)&t; /* must be reset to NULL on failure */
    VN_ASSERT_FAILS(vn_trainer_create(NULL, ctx, &c, &t), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_trainer_create(&tr, NULL, &c, &t), VN_ERR_INVALID_ARG);
    ck_assert_ptr_null(tr);
    VN_ASSERT_FAILS(vn_trainer_create(&tr, ctx, NULL, &t), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_trainer_create(&tr, ctx, &c, NULL), VN_ERR_INVALID_ARG);
    t.total_steps = 0;
    VN_ASSERT_FAILS(vn_trainer_create(&tr, ctx, &c, &t), VN_ERR_INVALID_ARG);
    t = (vn_train_options)VN_TRAIN_OPTIONS_INIT;
    t.lr = NAN;
    VN_ASSERT_FAILS(vn_trainer_create(&tr, ctx, &c, &t), VN_ERR_INVALID_ARG);
    /* one frame has no order to learn (the order objective's shuffle would never end) */
    t = (vn_train_options)VN_TRAIN_OPTIONS_INIT;
    t.objectives = "order";
    c.frames = 1;
    c.tubelet_t = 1;
    VN_ASSERT_FAILS(vn_trainer_create(&tr, ctx, &c, &t), VN_ERR_INVALID_ARG);
    ck_assert_msg(strstr(vn_last_error(), "2 or more frames") != NULL, "%s", vn_last_error());
    vn_context_destroy(ctx);
}

static void c_vn_trainer_destroy(void)
{
    vn_trainer_destroy(NULL);
}

static void c_vn_trainer_step(void)
{
    VN_ASSERT_FAILS(vn_trainer_step(NULL, NULL), VN_ERR_INVALID_ARG);
    fixture f = open_trainer();
    vn_train_metrics m = VN_TRAIN_METRICS_INIT;
    m.version = 99;
    VN_ASSERT_FAILS(vn_trainer_step(f.tr, &m), VN_ERR_VERSION);
    m.version = VN_TRAIN_METRICS_VERSION;
    VN_ASSERT_OK(vn_trainer_step(f.tr, &m));
    ck_assert_int_eq(m.step, 1);
    ck_assert(isfinite(m.losses[VN_OBJECTIVE_AOT]) && isnan(m.losses[VN_OBJECTIVE_JEPA]));
    ck_assert(m.lr >= 0 && m.grad_norm >= 0 && m.clips_per_s > 0);
    close_trainer(f);
}

static void c_vn_trainer_run(void)
{
    VN_ASSERT_FAILS(vn_trainer_run(NULL, 1, NULL), VN_ERR_INVALID_ARG);
    fixture f = open_trainer();
    VN_ASSERT_FAILS(vn_trainer_run(f.tr, -1, NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_OK(vn_trainer_run(f.tr, 0, NULL));
    close_trainer(f);
}

static void c_vn_trainer_evaluate(void)
{
    vn_train_metrics m = VN_TRAIN_METRICS_INIT;
    VN_ASSERT_FAILS(vn_trainer_evaluate(NULL, &m), VN_ERR_INVALID_ARG);
    fixture f = open_trainer();
    VN_ASSERT_OK(vn_trainer_evaluate(f.tr, &m));
    ck_assert_int_eq(m.is_eval, 1);
    ck_assert(m.accuracy[VN_OBJECTIVE_AOT] >= 0 && m.accuracy[VN_OBJECTIVE_AOT] <= 1);
    close_trainer(f);
}

static void c_vn_trainer_get_step(void)
{
    int64_t s;
    VN_ASSERT_FAILS(vn_trainer_get_step(NULL, &s), VN_ERR_INVALID_ARG);
    fixture f = open_trainer();
    VN_ASSERT_FAILS(vn_trainer_get_step(f.tr, NULL), VN_ERR_INVALID_ARG);
    close_trainer(f);
}

static void c_vn_trainer_set_precision(void)
{
    VN_ASSERT_FAILS(vn_trainer_set_precision(NULL, VN_PRECISION_FP32), VN_ERR_INVALID_ARG);
    fixture f = open_trainer();
    VN_ASSERT_FAILS(vn_trainer_set_precision(f.tr, (vn_precision)7), VN_ERR_INVALID_ARG);
    /* the cpu backend has bf16 only on bf16 hardware, and says so rather than ignoring the ask */
    if (vn_onednn_bf16_usable(NULL)) {
        VN_ASSERT_OK(vn_trainer_set_precision(f.tr, VN_PRECISION_BF16));
    } else {
        VN_ASSERT_FAILS(vn_trainer_set_precision(f.tr, VN_PRECISION_BF16), VN_ERR_UNSUPPORTED);
        ck_assert_ptr_nonnull(strstr(vn_last_error(), "bf16"));
    }
    VN_ASSERT_FAILS(vn_trainer_set_precision(f.tr, VN_PRECISION_TF32), VN_ERR_UNSUPPORTED);
    VN_ASSERT_OK(vn_trainer_set_precision(f.tr, VN_PRECISION_FP32));
    close_trainer(f);
}

static vn_status refuse_allreduce(void *user, float *buf, int64_t n, char *msg, size_t cap)
{
    (void)user, (void)buf, (void)n;
    snprintf(msg, cap, "not reachable");
    return VN_ERR_IO;
}

static void c_vn_trainer_set_dist(void)
{
    vn_train_dist d = VN_TRAIN_DIST_INIT;
    VN_ASSERT_FAILS(vn_trainer_set_dist(NULL, &d), VN_ERR_INVALID_ARG);
    fixture f = open_trainer();
    VN_ASSERT_FAILS(vn_trainer_set_dist(f.tr, NULL), VN_ERR_INVALID_ARG);
    d.version = 0;
    VN_ASSERT_FAILS(vn_trainer_set_dist(f.tr, &d), VN_ERR_VERSION);
    d = (vn_train_dist)VN_TRAIN_DIST_INIT;
    d.rank = 2;
    d.world_size = 2;
    VN_ASSERT_FAILS(vn_trainer_set_dist(f.tr, &d), VN_ERR_INVALID_ARG);
    d.rank = 1; /* two replicas and no way to sum their gradients */
    VN_ASSERT_FAILS(vn_trainer_set_dist(f.tr, &d), VN_ERR_INVALID_ARG);
    /* device collectives asked of the cpu backend, which has none */
    unsigned char id[8] = {0};
    d.allreduce_sum = refuse_allreduce;
    d.comm_id = id;
    d.comm_id_len = sizeof id;
    VN_ASSERT_FAILS(vn_trainer_set_dist(f.tr, &d), VN_ERR_UNSUPPORTED);
    VN_ASSERT_OK(vn_trainer_set_dist(f.tr, &(vn_train_dist)VN_TRAIN_DIST_INIT));
    VN_ASSERT_OK(vn_trainer_step(f.tr, NULL));
    VN_ASSERT_FAILS(vn_trainer_set_dist(f.tr, &(vn_train_dist)VN_TRAIN_DIST_INIT), VN_ERR_STATE);
    close_trainer(f);
}

static void c_vn_precision_name(void)
{
    ck_assert_str_eq(vn_precision_name((vn_precision)-1), "unknown");
    ck_assert_str_eq(vn_precision_name(VN_PRECISION_BF16), "bf16");
}

static void c_vn_precision_from_name(void)
{
    vn_precision p;
    VN_ASSERT_FAILS(vn_precision_from_name(NULL, &p), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_precision_from_name("bf16", NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_precision_from_name("fp16", &p), VN_ERR_INVALID_ARG);
    VN_ASSERT_OK(vn_precision_from_name("tf32", &p));
    ck_assert_int_eq(p, VN_PRECISION_TF32);
}

static void c_vn_trainer_get_encoder(void)
{
    const vn_encoder *e;
    VN_ASSERT_FAILS(vn_trainer_get_encoder(NULL, &e), VN_ERR_INVALID_ARG);
    fixture f = open_trainer();
    VN_ASSERT_FAILS(vn_trainer_get_encoder(f.tr, NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_OK(vn_trainer_get_encoder(f.tr, &e));
    ck_assert_ptr_nonnull(e);
    close_trainer(f);
}

static void c_vn_trainer_save(void)
{
    VN_ASSERT_FAILS(vn_trainer_save(NULL, "x"), VN_ERR_INVALID_ARG);
    fixture f = open_trainer();
    VN_ASSERT_FAILS(vn_trainer_save(f.tr, NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_trainer_save(f.tr, "/nonexistent-dir/sub/ckpt"), VN_ERR_IO);
    close_trainer(f);
}

static void c_vn_trainer_resume(void)
{
    VN_ASSERT_FAILS(vn_trainer_resume(NULL, "x"), VN_ERR_INVALID_ARG);
    fixture f = open_trainer();
    VN_ASSERT_FAILS(vn_trainer_resume(f.tr, NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_trainer_resume(f.tr, "/nonexistent-dir/ckpt"), VN_ERR_NOT_FOUND);
    close_trainer(f);
}

#define ENTRY(fn) {#fn, c_##fn}

const api_entry api_table_train[] = {
    ENTRY(vn_objective_name),
    ENTRY(vn_objective_from_name),
    ENTRY(vn_objectives_parse),
    ENTRY(vn_train_options_init),
    ENTRY(vn_train_metrics_init),
    ENTRY(vn_trainer_create),
    ENTRY(vn_trainer_destroy),
    ENTRY(vn_trainer_step),
    ENTRY(vn_trainer_run),
    ENTRY(vn_trainer_evaluate),
    ENTRY(vn_trainer_get_step),
    ENTRY(vn_trainer_get_encoder),
    ENTRY(vn_trainer_set_precision),
    ENTRY(vn_trainer_set_dist),
    ENTRY(vn_precision_name),
    ENTRY(vn_precision_from_name),
    ENTRY(vn_trainer_save),
    ENTRY(vn_trainer_resume),
    {NULL, NULL},
};
