/*
 * data.c: the trainer's clip sources. World data is rendered on the fly from a clip
 * counter, so its position is one integer; file data goes through vn_loader, whose
 * order is a pure function of (seed, epoch), so its position is the epoch and the
 * batches taken in it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    vn_status st;
    if (!strncmp(spec, "world:", 6))
        st = open_world(d, spec + 6, seed);
    else
        st = open_loader(d, spec, seed, batch, n_workers, augment);
    if (st)
        vn_train_data_close(d);
    return st;
}

void vn_train_data_close(vn_train_data *d)
{
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

static vn_status next_world(vn_train_data *d, float *clips, int32_t *labels, int64_t B)
{
    int64_t per = d->C * d->Tsrc * d->H * d->H;
    int64_t shape[4] = {d->C, d->Tsrc, d->H, d->H};
    vn_status first = VN_OK;
    /* vn_last_error is per thread: the worker's message is carried back by hand */
    char msg[512] = "";
    vn_world_task first_task = VN_TASK_AOT;
    int64_t first_index = 0;
#pragma omp parallel for schedule(dynamic, 1) num_threads(d->n_threads)
    for (int64_t i = 0; i < B; i++) {
        vn_world_task task;
        int64_t index;
        world_item(d, d->pos + (int64_t)d->shard * B + i, &task, &index);
        vn_tensor t;
        vn_tensor_init(&t, clips + i * per, VN_DTYPE_F32, 4, shape);
        int label = -1;
        vn_status st = vn_world_clip(d->world, task, index, &t, &label);
        labels[i] = label;
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
    d->pos += (int64_t)(d->n_shards > 0 ? d->n_shards : 1) * B;
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

vn_status vn_train_data_next(vn_train_data *d, float *clips, int32_t *labels, int64_t B)
{
    return d->world ? next_world(d, clips, labels, B) : next_file(d, clips, labels, B);
}

vn_status vn_train_data_seek(vn_train_data *d, int64_t pos, int64_t epoch, int64_t epoch_batches)
{
    if (pos < 0 || epoch < 0 || epoch_batches < 0)
        return vn_error(VN_ERR_FORMAT, "training data: a negative position (%lld, %lld, %lld)", (long long)pos,
                        (long long)epoch, (long long)epoch_batches);
    if (d->world) {
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
