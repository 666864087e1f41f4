/*
 * Bad-argument checks for the public functions of video.h and loader.h.
 * Part of the api_errors suite: test_api_errors.c finds entries here by name.
 */
#include "vn_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*api_check_fn)(void);

typedef struct api_entry {
    const char *name;
    api_check_fn check;
} api_entry;

/* ---- video.h ------------------------------------------------------------------------ */

/* A small lossless video written once per process with the writer, for the checks
 * that need an open handle. */
static const char *io_test_video_path(void)
{
    static char path[600];
    if (path[0])
        return path;
    snprintf(path, sizeof path, "%s/api_errors_video.mkv", vn_test_tmpdir());
    vn_video_writer_options o = VN_VIDEO_WRITER_OPTIONS_INIT;
    o.width = 32;
    o.height = 16;
    o.codec = VN_CODEC_FFV1;
    vn_video_writer *w = NULL;
    VN_ASSERT_OK(vn_video_writer_create(&w, path, &o));
    uint8_t frames[4][16][32][3] = {{{{0}}}};
    int64_t shape[4] = {4, 16, 32, 3};
    vn_tensor t;
    VN_ASSERT_OK(vn_tensor_init(&t, frames, VN_DTYPE_U8, 4, shape));
    VN_ASSERT_OK(vn_video_writer_write(w, &t));
    VN_ASSERT_OK(vn_video_writer_finish(w));
    vn_video_writer_destroy(w);
    return path;
}

static vn_video *io_test_video(void)
{
    vn_video *v = NULL;
    VN_ASSERT_OK(vn_video_create(&v, io_test_video_path(), NULL));
    return v;
}

static void c_vn_video_open_options_init(void)
{
    vn_video_open_options o;
    VN_ASSERT_OPTIONS_INIT(vn_video_open_options_init, o, VN_VIDEO_OPEN_OPTIONS_VERSION);
    ck_assert_int_eq(o.approximate, 0);
}

static void c_vn_video_create(void)
{
    vn_video *v = (vn_video *)0x1;
    vn_video_open_options o = VN_VIDEO_OPEN_OPTIONS_INIT;
    VN_ASSERT_FAILS(vn_video_create(NULL, io_test_video_path(), &o), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_video_create(&v, NULL, &o), VN_ERR_INVALID_ARG);
    ck_assert_ptr_null(v);
    VN_ASSERT_FAILS(vn_video_create(&v, "", &o), VN_ERR_INVALID_ARG);
    o.version = 0;
    VN_ASSERT_FAILS(vn_video_create(&v, io_test_video_path(), &o), VN_ERR_VERSION);
    o.version = VN_VIDEO_OPEN_OPTIONS_VERSION;
    o.n_threads = -1;
    VN_ASSERT_FAILS(vn_video_create(&v, io_test_video_path(), &o), VN_ERR_INVALID_ARG);
    o.n_threads = 0;
    o.timeout_s = -1;
    VN_ASSERT_FAILS(vn_video_create(&v, io_test_video_path(), &o), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_video_create(&v, "/nonexistent/dir/clip.mp4", NULL), VN_ERR_NOT_FOUND);
}

