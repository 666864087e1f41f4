/*
 * future.c: future-clip retrieval on frozen features. Each world query has a context and
 * K candidate continuations (the true one, the true one reversed, one shifted in time,
 * others of the same scene). A ridge map from context embeddings to true-continuation
 * embeddings is fitted on training queries; test queries rank their candidates by the
 * cosine with the mapped context.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "probe/probe_internal.h"
#include "world/world_internal.h"

VN_DEFINE_OPTIONS_INIT(vn_future_probe_options_init, vn_future_probe_options, VN_FUTURE_PROBE_OPTIONS_VERSION,
                       VN_FUTURE_PROBE_OPTIONS_INIT)
VN_DEFINE_OPTIONS_INIT(vn_future_probe_result_init, vn_future_probe_result, VN_FUTURE_PROBE_RESULT_VERSION,
                       VN_FUTURE_PROBE_RESULT_INIT)

enum { KIND_TRUE = 0, KIND_REVERSED = 1, MAX_KINDS = 64 };

/* Embeddings of n queries: ctx [n, D], cand [n, K, D], and where each query's true and
 * reversed candidates are. */
typedef struct fdata {
    int64_t n, d;
    int k;
    double *ctx, *cand;
    int *true_at, *rev_at;
} fdata;

static void fdata_free(fdata *f)
{
    free(f->ctx);
    free(f->cand);
    free(f->true_at);
    free(f->rev_at);
}

static vn_status embed_queries(const char *fn, const vn_encoder *enc, const vn_encoder_config *cfg,
                               const vn_world *w, int64_t first, int64_t n, int batch, fdata *f)
{
    const int K = w->o.future_candidates;
    const int64_t clip = (int64_t)cfg->channels * cfg->frames * cfg->size * cfg->size, D = f->d;
    f->n = n;
    f->k = K;
    f->ctx = malloc((size_t)(n * D) * sizeof *f->ctx);
    f->cand = malloc((size_t)(n * K * D) * sizeof *f->cand);
    f->true_at = malloc((size_t)n * sizeof *f->true_at);
    f->rev_at = malloc((size_t)n * sizeof *f->rev_at);
    float *ctx = malloc((size_t)(batch * clip) * sizeof *ctx), *cand = malloc((size_t)(batch * K * clip) * sizeof *cand);
    float *emb = malloc((size_t)(batch * K * D) * sizeof *emb);
    vn_status st = VN_OK;
    if (!f->ctx || !f->cand || !f->true_at || !f->rev_at || !ctx || !cand || !emb) {
        st = vn_error(VN_ERR_OUT_OF_MEMORY, "%s: no memory for %lld queries", fn, (long long)n);
        goto done;
    }
    for (int64_t at = 0; at < n; at += batch) {
        int64_t b = n - at < batch ? n - at : batch;
        for (int64_t q = 0; q < b; q++) {
            int64_t cs[4] = {cfg->channels, cfg->frames, cfg->size, cfg->size};
            int64_t ks[5] = {K, cfg->channels, cfg->frames, cfg->size, cfg->size};
            vn_tensor tc, tk;
            vn_tensor_init(&tc, ctx + q * clip, VN_DTYPE_F32, 4, cs);
            vn_tensor_init(&tk, cand + q * K * clip, VN_DTYPE_F32, 5, ks);
            int kinds[MAX_KINDS], ti = -1;
            if ((st = vn_world_future(w, first + at + q, &tc, &tk, kinds, &ti))) {
                st = vn_error_prefix(st, "%s: query %lld: ", fn, (long long)(first + at + q));
                goto done;
            }
            f->true_at[at + q] = ti;
            f->rev_at[at + q] = -1;
            for (int c = 0; c < K; c++)
                if (kinds[c] == KIND_REVERSED)
                    f->rev_at[at + q] = c;
        }
        int64_t s1[5] = {b, cfg->channels, cfg->frames, cfg->size, cfg->size}, e1[2] = {b, D};
        int64_t sk[5] = {b * K, cfg->channels, cfg->frames, cfg->size, cfg->size}, ek[2] = {b * K, D};
        vn_tensor tc, te, tk, tke;
        vn_tensor_init(&tc, ctx, VN_DTYPE_F32, 5, s1);
        vn_tensor_init(&te, emb, VN_DTYPE_F32, 2, e1);
        if ((st = vn_encoder_encode(enc, &tc, &te))) {
            st = vn_error_prefix(st, "%s: ", fn);
            goto done;
        }
        for (int64_t i = 0; i < b * D; i++)
            f->ctx[at * D + i] = emb[i];
        vn_tensor_init(&tk, cand, VN_DTYPE_F32, 5, sk);
        vn_tensor_init(&tke, emb, VN_DTYPE_F32, 2, ek);
        if ((st = vn_encoder_encode(enc, &tk, &tke))) {
            st = vn_error_prefix(st, "%s: ", fn);
            goto done;
        }
        for (int64_t i = 0; i < b * K * D; i++)
            f->cand[at * K * D + i] = emb[i];
    }
done:
    free(ctx);
    free(cand);
    free(emb);
    return st;
}

