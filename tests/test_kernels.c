/*
 * Elementwise and reduction kernels of the cpu backend against the reference,
 * across sizes that straddle the vector width, the reduction block and the
 * threading threshold; reductions must not depend on the thread count.
 */
#include "vn_test.h"

#include <math.h>
#include <string.h>

#include "backend/backend.h"
#include "core/rng.h"

static const int64_t sizes[] = {1, 2, 15, 16, 17, 255, 8191, 8192, 8193, 32768, 40001, 200003};
#define N_SIZES (int)(sizeof sizes / sizeof sizes[0])

static void open_be(vn_be *be, vn_backend_kind kind, int threads)
{
    vn_backend_config cfg = {threads, 0, 0, 1};
    VN_ASSERT_OK(vn_be_open(be, kind, &cfg));
}

static float *rand_vec(vn_rng *r, int64_t n)
{
    float *p = malloc((size_t)n * sizeof *p);
    ck_assert_ptr_nonnull(p);
    for (int64_t i = 0; i < n; i++)
        p[i] = (float)(vn_rng_normal(r) * 3.0);
    return p;
}

START_TEST(elementwise_match_reference)
{
    vn_be cpu, ref;
    open_be(&cpu, VN_BACKEND_CPU, 2);
    open_be(&ref, VN_BACKEND_REFERENCE, 1);
    vn_rng r;
    vn_rng_seed(&r, 11, 0);
    for (int s = 0; s < N_SIZES; s++) {
        int64_t n = sizes[s];
        float *a = rand_vec(&r, n), *b = rand_vec(&r, n);
        float *y1 = rand_vec(&r, n), *y2 = malloc((size_t)n * sizeof(float));
        memcpy(y2, y1, (size_t)n * sizeof(float));
        for (int op = 0; op < 4; op++) {
            switch (op) {
            case 0:
                VN_ASSERT_OK(vn_be_add(&cpu, n, a, b, y1));
                VN_ASSERT_OK(vn_be_add(&ref, n, a, b, y2));
                break;
            case 1:
                VN_ASSERT_OK(vn_be_mul(&cpu, n, a, b, y1));
                VN_ASSERT_OK(vn_be_mul(&ref, n, a, b, y2));
                break;
            case 2:
                VN_ASSERT_OK(vn_be_scale(&cpu, n, -1.5f, a, y1));
                VN_ASSERT_OK(vn_be_scale(&ref, n, -1.5f, a, y2));
                break;
            case 3:
                VN_ASSERT_OK(vn_be_axpy(&cpu, n, 0.25f, b, y1));
                VN_ASSERT_OK(vn_be_axpy(&ref, n, 0.25f, b, y2));
                break;
            }
            /* Single IEEE operations: results must be bit-identical to the reference. */
            ck_assert_msg(memcmp(y1, y2, (size_t)n * sizeof(float)) == 0, "op %d differs at n=%lld", op, (long long)n);
        }
        free(a), free(b), free(y1), free(y2);
    }
    vn_be_close(&cpu);
    vn_be_close(&ref);
}
END_TEST

START_TEST(in_place_scale)
{
    vn_be cpu;
    open_be(&cpu, VN_BACKEND_CPU, 2);
    int64_t n = 100000;
    float *x = malloc((size_t)n * sizeof(float));
    for (int64_t i = 0; i < n; i++)
        x[i] = (float)i;
    VN_ASSERT_OK(vn_be_scale(&cpu, n, 2.0f, x, x));
    for (int64_t i = 0; i < n; i++)
        ck_assert_float_eq(x[i], 2.0f * (float)i);
    free(x);
    vn_be_close(&cpu);
}
END_TEST

START_TEST(reductions_match_reference)
{
    vn_be cpu, ref;
    open_be(&cpu, VN_BACKEND_CPU, 2);
    open_be(&ref, VN_BACKEND_REFERENCE, 1);
    vn_rng r;
    vn_rng_seed(&r, 12, 0);
    for (int s = 0; s < N_SIZES; s++) {
        int64_t n = sizes[s];
        float *x = rand_vec(&r, n);
        float c_sum, r_sum, c_sq, r_sq, c_max, r_max;
        VN_ASSERT_OK(vn_be_sum(&cpu, n, x, &c_sum));
        VN_ASSERT_OK(vn_be_sum(&ref, n, x, &r_sum));
        VN_ASSERT_OK(vn_be_sumsq(&cpu, n, x, &c_sq));
        VN_ASSERT_OK(vn_be_sumsq(&ref, n, x, &r_sq));
        VN_ASSERT_OK(vn_be_max(&cpu, n, x, &c_max));
        VN_ASSERT_OK(vn_be_max(&ref, n, x, &r_max));
        /* A sum's error scales with the sum of magnitudes, not with the (cancelling) result. */
        double mag = 0;
        for (int64_t i = 0; i < n; i++)
            mag += fabs(x[i]);
        ck_assert_msg(fabs(c_sum - r_sum) <= 1e-6 * mag + 1e-6, "sum n=%lld: %g vs %g", (long long)n, c_sum, r_sum);
        ck_assert_msg(fabs(c_sq - r_sq) <= 1e-6 * r_sq, "sumsq n=%lld: %g vs %g", (long long)n, c_sq, r_sq);
        ck_assert_float_eq(c_max, r_max);
        free(x);
    }
    vn_be_close(&cpu);
    vn_be_close(&ref);
}
END_TEST

