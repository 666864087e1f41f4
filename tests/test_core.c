/* Core: status codes, thread-local errors, logging, versions, context and backend choice. */
#include "vn_test.h"

#include <pthread.h>
#include <string.h>

#include <oneapi/dnnl/dnnl_version.h>

/* ---- status and errors --------------------------------------------------------------- */

START_TEST(status_names_are_distinct)
{
    const vn_status all[] = {VN_OK,          VN_ERR_INVALID_ARG, VN_ERR_OUT_OF_MEMORY, VN_ERR_UNSUPPORTED,
                             VN_ERR_IO,      VN_ERR_FORMAT,      VN_ERR_NOT_FOUND,     VN_ERR_SHAPE,
                             VN_ERR_BACKEND, VN_ERR_VERSION,     VN_ERR_STATE,         VN_ERR_TIMEOUT,
                             VN_ERR_END,     VN_ERR_INTERNAL};
    const size_t n = sizeof all / sizeof all[0];
    for (size_t i = 0; i < n; i++) {
        ck_assert_str_ne(vn_status_str(all[i]), "VN_ERR_UNKNOWN");
        for (size_t j = 0; j < i; j++)
            ck_assert_str_ne(vn_status_str(all[i]), vn_status_str(all[j]));
    }
    ck_assert_str_eq(vn_status_str(VN_OK), "VN_OK");
}
END_TEST

static void *fail_in_thread(void *arg)
{
    (void)arg;
    vn_clear_error();
    vn_backend_kind k;
    vn_backend_from_name("not-a-backend", &k);
    return NULL;
}

START_TEST(errors_are_thread_local)
{
    vn_clear_error();
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, fail_in_thread, NULL), 0);
    pthread_join(t, NULL);
    ck_assert_str_eq(vn_last_error(), "");

    vn_backend_kind k;
    ck_assert_int_eq(vn_backend_from_name("nope", &k), VN_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(vn_last_error(), "nope"));
}
END_TEST

/* ---- logging ------------------------------------------------------------------------- */

typedef struct log_capture {
    int lines;
    int info_lines;
    char last[1024];
} log_capture;

static void capture(vn_log_level level, const char *msg, void *user)
{
    log_capture *c = user;
    c->lines++;
    if (level == VN_LOG_INFO)
        c->info_lines++;
    snprintf(c->last, sizeof c->last, "%s", msg);
}

START_TEST(log_level_filters_callback)
{
    log_capture cap = {0};
    VN_ASSERT_OK(vn_set_log_callback(capture, &cap));
    VN_ASSERT_OK(vn_set_log_level(VN_LOG_ERROR));
    vn_context *ctx = NULL;
    vn_context_options o = VN_CONTEXT_OPTIONS_INIT;
    o.backend = VN_BACKEND_AUTO;
    VN_ASSERT_OK(vn_context_create(&ctx, &o));
    vn_context_destroy(ctx);
    ck_assert_int_eq(cap.lines, 0);
    vn_set_log_callback(NULL, NULL);
}
END_TEST

/* ---- versions ------------------------------------------------------------------------ */

START_TEST(version_matches_header)
{
    ck_assert_str_eq(vn_version(), VN_VERSION_STRING);
    ck_assert_uint_eq(vn_version_number(), VN_VERSION_NUMBER);
    ck_assert_uint_eq(VN_VERSION_NUMBER, VN_VERSION_MAJOR * 10000 + VN_VERSION_MINOR * 100 + VN_VERSION_PATCH);
    char expect[32];
    snprintf(expect, sizeof expect, "%d.%d.%d", VN_VERSION_MAJOR, VN_VERSION_MINOR, VN_VERSION_PATCH);
    ck_assert_str_eq(vn_version(), expect);
}
END_TEST

