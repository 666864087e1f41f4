/*
 * emu_test.h: what the cuda_emu case sets share (test_cuda_emu.cpp defines it): random
 * data, "device" buffers with guard pages, the NMSE and bit comparisons, the layouts a
 * case runs in, the host twins (vn_nn, reference backend), and each kernel file's list
 * of Check tests for the suite that main() assembles. Private to tests/cuda_emu.
 */
#ifndef VN_CUDA_EMU_TEST_H
#define VN_CUDA_EMU_TEST_H

#include <check.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include <sys/mman.h>
#include <unistd.h>

#include "emu.h"

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

namespace emu_test {

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

V rnd(Rng &r, size_t n, float scale = 1.0f, float offset = 0.0f);
/* A random permutation of [0, n), first k of it. */
VI perm(Rng &r, int n, int k);
V concat(std::initializer_list<const V *> parts);
V as_floats(double d);

/* ---- device buffers ----------------------------------------------------------------------
 * [guard page][canary .. data][guard page]: the data ends where the second guard starts. */

extern const size_t kPage;

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
Dev<float> *nan_buf(size_t n);

/* ---- comparisons ------------------------------------------------------------------------- */

/* sum (got - ref)^2 / sum ref^2 (or the plain sum when ref is all zero). A NaN in got
 * where ref has none, or the reverse, makes it infinite. */
double nmse(const V &got, const V &ref);

/* The label of what is being compared, set by layouts() and the cases. */
extern std::string g_case;

void expect_close(const char *what, const V &got, const V &ref, double tol = kTol);

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

void layouts(const std::string &name, Grid grid, const std::function<V()> &fn);

std::string fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));

/* A host vn_nn: the src/nn ops run their host loops. */
vn_nn host_nn();

/* The reference backend, for the base ops and the GEMM epilogue. */
struct RefBackend {
    vn_be be;
    RefBackend();
    ~RefBackend();
};

/* ---- the case sets, one per kernel file, in the order of the suite ----------------------- */

std::vector<const TTest *> tests_kernels();           /* test_kernels.cpp */
std::vector<const TTest *> tests_kernels_nn();        /* test_kernels_nn.cpp */
std::vector<const TTest *> tests_kernels_attention(); /* test_kernels_attention.cpp */
std::vector<const TTest *> tests_kernels_loss();      /* test_kernels_train.cpp */
std::vector<const TTest *> tests_kernels_optim();     /* test_kernels_train.cpp */
std::vector<const TTest *> tests_emulator();          /* test_emulator.cpp */

/* The misuses the emulator must stop, each with the signal that ends its process. */
struct SignalTest {
    const TTest *test;
    int signal;
};
std::vector<SignalTest> tests_emulator_misuse(); /* test_emulator.cpp */

} // namespace emu_test

#endif
