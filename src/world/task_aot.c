/*
 * The arrow-of-time task: irreversible scenes, played forward (label 1) or reversed
 * (label 0). Both classes show exactly the same frames, only in opposite orders, so
 * the frame multiset of a clip does not depend on its label at all.
 *
 * Every scenario dissipates: motion dies out forward (bouncing with restitution < 1,
 * sliding against friction, drag on an exploding cluster, a dye front slowing down,
 * a body breaking and its pieces skidding to a stop). Reversed, things start moving by
 * themselves, which is what an arrow-of-time model has to notice.
 */
#include "world/world_internal.h"

#include <math.h>
#include <string.h>

enum { BOUNCE, SLIDE, DIFFUSE, DYE, BREAK, N_SCENARIOS };
static const char *const scenario_names[N_SCENARIOS] = {"bounce", "slide", "diffuse", "dye", "break"};

/* The shared end of every scenario: n objects of cast, simulated over the clip's frames. */
static vn_status simulate(const vn_world *w, vnw_cast *cast, int n, vnw_scene *sc)
{
    cast->p.n = n;
    vn_status s = vnw_scene_alloc(sc, w->o.n_frames, n, w->o.n_frames);
    if (s != VN_OK)
        return s;
    vnw_run(w, cast, sc, 0, sc->n_src);
    return VN_OK;
}

/* Objects dropped in separate vertical lanes, so that they never meet: the energy of
 * each falls at every floor contact and it comes to rest. */
static vn_status bounce(const vn_world *w, vn_rng *r, vnw_scene *sc)
{
    vnw_cast cast;
    vnw_phys_init(&cast.p);
    int n = 1 + (int)vn_rng_below(r, 4);
    float lane = 1.0f / (float)n;
    vnw_cast_appearance(r, &cast, n, n >= 3 ? 0.8f : 1.0f);
    float g = (float)vnw_uniform(r, 30.0, 60.0), e = (float)vnw_uniform(r, 0.45, 0.7);
    cast.p.gy = g;
    cast.p.wall_e = e;
    cast.p.rest_speed = 0.05f * g;
    for (int i = 0; i < n; i++) {
        vnw_body *b = &cast.p.b[i];
        b->solid = 0;
        /* Objects must fit their lane: shrink the wide ones. */
        float room = 0.5f * lane - 0.01f;
        if (b->hx > room)
            b->hx = room;
        if (b->shape == VNW_DISC)
            b->hy = b->hx;
        b->x = lane * ((float)i + (float)vnw_uniform(r, 0.0, 1.0) * (1.0f - 2.0f * b->hx / lane) + b->hx / lane);
        b->y = (float)vnw_uniform(r, b->hy + 0.02, 0.55);
        b->vy = (float)vnw_uniform(r, -2.0, 1.0);
    }
    vn_status s = simulate(w, &cast, n, sc);
    if (s != VN_OK)
        return s;
    vnw_scene_param(sc, "gravity", g);
    vnw_scene_param(sc, "restitution", e);
    return VN_OK;
}

/* Blocks and discs sliding against friction, bouncing off walls and each other with
 * losses, until they stop. */
static vn_status slide(const vn_world *w, vn_rng *r, vnw_scene *sc)
{
    vnw_cast cast;
    vnw_phys_init(&cast.p);
    int n = 1 + (int)vn_rng_below(r, 4);
    vnw_cast_appearance(r, &cast, n, 1.0f);
    float mu = (float)vnw_uniform(r, 1.5, 4.0), e = (float)vnw_uniform(r, 0.5, 0.9);
    cast.p.friction = mu;
    cast.p.wall_e = e;
    cast.p.obj_e = e;
    cast.p.collide = 1;
    n = vnw_place(r, cast.p.b, n, 0, 0.01f);
    for (int i = 0; i < n; i++) {
        /* Each stops (friction alone) somewhere in the middle half of the clip. */
        float speed = mu * (float)vnw_uniform(r, 0.3, 0.8);
        double a = 6.283185307179586 * vn_rng_uniform(r);
        cast.p.b[i].vx = speed * (float)cos(a);
        cast.p.b[i].vy = speed * (float)sin(a);
    }
    vn_status s = simulate(w, &cast, n, sc);
    if (s != VN_OK)
        return s;
    vnw_scene_param(sc, "friction", mu);
    vnw_scene_param(sc, "restitution", e);
    return VN_OK;
}

