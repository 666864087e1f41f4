/*
 * bf16 GEMMs on the cpu backend (bf16 copies of A and B, oneDNN on AMX or avx512_bf16,
 * fp32 accumulation) and what runs on them: the conversion against its definition, every
 * descriptor feature against the reference backend's emulation, fp32 left as it was,
 * concurrent callers, the encoder's vn_encoder_set_precision and a bf16 training step.
 *
 * tests/meson.build runs this suite three times: on the machine as it is, with oneDNN
 * capped at avx512_core_bf16 (its non-AMX bf16 kernels, where the CPU has AMX), and
 * capped at avx512_core_vnni, where the cpu backend has no bf16 and every case checks
 * that it is refused with VN_ERR_UNSUPPORTED and the reason instead.
 */
#include <math.h>
#include <pthread.h>
#include <string.h>

#include "backend_ops.h"

#include "backend/backend_cpu.h"
#include "backend/cpu_bf16.h"

static const vn_backend_config cfg2 = {.n_threads = 2, .deterministic = 0, .device = 0, .seed = 1};

static float *host_floats(int64_t n)
{
    float *p = malloc((size_t)n * sizeof *p);
    ck_assert_ptr_nonnull(p);
    return p;
}

static int have_bf16(void)
{
    return vn_onednn_bf16_usable(NULL);
}

/* What every bf16 path must say on a machine without bf16 hardware. */
static void assert_refused(vn_status s, const char *what)
{
    const char *why = "";
    ck_assert(!vn_onednn_bf16_usable(&why));
    ck_assert_msg(s == VN_ERR_UNSUPPORTED, "%s without bf16 hardware returned %s, not VN_ERR_UNSUPPORTED (%s)", what,
                  vn_status_str(s), vn_last_error());
    ck_assert_msg(strstr(vn_last_error(), why) != NULL, "%s: '%s' does not give the reason '%s'", what,
                  vn_last_error(), why);
}

static float from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* ---- the conversion ----------------------------------------------------------------- */

/* The vector and portable loops give vn_bf16_bits' bits for every length (the masked
 * tails) and for the values where rounding is delicate, and write nothing past n. */
START_TEST(conversion_matches_definition)
{
    static const uint32_t special[] = {
        0x3F808000u, 0x3F818000u, 0x3F808001u, 0x3F807FFFu, 0xBF818000u, 0x3FFF8000u, 0x7F7FFFFFu,
        0xFF7FFFFFu, 0x00018000u, 0x80018000u, 0x00800000u, 0x80800000u, 0x007FFFFFu, 0x00000001u,
        0x00000000u, 0x80000000u, 0x7F800000u, 0xFF800000u, 0x7F800001u, 0x7FC00000u, 0xFFFFFFFFu,
        0x7F80FFFFu, 0x3F7FFFFFu, 0x33800000u,
    };
    enum { MAXN = 100 };
    float x[MAXN];
    uint16_t fast[MAXN + 8], slow[MAXN + 8];
    vn_rng r;
    vn_rng_seed(&r, 3, 0);
    for (int round = 0; round < 200; round++) {
        int n = round < MAXN ? round : (int)vn_rng_below(&r, MAXN + 1);
        for (int i = 0; i < n; i++) {
            uint32_t u = (uint32_t)vn_rng_next(&r);
            /* A third raw bit patterns, a third special values, a third ordinary floats. */
            x[i] = i % 3 == 0 ? from_bits(u)
                 : i % 3 == 1 ? from_bits(special[u % (sizeof special / sizeof special[0])])
                              : (float)(vn_rng_normal(&r) * 10.0);
        }
        memset(fast, 0xAB, sizeof fast);
        memset(slow, 0xAB, sizeof slow);
        vn_bf16_convert(fast, x, n);
        vn_bf16_convert_portable(slow, x, n);
        for (int i = 0; i < n; i++) {
            uint16_t want = vn_bf16_bits(x[i]);
            uint32_t in;
            memcpy(&in, &x[i], sizeof in);
            ck_assert_msg(fast[i] == want && slow[i] == want, "n=%d: %08x -> %04x (vector) %04x (portable), not %04x",
                          n, in, fast[i], slow[i], want);
        }
        for (int i = n; i < MAXN + 8; i++)
            ck_assert_msg(fast[i] == 0xABABu && slow[i] == 0xABABu, "n=%d: wrote element %d", n, i);
    }
    printf("bf16: conversion %s\n", vn_bf16_convert_is_native() ? "on vcvtne2ps2bf16 (avx512_bf16)"
                                                                 : "on the portable loop only (no avx512_bf16)");
}
END_TEST

