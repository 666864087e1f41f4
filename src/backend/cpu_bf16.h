/*
 * fp32 -> bfloat16 conversion for the cpu backend's bf16 GEMMs (cpu_gemm_onednn.c).
 *
 * Rounding is to nearest even, as the reference backend's emulation rounds, so that a
 * bf16 GEMM here and there differ only in the order of the fp32 sums. Two deliberate
 * departures, both what the hardware does: a subnormal input becomes a zero of its sign
 * (vcvtne2ps2bf16 treats subnormal inputs as zero, and the AMX and avx512_bf16 dot
 * products would read a subnormal bf16 as zero anyway), and a NaN is quieted.
 */
#ifndef VN_CPU_BF16_H
#define VN_CPU_BF16_H

#include <stdint.h>
#include <string.h>

/* The conversion of one value: the definition both implementations below follow. */
static inline uint16_t vn_bf16_bits(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    if ((u & 0x7f800000u) == 0)
        return (uint16_t)((u >> 16) & 0x8000u);
    if ((u & 0x7fffffffu) > 0x7f800000u)
        return (uint16_t)((u >> 16) | 0x0040u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

/* n values, with vcvtne2ps2bf16 where the CPU has avx512_bf16, else the portable loop. */
void vn_bf16_convert(uint16_t *dst, const float *src, int64_t n);
/* The portable loop alone (tests compare the two). */
void vn_bf16_convert_portable(uint16_t *dst, const float *src, int64_t n);
/* Whether vn_bf16_convert runs the avx512_bf16 instructions on this CPU. */
int vn_bf16_convert_is_native(void);

/* nb row-major matrices of rows x cols (leading dimension ld, batch stride stride) to
 * pack densely into dst: matrix b, row i lands at dst + (b * rows + i) * cols. */
typedef struct vn_bf16_pack_job {
    const float *src;
    int64_t nb, rows, cols, ld, stride;
    uint16_t *dst;
} vn_bf16_pack_job;

/* Run the jobs, on n_threads threads when they are large enough to pay for it. */
void vn_bf16_pack(int n_threads, const vn_bf16_pack_job *jobs, int n_jobs);

#endif
