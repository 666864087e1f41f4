/*
 * bench_train_gpu: training throughput (clips/s) and model FLOPs utilisation (MFU) of a full
 * vn_trainer_step on the CUDA backend (bench/train_gpu_bench.sh runs it). Public API only,
 * linked against the shared library, so it measures what a user program gets.
 *
 *   bench_train_gpu [--model xs|s] [--family video|frames] [--batch N] [--steps N]
 *                   [--warmup N] [--precision fp32|tf32|bf16] [--peak-tflops X]
 *                   [--attention joint|divided] [--device N] [--json]
 *
 * The objective is aot on world:aot clips: the cheapest objective, one encoder forward and
 * backward per clip, so the step is dominated by the encoder being measured. A step is what
 * vn_trainer_step does end to end (render and upload the batch, forward, backward, gradient
 * clip, AdamW). The step reads back the loss and the gradient norm, which waits for the
 * forward and backward on the GPU; the AdamW kernels queued after that may still run when
 * the call returns, and the next step's read-back waits for them. So in steady state each
 * timed interval holds one step's GPU work (rendering the next batch on the CPU overlaps
 * the previous update, as it would in a real run), which is why the median of many steps,
 * not any single one, is the number. Warm-up steps are untimed because the first steps pay
 * for cuBLAS(Lt) heuristics, workspace and pool allocations.
 *
 * Without a usable GPU (no CUDA in this build, no driver, no device) it prints one line
 * {"status":"skipped","reason":"..."} with the library's reason and exits 0, so that
 * scripts and CI on CPU-only machines can run it unconditionally.
 *
 * Exit status: 0 measured or skipped, 1 a library error (vn_last_error() on stderr),
 * 2 bad flags.
 */
#include "vnative/vnative.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_clock.h"

static const char *const usage_text =
    "usage: bench_train_gpu [--model xs|s] [--family video|frames] [--batch N] [--steps N]\n"
    "                       [--warmup N] [--precision fp32|tf32|bf16] [--peak-tflops X]\n"
    "                       [--attention joint|divided] [--device N] [--json]\n"
    "  --model        encoder preset (default s)\n"
    "  --family       encoder family (default video)\n"
    "  --batch        clips per step, >= 2 (default: 16 for xs, 8 for s)\n"
    "  --steps        timed steps, >= 1 (default 50)\n"
    "  --warmup       untimed steps first, >= 0 (default 10)\n"
    "  --precision    matrix-product precision (default fp32)\n"
    "  --peak-tflops  the device's peak for MFU, instead of the built-in estimate\n"
    "  --attention    video family: joint or divided space-time attention (default joint)\n"
    "  --device       CUDA device index (default 0)\n"
    "  --json         one JSON object per line instead of the table\n";

__attribute__((format(printf, 1, 2))) static int usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bench_train_gpu: ");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n%s", usage_text);
    return 2;
}

static int fail(const char *what)
{
    const char *msg = vn_last_error();
    /* the library's messages usually start with the function's name already */
    if (!*msg)
        fprintf(stderr, "bench_train_gpu: %s failed\n", what);
    else if (!strncmp(msg, what, strlen(what)))
        fprintf(stderr, "bench_train_gpu: %s\n", msg);
    else
        fprintf(stderr, "bench_train_gpu: %s: %s\n", what, msg);
    return 1;
}

