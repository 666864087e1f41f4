/*
 * embed.c: pooled embeddings of world clips under a frozen encoder, the input of every
 * world probe.
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/tensor_check.h"
#include "vnative/probe.h"
#include "world/world_internal.h"

#define DEFAULT_BATCH 32

/* Reverse the frame order of n [T, plane] blocks in place ([N, C, T, H, W] is N*C of them). */
static void reverse_frames(float *x, int64_t n, int T, int64_t plane)
{
    for (int64_t i = 0; i < n; i++) {
        float *blk = x + i * T * plane;
        for (int a = 0, b = T - 1; a < b; a++, b--)
            for (int64_t k = 0; k < plane; k++) {
                float t = blk[a * plane + k];
                blk[a * plane + k] = blk[b * plane + k];
                blk[b * plane + k] = t;
            }
    }
}

vn_status vn_probe_embed_world(const vn_encoder *enc, const vn_world *world, vn_world_task task,
                               int64_t first_index, int batch, unsigned flags, vn_tensor *emb, int *labels)
{
    static const char fn[] = "vn_probe_embed_world";
    VN_CHECK_NULL(enc);
    VN_CHECK_NULL(world);
    VN_CHECK_NULL(emb);
    VN_CHECK_NULL(labels);
    if ((int)task < 0 || (int)task >= VN_WORLD_TASK_COUNT || task == VN_TASK_FUTURE)
        return vn_error(VN_ERR_INVALID_ARG, "%s: task %d is not a binary world task (use aot, gravity, ...)", fn,
                        (int)task);
    if (flags & ~VN_PROBE_EMBED_REVERSED)
        return vn_error(VN_ERR_INVALID_ARG, "%s: flags 0x%x has bits that are not VN_PROBE_EMBED_REVERSED", fn, flags);
    if (first_index < 0)
        return vn_error(VN_ERR_INVALID_ARG, "%s: first_index is %lld; it must be >= 0", fn, (long long)first_index);
    vn_encoder_config cfg;
    vn_status st = vn_encoder_get_config(enc, &cfg);
    if (st)
        return st;
    const vn_world_options *wo = &world->o;
    if (wo->n_frames != cfg.frames || wo->size != cfg.size || wo->channels != cfg.channels)
        return vn_error(VN_ERR_SHAPE,
                        "%s: the world renders %d frames of %dx%d x%d channels but the encoder takes %d frames of "
                        "%dx%d x%d",
                        fn, wo->n_frames, wo->size, wo->size, wo->channels, cfg.frames, cfg.size, cfg.size,
                        cfg.channels);
    int64_t L, D;
    vn_encoder_output_shape(enc, &L, &D);
    if (emb->ndim != 2 || emb->dtype != VN_DTYPE_F32 || emb->shape[0] < 1 || emb->shape[1] != D || !emb->data)
        return vn_error(VN_ERR_SHAPE, "%s: emb must be f32 [N, %lld] with N >= 1 (the encoder's dim is %lld)", fn,
                        (long long)D, (long long)D);
    const int64_t N = emb->shape[0];
    if (batch <= 0)
        batch = DEFAULT_BATCH;
    if (batch > N)
        batch = (int)N;
    const int64_t clip_elems = (int64_t)cfg.channels * cfg.frames * cfg.size * cfg.size;
    float *clips = malloc((size_t)(batch * clip_elems) * sizeof *clips);
    float *out = malloc((size_t)(batch * D) * sizeof *out);
    if (!clips || !out) {
        free(clips);
        free(out);
        return vn_error(VN_ERR_OUT_OF_MEMORY, "%s: no memory for a batch of %d clips", fn, batch);
    }
    for (int64_t at = 0; at < N && st == VN_OK; at += batch) {
        int64_t b = N - at < batch ? N - at : batch;
        int64_t cshape[5] = {b, cfg.channels, cfg.frames, cfg.size, cfg.size}, eshape[2] = {b, D};
        vn_tensor tc, te;
        vn_tensor_init(&tc, clips, VN_DTYPE_F32, 5, cshape);
        vn_tensor_init(&te, out, VN_DTYPE_F32, 2, eshape);
        if ((st = vn_world_batch(world, task, first_index + at, &tc, labels + at)))
            break;
        if (flags & VN_PROBE_EMBED_REVERSED)
            reverse_frames(clips, b * cfg.channels, cfg.frames, (int64_t)cfg.size * cfg.size);
        if ((st = vn_encoder_encode(enc, &tc, &te)))
            break;
        for (int64_t i = 0; i < b; i++)
            for (int64_t j = 0; j < D; j++)
                ((float *)emb->data)[(at + i) * emb->strides[0] + j * emb->strides[1]] = out[i * D + j];
    }
    free(clips);
    free(out);
    return st ? vn_error_prefix(st, "%s: ", fn) : VN_OK;
}
