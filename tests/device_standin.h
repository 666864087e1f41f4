/*
 * A guarded device stand-in with an engine table (backend_nn.h), for machines
 * without a GPU.
 *
 * Its memory is mmap'ed and kept PROT_NONE except while one of its own table
 * entries runs, so any host access the engine makes to "device" memory outside the
 * backend (a memcpy, a loop, a pointer read) faults on the spot. Each entry checks
 * that every pointer it gets lies in a live buffer with room for what the entry
 * reads or writes, then makes all buffers readable and writable, runs the host
 * implementation (src/nn on a cpu-backed host vn_nn, the cpu backend's base ops),
 * and locks them again. Because the arithmetic is the host path's, a device vn_nn
 * on the stand-in must give the cpu path's bits exactly; what it adds is the proof
 * that the engine keeps its hands off device memory.
 *
 * Each buffer ends against a guard page (at 64-byte granularity), so an entry
 * reading past a buffer's end faults as well.
 */
#ifndef VN_TEST_DEVICE_STANDIN_H
#define VN_TEST_DEVICE_STANDIN_H

#include <stdint.h>

#include "backend/backend.h"

/* The table; kind VN_BACKEND_REFERENCE, name "standin". vn_be_open cannot find it
 * (it looks tables up by kind): open it with vn_standin_open or table->init. */
const vn_backend *vn_standin_backend(void);

/* Opens be on the stand-in with n_threads host threads, deterministic. */
vn_status vn_standin_open(vn_be *be, int n_threads);

/* What a stand-in instance has been asked to do since it was opened. */
typedef struct vn_standin_counts {
    uint64_t nn_calls;  /* engine-table entries (backend_nn.h) */
    uint64_t base_calls; /* gemm, add, ..., max */
    uint64_t uploads;   /* upload and upload_async */
    uint64_t downloads;
    int64_t live_buffers;
} vn_standin_counts;

/* be must be open on the stand-in. */
vn_standin_counts vn_standin_counters(const vn_be *be);

#endif
