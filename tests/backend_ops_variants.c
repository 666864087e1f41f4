/*
 * The backend-ops harness, continued (see backend_ops.h and backend_ops.c): the GEMM
 * comparison every GEMM case goes through, the cases of the GEMM variants (TF32 and BF16
 * against the reference's emulation, the GELU epilogue within the target's gelu_nmse),
 * and upload_async's ordering.
 */
#include "backend_ops_internal.h"

#include <math.h>
#include <string.h>

/* ---- GEMM against the reference ---------------------------------------------------- */

/* Elements a strided operand spans, so that buffers are sized exactly and an
 * overrun shows up as a fault or in the padding check. */
static int64_t span(int64_t batch, int64_t bstride, int64_t rows, int64_t cols, int64_t ld)
{
    if (rows == 0 || cols == 0)
        return 1;
    return (batch - 1) * bstride + (rows - 1) * ld + cols;
}

static void describe(char *buf, size_t cap, const vn_gemm_desc *d)
{
    snprintf(buf, cap,
             "m=%lld n=%lld k=%lld batch=%lld ta=%d tb=%d lda=%lld ldb=%lld ldc=%lld sa=%lld sb=%lld sc=%lld a=%g b=%g",
             (long long)d->m, (long long)d->n, (long long)d->k, (long long)d->batch, d->trans_a, d->trans_b,
             (long long)d->lda, (long long)d->ldb, (long long)d->ldc, (long long)d->stride_a, (long long)d->stride_b,
             (long long)d->stride_c, d->alpha, d->beta);
}

void vn_ops_gemm_on(const vn_be *be, const vn_gemm_desc *d, const float *a, int64_t na, const float *b, int64_t nb,
                    const float *bias, const float *c0, int64_t nc, float *c_out, const float *aux0, float *aux_out)
{
    float *da = a ? vn_ops_upload(be, a, na) : NULL;
    float *db = b ? vn_ops_upload(be, b, nb) : NULL;
    float *dbias = bias ? vn_ops_upload(be, bias, d->n) : NULL;
    float *dc = vn_ops_upload(be, c0, nc);
    vn_gemm_desc dd = *d;
    dd.aux = d->epilogue == VN_GEMM_EPI_GELU ? vn_ops_upload(be, aux0, nc) : NULL;
    vn_status s = vn_be_gemm(be, &dd, da, db, dbias, dc);
    if (s != VN_OK) {
        char what[400];
        describe(what, sizeof what, d);
        ck_abort_msg("%s: gemm returned %s for %s bias=%d: %s", be->table->name, vn_status_str(s), what, bias != NULL,
                     vn_last_error());
    }
    vn_ops_download(be, c_out, dc, nc);
    if (dd.aux)
        vn_ops_download(be, aux_out, dd.aux, nc);
    vn_be_free(be, da), vn_be_free(be, db), vn_be_free(be, dbias), vn_be_free(be, dc), vn_be_free(be, dd.aux);
}

static void gemm_spans(const vn_gemm_desc *d, int64_t *na, int64_t *nb, int64_t *nc)
{
    int64_t a_rows = d->trans_a ? d->k : d->m, a_cols = d->trans_a ? d->m : d->k;
    int64_t b_rows = d->trans_b ? d->n : d->k, b_cols = d->trans_b ? d->k : d->n;
    *na = span(d->batch, d->stride_a, a_rows, a_cols, d->lda);
    *nb = span(d->batch, d->stride_b, b_rows, b_cols, d->ldb);
    *nc = span(d->batch, d->stride_c, d->m, d->n, d->ldc);
}

static double precision_nmse(vn_gemm_precision p)
{
    switch (p) {
    case VN_GEMM_TF32: return VN_OPS_TF32_NMSE;
    case VN_GEMM_BF16: return VN_OPS_BF16_NMSE;
    case VN_GEMM_FP32: break;
    }
    return VN_OPS_GEMM_TOL * VN_OPS_GEMM_TOL;
}