/* On normal numbers the conversion is the reference backend's rounding exactly: a 1x1x1
 * GEMM by 1 there returns the rounded operand. (Subnormals become zero here, as the bf16
 * hardware reads them; see cpu_bf16.h.) */
START_TEST(conversion_is_the_reference_rounding)
{
    vn_be ref;
    VN_ASSERT_OK(vn_be_open(&ref, VN_BACKEND_REFERENCE, &cfg2));
    vn_gemm_desc d = vn_gemm_desc_plain(0, 0, 1, 1, 1);
    d.precision = VN_GEMM_BF16;
    vn_rng r;
    vn_rng_seed(&r, 4, 0);
    for (int i = 0; i < 20000; i++) {
        uint32_t u = (uint32_t)vn_rng_next(&r);
        uint32_t e = (u >> 23) & 0xFFu;
        if (e == 0 || e >= 0xFE) /* subnormal, or rounding may overflow past the normals */
            continue;
        float x = from_bits(u), one = 1.0f, c = 0.0f;
        VN_ASSERT_OK(vn_be_gemm(&ref, &d, &x, &one, NULL, &c));
        uint32_t got;
        memcpy(&got, &c, sizeof got);
        ck_assert_msg(got == (uint32_t)vn_bf16_bits(x) << 16, "%08x: reference %08x, cpu %04x0000", u, got,
                      vn_bf16_bits(x));
    }
    vn_be_close(&ref);
}
END_TEST

/* Strided, batched sources with gaps, rows longer than one work item, on two threads:
 * packed densely, nothing written past the packed matrices. */
START_TEST(pack_strided_batches)
{
    const int64_t nb = 3, rows = 5, cols = 20001, ld = cols + 7, stride = rows * ld + 13;
    const int64_t nb2 = 2, rows2 = 40, cols2 = 9, ld2 = 12, stride2 = rows2 * ld2;
    vn_rng r;
    vn_rng_seed(&r, 5, 0);
    float *src = vn_ops_random(&r, nb * stride), *src2 = vn_ops_random(&r, nb2 * stride2);
    int64_t n1 = nb * rows * cols, n2 = nb2 * rows2 * cols2;
    uint16_t *dst = malloc((size_t)(n1 + n2 + 16) * sizeof *dst);
    ck_assert_ptr_nonnull(dst);
    memset(dst, 0xAB, (size_t)(n1 + n2 + 16) * sizeof *dst);
    const vn_bf16_pack_job jobs[2] = {
        {src, nb, rows, cols, ld, stride, dst},
        {src2, nb2, rows2, cols2, ld2, stride2, dst + n1},
    };
    vn_bf16_pack(2, jobs, 2);
    for (int q = 0; q < 2; q++) {
        const vn_bf16_pack_job *j = &jobs[q];
        for (int64_t b = 0; b < j->nb; b++)
            for (int64_t i = 0; i < j->rows; i++)
                for (int64_t c = 0; c < j->cols; c++) {
                    uint16_t got = j->dst[(b * j->rows + i) * j->cols + c];
                    uint16_t want = vn_bf16_bits(j->src[b * j->stride + i * j->ld + c]);
                    ck_assert_msg(got == want, "job %d (%lld, %lld, %lld): %04x, not %04x", q, (long long)b,
                                  (long long)i, (long long)c, got, want);
                }
    }
    for (int64_t i = n1 + n2; i < n1 + n2 + 16; i++)
        ck_assert_uint_eq(dst[i], 0xABABu);
    free(src), free(src2), free(dst);
}
END_TEST

/* ---- GEMMs --------------------------------------------------------------------------- */

/* Every descriptor feature at sizes from 1x1x1 up, each against the reference's emulation
 * within VN_OPS_BF16_NMSE (backend_ops.h: both sides round the operands identically, so
 * what is left is fp32 against double accumulation, ~1e-13 here; 1e-8 is the harness's
 * bound for any bf16 backend). Without bf16 hardware each one must be refused. */
