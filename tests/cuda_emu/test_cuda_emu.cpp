/*
 * cuda_emu: the CUDA backend's kernels, from their current source, run on the CPU by the
 * emulator (shim.h) and compared with the CPU references of the same ops.
 *
 * Every launcher of cuda_kernels.h, kernels_nn.h and kernels_train.h runs on small
 * random shapes, odd sizes included, against its twin: the vn_ref_* functions of
 * src/nn/ops_ref.h, the reference backend (src/backend/backend_reference.c), the host
 * paths of src/nn (ops_buffers.c, optim.c) or, where there is none, a plain loop.
 * fp32 math must agree to NMSE <= 1e-7; data movement and the ops that promise the
 * host's bits (add, mul, scale, axpy, AdamW, EMA ...) must agree exactly.
 *
 * Each case also runs in other layouts (layouts()): blocks in reverse order and, for
 * kernels whose loops stride over the grid, with the grid capped at 2 and at 1 block per
 * dimension. The outputs must be the same bits in every layout, which the kernels
 * promise (no atomics, sums in an order fixed by the shapes).
 *
 * "Device" buffers (Dev) end at an inaccessible page and carry a canary in front, so a
 * kernel that reads or writes past its buffer's end crashes the case (SIGSEGV) and one
 * that writes before its start fails it. Outputs a kernel should write in full are
 * filled with NaN first.
 *
 * The "emulator" case set checks the emulator itself: warp exchanges, block votes,
 * shared memory, atomics, exits, and the misuses it reports (they must abort).
 *
 * This file holds what the case sets share (emu_test.h) and main(), which assembles the
 * suite. The cases are in one file per kernel file: test_kernels.cpp (kernels.cu),
 * test_kernels_nn.cpp (kernels_nn.cu), test_kernels_attention.cpp (kernels_attention.cu),
 * test_kernels_train.cpp (kernels_loss.cu, kernels_optim.cu) and test_emulator.cpp
 * (selftest.cu).
 */
#include "emu_test.h"

#include <chrono>
#include <cstdarg>

namespace emu_test {

/* ---- data ------------------------------------------------------------------------------- */

V rnd(Rng &r, size_t n, float scale, float offset)
{
    V v(n);
    for (float &x : v)
        x = r.uniform() * scale + offset;
    return v;
}

/* A random permutation of [0, n), first k of it. */
VI perm(Rng &r, int n, int k)
{
    VI p(n);
    for (int i = 0; i < n; i++)
        p[i] = i;
    for (int i = n - 1; i > 0; i--)
        std::swap(p[i], p[r.below(i + 1)]);
    p.resize(k);
    return p;
}

V concat(std::initializer_list<const V *> parts)
{
    V all;
    for (const V *p : parts)
        all.insert(all.end(), p->begin(), p->end());
    return all;
}

V as_floats(double d)
{
    V v(2);
    std::memcpy(v.data(), &d, sizeof d);
    return v;
}

/* ---- device buffers ---------------------------------------------------------------------- */

const size_t kPage = (size_t)sysconf(_SC_PAGESIZE);

/* A buffer of n NaNs: an output the kernel must write in full. */
Dev<float> *nan_buf(size_t n)
{
    Dev<float> *d = new Dev<float>(n);
    std::fill(d->p(), d->p() + n, NAN);
    return d;
}

/* ---- comparisons ------------------------------------------------------------------------- */

double nmse(const V &got, const V &ref)
{
    if (got.size() != ref.size())
        return INFINITY;
    double e = 0.0, s = 0.0;
    for (size_t i = 0; i < got.size(); i++) {
        if (std::isnan(ref[i]) || std::isnan(got[i])) {
            if (std::isnan(ref[i]) != std::isnan(got[i]))
                return INFINITY;
            continue;
        }
        if (std::isinf(ref[i]) || std::isinf(got[i])) {
            if (ref[i] != got[i])
                return INFINITY;
            continue;
        }
        const double d = (double)got[i] - ref[i];
        e += d * d;
        s += (double)ref[i] * ref[i];
    }
    return s > 0.0 ? e / s : e;
}

std::string g_case;

void expect_close(const char *what, const V &got, const V &ref, double tol)
{
    const double e = nmse(got, ref);
    printf("  %-44s %-44s nmse %9.2e (<= %.0e) %s\n", g_case.c_str(), what, e, tol, e <= tol ? "ok" : "FAIL");
    if (!(e <= tol)) {
        size_t worst = 0;
        double wd = -1.0;
        for (size_t i = 0; i < got.size() && i < ref.size(); i++) {
            const double d = std::isnan(got[i]) != std::isnan(ref[i]) ? INFINITY : std::fabs((double)got[i] - ref[i]);
            if (d > wd)
                wd = d, worst = i;
        }
        ck_abort_msg("%s: %s: NMSE %.3e > %.0e (n %zu); worst element %zu: got %.9g, expected %.9g", g_case.c_str(),
                     what, e, tol, got.size(), worst, worst < got.size() ? got[worst] : NAN,
                     worst < ref.size() ? ref[worst] : NAN);
    }
}

void layouts(const std::string &name, Grid grid, const std::function<V()> &fn)
{
    struct Layout {
        const char *label;
        emu::Options o;
    };
    std::vector<Layout> ls = {{"", {0, false}}};
    if (grid == kGridStride) {
        ls.push_back({" [grid<=2, reversed]", {2, true}});
        ls.push_back({" [grid<=1]", {1, false}});
    } else {
        ls.push_back({" [reversed]", {0, true}});
    }
    V first;
    for (size_t i = 0; i < ls.size(); i++) {
        emu::set_options(ls[i].o);
        g_case = name + ls[i].label;
        const V out = fn();
        if (i == 0)
            first = out;
        else
            expect_same("outputs == natural layout's", out, first);
    }
    emu::set_options(emu::Options());
    g_case = name;
}

std::string fmt(const char *f, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, f);
    vsnprintf(buf, sizeof buf, f, ap);
    va_end(ap);
    return buf;
}

