/** @file
 * vnative/probe.h: frozen-feature probes, which measure what an embedding already knows.
 *
 * A probe never changes the encoder. Embeddings are extracted once (vn_probe_embed_world,
 * or vn_encoder_encode on your own clips), then a small classifier is fitted on them:
 *
 *   linear  L2-regularised logistic regression (softmax over n_classes, with a bias),
 *           fitted in C by L-BFGS in double precision on features standardised by the
 *           mean and standard deviation of all training rows (a column whose deviation
 *           is below 1e-8 becomes 0). The loss is the mean cross-entropy plus
 *           weight_decay / 2 * |W|^2; the bias is not penalised. The L2 strength is
 *           chosen on a validation split of the training rows (best validation
 *           accuracy; ties go to the larger strength), then the probe is refitted on all
 *           training rows.
 *   k-NN    cosine similarity, the k nearest training rows vote with weight
 *           exp(sim / temperature) (the DINO protocol: k = 20, temperature 0.07).
 *           Equally similar rows rank by lower training row, and a tied vote goes to
 *           the lower class.
 *
 * Both report the test accuracy with a percentile bootstrap confidence interval
 * (resampling test rows, or test groups when groups are given, with replacement),
 * widened if need be so that it always contains the accuracy.
 *
 * Features are float32 [N, D] views (any strides); labels are int in 0..n_classes-1.
 * Groups (may be NULL) keep related rows together: rows that share a group (windows of
 * one source video, say) are never split between the sweep's train and validation
 * parts, and are resampled together by the bootstrap.
 *
 * Errors of vn_probe_linear and vn_probe_knn: NULL pointers, labels outside
 * 0..n_classes-1, n_classes outside 2..1024, non-finite features and out-of-range
 * options give VN_ERR_INVALID_ARG; a feature view that is not float32 [N >= 1, D >= 1],
 * or train and test of different D, give VN_ERR_SHAPE; a version field this build does
 * not know gives VN_ERR_VERSION. On any error *out is left untouched.
 *
 * Thread safety: every function here is reentrant; none keeps the caller's buffers.
 * The probes use OpenMP threads (OMP_NUM_THREADS); their results do not depend on the
 * number of threads.
 */
#ifndef VNATIVE_PROBE_H
#define VNATIVE_PROBE_H

#include "vnative/common.h"
#include "vnative/encoder.h"
#include "vnative/tensor.h"
#include "vnative/world.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The score of a linear or k-NN probe. */
typedef struct vn_probe_result {
    unsigned int version;  /**< VN_PROBE_RESULT_VERSION */
    double accuracy;       /**< on the test rows */
    double ci_low;         /**< bootstrap interval of accuracy at opts->confidence */
    double ci_high;        /**< upper end of that interval */
    double train_accuracy; /**< linear: of the final fit on its own training rows; k-NN: NaN */
    double val_accuracy;   /**< linear: the best validation accuracy of the sweep (NaN when a
                                single weight decay is given, so nothing is swept); k-NN: NaN */
    double weight_decay;   /**< linear: the chosen L2 strength; k-NN: NaN */
    int64_t n_train;       /**< training rows */
    int64_t n_test;        /**< test rows */
} vn_probe_result;

#define VN_PROBE_RESULT_VERSION 1 /**< the version of vn_probe_result this header describes */
/** Static initialiser of vn_probe_result: the current version and the defaults. */
#define VN_PROBE_RESULT_INIT { VN_PROBE_RESULT_VERSION, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0, 0 }

/** The probes check out->version: initialise it with VN_PROBE_RESULT_INIT or this. */
VN_API vn_status vn_probe_result_init(vn_probe_result *res, unsigned int version);

/** Options of vn_probe_linear: the L2 sweep, the fit, the bootstrap. */
typedef struct vn_linear_probe_options {
    unsigned int version;        /**< VN_LINEAR_PROBE_OPTIONS_VERSION */
    const double *weight_decays; /**< L2 strengths to sweep, finite and >= 0; NULL: 1e-6, 1e-5, ..., 1e1.
                                      A single strength skips the sweep and holds out nothing. */
    int n_weight_decays;         /**< entries of weight_decays, >= 1 (ignored when it is NULL) */
    double val_fraction;         /**< share of training groups (rows, without groups) held out by the
                                      sweep, in (0, 0.9]; each class is split separately, and a class
                                      with a single group stays on the training side */
    int max_iter;                /**< L-BFGS iterations per fit, >= 1. A fit also stops when the
                                      gradient's largest entry is below 1e-6 or an iteration lowers
                                      the loss by less than 1e-12 of it */
    int bootstrap;               /**< resamples for the interval; 0: ci_low = ci_high = accuracy */
    double confidence;           /**< of the interval, in (0, 1) */
    uint64_t seed;               /**< the validation split and the bootstrap */
} vn_linear_probe_options;