static vn_gemm_desc bf16_desc(int ta, int tb, int64_t m, int64_t n, int64_t k)
{
    vn_gemm_desc d = vn_gemm_desc_plain(ta, tb, m, n, k);
    d.precision = VN_GEMM_BF16;
    return d;
}

static void check_or_refused(const vn_be *be, const vn_be *ref, const vn_gemm_desc *d, vn_rng *r, int bias,
                             const float *c_fill)
{
    if (have_bf16()) {
        vn_ops_check_gemm(be, ref, d, r, bias, c_fill);
        return;
    }
    float x[4] = {1, 2, 3, 4}, c[4], aux[4];
    vn_gemm_desc small = bf16_desc(0, 0, 2, 2, 2);
    small.epilogue = d->epilogue, small.aux = aux;
    vn_clear_error();
    assert_refused(vn_be_gemm(be, &small, x, x, NULL, c), "a bf16 GEMM");
    ck_assert_ptr_nonnull(strstr(vn_last_error(), "gemm_bf16"));
}

START_TEST(gemm_bf16_every_feature)
{
    vn_be be, ref;
    VN_ASSERT_OK(vn_be_open(&be, VN_BACKEND_CPU, &cfg2));
    VN_ASSERT_OK(vn_be_open(&ref, VN_BACKEND_REFERENCE, &cfg2));
    ck_assert_int_eq(vn_be_supports(&be, VN_OP_GEMM_BF16), have_bf16());
    ck_assert(!vn_be_supports(&be, VN_OP_GEMM_TF32));
    vn_rng r;
    vn_rng_seed(&r, 9, 0);
    const float nan = NAN;
    for (int t = 0; t < 4; t++) {
        int ta = t & 1, tb = t >> 1;
        vn_gemm_desc d = bf16_desc(ta, tb, 1, 1, 1);
        check_or_refused(&be, &ref, &d, &r, 0, NULL);
        check_or_refused(&be, &ref, &d, &r, 1, NULL);
        d = bf16_desc(ta, tb, 17, 33, 65);
        check_or_refused(&be, &ref, &d, &r, t & 1, NULL);
        d.alpha = -0.75f, d.beta = 0.5f; /* output scale and sum post-op */
        check_or_refused(&be, &ref, &d, &r, 1, NULL);
        d.alpha = 1.0f, d.beta = 1.0f; /* accumulate, as the backward's weight gradients do */
        check_or_refused(&be, &ref, &d, &r, 0, NULL);
        d.beta = 0.0f; /* NaN in C must not leak */
        check_or_refused(&be, &ref, &d, &r, 1, &nan);
        d.lda += 3, d.ldb += 1, d.ldc += 5; /* padded rows: the copies are packed */
        d.stride_c = d.m * d.ldc;
        check_or_refused(&be, &ref, &d, &r, 1, NULL);
        /* batches with gaps, each operand broadcast in turn, then both */
        const int64_t sa[3] = {-1, 0, 0}, sb[3] = {0, -1, 0};
        for (int v = 0; v < 3; v++) {
            vn_gemm_desc bd = bf16_desc(ta, tb, 17, 33, 65);
            int64_t a_rows = ta ? 65 : 17, b_rows = tb ? 33 : 65;
            bd.batch = 3;
            bd.lda += 1;
            bd.stride_a = sa[v] < 0 ? a_rows * bd.lda + 4 : 0;
            bd.stride_b = sb[v] < 0 ? b_rows * bd.ldb + 2 : 0;
            bd.stride_c = 17 * bd.ldc + 3;
            bd.beta = v == 2 ? 0.5f : 0.0f;
            check_or_refused(&be, &ref, &bd, &r, 1, NULL);
            bd.stride_c = 17 * bd.ldc; /* dense C: the bias goes through the post-op */
            check_or_refused(&be, &ref, &bd, &r, 1, NULL);
        }
        /* the GELU epilogue keeps the pre-activation in aux */
        d = bf16_desc(ta, tb, 17, 33, 65);
        d.epilogue = VN_GEMM_EPI_GELU;
        check_or_refused(&be, &ref, &d, &r, 1, NULL);
        d.batch = 2, d.stride_a = ta ? 0 : 17 * 65, d.stride_b = 33 * 65, d.stride_c = 17 * 33 + 8, d.beta = 1.0f;
        check_or_refused(&be, &ref, &d, &r, 1, NULL);
    }
    /* k = 0: no products, C = beta C + bias */
    vn_gemm_desc d = bf16_desc(0, 0, 4, 5, 0);
    d.lda = 1, d.beta = 0.5f;
    check_or_refused(&be, &ref, &d, &r, 1, NULL);
    /* large enough for full AMX tiles and several blocks per thread */
    d = bf16_desc(0, 1, 257, 384, 512);
    check_or_refused(&be, &ref, &d, &r, 1, NULL);
    d = bf16_desc(1, 0, 96, 200, 1000);
    d.batch = 3, d.stride_a = 96 * 1000, d.stride_b = 0, d.stride_c = 96 * 200;
    check_or_refused(&be, &ref, &d, &r, 0, NULL);

    /* None of that ran on oneDNN's reference loops, which would make bf16 far slower
     * than fp32. (Padded or gapped C goes to gemm:jit, oneDNN's bf16 GEMM without AMX.) */
    vn_onednn_gemm *g = vn_cpu_backend_gemm(be.state);
    ck_assert_int_eq(vn_onednn_gemm_count_impl(g, VN_GEMM_BF16, "") > 0, have_bf16());
    ck_assert_msg(vn_onednn_gemm_count_impl(g, VN_GEMM_BF16, "ref") == 0, "a bf16 GEMM ran on a ref:* kernel");
    vn_be_close(&be);
    vn_be_close(&ref);
}
END_TEST

