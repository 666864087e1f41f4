/* `vnative encode`: embed every video of a file, folder or manifest with a frozen encoder,
 * one row per video (or manifest row) or per sliding window of seconds, into emb.npy
 * (float32 [rows, dim]) and, with --ids, a CSV naming each row's source and time span.
 *
 * Decoding is the slow part, so worker threads each take the next video, cut it into
 * spans and decode a clip per span into a shared pool of clip buffers; the main thread
 * encodes whatever clips are ready, --batch at a time, and drops each row into its
 * video's slot. Rows come out in input order whatever the threads do, and a video that
 * fails anywhere is left out whole, with a warning naming it. */
#include "cli/cli_flags.h"
#include "cli/commands.h"
#include "cli/encode_input.h"
#include "io/npy.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vnative/vnative.h"

#define CMD "encode"

typedef struct eargs {
    const char *model, *input, *out, *ids;
    double window, stride;
    int64_t threads, batch, seed;
    int quiet;
} eargs;

#define FS(n, f) VN_FLAG_S(eargs, n, f)
#define FI(n, f, lo, hi) VN_FLAG_I(eargs, n, f, lo, hi)
#define FN(n, f, lo, hi) VN_FLAG_N(eargs, n, f, lo, hi)

static const vn_cli_flag flags[] = {
    FS("--model", model),           FS("--input", input),
    FS("--out", out),               FS("--ids", ids),
    FN("--window", window, 1e-3, 1e7), FN("--stride", stride, 1e-3, 1e7),
    FI("--threads", threads, 0, 1024), FI("--batch", batch, 1, 4096),
    FI("--seed", seed, 0, INT64_MAX), VN_FLAG_B(eargs, "--quiet", quiet),
};
#define N_FLAGS (int)(sizeof flags / sizeof flags[0])

