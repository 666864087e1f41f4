/*
 * vn_loader: worker threads decode items of a shuffled epoch into a bounded reorder
 * queue (loader_queue.c); the consumer copies good clips out strictly in epoch order.
 *
 * Reproducibility: the order comes from (seed, epoch) and each clip's start and
 * augmentation seeds from (seed, epoch, item), and a skipped item's place goes to the
 * next good item in order, so the batches of an epoch are the same bits whatever the
 * number of workers or their timing.
 */
#include "io/loader_internal.h"
#include "core/error.h"
#include "core/rng.h"
#include "core/tensor_check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WORKERS 256
#define MAX_PREFETCH 1024
#define DEFAULT_WORKERS 2
#define DEFAULT_PREFETCH 2
#define DEFAULT_TIMEOUT_S 30.0

/* Stream domains, so that the shuffle and the per-clip draws never share a sequence. */
#define STREAM_SHUFFLE 0x53485546464c45ULL
#define STREAM_CLIP 0x434c495053454544ULL

struct vn_loader {
    vn_loader_options opts;  /* source, clip and transform point at the copies below */
    char *source;
    vn_clip_options clip;
    vn_transform_options transform;
    int has_transform;
    int n_workers;
    double timeout_s;

    vn_loader_items items;
    int64_t batch_shape[5];
    int64_t clip_shape[4];
    size_t clip_bytes;

    vn_loader_queue q;
    int64_t *order;          /* the epoch's item order; written only while no worker is busy */
    int64_t epoch;
    int started;             /* vn_loader_start_epoch has succeeded at least once */
    unsigned char *bad_ever; /* per item: skipped once, reported, never retried */
    int64_t n_skipped_total;

    pthread_t *threads;
    int n_threads;

    int64_t *take_pos;       /* scratch for vn_loader_next: batch_size entries each */
    int32_t *take_slots;
    void **take_bufs;
};

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t stream_id(uint64_t domain, int64_t epoch, int64_t item)
{
    return mix64(mix64(domain + (uint64_t)epoch * 0x9e3779b97f4a7c15ULL) + (uint64_t)item * 0xd6e8feb86659fd93ULL);
}

VN_DEFINE_OPTIONS_INIT(vn_loader_options_init, vn_loader_options, VN_LOADER_OPTIONS_VERSION, VN_LOADER_OPTIONS_INIT)

/* ---- option checks ----------------------------------------------------------------- */

static vn_status check_clip(const vn_clip_options *c)
{
    VN_CHECK_VERSION("vn_loader_create", "clip options", c->version, VN_CLIP_OPTIONS_VERSION, "VN_CLIP_OPTIONS_INIT");
    if (c->n_frames < 1)
        return vn_error(VN_ERR_INVALID_ARG, "vn_loader_create: clip n_frames is %d; expected >= 1", c->n_frames);
    if (c->stride < 0)
        return vn_error(VN_ERR_INVALID_ARG, "vn_loader_create: clip stride is %d; expected >= 1, or 0 with target_fps",
                        c->stride);
    if (c->stride == 0 && !(c->target_fps > 0.0 && isfinite(c->target_fps)))
        return vn_error(VN_ERR_INVALID_ARG, "vn_loader_create: clip stride is 0 and target_fps is %g; "
                        "one of them must be positive", c->target_fps);
    if (c->start < -1)
        return vn_error(VN_ERR_INVALID_ARG, "vn_loader_create: clip start is %lld; expected >= 0, or -1 for random",
                        (long long)c->start);
    return VN_OK;
}

static int in_range(float v, float lo, float hi)
{
    return v >= lo && v <= hi;
}

