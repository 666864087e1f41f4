/*
 * data.c: the trainer's clip sources. World data is rendered on the fly from a clip
 * counter, so its position is one integer; file data goes through vn_loader, whose
 * order is a pure function of (seed, epoch), so its position is the epoch and the
 * batches taken in it.
 *
 * World data can be prefetched (vn_train_data_prefetch): one background thread renders
 * the batch the next vn_train_data_next will return while the caller trains on this one.
 * A clip is a pure function of its global index, so the background batch is the one the
 * caller would render, bit for bit; it is tagged with what picks its clips (position,
 * batch size, shard, the test hook) and used only when the request matches the tag,
 * otherwise dropped and rendered in the caller. The thread renders the clips in a plain
 * loop (no OpenMP team: the cores are busy with the step's own).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "io/loader_internal.h"
#include "train/train_internal.h"
#include "world/world_internal.h"

static vn_status open_world(vn_train_data *d, const char *list, uint64_t seed)
{
    const char *p = list;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char name[32];
        if (len == 0 || len >= sizeof name)
            return vn_error(VN_ERR_INVALID_ARG, "training data 'world:%s': an empty or overlong task name", list);
        memcpy(name, p, len);
        name[len] = 0;
        vn_world_task t;
        if (vn_world_task_from_name(name, &t) != VN_OK || t == VN_TASK_FUTURE)
            return vn_error(VN_ERR_INVALID_ARG,
                            "training data 'world:%s': '%s' is not a clip task (aot, gravity, collision, order, "
                            "speed, intphys)",
                            list, name);
        if (d->n_tasks == VN_WORLD_TASK_COUNT)
            return vn_error(VN_ERR_INVALID_ARG, "training data 'world:%s': too many tasks", list);
        d->tasks[d->n_tasks++] = t;
        p += len;
        if (*p == ',')
            p++;
    }
    if (d->n_tasks == 0)
        return vn_error(VN_ERR_INVALID_ARG, "training data 'world:': name at least one task, e.g. world:aot");
    vn_world_options wo = VN_WORLD_OPTIONS_INIT;
    wo.seed = seed;
    d->world_seed = seed;
    wo.n_frames = (int)d->Tsrc;
    wo.size = (int)d->H;
    wo.channels = (int)d->C;
    wo.n_threads = 1; /* clips are spread over threads here, one per clip */
    vn_status st = vn_world_create(&d->world, &wo);
    return st ? vn_error_prefix(st, "training data 'world:%s': ", list) : VN_OK;
}

static vn_status open_loader(vn_train_data *d, const char *source, uint64_t seed, int batch, int n_workers,
                             int augment)
{
    vn_clip_options clip = VN_CLIP_OPTIONS_INIT;
    clip.n_frames = (int)d->Tsrc;
    clip.stride = 2; /* about a second of 30 fps video per 16 frames, as video SSL recipes sample */
    clip.start = -1;
    clip.seed = seed;
    vn_transform_options tf = VN_TRANSFORM_OPTIONS_INIT;
    tf.crop_size = (int)d->H;
    if (augment) {
        tf.random_resized_crop = 1;
        tf.hflip_prob = 0.5f;
    } else {
        tf.short_side = (int)d->H;
    }
    tf.grayscale = d->C == 1;
    tf.seed = seed;
    vn_loader_options lo = VN_LOADER_OPTIONS_INIT;
    lo.source = source;
    lo.batch_size = batch;
    lo.n_workers = n_workers;
    lo.shuffle = 1;
    lo.drop_last = 1;
    lo.seed = seed;
    lo.clip = &clip;
    lo.transform = &tf;
    d->lab = malloc((size_t)batch * sizeof *d->lab);
    if (!d->lab)
        return vn_error(VN_ERR_OUT_OF_MEMORY, "training data '%s': out of memory", source);
    vn_status st = vn_loader_create(&d->loader, &lo);
    if (st)
        return vn_error_prefix(st, "training data '%s': ", source);
    vn_loader_size(d->loader, &d->n_items);
    if (d->n_items < batch)
        return vn_error(VN_ERR_INVALID_ARG, "training data '%s': %lld videos, fewer than one batch of %d", source,
                        (long long)d->n_items, batch);
    st = vn_loader_start_epoch(d->loader, 0);
    return st ? vn_error_prefix(st, "training data '%s': ", source) : VN_OK;
}

