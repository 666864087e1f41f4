/*
 * Bad-argument checks for the public functions of encoder.h.
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

static vn_context *enc_ctx(void)
{
    vn_context_options o = VN_CONTEXT_OPTIONS_INIT;
    o.backend = VN_BACKEND_CPU;
    o.n_threads = 1;
    vn_context *ctx = NULL;
    VN_ASSERT_OK(vn_context_create(&ctx, &o));
    return ctx;
}

/* 2 frames of 8 x 8 grey, patch 4, one tubelet of 2, dim 8, 1 block of 2 heads. */
static vn_encoder_config small_config(void)
{
    vn_encoder_config c = VN_ENCODER_CONFIG_INIT;
    c.frames = 2;
    c.size = 8;
    c.channels = 1;
    c.patch = 4;
    c.tubelet_t = 2;
    c.dim = 8;
    c.depth = 1;
    c.heads = 2;
    return c;
}

static vn_encoder *small_encoder(vn_context *ctx)
{
    vn_encoder_config c = small_config();
    vn_encoder *enc = NULL;
    VN_ASSERT_OK(vn_encoder_create(&enc, ctx, &c));
    return enc;
}

static void c_vn_encoder_family_name(void)
{
    ck_assert_str_eq(vn_encoder_family_name((vn_encoder_family)-1), "unknown");
    ck_assert_str_eq(vn_encoder_family_name((vn_encoder_family)3), "unknown");
    ck_assert_str_eq(vn_encoder_family_name(VN_ENCODER_FRAMES_TEMPORAL), "frames+temporal");
}

