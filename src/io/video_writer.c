/* Encoding uint8 frames to a video file, written under a temporary name and moved
 * into place only when complete. */
#include "io/video_internal.h"
#include "core/error.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <libavutil/opt.h>

enum writer_state { WRITER_OPEN = 0, WRITER_FINISHED, WRITER_FAILED };

struct vn_video_writer {
    char *path, *tmp;
    vn_video_writer_options o;
    AVFormatContext *oc;
    AVStream *st;
    AVCodecContext *enc;
    AVFrame *frame;
    AVPacket *pkt;
    struct SwsContext *sws;
    uint8_t *stage; /* one input frame, packed rows */
    int64_t next_pts;
    int lossless;
    enum writer_state state;
};

VN_DEFINE_OPTIONS_INIT(vn_video_writer_options_init, vn_video_writer_options, VN_VIDEO_WRITER_OPTIONS_VERSION, VN_VIDEO_WRITER_OPTIONS_INIT)

static const char *encoder_for(vn_video_codec codec)
{
    switch (codec) {
    case VN_CODEC_AUTO: return avcodec_find_encoder_by_name("libx264") ? "libx264" : "mpeg4";
    case VN_CODEC_H264: return "libx264";
    case VN_CODEC_MPEG4: return "mpeg4";
    case VN_CODEC_FFV1: return "ffv1";
    case VN_CODEC_VP9: return "libvpx-vp9";
    }
    return NULL;
}

vn_status vn_video_codec_resolve(vn_video_codec codec, const char **encoder_name)
{
    VN_CHECK_NULL(encoder_name);
    const char *name = encoder_for(codec);
    if (!name)
        return vn_error(VN_ERR_INVALID_ARG, "vn_video_codec_resolve: codec %d is not a vn_video_codec (0..4)",
                        (int)codec);
    if (!avcodec_find_encoder_by_name(name))
        return vn_error(VN_ERR_UNSUPPORTED, "vn_video_codec_resolve: this FFmpeg has no '%s' encoder", name);
    *encoder_name = name;
    return VN_OK;
}

/* The muxer for a file name, by extension. */
static const char *muxer_for(const char *path)
{
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    if (!dot || (slash && dot < slash))
        return NULL;
    static const struct {
        const char *ext, *muxer;
    } map[] = {{".mp4", "mp4"}, {".m4v", "mp4"}, {".mov", "mov"}, {".mkv", "matroska"}, {".webm", "webm"},
               {".avi", "avi"}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcasecmp(dot, map[i].ext))
            return map[i].muxer;
    return NULL;
}

static vn_status options_check(const vn_video_writer_options *o)
{
    VN_CHECK_VERSION("vn_video_writer_create", "options", o->version, VN_VIDEO_WRITER_OPTIONS_VERSION, "VN_VIDEO_WRITER_OPTIONS_INIT");
    if (o->width < 1 || o->height < 1 || o->width > 16384 || o->height > 16384)
        return vn_error(VN_ERR_INVALID_ARG, "vn_video_writer_create: frame size %dx%d is outside 1..16384", o->width,
                        o->height);
    if (o->channels != 1 && o->channels != 3)
        return vn_error(VN_ERR_INVALID_ARG, "vn_video_writer_create: channels is %d; expected 3 (RGB) or 1 (gray)",
                        o->channels);
    if (!(o->fps > 0 && o->fps <= 1000))
        return vn_error(VN_ERR_INVALID_ARG, "vn_video_writer_create: fps is %g; expected a rate in (0, 1000]", o->fps);
    if ((int)o->codec < VN_CODEC_AUTO || (int)o->codec > VN_CODEC_VP9)
        return vn_error(VN_ERR_INVALID_ARG, "vn_video_writer_create: codec %d is not a vn_video_codec (0..4)",
                        (int)o->codec);
    if (o->quality < 0 || o->quality > 63)
        return vn_error(VN_ERR_INVALID_ARG, "vn_video_writer_create: quality is %d; expected 0 (default) to 63",
                        o->quality);
    if (o->gop < 0)
        return vn_error(VN_ERR_INVALID_ARG, "vn_video_writer_create: gop is %d; expected >= 0", o->gop);
    if (o->bframes < -1 || o->bframes > 16)
        return vn_error(VN_ERR_INVALID_ARG, "vn_video_writer_create: bframes is %d; expected -1 (default) to 16",
                        o->bframes);
    return VN_OK;
}

