/*
 * Bad-argument checks for the public functions of world.h.
 * Part of the api_errors suite: test_api_errors.c finds entries here by name.
 */
#include "vn_test.h"

#include <math.h>

typedef void (*api_check_fn)(void);

typedef struct api_entry {
    const char *name;
    api_check_fn check;
} api_entry;

/* A small world: 4 frames of 16 x 16 RGB, future with 2 context frames and 3 candidates. */
static vn_world *small_world(void)
{
    vn_world_options o = VN_WORLD_OPTIONS_INIT;
    o.n_frames = 4;
    o.size = 16;
    o.future_context = 2;
    o.future_candidates = 3;
    vn_world *w = NULL;
    VN_ASSERT_OK(vn_world_create(&w, &o));
    return w;
}

static void c_vn_world_task_name(void)
{
    ck_assert_str_eq(vn_world_task_name((vn_world_task)-1), "unknown");
    ck_assert_str_eq(vn_world_task_name((vn_world_task)VN_WORLD_TASK_COUNT), "unknown");
    ck_assert_str_eq(vn_world_task_name(VN_TASK_INTPHYS), "intphys");
}

static void c_vn_world_task_from_name(void)
{
    vn_world_task t;
    VN_ASSERT_FAILS(vn_world_task_from_name(NULL, &t), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_world_task_from_name("aot", NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_world_task_from_name("", &t), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_world_task_from_name("gravity2", &t), VN_ERR_INVALID_ARG);
}

static void c_vn_world_options_init(void)
{
    vn_world_options o;
    VN_ASSERT_OPTIONS_INIT(vn_world_options_init, o, VN_WORLD_OPTIONS_VERSION);
    ck_assert_int_eq(o.n_frames, 16);
}

static void c_vn_world_create(void)
{
    vn_world *w = (vn_world *)0x1;
    vn_world_options o = VN_WORLD_OPTIONS_INIT;
    VN_ASSERT_FAILS(vn_world_create(NULL, &o), VN_ERR_INVALID_ARG);
    o.version = 0;
    VN_ASSERT_FAILS(vn_world_create(&w, &o), VN_ERR_VERSION);
    ck_assert_ptr_null(w);
    o.version = VN_WORLD_OPTIONS_VERSION;
    o.size = 8;
    VN_ASSERT_FAILS(vn_world_create(&w, &o), VN_ERR_INVALID_ARG);
    o.size = 64;
    o.channels = 4;
    VN_ASSERT_FAILS(vn_world_create(&w, &o), VN_ERR_INVALID_ARG);
    o.channels = 3;
    o.noise = NAN;
    VN_ASSERT_FAILS(vn_world_create(&w, &o), VN_ERR_INVALID_ARG);
    ck_assert_ptr_null(w);
}

static void c_vn_world_destroy(void)
{
    vn_world_destroy(NULL);
}

static void c_vn_world_clip(void)
{
    uint8_t buf[4 * 16 * 16 * 3];
    int64_t shape[4] = {4, 16, 16, 3};
    vn_tensor t;
    vn_tensor_init(&t, buf, VN_DTYPE_U8, 4, shape);
    int label;
    VN_ASSERT_FAILS(vn_world_clip(NULL, VN_TASK_AOT, 0, &t, &label), VN_ERR_INVALID_ARG);
    vn_world *w = small_world();
    VN_ASSERT_FAILS(vn_world_clip(w, VN_TASK_AOT, 0, NULL, &label), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_world_clip(w, VN_TASK_AOT, -3, &t, &label), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_world_clip(w, (vn_world_task)99, 0, &t, &label), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_world_clip(w, VN_TASK_FUTURE, 0, &t, &label), VN_ERR_INVALID_ARG);
    t.shape[0] = 5;
    VN_ASSERT_FAILS(vn_world_clip(w, VN_TASK_AOT, 0, &t, &label), VN_ERR_SHAPE);
    t.shape[0] = 4;
    t.dtype = VN_DTYPE_BF16;
    VN_ASSERT_FAILS(vn_world_clip(w, VN_TASK_AOT, 0, &t, &label), VN_ERR_SHAPE);
    vn_world_destroy(w);
}

static void c_vn_world_batch(void)
{
    uint8_t buf[2 * 4 * 16 * 16 * 3];
    int64_t shape[5] = {2, 4, 16, 16, 3};
    vn_tensor t;
    vn_tensor_init(&t, buf, VN_DTYPE_U8, 5, shape);
    int labels[2];
    VN_ASSERT_FAILS(vn_world_batch(NULL, VN_TASK_ORDER, 0, &t, labels), VN_ERR_INVALID_ARG);
    vn_world *w = small_world();
    VN_ASSERT_FAILS(vn_world_batch(w, VN_TASK_ORDER, 0, NULL, labels), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_world_batch(w, VN_TASK_ORDER, -1, &t, labels), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_world_batch(w, VN_TASK_FUTURE, 0, &t, labels), VN_ERR_INVALID_ARG);
    t.shape[4] = 1;
    VN_ASSERT_FAILS(vn_world_batch(w, VN_TASK_ORDER, 0, &t, labels), VN_ERR_SHAPE);
    t.shape[4] = 3;
    t.ndim = 4;
    VN_ASSERT_FAILS(vn_world_batch(w, VN_TASK_ORDER, 0, &t, labels), VN_ERR_SHAPE);
    vn_world_destroy(w);
}

static void c_vn_world_future(void)
{
    uint8_t ctx[2 * 16 * 16 * 3], cand[3 * 2 * 16 * 16 * 3];
    int64_t cs[4] = {2, 16, 16, 3}, ks[5] = {3, 2, 16, 16, 3};
    vn_tensor ct, kt;
    vn_tensor_init(&ct, ctx, VN_DTYPE_U8, 4, cs);
    vn_tensor_init(&kt, cand, VN_DTYPE_U8, 5, ks);
    int kinds[3], ti;
    VN_ASSERT_FAILS(vn_world_future(NULL, 0, &ct, &kt, kinds, &ti), VN_ERR_INVALID_ARG);
    vn_world *w = small_world();
    VN_ASSERT_FAILS(vn_world_future(w, 0, NULL, &kt, kinds, &ti), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_world_future(w, 0, &ct, NULL, kinds, &ti), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_world_future(w, 0, &ct, &kt, kinds, NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_world_future(w, -1, &ct, &kt, kinds, &ti), VN_ERR_INVALID_ARG);
    kt.shape[0] = 4;
    VN_ASSERT_FAILS(vn_world_future(w, 0, &ct, &kt, kinds, &ti), VN_ERR_SHAPE);
    kt.shape[0] = 3;
    VN_ASSERT_OK(vn_world_future(w, 0, &ct, &kt, NULL, &ti)); /* kinds is optional */
    vn_world_destroy(w);
}

static void c_vn_world_describe(void)
{
    char buf[1024];
    VN_ASSERT_FAILS(vn_world_describe(NULL, VN_TASK_AOT, 0, buf, sizeof buf), VN_ERR_INVALID_ARG);
    vn_world *w = small_world();
    VN_ASSERT_FAILS(vn_world_describe(w, VN_TASK_AOT, 0, NULL, sizeof buf), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_world_describe(w, VN_TASK_AOT, -1, buf, sizeof buf), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_world_describe(w, (vn_world_task)7, 0, buf, sizeof buf), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_world_describe(w, VN_TASK_AOT, 0, buf, 0), VN_ERR_SHAPE);
    VN_ASSERT_FAILS(vn_world_describe(w, VN_TASK_AOT, 0, buf, 8), VN_ERR_SHAPE);
    vn_world_destroy(w);
}

#define ENTRY(fn) {#fn, c_##fn}

const api_entry api_table_world[] = {
    ENTRY(vn_world_task_name),
    ENTRY(vn_world_task_from_name),
    ENTRY(vn_world_options_init),
    ENTRY(vn_world_create),
    ENTRY(vn_world_destroy),
    ENTRY(vn_world_clip),
    ENTRY(vn_world_batch),
    ENTRY(vn_world_future),
    ENTRY(vn_world_describe),
    {NULL, NULL},
};
