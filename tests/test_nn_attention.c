/*
 * test_nn_attention.c: the attention core (joint and divided), tubelet embedding,
 * positional embeddings, attentive pooling (ops_attention.c, ops_embed.c) against their
 * reference twins and finite differences; the accumulation, NULL-gradient and
 * determinism conventions of ops.h; and AdamW, the learning-rate schedule and gradient
 * clipping (optim.c) against the PyTorch formulas, and against torch.optim.AdamW itself
 * when /usr/bin/python3 has torch.
 */
#include <math.h>
#include <string.h>
#include <sys/wait.h>

#include "vn_test.h"
#include "nn_gradcheck.h"
#include "io/npy.h"
#include "nn/ops.h"
#include "nn/ops_ref.h"
#include "nn/optim.h"


static float *randn(vn_test_rng *r, int64_t n, float scale)
{
    float *x = vn_test_zeros(n);
    ck_assert_ptr_nonnull(x);
    vn_test_fill_normal(r, x, n, scale);
    return x;
}

static float *zeros(int64_t n)
{
    float *x = vn_test_zeros(n);
    ck_assert_ptr_nonnull(x);
    return x;
}

static void check_err(const char *what, const float *a, const float *b, int64_t n, double tol, double *worst)
{
    double e = vn_rel_err(what, a, b, n, tol);
    ck_assert_msg(e <= tol, "%s: rel err %.3e > %.1e", what, e, tol);
    if (worst && e > *worst)
        *worst = e;
}

/* ---- attention: fast against reference ----------------------------------------------- */

typedef struct attn_case {
    int64_t B, T, C, NH;
    float *qkv, *dout;
} attn_case;

static void attn_case_init(attn_case *c, vn_test_rng *r, int64_t B, int64_t T, int64_t NH, int64_t HS)
{
    c->B = B;
    c->T = T;
    c->NH = NH;
    c->C = NH * HS;
    /* A wider spread than unit scores, so that some rows are peaked and some flat. */
    c->qkv = randn(r, B * T * 3 * c->C, 1.5f);
    c->dout = randn(r, B * T * c->C, 1.0f);
}

static void attn_case_free(attn_case *c)
{
    free(c->qkv);
    free(c->dout);
}

/* Fast forward and backward (fresh zero gradient) on nn. */
static void attn_fast(const vn_nn *nn, const attn_case *c, float *out, float *lse, float *dqkv)
{
    int64_t nsc = vn_attention_scratch_floats(c->B, c->T, c->C, c->NH, nn->n_threads);
    float *scratch = zeros(nsc);
    vn_attention_forward(nn, out, lse, c->qkv, c->B, c->T, c->C, c->NH, scratch);
    if (dqkv)
        vn_attention_backward(nn, dqkv, c->dout, c->qkv, out, lse, c->B, c->T, c->C, c->NH, scratch);
    free(scratch);
}

static void attn_ref(const attn_case *c, float *out, float *lse, float *dqkv)
{
    double *scratch = malloc((size_t)vn_ref_attention_scratch_floats(c->T) * sizeof *scratch);
    ck_assert_ptr_nonnull(scratch);
    vn_ref_attention_forward(out, lse, c->qkv, c->B, c->T, c->C, c->NH, scratch);
    if (dqkv)
        vn_ref_attention_backward(dqkv, c->dout, c->qkv, c->B, c->T, c->C, c->NH, scratch);
    free(scratch);
}

static void attn_compare(const vn_nn *nn, const attn_case *c, double *fw, double *bw)
{
    int64_t no = c->B * c->T * c->C, nl = c->B * c->NH * c->T, nq = 3 * no;
    float *out = zeros(no), *lse = zeros(nl), *dq = zeros(nq);
    float *rout = zeros(no), *rlse = zeros(nl), *rdq = zeros(nq);
    attn_fast(nn, c, out, lse, dq);
    attn_ref(c, rout, rlse, rdq);
    char label[128];
    fmt_into(label, sizeof label, "attention B%lld T%lld NH%lld HS%lld", (long long)c->B, (long long)c->T,
             (long long)c->NH, (long long)(c->C / c->NH));
    char what[160];
    fmt_into(what, sizeof what, "%s out", label);
    check_err(what, out, rout, no, 1e-5, fw);
    fmt_into(what, sizeof what, "%s lse", label);
    check_err(what, lse, rlse, nl, 1e-5, fw);
    fmt_into(what, sizeof what, "%s dqkv", label);
    check_err(what, dq, rdq, nq, 1e-4, bw);
    free(out), free(lse), free(dq), free(rout), free(rlse), free(rdq);
}

START_TEST(attention_joint_vs_reference)
{
    nn_env env;
    env_open(&env, 2);
    vn_test_rng r;
    vn_test_rng_seed(&r, 11);
    /* Odd lengths straddle the 32-row query and 64-column key blocks; HS 8 and 24 take
     * the kernels' column tails; under 16 positions with HS a multiple of 16 is the short
     * path (whole pairs, 8- or 16-row), whose padded rows and lanes must not leak. */
    static const int64_t fixed[][4] = {
        {1, 1, 1, 8},  {2, 7, 2, 8},  {3, 33, 3, 16}, {1, 129, 4, 32}, {2, 64, 1, 64}, {1, 65, 2, 24},
        {2, 31, 2, 64}, {3, 8, 4, 32}, {2, 5, 3, 64}, {2, 1, 2, 16},   {2, 15, 2, 16}, {1, 9, 1, 256},
    };
    static const int64_t hs_choices[] = {8, 16, 24, 32, 48, 64};
    double fw = 0.0, bw = 0.0;
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        attn_case c;
        attn_case_init(&c, &r, fixed[i][0], fixed[i][1], fixed[i][2], fixed[i][3]);
        attn_compare(&env.nn, &c, &fw, &bw);
        attn_case_free(&c);
    }
    for (int i = 0; i < 5; i++) {
        attn_case c;
        attn_case_init(&c, &r, vn_test_randint(&r, 1, 3), vn_test_randint(&r, 1, 140), vn_test_randint(&r, 1, 4),
                       hs_choices[vn_test_randint(&r, 0, 5)]);
        attn_compare(&env.nn, &c, &fw, &bw);
        attn_case_free(&c);
    }
    printf("attention joint fast vs reference: forward rel err <= %.2e, backward <= %.2e\n", fw, bw);
    vn_be_close(&env.be);
}
END_TEST

