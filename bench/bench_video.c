/*
 * bench_video: the vnative side of the clip I/O benchmark (bench/video_bench.sh runs it).
 * Public API only, linked against the shared library, one decoder thread per video.
 *
 *   bench_video decode-only FILE REPS      open + decode every frame, converting 2x2 pixels of each
 *   bench_video decode-rgb FILE REPS       open + decode every frame to RGB24 (read_frames)
 *   bench_video clips FILE STARTS REPS     16-frame clips, stride 4, from the start indices
 *                                          listed in STARTS; random resized crop to 112, f32
 *   bench_video loader DIR WORKERS REPS    epochs of the loader over a folder
 *   bench_video baseline 1                 nothing: the peak RSS of loading the library
 *
 * Prints one JSON object: the seconds of every repetition and the peak RSS.
 * "decode-only": the public API has no call that decodes without converting, and asking
 * for fewer frames lets the library skip decoding pictures nothing needs. So it reads
 * every frame as one clip with a 2x2 centre crop: each frame is decoded and only four
 * pixels of it converted, the same work as `ffmpeg -f null`.
 */
#include "vnative/vnative.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bench_clock.h"

#define CLIP_FRAMES 16
#define CLIP_STRIDE 4
#define CROP 112
#define RGB_CHUNK 30

static long maxrss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static int fail(const char *what, vn_status s)
{
    fprintf(stderr, "bench_video: %s: %s: %s\n", what, vn_status_str(s), vn_last_error());
    return 1;
}

