/* Checking a caller's vn_tensor against what a call expects. */
#ifndef VN_CORE_TENSOR_CHECK_H
#define VN_CORE_TENSOR_CHECK_H

#include "vnative/tensor.h"

/* Check dtype, rank, exact shape and a non-NULL data pointer (when numel > 0), with a
 * message naming fn, what the tensor is for, and the expected and actual shapes. */
vn_status vn_tensor_expect(const char *fn, const char *what, const vn_tensor *t, vn_dtype dtype, int ndim,
                           const int64_t *shape);

/* Element offset of a multi-index (ndim entries). */
static inline int64_t vn_tensor_offset(const vn_tensor *t, const int64_t *idx)
{
    int64_t off = 0;
    for (int i = 0; i < t->ndim; i++)
        off += idx[i] * t->strides[i];
    return off;
}

#endif
