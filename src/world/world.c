/* vn_world: options, the handle, task names, single clips and descriptions. */
#include "world/world_internal.h"
#include "backend/host.h"
#include "core/error.h"
#include "core/tensor_check.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const task_names[VN_WORLD_TASK_COUNT] = {
    "aot", "gravity", "collision", "order", "speed", "intphys", "future",
};

const char *vn_world_task_name(vn_world_task task)
{
    if ((int)task < 0 || (int)task >= VN_WORLD_TASK_COUNT)
        return "unknown";
    return task_names[task];
}

vn_status vn_world_task_from_name(const char *name, vn_world_task *out)
{
    VN_CHECK_NULL(name);
    VN_CHECK_NULL(out);
    for (int k = 0; k < VN_WORLD_TASK_COUNT; k++) {
        if (strcasecmp(name, task_names[k]) == 0) {
            *out = (vn_world_task)k;
            return VN_OK;
        }
    }
    return vn_error(VN_ERR_INVALID_ARG, "'%s' is not a world task; expected aot, gravity, collision, order, speed, "
                    "intphys or future", name);
}

VN_DEFINE_OPTIONS_INIT(vn_world_options_init, vn_world_options, VN_WORLD_OPTIONS_VERSION, VN_WORLD_OPTIONS_INIT)

static vn_status check_options(const vn_world_options *o)
{
    const char *fn = "vn_world_create";
    VN_CHECK_VERSION(fn, "options", o->version, VN_WORLD_OPTIONS_VERSION, "VN_WORLD_OPTIONS_INIT");
    if (o->n_frames < 2 || o->n_frames > 4096)
        return vn_error(VN_ERR_INVALID_ARG, "%s: n_frames is %d; expected 2..4096", fn, o->n_frames);
    if (o->size < 16 || o->size > 256)
        return vn_error(VN_ERR_INVALID_ARG, "%s: size is %d; expected 16..256 pixels", fn, o->size);
    if (o->channels != 1 && o->channels != 3)
        return vn_error(VN_ERR_INVALID_ARG, "%s: channels is %d; expected 1 (gray) or 3 (RGB)", fn, o->channels);
    if (!(o->noise >= 0.0f && o->noise <= 1.0f))
        return vn_error(VN_ERR_INVALID_ARG, "%s: noise is %g; expected a standard deviation in [0, 1]", fn,
                        (double)o->noise);
    if (!(o->jitter >= 0.0f && o->jitter <= (float)o->size / 4.0f))
        return vn_error(VN_ERR_INVALID_ARG, "%s: jitter is %g pixels; expected 0..%d (a quarter of the size)", fn,
                        (double)o->jitter, o->size / 4);
    if (o->textured != 0 && o->textured != 1)
        return vn_error(VN_ERR_INVALID_ARG, "%s: textured is %d; expected 0 or 1", fn, o->textured);
    if (o->n_threads < 0)
        return vn_error(VN_ERR_INVALID_ARG, "%s: n_threads is %d; use 0 for every core", fn, o->n_threads);
    for (int c = 0; c < o->channels; c++) {
        if (!isfinite(o->mean[c]) || !isfinite(o->std[c]) || !(o->std[c] > 0.0f))
            return vn_error(VN_ERR_INVALID_ARG, "%s: mean[%d] = %g, std[%d] = %g; expected finite values and std > 0",
                            fn, c, (double)o->mean[c], c, (double)o->std[c]);
    }
    return VN_OK;
}

vn_status vn_world_create(vn_world **out, const vn_world_options *opts)
{
    VN_CHECK_NULL(out);
    *out = NULL;
    vn_world_options o = VN_WORLD_OPTIONS_INIT;
    if (opts)
        o = *opts;
    vn_status s = check_options(&o);
    if (s != VN_OK)
        return s;
    vn_world *w = calloc(1, sizeof *w);
    if (!w)
        return vn_error(VN_ERR_OUT_OF_MEMORY, "vn_world_create: out of memory");
    w->o = o;
    w->n_threads = o.n_threads > 0 ? o.n_threads : vn_host_cores();
    vnw_noise_table(w->noise_table, o.noise);
    for (int c = 0; c < 3; c++) {
        int src = c < o.channels ? c : 0;
        for (int v = 0; v < 256; v++)
            w->lut[c][v] = ((float)v / 255.0f - o.mean[src]) / o.std[src];
    }
    *out = w;
    return VN_OK;
}

void vn_world_destroy(vn_world *world)
{
    free(world);
}

