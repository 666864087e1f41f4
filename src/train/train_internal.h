/*
 * train_internal.h: what the trainer's files share: the data sources, the heads, the
 * JEPA state and the trainer itself.
 */
#ifndef VN_TRAIN_INTERNAL_H
#define VN_TRAIN_INTERNAL_H

#include "core/rng.h"
#include "io/safetensors.h"
#include "nn/encoder_internal.h"
#include "nn/optim.h"
#include "nn/predictor.h"
#include "vnative/loader.h"
#include "vnative/train.h"
#include "vnative/world.h"

/* ---- data: batches of clips f32 [B, C, Tsrc, H, W] and labels ------------------------- */

typedef struct vn_train_data {
    vn_world *world;            /* world data, or NULL */
    uint64_t world_seed;
    vn_world_task tasks[VN_WORLD_TASK_COUNT];
    int n_tasks;
    int natural_only;           /* 1: only the label-1 member of each pair (no label objective) */
    vn_loader *loader;          /* file data, or NULL */
    int n_threads;
    int64_t T, C, H;            /* the clip geometry; Tsrc frames are read */
    int64_t Tsrc;
    /* the position, saved in checkpoints: world clips handed out, or the loader's epoch
     * and the batches taken in it */
    int64_t pos, epoch, epoch_batches;
    int64_t n_items;            /* files in the loader source */
    int64_t *lab;               /* [batch] the loader's labels */
    int shard, n_shards;        /* world data: this replica's share of each global batch */
    /* world data: the background render of the next batch (vn_train_data_prefetch), or
     * NULL; data.c owns it */
    struct vn_train_prefetch *pf;
    int64_t fail_clip;          /* test hook: the global clip whose render fails, or -1 */
    int64_t sync_batches;       /* batches rendered in the caller (no prefetched batch) */
    double sync_render_s;       /* their time */
    double next_s;              /* time in vn_train_data_next: the trainer's wait for data */
    int64_t next_calls;
} vn_train_data;

/* Where world data's time goes (vn_train_data_get_stats): the background renders (wall
 * time and the thread's CPU time; wall > CPU means the thread waited for a core), the
 * renders done in the caller, and the caller's wait. */
typedef struct vn_train_data_stats {
    int prefetch;               /* 1: a background thread renders the next batch */
    int64_t bg_batches;         /* batches rendered in the background, finished */
    double bg_render_s;         /* their wall time */
    double bg_cpu_s;            /* their thread CPU time */
    int64_t bg_cancelled;       /* renders dropped (seek, shard, a different batch asked for) */
    int64_t hits;               /* vn_train_data_next calls served by a background render */
    int64_t ready;              /* of them, found finished: no wait at all */
    double bg_wait_s;           /* the others' wait for the render to finish */
    double copy_s;              /* the copy out of the background buffer (vn_train_data_next) */
    double bg_queue_s;          /* from the request to the thread starting the render */
    int64_t sync_batches;       /* batches rendered in the caller */
    double sync_render_s;
    int64_t next_calls;         /* vn_train_data_next calls */
    double next_s;              /* their time: the wait for a background render, or the render */
} vn_train_data_stats;

/* Open "world:TASKS", a manifest or a directory. seed picks the world (or the file order
 * and augmentation); batch is the loader's batch size. */
vn_status vn_train_data_open(vn_train_data *d, const char *spec, const vn_encoder_config *cfg, int64_t Tsrc,
                             int natural_only, uint64_t seed, int batch, int n_workers, int augment,
                             int n_threads);
void vn_train_data_close(vn_train_data *d);
/* The next B clips into clips [B, C, Tsrc, H, W] and labels [B] (-1 when unknown). */
vn_status vn_train_data_next(vn_train_data *d, float *clips, int32_t *labels, int64_t B);
/* The same, but a prefetched batch is handed over by trading buffers: *clips (malloc'd,
 * B clips or more) may come back pointing at another buffer of the same kind, which the
 * caller then owns (and frees); the old one goes to d. */
vn_status vn_train_data_next_swap(vn_train_data *d, float **clips, int32_t *labels, int64_t B);
/* Make d replica `shard` of n_shards: world data takes its part of each global batch;
 * file data reopens its loader over every n_shards-th row (an equal count per replica).
 * pos then counts the clips of all replicas. */