START_TEST(component_versions)
{
    const char *name, *ver;
    VN_ASSERT_OK(vn_component_version(VN_COMPONENT_ONEDNN, &name, &ver));
    ck_assert_str_eq(name, "oneDNN");
    char expect[32];
    snprintf(expect, sizeof expect, "%d.%d.", DNNL_VERSION_MAJOR, DNNL_VERSION_MINOR);
    ck_assert_msg(strncmp(ver, expect, strlen(expect)) == 0, "oneDNN version %s, headers say %s", ver, expect);
    for (int c = VN_COMPONENT_LIBAVFORMAT; c <= VN_COMPONENT_LIBSWSCALE; c++) {
        VN_ASSERT_OK(vn_component_version((vn_component)c, &name, &ver));
        ck_assert_msg(strchr(ver, '.') != NULL, "%s version '%s'", name, ver);
    }
    int compiled = 0;
    VN_ASSERT_OK(vn_backend_compiled(VN_BACKEND_CUDA, &compiled));
    vn_status s = vn_component_version(VN_COMPONENT_CUBLAS, &name, &ver);
    ck_assert_int_eq(s, compiled ? VN_OK : VN_ERR_UNSUPPORTED);
}
END_TEST

/* ---- backend queries ----------------------------------------------------------------- */

START_TEST(backend_names_round_trip)
{
    for (int k = 0; k < VN_BACKEND_KIND_COUNT; k++) {
        vn_backend_kind back;
        VN_ASSERT_OK(vn_backend_from_name(vn_backend_name((vn_backend_kind)k), &back));
        ck_assert_int_eq(back, k);
    }
    vn_backend_kind k;
    VN_ASSERT_OK(vn_backend_from_name("CPU", &k));
    ck_assert_int_eq(k, VN_BACKEND_CPU);
    VN_ASSERT_OK(vn_backend_from_name("ref", &k));
    ck_assert_int_eq(k, VN_BACKEND_REFERENCE);
}
END_TEST

START_TEST(cpu_backends_always_available)
{
    const vn_backend_kind kinds[] = {VN_BACKEND_CPU, VN_BACKEND_REFERENCE};
    for (int i = 0; i < 2; i++) {
        int compiled = 0, avail = 0, n = 0;
        const char *why = "unset";
        VN_ASSERT_OK(vn_backend_compiled(kinds[i], &compiled));
        VN_ASSERT_OK(vn_backend_available(kinds[i], &avail, &why));
        VN_ASSERT_OK(vn_device_count(kinds[i], &n));
        ck_assert_int_eq(compiled, 1);
        ck_assert_int_eq(avail, 1);
        ck_assert_str_eq(why, "");
        ck_assert_int_eq(n, 1);
        vn_device_info info = VN_DEVICE_INFO_INIT;
        VN_ASSERT_OK(vn_device_get_info(kinds[i], 0, &info));
        ck_assert_int_ge(info.compute_units, 1);
        ck_assert_uint_gt(info.memory_bytes, 0);
        ck_assert(info.name[0] != '\0');
        ck_assert_int_eq(info.backend, kinds[i]);
    }
}
END_TEST

START_TEST(cuda_unavailable_is_explained)
{
    int compiled = 0, avail = 0, n = -1;
    const char *why = NULL;
    VN_ASSERT_OK(vn_backend_compiled(VN_BACKEND_CUDA, &compiled));
    VN_ASSERT_OK(vn_backend_available(VN_BACKEND_CUDA, &avail, &why));
    VN_ASSERT_OK(vn_device_count(VN_BACKEND_CUDA, &n));
    if (avail) {
        ck_assert_int_ge(n, 1);
        return;
    }
    ck_assert_ptr_nonnull(why);
    ck_assert_msg(why[0] != '\0', "cuda unavailable without a reason");
    ck_assert_int_eq(n, 0);
    vn_context *ctx = NULL;
    vn_context_options o = VN_CONTEXT_OPTIONS_INIT;
    o.backend = VN_BACKEND_CUDA;
    VN_ASSERT_FAILS(vn_context_create(&ctx, &o), VN_ERR_UNSUPPORTED);
    ck_assert_ptr_null(ctx);
    ck_assert_msg(strstr(vn_last_error(), "cuda") != NULL, "message does not name cuda: %s", vn_last_error());
}
END_TEST

