/*
 * From a decoded picture to output pixels: one sws_scale pass from the source crop
 * region straight to the target size (colour space and range honoured), then one
 * pass that rotates, mirrors, reduces to luma and normalises while it stores.
 */
#include "io/video_internal.h"
#include "core/error.h"
#include "core/rng.h"
#include "core/tensor_check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/pixdesc.h>

/* Measured on FFmpeg 5.1 (640x360 yuv420p to rgb24): at equal sizes these flags take
 * the table-driven converter (0.07 ms, within 3 levels of exact maths, gray levels
 * exact); ACCURATE_RND would force the generic path, 5x slower and no closer. When
 * scaling, full chroma interpolation is what keeps limited-range white at 255 (253
 * without it). Bilinear shrinking in swscale widens its filter, so it is area-aware. */
#define VN_SWS_FLAGS (SWS_BILINEAR | SWS_FULL_CHR_H_INT)

/* Bounds on transform sizes, far above any sensible clip but low enough that sizes
 * multiplied together stay well inside int. */
#define VN_MAX_SIDE 16384

/* ---- transforms ---------------------------------------------------------------------- */

VN_DEFINE_OPTIONS_INIT(vn_transform_options_init, vn_transform_options, VN_TRANSFORM_OPTIONS_VERSION, VN_TRANSFORM_OPTIONS_INIT)

vn_status vn_transform_check(const char *fn, const vn_transform_options *t)
{
    VN_CHECK_VERSION(fn, "transform options", t->version, VN_TRANSFORM_OPTIONS_VERSION, "VN_TRANSFORM_OPTIONS_INIT");
    if (t->short_side < 0 || t->short_side > VN_MAX_SIDE)
        return vn_error(VN_ERR_INVALID_ARG, "%s: short_side is %d; expected 0 (keep) or 1..%d", fn, t->short_side,
                        VN_MAX_SIDE);
    if (t->crop_size < 0 || t->crop_size > VN_MAX_SIDE)
        return vn_error(VN_ERR_INVALID_ARG, "%s: crop_size is %d; expected 0 (none) or 1..%d", fn, t->crop_size,
                        VN_MAX_SIDE);
    if (t->random_resized_crop) {
        if (t->crop_size <= 0)
            return vn_error(VN_ERR_INVALID_ARG, "%s: random_resized_crop needs crop_size > 0", fn);
        if (!(t->rrc_scale[0] > 0 && t->rrc_scale[0] <= t->rrc_scale[1] && t->rrc_scale[1] <= 1))
            return vn_error(VN_ERR_INVALID_ARG, "%s: rrc_scale is [%g, %g]; expected 0 < lo <= hi <= 1", fn,
                            (double)t->rrc_scale[0], (double)t->rrc_scale[1]);
        if (!(t->rrc_ratio[0] > 0 && t->rrc_ratio[0] <= t->rrc_ratio[1] && isfinite(t->rrc_ratio[1])))
            return vn_error(VN_ERR_INVALID_ARG, "%s: rrc_ratio is [%g, %g]; expected 0 < lo <= hi", fn,
                            (double)t->rrc_ratio[0], (double)t->rrc_ratio[1]);
    }
    if (!(t->hflip_prob >= 0 && t->hflip_prob <= 1))
        return vn_error(VN_ERR_INVALID_ARG, "%s: hflip_prob is %g; expected a probability in [0, 1]", fn,
                        (double)t->hflip_prob);
    for (int c = 0; c < 3; c++) {
        if (!isfinite(t->mean[c]))
            return vn_error(VN_ERR_INVALID_ARG, "%s: mean[%d] is not finite", fn, c);
        if (!isfinite(t->std[c]) || t->std[c] == 0)
            return vn_error(VN_ERR_INVALID_ARG, "%s: std[%d] is %g; expected a finite non-zero value", fn, c,
                            (double)t->std[c]);
    }
    return VN_OK;
}

/* Random resized crop as torchvision and V-JEPA draw it: ten tries at an area and a
 * log-uniform aspect ratio that fit, then the largest centred crop within the ratios. */
