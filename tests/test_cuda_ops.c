/*
 * The CUDA backend on a GPU, against the plain-C reference: GEMM over random shapes,
 * 1x1, odd sizes, all four transpose combinations, batched, strided with padded
 * leading dimensions, broadcast batches (stride 0), alpha/beta/bias, k = 0 and NaN in
 * C with beta = 0; add; device memory; supports() truthfulness. GEMM error is
 * ||C - R||_2 / ||R||_2 <= 1e-5 (the backend keeps cuBLAS off TF32 for this).
 *
 * Without a usable GPU the whole suite reports SKIP with the reason (exit code 77);
 * what can be checked without one is in test_cuda_fallback.c.
 */
#include "vn_test.h"

#include <math.h>
#include <string.h>

#include "backend/backend.h"
#include "core/rng.h"

#define TOL 1e-5

typedef struct pair {
    vn_be gpu, ref;
} pair;

static void open_pair(pair *p)
{
    vn_backend_config cfg = {1, 1, 0, 1};
    VN_ASSERT_OK(vn_be_open(&p->gpu, VN_BACKEND_CUDA, &cfg));
    VN_ASSERT_OK(vn_be_open(&p->ref, VN_BACKEND_REFERENCE, &cfg));
}

static void close_pair(pair *p)
{
    vn_be_close(&p->gpu);
    vn_be_close(&p->ref);
}

/* Device copy of n host floats (n may be 0: a real, empty allocation). */
static float *to_device(const vn_be *be, const float *host, int64_t n)
{
    void *d = NULL;
    VN_ASSERT_OK(vn_be_alloc(be, (size_t)n * sizeof(float), &d));
    ck_assert_ptr_nonnull(d);
    VN_ASSERT_OK(vn_be_upload(be, d, host, (size_t)n * sizeof(float)));
    return d;
}

static void to_host(const vn_be *be, float *host, const float *dev, int64_t n)
{
    VN_ASSERT_OK(vn_be_download(be, host, dev, (size_t)n * sizeof(float)));
}

static int64_t span(int64_t batch, int64_t bstride, int64_t rows, int64_t cols, int64_t ld)
{
    if (rows == 0 || cols == 0)
        return 1;
    return (batch - 1) * bstride + (rows - 1) * ld + cols;
}

static float *random_buffer(vn_rng *r, int64_t n)
{
    float *p = malloc((size_t)(n > 0 ? n : 1) * sizeof *p);
    ck_assert_ptr_nonnull(p);
    for (int64_t i = 0; i < n; i++)
        p[i] = (float)(vn_rng_uniform(r) * 2.0 - 1.0);
    return p;
}

static void describe(char *buf, size_t cap, const vn_gemm_desc *d)
{
    snprintf(buf, cap,
             "m=%lld n=%lld k=%lld batch=%lld ta=%d tb=%d lda=%lld ldb=%lld ldc=%lld sa=%lld sb=%lld sc=%lld a=%g b=%g",
             (long long)d->m, (long long)d->n, (long long)d->k, (long long)d->batch, d->trans_a, d->trans_b,
             (long long)d->lda, (long long)d->ldb, (long long)d->ldc, (long long)d->stride_a, (long long)d->stride_b,
             (long long)d->stride_c, d->alpha, d->beta);
}

/*
 * Run one desc on the GPU and on the reference and return the normalised error over
 * the C elements. c_fill, when not NULL, is the value C starts with (NaN tests);
 * k == 0 passes NULL operands, as the dispatcher allows.
 */
