/*
 * test_nn_ops.c: the dense ops and losses of src/nn (ops.h) against their reference
 * twins (ops_ref.h) and against finite differences, plus the conventions every op
 * promises: backward accumulates, NULL gradients are skipped, deterministic runs are
 * bit-identical (and, for the ops that promise it, independent of the thread count).
 *
 * Each op is described once, in nn_ops_cases.c, and every check below runs over all of
 * them as a Check loop test.
 */
#include <math.h>
#include <string.h>

#include "vn_test.h"
#include "nn_gradcheck.h"
#include "nn_ops_cases.h"
#include "nn/ops.h"
#include "nn/ops_ref.h"
#include "nn/ops_bf16.h"
#include "backend/cpu_bf16.h"

/* ---- harness ---------------------------------------------------------------------- */

static void setup_case(const op_def *op, op_case *c, uint64_t seed, int size)
{
    vn_test_rng r;
    vn_test_rng_seed(&r, seed);
    memset(c, 0, sizeof *c);
    op->setup(c, &r, size);
}

/* The upstream gradient G for a case, from its own stream so that it does not shift the
 * inputs when a setup changes. */
static float *make_dout(const op_case *c, uint64_t seed)
{
    vn_test_rng r;
    vn_test_rng_seed(&r, seed ^ 0xD0D0u);
    float *g = vn_test_zeros(c->out_n);
    ck_assert_ptr_nonnull(g);
    vn_test_fill_normal(&r, g, c->out_n, 1.0f);
    return g;
}

/* Gradient buffers for every input: zeros, or (fill) random values to accumulate onto. */
static void alloc_grads(const op_case *c, float **g, int fill, uint64_t seed)
{
    vn_test_rng r;
    vn_test_rng_seed(&r, seed ^ 0x6A6Au);
    for (int i = 0; i < MAX_IN; i++) {
        g[i] = NULL;
        if (i >= c->n_in)
            continue;
        g[i] = vn_test_zeros(c->in_n[i]);
        ck_assert_ptr_nonnull(g[i]);
        if (fill)
            vn_test_fill_normal(&r, g[i], c->in_n[i], 1.0f);
    }
}

static void free_grads(float **g)
{
    for (int i = 0; i < MAX_IN; i++) {
        free(g[i]);
        g[i] = NULL;
    }
}

static const char *size_name(int size)
{
    return size == SZ_TINY ? "tiny" : size == SZ_LARGE ? "large" : "random";
}

/* Forward and backward, fast path against the reference, with fresh zero gradients so
 * that the error is measured on the gradients themselves. */
static void check_vs_ref(const op_def *op, const vn_nn *nn, uint64_t seed, int size, double *fwd_worst,
                         double *bwd_worst)
{
    op_case c;
    setup_case(op, &c, seed, size);
    char label[160];

    op->fwd(NULL, &c);
    float *ref_out = vn_test_copy(c.out, c.out_n);
    ck_assert_ptr_nonnull(ref_out);
    op->fwd(nn, &c);
    fmt_into(label, sizeof label, "%s %s seed %llu forward [%lld %lld %lld]", op->name, size_name(size),
             (unsigned long long)seed, (long long)c.d[0], (long long)c.d[1], (long long)c.d[2]);
    double e = vn_rel_err(label, c.out, ref_out, c.out_n, 1e-5);
    ck_assert_msg(e <= 1e-5, "%s: rel err %.3e > 1e-5", label, e);
    if (e > *fwd_worst)
        *fwd_worst = e;

    float *dout = make_dout(&c, seed), *gref[MAX_IN], *gfast[MAX_IN];
    alloc_grads(&c, gref, 0, seed);
    alloc_grads(&c, gfast, 0, seed);
    op->bwd(NULL, &c, gref, dout);
    op->bwd(nn, &c, gfast, dout);
    for (int i = 0; i < c.n_in; i++) {
        fmt_into(label, sizeof label, "%s %s seed %llu d%s", op->name, size_name(size), (unsigned long long)seed,
                 c.in_name[i]);
        e = vn_rel_err(label, gfast[i], gref[i], c.in_n[i], 1e-4);
        ck_assert_msg(e <= 1e-4, "%s: rel err %.3e > 1e-4", label, e);
        if (e > *bwd_worst)
            *bwd_worst = e;
    }
    free_grads(gref);
    free_grads(gfast);
    free(dout);
    free(ref_out);
    free_case(&c);
}