/* One output of a GEMM (C, or the GELU pre-activation) against the reference's: finite
 * and within nmse inside the matrices, the starting bits everywhere else. */
static void compare_output(const vn_be *be, const vn_gemm_desc *d, const char *which, const float *got,
                           const float *want, const float *start, int64_t nc, double nmse, int with_bias)
{
    char what[400];
    describe(what, sizeof what, d);
    double num = 0.0, den = 0.0;
    for (int64_t bi = 0; bi < d->batch; bi++)
        for (int64_t i = 0; i < d->m; i++)
            for (int64_t j = 0; j < d->n; j++) {
                int64_t off = bi * d->stride_c + i * d->ldc + j;
                ck_assert_msg(isfinite(got[off]), "%s: non-finite %s %g at offset %lld for %s bias=%d", be->table->name,
                              which, (double)got[off], (long long)off, what, with_bias);
                double diff = (double)got[off] - want[off];
                num += diff * diff;
                den += (double)want[off] * want[off];
            }
    for (int64_t off = 0; off < nc; off++) {
        int64_t bi = d->stride_c ? off / d->stride_c : 0;
        int64_t rem = off - bi * d->stride_c;
        int inside = bi < d->batch && rem / d->ldc < d->m && rem % d->ldc < d->n;
        if (!inside)
            ck_assert_msg(memcmp(&got[off], &start[off], sizeof(float)) == 0,
                          "%s: gemm wrote outside %s at offset %lld for %s", be->table->name, which, (long long)off,
                          what);
    }
    double err = den > 0 ? num / den : num;
    ck_assert_msg(err <= nmse, "%s: %s NMSE %.3g (relative error %.3g) > %.3g for %s precision=%d gelu=%d bias=%d",
                  be->table->name, which, err, sqrt(err), nmse, what, (int)d->precision,
                  d->epilogue == VN_GEMM_EPI_GELU, with_bias);
}

/* vn_ops_check_gemm with the NMSE C may reach under the GELU epilogue; 0 is the bound
 * of d's precision. */
static void check_gemm(const vn_be *be, const vn_be *ref, const vn_gemm_desc *d, vn_rng *r, int with_bias,
                       const float *c_fill, double gelu_nmse)
{
    int64_t na, nb, nc;
    gemm_spans(d, &na, &nb, &nc);
    float *a = vn_ops_random(r, na), *b = vn_ops_random(r, nb), *c0 = vn_ops_random(r, nc);
    if (c_fill)
        for (int64_t i = 0; i < nc; i++)
            c0[i] = *c_fill;
    float *bias = with_bias ? vn_ops_random(r, d->n) : NULL;
    float *c_be = vn_ops_host_floats(nc), *c_ref = vn_ops_host_floats(nc);
    int gelu = d->epilogue == VN_GEMM_EPI_GELU;
    float *aux0 = NULL, *aux_be = NULL, *aux_ref = NULL;
    if (gelu) {
        aux0 = vn_ops_host_floats(nc), aux_be = vn_ops_host_floats(nc), aux_ref = vn_ops_host_floats(nc);
        for (int64_t i = 0; i < nc; i++)
            aux0[i] = NAN;
    }
    int empty = d->k == 0;
    vn_ops_gemm_on(be, d, empty ? NULL : a, na, empty ? NULL : b, nb, bias, c0, nc, c_be, aux0, aux_be);
    vn_ops_gemm_on(ref, d, empty ? NULL : a, na, empty ? NULL : b, nb, bias, c0, nc, c_ref, aux0, aux_ref);
    double nmse = precision_nmse(d->precision);
    if (gelu) {
        compare_output(be, d, "GELU pre-activation (aux)", aux_be, aux_ref, aux0, nc, nmse, with_bias);
        compare_output(be, d, "C", c_be, c_ref, c0, nc, gelu_nmse > nmse ? gelu_nmse : nmse, with_bias);
    } else {
        compare_output(be, d, "C", c_be, c_ref, c0, nc, nmse, with_bias);
    }
    free(a), free(b), free(c0), free(bias), free(c_be), free(c_ref), free(aux0), free(aux_be), free(aux_ref);
}

