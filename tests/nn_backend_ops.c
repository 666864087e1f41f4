/*
 * The engine-ops harness (see nn_backend_ops.h). A case runs once per shape: it draws
 * the inputs from the seeded generator, computes what the entry must produce on host
 * buffers, runs the entry on the target from the same inputs, and hands each result to
 * expect(), which downloads and compares it. Outputs start as random garbage and
 * gradients as random values, so that an entry that skips an element, or assigns where
 * it should accumulate, shows. Entries that mirror each other (a forward and its
 * backward) share one case function, which the case table's variant tells apart.
 *
 * This file has the harness, the memory, dense and embedding entries and the first
 * half of the case table; nn_backend_ops_attn_optim.c has the attention, loss and
 * optimizer entries and the second half. nn_backend_ops_internal.h has what both use.
 */
#include "nn_backend_ops_internal.h"

#include <math.h>
#include <stdarg.h>

#include "nn/ops_ref.h"

#define MAX_TARGETS 4
static vn_nn_ops_target targets[MAX_TARGETS];
static int n_targets;

/* ---- buffers ------------------------------------------------------------------------ */

int32_t *vn_nn_ops_ints(vn_nn_ops_env *e, int64_t n, int64_t of, int distinct)
{
    int32_t *p = keep_host(e, malloc((size_t)(distinct ? of : n) * sizeof(int32_t) + 4));
    for (int64_t i = 0; i < (distinct ? of : n); i++)
        p[i] = distinct ? (int32_t)i : (int32_t)vn_rng_below(&e->r, (uint64_t)of);
    for (int64_t i = 0; distinct && i < n; i++) {
        int64_t j = pick(e, i, of - 1);
        int32_t tmp = p[i];
        p[i] = p[j], p[j] = tmp;
    }
    return p;
}

void *vn_nn_ops_dev(vn_nn_ops_env *e, const void *h, size_t bytes)
{
    void *p = NULL;
    ck_assert_int_lt(e->n_dev, MAX_LIVE);
    ok(e, vn_be_alloc(&e->be, bytes, &p));
    ck_assert_ptr_nonnull(p);
    if (h)
        ok(e, vn_be_upload(&e->be, p, h, bytes));
    return e->dev[e->n_dev++] = p;
}

static void release(vn_nn_ops_env *e)
{
    for (int i = 0; i < e->n_dev; i++)
        vn_be_free(&e->be, e->dev[i]);
    for (int i = 0; i < e->n_host; i++)
        free(e->host[i]);
    e->n_dev = e->n_host = 0;
}

void vn_nn_ops_dims(vn_nn_ops_env *e, const char *names, ...)
{
    va_list ap;
    va_start(ap, names);
    for (size_t len = 0; *names && len < sizeof e->shape - 32; names++)
        len += (size_t)snprintf(e->shape + len, sizeof e->shape - len, "%s%c=%lld", len ? " " : "", *names,
                                (long long)va_arg(ap, int64_t));
    va_end(ap);
}

/* ---- comparison ---------------------------------------------------------------------- */

#define elem(p, esz, i) ((esz) == 8 ? ((const double *)(p))[i] : (double)((const float *)(p))[i])

