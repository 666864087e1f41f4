/* Opening a video: demuxer, decoder, the packet scan and the metadata it gives. */
#include "io/video_internal.h"
#include "core/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/display.h>
#include <libavutil/pixdesc.h>

VN_DEFINE_OPTIONS_INIT(vn_video_open_options_init, vn_video_open_options, VN_VIDEO_OPEN_OPTIONS_VERSION, VN_VIDEO_OPEN_OPTIONS_INIT)

static vn_status options_check(const char *fn, const vn_video_open_options *o)
{
    VN_CHECK_VERSION(fn, "options", o->version, VN_VIDEO_OPEN_OPTIONS_VERSION, "VN_VIDEO_OPEN_OPTIONS_INIT");
    if (o->n_threads < 0)
        return vn_error(VN_ERR_INVALID_ARG, "%s: n_threads is %d; use 0 to let the library choose", fn, o->n_threads);
    if (!(o->timeout_s >= 0) || isinf(o->timeout_s))
        return vn_error(VN_ERR_INVALID_ARG, "%s: timeout_s is %g; use 0 for no limit or a positive number of seconds",
                        fn, o->timeout_s);
    return VN_OK;
}

/* ---- demuxer ------------------------------------------------------------------------ */

void vn_video_close_demuxer(vn_video *v)
{
    avformat_close_input(&v->fmt);
    vn_memio_close(&v->avio);
}

static int usable_video_stream(const AVStream *st)
{
    return st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO && !(st->disposition & AV_DISPOSITION_ATTACHED_PIC) &&
           st->codecpar->codec_id != AV_CODEC_ID_NONE;
}

vn_status vn_video_open_demuxer(vn_video *v)
{
    vn_video_close_demuxer(v);
    AVFormatContext *fmt = avformat_alloc_context();
    if (!fmt)
        return vn_error(VN_ERR_OUT_OF_MEMORY, "opening %s: out of memory", v->name);
    fmt->interrupt_callback.callback = vn_interrupt_cb;
    fmt->interrupt_callback.opaque = &v->deadline;
    if (!v->path) {
        v->mem.deadline = &v->deadline;
        v->avio = vn_memio_open(&v->mem);
        if (!v->avio) {
            avformat_free_context(fmt);
            return vn_error(VN_ERR_OUT_OF_MEMORY, "opening %s: out of memory", v->name);
        }
        fmt->pb = v->avio;
        fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
    }
    int r = avformat_open_input(&fmt, v->path ? v->path : "", NULL, NULL);
    if (r < 0) {
        vn_memio_close(&v->avio);
        return vn_av_error(r, "opening %s", v->name);
    }
    v->fmt = fmt;
    r = avformat_find_stream_info(fmt, NULL);
    if (r < 0)
        return vn_av_error(r, "opening %s: reading stream information", v->name);

    int best = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    if (best < 0 || !usable_video_stream(fmt->streams[best])) {
        best = -1;
        for (unsigned i = 0; i < fmt->nb_streams; i++)
            if (usable_video_stream(fmt->streams[i])) {
                best = (int)i;
                break;
            }
    }
    if (best < 0)
        return vn_error(VN_ERR_FORMAT, "opening %s: no video stream (the file has %u stream%s, none of them video)",
                        v->name, fmt->nb_streams, fmt->nb_streams == 1 ? "" : "s");
    if (v->dec && (v->stream != best || fmt->streams[best]->codecpar->codec_id != v->codec_id))
        return vn_error(VN_ERR_FORMAT, "reopening %s: the video stream changed", v->name);
    v->stream = best;
    for (unsigned i = 0; i < fmt->nb_streams; i++)
        fmt->streams[i]->discard = (int)i == best ? AVDISCARD_DEFAULT : AVDISCARD_ALL;
    return VN_OK;
}

