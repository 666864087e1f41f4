/*
 * shim.h: the device side of CUDA, on the host, for the kernel files of cuda/.
 *
 * transform.py turns a .cu file into a C++ translation unit that includes this first:
 * launches become emu::launch calls, __shared__ declarations become emu::Shared
 * objects, and __launch_bounds__ becomes a check at the top of the kernel. The rest of
 * the kernel source compiles unchanged, as host C++.
 *
 * How a launch runs (emu_runtime.cpp): the blocks of the grid run one after another
 * (first to last, or last to first, see emu.h). Each CUDA thread of a block is a real OS
 * thread (a persistent pool), so the threads of a block run concurrently and every
 * synchronisation is a real one:
 *  - __syncthreads() is a barrier over the block's live threads. A thread that returns
 *    leaves it (as on sm_70 and later, where exited threads no longer count).
 *  - The 32 lanes of a warp (linear thread index / 32) exchange values through a
 *    barrier of the warp: __shfl*_sync, __ballot_sync, __any/__all_sync, __syncwarp.
 *    Lanes are otherwise independent, as with Volta's independent thread scheduling;
 *    no kernel gets implicit warp lockstep (warp-synchronous code without __syncwarp is
 *    a race here, as it is on a GPU).
 *  - __shared__ variables are per block: one storage for the block that is running,
 *    filled with 0xff bytes (NaN for floats) before every block, so a read of shared
 *    memory that the block did not write gives NaN rather than a previous block's data.
 *    Dynamic shared memory (extern __shared__) likewise.
 *
 * Checked, with a message and abort() (a failed test) when violated:
 *  - every live thread of a block reaches the same __syncthreads (same source line);
 *  - every lane of a warp reaches the same warp operation (same line, same kind), the
 *    warp is whole (32 threads) and no lane of the mask has exited; only the full mask
 *    0xffffffff is supported;
 *  - launch configuration: block <= 1024 threads (x, y <= 1024, z <= 64), grid
 *    x < 2^31, y and z <= 65535, nothing zero (these give cudaErrorInvalidConfiguration
 *    from cudaGetLastError, as on a GPU, and the kernel does not run); static shared
 *    memory (the __shared__ variables a launch touches) plus dynamic shared memory
 *    <= 48 KiB; the block no larger than the kernel's __launch_bounds__;
 *  - deadlock: threads that wait at barriers 30 s (emu::Options) without any progress
 *    of the block are reported (where each thread waits) and the process aborts.
 *
 * Not emulated faithfully:
 *  - Memory model: threads see each other's writes at the barriers (which are
 *    acquire/release); racy code behaves as racy host code does, with no GPU timing.
 *    Blocks never overlap, so races between blocks never show except through
 *    emu::Options::reverse_blocks.
 *  - Floating point: host SSE arithmetic, IEEE round-to-nearest for + - * / and sqrt
 *    as on the GPU, but nvcc contracts a * b + c into an FMA where the emulator rounds
 *    twice (the generated units build with -ffp-contract=off, so the host never fuses;
 *    the __f*_rn intrinsics are exact either way). So results differ from a GPU's in
 *    the last bits wherever nvcc fuses, and a kernel that promises the host's bits
 *    while leaving a plain a * b + c to nvcc passes here but not on a GPU (the ops that
 *    promise bits use the _rn intrinsics for that reason). expf, logf, log1pf ... are
 *    glibc's (within 1 ulp) where CUDA's are within 2 ulp (expf) or so; the __expf
 *    family of fast intrinsics is the accurate function here. Denormals are kept (no
 *    flush-to-zero, nvcc's default without --use_fast_math too).
 *  - Memory errors: the emulator has no address checking of its own; out-of-bounds
 *    accesses show only where the test's buffers are guarded (test_cuda_emu.cpp ends
 *    each buffer at an inaccessible page). The 48 KiB check counts the __shared__
 *    variables a launch reached, not every one its code declares.
 *  - Timing, occupancy, registers, bank conflicts, coalescing: nothing of performance.
 *  - Streams: every launch runs to completion before emu::launch returns.
 *  - Partial warp masks, cooperative groups, clusters, inline PTX, textures: absent;
 *    transform.py rejects what it can see of them.
 */
