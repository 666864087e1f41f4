/*
 * vnative bench: the speed of a training step, of encode, of the world generator and of
 * the clip loader, through the public API, with the FLOPs of a step counted from the
 * shapes of what ran (the profiler's analytic count) and an optional per-op profile.
 * bench/perf_bench.sh runs it beside the same models in PyTorch and writes the table of
 * docs/PERFORMANCE.md.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli_flags.h"
#include "cli/commands.h"
#include "cli/profile_table.h"
#include "vnative/vnative.h"

#define CMD "bench"

typedef struct bargs {
    const char *model, *family, *attention, *what, *precision, *data;
    int64_t batch, threads, steps, warmup, reps;
    int profile, json;
} bargs;

#define FS(n, f) VN_FLAG_S(bargs, n, f)
#define FI(n, f, lo, hi) VN_FLAG_I(bargs, n, f, lo, hi)

static const vn_cli_flag flags[] = {
    FS("--model", model),         FS("--family", family),       FS("--attention", attention),
    FS("--what", what),           FS("--precision", precision), FS("--data", data),
    FI("--batch", batch, 0, 4096), FI("--threads", threads, 0, 1024), FI("--steps", steps, 1, 100000),
    FI("--warmup", warmup, 0, 1000), FI("--reps", reps, 1, 100000), VN_FLAG_B(bargs, "--profile", profile),
    VN_FLAG_B(bargs, "--json", json),
};
#define N_FLAGS (int)(sizeof flags / sizeof flags[0])

static void usage(FILE *f)
{
    fprintf(f,
            "usage: vnative bench [--model xs|s] [--family frames|frames+temporal|video] [--attention joint|divided]\n"
            "                     [--batch N] [--threads N] [--precision fp32|bf16] [--what step,encode,world,loader]\n"
            "                     [--steps N] [--warmup N] [--reps N] [--data DIR] [--profile] [--json]\n"
            "\n"
            "Times, on the cpu backend (or VN_BACKEND):\n"
            "  step    vn_trainer_step with the aot objective on world:aot clips (data, forward,\n"
            "          backward, grad-norm clip, AdamW): median ms over --steps after --warmup;\n"
            "  encode  vn_encoder_encode of a batch (forward only): median of --reps;\n"
            "  world   vn_world_batch clips/s (clips of the model's size), 1 thread and all threads;\n"
            "  loader  vn_loader clips/s over the videos of --data DIR (2 workers, the model's clip).\n"
            "FLOPs per step and per encode are counted from the shapes of the GEMMs and attention\n"
            "that ran (2*m*n*k; attention 4*B*T*T*C forward, 8*B*T*T*C backward). --profile prints\n"
            "where a step's time goes, op by op. --json prints one JSON object instead of text.\n"
            "Defaults: --model xs --family video --batch 16 (xs) or 8 (s) --threads 0 (all cores)\n"
            "--precision fp32 --what step,encode --steps 10 --warmup 3 --reps 5.\n");
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Resident set in MB from /proc/self/status: field "VmRSS:" now, "VmHWM:" the peak. */
static double proc_mb(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return NAN;
    char line[256];
    double kb = NAN;
    size_t n = strlen(field);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, field, n)) {
            kb = atof(line + n);
            break;
        }
    fclose(f);
    return kb / 1024.0;
}

static int has_word(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; (p = strstr(p, word)); p += n)
        if ((p == list || p[-1] == ',') && (p[n] == 0 || p[n] == ','))
            return 1;
    return 0;
}

/* The profile's counted FLOPs (all entries) and, per entry, the self seconds. */
static double profile_flops(vn_context *ctx)
{
    int n = 0;
    double total = 0;
    vn_context_profile_count(ctx, &n);
    for (int i = 0; i < n; i++) {
        double fl = 0;
        vn_context_profile_entry(ctx, i, NULL, NULL, NULL, &fl);
        total += fl;
    }
    return total;
}