void vn_ops_check_gemm(const vn_be *be, const vn_be *ref, const vn_gemm_desc *d, vn_rng *r, int with_bias,
                       const float *c_fill)
{
    check_gemm(be, ref, d, r, with_bias, c_fill, 0.0);
}

void vn_ops_check(vn_ops_env *e, const vn_gemm_desc *d, vn_rng *r, int with_bias, const float *c_fill)
{
    check_gemm(&e->be, &e->ref, d, r, with_bias, c_fill, e->t->gelu_nmse);
}

/* ---- GEMM variants: TF32, BF16, the GELU epilogue ------------------------------------ */

/*
 * Random shapes for a variant: every transpose pair, padded leading dimensions, batches
 * with gaps and a broadcast operand, alpha, beta and bias. A third of the trials has
 * ldc and stride_c multiples of 8, where a device may fuse the GELU epilogue into the
 * GEMM; the rest take its other path.
 */
static void variant_shapes(vn_ops_env *e, vn_rng *r, vn_gemm_precision precision, vn_gemm_epilogue epilogue, int trials)
{
    for (int trial = 0; trial < trials; trial++) {
        int ta = trial & 1, tb = (trial >> 1) & 1;
        int64_t m = 1 + (int64_t)vn_rng_below(r, 40), n = 1 + (int64_t)vn_rng_below(r, 40);
        int64_t k = 1 + (int64_t)vn_rng_below(r, 70);
        vn_gemm_desc d = vn_gemm_desc_plain(ta, tb, m, n, k);
        d.precision = precision, d.epilogue = epilogue;
        int aligned = trial % 3 == 1;
        d.lda += (int64_t)vn_rng_below(r, 3);
        d.ldb += (int64_t)vn_rng_below(r, 3);
        d.ldc = aligned ? (n + 7) / 8 * 8 : n + (int64_t)vn_rng_below(r, 3);
        d.stride_c = m * d.ldc;
        if (trial % 4 >= 2) {
            int64_t a_rows = ta ? k : m, b_rows = tb ? n : k;
            d.batch = 2 + (int64_t)vn_rng_below(r, 4);
            d.stride_a = trial % 8 == 6 ? 0 : a_rows * d.lda + (int64_t)vn_rng_below(r, 5);
            d.stride_b = trial % 8 == 3 ? 0 : b_rows * d.ldb + (int64_t)vn_rng_below(r, 5);
            d.stride_c += aligned ? 8 * (int64_t)vn_rng_below(r, 2) : (int64_t)vn_rng_below(r, 5);
        }
        d.alpha = trial % 5 == 2 ? -0.75f : 1.0f;
        d.beta = trial % 6 == 4 ? 0.5f : (trial % 6 == 5 ? 1.0f : 0.0f);
        vn_ops_check(e, &d, r, trial % 2 == 0, NULL);
    }
}

/* Larger, for the tiled and tensor-core kernels: one plain and one batched. */
static void variant_large(vn_ops_env *e, vn_rng *r, vn_gemm_precision precision, vn_gemm_epilogue epilogue)
{
    vn_gemm_desc d = vn_gemm_desc_plain(0, 1, 257, 384, 512);
    d.precision = precision, d.epilogue = epilogue;
    vn_ops_check(e, &d, r, 1, NULL);
    d = vn_gemm_desc_plain(1, 0, 96, 96, 1000);
    d.precision = precision, d.epilogue = epilogue;
    d.batch = 4;
    d.stride_a = 96 * 1000, d.stride_b = 0, d.stride_c = 96 * 96;
    vn_ops_check(e, &d, r, 1, NULL);
}