static void writer_free(vn_video_writer *w)
{
    if (w->oc) {
        if (w->oc->pb)
            avio_closep(&w->oc->pb);
        avformat_free_context(w->oc);
    }
    avcodec_free_context(&w->enc);
    av_frame_free(&w->frame);
    av_packet_free(&w->pkt);
    sws_freeContext(w->sws);
    free(w->stage);
    free(w->path);
    free(w->tmp);
    free(w);
}

void vn_video_writer_destroy(vn_video_writer *w)
{
    if (!w)
        return;
    int unfinished = w->state != WRITER_FINISHED && w->tmp;
    if (w->oc && w->oc->pb)
        avio_closep(&w->oc->pb);
    if (unfinished)
        unlink(w->tmp);
    writer_free(w);
}

static vn_status configure_encoder(vn_video_writer *w, const AVCodec *codec, const char *muxer)
{
    const vn_video_writer_options *o = &w->o;
    AVCodecContext *c = w->enc;
    int lossless = codec->id == AV_CODEC_ID_FFV1;
    w->lossless = lossless;
    if (!lossless && (o->width % 2 || o->height % 2))
        return vn_error(VN_ERR_INVALID_ARG, "vn_video_writer_create: %s needs an even frame size (4:2:0), got %dx%d",
                        codec->name, o->width, o->height);
    c->width = o->width;
    c->height = o->height;
    c->framerate = av_d2q(o->fps, 1 << 20);
    c->time_base = av_inv_q(c->framerate);
    c->sample_aspect_ratio = (AVRational){1, 1};
    if (lossless) {
        c->pix_fmt = o->channels == 3 ? AV_PIX_FMT_BGR0 : AV_PIX_FMT_GRAY8;
        c->color_range = AVCOL_RANGE_JPEG;
        if (o->channels == 3)
            c->colorspace = AVCOL_SPC_RGB;
    } else {
        /* Tagged BT.601 limited range, matching the conversion below, so readers
         * (vnative's included) turn it back into the same RGB. */
        c->pix_fmt = AV_PIX_FMT_YUV420P;
        c->color_range = AVCOL_RANGE_MPEG;
        c->colorspace = AVCOL_SPC_SMPTE170M;
        c->color_primaries = AVCOL_PRI_SMPTE170M;
        c->color_trc = AVCOL_TRC_SMPTE170M;
    }
    if (o->gop > 0)
        c->gop_size = o->gop;
    int bframes = o->bframes;
    /* AVI keeps no presentation timestamps, so reordered frames there lose their
     * order for every reader: no B-frames unless explicitly asked for. */
    if (bframes < 0 && !strcmp(muxer, "avi"))
        bframes = 0;
    if (bframes >= 0 && (codec->id == AV_CODEC_ID_H264 || codec->id == AV_CODEC_ID_MPEG4))
        c->max_b_frames = bframes;
    char num[32];
    if (codec->id == AV_CODEC_ID_H264) {
        snprintf(num, sizeof num, "%d", o->quality > 0 ? o->quality : 20);
        av_opt_set(c->priv_data, "crf", num, 0);
        av_opt_set(c->priv_data, "preset", "veryfast", 0);
    } else if (codec->id == AV_CODEC_ID_VP9) {
        snprintf(num, sizeof num, "%d", o->quality > 0 ? o->quality : 32);
        av_opt_set(c->priv_data, "crf", num, 0);
        av_opt_set(c->priv_data, "deadline", "good", 0);
        av_opt_set(c->priv_data, "cpu-used", "5", 0);
        av_opt_set(c->priv_data, "row-mt", "1", 0);
        c->bit_rate = 0;
    } else if (codec->id == AV_CODEC_ID_MPEG4) {
        c->flags |= AV_CODEC_FLAG_QSCALE;
        c->global_quality = FF_QP2LAMBDA * (o->quality > 0 ? (o->quality > 31 ? 31 : o->quality) : 3);
    }
    if (w->oc->oformat->flags & AVFMT_GLOBALHEADER)
        c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    return VN_OK;
}

