/* Internals of vn_loader, shared by loader.c, loader_manifest.c, loader_item.c and
 * loader_queue.c. Tests include this header to check parsing and queue bounds directly. */
#ifndef VN_IO_LOADER_INTERNAL_H
#define VN_IO_LOADER_INTERNAL_H

#include <pthread.h>
#include <stdint.h>

#include "vnative/loader.h"

/* ---- the item list: manifest rows or directory entries ----------------------------- */

typedef struct vn_loader_item {
    char *path;      /* absolute or relative to the process's cwd; resolved at parse time */
    int64_t label;   /* -1 when the source gives none */
    double start_s;  /* the sampling range [start_s, end_s); start_s < 0: the whole video */
    double end_s;
} vn_loader_item;

typedef struct vn_loader_items {
    vn_loader_item *v;
    int64_t n;
    int64_t cap;
    int from_manifest; /* 0: a directory listing */
} vn_loader_items;

/* Read a CSV manifest or list a directory, by what source is. */
vn_status vn_loader_items_read(const char *source, vn_loader_items *out);
vn_status vn_loader_items_read_manifest(const char *path, vn_loader_items *out);
vn_status vn_loader_items_read_directory(const char *path, vn_loader_items *out);
void vn_loader_items_free(vn_loader_items *items);

/* Keep shard `shard` of n_shards of the items: those at index shard, shard + n_shards,
 * ..., cut to floor(n / n_shards) so that every shard has the same count (replicas of
 * data-parallel training then agree on the length of an epoch). */
void vn_loader_items_shard(vn_loader_items *items, int shard, int n_shards);

/* A loader with like's options over one shard of its items (vn_loader_items_shard). */
vn_status vn_loader_create_shard(vn_loader **out, const vn_loader *like, int shard, int n_shards);

/* 1 when name ends in an extension the directory listing treats as video. */
int vn_loader_is_video_name(const char *name);

/* ---- decoding one item --------------------------------------------------------------- */

typedef struct vn_loader_job {
    const vn_loader_item *item;
    const vn_clip_options *clip;           /* the loader's copy; start -1 means random */
    const vn_transform_options *transform; /* NULL: none */
    vn_dtype dtype;
    const int64_t *clip_shape;             /* 4 entries, what every clip must have */
    double timeout_s;
    uint64_t clip_seed;                    /* start draw, for start == -1 */
    uint64_t aug_seed;                     /* crop and flip */
} vn_loader_job;

/* Decode and transform one clip into buf (contiguous, clip_shape). On failure returns the
 * status and leaves the reason in vn_last_error() of the calling thread. */
vn_status vn_loader_load_item(const vn_loader_job *job, void *buf);

/* Open a video just far enough to learn the clip shape these options give it. */
vn_status vn_loader_probe_shape(const char *path, const vn_clip_options *clip, const vn_transform_options *transform,
                                vn_dtype dtype, double timeout_s, int64_t *clip_shape);

/* ---- the in-order reorder queue ------------------------------------------------------ *
 * Positions of an epoch's order are claimed by workers in increasing order and resolved
 * (good or bad) in any order; the consumer takes good clips strictly in position order.
 * A worker may claim a position only while the clips held (decoded, not yet taken) plus
 * those in flight stay below cap = prefetch * batch_size, so at most `prefetch` batches
 * are ever ready and memory is cap clip buffers whatever the consumer's speed. */

enum { VN_POS_FREE = 0, VN_POS_BUSY = 1, VN_POS_GOOD = 2, VN_POS_BAD = 3 };

typedef struct vn_loader_queue {
    pthread_mutex_t mu;
    pthread_cond_t work_cv;  /* workers wait here for a position they may claim */
    pthread_cond_t ready_cv; /* the consumer waits here for a batch; start_epoch for in_flight 0 */

    int64_t n_pos;           /* positions this epoch (the item count) */
    unsigned char *state;    /* VN_POS_* per position */
    int32_t *slot_of;        /* slot per GOOD position */

    int64_t next_pos;        /* first position not yet claimed */
    int64_t consumed_pos;    /* first position the consumer has not passed */
    int64_t frontier;        /* first unresolved position at or after consumed_pos */
    int64_t good_ready;      /* GOOD positions in [consumed_pos, frontier) */
    int64_t held;            /* GOOD positions >= consumed_pos plus those in flight */
    int64_t in_flight;
    int64_t batch_size;
    int64_t cap;             /* prefetch * batch_size clip slots */
    int drop_last;

    void **slots;            /* cap clip buffers, allocated on first use */
    int32_t *free_slots;
    int32_t n_free;
    size_t slot_bytes;

    int active;              /* an epoch is running */
    int stop;                /* the loader is being destroyed */
    int sync_live;           /* mu and the condition variables are initialised */
    uint64_t generation;     /* bumped by every start_epoch, so stale work is dropped */

    int64_t n_loaded;
    int64_t n_skipped;
    int64_t queue_peak;
    int64_t slots_peak;      /* most slots in use at once, for the memory-bound test */
} vn_loader_queue;

vn_status vn_loader_queue_init(vn_loader_queue *q, int64_t n_pos, int64_t batch_size, int64_t prefetch,
                               int drop_last, size_t slot_bytes);
void vn_loader_queue_free(vn_loader_queue *q);
/* Forget the current epoch and make every position claimable again (caller holds mu,
 * with in_flight == 0). */
void vn_loader_queue_reset_locked(vn_loader_queue *q);

/* Caller holds mu. Claim the next position when the bound allows: returns 1 and sets
 * *pos, 0 when the worker must wait. */
int vn_loader_queue_claim_locked(vn_loader_queue *q, int64_t *pos);
/* Caller holds mu. Get a slot buffer for a claimed position (allocating it on first use). */
vn_status vn_loader_queue_slot_locked(vn_loader_queue *q, int32_t *slot, void **buf);
/* Caller holds mu. Record a claimed position's outcome; slot < 0 for a position that
 * never took one. Wakes the consumer. */
void vn_loader_queue_resolve_locked(vn_loader_queue *q, int64_t pos, int good, int32_t slot);

/* Caller holds mu. How many clips the consumer may take now: > 0 a batch is ready,
 * 0 it must wait, -1 the epoch is over. */
int64_t vn_loader_queue_ready_locked(const vn_loader_queue *q);
/* Caller holds mu. The positions and slots of the next k GOOD clips, in order. */
void vn_loader_queue_peek_locked(const vn_loader_queue *q, int64_t k, int64_t *positions, int32_t *slots);
/* Caller holds mu. Give back the k clips taken, ending at position last_pos. */
void vn_loader_queue_release_locked(vn_loader_queue *q, int64_t k, int64_t last_pos, const int32_t *slots);

#endif