static void draw_rrc(vn_rng *rng, const vn_transform_options *t, int W, int H, vn_geom *g)
{
    double area = (double)W * H;
    double lr0 = log(t->rrc_ratio[0]), lr1 = log(t->rrc_ratio[1]);
    for (int attempt = 0; attempt < 10; attempt++) {
        double a = area * (t->rrc_scale[0] + (t->rrc_scale[1] - t->rrc_scale[0]) * vn_rng_uniform(rng));
        double ratio = exp(lr0 + (lr1 - lr0) * vn_rng_uniform(rng));
        long w = lround(sqrt(a * ratio)), h = lround(sqrt(a / ratio));
        if (w > 0 && h > 0 && w <= W && h <= H) {
            g->dx = (double)vn_rng_below(rng, (uint64_t)(W - w + 1));
            g->dy = (double)vn_rng_below(rng, (uint64_t)(H - h + 1));
            g->dw = (double)w;
            g->dh = (double)h;
            return;
        }
    }
    double in_ratio = (double)W / H, w = W, h = H;
    if (in_ratio < t->rrc_ratio[0])
        h = round(w / t->rrc_ratio[0]);
    else if (in_ratio > t->rrc_ratio[1])
        w = round(h * t->rrc_ratio[1]);
    g->dw = w;
    g->dh = h;
    g->dx = floor((W - w) / 2);
    g->dy = floor((H - h) / 2);
}

vn_status vn_geom_make(const vn_video *v, const vn_transform_options *t, vn_geom *g)
{
    int W = v->info.width, H = v->info.height;
    memset(g, 0, sizeof *g);
    g->dw = W;
    g->dh = H;
    g->out_w = W;
    g->out_h = H;
    if (!t)
        return VN_OK;
    g->gray = t->grayscale != 0;
    if (t->random_resized_crop) {
        vn_rng rng;
        vn_rng_seed(&rng, t->seed, 2);
        draw_rrc(&rng, t, W, H, g);
        g->out_w = g->out_h = t->crop_size;
    } else {
        int short_in = W < H ? W : H;
        double s = t->short_side > 0 ? (double)t->short_side / short_in : 1.0;
        /* A crop larger than the picture scales the picture up until the crop fits,
         * rather than padding with invented pixels. */
        if (t->crop_size > 0 && t->crop_size > short_in * s)
            s = (double)t->crop_size / short_in;
        long sw = lround(W * s), sh = lround(H * s);
        if (sw < 1 || sh < 1 || sw > VN_MAX_SIDE || sh > VN_MAX_SIDE)
            return vn_error(VN_ERR_INVALID_ARG, "resizing %s from %dx%d to %ldx%ld: the size is outside [1, %d]",
                            v->name, W, H, sw, sh, VN_MAX_SIDE);
        if (t->crop_size > 0) {
            int c = t->crop_size;
            if (c > sw)
                sw = c;
            if (c > sh)
                sh = c;
            g->dx = floor((double)(sw - c) / 2) / s;
            g->dy = floor((double)(sh - c) / 2) / s;
            g->dw = g->dh = c / s;
            if (g->dx + g->dw > W)
                g->dw = W - g->dx;
            if (g->dy + g->dh > H)
                g->dh = H - g->dy;
            g->out_w = g->out_h = c;
        } else {
            g->out_w = (int)sw;
            g->out_h = (int)sh;
        }
    }
    if (t->hflip_prob > 0) {
        vn_rng rng;
        vn_rng_seed(&rng, t->seed, 3);
        g->hflip = vn_rng_uniform(&rng) < t->hflip_prob;
    }
    return VN_OK;
}

/* ---- swscale ---------------------------------------------------------------------- */

void vn_sws_cache_free(vn_sws_cache *c)
{
    for (int i = 0; i < VN_SWS_CACHE; i++) {
        sws_freeContext(c->e[i].ctx);
        c->e[i].ctx = NULL;
    }
}

static int sws_colorspace(int cs)
{
    switch (cs) {
    case AVCOL_SPC_BT709: return SWS_CS_ITU709;
    case AVCOL_SPC_FCC: return SWS_CS_FCC;
    case AVCOL_SPC_BT470BG:
    case AVCOL_SPC_SMPTE170M: return SWS_CS_ITU601;
    case AVCOL_SPC_SMPTE240M: return SWS_CS_SMPTE240M;
    case AVCOL_SPC_BT2020_NCL:
    case AVCOL_SPC_BT2020_CL: return SWS_CS_BT2020;
    default: return SWS_CS_DEFAULT;
    }
}