START_TEST(test_fast_vs_reference)
{
    const op_def *op = &OPS[_i];
    nn_env env;
    env_open(&env, 2);
    double fw = 0.0, bw = 0.0;
    for (uint64_t seed = 1; seed <= 6; seed++)
        check_vs_ref(op, &env.nn, seed * 7919u + (uint64_t)_i, SZ_RANDOM, &fw, &bw);
    check_vs_ref(op, &env.nn, 424242u + (uint64_t)_i, SZ_LARGE, &fw, &bw);
    printf("%-14s fast vs reference: forward rel err <= %.2e, backward <= %.2e\n", op->name, fw, bw);
    fflush(stdout);
    vn_be_close(&env.be);
}
END_TEST

typedef struct gc_ctx {
    const op_def *op;
    op_case *c;
    const float *dout;
} gc_ctx;

static double gc_loss(void *p)
{
    gc_ctx *g = p;
    g->op->fwd(NULL, g->c);
    if (g->op->is_loss)
        return g->c->loss64 * (double)g->dout[0];
    return vn_gradcheck_dot(g->c->out, g->dout, g->c->out_n);
}

static double gradcheck_case(const op_def *op, const vn_nn *nn, uint64_t seed, int size)
{
    op_case c;
    setup_case(op, &c, seed, size);
    float *dout = make_dout(&c, seed), *gfast[MAX_IN], *gref[MAX_IN];
    alloc_grads(&c, gfast, 0, seed);
    alloc_grads(&c, gref, 0, seed);
    op->bwd(nn, &c, gfast, dout);
    op->bwd(NULL, &c, gref, dout);
    gc_ctx ctx = {op, &c, dout};
    vn_gradcheck_input in[MAX_IN], in_ref[MAX_IN];
    for (int i = 0; i < c.n_in; i++) {
        in[i] = (vn_gradcheck_input){c.in[i], c.in_n[i], gfast[i], c.in_name[i]};
        in_ref[i] = (vn_gradcheck_input){c.in[i], c.in_n[i], gref[i], c.in_name[i]};
    }
    char label[96];
    fmt_into(label, sizeof label, "%s %s fast", op->name, size_name(size));
    /* A loss is exact in double, so extrapolation can remove the truncation error that a
     * temperature of 0.07 would otherwise leave in InfoNCE's differences. */
    vn_gradcheck_opts opts = {.eps = 1e-2, .richardson = op->is_loss};
    double e = vn_gradcheck(label, in, c.n_in, gc_loss, &ctx, &opts);
    fmt_into(label, sizeof label, "%s %s reference", op->name, size_name(size));
    double e_ref = vn_gradcheck(label, in_ref, c.n_in, gc_loss, &ctx, &opts);
    free_grads(gfast);
    free_grads(gref);
    free(dout);
    free_case(&c);
    return e > e_ref ? e : e_ref;
}

START_TEST(test_finite_differences)
{
    const op_def *op = &OPS[_i];
    nn_env env;
    env_open(&env, 2);
    double worst = gradcheck_case(op, &env.nn, 31u + (uint64_t)_i, SZ_TINY);
    for (uint64_t seed = 1; seed <= 2; seed++) {
        double e = gradcheck_case(op, &env.nn, seed * 104729u + (uint64_t)_i, SZ_RANDOM);
        worst = e > worst ? e : worst;
    }
    printf("%-14s finite differences: worst rel err %.2e\n", op->name, worst);
    ck_assert_msg(worst <= 1e-3, "%s: backward disagrees with finite differences (rel err %.3e)", op->name, worst);
    vn_be_close(&env.be);
}
END_TEST