static double compare_filled(pair *p, const vn_gemm_desc *d, vn_rng *r, int with_bias, const float *c_fill)
{
    int64_t a_rows = d->trans_a ? d->k : d->m, a_cols = d->trans_a ? d->m : d->k;
    int64_t b_rows = d->trans_b ? d->n : d->k, b_cols = d->trans_b ? d->k : d->n;
    int64_t na = span(d->batch, d->stride_a, a_rows, a_cols, d->lda);
    int64_t nb = span(d->batch, d->stride_b, b_rows, b_cols, d->ldb);
    int64_t nc = span(d->batch, d->stride_c, d->m, d->n, d->ldc);
    float *a = random_buffer(r, na), *b = random_buffer(r, nb), *c0 = random_buffer(r, nc);
    if (c_fill)
        for (int64_t i = 0; i < nc; i++)
            c0[i] = *c_fill;
    float *bias = with_bias ? random_buffer(r, d->n > 0 ? d->n : 1) : NULL;
    float *c_gpu = malloc((size_t)nc * sizeof(float)), *c_ref = malloc((size_t)nc * sizeof(float));
    ck_assert(c_gpu && c_ref);
    memcpy(c_ref, c0, (size_t)nc * sizeof(float));

    int empty = d->k == 0;
    float *da = empty ? NULL : to_device(&p->gpu, a, na), *db = empty ? NULL : to_device(&p->gpu, b, nb);
    float *dc = to_device(&p->gpu, c0, nc), *dbias = bias ? to_device(&p->gpu, bias, d->n) : NULL;
    VN_ASSERT_OK(vn_be_gemm(&p->gpu, d, da, db, dbias, dc));
    to_host(&p->gpu, c_gpu, dc, nc);
    VN_ASSERT_OK(vn_be_gemm(&p->ref, d, empty ? NULL : a, empty ? NULL : b, bias, c_ref));

    double num = 0.0, den = 0.0;
    for (int64_t bi = 0; bi < d->batch; bi++)
        for (int64_t i = 0; i < d->m; i++)
            for (int64_t j = 0; j < d->n; j++) {
                int64_t off = bi * d->stride_c + i * d->ldc + j;
                ck_assert_msg(isfinite(c_gpu[off]), "non-finite result %g at offset %lld", (double)c_gpu[off],
                              (long long)off);
                double diff = (double)c_gpu[off] - c_ref[off];
                num += diff * diff;
                den += (double)c_ref[off] * c_ref[off];
            }
    /* Padding between rows and batches must be left alone. */
    for (int64_t off = 0; off < nc; off++) {
        int64_t bi = d->stride_c ? off / d->stride_c : 0;
        int64_t rem = off - bi * d->stride_c;
        int in_c = bi < d->batch && rem / d->ldc < d->m && rem % d->ldc < d->n;
        if (!in_c)
            ck_assert_msg(memcmp(&c_gpu[off], &c0[off], sizeof(float)) == 0, "gemm wrote outside C at offset %lld",
                          (long long)off);
    }
    vn_be_free(&p->gpu, da), vn_be_free(&p->gpu, db), vn_be_free(&p->gpu, dc), vn_be_free(&p->gpu, dbias);
    free(a), free(b), free(c0), free(bias), free(c_gpu), free(c_ref);
    return den > 0 ? sqrt(num / den) : sqrt(num);
}

static void check_desc_filled(pair *p, const vn_gemm_desc *d, vn_rng *r, int with_bias, const float *c_fill)
{
    double err = compare_filled(p, d, r, with_bias, c_fill);
    char what[400];
    describe(what, sizeof what, d);
    ck_assert_msg(err <= TOL, "relative error %.3g > %.0e for %s bias=%d", err, TOL, what, with_bias);
}

static void check_desc(pair *p, const vn_gemm_desc *d, vn_rng *r, int with_bias)
{
    check_desc_filled(p, d, r, with_bias, NULL);
}

/* ---- GEMM ---------------------------------------------------------------------------- */

START_TEST(gemm_one_by_one)
{
    pair p;
    open_pair(&p);
    vn_rng r;
    vn_rng_seed(&r, 11, 0);
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            vn_gemm_desc d = vn_gemm_desc_plain(ta, tb, 1, 1, 1);
            check_desc(&p, &d, &r, 0);
            check_desc(&p, &d, &r, 1);
        }
    /* An exact value, not only agreement with the reference. */
    float a = 3.0f, b = -2.0f, c = 100.0f, bias = 0.5f;
    float *da = to_device(&p.gpu, &a, 1), *db = to_device(&p.gpu, &b, 1), *dc = to_device(&p.gpu, &c, 1);
    float *dbias = to_device(&p.gpu, &bias, 1);
    vn_gemm_desc d = vn_gemm_desc_plain(0, 0, 1, 1, 1);
    d.beta = 1.0f;
    VN_ASSERT_OK(vn_be_gemm(&p.gpu, &d, da, db, dbias, dc));
    to_host(&p.gpu, &c, dc, 1);
    ck_assert_float_eq(c, 94.5f);
    vn_be_free(&p.gpu, da), vn_be_free(&p.gpu, db), vn_be_free(&p.gpu, dc), vn_be_free(&p.gpu, dbias);
    close_pair(&p);
}
END_TEST

