/*
 * vn_video reading: exact frame counts across containers and codecs, random-order
 * reads equal to the sequential decode, seek economy, VFR times, rotation, colour
 * range and space, bad inputs, memory input, time limits.
 * Fixtures are written once by main() (the parent of Check's forked tests); every
 * frame shows its own index (video_fixtures.h), so "frame i shows i" is checked directly.
 */
#include "test_video.h"
#include "io/video_internal.h"

#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

vt_fixtures VT;
const int vt_levels[6] = {16, 60, 128, 200, 235, 250};

int64_t vt_vfr_units(int64_t i)
{
    return 6 * (i / 3) + (i % 3 == 1 ? 1 : 0) + (i % 3 == 2 ? 3 : 0);
}

vn_video *vt_open(const char *path, int approximate)
{
    vn_video_open_options o = VN_VIDEO_OPEN_OPTIONS_INIT;
    o.approximate = approximate;
    o.timeout_s = 60;
    vn_video *v = NULL;
    VN_ASSERT_OK(vn_video_create(&v, path, &o));
    return v;
}

vn_video_info vt_info(const vn_video *v)
{
    vn_video_info info = VN_VIDEO_INFO_INIT;
    VN_ASSERT_OK(vn_video_get_info(v, &info));
    return info;
}

uint8_t *vt_read(vn_video *v, const int64_t *idx, int64_t n)
{
    vn_video_info info = vt_info(v);
    int64_t shape[4] = {n, info.height, info.width, 3};
    uint8_t *buf = malloc((size_t)(n * info.height * info.width * 3) + 1);
    vn_tensor t;
    VN_ASSERT_OK(vn_tensor_init(&t, buf, VN_DTYPE_U8, 4, shape));
    VN_ASSERT_OK(vn_video_read_frames(v, idx, n, &t));
    return buf;
}

int vt_index_of(const uint8_t *frames, const vn_video_info *info, int64_t k)
{
    size_t fs = (size_t)info->width * info->height * 3;
    return vf_decode_index(frames + fs * k, info->width, info->height, info->width * 3, 3);
}

static int64_t *iota(int64_t n, int64_t start, int64_t step)
{
    int64_t *p = malloc((size_t)n * sizeof *p);
    for (int64_t i = 0; i < n; i++)
        p[i] = start + i * step;
    return p;
}

/* ---- every format: counts, sequential content, random order ----------------------------- */

typedef struct fmt_case {
    const char *name;
    char **path;
    int64_t n_frames;
    int first;  /* the index frame 0 shows */
    int oracle; /* 1: compare with the ffmpeg CLI's decode (its muxer orders frames by pts, so not for liars) */
} fmt_case;

static const fmt_case formats[] = {
    {"h264 mp4, B-frames, GOP 250", &VT.h264_mp4, 300, 0, 1},
    {"h264 mp4, faststart", &VT.h264_fast_mp4, 300, 0, 1},
    {"mpeg4 avi", &VT.mpeg4_avi, 60, 0, 1},
    {"mpeg4 avi with B-frames (no pts)", &VT.mpeg4_bf_avi, 60, 0, 1},
    {"vp9 webm", &VT.vp9_webm, 60, 0, 1},
    {"h264 mkv", &VT.h264_mkv, 90, 0, 1},
    {"ffv1 mkv", &VT.ffv1_mkv, 30, 0, 1},
    {"vfr mkv", &VT.vfr_mkv, 45, 0, 1},
    {"h264 mkv, open GOP", &VT.open_gop_mkv, 120, 0, 1},
    {"h264 mp4 with an edit list", &VT.cut_mp4, 287, 13, 1},
    {"h264 mp4 whose pts are its dts", &VT.liar_mp4, 90, 0, 0},
    {"h264 mkv whose pts are its dts", &VT.liar_mkv, 300, 0, 0},
};
#define N_FORMATS (int)(sizeof formats / sizeof formats[0])

START_TEST(random_order_equals_sequential_decode)
{
    const fmt_case *c = &formats[_i];
    vn_video *v = vt_open(*c->path, 0);
    vn_video_info info = vt_info(v);
    ck_assert_msg(info.n_frames == c->n_frames && info.n_frames_exact, "%s: %lld frames (exact %d), expected %lld",
                  c->name, (long long)info.n_frames, info.n_frames_exact, (long long)c->n_frames);
    ck_assert_int_eq(info.width, VF_W);
    ck_assert_int_eq(info.height, VF_H);
    int64_t n = info.n_frames;
    size_t fs = (size_t)VF_W * VF_H * 3;
    int64_t *all = iota(n, 0, 1);
    uint8_t *seq = vt_read(v, all, n);
    for (int64_t i = 0; i < n; i++)
        ck_assert_msg(vt_index_of(seq, &info, i) == i + c->first, "%s: sequential frame %lld shows index %d",
                      c->name, (long long)i, vt_index_of(seq, &info, i));

    if (c->oracle) {
        /* An independent decode: the ffmpeg CLI, one picture per decoded frame. */
        char *raw = vf_path("oracle.rgb");
        const char *argv[] = {"ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", *c->path, "-fps_mode",
                              "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", raw, NULL};
        ck_assert_int_eq(vf_run(argv), 0);
        uint8_t *ref;
        size_t bytes;
        ck_assert_int_eq(vf_read_file(raw, &ref, &bytes), 0);
        ck_assert_msg(bytes == fs * (size_t)n, "%s: ffmpeg decodes %zu frames, vnative counts %lld", c->name,
                      bytes / fs, (long long)n);
        for (int64_t i = 0; i < n; i++) {
            int64_t diff = 0;
            for (size_t k = 0; k < fs; k++)
                diff += abs((int)seq[fs * i + k] - (int)ref[fs * i + k]);
            ck_assert_msg(diff <= (int64_t)fs / 50, "%s: frame %lld differs from ffmpeg's (mean %.3f levels)", c->name,
                          (long long)i, (double)diff / (double)fs);
        }
        free(ref);
        unlink(raw);
        free(raw);
    }

    /* One call with many requests, in random order and with duplicates. */
    srand(1234 + (unsigned)_i);
    int64_t q[64];
    for (int k = 0; k < 64; k++)
        q[k] = rand() % n;
    q[5] = q[4];
    q[10] = q[9] = q[8];
    q[63] = n - 1;
    q[62] = 0;
    uint8_t *got = vt_read(v, q, 64);
    for (int k = 0; k < 64; k++)
        ck_assert_msg(memcmp(got + fs * k, seq + fs * q[k], fs) == 0, "%s: request %d (frame %lld) differs from the "
                      "sequential decode", c->name, k, (long long)q[k]);
    free(got);

    /* Single reads in random order, on the same handle and on fresh ones. */
    for (int k = 0; k < 24; k++) {
        int64_t i = rand() % n;
        vn_video *w = k % 6 == 0 ? vt_open(*c->path, 0) : v;
        uint8_t *one = vt_read(w, &i, 1);
        ck_assert_msg(memcmp(one, seq + fs * i, fs) == 0, "%s: single read of frame %lld differs", c->name,
                      (long long)i);
        free(one);
        if (w != v)
            vn_video_destroy(w);
    }
    free(seq);
    free(all);
    vn_video_destroy(v);
}
END_TEST

