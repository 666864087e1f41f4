/*
 * The trainer (train.h, src/train): objective specs, each objective's loss and
 * gradient against finite differences and a hand computation, exact resume, corrupt
 * and mismatched checkpoints, and a short world:aot run that learns.
 */
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "loader_fixtures.h"
#include "vn_test.h"
#include "train/train_internal.h"


/* 4 frames of 8 x 8 RGB, patch 4, tubelet 2, dim 16, depth 1, 2 heads: 4 patch positions. */
static vn_encoder_config tiny(vn_encoder_family family)
{
    return vn_test_tiny_config(family, 11);
}

static vn_train_options opts_for(const char *objectives, const char *data, int batch)
{
    return vn_test_tiny_train_options(objectives, data, batch);
}

START_TEST(test_objectives_parse)
{
    float w[VN_OBJECTIVE_COUNT];
    VN_ASSERT_OK(vn_objectives_parse("aot=1,future=0.5,jepa", w));
    ck_assert(w[VN_OBJECTIVE_AOT] == 1.0f && w[VN_OBJECTIVE_FUTURE] == 0.5f && w[VN_OBJECTIVE_JEPA] == 1.0f);
    ck_assert(w[VN_OBJECTIVE_ORDER] == 0.0f && w[VN_OBJECTIVE_LABEL] == 0.0f);
    VN_ASSERT_OK(vn_objectives_parse("label", w));
    ck_assert(w[VN_OBJECTIVE_LABEL] == 1.0f && w[VN_OBJECTIVE_AOT] == 0.0f);
    const char *bad[] = {"", "bogus", "aot=", "aot=-1", "aot=nan", "aot=1,aot=2", "aot,", "aot=0", "aot=1x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        VN_ASSERT_FAILS(vn_objectives_parse(bad[i], w), VN_ERR_INVALID_ARG);
    vn_objective o;
    VN_ASSERT_OK(vn_objective_from_name("jepa", &o));
    ck_assert_int_eq(o, VN_OBJECTIVE_JEPA);
    ck_assert_str_eq(vn_objective_name(VN_OBJECTIVE_FUTURE), "future");
    ck_assert_str_eq(vn_objective_name((vn_objective)99), "unknown");
    vn_train_options t;
    VN_ASSERT_OPTIONS_INIT(vn_train_options_init, t, VN_TRAIN_OPTIONS_VERSION);
    vn_train_metrics m;
    VN_ASSERT_OPTIONS_INIT(vn_train_metrics_init, m, VN_TRAIN_METRICS_VERSION);
}
END_TEST

START_TEST(test_create_errors)
{
    vn_context *ctx = vn_test_cpu_context(2);
    vn_encoder_config c = tiny(VN_ENCODER_VIDEO);
    vn_trainer *tr = NULL;
    vn_train_options o = opts_for("aot", "world:aot", 4);
    o.batch = 1;
    VN_ASSERT_FAILS(vn_trainer_create(&tr, ctx, &c, &o), VN_ERR_INVALID_ARG);
    o = opts_for("bogus", "world:aot", 4);
    VN_ASSERT_FAILS(vn_trainer_create(&tr, ctx, &c, &o), VN_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(vn_last_error(), "bogus"));
    o = opts_for("aot", "world:nonsense", 4);
    VN_ASSERT_FAILS(vn_trainer_create(&tr, ctx, &c, &o), VN_ERR_INVALID_ARG);
    o = opts_for("aot", "world:future", 4);
    VN_ASSERT_FAILS(vn_trainer_create(&tr, ctx, &c, &o), VN_ERR_INVALID_ARG);
    o = opts_for("aot", "/nonexistent/videos.csv", 4);
    ck_assert_int_ne(vn_trainer_create(&tr, ctx, &c, &o), VN_OK);
    ck_assert_ptr_nonnull(strstr(vn_last_error(), "/nonexistent/videos.csv"));
    o = opts_for("aot", "world:aot", 4);
    o.jepa_mask_ratio = 1.0f;
    VN_ASSERT_FAILS(vn_trainer_create(&tr, ctx, &c, &o), VN_ERR_INVALID_ARG);
    o = opts_for("aot", "world:aot", 4);
    o.version = 0;
    VN_ASSERT_FAILS(vn_trainer_create(&tr, ctx, &c, &o), VN_ERR_VERSION);
    c.dim = 15;
    o = opts_for("aot", "world:aot", 4);
    VN_ASSERT_FAILS(vn_trainer_create(&tr, ctx, &c, &o), VN_ERR_INVALID_ARG);
    ck_assert_ptr_null(tr);
    vn_context_destroy(ctx);
}
END_TEST

/* The loss of objective o on the trainer's current batch, with a copy of rng so that
 * reversals, shuffles and masks repeat. */
static double loss_at(vn_trainer *tr, vn_objective o, const vn_rng *rng)
{
    vn_rng r = *rng;
    float loss = NAN, acc;
    VN_ASSERT_OK(vn_train_objective(tr, o, &r, 0, &loss, &acc));
    return loss;
}

/* Central differences at the k largest analytic gradients of a buffer. */
static void check_grads(vn_trainer *tr, vn_objective o, const vn_rng *rng, float *param, const float *grad, int64_t n,
                        const char *what)
{
    enum { K = 4 };
    int64_t top[K];
    for (int k = 0; k < K; k++) {
        top[k] = -1;
        for (int64_t i = 0; i < n; i++) {
            int taken = 0;
            for (int j = 0; j < k; j++)
                taken |= top[j] == i;
            if (!taken && (top[k] < 0 || fabsf(grad[i]) > fabsf(grad[top[k]])))
                top[k] = i;
        }
    }
    for (int k = 0; k < K; k++) {
        int64_t i = top[k];
        float keep = param[i], h = 1e-3f * fmaxf(1.0f, fabsf(keep));
        param[i] = keep + h;
        double lp = loss_at(tr, o, rng);
        param[i] = keep - h;
        double lm = loss_at(tr, o, rng);
        param[i] = keep;
        double fd = (lp - lm) / (2.0 * h), an = grad[i];
        ck_assert_msg(fabs(fd - an) <= 0.05 * fmax(fabs(fd), fabs(an)) + 1e-3,
                      "%s %s[%lld]: analytic %g, finite difference %g", vn_objective_name(o), what, (long long)i, an,
                      fd);
    }
}

static void gradcheck_objective(vn_encoder_family family, vn_objective o, const char *spec)
{
    vn_context *ctx = vn_test_cpu_context(2);
    vn_encoder_config c = tiny(family);
    vn_train_options opt = opts_for(spec, o == VN_OBJECTIVE_LABEL ? "world:gravity" : "world:aot,gravity", 4);
    /* a hot temperature keeps the InfoNCE softmax away from saturation, where float32
     * differences say little */
    opt.future_tau = 0.5f;
    vn_trainer *tr = NULL;
    VN_ASSERT_OK(vn_trainer_create(&tr, ctx, &c, &opt));
    VN_ASSERT_OK(vn_train_data_next(&tr->data, tr->clips, tr->labels, tr->B));
    vn_rng rng;
    vn_rng_seed(&rng, 3, 4);
    memset(tr->grad, 0, (size_t)tr->n_params * sizeof(float));
    memset(tr->heads.grad, 0, (size_t)tr->heads.n_floats * sizeof(float));
    vn_rng r = rng;
    float loss, acc;
    VN_ASSERT_OK(vn_train_objective(tr, o, &r, 1, &loss, &acc));
    ck_assert(isfinite(loss) && loss > 0);
    ck_assert(fabs(loss - loss_at(tr, o, &rng)) < 1e-6);
    int64_t n = 0;
    float *P = vn_encoder_params(tr->enc, &n);
    check_grads(tr, o, &rng, P, tr->grad, n, "encoder");
    if (tr->heads.n_floats)
        check_grads(tr, o, &rng, tr->heads.arena, tr->heads.grad, tr->heads.n_floats, "heads");
    vn_trainer_destroy(tr);
    vn_context_destroy(ctx);
}

START_TEST(test_grad_aot)
{
    gradcheck_objective(VN_ENCODER_VIDEO, VN_OBJECTIVE_AOT, "aot");
}
END_TEST

START_TEST(test_grad_order)
{
    gradcheck_objective(VN_ENCODER_FRAMES_TEMPORAL, VN_OBJECTIVE_ORDER, "order");
}
END_TEST

START_TEST(test_grad_future)
{
    gradcheck_objective(VN_ENCODER_VIDEO, VN_OBJECTIVE_FUTURE, "future");
}
END_TEST

START_TEST(test_grad_jepa)
{
    gradcheck_objective(VN_ENCODER_VIDEO, VN_OBJECTIVE_JEPA, "jepa");
}
END_TEST

START_TEST(test_grad_label)
{
    gradcheck_objective(VN_ENCODER_FRAMES, VN_OBJECTIVE_LABEL, "label");
}
END_TEST

static double softplus(double x)
{
    return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
}

/* With the head's weight at zero the logit is its bias b for every clip, so the loss is
 * acc * softplus(-b) + (1 - acc) * softplus(b), acc being the share of forward clips. */
START_TEST(test_aot_loss_by_hand)
{
    vn_context *ctx = vn_test_cpu_context(2);
    vn_encoder_config c = tiny(VN_ENCODER_VIDEO);
    vn_train_options opt = opts_for("aot=2", "world:aot", 8);
    vn_trainer *tr = NULL;
    VN_ASSERT_OK(vn_trainer_create(&tr, ctx, &c, &opt));
    VN_ASSERT_OK(vn_train_data_next(&tr->data, tr->clips, tr->labels, tr->B));
    memset(tr->heads.arena + tr->heads.aot_w, 0, (size_t)tr->D * sizeof(float));
    float b = 0.3f;
    tr->heads.arena[tr->heads.aot_b] = b;
    vn_rng rng;
    vn_rng_seed(&rng, 9, 9);
    float loss, acc;
    VN_ASSERT_OK(vn_train_objective(tr, VN_OBJECTIVE_AOT, &rng, 0, &loss, &acc));
    double want = acc * softplus(-b) + (1 - acc) * softplus(b);
    ck_assert_msg(fabs(loss - want) < 1e-5, "aot loss %g, by hand %g", (double)loss, want);
    ck_assert(acc > 0 && acc < 1); /* 8 fair coins: both kinds are there */
    /* the reversal really reverses: the head's input for a reversed clip is the clip
     * played backwards */
    vn_rng_seed(&rng, 9, 9);
    vn_rng clip;
    vn_train_clip_rng(&clip, vn_rng_next(&rng), tr->clip0);
    int reversed0 = (int)(vn_rng_next(&clip) >> 63);
    int64_t hw = tr->H * tr->H;
    for (int64_t t = 0; t < tr->T; t++) {
        int64_t src = reversed0 ? tr->T - 1 - t : t;
        ck_assert(!memcmp(tr->input + t * hw, tr->clips + src * hw, (size_t)hw * sizeof(float)));
    }
    vn_trainer_destroy(tr);
    vn_context_destroy(ctx);
}
END_TEST

START_TEST(test_tube_masks)
{
    vn_rng rng;
    vn_rng_seed(&rng, 1, 2);
    enum { B = 16, LH = 4, LW = 4, NM = 14 };
    int32_t keep[B * (LH * LW - NM)], masked[B * NM];
    unsigned char scratch[LH * LW];
    vn_train_tube_masks(&rng, B, LH, LW, NM, keep, masked, scratch);
    int differ = 0;
    for (int b = 0; b < B; b++) {
        int seen[LH * LW] = {0};
        for (int k = 0; k < NM; k++) {
            ck_assert(masked[b * NM + k] >= 0 && masked[b * NM + k] < LH * LW);
            if (k)
                ck_assert_int_lt(masked[b * NM + k - 1], masked[b * NM + k]);
            seen[masked[b * NM + k]]++;
        }
        for (int k = 0; k < LH * LW - NM; k++)
            seen[keep[b * (LH * LW - NM) + k]]++;
        for (int s = 0; s < LH * LW; s++)
            ck_assert_int_eq(seen[s], 1);
        differ |= b && memcmp(keep + b * 2, keep, 2 * sizeof(int32_t));
    }
    ck_assert_msg(differ, "every clip got the same mask");
}
END_TEST

static void params_copy(vn_trainer *tr, float *out)
{
    int64_t n = 0;
    const float *p = vn_encoder_params(tr->enc, &n);
    memcpy(out, p, (size_t)n * sizeof(float));
}

static vn_trainer *make(vn_context *ctx, const char *spec, const char *data)
{
    vn_encoder_config c = tiny(VN_ENCODER_VIDEO);
    vn_train_options opt = opts_for(spec, data, 4);
    vn_trainer *tr = NULL;
    VN_ASSERT_OK(vn_trainer_create(&tr, ctx, &c, &opt));
    return tr;
}

static void ckpt_dir(char *buf, size_t cap, const char *name)
{
    fmt_into(buf, cap, "%s/train_%s_%d", vn_test_tmpdir(), name, (int)getpid());
}

/* N steps, save, resume in a fresh trainer, N more: the same weights, bit for bit, as
 * 2N straight steps, for every objective at once (heads, predictor, EMA target, moments
 * and the data position all have to come back). */
START_TEST(test_exact_resume)
{
    vn_context *ctx = vn_test_cpu_context(2);
    const char *spec = "aot=1,order=0.5,future=0.5,jepa=1";
    const char *data = "world:aot,gravity";
    vn_trainer *a = make(ctx, spec, data);
    VN_ASSERT_OK(vn_trainer_run(a, 6, NULL));
    int64_t n = a->n_params;
    float *straight = calloc((size_t)n, sizeof(float)), *resumed = calloc((size_t)n, sizeof(float));
    float *at3 = calloc((size_t)n, sizeof(float));
    params_copy(a, straight);
    vn_trainer_destroy(a);

    char dir[512];
    ckpt_dir(dir, sizeof dir, "resume");
    vn_trainer *b = make(ctx, spec, data);
    VN_ASSERT_OK(vn_trainer_run(b, 3, NULL));
    VN_ASSERT_OK(vn_trainer_save(b, dir));
    params_copy(b, at3);
    vn_trainer_destroy(b);
    vn_trainer *c = make(ctx, spec, data);
    VN_ASSERT_OK(vn_trainer_resume(c, dir));
    int64_t step = 0;
    VN_ASSERT_OK(vn_trainer_get_step(c, &step));
    ck_assert_int_eq(step, 3);
    VN_ASSERT_OK(vn_trainer_run(c, 3, NULL));
    params_copy(c, resumed);
    ck_assert_msg(!memcmp(straight, resumed, (size_t)n * sizeof(float)), "resumed weights differ from a straight run");
    /* the weights file is what vn_encoder_load reads */
    char path[600];
    fmt_into(path, sizeof path, "%s/model.safetensors", dir);
    vn_encoder *loaded = NULL;
    VN_ASSERT_OK(vn_encoder_load(&loaded, ctx, path));
    int64_t in = 0;
    const float *lp = vn_encoder_params(loaded, &in);
    ck_assert_int_eq(in, n);
    for (int64_t i = 0; i < n; i++)
        ck_assert_msg(lp[i] == at3[i], "model.safetensors[%lld] = %g, the trainer had %g", (long long)i, (double)lp[i],
                      (double)at3[i]);
    vn_encoder_destroy(loaded);
    vn_trainer_destroy(c);
    free(straight);
    free(resumed);
    free(at3);
    vn_context_destroy(ctx);
}
END_TEST

static void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, n, f), n);
    fclose(f);
}

