/*
 * The loss kernels of the engine table (src/nn/ops_loss.c on the device).
 *
 * Each loss kernel adds its gradient where the host op does and sums the loss terms in
 * double: a thread (or, for the row losses, a warp) adds its terms in order, the block
 * adds those in a fixed tree, and either that block writes the mean itself or, with
 * several blocks, a single-block kernel adds their partial sums in block order. The
 * number of blocks depends on the sizes only (vn_cuda_reduce_blocks), so the loss has
 * the same bits on every run; there are no atomics.
 */
#include "kernels_train.h"

#include <math.h>

namespace {

#include "kernels_common.cuh"

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;

/* How the summed terms become the mean the host reports. */
struct Mean {
    int64_t n1, n2;
    int wide; /* 0: (float)sum / (float)n1; 1: (float)((double)(float)sum / (n1 * n2)) */
};

__device__ __forceinline__ float mean_of(double sum, Mean m)
{
    if (m.wide)
        return (float)((double)(float)sum / ((double)m.n1 * (double)m.n2));
    return (float)sum / (float)m.n1;
}

/* NaN is skipped, as the host's x > m ? x : m does. */
__device__ __forceinline__ float warp_max(float v)
{
#pragma unroll
    for (int m = 16; m > 0; m >>= 1)
        v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, m));
    return v;
}

/* Thread 0 with the block's total: the mean when the block is alone, else its part. */
__device__ __forceinline__ void finish(double total, double *part, float *loss, Mean m)
{
    if (threadIdx.x != 0)
        return;
    if (gridDim.x == 1)
        *loss = mean_of(total, m);
    else
        part[blockIdx.x] = total;
}

/* A warp-per-row kernel's end: lane 0 of each warp holds its rows' sum; thread 0 adds
 * them in warp order and finishes the block. */
__device__ __forceinline__ void finish_warps(double s, double *warp_part, double *part, float *loss, Mean m)
{
    if ((threadIdx.x & 31) == 0)
        warp_part[threadIdx.x >> 5] = s;
    __syncthreads();
    double total = 0.0;
    if (threadIdx.x == 0)
        for (int w = 0; w < kWarps; w++)
            total += warp_part[w];
    finish(total, part, loss, m);
}

__global__ void __launch_bounds__(kThreads) finish_parts_kernel(const double *part, int64_t n, float *loss, Mean m)
{
    double s = 0.0;
    for (int64_t i = threadIdx.x; i < n; i += kThreads)
        s += part[i];
    s = block_sum<kThreads>(s);
    if (threadIdx.x == 0)
        *loss = mean_of(s, m);
}

/* max(x, 0) - x t + log(1 + e^-|x|) per element, stable for logits of either sign, and
 * the sigmoid from the same e^-|x|. */
__global__ void __launch_bounds__(kThreads)
    bce_kernel(int64_t n, const float *x, const float *t, float *dx, float scale, double *part, float *loss, Mean m)
{
    double s = 0.0;
    const int64_t step = (int64_t)gridDim.x * kThreads;
    for (int64_t i = (int64_t)blockIdx.x * kThreads + threadIdx.x; i < n; i += step) {
        const float xi = x[i], ti = t[i];
        const float e = expf(-fabsf(xi));
        s += (double)((xi > 0.0f ? xi : 0.0f) - xi * ti + log1pf(e));
        if (dx) {
            const float sig = xi >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
            dx[i] += scale * (sig - ti);
        }
    }
    finish(block_sum<kThreads>(s), part, loss, m);
}

/*
 * Cross-entropy of rows, a warp per row: lse = max + log(sum e^(x - max)) with the sum in
 * double, loss lse - x[label], and g (+)= scale * e^(x - lse), minus scale at the label,
 * added in that order as the host does. A label outside [0, K) touches no memory and
 * makes the loss NaN.
 */
__global__ void __launch_bounds__(kThreads)
    ce_rows_kernel(int64_t N, int64_t K, const float *x, const int32_t *labels, float *g, int accumulate,
                   float scale, double *part, float *loss, Mean m)
{
    __shared__ double warp_part[kWarps];
    const int warp = (int)threadIdx.x / 32, lane = (int)threadIdx.x % 32;
    const int64_t step = (int64_t)gridDim.x * kWarps;
    double s = 0.0;
    for (int64_t n = (int64_t)blockIdx.x * kWarps + warp; n < N; n += step) {
        const float *row = x + n * K;
        float mx = -INFINITY;
        for (int64_t k = lane; k < K; k += 32)
            mx = fmaxf(mx, row[k]);
        mx = warp_max(mx);
        double z = 0.0;
        for (int64_t k = lane; k < K; k += 32)
            z += (double)expf(row[k] - mx);
        z = warp_sum(z);
        const float lse = mx + (float)log(z);
        const int64_t label = labels[n];
        const bool ok = label >= 0 && label < K;
        if (g) {
            float *gr = g + n * K;
            for (int64_t k = lane; k < K; k += 32) {
                float v = scale * expf(row[k] - lse);
                if (accumulate)
                    v = gr[k] + v;
                if (k == label)
                    v -= scale;
                gr[k] = v;
            }
        }
        if (lane == 0)
            s += ok ? (double)(lse - row[label]) : (double)NAN;
    }
    finish_warps(s, warp_part, part, loss, m);
}

