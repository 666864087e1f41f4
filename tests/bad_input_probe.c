/* Bad-input rows of probe.h and timevec.h (the matrix: bad_input.h). Features are
 * bi_features(4): 4 rows of 2, labels 0 0 1 1. The encoder of the embedding rows takes
 * 2 frames of 16 x 16 grey (bi_trainer_config()) and gives width 8. */
#include "bad_input.h"

#include <math.h>

static vn_encoder *enc16(void)
{
    return bi_encoder_with(bi_trainer_config());
}

/* The same, in RGB, for the future task's world (which renders RGB only in bi_world()). */
static vn_encoder_config *rgb_config(void)
{
    vn_encoder_config *c = bi_trainer_config();
    c->channels = 3;
    return c;
}

static vn_status nan_features_linear(void)
{
    vn_tensor *x = bi_t(VN_DTYPE_F32, "4x2");
    ((float *)x->data)[3] = NAN;
    return vn_probe_linear(x, bi_labels(), NULL, bi_features(4), bi_labels(), NULL, 2, NULL,
                           BI_OPT(vn_probe_result, VN_PROBE_RESULT_INIT, ));
}

/* Pointed to from options structs, so static: a compound literal would die with the
 * statement expression that builds the struct. */
static const double one_decay[] = {1e-3}, negative_decay[] = {-1};

static const vn_window_options *window_version_0(void)
{
    vn_window_options w = VN_WINDOW_OPTIONS_INIT;
    w.version = 0;
    return bi_copy(&w, sizeof w);
}

#define X bi_features(4)
#define Y bi_labels()
#define RES(...) BI_OPT(vn_probe_result, VN_PROBE_RESULT_INIT, __VA_ARGS__)
#define LIN(...) BI_OPT(vn_linear_probe_options, VN_LINEAR_PROBE_OPTIONS_INIT, __VA_ARGS__)
#define KNN(...) BI_OPT(vn_knn_probe_options, VN_KNN_PROBE_OPTIONS_INIT, __VA_ARGS__)
#define WIN(...) BI_OPT(vn_window_options, VN_WINDOW_OPTIONS_INIT, __VA_ARGS__)
#define AOT(...) BI_OPT(vn_real_aot_options, VN_REAL_AOT_OPTIONS_INIT, __VA_ARGS__)
#define FUT(...) BI_OPT(vn_future_probe_options, VN_FUTURE_PROBE_OPTIONS_INIT, __VA_ARGS__)
#define FRES(...) BI_OPT(vn_future_probe_result, VN_FUTURE_PROBE_RESULT_INIT, __VA_ARGS__)
#define TVO(...) BI_OPT(vn_timevec_options, VN_TIMEVEC_OPTIONS_INIT, __VA_ARGS__)
#define TVR(...) BI_OPT(vn_timevec_result, VN_TIMEVEC_RESULT_INIT, __VA_ARGS__)
#define EMB(n) bi_t(VN_DTYPE_F32, #n "x8")
#define PIX bi_t(VN_DTYPE_F32, "2x48")
#define TV ((const float[]){1, -1})
#define PATHS2 ((const char *const[]){bi_video_path(), bi_video_path()})
#define LINEAR(train_x, train_y, test_x, test_y, n_classes, opts, out)                                               \
    vn_probe_linear(train_x, train_y, NULL, test_x, test_y, NULL, n_classes, opts, out)
#define KNN_CALL(train_x, train_y, test_x, test_y, n_classes, opts, out)                                             \
    vn_probe_knn(train_x, train_y, test_x, test_y, NULL, n_classes, opts, out)
#define EMBED_WORLD(task, first_index, batch, flags, emb, labels)                                                   \
    vn_probe_embed_world(enc16(), bi_world_for(bi_trainer_config(), 0), task, first_index, batch, flags, emb, labels)
#define EMBED_VIDEO(path, opts, flags, emb, start_s, n)                                                              \
    vn_probe_embed_video(enc16(), path, opts, flags, emb, start_s, n)
#define FUTURE(n_train, n_test, opts, out)                                                                           \
    vn_probe_future(bi_encoder_with(rgb_config()), bi_world_for(rgb_config(), 1), n_train, n_test, opts, out)

