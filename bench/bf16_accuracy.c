/*
 * bf16_accuracy: what bf16 matrix products (vn_encoder_set_precision,
 * vn_trainer_set_precision) cost in accuracy on the cpu backend, and what they gain in
 * speed. The numbers in docs/PRECISION.md come from this program.
 *
 *   bf16_accuracy [--threads N] [--clips N] [--steps N] [--pos learned|sincos] [--warmup N]
 *                 [--eval-every N] [--seed N] [--skip-train] [--skip-gemm]
 *
 *  1. Embeddings: vn_encoder_encode of vn_world aot clips at bf16 against fp32, for the
 *     xs and s presets of the video and frames families (fresh weights, seed 0): the
 *     relative L2 error over the batch, the worst clip's, the lowest cosine similarity,
 *     and the encode rate of each precision (the best of 10 rounds that alternate them).
 *  2. Training: xs video (--pos, default the preset's learned positions), aot on
 *     world:aot, batch 16, lr 1e-3, --steps steps (300; warmup 5% or --warmup) from the
 *     same seed (--seed, 0: the initial weights and the training's draws) in fp32 and in
 *     bf16: the loss at 1/6, 1/3, 2/3 and all of the steps (50, 100, 200, 300) and its
 *     mean over the 10 steps up to each (one batch's loss is noisy), the train accuracy of
 *     the last step and its mean over the last 50 steps, the held-out accuracy (256 clips
 *     of another world seed) every --eval-every steps and at the end, and each final model
 *     evaluated with the other precision's products. Seconds per step of each precision,
 *     best of rounds that alternate two fresh trainers. Then the fp32-trained encoder's
 *     embeddings at bf16 against fp32, since trained weights are not the initial ones.
 *  3. GEMMs through the cpu backend (vn_be_gemm, internal API): GFLOP/s of fp32 and bf16
 *     on the shapes of the xs and s encoders' linear layers and three square-ish ones.
 *
 * Without bf16 on this machine it says why and exits 0. Times are wall-clock on whatever
 * else the machine runs; the accuracy numbers do not depend on that.
 */
#include "vnative/vnative.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "core/rng.h"

#include "bench_clock.h"

static int fail(const char *what)
{
    fprintf(stderr, "bf16_accuracy: %s: %s\n", what, vn_last_error());
    return 1;
}

#define CHECK(call)                 \
    do {                            \
        if ((call) != VN_OK)        \
            return fail(#call);     \
    } while (0)

typedef struct cmp {
    double rel_l2, worst_clip, min_cos;
} cmp;

static cmp compare(const float *got, const float *want, int64_t n, int64_t d)
{
    cmp c = {0.0, 0.0, 1.0};
    double num = 0.0, den = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double e = 0.0, w = 0.0, g = 0.0, dot = 0.0;
        for (int64_t j = 0; j < d; j++) {
            double x = got[i * d + j], y = want[i * d + j];
            e += (x - y) * (x - y), w += y * y, g += x * x, dot += x * y;
        }
        num += e, den += w;
        c.worst_clip = fmax(c.worst_clip, sqrt(e / w));
        c.min_cos = fmin(c.min_cos, dot / sqrt(g * w));
    }
    c.rel_l2 = sqrt(num / den);
    return c;
}

/* The best encode rates (clips per second) of each precision over REPS rounds that
 * alternate them, so that both see the same share of whatever else the machine runs. */
#define REPS 10

static vn_status encode_rates(vn_encoder *enc, const vn_tensor *clips, vn_tensor *out, double rate[2])
{
    rate[0] = rate[1] = 0.0;
    for (int r = 0; r <= REPS; r++)
        for (int p = 0; p < 2; p++) {
            vn_status s = vn_encoder_set_precision(enc, p ? VN_PRECISION_BF16 : VN_PRECISION_FP32);
            double t0 = vn_bench_now();
            if (s == VN_OK)
                s = vn_encoder_encode(enc, clips, out);
            if (s != VN_OK)
                return s;
            if (r > 0) /* the first round builds primitives and activation memory */
                rate[p] = fmax(rate[p], (double)clips->shape[0] / (vn_bench_now() - t0));
        }
    return VN_OK;
}

