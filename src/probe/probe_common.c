/*
 * probe_common.c: what the linear and k-NN probes share: argument checks, the options'
 * defaults, the grouped validation split and the bootstrap interval.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/rng.h"
#include "probe/probe_internal.h"

/* RNG streams, so that the split and the bootstrap draw independently of each other. */
#define STREAM_SPLIT 0x70726f62652d7370ULL
#define STREAM_BOOTSTRAP 0x70726f62652d6273ULL

VN_DEFINE_OPTIONS_INIT(vn_probe_result_init, vn_probe_result, VN_PROBE_RESULT_VERSION, VN_PROBE_RESULT_INIT)
VN_DEFINE_OPTIONS_INIT(vn_linear_probe_options_init, vn_linear_probe_options, VN_LINEAR_PROBE_OPTIONS_VERSION,
                       VN_LINEAR_PROBE_OPTIONS_INIT)
VN_DEFINE_OPTIONS_INIT(vn_knn_probe_options_init, vn_knn_probe_options, VN_KNN_PROBE_OPTIONS_VERSION,
                       VN_KNN_PROBE_OPTIONS_INIT)

/* ---- argument checks ---------------------------------------------------------------- */

vn_status vn_probe_check_features(const char *fn, const char *what, const vn_tensor *x, int64_t *n, int64_t *d)
{
    if (!x)
        return vn_error(VN_ERR_INVALID_ARG, "%s: argument '%s' is NULL", fn, what);
    if (x->dtype != VN_DTYPE_F32)
        return vn_error(VN_ERR_SHAPE, "%s: %s has dtype %s; features must be f32", fn, what, vn_dtype_name(x->dtype));
    if (x->ndim != 2)
        return vn_error(VN_ERR_SHAPE, "%s: %s has %d dimensions; features must be [N, D]", fn, what, x->ndim);
    int64_t rows = x->shape[0], cols = x->shape[1];
    if (rows < 1 || cols < 1)
        return vn_error(VN_ERR_SHAPE, "%s: %s has shape [%lld, %lld]; features need N >= 1 rows and D >= 1 columns",
                        fn, what, (long long)rows, (long long)cols);
    /* Every copy of the features is N * D doubles: refuse sizes whose byte count overflows. */
    if (rows > INT64_MAX / 8 / cols)
        return vn_error(VN_ERR_SHAPE, "%s: %s has shape [%lld, %lld]; too large to copy", fn, what, (long long)rows,
                        (long long)cols);
    if (!x->data)
        return vn_error(VN_ERR_INVALID_ARG, "%s: %s's data pointer is NULL", fn, what);
    /* A NaN would silently poison every score; name the first one instead. */
    const float *p = (const float *)x->data;
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < cols; j++) {
            float v = p[i * x->strides[0] + j * x->strides[1]];
            if (!isfinite(v))
                return vn_error(VN_ERR_INVALID_ARG, "%s: %s[%lld, %lld] is %g; features must be finite", fn, what,
                                (long long)i, (long long)j, (double)v);
        }
    *n = rows;
    *d = cols;
    return VN_OK;
}

vn_status vn_probe_check_n_classes(const char *fn, int n_classes)
{
    if (n_classes < 2 || n_classes > VN_PROBE_MAX_CLASSES)
        return vn_error(VN_ERR_INVALID_ARG, "%s: n_classes is %d; it must be in 2..%d", fn, n_classes,
                        VN_PROBE_MAX_CLASSES);
    return VN_OK;
}

vn_status vn_probe_check_labels(const char *fn, const char *what, const int *y, int64_t n, int n_classes)
{
    for (int64_t i = 0; i < n; i++)
        if (y[i] < 0 || y[i] >= n_classes)
            return vn_error(VN_ERR_INVALID_ARG, "%s: %s[%lld] is %d; labels must be in 0..%d", fn, what, (long long)i,
                            y[i], n_classes - 1);
    return VN_OK;
}

vn_status vn_probe_check_result(const char *fn, const vn_probe_result *out)
{
    VN_CHECK_VERSION(fn, "vn_probe_result", out->version, VN_PROBE_RESULT_VERSION, "VN_PROBE_RESULT_INIT");
    return VN_OK;
}

