/*
 * real_aot.c: the arrow of time on real footage, cross-validated by source video.
 *
 * Windows of one video share its scene, lighting and camera, so a probe that trains on
 * one window and tests on its neighbour can pass by recognising the video. Folds are
 * therefore made of whole videos, the sweep's validation split is grouped by video, and
 * the interval resamples videos: the number that comes out is about clips the probe has
 * never seen any part of.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/rng.h"
#include "probe/probe_internal.h"

/* An RNG stream of its own, so that the folds draw independently of split and bootstrap. */
#define STREAM_FOLDS 0x70726f62652d666fULL
#define LABEL_FORWARD 1
#define LABEL_BACKWARD 0

VN_DEFINE_OPTIONS_INIT(vn_real_aot_options_init, vn_real_aot_options, VN_REAL_AOT_OPTIONS_VERSION,
                       VN_REAL_AOT_OPTIONS_INIT)

int vn_probe_deal_folds(const int64_t *n_windows, int n_sources, int folds, uint64_t seed, int *fold_of)
{
    int *order = malloc((size_t)n_sources * sizeof *order);
    int64_t *load = calloc((size_t)(folds > 0 ? folds : 1), sizeof *load);
    if (!order || !load) {
        free(order);
        free(load);
        return -1;
    }
    vn_rng rng;
    vn_rng_seed(&rng, seed, STREAM_FOLDS);
    int usable = 0;
    for (int i = 0; i < n_sources; i++) {
        int j = (int)vn_rng_below(&rng, (uint64_t)i + 1);
        order[i] = order[j];
        order[j] = i;
        usable += n_windows[i] > 0;
    }
    /* Largest first (a stable sort, so the shuffle breaks ties): each new source then
     * goes where it unbalances the folds least. */
    for (int i = 1; i < n_sources; i++) {
        int s = order[i], j = i;
        while (j > 0 && n_windows[order[j - 1]] < n_windows[s]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = s;
    }
    const int k = folds < usable ? folds : usable;
    for (int i = 0; i < n_sources; i++) {
        int s = order[i], best = 0;
        if (n_windows[s] <= 0) {
            fold_of[s] = -1;
            continue;
        }
        for (int f = 1; f < k; f++)
            if (load[f] < load[best])
                best = f;
        fold_of[s] = best;
        load[best] += n_windows[s];
    }
    free(order);
    free(load);
    return k;
}

static vn_status check_options(const char *fn, const vn_real_aot_options *o)
{
    VN_CHECK_VERSION(fn, "vn_real_aot_options", o->version, VN_REAL_AOT_OPTIONS_VERSION, "VN_REAL_AOT_OPTIONS_INIT");
    if (o->folds < 2)
        return vn_error(VN_ERR_INVALID_ARG, "%s: opts->folds is %d; it must be >= 2", fn, o->folds);
    if (o->bootstrap < 0)
        return vn_error(VN_ERR_INVALID_ARG, "%s: opts->bootstrap is %d; it must be >= 0", fn, o->bootstrap);
    if (!(o->confidence > 0.0 && o->confidence < 1.0))
        return vn_error(VN_ERR_INVALID_ARG, "%s: opts->confidence is %g; it must be in (0, 1)", fn, o->confidence);
    const vn_window_options def = VN_WINDOW_OPTIONS_INIT;
    return vn_probe_check_window_options(fn, o->window ? o->window : &def);
}

/* Every window of every source, both directions: rows 2i (forward) and 2i+1 (backward)
 * of window i, where a source's windows are consecutive from off[s]. */
typedef struct dataset {
    float *x;
    int *y, *src;
    int64_t n, d; /* rows, features */
} dataset;

static vn_status embed_all(const char *fn, const vn_encoder *enc, const char *const *paths, int n_paths,
                           const vn_window_options *w, const int64_t *nw, dataset *ds)
{
    int64_t at = 0;
    for (int s = 0; s < n_paths; s++) {
        if (nw[s] == 0)
            continue;
        vn_log(VN_LOG_INFO, "%s: embedding %lld windows of %s (%d of %d)", fn, (long long)nw[s], paths[s], s + 1,
               n_paths);
        int64_t shape[2] = {nw[s], ds->d}, got = 0;
        vn_tensor fwd, rev;
        vn_tensor_init(&fwd, ds->x + 2 * at * ds->d, VN_DTYPE_F32, 2, shape);
        vn_tensor_init(&rev, ds->x + (2 * at + 1) * ds->d, VN_DTYPE_F32, 2, shape);
        fwd.strides[0] = rev.strides[0] = 2 * ds->d;
        vn_status st = vn_probe_embed_video_both(fn, enc, paths[s], w, &fwd, &rev, NULL, &got);
        if (st)
            return st;
        if (got != nw[s]) /* the file changed between the count and the read */
            return vn_error(VN_ERR_STATE, "%s: %s had %lld windows, then %lld", fn, paths[s], (long long)nw[s],
                            (long long)got);
        for (int64_t i = 2 * at; i < 2 * (at + nw[s]); i++) {
            ds->y[i] = (i % 2 == 0) ? LABEL_FORWARD : LABEL_BACKWARD;
            ds->src[i] = s;
        }
        at += nw[s];
    }
    return VN_OK;
}

/* One fold's result: what its sweep chose and which held-out rows it got right. */
typedef struct fold_result {
    double wd, val, train;
} fold_result;

/* Fit on the rows outside fold f, score the rows inside it into correct[]. */
static vn_status run_fold(const char *fn, const dataset *ds, const int *fold_of, int f, uint64_t seed,
                          unsigned char *correct, fold_result *fr)
{
    const int64_t n = ds->n, d = ds->d;
    int64_t ntr = 0, nte = 0;
    int first_src = -1, one_source = 1;
    for (int64_t i = 0; i < n; i++) {
        if (fold_of[ds->src[i]] == f) {
            nte++;
            continue;
        }
        ntr++;
        if (first_src < 0)
            first_src = ds->src[i];
        else if (ds->src[i] != first_src)
            one_source = 0;
    }
    float *xtr = malloc((size_t)(ntr * d) * sizeof *xtr), *xte = malloc((size_t)(nte * d) * sizeof *xte);
    int *ytr = malloc((size_t)ntr * sizeof *ytr), *gtr = malloc((size_t)ntr * sizeof *gtr);
    int *yte = malloc((size_t)nte * sizeof *yte);
    int64_t *rows = malloc((size_t)nte * sizeof *rows);
    unsigned char *ok = malloc((size_t)nte);
    vn_status st = VN_OK;
    if (!xtr || !xte || !ytr || !gtr || !yte || !rows || !ok) {
        st = vn_error(VN_ERR_OUT_OF_MEMORY, "%s: out of memory for fold %d (%lld rows of %lld features)", fn, f,
                      (long long)n, (long long)d);
        goto done;
    }
    for (int64_t i = 0, a = 0, b = 0; i < n; i++) {
        if (fold_of[ds->src[i]] == f) {
            memcpy(xte + b * d, ds->x + i * d, (size_t)d * sizeof *xte);
            yte[b] = ds->y[i];
            rows[b++] = i;
        } else {
            memcpy(xtr + a * d, ds->x + i * d, (size_t)d * sizeof *xtr);
            ytr[a] = ds->y[i];
            /* With one training video there is no other video to validate on: its
             * windows (both plays of one together) become the groups. */
            gtr[a++] = one_source ? (int)(i / 2) : ds->src[i];
        }
    }
    int64_t s_tr[2] = {ntr, d}, s_te[2] = {nte, d};
    vn_tensor ttr, tte;
    vn_tensor_init(&ttr, xtr, VN_DTYPE_F32, 2, s_tr);
    vn_tensor_init(&tte, xte, VN_DTYPE_F32, 2, s_te);
    vn_linear_probe_options lo = VN_LINEAR_PROBE_OPTIONS_INIT;
    lo.seed = seed + (uint64_t)f;
    vn_linear_fit fit;
    /* A single training window (two rows) leaves nothing to group: split its rows. */
    if ((st = vn_probe_linear_fit(fn, &ttr, ytr, one_source && ntr < 4 ? NULL : gtr, 2, &lo, &fit)))
        goto done;
    st = vn_probe_linear_apply(fn, &fit, &tte, yte, ok);
    *fr = (fold_result){fit.weight_decay, fit.val_accuracy, fit.train_accuracy};
    vn_probe_linear_fit_free(&fit);
    for (int64_t b = 0; b < nte && !st; b++)
        correct[rows[b]] = ok[b];
done:
    free(xtr);
    free(xte);
    free(ytr);
    free(gtr);
    free(yte);
    free(rows);
    free(ok);
    return st;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

vn_status vn_probe_real_aot(const vn_encoder *enc, const char *const *paths, int n_paths,
                            const vn_real_aot_options *opts, vn_probe_result *out)
{
    static const char fn[] = "vn_probe_real_aot";
    VN_CHECK_NULL(enc);
    VN_CHECK_NULL(paths);
    VN_CHECK_NULL(out);
    const vn_real_aot_options def = VN_REAL_AOT_OPTIONS_INIT;
    const vn_real_aot_options *o = opts ? opts : &def;
    vn_status st = vn_probe_check_result(fn, out);
    if (st || (st = check_options(fn, o)))
        return st;
    if (n_paths < 2)
        return vn_error(VN_ERR_INVALID_ARG, "%s: n_paths is %d; folds by source need at least 2 videos", fn, n_paths);
    for (int s = 0; s < n_paths; s++)
        if (!paths[s])
            return vn_error(VN_ERR_INVALID_ARG, "%s: paths[%d] is NULL", fn, s);
    const vn_window_options wdef = VN_WINDOW_OPTIONS_INIT;
    const vn_window_options *w = o->window ? o->window : &wdef;
    int64_t L, D;
    if ((st = vn_encoder_output_shape(enc, &L, &D)))
        return vn_error_prefix(st, "%s: ", fn);

    int64_t *nw = calloc((size_t)n_paths, sizeof *nw);
    int *fold_of = malloc((size_t)n_paths * sizeof *fold_of);
    fold_result *fr = calloc((size_t)n_paths, sizeof *fr); /* folds <= videos */
    double *wd = malloc((size_t)n_paths * sizeof *wd);
    dataset ds = {NULL, NULL, NULL, 0, D};
    unsigned char *correct = NULL;
    if (!nw || !fold_of || !fr || !wd) {
        st = vn_error(VN_ERR_OUT_OF_MEMORY, "%s: out of memory for %d videos", fn, n_paths);
        goto done;
    }
    int usable = 0;
    for (int s = 0; s < n_paths && !st; s++) {
        st = vn_probe_embed_video_both(fn, enc, paths[s], w, NULL, NULL, NULL, &nw[s]);
        ds.n += 2 * nw[s];
        usable += nw[s] > 0;
    }
    if (st)
        goto done;
    if (usable < 2) {
        st = vn_error(VN_ERR_INVALID_ARG,
                      "%s: %d of the %d videos %s long enough for a window; folds by source need at least 2", fn,
                      usable, n_paths, usable == 1 ? "is" : "are");
        goto done;
    }
    ds.x = malloc((size_t)(ds.n * D) * sizeof *ds.x);
    ds.y = malloc((size_t)ds.n * sizeof *ds.y);
    ds.src = malloc((size_t)ds.n * sizeof *ds.src);
    correct = malloc((size_t)ds.n);
    if (!ds.x || !ds.y || !ds.src || !correct) {
        st = vn_error(VN_ERR_OUT_OF_MEMORY, "%s: out of memory for %lld windows of %lld features", fn,
                      (long long)(ds.n / 2), (long long)D);
        goto done;
    }
    if ((st = embed_all(fn, enc, paths, n_paths, w, nw, &ds)))
        goto done;
    int64_t n_chk, d_chk;
    int64_t all_shape[2] = {ds.n, D};
    vn_tensor all;
    vn_tensor_init(&all, ds.x, VN_DTYPE_F32, 2, all_shape);
    if ((st = vn_probe_check_features(fn, "the embeddings", &all, &n_chk, &d_chk)))
        goto done;
    const int k = vn_probe_deal_folds(nw, n_paths, o->folds, o->seed, fold_of);
    if (k < 0) {
        st = vn_error(VN_ERR_OUT_OF_MEMORY, "%s: out of memory dealing %d videos into folds", fn, n_paths);
        goto done;
    }
    for (int f = 0; f < k && !st; f++) {
        vn_log(VN_LOG_INFO, "%s: fold %d of %d", fn, f + 1, k);
        st = run_fold(fn, &ds, fold_of, f, o->seed, correct, &fr[f]);
    }
    if (st)
        goto done;
    int64_t hits = 0;
    for (int64_t i = 0; i < ds.n; i++)
        hits += correct[i];
    double lo, hi;
    if ((st = vn_probe_bootstrap(fn, correct, ds.src, ds.n, o->bootstrap, o->confidence, o->seed, &lo, &hi)))
        goto done;
    double val = 0.0, train = 0.0;
    for (int f = 0; f < k; f++) {
        wd[f] = fr[f].wd;
        val += fr[f].val / k;
        train += fr[f].train / k;
    }
    qsort(wd, (size_t)k, sizeof *wd, cmp_double);
    /* Sorted ascending, index k / 2 is the median, or of two middle ones the stronger. */
    vn_probe_result res = {out->version, (double)hits / (double)ds.n, lo, hi, train, val, wd[k / 2], ds.n, ds.n};
    *out = res;
done:
    free(nw);
    free(fold_of);
    free(fr);
    free(wd);
    free(ds.x);
    free(ds.y);
    free(ds.src);
    free(correct);
    return st;
}