START_TEST(ffv1_round_trip_is_bit_exact)
{
    vn_video *v = vt_open(VT.ffv1_mkv, 0);
    vn_video_info info = vt_info(v);
    ck_assert_str_eq(info.codec, "ffv1");
    int64_t *all = iota(30, 0, 1);
    uint8_t *got = vt_read(v, all, 30);
    size_t fs = (size_t)VF_W * VF_H * 3;
    uint8_t *want = malloc(fs);
    for (int i = 0; i < 30; i++) {
        vf_pattern(want, VF_W, VF_H, i);
        ck_assert_msg(memcmp(got + fs * i, want, fs) == 0, "ffv1 frame %d is not bit-exact", i);
    }
    free(want);
    free(got);
    free(all);
    vn_video_destroy(v);
}
END_TEST

/* ---- seek planning ------------------------------------------------------------------- */

START_TEST(seeks_only_when_they_pay_off)
{
    vn_video *v = vt_open(VT.h264_mp4, 0);
    int64_t keys[4], nk = 0;
    VN_ASSERT_OK(vn_video_keyframes(v, keys, 4, &nk));
    ck_assert_int_eq(nk, 2);
    ck_assert_int_eq(keys[0], 0);
    ck_assert_int_eq(keys[1], 250);
    /* The fixture really has reordered frames: the first packet is decoded before it is shown. */
    ck_assert_msg(v->first.dts < v->first.pts, "no B-frame reordering in the h264 fixture (dts %lld, pts %lld)",
                  (long long)v->first.dts, (long long)v->first.pts);

    int64_t *a = iota(16, 0, 1);
    free(vt_read(v, a, 16));
    int64_t seeks = v->n_seeks, dec = v->n_decoded;
    ck_assert_int_le(seeks, 1);
    ck_assert_int_eq(dec, 16);

    int64_t *b = iota(16, 16, 1); /* continues where the decoder is: no seek */
    free(vt_read(v, b, 16));
    ck_assert_int_eq(v->n_seeks, seeks);
    ck_assert_int_eq(v->n_decoded, 32);

    int64_t *c = iota(16, 280, 1); /* keyframe 250 lies ahead: one seek, ~46 frames decoded */
    free(vt_read(v, c, 16));
    ck_assert_int_eq(v->n_seeks, seeks + 1);
    ck_assert_int_le(v->n_decoded - 32, 50);

    int64_t d[3] = {103, 101, 102}; /* backwards: one seek for the whole request */
    uint8_t *got = vt_read(v, d, 3);
    ck_assert_int_eq(v->n_seeks, seeks + 2);
    vn_video_info info = vt_info(v);
    ck_assert_int_eq(vt_index_of(got, &info, 0), 103);
    ck_assert_int_eq(vt_index_of(got, &info, 1), 101);
    ck_assert_int_eq(vt_index_of(got, &info, 2), 102);
    free(got);

    int64_t same = 103; /* the last frame decoded is kept: asking again decodes nothing */
    int64_t before = v->n_decoded;
    free(vt_read(v, &same, 1));
    ck_assert_int_eq(v->n_decoded, before);

    int64_t *e = iota(16, 10, 10); /* 10..160 share keyframe 0: one pass, one seek */
    vn_video *w = vt_open(VT.h264_mp4, 0);
    free(vt_read(w, e, 16));
    ck_assert_int_le(w->n_seeks, 1);
    ck_assert_int_le(w->n_decoded, 161);
    vn_video_destroy(w);
    free(a);
    free(b);
    free(c);
    free(e);
    vn_video_destroy(v);
}
END_TEST

