/*
 * Real footage ($VN_TEST_SHARED_DATA, ../shared/data/real): every clip opens with the
 * exact frame count MANIFEST.tsv records (decoded_frames, from a full decode), samples a
 * 16-frame clip in uint8 and float32 with a 112 px random resized crop, and a loader
 * epoch with 2 workers delivers every clip. SKIP when the folder is absent.
 */
#include "vn_test.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_CLIPS 256


typedef struct real_clip {
    char file[256];
    char codec[32];
    int width, height;
    int64_t decoded_frames;
} real_clip;

static char g_dir[1024];
static real_clip g_clips[MAX_CLIPS];
static int g_n;

/* Parse MANIFEST.tsv by its header names; returns a reason on failure. */
static const char *read_manifest(void)
{
    char path[1200];
    fmt_into(path, sizeof path, "%s/MANIFEST.tsv", g_dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return "MANIFEST.tsv is missing";
    char line[4096];
    int c_file = -1, c_codec = -1, c_wxh = -1, c_frames = -1;
    if (!fgets(line, sizeof line, f)) {
        fclose(f);
        return "MANIFEST.tsv is empty";
    }
    line[strcspn(line, "\r\n")] = '\0';
    int col = 0;
    for (char *save = NULL, *tok = strtok_r(line, "\t", &save); tok; tok = strtok_r(NULL, "\t", &save), col++) {
        if (!strcmp(tok, "file"))
            c_file = col;
        else if (!strcmp(tok, "codec"))
            c_codec = col;
        else if (!strcmp(tok, "WxH"))
            c_wxh = col;
        else if (!strcmp(tok, "decoded_frames"))
            c_frames = col;
    }
    if (c_file < 0 || c_codec < 0 || c_wxh < 0 || c_frames < 0) {
        fclose(f);
        return "MANIFEST.tsv lacks one of the columns file, codec, WxH, decoded_frames";
    }
    while (g_n < MAX_CLIPS && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0])
            continue;
        real_clip *c = &g_clips[g_n];
        memset(c, 0, sizeof *c);
        /* Split on every tab: strtok would merge empty fields and shift the columns. */
        char *p = line;
        for (col = 0; p; col++) {
            char *tab = strchr(p, '\t');
            if (tab)
                *tab = '\0';
            if (col == c_file)
                fmt_into(c->file, sizeof c->file, "%s", p);
            else if (col == c_codec)
                fmt_into(c->codec, sizeof c->codec, "%s", p);
            else if (col == c_wxh)
                sscanf(p, "%dx%d", &c->width, &c->height);
            else if (col == c_frames)
                c->decoded_frames = strtoll(p, NULL, 10);
            p = tab ? tab + 1 : NULL;
        }
        if (c->file[0])
            g_n++;
    }
    fclose(f);
    return g_n > 0 ? NULL : "MANIFEST.tsv lists no clips";
}

static void clip_path(char *out, size_t cap, const real_clip *c)
{
    fmt_into(out, cap, "%s/%s", g_dir, c->file);
}

START_TEST(every_clip_opens_with_the_exact_frame_count)
{
    char failures[8192] = "";
    for (int i = 0; i < g_n; i++) {
        const real_clip *c = &g_clips[i];
        char path[1400], line[512] = "";
        clip_path(path, sizeof path, c);
        vn_video *v = NULL;
        vn_status s = vn_video_create(&v, path, NULL);
        if (s != VN_OK) {
            fmt_into(line, sizeof line, "\n  %s: open failed: %s: %s", c->file, vn_status_str(s), vn_last_error());
        } else {
            vn_video_info info = VN_VIDEO_INFO_INIT;
            s = vn_video_get_info(v, &info);
            if (s != VN_OK)
                fmt_into(line, sizeof line, "\n  %s: get_info: %s", c->file, vn_last_error());
            else if (!info.n_frames_exact || info.n_frames != c->decoded_frames)
                fmt_into(line, sizeof line, "\n  %s (%s): %lld frames (exact=%d), MANIFEST.tsv decoded %lld", c->file,
                         c->codec, (long long)info.n_frames, info.n_frames_exact, (long long)c->decoded_frames);
            else if (info.width != c->width || info.height != c->height)
                fmt_into(line, sizeof line, "\n  %s: %dx%d, MANIFEST.tsv says %dx%d", c->file, info.width,
                         info.height, c->width, c->height);
        }
        vn_video_destroy(v);
        if (strlen(failures) + strlen(line) + 1 < sizeof failures)
            strcat(failures, line);
    }
    ck_assert_msg(failures[0] == '\0', "real clips that disagree with MANIFEST.tsv:%s", failures);
}
END_TEST

