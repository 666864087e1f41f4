/*
 * cuda_emu, the "kernels_attention" case set: attention and attention pooling of
 * cuda/kernels_attention.cu (kernels_train.h) against the vn_ref_* references. Shared
 * helpers: emu_test.h.
 */
#include "emu_test.h"

using namespace emu_test;

/* ==== kernels_attention.cu =================================================================== */

struct AttnShape {
    int64_t B, T, C, NH;
};

/* Forward (with and without lse) and backward of one shape against the reference. */
static void attention_case(AttnShape s)
{
    const int64_t B = s.B, T = s.T, C = s.C, NH = s.NH, HS = C / NH;
    layouts(fmt("attention B%lld T%lld C%lld NH%lld (HS %lld)", (long long)B, (long long)T, (long long)C,
                (long long)NH, (long long)HS),
            kGridStride, [&] {
                Rng r(20 + T * 31 + HS);
                const V qkv = rnd(r, B * T * 3 * C, 2.0f);
                std::vector<double> scratch(vn_ref_attention_scratch_floats(T));
                V ro(B * T * C), rl(B * NH * T);
                vn_ref_attention_forward(ro.data(), rl.data(), qkv.data(), B, T, C, NH, scratch.data());
                Dev<float> dqkv_in(qkv);
                std::unique_ptr<Dev<float>> out(nan_buf(B * T * C)), lse(nan_buf(B * NH * T)),
                    out2(nan_buf(B * T * C));
                CU(vn_cuda_launch_attention_forward(kStream, *out, *lse, dqkv_in, B, T, C, NH));
                expect_close("forward out", out->get(), ro);
                expect_close("forward lse", lse->get(), rl);
                CU(vn_cuda_launch_attention_forward(kStream, *out2, nullptr, dqkv_in, B, T, C, NH));
                expect_same("forward out without lse", out2->get(), out->get());
                /* backward from the reference's out and lse, accumulating into dqkv */
                const V dout = rnd(r, B * T * C), dqkv0 = rnd(r, B * T * 3 * C);
                V rd = dqkv0;
                vn_ref_attention_backward(rd.data(), dout.data(), qkv.data(), B, T, C, NH, scratch.data());
                Dev<float> ddout(dout), dro(ro), drl(rl), ddqkv(dqkv0);
                std::unique_ptr<Dev<float>> dsum(nan_buf(B * NH * T));
                CU(vn_cuda_launch_attention_backward(kStream, ddqkv, ddout, dqkv_in, dro, drl, *dsum, B, T, C, NH));
                const V got = ddqkv.get();
                V gq, gk, gv, wq, wk, wv;
                for (int64_t i = 0; i < B * T; i++)
                    for (int64_t c = 0; c < C; c++) {
                        gq.push_back(got[i * 3 * C + c] - dqkv0[i * 3 * C + c]);
                        gk.push_back(got[i * 3 * C + C + c] - dqkv0[i * 3 * C + C + c]);
                        gv.push_back(got[i * 3 * C + 2 * C + c] - dqkv0[i * 3 * C + 2 * C + c]);
                        wq.push_back(rd[i * 3 * C + c] - dqkv0[i * 3 * C + c]);
                        wk.push_back(rd[i * 3 * C + C + c] - dqkv0[i * 3 * C + C + c]);
                        wv.push_back(rd[i * 3 * C + 2 * C + c] - dqkv0[i * 3 * C + 2 * C + c]);
                    }
                expect_close("backward dqkv (accumulated)", got, rd);
                expect_close("backward dq alone", gq, wq);
                expect_close("backward dk alone", gk, wk);
                expect_close("backward dv alone", gv, wv);
                const V a = out->get(), b = lse->get();
                return concat({&a, &b, &got});
            });
}

/* head sizes at and below each padded size the kernels have (32, 64, 128); T across the
 * tiles (64 / 32 / 16 rows) */
