/*
 * Intuitive physics: an elastic gas on a torus with a pair of objects set on a
 * collision course, so that every clip has a collision in its middle half. Plausible
 * clips (label 1) are simulated as they are. Implausible ones (label 0) break one rule
 * once, at a random moment of the middle half:
 *   teleport     an object vanishes and reappears elsewhere, moving on as before;
 *   colour       an object's colour changes;
 *   pass through the colliding pair passes through each other instead of bouncing.
 * Why frames do not tell: a gas keeps positions uniform over layouts, a teleport lands
 * on a uniformly drawn free spot, and a new colour is drawn from the same distribution
 * as every colour, so a single frame of an implausible clip is distributed like one of
 * a plausible clip. The exception is passing through, whose few overlapping frames are
 * the event itself; docs/WORLD.md reports what the shortcut test measures.
 */
#include "world/world_internal.h"

#include <math.h>
#include <string.h>

enum { PLAUSIBLE, TELEPORT, COLOUR, PASS_THROUGH };
static const char *const variant_names[] = {"plausible", "teleport", "colour change", "pass through"};

#define MAX_TRIES 20

/* Put bodies 0 and 1 on a head-on course that meets at clip time t_hit. */
static void aim_pair(vn_rng *r, vnw_cast *cast, float t_hit)
{
    vnw_body *a = &cast->p.b[0], *b = &cast->p.b[1];
    float nx, ny;
    if (a->shape == VNW_DISC && b->shape == VNW_DISC) {
        double ang = 6.283185307179586 * vn_rng_uniform(r);
        nx = (float)cos(ang);
        ny = (float)sin(ang);
    } else {
        /* Boxes meet face on, along an axis. */
        int k = (int)vn_rng_below(r, 4);
        nx = k == 0 ? 1.0f : k == 1 ? -1.0f : 0.0f;
        ny = k == 2 ? 1.0f : k == 3 ? -1.0f : 0.0f;
    }
    float ea = nx != 0.0f && ny == 0.0f ? a->hx : ny != 0.0f && nx == 0.0f ? a->hy : a->hx;
    float eb = nx != 0.0f && ny == 0.0f ? b->hx : ny != 0.0f && nx == 0.0f ? b->hy : b->hx;
    float px = (float)vn_rng_uniform(r), py = (float)vn_rng_uniform(r);
    float v = (float)vnw_uniform(r, 0.3, 0.6);
    /* Closing from less than half the world apart, so that they meet head on and not
     * round the back of the torus. */
    if (2.0f * v * t_hit > 0.45f)
        v = 0.45f / (2.0f * t_hit);
    double da = 6.283185307179586 * vn_rng_uniform(r);
    float dx = 0.15f * (float)cos(da), dy = 0.15f * (float)sin(da); /* a common drift */
    a->vx = v * nx + dx;
    a->vy = v * ny + dy;
    b->vx = -v * nx + dx;
    b->vy = -v * ny + dy;
    /* Contact at t_hit: centres ea + eb apart along the normal, around (px, py). */
    float ax = px - nx * ea, ay = py - ny * ea, bx = px + nx * eb, by = py + ny * eb;
    a->x = vnw_wrap01(ax - a->vx * t_hit);
    a->y = vnw_wrap01(ay - a->vy * t_hit);
    b->x = vnw_wrap01(bx - b->vx * t_hit);
    b->y = vnw_wrap01(by - b->vy * t_hit);
}

/* A gas whose first two bodies are aimed at each other; the others are placed where
 * they do not overlap the pair's starting spots. */
static void setup(vn_rng *r, vnw_cast *cast, float t_hit)
{
    int n = 2 + (int)vn_rng_below(r, 3);
    vnw_gas_setup(r, n, (float)vnw_uniform(r, 0.2, 0.5), cast);
    if (cast->p.n < 2)
        return;
    aim_pair(r, cast, t_hit);
    int kept = 2;
    for (int i = 2; i < cast->p.n; i++) {
        int clash = vnw_overlap(&cast->p.b[i], &cast->p.b[0], 1, 0.01f) ||
                    vnw_overlap(&cast->p.b[i], &cast->p.b[1], 1, 0.01f);
        if (clash)
            continue;
        cast->p.b[kept] = cast->p.b[i];
        memcpy(cast->rgb[kept], cast->rgb[i], 3);
        kept++;
    }
    cast->p.n = kept;
}

typedef struct plan {
    int variant;
    int event_frame; /* first frame that shows the change */
    int who;         /* teleport, colour: the object */
    int pi, pj;      /* pass through: the pair */
    float tx, ty;    /* teleport destination */
    uint8_t rgb[3];  /* colour: the new colour */
} plan;

/* Simulate the whole clip, applying the plan; returns the first frame (within
 * [lo, hi]) in which a collision happened, or -1, and its pair. The aimed pair's
 * head-on collision is preferred over any other: undoing a grazing contact would
 * hardly show. */
