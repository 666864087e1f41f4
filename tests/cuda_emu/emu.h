/*
 * emu.h: the controls of the CUDA emulator (shim.h, emu_runtime.cpp) that a host test
 * needs: how launches are laid out and what they cost. No CUDA type appears here, so a
 * test includes this without the shim.
 */
#ifndef VN_CUDA_EMU_H
#define VN_CUDA_EMU_H

#include <cstdint>

namespace emu {

struct Options {
    /* When > 0, every grid dimension a launch asks for is clamped to this many blocks,
     * as if the launcher's block cap were that small. Only meaningful for kernels whose
     * loops stride over the grid: a kernel that trusts its launcher's grid (per-block
     * partial sums read back by a second pass) computes something else under a cap. */
    unsigned grid_cap = 0;
    /* Run the blocks of a grid last to first instead of first to last. Blocks never
     * run concurrently in the emulator; a result that depends on their order reveals
     * a race between blocks (two blocks writing one element) that a GPU would show as
     * run-to-run differences. */
    bool reverse_blocks = false;
    /* Threads of a block that all wait at barriers this long, with no barrier of the
     * block completing meanwhile, are deadlocked: the emulator says where each waits
     * and aborts. */
    unsigned deadlock_seconds = 30;
};

void set_options(const Options &o);
Options options();

struct Stats {
    uint64_t launches;       /* kernels run */
    uint64_t blocks;         /* thread blocks run */
    uint64_t threads;        /* CUDA threads run (each on a real OS thread) */
    uint64_t block_barriers; /* completed __syncthreads, per block */
    uint64_t warp_ops;       /* completed warp-wide operations (shuffles, ballots), per warp */
};

Stats stats();

} // namespace emu

#endif