typedef struct result {
    double step_ms, step_flops, encode_ms, encode_flops, rss_base_mb, rss_peak_mb;
    double data_wait_ms;
    double world1, worldn, loader;
    double encode_prof_s;
    vn_cli_profile *encode_prof; /* --profile: the encode's entries */
} result;

static int run_step(const bargs *a, vn_context *ctx, vn_trainer *tr, int64_t batch, result *r)
{
    vn_train_metrics m = VN_TRAIN_METRICS_INIT;
    for (int64_t i = 0; i < a->warmup; i++)
        if (vn_trainer_step(tr, &m) != VN_OK)
            return vn_cli_fail(CMD, "vn_trainer_step");
    double *t = calloc((size_t)a->steps, sizeof *t);
    if (!t)
        return vn_cli_fail(CMD, "out of memory");
    for (int64_t i = 0; i < a->steps; i++) {
        double t0 = now_s();
        if (vn_trainer_step(tr, &m) != VN_OK) {
            free(t);
            return vn_cli_fail(CMD, "vn_trainer_step");
        }
        t[i] = now_s() - t0;
    }
    r->step_ms = median(t, (int)a->steps) * 1e3;
    r->rss_peak_mb = proc_mb("VmHWM:");
    free(t);
    /* three more steps, profiled, for the FLOP count and the data wait per step (one
     * step's wait alone moved between 0.7 and 1.3 ms from run to run) */
    const int profiled = 3;
    vn_context_set_profiling(ctx, 1);
    int ok = 1;
    for (int i = 0; i < profiled && ok; i++)
        ok = vn_trainer_step(tr, &m) == VN_OK;
    vn_context_set_profiling(ctx, 0);
    if (!ok)
        return vn_cli_fail(CMD, "vn_trainer_step");
    r->step_flops = profile_flops(ctx) / profiled;
    int n = 0;
    vn_context_profile_count(ctx, &n);
    for (int i = 0; i < n; i++) {
        const char *name;
        double s;
        vn_context_profile_entry(ctx, i, &name, NULL, &s, NULL);
        if (!strncmp(name, "data", 4))
            r->data_wait_ms = s * 1e3 / profiled;
    }
    (void)batch;
    return 0;
}

static int run_encode(const bargs *a, vn_context *ctx, const vn_encoder *enc, const vn_encoder_config *cfg,
                      int64_t batch, result *r)
{
    vn_world_options wo = VN_WORLD_OPTIONS_INIT;
    wo.n_frames = cfg->frames;
    wo.size = cfg->size;
    wo.channels = cfg->channels;
    vn_world *w = NULL;
    if (vn_world_create(&w, &wo) != VN_OK)
        return vn_cli_fail(CMD, "vn_world_create");
    int64_t L, D;
    vn_encoder_output_shape(enc, &L, &D);
    int64_t shape[5] = {batch, cfg->channels, cfg->frames, cfg->size, cfg->size}, oshape[2] = {batch, D};
    size_t n_in = (size_t)(batch * cfg->channels * cfg->frames * cfg->size * cfg->size);
    float *x = malloc(n_in * sizeof *x), *y = malloc((size_t)(batch * D) * sizeof *y);
    double *t = calloc((size_t)a->reps, sizeof *t);
    int rc = 0;
    vn_tensor in, out;
    if (!x || !y || !t) {
        rc = vn_cli_fail(CMD, "out of memory");
        goto done;
    }
    vn_tensor_init(&in, x, VN_DTYPE_F32, 5, shape);
    vn_tensor_init(&out, y, VN_DTYPE_F32, 2, oshape);
    if (vn_world_batch(w, VN_TASK_AOT, 0, &in, NULL) != VN_OK) {
        rc = vn_cli_fail(CMD, "vn_world_batch");
        goto done;
    }
    for (int64_t i = -2; i < a->reps; i++) {
        double t0 = now_s();
        if (vn_encoder_encode(enc, &in, &out) != VN_OK) {
            rc = vn_cli_fail(CMD, "vn_encoder_encode");
            goto done;
        }
        if (i >= 0)
            t[i] = now_s() - t0;
    }
    r->encode_ms = median(t, (int)a->reps) * 1e3;
    vn_context_set_profiling(ctx, 1);
    if (vn_encoder_encode(enc, &in, &out) != VN_OK)
        rc = vn_cli_fail(CMD, "vn_encoder_encode");
    vn_context_set_profiling(ctx, 0);
    r->encode_flops = profile_flops(ctx);
    if (a->profile && !rc) {
        /* the table is printed after the summary; --profile's step table starts anew */
        vn_context_set_profiling(ctx, 1);
        double t0 = now_s();
        for (int64_t i = 0; i < a->reps && !rc; i++)
            if (vn_encoder_encode(enc, &in, &out) != VN_OK)
                rc = vn_cli_fail(CMD, "vn_encoder_encode");
        r->encode_prof_s = (now_s() - t0) / (double)a->reps;
        vn_context_set_profiling(ctx, 0);
        if (!rc && !(r->encode_prof = vn_cli_profile_snapshot(ctx)))
            rc = vn_cli_fail(CMD, "out of memory for the encode profile");
    }
done:
    free(x);
    free(y);
    free(t);
    vn_world_destroy(w);
    return rc;
}

