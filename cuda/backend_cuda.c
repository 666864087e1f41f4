/*
 * The cuda backend: device discovery, one stream and one cuBLAS handle per context,
 * GEMMs on cuBLAS and a small set of custom kernels (kernels.cu).
 *
 * Plain C11 against the CUDA runtime and cuBLAS C APIs: only kernels.cu goes through
 * nvcc. The ops this backend does not have yet are NULL in the table below, and
 * supports() reads the table, so callers get VN_ERR_UNSUPPORTED for them rather than a
 * silent fallback.
 */
#include "backend/backend.h"
#include "core/error.h"
#include "cuda_backend.h"
#include "cuda_kernels.h"

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

static vn_status cuda_fail(cudaError_t e, const char *what)
{
    /* Non-sticky errors stay in the runtime's per-thread "last error" until read; clear
     * it so that the next kernel launch check does not report this failure again. */
    (void)cudaGetLastError();
    vn_status s = e == cudaErrorMemoryAllocation ? VN_ERR_OUT_OF_MEMORY : VN_ERR_BACKEND;
    return vn_error(s, "cuda backend: %s failed: %s (%s)", what, cudaGetErrorName(e), cudaGetErrorString(e));
}

static vn_status blas_fail(cublasStatus_t e, const char *what)
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
        return cuda_fail(e, "cudaGetDeviceProperties");
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

struct vn_backend_state {
    int device;
    cudaStream_t stream;
    cublasHandle_t blas;
};

/*
 * The runtime's current device is per host thread, and a context may be used from
 * threads other than the one that created it. Every entry point makes the context's
 * device current first, so that allocations and launches land where the stream and
 * the cuBLAS handle live.
 */
static vn_status use_device(const vn_backend_state *st)
{
    cudaError_t e = cudaSetDevice(st->device);
    return e == cudaSuccess ? VN_OK : cuda_fail(e, "cudaSetDevice");
}

static void cuda_fini(vn_backend_state *st)
{
    if (!st)
        return;
    if (cudaSetDevice(st->device) == cudaSuccess && st->stream) {
        /* Work still queued may read or write buffers the caller frees once the
         * context is gone; let it finish before the stream disappears. */
        cudaError_t e = cudaStreamSynchronize(st->stream);
        if (e != cudaSuccess)
            vn_log(VN_LOG_WARN, "cuda backend: work pending at context destruction failed: %s (%s)",
                   cudaGetErrorName(e), cudaGetErrorString(e));
    }
    if (st->blas)
        cublasDestroy(st->blas);
    if (st->stream)
        cudaStreamDestroy(st->stream);
    (void)cudaGetLastError();
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
    return cuda_fail(e, "loading the cuda backend's kernels");
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

    vn_status s = use_device(st);
    if (s == VN_OK)
        s = check_kernel_image(st->device);
    if (s == VN_OK) {
        /* Non-blocking: the legacy default stream would serialise this context's work
         * with every other library in the process that uses it. */
        cudaError_t e = cudaStreamCreateWithFlags(&st->stream, cudaStreamNonBlocking);
        if (e != cudaSuccess)
            s = cuda_fail(e, "cudaStreamCreateWithFlags");
    }
    if (s == VN_OK) {
        cublasStatus_t b = cublasCreate(&st->blas);
        if (b != CUBLAS_STATUS_SUCCESS) {
            st->blas = NULL;
            s = blas_fail(b, "cublasCreate");
        }
    }
    if (s == VN_OK) {
        cublasStatus_t b = cublasSetStream(st->blas, st->stream);
        /* CUBLAS_DEFAULT_MATH keeps fp32 GEMMs in fp32: TF32 tensor-core math would cut
         * the mantissa to 10 bits and break agreement with the reference backend, which
         * is the contract every backend is tested against. */
        if (b == CUBLAS_STATUS_SUCCESS)
            b = cublasSetMathMode(st->blas, CUBLAS_DEFAULT_MATH);
        /* Atomics would let split reductions finish in any order; without them a GEMM
         * gives the same bits on every run on a given GPU, which `deterministic` needs
         * and nothing here has a reason to give up. */
        if (b == CUBLAS_STATUS_SUCCESS)
            b = cublasSetAtomicsMode(st->blas, CUBLAS_ATOMICS_NOT_ALLOWED);
        /* alpha and beta live in the host-side descriptor. */
        if (b == CUBLAS_STATUS_SUCCESS)
            b = cublasSetPointerMode(st->blas, CUBLAS_POINTER_MODE_HOST);
        if (b != CUBLAS_STATUS_SUCCESS)
            s = blas_fail(b, "configuring the cuBLAS handle");
    }
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
    vn_status s = use_device(st);
    if (s != VN_OK)
        return s;
    void *p = NULL;
    /* cudaMalloc(0) succeeds with NULL, which callers would take for a failure; the host
     * backends return a real pointer for 0 bytes, and so does this one. */
    cudaError_t e = cudaMalloc(&p, bytes ? bytes : 1);
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        if (e == cudaErrorMemoryAllocation)
            return vn_error(VN_ERR_OUT_OF_MEMORY, "cuda backend: could not allocate %zu bytes on device %d (%s)",
                            bytes, st->device, cudaGetErrorName(e));
        return cuda_fail(e, "cudaMalloc");
    }
    *out = p;
    return VN_OK;
}