START_TEST(reversed_clip_is_exactly_reversed)
{
    const char *paths[] = {VT.h264_mp4, VT.h264_mkv, VT.mpeg4_bf_avi};
    for (int p = 0; p < 3; p++) {
        vn_video *v = vt_open(paths[p], 0);
        vn_clip_options clip = VN_CLIP_OPTIONS_INIT;
        clip.n_frames = 12;
        clip.stride = 3;
        clip.start = 17;
        int64_t shape[4];
        VN_ASSERT_OK(vn_clip_shape(v, &clip, NULL, VN_DTYPE_U8, shape));
        size_t fs = (size_t)(shape[1] * shape[2] * shape[3]);
        uint8_t *fwd = malloc(fs * 12), *rev = malloc(fs * 12);
        vn_tensor tf, tr;
        vn_tensor_init(&tf, fwd, VN_DTYPE_U8, 4, shape);
        vn_tensor_init(&tr, rev, VN_DTYPE_U8, 4, shape);
        VN_ASSERT_OK(vn_video_read_clip(v, &clip, NULL, &tf));
        int64_t seeks = v->n_seeks;
        clip.reverse = 1;
        int64_t idx[12];
        VN_ASSERT_OK(vn_clip_indices(v, &clip, idx));
        VN_ASSERT_OK(vn_video_read_clip(v, &clip, NULL, &tr));
        ck_assert_int_le(v->n_seeks - seeks, 1); /* decoded forward once, not frame by frame */
        vn_video_info info = vt_info(v);
        for (int k = 0; k < 12; k++) {
            ck_assert_int_eq(idx[k], 17 + 3 * (11 - k));
            ck_assert_msg(memcmp(rev + fs * k, fwd + fs * (11 - k), fs) == 0, "%s: reversed frame %d differs", paths[p],
                          k);
            ck_assert_int_eq(vt_index_of(rev, &info, k), 17 + 3 * (11 - k));
        }
        free(fwd);
        free(rev);
        vn_video_destroy(v);
    }
}
END_TEST

/* ---- time ------------------------------------------------------------------------------ */

START_TEST(vfr_times_give_the_frame_shown)
{
    vn_video *v = vt_open(VT.vfr_mkv, 0);
    vn_video_info info = vt_info(v);
    ck_assert_int_eq(info.variable_frame_rate, 1);
    ck_assert_int_eq(info.n_frames, 45);
    double times[45 * 3];
    int64_t expect[45 * 3];
    int m = 0;
    for (int64_t i = 0; i < 45; i++) {
        double t = vt_vfr_units(i) * 0.02, t_next = vt_vfr_units(i + 1) * 0.02, ft;
        VN_ASSERT_OK(vn_video_frame_time(v, i, &ft));
        ck_assert_msg(fabs(ft - t) < 1e-6, "frame %lld at %.4f s, expected %.4f s", (long long)i, ft, t);
        double probes[3] = {t, (t + t_next) / 2, t_next - 0.001};
        for (int k = 0; k < 3; k++) {
            int64_t got;
            VN_ASSERT_OK(vn_video_frame_at_time(v, probes[k], &got));
            ck_assert_msg(got == i, "time %.4f s gives frame %lld, expected %lld", probes[k], (long long)got,
                          (long long)i);
            times[m] = probes[k];
            expect[m++] = i;
        }
    }
    int64_t got;
    VN_ASSERT_OK(vn_video_frame_at_time(v, -1.0, &got));
    ck_assert_int_eq(got, 0);
    VN_ASSERT_OK(vn_video_frame_at_time(v, 1e6, &got));
    ck_assert_int_eq(got, 44);

    /* Read the frames at those times, shuffled: each shows the expected index. */
    for (int k = m - 1; k > 0; k--) {
        int j = rand() % (k + 1);
        double tt = times[k];
        times[k] = times[j];
        times[j] = tt;
        int64_t te = expect[k];
        expect[k] = expect[j];
        expect[j] = te;
    }
    int64_t shape[4] = {m, VF_H, VF_W, 3};
    uint8_t *buf = malloc((size_t)m * VF_W * VF_H * 3);
    vn_tensor t;
    vn_tensor_init(&t, buf, VN_DTYPE_U8, 4, shape);
    VN_ASSERT_OK(vn_video_read_times(v, times, m, &t));
    for (int k = 0; k < m; k++)
        ck_assert_msg(vt_index_of(buf, &info, k) == expect[k], "time %.4f s shows frame %d, expected %lld", times[k],
                      vt_index_of(buf, &info, k), (long long)expect[k]);
    free(buf);
    vn_video_destroy(v);
}
END_TEST

START_TEST(approximate_mode_reads_by_time)
{
    vn_video *v = vt_open(VT.h264_mkv, 1);
    vn_video_info info = vt_info(v);
    ck_assert_int_eq(info.n_frames_exact, 0);
    ck_assert_int_eq(info.n_keyframes, 0);
    double ft;
    VN_ASSERT_FAILS(vn_video_frame_time(v, 3, &ft), VN_ERR_STATE);
    int64_t idx[6] = {89, 0, 45, 46, 7, 45};
    uint8_t *got = vt_read(v, idx, 6);
    for (int k = 0; k < 6; k++)
        ck_assert_int_eq(vt_index_of(got, &info, k), idx[k]);
    free(got);
    vn_video_destroy(v);
}
END_TEST

/* ---- rotation ------------------------------------------------------------------------------ */

/* Compare against the ffmpeg CLI, whose autorotation is what players show. */
static double diff_with_ffmpeg(const char *path, const uint8_t *ours, size_t bytes)
{
    char *raw = vf_path("rot_ref.rgb");
    const char *argv[] = {"ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", path, "-frames:v", "1",
                          "-f", "rawvideo", "-pix_fmt", "rgb24", raw, NULL};
    ck_assert_int_eq(vf_run(argv), 0);
    uint8_t *ref;
    size_t n;
    ck_assert_int_eq(vf_read_file(raw, &ref, &n), 0);
    ck_assert_uint_eq(n, bytes);
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += abs((int)ref[i] - (int)ours[i]);
    free(ref);
    unlink(raw);
    free(raw);
    return sum / (double)n;
}

