/*
 * emu_runtime.cpp: what shim.h declares: the thread pool that runs a block's CUDA
 * threads, the checks done when a barrier phase completes, the deadlock watchdog, the
 * registry of shared memory, and the launch loop over the grid.
 */
#include "shim.h"

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <vector>

#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

namespace emu {

namespace {

/* Static plus dynamic shared memory a block may have without an opt-in. */
constexpr size_t kSharedLimit = 48 * 1024;
constexpr size_t kWorkerStack = 512 * 1024;

Options g_options;
std::atomic<uint64_t> g_launches{0}, g_blocks{0}, g_threads{0}, g_block_barriers{0}, g_warp_ops{0};

/* The launch running now (for messages) and its block. */
const LaunchInfo *g_cur = nullptr;
uint3 g_cur_block;
std::atomic<size_t> g_static_shared{0};
std::mutex g_launch_mutex;

long futex(std::atomic<uint32_t> *word, int op, uint32_t val, const timespec *timeout)
{
    /* std::atomic<uint32_t> is a lock-free uint32_t in memory. */
    return syscall(SYS_futex, reinterpret_cast<uint32_t *>(word), op, val, timeout, nullptr, 0);
}

/* ---- shared-memory registry ----------------------------------------------------------- */

struct SharedObj {
    void *p;
    size_t bytes;
};
std::mutex g_shared_mutex;
std::vector<SharedObj> g_shared;

/* ---- the pool ------------------------------------------------------------------------- */

struct Worker {
    std::atomic<uint32_t> go{0};
    int tid = 0;
};

std::vector<Worker *> g_workers;
std::atomic<uint32_t> g_remaining{0};
void (*g_fn)(void *) = nullptr;
void *g_ctx = nullptr;

void thread_body(int tid)
{
    const dim3 bd = g_blockDim;
    t_tid = tid;
    t_threadIdx = uint3{(unsigned)tid % bd.x, ((unsigned)tid / bd.x) % bd.y, (unsigned)tid / (bd.x * bd.y)};
    t_lane = tid % 32;
    t_warp = &g_block.warps[tid / 32];
    t_wops = 0;
    t_bvotes = 0;
    g_wait[tid] = {0, 0, nullptr};

    g_fn(g_ctx);

    /* A returning thread leaves its warp and its block: later barriers do not wait for
     * it (sm_70 and later), and a warp operation that still names it is an error. */
    g_wait[tid].kind = 3;
    uint32_t g;
    if (t_warp->bar.drop_only(t_lane, &g)) {
        check_warp_op(*t_warp);
        t_warp->bar.release(g);
    }
    if (g_block.bar.drop_only(tid, &g)) {
        check_block_barrier(g_block.bar);
        g_block.bar.release(g);
    }
    g_progress.fetch_add(1, std::memory_order_relaxed);
}

void *worker_main(void *arg)
{
    Worker *w = static_cast<Worker *>(arg);
    uint32_t seen = 0;
    for (;;) {
        uint32_t g;
        while ((g = w->go.load(std::memory_order_acquire)) == seen)
            futex(&w->go, FUTEX_WAIT_PRIVATE, seen, nullptr);
        seen = g;
        thread_body(w->tid);
        if (g_remaining.fetch_sub(1, std::memory_order_acq_rel) == 1)
            futex(&g_remaining, FUTEX_WAKE_PRIVATE, 1, nullptr);
    }
    return nullptr;
}

void ensure_workers(int n)
{
    while ((int)g_workers.size() < n) {
        Worker *w = new Worker;
        w->tid = (int)g_workers.size();
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, kWorkerStack);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_t th;
        const int e = pthread_create(&th, &attr, worker_main, w);
        pthread_attr_destroy(&attr);
        if (e != 0)
            fatal("cannot start emulator thread %d: %s", w->tid, strerror(e));
        g_workers.push_back(w);
    }
}

/* Runs CUDA threads 0 .. nt - 1 of the current block and waits for all of them. */
void run_block(int nt)
{
    g_remaining.store((uint32_t)nt, std::memory_order_relaxed);
    for (int t = 0; t < nt; t++) {
        g_workers[t]->go.fetch_add(1, std::memory_order_release);
        futex(&g_workers[t]->go, FUTEX_WAKE_PRIVATE, 1, nullptr);
    }
    uint32_t r;
    while ((r = g_remaining.load(std::memory_order_acquire)) != 0)
        futex(&g_remaining, FUTEX_WAIT_PRIVATE, r, nullptr);
}

const char *kernel_name()
{
    return g_cur ? g_cur->kernel : "?";
}

[[noreturn]] void deadlock()
{
    static std::atomic<int> once{0};
    if (once.exchange(1) != 0)
        for (;;)
            pause(); /* the first reporter aborts the process */
    fprintf(stderr,
            "cuda_emu: deadlock: no thread of block (%u, %u, %u) of %s has moved for %u s. Threads:\n",
            g_cur_block.x, g_cur_block.y, g_cur_block.z, kernel_name(), g_options.deadlock_seconds);
    /* Runs of consecutive threads in the same state, one line each. */
    for (int t = 0; t < g_block.nthreads;) {
        const WaitState w = g_wait[t];
        int end = t + 1;
        while (end < g_block.nthreads && g_wait[end].kind == w.kind && g_wait[end].line == w.line)
            end++;
        static const char *const what[] = {"running", "at __syncthreads", "at a warp operation", "exited"};
        fprintf(stderr, "  threads %4d..%4d (warp %d lane %d .. warp %d lane %d): %s", t, end - 1, t / 32, t % 32,
                (end - 1) / 32, (end - 1) % 32, what[w.kind]);
        if (w.kind == 1 || w.kind == 2)
            fprintf(stderr, " %s:%d", w.file ? w.file : "?", w.line);
        fputc('\n', stderr);
        t = end;
    }
    fatal("deadlock (divergent barriers or warp operations?)");
}

} // namespace

