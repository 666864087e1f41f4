#include "backend/cpu_bf16.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(VN_NO_CLONES)
#  define VN_BF16_NATIVE 1
#  include <immintrin.h>
#else
#  define VN_BF16_NATIVE 0
#endif

/* Below this many elements a second thread costs more than it saves: one core converts
 * 128K values in about 30 us, a few times what starting and joining a team costs. */
#define PAR_MIN 131072
/* Work items are row pieces of at most this many elements, so that a matrix of a few
 * long rows still spreads over the threads. */
#define CHUNK 8192

void vn_bf16_convert_portable(uint16_t *restrict dst, const float *restrict src, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        dst[i] = vn_bf16_bits(src[i]);
}

#if VN_BF16_NATIVE
/* 32 values per instruction; the tail through masked loads and stores, so that nothing
 * past the row is read or written. */
__attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16"))) static void
convert_avx512bf16(uint16_t *restrict dst, const float *restrict src, int64_t n)
{
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512 lo = _mm512_loadu_ps(src + i), hi = _mm512_loadu_ps(src + i + 16);
        _mm512_storeu_si512((void *)(dst + i), (__m512i)_mm512_cvtne2ps_pbh(hi, lo));
    }
    for (; i < n; i += 16) {
        int64_t left = n - i < 16 ? n - i : 16;
        __mmask16 m = (__mmask16)((1u << left) - 1u);
        __m256bh h = _mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, src + i));
        _mm256_mask_storeu_epi16((void *)(dst + i), m, (__m256i)h);
    }
}
#endif

int vn_bf16_convert_is_native(void)
{
#if VN_BF16_NATIVE
    return __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl");
#else
    return 0;
#endif
}

void vn_bf16_convert(uint16_t *dst, const float *src, int64_t n)
{
#if VN_BF16_NATIVE
    if (vn_bf16_convert_is_native()) {
        convert_avx512bf16(dst, src, n);
        return;
    }
#endif
    vn_bf16_convert_portable(dst, src, n);
}

static int64_t job_items(const vn_bf16_pack_job *j)
{
    return j->rows > 0 && j->cols > 0 ? j->nb * j->rows * ((j->cols + CHUNK - 1) / CHUNK) : 0;
}

void vn_bf16_pack(int n_threads, const vn_bf16_pack_job *jobs, int n_jobs)
{
    int64_t items = 0, elems = 0;
    for (int q = 0; q < n_jobs; q++) {
        items += job_items(&jobs[q]);
        elems += jobs[q].nb * jobs[q].rows * jobs[q].cols;
    }
    const int native = vn_bf16_convert_is_native();
#pragma omp parallel for num_threads(n_threads) schedule(static) if (elems >= PAR_MIN && n_threads > 1)
    for (int64_t it = 0; it < items; it++) {
        int64_t rest = it;
        int q = 0;
        while (rest >= job_items(&jobs[q]))
            rest -= job_items(&jobs[q++]);
        const vn_bf16_pack_job *j = &jobs[q];
        int64_t per_row = (j->cols + CHUNK - 1) / CHUNK;
        int64_t row = rest / per_row, c0 = rest % per_row * CHUNK;
        int64_t b = row / j->rows, i = row % j->rows;
        int64_t len = j->cols - c0 < CHUNK ? j->cols - c0 : CHUNK;
        const float *s = j->src + b * j->stride + i * j->ld + c0;
        uint16_t *d = j->dst + row * j->cols + c0;
#if VN_BF16_NATIVE
        if (native) {
            convert_avx512bf16(d, s, len);
            continue;
        }
#endif
        (void)native;
        vn_bf16_convert_portable(d, s, len);
    }
}