/* One encoder at both precisions on n world clips; enc == NULL builds preset/family. */
static int embed_case(vn_context *ctx, vn_encoder *given, const char *label, const char *preset,
                      vn_encoder_family family, int n)
{
    vn_encoder *enc = given;
    if (!enc) {
        vn_encoder_config cfg;
        CHECK(vn_encoder_config_preset(&cfg, preset, family));
        CHECK(vn_encoder_create(&enc, ctx, &cfg));
    }
    vn_encoder_config cfg;
    CHECK(vn_encoder_get_config(enc, &cfg));
    vn_world_options wo = VN_WORLD_OPTIONS_INIT;
    wo.seed = 1, wo.n_frames = cfg.frames, wo.size = cfg.size, wo.channels = cfg.channels;
    vn_world *w = NULL;
    CHECK(vn_world_create(&w, &wo));
    int64_t L, D;
    CHECK(vn_encoder_output_shape(enc, &L, &D));
    int64_t cs[5] = {n, cfg.channels, cfg.frames, cfg.size, cfg.size}, es[2] = {n, D};
    float *clips = malloc(sizeof(float) * (size_t)(n * cfg.channels * cfg.frames * cfg.size * cfg.size));
    float *e32 = malloc(sizeof(float) * (size_t)(n * D)), *e16 = malloc(sizeof(float) * (size_t)(n * D));
    if (!clips || !e32 || !e16) {
        fprintf(stderr, "bf16_accuracy: out of memory\n");
        return 1;
    }
    vn_tensor tc, t32, t16;
    CHECK(vn_tensor_init(&tc, clips, VN_DTYPE_F32, 5, cs));
    CHECK(vn_tensor_init(&t32, e32, VN_DTYPE_F32, 2, es));
    CHECK(vn_tensor_init(&t16, e16, VN_DTYPE_F32, 2, es));
    CHECK(vn_world_batch(w, VN_TASK_AOT, 0, &tc, NULL));
    double rate[2];
    CHECK(encode_rates(enc, &tc, &t32, rate));
    CHECK(vn_encoder_set_precision(enc, VN_PRECISION_FP32));
    CHECK(vn_encoder_encode(enc, &tc, &t32));
    CHECK(vn_encoder_set_precision(enc, VN_PRECISION_BF16));
    CHECK(vn_encoder_encode(enc, &tc, &t16));
    CHECK(vn_encoder_set_precision(enc, VN_PRECISION_FP32));
    cmp c = compare(e16, e32, n, D);
    printf("| %-22s | %3d | %9.2e | %9.2e | %.6f | %7.1f | %7.1f | %4.2fx |\n", label, n, c.rel_l2, c.worst_clip,
           c.min_cos, rate[0], rate[1], rate[1] / rate[0]);
    fflush(stdout);
    free(clips), free(e32), free(e16);
    vn_world_destroy(w);
    if (!given)
        vn_encoder_destroy(enc);
    return 0;
}

enum { MAX_STEPS = 100000, MAX_EVALS = 64 };

typedef struct train_args {
    int64_t steps, warmup, eval_every;
    vn_pos_embedding pos;
    uint64_t seed;
} train_args;

typedef struct run {
    float loss[MAX_STEPS], acc[MAX_STEPS];
    double held_out[MAX_EVALS], held_out_other;
    int64_t eval_step[MAX_EVALS];
    int n_evals;
} run;

static double mean_of(const float *x, int64_t from, int64_t to)
{
    double s = 0.0;
    for (int64_t i = from; i < to; i++)
        s += x[i];
    return s / (double)(to - from);
}