static void usage(FILE *f, const eargs *d)
{
    fprintf(f,
            "usage: vnative encode --model CKPT --input FILE|DIR|MANIFEST --out emb.npy [options]\n\n"
            "Embeds videos with a frozen encoder into emb.npy, float32 [rows, dim]: one row per\n"
            "video (or manifest row), a clip of the encoder's frames sampled evenly over the whole\n"
            "video or the row's time range; with --window, one row per window of S seconds every\n"
            "--stride seconds. A video that cannot be decoded is skipped with a warning; the exit\n"
            "code is 1 only when nothing could be encoded. `vnative retrieve` searches the result.\n\n"
            "  --model CKPT        a model.safetensors, a checkpoint directory holding one, or\n"
            "                      xs|s for fresh random weights (a floor, for testing)\n"
            "  --input X           a video file, a directory of videos (by extension, sorted by\n"
            "                      name) or a CSV manifest path[,label][,start_s,end_s] (docs/LOADER.md)\n"
            "  --out F             the embeddings, .npy float32 [rows, dim]\n"
            "  --ids F             also write F, a CSV row,source,start_s,end_s naming every row\n"
            "  --window S          one row per window of S seconds (whole windows only)\n"
            "  --stride S          seconds between window starts (default: the window)\n"
            "  --threads N         threads in all (default: every core): about half decode videos,\n"
            "                      one video each, the rest run the encoder\n"
            "  --batch N           clips encoded at once (default %lld)\n"
            "  --seed N            fresh weights of a preset (default 0)\n"
            "  --quiet             no progress line on a terminal\n",
            (long long)d->batch);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* One source's rows: planned by a worker, filled by the main thread. */
typedef struct item {
    int64_t n;     /* spans planned */
    double *spans; /* 2 per span: start_s, end_s */
    float *emb;    /* n x D */
    int failed;    /* skipped, under the lock */
} item;

typedef struct slot {
    float *clip;
    int64_t item, row;
} slot;

typedef struct pipe {
    const eargs *a;
    const vn_encoder_config *cfg;
    const vn_cli_source *src;
    item *items;
    int64_t n_items, D, clip_elems;
    int dec_threads;

    pthread_mutex_t mu;
    pthread_cond_t cv_free, cv_ready;
    slot *slots;
    int n_slots;
    int *free_ids, n_free;
    int *ready, ready_head, n_ready; /* a ring of slot ids, n_slots long */
    int64_t next_item, files_done, files_failed;
    int workers_left, abort;
    int tty, progress_shown;
} pipe_t;

/* Print a warning, clearing the progress line first. Called with the lock held. */
static void warn_locked(pipe_t *p, const char *path, const char *what)
{
    if (p->progress_shown) {
        fprintf(stderr, "\r%78s\r", "");
        p->progress_shown = 0;
    }
    fprintf(stderr, "vnative %s: warning: skipping %s: %s\n", CMD, path, what);
}

static void fail_item(pipe_t *p, int64_t i, const char *what)
{
    pthread_mutex_lock(&p->mu);
    p->items[i].failed = 1;
    p->files_failed++;
    warn_locked(p, p->src[i].path, what);
    pthread_mutex_unlock(&p->mu);
}

static int take_free(pipe_t *p)
{
    pthread_mutex_lock(&p->mu);
    while (p->n_free == 0 && !p->abort)
        pthread_cond_wait(&p->cv_free, &p->mu);
    int s = p->abort ? -1 : p->free_ids[--p->n_free];
    pthread_mutex_unlock(&p->mu);
    return s;
}

static void give_free_locked(pipe_t *p, int s)
{
    p->free_ids[p->n_free++] = s;
    pthread_cond_signal(&p->cv_free);
}

/* Hand a filled slot to the main thread as row k of source i. */
static void push_ready(pipe_t *p, int s, int64_t i, int64_t k)
{
    pthread_mutex_lock(&p->mu);
    p->slots[s].item = i;
    p->slots[s].row = k;
    p->ready[(p->ready_head + p->n_ready) % p->n_slots] = s;
    p->n_ready++;
    pthread_cond_signal(&p->cv_ready);
    pthread_mutex_unlock(&p->mu);
}

static int64_t gcd64(int64_t a, int64_t b)
{
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Frames of the lattice buffer a worker may hold: overlapping windows are read together. */
#define LATTICE_BYTES (32ll << 20)

/* Read windows a..b-1 of a run (idx: their frame indices, T each, in time order) as one
 * clip on the lattice lo + m * g that holds all their frames, and gather each window from
 * it into a slot. Overlapping windows read one by one would seek back to a keyframe and
 * decode again for every window; this decodes each frame once. The transform is per
 * frame and deterministic, so each window is bit for bit the clip vn_video_read_clip
 * gives it alone. Returns 0, or -1 (aborted) or 1 (failed, with err). */
static int read_run(pipe_t *p, vn_video *v, int64_t i, const int64_t *idx, int64_t a, int64_t b, int64_t lo,
                    int64_t g, int64_t L, char *err, size_t err_cap)
{
    const int64_t C = p->cfg->channels, T = p->cfg->frames, S = p->cfg->size, plane = S * S;
    float *lat = malloc((size_t)(C * L * plane) * sizeof *lat);
    if (!lat) {
        snprintf(err, err_cap, "out of memory for %lld frames", (long long)L);
        return 1;
    }
    vn_clip_options co = VN_CLIP_OPTIONS_INIT;
    co.n_frames = (int)L;
    co.stride = (int)g;
    co.start = lo;
    vn_transform_options tr;
    vn_cli_encoder_transform(p->cfg, &tr);
    int64_t shape[4] = {C, L, S, S};
    vn_tensor tl;
    vn_tensor_init(&tl, lat, VN_DTYPE_F32, 4, shape);
    if (vn_video_read_clip(v, &co, &tr, &tl) != VN_OK) {
        snprintf(err, err_cap, "%s", vn_last_error());
        free(lat);
        return 1;
    }
    for (int64_t k = a; k < b; k++) {
        int s = take_free(p);
        if (s < 0) {
            free(lat);
            return -1;
        }
        float *clip = p->slots[s].clip;
        for (int64_t c = 0; c < C; c++)
            for (int64_t t = 0; t < T; t++)
                memcpy(clip + (c * T + t) * plane, lat + (c * L + (idx[k * T + t] - lo) / g) * plane,
                       (size_t)plane * sizeof *clip);
        push_ready(p, s, i, k);
    }
    free(lat);
    return 0;
}

/* Decode every span of source i into slots for the main thread. */
static void decode_item(pipe_t *p, int64_t i)
{
    item *it = &p->items[i];
    const vn_cli_source *src = &p->src[i];
    const int64_t T = p->cfg->frames;
    vn_video *v = NULL;
    vn_video_info info = VN_VIDEO_INFO_INIT;
    vn_video_open_options vo = VN_VIDEO_OPEN_OPTIONS_INIT;
    vo.n_threads = p->dec_threads;
    int64_t *idx = NULL;
    char err[512];
    if (vn_video_create(&v, src->path, &vo) != VN_OK || vn_video_get_info(v, &info) != VN_OK) {
        fail_item(p, i, vn_last_error());
        goto done;
    }
    if (vn_cli_plan_spans(src, &info, p->a->window, p->a->stride, &it->spans, &it->n, err, sizeof err) != 0) {
        fail_item(p, i, err);
        goto done;
    }
    if (it->n == 0) {
        double len = src->start_s < 0.0                   ? info.duration_s
                     : src->end_s < info.duration_s ? src->end_s - src->start_s
                                                    : info.duration_s - src->start_s;
        pthread_mutex_lock(&p->mu);
        if (p->progress_shown) {
            fprintf(stderr, "\r%78s\r", "");
            p->progress_shown = 0;
        }
        fprintf(stderr, "vnative %s: warning: %s: %s%.3f s is shorter than one window of %g s; no rows\n", CMD,
                src->path, src->start_s < 0.0 ? "" : "the range of ", len, p->a->window);
        pthread_mutex_unlock(&p->mu);
        goto done;
    }
    it->emb = malloc((size_t)(it->n * p->D) * sizeof *it->emb);
    idx = malloc((size_t)(it->n * T) * sizeof *idx);
    if (!it->emb || !idx) {
        fail_item(p, i, "out of memory for its rows");
        goto done;
    }
    /* Every window's frames, in time order (a clip in target_fps mode never goes back). */
    for (int64_t k = 0; k < it->n; k++) {
        vn_clip_options co;
        if (vn_cli_span_clip(v, p->cfg, it->spans[2 * k], it->spans[2 * k + 1], &co) != VN_OK ||
            vn_clip_indices(v, &co, idx + k * T) != VN_OK) {
            fail_item(p, i, vn_last_error());
            goto done;
        }
    }
    const int64_t cap = LATTICE_BYTES / (p->clip_elems / T * (int64_t)sizeof(float));
    for (int64_t a = 0; a < it->n;) {
        /* The run: the windows from a on that each start before the previous one ends,
         * while their lattice fits the buffer. */
        int64_t lo = idx[a * T], hi = idx[a * T + T - 1], g = 0, b = a + 1;
        for (int64_t t = 1; t < T; t++)
            g = gcd64(g, idx[a * T + t] - lo);
        for (; b < it->n && idx[b * T] <= hi; b++) {
            int64_t ng = g, nhi = idx[b * T + T - 1] > hi ? idx[b * T + T - 1] : hi;
            for (int64_t t = 0; t < T; t++)
                ng = gcd64(ng, idx[b * T + t] - lo);
            if ((nhi - lo) / (ng ? ng : 1) + 1 > cap)
                break;
            g = ng;
            hi = nhi;
        }
        int rc = 0;
        if (b - a == 1) { /* alone: read at its own frames */
            int s = take_free(p);
            if (s < 0)
                break;
            if (vn_cli_read_span(v, p->cfg, it->spans[2 * a], it->spans[2 * a + 1], p->slots[s].clip) != VN_OK) {
                snprintf(err, sizeof err, "%s", vn_last_error());
                pthread_mutex_lock(&p->mu);
                give_free_locked(p, s);
                pthread_mutex_unlock(&p->mu);
                rc = 1;
            } else {
                push_ready(p, s, i, a);
            }
        } else {
            g = g ? g : 1;
            rc = read_run(p, v, i, idx, a, b, lo, g, (hi - lo) / g + 1, err, sizeof err);
        }
        if (rc > 0)
            fail_item(p, i, err);
        if (rc)
            break;
        a = b;
    }
done:
    free(idx);
    vn_video_destroy(v);
}

static void *worker(void *arg)
{
    pipe_t *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        int64_t i = p->abort ? p->n_items : p->next_item++;
        pthread_mutex_unlock(&p->mu);
        if (i >= p->n_items)
            break;
        decode_item(p, i);
        pthread_mutex_lock(&p->mu);
        p->files_done++;
        pthread_mutex_unlock(&p->mu);
    }
    pthread_mutex_lock(&p->mu);
    p->workers_left--;
    pthread_cond_broadcast(&p->cv_ready);
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* The main thread's loop: encode ready clips a batch at a time until the workers end. */
static int encode_loop(pipe_t *p, const vn_encoder *enc, double t_start, int64_t *rows_done)
{
    const int64_t B = p->a->batch, C = p->cfg->channels, T = p->cfg->frames, S = p->cfg->size;
    float *clips = malloc((size_t)(B * p->clip_elems) * sizeof *clips);
    float *out = malloc((size_t)(B * p->D) * sizeof *out);
    int *took = malloc((size_t)B * sizeof *took);
    int rc = 0;
    double last_print = 0.0;
    if (!clips || !out || !took) {
        fprintf(stderr, "vnative %s: out of memory for a batch of %lld clips\n", CMD, (long long)B);
        rc = 1;
    }
    while (!rc) {
        pthread_mutex_lock(&p->mu);
        while (p->n_ready < B && p->workers_left > 0)
            pthread_cond_wait(&p->cv_ready, &p->mu);
        int64_t m = p->n_ready < B ? p->n_ready : B;
        for (int64_t k = 0; k < m; k++) {
            took[k] = p->ready[p->ready_head];
            p->ready_head = (p->ready_head + 1) % p->n_slots;
        }
        p->n_ready -= (int)m;
        pthread_mutex_unlock(&p->mu);
        if (m == 0)
            break; /* the workers are done and nothing is left */
        for (int64_t k = 0; k < m; k++)
            memcpy(clips + k * p->clip_elems, p->slots[took[k]].clip, (size_t)p->clip_elems * sizeof *clips);
        int64_t cshape[5] = {m, C, T, S, S}, eshape[2] = {m, p->D};
        vn_tensor tc, te;
        vn_tensor_init(&tc, clips, VN_DTYPE_F32, 5, cshape);
        vn_tensor_init(&te, out, VN_DTYPE_F32, 2, eshape);
        if (vn_encoder_encode(enc, &tc, &te) != VN_OK) {
            pthread_mutex_lock(&p->mu);
            if (p->progress_shown)
                fprintf(stderr, "\n");
            pthread_mutex_unlock(&p->mu);
            rc = vn_cli_fail(CMD, vn_last_error());
        }
        pthread_mutex_lock(&p->mu);
        for (int64_t k = 0; k < m; k++) {
            const slot *s = &p->slots[took[k]];
            if (!rc)
                memcpy(p->items[s->item].emb + s->row * p->D, out + k * p->D, (size_t)p->D * sizeof *out);
            give_free_locked(p, took[k]);
        }
        if (rc) {
            p->abort = 1;
            pthread_cond_broadcast(&p->cv_free);
        }
        *rows_done += m;
        double t = now_s();
        if (!rc && p->tty && !p->a->quiet && t - last_print > 0.2) {
            fprintf(stderr, "\rvnative %s: %lld/%lld files, %lld clips, %.1f clips/s   ", CMD,
                    (long long)p->files_done, (long long)p->n_items, (long long)*rows_done,
                    (double)*rows_done / (t - t_start));
            p->progress_shown = 1;
            last_print = t;
        }
        pthread_mutex_unlock(&p->mu);
    }
    free(clips);
    free(out);
    free(took);
    return rc;
}

static int write_ids(const char *path, const vn_cli_source *src, const item *items, int64_t n_items)
{
    char tmp[4200];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid()) >= sizeof tmp) {
        fprintf(stderr, "vnative %s: --ids %s: the path is too long\n", CMD, path);
        return 1;
    }
    FILE *f = fopen(tmp, "w");
    if (!f) {
        fprintf(stderr, "vnative %s: cannot write %s: %s\n", CMD, path, strerror(errno));
        return 1;
    }
    fprintf(f, "row,source,start_s,end_s\n");
    int64_t row = 0;
    for (int64_t i = 0; i < n_items; i++) {
        if (items[i].failed || !items[i].emb)
            continue;
        for (int64_t k = 0; k < items[i].n; k++) {
            fprintf(f, "%lld,", (long long)row++);
            vn_cli_csv_field(f, src[i].path);
            fputc(',', f);
            vn_cli_csv_seconds(f, items[i].spans[2 * k]);
            fputc(',', f);
            vn_cli_csv_seconds(f, items[i].spans[2 * k + 1]);
            fputc('\n', f);
        }
    }
    int bad = ferror(f);
    bad |= fflush(f) != 0;
    bad |= fsync(fileno(f)) != 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        fprintf(stderr, "vnative %s: cannot write %s: %s\n", CMD, path, strerror(errno));
        unlink(tmp);
        return 1;
    }
    return 0;
}

