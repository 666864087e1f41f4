/*
 * Every public function, given NULL or invalid arguments, returns an error status
 * with a non-empty message (or, for functions that return no status, behaves
 * safely). The list of functions is read from the installed-to-be headers at run
 * time, so a function added to a header without an entry here fails the suite.
 */
#include "vn_test.h"

#include <ctype.h>
#include <dirent.h>
#include <string.h>

typedef void (*api_check_fn)(void);

typedef struct api_entry {
    const char *name;
    api_check_fn check;
} api_entry;

/* ---- common.h ---------------------------------------------------------------------- */

static void c_vn_status_str(void)
{
    ck_assert_str_eq(vn_status_str((vn_status)12345), "VN_ERR_UNKNOWN");
    ck_assert_str_eq(vn_status_str(VN_ERR_SHAPE), "VN_ERR_SHAPE");
}

static void c_vn_last_error(void)
{
    vn_clear_error();
    ck_assert_ptr_nonnull(vn_last_error());
}

static void c_vn_clear_error(void)
{
    vn_context_create(NULL, NULL);
    ck_assert(vn_last_error()[0] != '\0');
    vn_clear_error();
    ck_assert_str_eq(vn_last_error(), "");
}

static void c_vn_set_log_callback(void)
{
    /* NULL restores the default sink: valid, not an error. */
    VN_ASSERT_OK(vn_set_log_callback(NULL, NULL));
}

static void c_vn_set_log_level(void)
{
    VN_ASSERT_FAILS(vn_set_log_level((vn_log_level)-1), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_set_log_level((vn_log_level)99), VN_ERR_INVALID_ARG);
}

static void c_vn_version(void)
{
    ck_assert_ptr_nonnull(vn_version());
}

static void c_vn_version_number(void)
{
    ck_assert_uint_eq(vn_version_number(), VN_VERSION_NUMBER);
}

/* ---- context.h --------------------------------------------------------------------- */

static void c_vn_backend_name(void)
{
    ck_assert_str_eq(vn_backend_name((vn_backend_kind)77), "unknown");
}

