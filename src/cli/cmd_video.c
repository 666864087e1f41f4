/* `vnative probe-video` and `vnative frames`: video metadata and frame dumps to .npy. */
#include "cli/commands.h"
#include "cli/json_writer.h"
#include "io/npy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vnative/vnative.h"

static int parse_i64(const char *cmd, const char *opt, const char *s, int64_t lo, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = s ? strtoll(s, &end, 10) : 0;
    if (!s || end == s || *end || errno || v < lo) {
        fprintf(stderr, "vnative %s: %s needs an integer >= %lld, got '%s'\n", cmd, opt, (long long)lo, s ? s : "");
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_f64(const char *cmd, const char *opt, const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = s ? strtod(s, &end) : 0;
    if (!s || end == s || *end || errno || !(v > 0)) {
        fprintf(stderr, "vnative %s: %s needs a positive number, got '%s'\n", cmd, opt, s ? s : "");
        return -1;
    }
    *out = v;
    return 0;
}

/* ---- probe-video ----------------------------------------------------------------------- */

static void probe_usage(FILE *f)
{
    fprintf(f, "usage: vnative probe-video FILE [--json] [--approximate]\n\n"
               "Opens FILE, scans its packets once and prints the exact frame count, keyframes,\n"
               "frame rate, rotation and colour details. --approximate skips the scan and\n"
               "reports what the container header claims.\n");
}

int vn_cmd_probe_video(int argc, char **argv)
{
    int json = 0, approximate = 0;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "--approximate"))
            approximate = 1;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            probe_usage(stdout);
            return 0;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "vnative probe-video: unknown option '%s'\n", argv[i]);
            return 2;
        } else if (!path)
            path = argv[i];
        else {
            fprintf(stderr, "vnative probe-video: more than one FILE ('%s')\n", argv[i]);
            return 2;
        }
    }
    if (!path) {
        probe_usage(stderr);
        return 2;
    }
    vn_video_open_options o = VN_VIDEO_OPEN_OPTIONS_INIT;
    o.approximate = approximate;
    vn_video *v = NULL;
    if (vn_video_create(&v, path, &o) != VN_OK)
        return vn_cli_fail("probe-video", vn_last_error());
    vn_video_info info = VN_VIDEO_INFO_INIT;
    if (vn_video_get_info(v, &info) != VN_OK) {
        vn_video_destroy(v);
        return vn_cli_fail("probe-video", vn_last_error());
    }
    int64_t n_keys = 0, *keys = NULL;
    if (!approximate && vn_video_keyframes(v, NULL, 0, &n_keys) == VN_OK && n_keys > 0) {
        keys = malloc((size_t)n_keys * sizeof *keys);
        if (!keys || vn_video_keyframes(v, keys, n_keys, &n_keys) != VN_OK)
            n_keys = 0;
    }
    char tb[48];
    snprintf(tb, sizeof tb, "%d/%d", info.time_base_num, info.time_base_den);
    if (json) {
        jw w;
        jw_init(&w, stdout);
        jw_object_begin(&w, NULL);
        jw_string(&w, "path", path);
        jw_int(&w, "width", info.width);
        jw_int(&w, "height", info.height);
        jw_int(&w, "coded_width", info.coded_width);
        jw_int(&w, "coded_height", info.coded_height);
        jw_int(&w, "rotation", info.rotation);
        jw_int(&w, "n_frames", info.n_frames);
        jw_bool(&w, "n_frames_exact", info.n_frames_exact);
        jw_int(&w, "n_keyframes", info.n_keyframes);
        jw_double(&w, "duration_s", info.duration_s);
        jw_double(&w, "avg_fps", info.avg_fps);
        jw_string(&w, "time_base", tb);
        jw_bool(&w, "variable_frame_rate", info.variable_frame_rate);
        jw_bool(&w, "full_range", info.full_range);
        jw_string(&w, "codec", info.codec);
        jw_string(&w, "pixel_format", info.pixel_format);
        jw_string(&w, "color_space", info.color_space);
        jw_array_begin(&w, "keyframes");
        for (int64_t k = 0; k < n_keys; k++)
            jw_int(&w, NULL, keys[k]);
        jw_array_end(&w);
        jw_object_end(&w);
        jw_finish(&w);
    } else {
        printf("file:        %s\n", path);
        printf("codec:       %s (%s, %s, %s range)\n", info.codec, info.pixel_format, info.color_space,
               info.full_range ? "full" : "limited");
        printf("size:        %dx%d", info.width, info.height);
        if (info.rotation)
            printf(" (stored %dx%d, rotated %d degrees clockwise)", info.coded_width, info.coded_height,
                   info.rotation);
        printf("\nframes:      %lld (%s)\n", (long long)info.n_frames,
               info.n_frames_exact ? "exact, from a packet scan" : "estimated from the header");
        printf("keyframes:   %lld", (long long)info.n_keyframes);
        for (int64_t k = 0; k < n_keys && k < 16; k++)
            printf("%s%lld", k ? ", " : " at ", (long long)keys[k]);
        printf("%s\n", n_keys > 16 ? ", ..." : "");
        printf("duration:    %.3f s\n", info.duration_s);
        printf("frame rate:  %.3f fps average%s\n", info.avg_fps, info.variable_frame_rate ? ", variable" : "");
        printf("time base:   %s\n", tb);
    }
    free(keys);
    vn_video_destroy(v);
    return 0;
}

/* ---- frames ------------------------------------------------------------------------------ */

