/* `vnative timevec`: the time vector of an encoder on each world task (vnative/timevec.h),
 * what its sign alone decides, reversal by arithmetic, how the tasks' vectors align, and
 * the projection along a sliding window through a video. */
#include "cli/cli_flags.h"
#include "cli/commands.h"
#include "cli/json_writer.h"
#include "cli/timevec_pairs.h"
#include "io/npy.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vnative/vnative.h"

#define CMD "timevec"

typedef struct targs {
    const char *model, *family, *pos, *tasks, *json, *video, *save_t;
    int64_t clips, world_seed, seed, batch, threads, stride;
    int quiet;
} targs;

#define FS(n, f) VN_FLAG_S(targs, n, f)
#define FI(n, f, lo, hi) VN_FLAG_I(targs, n, f, lo, hi)

static const vn_cli_flag flags[] = {
    FS("--model", model), FS("--family", family), FS("--pos", pos), FS("--tasks", tasks), FS("--json", json),
    FS("--video", video), FS("--save-t", save_t), FI("--clips", clips, 4, 1 << 20),
    FI("--world-seed", world_seed, 0, INT64_MAX), FI("--seed", seed, 0, INT64_MAX), FI("--batch", batch, 1, 4096), FI("--threads", threads, 0, 1024),
    FI("--stride", stride, 1, 1 << 20), VN_FLAG_B(targs, "--quiet", quiet),
};
#define N_FLAGS (int)(sizeof flags / sizeof flags[0])

static void usage(FILE *f, const targs *d)
{
    fprintf(f,
            "usage: vnative timevec --model FILE|xs|s [options]\n\n"
            "Finds the time vector t = mean(emb(forward)) - mean(emb(reversed)) of an encoder on\n"
            "each world task: half the clips fit t, the other half score it. Prints the accuracy\n"
            "of the sign of the projection on t alone, the share of pairs whose forward clip\n"
            "projects higher, R@1 of emb(x) - t retrieving emb(reversed x) among all reversed\n"
            "clips (and of emb(x) alone), the cosine between t and the normal w of a linear\n"
            "probe fitted on the same pairs, and the cosines between the tasks' vectors.\n\n"
            "  --model M           a model.safetensors, or xs|s for fresh random weights\n"
            "  --family F, --pos P with a preset, as in vnative train\n"
            "  --tasks LIST        world tasks, comma-separated, or all (default %s)\n"
            "  --clips N           clips per task, each seen both ways (default %lld)\n"
            "  --world-seed N      the world the clips come from (default: one no trainer uses)\n"
            "  --video FILE        also project a sliding window through FILE on the first\n"
            "                      task's t (one line per window: start seconds, projection)\n"
            "  --stride S          source frames between windows of --video (default %lld)\n"
            "  --seed N            fresh weights of a preset, and the bootstrap (default 0)\n"
            "  --batch B           clips encoded at once (default %lld)\n"
            "  --threads N         compute threads (default: every core)\n"
            "  --json F            also write the results as JSON to F\n"
            "  --save-t F          write the first task's time vector t to F, a float32 [dim] .npy\n"
            "                      (for vnative retrieve --reverse --timevec F)\n"
            "  --quiet             no progress on stderr\n",
            d->tasks, (long long)d->clips, (long long)d->stride, (long long)d->batch);
}

typedef struct task_vec {
    vn_world_task task;
    float *t;
    double offset;
    vn_timevec_result res;
    double normal_cos; /* between t and the linear probe's normal */
} task_vec;

static int fit_task(const targs *a, const vn_encoder *enc, const vn_world *w, int64_t D, task_vec *tv)
{
    const int64_t n = a->clips;
    float *fwd = malloc((size_t)(n * D) * sizeof *fwd), *rev = malloc((size_t)(n * D) * sizeof *rev);
    int rc = 1;
    if (!a->quiet)
        fprintf(stderr, "\rvnative %s: %-10s embedding %lld clips both ways", CMD, vn_world_task_name(tv->task),
                (long long)n);
    if (!fwd || !rev)
        fprintf(stderr, "vnative %s: out of memory for %lld clips of %lld floats\n", CMD, (long long)n, (long long)D);
    else if (vn_cli_timevec_pairs(CMD, enc, w, tv->task, n, (int)a->batch, fwd, rev) == 0 &&
        vn_cli_timevec_fit_score(CMD, fwd, rev, n, n / 2, D, (uint64_t)a->seed, tv->t, &tv->offset, &tv->res,
                                 &tv->normal_cos, NULL) == 0)
        rc = 0;
    if (!a->quiet)
        fprintf(stderr, "\r%60s\r", "");
    free(fwd);
    free(rev);
    return rc;
}

/* Windows of the encoder's length every stride frames through the video, each projected
 * on t: where the video runs forward the projection should sit above the offset. */
