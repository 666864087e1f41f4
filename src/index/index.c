/*
 * index.c: the vn_index store (vnative/index.h): creation, appends, row access, and the
 * .npy files. The search itself is in index_search.c.
 *
 * Rows are kept exactly as added, in one host buffer that doubles as it grows, so that
 * save writes them back bit for bit. For cosine the search normalises a block at a time
 * from a per-row 1/|v| kept beside them, instead of holding a second, normalised copy:
 * at millions of rows the copy would double the memory, and normalising a block that is
 * about to be read by the GEMM anyway costs little.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/context_internal.h"
#include "core/error.h"
#include "index/index_internal.h"
#include "io/npy.h"

int vn_index_metric_valid(vn_index_metric metric)
{
    return metric == VN_INDEX_COSINE || metric == VN_INDEX_INNER_PRODUCT;
}

int vn_index_on_device(const vn_context *ctx)
{
    /* A backend with an engine table computes on its own memory (backend.h). */
    return vn_be_nn(&ctx->be) != NULL;
}

double vn_index_inv_norm(const float *x, int64_t n)
{
    /* Four running sums break the chain of dependent adds; the order is fixed, so the
     * result is the same on every run and thread count. */
    double s[4] = {0.0, 0.0, 0.0, 0.0};
    int64_t j = 0;
    for (; j + 4 <= n; j += 4)
        for (int u = 0; u < 4; u++)
            s[u] += (double)x[j + u] * (double)x[j + u];
    for (; j < n; j++)
        s[0] += (double)x[j] * (double)x[j];
    const double ss = (s[0] + s[1]) + (s[2] + s[3]);
    return ss > 0.0 ? 1.0 / sqrt(ss) : 0.0;
}

void vn_index_scale_row(const float *src, double inv, int64_t n, float *out)
{
    /* In float, which vectorises; only a vector so short or so long that 1/|v| would
     * overflow a float or lose bits as a subnormal takes the double path. */
    if (inv == 0.0 || (inv >= 1e-30 && inv <= 1e30)) {
        const float f = (float)inv;
        for (int64_t j = 0; j < n; j++)
            out[j] = src[j] * f;
    } else {
        for (int64_t j = 0; j < n; j++)
            out[j] = (float)((double)src[j] * inv);
    }
}

void vn_index_row_as_searched(const vn_index *ix, int64_t row, float *out)
{
    const float *src = ix->vec + (size_t)row * (size_t)ix->dim;
    if (ix->metric == VN_INDEX_COSINE)
        vn_index_scale_row(src, ix->inv_norm[row], ix->dim, out);
    else
        memcpy(out, src, (size_t)ix->dim * sizeof *out);
}

static vn_status check_create_args(const char *fn, vn_context *ctx, int64_t dim, vn_index_metric metric)
{
    VN_CHECK_NULL(ctx);
    if (dim < 1 || dim > VN_INDEX_MAX_DIM)
        return vn_error(VN_ERR_INVALID_ARG, "%s: dim is %lld; it must be in [1, %lld]", fn, (long long)dim,
                        (long long)VN_INDEX_MAX_DIM);
    if (!vn_index_metric_valid(metric))
        return vn_error(VN_ERR_INVALID_ARG,
                        "%s: metric %d is not VN_INDEX_COSINE (0) or VN_INDEX_INNER_PRODUCT (1)", fn, (int)metric);
    return VN_OK;
}

vn_status vn_index_create(vn_index **out, vn_context *ctx, int64_t dim, vn_index_metric metric)
{
    VN_CHECK_NULL(out);
    *out = NULL;
    vn_status st = check_create_args(__func__, ctx, dim, metric);
    if (st)
        return st;
    vn_index *ix = calloc(1, sizeof *ix);
    if (!ix)
        return vn_error(VN_ERR_OUT_OF_MEMORY, "vn_index_create: out of memory");
    ix->ctx = ctx;
    ix->dim = dim;
    ix->metric = metric;
    *out = ix;
    return VN_OK;
}

void vn_index_destroy(vn_index *index)
{
    if (!index)
        return;
    free(index->vec);
    free(index->ids);
    free(index->inv_norm);
    free(index);
}

/* Room for at least `need` rows, doubling. On failure the index is unchanged (a buffer
 * that did grow is only bigger than cap, which the next growth reallocates again). */
