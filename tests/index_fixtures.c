/* The index suite's fixtures and its brute-force reference (index_fixtures.h). */
#include <math.h>
#include <string.h>

#include "index_fixtures.h"

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Standard normal floats (Box-Muller). */
float *ix_randn(int64_t count, uint64_t seed)
{
    float *x = malloc((size_t)(count > 0 ? count : 1) * sizeof *x);
    ck_assert_ptr_nonnull(x);
    uint64_t s = seed;
    for (int64_t i = 0; i < count; i++) {
        double u1 = ((double)(splitmix(&s) >> 11) + 1.0) / 9007199254740993.0;
        double u2 = (double)(splitmix(&s) >> 11) / 9007199254740992.0;
        x[i] = (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
    }
    return x;
}

vn_tensor ix_matrix(float *x, int64_t n, int64_t d)
{
    vn_tensor t;
    VN_ASSERT_OK(vn_tensor_init(&t, x, VN_DTYPE_F32, 2, (int64_t[]){n, d}));
    return t;
}

vn_index *ix_make(vn_context *ctx, const float *x, int64_t n, int64_t d, vn_index_metric m, int with_ids)
{
    vn_index *ix = NULL;
    VN_ASSERT_OK(vn_index_create(&ix, ctx, d, m));
    int64_t *ids = NULL;
    if (with_ids) {
        ids = malloc((size_t)(n > 0 ? n : 1) * sizeof *ids);
        for (int64_t i = 0; i < n; i++)
            ids[i] = id_of(i);
    }
    vn_tensor t = ix_matrix((float *)x, n, d);
    VN_ASSERT_OK(vn_index_add(ix, &t, ids));
    free(ids);
    return ix;
}

double ix_dnorm(const float *x, int64_t d)
{
    double ss = 0.0;
    for (int64_t j = 0; j < d; j++)
        ss += (double)x[j] * x[j];
    return sqrt(ss);
}

/* The exact score of a stored row for a query, in double. */
static double ref_score(const float *v, const float *q, int64_t d, vn_index_metric m)
{
    double s = 0.0;
    for (int64_t j = 0; j < d; j++)
        s += (double)v[j] * q[j];
    if (m == VN_INDEX_COSINE) {
        double nv = ix_dnorm(v, d), nq = ix_dnorm(q, d);
        s = nv > 0.0 && nq > 0.0 ? s / (nv * nq) : 0.0;
    }
    return s;
}

typedef struct scored {
    double s;
    int64_t row;
} scored;

static int by_rank(const void *a, const void *b)
{
    const scored *x = a, *y = b;
    if (x->s != y->s)
        return x->s > y->s ? -1 : 1;
    return x->row < y->row ? -1 : x->row > y->row;
}

/* The top k of every query by descending score, then ascending row: insertion into a
 * sorted list for a small k, a full sort for a large one. */
ref_result ix_reference(const float *x, int64_t n, int64_t d, const float *qs, int64_t q, int64_t k, vn_index_metric m)
{
    ref_result r;
    r.rows = malloc((size_t)(q * k) * sizeof *r.rows);
    r.scores = malloc((size_t)(q * k) * sizeof *r.scores);
    r.scale = malloc((size_t)q * sizeof *r.scale);
    double max_vnorm = 0.0;
    for (int64_t i = 0; i < n; i++)
        max_vnorm = fmax(max_vnorm, ix_dnorm(x + i * d, d));
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t qi = 0; qi < q; qi++) {
        const float *qv = qs + qi * d;
        int64_t *rr = r.rows + qi * k;
        double *rs = r.scores + qi * k;
        r.scale[qi] = m == VN_INDEX_COSINE ? 1.0 : fmax(ix_dnorm(qv, d) * max_vnorm, 1e-30);
        int64_t size = 0;
        if (k > 64) {
            scored *all = malloc((size_t)(n > 0 ? n : 1) * sizeof *all);
            for (int64_t i = 0; i < n; i++)
                all[i] = (scored){ref_score(x + i * d, qv, d, m), i};
            qsort(all, (size_t)n, sizeof *all, by_rank);
            for (; size < k && size < n; size++) {
                rs[size] = all[size].s;
                rr[size] = all[size].row;
            }
            free(all);
        } else {
            for (int64_t i = 0; i < n; i++) {
                double s = ref_score(x + i * d, qv, d, m);
                if (size == k && !(s > rs[k - 1]))
                    continue;
                int64_t at = size < k ? size++ : k - 1;
                while (at > 0 && s > rs[at - 1]) {
                    rs[at] = rs[at - 1];
                    rr[at] = rr[at - 1];
                    at--;
                }
                rs[at] = s;
                rr[at] = i;
            }
        }
        for (int64_t j = size; j < k; j++) {
            rr[j] = -1;
            rs[j] = -INFINITY;
        }
    }
    return r;
}

