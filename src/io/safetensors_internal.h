/* What the safetensors writer and reader share. */
#ifndef VN_IO_SAFETENSORS_INTERNAL_H
#define VN_IO_SAFETENSORS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "vnative/tensor.h"

typedef struct vn_st_dtype_info {
    const char *name;
    vn_dtype dtype;
    size_t size;
} vn_st_dtype_info;

#define VN_ST_NDTYPES 5
extern const vn_st_dtype_info vn_st_dtypes[VN_ST_NDTYPES];

typedef struct vn_st_pair {
    char *key;
    char *value;
} vn_st_pair;

/* Bytes per element, 0 for a dtype safetensors cannot name. */
size_t vn_st_dtype_size(vn_dtype dtype);

/* Bytes of a shape, or 0 with *overflow set when it does not fit in size_t (and so cannot be
 * in memory or in a file either). */
size_t vn_st_nbytes(int ndim, const int64_t *shape, size_t elem, int *overflow);

/* Grow *p to hold need elements; 0 when out of memory (then *p is unchanged). */
int vn_st_grow(void **p, size_t *cap, size_t need, size_t elem);

char *vn_st_strdup(const char *s);

#endif
