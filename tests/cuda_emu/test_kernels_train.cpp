/*
 * cuda_emu, the "kernels_loss" and "kernels_optim" case sets: the losses of
 * cuda/kernels_loss.cu and the optimizer of cuda/kernels_optim.cu (kernels_train.h)
 * against the host paths of src/nn. Shared helpers: emu_test.h.
 */
#include "emu_test.h"

using namespace emu_test;

/* ==== kernels_loss.cu ======================================================================== */

/* The multi-block losses run with part scratch; the partition must not be capped. */
START_TEST(test_loss_bce)
{
    /* 16384 elements per block: 40000 takes three blocks and the final pass */
    for (int64_t N : {1, 1000, 40000}) {
        layouts(fmt("bce_logits N=%lld", (long long)N), kFixedGrid, [&] {
            Rng r(40 + N);
            const V x = rnd(r, N, 6.0f), d0 = rnd(r, N);
            V t(N);
            for (float &v : t)
                v = r.below(3) == 0 ? 0.5f : (float)r.below(2);
            const float dloss = 0.7f;
            V rd = d0;
            const float rl = vn_ref_bce_logits_loss(rd.data(), x.data(), t.data(), N, dloss);
            Dev<float> dx(x), dt(t), dd(d0), loss(V{NAN}), loss2(V{NAN});
            Dev<double> part(vn_cuda_reduce_blocks(N, VN_CUDA_ELEMS_PER_BLOCK));
            CU(vn_cuda_launch_bce_logits(kStream, loss, dd, dx, dt, N, dloss, part));
            expect_close("loss", loss.get(), {rl});
            expect_close("dlogits +=", dd.get(), rd);
            CU(vn_cuda_launch_bce_logits(kStream, loss2, nullptr, dx, dt, N, dloss, part));
            expect_same("loss without gradient", loss2.get(), loss.get());
            const V a = loss.get(), b = dd.get();
            return concat({&a, &b});
        });
    }
    g_case = "bce_logits N=0";
    Dev<float> loss(V{0.0f});
    CU(vn_cuda_launch_bce_logits(kStream, loss, nullptr, nullptr, nullptr, 0, 1.0f, nullptr));
    ck_assert_msg(std::isnan(loss.p()[0]), "the mean of nothing is %g, not NaN", loss.p()[0]);
    printf("  %-44s %-44s ok\n", g_case.c_str(), "mean of nothing is NaN");
}
END_TEST

START_TEST(test_loss_softmax_ce)
{
    struct Shape {
        int64_t N, K;
    };
    /* 64 rows per block: 150 rows take three */
    for (Shape s : {Shape{1, 1}, Shape{37, 10}, Shape{150, 7}, Shape{20, 100}}) {
        layouts(fmt("softmax_ce N=%lld K=%lld", (long long)s.N, (long long)s.K), kFixedGrid, [&] {
            Rng r(50 + s.N + s.K);
            const int64_t N = s.N, K = s.K;
            const V x = rnd(r, N * K, 8.0f), g0 = rnd(r, N * K);
            VI labels(N);
            for (int32_t &l : labels)
                l = r.below((int)K);
            const float dloss = 1.3f;
            V racc = g0, rstore(N * K, 0.0f);
            const float rl = vn_ref_softmax_ce_loss(racc.data(), x.data(), labels.data(), N, K, dloss);
            vn_ref_softmax_ce_loss(rstore.data(), x.data(), labels.data(), N, K, dloss);
            Dev<float> dx(x), dacc(g0), loss(V{NAN}), loss2(V{NAN}), loss3(V{NAN});
            Dev<int32_t> dl(labels);
            std::unique_ptr<Dev<float>> dstore(nan_buf(N * K));
            Dev<double> part(vn_cuda_reduce_blocks(N, VN_CUDA_ROWS_PER_BLOCK));
            CU(vn_cuda_launch_softmax_ce(kStream, loss, dacc, 1, dx, dl, N, K, dloss, part));
            CU(vn_cuda_launch_softmax_ce(kStream, loss2, *dstore, 0, dx, dl, N, K, dloss, part));
            CU(vn_cuda_launch_softmax_ce(kStream, loss3, nullptr, 0, dx, dl, N, K, dloss, part));
            expect_close("loss", loss.get(), {rl});
            expect_close("g accumulated", dacc.get(), racc);
            expect_close("g stored", dstore->get(), rstore);
            expect_same("loss (stored g) == loss (accumulated g)", loss2.get(), loss.get());
            expect_same("loss without g", loss3.get(), loss.get());
            const V a = loss.get(), b = dacc.get(), c = dstore->get();
            return concat({&a, &b, &c});
        });
    }
    /* A label outside [0, K): NaN loss, no access through it. */
    g_case = "softmax_ce bad label";
    for (int32_t bad : {-1, 5}) {
        const int64_t N = 4, K = 5;
        Rng r(55);
        const V x = rnd(r, N * K);
        VI labels = {0, 1, bad, 3};
        Dev<float> dx(x), g(N * K), loss(V{0.0f});
        Dev<int32_t> dl(labels);
        CU(vn_cuda_launch_softmax_ce(kStream, loss, g, 0, dx, dl, N, K, 1.0f, nullptr));
        ck_assert_msg(std::isnan(loss.p()[0]), "label %d: loss %g, not NaN", bad, loss.p()[0]);
    }
    printf("  %-44s %-44s ok\n", g_case.c_str(), "labels -1 and K give a NaN loss");
}
END_TEST

