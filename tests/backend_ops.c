/*
 * The backend-ops harness (see backend_ops.h). Each case opens the backend under
 * test and the reference, feeds both the same host data through upload, and
 * compares what download brings back:
 *   GEMM         ||C - R||_2 / ||R||_2 <= VN_OPS_GEMM_TOL, finite, nothing outside C touched;
 *                TF32 and BF16 against the reference's emulation within their NMSE,
 *                the GELU epilogue's output within the target's gelu_nmse
 *   elementwise  the reference's bits (axpy: the target's NMSE, when it allows one)
 *   reductions   sum within 1e-6 of the sum of magnitudes, sumsq within 1e-6
 *                relative, max exact
 * An op the backend does not support is not compared: the case checks that the
 * dispatcher refuses it with VN_ERR_UNSUPPORTED and a message naming it, and
 * prints that the op was skipped for that backend.
 *
 * The GEMM comparison, the cases of the GEMM variants and upload_async's live in
 * backend_ops_variants.c; backend_ops_internal.h has what the two files share.
 */
#include "backend_ops_internal.h"

#include <math.h>
#include <string.h>

/* Check test functions take no arguments but a loop index: the index is the
 * target's slot here. */
#define MAX_TARGETS 4
static vn_ops_target targets[MAX_TARGETS];
static int n_targets;

/* Lengths for elementwise ops and reductions, on both sides of the boundaries where
 * the backends split work, since tails and remainders are where kernels go wrong. */
static const int64_t sizes[] = {
    1, 2, 15, 16, 17,         /* the cpu's vector width (16 lanes) */
    255, 256, 257, 1000,      /* the cuda kernels' block (256 threads) */
    8191, 8192, 8193,         /* the cpu's reduction block */
    32768, 40001,             /* the cpu's threading threshold */
    100003, 200003,           /* many blocks and threads */
    65535 * 256 + 17,         /* past the cuda grid cap (65535 blocks of 256) */
};
#define N_SIZES (int)(sizeof sizes / sizeof sizes[0])

/* ---- opening and memory ------------------------------------------------------------ */

static void open_backend(const vn_ops_target *t, vn_be *be)
{
    if (!t->table) {
        VN_ASSERT_OK(vn_be_open(be, t->kind, &t->cfg));
        return;
    }
    /* vn_be_open only knows the build's tables. */
    memset(be, 0, sizeof *be);
    const char *why = "";
    ck_assert_msg(t->table->available(&why), "%s is not available: %s", t->table->name, why);
    VN_ASSERT_OK(t->table->init(&be->state, &t->cfg));
    be->table = t->table;
}

void vn_ops_open(const vn_ops_target *t, vn_be *be, vn_be *ref)
{
    open_backend(t, be);
    VN_ASSERT_OK(vn_be_open(ref, VN_BACKEND_REFERENCE, &t->cfg));
}

void vn_ops_close(vn_be *be, vn_be *ref)
{
    vn_be_close(be);
    vn_be_close(ref);
}

float *vn_ops_random(vn_rng *r, int64_t n)
{
    float *p = vn_ops_host_floats(n);
    for (int64_t i = 0; i < n; i++)
        p[i] = (float)(vn_rng_uniform(r) * 2.0 - 1.0);
    return p;
}

/* Wider than vn_ops_random, so that elementwise results span several binades. */
static float *random_normal(vn_rng *r, int64_t n)
{
    float *p = vn_ops_host_floats(n);
    for (int64_t i = 0; i < n; i++)
        p[i] = (float)(vn_rng_normal(r) * 3.0);
    return p;
}

float *vn_ops_upload(const vn_be *be, const float *host, int64_t n)
{
    void *p = NULL;
    VN_ASSERT_OK(vn_be_alloc(be, (size_t)n * sizeof(float), &p));
    /* Also for n = 0: ops refuse NULL buffers, so an empty allocation must be real. */
    ck_assert_msg(p != NULL, "%s: alloc of %lld floats gave NULL", be->table->name, (long long)n);
    if (host)
        VN_ASSERT_OK(vn_be_upload(be, p, host, (size_t)n * sizeof(float)));
    return p;
}

void vn_ops_download(const vn_be *be, float *host, const float *src, int64_t n)
{
    VN_ASSERT_OK(vn_be_download(be, host, src, (size_t)n * sizeof(float)));
}

static float download_one(const vn_be *be, const float *src)
{
    float v;
    vn_ops_download(be, &v, src, 1);
    return v;
}

/* ---- one case ---------------------------------------------------------------------- */

static int has_op(vn_ops_env *e, vn_op op);

