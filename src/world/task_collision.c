/*
 * The collision task: A slides toward B, which is at rest. Causal clips (label 1): B
 * starts moving at the instant of contact with the velocity an elastic collision gives
 * it (masses proportional to area). Acausal clips (label 0), one of:
 *   early      B leaves before A arrives, and A still changes velocity where contact
 *              would have been;
 *   delay      A arrives and stops or rebounds, and B starts only later;
 *   no contact A stops short of B, and B starts anyway.
 * Both classes draw everything else (shapes, colours, speeds, layout, distractors)
 * from the same stream with the same distribution, and every variant moves A and B
 * with the same speeds over the same kind of paths, so frames differ only in when
 * things happen relative to each other. The layout reserves room for the no-contact
 * gap in every clip, so that it does not depend on the label either.
 */
#include "world/world_internal.h"

#include <string.h>

enum { CAUSAL, EARLY, DELAY, NO_CONTACT };
static const char *const variant_names[] = {"causal", "early", "delay", "no contact"};

#define MARGIN 0.02f
#define MAX_DISTRACTORS 2

typedef struct axis_map {
    int along_x; /* motion along x (else y) */
    int flip;    /* towards decreasing coordinates */
} axis_map;

static void to_world(axis_map a, float s, float l, float vs, vnw_obj *o)
{
    float c = a.flip ? 1.0f - s : s, v = a.flip ? -vs : vs;
    if (a.along_x) {
        o->x = c;
        o->y = l;
        o->vx = v;
        o->vy = 0.0f;
    } else {
        o->y = c;
        o->x = l;
        o->vy = v;
        o->vx = 0.0f;
    }
}

static float area_of(uint8_t shape, float hx, float hy)
{
    return shape == VNW_DISC ? 3.14159265f * hx * hx : 4.0f * hx * hy;
}

