/*
 * Tasks on a toroidal, elastic gas of objects: gravity, order and speed.
 *
 * A gas on a torus is stationary: at every instant positions are uniform over the
 * non-overlapping layouts and colours and sizes never change. So any single frame has
 * the same distribution whichever instant it shows, which is what lets these tasks put
 * the label in how frames follow each other and nowhere else.
 */
#include "world/world_internal.h"

#include <math.h>

void vnw_cast_appearance(vn_rng *r, vnw_cast *cast, int n, float scale)
{
    for (int i = 0; i < n; i++) {
        vnw_body *b = &cast->p.b[i];
        vnw_object_shape(r, scale, &b->shape, &b->hx, &b->hy);
        float area = b->shape == VNW_DISC ? 3.14159265f * b->hx * b->hx : 4.0f * b->hx * b->hy;
        /* Masses proportional to area, scaled to be near 1 for typical objects. */
        b->inv_mass = 0.02f / area;
        b->solid = 1;
        vnw_object_colour(r, cast->rgb[i]);
    }
}

void vnw_gas_setup(vn_rng *r, int n, float speed, vnw_cast *cast)
{
    vnw_phys_init(&cast->p);
    cast->p.torus = 1;
    cast->p.collide = 1;
    vnw_cast_appearance(r, cast, n, 1.0f);
    /* Colours are i.i.d. and independent of shapes, so when placement drops a body that
     * does not fit, the colours left over need no reshuffling. */
    int placed = vnw_place(r, cast->p.b, n, 1, 0.0f);
    for (int i = 0; i < placed; i++) {
        double a = 6.283185307179586 * vn_rng_uniform(r);
        float s = speed * (float)vnw_uniform(r, 0.6, 1.4);
        cast->p.b[i].vx = s * (float)cos(a);
        cast->p.b[i].vy = s * (float)sin(a);
    }
    cast->p.n = placed;
}

void vnw_run(const vn_world *w, vnw_cast *cast, vnw_scene *sc, int f0, int f1)
{
    float dt = vnw_dt_frame(w);
    int ns = vnw_substeps(dt);
    float h = dt / (float)ns;
    for (int f = f0; f < f1; f++) {
        if (f > f0)
            for (int s = 0; s < ns; s++)
                vnw_phys_step(&cast->p, h);
        vnw_record(sc, f, &cast->p, cast->rgb);
    }
}

/* A gas of 1..4 objects simulated over n_src frames into a freshly allocated scene. */
static vn_status gas_scene(const vn_world *w, vn_rng *r, float speed, int n_src, vnw_scene *sc)
{
    int n = 1 + (int)vn_rng_below(r, 4);
    vnw_cast cast;
    vnw_gas_setup(r, n, speed, &cast);
    vn_status s = vnw_scene_alloc(sc, n_src, cast.p.n, w->o.n_frames);
    if (s != VN_OK)
        return s;
    sc->torus = 1;
    sc->scenario = "gas";
    vnw_run(w, &cast, sc, 0, n_src);
    vnw_scene_param(sc, "speed", speed);
    return VN_OK;
}

vn_status vnw_task_gravity(const vn_world *w, int64_t index, int label, vnw_scene *sc)
{
    vn_rng r;
    vnw_stream(&r, w->o.seed, VN_TASK_GRAVITY, index, VNW_STREAM_SCENE);
    float speed = (float)vnw_uniform(&r, 0.2, 0.6);
    float g = (float)vnw_uniform(&r, 1.5, 3.0);
    const int T = w->o.n_frames;
    vn_status s = gas_scene(w, &r, speed, T, sc);
    if (s != VN_OK)
        return s;
    /* Uniform gravity acts on every body alike, so collisions happen exactly as in the
     * freely falling frame (the equivalence principle): the clip is the gas plus a
     * common parabola. Its vertex sits mid-clip, so the mean vertical velocity is that
     * of the gas, symmetric about zero, and playing the clip backwards gives a clip of
     * the same class: neither velocity nor the arrow of time tells, only the sign of
     * the acceleration. Shifting a uniform position keeps it uniform, so frames do not
     * tell either. */
    float gs = label ? g : -g;
    for (int f = 0; f < T; f++) {
        float tau = (float)f / (float)(T - 1) - 0.5f;
        float shift = 0.5f * gs * (tau * tau - 0.25f);
        for (int i = 0; i < sc->n_obj; i++) {
            vnw_obj *o = vnw_at(sc, f, i);
            o->y = vnw_wrap01(o->y + shift);
            o->vy += gs * tau;
        }
    }
    sc->scenario = "free-falling gas";
    sc->variant = label ? "down" : "up";
    vnw_scene_param(sc, "gravity", gs);
    return VN_OK;
}

vn_status vnw_task_order(const vn_world *w, int64_t index, int label, vnw_scene *sc)
{
    vn_rng r;
    vnw_stream(&r, w->o.seed, VN_TASK_ORDER, index, VNW_STREAM_SCENE);
    float speed = (float)vnw_uniform(&r, 0.3, 0.8);
    const int T = w->o.n_frames;
    vn_status s = gas_scene(w, &r, speed, T, sc);
    if (s != VN_OK)
        return s;
    sc->variant = "ordered";
    if (label)
        return VN_OK;
    vn_rng ev;
    vnw_stream(&ev, w->o.seed, VN_TASK_ORDER, index, VNW_STREAM_EVENT);
    if (T == 2 || vn_rng_below(&ev, 2) == 0) {
        int h = T / 2;
        for (int t = 0; t < T; t++)
            sc->map[t] = (t + h) % T;
        sc->variant = "halves swapped";
    } else {
        /* Any permutation but the identity. */
        for (;;) {
            for (int t = 0; t < T; t++)
                sc->map[t] = t;
            for (int t = T - 1; t > 0; t--) {
                int k = (int)vn_rng_below(&ev, (uint64_t)t + 1);
                int tmp = sc->map[t];
                sc->map[t] = sc->map[k];
                sc->map[k] = tmp;
            }
            int moved = 0;
            for (int t = 0; t < T; t++)
                moved += sc->map[t] != t;
            if (moved)
                break;
        }
        sc->variant = "shuffled";
    }
    return VN_OK;
}

vn_status vnw_task_speed(const vn_world *w, int64_t index, int label, vnw_scene *sc)
{
    vn_rng r;
    vnw_stream(&r, w->o.seed, VN_TASK_SPEED, index, VNW_STREAM_SCENE);
    /* Log-uniform over a factor of 3, so the two strides overlap in apparent speed:
     * telling them apart takes knowing how fast such scenes usually move. */
    float speed = (float)exp(vnw_uniform(&r, log(0.25), log(0.75)));
    const int T = w->o.n_frames;
    int stride = label ? 2 : 1;
    vn_status s = gas_scene(w, &r, speed, stride * (T - 1) + 1, sc);
    if (s != VN_OK)
        return s;
    for (int t = 0; t < T; t++)
        sc->map[t] = stride * t;
    sc->variant = label ? "stride 2" : "stride 1";
    vnw_scene_param(sc, "stride", stride);
    return VN_OK;
}
