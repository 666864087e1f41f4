/*
 * The future task, for retrieval: context frames, then K candidate continuations:
 * the true one, the true one reversed, the true one shifted in time, and continuations
 * of other clips of the same scene (same background and objects, independent starting
 * state). The reversed candidate has exactly the true one's frames and the shifted one
 * mostly the same frames, so only a model that reads order can rank the true one first.
 */
#include "world/world_internal.h"
#include "core/error.h"
#include "core/tensor_check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CANDIDATES 64
#define PARALLEL_MIN_BYTES (4.0 * 1024 * 1024)

enum { KIND_TRUE = 0, KIND_REVERSED = 1, KIND_SHIFTED = 2, KIND_OTHER = 3 };

typedef struct fplan {
    int tc, tf, k;
    int max_shift, shift, n_src;
    int kinds[MAX_CANDIDATES];
    int true_index;
} fplan;

static vn_status future_check(const vn_world *w, const char *fn)
{
    const vn_world_options *o = &w->o;
    if (o->future_context < 1 || o->n_frames - o->future_context < 2)
        return vn_error(VN_ERR_INVALID_ARG, "%s: future_context is %d with n_frames %d; expected 1 <= future_context "
                        "<= n_frames - 2 (a continuation needs 2 frames to have a direction)", fn, o->future_context,
                        o->n_frames);
    if (o->future_candidates < 3 || o->future_candidates > MAX_CANDIDATES)
        return vn_error(VN_ERR_INVALID_ARG, "%s: future_candidates is %d; expected 3..%d (true, reversed, shifted, "
                        "then other clips)", fn, o->future_candidates, MAX_CANDIDATES);
    return VN_OK;
}

static void make_plan(const vn_world *w, int64_t index, fplan *p)
{
    p->tc = w->o.future_context;
    p->tf = w->o.n_frames - p->tc;
    p->k = w->o.future_candidates;
    p->max_shift = p->tf / 2 > 2 ? p->tf / 2 : 2;
    p->n_src = p->tc + p->tf + p->max_shift;
    vn_rng r;
    vnw_stream(&r, w->o.seed, VN_TASK_FUTURE, index, VNW_STREAM_EVENT);
    /* Shift by 2..max_shift frames, backwards (into the context) when there is room. */
    int mag = 2 + (int)vn_rng_below(&r, (uint64_t)(p->max_shift - 1));
    int back = vn_rng_below(&r, 2) == 0 && p->tc - mag >= 0;
    p->shift = back ? -mag : mag;
    for (int i = 0; i < p->k; i++)
        p->kinds[i] = i < 3 ? i : KIND_OTHER;
    for (int i = p->k - 1; i > 0; i--) {
        int j = (int)vn_rng_below(&r, (uint64_t)i + 1);
        int t = p->kinds[i];
        p->kinds[i] = p->kinds[j];
        p->kinds[j] = t;
    }
    for (int i = 0; i < p->k; i++)
        if (p->kinds[i] == KIND_TRUE)
            p->true_index = i;
}

vn_status vnw_future_scene(const vn_world *w, int64_t index, int which, int n_src, vnw_scene *sc)
{
    vn_rng app, st;
    vnw_stream(&app, w->o.seed, VN_TASK_FUTURE, index, VNW_STREAM_SCENE);
    vnw_stream(&st, w->o.seed, VN_TASK_FUTURE, index, VNW_STREAM_OTHER + (uint64_t)which);
    /* What the scene is (shared by all its clips) comes from app; where things start and
     * how they move, from st. */
    int box = (int)vn_rng_below(&app, 2);
    int n = 1 + (int)vn_rng_below(&app, 4);
    float speed = (float)vnw_uniform(&app, 0.3, 0.7);
    float g = (float)vnw_uniform(&app, 2.0, 5.0), e = (float)vnw_uniform(&app, 0.85, 1.0);
    vnw_cast cast;
    vnw_phys_init(&cast.p);
    vnw_cast_appearance(&app, &cast, n, 1.0f);
    cast.p.collide = 1;
    if (box) {
        cast.p.gy = g;
        cast.p.wall_e = e;
        cast.p.obj_e = e;
    } else {
        cast.p.torus = 1;
    }
    n = vnw_place(&st, cast.p.b, n, cast.p.torus, 0.01f);
    for (int i = 0; i < n; i++) {
        double a = 6.283185307179586 * vn_rng_uniform(&st);
        float s = speed * (float)vnw_uniform(&st, 0.6, 1.4);
        cast.p.b[i].vx = s * (float)cos(a);
        cast.p.b[i].vy = s * (float)sin(a);
    }
    cast.p.n = n;
    vn_status s = vnw_scene_alloc(sc, n_src, n, n_src);
    if (s != VN_OK)
        return s;
    sc->torus = cast.p.torus;
    sc->scenario = box ? "bouncing in a box" : "gas";
    vnw_run(w, &cast, sc, 0, n_src);
    vnw_scene_param(sc, "speed", speed);
    if (box) {
        vnw_scene_param(sc, "gravity", g);
        vnw_scene_param(sc, "restitution", e);
    }
    return VN_OK;
}

