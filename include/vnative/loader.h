/** @file
 * vnative/loader.h: a threaded, prefetching batch loader over a manifest or directory.
 *
 * Worker threads decode and transform clips into a bounded queue of batches, so
 * memory stays bounded by the queue depth. The shuffle is deterministic per
 * (seed, epoch), and every clip gets its own augmentation seed derived from
 * (seed, epoch, item), so a batch is reproducible whatever the thread timing.
 *
 * Corrupt, unreadable or too-slow files are skipped: each is counted and logged once
 * (VN_LOG_WARN) with its reason, and the epoch goes on.
 *
 * Thread safety: one thread calls a loader's functions; its workers are internal.
 */
#ifndef VNATIVE_LOADER_H
#define VNATIVE_LOADER_H

#include "vnative/common.h"
#include "vnative/tensor.h"
#include "vnative/video.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A batch loader over a manifest or directory (opaque). */
typedef struct vn_loader vn_loader;

/** Options of vn_loader_create. */
typedef struct vn_loader_options {
    unsigned int version;                  /**< VN_LOADER_OPTIONS_VERSION */
    const char *source;                    /**< a CSV manifest (path[,label][,start_s,end_s]) or a directory */
    int batch_size;                        /**< >= 1 */
    int n_workers;                         /**< decode threads; 0: 2 */
    int prefetch;                          /**< batches ready ahead of the consumer; 0: 2 */
    int shuffle;                           /**< 1: a new deterministic order every epoch */
    int drop_last;                         /**< 1: drop a final batch smaller than batch_size */
    uint64_t seed;                         /**< the shuffle and the per-clip augmentation seeds */
    double timeout_s;                      /**< per-file limit; a file that takes longer is skipped. 0: 30 s */
    vn_dtype dtype;                        /**< VN_DTYPE_F32 (N,C,T,H,W) or VN_DTYPE_U8 (N,T,H,W,C) */
    const vn_clip_options *clip;           /**< copied at create; NULL: VN_CLIP_OPTIONS_INIT with a random start */
    const vn_transform_options *transform; /**< copied at create; NULL: no transform (needs equal-sized videos) */
} vn_loader_options;

#define VN_LOADER_OPTIONS_VERSION 1 /**< the version of vn_loader_options this header describes */
/** Static initialiser of vn_loader_options: the current version and the defaults. */
#define VN_LOADER_OPTIONS_INIT { VN_LOADER_OPTIONS_VERSION, NULL, 8, 0, 0, 1, 0, 0, 0.0, VN_DTYPE_F32, NULL, NULL }

/** Fill *opts with the defaults of the given version (VN_LOADER_OPTIONS_VERSION). */
VN_API vn_status vn_loader_options_init(vn_loader_options *opts, unsigned int version);

/** Read the manifest or list the directory (video files by extension, sorted by name).
 * Does not open the videos: bad files are found and skipped while loading. The one
 * exception is a transform without crop_size: then the clip size depends on the videos,
 * so the first one that opens fixes it and videos of another size are skipped. */
VN_API vn_status vn_loader_create(vn_loader **out, const vn_loader_options *opts);

/** Stops the workers and frees everything; NULL is a no-op. */
VN_API void vn_loader_destroy(vn_loader *loader);

/** Number of items (manifest rows or files). */
VN_API vn_status vn_loader_size(const vn_loader *loader, int64_t *n_items);

/** The shape of a full batch: 5 entries, (N,C,T,H,W) for F32 or (N,T,H,W,C) for U8. */
VN_API vn_status vn_loader_batch_shape(const vn_loader *loader, int64_t *shape);

/** Begin an epoch: fixes the order from (seed, epoch) and starts the workers. */
VN_API vn_status vn_loader_start_epoch(vn_loader *loader, int64_t epoch);

/** Copy the next batch into clips (shaped as vn_loader_batch_shape, any strides) and,
 * when not NULL, the labels (-1 where the manifest has none) and item indices into
 * arrays of batch_size entries. *n_clips receives the clips in this batch (the last
 * one may be short). Returns VN_ERR_END when the epoch is over. */
VN_API vn_status vn_loader_next(vn_loader *loader, vn_tensor *clips, int64_t *labels, int64_t *items,
                                int64_t *n_clips);

/** Counters of a loader (vn_loader_get_stats). */
typedef struct vn_loader_stats {
    unsigned int version;    /**< VN_LOADER_STATS_VERSION */
    int64_t n_items;         /**< in the source */
    int64_t n_loaded;        /**< clips delivered this epoch */
    int64_t n_skipped;       /**< items skipped this epoch (corrupt, unreadable, timed out) */
    int64_t n_skipped_total; /**< distinct items ever skipped */
    int64_t queue_peak;      /**< most batches queued at once */
} vn_loader_stats;

#define VN_LOADER_STATS_VERSION 1 /**< the version of vn_loader_stats this header describes */
/** Static initialiser of vn_loader_stats: the current version and the defaults. */
#define VN_LOADER_STATS_INIT { VN_LOADER_STATS_VERSION, 0, 0, 0, 0, 0 }

/** Fill *stats; the caller sets stats->version (VN_LOADER_STATS_INIT does). */
VN_API vn_status vn_loader_get_stats(const vn_loader *loader, vn_loader_stats *stats);

#ifdef __cplusplus
}
#endif

#endif