/* Backward into pre-filled gradients must add: result == prefill + gradient alone. */
START_TEST(test_backward_accumulates)
{
    const op_def *op = &OPS[_i];
    nn_env env;
    env_open(&env, 2);
    op_case c;
    uint64_t seed = 555u + (uint64_t)_i;
    setup_case(op, &c, seed, SZ_RANDOM);
    float *dout = make_dout(&c, seed), *alone[MAX_IN], *pre[MAX_IN], *expect[MAX_IN] = {NULL, NULL, NULL};
    alloc_grads(&c, alone, 0, seed);
    alloc_grads(&c, pre, 1, seed);
    op->bwd(&env.nn, &c, alone, dout);
    for (int i = 0; i < c.n_in; i++) {
        expect[i] = vn_test_copy(pre[i], c.in_n[i]);
        ck_assert_ptr_nonnull(expect[i]);
        double gnorm = 0.0;
        for (int64_t j = 0; j < c.in_n[i]; j++) {
            expect[i][j] += alone[i][j];
            gnorm += (double)alone[i][j] * alone[i][j];
        }
        ck_assert_msg(gnorm > 0.0, "%s: d%s is all zeros, so accumulation cannot be told apart", op->name,
                      c.in_name[i]);
    }
    op->bwd(&env.nn, &c, pre, dout);
    for (int i = 0; i < c.n_in; i++) {
        char label[96];
        fmt_into(label, sizeof label, "%s accumulate d%s", op->name, c.in_name[i]);
        double e = vn_rel_err(label, pre[i], expect[i], c.in_n[i], 1e-6);
        ck_assert_msg(e <= 1e-6, "%s: backward did not add to the pre-filled gradient (rel err %.3e)", label, e);
    }
    free_grads(alone);
    free_grads(pre);
    free_grads(expect);
    free(dout);
    free_case(&c);
    vn_be_close(&env.be);
}
END_TEST

/* A NULL gradient skips that gradient and changes nothing else. */
START_TEST(test_null_gradients)
{
    const op_def *op = &OPS[_i];
    nn_env env;
    env_open(&env, 2);
    op_case c;
    uint64_t seed = 777u + (uint64_t)_i;
    setup_case(op, &c, seed, SZ_RANDOM);
    float *dout = make_dout(&c, seed), *full[MAX_IN];
    alloc_grads(&c, full, 0, seed);
    op->bwd(&env.nn, &c, full, dout);
    float *full_out = vn_test_copy(c.out, c.out_n);
    ck_assert_ptr_nonnull(full_out);
    for (int skip = 0; skip < c.n_in; skip++) {
        float *part[MAX_IN];
        alloc_grads(&c, part, 0, seed);
        free(part[skip]);
        part[skip] = NULL;
        op->bwd(&env.nn, &c, part, dout);
        for (int i = 0; i < c.n_in; i++)
            if (i != skip)
                ck_assert_msg(memcmp(part[i], full[i], (size_t)c.in_n[i] * sizeof(float)) == 0,
                              "%s: d%s changed when d%s was NULL", op->name, c.in_name[i], c.in_name[skip]);
        ck_assert_msg(memcmp(c.out, full_out, (size_t)c.out_n * sizeof(float)) == 0,
                      "%s: the output changed when d%s was NULL", op->name, c.in_name[skip]);
        free_grads(part);
    }
    free(full_out);
    free_grads(full);
    free(dout);
    free_case(&c);
    vn_be_close(&env.be);
}
END_TEST

/* Forward output and all gradients of one deterministic run, on large shapes so that
 * the parallel paths are taken. */
static void det_run(const op_def *op, const vn_nn *nn, uint64_t seed, float **out, float **grads, op_case *c)
{
    setup_case(op, c, seed, SZ_LARGE);
    float *dout = make_dout(c, seed);
    alloc_grads(c, grads, 0, seed);
    op->fwd(nn, c);
    *out = vn_test_copy(c->out, c->out_n);
    ck_assert_ptr_nonnull(*out);
    op->bwd(nn, c, grads, dout);
    free(dout);
}

static void det_compare(const op_def *op, const char *what, const op_case *c, const float *out_a, float *const *ga,
                        const float *out_b, float *const *gb)
{
    ck_assert_msg(memcmp(out_a, out_b, (size_t)c->out_n * sizeof(float)) == 0, "%s: forward differs %s", op->name,
                  what);
    for (int i = 0; i < c->n_in; i++)
        ck_assert_msg(memcmp(ga[i], gb[i], (size_t)c->in_n[i] * sizeof(float)) == 0, "%s: d%s differs %s",
                      op->name, c->in_name[i], what);
}

START_TEST(test_deterministic)
{
    const op_def *op = &OPS[_i];
    nn_env two, one;
    env_open(&two, 2);
    env_open(&one, 1);
    uint64_t seed = 999u + (uint64_t)_i;
    op_case a, b;
    float *out_a, *out_b, *ga[MAX_IN], *gb[MAX_IN];
    det_run(op, &two.nn, seed, &out_a, ga, &a);
    det_run(op, &two.nn, seed, &out_b, gb, &b);
    det_compare(op, "between two runs at 2 threads", &a, out_a, ga, out_b, gb);
    free(out_b);
    free_grads(gb);
    free_case(&b);
    if (op->thread_invariant) {
        det_run(op, &one.nn, seed, &out_b, gb, &b);
        det_compare(op, "between 1 and 2 threads", &a, out_a, ga, out_b, gb);
        free(out_b);
        free_grads(gb);
        free_case(&b);
    }
    free(out_a);
    free_grads(ga);
    free_case(&a);
    vn_be_close(&two.be);
    vn_be_close(&one.be);
}
END_TEST

