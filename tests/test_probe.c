/*
 * The frozen-feature probes (probe.h, src/probe): answers known in advance (separable
 * blobs, label noise at chance, a Bayes rate inside the interval, clusters for k-NN),
 * the L-BFGS optimum against Newton's method, the grouped split, determinism across
 * seeds, thread counts and strides, and every bad argument.
 */
#include <math.h>
#include <string.h>
#include <time.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "vn_test.h"
#include "core/rng.h"
#include "probe/probe_internal.h"

/* n rows of d features: class y = i % c (or a random label when shuffle), centred at
 * sep * e_y plus unit Gaussian noise; sep 0 gives one distribution for every class. */
typedef struct dataset {
    float *x;
    int *y;
    int64_t n, d;
    vn_tensor t;
} dataset;

static dataset blobs(int64_t n, int64_t d, int c, double sep, int shuffle, uint64_t seed)
{
    dataset s = {malloc((size_t)(n * d) * sizeof(float)), malloc((size_t)n * sizeof(int)), n, d, {0}};
    ck_assert(s.x && s.y);
    vn_rng r;
    vn_rng_seed(&r, seed, 1);
    for (int64_t i = 0; i < n; i++) {
        s.y[i] = shuffle ? (int)vn_rng_below(&r, (uint64_t)c) : (int)(i % c);
        for (int64_t j = 0; j < d; j++)
            s.x[i * d + j] = (float)(vn_rng_normal(&r) + (j == s.y[i] % d ? sep : 0.0));
    }
    int64_t shape[2] = {n, d};
    VN_ASSERT_OK(vn_tensor_init(&s.t, s.x, VN_DTYPE_F32, 2, shape));
    return s;
}

static void drop(dataset *s)
{
    free(s->x);
    free(s->y);
}

static vn_probe_result linear(const dataset *tr, const dataset *te, int c, const vn_linear_probe_options *o)
{
    vn_probe_result r = VN_PROBE_RESULT_INIT;
    VN_ASSERT_OK(vn_probe_linear(&tr->t, tr->y, NULL, &te->t, te->y, NULL, c, o, &r));
    ck_assert(r.ci_low <= r.accuracy && r.accuracy <= r.ci_high);
    ck_assert(r.ci_low >= 0.0 && r.ci_high <= 1.0);
    ck_assert_int_eq(r.n_train, tr->n);
    ck_assert_int_eq(r.n_test, te->n);
    return r;
}

START_TEST(test_options_init)
{
    vn_probe_result r;
    VN_ASSERT_OPTIONS_INIT(vn_probe_result_init, r, VN_PROBE_RESULT_VERSION);
    vn_linear_probe_options l;
    VN_ASSERT_OPTIONS_INIT(vn_linear_probe_options_init, l, VN_LINEAR_PROBE_OPTIONS_VERSION);
    ck_assert(l.weight_decays == NULL && l.val_fraction == 0.25 && l.max_iter == 200 && l.bootstrap == 1000);
    vn_knn_probe_options k;
    VN_ASSERT_OPTIONS_INIT(vn_knn_probe_options_init, k, VN_KNN_PROBE_OPTIONS_VERSION);
    ck_assert(k.k == 20 && k.temperature == 0.07 && k.confidence == 0.95);
}
END_TEST

START_TEST(test_linear_separable)
{
    dataset tr = blobs(400, 16, 2, 4.0, 0, 1), te = blobs(400, 16, 2, 4.0, 0, 2);
    vn_probe_result r = linear(&tr, &te, 2, NULL);
    printf("separable: accuracy %.4f [%.4f, %.4f], train %.4f, val %.4f, wd %g\n", r.accuracy, r.ci_low, r.ci_high,
           r.train_accuracy, r.val_accuracy, r.weight_decay);
    ck_assert_msg(r.accuracy >= 0.98, "accuracy %.4f on separable blobs", r.accuracy);
    ck_assert(r.train_accuracy >= 0.98 && r.val_accuracy >= 0.95);
    int listed = 0;
    for (int e = -6; e <= 1; e++)
        listed |= fabs(r.weight_decay - pow(10.0, e)) < 1e-12 * pow(10.0, e);
    ck_assert_msg(listed, "weight decay %g is not one of the defaults", r.weight_decay);
    drop(&tr);
    drop(&te);
}
END_TEST

