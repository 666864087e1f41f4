/*
 * The CUDA backend's own kernels: the base ops (elementwise and reductions), the GEMM
 * epilogue where cuBLASLt cannot apply it (bias, GELU, and the C = beta * C + bias of an
 * empty product), and the bf16 conversion of GEMM operands. cuBLASLt does the GEMMs.
 */
#include "cuda_kernels.h"

#include <cuda_bf16.h>

namespace {

#include "kernels_common.cuh"

/* A multiple of the warp size, small enough that these register-light kernels reach
 * full occupancy on sm_80 and later. */
constexpr int kThreads = 256;

/* Each reduction thread sums at least this many elements before the block tree, so
 * that short inputs do not pay for idle blocks. */
constexpr int64_t kReducePerThread = 8;

/* ---- elementwise --------------------------------------------------------------------- */

/* The rounding intrinsics keep nvcc from contracting a multiply and an add into one
 * FMA: the reference backend's C rounds twice (ISO C mode turns contraction off), and
 * these ops promise its bits. */
__global__ void add_kernel(int64_t n, const float *a, const float *b, float *y)
{
    const int64_t step = (int64_t)gridDim.x * blockDim.x;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += step)
        y[i] = __fadd_rn(a[i], b[i]);
}

__global__ void mul_kernel(int64_t n, const float *a, const float *b, float *y)
{
    const int64_t step = (int64_t)gridDim.x * blockDim.x;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += step)
        y[i] = __fmul_rn(a[i], b[i]);
}

__global__ void scale_kernel(int64_t n, float alpha, const float *x, float *y)
{
    const int64_t step = (int64_t)gridDim.x * blockDim.x;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += step)
        y[i] = __fmul_rn(alpha, x[i]);
}

__global__ void axpy_kernel(int64_t n, float alpha, const float *x, float *y)
{
    const int64_t step = (int64_t)gridDim.x * blockDim.x;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += step)
        y[i] = __fadd_rn(y[i], __fmul_rn(alpha, x[i]));
}

/* ---- reductions ---------------------------------------------------------------------- */

struct SumOp {
    typedef double T;
    __device__ static T identity() { return 0.0; }
    __device__ static T load(float x) { return (double)x; }
    __device__ static T combine(T a, T b) { return a + b; }
};

struct SumSqOp {
    typedef double T;
    __device__ static T identity() { return 0.0; }
    __device__ static T load(float x) { return (double)x * (double)x; }
    __device__ static T combine(T a, T b) { return a + b; }
};

/* NaN wins, as in the reference, whichever side it is on: fmaxf would drop it. */
struct MaxOp {
    typedef float T;
    __device__ static T identity() { return -INFINITY; }
    __device__ static T load(float x) { return x; }
    __device__ static T combine(T a, T b) { return a != a ? a : (b != b ? b : (b > a ? b : a)); }
};

/* The block's values in a fixed pairing order, so the result does not depend on
 * which warp finishes first. Leaves the result in sh[0]. */
template <class Op>
__device__ void block_tree(typename Op::T *sh)
{
    for (int s = kThreads / 2; s > 0; s >>= 1) {
        __syncthreads();
        if ((int)threadIdx.x < s)
            sh[threadIdx.x] = Op::combine(sh[threadIdx.x], sh[threadIdx.x + s]);
    }
    __syncthreads();
}

template <class Op>
__global__ void __launch_bounds__(kThreads) reduce_blocks_kernel(int64_t n, const float *x, typename Op::T *partials)
{
    __shared__ typename Op::T sh[kThreads];
    typename Op::T acc = Op::identity();
    const int64_t step = (int64_t)gridDim.x * kThreads;
    for (int64_t i = (int64_t)blockIdx.x * kThreads + threadIdx.x; i < n; i += step)
        acc = Op::combine(acc, Op::load(x[i]));
    sh[threadIdx.x] = acc;
    block_tree<Op>(sh);
    if (threadIdx.x == 0)
        partials[blockIdx.x] = sh[0];
}

template <class Op>
__global__ void __launch_bounds__(kThreads) reduce_final_kernel(int blocks, const typename Op::T *partials, float *out)
{
    __shared__ typename Op::T sh[kThreads];
    typename Op::T acc = Op::identity();
    for (int i = threadIdx.x; i < blocks; i += kThreads)
        acc = Op::combine(acc, partials[i]);
    sh[threadIdx.x] = acc;
    block_tree<Op>(sh);
    if (threadIdx.x == 0)
        out[0] = (float)sh[0];
}

