/* safetensors: round trips, interoperability with an independent Python parser, a corruption
 * matrix, and atomic writes. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vn_test.h"
#include "io/safetensors.h"

/* A fresh directory per test, so "no temp file left" can be checked by listing it. */
static void fresh_dir(char *out, size_t cap, const char *name)
{
    fmt_into(out, cap, "%s/st_%s", vn_test_tmpdir(), name);
    char cmd[1200];
    fmt_into(cmd, sizeof cmd, "rm -rf '%s'", out);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_int_eq(mkdir(out, 0755), 0);
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(*n ? *n : 1);
    ck_assert_uint_eq(fread(b, 1, *n, f), *n);
    fclose(f);
    return b;
}

static void spit(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(p, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

static uint16_t bf16(float x)
{
    uint32_t u;
    memcpy(&u, &x, 4);
    return (uint16_t)(u >> 16);
}

/* The fixture tests/python/safetensors_interop.py expects (expected_vnative there). */
static float fx_w[6];
static uint8_t fx_frames[8];
static int32_t fx_labels[3] = {-7, 0, 2147483647};
static int64_t fx_step = 123456789012LL;
static uint16_t fx_ema[2];
static const char *fx_config = "{\"dim\": 64, \"name\": \"xs \\\"video\\\"\"}";
static const char *fx_note = "caf\xc3\xa9\ttab\nline";

static void write_fixture_opt(const char *path, int with_empty)
{
    for (int i = 0; i < 6; i++)
        fx_w[i] = (float)i * 0.5f - 1.0f;
    for (int i = 0; i < 8; i++)
        fx_frames[i] = (uint8_t)(i * 31);
    fx_ema[0] = bf16(1.5f);
    fx_ema[1] = bf16(-2.0f);
    vn_st_writer *w;
    VN_ASSERT_OK(vn_st_writer_create(&w));
    VN_ASSERT_OK(vn_st_writer_add(w, "blocks.0.attn.qkv.weight", VN_DTYPE_F32, 2, (int64_t[]){2, 3}, fx_w));
    VN_ASSERT_OK(vn_st_writer_add(w, "frames", VN_DTYPE_U8, 3, (int64_t[]){2, 2, 2}, fx_frames));
    VN_ASSERT_OK(vn_st_writer_add(w, "labels", VN_DTYPE_I32, 1, (int64_t[]){3}, fx_labels));
    VN_ASSERT_OK(vn_st_writer_add(w, "step", VN_DTYPE_I64, 0, NULL, &fx_step));
    VN_ASSERT_OK(vn_st_writer_add(w, "ema", VN_DTYPE_BF16, 1, (int64_t[]){2}, fx_ema));
    if (with_empty)
        VN_ASSERT_OK(vn_st_writer_add(w, "empty", VN_DTYPE_F32, 2, (int64_t[]){0, 4}, NULL));
    VN_ASSERT_OK(vn_st_writer_add_metadata(w, "note", fx_note));
    VN_ASSERT_OK(vn_st_writer_add_metadata(w, "config", fx_config));
    VN_ASSERT_OK(vn_st_writer_write(w, path));
    vn_st_writer_free(w);
}

static void write_fixture(const char *path)
{
    write_fixture_opt(path, 1);
}

static void expect_entry(const vn_st_file *f, const char *name, vn_dtype dt, int ndim, const int64_t *shape,
                         const void *data, size_t nbytes)
{
    const vn_st_entry *e;
    VN_ASSERT_OK(vn_st_find(f, name, &e));
    ck_assert_str_eq(e->name, name);
    ck_assert_int_eq(e->dtype, dt);
    ck_assert_int_eq(e->ndim, ndim);
    for (int i = 0; i < ndim; i++)
        ck_assert_int_eq(e->shape[i], shape[i]);
    ck_assert_uint_eq(e->nbytes, nbytes);
    ck_assert(nbytes == 0 || memcmp(e->data, data, nbytes) == 0);
}

START_TEST(round_trip_dtypes_shapes_metadata)
{
    char dir[600], path[700];
    fresh_dir(dir, sizeof dir, "round_trip");
    fmt_into(path, sizeof path, "%s/w.safetensors", dir);
    write_fixture(path);
    vn_st_file *f;
    VN_ASSERT_OK(vn_st_open(&f, path));
    ck_assert_uint_eq(vn_st_count(f), 6);
    expect_entry(f, "blocks.0.attn.qkv.weight", VN_DTYPE_F32, 2, (int64_t[]){2, 3}, fx_w, sizeof fx_w);
    expect_entry(f, "frames", VN_DTYPE_U8, 3, (int64_t[]){2, 2, 2}, fx_frames, sizeof fx_frames);
    expect_entry(f, "labels", VN_DTYPE_I32, 1, (int64_t[]){3}, fx_labels, sizeof fx_labels);
    expect_entry(f, "step", VN_DTYPE_I64, 0, NULL, &fx_step, 8);
    expect_entry(f, "ema", VN_DTYPE_BF16, 1, (int64_t[]){2}, fx_ema, sizeof fx_ema);
    expect_entry(f, "empty", VN_DTYPE_F32, 2, (int64_t[]){0, 4}, NULL, 0);
    /* Name order, and each tensor aligned to its element size (the writer's layout promise). */
    for (size_t i = 0; i < vn_st_count(f); i++) {
        const vn_st_entry *e = vn_st_entry_at(f, i);
        if (i)
            ck_assert(strcmp(vn_st_entry_at(f, i - 1)->name, e->name) < 0);
        if (e->nbytes)
            ck_assert_uint_eq((uintptr_t)e->data % vn_dtype_size(e->dtype), 0);
    }
    ck_assert_ptr_null(vn_st_entry_at(f, 6));
    const char *v;
    VN_ASSERT_OK(vn_st_metadata(f, "config", &v));
    ck_assert_str_eq(v, fx_config);
    VN_ASSERT_OK(vn_st_metadata(f, "note", &v));
    ck_assert_str_eq(v, fx_note);
    ck_assert_uint_eq(vn_st_metadata_count(f), 2);
    const char *k;
    vn_st_metadata_at(f, 0, &k, &v);
    ck_assert_str_eq(k, "config");
    VN_ASSERT_FAILS(vn_st_metadata(f, "absent", &v), VN_ERR_NOT_FOUND);
    const vn_st_entry *e;
    VN_ASSERT_FAILS(vn_st_find(f, "absent", &e), VN_ERR_NOT_FOUND);

    /* Copy into a transposed view: the reader honours the caller's strides. */
    float out[6] = {0};
    vn_tensor t;
    VN_ASSERT_OK(vn_tensor_init(&t, out, VN_DTYPE_F32, 2, (int64_t[]){2, 3}));
    t.strides[0] = 1;
    t.strides[1] = 2;
    VN_ASSERT_OK(vn_st_read_into(f, "blocks.0.attn.qkv.weight", &t));
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            ck_assert_float_eq(out[i + 2 * j], fx_w[i * 3 + j]);
    int64_t s = 0;
    VN_ASSERT_OK(vn_tensor_init(&t, &s, VN_DTYPE_I64, 0, NULL));
    VN_ASSERT_OK(vn_st_read_into(f, "step", &t));
    ck_assert_int_eq(s, fx_step);
    VN_ASSERT_OK(vn_tensor_init(&t, out, VN_DTYPE_F32, 2, (int64_t[]){3, 2}));
    VN_ASSERT_FAILS(vn_st_read_into(f, "blocks.0.attn.qkv.weight", &t), VN_ERR_SHAPE);
    VN_ASSERT_OK(vn_tensor_init(&t, out, VN_DTYPE_I32, 2, (int64_t[]){2, 3}));
    VN_ASSERT_FAILS(vn_st_read_into(f, "blocks.0.attn.qkv.weight", &t), VN_ERR_SHAPE);
    vn_st_close(f);

    /* Overwriting an existing file works and leaves only it in the directory. */
    write_fixture(path);
    ck_assert_int_eq(count_entries(dir), 1);
}
END_TEST

START_TEST(writer_rejects_bad_arguments)
{
    vn_st_writer *w;
    float x = 1;
    VN_ASSERT_FAILS(vn_st_writer_create(NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_OK(vn_st_writer_create(&w));
    VN_ASSERT_OK(vn_st_writer_add(w, "a", VN_DTYPE_F32, 0, NULL, &x));
    VN_ASSERT_FAILS(vn_st_writer_add(w, "a", VN_DTYPE_F32, 0, NULL, &x), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_st_writer_add(w, "__metadata__", VN_DTYPE_F32, 0, NULL, &x), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_st_writer_add(w, "", VN_DTYPE_F32, 0, NULL, &x), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_st_writer_add(w, "b", (vn_dtype)17, 0, NULL, &x), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_st_writer_add(w, "b", VN_DTYPE_F32, 1, (int64_t[]){-1}, &x), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_st_writer_add(w, "b", VN_DTYPE_F32, 7, (int64_t[]){1, 1, 1, 1, 1, 1, 1}, &x),
                    VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_st_writer_add(w, "b", VN_DTYPE_F32, 1, (int64_t[]){2}, NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_st_writer_add(w, "b", VN_DTYPE_F32, 3, (int64_t[]){INT64_MAX, INT64_MAX, 2}, &x),
                    VN_ERR_INVALID_ARG);
    VN_ASSERT_OK(vn_st_writer_add_metadata(w, "k", "v"));
    VN_ASSERT_FAILS(vn_st_writer_add_metadata(w, "k", "w"), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_st_writer_write(w, NULL), VN_ERR_INVALID_ARG);
    vn_st_writer_free(w);
    vn_st_file *f;
    VN_ASSERT_FAILS(vn_st_open(&f, "/nonexistent/x.safetensors"), VN_ERR_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(vn_last_error(), "/nonexistent/x.safetensors"));
}
END_TEST

/* 0 when the interop script ran and passed, 77 when it skipped, else a failure. */
static int run_python(const char *mode, const char *path)
{
    const char *src = getenv("VN_TEST_SRCDIR");
    if (access("/usr/bin/python3", X_OK) != 0 || !src) {
        printf("SKIP interop %s: /usr/bin/python3 or VN_TEST_SRCDIR missing\n", mode);
        return 77;
    }
    char cmd[2048];
    fmt_into(cmd, sizeof cmd, "/usr/bin/python3 '%s/tests/python/safetensors_interop.py' %s '%s'", src, mode, path);
    int rc = system(cmd);
    ck_assert_msg(rc != -1 && WIFEXITED(rc), "could not run %s", cmd);
    rc = WEXITSTATUS(rc);
    if (rc == 77)
        printf("SKIP interop %s: numpy is not available to /usr/bin/python3\n", mode);
    else
        ck_assert_msg(rc == 0, "%s exited with %d", cmd, rc);
    return rc;
}

START_TEST(python_reads_vnative_file)
{
    char dir[600], path[700];
    fresh_dir(dir, sizeof dir, "py_read");
    fmt_into(path, sizeof path, "%s/w.safetensors", dir);
    write_fixture(path);
    run_python("check", path);
}
END_TEST

START_TEST(vnative_reads_python_file)
{
    char dir[600], path[700];
    fresh_dir(dir, sizeof dir, "py_write");
    fmt_into(path, sizeof path, "%s/py.safetensors", dir);
    if (run_python("write", path) == 77)
        return;
    vn_st_file *f;
    VN_ASSERT_OK(vn_st_open(&f, path));
    ck_assert_uint_eq(vn_st_count(f), 4);
    float x[6];
    vn_tensor t;
    VN_ASSERT_OK(vn_tensor_init(&t, x, VN_DTYPE_F32, 2, (int64_t[]){2, 3}));
    VN_ASSERT_OK(vn_st_read_into(f, "x", &t));
    for (int i = 0; i < 6; i++)
        ck_assert_float_eq(x[i], (float)i * 0.25f);
    int64_t y[2];
    VN_ASSERT_OK(vn_tensor_init(&t, y, VN_DTYPE_I64, 1, (int64_t[]){2}));
    VN_ASSERT_OK(vn_st_read_into(f, "y", &t));
    ck_assert_int_eq(y[0], -1);
    ck_assert_int_eq(y[1], (int64_t)1 << 40);
    uint8_t z[4];
    VN_ASSERT_OK(vn_tensor_init(&t, z, VN_DTYPE_U8, 2, (int64_t[]){2, 2}));
    VN_ASSERT_OK(vn_st_read_into(f, "z", &t));
    ck_assert(z[0] == 1 && z[1] == 2 && z[2] == 3 && z[3] == 4);
    int32_t wv[3];
    VN_ASSERT_OK(vn_tensor_init(&t, wv, VN_DTYPE_I32, 1, (int64_t[]){3}));
    VN_ASSERT_OK(vn_st_read_into(f, "w", &t));
    ck_assert(wv[0] == -3 && wv[1] == 5 && wv[2] == 7);
    const char *v;
    VN_ASSERT_OK(vn_st_metadata(f, "format", &v));
    ck_assert_str_eq(v, "pt");
    /* json.dumps wrote these as \u00e9 and a surrogate pair. */
    VN_ASSERT_OK(vn_st_metadata(f, "who", &v));
    ck_assert_str_eq(v, "python \xc3\xa9\xf0\x9f\x98\x80");
    vn_st_close(f);
}
END_TEST

static void expect_format_error(const char *path, const char *needle)
{
    vn_st_file *f = (vn_st_file *)1;
    vn_clear_error();
    vn_status st = vn_st_open(&f, path);
    ck_assert_msg(st == VN_ERR_FORMAT, "%s: got %s, expected VN_ERR_FORMAT (%s)", path, vn_status_str(st),
                  vn_last_error());
    ck_assert_ptr_null(f);
    ck_assert_msg(strstr(vn_last_error(), path) != NULL, "message does not name the file: %s", vn_last_error());
    if (needle)
        ck_assert_msg(strstr(vn_last_error(), needle) != NULL, "message '%s' lacks '%s'", vn_last_error(),
                      needle);
}

START_TEST(truncation_at_every_offset)
{
    char dir[600], path[700], cut[700];
    fresh_dir(dir, sizeof dir, "truncate");
    fmt_into(path, sizeof path, "%s/w.safetensors", dir);
    fmt_into(cut, sizeof cut, "%s/cut.safetensors", dir);
    write_fixture(path);
    size_t n;
    unsigned char *b = slurp(path, &n);
    ck_assert_uint_gt(n, 100);
    for (size_t len = 0; len < n; len++) {
        spit(cut, b, len);
        expect_format_error(cut, NULL);
    }
    /* The full file still reads, so the loop above tested truncation and not a bad fixture. */
    spit(cut, b, n);
    vn_st_file *f;
    VN_ASSERT_OK(vn_st_open(&f, cut));
    vn_st_close(f);
    free(b);
}
END_TEST

/* Flip every header byte. Outside string contents every flip must be caught; inside a string a
 * flip may yield another valid name or value, which must then still open cleanly. The fixture has
 * no empty tensor here: [0,4] -> [0,5] is a legitimately different valid file. */
START_TEST(flipped_header_bytes)
{
    char dir[600], path[700], bad[700];
    fresh_dir(dir, sizeof dir, "flip");
    fmt_into(path, sizeof path, "%s/w.safetensors", dir);
    fmt_into(bad, sizeof bad, "%s/bad.safetensors", dir);
    write_fixture_opt(path, 0);
    size_t n;
    unsigned char *b = slurp(path, &n);
    size_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = (hlen << 8) | b[i];
    int in_str = 0, esc = 0, caught = 0;
    for (size_t i = 0; i < 8 + hlen; i++) {
        int string_byte = 0;
        if (i >= 8) {
            unsigned char c = b[i];
            if (in_str) {
                if (esc)
                    esc = 0;
                else if (c == '\\')
                    esc = 1;
                else if (c == '"')
                    in_str = 0;
                string_byte = in_str || c != '"';
                if (esc)
                    string_byte = 1;
            } else if (c == '"') {
                in_str = 1;
            }
        }
        const unsigned char masks[] = {0xFF, 0x01, 0x20};
        for (size_t m = 0; m < sizeof masks; m++) {
            b[i] ^= masks[m];
            spit(bad, b, n);
            b[i] ^= masks[m];
            vn_st_file *f = NULL;
            vn_clear_error();
            vn_status st = vn_st_open(&f, bad);
            if (!string_byte) {
                ck_assert_msg(st == VN_ERR_FORMAT, "flip 0x%02x at byte %zu gave %s", masks[m], i,
                              vn_status_str(st));
                caught++;
            } else {
                ck_assert_msg(st == VN_OK || st == VN_ERR_FORMAT, "flip at string byte %zu gave %s", i,
                              vn_status_str(st));
            }
            vn_st_close(f);
        }
    }
    ck_assert_int_gt(caught, 100);
    free(b);
}
END_TEST

/* Random multi-byte damage anywhere in the file: never a crash, only OK or VN_ERR_FORMAT. */
START_TEST(random_damage_never_crashes)
{
    char dir[600], path[700], bad[700];
    fresh_dir(dir, sizeof dir, "fuzz");
    fmt_into(path, sizeof path, "%s/w.safetensors", dir);
    fmt_into(bad, sizeof bad, "%s/bad.safetensors", dir);
    write_fixture(path);
    size_t n;
    unsigned char *b = slurp(path, &n);
    unsigned char *c = malloc(n);
    uint64_t s = 0x9E3779B97F4A7C15ULL;
    for (int iter = 0; iter < 3000; iter++) {
        memcpy(c, b, n);
        int k = 1 + iter % 4;
        for (int j = 0; j < k; j++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            c[(s >> 33) % n] = (unsigned char)(s >> 17);
        }
        spit(bad, c, n);
        vn_st_file *f = NULL;
        vn_status st = vn_st_open(&f, bad);
        ck_assert_msg(st == VN_OK || st == VN_ERR_FORMAT, "iteration %d gave %s", iter, vn_status_str(st));
        vn_st_close(f);
    }
    free(c);
    free(b);
}
END_TEST

/* A file with a given JSON header and data_len zero bytes of data. */
static void write_raw(const char *path, const char *json, size_t data_len, uint64_t hlen_override)
{
    size_t jl = strlen(json);
    uint64_t h = hlen_override ? hlen_override : jl;
    unsigned char *buf = calloc(1, 8 + jl + data_len + 1);
    for (int i = 0; i < 8; i++)
        buf[i] = (unsigned char)(h >> (8 * i));
    memcpy(buf + 8, json, jl);
    spit(path, buf, 8 + jl + data_len);
    free(buf);
}

#define T1(extra) "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}" extra

START_TEST(each_validation_rule)
{
    char dir[600], p[700];
    fresh_dir(dir, sizeof dir, "rules");
    fmt_into(p, sizeof p, "%s/r.safetensors", dir);
    static const struct {
        const char *json;
        size_t data;
        uint64_t hlen;
        const char *needle;
    } cases[] = {
        {"", 0, 0, "invalid header"},
        {T1("}"), 4, 1000, "larger than the file"},
        {T1("}"), 4, (uint64_t)200 * 1000 * 1000, "absurd"},
        {T1("}"), 4, UINT64_MAX, "absurd"},
        {"[]", 0, 0, "expected '{'"},
        {T1(""), 4, 0, "expected '}'"},
        {T1(",}"), 4, 0, "expected '\"'"},
        {T1("}}"), 4, 0, "trailing bytes"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1.0],\"data_offsets\":[0,4]}}", 4, 0, "floating-point"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1e0],\"data_offsets\":[0,4]}}", 4, 0, "floating-point"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, 0, "negative"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[01],\"data_offsets\":[0,4]}}", 4, 0, "leading zero"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,4]}}", 4, 0,
         "too large"},
        {"{\"a\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8, 0, "unsupported dtype \"F64\""},
        {"{\"a\":{\"dtype\":3,\"shape\":[1],\"data_offsets\":[0,4]}}", 4, 0, "expected '\"'"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4, 0,
         "give 8 bytes but data_offsets span 4"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,16],\"data_offsets\":[0,4]}}", 4, 0, "overflows"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", 4, 0, "end before they begin"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, 0, "past the 4 data bytes"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4, 0, "two entries"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 4, 0, "more than 2"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
         "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, 0, "overlap"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
         "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12, 0, "gap"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, 0, "gap"},
        {T1("}"), 8, 0, "cover 4 data bytes but the file has 8"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
         "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, 0, "duplicate tensor name \"a\""},
        {"{\"__metadata__\":{},\"__metadata__\":{}}", 0, 0, "duplicate __metadata__"},
        {"{\"__metadata__\":{\"k\":\"v\",\"k\":\"w\"}}", 0, 0, "duplicate metadata key"},
        {"{\"__metadata__\":{\"k\":1}}", 0, 0, "not a string"},
        {"{\"__metadata__\":[]}", 0, 0, "expected '{'"},
        {"{\"a\\x\":{}}", 0, 0, "invalid escape"},
        {"{\"a\\ud800\":{}}", 0, 0, "surrogate"},
        {"{\"a\\udc00\":{}}", 0, 0, "surrogate"},
        {"{\"a\\u00\":{}}", 0, 0, "hex digit"},
        {"{\"a\\u0000\":{}}", 0, 0, "\\u0000"},
        {"{\"a\tb\":{}}", 0, 0, "control character"},
        {"{\"a", 0, 0, "unterminated string"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 0, 0, "lacks dtype, shape or data_offsets"},
        {"{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, 0, "repeated"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}", 4, 0, "unexpected"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 4, 0, "more than 6"},
        {"{\"a\":[1]}", 0, 0, "expected '{'"},
        {"{\"a\":null}", 0, 0, "expected '{'"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}} x", 4, 0, "trailing bytes"},
        {"\x01", 0, 0, "expected '{'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_raw(p, cases[i].json, cases[i].data, cases[i].hlen);
        expect_format_error(p, cases[i].needle);
    }
    /* Files shorter than the length field. */
    write_raw(p, "", 0, 0);
    spit(p, "\0\0\0", 3);
    expect_format_error(p, "shorter than the 8-byte");

    /* The same grammar's valid edge cases open: no tensors, whitespace, escapes, empty tensors
     * sharing an offset. */
    vn_st_file *f;
    write_raw(p, " { } \n", 0, 0);
    VN_ASSERT_OK(vn_st_open(&f, p));
    ck_assert_uint_eq(vn_st_count(f), 0);
    vn_st_close(f);
    write_raw(p, "{ \"e\\u00e9\\ud83d\\ude00\\n\\/\" : {\"shape\":[0],\"data_offsets\":[0,0],\"dtype\":\"BF16\"},"
                 "\"z\":{\"dtype\":\"U8\",\"shape\":[],\"data_offsets\":[0,1]},"
                 "\"y\":{\"dtype\":\"I64\",\"shape\":[0,3],\"data_offsets\":[0,0]}}   ", 1, 0);
    VN_ASSERT_OK(vn_st_open(&f, p));
    ck_assert_uint_eq(vn_st_count(f), 3);
    const vn_st_entry *e;
    VN_ASSERT_OK(vn_st_find(f, "e\xc3\xa9\xf0\x9f\x98\x80\n/", &e));
    ck_assert_int_eq(e->dtype, VN_DTYPE_BF16);
    VN_ASSERT_OK(vn_st_find(f, "z", &e));
    ck_assert_int_eq(e->ndim, 0);
    ck_assert_uint_eq(e->nbytes, 1);
    vn_st_close(f);
}
END_TEST