/* A tight cluster of particles flying apart against drag: it spreads and settles. */
static vn_status diffuse(const vn_world *w, vn_rng *r, vnw_scene *sc)
{
    vnw_cast cast;
    vnw_phys_init(&cast.p);
    int n = 16 + (int)vn_rng_below(r, 25);
    int n_colours = 1 + (int)vn_rng_below(r, 3);
    uint8_t palette[3][3];
    for (int k = 0; k < n_colours; k++)
        vnw_object_colour(r, palette[k]);
    float cx = (float)vnw_uniform(r, 0.3, 0.7), cy = (float)vnw_uniform(r, 0.3, 0.7);
    float drag = (float)vnw_uniform(r, 3.0, 6.0);
    float v0 = drag * (float)vnw_uniform(r, 0.12, 0.3); /* travels about v0 / drag */
    cast.p.drag = drag;
    cast.p.wall_e = 0.5f;
    for (int i = 0; i < n; i++) {
        vnw_body *b = &cast.p.b[i];
        b->shape = VNW_DISC;
        b->hx = b->hy = (float)vnw_uniform(r, 0.012, 0.022);
        b->inv_mass = 1.0f;
        double a = 6.283185307179586 * vn_rng_uniform(r), rad = 0.05 * sqrt(vn_rng_uniform(r));
        b->x = cx + (float)(rad * cos(a));
        b->y = cy + (float)(rad * sin(a));
        double va = 6.283185307179586 * vn_rng_uniform(r);
        float speed = v0 * (float)vnw_uniform(r, 0.3, 1.3);
        b->vx = speed * (float)cos(va);
        b->vy = speed * (float)sin(va);
        memcpy(cast.rgb[i], palette[vn_rng_below(r, (uint64_t)n_colours)], 3);
    }
    vn_status s = simulate(w, &cast, n, sc);
    if (s != VN_OK)
        return s;
    vnw_scene_param(sc, "drag", drag);
    return VN_OK;
}

/* Drops of dye spreading: the front slows exponentially while the dye thins out. */
static vn_status dye(const vn_world *w, vn_rng *r, vnw_scene *sc)
{
    int n = 1 + (int)vn_rng_below(r, 3);
    const int T = w->o.n_frames;
    vn_status s = vnw_scene_alloc(sc, T, n, T);
    if (s != VN_OK)
        return s;
    float k = (float)vnw_uniform(r, 3.0, 6.0);
    for (int i = 0; i < n; i++) {
        uint8_t rgb[3];
        vnw_object_colour(r, rgb);
        float x = (float)vnw_uniform(r, 0.2, 0.8), y = (float)vnw_uniform(r, 0.2, 0.8);
        float r0 = (float)vnw_uniform(r, 0.03, 0.05), r1 = (float)vnw_uniform(r, 0.18, 0.3);
        for (int f = 0; f < T; f++) {
            float tau = (float)f / (float)(T - 1);
            float rad = r0 + (r1 - r0) * (1.0f - expf(-k * tau));
            vnw_obj *o = vnw_at(sc, f, i);
            o->x = x;
            o->y = y;
            o->hx = o->hy = rad;
            o->vx = (r1 - r0) * k * expf(-k * tau); /* the front's speed */
            o->vy = 0.0f;
            /* Thinning slower than area conservation keeps the dye visible to the end. */
            o->alpha = 0.95f * powf(r0 / rad, 0.7f);
            o->shape = VNW_DISC;
            o->id = (uint8_t)i;
            memcpy(o->rgb, rgb, 3);
        }
    }
    vnw_scene_param(sc, "spread_rate", k);
    return VN_OK;
}

/* A block at rest shatters into a grid of pieces that fly apart and skid to a stop.
 * Until then the pieces tile the block exactly, so it looks whole. */
