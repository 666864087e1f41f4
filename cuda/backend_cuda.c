/*
 * The cuda backend: device discovery, the per-context state (one compute stream, a
 * caching allocator, cuBLAS and cuBLASLt handles), memory transfers and the base ops.
 * GEMMs are in gemm_lt.c, the allocator and the upload ring in arena.c, the kernels in
 * kernels.cu.
 *
 * Plain C11 against the CUDA runtime and cuBLAS C APIs: only the .cu files go through
 * nvcc. supports() reads the table, so an op without a pointer is refused with
 * VN_ERR_UNSUPPORTED rather than silently run somewhere else.
 */
#include "backend/backend.h"
#include "core/error.h"
#include "cuda_backend.h"
#include "cuda_kernels.h"
#include "cuda_state.h"

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if CUDART_VERSION < 12000
#  error "the cuda backend needs CUDA 12.0 or newer (it uses the 64-bit cuBLAS API)"
#endif

/* ---- errors ---------------------------------------------------------------------- */

vn_status vn_cuda_fail(cudaError_t e, const char *what)
{
    /* Non-sticky errors stay in the runtime's per-thread "last error" until read; clear
     * it so that the next kernel launch check does not report this failure again. */
    (void)cudaGetLastError();
    vn_status s = e == cudaErrorMemoryAllocation ? VN_ERR_OUT_OF_MEMORY : VN_ERR_BACKEND;
    return vn_error(s, "cuda backend: %s failed: %s (%s)", what, cudaGetErrorName(e), cudaGetErrorString(e));
}

vn_status vn_cuda_blas_fail(cublasStatus_t e, const char *what)
{
    vn_status s = e == CUBLAS_STATUS_ALLOC_FAILED ? VN_ERR_OUT_OF_MEMORY : VN_ERR_BACKEND;
    return vn_error(s, "cuda backend: %s failed: %s (%s)", what, cublasGetStatusName(e), cublasGetStatusString(e));
}

/* ---- device discovery ------------------------------------------------------------ */

/*
 * The device count is asked once per process. The CUDA runtime latches a failed
 * driver initialisation for the life of the process, and devices do not come and go
 * under a running program, so asking again could not change the answer; caching it
 * keeps available() cheap, as AUTO context creation calls it every time, and lets the
 * reason be a static string that the public API can hand out.
 */
static struct {
    cudaError_t err;
    int count;
    char reason[320];
} probe;
static pthread_once_t probe_once = PTHREAD_ONCE_INIT;

static void run_probe(void)
{
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    (void)cudaGetLastError();
    probe.err = e;
    probe.count = e == cudaSuccess && n > 0 ? n : 0;
    if (e == cudaErrorInsufficientDriver)
        snprintf(probe.reason, sizeof probe.reason,
                 "no CUDA driver found, or it is older than the CUDA %s runtime this build uses (%s: %s)",
                 vn_cuda_runtime_version(), cudaGetErrorName(e), cudaGetErrorString(e));
    else if (e == cudaErrorNoDevice)
        snprintf(probe.reason, sizeof probe.reason, "no CUDA device present (%s: %s)", cudaGetErrorName(e),
                 cudaGetErrorString(e));
    else if (e != cudaSuccess)
        snprintf(probe.reason, sizeof probe.reason, "the CUDA driver could not be initialised (%s: %s)",
                 cudaGetErrorName(e), cudaGetErrorString(e));
    else if (n <= 0)
        snprintf(probe.reason, sizeof probe.reason, "no CUDA device present (the driver reports 0 devices)");
    else
        probe.reason[0] = '\0';
}

static int cuda_available(const char **reason)
{
    pthread_once(&probe_once, run_probe);
    if (reason)
        *reason = probe.reason;
    return probe.count > 0;
}

