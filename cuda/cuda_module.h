/*
 * The boundary between libvnative and its CUDA module, libvnative-cuda.so.
 *
 * The CUDA backend lives in a module that libvnative loads with dlopen only when
 * CUDA is used, so that a program linking libvnative on a machine without a GPU (or
 * without the CUDA runtime at all) never maps cudart and cuBLAS: that is about
 * 150 MB of resident memory, and a hard load-time dependency, that most users would
 * otherwise pay for nothing.
 *
 * Both sides are built from the same tree in the same build; the module checks that
 * it was built for the same library version and ABI before handing out its table.
 */
#ifndef VN_CUDA_MODULE_H
#define VN_CUDA_MODULE_H

#include "backend/backend.h"

#define VN_CUDA_MODULE_ABI 1
#define VN_CUDA_MODULE_FILE "libvnative-cuda.so"
#define VN_CUDA_MODULE_ENTRY "vn_cuda_module_entry"

/* What libvnative lends the module: its error and log sinks, so that a message the
 * module raises lands in the caller's vn_last_error() and log callback. */
typedef struct vn_cuda_host {
    unsigned int abi;
    const char *version; /* VN_VERSION_STRING of the loading library */
    void (*set_error)(vn_status status, const char *message);
    void (*log)(vn_log_level level, const char *message);
} vn_cuda_host;

typedef struct vn_cuda_module {
    unsigned int abi;
    const vn_backend *backend;
} vn_cuda_module;

/* The module's one exported function. Returns NULL, with *why set, when the module
 * was built for another library version or ABI. */
typedef const vn_cuda_module *(*vn_cuda_module_entry_fn)(const vn_cuda_host *host, const char **why);

/* Core side (src/backend/cuda_loader.c). The backend table, loading the module on
 * first use; NULL when it cannot be loaded, with the reason in *why (static). */
const vn_backend *vn_cuda_module_backend(const char **why);

/* Whether an NVIDIA driver (libcuda.so.1) can be loaded here: checked before the
 * module, so that asking whether CUDA is available costs nothing on CPU machines. */
int vn_cuda_driver_present(const char **why);

#endif