static vn_status open_decoder(vn_video *v)
{
    AVStream *st = v->fmt->streams[v->stream];
    const AVCodec *codec = avcodec_find_decoder(st->codecpar->codec_id);
    if (!codec)
        return vn_error(VN_ERR_UNSUPPORTED, "opening %s: this FFmpeg has no decoder for codec '%s'", v->name,
                        avcodec_get_name(st->codecpar->codec_id));
    v->dec = avcodec_alloc_context3(codec);
    if (!v->dec)
        return vn_error(VN_ERR_OUT_OF_MEMORY, "opening %s: out of memory", v->name);
    int r = avcodec_parameters_to_context(v->dec, st->codecpar);
    if (r < 0)
        return vn_av_error(r, "opening %s: decoder parameters", v->name);
    v->dec->pkt_timebase = st->time_base;
    v->dec->thread_count = v->n_threads; /* 0: FFmpeg picks one per core */
    v->dec->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
    r = avcodec_open2(v->dec, codec, NULL);
    if (r < 0)
        return vn_av_error(r, "opening %s: starting the %s decoder", v->name, codec->name);
    v->codec_id = st->codecpar->codec_id;
    return VN_OK;
}

/* ---- the packet scan -------------------------------------------------------------------- */

static int vp9_shown(const uint8_t *d, int size)
{
    if (size < 1)
        return 0;
    int b0 = d[0];
    if (((b0 >> 6) & 3) != 2) /* frame_marker */
        return 1;
    int profile = ((b0 >> 5) & 1) | (((b0 >> 4) & 1) << 1);
    int bit = 4; /* position from the top of b0: marker (2 bits) and profile (2 bits) come first */
    if (profile == 3)
        bit++; /* reserved_zero */
    if ((b0 >> (7 - bit)) & 1) /* show_existing_frame */
        return 1;
    bit += 2; /* past show_existing_frame and frame_type: show_frame */
    int byte = bit / 8, shift = 7 - bit % 8;
    if (byte >= size)
        return 1;
    return (d[byte] >> shift) & 1;
}