static vn_status cuda_device_count(int *out)
{
    /* Without a driver or a device the backend can use no device: that is a count of
     * 0, not an error (context.h); available() carries the reason. */
    pthread_once(&probe_once, run_probe);
    *out = probe.count;
    return VN_OK;
}

static vn_status no_such_device(const char *fn, int index)
{
    if (probe.count == 0)
        return vn_error(VN_ERR_NOT_FOUND, "%s: CUDA device %d does not exist: %s", fn, index, probe.reason);
    return vn_error(VN_ERR_NOT_FOUND, "%s: CUDA device %d does not exist; this machine has %d (indices 0..%d)", fn,
                    index, probe.count, probe.count - 1);
}

static vn_status cuda_device_info(int index, vn_device_info *info)
{
    pthread_once(&probe_once, run_probe);
    if (index < 0 || index >= probe.count)
        return no_such_device("cuda device_info", index);
    struct cudaDeviceProp prop;
    cudaError_t e = cudaGetDeviceProperties(&prop, index);
    if (e != cudaSuccess)
        return vn_cuda_fail(e, "cudaGetDeviceProperties");
    info->index = index;
    /* Device names fit in 128 bytes in practice, but prop.name has room for 256. */
    size_t len = strnlen(prop.name, sizeof prop.name);
    if (len >= sizeof info->name)
        len = sizeof info->name - 1;
    memcpy(info->name, prop.name, len);
    info->name[len] = '\0';
    info->memory_bytes = (uint64_t)prop.totalGlobalMem;
    info->compute_units = prop.multiProcessorCount;
    info->capability_major = prop.major;
    info->capability_minor = prop.minor;
    return VN_OK;
}

/* ---- per-context state ----------------------------------------------------------- */

/*
 * The runtime's current device is per host thread, and a context may be used from
 * threads other than the one that created it. Every entry point makes the context's
 * device current first, so that allocations and launches land where the stream and
 * the handles live.
 */
vn_status vn_cuda_use_device(const vn_backend_state *st)
{
    cudaError_t e = cudaSetDevice(st->device);
    return e == cudaSuccess ? VN_OK : vn_cuda_fail(e, "cudaSetDevice");
}

static void cuda_fini(vn_backend_state *st)
{
    if (!st)
        return;
    if (cudaSetDevice(st->device) == cudaSuccess) {
        /* Work still queued may read or write buffers the caller frees once the
         * context is gone, and the arena is about to release every buffer. */
        cudaError_t e = st->stream ? cudaStreamSynchronize(st->stream) : cudaSuccess;
        if (e == cudaSuccess && st->copy_stream)
            e = cudaStreamSynchronize(st->copy_stream);
        if (e != cudaSuccess)
            vn_log(VN_LOG_WARN, "cuda backend: work pending at context destruction failed: %s (%s)",
                   cudaGetErrorName(e), cudaGetErrorString(e));
    }
    vn_cuda_comm_fini(st);
    vn_cuda_staging_destroy(st);
    vn_cuda_gemm_fini(st);
    vn_cuda_arena_destroy(st);
    if (st->blas)
        cublasDestroy(st->blas);
    if (st->stream)
        cudaStreamDestroy(st->stream);
    (void)cudaGetLastError();
    pthread_mutex_destroy(&st->op_lock);
    pthread_mutex_destroy(&st->stage_lock);
    /* No cudaDeviceReset: the primary context is shared with every other user of CUDA
     * in the process, including other vnative contexts. */
    free(st);
}

/* Whether the kernels compiled into this build can run on the current device. */
static vn_status check_kernel_image(int device)
{
    cudaError_t e = vn_cuda_kernels_probe();
    if (e == cudaSuccess)
        return VN_OK;
    (void)cudaGetLastError();
    struct cudaDeviceProp prop;
    /* Older runtimes reported a missing image as an invalid device function. */
    int no_image = e == cudaErrorNoKernelImageForDevice || e == cudaErrorInvalidDeviceFunction;
    if (no_image && cudaGetDeviceProperties(&prop, device) == cudaSuccess)
        return vn_error(VN_ERR_UNSUPPORTED,
                        "cuda backend: device %d (%s, compute capability %d.%d) cannot run this build's kernels, "
                        "which were compiled for %s; reconfigure with -Dgpu_arch=sm_%d%d",
                        device, prop.name, prop.major, prop.minor, vn_cuda_archs(), prop.major, prop.minor);
    return vn_cuda_fail(e, "loading the cuda backend's kernels");
}