static void write_small(const char *path, float value)
{
    vn_st_writer *w;
    VN_ASSERT_OK(vn_st_writer_create(&w));
    VN_ASSERT_OK(vn_st_writer_add(w, "v", VN_DTYPE_F32, 0, NULL, &value));
    VN_ASSERT_OK(vn_st_writer_write(w, path));
    vn_st_writer_free(w);
}

static void expect_small(const char *path, float value)
{
    vn_st_file *f;
    VN_ASSERT_OK(vn_st_open(&f, path));
    float got = 0;
    vn_tensor t;
    VN_ASSERT_OK(vn_tensor_init(&t, &got, VN_DTYPE_F32, 0, NULL));
    VN_ASSERT_OK(vn_st_read_into(f, "v", &t));
    ck_assert_float_eq(got, value);
    vn_st_close(f);
}

/* A writer of one tensor of n bytes, whose write to path must fail with VN_ERR_IO naming it. */
static void expect_write_fails(const char *path, size_t n)
{
    unsigned char *big = calloc(1, n);
    vn_st_writer *w;
    VN_ASSERT_OK(vn_st_writer_create(&w));
    VN_ASSERT_OK(vn_st_writer_add(w, "big", VN_DTYPE_U8, 1, (int64_t[]){(int64_t)n}, big));
    VN_ASSERT_FAILS(vn_st_writer_write(w, path), VN_ERR_IO);
    ck_assert_msg(strstr(vn_last_error(), path) != NULL, "message does not name the file: %s", vn_last_error());
    vn_st_writer_free(w);
    free(big);
}