/* Divided space-time attention as an encoder runs it: temporal over the regrouped
 * [B*S, F] sequences, spatial over the [B*F, S] ones as they lie. */
static void divided_case(const vn_nn *nn, vn_test_rng *r, int64_t B, int64_t F, int64_t S, int64_t NH, int64_t HS,
                         double *fw, double *bw)
{
    int64_t C = NH * HS, T = F * S, nqkv = B * T * 3 * C, no = B * T * C;
    float *qkv = randn(r, nqkv, 1.5f), *dout = randn(r, no, 1.0f), *prior = randn(r, nqkv, 1.0f);

    /* Temporal, fast path: group, attend, ungroup; the gradient is ungrouped with
     * accumulation into a buffer that already holds a prior gradient. */
    float *qkv_t = zeros(nqkv), *out_t = zeros(no), *lse_t = zeros(B * S * NH * F), *out = zeros(no);
    float *dout_t = zeros(no), *dqkv_t = zeros(nqkv), *dqkv = vn_test_copy(prior, nqkv);
    float *scratch = zeros(vn_attention_scratch_floats(B * S, F, C, NH, nn->n_threads));
    vn_attention_group_temporal(nn, qkv_t, qkv, B, F, S, 3 * C);
    vn_attention_forward(nn, out_t, lse_t, qkv_t, B * S, F, C, NH, scratch);
    vn_attention_ungroup_temporal(nn, out, out_t, B, F, S, C, 0);
    vn_attention_group_temporal(nn, dout_t, dout, B, F, S, C);
    vn_attention_backward(nn, dqkv_t, dout_t, qkv_t, out_t, lse_t, B * S, F, C, NH, scratch);
    vn_attention_ungroup_temporal(nn, dqkv, dqkv_t, B, F, S, 3 * C, 1);

    /* Temporal, reference. */
    float *rqkv_t = zeros(nqkv), *rout_t = zeros(no), *rout = zeros(no), *rdout_t = zeros(no);
    float *rdqkv_t = zeros(nqkv), *rdqkv = vn_test_copy(prior, nqkv);
    double *rs = malloc((size_t)vn_ref_attention_scratch_floats(T) * sizeof *rs);
    ck_assert_ptr_nonnull(rs);
    vn_ref_attention_group_temporal(rqkv_t, qkv, B, F, S, 3 * C);
    ck_assert_msg(memcmp(rqkv_t, qkv_t, (size_t)nqkv * sizeof(float)) == 0, "group_temporal differs");
    vn_ref_attention_forward(rout_t, NULL, rqkv_t, B * S, F, C, NH, rs);
    vn_ref_attention_ungroup_temporal(rout, rout_t, B, F, S, C, 0);
    vn_ref_attention_group_temporal(rdout_t, dout, B, F, S, C);
    vn_ref_attention_backward(rdqkv_t, rdout_t, rqkv_t, B * S, F, C, NH, rs);
    vn_ref_attention_ungroup_temporal(rdqkv, rdqkv_t, B, F, S, 3 * C, 1);
    check_err("divided temporal out", out, rout, no, 1e-5, fw);
    for (int64_t i = 0; i < nqkv; i++) {
        dqkv[i] -= prior[i];
        rdqkv[i] -= prior[i];
    }
    check_err("divided temporal dqkv", dqkv, rdqkv, nqkv, 1e-4, bw);

    /* The one-op temporal half: in place for short sequences with 16-multiple heads on
     * the host, regrouped through the given buffers otherwise; its gradient is stored
     * over whatever dqkv held. */
    float *out_f = zeros(no), *lse_f = zeros(B * S * NH * F), *dqkv_f = vn_test_copy(prior, nqkv);
    float *qkvg = zeros(nqkv), *outg = zeros(no), *dqkvg = zeros(nqkv), *doutg = zeros(no);
    vn_attention_forward_temporal(nn, out_f, lse_f, qkv, B, F, S, C, NH, qkvg, outg, scratch);
    vn_attention_backward_temporal_set(nn, dqkv_f, dout, qkv, out_f, lse_f, B, F, S, C, NH, qkvg, outg, dqkvg, doutg,
                                       scratch);
    check_err("divided temporal one-op out", out_f, rout, no, 1e-5, fw);
    check_err("divided temporal one-op lse", lse_f, lse_t, B * S * NH * F, 1e-5, NULL);
    check_err("divided temporal one-op dqkv", dqkv_f, rdqkv, nqkv, 1e-4, bw);
    free(out_f), free(lse_f), free(dqkv_f), free(qkvg), free(outg), free(dqkvg), free(doutg);

    /* Spatial: the same core on B*F sequences of S tokens, no regrouping. */
    attn_case sp = {.B = B * F, .T = S, .C = C, .NH = NH, .qkv = qkv, .dout = dout};
    attn_compare(nn, &sp, fw, bw);

    free(qkv), free(dout), free(prior), free(qkv_t), free(out_t), free(lse_t), free(out), free(dout_t);
    free(dqkv_t), free(dqkv), free(scratch), free(rqkv_t), free(rout_t), free(rout), free(rdout_t);
    free(rdqkv_t), free(rdqkv), free(rs);
}

