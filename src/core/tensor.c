#include "vnative/tensor.h"
#include "core/error.h"

const char *vn_dtype_name(vn_dtype dtype)
{
    switch (dtype) {
    case VN_DTYPE_F32: return "f32";
    case VN_DTYPE_U8: return "u8";
    case VN_DTYPE_I32: return "i32";
    case VN_DTYPE_I64: return "i64";
    case VN_DTYPE_BF16: return "bf16";
    }
    return "unknown";
}

size_t vn_dtype_size(vn_dtype dtype)
{
    switch (dtype) {
    case VN_DTYPE_F32: return 4;
    case VN_DTYPE_U8: return 1;
    case VN_DTYPE_I32: return 4;
    case VN_DTYPE_I64: return 8;
    case VN_DTYPE_BF16: return 2;
    }
    return 0;
}

vn_status vn_tensor_init(vn_tensor *t, void *data, vn_dtype dtype, int ndim, const int64_t *shape)
{
    VN_CHECK_NULL(t);
    if (vn_dtype_size(dtype) == 0)
        return vn_error(VN_ERR_INVALID_ARG, "vn_tensor_init: dtype %d is not a vn_dtype", (int)dtype);
    if (ndim < 0 || ndim > VN_MAX_DIMS)
        return vn_error(VN_ERR_SHAPE, "vn_tensor_init: ndim %d is outside [0, %d]", ndim, VN_MAX_DIMS);
    if (ndim > 0 && !shape)
        return vn_error(VN_ERR_INVALID_ARG, "vn_tensor_init: argument 'shape' is NULL with ndim %d", ndim);
    int64_t numel = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0)
            return vn_error(VN_ERR_SHAPE, "vn_tensor_init: shape[%d] = %lld is negative", i, (long long)shape[i]);
        /* the strides below are products of the extents: refuse what int64 cannot hold */
        if (__builtin_mul_overflow(numel, shape[i], &numel))
            return vn_error(VN_ERR_SHAPE, "vn_tensor_init: the product of the shape overflows int64 at shape[%d] = %lld",
                            i, (long long)shape[i]);
    }
    t->data = data;
    t->dtype = dtype;
    t->ndim = ndim;
    int64_t stride = 1;
    for (int i = VN_MAX_DIMS - 1; i >= 0; i--) {
        t->shape[i] = i < ndim ? shape[i] : 0;
        t->strides[i] = i < ndim ? stride : 0;
        if (i < ndim)
            stride *= shape[i];
    }
    return VN_OK;
}

vn_status vn_tensor_numel(const vn_tensor *t, int64_t *out)
{
    VN_CHECK_NULL(t);
    VN_CHECK_NULL(out);
    if (t->ndim < 0 || t->ndim > VN_MAX_DIMS)
        return vn_error(VN_ERR_SHAPE, "vn_tensor_numel: ndim %d is outside [0, %d]", t->ndim, VN_MAX_DIMS);
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++) {
        if (t->shape[i] < 0)
            return vn_error(VN_ERR_SHAPE, "vn_tensor_numel: shape[%d] = %lld is negative", i, (long long)t->shape[i]);
        if (__builtin_mul_overflow(n, t->shape[i], &n))
            return vn_error(VN_ERR_SHAPE, "vn_tensor_numel: the product of the shape overflows int64 at shape[%d] = %lld",
                            i, (long long)t->shape[i]);
    }
    *out = n;
    return VN_OK;
}

#include "core/tensor_check.h"

#include <stdio.h>

static void shape_str(char *buf, size_t cap, int ndim, const int64_t *shape)
{
    size_t used = 0;
    used += (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < ndim && used < cap; i++)
        used += (size_t)snprintf(buf + used, cap - used, i ? ", %lld" : "%lld", (long long)shape[i]);
    if (used < cap)
        snprintf(buf + used, cap - used, "]");
}

vn_status vn_tensor_expect(const char *fn, const char *what, const vn_tensor *t, vn_dtype dtype, int ndim,
                           const int64_t *shape)
{
    if (!t)
        return vn_error(VN_ERR_INVALID_ARG, "%s: the %s tensor is NULL", fn, what);
    if (t->dtype != dtype)
        return vn_error(VN_ERR_SHAPE, "%s: the %s tensor has dtype %s; expected %s", fn, what,
                        vn_dtype_name(t->dtype), vn_dtype_name(dtype));
    char want[160], got[160];
    shape_str(want, sizeof want, ndim, shape);
    if (t->ndim != ndim) {
        shape_str(got, sizeof got, t->ndim >= 0 && t->ndim <= VN_MAX_DIMS ? t->ndim : 0, t->shape);
        return vn_error(VN_ERR_SHAPE, "%s: the %s tensor has %d dimensions %s; expected %d %s", fn, what, t->ndim, got,
                        ndim, want);
    }
    int64_t numel = 1;
    for (int i = 0; i < ndim; i++) {
        numel *= shape[i];
        if (t->shape[i] != shape[i]) {
            shape_str(got, sizeof got, ndim, t->shape);
            return vn_error(VN_ERR_SHAPE, "%s: the %s tensor has shape %s; expected %s", fn, what, got, want);
        }
    }
    if (numel > 0 && !t->data)
        return vn_error(VN_ERR_INVALID_ARG, "%s: the %s tensor's data pointer is NULL", fn, what);
    return VN_OK;
}
