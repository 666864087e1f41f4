/*
 * Bad-argument checks for the public functions of index.h.
 * Part of the api_errors suite: test_api_errors.c finds entries here by name.
 */
#include "vn_test.h"

#include <math.h>
#include <string.h>

typedef void (*api_check_fn)(void);

typedef struct api_entry {
    const char *name;
    api_check_fn check;
} api_entry;

/* 3 rows of 2 features. */
static float xs[] = {1, 0, 0, 1, 0.6f, 0.8f};

static vn_tensor rows(int64_t n)
{
    vn_tensor t;
    VN_ASSERT_OK(vn_tensor_init(&t, xs, VN_DTYPE_F32, 2, (int64_t[]){n, 2}));
    return t;
}

typedef struct fixture {
    vn_context *ctx;
    vn_index *ix;
} fixture;

/* A cosine index of the 3 rows, dim 2. */
static fixture open_index(void)
{
    fixture f = {vn_test_cpu_context(1), NULL};
    VN_ASSERT_OK(vn_index_create(&f.ix, f.ctx, 2, VN_INDEX_COSINE));
    vn_tensor t = rows(3);
    VN_ASSERT_OK(vn_index_add(f.ix, &t, NULL));
    return f;
}

static void close_index(fixture f)
{
    vn_index_destroy(f.ix);
    vn_context_destroy(f.ctx);
}

static void c_vn_index_create(void)
{
    vn_context *ctx = vn_test_cpu_context(1);
    vn_index *ix = (vn_index *)0x1;
    VN_ASSERT_FAILS(vn_index_create(NULL, ctx, 2, VN_INDEX_COSINE), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_index_create(&ix, NULL, 2, VN_INDEX_COSINE), VN_ERR_INVALID_ARG);
    ck_assert_ptr_null(ix);
    VN_ASSERT_FAILS(vn_index_create(&ix, ctx, 0, VN_INDEX_COSINE), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_index_create(&ix, ctx, -3, VN_INDEX_INNER_PRODUCT), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_index_create(&ix, ctx, (int64_t)1 << 40, VN_INDEX_COSINE), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_index_create(&ix, ctx, 2, (vn_index_metric)2), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_index_create(&ix, ctx, 2, (vn_index_metric)-1), VN_ERR_INVALID_ARG);
    VN_ASSERT_OK(vn_index_create(&ix, ctx, 1, VN_INDEX_INNER_PRODUCT));
    vn_index_destroy(ix);
    vn_context_destroy(ctx);
}

static void c_vn_index_destroy(void)
{
    vn_index_destroy(NULL);
}

static void c_vn_index_add(void)
{
    fixture f = open_index();
    vn_tensor t = rows(2), bad = t;
    int64_t ids[2] = {5, 6};
    VN_ASSERT_FAILS(vn_index_add(NULL, &t, ids), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_index_add(f.ix, NULL, ids), VN_ERR_INVALID_ARG);
    bad.dtype = VN_DTYPE_U8;
    VN_ASSERT_FAILS(vn_index_add(f.ix, &bad, ids), VN_ERR_SHAPE);
    bad = t;
    bad.ndim = 1;
    VN_ASSERT_FAILS(vn_index_add(f.ix, &bad, ids), VN_ERR_SHAPE);
    bad = t;
    bad.shape[1] = 3; /* not the index's dim */
    VN_ASSERT_FAILS(vn_index_add(f.ix, &bad, ids), VN_ERR_SHAPE);
    bad = t;
    bad.strides[0] = 4; /* rows with gaps */
    VN_ASSERT_FAILS(vn_index_add(f.ix, &bad, ids), VN_ERR_SHAPE);
    bad = t;
    bad.data = NULL;
    VN_ASSERT_FAILS(vn_index_add(f.ix, &bad, ids), VN_ERR_INVALID_ARG);
    float nan_rows[4] = {1, NAN, 0, 1};
    vn_tensor tn;
    VN_ASSERT_OK(vn_tensor_init(&tn, nan_rows, VN_DTYPE_F32, 2, (int64_t[]){2, 2}));
    VN_ASSERT_FAILS(vn_index_add(f.ix, &tn, ids), VN_ERR_INVALID_ARG);
    int64_t n;
    VN_ASSERT_OK(vn_index_size(f.ix, &n));
    ck_assert_int_eq(n, 3); /* refused adds change nothing */
    VN_ASSERT_OK(vn_index_add(f.ix, &t, ids));
    close_index(f);
}

