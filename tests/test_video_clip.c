/*
 * Clip sampling, transforms, the writer and the CLI commands (the video suite's
 * second half; fixtures come from test_video.c).
 */
#include "test_video.h"
#include "io/npy.h"

#include <dirent.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

/* Read one clip into a new buffer with the shape vn_clip_shape gives. */
static void *read_clip(vn_video *v, const vn_clip_options *clip, const vn_transform_options *tr, vn_dtype dtype,
                       int64_t *shape)
{
    VN_ASSERT_OK(vn_clip_shape(v, clip, tr, dtype, shape));
    size_t n = (size_t)(shape[0] * shape[1] * shape[2] * shape[3]);
    void *buf = malloc(n * vn_dtype_size(dtype));
    vn_tensor t;
    VN_ASSERT_OK(vn_tensor_init(&t, buf, dtype, 4, shape));
    VN_ASSERT_OK(vn_video_read_clip(v, clip, tr, &t));
    return buf;
}

static vn_clip_options one_frame(int64_t start)
{
    vn_clip_options c = VN_CLIP_OPTIONS_INIT;
    c.n_frames = 1;
    c.start = start;
    return c;
}

/* ---- clip indices ------------------------------------------------------------------------- */

START_TEST(clip_indices_follow_the_options)
{
    vn_video *v = vt_open(VT.h264_mp4, 0); /* 300 frames at 25 fps */
    vn_clip_options c = VN_CLIP_OPTIONS_INIT;
    int64_t idx[40];
    c.n_frames = 5;
    c.stride = 4;
    c.start = 10;
    VN_ASSERT_OK(vn_clip_indices(v, &c, idx));
    for (int k = 0; k < 5; k++)
        ck_assert_int_eq(idx[k], 10 + 4 * k);

    c.stride = 0;
    c.target_fps = 12.5; /* every other frame */
    VN_ASSERT_OK(vn_clip_indices(v, &c, idx));
    for (int k = 0; k < 5; k++)
        ck_assert_int_eq(idx[k], 10 + 2 * k);

    c.stride = 30; /* 5 frames 30 apart from 200 run past the end: the last frame repeats */
    c.start = 200;
    VN_ASSERT_OK(vn_clip_indices(v, &c, idx));
    const int64_t want[5] = {200, 230, 260, 290, 299};
    for (int k = 0; k < 5; k++)
        ck_assert_int_eq(idx[k], want[k]);

    c.start = -1; /* random starts fit the clip and follow the seed */
    c.stride = 8;
    c.n_frames = 16;
    int64_t first[8];
    int distinct = 0;
    for (uint64_t seed = 0; seed < 8; seed++) {
        c.seed = seed;
        VN_ASSERT_OK(vn_clip_indices(v, &c, idx));
        ck_assert_int_ge(idx[0], 0);
        ck_assert_int_le(idx[15], 299);
        ck_assert_int_eq(idx[15] - idx[0], 120);
        first[seed] = idx[0];
        int64_t again[16];
        VN_ASSERT_OK(vn_clip_indices(v, &c, again));
        ck_assert_int_eq(again[0], idx[0]);
        distinct += seed == 0 || first[seed] != first[seed - 1];
    }
    ck_assert_int_ge(distinct, 4);

    c.start = 300;
    VN_ASSERT_FAILS(vn_clip_indices(v, &c, idx), VN_ERR_INVALID_ARG);
    c.start = 0;
    c.n_frames = 0;
    VN_ASSERT_FAILS(vn_clip_indices(v, &c, idx), VN_ERR_INVALID_ARG);
    vn_video_destroy(v);

    vn_video *s = vt_open(VT.mpeg4_avi, 0); /* 60 frames: a 40-frame clip at stride 2 cannot fit */
    c = (vn_clip_options)VN_CLIP_OPTIONS_INIT;
    c.n_frames = 40;
    c.stride = 2;
    c.start = -1;
    c.seed = 3;
    VN_ASSERT_OK(vn_clip_indices(s, &c, idx));
    ck_assert_int_eq(idx[0], 0);
    ck_assert_int_eq(idx[29], 58);
    ck_assert_int_eq(idx[30], 59);
    ck_assert_int_eq(idx[39], 59);
    vn_video_destroy(s);
}
END_TEST

