/* GEMM on oneDNN matmul primitives, cached per shape. Used by the cpu backend. */
#ifndef VN_CPU_GEMM_ONEDNN_H
#define VN_CPU_GEMM_ONEDNN_H

#include "backend/backend.h"

typedef struct vn_onednn_gemm vn_onednn_gemm;

vn_status vn_onednn_gemm_create(vn_onednn_gemm **out);
void vn_onednn_gemm_destroy(vn_onednn_gemm *g);

/* d must have passed vn_gemm_desc_check and have m, n > 0. Thread-safe. VN_GEMM_BF16
 * rounds A and B to bf16 (cpu_bf16.h) and accumulates in fp32; it needs
 * vn_onednn_bf16_usable() and is VN_ERR_UNSUPPORTED without it, as TF32 always is. */
vn_status vn_onednn_gemm_run(vn_onednn_gemm *g, const vn_gemm_desc *d, const float *a, const float *b,
                             const float *bias, float *c, int n_threads);

/* The cpu backend's gemm_bf16_act (backend.h), d checked there: A is used as it is, B
 * rounded into a bf16 copy; C bf16 and the GELU epilogue are the primitive's own
 * (destination type and an eltwise post-op). */
vn_status vn_onednn_gemm_run_bf16_act(vn_onednn_gemm *g, const vn_gemm_desc *d, const uint16_t *a, const float *b,
                                      const float *bias, void *c, int c_bf16, int n_threads);

/* Cache counters, for tests that check primitives are reused. */
void vn_onednn_gemm_stats(vn_onednn_gemm *g, uint64_t *hits, uint64_t *misses, int *cached);
/* Cached primitives of a precision whose oneDNN implementation name starts with prefix
 * ("" counts them all): tests check that no bf16 GEMM landed on a "ref" one. */
int vn_onednn_gemm_count_impl(vn_onednn_gemm *g, vn_gemm_precision precision, const char *prefix);

/* Whether oneDNN runs bf16 matmuls on bf16 hardware here (its effective ISA is
 * avx512_core_bf16 or above: avx512_bf16 or AMX); *why (static) says why not. */
int vn_onednn_bf16_usable(const char **why);

/* "2.6.3": the oneDNN the library runs with. */
const char *vn_onednn_version(void);

#endif