void vn_nn_ops_compare(vn_nn_ops_env *e, const char *what, const void *d, const void *want, int64_t n, int esz,
                       double tol)
{
    if (!d)
        return;
    size_t bytes = (size_t)n * (size_t)esz;
    void *got = keep_host(e, malloc(bytes ? bytes : 1));
    ok(e, vn_be_download(&e->be, got, d, bytes));
    const char *be = e->be.table->name, *op = e->c->name;
    if (e->pass == 1) {
        ck_assert_msg(e->tape_pos < e->n_tape, "%s: %s: the second run has more results", be, op);
        int k = e->tape_pos++;
        ck_assert_msg(e->tape_bytes[k] == bytes && memcmp(e->tape[k], got, bytes) == 0,
                      "%s: %s %s: %s differs between two identical runs (not deterministic)", be, op, e->shape, what);
        return;
    }
    if (e->t->cfg.deterministic) {
        ck_assert_int_lt(e->n_tape, MAX_TAPE);
        e->tape[e->n_tape] = memcpy(malloc(bytes ? bytes : 1), got, bytes);
        e->tape_bytes[e->n_tape++] = bytes;
    }
    if (tol == 0.0) {
        if (memcmp(got, want, bytes) == 0)
            return;
        int64_t i = 0;
        while (memcmp((const char *)got + i * esz, (const char *)want + i * esz, (size_t)esz) == 0)
            i++;
        ck_abort_msg("%s: %s %s: %s differs at %lld of %lld: %a, expected %a", be, op, e->shape, what, (long long)i,
                     (long long)n, elem(got, esz, i), elem(want, esz, i));
    }
    double num = 0.0, den = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double x = elem(got, esz, i), r = elem(want, esz, i);
        ck_assert_msg(isfinite(x) || !isfinite(r), "%s: %s %s: %s[%lld] = %g, expected %g", be, op, e->shape, what,
                      (long long)i, x, r);
        num += (x - r) * (x - r);
        den += r * r;
    }
    double nmse = den > 0.0 ? num / den : num;
    ck_assert_msg(nmse <= tol, "%s: %s %s: %s NMSE %.3g > %.3g", be, op, e->shape, what, nmse, tol);
}

/* ---- shapes -------------------------------------------------------------------------- */

int64_t vn_nn_ops_len_at(vn_nn_ops_env *e, int i)
{
    static const int64_t lens[] = {1, 7, 31, 33, 1000, 16385, 40001};
    return i < 7 ? lens[i] : pick(e, 2, 5000);
}

void vn_nn_ops_nc_at(vn_nn_ops_env *e, int i, int64_t *N, int64_t *C)
{
    static const int64_t fixed[][2] = {{1, 1}, {1, 7}, {3, 33}, {31, 64}, {33, 255}, {300, 200}};
    if (i < 6)
        *N = fixed[i][0], *C = fixed[i][1];
    else
        *N = pick(e, 1, 90), *C = pick(e, 1, 300);
}

void vn_nn_ops_btc_at(vn_nn_ops_env *e, int i, int64_t *B, int64_t *T, int64_t *C)
{
    static const int64_t fixed[][3] = {{1, 1, 1}, {2, 1, 7}, {3, 7, 33}, {2, 33, 64}, {3, 100, 130}};
    if (i < 5)
        *B = fixed[i][0], *T = fixed[i][1], *C = fixed[i][2];
    else
        *B = pick(e, 1, 4), *T = pick(e, 1, 70), *C = pick(e, 1, 140);
    vn_nn_ops_dims(e, "BTC", *B, *T, *C);
}

/* ---- memory ---------------------------------------------------------------------------- */

/* fill and copy, with elements past n that must stay as they were. */
static void c_fill_copy(vn_nn_ops_env *e, int i)
{
    int64_t n = vn_nn_ops_len_at(e, i), pad = 5;
    float value = i == 0 ? 0.0f : (float)(10.0 * vn_rng_normal(&e->r));
    float *src = rnd(e, n), *x = rnd(e, n + pad), *want = dup(e, x, n + pad), *d = DF(x, n + pad), *ds = DF(src, n);
    for (int64_t j = 0; j < n; j++)
        want[j] = e->c->variant ? src[j] : value;
    vn_nn_ops_dims(e, "n", n);
    ok(e, e->c->variant ? e->nn->copy(e->st, d, ds, n) : e->nn->fill(e->st, d, n, value));
    EXPECT("dst", d, want, n + pad);
    UNCHANGED("src", ds, src, n);
}

/* gather: any source rows, repeats included; scatter_add: distinct destinations, one
 * float add per element, so exact on any IEEE device. */