START_TEST(fps_sampling_on_vfr_follows_time)
{
    vn_video *v = vt_open(VT.vfr_mkv, 0);
    vn_clip_options c = VN_CLIP_OPTIONS_INIT;
    c.n_frames = 10;
    c.stride = 0;
    c.target_fps = 10; /* every 100 ms */
    c.start = 3;       /* at 120 ms */
    int64_t idx[10];
    VN_ASSERT_OK(vn_clip_indices(v, &c, idx));
    for (int k = 0; k < 10; k++) {
        double t = 0.12 + 0.1 * k;
        int64_t want = 0;
        while (want + 1 < 45 && vt_vfr_units(want + 1) * 0.02 <= t + 1e-9)
            want++;
        ck_assert_msg(idx[k] == want, "sample %d at %.2f s took frame %lld, expected %lld", k, t, (long long)idx[k],
                      (long long)want);
    }
    vn_video_destroy(v);
}
END_TEST

/* ---- transforms (on the lossless fixture, so pixels can be compared exactly) --------------- */

START_TEST(centre_crop_flip_gray_and_float_agree)
{
    vn_video *v = vt_open(VT.ffv1_mkv, 0);
    vn_clip_options c = VN_CLIP_OPTIONS_INIT;
    c.n_frames = 4;
    c.stride = 3;
    c.start = 2;
    int64_t sfull[4], scrop[4], sflip[4], sgray[4], sf[4], sfg[4];
    uint8_t *full = read_clip(v, &c, NULL, VN_DTYPE_U8, sfull);
    ck_assert_int_eq(sfull[0], 4);
    ck_assert_int_eq(sfull[1], VF_H);
    ck_assert_int_eq(sfull[2], VF_W);
    ck_assert_int_eq(sfull[3], 3);

    vn_transform_options tr = VN_TRANSFORM_OPTIONS_INIT;
    tr.crop_size = 64;
    uint8_t *crop = read_clip(v, &c, &tr, VN_DTYPE_U8, scrop);
    ck_assert_int_eq(scrop[1], 64);
    ck_assert_int_eq(scrop[2], 64);
    const int ox = (VF_W - 64) / 2, oy = (VF_H - 64) / 2;
    for (int t = 0; t < 4; t++)
        for (int y = 0; y < 64; y++)
            ck_assert_msg(!memcmp(crop + (((size_t)t * 64 + y) * 64) * 3,
                                  full + (((size_t)t * VF_H + y + oy) * VF_W + ox) * 3, 64 * 3),
                          "centre crop row %d of frame %d differs from the centre of the frame", y, t);

    tr.hflip_prob = 1.0f;
    uint8_t *flip = read_clip(v, &c, &tr, VN_DTYPE_U8, sflip);
    for (int t = 0; t < 4; t++)
        for (int y = 0; y < 64; y++)
            for (int x = 0; x < 64; x++)
                ck_assert(!memcmp(flip + (((size_t)t * 64 + y) * 64 + x) * 3,
                                  crop + (((size_t)t * 64 + y) * 64 + 63 - x) * 3, 3));

    tr.hflip_prob = 0.0f;
    tr.grayscale = 1;
    uint8_t *gray = read_clip(v, &c, &tr, VN_DTYPE_U8, sgray);
    ck_assert_int_eq(sgray[3], 1);
    for (size_t i = 0; i < (size_t)4 * 64 * 64; i++) {
        const uint8_t *p = crop + i * 3;
        ck_assert_int_eq(gray[i], (p[0] * 299 + p[1] * 587 + p[2] * 114 + 500) / 1000);
    }

    tr.grayscale = 0;
    float *f = read_clip(v, &c, &tr, VN_DTYPE_F32, sf);
    ck_assert_int_eq(sf[0], 3);
    ck_assert_int_eq(sf[1], 4);
    ck_assert_int_eq(sf[2], 64);
    ck_assert_int_eq(sf[3], 64);
    for (int ch = 0; ch < 3; ch++)
        for (int t = 0; t < 4; t++)
            for (int i = 0; i < 64 * 64; i++) {
                float want = ((float)crop[((size_t)t * 64 * 64 + i) * 3 + ch] / 255.0f - tr.mean[ch]) / tr.std[ch];
                ck_assert(fabsf(f[((size_t)ch * 4 + t) * 64 * 64 + i] - want) < 1e-5f);
            }
    tr.grayscale = 1;
    float *fg = read_clip(v, &c, &tr, VN_DTYPE_F32, sfg);
    ck_assert_int_eq(sfg[0], 1);
    ck_assert(fabsf(fg[0] - ((float)gray[0] / 255.0f - tr.mean[0]) / tr.std[0]) < 1e-5f);
    free(full);
    free(crop);
    free(flip);
    free(gray);
    free(f);
    free(fg);
    vn_video_destroy(v);
}
END_TEST