START_TEST(failed_writes_leave_old_file)
{
    char dir[600], path[700], other[700];
    fresh_dir(dir, sizeof dir, "atomic");
    fmt_into(path, sizeof path, "%s/w.safetensors", dir);
    write_small(path, 1.25f);

    /* A directory that does not exist: nothing is created anywhere. */
    fmt_into(other, sizeof other, "%s/missing/w.safetensors", dir);
    expect_write_fails(other, 16);
    ck_assert_int_eq(count_entries(dir), 1);

    /* The rename fails late (the target is a non-empty directory): the temp file, already
     * written and synced, must be removed. */
    fmt_into(other, sizeof other, "%s/adir", dir);
    ck_assert_int_eq(mkdir(other, 0755), 0);
    char inner[800];
    fmt_into(inner, sizeof inner, "%s/keep", other);
    spit(inner, "x", 1);
    expect_write_fails(other, 16);
    ck_assert_int_eq(count_entries(dir), 2);

    /* A short write: RLIMIT_FSIZE cuts the temp file at 4 KiB (EFBIG), in a child so the limit
     * does not outlive this case. */
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {4096, 4096};
        setrlimit(RLIMIT_FSIZE, &rl);
        expect_write_fails(path, 1 << 20);
        _exit(0);
    }
    int ws;
    ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
    ck_assert_msg(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "the short-write child failed");
    expect_small(path, 1.25f);
    ck_assert_int_eq(count_entries(dir), 2);

    /* A read-only directory refuses the temp file; root bypasses the permission, so this case
     * only runs unprivileged. */
    if (geteuid() != 0) {
        ck_assert_int_eq(chmod(dir, 0555), 0);
        expect_write_fails(path, 16);
        ck_assert_int_eq(chmod(dir, 0755), 0);
        expect_small(path, 1.25f);
        ck_assert_int_eq(count_entries(dir), 2);
    } else {
        printf("SKIP read-only directory case: running as root, which ignores directory permissions\n");
    }

    /* A successful write replaces the value and still leaves no temp file. */
    write_small(path, -3.0f);
    expect_small(path, -3.0f);
    ck_assert_int_eq(count_entries(dir), 2);
}
END_TEST

