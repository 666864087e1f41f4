/*
 * timevec.c: the time vector t = mean(forward) - mean(reversed) and what it can do alone.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "probe/probe_internal.h"
#include "vnative/timevec.h"

VN_DEFINE_OPTIONS_INIT(vn_timevec_options_init, vn_timevec_options, VN_TIMEVEC_OPTIONS_VERSION,
                       VN_TIMEVEC_OPTIONS_INIT)
VN_DEFINE_OPTIONS_INIT(vn_timevec_result_init, vn_timevec_result, VN_TIMEVEC_RESULT_VERSION,
                       VN_TIMEVEC_RESULT_INIT)

/* forward and reversed: the same [N, D], N >= 1. */
static vn_status check_pairs(const char *fn, const vn_tensor *fwd, const vn_tensor *rev, int64_t *n, int64_t *d)
{
    int64_t n2, d2;
    vn_status st;
    if ((st = vn_probe_check_features(fn, "forward", fwd, n, d)) ||
        (st = vn_probe_check_features(fn, "reversed", rev, &n2, &d2)))
        return st;
    if (n2 != *n || d2 != *d)
        return vn_error(VN_ERR_SHAPE, "%s: forward is [%lld, %lld] but reversed is [%lld, %lld]; they must match", fn,
                        (long long)*n, (long long)*d, (long long)n2, (long long)d2);
    return VN_OK;
}

static double dot_row(const vn_tensor *x, int64_t i, const double *v, int64_t d)
{
    const float *p = (const float *)x->data + i * x->strides[0];
    double s = 0.0;
    for (int64_t j = 0; j < d; j++)
        s += (double)p[j * x->strides[1]] * v[j];
    return s;
}

vn_status vn_timevec_fit(const vn_tensor *forward, const vn_tensor *reversed, float *t, double *offset)
{
    static const char fn[] = "vn_timevec_fit";
    VN_CHECK_NULL(forward);
    VN_CHECK_NULL(reversed);
    VN_CHECK_NULL(t);
    VN_CHECK_NULL(offset);
    int64_t n, d;
    vn_status st = check_pairs(fn, forward, reversed, &n, &d);
    if (st)
        return st;
    double *mf = calloc((size_t)(2 * d), sizeof *mf), *row = malloc((size_t)d * sizeof *row);
    if (!mf || !row) {
        free(mf);
        free(row);
        return vn_error(VN_ERR_OUT_OF_MEMORY, "%s: no memory for %lld columns", fn, (long long)d);
    }
    double *mr = mf + d;
    for (int64_t i = 0; i < n; i++) {
        vn_probe_load_row(forward, i, row);
        for (int64_t j = 0; j < d; j++)
            mf[j] += row[j] / (double)n;
        vn_probe_load_row(reversed, i, row);
        for (int64_t j = 0; j < d; j++)
            mr[j] += row[j] / (double)n;
    }
    double off = 0.0;
    for (int64_t j = 0; j < d; j++) {
        double tj = mf[j] - mr[j];
        t[j] = (float)tj;
        off += (double)t[j] * 0.5 * (mf[j] + mr[j]);
    }
    *offset = off;
    free(mf);
    free(row);
    return VN_OK;
}

/* Cosine similarities are taken on unit rows: normalise a copy. */
static void unit_rows(double *x, int64_t n, int64_t d)
{
    for (int64_t i = 0; i < n; i++) {
        double s = 0.0;
        for (int64_t j = 0; j < d; j++)
            s += x[i * d + j] * x[i * d + j];
        double inv = s > 0.0 ? 1.0 / sqrt(s) : 0.0;
        for (int64_t j = 0; j < d; j++)
            x[i * d + j] *= inv;
    }
}

/* R@1 of queries q_i = f_i - alpha t among the rows r_j: how often the nearest (cosine,
 * ties to the lower index) is j = i. */
static double reversal_r1(const double *f, const double *r_unit, const double *t, int64_t n, int64_t d,
                          double alpha, double *q)
{
    int64_t hits = 0;
    for (int64_t i = 0; i < n; i++) {
        for (int64_t j = 0; j < d; j++)
            q[j] = f[i * d + j] - alpha * t[j];
        int64_t best = 0;
        double best_s = -INFINITY;
        for (int64_t k = 0; k < n; k++) {
            double s = 0.0;
            for (int64_t j = 0; j < d; j++)
                s += q[j] * r_unit[k * d + j];
            if (s > best_s) {
                best_s = s;
                best = k;
            }
        }
        hits += best == i;
    }
    return (double)hits / (double)n;
}

