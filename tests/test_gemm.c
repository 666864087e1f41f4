/*
 * GEMM on the cpu backend (oneDNN) against the plain-C reference: random shapes,
 * 1x1, odd sizes, all four transpose combinations, batched, strided with padded
 * leading dimensions, broadcast batches, alpha/beta/bias. Error is measured as
 * ||C - R||_2 / ||R||_2 and must be <= 1e-5.
 */
#include "vn_test.h"

#include <math.h>
#include <string.h>

#include "backend/backend.h"
#include "backend/backend_cpu.h"
#include "core/rng.h"

#define TOL 1e-5

typedef struct pair {
    vn_be cpu, ref;
} pair;

static void open_pair(pair *p, int threads)
{
    vn_backend_config cfg = {threads, 0, 0, 1};
    VN_ASSERT_OK(vn_be_open(&p->cpu, VN_BACKEND_CPU, &cfg));
    VN_ASSERT_OK(vn_be_open(&p->ref, VN_BACKEND_REFERENCE, &cfg));
}

static void close_pair(pair *p)
{
    vn_be_close(&p->cpu);
    vn_be_close(&p->ref);
}

/* Elements a strided operand spans, so buffers can be sized exactly. */
static int64_t span(int64_t batch, int64_t bstride, int64_t rows, int64_t cols, int64_t ld)
{
    if (rows == 0 || cols == 0)
        return 1;
    return (batch - 1) * bstride + (rows - 1) * ld + cols;
}

static float *random_buffer(vn_rng *r, int64_t n)
{
    float *p = malloc((size_t)n * sizeof *p);
    ck_assert_ptr_nonnull(p);
    for (int64_t i = 0; i < n; i++)
        p[i] = (float)(vn_rng_uniform(r) * 2.0 - 1.0);
    return p;
}

/* Run one desc on both backends and return the normalised error over the C elements. */
static double compare(pair *p, const vn_gemm_desc *d, vn_rng *r, int with_bias)
{
    int64_t a_rows = d->trans_a ? d->k : d->m, a_cols = d->trans_a ? d->m : d->k;
    int64_t b_rows = d->trans_b ? d->n : d->k, b_cols = d->trans_b ? d->k : d->n;
    int64_t na = span(d->batch, d->stride_a, a_rows, a_cols, d->lda);
    int64_t nb = span(d->batch, d->stride_b, b_rows, b_cols, d->ldb);
    int64_t nc = span(d->batch, d->stride_c, d->m, d->n, d->ldc);
    float *a = random_buffer(r, na), *b = random_buffer(r, nb), *c0 = random_buffer(r, nc);
    float *bias = with_bias ? random_buffer(r, d->n > 0 ? d->n : 1) : NULL;
    float *c_cpu = malloc((size_t)nc * sizeof(float)), *c_ref = malloc((size_t)nc * sizeof(float));
    memcpy(c_cpu, c0, (size_t)nc * sizeof(float));
    memcpy(c_ref, c0, (size_t)nc * sizeof(float));

    VN_ASSERT_OK(vn_be_gemm(&p->cpu, d, a, b, bias, c_cpu));
    VN_ASSERT_OK(vn_be_gemm(&p->ref, d, a, b, bias, c_ref));

    double num = 0.0, den = 0.0;
    for (int64_t bi = 0; bi < d->batch; bi++)
        for (int64_t i = 0; i < d->m; i++)
            for (int64_t j = 0; j < d->n; j++) {
                int64_t off = bi * d->stride_c + i * d->ldc + j;
                double diff = (double)c_cpu[off] - c_ref[off];
                num += diff * diff;
                den += (double)c_ref[off] * c_ref[off];
            }
    /* Padding between rows and batches must be left alone. */
    for (int64_t off = 0; off < nc; off++) {
        int64_t bi = d->stride_c ? off / d->stride_c : 0;
        int64_t rem = off - bi * d->stride_c;
        int in_c = bi < d->batch && rem / d->ldc < d->m && rem % d->ldc < d->n;
        if (!in_c)
            ck_assert_msg(c_cpu[off] == c0[off], "gemm wrote outside C at offset %lld", (long long)off);
    }
    free(a), free(b), free(c0), free(bias), free(c_cpu), free(c_ref);
    return den > 0 ? sqrt(num / den) : sqrt(num);
}

static void describe(char *buf, size_t cap, const vn_gemm_desc *d)
{
    snprintf(buf, cap, "m=%lld n=%lld k=%lld batch=%lld ta=%d tb=%d lda=%lld ldb=%lld ldc=%lld sa=%lld sb=%lld sc=%lld a=%g b=%g",
             (long long)d->m, (long long)d->n, (long long)d->k, (long long)d->batch, d->trans_a, d->trans_b,
             (long long)d->lda, (long long)d->ldb, (long long)d->ldc, (long long)d->stride_a, (long long)d->stride_b,
             (long long)d->stride_c, d->alpha, d->beta);
}