START_TEST(test_attention_hs32)
{
    for (AttnShape s : {AttnShape{1, 1, 16, 1}, AttnShape{2, 7, 64, 2}, AttnShape{1, 70, 32, 1},
                        AttnShape{1, 33, 24, 3}})
        attention_case(s);
}
END_TEST

START_TEST(test_attention_hs64)
{
    for (AttnShape s : {AttnShape{1, 65, 64, 1}, AttnShape{2, 33, 96, 2}})
        attention_case(s);
}
END_TEST

START_TEST(test_attention_hs128)
{
    for (AttnShape s : {AttnShape{1, 40, 100, 1}, AttnShape{1, 17, 256, 2}})
        attention_case(s);
}
END_TEST

START_TEST(test_attnpool)
{
    struct Shape {
        int64_t B, T, C;
    };
    for (Shape s : {Shape{3, 37, 50}, Shape{2, 300, 20}, Shape{1, 1, 7}}) {
        layouts(fmt("attnpool B%lld T%lld C%lld", (long long)s.B, (long long)s.T, (long long)s.C), kGridStride, [&] {
            Rng r(30 + s.T);
            const int64_t B = s.B, T = s.T, C = s.C;
            const V x = rnd(r, B * T * C, 2.0f), q = rnd(r, C, 2.0f), g = rnd(r, B * C), dx0 = rnd(r, B * T * C);
            std::vector<double> scratch(T);
            V rout(B * C), rattn(B * T), rdx = dx0, rdq(C, 0.0f);
            vn_ref_attnpool_forward(rout.data(), rattn.data(), x.data(), q.data(), B, T, C, scratch.data());
            vn_ref_attnpool_backward(rdx.data(), rdq.data(), g.data(), x.data(), q.data(), rattn.data(), B, T, C,
                                     scratch.data());
            Dev<float> dx(x), dq(q), dg(g), ddx(dx0), dattn_ref(rattn);
            std::unique_ptr<Dev<float>> attn(nan_buf(B * T)), ds(nan_buf(B * T)), ds2(nan_buf(B * T));
            CU(vn_cuda_launch_attnpool_scores(kStream, *attn, dx, dq, B, T, C));
            expect_close("scores: attn", attn->get(), rattn);
            CU(vn_cuda_launch_attnpool_backward(kStream, ddx, *ds, dg, dx, dq, dattn_ref, B, T, C));
            expect_close("backward dinp", ddx.get(), rdx);
            /* ds: the formula in double; and dquery = sum ds x_t, the reference's */
            const V gds = ds->get();
            V wds(B * T), dquery(C, 0.0f);
            const double scale = 1.0 / std::sqrt((double)C);
            for (int64_t b = 0; b < B; b++) {
                std::vector<double> dot(T);
                double corr = 0.0;
                for (int64_t t = 0; t < T; t++) {
                    dot[t] = 0.0;
                    for (int64_t c = 0; c < C; c++)
                        dot[t] += (double)g[b * C + c] * x[(b * T + t) * C + c];
                    corr += rattn[b * T + t] * dot[t];
                }
                for (int64_t t = 0; t < T; t++)
                    wds[b * T + t] = (float)(scale * rattn[b * T + t] * (dot[t] - corr));
            }
            expect_close("backward ds", gds, wds);
            for (int64_t c = 0; c < C; c++) {
                double acc = 0.0;
                for (int64_t bt = 0; bt < B * T; bt++)
                    acc += (double)gds[bt] * x[bt * C + c];
                dquery[c] = (float)acc;
            }
            expect_close("dquery from ds == reference dquery", dquery, rdq);
            CU(vn_cuda_launch_attnpool_backward(kStream, nullptr, *ds2, dg, dx, dq, dattn_ref, B, T, C));
            expect_same("backward ds without dinp", ds2->get(), gds);
            const V a = attn->get(), b = ddx.get();
            return concat({&a, &b, &gds});
        });
    }
}
END_TEST

std::vector<const TTest *> emu_test::tests_kernels_attention()
{
    return {test_attention_hs32, test_attention_hs64, test_attention_hs128, test_attnpool};
}
