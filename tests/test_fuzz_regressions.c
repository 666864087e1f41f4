/*
 * Every input the fuzzers found a bug with (tests/fuzz/regressions/TARGET/FILE), replayed
 * through the same target functions the harnesses run (tests/fuzz/fuzz_*.c), in the normal
 * build. Each must give the recorded status, and an error must name the problem. A target
 * aborts on a broken contract, which Check reports as a failure of that input's test.
 * docs/RELIABILITY.md ("Fuzzing") tells the story of each input.
 */
#include <dirent.h>
#include <string.h>

#include "fuzz/fuzz_targets.h"
#include "vn_test.h"

typedef struct fuzz_case {
    const char *target; /* the directory under tests/fuzz/regressions, and the harness */
    const char *file;
    vn_status expect;
    const char *message; /* a substring of the error message; NULL for VN_OK */
} fuzz_case;

static const fuzz_case cases[] = {
    /* UBSan: qsort(NULL, 0) of the absent metadata, tensor and span arrays. */
    {"safetensors", "no_metadata.safetensors", VN_OK, NULL},
    {"safetensors", "empty_header.safetensors", VN_OK, NULL},
    /* Two key packets with one pts (the first hidden): listed twice, more keyframes than frames. */
    {"video", "vp9_repeated_key_pts.webm", VN_OK, NULL},
    /* UBSan: a 4-byte VP9 superframe index size shifted into an int's sign bit. */
    {"video", "vp9_superframe_index_shift.webm", VN_ERR_FORMAT, "no frame could be decoded"},
    /* UBSan: a raw MPEG-2 stream in approximate mode (1227 bytes, 3 mod 4): ~1e23 ticks cast
     * to int64_t when a frame index becomes a seek key. */
    {"video", "approximate_key_overflow.m2v", VN_OK, NULL},
};
#define N_CASES ((int)(sizeof cases / sizeof cases[0]))

static vn_status run_target(const char *target, const uint8_t *data, size_t size)
{
    if (!strcmp(target, "video"))
        return vn_fuzz_video(data, size);
    if (!strcmp(target, "safetensors"))
        return vn_fuzz_safetensors(data, size);
    if (!strcmp(target, "manifest"))
        return vn_fuzz_manifest(data, size);
    ck_assert_str_eq(target, "npy");
    return vn_fuzz_npy(data, size);
}

static const char *regressions_dir(void)
{
    static char dir[2048];
    const char *src = getenv("VN_TEST_SRCDIR");
    fmt_into(dir, sizeof dir, "%s/tests/fuzz/regressions", src ? src : ".");
    return dir;
}

static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    long len = ftell(f);
    ck_assert_int_ge(len, 0);
    rewind(f);
    uint8_t *b = malloc((size_t)len + 1);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(fread(b, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return b;
}

START_TEST(replay)
{
    const fuzz_case *c = &cases[_i];
    char path[4096];
    fmt_into(path, sizeof path, "%s/%s/%s", regressions_dir(), c->target, c->file);
    size_t n;
    uint8_t *data = slurp(path, &n);
    vn_status s = run_target(c->target, data, n);
    free(data);
    ck_assert_msg(s == c->expect, "%s/%s: %s (%s), expected %s", c->target, c->file, vn_status_str(s),
                  vn_last_error(), vn_status_str(c->expect));
    if (c->message)
        ck_assert_msg(strstr(vn_last_error(), c->message) != NULL, "%s/%s: message \"%s\" lacks \"%s\"", c->target,
                      c->file, vn_last_error(), c->message);
}
END_TEST

/* A crash input committed without a row above would never be replayed. */
START_TEST(every_file_listed)
{
    static const char *const targets[] = {"video", "safetensors", "manifest", "npy"};
    int found = 0;
    for (int t = 0; t < 4; t++) {
        char dir[2300];
        fmt_into(dir, sizeof dir, "%s/%s", regressions_dir(), targets[t]);
        DIR *d = opendir(dir);
        if (!d)
            continue;
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.')
                continue;
            int listed = 0;
            for (int i = 0; i < N_CASES; i++)
                listed |= !strcmp(cases[i].target, targets[t]) && !strcmp(cases[i].file, e->d_name);
            ck_assert_msg(listed, "%s/%s has no row in test_fuzz_regressions.c", targets[t], e->d_name);
            found++;
        }
        closedir(d);
    }
    ck_assert_int_eq(found, N_CASES);
}
END_TEST

/* A raw Y4M stream's header is a frame size in text, so any size can be declared in a few bytes.
 * One whole grey 4:2:0 frame follows when it is small enough to matter, which the packet scan
 * needs; a refused size must fail before the scan, so it gets none. */
static vn_status open_y4m(int w, int h, int with_frame, vn_video **v)
{
    size_t frame = with_frame ? (size_t)w * h * 3 / 2 : 0;
    char *buf = malloc(128 + frame);
    ck_assert_ptr_nonnull(buf);
    int n = snprintf(buf, 128, "YUV4MPEG2 W%d H%d F25:1 Ip A1:1 C420jpeg\nFRAME\n", w, h);
    memset(buf + n, 0x80, frame);
    vn_clear_error();
    vn_status s = vn_video_create_from_memory(v, buf, (size_t)n + frame, NULL);
    free(buf);
    return s;
}

/* The frame-size cap (src/io/video_internal.h) that keeps a lying header from costing gigabytes:
 * just inside it opens, past either limit is an error naming the size. */
START_TEST(frame_size_cap)
{
    static const int refused[][2] = {{16386, 16}, {16, 16386}, {8194, 8194}};
    vn_video *v = NULL;
    VN_ASSERT_OK(open_y4m(16384, 16, 1, &v));
    vn_video_destroy(v);
    for (int i = 0; i < 3; i++) {
        v = NULL;
        vn_status s = open_y4m(refused[i][0], refused[i][1], 0, &v);
        ck_assert_msg(s == VN_ERR_FORMAT && v == NULL, "%dx%d: %s (%s)", refused[i][0], refused[i][1],
                      vn_status_str(s), vn_last_error());
        ck_assert_msg(strstr(vn_last_error(), "is beyond what vnative reads"), "%s", vn_last_error());
    }
}
END_TEST

static Suite *make(void)
{
    Suite *s = suite_create("fuzz_regressions");
    TCase *tc = tcase_create("replay");
    tcase_add_loop_test(tc, replay, 0, N_CASES);
    tcase_add_test(tc, every_file_listed);
    tcase_add_test(tc, frame_size_cap);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return vn_test_run(make());
}
