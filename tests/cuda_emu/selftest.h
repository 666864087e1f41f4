/*
 * selftest.h: launchers of selftest.cu, small kernels that pin down the emulator itself
 * (warp exchanges, block votes, shared memory, atomics, exits) and the misuses it must
 * catch. Pointers are host memory, as all "device" memory is in the emulator.
 */
#ifndef VN_CUDA_EMU_SELFTEST_H
#define VN_CUDA_EMU_SELFTEST_H

#include <stdint.h>

#include <cuda_runtime_api.h>

#define EMU_ST_SHUFFLE_RESULTS 9

/* 2 warps; out[t * EMU_ST_SHUFFLE_RESULTS + k] for thread t: shfl_xor 1, shfl 31 - lane,
 * shfl (width 8) 3, shfl_up 3, shfl_down (width 16) 5, shfl_xor (width 8) 9 (past the
 * group: own value), ballot(lane % 3 == 0), any(lane == 7), all(lane < 40). Each lane's
 * value is 1000 * warp + lane. */
cudaError_t emu_st_shuffles(int *out);
/* One block of 96 threads: out = {count, and, or} of (t % 5 == 0), then of (t < 96),
 * then of (t > 1000). */
cudaError_t emu_st_block_votes(int *out);
/* n <= 256 threads reverse x through dynamic shared memory of n floats. */
cudaError_t emu_st_dynamic_shared(float *out, const float *x, int n);
/* Two blocks of 64 threads each record their static shared array before writing it:
 * out [128] must be all 0xffffffff (uninitialised, not the other block's values). */
cudaError_t emu_st_shared_poison(uint32_t *out);
/* 3 blocks of 128 threads: atomicAdd(count, 1) and atomicAdd(sum, 0.5f) each. */
cudaError_t emu_st_atomics(int *count, float *sum);
/* 128 threads; those with t >= 40 return at once, the others pass two barriers and
 * write out[t] = t. */
cudaError_t emu_st_early_exit(int *out);
/* A launch with the given configuration (of a kernel that does nothing): its status. */
cudaError_t emu_st_config(unsigned grid_x, unsigned grid_y, unsigned block_x, unsigned block_y, size_t smem);
/* Grid-stride copy out[i] = x[i] over n elements, blocks of 64. */
cudaError_t emu_st_copy(float *out, const float *x, int64_t n, unsigned blocks);

/* Misuses the emulator reports by aborting (tests expect SIGABRT). */
cudaError_t emu_st_divergent_barrier(void);
cudaError_t emu_st_shuffle_after_exit(void);
cudaError_t emu_st_ragged_warp_shuffle(void);
cudaError_t emu_st_partial_mask(void);
cudaError_t emu_st_launch_bounds(void);
cudaError_t emu_st_too_much_shared(void);
/* Lane 0 waits at a shuffle while the rest of the block waits at __syncthreads. */
cudaError_t emu_st_deadlock(void);

#endif
