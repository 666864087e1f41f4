/* The time vector (timevec.h) on constructed embeddings whose answers are known. */
#include <math.h>
#include <string.h>

#include "vn_test.h"

static vn_tensor view(float *x, int64_t n, int64_t d)
{
    vn_tensor t;
    VN_ASSERT_OK(vn_tensor_init(&t, x, VN_DTYPE_F32, 2, (int64_t[]){n, d}));
    return t;
}

/* Two pairs worked by hand: t = mean(f) - mean(r) = (2.5, 0), offset = t . midpoint. */
START_TEST(hand_worked_pairs)
{
    float f[] = {1, 0, 3, 0}, r[] = {-1, 0, 0, 0}, t[2];
    vn_tensor tf = view(f, 2, 2), tr = view(r, 2, 2);
    double offset;
    VN_ASSERT_OK(vn_timevec_fit(&tf, &tr, t, &offset));
    ck_assert_float_eq_tol(t[0], 2.5f, 1e-6f);
    ck_assert_float_eq_tol(t[1], 0.0f, 1e-6f);
    ck_assert_double_eq_tol(offset, 2.5 * 0.75, 1e-9);
    vn_timevec_result res = VN_TIMEVEC_RESULT_INIT;
    vn_timevec_options o = VN_TIMEVEC_OPTIONS_INIT;
    o.bootstrap = 0;
    VN_ASSERT_OK(vn_timevec_evaluate(t, offset, &tf, &tr, &o, &res));
    ck_assert_double_eq(res.sign_accuracy, 1.0);
    ck_assert_double_eq(res.pair_accuracy, 1.0);
    ck_assert_double_eq_tol(res.mean_gap, 2.5, 1e-9); /* (2 + 3) / 2 along the unit t */
    ck_assert_int_eq(res.n, 2);
    /* Reversal by arithmetic: f - t is (-1.5, 0) and (0.5, 0); among the reversed rows
     * (-1, 0) and (0, 0) each finds its own. Without t, (1, 0) prefers the zero row. */
    ck_assert_double_eq(res.reversal_r1, 1.0);
    ck_assert_double_eq(res.reversal_r1_base, 0.5);
    double proj[2];
    VN_ASSERT_OK(vn_timevec_project(t, &tf, proj));
    ck_assert_double_eq_tol(proj[0], 1.0, 1e-9);
    ck_assert_double_eq_tol(proj[1], 3.0, 1e-9);
    /* An offset past both classes moves every forward row to the wrong side. */
    VN_ASSERT_OK(vn_timevec_evaluate(t, 100.0, &tf, &tr, &o, &res));
    ck_assert_double_eq(res.sign_accuracy, 0.5);
}
END_TEST

enum { N = 60, D = 16 };

/* Pairs x_i +- a u plus noise: t points along u, the sign separates the two, and
 * subtracting t turns a clip's embedding into its reversal's. */
static void make_pairs(float *f, float *r, float a, float spread, uint64_t seed)
{
    uint64_t s = seed;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < D; j++) {
            /* xorshift: enough randomness for a fixture, no library internals needed */
            s ^= s << 13, s ^= s >> 7, s ^= s << 17;
            float base = spread * ((float)(s % 2001) / 1000.0f - 1.0f);
            s ^= s << 13, s ^= s >> 7, s ^= s << 17;
            float noise = 0.01f * ((float)(s % 2001) / 1000.0f - 1.0f);
            float u = j == 0 ? a : 0.0f;
            f[i * D + j] = base + u + noise;
            r[i * D + j] = base - u - noise;
        }
}