START_TEST(attention_divided_vs_reference)
{
    nn_env env;
    env_open(&env, 2);
    vn_test_rng r;
    vn_test_rng_seed(&r, 23);
    double fw = 0.0, bw = 0.0;
    divided_case(&env.nn, &r, 2, 4, 9, 3, 16, &fw, &bw);
    divided_case(&env.nn, &r, 1, 8, 16, 2, 32, &fw, &bw);
    divided_case(&env.nn, &r, 3, 3, 5, 1, 8, &fw, &bw);
    divided_case(&env.nn, &r, 2, 15, 3, 2, 64, &fw, &bw);
    ck_assert(vn_attention_temporal_in_place(&env.nn, 8, 64, 2) && !vn_attention_temporal_in_place(&env.nn, 3, 8, 1));
    printf("attention divided fast vs reference: forward rel err <= %.2e, backward <= %.2e\n", fw, bw);
    vn_be_close(&env.be);
}
END_TEST

START_TEST(attention_regroup_round_trip)
{
    nn_env env;
    env_open(&env, 2);
    vn_test_rng r;
    vn_test_rng_seed(&r, 5);
    int64_t B = 2, F = 3, S = 7, W = 5, n = B * F * S * W;
    float *x = randn(&r, n, 1.0f), *g = zeros(n), *back = randn(&r, n, 1.0f), *twice = zeros(n);
    vn_attention_group_temporal(&env.nn, g, x, B, F, S, W);
    /* Token (b, f, s) lands in sequence b*S + s at position f. */
    for (int64_t b = 0; b < B; b++)
        for (int64_t f = 0; f < F; f++)
            for (int64_t s = 0; s < S; s++)
                ck_assert_float_eq(g[((b * S + s) * F + f) * W + 2], x[((b * F + f) * S + s) * W + 2]);
    vn_attention_ungroup_temporal(&env.nn, back, g, B, F, S, W, 0);
    ck_assert(memcmp(back, x, (size_t)n * sizeof *x) == 0);
    vn_attention_ungroup_temporal(&env.nn, twice, g, B, F, S, W, 1);
    vn_attention_ungroup_temporal(&env.nn, twice, g, B, F, S, W, 1);
    for (int64_t i = 0; i < n; i++)
        ck_assert_float_eq(twice[i], 2.0f * x[i]);
    free(x), free(g), free(back), free(twice);
    vn_be_close(&env.be);
}
END_TEST

/* ---- attention: finite differences ------------------------------------------------- */

typedef struct attn_gc {
    attn_case *c;
    float *out;
    double *scratch;
} attn_gc;

static double attn_gc_loss(void *p)
{
    attn_gc *g = p;
    vn_ref_attention_forward(g->out, NULL, g->c->qkv, g->c->B, g->c->T, g->c->C, g->c->NH, g->scratch);
    return vn_gradcheck_dot(g->out, g->c->dout, g->c->B * g->c->T * g->c->C);
}

START_TEST(attention_finite_differences)
{
    nn_env env;
    env_open(&env, 2);
    vn_test_rng r;
    vn_test_rng_seed(&r, 99);
    static const int64_t shapes[][4] = {{2, 5, 2, 4}, {1, 3, 3, 2}, {1, 9, 1, 8}};
    double worst = 0.0;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        attn_case c;
        attn_case_init(&c, &r, shapes[i][0], shapes[i][1], shapes[i][2], shapes[i][3]);
        int64_t nq = c.B * c.T * 3 * c.C, no = c.B * c.T * c.C;
        float *out = zeros(no), *lse = zeros(c.B * c.NH * c.T), *dref = zeros(nq), *dfast = zeros(nq);
        attn_ref(&c, out, lse, dref);
        attn_fast(&env.nn, &c, out, lse, dfast);
        attn_gc ctx = {&c, out, malloc((size_t)vn_ref_attention_scratch_floats(c.T) * sizeof(double))};
        ck_assert_ptr_nonnull(ctx.scratch);
        vn_gradcheck_input in[2] = {{c.qkv, nq, dref, "qkv (reference)"}, {c.qkv, nq, dfast, "qkv (fast)"}};
        vn_gradcheck_opts o = {.max_checks = 96};
        double e = vn_gradcheck("attention", in, 2, attn_gc_loss, &ctx, &o);
        worst = e > worst ? e : worst;
        free(ctx.scratch), free(out), free(lse), free(dref), free(dfast);
        attn_case_free(&c);
    }
    printf("attention finite differences: worst rel err %.2e\n", worst);
    ck_assert_msg(worst <= 1e-3, "attention backward disagrees with finite differences (%.3e)", worst);
    vn_be_close(&env.be);
}
END_TEST

/* ---- attention: conventions -------------------------------------------------------- */