OPS_CASE(gemm_gelu_epilogue, VN_OP_GEMM_GELU)
{
    vn_rng r;
    vn_rng_seed(&r, 21, 0);
    variant_shapes(e, &r, VN_GEMM_FP32, VN_GEMM_EPI_GELU, 48);
    variant_large(e, &r, VN_GEMM_FP32, VN_GEMM_EPI_GELU);
    /* k = 0: C = gelu(beta * C + bias), batched with padded rows and gaps. */
    vn_gemm_desc d = vn_gemm_desc_plain(0, 0, 4, 5, 0);
    d.epilogue = VN_GEMM_EPI_GELU;
    d.lda = 1, d.ldb = 5, d.beta = 0.5f;
    vn_ops_check(e, &d, &r, 1, NULL);
    d.batch = 3, d.ldc = 7, d.stride_c = 4 * 7 + 2;
    vn_ops_check(e, &d, &r, 1, NULL);
    /* NaN in C with beta = 0 must not reach the pre-activation either. */
    const float nan = NAN;
    for (int t = 0; t < 4; t++) {
        d = vn_gemm_desc_plain(t & 1, t >> 1, 9, 16, 7);
        d.epilogue = VN_GEMM_EPI_GELU;
        vn_ops_check(e, &d, &r, t & 1, &nan);
    }
}

OPS_CASE(gemm_tf32_matches_emulation, VN_OP_GEMM_TF32)
{
    vn_rng r;
    vn_rng_seed(&r, 22, 0);
    variant_shapes(e, &r, VN_GEMM_TF32, VN_GEMM_EPI_NONE, 32);
    variant_large(e, &r, VN_GEMM_TF32, VN_GEMM_EPI_NONE);
    if (vn_be_supports(&e->be, VN_OP_GEMM_GELU))
        variant_shapes(e, &r, VN_GEMM_TF32, VN_GEMM_EPI_GELU, 12);
}

OPS_CASE(gemm_bf16_matches_emulation, VN_OP_GEMM_BF16)
{
    vn_rng r;
    vn_rng_seed(&r, 23, 0);
    variant_shapes(e, &r, VN_GEMM_BF16, VN_GEMM_EPI_NONE, 32);
    variant_large(e, &r, VN_GEMM_BF16, VN_GEMM_EPI_NONE);
    if (vn_be_supports(&e->be, VN_OP_GEMM_GELU)) {
        variant_shapes(e, &r, VN_GEMM_BF16, VN_GEMM_EPI_GELU, 12);
        variant_large(e, &r, VN_GEMM_BF16, VN_GEMM_EPI_GELU);
    }
}

/* ---- gemm_bf16_act: bf16 activations in and out ---------------------------------- */

