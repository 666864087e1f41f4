/*
 * The retrieval index (index.h) against a brute-force double-precision reference, on
 * random vectors made here: both metrics, odd shapes across block boundaries, k past
 * the size, ids, repeated adds, shifted queries, ties, zero vectors, and the device
 * path on the guarded stand-in. The files are in test_index_files.c.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "core/context_internal.h"
#include "device_standin.h"
#include "index_fixtures.h"

/* ---- search against the reference -------------------------------------------------- */

static const vn_index_metric metrics[2] = {VN_INDEX_COSINE, VN_INDEX_INNER_PRODUCT};

START_TEST(matches_reference)
{
    const vn_index_metric m = metrics[_i];
    vn_context *ctx = vn_test_cpu_context(2);
    const int64_t n = 5000, d = 64, q = 37, k = 10;
    float *x = ix_randn(n * d, 1), *qs = ix_randn(q * d, 2);
    ix_check_search(ctx, x, n, d, qs, q, k, m, 1);
    ix_check_search(ctx, x, n, d, qs, q, k, m, 0);
    /* k = 1 and a large k */
    ix_check_search(ctx, x, n, d, qs, 5, 1, m, 1);
    ix_check_search(ctx, x, n, d, qs, 3, 700, m, 1);
    free(x);
    free(qs);
    vn_context_destroy(ctx);
}
END_TEST

/* Shapes around the blocks: 1 row, a dim of 1, 4097 rows (a second block of one row),
 * 257 queries (a second query block of one), odd dims. */
START_TEST(odd_shapes)
{
    const vn_index_metric m = metrics[_i];
    vn_context *ctx = vn_test_cpu_context(2);
    static const int64_t shapes[][4] = {
        /* n, d, q, k */
        {1, 1, 1, 1},      {1, 3, 4, 5},        {7, 1, 3, 3},    {13, 17, 9, 4},      {4097, 3, 2, 6},
        {4096, 5, 257, 3}, {4097, 129, 257, 7}, {8193, 2, 1, 2}, {300, 31, 513, 300},
    };
    for (size_t c = 0; c < sizeof shapes / sizeof shapes[0]; c++) {
        const int64_t n = shapes[c][0], d = shapes[c][1], q = shapes[c][2], k = shapes[c][3];
        float *x = ix_randn(n * d, 10 + c), *qs = ix_randn(q * d, 100 + c);
        ix_check_search(ctx, x, n, d, qs, q, k, m, (int)(c & 1));
        free(x);
        free(qs);
    }
    vn_context_destroy(ctx);
}
END_TEST

/* 200k rows: 49 blocks, the last a partial one; 64 queries. */
START_TEST(large_crosses_blocks)
{
    const vn_index_metric m = metrics[_i];
    vn_context *ctx = vn_test_cpu_context(2);
    const int64_t n = 200000, d = 32, q = 64, k = 10;
    float *x = ix_randn(n * d, 7), *qs = ix_randn(q * d, 8);
    /* The best rows of some queries sit in the last, partial block and right at a
     * block's edge: copies of the query itself, scaled up for the inner product. */
    const int64_t plant[4] = {n - 1, 4095, 4096, 8191};
    for (int i = 0; i < 4; i++)
        for (int64_t j = 0; j < d; j++)
            x[plant[i] * d + j] = 3.0f * qs[i * d + j];
    vn_index *ix = ix_make(ctx, x, n, d, m, 1);
    int64_t *ids = malloc((size_t)(q * k) * sizeof *ids);
    float *scores = malloc((size_t)(q * k) * sizeof *scores);
    vn_tensor tq = ix_matrix(qs, q, d);
    VN_ASSERT_OK(vn_index_search(ix, &tq, k, ids, scores));
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(ids[i * k], id_of(plant[i]));
    ref_result r = ix_reference(x, n, d, qs, q, k, m);
    ix_compare(ids, scores, &r, x, n, d, qs, q, k, m, 1);
    ix_ref_free(&r);
    free(ids);
    free(scores);
    vn_index_destroy(ix);
    free(x);
    free(qs);
    vn_context_destroy(ctx);
}
END_TEST

/* Queries past one span of heaps (4,096 queries), and a k so large that a span is cut
 * to keep the heaps within budget (5,000 x 12 bytes a query: 1,118 queries a span). */
