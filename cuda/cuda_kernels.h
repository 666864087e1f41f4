/*
 * cuda_kernels.h: the launchers of the backend's own CUDA kernels (kernels.cu).
 *
 * Launchers, not kernels, cross the C/C++ boundary so that backend_cuda.c stays plain
 * C11 and nvcc only ever sees kernels.cu. Each launcher enqueues on the given stream,
 * does not synchronise, and returns the launch status (cudaGetLastError), which
 * catches bad configurations and missing kernel images but not faults that happen
 * while the kernel runs; those surface at the next synchronisation.
 */
#ifndef VN_CUDA_KERNELS_H
#define VN_CUDA_KERNELS_H

#include <stdint.h>

#include <cuda_runtime_api.h>

#ifdef __cplusplus
extern "C" {
#endif

/* y[i] = a[i] + b[i] for i in [0, n); y may alias a or b. n >= 1. */
cudaError_t vn_cuda_launch_add(cudaStream_t stream, int64_t n, const float *a, const float *b, float *y);

/*
 * For every matrix b in [0, batch), row i in [0, m) and column j in [0, n) of the
 * row-major matrices C[b] = c + b * stride_c with leading dimension ldc:
 *   C[b][i][j] = (beta == 0 ? 0 : beta * C[b][i][j]) + (bias ? bias[j] : 0)
 * beta == 0 never reads C, so NaN garbage there does not leak into the result, as
 * BLAS promises for beta == 0. m, n, batch >= 1.
 */
cudaError_t vn_cuda_launch_rows_update(cudaStream_t stream, int64_t batch, int64_t m, int64_t n, int64_t ldc,
                                       int64_t stride_c, float beta, const float *bias, float *c);

/* cudaSuccess when the current device can run this build's kernels; otherwise the
 * error a launch would give (cudaErrorNoKernelImageForDevice and the like). */
cudaError_t vn_cuda_kernels_probe(void);

#ifdef __cplusplus
}
#endif

#endif