#ifndef VN_CUDA_EMU_SHIM_H
#define VN_CUDA_EMU_SHIM_H

#include <cuda_runtime_api.h>

#include <atomic>
#include <climits>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <math.h>
#include <type_traits>

#include "emu.h"

/* host_defines.h gives these host meanings (attributes nvcc understands); here every
 * function is a host function and the qualifiers go. */
#undef __global__
#undef __device__
#undef __host__
#undef __forceinline__
#undef __noinline__
#undef __launch_bounds__
#undef __shared__
#undef __constant__
#undef __managed__
#undef __grid_constant__
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __noinline__ __attribute__((noinline))
#define __launch_bounds__(...)
#define __constant__ static
#define __managed__
#define __grid_constant__
/* transform.py rewrites every __shared__ declaration; one it missed fails to compile. */
#define __shared__ __shared___not_rewritten_by_transform_py
/* Device code paths (#ifdef __CUDA_ARCH__) are the ones to run; sm_80 is the oldest
 * architecture the build targets. */
#ifndef __CUDA_ARCH__
#define __CUDA_ARCH__ 800
#endif

namespace emu {

[[noreturn]] void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- synchronisation ------------------------------------------------------------------ */

constexpr uint64_t kExited = ~0ull;
constexpr int kMaxThreads = 1024;

/* Waits until gen moves on from g (futex), reporting a deadlock when nothing in the
 * block moves for emu::Options::deadlock_seconds. */
void wait_generation(std::atomic<uint32_t> &gen, uint32_t g);
void wake_all(std::atomic<uint32_t> &gen);
inline std::atomic<uint64_t> g_progress{0};

/* What each thread of the running block is doing, for the deadlock report. */
struct WaitState {
    int kind;    /* 0 running, 1 __syncthreads, 2 warp op, 3 exited */
    int line;
    const char *file;
};
inline WaitState g_wait[kMaxThreads];

/*
 * A barrier over a changing set of participants: st packs (expected << 32 | arrived).
 * A participant arrives with a tag (where it is); leaving (a returning thread) lowers
 * expected. The thread that completes a phase checks the tags, then moves gen on and
 * wakes the others.
 */
template <int N>
struct Barrier {
    std::atomic<uint64_t> st{0};
    std::atomic<uint32_t> gen{0};
    int n = 0;
    uint64_t tag[N];
    const char *file[N];

    void reset(int count)
    {
        n = count;
        for (int i = 0; i < count; i++) {
            tag[i] = 0;
            file[i] = nullptr;
        }
        st.store((uint64_t)count << 32, std::memory_order_relaxed);
    }

    /* Returns whether this call completed the phase (the caller then runs complete). */
    bool arrive_only(int idx, uint64_t t, const char *f, uint32_t *g)
    {
        tag[idx] = t;
        file[idx] = f;
        *g = gen.load(std::memory_order_acquire);
        uint64_t s = st.load(std::memory_order_relaxed), ns;
        bool last;
        do {
            const uint32_t expected = (uint32_t)(s >> 32), arrived = (uint32_t)s + 1;
            last = arrived == expected;
            ns = last ? (uint64_t)expected << 32 : (s & ~0xffffffffull) | arrived;
        } while (!st.compare_exchange_weak(s, ns, std::memory_order_acq_rel, std::memory_order_relaxed));
        return last;
    }

    bool drop_only(int idx, uint32_t *g)
    {
        tag[idx] = kExited;
        *g = gen.load(std::memory_order_acquire);
        uint64_t s = st.load(std::memory_order_relaxed), ns;
        bool last;
        do {
            const uint32_t expected = (uint32_t)(s >> 32) - 1, arrived = (uint32_t)s;
            last = arrived > 0 && arrived == expected;
            ns = (uint64_t)expected << 32 | (last ? 0u : arrived);
        } while (!st.compare_exchange_weak(s, ns, std::memory_order_acq_rel, std::memory_order_relaxed));
        return last;
    }