START_TEST(query_spans)
{
    vn_context *ctx = vn_test_cpu_context(2);
    float *x = ix_randn(5000 * 8, 201), *qs = ix_randn(4100 * 8, 202);
    ix_check_search(ctx, x, 5000, 8, qs, 4100, 3, metrics[_i], 1);
    ix_check_search(ctx, x, 5000, 8, qs, 1200, 5000, metrics[_i], 0);
    free(x);
    free(qs);
    vn_context_destroy(ctx);
}
END_TEST

/* The ids and scores do not depend on the thread count. */
START_TEST(threads_agree)
{
    const int64_t n = 9000, d = 24, q = 300, k = 8;
    float *x = ix_randn(n * d, 21), *qs = ix_randn(q * d, 22);
    int64_t *ids[2];
    float *sc[2];
    for (int t = 0; t < 2; t++) {
        vn_context *ctx = vn_test_cpu_context(t + 1);
        vn_index *ix = ix_make(ctx, x, n, d, VN_INDEX_COSINE, 1);
        ids[t] = malloc((size_t)(q * k) * sizeof *ids[t]);
        sc[t] = malloc((size_t)(q * k) * sizeof *sc[t]);
        vn_tensor tq = ix_matrix(qs, q, d);
        VN_ASSERT_OK(vn_index_search(ix, &tq, k, ids[t], sc[t]));
        vn_index_destroy(ix);
        vn_context_destroy(ctx);
    }
    ck_assert(memcmp(ids[0], ids[1], (size_t)(q * k) * sizeof *ids[0]) == 0);
    for (int64_t i = 0; i < q * k; i++)
        EXPECT(fabsf(sc[0][i] - sc[1][i]) <= 1e-6f, "score %lld: %g with 1 thread, %g with 2", (long long)i,
               (double)sc[0][i], (double)sc[1][i]);
    for (int t = 0; t < 2; t++) {
        free(ids[t]);
        free(sc[t]);
    }
    free(x);
    free(qs);
}
END_TEST

/* ---- sizes, ids, adds -------------------------------------------------------------- */

START_TEST(k_past_size)
{
    vn_context *ctx = vn_test_cpu_context(1);
    const int64_t d = 6, q = 3, k = 8;
    float *x = ix_randn(5 * d, 31), *qs = ix_randn(q * d, 32);
    for (int mi = 0; mi < 2; mi++) {
        ix_check_search(ctx, x, 5, d, qs, q, k, metrics[mi], 1);
        /* an empty index: every place is empty */
        vn_index *ix = NULL;
        VN_ASSERT_OK(vn_index_create(&ix, ctx, d, metrics[mi]));
        int64_t ids[3 * 8];
        float scores[3 * 8];
        vn_tensor tq = ix_matrix(qs, q, d);
        VN_ASSERT_OK(vn_index_search(ix, &tq, k, ids, scores));
        for (int i = 0; i < q * k; i++) {
            ck_assert_int_eq(ids[i], -1);
            ck_assert(scores[i] == -INFINITY);
        }
        VN_ASSERT_OK(vn_index_search(ix, &tq, k, ids, NULL));
        /* no queries: nothing written */
        vn_tensor none = ix_matrix(qs, 0, d);
        ids[0] = 42;
        VN_ASSERT_OK(vn_index_search(ix, &none, k, ids, scores));
        ck_assert_int_eq(ids[0], 42);
        vn_index_destroy(ix);
    }
    free(x);
    free(qs);
    vn_context_destroy(ctx);
}
END_TEST

