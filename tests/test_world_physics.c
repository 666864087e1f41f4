/*
 * The world suite's physics checks, measured on the simulated trajectories (through
 * the internal scene API) and, for gravity, on the rendered pixels as well.
 */
#include "vn_test.h"
#include "test_world.h"
#include "world_probe.h"
#include "world/world_internal.h"

#include <math.h>
#include <string.h>

static double param_of(const vnw_scene *sc, const char *name)
{
    for (int i = 0; i < sc->n_params; i++)
        if (!strcmp(sc->params[i].name, name))
            return sc->params[i].value;
    ck_abort_msg("scene has no parameter '%s'", name);
    return 0.0;
}

static double mass_of(const vnw_obj *o)
{
    return o->shape == VNW_DISC ? M_PI * o->hx * o->hx : 4.0 * o->hx * o->hy;
}

/* ---- aot --------------------------------------------------------------------------- */

START_TEST(aot_classes_show_the_same_frames)
{
    const int T = 12, S = 32;
    vn_world *w = tw_world(5, T, S, 0.0f);
    size_t fb = (size_t)S * S * 3;
    uint8_t *fwd = malloc(fb * T), *rev = malloc(fb * T), *tex = malloc(fb), *scratch = malloc(fb);
    int64_t shape[4] = {T, S, S, 3};
    vn_tensor tf, tr;
    vn_tensor_init(&tf, fwd, VN_DTYPE_U8, 4, shape);
    vn_tensor_init(&tr, rev, VN_DTYPE_U8, 4, shape);
    for (int64_t index = 0; index < 30; index++) {
        vnw_scene a, b;
        VN_ASSERT_OK(vnw_task_aot(w, index, 1, &a));
        VN_ASSERT_OK(vnw_task_aot(w, index, 0, &b));
        ck_assert_int_eq(a.n_obj, b.n_obj);
        ck_assert_int_eq(a.n_src, b.n_src);
        ck_assert_msg(memcmp(a.obj, b.obj, (size_t)a.n_src * a.n_obj * sizeof *a.obj) == 0,
                      "aot %lld: the two labels simulate different scenes", (long long)index);
        for (int t = 0; t < T; t++) {
            ck_assert_int_eq(a.map[t], t);
            ck_assert_int_eq(b.map[t], T - 1 - t);
        }
        vnw_texture(w, VN_TASK_AOT, index, tex);
        vn_rng r;
        vnw_stream(&r, 5, VN_TASK_AOT, index, VNW_STREAM_NOISE);
        vnw_render(w, &a, tex, a.map, T, &tf, &r, scratch);
        vnw_render(w, &b, tex, b.map, T, &tr, &r, scratch);
        for (int t = 0; t < T; t++)
            ck_assert_msg(memcmp(fwd + fb * t, rev + fb * (T - 1 - t), fb) == 0,
                          "aot %lld: forward frame %d is not reversed frame %d", (long long)index, t, T - 1 - t);
        vnw_scene_free(&a);
        vnw_scene_free(&b);
    }
    free(fwd);
    free(rev);
    free(tex);
    free(scratch);
    vn_world_destroy(w);
}
END_TEST

/* Kinetic plus potential energy of output frame t of a bounce scene (per unit density). */
static double bounce_energy(const vnw_scene *sc, int t, double g)
{
    double e = 0.0;
    for (int i = 0; i < sc->n_obj; i++) {
        const vnw_obj *o = vnw_at(sc, sc->map[t], i);
        double height = (1.0 - o->hy) - o->y; /* above the floor; y points down */
        e += mass_of(o) * (0.5 * (o->vx * o->vx + o->vy * o->vy) + g * height);
    }
    return e;
}

