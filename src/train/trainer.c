/*
 * trainer.c: vn_trainer: create, step, run, evaluate.
 *
 * A step draws a batch, zeroes every gradient, runs each active objective's forward
 * and backward (each accumulates its weighted gradients), clips the global norm, takes
 * one AdamW step over the encoder, the heads and the predictor, and moves the EMA
 * target. All randomness comes from the trainer's own stream and the data position, so
 * a deterministic context repeats a run bit for bit.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/host.h"
#include "core/error.h"
#include "core/profile.h"
#include "train/train_internal.h"

#define STREAM_STEP 0x73746570ULL
#define STREAM_EVAL 0x6576616cULL
#define EVAL_WORLD_SEED 0x686f6c646f7574ULL /* "holdout": held-out scenes */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static char *dup_or(const char *s, const char *def)
{
    const char *v = s ? s : def;
    char *d = malloc(strlen(v) + 1);
    if (d)
        strcpy(d, v);
    return d;
}

static vn_status check_options(const vn_train_options *o)
{
    const char *fn = "vn_trainer_create";
    if (o->batch < 2)
        return vn_error(VN_ERR_INVALID_ARG, "%s: batch is %d; it must be >= 2", fn, o->batch);
    if (o->total_steps < 1)
        return vn_error(VN_ERR_INVALID_ARG, "%s: total_steps is %lld; it must be >= 1", fn, (long long)o->total_steps);
    if (!(o->lr > 0) || !isfinite(o->lr) || !(o->min_lr >= 0) || !(o->min_lr <= o->lr))
        return vn_error(VN_ERR_INVALID_ARG, "%s: lr %g and min_lr %g must satisfy 0 <= min_lr <= lr, lr > 0", fn,
                        (double)o->lr, (double)o->min_lr);
    if (o->warmup_steps < -1 || o->warmup_steps > o->total_steps)
        return vn_error(VN_ERR_INVALID_ARG, "%s: warmup_steps is %lld; it must be -1 (auto) or 0..total_steps", fn,
                        (long long)o->warmup_steps);
    if (!(o->weight_decay >= 0) || !(o->beta1 >= 0 && o->beta1 < 1) || !(o->beta2 >= 0 && o->beta2 < 1) ||
        !(o->eps > 0) || !(o->grad_clip >= 0))
        return vn_error(VN_ERR_INVALID_ARG,
                        "%s: AdamW options out of range (weight_decay %g >= 0, betas %g %g in [0, 1), eps %g > 0, "
                        "grad_clip %g >= 0)",
                        fn, (double)o->weight_decay, (double)o->beta1, (double)o->beta2, (double)o->eps,
                        (double)o->grad_clip);
    if (!(o->jepa_mask_ratio > 0 && o->jepa_mask_ratio < 1))
        return vn_error(VN_ERR_INVALID_ARG, "%s: jepa_mask_ratio is %g; it must be in (0, 1)", fn,
                        (double)o->jepa_mask_ratio);
    if (!(o->ema_start >= 0 && o->ema_start <= 1 && o->ema_end >= 0 && o->ema_end <= 1))
        return vn_error(VN_ERR_INVALID_ARG, "%s: ema_start %g and ema_end %g must be in [0, 1]", fn,
                        (double)o->ema_start, (double)o->ema_end);
    if (o->predictor_dim < 1 || o->predictor_depth < 1 || o->predictor_heads < 1 ||
        o->predictor_dim % o->predictor_heads)
        return vn_error(VN_ERR_INVALID_ARG,
                        "%s: predictor dim %d, depth %d, heads %d: all >= 1 and dim divisible by heads", fn,
                        o->predictor_dim, o->predictor_depth, o->predictor_heads);
    if (!(o->future_tau > 0) || !isfinite(o->future_tau))
        return vn_error(VN_ERR_INVALID_ARG, "%s: future_tau is %g; it must be > 0", fn, (double)o->future_tau);
    if (o->num_classes < 0 || o->eval_every < 0 || o->eval_clips < 1 || o->loader_workers < 0)
        return vn_error(VN_ERR_INVALID_ARG,
                        "%s: num_classes %d, eval_every %lld and loader_workers %d must be >= 0, eval_clips %d >= 1",
                        fn, o->num_classes, (long long)o->eval_every, o->loader_workers, o->eval_clips);
    return VN_OK;
}

