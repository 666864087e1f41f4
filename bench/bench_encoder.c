/*
 * One training step and one encode of an encoder preset, timed (bench/encoder_bench.sh
 * runs this against the same model in PyTorch, bench/peer_torch_encoder.py).
 *
 *   bench_encoder PRESET FAMILY ATTENTION POOLING BATCH THREADS [REPS] [--frames N] [--precision fp32|tf32|bf16]
 *
 * --frames overrides the preset's clip length (video: a multiple of tubelet_t), so that
 * bench/attention_scaling.sh can grow the token count; --precision sets the encoder's GEMM
 * precision (vn_encoder_set_precision; exit 3 with its error where the backend lacks it).
 * step:   zero the gradients, vn_encoder_forward, vn_encoder_backward with the gradient of
 *         loss = sum(emb * G) (d_embeddings = G), one AdamW step over all parameters
 *         (weight decay 0.05 on the parameters vn_encoder_param_decays marks, 0 elsewhere);
 * encode: vn_encoder_encode (the public, thread-safe path: forward only; it creates and
 *         frees its activation memory on every call);
 * forward: vn_encoder_forward on activation memory made once and reused (what a trainer or
 *         an evaluation loop that keeps its vn_encoder_acts pays).
 * Each is warmed up, then timed REPS times (default 5); prints one JSON object with the
 * medians in seconds and the analytic FLOPs of one forward (flops_*; the step is 3 x the
 * forward), counted as bench/run_encoder_bench.py's forward_flops counts them.
 * Internal API (the training interface): links the static library.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/backend.h"
#include "core/rng.h"
#include "nn/encoder_train.h"
#include "nn/optim.h"
#include "vnative/context.h"
#include "vnative/encoder.h"

#include "bench_clock.h"

static void fail(const char *what)
{
    fprintf(stderr, "bench_encoder: %s: %s\n", what, vn_last_error());
    exit(1);
}

/* A missing feature (bf16 GEMMs on a backend without them) is not a failure of the run: exit 3
 * so that a driver can tell "unsupported here" from a crash. */
static void check(vn_status st, const char *what)
{
    if (st == VN_OK)
        return;
    fprintf(stderr, "bench_encoder: %s: %s\n", what, vn_last_error());
    exit(st == VN_ERR_UNSUPPORTED ? 3 : 1);
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_encoder PRESET FAMILY joint|divided mean|attentive BATCH THREADS [REPS] "
                    "[--frames N] [--precision fp32|tf32|bf16]\n");
    exit(2);
}

static double gemm_flops(double m, double n, double k)
{
    return 2.0 * m * n * k;
}

/* Forward FLOPs of the analytic model of bench/run_encoder_bench.py (blocks_flops and
 * forward_flops there; keep the two in step): 2*M*N*K per GEMM (patch embedding, qkv, proj,
 * fc1, fc2; divided adds the temporal qkv and proj), attention 4*B*NH*T*T*HS = 4*B*T*T*D
 * (QK^T and PV). Layernorm, GELU, softmax and mean pooling are not counted. Attentive
 * pooling, which the python never runs, adds its two matrix-vector products in *pool. */
typedef struct flops {
    double total, attn_joint, attn_temporal, attn_spatial, pool;
} flops;

static void blocks_flops(flops *f, double seqs, double T, double D, double hidden, int depth, int divided,
                         double F, double S)
{
    double M = seqs * T;
    double per_block = gemm_flops(M, 3 * D, D) + gemm_flops(M, D, D) + gemm_flops(M, hidden, D) +
                       gemm_flops(M, D, hidden);
    if (!divided) {
        f->attn_joint += depth * 4.0 * seqs * T * T * D;
    } else {
        per_block += gemm_flops(M, 3 * D, D) + gemm_flops(M, D, D);
        f->attn_temporal += depth * 4.0 * seqs * S * F * F * D;
        f->attn_spatial += depth * 4.0 * seqs * F * S * S * D;
    }
    f->total += depth * per_block;
}