START_TEST(aot_energy_falls_in_forward_bounces)
{
    const int T = 16;
    vn_world *w = tw_world(11, T, 32, 0.02f);
    int forward = 0, reversed = 0;
    for (int64_t index = 0; index < 400 && (forward < 15 || reversed < 15); index++) {
        vnw_scene sc;
        VN_ASSERT_OK(vnw_build(w, VN_TASK_AOT, index, &sc));
        if (strcmp(sc.scenario, "bounce") != 0) {
            vnw_scene_free(&sc);
            continue;
        }
        double g = param_of(&sc, "gravity");
        double e0 = bounce_energy(&sc, 0, g), e_end = bounce_energy(&sc, T - 1, g);
        if (sc.label == 1) {
            forward++;
            /* Free flight conserves energy up to the integrator's error; contacts lose it. */
            for (int t = 0; t + 1 < T; t++) {
                double a = bounce_energy(&sc, t, g), b = bounce_energy(&sc, t + 1, g);
                ck_assert_msg(b <= a + 0.02 * e0, "aot %lld (forward bounce): energy rises from %g to %g at frame %d",
                              (long long)index, a, b, t);
            }
            ck_assert_msg(e_end < 0.6 * e0, "aot %lld (forward bounce): energy %g at the end, %g at the start",
                          (long long)index, e_end, e0);
        } else {
            reversed++;
            ck_assert_msg(e_end > e0 / 0.6, "aot %lld (reversed bounce): energy %g at the end, %g at the start",
                          (long long)index, e_end, e0);
        }
        vnw_scene_free(&sc);
    }
    ck_assert_msg(forward >= 15 && reversed >= 15, "only %d forward and %d reversed bounce clips", forward, reversed);
    vn_world_destroy(w);
}
END_TEST

/* ---- gravity ------------------------------------------------------------------------ */

START_TEST(gravity_acceleration_has_the_labelled_sign)
{
    const int T = 16;
    vn_world *w = tw_world(3, T, 32, 0.02f);
    double dt = 1.0 / (T - 1);
    for (int64_t index = 0; index < 200; index++) {
        vnw_scene sc;
        VN_ASSERT_OK(vnw_build(w, VN_TASK_GRAVITY, index, &sc));
        /* The mass-weighted centroid feels only gravity: collisions conserve momentum. */
        double y[64], mass = 0.0;
        memset(y, 0, sizeof y);
        for (int i = 0; i < sc.n_obj; i++) {
            double m = mass_of(vnw_at(&sc, 0, i)), yi = vnw_at(&sc, 0, i)->y;
            mass += m;
            y[0] += m * yi;
            for (int f = 1; f < T; f++) {
                yi += vnw_wrap_delta(vnw_at(&sc, f, i)->y - vnw_at(&sc, f - 1, i)->y);
                y[f] += m * yi;
            }
        }
        double acc = 0.0;
        for (int f = 1; f + 1 < T; f++)
            acc += (y[f + 1] - 2.0 * y[f] + y[f - 1]) / (mass * dt * dt) / (T - 2);
        double g = param_of(&sc, "gravity");
        ck_assert_msg((acc > 0.0) == (sc.label == 1), "gravity %lld: label %d but measured acceleration %g",
                      (long long)index, sc.label, acc);
        ck_assert_msg(fabs(acc - g) < 0.05 * fabs(g), "gravity %lld: measured acceleration %g, simulated %g",
                      (long long)index, acc, g);
        vnw_scene_free(&sc);
    }
    vn_world_destroy(w);
}
END_TEST

START_TEST(gravity_sign_shows_in_the_pixels)
{
    const int T = 16, S = 32, N = 200;
    vn_world *w = tw_world(4, T, S, 0.02f);
    int agree = 0;
    for (int64_t index = 0; index < N; index++) {
        int label;
        uint8_t *clip = tw_clip(w, T, S, VN_TASK_GRAVITY, index, &label);
        double f[WP_MAX_FEATURES];
        wp_temporal_features(clip, T, S, 3, f);
        agree += (f[6] > 0.0) == (label == 1); /* feature 6: vertical acceleration, y down */
        free(clip);
    }
    printf("gravity: the foreground's vertical acceleration has the labelled sign in %d of %d clips\n", agree, N);
    ck_assert_msg(agree >= 0.85 * N, "the measured acceleration agrees with the label in only %d of %d clips", agree,
                  N);
    vn_world_destroy(w);
}
END_TEST

/* ---- collision ---------------------------------------------------------------------- */

/* Position along A's direction of motion. */
static double along(const vnw_obj *o, int axis)
{
    switch (axis) {
    case 0: return o->x;
    case 1: return 1.0 - o->x;
    case 2: return o->y;
    default: return 1.0 - o->y;
    }
}

/* Does B start moving exactly when A reaches it, with the momentum A loses?
 * Measured from positions only: A's approach speed and arrival time from the frames
 * before B moves, B's start time by extrapolating its motion back to its rest spot. */