static vn_status check_interval(const char *fn, int bootstrap, double confidence)
{
    if (bootstrap < 0)
        return vn_error(VN_ERR_INVALID_ARG, "%s: opts->bootstrap is %d; it must be >= 0", fn, bootstrap);
    if (!(confidence > 0.0 && confidence < 1.0))
        return vn_error(VN_ERR_INVALID_ARG, "%s: opts->confidence is %g; it must be in (0, 1)", fn, confidence);
    return VN_OK;
}

vn_status vn_probe_check_linear_options(const char *fn, const vn_linear_probe_options *o)
{
    VN_CHECK_VERSION(fn, "vn_linear_probe_options", o->version, VN_LINEAR_PROBE_OPTIONS_VERSION,
                     "VN_LINEAR_PROBE_OPTIONS_INIT");
    if (o->weight_decays) {
        if (o->n_weight_decays < 1)
            return vn_error(VN_ERR_INVALID_ARG,
                            "%s: opts->n_weight_decays is %d with a weight_decays array; it must be >= 1", fn,
                            o->n_weight_decays);
        for (int i = 0; i < o->n_weight_decays; i++)
            if (!isfinite(o->weight_decays[i]) || o->weight_decays[i] < 0)
                return vn_error(VN_ERR_INVALID_ARG, "%s: opts->weight_decays[%d] is %g; it must be finite and >= 0",
                                fn, i, o->weight_decays[i]);
    }
    if (!(o->val_fraction > 0.0 && o->val_fraction <= 0.9))
        return vn_error(VN_ERR_INVALID_ARG, "%s: opts->val_fraction is %g; it must be in (0, 0.9]", fn,
                        o->val_fraction);
    if (o->max_iter < 1)
        return vn_error(VN_ERR_INVALID_ARG, "%s: opts->max_iter is %d; it must be >= 1", fn, o->max_iter);
    return check_interval(fn, o->bootstrap, o->confidence);
}

vn_status vn_probe_check_knn_options(const char *fn, const vn_knn_probe_options *o)
{
    VN_CHECK_VERSION(fn, "vn_knn_probe_options", o->version, VN_KNN_PROBE_OPTIONS_VERSION,
                     "VN_KNN_PROBE_OPTIONS_INIT");
    if (o->k < 1)
        return vn_error(VN_ERR_INVALID_ARG, "%s: opts->k is %d; it must be >= 1", fn, o->k);
    if (!(o->temperature > 0.0) || !isfinite(o->temperature))
        return vn_error(VN_ERR_INVALID_ARG, "%s: opts->temperature is %g; it must be finite and > 0", fn,
                        o->temperature);
    return check_interval(fn, o->bootstrap, o->confidence);
}

void vn_probe_load_row(const vn_tensor *x, int64_t i, double *dst)
{
    const float *p = (const float *)x->data + i * x->strides[0];
    int64_t s = x->strides[1], d = x->shape[1];
    for (int64_t j = 0; j < d; j++)
        dst[j] = (double)p[j * s];
}

/* ---- groups ------------------------------------------------------------------------- */

typedef struct group_row {
    int group;
    int64_t row;
} group_row;

static int cmp_group_row(const void *a, const void *b)
{
    const group_row *x = a, *y = b;
    if (x->group != y->group)
        return x->group < y->group ? -1 : 1;
    return (x->row > y->row) - (x->row < y->row);
}

int64_t vn_probe_dense_groups(const int *groups, int64_t n, int64_t *dense)
{
    if (!groups) {
        for (int64_t i = 0; i < n; i++)
            dense[i] = i;
        return n;
    }
    group_row *gr = malloc((size_t)n * sizeof *gr);
    if (!gr)
        return -1;
    for (int64_t i = 0; i < n; i++)
        gr[i] = (group_row){groups[i], i};
    qsort(gr, (size_t)n, sizeof *gr, cmp_group_row);
    int64_t g = -1;
    for (int64_t i = 0; i < n; i++) {
        if (i == 0 || gr[i].group != gr[i - 1].group)
            g++;
        dense[gr[i].row] = g;
    }
    free(gr);
    return g + 1;
}

