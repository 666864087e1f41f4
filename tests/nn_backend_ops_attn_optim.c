/*
 * The engine-ops harness, continued (see nn_backend_ops.h and nn_backend_ops.c): the
 * attention, loss and optimizer entries, and the second half of the case table.
 */
#include "nn_backend_ops_internal.h"

#include <math.h>

#include "nn/ops_ref.h"

/* ---- attention ------------------------------------------------------------------------- */

/* B, T, C, NH: T = 1, odd head sizes, T either side of 32, a long sequence. The backward
 * gets out and lse from the reference forward. */
static void c_attention(vn_nn_ops_env *e, int i)
{
    static const int64_t fixed[][4] = {{1, 1, 8, 2},   {2, 5, 12, 2},  {1, 33, 64, 4},
                                       {2, 31, 32, 1}, {3, 17, 48, 3}, {2, 197, 64, 4}};
    int64_t B, T, C, NH;
    if (i < 6)
        B = fixed[i][0], T = fixed[i][1], C = fixed[i][2], NH = fixed[i][3];
    else
        B = pick(e, 1, 3), T = pick(e, 1, 80), NH = pick(e, 1, 4), C = NH * ((int64_t)4 << pick(e, 0, 4));
    int64_t nq = B * T * 3 * C, no = B * T * C, nl = B * NH * T;
    int skip = e->c->variant && i == 1;
    float *qkv = nrm(e, nq, 1.0), *out = rnd(e, no), *lse = rnd(e, nl), *d_out = DF(out, no), *d_lse = DF(lse, nl);
    float *dout = rnd(e, no), *dqkv = rnd(e, nq), *d_dqkv = DOPT(e->c->variant && !skip, dqkv, nq);
    float *d_qkv = DF(qkv, nq);
    double *s = keep_host(e, malloc((size_t)vn_ref_attention_scratch_floats(T) * sizeof(double)));
    vn_ref_attention_forward(out, lse, qkv, B, T, C, NH, s);
    vn_nn_ops_dims(e, "BTCh", B, T, C, NH);
    if (!e->c->variant) {
        ok(e, e->nn->attention_forward(e->st, d_out, d_lse, d_qkv, B, T, C, NH));
        EXPECT("out", d_out, out, no);
        EXPECT("lse", d_lse, lse, nl);
        return;
    }
    vn_ref_attention_backward(dqkv, dout, qkv, B, T, C, NH, s);
    note(e, skip ? "dqkv=NULL" : "");
    ok(e, e->nn->attention_backward(e->st, d_dqkv, DF(dout, no), d_qkv, DF(out, no), DF(lse, nl), B, T, C, NH));
    EXPECT("dqkv", d_dqkv, dqkv, nq);
    UNCHANGED("qkv", d_qkv, qkv, nq);
}

/* [B, F*S, W] <-> [B*S, F, W]; ungroup alternately assigns and accumulates (one float
 * add per element: exact as well). */
static void c_group(vn_nn_ops_env *e, int i)
{
    static const int64_t fixed[][4] = {{1, 1, 1, 1}, {2, 3, 5, 7}, {1, 8, 16, 33}, {2, 1, 9, 64}, {2, 8, 49, 48}};
    int64_t B, F, S, W;
    if (i < 5)
        B = fixed[i][0], F = fixed[i][1], S = fixed[i][2], W = fixed[i][3];
    else
        B = pick(e, 1, 3), F = pick(e, 1, 8), S = pick(e, 1, 40), W = pick(e, 1, 100);
    int64_t n = B * F * S * W;
    int acc = i & 1;
    float *src = rnd(e, n), *dst = rnd(e, n), *d_dst = DF(dst, n), *d_src = DF(src, n);
    vn_nn_ops_dims(e, "BFSW", B, F, S, W);
    if (e->c->variant) {
        vn_ref_attention_ungroup_temporal(dst, src, B, F, S, W, acc);
        note(e, acc ? "accumulate" : "assign");
        ok(e, e->nn->ungroup_temporal(e->st, d_dst, d_src, B, F, S, W, acc));
    } else {
        vn_ref_attention_group_temporal(dst, src, B, F, S, W);
        ok(e, e->nn->group_temporal(e->st, d_dst, d_src, B, F, S, W));
    }
    EXPECT("dst", d_dst, dst, n);
}