/* Solve the SPD system A X = B (A [d, d], B [d, m]) by Cholesky, in place: X in B. */
static int cholesky_solve(double *A, double *B, int64_t d, int64_t m)
{
    for (int64_t j = 0; j < d; j++) {
        double s = A[j * d + j];
        for (int64_t k = 0; k < j; k++)
            s -= A[j * d + k] * A[j * d + k];
        if (!(s > 0.0))
            return -1;
        double l = sqrt(s);
        A[j * d + j] = l;
        for (int64_t i = j + 1; i < d; i++) {
            double t = A[i * d + j];
            for (int64_t k = 0; k < j; k++)
                t -= A[i * d + k] * A[j * d + k];
            A[i * d + j] = t / l;
        }
    }
    for (int64_t c = 0; c < m; c++) {
        for (int64_t i = 0; i < d; i++) {
            double t = B[i * m + c];
            for (int64_t k = 0; k < i; k++)
                t -= A[i * d + k] * B[k * m + c];
            B[i * m + c] = t / A[i * d + i];
        }
        for (int64_t i = d - 1; i >= 0; i--) {
            double t = B[i * m + c];
            for (int64_t k = i + 1; k < d; k++)
                t -= A[k * d + i] * B[k * m + c];
            B[i * m + c] = t / A[i * d + i];
        }
    }
    return 0;
}

/* W [d+1, d] (the last row a bias) minimising |[X 1] W - Y|^2 + lambda n |W|^2 over the
 * rows of f from lo to hi, mapping contexts to their true continuations. */
static vn_status fit_map(const char *fn, const fdata *f, int64_t lo, int64_t hi, double lambda, double *W)
{
    const int64_t d = f->d, e = d + 1, n = hi - lo;
    double *A = calloc((size_t)(e * e), sizeof *A), *x = malloc((size_t)e * sizeof *x);
    if (!A || !x) {
        free(A);
        free(x);
        return vn_error(VN_ERR_OUT_OF_MEMORY, "%s: no memory for the ridge map", fn);
    }
    memset(W, 0, (size_t)(e * d) * sizeof *W);
    for (int64_t q = lo; q < hi; q++) {
        memcpy(x, f->ctx + q * d, (size_t)d * sizeof *x);
        x[d] = 1.0;
        const double *y = f->cand + (q * f->k + f->true_at[q]) * d;
        for (int64_t i = 0; i < e; i++) {
            for (int64_t j = 0; j < e; j++)
                A[i * e + j] += x[i] * x[j];
            for (int64_t j = 0; j < d; j++)
                W[i * d + j] += x[i] * y[j];
        }
    }
    for (int64_t i = 0; i < d; i++)
        A[i * e + i] += lambda * (double)n;
    A[d * e + d] += 1e-9 * (double)n;
    int bad = cholesky_solve(A, W, e, d);
    free(A);
    free(x);
    return bad ? vn_error(VN_ERR_INTERNAL, "%s: the ridge system is not positive definite", fn) : VN_OK;
}

static double cosine(const double *a, const double *b, int64_t d)
{
    double ab = 0.0, aa = 0.0, bb = 0.0;
    for (int64_t j = 0; j < d; j++) {
        ab += a[j] * b[j];
        aa += a[j] * a[j];
        bb += b[j] * b[j];
    }
    return aa > 0.0 && bb > 0.0 ? ab / sqrt(aa * bb) : 0.0;
}

