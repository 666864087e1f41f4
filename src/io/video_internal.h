/*
 * Private state of vn_video and the helpers shared by the video_*.c files.
 *
 * Frame identity: every decoded frame is tied to an index through a "key".
 *  - VN_KEY_PTS (exact mode): the scan at open sorts the pts of every packet that
 *    yields a picture; index i is the i-th of them, and a decoded frame is matched
 *    by its pts. This survives seeks, reordering and frame threading.
 *  - VN_KEY_TIME (approximate mode, no scan): index i means the frame shown at
 *    time i / avg_fps, so the key of a request is a pts threshold.
 *  - VN_KEY_COUNT (no usable timestamps): frames are counted from the start of the
 *    file, so the decoder never seeks except back to the start.
 * In all three modes a request with key K is answered by the last frame whose key
 * is <= K, which is what a full sequential decode shows at that position.
 */
#ifndef VN_IO_VIDEO_INTERNAL_H
#define VN_IO_VIDEO_INTERNAL_H

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libswscale/swscale.h>

#include "vnative/video.h"

typedef enum vn_key_mode {
    VN_KEY_PTS = 0,
    VN_KEY_TIME = 1,
    VN_KEY_COUNT = 2
} vn_key_mode;

/* A keyframe packet: where decoding can start. pts orders them; a retried seek uses
 * the dts, which never lands later than the packet. */
typedef struct vn_seek_point {
    int64_t pts;
    int64_t dts;
} vn_seek_point;

/* The first video packet of the file, to recognise a successful rewind. */
typedef struct vn_packet_sig {
    int64_t pts, dts, pos;
    int size;
    int valid;
} vn_packet_sig;

/* In-memory input behind a custom AVIOContext. */
typedef struct vn_memio {
    uint8_t *data;
    size_t size;
    size_t pos;
    const int64_t *deadline; /* the owner's deadline, checked on every read */
} vn_memio;

#define VN_SWS_CACHE 6

typedef struct vn_sws_entry {
    struct SwsContext *ctx;
    int sw, sh, sfmt, dw, dh, dfmt, colorspace, full_range;
    uint64_t last_use;
} vn_sws_entry;

typedef struct vn_sws_cache {
    vn_sws_entry e[VN_SWS_CACHE];
    uint64_t clock;
} vn_sws_cache;

/* Where a kept frame goes: a rectangle of the displayed (rotated) picture, scaled
 * to out_w x out_h, optionally mirrored and reduced to luma. */
typedef struct vn_geom {
    double dx, dy, dw, dh; /* source rectangle in display coordinates of the nominal size */
    int out_w, out_h;
    int hflip;
    int gray;
} vn_geom;

struct vn_video {
    char name[256]; /* the path, or "<memory>", for messages */
    char *path;
    vn_memio mem;
    AVIOContext *avio;
    AVFormatContext *fmt;
    AVCodecContext *dec;
    int stream;
    enum AVCodecID codec_id;
    AVRational tb;
    AVPacket *pkt;
    int pkt_pending; /* pkt holds a packet read but not yet sent to the decoder */
    AVFrame *frame;
    AVFrame *prev;

    int approximate;
    int n_threads;
    double timeout_s;
    int64_t deadline; /* av_gettime_relative() limit of the current call; 0: none */

    vn_video_info info;
    int rotation;
    int coded_w, coded_h;

    vn_key_mode mode;
    int64_t n_frames;
    int64_t *pts;           /* VN_KEY_PTS: presentation pts of every index, increasing */
    vn_seek_point *seek;    /* keyframe packets, increasing pts (VN_KEY_PTS only) */
    int64_t n_seek;
    int64_t *key_index;     /* keyframes as frame indices */
    int64_t n_key_index;
    vn_packet_sig first;
    int64_t t0;             /* key of time 0 */
    double frame_dur;       /* ticks per frame at avg_fps */

    /* Decoder position. A "segment" is a run of decoding that began at the file
     * start or at a keyframe reached by a seek. */
    int pos_valid;
    int from_start;
    int64_t seg_key;        /* frames keyed below this are leading pictures of the landing keyframe */
    int have_prev;
    int64_t prev_key;
    int64_t counter;        /* VN_KEY_COUNT: frames output in this segment */
    int draining, eof;
    int64_t serial, prev_serial;
    int64_t seg_identified, seg_unidentified;
    int64_t n_seeks;        /* repositionings, for tests and stats */
    int64_t n_decoded;      /* frames received from the decoder */