vn_status vn_timevec_evaluate(const float *t, double offset, const vn_tensor *forward, const vn_tensor *reversed,
                              const vn_timevec_options *opts, vn_timevec_result *out)
{
    static const char fn[] = "vn_timevec_evaluate";
    VN_CHECK_NULL(t);
    VN_CHECK_NULL(forward);
    VN_CHECK_NULL(reversed);
    VN_CHECK_NULL(out);
    VN_CHECK_VERSION(fn, "vn_timevec_result", out->version, VN_TIMEVEC_RESULT_VERSION, "VN_TIMEVEC_RESULT_INIT");
    const vn_timevec_options def = VN_TIMEVEC_OPTIONS_INIT;
    const vn_timevec_options *o = opts ? opts : &def;
    VN_CHECK_VERSION(fn, "vn_timevec_options", o->version, VN_TIMEVEC_OPTIONS_VERSION, "VN_TIMEVEC_OPTIONS_INIT");
    if (!isfinite(o->alpha) || o->bootstrap < 0 || !(o->confidence > 0.0 && o->confidence < 1.0))
        return vn_error(VN_ERR_INVALID_ARG,
                        "%s: options alpha %g (finite), bootstrap %d (>= 0) and confidence %g (in (0, 1)) are out of "
                        "range",
                        fn, o->alpha, o->bootstrap, o->confidence);
    if (!isfinite(offset))
        return vn_error(VN_ERR_INVALID_ARG, "%s: offset is %g; it must be finite", fn, offset);
    int64_t n, d;
    vn_status st = check_pairs(fn, forward, reversed, &n, &d);
    if (st)
        return st;
    for (int64_t j = 0; j < d; j++)
        if (!isfinite(t[j]))
            return vn_error(VN_ERR_INVALID_ARG, "%s: t[%lld] is %g; the time vector must be finite", fn, (long long)j,
                            (double)t[j]);
    double *f = malloc((size_t)(n * d) * sizeof *f), *r = malloc((size_t)(n * d) * sizeof *r);
    double *td = malloc((size_t)(2 * d) * sizeof *td);
    unsigned char *correct = malloc((size_t)(2 * n));
    int *groups = malloc((size_t)(2 * n) * sizeof *groups);
    if (!f || !r || !td || !correct || !groups) {
        st = vn_error(VN_ERR_OUT_OF_MEMORY, "%s: no memory for %lld pairs of %lld columns", fn, (long long)n,
                      (long long)d);
        goto done;
    }
    double tn = 0.0;
    for (int64_t j = 0; j < d; j++) {
        td[j] = t[j];
        tn += td[j] * td[j];
    }
    tn = sqrt(tn);
    int64_t right = 0, pairs_right = 0;
    double gap = 0.0;
    for (int64_t i = 0; i < n; i++) {
        vn_probe_load_row(forward, i, f + i * d);
        vn_probe_load_row(reversed, i, r + i * d);
        double pf = dot_row(forward, i, td, d), pr = dot_row(reversed, i, td, d);
        /* A zero t (a bag-of-images encoder) decides nothing: count half of each. */
        correct[2 * i] = tn > 0.0 && pf - offset > 0.0;
        correct[2 * i + 1] = tn > 0.0 && pr - offset < 0.0;
        groups[2 * i] = groups[2 * i + 1] = (int)i;
        right += correct[2 * i] + correct[2 * i + 1];
        pairs_right += tn > 0.0 && pf > pr;
        if (tn > 0.0)
            gap += (pf - pr) / tn / (double)n;
    }
    vn_timevec_result res = *out;
    res.n = n;
    res.sign_accuracy = tn > 0.0 ? (double)right / (double)(2 * n) : 0.5;
    res.pair_accuracy = tn > 0.0 ? (double)pairs_right / (double)n : 0.5;
    res.mean_gap = gap;
    if (tn > 0.0) {
        if ((st = vn_probe_bootstrap(fn, correct, groups, 2 * n, o->bootstrap, o->confidence, o->seed, &res.ci_low,
                                     &res.ci_high)))
            goto done;
    } else {
        res.ci_low = res.ci_high = 0.5;
    }
    unit_rows(r, n, d);
    double *q = td + d;
    res.reversal_r1 = reversal_r1(f, r, td, n, d, o->alpha, q);
    res.reversal_r1_base = reversal_r1(f, r, td, n, d, 0.0, q);
    *out = res;
done:
    free(f);
    free(r);
    free(td);
    free(correct);
    free(groups);
    return st;
}

