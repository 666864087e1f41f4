/*
 * endurance_loader: the loader over many small generated videos, a share of them corrupt,
 * with the process's resident memory sampled after every batch (bench/endurance.sh runs it
 * and plots the samples; docs/RELIABILITY.md "Endurance" has the figures).
 *
 *   endurance_loader DIR CSV [--files N] [--corrupt-every K] [--epochs E] [--batch B]
 *
 * Writes N videos (32 x 32, 8 to 12 frames, mp4 through vn_video_writer) into DIR, unless
 * DIR already holds this exact set (DIR/MANIFEST.txt says how it was made). Every Kth
 * file is then made corrupt, in five ways in turn: truncated to a random fraction
 * (the mp4 index sits at the end, so no frame is reachable), random bytes of the same
 * size, zero bytes, only the first 64 bytes (the ftyp box and no more), and content of
 * another kind under the .mp4 name (a CSV text). The loader then runs E epochs over DIR.
 *
 * Checks, each printed PASS or FAIL, exit 1 on any FAIL: every epoch finishes; each epoch
 * delivers exactly N - corrupt clips, none of them from a corrupt file, and skips exactly
 * as many files as are corrupt, which is also the loader's count of distinct files ever
 * skipped; resident memory after the first
 * epoch's first tenth (warm-up) grows by less than 32 MB to its peak, with a least-squares
 * slope below 2 MB per 1000 files. CSV: one row per batch (seconds, epoch, files done,
 * RSS in MB).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vnative/vnative.h"

#define SIZE 32
#define GROWTH_LIMIT_MB 32.0
#define SLOPE_LIMIT_MB_PER_1000 2.0

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double rss_mb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double kb = NAN;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6))
            kb = strtod(line + 6, NULL);
    if (f)
        fclose(f);
    return kb / 1024.0;
}

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* A square drifting across a textured background: frames an encoder has something to do with. */
static int write_video(const char *path, int n_frames, uint64_t seed)
{
    vn_video_writer_options o = VN_VIDEO_WRITER_OPTIONS_INIT;
    o.width = SIZE;
    o.height = SIZE;
    o.fps = 25.0;
    vn_video_writer *w = NULL;
    if (vn_video_writer_create(&w, path, &o) != VN_OK)
        return -1;
    static uint8_t frames[12][SIZE][SIZE][3];
    int64_t shape[4] = {n_frames, SIZE, SIZE, 3};
    int x0 = (int)(rng_next(&seed) % 20), y0 = (int)(rng_next(&seed) % 20);
    uint8_t tint = (uint8_t)rng_next(&seed);
    for (int t = 0; t < n_frames; t++)
        for (int y = 0; y < SIZE; y++)
            for (int x = 0; x < SIZE; x++) {
                int in = x >= x0 + t && x < x0 + t + 8 && y >= y0 && y < y0 + 8;
                frames[t][y][x][0] = in ? 240 : (uint8_t)(x * 7 + tint);
                frames[t][y][x][1] = in ? 40 : (uint8_t)(y * 5);
                frames[t][y][x][2] = in ? 40 : (uint8_t)((x + y) * 3);
            }
    vn_tensor tf;
    vn_tensor_init(&tf, frames, VN_DTYPE_U8, 4, shape);
    vn_status st = vn_video_writer_write(w, &tf);
    if (st == VN_OK)
        st = vn_video_writer_finish(w);
    vn_video_writer_destroy(w);
    return st == VN_OK ? 0 : -1;
}

static const char *const KINDS[5] = {"truncated", "garbage", "zero-length", "header-only", "csv-as-mp4"};

static int corrupt(const char *path, int kind, uint64_t *rs)
{
    struct stat sb;
    if (stat(path, &sb) != 0)
        return -1;
    long size = (long)sb.st_size;
    if (kind == 0 || kind == 2 || kind == 3) {
        double cut = kind == 0 ? 0.2 + 0.6 * (double)(rng_next(rs) % 1000) / 1000.0 : 0.0;
        long keep = kind == 0 ? (long)((double)size * cut) : kind == 2 ? 0 : 64;
        return truncate(path, keep);
    }
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    if (kind == 1)
        for (long i = 0; i < size; i++)
            fputc((int)(rng_next(rs) & 0xff), f);
    else
        fprintf(f, "path,label,start,end\nclip_%ld.mp4,1,0.0,1.0\nclip_%ld.mp4,0,0.5,2.0\n", size, size + 1);
    return fclose(f);
}