/* A zeroed engine buffer of n floats. */
static vn_status alloc_f(vn_trainer *tr, float **p, int64_t n)
{
    *p = vn_nn_alloc(&tr->nn, n);
    if (!*p) {
        (void)vn_nn_take_error();
        return vn_error(VN_ERR_OUT_OF_MEMORY, "vn_trainer_create: out of memory (%lld floats)", (long long)n);
    }
    vn_nn_zero(&tr->nn, *p, n);
    return vn_nn_take_error();
}

vn_status vn_train_twin(vn_trainer *tr, void **dev, void *host, size_t bytes)
{
    if (!tr->nn.dev) {
        *dev = host;
        return VN_OK;
    }
    *dev = vn_nn_alloc(&tr->nn, (int64_t)((bytes + sizeof(float) - 1) / sizeof(float)));
    if (*dev)
        return VN_OK;
    (void)vn_nn_take_error();
    return vn_error(VN_ERR_OUT_OF_MEMORY, "vn_trainer_create: out of device memory (%zu bytes)", bytes);
}

vn_status vn_train_upload(vn_trainer *tr, void *dev, const void *host, size_t bytes)
{
    return dev == host ? VN_OK : vn_nn_upload_async(&tr->nn, dev, host, bytes);
}

void vn_train_free_twin(vn_trainer *tr, void *dev, void *host)
{
    if (dev != host)
        vn_nn_free(&tr->nn, dev);
}

static vn_status build_groups(vn_trainer *tr)
{
    int n_enc = 0, cap;
    vn_encoder_param_count(tr->enc, &n_enc);
    cap = n_enc + tr->heads.n_params + (tr->jepa ? vn_train_jepa_n_params(tr) : 0);
    tr->groups = calloc((size_t)cap, sizeof *tr->groups);
    if (!tr->groups)
        return vn_error(VN_ERR_OUT_OF_MEMORY, "vn_trainer_create: out of memory");
    int64_t n = 0;
    float *P = vn_encoder_params(tr->enc, &n);
    int k = 0;
    for (int i = 0; i < n_enc; i++) {
        int64_t off = vn_encoder_param_offset(tr->enc, i);
        int64_t end = i + 1 < n_enc ? vn_encoder_param_offset(tr->enc, i + 1) : n;
        tr->groups[k++] = (vn_param_group){P + off, tr->grad + off, tr->m + off, tr->v + off, end - off,
                                           vn_encoder_param_decays(tr->enc, i) ? tr->opt.weight_decay : 0.0f};
    }
    const vn_train_heads *h = &tr->heads;
    for (int i = 0; i < h->n_params; i++) {
        const vn_train_param *p = &h->params[i];
        tr->groups[k++] = (vn_param_group){h->arena + p->offset, h->grad + p->offset, h->m + p->offset,
                                           h->v + p->offset, p->numel, p->decays ? tr->opt.weight_decay : 0.0f};
    }
    if (tr->jepa) {
        int nj = vn_train_jepa_groups(tr, tr->groups + k, cap - k);
        if (nj < 0)
            return vn_error(VN_ERR_INTERNAL, "vn_trainer_create: the predictor has more tensors than groups were made");
        k += nj;
    }
    tr->n_groups = k;
    return VN_OK;
}