static void check_desc(pair *p, const vn_gemm_desc *d, vn_rng *r, int with_bias)
{
    double err = compare(p, d, r, with_bias);
    char what[400];
    describe(what, sizeof what, d);
    ck_assert_msg(err <= TOL, "relative error %.3g > %.0e for %s bias=%d", err, TOL, what, with_bias);
}

START_TEST(one_by_one)
{
    pair p;
    open_pair(&p, 2);
    vn_rng r;
    vn_rng_seed(&r, 1, 0);
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            vn_gemm_desc d = vn_gemm_desc_plain(ta, tb, 1, 1, 1);
            check_desc(&p, &d, &r, 0);
            check_desc(&p, &d, &r, 1);
        }
    float a = 3.0f, b = -2.0f, c = 100.0f;
    vn_gemm_desc d = vn_gemm_desc_plain(0, 0, 1, 1, 1);
    VN_ASSERT_OK(vn_be_gemm(&p.cpu, &d, &a, &b, NULL, &c));
    ck_assert_float_eq(c, -6.0f);
    close_pair(&p);
}
END_TEST

START_TEST(random_shapes_all_transposes)
{
    pair p;
    open_pair(&p, 2);
    vn_rng r;
    vn_rng_seed(&r, 2, 0);
    const int64_t odd[] = {1, 2, 3, 5, 7, 13, 17, 31, 33, 64, 65, 127};
    for (int trial = 0; trial < 48; trial++) {
        int ta = trial & 1, tb = (trial >> 1) & 1;
        int64_t m = odd[vn_rng_below(&r, 12)], n = odd[vn_rng_below(&r, 12)], k = odd[vn_rng_below(&r, 12)];
        vn_gemm_desc d = vn_gemm_desc_plain(ta, tb, m, n, k);
        check_desc(&p, &d, &r, trial % 3 == 0);
    }
    close_pair(&p);
}
END_TEST

START_TEST(alpha_beta_bias)
{
    pair p;
    open_pair(&p, 2);
    vn_rng r;
    vn_rng_seed(&r, 3, 0);
    const float alphas[] = {1.0f, 0.5f, -2.0f};
    const float betas[] = {0.0f, 1.0f, 0.25f};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            for (int bias = 0; bias < 2; bias++) {
                vn_gemm_desc d = vn_gemm_desc_plain(i & 1, j & 1, 19, 23, 29);
                d.alpha = alphas[i];
                d.beta = betas[j];
                check_desc(&p, &d, &r, bias);
            }
    close_pair(&p);
}
END_TEST

START_TEST(batched_and_strided)
{
    pair p;
    open_pair(&p, 2);
    vn_rng r;
    vn_rng_seed(&r, 4, 0);
    for (int trial = 0; trial < 32; trial++) {
        int ta = trial & 1, tb = (trial >> 1) & 1;
        int64_t m = 1 + (int64_t)vn_rng_below(&r, 40), n = 1 + (int64_t)vn_rng_below(&r, 40);
        int64_t k = 1 + (int64_t)vn_rng_below(&r, 40), batch = 1 + (int64_t)vn_rng_below(&r, 6);
        vn_gemm_desc d = vn_gemm_desc_plain(ta, tb, m, n, k);
        d.batch = batch;
        /* Padded leading dimensions and gaps between batch matrices. */
        d.lda += (int64_t)vn_rng_below(&r, 5);
        d.ldb += (int64_t)vn_rng_below(&r, 5);
        d.ldc += (int64_t)vn_rng_below(&r, 5);
        int64_t a_rows = ta ? k : m, b_rows = tb ? n : k;
        d.stride_a = a_rows * d.lda + (int64_t)vn_rng_below(&r, 9);
        d.stride_b = b_rows * d.ldb + (int64_t)vn_rng_below(&r, 9);
        d.stride_c = m * d.ldc + (int64_t)vn_rng_below(&r, 9);
        if (trial % 4 == 3)
            d.stride_b = 0; /* one weight matrix shared by every batch entry */
        if (trial % 8 == 5)
            d.stride_a = 0;
        d.beta = trial % 2 ? 1.0f : 0.0f;
        check_desc(&p, &d, &r, trial % 3 == 1);
    }
    close_pair(&p);
}
END_TEST

START_TEST(large_threaded)
{
    pair p;
    open_pair(&p, 2);
    vn_rng r;
    vn_rng_seed(&r, 5, 0);
    vn_gemm_desc d = vn_gemm_desc_plain(0, 1, 257, 384, 512);
    check_desc(&p, &d, &r, 1);
    d = vn_gemm_desc_plain(1, 0, 96, 96, 1000);
    d.batch = 8;
    d.stride_a = 96 * 1000, d.stride_b = 96 * 1000, d.stride_c = 96 * 96;
    check_desc(&p, &d, &r, 0);
    close_pair(&p);
}
END_TEST