START_TEST(test_linear_chance)
{
    dataset tr = blobs(400, 16, 2, 0.0, 1, 3), te = blobs(1000, 16, 2, 0.0, 1, 4);
    vn_probe_result r = linear(&tr, &te, 2, NULL);
    printf("chance: accuracy %.4f [%.4f, %.4f]\n", r.accuracy, r.ci_low, r.ci_high);
    ck_assert_msg(fabs(r.accuracy - 0.5) <= 0.1, "accuracy %.4f on labels independent of features", r.accuracy);
    ck_assert_msg(r.ci_low <= 0.5 && 0.5 <= r.ci_high, "[%.4f, %.4f] misses chance", r.ci_low, r.ci_high);
    drop(&tr);
    drop(&te);
}
END_TEST

/* Unit Gaussians centred at sep e0 and sep e1 lie sep sqrt(2) apart: the best rule is
 * right with probability Phi(sep / sqrt(2)), and a well-fitted probe's interval must
 * contain it. */
START_TEST(test_linear_interval_covers_bayes)
{
    const double sep = 0.7, bayes = 0.5 * erfc(-sep / 2.0);
    dataset tr = blobs(3000, 4, 2, sep, 0, 5), te = blobs(3000, 4, 2, sep, 0, 6);
    vn_probe_result r = linear(&tr, &te, 2, NULL);
    printf("bayes %.4f: accuracy %.4f [%.4f, %.4f]\n", bayes, r.accuracy, r.ci_low, r.ci_high);
    ck_assert_msg(r.ci_low <= bayes && bayes <= r.ci_high, "[%.4f, %.4f] misses the Bayes rate %.4f", r.ci_low,
                  r.ci_high, bayes);
    ck_assert(r.ci_high - r.ci_low > 0.01 && r.ci_high - r.ci_low < 0.06);
    drop(&tr);
    drop(&te);
}
END_TEST

START_TEST(test_linear_three_classes)
{
    dataset tr = blobs(600, 8, 3, 4.0, 0, 7), te = blobs(600, 8, 3, 4.0, 0, 8);
    vn_probe_result r = linear(&tr, &te, 3, NULL);
    ck_assert_msg(r.accuracy >= 0.95, "3-class accuracy %.4f", r.accuracy);
    /* A fifth class no row carries, and one row of class 3 in a group filed under class
     * 0: the sweep's train part may lack classes, and that must still work. */
    tr.y[5] = 3;
    int *groups = malloc((size_t)tr.n * sizeof *groups);
    for (int64_t i = 0; i < tr.n; i++)
        groups[i] = (int)(i / 3);
    vn_probe_result r4 = VN_PROBE_RESULT_INIT;
    VN_ASSERT_OK(vn_probe_linear(&tr.t, tr.y, groups, &te.t, te.y, NULL, 5, NULL, &r4));
    ck_assert_msg(r4.accuracy >= 0.95, "accuracy %.4f with absent classes", r4.accuracy);
    free(groups);
    drop(&tr);
    drop(&te);
}
END_TEST

START_TEST(test_linear_single_weight_decay)
{
    dataset tr = blobs(200, 8, 2, 3.0, 0, 9), te = blobs(200, 8, 2, 3.0, 0, 10);
    const double wd = 0.01;
    vn_linear_probe_options o = VN_LINEAR_PROBE_OPTIONS_INIT;
    o.weight_decays = &wd;
    o.n_weight_decays = 1;
    o.bootstrap = 0;
    vn_probe_result r = linear(&tr, &te, 2, &o);
    ck_assert(isnan(r.val_accuracy) && r.weight_decay == wd);
    ck_assert(r.ci_low == r.accuracy && r.ci_high == r.accuracy);
    /* One row: no sweep is possible, but a single decay needs none. */
    dataset one = blobs(1, 8, 2, 3.0, 0, 11);
    VN_ASSERT_OK(vn_probe_linear(&one.t, one.y, NULL, &te.t, te.y, NULL, 2, &o, &r));
    VN_ASSERT_FAILS(vn_probe_linear(&one.t, one.y, NULL, &te.t, te.y, NULL, 2, NULL, &r), VN_ERR_INVALID_ARG);
    drop(&one);
    drop(&tr);
    drop(&te);
}
END_TEST

/* Newton's method on the equivalent binary problem: with two classes the optimum has
 * W0 = -W1, so w = W1 - W0 and beta = b1 - b0 minimise
 * mean log(1 + exp(-s (w.x + beta))) + wd / 4 |w|^2. */
