/*
 * train_device.c: the full training step on a device against the cpu (train_device.h).
 *
 * Both trainers get the same config, options and data, run with one thread and
 * deterministic math, and after one step their losses, every gradient (encoder, heads
 * and JEPA predictor) and then, after a second step, every weight are compared. The
 * device trainer's buffers are read through vn_nn_download, as the host may not touch
 * them.
 */
#include "train_device.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "train/train_internal.h"

/* The target of the running test. Check's tests take no argument, so each TCase gets
 * a fixture that points this at its own target before each test. */
static const vn_train_target *target;

#define MAX_TARGETS 3
static const vn_train_target *slots[MAX_TARGETS];
static int n_slots;

static void use_slot0(void)
{
    target = slots[0];
}

static void use_slot1(void)
{
    target = slots[1];
}

static void use_slot2(void)
{
    target = slots[2];
}

/* Two blocks, so that a block's input gradient reaches the one below. */
static vn_encoder_config tiny(vn_encoder_family family)
{
    vn_encoder_config c = vn_test_tiny_config(family, 17);
    c.depth = 2;
    return c;
}

static vn_trainer *make(vn_context *ctx, vn_encoder_family family, const char *objectives)
{
    vn_train_options o = vn_test_tiny_train_options(objectives, "world:aot,gravity", 4);
    vn_encoder_config c = tiny(family);
    vn_trainer *tr = NULL;
    VN_ASSERT_OK(vn_trainer_create(&tr, ctx, &c, &o));
    if (tr->nn.dev)
        VN_ASSERT_OK(vn_trainer_set_precision(tr, target->precision));
    return tr;
}

/* n floats of a trainer's engine memory, as host floats (malloc'ed). */
static float *fetch(const vn_trainer *tr, const float *p, int64_t n)
{
    float *h = malloc((size_t)(n > 0 ? n : 1) * sizeof *h);
    ck_assert_ptr_nonnull(h);
    VN_ASSERT_OK(vn_nn_download(&tr->nn, h, p, (size_t)n * sizeof *h));
    return h;
}

/* Compare n floats: bit for bit at tolerance 0, else by NMSE. */
static void expect_close(const char *what, const float *got, const float *want, int64_t n, double nmse_tol)
{
    if (nmse_tol == 0) {
        for (int64_t i = 0; i < n; i++)
            ck_assert_msg(memcmp(&got[i], &want[i], sizeof(float)) == 0,
                          "%s: %s element %lld is %.9g on the device and %.9g on the cpu", target->name, what,
                          (long long)i, (double)got[i], (double)want[i]);
        return;
    }
    double num = 0, den = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = (double)got[i] - want[i];
        num += d * d;
        den += (double)want[i] * want[i];
    }
    double nmse = den > 0 ? num / den : num;
    ck_assert_msg(nmse <= nmse_tol, "%s: %s NMSE %.3g > %.3g", target->name, what, nmse, nmse_tol);
}

static void expect_loss(const char *what, float got, float want)
{
    if (target->loss_rel == 0) {
        ck_assert_msg(memcmp(&got, &want, sizeof got) == 0, "%s: %s loss %.9g on the device, %.9g on the cpu",
                      target->name, what, (double)got, (double)want);
        return;
    }
    ck_assert_msg(fabs((double)got - want) <= target->loss_rel * fabs((double)want) + 1e-7,
                  "%s: %s loss %.9g on the device, %.9g on the cpu", target->name, what, (double)got, (double)want);
}

/* Every parameter group's gradient (after a step it holds that step's clipped
 * gradient) or weights. */
static void compare_groups(const vn_trainer *dev, const vn_trainer *cpu, int weights, const char *family)
{
    ck_assert_int_eq(dev->n_groups, cpu->n_groups);
    for (int g = 0; g < cpu->n_groups; g++) {
        const vn_param_group *a = &dev->groups[g], *b = &cpu->groups[g];
        ck_assert_int_eq(a->n, b->n);
        float *got = fetch(dev, weights ? a->param : a->grad, a->n);
        char what[96];
        snprintf(what, sizeof what, "%s group %d %s", family, g, weights ? "weights" : "gradient");
        expect_close(what, got, weights ? b->param : b->grad, b->n, target->grad_nmse);
        free(got);
    }
}

static void full_step(vn_encoder_family family, const char *fname)
{
    const char *spec = "aot=1,order=0.5,future=0.5,jepa=1";
    vn_context *cctx = vn_test_cpu_context(1), *dctx = target->open();
    vn_trainer *cpu = make(cctx, family, spec), *dev = make(dctx, family, spec);
    ck_assert_ptr_nonnull(dev->nn.dev);
    vn_train_metrics mc = VN_TRAIN_METRICS_INIT, md = VN_TRAIN_METRICS_INIT;
    for (int s = 0; s < 2; s++) {
        VN_ASSERT_OK(vn_trainer_step(cpu, &mc));
        VN_ASSERT_OK(vn_trainer_step(dev, &md));
        for (int o = 0; o < VN_OBJECTIVE_COUNT; o++)
            if (cpu->w[o] > 0)
                expect_loss(vn_objective_name((vn_objective)o), md.losses[o], mc.losses[o]);
        expect_loss("grad norm", md.grad_norm, mc.grad_norm);
        if (s == 0)
            compare_groups(dev, cpu, 0, fname);
    }
    compare_groups(dev, cpu, 1, fname);
    vn_trainer_destroy(cpu);
    vn_trainer_destroy(dev);
    vn_context_destroy(cctx);
    vn_context_destroy(dctx);
}

