/** @file
 * vnative/timevec.h: the "time vector", one direction in embedding space for the arrow
 * of time.
 *
 * Given embeddings of clips played forward and of the same clips played backward, the
 * time vector is t = mean(forward) - mean(reversed). If an encoder has one shared arrow
 * of time, then:
 *   - the sign of the projection on t alone tells forward from reversed
 *     (vn_timevec_evaluate: sign_accuracy, pair_accuracy);
 *   - t found on one task points the same way as t found on another, or on real footage
 *     (vn_timevec_cosine);
 *   - reversing a clip is arithmetic: emb(reversed x) is the nearest reversed embedding
 *     to emb(x) - alpha * t (reversal_r1, against reversal_r1_base with alpha = 0);
 *   - the projection on t along a sliding window follows a video's direction
 *     (vn_timevec_project).
 *
 * A bag-of-images encoder embeds a clip and its reversal identically: t is the zero
 * vector and every number here is at chance.
 *
 * Embeddings are float32 [N, D] views (any strides). Row i of forward and row i of
 * reversed are the same clip, both ways. Every function is reentrant.
 */
#ifndef VNATIVE_TIMEVEC_H
#define VNATIVE_TIMEVEC_H

#include "vnative/common.h"
#include "vnative/probe.h"
#include "vnative/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Fit the time vector. t (D floats) = mean(forward) - mean(reversed), and offset =
 * t . (mean(forward) + mean(reversed)) / 2: the threshold halfway between the two classes
 * on the projection. */
VN_API vn_status vn_timevec_fit(const vn_tensor *forward, const vn_tensor *reversed, float *t, double *offset);

/** Options of vn_timevec_evaluate. */
typedef struct vn_timevec_options {
    unsigned int version; /**< VN_TIMEVEC_OPTIONS_VERSION */
    double alpha;      /**< reversal by arithmetic: the query is emb(x) - alpha * t */
    int bootstrap;     /**< resamples of the pairs for the interval of sign_accuracy; 0: none */
    double confidence; /**< of that interval, in (0, 1) */
    uint64_t seed;     /**< the bootstrap */
} vn_timevec_options;

#define VN_TIMEVEC_OPTIONS_VERSION 1 /**< the version of vn_timevec_options this header describes */
/** Static initialiser of vn_timevec_options: the current version and the defaults. */
#define VN_TIMEVEC_OPTIONS_INIT { VN_TIMEVEC_OPTIONS_VERSION, 1.0, 1000, 0.95, 0 }

/** Fill *opts with the defaults of the given version (VN_TIMEVEC_OPTIONS_VERSION). */
VN_API vn_status vn_timevec_options_init(vn_timevec_options *opts, unsigned int version);

/** How well a time vector separates forward from reversed clips (vn_timevec_evaluate). */
typedef struct vn_timevec_result {
    unsigned int version;     /**< VN_TIMEVEC_RESULT_VERSION */
    double sign_accuracy;     /**< of the 2N rows, those on the right side of offset along t */
    double ci_low;            /**< bootstrap interval of sign_accuracy (resampling pairs) */
    double ci_high;           /**< bootstrap interval of sign_accuracy (resampling pairs) */
    double pair_accuracy;     /**< pairs whose forward row projects higher than its reversed row */
    double reversal_r1;       /**< R@1 of forward_i - alpha t retrieving reversed_i, cosine, among all N */
    double reversal_r1_base;  /**< the same with alpha = 0: how often the clip itself finds its reversal */
    double mean_gap;          /**< the arrow's length: the mean projection of forward_i - reversed_i on t / |t| */
    int64_t n;                /**< pairs */
} vn_timevec_result;

#define VN_TIMEVEC_RESULT_VERSION 1 /**< the version of vn_timevec_result this header describes */
/** Static initialiser of vn_timevec_result: the current version and the defaults. */
#define VN_TIMEVEC_RESULT_INIT { VN_TIMEVEC_RESULT_VERSION, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0 }

/** Fill *res with the defaults of the given version (VN_TIMEVEC_RESULT_VERSION). */
VN_API vn_status vn_timevec_result_init(vn_timevec_result *res, unsigned int version);

/** Score a time vector (t, offset from vn_timevec_fit, D = forward's columns) on pairs it
 * was not fitted on. A zero t scores 0.5 on the accuracies. opts may be NULL. */
VN_API vn_status vn_timevec_evaluate(const float *t, double offset, const vn_tensor *forward,
                                     const vn_tensor *reversed, const vn_timevec_options *opts,
                                     vn_timevec_result *out);

/** Projections of the N rows of emb on the unit vector t / |t| (N doubles into out). A zero
 * t gives zeros. */
VN_API vn_status vn_timevec_project(const float *t, const vn_tensor *emb, double *out);

/** The probe normal: the direction a linear probe (vn_probe_linear's fit, with its L2
 * sweep; pairs kept together by the split) finds for forward (1) against reversed (0)
 * on these pairs, in the raw embedding space: the decision is normal . x + b. normal
 * gets D floats. The cosine between it and t says whether the best linear reading of the
 * arrow of time is the mean difference itself. opts may be NULL. */
VN_API vn_status vn_timevec_probe_normal(const vn_tensor *forward, const vn_tensor *reversed,
                                         const vn_linear_probe_options *opts, float *normal);

/** The cosine between two D-vectors; 0 when either is zero. */
VN_API vn_status vn_timevec_cosine(const float *a, const float *b, int64_t dim, double *out);

#ifdef __cplusplus
}
#endif

#endif