/* ---- values known from PyTorch and from the formulas ------------------------------ */

/* torch.nn.functional.gelu(x, approximate='tanh') at -3, -1, 0, 0.5, 1, 3. */
START_TEST(test_gelu_known_values)
{
    nn_env env;
    env_open(&env, 1);
    const float x[6] = {-3.0f, -1.0f, 0.0f, 0.5f, 1.0f, 3.0f};
    const double want[6] = {-0.0036373920, -0.1588080094, 0.0, 0.3457140098, 0.8411919906, 2.9963626080};
    float y[6];
    vn_gelu_forward(&env.nn, y, x, 6);
    for (int i = 0; i < 6; i++)
        ck_assert_msg(fabs(y[i] - want[i]) <= 2e-6 * (1.0 + fabs(want[i])), "gelu(%g) = %.9g, want %.9g", x[i],
                      y[i], want[i]);
    vn_be_close(&env.be);
}
END_TEST

/* A NaN must surface, not vanish into a clamp: a diverging run has to be visible. Huge
 * finite inputs saturate cleanly (GELU(x) = x far right, 0 far left). */
START_TEST(test_nan_and_saturation)
{
    nn_env env;
    env_open(&env, 1);
    const float x[4] = {NAN, 1e4f, -1e4f, 0.5f};
    float y[4], d[4] = {0}, g[4] = {1, 1, 1, 1};
    vn_gelu_forward(&env.nn, y, x, 4);
    vn_gelu_backward(&env.nn, d, x, g, 4);
    ck_assert_msg(isnan(y[0]) && isnan(d[0]), "gelu(NaN) = %g, grad %g", y[0], d[0]);
    ck_assert_msg(y[1] == 1e4f && y[2] == 0.0f, "gelu saturation: %g %g", y[1], y[2]);
    ck_assert_msg(d[1] == 1.0f && d[2] == 0.0f, "gelu' saturation: %g %g", d[1], d[2]);
    float sm[4];
    vn_softmax_forward(&env.nn, sm, x, 1, 4);
    ck_assert_msg(isnan(sm[0]), "softmax with a NaN logit gave %g", sm[0]);
    vn_be_close(&env.be);
}
END_TEST

/* Logits far beyond exp's range give finite losses and exact saturated gradients. */
START_TEST(test_losses_extreme_logits)
{
    nn_env env;
    env_open(&env, 1);
    const float logits[4] = {100.0f, -100.0f, 100.0f, -100.0f};
    const float targets[4] = {0.0f, 1.0f, 1.0f, 0.0f};
    float d[4] = {0};
    float loss = vn_bce_logits_loss(&env.nn, d, logits, targets, 4, 1.0f);
    ck_assert_msg(fabsf(loss - 50.0f) <= 1e-4f, "bce loss %.9g, want 50", loss);
    const float want_d[4] = {0.25f, -0.25f, 0.0f, 0.0f};
    for (int i = 0; i < 4; i++)
        ck_assert_msg(fabsf(d[i] - want_d[i]) <= 1e-7f, "bce dlogits[%d] = %.9g, want %.9g", i, d[i], want_d[i]);

    const float row[3] = {1000.0f, 0.0f, -1000.0f};
    const int32_t label = 1;
    float g[3] = {0};
    loss = vn_softmax_ce_loss(&env.nn, g, row, &label, 1, 3, 1.0f);
    ck_assert_msg(fabsf(loss - 1000.0f) <= 1e-3f, "softmax ce loss %.9g, want 1000", loss);
    ck_assert_msg(fabsf(g[0] - 1.0f) <= 1e-6f && fabsf(g[1] + 1.0f) <= 1e-6f && fabsf(g[2]) <= 1e-6f,
                  "softmax ce dlogits %g %g %g, want 1 -1 0", g[0], g[1], g[2]);

    float sm[3];
    vn_softmax_forward(&env.nn, sm, row, 1, 3);
    ck_assert_msg(sm[0] == 1.0f && sm[1] == 0.0f && sm[2] == 0.0f, "softmax of large logits: %g %g %g", sm[0],
                  sm[1], sm[2]);
    vn_be_close(&env.be);
}
END_TEST