/* The GEMMs a linear layer runs (forward, input gradient, weight gradient; with bias,
 * beta 1 for the accumulating ones) run on oneDNN's brgemm kernels, AMX where the CPU
 * has it: what makes bf16 worth having on the cpu. */
START_TEST(linear_layer_gemms_run_on_brgemm)
{
    vn_be be, ref;
    VN_ASSERT_OK(vn_be_open(&be, VN_BACKEND_CPU, &cfg2));
    VN_ASSERT_OK(vn_be_open(&ref, VN_BACKEND_REFERENCE, &cfg2));
    vn_rng r;
    vn_rng_seed(&r, 12, 0);
    const int64_t N = 300, IC = 96, OC = 160;
    vn_gemm_desc fwd = bf16_desc(0, 1, N, OC, IC), dinp = bf16_desc(0, 0, N, IC, OC), dw = bf16_desc(1, 0, OC, IC, N);
    dinp.beta = 1.0f, dw.beta = 1.0f;
    check_or_refused(&be, &ref, &fwd, &r, 1, NULL);
    check_or_refused(&be, &ref, &dinp, &r, 0, NULL);
    check_or_refused(&be, &ref, &dw, &r, 0, NULL);
    vn_onednn_gemm *g = vn_cpu_backend_gemm(be.state);
    int all = vn_onednn_gemm_count_impl(g, VN_GEMM_BF16, "");
    ck_assert_int_eq(all, have_bf16() ? 3 : 0);
    ck_assert_int_eq(vn_onednn_gemm_count_impl(g, VN_GEMM_BF16, "brg:"), all);
    vn_be_close(&be);
    vn_be_close(&ref);
}
END_TEST

/* The inference forward's GEMMs with bf16 activations (gemm_bf16_act: fc1 with bias, GELU
 * and a bf16 output, qkv with a bf16 output, fc2 from bf16 into fp32) run on brgemm too,
 * post-ops and bf16 destination included; without bf16 they are refused by name. */