static int project_video(const targs *a, const vn_encoder *enc, const vn_encoder_config *cfg, const task_vec *tv,
                         jw *j)
{
    vn_video *v = NULL;
    vn_video_info info = VN_VIDEO_INFO_INIT;
    int rc = 1;
    float *clip = NULL, *emb = NULL;
    int64_t L, D;
    vn_encoder_output_shape(enc, &L, &D);
    if (vn_video_create(&v, a->video, NULL) != VN_OK || vn_video_get_info(v, &info) != VN_OK) {
        fprintf(stderr, "vnative %s: --video: %s\n", CMD, vn_last_error());
        goto done;
    }
    vn_clip_options co = VN_CLIP_OPTIONS_INIT;
    co.n_frames = cfg->frames;
    vn_transform_options tr = VN_TRANSFORM_OPTIONS_INIT;
    tr.short_side = cfg->size;
    tr.crop_size = cfg->size;
    tr.grayscale = cfg->channels == 1;
    for (int c = 0; c < 3; c++) { /* the world's scale, which world-trained encoders know */
        tr.mean[c] = 0.5f;
        tr.std[c] = 0.25f;
    }
    const int64_t clip_elems = (int64_t)cfg->channels * cfg->frames * cfg->size * cfg->size;
    clip = malloc((size_t)clip_elems * sizeof *clip);
    emb = malloc((size_t)D * sizeof *emb);
    if (!clip || !emb)
        goto done;
    printf("\nprojection on the %s time vector along %s (offset %.4f; above it reads as forward)\n",
           vn_world_task_name(tv->task), a->video, tv->offset);
    printf("%10s %12s\n", "start_s", "projection");
    if (j)
        jw_array_begin(j, "video_projection");
    for (int64_t s = 0; s + cfg->frames <= info.n_frames; s += a->stride) {
        co.start = s;
        int64_t cs[4] = {cfg->channels, cfg->frames, cfg->size, cfg->size}, es[2] = {1, D};
        int64_t cs5[5] = {1, cfg->channels, cfg->frames, cfg->size, cfg->size};
        vn_tensor tc, tc5, te;
        vn_tensor_init(&tc, clip, VN_DTYPE_F32, 4, cs);
        vn_tensor_init(&tc5, clip, VN_DTYPE_F32, 5, cs5);
        vn_tensor_init(&te, emb, VN_DTYPE_F32, 2, es);
        double start_s = 0.0, proj;
        if (vn_video_read_clip(v, &co, &tr, &tc) != VN_OK || vn_encoder_encode(enc, &tc5, &te) != VN_OK ||
            vn_timevec_project(tv->t, &te, &proj) != VN_OK) {
            fprintf(stderr, "vnative %s: --video: %s\n", CMD, vn_last_error());
            goto done;
        }
        vn_video_frame_time(v, s, &start_s);
        double scaled = proj - vn_cli_timevec_shift(tv->t, tv->offset, D);
        printf("%10.3f %12.4f\n", start_s, scaled);
        if (j) {
            jw_object_begin(j, NULL);
            jw_double(j, "start_s", start_s);
            jw_double(j, "projection", scaled);
            jw_object_end(j);
        }
    }
    if (j)
        jw_array_end(j);
    rc = 0;
done:
    free(clip);
    free(emb);
    vn_video_destroy(v);
    return rc;
}

static void print_results(const targs *a, const task_vec *tv, int n, int64_t D)
{
    printf("%-10s %-24s %9s %12s %9s %8s %9s\n", "task", "sign [95% CI]", "pairs", "R@1 x - t", "R@1 x", "gap",
           "cos(t,w)");
    for (int i = 0; i < n; i++) {
        const vn_timevec_result *r = &tv[i].res;
        printf("%-10s %6.1f%% [%5.1f, %5.1f]   %8.1f%% %11.1f%% %8.1f%% %8.3f %9.3f\n",
               vn_world_task_name(tv[i].task), 100 * r->sign_accuracy, 100 * r->ci_low, 100 * r->ci_high,
               100 * r->pair_accuracy, 100 * r->reversal_r1, 100 * r->reversal_r1_base, r->mean_gap, tv[i].normal_cos);
    }
    if (n < 2)
        return;
    printf("\ncosines between the time vectors (%lld held-out pairs each)\n%-10s", (long long)(a->clips - a->clips / 2),
           "");
    for (int k = 0; k < n; k++)
        printf(" %9s", vn_world_task_name(tv[k].task));
    printf("\n");
    for (int i = 0; i < n; i++) {
        printf("%-10s", vn_world_task_name(tv[i].task));
        for (int k = 0; k < n; k++) {
            double c = 0.0;
            vn_timevec_cosine(tv[i].t, tv[k].t, D, &c);
            printf(" %9.3f", c);
        }
        printf("\n");
    }
}