static vn_status create(vn_trainer *tr, vn_context *ctx, const vn_encoder_config *cfg, const vn_train_options *opts)
{
    vn_status st;
    tr->opt = *opts;
    tr->opt.version = VN_TRAIN_OPTIONS_VERSION;
    if ((st = check_options(&tr->opt)))
        return st;
    tr->objectives_spec = dup_or(opts->objectives, "aot");
    tr->data_spec = dup_or(opts->data, "world:aot");
    tr->eval_spec = opts->eval_data ? dup_or(opts->eval_data, "") : NULL;
    if (!tr->objectives_spec || !tr->data_spec || (opts->eval_data && !tr->eval_spec))
        return vn_error(VN_ERR_OUT_OF_MEMORY, "vn_trainer_create: out of memory");
    tr->opt.objectives = tr->objectives_spec;
    tr->opt.data = tr->data_spec;
    tr->opt.eval_data = tr->eval_spec;
    if (tr->opt.warmup_steps < 0)
        tr->opt.warmup_steps = tr->opt.total_steps / 20;
    if ((st = vn_objectives_parse(tr->objectives_spec, tr->w)))
        return vn_error_prefix(st, "vn_trainer_create: ");
    if ((st = vn_encoder_create(&tr->enc, ctx, cfg)))
        return st;
    tr->enc->owned = 1;
    vn_encoder_get_config(tr->enc, &tr->cfg);
    tr->ctx = ctx;
    tr->nn = tr->enc->nn;
    tr->D = tr->cfg.dim;
    tr->T = tr->cfg.frames;
    tr->C = tr->cfg.channels;
    tr->H = tr->cfg.size;
    tr->B = tr->opt.batch;
    tr->dist = (vn_train_dist)VN_TRAIN_DIST_INIT;
    /* one frame has no order: the shuffle that order draws would never differ from it */
    if (tr->T < 2 && (tr->w[VN_OBJECTIVE_AOT] > 0 || tr->w[VN_OBJECTIVE_ORDER] > 0))
        return vn_error(VN_ERR_INVALID_ARG, "vn_trainer_create: aot and order need clips of 2 or more frames; the "
                        "encoder takes %lld", (long long)tr->T);
    int fut = tr->w[VN_OBJECTIVE_FUTURE] > 0;
    tr->Tsrc = fut ? 2 * tr->T : tr->T;
    int with_labels = tr->w[VN_OBJECTIVE_LABEL] > 0;
    int nt = tr->nn.n_threads;
    if ((st = vn_train_data_open(&tr->data, tr->data_spec, &tr->cfg, tr->Tsrc, !with_labels, tr->opt.seed,
                                 tr->opt.batch, tr->opt.loader_workers, 1, nt)))
        return vn_error_prefix(st, "vn_trainer_create: ");
    /* World data: the next batch renders in a background thread while a step computes.
     * That only pays where the step leaves a core idle (a device computes, or fewer
     * compute threads than cores): on cores the step keeps busy, the background render
     * takes them from the step's team, which loses more than the synchronous render on
     * every thread costs (docs/TRAINING.md has the measurements). */
    int prefetch = vn_train_prefetch_env();
    if (prefetch < 0)
        prefetch = tr->nn.dev != NULL || vn_host_cores() > nt;
    if ((st = vn_train_data_prefetch(&tr->data, prefetch, 0)))
        return vn_error_prefix(st, "vn_trainer_create: ");
    int64_t K = tr->opt.num_classes;
    if (with_labels && K == 0) {
        if (!tr->data.world)
            return vn_error(VN_ERR_INVALID_ARG,
                            "vn_trainer_create: the label objective on file data needs num_classes (the manifest's "
                            "labels are 0..num_classes-1)");
        K = 2;
    }
    if (with_labels && K < 2)
        return vn_error(VN_ERR_INVALID_ARG, "vn_trainer_create: num_classes is %lld; label needs >= 2",
                        (long long)K);
    if ((st = vn_train_heads_build(&tr->heads, &tr->nn, tr->w, tr->D, K, tr->opt.seed)))
        return st;
    int64_t nB = fut ? 3 * tr->B : tr->B;
    if ((st = vn_encoder_acts_create(tr->enc, nB, &tr->acts)))
        return vn_error_prefix(st, "vn_trainer_create: ");
    int64_t clip_src = tr->C * tr->Tsrc * tr->H * tr->H, clip = tr->C * tr->T * tr->H * tr->H;
    vn_encoder_params(tr->enc, &tr->n_params);
    int64_t n_frames = nB * tr->C * tr->T, K1 = K > 1 ? K : 1;
    tr->clips = calloc((size_t)(tr->B * clip_src), sizeof *tr->clips);
    tr->targets = calloc((size_t)tr->B, sizeof *tr->targets);
    tr->labels = calloc((size_t)tr->B, sizeof *tr->labels);
    tr->ipos = calloc((size_t)tr->B, sizeof *tr->ipos);
    tr->idx = calloc((size_t)(3 * tr->T), sizeof *tr->idx);
    tr->frame_idx = calloc((size_t)n_frames, sizeof *tr->frame_idx);
    tr->readback = calloc((size_t)(3 * tr->B * (K1 > tr->D ? K1 : tr->D)), sizeof *tr->readback);
    if (!tr->clips || !tr->targets || !tr->labels || !tr->ipos || !tr->idx || !tr->frame_idx || !tr->readback)
        return vn_error(VN_ERR_OUT_OF_MEMORY, "vn_trainer_create: out of memory");
    tr->work_floats = vn_train_objective_work_floats(tr);
    if ((st = alloc_f(tr, &tr->input, nB * clip)) || (st = alloc_f(tr, &tr->emb, nB * tr->D)) ||
        (st = alloc_f(tr, &tr->demb, nB * tr->D)) || (st = alloc_f(tr, &tr->grad, tr->n_params)) ||
        (st = alloc_f(tr, &tr->m, tr->n_params)) || (st = alloc_f(tr, &tr->v, tr->n_params)) ||
        (st = alloc_f(tr, &tr->work, tr->work_floats)) ||
        (st = vn_train_twin(tr, (void **)&tr->clips_dev, tr->clips, (size_t)(tr->B * clip_src) * sizeof(float))) ||
        (st = vn_train_twin(tr, (void **)&tr->targets_dev, tr->targets, (size_t)tr->B * sizeof(float))) ||
        (st = vn_train_twin(tr, (void **)&tr->labels_dev, tr->labels, (size_t)tr->B * sizeof(int32_t))) ||
        (st = vn_train_twin(tr, (void **)&tr->ipos_dev, tr->ipos, (size_t)tr->B * sizeof(int32_t))) ||
        (st = vn_train_twin(tr, (void **)&tr->frame_idx_dev, tr->frame_idx, (size_t)n_frames * sizeof(int32_t))))
        return st;
    if (tr->w[VN_OBJECTIVE_JEPA] > 0 && (st = vn_train_jepa_setup(tr)))
        return st;
    if ((st = build_groups(tr)))
        return st;
    vn_rng_seed(&tr->rng, tr->opt.seed, STREAM_STEP);
    if (tr->eval_spec || tr->data.world) {
        const char *spec = tr->eval_spec ? tr->eval_spec : tr->data_spec;
        uint64_t seed = tr->eval_spec ? tr->opt.seed : tr->opt.seed ^ EVAL_WORLD_SEED;
        if ((st = vn_train_data_open(&tr->eval, spec, &tr->cfg, tr->Tsrc, !with_labels, seed, tr->opt.batch,
                                     tr->opt.loader_workers, 0, nt)))
            return vn_error_prefix(st, "vn_trainer_create: held-out data: ");
        tr->have_eval = 1;
    }
    return VN_OK;
}

