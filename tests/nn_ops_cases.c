/* nn_ops_cases.c: setups and runners of the ops under test (nn_ops_cases.h). */
#include "nn_ops_cases.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/ops_ref.h"

static float *alloc_in(op_case *c, vn_test_rng *r, const char *name, int64_t n, float scale)
{
    int i = c->n_in++;
    c->in[i] = vn_test_zeros(n);
    ck_assert_ptr_nonnull(c->in[i]);
    c->in_n[i] = n;
    c->in_name[i] = name;
    vn_test_fill_normal(r, c->in[i], n, scale);
    return c->in[i];
}

static void alloc_out(op_case *c, int64_t n)
{
    c->out = vn_test_zeros(n);
    ck_assert_ptr_nonnull(c->out);
    c->out_n = n;
}

static float *alloc_save(op_case *c, int k, int64_t n)
{
    c->save[k] = vn_test_zeros(n);
    ck_assert_ptr_nonnull(c->save[k]);
    return c->save[k];
}

void free_case(op_case *c)
{
    for (int i = 0; i < c->n_in; i++)
        free(c->in[i]);
    free(c->aux);
    free(c->labels);
    free(c->save[0]);
    free(c->save[1]);
    free(c->out);
    memset(c, 0, sizeof *c);
}

static int64_t pick(vn_test_rng *r, int size, int64_t tiny, int64_t lo, int64_t hi, int64_t large)
{
    return size == SZ_TINY ? tiny : size == SZ_LARGE ? large : vn_test_randint(r, lo, hi);
}

/* ---- linear ----------------------------------------------------------------------- */
static void linear_setup(op_case *c, vn_test_rng *r, int size)
{
    c->d[0] = pick(r, size, 3, 1, 40, 300);  /* N */
    c->d[1] = pick(r, size, 5, 1, 50, 97);   /* IC */
    c->d[2] = pick(r, size, 4, 1, 50, 131);  /* OC */
    alloc_in(c, r, "inp", c->d[0] * c->d[1], 1.0f);
    alloc_in(c, r, "w", c->d[2] * c->d[1], 0.5f);
    alloc_in(c, r, "b", c->d[2], 0.5f);
    alloc_out(c, c->d[0] * c->d[2]);
}
static void linear_fwd(const vn_nn *nn, op_case *c)
{
    if (nn)
        vn_linear_forward(nn, c->out, c->in[0], c->in[1], c->in[2], c->d[0], c->d[1], c->d[2]);
    else
        vn_ref_linear_forward(c->out, c->in[0], c->in[1], c->in[2], c->d[0], c->d[1], c->d[2]);
}
static void linear_bwd(const vn_nn *nn, op_case *c, float *const *g, const float *dout)
{
    if (nn)
        vn_linear_backward(nn, g[0], g[1], g[2], dout, c->in[0], c->in[1], c->d[0], c->d[1], c->d[2]);
    else
        vn_ref_linear_backward(g[0], g[1], g[2], dout, c->in[0], c->in[1], c->d[0], c->d[1], c->d[2]);
}

/* ---- layernorm -------------------------------------------------------------------- */
static void layernorm_setup(op_case *c, vn_test_rng *r, int size)
{
    c->d[0] = pick(r, size, 3, 1, 40, 257);
    c->d[1] = pick(r, size, 7, 2, 200, 193);
    float *x = alloc_in(c, r, "inp", c->d[0] * c->d[1], 1.5f);
    for (int64_t i = 0; i < c->in_n[0]; i++)
        x[i] += 0.7f; /* a non-zero mean, so that the mean subtraction is exercised */
    float *w = alloc_in(c, r, "w", c->d[1], 0.3f);
    for (int64_t i = 0; i < c->d[1]; i++)
        w[i] += 1.0f;
    alloc_in(c, r, "b", c->d[1], 0.3f);
    alloc_save(c, 0, c->d[0]);
    alloc_save(c, 1, c->d[0]);
    alloc_out(c, c->d[0] * c->d[1]);
}
static void layernorm_fwd(const vn_nn *nn, op_case *c)
{
    if (nn)
        vn_layernorm_forward(nn, c->out, c->save[0], c->save[1], c->in[0], c->in[1], c->in[2], c->d[0], c->d[1]);
    else
        vn_ref_layernorm_forward(c->out, c->save[0], c->save[1], c->in[0], c->in[1], c->in[2], c->d[0], c->d[1]);
}
static void layernorm_bwd(const vn_nn *nn, op_case *c, float *const *g, const float *dout)
{
    layernorm_fwd(nn, c);
    if (nn)
        vn_layernorm_backward(nn, g[0], g[1], g[2], dout, c->in[0], c->in[1], c->save[0], c->save[1], c->d[0],
                              c->d[1]);
    else
        vn_ref_layernorm_backward(g[0], g[1], g[2], dout, c->in[0], c->in[1], c->save[0], c->save[1], c->d[0],
                                  c->d[1]);
}

