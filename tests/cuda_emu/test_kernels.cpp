/*
 * cuda_emu, the "kernels" case set: the base kernels of cuda/kernels.cu (cuda_kernels.h)
 * against the reference backend. Shared helpers: emu_test.h.
 */
#include "emu_test.h"

/* NVIDIA's own host implementation of the bf16 conversion: the reference for to_bf16. */
#include <cuda_bf16.h>

using namespace emu_test;

/* ==== kernels.cu ============================================================================ */

START_TEST(test_base_elementwise)
{
    RefBackend ref;
    for (int64_t n : {1, 257, 3001}) {
        layouts(fmt("elementwise n=%lld", (long long)n), kGridStride, [&] {
            Rng r(1 + n);
            const V a = rnd(r, n, 3.0f), b = rnd(r, n, 2.0f), y0 = rnd(r, n);
            const float alpha = 0.37f;
            V ra(n), rm(n), rs(n), rx = y0;
            ck_assert_int_eq(vn_be_add(&ref.be, n, a.data(), b.data(), ra.data()), VN_OK);
            ck_assert_int_eq(vn_be_mul(&ref.be, n, a.data(), b.data(), rm.data()), VN_OK);
            ck_assert_int_eq(vn_be_scale(&ref.be, n, alpha, a.data(), rs.data()), VN_OK);
            ck_assert_int_eq(vn_be_axpy(&ref.be, n, alpha, a.data(), rx.data()), VN_OK);
            Dev<float> da(a), db(b), dy0(y0);
            std::unique_ptr<Dev<float>> add(nan_buf(n)), mul(nan_buf(n)), scale(nan_buf(n));
            CU(vn_cuda_launch_add(kStream, n, da, db, *add));
            CU(vn_cuda_launch_mul(kStream, n, da, db, *mul));
            CU(vn_cuda_launch_scale(kStream, n, alpha, da, *scale));
            CU(vn_cuda_launch_axpy(kStream, n, alpha, da, dy0));
            expect_same("add == reference backend", add->get(), ra);
            expect_same("mul == reference backend", mul->get(), rm);
            expect_same("scale == reference backend", scale->get(), rs);
            expect_same("axpy == reference backend", dy0.get(), rx);
            /* y may alias an input */
            Dev<float> alias(a);
            CU(vn_cuda_launch_add(kStream, n, alias, db, alias));
            expect_same("add in place (y == a)", alias.get(), ra);
            const V out = add->get(), m = mul->get(), s = scale->get(), x = dy0.get();
            return concat({&out, &m, &s, &x});
        });
    }
}
END_TEST

START_TEST(test_base_reduce)
{
    RefBackend ref;
    /* 2048 elements per block: 2049 and 20000 take the multi-block path. */
    for (int64_t n : {0, 1, 1000, 2049, 20000}) {
        layouts(fmt("reduce n=%lld", (long long)n), kFixedGrid, [&] {
            Rng r(7 + n);
            V x = rnd(r, n ? n : 1, 2.0f, 0.25f);
            x.resize(n);
            Dev<float> dx(x);
            Dev<double> part(VN_CUDA_REDUCE_BLOCKS);
            V got(3), want(3, 0.0f);
            const vn_cuda_reduce ops[3] = {VN_CUDA_REDUCE_SUM, VN_CUDA_REDUCE_SUMSQ, VN_CUDA_REDUCE_MAX};
            for (int k = 0; k < (n ? 3 : 2); k++) {
                Dev<float> out(1);
                out.p()[0] = NAN;
                CU(vn_cuda_launch_reduce(kStream, ops[k], n, dx, part, out));
                got[k] = out.p()[0];
            }
            if (n) {
                ck_assert_int_eq(vn_be_sum(&ref.be, n, x.data(), &want[0]), VN_OK);
                ck_assert_int_eq(vn_be_sumsq(&ref.be, n, x.data(), &want[1]), VN_OK);
                ck_assert_int_eq(vn_be_max(&ref.be, n, x.data(), &want[2]), VN_OK);
            } else {
                got[2] = 0.0f; /* max of nothing is not defined */
            }
            expect_close("sum", {got[0]}, {want[0]});
            expect_close("sumsq", {got[1]}, {want[1]});
            expect_same("max", V{got[2]}, V{want[2]});
            return got;
        });
    }
    /* max propagates NaN wherever it is, and takes -inf and negative values. */
    g_case = "reduce max special";
    for (int64_t pos : {0, 777, 4999}) {
        V x(5000, -3.0f);
        x[pos] = NAN;
        x[pos == 0 ? 1 : 0] = 7.0f;
        Dev<float> dx(x), out(1);
        Dev<double> part(VN_CUDA_REDUCE_BLOCKS);
        CU(vn_cuda_launch_reduce(kStream, VN_CUDA_REDUCE_MAX, 5000, dx, part, out));
        ck_assert_msg(std::isnan(out.p()[0]), "max with a NaN at %lld gave %g", (long long)pos, out.p()[0]);
    }
    {
        V x(300, -INFINITY);
        x[123] = -5.0f;
        Dev<float> dx(x), out(1);
        Dev<double> part(VN_CUDA_REDUCE_BLOCKS);
        CU(vn_cuda_launch_reduce(kStream, VN_CUDA_REDUCE_MAX, 300, dx, part, out));
        ck_assert_float_eq(out.p()[0], -5.0f);
    }
    printf("  %-44s %-44s ok\n", g_case.c_str(), "NaN anywhere wins; -inf and negatives");
}
END_TEST

