/* `vnative probe`: frozen-feature probes of an encoder on the world's temporal tasks
 * (vnative/probe.h): a linear probe and a k-NN probe per task, with confidence intervals. */
#include "cli/cli_flags.h"
#include "cli/commands.h"
#include "cli/json_writer.h"
#include "cli/probe_cache.h"
#include "cli/probe_real.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vnative/vnative.h"

#define CMD "probe"

typedef struct pargs {
    const char *model, *family, *pos, *tasks, *json, *real, *cache;
    int64_t train_clips, test_clips, world_seed, seed, batch, threads, real_folds;
    int quiet;
} pargs;

#define FS(n, f) VN_FLAG_S(pargs, n, f)
#define FI(n, f, lo, hi) VN_FLAG_I(pargs, n, f, lo, hi)

static const vn_cli_flag flags[] = {
    FS("--model", model), FS("--family", family), FS("--pos", pos), FS("--tasks", tasks), FS("--json", json),
    FI("--train-clips", train_clips, 4, 1 << 22), FI("--test-clips", test_clips, 2, 1 << 22),
    FI("--world-seed", world_seed, 0, INT64_MAX), FI("--seed", seed, 0, INT64_MAX),
    FI("--batch", batch, 1, 4096), FI("--threads", threads, 0, 1024), VN_FLAG_B(pargs, "--quiet", quiet),
    FS("--real", real), FI("--real-folds", real_folds, 2, 1000), FS("--cache", cache),
};
#define N_FLAGS (int)(sizeof flags / sizeof flags[0])

static void usage(FILE *f, const pargs *d)
{
    fprintf(f,
            "usage: vnative probe --model FILE|xs|s [options]\n\n"
            "Measures what a frozen encoder knows about time: for each world task, clips are\n"
            "embedded once, then an L2-regularised linear probe (its strength swept on a\n"
            "validation split) and a k-NN probe (cosine, k=20, temperature 0.07) are fitted on\n"
            "the training clips and scored on held-out clips, with 95%% bootstrap intervals.\n\n"
            "  --model M           a model.safetensors, or xs|s for fresh random weights (the floor)\n"
            "  --family F          with a preset: video, frames or frames+temporal (default video)\n"
            "  --pos P             with a preset: learned or sincos\n"
            "  --tasks LIST        world tasks, comma-separated, or all (default %s)\n"
            "  --train-clips N     clips the probes are fitted on, per task (default %lld)\n"
            "  --test-clips N      held-out clips scored, per task (default %lld)\n"
            "  --world-seed N      the world the clips come from (default: one no trainer uses)\n"
            "  --seed N            fresh weights of a preset, validation split, bootstrap (default 0)\n"
            "  --batch B           clips encoded at once (default %lld)\n"
            "  --threads N         compute threads (default: every core)\n"
            "  --json F            also write the results as JSON to F\n"
            "  --quiet             no progress on stderr\n"
            "  --real DIR|FILE     also the arrow of time on real videos: a directory's video files\n"
            "                      (.mp4 .avi .ogv .mkv .webm .mov), or a manifest (a path per line, a CSV\n"
            "                      with a path column, or a TSV with a file column). Every 16-frame window\n"
            "                      (every 8 frames) is embedded forward and backward; the linear probe is\n"
            "                      cross-validated with whole videos held out (row real-aot)\n"
            "  --real-folds K      folds of videos for --real (default %lld)\n"
            "  --cache DIR         keep the world embeddings in DIR (.npy with a .json sidecar) and reuse\n"
            "                      them while the model file, seeds and sizes are unchanged\n",
            d->tasks, (long long)d->train_clips, (long long)d->test_clips, (long long)d->batch,
            (long long)d->real_folds);
}

typedef struct task_result {
    vn_world_task task;
    vn_probe_result linear, knn;
} task_result;

