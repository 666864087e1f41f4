/** @file
 * vnative/world.h: procedural physics clips with known temporal labels.
 *
 * Every binary task is built so that, across its two classes, single frames have
 * the same distribution: only how frames follow each other carries the label, so a
 * bag-of-images model is at chance by construction. A clip is a pure function of
 * (world seed, task, index): the same arguments give the same bytes on any thread.
 *
 * Thread safety: a vn_world is immutable after creation and may be shared by any
 * number of threads.
 */
#ifndef VNATIVE_WORLD_H
#define VNATIVE_WORLD_H

#include "vnative/common.h"
#include "vnative/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The world's tasks: six binary ones and future-clip retrieval. */
typedef enum vn_world_task {
    VN_TASK_AOT = 0,       /**< irreversible dynamics played forward (1) or reversed (0) */
    VN_TASK_GRAVITY = 1,   /**< gravity points down (1) or up (0) in a toroidal, lossless world */
    VN_TASK_COLLISION = 2, /**< B moves because A hit it (1), or not (0) */
    VN_TASK_ORDER = 3,     /**< frames in order (1) or shuffled (0) */
    VN_TASK_SPEED = 4,     /**< playback stride 2 (1) or 1 (0) */
    VN_TASK_INTPHYS = 5,   /**< physically plausible (1) or not (0) */
    VN_TASK_FUTURE = 6     /**< context and candidate continuations, for retrieval */
} vn_world_task;

#define VN_WORLD_TASK_COUNT 7 /**< number of vn_world_task values */

/** "aot", "gravity", "collision", "order", "speed", "intphys", "future"; "unknown" otherwise. */
VN_API const char *vn_world_task_name(vn_world_task task);
/** Parse a task name as vn_world_task_name gives it. */
VN_API vn_status vn_world_task_from_name(const char *name, vn_world_task *out);

/** Options of vn_world_create: the seed, the clips' size and look, the future task's shape. */
typedef struct vn_world_options {
    unsigned int version;  /**< VN_WORLD_OPTIONS_VERSION */
    uint64_t seed;         /**< every clip is a pure function of this seed, the task and the index */
    int n_frames;          /**< frames per clip, 2..4096 */
    int size;              /**< square frame side in pixels, 16..256 */
    int channels;          /**< 3 (RGB) or 1 (gray) */
    float noise;           /**< std of per-pixel noise in [0, 1] units; 0: none */
    float jitter;          /**< max camera jitter in whole pixels, up to size / 4; 0: a still camera */
    int textured;          /**< 1: a static random-texture background; 0: flat */
    int n_threads;         /**< threads vn_world_batch (and a large vn_world_future query) uses; 0: every core */
    float mean[3];         /**< float output: (x/255 - mean) / std per channel; gray uses [0] */
    float std[3];          /**< float output: (x/255 - mean) / std per channel; gray uses [0] */
    int future_context;    /**< future task: context frames, 1..n_frames - 2 (the rest is the continuation);
                                checked by vn_world_future, not vn_world_create */
    int future_candidates; /**< future task: candidates per query, 3..64 (true, reversed, shifted, others) */
} vn_world_options;

#define VN_WORLD_OPTIONS_VERSION 1 /**< the version of vn_world_options this header describes */
/** Static initialiser of vn_world_options: the current version and the defaults. */
#define VN_WORLD_OPTIONS_INIT                                                                     \
    { VN_WORLD_OPTIONS_VERSION, 0, 16, 64, 3, 0.02f, 0.0f, 1, 0, {0.5f, 0.5f, 0.5f},            \
      {0.25f, 0.25f, 0.25f}, 8, 8 }

/** Fill *opts with the defaults of the given version (VN_WORLD_OPTIONS_VERSION). */
VN_API vn_status vn_world_options_init(vn_world_options *opts, unsigned int version);

/** A procedural physics world (opaque, immutable). */
typedef struct vn_world vn_world;

/** Create a world; opts may be NULL for the defaults. */
VN_API vn_status vn_world_create(vn_world **out, const vn_world_options *opts);
/** NULL is a no-op. */
VN_API void vn_world_destroy(vn_world *world);

/** Render clip index (>= 0) of a binary task into out: uint8 [T, H, W, C] or float32
 * [C, T, H, W] (any strides), and its label (0 or 1) into *label when not NULL. The
 * labels of indices 2k and 2k+1 differ, so any even-sized range is balanced.
 * VN_TASK_FUTURE has no single clip and label: it gives VN_ERR_INVALID_ARG (use
 * vn_world_future). */
VN_API vn_status vn_world_clip(const vn_world *world, vn_world_task task, int64_t index, vn_tensor *out,
                               int *label);

/** Render clips first_index..first_index+N-1 into out (uint8 [N,T,H,W,C] or float32
 * [N,C,T,H,W]) on the world's threads, and their labels into labels (N entries) when
 * not NULL. Identical to N calls of vn_world_clip. */
VN_API vn_status vn_world_batch(const vn_world *world, vn_world_task task, int64_t first_index, vn_tensor *out,
                                int *labels);

/** The future task. For query index: context frames [Tc, ...] and K candidate
 * continuations [K, Tf, ...] with Tc = future_context, Tf = n_frames - Tc and
 * K = future_candidates, in the layout of the tensors' dtype (uint8 [.., T, H, W, C]
 * or float32 [.., C, T, H, W]). kinds (K entries, may be NULL) says what each candidate
 * is: 0 the true continuation, 1 the true one reversed, 2 shifted in time (by 2 or more
 * frames, either way), 3 from another clip of the same scene (same background and
 * objects, another starting state). *true_index is where the true continuation is. */
VN_API vn_status vn_world_future(const vn_world *world, int64_t index, vn_tensor *context, vn_tensor *candidates,
                                 int *kinds, int *true_index);

/** The scene parameters of a clip as a one-line JSON object, for manifests and
 * debugging. Writes at most cap bytes including the NUL; VN_ERR_SHAPE if cap is too small. */
VN_API vn_status vn_world_describe(const vn_world *world, vn_world_task task, int64_t index, char *buf,
                                   size_t cap);

#ifdef __cplusplus
}
#endif

#endif