START_TEST(rotation_is_applied)
{
    vn_video *src = vt_open(VT.rot_src_mp4, 0);
    int64_t k = 7, zero = 0;
    uint8_t *s = vt_read(src, &k, 1);
    const char *paths[2] = {VT.rot_a_mp4, VT.rot_b_mp4};
    /* FFmpeg 5.1 writes 'rotate=90' as a matrix that players turn 270 degrees clockwise. */
    const int rot[2] = {270, 90};
    for (int p = 0; p < 2; p++) {
        vn_video *v = vt_open(paths[p], 0);
        vn_video_info info = vt_info(v);
        ck_assert_int_eq(info.rotation, rot[p]);
        ck_assert_int_eq(info.width, VF_H);
        ck_assert_int_eq(info.height, VF_W);
        ck_assert_int_eq(info.coded_width, VF_W);
        ck_assert_int_eq(info.coded_height, VF_H);
        uint8_t *r = vt_read(v, &k, 1);
        /* B (160 x 96) is the source S (96 x 160) turned clockwise by rot. */
        for (int y = 0; y < VF_W; y++)
            for (int x = 0; x < VF_H; x++) {
                int sy = rot[p] == 90 ? VF_H - 1 - x : x;
                int sx = rot[p] == 90 ? y : VF_W - 1 - y;
                const uint8_t *a = r + ((size_t)y * VF_H + x) * 3, *b = s + ((size_t)sy * VF_W + sx) * 3;
                ck_assert_msg(a[0] == b[0] && a[1] == b[1] && a[2] == b[2], "rotation %d: pixel (%d, %d) differs",
                              rot[p], x, y);
            }
        uint8_t *f0 = vt_read(v, &zero, 1);
        double d = diff_with_ffmpeg(paths[p], f0, (size_t)VF_W * VF_H * 3);
        ck_assert_msg(d < 2.0, "rotation %d: mean difference %.2f from ffmpeg's autorotated frame", rot[p], d);
        /* A rotated transform keeps the orientation: a centre crop of the rotated picture. */
        vn_transform_options tr = VN_TRANSFORM_OPTIONS_INIT;
        tr.crop_size = 64;
        vn_clip_options clip = VN_CLIP_OPTIONS_INIT;
        clip.n_frames = 1;
        clip.start = 7;
        int64_t shape[4];
        VN_ASSERT_OK(vn_clip_shape(v, &clip, &tr, VN_DTYPE_U8, shape));
        ck_assert_int_eq(shape[1], 64);
        ck_assert_int_eq(shape[2], 64);
        uint8_t crop[64 * 64 * 3];
        vn_tensor t;
        vn_tensor_init(&t, crop, VN_DTYPE_U8, 4, shape);
        VN_ASSERT_OK(vn_video_read_clip(v, &clip, &tr, &t));
        double sum = 0;
        for (int y = 0; y < 64; y++)
            for (int x = 0; x < 64; x++)
                for (int c = 0; c < 3; c++)
                    sum += abs((int)crop[(y * 64 + x) * 3 + c] - (int)r[((size_t)(y + 48) * VF_H + x + 16) * 3 + c]);
        ck_assert_msg(sum / (64 * 64 * 3) < 3.0, "rotation %d: the centre crop is not the centre of the rotated frame "
                      "(mean difference %.2f)", rot[p], sum / (64 * 64 * 3));
        free(r);
        free(f0);
        vn_video_destroy(v);
    }
    free(s);
    vn_video_destroy(src);
}
END_TEST

/* ---- colour ---------------------------------------------------------------------------------- */

static void check_levels(const char *path, int full, double patch_r, double patch_g, double patch_b, int scale)
{
    vn_video *v = vt_open(path, 0);
    vn_video_info info = vt_info(v);
    ck_assert_int_eq(info.full_range, full);
    vn_clip_options clip = VN_CLIP_OPTIONS_INIT;
    clip.n_frames = 1;
    vn_transform_options tr = VN_TRANSFORM_OPTIONS_INIT;
    tr.short_side = VT_LEVEL_H / scale;
    int64_t shape[4];
    VN_ASSERT_OK(vn_clip_shape(v, &clip, &tr, VN_DTYPE_U8, shape));
    int W = (int)shape[2];
    uint8_t *px = malloc((size_t)(shape[1] * shape[2] * 3));
    vn_tensor t;
    vn_tensor_init(&t, px, VN_DTYPE_U8, 4, shape);
    VN_ASSERT_OK(vn_video_read_clip(v, &clip, &tr, &t));
    int cell = 16 / scale;
    for (int c = 0; c < 6; c++) {
        const uint8_t *p = px + ((size_t)(cell / 2) * W + c * cell + cell / 2) * 3;
        double want = full ? vt_levels[c] : fmin(255, fmax(0, (vt_levels[c] - 16) * 255.0 / 219.0));
        for (int k = 0; k < 3; k++)
            ck_assert_msg(fabs(p[k] - want) <= 1.5, "%s (scale 1/%d): luma %d came back as %d, expected %.1f", path,
                          scale, vt_levels[c], p[k], want);
    }
    const uint8_t *p = px + ((size_t)(cell + cell / 2) * W + 3 * cell) * 3;
    double want[3] = {patch_r, patch_g, patch_b};
    for (int k = 0; k < 3; k++)
        ck_assert_msg(fabs(p[k] - want[k]) <= 3.0, "%s (scale 1/%d): colour patch channel %d is %d, expected %.1f",
                      path, scale, k, p[k], want[k]);
    free(px);
    vn_video_destroy(v);
}

static double clamp255(double x)
{
    return x < 0 ? 0 : x > 255 ? 255 : x;
}

