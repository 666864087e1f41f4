#include "backend/cpu_kernels.h"

#include <math.h>
#include <stdlib.h>

/* Below this many elements a second thread costs more than it saves. */
#define PAR_MIN 32768
/* Reduction block: large enough to amortise, small enough to spread over threads. */
#define RED_BLOCK 8192
#define LANES 16

/* One build per ISA, picked at load time, so that the shipped library is portable
 * and still uses AVX-512 where the CPU has it. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(VN_NO_CLONES)
#  define VN_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#  define VN_CLONES
#endif

VN_CLONES void vn_cpu_add(int nt, int64_t n, const float *restrict a, const float *restrict b,
                          float *restrict y)
{
#pragma omp parallel for num_threads(nt) schedule(static) if (n >= PAR_MIN)
    for (int64_t i = 0; i < n; i++)
        y[i] = a[i] + b[i];
}

VN_CLONES void vn_cpu_mul(int nt, int64_t n, const float *restrict a, const float *restrict b,
                          float *restrict y)
{
#pragma omp parallel for num_threads(nt) schedule(static) if (n >= PAR_MIN)
    for (int64_t i = 0; i < n; i++)
        y[i] = a[i] * b[i];
}

/* x and y may be the same buffer (in-place scale), so no restrict here. */
VN_CLONES void vn_cpu_scale(int nt, int64_t n, float alpha, const float *x, float *y)
{
#pragma omp parallel for num_threads(nt) schedule(static) if (n >= PAR_MIN)
    for (int64_t i = 0; i < n; i++)
        y[i] = alpha * x[i];
}

VN_CLONES void vn_cpu_axpy(int nt, int64_t n, float alpha, const float *restrict x, float *restrict y)
{
#pragma omp parallel for num_threads(nt) schedule(static) if (n >= PAR_MIN)
    for (int64_t i = 0; i < n; i++)
        y[i] += alpha * x[i];
}

/* Lane-wise partial sums: float reassociation is not allowed without -ffast-math,
 * so the lanes are explicit and the compiler vectorises across them. */
VN_CLONES static double block_sum(const float *restrict x, int64_t n, int squares)
{
    float acc[LANES] = {0};
    int64_t i = 0;
    if (squares) {
        for (; i + LANES <= n; i += LANES)
            for (int l = 0; l < LANES; l++)
                acc[l] += x[i + l] * x[i + l];
    } else {
        for (; i + LANES <= n; i += LANES)
            for (int l = 0; l < LANES; l++)
                acc[l] += x[i + l];
    }
    double total = 0.0;
    for (int l = 0; l < LANES; l++)
        total += acc[l];
    for (; i < n; i++)
        total += squares ? (double)x[i] * x[i] : x[i];
    return total;
}

VN_CLONES static float block_max(const float *restrict x, int64_t n)
{
    float m = x[0];
    for (int64_t i = 1; i < n; i++)
        m = (x[i] > m || isnan(x[i])) ? x[i] : m;
    return m;
}

static int reduce(int nt, int64_t n, const float *x, int kind, float *out)
{
    int64_t nb = (n + RED_BLOCK - 1) / RED_BLOCK;
    double stack[64];
    double *part = nb <= 64 ? stack : malloc((size_t)nb * sizeof *part);
    if (!part)
        return -1;
#pragma omp parallel for num_threads(nt) schedule(static) if (nb > 1 && n >= PAR_MIN)
    for (int64_t b = 0; b < nb; b++) {
        int64_t off = b * RED_BLOCK, len = n - off < RED_BLOCK ? n - off : RED_BLOCK;
        part[b] = kind == 2 ? (double)block_max(x + off, len) : block_sum(x + off, len, kind);
    }
    double r = kind == 2 ? part[0] : 0.0;
    for (int64_t b = 0; b < nb; b++) {
        if (kind == 2)
            r = (part[b] > r || isnan(part[b])) ? part[b] : r;
        else
            r += part[b];
    }
    if (part != stack)
        free(part);
    *out = (float)r;
    return 0;
}

int vn_cpu_sum(int nt, int64_t n, const float *x, float *out)
{
    return reduce(nt, n, x, 0, out);
}

int vn_cpu_sumsq(int nt, int64_t n, const float *x, float *out)
{
    return reduce(nt, n, x, 1, out);
}

int vn_cpu_max(int nt, int64_t n, const float *x, float *out)
{
    return reduce(nt, n, x, 2, out);
}