/* A writer killed mid-write (SIGKILL, so no cleanup runs) leaves a complete file at the path:
 * either the old one or one it had fully renamed into place, never a partial one. */
START_TEST(killed_writer_leaves_readable_file)
{
    char dir[600], path[700];
    fresh_dir(dir, sizeof dir, "killed");
    fmt_into(path, sizeof path, "%s/w.safetensors", dir);
    const int64_t n = 8 << 20;
    write_small(path, 2.5f);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        unsigned char *big = malloc((size_t)n);
        for (int round = 0;; round++) {
            memset(big, round & 0xFF, (size_t)n);
            vn_st_writer *w;
            if (vn_st_writer_create(&w) != VN_OK ||
                vn_st_writer_add(w, "big", VN_DTYPE_U8, 1, &n, big) != VN_OK || vn_st_writer_write(w, path) != VN_OK)
                _exit(1);
            vn_st_writer_free(w);
        }
    }
    usleep(150 * 1000);
    ck_assert_int_eq(kill(pid, SIGKILL), 0);
    int ws;
    ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
    ck_assert_msg(WIFSIGNALED(ws), "the writer exited on its own (status %d) instead of being killed", ws);
    vn_st_file *f;
    VN_ASSERT_OK(vn_st_open(&f, path));
    const vn_st_entry *e;
    if (vn_st_find(f, "v", &e) != VN_OK) {
        VN_ASSERT_OK(vn_st_find(f, "big", &e));
        ck_assert_uint_eq(e->nbytes, (size_t)n);
        const unsigned char *d = e->data;
        int64_t i = 1;
        while (i < n && d[i] == d[0])
            i++;
        ck_assert_msg(i == n, "the renamed file mixes two rounds at byte %lld", (long long)i);
    }
    vn_st_close(f);
}
END_TEST