static vn_status init_blas(vn_backend_state *st)
{
    cublasStatus_t b = cublasCreate(&st->blas);
    if (b != CUBLAS_STATUS_SUCCESS) {
        st->blas = NULL;
        return vn_cuda_blas_fail(b, "cublasCreate");
    }
    /* The backend's own GEMMs are cuBLASLt's (gemm_lt.c); this handle is for engine ops
     * that call cuBLAS, configured to the same rules: fp32 stays fp32 (no TF32 tensor
     * cores, which would break agreement with the reference backend), no atomics (the
     * same bits on every run), and alpha and beta on the host. */
    b = cublasSetStream(st->blas, st->stream);
    if (b == CUBLAS_STATUS_SUCCESS)
        b = cublasSetMathMode(st->blas, CUBLAS_DEFAULT_MATH);
    if (b == CUBLAS_STATUS_SUCCESS)
        b = cublasSetAtomicsMode(st->blas, CUBLAS_ATOMICS_NOT_ALLOWED);
    if (b == CUBLAS_STATUS_SUCCESS)
        b = cublasSetPointerMode(st->blas, CUBLAS_POINTER_MODE_HOST);
    return b == CUBLAS_STATUS_SUCCESS ? VN_OK : vn_cuda_blas_fail(b, "configuring the cuBLAS handle");
}

static vn_status cuda_init(vn_backend_state **out, const vn_backend_config *cfg)
{
    pthread_once(&probe_once, run_probe);
    if (probe.count == 0)
        return vn_error(VN_ERR_UNSUPPORTED, "cuda backend: %s", probe.reason);
    if (cfg->device < 0 || cfg->device >= probe.count)
        return no_such_device("cuda backend", cfg->device);

    vn_backend_state *st = calloc(1, sizeof *st);
    if (!st)
        return vn_error(VN_ERR_OUT_OF_MEMORY, "cuda backend: out of memory");
    st->device = cfg->device;
    pthread_mutex_init(&st->op_lock, NULL);
    pthread_mutex_init(&st->stage_lock, NULL);

    vn_status s = vn_cuda_use_device(st);
    if (s == VN_OK)
        s = check_kernel_image(st->device);
    if (s == VN_OK) {
        cudaError_t e = cudaDeviceGetAttribute(&st->cc_major, cudaDevAttrComputeCapabilityMajor, st->device);
        if (e == cudaSuccess)
            e = cudaDeviceGetAttribute(&st->cc_minor, cudaDevAttrComputeCapabilityMinor, st->device);
        /* Non-blocking: the legacy default stream would serialise this context's work
         * with every other library in the process that uses it. */
        if (e == cudaSuccess)
            e = cudaStreamCreateWithFlags(&st->stream, cudaStreamNonBlocking);
        if (e != cudaSuccess)
            s = vn_cuda_fail(e, "creating the context's stream");
    }
    if (s == VN_OK)
        s = vn_cuda_arena_create(st);
    if (s == VN_OK)
        s = init_blas(st);
    if (s == VN_OK)
        s = vn_cuda_gemm_init(st);
    if (s == VN_OK)
        s = vn_cuda_arena_alloc(st, VN_CUDA_REDUCE_BLOCKS * sizeof(double), (void **)&st->partials);
    if (s != VN_OK) {
        cuda_fini(st);
        return s;
    }
    *out = st;
    return VN_OK;
}