static void frames_usage(FILE *f)
{
    fprintf(f,
            "usage: vnative frames FILE --num N (--stride S | --fps F) [--start I] [--size PX] [--crop PX]\n"
            "                      [--reverse] [--gray] [--float] --out F.npy\n\n"
            "Reads N frames from FILE, S frames apart (or at F frames per second), starting at\n"
            "frame I (default 0; -1 picks a random start), and writes them to F.npy as uint8\n"
            "[N, H, W, C] (RGB, or gray with --gray), or with --float as float32 [C, N, H, W]\n"
            "normalised with the ImageNet mean and std.\n"
            "  --size PX   resize so the short side is PX pixels\n"
            "  --crop PX   centre crop to PX x PX (after --size)\n"
            "  --reverse   write the frames in reverse order\n"
            "  --seed X    seed for --start -1\n");
}

int vn_cmd_frames(int argc, char **argv)
{
    const char *path = NULL, *out = NULL;
    vn_clip_options clip = VN_CLIP_OPTIONS_INIT;
    vn_transform_options tr = VN_TRANSFORM_OPTIONS_INIT;
    int have_num = 0, have_stride = 0, as_float = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        int64_t x;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            frames_usage(stdout);
            return 0;
        } else if (!strcmp(a, "--num")) {
            if (parse_i64("frames", a, val, 1, &x) || x > 1000000)
                return 2;
            clip.n_frames = (int)x;
            have_num = 1;
            i++;
        } else if (!strcmp(a, "--stride")) {
            if (parse_i64("frames", a, val, 1, &x) || x > 1000000)
                return 2;
            clip.stride = (int)x;
            have_stride = 1;
            i++;
        } else if (!strcmp(a, "--fps")) {
            if (parse_f64("frames", a, val, &clip.target_fps))
                return 2;
            clip.stride = 0;
            have_stride = 1;
            i++;
        } else if (!strcmp(a, "--start")) {
            if (parse_i64("frames", a, val, -1, &x))
                return 2;
            clip.start = x;
            i++;
        } else if (!strcmp(a, "--seed")) {
            if (parse_i64("frames", a, val, 0, &x))
                return 2;
            clip.seed = (uint64_t)x;
            i++;
        } else if (!strcmp(a, "--size")) {
            if (parse_i64("frames", a, val, 1, &x) || x > 16384)
                return 2;
            tr.short_side = (int)x;
            i++;
        } else if (!strcmp(a, "--crop")) {
            if (parse_i64("frames", a, val, 1, &x) || x > 16384)
                return 2;
            tr.crop_size = (int)x;
            i++;
        } else if (!strcmp(a, "--out")) {
            if (!val) {
                fprintf(stderr, "vnative frames: --out needs a file name\n");
                return 2;
            }
            out = val;
            i++;
        } else if (!strcmp(a, "--reverse")) {
            clip.reverse = 1;
        } else if (!strcmp(a, "--gray")) {
            tr.grayscale = 1;
        } else if (!strcmp(a, "--float")) {
            as_float = 1;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "vnative frames: unknown option '%s'\n", a);
            return 2;
        } else if (!path) {
            path = a;
        } else {
            fprintf(stderr, "vnative frames: more than one FILE ('%s')\n", a);
            return 2;
        }
    }
    if (!path || !out || !have_num || !have_stride) {
        fprintf(stderr, "vnative frames: FILE, --num, --stride (or --fps) and --out are required\n\n");
        frames_usage(stderr);
        return 2;
    }
    vn_video *v = NULL;
    if (vn_video_create(&v, path, NULL) != VN_OK)
        return vn_cli_fail("frames", vn_last_error());
    vn_dtype dtype = as_float ? VN_DTYPE_F32 : VN_DTYPE_U8;
    int64_t shape[4], *idx = malloc((size_t)clip.n_frames * sizeof *idx);
    void *data = NULL;
    int rc = 1;
    if (!idx || vn_clip_shape(v, &clip, &tr, dtype, shape) != VN_OK || vn_clip_indices(v, &clip, idx) != VN_OK) {
        rc = vn_cli_fail("frames", idx ? vn_last_error() : "out of memory");
        goto done;
    }
    size_t n = (size_t)(shape[0] * shape[1] * shape[2] * shape[3]);
    data = malloc(n * vn_dtype_size(dtype));
    vn_tensor t;
    if (!data) {
        rc = vn_cli_fail("frames", "out of memory");
        goto done;
    }
    if (vn_tensor_init(&t, data, dtype, 4, shape) != VN_OK || vn_video_read_clip(v, &clip, &tr, &t) != VN_OK) {
        rc = vn_cli_fail("frames", vn_last_error());
        goto done;
    }
    char err[512];
    if (vn_npy_write(out, as_float ? VN_NPY_F32 : VN_NPY_U8, 4, shape, data, err, sizeof err) != 0) {
        rc = vn_cli_fail("frames", err);
        goto done;
    }
    printf("wrote %s: %s [%lld, %lld, %lld, %lld], frames", out, as_float ? "float32" : "uint8", (long long)shape[0],
           (long long)shape[1], (long long)shape[2], (long long)shape[3]);
    for (int k = 0; k < clip.n_frames; k++)
        printf("%s%lld", k ? "," : " ", (long long)idx[k]);
    printf("\n");
    rc = 0;
done:
    free(idx);
    free(data);
    vn_video_destroy(v);
    return rc;
}
