/*
 * The backend-ops harness (backend_ops.c) on the backends every build has: the cpu
 * backend (oneDNN GEMM, vectorised threaded kernels) and the device stand-in, which
 * checks the harness itself on memory the host cannot touch. After them, what only
 * the cpu backend promises: a primitive cache, and reductions that do not depend on
 * the thread count.
 */
#include "backend_ops.h"

#include <string.h>

#include "backend/backend_cpu.h"

static const vn_ops_target cpu = {
    .name = "cpu",
    .kind = VN_BACKEND_CPU,
    /* Two threads, so that the threaded paths run even on a one-core runner. */
    .cfg = {.n_threads = 2, .deterministic = 0, .device = 0, .seed = 1},
    .required_ops = VN_OPS_ALL,
    .elementwise_nmse = 0.0,
    .add_in_place = 0,
    /* Both batch dims become 1 in the oneDNN memory descriptors, and matmul cannot
     * derive C's batch from them. */
};

static const vn_ops_target standin = {
    .name = "device_standin",
    .table = &vn_ops_device_standin,
    .cfg = {.n_threads = 1, .deterministic = 1, .device = 0, .seed = 1},
    .required_ops = VN_OPS_ALL & ~(VN_OPS_BIT(VN_OP_MUL) | VN_OPS_BIT(VN_OP_MAX)),
    /* Its axpy is the reference's, bit for bit; a tolerance makes the NMSE path run. */
    .elementwise_nmse = 1e-10,
    .add_in_place = 1,
};

START_TEST(primitives_are_cached)
{
    vn_be be, ref;
    vn_ops_open(&cpu, &be, &ref);
    vn_onednn_gemm *g = vn_cpu_backend_gemm(be.state);
    vn_rng r;
    vn_rng_seed(&r, 7, 0);
    vn_gemm_desc d = vn_gemm_desc_plain(0, 0, 32, 48, 64);
    uint64_t h0, m0, h1, m1;
    int cached;
    vn_onednn_gemm_stats(g, &h0, &m0, &cached);
    for (int i = 0; i < 5; i++)
        vn_ops_check_gemm(&be, &ref, &d, &r, 0, NULL);
    vn_onednn_gemm_stats(g, &h1, &m1, &cached);
    ck_assert_uint_eq(m1 - m0, 1);
    ck_assert_uint_eq(h1 - h0, 4);
    d.beta = 1.0f; /* a different primitive (sum post-op) */
    vn_ops_check_gemm(&be, &ref, &d, &r, 0, NULL);
    vn_onednn_gemm_stats(g, &h1, &m1, &cached);
    ck_assert_uint_eq(m1 - m0, 2);
    ck_assert_int_eq(cached, 2);
    vn_ops_close(&be, &ref);
}
END_TEST

/* Without `deterministic`: the block order is fixed by design, not on request.
 * cpu memory is host memory, so the buffers here are plain malloc. */
START_TEST(reductions_independent_of_threads)
{
    vn_be one, two, four;
    vn_backend_config cfg = cpu.cfg;
    cfg.n_threads = 1;
    VN_ASSERT_OK(vn_be_open(&one, VN_BACKEND_CPU, &cfg));
    cfg.n_threads = 2;
    VN_ASSERT_OK(vn_be_open(&two, VN_BACKEND_CPU, &cfg));
    cfg.n_threads = 4;
    VN_ASSERT_OK(vn_be_open(&four, VN_BACKEND_CPU, &cfg));
    vn_rng r;
    vn_rng_seed(&r, 13, 0);
    int64_t n = 1000003;
    float *x = vn_ops_random(&r, n);
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

static Suite *backend_ops_suite(void)
{
    Suite *s = suite_create("backend_ops");
    suite_add_tcase(s, vn_ops_tcase(&cpu));
    suite_add_tcase(s, vn_ops_tcase(&standin));
    TCase *tc = tcase_create("cpu_specific");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, primitives_are_cached);
    tcase_add_test(tc, reductions_independent_of_threads);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return vn_test_run(backend_ops_suite());
}
