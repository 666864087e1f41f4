/*
 * test_attention_amx.c: the AMX bf16 attention forward (ops_attention_amx.c) against a
 * float64 reference computed from the same bf16 inputs, which rounds the probabilities
 * to bf16 as the kernel does, so that the only slack left is the kernel's fp32 sums, its
 * exponential and the bf16 rounding of the output. Shapes cover sequence lengths that
 * are and are not multiples of the 16-row and 32-key blocks, head sizes 32 to 256, and
 * 1 to 3 threads, whose results must be bit-identical; and the shapes it refuses.
 *
 * Without AMX the suite is skipped (exit 77). Run with the argument "capped" (meson
 * does, with DNNL_MAX_CPU_ISA=AVX512_CORE_BF16) it checks instead that the kernel is
 * refused, with a reason.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "vn_test.h"
#include "backend/cpu_bf16.h"
#include "nn/ops.h"

static float bf16_value(uint16_t b)
{
    uint32_t u = (uint32_t)b << 16;
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* A fixed xorshift stream of normals (Box-Muller), so that every run sees the same data. */
static uint64_t rng_state;

static double uniform01(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return ((double)(rng_state >> 11) + 0.5) / 9007199254740992.0;
}

static uint16_t *random_qkv(int64_t n, double sigma)
{
    uint16_t *x = malloc((size_t)n * sizeof *x);
    ck_assert_ptr_nonnull(x);
    for (int64_t i = 0; i < n; i++) {
        double g = sqrt(-2.0 * log(uniform01())) * cos(6.283185307179586 * uniform01());
        x[i] = vn_bf16_bits((float)(g * sigma));
    }
    return x;
}

/* Whether float p lies so near the midpoint of two bf16 neighbours (within 2^-8 of a bf16
 * ulp, some 30 times the kernel's fp32 error in p) that the kernel may round it the other
 * way; then the bf16 ulp of p, else 0. */
static double flip_slack(double p)
{
    float f = (float)p;
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    int dist = (int)(u & 0xffffu) - 0x8000;
    if (dist < -256 || dist > 256)
        return 0.0;
    return (double)bf16_value((uint16_t)((u >> 16) + 1)) - (double)bf16_value((uint16_t)(u >> 16));
}

/* The reference output (float64) and, per element, its slack: 2^-12 of the scale of the
 * sum behind it (sum_j p_j |v_j| / sum_j p_j) for the kernel's fp32 sums, plus one bf16
 * ulp of each probability that may round the other way, times |v_j| / sum_j p_j. */
static void reference(const uint16_t *qkv, int64_t B, int64_t T, int64_t C, int64_t NH, double *ref, double *slack)
{
    int64_t HS = C / NH;
    double scale = 1.0 / sqrt((double)HS), *s = malloc((size_t)T * sizeof *s), *pr = malloc((size_t)T * sizeof *pr);
    double *fl = malloc((size_t)T * sizeof *fl);
    ck_assert(s && pr && fl);
    for (int64_t b = 0; b < B; b++)
        for (int64_t h = 0; h < NH; h++)
            for (int64_t i = 0; i < T; i++) {
                const uint16_t *q = qkv + (b * T + i) * 3 * C + h * HS;
                double m = -INFINITY, sum = 0.0;
                for (int64_t j = 0; j < T; j++) {
                    const uint16_t *k = qkv + (b * T + j) * 3 * C + C + h * HS;
                    double dot = 0.0;
                    for (int64_t d = 0; d < HS; d++)
                        dot += (double)bf16_value(q[d]) * (double)bf16_value(k[d]);
                    s[j] = dot * scale;
                    m = s[j] > m ? s[j] : m;
                }
                for (int64_t j = 0; j < T; j++) {
                    double p = exp(s[j] - m);
                    sum += p;
                    pr[j] = (double)bf16_value(vn_bf16_bits((float)p));
                    fl[j] = flip_slack(p);
                }
                for (int64_t d = 0; d < HS; d++) {
                    double acc = 0.0, am = 0.0, af = 0.0;
                    for (int64_t j = 0; j < T; j++) {
                        double v = bf16_value(qkv[(b * T + j) * 3 * C + 2 * C + h * HS + d]);
                        acc += pr[j] * v;
                        am += pr[j] * fabs(v);
                        af += fl[j] * fabs(v);
                    }
                    ref[(b * T + i) * C + h * HS + d] = acc / sum;
                    slack[(b * T + i) * C + h * HS + d] = (ldexp(am, -12) + af) / sum;
                }
            }
    free(s), free(pr), free(fl);
}

static uint16_t *run_kernel(int threads, const uint16_t *qkv, int64_t B, int64_t T, int64_t C, int64_t NH)
{
    vn_nn nn = {.n_threads = threads, .deterministic = 1};
    int64_t n = B * T * C, nsc = vn_attention_bf16_scratch_bytes(T, C / NH, threads);
    ck_assert_int_gt(nsc, 0);
    uint16_t *out = malloc((size_t)n * sizeof *out);
    void *scratch = malloc((size_t)nsc);
    ck_assert(out && scratch);
    /* a NaN in every element the kernel fails to write */
    for (int64_t i = 0; i < n; i++)
        out[i] = 0x7fc1;
    memset(scratch, 0xff, (size_t)nsc);
    vn_attention_forward_bf16(&nn, out, qkv, B, T, C, NH, scratch);
    free(scratch);
    return out;
}

/* Allowed: half a bf16 ulp of the output's rounding (2^-8 relative) plus the reference's
 * slack. A wrong scale, a dropped key block (1/32 of the weight at T 512), an unmasked
 * padded key or an unwritten row all miss this by far. */