static void *read_all(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    void *d = malloc(*n);
    ck_assert_uint_eq(fread(d, 1, *n, f), *n);
    fclose(f);
    return d;
}

/* Bad checkpoints give errors and leave the trainer exactly as it was. */
START_TEST(test_corrupt_checkpoints)
{
    vn_context *ctx = vn_test_cpu_context(2);
    char dir[512], path[600];
    ckpt_dir(dir, sizeof dir, "corrupt");
    vn_trainer *a = make(ctx, "aot,jepa", "world:aot");
    VN_ASSERT_OK(vn_trainer_run(a, 2, NULL));
    VN_ASSERT_OK(vn_trainer_save(a, dir));
    vn_trainer_destroy(a);
    fmt_into(path, sizeof path, "%s/trainer.safetensors", dir);
    size_t n = 0;
    unsigned char *good = read_all(path, &n);

    vn_trainer *t = make(ctx, "aot,jepa", "world:aot");
    int64_t np = t->n_params;
    float *before = calloc((size_t)np, sizeof(float)), *after = calloc((size_t)np, sizeof(float));
    params_copy(t, before);
    size_t cuts[] = {0, 4, 8, 40, n / 2, n - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        write_bytes(path, good, cuts[i]);
        VN_ASSERT_FAILS(vn_trainer_resume(t, dir), VN_ERR_FORMAT);
    }
    unsigned char *bad = malloc(n);
    memcpy(bad, good, n);
    bad[10] = '#'; /* inside the JSON header */
    write_bytes(path, bad, n);
    VN_ASSERT_FAILS(vn_trainer_resume(t, dir), VN_ERR_FORMAT);
    free(bad);
    params_copy(t, after);
    ck_assert(!memcmp(before, after, (size_t)np * sizeof(float)));
    int64_t step = -1;
    VN_ASSERT_OK(vn_trainer_get_step(t, &step));
    ck_assert_int_eq(step, 0);
    /* a missing file names itself */
    unlink(path);
    VN_ASSERT_FAILS(vn_trainer_resume(t, dir), VN_ERR_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(vn_last_error(), "trainer.safetensors"));
    vn_trainer_destroy(t);

    /* the good file under other options or another objective set is refused by name */
    write_bytes(path, good, n);
    vn_trainer *other = make(ctx, "aot", "world:aot");
    VN_ASSERT_FAILS(vn_trainer_resume(other, dir), VN_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(vn_last_error(), "objectives"));
    vn_trainer_destroy(other);
    vn_trainer *ok = make(ctx, "aot,jepa", "world:aot");
    VN_ASSERT_OK(vn_trainer_resume(ok, dir));
    vn_trainer_destroy(ok);
    free(good);
    free(before);
    free(after);
    vn_context_destroy(ctx);
}
END_TEST