START_TEST(gemm_random_shapes_all_transposes)
{
    pair p;
    open_pair(&p);
    vn_rng r;
    vn_rng_seed(&r, 12, 0);
    const int64_t odd[] = {1, 2, 3, 5, 7, 13, 17, 31, 33, 64, 65, 127, 129, 257};
    for (int trial = 0; trial < 64; trial++) {
        int ta = trial & 1, tb = (trial >> 1) & 1;
        int64_t m = odd[vn_rng_below(&r, 14)], n = odd[vn_rng_below(&r, 14)], k = odd[vn_rng_below(&r, 14)];
        vn_gemm_desc d = vn_gemm_desc_plain(ta, tb, m, n, k);
        check_desc(&p, &d, &r, trial % 3 == 0);
    }
    close_pair(&p);
}
END_TEST

START_TEST(gemm_alpha_beta_bias)
{
    pair p;
    open_pair(&p);
    vn_rng r;
    vn_rng_seed(&r, 13, 0);
    const float alphas[] = {1.0f, 0.5f, -2.0f};
    const float betas[] = {0.0f, 1.0f, 0.25f};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            for (int bias = 0; bias < 2; bias++)
                for (int t = 0; t < 4; t++) {
                    vn_gemm_desc d = vn_gemm_desc_plain(t & 1, t >> 1, 19, 23, 29);
                    d.alpha = alphas[i];
                    d.beta = betas[j];
                    check_desc(&p, &d, &r, bias);
                }
    close_pair(&p);
}
END_TEST

START_TEST(gemm_batched_strided_broadcast)
{
    pair p;
    open_pair(&p);
    vn_rng r;
    vn_rng_seed(&r, 14, 0);
    for (int trial = 0; trial < 48; trial++) {
        int ta = trial & 1, tb = (trial >> 1) & 1;
        int64_t m = 1 + (int64_t)vn_rng_below(&r, 40), n = 1 + (int64_t)vn_rng_below(&r, 40);
        int64_t k = 1 + (int64_t)vn_rng_below(&r, 40), batch = 1 + (int64_t)vn_rng_below(&r, 6);
        vn_gemm_desc d = vn_gemm_desc_plain(ta, tb, m, n, k);
        d.batch = batch;
        /* Padded leading dimensions and gaps between batch matrices. */
        d.lda += (int64_t)vn_rng_below(&r, 5);
        d.ldb += (int64_t)vn_rng_below(&r, 5);
        d.ldc += (int64_t)vn_rng_below(&r, 5);
        int64_t a_rows = ta ? k : m, b_rows = tb ? n : k;
        d.stride_a = a_rows * d.lda + (int64_t)vn_rng_below(&r, 9);
        d.stride_b = b_rows * d.ldb + (int64_t)vn_rng_below(&r, 9);
        d.stride_c = m * d.ldc + (int64_t)vn_rng_below(&r, 9);
        if (trial % 4 == 3)
            d.stride_b = 0; /* one weight matrix shared by every batch entry */
        if (trial % 8 == 5)
            d.stride_a = 0;
        if (trial % 12 == 7)
            d.stride_a = d.stride_b = 0;
        d.alpha = trial % 5 == 2 ? -0.75f : 1.0f;
        d.beta = trial % 2 ? 1.0f : (trial % 6 == 4 ? 0.5f : 0.0f);
        check_desc(&p, &d, &r, trial % 3 == 1);
    }
    close_pair(&p);
}
END_TEST

START_TEST(gemm_large)
{
    pair p;
    open_pair(&p);
    vn_rng r;
    vn_rng_seed(&r, 15, 0);
    vn_gemm_desc d = vn_gemm_desc_plain(0, 1, 257, 384, 512);
    check_desc(&p, &d, &r, 1);
    d = vn_gemm_desc_plain(1, 0, 96, 96, 1000);
    d.batch = 8;
    d.stride_a = 96 * 1000, d.stride_b = 96 * 1000, d.stride_c = 96 * 96;
    check_desc(&p, &d, &r, 1);
    close_pair(&p);
}
END_TEST