void vn_ops_run_case(int slot, const char *case_name, vn_op op, void (*body)(vn_ops_env *e))
{
    ck_assert_int_lt(slot, n_targets);
    vn_ops_env e = {.t = &targets[slot], .case_name = case_name};
    vn_ops_open(e.t, &e.be, &e.ref);
    if (op == VN_OP_COUNT || has_op(&e, op))
        body(&e);
    vn_ops_close(&e.be, &e.ref);
}

/* Whether the backend has op. When it has not, the op must be refused, never run
 * somewhere else behind the caller's back, and the skip is said out loud. */
static int has_op(vn_ops_env *e, vn_op op)
{
    if (vn_be_supports(&e->be, op))
        return 1;
    if (op == VN_OP_NN || op == VN_OP_ALLREDUCE) {
        /* Not ops the dispatcher runs: without the engine table the engine uses its host
         * ops; without collectives data parallelism reduces through the host. */
        if (op == VN_OP_NN)
            ck_assert_ptr_null(vn_be_nn(&e->be));
        printf("backend_ops: %s: %s skipped for %s, which has no engine table\n", e->case_name, vn_op_name(op),
               vn_ops_be_name(e));
        fflush(stdout);
        return 0;
    }
    float *buf = vn_ops_upload(&e->be, NULL, 16);
    vn_gemm_desc d = vn_gemm_desc_plain(0, 0, 2, 2, 2);
    vn_status s = VN_OK;
    vn_clear_error();
    switch (op) {
    case VN_OP_GEMM: s = vn_be_gemm(&e->be, &d, buf, buf, NULL, buf); break;
    case VN_OP_ADD: s = vn_be_add(&e->be, 4, buf, buf, buf); break;
    case VN_OP_MUL: s = vn_be_mul(&e->be, 4, buf, buf, buf); break;
    case VN_OP_SCALE: s = vn_be_scale(&e->be, 4, 2.0f, buf, buf); break;
    case VN_OP_AXPY: s = vn_be_axpy(&e->be, 4, 2.0f, buf, buf); break;
    case VN_OP_SUM: s = vn_be_sum(&e->be, 4, buf, buf); break;
    case VN_OP_SUMSQ: s = vn_be_sumsq(&e->be, 4, buf, buf); break;
    case VN_OP_MAX: s = vn_be_max(&e->be, 4, buf, buf); break;
    case VN_OP_GEMM_TF32:
    case VN_OP_GEMM_BF16:
        d.precision = op == VN_OP_GEMM_TF32 ? VN_GEMM_TF32 : VN_GEMM_BF16;
        s = vn_be_gemm(&e->be, &d, buf, buf, NULL, buf);
        break;
    case VN_OP_GEMM_GELU:
        d.epilogue = VN_GEMM_EPI_GELU, d.aux = buf + 8;
        s = vn_be_gemm(&e->be, &d, buf, buf, NULL, buf);
        break;
    case VN_OP_GEMM_BF16_ACT:
        d.precision = VN_GEMM_BF16;
        s = vn_be_gemm_bf16_act(&e->be, &d, (const uint16_t *)buf, buf, NULL, buf, 1);
        break;
    case VN_OP_NN:
    case VN_OP_ALLREDUCE:
    case VN_OP_COUNT: ck_abort_msg("has_op(%s)", vn_op_name(op));
    }
    ck_assert_msg(s == VN_ERR_UNSUPPORTED, "%s: unsupported op %s returned %s, not VN_ERR_UNSUPPORTED (%s)",
                  vn_ops_be_name(e), vn_op_name(op), vn_status_str(s), vn_last_error());
    ck_assert_msg(strstr(vn_last_error(), vn_op_name(op)) != NULL,
                  "%s: refusing %s, the message does not name the op: '%s'", vn_ops_be_name(e), vn_op_name(op),
                  vn_last_error());
    printf("backend_ops: %s: %s skipped for %s, which refuses it: %s\n", e->case_name, vn_op_name(op),
           vn_ops_be_name(e), vn_last_error());
    fflush(stdout);
    vn_be_free(&e->be, buf);
    return 0;
}

/* ---- GEMM -------------------------------------------------------------------------- */

OPS_CASE(gemm_one_by_one, VN_OP_GEMM)
{
    vn_rng r;
    vn_rng_seed(&r, 1, 0);
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            vn_gemm_desc d = vn_gemm_desc_plain(ta, tb, 1, 1, 1);
            vn_ops_check(e, &d, &r, 0, NULL);
            vn_ops_check(e, &d, &r, 1, NULL);
        }
}

