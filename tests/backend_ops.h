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

/* ||C - R||_2 / ||R||_2 an fp32 GEMM may reach; backends keep reduced-precision math
 * off for VN_GEMM_FP32. */
#define VN_OPS_GEMM_TOL 1e-5

/* NMSE, ||C - R||^2 / ||R||^2, a reduced-precision GEMM may reach against the
 * reference's emulation of it (operands rounded to nearest even, double accumulation).
 * TF32: a device may truncate the operands instead of rounding them, which moves each
 * product by up to 2^-10 relative (NMSE ~1e-6 on the harness's data); 1e-5 leaves room.
 * BF16: the backend rounds exactly as the emulation does, so only the fp32 accumulation
 * differs (~1e-12); 1e-8 leaves room for tensor cores' inexact accumulation. */
#define VN_OPS_TF32_NMSE 1e-5
#define VN_OPS_BF16_NMSE 1e-8

#define VN_OPS_BIT(op) (1u << (op))

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
    /* NMSE the GELU epilogue's output may reach against the reference's gelu_tanh of the
     * same pre-activation. 0: the fp32 bound (the backend computes the same formula).
     * A device whose tanh is a hardware approximation (relative error up to 2^-11)
     * reaches ~1e-7 on the harness's data. */
    double gelu_nmse;
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
 * One GEMM on be and on ref from the same random inputs: asserts the error over C
 * (VN_OPS_GEMM_TOL, or the NMSE of d's precision), finite results, and that nothing
 * outside C (row padding, gaps between batches) changed. c_fill, when not NULL, is
 * what C starts as (NaN with beta = 0 must not leak). With k = 0 the operands are
 * passed as NULL, which the dispatcher allows. With the GELU epilogue each side gets
 * its own aux (d->aux is ignored), filled with NaN: the pre-activation there is held
 * to the bound of d's precision, and so is C; neither may be written outside its
 * matrix.
 */
void vn_ops_check_gemm(const vn_be *be, const vn_be *ref, const vn_gemm_desc *d, vn_rng *r, int with_bias,
                       const float *c_fill);

/* Whether t has a function for op (its pointer is set): what supports() must report
 * for the ops that have one. The GEMM variants (gemm_tf32, gemm_bf16, gemm_gelu) have
 * no pointer of their own; for them this is 0 and supports() is checked by running
 * them. */
int vn_ops_table_has(const vn_backend *t, vn_op op);
int vn_ops_op_has_pointer(vn_op op);

/*
 * A device stand-in (backend_ops_standin.c): the reference's arithmetic (GEMM variants
 * included) behind memory the host cannot touch, with mul and max missing, and an
 * upload_async that lands only when the next op, download or synchronize needs it.
 * Without a GPU it is what runs the harness's device discipline and its
 * unsupported-op path.
 */
extern const vn_backend vn_ops_device_standin;

#endif