static vn_status reserve(vn_index *ix, int64_t need)
{
    if (need <= ix->cap)
        return VN_OK;
    const size_t row_bytes = (size_t)ix->dim * sizeof(float);
    const int64_t max_rows = (int64_t)((SIZE_MAX / 2) / row_bytes);
    if (need > max_rows)
        return vn_error(VN_ERR_OUT_OF_MEMORY, "vn_index_add: %lld rows of %lld floats do not fit in memory",
                        (long long)need, (long long)ix->dim);
    int64_t cap = ix->cap > 0 ? ix->cap : 16;
    while (cap < need)
        cap = cap > max_rows / 2 ? max_rows : cap * 2;
    float *vec = realloc(ix->vec, (size_t)cap * row_bytes);
    if (!vec)
        goto oom;
    ix->vec = vec;
    int64_t *ids = realloc(ix->ids, (size_t)cap * sizeof *ids);
    if (!ids)
        goto oom;
    ix->ids = ids;
    if (ix->metric == VN_INDEX_COSINE) {
        double *inv = realloc(ix->inv_norm, (size_t)cap * sizeof *inv);
        if (!inv)
            goto oom;
        ix->inv_norm = inv;
    }
    ix->cap = cap;
    return VN_OK;
oom:
    return vn_error(VN_ERR_OUT_OF_MEMORY,
                    "vn_index_add: out of memory growing the index to %lld rows of %lld floats (%.1f MB)",
                    (long long)cap, (long long)ix->dim, (double)cap * (double)(row_bytes + 16) / 1e6);
}

/* The first non-finite element of rows x dim floats, as its row and column; 0 if none. */
static int find_non_finite(const float *x, int64_t rows, int64_t dim, int64_t *row, int64_t *col)
{
    const size_t total = (size_t)rows * (size_t)dim;
    for (size_t i = 0; i < total; i++)
        if (!isfinite(x[i])) {
            *row = (int64_t)(i / (size_t)dim);
            *col = (int64_t)(i % (size_t)dim);
            return 1;
        }
    return 0;
}

vn_status vn_index_expect_matrix(const char *fn, const char *what, const vn_tensor *t, int64_t dim)
{
    if (!t)
        return vn_error(VN_ERR_INVALID_ARG, "%s: argument '%s' is NULL", fn, what);
    if (t->dtype != VN_DTYPE_F32)
        return vn_error(VN_ERR_SHAPE, "%s: %s has dtype %s; expected f32", fn, what, vn_dtype_name(t->dtype));
    if (t->ndim != 2)
        return vn_error(VN_ERR_SHAPE, "%s: %s has %d dimensions; expected 2, [n, %lld]", fn, what, t->ndim,
                        (long long)dim);
    if (t->shape[0] < 0 || t->shape[1] != dim)
        return vn_error(VN_ERR_SHAPE, "%s: %s has shape [%lld, %lld]; expected [n, %lld] (the index's dim)", fn,
                        what, (long long)t->shape[0], (long long)t->shape[1], (long long)dim);
    if ((t->shape[0] > 1 && t->strides[0] != dim) || (dim > 1 && t->strides[1] != 1))
        return vn_error(VN_ERR_SHAPE,
                        "%s: %s must be contiguous (row-major); its strides are [%lld, %lld], expected [%lld, 1]",
                        fn, what, (long long)t->strides[0], (long long)t->strides[1], (long long)dim);
    if (t->shape[0] > 0 && !t->data)
        return vn_error(VN_ERR_INVALID_ARG, "%s: %s's data pointer is NULL", fn, what);
    if (t->shape[0] > (int64_t)(SIZE_MAX / sizeof(float) / (size_t)dim))
        return vn_error(VN_ERR_SHAPE, "%s: %s has %lld rows, too many to address", fn, what,
                        (long long)t->shape[0]);
    return VN_OK;
}

