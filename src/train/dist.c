/*
 * dist.c: data parallelism (vn_trainer_set_dist): the replicas' shards of the data, the
 * all-reduce of the gradients between backward and update, and the averaged metrics.
 * The transport is the caller's (the vnative CLI brings Open MPI, src/cli/dist_mpi.c):
 * this file only decides what is summed, in which order, and in what pieces.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/profile.h"
#include "train/train_internal.h"

/* Floats per all-reduce call: large enough that per-call latency does not matter, small
 * enough that a device's gradients are staged through a bounded host buffer. */
#define DIST_BUCKET ((int64_t)1 << 22)

vn_status vn_trainer_set_dist(vn_trainer *tr, const vn_train_dist *d)
{
    VN_CHECK_NULL(tr);
    VN_CHECK_NULL(d);
    VN_CHECK_VERSION(__func__, "vn_train_dist", d->version, VN_TRAIN_DIST_VERSION, "VN_TRAIN_DIST_INIT");
    if (d->world_size < 1 || d->rank < 0 || d->rank >= d->world_size)
        return vn_error(VN_ERR_INVALID_ARG, "%s: rank %d of world_size %d; it must be 0 <= rank < world_size",
                        __func__, d->rank, d->world_size);
    if (d->world_size > 1 && !d->allreduce_sum)
        return vn_error(VN_ERR_INVALID_ARG, "%s: world_size %d needs an allreduce_sum", __func__, d->world_size);
    if (tr->step > 0 || tr->clips_seen > 0)
        return vn_error(VN_ERR_STATE, "%s: the trainer has taken %lld steps; set data parallelism before the first",
                        __func__, (long long)tr->step);
    if (d->world_size > 1 && tr->nn.dev && !tr->dist_host) {
        tr->dist_host = malloc((size_t)DIST_BUCKET * sizeof(float));
        if (!tr->dist_host)
            return vn_error(VN_ERR_OUT_OF_MEMORY, "%s: out of memory for the all-reduce staging buffer", __func__);
    }
    const vn_be *be = tr->nn.be;
    int device = d->world_size > 1 && d->comm_id;
    if (device && !vn_be_supports(be, VN_OP_ALLREDUCE))
        return vn_error(VN_ERR_UNSUPPORTED, "%s: comm_id is set, but the %s backend has no collectives", __func__,
                        be->table->name);
    if (device && (tr->dist_device || tr->dist.world_size > 1))
        return vn_error(VN_ERR_STATE, "%s: data parallelism is already set up", __func__);
    vn_status st = vn_train_data_shard(&tr->data, d->rank, d->world_size, tr->B);
    if (!st && tr->have_eval)
        st = vn_train_data_shard(&tr->eval, d->rank, d->world_size, tr->B);
    /* every replica waits here until the whole group has joined */
    if (!st && device && (st = be->table->comm_init(be->state, d->comm_id, d->comm_id_len, d->rank, d->world_size)))
        st = vn_error_prefix(st, "joining the group of %d: ", d->world_size);
    if (st) {
        /* the data may be split already: training on a shard as one replica would
         * silently see a fraction of it, so the trainer refuses from here on */
        tr->half_sharded = d->world_size > 1;
        return vn_error_prefix(st, "%s: ", __func__);
    }
    tr->dist = *d;
    tr->dist.comm_id = NULL; /* the caller's bytes; the communicator holds what it needs */
    tr->dist.comm_id_len = 0;
    tr->dist_device = device;
    return VN_OK;
}

/* The caller's all-reduce, its message made ours. */
static vn_status allreduce(vn_trainer *tr, float *buf, int64_t n)
{
    char msg[512] = "";
    vn_status st = tr->dist.allreduce_sum(tr->dist.user, buf, n, msg, sizeof msg);
    if (st != VN_OK)
        return vn_error(st, "%s", msg[0] ? msg : "the all-reduce failed (no message)");
    return VN_OK;
}

/* Sum n floats of engine memory across the replicas and divide by world_size. A device's
 * floats go through the host staging buffer (the transport reads host memory). */
static vn_status reduce_range(vn_trainer *tr, float *g, int64_t n)
{
    const float inv = 1.0f / (float)tr->dist.world_size;
    if (tr->dist_device) {
        /* in device memory, on the stream: no copy through the host */
        const vn_be *be = tr->nn.be;
        vn_status st = be->table->allreduce_sum(be->state, g, n);
        return st ? vn_error_prefix(st, "all-reduce of %lld gradient floats on the device: ", (long long)n)
                  : vn_be_scale(be, n, inv, g, g);
    }
    for (int64_t off = 0; off < n; off += DIST_BUCKET) {
        int64_t len = n - off < DIST_BUCKET ? n - off : DIST_BUCKET;
        float *h = tr->nn.dev ? tr->dist_host : g + off;
        vn_status st = tr->nn.dev ? vn_nn_download(&tr->nn, h, g + off, (size_t)len * sizeof(float)) : VN_OK;
        if (!st)
            st = allreduce(tr, h, len);
        if (st)
            return vn_error_prefix(st, "all-reduce of %lld gradient floats: ", (long long)len);
        for (int64_t i = 0; i < len; i++)
            h[i] *= inv;
        if (tr->nn.dev && (st = vn_nn_upload(&tr->nn, g + off, h, (size_t)len * sizeof(float))))
            return st;
    }
    return VN_OK;
}

/* The groups' gradients lie in a few arenas (encoder, heads, predictor), tensor after
 * tensor: runs of adjacent groups go as one range, cut into buckets. */
vn_status vn_train_dist_gradients(vn_trainer *tr)
{
    if (tr->dist.world_size <= 1)
        return VN_OK;
    VN_PROF(tr->nn.prof, VN_PROF_ALLREDUCE);
    for (int g = 0; g < tr->n_groups;) {
        float *start = tr->groups[g].grad;
        int64_t n = tr->groups[g].n;
        int h = g + 1;
        while (h < tr->n_groups && tr->groups[h].grad == start + n)
            n += tr->groups[h++].n;
        vn_status st = reduce_range(tr, start, n);
        if (st)
            return st;
        g = h;
    }
    return VN_OK;
}

/* Loss, per-objective losses and accuracies, averaged; inactive objectives stay NaN. */
vn_status vn_train_dist_metrics(vn_trainer *tr, vn_train_metrics *m)
{
    if (tr->dist.world_size <= 1)
        return VN_OK;
    float v[1 + 2 * VN_OBJECTIVE_COUNT];
    v[0] = m->loss;
    memcpy(v + 1, m->losses, sizeof m->losses);
    memcpy(v + 1 + VN_OBJECTIVE_COUNT, m->accuracy, sizeof m->accuracy);
    int64_t n = (int64_t)(sizeof v / sizeof v[0]);
    vn_status st = allreduce(tr, v, n);
    if (st)
        return vn_error_prefix(st, "all-reduce of the metrics: ");
    for (int64_t i = 0; i < n; i++)
        v[i] /= (float)tr->dist.world_size;
    m->loss = v[0];
    memcpy(m->losses, v + 1, sizeof m->losses);
    memcpy(m->accuracy, v + 1 + VN_OBJECTIVE_COUNT, sizeof m->accuracy);
    return VN_OK;
}