START_TEST(ids_and_repeated_adds)
{
    vn_context *ctx = vn_test_cpu_context(2);
    const int64_t n = 6000, d = 20, q = 50, k = 12;
    float *x = ix_randn(n * d, 41), *qs = ix_randn(q * d, 42);
    for (int mi = 0; mi < 2; mi++) {
        const vn_index_metric m = metrics[mi];
        vn_index *one = ix_make(ctx, x, n, d, m, 0);
        /* The same rows in uneven pieces, numbered by the index (size, size + 1, ...). */
        vn_index *many = NULL;
        VN_ASSERT_OK(vn_index_create(&many, ctx, d, m));
        const int64_t cuts[] = {0, 1, 17, 17, 4100, 5999, 6000};
        for (size_t c = 0; c + 1 < sizeof cuts / sizeof cuts[0]; c++) {
            vn_tensor t = ix_matrix(x + cuts[c] * d, cuts[c + 1] - cuts[c], d);
            VN_ASSERT_OK(vn_index_add(many, &t, NULL));
            int64_t size;
            VN_ASSERT_OK(vn_index_size(many, &size));
            ck_assert_int_eq(size, cuts[c + 1]);
        }
        int64_t got_d;
        vn_index_metric got_m;
        VN_ASSERT_OK(vn_index_dim(many, &got_d));
        VN_ASSERT_OK(vn_index_metric_of(many, &got_m));
        ck_assert_int_eq(got_d, d);
        ck_assert_int_eq(got_m, m);
        int64_t *ia = malloc((size_t)(q * k) * sizeof *ia), *ib = malloc((size_t)(q * k) * sizeof *ib);
        float *sa = malloc((size_t)(q * k) * sizeof *sa), *sb = malloc((size_t)(q * k) * sizeof *sb);
        vn_tensor tq = ix_matrix(qs, q, d);
        VN_ASSERT_OK(vn_index_search(one, &tq, k, ia, sa));
        VN_ASSERT_OK(vn_index_search(many, &tq, k, ib, sb));
        /* same rows in the same places: the same arithmetic, bit for bit */
        ck_assert(memcmp(ia, ib, (size_t)(q * k) * sizeof *ia) == 0);
        ck_assert(memcmp(sa, sb, (size_t)(q * k) * sizeof *sa) == 0);
        for (int64_t i = 0; i < n; i += 997) {
            int64_t id;
            float row[20];
            VN_ASSERT_OK(vn_index_get(many, i, row, &id));
            ck_assert_int_eq(id, i);
            double inv = m == VN_INDEX_COSINE ? 1.0 / ix_dnorm(x + i * d, d) : 1.0;
            for (int64_t j = 0; j < d; j++)
                ck_assert_float_eq_tol(row[j], x[i * d + j] * inv, 1e-6f);
        }
        VN_ASSERT_OK(vn_index_get(many, n - 1, NULL, NULL));
        /* Given ids after numbered ones, then numbered again: the numbering follows the
         * size, whatever ids were given. */
        float extra[3 * 20];
        memcpy(extra, x, sizeof extra);
        vn_tensor te = ix_matrix(extra, 2, d);
        int64_t given[2] = {-5, -5};
        VN_ASSERT_OK(vn_index_add(many, &te, given));
        te = ix_matrix(extra + 2 * d, 1, d);
        VN_ASSERT_OK(vn_index_add(many, &te, NULL));
        int64_t id;
        VN_ASSERT_OK(vn_index_get(many, n, NULL, &id));
        ck_assert_int_eq(id, -5);
        VN_ASSERT_OK(vn_index_get(many, n + 1, NULL, &id));
        ck_assert_int_eq(id, -5);
        VN_ASSERT_OK(vn_index_get(many, n + 2, NULL, &id));
        ck_assert_int_eq(id, n + 2);
        /* Duplicate ids come back as given: rows 0 and n are the same vector with ids 0
         * and -5, and tie; the earlier row ranks first. */
        vn_tensor q0 = ix_matrix(x, 1, d);
        int64_t *all = malloc((size_t)(n + 3) * sizeof *all);
        VN_ASSERT_OK(vn_index_search(many, &q0, n + 3, all, NULL));
        int64_t at = 0;
        while (at < n + 2 && all[at] != 0)
            at++;
        ck_assert_int_lt(at, n + 2);
        ck_assert_int_eq(all[at + 1], -5);
        if (m == VN_INDEX_COSINE)
            ck_assert_int_eq(at, 0);
        free(all);
        free(ia);
        free(ib);
        free(sa);
        free(sb);
        vn_index_destroy(one);
        vn_index_destroy(many);
    }
    free(x);
    free(qs);
    vn_context_destroy(ctx);
}
END_TEST

/* Equal scores rank by the lower row, across blocks and whatever the ids; a tie group
 * cut by k keeps its lowest rows. */
