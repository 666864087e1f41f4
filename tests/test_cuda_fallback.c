/*
 * The CUDA backend where it is compiled in: what a build with CUDA does on a machine
 * without a usable GPU (the development and CI machines), and the parts of the
 * backend that need no device. Runs everywhere; on a machine with a GPU the
 * no-GPU checks turn into their GPU counterparts instead of being skipped.
 */
#include "vn_test.h"

#include <string.h>
#include <strings.h>

#include "backend/backend.h"
#include "cuda_backend.h"

static int cuda_available(const char **why)
{
    int ok = -1;
    VN_ASSERT_OK(vn_backend_available(VN_BACKEND_CUDA, &ok, why));
    ck_assert(ok == 0 || ok == 1);
    return ok;
}

/* A case-insensitive "mentions cuda". */
static int mentions_cuda(const char *s)
{
    for (; *s; s++)
        if (strncasecmp(s, "cuda", 4) == 0)
            return 1;
    return 0;
}

START_TEST(compiled_in)
{
    int compiled = 0;
    VN_ASSERT_OK(vn_backend_compiled(VN_BACKEND_CUDA, &compiled));
    ck_assert_int_eq(compiled, 1);
    ck_assert_ptr_nonnull(vn_backend_table(VN_BACKEND_CUDA));
    ck_assert_str_eq(vn_backend_table(VN_BACKEND_CUDA)->name, "cuda");
}
END_TEST

/* The versions are compiled in, so they are known without a driver. */
START_TEST(component_versions_without_driver)
{
    const vn_component comps[] = {VN_COMPONENT_CUDA_RUNTIME, VN_COMPONENT_CUBLAS};
    for (int i = 0; i < 2; i++) {
        const char *name = NULL, *ver = NULL;
        VN_ASSERT_OK(vn_component_version(comps[i], &name, &ver));
        ck_assert_ptr_nonnull(name);
        ck_assert_ptr_nonnull(ver);
        /* "13.0" or "13.1.0": digits and dots, starting with a digit, with a dot. */
        ck_assert_msg(ver[0] >= '1' && ver[0] <= '9', "%s version '%s'", name, ver);
        ck_assert_msg(strchr(ver, '.') != NULL, "%s version '%s'", name, ver);
        ck_assert_msg(strspn(ver, "0123456789.") == strlen(ver), "%s version '%s'", name, ver);
    }
    const char *name = NULL, *ver = NULL;
    VN_ASSERT_OK(vn_component_version(VN_COMPONENT_CUDA_RUNTIME, &name, &ver));
    ck_assert_str_eq(ver, vn_cuda_runtime_version());
    VN_ASSERT_OK(vn_component_version(VN_COMPONENT_CUBLAS, &name, &ver));
    ck_assert_str_eq(ver, vn_cuda_cublas_version());
    ck_assert_ptr_nonnull(strstr(vn_cuda_archs(), "sm_"));
}
END_TEST

/* supports() is a static property of the table: exactly the ops it has pointers for. */
START_TEST(supports_matches_table)
{
    const vn_backend *t = vn_backend_table(VN_BACKEND_CUDA);
    ck_assert_ptr_nonnull(t);
    const int has[VN_OP_COUNT] = {
        [VN_OP_GEMM] = t->gemm != NULL, [VN_OP_ADD] = t->add != NULL,   [VN_OP_MUL] = t->mul != NULL,
        [VN_OP_SCALE] = t->scale != NULL, [VN_OP_AXPY] = t->axpy != NULL, [VN_OP_SUM] = t->sum != NULL,
        [VN_OP_SUMSQ] = t->sumsq != NULL, [VN_OP_MAX] = t->max != NULL, [VN_OP_NN] = t->nn != NULL,
        [VN_OP_ALLREDUCE] = t->allreduce_sum != NULL, [VN_OP_GEMM_BF16_ACT] = t->gemm_bf16_act != NULL,
        /* the GEMM variants depend on the device's capability: with no context, none */
    };
    for (int op = 0; op < VN_OP_COUNT; op++)
        ck_assert_msg(t->supports(NULL, (vn_op)op) == has[op], "supports(%s) = %d but the pointer is %s",
                      vn_op_name((vn_op)op), t->supports(NULL, (vn_op)op), has[op] ? "set" : "NULL");
    /* the full set: every base op and the engine table */
    for (int op = 0; op <= VN_OP_MAX; op++)
        ck_assert_msg(t->supports(NULL, (vn_op)op), "the cuda backend lacks %s", vn_op_name((vn_op)op));
    ck_assert(t->supports(NULL, VN_OP_NN));
    ck_assert(!t->supports(NULL, VN_OP_COUNT));
    ck_assert(!t->supports(NULL, (vn_op)-1));
    /* Every non-op entry is filled in. */
    ck_assert(t->available && t->device_count && t->device_info && t->init && t->fini && t->alloc && t->free &&
              t->upload && t->download && t->synchronize);
}
END_TEST

