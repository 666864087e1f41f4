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

static void add_noise(const int16_t *table, vn_rng *r, uint8_t *buf, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint64_t bits = vn_rng_next(r);
        for (int k = 0; k < 5 && i < n; k++, i++) {
            int v = (int)buf[i] + table[bits & (VNW_NOISE_TABLE - 1)];
            bits >>= 12;
            buf[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
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

static void write_f32(const vn_world *w, const uint8_t *buf, int S, int C, const vn_tensor *out, int t)
{
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