static void c_vn_video_create_from_memory(void)
{
    vn_video *v = (vn_video *)0x1;
    const char junk[64] = "not a video at all, just some bytes";
    VN_ASSERT_FAILS(vn_video_create_from_memory(NULL, junk, sizeof junk, NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_video_create_from_memory(&v, NULL, 10, NULL), VN_ERR_INVALID_ARG);
    ck_assert_ptr_null(v);
    VN_ASSERT_FAILS(vn_video_create_from_memory(&v, junk, 0, NULL), VN_ERR_FORMAT);
    VN_ASSERT_FAILS(vn_video_create_from_memory(&v, junk, sizeof junk, NULL), VN_ERR_FORMAT);
    vn_video_open_options o = VN_VIDEO_OPEN_OPTIONS_INIT;
    o.version = 99;
    VN_ASSERT_FAILS(vn_video_create_from_memory(&v, junk, sizeof junk, &o), VN_ERR_VERSION);
}

static void c_vn_video_destroy(void)
{
    vn_video_destroy(NULL);
}

static void c_vn_video_get_info(void)
{
    vn_video_info info = VN_VIDEO_INFO_INIT;
    VN_ASSERT_FAILS(vn_video_get_info(NULL, &info), VN_ERR_INVALID_ARG);
    vn_video *v = io_test_video();
    VN_ASSERT_FAILS(vn_video_get_info(v, NULL), VN_ERR_INVALID_ARG);
    info.version = 0;
    VN_ASSERT_FAILS(vn_video_get_info(v, &info), VN_ERR_VERSION);
    info.version = VN_VIDEO_INFO_VERSION;
    VN_ASSERT_OK(vn_video_get_info(v, &info));
    ck_assert_int_eq(info.n_frames, 4);
    vn_video_destroy(v);
}

static void c_vn_video_frame_time(void)
{
    double t;
    VN_ASSERT_FAILS(vn_video_frame_time(NULL, 0, &t), VN_ERR_INVALID_ARG);
    vn_video *v = io_test_video();
    VN_ASSERT_FAILS(vn_video_frame_time(v, 0, NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_video_frame_time(v, -1, &t), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_video_frame_time(v, 4, &t), VN_ERR_INVALID_ARG);
    vn_video_destroy(v);
    vn_video_open_options o = VN_VIDEO_OPEN_OPTIONS_INIT;
    o.approximate = 1;
    VN_ASSERT_OK(vn_video_create(&v, io_test_video_path(), &o));
    VN_ASSERT_FAILS(vn_video_frame_time(v, 0, &t), VN_ERR_STATE);
    vn_video_destroy(v);
}

static void c_vn_video_frame_at_time(void)
{
    int64_t i;
    VN_ASSERT_FAILS(vn_video_frame_at_time(NULL, 0.0, &i), VN_ERR_INVALID_ARG);
    vn_video *v = io_test_video();
    VN_ASSERT_FAILS(vn_video_frame_at_time(v, 0.0, NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_video_frame_at_time(v, 0.0 / 0.0, &i), VN_ERR_INVALID_ARG);
    vn_video_destroy(v);
}

static void c_vn_video_keyframes(void)
{
    int64_t k[4], n;
    VN_ASSERT_FAILS(vn_video_keyframes(NULL, k, 4, &n), VN_ERR_INVALID_ARG);
    vn_video *v = io_test_video();
    VN_ASSERT_FAILS(vn_video_keyframes(v, k, 4, NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_video_keyframes(v, NULL, 4, &n), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_video_keyframes(v, k, -1, &n), VN_ERR_INVALID_ARG);
    VN_ASSERT_OK(vn_video_keyframes(v, NULL, 0, &n));
    vn_video_destroy(v);
}

static void c_vn_video_read_frames(void)
{
    uint8_t buf[2 * 16 * 32 * 3];
    int64_t idx[2] = {0, 3}, shape[4] = {2, 16, 32, 3};
    vn_tensor t;
    VN_ASSERT_OK(vn_tensor_init(&t, buf, VN_DTYPE_U8, 4, shape));
    VN_ASSERT_FAILS(vn_video_read_frames(NULL, idx, 2, &t), VN_ERR_INVALID_ARG);
    vn_video *v = io_test_video();
    VN_ASSERT_FAILS(vn_video_read_frames(v, NULL, 2, &t), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_video_read_frames(v, idx, 2, NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_video_read_frames(v, idx, -2, &t), VN_ERR_INVALID_ARG);
    idx[1] = 4;
    VN_ASSERT_FAILS(vn_video_read_frames(v, idx, 2, &t), VN_ERR_INVALID_ARG);
    idx[1] = 3;
    t.shape[3] = 1;
    VN_ASSERT_FAILS(vn_video_read_frames(v, idx, 2, &t), VN_ERR_SHAPE);
    t.shape[3] = 3;
    VN_ASSERT_OK(vn_video_read_frames(v, idx, 2, &t));
    vn_video_destroy(v);
}

static void c_vn_video_read_times(void)
{
    uint8_t buf[16 * 32 * 3];
    double ts[1] = {0.0};
    int64_t shape[4] = {1, 16, 32, 3};
    vn_tensor t;
    VN_ASSERT_OK(vn_tensor_init(&t, buf, VN_DTYPE_U8, 4, shape));
    VN_ASSERT_FAILS(vn_video_read_times(NULL, ts, 1, &t), VN_ERR_INVALID_ARG);
    vn_video *v = io_test_video();
    VN_ASSERT_FAILS(vn_video_read_times(v, NULL, 1, &t), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_video_read_times(v, ts, 1, NULL), VN_ERR_INVALID_ARG);
    ts[0] = 0.0 / 0.0;
    VN_ASSERT_FAILS(vn_video_read_times(v, ts, 1, &t), VN_ERR_INVALID_ARG);
    ts[0] = 0.05;
    shape[0] = 2;
    VN_ASSERT_OK(vn_tensor_init(&t, buf, VN_DTYPE_U8, 4, shape));
    VN_ASSERT_FAILS(vn_video_read_times(v, ts, 1, &t), VN_ERR_SHAPE);
    vn_video_destroy(v);
}

static void c_vn_clip_options_init(void)
{
    vn_clip_options o;
    VN_ASSERT_OPTIONS_INIT(vn_clip_options_init, o, VN_CLIP_OPTIONS_VERSION);
    ck_assert_int_eq(o.n_frames, 16);
}

static void c_vn_clip_indices(void)
{
    int64_t idx[16];
    vn_clip_options c = VN_CLIP_OPTIONS_INIT;
    VN_ASSERT_FAILS(vn_clip_indices(NULL, &c, idx), VN_ERR_INVALID_ARG);
    vn_video *v = io_test_video();
    VN_ASSERT_FAILS(vn_clip_indices(v, NULL, idx), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_clip_indices(v, &c, NULL), VN_ERR_INVALID_ARG);
    c.version = 0;
    VN_ASSERT_FAILS(vn_clip_indices(v, &c, idx), VN_ERR_VERSION);
    c.version = VN_CLIP_OPTIONS_VERSION;
    c.n_frames = 0;
    VN_ASSERT_FAILS(vn_clip_indices(v, &c, idx), VN_ERR_INVALID_ARG);
    c.n_frames = 4;
    c.stride = -1;
    VN_ASSERT_FAILS(vn_clip_indices(v, &c, idx), VN_ERR_INVALID_ARG);
    c.stride = 0;
    c.target_fps = 0;
    VN_ASSERT_FAILS(vn_clip_indices(v, &c, idx), VN_ERR_INVALID_ARG);
    c.stride = 1;
    c.start = -2;
    VN_ASSERT_FAILS(vn_clip_indices(v, &c, idx), VN_ERR_INVALID_ARG);
    c.start = 4;
    VN_ASSERT_FAILS(vn_clip_indices(v, &c, idx), VN_ERR_INVALID_ARG);
    vn_video_destroy(v);
}

static void c_vn_transform_options_init(void)
{
    vn_transform_options o;
    VN_ASSERT_OPTIONS_INIT(vn_transform_options_init, o, VN_TRANSFORM_OPTIONS_VERSION);
    ck_assert(o.rrc_scale[0] == 0.3f && o.rrc_ratio[1] == 1.35f);
}

static void c_vn_clip_shape(void)
{
    int64_t shape[4];
    vn_clip_options c = VN_CLIP_OPTIONS_INIT;
    vn_transform_options tf = VN_TRANSFORM_OPTIONS_INIT;
    VN_ASSERT_FAILS(vn_clip_shape(NULL, &c, NULL, VN_DTYPE_U8, shape), VN_ERR_INVALID_ARG);
    vn_video *v = io_test_video();
    VN_ASSERT_FAILS(vn_clip_shape(v, NULL, NULL, VN_DTYPE_U8, shape), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_clip_shape(v, &c, NULL, VN_DTYPE_U8, NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_clip_shape(v, &c, NULL, VN_DTYPE_I64, shape), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_clip_shape(v, &c, NULL, (vn_dtype)77, shape), VN_ERR_INVALID_ARG);
    tf.version = 0;
    VN_ASSERT_FAILS(vn_clip_shape(v, &c, &tf, VN_DTYPE_U8, shape), VN_ERR_VERSION);
    tf.version = VN_TRANSFORM_OPTIONS_VERSION;
    tf.random_resized_crop = 1; /* without crop_size */
    VN_ASSERT_FAILS(vn_clip_shape(v, &c, &tf, VN_DTYPE_U8, shape), VN_ERR_INVALID_ARG);
    tf.crop_size = 8;
    tf.rrc_scale[0] = 0.0f;
    VN_ASSERT_FAILS(vn_clip_shape(v, &c, &tf, VN_DTYPE_U8, shape), VN_ERR_INVALID_ARG);
    tf.rrc_scale[0] = 0.3f;
    tf.rrc_ratio[0] = 2.0f;
    VN_ASSERT_FAILS(vn_clip_shape(v, &c, &tf, VN_DTYPE_U8, shape), VN_ERR_INVALID_ARG);
    tf.rrc_ratio[0] = 0.75f;
    tf.hflip_prob = 1.5f;
    VN_ASSERT_FAILS(vn_clip_shape(v, &c, &tf, VN_DTYPE_U8, shape), VN_ERR_INVALID_ARG);
    tf.hflip_prob = 0.5f;
    tf.std[1] = 0.0f;
    VN_ASSERT_FAILS(vn_clip_shape(v, &c, &tf, VN_DTYPE_F32, shape), VN_ERR_INVALID_ARG);
    tf.std[1] = 0.2f;
    tf.short_side = -3;
    VN_ASSERT_FAILS(vn_clip_shape(v, &c, &tf, VN_DTYPE_U8, shape), VN_ERR_INVALID_ARG);
    tf.short_side = 0;
    VN_ASSERT_OK(vn_clip_shape(v, &c, &tf, VN_DTYPE_F32, shape));
    ck_assert(shape[0] == 3 && shape[1] == 16 && shape[2] == 8 && shape[3] == 8);
    vn_video_destroy(v);
}

static void c_vn_video_read_clip(void)
{
    float buf[3 * 2 * 16 * 32];
    vn_clip_options c = VN_CLIP_OPTIONS_INIT;
    c.n_frames = 2;
    int64_t shape[4] = {3, 2, 16, 32};
    vn_tensor t;
    VN_ASSERT_OK(vn_tensor_init(&t, buf, VN_DTYPE_F32, 4, shape));
    VN_ASSERT_FAILS(vn_video_read_clip(NULL, &c, NULL, &t), VN_ERR_INVALID_ARG);
    vn_video *v = io_test_video();
    VN_ASSERT_FAILS(vn_video_read_clip(v, NULL, NULL, &t), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_video_read_clip(v, &c, NULL, NULL), VN_ERR_INVALID_ARG);
    c.n_frames = 3;
    VN_ASSERT_FAILS(vn_video_read_clip(v, &c, NULL, &t), VN_ERR_SHAPE);
    c.n_frames = 2;
    t.dtype = VN_DTYPE_BF16;
    VN_ASSERT_FAILS(vn_video_read_clip(v, &c, NULL, &t), VN_ERR_INVALID_ARG);
    t.dtype = VN_DTYPE_F32;
    t.data = NULL;
    VN_ASSERT_FAILS(vn_video_read_clip(v, &c, NULL, &t), VN_ERR_INVALID_ARG);
    t.data = buf;
    VN_ASSERT_OK(vn_video_read_clip(v, &c, NULL, &t));
    vn_video_destroy(v);
}

static void c_vn_video_writer_options_init(void)
{
    vn_video_writer_options o;
    VN_ASSERT_OPTIONS_INIT(vn_video_writer_options_init, o, VN_VIDEO_WRITER_OPTIONS_VERSION);
    ck_assert_int_eq(o.bframes, -1);
}

static void c_vn_video_writer_create(void)
{
    char path[600];
    snprintf(path, sizeof path, "%s/api_errors_writer.mkv", vn_test_tmpdir());
    vn_video_writer *w = (vn_video_writer *)0x1;
    vn_video_writer_options o = VN_VIDEO_WRITER_OPTIONS_INIT;
    o.width = 32;
    o.height = 16;
    VN_ASSERT_FAILS(vn_video_writer_create(NULL, path, &o), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_video_writer_create(&w, NULL, &o), VN_ERR_INVALID_ARG);
    ck_assert_ptr_null(w);
    VN_ASSERT_FAILS(vn_video_writer_create(&w, path, NULL), VN_ERR_INVALID_ARG);
    o.version = 0;
    VN_ASSERT_FAILS(vn_video_writer_create(&w, path, &o), VN_ERR_VERSION);
    o.version = VN_VIDEO_WRITER_OPTIONS_VERSION;
    o.width = 0;
    VN_ASSERT_FAILS(vn_video_writer_create(&w, path, &o), VN_ERR_INVALID_ARG);
    o.width = 32;
    o.channels = 2;
    VN_ASSERT_FAILS(vn_video_writer_create(&w, path, &o), VN_ERR_INVALID_ARG);
    o.channels = 3;
    o.fps = 0;
    VN_ASSERT_FAILS(vn_video_writer_create(&w, path, &o), VN_ERR_INVALID_ARG);
    o.fps = 25;
    o.codec = (vn_video_codec)9;
    VN_ASSERT_FAILS(vn_video_writer_create(&w, path, &o), VN_ERR_INVALID_ARG);
    o.codec = VN_CODEC_AUTO;
    o.gop = -1;
    VN_ASSERT_FAILS(vn_video_writer_create(&w, path, &o), VN_ERR_INVALID_ARG);
    o.gop = 0;
    o.bframes = -2;
    VN_ASSERT_FAILS(vn_video_writer_create(&w, path, &o), VN_ERR_INVALID_ARG);
    o.bframes = -1;
    VN_ASSERT_FAILS(vn_video_writer_create(&w, "no-extension", &o), VN_ERR_INVALID_ARG);
}

static void c_vn_video_writer_write(void)
{
    uint8_t px[16 * 32 * 3] = {0};
    int64_t shape[3] = {16, 32, 3};
    vn_tensor t;
    VN_ASSERT_OK(vn_tensor_init(&t, px, VN_DTYPE_U8, 3, shape));
    VN_ASSERT_FAILS(vn_video_writer_write(NULL, &t), VN_ERR_INVALID_ARG);
    char path[600];
    snprintf(path, sizeof path, "%s/api_errors_write.mkv", vn_test_tmpdir());
    vn_video_writer_options o = VN_VIDEO_WRITER_OPTIONS_INIT;
    o.width = 32;
    o.height = 16;
    o.codec = VN_CODEC_FFV1;
    vn_video_writer *w = NULL;
    VN_ASSERT_OK(vn_video_writer_create(&w, path, &o));
    VN_ASSERT_FAILS(vn_video_writer_write(w, NULL), VN_ERR_INVALID_ARG);
    t.shape[1] = 31;
    VN_ASSERT_FAILS(vn_video_writer_write(w, &t), VN_ERR_SHAPE);
    t.shape[1] = 32;
    t.dtype = VN_DTYPE_F32;
    VN_ASSERT_FAILS(vn_video_writer_write(w, &t), VN_ERR_SHAPE);
    t.dtype = VN_DTYPE_U8;
    t.data = NULL;
    VN_ASSERT_FAILS(vn_video_writer_write(w, &t), VN_ERR_INVALID_ARG);
    vn_video_writer_destroy(w);
}

static void c_vn_video_writer_finish(void)
{
    VN_ASSERT_FAILS(vn_video_writer_finish(NULL), VN_ERR_INVALID_ARG);
    char path[600];
    snprintf(path, sizeof path, "%s/api_errors_finish.mkv", vn_test_tmpdir());
    vn_video_writer_options o = VN_VIDEO_WRITER_OPTIONS_INIT;
    o.width = 32;
    o.height = 16;
    o.codec = VN_CODEC_FFV1;
    vn_video_writer *w = NULL;
    VN_ASSERT_OK(vn_video_writer_create(&w, path, &o));
    VN_ASSERT_OK(vn_video_writer_finish(w));
    VN_ASSERT_FAILS(vn_video_writer_finish(w), VN_ERR_STATE);
    vn_video_writer_destroy(w);
}

static void c_vn_video_writer_destroy(void)
{
    vn_video_writer_destroy(NULL);
}

static void c_vn_video_codec_resolve(void)
{
    const char *name = NULL;
    VN_ASSERT_FAILS(vn_video_codec_resolve(VN_CODEC_AUTO, NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_video_codec_resolve((vn_video_codec)-1, &name), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_video_codec_resolve((vn_video_codec)5, &name), VN_ERR_INVALID_ARG);
    VN_ASSERT_OK(vn_video_codec_resolve(VN_CODEC_AUTO, &name));
    ck_assert(!strcmp(name, "libx264") || !strcmp(name, "mpeg4"));
}

/* ---- loader.h ----------------------------------------------------------------------- */

/* A loader over a one-row manifest. A crop fixes the batch shape, so the video named in
 * the row is never opened and need not exist. */
static vn_loader *io_test_loader(void)
{
    char path[600];
    snprintf(path, sizeof path, "%s/api_errors_loader.csv", vn_test_tmpdir());
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("never-opened.mp4,1\n", f);
    fclose(f);
    vn_transform_options tf = VN_TRANSFORM_OPTIONS_INIT;
    tf.crop_size = 8;
    vn_loader_options o = VN_LOADER_OPTIONS_INIT;
    o.source = path;
    o.transform = &tf;
    vn_loader *L = NULL;
    VN_ASSERT_OK(vn_loader_create(&L, &o));
    return L;
}

static void c_vn_loader_options_init(void)
{
    vn_loader_options o;
    VN_ASSERT_OPTIONS_INIT(vn_loader_options_init, o, VN_LOADER_OPTIONS_VERSION);
    ck_assert_int_eq(o.batch_size, 8);
}

static void c_vn_loader_create(void)
{
    vn_loader *L = (vn_loader *)0x1;
    vn_loader_options o = VN_LOADER_OPTIONS_INIT;
    o.source = vn_test_tmpdir();
    VN_ASSERT_FAILS(vn_loader_create(NULL, &o), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_loader_create(&L, NULL), VN_ERR_INVALID_ARG);
    ck_assert_ptr_null(L);
    o.version = 0;
    VN_ASSERT_FAILS(vn_loader_create(&L, &o), VN_ERR_VERSION);
    o.version = VN_LOADER_OPTIONS_VERSION;
    o.source = NULL;
    VN_ASSERT_FAILS(vn_loader_create(&L, &o), VN_ERR_INVALID_ARG);
    o.source = vn_test_tmpdir();
    o.batch_size = 0;
    VN_ASSERT_FAILS(vn_loader_create(&L, &o), VN_ERR_INVALID_ARG);
    o.batch_size = 2;
    o.n_workers = -1;
    VN_ASSERT_FAILS(vn_loader_create(&L, &o), VN_ERR_INVALID_ARG);
    o.n_workers = 0;
    o.prefetch = -1;
    VN_ASSERT_FAILS(vn_loader_create(&L, &o), VN_ERR_INVALID_ARG);
    o.prefetch = 0;
    o.timeout_s = -1.0;
    VN_ASSERT_FAILS(vn_loader_create(&L, &o), VN_ERR_INVALID_ARG);
    o.timeout_s = 0.0;
    o.dtype = VN_DTYPE_I32;
    VN_ASSERT_FAILS(vn_loader_create(&L, &o), VN_ERR_INVALID_ARG);
    o.dtype = VN_DTYPE_F32;
    vn_transform_options tf = VN_TRANSFORM_OPTIONS_INIT;
    tf.version = 0;
    o.transform = &tf;
    VN_ASSERT_FAILS(vn_loader_create(&L, &o), VN_ERR_VERSION);
    o.transform = NULL;
    o.source = "/nonexistent/vnative/manifest.csv";
    VN_ASSERT_FAILS(vn_loader_create(&L, &o), VN_ERR_NOT_FOUND);
    o.source = "/dev/null";
    VN_ASSERT_FAILS(vn_loader_create(&L, &o), VN_ERR_INVALID_ARG);
    ck_assert_ptr_null(L);
}

static void c_vn_loader_destroy(void)
{
    vn_loader_destroy(NULL);
}

static void c_vn_loader_size(void)
{
    int64_t n;
    VN_ASSERT_FAILS(vn_loader_size(NULL, &n), VN_ERR_INVALID_ARG);
    vn_loader *L = io_test_loader();
    VN_ASSERT_FAILS(vn_loader_size(L, NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_OK(vn_loader_size(L, &n));
    ck_assert_int_eq(n, 1);
    vn_loader_destroy(L);
}

static void c_vn_loader_batch_shape(void)
{
    int64_t shape[5];
    VN_ASSERT_FAILS(vn_loader_batch_shape(NULL, shape), VN_ERR_INVALID_ARG);
    vn_loader *L = io_test_loader();
    VN_ASSERT_FAILS(vn_loader_batch_shape(L, NULL), VN_ERR_INVALID_ARG);
    vn_loader_destroy(L);
}

static void c_vn_loader_start_epoch(void)
{
    VN_ASSERT_FAILS(vn_loader_start_epoch(NULL, 0), VN_ERR_INVALID_ARG);
    vn_loader *L = io_test_loader();
    VN_ASSERT_FAILS(vn_loader_start_epoch(L, -1), VN_ERR_INVALID_ARG);
    vn_loader_destroy(L);
}

static void c_vn_loader_next(void)
{
    vn_loader *L = io_test_loader();
    int64_t shape[5], n;
    VN_ASSERT_OK(vn_loader_batch_shape(L, shape));
    float *buf = calloc((size_t)(shape[0] * shape[1] * shape[2] * shape[3] * shape[4]), sizeof(float));
    vn_tensor t;
    VN_ASSERT_OK(vn_tensor_init(&t, buf, VN_DTYPE_F32, 5, shape));
    VN_ASSERT_FAILS(vn_loader_next(NULL, &t, NULL, NULL, &n), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_loader_next(L, NULL, NULL, NULL, &n), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_loader_next(L, &t, NULL, NULL, NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_loader_next(L, &t, NULL, NULL, &n), VN_ERR_STATE);
    /* The only item does not exist: the epoch ends at once, and says so. */
    VN_ASSERT_OK(vn_loader_start_epoch(L, 0));
    VN_ASSERT_FAILS(vn_loader_next(L, &t, NULL, NULL, &n), VN_ERR_END);
    t.ndim = 4;
    VN_ASSERT_FAILS(vn_loader_next(L, &t, NULL, NULL, &n), VN_ERR_SHAPE);
    free(buf);
    vn_loader_destroy(L);
}

static void c_vn_loader_get_stats(void)
{
    vn_loader_stats st = VN_LOADER_STATS_INIT;
    VN_ASSERT_FAILS(vn_loader_get_stats(NULL, &st), VN_ERR_INVALID_ARG);
    vn_loader *L = io_test_loader();
    VN_ASSERT_FAILS(vn_loader_get_stats(L, NULL), VN_ERR_INVALID_ARG);
    st.version = 0;
    VN_ASSERT_FAILS(vn_loader_get_stats(L, &st), VN_ERR_VERSION);
    vn_loader_destroy(L);
}

#define ENTRY(fn) {#fn, c_##fn}

const api_entry api_table_io[] = {
    ENTRY(vn_video_open_options_init),
    ENTRY(vn_video_create),
    ENTRY(vn_video_create_from_memory),
    ENTRY(vn_video_destroy),
    ENTRY(vn_video_get_info),
    ENTRY(vn_video_frame_time),
    ENTRY(vn_video_frame_at_time),
    ENTRY(vn_video_keyframes),
    ENTRY(vn_video_read_frames),
    ENTRY(vn_video_read_times),
    ENTRY(vn_clip_options_init),
    ENTRY(vn_clip_indices),
    ENTRY(vn_transform_options_init),
    ENTRY(vn_clip_shape),
    ENTRY(vn_video_read_clip),
    ENTRY(vn_video_writer_options_init),
    ENTRY(vn_video_writer_create),
    ENTRY(vn_video_writer_write),
    ENTRY(vn_video_writer_finish),
    ENTRY(vn_video_writer_destroy),
    ENTRY(vn_video_codec_resolve),
    ENTRY(vn_loader_options_init),
    ENTRY(vn_loader_create),
    ENTRY(vn_loader_destroy),
    ENTRY(vn_loader_size),
    ENTRY(vn_loader_batch_shape),
    ENTRY(vn_loader_start_epoch),
    ENTRY(vn_loader_next),
    ENTRY(vn_loader_get_stats),
    {NULL, NULL},
};