START_TEST(ties_rank_by_row)
{
    const int64_t n = 9000, d = 8;
    float *x = ix_randn(n * d, 51), *p = ix_randn(d, 52);
    /* long enough that no random row beats it on the inner product either */
    float probe[8];
    for (int j = 0; j < d; j++)
        probe[j] = 10.0f * p[j];
    free(p);
    /* Eleven copies of one vector, in three blocks; given ids descend, so ordering by id
     * would reverse them. */
    const int64_t copies[] = {8999, 12, 4095, 4096, 3, 5000, 8192, 100, 4097, 7, 9};
    for (size_t c = 0; c < sizeof copies / sizeof copies[0]; c++)
        memcpy(x + copies[c] * d, probe, sizeof probe);
    int64_t *given = malloc((size_t)n * sizeof *given);
    for (int64_t i = 0; i < n; i++)
        given[i] = 1000000 - i;
    const int64_t sorted[] = {3, 7, 9, 12, 100, 4095, 4096, 4097, 5000, 8192, 8999};
    for (int t = 1; t <= 2; t++)
        for (int mi = 0; mi < 2; mi++) {
            vn_context *ctx = vn_test_cpu_context(t);
            vn_index *ix = NULL;
            VN_ASSERT_OK(vn_index_create(&ix, ctx, d, metrics[mi]));
            vn_tensor tx = ix_matrix(x, n, d);
            VN_ASSERT_OK(vn_index_add(ix, &tx, given));
            vn_tensor tq = ix_matrix(probe, 1, d);
            int64_t ids[11];
            float scores[11];
            for (int64_t k = 1; k <= 11; k += 5) {
                VN_ASSERT_OK(vn_index_search(ix, &tq, k, ids, scores));
                for (int64_t j = 0; j < k; j++) {
                    ck_assert_int_eq(ids[j], 1000000 - sorted[j]);
                    ck_assert(scores[j] == scores[0]);
                }
            }
            vn_index_destroy(ix);
            vn_context_destroy(ctx);
        }
    free(given);
    free(x);
}
END_TEST

/* Cosine with zero rows and a zero query: zeros score 0, a zero query ties everything
 * at 0 and gets the first rows. */
START_TEST(zero_vectors_cosine)
{
    vn_context *ctx = vn_test_cpu_context(2);
    const int64_t n = 50, d = 5, k = 4;
    float *x = ix_randn(n * d, 61);
    for (int64_t i = 0; i < n; i += 3)
        memset(x + i * d, 0, (size_t)d * sizeof *x);
    float qs[2 * 5] = {0, 0, 0, 0, 0, 1, -2, 0.5f, 3, 1};
    vn_index *ix = ix_make(ctx, x, n, d, VN_INDEX_COSINE, 0);
    vn_tensor tq = ix_matrix(qs, 2, d);
    int64_t ids[8];
    float scores[8];
    VN_ASSERT_OK(vn_index_search(ix, &tq, k, ids, scores));
    for (int j = 0; j < k; j++) {
        ck_assert_int_eq(ids[j], j);
        ck_assert(scores[j] == 0.0f);
    }
    /* all rows ranked: every zero row scores exactly 0 */
    int64_t all[50];
    float all_s[50];
    vn_tensor t1 = ix_matrix(qs + d, 1, d);
    VN_ASSERT_OK(vn_index_search(ix, &t1, n, all, all_s));
    for (int j = 0; j < n; j++)
        EXPECT(all[j] % 3 != 0 || all_s[j] == 0.0f, "zero row %lld scores %g", (long long)all[j], (double)all_s[j]);
    ref_result r = ix_reference(x, n, d, qs, 2, k, VN_INDEX_COSINE);
    ix_compare(ids, scores, &r, x, n, d, qs, 2, k, VN_INDEX_COSINE, 0);
    ix_ref_free(&r);
    float row[5];
    VN_ASSERT_OK(vn_index_get(ix, 3, row, NULL));
    for (int j = 0; j < d; j++)
        ck_assert(row[j] == 0.0f);
    vn_index_destroy(ix);
    free(x);
    vn_context_destroy(ctx);
}
END_TEST

/* Cosine is blind to length, down to subnormal elements and up to near FLT_MAX: the
 * same direction at 1e-42 and at 1e37 scores 1, as does the query itself. */