static vn_status check_transform(const vn_transform_options *t)
{
    VN_CHECK_VERSION("vn_loader_create", "transform options", t->version, VN_TRANSFORM_OPTIONS_VERSION,
                     "VN_TRANSFORM_OPTIONS_INIT");
    if (t->short_side < 0 || t->crop_size < 0)
        return vn_error(VN_ERR_INVALID_ARG, "vn_loader_create: transform short_side %d and crop_size %d must be >= 0",
                        t->short_side, t->crop_size);
    if (t->random_resized_crop && t->crop_size == 0)
        return vn_error(VN_ERR_INVALID_ARG, "vn_loader_create: random_resized_crop needs crop_size > 0");
    if (t->random_resized_crop &&
        !(t->rrc_scale[0] > 0.0f && t->rrc_scale[0] <= t->rrc_scale[1] && t->rrc_scale[1] <= 1.0f))
        return vn_error(VN_ERR_INVALID_ARG, "vn_loader_create: rrc_scale [%g, %g] must satisfy 0 < lo <= hi <= 1",
                        t->rrc_scale[0], t->rrc_scale[1]);
    if (t->random_resized_crop && !(t->rrc_ratio[0] > 0.0f && t->rrc_ratio[0] <= t->rrc_ratio[1]))
        return vn_error(VN_ERR_INVALID_ARG, "vn_loader_create: rrc_ratio [%g, %g] must satisfy 0 < lo <= hi",
                        t->rrc_ratio[0], t->rrc_ratio[1]);
    if (!in_range(t->hflip_prob, 0.0f, 1.0f))
        return vn_error(VN_ERR_INVALID_ARG, "vn_loader_create: hflip_prob %g is outside [0, 1]", t->hflip_prob);
    for (int c = 0; c < 3; c++)
        if (!(t->std[c] > 0.0f) || !isfinite(t->mean[c]) || !isfinite(t->std[c]))
            return vn_error(VN_ERR_INVALID_ARG, "vn_loader_create: transform mean[%d] = %g, std[%d] = %g; std must be "
                            "positive and both finite", c, t->mean[c], c, t->std[c]);
    return VN_OK;
}

static vn_status check_options(const vn_loader_options *o)
{
    VN_CHECK_VERSION("vn_loader_create", "options", o->version, VN_LOADER_OPTIONS_VERSION, "VN_LOADER_OPTIONS_INIT");
    if (!o->source)
        return vn_error(VN_ERR_INVALID_ARG, "vn_loader_create: opts->source is NULL; give a CSV manifest or a directory");
    if (o->batch_size < 1)
        return vn_error(VN_ERR_INVALID_ARG, "vn_loader_create: batch_size is %d; expected >= 1", o->batch_size);
    if (o->n_workers < 0 || o->n_workers > MAX_WORKERS)
        return vn_error(VN_ERR_INVALID_ARG, "vn_loader_create: n_workers is %d; expected 0 (default %d) to %d",
                        o->n_workers, DEFAULT_WORKERS, MAX_WORKERS);
    if (o->prefetch < 0 || o->prefetch > MAX_PREFETCH)
        return vn_error(VN_ERR_INVALID_ARG, "vn_loader_create: prefetch is %d; expected 0 (default %d) to %d",
                        o->prefetch, DEFAULT_PREFETCH, MAX_PREFETCH);
    if (!(o->timeout_s >= 0.0) || !isfinite(o->timeout_s))
        return vn_error(VN_ERR_INVALID_ARG, "vn_loader_create: timeout_s is %g; expected >= 0 (0: %g s)", o->timeout_s,
                        DEFAULT_TIMEOUT_S);
    if (o->dtype != VN_DTYPE_F32 && o->dtype != VN_DTYPE_U8)
        return vn_error(VN_ERR_INVALID_ARG, "vn_loader_create: dtype %d is not VN_DTYPE_F32 (%d) or VN_DTYPE_U8 (%d)",
                        (int)o->dtype, VN_DTYPE_F32, VN_DTYPE_U8);
    vn_status s = VN_OK;
    if (o->clip)
        s = check_clip(o->clip);
    if (s == VN_OK && o->transform)
        s = check_transform(o->transform);
    return s;
}

/* ---- the batch shape ----------------------------------------------------------------- */

/* With a crop the clip shape follows from the options alone; without one the videos
 * decide, so the first that opens fixes it and others of a different size are skipped. */