void fatal(const char *fmt, ...)
{
    /* Several threads may find the same fault: the first reports it and aborts. */
    static std::atomic<int> once{0};
    if (once.exchange(1) != 0)
        for (;;)
            pause();
    va_list ap;
    va_start(ap, fmt);
    fputs("cuda_emu: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (g_cur)
        fprintf(stderr, "\n  in %s, block (%u, %u, %u), launched at %s:%d", g_cur->kernel, g_cur_block.x,
                g_cur_block.y, g_cur_block.z, g_cur->file, g_cur->line);
    fputc('\n', stderr);
    fflush(stderr);
    abort();
}

void wake_all(std::atomic<uint32_t> &gen)
{
    futex(&gen, FUTEX_WAKE_PRIVATE, INT_MAX, nullptr);
}

void wait_generation(std::atomic<uint32_t> &gen, uint32_t g)
{
    uint64_t seen = g_progress.load(std::memory_order_relaxed);
    int idle = 0;
    while (gen.load(std::memory_order_acquire) == g) {
        const timespec one_second = {1, 0};
        if (futex(&gen, FUTEX_WAIT_PRIVATE, g, &one_second) == -1 && errno == ETIMEDOUT) {
            const uint64_t p = g_progress.load(std::memory_order_relaxed);
            if (p != seen) {
                seen = p;
                idle = 0;
            } else if (++idle >= (int)g_options.deadlock_seconds) {
                deadlock();
            }
        }
    }
}

void check_block_barrier(const Barrier<kMaxThreads> &b)
{
    g_block_barriers.fetch_add(1, std::memory_order_relaxed);
    int first = -1;
    for (int t = 0; t < b.n; t++) {
        if (b.tag[t] == kExited)
            continue;
        if (first < 0)
            first = t;
        else if (b.tag[t] != b.tag[first])
            fatal("divergent __syncthreads: thread %d waits at %s:%d, thread %d at %s:%d (undefined on a GPU: "
                  "every thread must reach the same barrier)",
                  first, b.file[first], (int)b.tag[first], t, b.file[t], (int)b.tag[t]);
    }
}

void check_warp_op(const Warp &w)
{
    g_warp_ops.fetch_add(1, std::memory_order_relaxed);
    const int warp = (int)(&w - g_block.warps);
    const Barrier<32> &b = w.bar;
    int first = -1;
    for (int l = 0; l < b.n; l++)
        if (b.tag[l] != kExited) {
            first = l;
            break;
        }
    if (first < 0)
        return;
    const int line = (int)(b.tag[first] >> 8);
    const char *file = b.file[first];
    if (w.lanes != 32)
        fatal("%s:%d: full-mask warp operation in warp %d, which has only %d threads (the block size is not a "
              "multiple of 32)",
              file, line, warp, w.lanes);
    for (int l = 0; l < 32; l++) {
        if (b.tag[l] == kExited)
            fatal("%s:%d: full-mask warp operation in warp %d after lane %d exited (undefined on a GPU)", file, line,
                  warp, l);
        if (b.tag[l] != b.tag[first])
            fatal("divergent warp operation in warp %d: lane %d is at %s:%d (op %d), lane %d at %s:%d (op %d)", warp,
                  first, file, line, (int)(b.tag[first] & 0xff), l, b.file[l], (int)(b.tag[l] >> 8),
                  (int)(b.tag[l] & 0xff));
    }
}

void register_shared(void *p, size_t bytes)
{
    std::lock_guard<std::mutex> lock(g_shared_mutex);
    g_shared.push_back({p, bytes});
}

void note_static_shared(size_t bytes)
{
    const size_t total = g_static_shared.fetch_add(bytes) + bytes;
    const size_t dyn = g_cur ? g_cur->smem : 0;
    if (total + dyn > kSharedLimit)
        fatal("%zu bytes of static and %zu of dynamic shared memory exceed the 48 KiB a block gets without an "
              "opt-in",
              total, dyn);
}

void run_kernel(const LaunchInfo &li, void (*fn)(void *), void *ctx)
{
    std::lock_guard<std::mutex> lock(g_launch_mutex);
    dim3 grid = li.grid;
    const dim3 block = li.block;
    const uint64_t nt64 = (uint64_t)block.x * block.y * block.z;
    const bool bad_block = block.x == 0 || block.y == 0 || block.z == 0 || block.x > 1024 || block.y > 1024 ||
                           block.z > 64 || nt64 > 1024;
    const bool bad_grid = grid.x == 0 || grid.y == 0 || grid.z == 0 || grid.x > 0x7fffffffu || grid.y > 65535 ||
                          grid.z > 65535;
    if (bad_block || bad_grid) {
        fprintf(stderr, "cuda_emu: launch of %s at %s:%d with grid (%u, %u, %u), block (%u, %u, %u): %s\n",
                li.kernel, li.file, li.line, grid.x, grid.y, grid.z, block.x, block.y, block.z,
                "cudaErrorInvalidConfiguration");
        t_last_error = cudaErrorInvalidConfiguration;
        return;
    }
    if (li.smem > kSharedLimit) {
        fprintf(stderr, "cuda_emu: launch of %s at %s:%d asks for %zu bytes of dynamic shared memory: %s\n",
                li.kernel, li.file, li.line, li.smem, "cudaErrorInvalidValue");
        t_last_error = cudaErrorInvalidValue;
        return;
    }
    if (g_options.grid_cap > 0) {
        grid.x = grid.x < g_options.grid_cap ? grid.x : g_options.grid_cap;
        grid.y = grid.y < g_options.grid_cap ? grid.y : g_options.grid_cap;
        grid.z = grid.z < g_options.grid_cap ? grid.z : g_options.grid_cap;
    }
    const int nt = (int)nt64;
    ensure_workers(nt);

    g_cur = &li;
    g_launch_id.fetch_add(1);
    g_static_shared.store(0);
    g_gridDim = grid;
    g_blockDim = block;
    std::vector<unsigned char> dyn(li.smem + 16);
    g_block.dyn_smem = li.smem ? dyn.data() + (16 - (uintptr_t)dyn.data() % 16) % 16 : nullptr;
    g_block.dyn_smem_bytes = li.smem;

    const uint64_t total = (uint64_t)grid.x * grid.y * grid.z;
    for (uint64_t k = 0; k < total; k++) {
        const uint64_t b = g_options.reverse_blocks ? total - 1 - k : k;
        g_blockIdx = uint3{(unsigned)(b % grid.x), (unsigned)(b / grid.x % grid.y), (unsigned)(b / grid.x / grid.y)};
        g_cur_block = g_blockIdx;
        /* A fresh block: barriers, warps, and shared memory holding garbage (0xff). */
        g_block.nthreads = nt;
        g_block.bar.reset(nt);
        for (int w = 0; w * 32 < nt; w++) {
            const int lanes = nt - w * 32 < 32 ? nt - w * 32 : 32;
            g_block.warps[w].bar.reset(lanes);
            g_block.warps[w].lanes = lanes;
        }
        std::memset(g_block.vote_seq, 0xff, sizeof g_block.vote_seq);
        {
            std::lock_guard<std::mutex> sl(g_shared_mutex);
            for (const SharedObj &o : g_shared)
                std::memset(o.p, 0xff, o.bytes);
        }
        if (li.smem)
            std::memset(g_block.dyn_smem, 0xff, li.smem);
        g_fn = fn;
        g_ctx = ctx;
        run_block(nt);
        g_blocks.fetch_add(1, std::memory_order_relaxed);
        g_threads.fetch_add((uint64_t)nt, std::memory_order_relaxed);
    }
    g_launches.fetch_add(1, std::memory_order_relaxed);
    g_cur = nullptr;
    g_block.dyn_smem = nullptr;
}

void set_options(const Options &o)
{
    g_options = o;
}

Options options()
{
    return g_options;
}

Stats stats()
{
    return Stats{g_launches.load(), g_blocks.load(), g_threads.load(), g_block_barriers.load(), g_warp_ops.load()};
}

} // namespace emu
