/*
 * linear_probe.c: the linear probe. Logistic regression (linear.c) on standardised
 * features, its L2 strength chosen on a grouped validation split; split into a fit and
 * its scoring so that cross-validation (real_aot.c) can fit once per fold.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "probe/probe_internal.h"

#define GTOL 1e-6
/* A fit whose iteration lowers the loss by less than this (relative) has converged as
 * far as accuracy can tell; without it, fits that cannot reach GTOL (separable data at
 * a tiny weight decay, a class missing from the sweep's train part) spin to max_iter. */
#define FTOL 1e-12
#define STD_FLOOR 1e-8

static double accuracy_of(const unsigned char *correct, int64_t n)
{
    int64_t hits = 0;
    for (int64_t i = 0; i < n; i++)
        hits += correct[i];
    return (double)hits / (double)n;
}

/* Train rows in order[] (the sweep's train part first), standardised by the mean and
 * standard deviation of all training rows. A column whose deviation is below STD_FLOOR
 * carries nothing and becomes 0. */
static void standardise(const vn_tensor *tx, const int64_t *order, int64_t n, int64_t d, double *xt, double *mean,
                        double *scale)
{
    for (int64_t i = 0; i < n; i++)
        vn_probe_load_row(tx, order[i], xt + i * d);
    for (int64_t j = 0; j < d; j++)
        mean[j] = scale[j] = 0.0;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < d; j++)
            mean[j] += xt[i * d + j];
    for (int64_t j = 0; j < d; j++)
        mean[j] /= (double)n;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < d; j++) {
            double v = xt[i * d + j] - mean[j];
            scale[j] += v * v;
        }
    for (int64_t j = 0; j < d; j++) {
        double sd = sqrt(scale[j] / (double)n);
        scale[j] = sd < STD_FLOOR ? 0.0 : 1.0 / sd;
    }
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < d; j++)
            xt[i * d + j] = (xt[i * d + j] - mean[j]) * scale[j];
}

static const double default_wds[] = {1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1e0, 1e1};

void vn_probe_linear_fit_free(vn_linear_fit *fit)
{
    if (!fit)
        return;
    free(fit->params);
    free(fit->mean);
    free(fit->scale);
    fit->params = fit->mean = fit->scale = NULL;
}

vn_status vn_probe_linear_fit(const char *fn, const vn_tensor *train_x, const int *train_y, const int *train_groups,
                              int n_classes, const vn_linear_probe_options *o, vn_linear_fit *fit)
{
    const int64_t n = train_x->shape[0], d = train_x->shape[1];
    const double *wds = o->weight_decays ? o->weight_decays : default_wds;
    const int n_wds = o->weight_decays ? o->n_weight_decays : (int)(sizeof default_wds / sizeof *default_wds);
    const int c = n_classes;
    const int64_t np = (int64_t)c * (d + 1);
    vn_status st = VN_OK;
    *fit = (vn_linear_fit){d, c, NULL, NULL, NULL, 0.0, NAN, NAN};

    unsigned char *is_val = calloc((size_t)n, 1);
    int64_t *order = malloc((size_t)n * sizeof *order);
    int *y = malloc((size_t)n * sizeof *y);
    int *wd_order = malloc((size_t)n_wds * sizeof *wd_order);
    double *xt = malloc((size_t)(n * d) * sizeof *xt);
    double *best = calloc((size_t)np, sizeof *best);
    unsigned char *correct = malloc((size_t)n);
    fit->mean = malloc((size_t)d * sizeof *fit->mean);
    fit->scale = malloc((size_t)d * sizeof *fit->scale);
    fit->params = calloc((size_t)np, sizeof *fit->params);
    double *params = fit->params;
    if (!is_val || !order || !y || !wd_order || !xt || !best || !correct || !fit->mean || !fit->scale || !params) {
        st = vn_error(VN_ERR_OUT_OF_MEMORY, "%s: out of memory for %lld training rows of %lld features", fn,
                      (long long)n, (long long)d);
        goto done;
    }
    /* A single weight decay needs no sweep, so no rows are held out for one. */
    const int sweep = n_wds > 1;
    if (sweep && (st = vn_probe_split(fn, train_y, train_groups, n, c, o->val_fraction, o->seed, is_val)))
        goto done;
    int64_t n_fit = 0;
    for (int64_t i = 0; i < n; i++)
        if (!is_val[i])
            order[n_fit++] = i;
    for (int64_t i = 0, k = n_fit; i < n; i++)
        if (is_val[i])
            order[k++] = i;
    for (int64_t i = 0; i < n; i++)
        y[i] = train_y[order[i]];
    standardise(train_x, order, n, d, xt, fit->mean, fit->scale);

    double chosen = wds[0], val_acc = NAN;
    if (sweep) {
        /* Strongest decay first: each fit starts from the previous, smoother, solution. */
        for (int i = 0; i < n_wds; i++) {
            int j = i;
            while (j > 0 && wds[wd_order[j - 1]] < wds[i]) {
                wd_order[j] = wd_order[j - 1];
                j--;
            }
            wd_order[j] = i;
        }
        val_acc = -1.0;
        for (int i = 0; i < n_wds; i++) {
            vn_logreg_problem prob = {xt, y, n_fit, d, c, wds[wd_order[i]]};
            if ((st = vn_logreg_fit(&prob, o->max_iter, GTOL, FTOL, params, NULL)))
                goto done;
            vn_logreg_score(params, d, c, xt + n_fit * d, y + n_fit, n - n_fit, correct);
            double acc = accuracy_of(correct, n - n_fit);
            if (acc > val_acc) { /* strict: a tie keeps the stronger decay, met first */
                val_acc = acc;
                chosen = wds[wd_order[i]];
                memcpy(best, params, (size_t)np * sizeof *best);
            }
        }
        memcpy(params, best, (size_t)np * sizeof *params);
    }
    vn_logreg_problem all = {xt, y, n, d, c, chosen};
    if ((st = vn_logreg_fit(&all, o->max_iter, GTOL, FTOL, params, NULL)))
        goto done;
    vn_logreg_score(params, d, c, xt, y, n, correct);
    fit->train_accuracy = accuracy_of(correct, n);
    fit->val_accuracy = val_acc;
    fit->weight_decay = chosen;
done:
    if (st)
        vn_probe_linear_fit_free(fit);
    free(is_val);
    free(order);
    free(y);
    free(wd_order);
    free(xt);
    free(best);
    free(correct);
    return st;
}