/* ---- GELU ------------------------------------------------------------------------- */
static void gelu_setup(op_case *c, vn_test_rng *r, int size)
{
    c->d[0] = pick(r, size, 13, 1, 5000, 40001);
    float *x = alloc_in(c, r, "inp", c->d[0], 1.0f);
    /* Cover the tails, where tanh saturates, as well as the bend near zero. */
    vn_test_fill_uniform(r, x, c->d[0], -6.0f, 6.0f);
    alloc_out(c, c->d[0]);
}
static void gelu_fwd(const vn_nn *nn, op_case *c)
{
    if (nn)
        vn_gelu_forward(nn, c->out, c->in[0], c->d[0]);
    else
        vn_ref_gelu_forward(c->out, c->in[0], c->d[0]);
}
static void gelu_bwd(const vn_nn *nn, op_case *c, float *const *g, const float *dout)
{
    if (nn)
        vn_gelu_backward(nn, g[0], c->in[0], dout, c->d[0]);
    else if (g[0])
        vn_ref_gelu_backward(g[0], c->in[0], dout, c->d[0]);
}

/* ---- softmax ---------------------------------------------------------------------- */
static void softmax_setup(op_case *c, vn_test_rng *r, int size)
{
    c->d[0] = pick(r, size, 3, 1, 30, 129);
    c->d[1] = pick(r, size, 6, 1, 300, 301);
    alloc_in(c, r, "inp", c->d[0] * c->d[1], 2.0f);
    alloc_out(c, c->d[0] * c->d[1]);
}
static void softmax_fwd(const vn_nn *nn, op_case *c)
{
    if (nn)
        vn_softmax_forward(nn, c->out, c->in[0], c->d[0], c->d[1]);
    else
        vn_ref_softmax_forward(c->out, c->in[0], c->d[0], c->d[1]);
}
static void softmax_bwd(const vn_nn *nn, op_case *c, float *const *g, const float *dout)
{
    softmax_fwd(nn, c);
    if (nn)
        vn_softmax_backward(nn, g[0], c->out, dout, c->d[0], c->d[1]);
    else if (g[0])
        vn_ref_softmax_backward(g[0], c->out, dout, c->d[0], c->d[1]);
}

/* ---- residual --------------------------------------------------------------------- */
static void residual_setup(op_case *c, vn_test_rng *r, int size)
{
    c->d[0] = pick(r, size, 11, 1, 5000, 40003);
    alloc_in(c, r, "a", c->d[0], 1.0f);
    alloc_in(c, r, "b", c->d[0], 1.0f);
    alloc_out(c, c->d[0]);
}
static void residual_fwd(const vn_nn *nn, op_case *c)
{
    if (nn)
        vn_residual_forward(nn, c->out, c->in[0], c->in[1], c->d[0]);
    else
        vn_ref_residual_forward(c->out, c->in[0], c->in[1], c->d[0]);
}
static void residual_bwd(const vn_nn *nn, op_case *c, float *const *g, const float *dout)
{
    if (nn)
        vn_residual_backward(nn, g[0], g[1], dout, c->d[0]);
    else
        vn_ref_residual_backward(g[0], g[1], dout, c->d[0]);
}

/* ---- mean pooling ----------------------------------------------------------------- */
static void meanpool_setup(op_case *c, vn_test_rng *r, int size)
{
    c->d[0] = pick(r, size, 2, 1, 5, 3);
    c->d[1] = pick(r, size, 3, 1, 40, 197);
    c->d[2] = pick(r, size, 5, 1, 150, 67);
    alloc_in(c, r, "inp", c->d[0] * c->d[1] * c->d[2], 1.0f);
    alloc_out(c, c->d[0] * c->d[2]);
}
static void meanpool_fwd(const vn_nn *nn, op_case *c)
{
    if (nn)
        vn_meanpool_forward(nn, c->out, c->in[0], c->d[0], c->d[1], c->d[2]);
    else
        vn_ref_meanpool_forward(c->out, c->in[0], c->d[0], c->d[1], c->d[2]);
}
static void meanpool_bwd(const vn_nn *nn, op_case *c, float *const *g, const float *dout)
{
    if (nn)
        vn_meanpool_backward(nn, g[0], dout, c->d[0], c->d[1], c->d[2]);
    else if (g[0])
        vn_ref_meanpool_backward(g[0], dout, c->d[0], c->d[1], c->d[2]);
}

