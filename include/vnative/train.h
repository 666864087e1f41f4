/** @file
 * vnative/train.h: self-supervised training of an encoder on objectives built on time.
 *
 * Objectives (weights are composable: "aot=1,future=0.5,jepa=1"):
 *   aot     a binary head on the pooled embedding; each clip is shown forward or reversed
 *           with equal chance, and the head says which. No labels are needed.
 *   order   a binary head: the clip's frames in order, or shuffled.
 *   future  a predictor maps the embedding of a context clip (frames [0, T)) to that of
 *           its continuation (frames [T, 2T)); InfoNCE against the other continuations of
 *           the batch and every reversed continuation (the own one is the hard negative).
 *   jepa    masked latent prediction (V-JEPA): multiblock tube masks (about 90% of the
 *           patch positions, the same in every frame); the context encoder sees only the
 *           visible tokens; a narrow predictor transformer predicts the LayerNorm'd
 *           features of a target encoder at the masked positions (L1 loss); the target
 *           encoder is an EMA of the context encoder, momentum ema_start -> ema_end.
 *   label   supervised classification from the data's labels, for reference runs.
 *
 * Data:
 *   "world:TASK[,TASK...]"  clips streamed from vn_world, nothing on disk. Without the
 *                           label objective only the natural member of each pair is used
 *                           (forward in time, gravity down, in order, plausible); speed
 *                           clips are all natural. With label, every clip and its label.
 *   a CSV manifest or a directory of videos, read through vn_loader with augmentation
 *                           (random resized crop, horizontal flip).
 *
 * A vn_trainer owns an encoder, its gradients, the AdamW state, the heads, the predictor
 * and the EMA target. It is not thread-safe: one thread drives it. The encoder it hands
 * out may be used for encoding between steps.
 *
 * Checkpoints are a directory with two safetensors files, both written atomically:
 *   model.safetensors    the encoder's weights (vn_encoder_load reads it), config in
 *                        `__metadata__`
 *   trainer.safetensors  heads, predictor, EMA target, AdamW moments, step, RNG state and
 *                        data position, so that resuming continues bit-identically (cpu,
 *                        deterministic context).
 */
#ifndef VNATIVE_TRAIN_H
#define VNATIVE_TRAIN_H

#include "vnative/common.h"
#include "vnative/context.h"
#include "vnative/encoder.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The training objectives (see the file comment). */
typedef enum vn_objective {
    VN_OBJECTIVE_AOT = 0,
    VN_OBJECTIVE_ORDER = 1,
    VN_OBJECTIVE_FUTURE = 2,
    VN_OBJECTIVE_JEPA = 3,
    VN_OBJECTIVE_LABEL = 4
} vn_objective;

#define VN_OBJECTIVE_COUNT 5 /**< number of vn_objective values */

/** "aot", "order", "future", "jepa", "label"; "unknown" otherwise. */
VN_API const char *vn_objective_name(vn_objective objective);
/** Parse an objective name as vn_objective_name gives it. */
VN_API vn_status vn_objective_from_name(const char *name, vn_objective *out);

/** Parse "aot=1,future=0.5,jepa" (a bare name has weight 1) into weights[VN_OBJECTIVE_COUNT];
 * objectives not named get 0. Weights must be finite and >= 0, names known and not
 * repeated, and at least one weight > 0. */
VN_API vn_status vn_objectives_parse(const char *spec, float *weights);

/** Metrics of one step or one held-out evaluation. Losses are per objective and
 * unweighted; loss is the weighted sum. Entries of inactive objectives are NaN, as is
 * the accuracy of jepa (a regression). Accuracies are in [0, 1]: aot and order the head's,
 * future top-1 retrieval among the batch's keys, label the classifier's. */
typedef struct vn_train_metrics {
    unsigned int version;                  /**< VN_TRAIN_METRICS_VERSION */
    int is_eval;                           /**< 1: a held-out evaluation, not a step */
    int64_t step;                          /**< optimiser steps done */
    int64_t clips_seen;                    /**< training clips consumed so far */
    float loss;                            /**< the weighted sum of the losses */
    float losses[VN_OBJECTIVE_COUNT];      /**< per objective, unweighted; NaN when inactive */
    float accuracy[VN_OBJECTIVE_COUNT];    /**< per objective, in [0, 1]; NaN when inactive and for jepa */
    float grad_norm;                       /**< before clipping */
    float lr;                              /**< learning rate of the step */
    double clips_per_s;                    /**< of the last step (or the evaluation) */
    double elapsed_s;                      /**< wall time in steps since create or resume */
} vn_train_metrics;

#define VN_TRAIN_METRICS_VERSION 1 /**< the version of vn_train_metrics this header describes */
/** Static initialiser of vn_train_metrics: the current version and the defaults. */
#define VN_TRAIN_METRICS_INIT { VN_TRAIN_METRICS_VERSION, 0, 0, 0, 0.0f, {0}, {0}, 0.0f, 0.0f, 0.0, 0.0 }