vn_status vn_probe_linear_apply(const char *fn, const vn_linear_fit *fit, const vn_tensor *x, const int *y,
                                unsigned char *correct)
{
    const int64_t m = x->shape[0], d = fit->d;
    double *xs = malloc((size_t)(m * d) * sizeof *xs);
    if (!xs)
        return vn_error(VN_ERR_OUT_OF_MEMORY, "%s: out of memory for %lld test rows of %lld features", fn,
                        (long long)m, (long long)d);
    for (int64_t i = 0; i < m; i++) {
        vn_probe_load_row(x, i, xs + i * d);
        for (int64_t j = 0; j < d; j++)
            xs[i * d + j] = (xs[i * d + j] - fit->mean[j]) * fit->scale[j];
    }
    vn_logreg_score(fit->params, d, fit->c, xs, y, m, correct);
    free(xs);
    return VN_OK;
}

vn_status vn_probe_linear(const vn_tensor *train_x, const int *train_y, const int *train_groups,
                          const vn_tensor *test_x, const int *test_y, const int *test_groups, int n_classes,
                          const vn_linear_probe_options *opts, vn_probe_result *out)
{
    static const char fn[] = "vn_probe_linear";
    VN_CHECK_NULL(train_x);
    VN_CHECK_NULL(train_y);
    VN_CHECK_NULL(test_x);
    VN_CHECK_NULL(test_y);
    VN_CHECK_NULL(out);
    vn_status st = vn_probe_check_result(fn, out);
    const vn_linear_probe_options def = VN_LINEAR_PROBE_OPTIONS_INIT;
    const vn_linear_probe_options *o = opts ? opts : &def;
    int64_t n, d, m;
    if (st || (st = vn_probe_check_linear_options(fn, o)) ||
        (st = vn_probe_check_sets(fn, train_x, train_y, test_x, test_y, n_classes, &n, &d, &m)))
        return st;
    vn_linear_fit fit;
    if ((st = vn_probe_linear_fit(fn, train_x, train_y, train_groups, n_classes, o, &fit)))
        return st;
    unsigned char *correct = malloc((size_t)m);
    double lo, hi;
    if (!correct)
        st = vn_error(VN_ERR_OUT_OF_MEMORY, "%s: out of memory for %lld test rows", fn, (long long)m);
    else if (!(st = vn_probe_linear_apply(fn, &fit, test_x, test_y, correct)) &&
             !(st = vn_probe_bootstrap(fn, correct, test_groups, m, o->bootstrap, o->confidence, o->seed, &lo, &hi))) {
        vn_probe_result res = {out->version, accuracy_of(correct, m), lo,   hi, fit.train_accuracy,
                               fit.val_accuracy,  fit.weight_decay,        n,  m};
        *out = res;
    }
    free(correct);
    vn_probe_linear_fit_free(&fit);
    return st;
}
