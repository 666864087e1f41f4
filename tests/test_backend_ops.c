/*
 * The backend-ops harness (backend_ops.c) on the backends every build has: the cpu
 * backend (oneDNN GEMM, vectorised threaded kernels) and the device stand-in, which
 * checks the harness itself on memory the host cannot touch. After them, what only
 * the cpu backend promises (a primitive cache, reductions that do not depend on the
 * thread count, TF32 refused, BF16 exactly where the hardware has it), and the
 * reference's own emulation of the reduced-precision GEMMs, which the device cases and
 * the cpu's bf16 are measured against. The cpu's bf16 in depth: test_bf16.c.
 */
#include "backend_ops.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

#include "backend/backend_cpu.h"

static vn_ops_target cpu = {
    .name = "cpu",
    .kind = VN_BACKEND_CPU,
    /* Two threads, so that the threaded paths run even on a one-core runner. */
    .cfg = {.n_threads = 2, .deterministic = 0, .device = 0, .seed = 1},
    /* The base ops and the GELU epilogue; TF32 is refused, and BF16 is added in main
     * where oneDNN has bf16 hardware (elsewhere the harness checks it is refused). */
    .required_ops = VN_OP_BASE_MASK | VN_OPS_BIT(VN_OP_GEMM_GELU),
    .elementwise_nmse = 0.0,
    .add_in_place = 0,
    /* Both batch dims become 1 in the oneDNN memory descriptors, and matmul cannot
     * derive C's batch from them. */
};