/* Reuse DIR when its manifest names exactly this set: generating takes minutes. */
static int generate(const char *dir, int n, int every)
{
    char manifest[4200], want[256], have[256] = "";
    snprintf(manifest, sizeof manifest, "%s/MANIFEST.txt", dir);
    snprintf(want, sizeof want, "endurance set: %d files of %dx%d, every %dth corrupt, seed 1\n", n, SIZE, SIZE,
             every);
    FILE *m = fopen(manifest, "r");
    if (m) {
        if (!fgets(have, sizeof have, m))
            have[0] = '\0';
        fclose(m);
        if (!strcmp(have, want)) {
            printf("reusing the %d files in %s\n", n, dir);
            return 0;
        }
    }
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", dir, dir);
    if (system(cmd) != 0)
        return -1;
    uint64_t rs = 0x9E3779B97F4A7C15ull;
    double t0 = now_s();
    int n_corrupt[5] = {0};
    for (int i = 0; i < n; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/v%05d.mp4", dir, i);
        if (write_video(path, 8 + (int)(rng_next(&rs) % 5), rs) != 0) {
            fprintf(stderr, "endurance: writing %s: %s\n", path, vn_last_error());
            return -1;
        }
        if (i % every == every - 1) {
            int kind = (i / every) % 5;
            if (corrupt(path, kind, &rs) != 0) {
                fprintf(stderr, "endurance: corrupting %s: %s\n", path, strerror(errno));
                return -1;
            }
            n_corrupt[kind]++;
        }
        if ((i + 1) % 1000 == 0) {
            printf("generated %d files (%.0f s)\n", i + 1, now_s() - t0);
            fflush(stdout);
        }
    }
    printf("generated %d files in %.1f s; corrupt:", n, now_s() - t0);
    for (int k = 0; k < 5; k++)
        printf(" %d %s", n_corrupt[k], KINDS[k]);
    printf("\n");
    m = fopen(manifest, "w");
    if (!m)
        return -1;
    fputs(want, m);
    return fclose(m);
}

typedef struct sample {
    double t, rss;
    int epoch;
    int64_t done;
} sample;

/* Least-squares slope of rss against files done, over samples [a, n). */
static double slope(const sample *s, int a, int n)
{
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    int m = n - a;
    for (int i = a; i < n; i++) {
        sx += (double)s[i].done;
        sy += s[i].rss;
        sxx += (double)s[i].done * (double)s[i].done;
        sxy += (double)s[i].done * s[i].rss;
    }
    double d = m * sxx - sx * sx;
    return d > 0 ? (m * sxy - sx * sy) / d : 0.0;
}

static int n_fail;

