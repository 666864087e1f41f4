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

/* Elementwise, i in [0, n), n >= 1; y may alias the inputs.
 *   add: y = a + b    mul: y = a * b    scale: y = alpha * x    axpy: y = y + alpha * x
 * Each result is rounded as the reference backend's C rounds it (axpy twice, never
 * contracted into an FMA), so the results are the reference's bits. */
cudaError_t vn_cuda_launch_add(cudaStream_t stream, int64_t n, const float *a, const float *b, float *y);
cudaError_t vn_cuda_launch_mul(cudaStream_t stream, int64_t n, const float *a, const float *b, float *y);
cudaError_t vn_cuda_launch_scale(cudaStream_t stream, int64_t n, float alpha, const float *x, float *y);
cudaError_t vn_cuda_launch_axpy(cudaStream_t stream, int64_t n, float alpha, const float *x, float *y);

/* Reductions into out[0] (device memory), n >= 0 (max: n >= 1). A fixed grid for a
 * given n, per-thread sums in a fixed order, a fixed tree in each block, and a second
 * single-block pass over the block results: no atomics, so the same bits on every run.
 * sum and sumsq accumulate in double, as the reference does; max propagates NaN.
 * partials is device scratch for VN_CUDA_REDUCE_BLOCKS doubles, in use until the
 * second pass has run. */
#define VN_CUDA_REDUCE_BLOCKS 1024
typedef enum vn_cuda_reduce { VN_CUDA_REDUCE_SUM, VN_CUDA_REDUCE_SUMSQ, VN_CUDA_REDUCE_MAX } vn_cuda_reduce;
cudaError_t vn_cuda_launch_reduce(cudaStream_t stream, vn_cuda_reduce op, int64_t n, const float *x, double *partials,
                                  float *out);

/*
 * For every matrix b in [0, batch), row i in [0, m) and column j in [0, n) of the
 * row-major matrices C[b] = c + b * stride_c with leading dimension ldc:
 *   C[b][i][j] = (beta == 0 ? 0 : beta * C[b][i][j]) + (bias ? bias[j] : 0)
 * beta == 0 never reads C, so NaN garbage there does not leak into the result, as
 * BLAS promises for beta == 0. m, n, batch >= 1.
 */
cudaError_t vn_cuda_launch_rows_update(cudaStream_t stream, int64_t batch, int64_t m, int64_t n, int64_t ldc,
                                       int64_t stride_c, float beta, const float *bias, float *c);

/*
 * The GEMM epilogue where cuBLASLt cannot apply it. Over the same index space as
 * rows_update, with x, pre and out all laid out as C (ldc, stride_c):
 *   v = (beta == 0 ? 0 : beta * x) + (bias ? bias[j] : 0)
 *   pre = v (when pre is not NULL);  out = gelu ? gelu_tanh(v) : v
 * gelu_tanh is the tanh form of src/nn/ops_dense.c. x, pre and out may alias.
 */
cudaError_t vn_cuda_launch_rows_epilogue(cudaStream_t stream, int64_t batch, int64_t m, int64_t n, int64_t ldc,
                                         int64_t stride_c, float beta, const float *x, const float *bias, float *pre,
                                         float *out, int gelu);

/*
 * bf16 copies of the rows x cols row-major matrices src + b * stride (leading dimension
 * ld), b in [0, batch), rounded to nearest even (NaN stays NaN), into dst + b *
 * stride_out with leading dimension ld_out. dst holds raw bf16 bits. All sizes >= 1.
 */
cudaError_t vn_cuda_launch_to_bf16(cudaStream_t stream, int64_t batch, int64_t rows, int64_t cols, int64_t ld,
                                   int64_t stride, const float *src, int64_t ld_out, int64_t stride_out,
                                   uint16_t *dst);

/* cudaSuccess when the current device can run this build's kernels; otherwise the
 * error a launch would give (cudaErrorNoKernelImageForDevice and the like). */
cudaError_t vn_cuda_kernels_probe(void);

#ifdef __cplusplus
}
#endif

#endif