/* ENOSPC for real: a 64 KiB tmpfs, which needs root and mount(2). */
START_TEST(full_filesystem_leaves_old_file)
{
    char dir[600], path[700];
    fresh_dir(dir, sizeof dir, "enospc");
    if (geteuid() != 0) {
        printf("SKIP full-filesystem case: mounting a small tmpfs needs root\n");
        return;
    }
    if (mount("tmpfs", dir, "tmpfs", 0, "size=64k") != 0) {
        printf("SKIP full-filesystem case: cannot mount a tmpfs here: %s\n", strerror(errno));
        return;
    }
    fmt_into(path, sizeof path, "%s/w.safetensors", dir);
    write_small(path, 7.5f);
    vn_clear_error();
    unsigned char *big = calloc(1, 1 << 20);
    vn_st_writer *w;
    VN_ASSERT_OK(vn_st_writer_create(&w));
    VN_ASSERT_OK(vn_st_writer_add(w, "big", VN_DTYPE_U8, 1, (int64_t[]){1 << 20}, big));
    vn_status st = vn_st_writer_write(w, path);
    char msg[512];
    fmt_into(msg, sizeof msg, "%s", vn_last_error());
    vn_st_writer_free(w);
    free(big);
    int entries = count_entries(dir);
    vn_st_file *f = NULL;
    vn_status st_old = vn_st_open(&f, path);
    vn_st_close(f);
    int um = umount(dir);
    ck_assert_msg(st == VN_ERR_IO, "write into a full tmpfs gave %s", vn_status_str(st));
    ck_assert_msg(strstr(msg, path) && strstr(msg, strerror(ENOSPC)), "message: %s", msg);
    ck_assert_int_eq(entries, 1);
    ck_assert_int_eq(st_old, VN_OK);
    ck_assert_int_eq(um, 0);
}
END_TEST

static Suite *safetensors_suite(void)
{
    Suite *s = suite_create("safetensors");
    TCase *tc = tcase_create("format");
    tcase_add_test(tc, round_trip_dtypes_shapes_metadata);
    tcase_add_test(tc, writer_rejects_bad_arguments);
    tcase_add_test(tc, python_reads_vnative_file);
    tcase_add_test(tc, vnative_reads_python_file);
    suite_add_tcase(s, tc);
    tc = tcase_create("corruption");
    tcase_add_test(tc, truncation_at_every_offset);
    tcase_add_test(tc, flipped_header_bytes);
    tcase_add_test(tc, random_damage_never_crashes);
    tcase_add_test(tc, each_validation_rule);
    suite_add_tcase(s, tc);
    tc = tcase_create("atomic");
    tcase_add_test(tc, failed_writes_leave_old_file);
    tcase_add_test(tc, killed_writer_leaves_readable_file);
    tcase_add_test(tc, full_filesystem_leaves_old_file);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return vn_test_run(safetensors_suite());
}