static float bits_value(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

static void *upload_bytes(const vn_be *be, const void *host, size_t bytes)
{
    void *p = NULL;
    VN_ASSERT_OK(vn_be_alloc(be, bytes, &p));
    VN_ASSERT_OK(vn_be_upload(be, p, host, bytes));
    return p;
}

/* C of d on be, as floats (read from bf16 bits when c_bf16). */
static void bf16_act_on(const vn_be *be, const vn_gemm_desc *d, const uint16_t *a, const float *b, int64_t nb,
                        const float *bias, int c_bf16, const float *c0, float *out)
{
    int64_t nc = (d->m - 1) * d->ldc + d->n;
    size_t c_bytes = (size_t)(c_bf16 ? d->m * d->n * 2 : nc * 4);
    void *da = upload_bytes(be, a, (size_t)(d->m * d->lda) * 2);
    float *db = vn_ops_upload(be, b, nb), *dbias = bias ? vn_ops_upload(be, bias, d->n) : NULL;
    void *dc = upload_bytes(be, c0, c_bytes);
    vn_status s = vn_be_gemm_bf16_act(be, d, da, db, dbias, dc, c_bf16);
    ck_assert_msg(s == VN_OK, "%s: gemm_bf16_act m=%lld n=%lld k=%lld: %s", be->table->name, (long long)d->m,
                  (long long)d->n, (long long)d->k, vn_last_error());
    void *host = malloc(c_bytes);
    ck_assert_ptr_nonnull(host);
    VN_ASSERT_OK(vn_be_download(be, host, dc, c_bytes));
    for (int64_t i = 0; i < d->m; i++)
        for (int64_t j = 0; j < d->n; j++)
            out[i * d->n + j] = c_bf16 ? bits_value(((uint16_t *)host)[i * d->n + j]) : ((float *)host)[i * d->ldc + j];
    free(host);
    vn_be_free(be, da), vn_be_free(be, db), vn_be_free(be, dbias), vn_be_free(be, dc);
}

/* Against the reference: with a bf16 C each element within one bf16 step of the
 * reference's (the two round sums that differ in their last fp32 bits) or 1e-6 (GELU's
 * far negative tail, a difference of two nearly equal terms in either's formula), with
 * an fp32 C within the bf16 GEMM's NMSE. */
OPS_CASE(gemm_bf16_act_matches_reference, VN_OP_GEMM_BF16_ACT)
{
    vn_rng r;
    vn_rng_seed(&r, 24, 0);
    for (int trial = 0; trial < 40; trial++) {
        int big = trial >= 36, c_bf16 = trial % 2, gelu = (trial / 2) % 2, tb = (trial / 4) % 2;
        int64_t m = big ? 300 : 1 + (int64_t)vn_rng_below(&r, 40), n = big ? 192 : 1 + (int64_t)vn_rng_below(&r, 40);
        int64_t k = big ? 768 : 1 + (int64_t)vn_rng_below(&r, 70);
        vn_gemm_desc d = vn_gemm_desc_plain(0, tb, m, n, k);
        d.precision = VN_GEMM_BF16;
        d.epilogue = gelu ? VN_GEMM_EPI_GELU : VN_GEMM_EPI_NONE;
        d.lda += (int64_t)vn_rng_below(&r, 3);
        d.ldb += (int64_t)vn_rng_below(&r, 3);
        d.alpha = trial % 3 == 2 ? 0.5f : 1.0f;
        int64_t nb = (tb ? n : k) * d.ldb, nc = (m - 1) * d.ldc + n;
        uint16_t *a = malloc((size_t)(m * d.lda) * sizeof *a);
        float *b = vn_ops_host_floats(nb), *bias = vn_ops_host_floats(n), *c0 = vn_ops_host_floats(nc);
        float *got = vn_ops_host_floats(m * n), *want = vn_ops_host_floats(m * n);
        ck_assert_ptr_nonnull(a);
        for (int64_t i = 0; i < m * d.lda; i++) {
            float x = vn_rng_uniform(&r) * 2.0f - 1.0f;
            uint32_t u;
            memcpy(&u, &x, sizeof u);
            a[i] = (uint16_t)(u >> 16);
        }
        for (int64_t i = 0; i < nb; i++)
            b[i] = (vn_rng_uniform(&r) * 2.0f - 1.0f) * 0.2f;
        for (int64_t i = 0; i < n; i++)
            bias[i] = vn_rng_uniform(&r) - 0.5f;
        for (int64_t i = 0; i < nc; i++)
            c0[i] = vn_rng_uniform(&r);
        const float *use_bias = trial % 5 == 3 ? NULL : bias;
        bf16_act_on(&e->be, &d, a, b, nb, use_bias, c_bf16, c0, got);
        bf16_act_on(&e->ref, &d, a, b, nb, use_bias, c_bf16, c0, want);
        double num = 0.0, den = 0.0;
        for (int64_t i = 0; i < m * n; i++) {
            ck_assert_msg(isfinite(got[i]), "%s: element %lld is %g", vn_ops_be_name(e), (long long)i, (double)got[i]);
            double diff = fabs((double)got[i] - want[i]);
            num += diff * diff, den += (double)want[i] * want[i];
            if (c_bf16)
                ck_assert_msg(diff <= fabs(want[i]) * 0x1p-7 + 1e-6,
                              "%s: trial %d (m=%lld n=%lld k=%lld gelu=%d): element %lld is %.8g, the reference's %.8g",
                              vn_ops_be_name(e), trial, (long long)m, (long long)n, (long long)k, gelu, (long long)i,
                              (double)got[i], (double)want[i]);
        }
        if (!c_bf16)
            ck_assert_msg(num <= VN_OPS_BF16_NMSE * den + 1e-30, "%s: trial %d (gelu %d): NMSE %g above %g",
                          vn_ops_be_name(e), trial, gelu, den > 0 ? num / den : num, VN_OPS_BF16_NMSE);
        free(a), free(b), free(bias), free(c0), free(got), free(want);
    }
    /* What it does not take is refused by name, before the backend runs. */
    uint16_t a16[4] = {0};
    float f[8] = {0};
    vn_gemm_desc bad[5];
    for (int i = 0; i < 5; i++) {
        bad[i] = vn_gemm_desc_plain(0, 0, 2, 2, 2);
        bad[i].precision = VN_GEMM_BF16;
    }
    bad[0].precision = VN_GEMM_FP32, bad[1].trans_a = 1, bad[2].beta = 1.0f, bad[3].ldc = 3;
    bad[4].epilogue = VN_GEMM_EPI_GELU, bad[4].aux = f + 4;
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(vn_be_gemm_bf16_act(&e->be, &bad[i], a16, f, NULL, f, 0), VN_ERR_INVALID_ARG);
        ck_assert_ptr_nonnull(strstr(vn_last_error(), "gemm_bf16_act"));
    }
}

