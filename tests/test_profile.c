/* vn_context profiling: entries count what ran, FLOPs match the analytic count, and
 * self times add up without double counting nested ops. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vn_test.h"
#include "vnative/vnative.h"

static int entry_index(vn_context *ctx, const char *name)
{
    int n = 0;
    VN_ASSERT_OK(vn_context_profile_count(ctx, &n));
    for (int i = 0; i < n; i++) {
        const char *nm = NULL;
        VN_ASSERT_OK(vn_context_profile_entry(ctx, i, &nm, NULL, NULL, NULL));
        if (!strcmp(nm, name))
            return i;
    }
    ck_abort_msg("no profile entry '%s'", name);
    return -1;
}

static void totals(vn_context *ctx, int64_t *calls, double *seconds)
{
    int n = 0;
    VN_ASSERT_OK(vn_context_profile_count(ctx, &n));
    *calls = 0;
    *seconds = 0;
    for (int i = 0; i < n; i++) {
        int64_t c;
        double s;
        VN_ASSERT_OK(vn_context_profile_entry(ctx, i, NULL, &c, &s, NULL));
        ck_assert_msg(s >= -1e-9, "entry %d has negative self time %g", i, s);
        *calls += c;
        *seconds += s;
    }
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void encode_once(vn_encoder *enc, const vn_encoder_config *cfg, int64_t N)
{
    int64_t L, D;
    VN_ASSERT_OK(vn_encoder_output_shape(enc, &L, &D));
    int64_t n_in = N * cfg->channels * cfg->frames * cfg->size * cfg->size;
    float *x = calloc((size_t)n_in, sizeof *x), *y = calloc((size_t)(N * D), sizeof *y);
    for (int64_t i = 0; i < n_in; i++)
        x[i] = (float)((i * 7919) % 255) / 255.0f - 0.5f;
    vn_tensor in, out;
    int64_t si[5] = {N, cfg->channels, cfg->frames, cfg->size, cfg->size}, so[2] = {N, D};
    VN_ASSERT_OK(vn_tensor_init(&in, x, VN_DTYPE_F32, 5, si));
    VN_ASSERT_OK(vn_tensor_init(&out, y, VN_DTYPE_F32, 2, so));
    VN_ASSERT_OK(vn_encoder_encode(enc, &in, &out));
    free(x);
    free(y);
}

START_TEST(off_by_default_records_nothing)
{
    vn_context *ctx = vn_test_cpu_context(1);
    vn_encoder_config cfg = vn_test_small_config(VN_ENCODER_VIDEO, 3);
    vn_encoder *enc;
    VN_ASSERT_OK(vn_encoder_create(&enc, ctx, &cfg));
    encode_once(enc, &cfg, 2);
    int64_t calls;
    double s;
    totals(ctx, &calls, &s);
    ck_assert_int_eq(calls, 0);
    vn_encoder_destroy(enc);
    vn_context_destroy(ctx);
}
END_TEST

/* The GEMM and attention FLOPs of an encode are the analytic count of the model. */
START_TEST(encode_flops_match_the_model)
{
    vn_context *ctx = vn_test_cpu_context(2);
    vn_encoder_config cfg = vn_test_small_config(VN_ENCODER_VIDEO, 3);
    vn_encoder *enc;
    VN_ASSERT_OK(vn_encoder_create(&enc, ctx, &cfg));
    VN_ASSERT_OK(vn_context_set_profiling(ctx, 1));
    int64_t N = 3;
    encode_once(enc, &cfg, N);
    double L = (double)(cfg.frames / cfg.tubelet_t) * (cfg.size / cfg.patch) * (cfg.size / cfg.patch);
    double D = cfg.dim, H = lroundf(cfg.dim * cfg.mlp_ratio);
    double P = (double)cfg.channels * cfg.tubelet_t * cfg.patch * cfg.patch;
    double gemm = 2.0 * N * L * (D * P + cfg.depth * (3 * D * D + D * D + 2 * D * H));
    double attn = cfg.depth * 4.0 * N * L * L * D;
    int64_t calls;
    double fl;
    VN_ASSERT_OK(vn_context_profile_entry(ctx, entry_index(ctx, "gemm"), NULL, &calls, NULL, &fl));
    ck_assert_int_eq(calls, 1 + 4 * cfg.depth);
    ck_assert_msg(fabs(fl - gemm) <= 1e-9 * gemm, "gemm FLOPs %.0f, model %.0f", fl, gemm);
    VN_ASSERT_OK(vn_context_profile_entry(ctx, entry_index(ctx, "attention fwd"), NULL, &calls, NULL, &fl));
    ck_assert_int_eq(calls, cfg.depth);
    ck_assert_msg(fabs(fl - attn) <= 1e-9 * attn, "attention FLOPs %.0f, model %.0f", fl, attn);
    VN_ASSERT_OK(vn_context_profile_entry(ctx, entry_index(ctx, "layernorm fwd"), NULL, &calls, NULL, NULL));
    ck_assert_int_eq(calls, 2 * cfg.depth + 1);
    vn_encoder_destroy(enc);
    vn_context_destroy(ctx);
}
END_TEST

