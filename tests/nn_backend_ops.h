/*
 * The engine-ops harness: every entry of a device backend's engine table
 * (src/backend/backend_nn.h), in the manner of ggml's test-backend-ops. For each
 * entry and several random shapes (odd sizes, rows that are not a multiple of 32,
 * T = 1, one case past the host ops' parallel thresholds) it draws inputs on the
 * host, runs the plain-C reference on host buffers (the vn_ref_* twins of
 * nn/ops_ref.h, or a double-accumulating loop here where an entry has none),
 * uploads the same inputs, calls the table entry directly, downloads, and compares
 * by NMSE = sum (x - r)^2 / sum r^2 against the entry's tolerance (the case table
 * in nn_backend_ops.c). Gradients start from random values, so that "+=" is what is
 * checked; NULL gradients are passed where an entry allows them. With
 * `deterministic` every case runs twice and the second run must give the first
 * run's bits.
 *
 * A test executable describes its backend with a vn_nn_ops_target and adds
 * vn_nn_ops_tcase() to its suite, as with backend_ops.h.
 */
#ifndef VN_TEST_NN_BACKEND_OPS_H
#define VN_TEST_NN_BACKEND_OPS_H

#include "vn_test.h"

#include "backend/backend.h"

typedef struct vn_nn_ops_target {
    /* Names the TCase; messages name the backend by its table's name. */
    const char *name;
    vn_backend_kind kind;
    vn_backend_config cfg;
    /* NULL: the build's table for kind. Otherwise a table defined by a test, opened
     * with its init (vn_be_open only knows the build's tables). */
    const vn_backend *table;
    /* NMSE allowed for adamw against the float formula of nn/optim.c: 0 where the
     * backend runs that very arithmetic, about 1e-12 on a device (FMA contraction). */
    double adamw_nmse;
} vn_nn_ops_target;

/*
 * A TCase named after t with one test per engine-table entry, plus one that the
 * table is complete. Each test opens t's backend itself: a backend opened before
 * Check forks would not survive into the test process (a CUDA context does not).
 */
TCase *vn_nn_ops_tcase(const vn_nn_ops_target *t);

/* Opens t's backend (asserting that it opens). */
void vn_nn_ops_open(const vn_nn_ops_target *t, vn_be *be);

#endif