START_TEST(test_loss_ln_target)
{
    struct Shape {
        int64_t N, C;
    };
    for (int mse : {0, 1}) {
        for (Shape s : {Shape{20, 50}, Shape{130, 33}, Shape{1, 1}, Shape{3, 300}}) {
            layouts(fmt("%s_ln_target N=%lld C=%lld", mse ? "mse" : "l1", (long long)s.N, (long long)s.C),
                    kFixedGrid, [&] {
                        Rng r(60 + s.N * 7 + s.C + mse);
                        const int64_t N = s.N, C = s.C;
                        /* pred well away from the normalised target, so that L1's sign never
                         * hangs on rounding */
                        const V target = rnd(r, N * C, 3.0f, 1.0f), dp0 = rnd(r, N * C);
                        V pred = rnd(r, N * C, 2.0f);
                        for (float &p : pred)
                            p += p < 0.0f ? -0.01f : 0.01f;
                        const float dloss = 0.9f;
                        V rdp = dp0, rln(N * C);
                        const float rl = mse ? vn_ref_mse_ln_target_loss(rdp.data(), pred.data(), target.data(), N, C,
                                                                         dloss, rln.data())
                                             : vn_ref_l1_ln_target_loss(rdp.data(), pred.data(), target.data(), N, C,
                                                                        dloss, rln.data());
                        Dev<float> dpred(pred), dtarget(target), ddp(dp0), loss(V{NAN}), loss2(V{NAN});
                        std::unique_ptr<Dev<float>> ln(nan_buf(N * C)), ln2(nan_buf(N * C));
                        Dev<double> part(vn_cuda_reduce_blocks(N, VN_CUDA_ROWS_PER_BLOCK));
                        CU(vn_cuda_launch_ln_target(kStream, mse, loss, ddp, dpred, dtarget, *ln, N, C, dloss, part));
                        expect_close("loss", loss.get(), {rl});
                        expect_close("dpred +=", ddp.get(), rdp);
                        expect_close("ln(target)", ln->get(), rln);
                        CU(vn_cuda_launch_ln_target(kStream, mse, loss2, nullptr, dpred, dtarget, *ln2, N, C, dloss,
                                                    part));
                        expect_same("loss without gradient", loss2.get(), loss.get());
                        const V a = loss.get(), b = ddp.get(), c = ln->get();
                        return concat({&a, &b, &c});
                    });
        }
    }
}
END_TEST

/* ==== kernels_optim.cu ======================================================================= */

/* The scalars vn_adamw_step hands a device: captured through a stand-in engine table. */
static vn_adamw_scalars g_sc;
static vn_status capture_adamw(vn_backend_state *, float *, const float *, float *, float *, int64_t,
                               const vn_adamw_scalars *sc)
{
    g_sc = *sc;
    return VN_OK;
}

START_TEST(test_optim_adamw)
{
    for (int64_t n : {1, 1000, 5000}) {
        layouts(fmt("adamw n=%lld", (long long)n), kGridStride, [&] {
            Rng r(70 + n);
            const V p0 = rnd(r, n), g = rnd(r, n, 0.1f), m0 = rnd(r, n, 0.01f);
            V v0 = rnd(r, n, 0.001f);
            for (float &v : v0)
                v = std::fabs(v);
            const vn_adamw_hparams hp = {0.9, 0.999, 1e-8};
            const double lr = 3e-4;
            const int64_t step = 7;
            /* the host step */
            V hp_ = p0, hm = m0, hv = v0, hg = g;
            vn_param_group grp;
            std::memset(&grp, 0, sizeof grp);
            grp.param = hp_.data(), grp.grad = hg.data(), grp.m = hm.data(), grp.v = hv.data(), grp.n = n;
            grp.weight_decay = 0.05f;
            vn_nn nn = host_nn();
            vn_adamw_step(&nn, &grp, 1, lr, &hp, step);
            /* the scalars a device would get */
            vn_backend_nn table;
            std::memset(&table, 0, sizeof table);
            table.adamw = capture_adamw;
            vn_be be;
            std::memset(&be, 0, sizeof be);
            vn_nn dev = host_nn();
            dev.be = &be;
            dev.dev = &table;
            vn_adamw_step(&dev, &grp, 1, lr, &hp, step);
            Dev<float> dp(p0), dg(g), dm(m0), dv(v0);
            CU(vn_cuda_launch_adamw(kStream, n, dp, dg, dm, dv, g_sc.decay, g_sc.w1, g_sc.b2, g_sc.w2, g_sc.step_size,
                                    g_sc.bc2_sqrt, g_sc.eps));
            expect_same("param == vn_adamw_step", dp.get(), hp_);
            expect_same("m == vn_adamw_step", dm.get(), hm);
            expect_same("v == vn_adamw_step", dv.get(), hv);
            const V a = dp.get(), b = dm.get(), c = dv.get();
            return concat({&a, &b, &c});
        });
    }
}
END_TEST

