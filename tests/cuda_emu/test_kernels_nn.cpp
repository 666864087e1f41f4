/*
 * cuda_emu, the "kernels_nn" case set: the engine's dense and embedding kernels of
 * cuda/kernels_nn.cu (kernels_nn.h) against the vn_ref_* references and the host paths
 * of src/nn. Shared helpers: emu_test.h.
 */
#include "emu_test.h"

using namespace emu_test;

/* ==== kernels_nn.cu ========================================================================== */

START_TEST(test_nn_memory)
{
    vn_nn nn = host_nn();
    layouts("fill n=1001", kGridStride, [&] {
        Dev<float> x(V(1001, 3.0f));
        CU(vn_cuda_launch_fill(kStream, x, 1000, -2.5f));
        V want(1001, -2.5f);
        want[1000] = 3.0f;
        expect_same("fill 1000 of 1001", x.get(), want);
        return x.get();
    });
    for (int64_t w : {1, 45, 70}) {
        layouts(fmt("gather/scatter rows=37 w=%lld", (long long)w), kGridStride, [&] {
            Rng r(7 + w);
            const int64_t rows = 37, src_rows = 60;
            const V src = rnd(r, src_rows * w);
            VI idx(rows);
            for (int32_t &i : idx)
                i = r.below((int)src_rows); /* repeats allowed for a gather */
            V want(rows * w);
            vn_nn_gather_rows(&nn, want.data(), src.data(), idx.data(), rows, w);
            Dev<float> dsrc(src);
            Dev<int32_t> didx(idx);
            std::unique_ptr<Dev<float>> dst(nan_buf(rows * w));
            CU(vn_cuda_launch_gather_rows(kStream, *dst, dsrc, didx, rows, w));
            expect_same("gather_rows == vn_nn_gather_rows", dst->get(), want);
            /* scatter: distinct destinations */
            const VI sidx = perm(r, (int)src_rows, (int)rows);
            const V g = rnd(r, rows * w), base = rnd(r, src_rows * w);
            V swant = base;
            vn_nn_scatter_add_rows(&nn, swant.data(), g.data(), sidx.data(), rows, w);
            Dev<float> dg(g), dbase(base);
            Dev<int32_t> dsidx(sidx);
            CU(vn_cuda_launch_scatter_add_rows(kStream, dbase, dg, dsidx, rows, w));
            expect_same("scatter_add_rows == vn_nn_scatter_add_rows", dbase.get(), swant);
            const V a = dst->get(), b = dbase.get();
            return concat({&a, &b});
        });
    }
}
END_TEST

START_TEST(test_nn_bias_grad_meanpool)
{
    vn_nn nn = host_nn();
    struct Shape {
        int64_t N, OC;
    };
    for (Shape s : {Shape{1, 1}, Shape{1000, 37}, Shape{300, 9}}) {
        layouts(fmt("bias_grad N=%lld OC=%lld", (long long)s.N, (long long)s.OC), kGridStride, [&] {
            Rng r(9 + s.N);
            const V g = rnd(r, s.N * s.OC), db0 = rnd(r, s.OC);
            V want = db0;
            vn_bias_grad(&nn, want.data(), g.data(), s.N, s.OC);
            Dev<float> dg(g), db(db0);
            CU(vn_cuda_launch_bias_grad(kStream, db, dg, s.N, s.OC));
            expect_close("db += column sums (vn_bias_grad)", db.get(), want);
            return db.get();
        });
    }
    struct Pool {
        int64_t B, T, C;
    };
    for (Pool p : {Pool{3, 300, 21}, Pool{2, 1, 9}, Pool{1, 77, 130}}) {
        layouts(fmt("meanpool B=%lld T=%lld C=%lld", (long long)p.B, (long long)p.T, (long long)p.C), kGridStride, [&] {
            Rng r(14 + p.T);
            const V x = rnd(r, p.B * p.T * p.C, 1.0f, 0.5f), g = rnd(r, p.B * p.C), dx0 = rnd(r, p.B * p.T * p.C);
            V y(p.B * p.C), dx = dx0;
            vn_ref_meanpool_forward(y.data(), x.data(), p.B, p.T, p.C);
            vn_ref_meanpool_backward(dx.data(), g.data(), p.B, p.T, p.C);
            Dev<float> dxin(x), dg(g), ddx(dx0);
            std::unique_ptr<Dev<float>> dy(nan_buf(p.B * p.C));
            CU(vn_cuda_launch_meanpool_forward(kStream, *dy, dxin, p.B, p.T, p.C));
            CU(vn_cuda_launch_meanpool_backward(kStream, ddx, dg, p.B, p.T, p.C));
            expect_close("forward vs vn_ref_meanpool_forward", dy->get(), y);
            expect_same("backward == vn_ref_meanpool_backward", ddx.get(), dx);
            const V a = dy->get(), b = ddx.get();
            return concat({&a, &b});
        });
    }
}
END_TEST