START_TEST(extreme_lengths_cosine)
{
    vn_context *ctx = vn_test_cpu_context(1);
    const int64_t d = 4;
    float u[4] = {0.5f, -0.5f, 0.5f, 0.5f};
    float x[4 * 4] = {0};
    const float scale[3] = {1e-42f, 1e37f, 1.0f};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < d; j++)
            x[i * d + j] = u[j] * scale[i];
    x[3 * d] = 1.0f; /* an unrelated row */
    vn_index *ix = ix_make(ctx, x, 4, d, VN_INDEX_COSINE, 0);
    float big[4];
    for (int j = 0; j < d; j++)
        big[j] = u[j] * 3e37f;
    for (int qi = 0; qi < 2; qi++) {
        vn_tensor tq = ix_matrix(qi ? big : u, 1, d);
        int64_t ids[4];
        float scores[4];
        VN_ASSERT_OK(vn_index_search(ix, &tq, 4, ids, scores));
        for (int j = 0; j < 3; j++) {
            ck_assert_int_eq(ids[j], j);
            ck_assert_msg(fabsf(scores[j] - 1.0f) <= 1e-6f, "row %d scores %.9g", j, (double)scores[j]);
        }
        ck_assert_int_eq(ids[3], 3);
    }
    float row[4];
    VN_ASSERT_OK(vn_index_get(ix, 0, row, NULL));
    for (int j = 0; j < d; j++)
        ck_assert_float_eq_tol(row[j], u[j], 1e-6f);
    vn_index_destroy(ix);
    vn_context_destroy(ctx);
}
END_TEST

/* ---- shifted queries --------------------------------------------------------------- */

START_TEST(shifted_matches_manual_shift)
{
    const vn_index_metric m = metrics[_i];
    vn_context *ctx = vn_test_cpu_context(2);
    const int64_t n = 5000, d = 48, q = 40, k = 10;
    float *x = ix_randn(n * d, 71), *qs = ix_randn(q * d, 72), *dir = ix_randn(d, 73);
    vn_index *ix = ix_make(ctx, x, n, d, m, 1);
    int64_t *ia = malloc((size_t)(q * k) * sizeof *ia), *ib = malloc((size_t)(q * k) * sizeof *ib);
    float *sa = malloc((size_t)(q * k) * sizeof *sa), *sb = malloc((size_t)(q * k) * sizeof *sb);
    vn_tensor tq = ix_matrix(qs, q, d);
    /* alpha 0 is the plain search, bit for bit */
    VN_ASSERT_OK(vn_index_search(ix, &tq, k, ia, sa));
    VN_ASSERT_OK(vn_index_search_shifted(ix, &tq, dir, 0.0f, k, ib, sb));
    ck_assert(memcmp(ia, ib, (size_t)(q * k) * sizeof *ia) == 0);
    ck_assert(memcmp(sa, sb, (size_t)(q * k) * sizeof *sa) == 0);
    const float alphas[] = {0.7f, -2.5f};
    for (int a = 0; a < 2; a++) {
        float *moved = malloc((size_t)(q * d) * sizeof *moved);
        for (int64_t i = 0; i < q; i++)
            for (int64_t j = 0; j < d; j++)
                moved[i * d + j] = qs[i * d + j] - alphas[a] * dir[j];
        vn_tensor tm = ix_matrix(moved, q, d);
        VN_ASSERT_OK(vn_index_search_shifted(ix, &tq, dir, alphas[a], k, ia, sa));
        VN_ASSERT_OK(vn_index_search(ix, &tm, k, ib, sb));
        ck_assert(memcmp(ia, ib, (size_t)(q * k) * sizeof *ia) == 0);
        for (int64_t i = 0; i < q * k; i++)
            EXPECT(fabsf(sa[i] - sb[i]) <= 1e-6f * fabsf(sb[i]) + 1e-6f, "score %lld: %g shifted, %g moved",
                   (long long)i, (double)sa[i], (double)sb[i]);
        ref_result r = ix_reference(x, n, d, moved, q, k, m);
        ix_compare(ia, sa, &r, x, n, d, moved, q, k, m, 1);
        ix_ref_free(&r);
        free(moved);
    }
    free(ia);
    free(ib);
    free(sa);
    free(sb);
    vn_index_destroy(ix);
    free(x);
    free(qs);
    free(dir);
    vn_context_destroy(ctx);
}
END_TEST

/* The reversed version of a clip, in a gallery of clips both ways: reversed_i is
 * forward_i reflected across the hyperplane normal to t, plus noise. The plain query
 * finds the clip itself; the reflected one, alpha = 2 (q . t) / (t . t), its reversal. */