void vn_ops_variant_runs(vn_ops_env *e, vn_op op)
{
    if (op == VN_OP_GEMM_BF16_ACT) {
        float b[4] = {1, 2, 3, 4}, c[4];
        uint16_t a[4] = {0x3f80, 0, 0, 0x3f80}; /* the identity */
        vn_gemm_desc d = vn_gemm_desc_plain(0, 0, 2, 2, 2);
        d.precision = VN_GEMM_BF16;
        bf16_act_on(&e->be, &d, a, b, 4, NULL, 0, b, c);
        ck_assert(c[0] == 1 && c[1] == 2 && c[2] == 3 && c[3] == 4);
        return;
    }
    float *buf = vn_ops_upload(&e->be, NULL, 16);
    vn_gemm_desc d = vn_gemm_desc_plain(0, 0, 2, 2, 2);
    d.precision = op == VN_OP_GEMM_TF32 ? VN_GEMM_TF32 : op == VN_OP_GEMM_BF16 ? VN_GEMM_BF16 : VN_GEMM_FP32;
    d.epilogue = op == VN_OP_GEMM_GELU ? VN_GEMM_EPI_GELU : VN_GEMM_EPI_NONE;
    d.aux = buf + 12;
    vn_status s = vn_be_gemm(&e->be, &d, buf, buf + 4, NULL, buf + 8);
    ck_assert_msg(s == VN_OK, "%s claims %s but it returned %s: %s", vn_ops_be_name(e), vn_op_name(op),
                  vn_status_str(s), vn_last_error());
    VN_ASSERT_OK(vn_be_synchronize(&e->be));
    vn_be_free(&e->be, buf);
}

/* ---- upload_async ------------------------------------------------------------------ */

static void expect_values(const vn_be *be, const float *dev, int64_t n, float (*value)(int64_t, int),
                          int tag, const char *what)
{
    float *back = vn_ops_host_floats(n);
    vn_ops_download(be, back, dev, n);
    for (int64_t i = 0; i < n; i++)
        if (memcmp(&back[i], &(float){value(i, tag)}, sizeof(float)) != 0)
            ck_abort_msg("%s: %s: element %lld is %g, not %g", be->table->name, what, (long long)i,
                         (double)back[i], (double)value(i, tag));
    free(back);
}

