/*
 * knn.c: the k-NN probe (cosine similarity, votes weighted by exp(sim / temperature)).
 *
 * Neighbours are ranked by similarity, then by lower training row, so equal similarities
 * never make the result depend on the thread count or on heap order.
 */
#include <math.h>
#include <stdlib.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/error.h"
#include "probe/probe_internal.h"

/* Test rows scored together, so each training row is read once per block, not per row. */
#define TEST_BLOCK 8
/* Below this many multiply-adds a parallel region costs more than it saves (on a busy
 * machine a join can wait a whole scheduler slice). */
#define PAR_MIN (1 << 22)

typedef struct neighbour {
    double sim;
    int64_t row;
} neighbour;

/* a ranks above b: more similar, or as similar and earlier. */
static inline int above(neighbour a, neighbour b)
{
    return a.sim > b.sim || (a.sim == b.sim && a.row < b.row);
}

/* A heap of the k best so far, the lowest-ranked on top, so it is the one replaced. */
static void heap_offer(neighbour *h, int *size, int k, neighbour cand)
{
    int i;
    if (*size < k) {
        i = (*size)++;
        while (i > 0 && above(h[(i - 1) / 2], cand)) {
            h[i] = h[(i - 1) / 2];
            i = (i - 1) / 2;
        }
        h[i] = cand;
        return;
    }
    if (!above(cand, h[0]))
        return;
    i = 0;
    for (;;) {
        int l = 2 * i + 1, r = l + 1, low = i;
        neighbour lowest = cand;
        if (l < k && above(lowest, h[l])) {
            low = l;
            lowest = h[l];
        }
        if (r < k && above(lowest, h[r]))
            low = r;
        if (low == i)
            break;
        h[i] = h[low];
        i = low;
    }
    h[i] = cand;
}

/* Rows scaled to unit L2 norm; a zero row stays zero, so its cosine with anything is 0. */
static void load_normalised(const vn_tensor *x, int64_t d, double *dst)
{
    for (int64_t i = 0; i < x->shape[0]; i++) {
        double *row = dst + i * d, ss = 0.0;
        vn_probe_load_row(x, i, row);
        for (int64_t j = 0; j < d; j++)
            ss += row[j] * row[j];
        double inv = ss > 0.0 ? 1.0 / sqrt(ss) : 0.0;
        for (int64_t j = 0; j < d; j++)
            row[j] *= inv;
    }
}

static inline double dot(const double *a, const double *b, int64_t n)
{
    double s = 0.0;
#pragma omp simd reduction(+ : s)
    for (int64_t j = 0; j < n; j++)
        s += a[j] * b[j];
    return s;
}

/* The weighted vote of one heap; ties go to the lower class. */
static int vote(const neighbour *h, int size, const int *train_y, double temperature, int c, double *votes)
{
    double top = h[0].sim;
    for (int i = 1; i < size; i++)
        top = fmax(top, h[i].sim);
    for (int k = 0; k < c; k++)
        votes[k] = 0.0;
    /* Scaling every weight by exp(-top / T) keeps a small temperature from overflowing
     * and leaves the vote unchanged. */
    for (int i = 0; i < size; i++)
        votes[train_y[h[i].row]] += exp((h[i].sim - top) / temperature);
    int best = 0;
    for (int k = 1; k < c; k++)
        if (votes[k] > votes[best])
            best = k;
    return best;
}

vn_status vn_probe_knn(const vn_tensor *train_x, const int *train_y, const vn_tensor *test_x, const int *test_y,
                       const int *test_groups, int n_classes, const vn_knn_probe_options *opts, vn_probe_result *out)
{
    static const char fn[] = "vn_probe_knn";
    VN_CHECK_NULL(train_x);
    VN_CHECK_NULL(train_y);
    VN_CHECK_NULL(test_x);
    VN_CHECK_NULL(test_y);
    VN_CHECK_NULL(out);
    vn_status st = vn_probe_check_result(fn, out);
    const vn_knn_probe_options def = VN_KNN_PROBE_OPTIONS_INIT;
    const vn_knn_probe_options *o = opts ? opts : &def;
    int64_t n, d, m;
    if (st || (st = vn_probe_check_knn_options(fn, o)) ||
        (st = vn_probe_check_sets(fn, train_x, train_y, test_x, test_y, n_classes, &n, &d, &m)))
        return st;
    const int k = o->k < n ? o->k : (int)n;
    const int c = n_classes;
#ifdef _OPENMP
    const int n_threads = omp_get_max_threads();
#else
    const int n_threads = 1;
#endif
    double *xt = malloc((size_t)(n * d) * sizeof *xt);
    double *xs = malloc((size_t)(m * d) * sizeof *xs);
    neighbour *heaps = malloc((size_t)n_threads * TEST_BLOCK * (size_t)k * sizeof *heaps);
    double *votes = malloc((size_t)n_threads * (size_t)c * sizeof *votes);
    unsigned char *correct = malloc((size_t)m);
    if (!xt || !xs || !heaps || !votes || !correct) {
        st = vn_error(VN_ERR_OUT_OF_MEMORY, "%s: out of memory for %lld + %lld rows of %lld features (k %d)", fn,
                      (long long)n, (long long)m, (long long)d, k);
        goto done;
    }
    load_normalised(train_x, d, xt);
    load_normalised(test_x, d, xs);
    const int64_t n_blocks = (m + TEST_BLOCK - 1) / TEST_BLOCK;
#pragma omp parallel for num_threads(n_threads) schedule(dynamic, 1) if (m * n * d >= PAR_MIN)
    for (int64_t blk = 0; blk < n_blocks; blk++) {
#ifdef _OPENMP
        const int tid = omp_get_thread_num();
#else
        const int tid = 0;
#endif
        neighbour *h = heaps + (size_t)tid * TEST_BLOCK * (size_t)k;
        int sizes[TEST_BLOCK] = {0};
        const int64_t i0 = blk * TEST_BLOCK, i1 = i0 + TEST_BLOCK < m ? i0 + TEST_BLOCK : m;
        for (int64_t j = 0; j < n; j++) {
            const double *xj = xt + j * d;
            for (int64_t i = i0; i < i1; i++) {
                neighbour cand = {dot(xs + i * d, xj, d), j};
                heap_offer(h + (i - i0) * k, &sizes[i - i0], k, cand);
            }
        }
        for (int64_t i = i0; i < i1; i++)
            correct[i] = vote(h + (i - i0) * k, sizes[i - i0], train_y, o->temperature, c, votes + (size_t)tid * c) ==
                         test_y[i];
    }
    int64_t hits = 0;
    for (int64_t i = 0; i < m; i++)
        hits += correct[i];
    double lo, hi;
    if ((st = vn_probe_bootstrap(fn, correct, test_groups, m, o->bootstrap, o->confidence, o->seed, &lo, &hi)))
        goto done;
    vn_probe_result res = {out->version, (double)hits / (double)m, lo, hi, NAN, NAN, NAN, n, m};
    *out = res;
done:
    free(xt);
    free(xs);
    free(heaps);
    free(votes);
    free(correct);
    return st;
}
