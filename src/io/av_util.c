/* FFmpeg glue shared by the reader and the writer: logging, errors, time limits. */
#include "io/video_internal.h"
#include "core/error.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <libavutil/log.h>
#include <libavutil/time.h>

/* FFmpeg prints to stderr by default, which would flood a training run with the
 * complaints of every corrupt file; its messages belong in vnative's log. Errors go
 * to debug level because each one also surfaces as a vn_status with a message. */
static void av_log_forward(void *avcl, int level, const char *fmt, va_list ap)
{
    if (level > AV_LOG_WARNING)
        return;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    if (n == 0)
        return;
    const char *who = "";
    const AVClass *cls = avcl ? *(const AVClass **)avcl : NULL;
    if (cls)
        who = cls->item_name ? cls->item_name(avcl) : cls->class_name;
    vn_log(VN_LOG_DEBUG, "ffmpeg %s: %s", who, line);
}

static pthread_once_t av_once = PTHREAD_ONCE_INIT;

static void av_init_once(void)
{
    av_log_set_callback(av_log_forward);
}

void vn_av_init(void)
{
    pthread_once(&av_once, av_init_once);
}

static vn_status status_of(int averr)
{
    if (averr == AVERROR_EXIT)
        return VN_ERR_TIMEOUT;
    if (averr == AVERROR(ENOMEM))
        return VN_ERR_OUT_OF_MEMORY;
    if (averr == AVERROR(ENOENT))
        return VN_ERR_NOT_FOUND;
    if (averr == AVERROR(EACCES) || averr == AVERROR(EIO) || averr == AVERROR(EPERM) || averr == AVERROR(ENOSPC) ||
        averr == AVERROR(EISDIR) || averr == AVERROR(EROFS))
        return VN_ERR_IO;
    if (averr == AVERROR_ENCODER_NOT_FOUND || averr == AVERROR_DECODER_NOT_FOUND || averr == AVERROR_MUXER_NOT_FOUND ||
        averr == AVERROR_PATCHWELCOME || averr == AVERROR(ENOSYS))
        return VN_ERR_UNSUPPORTED;
    return VN_ERR_FORMAT;
}

vn_status vn_av_error(int averr, const char *fmt, ...)
{
    char what[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    char err[AV_ERROR_MAX_STRING_SIZE] = "";
    av_strerror(averr, err, sizeof err);
    vn_status s = status_of(averr);
    if (s == VN_ERR_TIMEOUT)
        return vn_error(s, "%s: the time limit ran out", what);
    return vn_error(s, "%s: %s", what, err);
}

void vn_deadline_start(int64_t *deadline, double timeout_s)
{
    *deadline = timeout_s > 0 ? av_gettime_relative() + (int64_t)(timeout_s * 1e6) : 0;
}

int vn_deadline_passed(const int64_t *deadline)
{
    return *deadline != 0 && av_gettime_relative() > *deadline;
}

int vn_interrupt_cb(void *opaque)
{
    return vn_deadline_passed((const int64_t *)opaque);
}
