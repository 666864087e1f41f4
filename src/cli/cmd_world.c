/* `vnative world`: export procedural physics clips with a manifest. */
#include "cli/cli_flags.h"
#include "cli/commands.h"
#include "io/npy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vnative/vnative.h"

#define CMD "world"
#define CHUNK 64 /* clips rendered per vn_world_batch call */
#define DESCRIBE_CAP 4096

static void usage(FILE *f)
{
    fprintf(f,
            "usage: vnative world --task T --count N --out DIR [options]\n\n"
            "Renders N clips of a procedural physics task and writes them to DIR with a\n"
            "manifest.csv (path,label,task,split,seed,index,params).\n\n"
            "  --task T          aot, gravity, collision, order, speed, intphys or future\n"
            "  --count N         number of clips (queries for future)\n"
            "  --out DIR         output directory (created if missing)\n"
            "  --frames F        frames per clip (default 16)\n"
            "  --size S          frame side in pixels, 16..256 (default 64; even for mp4)\n"
            "  --seed S          world seed (default 0)\n"
            "  --format mp4|npy  mp4 (default) or uint8 [T, H, W, C] .npy files\n"
            "  --first-index I   index of the first clip (default 0)\n"
            "  --channels 1|3    gray or RGB (default 3)\n"
            "  --noise X         pixel noise std in [0, 1] (default 0.02)\n"
            "  --jitter X        camera jitter in pixels (default 0)\n"
            "  --flat            flat backgrounds instead of textures\n"
            "  --context N       future: context frames (default 8)\n"
            "  --candidates K    future: candidates per query (default 8)\n"
            "  --val X           fraction of clip pairs in the val split (default 0.1)\n"
            "  --test X          fraction of clip pairs in the test split (default 0.1)\n"
            "  --fps X           mp4 frame rate (default 25)\n"
            "  --threads N       rendering threads (default: every core)\n\n"
            "Clips 2k and 2k+1 have opposite labels and always share a split. vn_loader reads\n"
            "DIR/manifest.csv as it is (its header names the path and label columns).\n");
}