START_TEST(attention_accumulates_and_is_deterministic)
{
    nn_env one, two;
    env_open(&one, 1);
    env_open(&two, 2);
    vn_test_rng r;
    vn_test_rng_seed(&r, 7);
    attn_case c;
    attn_case_init(&c, &r, 3, 77, 2, 32);
    int64_t no = c.B * c.T * c.C, nl = c.B * c.NH * c.T, nq = 3 * no;
    float *out1 = zeros(no), *lse1 = zeros(nl), *d1 = zeros(nq);
    float *out2 = zeros(no), *lse2 = zeros(nl), *d2 = zeros(nq);
    float *out3 = zeros(no), *lse3 = zeros(nl), *d3 = zeros(nq);
    attn_fast(&two.nn, &c, out1, lse1, d1);
    attn_fast(&two.nn, &c, out2, lse2, d2);
    attn_fast(&one.nn, &c, out3, lse3, d3);
    /* Runs are bit-identical, and so is a different thread count: each output row and
     * each (b, h) gradient belongs to one work item with a fixed loop order. */
    ck_assert(memcmp(out1, out2, (size_t)no * 4) == 0 && memcmp(lse1, lse2, (size_t)nl * 4) == 0);
    ck_assert(memcmp(d1, d2, (size_t)nq * 4) == 0);
    ck_assert(memcmp(out1, out3, (size_t)no * 4) == 0 && memcmp(d1, d3, (size_t)nq * 4) == 0);

    /* Backward adds onto what is there: prior + g + g. */
    float *acc = randn(&r, nq, 1.0f), *prior = vn_test_copy(acc, nq);
    float *scratch = zeros(vn_attention_scratch_floats(c.B, c.T, c.C, c.NH, 2));
    vn_attention_backward(&two.nn, acc, c.dout, c.qkv, out1, lse1, c.B, c.T, c.C, c.NH, scratch);
    vn_attention_backward(&two.nn, acc, c.dout, c.qkv, out1, lse1, c.B, c.T, c.C, c.NH, scratch);
    for (int64_t i = 0; i < nq; i++) {
        float want = (prior[i] + d1[i]) + d1[i];
        ck_assert_msg(acc[i] == want, "dqkv[%lld] %.9g, want %.9g", (long long)i, acc[i], want);
    }
    /* A NULL gradient is a no-op that touches nothing. */
    vn_attention_backward(&two.nn, NULL, c.dout, c.qkv, out1, lse1, c.B, c.T, c.C, c.NH, scratch);
    vn_attention_backward_set(&two.nn, NULL, c.dout, c.qkv, out1, lse1, c.B, c.T, c.C, c.NH, scratch);

    /* Overwriting garbage gives what adding into zeros (d1) gives, at either thread count. */
    for (int th = 1; th <= 2; th++) {
        vn_test_fill_normal(&r, acc, nq, 1.0f);
        vn_attention_backward_set(th == 1 ? &one.nn : &two.nn, acc, c.dout, c.qkv, out1, lse1, c.B, c.T, c.C, c.NH,
                                  scratch);
        ck_assert_msg(memcmp(acc, d1, (size_t)nq * 4) == 0, "attention_backward_set differs at %d threads", th);
    }

    free(out1), free(lse1), free(d1), free(out2), free(lse2), free(d2), free(out3), free(lse3), free(d3);
    free(acc), free(prior), free(scratch);
    attn_case_free(&c);
    vn_be_close(&one.be);
    vn_be_close(&two.be);
}
END_TEST

/* ---- tubelet embedding ------------------------------------------------------------- */

typedef struct tub_gc {
    const float *inp;
    float *w, *b, *out, *patches;
    const float *g;
    int64_t s[8];
} tub_gc;

static double tub_gc_loss(void *p)
{
    tub_gc *t = p;
    vn_ref_tubelet_forward(t->out, t->patches, t->inp, t->w, t->b, t->s[0], t->s[1], t->s[2], t->s[3], t->s[4],
                           t->s[5], t->s[6], t->s[7]);
    int64_t L = (t->s[2] / t->s[5]) * (t->s[3] / t->s[6]) * (t->s[4] / t->s[6]);
    return vn_gradcheck_dot(t->out, t->g, t->s[0] * L * t->s[7]);
}

/* B, Ch, Fr, H, W, tt, p, C */
static void tubelet_case(const vn_nn *nn, vn_test_rng *r, const int64_t s[8], int gradcheck, double *fw, double *bw)
{
    int64_t B = s[0], Ch = s[1], Fr = s[2], H = s[3], W = s[4], tt = s[5], p = s[6], C = s[7];
    int64_t L = (Fr / tt) * (H / p) * (W / p), K = Ch * tt * p * p;
    float *inp = randn(r, B * Ch * Fr * H * W, 1.0f), *w = randn(r, C * K, 0.2f), *b = randn(r, C, 0.5f);
    float *dout = randn(r, B * L * C, 1.0f);
    float *out = zeros(B * L * C), *patches = zeros(B * L * K), *rout = zeros(B * L * C), *rpatches = zeros(B * L * K);
    vn_tubelet_forward(nn, out, patches, inp, w, b, B, Ch, Fr, H, W, tt, p, C);
    vn_ref_tubelet_forward(rout, rpatches, inp, w, b, B, Ch, Fr, H, W, tt, p, C);
    ck_assert_msg(memcmp(patches, rpatches, (size_t)(B * L * K) * 4) == 0, "unfolded patches differ");
    check_err("tubelet out", out, rout, B * L * C, 1e-5, fw);

    float *dw = zeros(C * K), *db = zeros(C), *rdw = zeros(C * K), *rdb = zeros(C);
    vn_tubelet_backward(nn, dw, db, dout, patches, w, B, L, K, C);
    vn_ref_tubelet_backward(rdw, rdb, dout, rpatches, B, L, K, C);
    check_err("tubelet dw", dw, rdw, C * K, 1e-4, bw);
    check_err("tubelet db", db, rdb, C, 1e-4, bw);
    /* NULL dw: only db moves, by the same amount again. */
    float *db1 = vn_test_copy(db, C);
    vn_tubelet_backward(nn, NULL, db, dout, patches, w, B, L, K, C);
    for (int64_t i = 0; i < C; i++)
        ck_assert_float_eq_tol(db[i], 2.0f * db1[i], 1e-5f * (1.0f + fabsf(db1[i])));

    if (gradcheck) {
        tub_gc ctx = {inp, w, b, out, rpatches, dout, {B, Ch, Fr, H, W, tt, p, C}};
        vn_gradcheck_input in[2] = {{w, C * K, rdw, "w"}, {b, C, rdb, "b"}};
        double e = vn_gradcheck("tubelet reference", in, 2, tub_gc_loss, &ctx, NULL);
        ck_assert_msg(e <= 1e-3, "tubelet backward disagrees with finite differences (%.3e)", e);
    }
    free(inp), free(w), free(b), free(dout), free(out), free(patches), free(rout), free(rpatches);
    free(dw), free(db), free(rdw), free(rdb), free(db1);
}

START_TEST(tubelet_vs_reference)
{
    nn_env env;
    env_open(&env, 2);
    vn_test_rng r;
    vn_test_rng_seed(&r, 31);
    static const int64_t shapes[][8] = {
        {1, 2, 2, 4, 4, 2, 2, 3},      /* tiny, for finite differences */
        {2, 3, 4, 16, 16, 2, 8, 24},   /* the presets' 2x8x8 tubelets */
        {1, 2, 6, 12, 8, 3, 4, 10},    /* non-square frames, odd tubelet depth */
        {3, 1, 1, 10, 15, 1, 5, 7},    /* image patches: tt = 1 */
    };
    double fw = 0.0, bw = 0.0;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        tubelet_case(&env.nn, &r, shapes[i], i == 0, &fw, &bw);
    printf("tubelet fast vs reference: forward rel err <= %.2e, backward <= %.2e\n", fw, bw);
    vn_be_close(&env.be);
}
END_TEST

