/*
 * The anti-aliased rasteriser: coverage-weighted blending of discs and boxes onto
 * 8-bit frames, inside each shape's bounding box only.
 *
 * Disc coverage uses the signed distance to the edge linearised in d^2,
 * (r^2 - d^2) / 2r + 1/2, which is exact to first order where coverage is fractional
 * (d close to r) and needs no square root per pixel. Box coverage is separable: the
 * product of the covered fractions of a pixel's column and row.
 */
#include "world/world_internal.h"

#include <math.h>

/* Discs smaller than this (in pixels) would flicker in and out between frames. */
#define MIN_RADIUS_PX 0.75f

static inline uint8_t blend(uint8_t p, float c, float a)
{
    float v = (float)p + (c - (float)p) * a;
    return (uint8_t)(v + 0.5f);
}

void vnw_draw_disc(uint8_t *buf, int S, int C, float cx, float cy, float r, const float *col, float alpha)
{
    if (r < MIN_RADIUS_PX)
        r = MIN_RADIUS_PX;
    float reach = r + 0.5f;
    int x0 = (int)floorf(cx - reach), x1 = (int)ceilf(cx + reach);
    int y0 = (int)floorf(cy - reach), y1 = (int)ceilf(cy + reach);
    if (x0 < 0)
        x0 = 0;
    if (y0 < 0)
        y0 = 0;
    if (x1 > S)
        x1 = S;
    if (y1 > S)
        y1 = S;
    if (x0 >= x1 || y0 >= y1 || alpha <= 0.0f)
        return;
    float r2 = r * r, inv2r = 0.5f / r;
    for (int y = y0; y < y1; y++) {
        float dy = (float)y + 0.5f - cy;
        float dy2 = dy * dy;
        uint8_t *row = buf + ((size_t)y * (size_t)S + (size_t)x0) * (size_t)C;
        for (int x = x0; x < x1; x++, row += C) {
            float dx = (float)x + 0.5f - cx;
            float cov = (r2 - dx * dx - dy2) * inv2r + 0.5f;
            if (cov <= 0.0f)
                continue;
            float a = (cov < 1.0f ? cov : 1.0f) * alpha;
            for (int c = 0; c < C; c++)
                row[c] = blend(row[c], col[c], a);
        }
    }
}

/* Covered fraction of the unit cells [i, i+1) by the interval [a, b), for i in [lo, hi). */
static void span_cover(float a, float b, int lo, int hi, float *out)
{
    for (int i = lo; i < hi; i++) {
        float l = a > (float)i ? a : (float)i;
        float h = b < (float)(i + 1) ? b : (float)(i + 1);
        float v = h - l;
        out[i - lo] = v > 0.0f ? v : 0.0f;
    }
}

void vnw_draw_box(uint8_t *buf, int S, int C, float x0, float y0, float x1, float y1, const float *col, float alpha)
{
    /* Keep thin boxes at least a pixel wide for the same reason as tiny discs. */
    if (x1 - x0 < 1.0f) {
        float m = 0.5f * (x0 + x1);
        x0 = m - 0.5f;
        x1 = m + 0.5f;
    }
    if (y1 - y0 < 1.0f) {
        float m = 0.5f * (y0 + y1);
        y0 = m - 0.5f;
        y1 = m + 0.5f;
    }
    int ix0 = (int)floorf(x0), ix1 = (int)ceilf(x1), iy0 = (int)floorf(y0), iy1 = (int)ceilf(y1);
    if (ix0 < 0)
        ix0 = 0;
    if (iy0 < 0)
        iy0 = 0;
    if (ix1 > S)
        ix1 = S;
    if (iy1 > S)
        iy1 = S;
    if (ix0 >= ix1 || iy0 >= iy1 || alpha <= 0.0f)
        return;
    float cx[256], cy[256];
    span_cover(x0, x1, ix0, ix1, cx);
    span_cover(y0, y1, iy0, iy1, cy);
    for (int y = iy0; y < iy1; y++) {
        float ay = cy[y - iy0] * alpha;
        uint8_t *row = buf + ((size_t)y * (size_t)S + (size_t)ix0) * (size_t)C;
        for (int x = ix0; x < ix1; x++, row += C) {
            float a = cx[x - ix0] * ay;
            for (int c = 0; c < C; c++)
                row[c] = blend(row[c], col[c], a);
        }
    }
}

static void colour_of(const vnw_obj *o, int C, float *col)
{
    if (C == 1) {
        col[0] = 0.299f * o->rgb[0] + 0.587f * o->rgb[1] + 0.114f * o->rgb[2];
    } else {
        for (int c = 0; c < 3; c++)
            col[c] = (float)o->rgb[c];
    }
}

static void draw_at(uint8_t *buf, int S, int C, const vnw_obj *o, float px, float py, const float *col)
{
    float fs = (float)S;
    if (o->shape == VNW_DISC)
        vnw_draw_disc(buf, S, C, px, py, o->hx * fs, col, o->alpha);
    else
        vnw_draw_box(buf, S, C, px - o->hx * fs, py - o->hy * fs, px + o->hx * fs, py + o->hy * fs, col, o->alpha);
}

void vnw_draw_obj(uint8_t *buf, int S, int C, const vnw_obj *o, int torus, float shift_x, float shift_y)
{
    if (o->alpha <= 0.0f)
        return;
    float col[3];
    colour_of(o, C, col);
    float fs = (float)S;
    float px = o->x * fs + shift_x, py = o->y * fs + shift_y;
    if (!torus) {
        draw_at(buf, S, C, o, px, py, col);
        return;
    }
    /* On a torus an object near an edge shows on the other side too; also wrap the
     * jitter shift so that the copy that matters is always among the nine. */
    float ex = o->hx * fs + 1.0f, ey = o->hy * fs + 1.0f;
    px = fmodf(px, fs);
    py = fmodf(py, fs);
    if (px < 0.0f)
        px += fs;
    if (py < 0.0f)
        py += fs;
    for (int oy = -1; oy <= 1; oy++) {
        float qy = py + (float)oy * fs;
        if (qy + ey < 0.0f || qy - ey > fs)
            continue;
        for (int ox = -1; ox <= 1; ox++) {
            float qx = px + (float)ox * fs;
            if (qx + ex < 0.0f || qx - ex > fs)
                continue;
            draw_at(buf, S, C, o, qx, qy, col);
        }
    }
}