/* Read one clip with a 112 px random resized crop; returns a failure line or "". */
static void sample_clip(vn_video *v, const real_clip *c, vn_dtype dtype, char *why, size_t cap)
{
    vn_clip_options clip = VN_CLIP_OPTIONS_INIT;
    clip.n_frames = 16;
    clip.stride = 1;
    clip.start = -1;
    clip.seed = 7;
    vn_transform_options tf = VN_TRANSFORM_OPTIONS_INIT;
    tf.crop_size = 112;
    tf.random_resized_crop = 1;
    tf.seed = 11;
    int64_t shape[4];
    vn_status s = vn_clip_shape(v, &clip, &tf, dtype, shape);
    if (s != VN_OK) {
        fmt_into(why, cap, "\n  %s %s: clip_shape: %s", c->file, vn_dtype_name(dtype), vn_last_error());
        return;
    }
    const int64_t want_u8[4] = {16, 112, 112, 3}, want_f32[4] = {3, 16, 112, 112};
    if (memcmp(shape, dtype == VN_DTYPE_U8 ? want_u8 : want_f32, sizeof shape) != 0) {
        fmt_into(why, cap, "\n  %s %s: clip shape [%lld, %lld, %lld, %lld]", c->file, vn_dtype_name(dtype),
                 (long long)shape[0], (long long)shape[1], (long long)shape[2], (long long)shape[3]);
        return;
    }
    size_t n = (size_t)(shape[0] * shape[1] * shape[2] * shape[3]);
    void *buf = malloc(n * vn_dtype_size(dtype));
    vn_tensor t;
    vn_tensor_init(&t, buf, dtype, 4, shape);
    s = vn_video_read_clip(v, &clip, &tf, &t);
    if (s != VN_OK) {
        fmt_into(why, cap, "\n  %s %s: read_clip: %s: %s", c->file, vn_dtype_name(dtype), vn_status_str(s),
                 vn_last_error());
    } else if (dtype == VN_DTYPE_F32) {
        const float *f = buf;
        double lo = INFINITY, hi = -INFINITY;
        for (size_t i = 0; i < n; i++) {
            if (!isfinite(f[i])) {
                fmt_into(why, cap, "\n  %s f32: value %zu is not finite", c->file, i);
                break;
            }
            lo = f[i] < lo ? f[i] : lo;
            hi = f[i] > hi ? f[i] : hi;
        }
        /* Normalised ImageNet-style: within (0 - 0.485)/0.229 .. (1 - 0.406)/0.225, and not flat. */
        if (!why[0] && (lo < -2.2 || hi > 2.7 || hi - lo < 0.05))
            fmt_into(why, cap, "\n  %s f32: values span [%g, %g]", c->file, lo, hi);
    } else {
        const unsigned char *u = buf;
        unsigned char lo = 255, hi = 0;
        for (size_t i = 0; i < n; i++) {
            lo = u[i] < lo ? u[i] : lo;
            hi = u[i] > hi ? u[i] : hi;
        }
        if (hi - lo < 8)
            fmt_into(why, cap, "\n  %s u8: the clip is flat (%d..%d)", c->file, lo, hi);
    }
    free(buf);
}

START_TEST(every_clip_samples_16_frames_in_u8_and_f32)
{
    char failures[8192] = "";
    for (int i = 0; i < g_n; i++) {
        const real_clip *c = &g_clips[i];
        char path[1400], line[512] = "";
        clip_path(path, sizeof path, c);
        vn_video *v = NULL;
        if (vn_video_create(&v, path, NULL) != VN_OK) {
            fmt_into(line, sizeof line, "\n  %s: open: %s", c->file, vn_last_error());
        } else {
            sample_clip(v, c, VN_DTYPE_U8, line, sizeof line);
            if (!line[0])
                sample_clip(v, c, VN_DTYPE_F32, line, sizeof line);
        }
        vn_video_destroy(v);
        if (strlen(failures) + strlen(line) + 1 < sizeof failures)
            strcat(failures, line);
    }
    ck_assert_msg(failures[0] == '\0', "real clips that failed to sample:%s", failures);
}
END_TEST