static void c_rows(vn_nn_ops_env *e, int i)
{
    int64_t rows, w, R, scatter = e->c->variant;
    vn_nn_ops_nc_at(e, i, &rows, &w);
    R = scatter ? rows + pick(e, 0, rows + 3) : pick(e, 1, 2 * rows + 3);
    int64_t n_dst = scatter ? R * w : rows * w + 3, n_src = scatter ? rows * w : R * w;
    float *src = rnd(e, n_src), *dst = rnd(e, n_dst), *want = dup(e, dst, n_dst), *dd = DF(dst, n_dst);
    int32_t *idx = vn_nn_ops_ints(e, rows, R, (int)scatter);
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < w; j++)
            if (scatter)
                want[idx[r] * w + j] += src[r * w + j];
            else
                want[r * w + j] = src[idx[r] * w + j];
    vn_nn_ops_dims(e, "rwR", rows, w, R);
    if (scatter)
        ok(e, e->nn->scatter_add_rows(e->st, dd, DF(src, n_src), DI(idx, rows), rows, w));
    else
        ok(e, e->nn->gather_rows(e->st, dd, DF(src, n_src), DI(idx, rows), rows, w));
    EXPECT("dst", dd, want, n_dst);
}

/* ---- dense ----------------------------------------------------------------------------- */

static void c_bias_grad(vn_nn_ops_env *e, int i)
{
    int64_t N, OC;
    vn_nn_ops_nc_at(e, i, &N, &OC);
    float *dout = rnd(e, N * OC), *db = rnd(e, OC), *want = dup(e, db, OC), *ddb = DF(db, OC);
    for (int64_t o = 0; o < OC; o++) {
        double acc = 0.0;
        for (int64_t n = 0; n < N; n++)
            acc += dout[n * OC + o];
        want[o] = (float)(want[o] + acc);
    }
    vn_nn_ops_dims(e, "NO", N, OC);
    ok(e, e->nn->bias_grad(e->st, ddb, DF(dout, N * OC), N, OC));
    EXPECT("db", ddb, want, OC);
}

/* Shape 2 has no affine parameters (the ln-target loss's form). */
static void c_layernorm(vn_nn_ops_env *e, int i)
{
    int64_t N, C;
    vn_nn_ops_nc_at(e, i, &N, &C);
    float *x = uni(e, N * C, -2.0, 4.0), *w = i == 2 ? NULL : nrm(e, C, 1.0), *b = i == 2 ? NULL : rnd(e, C);
    float *out = rnd(e, N * C), *mean = rnd(e, N), *rstd = rnd(e, N);
    float *d_x = DF(x, N * C), *d_w = DOPT(w, w, C), *d_b = DOPT(b, b, C), *d_out = DF(out, N * C);
    float *d_mean = DF(mean, N), *d_rstd = DF(rstd, N);
    vn_ref_layernorm_forward(out, mean, rstd, x, w, b, N, C);
    vn_nn_ops_dims(e, "NC", N, C);
    note(e, w ? "" : "w=b=NULL");
    if (!e->c->variant) {
        ok(e, e->nn->layernorm_forward(e->st, d_out, d_mean, d_rstd, d_x, d_w, d_b, N, C));
        EXPECT("out", d_out, out, N * C);
        EXPECT("mean", d_mean, mean, N);
        EXPECT("rstd", d_rstd, rstd, N);
        return;
    }
    int g = grad_mask(i, 3);
    float *dout = rnd(e, N * C), *dx = rnd(e, N * C), *dw = rnd(e, C), *db = rnd(e, C);
    float *d_dx = DOPT(g & 1, dx, N * C), *d_dw = DOPT(g & 2, dw, C), *d_db = DOPT(g & 4, db, C);
    vn_ref_layernorm_backward(HOPT(g & 1, dx), HOPT(g & 2, dw), HOPT(g & 4, db), dout, x, w, mean, rstd, N, C);
    nulls(e, g, "dinp=NULL", "dw=NULL", "db=NULL");
    ok(e, e->nn->layernorm_backward(e->st, d_dx, d_dw, d_db, DF(dout, N * C), d_x, d_w, DF(mean, N), DF(rstd, N), N,
                                    C));
    EXPECT("dinp", d_dx, dx, N * C);
    EXPECT("dw", d_dw, dw, C);
    EXPECT("db", d_db, db, C);
}