static struct SwsContext *sws_get(vn_sws_cache *c, int sw, int sh, int sfmt, int dw, int dh, int dfmt, int cs,
                                  int full)
{
    c->clock++;
    int victim = 0;
    for (int i = 0; i < VN_SWS_CACHE; i++) {
        vn_sws_entry *e = &c->e[i];
        if (e->ctx && e->sw == sw && e->sh == sh && e->sfmt == sfmt && e->dw == dw && e->dh == dh && e->dfmt == dfmt &&
            e->colorspace == cs && e->full_range == full) {
            e->last_use = c->clock;
            return e->ctx;
        }
        if (!e->ctx || (c->e[victim].ctx && e->last_use < c->e[victim].last_use))
            victim = i;
    }
    struct SwsContext *ctx = sws_getContext(sw, sh, sfmt, dw, dh, dfmt, VN_SWS_FLAGS, NULL, NULL, NULL);
    if (!ctx)
        return NULL;
    const int *src_coefs = sws_getCoefficients(cs);
    /* Errors here only mean the source is not YUV, where these details do not apply. */
    sws_setColorspaceDetails(ctx, src_coefs, full, sws_getCoefficients(SWS_CS_DEFAULT), 1, 0, 1 << 16, 1 << 16);
    vn_sws_entry *e = &c->e[victim];
    sws_freeContext(e->ctx);
    *e = (vn_sws_entry){ctx, sw, sh, sfmt, dw, dh, dfmt, cs, full, c->clock};
    return ctx;
}

/* The deprecated "J" formats are their plain twins in full range: swscale wants the
 * twin and the range flag, and warns otherwise. */
static enum AVPixelFormat unjpeg(enum AVPixelFormat f, int *full)
{
    switch (f) {
    case AV_PIX_FMT_YUVJ420P: *full = 1; return AV_PIX_FMT_YUV420P;
    case AV_PIX_FMT_YUVJ422P: *full = 1; return AV_PIX_FMT_YUV422P;
    case AV_PIX_FMT_YUVJ444P: *full = 1; return AV_PIX_FMT_YUV444P;
    case AV_PIX_FMT_YUVJ440P: *full = 1; return AV_PIX_FMT_YUV440P;
    case AV_PIX_FMT_YUVJ411P: *full = 1; return AV_PIX_FMT_YUV411P;
    default: return f;
    }
}

static vn_status ensure(uint8_t **buf, size_t *cap, size_t need, const char *name)
{
    if (need <= *cap)
        return VN_OK;
    uint8_t *p = realloc(*buf, need);
    if (!p)
        return vn_error(VN_ERR_OUT_OF_MEMORY, "converting %s: out of memory for %zu bytes", name, need);
    *buf = p;
    *cap = need;
    return VN_OK;
}

/* Scratch rows get slack at the end: swscale's vector code may write a little past
 * the last pixel of a line. */
#define VN_ROW_SLACK 64

