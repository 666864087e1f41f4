/*
 * The engine-ops harness (nn_backend_ops.c) on the CUDA backend: every entry of its
 * engine table against the plain-C reference, with the tolerances of the harness's
 * case table, and each case run twice for the same bits.
 *
 * Without a usable GPU the suite reports SKIP with the reason (exit code 77); the
 * harness itself runs on the guarded stand-in in test_nn_backend_ops.c.
 */
#include "nn_backend_ops.h"

#include <stdio.h>
#include <stdlib.h>

static const vn_nn_ops_target cuda = {
    .name = "cuda",
    .kind = VN_BACKEND_CUDA,
    .cfg = {.n_threads = 1, .deterministic = 1, .device = 0, .seed = 1},
    /* The kernels may contract a * b + c into an FMA and compute sqrt(v) / bc2 + eps
     * with a differently rounded division, where nn/optim.c rounds each step. */
    .adamw_nmse = 1e-12,
};

static Suite *nn_backend_ops_cuda_suite(void)
{
    Suite *s = suite_create("nn_backend_ops_cuda");
    suite_add_tcase(s, vn_nn_ops_tcase(&cuda));
    return s;
}

int main(void)
{
    return vn_test_run_on_gpu("nn_backend_ops_cuda", nn_backend_ops_cuda_suite);
}