/* Wide enough to reach the clamps of the tanh (|x| > 4 or so). */
static void c_gelu(vn_nn_ops_env *e, int i)
{
    int64_t n = vn_nn_ops_len_at(e, i);
    int skip = e->c->variant && i == 2;
    float *x = nrm(e, n, 3.0), *y = rnd(e, n), *d_y = DOPT(!skip, y, n), *dout = rnd(e, n);
    x[0] = n > 1 ? 12.0f : x[0];
    float *d_x = DF(x, n);
    vn_nn_ops_dims(e, "n", n);
    note(e, skip ? "dinp=NULL" : "");
    if (e->c->variant) {
        vn_ref_gelu_backward(y, x, dout, n);
        ok(e, e->nn->gelu_backward(e->st, d_y, d_x, DF(dout, n), n));
    } else {
        vn_ref_gelu_forward(y, x, n);
        ok(e, e->nn->gelu_forward(e->st, d_y, d_x, n));
    }
    EXPECT(e->c->variant ? "dinp" : "out", d_y, y, n);
    UNCHANGED("inp", d_x, x, n);
}

static void c_softmax(vn_nn_ops_env *e, int i)
{
    int64_t N, C;
    vn_nn_ops_nc_at(e, i, &N, &C);
    int skip = e->c->variant && i == 3;
    float *x = nrm(e, N * C, 3.0), *y = rnd(e, N * C), *d_y = DF(y, N * C), *dout = rnd(e, N * C);
    float *dx = rnd(e, N * C), *d_dx = DOPT(!skip, dx, N * C);
    x[N * C - 1] = 60.0f; /* one row dominated by a single logit */
    vn_ref_softmax_forward(y, x, N, C);
    vn_nn_ops_dims(e, "NC", N, C);
    note(e, skip ? "dinp=NULL" : "");
    if (!e->c->variant) {
        ok(e, e->nn->softmax_forward(e->st, d_y, DF(x, N * C), N, C));
        EXPECT("out", d_y, y, N * C);
        return;
    }
    vn_ref_softmax_backward(dx, y, dout, N, C);
    ok(e, e->nn->softmax_backward(e->st, d_dx, DF(y, N * C), DF(dout, N * C), N, C));
    EXPECT("dinp", d_dx, dx, N * C);
}

static void c_meanpool(vn_nn_ops_env *e, int i)
{
    int64_t B, T, C;
    vn_nn_ops_btc_at(e, i, &B, &T, &C);
    int skip = e->c->variant && i == 2;
    float *big = rnd(e, B * T * C), *small = rnd(e, B * C), *d_big = DOPT(!skip, big, B * T * C);
    float *d_small = DF(small, B * C);
    note(e, skip ? "dinp=NULL" : "");
    if (e->c->variant) {
        vn_ref_meanpool_backward(big, small, B, T, C);
        ok(e, e->nn->meanpool_backward(e->st, d_big, d_small, B, T, C));
        EXPECT("dinp", d_big, big, B * T * C);
    } else {
        vn_ref_meanpool_forward(small, big, B, T, C);
        ok(e, e->nn->meanpool_forward(e->st, d_small, d_big, B, T, C));
        EXPECT("out", d_small, small, B * C);
    }
}

/* y = x / max(|x|, 1e-12) in double; the first row is zero where there are several, so
 * that the clamp is taken. Backward: dx += (dy - y (y . dy)) / norm. */
static void c_l2norm(vn_nn_ops_env *e, int i)
{
    int64_t N, D;
    vn_nn_ops_nc_at(e, i, &N, &D);
    float *x = nrm(e, N * D, 2.0), *y = rnd(e, N * D), *norm = rnd(e, N), *dy = rnd(e, N * D);
    float *dx = rnd(e, N * D), *d_y = DF(y, N * D), *d_norm = DF(norm, N), *d_dx = DF(dx, N * D);
    memset(x, 0, (size_t)(N > 1 ? D : 0) * sizeof *x);
    for (int64_t r = 0; r < N; r++) {
        double s = 0.0, dot = 0.0;
        for (int64_t j = 0; j < D; j++)
            s += (double)x[r * D + j] * x[r * D + j];
        double nr = fmax(sqrt(s), 1e-12);
        norm[r] = (float)nr;
        for (int64_t j = 0; j < D; j++)
            dot += (double)(y[r * D + j] = (float)(x[r * D + j] / nr)) * dy[r * D + j];
        for (int64_t j = 0; j < D; j++)
            dx[r * D + j] += (float)((dy[r * D + j] - y[r * D + j] * dot) / norm[r]);
    }
    vn_nn_ops_dims(e, "ND", N, D);
    if (e->c->variant) {
        ok(e, e->nn->l2norm_backward(e->st, d_dx, DF(dy, N * D), DF(y, N * D), DF(norm, N), N, D));
        EXPECT("dx", d_dx, dx, N * D);
    } else {
        ok(e, e->nn->l2norm_forward(e->st, d_y, d_norm, DF(x, N * D), N, D));
        EXPECT("y", d_y, y, N * D);
        EXPECT("norm", d_norm, norm, N);
    }
}