/* Gather the rows of the sources that made it, in order, and write the files. */
static int write_outputs(const eargs *a, const pipe_t *p, int64_t *rows, int64_t *files)
{
    *rows = 0;
    *files = 0;
    for (int64_t i = 0; i < p->n_items; i++)
        if (!p->items[i].failed && p->items[i].emb) {
            *rows += p->items[i].n;
            (*files)++;
        }
    if (*rows == 0) {
        fprintf(stderr, "vnative %s: nothing could be encoded: no video of %s gave a clip%s\n", CMD, a->input,
                p->files_failed ? " (see the warnings above)" : "");
        return 1;
    }
    float *emb = malloc((size_t)(*rows * p->D) * sizeof *emb);
    if (!emb) {
        fprintf(stderr, "vnative %s: out of memory for %lld rows\n", CMD, (long long)*rows);
        return 1;
    }
    int64_t r = 0;
    for (int64_t i = 0; i < p->n_items; i++)
        if (!p->items[i].failed && p->items[i].emb) {
            memcpy(emb + r * p->D, p->items[i].emb, (size_t)(p->items[i].n * p->D) * sizeof *emb);
            r += p->items[i].n;
        }
    char err[512];
    int64_t shape[2] = {*rows, p->D};
    int rc = 0;
    if (vn_npy_write_atomic(a->out, VN_NPY_F32, 2, shape, emb, err, sizeof err) != 0)
        rc = vn_cli_fail(CMD, err);
    free(emb);
    if (!rc && a->ids)
        rc = write_ids(a->ids, p->src, p->items, p->n_items);
    return rc;
}