/* Known answers, so that a fault shared with the reference cannot hide. */
OPS_CASE(gemm_exact_values, VN_OP_GEMM)
{
    float a = 3.0f, b = -2.0f, c = 100.0f, bias = 0.5f;
    vn_gemm_desc d = vn_gemm_desc_plain(0, 0, 1, 1, 1);
    vn_ops_gemm_on(&e->be, &d, &a, 1, &b, 1, NULL, &c, 1, &c, NULL, NULL);
    ck_assert_float_eq(c, -6.0f);
    c = 100.0f;
    d.beta = 1.0f;
    vn_ops_gemm_on(&e->be, &d, &a, 1, &b, 1, &bias, &c, 1, &c, NULL, NULL);
    ck_assert_float_eq(c, 94.5f);

    /* beta = 0 ignores C, NaN included, as BLAS does. */
    float a6[6] = {1, 2, 3, 4, 5, 6}, b6[6] = {1, 0, 0, 1, 1, 1};
    float c4[4] = {NAN, NAN, NAN, NAN};
    d = vn_gemm_desc_plain(0, 0, 2, 2, 3);
    vn_ops_gemm_on(&e->be, &d, a6, 6, b6, 6, NULL, c4, 4, c4, NULL, NULL);
    ck_assert_float_eq(c4[0], 4.0f);
    ck_assert_float_eq(c4[1], 5.0f);
    ck_assert_float_eq(c4[2], 10.0f);
    ck_assert_float_eq(c4[3], 11.0f);
}

OPS_CASE(gemm_random_shapes_all_transposes, VN_OP_GEMM)
{
    vn_rng r;
    vn_rng_seed(&r, 2, 0);
    const int64_t odd[] = {1, 2, 3, 5, 7, 13, 17, 31, 33, 64, 65, 127, 129, 257};
    const uint64_t n_odd = sizeof odd / sizeof odd[0];
    for (int trial = 0; trial < 64; trial++) {
        int ta = trial & 1, tb = (trial >> 1) & 1;
        int64_t m = odd[vn_rng_below(&r, n_odd)], n = odd[vn_rng_below(&r, n_odd)];
        int64_t k = odd[vn_rng_below(&r, n_odd)];
        vn_gemm_desc d = vn_gemm_desc_plain(ta, tb, m, n, k);
        vn_ops_check(e, &d, &r, trial % 3 == 0, NULL);
    }
}

OPS_CASE(gemm_alpha_beta_bias, VN_OP_GEMM)
{
    vn_rng r;
    vn_rng_seed(&r, 3, 0);
    const float alphas[] = {1.0f, 0.5f, -2.0f};
    const float betas[] = {0.0f, 1.0f, 0.25f};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            for (int bias = 0; bias < 2; bias++)
                for (int t = 0; t < 4; t++) {
                    vn_gemm_desc d = vn_gemm_desc_plain(t & 1, t >> 1, 19, 23, 29);
                    d.alpha = alphas[i];
                    d.beta = betas[j];
                    vn_ops_check(e, &d, &r, bias, NULL);
                }
}

OPS_CASE(gemm_batched_strided_broadcast, VN_OP_GEMM)
{
    vn_rng r;
    vn_rng_seed(&r, 4, 0);
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
        d.alpha = trial % 5 == 2 ? -0.75f : 1.0f;
        d.beta = trial % 2 ? 1.0f : (trial % 6 == 4 ? 0.5f : 0.0f);
        vn_ops_check(e, &d, &r, trial % 3 == 1, NULL);
    }
}

/* A and B both broadcast: every output matrix gets the same product, and its own
 * beta * C and bias. */
OPS_CASE(gemm_both_operands_broadcast, VN_OP_GEMM)
{
    vn_rng r;
    vn_rng_seed(&r, 9, 0);
    const float betas[] = {0.0f, 1.0f, 0.5f};
    for (int trial = 0; trial < 24; trial++) {
        int ta = trial & 1, tb = (trial >> 1) & 1;
        int64_t m = 1 + (int64_t)vn_rng_below(&r, 30), n = 1 + (int64_t)vn_rng_below(&r, 30);
        int64_t k = 1 + (int64_t)vn_rng_below(&r, 30);
        vn_gemm_desc d = vn_gemm_desc_plain(ta, tb, m, n, k);
        d.batch = 2 + (int64_t)vn_rng_below(&r, 5);
        d.lda += (int64_t)vn_rng_below(&r, 3);
        d.ldb += (int64_t)vn_rng_below(&r, 3);
        d.ldc += (int64_t)vn_rng_below(&r, 3);
        d.stride_a = d.stride_b = 0;
        d.stride_c = m * d.ldc + (int64_t)vn_rng_below(&r, 5);
        d.alpha = trial % 5 == 2 ? -0.75f : 1.0f;
        d.beta = betas[(trial >> 2) % 3];
        int with_bias = trial % 3 == 1;
        vn_ops_check(e, &d, &r, with_bias, NULL);
    }
}