START_TEST(a_clean_arrow)
{
    static float f[N * D], r[N * D];
    make_pairs(f, r, 3.0f, 0.3f, 88172645463325252ULL);
    vn_tensor tf = view(f, N, D), tr = view(r, N, D);
    float t[D];
    double offset;
    VN_ASSERT_OK(vn_timevec_fit(&tf, &tr, t, &offset));
    double cos_u;
    float u[D] = {1.0f};
    VN_ASSERT_OK(vn_timevec_cosine(t, u, D, &cos_u));
    ck_assert_msg(cos_u > 0.95, "t is not along u: cosine %g", cos_u);
    vn_timevec_result res = VN_TIMEVEC_RESULT_INIT;
    VN_ASSERT_OK(vn_timevec_evaluate(t, offset, &tf, &tr, NULL, &res));
    ck_assert_double_eq(res.sign_accuracy, 1.0);
    ck_assert_double_eq(res.pair_accuracy, 1.0);
    ck_assert_msg(res.ci_low <= 1.0 && res.ci_high == 1.0, "[%g, %g]", res.ci_low, res.ci_high);
    ck_assert_msg(res.reversal_r1 >= 0.95, "reversal by arithmetic R@1 %g", res.reversal_r1);
    ck_assert_msg(res.reversal_r1 >= res.reversal_r1_base, "subtracting t lost ground: %g < %g", res.reversal_r1,
                  res.reversal_r1_base);
    ck_assert_msg(fabs(res.mean_gap - 6.0) < 0.1, "the arrow's length is %g, not about 2a = 6", res.mean_gap);
    /* The linear probe's normal finds the same direction. */
    float normal[D];
    double cos_n;
    VN_ASSERT_OK(vn_timevec_probe_normal(&tf, &tr, NULL, normal));
    VN_ASSERT_OK(vn_timevec_cosine(normal, u, D, &cos_n));
    ck_assert_msg(cos_n > 0.9, "the probe normal is not along u: cosine %g", cos_n);
    /* Reversed views of the same memory (forward and reversed swapped) flip t. */
    float t2[D];
    double off2;
    VN_ASSERT_OK(vn_timevec_fit(&tr, &tf, t2, &off2));
    double c;
    VN_ASSERT_OK(vn_timevec_cosine(t, t2, D, &c));
    ck_assert_double_eq_tol(c, -1.0, 1e-9);
}
END_TEST

/* A bag-of-images encoder: forward and reversed embed identically, t = 0, all at chance. */
START_TEST(no_arrow_is_chance)
{
    static float f[N * D], r[N * D];
    make_pairs(f, r, 0.0f, 1.0f, 1234567ULL);
    memcpy(r, f, sizeof f);
    vn_tensor tf = view(f, N, D), tr = view(r, N, D);
    float t[D];
    double offset;
    VN_ASSERT_OK(vn_timevec_fit(&tf, &tr, t, &offset));
    for (int j = 0; j < D; j++)
        ck_assert_float_eq(t[j], 0.0f);
    vn_timevec_result res = VN_TIMEVEC_RESULT_INIT;
    VN_ASSERT_OK(vn_timevec_evaluate(t, offset, &tf, &tr, NULL, &res));
    ck_assert_double_eq(res.sign_accuracy, 0.5);
    ck_assert_double_eq(res.pair_accuracy, 0.5);
    ck_assert_double_eq(res.mean_gap, 0.0);
    double proj[N], c;
    VN_ASSERT_OK(vn_timevec_project(t, &tf, proj));
    ck_assert_double_eq(proj[0], 0.0);
    VN_ASSERT_OK(vn_timevec_cosine(t, f, D, &c));
    ck_assert_double_eq(c, 0.0);
}
END_TEST