#define VN_LINEAR_PROBE_OPTIONS_VERSION 1 /**< the version of vn_linear_probe_options this header describes */
/** Static initialiser of vn_linear_probe_options: the current version and the defaults. */
#define VN_LINEAR_PROBE_OPTIONS_INIT { VN_LINEAR_PROBE_OPTIONS_VERSION, NULL, 0, 0.25, 200, 1000, 0.95, 0 }

/** Fill *opts with the defaults of the given version (VN_LINEAR_PROBE_OPTIONS_VERSION). */
VN_API vn_status vn_linear_probe_options_init(vn_linear_probe_options *opts, unsigned int version);

/** Options of vn_probe_knn. */
typedef struct vn_knn_probe_options {
    unsigned int version; /**< VN_KNN_PROBE_OPTIONS_VERSION */
    int k;              /**< neighbours that vote, >= 1 (capped at the training rows) */
    double temperature; /**< vote weight exp(cosine / temperature), > 0 */
    int bootstrap;      /**< resamples for the interval; 0: ci_low = ci_high = accuracy */
    double confidence;  /**< of the interval, in (0, 1) */
    uint64_t seed;      /**< the bootstrap */
} vn_knn_probe_options;

#define VN_KNN_PROBE_OPTIONS_VERSION 1 /**< the version of vn_knn_probe_options this header describes */
/** Static initialiser of vn_knn_probe_options: the current version and the defaults. */
#define VN_KNN_PROBE_OPTIONS_INIT { VN_KNN_PROBE_OPTIONS_VERSION, 20, 0.07, 1000, 0.95, 0 }

/** Fill *opts with the defaults of the given version (VN_KNN_PROBE_OPTIONS_VERSION). */
VN_API vn_status vn_knn_probe_options_init(vn_knn_probe_options *opts, unsigned int version);

/** Fit the linear probe on (train_x, train_y) and score it on (test_x, test_y).
 * train_groups and test_groups may be NULL. opts may be NULL for the defaults.
 * A sweep over several weight decays needs at least 2 training groups (rows, without
 * groups) to hold one out; otherwise it fails with VN_ERR_INVALID_ARG. */
VN_API vn_status vn_probe_linear(const vn_tensor *train_x, const int *train_y, const int *train_groups,
                                 const vn_tensor *test_x, const int *test_y, const int *test_groups,
                                 int n_classes, const vn_linear_probe_options *opts, vn_probe_result *out);

/** Score the k-NN probe. Rows with zero norm have cosine 0 to everything. test_groups
 * (may be NULL) only shape the bootstrap; opts may be NULL for the defaults. */
VN_API vn_status vn_probe_knn(const vn_tensor *train_x, const int *train_y, const vn_tensor *test_x,
                              const int *test_y, const int *test_groups, int n_classes,
                              const vn_knn_probe_options *opts, vn_probe_result *out);

/** Flags of vn_probe_embed_world. */
#define VN_PROBE_EMBED_REVERSED 1u /**< play every clip backwards before encoding it */

/** Embed clips first_index..first_index+N-1 of a binary world task with a frozen
 * encoder: emb is float32 [N, D] (D = the encoder's dim, any strides) and labels gets
 * the N task labels (of the clips as rendered, whatever flags say). The world's frames,
 * size and channels must match the encoder's config. Clips are rendered and encoded
 * batch clips at a time (batch <= 0: 32). flags: 0 or VN_PROBE_EMBED_REVERSED. */
VN_API vn_status vn_probe_embed_world(const vn_encoder *enc, const vn_world *world, vn_world_task task,
                                      int64_t first_index, int batch, unsigned flags, vn_tensor *emb, int *labels);

/* ---- real footage: windows of a video file, and the arrow of time on them ---------- */

/** How a video is cut into windows of the encoder's `frames` frames. Window k starts at
 * frame k * window_stride and samples every frame_step-th frame from there; only whole
 * windows count, so a video of n frames has
 *   n >= span ? (n - span) / window_stride + 1 : 0   windows, span = (frames - 1) * frame_step + 1.
 * Every frame is resized so its short side is the encoder's size, centre-cropped to a
 * square, and normalised as (x / 255 - mean) / std (gray, for a 1-channel encoder, uses
 * mean[0] and std[0]). The defaults match vn_world's float output, so an encoder trained
 * on the world sees real footage on the scale it knows. */