static void cuda_free(vn_backend_state *st, void *ptr)
{
    if (!ptr || use_device(st) != VN_OK)
        return;
    /* cudaFree waits for the device to go idle, so kernels still reading ptr finish
     * first; no stream synchronisation is needed here. */
    cudaError_t e = cudaFree(ptr);
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        vn_log(VN_LOG_WARN, "cuda backend: cudaFree(%p) failed: %s (%s)", ptr, cudaGetErrorName(e),
               cudaGetErrorString(e));
    }
}

static vn_status copy_sync(vn_backend_state *st, void *dst, const void *src, size_t bytes,
                           enum cudaMemcpyKind kind, const char *what)
{
    vn_status s = use_device(st);
    if (s != VN_OK)
        return s;
    /* On the context's stream, so that the copy is ordered after the ops queued before
     * it; then waited for, because the caller's host buffer is not kept past the call
     * (uploads) or must hold the result when the call returns (downloads). */
    cudaError_t e = cudaMemcpyAsync(dst, src, bytes, kind, st->stream);
    if (e == cudaSuccess)
        e = cudaStreamSynchronize(st->stream);
    return e == cudaSuccess ? VN_OK : cuda_fail(e, what);
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
    vn_status s = use_device(st);
    if (s != VN_OK)
        return s;
    cudaError_t e = cudaStreamSynchronize(st->stream);
    return e == cudaSuccess ? VN_OK : cuda_fail(e, "cudaStreamSynchronize");
}

/* ---- ops ------------------------------------------------------------------------- */

static vn_status launched(cudaError_t e, const char *what)
{
    return e == cudaSuccess ? VN_OK : cuda_fail(e, what);
}

static vn_status cuda_gemm(vn_backend_state *st, const vn_gemm_desc *d, const float *a, const float *b,
                           const float *bias, float *c)
{
    vn_status s = use_device(st);
    if (s != VN_OK)
        return s;
    if (d->k == 0) {
        /* An empty product: C = beta * C + bias. The dispatcher lets a and b be NULL
         * here, and cuBLAS documents nothing about NULL operands, so it is not asked. */
        return launched(vn_cuda_launch_rows_update(st->stream, d->batch, d->m, d->n, d->ldc, d->stride_c, d->beta,
                                                   bias, c),
                        "gemm (k = 0) kernel launch");
    }
    /*
     * cuBLAS is column-major, and a row-major matrix with leading dimension ld is its
     * column-major transpose with the same ld. So the row-major C = op(A) op(B) is the
     * column-major C^T = op(B)^T op(A)^T: swap the operands and m with n, and keep
     * each operand's own transpose flag. The leading-dimension minimums of
     * vn_gemm_desc_check are then exactly cuBLAS's. beta == 0 makes cuBLAS ignore C,
     * NaNs included, as the contract requires; a zero batch stride is a legal stride
     * that reuses the same matrix for every batch.
     */
    cublasOperation_t op_a = d->trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
    cublasOperation_t op_b = d->trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
    cublasStatus_t bs = cublasSgemmStridedBatched_64(st->blas, op_b, op_a, d->n, d->m, d->k, &d->alpha, b, d->ldb,
                                                     d->stride_b, a, d->lda, d->stride_a, &d->beta, c, d->ldc,
                                                     d->stride_c, d->batch);
    if (bs != CUBLAS_STATUS_SUCCESS)
        return blas_fail(bs, "cublasSgemmStridedBatched_64");
    if (!bias)
        return VN_OK;
    /* cuBLAS has no bias epilogue for strided batches (cublasLt's covers one matrix
     * per call), so a kernel adds the bias row afterwards on the same stream. */
    return launched(vn_cuda_launch_rows_update(st->stream, d->batch, d->m, d->n, d->ldc, d->stride_c, 1.0f, bias, c),
                    "gemm bias kernel launch");
}

static vn_status cuda_add(vn_backend_state *st, int64_t n, const float *a, const float *b, float *y)
{
    if (n == 0)
        return VN_OK; /* a grid of zero blocks is a launch error, and there is nothing to do */
    vn_status s = use_device(st);
    if (s != VN_OK)
        return s;
    return launched(vn_cuda_launch_add(st->stream, n, a, b, y), "add kernel launch");
}

/*
 * mul, scale, axpy and the reductions are NULL until the full kernel set lands (a later
 * issue). They are not routed through the host: that would hide a device round-trip
 * inside what callers take for a GPU op.
 */
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
    .gemm = cuda_gemm,
    .add = cuda_add,
    .mul = NULL,
    .scale = NULL,
    .axpy = NULL,
    .sum = NULL,
    .sumsq = NULL,
    .max = NULL,
};

/* Read off the table, so that what supports() claims and what the table can run
 * cannot drift apart as kernels are added. */
static int cuda_supports(const vn_backend_state *st, vn_op op)
{
    (void)st;
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
    case VN_OP_COUNT: break;
    }
    return 0;
}