/* Big enough for the fast paths: threads on the cpu, tiled kernels on a GPU. */
OPS_CASE(gemm_large, VN_OP_GEMM)
{
    vn_rng r;
    vn_rng_seed(&r, 5, 0);
    vn_gemm_desc d = vn_gemm_desc_plain(0, 1, 257, 384, 512);
    vn_ops_check(e, &d, &r, 1, NULL);
    d = vn_gemm_desc_plain(1, 0, 96, 96, 1000);
    d.batch = 8;
    d.stride_a = 96 * 1000, d.stride_b = 96 * 1000, d.stride_c = 96 * 96;
    /* With and without bias: the cpu folds the bias into the primitive. */
    vn_ops_check(e, &d, &r, 0, NULL);
    vn_ops_check(e, &d, &r, 1, NULL);
}

OPS_CASE(gemm_empty_k_and_empty_output, VN_OP_GEMM)
{
    vn_rng r;
    vn_rng_seed(&r, 6, 0);
    /* k = 0: the product is empty, so C = beta*C + bias. */
    vn_gemm_desc d = vn_gemm_desc_plain(0, 0, 4, 5, 0);
    d.lda = 1, d.ldb = 5;
    d.beta = 0.5f;
    vn_ops_check(e, &d, &r, 1, NULL);
    d.beta = 0.0f;
    vn_ops_check(e, &d, &r, 0, NULL);
    /* Batched, with padded rows and gaps between the matrices. */
    d.batch = 3, d.ldc = 7, d.stride_c = 4 * 7 + 2;
    d.beta = 1.0f;
    vn_ops_check(e, &d, &r, 1, NULL);
    /* m = 0 or n = 0: nothing to do, and NULL pointers are fine. */
    d = vn_gemm_desc_plain(0, 0, 0, 5, 3);
    VN_ASSERT_OK(vn_be_gemm(&e->be, &d, NULL, NULL, NULL, NULL));
    d = vn_gemm_desc_plain(0, 0, 5, 0, 3);
    d.ldb = d.ldc = 1; /* leading dimensions are at least 1 even for n = 0 */
    VN_ASSERT_OK(vn_be_gemm(&e->be, &d, NULL, NULL, NULL, NULL));
    VN_ASSERT_OK(vn_be_synchronize(&e->be));
}

OPS_CASE(gemm_beta_zero_ignores_nan, VN_OP_GEMM)
{
    vn_rng r;
    vn_rng_seed(&r, 7, 0);
    const float nan = NAN;
    for (int t = 0; t < 4; t++) {
        vn_gemm_desc d = vn_gemm_desc_plain(t & 1, t >> 1, 9, 11, 7);
        vn_ops_check(e, &d, &r, t & 1, &nan);
        d = vn_gemm_desc_plain(t & 1, t >> 1, 3, 4, 0); /* the k = 0 path too */
        d.lda = t & 1 ? 3 : 1, d.ldb = t >> 1 ? 1 : 4;
        vn_ops_check(e, &d, &r, t & 1, &nan);
    }
}

/* Same inputs, same instance: the same bits, as `deterministic` promises, for fp32 and
 * for each GEMM variant the backend has. */
OPS_CASE(gemm_is_repeatable, VN_OP_GEMM)
{
    if (!e->t->cfg.deterministic) {
        printf("backend_ops: gemm_is_repeatable: skipped for %s, which runs without `deterministic`\n",
               vn_ops_be_name(e));
        fflush(stdout);
        return;
    }
    vn_rng r;
    vn_rng_seed(&r, 8, 0);
    const int64_t m = 200, n = 300, k = 1500;
    float *a = vn_ops_random(&r, m * k), *b = vn_ops_random(&r, n * k), *bias = vn_ops_random(&r, n);
    float *c1 = vn_ops_host_floats(m * n), *c2 = vn_ops_host_floats(m * n);
    float *da = vn_ops_upload(&e->be, a, m * k), *db = vn_ops_upload(&e->be, b, n * k);
    float *dbias = vn_ops_upload(&e->be, bias, n), *dc = vn_ops_upload(&e->be, NULL, m * n);
    float *daux = vn_ops_upload(&e->be, NULL, m * n);
    const struct {
        vn_op op;
        vn_gemm_precision precision;
        vn_gemm_epilogue epilogue;
    } variants[] = {
        {VN_OP_GEMM, VN_GEMM_FP32, VN_GEMM_EPI_NONE},
        {VN_OP_GEMM_TF32, VN_GEMM_TF32, VN_GEMM_EPI_NONE},
        {VN_OP_GEMM_BF16, VN_GEMM_BF16, VN_GEMM_EPI_NONE},
        {VN_OP_GEMM_GELU, VN_GEMM_FP32, VN_GEMM_EPI_GELU},
    };
    for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
        if (!vn_be_supports(&e->be, variants[v].op))
            continue;
        vn_gemm_desc d = vn_gemm_desc_plain(0, 1, m, n, k);
        d.precision = variants[v].precision, d.epilogue = variants[v].epilogue, d.aux = daux;
        VN_ASSERT_OK(vn_be_gemm(&e->be, &d, da, db, dbias, dc));
        vn_ops_download(&e->be, c1, dc, m * n);
        VN_ASSERT_OK(vn_be_gemm(&e->be, &d, da, db, dbias, dc));
        vn_ops_download(&e->be, c2, dc, m * n);
        ck_assert_msg(memcmp(c1, c2, (size_t)(m * n) * sizeof(float)) == 0, "%s: a repeated %s changed bits",
                      vn_ops_be_name(e), vn_op_name(variants[v].op));
    }
    vn_be_free(&e->be, da), vn_be_free(&e->be, db), vn_be_free(&e->be, dbias), vn_be_free(&e->be, dc);
    vn_be_free(&e->be, daux);
    free(a), free(b), free(bias), free(c1), free(c2);
}

