/*
 * The CUDA backend's own kernels. cuBLAS does the GEMMs; these cover what it has no
 * entry point for: a bias row added to every row of a batched, strided C (and the
 * C = beta * C + bias of an empty product), and add.
 */
#include "cuda_kernels.h"

namespace {

/* A multiple of the warp size, small enough that these register-light kernels reach
 * full occupancy on sm_80 and later. */
constexpr int kThreads = 256;

/* Grids are capped and the kernels loop ("grid-stride") over the rest, so that any
 * int64 length maps onto a legal grid (gridDim.y and .z stop at 65535). */
constexpr int64_t kMaxBlocks = 65535;

__global__ void add_kernel(int64_t n, const float *a, const float *b, float *y)
{
    const int64_t step = (int64_t)gridDim.x * blockDim.x;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += step)
        y[i] = a[i] + b[i];
}

/* threadIdx.x runs along a row, so a warp touches 32 consecutive floats of C and
 * of bias: coalesced whatever ldc and stride_c are. */
__global__ void rows_update_kernel(int64_t batch, int64_t m, int64_t n, int64_t ldc, int64_t stride_c,
                                   float beta, const float *bias, float *c)
{
    const int64_t col_step = (int64_t)gridDim.x * blockDim.x;
    const int64_t row_step = (int64_t)gridDim.y * blockDim.y;
    for (int64_t bi = blockIdx.z; bi < batch; bi += gridDim.z) {
        float *cb = c + bi * stride_c;
        for (int64_t i = (int64_t)blockIdx.y * blockDim.y + threadIdx.y; i < m; i += row_step) {
            float *row = cb + i * ldc;
            for (int64_t j = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; j < n; j += col_step) {
                float v = beta == 0.0f ? 0.0f : beta * row[j];
                if (bias)
                    v += bias[j];
                row[j] = v;
            }
        }
    }
}

unsigned int blocks_for(int64_t work, int64_t per_block, int64_t cap)
{
    int64_t blocks = (work + per_block - 1) / per_block;
    return (unsigned int)(blocks < cap ? blocks : cap);
}

} // namespace

/* The launchers report cudaGetLastError() after the launch, which would also return an
 * older, unrelated non-sticky error left on this thread (by other CUDA code in the
 * process, say); reading it once before the launch clears it so it is not blamed on us. */

extern "C" cudaError_t vn_cuda_launch_add(cudaStream_t stream, int64_t n, const float *a, const float *b,
                                          float *y)
{
    (void)cudaGetLastError();
    add_kernel<<<blocks_for(n, kThreads, kMaxBlocks), kThreads, 0, stream>>>(n, a, b, y);
    return cudaGetLastError();
}

extern "C" cudaError_t vn_cuda_launch_rows_update(cudaStream_t stream, int64_t batch, int64_t m, int64_t n,
                                                  int64_t ldc, int64_t stride_c, float beta, const float *bias,
                                                  float *c)
{
    (void)cudaGetLastError();
    const dim3 block(32, kThreads / 32);
    /* gridDim.y and gridDim.z may not exceed 65535; the loops cover the rest. */
    const dim3 grid(blocks_for(n, block.x, kMaxBlocks), blocks_for(m, block.y, kMaxBlocks),
                    blocks_for(batch, 1, kMaxBlocks));
    rows_update_kernel<<<grid, block, 0, stream>>>(batch, m, n, ldc, stride_c, beta, bias, c);
    return cudaGetLastError();
}

extern "C" cudaError_t vn_cuda_kernels_probe(void)
{
    /* Asking for a kernel's attributes loads its module for the current device, which
     * fails exactly as a launch would when no compiled image fits the device, but
     * without a launch: the error is reported at context creation, not at first use. */
    cudaFuncAttributes attr;
    cudaError_t e = cudaFuncGetAttributes(&attr, add_kernel);
    if (e == cudaSuccess)
        e = cudaFuncGetAttributes(&attr, rows_update_kernel);
    return e;
}