/* The epilogue over a padded batch: batch x m x n inside ldc and stride_c. */
START_TEST(test_base_rows_epilogue)
{
    RefBackend ref;
    const int64_t batch = 3, m = 11, n = 37, ldc = 41, stride_c = m * ldc + 5, total = batch * stride_c;
    struct Variant {
        const char *name;
        float beta;
        bool bias, pre, gelu, alias, update;
    };
    const Variant variants[] = {
        {"rows_update beta 0 + bias", 0.0f, true, false, false, true, true},
        {"rows_update beta 0.5, no bias", 0.5f, false, false, false, true, true},
        {"epilogue beta 0 (x NaN) + bias, gelu, pre", 0.0f, true, true, true, false, false},
        {"epilogue beta 1.5 + bias, gelu", 1.5f, true, false, true, false, false},
        {"epilogue beta -2, gelu, pre, x == out", -2.0f, false, true, true, true, false},
        {"epilogue beta 1 + bias, no gelu, pre", 1.0f, true, true, false, false, false},
    };
    for (const Variant &v : variants) {
        layouts(v.name, kGridStride, [&] {
            Rng r(11);
            V x = rnd(r, total, 3.0f), bias = rnd(r, n);
            if (v.beta == 0.0f)
                std::fill(x.begin(), x.end(), NAN); /* beta 0 must not read C */
            const V out0 = rnd(r, total, 1.0f, 5.0f), pre0 = rnd(r, total, 1.0f, -5.0f);
            /* reference: the reference backend's GEMM with k = 0, C = x */
            V rc = x, raux = pre0;
            vn_gemm_desc d = vn_gemm_desc_plain(0, 0, m, n, 0);
            d.batch = batch;
            d.lda = 1; /* no A or B is read, but the leading dimensions must be valid */
            d.ldb = n;
            d.ldc = ldc;
            d.stride_c = stride_c;
            d.alpha = 1.0f;
            d.beta = v.beta;
            d.epilogue = v.gelu ? VN_GEMM_EPI_GELU : VN_GEMM_EPI_NONE;
            d.aux = raux.data();
            ck_assert_int_eq(vn_be_gemm(&ref.be, &d, nullptr, nullptr, v.bias ? bias.data() : nullptr, rc.data()),
                             VN_OK);
            Dev<float> dx(x), dbias(bias), dout(v.alias ? x : out0), dpre(pre0);
            if (v.update)
                CU(vn_cuda_launch_rows_update(kStream, batch, m, n, ldc, stride_c, v.beta, v.bias ? dbias.p() : nullptr,
                                              dout));
            else
                CU(vn_cuda_launch_rows_epilogue(kStream, batch, m, n, ldc, stride_c, v.beta, v.alias ? dout.p() : dx.p(),
                                                v.bias ? dbias.p() : nullptr, v.pre ? dpre.p() : nullptr, dout,
                                                v.gelu));
            /* inside the matrices: the reference; in the padding: untouched */
            const V got = dout.get(), gpre = dpre.get();
            const V &out_before = v.alias ? x : out0;
            V in_got, in_ref, pre_got, pre_ref, pad_got, pad_ref, ppad_got, ppad_ref;
            for (int64_t b = 0; b < batch; b++)
                for (int64_t i = 0; i < stride_c; i++) {
                    const int64_t k = b * stride_c + i;
                    const bool inside = i < m * ldc && i % ldc < n;
                    (inside ? in_got : pad_got).push_back(got[k]);
                    (inside ? in_ref : pad_ref).push_back(inside ? rc[k] : out_before[k]);
                    (inside ? pre_got : ppad_got).push_back(gpre[k]);
                    /* pre is v, the GELU input: the reference's aux, or its C without GELU */
                    (inside ? pre_ref : ppad_ref).push_back(inside && v.pre ? (v.gelu ? raux[k] : rc[k]) : pre0[k]);
                }
            expect_close("out vs reference GEMM (k = 0)", in_got, in_ref);
            if (v.pre)
                expect_close("pre vs reference GEMM aux", pre_got, pre_ref);
            expect_same("padding of out untouched", pad_got, pad_ref);
            expect_same(v.pre ? "padding of pre untouched" : "pre untouched", ppad_got, ppad_ref);
            return concat({&got, &gpre});
        });
    }
}
END_TEST

