/*
 * The loader's reorder queue (see loader_internal.h for the invariants).
 *
 * Batches are assembled from good clips strictly in epoch-order positions, so the
 * batches of a (seed, epoch) do not depend on which worker finished first; a skipped
 * item simply lets the next good one take its place.
 */
#include "io/loader_internal.h"
#include "core/error.h"

#include <stdlib.h>
#include <string.h>

vn_status vn_loader_queue_init(vn_loader_queue *q, int64_t n_pos, int64_t batch_size, int64_t prefetch,
                               int drop_last, size_t slot_bytes)
{
    memset(q, 0, sizeof *q);
    q->n_pos = n_pos;
    q->batch_size = batch_size;
    q->cap = prefetch * batch_size;
    q->drop_last = drop_last;
    q->slot_bytes = slot_bytes;
    q->state = calloc((size_t)n_pos, 1);
    q->slot_of = calloc((size_t)n_pos, sizeof *q->slot_of);
    q->slots = calloc((size_t)q->cap, sizeof *q->slots);
    q->free_slots = calloc((size_t)q->cap, sizeof *q->free_slots);
    if (!q->state || !q->slot_of || !q->slots || !q->free_slots) {
        vn_loader_queue_free(q);
        return vn_error(VN_ERR_OUT_OF_MEMORY, "loader: out of memory for a queue of %lld positions",
                        (long long)n_pos);
    }
    if (pthread_mutex_init(&q->mu, NULL) != 0) {
        vn_loader_queue_free(q);
        return vn_error(VN_ERR_INTERNAL, "loader: pthread_mutex_init failed");
    }
    if (pthread_cond_init(&q->work_cv, NULL) != 0) {
        pthread_mutex_destroy(&q->mu);
        vn_loader_queue_free(q);
        return vn_error(VN_ERR_INTERNAL, "loader: pthread_cond_init failed");
    }
    if (pthread_cond_init(&q->ready_cv, NULL) != 0) {
        pthread_cond_destroy(&q->work_cv);
        pthread_mutex_destroy(&q->mu);
        vn_loader_queue_free(q);
        return vn_error(VN_ERR_INTERNAL, "loader: pthread_cond_init failed");
    }
    q->sync_live = 1;
    vn_loader_queue_reset_locked(q);
    q->active = 0;
    return VN_OK;
}

void vn_loader_queue_free(vn_loader_queue *q)
{
    if (q->sync_live) {
        pthread_cond_destroy(&q->ready_cv);
        pthread_cond_destroy(&q->work_cv);
        pthread_mutex_destroy(&q->mu);
    }
    if (q->slots)
        for (int64_t i = 0; i < q->cap; i++)
            free(q->slots[i]);
    free(q->slots);
    free(q->free_slots);
    free(q->state);
    free(q->slot_of);
    memset(q, 0, sizeof *q);
}

void vn_loader_queue_reset_locked(vn_loader_queue *q)
{
    memset(q->state, VN_POS_FREE, (size_t)q->n_pos);
    q->next_pos = 0;
    q->consumed_pos = 0;
    q->frontier = 0;
    q->good_ready = 0;
    q->held = 0;
    q->in_flight = 0;
    q->n_loaded = 0;
    q->n_skipped = 0;
    /* Slot numbers pop from the end: keep low slots first so a small epoch touches few buffers. */
    q->n_free = (int32_t)q->cap;
    for (int32_t i = 0; i < (int32_t)q->cap; i++)
        q->free_slots[i] = (int32_t)q->cap - 1 - i;
    q->active = 1;
}

int vn_loader_queue_claim_locked(vn_loader_queue *q, int64_t *pos)
{
    if (!q->active || q->stop || q->next_pos >= q->n_pos || q->held >= q->cap)
        return 0;
    *pos = q->next_pos++;
    q->state[*pos] = VN_POS_BUSY;
    q->held++;
    q->in_flight++;
    return 1;
}

vn_status vn_loader_queue_slot_locked(vn_loader_queue *q, int32_t *slot, void **buf)
{
    /* held <= cap guarantees a free slot for every claimed position. */
    if (q->n_free <= 0)
        return vn_error(VN_ERR_INTERNAL, "loader: no free clip slot although the queue bound allows one");
    int32_t s = q->free_slots[q->n_free - 1];
    if (!q->slots[s]) {
        q->slots[s] = malloc(q->slot_bytes ? q->slot_bytes : 1);
        if (!q->slots[s])
            return vn_error(VN_ERR_OUT_OF_MEMORY, "loader: out of memory for a clip buffer of %zu bytes",
                            q->slot_bytes);
    }
    q->n_free--;
    int64_t used = q->cap - q->n_free;
    if (used > q->slots_peak)
        q->slots_peak = used;
    *slot = s;
    *buf = q->slots[s];
    return VN_OK;
}

/* Ready batches: full ones, plus the short last one once every position is resolved. */
static int64_t ready_batches(const vn_loader_queue *q)
{
    int64_t n = q->good_ready / q->batch_size;
    if (q->frontier == q->n_pos && q->good_ready % q->batch_size && !q->drop_last)
        n++;
    return n;
}

void vn_loader_queue_resolve_locked(vn_loader_queue *q, int64_t pos, int good, int32_t slot)
{
    q->in_flight--;
    if (good) {
        q->state[pos] = VN_POS_GOOD;
        q->slot_of[pos] = slot;
    } else {
        q->state[pos] = VN_POS_BAD;
        q->held--;
        q->n_skipped++;
        if (slot >= 0)
            q->free_slots[q->n_free++] = slot;
    }
    while (q->frontier < q->n_pos && q->state[q->frontier] >= VN_POS_GOOD) {
        if (q->state[q->frontier] == VN_POS_GOOD)
            q->good_ready++;
        q->frontier++;
    }
    int64_t ready = ready_batches(q);
    if (ready > q->queue_peak)
        q->queue_peak = ready;
    pthread_cond_broadcast(&q->ready_cv);
    if (!good)
        pthread_cond_broadcast(&q->work_cv);
}

int64_t vn_loader_queue_ready_locked(const vn_loader_queue *q)
{
    if (q->good_ready >= q->batch_size)
        return q->batch_size;
    if (q->frontier < q->n_pos)
        return 0;
    if (q->good_ready == 0 || q->drop_last)
        return -1;
    return q->good_ready;
}

void vn_loader_queue_peek_locked(const vn_loader_queue *q, int64_t k, int64_t *positions, int32_t *slots)
{
    int64_t got = 0;
    for (int64_t p = q->consumed_pos; got < k && p < q->frontier; p++)
        if (q->state[p] == VN_POS_GOOD) {
            positions[got] = p;
            slots[got] = q->slot_of[p];
            got++;
        }
}

void vn_loader_queue_release_locked(vn_loader_queue *q, int64_t k, int64_t last_pos, const int32_t *slots)
{
    for (int64_t i = 0; i < k; i++)
        q->free_slots[q->n_free++] = slots[i];
    q->held -= k;
    q->good_ready -= k;
    q->n_loaded += k;
    q->consumed_pos = last_pos + 1;
    pthread_cond_broadcast(&q->work_cv);
}