vn_status vn_train_data_open(vn_train_data *d, const char *spec, const vn_encoder_config *cfg, int64_t Tsrc,
                             int natural_only, uint64_t seed, int batch, int n_workers, int augment, int n_threads)
{
    memset(d, 0, sizeof *d);
    d->T = cfg->frames;
    d->C = cfg->channels;
    d->H = cfg->size;
    d->Tsrc = Tsrc;
    d->natural_only = natural_only;
    d->n_threads = n_threads > 0 ? n_threads : 1;
    d->fail_clip = -1;
    vn_status st;
    if (!strncmp(spec, "world:", 6))
        st = open_world(d, spec + 6, seed);
    else
        st = open_loader(d, spec, seed, batch, n_workers, augment);
    if (st)
        vn_train_data_close(d);
    return st;
}

static void pf_destroy(struct vn_train_prefetch *pf);

void vn_train_data_close(vn_train_data *d)
{
    pf_destroy(d->pf); /* before the world it renders from */
    vn_world_destroy(d->world);
    vn_loader_destroy(d->loader);
    free(d->lab);
    memset(d, 0, sizeof *d);
}

/* The world index of clip number c: tasks take turns, and without labels each pair
 * (2k, 2k+1) gives its natural member, whose label is 1. */
static void world_item(const vn_train_data *d, int64_t c, vn_world_task *task, int64_t *index)
{
    *task = d->tasks[c % d->n_tasks];
    int64_t k = c / d->n_tasks;
    if (!d->natural_only || *task == VN_TASK_SPEED) {
        *index = k;
        return;
    }
    *index = 2 * k + (vnw_label(d->world_seed, *task, 2 * k) == 1 ? 0 : 1);
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Global clip c into out [C, Tsrc, H, W] and its label; task and index name it. Safe from
 * any thread: vn_world_clip only reads the world. */
static vn_status render_clip(const vn_train_data *d, int64_t c, int64_t fail_clip, float *out, int32_t *label,
                             vn_world_task *task, int64_t *index)
{
    int64_t shape[4] = {d->C, d->Tsrc, d->H, d->H};
    world_item(d, c, task, index);
    vn_tensor t;
    vn_tensor_init(&t, out, VN_DTYPE_F32, 4, shape);
    int lab = -1;
    vn_status st = c == fail_clip ? vn_error(VN_ERR_INTERNAL, "a forced failure (the test hook)")
                                  : vn_world_clip(d->world, *task, *index, &t, &lab);
    *label = lab;
    return st;
}

/* What picks a batch's clips: clip i is global clip pos + shard * B + i. */
typedef struct pf_job {
    int64_t pos, B, fail_clip;
    int shard, n_shards;
} pf_job;

static pf_job job_of(const vn_train_data *d, int64_t B)
{
    return (pf_job){d->pos, B, d->fail_clip, d->shard, d->n_shards};
}

static int job_eq(const pf_job *a, const pf_job *b)
{
    return a->pos == b->pos && a->B == b->B && a->fail_clip == b->fail_clip && a->shard == b->shard &&
           a->n_shards == b->n_shards;
}

/* The synchronous render: the clips spread over the caller's threads. */
static vn_status render_batch(const vn_train_data *d, const pf_job *j, float *clips, int32_t *labels)
{
    int64_t per = d->C * d->Tsrc * d->H * d->H, B = j->B;
    vn_status first = VN_OK;
    /* vn_last_error is per thread: the worker's message is carried back by hand */
    char msg[512] = "";
    vn_world_task first_task = VN_TASK_AOT;
    int64_t first_index = 0;
#pragma omp parallel for schedule(dynamic, 1) num_threads(d->n_threads)
    for (int64_t i = 0; i < B; i++) {
        vn_world_task task;
        int64_t index;
        vn_status st = render_clip(d, j->pos + (int64_t)j->shard * B + i, j->fail_clip, clips + i * per,
                                   &labels[i], &task, &index);
        if (st) {
#pragma omp critical(vn_train_world_error)
            if (!first) {
                first = st;
                first_task = task;
                first_index = index;
                snprintf(msg, sizeof msg, "%s", vn_last_error());
            }
        }
    }
    if (first)
        return vn_error(first, "world clip %s #%lld: %s", vn_world_task_name(first_task), (long long)first_index, msg);
    return VN_OK;
}

/* ---- the prefetcher: one background render of the next batch ------------------------ */

enum { PF_IDLE, PF_QUEUED, PF_RUNNING, PF_DONE };

struct vn_train_prefetch {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;     /* every change of state, both ways */
    vn_train_data src;     /* the world and the geometry, read only (its pf is NULL) */
    int nice;
    /* under mu */
    int state, cancel, quit;
    pf_job job;            /* the batch queued, rendering or rendered */
    float *clips;          /* the thread's while PF_RUNNING, else the caller's */
    int32_t *labels;
    int64_t cap;           /* clips the buffers hold */
    vn_status status;      /* of the finished render, and its message */
    char msg[768];
    int64_t n_batches, n_dropped, hits;
    int64_t ready;         /* takes that found the render finished */
    double render_s, cpu_s, copy_s, wait_s, queue_s, submit_t;
};

static void pf_lower_priority(int nice)
{
    if (nice <= 0)
        return;
    pid_t tid = (pid_t)syscall(SYS_gettid);
    if (nice >= 20) {
        /* SCHED_IDLE: a core only when nothing else wants it */
        struct sched_param sp = {0};
        if (sched_setscheduler(tid, SCHED_IDLE, &sp) == 0)
            return;
        nice = 19;
    }
    /* relative to the caller's priority, which the thread inherited */
    errno = 0;
    int cur = getpriority(PRIO_PROCESS, (id_t)tid);
    if (errno)
        cur = 0;
    (void)setpriority(PRIO_PROCESS, (id_t)tid, cur + nice < 19 ? cur + nice : 19);
}

static void *pf_main(void *arg)
{
    struct vn_train_prefetch *pf = arg;
    pf_lower_priority(pf->nice);
    const vn_train_data *d = &pf->src;
    int64_t per = d->C * d->Tsrc * d->H * d->H;
    pthread_mutex_lock(&pf->mu);
    for (;;) {
        while (!pf->quit && pf->state != PF_QUEUED)
            pthread_cond_wait(&pf->cv, &pf->mu);
        if (pf->quit)
            break;
        pf->state = PF_RUNNING;
        pf->queue_s += mono_s() - pf->submit_t;
        pf_job j = pf->job;
        float *clips = pf->clips;
        int32_t *labels = pf->labels;
        pthread_mutex_unlock(&pf->mu);

        double w0 = mono_s(), c0 = thread_cpu_s();
        vn_status st = VN_OK;
        char msg[sizeof pf->msg] = "";
        int cancelled = 0;
        for (int64_t i = 0; i < j.B; i++) {
            pthread_mutex_lock(&pf->mu);
            cancelled = pf->cancel || pf->quit;
            pthread_mutex_unlock(&pf->mu);
            if (cancelled)
                break;
            vn_world_task task;
            int64_t index;
            st = render_clip(d, j.pos + (int64_t)j.shard * j.B + i, j.fail_clip, clips + i * per, &labels[i], &task,
                             &index);
            if (st) {
                /* the message the synchronous render gives */
                snprintf(msg, sizeof msg, "world clip %s #%lld: %s", vn_world_task_name(task), (long long)index,
                         vn_last_error());
                break;
            }
        }
        double wall = mono_s() - w0, cpu = thread_cpu_s() - c0;

        pthread_mutex_lock(&pf->mu);
        if (cancelled) {
            pf->state = PF_IDLE;
            pf->n_dropped++;
        } else {
            pf->state = PF_DONE;
            pf->status = st;
            memcpy(pf->msg, msg, sizeof msg);
            pf->n_batches++;
            pf->render_s += wall;
            pf->cpu_s += cpu;
        }
        pthread_cond_broadcast(&pf->cv);
    }
    pthread_mutex_unlock(&pf->mu);
    return NULL;
}

/* Drop the queued, running or finished render (waits for a running one to stop). */
static void pf_drop_locked(struct vn_train_prefetch *pf)
{
    if (pf->state == PF_QUEUED || pf->state == PF_DONE) {
        pf->state = PF_IDLE;
        pf->n_dropped++;
    } else if (pf->state == PF_RUNNING) {
        pf->cancel = 1;
        while (pf->state == PF_RUNNING)
            pthread_cond_wait(&pf->cv, &pf->mu);
        pf->cancel = 0;
        if (pf->state == PF_DONE) /* it finished before it saw the flag */
            pf->n_dropped++;
        pf->state = PF_IDLE;
    }
}

static void pf_drop(struct vn_train_prefetch *pf)
{
    if (!pf)
        return;
    pthread_mutex_lock(&pf->mu);
    pf_drop_locked(pf);
    pthread_mutex_unlock(&pf->mu);
}

static void pf_destroy(struct vn_train_prefetch *pf)
{
    if (!pf)
        return;
    pthread_mutex_lock(&pf->mu);
    pf->quit = 1; /* a running render stops at its next clip */
    pthread_cond_broadcast(&pf->cv);
    pthread_mutex_unlock(&pf->mu);
    pthread_join(pf->thread, NULL);
    pthread_cond_destroy(&pf->cv);
    pthread_mutex_destroy(&pf->mu);
    free(pf->clips);
    free(pf->labels);
    free(pf);
}

/* Start rendering batch j. Without memory for it, nothing: the caller will render it. */
static void pf_submit(struct vn_train_prefetch *pf, const pf_job *j)
{
    const vn_train_data *d = &pf->src;
    int64_t per = d->C * d->Tsrc * d->H * d->H;
    pthread_mutex_lock(&pf->mu);
    pf_drop_locked(pf);
    if (j->B > pf->cap) {
        /* the thread is idle: the buffers are ours */
        free(pf->clips);
        free(pf->labels);
        pf->clips = malloc((size_t)(j->B * per) * sizeof *pf->clips);
        pf->labels = malloc((size_t)j->B * sizeof *pf->labels);
        pf->cap = pf->clips && pf->labels ? j->B : 0;
    }
    if (j->B <= pf->cap) {
        pf->job = *j;
        pf->state = PF_QUEUED;
        pf->submit_t = mono_s();
        pthread_cond_broadcast(&pf->cv);
    }
    pthread_mutex_unlock(&pf->mu);
}

/* The background render of batch j into the caller's buffers: 1 when there was one (its
 * status in *st, and vn_last_error set on failure), 0 when the caller must render the
 * batch (whatever else was in flight is dropped). With swap, *clips and the background
 * buffer trade places (the caller's holds at least j->B clips); otherwise the clips are
 * copied. */
static int pf_take(struct vn_train_prefetch *pf, const pf_job *j, float **clips, int swap, int32_t *labels,
                   vn_status *st)
{
    int64_t per = pf->src.C * pf->src.Tsrc * pf->src.H * pf->src.H;
    int got = 0;
    pthread_mutex_lock(&pf->mu);
    if (pf->state != PF_IDLE && job_eq(&pf->job, j)) {
        if (pf->state == PF_DONE) {
            pf->ready++;
        } else {
            double t0 = mono_s();
            while (pf->state == PF_QUEUED || pf->state == PF_RUNNING)
                pthread_cond_wait(&pf->cv, &pf->mu);
            pf->wait_s += mono_s() - t0;
        }
        /* only this thread drops renders, so this one finished */
        got = 1;
        pf->hits++;
        *st = pf->status;
        if (pf->status) {
            vn_error(pf->status, "%s", pf->msg);
        } else if (swap) {
            float *mine = *clips;
            *clips = pf->clips;
            pf->clips = mine;
            pf->cap = j->B; /* what the caller's buffer is known to hold */
            memcpy(labels, pf->labels, (size_t)j->B * sizeof *labels);
        } else {
            double t0 = mono_s();
            memcpy(*clips, pf->clips, (size_t)(j->B * per) * sizeof **clips);
            memcpy(labels, pf->labels, (size_t)j->B * sizeof *labels);
            pf->copy_s += mono_s() - t0;
        }
        pf->state = PF_IDLE;
    } else {
        pf_drop_locked(pf);
    }
    pthread_mutex_unlock(&pf->mu);
    return got;
}

vn_status vn_train_data_prefetch(vn_train_data *d, int on, int nice)
{
    if (!on || !d->world) {
        pf_destroy(d->pf);
        d->pf = NULL;
        return VN_OK;
    }
    if (d->pf)
        return VN_OK;
    struct vn_train_prefetch *pf = calloc(1, sizeof *pf);
    if (!pf)
        return vn_error(VN_ERR_OUT_OF_MEMORY, "training data: out of memory for the prefetch");
    pf->src = *d;
    pf->src.pf = NULL;
    pf->src.lab = NULL;
    pf->nice = nice;
    pthread_mutex_init(&pf->mu, NULL);
    pthread_cond_init(&pf->cv, NULL);
    /* the thread takes no signals: they are for the caller's threads */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int err = pthread_create(&pf->thread, NULL, pf_main, pf);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err) {
        pthread_cond_destroy(&pf->cv);
        pthread_mutex_destroy(&pf->mu);
        free(pf);
        return vn_error(VN_ERR_INTERNAL, "training data: cannot start the prefetch thread: %s", strerror(err));
    }
    d->pf = pf;
    return VN_OK;
}

