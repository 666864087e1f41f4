/** @file
 * vnative/tensor.h: the tensor view that crosses the API.
 *
 * A vn_tensor describes memory the caller owns: a data pointer, a dtype, a shape
 * and strides in elements. Row-major is the default. The library reads or writes
 * through the view during a call and never keeps the pointer afterwards.
 *
 * Layouts used across the API:
 *   clips, float32:  [N,] C, T, H, W   (NCTHW, normalised)
 *   frames, uint8:   [N,] T, H, W, C   (NTHWC, RGB or gray)
 *
 * This struct is frozen: its layout will not change within a soversion.
 */
#ifndef VNATIVE_TENSOR_H
#define VNATIVE_TENSOR_H

#include "vnative/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Element types. */
typedef enum vn_dtype {
    VN_DTYPE_F32 = 0,
    VN_DTYPE_U8 = 1,
    VN_DTYPE_I32 = 2,
    VN_DTYPE_I64 = 3,
    VN_DTYPE_BF16 = 4
} vn_dtype;

#define VN_DTYPE_COUNT 5 /**< number of vn_dtype values */
#define VN_MAX_DIMS 6    /**< most dimensions a vn_tensor has */

/** A view of caller-owned memory: data pointer, dtype, shape and strides (see the file comment). */
typedef struct vn_tensor {
    void *data;                   /**< the first element; not owned */
    vn_dtype dtype;               /**< element type */
    int ndim;                     /**< dimensions in use, 0..VN_MAX_DIMS */
    int64_t shape[VN_MAX_DIMS];   /**< extent of each dimension */
    int64_t strides[VN_MAX_DIMS]; /**< in elements, not bytes */
} vn_tensor;

/** "f32", "u8", "i32", "i64", "bf16"; "unknown" otherwise. */
VN_API const char *vn_dtype_name(vn_dtype dtype);

/** Bytes per element, or 0 for an unknown dtype. */
VN_API size_t vn_dtype_size(vn_dtype dtype);

/** Describe a contiguous row-major tensor over data. */
VN_API vn_status vn_tensor_init(vn_tensor *t, void *data, vn_dtype dtype, int ndim, const int64_t *shape);

/** Number of elements (the product of the shape). */
VN_API vn_status vn_tensor_numel(const vn_tensor *t, int64_t *out);

#ifdef __cplusplus
}
#endif

#endif