/* ---- GEMM epilogue and operand conversion -------------------------------------------- */

/* The tanh GELU exactly as src/nn/ops_dense.c writes it (with the device's expf):
 * tanh(u) = 1 - 2 / (1 + e^{2u}), u clamped to +-10 by comparisons, which let NaN
 * through where fminf/fmaxf would replace it. */
__device__ float gelu_tanh(float x)
{
    const float s = 0.7978845608028654f, a = 0.044715f;
    float u = s * (x + a * x * x * x);
    u = u > 10.0f ? 10.0f : u;
    u = u < -10.0f ? -10.0f : u;
    float t = 1.0f - 2.0f / (1.0f + expf(2.0f * u));
    return 0.5f * x * (1.0f + t);
}

/* threadIdx.x runs along a row, so a warp touches 32 consecutive floats of each matrix
 * and of bias: coalesced whatever ldc and stride_c are. */
__global__ void rows_epilogue_kernel(int64_t batch, int64_t m, int64_t n, int64_t ldc, int64_t stride_c, float beta,
                                     const float *x, const float *bias, float *pre, float *out, int gelu)
{
    const int64_t col_step = (int64_t)gridDim.x * blockDim.x;
    const int64_t row_step = (int64_t)gridDim.y * blockDim.y;
    for (int64_t bi = blockIdx.z; bi < batch; bi += gridDim.z) {
        for (int64_t i = (int64_t)blockIdx.y * blockDim.y + threadIdx.y; i < m; i += row_step) {
            const int64_t row = bi * stride_c + i * ldc;
            for (int64_t j = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; j < n; j += col_step) {
                float v = beta == 0.0f ? 0.0f : beta * x[row + j];
                if (bias)
                    v += bias[j];
                if (pre)
                    pre[row + j] = v;
                out[row + j] = gelu ? gelu_tanh(v) : v;
            }
        }
    }
}

__global__ void to_bf16_kernel(int64_t batch, int64_t rows, int64_t cols, int64_t ld, int64_t stride, const float *src,
                               int64_t ld_out, int64_t stride_out, __nv_bfloat16 *dst)
{
    const int64_t col_step = (int64_t)gridDim.x * blockDim.x;
    const int64_t row_step = (int64_t)gridDim.y * blockDim.y;
    for (int64_t bi = blockIdx.z; bi < batch; bi += gridDim.z)
        for (int64_t i = (int64_t)blockIdx.y * blockDim.y + threadIdx.y; i < rows; i += row_step)
            for (int64_t j = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; j < cols; j += col_step)
                dst[bi * stride_out + i * ld_out + j] = __float2bfloat16_rn(src[bi * stride + i * ld + j]);
}

/* A (32 x 8)-thread block per tile of a batch of matrices: x along a row. */
void matrix_grid(int64_t batch, int64_t rows, int64_t cols, dim3 *grid, dim3 *block)
{
    *block = dim3(32, kThreads / 32);
    /* gridDim.y and gridDim.z may not exceed 65535; the loops cover the rest. */
    *grid = dim3(blocks_for(cols, block->x, kMaxBlocks), blocks_for(rows, block->y, kMaxBlocks),
                 blocks_for(batch, 1, kMaxBlocks));
}

template <class Op>
cudaError_t reduce(cudaStream_t stream, int64_t n, const float *x, double *scratch, float *out)
{
    /* Partials of type T fit: T is double or float and there are at most
     * VN_CUDA_REDUCE_BLOCKS of them. The grid depends on n alone, so a given input is
     * always summed in the same order. */
    typedef typename Op::T T;
    const unsigned int blocks = blocks_for(n, kThreads * kReducePerThread, VN_CUDA_REDUCE_BLOCKS);
    reduce_blocks_kernel<Op><<<blocks, kThreads, 0, stream>>>(n, x, reinterpret_cast<T *>(scratch));
    cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess)
        return e;
    reduce_final_kernel<Op><<<1, kThreads, 0, stream>>>((int)blocks, reinterpret_cast<const T *>(scratch), out);
    return cudaGetLastError();
}

} // namespace