START_TEST(test_nn_layernorm)
{
    struct Shape {
        int64_t N, C;
        float mean;
    };
    for (Shape s : {Shape{13, 37, 3.0f}, Shape{9, 100, 0.0f}, Shape{3, 1000, 100.0f}, Shape{2, 1, 1.0f}}) {
        layouts(fmt("layernorm N=%lld C=%lld", (long long)s.N, (long long)s.C), kGridStride, [&] {
            Rng r(10 + s.C);
            const int64_t N = s.N, C = s.C;
            const V x = rnd(r, N * C, 2.0f, s.mean), w = rnd(r, C), b = rnd(r, C);
            V ro(N * C), rm(N), rr(N);
            vn_ref_layernorm_forward(ro.data(), rm.data(), rr.data(), x.data(), w.data(), b.data(), N, C);
            Dev<float> dx(x), dw(w), db(b);
            std::unique_ptr<Dev<float>> out(nan_buf(N * C)), mean(nan_buf(N)), rstd(nan_buf(N));
            CU(vn_cuda_launch_layernorm_forward(kStream, *out, *mean, *rstd, dx, dw, db, N, C));
            expect_close("forward out", out->get(), ro);
            expect_close("forward mean", mean->get(), rm);
            expect_close("forward rstd", rstd->get(), rr);
            V ro2(N * C);
            vn_ref_layernorm_forward(ro2.data(), rm.data(), rr.data(), x.data(), nullptr, nullptr, N, C);
            std::unique_ptr<Dev<float>> out2(nan_buf(N * C));
            CU(vn_cuda_launch_layernorm_forward(kStream, *out2, nullptr, nullptr, dx, nullptr, nullptr, N, C));
            expect_close("forward out (no affine, no stats)", out2->get(), ro2);
            /* backward, all outputs, then each alone with w NULL. The parameter gradients
             * run a block of 512 threads per 8 columns, slow to emulate: wide rows test
             * dinp alone (the per-column work does not depend on C). */
            const bool params = C <= 128;
            const V g = rnd(r, N * C), dx0 = rnd(r, N * C), dw0 = rnd(r, C), db0 = rnd(r, C);
            V rdx = dx0, rdw = dw0, rdb = db0;
            vn_ref_layernorm_backward(rdx.data(), params ? rdw.data() : nullptr, params ? rdb.data() : nullptr,
                                      g.data(), x.data(), w.data(), rm.data(), rr.data(), N, C);
            Dev<float> dg(g), ddx(dx0), ddw(dw0), ddb(db0), dm(rm), dr(rr);
            CU(vn_cuda_launch_layernorm_backward(kStream, ddx, params ? ddw.p() : nullptr, params ? ddb.p() : nullptr,
                                                 dg, dx, dw, dm, dr, N, C));
            expect_close(params ? "backward dinp" : "backward dinp (dw, db NULL)", ddx.get(), rdx);
            if (params) {
                expect_close("backward dw", ddw.get(), rdw);
                expect_close("backward db", ddb.get(), rdb);
            }
            V rdw2 = dw0, rdx3 = dx0;
            if (params)
                vn_ref_layernorm_backward(nullptr, rdw2.data(), nullptr, g.data(), x.data(), nullptr, rm.data(),
                                          rr.data(), N, C);
            vn_ref_layernorm_backward(rdx3.data(), nullptr, nullptr, g.data(), x.data(), nullptr, rm.data(),
                                      rr.data(), N, C);
            Dev<float> ddw2(dw0), ddx3(dx0);
            if (params)
                CU(vn_cuda_launch_layernorm_backward(kStream, nullptr, ddw2, nullptr, dg, dx, nullptr, dm, dr, N, C));
            CU(vn_cuda_launch_layernorm_backward(kStream, ddx3, nullptr, nullptr, dg, dx, nullptr, dm, dr, N, C));
            if (params)
                expect_close("backward dw only (w NULL)", ddw2.get(), rdw2);
            expect_close("backward dinp only (w NULL)", ddx3.get(), rdx3);
            const V a = out->get(), b1 = mean->get(), c = rstd->get(), d = ddx.get(), e = ddw.get(), f = ddb.get(),
                    h = ddw2.get(), i = ddx3.get();
            return concat({&a, &b1, &c, &d, &e, &f, &h, &i});
        });
    }
    /* many rows: the parameter gradient's unrolled row loop */
    layouts("layernorm dw/db N=777 C=19", kGridStride, [&] {
        Rng r(11);
        const int64_t N = 777, C = 19;
        const V x = rnd(r, N * C, 2.0f, 1.0f), w = rnd(r, C), g = rnd(r, N * C), dw0 = rnd(r, C), db0 = rnd(r, C);
        V m(N), rs(N), o(N * C), rdw = dw0, rdb = db0;
        vn_ref_layernorm_forward(o.data(), m.data(), rs.data(), x.data(), nullptr, nullptr, N, C);
        vn_ref_layernorm_backward(nullptr, rdw.data(), rdb.data(), g.data(), x.data(), w.data(), m.data(), rs.data(),
                                  N, C);
        Dev<float> dx(x), dw(w), dg(g), ddw(dw0), ddb(db0), dm(m), dr(rs);
        CU(vn_cuda_launch_layernorm_backward(kStream, nullptr, ddw, ddb, dg, dx, dw, dm, dr, N, C));
        expect_close("backward dw", ddw.get(), rdw);
        expect_close("backward db", ddb.get(), rdb);
        const V a = ddw.get(), b = ddb.get();
        return concat({&a, &b});
    });
}
END_TEST