/* ---- positional embeddings ------------------------------------------------------- */

typedef struct pos_gc {
    float *inp, *pos, *out;
    const float *g;
    int64_t B, L, C;
} pos_gc;

static double pos_gc_loss(void *p)
{
    pos_gc *t = p;
    vn_ref_posembed_forward(t->out, t->inp, t->pos, t->B, t->L, t->C);
    return vn_gradcheck_dot(t->out, t->g, t->B * t->L * t->C);
}

START_TEST(posembed_vs_reference)
{
    nn_env one, two;
    env_open(&one, 1);
    env_open(&two, 2);
    vn_test_rng r;
    vn_test_rng_seed(&r, 41);
    /* The second shape crosses the parallel threshold and the dpos block size. */
    static const int64_t shapes[][3] = {{2, 3, 5}, {16, 128, 128}, {3, 13, 100}};
    for (size_t k = 0; k < 3; k++) {
        int64_t B = shapes[k][0], L = shapes[k][1], C = shapes[k][2], n = B * L * C;
        float *inp = randn(&r, n, 1.0f), *pos = randn(&r, L * C, 1.0f), *dout = randn(&r, n, 1.0f);
        float *out = zeros(n), *rout = zeros(n);
        vn_posembed_forward(&two.nn, out, inp, pos, B, L, C);
        vn_ref_posembed_forward(rout, inp, pos, B, L, C);
        check_err("posembed out", out, rout, n, 1e-7, NULL);
        float *prior_i = randn(&r, n, 1.0f), *prior_p = randn(&r, L * C, 1.0f);
        float *di = vn_test_copy(prior_i, n), *dp = vn_test_copy(prior_p, L * C);
        float *di1 = vn_test_copy(prior_i, n), *dp1 = vn_test_copy(prior_p, L * C);
        float *rdi = zeros(n), *rdp = zeros(L * C);
        vn_posembed_backward(&two.nn, di, dp, dout, B, L, C);
        vn_posembed_backward(&one.nn, di1, dp1, dout, B, L, C);
        ck_assert(memcmp(di, di1, (size_t)n * 4) == 0 && memcmp(dp, dp1, (size_t)(L * C) * 4) == 0);
        vn_ref_posembed_backward(rdi, rdp, dout, B, L, C);
        for (int64_t i = 0; i < n; i++)
            di[i] -= prior_i[i];
        for (int64_t i = 0; i < L * C; i++)
            dp[i] -= prior_p[i];
        check_err("posembed dinp", di, rdi, n, 1e-6, NULL);
        check_err("posembed dpos", dp, rdp, L * C, 1e-5, NULL);
        if (k == 0) {
            pos_gc ctx = {inp, pos, out, dout, B, L, C};
            vn_gradcheck_input in[2] = {{inp, n, rdi, "inp"}, {pos, L * C, rdp, "pos"}};
            double e = vn_gradcheck("posembed reference", in, 2, pos_gc_loss, &ctx, NULL);
            ck_assert_msg(e <= 1e-3, "posembed backward disagrees with finite differences (%.3e)", e);
        }
        free(inp), free(pos), free(dout), free(out), free(rout), free(prior_i), free(prior_p);
        free(di), free(dp), free(di1), free(dp1), free(rdi), free(rdp);
    }
    vn_be_close(&one.be);
    vn_be_close(&two.be);
}
END_TEST

START_TEST(sincos3d_table)
{
    /* C = 12: 4 channels per axis, omega = {1, 1/100}; the row of (t, h, w) = (1, 2, 3)
     * in a 2 x 3 x 4 grid is sin, sin, cos, cos of each coordinate times omega. */
    float tab[2 * 3 * 4 * 12];
    vn_sincos3d_table(tab, 2, 3, 4, 12);
    const float *row = tab + ((1 * 3 + 2) * 4 + 3) * 12;
    const double want[12] = {sin(1.0), sin(0.01), cos(1.0), cos(0.01), sin(2.0), sin(0.02),
                             cos(2.0), cos(0.02), sin(3.0), sin(0.03), cos(3.0), cos(0.03)};
    for (int c = 0; c < 12; c++)
        ck_assert_float_eq_tol(row[c], (float)want[c], 1e-7f);

    /* C = 128: 44 channels per axis, w truncated to 40; the last column is the cosine
     * of w with the 18th frequency 10000^(-17/22). */
    int64_t Lt = 8, Lh = 4, Lw = 4, C = 128, L = Lt * Lh * Lw;
    float *t = zeros(L * C);
    vn_sincos3d_table(t, Lt, Lh, Lw, C);
    for (int64_t c = 0; c < C; c++) /* the origin: sines 0, cosines 1 */
        ck_assert_float_eq(t[c], (c % 44) < 22 ? 0.0f : 1.0f);
    int64_t l = (5 * Lh + 1) * Lw + 3;
    ck_assert_float_eq_tol(t[l * C + 127], (float)cos(3.0 * pow(10000.0, -17.0 / 22.0)), 1e-7f);
    ck_assert_float_eq_tol(t[l * C + 0], (float)sin(5.0), 1e-7f);
    ck_assert_float_eq_tol(t[l * C + 44], (float)sin(1.0), 1e-7f);
    for (int64_t i = 0; i < L; i++) {
        int64_t ti = i / (Lh * Lw), hi = (i / Lw) % Lh, wi = i % Lw;
        for (int64_t c = 0; c < C; c++) {
            float v = t[i * C + c];
            ck_assert(v >= -1.0f && v <= 1.0f);
            /* Each block of columns depends on its own axis alone. */
            int64_t axis = c / 44, base = axis == 0 ? (0 * Lh + hi) * Lw + wi
                                         : axis == 1 ? (ti * Lh + 0) * Lw + wi
                                                     : (ti * Lh + hi) * Lw + 0;
            int64_t coord = axis == 0 ? ti : axis == 1 ? hi : wi;
            if (coord == 0)
                ck_assert_float_eq(v, t[base * C + c]);
        }
        for (int64_t j = 0; j < i; j++) /* distinct tokens get distinct codes */
            ck_assert(memcmp(t + i * C, t + j * C, (size_t)C * 4) != 0);
    }
    free(t);
}
END_TEST