/* Rank of the true candidate (0 = first; ties count against it) and how it fares against
 * its reversal, for queries lo..hi; W NULL scores the context embedding itself. */
static void score(const fdata *f, const double *W, int64_t lo, int64_t hi, int *rank, unsigned char *vs_rev,
                  double *pred)
{
    const int64_t d = f->d;
    for (int64_t q = lo; q < hi; q++) {
        const double *x = f->ctx + q * d;
        if (W) {
            for (int64_t j = 0; j < d; j++) {
                double s = W[d * d + j];
                for (int64_t i = 0; i < d; i++)
                    s += x[i] * W[i * d + j];
                pred[j] = s;
            }
        } else {
            memcpy(pred, x, (size_t)d * sizeof *pred);
        }
        double st = cosine(pred, f->cand + (q * f->k + f->true_at[q]) * d, d);
        int r = 0;
        for (int c = 0; c < f->k; c++)
            if (c != f->true_at[q] && cosine(pred, f->cand + (q * f->k + c) * d, d) >= st)
                r++;
        rank[q - lo] = r;
        /* 2 a win, 1 a tie, 0 a loss. Within 1e-4 is a tie: a bag of images gives a clip
         * and its reversal the same embedding up to the order of a float sum, and a model
         * blind to direction should score one half, not zero. */
        double sr = f->rev_at[q] < 0 ? -INFINITY : cosine(pred, f->cand + (q * f->k + f->rev_at[q]) * d, d);
        vs_rev[q - lo] = st > sr + 1e-4 ? 2 : st >= sr - 1e-4 ? 1 : 0;
    }
}

static double mrr_of(const int *rank, int64_t n)
{
    double s = 0.0;
    for (int64_t i = 0; i < n; i++)
        s += 1.0 / (1.0 + rank[i]);
    return s / (double)n;
}

static vn_status check_world(const char *fn, const vn_encoder_config *cfg, const vn_world *w)
{
    const vn_world_options *o = &w->o;
    if (o->future_candidates < 3 || o->future_candidates > MAX_KINDS)
        return vn_error(VN_ERR_INVALID_ARG, "%s: the world's future_candidates is %d; expected 3..%d", fn,
                        o->future_candidates, MAX_KINDS);
    if (o->future_context != cfg->frames || o->n_frames - o->future_context != cfg->frames || o->size != cfg->size ||
        o->channels != cfg->channels)
        return vn_error(VN_ERR_SHAPE,
                        "%s: the world's future queries have %d context and %d continuation frames of %dx%d x%d, "
                        "but the encoder takes %d frames of %dx%d x%d (make n_frames = 2 x %d and future_context = %d)",
                        fn, o->future_context, o->n_frames - o->future_context, o->size, o->size, o->channels,
                        cfg->frames, cfg->size, cfg->size, cfg->channels, cfg->frames, cfg->frames);
    return VN_OK;
}