static double check_case(int64_t B, int64_t T, int64_t NH, int64_t HS, double sigma)
{
    int64_t C = NH * HS, n = B * T * C;
    uint16_t *qkv = random_qkv(B * T * 3 * C, sigma);
    double *ref = malloc((size_t)n * sizeof *ref), *slack = malloc((size_t)n * sizeof *slack);
    ck_assert(ref && slack);
    reference(qkv, B, T, C, NH, ref, slack);
    uint16_t *one = run_kernel(1, qkv, B, T, C, NH);
    double worst = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double got = bf16_value(one[i]), tol = ldexp(fabs(ref[i]), -8) + slack[i];
        double ratio = fabs(got - ref[i]) / tol;
        ck_assert_msg(ratio <= 1.0, "B %lld T %lld NH %lld HS %lld: out[%lld] = %.6g, reference %.6g (tolerance %.3g)",
                      (long long)B, (long long)T, (long long)NH, (long long)HS, (long long)i, got, ref[i], tol);
        worst = ratio > worst ? ratio : worst;
    }
    /* each output row belongs to one work item, so any thread count gives the same bits */
    for (int threads = 2; threads <= 3; threads++) {
        uint16_t *other = run_kernel(threads, qkv, B, T, C, NH);
        ck_assert_msg(memcmp(one, other, (size_t)n * sizeof *one) == 0,
                      "B %lld T %lld NH %lld HS %lld: %d threads differ from 1", (long long)B, (long long)T,
                      (long long)NH, (long long)HS, threads);
        free(other);
    }
    free(qkv), free(ref), free(slack), free(one);
    return worst;
}

START_TEST(amx_vs_reference)
{
    rng_state = 0x9e3779b97f4a7c15ull;
    static const int64_t Ts[] = {1, 5, 16, 17, 64, 100, 128, 512};
    double worst = 0.0;
    for (size_t t = 0; t < sizeof Ts / sizeof Ts[0]; t++)
        for (int64_t HS = 32; HS <= 64; HS += 32) {
            int64_t T = Ts[t], B = T >= 512 ? 1 : T >= 64 ? 2 : 3, NH = HS == 32 ? 3 : 2;
            double w = check_case(B, T, NH, HS, 1.5);
            worst = w > worst ? w : worst;
        }
    /* past T 128 items are 32 rows: a last item of one partial block, of a full and a
     * partial one, of one row; wider heads (more passes over the head's columns); and
     * peaked rows whose scores reach e^100 and more unless the row maximum is taken out */
    static const int64_t more[][5] = {{1, 200, 2, 64, 15}, {2, 150, 1, 32, 15}, {1, 161, 2, 64, 15},
                                      {2, 33, 1, 96, 15},  {1, 70, 2, 128, 15}, {2, 48, 1, 256, 15},
                                      {1, 300, 1, 160, 15}, {2, 100, 2, 64, 50}, {3, 17, 3, 32, 50}};
    for (size_t c = 0; c < sizeof more / sizeof more[0]; c++) {
        double w = check_case(more[c][0], more[c][1], more[c][2], more[c][3], more[c][4] / 10.0);
        worst = w > worst ? w : worst;
    }
    printf("attention amx vs reference: worst error %.3f of the tolerance\n", worst);
}
END_TEST

START_TEST(amx_refuses_shapes)
{
    static const int64_t bad[][2] = {{64, 48}, {64, 16}, {64, 0}, {64, 288}, {0, 64}, {4097, 64}, {-1, 32}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *why = NULL;
        ck_assert_msg(!vn_attention_bf16_supported(bad[i][0], bad[i][1], &why), "T %lld HS %lld accepted",
                      (long long)bad[i][0], (long long)bad[i][1]);
        ck_assert_msg(why && why[0], "T %lld HS %lld refused without a reason", (long long)bad[i][0],
                      (long long)bad[i][1]);
        ck_assert_int_eq(vn_attention_bf16_scratch_bytes(bad[i][0], bad[i][1], 2), 0);
        ck_assert(!vn_attention_bf16_supported(bad[i][0], bad[i][1], NULL));
    }
    const char *why = NULL;
    ck_assert(vn_attention_bf16_supported(4096, 64, &why) && why && why[0] == '\0');
    ck_assert(vn_attention_bf16_supported(1, 256, NULL));
    ck_assert_int_gt(vn_attention_bf16_scratch_bytes(4096, 64, 2), vn_attention_bf16_scratch_bytes(4096, 64, 1));
}
END_TEST

/* With oneDNN capped below AMX the kernel must be off, with a reason. */
START_TEST(amx_refused_when_capped)
{
    const char *why = NULL;
    ck_assert(!vn_attention_bf16_supported(128, 64, &why));
    ck_assert_msg(why && why[0], "refused without a reason");
    printf("attention amx refused as expected: %s\n", why);
}
END_TEST

int main(int argc, char **argv)
{
    Suite *s = suite_create("attention_amx");
    TCase *tc = tcase_create("amx");
    tcase_set_timeout(tc, 300);
    if (argc > 1 && strcmp(argv[1], "capped") == 0) {
        tcase_add_test(tc, amx_refused_when_capped);
    } else {
        const char *why = NULL;
        if (!vn_attention_bf16_supported(128, 64, &why))
            return vn_test_skip("attention_amx", why);
        tcase_add_test(tc, amx_vs_reference);
        tcase_add_test(tc, amx_refuses_shapes);
    }
    suite_add_tcase(s, tc);
    return vn_test_run(s);
}