START_TEST(test_nn_gelu_softmax)
{
    layouts("gelu n=3000", kGridStride, [&] {
        Rng r(12);
        const int64_t n = 3000;
        V x = rnd(r, n, 8.0f);
        x[0] = 30.0f, x[1] = -30.0f, x[2] = 0.0f, x[3] = NAN;
        const V g = rnd(r, n), dx0 = rnd(r, n);
        V ry(n), rdx = dx0;
        vn_ref_gelu_forward(ry.data(), x.data(), n);
        vn_ref_gelu_backward(rdx.data(), x.data(), g.data(), n);
        Dev<float> dxin(x), dg(g), ddx(dx0);
        std::unique_ptr<Dev<float>> y(nan_buf(n));
        CU(vn_cuda_launch_gelu_forward(kStream, *y, dxin, n));
        CU(vn_cuda_launch_gelu_backward(kStream, ddx, dxin, dg, n));
        expect_close("forward (NaN passes through)", y->get(), ry);
        expect_close("backward (NaN passes through)", ddx.get(), rdx);
        const V a = y->get(), b = ddx.get();
        return concat({&a, &b});
    });
    for (int64_t C : {1, 7, 70, 2000}) {
        layouts(fmt("softmax N=9 C=%lld", (long long)C), kGridStride, [&] {
            Rng r(13 + C);
            const int64_t N = 9;
            const V x = rnd(r, N * C, 5.0f), g = rnd(r, N * C), dx0 = rnd(r, N * C);
            V ry(N * C), rdx = dx0;
            vn_ref_softmax_forward(ry.data(), x.data(), N, C);
            vn_ref_softmax_backward(rdx.data(), ry.data(), g.data(), N, C);
            Dev<float> dxin(x), dg(g), ddx(dx0);
            std::unique_ptr<Dev<float>> y(nan_buf(N * C));
            CU(vn_cuda_launch_softmax_forward(kStream, *y, dxin, N, C));
            expect_close("forward", y->get(), ry);
            Dev<float> dyref(ry);
            CU(vn_cuda_launch_softmax_backward(kStream, ddx, dyref, dg, N, C));
            expect_close("backward", ddx.get(), rdx);
            Dev<float> inplace(x);
            CU(vn_cuda_launch_softmax_forward(kStream, inplace, inplace, N, C));
            expect_same("forward in place == out of place", inplace.get(), y->get());
            const V a = y->get(), b = ddx.get();
            return concat({&a, &b});
        });
    }
}
END_TEST