/* A save killed at any moment leaves the previous checkpoint resumable. */
START_TEST(test_atomic_save_killed)
{
    vn_context *ctx = vn_test_cpu_context(1);
    char dir[512];
    ckpt_dir(dir, sizeof dir, "killed");
    vn_trainer *a = make(ctx, "aot,future", "world:aot");
    VN_ASSERT_OK(vn_trainer_run(a, 1, NULL));
    VN_ASSERT_OK(vn_trainer_save(a, dir));
    for (int round = 0; round < 4; round++) {
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            for (;;) {
                if (vn_trainer_step(a, NULL) != VN_OK || vn_trainer_save(a, dir) != VN_OK)
                    _exit(3);
            }
        }
        usleep(20000 + 37000 * round);
        kill(pid, SIGKILL);
        int status = 0;
        waitpid(pid, &status, 0);
        ck_assert(WIFSIGNALED(status));
        vn_trainer *r = make(ctx, "aot,future", "world:aot");
        VN_ASSERT_OK(vn_trainer_resume(r, dir));
        int64_t step = 0;
        VN_ASSERT_OK(vn_trainer_get_step(r, &step));
        ck_assert_int_ge(step, 1);
        vn_trainer_destroy(r);
    }
    vn_trainer_destroy(a);
    vn_context_destroy(ctx);
}
END_TEST