START_TEST(a_clip_longer_than_the_video_repeats_its_last_frame)
{
    /* The shortest clip: a stride-2 16-frame clip needs 31 frames from the start. */
    int shortest = 0;
    for (int i = 1; i < g_n; i++)
        if (g_clips[i].decoded_frames < g_clips[shortest].decoded_frames)
            shortest = i;
    const real_clip *c = &g_clips[shortest];
    ck_assert_int_lt(c->decoded_frames, 31);
    char path[1400];
    clip_path(path, sizeof path, c);
    vn_video *v = NULL;
    VN_ASSERT_OK(vn_video_create(&v, path, NULL));
    vn_clip_options clip = VN_CLIP_OPTIONS_INIT;
    clip.n_frames = 16;
    clip.stride = 2;
    clip.start = 0;
    int64_t idx[16];
    VN_ASSERT_OK(vn_clip_indices(v, &clip, idx));
    int64_t last = c->decoded_frames - 1;
    for (int k = 0; k < 16; k++)
        ck_assert_int_eq(idx[k], 2 * k < last ? 2 * k : last);
    int64_t shape[4];
    VN_ASSERT_OK(vn_clip_shape(v, &clip, NULL, VN_DTYPE_U8, shape));
    size_t frame = (size_t)(shape[1] * shape[2] * shape[3]);
    unsigned char *buf = malloc(16 * frame);
    vn_tensor t;
    VN_ASSERT_OK(vn_tensor_init(&t, buf, VN_DTYPE_U8, 4, shape));
    VN_ASSERT_OK(vn_video_read_clip(v, &clip, NULL, &t));
    for (int k = 1; k < 16; k++)
        if (idx[k] == last && idx[k - 1] == last)
            ck_assert_msg(memcmp(buf + (size_t)k * frame, buf + (size_t)(k - 1) * frame, frame) == 0,
                          "repeated last frame %d differs from %d", k, k - 1);
    free(buf);
    vn_video_destroy(v);
}
END_TEST

START_TEST(a_loader_epoch_with_2_workers_delivers_every_clip)
{
    vn_clip_options clip = VN_CLIP_OPTIONS_INIT;
    clip.n_frames = 16;
    clip.stride = 1;
    clip.start = -1;
    vn_transform_options tf = VN_TRANSFORM_OPTIONS_INIT;
    tf.crop_size = 112;
    tf.random_resized_crop = 1;
    tf.hflip_prob = 0.5f;
    vn_loader_options o = VN_LOADER_OPTIONS_INIT;
    o.source = g_dir;
    o.batch_size = 4;
    o.n_workers = 2;
    o.seed = 3;
    o.clip = &clip;
    o.transform = &tf;
    vn_loader *L = NULL;
    VN_ASSERT_OK(vn_loader_create(&L, &o));
    int64_t n_items;
    VN_ASSERT_OK(vn_loader_size(L, &n_items));
    ck_assert_int_eq(n_items, g_n);
    int64_t shape[5];
    VN_ASSERT_OK(vn_loader_batch_shape(L, shape));
    size_t n = (size_t)(shape[0] * shape[1] * shape[2] * shape[3] * shape[4]);
    float *buf = malloc(n * sizeof(float));
    vn_tensor t;
    VN_ASSERT_OK(vn_tensor_init(&t, buf, VN_DTYPE_F32, 5, shape));
    VN_ASSERT_OK(vn_loader_start_epoch(L, 0));
    int *seen = calloc((size_t)g_n, sizeof *seen);
    int64_t items[4], got, total = 0;
    vn_status s;
    while ((s = vn_loader_next(L, &t, NULL, items, &got)) == VN_OK) {
        for (int64_t i = 0; i < got; i++) {
            ck_assert(items[i] >= 0 && items[i] < g_n);
            seen[items[i]]++;
        }
        total += got;
    }
    ck_assert_msg(s == VN_ERR_END, "%s: %s", vn_status_str(s), vn_last_error());
    vn_loader_stats st = VN_LOADER_STATS_INIT;
    VN_ASSERT_OK(vn_loader_get_stats(L, &st));
    ck_assert_msg(st.n_skipped == 0, "%lld real clips were skipped (see the warnings above)", (long long)st.n_skipped);
    ck_assert_int_eq(total, g_n);
    ck_assert_int_eq(st.n_loaded, g_n);
    for (int i = 0; i < g_n; i++)
        ck_assert_int_eq(seen[i], 1);
    free(seen);
    free(buf);
    vn_loader_destroy(L);
}
END_TEST

int main(void)
{
    const char *dir = getenv("VN_TEST_SHARED_DATA");
    struct stat st;
    if (!dir || !*dir)
        return vn_test_skip("real_clips", "VN_TEST_SHARED_DATA is not set (meson test sets it to ../shared/data/real)");
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        char why[1200];
        fmt_into(why, sizeof why, "the real-clip folder %s is absent", dir);
        return vn_test_skip("real_clips", why);
    }
    fmt_into(g_dir, sizeof g_dir, "%s", dir);
    /* The folder is there, so a broken manifest is a failure, not a reason to skip. */
    const char *why = read_manifest();
    if (why) {
        fprintf(stderr, "real_clips: %s/%s\n", dir, why);
        return EXIT_FAILURE;
    }

    Suite *s = suite_create("real_clips");
    TCase *tc = tcase_create("real_clips");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, every_clip_opens_with_the_exact_frame_count);
    tcase_add_test(tc, every_clip_samples_16_frames_in_u8_and_f32);
    tcase_add_test(tc, a_clip_longer_than_the_video_repeats_its_last_frame);
    tcase_add_test(tc, a_loader_epoch_with_2_workers_delivers_every_clip);
    suite_add_tcase(s, tc);
    return vn_test_run(s);
}