vn_status vn_convert_frame(vn_video *v, const AVFrame *f, const vn_geom *g)
{
    int fw = f->width, fh = f->height;
    const AVPixFmtDescriptor *desc = av_pix_fmt_desc_get((enum AVPixelFormat)f->format);
    if (fw <= 0 || fh <= 0 || !desc || (desc->flags & AV_PIX_FMT_FLAG_HWACCEL))
        return vn_error(VN_ERR_FORMAT, "converting a frame of %s: unusable picture (%dx%d, format %d)", v->name, fw,
                        fh, f->format);

    /* The display rectangle in coded coordinates of the nominal size (see vn_store_frame
     * for the rotation convention), then scaled to this frame's size. */
    double Wc = v->coded_w, Hc = v->coded_h, cx, cy, cw, ch;
    switch (v->rotation) {
    case 90: cx = g->dy; cy = Hc - g->dx - g->dw; cw = g->dh; ch = g->dw; break;
    case 180: cx = Wc - g->dx - g->dw; cy = Hc - g->dy - g->dh; cw = g->dw; ch = g->dh; break;
    case 270: cx = Wc - g->dy - g->dh; cy = g->dx; cw = g->dh; ch = g->dw; break;
    default: cx = g->dx; cy = g->dy; cw = g->dw; ch = g->dh; break;
    }
    double sx = fw / Wc, sy = fh / Hc;
    long x0 = lround(cx * sx), x1 = lround((cx + cw) * sx), y0 = lround(cy * sy), y1 = lround((cy + ch) * sy);
    x0 = x0 < 0 ? 0 : x0 > fw - 1 ? fw - 1 : x0;
    y0 = y0 < 0 ? 0 : y0 > fh - 1 ? fh - 1 : y0;
    x1 = x1 <= x0 ? x0 + 1 : x1 > fw ? fw : x1;
    y1 = y1 <= y0 ? y0 + 1 : y1 > fh ? fh : y1;

    int dw = v->rotation % 180 ? g->out_h : g->out_w;
    int dh = v->rotation % 180 ? g->out_w : g->out_h;
    int stride = dw * 3 + VN_ROW_SLACK;
    vn_status s = ensure(&v->rgb, &v->rgb_cap, (size_t)stride * (size_t)dh + VN_ROW_SLACK, v->name);
    if (s != VN_OK)
        return s;
    v->rgb_w = dw;
    v->rgb_h = dh;
    v->rgb_stride = stride;

    int full = f->color_range == AVCOL_RANGE_JPEG;
    enum AVPixelFormat sfmt = unjpeg((enum AVPixelFormat)f->format, &full);
    int is_rgb = (desc->flags & AV_PIX_FMT_FLAG_RGB) != 0;
    if (desc->nb_components <= 2 && !is_rgb && f->color_range != AVCOL_RANGE_MPEG)
        full = 1; /* gray pictures are full range unless they say otherwise */
    if (is_rgb)
        full = 1;
    int cs = sws_colorspace(f->colorspace != AVCOL_SPC_UNSPECIFIED ? f->colorspace
                                                                    : v->fmt->streams[v->stream]->codecpar->color_space);
    uint8_t *dst[4] = {v->rgb, NULL, NULL, NULL};
    int dst_ls[4] = {stride, 0, 0, 0};

    if (!(desc->flags & (AV_PIX_FMT_FLAG_PAL | AV_PIX_FMT_FLAG_BITSTREAM | AV_PIX_FMT_FLAG_BAYER))) {
        /* Crop by moving the plane pointers; the origin snaps to the chroma grid so
         * that luma and chroma stay aligned. */
        int ax = 1 << desc->log2_chroma_w, ay = 1 << desc->log2_chroma_h;
        x0 -= x0 % ax;
        y0 -= y0 % ay;
        const uint8_t *src[4] = {NULL, NULL, NULL, NULL};
        for (int c = 0; c < desc->nb_components; c++) {
            const AVComponentDescriptor *comp = &desc->comp[c];
            int p = comp->plane;
            if (src[p])
                continue;
            int chroma = !is_rgb && (c == 1 || c == 2);
            long px = chroma ? x0 >> desc->log2_chroma_w : x0;
            long py = chroma ? y0 >> desc->log2_chroma_h : y0;
            src[p] = f->data[p] + py * f->linesize[p] + px * comp->step;
        }
        /* Planes not reached by any component (none in practice) stay NULL for swscale. */
        int cwi = (int)(x1 - x0), chi = (int)(y1 - y0);
        struct SwsContext *ctx = sws_get(&v->sws, cwi, chi, sfmt, dw, dh, AV_PIX_FMT_RGB24, cs, full);
        if (!ctx)
            return vn_error(VN_ERR_UNSUPPORTED, "converting %s: swscale cannot convert %s %dx%d to rgb24 %dx%d",
                            v->name, desc->name, cwi, chi, dw, dh);
        sws_scale(ctx, src, f->linesize, 0, chi, dst, dst_ls);
        return VN_OK;
    }

    /* Palette, bit-packed and Bayer pictures cannot be cropped by pointer: convert
     * the whole picture, then crop and scale the RGB. */
    int fstride = fw * 3 + VN_ROW_SLACK;
    s = ensure(&v->full, &v->full_cap, (size_t)fstride * (size_t)fh + VN_ROW_SLACK, v->name);
    if (s != VN_OK)
        return s;
    struct SwsContext *c1 = sws_get(&v->sws, fw, fh, sfmt, fw, fh, AV_PIX_FMT_RGB24, cs, full);
    if (!c1)
        return vn_error(VN_ERR_UNSUPPORTED, "converting %s: swscale cannot convert %s to rgb24", v->name, desc->name);
    uint8_t *fdst[4] = {v->full, NULL, NULL, NULL};
    int fls[4] = {fstride, 0, 0, 0};
    sws_scale(c1, (const uint8_t *const *)f->data, f->linesize, 0, fh, fdst, fls);
    int cwi = (int)(x1 - x0), chi = (int)(y1 - y0);
    struct SwsContext *c2 = sws_get(&v->sws, cwi, chi, AV_PIX_FMT_RGB24, dw, dh, AV_PIX_FMT_RGB24, SWS_CS_DEFAULT, 1);
    if (!c2)
        return vn_error(VN_ERR_UNSUPPORTED, "converting %s: swscale cannot scale rgb24", v->name);
    const uint8_t *src[4] = {v->full + y0 * fstride + x0 * 3, NULL, NULL, NULL};
    int sls[4] = {fstride, 0, 0, 0};
    sws_scale(c2, src, sls, 0, chi, dst, dst_ls);
    return VN_OK;
}

