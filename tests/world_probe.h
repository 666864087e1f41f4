/*
 * The shortcut test's tools: clip features and an L2-regularised logistic regression.
 *
 * Frame-level features see each frame alone and average over the clip: colour
 * histograms and coarse spatial means, what a bag-of-images model can use at most
 * linearly. Temporal features look at how frames follow each other: frame-difference
 * energy over time and the vertical motion of the foreground.
 */
#ifndef VN_TEST_WORLD_PROBE_H
#define VN_TEST_WORLD_PROBE_H

#include <stdint.h>

#define WP_MAX_FEATURES 160

/* Features of a uint8 [T, S, S, C] clip into out; return how many were written. */
int wp_frame_features(const uint8_t *clip, int T, int S, int C, double *out);
int wp_temporal_features(const uint8_t *clip, int T, int S, int C, double *out);

typedef struct wp_result {
    double heldout_accuracy; /* on rows n_train..n-1 */
    double train_accuracy;
    double lambda;           /* chosen by cross-validation on the training rows */
} wp_result;

/* Fit on rows [0, n_train) of x (n x d, row-major) with labels y in {0, 1}, choosing the
 * L2 strength by 3-fold cross-validation on those rows, and score rows [n_train, n).
 * Features are standardised with the training rows' mean and deviation. */
wp_result wp_logreg_holdout(const double *x, const int *y, int n, int d, int n_train);

#endif
