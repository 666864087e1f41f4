/*
 * cuda_state.h: the cuda backend's per-context state and the helpers its files share
 * (backend_cuda.c, arena.c, gemm_lt.c, the engine table nn_*.c). Plain C against the
 * CUDA runtime.
 */
#ifndef VN_CUDA_STATE_H
#define VN_CUDA_STATE_H

#include <pthread.h>

#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include "backend/backend.h"
#include "backend/backend_nn.h"

struct vn_cuda_arena;   /* arena.c: the caching device allocator */
struct vn_cuda_staging; /* arena.c: the pinned ring behind upload_async */

struct vn_backend_state {
    void *comm; /* the NCCL communicator of comm_init (ncclComm_t), or NULL */
    int device;
    cudaStream_t stream;  /* every op of the context, in order */
    cublasHandle_t blas;

    int cc_major, cc_minor; /* the device's compute capability */

    /* Device memory. The arena hands out and takes back every buffer of the context;
     * upload_async stages through the ring on copy_stream (created on first use). */
    struct vn_cuda_arena *arena;
    struct vn_cuda_staging *staging;
    cudaStream_t copy_stream;
    /* Held by upload_async: concurrent uploads claim ring slots and queue their copies
     * in one consistent order. */
    pthread_mutex_t stage_lock;

    /* GEMMs (gemm_lt.c). lt_workspace is cuBLASLt's; bf16_ws holds the bf16 copies of A
     * and B for VN_GEMM_BF16 and grows on demand. */
    cublasLtHandle_t lt;
    void *lt_workspace;
    size_t lt_workspace_bytes;
    void *bf16_ws;
    size_t bf16_ws_bytes;

    /* The reductions' per-block partial results (VN_CUDA_REDUCE_BLOCKS doubles). */
    double *partials;

    /* Held while an op enqueues work that uses the shared scratch above (bf16_ws,
     * partials): two threads interleaving their launches on the one stream would
     * otherwise overwrite each other's scratch between a producer and its consumer. */
    pthread_mutex_t op_lock;
};

/* A failed runtime or cuBLAS call as a vn_status with the message set
 * (VN_ERR_OUT_OF_MEMORY for allocation failures, VN_ERR_BACKEND otherwise). */
vn_status vn_cuda_fail(cudaError_t e, const char *what);
vn_status vn_cuda_blas_fail(cublasStatus_t e, const char *what);
/* The status of a kernel launch (the launcher's cudaGetLastError). */
vn_status vn_cuda_launched(cudaError_t e, const char *what);
/* Make the context's device current on this thread (every entry point does first). */
vn_status vn_cuda_use_device(const vn_backend_state *st);
/* The backend's GEMM (vn_be_gemm's contract, already validated; gemm_lt.c). */
vn_status vn_cuda_gemm(vn_backend_state *st, const vn_gemm_desc *d, const float *a, const float *b,
                       const float *bias, float *c);

/* ---- memory (arena.c) --------------------------------------------------------------
 * Device buffers are 256-byte aligned and come from a per-context cache: a freed
 * buffer goes back to a free list of its size class and is handed out again without
 * a cudaMalloc. Reuse is ordered by the context's stream: every write to a buffer is
 * queued there, so the next owner's work runs after the previous owner's. */
vn_status vn_cuda_arena_create(vn_backend_state *st);
/* Releases every buffer, live or cached. The caller has synchronised the device. */
void vn_cuda_arena_destroy(vn_backend_state *st);
/* bytes may be 0 (a real, distinct pointer comes back). Out of memory after dropping
 * the cache gives VN_ERR_OUT_OF_MEMORY naming the size and the device's free memory. */
vn_status vn_cuda_arena_alloc(vn_backend_state *st, size_t bytes, void **out);
void vn_cuda_arena_free(vn_backend_state *st, void *ptr);

/* upload_async: host -> pinned ring -> device staging on copy_stream, then a
 * device-to-device copy into dst on the context's stream (see arena.c for why). */
vn_status vn_cuda_upload_async(vn_backend_state *st, void *dst, const void *src_host, size_t bytes);
/* Frees the ring; the caller has synchronised both streams. */
void vn_cuda_staging_destroy(vn_backend_state *st);

/* ---- GEMM resources (gemm_lt.c) ---------------------------------------------------- */
vn_status vn_cuda_gemm_init(vn_backend_state *st);
void vn_cuda_gemm_fini(vn_backend_state *st);

/* Collectives (comm_nccl.c, with VN_HAVE_NCCL): NCCL's unique id, a communicator per
 * context, an in-place sum on the context's stream. vn_cuda_comm_fini releases the
 * communicator at context destruction (a no-op without NCCL). */
#ifdef VN_HAVE_NCCL
vn_status vn_cuda_comm_id(void *id, size_t cap, size_t *len);
vn_status vn_cuda_comm_init(vn_backend_state *st, const void *id, size_t len, int rank, int size);
vn_status vn_cuda_allreduce_sum(vn_backend_state *st, float *buf, int64_t n);
#endif
void vn_cuda_comm_fini(vn_backend_state *st);

/* The engine table (backend_cuda_nn.c). */
extern const vn_backend_nn vn_cuda_nn;

#endif