/* ---- context and backend selection --------------------------------------------------- */

static vn_backend_kind context_kind(const vn_context_options *o)
{
    vn_context *ctx = NULL;
    VN_ASSERT_OK(vn_context_create(&ctx, o));
    vn_backend_kind k = VN_BACKEND_AUTO;
    VN_ASSERT_OK(vn_context_backend(ctx, &k));
    vn_context_destroy(ctx);
    return k;
}

START_TEST(options_init_gives_defaults)
{
    vn_context_options o;
    memset(&o, 0xAB, sizeof o);
    VN_ASSERT_OK(vn_context_options_init(&o, VN_CONTEXT_OPTIONS_VERSION));
    vn_context_options def = VN_CONTEXT_OPTIONS_INIT;
    ck_assert_int_eq(o.version, VN_CONTEXT_OPTIONS_VERSION);
    ck_assert_int_eq(o.backend, def.backend);
    ck_assert_int_eq(o.n_threads, 0);
    ck_assert_int_eq(o.deterministic, 0);
    ck_assert_uint_eq(o.seed, 0);
}
END_TEST

START_TEST(explicit_backends)
{
    unsetenv("VN_BACKEND");
    vn_context_options o = VN_CONTEXT_OPTIONS_INIT;
    o.backend = VN_BACKEND_CPU;
    ck_assert_int_eq(context_kind(&o), VN_BACKEND_CPU);
    o.backend = VN_BACKEND_REFERENCE;
    ck_assert_int_eq(context_kind(&o), VN_BACKEND_REFERENCE);
    ck_assert_int_ne(context_kind(NULL), VN_BACKEND_AUTO);
}
END_TEST

START_TEST(env_overrides_backend)
{
    vn_context_options o = VN_CONTEXT_OPTIONS_INIT;
    o.backend = VN_BACKEND_CPU;
    setenv("VN_BACKEND", "reference", 1);
    ck_assert_int_eq(context_kind(&o), VN_BACKEND_REFERENCE);
    setenv("VN_BACKEND", "CPU", 1);
    o.backend = VN_BACKEND_REFERENCE;
    ck_assert_int_eq(context_kind(&o), VN_BACKEND_CPU);
    setenv("VN_BACKEND", "", 1);
    ck_assert_int_eq(context_kind(&o), VN_BACKEND_REFERENCE);

    setenv("VN_BACKEND", "quantum", 1);
    vn_context *ctx = NULL;
    VN_ASSERT_FAILS(vn_context_create(&ctx, &o), VN_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(vn_last_error(), "VN_BACKEND"));
    ck_assert_ptr_nonnull(strstr(vn_last_error(), "quantum"));
    unsetenv("VN_BACKEND");
}
END_TEST

START_TEST(auto_fallback_logs_one_line)
{
    int avail = 0;
    VN_ASSERT_OK(vn_backend_available(VN_BACKEND_CUDA, &avail, NULL));
    unsetenv("VN_BACKEND");
    log_capture cap = {0};
    VN_ASSERT_OK(vn_set_log_callback(capture, &cap));
    VN_ASSERT_OK(vn_set_log_level(VN_LOG_INFO));
    vn_context_options o = VN_CONTEXT_OPTIONS_INIT;
    vn_backend_kind k = context_kind(&o);
    vn_set_log_callback(NULL, NULL);
    vn_set_log_level(VN_LOG_WARN);
    if (avail) {
        ck_assert_int_eq(k, VN_BACKEND_CUDA);
        ck_assert_int_eq(cap.info_lines, 0);
    } else {
        ck_assert_int_eq(k, VN_BACKEND_CPU);
        ck_assert_int_eq(cap.info_lines, 1);
        ck_assert_msg(strstr(cap.last, "using cpu") && strstr(cap.last, "cuda"), "fallback line: %s", cap.last);
    }
}
END_TEST

