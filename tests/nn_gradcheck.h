/*
 * nn_gradcheck.h: finite-difference and fast-vs-reference checks for the nn ops.
 *
 * Gradient check. A test states the scalar L = sum(out * G) (G a fixed random
 * "upstream gradient") as a callback that reruns the REFERENCE forward on the current
 * contents of the inputs; the harness perturbs one input element at a time and compares
 * a central difference against the analytic gradient the backward produced with dout = G.
 *
 * Optionally (richardson) the difference is extrapolated from steps eps and eps/2,
 * (4 D(eps/2) - D(eps)) / 3, which cancels the eps^2 truncation term but amplifies
 * rounding noise about threefold: worth it when L is exact in double (the losses, whose
 * curvature at a low temperature is sharp), not when L sums float32 outputs.
 *
 * Why this is reliable in float32 storage: the reference forwards accumulate in double,
 * so a forward's only rounding is the final store of each output. Outputs that do not
 * depend on the perturbed element round identically on both sides and cancel exactly;
 * the step actually taken is measured as (float)(x + eps) - x in double rather than
 * assumed; and L is summed in double. A scalar loss must be handed over unrounded (the
 * reference losses have _f64 variants for this): a float32 mean cannot resolve the 1/N
 * share one element has in it. With eps = 1e-2 the suites measure errors of 1e-8..1e-4
 * against a tolerance of 1e-3.
 *
 * The error reported per input is ||analytic - numeric||_2 / max(||numeric||_2, floor)
 * over the checked elements, with the worst single element printed for diagnosis.
 */
#ifndef VN_NN_GRADCHECK_H
#define VN_NN_GRADCHECK_H

#include <stddef.h>
#include <stdint.h>

#include "backend/backend.h"
#include "nn/ops.h"

typedef struct vn_gradcheck_input {
    float *x;          /* perturbed in place, restored before returning */
    int64_t n;
    const float *grad; /* the analytic dL/dx from the backward */
    const char *name;
} vn_gradcheck_input;

/* L for the current contents of the inputs, accumulated in double. */
typedef double (*vn_gradcheck_loss_fn)(void *ctx);

typedef struct vn_gradcheck_opts {
    double eps;        /* step; 0 means 1e-2 */
    int64_t max_checks; /* elements checked per input, spread evenly; 0 means 64 */
    double floor;      /* norm floor for the relative error; 0 means 1e-6 */
    int richardson;    /* extrapolate from eps and eps/2 (see above) */
} vn_gradcheck_opts;

/* Worst relative error over all inputs; prints one line per input to stdout,
 * prefixed by label. */
double vn_gradcheck(const char *label, const vn_gradcheck_input *inputs, int n_inputs, vn_gradcheck_loss_fn loss,
                    void *ctx, const vn_gradcheck_opts *opts);

/* sum(out * g) in double: the usual L for a forward output. */
double vn_gradcheck_dot(const float *out, const float *g, int64_t n);

/* ||a - b||_2 / ||b||_2 (or ||a||_2 when b is all zeros; infinity when only one side
 * has a NaN); prints the worst element with label when the error exceeds
 * report_above (pass a negative value to always print). */
double vn_rel_err(const char *label, const float *a, const float *b, int64_t n, double report_above);

/* Deterministic test data. */
typedef struct vn_test_rng {
    uint64_t s;
} vn_test_rng;
void vn_test_rng_seed(vn_test_rng *r, uint64_t seed);
double vn_test_uniform(vn_test_rng *r); /* [0, 1) */
double vn_test_normal(vn_test_rng *r);
void vn_test_fill_uniform(vn_test_rng *r, float *x, int64_t n, float lo, float hi);
void vn_test_fill_normal(vn_test_rng *r, float *x, int64_t n, float scale);
int64_t vn_test_randint(vn_test_rng *r, int64_t lo, int64_t hi); /* [lo, hi] */

/* malloc'd float buffers, zeroed or copied; NULL when out of memory. */
float *vn_test_zeros(int64_t n);
float *vn_test_copy(const float *x, int64_t n);

/* A cpu backend and an op context on it, deterministic, with the given thread count:
 * what every nn suite runs its ops on. Close with vn_be_close(&e->be). */
typedef struct nn_env {
    vn_be be;
    vn_nn nn;
} nn_env;

void env_open(nn_env *e, int threads);

#endif