    void release(uint32_t g)
    {
        gen.store(g + 1, std::memory_order_release);
        g_progress.fetch_add(1, std::memory_order_relaxed);
        wake_all(gen);
    }
};

/* A warp: its barrier and two exchange buffers (used alternately, so a lane that is
 * through one exchange can write the next while slower lanes still read this one). */
struct Warp {
    Barrier<32> bar;
    uint64_t slot[2][32];
    int lanes; /* threads of the block in this warp (32 unless the block is ragged) */
};

/* The running block. Blocks run one at a time, so there is one. */
struct Block {
    Barrier<kMaxThreads> bar;
    Warp warps[kMaxThreads / 32];
    int nthreads;
    /* __syncthreads_count and friends, in two buffers used alternately: each thread's
     * predicate and the number of its vote (so a thread that has exited, whose entry
     * is older, does not count). */
    unsigned char vote[2][kMaxThreads];
    uint32_t vote_seq[2][kMaxThreads];
    unsigned char *dyn_smem;
    size_t dyn_smem_bytes;
};
inline Block g_block;

/* The calling CUDA thread. */
inline thread_local uint3 t_threadIdx;
inline thread_local int t_tid;
inline thread_local int t_lane;
inline thread_local unsigned t_wops;    /* warp operations so far: picks the exchange buffer */
inline thread_local unsigned t_bvotes; /* block votes so far: picks the vote buffer */
inline thread_local Warp *t_warp;

/* The launch's indices: the same for every thread of the block. */
inline uint3 g_blockIdx;
inline dim3 g_blockDim, g_gridDim;

void check_block_barrier(const Barrier<kMaxThreads> &b);
void check_warp_op(const Warp &w);

inline void syncthreads(const char *file, int line)
{
    Barrier<kMaxThreads> &b = g_block.bar;
    uint32_t g;
    g_wait[t_tid] = {1, line, file};
    if (b.arrive_only(t_tid, (uint64_t)line, file, &g)) {
        check_block_barrier(b);
        b.release(g);
    } else {
        wait_generation(b.gen, g);
    }
    g_wait[t_tid].kind = 0;
}

enum WarpOp { kSyncwarp = 1, kShfl, kShflUp, kShflDown, kShflXor, kBallot, kAny, kAll };

inline void check_mask(unsigned mask, const char *file, int line)
{
    if (mask != 0xffffffffu)
        fatal("%s:%d: warp operation with mask 0x%08x: the emulator supports the full mask only", file, line, mask);
}

/* Publishes v in this lane's slot, waits for the warp, and returns the exchange
 * buffer everyone wrote. */
inline const uint64_t *warp_exchange(int kind, unsigned mask, uint64_t v, const char *file, int line)
{
    check_mask(mask, file, line);
    Warp &w = *t_warp;
    const int buf = (int)(t_wops++ & 1u);
    w.slot[buf][t_lane] = v;
    uint32_t g;
    g_wait[t_tid] = {2, line, file};
    const uint64_t tag = (uint64_t)line << 8 | (uint64_t)kind;
    if (w.bar.arrive_only(t_lane, tag, file, &g)) {
        check_warp_op(w);
        w.bar.release(g);
    } else {
        wait_generation(w.bar.gen, g);
    }
    g_wait[t_tid].kind = 0;
    return w.slot[buf];
}

template <class T>
inline uint64_t to_bits(T v)
{
    static_assert(sizeof(T) <= 8 && std::is_trivially_copyable<T>::value, "shuffle of a type wider than 8 bytes");
    uint64_t b = 0;
    std::memcpy(&b, &v, sizeof v);
    return b;
}

template <class T>
inline T from_bits(uint64_t b)
{
    T v;
    std::memcpy(&v, &b, sizeof v);
    return v;
}

inline void check_width(int width, const char *file, int line)
{
    if (width < 1 || width > 32 || (width & (width - 1)))
        fatal("%s:%d: shuffle width %d is not a power of two in [1, 32]", file, line, width);
}

/* The semantics of the CUDA C++ Programming Guide, "Warp Shuffle Functions": lanes form
 * groups of width; an index past the group gives the lane its own value (up, down,
 * xor), a source lane is taken modulo width (shfl). */
template <class T>
inline T shfl(const char *file, int line, unsigned mask, T v, int src, int width = 32)
{
    check_width(width, file, line);
    const uint64_t *s = warp_exchange(kShfl, mask, to_bits(v), file, line);
    const int from = (t_lane & ~(width - 1)) + (src & (width - 1));
    return from_bits<T>(s[from]);
}

template <class T>
inline T shfl_up(const char *file, int line, unsigned mask, T v, unsigned delta, int width = 32)
{
    check_width(width, file, line);
    const uint64_t *s = warp_exchange(kShflUp, mask, to_bits(v), file, line);
    const int from = t_lane - (int)delta;
    return from < (t_lane & ~(width - 1)) ? v : from_bits<T>(s[from]);
}

template <class T>
inline T shfl_down(const char *file, int line, unsigned mask, T v, unsigned delta, int width = 32)
{
    check_width(width, file, line);
    const uint64_t *s = warp_exchange(kShflDown, mask, to_bits(v), file, line);
    const int from = t_lane + (int)delta;
    return from >= (t_lane & ~(width - 1)) + width ? v : from_bits<T>(s[from]);
}

template <class T>
inline T shfl_xor(const char *file, int line, unsigned mask, T v, int lane_mask, int width = 32)
{
    check_width(width, file, line);
    const uint64_t *s = warp_exchange(kShflXor, mask, to_bits(v), file, line);
    const int from = t_lane ^ lane_mask;
    return from >= (t_lane & ~(width - 1)) + width ? v : from_bits<T>(s[from & 31]);
}

inline unsigned vote(int kind, const char *file, int line, unsigned mask, int pred)
{
    const uint64_t *s = warp_exchange(kind, mask, pred ? 1u : 0u, file, line);
    unsigned r = 0;
    for (int l = 0; l < 32; l++)
        r |= (unsigned)(s[l] & 1u) << l;
    return r;
}

/* __syncwarp(mask = full): a function object, for the default argument. */
struct SyncwarpAt {
    const char *file;
    int line;
    void operator()(unsigned mask = 0xffffffffu) const { (void)warp_exchange(kSyncwarp, mask, 0, file, line); }
};

/* __syncthreads_count / _and / _or: a barrier that also counts the predicate (op 0, 1, 2). */
inline int syncthreads_vote(const char *file, int line, int pred, int op)
{
    const uint32_t seq = t_bvotes++;
    const int buf = (int)(seq & 1u);
    g_block.vote[buf][t_tid] = pred ? 1 : 0;
    g_block.vote_seq[buf][t_tid] = seq;
    syncthreads(file, line);
    int count = 0, live = 0;
    for (int t = 0; t < g_block.nthreads; t++)
        if (g_block.vote_seq[buf][t] == seq) {
            live++;
            count += g_block.vote[buf][t];
        }
    return op == 0 ? count : op == 1 ? count == live : count > 0;
}

/* ---- shared memory -------------------------------------------------------------------- */

/* Registers storage to be refilled with 0xff before every block. */
void register_shared(void *p, size_t bytes);
/* Counts bytes of static shared memory towards the running launch (48 KiB at most). */
void note_static_shared(size_t bytes);
inline std::atomic<uint64_t> g_launch_id{1};

/* One __shared__ variable (T may be an array type): a function-local static of the
 * kernel, so every thread of the block sees the same object. */
template <class T>
struct Shared {
    alignas(16) T v;
    std::atomic<uint64_t> seen{0};
    Shared()
    {
        std::memset(static_cast<void *>(&v), 0xff, sizeof v);
        register_shared(&v, sizeof v);
    }
    T &use()
    {
        const uint64_t id = g_launch_id.load(std::memory_order_relaxed);
        if (seen.load(std::memory_order_relaxed) != id && seen.exchange(id) != id)
            note_static_shared(sizeof v);
        return v;
    }
};

template <class T>
inline T *dynamic_shared()
{
    return reinterpret_cast<T *>(g_block.dyn_smem);
}

/* ---- launches ------------------------------------------------------------------------- */

struct LaunchInfo {
    const char *kernel, *file;
    int line;
    dim3 grid, block;
    size_t smem;
};

/* Runs every block of the launch; fn(ctx) is the body of one CUDA thread. */
void run_kernel(const LaunchInfo &li, void (*fn)(void *), void *ctx);

template <class F>
struct Launch {
    F f;
    LaunchInfo li;
    template <class... A>
    void operator()(A... a) const
    {
        /* Each thread calls the kernel with its own copy of the arguments, as each
         * CUDA thread reads the kernel's parameters. */
        auto body = [&]() { f(a...); };
        using Body = decltype(body);
        run_kernel(li, [](void *p) { (*static_cast<Body *>(p))(); }, &body);
    }
};

template <class F>
inline Launch<F> launch(F f, dim3 grid, dim3 block, size_t smem, cudaStream_t stream, const char *kernel,
                        const char *file, int line)
{
    (void)stream; /* launches are synchronous */
    return Launch<F>{f, LaunchInfo{kernel, file, line, grid, block, smem}};
}

inline void check_launch_bounds(unsigned max_threads, const char *file, int line)
{
    const unsigned n = g_blockDim.x * g_blockDim.y * g_blockDim.z;
    if (n > max_threads)
        fatal("%s:%d: a block of %u threads launched into a kernel with __launch_bounds__(%u) (on a GPU: "
              "cudaErrorLaunchOutOfResources or worse)",
              file, line, n, max_threads);
}

/* ---- runtime API ---------------------------------------------------------------------- */

inline thread_local cudaError_t t_last_error = cudaSuccess;

inline cudaError_t get_last_error()
{
    const cudaError_t e = t_last_error;
    t_last_error = cudaSuccess;
    return e;
}

inline cudaError_t peek_at_last_error()
{
    return t_last_error;
}

template <class T>
inline cudaError_t func_get_attributes(cudaFuncAttributes *attr, T *fn)
{
    (void)fn;
    std::memset(attr, 0, sizeof *attr);
    attr->maxThreadsPerBlock = 1024;
    attr->ptxVersion = attr->binaryVersion = __CUDA_ARCH__ / 10;
    return cudaSuccess;
}

} // namespace emu

