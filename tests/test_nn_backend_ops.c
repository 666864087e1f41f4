/*
 * The engine table on the guarded device stand-in (device_standin.h), which is what
 * runs it on machines without a GPU:
 *   - nn_backend_ops: the harness (nn_backend_ops.c), every table entry against the
 *     plain-C reference, called directly;
 *   - nn_engine_dispatch: the src/nn functions on a device vn_nn (vn_nn_init on the
 *     stand-in) next to the same functions on a host vn_nn (cpu backend). Each call
 *     must reach the table (the stand-in counts its entries) and give the host's bits,
 *     since the stand-in runs the host implementations; and because its memory is
 *     locked outside its own entries, a passing run also says the engine never
 *     touched device memory from the host.
 */
#include "device_standin.h"
#include "nn_backend_ops.h"

#include <math.h>
#include <signal.h>
#include <string.h>

#include "core/rng.h"
#include "nn/ops.h"
#include "nn/optim.h"

#define THREADS 2

/* ---- a host vn_nn and a device vn_nn side by side -------------------------------------- */

#define MAX_PAIRS 48

typedef struct twin {
    vn_be dbe, hbe;
    vn_nn dnn, hnn;
    vn_rng r;
    void *h[MAX_PAIRS], *d[MAX_PAIRS];
    int n;
} twin;

/* One buffer on each side, same contents. */
typedef struct fpair {
    float *h, *d;
    int64_t n;
} fpair;
typedef struct ipair {
    int32_t *h, *d;
} ipair;

static void tw_open(twin *w, uint64_t seed)
{
    memset(w, 0, sizeof *w);
    const vn_backend_config cfg = {.n_threads = THREADS, .deterministic = 1, .device = 0, .seed = 1};
    VN_ASSERT_OK(vn_standin_open(&w->dbe, THREADS));
    VN_ASSERT_OK(vn_be_open(&w->hbe, VN_BACKEND_CPU, &cfg));
    VN_ASSERT_OK(vn_nn_init(&w->dnn, &w->dbe, THREADS, 1));
    VN_ASSERT_OK(vn_nn_init(&w->hnn, &w->hbe, THREADS, 1));
    ck_assert_msg(w->dnn.dev != NULL && w->dnn.dev == w->dbe.table->nn, "vn_nn_init did not take the engine table");
    ck_assert_ptr_null(w->hnn.dev);
    vn_rng_seed(&w->r, seed, 0);
}

static void tw_close(twin *w)
{
    for (int i = 0; i < w->n; i++) {
        free(w->h[i]);
        vn_nn_free(&w->dnn, w->d[i]);
    }
    vn_nn_fini(&w->dnn);
    vn_nn_fini(&w->hnn);
    ck_assert_int_eq(vn_standin_counters(&w->dbe).live_buffers, 0);
    vn_be_close(&w->dbe);
    vn_be_close(&w->hbe);
}

static void *tw_pair(twin *w, const void *host, size_t bytes, void **dev)
{
    ck_assert_int_lt(w->n, MAX_PAIRS);
    void *h = malloc(bytes ? bytes : 1), *d = vn_nn_alloc(&w->dnn, (int64_t)(bytes + 3) / 4);
    ck_assert_ptr_nonnull(h);
    ck_assert_ptr_nonnull(d);
    memcpy(h, host, bytes);
    VN_ASSERT_OK(vn_nn_upload(&w->dnn, d, host, bytes));
    w->h[w->n] = h, w->d[w->n++] = d;
    *dev = d;
    return h;
}

static fpair tw_rand(twin *w, int64_t n, double scale)
{
    float *x = malloc((size_t)(n > 0 ? n : 1) * sizeof *x);
    ck_assert_ptr_nonnull(x);
    for (int64_t i = 0; i < n; i++)
        x[i] = (float)(scale * vn_rng_normal(&w->r));
    fpair p = {.n = n};
    void *d;
    p.h = tw_pair(w, x, (size_t)n * sizeof *x, &d);
    p.d = d;
    free(x);
    return p;
}

static ipair tw_ints(twin *w, const int32_t *v, int64_t n)
{
    void *d;
    ipair p;
    p.h = tw_pair(w, v, (size_t)n * sizeof *v, &d);
    p.d = d;
    return p;
}