vn_status vnw_expect_clip(const vn_world *w, const char *fn, const char *what, const vn_tensor *t, int64_t n_frames)
{
    if (!t)
        return vn_error(VN_ERR_INVALID_ARG, "%s: the %s tensor is NULL", fn, what);
    int64_t S = w->o.size, C = w->o.channels;
    if (t->dtype == VN_DTYPE_U8) {
        int64_t shape[4] = {n_frames, S, S, C};
        return vn_tensor_expect(fn, what, t, VN_DTYPE_U8, 4, shape);
    }
    if (t->dtype == VN_DTYPE_F32) {
        int64_t shape[4] = {C, n_frames, S, S};
        return vn_tensor_expect(fn, what, t, VN_DTYPE_F32, 4, shape);
    }
    return vn_error(VN_ERR_SHAPE, "%s: the %s tensor has dtype %s; expected u8 [T, H, W, C] or f32 [C, T, H, W]", fn,
                    what, vn_dtype_name(t->dtype));
}

static const vnw_task_fn binary_tasks[VN_WORLD_TASK_COUNT] = {
    vnw_task_aot, vnw_task_gravity, vnw_task_collision, vnw_task_order, vnw_task_speed, vnw_task_intphys, NULL,
};

static vn_status check_task(const char *fn, vn_world_task task, int64_t index)
{
    if ((int)task < 0 || (int)task >= VN_WORLD_TASK_COUNT)
        return vn_error(VN_ERR_INVALID_ARG, "%s: task %d is not a vn_world_task (0..%d)", fn, (int)task,
                        VN_WORLD_TASK_COUNT - 1);
    if (index < 0)
        return vn_error(VN_ERR_INVALID_ARG, "%s: index %lld is negative", fn, (long long)index);
    return VN_OK;
}

vn_status vnw_build(const vn_world *w, vn_world_task task, int64_t index, vnw_scene *sc)
{
    int label = vnw_label(w->o.seed, task, index);
    vn_status s = binary_tasks[task](w, index, label, sc);
    if (s == VN_OK)
        sc->label = label;
    return s;
}

vn_status vnw_clip(const vn_world *w, vn_world_task task, int64_t index, const vn_tensor *out, int *label)
{
    vnw_scene sc;
    vn_status s = vnw_build(w, task, index, &sc);
    if (s != VN_OK)
        return s;
    size_t frame_bytes = (size_t)w->o.size * (size_t)w->o.size * (size_t)w->o.channels;
    uint8_t *mem = malloc(2 * frame_bytes);
    if (!mem) {
        vnw_scene_free(&sc);
        return vn_error(VN_ERR_OUT_OF_MEMORY, "vn_world: out of memory for a %d px frame", w->o.size);
    }
    vnw_texture(w, task, index, mem);
    vn_rng r;
    vnw_stream(&r, w->o.seed, task, index, VNW_STREAM_NOISE);
    vnw_render(w, &sc, mem, sc.map, sc.n_out, out, &r, mem + frame_bytes);
    if (label)
        *label = sc.label;
    free(mem);
    vnw_scene_free(&sc);
    return VN_OK;
}

vn_status vn_world_clip(const vn_world *world, vn_world_task task, int64_t index, vn_tensor *out, int *label)
{
    VN_CHECK_NULL(world);
    vn_status s = check_task(__func__, task, index);
    if (s != VN_OK)
        return s;
    if (task == VN_TASK_FUTURE)
        return vn_error(VN_ERR_INVALID_ARG, "vn_world_clip: the future task has no single clip and label; use "
                        "vn_world_future");
    s = vnw_expect_clip(world, __func__, "output", out, world->o.n_frames);
    if (s != VN_OK)
        return s;
    return vnw_clip(world, task, index, out, label);
}