/* Clips per second of vn_world_batch at the model's clip shape, for about 0.5 s. */
static double world_rate(const vn_encoder_config *cfg, int threads)
{
    vn_world_options wo = VN_WORLD_OPTIONS_INIT;
    wo.n_frames = cfg->frames;
    wo.size = cfg->size; /* world: training data is rendered at the model's frame size */
    wo.channels = cfg->channels;
    wo.n_threads = threads;
    vn_world *w = NULL;
    if (vn_world_create(&w, &wo) != VN_OK)
        return NAN;
    int64_t chunk = 64, shape[5] = {chunk, wo.channels, wo.n_frames, wo.size, wo.size};
    float *x = malloc((size_t)(chunk * wo.channels * wo.n_frames * wo.size * wo.size) * sizeof *x);
    double rate = NAN;
    vn_tensor t;
    if (x && vn_tensor_init(&t, x, VN_DTYPE_F32, 5, shape) == VN_OK) {
        int64_t clips = 0;
        double t0 = now_s(), dt = 0;
        while (dt < 0.5) {
            if (vn_world_batch(w, VN_TASK_AOT, clips, &t, NULL) != VN_OK)
                break;
            clips += chunk;
            dt = now_s() - t0;
        }
        rate = dt > 0 ? (double)clips / dt : NAN;
    }
    free(x);
    vn_world_destroy(w);
    return rate;
}

/* Clips per second of one epoch of a 2-worker loader over dir (after a warm-up epoch). */
static double loader_rate(const char *dir, const vn_encoder_config *cfg)
{
    vn_clip_options clip = VN_CLIP_OPTIONS_INIT;
    clip.n_frames = cfg->frames;
    clip.stride = 4;
    clip.start = -1;
    vn_transform_options tf = VN_TRANSFORM_OPTIONS_INIT;
    tf.crop_size = cfg->size;
    tf.random_resized_crop = 1;
    tf.hflip_prob = 0.5f;
    vn_loader_options o = VN_LOADER_OPTIONS_INIT;
    o.source = dir;
    o.batch_size = 8;
    o.n_workers = 2;
    o.seed = 1;
    o.clip = &clip;
    o.transform = &tf;
    vn_loader *L = NULL;
    if (vn_loader_create(&L, &o) != VN_OK)
        return NAN;
    int64_t shape[5];
    vn_loader_batch_shape(L, shape);
    float *buf = malloc((size_t)(shape[0] * shape[1] * shape[2] * shape[3] * shape[4]) * sizeof *buf);
    vn_tensor t;
    double rate = NAN;
    if (buf && vn_tensor_init(&t, buf, VN_DTYPE_F32, 5, shape) == VN_OK) {
        for (int epoch = 0; epoch < 2; epoch++) {
            double t0 = now_s();
            int64_t got, total = 0;
            vn_status s = vn_loader_start_epoch(L, epoch);
            while (s == VN_OK && (s = vn_loader_next(L, &t, NULL, NULL, &got)) == VN_OK)
                total += got;
            if (s != VN_ERR_END)
                break;
            rate = (double)total / (now_s() - t0);
        }
    }
    free(buf);
    vn_loader_destroy(L);
    return rate;
}