START_TEST(test_nn_l2norm)
{
    vn_nn nn = host_nn();
    for (int64_t D : {1, 45, 300}) {
        layouts(fmt("l2norm N=5 D=%lld", (long long)D), kGridStride, [&] {
            Rng r(15 + D);
            const int64_t N = 5;
            V x = rnd(r, N * D);
            std::fill(x.begin() + 2 * D, x.begin() + 3 * D, 0.0f); /* a zero row: norm clamped to 1e-12 */
            const V g = rnd(r, N * D), dx0 = rnd(r, N * D);
            V ry(N * D), rn(N), rdx = dx0;
            vn_l2norm_forward(&nn, ry.data(), rn.data(), x.data(), N, D);
            vn_l2norm_backward(&nn, rdx.data(), g.data(), ry.data(), rn.data(), N, D);
            Dev<float> dxin(x), dg(g), ddx(dx0);
            std::unique_ptr<Dev<float>> y(nan_buf(N * D)), nrm(nan_buf(N)), y2(nan_buf(N * D));
            CU(vn_cuda_launch_l2norm_forward(kStream, *y, *nrm, dxin, N, D));
            CU(vn_cuda_launch_l2norm_forward(kStream, *y2, nullptr, dxin, N, D));
            expect_close("forward y (vn_l2norm_forward)", y->get(), ry);
            expect_close("forward norm", nrm->get(), rn);
            expect_same("forward y without norm", y2->get(), y->get());
            Dev<float> dyref(ry), dnref(rn);
            CU(vn_cuda_launch_l2norm_backward(kStream, ddx, dg, dyref, dnref, N, D));
            expect_close("backward (vn_l2norm_backward)", ddx.get(), rdx);
            const V a = y->get(), b = nrm->get(), c = ddx.get();
            return concat({&a, &b, &c});
        });
    }
}
END_TEST