static void c_vn_encoder_family_from_name(void)
{
    vn_encoder_family f;
    VN_ASSERT_FAILS(vn_encoder_family_from_name(NULL, &f), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_encoder_family_from_name("video", NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_encoder_family_from_name("", &f), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_encoder_family_from_name("frames+", &f), VN_ERR_INVALID_ARG);
    VN_ASSERT_OK(vn_encoder_family_from_name("frames+temporal", &f));
    ck_assert_int_eq(f, VN_ENCODER_FRAMES_TEMPORAL);
}

static void c_vn_encoder_config_init(void)
{
    vn_encoder_config c;
    VN_ASSERT_OPTIONS_INIT(vn_encoder_config_init, c, VN_ENCODER_CONFIG_VERSION);
    ck_assert_int_eq(c.dim, 128);
}

static void c_vn_encoder_config_preset(void)
{
    vn_encoder_config c;
    VN_ASSERT_FAILS(vn_encoder_config_preset(NULL, "xs", VN_ENCODER_VIDEO), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_encoder_config_preset(&c, NULL, VN_ENCODER_VIDEO), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_encoder_config_preset(&c, "xl", VN_ENCODER_VIDEO), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_encoder_config_preset(&c, "xs", (vn_encoder_family)9), VN_ERR_INVALID_ARG);
}

static void c_vn_encoder_create(void)
{
    vn_context *ctx = enc_ctx();
    vn_encoder_config c = small_config();
    vn_encoder *enc = (vn_encoder *)0x1;
    VN_ASSERT_FAILS(vn_encoder_create(NULL, ctx, &c), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_encoder_create(&enc, NULL, &c), VN_ERR_INVALID_ARG);
    ck_assert_ptr_null(enc);
    VN_ASSERT_FAILS(vn_encoder_create(&enc, ctx, NULL), VN_ERR_INVALID_ARG);
    c.version = 99;
    VN_ASSERT_FAILS(vn_encoder_create(&enc, ctx, &c), VN_ERR_VERSION);
    c = small_config();
    c.heads = 3;
    VN_ASSERT_FAILS(vn_encoder_create(&enc, ctx, &c), VN_ERR_INVALID_ARG);
    ck_assert(strstr(vn_last_error(), "dim") != NULL);
    c = small_config();
    c.size = 10;
    VN_ASSERT_FAILS(vn_encoder_create(&enc, ctx, &c), VN_ERR_INVALID_ARG);
    ck_assert(strstr(vn_last_error(), "patch") != NULL);
    vn_context_destroy(ctx);
}

static void c_vn_encoder_destroy(void)
{
    vn_encoder_destroy(NULL);
}

static void c_vn_encoder_get_config(void)
{
    vn_context *ctx = enc_ctx();
    vn_encoder *enc = small_encoder(ctx);
    vn_encoder_config c;
    VN_ASSERT_FAILS(vn_encoder_get_config(NULL, &c), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_encoder_get_config(enc, NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_OK(vn_encoder_get_config(enc, &c));
    ck_assert_int_eq(c.dim, 8);
    vn_encoder_destroy(enc);
    vn_context_destroy(ctx);
}

static void c_vn_encoder_num_params(void)
{
    vn_context *ctx = enc_ctx();
    vn_encoder *enc = small_encoder(ctx);
    int64_t n;
    VN_ASSERT_FAILS(vn_encoder_num_params(NULL, &n), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_encoder_num_params(enc, NULL), VN_ERR_INVALID_ARG);
    vn_encoder_destroy(enc);
    vn_context_destroy(ctx);
}

static void c_vn_encoder_output_shape(void)
{
    vn_context *ctx = enc_ctx();
    vn_encoder *enc = small_encoder(ctx);
    int64_t l, d;
    VN_ASSERT_FAILS(vn_encoder_output_shape(NULL, &l, &d), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_encoder_output_shape(enc, NULL, &d), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_encoder_output_shape(enc, &l, NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_OK(vn_encoder_output_shape(enc, &l, &d));
    ck_assert(l == 4 && d == 8);
    vn_encoder_destroy(enc);
    vn_context_destroy(ctx);
}

/* Shared by encode and encode_tokens: NULLs, wrong rank, wrong clip shape, wrong dtype,
 * wrong output shape, non-contiguous strides. */
static void check_encode_call(vn_status (*fn)(const vn_encoder *, const vn_tensor *, vn_tensor *), int tokens)
{
    vn_context *ctx = enc_ctx();
    vn_encoder *enc = small_encoder(ctx);
    float clips[2 * 1 * 2 * 8 * 8] = {0}, out[2 * 4 * 8];
    vn_tensor tc, to;
    VN_ASSERT_OK(vn_tensor_init(&tc, clips, VN_DTYPE_F32, 5, (int64_t[]){2, 1, 2, 8, 8}));
    if (tokens)
        VN_ASSERT_OK(vn_tensor_init(&to, out, VN_DTYPE_F32, 3, (int64_t[]){2, 4, 8}));
    else
        VN_ASSERT_OK(vn_tensor_init(&to, out, VN_DTYPE_F32, 2, (int64_t[]){2, 8}));
    VN_ASSERT_FAILS(fn(NULL, &tc, &to), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(fn(enc, NULL, &to), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(fn(enc, &tc, NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_OK(fn(enc, &tc, &to));
    vn_tensor bad = tc;
    bad.ndim = 4;
    VN_ASSERT_FAILS(fn(enc, &bad, &to), VN_ERR_SHAPE);
    VN_ASSERT_OK(vn_tensor_init(&bad, clips, VN_DTYPE_F32, 5, (int64_t[]){2, 3, 2, 8, 8}));
    VN_ASSERT_FAILS(fn(enc, &bad, &to), VN_ERR_SHAPE);
    VN_ASSERT_OK(vn_tensor_init(&bad, clips, VN_DTYPE_F32, 5, (int64_t[]){0, 1, 2, 8, 8}));
    VN_ASSERT_FAILS(fn(enc, &bad, &to), VN_ERR_SHAPE);
    bad = tc;
    bad.dtype = VN_DTYPE_U8;
    ck_assert(fn(enc, &bad, &to) < 0);
    bad = tc;
    bad.strides[4] = 2;
    VN_ASSERT_FAILS(fn(enc, &bad, &to), VN_ERR_SHAPE);
    bad = to;
    bad.shape[0] = 3;
    VN_ASSERT_FAILS(fn(enc, &tc, &bad), VN_ERR_SHAPE);
    vn_encoder_destroy(enc);
    vn_context_destroy(ctx);
}

static void c_vn_encoder_encode(void)
{
    check_encode_call(vn_encoder_encode, 0);
}

static void c_vn_encoder_encode_tokens(void)
{
    check_encode_call(vn_encoder_encode_tokens, 1);
}

static void c_vn_encoder_set_precision(void)
{
    VN_ASSERT_FAILS(vn_encoder_set_precision(NULL, VN_PRECISION_FP32), VN_ERR_INVALID_ARG);
    vn_context *ctx = enc_ctx();
    vn_encoder *enc = small_encoder(ctx);
    vn_precision p;
    VN_ASSERT_FAILS(vn_encoder_set_precision(enc, (vn_precision)3), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_encoder_set_precision(enc, (vn_precision)-1), VN_ERR_INVALID_ARG);
    /* the cpu backend has no TF32, and says why rather than multiplying in fp32 */
    VN_ASSERT_FAILS(vn_encoder_set_precision(enc, VN_PRECISION_TF32), VN_ERR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(vn_last_error(), "tf32"));
    VN_ASSERT_OK(vn_encoder_get_precision(enc, &p));
    ck_assert_int_eq(p, VN_PRECISION_FP32);
    /* bf16 exactly where the hardware has it */
    const char *why = "";
    if (vn_onednn_bf16_usable(&why)) {
        VN_ASSERT_OK(vn_encoder_set_precision(enc, VN_PRECISION_BF16));
    } else {
        VN_ASSERT_FAILS(vn_encoder_set_precision(enc, VN_PRECISION_BF16), VN_ERR_UNSUPPORTED);
        ck_assert_msg(strstr(vn_last_error(), why) != NULL, "'%s' does not give the reason '%s'", vn_last_error(),
                      why);
    }
    VN_ASSERT_OK(vn_encoder_set_precision(enc, VN_PRECISION_FP32));
    vn_encoder_destroy(enc);
    vn_context_destroy(ctx);
}

static void c_vn_encoder_get_precision(void)
{
    vn_precision p;
    VN_ASSERT_FAILS(vn_encoder_get_precision(NULL, &p), VN_ERR_INVALID_ARG);
    vn_context *ctx = enc_ctx();
    vn_encoder *enc = small_encoder(ctx);
    VN_ASSERT_FAILS(vn_encoder_get_precision(enc, NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_OK(vn_encoder_get_precision(enc, &p));
    ck_assert_int_eq(p, VN_PRECISION_FP32);
    vn_encoder_destroy(enc);
    vn_context_destroy(ctx);
}

static void c_vn_encoder_param_count(void)
{
    vn_context *ctx = enc_ctx();
    vn_encoder *enc = small_encoder(ctx);
    int n;
    VN_ASSERT_FAILS(vn_encoder_param_count(NULL, &n), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_encoder_param_count(enc, NULL), VN_ERR_INVALID_ARG);
    vn_encoder_destroy(enc);
    vn_context_destroy(ctx);
}

static void c_vn_encoder_param_info(void)
{
    vn_context *ctx = enc_ctx();
    vn_encoder *enc = small_encoder(ctx);
    const char *name;
    int nd, n;
    int64_t sh[VN_MAX_DIMS];
    VN_ASSERT_OK(vn_encoder_param_count(enc, &n));
    VN_ASSERT_FAILS(vn_encoder_param_info(NULL, 0, &name, &nd, sh), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_encoder_param_info(enc, -1, &name, &nd, sh), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_encoder_param_info(enc, n, &name, &nd, sh), VN_ERR_INVALID_ARG);
    VN_ASSERT_OK(vn_encoder_param_info(enc, n - 1, &name, &nd, sh));
    vn_encoder_destroy(enc);
    vn_context_destroy(ctx);
}

static void c_vn_encoder_get_param(void)
{
    vn_context *ctx = enc_ctx();
    vn_encoder *enc = small_encoder(ctx);
    float buf[8];
    vn_tensor t;
    VN_ASSERT_OK(vn_tensor_init(&t, buf, VN_DTYPE_F32, 1, (int64_t[]){8}));
    VN_ASSERT_FAILS(vn_encoder_get_param(NULL, "norm.weight", &t), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_encoder_get_param(enc, NULL, &t), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_encoder_get_param(enc, "norm.weight", NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_encoder_get_param(enc, "norm.weights", &t), VN_ERR_NOT_FOUND);
    VN_ASSERT_FAILS(vn_encoder_get_param(enc, "blocks.0.attn.qkv.weight", &t), VN_ERR_SHAPE);
    VN_ASSERT_OK(vn_encoder_get_param(enc, "norm.weight", &t));
    vn_encoder_destroy(enc);
    vn_context_destroy(ctx);
}

static void c_vn_encoder_set_param(void)
{
    vn_context *ctx = enc_ctx();
    vn_encoder *enc = small_encoder(ctx);
    float buf[8] = {0};
    vn_tensor t;
    VN_ASSERT_OK(vn_tensor_init(&t, buf, VN_DTYPE_F32, 1, (int64_t[]){8}));
    VN_ASSERT_FAILS(vn_encoder_set_param(NULL, "norm.bias", &t), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_encoder_set_param(enc, NULL, &t), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_encoder_set_param(enc, "norm.bias", NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_encoder_set_param(enc, "pool.query", &t), VN_ERR_NOT_FOUND);
    t.dtype = VN_DTYPE_I32;
    ck_assert(vn_encoder_set_param(enc, "norm.bias", &t) < 0);
    vn_encoder_destroy(enc);
    vn_context_destroy(ctx);
}

/* Weights files: NULLs, a missing file, a directory, and a file that is not safetensors. */
static void c_vn_encoder_save(void)
{
    vn_context *ctx = enc_ctx();
    vn_encoder *enc = small_encoder(ctx);
    char path[700];
    fmt_into(path, sizeof path, "%s/api_missing_dir/w.safetensors", vn_test_tmpdir());
    VN_ASSERT_FAILS(vn_encoder_save(NULL, "x.safetensors"), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_encoder_save(enc, NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_encoder_save(enc, path), VN_ERR_IO);
    ck_assert(strstr(vn_last_error(), path) != NULL);
    vn_encoder_destroy(enc);
    vn_context_destroy(ctx);
}

static void c_vn_encoder_load(void)
{
    vn_context *ctx = enc_ctx();
    vn_encoder *enc = (vn_encoder *)0x1;
    char path[700];
    fmt_into(path, sizeof path, "%s/api_no_such.safetensors", vn_test_tmpdir());
    VN_ASSERT_FAILS(vn_encoder_load(NULL, ctx, path), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_encoder_load(&enc, NULL, path), VN_ERR_INVALID_ARG);
    ck_assert_ptr_null(enc);
    VN_ASSERT_FAILS(vn_encoder_load(&enc, ctx, NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_encoder_load(&enc, ctx, path), VN_ERR_NOT_FOUND);
    ck_assert(strstr(vn_last_error(), path) != NULL);
    VN_ASSERT_FAILS(vn_encoder_load(&enc, ctx, vn_test_tmpdir()), VN_ERR_IO);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fputs("not a safetensors file", f);
    fclose(f);
    VN_ASSERT_FAILS(vn_encoder_load(&enc, ctx, path), VN_ERR_FORMAT);
    ck_assert_ptr_null(enc);
    remove(path);
    vn_context_destroy(ctx);
}

static void c_vn_encoder_config_load(void)
{
    vn_encoder_config c;
    char path[700];
    fmt_into(path, sizeof path, "%s/api_no_such_config.safetensors", vn_test_tmpdir());
    VN_ASSERT_FAILS(vn_encoder_config_load(NULL, path), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_encoder_config_load(&c, NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_encoder_config_load(&c, path), VN_ERR_NOT_FOUND);
}

#define ENTRY(fn) {#fn, c_##fn}

const api_entry api_table_encoder[] = {
    ENTRY(vn_encoder_family_name),
    ENTRY(vn_encoder_family_from_name),
    ENTRY(vn_encoder_config_init),
    ENTRY(vn_encoder_config_preset),
    ENTRY(vn_encoder_create),
    ENTRY(vn_encoder_destroy),
    ENTRY(vn_encoder_get_config),
    ENTRY(vn_encoder_num_params),
    ENTRY(vn_encoder_output_shape),
    ENTRY(vn_encoder_encode),
    ENTRY(vn_encoder_encode_tokens),
    ENTRY(vn_encoder_set_precision),
    ENTRY(vn_encoder_get_precision),
    ENTRY(vn_encoder_param_count),
    ENTRY(vn_encoder_param_info),
    ENTRY(vn_encoder_get_param),
    ENTRY(vn_encoder_set_param),
    ENTRY(vn_encoder_save),
    ENTRY(vn_encoder_load),
    ENTRY(vn_encoder_config_load),
    {NULL, NULL},
};