static int train_run(vn_context *ctx, vn_precision p, const train_args *ta, run *out, const char *save_dir)
{
    vn_encoder_config cfg;
    CHECK(vn_encoder_config_preset(&cfg, "xs", VN_ENCODER_VIDEO));
    cfg.pos = ta->pos;
    cfg.seed = ta->seed;
    vn_train_options o = VN_TRAIN_OPTIONS_INIT;
    o.seed = ta->seed;
    o.objectives = "aot";
    o.data = "world:aot";
    o.batch = 16;
    o.total_steps = ta->steps;
    o.warmup_steps = ta->warmup;
    vn_trainer *tr = NULL;
    CHECK(vn_trainer_create(&tr, ctx, &cfg, &o));
    CHECK(vn_trainer_set_precision(tr, p));
    out->n_evals = 0;
    for (int64_t s = 0; s < ta->steps; s++) {
        vn_train_metrics m = VN_TRAIN_METRICS_INIT;
        CHECK(vn_trainer_step(tr, &m));
        out->loss[s] = m.loss, out->acc[s] = m.accuracy[VN_OBJECTIVE_AOT];
        if ((ta->eval_every > 0 && (s + 1) % ta->eval_every == 0) || s + 1 == ta->steps) {
            vn_train_metrics ev = VN_TRAIN_METRICS_INIT;
            CHECK(vn_trainer_evaluate(tr, &ev));
            if (out->n_evals < MAX_EVALS) {
                out->eval_step[out->n_evals] = s + 1;
                out->held_out[out->n_evals++] = ev.accuracy[VN_OBJECTIVE_AOT];
            }
        }
    }
    /* the same weights through the other precision's products */
    vn_train_metrics ev = VN_TRAIN_METRICS_INIT;
    CHECK(vn_trainer_set_precision(tr, p == VN_PRECISION_FP32 ? VN_PRECISION_BF16 : VN_PRECISION_FP32));
    CHECK(vn_trainer_evaluate(tr, &ev));
    out->held_out_other = ev.accuracy[VN_OBJECTIVE_AOT];
    if (save_dir)
        CHECK(vn_trainer_save(tr, save_dir));
    vn_trainer_destroy(tr);
    return 0;
}

/* Seconds per step at fp32 and at bf16: two trainers from the same seed stepping in
 * alternation (after two warm-up steps each), the best of 10 steps each. */
static int step_times(vn_context *ctx, const train_args *ta, double sec[2])
{
    vn_encoder_config cfg;
    CHECK(vn_encoder_config_preset(&cfg, "xs", VN_ENCODER_VIDEO));
    cfg.pos = ta->pos;
    vn_train_options o = VN_TRAIN_OPTIONS_INIT;
    o.batch = 16;
    vn_trainer *tr[2] = {NULL, NULL};
    for (int p = 0; p < 2; p++) {
        CHECK(vn_trainer_create(&tr[p], ctx, &cfg, &o));
        CHECK(vn_trainer_set_precision(tr[p], p ? VN_PRECISION_BF16 : VN_PRECISION_FP32));
        sec[p] = 1e30;
    }
    for (int r = 0; r < 12; r++)
        for (int p = 0; p < 2; p++) {
            double t0 = vn_bench_now();
            CHECK(vn_trainer_step(tr[p], NULL));
            if (r >= 2)
                sec[p] = fmin(sec[p], vn_bench_now() - t0);
        }
    vn_trainer_destroy(tr[0]);
    vn_trainer_destroy(tr[1]);
    return 0;
}

static int training(vn_context *ctx, const train_args *ta)
{
    static run runs[2];
    const char *dir = "bf16_accuracy_fp32_run";
    const int64_t steps = ta->steps;
    printf("\n## Training: xs video (%s positions), aot on world:aot, batch 16, lr 1e-3, %lld steps, seed %llu\n\n",
           ta->pos == VN_POS_SINCOS ? "sin-cos" : "learned", (long long)steps, (unsigned long long)ta->seed);
    fflush(stdout);
    if (train_run(ctx, VN_PRECISION_FP32, ta, &runs[0], dir) || train_run(ctx, VN_PRECISION_BF16, ta, &runs[1], NULL))
        return 1;
    printf("| step | fp32 loss | bf16 loss | fp32 mean of 10 | bf16 mean of 10 |\n|---:|---:|---:|---:|---:|\n");
    const int64_t at[4] = {50, 100, 200, 300};
    for (int i = 0; i < 4; i++) {
        int64_t s = at[i] * steps / 300;
        if (s < 1)
            continue;
        printf("| %lld | %.4f | %.4f | %.4f | %.4f |\n", (long long)s, runs[0].loss[s - 1], runs[1].loss[s - 1],
               mean_of(runs[0].loss, s >= 10 ? s - 10 : 0, s), mean_of(runs[1].loss, s >= 10 ? s - 10 : 0, s));
    }
    int64_t tail = steps >= 50 ? steps - 50 : 0;
    printf("\n| | fp32 | bf16 |\n|---|---:|---:|\n");
    printf("| train accuracy, last step | %.3f | %.3f |\n", runs[0].acc[steps - 1], runs[1].acc[steps - 1]);
    printf("| train accuracy, mean of the last %lld steps | %.3f | %.3f |\n", (long long)(steps - tail),
           mean_of(runs[0].acc, tail, steps), mean_of(runs[1].acc, tail, steps));
    for (int e = 0; e < runs[0].n_evals; e++)
        printf("| held-out accuracy (256 clips), step %lld | %.3f | %.3f |\n", (long long)runs[0].eval_step[e],
               runs[0].held_out[e], runs[1].held_out[e]);
    printf("| held-out accuracy of the final model with the other precision's products | %.3f (bf16) | %.3f (fp32) |\n",
           runs[0].held_out_other, runs[1].held_out_other);
    double sec[2];
    if (step_times(ctx, ta, sec))
        return 1;
    printf("| seconds per step (best of 10, alternating) | %.3f | %.3f |\n", sec[0], sec[1]);
    fflush(stdout);

    /* The trained encoder's embeddings: trained weights are larger and less random. */
    char path[256];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    vn_encoder *enc = NULL;
    CHECK(vn_encoder_load(&enc, ctx, path));
    printf("\n| encoder | clips | rel. L2 error | worst clip | min cosine | fp32 clips/s | bf16 clips/s "
           "| speed-up |\n");
    printf("|---|---:|---:|---:|---:|---:|---:|---:|\n");
    int rc = embed_case(ctx, enc, "xs video, trained (fp32)", NULL, VN_ENCODER_VIDEO, 64);
    vn_encoder_destroy(enc);
    remove(path);
    snprintf(path, sizeof path, "%s/trainer.safetensors", dir);
    remove(path);
    remove(dir);
    return rc;
}