START_TEST(test_nn_unfold)
{
    vn_nn nn = host_nn();
    struct UF {
        int64_t B, Ch, Fr, H, W, tt, p;
    };
    for (UF u : {UF{2, 3, 4, 8, 12, 2, 4}, UF{1, 2, 5, 10, 9, 2, 3}, UF{2, 1, 3, 4, 4, 1, 2}, UF{1, 1, 1, 1, 1, 1, 1}}) {
        layouts(fmt("unfold B%lld Ch%lld Fr%lld %lldx%lld tt%lld p%lld", (long long)u.B, (long long)u.Ch,
                    (long long)u.Fr, (long long)u.H, (long long)u.W, (long long)u.tt, (long long)u.p),
                kGridStride, [&] {
                    Rng r(16 + u.W);
                    const int64_t Lh = u.H / u.p, Lw = u.W / u.p, F = u.Fr / u.tt, K = u.Ch * u.tt * u.p * u.p,
                                  nk = Lh * Lw;
                    const V clip = rnd(r, u.B * u.Ch * u.Fr * u.H * u.W);
                    V rp(u.B * F * nk * K);
                    vn_unfold(&nn, rp.data(), clip.data(), nullptr, nk, u.B, u.Ch, u.Fr, u.H, u.W, u.tt, u.p);
                    V rp2(rp.size());
                    vn_ref_tubelet_unfold(rp2.data(), clip.data(), u.B, u.Ch, u.Fr, u.H, u.W, u.tt, u.p);
                    expect_same("vn_unfold == vn_ref_tubelet_unfold (reference check)", rp, rp2);
                    Dev<float> dclip(clip);
                    std::unique_ptr<Dev<float>> pt(nan_buf(rp.size()));
                    CU(vn_cuda_launch_unfold(kStream, *pt, dclip, nullptr, nk, u.B, u.Ch, u.Fr, u.H, u.W, u.tt, u.p));
                    expect_same("all positions == vn_unfold", pt->get(), rp);
                    const int64_t nkk = nk > 2 ? nk - 2 : 1;
                    VI keep;
                    for (int64_t n = 0; n < u.B; n++) {
                        const VI pp = perm(r, (int)nk, (int)nkk);
                        keep.insert(keep.end(), pp.begin(), pp.end());
                    }
                    V rk(u.B * F * nkk * K);
                    vn_unfold(&nn, rk.data(), clip.data(), keep.data(), nkk, u.B, u.Ch, u.Fr, u.H, u.W, u.tt, u.p);
                    Dev<int32_t> dkeep(keep);
                    std::unique_ptr<Dev<float>> pk(nan_buf(rk.size()));
                    CU(vn_cuda_launch_unfold(kStream, *pk, dclip, dkeep, nkk, u.B, u.Ch, u.Fr, u.H, u.W, u.tt, u.p));
                    expect_same("kept positions == vn_unfold", pk->get(), rk);
                    const V a = pt->get(), b = pk->get();
                    return concat({&a, &b});
                });
    }
}
END_TEST

START_TEST(test_nn_pos_add)
{
    vn_nn nn = host_nn();
    layouts("pos_add rows=33 L=11 C=50", kGridStride, [&] {
        Rng r(17);
        const int64_t rows = 33, L = 11, C = 50;
        const V x = rnd(r, rows * C), pos = rnd(r, L * C);
        VI pi(rows);
        for (int32_t &v : pi)
            v = r.below((int)L);
        V want(rows * C), wanti(rows * C);
        vn_pos_add_rows(&nn, want.data(), x.data(), pos.data(), nullptr, rows, L, C);
        vn_pos_add_rows(&nn, wanti.data(), x.data(), pos.data(), pi.data(), rows, L, C);
        Dev<float> dx(x), dpos(pos), inplace(x);
        Dev<int32_t> dpi(pi);
        std::unique_ptr<Dev<float>> o(nan_buf(rows * C)), oi(nan_buf(rows * C));
        CU(vn_cuda_launch_pos_add(kStream, *o, dx, dpos, nullptr, rows, L, C));
        CU(vn_cuda_launch_pos_add(kStream, *oi, dx, dpos, dpi, rows, L, C));
        CU(vn_cuda_launch_pos_add(kStream, inplace, inplace, dpos, nullptr, rows, L, C));
        expect_same("strided == vn_pos_add_rows", o->get(), want);
        expect_same("indexed == vn_pos_add_rows", oi->get(), wanti);
        expect_same("in place (out == inp)", inplace.get(), want);
        const V a = o->get(), b = oi->get();
        return concat({&a, &b});
    });
    struct PB {
        int64_t rows, L, C, used;
    };
    for (PB q : {PB{33, 11, 50, 11}, PB{700, 37, 150, 30}, PB{20, 40, 33, 40}, PB{1, 1, 1, 1}, PB{35, 10, 7, 10}}) {
        layouts(fmt("pos_add_backward rows=%lld L=%lld C=%lld", (long long)q.rows, (long long)q.L, (long long)q.C),
                kGridStride, [&] {
                    Rng r(18 + q.rows);
                    const int64_t rows = q.rows, L = q.L, C = q.C;
                    const V g = rnd(r, rows * C), dx0 = rnd(r, rows * C);
                    V dp0 = rnd(r, L * C);
                    dp0[0] = -0.0f;
                    /* strided: rows % L == 0 is vn_posembed_backward, the same bits */
                    V rdx = dx0, rdp = dp0;
                    vn_pos_add_rows_backward(&nn, rdx.data(), rdp.data(), g.data(), nullptr, rows, L, C);
                    Dev<float> dg(g), ddx(dx0), ddp(dp0);
                    CU(vn_cuda_launch_pos_add_backward(kStream, ddx, ddp, dg, nullptr, rows, L, C));
                    expect_same("strided dinp == vn_pos_add_rows_backward", ddx.get(), rdx);
                    if (rows % L == 0)
                        expect_same("strided dpos == vn_posembed_backward", ddp.get(), rdp);
                    else
                        expect_close("strided dpos (rows % L != 0)", ddp.get(), rdp);
                    /* indexed, dinp NULL; pos rows >= used get no row and must keep their bits */
                    VI pi(rows);
                    for (int32_t &v : pi)
                        v = r.below((int)q.used);
                    const V dp2 = rnd(r, L * C);
                    V rdp2 = dp2;
                    vn_pos_add_rows_backward(&nn, nullptr, rdp2.data(), g.data(), pi.data(), rows, L, C);
                    Dev<float> ddp2(dp2);
                    Dev<int32_t> dpi(pi);
                    CU(vn_cuda_launch_pos_add_backward(kStream, nullptr, ddp2, dg, dpi, rows, L, C));
                    const V got2 = ddp2.get();
                    expect_close("indexed dpos (vn_pos_add_rows_backward)", got2, rdp2);
                    std::vector<int> hit(L, 0);
                    for (int32_t v : pi)
                        hit[v] = 1;
                    V unused_got, unused_want;
                    for (int64_t l = 0; l < L; l++)
                        if (!hit[l])
                            for (int64_t c = 0; c < C; c++)
                                unused_got.push_back(got2[l * C + c]), unused_want.push_back(dp2[l * C + c]);
                    expect_same("indexed: pos rows without a row untouched", unused_got, unused_want);
                    const V a = ddx.get(), b = ddp.get();
                    return concat({&a, &b, &got2});
                });
    }
}
END_TEST