static flops forward_flops(const vn_encoder_config *c, double N)
{
    flops f = {0};
    double D = c->dim, p = c->patch, C = c->channels, side = c->size / c->patch, S = side * side;
    double hidden = (double)lroundf((float)c->dim * c->mlp_ratio);
    if (c->family == VN_ENCODER_VIDEO) {
        double tt = c->tubelet_t, F = c->frames / c->tubelet_t;
        f.total += gemm_flops(N * F * S, D, C * tt * p * p);
        blocks_flops(&f, N, F * S, D, hidden, c->depth, c->attention == VN_ATTENTION_DIVIDED, F, S);
        if (c->pooling == VN_POOLING_ATTENTIVE)
            f.pool = 4.0 * N * F * S * D;
    } else {
        double T = c->frames;
        f.total += gemm_flops(N * T * S, D, C * p * p);
        blocks_flops(&f, N * T, S, D, hidden, c->depth, 0, 0, 0);
        if (c->family == VN_ENCODER_FRAMES_TEMPORAL)
            blocks_flops(&f, N, T, D, hidden, c->temporal_depth, 0, 0, 0);
        if (c->pooling == VN_POOLING_ATTENTIVE)
            f.pool = 4.0 * N * T * S * D;
    }
    f.total += f.attn_joint + f.attn_temporal + f.attn_spatial + f.pool;
    return f;
}

static float *alloc_floats(int64_t n)
{
    float *p = aligned_alloc(64, ((size_t)n * sizeof(float) + 63) / 64 * 64);
    if (!p) {
        fprintf(stderr, "bench_encoder: out of memory\n");
        exit(1);
    }
    return p;
}