START_TEST(test_step_video)
{
    full_step(VN_ENCODER_VIDEO, "video");
}
END_TEST

START_TEST(test_step_frames)
{
    full_step(VN_ENCODER_FRAMES, "frames");
}
END_TEST

START_TEST(test_step_frames_temporal)
{
    full_step(VN_ENCODER_FRAMES_TEMPORAL, "frames+temporal");
}
END_TEST

/* The label objective reads labels from the engine: a two-class world run. */
START_TEST(test_step_label)
{
    vn_context *cctx = vn_test_cpu_context(1), *dctx = target->open();
    vn_trainer *cpu = make(cctx, VN_ENCODER_VIDEO, "label"), *dev = make(dctx, VN_ENCODER_VIDEO, "label");
    vn_train_metrics mc = VN_TRAIN_METRICS_INIT, md = VN_TRAIN_METRICS_INIT;
    VN_ASSERT_OK(vn_trainer_step(cpu, &mc));
    VN_ASSERT_OK(vn_trainer_step(dev, &md));
    expect_loss("label", md.losses[VN_OBJECTIVE_LABEL], mc.losses[VN_OBJECTIVE_LABEL]);
    ck_assert(md.accuracy[VN_OBJECTIVE_LABEL] == mc.accuracy[VN_OBJECTIVE_LABEL]);
    compare_groups(dev, cpu, 0, "label");
    vn_trainer_destroy(cpu);
    vn_trainer_destroy(dev);
    vn_context_destroy(cctx);
    vn_context_destroy(dctx);
}
END_TEST

/* Save and resume a device trainer: the state goes through host copies both ways, and
 * the resumed run matches the straight one. Then the saved weights load and encode. */
START_TEST(test_checkpoint)
{
    const char *spec = "aot=1,future=0.5,jepa=1";
    vn_context *dctx = target->open();
    vn_trainer *a = make(dctx, VN_ENCODER_VIDEO, spec);
    VN_ASSERT_OK(vn_trainer_run(a, 2, NULL));
    char dir[512];
    snprintf(dir, sizeof dir, "%s/train_device_%s_%d", vn_test_tmpdir(), target->name, (int)getpid());
    VN_ASSERT_OK(vn_trainer_save(a, dir));
    VN_ASSERT_OK(vn_trainer_run(a, 2, NULL));
    vn_trainer *b = make(dctx, VN_ENCODER_VIDEO, spec);
    VN_ASSERT_OK(vn_trainer_resume(b, dir));
    VN_ASSERT_OK(vn_trainer_run(b, 2, NULL));
    float *wa = fetch(a, a->groups[0].param, a->n_params), *wb = fetch(b, b->groups[0].param, b->n_params);
    /* the same device both times: bit for bit whatever the target */
    ck_assert_msg(!memcmp(wa, wb, (size_t)a->n_params * sizeof(float)),
                  "%s: resumed weights differ from the straight run", target->name);
    free(wa);
    free(wb);

    /* the weights file loads on the device and on the cpu, and both encode alike */
    char path[600];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    vn_context *cctx = vn_test_cpu_context(1);
    vn_encoder *ed = NULL, *ec = NULL;
    VN_ASSERT_OK(vn_encoder_load(&ed, dctx, path));
    VN_ASSERT_OK(vn_encoder_load(&ec, cctx, path));
    vn_encoder_config c = tiny(VN_ENCODER_VIDEO);
    int64_t n_clip = (int64_t)c.channels * c.frames * c.size * c.size;
    float *clips = malloc((size_t)(3 * n_clip) * sizeof *clips), outd[3 * 16], outc[3 * 16];
    ck_assert_ptr_nonnull(clips);
    for (int64_t i = 0; i < 3 * n_clip; i++)
        clips[i] = (float)((i * 7919) % 1000) / 1000.0f;
    int64_t cs[5] = {3, c.channels, c.frames, c.size, c.size}, es[2] = {3, 16};
    vn_tensor tc, td, tcc;
    vn_tensor_init(&tc, clips, VN_DTYPE_F32, 5, cs);
    vn_tensor_init(&td, outd, VN_DTYPE_F32, 2, es);
    vn_tensor_init(&tcc, outc, VN_DTYPE_F32, 2, es);
    VN_ASSERT_OK(vn_encoder_encode(ed, &tc, &td));
    VN_ASSERT_OK(vn_encoder_encode(ec, &tc, &tcc));
    expect_close("encode", outd, outc, 3 * 16, target->grad_nmse);
    free(clips);
    vn_encoder_destroy(ed);
    vn_encoder_destroy(ec);
    vn_trainer_destroy(a);
    vn_trainer_destroy(b);
    vn_context_destroy(cctx);
    vn_context_destroy(dctx);
}
END_TEST

TCase *vn_train_device_tcase(const vn_train_target *t)
{
    static void (*const use[MAX_TARGETS])(void) = {use_slot0, use_slot1, use_slot2};
    if (n_slots == MAX_TARGETS) {
        fprintf(stderr, "train_device: more than %d targets\n", MAX_TARGETS);
        abort();
    }
    slots[n_slots] = t;
    TCase *tc = tcase_create(t->name);
    tcase_add_checked_fixture(tc, use[n_slots++], NULL);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_step_video);
    tcase_add_test(tc, test_step_frames);
    tcase_add_test(tc, test_step_frames_temporal);
    tcase_add_test(tc, test_step_label);
    tcase_add_test(tc, test_checkpoint);
    return tc;
}
