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
 */
#include <check.h>

#include <algorithm>
#include <cstdarg>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

/* NVIDIA's own host implementation of the bf16 conversion: the reference for to_bf16. */
#include <cuda_bf16.h>

#include "emu.h"
#include "selftest.h"

extern "C" {
#include "backend/backend.h"
#include "backend/backend_nn.h"
#include "cuda_kernels.h"
#include "kernels_nn.h"
#include "kernels_train.h"
#include "nn/ops.h"
#include "nn/ops_ref.h"
#include "nn/optim.h"
}

namespace {

typedef std::vector<float> V;
typedef std::vector<int32_t> VI;

constexpr double kTol = 1e-7; /* NMSE of fp32 math */
const cudaStream_t kStream = nullptr;

/* ---- data ------------------------------------------------------------------------------- */

struct Rng {
    uint64_t s;
    explicit Rng(uint64_t seed) : s(seed * 0x9e3779b97f4a7c15ull + 1) {}
    uint32_t next()
    {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        return (uint32_t)(s >> 32);
    }
    /* uniform in [-1, 1) */
    float uniform() { return (float)((next() >> 8) / (double)(1u << 24)) * 2.0f - 1.0f; }
    int below(int n) { return (int)(next() % (uint32_t)n); }
};

V rnd(Rng &r, size_t n, float scale = 1.0f, float offset = 0.0f)
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

/* ---- device buffers ----------------------------------------------------------------------
 * [guard page][canary .. data][guard page]: the data ends where the second guard starts. */

const size_t kPage = (size_t)sysconf(_SC_PAGESIZE);

template <class T>
class Dev {
  public:
    explicit Dev(size_t n) : n_(n)
    {
        const size_t bytes = n * sizeof(T), data_pages = (bytes + kPage - 1) / kPage;
        map_bytes_ = (data_pages + 2) * kPage;
        void *m = mmap(nullptr, map_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        ck_assert_msg(m != MAP_FAILED, "mmap of %zu bytes failed", map_bytes_);
        map_ = static_cast<unsigned char *>(m);
        mprotect(map_, kPage, PROT_NONE);
        mprotect(map_ + (data_pages + 1) * kPage, kPage, PROT_NONE);
        p_ = reinterpret_cast<T *>(map_ + (data_pages + 1) * kPage - bytes);
        std::memset(map_ + kPage, kCanary, (size_t)(reinterpret_cast<unsigned char *>(p_) - map_ - kPage));
    }
    explicit Dev(const std::vector<T> &v) : Dev(v.size())
    {
        if (!v.empty())
            std::memcpy(p_, v.data(), v.size() * sizeof(T));
    }
    Dev(const Dev &) = delete;
    Dev &operator=(const Dev &) = delete;
    ~Dev()
    {
        const unsigned char *c = map_ + kPage;
        for (; c < reinterpret_cast<const unsigned char *>(p_); c++)
            if (*c != kCanary)
                break;
        const bool intact = c == reinterpret_cast<const unsigned char *>(p_);
        munmap(map_, map_bytes_);
        ck_assert_msg(intact, "a kernel wrote before the start of a buffer of %zu elements", n_);
    }
    T *p() const { return p_; }
    operator T *() const { return p_; }
    std::vector<T> get() const { return std::vector<T>(p_, p_ + n_); }
    void set(const std::vector<T> &v)
    {
        ck_assert(v.size() == n_);
        if (n_)
            std::memcpy(p_, v.data(), n_ * sizeof(T));
    }

  private:
    static constexpr unsigned char kCanary = 0xa5;
    size_t n_, map_bytes_;
    unsigned char *map_;
    T *p_;
};

/* A buffer of n NaNs: an output the kernel must write in full. */
Dev<float> *nan_buf(size_t n)
{
    Dev<float> *d = new Dev<float>(n);
    std::fill(d->p(), d->p() + n, NAN);
    return d;
}

/* ---- comparisons ------------------------------------------------------------------------- */

/* sum (got - ref)^2 / sum ref^2 (or the plain sum when ref is all zero). A NaN in got
 * where ref has none, or the reverse, makes it infinite. */
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

/* The label of what is being compared, set by layouts() and the cases. */
std::string g_case;

void expect_close(const char *what, const V &got, const V &ref, double tol = kTol)
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

template <class T>
void expect_same(const char *what, const std::vector<T> &got, const std::vector<T> &ref)
{
    size_t bad = got.size() == ref.size() ? got.size() : 0;
    for (size_t i = 0; i < got.size() && i < ref.size() && bad == got.size(); i++)
        if (std::memcmp(&got[i], &ref[i], sizeof(T)) != 0)
            bad = i;
    const bool ok = got.size() == ref.size() && bad == got.size();
    printf("  %-44s %-44s %s\n", g_case.c_str(), what, ok ? "bit-identical" : "DIFFERENT");
    if (!ok) {
        if (got.size() != ref.size())
            ck_abort_msg("%s: %s: %zu elements, expected %zu", g_case.c_str(), what, got.size(), ref.size());
        double g = 0, r = 0;
        if constexpr (std::is_floating_point<T>::value)
            g = got[bad], r = ref[bad];
        else
            g = (double)got[bad], r = (double)ref[bad];
        ck_abort_msg("%s: %s: element %zu of %zu differs: got %.9g, expected %.9g", g_case.c_str(), what, bad,
                     got.size(), g, r);
    }
}

#define CU(call)                                                                                    \
    do {                                                                                            \
        cudaError_t cu_e_ = (call);                                                                 \
        ck_assert_msg(cu_e_ == cudaSuccess, "%s returned cudaError_t %d", #call, (int)cu_e_);     \
    } while (0)

/*
 * Runs fn (launches, compares with the reference, returns all outputs) in every layout:
 * the natural one, blocks in reverse order, and for grid-stride kernels the grid capped
 * at 2 (blocks reversed too) and at 1 block per dimension. The outputs of every layout
 * must be the bits of the natural one.
 */
enum Grid { kFixedGrid, kGridStride };

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

std::string fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
std::string fmt(const char *f, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, f);
    vsnprintf(buf, sizeof buf, f, ap);
    va_end(ap);
    return buf;
}

/* A host vn_nn: the src/nn ops run their host loops. */
vn_nn host_nn()
{
    vn_nn nn;
    std::memset(&nn, 0, sizeof nn);
    nn.n_threads = 1;
    nn.deterministic = 1;
    return nn;
}

/* The reference backend, for the base ops and the GEMM epilogue. */
struct RefBackend {
    vn_be be;
    RefBackend()
    {
        vn_backend_config cfg;
        std::memset(&cfg, 0, sizeof cfg);
        cfg.n_threads = 1;
        cfg.deterministic = 1;
        ck_assert_int_eq(vn_be_open(&be, VN_BACKEND_REFERENCE, &cfg), VN_OK);
    }
    ~RefBackend() { vn_be_close(&be); }
};

} // namespace

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

/* ==== the emulator itself ==================================================================== */

START_TEST(test_emu_warp_ops)
{
    g_case = "emulator warp ops";
    Dev<int> out(64 * EMU_ST_SHUFFLE_RESULTS);
    CU(emu_st_shuffles(out));
    for (int t = 0; t < 64; t++) {
        const int lane = t % 32, base = 1000 * (t / 32);
        const int *o = out.p() + t * EMU_ST_SHUFFLE_RESULTS;
        unsigned ballot = 0;
        for (int l = 0; l < 32; l += 3)
            ballot |= 1u << l;
        const int want[EMU_ST_SHUFFLE_RESULTS] = {
            base + (lane ^ 1),
            base + 31 - lane,
            base + (lane & ~7) + 3,
            base + (lane >= 3 ? lane - 3 : lane),
            base + ((lane % 16) + 5 < 16 ? lane + 5 : lane),
            base + ((lane ^ 9) < (lane & ~7) + 8 ? lane ^ 9 : lane),
            (int)ballot,
            1,
            1,
        };
        for (int k = 0; k < EMU_ST_SHUFFLE_RESULTS; k++)
            ck_assert_msg(o[k] == want[k], "thread %d, result %d: %d, expected %d", t, k, o[k], want[k]);
    }
    Dev<int> votes(9);
    CU(emu_st_block_votes(votes));
    const int want[9] = {20, 0, 1, 96, 1, 1, 0, 0, 0};
    for (int k = 0; k < 9; k++)
        ck_assert_msg(votes.p()[k] == want[k], "block vote %d: %d, expected %d", k, votes.p()[k], want[k]);
    printf("  %-44s %-44s ok\n", g_case.c_str(), "shfl/up/down/xor (widths), ballot/any/all, votes");
}
END_TEST

START_TEST(test_emu_memory)
{
    g_case = "emulator memory";
    Rng r(3);
    const V x = rnd(r, 200);
    Dev<float> dx(x), out(200);
    CU(emu_st_dynamic_shared(out, dx, 200));
    V want(x.rbegin(), x.rend());
    expect_same("dynamic shared memory", out.get(), want);
    Dev<uint32_t> poison(128);
    CU(emu_st_shared_poison(poison));
    expect_same("shared memory is garbage (0xff) at block start", poison.get(), std::vector<uint32_t>(128, 0xffffffffu));
    Dev<int> count(std::vector<int>{0});
    Dev<float> sum(V{0.0f});
    CU(emu_st_atomics(count, sum));
    ck_assert_int_eq(count.p()[0], 384);
    ck_assert_float_eq(sum.p()[0], 192.0f);
    Dev<int> exits(std::vector<int>(128, -1));
    CU(emu_st_early_exit(exits));
    for (int t = 0; t < 128; t++)
        ck_assert_int_eq(exits.p()[t], t < 40 ? t : -1);
    /* launch configurations: errors as cudaGetLastError reports them */
    ck_assert_int_eq(emu_st_config(1, 1, 1024, 1, 0), cudaSuccess);
    ck_assert_int_eq(emu_st_config(0, 1, 32, 1, 0), cudaErrorInvalidConfiguration);
    ck_assert_int_eq(emu_st_config(1, 65536, 32, 1, 0), cudaErrorInvalidConfiguration);
    ck_assert_int_eq(emu_st_config(1, 1, 1025, 1, 0), cudaErrorInvalidConfiguration);
    ck_assert_int_eq(emu_st_config(1, 1, 64, 32, 0), cudaErrorInvalidConfiguration);
    ck_assert_int_eq(emu_st_config(1, 1, 32, 1, 48 * 1024 + 1), cudaErrorInvalidValue);
    /* grid caps and block order leave a grid-stride loop's result alone */
    const V y = rnd(r, 1000);
    Dev<float> dy(y);
    for (unsigned cap : {0u, 1u, 3u})
        for (bool rev : {false, true}) {
            emu::set_options({cap, rev});
            std::unique_ptr<Dev<float>> o(nan_buf(1000));
            CU(emu_st_copy(*o, dy, 1000, 7));
            expect_same("grid-stride copy under caps and reversal", o->get(), y);
        }
    emu::set_options(emu::Options());
    printf("  %-44s %-44s ok\n", g_case.c_str(), "dynamic/static shared, atomics, exits, configs");
}
END_TEST

/* Each misuse must abort the process (Check reports SIGABRT as the expected signal),
 * without a core file. */
static void expect_death(const char *what)
{
    const struct rlimit none = {0, 0};
    setrlimit(RLIMIT_CORE, &none);
    printf("  %-44s %-44s (the emulator must stop it)\n", "emulator misuse", what);
    fflush(stdout);
}
START_TEST(test_emu_divergent_barrier)
{
    expect_death("divergent __syncthreads");
    emu_st_divergent_barrier();
}
END_TEST
START_TEST(test_emu_shuffle_after_exit)
{
    expect_death("shuffle naming an exited lane");
    emu_st_shuffle_after_exit();
}
END_TEST
START_TEST(test_emu_ragged_warp)
{
    expect_death("full-mask shuffle in a 16-thread warp");
    emu_st_ragged_warp_shuffle();
}
END_TEST
START_TEST(test_emu_partial_mask)
{
    expect_death("partial shuffle mask (unsupported)");
    emu_st_partial_mask();
}
END_TEST
START_TEST(test_emu_launch_bounds)
{
    expect_death("block larger than __launch_bounds__");
    emu_st_launch_bounds();
}
END_TEST
START_TEST(test_emu_too_much_shared)
{
    expect_death("52 KiB of static shared memory");
    emu_st_too_much_shared();
}
END_TEST
START_TEST(test_emu_deadlock)
{
    expect_death("deadlock (shuffle vs __syncthreads), 2 s");
    emu::Options o;
    o.deadlock_seconds = 2;
    emu::set_options(o);
    emu_st_deadlock();
}
END_TEST
/* A kernel reading one element past its buffer hits the guard page. */
START_TEST(test_emu_overrun)
{
    expect_death("read one element past a buffer (SIGSEGV)");
    Dev<float> x(V(1000, 1.0f)), out(1001);
    emu_st_copy(out, x, 1001, 2);
}
END_TEST

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
        {"kernels", {test_base_elementwise, test_base_reduce, test_base_rows_epilogue, test_base_to_bf16,
                     test_base_probe}},
        {"kernels_nn", {test_nn_memory, test_nn_bias_grad_meanpool, test_nn_layernorm, test_nn_gelu_softmax,
                        test_nn_l2norm, test_nn_unfold, test_nn_pos_add, test_nn_group_temporal}},
        {"kernels_attention", {test_attention_hs32, test_attention_hs64, test_attention_hs128, test_attnpool}},
        {"kernels_loss", {test_loss_bce, test_loss_softmax_ce, test_loss_ln_target}},
        {"kernels_optim", {test_optim_adamw, test_optim_sumsq_clip, test_optim_ema}},
        {"emulator", {test_emu_warp_ops, test_emu_memory}},
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
        tcase_add_test_raise_signal(tc, test_emu_divergent_barrier, SIGABRT);
        tcase_add_test_raise_signal(tc, test_emu_shuffle_after_exit, SIGABRT);
        tcase_add_test_raise_signal(tc, test_emu_ragged_warp, SIGABRT);
        tcase_add_test_raise_signal(tc, test_emu_partial_mask, SIGABRT);
        tcase_add_test_raise_signal(tc, test_emu_launch_bounds, SIGABRT);
        tcase_add_test_raise_signal(tc, test_emu_too_much_shared, SIGABRT);
        tcase_add_test_raise_signal(tc, test_emu_deadlock, SIGABRT);
        tcase_add_test_raise_signal(tc, test_emu_overrun, SIGSEGV);
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