int main(int argc, char **argv)
{
    if (argc < 7)
        usage();
    const char *preset = argv[1];
    int64_t N = atoll(argv[5]);
    int threads = atoi(argv[6]), reps = 5, frames = -1, argi = 7; /* -1: the preset's */
    if (argi < argc && strncmp(argv[argi], "--", 2))
        reps = atoi(argv[argi++]);
    if (reps < 1 || reps > 64)
        reps = 5;
    vn_precision precision = VN_PRECISION_FP32;
    for (; argi < argc; argi += 2) {
        if (argi + 1 >= argc)
            usage();
        if (!strcmp(argv[argi], "--frames"))
            frames = atoi(argv[argi + 1]);
        else if (!strcmp(argv[argi], "--precision")) {
            if (vn_precision_from_name(argv[argi + 1], &precision) != VN_OK)
                usage();
        } else
            usage();
    }
    if (N < 1)
        usage();
    vn_encoder_family family;
    if (vn_encoder_family_from_name(argv[2], &family) != VN_OK)
        fail("family");
    vn_encoder_config cfg;
    if (vn_encoder_config_init(&cfg, VN_ENCODER_CONFIG_VERSION) != VN_OK ||
        vn_encoder_config_preset(&cfg, preset, family) != VN_OK)
        fail("preset");
    cfg.attention = !strcmp(argv[3], "divided") ? VN_ATTENTION_DIVIDED : VN_ATTENTION_JOINT;
    cfg.pooling = !strcmp(argv[4], "attentive") ? VN_POOLING_ATTENTIVE : VN_POOLING_MEAN;
    if (frames != -1)
        cfg.frames = frames;

    vn_context_options opts;
    vn_context_options_init(&opts, VN_CONTEXT_OPTIONS_VERSION);
    opts.backend = VN_BACKEND_CPU;
    opts.n_threads = threads;
    opts.seed = 1;
    vn_context *ctx;
    if (vn_context_create(&ctx, &opts) != VN_OK)
        fail("context");
    vn_encoder *enc;
    if (vn_encoder_create(&enc, ctx, &cfg) != VN_OK)
        fail("vn_encoder_create");
    check(vn_encoder_set_precision(enc, precision), "--precision");
    int64_t L, D, n_floats;
    if (vn_encoder_output_shape(enc, &L, &D) != VN_OK)
        fail("output_shape");
    float *params = vn_encoder_params(enc, &n_floats);
    int count;
    vn_encoder_param_count(enc, &count);

    /* AdamW: one group per parameter tensor, with its decay. */
    vn_backend_config bcfg = {.n_threads = threads, .deterministic = 0, .device = 0, .seed = 1};
    vn_be be;
    if (vn_be_open(&be, VN_BACKEND_CPU, &bcfg) != VN_OK)
        fail("backend");
    vn_nn nn = {.be = &be, .n_threads = threads, .deterministic = 0};
    float *grads = alloc_floats(n_floats), *m = alloc_floats(n_floats), *v = alloc_floats(n_floats);
    memset(m, 0, (size_t)n_floats * sizeof(float));
    memset(v, 0, (size_t)n_floats * sizeof(float));
    vn_param_group *groups = calloc((size_t)count, sizeof *groups);
    if (!groups)
        return 1;
    for (int i = 0; i < count; i++) {
        int64_t off = vn_encoder_param_offset(enc, i);
        const char *name;
        int ndim;
        int64_t shape[VN_MAX_DIMS], numel = 1;
        if (vn_encoder_param_info(enc, i, &name, &ndim, shape) != VN_OK)
            fail("param_info");
        for (int d = 0; d < ndim; d++)
            numel *= shape[d];
        groups[i] = (vn_param_group){params + off, grads + off, m + off, v + off, numel,
                                     vn_encoder_param_decays(enc, i) ? 0.05f : 0.0f};
    }
    vn_adamw_hparams hp = VN_ADAMW_HPARAMS_DEFAULT;

    int64_t clip_n = N * cfg.channels * cfg.frames * cfg.size * cfg.size;
    float *clips = alloc_floats(clip_n), *G = alloc_floats(N * D), *emb = alloc_floats(N * D);
    vn_rng r;
    vn_rng_seed(&r, 1, 0);
    for (int64_t i = 0; i < clip_n; i++)
        clips[i] = (float)vn_rng_uniform(&r) * 2.0f - 1.0f;
    for (int64_t i = 0; i < N * D; i++)
        G[i] = ((float)vn_rng_uniform(&r) - 0.5f) / (float)N;

    vn_encoder_acts *acts;
    if (vn_encoder_acts_create(enc, N, &acts) != VN_OK)
        fail("acts_create");
    vn_tensor tc, te;
    int64_t cs[5] = {N, cfg.channels, cfg.frames, cfg.size, cfg.size}, es[2] = {N, D};
    vn_tensor_init(&tc, clips, VN_DTYPE_F32, 5, cs);
    vn_tensor_init(&te, emb, VN_DTYPE_F32, 2, es);

    double step_t[64], enc_t[64], fwd_t[64];
    int64_t step = 0;
    for (int it = -2; it < reps; it++) {
        double t0 = vn_bench_now();
        memset(grads, 0, (size_t)n_floats * sizeof(float));
        check(vn_encoder_forward(enc, acts, clips, N, emb, NULL), "forward");
        check(vn_encoder_backward(enc, acts, G, grads), "backward");
        vn_adamw_step(&nn, groups, count, 1e-4, &hp, ++step);
        double t1 = vn_bench_now();
        check(vn_encoder_encode(enc, &tc, &te), "encode");
        double t2 = vn_bench_now();
        check(vn_encoder_forward(enc, acts, clips, N, emb, NULL), "forward");
        double t3 = vn_bench_now();
        if (it >= 0) {
            step_t[it] = t1 - t0;
            enc_t[it] = t2 - t1;
            fwd_t[it] = t3 - t2;
        }
    }
    qsort(step_t, (size_t)reps, sizeof(double), vn_bench_cmp_double);
    qsort(enc_t, (size_t)reps, sizeof(double), vn_bench_cmp_double);
    qsort(fwd_t, (size_t)reps, sizeof(double), vn_bench_cmp_double);
    int64_t nparams;
    vn_encoder_num_params(enc, &nparams);
    flops fl = forward_flops(&cfg, (double)N);
    printf("{\"preset\": \"%s\", \"family\": \"%s\", \"attention\": \"%s\", \"pooling\": \"%s\", \"batch\": %lld, "
           "\"frames\": %d, \"precision\": \"%s\", \"params\": %lld, \"step_s\": %.6g, \"encode_s\": %.6g, "
           "\"forward_s\": %.6g, \"flops_forward\": %.6g, \"flops_step\": %.6g, \"flops_attn_joint\": %.6g, "
           "\"flops_attn_temporal\": %.6g, \"flops_attn_spatial\": %.6g, \"flops_pool\": %.6g, \"emb0\": %.6g}\n",
           preset, argv[2], argv[3], argv[4], (long long)N, cfg.frames, vn_precision_name(precision), (long long)nparams,
           step_t[reps / 2], enc_t[reps / 2], fwd_t[reps / 2], fl.total, 3.0 * fl.total, fl.attn_joint,
           fl.attn_temporal, fl.attn_spatial, fl.pool, (double)emb[0]);

    vn_encoder_acts_destroy(acts);
    free(groups), free(grads), free(m), free(v), free(clips), free(G), free(emb);
    vn_be_close(&be);
    vn_encoder_destroy(enc);
    vn_context_destroy(ctx);
    return 0;
}