/* ---- the CUDA names ------------------------------------------------------------------- */

#define threadIdx (static_cast<const uint3 &>(emu::t_threadIdx))
#define blockIdx (static_cast<const uint3 &>(emu::g_blockIdx))
#define blockDim (static_cast<const dim3 &>(emu::g_blockDim))
#define gridDim (static_cast<const dim3 &>(emu::g_gridDim))
#define warpSize 32

#define cudaGetLastError emu::get_last_error
#define cudaPeekAtLastError emu::peek_at_last_error
#define cudaFuncGetAttributes emu::func_get_attributes

#define __syncthreads() emu::syncthreads(__FILE__, __LINE__)
#define __syncwarp(...) emu::SyncwarpAt{__FILE__, __LINE__}(__VA_ARGS__)
#define __syncthreads_count(pred) emu::syncthreads_vote(__FILE__, __LINE__, (pred), 0)
#define __syncthreads_and(pred) emu::syncthreads_vote(__FILE__, __LINE__, (pred), 1)
#define __syncthreads_or(pred) emu::syncthreads_vote(__FILE__, __LINE__, (pred), 2)
#define __shfl_sync(...) emu::shfl(__FILE__, __LINE__, __VA_ARGS__)
#define __shfl_up_sync(...) emu::shfl_up(__FILE__, __LINE__, __VA_ARGS__)
#define __shfl_down_sync(...) emu::shfl_down(__FILE__, __LINE__, __VA_ARGS__)
#define __shfl_xor_sync(...) emu::shfl_xor(__FILE__, __LINE__, __VA_ARGS__)
#define __ballot_sync(mask, pred) emu::vote(emu::kBallot, __FILE__, __LINE__, (mask), (pred))
#define __any_sync(mask, pred) (emu::vote(emu::kAny, __FILE__, __LINE__, (mask), (pred)) != 0u)
#define __all_sync(mask, pred) (emu::vote(emu::kAll, __FILE__, __LINE__, (mask), (pred)) == 0xffffffffu)
#define EMU_LAUNCH_BOUNDS(max_threads, ...) emu::check_launch_bounds((unsigned)(max_threads), __FILE__, __LINE__);