START_TEST(test_nn_group_temporal)
{
    layouts("group/ungroup B2 F3 S5 W37", kGridStride, [&] {
        Rng r(19);
        const int64_t B = 2, F = 3, S = 5, W = 37, n = B * F * S * W;
        const V x = rnd(r, n), acc0 = rnd(r, n);
        V rg(n), ru(n), rua = acc0;
        vn_ref_attention_group_temporal(rg.data(), x.data(), B, F, S, W);
        vn_ref_attention_ungroup_temporal(ru.data(), rg.data(), B, F, S, W, 0);
        vn_ref_attention_ungroup_temporal(rua.data(), rg.data(), B, F, S, W, 1);
        Dev<float> dx(x), dacc(acc0), drg(rg);
        std::unique_ptr<Dev<float>> gd(nan_buf(n)), ud(nan_buf(n));
        CU(vn_cuda_launch_group_temporal(kStream, *gd, dx, B, F, S, W));
        CU(vn_cuda_launch_ungroup_temporal(kStream, *ud, drg, B, F, S, W, 0));
        CU(vn_cuda_launch_ungroup_temporal(kStream, dacc, drg, B, F, S, W, 1));
        expect_same("group == vn_ref_attention_group_temporal", gd->get(), rg);
        expect_same("ungroup == vn_ref_attention_ungroup_temporal", ud->get(), ru);
        expect_same("ungroup(group(x)) == x", ud->get(), x);
        expect_same("ungroup accumulate", dacc.get(), rua);
        const V a = gd->get(), b = dacc.get();
        return concat({&a, &b});
    });
}
END_TEST

std::vector<const TTest *> emu_test::tests_kernels_nn()
{
    return {test_nn_memory, test_nn_bias_grad_meanpool, test_nn_layernorm, test_nn_gelu_softmax, test_nn_l2norm, test_nn_unfold, test_nn_pos_add, test_nn_group_temporal};
}