/* A training step: every phase appears once, the self times add up to no more than the
 * step's wall time (nested ops are not counted twice), reset and off behave. */
START_TEST(train_step_entries_add_up)
{
    vn_context *ctx = vn_test_cpu_context(2);
    vn_encoder_config cfg = vn_test_small_config(VN_ENCODER_VIDEO, 3);
    vn_train_options o = vn_test_tiny_train_options("aot", "world:aot", 4);
    vn_trainer *tr;
    VN_ASSERT_OK(vn_trainer_create(&tr, ctx, &cfg, &o));
    VN_ASSERT_OK(vn_context_set_profiling(ctx, 1));
    vn_train_metrics m = VN_TRAIN_METRICS_INIT;
    double t0 = now_s();
    VN_ASSERT_OK(vn_trainer_step(tr, &m));
    double wall = now_s() - t0;
    int64_t calls, c;
    double s;
    totals(ctx, &calls, &s);
    ck_assert_msg(s > 0 && s <= wall * 1.0001 + 1e-6, "entries sum to %g s, the step took %g s", s, wall);
    VN_ASSERT_OK(vn_context_profile_entry(ctx, entry_index(ctx, "data (wait for the batch)"), NULL, &c, NULL, NULL));
    ck_assert_int_eq(c, 1);
    VN_ASSERT_OK(vn_context_profile_entry(ctx, entry_index(ctx, "adamw"), NULL, &c, NULL, NULL));
    ck_assert_int_ge(c, 1);
    VN_ASSERT_OK(vn_context_profile_entry(ctx, entry_index(ctx, "attention bwd"), NULL, &c, NULL, NULL));
    ck_assert_int_eq(c, cfg.depth);
    int step_idx = entry_index(ctx, "step (rest: heads, masks, bookkeeping)");
    VN_ASSERT_OK(vn_context_profile_entry(ctx, step_idx, NULL, &c, NULL, NULL));
    ck_assert_int_eq(c, 1);

    /* off keeps the counters; on again starts from zero */
    VN_ASSERT_OK(vn_context_set_profiling(ctx, 0));
    VN_ASSERT_OK(vn_trainer_step(tr, &m));
    int64_t calls2;
    totals(ctx, &calls2, &s);
    ck_assert_int_eq(calls2, calls);
    VN_ASSERT_OK(vn_context_set_profiling(ctx, 1));
    totals(ctx, &calls2, &s);
    ck_assert_int_eq(calls2, 0);
    VN_ASSERT_OK(vn_trainer_step(tr, &m));
    VN_ASSERT_OK(vn_context_profile_reset(ctx));
    totals(ctx, &calls2, &s);
    ck_assert_int_eq(calls2, 0);
    ck_assert(s == 0.0);
    vn_trainer_destroy(tr);
    vn_context_destroy(ctx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("profile");
    TCase *tc = tcase_create("profile");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, off_by_default_records_nothing);
    tcase_add_test(tc, encode_flops_match_the_model);
    tcase_add_test(tc, train_step_entries_add_up);
    suite_add_tcase(s, tc);
    return vn_test_run(s);
}