/* Every lane of a whole warp is active between warp operations (the emulator requires
 * full masks anyway). */
static inline unsigned __activemask()
{
    return 0xffffffffu;
}

static inline void __threadfence()
{
    std::atomic_thread_fence(std::memory_order_seq_cst);
}
static inline void __threadfence_block()
{
    std::atomic_thread_fence(std::memory_order_seq_cst);
}

template <class T>
static inline T __ldg(const T *p)
{
    return *p;
}

/* ---- arithmetic intrinsics: IEEE round-to-nearest, never contracted -------------------- */

static inline float __fadd_rn(float a, float b) { return a + b; }
static inline float __fsub_rn(float a, float b) { return a - b; }
static inline float __fmul_rn(float a, float b) { return a * b; }
static inline float __fdiv_rn(float a, float b) { return a / b; }
static inline float __frcp_rn(float a) { return 1.0f / a; }
static inline float __fsqrt_rn(float a) { return sqrtf(a); }
static inline float __fmaf_rn(float a, float b, float c) { return fmaf(a, b, c); }
static inline double __dadd_rn(double a, double b) { return a + b; }
static inline double __dsub_rn(double a, double b) { return a - b; }
static inline double __dmul_rn(double a, double b) { return a * b; }
static inline double __ddiv_rn(double a, double b) { return a / b; }
static inline double __dsqrt_rn(double a) { return sqrt(a); }
static inline double __fma_rn(double a, double b, double c) { return fma(a, b, c); }
/* The fast approximations are the accurate functions here (see the header comment):
 * glibc's <math.h> itself declares __expf, __logf, __log2f, __powf, __sinf, __cosf and
 * __tanf, its internal names of expf and the others. */
