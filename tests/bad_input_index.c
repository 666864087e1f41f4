/* Bad-input rows of index.h (the matrix: bad_input.h). bi_index() is a cosine index of
 * 3 rows of dim 2; bi_features(n) gives n query rows of dim 2. */
#include "bad_input.h"

#include <math.h>

#define NEW_INDEX(ctx, dim, metric) BI_LEAVES_NULL(vn_index, vn_index_create(&h_, ctx, dim, metric))
#define LOAD_INDEX(ctx, v, i, metric) BI_LEAVES_NULL(vn_index, vn_index_load(&h_, ctx, v, i, metric))
/* A refused add leaves the index as it was. */
static vn_status add_leaves_size(const vn_tensor *vectors)
{
    vn_index *ix = bi_index();
    vn_status st = vn_index_add(ix, vectors, NULL);
    int64_t n = 0;
    VN_ASSERT_OK(vn_index_size(ix, &n));
    ck_assert_int_eq(n, 3);
    return st;
}

static vn_tensor *nan_rows(void)
{
    vn_tensor *t = bi_t(VN_DTYPE_F32, "2x2");
    ((float *)t->data)[1] = NAN;
    return t;
}

#define Q bi_features(1)
#define IDS BI_OUTN(int64_t, 4)
#define SCORES BI_OUTN(float, 4)
#define DIR ((const float[]){1, 0})
#define COS VN_INDEX_COSINE