START_TEST(resize_and_random_resized_crop)
{
    vn_video *v = vt_open(VT.ffv1_mkv, 0);
    vn_clip_options c = VN_CLIP_OPTIONS_INIT;
    c.n_frames = 3;
    c.stride = 2;
    vn_transform_options tr = VN_TRANSFORM_OPTIONS_INIT;
    int64_t shape[4];
    tr.short_side = 48;
    uint8_t *small = read_clip(v, &c, &tr, VN_DTYPE_U8, shape);
    ck_assert_int_eq(shape[1], 48);
    ck_assert_int_eq(shape[2], 80);
    /* Halving keeps the picture: the red mark (x 0..16, y 32..48) lands at x 0..8, y 16..24. */
    const uint8_t *red = small + ((size_t)20 * 80 + 4) * 3;
    ck_assert_msg(red[0] > 180 && red[1] < 70 && red[2] < 70, "resized red mark is (%d, %d, %d)", red[0], red[1],
                  red[2]);
    free(small);

    tr.short_side = 0;
    tr.crop_size = 128; /* larger than the 96-pixel short side: the picture is scaled up first */
    uint8_t *big = read_clip(v, &c, &tr, VN_DTYPE_U8, shape);
    ck_assert_int_eq(shape[1], 128);
    ck_assert_int_eq(shape[2], 128);
    free(big);

    tr.crop_size = 56;
    tr.random_resized_crop = 1;
    tr.hflip_prob = 0.5f;
    size_t n = 3 * 56 * 56 * 3;
    uint8_t *first = NULL;
    int differs = 0;
    for (uint64_t seed = 1; seed <= 6; seed++) {
        tr.seed = seed;
        uint8_t *a = read_clip(v, &c, &tr, VN_DTYPE_U8, shape);
        uint8_t *b = read_clip(v, &c, &tr, VN_DTYPE_U8, shape);
        ck_assert_int_eq(shape[1], 56);
        ck_assert_int_eq(shape[2], 56);
        ck_assert_msg(!memcmp(a, b, n), "seed %llu gave two different crops", (unsigned long long)seed);
        if (!first)
            first = a;
        else {
            differs += memcmp(a, first, n) != 0;
            free(a);
        }
        free(b);
    }
    ck_assert_int_ge(differs, 4);
    free(first);
    vn_video_destroy(v);
}
END_TEST

START_TEST(strided_outputs_match_contiguous)
{
    vn_video *v = vt_open(VT.h264_mkv, 0);
    vn_clip_options c = VN_CLIP_OPTIONS_INIT;
    c.n_frames = 4;
    c.stride = 5;
    c.start = 20;
    vn_transform_options tr = VN_TRANSFORM_OPTIONS_INIT;
    tr.crop_size = 32;
    int64_t shape[4];
    float *dense = read_clip(v, &c, &tr, VN_DTYPE_F32, shape);
    /* The same clip written into every other element of a bigger buffer, channels reversed. */
    float *sparse = calloc((size_t)2 * 3 * 4 * 32 * 32, sizeof *sparse);
    vn_tensor t = {0};
    t.data = sparse + 2 * 4 * 32 * 32 * 2; /* channel 0 sits at the end */
    t.dtype = VN_DTYPE_F32;
    t.ndim = 4;
    t.shape[0] = 3;
    t.shape[1] = 4;
    t.shape[2] = 32;
    t.shape[3] = 32;
    t.strides[3] = 2;
    t.strides[2] = 64;
    t.strides[1] = 64 * 32;
    t.strides[0] = -64 * 32 * 4;
    VN_ASSERT_OK(vn_video_read_clip(v, &c, &tr, &t));
    for (int ch = 0; ch < 3; ch++)
        for (int i = 0; i < 4 * 32 * 32; i++)
            ck_assert(dense[ch * 4 * 32 * 32 + i] == sparse[(2 - ch) * 4 * 32 * 32 * 2 + 2 * i]);

    int64_t ushape[4];
    uint8_t *u = read_clip(v, &c, NULL, VN_DTYPE_U8, ushape);
    size_t fs = (size_t)VF_H * VF_W * 3;
    uint8_t *pad = calloc(fs * 4 * 2, 1);
    vn_tensor tu = {0};
    tu.data = pad;
    tu.dtype = VN_DTYPE_U8;
    tu.ndim = 4;
    for (int d = 0; d < 4; d++)
        tu.shape[d] = ushape[d];
    tu.strides[3] = 1;
    tu.strides[2] = 3;
    tu.strides[1] = VF_W * 3 * 2; /* rows twice as long */
    tu.strides[0] = (int64_t)fs * 2;
    VN_ASSERT_OK(vn_video_read_clip(v, &c, NULL, &tu));
    for (int k = 0; k < 4; k++)
        for (int y = 0; y < VF_H; y++)
            ck_assert(!memcmp(pad + fs * 2 * k + (size_t)y * VF_W * 6, u + fs * k + (size_t)y * VF_W * 3,
                              (size_t)VF_W * 3));
    free(u);
    free(pad);
    free(dense);
    free(sparse);
    vn_video_destroy(v);
}
END_TEST