/* ---- BCE with logits -------------------------------------------------------------- */
static void bce_setup(op_case *c, vn_test_rng *r, int size)
{
    c->d[0] = pick(r, size, 9, 1, 3000, 40000);
    /* Logits up to about +-30: the naive log(sigmoid) would give -inf there. */
    float *x = alloc_in(c, r, "logits", c->d[0], 3.0f);
    if (c->d[0] > 2) {
        x[0] = 30.0f;
        x[1] = -30.0f;
    }
    c->aux = vn_test_zeros(c->d[0]);
    ck_assert_ptr_nonnull(c->aux);
    for (int64_t i = 0; i < c->d[0]; i++)
        c->aux[i] = (i % 2) ? (float)vn_test_uniform(r) : (float)(vn_test_uniform(r) < 0.5);
    alloc_out(c, 1);
}
static void bce_fwd(const vn_nn *nn, op_case *c)
{
    if (nn) {
        c->out[0] = vn_bce_logits_loss(nn, NULL, c->in[0], c->aux, c->d[0], 1.0f);
        return;
    }
    c->loss64 = vn_ref_bce_logits_loss_f64(NULL, c->in[0], c->aux, c->d[0], 1.0f);
    c->out[0] = (float)c->loss64;
}
static void bce_bwd(const vn_nn *nn, op_case *c, float *const *g, const float *dout)
{
    c->out[0] = nn ? vn_bce_logits_loss(nn, g[0], c->in[0], c->aux, c->d[0], dout[0])
                   : vn_ref_bce_logits_loss(g[0], c->in[0], c->aux, c->d[0], dout[0]);
}

/* ---- softmax cross-entropy -------------------------------------------------------- */
static void labels_setup(op_case *c, vn_test_rng *r, int64_t n, int64_t k)
{
    c->labels = malloc((size_t)n * sizeof *c->labels);
    ck_assert_ptr_nonnull(c->labels);
    for (int64_t i = 0; i < n; i++)
        c->labels[i] = (int32_t)vn_test_randint(r, 0, k - 1);
}
static void ce_setup(op_case *c, vn_test_rng *r, int size)
{
    c->d[0] = pick(r, size, 4, 1, 40, 300);
    c->d[1] = pick(r, size, 5, 1, 100, 131);
    alloc_in(c, r, "logits", c->d[0] * c->d[1], 2.0f);
    labels_setup(c, r, c->d[0], c->d[1]);
    alloc_out(c, 1);
}
static void ce_fwd(const vn_nn *nn, op_case *c)
{
    if (nn) {
        c->out[0] = vn_softmax_ce_loss(nn, NULL, c->in[0], c->labels, c->d[0], c->d[1], 1.0f);
        return;
    }
    c->loss64 = vn_ref_softmax_ce_loss_f64(NULL, c->in[0], c->labels, c->d[0], c->d[1], 1.0f);
    c->out[0] = (float)c->loss64;
}
static void ce_bwd(const vn_nn *nn, op_case *c, float *const *g, const float *dout)
{
    c->out[0] = nn ? vn_softmax_ce_loss(nn, g[0], c->in[0], c->labels, c->d[0], c->d[1], dout[0])
                   : vn_ref_softmax_ce_loss(g[0], c->in[0], c->labels, c->d[0], c->d[1], dout[0]);
}

/* ---- InfoNCE ---------------------------------------------------------------------- */
static void infonce_setup(op_case *c, vn_test_rng *r, int size)
{
    c->d[0] = pick(r, size, 3, 1, 40, 200);  /* N queries */
    c->d[1] = pick(r, size, 4, 1, 50, 220);  /* M keys */
    c->d[2] = pick(r, size, 5, 1, 40, 33);   /* D */
    c->tau = size == SZ_TINY ? 0.2f : 0.07f;
    float scale = 1.0f / sqrtf((float)c->d[2]); /* unit-ish norms, as after L2 normalisation */
    alloc_in(c, r, "q", c->d[0] * c->d[2], scale);
    alloc_in(c, r, "k", c->d[1] * c->d[2], scale);
    labels_setup(c, r, c->d[0], c->d[1]);
    alloc_save(c, 0, c->d[0] * c->d[1]);
    alloc_out(c, 1);
}
static void infonce_run(const vn_nn *nn, op_case *c, float *dq, float *dk, float dloss)
{
    c->out[0] = nn ? vn_infonce_loss(nn, dq, dk, c->in[0], c->in[1], c->labels, c->d[0], c->d[1], c->d[2], c->tau,
                                     dloss, c->save[0])
                   : vn_ref_infonce_loss(dq, dk, c->in[0], c->in[1], c->labels, c->d[0], c->d[1], c->d[2], c->tau,
                                         dloss, c->save[0]);
}
static void infonce_fwd(const vn_nn *nn, op_case *c)
{
    if (nn) {
        infonce_run(nn, c, NULL, NULL, 1.0f);
        return;
    }
    c->loss64 = vn_ref_infonce_loss_f64(NULL, NULL, c->in[0], c->in[1], c->labels, c->d[0], c->d[1], c->d[2],
                                        c->tau, 1.0f, c->save[0]);
    c->out[0] = (float)c->loss64;
}
static void infonce_bwd(const vn_nn *nn, op_case *c, float *const *g, const float *dout)
{
    infonce_run(nn, c, g[0], g[1], dout[0]);
}