/* ---- embeddings ------------------------------------------------------------------------ */

/* B, Ch, Fr, H, W, tt, p, kept positions per frame (0: all, keep = NULL). Shape 2 leaves a
 * frame and pixels over, which the unfold drops; the last two cross the threshold. */
static void c_unfold(vn_nn_ops_env *e, int i)
{
    static const int64_t shapes[][8] = {
        {1, 1, 1, 1, 1, 1, 1, 0},   {2, 3, 4, 8, 8, 2, 4, 0},   {1, 3, 5, 10, 12, 2, 4, 0}, {2, 3, 4, 16, 16, 2, 4, 5},
        {3, 1, 2, 12, 20, 1, 4, 1}, {2, 3, 8, 32, 32, 2, 8, 0}, {4, 3, 8, 32, 32, 2, 8, 12},
    };
    const int64_t *s = shapes[i];
    int64_t B = s[0], Ch = s[1], Fr = s[2], H = s[3], W = s[4], tt = s[5], p = s[6], S = (H / p) * (W / p);
    int64_t nk = s[7] ? s[7] : S, F = Fr / tt, K = Ch * tt * p * p, rows = B * F * nk, n_in = B * Ch * Fr * H * W;
    float *clips = rnd(e, n_in), *out = rnd(e, rows * K), *d_out = DF(out, rows * K);
    int32_t *keep = s[7] ? keep_host(e, malloc((size_t)(B * nk) * sizeof *keep)) : NULL;
    for (int64_t n = 0; keep && n < B; n++)
        memcpy(keep + n * nk, vn_nn_ops_ints(e, nk, S, 1), (size_t)nk * sizeof *keep);
    if (!keep)
        vn_ref_tubelet_unfold(out, clips, B, Ch, Fr, H, W, tt, p);
    for (int64_t r = 0; keep && r < rows; r++) {
        int64_t k = r % nk, f = (r / nk) % F, n = r / (nk * F), at = keep[n * nk + k], lh = at / (W / p);
        int64_t lw = at % (W / p);
        for (int64_t c = 0; c < Ch * tt * p; c++) /* (ch, kt, kh) */
            for (int64_t kw = 0; kw < p; kw++)
                out[r * K + c * p + kw] =
                    clips[(((n * Ch + c / (tt * p)) * Fr + f * tt + (c / p) % tt) * H + lh * p + c % p) * W + lw * p +
                          kw];
    }
    vn_nn_ops_dims(e, "BcFHWtpk", B, Ch, Fr, H, W, tt, p, nk);
    note(e, keep ? "" : "keep=NULL");
    ok(e, e->nn->unfold(e->st, d_out, DF(clips, n_in), keep ? DI(keep, B * nk) : NULL, nk, B, Ch, Fr, H, W, tt, p));
    EXPECT("patches", d_out, out, rows * K);
}

/* rows, L, C and whether pos_idx is used: without it rows = B * L (the learned positional
 * embedding); with it any rows may share a table row (masked tokens). pos_add is one
 * float add per element, so exact on any IEEE device. */
