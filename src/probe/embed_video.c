/*
 * embed_video.c: a video file cut into windows of the encoder's frames, each embedded
 * forward and (or) backward: the input of the real-footage probes.
 *
 * Windows overlap (by default a 16-frame window every 8 frames), so reading each with
 * its own vn_video_read_clip would decode most frames twice and seek back to a keyframe
 * before every window; with one keyframe per file that is quadratic. Instead a run of
 * consecutive windows is read as one clip on the lattice that holds all their frames,
 * and each window is gathered from it, in either direction. The transform is a
 * deterministic resize and centre crop, so a window gathered backwards is exactly the
 * clip vn_video_read_clip returns with reverse set.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "probe/probe_internal.h"
#include "vnative/video.h"

/* Windows encoded at once. */
#define BATCH 16

VN_DEFINE_OPTIONS_INIT(vn_window_options_init, vn_window_options, VN_WINDOW_OPTIONS_VERSION, VN_WINDOW_OPTIONS_INIT)

vn_status vn_probe_check_window_options(const char *fn, const vn_window_options *o)
{
    VN_CHECK_VERSION(fn, "vn_window_options", o->version, VN_WINDOW_OPTIONS_VERSION, "VN_WINDOW_OPTIONS_INIT");
    if (o->frame_step < 1)
        return vn_error(VN_ERR_INVALID_ARG, "%s: window options frame_step is %d; it must be >= 1", fn, o->frame_step);
    if (o->window_stride < 1)
        return vn_error(VN_ERR_INVALID_ARG, "%s: window options window_stride is %d; it must be >= 1", fn,
                        o->window_stride);
    if (o->max_windows < 0)
        return vn_error(VN_ERR_INVALID_ARG, "%s: window options max_windows is %d; it must be >= 0 (0: all)", fn,
                        o->max_windows);
    for (int c = 0; c < 3; c++)
        if (!isfinite(o->mean[c]) || !isfinite(o->std[c]) || !(o->std[c] > 0.0f))
            return vn_error(VN_ERR_INVALID_ARG,
                            "%s: window options mean[%d] = %g, std[%d] = %g; both must be finite and std > 0", fn, c,
                            (double)o->mean[c], c, (double)o->std[c]);
    return VN_OK;
}