static void c_attnpool(vn_nn_ops_env *e, int i)
{
    int64_t B, T, C;
    vn_nn_ops_btc_at(e, i, &B, &T, &C);
    float *x = nrm(e, B * T * C, 1.0), *q = nrm(e, C, 1.0), *out = rnd(e, B * C), *attn = rnd(e, B * T);
    float *d_out = DF(out, B * C), *d_attn = DF(attn, B * T), *d_x = DF(x, B * T * C), *d_q = DF(q, C);
    double *s = keep_host(e, malloc((size_t)T * sizeof(double)));
    vn_ref_attnpool_forward(out, attn, x, q, B, T, C, s);
    if (!e->c->variant) {
        ok(e, e->nn->attnpool_forward(e->st, d_out, d_attn, d_x, d_q, B, T, C));
        EXPECT("out", d_out, out, B * C);
        EXPECT("attn", d_attn, attn, B * T);
        return;
    }
    int g = grad_mask(i, 2);
    float *dout = rnd(e, B * C), *dx = rnd(e, B * T * C), *dq = rnd(e, C);
    float *d_dx = DOPT(g & 1, dx, B * T * C), *d_dq = DOPT(g & 2, dq, C);
    vn_ref_attnpool_backward(HOPT(g & 1, dx), HOPT(g & 2, dq), dout, x, q, attn, B, T, C, s);
    nulls(e, g, "dinp=NULL", "dquery=NULL", NULL);
    ok(e, e->nn->attnpool_backward(e->st, d_dx, d_dq, DF(dout, B * C), d_x, d_q, DF(attn, B * T), B, T, C));
    EXPECT("dinp", d_dx, dx, B * T * C);
    EXPECT("dquery", d_dq, dq, C);
}

/* ---- losses ---------------------------------------------------------------------------- */

/* A loss lands in one float of device memory, which starts as garbage. */
static const float garbage = 12345.0f;
#define LOSS_BUF() DF(&garbage, 1)
#define DLOSS() ((float)(0.25 + vn_rng_uniform(&e->r)))

/* bce: N logits, K = 1, targets alternately hard (0 or 1) and soft; softmax_ce: N rows of
 * K logits and a label each. */
static void c_logits_loss(vn_nn_ops_env *e, int i)
{
    int64_t N = vn_nn_ops_len_at(e, i), K = 1, ce = e->c->variant;
    if (ce)
        vn_nn_ops_nc_at(e, i, &N, &K);
    int skip = i == 3;
    float dloss = DLOSS(), *x = nrm(e, N * K, 3.0), *t = rnd(e, N);
    float *dx = rnd(e, N * K), *d_dx = DOPT(!skip, dx, N * K), *d_loss = LOSS_BUF(), loss;
    int32_t *labels = vn_nn_ops_ints(e, N, K, 0);
    for (int64_t j = 0; j < N; j++)
        t[j] = j % 2 ? (t[j] > 0.0f ? 1.0f : 0.0f) : 0.5f * (t[j] + 1.0f);
    vn_nn_ops_dims(e, "NK", N, K);
    note(e, skip ? "dlogits=NULL" : "");
    if (ce) {
        loss = vn_ref_softmax_ce_loss(HOPT(!skip, dx), x, labels, N, K, dloss);
        ok(e, e->nn->softmax_ce(e->st, d_loss, d_dx, DF(x, N * K), DI(labels, N), N, K, dloss));
    } else {
        loss = vn_ref_bce_logits_loss(HOPT(!skip, dx), x, t, N, dloss);
        ok(e, e->nn->bce_logits(e->st, d_loss, d_dx, DF(x, N), DF(t, N), N, dloss));
    }
    EXPECT("loss", d_loss, &loss, 1);
    EXPECT("dlogits", d_dx, dx, N * K);
}

/* Unit rows, as the future objective feeds it (cosine similarities over tau).
 * Without gradients the scratch must hold the similarities on return (backend_nn.h);
 * with them the host and reference leave dL/dlogits there instead, so it is only
 * checked without. */
static float *unit_rows(vn_nn_ops_env *e, int64_t N, int64_t D)
{
    float *x = nrm(e, N * D, 1.0);
    for (int64_t i = 0; i < N; i++) {
        double s = 0.0;
        for (int64_t j = 0; j < D; j++)
            s += (double)x[i * D + j] * x[i * D + j];
        for (int64_t j = 0; j < D; j++)
            x[i * D + j] = (float)(x[i * D + j] / fmax(sqrt(s), 1e-12));
    }
    return x;
}