/* Embed one task's training and test clips and fit both probes. */
static int probe_task(const pargs *a, const vn_encoder *enc, const vn_encoder_config *cfg, const vn_world *world,
                      int64_t D, task_result *r)
{
    const int64_t ntr = a->train_clips, nte = a->test_clips;
    float *emb = malloc((size_t)((ntr + nte) * D) * sizeof *emb);
    int *labels = malloc((size_t)(ntr + nte) * sizeof *labels);
    int rc = 1;
    if (!emb || !labels) {
        fprintf(stderr, "vnative %s: no memory for %lld embeddings of %lld floats\n", CMD, (long long)(ntr + nte),
                (long long)D);
        goto done;
    }
    const char *name = vn_world_task_name(r->task);
    /* In slices, so that a long run shows progress. */
    const int64_t slice = 256, total = ntr + nte;
    const vn_cli_cache_key key = {a->model, vn_cli_model_is_preset(a->model), (uint64_t)a->seed, cfg,
                                  (uint64_t)a->world_seed, name, 0, total, 0, D};
    const int cached = a->cache && vn_cli_cache_load(a->cache, &key, emb, labels);
    if (cached && !a->quiet)
        fprintf(stderr, "\rvnative %s: %-10s %lld embeddings from %s", CMD, name, (long long)total, a->cache);
    for (int64_t at = 0; at < total && !cached; at += slice) {
        int64_t n = total - at < slice ? total - at : slice, shape[2] = {n, D};
        vn_tensor t;
        vn_tensor_init(&t, emb + at * D, VN_DTYPE_F32, 2, shape);
        if (!a->quiet)
            fprintf(stderr, "\rvnative %s: %-10s embedding %lld/%lld clips", CMD, name, (long long)at,
                    (long long)total);
        if (vn_probe_embed_world(enc, world, r->task, at, (int)a->batch, 0, &t, labels + at) != VN_OK) {
            fprintf(stderr, "\nvnative %s: %s\n", CMD, vn_last_error());
            goto done;
        }
    }
    /* A cache that cannot be written costs the next run time, not this run its result. */
    if (a->cache && !cached)
        vn_cli_cache_save(CMD, a->cache, &key, emb, labels);
    if (!a->quiet)
        fprintf(stderr, "\rvnative %s: %-10s fitting the probes on %lld clips          ", CMD, name, (long long)ntr);
    int64_t s_tr[2] = {ntr, D}, s_te[2] = {nte, D};
    vn_tensor xtr, xte;
    vn_tensor_init(&xtr, emb, VN_DTYPE_F32, 2, s_tr);
    vn_tensor_init(&xte, emb + ntr * D, VN_DTYPE_F32, 2, s_te);
    vn_linear_probe_options lo = VN_LINEAR_PROBE_OPTIONS_INIT;
    vn_knn_probe_options ko = VN_KNN_PROBE_OPTIONS_INIT;
    lo.seed = ko.seed = (uint64_t)a->seed;
    vn_probe_result_init(&r->linear, VN_PROBE_RESULT_VERSION);
    vn_probe_result_init(&r->knn, VN_PROBE_RESULT_VERSION);
    if (vn_probe_linear(&xtr, labels, NULL, &xte, labels + ntr, NULL, 2, &lo, &r->linear) != VN_OK ||
        vn_probe_knn(&xtr, labels, &xte, labels + ntr, NULL, 2, &ko, &r->knn) != VN_OK) {
        fprintf(stderr, "\nvnative %s: %s\n", CMD, vn_last_error());
        goto done;
    }
    if (!a->quiet)
        fprintf(stderr, "\r%70s\r", "");
    rc = 0;
done:
    free(emb);
    free(labels);
    return rc;
}

static void print_row(const task_result *r)
{
    printf("%-10s %6.1f%% [%5.1f, %5.1f]   %6.1f%% [%5.1f, %5.1f]   %g\n", vn_world_task_name(r->task),
           100 * r->linear.accuracy, 100 * r->linear.ci_low, 100 * r->linear.ci_high, 100 * r->knn.accuracy,
           100 * r->knn.ci_low, 100 * r->knn.ci_high, r->linear.weight_decay);
    fflush(stdout);
}

/* The k-NN column stays empty: the real-footage protocol fits the linear probe only. */
static void print_real(const vn_cli_real_result *r)
{
    printf("%-10s %6.1f%% [%5.1f, %5.1f]   %-22s   %g   (%lld windows of %d videos, %d folds)\n", "real-aot",
           100 * r->r.accuracy, 100 * r->r.ci_low, 100 * r->r.ci_high, "-", r->r.weight_decay,
           (long long)r->windows, r->sources, r->folds);
    fflush(stdout);
}

static void json_real(jw *w, const char *source, const vn_cli_real_result *r)
{
    jw_object_begin(w, "real_aot");
    jw_string(w, "source", source);
    jw_double(w, "accuracy", r->r.accuracy);
    jw_double(w, "ci_low", r->r.ci_low);
    jw_double(w, "ci_high", r->r.ci_high);
    jw_int(w, "windows", r->windows);
    jw_int(w, "videos", r->videos);
    jw_int(w, "sources", r->sources);
    jw_int(w, "folds", r->folds);
    jw_double(w, "train_accuracy", r->r.train_accuracy);
    jw_double(w, "val_accuracy", r->r.val_accuracy);
    jw_double(w, "weight_decay", r->r.weight_decay);
    jw_object_end(w);
}

