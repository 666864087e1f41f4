/* What the index's files share: the vn_index struct and its checks. See vnative/index.h. */
#ifndef VN_INDEX_INTERNAL_H
#define VN_INDEX_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "vnative/index.h"

/* Stored rows scored per GEMM, and queries per GEMM: a block's scores (256 x 4096
 * floats, 4 MB) stay in cache while each query's top-k reads its row of them. */
#define VN_INDEX_BLOCK_ROWS 4096
#define VN_INDEX_QUERY_BLOCK 256

/* The widest vector an index takes: 16M floats (64 MB) a row. */
#define VN_INDEX_MAX_DIM ((int64_t)1 << 24)

struct vn_index {
    vn_context *ctx;
    int64_t dim;
    vn_index_metric metric;
    int64_t n, cap;    /* rows stored, rows allocated */
    float *vec;        /* n x dim, row-major, exactly as added */
    int64_t *ids;      /* n */
    double *inv_norm;  /* cosine: 1 / |row| per row, 0 for a zero row; NULL otherwise */
};

/* 1 / |x| over n floats, in double; 0 for a zero vector. */
double vn_index_inv_norm(const float *x, int64_t n);

/* out[j] = src[j] * inv for n floats (out may be src): how rows and queries are normalised. */
void vn_index_scale_row(const float *src, double inv, int64_t n, float *out);

/* Row `row` of the index as searched (normalised for cosine) into out[dim]. */
void vn_index_row_as_searched(const vn_index *ix, int64_t row, float *out);

/* A metric that is one of the enum's. */
int vn_index_metric_valid(vn_index_metric metric);

/* A caller's f32 [rows, dim] matrix, row-major contiguous, any number of rows (what
 * names it in messages). */
vn_status vn_index_expect_matrix(const char *fn, const char *what, const vn_tensor *t, int64_t dim);

/* Whether the context computes on memory the host cannot touch (a device backend). */
int vn_index_on_device(const vn_context *ctx);

#endif