/* InfoNCE with orthonormal keys equal to the queries and a small temperature: the
 * positives dominate, the loss is log(1 + (M-1) e^{-1/tau}). */
START_TEST(test_infonce_known_value)
{
    nn_env env;
    env_open(&env, 1);
    enum { M = 4 };
    float q[M * M] = {0}, scratch[M * M];
    int32_t pos[M];
    for (int i = 0; i < M; i++) {
        q[i * M + i] = 1.0f;
        pos[i] = i;
    }
    float tau = 0.25f;
    float loss = vn_infonce_loss(&env.nn, NULL, NULL, q, q, pos, M, M, M, tau, 1.0f, scratch);
    double want = log(1.0 + (M - 1) * exp(-1.0 / tau));
    ck_assert_msg(fabs(loss - want) <= 1e-6, "infonce loss %.9g, want %.9g", loss, want);
    vn_be_close(&env.be);
}
END_TEST

/* The target of the LN'd losses is normalised per row: a target that is an affine
 * map of pred's row pattern (scaled and shifted) gives zero loss when pred is its LN. */
START_TEST(test_ln_target_is_normalised)
{
    nn_env env;
    env_open(&env, 1);
    enum { C = 8 };
    float target[C], pred[C], mean, rstd, scratch[C];
    for (int c = 0; c < C; c++)
        target[c] = 5.0f + 3.0f * (float)c;
    vn_ref_layernorm_forward(pred, &mean, &rstd, target, NULL, NULL, 1, C);
    float l1 = vn_l1_ln_target_loss(&env.nn, NULL, pred, target, 1, C, 1.0f, scratch);
    float mse = vn_mse_ln_target_loss(&env.nn, NULL, pred, target, 1, C, 1.0f, scratch);
    ck_assert_msg(l1 <= 1e-6f && mse <= 1e-12f, "loss against its own LN target: l1 %g mse %g", l1, mse);
    for (int c = 0; c < C; c++)
        pred[c] += 0.5f;
    mse = vn_mse_ln_target_loss(&env.nn, NULL, pred, target, 1, C, 1.0f, scratch);
    l1 = vn_l1_ln_target_loss(&env.nn, NULL, pred, target, 1, C, 1.0f, scratch);
    ck_assert_msg(fabsf(mse - 0.25f) <= 1e-5f && fabsf(l1 - 0.5f) <= 1e-5f, "shifted by 0.5: l1 %g mse %g", l1,
                  mse);
    vn_be_close(&env.be);
}
END_TEST

/* A backend failure inside an op (its GEMM) is recorded for vn_nn_take_error instead of
 * leaving garbage behind a silent success; taking it clears it. */
START_TEST(gemm_failure_is_reported)
{
    vn_be closed = {0};
    vn_nn nn = {.be = &closed, .n_threads = 1, .deterministic = 1};
    float in[6] = {1, 2, 3, 4, 5, 6}, w[6] = {1, 0, 0, 1, 1, 1}, out[4];
    ck_assert_int_eq(vn_nn_take_error(), VN_OK);
    vn_linear_forward(&nn, out, in, w, NULL, 2, 3, 2);
    ck_assert_int_eq(vn_nn_take_error(), VN_ERR_STATE);
    ck_assert_msg(vn_last_error()[0] != '\0', "the failed GEMM left no message");
    ck_assert_int_eq(vn_nn_take_error(), VN_OK);

    nn_env env;
    env_open(&env, 1);
    vn_linear_forward(&env.nn, out, in, w, NULL, 2, 3, 2);
    ck_assert_int_eq(vn_nn_take_error(), VN_OK);
    ck_assert_float_eq(out[0], 1.0f);
    vn_be_close(&env.be);
}
END_TEST

/* ---- fused ops against the plain-op sequences they replace ------------------------ */

/* Shapes for the fused checks: small (serial paths), odd widths (panel tails), and large
 * enough to cross the parallel thresholds. */
static const int64_t FUSED_SHAPES[][2] = {{1, 1}, {3, 7}, {17, 33}, {64, 192}, {300, 100}, {1031, 129}, {520, 768}};
#define N_FUSED_SHAPES ((int)(sizeof FUSED_SHAPES / sizeof FUSED_SHAPES[0]))

static float *rand_buf(vn_test_rng *r, int64_t n, float scale)
{
    float *x = vn_test_zeros(n);
    ck_assert_ptr_nonnull(x);
    vn_test_fill_normal(r, x, n, scale);
    return x;
}

