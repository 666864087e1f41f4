/*
 * selftest.cu: kernels that test the emulator (selftest.h says what each does). Written
 * as CUDA and run through transform.py like the backend's kernel files, so that these
 * also cover the rewrites.
 */
#include "selftest.h"

namespace {

constexpr unsigned kFull = 0xffffffffu;

__global__ void shuffles_kernel(int *out)
{
    const int t = (int)threadIdx.x, lane = t % 32, warp = t / 32;
    const int v = 1000 * warp + lane;
    int *o = out + t * EMU_ST_SHUFFLE_RESULTS;
    o[0] = __shfl_xor_sync(kFull, v, 1);
    o[1] = __shfl_sync(kFull, v, 31 - lane);
    o[2] = __shfl_sync(kFull, v, 3, 8);
    o[3] = __shfl_up_sync(kFull, v, 3);
    o[4] = __shfl_down_sync(kFull, v, 5, 16);
    o[5] = __shfl_xor_sync(kFull, v, 9, 8);
    o[6] = (int)__ballot_sync(kFull, lane % 3 == 0);
    o[7] = __any_sync(kFull, lane == 7);
    o[8] = __all_sync(kFull, lane < 40);
}

__global__ void block_votes_kernel(int *out)
{
    const int t = (int)threadIdx.x;
    const int c0 = __syncthreads_count(t % 5 == 0), a0 = __syncthreads_and(t % 5 == 0),
              o0 = __syncthreads_or(t % 5 == 0);
    const int c1 = __syncthreads_count(t < 96), a1 = __syncthreads_and(t < 96), o1 = __syncthreads_or(t < 96);
    const int c2 = __syncthreads_count(t > 1000), a2 = __syncthreads_and(t > 1000), o2 = __syncthreads_or(t > 1000);
    if (t == 0) {
        out[0] = c0, out[1] = a0, out[2] = o0;
        out[3] = c1, out[4] = a1, out[5] = o1;
        out[6] = c2, out[7] = a2, out[8] = o2;
    }
}

__global__ void dynamic_shared_kernel(float *out, const float *x, int n)
{
    extern __shared__ float buf[];
    const int t = (int)threadIdx.x;
    buf[t] = x[t];
    __syncthreads();
    out[t] = buf[n - 1 - t];
}

__global__ void shared_poison_kernel(uint32_t *out)
{
    __shared__ uint32_t s[64];
    const int t = (int)threadIdx.x;
    out[blockIdx.x * 64 + t] = s[t];
    __syncthreads();
    s[t] = 1234u + blockIdx.x;
}

__global__ void atomics_kernel(int *count, float *sum)
{
    atomicAdd(count, 1);
    atomicAdd(sum, 0.5f);
}

__global__ void early_exit_kernel(int *out)
{
    const int t = (int)threadIdx.x;
    if (t >= 40)
        return;
    __syncthreads();
    __syncthreads();
    out[t] = t;
}

__global__ void nothing_kernel() {}

__global__ void __launch_bounds__(64) copy_kernel(float *out, const float *x, int64_t n)
{
    const int64_t step = (int64_t)gridDim.x * blockDim.x;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += step)
        out[i] = x[i];
}

__global__ void divergent_barrier_kernel()
{
    if (threadIdx.x < 32)
        __syncthreads();
    else
        __syncthreads();
}

__global__ void shuffle_after_exit_kernel()
{
    if (threadIdx.x == 5)
        return;
    (void)__shfl_xor_sync(kFull, 1.0f, 1);
}

__global__ void ragged_warp_shuffle_kernel()
{
    (void)__shfl_xor_sync(kFull, 1.0f, 1);
}

__global__ void partial_mask_kernel()
{
    if (threadIdx.x < 16)
        (void)__shfl_xor_sync(0x0000ffffu, 1.0f, 1);
}

__global__ void __launch_bounds__(64) bounded_kernel() {}

__global__ void too_much_shared_kernel(float *sink)
{
    __shared__ float big[13 * 1024];
    big[threadIdx.x] = 0.0f;
    sink[0] = big[0];
}

__global__ void deadlock_kernel()
{
    if (threadIdx.x == 0)
        (void)__shfl_xor_sync(kFull, 1.0f, 1);
    else
        __syncthreads();
}

} // namespace

cudaError_t emu_st_shuffles(int *out)
{
    (void)cudaGetLastError();
    shuffles_kernel<<<1, 64>>>(out);
    return cudaGetLastError();
}

cudaError_t emu_st_block_votes(int *out)
{
    (void)cudaGetLastError();
    block_votes_kernel<<<1, 96>>>(out);
    return cudaGetLastError();
}

cudaError_t emu_st_dynamic_shared(float *out, const float *x, int n)
{
    (void)cudaGetLastError();
    dynamic_shared_kernel<<<1, n, (size_t)n * sizeof(float)>>>(out, x, n);
    return cudaGetLastError();
}

cudaError_t emu_st_shared_poison(uint32_t *out)
{
    (void)cudaGetLastError();
    shared_poison_kernel<<<2, 64, 0, 0>>>(out);
    return cudaGetLastError();
}

cudaError_t emu_st_atomics(int *count, float *sum)
{
    (void)cudaGetLastError();
    atomics_kernel<<<3, 128>>>(count, sum);
    return cudaGetLastError();
}

cudaError_t emu_st_early_exit(int *out)
{
    (void)cudaGetLastError();
    early_exit_kernel<<<1, 128>>>(out);
    return cudaGetLastError();
}

cudaError_t emu_st_config(unsigned grid_x, unsigned grid_y, unsigned block_x, unsigned block_y, size_t smem)
{
    (void)cudaGetLastError();
    nothing_kernel<<<dim3(grid_x, grid_y), dim3(block_x, block_y), smem>>>();
    return cudaGetLastError();
}

cudaError_t emu_st_copy(float *out, const float *x, int64_t n, unsigned blocks)
{
    (void)cudaGetLastError();
    copy_kernel<<<blocks, 64>>>(out, x, n);
    return cudaGetLastError();
}

cudaError_t emu_st_divergent_barrier(void)
{
    divergent_barrier_kernel<<<1, 64>>>();
    return cudaGetLastError();
}

cudaError_t emu_st_shuffle_after_exit(void)
{
    shuffle_after_exit_kernel<<<1, 32>>>();
    return cudaGetLastError();
}

cudaError_t emu_st_ragged_warp_shuffle(void)
{
    ragged_warp_shuffle_kernel<<<1, 48>>>();
    return cudaGetLastError();
}

cudaError_t emu_st_partial_mask(void)
{
    partial_mask_kernel<<<1, 32>>>();
    return cudaGetLastError();
}

cudaError_t emu_st_launch_bounds(void)
{
    bounded_kernel<<<1, 128>>>();
    return cudaGetLastError();
}

cudaError_t emu_st_too_much_shared(void)
{
    float sink = 0.0f;
    too_much_shared_kernel<<<1, 32>>>(&sink);
    return cudaGetLastError();
}

cudaError_t emu_st_deadlock(void)
{
    deadlock_kernel<<<1, 64>>>();
    return cudaGetLastError();
}
