/*
 * The whole training step on the cuda backend against the cpu, for every encoder
 * family: losses, every gradient and the weights after two steps (train_device.h).
 * The GPU computes with other summation orders and its own exp/sqrt, so the
 * comparison is by NMSE; SKIP (77) where no GPU is usable.
 */
#include <stdio.h>
#include <stdlib.h>

#include "train_device.h"

static vn_context *cuda_context(void)
{
    vn_context_options o = VN_CONTEXT_OPTIONS_INIT;
    o.backend = VN_BACKEND_CUDA;
    o.n_threads = 1;
    o.deterministic = 1;
    vn_context *ctx = NULL;
    VN_ASSERT_OK(vn_context_create(&ctx, &o));
    return ctx;
}

static Suite *train_cuda_suite(void)
{
    /* fp32 throughout (no TF32): gradients to 1e-5 NMSE, losses to 1e-4 relative */
    static const vn_train_target cuda = {"cuda", cuda_context, 1e-5, 1e-4, VN_PRECISION_FP32};
    /* bf16 products against the cpu's fp32: bf16 keeps 8 bits, a relative error of
     * 2^-9 per operand, so a product's NMSE is near 1e-5 and a few layers of them stay
     * below 1e-3; the losses within 2%. Estimates until a GPU has calibrated them. */
    static const vn_train_target bf16 = {"cuda_bf16", cuda_context, 1e-3, 2e-2, VN_PRECISION_BF16};
    Suite *s = suite_create("train_cuda");
    suite_add_tcase(s, vn_train_device_tcase(&cuda));
    suite_add_tcase(s, vn_train_device_tcase(&bf16));
    return s;
}

int main(void)
{
    return vn_test_run_on_gpu("train_cuda", train_cuda_suite);
}
