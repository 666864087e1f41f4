/* Clip sampling: which frames a clip takes, its output shape, and reading it. */
#include "io/video_internal.h"
#include "core/error.h"
#include "core/rng.h"
#include "core/tensor_check.h"

#include <math.h>
#include <stdlib.h>

VN_DEFINE_OPTIONS_INIT(vn_clip_options_init, vn_clip_options, VN_CLIP_OPTIONS_VERSION, VN_CLIP_OPTIONS_INIT)

static vn_status clip_check(const char *fn, const vn_clip_options *c)
{
    VN_CHECK_VERSION(fn, "clip options", c->version, VN_CLIP_OPTIONS_VERSION, "VN_CLIP_OPTIONS_INIT");
    if (c->n_frames < 1)
        return vn_error(VN_ERR_INVALID_ARG, "%s: n_frames is %d; a clip needs at least 1 frame", fn, c->n_frames);
    if (c->stride < 0)
        return vn_error(VN_ERR_INVALID_ARG, "%s: stride is %d; expected >= 1, or 0 to sample at target_fps", fn,
                        c->stride);
    if (c->stride == 0 && !(c->target_fps > 0 && isfinite(c->target_fps)))
        return vn_error(VN_ERR_INVALID_ARG, "%s: stride is 0 but target_fps is %g; one of them must be positive", fn,
                        c->target_fps);
    if (c->start < -1)
        return vn_error(VN_ERR_INVALID_ARG, "%s: start is %lld; expected a frame index or -1 for a random start", fn,
                        (long long)c->start);
    return VN_OK;
}

static double index_time(const vn_video *v, int64_t i)
{
    if (v->mode == VN_KEY_PTS)
        return (double)(v->pts[i] - v->t0) * av_q2d(v->tb);
    return (double)i / v->info.avg_fps;
}

static vn_status clip_indices(const char *fn, const vn_video *v, const vn_clip_options *c, int64_t *idx)
{
    vn_status s = clip_check(fn, c);
    if (s != VN_OK)
        return s;
    /* Approximate mode may not know the length at all: then nothing is clamped and
     * reads past the real end return the last frame. */
    int64_t N = v->n_frames > 0 ? v->n_frames : INT64_MAX / 4;
    int64_t n = c->n_frames;
    if (c->start >= N)
        return vn_error(VN_ERR_INVALID_ARG, "%s: start %lld is beyond the last frame of %s (%lld frames)", fn,
                        (long long)c->start, v->name, (long long)N);
    vn_rng rng;
    vn_rng_seed(&rng, c->seed, 1);
    if (c->stride > 0) {
        int64_t span = (int64_t)(n - 1) * c->stride + 1;
        int64_t start = c->start;
        if (start < 0) {
            int64_t max_start = N - span > 0 ? N - span : 0;
            start = (int64_t)vn_rng_below(&rng, (uint64_t)max_start + 1);
        }
        for (int64_t k = 0; k < n; k++) {
            int64_t i = start + k * c->stride;
            idx[k] = i < N ? i : N - 1;
        }
    } else {
        double span = (n - 1) / c->target_fps;
        int64_t start = c->start;
        if (start < 0) {
            int64_t max_start = 0;
            if (v->n_frames > 0) {
                double latest = index_time(v, N - 1) - span;
                max_start = latest > 0 ? vn_video_time_index(v, latest) : 0;
            }
            start = (int64_t)vn_rng_below(&rng, (uint64_t)max_start + 1);
        }
        double t0 = index_time(v, start);
        for (int64_t k = 0; k < n; k++) {
            int64_t i = vn_video_time_index(v, t0 + k / c->target_fps);
            if (i < start)
                i = start;
            idx[k] = i < N ? i : N - 1;
        }
    }
    if (c->reverse)
        for (int64_t a = 0, b = n - 1; a < b; a++, b--) {
            int64_t tmp = idx[a];
            idx[a] = idx[b];
            idx[b] = tmp;
        }
    return VN_OK;
}

vn_status vn_clip_indices(const vn_video *video, const vn_clip_options *clip, int64_t *indices)
{
    VN_CHECK_NULL(video);
    VN_CHECK_NULL(clip);
    VN_CHECK_NULL(indices);
    return clip_indices(__func__, video, clip, indices);
}