static vn_status shatter(const vn_world *w, vn_rng *r, vnw_scene *sc)
{
    vnw_cast cast;
    vnw_phys_init(&cast.p);
    int gx = 2 + (int)vn_rng_below(r, 3), gy = 2 + (int)vn_rng_below(r, 3);
    float hx = (float)vnw_uniform(r, 0.07, 0.13), hy = (float)vnw_uniform(r, 0.07, 0.13);
    float cx = (float)vnw_uniform(r, 0.3, 0.7), cy = (float)vnw_uniform(r, 0.3, 0.7);
    uint8_t rgb[3];
    vnw_object_colour(r, rgb);
    float mu = (float)vnw_uniform(r, 2.0, 4.0);
    float t_break = (float)vnw_uniform(r, 0.08, 0.3);
    float kick = mu * (float)vnw_uniform(r, 0.25, 0.45);
    cast.p.friction = mu;
    cast.p.wall_e = 0.5f;
    int n = gx * gy;
    float vx[VNW_MAX_OBJECTS], vy[VNW_MAX_OBJECTS];
    for (int j = 0; j < gy; j++) {
        for (int i = 0; i < gx; i++) {
            int k = j * gx + i;
            vnw_body *b = &cast.p.b[k];
            b->shape = VNW_BOX;
            b->hx = hx / (float)gx;
            b->hy = hy / (float)gy;
            b->x = cx - hx + (2.0f * (float)i + 1.0f) * b->hx;
            b->y = cy - hy + (2.0f * (float)j + 1.0f) * b->hy;
            b->inv_mass = 1.0f;
            float dx = b->x - cx, dy = b->y - cy, d = sqrtf(dx * dx + dy * dy) + 1e-6f;
            float s = kick * (float)vnw_uniform(r, 0.6, 1.4);
            double jitter = vnw_uniform(r, -0.4, 0.4);
            float ux = dx / d, uy = dy / d;
            vx[k] = s * (ux * (float)cos(jitter) - uy * (float)sin(jitter));
            vy[k] = s * (ux * (float)sin(jitter) + uy * (float)cos(jitter));
            memcpy(cast.rgb[k], rgb, 3);
        }
    }
    cast.p.n = n;
    const int T = w->o.n_frames;
    vn_status s = vnw_scene_alloc(sc, T, n, T);
    if (s != VN_OK)
        return s;
    float dt = vnw_dt_frame(w);
    int ns = vnw_substeps(dt);
    float h = dt / (float)ns;
    int broken = 0;
    for (int f = 0; f < T; f++) {
        if (f > 0) {
            for (int st = 0; st < ns; st++) {
                float t_now = ((float)(f - 1) + (float)st / (float)ns) * dt;
                if (!broken && t_now >= t_break) {
                    for (int k = 0; k < n; k++) {
                        cast.p.b[k].vx = vx[k];
                        cast.p.b[k].vy = vy[k];
                    }
                    broken = 1;
                    sc->event_frame = f;
                }
                vnw_phys_step(&cast.p, h);
            }
        }
        vnw_record(sc, f, &cast.p, cast.rgb);
    }
    vnw_scene_param(sc, "pieces", n);
    vnw_scene_param(sc, "break_time", t_break);
    return VN_OK;
}

vn_status vnw_task_aot(const vn_world *w, int64_t index, int label, vnw_scene *sc)
{
    vn_rng r;
    vnw_stream(&r, w->o.seed, VN_TASK_AOT, index, VNW_STREAM_SCENE);
    int which = (int)vn_rng_below(&r, N_SCENARIOS);
    vn_status s;
    switch (which) {
    case BOUNCE: s = bounce(w, &r, sc); break;
    case SLIDE: s = slide(w, &r, sc); break;
    case DIFFUSE: s = diffuse(w, &r, sc); break;
    case DYE: s = dye(w, &r, sc); break;
    default: s = shatter(w, &r, sc); break;
    }
    if (s != VN_OK)
        return s;
    sc->scenario = scenario_names[which];
    sc->variant = label ? "forward" : "reversed";
    const int T = sc->n_out;
    for (int t = 0; t < T; t++)
        sc->map[t] = label ? t : T - 1 - t;
    return VN_OK;
}