static vn_status find_clip_shape(vn_loader *L)
{
    const vn_transform_options *t = L->has_transform ? &L->transform : NULL;
    int64_t *s = L->clip_shape;
    if (t && t->crop_size > 0) {
        int64_t c = t->grayscale ? 1 : 3, n = L->clip.n_frames, px = t->crop_size;
        if (L->opts.dtype == VN_DTYPE_F32) {
            s[0] = c; s[1] = n; s[2] = px; s[3] = px;
        } else {
            s[0] = n; s[1] = px; s[2] = px; s[3] = c;
        }
        return VN_OK;
    }
    char last[512] = "";
    for (int64_t i = 0; i < L->items.n; i++) {
        if (vn_loader_probe_shape(L->items.v[i].path, &L->clip, t, L->opts.dtype, L->timeout_s, s) == VN_OK)
            return VN_OK;
        snprintf(last, sizeof last, "%s", vn_last_error());
    }
    return vn_error(VN_ERR_FORMAT, "vn_loader_create: no video of %s could be opened to fix the clip size (last "
                    "error: %s); give a transform with crop_size so the size does not depend on the videos",
                    L->source, last);
}

/* ---- workers ------------------------------------------------------------------------- */

static void item_seeds(const vn_loader *L, int64_t epoch, int64_t item, uint64_t *clip_seed, uint64_t *aug_seed)
{
    vn_rng r;
    vn_rng_seed(&r, L->opts.seed, stream_id(STREAM_CLIP, epoch, item));
    *clip_seed = vn_rng_next(&r);
    *aug_seed = vn_rng_next(&r);
}