vn_status vn_index_add(vn_index *index, const vn_tensor *vectors, const int64_t *ids)
{
    static const char fn[] = "vn_index_add";
    VN_CHECK_NULL(index);
    VN_CHECK_NULL(vectors);
    vn_status st = vn_index_expect_matrix(fn, "vectors", vectors, index->dim);
    if (st)
        return st;
    const int64_t m = vectors->shape[0], dim = index->dim;
    if (m == 0)
        return VN_OK;
    const float *src = vectors->data;
    int64_t r, c;
    if (find_non_finite(src, m, dim, &r, &c))
        return vn_error(VN_ERR_INVALID_ARG, "%s: vectors[%lld][%lld] is %g; vectors must be finite", fn,
                        (long long)r, (long long)c, (double)src[(size_t)r * (size_t)dim + (size_t)c]);
    if (m > INT64_MAX - index->n)
        return vn_error(VN_ERR_OUT_OF_MEMORY, "%s: %lld more rows overflow the index", fn, (long long)m);
    if ((st = reserve(index, index->n + m)) != VN_OK)
        return st;
    const int64_t n0 = index->n;
    memcpy(index->vec + (size_t)n0 * (size_t)dim, src, (size_t)m * (size_t)dim * sizeof(float));
    for (int64_t i = 0; i < m; i++)
        index->ids[n0 + i] = ids ? ids[i] : n0 + i;
    if (index->metric == VN_INDEX_COSINE) {
        double *inv = index->inv_norm + n0;
        const int n_threads = index->ctx->n_threads > 0 ? index->ctx->n_threads : 1;
#pragma omp parallel for num_threads(n_threads) schedule(static) if (m * dim >= (1 << 20))
        for (int64_t i = 0; i < m; i++)
            inv[i] = vn_index_inv_norm(src + (size_t)i * (size_t)dim, dim);
    }
    index->n = n0 + m;
    return VN_OK;
}

vn_status vn_index_size(const vn_index *index, int64_t *n)
{
    VN_CHECK_NULL(index);
    VN_CHECK_NULL(n);
    *n = index->n;
    return VN_OK;
}

vn_status vn_index_dim(const vn_index *index, int64_t *dim)
{
    VN_CHECK_NULL(index);
    VN_CHECK_NULL(dim);
    *dim = index->dim;
    return VN_OK;
}

vn_status vn_index_metric_of(const vn_index *index, vn_index_metric *metric)
{
    VN_CHECK_NULL(index);
    VN_CHECK_NULL(metric);
    *metric = index->metric;
    return VN_OK;
}

vn_status vn_index_get(const vn_index *index, int64_t row, float *out, int64_t *id)
{
    VN_CHECK_NULL(index);
    if (row < 0 || row >= index->n)
        return vn_error(VN_ERR_INVALID_ARG, "vn_index_get: row %lld is out of range; the index holds %lld rows",
                        (long long)row, (long long)index->n);
    if (out)
        vn_index_row_as_searched(index, row, out);
    if (id)
        *id = index->ids[row];
    return VN_OK;
}

/* ---- files ------------------------------------------------------------------------- */

vn_status vn_index_save(const vn_index *index, const char *vectors_path, const char *ids_path)
{
    static const char fn[] = "vn_index_save";
    VN_CHECK_NULL(index);
    VN_CHECK_PATH(vectors_path);
    VN_CHECK_PATH(ids_path);
    if (!strcmp(vectors_path, ids_path))
        return vn_error(VN_ERR_INVALID_ARG, "%s: the vectors and the ids would both go to %s", fn, vectors_path);
    char err[1024];
    int64_t vshape[2] = {index->n, index->dim}, ishape[1] = {index->n};
    /* Empty arrays are valid .npy files; numpy writes them with no data bytes. */
    static const float no_vec[1] = {0};
    static const int64_t no_ids[1] = {0};
    const void *vdata = index->n ? (const void *)index->vec : (const void *)no_vec;
    const void *idata = index->n ? (const void *)index->ids : (const void *)no_ids;
    /* both files on disk before either is renamed: a full disk leaves the old pair whole */
    const vn_npy_file files[2] = {{vectors_path, VN_NPY_F32, 2, vshape, vdata}, {ids_path, VN_NPY_I64, 1, ishape, idata}};
    if (vn_npy_write_atomic_files(files, 2, err, sizeof err) != 0)
        return vn_error(VN_ERR_IO, "%s: %s", fn, err);
    return VN_OK;
}

static vn_status npy_status(int rc)
{
    return rc == VN_NPY_ERR_MEMORY ? VN_ERR_OUT_OF_MEMORY : rc == VN_NPY_ERR_FORMAT ? VN_ERR_FORMAT : VN_ERR_IO;
}

static const char *npy_dtype_name(vn_npy_dtype d)
{
    return d == VN_NPY_F32 ? "float32" : d == VN_NPY_I64 ? "int64" : "uint8";
}