static int parse_i64(const char *opt, const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = s ? strtoll(s, &end, 10) : 0;
    if (!s || end == s || *end || errno || v < lo || v > hi) {
        fprintf(stderr, "vnative %s: %s needs an integer in [%lld, %lld], got '%s'\n", CMD, opt, (long long)lo,
                (long long)hi, s ? s : "");
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_f64(const char *opt, const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = s ? strtod(s, &end) : 0;
    if (!s || end == s || *end || errno || !(v >= lo && v <= hi)) {
        fprintf(stderr, "vnative %s: %s needs a number in [%g, %g], got '%s'\n", CMD, opt, lo, hi, s ? s : "");
        return -1;
    }
    *out = v;
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t mix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Per pair of indices, so that the two labels of a pair land in the same split. */
static const char *split_of(uint64_t seed, int64_t index, double val, double test)
{
    double u = (double)(mix64(seed ^ mix64((uint64_t)(index >> 1))) >> 11) * 0x1.0p-53;
    return u < test ? "test" : u < test + val ? "val" : "train";
}

/* Write s as one CSV field, quoted, with quotes doubled. */
static void csv_quoted(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* index in decimal, zero-padded to width (<= 20) digits. */
static void padded(char *out, int width, int64_t index)
{
    char digits[24];
    int n = snprintf(digits, sizeof digits, "%lld", (long long)index);
    int pad = width > n ? width - n : 0;
    memset(out, '0', (size_t)pad);
    memcpy(out + pad, digits, (size_t)n + 1);
}

typedef struct export {
    const char *dir;
    int mp4;
    int size, channels;
    double fps;
} export;

/* Write frames [T, S, S, C] (contiguous) to dir/name. */
static int write_clip(const export *ex, const char *name, const uint8_t *data, int64_t t)
{
    char path[4352];
    snprintf(path, sizeof path, "%s/%s", ex->dir, name);
    int64_t shape[4] = {t, ex->size, ex->size, ex->channels};
    if (!ex->mp4) {
        char err[512];
        if (vn_npy_write(path, VN_NPY_U8, 4, shape, data, err, sizeof err) != 0) {
            fprintf(stderr, "vnative %s: %s\n", CMD, err);
            return -1;
        }
        return 0;
    }
    vn_video_writer_options wo = VN_VIDEO_WRITER_OPTIONS_INIT;
    wo.width = wo.height = ex->size;
    wo.channels = ex->channels;
    wo.fps = ex->fps;
    vn_video_writer *w = NULL;
    vn_tensor frames;
    vn_status s = vn_video_writer_create(&w, path, &wo);
    if (s == VN_OK)
        s = vn_tensor_init(&frames, (void *)data, VN_DTYPE_U8, 4, shape);
    if (s == VN_OK)
        s = vn_video_writer_write(w, &frames);
    if (s == VN_OK)
        s = vn_video_writer_finish(w);
    vn_video_writer_destroy(w);
    if (s != VN_OK) {
        fprintf(stderr, "vnative %s: writing %s: %s\n", CMD, path, vn_last_error());
        return -1;
    }
    return 0;
}

typedef struct progress {
    int64_t total, done;
    double t0, last;
    int tty, shown;
} progress;

/* About once a second, and only for runs that last long enough to wonder about. */
static void progress_tick(progress *p, int64_t n)
{
    p->done += n;
    double t = now_s();
    int finished = p->done >= p->total;
    if ((!finished && t - p->last < 1.0) || (finished && !p->shown))
        return;
    p->last = t;
    p->shown = 1;
    double rate = p->done / (t - p->t0 > 1e-9 ? t - p->t0 : 1e-9);
    fprintf(stderr, "%svnative %s: %lld/%lld clips (%.0f clips/s)%s", p->tty ? "\r" : "", CMD, (long long)p->done,
            (long long)p->total, rate, p->tty && p->done < p->total ? "" : "\n");
    fflush(stderr);
}

int vn_cmd_world(int argc, char **argv)
{
    const char *task_name = NULL, *out_dir = NULL, *format = "mp4";
    int64_t count = -1, frames = 16, size = 64, seed = 0, first = 0, channels = 3, threads = 0, context = 8,
            candidates = 8;
    double noise = 0.02, jitter = 0.0, val = 0.1, test = 0.1, fps = 25.0;
    int flat = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = 0, takes = 1;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--flat")) {
            flat = 1;
            takes = 0;
        } else if (!strcmp(a, "--task"))
            task_name = v;
        else if (!strcmp(a, "--out"))
            out_dir = v;
        else if (!strcmp(a, "--format"))
            format = v;
        else if (!strcmp(a, "--count"))
            rc = parse_i64(a, v, 1, INT64_MAX / 2, &count);
        else if (!strcmp(a, "--frames"))
            rc = parse_i64(a, v, 2, 4096, &frames);
        else if (!strcmp(a, "--size"))
            rc = parse_i64(a, v, 16, 256, &size);
        else if (!strcmp(a, "--seed"))
            rc = parse_i64(a, v, 0, INT64_MAX, &seed);
        else if (!strcmp(a, "--first-index"))
            rc = parse_i64(a, v, 0, INT64_MAX / 2, &first);
        else if (!strcmp(a, "--channels"))
            rc = parse_i64(a, v, 1, 3, &channels);
        else if (!strcmp(a, "--threads"))
            rc = parse_i64(a, v, 0, 1024, &threads);
        else if (!strcmp(a, "--context"))
            rc = parse_i64(a, v, 1, 4096, &context);
        else if (!strcmp(a, "--candidates"))
            rc = parse_i64(a, v, 3, 64, &candidates);
        else if (!strcmp(a, "--noise"))
            rc = parse_f64(a, v, 0.0, 1.0, &noise);
        else if (!strcmp(a, "--jitter"))
            rc = parse_f64(a, v, 0.0, 64.0, &jitter);
        else if (!strcmp(a, "--val"))
            rc = parse_f64(a, v, 0.0, 1.0, &val);
        else if (!strcmp(a, "--test"))
            rc = parse_f64(a, v, 0.0, 1.0, &test);
        else if (!strcmp(a, "--fps"))
            rc = parse_f64(a, v, 1e-3, 1000.0, &fps);
        else {
            fprintf(stderr, "vnative %s: unknown option '%s' (see vnative world --help)\n", CMD, a);
            return 2;
        }
        if (rc != 0)
            return 2;
        if (takes && !v) {
            fprintf(stderr, "vnative %s: %s needs a value\n", CMD, a);
            return 2;
        }
        i += takes;
    }
    if (!task_name || !out_dir || count < 0) {
        usage(stderr);
        return 2;
    }
    if (strcmp(format, "mp4") && strcmp(format, "npy")) {
        fprintf(stderr, "vnative %s: --format is '%s'; expected mp4 or npy\n", CMD, format);
        return 2;
    }
    if (channels == 2) {
        fprintf(stderr, "vnative %s: --channels must be 1 or 3\n", CMD);
        return 2;
    }
    if (val + test > 1.0) {
        fprintf(stderr, "vnative %s: --val %g and --test %g add up to more than 1\n", CMD, val, test);
        return 2;
    }
    vn_world_task task;
    if (vn_world_task_from_name(task_name, &task) != VN_OK)
        return vn_cli_fail(CMD, vn_last_error());
    int mp4 = !strcmp(format, "mp4");

    vn_world_options o = VN_WORLD_OPTIONS_INIT;
    o.seed = (uint64_t)seed;
    o.n_frames = (int)frames;
    o.size = (int)size;
    o.channels = (int)channels;
    o.noise = (float)noise;
    o.jitter = (float)jitter;
    o.textured = !flat;
    o.n_threads = (int)threads;
    o.future_context = (int)context;
    o.future_candidates = (int)candidates;
    vn_world *world = NULL;
    if (vn_world_create(&world, &o) != VN_OK)
        return vn_cli_fail(CMD, vn_last_error());
    if (vn_cli_mkdir_p(out_dir) != 0) {
        vn_world_destroy(world);
        fprintf(stderr, "vnative %s: cannot create directory %s: %s\n", CMD, out_dir, strerror(errno));
        return 1;
    }
    char path[4352];
    snprintf(path, sizeof path, "%s/manifest.csv", out_dir);
    FILE *man = fopen(path, "w");
    if (!man) {
        fprintf(stderr, "vnative %s: cannot write %s: %s\n", CMD, path, strerror(errno));
        vn_world_destroy(world);
        return 1;
    }
    fprintf(man, "path,label,task,split,seed,index,params\n");

    /* Zero-padded names sort in index order: as wide as the largest index, at least 7. */
    int width = 7;
    for (int64_t m = first + count - 1; m >= 10000000; m /= 10)
        width++;
    const char *ext = mp4 ? "mp4" : "npy";
    export ex = {out_dir, mp4, (int)size, (int)channels, fps};
    size_t clip_bytes = (size_t)frames * (size_t)size * (size_t)size * (size_t)channels;
    int is_future = task == VN_TASK_FUTURE;
    int64_t chunk = is_future ? 1 : CHUNK;
    size_t buf_bytes = is_future ? clip_bytes * (size_t)(1 + candidates) : clip_bytes * (size_t)chunk;
    uint8_t *buf = malloc(buf_bytes);
    int *labels = malloc((size_t)chunk * sizeof *labels);
    char *desc = malloc(DESCRIBE_CAP);
    int kinds[64];
    int rc = 0;
    if (!buf || !labels || !desc) {
        fprintf(stderr, "vnative %s: out of memory for %zu bytes of clips\n", CMD, buf_bytes);
        rc = 1;
    }
    progress pr = {count, 0, now_s(), now_s(), isatty(2), 0};
    for (int64_t done = 0; rc == 0 && done < count; done += chunk) {
        int64_t n = count - done < chunk ? count - done : chunk;
        int64_t base = first + done;
        vn_status s;
        int true_index = -1;
        int64_t tc = context, tf = frames - context;
        if (is_future) {
            vn_tensor ctx_t, cand_t;
            int64_t cs[4] = {tc, size, size, channels}, ks[5] = {candidates, tf, size, size, channels};
            vn_tensor_init(&ctx_t, buf, VN_DTYPE_U8, 4, cs);
            vn_tensor_init(&cand_t, buf + (size_t)tc * (size_t)size * (size_t)size * (size_t)channels, VN_DTYPE_U8,
                           5, ks);
            s = vn_world_future(world, base, &ctx_t, &cand_t, kinds, &true_index);
            labels[0] = true_index;
        } else {
            vn_tensor bt;
            int64_t bs[5] = {n, frames, size, size, channels};
            vn_tensor_init(&bt, buf, VN_DTYPE_U8, 5, bs);
            s = vn_world_batch(world, task, base, &bt, labels);
        }
        if (s != VN_OK) {
            rc = vn_cli_fail(CMD, vn_last_error());
            break;
        }
        for (int64_t i = 0; i < n && rc == 0; i++) {
            int64_t index = base + i;
            char num[48], name[128];
            padded(num, width, index);
            snprintf(name, sizeof name, "%s_%s.%s", vn_world_task_name(task), num, ext);
            if (is_future) {
                size_t frame_bytes = (size_t)size * (size_t)size * (size_t)channels;
                rc = write_clip(&ex, name, buf, tc);
                const uint8_t *cand = buf + (size_t)tc * frame_bytes;
                if (rc == 0 && !mp4) {
                    char cname[160];
                    snprintf(cname, sizeof cname, "%s_%s_candidates.npy", vn_world_task_name(task), num);
                    char cpath[4352], err[512];
                    snprintf(cpath, sizeof cpath, "%s/%s", out_dir, cname);
                    int64_t ks[5] = {candidates, tf, size, size, channels};
                    if (vn_npy_write(cpath, VN_NPY_U8, 5, ks, cand, err, sizeof err) != 0) {
                        fprintf(stderr, "vnative %s: %s\n", CMD, err);
                        rc = 1;
                    }
                }
                for (int64_t k = 0; rc == 0 && mp4 && k < candidates; k++) {
                    char cname[160];
                    snprintf(cname, sizeof cname, "%s_%s_c%02d.mp4", vn_world_task_name(task), num, (int)k);
                    rc = write_clip(&ex, cname, cand + (size_t)k * (size_t)tf * frame_bytes, tf);
                }
            } else {
                rc = write_clip(&ex, name, buf + (size_t)i * clip_bytes, frames);
            }
            if (rc != 0)
                break;
            if (vn_world_describe(world, task, index, desc, DESCRIBE_CAP) != VN_OK) {
                rc = vn_cli_fail(CMD, vn_last_error());
                break;
            }
            fprintf(man, "%s,%d,%s,%s,%llu,%lld,", name, labels[i], vn_world_task_name(task),
                    split_of((uint64_t)seed, index, val, test), (unsigned long long)seed, (long long)index);
            csv_quoted(man, desc);
            fputc('\n', man);
        }
        if (rc == 0)
            progress_tick(&pr, n);
    }
    free(buf);
    free(labels);
    free(desc);
    vn_world_destroy(world);
    if (fclose(man) != 0 && rc == 0) {
        fprintf(stderr, "vnative %s: writing %s/manifest.csv failed\n", CMD, out_dir);
        rc = 1;
    }
    return rc;
}