int vn_train_prefetch_env(void)
{
    const char *v = getenv("VN_TRAIN_PREFETCH");
    if (!v || !v[0] || !strcmp(v, "auto"))
        return -1;
    return strcmp(v, "0") != 0;
}

void vn_train_data_get_stats(const vn_train_data *d, vn_train_data_stats *s)
{
    memset(s, 0, sizeof *s);
    s->sync_batches = d->sync_batches;
    s->sync_render_s = d->sync_render_s;
    s->next_calls = d->next_calls;
    s->next_s = d->next_s;
    struct vn_train_prefetch *pf = d->pf;
    if (!pf)
        return;
    s->prefetch = 1;
    pthread_mutex_lock(&pf->mu);
    s->bg_batches = pf->n_batches;
    s->bg_render_s = pf->render_s;
    s->bg_cpu_s = pf->cpu_s;
    s->bg_cancelled = pf->n_dropped;
    s->hits = pf->hits;
    s->copy_s = pf->copy_s;
    s->ready = pf->ready;
    s->bg_wait_s = pf->wait_s;
    s->bg_queue_s = pf->queue_s;
    pthread_mutex_unlock(&pf->mu);
}

void vn_train_data_fail_clip(vn_train_data *d, int64_t clip)
{
    pf_drop(d->pf);
    d->fail_clip = clip;
}

