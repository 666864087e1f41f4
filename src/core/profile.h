/*
 * Per-op time of the engine, for `--profile` and vn_context_profile_*.
 *
 * Each op opens a scope (VN_PROF) that closes when the op's C block ends (gcc/clang
 * cleanup attribute). Scopes nest: a GEMM inside linear_forward is charged to "gemm",
 * and only the rest of linear_forward to "linear", so the entries add up to the time
 * spent in the engine without double counting. Off (the default) costs one load and a
 * branch per op. On a device backend the times are the host's (launch and wait), not
 * the kernels'.
 */
#ifndef VN_CORE_PROFILE_H
#define VN_CORE_PROFILE_H

#include <pthread.h>
#include <stdint.h>

typedef enum vn_prof_op {
    VN_PROF_GEMM,
    VN_PROF_LINEAR_FWD,
    VN_PROF_LINEAR_BWD,
    VN_PROF_LAYERNORM_FWD,
    VN_PROF_LAYERNORM_BWD,
    VN_PROF_GELU_FWD,
    VN_PROF_GELU_BWD,
    VN_PROF_ATTENTION_FWD,
    VN_PROF_ATTENTION_BWD,
    VN_PROF_ATTENTION_REGROUP,
    VN_PROF_SOFTMAX,
    VN_PROF_RESIDUAL,
    VN_PROF_BIAS_GRAD,
    VN_PROF_EMBED_FWD,
    VN_PROF_EMBED_BWD,
    VN_PROF_POOL_FWD,
    VN_PROF_POOL_BWD,
    VN_PROF_L2NORM,
    VN_PROF_LOSS,
    VN_PROF_MEMORY,
    VN_PROF_TRANSFER,
    VN_PROF_ADAMW,
    VN_PROF_GRAD_CLIP,
    VN_PROF_EMA,
    VN_PROF_DATA,
    VN_PROF_ALLREDUCE,
    VN_PROF_STEP,
    VN_PROF_COUNT
} vn_prof_op;

typedef struct vn_prof_entry {
    int64_t calls;
    double seconds; /* self time: nested scopes are charged to their own entries */
    double flops;   /* counted analytically by the op (GEMMs, attention); 0 elsewhere */
} vn_prof_entry;

typedef struct vn_profile {
    volatile int enabled;
    pthread_mutex_t lock;
    vn_prof_entry e[VN_PROF_COUNT];
} vn_profile;

typedef struct vn_prof_scope {
    vn_profile *prof; /* NULL: this scope records nothing */
    struct vn_prof_scope *parent;
    vn_prof_op op;
    double t0, child, flops;
} vn_prof_scope;

void vn_profile_init(vn_profile *p);
void vn_profile_fini(vn_profile *p);
void vn_profile_reset(vn_profile *p);
const char *vn_prof_op_name(vn_prof_op op);

vn_prof_scope vn_prof_begin(vn_profile *p, vn_prof_op op, double flops);
void vn_prof_end(vn_prof_scope *s);

/* The scope must be opened in the caller's frame (its address goes on a thread-local
 * stack), hence the begin-then-link split. */
void vn_prof_link(vn_prof_scope *s);

#define VN_PROF_CAT2(a, b) a##b
#define VN_PROF_CAT(a, b) VN_PROF_CAT2(a, b)
/* Time the rest of the enclosing block as `op` with `flops` counted. */
#define VN_PROF_FLOPS(profp, op, flops)                                                              \
    vn_prof_scope VN_PROF_CAT(vn_prof_s_, __LINE__) __attribute__((cleanup(vn_prof_end))) =          \
        vn_prof_begin((profp), (op), (flops));                                                       \
    vn_prof_link(&VN_PROF_CAT(vn_prof_s_, __LINE__))
#define VN_PROF(profp, op) VN_PROF_FLOPS(profp, op, 0.0)

#endif