static void c_pos_add(vn_nn_ops_env *e, int i)
{
    static const int64_t fixed[][4] = {{1, 1, 1, 0},     {15, 5, 33, 0},    {7, 3, 8, 1},
                                       {33, 40, 64, 1}, {394, 197, 96, 0}, {500, 64, 80, 1}};
    int64_t rows, L, C;
    int indexed, alias = !e->c->variant && i % 3 == 1, g = grad_mask(i, 2);
    if (i < 6) {
        rows = fixed[i][0], L = fixed[i][1], C = fixed[i][2], indexed = (int)fixed[i][3];
    } else {
        L = pick(e, 1, 50), C = pick(e, 1, 130), indexed = i & 1;
        rows = indexed ? pick(e, 1, 200) : L * pick(e, 1, 4);
    }
    float *x = rnd(e, rows * C), *pos = rnd(e, L * C), *d_x = DF(x, rows * C), *d_pos = DF(pos, L * C);
    int32_t *idx = indexed ? vn_nn_ops_ints(e, rows, L, 0) : NULL, *d_idx = indexed ? DI(idx, rows) : NULL;
    vn_nn_ops_dims(e, "rLC", rows, L, C);
    note(e, indexed ? "" : "pos_idx=NULL");
    if (!e->c->variant) {
        float *out = rnd(e, rows * C), *d_out = alias ? d_x : DF(out, rows * C);
        for (int64_t r = 0; indexed && r < rows; r++)
            for (int64_t c = 0; c < C; c++)
                out[r * C + c] = x[r * C + c] + pos[idx[r] * C + c];
        if (!indexed)
            vn_ref_posembed_forward(out, x, pos, rows / L, L, C);
        note(e, alias ? "out=inp" : "");
        ok(e, e->nn->pos_add(e->st, d_out, d_x, d_pos, d_idx, rows, L, C));
        EXPECT("out", d_out, out, rows * C);
        return;
    }
    /* Backward: x is dinp and pos is dpos; the rows of a pos row sum in double. */
    float *dout = rnd(e, rows * C);
    double *acc = keep_host(e, calloc((size_t)(L * C), sizeof *acc));
    for (int64_t r = 0; indexed && r < rows; r++)
        for (int64_t c = 0; c < C; c++) {
            x[r * C + c] += dout[r * C + c];
            acc[idx[r] * C + c] += dout[r * C + c];
        }
    for (int64_t j = 0; indexed && j < L * C; j++)
        pos[j] = (float)(pos[j] + acc[j]);
    if (!indexed)
        vn_ref_posembed_backward(x, pos, dout, rows / L, L, C);
    nulls(e, g, "dinp=NULL", "dpos=NULL", NULL);
    ok(e, e->nn->pos_add_backward(e->st, HOPT(g & 1, d_x), HOPT(g & 2, d_pos), DF(dout, rows * C), d_idx, rows, L,
                                  C));
    EXPECT("dinp", HOPT(g & 1, d_x), x, rows * C);
    EXPECT("dpos", HOPT(g & 2, d_pos), pos, L * C);
}

/* ---- the table itself ------------------------------------------------------------------ */

typedef void (*any_fn)(void);

static void c_table_complete(vn_nn_ops_env *e, int i)
{
    (void)i;
    ck_assert_msg(vn_be_supports(&e->be, VN_OP_NN), "%s: supports(nn) is false", e->be.table->name);
    ck_assert_ptr_eq(vn_be_nn(&e->be), e->be.table->nn);
    for (size_t off = 0; off < sizeof(vn_backend_nn); off += sizeof(any_fn)) {
        any_fn f;
        memcpy(&f, (const char *)e->nn + off, sizeof f);
        ck_assert_msg(f != NULL, "%s: engine-table entry %zu of %zu is NULL", e->be.table->name, off / sizeof f,
                      sizeof(vn_backend_nn) / sizeof f);
    }
}

/* The first half of the table; the second is in nn_backend_ops_attn_optim.c, and the
 * tolerances are explained at NN_CASE (nn_backend_ops_internal.h). */