/** Called after every step and every evaluation of vn_trainer_run. Return 0 to go on,
 * non-zero to stop (vn_trainer_run then returns VN_OK after that step). */
typedef int (*vn_train_callback)(const vn_train_metrics *metrics, void *user);

/** Options of vn_trainer_create: objectives, data, schedule, optimiser and objective settings. */
typedef struct vn_train_options {
    unsigned int version;    /**< VN_TRAIN_OPTIONS_VERSION */
    const char *objectives;  /**< "aot=1,future=0.5"; NULL: "aot" (copied at create) */
    const char *data;        /**< "world:aot,gravity", a CSV manifest or a directory; NULL: "world:aot" */
    const char *eval_data;   /**< held-out source; NULL: world data uses another world seed,
                                  files have no held-out evaluation */
    int batch;               /**< clips per step, >= 2 */
    int64_t total_steps;     /**< length of the learning-rate schedule, >= 1 */
    float lr;                /**< peak learning rate after warmup */
    float min_lr;            /**< cosine decay floor */
    int64_t warmup_steps;    /**< linear warmup; -1: 5% of total_steps */
    float weight_decay;      /**< AdamW, on weights only (not biases, norms, embeddings) */
    float beta1;             /**< AdamW first-moment decay */
    float beta2;             /**< AdamW second-moment decay */
    float eps;               /**< AdamW epsilon */
    float grad_clip;         /**< global-norm clip; 0: off */
    uint64_t seed;           /**< data order, augmentation, reversals, masks, heads */
    float jepa_mask_ratio;   /**< fraction of patch positions masked, (0, 1) */
    float ema_start;         /**< EMA momentum of the jepa target at the first step */
    float ema_end;           /**< EMA momentum at total_steps (linear in between) */
    int predictor_dim;       /**< the jepa predictor transformer: width */
    int predictor_depth;     /**< the jepa predictor transformer: blocks */
    int predictor_heads;     /**< the jepa predictor transformer: attention heads */
    float future_tau;        /**< InfoNCE temperature */
    int num_classes;         /**< label objective; 0: from the data (2 for world tasks) */
    int64_t eval_every;      /**< steps between held-out evaluations in vn_trainer_run; 0: never */
    int eval_clips;          /**< clips per evaluation */
    int loader_workers;      /**< decode threads for file data; 0: 2 */
    vn_train_callback callback; /**< called after each step and evaluation of vn_trainer_run; may be NULL */
    void *callback_user;     /**< passed to callback */
} vn_train_options;

#define VN_TRAIN_OPTIONS_VERSION 1 /**< the version of vn_train_options this header describes */
/** Static initialiser of vn_train_options: the current version and the defaults. */
#define VN_TRAIN_OPTIONS_INIT                                                                     \
    { VN_TRAIN_OPTIONS_VERSION, NULL, NULL, NULL, 16, 1000, 1e-3f, 1e-5f, -1, 0.05f, 0.9f, 0.999f, \
      1e-8f, 1.0f, 0, 0.9f, 0.998f, 1.0f, 64, 2, 2, 0.1f, 0, 0, 256, 0, NULL, NULL }

/** Fill *opts with the defaults of the given version (VN_TRAIN_OPTIONS_VERSION). */
VN_API vn_status vn_train_options_init(vn_train_options *opts, unsigned int version);
/** Fill *metrics with the defaults of the given version (VN_TRAIN_METRICS_VERSION). */
VN_API vn_status vn_train_metrics_init(vn_train_metrics *metrics, unsigned int version);

/** A trainer: an encoder, its optimiser state, heads and data (opaque). */
typedef struct vn_trainer vn_trainer;

/** A trainer for a fresh encoder built from cfg (its seed sets the initial weights). The
 * data source is opened here, so a missing file or an unknown world task fails now. */
VN_API vn_status vn_trainer_create(vn_trainer **out, vn_context *ctx, const vn_encoder_config *cfg,
                                   const vn_train_options *opts);
/** NULL is a no-op; the encoder it hands out goes with it. */
VN_API void vn_trainer_destroy(vn_trainer *tr);

/** One optimiser step on the next batch. metrics may be NULL. */
VN_API vn_status vn_trainer_step(vn_trainer *tr, vn_train_metrics *metrics);

/** steps optimiser steps, with a held-out evaluation every eval_every steps, calling the
 * callback after each; last (may be NULL) gets the metrics of the last step. */
VN_API vn_status vn_trainer_run(vn_trainer *tr, int64_t steps, vn_train_metrics *last);

/** Every active objective on eval_clips held-out clips (always the same clips, drawn the
 * same way), without changing any weight. VN_ERR_STATE when there is no held-out data. */