static int simulate(const vn_world *w, vnw_cast start, const plan *pl, vnw_scene *sc, int lo, int hi, int *ci,
                    int *cj)
{
    vnw_cast c = start;
    const int T = w->o.n_frames;
    float dt = vnw_dt_frame(w);
    int ns = vnw_substeps(dt);
    float h = dt / (float)ns;
    int hit = -1, hit_any = -1, any_i = 0, any_j = 1, entered = 0;
    for (int f = 0; f < T; f++) {
        if (f > 0) {
            if (pl && pl->variant == PASS_THROUGH && f == pl->event_frame) {
                c.p.skip_i = pl->pi;
                c.p.skip_j = pl->pj;
            }
            for (int s = 0; s < ns; s++) {
                vnw_phys_step(&c.p, h);
                for (int e = 0; e < c.p.n_events && f >= lo && f <= hi; e++) {
                    const vnw_contact_event *ev = &c.p.events[e];
                    if (hit < 0 && ev->i == 0 && ev->j == 1)
                        hit = f;
                    if (hit_any < 0) {
                        hit_any = f;
                        any_i = ev->i;
                        any_j = ev->j;
                    }
                }
                if (c.p.skip_i >= 0) {
                    /* Pass through once: collide again after the pair has separated. */
                    int over = vnw_overlap(&c.p.b[c.p.skip_i], &c.p.b[c.p.skip_j], 1, 0.0f);
                    if (over)
                        entered = 1;
                    else if (entered)
                        c.p.skip_i = c.p.skip_j = -1;
                }
            }
            if (pl && pl->variant == TELEPORT && f == pl->event_frame) {
                c.p.b[pl->who].x = pl->tx;
                c.p.b[pl->who].y = pl->ty;
            }
        }
        if (sc) {
            vnw_record(sc, f, &c.p, c.rgb);
            if (pl && pl->variant == COLOUR && f >= pl->event_frame)
                memcpy(vnw_at(sc, f, pl->who)->rgb, pl->rgb, 3);
        }
    }
    if (hit >= 0) {
        *ci = 0;
        *cj = 1;
        return hit;
    }
    *ci = any_i;
    *cj = any_j;
    return hit_any;
}

vn_status vnw_task_intphys(const vn_world *w, int64_t index, int label, vnw_scene *sc)
{
    vn_rng r;
    vnw_stream(&r, w->o.seed, VN_TASK_INTPHYS, index, VNW_STREAM_SCENE);
    const int T = w->o.n_frames;
    int lo = (int)floorf(0.25f * (float)(T - 1)), hi = (int)ceilf(0.75f * (float)(T - 1));
    if (lo < 1)
        lo = 1;
    /* Every clip, whatever its label, must have a collision in its middle half: the
     * pass-through variant needs one, and conditioning only that variant on it would
     * make its scenes differ from the others. */
    vnw_cast cast;
    int ci = 0, cj = 1, hit = -1;
    for (int tries = 0; tries < MAX_TRIES && hit < 0; tries++) {
        setup(&r, &cast, (float)vnw_uniform(&r, 0.3, 0.7));
        if (cast.p.n >= 2 && !vnw_overlap(&cast.p.b[0], &cast.p.b[1], 1, 0.01f))
            hit = simulate(w, cast, NULL, NULL, lo, hi, &ci, &cj);
    }
    plan pl = {PLAUSIBLE, -1, 0, ci, cj, 0.0f, 0.0f, {0, 0, 0}};
    if (!label) {
        vn_rng ev;
        vnw_stream(&ev, w->o.seed, VN_TASK_INTPHYS, index, VNW_STREAM_EVENT);
        pl.variant = 1 + (int)vn_rng_below(&ev, 3);
        if (pl.variant == PASS_THROUGH && hit < 0)
            pl.variant = TELEPORT; /* no collision to undo: practically never */
        pl.event_frame = lo + (int)vn_rng_below(&ev, (uint64_t)(hi - lo + 1));
        pl.who = (int)vn_rng_below(&ev, (uint64_t)cast.p.n);
        vnw_object_colour(&ev, pl.rgb);
        if (pl.variant == PASS_THROUGH)
            pl.event_frame = hit;
        if (pl.variant == TELEPORT) {
            /* A free spot at the moment of the jump, from a plausible run up to it. */
            vnw_scene probe;
            vn_status s = vnw_scene_alloc(&probe, T, cast.p.n, T);
            if (s != VN_OK)
                return s;
            int a, b;
            simulate(w, cast, NULL, &probe, lo, hi, &a, &b);
            vnw_body cand = cast.p.b[pl.who];
            const vnw_obj *from = vnw_at(&probe, pl.event_frame, pl.who);
            pl.tx = vnw_wrap01(from->x + 0.5f);
            pl.ty = vnw_wrap01(from->y + 0.5f);
            for (int tries = 0; tries < 100; tries++) {
                cand.x = (float)vn_rng_uniform(&ev);
                cand.y = (float)vn_rng_uniform(&ev);
                /* A jump must be seen as one. Excluding a disc around the old spot keeps
                 * the destination uniform: on a torus the old spot is itself uniform. */
                float jx = vnw_wrap_delta(cand.x - from->x), jy = vnw_wrap_delta(cand.y - from->y);
                int clash = jx * jx + jy * jy < 0.2f * 0.2f;
                for (int i = 0; i < cast.p.n && !clash; i++) {
                    if (i == pl.who)
                        continue;
                    const vnw_obj *o = vnw_at(&probe, pl.event_frame, i);
                    vnw_body other = cast.p.b[i];
                    other.x = o->x;
                    other.y = o->y;
                    clash = vnw_overlap(&cand, &other, 1, 0.02f);
                }
                if (!clash) {
                    pl.tx = cand.x;
                    pl.ty = cand.y;
                    break;
                }
            }
            vnw_scene_free(&probe);
        }
    }
    vn_status s = vnw_scene_alloc(sc, T, cast.p.n, T);
    if (s != VN_OK)
        return s;
    sc->torus = 1;
    int a, b;
    simulate(w, cast, &pl, sc, lo, hi, &a, &b);
    sc->scenario = "gas with a collision";
    sc->variant = variant_names[pl.variant];
    sc->event_frame = pl.variant == PLAUSIBLE ? hit : pl.event_frame;
    if (pl.variant == TELEPORT || pl.variant == COLOUR)
        vnw_scene_param(sc, "object", pl.who);
    if (pl.variant == PASS_THROUGH) {
        vnw_scene_param(sc, "object", pl.pi);
        vnw_scene_param(sc, "other", pl.pj);
    }
    return VN_OK;
}
