/*
 * The backend-ops harness (backend_ops.c) on the CUDA backend, plus what only it
 * has: device discovery and device indices, and which GEMM variants a device of a
 * given compute capability claims. fp32 GEMM error is ||C - R||_2 / ||R||_2 <= 1e-5,
 * which needs cuBLASLt off TF32 (CUBLAS_COMPUTE_32F sees to that); TF32 and BF16 are
 * measured against the reference's emulation (backend_ops.h).
 *
 * Without a usable GPU the whole suite reports SKIP with the reason (exit code 77);
 * what can be checked without one is in test_cuda_fallback.c, and the harness's
 * handling of device memory and missing ops runs on the device stand-in in
 * test_backend_ops.c.
 */
#include "backend_ops.h"

#include <string.h>

static const vn_ops_target cuda = {
    .name = "cuda",
    .kind = VN_BACKEND_CUDA,
    .cfg = {.n_threads = 1, .deterministic = 1, .device = 0, .seed = 1},
    /* Every base op and the GELU epilogue; TF32 and BF16 where the device has the
     * tensor cores for them (compute capability 8.0 on), which supports_by_capability
     * checks; the engine table (nn) is not wired in yet. */
    .required_ops = VN_OP_BASE_MASK | VN_OPS_BIT(VN_OP_GEMM_GELU),
    /* The kernels round like the reference's C (axpy twice, no FMA): its bits. */
    .elementwise_nmse = 0.0,
    /* The elementwise kernels read a[i] and b[i] before writing y[i], with no restrict. */
    .add_in_place = 1,
    /* cuBLASLt's fused GELU may use the hardware tanh (relative error up to 2^-11). */
    .gelu_nmse = 1e-6,
};

/* TF32 and BF16 are claimed exactly on devices with Ampere's tensor cores or newer. */
START_TEST(supports_by_capability)
{
    vn_device_info info = VN_DEVICE_INFO_INIT;
    VN_ASSERT_OK(vn_device_get_info(VN_BACKEND_CUDA, cuda.cfg.device, &info));
    vn_be be;
    VN_ASSERT_OK(vn_be_open(&be, VN_BACKEND_CUDA, &cuda.cfg));
    int tensor = info.capability_major >= 8;
    ck_assert_int_eq(vn_be_supports(&be, VN_OP_GEMM_TF32), tensor);
    ck_assert_int_eq(vn_be_supports(&be, VN_OP_GEMM_BF16), tensor);
    ck_assert(vn_be_supports(&be, VN_OP_GEMM_GELU));
    vn_be_close(&be);
}
END_TEST

START_TEST(device_info_and_bad_index)
{
    int n = 0;
    VN_ASSERT_OK(vn_device_count(VN_BACKEND_CUDA, &n));
    ck_assert_int_ge(n, 1);
    for (int i = 0; i < n; i++) {
        vn_device_info info = VN_DEVICE_INFO_INIT;
        VN_ASSERT_OK(vn_device_get_info(VN_BACKEND_CUDA, i, &info));
        ck_assert_int_eq(info.index, i);
        ck_assert_int_eq(info.backend, VN_BACKEND_CUDA);
        ck_assert(info.name[0] != '\0');
        ck_assert_uint_gt(info.memory_bytes, 0);
        ck_assert_int_gt(info.compute_units, 0);
        ck_assert_int_ge(info.capability_major, 1);
    }
    vn_device_info info = VN_DEVICE_INFO_INIT;
    VN_ASSERT_FAILS(vn_device_get_info(VN_BACKEND_CUDA, n, &info), VN_ERR_NOT_FOUND);

    unsetenv("VN_BACKEND");
    vn_context_options o = VN_CONTEXT_OPTIONS_INIT;
    o.backend = VN_BACKEND_CUDA;
    o.device = n; /* one past the last */
    vn_context *ctx = NULL;
    VN_ASSERT_FAILS(vn_context_create(&ctx, &o), VN_ERR_NOT_FOUND);
    ck_assert_ptr_null(ctx);
    o.device = 0;
    VN_ASSERT_OK(vn_context_create(&ctx, &o));
    vn_backend_kind k = VN_BACKEND_AUTO;
    VN_ASSERT_OK(vn_context_backend(ctx, &k));
    ck_assert_int_eq(k, VN_BACKEND_CUDA);
    vn_context_destroy(ctx);
}
END_TEST

static Suite *backend_ops_cuda_suite(void)
{
    Suite *s = suite_create("backend_ops");
    suite_add_tcase(s, vn_ops_tcase(&cuda));
    TCase *tc = tcase_create("cuda_specific");
    tcase_add_test(tc, device_info_and_bad_index);
    tcase_add_test(tc, supports_by_capability);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return vn_test_run_on_gpu("backend_ops_cuda", backend_ops_cuda_suite);
}