static void newton_binary(const double *x, const int *y, int n, double wd, double *theta)
{
    enum { D = 3, P = D + 1 };
    for (int j = 0; j < P; j++)
        theta[j] = 0.0;
    for (int it = 0; it < 50; it++) {
        double g[P] = {0}, h[P][P + 1] = {{0}};
        for (int i = 0; i < n; i++) {
            double xi[P] = {x[i * D], x[i * D + 1], x[i * D + 2], 1.0}, z = 0.0, s = y[i] ? 1.0 : -1.0;
            for (int j = 0; j < P; j++)
                z += theta[j] * xi[j];
            double p = 1.0 / (1.0 + exp(-z));
            for (int j = 0; j < P; j++) {
                g[j] += -s / (1.0 + exp(s * z)) * xi[j] / n;
                for (int k = 0; k < P; k++)
                    h[j][k] += p * (1 - p) * xi[j] * xi[k] / n;
            }
        }
        for (int j = 0; j < D; j++) {
            g[j] += 0.5 * wd * theta[j];
            h[j][j] += 0.5 * wd;
        }
        for (int j = 0; j < P; j++)
            h[j][P] = g[j];
        for (int col = 0; col < P; col++) /* Gaussian elimination: h is positive definite */
            for (int row = 0; row < P; row++)
                if (row != col) {
                    double f = h[row][col] / h[col][col];
                    for (int k = col; k <= P; k++)
                        h[row][k] -= f * h[col][k];
                }
        for (int j = 0; j < P; j++)
            theta[j] -= h[j][P] / h[j][j];
    }
}

START_TEST(test_lbfgs_matches_newton)
{
    enum { N = 40, D = 3, C = 2 };
    double x[N * D];
    int y[N];
    vn_rng r;
    vn_rng_seed(&r, 12, 0);
    for (int i = 0; i < N; i++) {
        y[i] = i % 2;
        for (int j = 0; j < D; j++)
            x[i * D + j] = vn_rng_normal(&r) + (y[i] ? 0.7 : -0.3) * (j + 1);
    }
    const double wd = 0.05;
    vn_logreg_problem p = {x, y, N, D, C, wd};
    double params[C * (D + 1)] = {0}, grad[C * (D + 1)];
    /* The analytic gradient against central differences, at a point off the optimum. */
    double probe_at[C * (D + 1)] = {0.3, -0.2, 0.1, -0.4, 0.5, 0.2, 0.05, -0.1};
    vn_logreg_loss_grad(&p, probe_at, grad);
    for (int j = 0; j < C * (D + 1); j++) {
        double save = probe_at[j], h = 1e-6;
        probe_at[j] = save + h;
        double fp = vn_logreg_loss_grad(&p, probe_at, NULL);
        probe_at[j] = save - h;
        double fm = vn_logreg_loss_grad(&p, probe_at, NULL);
        probe_at[j] = save;
        ck_assert_msg(fabs((fp - fm) / (2 * h) - grad[j]) < 1e-7, "d loss / d param %d: %g vs %g", j,
                      (fp - fm) / (2 * h), grad[j]);
    }
    vn_logreg_info info;
    VN_ASSERT_OK(vn_logreg_fit(&p, 500, 1e-10, 0.0, params, &info));
    ck_assert_msg(info.grad_inf < 1e-10, "gradient %g after %d iterations", info.grad_inf, info.iterations);
    vn_logreg_loss_grad(&p, params, grad);
    for (int j = 0; j < C * (D + 1); j++)
        ck_assert_msg(fabs(grad[j]) < 1e-9, "gradient[%d] = %g at the optimum", j, grad[j]);
    double theta[D + 1];
    newton_binary(x, y, N, wd, theta);
    for (int j = 0; j < D; j++) {
        ck_assert_msg(fabs(params[D + j] - params[j] - theta[j]) < 1e-7, "w[%d]: L-BFGS %.9f, Newton %.9f", j,
                      params[D + j] - params[j], theta[j]);
        ck_assert(fabs(params[D + j] + params[j]) < 1e-7); /* W0 = -W1 */
    }
    ck_assert(fabs(params[C * D + 1] - params[C * D] - theta[D]) < 1e-7);
}
END_TEST

