/** @file
 * vnative/context.h: the runtime context, backend choice and device queries.
 *
 * A vn_context owns the compute backend (oneDNN on the CPU, cuBLAS and CUDA
 * kernels on a GPU, or the plain-C reference), its thread count, its seed and
 * its caches. Every handle that computes is created from a context.
 *
 * Thread safety: a vn_context may be shared by several threads once created;
 * its caches are internally locked. vn_context_destroy must not race with any
 * other use of the same context.
 */
#ifndef VNATIVE_CONTEXT_H
#define VNATIVE_CONTEXT_H

#include "vnative/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The compute backends. */
typedef enum vn_backend_kind {
    VN_BACKEND_AUTO = 0,      /**< CUDA when a GPU is usable, otherwise the CPU */
    VN_BACKEND_CPU = 1,       /**< oneDNN GEMMs and vectorised, threaded C kernels */
    VN_BACKEND_CUDA = 2,      /**< cuBLAS(Lt) and custom CUDA kernels */
    VN_BACKEND_REFERENCE = 3  /**< plain single-threaded C: slow, the ground truth in tests */
} vn_backend_kind;

#define VN_BACKEND_KIND_COUNT 4 /**< number of vn_backend_kind values */

/** "auto", "cpu", "cuda", "reference"; "unknown" for other values. */
VN_API const char *vn_backend_name(vn_backend_kind kind);

/** Parse a backend name as accepted by VN_BACKEND (case-insensitive; "ref" is accepted too). */
VN_API vn_status vn_backend_from_name(const char *name, vn_backend_kind *out);

/** Whether this build of the library contains the backend (0 or 1). */
VN_API vn_status vn_backend_compiled(vn_backend_kind kind, int *out);

/** Whether the backend can run on this machine now (0 or 1): compiled in, and for
 * CUDA, a driver and at least one device present. When it cannot, and reason is not
 * NULL, *reason points to a static, library-owned sentence saying why (else to ""). */
VN_API vn_status vn_backend_available(vn_backend_kind kind, int *out, const char **reason);

/** Libraries the build links against, for diagnostics. */
typedef enum vn_component {
    VN_COMPONENT_ONEDNN = 0,
    VN_COMPONENT_LIBAVFORMAT = 1,
    VN_COMPONENT_LIBAVCODEC = 2,
    VN_COMPONENT_LIBAVUTIL = 3,
    VN_COMPONENT_LIBSWSCALE = 4,
    VN_COMPONENT_CUDA_RUNTIME = 5,
    VN_COMPONENT_CUBLAS = 6
} vn_component;

#define VN_COMPONENT_COUNT 7 /**< number of vn_component values */

/** The component's short name ("oneDNN", "libavformat", ...) and run-time version
 * string ("2.6.3"). Both strings are static. A component that is not compiled in
 * gives VN_ERR_UNSUPPORTED; the CUDA components report their compiled-in versions
 * even where no driver is present. */
VN_API vn_status vn_component_version(vn_component component, const char **name,
                                      const char **version);

/** One compute device. */
typedef struct vn_device_info {
    unsigned int version;         /**< VN_DEVICE_INFO_VERSION */
    vn_backend_kind backend;      /**< the backend the device belongs to */
    int index;                    /**< the device's index within its backend */
    char name[128];               /**< the CPU model or the GPU's name */
    uint64_t memory_bytes;        /**< total memory (system RAM for the CPU) */
    int compute_units;            /**< CPU cores available to the process, or CUDA multiprocessors */
    int capability_major;         /**< CUDA compute capability; 0 for the CPU */
    int capability_minor;         /**< CUDA compute capability, minor; 0 for the CPU */
} vn_device_info;

#define VN_DEVICE_INFO_VERSION 1 /**< the version of vn_device_info this header describes */
/** Static initialiser of vn_device_info: the current version and the defaults. */
#define VN_DEVICE_INFO_INIT { VN_DEVICE_INFO_VERSION, VN_BACKEND_CPU, 0, {0}, 0, 0, 0, 0 }

/** Number of devices the backend can use now (0 for CUDA without a GPU). */
VN_API vn_status vn_device_count(vn_backend_kind kind, int *out);