static vn_status next_world(vn_train_data *d, float **clips, int swap, int32_t *labels, int64_t B)
{
    pf_job j = job_of(d, B);
    vn_status st = VN_OK;
    if (!d->pf || !pf_take(d->pf, &j, clips, swap, labels, &st)) {
        double t0 = mono_s();
        st = render_batch(d, &j, *clips, labels);
        d->sync_render_s += mono_s() - t0;
        d->sync_batches++;
    }
    if (st)
        return st; /* the position stays: a retry renders the same batch */
    d->pos += (int64_t)(j.n_shards > 0 ? j.n_shards : 1) * B;
    if (d->pf) {
        pf_job next = job_of(d, B);
        pf_submit(d->pf, &next);
    }
    return VN_OK;
}

static vn_status next_file(vn_train_data *d, float *clips, int32_t *labels, int64_t B)
{
    int64_t shape[5] = {B, d->C, d->Tsrc, d->H, d->H};
    vn_tensor t;
    vn_tensor_init(&t, clips, VN_DTYPE_F32, 5, shape);
    int64_t *lab = d->lab;
    for (int attempt = 0; attempt < 2; attempt++) {
        int64_t n = 0;
        vn_status st = vn_loader_next(d->loader, &t, lab, NULL, &n);
        if (st == VN_ERR_END) {
            d->epoch++;
            d->epoch_batches = 0;
            st = vn_loader_start_epoch(d->loader, d->epoch);
            if (st)
                return st;
            continue;
        }
        if (st)
            return st;
        if (n != B)
            return vn_error(VN_ERR_INTERNAL, "training data: the loader gave %lld clips, not %lld", (long long)n,
                            (long long)B);
        for (int64_t i = 0; i < B; i++)
            labels[i] = (int32_t)lab[i];
        d->epoch_batches++;
        d->pos += (int64_t)(d->n_shards > 0 ? d->n_shards : 1) * B;
        return VN_OK;
    }
    return vn_error(VN_ERR_IO, "training data: a whole epoch gave no batch (every video failed to load?)");
}

