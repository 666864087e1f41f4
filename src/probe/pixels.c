/*
 * pixels.c: the pixel baseline, a probe's floor that needs no encoder: raw frame
 * differences, gray and block-averaged. A linear probe on them sees how things move
 * between frames, but has no model of the world to interpret it.
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "vnative/probe.h"
#include "world/world_internal.h"

/* Gray frames [T, side, side] of a u8 clip [T, S, S, C], each cell the mean of its block. */
static void block_gray(const uint8_t *clip, int T, int S, int C, int side, double *out)
{
    for (int t = 0; t < T; t++)
        for (int by = 0; by < side; by++)
            for (int bx = 0; bx < side; bx++) {
                int y0 = by * S / side, y1 = (by + 1) * S / side, x0 = bx * S / side, x1 = (bx + 1) * S / side;
                double s = 0.0;
                for (int y = y0; y < y1; y++)
                    for (int x = x0; x < x1; x++)
                        for (int c = 0; c < C; c++)
                            s += clip[(((size_t)t * S + y) * S + x) * C + c];
                out[((size_t)t * side + by) * side + bx] = s / ((double)(y1 - y0) * (x1 - x0) * C * 255.0);
            }
}

vn_status vn_probe_pixels_world(const vn_world *world, vn_world_task task, int64_t first_index, int side,
                                vn_tensor *features, int *labels)
{
    static const char fn[] = "vn_probe_pixels_world";
    VN_CHECK_NULL(world);
    VN_CHECK_NULL(features);
    VN_CHECK_NULL(labels);
    if ((int)task < 0 || (int)task >= VN_WORLD_TASK_COUNT || task == VN_TASK_FUTURE)
        return vn_error(VN_ERR_INVALID_ARG, "%s: task %d is not a binary world task (use aot, gravity, ...)", fn,
                        (int)task);
    const int T = world->o.n_frames, S = world->o.size, C = world->o.channels;
    if (first_index < 0 || side < 1 || side > S)
        return vn_error(VN_ERR_INVALID_ARG, "%s: first_index %lld must be >= 0 and side %d in 1..%d (the frame side)",
                        fn, (long long)first_index, side, S);
    const int64_t F = (int64_t)(T - 1) * side * side;
    if (features->dtype != VN_DTYPE_F32 || features->ndim != 2 || features->shape[0] < 1 ||
        features->shape[1] != F || !features->data)
        return vn_error(VN_ERR_SHAPE, "%s: features must be f32 [N, %lld] with N >= 1 ((frames - 1) x side x side)",
                        fn, (long long)F);
    const int64_t N = features->shape[0];
    uint8_t *clip = malloc((size_t)T * S * S * C);
    double *gray = malloc((size_t)T * side * side * sizeof *gray);
    vn_status st = VN_OK;
    if (!clip || !gray) {
        st = vn_error(VN_ERR_OUT_OF_MEMORY, "%s: no memory for a clip", fn);
        goto done;
    }
    for (int64_t i = 0; i < N; i++) {
        int64_t shape[4] = {T, S, S, C};
        vn_tensor tc;
        vn_tensor_init(&tc, clip, VN_DTYPE_U8, 4, shape);
        if ((st = vn_world_clip(world, task, first_index + i, &tc, &labels[i]))) {
            st = vn_error_prefix(st, "%s: ", fn);
            goto done;
        }
        block_gray(clip, T, S, C, side, gray);
        float *row = (float *)features->data + i * features->strides[0];
        const int64_t plane = (int64_t)side * side;
        for (int64_t k = 0; k < F; k++)
            row[k * features->strides[1]] = (float)(gray[k + plane] - gray[k]);
    }
done:
    free(clip);
    free(gray);
    return st;
}