START_TEST(empty_dimensions)
{
    pair p;
    open_pair(&p, 2);
    vn_rng r;
    vn_rng_seed(&r, 6, 0);
    /* k = 0: the product is empty, so C = beta*C + bias. */
    vn_gemm_desc d = vn_gemm_desc_plain(0, 0, 4, 5, 0);
    d.lda = 1, d.ldb = 5;
    d.beta = 0.5f;
    check_desc(&p, &d, &r, 1);
    /* m = 0 or n = 0: nothing to do, and NULL pointers are fine. */
    d = vn_gemm_desc_plain(0, 0, 0, 5, 3);
    VN_ASSERT_OK(vn_be_gemm(&p.cpu, &d, NULL, NULL, NULL, NULL));
    close_pair(&p);
}
END_TEST

START_TEST(beta_zero_ignores_nan)
{
    pair p;
    open_pair(&p, 1);
    float a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {1, 0, 0, 1, 1, 1};
    float c[4] = {NAN, NAN, NAN, NAN};
    vn_gemm_desc d = vn_gemm_desc_plain(0, 0, 2, 2, 3);
    VN_ASSERT_OK(vn_be_gemm(&p.cpu, &d, a, b, NULL, c));
    ck_assert_float_eq(c[0], 4.0f);
    ck_assert_float_eq(c[1], 5.0f);
    ck_assert_float_eq(c[2], 10.0f);
    ck_assert_float_eq(c[3], 11.0f);
    close_pair(&p);
}
END_TEST

START_TEST(primitives_are_cached)
{
    pair p;
    open_pair(&p, 2);
    vn_onednn_gemm *g = vn_cpu_backend_gemm(p.cpu.state);
    vn_rng r;
    vn_rng_seed(&r, 7, 0);
    vn_gemm_desc d = vn_gemm_desc_plain(0, 0, 32, 48, 64);
    uint64_t h0, m0, h1, m1;
    int cached;
    vn_onednn_gemm_stats(g, &h0, &m0, &cached);
    for (int i = 0; i < 5; i++)
        check_desc(&p, &d, &r, 0);
    vn_onednn_gemm_stats(g, &h1, &m1, &cached);
    ck_assert_uint_eq(m1 - m0, 1);
    ck_assert_uint_eq(h1 - h0, 4);
    d.beta = 1.0f; /* a different primitive (sum post-op) */
    check_desc(&p, &d, &r, 0);
    vn_onednn_gemm_stats(g, &h1, &m1, &cached);
    ck_assert_uint_eq(m1 - m0, 2);
    ck_assert_int_eq(cached, 2);
    close_pair(&p);
}
END_TEST

START_TEST(bad_descriptors_are_rejected)
{
    pair p;
    open_pair(&p, 1);
    float buf[64] = {0};
    vn_gemm_desc d = vn_gemm_desc_plain(0, 0, 4, 4, 4);
    d.lda = 2; /* below k */
    VN_ASSERT_FAILS(vn_be_gemm(&p.cpu, &d, buf, buf, NULL, buf), VN_ERR_SHAPE);
    d = vn_gemm_desc_plain(0, 0, -1, 4, 4);
    VN_ASSERT_FAILS(vn_be_gemm(&p.cpu, &d, buf, buf, NULL, buf), VN_ERR_SHAPE);
    d = vn_gemm_desc_plain(0, 0, 4, 4, 4);
    d.batch = 0;
    VN_ASSERT_FAILS(vn_be_gemm(&p.cpu, &d, buf, buf, NULL, buf), VN_ERR_SHAPE);
    d = vn_gemm_desc_plain(0, 0, 2, 2, 2);
    d.batch = 2, d.stride_c = 1; /* outputs overlap */
    VN_ASSERT_FAILS(vn_be_gemm(&p.cpu, &d, buf, buf, NULL, buf), VN_ERR_SHAPE);
    d = vn_gemm_desc_plain(0, 0, 2, 2, 2);
    VN_ASSERT_FAILS(vn_be_gemm(&p.cpu, &d, NULL, buf, NULL, buf), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_be_gemm(&p.cpu, NULL, buf, buf, NULL, buf), VN_ERR_INVALID_ARG);
    vn_be closed = {0};
    VN_ASSERT_FAILS(vn_be_gemm(&closed, &d, buf, buf, NULL, buf), VN_ERR_STATE);
    close_pair(&p);
}
END_TEST

static Suite *gemm_suite(void)
{
    Suite *s = suite_create("gemm");
    TCase *tc = tcase_create("cpu_vs_reference");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, one_by_one);
    tcase_add_test(tc, random_shapes_all_transposes);
    tcase_add_test(tc, alpha_beta_bias);
    tcase_add_test(tc, batched_and_strided);
    tcase_add_test(tc, large_threaded);
    tcase_add_test(tc, empty_dimensions);
    tcase_add_test(tc, beta_zero_ignores_nan);
    tcase_add_test(tc, primitives_are_cached);
    tcase_add_test(tc, bad_descriptors_are_rejected);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return vn_test_run(gemm_suite());
}
