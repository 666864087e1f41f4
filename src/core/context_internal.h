/* What a vn_context holds, for the modules that compute through it. */
#ifndef VN_CORE_CONTEXT_INTERNAL_H
#define VN_CORE_CONTEXT_INTERNAL_H

#include "backend/backend.h"

struct vn_context {
    vn_backend_kind kind;
    vn_be be;
    int n_threads;
    uint64_t seed;
    int deterministic;
    int device;
};

static inline const vn_be *vn_context_be(const vn_context *ctx)
{
    return &ctx->be;
}

#endif