/* GFLOP/s of a GEMM shape at fp32 and at bf16: the best of 3 * REPS runs of ~20 ms,
 * alternating the precisions as encode_rates does. */
static vn_status gemm_rates(const vn_be *be, vn_gemm_desc d, const float *a, const float *b, float *c,
                            double rate[2])
{
    double best[2] = {1e30, 1e30};
    for (int r = 0; r <= 3 * REPS; r++)
        for (int p = 0; p < 2; p++) {
            d.precision = p ? VN_GEMM_BF16 : VN_GEMM_FP32;
            int it = 0;
            double t0 = vn_bench_now();
            do {
                vn_status s = vn_be_gemm(be, &d, a, b, NULL, c);
                if (s != VN_OK)
                    return s;
                it++;
            } while (vn_bench_now() - t0 < 0.02);
            if (r > 0)
                best[p] = fmin(best[p], (vn_bench_now() - t0) / it);
        }
    for (int p = 0; p < 2; p++)
        rate[p] = 2.0 * (double)d.m * (double)d.n * (double)d.k / best[p] * 1e-9;
    return VN_OK;
}

static int gemms(int threads)
{
    static const struct {
        const char *what;
        int64_t m, n, k;
        int ta, tb;
    } shapes[] = {
        {"xs fc1 forward (16 clips)", 2048, 512, 128, 0, 1},
        {"xs fc2 forward", 2048, 128, 512, 0, 1},
        {"xs fc1 input gradient", 2048, 128, 512, 0, 0},
        {"xs fc1 weight gradient", 512, 128, 2048, 1, 0},
        {"s qkv forward (8 clips)", 4096, 576, 192, 0, 1},
        {"s fc2 forward", 4096, 192, 768, 0, 1},
        {"4096 x 768 x 192", 4096, 768, 192, 0, 1},
        {"2048 x 512 x 128", 2048, 512, 128, 0, 0},
        {"2048 cubed", 2048, 2048, 2048, 0, 0},
    };
    vn_backend_config cfg = {threads, 0, 0, 1};
    vn_be be;
    CHECK(vn_be_open(&be, VN_BACKEND_CPU, &cfg));
    printf("\n## GEMMs through vn_be_gemm on the cpu backend (%d thread%s)\n\n", threads, threads == 1 ? "" : "s");
    printf("| shape | m x n x k | trans | fp32 GFLOP/s | bf16 GFLOP/s | speed-up |\n|---|---|---|---:|---:|---:|\n");
    vn_rng r;
    vn_rng_seed(&r, 1, 0);
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        int64_t m = shapes[i].m, n = shapes[i].n, k = shapes[i].k;
        float *a = malloc(sizeof(float) * (size_t)(m * k)), *b = malloc(sizeof(float) * (size_t)(k * n));
        float *c = malloc(sizeof(float) * (size_t)(m * n));
        if (!a || !b || !c) {
            fprintf(stderr, "bf16_accuracy: out of memory\n");
            return 1;
        }
        for (int64_t j = 0; j < m * k; j++)
            a[j] = (float)vn_rng_uniform(&r) - 0.5f;
        for (int64_t j = 0; j < k * n; j++)
            b[j] = (float)vn_rng_uniform(&r) - 0.5f;
        double rate[2];
        CHECK(gemm_rates(&be, vn_gemm_desc_plain(shapes[i].ta, shapes[i].tb, m, n, k), a, b, c, rate));
        printf("| %s | %lld x %lld x %lld | %s%s | %.0f | %.0f | %.2fx |\n", shapes[i].what, (long long)m,
               (long long)n, (long long)k, shapes[i].ta ? "A^T" : "A", shapes[i].tb ? " B^T" : " B", rate[0], rate[1],
               rate[1] / rate[0]);
        fflush(stdout);
        free(a), free(b), free(c);
    }
    vn_be_close(&be);
    return 0;
}

