/*
 * The video target: open a buffer as a video (vn_video_create_from_memory), read its metadata,
 * then frames by index and by time and a transformed clip, as the loader does. Output tensors
 * are allocated only for frames up to VN_FUZZ_MAX_READ_PIXELS: a declared resolution is the
 * attacker's number, and the library's own allocations must stay bounded without the target's help.
 */
#include "fuzz_targets.h"
#include "fuzz_util.h"

#include <stdlib.h>

#include "vnative/video.h"

/* Long enough for any seed on a loaded machine, short enough that a decode loop is reported
 * by the library (VN_ERR_TIMEOUT) well before libFuzzer's own -timeout. */
#define FUZZ_VIDEO_TIMEOUT_S 5.0

static vn_status check_info(const vn_video_info *info, int approximate)
{
    if (info->width <= 0 || info->height <= 0 || (!approximate && (info->n_frames <= 0 || !info->n_frames_exact)))
        vn_fuzz_fail("an opened video reports no size or no frames", VN_OK);
    if (approximate && (info->n_frames_exact || info->n_keyframes != 0))
        vn_fuzz_fail("an approximate open claims an exact scan", VN_OK);
    if (info->rotation % 90 != 0 || info->rotation < 0 || info->rotation >= 360)
        vn_fuzz_fail("rotation is not a right angle", VN_OK);
    if (info->n_keyframes < 0 || info->n_keyframes > info->n_frames)
        vn_fuzz_fail("more keyframes than frames", VN_OK);
    return VN_OK;
}

static vn_status read_frames(vn_video *v, const vn_video_info *info)
{
    int64_t n = info->n_frames > 0 ? info->n_frames : 1; /* an estimate in approximate mode */
    int64_t idx[3] = {n - 1, 0, n / 2}; /* backwards first: the seek path, then forward */
    int64_t shape[4] = {3, info->height, info->width, 3};
    uint8_t *buf = malloc((size_t)(3 * info->height * info->width * 3));
    if (!buf)
        return VN_OK;
    vn_tensor t;
    vn_status s = vn_tensor_init(&t, buf, VN_DTYPE_U8, 4, shape);
    if (s == VN_OK)
        s = vn_fuzz_checked(vn_video_read_frames(v, idx, 3, &t), "vn_video_read_frames");
    double times[2] = {info->duration_s * 0.5, info->duration_s + 1.0};
    shape[0] = 2;
    if (s == VN_OK)
        s = vn_tensor_init(&t, buf, VN_DTYPE_U8, 4, shape);
    if (s == VN_OK)
        s = vn_fuzz_checked(vn_video_read_times(v, times, 2, &t), "vn_video_read_times");
    free(buf);
    return s;
}

/* A loader-style clip: strided frames, resized and cropped small, normalised to float. */
static vn_status read_clip(vn_video *v)
{
    vn_clip_options clip = VN_CLIP_OPTIONS_INIT;
    clip.n_frames = 4;
    clip.stride = 2;
    clip.start = -1;
    clip.seed = 7;
    vn_transform_options tr = VN_TRANSFORM_OPTIONS_INIT;
    tr.short_side = 16;
    tr.crop_size = 16;
    tr.hflip_prob = 0.5f;
    int64_t shape[4];
    vn_status s = vn_fuzz_checked(vn_clip_shape(v, &clip, &tr, VN_DTYPE_F32, shape), "vn_clip_shape");
    if (s != VN_OK)
        return s;
    if (shape[0] != 3 || shape[1] != 4 || shape[2] != 16 || shape[3] != 16)
        vn_fuzz_fail("vn_clip_shape disagrees with the transform", VN_OK);
    float *buf = malloc(sizeof(float) * 3 * 4 * 16 * 16);
    if (!buf)
        return VN_OK;
    vn_tensor t;
    s = vn_tensor_init(&t, buf, VN_DTYPE_F32, 4, shape);
    if (s == VN_OK)
        s = vn_fuzz_checked(vn_video_read_clip(v, &clip, &tr, &t), "vn_video_read_clip");
    free(buf);
    return s;
}

vn_status vn_fuzz_video(const uint8_t *data, size_t size)
{
    vn_clear_error();
    vn_video_open_options opts = VN_VIDEO_OPEN_OPTIONS_INIT;
    opts.n_threads = 1; /* the fuzzer's 2 cores run two harnesses */
    opts.timeout_s = FUZZ_VIDEO_TIMEOUT_S;
    /* A quarter of the inputs take the loader's approximate path (no packet scan; reads seek by
     * time). Chosen by size so that a saved input replays in the same mode. */
    opts.approximate = size % 4 == 3;
    vn_video *v = NULL;
    vn_status s = vn_fuzz_checked(vn_video_create_from_memory(&v, data, size, &opts), "vn_video_create_from_memory");
    if (s != VN_OK) {
        if (v)
            vn_fuzz_fail("a failed open returned a handle", s);
        return s;
    }
    vn_video_info info = VN_VIDEO_INFO_INIT;
    s = vn_fuzz_checked(vn_video_get_info(v, &info), "vn_video_get_info");
    if (s == VN_OK)
        s = check_info(&info, opts.approximate);
    if (s == VN_OK && !opts.approximate) {
        int64_t keys[4], n_keys = -1;
        double t_last;
        s = vn_fuzz_checked(vn_video_keyframes(v, keys, 4, &n_keys), "vn_video_keyframes");
        if (s == VN_OK && n_keys != info.n_keyframes)
            vn_fuzz_fail("vn_video_keyframes and vn_video_get_info count different keyframes", s);
        for (int64_t i = 0; s == VN_OK && i < n_keys && i < 4; i++)
            if (keys[i] < 0 || keys[i] >= info.n_frames || (i > 0 && keys[i] <= keys[i - 1]))
                vn_fuzz_fail("keyframe indices are not increasing frame indices", s);
        if (s == VN_OK)
            s = vn_fuzz_checked(vn_video_frame_time(v, info.n_frames - 1, &t_last), "vn_video_frame_time");
    }
    if (s == VN_OK && (int64_t)info.width * info.height <= VN_FUZZ_MAX_READ_PIXELS)
        s = read_frames(v, &info);
    if (s == VN_OK)
        s = read_clip(v);
    vn_video_destroy(v);
    return s;
}