void ix_ref_free(ref_result *r)
{
    free(r->rows);
    free(r->scores);
    free(r->scale);
}

/* Scores within 1e-5 of the query's scale; each id the reference's, or a row whose
 * exact score ties the reference's at that place within 1e-6 (of the scale); no row
 * twice; scores never increasing. Returns how many places differed by a tie. */
int64_t ix_compare(const int64_t *ids, const float *scores, const ref_result *r, const float *x, int64_t n, int64_t d,
                   const float *qs, int64_t q, int64_t k, vn_index_metric m, int with_ids)
{
    int64_t swaps = 0;
    unsigned char *seen = calloc((size_t)(n > 0 ? n : 1), 1);
    for (int64_t qi = 0; qi < q; qi++) {
        const double scale = r->scale[qi];
        for (int64_t j = 0; j < k; j++) /* clear the last query's marks */
            if (qi > 0 && r->rows[(qi - 1) * k + j] >= 0) {
                const int64_t id = ids[(qi - 1) * k + j];
                seen[with_ids ? row_of(id) : id] = 0;
            }
        for (int64_t j = 0; j < k; j++) {
            const int64_t at = qi * k + j;
            const int64_t want = r->rows[at];
            if (want < 0) {
                EXPECT(ids[at] == -1, "query %lld place %lld: id %lld past the size", (long long)qi, (long long)j,
                       (long long)ids[at]);
                EXPECT(scores[at] == -INFINITY, "query %lld place %lld: score %g past the size", (long long)qi,
                       (long long)j, (double)scores[at]);
                continue;
            }
            const int64_t got = with_ids ? row_of(ids[at]) : ids[at];
            EXPECT(got >= 0 && got < n, "query %lld place %lld: id %lld is no row", (long long)qi, (long long)j,
                   (long long)ids[at]);
            if (with_ids)
                EXPECT(ids[at] == id_of(got), "query %lld: id %lld is no test id", (long long)qi, (long long)ids[at]);
            EXPECT(fabs(scores[at] - r->scores[at]) <= 1e-5 * scale,
                   "query %lld place %lld: score %.9g, reference %.9g (scale %g)", (long long)qi, (long long)j,
                   (double)scores[at], r->scores[at], scale);
            if (got != want) {
                double s = ref_score(x + got * d, qs + qi * d, d, m);
                EXPECT(fabs(s - r->scores[at]) <= 1e-6 * scale,
                       "query %lld place %lld: row %lld (score %.9g) where the reference has row %lld (%.9g)",
                       (long long)qi, (long long)j, (long long)got, s, (long long)want, r->scores[at]);
                swaps++;
            }
            EXPECT(!seen[got], "query %lld: id %lld twice", (long long)qi, (long long)ids[at]);
            seen[got] = 1;
            if (j > 0)
                EXPECT(scores[at] <= scores[at - 1], "query %lld: scores increase at place %lld", (long long)qi,
                       (long long)j);
        }
    }
    free(seen);
    return swaps;
}

/* Search an index of x and check it against the reference. */
void ix_check_search(vn_context *ctx, const float *x, int64_t n, int64_t d, const float *qs, int64_t q, int64_t k,
                     vn_index_metric m, int with_ids)
{
    vn_index *ix = ix_make(ctx, x, n, d, m, with_ids);
    int64_t *ids = malloc((size_t)(q * k) * sizeof *ids);
    float *scores = malloc((size_t)(q * k) * sizeof *scores);
    vn_tensor tq = ix_matrix((float *)qs, q, d);
    VN_ASSERT_OK(vn_index_search(ix, &tq, k, ids, scores));
    ref_result r = ix_reference(x, n, d, qs, q, k, m);
    ix_compare(ids, scores, &r, x, n, d, qs, q, k, m, with_ids);
    /* ids without scores: the same ids */
    int64_t *ids2 = malloc((size_t)(q * k) * sizeof *ids2);
    VN_ASSERT_OK(vn_index_search(ix, &tq, k, ids2, NULL));
    ck_assert(memcmp(ids, ids2, (size_t)(q * k) * sizeof *ids) == 0);
    ix_ref_free(&r);
    free(ids);
    free(ids2);
    free(scores);
    vn_index_destroy(ix);
}