OPS_CASE(gemm_bad_descriptors_are_rejected, VN_OP_GEMM)
{
    const vn_be *be = &e->be;
    float *buf = vn_ops_upload(be, NULL, 64);
    vn_gemm_desc d = vn_gemm_desc_plain(0, 0, 4, 4, 4);
    d.lda = 2; /* below k */
    VN_ASSERT_FAILS(vn_be_gemm(be, &d, buf, buf, NULL, buf), VN_ERR_SHAPE);
    d = vn_gemm_desc_plain(0, 0, -1, 4, 4);
    VN_ASSERT_FAILS(vn_be_gemm(be, &d, buf, buf, NULL, buf), VN_ERR_SHAPE);
    d = vn_gemm_desc_plain(0, 0, 4, 4, 4);
    d.batch = 0;
    VN_ASSERT_FAILS(vn_be_gemm(be, &d, buf, buf, NULL, buf), VN_ERR_SHAPE);
    d = vn_gemm_desc_plain(0, 0, 2, 2, 2);
    d.batch = 2, d.stride_c = 1; /* outputs overlap */
    VN_ASSERT_FAILS(vn_be_gemm(be, &d, buf, buf, NULL, buf), VN_ERR_SHAPE);
    d = vn_gemm_desc_plain(0, 0, 2, 2, 2);
    VN_ASSERT_FAILS(vn_be_gemm(be, &d, NULL, buf, NULL, buf), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_be_gemm(be, NULL, buf, buf, NULL, buf), VN_ERR_INVALID_ARG);
    vn_be closed = {0};
    VN_ASSERT_FAILS(vn_be_gemm(&closed, &d, buf, buf, NULL, buf), VN_ERR_STATE);
    vn_be_free(be, buf);
}

/* ---- elementwise ------------------------------------------------------------------- */

static const vn_op elementwise_ops[] = {VN_OP_ADD, VN_OP_MUL, VN_OP_SCALE, VN_OP_AXPY};
#define N_ELEMENTWISE (int)(sizeof elementwise_ops / sizeof elementwise_ops[0])

static vn_status run_elementwise(const vn_be *be, vn_op op, int64_t n, const float *a, const float *b, float *y)
{
    switch (op) {
    case VN_OP_ADD: return vn_be_add(be, n, a, b, y);
    case VN_OP_MUL: return vn_be_mul(be, n, a, b, y);
    case VN_OP_SCALE: return vn_be_scale(be, n, -1.5f, a, y);
    /* Not a power of two, so that alpha * x rounds and an FMA would show. */
    case VN_OP_AXPY: return vn_be_axpy(be, n, 0.3f, b, y);
    default: ck_abort_msg("%s is not elementwise", vn_op_name(op));
    }
    return VN_ERR_INVALID_ARG;
}

/* Downloads y from both sides (into the scratch h_be, h_ref) and compares. */
static void expect_match(vn_ops_env *e, vn_op op, const char *how, int64_t n, const float *y_be, const float *y_ref,
                         float *h_be, float *h_ref)
{
    vn_ops_download(&e->be, h_be, y_be, n);
    vn_ops_download(&e->ref, h_ref, y_ref, n);
    if (op == VN_OP_AXPY && e->t->elementwise_nmse > 0) {
        double num = 0.0, den = 0.0;
        for (int64_t i = 0; i < n; i++) {
            double diff = (double)h_be[i] - h_ref[i];
            num += diff * diff;
            den += (double)h_ref[i] * h_ref[i];
        }
        double nmse = den > 0 ? num / den : num;
        ck_assert_msg(nmse <= e->t->elementwise_nmse, "%s: %s%s at n=%lld: NMSE %.3g > %.3g", vn_ops_be_name(e),
                      vn_op_name(op), how, (long long)n, nmse, e->t->elementwise_nmse);
        return;
    }
    if (memcmp(h_be, h_ref, (size_t)n * sizeof(float)) == 0)
        return;
    int64_t i = 0;
    while (memcmp(&h_be[i], &h_ref[i], sizeof(float)) == 0)
        i++;
    ck_abort_msg("%s: %s%s at n=%lld differs from the reference, first at %lld: %a vs %a", vn_ops_be_name(e),
                 vn_op_name(op), how, (long long)n, (long long)i, (double)h_be[i], (double)h_ref[i]);
}