START_TEST(bf16_activation_gemms_run_on_brgemm)
{
    vn_be be;
    VN_ASSERT_OK(vn_be_open(&be, VN_BACKEND_CPU, &cfg2));
    const int64_t N = 300, D = 96, H = 384;
    uint16_t *a = calloc((size_t)(N * H), sizeof *a), *o16 = calloc((size_t)(N * H), sizeof *o16);
    float *w = calloc((size_t)(H * D), sizeof *w), *bias = calloc((size_t)H, sizeof *bias);
    float *o32 = calloc((size_t)(N * D), sizeof *o32);
    ck_assert(a && o16 && w && bias && o32);
    vn_gemm_desc fc1 = bf16_desc(0, 1, N, H, D), qkv = bf16_desc(0, 1, N, 3 * D, D), fc2 = bf16_desc(0, 1, N, D, H);
    fc1.epilogue = VN_GEMM_EPI_GELU;
    vn_status s[3] = {vn_be_gemm_bf16_act(&be, &fc1, a, w, bias, o16, 1), vn_be_gemm_bf16_act(&be, &qkv, a, w, bias, o16, 1),
                      vn_be_gemm_bf16_act(&be, &fc2, a, w, bias, o32, 0)};
    vn_onednn_gemm *g = vn_cpu_backend_gemm(be.state);
    for (int i = 0; i < 3; i++) {
        if (!have_bf16()) {
            assert_refused(s[i], "gemm_bf16_act");
            continue;
        }
        VN_ASSERT_OK(s[i]);
    }
    int all = vn_onednn_gemm_count_impl(g, VN_GEMM_BF16, "");
    ck_assert_int_eq(all, have_bf16() ? 3 : 0);
    ck_assert_int_eq(vn_onednn_gemm_count_impl(g, VN_GEMM_BF16, "brg:"), all);
    free(a), free(o16), free(w), free(bias), free(o32);
    vn_be_close(&be);
}
END_TEST

static double nmse(const float *got, const float *want, int64_t n)
{
    double num = 0.0, den = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double e = (double)got[i] - want[i];
        num += e * e;
        den += (double)want[i] * want[i];
    }
    return num / den;
}

/*
 * fp32 GEMMs are what they were: the same bits before and after bf16 GEMMs of the same
 * shape (the cache keys them apart), and the reference's fp32 within the fp32 bound. The
 * bf16 result differs by what rounding both operands to 8 significant bits does: each
 * product moves by up to 2^-8 relative, independently, so the sum's NMSE on random data is
 * about 2 * (2^-9)^2 / 3 ~ 3e-6; it must be above 1e-8 (it was rounded) and below 1e-4.
 */
START_TEST(fp32_unchanged_and_bf16_rounds)
{
    vn_be be, ref;
    VN_ASSERT_OK(vn_be_open(&be, VN_BACKEND_CPU, &cfg2));
    VN_ASSERT_OK(vn_be_open(&ref, VN_BACKEND_REFERENCE, &cfg2));
    vn_rng r;
    vn_rng_seed(&r, 10, 0);
    const int64_t m = 64, n = 48, k = 80;
    float *a = vn_ops_random(&r, m * k), *b = vn_ops_random(&r, k * n);
    float *c1 = host_floats(m * n), *c2 = host_floats(m * n), *cb = host_floats(m * n);
    float *cr = host_floats(m * n);
    vn_gemm_desc d = vn_gemm_desc_plain(0, 1, m, n, k);
    VN_ASSERT_OK(vn_be_gemm(&be, &d, a, b, NULL, c1));
    VN_ASSERT_OK(vn_be_gemm(&ref, &d, a, b, NULL, cr));
    ck_assert_msg(nmse(c1, cr, m * n) <= VN_OPS_GEMM_TOL * VN_OPS_GEMM_TOL, "fp32 NMSE %g", nmse(c1, cr, m * n));
    d.precision = VN_GEMM_BF16;
    vn_status s = vn_be_gemm(&be, &d, a, b, NULL, cb);
    if (have_bf16()) {
        VN_ASSERT_OK(s);
        double e = nmse(cb, c1, m * n);
        ck_assert_msg(e > 1e-8 && e < 1e-4, "bf16 against fp32: NMSE %g", e);
    } else {
        assert_refused(s, "a bf16 GEMM");
    }
    d.precision = VN_GEMM_FP32;
    VN_ASSERT_OK(vn_be_gemm(&be, &d, a, b, NULL, c2));
    ck_assert_mem_eq(c1, c2, (size_t)(m * n) * sizeof(float));
    uint64_t hits, misses;
    int cached;
    vn_onednn_gemm_stats(vn_cpu_backend_gemm(be.state), &hits, &misses, &cached);
    ck_assert_int_eq(cached, have_bf16() ? 2 : 1);
    free(a), free(b), free(c1), free(c2), free(cb), free(cr);
    vn_be_close(&be);
    vn_be_close(&ref);
}
END_TEST