START_TEST(reason_is_given_when_unavailable)
{
    const char *why = NULL;
    int ok = cuda_available(&why);
    ck_assert_ptr_nonnull(why);
    printf("cuda backend: %s%s\n", ok ? "available" : "unavailable: ", ok ? "" : why);
    fflush(stdout);
    if (ok) {
        ck_assert_str_eq(why, "");
        return;
    }
    ck_assert_msg(strlen(why) > 10, "reason too short: '%s'", why);
    ck_assert_msg(mentions_cuda(why), "reason does not say it is about CUDA: '%s'", why);
    /* Static and stable: asking again gives the same sentence. */
    const char *again = NULL;
    cuda_available(&again);
    ck_assert_str_eq(why, again);
    /* NULL reason is allowed. */
    int ok2 = -1;
    VN_ASSERT_OK(vn_backend_available(VN_BACKEND_CUDA, &ok2, NULL));
    ck_assert_int_eq(ok2, 0);
}
END_TEST

START_TEST(devices_without_gpu)
{
    int n = -1;
    VN_ASSERT_OK(vn_device_count(VN_BACKEND_CUDA, &n));
    if (cuda_available(NULL)) {
        ck_assert_int_ge(n, 1);
        return;
    }
    ck_assert_int_eq(n, 0);
    vn_device_info info = VN_DEVICE_INFO_INIT;
    VN_ASSERT_FAILS(vn_device_get_info(VN_BACKEND_CUDA, 0, &info), VN_ERR_NOT_FOUND);
    ck_assert_msg(mentions_cuda(vn_last_error()), "message: %s", vn_last_error());
}
END_TEST

START_TEST(explicit_cuda_context)
{
    unsetenv("VN_BACKEND");
    vn_context_options o = VN_CONTEXT_OPTIONS_INIT;
    o.backend = VN_BACKEND_CUDA;
    vn_context *ctx = NULL;
    if (cuda_available(NULL)) {
        VN_ASSERT_OK(vn_context_create(&ctx, &o));
        vn_backend_kind k = VN_BACKEND_AUTO;
        VN_ASSERT_OK(vn_context_backend(ctx, &k));
        ck_assert_int_eq(k, VN_BACKEND_CUDA);
        vn_context_destroy(ctx);
        return;
    }
    VN_ASSERT_FAILS(vn_context_create(&ctx, &o), VN_ERR_UNSUPPORTED);
    ck_assert_ptr_null(ctx);
    ck_assert_msg(mentions_cuda(vn_last_error()), "message does not mention cuda: %s", vn_last_error());
    /* No silent fallback through the environment either. */
    o.backend = VN_BACKEND_CPU;
    setenv("VN_BACKEND", "cuda", 1);
    VN_ASSERT_FAILS(vn_context_create(&ctx, &o), VN_ERR_UNSUPPORTED);
    ck_assert_ptr_null(ctx);
    unsetenv("VN_BACKEND");
    /* And not through the internal entry point. */
    vn_backend_config cfg = {1, 0, 0, 1};
    vn_be be;
    VN_ASSERT_FAILS(vn_be_open(&be, VN_BACKEND_CUDA, &cfg), VN_ERR_UNSUPPORTED);
    ck_assert_ptr_null(be.table);
    ck_assert_int_eq(vn_be_supports(&be, VN_OP_GEMM), 0);
}
END_TEST

typedef struct log_capture {
    int info_lines;
    char last[1024];
} log_capture;