static void json_results(jw *j, const targs *a, const vn_encoder_config *cfg, const task_vec *tv, int n, int64_t D)
{
    jw_string(j, "model", a->model);
    jw_string(j, "family", vn_encoder_family_name(cfg->family));
    jw_int(j, "clips", a->clips);
    jw_int(j, "world_seed", a->world_seed);
    jw_array_begin(j, "tasks");
    for (int i = 0; i < n; i++) {
        const vn_timevec_result *r = &tv[i].res;
        jw_object_begin(j, NULL);
        jw_string(j, "task", vn_world_task_name(tv[i].task));
        jw_double(j, "sign_accuracy", r->sign_accuracy);
        jw_double(j, "ci_low", r->ci_low);
        jw_double(j, "ci_high", r->ci_high);
        jw_double(j, "pair_accuracy", r->pair_accuracy);
        jw_double(j, "reversal_r1", r->reversal_r1);
        jw_double(j, "reversal_r1_base", r->reversal_r1_base);
        jw_double(j, "mean_gap", r->mean_gap);
        jw_double(j, "normal_cosine", tv[i].normal_cos);
        double tn = 0.0;
        for (int64_t k = 0; k < D; k++)
            tn += (double)tv[i].t[k] * tv[i].t[k];
        jw_double(j, "norm", sqrt(tn));
        jw_array_begin(j, "cosines");
        for (int k = 0; k < n; k++) {
            double c = 0.0;
            vn_timevec_cosine(tv[i].t, tv[k].t, D, &c);
            jw_double(j, NULL, c);
        }
        jw_array_end(j);
        jw_object_end(j);
    }
    jw_array_end(j);
}

static int run(const targs *a, const vn_world_task *tasks, int n_tasks)
{
    vn_context *ctx = NULL;
    vn_encoder *enc = NULL;
    vn_world *world = NULL;
    vn_encoder_config cfg;
    task_vec *tv = calloc((size_t)n_tasks, sizeof *tv);
    FILE *jf = NULL;
    jw j;
    int rc = vn_cli_open_encoder(CMD, a->model, a->family, a->pos, (uint64_t)a->seed, (int)a->threads,
                                 (uint64_t)a->world_seed, &ctx, &enc, &world, &cfg);
    if (rc != 0 || !tv) {
        rc = rc ? rc : 1;
        goto done;
    }
    rc = 1;
    int64_t L, D;
    vn_encoder_output_shape(enc, &L, &D);
    for (int i = 0; i < n_tasks; i++) {
        tv[i].task = tasks[i];
        if (!(tv[i].t = malloc((size_t)D * sizeof *tv[i].t)) || fit_task(a, enc, world, D, &tv[i]) != 0)
            goto done;
    }
    printf("time vectors of %s (%s, dim %lld): %lld clips per task both ways, half fit t, half score it\n",
           a->model, vn_encoder_family_name(cfg.family), (long long)D, (long long)a->clips);
    print_results(a, tv, n_tasks, D);
    if (a->save_t) {
        char err[512];
        int64_t shape[1] = {D};
        if (vn_npy_write_atomic(a->save_t, VN_NPY_F32, 1, shape, tv[0].t, err, sizeof err) != 0) {
            fprintf(stderr, "vnative %s: --save-t: %s\n", CMD, err);
            goto done;
        }
    }
    if (a->json) {
        if (!(jf = fopen(a->json, "w"))) {
            fprintf(stderr, "vnative %s: cannot write %s: %s\n", CMD, a->json, strerror(errno));
            goto done;
        }
        jw_init(&j, jf);
        jw_object_begin(&j, NULL);
        json_results(&j, a, &cfg, tv, n_tasks, D);
    }
    if (a->video && project_video(a, enc, &cfg, &tv[0], jf ? &j : NULL) != 0)
        goto done;
    rc = 0;
done:
    if (jf) {
        if (rc == 0) {
            jw_object_end(&j);
            jw_finish(&j);
        }
        if (fclose(jf) != 0 && rc == 0) {
            fprintf(stderr, "vnative %s: cannot write %s: %s\n", CMD, a->json, strerror(errno));
            rc = 1;
        }
    }
    for (int i = 0; tv && i < n_tasks; i++)
        free(tv[i].t);
    free(tv);
    vn_world_destroy(world);
    vn_encoder_destroy(enc);
    vn_context_destroy(ctx);
    return rc;
}

int vn_cmd_timevec(int argc, char **argv)
{
    targs a = {0};
    a.tasks = "aot,gravity";
    a.clips = 512;
    a.world_seed = (int64_t)VN_CLI_PROBE_WORLD_SEED;
    a.batch = 32;
    a.stride = 4;
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