static vn_status shape_of(const char *fn, const vn_video *v, const vn_clip_options *clip,
                          const vn_transform_options *t, vn_dtype dtype, vn_geom *g, int64_t *shape)
{
    vn_status s = clip_check(fn, clip);
    if (s != VN_OK)
        return s;
    if (t && (s = vn_transform_check(fn, t)) != VN_OK)
        return s;
    if (dtype != VN_DTYPE_U8 && dtype != VN_DTYPE_F32)
        return vn_error(VN_ERR_INVALID_ARG, "%s: dtype %s is not a clip type; use VN_DTYPE_U8 [T,H,W,C] or "
                        "VN_DTYPE_F32 [C,T,H,W]", fn, vn_dtype_name(dtype));
    s = vn_geom_make(v, t, g);
    if (s != VN_OK)
        return s;
    int64_t T = clip->n_frames, C = g->gray ? 1 : 3;
    if (dtype == VN_DTYPE_U8) {
        shape[0] = T;
        shape[1] = g->out_h;
        shape[2] = g->out_w;
        shape[3] = C;
    } else {
        shape[0] = C;
        shape[1] = T;
        shape[2] = g->out_h;
        shape[3] = g->out_w;
    }
    return VN_OK;
}

vn_status vn_clip_shape(const vn_video *video, const vn_clip_options *clip, const vn_transform_options *transform,
                        vn_dtype dtype, int64_t *shape)
{
    VN_CHECK_NULL(video);
    VN_CHECK_NULL(clip);
    VN_CHECK_NULL(shape);
    vn_geom g;
    return shape_of(__func__, video, clip, transform, dtype, &g, shape);
}

typedef struct clip_job {
    vn_video *v;
    vn_geom g;
    vn_tensor *out;
    const vn_requests *req;
    const float *lut;
    int64_t converted_serial;
} clip_job;

static vn_status clip_sink(void *user, const AVFrame *frame, int64_t target, int64_t serial)
{
    clip_job *job = user;
    if (serial != job->converted_serial) {
        vn_status s = vn_convert_frame(job->v, frame, &job->g);
        if (s != VN_OK)
            return s;
        job->converted_serial = serial;
    }
    vn_store_frame(job->v, &job->g, job->out, job->req->slot[target], job->lut);
    return VN_OK;
}

vn_status vn_video_read_clip(vn_video *video, const vn_clip_options *clip, const vn_transform_options *transform,
                             vn_tensor *out)
{
    VN_CHECK_NULL(video);
    VN_CHECK_NULL(clip);
    VN_CHECK_NULL(out);
    clip_job job = {.v = video, .out = out, .converted_serial = -1};
    int64_t shape[4];
    vn_status s = shape_of(__func__, video, clip, transform, out->dtype, &job.g, shape);
    if (s != VN_OK)
        return s;
    s = vn_tensor_expect(__func__, "clip", out, out->dtype, 4, shape);
    if (s != VN_OK)
        return s;
    int64_t n = clip->n_frames;
    int64_t *idx = malloc((size_t)n * sizeof *idx);
    float lut[3 * 256];
    if (!idx)
        return vn_error(VN_ERR_OUT_OF_MEMORY, "vn_video_read_clip: out of memory");
    s = clip_indices(__func__, video, clip, idx);
    if (s == VN_OK && out->dtype == VN_DTYPE_F32) {
        vn_transform_options def = VN_TRANSFORM_OPTIONS_INIT;
        const vn_transform_options *t = transform ? transform : &def;
        for (int c = 0; c < 3; c++)
            for (int x = 0; x < 256; x++)
                lut[c * 256 + x] = (float)(((double)x / 255.0 - t->mean[c]) / t->std[c]);
        job.lut = lut;
    }
    vn_requests req = {0};
    if (s == VN_OK)
        s = vn_requests_make(&req, idx, NULL, n);
    free(idx);
    if (s != VN_OK)
        return s;
    job.req = &req;
    s = vn_video_decode(video, &req, clip_sink, &job);
    vn_requests_free(&req);
    return s;
}