START_TEST(gemm_empty_k_and_empty_output)
{
    pair p;
    open_pair(&p);
    vn_rng r;
    vn_rng_seed(&r, 16, 0);
    /* k = 0: the product is empty, so C = beta*C + bias, with NULL operands. */
    vn_gemm_desc d = vn_gemm_desc_plain(0, 0, 4, 5, 0);
    d.lda = 1, d.ldb = 5;
    d.beta = 0.5f;
    check_desc(&p, &d, &r, 1);
    d.beta = 0.0f;
    check_desc(&p, &d, &r, 0);
    /* Batched, with padded rows and gaps between the matrices. */
    d.batch = 3, d.ldc = 7, d.stride_c = 4 * 7 + 2;
    d.beta = 1.0f;
    check_desc(&p, &d, &r, 1);
    /* m = 0 or n = 0: nothing to do, and NULL pointers are fine. */
    d = vn_gemm_desc_plain(0, 0, 0, 5, 3);
    VN_ASSERT_OK(vn_be_gemm(&p.gpu, &d, NULL, NULL, NULL, NULL));
    VN_ASSERT_OK(vn_be_synchronize(&p.gpu));
    close_pair(&p);
}
END_TEST

START_TEST(gemm_beta_zero_ignores_nan)
{
    pair p;
    open_pair(&p);
    vn_rng r;
    vn_rng_seed(&r, 17, 0);
    const float nan = NAN;
    for (int t = 0; t < 4; t++) {
        vn_gemm_desc d = vn_gemm_desc_plain(t & 1, t >> 1, 9, 11, 7);
        check_desc_filled(&p, &d, &r, t & 1, &nan);
        d = vn_gemm_desc_plain(t & 1, t >> 1, 3, 4, 0); /* the k = 0 path too */
        d.lda = t & 1 ? 3 : 1, d.ldb = t >> 1 ? 1 : 4;
        check_desc_filled(&p, &d, &r, t & 1, &nan);
    }
    close_pair(&p);
}
END_TEST

/* Same inputs, same stream, same GPU: the same bits, as `deterministic` promises. */
START_TEST(gemm_is_repeatable)
{
    pair p;
    open_pair(&p);
    vn_rng r;
    vn_rng_seed(&r, 18, 0);
    vn_gemm_desc d = vn_gemm_desc_plain(0, 1, 200, 300, 1500);
    float *a = random_buffer(&r, 200 * 1500), *b = random_buffer(&r, 300 * 1500), *bias = random_buffer(&r, 300);
    float *c1 = malloc(200 * 300 * sizeof(float)), *c2 = malloc(200 * 300 * sizeof(float));
    float *da = to_device(&p.gpu, a, 200 * 1500), *db = to_device(&p.gpu, b, 300 * 1500);
    float *dbias = to_device(&p.gpu, bias, 300), *dc = NULL;
    VN_ASSERT_OK(vn_be_alloc(&p.gpu, 200 * 300 * sizeof(float), (void **)&dc));
    VN_ASSERT_OK(vn_be_gemm(&p.gpu, &d, da, db, dbias, dc));
    to_host(&p.gpu, c1, dc, 200 * 300);
    VN_ASSERT_OK(vn_be_gemm(&p.gpu, &d, da, db, dbias, dc));
    to_host(&p.gpu, c2, dc, 200 * 300);
    ck_assert_int_eq(memcmp(c1, c2, 200 * 300 * sizeof(float)), 0);
    vn_be_free(&p.gpu, da), vn_be_free(&p.gpu, db), vn_be_free(&p.gpu, dbias), vn_be_free(&p.gpu, dc);
    free(a), free(b), free(bias), free(c1), free(c2);
    close_pair(&p);
}
END_TEST

START_TEST(gemm_bad_descriptors_are_rejected)
{
    pair p;
    open_pair(&p);
    float *buf = NULL;
    VN_ASSERT_OK(vn_be_alloc(&p.gpu, 64 * sizeof(float), (void **)&buf));
    vn_gemm_desc d = vn_gemm_desc_plain(0, 0, 4, 4, 4);
    d.lda = 2;
    VN_ASSERT_FAILS(vn_be_gemm(&p.gpu, &d, buf, buf, NULL, buf), VN_ERR_SHAPE);
    d = vn_gemm_desc_plain(0, 0, 2, 2, 2);
    d.batch = 2, d.stride_c = 1;
    VN_ASSERT_FAILS(vn_be_gemm(&p.gpu, &d, buf, buf, NULL, buf), VN_ERR_SHAPE);
    d = vn_gemm_desc_plain(0, 0, 2, 2, 2);
    VN_ASSERT_FAILS(vn_be_gemm(&p.gpu, &d, NULL, buf, NULL, buf), VN_ERR_INVALID_ARG);
    vn_be_free(&p.gpu, buf);
    close_pair(&p);
}
END_TEST