/* ---- L1 and MSE against LayerNorm'd targets --------------------------------------- */
static void lnt_setup(op_case *c, vn_test_rng *r, int size)
{
    c->d[0] = pick(r, size, 3, 1, 40, 257);
    c->d[1] = pick(r, size, 6, 2, 200, 193);
    int64_t n = c->d[0] * c->d[1];
    float *p = alloc_in(c, r, "pred", n, 1.0f);
    c->aux = vn_test_zeros(n);
    ck_assert_ptr_nonnull(c->aux);
    vn_test_fill_normal(r, c->aux, n, 2.0f);
    /* Keep pred away from |pred - LN(target)| = 0, where L1 has a kink: finite
     * differences straddling it, or float noise flipping its sign, are not errors. */
    float *t = vn_test_zeros(n), *m = vn_test_zeros(c->d[0]), *rs = vn_test_zeros(c->d[0]);
    ck_assert(t && m && rs);
    vn_ref_layernorm_forward(t, m, rs, c->aux, NULL, NULL, c->d[0], c->d[1]);
    for (int64_t i = 0; i < n; i++)
        if (fabsf(p[i] - t[i]) < 0.05f)
            p[i] = t[i] + (p[i] >= t[i] ? 0.05f : -0.05f);
    free(t);
    free(m);
    free(rs);
    alloc_save(c, 0, n);
    alloc_out(c, 1);
}
static void l1_fwd(const vn_nn *nn, op_case *c)
{
    if (nn) {
        c->out[0] = vn_l1_ln_target_loss(nn, NULL, c->in[0], c->aux, c->d[0], c->d[1], 1.0f, c->save[0]);
        return;
    }
    c->loss64 = vn_ref_l1_ln_target_loss_f64(NULL, c->in[0], c->aux, c->d[0], c->d[1], 1.0f, c->save[0]);
    c->out[0] = (float)c->loss64;
}
static void l1_bwd(const vn_nn *nn, op_case *c, float *const *g, const float *dout)
{
    c->out[0] = nn ? vn_l1_ln_target_loss(nn, g[0], c->in[0], c->aux, c->d[0], c->d[1], dout[0], c->save[0])
                   : vn_ref_l1_ln_target_loss(g[0], c->in[0], c->aux, c->d[0], c->d[1], dout[0], c->save[0]);
}
static void mse_fwd(const vn_nn *nn, op_case *c)
{
    if (nn) {
        c->out[0] = vn_mse_ln_target_loss(nn, NULL, c->in[0], c->aux, c->d[0], c->d[1], 1.0f, c->save[0]);
        return;
    }
    c->loss64 = vn_ref_mse_ln_target_loss_f64(NULL, c->in[0], c->aux, c->d[0], c->d[1], 1.0f, c->save[0]);
    c->out[0] = (float)c->loss64;
}
static void mse_bwd(const vn_nn *nn, op_case *c, float *const *g, const float *dout)
{
    c->out[0] = nn ? vn_mse_ln_target_loss(nn, g[0], c->in[0], c->aux, c->d[0], c->d[1], dout[0], c->save[0])
                   : vn_ref_mse_ln_target_loss(g[0], c->in[0], c->aux, c->d[0], c->d[1], dout[0], c->save[0]);
}


const op_def OPS[] = {
    {"linear", linear_setup, linear_fwd, linear_bwd, 0, 0},
    {"layernorm", layernorm_setup, layernorm_fwd, layernorm_bwd, 1, 0},
    {"gelu", gelu_setup, gelu_fwd, gelu_bwd, 1, 0},
    {"softmax", softmax_setup, softmax_fwd, softmax_bwd, 1, 0},
    {"residual", residual_setup, residual_fwd, residual_bwd, 1, 0},
    {"meanpool", meanpool_setup, meanpool_fwd, meanpool_bwd, 1, 0},
    {"bce_logits", bce_setup, bce_fwd, bce_bwd, 1, 1},
    {"softmax_ce", ce_setup, ce_fwd, ce_bwd, 1, 1},
    {"infonce", infonce_setup, infonce_fwd, infonce_bwd, 0, 1},
    {"l1_ln_target", lnt_setup, l1_fwd, l1_bwd, 1, 1},
    {"mse_ln_target", lnt_setup, mse_fwd, mse_bwd, 1, 1},
};
const int N_OPS = (int)(sizeof OPS / sizeof OPS[0]);