int vn_cmd_bench(int argc, char **argv)
{
    bargs a = {"xs", "video", NULL, "step,encode", "fp32", NULL, 0, 0, 10, 3, 5, 0, 0};
    int pr = vn_cli_parse_flags(CMD, flags, N_FLAGS, &a, argc, argv, NULL);
    if (pr == 1) {
        usage(stdout);
        return 0;
    }
    if (pr)
        return 2;
    if (!vn_cli_model_is_preset(a.model)) {
        fprintf(stderr, "vnative bench: --model takes a preset (xs or s), not '%s'\n", a.model);
        return 2;
    }
    static const char *const known[] = {"step", "encode", "world", "loader"};
    for (const char *p = a.what; *p;) {
        size_t n = strcspn(p, ",");
        int ok = 0;
        for (int i = 0; i < 4; i++)
            ok |= strlen(known[i]) == n && !strncmp(p, known[i], n);
        if (!ok) {
            fprintf(stderr, "vnative bench: --what '%.*s' is not one of step, encode, world, loader\n", (int)n, p);
            return 2;
        }
        p += n + (p[n] == ',');
    }
    if (has_word(a.what, "loader") && !a.data) {
        fprintf(stderr, "vnative bench: --what loader needs --data DIR (a folder of videos)\n");
        return 2;
    }
    vn_precision prec;
    if (vn_precision_from_name(a.precision, &prec) != VN_OK)
        return vn_cli_fail(CMD, "--precision");
    vn_encoder_config cfg;
    if (vn_cli_model_config(CMD, a.model, a.family, a.attention, NULL, 1, &cfg))
        return 2;
    int64_t batch = a.batch ? a.batch : !strcmp(a.model, "s") ? 8 : 16;
    const char *attention = cfg.attention == VN_ATTENTION_DIVIDED ? "divided" : "joint";

    result r = {NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NULL};
    vn_context_options co = VN_CONTEXT_OPTIONS_INIT;
    co.backend = VN_BACKEND_CPU;
    co.n_threads = (int)a.threads;
    co.seed = 1;
    vn_context *ctx = NULL;
    if (vn_context_create(&ctx, &co) != VN_OK)
        return vn_cli_fail(CMD, "vn_context_create");
    int threads = 0;
    vn_context_threads(ctx, &threads);
    r.rss_base_mb = proc_mb("VmRSS:");
    vn_train_options to = VN_TRAIN_OPTIONS_INIT;
    to.batch = (int)batch;
    to.total_steps = a.warmup + a.steps + 100;
    to.seed = 1;
    vn_trainer *tr = NULL;
    int rc = 0;
    if (vn_trainer_create(&tr, ctx, &cfg, &to) != VN_OK) {
        rc = vn_cli_fail(CMD, "vn_trainer_create");
        goto out;
    }
    if (prec != VN_PRECISION_FP32 && vn_trainer_set_precision(tr, prec) != VN_OK) {
        rc = vn_cli_fail(CMD, "--precision");
        goto out;
    }
    const vn_encoder *enc = NULL;
    vn_trainer_get_encoder(tr, &enc);
    int64_t n_params = 0;
    vn_encoder_num_params(enc, &n_params);
    if (has_word(a.what, "step") && (rc = run_step(&a, ctx, tr, batch, &r)))
        goto out;
    if (has_word(a.what, "encode") && (rc = run_encode(&a, ctx, enc, &cfg, batch, &r)))
        goto out;
    if (has_word(a.what, "world")) {
        r.world1 = world_rate(&cfg, 1);
        r.worldn = world_rate(&cfg, threads);
    }
    if (has_word(a.what, "loader") && isnan(r.loader = loader_rate(a.data, &cfg))) {
        rc = vn_cli_fail(CMD, "the loader");
        goto out;
    }

    if (a.json) {
        printf("{\"side\": \"vnative\", \"preset\": \"%s\", \"family\": \"%s\", \"attention\": \"%s\", "
               "\"precision\": \"%s\", \"batch\": %lld, \"threads\": %d, \"params\": %lld",
               a.model, vn_encoder_family_name(cfg.family), attention, vn_precision_name(prec), (long long)batch,
               threads, (long long)n_params);
        const char *keys[] = {"step_ms", "step_flops", "encode_ms", "encode_flops", "rss_base_mb", "rss_peak_mb",
                              "data_wait_ms", "world_clips_s_1t", "world_clips_s", "loader_clips_s", "world_size"};
        const double vals[] = {r.step_ms, r.step_flops, r.encode_ms, r.encode_flops, r.rss_base_mb, r.rss_peak_mb,
                               r.data_wait_ms, r.world1, r.worldn, r.loader, isnan(r.world1) ? NAN : (double)cfg.size};
        for (int i = 0; i < 11; i++)
            if (!isnan(vals[i]))
                printf(", \"%s\": %.6g", keys[i], vals[i]);
    } else {
        printf("vnative bench: preset %s, %s (%s attention), batch %lld, %d threads, %s, %lld parameters\n", a.model,
               vn_encoder_family_name(cfg.family), attention, (long long)batch, threads, vn_precision_name(prec),
               (long long)n_params);
        if (!isnan(r.step_ms))
            printf("  training step  %9.2f ms  %8.1f clips/s  %7.2f GFLOP  %7.1f GFLOP/s  data wait %.2f ms\n",
                   r.step_ms, (double)batch / r.step_ms * 1e3, r.step_flops * 1e-9, r.step_flops / r.step_ms * 1e-6,
                   r.data_wait_ms);
        if (!isnan(r.encode_ms))
            printf("  encode         %9.2f ms  %8.1f clips/s  %7.2f GFLOP  %7.1f GFLOP/s\n", r.encode_ms,
                   (double)batch / r.encode_ms * 1e3, r.encode_flops * 1e-9, r.encode_flops / r.encode_ms * 1e-6);
        if (!isnan(r.rss_peak_mb))
            printf("  memory         peak RSS %.0f MB (%.0f MB before the trainer)\n", r.rss_peak_mb, r.rss_base_mb);
        if (!isnan(r.world1))
            printf("  world          %9.0f clips/s on 1 thread, %.0f on %d (%d frames of %dx%d)\n", r.world1,
                   r.worldn, threads, cfg.frames, cfg.size, cfg.size);
        if (!isnan(r.loader))
            printf("  loader         %9.1f clips/s (2 workers, %s)\n", r.loader, a.data);
    }
    if (a.profile && r.encode_prof)
        vn_cli_print_profile(r.encode_prof, "encode", "encode_profile", a.reps, r.encode_prof_s, a.json);
    if (a.profile && has_word(a.what, "step")) {
        const int64_t psteps = 5;
        vn_train_metrics m = VN_TRAIN_METRICS_INIT;
        vn_context_set_profiling(ctx, 1);
        double t0 = now_s();
        for (int64_t i = 0; i < psteps; i++)
            if (vn_trainer_step(tr, &m) != VN_OK) {
                rc = vn_cli_fail(CMD, "vn_trainer_step");
                goto out;
            }
        double dt = (now_s() - t0) / (double)psteps;
        vn_context_set_profiling(ctx, 0);
        vn_cli_print_context_profile(ctx, "training step", "profile", psteps, dt, a.json);
    }
    if (a.json)
        printf("}\n");
out:
    vn_cli_profile_free(r.encode_prof);
    vn_trainer_destroy(tr);
    vn_context_destroy(ctx);
    return rc;
}