/* ---- attentive pooling ------------------------------------------------------------- */

typedef struct pool_gc {
    float *inp, *query, *out, *attn;
    const float *g;
    double *scratch;
    int64_t B, T, C;
} pool_gc;

static double pool_gc_loss(void *p)
{
    pool_gc *t = p;
    vn_ref_attnpool_forward(t->out, t->attn, t->inp, t->query, t->B, t->T, t->C, t->scratch);
    return vn_gradcheck_dot(t->out, t->g, t->B * t->C);
}

START_TEST(attnpool_vs_reference)
{
    nn_env one, two;
    env_open(&one, 1);
    env_open(&two, 2);
    vn_test_rng r;
    vn_test_rng_seed(&r, 53);
    static const int64_t shapes[][3] = {{2, 5, 6}, {16, 128, 128}, {3, 33, 19}};
    double fw = 0.0, bw = 0.0;
    for (size_t k = 0; k < 3; k++) {
        int64_t B = shapes[k][0], T = shapes[k][1], C = shapes[k][2], n = B * T * C;
        float *inp = randn(&r, n, 1.0f), *q = randn(&r, C, 1.0f), *dout = randn(&r, B * C, 1.0f);
        float *out = zeros(B * C), *attn = zeros(B * T), *rout = zeros(B * C), *rattn = zeros(B * T);
        double *sc = malloc((size_t)T * sizeof *sc);
        ck_assert_ptr_nonnull(sc);
        vn_attnpool_forward(&two.nn, out, attn, inp, q, B, T, C);
        vn_ref_attnpool_forward(rout, rattn, inp, q, B, T, C, sc);
        check_err("attnpool out", out, rout, B * C, 1e-5, &fw);
        check_err("attnpool attn", attn, rattn, B * T, 1e-5, &fw);
        float *di = zeros(n), *dq = zeros(C), *rdi = zeros(n), *rdq = zeros(C), *di1 = zeros(n), *dq1 = zeros(C);
        vn_attnpool_backward(&two.nn, di, dq, dout, inp, q, attn, B, T, C);
        vn_attnpool_backward(&one.nn, di1, dq1, dout, inp, q, attn, B, T, C);
        ck_assert(memcmp(di, di1, (size_t)n * 4) == 0 && memcmp(dq, dq1, (size_t)C * 4) == 0);
        vn_ref_attnpool_backward(rdi, rdq, dout, inp, q, rattn, B, T, C, sc);
        check_err("attnpool dinp", di, rdi, n, 1e-4, &bw);
        check_err("attnpool dquery", dq, rdq, C, 1e-4, &bw);
        /* Accumulation, and NULL gradients one at a time. */
        vn_attnpool_backward(&two.nn, di1, NULL, dout, inp, q, attn, B, T, C);
        vn_attnpool_backward(&two.nn, NULL, dq1, dout, inp, q, attn, B, T, C);
        for (int64_t i = 0; i < n; i++)
            ck_assert_float_eq_tol(di1[i], 2.0f * di[i], 1e-5f * (1.0f + fabsf(di[i])));
        for (int64_t i = 0; i < C; i++)
            ck_assert_float_eq_tol(dq1[i], 2.0f * dq[i], 1e-5f * (1.0f + fabsf(dq[i])));
        if (k == 0) {
            pool_gc ctx = {inp, q, out, attn, dout, sc, B, T, C};
            vn_gradcheck_input in[2] = {{inp, n, rdi, "inp"}, {q, C, rdq, "query"}};
            double e = vn_gradcheck("attnpool reference", in, 2, pool_gc_loss, &ctx, NULL);
            ck_assert_msg(e <= 1e-3, "attnpool backward disagrees with finite differences (%.3e)", e);
        }
        free(inp), free(q), free(dout), free(out), free(attn), free(rout), free(rattn), free(sc);
        free(di), free(dq), free(rdi), free(rdq), free(di1), free(dq1);
    }
    printf("attnpool fast vs reference: forward rel err <= %.2e, backward <= %.2e\n", fw, bw);
    vn_be_close(&one.be);
    vn_be_close(&two.be);
}
END_TEST

/* ---- optimiser --------------------------------------------------------------------- */

/* torch.optim.AdamW in double: the values the float implementation must reach. */
static void adamw_double(double *p, double *m, double *v, const float *g, int64_t n, double lr, double wd, double b1,
                         double b2, double eps, int64_t step)
{
    double bc1 = 1.0 - pow(b1, (double)step), bc2 = 1.0 - pow(b2, (double)step);
    for (int64_t i = 0; i < n; i++) {
        p[i] *= 1.0 - lr * wd;
        m[i] = b1 * m[i] + (1.0 - b1) * g[i];
        v[i] = b2 * v[i] + (1.0 - b2) * (double)g[i] * g[i];
        p[i] -= lr / bc1 * m[i] / (sqrt(v[i]) / sqrt(bc2) + eps);
    }
}

#define OPT_N 40000 /* two groups; crosses the parallel block size */
#define OPT_STEPS 3