/* Column-major views give what row-major ones give. */
START_TEST(strided_views)
{
    static float f[N * D], r[N * D], fc[D * N], rc[D * N];
    make_pairs(f, r, 0.4f, 0.5f, 99ULL);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < D; j++) {
            fc[j * N + i] = f[i * D + j];
            rc[j * N + i] = r[i * D + j];
        }
    vn_tensor tf = view(f, N, D), tr = view(r, N, D);
    vn_tensor cf = {fc, VN_DTYPE_F32, 2, {N, D}, {1, N}}, cr = {rc, VN_DTYPE_F32, 2, {N, D}, {1, N}};
    float t[D], t2[D];
    double o1, o2;
    VN_ASSERT_OK(vn_timevec_fit(&tf, &tr, t, &o1));
    VN_ASSERT_OK(vn_timevec_fit(&cf, &cr, t2, &o2));
    ck_assert(memcmp(t, t2, sizeof t) == 0 && o1 == o2);
    vn_timevec_result a = VN_TIMEVEC_RESULT_INIT, b = VN_TIMEVEC_RESULT_INIT;
    VN_ASSERT_OK(vn_timevec_evaluate(t, o1, &tf, &tr, NULL, &a));
    VN_ASSERT_OK(vn_timevec_evaluate(t, o1, &cf, &cr, NULL, &b));
    ck_assert(memcmp(&a, &b, sizeof a) == 0);
}
END_TEST

START_TEST(bad_arguments)
{
    float f[4] = {1, 2, 3, 4}, r[6] = {0}, t[2] = {1, 0};
    double off, c, proj[2];
    vn_tensor tf = view(f, 2, 2), tr = view(r, 3, 2);
    VN_ASSERT_FAILS(vn_timevec_fit(&tf, &tr, t, &off), VN_ERR_SHAPE);
    ck_assert_msg(strstr(vn_last_error(), "[3, 2]") != NULL, "%s", vn_last_error());
    tr = view(r, 2, 2);
    VN_ASSERT_FAILS(vn_timevec_fit(NULL, &tr, t, &off), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_timevec_fit(&tf, &tr, NULL, &off), VN_ERR_INVALID_ARG);
    vn_timevec_result res = VN_TIMEVEC_RESULT_INIT;
    vn_timevec_options o = VN_TIMEVEC_OPTIONS_INIT;
    o.confidence = 1.5;
    VN_ASSERT_FAILS(vn_timevec_evaluate(t, 0.0, &tf, &tr, &o, &res), VN_ERR_INVALID_ARG);
    o = (vn_timevec_options)VN_TIMEVEC_OPTIONS_INIT;
    o.version = 7;
    VN_ASSERT_FAILS(vn_timevec_evaluate(t, 0.0, &tf, &tr, &o, &res), VN_ERR_VERSION);
    VN_ASSERT_FAILS(vn_timevec_evaluate(t, NAN, &tf, &tr, NULL, &res), VN_ERR_INVALID_ARG);
    t[1] = INFINITY;
    VN_ASSERT_FAILS(vn_timevec_evaluate(t, 0.0, &tf, &tr, NULL, &res), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_timevec_project(t, &tf, proj), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_timevec_cosine(t, f, 2, &c), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_timevec_cosine(f, f, 0, &c), VN_ERR_INVALID_ARG);
    float normal[2];
    vn_tensor one = view(f, 1, 2);
    VN_ASSERT_FAILS(vn_timevec_probe_normal(&one, &one, NULL, normal), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_timevec_probe_normal(&tf, &tr, NULL, NULL), VN_ERR_INVALID_ARG);
    vn_linear_probe_options lo = VN_LINEAR_PROBE_OPTIONS_INIT;
    lo.val_fraction = 2.0;
    VN_ASSERT_FAILS(vn_timevec_probe_normal(&tf, &tr, &lo, normal), VN_ERR_INVALID_ARG);
    tf.dtype = VN_DTYPE_U8;
    VN_ASSERT_FAILS(vn_timevec_project(f, &tf, proj), VN_ERR_SHAPE);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("timevec");
    TCase *tc = tcase_create("timevec");
    tcase_add_test(tc, hand_worked_pairs);
    tcase_add_test(tc, a_clean_arrow);
    tcase_add_test(tc, no_arrow_is_chance);
    tcase_add_test(tc, strided_views);
    tcase_add_test(tc, bad_arguments);
    suite_add_tcase(s, tc);
    return vn_test_run(s);
}