START_TEST(reflection_finds_the_reversal)
{
    vn_context *ctx = vn_test_cpu_context(2);
    const int64_t n = 400, d = 32;
    float *all = ix_randn(2 * n * d, 81), *noise = ix_randn(n * d, 82), *t = ix_randn(d, 83);
    float *fwd = all, *rev = all + n * d; /* rows 0..n-1 forward, n..2n-1 reversed */
    double tt = 0.0;
    for (int64_t j = 0; j < d; j++)
        tt += (double)t[j] * t[j];
    for (int64_t i = 0; i < n; i++) {
        double qt = 0.0;
        for (int64_t j = 0; j < d; j++) {
            fwd[i * d + j] += 1.5f * t[j]; /* every forward clip leans along t */
            qt += (double)fwd[i * d + j] * t[j];
        }
        for (int64_t j = 0; j < d; j++)
            rev[i * d + j] = (float)(fwd[i * d + j] - 2.0 * qt / tt * t[j]) + 0.05f * noise[i * d + j];
    }
    vn_index *ix = ix_make(ctx, all, 2 * n, d, VN_INDEX_COSINE, 0);
    int hits = 0, base_self = 0;
    for (int64_t i = 0; i < n; i++) {
        vn_tensor tq = ix_matrix(fwd + i * d, 1, d);
        double qt = 0.0;
        for (int64_t j = 0; j < d; j++)
            qt += (double)fwd[i * d + j] * t[j];
        int64_t id;
        VN_ASSERT_OK(vn_index_search_shifted(ix, &tq, t, (float)(2.0 * qt / tt), 1, &id, NULL));
        hits += id == n + i;
        VN_ASSERT_OK(vn_index_search(ix, &tq, 1, &id, NULL));
        base_self += id == i;
    }
    ck_assert_int_eq(hits, n);
    ck_assert_int_eq(base_self, n);
    vn_index_destroy(ix);
    free(all);
    free(noise);
    free(t);
    vn_context_destroy(ctx);
}
END_TEST