START_TEST(wrong_shapes_name_expected_and_actual)
{
    vn_video *v = vt_open(VT.mpeg4_avi, 0);
    uint8_t buf[16];
    int64_t idx[2] = {0, 1};
    vn_tensor t;
    int64_t bad[4] = {2, VF_H, VF_W, 4};
    vn_tensor_init(&t, buf, VN_DTYPE_U8, 4, bad);
    VN_ASSERT_FAILS(vn_video_read_frames(v, idx, 2, &t), VN_ERR_SHAPE);
    ck_assert_msg(strstr(vn_last_error(), "[2, 96, 160, 4]") && strstr(vn_last_error(), "[2, 96, 160, 3]"),
                  "message: %s", vn_last_error());
    int64_t f32[4] = {2, VF_H, VF_W, 3};
    vn_tensor_init(&t, buf, VN_DTYPE_F32, 4, f32);
    VN_ASSERT_FAILS(vn_video_read_frames(v, idx, 2, &t), VN_ERR_SHAPE);
    vn_clip_options c = one_frame(0);
    int64_t cthw[4] = {3, 1, VF_H, VF_W + 1};
    vn_tensor_init(&t, buf, VN_DTYPE_F32, 4, cthw);
    VN_ASSERT_FAILS(vn_video_read_clip(v, &c, NULL, &t), VN_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(vn_last_error(), "expected [3, 1, 96, 160]"));
    vn_tensor_init(&t, buf, VN_DTYPE_I32, 4, cthw);
    VN_ASSERT_FAILS(vn_video_read_clip(v, &c, NULL, &t), VN_ERR_INVALID_ARG);
    int64_t out_of_range = 60;
    int64_t one[4] = {1, VF_H, VF_W, 3};
    uint8_t *frame = malloc((size_t)VF_W * VF_H * 3);
    vn_tensor_init(&t, frame, VN_DTYPE_U8, 4, one);
    VN_ASSERT_FAILS(vn_video_read_frames(v, &out_of_range, 1, &t), VN_ERR_INVALID_ARG);
    double nan_time = NAN;
    VN_ASSERT_FAILS(vn_video_read_times(v, &nan_time, 1, &t), VN_ERR_INVALID_ARG);
    free(frame);
    vn_video_destroy(v);
}
END_TEST

/* ---- writer -------------------------------------------------------------------------------- */

static int count_partials(const char *base)
{
    DIR *d = opendir(vn_test_tmpdir());
    int n = 0;
    struct dirent *e;
    size_t len = strlen(base);
    while (d && (e = readdir(d)))
        n += !strncmp(e->d_name, base, len) && strstr(e->d_name, ".part-") != NULL;
    if (d)
        closedir(d);
    return n;
}