static void capture(vn_log_level level, const char *msg, void *user)
{
    log_capture *c = user;
    if (level == VN_LOG_INFO) {
        c->info_lines++;
        snprintf(c->last, sizeof c->last, "%s", msg);
    }
}

START_TEST(auto_falls_back_to_cpu)
{
    unsetenv("VN_BACKEND");
    int ok = cuda_available(NULL);
    log_capture cap = {0};
    VN_ASSERT_OK(vn_set_log_callback(capture, &cap));
    VN_ASSERT_OK(vn_set_log_level(VN_LOG_INFO));
    vn_context_options o = VN_CONTEXT_OPTIONS_INIT;
    o.backend = VN_BACKEND_AUTO;
    vn_context *ctx = NULL;
    vn_status s = vn_context_create(&ctx, &o);
    vn_set_log_callback(NULL, NULL);
    vn_set_log_level(VN_LOG_WARN);
    ck_assert_msg(s == VN_OK, "auto context: %s", vn_last_error());
    vn_backend_kind k = VN_BACKEND_AUTO;
    VN_ASSERT_OK(vn_context_backend(ctx, &k));
    vn_context_destroy(ctx);
    if (ok) {
        ck_assert_int_eq(k, VN_BACKEND_CUDA);
        return;
    }
    ck_assert_int_eq(k, VN_BACKEND_CPU);
    /* The fallback is said, with the backend's own reason in it. */
    const char *why = NULL;
    cuda_available(&why);
    ck_assert_int_ge(cap.info_lines, 1);
    ck_assert_msg(strstr(cap.last, why) != NULL, "fallback line '%s' lacks the reason '%s'", cap.last, why);
}
END_TEST

/* Whether a library whose file name contains name is mapped into this process. */
static int mapped(const char *name)
{
    FILE *f = fopen("/proc/self/maps", "r");
    ck_assert_ptr_nonnull(f);
    char line[1024];
    int found = 0;
    while (!found && fgets(line, sizeof line, f))
        found = strstr(line, name) != NULL;
    fclose(f);
    return found;
}

/* The CUDA libraries (about 150 MB resident) are mapped only when CUDA is used: an AUTO
 * context and every query on a machine without a driver leave them out. */
START_TEST(cuda_libraries_load_only_when_used)
{
    const char *why = "";
    if (cuda_available(&why))
        return; /* with a GPU, AUTO picks CUDA and the module is loaded on purpose */
    ck_assert_msg(!mapped("libcublas"), "cuBLAS is mapped before any CUDA use");
    vn_context *ctx = NULL;
    VN_ASSERT_OK(vn_context_create(&ctx, NULL));
    vn_context_destroy(ctx);
    int n = -1, compiled = 0;
    VN_ASSERT_OK(vn_device_count(VN_BACKEND_CUDA, &n));
    VN_ASSERT_OK(vn_backend_compiled(VN_BACKEND_CUDA, &compiled));
    const char *name, *ver;
    VN_ASSERT_OK(vn_component_version(VN_COMPONENT_CUBLAS, &name, &ver));
    ck_assert_int_eq(compiled, 1);
    ck_assert_msg(!mapped("libcublas") && !mapped("libcudart") && !mapped("libvnative-cuda"),
                  "an AUTO context or a query loaded the CUDA module on a machine without a driver");
    /* Asking for the table itself loads the module and, through it, cuBLAS. */
    ck_assert_ptr_nonnull(vn_backend_table(VN_BACKEND_CUDA));
    ck_assert(mapped("libvnative-cuda") && mapped("libcublas"));
}
END_TEST

static Suite *fallback_suite(void)
{
    Suite *s = suite_create("cuda_fallback");
    TCase *tc = tcase_create("no_gpu");
    tcase_add_test(tc, compiled_in);
    tcase_add_test(tc, component_versions_without_driver);
    tcase_add_test(tc, supports_matches_table);
    tcase_add_test(tc, reason_is_given_when_unavailable);
    tcase_add_test(tc, devices_without_gpu);
    tcase_add_test(tc, explicit_cuda_context);
    tcase_add_test(tc, auto_falls_back_to_cpu);
    tcase_add_test(tc, cuda_libraries_load_only_when_used);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    /* No CUDA call here: a child forked by Check cannot use CUDA once the parent has. */
    return vn_test_run(fallback_suite());
}