vn_status vn_train_data_shard(vn_train_data *d, int shard, int n_shards, int64_t batch)
{
    pf_drop(d->pf); /* a batch of the old shard */
    d->shard = shard;
    d->n_shards = n_shards;
    if (d->world || n_shards <= 1)
        return VN_OK;
    /* file data: a loader over this replica's rows only, with the same options */
    vn_loader *mine = NULL;
    vn_status st = vn_loader_create_shard(&mine, d->loader, shard, n_shards);
    if (st)
        return st;
    int64_t n = 0;
    vn_loader_size(mine, &n);
    if (n < batch) {
        vn_loader_destroy(mine);
        return vn_error(VN_ERR_INVALID_ARG,
                        "training data: a shard of %d has %lld videos of %lld, fewer than one batch of %lld",
                        n_shards, (long long)n, (long long)d->n_items, (long long)batch);
    }
    if ((st = vn_loader_start_epoch(mine, 0))) {
        vn_loader_destroy(mine);
        return st;
    }
    vn_loader_destroy(d->loader);
    d->loader = mine;
    d->n_items = n;
    d->pos = d->epoch = d->epoch_batches = 0;
    return VN_OK;
}

static vn_status next(vn_train_data *d, float **clips, int swap, int32_t *labels, int64_t B)
{
    double t0 = mono_s();
    vn_status st = d->world ? next_world(d, clips, swap, labels, B) : next_file(d, *clips, labels, B);
    d->next_s += mono_s() - t0;
    d->next_calls++;
    return st;
}