/* The ops run one after another on the same y, so each starts from the last one's
 * output, on both sides. */
OPS_CASE(elementwise_match_reference, VN_OP_COUNT)
{
    int has[N_ELEMENTWISE];
    for (int k = 0; k < N_ELEMENTWISE; k++)
        has[k] = has_op(e, elementwise_ops[k]);
    vn_rng r;
    vn_rng_seed(&r, 11, 0);
    for (int s = 0; s < N_SIZES; s++) {
        int64_t n = sizes[s];
        float *a = random_normal(&r, n), *b = random_normal(&r, n), *y = random_normal(&r, n);
        float *ba = vn_ops_upload(&e->be, a, n), *bb = vn_ops_upload(&e->be, b, n), *by = vn_ops_upload(&e->be, y, n);
        float *ra = vn_ops_upload(&e->ref, a, n), *rb = vn_ops_upload(&e->ref, b, n);
        float *ry = vn_ops_upload(&e->ref, y, n);
        /* The inputs now live on both backends; their host copies become download
         * scratch, which keeps the largest size to eight buffers in all. */
        float *h_be = a, *h_ref = b;
        free(y);
        for (int k = 0; k < N_ELEMENTWISE; k++) {
            if (!has[k])
                continue;
            VN_ASSERT_OK(run_elementwise(&e->be, elementwise_ops[k], n, ba, bb, by));
            VN_ASSERT_OK(run_elementwise(&e->ref, elementwise_ops[k], n, ra, rb, ry));
            expect_match(e, elementwise_ops[k], "", n, by, ry, h_be, h_ref);
        }
        if (has[0] && e->t->add_in_place) {
            VN_ASSERT_OK(vn_be_add(&e->be, n, ba, bb, ba));
            VN_ASSERT_OK(vn_be_add(&e->ref, n, ra, rb, ra));
            expect_match(e, VN_OP_ADD, " in place", n, ba, ra, h_be, h_ref);
        }
        vn_be_free(&e->be, ba), vn_be_free(&e->be, bb), vn_be_free(&e->be, by);
        vn_be_free(&e->ref, ra), vn_be_free(&e->ref, rb), vn_be_free(&e->ref, ry);
        free(h_be), free(h_ref);
    }
    /* n = 0 does nothing and succeeds. */
    float *none = vn_ops_upload(&e->be, NULL, 0);
    for (int k = 0; k < N_ELEMENTWISE; k++)
        if (has[k])
            VN_ASSERT_OK(run_elementwise(&e->be, elementwise_ops[k], 0, none, none, none));
    VN_ASSERT_OK(vn_be_synchronize(&e->be));
    vn_be_free(&e->be, none);
}

OPS_CASE(scale_in_place, VN_OP_SCALE)
{
    const int64_t n = 100000;
    float *x = vn_ops_host_floats(n);
    for (int64_t i = 0; i < n; i++)
        x[i] = (float)i;
    float *bx = vn_ops_upload(&e->be, x, n);
    VN_ASSERT_OK(vn_be_scale(&e->be, n, 2.0f, bx, bx));
    vn_ops_download(&e->be, x, bx, n);
    for (int64_t i = 0; i < n; i++)
        ck_assert_float_eq(x[i], 2.0f * (float)i);
    vn_be_free(&e->be, bx);
    free(x);
}

/* ---- reductions -------------------------------------------------------------------- */

/* op over n floats at x on be, brought back to the host. */
static float reduce_on(const vn_be *be, vn_op op, int64_t n, const float *x, float *out)
{
    vn_status s = op == VN_OP_SUM ? vn_be_sum(be, n, x, out)
                  : op == VN_OP_SUMSQ ? vn_be_sumsq(be, n, x, out)
                                      : vn_be_max(be, n, x, out);
    ck_assert_msg(s == VN_OK, "%s: %s over %lld floats returned %s: %s", be->table->name, vn_op_name(op),
                  (long long)n, vn_status_str(s), vn_last_error());
    return download_one(be, out);
}