START_TEST(full_range_levels_are_not_stretched)
{
    double Y = VT_PATCH_Y, U = VT_PATCH_U - 128.0, V = VT_PATCH_V - 128.0;
    double r = clamp255(Y + 1.402 * V), g = clamp255(Y - 0.344136 * U - 0.714136 * V), b = clamp255(Y + 1.772 * U);
    check_levels(VT.full_mp4, 1, r, g, b, 1);
    check_levels(VT.full_mp4, 1, r, g, b, 2);
    vn_video *v = vt_open(VT.full_vp9_webm, 0);
    ck_assert_str_eq(vt_info(v).pixel_format, "yuv420p"); /* range from the flag alone */
    vn_video_destroy(v);
    check_levels(VT.full_vp9_webm, 1, r, g, b, 1);
    check_levels(VT.full_vp9_webm, 1, r, g, b, 2);
}
END_TEST

START_TEST(bt709_colour_space_is_honoured)
{
    double Y = (VT_PATCH_Y - 16) * 255.0 / 219.0, U = (VT_PATCH_U - 128.0) * 255.0 / 224.0,
           V = (VT_PATCH_V - 128.0) * 255.0 / 224.0;
    double r = clamp255(Y + 1.5748 * V), g = clamp255(Y - 0.1873 * U - 0.4681 * V), b = clamp255(Y + 1.8556 * U);
    /* BT.601 maths would give red 212: far enough from 709's 227 to tell them apart. */
    ck_assert(fabs(r - clamp255(Y + 1.402 * V)) > 10);
    vn_video *v = vt_open(VT.bt709_mp4, 0);
    ck_assert_str_eq(vt_info(v).color_space, "bt709");
    vn_video_destroy(v);
    check_levels(VT.bt709_mp4, 0, r, g, b, 1);
    check_levels(VT.bt709_mp4, 0, r, g, b, 2);
}
END_TEST

/* ---- bad input ---------------------------------------------------------------------------- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

START_TEST(bad_files_fail_cleanly)
{
    vn_video *v = (vn_video *)0x1;
    vn_video_open_options o = VN_VIDEO_OPEN_OPTIONS_INIT;
    o.timeout_s = 20;
    char *zero = vf_path("zero.mp4");
    ck_assert_int_eq(vf_write_file(zero, "", 0), 0);
    VN_ASSERT_FAILS(vn_video_create(&v, zero, &o), VN_ERR_FORMAT);
    ck_assert_ptr_null(v);
    VN_ASSERT_FAILS(vn_video_create_from_memory(&v, "", 0, &o), VN_ERR_FORMAT);

    uint8_t noise[65536];
    for (unsigned seed = 1; seed <= 4; seed++) {
        srand(seed);
        for (size_t i = 0; i < sizeof noise; i++)
            noise[i] = (uint8_t)rand();
        char name[32];
        snprintf(name, sizeof name, "noise%u.%s", seed, seed % 2 ? "mp4" : "mkv");
        char *p = vf_path(name);
        ck_assert_int_eq(vf_write_file(p, noise, sizeof noise), 0);
        VN_ASSERT_FAILS(vn_video_create(&v, p, &o), VN_ERR_FORMAT);
        VN_ASSERT_FAILS(vn_video_create_from_memory(&v, noise, sizeof noise, &o), VN_ERR_FORMAT);
        free(p);
    }

    VN_ASSERT_FAILS(vn_video_create(&v, VT.audio_m4a, &o), VN_ERR_FORMAT);
    ck_assert_msg(strstr(vn_last_error(), "no video stream") != NULL, "message: %s", vn_last_error());

    char *missing = vf_path("does-not-exist.mp4");
    VN_ASSERT_FAILS(vn_video_create(&v, missing, &o), VN_ERR_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(vn_last_error(), "does-not-exist.mp4"));
    vn_status s = vn_video_create(&v, vn_test_tmpdir(), &o);
    ck_assert_msg(s != VN_OK && vn_last_error()[0], "opening a directory gave %s", vn_status_str(s));
    free(zero);
    free(missing);
}
END_TEST

/* Open a damaged file and read everything it claims to have: any status is fine
 * except a crash or a hang; what can be read must still be right. */
static void exercise(vn_video *v, const vn_video_info *full_info, double cut)
{
    vn_video_info info = vt_info(v);
    ck_assert_int_le(info.n_frames, full_info->n_frames);
    int64_t n = info.n_frames;
    int64_t *all = iota(n, 0, 1);
    int64_t shape[4] = {n, info.height, info.width, 3};
    uint8_t *buf = malloc((size_t)((n > 3 ? n : 3) * info.height * info.width * 3));
    vn_tensor t;
    vn_tensor_init(&t, buf, VN_DTYPE_U8, 4, shape);
    vn_status s = vn_video_read_frames(v, all, n, &t);
    if (s == VN_OK && cut >= 0.3 && n > 0)
        ck_assert_int_eq(vt_index_of(buf, &info, 0), 0);
    if (s != VN_OK)
        ck_assert(vn_last_error()[0] != '\0');
    int64_t back[3] = {n - 1, 0, n / 2};
    shape[0] = 3;
    vn_tensor_init(&t, buf, VN_DTYPE_U8, 4, shape);
    s = vn_video_read_frames(v, back, 3, &t);
    if (s != VN_OK)
        ck_assert(vn_last_error()[0] != '\0');
    free(buf);
    free(all);
}