vn_nn host_nn()
{
    vn_nn nn;
    std::memset(&nn, 0, sizeof nn);
    nn.n_threads = 1;
    nn.deterministic = 1;
    return nn;
}

RefBackend::RefBackend()
{
    vn_backend_config cfg;
    std::memset(&cfg, 0, sizeof cfg);
    cfg.n_threads = 1;
    cfg.deterministic = 1;
    ck_assert_int_eq(vn_be_open(&be, VN_BACKEND_REFERENCE, &cfg), VN_OK);
}

RefBackend::~RefBackend()
{
    vn_be_close(&be);
}

} // namespace emu_test

using namespace emu_test;

/* Each test's time and emulator work, printed when it ends (in its own process). */
static std::chrono::steady_clock::time_point g_t0;
static void test_start(void)
{
    g_t0 = std::chrono::steady_clock::now();
}
static void test_end(void)
{
    const emu::Stats st = emu::stats();
    printf("  -- %.2f s: %llu launches, %llu blocks, %llu threads, %llu __syncthreads, %llu warp ops\n",
           std::chrono::duration<double>(std::chrono::steady_clock::now() - g_t0).count(),
           (unsigned long long)st.launches, (unsigned long long)st.blocks, (unsigned long long)st.threads,
           (unsigned long long)st.block_barriers, (unsigned long long)st.warp_ops);
    fflush(stdout);
}

int main(void)
{
    Suite *s = suite_create("cuda_emu");
    struct Case {
        const char *name;
        std::vector<const TTest *> tests;
    };
    const Case cases[] = {
        {"kernels", tests_kernels()},
        {"kernels_nn", tests_kernels_nn()},
        {"kernels_attention", tests_kernels_attention()},
        {"kernels_loss", tests_kernels_loss()},
        {"kernels_optim", tests_kernels_optim()},
        {"emulator", tests_emulator()},
    };
    for (const Case &c : cases) {
        TCase *tc = tcase_create(c.name);
        tcase_set_timeout(tc, 300);
        tcase_add_checked_fixture(tc, test_start, test_end);
        for (const TTest *t : c.tests)
            tcase_add_test(tc, t);
        suite_add_tcase(s, tc);
    }
    /* The misuses abort, which only a forked test survives. */
    const char *fork = getenv("CK_FORK");
    if (!fork || strcmp(fork, "no") != 0) {
        TCase *tc = tcase_create("emulator_misuse");
        tcase_set_timeout(tc, 60);
        for (const SignalTest &t : tests_emulator_misuse())
            tcase_add_test_raise_signal(tc, t.test, t.signal);
        suite_add_tcase(s, tc);
    }
    const auto t0 = std::chrono::steady_clock::now();
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    const int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    printf("cuda_emu: %.1f s\n",
           std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