/* The launchers report cudaGetLastError() after the launch, which would also return an
 * older, unrelated non-sticky error left on this thread (by other CUDA code in the
 * process, say); reading it once before the launch clears it so it is not blamed on us. */

#define ELEMENTWISE_LAUNCH(kernel, ...)                                                    \
    do {                                                                                   \
        (void)cudaGetLastError();                                                          \
        kernel<<<blocks_for(n, kThreads, kMaxBlocks), kThreads, 0, stream>>>(__VA_ARGS__); \
        return cudaGetLastError();                                                         \
    } while (0)

extern "C" cudaError_t vn_cuda_launch_add(cudaStream_t stream, int64_t n, const float *a, const float *b,
                                          float *y)
{
    ELEMENTWISE_LAUNCH(add_kernel, n, a, b, y);
}

extern "C" cudaError_t vn_cuda_launch_mul(cudaStream_t stream, int64_t n, const float *a, const float *b,
                                          float *y)
{
    ELEMENTWISE_LAUNCH(mul_kernel, n, a, b, y);
}

extern "C" cudaError_t vn_cuda_launch_scale(cudaStream_t stream, int64_t n, float alpha, const float *x, float *y)
{
    ELEMENTWISE_LAUNCH(scale_kernel, n, alpha, x, y);
}

extern "C" cudaError_t vn_cuda_launch_axpy(cudaStream_t stream, int64_t n, float alpha, const float *x, float *y)
{
    ELEMENTWISE_LAUNCH(axpy_kernel, n, alpha, x, y);
}

extern "C" cudaError_t vn_cuda_launch_reduce(cudaStream_t stream, vn_cuda_reduce op, int64_t n, const float *x,
                                             double *partials, float *out)
{
    (void)cudaGetLastError();
    switch (op) {
    case VN_CUDA_REDUCE_SUM: return reduce<SumOp>(stream, n, x, partials, out);
    case VN_CUDA_REDUCE_SUMSQ: return reduce<SumSqOp>(stream, n, x, partials, out);
    case VN_CUDA_REDUCE_MAX: return reduce<MaxOp>(stream, n, x, partials, out);
    }
    return cudaErrorInvalidValue;
}

extern "C" cudaError_t vn_cuda_launch_rows_epilogue(cudaStream_t stream, int64_t batch, int64_t m, int64_t n,
                                                    int64_t ldc, int64_t stride_c, float beta, const float *x,
                                                    const float *bias, float *pre, float *out, int gelu)
{
    (void)cudaGetLastError();
    dim3 grid, block;
    matrix_grid(batch, m, n, &grid, &block);
    rows_epilogue_kernel<<<grid, block, 0, stream>>>(batch, m, n, ldc, stride_c, beta, x, bias, pre, out, gelu);
    return cudaGetLastError();
}

extern "C" cudaError_t vn_cuda_launch_rows_update(cudaStream_t stream, int64_t batch, int64_t m, int64_t n,
                                                  int64_t ldc, int64_t stride_c, float beta, const float *bias,
                                                  float *c)
{
    return vn_cuda_launch_rows_epilogue(stream, batch, m, n, ldc, stride_c, beta, c, bias, NULL, c, 0);
}

extern "C" cudaError_t vn_cuda_launch_to_bf16(cudaStream_t stream, int64_t batch, int64_t rows, int64_t cols,
                                              int64_t ld, int64_t stride, const float *src, int64_t ld_out,
                                              int64_t stride_out, uint16_t *dst)
{
    (void)cudaGetLastError();
    dim3 grid, block;
    matrix_grid(batch, rows, cols, &grid, &block);
    to_bf16_kernel<<<grid, block, 0, stream>>>(batch, rows, cols, ld, stride, src, ld_out, stride_out,
                                               reinterpret_cast<__nv_bfloat16 *>(dst));
    return cudaGetLastError();
}

extern "C" cudaError_t vn_cuda_kernels_probe(void)
{
    /* Asking for a kernel's attributes loads its module for the current device, which
     * fails exactly as a launch would when no compiled image fits the device, but
     * without a launch: the error is reported at context creation, not at first use.
     * Every kernel of this file is in the same image, so one stands for all. */
    cudaFuncAttributes attr;
    cudaError_t e = cudaFuncGetAttributes(&attr, add_kernel);
    if (e == cudaSuccess)
        e = cudaFuncGetAttributes(&attr, rows_epilogue_kernel);
    return e;
}
