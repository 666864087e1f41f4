/*
 * The training step on a device backend against the same step on the cpu: one
 * harness, two targets. The stand-in (tests/device_standin.c) runs the host kernels
 * behind guarded memory, so there the two must agree bit for bit; the cuda backend
 * runs its own kernels, so there they must agree to stated tolerances.
 */
#ifndef VN_TEST_TRAIN_DEVICE_H
#define VN_TEST_TRAIN_DEVICE_H

#include "vn_test.h"

typedef struct vn_train_target {
    const char *name;
    /* a fresh context on the device (the test owns it) */
    vn_context *(*open)(void);
    /* 0: bit-identical; otherwise the NMSE allowed for gradients and weights and the
     * relative error allowed for losses */
    double grad_nmse, loss_rel;
    /* the device trainer's matrix products (the cpu's are fp32) */
    vn_precision precision;
} vn_train_target;

/* A TCase with one test per encoder family (a full step: every objective, the loss and
 * every gradient against the cpu), a checkpoint round trip on the device, and encode. */
TCase *vn_train_device_tcase(const vn_train_target *t);

#endif