vn_status vn_train_data_shard(vn_train_data *d, int shard, int n_shards, int64_t batch);
/* Move to a saved position: world data jumps, file data replays the epoch's order. */
vn_status vn_train_data_seek(vn_train_data *d, int64_t pos, int64_t epoch, int64_t epoch_batches);
/* World data: render the batch the next vn_train_data_next will return in a background
 * thread while the caller computes (on = 1), or in the caller (on = 0, the default).
 * nice > 0 lowers the thread's priority by that much (setpriority on its tid). Nothing
 * for file data (the loader has its own workers). */
vn_status vn_train_data_prefetch(vn_train_data *d, int on, int nice);
/* VN_TRAIN_PREFETCH, which the trainer reads once, at create: 0 (off), 1 (on; any other
 * value too), or -1 for unset, empty or "auto" (the trainer decides). */
int vn_train_prefetch_env(void);
void vn_train_data_get_stats(const vn_train_data *d, vn_train_data_stats *s);
/* Test hook: the render of global clip `clip` fails (VN_ERR_INTERNAL), -1 for none; drops
 * an in-flight render. */
void vn_train_data_fail_clip(vn_train_data *d, int64_t clip);

/* ---- heads: small layers on the pooled embedding, in one arena ---------------------- */

typedef struct vn_train_param {
    char name[64];
    int ndim;
    int64_t shape[2];
    int64_t offset, numel;
    int decays;
} vn_train_param;

typedef struct vn_train_heads {
    vn_train_param *params;
    int n_params;
    float *arena, *grad, *m, *v;
    int64_t n_floats;
    /* offsets, -1 when the objective is off */
    int64_t aot_w, aot_b, order_w, order_b;
    int64_t fut_w1, fut_b1, fut_w2, fut_b2;
    int64_t label_w, label_b;
    int64_t D, K;
    const vn_nn *nn; /* arena, grad, m and v are its engine memory */
} vn_train_heads;

vn_status vn_train_heads_build(vn_train_heads *h, const vn_nn *nn, const float *weights, int64_t D, int64_t K,
                               uint64_t seed);
void vn_train_heads_free(vn_train_heads *h);

/* ---- the trainer ------------------------------------------------------------------- */

struct vn_trainer {
    vn_context *ctx;
    vn_encoder_config cfg;
    vn_train_options opt;
    char *objectives_spec, *data_spec, *eval_spec;
    float w[VN_OBJECTIVE_COUNT];
    vn_encoder *enc;
    vn_nn nn;
    int64_t D, T, C, H, Tsrc, B;
    int64_t n_params;            /* encoder floats */
    float *grad, *m, *v;         /* encoder gradient and AdamW moments */
    vn_train_heads heads;
    struct vn_train_jepa *jepa;  /* jepa.c; NULL when the objective is off */
    /* the step */
    vn_encoder_acts *acts;       /* max_batch 3B with future (context, continuation, reversed), else B */
    /* Host buffers (the data, the draws) and their engine twins (*_dev): on a device the
     * twin is backend memory the host buffer is uploaded into; on the host it is the
     * host buffer itself. */
    float *clips, *clips_dev;    /* [B, C, Tsrc, H, W] */
    float *input;                /* engine: the objective inputs [3B, C, T, H, W] */
    int32_t *labels, *labels_dev;
    int64_t *idx;                /* [3 * T] frame indices */
    int32_t *frame_idx, *frame_idx_dev; /* [3B * C * T] source frame rows of the inputs */
    float *targets, *targets_dev; /* [B] binary targets */
    int32_t *ipos, *ipos_dev;    /* [B] positives */
    float *emb, *demb;           /* engine: [3B, D] */
    float *work;                 /* engine: objective scratch, see objectives.c */
    int64_t work_floats;
    float *readback;             /* host: logits or embeddings read back for accuracies */
    vn_param_group *groups;
    int n_groups;
    vn_rng rng;
    int64_t step;
    int64_t clips_seen;
    double elapsed_s;
    vn_train_data data, eval;
    int have_eval;
    vn_train_dist dist;          /* world_size 1 without data parallelism (dist.c) */
    int64_t clip0;               /* the global index of the batch's first clip */
    float *dist_host;            /* host staging of device gradients for the all-reduce */
    int dist_device;             /* 1: gradients summed by the backend's collectives */
    int half_sharded;            /* a failed vn_trainer_set_dist left the data split: refuse to train */
};