vn_status vnw_task_collision(const vn_world *w, int64_t index, int label, vnw_scene *sc)
{
    vn_rng r;
    vnw_stream(&r, w->o.seed, VN_TASK_COLLISION, index, VNW_STREAM_SCENE);
    int dir = (int)vn_rng_below(&r, 4);
    axis_map ax = {dir < 2, dir & 1};
    uint8_t shape[2], rgb[2][3];
    float hx[2], hy[2];
    for (int k = 0; k < 2; k++) {
        vnw_object_shape(&r, 1.0f, &shape[k], &hx[k], &hy[k]);
        vnw_object_colour(&r, rgb[k]);
    }
    float eA = ax.along_x ? hx[0] : hy[0], eB = ax.along_x ? hx[1] : hy[1];
    float latA = ax.along_x ? hy[0] : hx[0], latB = ax.along_x ? hy[1] : hx[1];
    float lat = latA > latB ? latA : latB;
    float mA = area_of(shape[0], hx[0], hy[0]), mB = area_of(shape[1], hx[1], hy[1]);
    float u = (float)vnw_uniform(&r, 0.5, 1.0);
    float t_c = (float)vnw_uniform(&r, 0.3, 0.55);
    float delta = (float)vnw_uniform(&r, 0.15, 0.3);
    float gap = (float)vnw_uniform(&r, 0.05, 0.1);
    /* Room along the axis: A's start, its run-up, B and the gap all inside the frame. */
    float lo = MARGIN + 2.0f * eA + eB + u * t_c, hi = 1.0f - MARGIN - eB - gap;
    if (lo > hi - 0.02f) {
        u = (hi - 0.02f - MARGIN - 2.0f * eA - eB) / t_c;
        lo = hi - 0.02f;
    }
    float sB0 = (float)vnw_uniform(&r, lo, hi);
    float l = (float)vnw_uniform(&r, MARGIN + lat, 1.0 - MARGIN - lat);

    /* Static distractors beside the lane A and B share. */
    int nd = (int)vn_rng_below(&r, MAX_DISTRACTORS + 1), placed = 0;
    vnw_obj dis[MAX_DISTRACTORS];
    memset(dis, 0, sizeof dis);
    for (int k = 0; k < nd; k++) {
        vnw_obj *o = &dis[placed];
        vnw_object_shape(&r, 0.8f, &o->shape, &o->hx, &o->hy);
        vnw_object_colour(&r, o->rgb);
        float olat = ax.along_x ? o->hy : o->hx;
        for (int tries = 0; tries < 50; tries++) {
            float x = (float)vnw_uniform(&r, o->hx + MARGIN, 1.0 - o->hx - MARGIN);
            float y = (float)vnw_uniform(&r, o->hy + MARGIN, 1.0 - o->hy - MARGIN);
            float ol = ax.along_x ? y : x;
            float d = ol > l ? ol - l : l - ol;
            if (d < lat + olat + 0.02f)
                continue;
            int clash = 0;
            for (int q = 0; q < placed; q++) {
                float dx = x - dis[q].x, dy = y - dis[q].y;
                if ((dx < 0 ? -dx : dx) < o->hx + dis[q].hx + 0.02f && (dy < 0 ? -dy : dy) < o->hy + dis[q].hy + 0.02f)
                    clash = 1;
            }
            if (clash)
                continue;
            o->x = x;
            o->y = y;
            o->alpha = 1.0f;
            o->id = (uint8_t)(2 + placed);
            placed++;
            break;
        }
    }

    int variant = CAUSAL;
    if (!label) {
        vn_rng ev;
        vnw_stream(&ev, w->o.seed, VN_TASK_COLLISION, index, VNW_STREAM_EVENT);
        variant = 1 + (int)vn_rng_below(&ev, 3);
    }
    /* Elastic collision along the axis. */
    float vA = (mA - mB) / (mA + mB) * u, vB = 2.0f * mA / (mA + mB) * u;
    float sA_c = sB0 - eA - eB, sB = sB0, t_B = t_c;
    if (variant == EARLY)
        t_B = t_c - delta;
    else if (variant == DELAY)
        t_B = t_c + delta;
    else if (variant == NO_CONTACT)
        sB = sB0 + gap;

    const int T = w->o.n_frames;
    vn_status s = vnw_scene_alloc(sc, T, 2 + placed, T);
    if (s != VN_OK)
        return s;
    for (int f = 0; f < T; f++) {
        float tau = (float)f / (float)(T - 1);
        float a_s, a_v, b_s, b_v;
        if (tau < t_c) {
            a_s = sA_c - u * (t_c - tau);
            a_v = u;
        } else if (variant == DELAY && vA > 0.0f) {
            /* A cannot push into a B that has not moved yet: it waits against B. */
            float run = tau > t_B ? tau - t_B : 0.0f;
            a_s = sA_c + vA * run;
            a_v = tau > t_B ? vA : 0.0f;
        } else {
            a_s = sA_c + vA * (tau - t_c);
            a_v = vA;
        }
        if (tau < t_B) {
            b_s = sB;
            b_v = 0.0f;
        } else {
            b_s = sB + vB * (tau - t_B);
            b_v = vB;
        }
        float ls[2] = {l, l}, ss[2] = {a_s, b_s}, vs[2] = {a_v, b_v};
        for (int k = 0; k < 2; k++) {
            vnw_obj *o = vnw_at(sc, f, k);
            to_world(ax, ss[k], ls[k], vs[k], o);
            o->hx = hx[k];
            o->hy = hy[k];
            o->alpha = 1.0f;
            o->shape = shape[k];
            o->id = (uint8_t)k;
            memcpy(o->rgb, rgb[k], 3);
        }
        for (int k = 0; k < placed; k++)
            *vnw_at(sc, f, 2 + k) = dis[k];
        if (sc->event_frame < 0 && tau >= t_c)
            sc->event_frame = f;
    }
    sc->scenario = "a hits b";
    sc->variant = variant_names[variant];
    vnw_scene_param(sc, "mass_a", mA);
    vnw_scene_param(sc, "mass_b", mB);
    vnw_scene_param(sc, "speed", u);
    vnw_scene_param(sc, "contact_time", t_c);
    vnw_scene_param(sc, "b_start_time", t_B);
    vnw_scene_param(sc, "gap", variant == NO_CONTACT ? gap : 0.0);
    vnw_scene_param(sc, "axis", dir);
    return VN_OK;
}