vn_status vn_train_data_next(vn_train_data *d, float *clips, int32_t *labels, int64_t B)
{
    return next(d, &clips, 0, labels, B);
}

vn_status vn_train_data_next_swap(vn_train_data *d, float **clips, int32_t *labels, int64_t B)
{
    return next(d, clips, 1, labels, B);
}

vn_status vn_train_data_seek(vn_train_data *d, int64_t pos, int64_t epoch, int64_t epoch_batches)
{
    if (pos < 0 || epoch < 0 || epoch_batches < 0)
        return vn_error(VN_ERR_FORMAT, "training data: a negative position (%lld, %lld, %lld)", (long long)pos,
                        (long long)epoch, (long long)epoch_batches);
    if (d->world) {
        if (pos != d->pos)
            pf_drop(d->pf); /* the batch in flight is not the one asked for next */
        d->pos = pos;
        return VN_OK;
    }
    /* The loader's order and augmentation are a pure function of (seed, epoch, item), so
     * replaying the epoch's first batches lands exactly where the saved run was. */
    vn_status st = vn_loader_start_epoch(d->loader, epoch);
    if (st)
        return st;
    d->epoch = epoch;
    d->epoch_batches = 0;
    int64_t shape[5];
    vn_loader_batch_shape(d->loader, shape);
    int64_t B = shape[0], per = shape[1] * shape[2] * shape[3] * shape[4];
    float *tmp = malloc((size_t)(B * per) * sizeof(float));
    int32_t *lab = malloc((size_t)B * sizeof(int32_t));
    if (!tmp || !lab) {
        free(tmp);
        free(lab);
        return vn_error(VN_ERR_OUT_OF_MEMORY, "training data: out of memory replaying the epoch");
    }
    for (int64_t b = 0; b < epoch_batches && st == VN_OK; b++)
        st = next_file(d, tmp, lab, B);
    free(tmp);
    free(lab);
    if (st == VN_OK && (d->epoch != epoch || d->epoch_batches != epoch_batches))
        st = vn_error(VN_ERR_FORMAT, "training data: the saved position (epoch %lld, batch %lld) is past the epoch's end",
                      (long long)epoch, (long long)epoch_batches);
    d->pos = pos;
    return st;
}