#define ROWS(R)                                                                                                      \
    R(vn_index_create, null_out, BI_NULL, "out", NULL, VN_ERR_INVALID_ARG, vn_index_create(NULL, bi_ctx(), 2, COS))  \
    R(vn_index_create, null_ctx, BI_NULL, "ctx", NULL, VN_ERR_INVALID_ARG, NEW_INDEX(NULL, 2, COS))                  \
    R(vn_index_create, dim_0, BI_RANGE, "dim", NULL, VN_ERR_INVALID_ARG, NEW_INDEX(bi_ctx(), 0, COS))                \
    R(vn_index_create, dim_neg, BI_RANGE, "dim", NULL, VN_ERR_INVALID_ARG, NEW_INDEX(bi_ctx(), -3, COS))             \
    R(vn_index_create, dim_huge, BI_RANGE, "dim", NULL, VN_ERR_INVALID_ARG,                                          \
      NEW_INDEX(bi_ctx(), (int64_t)1 << 40, COS))                                                                    \
    R(vn_index_create, metric_2, BI_ENUM, "metric", NULL, VN_ERR_INVALID_ARG,                                        \
      NEW_INDEX(bi_ctx(), 2, (vn_index_metric)2))                                                                    \
    R(vn_index_create, metric_neg, BI_ENUM, "metric", NULL, VN_ERR_INVALID_ARG,                                      \
      NEW_INDEX(bi_ctx(), 2, (vn_index_metric)-1))                                                                   \
    BI_DESTROY_ROW(R, vn_index_destroy, index)                                                                       \
    R(vn_index_add, null_index, BI_NULL, "index", NULL, VN_ERR_INVALID_ARG,                                          \
      vn_index_add(NULL, bi_features(2), NULL))                                                                      \
    R(vn_index_add, null_vectors, BI_NULL, "vectors", NULL, VN_ERR_INVALID_ARG,                                      \
      vn_index_add(bi_index(), NULL, NULL))                                                                          \
    R(vn_index_add, null_ids, BI_NULL, "ids", NULL, VN_OK, vn_index_add(bi_index(), bi_features(2), NULL))           \
    R(vn_index_add, u8, BI_SHAPE, "vectors", NULL, VN_ERR_SHAPE,                                                     \
      add_leaves_size(bi_dtype(bi_features(2), VN_DTYPE_U8)))                                                        \
    R(vn_index_add, rank_1, BI_SHAPE, "vectors", NULL, VN_ERR_SHAPE, add_leaves_size(bi_rank(bi_features(2), 1)))    \
    R(vn_index_add, wrong_dim, BI_SHAPE, "vectors", NULL, VN_ERR_SHAPE, add_leaves_size(bi_t(VN_DTYPE_F32, "2x3")))  \
    R(vn_index_add, row_gaps, BI_SHAPE, "vectors", NULL, VN_ERR_SHAPE,                                               \
      add_leaves_size(bi_stride(bi_features(2), 0, 4)))                                                              \
    R(vn_index_add, no_data, BI_SHAPE, "vectors", NULL, VN_ERR_INVALID_ARG,                                          \
      add_leaves_size(bi_nodata(bi_features(2))))                                                                    \
    R(vn_index_add, rows_overflow, BI_SHAPE, "vectors", NULL, VN_ERR_SHAPE,                                          \
      add_leaves_size(bi_extent(bi_features(2), 0, INT64_MAX / 2)))                                                  \
    R(vn_index_add, nan_value, BI_SHAPE, "vectors", "finite", VN_ERR_INVALID_ARG, add_leaves_size(nan_rows()))       \
    R(vn_index_size, null_index, BI_NULL, "index", NULL, VN_ERR_INVALID_ARG, vn_index_size(NULL, BI_OUT(int64_t)))   \
    R(vn_index_size, null_n, BI_NULL, "n", NULL, VN_ERR_INVALID_ARG, vn_index_size(bi_index(), NULL))                \
    R(vn_index_dim, null_index, BI_NULL, "index", NULL, VN_ERR_INVALID_ARG, vn_index_dim(NULL, BI_OUT(int64_t)))     \
    R(vn_index_dim, null_dim, BI_NULL, "dim", NULL, VN_ERR_INVALID_ARG, vn_index_dim(bi_index(), NULL))              \
    R(vn_index_metric_of, null_index, BI_NULL, "index", NULL, VN_ERR_INVALID_ARG,                                    \
      vn_index_metric_of(NULL, BI_OUT(vn_index_metric)))                                                             \
    R(vn_index_metric_of, null_metric, BI_NULL, "metric", NULL, VN_ERR_INVALID_ARG,                                  \
      vn_index_metric_of(bi_index(), NULL))                                                                          \
    R(vn_index_search, null_index, BI_NULL, "index", NULL, VN_ERR_INVALID_ARG,                                       \
      vn_index_search(NULL, Q, 2, IDS, SCORES))                                                                      \
    R(vn_index_search, null_queries, BI_NULL, "queries", NULL, VN_ERR_INVALID_ARG,                                   \
      vn_index_search(bi_index(), NULL, 2, IDS, SCORES))                                                             \
    R(vn_index_search, null_ids, BI_NULL, "ids", NULL, VN_ERR_INVALID_ARG,                                           \
      vn_index_search(bi_index(), Q, 2, NULL, SCORES))                                                               \
    R(vn_index_search, null_scores, BI_NULL, "scores", NULL, VN_OK, vn_index_search(bi_index(), Q, 2, IDS, NULL))    \
    R(vn_index_search, k_0, BI_RANGE, "k", NULL, VN_ERR_INVALID_ARG, vn_index_search(bi_index(), Q, 0, IDS, SCORES)) \
    R(vn_index_search, k_neg, BI_RANGE, "k", NULL, VN_ERR_INVALID_ARG,                                               \
      vn_index_search(bi_index(), Q, -1, IDS, SCORES))                                                               \
    R(vn_index_search, k_max, BI_RANGE, "k", NULL, VN_ERR_INVALID_ARG,                                               \
      vn_index_search(bi_index(), Q, INT64_MAX, IDS, SCORES))                                                        \
    R(vn_index_search, bf16, BI_SHAPE, "queries", NULL, VN_ERR_SHAPE,                                                \
      vn_index_search(bi_index(), bi_dtype(Q, VN_DTYPE_BF16), 2, IDS, SCORES))                                       \
    R(vn_index_search, wrong_dim, BI_SHAPE, "queries", NULL, VN_ERR_SHAPE,                                           \
      vn_index_search(bi_index(), bi_extent(Q, 1, 1), 2, IDS, SCORES))                                               \
    R(vn_index_search, strided, BI_SHAPE, "queries", NULL, VN_ERR_SHAPE,                                             \
      vn_index_search(bi_index(), bi_stride(Q, 1, 2), 2, IDS, SCORES))                                               \
    R(vn_index_search, rows_overflow, BI_SHAPE, "queries", NULL, VN_ERR_SHAPE,                                       \
      vn_index_search(bi_index(), bi_extent(Q, 0, INT64_MAX / 2), 2, IDS, SCORES))                                   \
    R(vn_index_search_shifted, null_index, BI_NULL, "index", NULL, VN_ERR_INVALID_ARG,                               \
      vn_index_search_shifted(NULL, Q, DIR, 1.0f, 2, IDS, SCORES))                                                   \
    R(vn_index_search_shifted, null_queries, BI_NULL, "queries", NULL, VN_ERR_INVALID_ARG,                           \
      vn_index_search_shifted(bi_index(), NULL, DIR, 1.0f, 2, IDS, SCORES))                                          \
    R(vn_index_search_shifted, null_direction, BI_NULL, "direction", NULL, VN_ERR_INVALID_ARG,                       \
      vn_index_search_shifted(bi_index(), Q, NULL, 1.0f, 2, IDS, SCORES))                                            \
    R(vn_index_search_shifted, null_ids, BI_NULL, "ids", NULL, VN_ERR_INVALID_ARG,                                   \
      vn_index_search_shifted(bi_index(), Q, DIR, 1.0f, 2, NULL, SCORES))                                            \
    R(vn_index_search_shifted, null_scores, BI_NULL, "scores", NULL, VN_OK,                                          \
      vn_index_search_shifted(bi_index(), Q, DIR, 1.0f, 2, IDS, NULL))                                               \
    R(vn_index_search_shifted, k_0, BI_RANGE, "k", NULL, VN_ERR_INVALID_ARG,                                         \
      vn_index_search_shifted(bi_index(), Q, DIR, 1.0f, 0, IDS, SCORES))                                             \
    R(vn_index_search_shifted, alpha_nan, BI_RANGE, "alpha", NULL, VN_ERR_INVALID_ARG,                               \
      vn_index_search_shifted(bi_index(), Q, DIR, NAN, 2, IDS, SCORES))                                              \
    R(vn_index_search_shifted, alpha_inf, BI_RANGE, "alpha", NULL, VN_ERR_INVALID_ARG,                               \
      vn_index_search_shifted(bi_index(), Q, DIR, INFINITY, 2, IDS, SCORES))                                         \
    R(vn_index_search_shifted, direction_nan, BI_RANGE, "direction", NULL, VN_ERR_INVALID_ARG,                       \
      vn_index_search_shifted(bi_index(), Q, ((const float[]){0, NAN}), 1.0f, 2, IDS, SCORES))                       \
    R(vn_index_search_shifted, rank_3, BI_SHAPE, "queries", NULL, VN_ERR_SHAPE,                                      \
      vn_index_search_shifted(bi_index(), bi_rank(Q, 3), DIR, 1.0f, 2, IDS, SCORES))                                 \
    R(vn_index_get, null_index, BI_NULL, "index", NULL, VN_ERR_INVALID_ARG,                                          \
      vn_index_get(NULL, 0, BI_OUTN(float, 2), BI_OUT(int64_t)))                                                     \
    R(vn_index_get, null_out, BI_NULL, "out", NULL, VN_OK, vn_index_get(bi_index(), 0, NULL, BI_OUT(int64_t)))       \
    R(vn_index_get, null_id, BI_NULL, "id", NULL, VN_OK, vn_index_get(bi_index(), 0, BI_OUTN(float, 2), NULL))       \
    R(vn_index_get, row_neg, BI_RANGE, "row", NULL, VN_ERR_INVALID_ARG,                                              \
      vn_index_get(bi_index(), -1, BI_OUTN(float, 2), BI_OUT(int64_t)))                                              \
    R(vn_index_get, row_past_end, BI_RANGE, "row", NULL, VN_ERR_INVALID_ARG,                                         \
      vn_index_get(bi_index(), 3, BI_OUTN(float, 2), BI_OUT(int64_t)))                                               \
    R(vn_index_save, null_index, BI_NULL, "index", NULL, VN_ERR_INVALID_ARG,                                         \
      vn_index_save(NULL, bi_tmp("v.npy"), bi_tmp("i.npy")))                                                         \
    R(vn_index_save, null_vectors_path, BI_NULL, "vectors_path", NULL, VN_ERR_INVALID_ARG,                           \
      vn_index_save(bi_index(), NULL, bi_tmp("i.npy")))                                                              \
    R(vn_index_save, null_ids_path, BI_NULL, "ids_path", NULL, VN_ERR_INVALID_ARG,                                   \
      vn_index_save(bi_index(), bi_tmp("v.npy"), NULL))                                                              \
    R(vn_index_save, same_path, BI_PATH, "ids_path", "both go to", VN_ERR_INVALID_ARG,                               \
      vn_index_save(bi_index(), bi_tmp("v.npy"), bi_tmp("v.npy")))                                                   \
    R(vn_index_save, empty_vectors_path, BI_PATH, "vectors_path", NULL, VN_ERR_INVALID_ARG,                          \
      vn_index_save(bi_index(), "", bi_tmp("i.npy")))                                                                \
    R(vn_index_save, missing_dir, BI_PATH, "vectors_path", "no-such-dir/v.npy", VN_ERR_IO,                           \
      vn_index_save(bi_index(), bi_missing("v.npy"), bi_tmp("i.npy")))                                               \
    R(vn_index_save, ids_missing_dir, BI_PATH, "ids_path", "no-such-dir/i.npy", VN_ERR_IO,                           \
      vn_index_save(bi_index(), bi_tmp("v.npy"), bi_missing("i.npy")))                                               \
    R(vn_index_save, directory, BI_PATH, "vectors_path", "/vn-", VN_ERR_IO,                                          \
      vn_index_save(bi_index(), vn_test_tmpdir(), bi_tmp("i.npy")))                                                  \
    R(vn_index_load, null_out, BI_NULL, "out", NULL, VN_ERR_INVALID_ARG,                                             \
      vn_index_load(NULL, bi_ctx(), bi_vectors_path(), bi_ids_path(), COS))                                          \
    R(vn_index_load, null_ctx, BI_NULL, "ctx", NULL, VN_ERR_INVALID_ARG,                                             \
      LOAD_INDEX(NULL, bi_vectors_path(), bi_ids_path(), COS))                                                       \
    R(vn_index_load, null_vectors_path, BI_NULL, "vectors_path", NULL, VN_ERR_INVALID_ARG,                           \
      LOAD_INDEX(bi_ctx(), NULL, bi_ids_path(), COS))                                                                \
    R(vn_index_load, null_ids_path, BI_NULL, "ids_path", NULL, VN_OK,                                                \
      BI_CREATED(vn_index, vn_index_destroy, vn_index_load(&h_, bi_ctx(), bi_vectors_path(), NULL, COS)))            \
    R(vn_index_load, metric_7, BI_ENUM, "metric", NULL, VN_ERR_INVALID_ARG,                                          \
      LOAD_INDEX(bi_ctx(), bi_vectors_path(), bi_ids_path(), (vn_index_metric)7))                                    \
    R(vn_index_load, missing_vectors, BI_PATH, "vectors_path", "no-such-dir/v.npy", VN_ERR_IO,                       \
      LOAD_INDEX(bi_ctx(), bi_missing("v.npy"), bi_ids_path(), COS))                                                 \
    R(vn_index_load, missing_ids, BI_PATH, "ids_path", "no-such-dir/i.npy", VN_ERR_IO,                               \
      LOAD_INDEX(bi_ctx(), bi_vectors_path(), bi_missing("i.npy"), COS))                                             \
    R(vn_index_load, empty_ids_path, BI_PATH, "ids_path", NULL, VN_ERR_INVALID_ARG,                                  \
      LOAD_INDEX(bi_ctx(), bi_vectors_path(), "", COS))                                                              \
    R(vn_index_load, directory, BI_PATH, "vectors_path", "/vn-", VN_ERR_IO,                                          \
      LOAD_INDEX(bi_ctx(), vn_test_tmpdir(), bi_ids_path(), COS))                                                    \
    R(vn_index_load, swapped, BI_PATH, "vectors_path", "bi_ids.npy", VN_ERR_FORMAT,                                  \
      LOAD_INDEX(bi_ctx(), bi_ids_path(), bi_vectors_path(), COS))                                                   \
    R(vn_index_load, not_npy, BI_PATH, "vectors_path", "bi_junk.bin", VN_ERR_FORMAT,                                 \
      LOAD_INDEX(bi_ctx(), bi_junk_path(), NULL, COS))

BI_TABLE(bi_rows_index, ROWS)
