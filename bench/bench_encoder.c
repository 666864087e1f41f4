/*
 * One training step and one encode of an encoder preset, timed (bench/encoder_bench.sh
 * runs this against the same model in PyTorch, bench/peer_torch_encoder.py).
 *
 *   bench_encoder PRESET FAMILY ATTENTION POOLING BATCH THREADS [REPS]
 *
 * step:   zero the gradients, vn_encoder_forward, vn_encoder_backward with the gradient of
 *         loss = sum(emb * G) (d_embeddings = G), one AdamW step over all parameters
 *         (weight decay 0.05 on the parameters vn_encoder_param_decays marks, 0 elsewhere);
 * encode: vn_encoder_encode (the public, thread-safe path: forward only; it creates and
 *         frees its activation memory on every call);
 * forward: vn_encoder_forward on activation memory made once and reused (what a trainer or
 *         an evaluation loop that keeps its vn_encoder_acts pays).
 * Each is warmed up, then timed REPS times (default 5); prints one JSON object with the
 * medians in seconds. Internal API (the training interface): links the static library.
 */
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
    if (argc != 7 && argc != 8) {
        fprintf(stderr, "usage: bench_encoder PRESET FAMILY joint|divided mean|attentive BATCH THREADS [REPS]\n");
        return 2;
    }
    const char *preset = argv[1];
    int64_t N = atoll(argv[5]);
    int threads = atoi(argv[6]), reps = argc == 8 ? atoi(argv[7]) : 5;
    if (reps < 1 || reps > 64)
        reps = 5;
    vn_encoder_family family;
    if (vn_encoder_family_from_name(argv[2], &family) != VN_OK)
        fail("family");
    vn_encoder_config cfg;
    if (vn_encoder_config_init(&cfg, VN_ENCODER_CONFIG_VERSION) != VN_OK ||
        vn_encoder_config_preset(&cfg, preset, family) != VN_OK)
        fail("preset");
    cfg.attention = !strcmp(argv[3], "divided") ? VN_ATTENTION_DIVIDED : VN_ATTENTION_JOINT;
    cfg.pooling = !strcmp(argv[4], "attentive") ? VN_POOLING_ATTENTIVE : VN_POOLING_MEAN;

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
        if (vn_encoder_forward(enc, acts, clips, N, emb, NULL) != VN_OK)
            fail("forward");
        if (vn_encoder_backward(enc, acts, G, grads) != VN_OK)
            fail("backward");
        vn_adamw_step(&nn, groups, count, 1e-4, &hp, ++step);
        double t1 = vn_bench_now();
        if (vn_encoder_encode(enc, &tc, &te) != VN_OK)
            fail("encode");
        double t2 = vn_bench_now();
        if (vn_encoder_forward(enc, acts, clips, N, emb, NULL) != VN_OK)
            fail("forward");
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
    printf("{\"preset\": \"%s\", \"family\": \"%s\", \"attention\": \"%s\", \"pooling\": \"%s\", \"batch\": %lld, "
           "\"params\": %lld, \"step_s\": %.6g, \"encode_s\": %.6g, \"forward_s\": %.6g, \"emb0\": %.6g}\n",
           preset, argv[2], argv[3], argv[4], (long long)N, (long long)nparams, step_t[reps / 2], enc_t[reps / 2], fwd_t[reps / 2],
           (double)emb[0]);

    vn_encoder_acts_destroy(acts);
    free(groups), free(grads), free(m), free(v), free(clips), free(G), free(emb);
    vn_be_close(&be);
    vn_encoder_destroy(enc);
    vn_context_destroy(ctx);
    return 0;
}