static void json_probe(jw *w, const char *key, const vn_probe_result *p)
{
    jw_object_begin(w, key);
    jw_double(w, "accuracy", p->accuracy);
    jw_double(w, "ci_low", p->ci_low);
    jw_double(w, "ci_high", p->ci_high);
    /* k-NN has no fit of its own to score, nor a swept strength: those stay out */
    if (!isnan(p->train_accuracy))
        jw_double(w, "train_accuracy", p->train_accuracy);
    if (!isnan(p->weight_decay)) {
        jw_double(w, "val_accuracy", p->val_accuracy);
        jw_double(w, "weight_decay", p->weight_decay);
    }
    jw_object_end(w);
}

static int write_json(const pargs *a, const vn_encoder_config *cfg, const task_result *res, int n,
                      const vn_cli_real_result *real)
{
    FILE *f = fopen(a->json, "w");
    if (!f) {
        fprintf(stderr, "vnative %s: cannot write %s: %s\n", CMD, a->json, strerror(errno));
        return 1;
    }
    jw w;
    jw_init(&w, f);
    jw_object_begin(&w, NULL);
    jw_string(&w, "model", a->model);
    jw_string(&w, "family", vn_encoder_family_name(cfg->family));
    jw_int(&w, "train_clips", a->train_clips);
    jw_int(&w, "test_clips", a->test_clips);
    jw_int(&w, "world_seed", a->world_seed);
    jw_array_begin(&w, "tasks");
    for (int i = 0; i < n; i++) {
        jw_object_begin(&w, NULL);
        jw_string(&w, "task", vn_world_task_name(res[i].task));
        json_probe(&w, "linear", &res[i].linear);
        json_probe(&w, "knn", &res[i].knn);
        jw_object_end(&w);
    }
    jw_array_end(&w);
    if (real)
        json_real(&w, a->real, real);
    jw_object_end(&w);
    jw_finish(&w);
    if (fclose(f) != 0) {
        fprintf(stderr, "vnative %s: cannot write %s: %s\n", CMD, a->json, strerror(errno));
        return 1;
    }
    return 0;
}

static int run(const pargs *a, const vn_world_task *tasks, int n_tasks)
{
    vn_encoder_config cfg;
    vn_context *ctx = NULL;
    vn_encoder *enc = NULL;
    vn_world *world = NULL;
    task_result *res = calloc((size_t)n_tasks, sizeof *res);
    int rc = vn_cli_open_encoder(CMD, a->model, a->family, a->pos, (uint64_t)a->seed, (int)a->threads,
                                 (uint64_t)a->world_seed, &ctx, &enc, &world, &cfg);
    if (rc != 0 || !res) {
        if (!res)
            fprintf(stderr, "vnative %s: out of memory\n", CMD);
        rc = rc ? rc : 1;
        goto done;
    }
    rc = 1;
    int64_t L, D;
    vn_encoder_output_shape(enc, &L, &D);
    printf("probes of %s (%s, dim %lld): %lld training and %lld held-out clips per task\n", a->model,
           vn_encoder_family_name(cfg.family), (long long)D, (long long)a->train_clips, (long long)a->test_clips);
    printf("%-10s %-24s %-24s %s\n", "task", "linear [95% CI]", "k-NN [95% CI]", "weight decay");
    for (int i = 0; i < n_tasks; i++) {
        res[i].task = tasks[i];
        if (probe_task(a, enc, &cfg, world, D, &res[i]) != 0)
            goto done;
        print_row(&res[i]);
    }
    vn_cli_real_result real;
    if (a->real) {
        if (vn_cli_real_aot(CMD, enc, a->real, NULL, (int)a->real_folds, (uint64_t)a->seed, a->quiet, &real) != 0)
            goto done;
        print_real(&real);
    }
    rc = a->json ? write_json(a, &cfg, res, n_tasks, a->real ? &real : NULL) : 0;
done:
    free(res);
    vn_world_destroy(world);
    vn_encoder_destroy(enc);
    vn_context_destroy(ctx);
    return rc;
}

int vn_cmd_probe(int argc, char **argv)
{
    pargs a = {0};
    a.tasks = "aot,gravity";
    a.train_clips = 1000;
    a.test_clips = 1000;
    a.world_seed = (int64_t)VN_CLI_PROBE_WORLD_SEED;
    a.batch = 32;
    a.real_folds = 5;
    int pr = vn_cli_parse_flags(CMD, flags, N_FLAGS, &a, argc, argv, NULL);
    if (pr == 1) {
        usage(stdout, &a);
        return 0;
    }
    if (pr != 0)
        return pr;
    vn_world_task tasks[VN_CLI_N_CLIP_TASKS];
    int n_tasks = 0;
    if (vn_cli_probe_args(CMD, a.model, a.tasks, tasks, &n_tasks) != 0)
        return 2;
    return run(&a, tasks, n_tasks);
}
