/* Reading a video from memory: a custom AVIOContext over a private copy of the bytes. */
#include "io/video_internal.h"

#include <string.h>

#include <libavutil/mem.h>

#define VN_MEMIO_BUFFER 65536

static int memio_read(void *opaque, uint8_t *buf, int n)
{
    vn_memio *m = opaque;
    /* The file protocol polls the interrupt callback, a custom AVIOContext does not:
     * poll the deadline here so a memory open is bounded the same way. */
    if (m->deadline && vn_deadline_passed(m->deadline))
        return AVERROR_EXIT;
    if (m->pos >= m->size)
        return AVERROR_EOF;
    size_t left = m->size - m->pos;
    size_t take = (size_t)n < left ? (size_t)n : left;
    memcpy(buf, m->data + m->pos, take);
    m->pos += take;
    return (int)take;
}

static int64_t memio_seek(void *opaque, int64_t offset, int whence)
{
    vn_memio *m = opaque;
    whence &= ~AVSEEK_FORCE;
    int64_t base;
    switch (whence) {
    case AVSEEK_SIZE: return (int64_t)m->size;
    case SEEK_SET: base = 0; break;
    case SEEK_CUR: base = (int64_t)m->pos; break;
    case SEEK_END: base = (int64_t)m->size; break;
    default: return AVERROR(EINVAL);
    }
    int64_t target = base + offset;
    if (target < 0 || target > (int64_t)m->size)
        return AVERROR(EINVAL);
    m->pos = (size_t)target;
    return target;
}

AVIOContext *vn_memio_open(vn_memio *m)
{
    m->pos = 0;
    uint8_t *buf = av_malloc(VN_MEMIO_BUFFER);
    if (!buf)
        return NULL;
    AVIOContext *ctx = avio_alloc_context(buf, VN_MEMIO_BUFFER, 0, m, memio_read, NULL, memio_seek);
    if (!ctx)
        av_free(buf);
    return ctx;
}

void vn_memio_close(AVIOContext **ctx)
{
    if (!*ctx)
        return;
    /* avio may have replaced the buffer it was given, so free the current one. */
    av_freep(&(*ctx)->buffer);
    avio_context_free(ctx);
}