static int64_t gcd64(int64_t a, int64_t b)
{
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Where the windows are: n_all whole windows, of which n_sel are kept, evenly spread. */
typedef struct plan {
    int64_t T, step, stride, span, n_all, n_sel;
} plan;

static int64_t window_start(const plan *p, int64_t j)
{
    /* The j-th of n_sel evenly spread windows is the one at the middle of its share. */
    int64_t k = p->n_sel == p->n_all ? j : ((2 * j + 1) * p->n_all) / (2 * p->n_sel);
    return k * p->stride;
}

static void check_emb(const char *fn, const char *what, const vn_tensor *e, int64_t D, vn_status *st)
{
    if (*st || !e)
        return;
    if (e->ndim != 2 || e->dtype != VN_DTYPE_F32 || e->shape[0] < 1 || e->shape[1] != D || !e->data)
        *st = vn_error(VN_ERR_SHAPE,
                       "%s: %s must be f32 [N, %lld] with N >= 1 and data (the encoder's dim is %lld); got %s with %d "
                       "dimensions",
                       fn, what, (long long)D, (long long)D, vn_dtype_name(e->dtype), e->ndim);
}

typedef struct bufs {
    float *lat, *clips, *out;
    int64_t lat_cap; /* lattice frames lat holds */
} bufs;

/* Gather windows a..b-1 (frames of each at lattice index base_w + t * per) into clips,
 * played backwards when rev; then encode them and store the rows at emb[a..b-1]. */
static vn_status encode_chunk(const vn_encoder *enc, const plan *p, const bufs *B, int64_t C, int64_t S, int64_t D,
                              int64_t n_lat, const int64_t *base, int64_t per, int64_t a, int64_t b, int64_t at,
                              int rev, vn_tensor *emb)
{
    const int64_t plane = S * S, n = b - a;
    for (int64_t w = 0; w < n; w++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t t = 0; t < p->T; t++) {
                int64_t src = base[w] + (rev ? p->T - 1 - t : t) * per;
                memcpy(B->clips + ((w * C + c) * p->T + t) * plane, B->lat + (c * n_lat + src) * plane,
                       (size_t)plane * sizeof(float));
            }
    int64_t cshape[5] = {n, C, p->T, S, S}, eshape[2] = {n, D};
    vn_tensor tc, te;
    vn_tensor_init(&tc, B->clips, VN_DTYPE_F32, 5, cshape);
    vn_tensor_init(&te, B->out, VN_DTYPE_F32, 2, eshape);
    vn_status st = vn_encoder_encode(enc, &tc, &te);
    if (st)
        return st;
    float *dst = emb->data;
    for (int64_t w = 0; w < n; w++)
        for (int64_t j = 0; j < D; j++)
            dst[(at + w) * emb->strides[0] + j * emb->strides[1]] = B->out[w * D + j];
    return VN_OK;
}

/* Read and embed the first `write` selected windows of an open video. */
static vn_status embed_windows(const vn_encoder *enc, vn_video *v, const plan *p, const vn_window_options *o,
                               const vn_encoder_config *cfg, int64_t D, int64_t write, vn_tensor *fwd, vn_tensor *rev,
                               double *start_s)
{
    const int64_t C = cfg->channels, S = cfg->size, plane = S * S;
    const int64_t g = gcd64(p->step, p->stride);
    /* Room for the lattice of BATCH windows that overlap by half, the default. */
    bufs B = {NULL, NULL, NULL, (BATCH + 1) * p->T / 2};
    B.lat = malloc((size_t)(C * B.lat_cap * plane) * sizeof(float));
    B.clips = malloc((size_t)(BATCH * C * p->T * plane) * sizeof(float));
    B.out = malloc((size_t)(BATCH * D) * sizeof(float));
    vn_status st = VN_OK;
    if (!B.lat || !B.clips || !B.out) {
        st = vn_error(VN_ERR_OUT_OF_MEMORY, "out of memory for a batch of %d windows of %lld frames", BATCH,
                      (long long)p->T);
        goto done;
    }
    vn_transform_options tr = VN_TRANSFORM_OPTIONS_INIT;
    tr.short_side = cfg->size;
    tr.crop_size = cfg->size;
    tr.grayscale = cfg->channels == 1;
    memcpy(tr.mean, o->mean, sizeof tr.mean);
    memcpy(tr.std, o->std, sizeof tr.std);
    int64_t base[BATCH];
    for (int64_t a = 0; a < write && !st;) {
        /* The chunk: windows a..b-1, as many as fit in a batch and in the lattice buffer. */
        const int64_t first = window_start(p, a);
        int64_t b = a + 1;
        while (b < write && b - a < BATCH && (window_start(p, b) + p->span - 1 - first) / g + 1 <= B.lat_cap)
            b++;
        /* A lone window is read at its own step: the finer lattice would decode frames it skips. */
        const int64_t lg = b - a > 1 ? g : p->step;
        const int64_t n_lat = (window_start(p, b - 1) + p->span - 1 - first) / lg + 1;
        for (int64_t w = a; w < b; w++)
            base[w - a] = (window_start(p, w) - first) / lg;
        vn_clip_options co = VN_CLIP_OPTIONS_INIT;
        co.n_frames = (int)n_lat;
        co.stride = (int)lg;
        co.start = first;
        int64_t lshape[4] = {C, n_lat, S, S};
        vn_tensor tl;
        vn_tensor_init(&tl, B.lat, VN_DTYPE_F32, 4, lshape);
        if ((st = vn_video_read_clip(v, &co, &tr, &tl)))
            break;
        if (fwd && (st = encode_chunk(enc, p, &B, C, S, D, n_lat, base, p->step / lg, a, b, a, 0, fwd)))
            break;
        if (rev && (st = encode_chunk(enc, p, &B, C, S, D, n_lat, base, p->step / lg, a, b, a, 1, rev)))
            break;
        for (int64_t w = a; start_s && w < b && !st; w++)
            st = vn_video_frame_time(v, window_start(p, w), &start_s[w]);
        a = b;
    }
done:
    free(B.lat);
    free(B.clips);
    free(B.out);
    return st;
}

vn_status vn_probe_embed_video_both(const char *fn, const vn_encoder *enc, const char *path,
                                    const vn_window_options *o, vn_tensor *fwd, vn_tensor *rev, double *start_s,
                                    int64_t *n_windows)
{
    vn_encoder_config cfg;
    int64_t L, D;
    vn_status st = vn_encoder_get_config(enc, &cfg);
    if (!st)
        st = vn_encoder_output_shape(enc, &L, &D);
    if (st)
        return vn_error_prefix(st, "%s: ", fn);
    check_emb(fn, "emb", fwd, D, &st);
    check_emb(fn, "rev", rev, D, &st);
    if (st)
        return st;
    /* one row count bounds the writes into both */
    if (fwd && rev && fwd->shape[0] != rev->shape[0])
        return vn_error(VN_ERR_SHAPE, "%s: emb has %lld rows but rev %lld; they must match", fn,
                        (long long)fwd->shape[0], (long long)rev->shape[0]);
    if (start_s && !fwd && !rev)
        return vn_error(VN_ERR_INVALID_ARG, "%s: start_s is given without emb; counting takes both NULL", fn);
    vn_video *v = NULL;
    if ((st = vn_video_create(&v, path, NULL)))
        return vn_error_prefix(st, "%s: ", fn);
    vn_video_info info = VN_VIDEO_INFO_INIT;
    if ((st = vn_video_get_info(v, &info))) {
        vn_video_destroy(v);
        return vn_error_prefix(st, "%s: ", fn);
    }
    plan p = {cfg.frames, o->frame_step, o->window_stride, 0, 0, 0};
    p.span = (p.T - 1) * p.step + 1;
    p.n_all = info.n_frames >= p.span ? (info.n_frames - p.span) / p.stride + 1 : 0;
    p.n_sel = o->max_windows > 0 && o->max_windows < p.n_all ? o->max_windows : p.n_all;
    const vn_tensor *e = fwd ? fwd : rev;
    const int64_t write = e ? (e->shape[0] < p.n_sel ? e->shape[0] : p.n_sel) : 0;
    if (write > 0 && (st = embed_windows(enc, v, &p, o, &cfg, D, write, fwd, rev, start_s)))
        st = vn_error_prefix(st, "%s: %s: ", fn, path);
    vn_video_destroy(v);
    if (!st)
        *n_windows = p.n_sel;
    return st;
}

vn_status vn_probe_embed_video(const vn_encoder *enc, const char *path, const vn_window_options *opts,
                               unsigned flags, vn_tensor *emb, double *start_s, int64_t *n_windows)
{
    static const char fn[] = "vn_probe_embed_video";
    VN_CHECK_NULL(enc);
    VN_CHECK_PATH(path);
    VN_CHECK_NULL(n_windows);
    if (flags & ~VN_PROBE_EMBED_REVERSED)
        return vn_error(VN_ERR_INVALID_ARG, "%s: flags 0x%x has bits that are not VN_PROBE_EMBED_REVERSED", fn, flags);
    const vn_window_options def = VN_WINDOW_OPTIONS_INIT;
    const vn_window_options *o = opts ? opts : &def;
    vn_status st = vn_probe_check_window_options(fn, o);
    if (st)
        return st;
    const int reversed = (flags & VN_PROBE_EMBED_REVERSED) != 0;
    return vn_probe_embed_video_both(fn, enc, path, o, reversed ? NULL : emb, reversed ? emb : NULL, start_s,
                                     n_windows);
}