static void c_infonce(vn_nn_ops_env *e, int i)
{
    static const int64_t fixed[][3] = {{1, 1, 1}, {3, 5, 7}, {8, 16, 32}, {33, 66, 16}, {200, 200, 32}};
    int64_t N = i < 5 ? fixed[i][0] : pick(e, 1, 40), M = i < 5 ? fixed[i][1] : pick(e, 1, 80);
    int64_t D = i < 5 ? fixed[i][2] : pick(e, 1, 64);
    int g = i % 4 == 3 ? 0 : grad_mask(i, 2);
    float tau = i & 1 ? 0.07f : 0.2f, dloss = DLOSS(), *q = unit_rows(e, N, D), *k = unit_rows(e, M, D);
    float *dq = rnd(e, N * D), *dk = rnd(e, M * D), *sim = rnd(e, N * M), *d_sim = DF(sim, N * M);
    float *d_dq = DOPT(g & 1, dq, N * D), *d_dk = DOPT(g & 2, dk, M * D), *d_loss = LOSS_BUF();
    int32_t *pos = vn_nn_ops_ints(e, N, M, 0);
    float loss = vn_ref_infonce_loss(HOPT(g & 1, dq), HOPT(g & 2, dk), q, k, pos, N, M, D, tau, dloss, sim);
    for (int64_t n = 0; n < N * M; n++) {
        double s = 0.0;
        for (int64_t j = 0; j < D; j++)
            s += (double)q[n / M * D + j] * k[n % M * D + j];
        sim[n] = (float)(s / tau);
    }
    vn_nn_ops_dims(e, "NMD", N, M, D);
    nulls(e, g, "dq=NULL", "dk=NULL", NULL);
    ok(e, e->nn->infonce(e->st, d_loss, d_dq, d_dk, DF(q, N * D), DF(k, M * D), DI(pos, N), N, M, D, tau, dloss,
                         d_sim));
    EXPECT("loss", d_loss, &loss, 1);
    EXPECT("dq", d_dq, dq, N * D);
    EXPECT("dk", d_dk, dk, M * D);
    if (!g)
        EXPECT("scratch (similarities)", d_sim, sim, N * M);
}

/* Alternately L1 and MSE over the same shapes. */
static void c_ln_target(vn_nn_ops_env *e, int i)
{
    int64_t N, C;
    vn_nn_ops_nc_at(e, i / 2, &N, &C);
    int mse = i & 1, skip = i == 4 || i == 5;
    float dloss = DLOSS(), *pred = rnd(e, N * C), *target = uni(e, N * C, -1.0, 3.0), *dp = rnd(e, N * C);
    float *scratch = hbuf(e, N * C), *d_dp = DOPT(!skip, dp, N * C), *d_loss = LOSS_BUF();
    float loss = mse ? vn_ref_mse_ln_target_loss(HOPT(!skip, dp), pred, target, N, C, dloss, scratch)
                     : vn_ref_l1_ln_target_loss(HOPT(!skip, dp), pred, target, N, C, dloss, scratch);
    vn_nn_ops_dims(e, "NC", N, C);
    note(e, mse ? "mse" : "l1");
    note(e, skip ? "dpred=NULL" : "");
    ok(e, e->nn->ln_target(e->st, mse, d_loss, d_dp, DF(pred, N * C), DF(target, N * C), N, C, dloss,
                           DF(NULL, N * C)));
    EXPECT("loss", d_loss, &loss, 1);
    EXPECT("dpred", d_dp, dp, N * C);
}

/* ---- optimizer ------------------------------------------------------------------------- */

/* nn/optim.c's float formula, with its scalars rounded as it rounds them. */
static void c_adamw(vn_nn_ops_env *e, int i)
{
    int64_t n = vn_nn_ops_len_at(e, i), step = 1 + i;
    double lr = 1e-3 * (1 + i), wd = i & 1 ? 0.0 : 0.05, b1 = 0.9, b2 = i & 2 ? 0.95 : 0.999;
    double bc1 = 1.0 - pow(b1, (double)step), bc2 = 1.0 - pow(b2, (double)step);
    vn_adamw_scalars sc = {(float)(1.0 - lr * wd), (float)(1.0 - b1), (float)b2,      (float)(1.0 - b2),
                           (float)(lr / bc1),      (float)sqrt(bc2),  (float)1e-8};
    float *p = nrm(e, n, 1.0), *g = nrm(e, n, i == 4 ? 1e-7 : 1.0), *m = nrm(e, n, 0.1), *v = rnd(e, n);
    for (int64_t j = 0; j < n; j++)
        v[j] = 0.01f * v[j] * v[j];
    float *d_p = DF(p, n), *d_g = DF(g, n), *d_m = DF(m, n), *d_v = DF(v, n);
    for (int64_t j = 0; j < n; j++) {
        float pi = p[j] * sc.decay, mi = m[j] + sc.w1 * (g[j] - m[j]), vi = v[j] * sc.b2;
        vi = vi + sc.w2 * g[j] * g[j];
        float denom = sqrtf(vi) / sc.bc2_sqrt + sc.eps;
        p[j] = pi + ((-sc.step_size) * mi) / denom, m[j] = mi, v[j] = vi;
    }
    vn_nn_ops_dims(e, "ns", n, step);
    ok(e, e->nn->adamw(e->st, d_p, d_g, d_m, d_v, n, &sc));
    EXPECT("param", d_p, p, n);
    EXPECT("m", d_m, m, n);
    EXPECT("v", d_v, v, n);
    UNCHANGED("grad", d_g, g, n);
}