/* Each group's most common label (ties: the lower), from rows listed group by group. */
static void group_labels(const int *y, const int64_t *dense, int64_t n, int64_t n_groups, int n_classes,
                         int *label, int64_t *start, int64_t *rows, int *count)
{
    /* Counting sort of the rows by group: start[g] .. start[g + 1] in rows[]. */
    memset(start, 0, (size_t)(n_groups + 1) * sizeof *start);
    for (int64_t i = 0; i < n; i++)
        start[dense[i] + 1]++;
    for (int64_t g = 0; g < n_groups; g++)
        start[g + 1] += start[g];
    for (int64_t i = 0; i < n; i++)
        rows[start[dense[i]]++] = i;
    for (int64_t g = n_groups; g > 0; g--)
        start[g] = start[g - 1];
    start[0] = 0;
    memset(count, 0, (size_t)n_classes * sizeof *count);
    for (int64_t g = 0; g < n_groups; g++) {
        int best = -1;
        for (int64_t r = start[g]; r < start[g + 1]; r++) {
            int c = y[rows[r]];
            count[c]++;
            if (best < 0 || count[c] > count[best] || (count[c] == count[best] && c < best))
                best = c;
        }
        label[g] = best;
        for (int64_t r = start[g]; r < start[g + 1]; r++)
            count[y[rows[r]]] = 0;
    }
}

vn_status vn_probe_split(const char *fn, const int *y, const int *groups, int64_t n, int n_classes,
                         double val_fraction, uint64_t seed, unsigned char *is_val)
{
    int64_t *dense = malloc((size_t)n * sizeof *dense);
    int64_t *rows = malloc((size_t)n * sizeof *rows);
    int64_t *start = malloc((size_t)(n + 1) * sizeof *start);
    int64_t *order = malloc((size_t)n * sizeof *order);
    int *label = malloc((size_t)n * sizeof *label);
    int64_t *cstart = calloc((size_t)n_classes + 1, sizeof *cstart);
    int *count = malloc((size_t)n_classes * sizeof *count);
    unsigned char *gval = calloc((size_t)n, 1);
    vn_status st = VN_OK;
    int64_t n_groups = 0;
    if (!dense || !rows || !start || !order || !label || !cstart || !count || !gval ||
        (n_groups = vn_probe_dense_groups(groups, n, dense)) < 0) {
        st = vn_error(VN_ERR_OUT_OF_MEMORY, "%s: out of memory for the validation split of %lld rows", fn,
                      (long long)n);
        goto done;
    }
    if (n_groups < 2) {
        st = vn_error(VN_ERR_INVALID_ARG,
                      "%s: the weight-decay sweep needs at least 2 training %s to split off a validation part; "
                      "got %lld (pass a single weight decay to skip the sweep)",
                      fn, groups ? "groups" : "rows", (long long)n_groups);
        goto done;
    }
    group_labels(y, dense, n, n_groups, n_classes, label, start, rows, count);

    /* The groups of each label, in group order: cstart[c] .. cstart[c + 1] in order[]. */
    for (int64_t g = 0; g < n_groups; g++)
        cstart[label[g] + 1]++;
    for (int c = 0; c < n_classes; c++)
        cstart[c + 1] += cstart[c];
    for (int64_t g = 0; g < n_groups; g++)
        order[cstart[label[g]]++] = g;
    for (int c = n_classes; c > 0; c--)
        cstart[c] = cstart[c - 1];
    cstart[0] = 0;

    vn_rng rng;
    vn_rng_seed(&rng, seed, STREAM_SPLIT);
    int64_t n_val = 0;
    for (int c = 0; c < n_classes; c++) {
        int64_t *list = order + cstart[c], m = cstart[c + 1] - cstart[c];
        for (int64_t i = m - 1; i > 0; i--) {
            int64_t j = (int64_t)vn_rng_below(&rng, (uint64_t)i + 1);
            int64_t t = list[i];
            list[i] = list[j];
            list[j] = t;
        }
        /* A label with one group keeps it for training: a class the fit never saw is
         * worth less than a validation part that lacks it. */
        int64_t take = m < 2 ? 0 : (int64_t)floor(val_fraction * (double)m + 0.5);
        if (m >= 2 && take < 1)
            take = 1;
        if (m >= 2 && take > m - 1)
            take = m - 1;
        for (int64_t i = 0; i < take; i++)
            gval[list[i]] = 1;
        n_val += take;
    }
    if (n_val == 0) /* every label has a single group: hold out one group anyway */
        gval[vn_rng_below(&rng, (uint64_t)n_groups)] = 1;
    for (int64_t i = 0; i < n; i++)
        is_val[i] = gval[dense[i]];
done:
    free(dense);
    free(rows);
    free(start);
    free(order);
    free(label);
    free(cstart);
    free(count);
    free(gval);
    return st;
}