vn_status vn_trainer_create(vn_trainer **out, vn_context *ctx, const vn_encoder_config *cfg,
                            const vn_train_options *opts)
{
    VN_CHECK_NULL(out);
    *out = NULL;
    VN_CHECK_NULL(ctx);
    VN_CHECK_NULL(cfg);
    VN_CHECK_NULL(opts);
    VN_CHECK_VERSION(__func__, "vn_train_options", opts->version, VN_TRAIN_OPTIONS_VERSION, "VN_TRAIN_OPTIONS_INIT");
    vn_trainer *tr = calloc(1, sizeof *tr);
    if (!tr)
        return vn_error(VN_ERR_OUT_OF_MEMORY, "vn_trainer_create: out of memory");
    vn_status st = create(tr, ctx, cfg, opts);
    if (st) {
        vn_trainer_destroy(tr);
        return st;
    }
    *out = tr;
    return VN_OK;
}

void vn_trainer_destroy(vn_trainer *tr)
{
    if (!tr)
        return;
    vn_train_data_close(&tr->data);
    if (tr->have_eval)
        vn_train_data_close(&tr->eval);
    vn_train_jepa_free(tr);
    vn_encoder_acts_destroy(tr->acts);
    if (tr->enc)
        tr->enc->owned = 0;
    vn_encoder_destroy(tr->enc);
    vn_train_heads_free(&tr->heads);
    float *f[] = {tr->input, tr->emb, tr->demb, tr->grad, tr->m, tr->v, tr->work};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        vn_nn_free(&tr->nn, f[i]);
    vn_train_free_twin(tr, tr->clips_dev, tr->clips);
    vn_train_free_twin(tr, tr->targets_dev, tr->targets);
    vn_train_free_twin(tr, tr->labels_dev, tr->labels);
    vn_train_free_twin(tr, tr->ipos_dev, tr->ipos);
    vn_train_free_twin(tr, tr->frame_idx_dev, tr->frame_idx);
    free(tr->clips);
    free(tr->targets);
    free(tr->labels);
    free(tr->ipos);
    free(tr->idx);
    free(tr->frame_idx);
    free(tr->readback);
    free(tr->dist_host);
    free(tr->groups);
    free(tr->objectives_spec);
    free(tr->data_spec);
    free(tr->eval_spec);
    free(tr);
}