static int looks_causal(const vnw_scene *sc, int T, char *why, size_t cap)
{
    int axis = (int)param_of(sc, "axis");
    double dt = 1.0 / (T - 1);
    const vnw_obj *a0 = vnw_at(sc, 0, 0), *b0 = vnw_at(sc, 0, 1);
    double ea = axis < 2 ? a0->hx : a0->hy, eb = axis < 2 ? b0->hx : b0->hy;
    double rest = along(b0, axis);
    int f1 = -1;
    for (int f = 1; f < T && f1 < 0; f++)
        if (fabs(along(vnw_at(sc, f, 1), axis) - rest) > 1e-6)
            f1 = f;
    if (f1 < 2 || f1 + 1 >= T) {
        snprintf(why, cap, "B starts moving at frame %d", f1);
        return 0;
    }
    double sa1 = along(vnw_at(sc, f1 - 1, 0), axis), sa2 = along(vnw_at(sc, f1 - 2, 0), axis);
    double u = (sa1 - sa2) / dt;
    double gap = rest - sa1 - (ea + eb);
    if (gap < -1e-5 || u <= 0.0) {
        snprintf(why, cap, "A overlaps B (gap %g) or is not approaching (speed %g)", gap, u);
        return 0;
    }
    double t_arrive = (f1 - 1) * dt + gap / u;
    double sb = along(vnw_at(sc, f1, 1), axis), sb_next = along(vnw_at(sc, f1 + 1, 1), axis);
    double vb = (sb_next - sb) / dt;
    double t_start = f1 * dt - (sb - rest) / vb;
    if (fabs(t_start - t_arrive) > 1e-3) {
        snprintf(why, cap, "A arrives at t = %.4f but B starts at t = %.4f", t_arrive, t_start);
        return 0;
    }
    double va = (along(vnw_at(sc, f1 + 1, 0), axis) - along(vnw_at(sc, f1, 0), axis)) / dt;
    double ma = mass_of(a0), mb = mass_of(b0);
    double p_before = ma * u, p_after = ma * va + mb * vb;
    if (fabs(p_after - p_before) > 1e-3 * fabs(p_before)) {
        snprintf(why, cap, "momentum %g before contact, %g after", p_before, p_after);
        return 0;
    }
    snprintf(why, cap, "B starts when A arrives (t = %.4f) and momentum is conserved", t_arrive);
    return 1;
}

START_TEST(collision_b_moves_only_after_contact)
{
    const int T = 16;
    vn_world *w = tw_world(9, T, 32, 0.02f);
    int causal = 0;
    for (int64_t index = 0; index < 300; index++) {
        vnw_scene sc;
        VN_ASSERT_OK(vnw_build(w, VN_TASK_COLLISION, index, &sc));
        char why[160];
        int c = looks_causal(&sc, T, why, sizeof why);
        ck_assert_msg(c == sc.label, "collision %lld (%s, label %d): %s", (long long)index, sc.variant, sc.label, why);
        causal += c;
        vnw_scene_free(&sc);
    }
    ck_assert_int_eq(causal, 150);
    vn_world_destroy(w);
}
END_TEST

/* ---- intphys ------------------------------------------------------------------------ */

/* Is some rule broken: a colour change, a jump, or two objects overlapping? */
static int finds_violation(const vnw_scene *sc, int T, char *why, size_t cap)
{
    double dt = 1.0 / (T - 1);
    for (int f = 1; f < T; f++) {
        for (int i = 0; i < sc->n_obj; i++) {
            const vnw_obj *o = vnw_at(sc, f, i), *p = vnw_at(sc, f - 1, i);
            if (memcmp(o->rgb, p->rgb, 3) != 0) {
                snprintf(why, cap, "object %d changes colour at frame %d", i, f);
                return 1;
            }
            double dx = vnw_wrap_delta(o->x - p->x), dy = vnw_wrap_delta(o->y - p->y);
            double moved = sqrt(dx * dx + dy * dy);
            double vmax = fmax(hypot(o->vx, o->vy), hypot(p->vx, p->vy));
            if (moved > vmax * dt * 1.5 + 0.02) {
                snprintf(why, cap, "object %d jumps %.3f at frame %d (speed allows %.3f)", i, moved, f, vmax * dt);
                return 1;
            }
        }
    }
    for (int f = 0; f < T; f++)
        for (int i = 0; i < sc->n_obj; i++)
            for (int j = i + 1; j < sc->n_obj; j++) {
                const vnw_obj *a = vnw_at(sc, f, i), *b = vnw_at(sc, f, j);
                vnw_body ba = {a->x, a->y, 0, 0, a->hx, a->hy, 1, a->shape, 0, 1};
                vnw_body bb = {b->x, b->y, 0, 0, b->hx, b->hy, 1, b->shape, 0, 1};
                if (vnw_overlap(&ba, &bb, 1, -0.01f)) {
                    snprintf(why, cap, "objects %d and %d overlap at frame %d", i, j, f);
                    return 1;
                }
            }
    snprintf(why, cap, "no rule broken");
    return 0;
}