static inline float __fdividef(float a, float b) { return a / b; }
static inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
static inline double rsqrt(double x) { return 1.0 / sqrt(x); }
static inline float __saturatef(float x) { return x != x ? 0.0f : x < 0.0f ? 0.0f : x > 1.0f ? 1.0f : x; }

static inline int __float_as_int(float x) { return emu::from_bits<int>(emu::to_bits(x)); }
static inline unsigned __float_as_uint(float x) { return emu::from_bits<unsigned>(emu::to_bits(x)); }
static inline float __int_as_float(int x) { return emu::from_bits<float>(emu::to_bits(x)); }
static inline float __uint_as_float(unsigned x) { return emu::from_bits<float>(emu::to_bits(x)); }
static inline long long __double_as_longlong(double x) { return emu::from_bits<long long>(emu::to_bits(x)); }
static inline double __longlong_as_double(long long x) { return emu::from_bits<double>(emu::to_bits(x)); }

static inline int __popc(unsigned x) { return __builtin_popcount(x); }
static inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
static inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz((unsigned)x); }
static inline int __clzll(long long x) { return x == 0 ? 64 : __builtin_clzll((unsigned long long)x); }
static inline int __ffs(int x) { return __builtin_ffs(x); }
static inline int __ffsll(long long x) { return __builtin_ffsll(x); }
static inline unsigned __brev(unsigned x)
{
    x = ((x >> 1) & 0x55555555u) | ((x & 0x55555555u) << 1);
    x = ((x >> 2) & 0x33333333u) | ((x & 0x33333333u) << 2);
    x = ((x >> 4) & 0x0f0f0f0fu) | ((x & 0x0f0f0f0fu) << 4);
    x = ((x >> 8) & 0x00ff00ffu) | ((x & 0x00ff00ffu) << 8);
    return (x >> 16) | (x << 16);
}