/* ---- add ----------------------------------------------------------------------------- */

START_TEST(add_matches_reference)
{
    pair p;
    open_pair(&p);
    vn_rng r;
    vn_rng_seed(&r, 19, 0);
    /* Around the block size (256) and beyond the grid cap (65535 blocks of 256). */
    const int64_t sizes[] = {1, 2, 255, 256, 257, 1000, 100003, 65535 * 256 + 17};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        int64_t n = sizes[s];
        float *a = random_buffer(&r, n), *b = random_buffer(&r, n);
        float *y_gpu = malloc((size_t)n * sizeof(float)), *y_ref = malloc((size_t)n * sizeof(float));
        ck_assert(y_gpu && y_ref);
        float *da = to_device(&p.gpu, a, n), *db = to_device(&p.gpu, b, n), *dy = NULL;
        VN_ASSERT_OK(vn_be_alloc(&p.gpu, (size_t)n * sizeof(float), (void **)&dy));
        VN_ASSERT_OK(vn_be_add(&p.gpu, n, da, db, dy));
        to_host(&p.gpu, y_gpu, dy, n);
        VN_ASSERT_OK(vn_be_add(&p.ref, n, a, b, y_ref));
        /* One correctly rounded fp32 addition on both sides: the bits must agree. */
        ck_assert_msg(memcmp(y_gpu, y_ref, (size_t)n * sizeof(float)) == 0, "add differs for n=%lld", (long long)n);
        /* In place: y aliases a. */
        VN_ASSERT_OK(vn_be_add(&p.gpu, n, da, db, da));
        to_host(&p.gpu, y_gpu, da, n);
        ck_assert_msg(memcmp(y_gpu, y_ref, (size_t)n * sizeof(float)) == 0, "in-place add differs for n=%lld",
                      (long long)n);
        vn_be_free(&p.gpu, da), vn_be_free(&p.gpu, db), vn_be_free(&p.gpu, dy);
        free(a), free(b), free(y_gpu), free(y_ref);
    }
    /* n = 0 does nothing and succeeds. */
    float *dummy = NULL;
    VN_ASSERT_OK(vn_be_alloc(&p.gpu, 0, (void **)&dummy));
    ck_assert_ptr_nonnull(dummy);
    VN_ASSERT_OK(vn_be_add(&p.gpu, 0, dummy, dummy, dummy));
    VN_ASSERT_OK(vn_be_synchronize(&p.gpu));
    vn_be_free(&p.gpu, dummy);
    close_pair(&p);
}
END_TEST

/* ---- supports, devices, contexts ----------------------------------------------------- */