/** Fill *info (whose version field the caller sets, for instance with VN_DEVICE_INFO_INIT). */
VN_API vn_status vn_device_get_info(vn_backend_kind kind, int index, vn_device_info *info);

/** Options for vn_context_create. Fields are only ever appended; set version to
 * VN_CONTEXT_OPTIONS_VERSION, most simply through VN_CONTEXT_OPTIONS_INIT. */
typedef struct vn_context_options {
    unsigned int version;         /**< VN_CONTEXT_OPTIONS_VERSION */
    vn_backend_kind backend;      /**< the VN_BACKEND environment variable overrides this */
    int n_threads;                /**< 0: every core the process may use */
    uint64_t seed;                /**< root of every random stream the context hands out */
    int deterministic;            /**< 1: results are bit-identical across runs and thread counts */
    int device;                   /**< GPU index for CUDA */
} vn_context_options;

#define VN_CONTEXT_OPTIONS_VERSION 1 /**< the version of vn_context_options this header describes */
/** Static initialiser of vn_context_options: the current version and the defaults. */
#define VN_CONTEXT_OPTIONS_INIT { VN_CONTEXT_OPTIONS_VERSION, VN_BACKEND_AUTO, 0, 0, 0, 0 }

/** Fill *opts with the defaults of the given version (VN_CONTEXT_OPTIONS_VERSION). */
VN_API vn_status vn_context_options_init(vn_context_options *opts, unsigned int version);

/** The runtime context (opaque). */
typedef struct vn_context vn_context;

/** Create a context. opts may be NULL for the defaults.
 * Asking for CUDA where it is not available gives VN_ERR_UNSUPPORTED with the reason;
 * AUTO falls back to the CPU and logs one line at VN_LOG_INFO saying why. */
VN_API vn_status vn_context_create(vn_context **out, const vn_context_options *opts);

/** Destroy a context; NULL is a no-op. */
VN_API void vn_context_destroy(vn_context *ctx);

/** The backend the context runs on (never VN_BACKEND_AUTO). */
VN_API vn_status vn_context_backend(const vn_context *ctx, vn_backend_kind *out);

/** The number of threads the context's CPU kernels use. */
VN_API vn_status vn_context_threads(const vn_context *ctx, int *out);

/** The seed the context was created with. */
VN_API vn_status vn_context_seed(const vn_context *ctx, uint64_t *out);

/** Collectives across processes (data-parallel training on GPUs): an id for a group of
 * processes, made by one of them with its context and handed to the others (through
 * MPI, say) as vn_train_dist.comm_id. At most cap bytes go to id (128 are enough for
 * NCCL's); *len gets the length. VN_ERR_UNSUPPORTED on a backend without collectives
 * (the cpu backend: gradients are then reduced through the caller's all-reduce). */
VN_API vn_status vn_context_comm_id(vn_context *ctx, void *id, size_t cap, size_t *len);

/** Per-op profiling of the work done through this context (encoders, trainers): turn it
 * on (1; the counters start from zero) or off (0; they keep their values). Each engine op
 * (GEMM, layernorm, attention, AdamW, waiting for data, ...) then adds its calls, its
 * self time (nested ops are charged to their own entries, so entries add up) and, for
 * GEMMs and attention, its FLOPs counted analytically. On the cpu backend the times
 * are wall times of the calling thread; on a device they are the host's (launch and
 * synchronisation), not the kernels'. Off by default; when off it costs a branch per op.
 * on other than 0 or 1 gives VN_ERR_INVALID_ARG. */
VN_API vn_status vn_context_set_profiling(vn_context *ctx, int on);

/** Zero the profile counters. */
VN_API vn_status vn_context_profile_reset(vn_context *ctx);

/** The number of profile entries (indices for vn_context_profile_entry). */
VN_API vn_status vn_context_profile_count(const vn_context *ctx, int *count);

/** Profile entry index: its name (static storage), calls, self seconds and counted
 * FLOPs. Any output pointer may be NULL. VN_ERR_INVALID_ARG for an index outside
 * [0, count). */
VN_API vn_status vn_context_profile_entry(vn_context *ctx, int index, const char **name, int64_t *calls,
                                          double *seconds, double *flops);

#ifdef __cplusplus
}
#endif

#endif