START_TEST(truncated_files_never_crash_or_hang)
{
    const char *sources[] = {VT.h264_mp4, VT.h264_fast_mp4, VT.mpeg4_avi, VT.vp9_webm, VT.h264_mkv, VT.vfr_mkv};
    const double cuts[] = {0.0005, 0.1, 0.35, 0.6, 0.9, 0.99};
    double t0 = now_s();
    int opened = 0;
    for (size_t si = 0; si < sizeof sources / sizeof sources[0]; si++) {
        vn_video *full = vt_open(sources[si], 0);
        vn_video_info full_info = vt_info(full);
        vn_video_destroy(full);
        uint8_t *data;
        size_t size;
        ck_assert_int_eq(vf_read_file(sources[si], &data, &size), 0);
        for (size_t ci = 0; ci < sizeof cuts / sizeof cuts[0]; ci++) {
            size_t keep = (size_t)(size * cuts[ci]);
            char *p = vf_path("cut.bin");
            ck_assert_int_eq(vf_write_file(p, data, keep), 0);
            vn_video_open_options o = VN_VIDEO_OPEN_OPTIONS_INIT;
            o.timeout_s = 20;
            for (int mem = 0; mem < 2; mem++) {
                vn_video *v = NULL;
                vn_status s = mem ? vn_video_create_from_memory(&v, data, keep ? keep : 1, &o)
                                  : vn_video_create(&v, p, &o);
                if (s != VN_OK) {
                    ck_assert_msg(vn_last_error()[0] != '\0', "%s cut at %.4f failed without a message",
                                  sources[si], cuts[ci]);
                    ck_assert_ptr_null(v);
                    continue;
                }
                opened++;
                exercise(v, &full_info, cuts[ci]);
                vn_video_destroy(v);
            }
            free(p);
        }
        free(data);
    }
    ck_assert_msg(opened > 0, "no truncated file opened: the reading side was never exercised");
    ck_assert_msg(now_s() - t0 < 90, "truncated files took %.1f s", now_s() - t0);
}
END_TEST

START_TEST(lying_header_is_not_trusted)
{
    vn_video *v = vt_open(VT.lying_avi, 0);
    vn_video_info info = vt_info(v);
    ck_assert_int_eq(info.n_frames, 60);
    vn_video_destroy(v);

    v = vt_open(VT.lying_avi, 1);
    info = vt_info(v);
    ck_assert_int_eq(info.n_frames, 1000); /* what the header claims, as documented */
    double t0 = now_s();
    int64_t idx[3] = {999, 30, 500};
    uint8_t *got = vt_read(v, idx, 3);
    ck_assert_int_eq(vt_index_of(got, &info, 0), 59); /* past the real end: the last frame */
    ck_assert_int_eq(vt_index_of(got, &info, 1), 30);
    ck_assert_int_eq(vt_index_of(got, &info, 2), 59);
    vn_clip_options clip = VN_CLIP_OPTIONS_INIT;
    clip.n_frames = 8;
    clip.stride = 4;
    clip.start = -1;
    clip.seed = 5;
    int64_t shape[4];
    VN_ASSERT_OK(vn_clip_shape(v, &clip, NULL, VN_DTYPE_U8, shape));
    uint8_t *buf = malloc((size_t)(8 * shape[1] * shape[2] * 3));
    vn_tensor t;
    vn_tensor_init(&t, buf, VN_DTYPE_U8, 4, shape);
    VN_ASSERT_OK(vn_video_read_clip(v, &clip, NULL, &t));
    ck_assert(now_s() - t0 < 10);
    free(buf);
    free(got);
    vn_video_destroy(v);
}
END_TEST

START_TEST(memory_input_equals_file_input)
{
    const char *paths[] = {VT.h264_mkv, VT.vp9_webm, VT.h264_fast_mp4, VT.mpeg4_avi};
    for (int p = 0; p < 4; p++) {
        uint8_t *data;
        size_t size;
        ck_assert_int_eq(vf_read_file(paths[p], &data, &size), 0);
        vn_video *m = NULL;
        VN_ASSERT_OK(vn_video_create_from_memory(&m, data, size, NULL));
        memset(data, 0, size); /* the bytes were copied */
        free(data);
        vn_video *f = vt_open(paths[p], 0);
        vn_video_info a = vt_info(m), b = vt_info(f);
        ck_assert_int_eq(a.n_frames, b.n_frames);
        ck_assert_int_eq(a.n_keyframes, b.n_keyframes);
        ck_assert_str_eq(a.codec, b.codec);
        ck_assert(a.duration_s == b.duration_s);
        int64_t idx[7] = {b.n_frames - 1, 0, 31, 5, 6, 31, b.n_frames / 2};
        uint8_t *x = vt_read(m, idx, 7), *y = vt_read(f, idx, 7);
        ck_assert_msg(memcmp(x, y, (size_t)7 * VF_W * VF_H * 3) == 0, "%s: memory and file reads differ", paths[p]);
        free(x);
        free(y);
        vn_video_destroy(m);
        vn_video_destroy(f);
    }
}
END_TEST

START_TEST(time_limit_gives_timeout)
{
    vn_video_open_options o = VN_VIDEO_OPEN_OPTIONS_INIT;
    o.timeout_s = 1e-9;
    vn_video *v = NULL;
    VN_ASSERT_FAILS(vn_video_create(&v, VT.h264_mp4, &o), VN_ERR_TIMEOUT);
    uint8_t *data;
    size_t size;
    ck_assert_int_eq(vf_read_file(VT.h264_mp4, &data, &size), 0);
    VN_ASSERT_FAILS(vn_video_create_from_memory(&v, data, size, &o), VN_ERR_TIMEOUT);
    free(data);
    /* A read that outlives its limit fails with VN_ERR_TIMEOUT, and the handle recovers. */
    v = vt_open(VT.h264_mp4, 0);
    v->timeout_s = 1e-9;
    int64_t idx = 299;
    int64_t shape[4] = {1, VF_H, VF_W, 3};
    uint8_t *buf = malloc((size_t)VF_W * VF_H * 3);
    vn_tensor t;
    vn_tensor_init(&t, buf, VN_DTYPE_U8, 4, shape);
    VN_ASSERT_FAILS(vn_video_read_frames(v, &idx, 1, &t), VN_ERR_TIMEOUT);
    v->timeout_s = 0;
    VN_ASSERT_OK(vn_video_read_frames(v, &idx, 1, &t));
    vn_video_info info = vt_info(v);
    ck_assert_int_eq(vt_index_of(buf, &info, 0), 299);
    free(buf);
    vn_video_destroy(v);
}
END_TEST