/* dist.c: sum the gradients over the replicas and divide by world_size (nothing with one
 * replica), and average a step's or an evaluation's metrics. */
vn_status vn_train_dist_gradients(vn_trainer *tr);
vn_status vn_train_dist_metrics(vn_trainer *tr, vn_train_metrics *m);
/* A per-clip random stream: clip `global` of the draw keyed `key` (see objectives.c). */
void vn_train_clip_rng(vn_rng *r, uint64_t key, int64_t global);

/* Per-objective losses and accuracies of one batch (tr->clips, tr->labels). With
 * backward set, gradients scaled by the objective weights are accumulated into the
 * trainer's gradient buffers. rng draws reversals, shuffles and masks. */
vn_status vn_train_objective(vn_trainer *tr, vn_objective o, vn_rng *rng, int backward, float *loss,
                             float *accuracy);
int64_t vn_train_objective_work_floats(const vn_trainer *tr);

/* checkpoint.c: a float tensor of the trainer state, added to w when w is set, else read
 * from f into data (a missing or misshapen tensor is VN_ERR_FORMAT naming it). */
vn_status vn_train_state_tensor(vn_st_writer *w, const vn_st_file *f, const char *name, int ndim,
                                const int64_t *shape, float *data);

/* objectives.c: the first T frames of every clip of the batch into tr->input */
vn_status vn_train_input_forward(vn_trainer *tr);

/* trainer.c: an engine twin of a host buffer (backend memory on a device, the host
 * buffer itself otherwise), and the upload into it (nothing on the host). */
vn_status vn_train_twin(vn_trainer *tr, void **dev, void *host, size_t bytes);
vn_status vn_train_upload(vn_trainer *tr, void *dev, const void *host, size_t bytes);
void vn_train_free_twin(vn_trainer *tr, void *dev, void *host);

/* jepa.c */
vn_status vn_train_jepa_setup(vn_trainer *tr);
void vn_train_jepa_free(vn_trainer *tr);
vn_status vn_train_jepa(vn_trainer *tr, vn_rng *rng, int backward, float *loss);
/* target = m * target + (1 - m) * online, m from ema_start to ema_end over total_steps */
void vn_train_jepa_ema(vn_trainer *tr);
/* The predictor's parameter groups (one per parameter) into out (cap entries); the count. */
/* The predictor's tensors, and their AdamW groups written into out (at most cap);
 * -1 when cap is too small. */
int vn_train_jepa_n_params(const vn_trainer *tr);
/* The GEMM precision of the target encoder and the predictor (no-op without jepa). */
void vn_train_jepa_set_precision(vn_trainer *tr, vn_gemm_precision g);
int vn_train_jepa_groups(vn_trainer *tr, vn_param_group *out, int cap);
/* The predictor, its moments and the EMA target in a trainer checkpoint, and back. */
vn_status vn_train_jepa_add_tensors(vn_trainer *tr, vn_st_writer *w);
vn_status vn_train_jepa_read_tensors(vn_trainer *tr, const vn_st_file *f);
/* The predictor's weights and moments and the target's weights (pointer, floats), for
 * the checkpoint's all-or-nothing resume; the count (0 without jepa). */
int vn_train_jepa_slots(vn_trainer *tr, float ***slot, int64_t *n, int cap);
/* Tube masks: for each of B clips, n_mask masked and S - n_mask visible patch positions
 * (each ascending) on an Lh x Lw grid, drawn as V-JEPA's multiblock masks; scratch holds
 * Lh * Lw bytes. */
void vn_train_tube_masks(vn_rng *rng, int64_t B, int64_t Lh, int64_t Lw, int64_t n_mask, int32_t *keep,
                         int32_t *masked, unsigned char *scratch);


#endif
