#include "core/profile.h"

#include <omp.h>
#include <string.h>
#include <time.h>

static const char *const names[VN_PROF_COUNT] = {
    [VN_PROF_GEMM] = "gemm",
    [VN_PROF_LINEAR_FWD] = "linear fwd (bias, glue)",
    [VN_PROF_LINEAR_BWD] = "linear bwd (glue)",
    [VN_PROF_LAYERNORM_FWD] = "layernorm fwd",
    [VN_PROF_LAYERNORM_BWD] = "layernorm bwd",
    [VN_PROF_GELU_FWD] = "gelu fwd",
    [VN_PROF_GELU_BWD] = "gelu bwd",
    [VN_PROF_ATTENTION_FWD] = "attention fwd",
    [VN_PROF_ATTENTION_BWD] = "attention bwd",
    [VN_PROF_ATTENTION_REGROUP] = "attention regroup (divided)",
    [VN_PROF_SOFTMAX] = "softmax",
    [VN_PROF_RESIDUAL] = "residual",
    [VN_PROF_BIAS_GRAD] = "bias grad",
    [VN_PROF_EMBED_FWD] = "patch/pos embed fwd",
    [VN_PROF_EMBED_BWD] = "patch/pos embed bwd",
    [VN_PROF_POOL_FWD] = "pooling fwd",
    [VN_PROF_POOL_BWD] = "pooling bwd",
    [VN_PROF_L2NORM] = "l2 norm",
    [VN_PROF_LOSS] = "losses",
    [VN_PROF_MEMORY] = "fill/copy/gather/scatter",
    [VN_PROF_TRANSFER] = "upload/download",
    [VN_PROF_ADAMW] = "adamw",
    [VN_PROF_GRAD_CLIP] = "grad-norm clip",
    [VN_PROF_EMA] = "ema (jepa target)",
    [VN_PROF_DATA] = "data (wait for the batch)",
    [VN_PROF_ALLREDUCE] = "all-reduce",
    [VN_PROF_STEP] = "step (rest: heads, masks, bookkeeping)",
};

const char *vn_prof_op_name(vn_prof_op op)
{
    return (int)op >= 0 && op < VN_PROF_COUNT ? names[op] : "unknown";
}

void vn_profile_init(vn_profile *p)
{
    memset(p, 0, sizeof *p);
    pthread_mutex_init(&p->lock, NULL);
}

void vn_profile_fini(vn_profile *p)
{
    pthread_mutex_destroy(&p->lock);
}

void vn_profile_reset(vn_profile *p)
{
    pthread_mutex_lock(&p->lock);
    memset(p->e, 0, sizeof p->e);
    pthread_mutex_unlock(&p->lock);
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static _Thread_local vn_prof_scope *top;

vn_prof_scope vn_prof_begin(vn_profile *p, vn_prof_op op, double flops)
{
    vn_prof_scope s = {NULL, NULL, op, 0.0, 0.0, flops};
    /* Inside a parallel region every thread would charge the same wall time. */
    if (p && p->enabled && !omp_in_parallel()) {
        s.prof = p;
        s.t0 = now_s();
    }
    return s;
}

void vn_prof_link(vn_prof_scope *s)
{
    if (!s->prof)
        return;
    s->parent = top;
    top = s;
}

void vn_prof_end(vn_prof_scope *s)
{
    if (!s->prof)
        return;
    double dt = now_s() - s->t0;
    top = s->parent;
    if (s->parent)
        s->parent->child += dt;
    vn_profile *p = s->prof;
    pthread_mutex_lock(&p->lock);
    p->e[s->op].calls++;
    p->e[s->op].seconds += dt - s->child;
    p->e[s->op].flops += s->flops;
    pthread_mutex_unlock(&p->lock);
}