int main(int argc, char **argv)
{
    int threads = 0, clips = 32, skip_train = 0, skip_gemm = 0;
    train_args ta = {300, -1, 0, VN_POS_LEARNED, 0};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--steps") && i + 1 < argc)
            ta.steps = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--warmup") && i + 1 < argc)
            ta.warmup = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--eval-every") && i + 1 < argc)
            ta.eval_every = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            ta.seed = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--pos") && i + 1 < argc)
            ta.pos = !strcmp(argv[++i], "sincos") ? VN_POS_SINCOS : VN_POS_LEARNED;
        else if (!strcmp(argv[i], "--clips") && i + 1 < argc)
            clips = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--skip-train"))
            skip_train = 1;
        else if (!strcmp(argv[i], "--skip-gemm"))
            skip_gemm = 1;
        else {
            fprintf(stderr, "usage: bf16_accuracy [--threads N] [--clips N] [--steps N] [--pos learned|sincos] "
                            "[--warmup N] [--eval-every N] [--seed N] [--skip-train] [--skip-gemm]\n");
            return 2;
        }
    }
    if (ta.steps < 1 || ta.steps > MAX_STEPS || clips < 1 || ta.eval_every < 0 ||
        (ta.eval_every > 0 && ta.steps / ta.eval_every >= MAX_EVALS)) {
        fprintf(stderr, "bf16_accuracy: --steps must be 1..%d, --clips >= 1, at most %d evaluations\n", MAX_STEPS,
                MAX_EVALS - 1);
        return 2;
    }
    vn_context_options co = VN_CONTEXT_OPTIONS_INIT;
    co.backend = VN_BACKEND_CPU;
    co.n_threads = threads;
    co.deterministic = 1;
    vn_context *ctx = NULL;
    CHECK(vn_context_create(&ctx, &co));
    CHECK(vn_context_threads(ctx, &threads));
    {
        vn_encoder_config cfg;
        vn_encoder *probe = NULL;
        CHECK(vn_encoder_config_preset(&cfg, "xs", VN_ENCODER_VIDEO));
        CHECK(vn_encoder_create(&probe, ctx, &cfg));
        vn_status s = vn_encoder_set_precision(probe, VN_PRECISION_BF16);
        vn_encoder_destroy(probe);
        if (s != VN_OK) {
            printf("bf16_accuracy: skipped: %s\n", vn_last_error());
            vn_context_destroy(ctx);
            return 0;
        }
    }
    printf("# bf16 against fp32 on the cpu backend (%d thread%s, libvnative %s)\n\n", threads, threads == 1 ? "" : "s",
           vn_version());
    printf("## Embeddings of vn_world aot clips, fresh weights (seed 0)\n\n");
    printf("| encoder | clips | rel. L2 error | worst clip | min cosine | fp32 clips/s | bf16 clips/s | speed-up |\n");
    printf("|---|---:|---:|---:|---:|---:|---:|---:|\n");
    const char *presets[2] = {"xs", "s"};
    const vn_encoder_family fams[2] = {VN_ENCODER_VIDEO, VN_ENCODER_FRAMES};
    for (int p = 0; p < 2; p++)
        for (int f = 0; f < 2; f++) {
            char label[64];
            snprintf(label, sizeof label, "%s %s", presets[p], vn_encoder_family_name(fams[f]));
            if (embed_case(ctx, NULL, label, presets[p], fams[f], p == 0 ? clips : (clips + 1) / 2))
                return 1;
        }
    if (!skip_train && training(ctx, &ta))
        return 1;
    if (!skip_gemm && gemms(threads))
        return 1;
    vn_context_destroy(ctx);
    return 0;
}