START_TEST(adamw_matches_formula)
{
    nn_env env;
    env_open(&env, 2);
    vn_test_rng r;
    vn_test_rng_seed(&r, 61);
    static const double wd[2] = {0.05, 0.0}, lr[OPT_STEPS] = {1e-3, 5e-3, 2e-2};
    float *p[2], *m[2], *v[2], *g[2];
    double *pd[2], *md[2], *vd[2];
    int64_t n[2] = {OPT_N, 37};
    vn_param_group groups[2];
    for (int k = 0; k < 2; k++) {
        p[k] = randn(&r, n[k], 1.0f);
        m[k] = zeros(n[k]);
        v[k] = zeros(n[k]);
        g[k] = zeros(n[k]);
        pd[k] = calloc((size_t)n[k], sizeof(double));
        md[k] = calloc((size_t)n[k], sizeof(double));
        vd[k] = calloc((size_t)n[k], sizeof(double));
        ck_assert(pd[k] && md[k] && vd[k]);
        for (int64_t i = 0; i < n[k]; i++)
            pd[k][i] = p[k][i];
        groups[k] = (vn_param_group){p[k], g[k], m[k], v[k], n[k], (float)wd[k]};
    }
    vn_adamw_hparams hp = {0.9, 0.95, 1e-8};
    for (int s = 1; s <= OPT_STEPS; s++) {
        for (int k = 0; k < 2; k++) {
            /* Tiny gradients too, where eps matters. */
            vn_test_fill_normal(&r, g[k], n[k], s == 2 ? 1e-7f : 1.0f);
            adamw_double(pd[k], md[k], vd[k], g[k], n[k], lr[s - 1], wd[k], hp.beta1, hp.beta2, hp.eps, s);
        }
        vn_adamw_step(&env.nn, groups, 2, lr[s - 1], &hp, s);
    }
    double worst = 0.0;
    for (int k = 0; k < 2; k++)
        for (int64_t i = 0; i < n[k]; i++) {
            double e = fabs(p[k][i] - pd[k][i]) / fmax(fabs(pd[k][i]), 1e-2);
            worst = e > worst ? e : worst;
        }
    printf("adamw %d steps against the double formula: worst rel err %.2e\n", OPT_STEPS, worst);
    ck_assert_msg(worst <= 1e-6, "adamw differs from the formula by %.3e", worst);
    for (int k = 0; k < 2; k++) {
        free(p[k]), free(m[k]), free(v[k]), free(g[k]), free(pd[k]), free(md[k]), free(vd[k]);
    }
    vn_be_close(&env.be);
}
END_TEST

static const char torch_script[] =
    "import sys\n"
    "try:\n"
    "    import numpy as np, torch\n"
    "except ImportError:\n"
    "    sys.exit(77)\n"
    "d = sys.argv[1]\n"
    "torch.set_num_threads(1)\n"
    "p0 = np.load(d + '/adamw_p0.npy'); g = np.load(d + '/adamw_g.npy'); lr = np.load(d + '/adamw_lr.npy')\n"
    "ps = [torch.nn.Parameter(torch.from_numpy(p0[k].copy())) for k in range(2)]\n"
    "opt = torch.optim.AdamW([{'params': [ps[0]], 'weight_decay': 0.05}, {'params': [ps[1]], 'weight_decay': 0.0}],\n"
    "                        lr=1e-3, betas=(0.9, 0.95), eps=1e-8, foreach=False)\n"
    "for s in range(g.shape[0]):\n"
    "    for k in range(2):\n"
    "        ps[k].grad = torch.from_numpy(g[s, k].copy())\n"
    "    for pg in opt.param_groups:\n"
    "        pg['lr'] = float(lr[s])\n"
    "    opt.step()\n"
    "np.save(d + '/adamw_p_torch.npy', np.stack([p.detach().numpy() for p in ps]))\n";

/* Whether /usr/bin/python3 can import torch (Debian's python3-torch). */
static int have_torch(void)
{
    return system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") == 0;
}