vn_status vn_video_writer_create(vn_video_writer **out, const char *path, const vn_video_writer_options *opts)
{
    VN_CHECK_NULL(out);
    *out = NULL;
    VN_CHECK_NULL(path);
    VN_CHECK_NULL(opts);
    vn_status s = options_check(opts);
    if (s != VN_OK)
        return s;
    const char *muxer = muxer_for(path);
    if (!muxer)
        return vn_error(VN_ERR_INVALID_ARG, "vn_video_writer_create: cannot tell the container of '%s'; use a "
                        ".mp4, .mkv, .avi or .webm name", path);
    vn_av_init();
    vn_video_codec codec = opts->codec;
    if (codec == VN_CODEC_AUTO && !strcmp(muxer, "webm"))
        codec = VN_CODEC_VP9;
    const char *enc_name = encoder_for(codec);
    const AVCodec *enc = avcodec_find_encoder_by_name(enc_name);
    if (!enc)
        return vn_error(VN_ERR_UNSUPPORTED, "vn_video_writer_create: this FFmpeg has no '%s' encoder", enc_name);

    vn_video_writer *w = calloc(1, sizeof *w);
    if (!w)
        return vn_error(VN_ERR_OUT_OF_MEMORY, "vn_video_writer_create: out of memory");
    w->o = *opts;
    w->path = strdup(path);
    size_t tlen = strlen(path) + 64;
    w->tmp = malloc(tlen);
    w->frame = av_frame_alloc();
    w->pkt = av_packet_alloc();
    /* swscale's SIMD reads whole vectors past the end of each input row, so the staging
     * picture carries FFmpeg's input padding (valgrind caught 16-byte over-reads). */
    size_t stage_bytes = (size_t)opts->width * (size_t)opts->height * (size_t)opts->channels;
    w->stage = calloc(1, stage_bytes + AV_INPUT_BUFFER_PADDING_SIZE);
    if (!w->path || !w->tmp || !w->frame || !w->pkt || !w->stage) {
        writer_free(w);
        return vn_error(VN_ERR_OUT_OF_MEMORY, "vn_video_writer_create: out of memory");
    }
    static _Atomic unsigned counter;
    snprintf(w->tmp, tlen, "%s.part-%ld-%u", path, (long)getpid(), ++counter);

    int r = avformat_alloc_output_context2(&w->oc, NULL, muxer, w->tmp);
    if (r < 0 || !w->oc) {
        writer_free(w);
        return vn_av_error(r < 0 ? r : AVERROR_MUXER_NOT_FOUND, "vn_video_writer_create: muxer '%s'", muxer);
    }
    r = avformat_query_codec(w->oc->oformat, enc->id, FF_COMPLIANCE_NORMAL);
    if (r == 0) {
        writer_free(w);
        return vn_error(VN_ERR_UNSUPPORTED, "vn_video_writer_create: a %s file cannot hold %s video; pick another "
                        "container or codec", muxer, avcodec_get_name(enc->id));
    }
    w->enc = avcodec_alloc_context3(enc);
    w->st = avformat_new_stream(w->oc, NULL);
    if (!w->enc || !w->st) {
        writer_free(w);
        return vn_error(VN_ERR_OUT_OF_MEMORY, "vn_video_writer_create: out of memory");
    }
    s = configure_encoder(w, enc, muxer);
    if (s != VN_OK) {
        writer_free(w);
        return s;
    }
    r = avcodec_open2(w->enc, enc, NULL);
    if (r < 0) {
        writer_free(w);
        return vn_av_error(r, "vn_video_writer_create: starting the %s encoder at %dx%d", enc->name, opts->width,
                           opts->height);
    }
    avcodec_parameters_from_context(w->st->codecpar, w->enc);
    w->st->time_base = w->enc->time_base;
    w->st->avg_frame_rate = w->enc->framerate;
    r = avio_open(&w->oc->pb, w->tmp, AVIO_FLAG_WRITE);
    if (r < 0) {
        s = vn_av_error(r, "vn_video_writer_create: creating %s", w->tmp);
        writer_free(w);
        return s;
    }
    r = avformat_write_header(w->oc, NULL);
    if (r < 0) {
        vn_video_writer_destroy(w);
        return vn_av_error(r, "vn_video_writer_create: writing the %s header", muxer);
    }
    w->frame->format = w->enc->pix_fmt;
    w->frame->width = opts->width;
    w->frame->height = opts->height;
    w->frame->color_range = w->enc->color_range;
    w->frame->colorspace = w->enc->colorspace;
    r = av_frame_get_buffer(w->frame, 0);
    if (r < 0) {
        vn_video_writer_destroy(w);
        return vn_av_error(r, "vn_video_writer_create: frame buffer");
    }
    if (!w->lossless) {
        enum AVPixelFormat in = opts->channels == 3 ? AV_PIX_FMT_RGB24 : AV_PIX_FMT_GRAY8;
        w->sws = sws_getContext(opts->width, opts->height, in, opts->width, opts->height, AV_PIX_FMT_YUV420P,
                                SWS_BILINEAR | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INP, NULL, NULL, NULL);
        if (!w->sws) {
            vn_video_writer_destroy(w);
            return vn_error(VN_ERR_UNSUPPORTED, "vn_video_writer_create: swscale cannot convert to yuv420p");
        }
        sws_setColorspaceDetails(w->sws, sws_getCoefficients(SWS_CS_ITU601), 1, sws_getCoefficients(SWS_CS_ITU601), 0,
                                 0, 1 << 16, 1 << 16);
    }
    *out = w;
    return VN_OK;
}