OPS_CASE(reductions_match_reference, VN_OP_COUNT)
{
    int has_sum = has_op(e, VN_OP_SUM), has_sumsq = has_op(e, VN_OP_SUMSQ), has_max = has_op(e, VN_OP_MAX);
    if (!has_sum && !has_sumsq && !has_max)
        return; /* spares a device the largest uploads for nothing */
    vn_rng r;
    vn_rng_seed(&r, 12, 0);
    float *be_out = vn_ops_upload(&e->be, NULL, 1), *ref_out = vn_ops_upload(&e->ref, NULL, 1);
    for (int s = 0; s < N_SIZES; s++) {
        int64_t n = sizes[s];
        float *x = random_normal(&r, n);
        float *bx = vn_ops_upload(&e->be, x, n), *rx = vn_ops_upload(&e->ref, x, n);
        /* A sum's error scales with the sum of magnitudes, not with the (cancelling) result. */
        double mag = 0;
        for (int64_t i = 0; i < n; i++)
            mag += fabs(x[i]);
        if (has_sum) {
            float got = reduce_on(&e->be, VN_OP_SUM, n, bx, be_out);
            float want = reduce_on(&e->ref, VN_OP_SUM, n, rx, ref_out);
            ck_assert_msg(fabs(got - want) <= 1e-6 * mag + 1e-6, "%s: sum n=%lld: %g vs %g", vn_ops_be_name(e),
                          (long long)n, got, want);
        }
        if (has_sumsq) {
            float got = reduce_on(&e->be, VN_OP_SUMSQ, n, bx, be_out);
            float want = reduce_on(&e->ref, VN_OP_SUMSQ, n, rx, ref_out);
            ck_assert_msg(fabs(got - want) <= 1e-6 * want, "%s: sumsq n=%lld: %g vs %g", vn_ops_be_name(e),
                          (long long)n, got, want);
        }
        if (has_max) {
            float got = reduce_on(&e->be, VN_OP_MAX, n, bx, be_out);
            float want = reduce_on(&e->ref, VN_OP_MAX, n, rx, ref_out);
            ck_assert_msg(got == want, "%s: max n=%lld: %g vs %g", vn_ops_be_name(e), (long long)n, got, want);
        }
        vn_be_free(&e->be, bx), vn_be_free(&e->ref, rx);
        free(x);
    }
    vn_be_free(&e->be, be_out), vn_be_free(&e->ref, ref_out);
}

OPS_CASE(max_propagates_nan, VN_OP_MAX)
{
    const int64_t n = 50000;
    float *x = calloc((size_t)n, sizeof(float));
    ck_assert_ptr_nonnull(x);
    x[40000] = NAN;
    float *bx = vn_ops_upload(&e->be, x, n), *out = vn_ops_upload(&e->be, NULL, 1);
    float m = reduce_on(&e->be, VN_OP_MAX, n, bx, out);
    ck_assert_msg(isnan(m), "%s: max over a NaN gave %g", vn_ops_be_name(e), m);
    vn_be_free(&e->be, bx), vn_be_free(&e->be, out);
    free(x);
}

/* The dispatcher's argument checks, reached through each backend that has the op. */
OPS_CASE(bad_arguments, VN_OP_COUNT)
{
    const vn_be *be = &e->be;
    const float zeros[4] = {0}, seven = 7.0f;
    float *v = vn_ops_upload(be, zeros, 4), *out = vn_ops_upload(be, &seven, 1);
    if (has_op(e, VN_OP_ADD)) {
        VN_ASSERT_FAILS(vn_be_add(be, -1, v, v, v), VN_ERR_SHAPE);
        VN_ASSERT_FAILS(vn_be_add(be, 4, NULL, v, v), VN_ERR_INVALID_ARG);
    }
    if (has_op(e, VN_OP_MAX))
        VN_ASSERT_FAILS(vn_be_max(be, 0, v, out), VN_ERR_SHAPE);
    if (has_op(e, VN_OP_SUM)) {
        VN_ASSERT_FAILS(vn_be_sum(be, 4, v, NULL), VN_ERR_INVALID_ARG);
        ck_assert_float_eq(reduce_on(be, VN_OP_SUM, 0, v, out), 0.0f);
    }
    vn_be_free(be, v), vn_be_free(be, out);

    vn_be closed;
    open_backend(e->t, &closed);
    vn_be_close(&closed);
    float host[4] = {0};
    VN_ASSERT_FAILS(vn_be_add(&closed, 4, host, host, host), VN_ERR_STATE);
    VN_ASSERT_FAILS(vn_be_add(NULL, 4, host, host, host), VN_ERR_STATE);
}

/* ---- the table itself -------------------------------------------------------------- */

