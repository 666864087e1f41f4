/*
 * Internals shared by the probes (probe.h): argument checks, feature copies, the grouped
 * validation split, the bootstrap interval and the logistic-regression fit. The tests
 * call the split and the fit directly, so these stay free of the public structs where
 * they can.
 */
#ifndef VN_PROBE_INTERNAL_H
#define VN_PROBE_INTERNAL_H

#include <stdint.h>

#include "vnative/probe.h"

#define VN_PROBE_MAX_CLASSES 1024

/* ---- argument checks (every message names fn, the argument and the bad value) ---- */

/* x must be float32 [N, D] with N, D >= 1, any strides, finite values. */
vn_status vn_probe_check_features(const char *fn, const char *what, const vn_tensor *x, int64_t *n, int64_t *d);
vn_status vn_probe_check_n_classes(const char *fn, int n_classes);
vn_status vn_probe_check_labels(const char *fn, const char *what, const int *y, int64_t n, int n_classes);
/* out->version must be one this build knows. */
vn_status vn_probe_check_result(const char *fn, const vn_probe_result *out);
/* The checks every probe makes of its training and test sets: features [n, d] and
 * [m, d] with the same d, labels in 0..n_classes-1. */
vn_status vn_probe_check_sets(const char *fn, const vn_tensor *train_x, const int *train_y, const vn_tensor *test_x,
                              const int *test_y, int n_classes, int64_t *n, int64_t *d, int64_t *m);
vn_status vn_probe_check_linear_options(const char *fn, const vn_linear_probe_options *o);
vn_status vn_probe_check_knn_options(const char *fn, const vn_knn_probe_options *o);

/* Row i of x (float32 [N, D], any strides) as D doubles. */
void vn_probe_load_row(const vn_tensor *x, int64_t i, double *dst);

/* ---- groups, split, bootstrap ---------------------------------------------------- */

/* Dense group ids 0..G-1, numbered in the order of the sorted group values so that the
 * numbering does not depend on row order. groups NULL: each row is its own group.
 * Returns G, or -1 when memory runs out. */
int64_t vn_probe_dense_groups(const int *groups, int64_t n, int64_t *dense);

/* Mark the rows of the validation part (is_val[i] = 1). Groups never straddle the two
 * parts. Each group is filed under its most common label (ties: the lower), and each
 * label's groups are split val_fraction / rest, keeping at least one group of a label
 * on each side when it has two or more; so both parts see every class they can.
 * Deterministic in seed. Returns VN_ERR_INVALID_ARG (with a message naming fn) when
 * fewer than 2 groups exist, VN_ERR_OUT_OF_MEMORY when memory runs out. */
vn_status vn_probe_split(const char *fn, const int *y, const int *groups, int64_t n, int n_classes,
                         double val_fraction, uint64_t seed, unsigned char *is_val);

/* Percentile bootstrap interval of mean(correct), resampling groups (or rows when
 * groups is NULL) with replacement; the accuracy of a resample pools its rows. The
 * interval is widened, if it must be, to contain the observed accuracy. bootstrap 0
 * gives lo = hi = the accuracy. Deterministic in seed. */
vn_status vn_probe_bootstrap(const char *fn, const unsigned char *correct, const int *groups, int64_t n,
                             int bootstrap, double confidence, uint64_t seed, double *lo, double *hi);

/* ---- multinomial logistic regression (linear.c) ---------------------------------- */

/* Parameters: W [C][D] row-major, then the bias b [C]; C * (D + 1) doubles. */
typedef struct vn_logreg_problem {
    const double *x; /* [n][d], contiguous */
    const int *y;    /* n labels in 0..c-1 */
    int64_t n;
    int64_t d;
    int c;
    double wd; /* loss = mean cross-entropy + wd / 2 * |W|^2; the bias is not penalised */
} vn_logreg_problem;

typedef struct vn_logreg_info {
    int iterations;
    int evaluations;
    double loss;
    double grad_inf; /* infinity norm of the gradient at the returned parameters */
} vn_logreg_info;

/* Loss at params; grad (C * (D + 1)) receives the gradient when non-NULL.
 * Returns NAN when memory runs out. */
double vn_logreg_loss_grad(const vn_logreg_problem *p, const double *params, double *grad);

/* Minimise by L-BFGS from the parameters given (zeros for a cold start), in place.
 * Stops after max_iter iterations, when the gradient's infinity norm falls below
 * gtol, when an iteration lowers the loss by less than ftol relative to it (ftol 0:
 * never), or when the line search can no longer lower the loss. */
vn_status vn_logreg_fit(const vn_logreg_problem *p, int max_iter, double gtol, double ftol, double *params,
                        vn_logreg_info *info);

/* correct[i] = 1 when argmax_c (W x_i + b) (ties: the lower class) equals y[i]. */
void vn_logreg_score(const double *params, int64_t d, int c, const double *x, const int *y, int64_t n,
                     unsigned char *correct);

/* ---- the linear probe split into its fit and its scoring (linear_probe.c) ---------- */

/* What vn_probe_linear fits: the parameters on standardised features, the
 * standardisation (x' = (x - mean) * scale), and what the sweep chose. */
typedef struct vn_linear_fit {
    int64_t d;
    int c;
    double *params; /* c * (d + 1), see vn_logreg_problem */
    double *mean, *scale;
    double weight_decay, val_accuracy, train_accuracy;
} vn_linear_fit;

/* The sweep and the final fit of vn_probe_linear on checked arguments (x float32
 * [n >= 1, d >= 1], labels in 0..n_classes-1, checked options). On success the caller
 * frees fit with vn_probe_linear_fit_free; on failure nothing is left to free. */
vn_status vn_probe_linear_fit(const char *fn, const vn_tensor *train_x, const int *train_y, const int *train_groups,
                              int n_classes, const vn_linear_probe_options *o, vn_linear_fit *fit);
/* correct[i] = 1 when the fit classifies row i of x (float32 [m, d], any strides) as y[i]. */
vn_status vn_probe_linear_apply(const char *fn, const vn_linear_fit *fit, const vn_tensor *x, const int *y,
                                unsigned char *correct);
void vn_probe_linear_fit_free(vn_linear_fit *fit);

/* ---- real footage (embed_video.c, real_aot.c) -------------------------------------- */

/* vn_probe_embed_video with both directions from one decode: fwd and rev (either may be
 * NULL; both NULL only counts) get the windows played forward and backward. */
vn_status vn_probe_embed_video_both(const char *fn, const vn_encoder *enc, const char *path,
                                    const vn_window_options *o, vn_tensor *fwd, vn_tensor *rev, double *start_s,
                                    int64_t *n_windows);
vn_status vn_probe_check_window_options(const char *fn, const vn_window_options *o);

/* Deal the sources with at least one window (n_windows[s] > 0) into folds: shuffled by
 * seed, then each, the largest first, to the fold with the fewest windows so far (ties:
 * the lower fold), so the folds' sizes come out close. fold_of[s] gets the fold, or -1
 * for a source without windows. Returns the number of folds used, min(folds, sources
 * with windows), or -1 when memory runs out. */
int vn_probe_deal_folds(const int64_t *n_windows, int n_sources, int folds, uint64_t seed, int *fold_of);

#endif