vn_status vn_probe_future(const vn_encoder *enc, const vn_world *world, int64_t n_train, int64_t n_test,
                          const vn_future_probe_options *opts, vn_future_probe_result *out)
{
    static const char fn[] = "vn_probe_future";
    VN_CHECK_NULL(enc);
    VN_CHECK_NULL(world);
    VN_CHECK_NULL(out);
    VN_CHECK_VERSION(fn, "vn_future_probe_result", out->version, VN_FUTURE_PROBE_RESULT_VERSION,
                     "VN_FUTURE_PROBE_RESULT_INIT");
    const vn_future_probe_options def = VN_FUTURE_PROBE_OPTIONS_INIT;
    const vn_future_probe_options *o = opts ? opts : &def;
    VN_CHECK_VERSION(fn, "vn_future_probe_options", o->version, VN_FUTURE_PROBE_OPTIONS_VERSION,
                     "VN_FUTURE_PROBE_OPTIONS_INIT");
    if ((o->map != VN_FUTURE_MAP_RIDGE && o->map != VN_FUTURE_MAP_NONE) || o->bootstrap < 0 ||
        !(o->confidence > 0.0 && o->confidence < 1.0))
        return vn_error(VN_ERR_INVALID_ARG, "%s: options map %d (ridge or none), bootstrap %d (>= 0) or confidence %g "
                        "(in (0, 1)) is out of range", fn, o->map, o->bootstrap, o->confidence);
    const int ridge = o->map == VN_FUTURE_MAP_RIDGE;
    if (n_test < 1 || n_train < (ridge ? 8 : 0) || n_train > (int64_t)1 << 30 || n_test > (int64_t)1 << 30)
        return vn_error(VN_ERR_INVALID_ARG, "%s: n_train %lld (>= 8 with the ridge map) and n_test %lld (>= 1) are "
                        "out of range", fn, (long long)n_train, (long long)n_test);
    vn_encoder_config cfg;
    vn_status st = vn_encoder_get_config(enc, &cfg);
    if (st || (st = check_world(fn, &cfg, world)))
        return st;
    int64_t L, D;
    vn_encoder_output_shape(enc, &L, &D);
    fdata f = {0};
    f.d = D;
    const int64_t n = n_train + n_test, d1 = D + 1;
    int *rank = malloc((size_t)n * sizeof *rank);
    unsigned char *beats = malloc((size_t)n), *hit = malloc((size_t)n), *halves = malloc((size_t)(2 * n));
    int *pairs = malloc((size_t)(2 * n) * sizeof *pairs);
    double *W = ridge ? malloc((size_t)(d1 * D) * sizeof *W) : NULL, *pred = malloc((size_t)D * sizeof *pred);
    if (!rank || !beats || !hit || !halves || !pairs || (ridge && !W) || !pred) {
        st = vn_error(VN_ERR_OUT_OF_MEMORY, "%s: no memory for %lld queries", fn, (long long)n);
        goto done;
    }
    if ((st = embed_queries(fn, enc, &cfg, world, 0, n, o->batch > 0 ? o->batch : 8, &f)))
        goto done;
    vn_future_probe_result res = *out;
    res.ridge = NAN;
    if (ridge) {
        /* The strength: the best MRR on the last quarter of the training queries. */
        static const double lambdas[] = {1e-4, 1e-3, 1e-2, 1e-1, 1.0};
        const int64_t cut = n_train - n_train / 4;
        double best = -1.0;
        for (size_t li = 0; li < sizeof lambdas / sizeof *lambdas; li++) {
            if ((st = fit_map(fn, &f, 0, cut, lambdas[li], W)))
                goto done;
            score(&f, W, cut, n_train, rank, beats, pred);
            double m = mrr_of(rank, n_train - cut);
            if (m > best) {
                best = m;
                res.ridge = lambdas[li];
            }
        }
        if ((st = fit_map(fn, &f, 0, n_train, res.ridge, W)))
            goto done;
    }
    score(&f, W, n_train, n, rank, beats, pred);
    int64_t r1 = 0, r5 = 0, hard = 0;
    for (int64_t i = 0; i < n_test; i++) {
        hit[i] = rank[i] == 0;
        r1 += rank[i] == 0;
        r5 += rank[i] < 5;
        hard += beats[i];
        /* a query in two halves, kept together by the bootstrap: a tie is worth one */
        halves[2 * i] = beats[i] >= 1;
        halves[2 * i + 1] = beats[i] == 2;
        pairs[2 * i] = pairs[2 * i + 1] = (int)i;
    }
    res.n_queries = n_test;
    res.candidates = f.k;
    res.r1 = (double)r1 / (double)n_test;
    res.r5 = (double)r5 / (double)n_test;
    res.mrr = mrr_of(rank, n_test);
    res.hard_negative = (double)hard / (double)(2 * n_test);
    if ((st = vn_probe_bootstrap(fn, hit, NULL, n_test, o->bootstrap, o->confidence, o->seed, &res.r1_ci_low,
                                 &res.r1_ci_high)) ||
        (st = vn_probe_bootstrap(fn, halves, pairs, 2 * n_test, o->bootstrap, o->confidence, o->seed + 1,
                                 &res.hard_ci_low, &res.hard_ci_high)))
        goto done;
    *out = res;
done:
    fdata_free(&f);
    free(rank);
    free(beats);
    free(halves);
    free(pairs);
    free(hit);
    free(W);
    free(pred);
    return st;
}