static const vn_nn_ops_case cases[] = {
    {"table_complete", c_table_complete, 0, 1, 0.0, SIZE_MAX},
    NN_CASE(fill, c_fill_copy, 0, N_LENS, 0.0),
    NN_CASE(copy, c_fill_copy, 1, N_LENS, 0.0),
    NN_CASE(gather_rows, c_rows, 0, N_NC, 0.0),
    NN_CASE(scatter_add_rows, c_rows, 1, N_NC, 0.0),
    NN_CASE(bias_grad, c_bias_grad, 0, N_NC, 1e-7),
    NN_CASE(layernorm_forward, c_layernorm, 0, N_NC, 1e-7),
    NN_CASE(layernorm_backward, c_layernorm, 1, N_NC, 1e-7),
    NN_CASE(gelu_forward, c_gelu, 0, N_LENS, 1e-7),
    NN_CASE(gelu_backward, c_gelu, 1, N_LENS, 1e-7),
    NN_CASE(softmax_forward, c_softmax, 0, N_NC, 1e-7),
    NN_CASE(softmax_backward, c_softmax, 1, N_NC, 1e-7),
    NN_CASE(meanpool_forward, c_meanpool, 0, N_BTC, 1e-7),
    NN_CASE(meanpool_backward, c_meanpool, 1, N_BTC, 1e-7),
    NN_CASE(l2norm_forward, c_l2norm, 0, N_NC, 1e-7),
    NN_CASE(l2norm_backward, c_l2norm, 1, N_NC, 1e-7),
    NN_CASE(unfold, c_unfold, 0, 7, 0.0),
    NN_CASE(pos_add, c_pos_add, 0, 8, 0.0),
    NN_CASE(pos_add_backward, c_pos_add, 1, 8, 1e-7),
};
#define N_FIRST (int)(sizeof cases / sizeof cases[0])
#define N_CASES (N_FIRST + vn_nn_ops_n_attn_optim_cases)

/* Case k of the whole table. */
static const vn_nn_ops_case *case_at(int k)
{
    return k < N_FIRST ? &cases[k] : &vn_nn_ops_attn_optim_cases[k - N_FIRST];
}

void vn_nn_ops_open(const vn_nn_ops_target *t, vn_be *be)
{
    if (!t->table) {
        VN_ASSERT_OK(vn_be_open(be, t->kind, &t->cfg));
        return;
    }
    memset(be, 0, sizeof *be);
    const char *why = "";
    ck_assert_msg(t->table->available(&why), "%s is not available: %s", t->table->name, why);
    VN_ASSERT_OK(t->table->init(&be->state, &t->cfg));
    be->table = t->table;
}

/* The loop index is slot * N_CASES + case: Check gives a test function nothing else. */
START_TEST(nn_entry)
{
    vn_nn_ops_env *e = calloc(1, sizeof *e);
    ck_assert_ptr_nonnull(e);
    e->t = &targets[_i / N_CASES];
    e->c = case_at(_i % N_CASES);
    vn_nn_ops_open(e->t, &e->be);
    e->st = e->be.state;
    e->nn = vn_be_nn(&e->be);
    ck_assert_msg(e->nn != NULL, "%s: no engine table (supports(nn) = %d)", e->be.table->name,
                  vn_be_supports(&e->be, VN_OP_NN));
    if (e->c->entry != SIZE_MAX) {
        any_fn f;
        memcpy(&f, (const char *)e->nn + e->c->entry, sizeof f);
        ck_assert_msg(f != NULL, "%s: the engine table has no %s", e->be.table->name, e->c->name);
    }
    int passes = e->t->cfg.deterministic ? 2 : 1;
    for (e->pass = 0; e->pass < passes; e->pass++) {
        vn_rng_seed(&e->r, 0x5eed + (uint64_t)(_i % N_CASES), 0);
        e->tape_pos = 0;
        for (int i = 0; i < e->c->shapes; i++, release(e)) {
            e->shape[0] = '\0';
            e->c->run(e, i);
        }
    }
    ck_assert_msg(passes == 1 || e->tape_pos == e->n_tape, "%s: %s: the second run has fewer results",
                  e->be.table->name, e->c->name);
    VN_ASSERT_OK(vn_be_synchronize(&e->be));
    for (int k = 0; k < e->n_tape; k++)
        free(e->tape[k]);
    vn_be_close(&e->be);
    free(e);
}
END_TEST

TCase *vn_nn_ops_tcase(const vn_nn_ops_target *t)
{
    if (n_targets == MAX_TARGETS) {
        fprintf(stderr, "nn_backend_ops: more than %d targets in one executable\n", MAX_TARGETS);
        abort();
    }
    int slot = n_targets++;
    targets[slot] = *t;
    TCase *tc = tcase_create(t->name);
    tcase_set_timeout(tc, 240);
    tcase_add_loop_test(tc, nn_entry, slot * N_CASES, (slot + 1) * N_CASES);
    return tc;
}
