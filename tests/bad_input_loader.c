/* Bad-input rows of loader.h and world.h (the matrix: bad_input.h). bi_loader() batches
 * are F32 (8, 3, 16, 8, 8); bi_world() clips are 4 frames of 16 x 16 RGB. */
#include "bad_input.h"

#include <math.h>

#define NEW_LOADER(o) BI_LEAVES_NULL(vn_loader, vn_loader_create(&h_, o))
#define NEW_WORLD(o) BI_LEAVES_NULL(vn_world, vn_world_create(&h_, o))
/* Options structs inside the loader's options. */
static const vn_clip_options *clip_with(int version, int n_frames)
{
    vn_clip_options c = VN_CLIP_OPTIONS_INIT;
    c.version = (unsigned)version;
    c.n_frames = n_frames;
    return bi_copy(&c, sizeof c);
}

static const vn_transform_options *transform_version_0(void)
{
    vn_transform_options t = VN_TRANSFORM_OPTIONS_INIT;
    t.version = 0;
    return bi_copy(&t, sizeof t);
}

/* future_candidates is checked when a query is rendered, not at create. */
static vn_status future_with_99_candidates(void)
{
    vn_world_options o = VN_WORLD_OPTIONS_INIT;
    o.future_candidates = 99;
    vn_world *w = NULL;
    VN_ASSERT_OK(vn_world_create(&w, &o));
    vn_status st = vn_world_future(w, 0, bi_t(VN_DTYPE_U8, "8x64x64x3"), bi_t(VN_DTYPE_U8, "99x8x64x64x3"), NULL,
                                   BI_OUT(int));
    vn_world_destroy(w);
    return st;
}

/* The loader before its first epoch: nothing to hand out yet. */
static vn_status next_before_epoch(void)
{
    return vn_loader_next(bi_loader(), bi_t(VN_DTYPE_F32, "8x3x16x8x8"), NULL, NULL, BI_OUT(int64_t));
}

#define LOPT(...)                                                                                                    \
    BI_OPT(vn_loader_options, VN_LOADER_OPTIONS_INIT, o_.source = bi_manifest_path(); __VA_ARGS__)
#define WORLD_OPT(...) BI_OPT(vn_world_options, VN_WORLD_OPTIONS_INIT, __VA_ARGS__)
#define BATCH bi_t(VN_DTYPE_F32, "8x3x16x8x8")
#define CLIP_U8 bi_t(VN_DTYPE_U8, "4x16x16x3")
#define BATCH_U8 bi_t(VN_DTYPE_U8, "2x4x16x16x3")
#define CONTEXT_U8 bi_t(VN_DTYPE_U8, "2x16x16x3")
#define CANDS_U8 bi_t(VN_DTYPE_U8, "3x2x16x16x3")
#define STATS(...) BI_OPT(vn_loader_stats, VN_LOADER_STATS_INIT, __VA_ARGS__)