#define TRY(call)                                   \
    do {                                            \
        vn_status s_ = (call);                      \
        if (s_ != VN_OK)                            \
            return fail(#call, s_);                 \
    } while (0)

static vn_status open_one_thread(const char *path, vn_video **v)
{
    vn_video_open_options o = VN_VIDEO_OPEN_OPTIONS_INIT;
    o.n_threads = 1;
    return vn_video_create(v, path, &o);
}

static void print_list(const char *key, const double *v, int n)
{
    printf(", \"%s\": [", key);
    for (int r = 0; r < n; r++)
        printf("%s%.6f", r ? ", " : "", v[r]);
    printf("]");
}

/* secs: whole repetitions; open_secs (or NULL): the vn_video_create part of each. */
static void print_reps(const char *workload, const double *secs, const double *open_secs, int reps, int64_t units,
                       const char *unit)
{
    printf("{\"workload\": \"%s\", \"%s\": %lld", workload, unit, (long long)units);
    print_list("seconds", secs, reps);
    if (open_secs)
        print_list("open_seconds", open_secs, reps);
    printf(", \"maxrss_kb\": %ld}\n", maxrss_kb());
}

static int bench_decode(const char *path, int reps, int rgb)
{
    double *secs = calloc((size_t)reps, sizeof *secs);
    double *open_secs = calloc((size_t)reps, sizeof *open_secs);
    int64_t n_frames = 0;
    unsigned char *buf = NULL, *tiny = NULL;
    for (int r = 0; r < reps; r++) {
        double t0 = vn_bench_now();
        vn_video *v = NULL;
        TRY(open_one_thread(path, &v));
        open_secs[r] = vn_bench_now() - t0;
        vn_video_info info = VN_VIDEO_INFO_INIT;
        TRY(vn_video_get_info(v, &info));
        n_frames = info.n_frames;
        size_t frame = (size_t)info.width * (size_t)info.height * 3;
        if (rgb && !buf)
            buf = malloc(frame * RGB_CHUNK);
        if (!rgb && !tiny)
            tiny = malloc((size_t)n_frames * 2 * 2 * 3);
        if (!(rgb ? (void *)buf : (void *)tiny)) {
            fprintf(stderr, "bench_video: out of memory\n");
            return 1;
        }
        if (!rgb) {
            vn_clip_options clip = VN_CLIP_OPTIONS_INIT;
            clip.n_frames = (int)n_frames;
            clip.stride = 1;
            clip.start = 0;
            vn_transform_options tf = VN_TRANSFORM_OPTIONS_INIT;
            tf.crop_size = 2;
            int64_t shape[4];
            TRY(vn_clip_shape(v, &clip, &tf, VN_DTYPE_U8, shape));
            vn_tensor t;
            TRY(vn_tensor_init(&t, tiny, VN_DTYPE_U8, 4, shape));
            TRY(vn_video_read_clip(v, &clip, &tf, &t));
        } else {
            int64_t idx[RGB_CHUNK];
            for (int64_t f = 0; f < n_frames; f += RGB_CHUNK) {
                int64_t n = n_frames - f < RGB_CHUNK ? n_frames - f : RGB_CHUNK;
                for (int64_t i = 0; i < n; i++)
                    idx[i] = f + i;
                int64_t shape[4] = {n, info.height, info.width, 3};
                vn_tensor t;
                TRY(vn_tensor_init(&t, buf, VN_DTYPE_U8, 4, shape));
                TRY(vn_video_read_frames(v, idx, n, &t));
            }
        }
        vn_video_destroy(v);
        secs[r] = vn_bench_now() - t0;
    }
    print_reps(rgb ? "decode-rgb" : "decode-only", secs, open_secs, reps, n_frames, "frames");
    free(buf);
    free(tiny);
    free(secs);
    free(open_secs);
    return 0;
}

static int bench_clips(const char *path, const char *starts_path, int reps)
{
    FILE *f = fopen(starts_path, "r");
    if (!f) {
        fprintf(stderr, "bench_video: cannot read %s\n", starts_path);
        return 1;
    }
    int64_t starts[4096];
    int n = 0;
    long long s;
    while (n < 4096 && fscanf(f, "%lld", &s) == 1)
        starts[n++] = s;
    fclose(f);
    vn_clip_options clip = VN_CLIP_OPTIONS_INIT;
    clip.n_frames = CLIP_FRAMES;
    clip.stride = CLIP_STRIDE;
    vn_transform_options tf = VN_TRANSFORM_OPTIONS_INIT;
    tf.crop_size = CROP;
    tf.random_resized_crop = 1;
    float *out = malloc(sizeof(float) * 3 * CLIP_FRAMES * CROP * CROP);
    int64_t shape[4] = {3, CLIP_FRAMES, CROP, CROP};
    vn_tensor t;
    TRY(vn_tensor_init(&t, out, VN_DTYPE_F32, 4, shape));
    double *secs = calloc((size_t)reps, sizeof *secs);
    double *open_secs = calloc((size_t)reps, sizeof *open_secs);
    double checksum = 0.0;
    for (int r = 0; r < reps; r++) {
        double t0 = vn_bench_now();
        vn_video *v = NULL;
        TRY(open_one_thread(path, &v));
        open_secs[r] = vn_bench_now() - t0;
        for (int i = 0; i < n; i++) {
            clip.start = starts[i];
            tf.seed = (uint64_t)i;
            TRY(vn_video_read_clip(v, &clip, &tf, &t));
            checksum += out[i % (3 * CLIP_FRAMES * CROP * CROP)];
        }
        vn_video_destroy(v);
        secs[r] = vn_bench_now() - t0;
    }
    /* The checksum keeps the reads observable; it goes to stderr, away from the JSON. */
    fprintf(stderr, "bench_video clips: checksum %g\n", checksum);
    print_reps("clips", secs, open_secs, reps, n, "clips");
    free(out);
    free(secs);
    free(open_secs);
    return 0;
}

static int bench_loader(const char *dir, int workers, int reps)
{
    vn_clip_options clip = VN_CLIP_OPTIONS_INIT;
    clip.n_frames = CLIP_FRAMES;
    clip.stride = CLIP_STRIDE;
    clip.start = -1;
    vn_transform_options tf = VN_TRANSFORM_OPTIONS_INIT;
    tf.crop_size = CROP;
    tf.random_resized_crop = 1;
    tf.hflip_prob = 0.5f;
    vn_loader_options o = VN_LOADER_OPTIONS_INIT;
    o.source = dir;
    o.batch_size = 8;
    o.n_workers = workers;
    o.prefetch = 2;
    o.seed = 1;
    o.clip = &clip;
    o.transform = &tf;
    vn_loader *L = NULL;
    TRY(vn_loader_create(&L, &o));
    int64_t shape[5];
    TRY(vn_loader_batch_shape(L, shape));
    size_t n = (size_t)(shape[0] * shape[1] * shape[2] * shape[3] * shape[4]);
    float *buf = malloc(n * sizeof(float));
    vn_tensor t;
    TRY(vn_tensor_init(&t, buf, VN_DTYPE_F32, 5, shape));
    double *secs = calloc((size_t)reps, sizeof *secs);
    int64_t per_epoch = 0;
    /* Epoch 0 warms the page cache and is not timed. */
    for (int r = -1; r < reps; r++) {
        double t0 = vn_bench_now();
        TRY(vn_loader_start_epoch(L, r + 1));
        int64_t got, total = 0;
        vn_status s;
        while ((s = vn_loader_next(L, &t, NULL, NULL, &got)) == VN_OK)
            total += got;
        if (s != VN_ERR_END)
            return fail("vn_loader_next", s);
        if (r >= 0)
            secs[r] = vn_bench_now() - t0;
        per_epoch = total;
    }
    vn_loader_stats st = VN_LOADER_STATS_INIT;
    TRY(vn_loader_get_stats(L, &st));
    fprintf(stderr, "bench_video loader: %lld items, %lld skipped, queue peak %lld\n", (long long)st.n_items,
            (long long)st.n_skipped_total, (long long)st.queue_peak);
    print_reps("loader", secs, NULL, reps, per_epoch, "clips");
    vn_loader_destroy(L);
    free(buf);
    free(secs);
    return 0;
}

int main(int argc, char **argv)
{
    int reps = argc >= 3 ? atoi(argv[argc - 1]) : 0;
    if (argc >= 3 && (reps < 1 || reps > 1000)) {
        fprintf(stderr, "bench_video: REPS (the last argument) must be 1..1000\n");
        return 2;
    }
    if (argc >= 3 && !strcmp(argv[1], "baseline")) {
        /* Touch the library so that it is loaded and initialised, as in the other modes. */
        printf("{\"workload\": \"baseline\", \"version\": \"%s\", \"seconds\": [0], \"maxrss_kb\": %ld}\n",
               vn_version(), maxrss_kb());
        return 0;
    }
    if (argc >= 4 && !strcmp(argv[1], "decode-only"))
        return bench_decode(argv[2], atoi(argv[3]), 0);
    if (argc >= 4 && !strcmp(argv[1], "decode-rgb"))
        return bench_decode(argv[2], atoi(argv[3]), 1);
    if (argc >= 5 && !strcmp(argv[1], "clips"))
        return bench_clips(argv[2], argv[3], atoi(argv[4]));
    if (argc >= 5 && !strcmp(argv[1], "loader"))
        return bench_loader(argv[2], atoi(argv[3]), atoi(argv[4]));
    fprintf(stderr, "usage: bench_video decode-only|decode-rgb FILE REPS\n"
                    "       bench_video clips FILE STARTS_FILE REPS\n"
                    "       bench_video loader DIR WORKERS REPS\n"
                    "       bench_video baseline 1\n");
    return 2;
}
