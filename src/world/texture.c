/*
 * Static background textures: a dark base colour with two octaves of periodic value
 * noise, tinted per channel.
 *
 * The lattice values are i.i.d. and symmetric, the interpolation kernel (smoothstep) is
 * symmetric, and each octave's lattice phase is uniform over a cell: together these
 * make the texture's distribution invariant under vertical and horizontal mirroring,
 * so that a mirrored scene (gravity up against gravity down) cannot be told apart by
 * its background. The texture is periodic with the frame, so camera jitter wraps it.
 */
#include "world/world_internal.h"

#include <math.h>
#include <string.h>

#define MAX_CELLS 16

typedef struct octave {
    int g;                         /* lattice cells per side */
    float v[MAX_CELLS][MAX_CELLS]; /* lattice values in [-1, 1] */
    float phase_x, phase_y;        /* in cells, uniform in [0, 1) */
    float amp;
} octave;

static void octave_init(vn_rng *r, octave *o, int g, float amp)
{
    o->g = g;
    o->amp = amp;
    o->phase_x = (float)vn_rng_uniform(r);
    o->phase_y = (float)vn_rng_uniform(r);
    for (int i = 0; i < g; i++)
        for (int j = 0; j < g; j++)
            o->v[i][j] = (float)(2.0 * vn_rng_uniform(r) - 1.0);
}

/* Lattice cell and smoothstep weight of pixel p along one axis. */
static void axis_weights(int S, int g, float phase, int p, int *i0, int *i1, float *w)
{
    float u = ((float)p + 0.5f) / (float)S * (float)g + phase;
    int k = (int)u; /* u >= 0 */
    float f = u - (float)k;
    *i0 = k % g;
    *i1 = (k + 1) % g;
    *w = f * f * (3.0f - 2.0f * f);
}

void vnw_texture(const vn_world *w, vn_world_task task, int64_t index, uint8_t *tex)
{
    const int S = w->o.size, C = w->o.channels;
    vn_rng r;
    vnw_stream(&r, w->o.seed, task, index, VNW_STREAM_TEXTURE);
    /* A dark, muted base: objects have luma >= 0.45, backgrounds stay below 0.4. */
    float base[3];
    for (int tries = 0;; tries++) {
        for (int c = 0; c < 3; c++)
            base[c] = (float)vnw_uniform(&r, 0.02, 0.5);
        float luma = 0.299f * base[0] + 0.587f * base[1] + 0.114f * base[2];
        if ((luma >= 0.06f && luma <= 0.3f) || tries >= 64)
            break;
    }
    float tint[3];
    for (int c = 0; c < 3; c++)
        tint[c] = (float)vnw_uniform(&r, 0.5, 1.5);
    octave oct[2];
    int g1 = 2 + (int)vn_rng_below(&r, 5);
    float a1 = (float)vnw_uniform(&r, 0.03, 0.09);
    octave_init(&r, &oct[0], g1, a1);
    octave_init(&r, &oct[1], 2 * g1 + (int)vn_rng_below(&r, 3), a1 * (float)vnw_uniform(&r, 0.3, 0.7));

    float b[3];
    if (C == 1) {
        b[0] = 0.299f * base[0] + 0.587f * base[1] + 0.114f * base[2];
        tint[0] = 0.299f * tint[0] + 0.587f * tint[1] + 0.114f * tint[2];
    } else {
        memcpy(b, base, sizeof b);
    }
    if (!w->o.textured) {
        for (int p = 0; p < S * S; p++)
            for (int c = 0; c < C; c++)
                tex[(size_t)p * (size_t)C + (size_t)c] = (uint8_t)(b[c] * 255.0f + 0.5f);
        return;
    }
    /* Column weights once per octave; rows as they come. S <= 256. */
    int cx0[2][256], cx1[2][256];
    float cw[2][256];
    for (int k = 0; k < 2; k++)
        for (int x = 0; x < S; x++)
            axis_weights(S, oct[k].g, oct[k].phase_x, x, &cx0[k][x], &cx1[k][x], &cw[k][x]);
    for (int y = 0; y < S; y++) {
        int ry0[2], ry1[2];
        float rw[2];
        for (int k = 0; k < 2; k++)
            axis_weights(S, oct[k].g, oct[k].phase_y, y, &ry0[k], &ry1[k], &rw[k]);
        uint8_t *row = tex + (size_t)y * (size_t)S * (size_t)C;
        for (int x = 0; x < S; x++) {
            float n = 0.0f;
            for (int k = 0; k < 2; k++) {
                const octave *o = &oct[k];
                float top = o->v[ry0[k]][cx0[k][x]] + (o->v[ry0[k]][cx1[k][x]] - o->v[ry0[k]][cx0[k][x]]) * cw[k][x];
                float bot = o->v[ry1[k]][cx0[k][x]] + (o->v[ry1[k]][cx1[k][x]] - o->v[ry1[k]][cx0[k][x]]) * cw[k][x];
                n += o->amp * (top + (bot - top) * rw[k]);
            }
            for (int c = 0; c < C; c++) {
                float v = (b[c] + n * tint[c]) * 255.0f + 0.5f;
                row[(size_t)x * (size_t)C + (size_t)c] = (uint8_t)(v < 0.0f ? 0.0f : v > 255.0f ? 255.0f : v);
            }
        }
    }
}