START_TEST(supports_is_truthful)
{
    pair p;
    open_pair(&p);
    const vn_backend *t = p.gpu.table;
    const int has[VN_OP_COUNT] = {
        [VN_OP_GEMM] = t->gemm != NULL, [VN_OP_ADD] = t->add != NULL,   [VN_OP_MUL] = t->mul != NULL,
        [VN_OP_SCALE] = t->scale != NULL, [VN_OP_AXPY] = t->axpy != NULL, [VN_OP_SUM] = t->sum != NULL,
        [VN_OP_SUMSQ] = t->sumsq != NULL, [VN_OP_MAX] = t->max != NULL,
    };
    float *buf = NULL;
    VN_ASSERT_OK(vn_be_alloc(&p.gpu, 16 * sizeof(float), (void **)&buf));
    for (int op = 0; op < VN_OP_COUNT; op++) {
        ck_assert_int_eq(vn_be_supports(&p.gpu, (vn_op)op), has[op]);
        if (has[op])
            continue;
        /* An unsupported op is refused with a message naming it, never run elsewhere. */
        vn_status s = VN_OK;
        vn_clear_error();
        switch ((vn_op)op) {
        case VN_OP_MUL: s = vn_be_mul(&p.gpu, 4, buf, buf, buf); break;
        case VN_OP_SCALE: s = vn_be_scale(&p.gpu, 4, 2.0f, buf, buf); break;
        case VN_OP_AXPY: s = vn_be_axpy(&p.gpu, 4, 2.0f, buf, buf); break;
        case VN_OP_SUM: s = vn_be_sum(&p.gpu, 4, buf, buf); break;
        case VN_OP_SUMSQ: s = vn_be_sumsq(&p.gpu, 4, buf, buf); break;
        case VN_OP_MAX: s = vn_be_max(&p.gpu, 4, buf, buf); break;
        default: ck_abort_msg("op %s has no pointer but is required", vn_op_name((vn_op)op));
        }
        ck_assert_int_eq(s, VN_ERR_UNSUPPORTED);
        ck_assert_ptr_nonnull(strstr(vn_last_error(), vn_op_name((vn_op)op)));
    }
    ck_assert(vn_be_supports(&p.gpu, VN_OP_GEMM));
    ck_assert(vn_be_supports(&p.gpu, VN_OP_ADD));
    vn_be_free(&p.gpu, buf);
    close_pair(&p);
}
END_TEST

START_TEST(device_info_and_bad_index)
{
    int n = 0;
    VN_ASSERT_OK(vn_device_count(VN_BACKEND_CUDA, &n));
    ck_assert_int_ge(n, 1);
    for (int i = 0; i < n; i++) {
        vn_device_info info = VN_DEVICE_INFO_INIT;
        VN_ASSERT_OK(vn_device_get_info(VN_BACKEND_CUDA, i, &info));
        ck_assert_int_eq(info.index, i);
        ck_assert_int_eq(info.backend, VN_BACKEND_CUDA);
        ck_assert(info.name[0] != '\0');
        ck_assert_uint_gt(info.memory_bytes, 0);
        ck_assert_int_gt(info.compute_units, 0);
        ck_assert_int_ge(info.capability_major, 1);
    }
    vn_device_info info = VN_DEVICE_INFO_INIT;
    VN_ASSERT_FAILS(vn_device_get_info(VN_BACKEND_CUDA, n, &info), VN_ERR_NOT_FOUND);

    unsetenv("VN_BACKEND");
    vn_context_options o = VN_CONTEXT_OPTIONS_INIT;
    o.backend = VN_BACKEND_CUDA;
    o.device = n; /* one past the last */
    vn_context *ctx = NULL;
    VN_ASSERT_FAILS(vn_context_create(&ctx, &o), VN_ERR_NOT_FOUND);
    ck_assert_ptr_null(ctx);
    o.device = 0;
    VN_ASSERT_OK(vn_context_create(&ctx, &o));
    vn_backend_kind k = VN_BACKEND_AUTO;
    VN_ASSERT_OK(vn_context_backend(ctx, &k));
    ck_assert_int_eq(k, VN_BACKEND_CUDA);
    vn_context_destroy(ctx);
}
END_TEST

static Suite *cuda_suite(void)
{
    Suite *s = suite_create("cuda_ops");
    TCase *tc = tcase_create("cuda_vs_reference");
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, gemm_one_by_one);
    tcase_add_test(tc, gemm_random_shapes_all_transposes);
    tcase_add_test(tc, gemm_alpha_beta_bias);
    tcase_add_test(tc, gemm_batched_strided_broadcast);
    tcase_add_test(tc, gemm_large);
    tcase_add_test(tc, gemm_empty_k_and_empty_output);
    tcase_add_test(tc, gemm_beta_zero_ignores_nan);
    tcase_add_test(tc, gemm_is_repeatable);
    tcase_add_test(tc, gemm_bad_descriptors_are_rejected);
    tcase_add_test(tc, add_matches_reference);
    tcase_add_test(tc, supports_is_truthful);
    tcase_add_test(tc, device_info_and_bad_index);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    int ok = 0;
    const char *why = "";
    if (vn_backend_available(VN_BACKEND_CUDA, &ok, &why) != VN_OK)
        return vn_test_skip("cuda_ops", vn_last_error());
    if (!ok)
        return vn_test_skip("cuda_ops", why);
    return vn_test_run(cuda_suite());
}