static void expect_same_bits(const char *what, const float *got, const float *want, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        ck_assert_msg(memcmp(&got[i], &want[i], sizeof(float)) == 0, "%s: element %lld is %.9g, want %.9g (bits)",
                      what, (long long)i, (double)got[i], (double)want[i]);
}

/* Some exact zeros in an upstream gradient, against negative factors: where a product is
 * -0, adding into zeros gives +0, and the overwriting variants must too. */
static void sprinkle_zeros(float *g, int64_t n)
{
    for (int64_t i = 0; i < n; i += 5)
        g[i] = i % 10 ? 0.0f : -0.0f;
}

/* GELU backward with the bias gradient folded in == zero, vn_gelu_backward, vn_bias_grad;
 * and the training pair (GELU' saved by the forward) gives the same, with the same
 * forward output as vn_linear_gelu_forward. */
START_TEST(test_fused_gelu_backward_bias)
{
    nn_env env;
    env_open(&env, 1 + _i);
    for (int k = 0; k < N_FUSED_SHAPES; k++) {
        int64_t N = FUSED_SHAPES[k][0], OC = FUSED_SHAPES[k][1], n = N * OC, IC = 5;
        vn_test_rng r;
        vn_test_rng_seed(&r, 100u + (uint64_t)k);
        float *inp = rand_buf(&r, N * IC, 1.0f), *w = rand_buf(&r, OC * IC, 1.0f), *b = rand_buf(&r, OC, 1.0f);
        float *h = vn_test_zeros(n), *g_plain = vn_test_zeros(n), *g_train = vn_test_zeros(n);
        float *hg = rand_buf(&r, n, 1.0f);
        vn_linear_gelu_forward(&env.nn, h, g_plain, inp, w, b, N, IC, OC);
        h[0] = -1e4f; /* GELU' is exactly 0 far left */
        vn_linear_gelu_forward_train(&env.nn, hg, g_train, inp, w, b, N, IC, OC);
        ck_assert_int_eq(vn_nn_take_error(), VN_OK);
        expect_same_bits("linear_gelu_forward_train g", g_train + 1, g_plain + 1, n - 1);
        float *dout = rand_buf(&r, n, 1.0f), *db0 = rand_buf(&r, OC, 1.0f);
        sprinkle_zeros(dout, n);
        for (int mode = 0; mode < 4; mode++) {
            /* 0, 1: from h (with a far-left element), with and without db; 2, 3: from the
             * GELU' saved by the training forward, which saw the GEMM's h */
            if (mode == 2)
                vn_linear_forward(&env.nn, h, inp, w, b, N, IC, OC);
            float *want = rand_buf(&r, n, 1.0f), *dbw = vn_test_copy(db0, OC); /* garbage: zeroed */
            vn_nn_zero(&env.nn, want, n);
            vn_gelu_backward(&env.nn, want, h, dout, n);
            vn_bias_grad(&env.nn, dbw, want, N, OC);
            float *dio = vn_test_copy(dout, n), *dh = rand_buf(&r, n, 1.0f), *dbg = vn_test_copy(db0, OC);
            float *db = mode & 1 ? NULL : dbg;
            float *got = mode < 2 ? vn_gelu_backward_bias(&env.nn, dh, dio, db, h, N, OC)
                                  : vn_gelu_backward_saved(&env.nn, dh, dio, db, hg, N, OC);
            expect_same_bits(mode < 2 ? "gelu_backward_bias dinp" : "gelu_backward_saved dinp", got, want, n);
            expect_same_bits(mode < 2 ? "gelu_backward_bias db" : "gelu_backward_saved db", dbg, db ? dbw : db0, OC);
            free(dio), free(dh), free(dbg), free(want), free(dbw);
        }
        free(inp), free(w), free(b), free(h), free(g_plain), free(g_train), free(hg), free(dout), free(db0);
    }
    vn_be_close(&env.be);
}
END_TEST

/* Layernorm backward plus the column sums of the updated dinp == vn_layernorm_backward,
 * vn_bias_grad(dnext, dinp); with and without the affine weight and each output. */