/* The device result must have the host result's bits. */
static void same(twin *w, const char *what, fpair p)
{
    float *got = malloc((size_t)(p.n > 0 ? p.n : 1) * sizeof *got);
    ck_assert_ptr_nonnull(got);
    VN_ASSERT_OK(vn_nn_download(&w->dnn, got, p.d, (size_t)p.n * sizeof *got));
    int64_t i = 0;
    while (i < p.n && memcmp(&got[i], &p.h[i], sizeof *got) == 0)
        i++;
    ck_assert_msg(i == p.n, "%s: the device vn_nn differs from the host one at %lld of %lld: %a vs %a", what,
                  (long long)i, (long long)p.n, i < p.n ? (double)got[i] : 0.0, i < p.n ? (double)p.h[i] : 0.0);
    free(got);
}

/*
 * Runs call on the host vn_nn, then on the device one: NN is the side's vn_nn and
 * S(p) its buffer. The device side must have made exactly n_nn engine-table and
 * n_base base-table calls, and neither side may record a failure.
 */
#define NN nn_
#define S(p) (side_ ? (p).d : (p).h)
#define BOTH(w, n_nn, n_base, call)                                                                       \
    do {                                                                                                  \
        for (int side_ = 0; side_ < 2; side_++) {                                                         \
            const vn_nn *nn_ = side_ ? &(w)->dnn : &(w)->hnn;                                             \
            vn_standin_counts c0_ = vn_standin_counters(&(w)->dbe);                                       \
            call;                                                                                         \
            vn_status s_ = vn_nn_take_error();                                                            \
            ck_assert_msg(s_ == VN_OK, "%s on the %s: %s", #call, side_ ? "device" : "host", vn_last_error()); \
            vn_standin_counts c1_ = vn_standin_counters(&(w)->dbe);                                       \
            uint64_t want_nn_ = side_ ? (uint64_t)(n_nn) : 0, want_base_ = side_ ? (uint64_t)(n_base) : 0; \
            ck_assert_msg(c1_.nn_calls - c0_.nn_calls == want_nn_ &&                                      \
                              c1_.base_calls - c0_.base_calls == want_base_,                              \
                          "%s on the %s: %llu engine and %llu base calls, expected %llu and %llu", #call, \
                          side_ ? "device" : "host", (unsigned long long)(c1_.nn_calls - c0_.nn_calls),   \
                          (unsigned long long)(c1_.base_calls - c0_.base_calls),                          \
                          (unsigned long long)want_nn_, (unsigned long long)want_base_);                 \
        }                                                                                                 \
    } while (0)

/* ---- nn_engine_dispatch ------------------------------------------------------------------ */

START_TEST(dense_ops)
{
    twin w;
    tw_open(&w, 1);
    const int64_t N = 300, C = 130, OC = 70; /* past the parallel thresholds */
    fpair x = tw_rand(&w, N * C, 2.0), g = tw_rand(&w, C, 1.0), b = tw_rand(&w, C, 1.0);
    fpair out = tw_rand(&w, N * C, 1.0), mean = tw_rand(&w, N, 1.0), rstd = tw_rand(&w, N, 1.0);
    fpair dout = tw_rand(&w, N * C, 1.0), dx = tw_rand(&w, N * C, 1.0), dg = tw_rand(&w, C, 1.0);
    fpair db = tw_rand(&w, C, 1.0);
    BOTH(&w, 1, 0, vn_layernorm_forward(NN, S(out), S(mean), S(rstd), S(x), S(g), S(b), N, C));
    BOTH(&w, 1, 0, vn_layernorm_backward(NN, S(dx), S(dg), S(db), S(dout), S(x), S(g), S(mean), S(rstd), N, C));
    same(&w, "layernorm out", out), same(&w, "layernorm rstd", rstd), same(&w, "layernorm dinp", dx);
    same(&w, "layernorm dw", dg), same(&w, "layernorm db", db);

    BOTH(&w, 1, 0, vn_gelu_forward(NN, S(out), S(x), N * C));
    BOTH(&w, 1, 0, vn_gelu_backward(NN, S(dx), S(x), S(dout), N * C));
    same(&w, "gelu out", out), same(&w, "gelu dinp", dx);
    BOTH(&w, 1, 0, vn_softmax_forward(NN, S(out), S(x), N, C));
    BOTH(&w, 1, 0, vn_softmax_backward(NN, S(dx), S(out), S(dout), N, C));
    same(&w, "softmax out", out), same(&w, "softmax dinp", dx);
    /* The residual is the base table's add and two axpys. */
    BOTH(&w, 0, 1, vn_residual_forward(NN, S(out), S(x), S(dout), N * C));
    BOTH(&w, 0, 2, vn_residual_backward(NN, S(dx), S(x), S(dout), N * C));
    same(&w, "residual out", out), same(&w, "residual da", dx), same(&w, "residual db", x);

    fpair lw = tw_rand(&w, OC * C, 0.1), lb = tw_rand(&w, OC, 0.1), lo = tw_rand(&w, N * OC, 1.0);
    fpair ldw = tw_rand(&w, OC * C, 1.0), ldb = tw_rand(&w, OC, 1.0);
    BOTH(&w, 0, 1, vn_linear_forward(NN, S(lo), S(x), S(lw), S(lb), N, C, OC));
    BOTH(&w, 1, 2, vn_linear_backward(NN, S(dx), S(ldw), S(ldb), S(lo), S(x), S(lw), N, C, OC));
    same(&w, "linear out", lo), same(&w, "linear dinp", dx), same(&w, "linear dw", ldw);
    same(&w, "linear db", ldb);

    BOTH(&w, 1, 0, vn_meanpool_forward(NN, S(out), S(x), 3, 100, C));
    BOTH(&w, 1, 0, vn_meanpool_backward(NN, S(dx), S(dout), 3, 100, C));
    same(&w, "meanpool out", out), same(&w, "meanpool dinp", dx);
    BOTH(&w, 1, 0, vn_l2norm_forward(NN, S(out), S(mean), S(x), N, C));
    BOTH(&w, 1, 0, vn_l2norm_backward(NN, S(dx), S(dout), S(out), S(mean), N, C));
    same(&w, "l2norm y", out), same(&w, "l2norm norm", mean), same(&w, "l2norm dx", dx);
    BOTH(&w, 1, 0, vn_bias_grad(NN, S(db), S(dout), N, C));
    same(&w, "bias_grad", db);
    tw_close(&w);
}
END_TEST

START_TEST(attention_ops)
{
    twin w;
    tw_open(&w, 2);
    const int64_t B = 2, F = 4, S_ = 49, C = 64, NH = 4, T = F * S_;
    fpair qkv = tw_rand(&w, B * T * 3 * C, 1.0), out = tw_rand(&w, B * T * C, 1.0), lse = tw_rand(&w, B * NH * T, 1.0);
    fpair dout = tw_rand(&w, B * T * C, 1.0), dqkv = tw_rand(&w, B * T * 3 * C, 1.0);
    /* The host kernel's scratch; a device has its own. */
    fpair scratch = {malloc((size_t)vn_attention_scratch_floats(B, T, C, NH, THREADS) * sizeof(float)), NULL, 0};
    BOTH(&w, 1, 0, vn_attention_forward(NN, S(out), S(lse), S(qkv), B, T, C, NH, S(scratch)));
    BOTH(&w, 1, 0, vn_attention_backward(NN, S(dqkv), S(dout), S(qkv), S(out), S(lse), B, T, C, NH, S(scratch)));
    same(&w, "attention out", out), same(&w, "attention lse", lse), same(&w, "attention dqkv", dqkv);
    BOTH(&w, 1, 0, vn_attention_group_temporal(NN, S(dqkv), S(qkv), B, F, S_, 3 * C));
    BOTH(&w, 1, 0, vn_attention_ungroup_temporal(NN, S(qkv), S(dqkv), B, F, S_, 3 * C, 1));
    same(&w, "group_temporal", dqkv), same(&w, "ungroup_temporal", qkv);
    fpair query = tw_rand(&w, C, 1.0), pooled = tw_rand(&w, B * C, 1.0), attn = tw_rand(&w, B * T, 1.0);
    fpair dquery = tw_rand(&w, C, 1.0);
    BOTH(&w, 1, 0, vn_attnpool_forward(NN, S(pooled), S(attn), S(out), S(query), B, T, C));
    BOTH(&w, 1, 0, vn_attnpool_backward(NN, S(dout), S(dquery), S(pooled), S(out), S(query), S(attn), B, T, C));
    same(&w, "attnpool out", pooled), same(&w, "attnpool attn", attn), same(&w, "attnpool dinp", dout);
    same(&w, "attnpool dquery", dquery);
    free(scratch.h);
    tw_close(&w);
}
END_TEST

START_TEST(embedding_and_memory_ops)
{
    twin w;
    tw_open(&w, 3);
    const int64_t B = 2, Ch = 3, Fr = 8, H = 32, W = 32, tt = 2, p = 8, C = 96;
    const int64_t S_ = (H / p) * (W / p), L = (Fr / tt) * S_, K = Ch * tt * p * p, nk = 5;
    fpair clips = tw_rand(&w, B * Ch * Fr * H * W, 1.0), patches = tw_rand(&w, B * L * K, 1.0);
    fpair tw_ = tw_rand(&w, C * K, 0.05), tb = tw_rand(&w, C, 0.1), tok = tw_rand(&w, B * L * C, 1.0);
    fpair dw = tw_rand(&w, C * K, 1.0), db = tw_rand(&w, C, 1.0), pos = tw_rand(&w, L * C, 1.0);
    fpair dpos = tw_rand(&w, L * C, 1.0);
    BOTH(&w, 1, 1, vn_tubelet_forward(NN, S(tok), S(patches), S(clips), S(tw_), S(tb), B, Ch, Fr, H, W, tt, p, C));
    BOTH(&w, 1, 1, vn_tubelet_backward(NN, S(dw), S(db), S(tok), S(patches), S(tw_), B, L, K, C));
    same(&w, "tubelet out", tok), same(&w, "tubelet patches", patches), same(&w, "tubelet dw", dw);
    same(&w, "tubelet db", db);
    BOTH(&w, 1, 0, vn_posembed_forward(NN, S(tok), S(tok), S(pos), B, L, C));
    BOTH(&w, 1, 0, vn_posembed_backward(NN, S(patches), S(dpos), S(tok), B, L, C));
    same(&w, "posembed out", tok), same(&w, "posembed dinp", patches), same(&w, "posembed dpos", dpos);

    /* Masked: 5 kept positions per frame, then indexed rows of the table. */
    int32_t keep[2 * 5], idx[2 * 4 * 5], rows = (int32_t)(B * (Fr / tt) * nk);
    for (int i = 0; i < 2 * 5; i++)
        keep[i] = (int32_t)((i * 7 + i / 5) % S_);
    for (int r = 0; r < rows; r++)
        idx[r] = (int32_t)(((r / nk) % (Fr / tt)) * S_ + keep[(r / (nk * (Fr / tt))) * nk + r % nk]);
    ipair k = tw_ints(&w, keep, 2 * 5), ix = tw_ints(&w, idx, rows);
    BOTH(&w, 1, 0, vn_unfold(NN, S(patches), S(clips), S(k), nk, B, Ch, Fr, H, W, tt, p));
    BOTH(&w, 1, 0, vn_pos_add_rows(NN, S(tok), S(tok), S(pos), S(ix), rows, L, C));
    BOTH(&w, 1, 0, vn_pos_add_rows_backward(NN, NULL, S(dpos), S(tok), S(ix), rows, L, C));
    same(&w, "unfold kept", patches), same(&w, "pos_add_rows", tok), same(&w, "pos_add_rows dpos", dpos);

    int32_t distinct[10];
    for (int i = 0; i < 10; i++)
        distinct[i] = (int32_t)(63 - 5 * i);
    ipair dst_rows = tw_ints(&w, distinct, 10);
    BOTH(&w, 1, 0, vn_nn_gather_rows(NN, S(tok), S(pos), S(ix), rows, C));
    BOTH(&w, 1, 0, vn_nn_scatter_add_rows(NN, S(dpos), S(tok), S(dst_rows), 10, C));
    same(&w, "gather_rows", tok), same(&w, "scatter_add_rows", dpos);
    BOTH(&w, 1, 0, vn_ema_update(NN, S(tw_), S(dw), C * K, 0.996f));
    BOTH(&w, 1, 0, vn_nn_fill(NN, S(db), C, 0.25f));
    BOTH(&w, 1, 0, vn_nn_zero(NN, S(dw), C * K));
    BOTH(&w, 1, 0, vn_nn_copy(NN, S(tok), S(pos), L * C));
    same(&w, "fill", db), same(&w, "zero", dw), same(&w, "copy", tok), same(&w, "ema", tw_);
    /* Nothing to do: no call at all. */
    BOTH(&w, 0, 0, vn_nn_fill(NN, S(db), 0, 1.0f));
    BOTH(&w, 0, 0, vn_nn_copy(NN, S(tok), S(tok), L * C));
    tw_close(&w);
}
END_TEST

/* A loss is the one value a step waits for: one download each, bits as on the host. */
START_TEST(losses)
{
    twin w;
    tw_open(&w, 4);
    const int64_t N = 300, K = 130, M = 256, D = 48;
    fpair x = tw_rand(&w, N * K, 3.0), t = tw_rand(&w, N * K, 1.0), dx = tw_rand(&w, N * K, 1.0);
    fpair scr = tw_rand(&w, N * M, 1.0), q = tw_rand(&w, N * D, 0.2), kk = tw_rand(&w, M * D, 0.2);
    fpair dq = tw_rand(&w, N * D, 1.0), dk = tw_rand(&w, M * D, 1.0);
    int32_t lab[300];
    for (int i = 0; i < 300; i++)
        lab[i] = (int32_t)((i * 37) % 128);
    ipair labels = tw_ints(&w, lab, N);
    float loss[2][5];
    uint64_t d0 = vn_standin_counters(&w.dbe).downloads;
    BOTH(&w, 1, 0, loss[side_][0] = vn_bce_logits_loss(NN, S(dx), S(x), S(t), N * K, 0.5f));
    BOTH(&w, 1, 0, loss[side_][1] = vn_softmax_ce_loss(NN, S(dx), S(x), S(labels), N, K, 1.0f));
    BOTH(&w, 1, 0, loss[side_][2] = vn_infonce_loss(NN, S(dq), S(dk), S(q), S(kk), S(labels), N, M, D, 0.1f, 0.7f,
                                                    S(scr)));
    BOTH(&w, 1, 0, loss[side_][3] = vn_l1_ln_target_loss(NN, S(dx), S(x), S(t), N, K, 1.0f, S(scr)));
    BOTH(&w, 1, 0, loss[side_][4] = vn_mse_ln_target_loss(NN, S(dx), S(x), S(t), N, K, 0.3f, S(scr)));
    ck_assert_uint_eq(vn_standin_counters(&w.dbe).downloads - d0, 5);
    for (int i = 0; i < 5; i++)
        ck_assert_msg(memcmp(&loss[0][i], &loss[1][i], sizeof(float)) == 0 && isfinite(loss[0][i]),
                      "loss %d: host %a, device %a", i, (double)loss[0][i], (double)loss[1][i]);
    same(&w, "loss dlogits", dx), same(&w, "infonce dq", dq), same(&w, "infonce dk", dk);
    tw_close(&w);
}
END_TEST

/* Two groups, three steps, clipping on and off: the norm stays on the device until
 * one download reports it. */
START_TEST(optimizer)
{
    twin w;
    tw_open(&w, 5);
    const int64_t n[2] = {40001, 77};
    fpair p[2], g[2], m[2], v[2];
    for (int i = 0; i < 2; i++) {
        p[i] = tw_rand(&w, n[i], 1.0), g[i] = tw_rand(&w, n[i], 1.0);
        m[i] = tw_rand(&w, n[i], 0.0), v[i] = tw_rand(&w, n[i], 0.0);
    }
    vn_adamw_hparams hp = VN_ADAMW_HPARAMS_DEFAULT;
    static const double max_norms[3] = {1.0, 1e9, INFINITY};
    for (int step = 1; step <= 3; step++) {
        double norm[2];
        uint64_t d0 = vn_standin_counters(&w.dbe).downloads;
        for (int side = 0; side < 2; side++) {
            vn_param_group gr[2];
            for (int i = 0; i < 2; i++)
                gr[i] = (vn_param_group){side ? p[i].d : p[i].h, side ? g[i].d : g[i].h, side ? m[i].d : m[i].h,
                                         side ? v[i].d : v[i].h, n[i], i ? 0.0f : 0.05f};
            const vn_nn *nn = side ? &w.dnn : &w.hnn;
            norm[side] = vn_clip_grad_norm(nn, gr, 2, max_norms[step - 1]);
            vn_adamw_step(nn, gr, 2, 1e-3 * step, &hp, step);
            VN_ASSERT_OK(vn_nn_take_error());
        }
        ck_assert_uint_eq(vn_standin_counters(&w.dbe).downloads - d0, 1);
        ck_assert_msg(memcmp(&norm[0], &norm[1], sizeof(double)) == 0, "step %d: norm %a on the host, %a on the device",
                      step, norm[0], norm[1]);
        for (int i = 0; i < 2; i++)
            same(&w, "clipped grad", g[i]), same(&w, "adamw param", p[i]), same(&w, "adamw m", m[i]),
                same(&w, "adamw v", v[i]);
    }
    tw_close(&w);
}
END_TEST

/* The guard itself: the host reading device memory faults. */
START_TEST(host_access_faults)
{
    vn_be be;
    VN_ASSERT_OK(vn_standin_open(&be, 1));
    void *p = NULL;
    VN_ASSERT_OK(vn_be_alloc(&be, 256, &p));
    volatile float *f = p;
    /* the default action, so the fault kills the test as Check expects even where a
     * sanitizer runtime catches SIGSEGV to report it (and then exits with 1) */
    signal(SIGSEGV, SIG_DFL);
    printf("this read must fault: %g\n", (double)f[3]);
}
END_TEST

/* What a GPU would crash on, the stand-in refuses: host pointers, indices out of range,
 * repeated scatter destinations. */
START_TEST(bad_arguments_are_refused)
{
    vn_be be;
    VN_ASSERT_OK(vn_standin_open(&be, 1));
    vn_nn nn;
    VN_ASSERT_OK(vn_nn_init(&nn, &be, 1, 1));
    float host[64] = {0}, *d = vn_nn_alloc(&nn, 64);
    int32_t bad[2] = {0, 9}, twice[2] = {1, 1};
    int32_t *di = (int32_t *)(void *)vn_nn_alloc(&nn, 2);
    vn_layernorm_forward(&nn, d, d + 8, d + 16, host, NULL, NULL, 2, 4);
    ck_assert_int_eq(vn_nn_take_error(), VN_ERR_INVALID_ARG);
    ck_assert_msg(strstr(vn_last_error(), "not device memory") != NULL, "%s", vn_last_error());
    vn_gelu_forward(&nn, d, d + 1, 64); /* the input runs past the buffer */
    ck_assert_int_eq(vn_nn_take_error(), VN_ERR_SHAPE);
    VN_ASSERT_OK(vn_nn_upload(&nn, di, bad, sizeof bad));
    vn_nn_gather_rows(&nn, d, d + 32, di, 2, 4); /* row 9 of an 8-row source */
    ck_assert_int_eq(vn_nn_take_error(), VN_ERR_INVALID_ARG);
    VN_ASSERT_OK(vn_nn_upload(&nn, di, twice, sizeof twice));
    vn_nn_scatter_add_rows(&nn, d, d + 32, di, 2, 4);
    ck_assert_int_eq(vn_nn_take_error(), VN_ERR_INVALID_ARG);
    ck_assert_int_ne(vn_nn_download(&nn, host, d, 65 * sizeof(float)), VN_OK);
    vn_nn_free(&nn, d);
    vn_nn_free(&nn, di);
    vn_nn_fini(&nn);
    ck_assert_int_eq(vn_standin_counters(&be).live_buffers, 0);
    vn_be_close(&be);
}
END_TEST

static Suite *nn_backend_ops_suite(void)
{
    Suite *s = suite_create("nn_backend_ops");
    const vn_nn_ops_target standin = {
        .name = "standin",
        .kind = VN_BACKEND_REFERENCE,
        .cfg = {.n_threads = THREADS, .deterministic = 1, .device = 0, .seed = 1},
        .table = vn_standin_backend(),
        /* It runs nn/optim.c's arithmetic, which the harness's formula copies. */
        .adamw_nmse = 0.0,
    };
    suite_add_tcase(s, vn_nn_ops_tcase(&standin));

    TCase *tc = tcase_create("nn_engine_dispatch");
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, dense_ops);
    tcase_add_test(tc, attention_ops);
    tcase_add_test(tc, embedding_and_memory_ops);
    tcase_add_test(tc, losses);
    tcase_add_test(tc, optimizer);
    tcase_add_test_raise_signal(tc, host_access_faults, SIGSEGV);
    tcase_add_test(tc, bad_arguments_are_refused);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return vn_test_run(nn_backend_ops_suite());
}