/* CUDA's device-side min and max overloads. */
static inline int min(int a, int b) { return a < b ? a : b; }
static inline int max(int a, int b) { return a > b ? a : b; }
static inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
static inline unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }
static inline long long min(long long a, long long b) { return a < b ? a : b; }
static inline long long max(long long a, long long b) { return a > b ? a : b; }
static inline long min(long a, long b) { return a < b ? a : b; }
static inline long max(long a, long b) { return a > b ? a : b; }
static inline unsigned long long min(unsigned long long a, unsigned long long b) { return a < b ? a : b; }
static inline unsigned long long max(unsigned long long a, unsigned long long b) { return a > b ? a : b; }
static inline float min(float a, float b) { return fminf(a, b); }
static inline float max(float a, float b) { return fmaxf(a, b); }
static inline double min(double a, double b) { return fmin(a, b); }
static inline double max(double a, double b) { return fmax(a, b); }

/* ---- atomics (device scope; every thread of the emulator is in one "device") ------------ */

namespace emu {
/* The value argument converts to the pointee type, as with CUDA's overloads. */
template <class T>
struct same {
    typedef T type;
};
template <class T>
using same_t = typename same<T>::type;
} // namespace emu

template <class T>
static inline T atomicAdd(T *p, emu::same_t<T> v)
{
    if constexpr (std::is_floating_point<T>::value) {
        T old, sum;
        __atomic_load(p, &old, __ATOMIC_RELAXED);
        do
            sum = old + v;
        while (!__atomic_compare_exchange(p, &old, &sum, true, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED));
        return old;
    } else {
        return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST);
    }
}
template <class T>
static inline T atomicSub(T *p, emu::same_t<T> v)
{
    return __atomic_fetch_sub(p, v, __ATOMIC_SEQ_CST);
}
template <class T>
static inline T atomicExch(T *p, emu::same_t<T> v)
{
    T old;
    __atomic_exchange(p, &v, &old, __ATOMIC_SEQ_CST);
    return old;
}
template <class T>
static inline T atomicCAS(T *p, emu::same_t<T> compare, emu::same_t<T> v)
{
    __atomic_compare_exchange(p, &compare, &v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    return compare;
}
template <class T>
static inline T atomicMax(T *p, emu::same_t<T> v)
{
    T old = __atomic_load_n(p, __ATOMIC_RELAXED);
    while (old < v && !__atomic_compare_exchange_n(p, &old, v, true, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) {
    }
    return old;
}
template <class T>
static inline T atomicMin(T *p, emu::same_t<T> v)
{
    T old = __atomic_load_n(p, __ATOMIC_RELAXED);
    while (v < old && !__atomic_compare_exchange_n(p, &old, v, true, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) {
    }
    return old;
}

/* ---- bf16 (cuda_bf16.h) ------------------------------------------------------------------
 * Under emu:: names, mapped by macros: a test unit may include NVIDIA's own cuda_bf16.h
 * (as the reference) without two inline definitions of one function in the program. */

namespace emu {

struct bfloat16 {
    unsigned short __x;
};

/* cvt.rn.bf16.f32: round to nearest, ties to even; NaN becomes the canonical NaN 0x7fff
 * (as cuda_bf16.hpp's host path and the hardware conversion do); overflow rounds to inf. */
inline bfloat16 float2bfloat16_rn(float f)
{
    uint32_t u;
    std::memcpy(&u, &f, sizeof u);
    bfloat16 r;
    if ((u & 0x7fffffffu) > 0x7f800000u) {
        r.__x = 0x7fffu;
        return r;
    }
    u += 0x7fffu + ((u >> 16) & 1u);
    r.__x = (unsigned short)(u >> 16);
    return r;
}

inline float bfloat162float(bfloat16 b)
{
    const uint32_t u = (uint32_t)b.__x << 16;
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
}

} // namespace emu

#define __nv_bfloat16 emu::bfloat16
#define __float2bfloat16_rn emu::float2bfloat16_rn
#define __float2bfloat16 emu::float2bfloat16_rn
#define __bfloat162float emu::bfloat162float

#endif