static void metrics_reset(vn_train_metrics *m, const vn_trainer *tr, int is_eval)
{
    vn_train_metrics z = VN_TRAIN_METRICS_INIT;
    *m = z;
    m->is_eval = is_eval;
    m->step = tr->step;
    m->clips_seen = tr->clips_seen;
    for (int o = 0; o < VN_OBJECTIVE_COUNT; o++)
        m->losses[o] = m->accuracy[o] = NAN;
    m->grad_norm = NAN;
    m->lr = NAN;
}

/* Copy the fields the caller's version of the struct has. */
static void metrics_out(vn_train_metrics *out, const vn_train_metrics *m)
{
    if (!out)
        return;
    unsigned int v = out->version;
    *out = *m;
    out->version = v;
}

/* An output metrics struct may be NULL; otherwise its version must be one we know. */
static vn_status check_metrics(const char *fn, const vn_train_metrics *m)
{
    if (m)
        VN_CHECK_VERSION(fn, "vn_train_metrics", m->version, VN_TRAIN_METRICS_VERSION, "VN_TRAIN_METRICS_INIT");
    return VN_OK;
}

/* Run every active objective on the batch in tr->clips; sums into m. */
static vn_status objectives(vn_trainer *tr, vn_rng *rng, int backward, vn_train_metrics *m, double scale)
{
    /* the batch goes to the engine once; the objectives pick their frames there */
    vn_status up = vn_train_upload(tr, tr->clips_dev, tr->clips,
                                   (size_t)(tr->B * tr->C * tr->Tsrc * tr->H * tr->H) * sizeof(float));
    if (!up)
        up = vn_train_upload(tr, tr->labels_dev, tr->labels, (size_t)tr->B * sizeof(int32_t));
    if (up)
        return up;
    for (int o = 0; o < VN_OBJECTIVE_COUNT; o++) {
        if (!(tr->w[o] > 0))
            continue;
        float loss = NAN, acc = NAN;
        vn_status st = vn_train_objective(tr, (vn_objective)o, rng, backward, &loss, &acc);
        if (st)
            return vn_error_prefix(st, "%s: ", vn_objective_name((vn_objective)o));
        m->losses[o] = (isnan(m->losses[o]) ? 0.0f : m->losses[o]) + (float)(scale * loss);
        if (!isnan(acc))
            m->accuracy[o] = (isnan(m->accuracy[o]) ? 0.0f : m->accuracy[o]) + (float)(scale * acc);
    }
    m->loss = 0;
    for (int o = 0; o < VN_OBJECTIVE_COUNT; o++)
        if (tr->w[o] > 0)
            m->loss += tr->w[o] * m->losses[o];
    return VN_OK;
}