START_TEST(reductions_independent_of_threads)
{
    vn_be one, two, four;
    open_be(&one, VN_BACKEND_CPU, 1);
    open_be(&two, VN_BACKEND_CPU, 2);
    open_be(&four, VN_BACKEND_CPU, 4);
    vn_rng r;
    vn_rng_seed(&r, 13, 0);
    int64_t n = 1000003;
    float *x = rand_vec(&r, n);
    float s1, s2, s4, q1, q2, q4;
    VN_ASSERT_OK(vn_be_sum(&one, n, x, &s1));
    VN_ASSERT_OK(vn_be_sum(&two, n, x, &s2));
    VN_ASSERT_OK(vn_be_sum(&four, n, x, &s4));
    VN_ASSERT_OK(vn_be_sumsq(&one, n, x, &q1));
    VN_ASSERT_OK(vn_be_sumsq(&two, n, x, &q2));
    VN_ASSERT_OK(vn_be_sumsq(&four, n, x, &q4));
    ck_assert_msg(memcmp(&s1, &s2, 4) == 0 && memcmp(&s1, &s4, 4) == 0, "sum %a %a %a", s1, s2, s4);
    ck_assert_msg(memcmp(&q1, &q2, 4) == 0 && memcmp(&q1, &q4, 4) == 0, "sumsq %a %a %a", q1, q2, q4);
    free(x);
    vn_be_close(&one);
    vn_be_close(&two);
    vn_be_close(&four);
}
END_TEST

START_TEST(max_propagates_nan)
{
    vn_be cpu;
    open_be(&cpu, VN_BACKEND_CPU, 2);
    int64_t n = 50000;
    float *x = calloc((size_t)n, sizeof(float));
    x[40000] = NAN;
    float m;
    VN_ASSERT_OK(vn_be_max(&cpu, n, x, &m));
    ck_assert(isnan(m));
    free(x);
    vn_be_close(&cpu);
}
END_TEST

START_TEST(bad_arguments)
{
    vn_be cpu;
    open_be(&cpu, VN_BACKEND_CPU, 1);
    float v[4] = {0}, out;
    VN_ASSERT_FAILS(vn_be_add(&cpu, -1, v, v, v), VN_ERR_SHAPE);
    VN_ASSERT_FAILS(vn_be_add(&cpu, 4, NULL, v, v), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_be_max(&cpu, 0, v, &out), VN_ERR_SHAPE);
    VN_ASSERT_FAILS(vn_be_sum(&cpu, 4, v, NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_OK(vn_be_sum(&cpu, 0, v, &out));
    ck_assert_float_eq(out, 0.0f);
    vn_be_close(&cpu);
    VN_ASSERT_FAILS(vn_be_add(&cpu, 4, v, v, v), VN_ERR_STATE);
    VN_ASSERT_FAILS(vn_be_add(NULL, 4, v, v, v), VN_ERR_STATE);
}
END_TEST

START_TEST(memory_round_trip)
{
    for (int k = 0; k < 2; k++) {
        vn_be be;
        open_be(&be, k ? VN_BACKEND_REFERENCE : VN_BACKEND_CPU, 1);
        float host[100], back[100];
        for (int i = 0; i < 100; i++)
            host[i] = (float)i * 0.5f;
        void *dev = NULL;
        VN_ASSERT_OK(vn_be_alloc(&be, sizeof host, &dev));
        ck_assert_uint_eq((uintptr_t)dev % 64, 0);
        VN_ASSERT_OK(vn_be_upload(&be, dev, host, sizeof host));
        VN_ASSERT_OK(vn_be_synchronize(&be));
        VN_ASSERT_OK(vn_be_download(&be, back, dev, sizeof back));
        ck_assert_mem_eq(host, back, sizeof host);
        vn_be_free(&be, dev);
        vn_be_close(&be);
    }
}
END_TEST

START_TEST(supports_is_truthful)
{
    vn_be cpu;
    open_be(&cpu, VN_BACKEND_CPU, 1);
    for (int op = 0; op < VN_OP_COUNT; op++)
        ck_assert_msg(vn_be_supports(&cpu, (vn_op)op), "cpu lacks %s", vn_op_name((vn_op)op));
    ck_assert(!vn_be_supports(&cpu, VN_OP_COUNT));
    ck_assert_str_eq(vn_op_name((vn_op)99), "unknown");
    vn_be_close(&cpu);
}
END_TEST

static Suite *kernels_suite(void)
{
    Suite *s = suite_create("kernels");
    TCase *tc = tcase_create("cpu_vs_reference");
    tcase_add_test(tc, elementwise_match_reference);
    tcase_add_test(tc, in_place_scale);
    tcase_add_test(tc, reductions_match_reference);
    tcase_add_test(tc, reductions_independent_of_threads);
    tcase_add_test(tc, max_propagates_nan);
    tcase_add_test(tc, bad_arguments);
    tcase_add_test(tc, memory_round_trip);
    tcase_add_test(tc, supports_is_truthful);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return vn_test_run(kernels_suite());
}
