/*
 * The backend-ops harness: every op of the dispatch table (src/backend/backend.h)
 * run on a fast backend and on the plain-C reference from the same host inputs,
 * and compared. Inputs go through vn_be_alloc/vn_be_upload and results come back
 * through vn_be_download on both sides, so the same cases serve host backends and
 * device backends alike.
 *
 * A per-backend test executable describes its backend with a vn_ops_target, adds
 * vn_ops_tcase() to its suite, and keeps next to it only what is specific to that
 * backend; the generic cases and the shape generators live here once.
 */
#ifndef VN_TEST_BACKEND_OPS_H
#define VN_TEST_BACKEND_OPS_H

#include "vn_test.h"

#include "backend/backend.h"
#include "core/rng.h"

/* ||C - R||_2 / ||R||_2 a GEMM may reach; backends keep reduced-precision math off. */
#define VN_OPS_GEMM_TOL 1e-5

#define VN_OPS_BIT(op) (1u << (op))
#define VN_OPS_ALL ((1u << VN_OP_COUNT) - 1u)

typedef struct vn_ops_target {
    /* Names the TCase; messages name the backend by its table's name. */
    const char *name;
    vn_backend_kind kind;
    vn_backend_config cfg;
    /* NULL: the build's table for kind. Otherwise a table defined by a test. */
    const vn_backend *table;
    /* VN_OPS_BIT per op the backend must support; the rest may be missing. */
    unsigned required_ops;
    /* NMSE allowed for elementwise ops that round more than once (axpy, which a
     * device may contract into an FMA). 0 demands the reference's bits. Ops that
     * round once (add, mul, scale) must match bit for bit on any IEEE backend. */
    double elementwise_nmse;
    /* add may write into its first operand. The cpu kernels declare their
     * operands restrict, so this is a per-backend promise, not a table rule. */
    int add_in_place;
} vn_ops_target;

/*
 * A TCase named after t with one test per op case, each opening t's backend and
 * the reference itself: a backend opened before Check forks would not survive
 * into the test process (a CUDA context does not).
 */
TCase *vn_ops_tcase(const vn_ops_target *t);

/* The pieces, for the backend-specific tests that sit next to vn_ops_tcase. */
void vn_ops_open(const vn_ops_target *t, vn_be *be, vn_be *ref);
void vn_ops_close(vn_be *be, vn_be *ref);

/* n floats uniform in [-1, 1); never NULL, also for n = 0. */
float *vn_ops_random(vn_rng *r, int64_t n);
/* A backend buffer of n floats holding host[0..n), or uninitialised when host is NULL. */
float *vn_ops_upload(const vn_be *be, const float *host, int64_t n);
void vn_ops_download(const vn_be *be, float *host, const float *src, int64_t n);

/*
 * One GEMM on be and on ref from the same random inputs: asserts the relative
 * error over C, finite results, and that nothing outside C (row padding, gaps
 * between batches) changed. c_fill, when not NULL, is what C starts as (NaN with
 * beta = 0 must not leak). With k = 0 the operands are passed as NULL, which the
 * dispatcher allows.
 */
void vn_ops_check_gemm(const vn_be *be, const vn_be *ref, const vn_gemm_desc *d, vn_rng *r, int with_bias,
                       const float *c_fill);

/* Whether t has a function for op: what its supports() must report. */
int vn_ops_table_has(const vn_backend *t, vn_op op);

/*
 * A device stand-in (backend_ops_standin.c): the reference's arithmetic behind
 * memory the host cannot touch, with mul and max missing. Without a GPU it is what
 * runs the harness's device discipline and its unsupported-op path.
 */
extern const vn_backend vn_ops_device_standin;

#endif