#define ROWS(R)                                                                                                      \
    BI_INIT_ROWS(R, vn_probe_result_init, vn_probe_result, res, VN_PROBE_RESULT_VERSION)                             \
    BI_INIT_ROWS(R, vn_linear_probe_options_init, vn_linear_probe_options, opts, VN_LINEAR_PROBE_OPTIONS_VERSION)    \
    BI_INIT_ROWS(R, vn_knn_probe_options_init, vn_knn_probe_options, opts, VN_KNN_PROBE_OPTIONS_VERSION)             \
    BI_INIT_ROWS(R, vn_window_options_init, vn_window_options, opts, VN_WINDOW_OPTIONS_VERSION)                      \
    BI_INIT_ROWS(R, vn_real_aot_options_init, vn_real_aot_options, opts, VN_REAL_AOT_OPTIONS_VERSION)                \
    BI_INIT_ROWS(R, vn_future_probe_options_init, vn_future_probe_options, opts, VN_FUTURE_PROBE_OPTIONS_VERSION)    \
    BI_INIT_ROWS(R, vn_future_probe_result_init, vn_future_probe_result, res, VN_FUTURE_PROBE_RESULT_VERSION)        \
    BI_INIT_ROWS(R, vn_timevec_options_init, vn_timevec_options, opts, VN_TIMEVEC_OPTIONS_VERSION)                   \
    BI_INIT_ROWS(R, vn_timevec_result_init, vn_timevec_result, res, VN_TIMEVEC_RESULT_VERSION)                       \
    R(vn_probe_linear, null_train_x, BI_NULL, "train_x", NULL, VN_ERR_INVALID_ARG,                                   \
      LINEAR(NULL, Y, X, Y, 2, NULL, RES()))                                                                         \
    R(vn_probe_linear, null_train_y, BI_NULL, "train_y", NULL, VN_ERR_INVALID_ARG,                                   \
      LINEAR(X, NULL, X, Y, 2, NULL, RES()))                                                                         \
    R(vn_probe_linear, null_train_groups, BI_NULL, "train_groups", NULL, VN_OK, LINEAR(X, Y, X, Y, 2, NULL, RES()))  \
    R(vn_probe_linear, null_test_x, BI_NULL, "test_x", NULL, VN_ERR_INVALID_ARG,                                     \
      LINEAR(X, Y, NULL, Y, 2, NULL, RES()))                                                                         \
    R(vn_probe_linear, null_test_y, BI_NULL, "test_y", NULL, VN_ERR_INVALID_ARG,                                     \
      LINEAR(X, Y, X, NULL, 2, NULL, RES()))                                                                         \
    R(vn_probe_linear, null_test_groups, BI_NULL, "test_groups", NULL, VN_OK,                                        \
      vn_probe_linear(X, Y, Y, X, Y, NULL, 2, NULL, RES()))                                                          \
    R(vn_probe_linear, null_opts, BI_NULL, "opts", NULL, VN_OK, LINEAR(X, Y, X, Y, 2, NULL, RES()))                  \
    R(vn_probe_linear, null_out, BI_NULL, "out", NULL, VN_ERR_INVALID_ARG, LINEAR(X, Y, X, Y, 2, NULL, NULL))        \
    R(vn_probe_linear, classes_0, BI_RANGE, "n_classes", NULL, VN_ERR_INVALID_ARG,                                   \
      LINEAR(X, Y, X, Y, 0, NULL, RES()))                                                                            \
    R(vn_probe_linear, classes_huge, BI_RANGE, "n_classes", NULL, VN_ERR_INVALID_ARG,                                \
      LINEAR(X, Y, X, Y, 1 << 30, NULL, RES()))                                                                      \
    R(vn_probe_linear, label_out_of_range, BI_RANGE, "train_y", "label", VN_ERR_INVALID_ARG,                         \
      LINEAR(X, ((const int[]){0, 0, 1, 5}), X, Y, 2, NULL, RES()))                                                  \
    R(vn_probe_linear, nan_feature, BI_SHAPE, "train_x", "finite", VN_ERR_INVALID_ARG, nan_features_linear())        \
    R(vn_probe_linear, test_bf16, BI_SHAPE, "test_x", NULL, VN_ERR_SHAPE,                                            \
      LINEAR(X, Y, bi_dtype(X, VN_DTYPE_BF16), Y, 2, NULL, RES()))                                                   \
    R(vn_probe_linear, other_width, BI_SHAPE, "test_x", NULL, VN_ERR_SHAPE,                                          \
      LINEAR(X, Y, bi_t(VN_DTYPE_F32, "4x3"), Y, 2, NULL, RES()))                                                    \
    R(vn_probe_linear, train_empty, BI_SHAPE, "train_x", NULL, VN_ERR_SHAPE,                                         \
      LINEAR(bi_extent(X, 0, 0), Y, X, Y, 2, NULL, RES()))                                                           \
    R(vn_probe_linear, version_0, BI_VERSION, "opts", "version", VN_ERR_VERSION,                                     \
      LINEAR(X, Y, X, Y, 2, LIN(o_.version = 0), RES()))                                                             \
    R(vn_probe_linear, out_version_0, BI_VERSION, "out", "version", VN_ERR_VERSION,                                  \
      LINEAR(X, Y, X, Y, 2, NULL, RES(o_.version = 0)))                                                              \
    R(vn_probe_linear, max_iter_neg, BI_FIELD, "opts.max_iter", NULL, VN_ERR_INVALID_ARG,                            \
      LINEAR(X, Y, X, Y, 2, LIN(o_.max_iter = -1), RES()))                                                           \
    R(vn_probe_linear, val_fraction_1, BI_FIELD, "opts.val_fraction", NULL, VN_ERR_INVALID_ARG,                      \
      LINEAR(X, Y, X, Y, 2, LIN(o_.val_fraction = 1.0), RES()))                                                      \
    R(vn_probe_linear, decays_0, BI_FIELD, "opts.n_weight_decays", NULL, VN_ERR_INVALID_ARG,                         \
      LINEAR(X, Y, X, Y, 2, LIN(o_.weight_decays = one_decay; o_.n_weight_decays = 0), RES()))                       \
    R(vn_probe_linear, decay_neg, BI_FIELD, "opts.weight_decays", NULL, VN_ERR_INVALID_ARG,                          \
      LINEAR(X, Y, X, Y, 2, LIN(o_.weight_decays = negative_decay; o_.n_weight_decays = 1), RES()))                  \
    R(vn_probe_linear, confidence_1, BI_FIELD, "opts.confidence", NULL, VN_ERR_INVALID_ARG,                          \
      LINEAR(X, Y, X, Y, 2, LIN(o_.confidence = 1.0), RES()))                                                        \
    R(vn_probe_knn, null_train_x, BI_NULL, "train_x", NULL, VN_ERR_INVALID_ARG,                                      \
      KNN_CALL(NULL, Y, X, Y, 2, NULL, RES()))                                                                       \
    R(vn_probe_knn, null_train_y, BI_NULL, "train_y", NULL, VN_ERR_INVALID_ARG,                                      \
      KNN_CALL(X, NULL, X, Y, 2, NULL, RES()))                                                                       \
    R(vn_probe_knn, null_test_x, BI_NULL, "test_x", NULL, VN_ERR_INVALID_ARG,                                        \
      KNN_CALL(X, Y, NULL, Y, 2, NULL, RES()))                                                                       \
    R(vn_probe_knn, null_test_y, BI_NULL, "test_y", NULL, VN_ERR_INVALID_ARG,                                        \
      KNN_CALL(X, Y, X, NULL, 2, NULL, RES()))                                                                       \
    R(vn_probe_knn, null_test_groups, BI_NULL, "test_groups", NULL, VN_OK, KNN_CALL(X, Y, X, Y, 2, NULL, RES()))     \
    R(vn_probe_knn, null_opts, BI_NULL, "opts", NULL, VN_OK, KNN_CALL(X, Y, X, Y, 2, NULL, RES()))                   \
    R(vn_probe_knn, null_out, BI_NULL, "out", NULL, VN_ERR_INVALID_ARG, KNN_CALL(X, Y, X, Y, 2, NULL, NULL))         \
    R(vn_probe_knn, classes_1, BI_RANGE, "n_classes", NULL, VN_ERR_INVALID_ARG,                                      \
      KNN_CALL(X, Y, X, Y, 1, NULL, RES()))                                                                          \
    R(vn_probe_knn, classes_neg, BI_RANGE, "n_classes", NULL, VN_ERR_INVALID_ARG,                                    \
      KNN_CALL(X, Y, X, Y, -2, NULL, RES()))                                                                         \
    R(vn_probe_knn, train_rank_1, BI_SHAPE, "train_x", NULL, VN_ERR_SHAPE,                                           \
      KNN_CALL(bi_rank(X, 1), Y, X, Y, 2, NULL, RES()))                                                              \
    R(vn_probe_knn, test_u8, BI_SHAPE, "test_x", NULL, VN_ERR_SHAPE,                                                 \
      KNN_CALL(X, Y, bi_dtype(X, VN_DTYPE_U8), Y, 2, NULL, RES()))                                                   \
    R(vn_probe_knn, version_future, BI_VERSION, "opts", "version", VN_ERR_VERSION,                                   \
      KNN_CALL(X, Y, X, Y, 2, KNN(o_.version = 99), RES()))                                                          \
    R(vn_probe_knn, out_version_0, BI_VERSION, "out", "version", VN_ERR_VERSION,                                     \
      KNN_CALL(X, Y, X, Y, 2, NULL, RES(o_.version = 0)))                                                            \
    R(vn_probe_knn, temperature_nan, BI_FIELD, "opts.temperature", NULL, VN_ERR_INVALID_ARG,                         \
      KNN_CALL(X, Y, X, Y, 2, KNN(o_.temperature = NAN), RES()))                                                     \
    R(vn_probe_knn, k_0, BI_FIELD, "opts.k", NULL, VN_ERR_INVALID_ARG,                                               \
      KNN_CALL(X, Y, X, Y, 2, KNN(o_.k = 0), RES()))                                                                 \
    R(vn_probe_knn, bootstrap_neg, BI_FIELD, "opts.bootstrap", NULL, VN_ERR_INVALID_ARG,                             \
      KNN_CALL(X, Y, X, Y, 2, KNN(o_.bootstrap = -1), RES()))                                                        \
    R(vn_probe_embed_world, null_enc, BI_NULL, "enc", NULL, VN_ERR_INVALID_ARG,                                      \
      vn_probe_embed_world(NULL, bi_world(), VN_TASK_AOT, 0, 0, 0, EMB(2), BI_OUTN(int, 2)))                         \
    R(vn_probe_embed_world, null_world, BI_NULL, "world", NULL, VN_ERR_INVALID_ARG,                                  \
      vn_probe_embed_world(enc16(), NULL, VN_TASK_AOT, 0, 0, 0, EMB(2), BI_OUTN(int, 2)))                            \
    R(vn_probe_embed_world, null_emb, BI_NULL, "emb", NULL, VN_ERR_INVALID_ARG,                                      \
      EMBED_WORLD(VN_TASK_AOT, 0, 0, 0, NULL, BI_OUTN(int, 2)))                                                      \
    R(vn_probe_embed_world, null_labels, BI_NULL, "labels", NULL, VN_ERR_INVALID_ARG,                                \
      EMBED_WORLD(VN_TASK_AOT, 0, 0, 0, EMB(2), NULL))                                                               \
    R(vn_probe_embed_world, task_future, BI_ENUM, "task", NULL, VN_ERR_INVALID_ARG,                                  \
      EMBED_WORLD(VN_TASK_FUTURE, 0, 0, 0, EMB(2), BI_OUTN(int, 2)))                                                 \
    R(vn_probe_embed_world, task_999, BI_ENUM, "task", NULL, VN_ERR_INVALID_ARG,                                     \
      EMBED_WORLD((vn_world_task)999, 0, 0, 0, EMB(2),                                                               \
                           BI_OUTN(int, 2)))                                                                         \
    R(vn_probe_embed_world, first_neg, BI_RANGE, "first_index", NULL, VN_ERR_INVALID_ARG,                            \
      EMBED_WORLD(VN_TASK_AOT, -1, 0, 0, EMB(2), BI_OUTN(int, 2)))                                                   \
    R(vn_probe_embed_world, batch_neg, BI_RANGE, "batch", NULL, VN_OK, /* <= 0: the default */                       \
      EMBED_WORLD(VN_TASK_AOT, 0, -5, 0, EMB(2), BI_OUTN(int, 2)))                                                   \
    R(vn_probe_embed_world, flags_2, BI_RANGE, "flags", NULL, VN_ERR_INVALID_ARG,                                    \
      EMBED_WORLD(VN_TASK_AOT, 0, 0, 2u, EMB(2), BI_OUTN(int, 2)))                                                   \
    R(vn_probe_embed_world, world_mismatch, BI_SHAPE, "world", "the world renders", VN_ERR_SHAPE,                    \
      vn_probe_embed_world(enc16(), bi_world_default(), VN_TASK_AOT, 0, 0, 0, EMB(2), BI_OUTN(int, 2)))              \
    R(vn_probe_embed_world, emb_width, BI_SHAPE, "emb", NULL, VN_ERR_SHAPE,                                          \
      EMBED_WORLD(VN_TASK_AOT, 0, 0, 0, bi_t(VN_DTYPE_F32, "2x7"),                                                   \
                           BI_OUTN(int, 2)))                                                                         \
    R(vn_probe_embed_world, emb_u8, BI_SHAPE, "emb", NULL, VN_ERR_SHAPE,                                             \
      EMBED_WORLD(VN_TASK_AOT, 0, 0, 0,                                                                              \
                           bi_dtype(EMB(2), VN_DTYPE_U8), BI_OUTN(int, 2)))                                          \
    R(vn_probe_embed_video, null_enc, BI_NULL, "enc", NULL, VN_ERR_INVALID_ARG,                                      \
      vn_probe_embed_video(NULL, bi_video_path(), NULL, 0, EMB(1), NULL, BI_OUT(int64_t)))                           \
    R(vn_probe_embed_video, null_path, BI_NULL, "path", NULL, VN_ERR_INVALID_ARG,                                    \
      EMBED_VIDEO(NULL, NULL, 0, EMB(1), NULL, BI_OUT(int64_t)))                                                     \
    R(vn_probe_embed_video, null_opts, BI_NULL, "opts", NULL, VN_OK,                                                 \
      EMBED_VIDEO(bi_video_path(), NULL, 0, EMB(1), NULL, BI_OUT(int64_t)))                                          \
    R(vn_probe_embed_video, null_emb, BI_NULL, "emb", NULL, VN_OK, /* only counts */                                 \
      EMBED_VIDEO(bi_video_path(), NULL, 0, NULL, NULL, BI_OUT(int64_t)))                                            \
    R(vn_probe_embed_video, null_start_s, BI_NULL, "start_s", NULL, VN_OK,                                           \
      EMBED_VIDEO(bi_video_path(), NULL, 0, EMB(1), NULL, BI_OUT(int64_t)))                                          \
    R(vn_probe_embed_video, start_s_without_emb, BI_NULL, "emb", "start_s", VN_ERR_INVALID_ARG,                      \
      EMBED_VIDEO(bi_video_path(), NULL, 0, NULL, BI_OUTN(double, 1), BI_OUT(int64_t)))                              \
    R(vn_probe_embed_video, null_n_windows, BI_NULL, "n_windows", NULL, VN_ERR_INVALID_ARG,                          \
      EMBED_VIDEO(bi_video_path(), NULL, 0, EMB(1), NULL, NULL))                                                     \
    R(vn_probe_embed_video, flags_2, BI_RANGE, "flags", NULL, VN_ERR_INVALID_ARG,                                    \
      EMBED_VIDEO(bi_video_path(), NULL, 2u, EMB(1), NULL, BI_OUT(int64_t)))                                         \
    R(vn_probe_embed_video, version_0, BI_VERSION, "opts", "version", VN_ERR_VERSION,                                \
      EMBED_VIDEO(bi_video_path(), WIN(o_.version = 0), 0, EMB(1), NULL, BI_OUT(int64_t)))                           \
    R(vn_probe_embed_video, stride_0, BI_FIELD, "opts.window_stride", NULL, VN_ERR_INVALID_ARG,                      \
      EMBED_VIDEO(bi_video_path(), WIN(o_.window_stride = 0), 0, EMB(1), NULL, BI_OUT(int64_t)))                     \
    R(vn_probe_embed_video, std_0, BI_FIELD, "opts.std", NULL, VN_ERR_INVALID_ARG,                                   \
      EMBED_VIDEO(bi_video_path(), WIN(o_.std[0] = 0), 0, EMB(1), NULL, BI_OUT(int64_t)))                            \
    R(vn_probe_embed_video, missing, BI_PATH, "path", "no-such-dir/clip.mp4", VN_ERR_NOT_FOUND,                      \
      EMBED_VIDEO(bi_missing("clip.mp4"), NULL, 0, EMB(1), NULL, BI_OUT(int64_t)))                                   \
    R(vn_probe_embed_video, empty_path, BI_PATH, "path", NULL, VN_ERR_INVALID_ARG,                                   \
      EMBED_VIDEO("", NULL, 0, EMB(1), NULL, BI_OUT(int64_t)))                                                       \
    R(vn_probe_embed_video, not_a_video, BI_PATH, "path", "bi_junk.bin", VN_ERR_FORMAT,                              \
      EMBED_VIDEO(bi_junk_path(), NULL, 0, EMB(1), NULL, BI_OUT(int64_t)))                                           \
    R(vn_probe_embed_video, emb_width, BI_SHAPE, "emb", NULL, VN_ERR_SHAPE,                                          \
      EMBED_VIDEO(bi_video_path(), NULL, 0, bi_t(VN_DTYPE_F32, "1x7"), NULL, BI_OUT(int64_t)))                       \
    R(vn_probe_embed_video, emb_no_rows, BI_SHAPE, "emb", NULL, VN_ERR_SHAPE,                                        \
      EMBED_VIDEO(bi_video_path(), NULL, 0, bi_t(VN_DTYPE_F32, "0x8"), NULL, BI_OUT(int64_t)))                       \
    R(vn_probe_real_aot, null_enc, BI_NULL, "enc", NULL, VN_ERR_INVALID_ARG,                                         \
      vn_probe_real_aot(NULL, PATHS2, 2, NULL, RES()))                                                               \
    R(vn_probe_real_aot, null_paths, BI_NULL, "paths", NULL, VN_ERR_INVALID_ARG,                                     \
      vn_probe_real_aot(enc16(), NULL, 2, NULL, RES()))                                                              \
    R(vn_probe_real_aot, null_path_in_paths, BI_NULL, "paths", "paths[1]", VN_ERR_INVALID_ARG,                       \
      vn_probe_real_aot(enc16(), ((const char *const[]){bi_video_path(), NULL}), 2, NULL, RES()))                    \
    R(vn_probe_real_aot, null_opts, BI_NULL, "opts", "bi_junk.bin", VN_ERR_FORMAT,                                   \
      vn_probe_real_aot(enc16(), ((const char *const[]){bi_video_path(), bi_junk_path()}), 2, NULL, RES()))          \
    R(vn_probe_real_aot, null_out, BI_NULL, "out", NULL, VN_ERR_INVALID_ARG,                                         \
      vn_probe_real_aot(enc16(), PATHS2, 2, NULL, NULL))                                                             \
    R(vn_probe_real_aot, one_path, BI_RANGE, "n_paths", NULL, VN_ERR_INVALID_ARG,                                    \
      vn_probe_real_aot(enc16(), PATHS2, 1, NULL, RES()))                                                            \
    R(vn_probe_real_aot, neg_paths, BI_RANGE, "n_paths", NULL, VN_ERR_INVALID_ARG,                                   \
      vn_probe_real_aot(enc16(), PATHS2, -1, NULL, RES()))                                                           \
    R(vn_probe_real_aot, missing, BI_PATH, "paths", "no-such-dir/b.mp4", VN_ERR_NOT_FOUND,                           \
      vn_probe_real_aot(enc16(), ((const char *const[]){bi_video_path(), bi_missing("b.mp4")}), 2, NULL, RES()))     \
    R(vn_probe_real_aot, version_future, BI_VERSION, "opts", "version", VN_ERR_VERSION,                              \
      vn_probe_real_aot(enc16(), PATHS2, 2, AOT(o_.version = 2), RES()))                                             \
    R(vn_probe_real_aot, out_version_0, BI_VERSION, "out", "version", VN_ERR_VERSION,                                \
      vn_probe_real_aot(enc16(), PATHS2, 2, NULL, RES(o_.version = 0)))                                              \
    R(vn_probe_real_aot, folds_0, BI_FIELD, "opts.folds", NULL, VN_ERR_INVALID_ARG,                                  \
      vn_probe_real_aot(enc16(), PATHS2, 2, AOT(o_.folds = 0), RES()))                                               \
    R(vn_probe_real_aot, window_version_0, BI_FIELD, "opts.window", "version", VN_ERR_VERSION,                       \
      vn_probe_real_aot(enc16(), PATHS2, 2, AOT(o_.window = window_version_0()), RES()))                             \
    R(vn_probe_future, null_enc, BI_NULL, "enc", NULL, VN_ERR_INVALID_ARG,                                           \
      vn_probe_future(NULL, bi_world(), 8, 8, NULL, FRES()))                                                         \
    R(vn_probe_future, null_world, BI_NULL, "world", NULL, VN_ERR_INVALID_ARG,                                       \
      vn_probe_future(enc16(), NULL, 8, 8, NULL, FRES()))                                                            \
    R(vn_probe_future, null_opts, BI_NULL, "opts", NULL, VN_OK, FUTURE(8, 8, NULL, FRES()))                          \
    R(vn_probe_future, null_out, BI_NULL, "out", NULL, VN_ERR_INVALID_ARG, FUTURE(8, 8, NULL, NULL))                 \
    R(vn_probe_future, train_0, BI_RANGE, "n_train", NULL, VN_ERR_INVALID_ARG, FUTURE(0, 8, NULL, FRES()))           \
    R(vn_probe_future, train_neg, BI_RANGE, "n_train", NULL, VN_ERR_INVALID_ARG, FUTURE(-8, 8, NULL, FRES()))        \
    R(vn_probe_future, test_0, BI_RANGE, "n_test", NULL, VN_ERR_INVALID_ARG, FUTURE(8, 0, NULL, FRES()))             \
    R(vn_probe_future, test_overflow, BI_RANGE, "n_test", NULL, VN_ERR_INVALID_ARG,                                  \
      FUTURE(8, INT64_MAX, NULL, FRES()))                                                                            \
    R(vn_probe_future, version_0, BI_VERSION, "opts", "version", VN_ERR_VERSION,                                     \
      FUTURE(8, 8, FUT(o_.version = 0), FRES()))                                                                     \
    R(vn_probe_future, out_version_0, BI_VERSION, "out", "version", VN_ERR_VERSION,                                  \
      FUTURE(8, 8, NULL, FRES(o_.version = 0)))                                                                      \
    R(vn_probe_future, map_7, BI_FIELD, "opts.map", NULL, VN_ERR_INVALID_ARG, FUTURE(8, 8, FUT(o_.map = 7), FRES())) \
    R(vn_probe_future, confidence_0, BI_FIELD, "opts.confidence", NULL, VN_ERR_INVALID_ARG,                          \
      FUTURE(8, 8, FUT(o_.confidence = 0), FRES()))                                                                  \
    R(vn_probe_future, world_mismatch, BI_SHAPE, "world", "frames", VN_ERR_SHAPE,                                    \
      vn_probe_future(bi_encoder_with(rgb_config()), bi_world_default(), 8, 8, NULL, FRES()))                        \
    R(vn_probe_pixels_world, null_world, BI_NULL, "world", NULL, VN_ERR_INVALID_ARG,                                 \
      vn_probe_pixels_world(NULL, VN_TASK_AOT, 0, 4, PIX, BI_OUTN(int, 2)))                                          \
    R(vn_probe_pixels_world, null_features, BI_NULL, "features", NULL, VN_ERR_INVALID_ARG,                           \
      vn_probe_pixels_world(bi_world(), VN_TASK_AOT, 0, 4, NULL, BI_OUTN(int, 2)))                                   \
    R(vn_probe_pixels_world, null_labels, BI_NULL, "labels", NULL, VN_ERR_INVALID_ARG,                               \
      vn_probe_pixels_world(bi_world(), VN_TASK_AOT, 0, 4, PIX, NULL))                                               \
    R(vn_probe_pixels_world, task_neg, BI_ENUM, "task", NULL, VN_ERR_INVALID_ARG,                                    \
      vn_probe_pixels_world(bi_world(), (vn_world_task)-1, 0, 4, PIX, BI_OUTN(int, 2)))                              \
    R(vn_probe_pixels_world, first_neg, BI_RANGE, "first_index", NULL, VN_ERR_INVALID_ARG,                           \
      vn_probe_pixels_world(bi_world(), VN_TASK_AOT, -1, 4, PIX, BI_OUTN(int, 2)))                                   \
    R(vn_probe_pixels_world, side_0, BI_RANGE, "side", NULL, VN_ERR_INVALID_ARG,                                     \
      vn_probe_pixels_world(bi_world(), VN_TASK_AOT, 0, 0, PIX, BI_OUTN(int, 2)))                                    \
    R(vn_probe_pixels_world, side_past_size, BI_RANGE, "side", NULL, VN_ERR_INVALID_ARG,                             \
      vn_probe_pixels_world(bi_world(), VN_TASK_AOT, 0, 17, bi_t(VN_DTYPE_F32, "2x867"), BI_OUTN(int, 2)))           \
    R(vn_probe_pixels_world, wrong_width, BI_SHAPE, "features", NULL, VN_ERR_SHAPE,                                  \
      vn_probe_pixels_world(bi_world(), VN_TASK_AOT, 0, 2, PIX, BI_OUTN(int, 2)))                                    \
    R(vn_timevec_fit, null_forward, BI_NULL, "forward", NULL, VN_ERR_INVALID_ARG,                                    \
      vn_timevec_fit(NULL, X, BI_OUTN(float, 2), BI_OUT(double)))                                                    \
    R(vn_timevec_fit, null_reversed, BI_NULL, "reversed", NULL, VN_ERR_INVALID_ARG,                                  \
      vn_timevec_fit(X, NULL, BI_OUTN(float, 2), BI_OUT(double)))                                                    \
    R(vn_timevec_fit, null_t, BI_NULL, "t", NULL, VN_ERR_INVALID_ARG, vn_timevec_fit(X, X, NULL, BI_OUT(double)))    \
    R(vn_timevec_fit, null_offset, BI_NULL, "offset", NULL, VN_ERR_INVALID_ARG,                                      \
      vn_timevec_fit(X, X, BI_OUTN(float, 2), NULL))                                                                 \
    R(vn_timevec_fit, rows_differ, BI_SHAPE, "reversed", NULL, VN_ERR_SHAPE,                                         \
      vn_timevec_fit(X, bi_extent(X, 0, 3), BI_OUTN(float, 2), BI_OUT(double)))                                      \
    R(vn_timevec_fit, forward_i64, BI_SHAPE, "forward", NULL, VN_ERR_SHAPE,                                          \
      vn_timevec_fit(bi_dtype(X, VN_DTYPE_I64), X, BI_OUTN(float, 2), BI_OUT(double)))                               \
    R(vn_timevec_evaluate, null_t, BI_NULL, "t", NULL, VN_ERR_INVALID_ARG,                                           \
      vn_timevec_evaluate(NULL, 0.0, X, X, NULL, TVR()))                                                             \
    R(vn_timevec_evaluate, null_forward, BI_NULL, "forward", NULL, VN_ERR_INVALID_ARG,                               \
      vn_timevec_evaluate(TV, 0.0, NULL, X, NULL, TVR()))                                                            \
    R(vn_timevec_evaluate, null_reversed, BI_NULL, "reversed", NULL, VN_ERR_INVALID_ARG,                             \
      vn_timevec_evaluate(TV, 0.0, X, NULL, NULL, TVR()))                                                            \
    R(vn_timevec_evaluate, null_opts, BI_NULL, "opts", NULL, VN_OK, vn_timevec_evaluate(TV, 0.0, X, X, NULL, TVR())) \
    R(vn_timevec_evaluate, null_out, BI_NULL, "out", NULL, VN_ERR_INVALID_ARG,                                       \
      vn_timevec_evaluate(TV, 0.0, X, X, NULL, NULL))                                                                \
    R(vn_timevec_evaluate, offset_nan, BI_RANGE, "offset", NULL, VN_ERR_INVALID_ARG,                                 \
      vn_timevec_evaluate(TV, NAN, X, X, NULL, TVR()))                                                               \
    R(vn_timevec_evaluate, reversed_width, BI_SHAPE, "reversed", NULL, VN_ERR_SHAPE,                                 \
      vn_timevec_evaluate(TV, 0.0, X, bi_t(VN_DTYPE_F32, "4x3"), NULL, TVR()))                                       \
    R(vn_timevec_evaluate, forward_rank_1, BI_SHAPE, "forward", NULL, VN_ERR_SHAPE,                                  \
      vn_timevec_evaluate(TV, 0.0, bi_rank(X, 1), X, NULL, TVR()))                                                   \
    R(vn_timevec_evaluate, version_0, BI_VERSION, "opts", "version", VN_ERR_VERSION,                                 \
      vn_timevec_evaluate(TV, 0.0, X, X, TVO(o_.version = 0), TVR()))                                                \
    R(vn_timevec_evaluate, out_version_0, BI_VERSION, "out", "version", VN_ERR_VERSION,                              \
      vn_timevec_evaluate(TV, 0.0, X, X, NULL, TVR(o_.version = 0)))                                                 \
    R(vn_timevec_evaluate, confidence_2, BI_FIELD, "opts.confidence", NULL, VN_ERR_INVALID_ARG,                      \
      vn_timevec_evaluate(TV, 0.0, X, X, TVO(o_.confidence = 2), TVR()))                                             \
    R(vn_timevec_evaluate, alpha_nan, BI_FIELD, "opts.alpha", NULL, VN_ERR_INVALID_ARG,                              \
      vn_timevec_evaluate(TV, 0.0, X, X, TVO(o_.alpha = NAN), TVR()))                                                \
    R(vn_timevec_project, null_t, BI_NULL, "t", NULL, VN_ERR_INVALID_ARG,                                            \
      vn_timevec_project(NULL, X, BI_OUTN(double, 4)))                                                               \
    R(vn_timevec_project, null_emb, BI_NULL, "emb", NULL, VN_ERR_INVALID_ARG,                                        \
      vn_timevec_project(TV, NULL, BI_OUTN(double, 4)))                                                              \
    R(vn_timevec_project, null_out, BI_NULL, "out", NULL, VN_ERR_INVALID_ARG, vn_timevec_project(TV, X, NULL))       \
    R(vn_timevec_project, emb_rank_3, BI_SHAPE, "emb", NULL, VN_ERR_SHAPE,                                           \
      vn_timevec_project(TV, bi_rank(X, 3), BI_OUTN(double, 4)))                                                     \
    R(vn_timevec_probe_normal, null_forward, BI_NULL, "forward", NULL, VN_ERR_INVALID_ARG,                           \
      vn_timevec_probe_normal(NULL, X, NULL, BI_OUTN(float, 2)))                                                     \
    R(vn_timevec_probe_normal, null_reversed, BI_NULL, "reversed", NULL, VN_ERR_INVALID_ARG,                         \
      vn_timevec_probe_normal(X, NULL, NULL, BI_OUTN(float, 2)))                                                     \
    R(vn_timevec_probe_normal, null_opts, BI_NULL, "opts", NULL, VN_OK,                                              \
      vn_timevec_probe_normal(X, X, NULL, BI_OUTN(float, 2)))                                                        \
    R(vn_timevec_probe_normal, null_normal, BI_NULL, "normal", NULL, VN_ERR_INVALID_ARG,                             \
      vn_timevec_probe_normal(X, X, NULL, NULL))                                                                     \
    R(vn_timevec_probe_normal, reversed_width, BI_SHAPE, "reversed", NULL, VN_ERR_SHAPE,                             \
      vn_timevec_probe_normal(X, bi_extent(X, 1, 1), NULL, BI_OUTN(float, 2)))                                       \
    R(vn_timevec_probe_normal, forward_strided, BI_SHAPE, "forward", NULL, VN_OK, /* any strides */                  \
      vn_timevec_probe_normal(bi_stride(bi_extent(X, 0, 2), 0, 4), bi_stride(bi_extent(X, 0, 2), 0, 4), NULL,        \
                              BI_OUTN(float, 2)))                                                                    \
    R(vn_timevec_probe_normal, forward_bf16, BI_SHAPE, "forward", NULL, VN_ERR_SHAPE,                                \
      vn_timevec_probe_normal(bi_dtype(X, VN_DTYPE_BF16), X, NULL, BI_OUTN(float, 2)))                               \
    R(vn_timevec_probe_normal, version_0, BI_VERSION, "opts", "version", VN_ERR_VERSION,                             \
      vn_timevec_probe_normal(X, X, LIN(o_.version = 0), BI_OUTN(float, 2)))                                         \
    R(vn_timevec_cosine, null_a, BI_NULL, "a", NULL, VN_ERR_INVALID_ARG,                                             \
      vn_timevec_cosine(NULL, TV, 2, BI_OUT(double)))                                                                \
    R(vn_timevec_cosine, null_b, BI_NULL, "b", NULL, VN_ERR_INVALID_ARG,                                             \
      vn_timevec_cosine(TV, NULL, 2, BI_OUT(double)))                                                                \
    R(vn_timevec_cosine, null_out, BI_NULL, "out", NULL, VN_ERR_INVALID_ARG, vn_timevec_cosine(TV, TV, 2, NULL))     \
    R(vn_timevec_cosine, dim_neg, BI_RANGE, "dim", NULL, VN_ERR_INVALID_ARG,                                         \
      vn_timevec_cosine(TV, TV, -1, BI_OUT(double)))                                                                 \
    R(vn_timevec_cosine, dim_0, BI_RANGE, "dim", NULL, VN_ERR_INVALID_ARG,                                           \
      vn_timevec_cosine(TV, TV, 0, BI_OUT(double)))

BI_TABLE(bi_rows_probe, ROWS)
