/*
 * cuda_backend.h: what the rest of libvnative may know about the CUDA backend.
 *
 * Deliberately free of CUDA headers: components.c and the tests include it from
 * plain C translation units, and only the backend's own files need the toolkit.
 * The table itself, vn_backend_cuda, is declared in backend/backend.h.
 */
#ifndef VN_CUDA_BACKEND_H
#define VN_CUDA_BACKEND_H

#ifdef __cplusplus
extern "C" {
#endif

/* The CUDA runtime version this build was compiled against, e.g. "13.0" (from
 * CUDART_VERSION). Static string; needs no driver. */
const char *vn_cuda_runtime_version(void);

/* The cuBLAS version this build was compiled against, e.g. "13.1.0". Static string. */
const char *vn_cuda_cublas_version(void);

/* The architectures the kernels were compiled for, e.g. "sm_80 sm_90" (-Dgpu_arch). */
const char *vn_cuda_archs(void);

#ifdef __cplusplus
}
#endif

#endif
