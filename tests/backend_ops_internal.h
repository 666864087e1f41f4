/*
 * What the two files of the backend-ops harness share (backend_ops.c: the harness, the
 * fp32 GEMM, elementwise and reduction cases; backend_ops_variants.c: the GEMM
 * comparison, the GEMM variants' cases and upload_async's). Private to them: a test
 * executable uses backend_ops.h.
 */
#ifndef VN_TEST_BACKEND_OPS_INTERNAL_H
#define VN_TEST_BACKEND_OPS_INTERNAL_H

#include <stdlib.h>

#include "backend_ops.h"

typedef struct vn_ops_env {
    const vn_ops_target *t;
    const char *case_name;
    vn_be be, ref;
} vn_ops_env;

/*
 * One op case: its own backends, opened in the test process (see vn_ops_tcase).
 * A case about one op names it and is skipped where the backend lacks it; cases
 * over several ops pass VN_OP_COUNT and ask has_op themselves.
 */
void vn_ops_run_case(int slot, const char *case_name, vn_op op, void (*body)(vn_ops_env *e));

#define OPS_CASE(name, op)                           \
    static void name##_body(vn_ops_env *e);          \
    START_TEST(name)                                 \
    {                                                \
        vn_ops_run_case(_i, #name, op, name##_body); \
    }                                                \
    END_TEST                                         \
    static void name##_body(vn_ops_env *e)

/* Adds the cases of backend_ops_variants.c to tc, for the target in slot. */
void vn_ops_add_variant_tests(TCase *tc, int slot);

static inline const char *vn_ops_be_name(const vn_ops_env *e)
{
    return e->be.table->name;
}

static inline float *vn_ops_host_floats(int64_t n)
{
    float *p = malloc((size_t)(n > 0 ? n : 1) * sizeof *p);
    ck_assert_ptr_nonnull(p);
    return p;
}

/* d on be from host operands (NULL stays NULL); C starts as c0 and comes back in c_out.
 * With the GELU epilogue aux starts as aux0 and comes back in aux_out. */
void vn_ops_gemm_on(const vn_be *be, const vn_gemm_desc *d, const float *a, int64_t na, const float *b, int64_t nb,
                    const float *bias, const float *c0, int64_t nc, float *c_out, const float *aux0, float *aux_out);

/* Shorthand for the GEMM cases: vn_ops_check_gemm on e's backends, with the target's
 * gelu_nmse. */
void vn_ops_check(vn_ops_env *e, const vn_gemm_desc *d, vn_rng *r, int with_bias, const float *c_fill);

/* A GEMM variant the backend claims runs (the cases compare it with the reference). */
void vn_ops_variant_runs(vn_ops_env *e, vn_op op);

#endif