/*
 * L1 or MSE against LayerNorm(target), a warp per row: the target's mean, then its
 * biased variance around that mean (two passes, as vn_nn_row_stats), rstd =
 * 1 / sqrt(var + 1e-5); the normalised row goes to ln, the row's error sum is a float,
 * and rows add up in double.
 */
__global__ void __launch_bounds__(kThreads)
    ln_target_kernel(int mse, int64_t N, int64_t C, const float *pred, const float *target, float *ln, float *dpred,
                     float scale, double *part, float *loss, Mean m)
{
    __shared__ double warp_part[kWarps];
    const int warp = (int)threadIdx.x / 32, lane = (int)threadIdx.x % 32;
    const int64_t step = (int64_t)gridDim.x * kWarps;
    const float two_scale = 2.0f * scale;
    double s = 0.0;
    for (int64_t n = (int64_t)blockIdx.x * kWarps + warp; n < N; n += step) {
        const float *x = target + n * C, *p = pred + n * C;
        float *y = ln + n * C;
        float sum = 0.0f;
        for (int64_t c = lane; c < C; c += 32)
            sum += x[c];
        const float mean = warp_sum(sum) / (float)C;
        float ss = 0.0f;
        for (int64_t c = lane; c < C; c += 32) {
            const float d = x[c] - mean;
            ss += d * d;
        }
        const float rstd = 1.0f / sqrtf(warp_sum(ss) / (float)C + 1e-5f);
        float acc = 0.0f;
        for (int64_t c = lane; c < C; c += 32) {
            const float t = (x[c] - mean) * rstd;
            y[c] = t;
            const float d = p[c] - t;
            acc += mse ? d * d : fabsf(d);
            if (dpred)
                dpred[n * C + c] += mse ? two_scale * d : d > 0.0f ? scale : d < 0.0f ? -scale : 0.0f;
        }
        acc = warp_sum(acc);
        if (lane == 0)
            s += (double)acc;
    }
    finish_warps(s, warp_part, part, loss, m);
}

/* The launch status of the partial-sum pass, then the final pass when there are parts. */
cudaError_t finish_parts(cudaStream_t stream, int64_t blocks, const double *part, float *loss, Mean m)
{
    cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess || blocks == 1)
        return e;
    finish_parts_kernel<<<1, kThreads, 0, stream>>>(part, blocks, loss, m);
    return cudaGetLastError();
}

} // namespace

/* The launchers read cudaGetLastError() once before launching so that an older,
 * unrelated non-sticky error on this thread is not blamed on them. */

extern "C" cudaError_t vn_cuda_launch_bce_logits(cudaStream_t stream, float *loss, float *dlogits,
                                                 const float *logits, const float *targets, int64_t N, float dloss,
                                                 double *part)
{
    (void)cudaGetLastError();
    const int64_t blocks = vn_cuda_reduce_blocks(N, VN_CUDA_ELEMS_PER_BLOCK);
    const Mean m = {N, 1, 0};
    bce_kernel<<<(unsigned int)blocks, kThreads, 0, stream>>>(N, logits, targets, dlogits, dloss / (float)N, part,
                                                              loss, m);
    return finish_parts(stream, blocks, part, loss, m);
}

extern "C" cudaError_t vn_cuda_launch_softmax_ce(cudaStream_t stream, float *loss, float *g, int accumulate,
                                                 const float *x, const int32_t *labels, int64_t N, int64_t K,
                                                 float dloss, double *part)
{
    (void)cudaGetLastError();
    const int64_t blocks = vn_cuda_reduce_blocks(N, VN_CUDA_ROWS_PER_BLOCK);
    const Mean m = {N, 1, 0};
    ce_rows_kernel<<<(unsigned int)blocks, kThreads, 0, stream>>>(N, K, x, labels, g, accumulate, dloss / (float)N,
                                                                  part, loss, m);
    return finish_parts(stream, blocks, part, loss, m);
}

extern "C" cudaError_t vn_cuda_launch_ln_target(cudaStream_t stream, int mse, float *loss, float *dpred,
                                                const float *pred, const float *target, float *ln, int64_t N,
                                                int64_t C, float dloss, double *part)
{
    (void)cudaGetLastError();
    const int64_t blocks = vn_cuda_reduce_blocks(N, VN_CUDA_ROWS_PER_BLOCK);
    const Mean m = {N, C, 1};
    ln_target_kernel<<<(unsigned int)blocks, kThreads, 0, stream>>>(mse, N, C, pred, target, ln, dpred,
                                                                    dloss / ((float)N * (float)C), part, loss, m);
    return finish_parts(stream, blocks, part, loss, m);
}
