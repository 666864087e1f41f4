/*
 * The whole training step through an engine table on memory the host cannot touch:
 * the guarded stand-in (device_standin.h) faults on any host access to its buffers,
 * and its arithmetic is the cpu path's, so every loss, gradient and weight must come
 * out bit-identical to a cpu trainer. This is what keeps the device path honest on
 * machines without a GPU.
 */
#include <stdlib.h>

#include "core/context_internal.h"
#include "device_standin.h"
#include "train/train_internal.h"
#include "train_device.h"

static vn_context *standin_context(void)
{
    vn_context *ctx = calloc(1, sizeof *ctx);
    ck_assert_ptr_nonnull(ctx);
    ctx->kind = VN_BACKEND_REFERENCE;
    ctx->n_threads = 1;
    ctx->deterministic = 1;
    VN_ASSERT_OK(vn_standin_open(&ctx->be, 1));
    return ctx;
}

/* A step is work queued on the device plus a few small, explicit readbacks (each
 * objective's loss and accuracy inputs, the gradient norm): no op falls back to the
 * host behind the engine's back. */
START_TEST(test_step_traffic)
{
    vn_context *ctx = standin_context();
    vn_train_options o = VN_TRAIN_OPTIONS_INIT;
    o.objectives = "aot=1,order=0.5,future=0.5,jepa=1";
    o.batch = 4;
    o.total_steps = 10;
    o.predictor_dim = 8;
    o.predictor_depth = 1;
    o.predictor_heads = 2;
    vn_encoder_config c = vn_test_small_config(VN_ENCODER_VIDEO, 3);
    vn_trainer *tr = NULL;
    VN_ASSERT_OK(vn_trainer_create(&tr, ctx, &c, &o));
    VN_ASSERT_OK(vn_trainer_step(tr, NULL));
    vn_standin_counts before = vn_standin_counters(&ctx->be);
    VN_ASSERT_OK(vn_trainer_step(tr, NULL));
    vn_standin_counts after = vn_standin_counters(&ctx->be);
    uint64_t nn = after.nn_calls - before.nn_calls, down = after.downloads - before.downloads;
    uint64_t up = after.uploads - before.uploads;
    /* 4 losses, aot's and order's logits, future's q and k, the gradient norm */
    ck_assert_msg(down <= 9, "a step downloaded %llu times", (unsigned long long)down);
    /* the batch and labels; each objective's frame indices and its targets or
     * positives (or jepa's target rows); the kept positions and positional rows of
     * jepa's two masked forwards; the predictor's four index arrays: 18 */
    ck_assert_msg(up <= 18, "a step uploaded %llu times", (unsigned long long)up);
    ck_assert_msg(nn > 100, "a step made only %llu engine-table calls", (unsigned long long)nn);
    ck_assert_int_eq(after.live_buffers, before.live_buffers);
    vn_trainer_destroy(tr);
    vn_context_destroy(ctx);
}
END_TEST

int main(void)
{
    static const vn_train_target standin = {"standin", standin_context, 0.0, 0.0, VN_PRECISION_FP32};
    Suite *s = suite_create("train_standin");
    suite_add_tcase(s, vn_train_device_tcase(&standin));
    TCase *tc = tcase_create("traffic");
    tcase_add_test(tc, test_step_traffic);
    suite_add_tcase(s, tc);
    return vn_test_run(s);
}