static const vn_ops_target standin = {
    .name = "device_standin",
    .table = &vn_ops_device_standin,
    .cfg = {.n_threads = 1, .deterministic = 1, .device = 0, .seed = 1},
    .required_ops = (VN_OP_BASE_MASK & ~(VN_OPS_BIT(VN_OP_MUL) | VN_OPS_BIT(VN_OP_MAX))) |
                    VN_OPS_BIT(VN_OP_GEMM_TF32) | VN_OPS_BIT(VN_OP_GEMM_BF16) | VN_OPS_BIT(VN_OP_GEMM_GELU),
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
/* Threads running GEMMs of one shape on one backend: each gets its own primitive while
 * another is busy, so every result equals the same GEMM run alone, bit for bit. (Sharing
 * a running primitive shared its oneDNN scratchpad, and two trainers on one context
 * summed each other's partial products now and then.) */
#define CONC_THREADS 4
#define CONC_ROUNDS 40

typedef struct conc_job {
    const vn_be *be;
    float *a, *b, *c, *want;
    int bad;
} conc_job;

static void *conc_worker(void *arg)
{
    conc_job *j = arg;
    vn_gemm_desc d = vn_gemm_desc_plain(0, 0, 96, 80, 200);
    for (int r = 0; r < CONC_ROUNDS && !j->bad; r++) {
        if (vn_be_gemm(j->be, &d, j->a, j->b, NULL, j->c) != VN_OK ||
            memcmp(j->c, j->want, (size_t)(96 * 80) * sizeof(float)) != 0)
            j->bad = 1;
    }
    return NULL;
}

START_TEST(concurrent_gemms_do_not_share_scratch)
{
    vn_be be, ref;
    vn_ops_open(&cpu, &be, &ref);
    vn_rng r;
    vn_rng_seed(&r, 11, 0);
    vn_gemm_desc d = vn_gemm_desc_plain(0, 0, 96, 80, 200);
    conc_job jobs[CONC_THREADS];
    pthread_t th[CONC_THREADS];
    for (int t = 0; t < CONC_THREADS; t++) {
        jobs[t] = (conc_job){&be, vn_ops_random(&r, 96 * 200), vn_ops_random(&r, 200 * 80),
                             malloc((size_t)(96 * 80) * sizeof(float)), malloc((size_t)(96 * 80) * sizeof(float)),
                             0};
        VN_ASSERT_OK(vn_be_gemm(&be, &d, jobs[t].a, jobs[t].b, NULL, jobs[t].want));
    }
    for (int t = 0; t < CONC_THREADS; t++)
        pthread_create(&th[t], NULL, conc_worker, &jobs[t]);
    for (int t = 0; t < CONC_THREADS; t++)
        pthread_join(th[t], NULL);
    for (int t = 0; t < CONC_THREADS; t++) {
        ck_assert_msg(!jobs[t].bad, "thread %d: a concurrent GEMM differed from the same GEMM run alone", t);
        free(jobs[t].a);
        free(jobs[t].b);
        free(jobs[t].c);
        free(jobs[t].want);
    }
    vn_ops_close(&be, &ref);
}
END_TEST

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

/* The dispatcher refuses what the cpu backend does not claim, naming the op and why:
 * TF32 always, BF16 where oneDNN has no bf16 hardware (supports() is the hardware's
 * answer, no more and no less). */
START_TEST(cpu_refuses_tf32_and_bf16_without_hardware)
{
    vn_be be;
    VN_ASSERT_OK(vn_be_open(&be, VN_BACKEND_CPU, &cpu.cfg));
    float a[4] = {1, 2, 3, 4}, b[4] = {1, 0, 0, 1}, c[4], aux[4];
    const char *why = "";
    int bf16 = vn_onednn_bf16_usable(&why);
    ck_assert_int_eq(vn_be_supports(&be, VN_OP_GEMM_BF16), bf16);
    ck_assert(!vn_be_supports(&be, VN_OP_GEMM_TF32));
    vn_gemm_desc d = vn_gemm_desc_plain(0, 0, 2, 2, 2);
    d.precision = VN_GEMM_TF32;
    VN_ASSERT_FAILS(vn_be_gemm(&be, &d, a, b, NULL, c), VN_ERR_UNSUPPORTED);
    ck_assert_msg(strstr(vn_last_error(), "gemm_tf32") && strstr(vn_last_error(), "bf16"),
                  "'%s' does not name gemm_tf32 and the alternative", vn_last_error());
    d.precision = VN_GEMM_BF16;
    if (bf16) {
        VN_ASSERT_OK(vn_be_gemm(&be, &d, a, b, NULL, c));
        ck_assert_float_eq(c[3], 4.0f);
        ck_assert_str_eq(vn_be_why_unsupported(&be, VN_OP_GEMM_BF16), "");
    } else {
        VN_ASSERT_FAILS(vn_be_gemm(&be, &d, a, b, NULL, c), VN_ERR_UNSUPPORTED);
        ck_assert_msg(strstr(vn_last_error(), "gemm_bf16") && strstr(vn_last_error(), why),
                      "'%s' does not name gemm_bf16 and the reason '%s'", vn_last_error(), why);
    }
    d = vn_gemm_desc_plain(0, 0, 2, 2, 2);
    d.epilogue = VN_GEMM_EPI_GELU, d.aux = aux;
    VN_ASSERT_OK(vn_be_gemm(&be, &d, a, b, NULL, c));
    ck_assert_float_eq(aux[3], 4.0f);
    d.aux = NULL; /* the pre-activation has to go somewhere */
    VN_ASSERT_FAILS(vn_be_gemm(&be, &d, a, b, NULL, c), VN_ERR_INVALID_ARG);
    vn_be_close(&be);
}
END_TEST

/* x through the reference's rounding for precision p: a 1x1x1 GEMM by exactly 1. */
static float ref_round(const vn_be *ref, vn_gemm_precision p, float x)
{
    vn_gemm_desc d = vn_gemm_desc_plain(0, 0, 1, 1, 1);
    d.precision = p;
    float one = 1.0f, c = 0.0f;
    VN_ASSERT_OK(vn_be_gemm(ref, &d, &x, &one, NULL, &c));
    return c;
}

static float from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static uint32_t to_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/* Hand-picked: exact ties go to the even neighbour (down and up), anything past a tie
 * rounds away from it, the sign is kept, a carry moves into the exponent (up to
 * infinity), subnormals round the same way, and infinity and NaN survive. */
START_TEST(reference_rounds_to_nearest_even)
{
    vn_be ref;
    VN_ASSERT_OK(vn_be_open(&ref, VN_BACKEND_REFERENCE, &cpu.cfg));
    static const struct {
        vn_gemm_precision p;
        uint32_t in, want;
    } cases[] = {
        {VN_GEMM_BF16, 0x3F808000u, 0x3F800000u}, /* 1 + 2^-8: tie, to even (down) */
        {VN_GEMM_BF16, 0x3F818000u, 0x3F820000u}, /* 1 + 3 * 2^-8: tie, to even (up) */
        {VN_GEMM_BF16, 0x3F808001u, 0x3F810000u}, /* just past a tie */
        {VN_GEMM_BF16, 0x3F807FFFu, 0x3F800000u}, /* just short of one */
        {VN_GEMM_BF16, 0xBF818000u, 0xBF820000u}, /* negative tie */
        {VN_GEMM_BF16, 0x3FFF8000u, 0x40000000u}, /* carry into the exponent: 2 */
        {VN_GEMM_BF16, 0x7F7FFFFFu, 0x7F800000u}, /* FLT_MAX rounds to infinity */
        {VN_GEMM_BF16, 0x00018000u, 0x00020000u}, /* subnormal tie, up to even */
        {VN_GEMM_BF16, 0x00008000u, 0x00000000u}, /* subnormal tie, down to zero */
        {VN_GEMM_BF16, 0xFF800000u, 0xFF800000u}, /* -infinity */
        {VN_GEMM_TF32, 0x3F801000u, 0x3F800000u}, /* 1 + 2^-11: tie, down */
        {VN_GEMM_TF32, 0x3F803000u, 0x3F804000u}, /* 1 + 3 * 2^-11: tie, up */
        {VN_GEMM_TF32, 0x3F801001u, 0x3F802000u}, /* just past a tie */
        {VN_GEMM_TF32, 0x3F800FFFu, 0x3F800000u}, /* just short of one */
        {VN_GEMM_FP32, 0x3F801001u, 0x3F801001u}, /* fp32 keeps every bit */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint32_t got = to_bits(ref_round(&ref, cases[i].p, from_bits(cases[i].in)));
        ck_assert_msg(got == cases[i].want, "precision %d: %08x rounded to %08x, not %08x", (int)cases[i].p,
                      cases[i].in, got, cases[i].want);
    }
    ck_assert(isnan(ref_round(&ref, VN_GEMM_BF16, NAN)));
    ck_assert(isnan(ref_round(&ref, VN_GEMM_BF16, from_bits(0x7F800001u)))); /* payload only in dropped bits */
    ck_assert(isnan(ref_round(&ref, VN_GEMM_TF32, from_bits(0x7F800001u))));
    /* B is rounded as well as A. */
    vn_gemm_desc d = vn_gemm_desc_plain(0, 0, 1, 1, 1);
    d.precision = VN_GEMM_BF16;
    float one = 1.0f, x = from_bits(0x3F818000u), c = 0.0f;
    VN_ASSERT_OK(vn_be_gemm(&ref, &d, &one, &x, NULL, &c));
    ck_assert_uint_eq(to_bits(c), 0x3F820000u);
    vn_be_close(&ref);
}
END_TEST

/* Operands that bf16 (and so tf32) represent exactly: the emulated GEMMs are the fp32
 * one, bit for bit, since only the operands' rounding differs. */
START_TEST(reference_exact_operands_match_fp32)
{
    vn_be ref;
    VN_ASSERT_OK(vn_be_open(&ref, VN_BACKEND_REFERENCE, &cpu.cfg));
    vn_rng r;
    vn_rng_seed(&r, 31, 0);
    const int64_t m = 37, n = 23, k = 50, batch = 3;
    vn_gemm_desc d = vn_gemm_desc_plain(1, 0, m, n, k);
    d.batch = batch, d.stride_a = k * m, d.stride_b = 0, d.stride_c = m * n;
    d.alpha = 0.5f, d.beta = 1.0f;
    float *a = malloc(sizeof(float) * (size_t)(batch * k * m)), *b = malloc(sizeof(float) * (size_t)(k * n));
    float *bias = vn_ops_random(&r, n), *c0 = vn_ops_random(&r, batch * m * n);
    float *c[3];
    ck_assert(a && b);
    /* Integers below 2^8 over a power of two: 8 significant bits at most. */
    for (int64_t i = 0; i < batch * k * m; i++)
        a[i] = (float)((int64_t)vn_rng_below(&r, 256) - 128) / 64.0f;
    for (int64_t i = 0; i < k * n; i++)
        b[i] = (float)((int64_t)vn_rng_below(&r, 256) - 128) / 32.0f;
    const vn_gemm_precision ps[3] = {VN_GEMM_FP32, VN_GEMM_TF32, VN_GEMM_BF16};
    for (int p = 0; p < 3; p++) {
        c[p] = malloc(sizeof(float) * (size_t)(batch * m * n));
        ck_assert_ptr_nonnull(c[p]);
        memcpy(c[p], c0, sizeof(float) * (size_t)(batch * m * n));
        d.precision = ps[p];
        VN_ASSERT_OK(vn_be_gemm(&ref, &d, a, b, bias, c[p]));
    }
    ck_assert_mem_eq(c[0], c[1], sizeof(float) * (size_t)(batch * m * n));
    ck_assert_mem_eq(c[0], c[2], sizeof(float) * (size_t)(batch * m * n));
    /* And operands that do not fit are rounded: the results move. */
    a[0] = 1.0f + 1.0f / 512.0f; /* bf16 keeps 2^-7 at 1 */
    memcpy(c[2], c0, sizeof(float) * (size_t)(batch * m * n));
    memcpy(c[0], c0, sizeof(float) * (size_t)(batch * m * n));
    VN_ASSERT_OK(vn_be_gemm(&ref, &d, a, b, bias, c[2]));
    d.precision = VN_GEMM_FP32;
    VN_ASSERT_OK(vn_be_gemm(&ref, &d, a, b, bias, c[0]));
    ck_assert(memcmp(c[0], c[2], sizeof(float) * (size_t)(batch * m * n)) != 0);
    for (int p = 0; p < 3; p++)
        free(c[p]);
    free(a), free(b), free(bias), free(c0);
    vn_be_close(&ref);
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
    tcase_add_test(tc, concurrent_gemms_do_not_share_scratch);
    tcase_add_test(tc, cpu_refuses_tf32_and_bf16_without_hardware);
    suite_add_tcase(s, tc);
    tc = tcase_create("reference_emulation");
    tcase_add_test(tc, reference_rounds_to_nearest_even);
    tcase_add_test(tc, reference_exact_operands_match_fp32);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    if (vn_onednn_bf16_usable(NULL))
        cpu.required_ops |= VN_OPS_BIT(VN_OP_GEMM_BF16);
    return vn_test_run(backend_ops_suite());
}
