/*
 * Decoding one loader item: open, check the clip shape, sample (inside the manifest's
 * time range when it gives one), decode and transform into a clip buffer.
 */
#include "io/loader_internal.h"
#include "core/error.h"
#include "core/rng.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Times in a manifest are decimal and frame times come from integer pts * time base:
 * a microsecond of slack keeps "2.0" from missing a frame whose pts works out to 1.9999999. */
#define RANGE_EPS_S 1e-6

static vn_status open_video(const char *path, int approximate, double timeout_s, vn_video **out)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return vn_error(errno == ENOENT ? VN_ERR_NOT_FOUND : VN_ERR_IO, "%s: %s", path, strerror(errno));
    /* A FIFO or device would block in open(2) or never end, beyond the reach of timeout_s. */
    if (!S_ISREG(st.st_mode))
        return vn_error(VN_ERR_FORMAT, "%s is not a regular file", path);
    vn_video_open_options vo = VN_VIDEO_OPEN_OPTIONS_INIT;
    vo.approximate = approximate;
    /* The loader's workers are the parallelism; threaded decoders would oversubscribe the cores. */
    vo.n_threads = 1;
    vo.timeout_s = timeout_s;
    return vn_video_create(out, path, &vo);
}

vn_status vn_loader_probe_shape(const char *path, const vn_clip_options *clip, const vn_transform_options *transform,
                                vn_dtype dtype, double timeout_s, int64_t *clip_shape)
{
    vn_video *v = NULL;
    vn_status s = open_video(path, 1, timeout_s, &v);
    if (s == VN_OK)
        s = vn_clip_shape(v, clip, transform, dtype, clip_shape);
    vn_video_destroy(v);
    return s;
}

/* The frames [*first, *last] shown during [start_s, end_s). */
static vn_status range_frames(vn_video *v, const vn_loader_item *item, int64_t *first, int64_t *last)
{
    vn_video_info info = VN_VIDEO_INFO_INIT;
    vn_status s = vn_video_get_info(v, &info);
    if (s != VN_OK)
        return s;
    if (info.duration_s > 0.0 && item->start_s >= info.duration_s)
        return vn_error(VN_ERR_FORMAT, "the manifest's range [%g, %g) s starts after the video ends (%.3f s)",
                        item->start_s, item->end_s, info.duration_s);
    s = vn_video_frame_at_time(v, item->start_s + RANGE_EPS_S, first);
    if (s == VN_OK)
        s = vn_video_frame_at_time(v, item->end_s, last);
    /* The end is open: drop the frame shown from end_s on. Comparing frame times rather
     * than asking for end_s - eps keeps this independent of how times round to ticks. */
    double t_last = 0.0;
    if (s == VN_OK)
        s = vn_video_frame_time(v, *last, &t_last);
    if (s != VN_OK)
        return s;
    if (t_last >= item->end_s - RANGE_EPS_S && *last > *first)
        (*last)--;
    /* A range shorter than one frame still shows the frame on screen at start_s. */
    if (*last < *first)
        *last = *first;
    return VN_OK;
}

/* Overwrite output frame `to` with output frame `from` in a contiguous clip buffer. */
static void copy_frame(void *buf, vn_dtype dtype, const int64_t *shape, int64_t from, int64_t to)
{
    if (dtype == VN_DTYPE_U8) {
        size_t frame = (size_t)(shape[1] * shape[2] * shape[3]);
        unsigned char *b = buf;
        memcpy(b + (size_t)to * frame, b + (size_t)from * frame, frame);
    } else {
        size_t plane = (size_t)(shape[2] * shape[3]);
        float *b = buf;
        for (int64_t c = 0; c < shape[0]; c++)
            memcpy(b + (size_t)(c * shape[1] + to) * plane, b + (size_t)(c * shape[1] + from) * plane,
                   plane * sizeof(float));
    }
}

/* Pick the clip start inside [first, last] and return the clip's indices (output order). */
static vn_status place_in_range(vn_video *v, const vn_loader_job *job, vn_clip_options *c, int64_t first,
                                int64_t last, int64_t *indices)
{
    vn_clip_options probe = *c;
    probe.start = first;
    probe.reverse = 0;
    vn_status s = vn_clip_indices(v, &probe, indices);
    if (s != VN_OK)
        return s;
    int64_t span = indices[c->n_frames - 1] - indices[0];
    int64_t hi = last - span > first ? last - span : first;
    int64_t start;
    if (job->clip->start < 0) {
        vn_rng r;
        vn_rng_seed(&r, job->clip_seed, 0);
        start = first + (int64_t)vn_rng_below(&r, (uint64_t)(hi - first + 1));
    } else {
        /* A fixed start counts from the range's first frame. */
        start = first + job->clip->start;
        if (start > last)
            start = last;
    }
    c->start = start;
    return vn_clip_indices(v, c, indices);
}

vn_status vn_loader_load_item(const vn_loader_job *job, void *buf)
{
    const vn_loader_item *item = job->item;
    vn_video *v = NULL;
    int64_t *indices = NULL;
    vn_status s = open_video(item->path, 0, job->timeout_s, &v);
    if (s != VN_OK)
        return s;

    int64_t shape[4];
    s = vn_clip_shape(v, job->clip, job->transform, job->dtype, shape);
    if (s == VN_OK && memcmp(shape, job->clip_shape, sizeof shape) != 0)
        s = vn_error(VN_ERR_SHAPE, "%s gives clips of shape [%lld, %lld, %lld, %lld] but the batch needs "
                     "[%lld, %lld, %lld, %lld]; give a transform with crop_size to load videos of different sizes",
                     item->path, (long long)shape[0], (long long)shape[1], (long long)shape[2], (long long)shape[3],
                     (long long)job->clip_shape[0], (long long)job->clip_shape[1], (long long)job->clip_shape[2],
                     (long long)job->clip_shape[3]);

    vn_clip_options c = *job->clip;
    int64_t first = 0, last = 0;
    int ranged = item->start_s >= 0.0;
    if (s == VN_OK && ranged) {
        indices = malloc((size_t)c.n_frames * sizeof *indices);
        s = indices ? range_frames(v, item, &first, &last)
                    : vn_error(VN_ERR_OUT_OF_MEMORY, "loader: out of memory for %d clip indices", c.n_frames);
        if (s == VN_OK)
            s = place_in_range(v, job, &c, first, last, indices);
    } else if (c.start < 0) {
        c.seed = job->clip_seed;
    }

    vn_transform_options t;
    const vn_transform_options *tp = NULL;
    if (job->transform) {
        t = *job->transform;
        t.seed = job->aug_seed;
        tp = &t;
    }
    vn_tensor out;
    if (s == VN_OK)
        s = vn_tensor_init(&out, buf, job->dtype, 4, job->clip_shape);
    if (s == VN_OK)
        s = vn_video_read_clip(v, &c, tp, &out);

    if (s == VN_OK && ranged) {
        /* Frames past the range repeat the range's last frame, as a short video repeats its
         * last one; the crop is per clip, so the repeated output frame is the right one. */
        int64_t keep = -1;
        for (int64_t i = 0; i < c.n_frames; i++)
            if (indices[i] <= last && (keep < 0 || indices[i] > indices[keep]))
                keep = i;
        for (int64_t i = 0; i < c.n_frames && keep >= 0; i++)
            if (indices[i] > last)
                copy_frame(buf, job->dtype, job->clip_shape, keep, i);
    }
    free(indices);
    vn_video_destroy(v);
    return s;
}
