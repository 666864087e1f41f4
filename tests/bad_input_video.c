/* Bad-input rows of video.h (the matrix: bad_input.h). The video is bi_video(): 4 frames
 * of 32 x 16 RGB. */
#include "bad_input.h"

#include <math.h>

#define OPEN_VIDEO(path, o) BI_LEAVES_NULL(vn_video, vn_video_create(&h_, path, o))
#define OPEN_MEMORY(data, size, o) BI_LEAVES_NULL(vn_video, vn_video_create_from_memory(&h_, data, size, o))
#define NEW_WRITER(path, o) BI_LEAVES_NULL(vn_video_writer, vn_video_writer_create(&h_, path, o))
static const char junk[] = "not a video at all, just some bytes";

#define OPEN_OPT(...) BI_OPT(vn_video_open_options, VN_VIDEO_OPEN_OPTIONS_INIT, __VA_ARGS__)
#define CLIP(...) BI_OPT(vn_clip_options, VN_CLIP_OPTIONS_INIT, o_.n_frames = 2; __VA_ARGS__)
#define TF(...) BI_OPT(vn_transform_options, VN_TRANSFORM_OPTIONS_INIT, o_.crop_size = 8; __VA_ARGS__)
#define WOPT(...)                                                                                                    \
    BI_OPT(vn_video_writer_options, VN_VIDEO_WRITER_OPTIONS_INIT, o_.width = 32; o_.height = 16;                     \
           o_.codec = VN_CODEC_FFV1; __VA_ARGS__)
#define IDX(...) ((const int64_t[]){__VA_ARGS__})
#define FRAMES(n) bi_t(VN_DTYPE_U8, #n "x16x32x3")
#define CLIP_F32 bi_t(VN_DTYPE_F32, "3x2x16x32")
#define SHAPE4 BI_OUTN(int64_t, 4)
#define INFO(...) BI_OPT(vn_video_info, VN_VIDEO_INFO_INIT, __VA_ARGS__)