/* ---- storing ------------------------------------------------------------------------ */

/*
 * Rotation convention: the picture A (h x w, coded) is turned clockwise by r degrees
 * into the displayed picture B. For r = 90, B[y][x] = A[h-1-x][y]; r = 180,
 * B[y][x] = A[h-1-y][w-1-x]; r = 270, B[y][x] = A[x][w-1-y]. A horizontal flip then
 * mirrors B. For each output row this is a start pointer and a fixed step in A.
 */
void vn_store_frame(const vn_video *v, const vn_geom *g, vn_tensor *out, int64_t t, const float *lut)
{
    const uint8_t *A = v->rgb;
    ptrdiff_t st = v->rgb_stride;
    int ah = v->rgb_h, aw = v->rgb_w;
    int ow = g->out_w, oh = g->out_h;
    int u8 = out->dtype == VN_DTYPE_U8;
    const int64_t *S = out->strides;
    for (int y = 0; y < oh; y++) {
        const uint8_t *base;
        ptrdiff_t step;
        switch (v->rotation) {
        case 90: base = A + (ptrdiff_t)(ah - 1) * st + (ptrdiff_t)y * 3; step = -st; break;
        case 180: base = A + (ptrdiff_t)(ah - 1 - y) * st + (ptrdiff_t)(aw - 1) * 3; step = -3; break;
        case 270: base = A + (ptrdiff_t)(aw - 1 - y) * 3; step = st; break;
        default: base = A + (ptrdiff_t)y * st; step = 3; break;
        }
        if (g->hflip) {
            base += (ptrdiff_t)(ow - 1) * step;
            step = -step;
        }
        if (u8) {
            uint8_t *row = (uint8_t *)out->data + t * S[0] + y * S[1];
            if (!g->gray && step == 3 && S[2] == 3 && S[3] == 1) {
                memcpy(row, base, (size_t)ow * 3);
                continue;
            }
            for (int x = 0; x < ow; x++) {
                const uint8_t *p = base + x * step;
                uint8_t *q = row + x * S[2];
                if (g->gray) {
                    q[0] = (uint8_t)((p[0] * 299 + p[1] * 587 + p[2] * 114 + 500) / 1000);
                } else {
                    q[0] = p[0];
                    q[S[3]] = p[1];
                    q[2 * S[3]] = p[2];
                }
            }
        } else {
            float *o = (float *)out->data + t * S[1] + y * S[2];
            if (g->gray) {
                for (int x = 0; x < ow; x++) {
                    const uint8_t *p = base + x * step;
                    o[x * S[3]] = lut[(p[0] * 299 + p[1] * 587 + p[2] * 114 + 500) / 1000];
                }
            } else {
                float *o1 = o + S[0], *o2 = o + 2 * S[0];
                for (int x = 0; x < ow; x++) {
                    const uint8_t *p = base + x * step;
                    o[x * S[3]] = lut[p[0]];
                    o1[x * S[3]] = lut[256 + p[1]];
                    o2[x * S[3]] = lut[512 + p[2]];
                }
            }
        }
    }
}