START_TEST(writer_moves_the_file_into_place_on_finish)
{
    char *path = vf_path("w_finish.mp4");
    vn_video_writer_options o = VN_VIDEO_WRITER_OPTIONS_INIT;
    o.width = VF_W;
    o.height = VF_H;
    vn_video_writer *w = NULL;
    VN_ASSERT_OK(vn_video_writer_create(&w, path, &o));
    uint8_t *rgb = malloc((size_t)VF_W * VF_H * 3 * 5);
    for (int i = 0; i < 5; i++)
        vf_pattern(rgb + (size_t)VF_W * VF_H * 3 * i, VF_W, VF_H, i);
    int64_t shape[4] = {5, VF_H, VF_W, 3};
    vn_tensor t;
    vn_tensor_init(&t, rgb, VN_DTYPE_U8, 4, shape);
    VN_ASSERT_OK(vn_video_writer_write(w, &t));
    ck_assert_int_ne(access(path, F_OK), 0);
    ck_assert_int_eq(count_partials("w_finish.mp4"), 1);
    int64_t wrong[3] = {VF_H, VF_W, 4};
    vn_tensor tw;
    vn_tensor_init(&tw, rgb, VN_DTYPE_U8, 3, wrong);
    VN_ASSERT_FAILS(vn_video_writer_write(w, &tw), VN_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(vn_last_error(), "[96, 160, 4]"));
    VN_ASSERT_OK(vn_video_writer_finish(w));
    ck_assert_int_eq(access(path, F_OK), 0);
    ck_assert_int_eq(count_partials("w_finish.mp4"), 0);
    VN_ASSERT_FAILS(vn_video_writer_write(w, &t), VN_ERR_STATE);
    VN_ASSERT_FAILS(vn_video_writer_finish(w), VN_ERR_STATE);
    vn_video_writer_destroy(w);
    ck_assert_int_eq(access(path, F_OK), 0);

    vn_video *v = vt_open(path, 0);
    vn_video_info info = vt_info(v);
    const char *enc;
    VN_ASSERT_OK(vn_video_codec_resolve(VN_CODEC_AUTO, &enc));
    ck_assert_str_eq(info.codec, !strcmp(enc, "libx264") ? "h264" : "mpeg4");
    ck_assert_int_eq(info.n_frames, 5);
    int64_t idx[5] = {4, 3, 2, 1, 0};
    uint8_t *got = vt_read(v, idx, 5);
    for (int k = 0; k < 5; k++)
        ck_assert_int_eq(vt_index_of(got, &info, k), 4 - k);
    free(got);
    vn_video_destroy(v);

    char *gone = vf_path("w_abandoned.mkv");
    VN_ASSERT_OK(vn_video_writer_create(&w, gone, &o));
    VN_ASSERT_OK(vn_video_writer_write(w, &t));
    ck_assert_int_eq(count_partials("w_abandoned.mkv"), 1);
    vn_video_writer_destroy(w);
    ck_assert_int_eq(count_partials("w_abandoned.mkv"), 0);
    ck_assert_int_ne(access(gone, F_OK), 0);
    free(gone);
    free(rgb);
    free(path);
}
END_TEST