vn_status vnw_future_describe(const vn_world *w, int64_t index, vnw_scene *sc, int *kinds, int cap, int *n_kinds,
                              int *true_index)
{
    vn_status s = future_check(w, "vn_world_describe");
    if (s != VN_OK)
        return s;
    fplan p;
    make_plan(w, index, &p);
    s = vnw_future_scene(w, index, 0, p.n_src, sc);
    if (s != VN_OK)
        return s;
    sc->variant = "context and candidates";
    vnw_scene_param(sc, "context_frames", p.tc);
    vnw_scene_param(sc, "shift", p.shift);
    *n_kinds = p.k < cap ? p.k : cap;
    memcpy(kinds, p.kinds, (size_t)*n_kinds * sizeof *kinds);
    *true_index = p.true_index;
    return VN_OK;
}

vn_status vn_world_future(const vn_world *world, int64_t index, vn_tensor *context, vn_tensor *candidates,
                          int *kinds, int *true_index)
{
    VN_CHECK_NULL(world);
    VN_CHECK_NULL(candidates);
    VN_CHECK_NULL(true_index);
    if (index < 0)
        return vn_error(VN_ERR_INVALID_ARG, "vn_world_future: index %lld is negative", (long long)index);
    vn_status s = future_check(world, __func__);
    if (s != VN_OK)
        return s;
    fplan p;
    make_plan(world, index, &p);
    s = vnw_expect_clip(world, __func__, "context", context, p.tc);
    if (s != VN_OK)
        return s;
    if (candidates->ndim != 5 || candidates->shape[0] != p.k)
        return vn_error(VN_ERR_SHAPE, "vn_world_future: the candidates tensor has %d dimensions and %lld candidates; "
                        "expected 5 dimensions (uint8 [K, Tf, H, W, C] or float32 [K, C, Tf, H, W]) with K = %d",
                        candidates->ndim, candidates->ndim > 0 ? (long long)candidates->shape[0] : 0LL, p.k);
    vn_tensor cand = *candidates;
    cand.ndim = 4;
    for (int d = 0; d < 4; d++) {
        cand.shape[d] = candidates->shape[d + 1];
        cand.strides[d] = candidates->strides[d + 1];
    }
    s = vnw_expect_clip(world, __func__, "candidates", &cand, p.tf);
    if (s != VN_OK)
        return s;

    vnw_scene main_sc;
    s = vnw_future_scene(world, index, 0, p.n_src, &main_sc);
    if (s != VN_OK)
        return s;
    size_t frame_bytes = (size_t)world->o.size * (size_t)world->o.size * (size_t)world->o.channels;
    uint8_t *tex = malloc(frame_bytes);
    if (!tex) {
        vnw_scene_free(&main_sc);
        return vn_error(VN_ERR_OUT_OF_MEMORY, "vn_world_future: out of memory");
    }
    vnw_texture(world, VN_TASK_FUTURE, index, tex);
    /* Which distractor scene each candidate shows, numbered in candidate order. */
    int other_id[MAX_CANDIDATES], n_other = 0;
    for (int k = 0; k < p.k; k++)
        other_id[k] = p.kinds[k] == KIND_OTHER ? ++n_other : 0;
    size_t esize = vn_dtype_size(cand.dtype);
    int failed = VN_OK; /* a plain int for the OpenMP atomics */
    char message[512] = "";
    int nt = world->n_threads;
    /* Part 0 is the context, part k + 1 candidate k; each has its own noise stream, so the
     * parts render independently on the world's threads. A small query is a millisecond
     * of work, less than a thread waits for a time slice on a busy machine: only large
     * ones are split. */
    int split = nt > 1 && (double)p.k * p.tf * (double)frame_bytes >= PARALLEL_MIN_BYTES;
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1) if (split)
    for (int part = 0; part <= p.k; part++) {
        int seen;
#pragma omp atomic read
        seen = failed;
        if (seen != VN_OK)
            continue;
        int map[4096];
        uint8_t *scratch = malloc(frame_bytes);
        vnw_scene other;
        const vnw_scene *src = &main_sc;
        vn_status ps = scratch ? VN_OK : vn_error(VN_ERR_OUT_OF_MEMORY, "vn_world_future: out of memory");
        vn_tensor v = *context;
        int n = p.tc;
        if (part == 0) {
            for (int t = 0; t < p.tc; t++)
                map[t] = t;
        } else {
            int k = part - 1, kind = p.kinds[k];
            v = cand;
            v.data = (char *)candidates->data + (size_t)(k * candidates->strides[0]) * esize;
            n = p.tf;
            for (int t = 0; t < p.tf; t++)
                map[t] = kind == KIND_REVERSED ? p.tc + p.tf - 1 - t
                         : kind == KIND_SHIFTED ? p.tc + p.shift + t
                                                : p.tc + t;
            if (kind == KIND_OTHER && ps == VN_OK) {
                ps = vnw_future_scene(world, index, other_id[k], p.n_src, &other);
                src = &other;
            }
        }
        if (ps == VN_OK) {
            vn_rng r;
            vnw_stream(&r, world->o.seed, VN_TASK_FUTURE, index, VNW_STREAM_PART_NOISE + (uint64_t)part);
            vnw_render(world, src, tex, map, n, &v, &r, scratch);
            if (src == &other)
                vnw_scene_free(&other);
        } else {
#pragma omp critical(vn_world_future_error)
            {
                if (failed == VN_OK) {
                    snprintf(message, sizeof message, "%s", vn_last_error());
#pragma omp atomic write
                    failed = ps;
                }
            }
        }
        free(scratch);
    }
    free(tex);
    vnw_scene_free(&main_sc);
    if (failed != VN_OK)
        return vn_error((vn_status)failed, "%s", message);
    if (kinds)
        memcpy(kinds, p.kinds, (size_t)p.k * sizeof *kinds);
    *true_index = p.true_index;
    return VN_OK;
}