int vn_ops_op_has_pointer(vn_op op)
{
    return ((int)op >= 0 && op <= VN_OP_MAX) || op == VN_OP_NN || op == VN_OP_ALLREDUCE;
}

int vn_ops_table_has(const vn_backend *t, vn_op op)
{
    const int has[VN_OP_COUNT] = {
        [VN_OP_GEMM] = t->gemm != NULL, [VN_OP_ADD] = t->add != NULL,   [VN_OP_MUL] = t->mul != NULL,
        [VN_OP_SCALE] = t->scale != NULL, [VN_OP_AXPY] = t->axpy != NULL, [VN_OP_SUM] = t->sum != NULL,
        [VN_OP_SUMSQ] = t->sumsq != NULL, [VN_OP_MAX] = t->max != NULL,   [VN_OP_NN] = t->nn != NULL,
        [VN_OP_ALLREDUCE] = t->allreduce_sum != NULL, [VN_OP_GEMM_BF16_ACT] = t->gemm_bf16_act != NULL,
    };
    return (int)op >= 0 && op < VN_OP_COUNT && has[op];
}

OPS_CASE(supports_is_truthful, VN_OP_COUNT)
{
    for (int i = 0; i < VN_OP_COUNT; i++) {
        vn_op op = (vn_op)i;
        int sup = vn_be_supports(&e->be, op);
        if (vn_ops_op_has_pointer(op)) {
            int has = vn_ops_table_has(e->be.table, op);
            ck_assert_msg(sup == has, "%s: supports(%s) = %d but the pointer is %s", vn_ops_be_name(e),
                          vn_op_name(op), sup, has ? "set" : "NULL");
        } else if (sup) {
            vn_ops_variant_runs(e, op);
        }
        if (e->t->required_ops & VN_OPS_BIT(op))
            ck_assert_msg(sup, "%s lacks %s", vn_ops_be_name(e), vn_op_name(op));
        (void)has_op(e, op);
    }
    ck_assert(!vn_be_supports(&e->be, VN_OP_COUNT));
    ck_assert(!vn_be_supports(&e->be, (vn_op)-1));
    ck_assert_str_eq(vn_op_name((vn_op)99), "unknown");
}

OPS_CASE(memory_round_trip, VN_OP_COUNT)
{
    const vn_be *both[2] = {&e->be, &e->ref};
    for (int k = 0; k < 2; k++) {
        const vn_be *be = both[k];
        float host[100], back[100];
        for (int i = 0; i < 100; i++)
            host[i] = (float)i * 0.5f;
        void *dev = NULL;
        VN_ASSERT_OK(vn_be_alloc(be, sizeof host, &dev));
        ck_assert_msg((uintptr_t)dev % 64 == 0, "%s: %p is not 64-byte aligned", be->table->name, dev);
        VN_ASSERT_OK(vn_be_upload(be, dev, host, sizeof host));
        VN_ASSERT_OK(vn_be_synchronize(be));
        VN_ASSERT_OK(vn_be_download(be, back, dev, sizeof back));
        ck_assert_mem_eq(host, back, sizeof host);
        vn_be_free(be, dev);
        vn_be_free(be, vn_ops_upload(be, NULL, 0));
    }
}

TCase *vn_ops_tcase(const vn_ops_target *t)
{
    if (n_targets == MAX_TARGETS) {
        fprintf(stderr, "backend_ops: more than %d targets in one executable\n", MAX_TARGETS);
        abort();
    }
    int slot = n_targets++;
    targets[slot] = *t;
    /* In this order: the table, memory and the fp32 GEMM, then the cases of
     * backend_ops_variants.c, then elementwise ops and reductions. */
    const TTest *first[] = {
        supports_is_truthful,
        memory_round_trip,
        gemm_one_by_one,
        gemm_exact_values,
        gemm_random_shapes_all_transposes,
        gemm_alpha_beta_bias,
        gemm_batched_strided_broadcast,
        gemm_both_operands_broadcast,
        gemm_large,
        gemm_empty_k_and_empty_output,
        gemm_beta_zero_ignores_nan,
        gemm_is_repeatable,
        gemm_bad_descriptors_are_rejected,
    };
    const TTest *last[] = {
        elementwise_match_reference,
        scale_in_place,
        reductions_match_reference,
        max_propagates_nan,
        bad_arguments,
    };
    TCase *tc = tcase_create(t->name);
    tcase_set_timeout(tc, 240);
    for (size_t i = 0; i < sizeof first / sizeof first[0]; i++)
        tcase_add_loop_test(tc, first[i], slot, slot + 1);
    vn_ops_add_variant_tests(tc, slot);
    for (size_t i = 0; i < sizeof last / sizeof last[0]; i++)
        tcase_add_loop_test(tc, last[i], slot, slot + 1);
    return tc;
}