static int parse_int(const char *s, long lo, long hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

static int parse_positive(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v > 0) || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

/* Strings from the library (a device name, a reason) go into JSON verbatim otherwise. */
static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

/* ---- model FLOPs ----------------------------------------------------------------------- */

/* Forward FLOPs of one clip by kind, and the training total. */
typedef struct model_flops {
    double embed;      /* the patch / tubelet embedding GEMM */
    double linear;     /* the blocks' qkv, proj, fc1, fc2 (and divided attention's temporal qkv, proj) */
    double attention;  /* QK^T and AV of every block */
    double pool;       /* attentive pooling's query against the tokens (0 for mean pooling) */
    double head;       /* the aot head */
    double forward;    /* sum of the above */
    double train;      /* per clip per optimiser step */
} model_flops;

/* GEMMs of `depth` pre-norm blocks over `rows` tokens of width D and MLP width H. */
static double block_gemms(int depth, double rows, double D, double H, int divided)
{
    double per = 2 * rows * D * 3 * D   /* qkv */
                 + 2 * rows * D * D     /* proj */
                 + 2 * rows * D * H     /* fc1 */
                 + 2 * rows * H * D;    /* fc2 */
    if (divided)
        per += 2 * rows * D * 3 * D + 2 * rows * D * D; /* the temporal attention's own qkv and proj */
    return depth * per;
}

/*
 * Model FLOPs per clip of one training step with the aot objective, from the config alone,
 * by the usual MFU convention (Kaplan et al. 2020; PaLM, Chowdhery et al. 2022, app. B):
 *   - a multiply-add is 2 FLOPs, so a GEMM [M,K] x [K,N] is 2*M*N*K;
 *   - forward: every GEMM (tubelet/patch embed, per block qkv, proj, fc1, fc2, the head)
 *     plus attention at 4*B*T*T*D per block (QK^T and AV, 2*T*T*D each, per sequence of
 *     T tokens; divided attention counts its temporal sequences of F tubelets and its
 *     spatial sequences of S patches separately); attentive pooling at 4*T*D;
 *   - training = 3 x forward: the backward is taken as twice the forward.
 * The convention counts the work the model needs, not what the implementation does, so it
 * deliberately ignores that the embed has no input gradient (slight overcount), that a fused
 * attention backward recomputes the scores (undercount), and every elementwise op (norms,
 * GELU, softmax, AdamW): MFU compares matmul work against a matmul peak. Not counted either:
 * clip rendering, which runs on the CPU inside the step and so lowers the measured MFU.
 */
static model_flops count_model_flops(const vn_encoder_config *c)
{
    model_flops f = {0};
    double D = c->dim, H = (double)lroundf((float)c->dim * c->mlp_ratio), p = c->patch;
    double S = (double)(c->size / c->patch) * (double)(c->size / c->patch); /* patches per frame */
    int video = c->family == VN_ENCODER_VIDEO;
    double tt = video ? c->tubelet_t : 1;
    double F = video ? (double)(c->frames / c->tubelet_t) : c->frames; /* token steps in time */
    double rows = F * S;                                               /* tokens per clip */
    int divided = video && c->attention == VN_ATTENTION_DIVIDED;

    f.embed = 2 * rows * (c->channels * tt * p * p) * D;
    f.linear = block_gemms(c->depth, rows, D, H, divided);
    if (!video)
        f.attention = c->depth * 4 * F * S * S * D;                     /* F frames of S patches */
    else if (divided)
        f.attention = c->depth * (4 * S * F * F * D + 4 * F * S * S * D); /* temporal + spatial */
    else
        f.attention = c->depth * 4 * rows * rows * D;                   /* one sequence of F*S */
    if (c->pooling == VN_POOLING_ATTENTIVE)
        f.pool = 4 * rows * D;
    if (c->family == VN_ENCODER_FRAMES_TEMPORAL) {
        /* not reachable from the flags; kept so that the count is right for every config */
        f.linear += block_gemms(c->temporal_depth, c->frames, D, H, 0);
        f.attention += c->temporal_depth * 4.0 * c->frames * c->frames * D;
    }
    f.head = 2 * D * 1;
    f.forward = f.embed + f.linear + f.attention + f.pool + f.head;
    f.train = 3 * f.forward;
    return f;
}

/* ---- peak FLOPs ------------------------------------------------------------------------ */

/*
 * Dense peak throughput per SM per clock and a nominal boost clock, per architecture, taken
 * from one reference part of each (NVIDIA whitepapers and datasheets). The estimate scales the
 * reference part by the device's SM count only: vn_device_info has no clock, so a part of the
 * same architecture with another clock (H100 PCIe, A30, L4, ...) is off by the clock ratio.
 * Tensor rates are with fp32 accumulation, which is what vnative's tf32 and bf16 GEMMs use;
 * GeForce parts run those at half the rate of the professional parts of the same chip, hence
 * separate rows matched on the device name. fp32 is the CUDA-core FMA rate. Hopper's tensor
 * cores sustain a lower clock than its CUDA cores (1.83 vs 1.98 GHz on the SXM5), which is
 * why the clock is per kind.
 */
typedef struct peak_row {
    int major, minor;
    const char *name_has;  /* NULL: any device of that capability not matched by an earlier row */
    const char *reference; /* the part the numbers come from, printed with the estimate */
    int ref_sms;
    double fp32_per_sm_clk, tf32_per_sm_clk, bf16_per_sm_clk; /* dense FLOPs per SM per clock */
    double fp32_ghz, tensor_ghz;
} peak_row;

static const peak_row peak_table[] = {
    /* A100 SXM4: 19.5 / 156 / 312 TFLOPS */
    {8, 0, NULL, "A100 SXM4 (108 SMs, 1.41 GHz)", 108, 128, 1024, 2048, 1.41, 1.41},
    /* RTX 3090: 35.6 / 35.6 / 71 TFLOPS (GeForce: half-rate fp32 accumulation) */
    {8, 6, "GeForce", "RTX 3090 (82 SMs, 1.695 GHz)", 82, 256, 256, 512, 1.695, 1.695},
    /* RTX A6000: 38.7 / 77.4 / 154.8 TFLOPS (also A10, A40 within their clocks) */
    {8, 6, NULL, "RTX A6000 (84 SMs, 1.80 GHz)", 84, 256, 512, 1024, 1.80, 1.80},
    /* RTX 4090: 82.6 / 82.6 / 165.2 TFLOPS (GeForce: half-rate fp32 accumulation) */
    {8, 9, "GeForce", "RTX 4090 (128 SMs, 2.52 GHz)", 128, 256, 256, 512, 2.52, 2.52},
    /* L40S: 91.6 / 183 / 366 TFLOPS (datasheet 362) */
    {8, 9, NULL, "L40S (142 SMs, 2.52 GHz)", 142, 256, 512, 1024, 2.52, 2.52},
    /* H100 SXM5: 66.9 / 494.7 / 989.4 TFLOPS */
    {9, 0, NULL, "H100 SXM5 (132 SMs, 1.98 GHz CUDA cores, 1.83 GHz tensor cores)", 132, 256, 2048, 4096, 1.98,
     1.83},
};

typedef struct peak_estimate {
    double tflops;      /* 0: unknown */
    char source[256];   /* how it was obtained, for the output */
} peak_estimate;

static peak_estimate estimate_peak(const vn_device_info *d, vn_precision prec, double override_tflops)
{
    peak_estimate e = {0};
    if (override_tflops > 0) {
        e.tflops = override_tflops;
        snprintf(e.source, sizeof e.source, "--peak-tflops");
        return e;
    }
    for (size_t i = 0; i < sizeof peak_table / sizeof peak_table[0]; i++) {
        const peak_row *r = &peak_table[i];
        if (r->major != d->capability_major || r->minor != d->capability_minor)
            continue;
        if (r->name_has && !strstr(d->name, r->name_has))
            continue;
        double per_clk = prec == VN_PRECISION_BF16   ? r->bf16_per_sm_clk
                         : prec == VN_PRECISION_TF32 ? r->tf32_per_sm_clk
                                                     : r->fp32_per_sm_clk;
        double ghz = prec == VN_PRECISION_FP32 ? r->fp32_ghz : r->tensor_ghz;
        e.tflops = per_clk * d->compute_units * ghz * 1e9 / 1e12;
        snprintf(e.source, sizeof e.source,
                 "estimate: sm_%d%d row %s, %g %s FLOPs/SM/clock x %d SMs x %g GHz", r->major, r->minor,
                 r->reference, per_clk, vn_precision_name(prec), d->compute_units, ghz);
        return e;
    }
    snprintf(e.source, sizeof e.source, "unknown: no table row for sm_%d%d; pass --peak-tflops",
             d->capability_major, d->capability_minor);
    return e;
}

/* ---- main ------------------------------------------------------------------------------ */

int main(int argc, char **argv)
{
    const char *model = "s";
    vn_encoder_family family = VN_ENCODER_VIDEO;
    vn_attention_kind attention = VN_ATTENTION_JOINT;
    vn_precision prec = VN_PRECISION_FP32;
    int batch = 0, steps = 50, warmup = 10, device = 0, json = 0;
    double peak_override = 0.0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--json")) {
            json = 1;
            continue;
        }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage_text, stdout);
            return 0;
        }
        static const char *const valued[] = {"--model", "--family", "--attention", "--precision", "--batch",
                                             "--steps", "--warmup", "--device", "--peak-tflops"};
        int known = 0;
        for (size_t k = 0; k < sizeof valued / sizeof valued[0]; k++)
            known |= !strcmp(a, valued[k]);
        if (!known)
            return usage(strncmp(a, "--", 2) ? "unexpected argument '%s'" : "unknown option %s", a);
        if (i + 1 >= argc)
            return usage("%s needs a value", a);
        const char *v = argv[++i];
        if (!strcmp(a, "--model")) {
            if (strcmp(v, "xs") && strcmp(v, "s"))
                return usage("--model is '%s'; it must be xs or s", v);
            model = v;
        } else if (!strcmp(a, "--family")) {
            if (!strcmp(v, "video"))
                family = VN_ENCODER_VIDEO;
            else if (!strcmp(v, "frames"))
                family = VN_ENCODER_FRAMES;
            else
                return usage("--family is '%s'; it must be video or frames", v);
        } else if (!strcmp(a, "--attention")) {
            if (!strcmp(v, "joint"))
                attention = VN_ATTENTION_JOINT;
            else if (!strcmp(v, "divided"))
                attention = VN_ATTENTION_DIVIDED;
            else
                return usage("--attention is '%s'; it must be joint or divided", v);
        } else if (!strcmp(a, "--precision")) {
            if (vn_precision_from_name(v, &prec) != VN_OK)
                return usage("--precision is '%s'; it must be fp32, tf32 or bf16", v);
        } else if (!strcmp(a, "--batch")) {
            if (parse_int(v, 2, 1 << 20, &batch))
                return usage("--batch is '%s'; it must be an integer >= 2", v);
        } else if (!strcmp(a, "--steps")) {
            if (parse_int(v, 1, 1 << 24, &steps))
                return usage("--steps is '%s'; it must be an integer >= 1", v);
        } else if (!strcmp(a, "--warmup")) {
            if (parse_int(v, 0, 1 << 24, &warmup))
                return usage("--warmup is '%s'; it must be an integer >= 0", v);
        } else if (!strcmp(a, "--device")) {
            if (parse_int(v, 0, 1 << 16, &device))
                return usage("--device is '%s'; it must be an integer >= 0", v);
        } else if (!strcmp(a, "--peak-tflops")) {
            if (parse_positive(v, &peak_override))
                return usage("--peak-tflops is '%s'; it must be a number > 0", v);
        }
    }
    if (attention == VN_ATTENTION_DIVIDED && family != VN_ENCODER_VIDEO)
        return usage("--attention divided needs --family video");
    if (!batch)
        batch = !strcmp(model, "xs") ? 16 : 8; /* the presets' benchmark batches (encoder.h) */

    int ok = 0;
    const char *reason = "";
    if (vn_backend_available(VN_BACKEND_CUDA, &ok, &reason) != VN_OK)
        return fail("vn_backend_available");
    if (!ok) {
        printf("{\"status\":\"skipped\",\"reason\":");
        json_string(stdout, reason && *reason ? reason : "the CUDA backend is not available");
        printf("}\n");
        return 0;
    }

    vn_encoder_config cfg;
    if (vn_encoder_config_preset(&cfg, model, family) != VN_OK)
        return fail("vn_encoder_config_preset");
    cfg.attention = attention;
    cfg.seed = 1;

    vn_context_options co = VN_CONTEXT_OPTIONS_INIT;
    co.backend = VN_BACKEND_CUDA;
    co.device = device;
    co.seed = 1;
    vn_context *ctx = NULL;
    if (vn_context_create(&ctx, &co) != VN_OK)
        return fail("vn_context_create");
    vn_backend_kind kind;
    if (vn_context_backend(ctx, &kind) != VN_OK)
        return fail("vn_context_backend");
    if (kind != VN_BACKEND_CUDA) {
        /* VN_BACKEND in the environment wins over the options; a CPU number here would be
         * reported against a GPU peak. */
        fprintf(stderr, "bench_train_gpu: the context runs on %s (VN_BACKEND overrides the options); unset "
                        "VN_BACKEND or set it to cuda\n",
                vn_backend_name(kind));
        vn_context_destroy(ctx);
        return 1;
    }
    vn_device_info dev = VN_DEVICE_INFO_INIT;
    if (vn_device_get_info(VN_BACKEND_CUDA, device, &dev) != VN_OK)
        return fail("vn_device_get_info");

    vn_train_options to = VN_TRAIN_OPTIONS_INIT;
    to.objectives = "aot";
    to.data = "world:aot";
    to.batch = batch;
    to.total_steps = (int64_t)warmup + steps; /* the schedule ends with the run; lr does not matter for speed */
    to.seed = 1;
    vn_trainer *tr = NULL;
    if (vn_trainer_create(&tr, ctx, &cfg, &to) != VN_OK)
        return fail("vn_trainer_create");
    if (vn_trainer_set_precision(tr, prec) != VN_OK)
        return fail("vn_trainer_set_precision");

    double *dt = malloc((size_t)steps * sizeof *dt);
    if (!dt) {
        fprintf(stderr, "bench_train_gpu: out of memory\n");
        return 1;
    }
    vn_train_metrics m = VN_TRAIN_METRICS_INIT;
    for (int s = 0; s < warmup; s++)
        if (vn_trainer_step(tr, &m) != VN_OK)
            return fail("vn_trainer_step");
    for (int s = 0; s < steps; s++) {
        double t0 = vn_bench_now();
        if (vn_trainer_step(tr, &m) != VN_OK)
            return fail("vn_trainer_step");
        dt[s] = vn_bench_now() - t0;
    }
    float last_loss = m.loss;

    double total = 0.0;
    for (int s = 0; s < steps; s++)
        total += dt[s];
    qsort(dt, (size_t)steps, sizeof *dt, vn_bench_cmp_double);
    /* the median of an even count is the mean of the middle two */
    double med_dt = steps % 2 ? dt[steps / 2] : 0.5 * (dt[steps / 2 - 1] + dt[steps / 2]);
    double best_dt = dt[0];
    double clips_med = batch / med_dt, clips_mean = batch * (double)steps / total, clips_best = batch / best_dt;
    free(dt);

    model_flops f = count_model_flops(&cfg);
    double achieved = f.train * clips_med / 1e12; /* TFLOP/s at the median step */
    peak_estimate pk = estimate_peak(&dev, prec, peak_override);
    double mfu = pk.tflops > 0 ? achieved / pk.tflops : (double)NAN;
    const char *fam = vn_encoder_family_name(family);
    const char *att = family == VN_ENCODER_VIDEO ? (attention == VN_ATTENTION_DIVIDED ? "divided" : "joint") : "-";

    if (json) {
        printf("{\"status\":\"ok\",\"device\":");
        json_string(stdout, dev.name);
        printf(",\"device_index\":%d,\"capability\":\"%d.%d\",\"sms\":%d,\"model\":\"%s\",\"family\":\"%s\","
               "\"attention\":\"%s\",\"precision\":\"%s\",\"batch\":%d,\"warmup\":%d,\"steps\":%d,"
               "\"step_ms_median\":%.4f,\"clips_per_s\":%.2f,\"clips_per_s_mean\":%.2f,\"clips_per_s_best\":%.2f,"
               "\"flops_per_clip\":%.6g,\"flops_per_step\":%.6g,\"achieved_tflops\":%.4f,",
               device, dev.capability_major, dev.capability_minor, dev.compute_units, model, fam, att,
               vn_precision_name(prec), batch, warmup, steps, 1e3 * med_dt, clips_med, clips_mean, clips_best,
               f.train, f.train * batch, achieved);
        if (pk.tflops > 0)
            printf("\"peak_tflops\":%.2f,", pk.tflops);
        else
            printf("\"peak_tflops\":null,");
        printf("\"peak_estimated\":%s,\"peak_source\":", peak_override > 0 ? "false" : "true");
        json_string(stdout, pk.source);
        if (pk.tflops > 0)
            printf(",\"mfu\":%.5f", mfu);
        else
            printf(",\"mfu\":null");
        printf(",\"last_loss\":%.6g}\n", (double)last_loss);
    } else {
        printf("bench_train_gpu: one vn_trainer_step (aot on world:aot) on the CUDA backend\n");
        printf("  device            %s (index %d, sm_%d%d, %d SMs, %.1f GiB)\n", dev.name, device,
               dev.capability_major, dev.capability_minor, dev.compute_units,
               (double)dev.memory_bytes / (1024.0 * 1024.0 * 1024.0));
        printf("  model             %s, %s%s%s, %dx%dx%d, dim %d, depth %d, %d heads\n", model, fam,
               family == VN_ENCODER_VIDEO ? ", " : "", family == VN_ENCODER_VIDEO ? att : "", cfg.frames, cfg.size,
               cfg.size, cfg.dim, cfg.depth, cfg.heads);
        printf("  precision         %s\n", vn_precision_name(prec));
        printf("  batch             %d (%d warm-up steps untimed, %d timed)\n", batch, warmup, steps);
        printf("  step time         %.3f ms median\n", 1e3 * med_dt);
        printf("  clips/s           %.1f median, %.1f mean, %.1f best step\n", clips_med, clips_mean, clips_best);
        printf("  model FLOPs/clip  %.4g (3 x forward %.4g: embed %.3g, block GEMMs %.3g, attention %.3g, "
               "pool %.3g, head %.3g)\n",
               f.train, f.forward, f.embed, f.linear, f.attention, f.pool, f.head);
        printf("  achieved          %.3f TFLOP/s (at the median step)\n", achieved);
        if (pk.tflops > 0) {
            printf("  peak              %.1f TFLOP/s (%s)\n", pk.tflops, pk.source);
            printf("  MFU               %.2f%%\n", 100.0 * mfu);
        } else {
            printf("  peak              %s\n", pk.source);
            printf("  MFU               n/a\n");
        }
    }
    vn_trainer_destroy(tr);
    vn_context_destroy(ctx);
    return 0;
}
