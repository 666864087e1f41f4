/*
 * From a simulated scene to the caller's tensor: background (shifted by the camera
 * jitter), objects, pixel noise, then the uint8 or normalised float32 layout.
 *
 * Every output frame is first an 8-bit image, so float output is exactly the
 * normalised uint8 output, as it would be for a decoded video.
 */
#include "world/world_internal.h"

#include <math.h>
#include <string.h>

/* The per-byte loops below are table lookups: with AVX-512 they run as 16-lane gathers
 * (GCC's own vectorisation of them extracts and inserts one lane at a time); elsewhere
 * as plain loops. Both give the same bytes and floats. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#  define VNW_AVX512 1
#  include <immintrin.h>
#  define AVX512_TARGET __attribute__((target("avx512f,avx512bw")))
#else
#  define VNW_AVX512 0
#endif

static int use_avx512(void)
{
#if VNW_AVX512
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
#else
    return 0;
#endif
}

/* buf[i] += table[idx[i]], clamped to 0..255. */
static void add_table_plain(uint8_t *restrict buf, const int32_t *restrict table, const uint16_t *restrict idx,
                            size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int v = (int)buf[i] + table[idx[i]];
        buf[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
}

#if VNW_AVX512
AVX512_TARGET static void add_table_avx512(uint8_t *restrict buf, const int32_t *restrict table,
                                           const uint16_t *restrict idx, size_t n)
{
    size_t i = 0;
    const __m512i zero = _mm512_setzero_si512();
    for (; i + 16 <= n; i += 16) {
        __m512i k = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(idx + i)));
        __m512i v = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(buf + i)));
        v = _mm512_max_epi32(_mm512_add_epi32(v, _mm512_i32gather_epi32(k, table, 4)), zero);
        /* the unsigned saturating narrowing clamps at 255 */
        _mm_storeu_si128((__m128i *)(buf + i), _mm512_cvtusepi32_epi8(v));
    }
    add_table_plain(buf + i, table, idx + i, n - i);
}
#endif

/* Byte i gets the table entry of a 12-bit field of draw i / 5 (low bits first). The
 * fields are drawn into a piece of indices first, so that the adds run as one vector
 * loop; pieces are whole draws, so every byte gets the field it always got. */
#define NOISE_PIECE 1280
static void add_noise(const int32_t *table, vn_rng *r, uint8_t *buf, size_t n)
{
    uint16_t idx[NOISE_PIECE];
    const int wide = use_avx512();
    for (size_t i0 = 0; i0 < n; i0 += NOISE_PIECE) {
        size_t len = n - i0 < NOISE_PIECE ? n - i0 : NOISE_PIECE;
        size_t i = 0;
        for (; i + 5 <= len; i += 5) {
            uint64_t bits = vn_rng_next(r);
            for (int k = 0; k < 5; k++)
                idx[i + (size_t)k] = (uint16_t)(bits >> (12 * k) & (VNW_NOISE_TABLE - 1));
        }
        if (i < len) {
            uint64_t bits = vn_rng_next(r);
            for (; i < len; i++, bits >>= 12)
                idx[i] = (uint16_t)(bits & (VNW_NOISE_TABLE - 1));
        }
#if VNW_AVX512
        if (wide) {
            add_table_avx512(buf + i0, table, idx, len);
            continue;
        }
#endif
        (void)wide;
        add_table_plain(buf + i0, table, idx, len);
    }
}

/* Copy the periodic texture shifted by (jx, jy) whole pixels. */
static void background(const uint8_t *tex, int S, int C, int jx, int jy, uint8_t *buf)
{
    size_t row_bytes = (size_t)S * (size_t)C;
    int sx = ((jx % S) + S) % S; /* destination column of source column 0 */
    for (int y = 0; y < S; y++) {
        int src_y = (((y - jy) % S) + S) % S;
        const uint8_t *src = tex + (size_t)src_y * row_bytes;
        uint8_t *dst = buf + (size_t)y * row_bytes;
        size_t head = (size_t)sx * (size_t)C;
        memcpy(dst + head, src, row_bytes - head);
        memcpy(dst, src + row_bytes - head, head);
    }
}

static int jitter_draw(vn_rng *r, float jitter)
{
    return (int)lrint(vnw_uniform(r, -(double)jitter, (double)jitter));
}

/* Is frame t of a uint8 [n, S, S, C] view one contiguous S*S*C block? */
static int u8_frame_contiguous(const vn_tensor *out, int S, int C)
{
    return out->strides[3] == 1 && out->strides[2] == C && out->strides[1] == (int64_t)S * C;
}

static void write_u8(const uint8_t *buf, int S, int C, const vn_tensor *out, int t)
{
    uint8_t *base = (uint8_t *)out->data + t * out->strides[0];
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++)
            for (int c = 0; c < C; c++)
                base[y * out->strides[1] + x * out->strides[2] + c * out->strides[3]] =
                    buf[((size_t)y * (size_t)S + (size_t)x) * (size_t)C + (size_t)c];
}

/* One row of S RGB pixels into three planes, through each channel's table. */
static void row_rgb_plain(float *restrict d0, float *restrict d1, float *restrict d2, const uint8_t *restrict s,
                          const float *restrict l0, const float *restrict l1, const float *restrict l2, int S)
{
    for (int x = 0; x < S; x++) {
        d0[x] = l0[s[3 * x]];
        d1[x] = l1[s[3 * x + 1]];
        d2[x] = l2[s[3 * x + 2]];
    }
}