/* Refuse before the work rather than after it: the directory a file goes to must be
 * there and writable. */
static int check_writable(const char *flag, const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) : 0;
    if (n >= sizeof dir) {
        fprintf(stderr, "vnative %s: %s %s: the path is too long\n", CMD, flag, path);
        return 1;
    }
    memcpy(dir, path, n);
    dir[n] = '\0';
    const char *d = slash ? (n ? dir : "/") : ".";
    if (access(d, W_OK | X_OK) != 0) {
        fprintf(stderr, "vnative %s: %s %s: cannot write in %s: %s\n", CMD, flag, path, d, strerror(errno));
        return 1;
    }
    return 0;
}

static int run(const eargs *a)
{
    vn_context *ctx = NULL;
    vn_encoder *enc = NULL;
    vn_encoder_config cfg;
    vn_cli_source *src = NULL;
    int64_t n_src = 0;
    pipe_t p;
    memset(&p, 0, sizeof p);
    if (check_writable("--out", a->out) || (a->ids && check_writable("--ids", a->ids)))
        return 1;
    int rc = vn_cli_list_sources(CMD, a->input, &src, &n_src);
    if (rc)
        return rc;
    /* The threads split between decoding (a video per worker) and the encoder's compute:
     * more threads than cores leave the encoder's OpenMP threads spinning at every join
     * while a decoder waits for a core, which costs more than it gains. */
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int threads = a->threads > 0 ? (int)a->threads : cores > 0 ? (int)cores : 1;
    int workers = threads / 2 > 1 ? threads / 2 : 1;
    workers = workers < n_src ? workers : (int)n_src;
    int compute = threads - workers > 1 ? threads - workers : 1;
    if ((rc = vn_cli_open_model(CMD, "--model", a->model, (uint64_t)a->seed, compute, &ctx, &enc, &cfg)))
        goto done;
    int64_t L, D;
    vn_encoder_output_shape(enc, &L, &D);
    p.a = a;
    p.cfg = &cfg;
    p.src = src;
    p.n_items = n_src;
    p.D = D;
    p.clip_elems = (int64_t)cfg.channels * cfg.frames * cfg.size * cfg.size;
    p.dec_threads = threads / 2 / workers > 1 ? threads / 2 / workers : 1; /* a lone video may decode in threads */
    p.n_slots = (int)a->batch + workers;
    p.workers_left = workers;
    p.tty = isatty(STDERR_FILENO);
    p.items = calloc((size_t)n_src, sizeof *p.items);
    p.slots = calloc((size_t)p.n_slots, sizeof *p.slots);
    p.free_ids = malloc((size_t)p.n_slots * sizeof *p.free_ids);
    p.ready = malloc((size_t)p.n_slots * sizeof *p.ready);
    pthread_t *tids = calloc((size_t)workers, sizeof *tids);
    rc = 1;
    if (!p.items || !p.slots || !p.free_ids || !p.ready || !tids) {
        fprintf(stderr, "vnative %s: out of memory for %lld sources\n", CMD, (long long)n_src);
        free(tids);
        goto done;
    }
    for (int s = 0; s < p.n_slots; s++) {
        if (!(p.slots[s].clip = malloc((size_t)p.clip_elems * sizeof(float)))) {
            fprintf(stderr, "vnative %s: out of memory for %d clips\n", CMD, p.n_slots);
            free(tids);
            goto done;
        }
        p.free_ids[p.n_free++] = s;
    }
    pthread_mutex_init(&p.mu, NULL);
    pthread_cond_init(&p.cv_free, NULL);
    pthread_cond_init(&p.cv_ready, NULL);
    const double t0 = now_s();
    int started = 0;
    for (; started < workers; started++)
        if (pthread_create(&tids[started], NULL, worker, &p) != 0)
            break;
    if (started < workers) { /* run with the workers there are; none is an error */
        pthread_mutex_lock(&p.mu);
        p.workers_left = started;
        pthread_mutex_unlock(&p.mu);
    }
    int64_t clips = 0;
    if (started == 0)
        rc = vn_cli_fail(CMD, "cannot start a decoding thread");
    else
        rc = encode_loop(&p, enc, t0, &clips);
    for (int w = 0; w < started; w++)
        pthread_join(tids[w], NULL);
    free(tids);
    pthread_cond_destroy(&p.cv_ready);
    pthread_cond_destroy(&p.cv_free);
    pthread_mutex_destroy(&p.mu);
    const double secs = now_s() - t0;
    if (p.progress_shown)
        fprintf(stderr, "\r%78s\r", "");
    int64_t rows = 0, files = 0;
    if (!rc)
        rc = write_outputs(a, &p, &rows, &files);
    if (!rc) {
        printf("encoded %lld rows of dim %lld from %lld of %lld files", (long long)rows, (long long)D,
               (long long)files, (long long)n_src);
        if (p.files_failed)
            printf(" (%lld skipped)", (long long)p.files_failed);
        printf(" in %.2f s, %.1f clips/s -> %s%s%s\n", secs, secs > 0 ? (double)rows / secs : 0.0, a->out,
               a->ids ? ", " : "", a->ids ? a->ids : "");
    }
done:
    for (int64_t i = 0; p.items && i < n_src; i++) {
        free(p.items[i].spans);
        free(p.items[i].emb);
    }
    for (int s = 0; p.slots && s < p.n_slots; s++)
        free(p.slots[s].clip);
    free(p.items);
    free(p.slots);
    free(p.free_ids);
    free(p.ready);
    vn_cli_free_sources(src, n_src);
    vn_encoder_destroy(enc);
    vn_context_destroy(ctx);
    return rc;
}

int vn_cmd_encode(int argc, char **argv)
{
    eargs a = {0};
    a.batch = 16;
    unsigned char given[N_FLAGS] = {0};
    int pr = vn_cli_parse_flags(CMD, flags, N_FLAGS, &a, argc, argv, given);
    if (pr == 1) {
        usage(stdout, &a);
        return 0;
    }
    if (pr != 0)
        return pr;
    const char *missing = !a.model ? "--model" : !a.input ? "--input" : !a.out ? "--out" : NULL;
    if (missing) {
        fprintf(stderr, "vnative %s: %s is required (see vnative %s --help)\n", CMD, missing, CMD);
        return 2;
    }
    if (given[vn_cli_find_flag(flags, N_FLAGS, "--stride")] && !given[vn_cli_find_flag(flags, N_FLAGS, "--window")]) {
        fprintf(stderr, "vnative %s: --stride goes with --window\n", CMD);
        return 2;
    }
    if (a.ids && !strcmp(a.ids, a.out)) {
        fprintf(stderr, "vnative %s: --ids and --out name the same file\n", CMD);
        return 2;
    }
    if (a.window > 0.0 && a.stride <= 0.0)
        a.stride = a.window;
    return run(&a);
}