START_TEST(adamw_matches_torch)
{
    nn_env env;
    env_open(&env, 2);
    vn_test_rng r;
    vn_test_rng_seed(&r, 67);
    enum { N = 1000, S = 4 };
    static const float lrs[S] = {1e-3f, 4e-3f, 2e-2f, 7e-3f};
    float *p0 = randn(&r, 2 * N, 1.0f), *g = zeros(S * 2 * N);
    for (int s = 0; s < S; s++)
        vn_test_fill_normal(&r, g + s * 2 * N, 2 * N, s == 1 ? 1e-6f : 1.0f);
    const char *dir = vn_test_tmpdir();
    char path[600], err[256], cmd[1400];
    int64_t shp[3] = {S, 2, N};
    fmt_into(path, sizeof path, "%s/adamw_p0.npy", dir);
    ck_assert_int_eq(vn_npy_write(path, VN_NPY_F32, 2, shp + 1, p0, err, sizeof err), 0);
    fmt_into(path, sizeof path, "%s/adamw_g.npy", dir);
    ck_assert_int_eq(vn_npy_write(path, VN_NPY_F32, 3, shp, g, err, sizeof err), 0);
    fmt_into(path, sizeof path, "%s/adamw_lr.npy", dir);
    ck_assert_int_eq(vn_npy_write(path, VN_NPY_F32, 1, shp, lrs, err, sizeof err), 0);
    fmt_into(path, sizeof path, "%s/adamw_torch.py", dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(torch_script, f);
    fclose(f);
    fmt_into(cmd, sizeof cmd, "/usr/bin/python3 '%s' '%s'", path, dir);
    int rc = system(cmd);
    ck_assert_msg(WIFEXITED(rc) && WEXITSTATUS(rc) == 0, "%s failed (status %d)", cmd, rc);

    float *p = vn_test_copy(p0, 2 * N), *m = zeros(2 * N), *v = zeros(2 * N);
    vn_param_group groups[2] = {{p, NULL, m, v, N, 0.05f}, {p + N, NULL, m + N, v + N, N, 0.0f}};
    vn_adamw_hparams hp = {0.9, 0.95, 1e-8};
    for (int s = 0; s < S; s++) {
        groups[0].grad = g + s * 2 * N;
        groups[1].grad = g + s * 2 * N + N;
        /* torch holds the lr as a Python double made from the float in the .npy. */
        vn_adamw_step(&env.nn, groups, 2, (double)lrs[s], &hp, s + 1);
    }
    vn_npy_array t;
    fmt_into(path, sizeof path, "%s/adamw_p_torch.npy", dir);
    ck_assert_msg(vn_npy_read(path, &t, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq((int64_t)t.nbytes, 2 * N * 4);
    const float *pt = t.data;
    double worst = 0.0;
    for (int64_t i = 0; i < 2 * N; i++) {
        double e = fabs((double)p[i] - pt[i]) / fmax(fabs((double)pt[i]), 1e-2);
        worst = e > worst ? e : worst;
    }
    printf("adamw %d steps against torch.optim.AdamW: worst rel err %.2e\n", S, worst);
    ck_assert_msg(worst <= 1e-6, "adamw differs from torch by %.3e", worst);
    vn_npy_free(&t);
    free(p0), free(g), free(p), free(m), free(v);
    vn_be_close(&env.be);
}
END_TEST

START_TEST(lr_schedule_values)
{
    vn_lr_schedule s = {.start_lr = 1e-5, .ref_lr = 1e-3, .final_lr = 1e-6, .warmup_steps = 10, .total_steps = 110};
    ck_assert_double_eq_tol(vn_lr_at(&s, 0), 1e-5, 1e-15);
    ck_assert_double_eq_tol(vn_lr_at(&s, 5), 5.05e-4, 1e-15);
    ck_assert_double_eq_tol(vn_lr_at(&s, 10), 1e-3, 1e-15);
    /* a quarter of the way: cos(pi / 4) */
    ck_assert_double_eq_tol(vn_lr_at(&s, 35), 1e-6 + 0.999e-3 * 0.5 * (1.0 + 0.70710678118654752), 1e-15);
    ck_assert_double_eq_tol(vn_lr_at(&s, 60), 5.005e-4, 1e-15);
    ck_assert_double_eq_tol(vn_lr_at(&s, 110), 1e-6, 1e-15);
    ck_assert_double_eq_tol(vn_lr_at(&s, 500), 1e-6, 1e-15);
    for (int64_t i = 11; i < 110; i++) /* strictly decreasing after the warmup */
        ck_assert(vn_lr_at(&s, i) < vn_lr_at(&s, i - 1));
}
END_TEST

START_TEST(clip_grad_norm)
{
    nn_env one, two;
    env_open(&one, 1);
    env_open(&two, 2);
    vn_test_rng r;
    vn_test_rng_seed(&r, 71);
    int64_t n0 = 100003, n1 = 17;
    float *g0 = randn(&r, n0, 0.01f), *g1 = randn(&r, n1, 3.0f);
    double want = 0.0;
    for (int64_t i = 0; i < n0; i++)
        want += (double)g0[i] * g0[i];
    for (int64_t i = 0; i < n1; i++)
        want += (double)g1[i] * g1[i];
    want = sqrt(want);
    vn_param_group gr[2] = {{NULL, g0, NULL, NULL, n0, 0.0f}, {NULL, g1, NULL, NULL, n1, 0.0f}};
    float *c0 = vn_test_copy(g0, n0), *c1 = vn_test_copy(g1, n1);

    /* Below the limit: the norm comes back and nothing changes. */
    double norm = vn_clip_grad_norm(&two.nn, gr, 2, want * 1.5);
    ck_assert_double_eq_tol(norm, want, want * 1e-12);
    ck_assert(memcmp(g0, c0, (size_t)n0 * 4) == 0 && memcmp(g1, c1, (size_t)n1 * 4) == 0);
    ck_assert(vn_clip_grad_norm(&one.nn, gr, 2, want * 1.5) == norm); /* same bits at 1 thread */

    /* Above: every gradient scaled by max_norm / (norm + 1e-6). */
    double max_norm = want / 4.0, coef = max_norm / (want + 1e-6);
    norm = vn_clip_grad_norm(&two.nn, gr, 2, max_norm);
    ck_assert_double_eq_tol(norm, want, want * 1e-12);
    for (int64_t i = 0; i < n0; i++)
        ck_assert_float_eq(g0[i], c0[i] * (float)coef);
    for (int64_t i = 0; i < n1; i++)
        ck_assert_float_eq(g1[i], c1[i] * (float)coef);
    double after = vn_clip_grad_norm(&two.nn, gr, 2, 1e30);
    ck_assert_double_eq_tol(after, max_norm, max_norm * 1e-6);
    free(g0), free(g1), free(c0), free(c1);
    vn_be_close(&one.be);
    vn_be_close(&two.be);
}
END_TEST

static Suite *nn_attention_suite(int torch)
{
    Suite *s = suite_create("nn_attention");
    TCase *tc = tcase_create("ops");
    tcase_add_test(tc, attention_joint_vs_reference);
    tcase_add_test(tc, attention_divided_vs_reference);
    tcase_add_test(tc, attention_regroup_round_trip);
    tcase_add_test(tc, attention_finite_differences);
    tcase_add_test(tc, attention_accumulates_and_is_deterministic);
    tcase_add_test(tc, tubelet_vs_reference);
    tcase_add_test(tc, posembed_vs_reference);
    tcase_add_test(tc, sincos3d_table);
    tcase_add_test(tc, attnpool_vs_reference);
    suite_add_tcase(s, tc);
    TCase *opt = tcase_create("optim");
    tcase_add_test(opt, adamw_matches_formula);
    if (torch)
        tcase_add_test(opt, adamw_matches_torch);
    tcase_add_test(opt, lr_schedule_values);
    tcase_add_test(opt, clip_grad_norm);
    suite_add_tcase(s, opt);
    return s;
}

int main(void)
{
    /* The torch comparison is one case of the suite: without torch it is left out and
     * said so, while every other case still runs. */
    int torch = have_torch();
    if (!torch) {
        printf("SKIP: adamw_matches_torch: torch not installed for /usr/bin/python3\n");
        fflush(stdout);
    }
    return vn_test_run(nn_attention_suite(torch));
}
