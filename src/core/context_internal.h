/* What a vn_context holds, for the modules that compute through it. */
#ifndef VN_CORE_CONTEXT_INTERNAL_H
#define VN_CORE_CONTEXT_INTERNAL_H

#include "backend/backend.h"
#include "core/profile.h"

struct vn_context {
    vn_backend_kind kind;
    vn_be be;
    int n_threads;
    uint64_t seed;
    int deterministic;
    int device;
    vn_profile prof; /* per-op times while profiling is on (vn_context_set_profiling) */
};

static inline const vn_be *vn_context_be(const vn_context *ctx)
{
    return &ctx->be;
}

static inline vn_profile *vn_context_profile(vn_context *ctx)
{
    return &ctx->prof;
}

#endif