START_TEST(writer_gray_and_codec_choices)
{
    vn_video_writer_options o = VN_VIDEO_WRITER_OPTIONS_INIT;
    o.width = 64;
    o.height = 48;
    o.channels = 1;
    uint8_t gray[10][48][64];
    for (int i = 0; i < 10; i++)
        for (int y = 0; y < 48; y++)
            for (int x = 0; x < 64; x++)
                gray[i][y][x] = (uint8_t)(16 + x * 2 + y + i * 3); /* smooth, no wrap-around */
    int64_t shape[4] = {10, 48, 64, 1};
    vn_tensor t;
    vn_tensor_init(&t, gray, VN_DTYPE_U8, 4, shape);
    const vn_video_codec codecs[2] = {VN_CODEC_FFV1, VN_CODEC_AUTO};
    for (int k = 0; k < 2; k++) {
        char *path = vf_path(k ? "gray.mp4" : "gray.mkv");
        o.codec = codecs[k];
        vn_video_writer *w = NULL;
        VN_ASSERT_OK(vn_video_writer_create(&w, path, &o));
        VN_ASSERT_OK(vn_video_writer_write(w, &t));
        VN_ASSERT_OK(vn_video_writer_finish(w));
        vn_video_writer_destroy(w);
        vn_video *v = vt_open(path, 0);
        int64_t idx[10];
        for (int i = 0; i < 10; i++)
            idx[i] = 9 - i;
        uint8_t *got = vt_read(v, idx, 10);
        int max_err = 0;
        for (int i = 0; i < 10; i++)
            for (int p = 0; p < 48 * 64; p++) {
                const uint8_t *q = got + ((size_t)i * 48 * 64 + p) * 3;
                int want = gray[9 - i][p / 64][p % 64];
                ck_assert(q[0] == q[1] && q[1] == q[2]);
                max_err = abs(q[0] - want) > max_err ? abs(q[0] - want) : max_err;
            }
        /* ffv1 is lossless; lossy h264 on a smooth ramp stays close. */
        ck_assert_msg(max_err <= (k ? 6 : 0), "%s: gray round trip max error %d", path, max_err);
        free(got);
        vn_video_destroy(v);
        free(path);
    }

    vn_video_writer *w = (vn_video_writer *)0x1;
    o.channels = 3;
    char *p = vf_path("x.webm");
    o.codec = VN_CODEC_H264;
    VN_ASSERT_FAILS(vn_video_writer_create(&w, p, &o), VN_ERR_UNSUPPORTED);
    ck_assert_ptr_null(w);
    char *q = vf_path("x.mp4");
    o.codec = VN_CODEC_FFV1;
    VN_ASSERT_FAILS(vn_video_writer_create(&w, q, &o), VN_ERR_UNSUPPORTED);
    o.codec = VN_CODEC_H264;
    o.width = 63;
    VN_ASSERT_FAILS(vn_video_writer_create(&w, q, &o), VN_ERR_INVALID_ARG);
    char *r = vf_path("x.xyz");
    o.width = 64;
    VN_ASSERT_FAILS(vn_video_writer_create(&w, r, &o), VN_ERR_INVALID_ARG);
    char *nodir = vf_path("no/such/dir/x.mkv");
    VN_ASSERT_FAILS(vn_video_writer_create(&w, nodir, &o), VN_ERR_NOT_FOUND);
    free(p);
    free(q);
    free(r);
    free(nodir);
}
END_TEST

/* ---- CLI --------------------------------------------------------------------------------------- */

static char *slurp(const char *path)
{
    uint8_t *d;
    size_t n;
    ck_assert_int_eq(vf_read_file(path, &d, &n), 0);
    char *s = realloc(d, n + 1);
    s[n] = '\0';
    return s;
}