/* Two calls into one accumulator that already holds a value, as two parameter groups. */
static void c_sumsq(vn_nn_ops_env *e, int i)
{
    int64_t n = vn_nn_ops_len_at(e, i), n2 = pick(e, 1, 3000);
    float *x = nrm(e, n, 1.0), *y = nrm(e, n2, 2.0);
    double acc = 10.0 * vn_rng_uniform(&e->r) * (double)n, want = acc, *d_acc = vn_nn_ops_dev(e, &acc, sizeof acc);
    for (int64_t j = 0; j < n; j++)
        want += (double)x[j] * x[j];
    for (int64_t j = 0; j < n2; j++)
        want += (double)y[j] * y[j];
    vn_nn_ops_dims(e, "nm", n, n2);
    ok(e, e->nn->sumsq(e->st, d_acc, DF(x, n), n));
    ok(e, e->nn->sumsq(e->st, d_acc, DF(y, n2), n2));
    vn_nn_ops_compare(e, "acc", d_acc, &want, 1, (int)sizeof(double), TOL);
}

/* Alternately a max_norm that clips and one that does not, which must leave x alone. */
static void c_clip_scale(vn_nn_ops_env *e, int i)
{
    int64_t n = vn_nn_ops_len_at(e, i / 2);
    float *x = nrm(e, n, 1.0), *want = dup(e, x, n), *d_x = DF(x, n);
    double ss = 0.0;
    for (int64_t j = 0; j < n; j++)
        ss += (double)x[j] * x[j];
    int clips = !(i & 1);
    double max_norm = sqrt(ss) * (clips ? 0.3 : 2.0), c = max_norm / (sqrt(ss) + 1e-6);
    for (int64_t j = 0; clips && j < n; j++)
        want[j] = x[j] * (float)c;
    vn_nn_ops_dims(e, "n", n);
    note(e, clips ? "max_norm clips" : "max_norm does not clip");
    ok(e, e->nn->clip_scale(e->st, d_x, n, vn_nn_ops_dev(e, &ss, sizeof ss), max_norm));
    EXPECT_TOL("x", d_x, want, n, clips ? TOL : 0.0);
}

static void c_ema(vn_nn_ops_env *e, int i)
{
    static const float ms[] = {0.996f, 0.5f, 0.0f, 1.0f};
    int64_t n = vn_nn_ops_len_at(e, i);
    float m = ms[i % 4], om = 1.0f - m, *t = rnd(e, n), *o = rnd(e, n), *d_t = DF(t, n);
    for (int64_t j = 0; j < n; j++)
        t[j] = m * t[j] + om * o[j];
    vn_nn_ops_dims(e, "n", n);
    note(e, i % 4 == 0 ? "m=0.996" : i % 4 == 1 ? "m=0.5" : i % 4 == 2 ? "m=0" : "m=1");
    ok(e, e->nn->ema(e->st, d_t, DF(o, n), n, m));
    EXPECT("t", d_t, t, n);
}

/* The second half of the case table, which follows nn_backend_ops.c's. */
const vn_nn_ops_case vn_nn_ops_attn_optim_cases[] = {
    NN_CASE(attention_forward, c_attention, 0, 8, 1e-7),
    NN_CASE(attention_backward, c_attention, 1, 8, 1e-7),
    NN_CASE(group_temporal, c_group, 0, 7, 0.0),
    NN_CASE(ungroup_temporal, c_group, 1, 7, 0.0),
    NN_CASE(attnpool_forward, c_attnpool, 0, N_BTC, 1e-7),
    NN_CASE(attnpool_backward, c_attnpool, 1, N_BTC, 1e-7),
    NN_CASE(bce_logits, c_logits_loss, 0, N_LENS, 1e-7),
    NN_CASE(softmax_ce, c_logits_loss, 1, N_NC, 1e-7),
    NN_CASE(infonce, c_infonce, 0, 8, 1e-7),
    NN_CASE(ln_target, c_ln_target, 0, 2 * N_NC, 1e-7),
    NN_CASE(adamw, c_adamw, 0, N_LENS, -1.0),
    NN_CASE(sumsq, c_sumsq, 0, N_LENS, 1e-14),
    NN_CASE(clip_scale, c_clip_scale, 0, 2 * N_LENS, 1e-7),
    NN_CASE(ema, c_ema, 0, N_LENS, 1e-7),
};
const int vn_nn_ops_n_attn_optim_cases =
    (int)(sizeof vn_nn_ops_attn_optim_cases / sizeof vn_nn_ops_attn_optim_cases[0]);