VN_API vn_status vn_trainer_evaluate(vn_trainer *tr, vn_train_metrics *metrics);

/** Steps done so far. */
VN_API vn_status vn_trainer_get_step(const vn_trainer *tr, int64_t *step);

/**
 * How training's matrix products multiply (vn_precision, in encoder.h; docs/PRECISION.md).
 * Weights, gradients, optimiser state and every other op stay fp32 whatever is chosen
 * (fp32 master weights): only the operands of the GEMMs are rounded, and their products
 * are summed in fp32. Every GEMM of the step follows it: the encoder's, the heads' and,
 * with jepa, the target encoder's and the predictor's. Which backends have what:
 *   cpu        FP32; BF16 where oneDNN runs bf16 on the CPU's hardware (AMX or
 *              avx512_bf16: Sapphire Rapids, Cooper Lake and later); never TF32.
 *   cuda       FP32, TF32 and BF16 (tensor cores).
 *   reference  FP32, TF32 and BF16, emulated (slow; for checking the others).
 * A precision the backend lacks gives VN_ERR_UNSUPPORTED and changes nothing. Takes
 * effect from the next step; not saved in checkpoints.
 */
VN_API vn_status vn_trainer_set_precision(vn_trainer *tr, vn_precision precision);

/**
 * Data parallelism: world_size replicas of one trainer (one per process, usually one
 * per MPI rank), each given the same config and options. Replica `rank` takes its own
 * shard of every global batch (world data: clips rank*batch .. rank*batch + batch - 1
 * of each block of world_size*batch; file data: see below), so the global batch is
 * world_size * batch. After
 * the backward, allreduce_sum sums every gradient across the replicas (the trainer then
 * divides by world_size), so all replicas take the same optimiser step and hold the same
 * weights. Per-clip random choices (reversals, shuffles, masks) are keyed by the clip's
 * global index, so a world_size-replica run takes the steps a single trainer with the
 * global batch takes, up to the order of floating-point sums.
 *
 * allreduce_sum(user, buf, n, msg, cap) must sum n floats of host memory in place across
 * every replica and return VN_OK, or return a failure status with a message in msg (at
 * most cap bytes: a peer that is gone, a timeout), which becomes vn_last_error(); every
 * replica calls it with the same n in the same order. The metrics
 * of a step and of an evaluation are averaged over the replicas through it too.
 * With comm_id (from vn_context_comm_id of one replica's context, the same bytes on
 * every replica), a backend with collectives (NCCL on cuda) sums the gradients in device
 * memory instead; allreduce_sum still carries the metrics. NULL: through the host.
 * File data is split by rows: replica r reads rows r, r + world_size, ... of the manifest
 * (or directory), cut to the same count for every replica, in its own shuffled order.
 * Set before the first step; checkpoints record world_size, and a resume with another
 * world_size is refused.
 */
typedef struct vn_train_dist {
    unsigned int version;    /**< VN_TRAIN_DIST_VERSION */
    int rank;                /**< this replica, 0..world_size - 1 */
    int world_size;          /**< replicas, >= 1 */
    /** Sum n floats in place across the replicas (see above). */
    vn_status (*allreduce_sum)(void *user, float *buf, int64_t n, char *msg, size_t cap);
    void *user;              /**< passed to allreduce_sum */
    const void *comm_id;     /**< device collectives' group id, or NULL */
    size_t comm_id_len;      /**< bytes of comm_id */
} vn_train_dist;

#define VN_TRAIN_DIST_VERSION 1 /**< the version of vn_train_dist this header describes */
/** Static initialiser of vn_train_dist: the current version and the defaults. */
#define VN_TRAIN_DIST_INIT { VN_TRAIN_DIST_VERSION, 0, 1, NULL, NULL, NULL, 0 }

/** Make the trainer one replica of a data-parallel run (see vn_train_dist); before the first step. */
VN_API vn_status vn_trainer_set_dist(vn_trainer *tr, const vn_train_dist *dist);

/** The encoder being trained (owned by the trainer, valid until vn_trainer_destroy). */
VN_API vn_status vn_trainer_get_encoder(const vn_trainer *tr, const vn_encoder **enc);

/** Write dir/model.safetensors and dir/trainer.safetensors (dir is created if missing). */
VN_API vn_status vn_trainer_save(vn_trainer *tr, const char *dir);

/** Load a checkpoint directory written by vn_trainer_save into a trainer created with the
 * same encoder config and options (VN_ERR_INVALID_ARG naming the first difference).
 * Corrupt or truncated files give VN_ERR_FORMAT and leave the trainer as it was. */
VN_API vn_status vn_trainer_resume(vn_trainer *tr, const char *dir);

#ifdef __cplusplus
}
#endif

#endif