#if VNW_AVX512
/* 16 pixels at a time: their 48 bytes widened to dwords (a, b, c), each channel's 16
 * picked out with two two-source permutes, then looked up with a gather. */
AVX512_TARGET static void row_rgb_avx512(float *restrict d0, float *restrict d1, float *restrict d2,
                                         const uint8_t *restrict s, const float *restrict l0,
                                         const float *restrict l1, const float *restrict l2, int S)
{
    float *const dst[3] = {d0, d1, d2};
    const float *const lut[3] = {l0, l1, l2};
    /* channel ch of pixel j is dword 3j + ch of a:b:c; a:b holds the pixels j < in_ab */
    __m512i sel_ab[3], sel_c[3];
    for (int ch = 0; ch < 3; ch++) {
        int in_ab = (32 - ch + 2) / 3, ab[16], c[16];
        for (int j = 0; j < 16; j++) {
            ab[j] = j < in_ab ? 3 * j + ch : 0;
            c[j] = j < in_ab ? j : 16 + 3 * j + ch - 32;
        }
        sel_ab[ch] = _mm512_loadu_si512(ab);
        sel_c[ch] = _mm512_loadu_si512(c);
    }
    int x = 0;
    for (; x + 16 <= S; x += 16) {
        const uint8_t *p = s + 3 * x;
        __m512i a = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)p));
        __m512i b = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(p + 16)));
        __m512i c = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(p + 32)));
        for (int ch = 0; ch < 3; ch++) {
            __m512i k = _mm512_permutex2var_epi32(_mm512_permutex2var_epi32(a, sel_ab[ch], b), sel_c[ch], c);
            _mm512_storeu_ps(dst[ch] + x, _mm512_i32gather_ps(k, lut[ch], 4));
        }
    }
    row_rgb_plain(d0 + x, d1 + x, d2 + x, s + 3 * x, l0, l1, l2, S - x);
}
#endif

static void row_rgb(int wide, float *d0, float *d1, float *d2, const uint8_t *s, const float *l0, const float *l1,
                    const float *l2, int S)
{
#if VNW_AVX512
    if (wide) {
        row_rgb_avx512(d0, d1, d2, s, l0, l1, l2, S);
        return;
    }
#endif
    (void)wide;
    row_rgb_plain(d0, d1, d2, s, l0, l1, l2, S);
}

static void write_f32(const vn_world *w, const uint8_t *buf, int S, int C, const vn_tensor *out, int t)
{
    if (C == 3 && out->strides[3] == 1) {
        float *base = (float *)out->data + t * out->strides[1];
        const int wide = use_avx512();
        for (int y = 0; y < S; y++) {
            float *d = base + y * out->strides[2];
            row_rgb(wide, d, d + out->strides[0], d + 2 * out->strides[0], buf + (size_t)y * (size_t)S * 3, w->lut[0],
                    w->lut[1], w->lut[2], S);
        }
        return;
    }
    for (int c = 0; c < C; c++) {
        const float *lut = w->lut[c];
        float *base = (float *)out->data + c * out->strides[0] + t * out->strides[1];
        const uint8_t *src = buf + c;
        if (out->strides[3] == 1) {
            for (int y = 0; y < S; y++) {
                float *dst = base + y * out->strides[2];
                const uint8_t *s = src + (size_t)y * (size_t)S * (size_t)C;
                for (int x = 0; x < S; x++)
                    dst[x] = lut[s[(size_t)x * (size_t)C]];
            }
        } else {
            for (int y = 0; y < S; y++)
                for (int x = 0; x < S; x++)
                    base[y * out->strides[2] + x * out->strides[3]] =
                        lut[src[((size_t)y * (size_t)S + (size_t)x) * (size_t)C]];
        }
    }
}

void vnw_render(const vn_world *w, const vnw_scene *sc, const uint8_t *tex, const int *map, int n,
                const vn_tensor *out, vn_rng *r, uint8_t *scratch)
{
    const int S = w->o.size, C = w->o.channels;
    const size_t frame_bytes = (size_t)S * (size_t)S * (size_t)C;
    const int direct = out->dtype == VN_DTYPE_U8 && u8_frame_contiguous(out, S, C);
    for (int t = 0; t < n; t++) {
        int src = map[t];
        int jx = 0, jy = 0;
        if (w->o.jitter > 0.0f) {
            jx = jitter_draw(r, w->o.jitter);
            jy = jitter_draw(r, w->o.jitter);
        }
        uint8_t *buf = direct ? (uint8_t *)out->data + t * out->strides[0] : scratch;
        background(tex, S, C, jx, jy, buf);
        for (int i = 0; i < sc->n_obj; i++)
            vnw_draw_obj(buf, S, C, vnw_at(sc, src, i), sc->torus, (float)jx, (float)jy);
        if (w->o.noise > 0.0f)
            add_noise(w->noise_table, r, buf, frame_bytes);
        if (direct)
            continue;
        if (out->dtype == VN_DTYPE_U8)
            write_u8(buf, S, C, out, t);
        else
            write_f32(w, buf, S, C, out, t);
    }
}
