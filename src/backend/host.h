/* Host-memory pieces shared by the cpu and reference backends. */
#ifndef VN_BACKEND_HOST_H
#define VN_BACKEND_HOST_H

#include "backend/backend.h"

/* Buffers are 64-byte aligned so that AVX-512 loads never split a cache line. */
#define VN_HOST_ALIGN 64

int vn_host_available(const char **reason);
vn_status vn_host_device_count(int *out);
vn_status vn_host_device_info(int index, vn_device_info *info);

vn_status vn_host_alloc(vn_backend_state *st, size_t bytes, void **out);
void vn_host_free(vn_backend_state *st, void *ptr);
vn_status vn_host_copy_in(vn_backend_state *st, void *dst, const void *src, size_t bytes);
vn_status vn_host_copy_out(vn_backend_state *st, void *dst, const void *src, size_t bytes);
vn_status vn_host_synchronize(vn_backend_state *st);

/* Cores this process may run on (sched_getaffinity), at least 1. */
int vn_host_cores(void);

/* Element (i, j) of op(X) for a row-major matrix with leading dimension ld. */
static inline int64_t vn_gemm_index(int trans, int64_t ld, int64_t i, int64_t j)
{
    return trans ? j * ld + i : i * ld + j;
}

#endif