/* Send frame (NULL: flush) and write every packet the encoder gives back. */
static vn_status encode(vn_video_writer *w, AVFrame *frame)
{
    int r = avcodec_send_frame(w->enc, frame);
    if (r < 0)
        return vn_av_error(r, "writing %s: encoding", w->path);
    for (;;) {
        r = avcodec_receive_packet(w->enc, w->pkt);
        if (r == AVERROR(EAGAIN) || r == AVERROR_EOF)
            return VN_OK;
        if (r < 0)
            return vn_av_error(r, "writing %s: encoding", w->path);
        av_packet_rescale_ts(w->pkt, w->enc->time_base, w->st->time_base);
        w->pkt->stream_index = w->st->index;
        r = av_interleaved_write_frame(w->oc, w->pkt);
        if (r < 0)
            return vn_av_error(r, "writing %s", w->tmp);
    }
}

/* One input frame (tensor frame t) into w->frame in the encoder's pixel format. */
static vn_status fill_frame(vn_video_writer *w, const vn_tensor *in, int64_t t, int has_t)
{
    int W = w->o.width, H = w->o.height, C = w->o.channels;
    const int64_t *S = in->strides + (has_t ? 1 : 0);
    const uint8_t *base = (const uint8_t *)in->data + (has_t ? t * in->strides[0] : 0);
    for (int y = 0; y < H; y++) {
        uint8_t *row = w->stage + (size_t)y * W * C;
        const uint8_t *src = base + y * S[0];
        if (S[1] == C && S[2] == 1) {
            memcpy(row, src, (size_t)W * C);
            continue;
        }
        for (int x = 0; x < W; x++)
            for (int c = 0; c < C; c++)
                row[x * C + c] = src[x * S[1] + c * S[2]];
    }
    int r = av_frame_make_writable(w->frame);
    if (r < 0)
        return vn_av_error(r, "writing %s: frame buffer", w->path);
    AVFrame *f = w->frame;
    if (w->lossless) {
        /* Copied by hand so the lossless path stays bit-exact. */
        for (int y = 0; y < H; y++) {
            const uint8_t *row = w->stage + (size_t)y * W * C;
            if (C == 1) {
                memcpy(f->data[0] + y * f->linesize[0], row, (size_t)W);
                continue;
            }
            uint8_t *q = f->data[0] + y * f->linesize[0];
            for (int x = 0; x < W; x++) {
                q[4 * x] = row[3 * x + 2];
                q[4 * x + 1] = row[3 * x + 1];
                q[4 * x + 2] = row[3 * x];
                q[4 * x + 3] = 255;
            }
        }
    } else {
        const uint8_t *src[4] = {w->stage, NULL, NULL, NULL};
        int sls[4] = {W * C, 0, 0, 0};
        sws_scale(w->sws, src, sls, 0, H, f->data, f->linesize);
    }
    f->pts = w->next_pts++;
    return VN_OK;
}