START_TEST(cli_probe_and_frames)
{
    const char *cli = getenv("VN_CLI");
    ck_assert_msg(cli != NULL, "VN_CLI is not set (run through meson test)");
    char *out = vf_path("cli_out.txt"), *npy = vf_path("cli.npy");
    const char *probe[] = {cli, "probe-video", "--json", VT.h264_mp4, NULL};
    ck_assert_int_eq(vf_run_to(probe, out), 0);
    char *json = slurp(out);
    ck_assert_msg(strstr(json, "\"n_frames\":300") && strstr(json, "\"keyframes\":[0,250]") &&
                      strstr(json, "\"n_frames_exact\":true") && strstr(json, "\"codec\":\"h264\""),
                  "probe-video --json printed: %s", json);
    free(json);
    const char *text[] = {cli, "probe-video", VT.rot_a_mp4, NULL};
    ck_assert_int_eq(vf_run_to(text, out), 0);
    json = slurp(out);
    ck_assert_msg(strstr(json, "96x160") && strstr(json, "270 degrees"), "probe-video printed: %s", json);
    free(json);

    const char *frames[] = {cli, "frames", VT.h264_mp4, "--num", "8", "--stride", "3", "--start", "20", "--reverse",
                            "--out", npy, NULL};
    ck_assert_int_eq(vf_run_to(frames, out), 0);
    vn_npy_array a;
    char err[256];
    ck_assert_msg(vn_npy_read(npy, &a, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(a.dtype, VN_NPY_U8);
    ck_assert_int_eq(a.ndim, 4);
    ck_assert_int_eq(a.shape[0], 8);
    ck_assert_int_eq(a.shape[1], VF_H);
    ck_assert_int_eq(a.shape[2], VF_W);
    ck_assert_int_eq(a.shape[3], 3);
    vn_video *v = vt_open(VT.h264_mp4, 0);
    vn_video_info info = vt_info(v);
    vn_clip_options c = VN_CLIP_OPTIONS_INIT;
    c.n_frames = 8;
    c.stride = 3;
    c.start = 20;
    c.reverse = 1;
    int64_t shape[4];
    uint8_t *api = read_clip(v, &c, NULL, VN_DTYPE_U8, shape);
    ck_assert(!memcmp(api, a.data, a.nbytes));
    for (int k = 0; k < 8; k++)
        ck_assert_int_eq(vt_index_of(a.data, &info, k), 20 + 3 * (7 - k));
    free(api);
    vn_npy_free(&a);

    const char *sized[] = {cli, "frames", VT.h264_mp4, "--num", "2", "--stride", "1", "--size", "48", "--float",
                           "--out", npy, NULL};
    ck_assert_int_eq(vf_run_to(sized, out), 0);
    ck_assert_int_eq(vn_npy_read(npy, &a, err, sizeof err), 0);
    ck_assert_int_eq(a.dtype, VN_NPY_F32);
    ck_assert_int_eq(a.shape[0], 3);
    ck_assert_int_eq(a.shape[1], 2);
    ck_assert_int_eq(a.shape[2], 48);
    ck_assert_int_eq(a.shape[3], 80);
    vn_npy_free(&a);

    const char *missing[] = {cli, "frames", "/nonexistent.mp4", "--num", "2", "--stride", "1", "--out", npy, NULL};
    ck_assert_int_eq(vf_run_to(missing, out), 1);
    const char *noargs[] = {cli, "frames", VT.h264_mp4, NULL};
    ck_assert_int_eq(vf_run_to(noargs, out), 2);
    const char *badnum[] = {cli, "frames", VT.h264_mp4, "--num", "x", "--stride", "1", "--out", npy, NULL};
    ck_assert_int_eq(vf_run_to(badnum, out), 2);
    const char *badprobe[] = {cli, "probe-video", VT.audio_m4a, NULL};
    ck_assert_int_eq(vf_run_to(badprobe, out), 1);
    vn_video_destroy(v);
    free(out);
    free(npy);
}
END_TEST

START_TEST(npy_round_trip)
{
    char *p = vf_path("rt.npy");
    float data[2 * 3 * 5];
    for (int i = 0; i < 30; i++)
        data[i] = (float)i * 0.5f - 3.0f;
    int64_t shape[3] = {2, 3, 5};
    char err[256];
    ck_assert_int_eq(vn_npy_write(p, VN_NPY_F32, 3, shape, data, err, sizeof err), 0);
    uint8_t *raw;
    size_t n;
    ck_assert_int_eq(vf_read_file(p, &raw, &n), 0);
    ck_assert_uint_eq((n - 30 * 4) % 64, 0); /* the header pads to 64 bytes */
    ck_assert(memmem(raw, n, "'shape': (2, 3, 5)", 18) != NULL);
    free(raw);
    vn_npy_array a;
    ck_assert_int_eq(vn_npy_read(p, &a, err, sizeof err), 0);
    ck_assert_int_eq(a.ndim, 3);
    ck_assert(!memcmp(a.data, data, sizeof data));
    vn_npy_free(&a);
    int64_t one = 7;
    uint8_t bytes[7] = {1, 2, 3, 4, 5, 6, 7};
    ck_assert_int_eq(vn_npy_write(p, VN_NPY_U8, 1, &one, bytes, err, sizeof err), 0);
    ck_assert_int_eq(vn_npy_read(p, &a, err, sizeof err), 0);
    ck_assert_int_eq(a.ndim, 1);
    ck_assert_int_eq(a.shape[0], 7);
    vn_npy_free(&a);
    ck_assert_int_eq(vf_write_file(p, "\x93NUMPY\x01\x00\x10\x00{'descr'", 17), 0);
    ck_assert_int_eq(vn_npy_read(p, &a, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "truncated"));
    free(p);
}
END_TEST

void vt_add_clip_tests(Suite *s)
{
    TCase *tc = tcase_create("clip");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, clip_indices_follow_the_options);
    tcase_add_test(tc, fps_sampling_on_vfr_follows_time);
    tcase_add_test(tc, centre_crop_flip_gray_and_float_agree);
    tcase_add_test(tc, resize_and_random_resized_crop);
    tcase_add_test(tc, strided_outputs_match_contiguous);
    tcase_add_test(tc, wrong_shapes_name_expected_and_actual);
    tcase_add_test(tc, writer_moves_the_file_into_place_on_finish);
    tcase_add_test(tc, writer_gray_and_codec_choices);
    tcase_add_test(tc, cli_probe_and_frames);
    tcase_add_test(tc, npy_round_trip);
    suite_add_tcase(s, tc);
}