START_TEST(env_auto_resolves)
{
    setenv("VN_BACKEND", "auto", 1);
    vn_context_options o = VN_CONTEXT_OPTIONS_INIT;
    o.backend = VN_BACKEND_REFERENCE;
    vn_backend_kind k = context_kind(&o);
    int avail = 0;
    vn_backend_available(VN_BACKEND_CUDA, &avail, NULL);
    ck_assert_int_eq(k, avail ? VN_BACKEND_CUDA : VN_BACKEND_CPU);
    unsetenv("VN_BACKEND");
}
END_TEST

START_TEST(threads_and_seed)
{
    vn_context_options o = VN_CONTEXT_OPTIONS_INIT;
    o.backend = VN_BACKEND_CPU;
    o.n_threads = 3;
    o.seed = 0x1234567890ULL;
    vn_context *ctx = NULL;
    VN_ASSERT_OK(vn_context_create(&ctx, &o));
    int n = 0;
    uint64_t seed = 0;
    VN_ASSERT_OK(vn_context_threads(ctx, &n));
    VN_ASSERT_OK(vn_context_seed(ctx, &seed));
    ck_assert_int_eq(n, 3);
    ck_assert_uint_eq(seed, 0x1234567890ULL);
    vn_context_destroy(ctx);

    o.n_threads = 0;
    VN_ASSERT_OK(vn_context_create(&ctx, &o));
    VN_ASSERT_OK(vn_context_threads(ctx, &n));
    vn_device_info info = VN_DEVICE_INFO_INIT;
    VN_ASSERT_OK(vn_device_get_info(VN_BACKEND_CPU, 0, &info));
    ck_assert_int_eq(n, info.compute_units);
    vn_context_destroy(ctx);
}
END_TEST

START_TEST(tensor_init_is_row_major)
{
    float buf[24];
    int64_t shape[3] = {2, 3, 4};
    vn_tensor t;
    VN_ASSERT_OK(vn_tensor_init(&t, buf, VN_DTYPE_F32, 3, shape));
    ck_assert_int_eq(t.strides[0], 12);
    ck_assert_int_eq(t.strides[1], 4);
    ck_assert_int_eq(t.strides[2], 1);
    int64_t n = 0;
    VN_ASSERT_OK(vn_tensor_numel(&t, &n));
    ck_assert_int_eq(n, 24);
    ck_assert_uint_eq(vn_dtype_size(VN_DTYPE_BF16), 2);
    ck_assert_str_eq(vn_dtype_name(VN_DTYPE_U8), "u8");
}
END_TEST

static Suite *core_suite(void)
{
    Suite *s = suite_create("core");
    TCase *tc = tcase_create("errors");
    tcase_add_test(tc, status_names_are_distinct);
    tcase_add_test(tc, errors_are_thread_local);
    tcase_add_test(tc, log_level_filters_callback);
    tcase_add_test(tc, version_matches_header);
    tcase_add_test(tc, component_versions);
    suite_add_tcase(s, tc);
    tc = tcase_create("backends");
    tcase_add_test(tc, backend_names_round_trip);
    tcase_add_test(tc, cpu_backends_always_available);
    tcase_add_test(tc, cuda_unavailable_is_explained);
    suite_add_tcase(s, tc);
    tc = tcase_create("context");
    tcase_add_test(tc, options_init_gives_defaults);
    tcase_add_test(tc, explicit_backends);
    tcase_add_test(tc, env_overrides_backend);
    tcase_add_test(tc, auto_fallback_logs_one_line);
    tcase_add_test(tc, env_auto_resolves);
    tcase_add_test(tc, threads_and_seed);
    tcase_add_test(tc, tensor_init_is_row_major);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return vn_test_run(core_suite());
}