/* Threads running bf16 GEMMs on one backend each get their own primitive and their own
 * operand copies: every result equals the same GEMM run alone, bit for bit. Shapes differ
 * per thread, so that the scratch pool hands buffers of one size to calls of another. */
#define CONC_THREADS 4
#define CONC_ROUNDS 30

typedef struct conc_job {
    const vn_be *be;
    vn_gemm_desc d[2];
    float *a, *b, *c, *want[2];
    int bad;
} conc_job;

static void *conc_worker(void *arg)
{
    conc_job *j = arg;
    for (int r = 0; r < CONC_ROUNDS && !j->bad; r++) {
        const vn_gemm_desc *d = &j->d[r & 1];
        if (vn_be_gemm(j->be, d, j->a, j->b, NULL, j->c) != VN_OK ||
            memcmp(j->c, j->want[r & 1], (size_t)(d->m * d->n) * sizeof(float)) != 0)
            j->bad = 1;
    }
    return NULL;
}

START_TEST(concurrent_bf16_gemms_do_not_share_scratch)
{
    vn_be be;
    VN_ASSERT_OK(vn_be_open(&be, VN_BACKEND_CPU, &cfg2));
    if (!have_bf16()) {
        vn_gemm_desc d = bf16_desc(0, 0, 2, 2, 2);
        float x[4] = {0};
        assert_refused(vn_be_gemm(&be, &d, x, x, NULL, x), "a bf16 GEMM");
        vn_be_close(&be);
        return;
    }
    vn_rng r;
    vn_rng_seed(&r, 11, 0);
    conc_job jobs[CONC_THREADS];
    pthread_t th[CONC_THREADS];
    for (int t = 0; t < CONC_THREADS; t++) {
        conc_job *j = &jobs[t];
        memset(j, 0, sizeof *j);
        j->be = &be;
        j->d[0] = bf16_desc(0, 0, 96, 80, 200);
        j->d[1] = bf16_desc(t & 1, 1, 40 + 16 * t, 64, 120);
        j->a = vn_ops_random(&r, 112 * 200), j->b = vn_ops_random(&r, 200 * 80);
        j->c = host_floats(112 * 80);
        for (int v = 0; v < 2; v++) {
            j->want[v] = host_floats(112 * 80);
            VN_ASSERT_OK(vn_be_gemm(&be, &j->d[v], j->a, j->b, NULL, j->want[v]));
        }
    }
    for (int t = 0; t < CONC_THREADS; t++)
        pthread_create(&th[t], NULL, conc_worker, &jobs[t]);
    for (int t = 0; t < CONC_THREADS; t++)
        pthread_join(th[t], NULL);
    for (int t = 0; t < CONC_THREADS; t++) {
        ck_assert_msg(!jobs[t].bad, "thread %d: a concurrent bf16 GEMM differed from the same GEMM run alone", t);
        free(jobs[t].a), free(jobs[t].b), free(jobs[t].c), free(jobs[t].want[0]), free(jobs[t].want[1]);
    }
    vn_be_close(&be);
}
END_TEST

/* The harness's generic cases, whose bf16 one compares random shapes with the
 * emulation, live in the backend_ops suite; the encoder and the trainer are below. */
void vn_bf16_add_model_tests(TCase *tc);

static Suite *bf16_suite(void)
{
    Suite *s = suite_create("bf16");
    TCase *tc = tcase_create("cpu_bf16");
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, conversion_matches_definition);
    tcase_add_test(tc, conversion_is_the_reference_rounding);
    tcase_add_test(tc, pack_strided_batches);
    tcase_add_test(tc, gemm_bf16_every_feature);
    tcase_add_test(tc, linear_layer_gemms_run_on_brgemm);
    tcase_add_test(tc, bf16_activation_gemms_run_on_brgemm);
    tcase_add_test(tc, fp32_unchanged_and_bf16_rounds);
    tcase_add_test(tc, concurrent_bf16_gemms_do_not_share_scratch);
    suite_add_tcase(s, tc);
    tc = tcase_create("models");
    tcase_set_timeout(tc, 240);
    vn_bf16_add_model_tests(tc);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    const char *why = "";
    printf("bf16: %s\n", vn_onednn_bf16_usable(&why) ? "the cpu backend has bf16 GEMMs here" : why);
    fflush(stdout);
    return vn_test_run(bf16_suite());
}