START_TEST(non_finite_refused)
{
    vn_context *ctx = vn_test_cpu_context(1);
    const int64_t d = 3;
    float x[6] = {1, 2, 3, 4, INFINITY, 6};
    vn_index *ix = NULL;
    VN_ASSERT_OK(vn_index_create(&ix, ctx, d, VN_INDEX_INNER_PRODUCT));
    vn_tensor t = ix_matrix(x, 2, d);
    VN_ASSERT_FAILS(vn_index_add(ix, &t, NULL), VN_ERR_INVALID_ARG);
    ck_assert(strstr(vn_last_error(), "[1][1]") != NULL);
    int64_t size;
    VN_ASSERT_OK(vn_index_size(ix, &size));
    ck_assert_int_eq(size, 0);
    x[4] = 5;
    VN_ASSERT_OK(vn_index_add(ix, &t, NULL));
    float qv[3] = {1, NAN, 0};
    vn_tensor tq = ix_matrix(qv, 1, d);
    int64_t id;
    VN_ASSERT_FAILS(vn_index_search(ix, &tq, 1, &id, NULL), VN_ERR_INVALID_ARG);
    qv[1] = 0;
    float dir[3] = {10, 10, 10};
    VN_ASSERT_FAILS(vn_index_search_shifted(ix, &tq, dir, NAN, 1, &id, NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_index_search_shifted(ix, &tq, dir, 3e38f, 1, &id, NULL), VN_ERR_INVALID_ARG); /* inf */
    dir[2] = -INFINITY;
    VN_ASSERT_FAILS(vn_index_search_shifted(ix, &tq, dir, 1.0f, 1, &id, NULL), VN_ERR_INVALID_ARG);
    vn_index_destroy(ix);
    vn_context_destroy(ctx);
}
END_TEST

/* ---- other backends ---------------------------------------------------------------- */

static vn_context *standin_context(int n_threads)
{
    vn_context *ctx = calloc(1, sizeof *ctx);
    ck_assert_ptr_nonnull(ctx);
    ctx->kind = VN_BACKEND_REFERENCE;
    ctx->n_threads = n_threads;
    ctx->deterministic = 1;
    VN_ASSERT_OK(vn_standin_open(&ctx->be, n_threads));
    return ctx;
}

/* On memory the host cannot touch (the guarded stand-in faults on any host access) the
 * search uploads and downloads around the GEMM, with the cpu path's arithmetic: the same
 * ids and scores, bit for bit. */
START_TEST(device_standin_matches_cpu)
{
    const vn_index_metric m = metrics[_i];
    const int64_t n = 9000, d = 16, q = 300, k = 5;
    float *x = ix_randn(n * d, 111), *qs = ix_randn(q * d, 112), *dir = ix_randn(d, 113);
    vn_context *cpu = vn_test_cpu_context(2), *dev = standin_context(2);
    vn_index *a = ix_make(cpu, x, n, d, m, 1), *b = ix_make(dev, x, n, d, m, 1);
    int64_t *ia = malloc((size_t)(q * k) * sizeof *ia), *ib = malloc((size_t)(q * k) * sizeof *ib);
    float *sa = malloc((size_t)(q * k) * sizeof *sa), *sb = malloc((size_t)(q * k) * sizeof *sb);
    vn_tensor tq = ix_matrix(qs, q, d);
    vn_standin_counts before = vn_standin_counters(&dev->be);
    VN_ASSERT_OK(vn_index_search(a, &tq, k, ia, sa));
    VN_ASSERT_OK(vn_index_search(b, &tq, k, ib, sb));
    vn_standin_counts after = vn_standin_counters(&dev->be);
    ck_assert(memcmp(ia, ib, (size_t)(q * k) * sizeof *ia) == 0);
    ck_assert(memcmp(sa, sb, (size_t)(q * k) * sizeof *sa) == 0);
    /* 3 row blocks x 2 query blocks, each a GEMM on the device */
    ck_assert_uint_eq(after.base_calls - before.base_calls, 6);
    ck_assert_uint_eq(after.downloads - before.downloads, 6);
    ck_assert_int_eq(after.live_buffers, before.live_buffers);
    VN_ASSERT_OK(vn_index_search_shifted(a, &tq, dir, 0.5f, k, ia, sa));
    VN_ASSERT_OK(vn_index_search_shifted(b, &tq, dir, 0.5f, k, ib, sb));
    ck_assert(memcmp(ia, ib, (size_t)(q * k) * sizeof *ia) == 0);
    ck_assert(memcmp(sa, sb, (size_t)(q * k) * sizeof *sa) == 0);
    free(ia);
    free(ib);
    free(sa);
    free(sb);
    vn_index_destroy(a);
    vn_index_destroy(b);
    vn_context_destroy(cpu);
    vn_context_destroy(dev);
    free(x);
    free(qs);
    free(dir);
}
END_TEST

/* The plain-C reference backend gives the reference's answer too. */
START_TEST(reference_backend)
{
    vn_context_options o = VN_CONTEXT_OPTIONS_INIT;
    o.backend = VN_BACKEND_REFERENCE;
    o.n_threads = 1;
    vn_context *ctx = NULL;
    VN_ASSERT_OK(vn_context_create(&ctx, &o));
    const int64_t n = 4200, d = 12, q = 6, k = 7;
    float *x = ix_randn(n * d, 121), *qs = ix_randn(q * d, 122);
    for (int mi = 0; mi < 2; mi++)
        ix_check_search(ctx, x, n, d, qs, q, k, metrics[mi], 1);
    free(x);
    free(qs);
    vn_context_destroy(ctx);
}
END_TEST

static Suite *index_suite(void)
{
    Suite *s = suite_create("index");
    TCase *tc = tcase_create("search");
    tcase_add_loop_test(tc, matches_reference, 0, 2);
    tcase_add_loop_test(tc, odd_shapes, 0, 2);
    tcase_add_loop_test(tc, large_crosses_blocks, 0, 2);
    tcase_add_loop_test(tc, query_spans, 0, 2);
    tcase_add_test(tc, threads_agree);
    tcase_add_test(tc, k_past_size);
    tcase_add_test(tc, ids_and_repeated_adds);
    tcase_add_test(tc, ties_rank_by_row);
    tcase_add_test(tc, zero_vectors_cosine);
    tcase_add_test(tc, extreme_lengths_cosine);
    tcase_add_loop_test(tc, shifted_matches_manual_shift, 0, 2);
    tcase_add_test(tc, reflection_finds_the_reversal);
    tcase_add_test(tc, non_finite_refused);
    tcase_add_loop_test(tc, device_standin_matches_cpu, 0, 2);
    tcase_add_test(tc, reference_backend);
    suite_add_tcase(s, tc);
    suite_add_tcase(s, ix_files_tcase());
    return s;
}

int main(void)
{
    return vn_test_run(index_suite());
}
