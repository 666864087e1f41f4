/* Shared helpers for the Check suites. */
#ifndef VN_TEST_H
#define VN_TEST_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "vnative/vnative.h"

/* meson test reads exit code 77 as SKIP. */
#define VN_TEST_SKIP_CODE 77

/* Run a suite, print Check's summary line, and turn the failure count into the exit code. */
static inline int vn_test_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* Report why a whole suite cannot run here and exit with the SKIP code. */
static inline int vn_test_skip(const char *suite, const char *reason)
{
    printf("SKIP: %s: %s\n", suite, reason);
    fflush(stdout);
    return VN_TEST_SKIP_CODE;
}

/* Assert a call fails with the given status and leaves a non-empty message. */
#define VN_ASSERT_FAILS(call, status)                                                               \
    do {                                                                                            \
        vn_clear_error();                                                                           \
        vn_status vn_got_ = (call);                                                                 \
        ck_assert_msg(vn_got_ == (status), "%s returned %s, expected %s (message: %s)", #call,      \
                      vn_status_str(vn_got_), vn_status_str(status), vn_last_error());              \
        ck_assert_msg(vn_last_error()[0] != '\0', "%s failed without a message", #call);            \
    } while (0)

#define VN_ASSERT_OK(call)                                                                          \
    do {                                                                                            \
        vn_status vn_got_ = (call);                                                                 \
        ck_assert_msg(vn_got_ == VN_OK, "%s returned %s: %s", #call, vn_status_str(vn_got_),        \
                      vn_last_error());                                                             \
    } while (0)

/* snprintf that may truncate by design: messages and paths in fixed buffers. */
void fmt_into(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The checks every vn_x_options_init(opts, version) must pass: NULL, version 0 and a
 * version from the future fail; the current version succeeds into o. */
#define VN_ASSERT_OPTIONS_INIT(fn, o, current)                                 \
    do {                                                                       \
        VN_ASSERT_FAILS(fn(NULL, (current)), VN_ERR_INVALID_ARG);              \
        VN_ASSERT_FAILS(fn(&(o), 0), VN_ERR_VERSION);                          \
        VN_ASSERT_FAILS(fn(&(o), (current) + 1), VN_ERR_VERSION);              \
        VN_ASSERT_OK(fn(&(o), (current)));                                     \
    } while (0)

/* A tiny encoder config for tests of code around the encoder: 8 frames of 16 x 16 RGB,
 * patch 4 (tubelets of 2 frames for video), dim 32, one block of 2 heads. */
vn_encoder_config vn_test_small_config(vn_encoder_family family, uint64_t seed);
/* Smaller still, for training tests: 4 frames of 16x16, patch 8, width 16, one block. */
vn_encoder_config vn_test_tiny_config(vn_encoder_family family, uint64_t seed);
/* Training options for tiny models: 20 total steps, lr 1e-3, a 1-block predictor of
 * width 8, 8 held-out clips, seed 5. */
vn_train_options vn_test_tiny_train_options(const char *objectives, const char *data, int batch);

/* A deterministic cpu context with n_threads threads (asserts it opens). */
vn_context *vn_test_cpu_context(int n_threads);

/* A scratch directory for fixtures, created on first use under the build tree
 * (VN_TEST_TMPDIR, set by meson) or /tmp. */
const char *vn_test_tmpdir(void);

/* Whether a CUDA GPU is usable here (1), not (0, why says so), or the probe itself
 * broke (-1). Asked in a child process: CUDA does not survive fork, so once this
 * process had asked the driver anything, the tests Check forks from it could not use
 * the GPU (NVIDIA's CUDA C++ guidelines: no CUDA between fork and exec). */
int vn_test_cuda_usable(char *why, size_t cap);

/* main() of a GPU suite: SKIP (77) with the reason where no GPU is usable, a failure
 * when the probe breaks, else the suite make() builds. */
int vn_test_run_on_gpu(const char *name, Suite *(*make)(void));

#endif