/* Videos through vn_loader: a manifest with labels feeds the label and aot objectives,
 * a second manifest is the held-out set, and a resume replays the epoch's order. */
START_TEST(test_file_data)
{
    if (!lf_have_ffmpeg()) {
        printf("SKIP file data: no ffmpeg CLI here to write the fixture videos\n");
        return;
    }
    char dir[512], path[700], manifest[700], held[700];
    fmt_into(dir, sizeof dir, "%s/train_videos_%d", vn_test_tmpdir(), (int)getpid());
    ck_assert_int_eq(lf_mkdir(dir), 0);
    fmt_into(manifest, sizeof manifest, "%s/train.csv", dir);
    fmt_into(held, sizeof held, "%s/held.csv", dir);
    FILE *m = fopen(manifest, "w"), *h = fopen(held, "w");
    fprintf(m, "path,label\n");
    fprintf(h, "path,label\n");
    for (int i = 0; i < 6; i++) {
        fmt_into(path, sizeof path, "%s/v%d.mp4", dir, i);
        ck_assert_int_eq(lf_make_textured(path, 48, 40, 12, 25.0, "mpeg4", 50 * i), 0);
        fprintf(i < 4 ? m : h, "%s,%d\n", path, i % 2);
    }
    fprintf(m, "%s/missing.mp4,1\n", dir); /* skipped with a log line, never fatal */
    fclose(m);
    fclose(h);
    vn_context *ctx = vn_test_cpu_context(2);
    vn_encoder_config c = tiny(VN_ENCODER_VIDEO);
    vn_train_options o = opts_for("aot,label", manifest, 2);
    o.eval_data = held;
    o.num_classes = 2;
    o.eval_clips = 2;
    vn_trainer *tr = NULL;
    VN_ASSERT_OK(vn_trainer_create(&tr, ctx, &c, &o));
    vn_train_metrics e = VN_TRAIN_METRICS_INIT;
    VN_ASSERT_OK(vn_trainer_run(tr, 3, NULL)); /* crosses an epoch: 4 good videos, batch 2 */
    VN_ASSERT_OK(vn_trainer_evaluate(tr, &e));
    ck_assert(isfinite(e.losses[VN_OBJECTIVE_LABEL]) && isfinite(e.losses[VN_OBJECTIVE_AOT]));
    char ck[600];
    fmt_into(ck, sizeof ck, "%s/ckpt", dir);
    VN_ASSERT_OK(vn_trainer_save(tr, ck));
    VN_ASSERT_OK(vn_trainer_run(tr, 2, NULL));
    int64_t n = tr->n_params;
    float *straight = calloc((size_t)n, sizeof(float)), *resumed = calloc((size_t)n, sizeof(float));
    params_copy(tr, straight);
    vn_trainer_destroy(tr);
    VN_ASSERT_OK(vn_trainer_create(&tr, ctx, &c, &o));
    VN_ASSERT_OK(vn_trainer_resume(tr, ck));
    VN_ASSERT_OK(vn_trainer_run(tr, 2, NULL));
    params_copy(tr, resumed);
    ck_assert_msg(!memcmp(straight, resumed, (size_t)n * sizeof(float)), "file data: resumed weights differ");
    vn_trainer_destroy(tr);
    /* file data without held-out data cannot evaluate; labels past num_classes are refused */
    o.eval_data = NULL;
    o.num_classes = 0;
    VN_ASSERT_FAILS(vn_trainer_create(&tr, ctx, &c, &o), VN_ERR_INVALID_ARG);
    o.objectives = "aot";
    VN_ASSERT_OK(vn_trainer_create(&tr, ctx, &c, &o));
    VN_ASSERT_FAILS(vn_trainer_evaluate(tr, &e), VN_ERR_STATE);
    vn_trainer_destroy(tr);
    free(straight);
    free(resumed);
    lf_remove_tree(dir);
    vn_context_destroy(ctx);
}
END_TEST