START_TEST(test_bootstrap)
{
    enum { N = 500 };
    unsigned char correct[N];
    int groups[N];
    for (int i = 0; i < N; i++) {
        groups[i] = 1000 - i / 10; /* 50 groups of 10, numbered downwards */
        correct[i] = (i / 10) % 5 != 0;  /* whole groups right or wrong: 80% */
    }
    double lo, hi, glo, ghi, lo2, hi2;
    VN_ASSERT_OK(vn_probe_bootstrap("t", correct, NULL, N, 2000, 0.95, 1, &lo, &hi));
    VN_ASSERT_OK(vn_probe_bootstrap("t", correct, groups, N, 2000, 0.95, 1, &glo, &ghi));
    VN_ASSERT_OK(vn_probe_bootstrap("t", correct, NULL, N, 2000, 0.95, 1, &lo2, &hi2));
    printf("bootstrap of 0.8: rows [%.4f, %.4f], groups [%.4f, %.4f]\n", lo, hi, glo, ghi);
    ck_assert(lo == lo2 && hi == hi2);
    /* Rows: sd sqrt(.8 * .2 / 500) = 0.018; groups: sqrt(.8 * .2 / 50) = 0.057. */
    ck_assert(lo < 0.8 && hi > 0.8 && fabs((hi - lo) - 2 * 1.96 * 0.0179) < 0.02);
    ck_assert(glo < 0.8 && ghi > 0.8 && fabs((ghi - glo) - 2 * 1.96 * 0.0566) < 0.05);
    VN_ASSERT_OK(vn_probe_bootstrap("t", correct, NULL, N, 0, 0.95, 1, &lo, &hi));
    ck_assert(lo == 0.8 && hi == 0.8);
}
END_TEST

START_TEST(test_grouped_split)
{
    enum { N = 300, C = 3 };
    int y[N], groups[N];
    unsigned char val[N], val2[N];
    vn_rng r;
    vn_rng_seed(&r, 13, 0);
    for (int i = 0; i < N; i++) {
        groups[i] = (int)vn_rng_below(&r, 40) * 7 - 100; /* scattered, negative ids too */
        y[i] = (groups[i] + 100) / 7 % C;
    }
    VN_ASSERT_OK(vn_probe_split("t", y, groups, N, C, 0.25, 5, val));
    VN_ASSERT_OK(vn_probe_split("t", y, groups, N, C, 0.25, 5, val2));
    ck_assert(!memcmp(val, val2, N));
    int side[40], has[2][C] = {{0}}, n_val = 0;
    for (int g = 0; g < 40; g++)
        side[g] = -1;
    for (int i = 0; i < N; i++) {
        int g = (groups[i] + 100) / 7;
        ck_assert_msg(side[g] < 0 || side[g] == val[i], "group %d is on both sides", groups[i]);
        side[g] = val[i];
        has[val[i]][y[i]] = 1;
        n_val += val[i];
    }
    for (int c = 0; c < C; c++)
        ck_assert_msg(has[0][c] && has[1][c], "class %d is missing from a side", c);
    ck_assert_msg(n_val > N / 8 && n_val < N / 2, "%d of %d rows held out at 0.25", n_val, N);
    VN_ASSERT_OK(vn_probe_split("t", y, groups, N, C, 0.25, 6, val2));
    ck_assert(memcmp(val, val2, N) != 0);
    /* Without groups each row is a group; one group cannot be split. */
    VN_ASSERT_OK(vn_probe_split("t", y, NULL, N, C, 0.5, 5, val));
    for (int i = 0; i < N; i++)
        groups[i] = 4;
    VN_ASSERT_FAILS(vn_probe_split("t", y, groups, N, C, 0.25, 5, val), VN_ERR_INVALID_ARG);
}
END_TEST