static void verdict(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void verdict(int ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("%s: ", ok ? "PASS" : "FAIL");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    n_fail += !ok;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: endurance_loader DIR CSV [--files N] [--corrupt-every K] [--epochs E] [--batch B]\n");
        return 2;
    }
    const char *dir = argv[1], *csv = argv[2];
    int n = 10000, every = 20, epochs = 2, batch = 16;
    for (int i = 3; i + 1 < argc; i += 2) {
        int v = atoi(argv[i + 1]);
        if (!strcmp(argv[i], "--files"))
            n = v;
        else if (!strcmp(argv[i], "--corrupt-every"))
            every = v;
        else if (!strcmp(argv[i], "--epochs"))
            epochs = v;
        else if (!strcmp(argv[i], "--batch"))
            batch = v;
        else {
            fprintf(stderr, "endurance_loader: unknown flag %s\n", argv[i]);
            return 2;
        }
    }
    if (n < 100 || every < 2 || epochs < 1 || batch < 1) {
        fprintf(stderr, "endurance_loader: need --files >= 100, --corrupt-every >= 2, --epochs, --batch >= 1\n");
        return 2;
    }
    vn_set_log_level(VN_LOG_ERROR); /* 500 skip warnings per epoch say nothing the counts do not */
    if (generate(dir, n, every) != 0)
        return 1;
    const int64_t n_corrupt = n / every, n_good = n - n_corrupt;

    double rss0 = rss_mb();
    vn_clip_options clip = VN_CLIP_OPTIONS_INIT;
    clip.n_frames = 8;
    vn_loader_options o = VN_LOADER_OPTIONS_INIT;
    o.source = dir;
    o.batch_size = batch;
    o.n_workers = 2;
    o.seed = 3;
    o.dtype = VN_DTYPE_U8;
    o.clip = &clip;
    vn_loader *L = NULL;
    if (vn_loader_create(&L, &o) != VN_OK) {
        fprintf(stderr, "endurance_loader: %s\n", vn_last_error());
        return 1;
    }
    int64_t items = 0;
    vn_loader_size(L, &items);
    verdict(items == n, "the loader lists %lld files of %d", (long long)items, n);
    int64_t shape[5];
    vn_loader_batch_shape(L, shape);
    size_t bytes = (size_t)(shape[0] * shape[1] * shape[2] * shape[3] * shape[4]);
    uint8_t *buf = malloc(bytes);
    int64_t *item = malloc((size_t)batch * sizeof *item), wrong_items = 0;
    size_t cap = (size_t)(epochs * (n / batch + 2) + 4);
    sample *s = malloc(cap * sizeof *s);
    FILE *out = fopen(csv, "w");
    if (!buf || !item || !s || !out) {
        fprintf(stderr, "endurance_loader: cannot allocate or write %s\n", csv);
        return 1;
    }
    fprintf(out, "seconds,epoch,files_done,rss_mb\n");
    int ns = 0;
    double t0 = now_s();
    s[ns++] = (sample){0.0, rss0, 0, 0};
    int64_t done_before = 0;
    for (int e = 0; e < epochs; e++) {
        vn_status st = vn_loader_start_epoch(L, e);
        int64_t loaded = 0;
        for (;;) {
            vn_tensor t;
            vn_tensor_init(&t, buf, VN_DTYPE_U8, 5, shape);
            int64_t got = 0;
            if (st == VN_OK)
                st = vn_loader_next(L, &t, NULL, item, &got);
            if (st != VN_OK)
                break;
            loaded += got;
            /* files are listed by name, so item i is v<i>.mp4: none may be a corrupt one */
            for (int64_t j = 0; j < got; j++)
                wrong_items += item[j] % every == every - 1;
            vn_loader_stats ls = VN_LOADER_STATS_INIT;
            vn_loader_get_stats(L, &ls);
            if (ns < (int)cap)
                s[ns++] = (sample){now_s() - t0, rss_mb(), e, done_before + ls.n_loaded + ls.n_skipped};
        }
        vn_loader_stats ls = VN_LOADER_STATS_INIT;
        vn_loader_get_stats(L, &ls);
        verdict(st == VN_ERR_END, "epoch %d finishes (%s%s%s)", e, vn_status_str(st), st == VN_ERR_END ? "" : ": ",
                st == VN_ERR_END ? "" : vn_last_error());
        verdict(loaded == n_good && ls.n_loaded == n_good, "epoch %d delivers %lld clips (%lld counted); expected %lld",
                e, (long long)loaded, (long long)ls.n_loaded, (long long)n_good);
        verdict(ls.n_skipped == n_corrupt, "epoch %d skips %lld files; %lld are corrupt", e,
                (long long)ls.n_skipped, (long long)n_corrupt);
        verdict(ls.n_skipped_total == n_corrupt, "after epoch %d the loader has skipped %lld distinct files; %lld are "
                "corrupt", e, (long long)ls.n_skipped_total, (long long)n_corrupt);
        done_before += ls.n_loaded + ls.n_skipped;
    }
    double wall = now_s() - t0;
    verdict(wrong_items == 0, "%lld delivered clips came from a corrupt file", (long long)wrong_items);
    vn_loader_destroy(L);
    double rss_end = rss_mb();
    for (int i = 0; i < ns; i++)
        fprintf(out, "%.3f,%d,%lld,%.2f\n", s[i].t, s[i].epoch, (long long)s[i].done, s[i].rss);
    fprintf(out, "%.3f,%d,%lld,%.2f\n", now_s() - t0, epochs, (long long)done_before, rss_end);
    fclose(out);

    /* warm-up: the first tenth of the first epoch (worker pools, FFmpeg's codec tables) */
    int w = 1;
    while (w < ns && s[w].done < n / 10)
        w++;
    double peak = 0, peak_all = 0;
    for (int i = 0; i < ns; i++) {
        if (s[i].rss > peak_all)
            peak_all = s[i].rss;
        if (i >= w && s[i].rss > peak)
            peak = s[i].rss;
    }
    double k = slope(s, w, ns) * 1000.0;
    printf("files %d, corrupt %lld, epochs %d, %lld files read in %.1f s (%.0f files/s)\n", n, (long long)n_corrupt,
           epochs, (long long)done_before, wall, (double)done_before / wall);
    printf("RSS MB: before the loader %.1f, after warm-up %.1f, peak %.1f (%.1f after warm-up), last batch %.1f, "
           "after destroy %.1f; slope after warm-up %.3f MB per 1000 files\n",
           rss0, s[w < ns ? w : ns - 1].rss, peak_all, peak, s[ns - 1].rss, rss_end, k);
    verdict(peak - s[w].rss < GROWTH_LIMIT_MB, "RSS grows %.1f MB from warm-up to its peak (limit %.0f)",
            peak - s[w].rss, GROWTH_LIMIT_MB);
    verdict(fabs(k) < SLOPE_LIMIT_MB_PER_1000, "RSS slope after warm-up %.3f MB per 1000 files (limit %.1f)", k,
            SLOPE_LIMIT_MB_PER_1000);
    printf("endurance: %s (%d failed check(s)); samples in %s\n", n_fail ? "FAIL" : "PASS", n_fail, csv);
    free(buf);
    free(item);
    free(s);
    return n_fail ? 1 : 0;
}
