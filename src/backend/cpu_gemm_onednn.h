/* GEMM on oneDNN matmul primitives, cached per shape. Used by the cpu backend. */
#ifndef VN_CPU_GEMM_ONEDNN_H
#define VN_CPU_GEMM_ONEDNN_H

#include "backend/backend.h"

typedef struct vn_onednn_gemm vn_onednn_gemm;

vn_status vn_onednn_gemm_create(vn_onednn_gemm **out);
void vn_onednn_gemm_destroy(vn_onednn_gemm *g);

/* d must have passed vn_gemm_desc_check and have m, n > 0. Thread-safe. */
vn_status vn_onednn_gemm_run(vn_onednn_gemm *g, const vn_gemm_desc *d, const float *a, const float *b,
                             const float *bias, float *c, int n_threads);

/* Cache counters, for tests that check primitives are reused. */
void vn_onednn_gemm_stats(vn_onednn_gemm *g, uint64_t *hits, uint64_t *misses, int *cached);

/* "2.6.3": the oneDNN the library runs with. */
const char *vn_onednn_version(void);

#endif