static void c_vn_index_size(void)
{
    fixture f = open_index();
    int64_t n;
    VN_ASSERT_FAILS(vn_index_size(NULL, &n), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_index_size(f.ix, NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_OK(vn_index_size(f.ix, &n));
    ck_assert_int_eq(n, 3);
    close_index(f);
}

static void c_vn_index_dim(void)
{
    fixture f = open_index();
    int64_t d;
    VN_ASSERT_FAILS(vn_index_dim(NULL, &d), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_index_dim(f.ix, NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_OK(vn_index_dim(f.ix, &d));
    ck_assert_int_eq(d, 2);
    close_index(f);
}

static void c_vn_index_metric_of(void)
{
    fixture f = open_index();
    vn_index_metric m;
    VN_ASSERT_FAILS(vn_index_metric_of(NULL, &m), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_index_metric_of(f.ix, NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_OK(vn_index_metric_of(f.ix, &m));
    ck_assert_int_eq(m, VN_INDEX_COSINE);
    close_index(f);
}

static void c_vn_index_search(void)
{
    fixture f = open_index();
    vn_tensor q = rows(1), bad = q;
    int64_t ids[4];
    float scores[4];
    VN_ASSERT_FAILS(vn_index_search(NULL, &q, 2, ids, scores), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_index_search(f.ix, NULL, 2, ids, scores), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_index_search(f.ix, &q, 2, NULL, scores), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_index_search(f.ix, &q, 0, ids, scores), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_index_search(f.ix, &q, -1, ids, scores), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_index_search(f.ix, &q, INT64_MAX, ids, scores), VN_ERR_INVALID_ARG);
    bad.dtype = VN_DTYPE_BF16;
    VN_ASSERT_FAILS(vn_index_search(f.ix, &bad, 2, ids, scores), VN_ERR_SHAPE);
    bad = q;
    bad.shape[1] = 1;
    VN_ASSERT_FAILS(vn_index_search(f.ix, &bad, 2, ids, scores), VN_ERR_SHAPE);
    bad = q;
    bad.strides[1] = 2;
    VN_ASSERT_FAILS(vn_index_search(f.ix, &bad, 2, ids, scores), VN_ERR_SHAPE);
    float inf_q[2] = {INFINITY, 0};
    bad.data = inf_q;
    bad.strides[1] = 1;
    VN_ASSERT_FAILS(vn_index_search(f.ix, &bad, 2, ids, scores), VN_ERR_INVALID_ARG);
    VN_ASSERT_OK(vn_index_search(f.ix, &q, 4, ids, scores));
    ck_assert_int_eq(ids[0], 0);
    ck_assert_int_eq(ids[3], -1);
    ck_assert(scores[3] == -INFINITY);
    close_index(f);
}

static void c_vn_index_search_shifted(void)
{
    fixture f = open_index();
    vn_tensor q = rows(1), bad = q;
    float dir[2] = {1, 0};
    int64_t ids[2];
    float scores[2];
    VN_ASSERT_FAILS(vn_index_search_shifted(NULL, &q, dir, 1.0f, 2, ids, scores), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_index_search_shifted(f.ix, NULL, dir, 1.0f, 2, ids, scores), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_index_search_shifted(f.ix, &q, NULL, 1.0f, 2, ids, scores), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_index_search_shifted(f.ix, &q, dir, 1.0f, 2, NULL, scores), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_index_search_shifted(f.ix, &q, dir, 1.0f, 0, ids, scores), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_index_search_shifted(f.ix, &q, dir, NAN, 2, ids, scores), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_index_search_shifted(f.ix, &q, dir, INFINITY, 2, ids, scores), VN_ERR_INVALID_ARG);
    float bad_dir[2] = {0, NAN};
    VN_ASSERT_FAILS(vn_index_search_shifted(f.ix, &q, bad_dir, 1.0f, 2, ids, scores), VN_ERR_INVALID_ARG);
    bad.ndim = 3;
    VN_ASSERT_FAILS(vn_index_search_shifted(f.ix, &bad, dir, 1.0f, 2, ids, scores), VN_ERR_SHAPE);
    /* (1, 0) - 1 * (1, 0) is the zero query: every row scores 0, the first rows win */
    VN_ASSERT_OK(vn_index_search_shifted(f.ix, &q, dir, 1.0f, 2, ids, scores));
    ck_assert_int_eq(ids[0], 0);
    ck_assert(scores[0] == 0.0f);
    close_index(f);
}

static void c_vn_index_get(void)
{
    fixture f = open_index();
    float out[2];
    int64_t id;
    VN_ASSERT_FAILS(vn_index_get(NULL, 0, out, &id), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_index_get(f.ix, -1, out, &id), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_index_get(f.ix, 3, out, &id), VN_ERR_INVALID_ARG);
    VN_ASSERT_OK(vn_index_get(f.ix, 2, out, &id));
    ck_assert_int_eq(id, 2);
    ck_assert_float_eq_tol(out[1], 0.8f, 1e-6f);
    VN_ASSERT_OK(vn_index_get(f.ix, 2, NULL, NULL));
    close_index(f);
}

static void c_vn_index_save(void)
{
    fixture f = open_index();
    char vp[600], ip[600], nowhere[600];
    fmt_into(vp, sizeof vp, "%s/api_index_vectors.npy", vn_test_tmpdir());
    fmt_into(ip, sizeof ip, "%s/api_index_ids.npy", vn_test_tmpdir());
    fmt_into(nowhere, sizeof nowhere, "%s/api_missing_dir/v.npy", vn_test_tmpdir());
    VN_ASSERT_FAILS(vn_index_save(NULL, vp, ip), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_index_save(f.ix, NULL, ip), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_index_save(f.ix, vp, NULL), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_index_save(f.ix, vp, vp), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_index_save(f.ix, nowhere, ip), VN_ERR_IO);
    VN_ASSERT_FAILS(vn_index_save(f.ix, vp, nowhere), VN_ERR_IO);
    VN_ASSERT_FAILS(vn_index_save(f.ix, vn_test_tmpdir(), ip), VN_ERR_IO); /* a directory */
    VN_ASSERT_OK(vn_index_save(f.ix, vp, ip));
    close_index(f);
}

static void c_vn_index_load(void)
{
    fixture f = open_index();
    char vp[600], ip[600], missing[600];
    fmt_into(vp, sizeof vp, "%s/api_index_load_vectors.npy", vn_test_tmpdir());
    fmt_into(ip, sizeof ip, "%s/api_index_load_ids.npy", vn_test_tmpdir());
    fmt_into(missing, sizeof missing, "%s/api_index_no_such.npy", vn_test_tmpdir());
    VN_ASSERT_OK(vn_index_save(f.ix, vp, ip));
    vn_index *ix = (vn_index *)0x1;
    VN_ASSERT_FAILS(vn_index_load(NULL, f.ctx, vp, ip, VN_INDEX_COSINE), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_index_load(&ix, NULL, vp, ip, VN_INDEX_COSINE), VN_ERR_INVALID_ARG);
    ck_assert_ptr_null(ix);
    VN_ASSERT_FAILS(vn_index_load(&ix, f.ctx, NULL, ip, VN_INDEX_COSINE), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_index_load(&ix, f.ctx, vp, ip, (vn_index_metric)7), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_index_load(&ix, f.ctx, missing, ip, VN_INDEX_COSINE), VN_ERR_IO);
    ck_assert(strstr(vn_last_error(), missing) != NULL);
    VN_ASSERT_FAILS(vn_index_load(&ix, f.ctx, vp, missing, VN_INDEX_COSINE), VN_ERR_IO);
    VN_ASSERT_FAILS(vn_index_load(&ix, f.ctx, vn_test_tmpdir(), ip, VN_INDEX_COSINE), VN_ERR_IO);
    /* the files swapped: ids where vectors belong */
    VN_ASSERT_FAILS(vn_index_load(&ix, f.ctx, ip, vp, VN_INDEX_COSINE), VN_ERR_FORMAT);
    ck_assert_ptr_null(ix);
    VN_ASSERT_OK(vn_index_load(&ix, f.ctx, vp, NULL, VN_INDEX_INNER_PRODUCT));
    int64_t n;
    VN_ASSERT_OK(vn_index_size(ix, &n));
    ck_assert_int_eq(n, 3);
    vn_index_destroy(ix);
    close_index(f);
}

#define ENTRY(fn) {#fn, c_##fn}

const api_entry api_table_index[] = {
    ENTRY(vn_index_create),
    ENTRY(vn_index_destroy),
    ENTRY(vn_index_add),
    ENTRY(vn_index_size),
    ENTRY(vn_index_dim),
    ENTRY(vn_index_metric_of),
    ENTRY(vn_index_search),
    ENTRY(vn_index_search_shifted),
    ENTRY(vn_index_get),
    ENTRY(vn_index_save),
    ENTRY(vn_index_load),
    {NULL, NULL},
};