START_TEST(intphys_implausible_clips_break_a_rule)
{
    const int T = 16;
    vn_world *w = tw_world(13, T, 32, 0.02f);
    int counts[4] = {0};
    for (int64_t index = 0; index < 300; index++) {
        vnw_scene sc;
        VN_ASSERT_OK(vnw_build(w, VN_TASK_INTPHYS, index, &sc));
        char why[160];
        int broken = finds_violation(&sc, T, why, sizeof why);
        ck_assert_msg(broken == !sc.label, "intphys %lld (%s, label %d): %s", (long long)index, sc.variant, sc.label,
                      why);
        ck_assert_msg(sc.event_frame >= 1 && sc.event_frame < T, "intphys %lld: event frame %d", (long long)index,
                      sc.event_frame);
        counts[!strcmp(sc.variant, "teleport") + 2 * !strcmp(sc.variant, "colour change") +
               3 * !strcmp(sc.variant, "pass through")]++;
        vnw_scene_free(&sc);
    }
    printf("intphys: %d plausible, %d teleport, %d colour change, %d pass through\n", counts[0], counts[1], counts[2],
           counts[3]);
    ck_assert_int_eq(counts[0], 150);
    for (int k = 1; k < 4; k++)
        ck_assert_msg(counts[k] >= 30, "variant %d appears only %d times in 150 implausible clips", k, counts[k]);
    vn_world_destroy(w);
}
END_TEST

/* ---- order and speed ---------------------------------------------------------------- */

START_TEST(order_and_speed_frame_maps)
{
    const int T = 16;
    vn_world *w = tw_world(21, T, 32, 0.02f);
    for (int64_t index = 0; index < 200; index++) {
        vnw_scene sc;
        VN_ASSERT_OK(vnw_build(w, VN_TASK_ORDER, index, &sc));
        int seen[16] = {0}, identity = 1;
        for (int t = 0; t < T; t++) {
            ck_assert(sc.map[t] >= 0 && sc.map[t] < T);
            seen[sc.map[t]]++;
            identity &= sc.map[t] == t;
        }
        for (int t = 0; t < T; t++)
            ck_assert_msg(seen[t] == 1, "order %lld: not a permutation", (long long)index);
        ck_assert_int_eq(identity, sc.label);
        vnw_scene_free(&sc);

        VN_ASSERT_OK(vnw_build(w, VN_TASK_SPEED, index, &sc));
        int stride = sc.label ? 2 : 1;
        ck_assert_int_eq(sc.n_src, stride * (T - 1) + 1);
        for (int t = 0; t < T; t++)
            ck_assert_int_eq(sc.map[t], stride * t);
        vnw_scene_free(&sc);
    }
    vn_world_destroy(w);
}
END_TEST

void world_add_physics_tests(Suite *s)
{
    TCase *tc = tcase_create("physics");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, aot_classes_show_the_same_frames);
    tcase_add_test(tc, aot_energy_falls_in_forward_bounces);
    tcase_add_test(tc, gravity_acceleration_has_the_labelled_sign);
    tcase_add_test(tc, gravity_sign_shows_in_the_pixels);
    tcase_add_test(tc, collision_b_moves_only_after_contact);
    tcase_add_test(tc, intphys_implausible_clips_break_a_rule);
    tcase_add_test(tc, order_and_speed_frame_maps);
    suite_add_tcase(s, tc);
}