#define ROWS(R)                                                                                                      \
    BI_INIT_ROWS(R, vn_video_open_options_init, vn_video_open_options, opts, VN_VIDEO_OPEN_OPTIONS_VERSION)          \
    R(vn_video_create, null_out, BI_NULL, "out", NULL, VN_ERR_INVALID_ARG,                                           \
      vn_video_create(NULL, bi_video_path(), NULL))                                                                  \
    R(vn_video_create, null_path, BI_NULL, "path", NULL, VN_ERR_INVALID_ARG, OPEN_VIDEO(NULL, NULL))                 \
    R(vn_video_create, null_opts, BI_NULL, "opts", NULL, VN_OK,                                                      \
      BI_CREATED(vn_video, vn_video_destroy, vn_video_create(&h_, bi_video_path(), NULL)))                           \
    R(vn_video_create, empty_path, BI_PATH, "path", NULL, VN_ERR_INVALID_ARG, OPEN_VIDEO("", NULL))                  \
    R(vn_video_create, missing_file, BI_PATH, "path", "no-such-dir/clip.mp4", VN_ERR_NOT_FOUND,                      \
      OPEN_VIDEO(bi_missing("clip.mp4"), NULL))                                                                      \
    R(vn_video_create, directory, BI_PATH, "path", "/vn-", VN_ERR_IO, OPEN_VIDEO(vn_test_tmpdir(), NULL))            \
    R(vn_video_create, not_a_video, BI_PATH, "path", "bi_junk.bin", VN_ERR_FORMAT,                                   \
      OPEN_VIDEO(bi_junk_path(), NULL))                                                                              \
    R(vn_video_create, version_0, BI_VERSION, "opts", "version", VN_ERR_VERSION,                                     \
      OPEN_VIDEO(bi_video_path(), OPEN_OPT(o_.version = 0)))                                                         \
    R(vn_video_create, version_future, BI_VERSION, "opts", "version", VN_ERR_VERSION,                                \
      OPEN_VIDEO(bi_video_path(), OPEN_OPT(o_.version = 999)))                                                       \
    R(vn_video_create, neg_threads, BI_FIELD, "opts.n_threads", NULL, VN_ERR_INVALID_ARG,                            \
      OPEN_VIDEO(bi_video_path(), OPEN_OPT(o_.n_threads = -1)))                                                      \
    R(vn_video_create, neg_timeout, BI_FIELD, "opts.timeout_s", NULL, VN_ERR_INVALID_ARG,                            \
      OPEN_VIDEO(bi_video_path(), OPEN_OPT(o_.timeout_s = -1)))                                                      \
    R(vn_video_create, nan_timeout, BI_FIELD, "opts.timeout_s", NULL, VN_ERR_INVALID_ARG,                            \
      OPEN_VIDEO(bi_video_path(), OPEN_OPT(o_.timeout_s = NAN)))                                                     \
    R(vn_video_create_from_memory, null_out, BI_NULL, "out", NULL, VN_ERR_INVALID_ARG,                               \
      vn_video_create_from_memory(NULL, junk, sizeof junk, NULL))                                                    \
    R(vn_video_create_from_memory, null_data, BI_NULL, "data", NULL, VN_ERR_INVALID_ARG,                             \
      OPEN_MEMORY(NULL, 10, NULL))                                                                                   \
    R(vn_video_create_from_memory, null_opts, BI_NULL, "opts", "<memory, 36 bytes>", VN_ERR_FORMAT,                  \
      OPEN_MEMORY(junk, sizeof junk, NULL))                                                                          \
    R(vn_video_create_from_memory, zero_size, BI_RANGE, "size", "0 bytes", VN_ERR_FORMAT,                            \
      OPEN_MEMORY(junk, 0, NULL))                                                                                    \
    R(vn_video_create_from_memory, version_0, BI_VERSION, "opts", "version", VN_ERR_VERSION,                         \
      OPEN_MEMORY(junk, sizeof junk, OPEN_OPT(o_.version = 0)))                                                      \
    R(vn_video_create_from_memory, version_future, BI_VERSION, "opts", "version", VN_ERR_VERSION,                    \
      OPEN_MEMORY(junk, sizeof junk, OPEN_OPT(o_.version = 999)))                                                    \
    BI_DESTROY_ROW(R, vn_video_destroy, video)                                                                       \
    R(vn_video_get_info, null_video, BI_NULL, "video", NULL, VN_ERR_INVALID_ARG, vn_video_get_info(NULL, INFO()))    \
    R(vn_video_get_info, null_info, BI_NULL, "info", NULL, VN_ERR_INVALID_ARG, vn_video_get_info(bi_video(), NULL))  \
    R(vn_video_get_info, version_0, BI_VERSION, "info", "version", VN_ERR_VERSION,                                   \
      vn_video_get_info(bi_video(), INFO(o_.version = 0)))                                                           \
    R(vn_video_get_info, version_future, BI_VERSION, "info", "version", VN_ERR_VERSION,                              \
      vn_video_get_info(bi_video(), INFO(o_.version = 999)))                                                         \
    R(vn_video_frame_time, null_video, BI_NULL, "video", NULL, VN_ERR_INVALID_ARG,                                   \
      vn_video_frame_time(NULL, 0, BI_OUT(double)))                                                                  \
    R(vn_video_frame_time, null_time_s, BI_NULL, "time_s", NULL, VN_ERR_INVALID_ARG,                                 \
      vn_video_frame_time(bi_video(), 0, NULL))                                                                      \
    R(vn_video_frame_time, neg_index, BI_RANGE, "index", NULL, VN_ERR_INVALID_ARG,                                   \
      vn_video_frame_time(bi_video(), -1, BI_OUT(double)))                                                           \
    R(vn_video_frame_time, index_past_end, BI_RANGE, "index", NULL, VN_ERR_INVALID_ARG,                              \
      vn_video_frame_time(bi_video(), 4, BI_OUT(double)))                                                            \
    R(vn_video_frame_time, approximate, BI_STATE, "video", "approximate", VN_ERR_STATE,                              \
      vn_video_frame_time(bi_video_approx(), 0, BI_OUT(double)))                                                     \
    R(vn_video_frame_at_time, null_video, BI_NULL, "video", NULL, VN_ERR_INVALID_ARG,                                \
      vn_video_frame_at_time(NULL, 0.0, BI_OUT(int64_t)))                                                            \
    R(vn_video_frame_at_time, null_index, BI_NULL, "index", NULL, VN_ERR_INVALID_ARG,                                \
      vn_video_frame_at_time(bi_video(), 0.0, NULL))                                                                 \
    R(vn_video_frame_at_time, nan_time, BI_RANGE, "time_s", NULL, VN_ERR_INVALID_ARG,                                \
      vn_video_frame_at_time(bi_video(), NAN, BI_OUT(int64_t)))                                                      \
    R(vn_video_frame_at_time, inf_time, BI_RANGE, "time_s", NULL, VN_OK, /* the last frame */                        \
      vn_video_frame_at_time(bi_video(), INFINITY, BI_OUT(int64_t)))                                                 \
    R(vn_video_keyframes, null_video, BI_NULL, "video", NULL, VN_ERR_INVALID_ARG,                                    \
      vn_video_keyframes(NULL, BI_OUTN(int64_t, 4), 4, BI_OUT(int64_t)))                                             \
    R(vn_video_keyframes, null_indices, BI_NULL, "indices", NULL, VN_ERR_INVALID_ARG,                                \
      vn_video_keyframes(bi_video(), NULL, 4, BI_OUT(int64_t)))                                                      \
    R(vn_video_keyframes, null_indices_cap_0, BI_NULL, "indices", NULL, VN_OK,                                       \
      vn_video_keyframes(bi_video(), NULL, 0, BI_OUT(int64_t)))                                                      \
    R(vn_video_keyframes, null_n_total, BI_NULL, "n_total", NULL, VN_ERR_INVALID_ARG,                                \
      vn_video_keyframes(bi_video(), BI_OUTN(int64_t, 4), 4, NULL))                                                  \
    R(vn_video_keyframes, neg_cap, BI_RANGE, "cap", NULL, VN_ERR_INVALID_ARG,                                        \
      vn_video_keyframes(bi_video(), BI_OUTN(int64_t, 4), -1, BI_OUT(int64_t)))                                      \
    R(vn_video_read_frames, null_video, BI_NULL, "video", NULL, VN_ERR_INVALID_ARG,                                  \
      vn_video_read_frames(NULL, IDX(0, 3), 2, FRAMES(2)))                                                           \
    R(vn_video_read_frames, null_indices, BI_NULL, "indices", NULL, VN_ERR_INVALID_ARG,                              \
      vn_video_read_frames(bi_video(), NULL, 2, FRAMES(2)))                                                          \
    R(vn_video_read_frames, null_out, BI_NULL, "out", NULL, VN_ERR_INVALID_ARG,                                      \
      vn_video_read_frames(bi_video(), IDX(0, 3), 2, NULL))                                                          \
    R(vn_video_read_frames, neg_n, BI_RANGE, "n", NULL, VN_ERR_INVALID_ARG,                                          \
      vn_video_read_frames(bi_video(), IDX(0, 3), -2, FRAMES(2)))                                                    \
    R(vn_video_read_frames, zero_n, BI_RANGE, "n", NULL, VN_OK, /* an empty read */                                  \
      vn_video_read_frames(bi_video(), IDX(0, 3), 0, FRAMES(0)))                                                     \
    R(vn_video_read_frames, index_past_end, BI_RANGE, "indices", NULL, VN_ERR_INVALID_ARG,                           \
      vn_video_read_frames(bi_video(), IDX(0, 4), 2, FRAMES(2)))                                                     \
    R(vn_video_read_frames, neg_index, BI_RANGE, "indices", NULL, VN_ERR_INVALID_ARG,                                \
      vn_video_read_frames(bi_video(), IDX(-1, 0), 2, FRAMES(2)))                                                    \
    R(vn_video_read_frames, one_channel, BI_SHAPE, "out", NULL, VN_ERR_SHAPE,                                        \
      vn_video_read_frames(bi_video(), IDX(0, 3), 2, bi_extent(FRAMES(2), 3, 1)))                                    \
    R(vn_video_read_frames, wrong_count, BI_SHAPE, "out", NULL, VN_ERR_SHAPE,                                        \
      vn_video_read_frames(bi_video(), IDX(0, 3), 2, FRAMES(3)))                                                     \
    R(vn_video_read_frames, f32, BI_SHAPE, "out", NULL, VN_ERR_SHAPE,                                                \
      vn_video_read_frames(bi_video(), IDX(0, 3), 2, bi_dtype(FRAMES(2), VN_DTYPE_F32)))                             \
    R(vn_video_read_frames, rank_3, BI_SHAPE, "out", NULL, VN_ERR_SHAPE,                                             \
      vn_video_read_frames(bi_video(), IDX(0, 3), 2, bi_rank(FRAMES(2), 3)))                                         \
    R(vn_video_read_frames, no_data, BI_SHAPE, "out", NULL, VN_ERR_INVALID_ARG,                                      \
      vn_video_read_frames(bi_video(), IDX(0, 3), 2, bi_nodata(FRAMES(2))))                                          \
    R(vn_video_read_times, null_video, BI_NULL, "video", NULL, VN_ERR_INVALID_ARG,                                   \
      vn_video_read_times(NULL, (const double[]){0.0}, 1, FRAMES(1)))                                                \
    R(vn_video_read_times, null_times_s, BI_NULL, "times_s", NULL, VN_ERR_INVALID_ARG,                               \
      vn_video_read_times(bi_video(), NULL, 1, FRAMES(1)))                                                           \
    R(vn_video_read_times, null_out, BI_NULL, "out", NULL, VN_ERR_INVALID_ARG,                                       \
      vn_video_read_times(bi_video(), (const double[]){0.0}, 1, NULL))                                               \
    R(vn_video_read_times, neg_n, BI_RANGE, "n", NULL, VN_ERR_INVALID_ARG,                                           \
      vn_video_read_times(bi_video(), (const double[]){0.0}, -1, FRAMES(1)))                                         \
    R(vn_video_read_times, nan_time, BI_RANGE, "times_s", NULL, VN_ERR_INVALID_ARG,                                  \
      vn_video_read_times(bi_video(), (const double[]){NAN}, 1, FRAMES(1)))                                          \
    R(vn_video_read_times, wrong_count, BI_SHAPE, "out", NULL, VN_ERR_SHAPE,                                         \
      vn_video_read_times(bi_video(), (const double[]){0.05}, 1, FRAMES(2)))                                         \
    R(vn_video_read_times, i32, BI_SHAPE, "out", NULL, VN_ERR_SHAPE,                                                 \
      vn_video_read_times(bi_video(), (const double[]){0.05}, 1, bi_dtype(FRAMES(1), VN_DTYPE_I32)))                 \
    BI_INIT_ROWS(R, vn_clip_options_init, vn_clip_options, opts, VN_CLIP_OPTIONS_VERSION)                            \
    R(vn_clip_indices, null_video, BI_NULL, "video", NULL, VN_ERR_INVALID_ARG,                                       \
      vn_clip_indices(NULL, CLIP(), BI_OUTN(int64_t, 16)))                                                           \
    R(vn_clip_indices, null_clip, BI_NULL, "clip", NULL, VN_ERR_INVALID_ARG,                                         \
      vn_clip_indices(bi_video(), NULL, BI_OUTN(int64_t, 16)))                                                       \
    R(vn_clip_indices, null_indices, BI_NULL, "indices", NULL, VN_ERR_INVALID_ARG,                                   \
      vn_clip_indices(bi_video(), CLIP(), NULL))                                                                     \
    R(vn_clip_indices, version_0, BI_VERSION, "clip", "version", VN_ERR_VERSION,                                     \
      vn_clip_indices(bi_video(), CLIP(o_.version = 0), BI_OUTN(int64_t, 16)))                                       \
    R(vn_clip_indices, version_future, BI_VERSION, "clip", "version", VN_ERR_VERSION,                                \
      vn_clip_indices(bi_video(), CLIP(o_.version = 999), BI_OUTN(int64_t, 16)))                                     \
    R(vn_clip_indices, zero_frames, BI_FIELD, "clip.n_frames", NULL, VN_ERR_INVALID_ARG,                             \
      vn_clip_indices(bi_video(), CLIP(o_.n_frames = 0), BI_OUTN(int64_t, 16)))                                      \
    R(vn_clip_indices, neg_frames, BI_FIELD, "clip.n_frames", NULL, VN_ERR_INVALID_ARG,                              \
      vn_clip_indices(bi_video(), CLIP(o_.n_frames = -5), BI_OUTN(int64_t, 16)))                                     \
    R(vn_clip_indices, neg_stride, BI_FIELD, "clip.stride", NULL, VN_ERR_INVALID_ARG,                                \
      vn_clip_indices(bi_video(), CLIP(o_.stride = -1), BI_OUTN(int64_t, 16)))                                       \
    R(vn_clip_indices, zero_fps, BI_FIELD, "clip.target_fps", NULL, VN_ERR_INVALID_ARG,                              \
      vn_clip_indices(bi_video(), CLIP(o_.stride = 0; o_.target_fps = 0), BI_OUTN(int64_t, 16)))                     \
    R(vn_clip_indices, nan_fps, BI_FIELD, "clip.target_fps", NULL, VN_ERR_INVALID_ARG,                               \
      vn_clip_indices(bi_video(), CLIP(o_.stride = 0; o_.target_fps = NAN), BI_OUTN(int64_t, 16)))                   \
    R(vn_clip_indices, start_neg, BI_FIELD, "clip.start", NULL, VN_ERR_INVALID_ARG,                                  \
      vn_clip_indices(bi_video(), CLIP(o_.start = -2), BI_OUTN(int64_t, 16)))                                        \
    R(vn_clip_indices, start_past_end, BI_FIELD, "clip.start", NULL, VN_ERR_INVALID_ARG,                             \
      vn_clip_indices(bi_video(), CLIP(o_.start = 4), BI_OUTN(int64_t, 16)))                                         \
    BI_INIT_ROWS(R, vn_transform_options_init, vn_transform_options, opts, VN_TRANSFORM_OPTIONS_VERSION)             \
    R(vn_clip_shape, null_video, BI_NULL, "video", NULL, VN_ERR_INVALID_ARG,                                         \
      vn_clip_shape(NULL, CLIP(), NULL, VN_DTYPE_U8, SHAPE4))                                                        \
    R(vn_clip_shape, null_clip, BI_NULL, "clip", NULL, VN_ERR_INVALID_ARG,                                           \
      vn_clip_shape(bi_video(), NULL, NULL, VN_DTYPE_U8, SHAPE4))                                                    \
    R(vn_clip_shape, null_transform, BI_NULL, "transform", NULL, VN_OK,                                              \
      vn_clip_shape(bi_video(), CLIP(), NULL, VN_DTYPE_U8, SHAPE4))                                                  \
    R(vn_clip_shape, null_shape, BI_NULL, "shape", NULL, VN_ERR_INVALID_ARG,                                         \
      vn_clip_shape(bi_video(), CLIP(), NULL, VN_DTYPE_U8, NULL))                                                    \
    R(vn_clip_shape, clip_version_0, BI_VERSION, "clip", "version", VN_ERR_VERSION,                                  \
      vn_clip_shape(bi_video(), CLIP(o_.version = 0), NULL, VN_DTYPE_U8, SHAPE4))                                    \
    R(vn_clip_shape, transform_version_0, BI_VERSION, "transform", "version", VN_ERR_VERSION,                        \
      vn_clip_shape(bi_video(), CLIP(), TF(o_.version = 0), VN_DTYPE_U8, SHAPE4))                                    \
    R(vn_clip_shape, transform_version_future, BI_VERSION, "transform", "version", VN_ERR_VERSION,                   \
      vn_clip_shape(bi_video(), CLIP(), TF(o_.version = 999), VN_DTYPE_U8, SHAPE4))                                  \
    R(vn_clip_shape, dtype_i64, BI_ENUM, "dtype", NULL, VN_ERR_INVALID_ARG,                                          \
      vn_clip_shape(bi_video(), CLIP(), NULL, VN_DTYPE_I64, SHAPE4))                                                 \
    R(vn_clip_shape, dtype_999, BI_ENUM, "dtype", NULL, VN_ERR_INVALID_ARG,                                          \
      vn_clip_shape(bi_video(), CLIP(), NULL, (vn_dtype)999, SHAPE4))                                                \
    R(vn_clip_shape, dtype_neg, BI_ENUM, "dtype", NULL, VN_ERR_INVALID_ARG,                                          \
      vn_clip_shape(bi_video(), CLIP(), NULL, (vn_dtype)-1, SHAPE4))                                                 \
    R(vn_clip_shape, rrc_without_crop, BI_FIELD, "transform.crop_size", NULL, VN_ERR_INVALID_ARG,                    \
      vn_clip_shape(bi_video(), CLIP(), TF(o_.crop_size = 0; o_.random_resized_crop = 1), VN_DTYPE_U8, SHAPE4))      \
    R(vn_clip_shape, neg_crop, BI_FIELD, "transform.crop_size", NULL, VN_ERR_INVALID_ARG,                            \
      vn_clip_shape(bi_video(), CLIP(), TF(o_.crop_size = -8), VN_DTYPE_U8, SHAPE4))                                 \
    R(vn_clip_shape, rrc_scale_0, BI_FIELD, "transform.rrc_scale", NULL, VN_ERR_INVALID_ARG,                         \
      vn_clip_shape(bi_video(), CLIP(), TF(o_.random_resized_crop = 1; o_.rrc_scale[0] = 0), VN_DTYPE_U8, SHAPE4))   \
    R(vn_clip_shape, rrc_ratio_reversed, BI_FIELD, "transform.rrc_ratio", NULL, VN_ERR_INVALID_ARG,                  \
      vn_clip_shape(bi_video(), CLIP(), TF(o_.random_resized_crop = 1; o_.rrc_ratio[0] = 2), VN_DTYPE_U8, SHAPE4))   \
    R(vn_clip_shape, hflip_1_5, BI_FIELD, "transform.hflip_prob", NULL, VN_ERR_INVALID_ARG,                          \
      vn_clip_shape(bi_video(), CLIP(), TF(o_.hflip_prob = 1.5f), VN_DTYPE_U8, SHAPE4))                              \
    R(vn_clip_shape, std_0, BI_FIELD, "transform.std", NULL, VN_ERR_INVALID_ARG,                                     \
      vn_clip_shape(bi_video(), CLIP(), TF(o_.std[1] = 0), VN_DTYPE_F32, SHAPE4))                                    \
    R(vn_clip_shape, mean_nan, BI_FIELD, "transform.mean", NULL, VN_ERR_INVALID_ARG,                                 \
      vn_clip_shape(bi_video(), CLIP(), TF(o_.mean[0] = NAN), VN_DTYPE_F32, SHAPE4))                                 \
    R(vn_clip_shape, neg_short_side, BI_FIELD, "transform.short_side", NULL, VN_ERR_INVALID_ARG,                     \
      vn_clip_shape(bi_video(), CLIP(), TF(o_.short_side = -3), VN_DTYPE_U8, SHAPE4))                                \
    R(vn_video_read_clip, null_video, BI_NULL, "video", NULL, VN_ERR_INVALID_ARG,                                    \
      vn_video_read_clip(NULL, CLIP(), NULL, CLIP_F32))                                                              \
    R(vn_video_read_clip, null_clip, BI_NULL, "clip", NULL, VN_ERR_INVALID_ARG,                                      \
      vn_video_read_clip(bi_video(), NULL, NULL, CLIP_F32))                                                          \
    R(vn_video_read_clip, null_transform, BI_NULL, "transform", NULL, VN_OK,                                         \
      vn_video_read_clip(bi_video(), CLIP(), NULL, CLIP_F32))                                                        \
    R(vn_video_read_clip, null_out, BI_NULL, "out", NULL, VN_ERR_INVALID_ARG,                                        \
      vn_video_read_clip(bi_video(), CLIP(), NULL, NULL))                                                            \
    R(vn_video_read_clip, clip_version_0, BI_VERSION, "clip", "version", VN_ERR_VERSION,                             \
      vn_video_read_clip(bi_video(), CLIP(o_.version = 0), NULL, CLIP_F32))                                          \
    R(vn_video_read_clip, transform_version_future, BI_VERSION, "transform", "version", VN_ERR_VERSION,              \
      vn_video_read_clip(bi_video(), CLIP(), TF(o_.version = 999), CLIP_F32))                                        \
    R(vn_video_read_clip, wrong_frames, BI_SHAPE, "out", "clip tensor", VN_ERR_SHAPE,                                \
      vn_video_read_clip(bi_video(), CLIP(o_.n_frames = 3), NULL, CLIP_F32))                                         \
    R(vn_video_read_clip, wrong_channels, BI_SHAPE, "out", "clip tensor", VN_ERR_SHAPE,                              \
      vn_video_read_clip(bi_video(), CLIP(), NULL, bi_extent(CLIP_F32, 0, 1)))                                       \
    R(vn_video_read_clip, rank_5, BI_SHAPE, "out", "clip tensor", VN_ERR_SHAPE,                                      \
      vn_video_read_clip(bi_video(), CLIP(), NULL, bi_t(VN_DTYPE_F32, "1x3x2x16x32")))                               \
    R(vn_video_read_clip, bf16, BI_SHAPE, "out", "dtype bf16", VN_ERR_INVALID_ARG,                                   \
      vn_video_read_clip(bi_video(), CLIP(), NULL, bi_dtype(CLIP_F32, VN_DTYPE_BF16)))                               \
    R(vn_video_read_clip, no_data, BI_SHAPE, "out", "clip tensor", VN_ERR_INVALID_ARG,                               \
      vn_video_read_clip(bi_video(), CLIP(), NULL, bi_nodata(CLIP_F32)))                                             \
    BI_INIT_ROWS(R, vn_video_writer_options_init, vn_video_writer_options, opts, VN_VIDEO_WRITER_OPTIONS_VERSION)    \
    R(vn_video_writer_create, null_out, BI_NULL, "out", NULL, VN_ERR_INVALID_ARG,                                    \
      vn_video_writer_create(NULL, bi_tmp("w.mkv"), WOPT()))                                                         \
    R(vn_video_writer_create, null_path, BI_NULL, "path", NULL, VN_ERR_INVALID_ARG, NEW_WRITER(NULL, WOPT()))        \
    R(vn_video_writer_create, null_opts, BI_NULL, "opts", NULL, VN_ERR_INVALID_ARG,                                  \
      NEW_WRITER(bi_tmp("w.mkv"), NULL))                                                                             \
    R(vn_video_writer_create, empty_path, BI_PATH, "path", "''", VN_ERR_INVALID_ARG, NEW_WRITER("", WOPT()))         \
    R(vn_video_writer_create, no_extension, BI_PATH, "path", "no-extension", VN_ERR_INVALID_ARG,                     \
      NEW_WRITER(bi_tmp("no-extension"), WOPT()))                                                                    \
    R(vn_video_writer_create, missing_dir, BI_PATH, "path", "no-such-dir", VN_ERR_NOT_FOUND,                         \
      NEW_WRITER(bi_missing("w.mkv"), WOPT()))                                                                       \
    R(vn_video_writer_create, version_0, BI_VERSION, "opts", "version", VN_ERR_VERSION,                              \
      NEW_WRITER(bi_tmp("w.mkv"), WOPT(o_.version = 0)))                                                             \
    R(vn_video_writer_create, version_future, BI_VERSION, "opts", "version", VN_ERR_VERSION,                         \
      NEW_WRITER(bi_tmp("w.mkv"), WOPT(o_.version = 999)))                                                           \
    R(vn_video_writer_create, zero_width, BI_FIELD, "opts.width", "frame size", VN_ERR_INVALID_ARG,                  \
      NEW_WRITER(bi_tmp("w.mkv"), WOPT(o_.width = 0)))                                                               \
    R(vn_video_writer_create, neg_height, BI_FIELD, "opts.height", "frame size", VN_ERR_INVALID_ARG,                 \
      NEW_WRITER(bi_tmp("w.mkv"), WOPT(o_.height = -16)))                                                            \
    R(vn_video_writer_create, huge_width, BI_FIELD, "opts.width", "frame size", VN_ERR_INVALID_ARG,                  \
      NEW_WRITER(bi_tmp("w.mkv"), WOPT(o_.width = 1 << 30)))                                                         \
    R(vn_video_writer_create, channels_2, BI_FIELD, "opts.channels", NULL, VN_ERR_INVALID_ARG,                       \
      NEW_WRITER(bi_tmp("w.mkv"), WOPT(o_.channels = 2)))                                                            \
    R(vn_video_writer_create, fps_0, BI_FIELD, "opts.fps", NULL, VN_ERR_INVALID_ARG,                                 \
      NEW_WRITER(bi_tmp("w.mkv"), WOPT(o_.fps = 0)))                                                                 \
    R(vn_video_writer_create, fps_nan, BI_FIELD, "opts.fps", NULL, VN_ERR_INVALID_ARG,                               \
      NEW_WRITER(bi_tmp("w.mkv"), WOPT(o_.fps = NAN)))                                                               \
    R(vn_video_writer_create, codec_999, BI_FIELD, "opts.codec", NULL, VN_ERR_INVALID_ARG,                           \
      NEW_WRITER(bi_tmp("w.mkv"), WOPT(o_.codec = (vn_video_codec)999)))                                             \
    R(vn_video_writer_create, neg_quality, BI_FIELD, "opts.quality", NULL, VN_ERR_INVALID_ARG,                       \
      NEW_WRITER(bi_tmp("w.mkv"), WOPT(o_.quality = -1)))                                                            \
    R(vn_video_writer_create, neg_gop, BI_FIELD, "opts.gop", NULL, VN_ERR_INVALID_ARG,                               \
      NEW_WRITER(bi_tmp("w.mkv"), WOPT(o_.gop = -1)))                                                                \
    R(vn_video_writer_create, bframes_neg_2, BI_FIELD, "opts.bframes", NULL, VN_ERR_INVALID_ARG,                     \
      NEW_WRITER(bi_tmp("w.mkv"), WOPT(o_.bframes = -2)))                                                            \
    R(vn_video_writer_write, null_writer, BI_NULL, "writer", NULL, VN_ERR_INVALID_ARG,                               \
      vn_video_writer_write(NULL, FRAMES(1)))                                                                        \
    R(vn_video_writer_write, null_frames, BI_NULL, "frames", NULL, VN_ERR_INVALID_ARG,                               \
      vn_video_writer_write(bi_writer(), NULL))                                                                      \
    R(vn_video_writer_write, wrong_width, BI_SHAPE, "frames", NULL, VN_ERR_SHAPE,                                    \
      vn_video_writer_write(bi_writer(), bi_extent(FRAMES(1), 2, 31)))                                               \
    R(vn_video_writer_write, f32, BI_SHAPE, "frames", NULL, VN_ERR_SHAPE,                                            \
      vn_video_writer_write(bi_writer(), bi_dtype(FRAMES(1), VN_DTYPE_F32)))                                         \
    R(vn_video_writer_write, rank_2, BI_SHAPE, "frames", NULL, VN_ERR_SHAPE,                                         \
      vn_video_writer_write(bi_writer(), bi_rank(FRAMES(1), 2)))                                                     \
    R(vn_video_writer_write, gray, BI_SHAPE, "frames", NULL, VN_ERR_SHAPE,                                           \
      vn_video_writer_write(bi_writer(), bi_t(VN_DTYPE_U8, "1x16x32x1")))                                            \
    R(vn_video_writer_write, no_data, BI_SHAPE, "frames", NULL, VN_ERR_INVALID_ARG,                                  \
      vn_video_writer_write(bi_writer(), bi_nodata(FRAMES(1))))                                                      \
    R(vn_video_writer_write, after_finish, BI_STATE, "writer", "finished", VN_ERR_STATE,                             \
      vn_video_writer_write(bi_writer_finished(), FRAMES(1)))                                                        \
    R(vn_video_writer_finish, null_writer, BI_NULL, "writer", NULL, VN_ERR_INVALID_ARG,                              \
      vn_video_writer_finish(NULL))                                                                                  \
    R(vn_video_writer_finish, twice, BI_STATE, "writer", "finished", VN_ERR_STATE,                                   \
      vn_video_writer_finish(bi_writer_finished()))                                                                  \
    BI_DESTROY_ROW(R, vn_video_writer_destroy, writer)                                                               \
    R(vn_video_codec_resolve, null_encoder_name, BI_NULL, "encoder_name", NULL, VN_ERR_INVALID_ARG,                  \
      vn_video_codec_resolve(VN_CODEC_AUTO, NULL))                                                                   \
    R(vn_video_codec_resolve, enum_neg, BI_ENUM, "codec", NULL, VN_ERR_INVALID_ARG,                                  \
      vn_video_codec_resolve((vn_video_codec)-1, BI_OUT(const char *)))                                              \
    R(vn_video_codec_resolve, enum_999, BI_ENUM, "codec", NULL, VN_ERR_INVALID_ARG,                                  \
      vn_video_codec_resolve((vn_video_codec)999, BI_OUT(const char *)))

BI_TABLE(bi_rows_video, ROWS)