/* ---- bootstrap ---------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The q-quantile of sorted v[0..n-1], interpolating linearly between order statistics. */
static double quantile(const double *v, int n, double q)
{
    double pos = q * (double)(n - 1);
    int lo = (int)floor(pos);
    if (lo >= n - 1)
        return v[n - 1];
    double t = pos - (double)lo;
    return v[lo] + t * (v[lo + 1] - v[lo]);
}

vn_status vn_probe_bootstrap(const char *fn, const unsigned char *correct, const int *groups, int64_t n,
                             int bootstrap, double confidence, uint64_t seed, double *lo, double *hi)
{
    int64_t hits = 0;
    for (int64_t i = 0; i < n; i++)
        hits += correct[i] != 0;
    double acc = (double)hits / (double)n;
    *lo = *hi = acc;
    if (bootstrap == 0)
        return VN_OK;
    int64_t *dense = malloc((size_t)n * sizeof *dense);
    int64_t *g_rows = calloc((size_t)n, sizeof *g_rows);
    int64_t *g_hits = calloc((size_t)n, sizeof *g_hits);
    double *accs = malloc((size_t)bootstrap * sizeof *accs);
    int64_t n_groups = -1;
    if (!dense || !g_rows || !g_hits || !accs || (n_groups = vn_probe_dense_groups(groups, n, dense)) < 0) {
        free(dense);
        free(g_rows);
        free(g_hits);
        free(accs);
        return vn_error(VN_ERR_OUT_OF_MEMORY, "%s: out of memory for %d bootstrap resamples of %lld rows", fn,
                        bootstrap, (long long)n);
    }
    for (int64_t i = 0; i < n; i++) {
        g_rows[dense[i]]++;
        g_hits[dense[i]] += correct[i] != 0;
    }
    vn_rng rng;
    vn_rng_seed(&rng, seed, STREAM_BOOTSTRAP);
    for (int b = 0; b < bootstrap; b++) {
        int64_t tot = 0, cor = 0;
        for (int64_t j = 0; j < n_groups; j++) {
            int64_t g = (int64_t)vn_rng_below(&rng, (uint64_t)n_groups);
            tot += g_rows[g];
            cor += g_hits[g];
        }
        accs[b] = (double)cor / (double)tot;
    }
    qsort(accs, (size_t)bootstrap, sizeof *accs, cmp_double);
    double alpha = 1.0 - confidence;
    /* With few or very unequal groups the percentile interval can miss the observed
     * accuracy; a report whose interval excludes its own estimate only confuses. */
    *lo = fmin(quantile(accs, bootstrap, alpha / 2), acc);
    *hi = fmax(quantile(accs, bootstrap, 1.0 - alpha / 2), acc);
    free(dense);
    free(g_rows);
    free(g_hits);
    free(accs);
    return VN_OK;
}

vn_status vn_probe_check_sets(const char *fn, const vn_tensor *train_x, const int *train_y, const vn_tensor *test_x,
                              const int *test_y, int n_classes, int64_t *n, int64_t *d, int64_t *m)
{
    int64_t d_test;
    vn_status st;
    if ((st = vn_probe_check_n_classes(fn, n_classes)) ||
        (st = vn_probe_check_features(fn, "train_x", train_x, n, d)) ||
        (st = vn_probe_check_features(fn, "test_x", test_x, m, &d_test)))
        return st;
    if (d_test != *d)
        return vn_error(VN_ERR_SHAPE, "%s: train_x has %lld columns but test_x has %lld; they must match", fn,
                        (long long)*d, (long long)d_test);
    if ((st = vn_probe_check_labels(fn, "train_y", train_y, *n, n_classes)) ||
        (st = vn_probe_check_labels(fn, "test_y", test_y, *m, n_classes)))
        return st;
    return VN_OK;
}
