/** @file
 * index.h: exact nearest-neighbour search over embeddings.
 *
 * A vn_index holds n vectors of one dimension with an int64 id each, and answers top-k
 * queries by cosine similarity or inner product, exactly: the scores are a blocked GEMM
 * of the queries against the stored vectors on the context's backend, and a running
 * top-k per query. It scales to millions of vectors of a few hundred dimensions on one
 * machine; past that, the same .npy files feed FAISS (docs/INDEX.md).
 *
 * Files: vn_index_save writes the vectors as a float32 .npy [n, dim] and the ids as an
 * int64 .npy [n], the layout numpy, FAISS and `vnative encode` use.
 *
 * Thread safety: the read-only calls (vn_index_search, vn_index_search_shifted, vn_index_get,
 * vn_index_save and the size queries) may run from any number of threads at once on one
 * index, each with its own scratch memory. vn_index_add and vn_index_destroy write the
 * index: neither may run while any other call uses it.
 */
#ifndef VNATIVE_INDEX_H
#define VNATIVE_INDEX_H

#include <stdint.h>

#include "vnative/common.h"
#include "vnative/context.h"
#include "vnative/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/** How an index scores a query against a stored vector. */
typedef enum vn_index_metric {
    VN_INDEX_COSINE = 0,        /**< vectors and queries are L2-normalised (a zero vector scores 0) */
    VN_INDEX_INNER_PRODUCT = 1, /**< raw dot products */
} vn_index_metric;

/** An index of vectors and their ids (opaque). */
typedef struct vn_index vn_index;

/** An empty index of dim-dimensional vectors (dim >= 1). */
VN_API vn_status vn_index_create(vn_index **out, vn_context *ctx, int64_t dim, vn_index_metric metric);
/** NULL is a no-op. */
VN_API void vn_index_destroy(vn_index *index);

/** Append vectors, f32 [n, dim] (contiguous), with ids[n]; ids NULL numbers them
 * size, size + 1, ... Ids need not be unique or ordered; search returns them as given. */
VN_API vn_status vn_index_add(vn_index *index, const vn_tensor *vectors, const int64_t *ids);

/** Vectors stored. */
VN_API vn_status vn_index_size(const vn_index *index, int64_t *n);
/** Dimension of the vectors. */
VN_API vn_status vn_index_dim(const vn_index *index, int64_t *dim);
/** The metric the index was created with. */
VN_API vn_status vn_index_metric_of(const vn_index *index, vn_index_metric *metric);

/**
 * For each query row of queries, f32 [q, dim]: the k best stored vectors, best first,
 * into ids[q * k] and scores[q * k] (scores may be NULL). Equal scores are ordered by
 * the lower row (the earlier add). When k exceeds the index size, the rest of the row
 * gets id -1 and score -INFINITY. k >= 1.
 */
VN_API vn_status vn_index_search(const vn_index *index, const vn_tensor *queries, int64_t k, int64_t *ids,
                                 float *scores);

/**
 * The same with every query moved along a direction first: q - alpha * direction
 * (direction has dim floats). With a time vector t (timevec.h) and alpha = 2 (q . t) /
 * (t . t) this reflects a clip's embedding across the time hyperplane: the query "find
 * the reversed version of this clip". With alpha 0 it is vn_index_search.
 */
VN_API vn_status vn_index_search_shifted(const vn_index *index, const vn_tensor *queries, const float *direction,
                                         float alpha, int64_t k, int64_t *ids, float *scores);

/** The stored vector of row i (0 <= i < size) into out[dim] (normalised for cosine), and
 * its id. Either output may be NULL. */
VN_API vn_status vn_index_get(const vn_index *index, int64_t row, float *out, int64_t *id);

/** Write vectors_path (.npy f32 [n, dim], as added, before any normalisation) and
 * ids_path (.npy int64 [n]), each atomically (temp file, fsync, rename). */
VN_API vn_status vn_index_save(const vn_index *index, const char *vectors_path, const char *ids_path);
/** An index from such files; ids_path NULL numbers the rows 0..n-1. A missing,
 * truncated or mismatched file is VN_ERR_IO or VN_ERR_FORMAT naming it. */
VN_API vn_status vn_index_load(vn_index **out, vn_context *ctx, const char *vectors_path, const char *ids_path,
                               vn_index_metric metric);

#ifdef __cplusplus
}
#endif

#endif