START_TEST(test_optim_sumsq_clip)
{
    vn_nn nn = host_nn();
    /* 16384 elements per block: 40000 takes three */
    for (int64_t n : {0, 1, 1000, 40000}) {
        layouts(fmt("sumsq n=%lld", (long long)n), kFixedGrid, [&] {
            Rng r(80 + n);
            V x = rnd(r, n ? n : 1, 2.0f);
            x.resize(n);
            double want = 1.25;
            for (float v : x)
                want += (double)v * v;
            Dev<float> dx(x);
            Dev<double> acc(std::vector<double>{1.25}), part(vn_cuda_reduce_blocks(n, VN_CUDA_ELEMS_PER_BLOCK));
            CU(vn_cuda_launch_sumsq(kStream, n, dx, acc, part));
            const double got = acc.p()[0];
            const double rel = std::fabs(got - want) / want;
            printf("  %-44s %-44s rel.err %9.2e (<= 1e-12) %s\n", g_case.c_str(), "acc += sum x^2 (double)", rel,
                   rel <= 1e-12 ? "ok" : "FAIL");
            ck_assert_msg(rel <= 1e-12, "sumsq n=%lld: %.17g, expected %.17g", (long long)n, got, want);
            return as_floats(got);
        });
    }
    for (double max_norm : {0.5, 1e9}) {
        layouts(fmt("clip_scale max_norm=%g", max_norm), kGridStride, [&] {
            Rng r(90);
            const int64_t n = 3000;
            const V x = rnd(r, n);
            double ss = 0.0;
            for (float v : x)
                ss += (double)v * v;
            /* the plain loop of vn_clip_grad_norm, from this sum */
            V want = x;
            const double coef = max_norm / (std::sqrt(ss) + 1e-6);
            if (coef < 1.0)
                for (float &v : want)
                    v *= (float)coef;
            Dev<float> dx(x);
            Dev<double> dss(std::vector<double>{ss});
            CU(vn_cuda_launch_clip_scale(kStream, n, dx, dss, max_norm));
            expect_same(coef < 1.0 ? "x *= (float)coef" : "coef >= 1: untouched", dx.get(), want);
            /* and the library's own clipping, whose norm sums in another order */
            V lib = x, zeros(n, 0.0f);
            vn_param_group grp;
            std::memset(&grp, 0, sizeof grp);
            grp.param = zeros.data(), grp.grad = lib.data(), grp.n = n;
            vn_clip_grad_norm(&nn, &grp, 1, max_norm);
            expect_close("vs vn_clip_grad_norm", dx.get(), lib);
            return dx.get();
        });
    }
}
END_TEST

START_TEST(test_optim_ema)
{
    vn_nn nn = host_nn();
    for (int64_t n : {1, 1000, 3001}) {
        layouts(fmt("ema n=%lld", (long long)n), kGridStride, [&] {
            Rng r(95 + n);
            const V t0 = rnd(r, n), o = rnd(r, n);
            const float m = 0.9973f;
            V want = t0;
            vn_ema_update(&nn, want.data(), o.data(), n, m);
            Dev<float> dt(t0), dob(o);
            CU(vn_cuda_launch_ema(kStream, n, dt, dob, m));
            expect_same("t == vn_ema_update", dt.get(), want);
            return dt.get();
        });
    }
}
END_TEST

std::vector<const TTest *> emu_test::tests_kernels_loss()
{
    return {test_loss_bce, test_loss_softmax_ce, test_loss_ln_target};
}

std::vector<const TTest *> emu_test::tests_kernels_optim()
{
    return {test_optim_adamw, test_optim_sumsq_clip, test_optim_ema};
}