static void *worker_main(void *arg)
{
    vn_loader *L = arg;
    vn_loader_queue *q = &L->q;
    pthread_mutex_lock(&q->mu);
    while (!q->stop) {
        int64_t pos;
        if (!vn_loader_queue_claim_locked(q, &pos)) {
            pthread_cond_wait(&q->work_cv, &q->mu);
            continue;
        }
        uint64_t gen = q->generation;
        int64_t item = L->order[pos];
        if (L->bad_ever[item]) {
            vn_loader_queue_resolve_locked(q, pos, 0, -1);
            continue;
        }
        int32_t slot = -1;
        void *buf = NULL;
        vn_status s = vn_loader_queue_slot_locked(q, &slot, &buf);
        vn_loader_job job = {
            .item = &L->items.v[item],
            .clip = &L->clip,
            .transform = L->has_transform ? &L->transform : NULL,
            .dtype = L->opts.dtype,
            .clip_shape = L->clip_shape,
            .timeout_s = L->timeout_s,
        };
        item_seeds(L, L->epoch, item, &job.clip_seed, &job.aug_seed);
        pthread_mutex_unlock(&q->mu);

        if (s == VN_OK)
            s = vn_loader_load_item(&job, buf);
        /* bad_ever[item] was 0 at the claim (bad items are resolved without a decode) and
         * only the claiming worker sets it, so a failure here is the item's first. Log it
         * before resolving, so that the warning is out before the consumer can see the end. */
        if (s != VN_OK)
            vn_log(VN_LOG_WARN, "loader: skipping %s (item %lld): %s: %s", job.item->path, (long long)item,
                   vn_status_str(s), vn_last_error());

        pthread_mutex_lock(&q->mu);
        if (s != VN_OK) {
            L->bad_ever[item] = 1;
            L->n_skipped_total++;
        }
        if (gen != q->generation) {
            /* start_epoch is waiting for this to drain; it rebuilds the slot list itself. */
            q->in_flight--;
            pthread_cond_broadcast(&q->ready_cv);
            continue;
        }
        vn_loader_queue_resolve_locked(q, pos, s == VN_OK, slot);
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

static void stop_workers(vn_loader *L)
{
    if (!L->q.sync_live)
        return;
    pthread_mutex_lock(&L->q.mu);
    L->q.stop = 1;
    pthread_cond_broadcast(&L->q.work_cv);
    pthread_mutex_unlock(&L->q.mu);
    for (int i = 0; i < L->n_threads; i++)
        pthread_join(L->threads[i], NULL);
    L->n_threads = 0;
}

static vn_status start_workers(vn_loader *L)
{
    for (int i = 0; i < L->n_workers; i++) {
        int err = pthread_create(&L->threads[i], NULL, worker_main, L);
        if (err != 0) {
            if (i > 0) {
                vn_log(VN_LOG_WARN, "loader: started only %d of %d workers: %s", i, L->n_workers, strerror(err));
                return VN_OK;
            }
            return vn_error(VN_ERR_INTERNAL, "vn_loader_start_epoch: cannot start a worker thread: %s", strerror(err));
        }
        L->n_threads = i + 1;
    }
    return VN_OK;
}

/* ---- the public API ------------------------------------------------------------------ */

static vn_status create(vn_loader **out, const vn_loader_options *opts, int shard, int n_shards);

vn_status vn_loader_create(vn_loader **out, const vn_loader_options *opts)
{
    return create(out, opts, 0, 1);
}

vn_status vn_loader_create_shard(vn_loader **out, const vn_loader *like, int shard, int n_shards)
{
    VN_CHECK_NULL(out);
    VN_CHECK_NULL(like);
    if (n_shards < 1 || shard < 0 || shard >= n_shards)
        return vn_error(VN_ERR_INVALID_ARG, "loader shard %d of %d", shard, n_shards);
    return create(out, &like->opts, shard, n_shards);
}

static vn_status create(vn_loader **out, const vn_loader_options *opts, int shard, int n_shards)
{
    VN_CHECK_NULL(out);
    *out = NULL;
    VN_CHECK_NULL(opts);
    vn_status s = check_options(opts);
    if (s != VN_OK)
        return s;
    vn_loader *L = calloc(1, sizeof *L);
    if (!L)
        return vn_error(VN_ERR_OUT_OF_MEMORY, "vn_loader_create: out of memory");
    L->opts = *opts;
    L->source = strdup(opts->source);
    if (opts->clip) {
        L->clip = *opts->clip;
    } else {
        vn_clip_options def = VN_CLIP_OPTIONS_INIT;
        L->clip = def;
        L->clip.start = -1;
    }
    L->clip.version = VN_CLIP_OPTIONS_VERSION;
    if (opts->transform) {
        L->transform = *opts->transform;
        L->transform.version = VN_TRANSFORM_OPTIONS_VERSION;
        L->has_transform = 1;
    }
    L->opts.source = L->source;
    L->opts.clip = &L->clip;
    L->opts.transform = L->has_transform ? &L->transform : NULL;
    L->n_workers = opts->n_workers ? opts->n_workers : DEFAULT_WORKERS;
    int prefetch = opts->prefetch ? opts->prefetch : DEFAULT_PREFETCH;
    L->timeout_s = opts->timeout_s > 0.0 ? opts->timeout_s : DEFAULT_TIMEOUT_S;
    if (!L->source) {
        vn_loader_destroy(L);
        return vn_error(VN_ERR_OUT_OF_MEMORY, "vn_loader_create: out of memory");
    }

    s = vn_loader_items_read(L->source, &L->items);
    if (s == VN_OK)
        vn_loader_items_shard(&L->items, shard, n_shards);
    if (s == VN_OK && L->items.n == 0)
        s = vn_error(VN_ERR_INVALID_ARG, "vn_loader_create: shard %d of %d of '%s' has no items", shard, n_shards,
                     L->source);
    if (s == VN_OK)
        s = find_clip_shape(L);
    if (s != VN_OK) {
        vn_loader_destroy(L);
        return s;
    }
    L->batch_shape[0] = opts->batch_size;
    memcpy(L->batch_shape + 1, L->clip_shape, sizeof L->clip_shape);
    L->clip_bytes = vn_dtype_size(opts->dtype);
    for (int i = 0; i < 4; i++)
        L->clip_bytes *= (size_t)L->clip_shape[i];

    L->order = malloc((size_t)L->items.n * sizeof *L->order);
    L->bad_ever = calloc((size_t)L->items.n, 1);
    L->threads = calloc((size_t)L->n_workers, sizeof *L->threads);
    L->take_pos = malloc((size_t)opts->batch_size * sizeof *L->take_pos);
    L->take_slots = malloc((size_t)opts->batch_size * sizeof *L->take_slots);
    L->take_bufs = malloc((size_t)opts->batch_size * sizeof *L->take_bufs);
    if (!L->order || !L->bad_ever || !L->threads || !L->take_pos || !L->take_slots || !L->take_bufs) {
        vn_loader_destroy(L);
        return vn_error(VN_ERR_OUT_OF_MEMORY, "vn_loader_create: out of memory for %lld items",
                        (long long)L->items.n);
    }
    s = vn_loader_queue_init(&L->q, L->items.n, opts->batch_size, prefetch, opts->drop_last != 0, L->clip_bytes);
    if (s != VN_OK) {
        vn_loader_destroy(L);
        return s;
    }
    *out = L;
    return VN_OK;
}

void vn_loader_destroy(vn_loader *loader)
{
    if (!loader)
        return;
    stop_workers(loader);
    vn_loader_queue_free(&loader->q);
    vn_loader_items_free(&loader->items);
    free(loader->order);
    free(loader->bad_ever);
    free(loader->threads);
    free(loader->take_pos);
    free(loader->take_slots);
    free(loader->take_bufs);
    free(loader->source);
    free(loader);
}

vn_status vn_loader_size(const vn_loader *loader, int64_t *n_items)
{
    VN_CHECK_NULL(loader);
    VN_CHECK_NULL(n_items);
    *n_items = loader->items.n;
    return VN_OK;
}

vn_status vn_loader_batch_shape(const vn_loader *loader, int64_t *shape)
{
    VN_CHECK_NULL(loader);
    VN_CHECK_NULL(shape);
    memcpy(shape, loader->batch_shape, sizeof loader->batch_shape);
    return VN_OK;
}

vn_status vn_loader_start_epoch(vn_loader *loader, int64_t epoch)
{
    VN_CHECK_NULL(loader);
    if (epoch < 0)
        return vn_error(VN_ERR_INVALID_ARG, "vn_loader_start_epoch: epoch is %lld; expected >= 0", (long long)epoch);
    vn_loader *L = loader;
    vn_loader_queue *q = &L->q;
    pthread_mutex_lock(&q->mu);
    /* Abandon the running epoch: no new claims, and wait out the decodes in flight
     * (each bounded by timeout_s) before their slots and positions are reused. */
    q->active = 0;
    q->generation++;
    while (q->in_flight > 0)
        pthread_cond_wait(&q->ready_cv, &q->mu);
    int64_t n = L->items.n;
    for (int64_t i = 0; i < n; i++)
        L->order[i] = i;
    if (L->opts.shuffle) {
        vn_rng r;
        vn_rng_seed(&r, L->opts.seed, stream_id(STREAM_SHUFFLE, epoch, 0));
        for (int64_t i = n - 1; i > 0; i--) {
            int64_t j = (int64_t)vn_rng_below(&r, (uint64_t)i + 1);
            int64_t tmp = L->order[i];
            L->order[i] = L->order[j];
            L->order[j] = tmp;
        }
    }
    L->epoch = epoch;
    vn_loader_queue_reset_locked(q);
    pthread_cond_broadcast(&q->work_cv);
    pthread_mutex_unlock(&q->mu);

    if (L->n_threads == 0) {
        vn_status s = start_workers(L);
        if (s != VN_OK) {
            pthread_mutex_lock(&q->mu);
            q->active = 0;
            pthread_mutex_unlock(&q->mu);
            return s;
        }
    }
    L->started = 1;
    return VN_OK;
}

/* Copy a contiguous clip into row n of a strided 5-d batch tensor (src NULL: zeros). */
static void copy_row(const vn_tensor *dst, int64_t n, const void *src, size_t esize)
{
    const int64_t *sh = dst->shape, *st = dst->strides;
    const unsigned char *s = src;
    unsigned char *base = (unsigned char *)dst->data + (ptrdiff_t)(n * st[0]) * (ptrdiff_t)esize;
    size_t row = (size_t)sh[4] * esize;
    for (int64_t a = 0; a < sh[1]; a++)
        for (int64_t b = 0; b < sh[2]; b++)
            for (int64_t c = 0; c < sh[3]; c++) {
                unsigned char *d = base + (ptrdiff_t)(a * st[1] + b * st[2] + c * st[3]) * (ptrdiff_t)esize;
                if (st[4] == 1) {
                    if (s)
                        memcpy(d, s, row);
                    else
                        memset(d, 0, row);
                } else {
                    for (int64_t e = 0; e < sh[4]; e++) {
                        unsigned char *de = d + (ptrdiff_t)(e * st[4]) * (ptrdiff_t)esize;
                        if (s)
                            memcpy(de, s + (size_t)e * esize, esize);
                        else
                            memset(de, 0, esize);
                    }
                }
                if (s)
                    s += row;
            }
}

vn_status vn_loader_next(vn_loader *loader, vn_tensor *clips, int64_t *labels, int64_t *items, int64_t *n_clips)
{
    VN_CHECK_NULL(loader);
    VN_CHECK_NULL(clips);
    VN_CHECK_NULL(n_clips);
    vn_loader *L = loader;
    if (!L->started)
        return vn_error(VN_ERR_STATE, "vn_loader_next: no epoch is running; call vn_loader_start_epoch first");
    vn_status s = vn_tensor_expect("vn_loader_next", "clips", clips, L->opts.dtype, 5, L->batch_shape);
    if (s != VN_OK)
        return s;
    *n_clips = 0;
    int64_t bs = L->opts.batch_size;
    vn_loader_queue *q = &L->q;
    pthread_mutex_lock(&q->mu);
    int64_t k;
    while ((k = vn_loader_queue_ready_locked(q)) == 0)
        pthread_cond_wait(&q->ready_cv, &q->mu);
    if (k < 0) {
        pthread_mutex_unlock(&q->mu);
        return vn_error(VN_ERR_END, "vn_loader_next: epoch %lld is over", (long long)L->epoch);
    }
    vn_loader_queue_peek_locked(q, k, L->take_pos, L->take_slots);
    for (int64_t i = 0; i < k; i++)
        L->take_bufs[i] = q->slots[L->take_slots[i]];
    pthread_mutex_unlock(&q->mu);

    /* The taken slots stay held until released, so no worker writes them during the copy. */
    size_t esize = vn_dtype_size(L->opts.dtype);
    for (int64_t i = 0; i < bs; i++) {
        copy_row(clips, i, i < k ? L->take_bufs[i] : NULL, esize);
        int64_t item = i < k ? L->order[L->take_pos[i]] : -1;
        if (labels)
            labels[i] = item >= 0 ? L->items.v[item].label : -1;
        if (items)
            items[i] = item;
    }

    pthread_mutex_lock(&q->mu);
    vn_loader_queue_release_locked(q, k, L->take_pos[k - 1], L->take_slots);
    pthread_mutex_unlock(&q->mu);
    *n_clips = k;
    return VN_OK;
}

vn_status vn_loader_get_stats(const vn_loader *loader, vn_loader_stats *stats)
{
    VN_CHECK_NULL(loader);
    VN_CHECK_NULL(stats);
    VN_CHECK_VERSION("vn_loader_get_stats", "stats", stats->version, VN_LOADER_STATS_VERSION, "VN_LOADER_STATS_INIT");
    /* The mutex guards the counters the workers update; locking it does not change the loader. */
    vn_loader_queue *q = (vn_loader_queue *)&loader->q;
    pthread_mutex_lock(&q->mu);
    stats->n_items = loader->items.n;
    stats->n_loaded = q->n_loaded;
    stats->n_skipped = q->n_skipped;
    stats->n_skipped_total = loader->n_skipped_total;
    stats->queue_peak = q->queue_peak;
    pthread_mutex_unlock(&q->mu);
    return VN_OK;
}
