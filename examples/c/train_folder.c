/*
 * Train a small video encoder for a few steps on a folder of videos (or a CSV manifest),
 * print the losses, and save a checkpoint.
 *
 *   train_folder DATA OUT_DIR [STEPS [OBJECTIVES]]
 *
 * DATA is a directory of video files or a CSV manifest (path[,label][,start_s,end_s]);
 * OBJECTIVES a spec such as "aot" (the default) or "aot=1,order=0.5". The encoder is the
 * xs video preset. Clips of 16 frames are sampled every second frame, randomly cropped,
 * resized and flipped by the trainer's loader, and normalised with the ImageNet mean and
 * std (the transform's defaults). OUT_DIR gets model.safetensors (the weights:
 * `encode_video VIDEO OUT_DIR/model.safetensors imagenet` embeds a clip with them) and
 * trainer.safetensors (the optimiser state, for vn_trainer_resume).
 *
 *   cc train_folder.c $(pkg-config --cflags --libs vnative) -o train_folder
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <vnative/vnative.h>

static int fail(const char *what)
{
    fprintf(stderr, "train_folder: %s: %s\n", what, vn_last_error());
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 5) {
        fprintf(stderr, "usage: %s DATA OUT_DIR [STEPS [OBJECTIVES]]\n", argv[0]);
        return 2;
    }
    const char *data = argv[1];
    const char *out_dir = argv[2];
    long steps = argc > 3 ? strtol(argv[3], NULL, 10) : 20;
    const char *objectives = argc > 4 ? argv[4] : "aot";
    if (steps < 1) {
        fprintf(stderr, "train_folder: STEPS must be a positive number\n");
        return 2;
    }

    vn_context_options co = VN_CONTEXT_OPTIONS_INIT;
    co.seed = 7;
    vn_context *ctx = NULL;
    if (vn_context_create(&ctx, &co) != VN_OK)
        return fail("vn_context_create");

    vn_encoder_config cfg;
    vn_encoder_config_preset(&cfg, "xs", VN_ENCODER_VIDEO);
    cfg.seed = 7;

    vn_train_options opts = VN_TRAIN_OPTIONS_INIT;
    opts.objectives = objectives;
    opts.data = data;          /* a directory or a manifest: read through vn_loader */
    opts.batch = 4;
    opts.total_steps = steps;  /* the learning-rate schedule ends with the run */
    opts.lr = 1e-3f;
    opts.seed = 7;

    int rc = 1;
    vn_trainer *tr = NULL;
    if (vn_trainer_create(&tr, ctx, &cfg, &opts) != VN_OK) {
        fail(data);
        goto done;
    }
    const vn_encoder *enc = NULL;
    int64_t n_params = 0;
    vn_trainer_get_encoder(tr, &enc);
    vn_encoder_num_params(enc, &n_params);
    printf("training an xs video encoder (%lld parameters) on %s with %s, %ld steps of %d clips\n",
           (long long)n_params, data, objectives, steps, opts.batch);

    printf("%6s %10s", "step", "loss");
    for (int o = 0; o < VN_OBJECTIVE_COUNT; o++)
        printf(" %10s", vn_objective_name((vn_objective)o));
    printf(" %10s %10s\n", "lr", "clips/s");
    for (long s = 0; s < steps; s++) {
        vn_train_metrics m = VN_TRAIN_METRICS_INIT;
        if (vn_trainer_step(tr, &m) != VN_OK) {
            fail("vn_trainer_step");
            goto done;
        }
        if (!isfinite(m.loss)) {
            fprintf(stderr, "train_folder: the loss is not finite at step %lld\n", (long long)m.step);
            goto done;
        }
        /* Per-objective losses: NaN for the objectives that are not trained. */
        printf("%6lld %10.4f", (long long)m.step, m.loss);
        for (int o = 0; o < VN_OBJECTIVE_COUNT; o++) {
            if (isnan(m.losses[o]))
                printf(" %10s", "-");
            else
                printf(" %10.4f", m.losses[o]);
        }
        printf(" %10.2e %10.1f\n", m.lr, m.clips_per_s);
    }

    if (vn_trainer_save(tr, out_dir) != VN_OK) {
        fail(out_dir);
        goto done;
    }
    printf("saved %s/model.safetensors and %s/trainer.safetensors\n", out_dir, out_dir);
    rc = 0;

done:
    vn_trainer_destroy(tr);
    vn_context_destroy(ctx);
    return rc;
}