static vn_status step(vn_trainer *tr, vn_train_metrics *m)
{
    double t0 = now_s();
    VN_PROF(tr->nn.prof, VN_PROF_STEP);
    metrics_reset(m, tr, 0);
    tr->clip0 = tr->data.pos + (int64_t)tr->dist.rank * tr->B;
    vn_status st;
    {
        VN_PROF(tr->nn.prof, VN_PROF_DATA);
        /* a prefetched batch trades buffers with tr->clips rather than being copied */
        st = vn_train_data_next_swap(&tr->data, &tr->clips, tr->labels, tr->B);
        if (!tr->nn.dev)
            tr->clips_dev = tr->clips; /* the host engine's twin is the host buffer */
    }
    if (st)
        return vn_error_prefix(st, "vn_trainer_step: ");
    for (int g = 0; g < tr->n_groups; g++)
        vn_nn_zero(&tr->nn, tr->groups[g].grad, tr->groups[g].n);
    if ((st = vn_nn_take_error()))
        return vn_error_prefix(st, "vn_trainer_step: ");
    if ((st = objectives(tr, &tr->rng, 1, m, 1.0)) || (st = vn_train_dist_gradients(tr)) ||
        (st = vn_train_dist_metrics(tr, m)))
        return vn_error_prefix(st, "vn_trainer_step: ");
    if (!isfinite(m->loss))
        return vn_error(VN_ERR_STATE,
                        "vn_trainer_step: the loss is %g at step %lld; the weights were not updated (lower the "
                        "learning rate?)",
                        (double)m->loss, (long long)tr->step);
    double clip = tr->opt.grad_clip > 0 ? tr->opt.grad_clip : INFINITY;
    m->grad_norm = (float)vn_clip_grad_norm(&tr->nn, tr->groups, tr->n_groups, clip);
    vn_lr_schedule sched = {0.0, tr->opt.lr, tr->opt.min_lr, tr->opt.warmup_steps, tr->opt.total_steps};
    double lr = vn_lr_at(&sched, tr->step);
    vn_adamw_hparams hp = {tr->opt.beta1, tr->opt.beta2, tr->opt.eps};
    vn_adamw_step(&tr->nn, tr->groups, tr->n_groups, lr, &hp, tr->step + 1);
    tr->step++;
    if (tr->jepa)
        vn_train_jepa_ema(tr);
    if ((st = vn_nn_take_error()))
        return vn_error_prefix(st, "vn_trainer_step: the update: ");
    /* the global batch: every replica took B clips */
    tr->clips_seen += (int64_t)tr->dist.world_size * tr->B;
    double dt = now_s() - t0;
    tr->elapsed_s += dt;
    m->lr = (float)lr;
    m->step = tr->step;
    m->clips_seen = tr->clips_seen;
    m->clips_per_s = dt > 0 ? (double)tr->dist.world_size * (double)tr->B / dt : 0.0;
    m->elapsed_s = tr->elapsed_s;
    return VN_OK;
}

vn_status vn_trainer_step(vn_trainer *tr, vn_train_metrics *metrics)
{
    VN_CHECK_NULL(tr);
    vn_status vst = check_metrics(__func__, metrics);
    if (!vst && tr->half_sharded)
        vst = vn_error(VN_ERR_STATE, "%s: vn_trainer_set_dist failed after splitting the data; destroy this trainer",
                       __func__);
    if (vst)
        return vst;
    vn_train_metrics m;
    vn_status st = step(tr, &m);
    if (st == VN_OK)
        metrics_out(metrics, &m);
    return st;
}

vn_status vn_trainer_evaluate(vn_trainer *tr, vn_train_metrics *metrics)
{
    VN_CHECK_NULL(tr);
    vn_status vst = check_metrics(__func__, metrics);
    if (!vst && tr->half_sharded)
        vst = vn_error(VN_ERR_STATE, "%s: vn_trainer_set_dist failed after splitting the data; destroy this trainer",
                       __func__);
    if (vst)
        return vst;
    if (!tr->have_eval)
        return vn_error(VN_ERR_STATE,
                        "vn_trainer_evaluate: no held-out data: file data needs eval_data (world data has its own)");
    double t0 = now_s();
    vn_train_metrics m;
    metrics_reset(&m, tr, 1);
    /* the same clips, reversals and masks every time, so evaluations compare */
    vn_rng rng;
    vn_rng_seed(&rng, tr->opt.seed, STREAM_EVAL);
    vn_status st = vn_train_data_seek(&tr->eval, 0, 0, 0);
    int64_t n_batches = (tr->opt.eval_clips + tr->B - 1) / tr->B;
    for (int64_t b = 0; b < n_batches && st == VN_OK; b++) {
        tr->clip0 = tr->eval.pos + (int64_t)tr->dist.rank * tr->B;
        st = vn_train_data_next(&tr->eval, tr->clips, tr->labels, tr->B);
        if (st == VN_OK)
            st = objectives(tr, &rng, 0, &m, 1.0 / (double)n_batches);
    }
    if (st == VN_OK)
        st = vn_train_dist_metrics(tr, &m);
    if (st)
        return vn_error_prefix(st, "vn_trainer_evaluate: ");
    double dt = now_s() - t0;
    m.clips_per_s = dt > 0 ? (double)(n_batches * tr->B) * tr->dist.world_size / dt : 0.0;
    m.elapsed_s = tr->elapsed_s;
    metrics_out(metrics, &m);
    return VN_OK;
}

