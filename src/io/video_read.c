/*
 * Frame-accurate reading: decode forward through sorted requests, seek only when a
 * keyframe lies beyond the decoder's position, and tie every decoded frame to its
 * index by key (see video_internal.h).
 */
#include "io/video_internal.h"
#include "core/error.h"
#include "core/tensor_check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Returned by the decode step when the segment began after the request it must
 * answer (the seek landed too late): the planner retries from further back. */
#define VN_LATE 1
/* Returned when decoded frames carry no usable key, or keys that run backwards (the
 * container's pts contradict the decoder's output order): fall back to counting. */
#define VN_SWITCH_TO_COUNT 2

/* Give up on timestamps after this many frames in a row that match nothing. */
#define VN_UNIDENTIFIED_LIMIT 16
/* A decoder that fails this many times in a row without a picture is broken. */
#define VN_ERROR_LIMIT 256
/* Approximate mode seeks forward when the target is this far ahead (seconds). */
#define VN_TIME_SEEK_GAP 2.0

/* ---- requests ------------------------------------------------------------------------ */

typedef struct req_pair {
    int64_t i;
    double t;
    int64_t slot;
} req_pair;

static int cmp_req_index(const void *a, const void *b)
{
    const req_pair *x = a, *y = b;
    if (x->i != y->i)
        return (x->i > y->i) - (x->i < y->i);
    return (x->slot > y->slot) - (x->slot < y->slot);
}

static int cmp_req_time(const void *a, const void *b)
{
    const req_pair *x = a, *y = b;
    if (x->t != y->t)
        return (x->t > y->t) - (x->t < y->t);
    return (x->slot > y->slot) - (x->slot < y->slot);
}

void vn_requests_free(vn_requests *r)
{
    free(r->index);
    free(r->time);
    free(r->slot);
    memset(r, 0, sizeof *r);
}

vn_status vn_requests_make(vn_requests *r, const int64_t *indices, const double *times, int64_t n)
{
    memset(r, 0, sizeof *r);
    r->n = n;
    size_t cnt = (size_t)(n > 0 ? n : 1);
    req_pair *pairs = malloc(cnt * sizeof *pairs);
    r->slot = malloc(cnt * sizeof *r->slot);
    if (indices)
        r->index = malloc(cnt * sizeof *r->index);
    else
        r->time = malloc(cnt * sizeof *r->time);
    if (!pairs || !r->slot || (indices && !r->index) || (!indices && !r->time)) {
        free(pairs);
        vn_requests_free(r);
        return vn_error(VN_ERR_OUT_OF_MEMORY, "out of memory for %lld frame requests", (long long)n);
    }
    for (int64_t k = 0; k < n; k++)
        pairs[k] = (req_pair){indices ? indices[k] : 0, indices ? 0.0 : times[k], k};
    qsort(pairs, cnt, sizeof *pairs, indices ? cmp_req_index : cmp_req_time);
    for (int64_t k = 0; k < n; k++) {
        r->slot[k] = pairs[k].slot;
        if (indices)
            r->index[k] = pairs[k].i;
        else
            r->time[k] = pairs[k].t;
    }
    free(pairs);
    return VN_OK;
}

/* ---- packets and positioning --------------------------------------------------------- */

/* The next non-empty packet of the video stream into v->pkt. VN_ERR_END at the end;
 * a demuxer error also ends the file, as it did for the scan. */
static vn_status next_packet(vn_video *v)
{
    if (v->pkt_pending) {
        v->pkt_pending = 0;
        return VN_OK;
    }
    for (int again = 0;;) {
        if (vn_deadline_passed(&v->deadline))
            return vn_error(VN_ERR_TIMEOUT, "reading %s: the time limit ran out", v->name);
        int r = av_read_frame(v->fmt, v->pkt);
        if (r == AVERROR(EAGAIN) && ++again < VN_EAGAIN_LIMIT)
            continue;
        if (r == AVERROR_EXIT)
            return vn_error(VN_ERR_TIMEOUT, "reading %s: the time limit ran out", v->name);
        if (r < 0)
            return VN_ERR_END;
        if (v->pkt->stream_index == v->stream && v->pkt->size > 0)
            return VN_OK;
        av_packet_unref(v->pkt);
        again = 0;
    }
}