START_TEST(test_fused_layernorm_backward_bias)
{
    nn_env env;
    env_open(&env, 1 + _i);
    for (int k = 0; k < N_FUSED_SHAPES; k++) {
        int64_t N = FUSED_SHAPES[k][0], C = FUSED_SHAPES[k][1], n = N * C;
        for (int variant = 0; variant < 3; variant++) {
            vn_test_rng r;
            vn_test_rng_seed(&r, 200u + 7u * (uint64_t)k + (uint64_t)variant);
            float *x = rand_buf(&r, n, 2.0f), *w = rand_buf(&r, C, 1.0f), *b = rand_buf(&r, C, 1.0f);
            float *dout = rand_buf(&r, n, 1.0f), *mean = vn_test_zeros(N), *rstd = vn_test_zeros(N);
            float *y = vn_test_zeros(n);
            const float *wp = variant == 1 ? NULL : w;
            vn_layernorm_forward(&env.nn, y, mean, rstd, x, wp, variant == 1 ? NULL : b, N, C);
            float *dx_w = rand_buf(&r, n, 1.0f), *dx_g = vn_test_copy(dx_w, n);
            float *dw_w = rand_buf(&r, C, 1.0f), *dw_g = vn_test_copy(dw_w, C);
            float *db_w = rand_buf(&r, C, 1.0f), *db_g = vn_test_copy(db_w, C);
            float *dn_w = rand_buf(&r, C, 1.0f), *dn_g = vn_test_copy(dn_w, C);
            float *dwp = variant == 2 ? NULL : dw_w, *dwq = variant == 2 ? NULL : dw_g;
            float *dnp = variant == 2 ? NULL : dn_w, *dnq = variant == 2 ? NULL : dn_g;
            vn_layernorm_backward(&env.nn, dx_w, dwp, db_w, dout, x, wp, mean, rstd, N, C);
            if (dnp)
                vn_bias_grad(&env.nn, dnp, dx_w, N, C);
            vn_layernorm_backward_bias(&env.nn, dx_g, dwq, db_g, dout, x, wp, mean, rstd, N, C, dnq);
            expect_same_bits("layernorm_backward_bias dinp", dx_g, dx_w, n);
            expect_same_bits("layernorm_backward_bias dw", dw_g, dw_w, C);
            expect_same_bits("layernorm_backward_bias db", db_g, db_w, C);
            expect_same_bits("layernorm_backward_bias dnext", dn_g, dn_w, C);
            free(x), free(w), free(b), free(dout), free(mean), free(rstd), free(y);
            free(dx_w), free(dx_g), free(dw_w), free(dw_g), free(db_w), free(db_g), free(dn_w), free(dn_g);
        }
    }
    vn_be_close(&env.be);
}
END_TEST

/* Residual add fused with the next layernorm == vn_residual_forward, vn_layernorm_forward;
 * and the bf16 variants. */
START_TEST(test_fused_residual_layernorm)
{
    nn_env env;
    env_open(&env, 1 + _i);
    for (int k = 0; k < N_FUSED_SHAPES; k++) {
        int64_t N = FUSED_SHAPES[k][0], C = FUSED_SHAPES[k][1], n = N * C;
        vn_test_rng r;
        vn_test_rng_seed(&r, 300u + (uint64_t)k);
        float *a = rand_buf(&r, n, 2.0f), *bb = rand_buf(&r, n, 1.0f), *w = rand_buf(&r, C, 1.0f);
        float *bias = rand_buf(&r, C, 1.0f);
        float *o_w = vn_test_zeros(n), *y_w = vn_test_zeros(n), *m_w = vn_test_zeros(N), *r_w = vn_test_zeros(N);
        float *o_g = vn_test_zeros(n), *y_g = vn_test_zeros(n), *m_g = vn_test_zeros(N), *r_g = vn_test_zeros(N);
        vn_residual_forward(&env.nn, o_w, a, bb, n);
        vn_layernorm_forward(&env.nn, y_w, m_w, r_w, o_w, w, bias, N, C);
        vn_residual_layernorm_forward(&env.nn, o_g, y_g, m_g, r_g, a, bb, w, bias, N, C);
        expect_same_bits("residual_layernorm out", o_g, o_w, n);
        expect_same_bits("residual_layernorm ln", y_g, y_w, n);
        expect_same_bits("residual_layernorm mean", m_g, m_w, N);
        expect_same_bits("residual_layernorm rstd", r_g, r_w, N);
        /* the bf16 norms of inference (ops_bf16.h): the same floats rounded by
         * vn_bf16_convert, with and without the residual add (C 768: rows wider than the
         * 512-column stack piece) */
        uint16_t *y16_w = calloc((size_t)n, 2), *y16_g = calloc((size_t)n, 2);
        ck_assert(y16_w && y16_g);
        vn_bf16_convert(y16_w, y_w, n);
        memset(o_g, 0, (size_t)n * sizeof *o_g);
        vn_residual_layernorm_forward_bf16(&env.nn, o_g, y16_g, a, bb, w, bias, N, C);
        expect_same_bits("residual_layernorm_bf16 out", o_g, o_w, n);
        ck_assert_msg(!memcmp(y16_g, y16_w, (size_t)n * 2), "residual_layernorm_bf16 ln differs (%lld x %lld)",
                      (long long)N, (long long)C);
        memset(y16_g, 0, (size_t)n * 2);
        vn_layernorm_forward_bf16(&env.nn, y16_g, o_w, w, bias, N, C);
        ck_assert_msg(!memcmp(y16_g, y16_w, (size_t)n * 2), "layernorm_bf16 differs (%lld x %lld)", (long long)N,
                      (long long)C);
        free(a), free(bb), free(w), free(bias), free(o_w), free(y_w), free(m_w), free(r_w);
        free(o_g), free(y_g), free(m_g), free(r_g), free(y16_w), free(y16_g);
    }
    vn_be_close(&env.be);
}
END_TEST