START_TEST(test_determinism_threads_strides)
{
    dataset tr = blobs(2000, 64, 2, 0.4, 0, 14), te = blobs(500, 64, 2, 0.4, 0, 15);
    vn_linear_probe_options o = VN_LINEAR_PROBE_OPTIONS_INIT;
    o.seed = 3;
    o.max_iter = 50;
    vn_probe_result a = linear(&tr, &te, 2, &o), b = linear(&tr, &te, 2, &o);
    ck_assert(!memcmp(&a, &b, sizeof a));
#ifdef _OPENMP
    int threads = omp_get_max_threads();
    omp_set_num_threads(threads == 1 ? 2 : 1);
    b = linear(&tr, &te, 2, &o);
    omp_set_num_threads(threads);
    ck_assert_msg(!memcmp(&a, &b, sizeof a), "accuracy %.6f vs %.6f with another thread count", a.accuracy,
                  b.accuracy);
#endif
    /* The same features stored column-major, and with padded rows. */
    float *colmajor = malloc((size_t)(tr.n * tr.d) * sizeof(float));
    float *padded = malloc((size_t)(te.n * te.d * 2) * sizeof(float));
    for (int64_t i = 0; i < tr.n; i++)
        for (int64_t j = 0; j < tr.d; j++)
            colmajor[j * tr.n + i] = tr.x[i * tr.d + j];
    for (int64_t i = 0; i < te.n; i++)
        for (int64_t j = 0; j < te.d; j++)
            padded[i * te.d * 2 + j] = te.x[i * te.d + j];
    dataset trs = tr, tes = te;
    trs.t.data = colmajor;
    trs.t.strides[0] = 1;
    trs.t.strides[1] = tr.n;
    tes.t.data = padded;
    tes.t.strides[0] = 2 * te.d;
    b = linear(&trs, &tes, 2, &o);
    ck_assert(!memcmp(&a, &b, sizeof a));
    vn_knn_probe_options k = VN_KNN_PROBE_OPTIONS_INIT;
    vn_probe_result ka = VN_PROBE_RESULT_INIT, kb = VN_PROBE_RESULT_INIT;
    VN_ASSERT_OK(vn_probe_knn(&tr.t, tr.y, &te.t, te.y, NULL, 2, &k, &ka));
    VN_ASSERT_OK(vn_probe_knn(&trs.t, tr.y, &tes.t, te.y, NULL, 2, &k, &kb));
    ck_assert(!memcmp(&ka, &kb, sizeof ka));
    o.seed = 4; /* another split and other resamples */
    b = linear(&tr, &te, 2, &o);
    ck_assert(a.ci_low != b.ci_low || a.ci_high != b.ci_high || a.val_accuracy != b.val_accuracy);
    free(colmajor);
    free(padded);
    drop(&tr);
    drop(&te);
}
END_TEST

START_TEST(test_knn)
{
    dataset tr = blobs(300, 8, 3, 5.0, 0, 16), te = blobs(300, 8, 3, 5.0, 0, 17);
    vn_probe_result r = VN_PROBE_RESULT_INIT;
    VN_ASSERT_OK(vn_probe_knn(&tr.t, tr.y, &te.t, te.y, NULL, 3, NULL, &r));
    ck_assert_msg(r.accuracy >= 0.98, "k-NN accuracy %.4f on clusters", r.accuracy);
    ck_assert(isnan(r.train_accuracy) && isnan(r.val_accuracy) && isnan(r.weight_decay));
    ck_assert(r.ci_low <= r.accuracy && r.accuracy <= r.ci_high && r.n_train == 300 && r.n_test == 300);
    drop(&tr);
    drop(&te);
    tr = blobs(400, 8, 2, 0.0, 1, 18);
    te = blobs(1000, 8, 2, 0.0, 1, 19);
    VN_ASSERT_OK(vn_probe_knn(&tr.t, tr.y, &te.t, te.y, NULL, 2, NULL, &r));
    ck_assert_msg(fabs(r.accuracy - 0.5) <= 0.1, "k-NN accuracy %.4f on noise", r.accuracy);
    drop(&tr);
    drop(&te);

    /* By hand: train rows at 0, 90, 180 degrees; k = 1 follows the nearest, k larger
     * than the training set is capped, an even vote goes to the lower class, and a zero
     * test row (cosine 0 to all) takes the earliest rows. */
    float xt[] = {1, 0, 0, 1, -1, 0}, xs[] = {0.9f, 0.1f, -0.1f, 0.9f, 0, 0};
    int yt[] = {1, 0, 1}, ys[] = {1, 0, 0};
    vn_tensor t, s;
    VN_ASSERT_OK(vn_tensor_init(&t, xt, VN_DTYPE_F32, 2, (int64_t[]){3, 2}));
    VN_ASSERT_OK(vn_tensor_init(&s, xs, VN_DTYPE_F32, 2, (int64_t[]){3, 2}));
    vn_knn_probe_options o = VN_KNN_PROBE_OPTIONS_INIT;
    o.k = 1;
    o.bootstrap = 0;
    VN_ASSERT_OK(vn_probe_knn(&t, yt, &s, ys, NULL, 2, &o, &r));
    ck_assert_double_eq(r.accuracy, 2.0 / 3.0); /* the zero row's first neighbour is row 0 (class 1) */
    ys[2] = 1;
    VN_ASSERT_OK(vn_probe_knn(&t, yt, &s, ys, NULL, 2, &o, &r));
    ck_assert_double_eq(r.accuracy, 1.0);
    o.k = 2; /* the zero row: rows 0 and 1 tie at cosine 0, one vote each: class 0 wins */
    ys[2] = 0;
    VN_ASSERT_OK(vn_probe_knn(&t, yt, &s, ys, NULL, 2, &o, &r));
    ck_assert_double_eq(r.accuracy, 1.0);
    o.k = 50; /* every row votes; the heavy nearest one still decides at T = 0.07 */
    ys[2] = 1;
    VN_ASSERT_OK(vn_probe_knn(&t, yt, &s, ys, NULL, 2, &o, &r));
    ck_assert_double_eq(r.accuracy, 1.0);
}
END_TEST