START_TEST(test_base_to_bf16)
{
    /* Values over the whole float range, the rounding boundaries (ties, one below, one
     * above, the carry into the exponent) and the specials. */
    Rng r(5);
    std::vector<uint32_t> bits;
    for (uint32_t hi = 0; hi < 0x10000u; hi += 97)
        for (uint32_t lo : {0x0000u, 0x0001u, 0x7fffu, 0x8000u, 0x8001u, 0xffffu})
            bits.push_back(hi << 16 | lo);
    for (uint32_t b : {0x7f800000u, 0xff800000u, 0x7fc00000u, 0xffc00001u, 0x7f800001u, 0x7f7fffffu, 0x00000001u,
                       0x80000000u, 0x3f808000u, 0x3f818000u, 0x3f7fffffu})
        bits.push_back(b);
    for (int i = 0; i < 500; i++)
        bits.push_back(r.next());
    const int64_t cols = 61, ld = 64, ld_out = 62;
    const int64_t rows_total = ((int64_t)bits.size() + cols - 1) / cols;
    const int64_t batch = 3, rows = (rows_total + batch - 1) / batch;
    const int64_t stride = rows * ld + 3, stride_out = rows * ld_out + 7;
    V src(batch * stride, 0.0f);
    size_t k = 0;
    for (int64_t b = 0; b < batch; b++)
        for (int64_t i = 0; i < rows; i++)
            for (int64_t j = 0; j < cols; j++, k++) {
                const uint32_t u = bits[k % bits.size()];
                std::memcpy(&src[b * stride + i * ld + j], &u, 4);
            }
    layouts(fmt("to_bf16 %lldx%lldx%lld", (long long)batch, (long long)rows, (long long)cols), kGridStride, [&] {
        std::vector<uint16_t> init(batch * stride_out, 0xbeef), want = init;
        for (int64_t b = 0; b < batch; b++)
            for (int64_t i = 0; i < rows; i++)
                for (int64_t j = 0; j < cols; j++) {
                    const __nv_bfloat16 h = __float2bfloat16_rn(src[b * stride + i * ld + j]);
                    std::memcpy(&want[b * stride_out + i * ld_out + j], &h, 2);
                }
        Dev<float> dsrc(src);
        Dev<uint16_t> dst(init);
        CU(vn_cuda_launch_to_bf16(kStream, batch, rows, cols, ld, stride, dsrc, ld_out, stride_out, dst));
        const std::vector<uint16_t> got = dst.get();
        expect_same("bits == cuda_bf16.h host __float2bfloat16_rn (padding kept)", got, want);
        V asf(got.size());
        for (size_t i = 0; i < got.size(); i++)
            asf[i] = (float)got[i];
        return asf;
    });
}
END_TEST

START_TEST(test_base_probe)
{
    ck_assert_int_eq(vn_cuda_kernels_probe(), cudaSuccess);
}
END_TEST

std::vector<const TTest *> emu_test::tests_kernels()
{
    return {test_base_elementwise, test_base_reduce, test_base_rows_epilogue, test_base_to_bf16, test_base_probe};
}