/* Linear backward into an overwritten dinp == zero, vn_linear_backward (up to the GEMM's
 * own beta handling), with the weight and bias gradients bit for bit. */
START_TEST(test_fused_linear_backward_set)
{
    nn_env env;
    env_open(&env, 1 + _i);
    for (int k = 0; k < N_FUSED_SHAPES; k++) {
        int64_t N = FUSED_SHAPES[k][0], OC = FUSED_SHAPES[k][1], IC = 1 + (OC * 3) % 97;
        vn_test_rng r;
        vn_test_rng_seed(&r, 400u + (uint64_t)k);
        float *inp = rand_buf(&r, N * IC, 1.0f), *w = rand_buf(&r, OC * IC, 0.5f), *dout = rand_buf(&r, N * OC, 1.0f);
        float *di_w = vn_test_zeros(N * IC), *di_g = rand_buf(&r, N * IC, 1.0f);
        float *dw_w = rand_buf(&r, OC * IC, 1.0f), *dw_g = vn_test_copy(dw_w, OC * IC);
        float *db_w = rand_buf(&r, OC, 1.0f), *db_g = vn_test_copy(db_w, OC);
        vn_linear_backward(&env.nn, di_w, dw_w, db_w, dout, inp, w, N, IC, OC);
        vn_linear_backward_set(&env.nn, di_g, dw_g, db_g, dout, inp, w, N, IC, OC);
        ck_assert_int_eq(vn_nn_take_error(), VN_OK);
        double e = vn_rel_err("linear_backward_set dinp", di_g, di_w, N * IC, 1e-6);
        ck_assert_msg(e <= 1e-6, "linear_backward_set dinp: rel err %.3e", e);
        expect_same_bits("linear_backward_set dw", dw_g, dw_w, OC * IC);
        expect_same_bits("linear_backward_set db", db_g, db_w, OC);
        free(inp), free(w), free(dout), free(di_w), free(di_g), free(dw_w), free(dw_g), free(db_w), free(db_g);
    }
    vn_be_close(&env.be);
}
END_TEST

static Suite *nn_ops_suite(void)
{
    Suite *s = suite_create("nn_ops");
    TCase *tc = tcase_create("ops");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_fast_vs_reference, 0, N_OPS);
    tcase_add_loop_test(tc, test_finite_differences, 0, N_OPS);
    tcase_add_loop_test(tc, test_backward_accumulates, 0, N_OPS);
    tcase_add_loop_test(tc, test_null_gradients, 0, N_OPS);
    tcase_add_loop_test(tc, test_deterministic, 0, N_OPS);
    tcase_add_test(tc, test_gelu_known_values);
    tcase_add_test(tc, gemm_failure_is_reported);
    tcase_add_test(tc, test_nan_and_saturation);
    tcase_add_test(tc, test_losses_extreme_logits);
    tcase_add_test(tc, test_infonce_known_value);
    tcase_add_test(tc, test_ln_target_is_normalised);
    /* _i + 1 threads */
    tcase_add_loop_test(tc, test_fused_gelu_backward_bias, 0, 2);
    tcase_add_loop_test(tc, test_fused_layernorm_backward_bias, 0, 2);
    tcase_add_loop_test(tc, test_fused_residual_layernorm, 0, 2);
    tcase_add_loop_test(tc, test_fused_linear_backward_set, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return vn_test_run(nn_ops_suite());
}