/* ---- fixtures and main --------------------------------------------------------------------- */

static void need(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "test_video: could not make the fixture %s: %s\n", what, vn_last_error());
        exit(EXIT_FAILURE);
    }
}

/* full: 0 limited BT.709 (h264), 1 yuvj420p (h264), 2 yuv420p flagged full range (vp9). */
static void make_levels(const char *path, int full)
{
    char *raw = vf_path("levels.yuv");
    size_t ysz = VT_LEVEL_W * VT_LEVEL_H, csz = ysz / 4;
    uint8_t *frame = malloc(ysz + 2 * csz);
    for (int y = 0; y < VT_LEVEL_H; y++)
        for (int x = 0; x < VT_LEVEL_W; x++)
            frame[y * VT_LEVEL_W + x] = (uint8_t)(y < 16 ? vt_levels[x / 16] : VT_PATCH_Y);
    for (int y = 0; y < VT_LEVEL_H / 2; y++)
        for (int x = 0; x < VT_LEVEL_W / 2; x++) {
            frame[ysz + y * VT_LEVEL_W / 2 + x] = (uint8_t)(y < 8 ? 128 : VT_PATCH_U);
            frame[ysz + csz + y * VT_LEVEL_W / 2 + x] = (uint8_t)(y < 8 ? 128 : VT_PATCH_V);
        }
    uint8_t *three = malloc(3 * (ysz + 2 * csz));
    for (int i = 0; i < 3; i++)
        memcpy(three + i * (ysz + 2 * csz), frame, ysz + 2 * csz);
    need(vf_write_file(raw, three, 3 * (ysz + 2 * csz)) == 0, raw);
    char size[16];
    snprintf(size, sizeof size, "%dx%d", VT_LEVEL_W, VT_LEVEL_H);
    const char *fmt = full == 1 ? "yuvj420p" : "yuv420p";
    const char *h264[] = {"ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", fmt, "-s",
                          size, "-r", "25", "-i", raw, "-c:v", "libx264", "-qp", "0", "-pix_fmt", fmt,
                          full ? "-color_range" : "-colorspace", full ? "pc" : "bt709",
                          "-color_primaries", "bt709", "-color_trc", "bt709", path, NULL};
    const char *vp9[] = {"ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", fmt, "-s",
                         size, "-r", "25", "-i", raw, "-c:v", "libvpx-vp9", "-lossless", "1", "-pix_fmt", fmt,
                         "-color_range", "pc", path, NULL};
    need(vf_run(full == 2 ? vp9 : h264) == 0, path);
    unlink(raw);
    free(raw);
    free(frame);
    free(three);
}

/* Rewrite an AVI's frame counts (avih, strh and the OpenDML dmlh) to claim n frames. */
static void patch_avi_counts(const char *src, const char *dst, uint32_t n)
{
    uint8_t *d;
    size_t size;
    need(vf_read_file(src, &d, &size) == 0, src);
    int patched = 0;
    for (size_t i = 0; i + 64 < size; i++) {
        size_t off = 0;
        if (!memcmp(d + i, "avih", 4))
            off = i + 8 + 16;
        else if (!memcmp(d + i, "strh", 4) && !memcmp(d + i + 8, "vids", 4))
            off = i + 8 + 32;
        else if (!memcmp(d + i, "dmlh", 4))
            off = i + 8;
        if (off) {
            d[off] = n & 0xff;
            d[off + 1] = (n >> 8) & 0xff;
            d[off + 2] = (n >> 16) & 0xff;
            d[off + 3] = n >> 24;
            patched++;
        }
    }
    need(patched >= 2 && vf_write_file(dst, d, size) == 0, dst);
    free(d);
}

