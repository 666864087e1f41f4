/*
 * The probe suite: how well a linear probe on an encoder's frozen embeddings reads each
 * temporal task of the procedural world (chance is 50%).
 *
 *   probe_suite [MODEL.safetensors|xs] [TRAIN_CLIPS [TEST_CLIPS]]
 *
 * For every binary task (aot, gravity, collision, order, speed, intphys) a world of the
 * encoder's frames, size and channels renders TRAIN_CLIPS + TEST_CLIPS labelled clips
 * (balanced by construction); vn_probe_embed_world embeds them with the frozen encoder,
 * and vn_probe_linear fits an L2-regularised logistic regression (its strength chosen on
 * a validation split) on the first TRAIN_CLIPS and scores the rest, with a bootstrap
 * interval. Without a model file a fresh xs encoder is probed: a random-weights baseline.
 *
 *   cc probe_suite.c $(pkg-config --cflags --libs vnative) -o probe_suite
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vnative/vnative.h>

static int fail(const char *what)
{
    fprintf(stderr, "probe_suite: %s: %s\n", what, vn_last_error());
    return 1;
}

/* Embed clips 0 .. n-1 of a task, then fit on the first n_train and score the rest. */
static vn_status probe_task(const vn_encoder *enc, const vn_world *world, vn_world_task task, int64_t n_train,
                            int64_t n_test, int64_t dim, vn_probe_result *res)
{
    int64_t n = n_train + n_test;
    float *emb = malloc((size_t)(n * dim) * sizeof *emb);
    int *labels = malloc((size_t)n * sizeof *labels);
    vn_status st = VN_ERR_OUT_OF_MEMORY;
    if (emb && labels) {
        int64_t all[2] = {n, dim}, tr[2] = {n_train, dim}, te[2] = {n_test, dim};
        vn_tensor x, xtr, xte;
        vn_tensor_init(&x, emb, VN_DTYPE_F32, 2, all);
        vn_tensor_init(&xtr, emb, VN_DTYPE_F32, 2, tr);
        vn_tensor_init(&xte, emb + n_train * dim, VN_DTYPE_F32, 2, te);
        st = vn_probe_embed_world(enc, world, task, 0, 32, 0, &x, labels);
        if (st == VN_OK) {
            vn_linear_probe_options lo = VN_LINEAR_PROBE_OPTIONS_INIT;
            lo.seed = 1;
            st = vn_probe_linear(&xtr, labels, NULL, &xte, labels + n_train, NULL, 2, &lo, res);
        }
    }
    free(emb);
    free(labels);
    return st;
}

int main(int argc, char **argv)
{
    const char *model = argc > 1 ? argv[1] : "xs";
    int64_t n_train = argc > 2 ? strtoll(argv[2], NULL, 10) : 256;
    int64_t n_test = argc > 3 ? strtoll(argv[3], NULL, 10) : 128;
    if (argc > 4 || n_train < 8 || n_test < 2) {
        fprintf(stderr, "usage: %s [MODEL.safetensors|xs] [TRAIN_CLIPS >= 8 [TEST_CLIPS >= 2]]\n", argv[0]);
        return 2;
    }

    vn_context *ctx = NULL;
    if (vn_context_create(&ctx, NULL) != VN_OK)
        return fail("vn_context_create");

    int rc = 1;
    vn_encoder *enc = NULL;
    vn_world *world = NULL;
    vn_encoder_config cfg;
    vn_status st;
    if (strcmp(model, "xs") == 0) {
        vn_encoder_config_preset(&cfg, "xs", VN_ENCODER_VIDEO);
        st = vn_encoder_create(&enc, ctx, &cfg);
    } else {
        st = vn_encoder_load(&enc, ctx, model);
        if (st == VN_OK)
            vn_encoder_get_config(enc, &cfg);
    }
    if (st != VN_OK) {
        fail(model);
        goto done;
    }
    int64_t tokens, dim;
    vn_encoder_output_shape(enc, &tokens, &dim);

    /* The world renders clips the encoder takes: its frames, size and channels. Its seed is
     * one that training on world data does not use by default, so the clips are unseen. */
    vn_world_options wo = VN_WORLD_OPTIONS_INIT;
    wo.seed = 0x5eed;
    wo.n_frames = cfg.frames;
    wo.size = cfg.size;
    wo.channels = cfg.channels;
    if (vn_world_create(&world, &wo) != VN_OK) {
        fail("vn_world_create");
        goto done;
    }

    printf("linear probe on frozen %s embeddings (%lld dimensions): %lld training clips, %lld test clips\n\n",
           model, (long long)dim, (long long)n_train, (long long)n_test);
    printf("%-10s %9s %17s %9s %12s\n", "task", "accuracy", "95% interval", "train", "L2 strength");
    const vn_world_task tasks[] = {VN_TASK_AOT,   VN_TASK_GRAVITY, VN_TASK_COLLISION,
                                   VN_TASK_ORDER, VN_TASK_SPEED,   VN_TASK_INTPHYS};
    double mean = 0.0;
    for (size_t i = 0; i < sizeof tasks / sizeof tasks[0]; i++) {
        vn_probe_result res = VN_PROBE_RESULT_INIT;
        if (probe_task(enc, world, tasks[i], n_train, n_test, dim, &res) != VN_OK) {
            fail(vn_world_task_name(tasks[i]));
            goto done;
        }
        printf("%-10s %8.1f%% [%5.1f%%, %5.1f%%] %8.1f%% %12.0e\n", vn_world_task_name(tasks[i]),
               100.0 * res.accuracy, 100.0 * res.ci_low, 100.0 * res.ci_high, 100.0 * res.train_accuracy,
               res.weight_decay);
        mean += res.accuracy / (double)(sizeof tasks / sizeof tasks[0]);
    }
    printf("%-10s %8.1f%%\n", "mean", 100.0 * mean);
    rc = 0;

done:
    vn_world_destroy(world);
    vn_encoder_destroy(enc);
    vn_context_destroy(ctx);
    return rc;
}
