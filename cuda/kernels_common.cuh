/*
 * kernels_common.cuh: the device helpers every kernel file of the backend shares.
 * Included by the .cu files only (inside their anonymous namespace), so each file keeps
 * its own copy with internal linkage; tests/cuda_emu inlines it the same way.
 */
#ifndef VN_CUDA_KERNELS_COMMON_CUH
#define VN_CUDA_KERNELS_COMMON_CUH

/* Grids are capped and every kernel loops over the rest ("grid-stride"), so that any
 * int64 size maps onto a legal grid (gridDim.y and .z stop at 65535). */
constexpr int64_t kMaxBlocks = 65535;

/* Blocks for work items at per_block each, at least one (a launch of zero blocks is a
 * configuration error) and at most cap. */
inline unsigned int blocks_for(int64_t work, int64_t per_block, int64_t cap)
{
    int64_t blocks = (work + per_block - 1) / per_block;
    if (blocks < 1)
        blocks = 1;
    return (unsigned int)(blocks < cap ? blocks : cap);
}

/* Butterfly reductions: each step adds the same two values in every lane, only in
 * swapped order, so every lane ends with the same bits and any lane may use them. */
__device__ __forceinline__ float warp_sum(float v)
{
#pragma unroll
    for (int o = 16; o > 0; o >>= 1)
        v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ double warp_sum(double v)
{
#pragma unroll
    for (int o = 16; o > 0; o >>= 1)
        v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

/* The sum of one double per thread of a kThreadsPerBlock block, in a fixed tree;
 * valid in thread 0. */
template <int kThreadsPerBlock>
__device__ __forceinline__ double block_sum(double v)
{
    __shared__ double red[kThreadsPerBlock];
    red[threadIdx.x] = v;
    __syncthreads();
    for (int s = kThreadsPerBlock / 2; s > 0; s >>= 1) {
        if ((int)threadIdx.x < s)
            red[threadIdx.x] += red[threadIdx.x + s];
        __syncthreads();
    }
    return red[0];
}

#endif