vn_status vn_index_load(vn_index **out, vn_context *ctx, const char *vectors_path, const char *ids_path,
                        vn_index_metric metric)
{
    static const char fn[] = "vn_index_load";
    VN_CHECK_NULL(out);
    *out = NULL;
    VN_CHECK_PATH(vectors_path);
    if (ids_path && !ids_path[0]) /* NULL numbers the rows; "" names no file */
        return vn_error(VN_ERR_INVALID_ARG, "%s: argument 'ids_path' is an empty path", fn);
    VN_CHECK_NULL(ctx);
    if (!vn_index_metric_valid(metric))
        return vn_error(VN_ERR_INVALID_ARG,
                        "%s: metric %d is not VN_INDEX_COSINE (0) or VN_INDEX_INNER_PRODUCT (1)", fn, (int)metric);
    char err[1024];
    vn_npy_array va = {0}, ia = {0};
    vn_index *ix = NULL;
    vn_status st = VN_OK;
    int rc = vn_npy_read_checked(vectors_path, &va, err, sizeof err);
    if (rc != 0)
        return vn_error(npy_status(rc), "%s: %s", fn, err);
    if (va.dtype != VN_NPY_F32 || va.ndim != 2) {
        st = vn_error(VN_ERR_FORMAT, "%s: %s holds a %d-D %s array; the vectors must be float32 [n, dim]", fn,
                      vectors_path, va.ndim, npy_dtype_name(va.dtype));
        goto fail;
    }
    const int64_t n = va.shape[0], dim = va.shape[1];
    if (dim < 1 || dim > VN_INDEX_MAX_DIM) {
        st = vn_error(VN_ERR_FORMAT, "%s: %s holds vectors of dim %lld; it must be in [1, %lld]", fn, vectors_path,
                      (long long)dim, (long long)VN_INDEX_MAX_DIM);
        goto fail;
    }
    int64_t r, c;
    if (find_non_finite(va.data, n, dim, &r, &c)) {
        st = vn_error(VN_ERR_FORMAT, "%s: %s holds a non-finite value at [%lld][%lld]", fn, vectors_path,
                      (long long)r, (long long)c);
        goto fail;
    }
    if (ids_path) {
        rc = vn_npy_read_checked(ids_path, &ia, err, sizeof err);
        if (rc != 0) {
            st = vn_error(npy_status(rc), "%s: %s", fn, err);
            goto fail;
        }
        if (ia.dtype != VN_NPY_I64 || ia.ndim != 1) {
            st = vn_error(VN_ERR_FORMAT, "%s: %s holds a %d-D %s array; the ids must be int64 [n]", fn, ids_path,
                          ia.ndim, npy_dtype_name(ia.dtype));
            goto fail;
        }
        if (ia.shape[0] != n) {
            st = vn_error(VN_ERR_FORMAT, "%s: %s holds %lld ids but %s holds %lld vectors", fn, ids_path,
                          (long long)ia.shape[0], vectors_path, (long long)n);
            goto fail;
        }
    }
    if ((st = vn_index_create(&ix, ctx, dim, metric)) != VN_OK)
        goto fail;
    /* The arrays' buffers become the index's: no second copy of a large file. */
    ix->vec = va.data;
    va.data = NULL;
    if (ids_path) {
        ix->ids = ia.data;
        ia.data = NULL;
    } else {
        ix->ids = malloc((size_t)(n > 0 ? n : 1) * sizeof *ix->ids);
        if (!ix->ids) {
            st = vn_error(VN_ERR_OUT_OF_MEMORY, "%s: out of memory for the ids of %lld rows", fn, (long long)n);
            goto fail;
        }
        for (int64_t i = 0; i < n; i++)
            ix->ids[i] = i;
    }
    if (metric == VN_INDEX_COSINE) {
        ix->inv_norm = malloc((size_t)(n > 0 ? n : 1) * sizeof *ix->inv_norm);
        if (!ix->inv_norm) {
            st = vn_error(VN_ERR_OUT_OF_MEMORY, "%s: out of memory for the norms of %lld rows", fn, (long long)n);
            goto fail;
        }
#pragma omp parallel for num_threads(ctx->n_threads > 0 ? ctx->n_threads : 1) schedule(static) if (n * dim >= (1 << 20))
        for (int64_t i = 0; i < n; i++)
            ix->inv_norm[i] = vn_index_inv_norm(ix->vec + (size_t)i * (size_t)dim, dim);
    }
    ix->n = ix->cap = n;
    vn_npy_free(&va);
    vn_npy_free(&ia);
    *out = ix;
    return VN_OK;
fail:
    vn_index_destroy(ix);
    vn_npy_free(&va);
    vn_npy_free(&ia);
    return st;
}
