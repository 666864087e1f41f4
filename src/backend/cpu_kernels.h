/* Vectorised, OpenMP-threaded elementwise and reduction kernels of the cpu backend. */
#ifndef VN_CPU_KERNELS_H
#define VN_CPU_KERNELS_H

#include <stdint.h>

void vn_cpu_add(int nt, int64_t n, const float *a, const float *b, float *y);
void vn_cpu_mul(int nt, int64_t n, const float *a, const float *b, float *y);
void vn_cpu_scale(int nt, int64_t n, float alpha, const float *x, float *y);
void vn_cpu_axpy(int nt, int64_t n, float alpha, const float *x, float *y);

/* Reductions split x into fixed blocks and combine the block results in order,
 * so the answer is bit-identical for any thread count. Return 0, or -1 when the
 * scratch for block results cannot be allocated. */
int vn_cpu_sum(int nt, int64_t n, const float *x, float *out);
int vn_cpu_sumsq(int nt, int64_t n, const float *x, float *out);
int vn_cpu_max(int nt, int64_t n, const float *x, float *out);

#endif