static void make_fixtures(void)
{
    VT.h264_mp4 = vf_path("h264.mp4");
    VT.h264_fast_mp4 = vf_path("h264_fast.mp4");
    VT.mpeg4_avi = vf_path("mpeg4.avi");
    VT.mpeg4_bf_avi = vf_path("mpeg4_bf.avi");
    VT.vp9_webm = vf_path("vp9.webm");
    VT.h264_mkv = vf_path("h264.mkv");
    VT.ffv1_mkv = vf_path("ffv1.mkv");
    VT.vfr_mkv = vf_path("vfr.mkv");
    VT.rot_src_mp4 = vf_path("rot_src.mp4");
    VT.rot_a_mp4 = vf_path("rot_a.mp4");
    VT.rot_b_mp4 = vf_path("rot_b.mp4");
    VT.full_mp4 = vf_path("full.mp4");
    VT.full_vp9_webm = vf_path("full_vp9.webm");
    VT.open_gop_mkv = vf_path("open_gop.mkv");
    VT.cut_mp4 = vf_path("cut.mp4");
    VT.liar_mp4 = vf_path("liar.mp4");
    VT.liar_mkv = vf_path("liar.mkv");
    VT.bt709_mp4 = vf_path("bt709.mp4");
    VT.audio_m4a = vf_path("audio.m4a");
    VT.lying_avi = vf_path("lying.avi");

    need(vf_write_pattern(VT.h264_mp4, 300, 25, VN_CODEC_H264, 250, 3) == VN_OK, "h264.mp4");
    need(vf_write_pattern(VT.mpeg4_avi, 60, 25, VN_CODEC_MPEG4, 12, -1) == VN_OK, "mpeg4.avi");
    need(vf_write_pattern(VT.mpeg4_bf_avi, 60, 25, VN_CODEC_MPEG4, 12, 2) == VN_OK, "mpeg4_bf.avi");
    need(vf_write_pattern(VT.vp9_webm, 60, 25, VN_CODEC_VP9, 30, -1) == VN_OK, "vp9.webm");
    need(vf_write_pattern(VT.h264_mkv, 90, 30, VN_CODEC_H264, 30, 2) == VN_OK, "h264.mkv");
    need(vf_write_pattern(VT.ffv1_mkv, 30, 25, VN_CODEC_FFV1, 10, -1) == VN_OK, "ffv1.mkv");
    need(vf_write_pattern(VT.rot_src_mp4, 30, 25, VN_CODEC_H264, 10, 2) == VN_OK, "rot_src.mp4");

    const char *fast[] = {"ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", VT.h264_mp4, "-c", "copy",
                          "-movflags", "+faststart", VT.h264_fast_mp4, NULL};
    need(vf_run(fast) == 0, "h264_fast.mp4");
    const char *vfr[] = {"-vf", "settb=1/1000,setpts=(6*floor(N/3)+eq(mod(N\\,3)\\,1)+3*eq(mod(N\\,3)\\,2))*0.02/TB",
                         "-fps_mode", "passthrough", "-enc_time_base", "1/1000", "-c:v", "libx264", "-bf", "2",
                         "-pix_fmt", "yuv420p", NULL};
    need(vf_ffmpeg_pattern(VT.vfr_mkv, 45, 25, vfr) == 0, "vfr.mkv");
    const char *rot_a[] = {"ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", VT.rot_src_mp4, "-c", "copy",
                           "-metadata:s:v", "rotate=90", VT.rot_a_mp4, NULL};
    need(vf_run(rot_a) == 0, "rot_a.mp4");
    const char *rot_b[] = {"ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", VT.rot_src_mp4, "-c", "copy",
                           "-metadata:s:v", "rotate=270", VT.rot_b_mp4, NULL};
    need(vf_run(rot_b) == 0, "rot_b.mp4");
    const char *open_gop[] = {"-c:v", "libx264", "-x264-params", "open-gop=1:keyint=30:min-keyint=30:scenecut=0",
                              "-bf", "3", "-pix_fmt", "yuv420p", NULL};
    need(vf_ffmpeg_pattern(VT.open_gop_mkv, 120, 25, open_gop) == 0, "open_gop.mkv");
    /* Stream copy from 0.5 s keeps the GOP's start as packets marked for discard. */
    const char *cut[] = {"ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-ss", "0.5", "-i", VT.h264_mp4, "-c",
                         "copy", VT.cut_mp4, NULL};
    need(vf_run(cut) == 0, "cut.mp4");
    /* Timestamps rebased to 0 so that MP4 needs no edit list. */
    const char *liar_mp4[] = {"ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", VT.h264_mkv, "-c", "copy",
                              "-bsf:v", "setts=pts=DTS-STARTDTS:dts=DTS-STARTDTS", VT.liar_mp4, NULL};
    need(vf_run(liar_mp4) == 0, "liar.mp4");
    const char *liar_mkv[] = {"ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", VT.h264_mp4, "-c", "copy",
                              "-bsf:v", "setts=pts=DTS", VT.liar_mkv, NULL};
    need(vf_run(liar_mkv) == 0, "liar.mkv");
    make_levels(VT.full_mp4, 1);
    make_levels(VT.full_vp9_webm, 2);
    make_levels(VT.bt709_mp4, 0);
    const char *audio[] = {"ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                           "sine=frequency=440:duration=1", "-c:a", "aac", VT.audio_m4a, NULL};
    need(vf_run(audio) == 0, "audio.m4a");
    patch_avi_counts(VT.mpeg4_avi, VT.lying_avi, 1000);
}

static Suite *video_suite(void)
{
    Suite *s = suite_create("video");
    TCase *tc = tcase_create("read");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, random_order_equals_sequential_decode, 0, N_FORMATS);
    tcase_add_test(tc, ffv1_round_trip_is_bit_exact);
    tcase_add_test(tc, seeks_only_when_they_pay_off);
    tcase_add_test(tc, reversed_clip_is_exactly_reversed);
    tcase_add_test(tc, vfr_times_give_the_frame_shown);
    tcase_add_test(tc, approximate_mode_reads_by_time);
    tcase_add_test(tc, rotation_is_applied);
    tcase_add_test(tc, full_range_levels_are_not_stretched);
    tcase_add_test(tc, bt709_colour_space_is_honoured);
    tcase_add_test(tc, bad_files_fail_cleanly);
    tcase_add_test(tc, truncated_files_never_crash_or_hang);
    tcase_add_test(tc, lying_header_is_not_trusted);
    tcase_add_test(tc, memory_input_equals_file_input);
    tcase_add_test(tc, time_limit_gives_timeout);
    suite_add_tcase(s, tc);
    vt_add_clip_tests(s);
    return s;
}

int main(void)
{
    if (!vf_have_ffmpeg())
        return vn_test_skip("video", "the ffmpeg CLI is not installed; it makes half of the fixtures");
    make_fixtures();
    int rc = vn_test_run(video_suite());
    if (rc == EXIT_SUCCESS)
        vf_remove_tree(vn_test_tmpdir());
    return rc;
}
