/*
 * The optimizer kernels of the engine table: AdamW, the global gradient norm and its
 * clipping (src/nn/optim.c), and the JEPA target's EMA (src/train/jepa.c).
 *
 * AdamW and the EMA reproduce the host's float arithmetic bit for bit. The host builds
 * them as ISO C, where GCC keeps every multiply and add separately rounded; nvcc would
 * fuse a multiply into the following add (an FMA rounds once), so the arithmetic is
 * spelled with the round-to-nearest intrinsics, which nvcc never contracts. Division
 * and square root are the IEEE ones either way (no fast-math), as glibc's are.
 */
#include "kernels_train.h"

#include <math.h>

namespace {

#include "kernels_common.cuh"

constexpr int kThreads = 256;
/* adamw_range of src/nn/optim.c, operation for operation. */
__global__ void __launch_bounds__(kThreads)
    adamw_kernel(int64_t n, float *param, const float *grad, float *m, float *v, float decay, float w1, float b2,
                 float w2, float step_size, float bc2_sqrt, float eps)
{
    const int64_t step = (int64_t)gridDim.x * kThreads;
    for (int64_t i = (int64_t)blockIdx.x * kThreads + threadIdx.x; i < n; i += step) {
        const float g = grad[i], mo = m[i];
        const float pi = __fmul_rn(param[i], decay);
        /* torch's lerp for weights below 0.5: self + w * (end - self) */
        const float mi = __fadd_rn(mo, __fmul_rn(w1, __fsub_rn(g, mo)));
        float vi = __fmul_rn(v[i], b2);
        vi = __fadd_rn(vi, __fmul_rn(__fmul_rn(w2, g), g));
        const float denom = __fadd_rn(__fdiv_rn(__fsqrt_rn(vi), bc2_sqrt), eps);
        /* addcdiv's order: self + (value * t1) / t2 */
        param[i] = __fadd_rn(pi, __fdiv_rn(__fmul_rn(-step_size, mi), denom));
        m[i] = mi;
        v[i] = vi;
    }
}

/* A float's square is exact in double (48 significant bits), so only the additions
 * round, in an order fixed by the grid size, which depends on n alone. */
__global__ void __launch_bounds__(kThreads) sumsq_kernel(int64_t n, const float *x, double *acc, double *part)
{
    double s = 0.0;
    const int64_t step = (int64_t)gridDim.x * kThreads;
    for (int64_t i = (int64_t)blockIdx.x * kThreads + threadIdx.x; i < n; i += step) {
        const double xi = (double)x[i];
        s += xi * xi;
    }
    s = block_sum<kThreads>(s);
    if (threadIdx.x == 0) {
        if (gridDim.x == 1)
            *acc += s;
        else
            part[blockIdx.x] = s;
    }
}

__global__ void __launch_bounds__(kThreads) sum_parts_kernel(const double *part, int64_t n, double *acc)
{
    double s = 0.0;
    for (int64_t i = threadIdx.x; i < n; i += kThreads)
        s += part[i];
    s = block_sum<kThreads>(s);
    if (threadIdx.x == 0)
        *acc += s;
}

/* vn_clip_grad_norm's coefficient, computed by every thread from the device sum (a
 * broadcast load), so the host never waits for the norm. */
__global__ void __launch_bounds__(kThreads)
    clip_scale_kernel(int64_t n, float *x, const double *sumsq, double max_norm)
{
    const double coef = max_norm / (sqrt(*sumsq) + 1e-6);
    if (!(coef < 1.0))
        return;
    const float cf = (float)coef;
    const int64_t step = (int64_t)gridDim.x * kThreads;
    for (int64_t i = (int64_t)blockIdx.x * kThreads + threadIdx.x; i < n; i += step)
        x[i] = __fmul_rn(x[i], cf);
}

__global__ void __launch_bounds__(kThreads) ema_kernel(int64_t n, float *t, const float *o, float m, float om)
{
    const int64_t step = (int64_t)gridDim.x * kThreads;
    for (int64_t i = (int64_t)blockIdx.x * kThreads + threadIdx.x; i < n; i += step)
        t[i] = __fadd_rn(__fmul_rn(m, t[i]), __fmul_rn(om, o[i]));
}

} // namespace

/* The launchers read cudaGetLastError() once before launching so that an older,
 * unrelated non-sticky error on this thread is not blamed on them. */

extern "C" cudaError_t vn_cuda_launch_adamw(cudaStream_t stream, int64_t n, float *param, const float *grad,
                                            float *m, float *v, float decay, float w1, float b2, float w2,
                                            float step_size, float bc2_sqrt, float eps)
{
    (void)cudaGetLastError();
    adamw_kernel<<<blocks_for(n, kThreads, kMaxBlocks), kThreads, 0, stream>>>(n, param, grad, m, v, decay, w1, b2,
                                                                               w2, step_size, bc2_sqrt, eps);
    return cudaGetLastError();
}

extern "C" cudaError_t vn_cuda_launch_sumsq(cudaStream_t stream, int64_t n, const float *x, double *acc,
                                            double *part)
{
    (void)cudaGetLastError();
    const int64_t blocks = vn_cuda_reduce_blocks(n, VN_CUDA_ELEMS_PER_BLOCK);
    sumsq_kernel<<<(unsigned int)blocks, kThreads, 0, stream>>>(n, x, acc, part);
    cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess || blocks == 1)
        return e;
    sum_parts_kernel<<<1, kThreads, 0, stream>>>(part, blocks, acc);
    return cudaGetLastError();
}

extern "C" cudaError_t vn_cuda_launch_clip_scale(cudaStream_t stream, int64_t n, float *x, const double *sumsq,
                                                 double max_norm)
{
    (void)cudaGetLastError();
    clip_scale_kernel<<<blocks_for(n, kThreads, kMaxBlocks), kThreads, 0, stream>>>(n, x, sumsq, max_norm);
    return cudaGetLastError();
}

extern "C" cudaError_t vn_cuda_launch_ema(cudaStream_t stream, int64_t n, float *t, const float *o, float m)
{
    (void)cudaGetLastError();
    /* vn_train_jepa_ema rounds 1 - m to float before using it. */
    const float om = 1.0f - m;
    ema_kernel<<<blocks_for(n, kThreads, kMaxBlocks), kThreads, 0, stream>>>(n, t, o, m, om);
    return cudaGetLastError();
}