START_TEST(test_bad_arguments)
{
    dataset tr = blobs(20, 4, 2, 1.0, 0, 20), te = blobs(10, 4, 2, 1.0, 0, 21);
    vn_probe_result r = VN_PROBE_RESULT_INIT, before;
    r.accuracy = -7.0;
    before = r;
#define LIN(tx, ty, sx, sy, c, o) vn_probe_linear(tx, ty, NULL, sx, sy, NULL, c, o, &r)
#define KNN(tx, ty, sx, sy, c, o) vn_probe_knn(tx, ty, sx, sy, NULL, c, o, &r)
    VN_ASSERT_FAILS(LIN(NULL, tr.y, &te.t, te.y, 2, NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(LIN(&tr.t, NULL, &te.t, te.y, 2, NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(LIN(&tr.t, tr.y, NULL, te.y, 2, NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(LIN(&tr.t, tr.y, &te.t, NULL, 2, NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_probe_linear(&tr.t, tr.y, NULL, &te.t, te.y, NULL, 2, NULL, NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(KNN(NULL, tr.y, &te.t, te.y, 2, NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(KNN(&tr.t, tr.y, &te.t, NULL, 2, NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(LIN(&tr.t, tr.y, &te.t, te.y, 1, NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(KNN(&tr.t, tr.y, &te.t, te.y, 1025, NULL), VN_ERR_INVALID_ARG);

    vn_tensor bad = tr.t;
    bad.dtype = VN_DTYPE_U8;
    VN_ASSERT_FAILS(LIN(&bad, tr.y, &te.t, te.y, 2, NULL), VN_ERR_SHAPE);
    VN_ASSERT_FAILS(KNN(&tr.t, tr.y, &bad, te.y, 2, NULL), VN_ERR_SHAPE);
    bad = tr.t;
    bad.ndim = 3;
    VN_ASSERT_FAILS(LIN(&bad, tr.y, &te.t, te.y, 2, NULL), VN_ERR_SHAPE);
    bad = tr.t;
    bad.shape[0] = 0;
    VN_ASSERT_FAILS(LIN(&bad, tr.y, &te.t, te.y, 2, NULL), VN_ERR_SHAPE);
    bad = tr.t;
    bad.data = NULL;
    VN_ASSERT_FAILS(KNN(&bad, tr.y, &te.t, te.y, 2, NULL), VN_ERR_INVALID_ARG);
    bad = te.t;
    bad.shape[1] = 3; /* D mismatch */
    VN_ASSERT_FAILS(LIN(&tr.t, tr.y, &bad, te.y, 2, NULL), VN_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(vn_last_error(), "columns"));
    VN_ASSERT_FAILS(KNN(&tr.t, tr.y, &bad, te.y, 2, NULL), VN_ERR_SHAPE);
    tr.x[7] = NAN;
    VN_ASSERT_FAILS(LIN(&tr.t, tr.y, &te.t, te.y, 2, NULL), VN_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(vn_last_error(), "train_x[1, 3] is nan"));
    tr.x[7] = 0.0f;
    tr.y[17] = 5;
    VN_ASSERT_FAILS(LIN(&tr.t, tr.y, &te.t, te.y, 2, NULL), VN_ERR_INVALID_ARG);
    ck_assert_str_eq(vn_last_error(), "vn_probe_linear: train_y[17] is 5; labels must be in 0..1");
    tr.y[17] = 1;
    te.y[3] = -1;
    VN_ASSERT_FAILS(KNN(&tr.t, tr.y, &te.t, te.y, 2, NULL), VN_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(vn_last_error(), "test_y[3] is -1"));
    te.y[3] = 1;

    vn_linear_probe_options lo = VN_LINEAR_PROBE_OPTIONS_INIT;
    double wds[] = {1e-3, -1.0};
    vn_linear_probe_options bad_lin[9];
    for (int i = 0; i < 9; i++)
        bad_lin[i] = lo;
    bad_lin[0].version = 0;
    bad_lin[1].val_fraction = 0.0;
    bad_lin[2].val_fraction = 0.95;
    bad_lin[3].val_fraction = NAN;
    bad_lin[4].max_iter = 0;
    bad_lin[5].bootstrap = -1;
    bad_lin[6].confidence = 1.0;
    bad_lin[7].weight_decays = wds; /* n_weight_decays 0 */
    bad_lin[8].weight_decays = wds;
    bad_lin[8].n_weight_decays = 2; /* a negative entry */
    VN_ASSERT_FAILS(LIN(&tr.t, tr.y, &te.t, te.y, 2, &bad_lin[0]), VN_ERR_VERSION);
    for (int i = 1; i < 9; i++)
        VN_ASSERT_FAILS(LIN(&tr.t, tr.y, &te.t, te.y, 2, &bad_lin[i]), VN_ERR_INVALID_ARG);
    vn_knn_probe_options ko = VN_KNN_PROBE_OPTIONS_INIT, bad_knn[5];
    for (int i = 0; i < 5; i++)
        bad_knn[i] = ko;
    bad_knn[0].version = VN_KNN_PROBE_OPTIONS_VERSION + 1;
    bad_knn[1].k = 0;
    bad_knn[2].temperature = 0.0;
    bad_knn[3].temperature = INFINITY;
    bad_knn[4].confidence = NAN;
    VN_ASSERT_FAILS(KNN(&tr.t, tr.y, &te.t, te.y, 2, &bad_knn[0]), VN_ERR_VERSION);
    for (int i = 1; i < 5; i++)
        VN_ASSERT_FAILS(KNN(&tr.t, tr.y, &te.t, te.y, 2, &bad_knn[i]), VN_ERR_INVALID_ARG);
    ck_assert(!memcmp(&r, &before, sizeof r)); /* nothing written on failure */
    r.version = 0;
    VN_ASSERT_FAILS(LIN(&tr.t, tr.y, &te.t, te.y, 2, NULL), VN_ERR_VERSION);
    VN_ASSERT_FAILS(KNN(&tr.t, tr.y, &te.t, te.y, 2, NULL), VN_ERR_VERSION);
#undef LIN
#undef KNN
    drop(&tr);
    drop(&te);
}
END_TEST

/* Not an assertion (timings belong in bench/): the size the brief quotes, for the log. */
START_TEST(test_linear_timing)
{
    dataset tr = blobs(2000, 128, 2, 0.3, 0, 22), te = blobs(1000, 128, 2, 0.3, 0, 23);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    vn_probe_result r = linear(&tr, &te, 2, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("linear probe, 2000 x 128, 2 classes, 8 decays: %.2f s (accuracy %.4f, wd %g)\n",
           (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec), r.accuracy, r.weight_decay);
    drop(&tr);
    drop(&te);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("probe");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_options_init);
    tcase_add_test(tc, test_linear_separable);
    tcase_add_test(tc, test_linear_chance);
    tcase_add_test(tc, test_linear_interval_covers_bayes);
    tcase_add_test(tc, test_linear_three_classes);
    tcase_add_test(tc, test_linear_single_weight_decay);
    tcase_add_test(tc, test_lbfgs_matches_newton);
    tcase_add_test(tc, test_bootstrap);
    tcase_add_test(tc, test_grouped_split);
    tcase_add_test(tc, test_determinism_threads_strides);
    tcase_add_test(tc, test_knn);
    tcase_add_test(tc, test_bad_arguments);
    tcase_add_test(tc, test_linear_timing);
    suite_add_tcase(s, tc);
    return vn_test_run(s);
}