#define ROWS(R)                                                                                                      \
    BI_INIT_ROWS(R, vn_loader_options_init, vn_loader_options, opts, VN_LOADER_OPTIONS_VERSION)                      \
    R(vn_loader_create, null_out, BI_NULL, "out", NULL, VN_ERR_INVALID_ARG, vn_loader_create(NULL, LOPT()))          \
    R(vn_loader_create, null_opts, BI_NULL, "opts", NULL, VN_ERR_INVALID_ARG, NEW_LOADER(NULL))                      \
    R(vn_loader_create, version_0, BI_VERSION, "opts", "version", VN_ERR_VERSION, NEW_LOADER(LOPT(o_.version = 0)))  \
    R(vn_loader_create, version_future, BI_VERSION, "opts", "version", VN_ERR_VERSION,                               \
      NEW_LOADER(LOPT(o_.version = 999)))                                                                            \
    R(vn_loader_create, null_source, BI_FIELD, "opts.source", NULL, VN_ERR_INVALID_ARG,                              \
      NEW_LOADER(LOPT(o_.source = NULL)))                                                                            \
    R(vn_loader_create, empty_source, BI_FIELD, "opts.source", NULL, VN_ERR_NOT_FOUND,                               \
      NEW_LOADER(LOPT(o_.source = "")))                                                                              \
    R(vn_loader_create, missing_source, BI_FIELD, "opts.source", "no-such-dir/list.csv", VN_ERR_NOT_FOUND,           \
      NEW_LOADER(LOPT(o_.source = bi_missing("list.csv"))))                                                          \
    R(vn_loader_create, empty_manifest, BI_FIELD, "opts.source", "/dev/null", VN_ERR_INVALID_ARG,                    \
      NEW_LOADER(LOPT(o_.source = "/dev/null")))                                                                     \
    R(vn_loader_create, batch_0, BI_FIELD, "opts.batch_size", NULL, VN_ERR_INVALID_ARG,                              \
      NEW_LOADER(LOPT(o_.batch_size = 0)))                                                                           \
    R(vn_loader_create, batch_neg, BI_FIELD, "opts.batch_size", NULL, VN_ERR_INVALID_ARG,                            \
      NEW_LOADER(LOPT(o_.batch_size = -8)))                                                                          \
    R(vn_loader_create, workers_neg, BI_FIELD, "opts.n_workers", NULL, VN_ERR_INVALID_ARG,                           \
      NEW_LOADER(LOPT(o_.n_workers = -1)))                                                                           \
    R(vn_loader_create, prefetch_neg, BI_FIELD, "opts.prefetch", NULL, VN_ERR_INVALID_ARG,                           \
      NEW_LOADER(LOPT(o_.prefetch = -1)))                                                                            \
    R(vn_loader_create, timeout_neg, BI_FIELD, "opts.timeout_s", NULL, VN_ERR_INVALID_ARG,                           \
      NEW_LOADER(LOPT(o_.timeout_s = -1)))                                                                           \
    R(vn_loader_create, timeout_nan, BI_FIELD, "opts.timeout_s", NULL, VN_ERR_INVALID_ARG,                           \
      NEW_LOADER(LOPT(o_.timeout_s = NAN)))                                                                          \
    R(vn_loader_create, dtype_i32, BI_FIELD, "opts.dtype", NULL, VN_ERR_INVALID_ARG,                                 \
      NEW_LOADER(LOPT(o_.dtype = VN_DTYPE_I32)))                                                                     \
    R(vn_loader_create, dtype_999, BI_FIELD, "opts.dtype", NULL, VN_ERR_INVALID_ARG,                                 \
      NEW_LOADER(LOPT(o_.dtype = (vn_dtype)999)))                                                                    \
    R(vn_loader_create, clip_version_0, BI_FIELD, "opts.clip", "version", VN_ERR_VERSION,                            \
      NEW_LOADER(LOPT(o_.clip = clip_with(0, 16))))                                                                  \
    R(vn_loader_create, clip_frames_0, BI_FIELD, "opts.clip", "n_frames", VN_ERR_INVALID_ARG,                        \
      NEW_LOADER(LOPT(o_.clip = clip_with(VN_CLIP_OPTIONS_VERSION, 0))))                                             \
    R(vn_loader_create, transform_version_0, BI_FIELD, "opts.transform", "version", VN_ERR_VERSION,                  \
      NEW_LOADER(LOPT(o_.transform = transform_version_0())))                                                        \
    BI_DESTROY_ROW(R, vn_loader_destroy, loader)                                                                     \
    R(vn_loader_size, null_loader, BI_NULL, "loader", NULL, VN_ERR_INVALID_ARG,                                      \
      vn_loader_size(NULL, BI_OUT(int64_t)))                                                                         \
    R(vn_loader_size, null_n_items, BI_NULL, "n_items", NULL, VN_ERR_INVALID_ARG, vn_loader_size(bi_loader(), NULL)) \
    R(vn_loader_batch_shape, null_loader, BI_NULL, "loader", NULL, VN_ERR_INVALID_ARG,                               \
      vn_loader_batch_shape(NULL, BI_OUTN(int64_t, 5)))                                                              \
    R(vn_loader_batch_shape, null_shape, BI_NULL, "shape", NULL, VN_ERR_INVALID_ARG,                                 \
      vn_loader_batch_shape(bi_loader(), NULL))                                                                      \
    R(vn_loader_start_epoch, null_loader, BI_NULL, "loader", NULL, VN_ERR_INVALID_ARG,                               \
      vn_loader_start_epoch(NULL, 0))                                                                                \
    R(vn_loader_start_epoch, neg_epoch, BI_RANGE, "epoch", NULL, VN_ERR_INVALID_ARG,                                 \
      vn_loader_start_epoch(bi_loader(), -1))                                                                        \
    R(vn_loader_next, null_loader, BI_NULL, "loader", NULL, VN_ERR_INVALID_ARG,                                      \
      vn_loader_next(NULL, BATCH, NULL, NULL, BI_OUT(int64_t)))                                                      \
    R(vn_loader_next, null_clips, BI_NULL, "clips", NULL, VN_ERR_INVALID_ARG,                                        \
      vn_loader_next(bi_loader(), NULL, NULL, NULL, BI_OUT(int64_t)))                                                \
    R(vn_loader_next, null_n_clips, BI_NULL, "n_clips", NULL, VN_ERR_INVALID_ARG,                                    \
      vn_loader_next(bi_loader(), BATCH, NULL, NULL, NULL))                                                          \
    R(vn_loader_next, null_labels, BI_NULL, "labels", "epoch", VN_ERR_END,                                           \
      vn_loader_next(bi_loader_ended(), BATCH, NULL, BI_OUTN(int64_t, 8), BI_OUT(int64_t)))                          \
    R(vn_loader_next, null_items, BI_NULL, "items", "epoch", VN_ERR_END,                                             \
      vn_loader_next(bi_loader_ended(), BATCH, BI_OUTN(int64_t, 8), NULL, BI_OUT(int64_t)))                          \
    R(vn_loader_next, before_epoch, BI_STATE, "loader", "vn_loader_start_epoch", VN_ERR_STATE, next_before_epoch())  \
    R(vn_loader_next, after_end, BI_STATE, "loader", "epoch", VN_ERR_END,                                            \
      vn_loader_next(bi_loader_ended(), BATCH, NULL, NULL, BI_OUT(int64_t)))                                         \
    R(vn_loader_next, rank_4, BI_SHAPE, "clips", NULL, VN_ERR_SHAPE,                                                 \
      vn_loader_next(bi_loader_ended(), bi_rank(BATCH, 4), NULL, NULL, BI_OUT(int64_t)))                             \
    R(vn_loader_next, wrong_size, BI_SHAPE, "clips", NULL, VN_ERR_SHAPE,                                             \
      vn_loader_next(bi_loader_ended(), bi_extent(BATCH, 3, 16), NULL, NULL, BI_OUT(int64_t)))                       \
    R(vn_loader_next, u8, BI_SHAPE, "clips", NULL, VN_ERR_SHAPE,                                                     \
      vn_loader_next(bi_loader_ended(), bi_dtype(BATCH, VN_DTYPE_U8), NULL, NULL, BI_OUT(int64_t)))                  \
    R(vn_loader_next, no_data, BI_SHAPE, "clips", NULL, VN_ERR_INVALID_ARG,                                          \
      vn_loader_next(bi_loader_ended(), bi_nodata(BATCH), NULL, NULL, BI_OUT(int64_t)))                              \
    R(vn_loader_get_stats, null_loader, BI_NULL, "loader", NULL, VN_ERR_INVALID_ARG,                                 \
      vn_loader_get_stats(NULL, STATS()))                                                                            \
    R(vn_loader_get_stats, null_stats, BI_NULL, "stats", NULL, VN_ERR_INVALID_ARG,                                   \
      vn_loader_get_stats(bi_loader(), NULL))                                                                        \
    R(vn_loader_get_stats, version_0, BI_VERSION, "stats", "version", VN_ERR_VERSION,                                \
      vn_loader_get_stats(bi_loader(), STATS(o_.version = 0)))                                                       \
    R(vn_loader_get_stats, version_future, BI_VERSION, "stats", "version", VN_ERR_VERSION,                           \
      vn_loader_get_stats(bi_loader(), STATS(o_.version = 999)))                                                     \
    BI_NAME_ROWS(R, vn_world_task_name, task, vn_world_task_from_name, vn_world_task, "aot", "gravity2")             \
    R(vn_world_task_name, enum_count, BI_ENUM, "task", NULL, BI_SAFE,                                                \
      BI_UNKNOWN_NAME(vn_world_task_name, vn_world_task, VN_WORLD_TASK_COUNT))                                       \
    BI_INIT_ROWS(R, vn_world_options_init, vn_world_options, opts, VN_WORLD_OPTIONS_VERSION)                         \
    R(vn_world_create, null_out, BI_NULL, "out", NULL, VN_ERR_INVALID_ARG, vn_world_create(NULL, WORLD_OPT()))       \
    R(vn_world_create, null_opts, BI_NULL, "opts", NULL, VN_OK,                                                      \
      BI_CREATED(vn_world, vn_world_destroy, vn_world_create(&h_, NULL)))                                            \
    R(vn_world_create, version_0, BI_VERSION, "opts", "version", VN_ERR_VERSION,                                     \
      NEW_WORLD(WORLD_OPT(o_.version = 0)))                                                                          \
    R(vn_world_create, version_future, BI_VERSION, "opts", "version", VN_ERR_VERSION,                                \
      NEW_WORLD(WORLD_OPT(o_.version = 999)))                                                                        \
    R(vn_world_create, size_8, BI_FIELD, "opts.size", NULL, VN_ERR_INVALID_ARG, NEW_WORLD(WORLD_OPT(o_.size = 8)))   \
    R(vn_world_create, size_neg, BI_FIELD, "opts.size", NULL, VN_ERR_INVALID_ARG,                                    \
      NEW_WORLD(WORLD_OPT(o_.size = -64)))                                                                           \
    R(vn_world_create, frames_1, BI_FIELD, "opts.n_frames", NULL, VN_ERR_INVALID_ARG,                                \
      NEW_WORLD(WORLD_OPT(o_.n_frames = 1)))                                                                         \
    R(vn_world_create, frames_huge, BI_FIELD, "opts.n_frames", NULL, VN_ERR_INVALID_ARG,                             \
      NEW_WORLD(WORLD_OPT(o_.n_frames = 1 << 30)))                                                                   \
    R(vn_world_create, channels_4, BI_FIELD, "opts.channels", NULL, VN_ERR_INVALID_ARG,                              \
      NEW_WORLD(WORLD_OPT(o_.channels = 4)))                                                                         \
    R(vn_world_create, noise_nan, BI_FIELD, "opts.noise", NULL, VN_ERR_INVALID_ARG,                                  \
      NEW_WORLD(WORLD_OPT(o_.noise = NAN)))                                                                          \
    R(vn_world_create, jitter_neg, BI_FIELD, "opts.jitter", NULL, VN_ERR_INVALID_ARG,                                \
      NEW_WORLD(WORLD_OPT(o_.jitter = -1)))                                                                          \
    R(vn_world_create, threads_neg, BI_FIELD, "opts.n_threads", NULL, VN_ERR_INVALID_ARG,                            \
      NEW_WORLD(WORLD_OPT(o_.n_threads = -1)))                                                                       \
    R(vn_world_create, std_0, BI_FIELD, "opts.std", NULL, VN_ERR_INVALID_ARG, NEW_WORLD(WORLD_OPT(o_.std[0] = 0)))   \
    BI_DESTROY_ROW(R, vn_world_destroy, world)                                                                       \
    R(vn_world_clip, null_world, BI_NULL, "world", NULL, VN_ERR_INVALID_ARG,                                         \
      vn_world_clip(NULL, VN_TASK_AOT, 0, CLIP_U8, BI_OUT(int)))                                                     \
    R(vn_world_clip, null_out, BI_NULL, "out", NULL, VN_ERR_INVALID_ARG,                                             \
      vn_world_clip(bi_world(), VN_TASK_AOT, 0, NULL, BI_OUT(int)))                                                  \
    R(vn_world_clip, null_label, BI_NULL, "label", NULL, VN_OK,                                                      \
      vn_world_clip(bi_world(), VN_TASK_AOT, 0, CLIP_U8, NULL))                                                      \
    R(vn_world_clip, neg_index, BI_RANGE, "index", NULL, VN_ERR_INVALID_ARG,                                         \
      vn_world_clip(bi_world(), VN_TASK_AOT, -3, CLIP_U8, BI_OUT(int)))                                              \
    R(vn_world_clip, task_999, BI_ENUM, "task", NULL, VN_ERR_INVALID_ARG,                                            \
      vn_world_clip(bi_world(), (vn_world_task)999, 0, CLIP_U8, BI_OUT(int)))                                        \
    R(vn_world_clip, task_neg, BI_ENUM, "task", NULL, VN_ERR_INVALID_ARG,                                            \
      vn_world_clip(bi_world(), (vn_world_task)-1, 0, CLIP_U8, BI_OUT(int)))                                         \
    R(vn_world_clip, task_future, BI_ENUM, "task", "vn_world_future", VN_ERR_INVALID_ARG,                            \
      vn_world_clip(bi_world(), VN_TASK_FUTURE, 0, CLIP_U8, BI_OUT(int)))                                            \
    R(vn_world_clip, wrong_frames, BI_SHAPE, "out", NULL, VN_ERR_SHAPE,                                              \
      vn_world_clip(bi_world(), VN_TASK_AOT, 0, bi_extent(CLIP_U8, 0, 5), BI_OUT(int)))                              \
    R(vn_world_clip, bf16, BI_SHAPE, "out", NULL, VN_ERR_SHAPE,                                                      \
      vn_world_clip(bi_world(), VN_TASK_AOT, 0, bi_dtype(CLIP_U8, VN_DTYPE_BF16), BI_OUT(int)))                      \
    R(vn_world_clip, no_data, BI_SHAPE, "out", NULL, VN_ERR_INVALID_ARG,                                             \
      vn_world_clip(bi_world(), VN_TASK_AOT, 0, bi_nodata(CLIP_U8), BI_OUT(int)))                                    \
    R(vn_world_batch, null_world, BI_NULL, "world", NULL, VN_ERR_INVALID_ARG,                                        \
      vn_world_batch(NULL, VN_TASK_ORDER, 0, BATCH_U8, BI_OUTN(int, 2)))                                             \
    R(vn_world_batch, null_out, BI_NULL, "out", NULL, VN_ERR_INVALID_ARG,                                            \
      vn_world_batch(bi_world(), VN_TASK_ORDER, 0, NULL, BI_OUTN(int, 2)))                                           \
    R(vn_world_batch, null_labels, BI_NULL, "labels", NULL, VN_OK,                                                   \
      vn_world_batch(bi_world(), VN_TASK_ORDER, 0, BATCH_U8, NULL))                                                  \
    R(vn_world_batch, neg_first, BI_RANGE, "first_index", "index -1", VN_ERR_INVALID_ARG,                            \
      vn_world_batch(bi_world(), VN_TASK_ORDER, -1, BATCH_U8, BI_OUTN(int, 2)))                                      \
    R(vn_world_batch, overflow_first, BI_RANGE, "first_index", NULL, VN_ERR_INVALID_ARG,                             \
      vn_world_batch(bi_world(), VN_TASK_ORDER, INT64_MAX, BATCH_U8, BI_OUTN(int, 2)))                               \
    R(vn_world_batch, task_future, BI_ENUM, "task", "vn_world_future", VN_ERR_INVALID_ARG,                           \
      vn_world_batch(bi_world(), VN_TASK_FUTURE, 0, BATCH_U8, BI_OUTN(int, 2)))                                      \
    R(vn_world_batch, task_999, BI_ENUM, "task", NULL, VN_ERR_INVALID_ARG,                                           \
      vn_world_batch(bi_world(), (vn_world_task)999, 0, BATCH_U8, BI_OUTN(int, 2)))                                  \
    R(vn_world_batch, one_channel, BI_SHAPE, "out", NULL, VN_ERR_SHAPE,                                              \
      vn_world_batch(bi_world(), VN_TASK_ORDER, 0, bi_extent(BATCH_U8, 4, 1), BI_OUTN(int, 2)))                      \
    R(vn_world_batch, rank_4, BI_SHAPE, "out", NULL, VN_ERR_SHAPE,                                                   \
      vn_world_batch(bi_world(), VN_TASK_ORDER, 0, bi_rank(BATCH_U8, 4), BI_OUTN(int, 2)))                           \
    R(vn_world_batch, zero_n, BI_SHAPE, "out", NULL, VN_OK, /* an empty batch */                                     \
      vn_world_batch(bi_world(), VN_TASK_ORDER, 0, bi_extent(BATCH_U8, 0, 0), BI_OUTN(int, 2)))                      \
    R(vn_world_future, null_world, BI_NULL, "world", NULL, VN_ERR_INVALID_ARG,                                       \
      vn_world_future(NULL, 0, CONTEXT_U8, CANDS_U8, BI_OUTN(int, 3), BI_OUT(int)))                                  \
    R(vn_world_future, null_context, BI_NULL, "context", NULL, VN_ERR_INVALID_ARG,                                   \
      vn_world_future(bi_world(), 0, NULL, CANDS_U8, BI_OUTN(int, 3), BI_OUT(int)))                                  \
    R(vn_world_future, null_candidates, BI_NULL, "candidates", NULL, VN_ERR_INVALID_ARG,                             \
      vn_world_future(bi_world(), 0, CONTEXT_U8, NULL, BI_OUTN(int, 3), BI_OUT(int)))                                \
    R(vn_world_future, null_kinds, BI_NULL, "kinds", NULL, VN_OK,                                                    \
      vn_world_future(bi_world(), 0, CONTEXT_U8, CANDS_U8, NULL, BI_OUT(int)))                                       \
    R(vn_world_future, null_true_index, BI_NULL, "true_index", NULL, VN_ERR_INVALID_ARG,                             \
      vn_world_future(bi_world(), 0, CONTEXT_U8, CANDS_U8, BI_OUTN(int, 3), NULL))                                   \
    R(vn_world_future, neg_index, BI_RANGE, "index", NULL, VN_ERR_INVALID_ARG,                                       \
      vn_world_future(bi_world(), -1, CONTEXT_U8, CANDS_U8, BI_OUTN(int, 3), BI_OUT(int)))                           \
    R(vn_world_future, wrong_context, BI_SHAPE, "context", NULL, VN_ERR_SHAPE,                                       \
      vn_world_future(bi_world(), 0, bi_extent(CONTEXT_U8, 0, 3), CANDS_U8, BI_OUTN(int, 3), BI_OUT(int)))           \
    R(vn_world_future, wrong_candidates, BI_SHAPE, "candidates", NULL, VN_ERR_SHAPE,                                 \
      vn_world_future(bi_world(), 0, CONTEXT_U8, bi_extent(CANDS_U8, 0, 4), BI_OUTN(int, 3), BI_OUT(int)))           \
    R(vn_world_future, bf16, BI_SHAPE, "candidates", NULL, VN_ERR_SHAPE,                                             \
      vn_world_future(bi_world(), 0, CONTEXT_U8, bi_dtype(CANDS_U8, VN_DTYPE_BF16), BI_OUTN(int, 3), BI_OUT(int)))   \
    R(vn_world_future, candidates_99, BI_STATE, "world", "future_candidates", VN_ERR_INVALID_ARG,                    \
      future_with_99_candidates())                                                                                   \
    R(vn_world_describe, null_world, BI_NULL, "world", NULL, VN_ERR_INVALID_ARG,                                     \
      vn_world_describe(NULL, VN_TASK_AOT, 0, bi_alloc(1024), 1024))                                                 \
    R(vn_world_describe, null_buf, BI_NULL, "buf", NULL, VN_ERR_INVALID_ARG,                                         \
      vn_world_describe(bi_world(), VN_TASK_AOT, 0, NULL, 1024))                                                     \
    R(vn_world_describe, neg_index, BI_RANGE, "index", NULL, VN_ERR_INVALID_ARG,                                     \
      vn_world_describe(bi_world(), VN_TASK_AOT, -1, bi_alloc(1024), 1024))                                          \
    R(vn_world_describe, task_999, BI_ENUM, "task", NULL, VN_ERR_INVALID_ARG,                                        \
      vn_world_describe(bi_world(), (vn_world_task)999, 0, bi_alloc(1024), 1024))                                    \
    R(vn_world_describe, cap_0, BI_RANGE, "cap", NULL, VN_ERR_SHAPE,                                                 \
      vn_world_describe(bi_world(), VN_TASK_AOT, 0, bi_alloc(8), 0))                                                 \
    R(vn_world_describe, cap_8, BI_RANGE, "cap", NULL, VN_ERR_SHAPE,                                                 \
      vn_world_describe(bi_world(), VN_TASK_AOT, 0, bi_alloc(8), 8))

BI_TABLE(bi_rows_loader, ROWS)