vn_status vn_timevec_project(const float *t, const vn_tensor *emb, double *out)
{
    static const char fn[] = "vn_timevec_project";
    VN_CHECK_NULL(t);
    VN_CHECK_NULL(emb);
    VN_CHECK_NULL(out);
    int64_t n, d;
    vn_status st = vn_probe_check_features(fn, "emb", emb, &n, &d);
    if (st)
        return st;
    double *u = malloc((size_t)d * sizeof *u), s = 0.0;
    if (!u)
        return vn_error(VN_ERR_OUT_OF_MEMORY, "%s: no memory for %lld columns", fn, (long long)d);
    for (int64_t j = 0; j < d; j++) {
        u[j] = t[j];
        s += u[j] * u[j];
    }
    if (!isfinite(s)) {
        free(u);
        return vn_error(VN_ERR_INVALID_ARG, "%s: t has a non-finite entry", fn);
    }
    double inv = s > 0.0 ? 1.0 / sqrt(s) : 0.0;
    for (int64_t j = 0; j < d; j++)
        u[j] *= inv;
    for (int64_t i = 0; i < n; i++)
        out[i] = dot_row(emb, i, u, d);
    free(u);
    return VN_OK;
}

vn_status vn_timevec_cosine(const float *a, const float *b, int64_t dim, double *out)
{
    VN_CHECK_NULL(a);
    VN_CHECK_NULL(b);
    VN_CHECK_NULL(out);
    if (dim < 1)
        return vn_error(VN_ERR_INVALID_ARG, "vn_timevec_cosine: dim is %lld; it must be >= 1", (long long)dim);
    double ab = 0.0, aa = 0.0, bb = 0.0;
    for (int64_t j = 0; j < dim; j++) {
        ab += (double)a[j] * b[j];
        aa += (double)a[j] * a[j];
        bb += (double)b[j] * b[j];
    }
    if (!isfinite(ab) || !isfinite(aa) || !isfinite(bb))
        return vn_error(VN_ERR_INVALID_ARG, "vn_timevec_cosine: a vector has a non-finite entry");
    *out = aa > 0.0 && bb > 0.0 ? ab / sqrt(aa * bb) : 0.0;
    return VN_OK;
}

vn_status vn_timevec_probe_normal(const vn_tensor *forward, const vn_tensor *reversed,
                                  const vn_linear_probe_options *opts, float *normal)
{
    static const char fn[] = "vn_timevec_probe_normal";
    VN_CHECK_NULL(forward);
    VN_CHECK_NULL(reversed);
    VN_CHECK_NULL(normal);
    const vn_linear_probe_options def = VN_LINEAR_PROBE_OPTIONS_INIT;
    const vn_linear_probe_options *o = opts ? opts : &def;
    int64_t n, d;
    vn_status st = check_pairs(fn, forward, reversed, &n, &d);
    if (st || (st = vn_probe_check_linear_options(fn, o)))
        return st;
    if (n < 2)
        return vn_error(VN_ERR_INVALID_ARG, "%s: %lld pair; the probe needs 2 or more", fn, (long long)n);
    float *x = malloc((size_t)(2 * n * d) * sizeof *x);
    double *row = malloc((size_t)d * sizeof *row);
    int *y = malloc((size_t)(2 * n) * sizeof *y), *g = malloc((size_t)(2 * n) * sizeof *g);
    if (!x || !row || !y || !g) {
        st = vn_error(VN_ERR_OUT_OF_MEMORY, "%s: no memory for %lld pairs", fn, (long long)n);
        goto done;
    }
    for (int64_t i = 0; i < n; i++) {
        for (int s = 0; s < 2; s++) {
            vn_probe_load_row(s ? reversed : forward, i, row);
            for (int64_t j = 0; j < d; j++)
                x[(2 * i + s) * d + j] = (float)row[j];
            y[2 * i + s] = s ? 0 : 1;
            g[2 * i + s] = (int)i;
        }
    }
    int64_t shape[2] = {2 * n, d};
    vn_tensor tx;
    vn_tensor_init(&tx, x, VN_DTYPE_F32, 2, shape);
    vn_linear_fit fit;
    if ((st = vn_probe_linear_fit(fn, &tx, y, g, 2, o, &fit)))
        goto done;
    /* class 1's row minus class 0's, taken back through the standardisation */
    for (int64_t j = 0; j < d; j++)
        normal[j] = (float)((fit.params[1 * d + j] - fit.params[0 * d + j]) * fit.scale[j]);
    vn_probe_linear_fit_free(&fit);
done:
    free(x);
    free(row);
    free(y);
    free(g);
    return st;
}