    vn_sws_cache sws;
    uint8_t *rgb;           /* scratch RGB24 picture in coded orientation */
    size_t rgb_cap;
    int rgb_w, rgb_h, rgb_stride;
    uint8_t *full;          /* fallback: the whole frame as RGB24 before cropping */
    size_t full_cap;
};

/* ---- av_util.c ---------------------------------------------------------------------- */

/* Route FFmpeg's log into vn_log (once per process). */
void vn_av_init(void);
/* An FFmpeg error code as a vn_status, with a message "what: av error text". */
vn_status vn_av_error(int averr, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* av_read_frame answers EAGAIN only for non-blocking inputs; a file that keeps
 * answering it is treated as ended after this many tries in a row. */
#define VN_EAGAIN_LIMIT 1000

/* The largest frame vn_video opens. A header's frame size is the file's claim, and every read
 * allocates several frames of it (decoded, RGB, transform buffers): a corrupt or hostile
 * header must get an error, not gigabytes. 16384 per side covers 16K video; the pixel cap
 * (8192 x 8192, 192 MB per RGB frame) bounds the product. */
#define VN_VIDEO_MAX_SIDE 16384
#define VN_VIDEO_MAX_PIXELS ((int64_t)8192 * 8192)

/* Start the time limit of one public call (timeout_s <= 0: none). */
void vn_deadline_start(int64_t *deadline, double timeout_s);
int vn_deadline_passed(const int64_t *deadline);
/* AVIOInterruptCB callback; opaque is an int64_t deadline. */
int vn_interrupt_cb(void *opaque);

/* ---- avio_memory.c ------------------------------------------------------------------ */

AVIOContext *vn_memio_open(vn_memio *m);
void vn_memio_close(AVIOContext **ctx);

/* ---- video_open.c ------------------------------------------------------------------- */

/* Open (or reopen) the demuxer on v->path or v->mem and find v->stream. */
vn_status vn_video_open_demuxer(vn_video *v);
void vn_video_close_demuxer(vn_video *v);

/* The key of a frame index or a time in the current mode. */
int64_t vn_video_index_key(const vn_video *v, int64_t index);
int64_t vn_video_time_key(const vn_video *v, double time_s);
/* Index of the frame shown at time t (the last with pts <= t). */
int64_t vn_video_time_index(const vn_video *v, double time_s);

/* Whether VP8/VP9 packet data produces a visible picture. */
int vn_vpx_packet_shown(enum AVCodecID id, const uint8_t *data, int size);

/* ---- video_read.c ------------------------------------------------------------------- */

/* Called once per request with the frame that answers it. target is the request's
 * position in the sorted list; serial identifies the decoded frame, so requests that
 * share a frame need only one conversion. */
typedef vn_status (*vn_frame_sink)(void *user, const AVFrame *frame, int64_t target, int64_t serial);

/* Requests sorted ascending, with the output slot of each. */
typedef struct vn_requests {
    int64_t n;
    int64_t *index; /* sorted frame indices, or NULL */
    double *time;   /* sorted times, or NULL */
    int64_t *slot;  /* slot[k]: where the k-th smallest request goes */
} vn_requests;

vn_status vn_requests_make(vn_requests *r, const int64_t *indices, const double *times, int64_t n);
void vn_requests_free(vn_requests *r);

/* Decode the frames that answer r, calling sink for each request. */
vn_status vn_video_decode(vn_video *v, const vn_requests *r, vn_frame_sink sink, void *user);

/* ---- video_convert.c ---------------------------------------------------------------- */

/* The geometry of a clip read with transform t (NULL: none) and the draw of its
 * crop and flip from t->seed. */
vn_status vn_geom_make(const vn_video *v, const vn_transform_options *t, vn_geom *g);
/* Convert the geometry's region of frame f into v->rgb (RGB24, coded orientation). */
vn_status vn_convert_frame(vn_video *v, const AVFrame *f, const vn_geom *g);
/* Write v->rgb as frame t of a U8 [T,H,W,C] or F32 [C,T,H,W] tensor. lut holds
 * 256 floats per channel for F32 (NULL for U8). */
void vn_store_frame(const vn_video *v, const vn_geom *g, vn_tensor *out, int64_t t, const float *lut);
void vn_sws_cache_free(vn_sws_cache *c);
/* Checks shared by the transform entry points. */
vn_status vn_transform_check(const char *fn, const vn_transform_options *t);

#endif