static void reset_decoder(vn_video *v)
{
    avcodec_flush_buffers(v->dec);
    v->dec->skip_frame = AVDISCARD_DEFAULT;
    av_frame_unref(v->prev);
    av_frame_unref(v->frame);
    if (v->pkt_pending)
        av_packet_unref(v->pkt);
    v->pkt_pending = 0;
    v->have_prev = 0;
    v->eof = v->draining = 0;
    v->counter = 0;
    v->seg_identified = v->seg_unidentified = 0;
    v->pos_valid = 0;
    v->n_seeks++;
}

static int same_packet(const vn_packet_sig *s, const AVPacket *p)
{
    return s->pts == p->pts && s->dts == p->dts && s->size == p->size && (s->pos < 0 || p->pos < 0 || s->pos == p->pos);
}

/* Back to the first packet of the file: a seek when the demuxer lands exactly there,
 * otherwise a reopen, which is always a true start. */
static vn_status rewind_to_start(vn_video *v)
{
    reset_decoder(v);
    int ok = 0;
    int64_t ts = v->first.dts != AV_NOPTS_VALUE ? v->first.dts : v->first.pts;
    if (v->first.valid && ts != AV_NOPTS_VALUE && av_seek_frame(v->fmt, v->stream, ts, AVSEEK_FLAG_BACKWARD) >= 0) {
        vn_status s = next_packet(v);
        if (s == VN_ERR_TIMEOUT)
            return s;
        if (s == VN_OK) {
            if (same_packet(&v->first, v->pkt))
                ok = 1;
            else
                av_packet_unref(v->pkt);
        }
    }
    if (!ok) {
        vn_log(VN_LOG_DEBUG, "%s: a seek to the start did not land on the first packet; reopening", v->name);
        vn_status s = vn_video_open_demuxer(v);
        if (s != VN_OK)
            return vn_error_prefix(s, "rewinding: ");
        s = next_packet(v);
        if (s == VN_ERR_END)
            return vn_error(VN_ERR_FORMAT, "rewinding %s: the file has no video packets any more", v->name);
        if (s != VN_OK)
            return s;
    }
    v->pkt_pending = 1;
    v->pos_valid = 1;
    v->from_start = 1;
    v->seg_key = INT64_MIN;
    return VN_OK;
}

/* Seek to the keyframe at or before ts and read up to the first keyframe packet. The
 * packets before it are not sent: decoding from a non-keyframe gives damaged pictures.
 * *landed is that keyframe's key; returns VN_ERR_END when the seek failed. */
static vn_status seek_keyframe(vn_video *v, int64_t ts, int64_t *landed)
{
    reset_decoder(v);
    if (av_seek_frame(v->fmt, v->stream, ts, AVSEEK_FLAG_BACKWARD) < 0)
        return VN_ERR_END;
    for (;;) {
        vn_status s = next_packet(v);
        if (s != VN_OK)
            return s;
        if (v->pkt->flags & AV_PKT_FLAG_KEY)
            break;
        av_packet_unref(v->pkt);
    }
    int64_t key = v->pkt->pts != AV_NOPTS_VALUE ? v->pkt->pts : v->pkt->dts;
    if (key == AV_NOPTS_VALUE) {
        av_packet_unref(v->pkt);
        return VN_ERR_END;
    }
    v->pkt_pending = 1;
    v->pos_valid = 1;
    v->from_start = 0;
    v->seg_key = key;
    *landed = key;
    return VN_OK;
}