static int count_calls(const vn_train_metrics *m, void *user)
{
    int *calls = user;
    calls[m->is_eval]++;
    return 0;
}

/* A small video encoder trained with aot on world:aot learns the arrow of time on
 * held-out scenes, well above chance. Learning has a plateau at chance and then a quick
 * rise (about 600 to 1,200 steps with this recipe); 1,500 steps leave a margin. One
 * thread: the suite runs beside others, and OpenMP teams collapse on shared cores. */
START_TEST(test_world_aot_learns)
{
    vn_context *ctx = vn_test_cpu_context(1);
    vn_encoder_config c = VN_ENCODER_CONFIG_INIT;
    c.frames = 8;
    c.size = 16;
    c.patch = 4;
    c.tubelet_t = 2;
    c.dim = 32;
    c.depth = 2;
    c.heads = 2;
    c.pos = VN_POS_SINCOS;
    vn_train_options o = opts_for("aot", "world:aot", 16);
    o.total_steps = 1500;
    o.lr = 2e-3f;
    o.eval_every = 500;
    o.eval_clips = 128;
    int calls[2] = {0, 0};
    o.callback = count_calls;
    o.callback_user = calls;
    vn_trainer *tr = NULL;
    VN_ASSERT_OK(vn_trainer_create(&tr, ctx, &c, &o));
    vn_train_metrics first = VN_TRAIN_METRICS_INIT, last = VN_TRAIN_METRICS_INIT;
    VN_ASSERT_OK(vn_trainer_evaluate(tr, &first));
    VN_ASSERT_OK(vn_trainer_run(tr, 1500, NULL));
    VN_ASSERT_OK(vn_trainer_evaluate(tr, &last));
    ck_assert_int_eq(calls[0], 1500);
    ck_assert_int_eq(calls[1], 3);
    ck_assert(isnan(last.losses[VN_OBJECTIVE_JEPA]));
    printf("world:aot held-out accuracy %.3f -> %.3f after 1500 steps (loss %.3f -> %.3f)\n",
           (double)first.accuracy[VN_OBJECTIVE_AOT], (double)last.accuracy[VN_OBJECTIVE_AOT],
           (double)first.losses[VN_OBJECTIVE_AOT], (double)last.losses[VN_OBJECTIVE_AOT]);
    ck_assert_msg(last.accuracy[VN_OBJECTIVE_AOT] >= 0.75f, "held-out aot accuracy %.3f after 1500 steps",
                  (double)last.accuracy[VN_OBJECTIVE_AOT]);
    ck_assert(last.losses[VN_OBJECTIVE_AOT] < first.losses[VN_OBJECTIVE_AOT] - 0.1f);
    vn_trainer_destroy(tr);
    vn_context_destroy(ctx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("train");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_objectives_parse);
    tcase_add_test(tc, test_create_errors);
    tcase_add_test(tc, test_grad_aot);
    tcase_add_test(tc, test_grad_order);
    tcase_add_test(tc, test_grad_future);
    tcase_add_test(tc, test_grad_jepa);
    tcase_add_test(tc, test_grad_label);
    tcase_add_test(tc, test_aot_loss_by_hand);
    tcase_add_test(tc, test_tube_masks);
    tcase_add_test(tc, test_exact_resume);
    tcase_add_test(tc, test_corrupt_checkpoints);
    tcase_add_test(tc, test_atomic_save_killed);
    tcase_add_test(tc, test_file_data);
    tcase_add_test(tc, test_world_aot_learns);
    suite_add_tcase(s, tc);
    return vn_test_run(s);
}