static void c_vn_backend_from_name(void)
{
    vn_backend_kind k;
    VN_ASSERT_FAILS(vn_backend_from_name(NULL, &k), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_backend_from_name("cpu", NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_backend_from_name("tpu", &k), VN_ERR_INVALID_ARG);
}

static void c_vn_backend_compiled(void)
{
    int v;
    VN_ASSERT_FAILS(vn_backend_compiled(VN_BACKEND_CPU, NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_backend_compiled((vn_backend_kind)9, &v), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_backend_compiled(VN_BACKEND_AUTO, &v), VN_ERR_INVALID_ARG);
}

static void c_vn_backend_available(void)
{
    int v;
    VN_ASSERT_FAILS(vn_backend_available(VN_BACKEND_CPU, NULL, NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_backend_available((vn_backend_kind)-3, &v, NULL), VN_ERR_INVALID_ARG);
}

static void c_vn_component_version(void)
{
    const char *n, *v;
    VN_ASSERT_FAILS(vn_component_version(VN_COMPONENT_ONEDNN, NULL, &v), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_component_version(VN_COMPONENT_ONEDNN, &n, NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_component_version((vn_component)100, &n, &v), VN_ERR_INVALID_ARG);
}

static void c_vn_device_count(void)
{
    int v;
    VN_ASSERT_FAILS(vn_device_count(VN_BACKEND_CPU, NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_device_count((vn_backend_kind)50, &v), VN_ERR_INVALID_ARG);
}

static void c_vn_device_get_info(void)
{
    vn_device_info info = VN_DEVICE_INFO_INIT;
    VN_ASSERT_FAILS(vn_device_get_info(VN_BACKEND_CPU, 0, NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_device_get_info(VN_BACKEND_CPU, -1, &info), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_device_get_info(VN_BACKEND_CPU, 5, &info), VN_ERR_NOT_FOUND);
    info.version = 0;
    VN_ASSERT_FAILS(vn_device_get_info(VN_BACKEND_CPU, 0, &info), VN_ERR_VERSION);
}

static void c_vn_context_options_init(void)
{
    vn_context_options o;
    VN_ASSERT_OPTIONS_INIT(vn_context_options_init, o, VN_CONTEXT_OPTIONS_VERSION);
}

static void c_vn_context_create(void)
{
    vn_context *ctx = (vn_context *)0x1;
    vn_context_options o = VN_CONTEXT_OPTIONS_INIT;
    VN_ASSERT_FAILS(vn_context_create(NULL, &o), VN_ERR_INVALID_ARG);
    o.version = 0;
    VN_ASSERT_FAILS(vn_context_create(&ctx, &o), VN_ERR_VERSION);
    ck_assert_ptr_null(ctx);
    o.version = VN_CONTEXT_OPTIONS_VERSION;
    o.n_threads = -2;
    VN_ASSERT_FAILS(vn_context_create(&ctx, &o), VN_ERR_INVALID_ARG);
    o.n_threads = 0;
    o.backend = (vn_backend_kind)42;
    VN_ASSERT_FAILS(vn_context_create(&ctx, &o), VN_ERR_INVALID_ARG);
    o.backend = VN_BACKEND_CPU;
    o.device = -1;
    VN_ASSERT_FAILS(vn_context_create(&ctx, &o), VN_ERR_INVALID_ARG);
}

static void c_vn_context_destroy(void)
{
    vn_context_destroy(NULL);
}

static void c_vn_context_backend(void)
{
    vn_backend_kind k;
    VN_ASSERT_FAILS(vn_context_backend(NULL, &k), VN_ERR_INVALID_ARG);
    vn_context *ctx = NULL;
    VN_ASSERT_OK(vn_context_create(&ctx, NULL));
    VN_ASSERT_FAILS(vn_context_backend(ctx, NULL), VN_ERR_INVALID_ARG);
    vn_context_destroy(ctx);
}

static void c_vn_context_threads(void)
{
    int n;
    VN_ASSERT_FAILS(vn_context_threads(NULL, &n), VN_ERR_INVALID_ARG);
    vn_context *ctx = NULL;
    VN_ASSERT_OK(vn_context_create(&ctx, NULL));
    VN_ASSERT_FAILS(vn_context_threads(ctx, NULL), VN_ERR_INVALID_ARG);
    vn_context_destroy(ctx);
}

static void c_vn_context_seed(void)
{
    uint64_t s;
    VN_ASSERT_FAILS(vn_context_seed(NULL, &s), VN_ERR_INVALID_ARG);
    vn_context *ctx = NULL;
    VN_ASSERT_OK(vn_context_create(&ctx, NULL));
    VN_ASSERT_FAILS(vn_context_seed(ctx, NULL), VN_ERR_INVALID_ARG);
    vn_context_destroy(ctx);
}

static void c_vn_context_comm_id(void)
{
    unsigned char id[128];
    size_t len = 0;
    VN_ASSERT_FAILS(vn_context_comm_id(NULL, id, sizeof id, &len), VN_ERR_INVALID_ARG);
    vn_context *ctx = vn_test_cpu_context(1);
    VN_ASSERT_FAILS(vn_context_comm_id(ctx, NULL, sizeof id, &len), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_context_comm_id(ctx, id, sizeof id, NULL), VN_ERR_INVALID_ARG);
    /* the cpu backend has no collectives: data parallelism reduces through the host */
    VN_ASSERT_FAILS(vn_context_comm_id(ctx, id, sizeof id, &len), VN_ERR_UNSUPPORTED);
    vn_context_destroy(ctx);
}

static void c_vn_context_set_profiling(void)
{
    VN_ASSERT_FAILS(vn_context_set_profiling(NULL, 1), VN_ERR_INVALID_ARG);
}

static void c_vn_context_profile_reset(void)
{
    VN_ASSERT_FAILS(vn_context_profile_reset(NULL), VN_ERR_INVALID_ARG);
}

static void c_vn_context_profile_count(void)
{
    int n;
    VN_ASSERT_FAILS(vn_context_profile_count(NULL, &n), VN_ERR_INVALID_ARG);
    vn_context *ctx = vn_test_cpu_context(1);
    VN_ASSERT_FAILS(vn_context_profile_count(ctx, NULL), VN_ERR_INVALID_ARG);
    vn_context_destroy(ctx);
}

static void c_vn_context_profile_entry(void)
{
    double s;
    VN_ASSERT_FAILS(vn_context_profile_entry(NULL, 0, NULL, NULL, &s, NULL), VN_ERR_INVALID_ARG);
    vn_context *ctx = vn_test_cpu_context(1);
    int n = 0;
    VN_ASSERT_OK(vn_context_profile_count(ctx, &n));
    VN_ASSERT_FAILS(vn_context_profile_entry(ctx, -1, NULL, NULL, &s, NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_context_profile_entry(ctx, n, NULL, NULL, &s, NULL), VN_ERR_INVALID_ARG);
    vn_context_destroy(ctx);
}

/* ---- tensor.h ---------------------------------------------------------------------- */

static void c_vn_dtype_name(void)
{
    ck_assert_str_eq(vn_dtype_name((vn_dtype)99), "unknown");
}

static void c_vn_dtype_size(void)
{
    ck_assert_uint_eq(vn_dtype_size((vn_dtype)-1), 0);
}

static void c_vn_tensor_init(void)
{
    vn_tensor t;
    int64_t shape[2] = {2, -1};
    VN_ASSERT_FAILS(vn_tensor_init(NULL, NULL, VN_DTYPE_F32, 1, shape), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_tensor_init(&t, NULL, (vn_dtype)77, 1, shape), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_tensor_init(&t, NULL, VN_DTYPE_F32, 2, NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_tensor_init(&t, NULL, VN_DTYPE_F32, VN_MAX_DIMS + 1, shape), VN_ERR_SHAPE);
    VN_ASSERT_FAILS(vn_tensor_init(&t, NULL, VN_DTYPE_F32, 2, shape), VN_ERR_SHAPE);
}

static void c_vn_tensor_numel(void)
{
    vn_tensor t;
    int64_t n;
    VN_ASSERT_FAILS(vn_tensor_numel(NULL, &n), VN_ERR_INVALID_ARG);
    VN_ASSERT_OK(vn_tensor_init(&t, NULL, VN_DTYPE_F32, 0, NULL));
    VN_ASSERT_FAILS(vn_tensor_numel(&t, NULL), VN_ERR_INVALID_ARG);
    t.ndim = 40;
    VN_ASSERT_FAILS(vn_tensor_numel(&t, &n), VN_ERR_SHAPE);
}

/* ---- the table: one entry per public function -------------------------------------- */

#define ENTRY(fn) {#fn, c_##fn}

static const api_entry api_table[] = {
    ENTRY(vn_status_str),
    ENTRY(vn_last_error),
    ENTRY(vn_clear_error),
    ENTRY(vn_set_log_callback),
    ENTRY(vn_set_log_level),
    ENTRY(vn_version),
    ENTRY(vn_version_number),
    ENTRY(vn_backend_name),
    ENTRY(vn_backend_from_name),
    ENTRY(vn_backend_compiled),
    ENTRY(vn_backend_available),
    ENTRY(vn_component_version),
    ENTRY(vn_device_count),
    ENTRY(vn_device_get_info),
    ENTRY(vn_context_options_init),
    ENTRY(vn_context_create),
    ENTRY(vn_context_destroy),
    ENTRY(vn_context_backend),
    ENTRY(vn_context_threads),
    ENTRY(vn_context_seed),
    ENTRY(vn_context_comm_id),
    ENTRY(vn_context_set_profiling),
    ENTRY(vn_context_profile_reset),
    ENTRY(vn_context_profile_count),
    ENTRY(vn_context_profile_entry),
    ENTRY(vn_dtype_name),
    ENTRY(vn_dtype_size),
    ENTRY(vn_tensor_init),
    ENTRY(vn_tensor_numel),
    /* video.h and loader.h entries: see test_api_errors_io.c */
};

#define N_TABLE (sizeof api_table / sizeof api_table[0])

/* Entries defined by other files of this suite (one per module), NULL-terminated. */
extern const api_entry api_table_io[];
extern const api_entry api_table_world[];
extern const api_entry api_table_encoder[];
extern const api_entry api_table_train[];
extern const api_entry api_table_probe[];
extern const api_entry api_table_index[];

static const api_entry *find_entry(const char *name)
{
    for (size_t i = 0; i < N_TABLE; i++)
        if (!strcmp(api_table[i].name, name))
            return &api_table[i];
    for (const api_entry *e = api_table_io; e->name; e++)
        if (!strcmp(e->name, name))
            return e;
    for (const api_entry *e = api_table_world; e->name; e++)
        if (!strcmp(e->name, name))
            return e;
    const api_entry *modules[] = {api_table_encoder, api_table_train, api_table_probe, api_table_index};
    for (size_t m = 0; m < sizeof modules / sizeof modules[0]; m++)
        for (const api_entry *e = modules[m]; e->name; e++)
            if (!strcmp(e->name, name))
                return e;
    return NULL;
}

#define MAX_FUNCS 512

typedef struct header_funcs {
    char names[MAX_FUNCS][96];
    int n;
} header_funcs;

/* Collect the name of every VN_API function declared in text. */
static void scan_header(const char *text, header_funcs *out)
{
    const char *p = text;
    while ((p = strstr(p, "VN_API")) != NULL) {
        p += 6;
        if (isalnum((unsigned char)*p) || *p == '_')
            continue;
        const char *paren = strchr(p, '(');
        const char *semi = strchr(p, ';');
        if (!paren || (semi && semi < paren))
            continue;
        const char *end = paren;
        while (end > p && isspace((unsigned char)end[-1]))
            end--;
        const char *start = end;
        while (start > p && (isalnum((unsigned char)start[-1]) || start[-1] == '_'))
            start--;
        size_t len = (size_t)(end - start);
        if (len > 3 && len < sizeof out->names[0] && strncmp(start, "vn_", 3) == 0 && out->n < MAX_FUNCS) {
            memcpy(out->names[out->n], start, len);
            out->names[out->n][len] = '\0';
            out->n++;
        }
    }
}

static void collect_public_functions(header_funcs *funcs)
{
    const char *src = getenv("VN_TEST_SRCDIR");
    ck_assert_msg(src != NULL, "VN_TEST_SRCDIR is not set (run through meson test)");
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/include/vnative", src);
    DIR *d = opendir(dir);
    ck_assert_msg(d != NULL, "cannot open %s", dir);
    struct dirent *de;
    funcs->n = 0;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len < 3 || strcmp(de->d_name + len - 2, ".h") != 0)
            continue;
        char path[1400];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        FILE *f = fopen(path, "rb");
        ck_assert_msg(f != NULL, "cannot read %s", path);
        fseek(f, 0, SEEK_END);
        long size = ftell(f);
        fseek(f, 0, SEEK_SET);
        char *text = malloc((size_t)size + 1);
        ck_assert_ptr_nonnull(text);
        ck_assert_uint_eq(fread(text, 1, (size_t)size, f), (size_t)size);
        text[size] = '\0';
        fclose(f);
        scan_header(text, funcs);
        free(text);
    }
    closedir(d);
}

START_TEST(every_public_function_has_an_error_check)
{
    static header_funcs funcs;
    collect_public_functions(&funcs);
    ck_assert_msg(funcs.n >= 20, "found only %d public functions in the headers", funcs.n);
    char missing[4096] = "";
    for (int i = 0; i < funcs.n; i++)
        if (!find_entry(funcs.names[i]) && strlen(missing) + strlen(funcs.names[i]) + 3 < sizeof missing) {
            strcat(missing, " ");
            strcat(missing, funcs.names[i]);
        }
    ck_assert_msg(missing[0] == '\0', "public functions without a bad-argument check in test_api_errors:%s", missing);
}
END_TEST

START_TEST(bad_arguments_give_status_and_message)
{
    static header_funcs funcs;
    collect_public_functions(&funcs);
    for (int i = 0; i < funcs.n; i++) {
        const api_entry *e = find_entry(funcs.names[i]);
        if (e)
            e->check();
    }
}
END_TEST

static Suite *api_errors_suite(void)
{
    Suite *s = suite_create("api_errors");
    TCase *tc = tcase_create("api");
    tcase_add_test(tc, every_public_function_has_an_error_check);
    tcase_add_test(tc, bad_arguments_give_status_and_message);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return vn_test_run(api_errors_suite());
}