typedef struct vn_window_options {
    unsigned int version;  /**< VN_WINDOW_OPTIONS_VERSION */
    int frame_step;        /**< source frames between the sampled frames of a window, >= 1 */
    int window_stride;     /**< source frames between window starts, >= 1 */
    int max_windows;       /**< 0: every window; else at most this many, evenly spaced over the video */
    float mean[3];         /**< per channel, subtracted from x / 255 */
    float std[3];          /**< per channel, > 0 */
} vn_window_options;

#define VN_WINDOW_OPTIONS_VERSION 1 /**< the version of vn_window_options this header describes */
/** Static initialiser of vn_window_options: the current version and the defaults. */
#define VN_WINDOW_OPTIONS_INIT { VN_WINDOW_OPTIONS_VERSION, 1, 8, 0, {0.5f, 0.5f, 0.5f}, {0.25f, 0.25f, 0.25f} }

/** Fill *opts with the defaults of the given version (VN_WINDOW_OPTIONS_VERSION). */
VN_API vn_status vn_window_options_init(vn_window_options *opts, unsigned int version);

/** Embed the windows of the video at path with a frozen encoder, in order of their start.
 * emb is float32 [cap, D] (D = the encoder's dim, any strides, cap >= 1): rows
 * 0 .. min(cap, *n_windows) - 1 are written, and start_s (may be NULL; cap entries) gets
 * the start time in seconds of each. *n_windows is the number of windows the video has
 * under opts (after max_windows); 0, for a video shorter than one window, is not an
 * error. emb NULL only counts (start_s must then be NULL too). opts may be NULL for the
 * defaults; flags: 0 or VN_PROBE_EMBED_REVERSED (each window played backwards). Windows
 * are encoded 16 at a time. A missing file gives VN_ERR_NOT_FOUND, one that is not a
 * video VN_ERR_FORMAT, with a message naming the file. */
VN_API vn_status vn_probe_embed_video(const vn_encoder *enc, const char *path, const vn_window_options *opts,
                                      unsigned flags, vn_tensor *emb, double *start_s, int64_t *n_windows);

/** The arrow of time on real footage (Pickup et al., "Seeing the arrow of time", CVPR
 * 2014): every window of every video is embedded played forward (label 1) and backward
 * (label 0). The videos with at least one window are dealt into folds by source, so that
 * no video has windows on both sides of a split; for each fold the linear probe (the
 * sweep of vn_probe_linear, its validation split grouped by source) is fitted on the
 * other folds and scores the held-out one. The result pools the held-out windows of every
 * fold: accuracy over all of them, its interval from a bootstrap over sources;
 * weight_decay is the median of the folds' choices (of two middle ones, the stronger);
 * val_accuracy and train_accuracy the means over folds; n_train = n_test = 2 x the
 * windows. A fold whose training part is a single video splits its validation part by
 * window instead (the forward and backward plays of a window stay together). */
typedef struct vn_real_aot_options {
    unsigned int version;            /**< VN_REAL_AOT_OPTIONS_VERSION */
    const vn_window_options *window; /**< NULL: VN_WINDOW_OPTIONS_INIT; a pointer, not a copy, so
                                          that either struct can grow on its own */
    int folds;                       /**< >= 2, capped at the videos that have a window */
    int bootstrap;                   /**< resamples of sources for the interval; 0: none */
    double confidence;               /**< in (0, 1) */
    uint64_t seed;                   /**< the folds, the validation splits and the bootstrap */
} vn_real_aot_options;

#define VN_REAL_AOT_OPTIONS_VERSION 1 /**< the version of vn_real_aot_options this header describes */
/** Static initialiser of vn_real_aot_options: the current version and the defaults. */
#define VN_REAL_AOT_OPTIONS_INIT { VN_REAL_AOT_OPTIONS_VERSION, NULL, 5, 1000, 0.95, 0 }

/** Fill *opts with the defaults of the given version (VN_REAL_AOT_OPTIONS_VERSION). */
VN_API vn_status vn_real_aot_options_init(vn_real_aot_options *opts, unsigned int version);

/** Run the protocol above on n_paths >= 2 videos; opts may be NULL for the defaults.
 * Fewer than 2 videos with a window is VN_ERR_INVALID_ARG; an unreadable video fails as
 * in vn_probe_embed_video. On any error *out is left untouched. */