/* The last seek point whose pts is <= key, or -1. */
static int64_t seek_point_for(const vn_video *v, int64_t key)
{
    int64_t lo = 0, hi = v->n_seek - 1, best = -1;
    while (lo <= hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (v->seek[mid].pts <= key) {
            best = mid;
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    return best;
}

/* The pts of the first frame after key (exact mode), or INT64_MAX. */
static int64_t pts_after(const vn_video *v, int64_t key)
{
    int64_t lo = 0, hi = v->n_frames - 1, best = INT64_MAX;
    while (lo <= hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (v->pts[mid] > key) {
            best = v->pts[mid];
            hi = mid - 1;
        } else {
            lo = mid + 1;
        }
    }
    return best;
}

/* Put the decoder where it can reach key T. attempt counts the seeks that landed too
 * late for this request; each retry starts further back, and the last resort is the
 * start of the file, which always works. */
static vn_status reposition(vn_video *v, int64_t T, int attempt)
{
    if (v->mode == VN_KEY_COUNT || attempt >= 4)
        return rewind_to_start(v);
    int64_t ts;
    if (v->mode == VN_KEY_PTS) {
        int64_t sp = seek_point_for(v, T);
        if (attempt >= 2)
            sp -= attempt - 1;
        if (sp <= 0)
            return rewind_to_start(v);
        /* First try the keyframe's pts, which demuxers indexed by pts hit exactly; a
         * dts-indexed demuxer may then land one keyframe late, so retries use the dts,
         * which is never later than the packet. */
        ts = attempt == 0 ? v->seek[sp].pts : v->seek[sp].dts;
    } else {
        double back = attempt == 0 ? 0.0 : 2.0 * pow(4.0, attempt - 1);
        ts = T - (int64_t)(back / av_q2d(v->tb));
        if (ts <= v->t0)
            return rewind_to_start(v);
    }
    int64_t landed = 0;
    vn_status s = seek_keyframe(v, ts, &landed);
    if (s == VN_ERR_END)
        return rewind_to_start(v);
    if (s != VN_OK)
        return s;
    if (v->mode == VN_KEY_PTS) {
        /* Landing on a packet the scan never saw means timestamps differ after a seek
         * (as in some Ogg files): only a rewind can be trusted there. */
        int64_t at = seek_point_for(v, landed);
        if (at < 0 || v->seek[at].pts != landed)
            return rewind_to_start(v);
    }
    if (landed > T)
        return VN_LATE;
    return VN_OK;
}

/* Whether the decoder must move before it can answer key T. */
static int needs_reposition(const vn_video *v, int64_t T)
{
    if (!v->pos_valid || v->eof)
        return 1;
    if (v->have_prev && T < v->prev_key)
        return 1;
    if (!v->have_prev && !v->from_start && T < v->seg_key)
        return 1;
    if (v->mode == VN_KEY_PTS) {
        int64_t sp = seek_point_for(v, T);
        if (sp < 0)
            return 0;
        /* The frame the decoder gives next: seeking pays when the target's keyframe
         * lies beyond it, because everything in between would be decoded for nothing. */
        int64_t next = v->have_prev ? pts_after(v, v->prev_key) : v->from_start ? v->pts[0] : v->seg_key;
        return v->seek[sp].pts > next;
    }
    if (v->mode == VN_KEY_TIME) {
        int64_t cur = v->have_prev ? v->prev_key : v->from_start ? v->t0 : v->seg_key;
        return (double)(T - cur) * av_q2d(v->tb) > VN_TIME_SEEK_GAP;
    }
    return 0;
}

/* ---- decoding ------------------------------------------------------------------------- */

static int frame_key(vn_video *v, const AVFrame *f, int64_t *key)
{
    switch (v->mode) {
    case VN_KEY_COUNT:
        *key = v->counter++;
        return 1;
    case VN_KEY_TIME:
        *key = f->pts != AV_NOPTS_VALUE ? f->pts : f->best_effort_timestamp;
        return *key != AV_NOPTS_VALUE;
    case VN_KEY_PTS:
        break;
    }
    *key = f->pts;
    if (*key == AV_NOPTS_VALUE)
        return 0;
    int64_t lo = 0, hi = v->n_frames - 1;
    while (lo <= hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (v->pts[mid] == *key)
            return 1;
        if (v->pts[mid] < *key)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return 0;
}

/*
 * Pre-roll without the waste: a non-reference picture that shows before the pending
 * request can be left undecoded, because no other picture depends on it and no later
 * request can want it without a seek (requests are sorted, and anything before the
 * last picture decoded is reached by seeking). The picture just before the request is
 * still decoded: it answers the request if the request's own packet turns out corrupt.
 * Only in exact mode, where every request is a known pts.
 */
static void set_skip(vn_video *v, const int64_t *keys, int64_t n, int64_t next)
{
    enum AVDiscard want = AVDISCARD_DEFAULT;
    int64_t p = v->pkt->pts;
    if (v->mode == VN_KEY_PTS && next < n && p != AV_NOPTS_VALUE && p < keys[next] && pts_after(v, p) < keys[next])
        want = AVDISCARD_NONREF;
    v->dec->skip_frame = want;
}

/* Decode until at least one more request is answered, the file ends, or the segment
 * proves to have started too late. */
static vn_status decode_step(vn_video *v, const int64_t *keys, int64_t n, int64_t *next, vn_frame_sink sink,
                             void *user)
{
    int64_t start = *next;
    int errors = 0;
    for (;;) {
        if (vn_deadline_passed(&v->deadline))
            return vn_error(VN_ERR_TIMEOUT, "reading %s: the time limit ran out", v->name);
        int r = avcodec_receive_frame(v->dec, v->frame);
        if (r == 0) {
            errors = 0;
            v->n_decoded++;
            int64_t key;
            if (!frame_key(v, v->frame, &key)) {
                av_frame_unref(v->frame);
                if (++v->seg_unidentified >= VN_UNIDENTIFIED_LIMIT && v->seg_identified == 0)
                    return VN_SWITCH_TO_COUNT;
                continue;
            }
            v->seg_identified++;
            /* Leading pictures of the landing keyframe reference frames before it; a
             * decoder emits them damaged or not at all. */
            if ((!v->from_start && key < v->seg_key) || (v->have_prev && key == v->prev_key)) {
                av_frame_unref(v->frame);
                continue;
            }
            /* Decoders emit pictures in presentation order, so keys that run backwards
             * mean the timestamps lie about that order. */
            if (v->have_prev && key < v->prev_key && v->mode != VN_KEY_COUNT) {
                av_frame_unref(v->frame);
                return VN_SWITCH_TO_COUNT;
            }
            v->serial++;
            vn_status s = VN_OK;
            while (*next < n && keys[*next] < key && s == VN_OK) {
                if (v->have_prev)
                    s = sink(user, v->prev, (*next)++, v->prev_serial);
                else if (v->from_start)
                    s = sink(user, v->frame, (*next)++, v->serial); /* before the first picture: show it */
                else {
                    av_frame_unref(v->frame);
                    return VN_LATE;
                }
            }
            while (*next < n && keys[*next] == key && s == VN_OK)
                s = sink(user, v->frame, (*next)++, v->serial);
            av_frame_unref(v->prev);
            av_frame_move_ref(v->prev, v->frame);
            v->have_prev = 1;
            v->prev_key = key;
            v->prev_serial = v->serial;
            if (s != VN_OK)
                return s;
            if (*next > start)
                return VN_OK;
            continue;
        }
        if (r == AVERROR_EOF || (r == AVERROR(EAGAIN) && v->draining)) {
            v->eof = 1;
            if (!v->have_prev) {
                if (!v->from_start)
                    return VN_LATE;
                if (v->mode != VN_KEY_COUNT && v->seg_unidentified > 0)
                    return VN_SWITCH_TO_COUNT;
                return vn_error(VN_ERR_FORMAT, "reading %s: no frame could be decoded", v->name);
            }
            while (*next < n) {
                vn_status s = sink(user, v->prev, (*next)++, v->prev_serial);
                if (s != VN_OK)
                    return s;
            }
            return VN_OK;
        }
        if (r != AVERROR(EAGAIN)) {
            if (r == AVERROR(ENOMEM))
                return vn_error(VN_ERR_OUT_OF_MEMORY, "reading %s: the decoder ran out of memory", v->name);
            if (++errors > VN_ERROR_LIMIT)
                return vn_av_error(r, "reading %s: the decoder keeps failing", v->name);
            continue;
        }
        vn_status s = next_packet(v);
        if (s == VN_ERR_END) {
            avcodec_send_packet(v->dec, NULL);
            v->draining = 1;
            continue;
        }
        if (s != VN_OK)
            return s;
        set_skip(v, keys, n, *next);
        r = avcodec_send_packet(v->dec, v->pkt);
        if (r == AVERROR(EAGAIN)) {
            v->pkt_pending = 1;
            if (++errors > VN_ERROR_LIMIT)
                return vn_error(VN_ERR_INTERNAL, "reading %s: the decoder accepts neither packets nor output",
                                v->name);
            continue;
        }
        av_packet_unref(v->pkt);
        /* A corrupt packet is skipped, as a player skips it; its neighbours still decode. */
        if (r < 0 && r != AVERROR_INVALIDDATA && r != AVERROR_EOF && ++errors > VN_ERROR_LIMIT)
            return vn_av_error(r, "reading %s: the decoder keeps failing", v->name);
    }
}

static void compute_keys(const vn_video *v, const vn_requests *r, int64_t *keys, int64_t from)
{
    for (int64_t k = from; k < r->n; k++)
        keys[k] = r->index ? vn_video_index_key(v, r->index[k]) : vn_video_time_key(v, r->time[k]);
}

vn_status vn_video_decode(vn_video *v, const vn_requests *r, vn_frame_sink sink, void *user)
{
    if (r->n == 0)
        return VN_OK;
    vn_deadline_start(&v->deadline, v->timeout_s);
    int64_t *keys = malloc((size_t)r->n * sizeof *keys);
    if (!keys)
        return vn_error(VN_ERR_OUT_OF_MEMORY, "reading %s: out of memory", v->name);
    compute_keys(v, r, keys, 0);
    int64_t next = 0;
    int attempt = 0;
    vn_status s = VN_OK;
    while (next < r->n) {
        int64_t T = keys[next];
        if (v->pos_valid && v->have_prev && (T == v->prev_key || (v->eof && T > v->prev_key))) {
            s = sink(user, v->prev, next++, v->prev_serial);
            if (s != VN_OK)
                break;
            continue;
        }
        if (attempt > 0 || needs_reposition(v, T)) {
            s = reposition(v, T, attempt);
            if (s == VN_LATE) {
                attempt++;
                v->pos_valid = 0;
                continue;
            }
            if (s != VN_OK)
                break;
        }
        int64_t before = next;
        s = decode_step(v, keys, r->n, &next, sink, user);
        if (s == VN_LATE) {
            attempt++;
            v->pos_valid = 0;
            continue;
        }
        if (s == VN_SWITCH_TO_COUNT) {
            vn_log(VN_LOG_INFO, "%s: the timestamps of decoded frames do not follow their order; counting frames "
                   "from the start", v->name);
            v->mode = VN_KEY_COUNT;
            v->pos_valid = 0;
            /* Requests answered so far trusted the timestamps: answer them again. */
            next = 0;
            compute_keys(v, r, keys, 0);
            attempt = 0;
            continue;
        }
        if (s != VN_OK)
            break;
        if (next > before)
            attempt = 0;
    }
    free(keys);
    if (s != VN_OK)
        v->pos_valid = 0; /* the decoder may be mid-packet: start clean next time */
    v->deadline = 0;
    return s;
}

/* ---- raw reads ------------------------------------------------------------------------- */

typedef struct frames_job {
    vn_video *v;
    vn_geom g;
    vn_tensor *out;
    const vn_requests *req;
    int64_t converted_serial;
} frames_job;

static vn_status frames_sink(void *user, const AVFrame *frame, int64_t target, int64_t serial)
{
    frames_job *job = user;
    if (serial != job->converted_serial) {
        vn_status s = vn_convert_frame(job->v, frame, &job->g);
        if (s != VN_OK)
            return s;
        job->converted_serial = serial;
    }
    vn_store_frame(job->v, &job->g, job->out, job->req->slot[target], NULL);
    return VN_OK;
}

static vn_status read_common(const char *fn, vn_video *v, const int64_t *indices, const double *times, int64_t n,
                             vn_tensor *out)
{
    if (n < 0)
        return vn_error(VN_ERR_INVALID_ARG, "%s: n is %lld", fn, (long long)n);
    int64_t shape[4] = {n, v->info.height, v->info.width, 3};
    vn_status s = vn_tensor_expect(fn, "output", out, VN_DTYPE_U8, 4, shape);
    if (s != VN_OK)
        return s;
    if (n == 0)
        return VN_OK;
    for (int64_t k = 0; k < n; k++) {
        if (indices && (indices[k] < 0 || (!v->approximate && indices[k] >= v->n_frames)))
            return vn_error(VN_ERR_INVALID_ARG, "%s: indices[%lld] = %lld is outside [0, %lld)", fn, (long long)k,
                            (long long)indices[k], (long long)v->n_frames);
        if (times && isnan(times[k]))
            return vn_error(VN_ERR_INVALID_ARG, "%s: times_s[%lld] is NaN", fn, (long long)k);
    }
    frames_job job = {.v = v, .out = out, .converted_serial = -1};
    s = vn_geom_make(v, NULL, &job.g);
    if (s != VN_OK)
        return s;
    vn_requests req;
    s = vn_requests_make(&req, indices, times, n);
    if (s != VN_OK)
        return s;
    job.req = &req;
    s = vn_video_decode(v, &req, frames_sink, &job);
    vn_requests_free(&req);
    return s;
}

vn_status vn_video_read_frames(vn_video *video, const int64_t *indices, int64_t n, vn_tensor *out)
{
    VN_CHECK_NULL(video);
    VN_CHECK_NULL(out);
    if (n > 0)
        VN_CHECK_NULL(indices);
    return read_common(__func__, video, indices, NULL, n, out);
}

vn_status vn_video_read_times(vn_video *video, const double *times_s, int64_t n, vn_tensor *out)
{
    VN_CHECK_NULL(video);
    VN_CHECK_NULL(out);
    if (n > 0)
        VN_CHECK_NULL(times_s);
    return read_common(__func__, video, NULL, times_s, n, out);
}