static int cuda_supports(const vn_backend_state *st, vn_op op);

/* ---- memory ---------------------------------------------------------------------- */

static vn_status cuda_alloc(vn_backend_state *st, size_t bytes, void **out)
{
    vn_status s = vn_cuda_use_device(st);
    return s != VN_OK ? s : vn_cuda_arena_alloc(st, bytes, out);
}

static void cuda_free(vn_backend_state *st, void *ptr)
{
    if (ptr)
        vn_cuda_arena_free(st, ptr);
}

static vn_status copy_sync(vn_backend_state *st, void *dst, const void *src, size_t bytes,
                           enum cudaMemcpyKind kind, const char *what)
{
    vn_status s = vn_cuda_use_device(st);
    if (s != VN_OK)
        return s;
    /* On the context's stream, so that the copy is ordered after the ops queued before
     * it; then waited for, because the caller's host buffer is not kept past the call
     * (uploads) or must hold the result when the call returns (downloads). */
    cudaError_t e = cudaMemcpyAsync(dst, src, bytes, kind, st->stream);
    if (e == cudaSuccess)
        e = cudaStreamSynchronize(st->stream);
    return e == cudaSuccess ? VN_OK : vn_cuda_fail(e, what);
}

static vn_status cuda_upload(vn_backend_state *st, void *dst, const void *src_host, size_t bytes)
{
    return copy_sync(st, dst, src_host, bytes, cudaMemcpyHostToDevice, "upload (cudaMemcpyAsync)");
}

static vn_status cuda_download(vn_backend_state *st, void *dst_host, const void *src, size_t bytes)
{
    return copy_sync(st, dst_host, src, bytes, cudaMemcpyDeviceToHost, "download (cudaMemcpyAsync)");
}

static vn_status cuda_synchronize(vn_backend_state *st)
{
    vn_status s = vn_cuda_use_device(st);
    if (s != VN_OK)
        return s;
    cudaError_t e = cudaStreamSynchronize(st->stream);
    return e == cudaSuccess ? VN_OK : vn_cuda_fail(e, "cudaStreamSynchronize");
}

/* ---- base ops -------------------------------------------------------------------- */

vn_status vn_cuda_launched(cudaError_t e, const char *what)
{
    return e == cudaSuccess ? VN_OK : vn_cuda_fail(e, what);
}

/* Empty work returns before touching the device: a grid of zero blocks is a launch
 * error, and there is nothing to do. */
#define ELEMENTWISE(name, launch)                               \
    do {                                                        \
        if (n == 0)                                             \
            return VN_OK;                                       \
        vn_status s_ = vn_cuda_use_device(st);                  \
        if (s_ != VN_OK)                                        \
            return s_;                                          \
        return vn_cuda_launched(launch, name " kernel launch"); \
    } while (0)

static vn_status cuda_add(vn_backend_state *st, int64_t n, const float *a, const float *b, float *y)
{
    ELEMENTWISE("add", vn_cuda_launch_add(st->stream, n, a, b, y));
}

static vn_status cuda_mul(vn_backend_state *st, int64_t n, const float *a, const float *b, float *y)
{
    ELEMENTWISE("mul", vn_cuda_launch_mul(st->stream, n, a, b, y));
}

static vn_status cuda_scale(vn_backend_state *st, int64_t n, float alpha, const float *x, float *y)
{
    ELEMENTWISE("scale", vn_cuda_launch_scale(st->stream, n, alpha, x, y));
}

static vn_status cuda_axpy(vn_backend_state *st, int64_t n, float alpha, const float *x, float *y)
{
    ELEMENTWISE("axpy", vn_cuda_launch_axpy(st->stream, n, alpha, x, y));
}

/* The two passes share st->partials, so another thread's reduction must not queue
 * its first pass between them. n = 0 still runs, to write the empty sum, 0. */