static float pattern(int64_t i, int tag)
{
    return (float)(i % 100003) * 0.25f + (float)tag;
}

static void fill_pattern(float *h, int64_t n, int tag)
{
    for (int64_t i = 0; i < n; i++)
        h[i] = pattern(i, tag);
}

/* What the caller may do after upload_async returns: reuse the host buffer. */
static void scribble(float *h, int64_t n)
{
    memset(h, 0xff, (size_t)n * sizeof *h); /* NaN */
}

/*
 * upload_async is ordered like upload: its data is there for every op queued after it,
 * the ops queued before it still see the old data, and the host buffer may be reused
 * the moment it returns. Many uploads in flight at once, and one larger than a device
 * would stage in one piece, must land too.
 */
OPS_CASE(upload_async_is_ordered, VN_OP_ADD)
{
    const vn_be *be = &e->be;
    const int64_t n = 100000;
    float *h = vn_ops_host_floats(n), *zeros = calloc((size_t)n, sizeof(float));
    ck_assert_ptr_nonnull(zeros);
    float *x = vn_ops_upload(be, zeros, n), *z = vn_ops_upload(be, zeros, n), *y = vn_ops_upload(be, NULL, n);

    fill_pattern(h, n, 1);
    VN_ASSERT_OK(vn_be_upload_async(be, x, h, (size_t)n * sizeof *h));
    scribble(h, n);
    VN_ASSERT_OK(vn_be_add(be, n, x, z, y));
    expect_values(be, y, n, pattern, 1, "an op after upload_async");

    fill_pattern(h, n, 2);
    VN_ASSERT_OK(vn_be_add(be, n, x, z, y));
    VN_ASSERT_OK(vn_be_upload_async(be, x, h, (size_t)n * sizeof *h));
    scribble(h, n);
    expect_values(be, y, n, pattern, 1, "an op before upload_async");
    expect_values(be, x, n, pattern, 2, "the upload_async destination");
    VN_ASSERT_OK(vn_be_upload_async(be, x, h, 0));

    enum { MANY = 40 };
    const int64_t small = 3000;
    float *bufs[MANY];
    for (int i = 0; i < MANY; i++) {
        bufs[i] = vn_ops_upload(be, NULL, small);
        fill_pattern(h, small, 10 + i);
        VN_ASSERT_OK(vn_be_upload_async(be, bufs[i], h, (size_t)small * sizeof *h));
        scribble(h, small);
        VN_ASSERT_OK(vn_be_add(be, small, bufs[i], z, bufs[i]));
    }
    for (int i = 0; i < MANY; i++) {
        expect_values(be, bufs[i], small, pattern, 10 + i, "one of many uploads in flight");
        vn_be_free(be, bufs[i]);
    }

    const int64_t big = 12 << 20; /* 48 MiB */
    float *hb = vn_ops_host_floats(big), *xb = vn_ops_upload(be, NULL, big);
    fill_pattern(hb, big, 3);
    VN_ASSERT_OK(vn_be_upload_async(be, xb, hb, (size_t)big * sizeof *hb));
    scribble(hb, big);
    VN_ASSERT_OK(vn_be_synchronize(be));
    expect_values(be, xb, big, pattern, 3, "a large upload_async");
    vn_be_free(be, xb), vn_be_free(be, x), vn_be_free(be, y), vn_be_free(be, z);
    free(hb), free(h), free(zeros);
}

void vn_ops_add_variant_tests(TCase *tc, int slot)
{
    const TTest *cases[] = {
        gemm_gelu_epilogue,
        gemm_tf32_matches_emulation,
        gemm_bf16_matches_emulation,
        gemm_bf16_act_matches_reference,
        upload_async_is_ordered,
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        tcase_add_loop_test(tc, cases[i], slot, slot + 1);
}