vn_status vn_world_batch(const vn_world *world, vn_world_task task, int64_t first_index, vn_tensor *out,
                         int *labels)
{
    VN_CHECK_NULL(world);
    VN_CHECK_NULL(out);
    vn_status s = check_task(__func__, task, first_index);
    if (s != VN_OK)
        return s;
    if (task == VN_TASK_FUTURE)
        return vn_error(VN_ERR_INVALID_ARG, "vn_world_batch: the future task has no single clip and label; use "
                        "vn_world_future");
    if (out->ndim != 5)
        return vn_error(VN_ERR_SHAPE, "vn_world_batch: the output tensor has %d dimensions; expected 5 (uint8 "
                        "[N, T, H, W, C] or float32 [N, C, T, H, W])", out->ndim);
    int64_t n = out->shape[0];
    if (n < 0)
        return vn_error(VN_ERR_SHAPE, "vn_world_batch: batch size %lld is negative", (long long)n);
    if (first_index > INT64_MAX - n)
        return vn_error(VN_ERR_INVALID_ARG, "vn_world_batch: first_index %lld + %lld clips overflows",
                        (long long)first_index, (long long)n);
    /* One clip's view: the batch minus its leading dimension. */
    vn_tensor clip = *out;
    clip.ndim = 4;
    for (int d = 0; d < 4; d++) {
        clip.shape[d] = out->shape[d + 1];
        clip.strides[d] = out->strides[d + 1];
    }
    clip.shape[4] = clip.strides[4] = 0;
    if (n == 0)
        return VN_OK;
    s = vnw_expect_clip(world, __func__, "output", &clip, world->o.n_frames);
    if (s != VN_OK)
        return s;

    int failed = VN_OK; /* a plain int: OpenMP atomics want an arithmetic type */
    int64_t failed_at = -1;
    char message[512] = "";
    int nt = world->n_threads;
    size_t esize = vn_dtype_size(out->dtype);
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1) if (nt > 1 && n > 1)
    for (int64_t i = 0; i < n; i++) {
        int seen;
#pragma omp atomic read
        seen = failed;
        if (seen != VN_OK)
            continue;
        vn_tensor v = clip;
        v.data = (char *)out->data + (size_t)(i * out->strides[0]) * esize;
        int label = -1;
        vn_status si = vnw_clip(world, task, first_index + i, &v, &label);
        if (labels)
            labels[i] = label;
        if (si != VN_OK) {
            /* The message lives in this worker's thread-local slot: carry it over. */
#pragma omp critical(vn_world_batch_error)
            {
                if (failed == VN_OK) {
                    snprintf(message, sizeof message, "%s", vn_last_error());
                    failed_at = first_index + i;
#pragma omp atomic write
                    failed = si;
                }
            }
        }
    }
    if (failed != VN_OK)
        return vn_error((vn_status)failed, "vn_world_batch: clip %lld: %s", (long long)failed_at, message);
    return VN_OK;
}

/* ---- descriptions --------------------------------------------------------------- */

typedef struct sbuf {
    char *p;
    size_t cap, len; /* len counts what would have been written */
} sbuf;

VN_PRINTF(2, 3) static void sb_printf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = b->len < b->cap ? b->cap - b->len : 0;
    int k = vsnprintf(room ? b->p + b->len : NULL, room, fmt, ap);
    va_end(ap);
    if (k > 0)
        b->len += (size_t)k;
}

static void sb_number(sbuf *b, const char *name, double v)
{
    if (v == floor(v) && fabs(v) < 1e15)
        sb_printf(b, ",\"%s\":%lld", name, (long long)v);
    else
        sb_printf(b, ",\"%s\":%.4g", name, v);
}

vn_status vn_world_describe(const vn_world *world, vn_world_task task, int64_t index, char *buf, size_t cap)
{
    VN_CHECK_NULL(world);
    VN_CHECK_NULL(buf);
    vn_status s = check_task(__func__, task, index);
    if (s != VN_OK)
        return s;
    if (cap == 0)
        return vn_error(VN_ERR_SHAPE, "vn_world_describe: cap is 0; a description needs about 300 bytes");
    vnw_scene sc;
    int kinds[64], true_index = -1, n_kinds = 0;
    if (task == VN_TASK_FUTURE) {
        s = vnw_future_describe(world, index, &sc, kinds, 64, &n_kinds, &true_index);
    } else {
        s = vnw_build(world, task, index, &sc);
    }
    if (s != VN_OK)
        return s;
    sbuf b = {buf, cap, 0};
    sb_printf(&b, "{\"task\":\"%s\",\"index\":%lld,\"label\":%d,\"scenario\":\"%s\",\"variant\":\"%s\"",
              vn_world_task_name(task), (long long)index, sc.label, sc.scenario, sc.variant);
    sb_printf(&b, ",\"n_objects\":%d,\"source_frames\":%d,\"event_frame\":%d", sc.n_obj, sc.n_src, sc.event_frame);
    for (int i = 0; i < sc.n_params; i++)
        sb_number(&b, sc.params[i].name, sc.params[i].value);
    if (task == VN_TASK_FUTURE) {
        sb_printf(&b, ",\"true_index\":%d,\"kinds\":[", true_index);
        for (int k = 0; k < n_kinds; k++)
            sb_printf(&b, k ? ",%d" : "%d", kinds[k]);
        sb_printf(&b, "]");
    }
    if (task == VN_TASK_ORDER) {
        /* The permutation is the order task's whole story. */
        sb_printf(&b, ",\"frames\":[");
        for (int t = 0; t < sc.n_out; t++)
            sb_printf(&b, t ? ",%d" : "%d", sc.map[t]);
        sb_printf(&b, "]");
    }
    sb_printf(&b, "}");
    size_t need = b.len + 1;
    vnw_scene_free(&sc);
    if (need > cap) {
        buf[0] = '\0';
        return vn_error(VN_ERR_SHAPE, "vn_world_describe: the description needs %zu bytes; cap is %zu", need, cap);
    }
    return VN_OK;
}