VN_API vn_status vn_probe_real_aot(const vn_encoder *enc, const char *const *paths, int n_paths,
                                   const vn_real_aot_options *opts, vn_probe_result *out);

/* ---- future-clip retrieval ---------------------------------------------------------- */

#define VN_FUTURE_MAP_RIDGE 0 /**< a ridge map from context to continuation embeddings, fitted on training queries */
#define VN_FUTURE_MAP_NONE 1  /**< the context embedding itself scores the candidates */

/** Options of vn_probe_future. */
typedef struct vn_future_probe_options {
    unsigned int version; /**< VN_FUTURE_PROBE_OPTIONS_VERSION */
    int map;           /**< VN_FUTURE_MAP_RIDGE or VN_FUTURE_MAP_NONE */
    int batch;         /**< queries rendered and encoded at once; <= 0: 8 */
    int bootstrap;     /**< resamples of the test queries for the intervals; 0: none */
    double confidence; /**< of the intervals, in (0, 1) */
    uint64_t seed;     /**< the bootstrap */
} vn_future_probe_options;

#define VN_FUTURE_PROBE_OPTIONS_VERSION 1 /**< the version of vn_future_probe_options this header describes */
/** Static initialiser of vn_future_probe_options: the current version and the defaults. */
#define VN_FUTURE_PROBE_OPTIONS_INIT { VN_FUTURE_PROBE_OPTIONS_VERSION, VN_FUTURE_MAP_RIDGE, 8, 1000, 0.95, 0 }

/** Fill *opts with the defaults of the given version (VN_FUTURE_PROBE_OPTIONS_VERSION). */
VN_API vn_status vn_future_probe_options_init(vn_future_probe_options *opts, unsigned int version);

/** The scores of future-clip retrieval (vn_probe_future). */
typedef struct vn_future_probe_result {
    unsigned int version;             /**< VN_FUTURE_PROBE_RESULT_VERSION */
    double r1;                        /**< the true continuation ranked first (ties count against it) */
    double r1_ci_low;                 /**< bootstrap interval of r1 */
    double r1_ci_high;                /**< bootstrap interval of r1 */
    double r5;                        /**< ranked in the first five */
    double mrr;                       /**< mean reciprocal rank of the true continuation */
    double hard_negative;             /**< the true continuation scored above its own reversal; a tie (1e-4 in
                                           cosine) counts one half, so a model blind to direction scores 0.5 */
    double hard_ci_low;               /**< bootstrap interval of hard_negative */
    double hard_ci_high;              /**< bootstrap interval of hard_negative */
    double ridge;                     /**< the map's chosen strength; NaN with VN_FUTURE_MAP_NONE */
    int64_t n_queries;                /**< test queries scored */
    int candidates;                   /**< per query */
} vn_future_probe_result;

#define VN_FUTURE_PROBE_RESULT_VERSION 1 /**< the version of vn_future_probe_result this header describes */
/** Static initialiser of vn_future_probe_result: the current version and the defaults. */
#define VN_FUTURE_PROBE_RESULT_INIT                                                                    \
    { VN_FUTURE_PROBE_RESULT_VERSION, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0, 0 }

/** Fill *res with the defaults of the given version (VN_FUTURE_PROBE_RESULT_VERSION). */
VN_API vn_status vn_future_probe_result_init(vn_future_probe_result *res, unsigned int version);

/** Future-clip retrieval with a frozen encoder on the world's future task: queries
 * 0..n_train-1 fit the map (its ridge strength chosen by MRR on their last quarter),
 * queries n_train..n_train+n_test-1 are scored: each ranks its candidates by the cosine
 * between the mapped context embedding and the candidate's embedding. The world must
 * give contexts and continuations of the encoder's length: n_frames = 2 x frames and
 * future_context = frames, at the encoder's size and channels. */
VN_API vn_status vn_probe_future(const vn_encoder *enc, const vn_world *world, int64_t n_train, int64_t n_test,
                                 const vn_future_probe_options *opts, vn_future_probe_result *out);

/** The pixel baseline: clips first_index..first_index+N-1 of a binary world task as raw
 * frame differences, with no encoder. Each frame is made gray and averaged over blocks to
 * side x side cells in [0, 1]; the features of a clip are frame t+1 minus frame t for every
 * t: float32 [N, (frames - 1) * side * side] (any strides). labels gets the N labels. */
VN_API vn_status vn_probe_pixels_world(const vn_world *world, vn_world_task task, int64_t first_index, int side,
                                       vn_tensor *features, int *labels);

#ifdef __cplusplus
}
#endif

#endif