vn_status vn_trainer_run(vn_trainer *tr, int64_t steps, vn_train_metrics *last)
{
    VN_CHECK_NULL(tr);
    vn_status vst = check_metrics(__func__, last);
    if (!vst && tr->half_sharded)
        vst = vn_error(VN_ERR_STATE, "%s: vn_trainer_set_dist failed after splitting the data; destroy this trainer",
                       __func__);
    if (vst)
        return vst;
    if (steps < 0)
        return vn_error(VN_ERR_INVALID_ARG, "vn_trainer_run: steps is %lld; it must be >= 0", (long long)steps);
    vn_train_metrics m;
    for (int64_t s = 0; s < steps; s++) {
        vn_status st = step(tr, &m);
        if (st)
            return st;
        metrics_out(last, &m);
        if (tr->opt.callback && tr->opt.callback(&m, tr->opt.callback_user))
            return VN_OK;
        if (tr->have_eval && tr->opt.eval_every > 0 && tr->step % tr->opt.eval_every == 0) {
            vn_train_metrics e;
            e.version = VN_TRAIN_METRICS_VERSION;
            if ((st = vn_trainer_evaluate(tr, &e)))
                return st;
            if (tr->opt.callback && tr->opt.callback(&e, tr->opt.callback_user))
                return VN_OK;
        }
    }
    return VN_OK;
}

vn_status vn_trainer_get_step(const vn_trainer *tr, int64_t *step_out)
{
    VN_CHECK_NULL(tr);
    VN_CHECK_NULL(step_out);
    *step_out = tr->step;
    return VN_OK;
}

const char *vn_precision_name(vn_precision precision)
{
    switch (precision) {
    case VN_PRECISION_FP32: return "fp32";
    case VN_PRECISION_TF32: return "tf32";
    case VN_PRECISION_BF16: return "bf16";
    }
    return "unknown";
}

vn_status vn_precision_from_name(const char *name, vn_precision *out)
{
    VN_CHECK_NULL(name);
    VN_CHECK_NULL(out);
    for (int p = VN_PRECISION_FP32; p <= VN_PRECISION_BF16; p++)
        if (!strcmp(name, vn_precision_name((vn_precision)p))) {
            *out = (vn_precision)p;
            return VN_OK;
        }
    return vn_error(VN_ERR_INVALID_ARG, "precision '%s' is not one of fp32, tf32, bf16", name);
}

vn_status vn_trainer_set_precision(vn_trainer *tr, vn_precision precision)
{
    VN_CHECK_NULL(tr);
    vn_gemm_precision g = VN_GEMM_FP32;
    vn_status s = vn_enc_gemm_precision(tr->nn.be, __func__, precision, &g);
    if (s != VN_OK)
        return s;
    /* every vn_nn the step computes with: the trainer's, the encoder's, jepa's */
    tr->nn.precision = g;
    tr->enc->nn.precision = g;
    vn_train_jepa_set_precision(tr, g);
    return VN_OK;
}

vn_status vn_trainer_get_encoder(const vn_trainer *tr, const vn_encoder **enc)
{
    VN_CHECK_NULL(tr);
    VN_CHECK_NULL(enc);
    *enc = tr->enc;
    return VN_OK;
}