int vn_vpx_packet_shown(enum AVCodecID id, const uint8_t *data, int size)
{
    if (!data || size <= 0)
        return 0;
    if (id == AV_CODEC_ID_VP8)
        return (data[0] >> 4) & 1;
    if (id != AV_CODEC_ID_VP9)
        return 1;
    /* A superframe carries several frames and an index at its end; it shows a picture
     * when any of them does (normally the last). */
    int last = data[size - 1];
    if ((last & 0xe0) == 0xc0) {
        int frames = (last & 7) + 1, mag = ((last >> 3) & 3) + 1;
        int index_size = 2 + mag * frames;
        if (size >= index_size && data[size - index_size] == last) {
            const uint8_t *idx = data + size - index_size + 1;
            int off = 0;
            for (int f = 0; f < frames; f++) {
                /* Unsigned: a 4-byte size is the file's number and may not fit in an int. */
                uint32_t fsize = 0;
                for (int b = 0; b < mag; b++)
                    fsize |= (uint32_t)idx[f * mag + b] << (8 * b);
                if (fsize == 0 || fsize > (uint32_t)(size - index_size - off))
                    return 1;
                if (vp9_shown(data + off, (int)fsize))
                    return 1;
                off += (int)fsize;
            }
            return 0;
        }
    }
    return vp9_shown(data, size);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int cmp_seek(const void *a, const void *b)
{
    const vn_seek_point *x = a, *y = b;
    return (x->pts > y->pts) - (x->pts < y->pts);
}

static vn_status grow(void **p, int64_t *cap, int64_t need, size_t elem)
{
    if (need <= *cap)
        return VN_OK;
    int64_t ncap = *cap ? *cap * 2 : 1024;
    while (ncap < need)
        ncap *= 2;
    void *q = realloc(*p, (size_t)ncap * elem);
    if (!q)
        return vn_error(VN_ERR_OUT_OF_MEMORY, "scanning: out of memory for %lld entries", (long long)ncap);
    *p = q;
    *cap = ncap;
    return VN_OK;
}

/* Read every packet of the video stream once: which packets give pictures, their pts,
 * and where the keyframes are. Nothing is decoded. */
static vn_status scan_packets(vn_video *v, int64_t *last_duration)
{
    int64_t cap_pts = 0, cap_seek = 0, n_seek = 0, n = 0;
    int missing_pts = 0, pts_increasing = 1;
    int64_t last_pts = INT64_MIN;
    AVPacket *pkt = v->pkt;
    *last_duration = 0;
    for (int again = 0;;) {
        if (vn_deadline_passed(&v->deadline))
            return vn_error(VN_ERR_TIMEOUT, "opening %s: the time limit ran out while scanning packets", v->name);
        int r = av_read_frame(v->fmt, pkt);
        if (r == AVERROR(EAGAIN) && ++again < VN_EAGAIN_LIMIT)
            continue;
        again = 0;
        if (r == AVERROR_EXIT)
            return vn_error(VN_ERR_TIMEOUT, "opening %s: the time limit ran out while scanning packets", v->name);
        /* Any other failure ends the file here, as it will when decoding: a truncated
         * file keeps the frames before the damage. */
        if (r < 0)
            break;
        if (pkt->stream_index != v->stream || pkt->size <= 0) {
            av_packet_unref(pkt);
            continue;
        }
        if (!v->first.valid) {
            v->first = (vn_packet_sig){pkt->pts, pkt->dts, pkt->pos, pkt->size, 1};
        }
        if (pkt->flags & AV_PKT_FLAG_KEY && (pkt->pts != AV_NOPTS_VALUE || pkt->dts != AV_NOPTS_VALUE)) {
            vn_status s = grow((void **)&v->seek, &cap_seek, n_seek + 1, sizeof *v->seek);
            if (s != VN_OK) {
                av_packet_unref(pkt);
                return s;
            }
            int64_t p = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
            v->seek[n_seek++] = (vn_seek_point){p, pkt->dts != AV_NOPTS_VALUE ? pkt->dts : p};
        }
        int shown = !(pkt->flags & AV_PKT_FLAG_DISCARD) && vn_vpx_packet_shown(v->codec_id, pkt->data, pkt->size);
        if (shown) {
            vn_status s = grow((void **)&v->pts, &cap_pts, n + 1, sizeof *v->pts);
            if (s != VN_OK) {
                av_packet_unref(pkt);
                return s;
            }
            if (pkt->pts == AV_NOPTS_VALUE)
                missing_pts = 1;
            if (pkt->pts != AV_NOPTS_VALUE && pkt->pts <= last_pts)
                pts_increasing = 0;
            last_pts = pkt->pts;
            v->pts[n++] = pkt->pts;
            *last_duration = pkt->duration;
        }
        av_packet_unref(pkt);
    }
    v->n_frames = n;
    v->n_seek = n_seek;
    v->mode = VN_KEY_PTS;
    /* In a stream that reorders frames, some packet shows before the one decoded ahead
     * of it, so pts must step back somewhere in decode order. Pts that only increase
     * are the decode order written as pts (as some muxers do), and sorting by them
     * would give frames in decode order: count the decoder's output instead. */
    int reorders = v->fmt->streams[v->stream]->codecpar->video_delay > 0;
    if (missing_pts || (reorders && pts_increasing && n > 2)) {
        v->mode = VN_KEY_COUNT;
        return VN_OK;
    }
    if (n > 1)
        qsort(v->pts, (size_t)n, sizeof *v->pts, cmp_i64);
    for (int64_t i = 1; i < n; i++)
        if (v->pts[i] == v->pts[i - 1]) {
            v->mode = VN_KEY_COUNT; /* pts cannot tell these frames apart */
            return VN_OK;
        }
    if (n_seek > 1)
        qsort(v->seek, (size_t)n_seek, sizeof *v->seek, cmp_seek);
    return VN_OK;
}

static int64_t pts_lookup(const vn_video *v, int64_t key)
{
    int64_t lo = 0, hi = v->n_frames - 1;
    while (lo <= hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (v->pts[mid] == key)
            return mid;
        if (v->pts[mid] < key)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

/* ---- metadata ------------------------------------------------------------------------ */

static double q2d_or(AVRational r, double fallback)
{
    return r.num > 0 && r.den > 0 ? av_q2d(r) : fallback;
}

static int stream_rotation(const AVStream *st)
{
    const uint8_t *m = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, NULL);
    if (!m)
        return 0;
    double ccw = av_display_rotation_get((const int32_t *)m);
    if (isnan(ccw))
        return 0;
    /* The matrix gives the counter-clockwise angle; players turn the picture clockwise by its negation. */
    long cw = lround(-ccw);
    cw %= 360;
    if (cw < 0)
        cw += 360;
    /* Snap to the right angles a player supports. */
    return (int)(((cw + 45) / 90) % 4) * 90;
}

static void copy_name(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src && *src ? src : "unknown");
}

static int is_jpeg_format(int fmt)
{
    return fmt == AV_PIX_FMT_YUVJ420P || fmt == AV_PIX_FMT_YUVJ422P || fmt == AV_PIX_FMT_YUVJ444P ||
           fmt == AV_PIX_FMT_YUVJ440P || fmt == AV_PIX_FMT_YUVJ411P;
}

/* Checked before the packet scan, which a hostile file could make long as well. */
static vn_status check_frame_size(const vn_video *v)
{
    const AVCodecParameters *par = v->fmt->streams[v->stream]->codecpar;
    if (par->width > VN_VIDEO_MAX_SIDE || par->height > VN_VIDEO_MAX_SIDE ||
        (int64_t)par->width * par->height > VN_VIDEO_MAX_PIXELS)
        return vn_error(VN_ERR_FORMAT,
                        "opening %s: the frame size %dx%d is beyond what vnative reads (%d per side, %lld pixels); "
                        "the header is corrupt or the video needs downscaling first",
                        v->name, par->width, par->height, VN_VIDEO_MAX_SIDE, (long long)VN_VIDEO_MAX_PIXELS);
    return VN_OK;
}

static vn_status fill_info(vn_video *v, int64_t last_duration)
{
    AVStream *st = v->fmt->streams[v->stream];
    AVCodecParameters *par = st->codecpar;
    vn_video_info *info = &v->info;
    memset(info, 0, sizeof *info);
    v->tb = st->time_base;
    v->coded_w = par->width;
    v->coded_h = par->height;
    if (v->coded_w <= 0 || v->coded_h <= 0)
        return vn_error(VN_ERR_FORMAT, "opening %s: the video stream has no frame size (%dx%d)", v->name, v->coded_w,
                        v->coded_h);
    v->rotation = stream_rotation(st);
    info->coded_width = v->coded_w;
    info->coded_height = v->coded_h;
    info->rotation = v->rotation;
    info->width = v->rotation % 180 ? v->coded_h : v->coded_w;
    info->height = v->rotation % 180 ? v->coded_w : v->coded_h;
    info->time_base_num = v->tb.num;
    info->time_base_den = v->tb.den;
    copy_name(info->codec, sizeof info->codec, avcodec_get_name(par->codec_id));
    copy_name(info->pixel_format, sizeof info->pixel_format, av_get_pix_fmt_name((enum AVPixelFormat)par->format));
    copy_name(info->color_space, sizeof info->color_space, av_color_space_name(par->color_space));
    info->full_range = par->color_range == AVCOL_RANGE_JPEG || is_jpeg_format(par->format);

    double header_fps = q2d_or(st->avg_frame_rate, q2d_or(st->r_frame_rate, 0.0));
    double tb = av_q2d(v->tb);
    double header_duration = st->duration != AV_NOPTS_VALUE && st->duration > 0 ? st->duration * tb
                             : v->fmt->duration > 0 ? v->fmt->duration / (double)AV_TIME_BASE
                                                    : 0.0;

    if (v->approximate) {
        info->avg_fps = header_fps > 0 ? header_fps : 25.0;
        info->duration_s = header_duration;
        info->n_frames = st->nb_frames > 0 ? st->nb_frames : (int64_t)llround(header_duration * info->avg_fps);
        v->n_frames = info->n_frames;
        v->t0 = st->start_time != AV_NOPTS_VALUE ? st->start_time : v->first.pts != AV_NOPTS_VALUE ? v->first.pts : 0;
    } else {
        int64_t n = v->n_frames;
        info->n_frames = n;
        info->n_frames_exact = 1;
        if (v->mode == VN_KEY_PTS && n > 0) {
            int64_t span = v->pts[n - 1] - v->pts[0];
            int64_t min_d = INT64_MAX, max_d = 0;
            for (int64_t i = 1; i < n; i++) {
                int64_t d = v->pts[i] - v->pts[i - 1];
                min_d = d < min_d ? d : min_d;
                max_d = d > max_d ? d : max_d;
            }
            /* Timestamps rounded to a coarse time base wobble by a tick (33/34 ms at
             * 29.97 fps in Matroska): only a real spread counts as variable. */
            info->variable_frame_rate = n > 2 && (double)(max_d - min_d) > fmax(1.0, 0.05 * (double)min_d);
            double last = last_duration > 0 ? (double)last_duration
                          : n > 1           ? (double)span / (double)(n - 1)
                          : header_fps > 0  ? 1.0 / (header_fps * tb)
                                            : 1.0 / (25.0 * tb);
            info->duration_s = ((double)span + last) * tb;
            info->avg_fps = info->duration_s > 0 ? (double)n / info->duration_s : header_fps;
            v->t0 = v->pts[0];
            v->key_index = malloc((size_t)(v->n_seek ? v->n_seek : 1) * sizeof *v->key_index);
            if (!v->key_index)
                return vn_error(VN_ERR_OUT_OF_MEMORY, "opening %s: out of memory", v->name);
            /* Key packets that share a pts (a hidden VP9 frame and the one shown, a repeated
             * packet in a damaged file) are one keyframe; seek is sorted by pts, so they are
             * adjacent. Counting each would list a frame twice and more keyframes than frames. */
            int64_t k = 0;
            for (int64_t i = 0; i < v->n_seek; i++) {
                int64_t idx = pts_lookup(v, v->seek[i].pts);
                if (idx >= 0 && (k == 0 || v->key_index[k - 1] != idx))
                    v->key_index[k++] = idx;
            }
            v->n_key_index = k;
        } else {
            info->avg_fps = header_fps > 0 ? header_fps : 25.0;
            info->duration_s = header_duration > 0 ? header_duration : (double)n / info->avg_fps;
            v->t0 = 0;
        }
        info->n_keyframes = v->n_key_index;
    }
    if (!(info->avg_fps > 0))
        info->avg_fps = 25.0;
    v->frame_dur = 1.0 / (info->avg_fps * tb);
    return VN_OK;
}

/* ---- create and destroy ---------------------------------------------------------------- */

void vn_video_destroy(vn_video *v)
{
    if (!v)
        return;
    avcodec_free_context(&v->dec);
    vn_video_close_demuxer(v);
    av_packet_free(&v->pkt);
    av_frame_free(&v->frame);
    av_frame_free(&v->prev);
    vn_sws_cache_free(&v->sws);
    free(v->rgb);
    free(v->full);
    free(v->pts);
    free(v->seek);
    free(v->key_index);
    free(v->path);
    free(v->mem.data);
    free(v);
}

static vn_status open_common(vn_video *v, const vn_video_open_options *opts)
{
    vn_av_init();
    v->approximate = opts->approximate != 0;
    v->n_threads = opts->n_threads;
    v->timeout_s = opts->timeout_s;
    vn_deadline_start(&v->deadline, v->timeout_s);
    v->pkt = av_packet_alloc();
    v->frame = av_frame_alloc();
    v->prev = av_frame_alloc();
    if (!v->pkt || !v->frame || !v->prev)
        return vn_error(VN_ERR_OUT_OF_MEMORY, "opening %s: out of memory", v->name);
    vn_status s = vn_video_open_demuxer(v);
    if (s != VN_OK)
        return s;
    s = open_decoder(v);
    if (s == VN_OK)
        s = check_frame_size(v);
    if (s != VN_OK)
        return s;
    int64_t last_duration = 0;
    if (v->approximate) {
        v->mode = VN_KEY_TIME;
        /* Keep the first packet: it marks the file start and is decoded first. */
        for (int again = 0;;) {
            if (vn_deadline_passed(&v->deadline))
                return vn_error(VN_ERR_TIMEOUT, "opening %s: the time limit ran out", v->name);
            int r = av_read_frame(v->fmt, v->pkt);
            if (r == AVERROR(EAGAIN) && ++again < VN_EAGAIN_LIMIT)
                continue;
            if (r == AVERROR_EXIT)
                return vn_error(VN_ERR_TIMEOUT, "opening %s: the time limit ran out", v->name);
            if (r < 0)
                return vn_av_error(r, "opening %s: reading the first video packet", v->name);
            if (v->pkt->stream_index == v->stream && v->pkt->size > 0)
                break;
            av_packet_unref(v->pkt);
        }
        v->first = (vn_packet_sig){v->pkt->pts, v->pkt->dts, v->pkt->pos, v->pkt->size, 1};
        v->pkt_pending = 1;
        v->pos_valid = 1;
        v->from_start = 1;
        v->seg_key = INT64_MIN;
    } else {
        s = scan_packets(v, &last_duration);
        if (s != VN_OK)
            return s;
        if (v->n_frames == 0)
            return vn_error(VN_ERR_FORMAT, "opening %s: the video stream has no frames", v->name);
        v->pos_valid = 0; /* the scan left the demuxer at the end */
    }
    s = fill_info(v, last_duration);
    if (s != VN_OK)
        return s;
    if (v->mode == VN_KEY_COUNT)
        vn_log(VN_LOG_DEBUG, "%s: packets lack distinct timestamps; frames are counted from the start", v->name);
    return VN_OK;
}

static vn_status finish_open(vn_status s, vn_video *v, vn_video **out)
{
    if (s != VN_OK) {
        vn_video_destroy(v);
        return s;
    }
    v->deadline = 0;
    *out = v;
    return VN_OK;
}

vn_status vn_video_create(vn_video **out, const char *path, const vn_video_open_options *opts)
{
    VN_CHECK_NULL(out);
    *out = NULL;
    VN_CHECK_NULL(path);
    vn_video_open_options def = VN_VIDEO_OPEN_OPTIONS_INIT;
    if (!opts)
        opts = &def;
    vn_status s = options_check(__func__, opts);
    if (s != VN_OK)
        return s;
    if (!*path)
        return vn_error(VN_ERR_INVALID_ARG, "vn_video_create: path is empty");
    vn_video *v = calloc(1, sizeof *v);
    if (!v)
        return vn_error(VN_ERR_OUT_OF_MEMORY, "vn_video_create: out of memory");
    snprintf(v->name, sizeof v->name, "%s", path);
    v->path = strdup(path);
    if (!v->path)
        return finish_open(vn_error(VN_ERR_OUT_OF_MEMORY, "vn_video_create: out of memory"), v, out);
    return finish_open(open_common(v, opts), v, out);
}

vn_status vn_video_create_from_memory(vn_video **out, const void *data, size_t size, const vn_video_open_options *opts)
{
    VN_CHECK_NULL(out);
    *out = NULL;
    VN_CHECK_NULL(data);
    vn_video_open_options def = VN_VIDEO_OPEN_OPTIONS_INIT;
    if (!opts)
        opts = &def;
    vn_status s = options_check(__func__, opts);
    if (s != VN_OK)
        return s;
    if (size == 0)
        return vn_error(VN_ERR_FORMAT, "vn_video_create_from_memory: the buffer is empty (0 bytes)");
    vn_video *v = calloc(1, sizeof *v);
    if (!v)
        return vn_error(VN_ERR_OUT_OF_MEMORY, "vn_video_create_from_memory: out of memory");
    snprintf(v->name, sizeof v->name, "<memory, %zu bytes>", size);
    v->mem.data = malloc(size);
    if (!v->mem.data)
        return finish_open(vn_error(VN_ERR_OUT_OF_MEMORY, "vn_video_create_from_memory: cannot copy %zu bytes", size),
                           v, out);
    memcpy(v->mem.data, data, size);
    v->mem.size = size;
    return finish_open(open_common(v, opts), v, out);
}

/* ---- queries ------------------------------------------------------------------------ */

vn_status vn_video_get_info(const vn_video *video, vn_video_info *info)
{
    VN_CHECK_NULL(video);
    VN_CHECK_NULL(info);
    VN_CHECK_VERSION("vn_video_get_info", "info", info->version, VN_VIDEO_INFO_VERSION, "VN_VIDEO_INFO_INIT");
    unsigned int version = info->version;
    *info = video->info;
    info->version = version;
    return VN_OK;
}

int64_t vn_video_time_index(const vn_video *v, double time_s)
{
    if (v->mode == VN_KEY_PTS) {
        double ticks = time_s / av_q2d(v->tb);
        if (ticks < -9e18 || ticks > 9e18)
            return ticks < 0 ? 0 : v->n_frames - 1;
        /* A time computed from a frame's own pts must find that frame, not the one before. */
        int64_t key = v->t0 + (int64_t)floor(ticks + 1e-6 * fmax(1.0, fabs(ticks)));
        int64_t lo = 0, hi = v->n_frames - 1, best = 0;
        while (lo <= hi) {
            int64_t mid = lo + (hi - lo) / 2;
            if (v->pts[mid] <= key) {
                best = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return best;
    }
    double idx = floor(time_s * v->info.avg_fps + 1e-6);
    if (idx < 0)
        return 0;
    if (v->mode == VN_KEY_COUNT && idx > (double)(v->n_frames - 1))
        return v->n_frames - 1;
    return idx > 9e18 ? INT64_MAX / 2 : (int64_t)idx;
}

/* t0 + ticks, saturated: in approximate mode the frame duration and t0 come from the header,
 * and a corrupt one makes the exact sum overflow an int64_t (undefined behaviour). */
static int64_t key_add(int64_t t0, double ticks)
{
    if (!(ticks < 4e18))
        return INT64_MAX / 2;
    if (ticks < -4e18)
        return INT64_MIN / 2;
    int64_t r;
    if (__builtin_add_overflow(t0, (int64_t)ticks, &r))
        return t0 > 0 ? INT64_MAX / 2 : INT64_MIN / 2;
    return r;
}

int64_t vn_video_index_key(const vn_video *v, int64_t index)
{
    switch (v->mode) {
    case VN_KEY_PTS: return v->pts[index];
    case VN_KEY_TIME: return key_add(v->t0, floor(((double)index + 0.5) * v->frame_dur));
    case VN_KEY_COUNT: break;
    }
    return index;
}

int64_t vn_video_time_key(const vn_video *v, double time_s)
{
    if (v->mode == VN_KEY_TIME) {
        double ticks = time_s / av_q2d(v->tb);
        if (ticks < 0)
            return v->t0;
        return key_add(v->t0, floor(ticks + 1e-6 * fmax(1.0, ticks)));
    }
    return vn_video_index_key(v, vn_video_time_index(v, time_s));
}

vn_status vn_video_frame_time(const vn_video *video, int64_t index, double *time_s)
{
    VN_CHECK_NULL(video);
    VN_CHECK_NULL(time_s);
    if (video->approximate)
        return vn_error(VN_ERR_STATE, "vn_video_frame_time: %s was opened in approximate mode, which has no frame "
                        "table; open it without 'approximate' for exact times", video->name);
    if (index < 0 || index >= video->n_frames)
        return vn_error(VN_ERR_INVALID_ARG, "vn_video_frame_time: index %lld is outside [0, %lld)", (long long)index,
                        (long long)video->n_frames);
    if (video->mode == VN_KEY_PTS)
        *time_s = (double)(video->pts[index] - video->t0) * av_q2d(video->tb);
    else
        *time_s = (double)index / video->info.avg_fps;
    return VN_OK;
}

vn_status vn_video_frame_at_time(const vn_video *video, double time_s, int64_t *index)
{
    VN_CHECK_NULL(video);
    VN_CHECK_NULL(index);
    if (isnan(time_s))
        return vn_error(VN_ERR_INVALID_ARG, "vn_video_frame_at_time: time_s is NaN");
    *index = vn_video_time_index(video, time_s);
    return VN_OK;
}

vn_status vn_video_keyframes(const vn_video *video, int64_t *indices, int64_t cap, int64_t *n_total)
{
    VN_CHECK_NULL(video);
    VN_CHECK_NULL(n_total);
    if (cap < 0)
        return vn_error(VN_ERR_INVALID_ARG, "vn_video_keyframes: cap is %lld", (long long)cap);
    if (cap > 0 && !indices)
        return vn_error(VN_ERR_INVALID_ARG, "vn_video_keyframes: argument 'indices' is NULL with cap %lld",
                        (long long)cap);
    if (video->approximate)
        return vn_error(VN_ERR_STATE, "vn_video_keyframes: %s was opened in approximate mode, which skips the "
                        "packet scan that finds keyframes", video->name);
    int64_t n = video->n_key_index;
    for (int64_t i = 0; i < n && i < cap; i++)
        indices[i] = video->key_index[i];
    *n_total = n;
    return VN_OK;
}