vn_status vn_video_writer_write(vn_video_writer *writer, const vn_tensor *frames)
{
    VN_CHECK_NULL(writer);
    VN_CHECK_NULL(frames);
    if (writer->state != WRITER_OPEN)
        return vn_error(VN_ERR_STATE, "vn_video_writer_write: the writer for %s is %s", writer->path,
                        writer->state == WRITER_FINISHED ? "finished" : "in a failed state");
    const vn_video_writer_options *o = &writer->o;
    int has_t = frames->ndim == 4;
    if (frames->dtype != VN_DTYPE_U8 || (frames->ndim != 3 && frames->ndim != 4) ||
        frames->shape[has_t + 0] != o->height || frames->shape[has_t + 1] != o->width ||
        frames->shape[has_t + 2] != o->channels || (has_t && frames->shape[0] < 0)) {
        char got[160] = "[";
        int nd = frames->ndim >= 0 && frames->ndim <= VN_MAX_DIMS ? frames->ndim : 0;
        for (int i = 0; i < nd; i++)
            snprintf(got + strlen(got), sizeof got - strlen(got), i ? ", %lld" : "%lld", (long long)frames->shape[i]);
        snprintf(got + strlen(got), sizeof got - strlen(got), "]");
        return vn_error(VN_ERR_SHAPE, "vn_video_writer_write: frames are %s %s; expected u8 [T, %d, %d, %d] or "
                        "[%d, %d, %d]", vn_dtype_name(frames->dtype), got, o->height, o->width, o->channels,
                        o->height, o->width, o->channels);
    }
    int64_t T = has_t ? frames->shape[0] : 1;
    if (T > 0 && !frames->data)
        return vn_error(VN_ERR_INVALID_ARG, "vn_video_writer_write: the frames tensor's data pointer is NULL");
    for (int64_t t = 0; t < T; t++) {
        vn_status s = fill_frame(writer, frames, t, has_t);
        if (s == VN_OK)
            s = encode(writer, writer->frame);
        if (s != VN_OK) {
            writer->state = WRITER_FAILED;
            return s;
        }
    }
    return VN_OK;
}

vn_status vn_video_writer_finish(vn_video_writer *writer)
{
    VN_CHECK_NULL(writer);
    if (writer->state != WRITER_OPEN)
        return vn_error(VN_ERR_STATE, "vn_video_writer_finish: the writer for %s is %s", writer->path,
                        writer->state == WRITER_FINISHED ? "already finished" : "in a failed state");
    vn_status s = encode(writer, NULL);
    int r = 0;
    if (s == VN_OK && (r = av_write_trailer(writer->oc)) < 0)
        s = vn_av_error(r, "vn_video_writer_finish: writing the trailer of %s", writer->tmp);
    if (writer->oc->pb && (r = avio_closep(&writer->oc->pb)) < 0 && s == VN_OK)
        s = vn_av_error(r, "vn_video_writer_finish: closing %s", writer->tmp);
    if (s == VN_OK && rename(writer->tmp, writer->path) != 0)
        s = vn_error(VN_ERR_IO, "vn_video_writer_finish: moving %s to %s: %s", writer->tmp, writer->path,
                     strerror(errno));
    if (s != VN_OK) {
        writer->state = WRITER_FAILED;
        unlink(writer->tmp);
        return s;
    }
    writer->state = WRITER_FINISHED;
    return VN_OK;
}