static vn_status reduce(vn_backend_state *st, vn_cuda_reduce op, int64_t n, const float *x, float *out,
                        const char *what)
{
    vn_status s = vn_cuda_use_device(st);
    if (s != VN_OK)
        return s;
    pthread_mutex_lock(&st->op_lock);
    cudaError_t e = vn_cuda_launch_reduce(st->stream, op, n, x, st->partials, out);
    pthread_mutex_unlock(&st->op_lock);
    return vn_cuda_launched(e, what);
}

static vn_status cuda_sum(vn_backend_state *st, int64_t n, const float *x, float *out)
{
    return reduce(st, VN_CUDA_REDUCE_SUM, n, x, out, "sum kernel launch");
}

static vn_status cuda_sumsq(vn_backend_state *st, int64_t n, const float *x, float *out)
{
    return reduce(st, VN_CUDA_REDUCE_SUMSQ, n, x, out, "sumsq kernel launch");
}

static vn_status cuda_max(vn_backend_state *st, int64_t n, const float *x, float *out)
{
    return reduce(st, VN_CUDA_REDUCE_MAX, n, x, out, "max kernel launch");
}

/* With .nn the whole training step runs here (backend_nn.h); supports(VN_OP_NN) reads it. */
const vn_backend vn_backend_cuda = {
    .kind = VN_BACKEND_CUDA,
    .name = "cuda",
    .available = cuda_available,
    .device_count = cuda_device_count,
    .device_info = cuda_device_info,
    .init = cuda_init,
    .fini = cuda_fini,
    .supports = cuda_supports,
    .alloc = cuda_alloc,
    .free = cuda_free,
    .upload = cuda_upload,
    .download = cuda_download,
    .synchronize = cuda_synchronize,
    .upload_async = vn_cuda_upload_async,
    .gemm = vn_cuda_gemm,
    .add = cuda_add,
    .mul = cuda_mul,
    .scale = cuda_scale,
    .axpy = cuda_axpy,
    .sum = cuda_sum,
    .sumsq = cuda_sumsq,
    .max = cuda_max,
    .nn = &vn_cuda_nn,
#ifdef VN_HAVE_NCCL
    .comm_id = vn_cuda_comm_id,
    .comm_init = vn_cuda_comm_init,
    .allreduce_sum = vn_cuda_allreduce_sum,
#endif
};

/*
 * Read off the table for the ops that have a pointer, so that what supports() claims
 * and what the table can run cannot drift apart. The GEMM variants have no pointer of
 * their own: they are what an opened context's device can do. TF32 and BF16 need the
 * tensor cores of compute capability 8.0 or newer; the GELU epilogue runs anywhere
 * (fused by cuBLASLt or as a kernel). Without a context (st NULL) only the table
 * answers, and it has none of them.
 */
static int cuda_supports(const vn_backend_state *st, vn_op op)
{
    const vn_backend *t = &vn_backend_cuda;
    switch (op) {
    case VN_OP_GEMM: return t->gemm != NULL;
    case VN_OP_ADD: return t->add != NULL;
    case VN_OP_MUL: return t->mul != NULL;
    case VN_OP_SCALE: return t->scale != NULL;
    case VN_OP_AXPY: return t->axpy != NULL;
    case VN_OP_SUM: return t->sum != NULL;
    case VN_OP_SUMSQ: return t->sumsq != NULL;
    case VN_OP_MAX: return t->max != NULL;
    case VN_OP_GEMM_TF32:
    case VN_OP_GEMM_BF16: return st != NULL && t->gemm != NULL && st->cc_major >= 8;
    case VN_OP_GEMM_GELU: return st != NULL && t->gemm != NULL;
    case VN_OP_NN: return t->nn != NULL;
    case VN_OP_ALLREDUCE: return t->allreduce_sum != NULL;
    case VN_OP_GEMM_BF16_ACT: return t->gemm_bf16_act != NULL;
    case VN_OP_COUNT: break;
    }
    return 0;
}
