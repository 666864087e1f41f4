/*
 * The index's .npy files (index.h): round trips bit for bit, numpy's layout, and
 * missing, truncated, corrupt and mismatched files. Part of the index suite.
 */
#include <dirent.h>
#include <math.h>
#include <string.h>

#include "index_fixtures.h"
#include "io/npy.h"

static const vn_index_metric metrics[2] = {VN_INDEX_COSINE, VN_INDEX_INNER_PRODUCT};

static void path_in(char *buf, size_t cap, const char *name)
{
    fmt_into(buf, cap, "%s/%s", vn_test_tmpdir(), name);
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)size + 1);
    ck_assert_uint_eq(fread(b, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    *len = (size_t)size;
    return b;
}

static void spit(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

/* No hidden temp files left in the fixture directory. */
static void assert_no_temp_files(void)
{
    DIR *dir = opendir(vn_test_tmpdir());
    ck_assert_ptr_nonnull(dir);
    struct dirent *de;
    while ((de = readdir(dir)) != NULL)
        ck_assert_msg(de->d_name[0] != '.' || !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."),
                      "a temp file is left behind: %s", de->d_name);
    closedir(dir);
}

START_TEST(save_load_round_trip)
{
    const vn_index_metric m = metrics[_i];
    vn_context *ctx = vn_test_cpu_context(2);
    const int64_t n = 4500, d = 33, q = 20, k = 9;
    float *x = ix_randn(n * d, 91), *qs = ix_randn(q * d, 92);
    vn_index *ix = ix_make(ctx, x, n, d, m, 1);
    char vp[600], ip[600];
    path_in(vp, sizeof vp, m == VN_INDEX_COSINE ? "rt_cos_vectors.npy" : "rt_ip_vectors.npy");
    path_in(ip, sizeof ip, m == VN_INDEX_COSINE ? "rt_cos_ids.npy" : "rt_ip_ids.npy");
    VN_ASSERT_OK(vn_index_save(ix, vp, ip));
    /* twice: the second replaces the first */
    VN_ASSERT_OK(vn_index_save(ix, vp, ip));
    assert_no_temp_files();
    /* The files hold the vectors as added and the ids, in numpy's layout. */
    vn_npy_array a, b;
    char err[512];
    ck_assert_msg(vn_npy_read(vp, &a, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(a.dtype, VN_NPY_F32);
    ck_assert_int_eq(a.ndim, 2);
    ck_assert_int_eq(a.shape[0], n);
    ck_assert_int_eq(a.shape[1], d);
    ck_assert(memcmp(a.data, x, (size_t)(n * d) * sizeof *x) == 0);
    ck_assert_msg(vn_npy_read(ip, &b, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(b.dtype, VN_NPY_I64);
    ck_assert_int_eq(b.ndim, 1);
    ck_assert_int_eq(b.shape[0], n);
    for (int64_t i = 0; i < n; i++)
        EXPECT(((int64_t *)b.data)[i] == id_of(i), "id %lld", (long long)i);
    vn_npy_free(&a);
    vn_npy_free(&b);
    size_t hl;
    unsigned char *head = slurp(ip, &hl);
    ck_assert(hl >= 128 && memmem(head, 128, "'descr': '<i8'", 14) != NULL);
    ck_assert(memmem(head, 128, "'shape': (4500,)", 16) != NULL);
    ck_assert_int_eq((int)((hl - (size_t)n * 8) % 64), 0);
    free(head);

    vn_index *back = NULL;
    VN_ASSERT_OK(vn_index_load(&back, ctx, vp, ip, m));
    int64_t size, dim;
    vn_index_metric got_m;
    VN_ASSERT_OK(vn_index_size(back, &size));
    VN_ASSERT_OK(vn_index_dim(back, &dim));
    VN_ASSERT_OK(vn_index_metric_of(back, &got_m));
    ck_assert_int_eq(size, n);
    ck_assert_int_eq(dim, d);
    ck_assert_int_eq(got_m, m);
    int64_t *ia = malloc((size_t)(q * k) * sizeof *ia), *ib = malloc((size_t)(q * k) * sizeof *ib);
    float *sa = malloc((size_t)(q * k) * sizeof *sa), *sb = malloc((size_t)(q * k) * sizeof *sb);
    vn_tensor tq = ix_matrix(qs, q, d);
    VN_ASSERT_OK(vn_index_search(ix, &tq, k, ia, sa));
    VN_ASSERT_OK(vn_index_search(back, &tq, k, ib, sb));
    ck_assert(memcmp(ia, ib, (size_t)(q * k) * sizeof *ia) == 0);
    ck_assert(memcmp(sa, sb, (size_t)(q * k) * sizeof *sa) == 0);
    float r1[33], r2[33];
    for (int64_t i = 0; i < n; i += 449) {
        int64_t id1, id2;
        VN_ASSERT_OK(vn_index_get(ix, i, r1, &id1));
        VN_ASSERT_OK(vn_index_get(back, i, r2, &id2));
        ck_assert_int_eq(id1, id2);
        ck_assert(memcmp(r1, r2, sizeof r1) == 0);
    }
    /* Saving the loaded index writes the same bytes. */
    char vp2[600], ip2[600];
    path_in(vp2, sizeof vp2, "rt_again_vectors.npy");
    path_in(ip2, sizeof ip2, "rt_again_ids.npy");
    VN_ASSERT_OK(vn_index_save(back, vp2, ip2));
    size_t l1, l2;
    unsigned char *f1 = slurp(vp, &l1), *f2 = slurp(vp2, &l2);
    ck_assert(l1 == l2 && memcmp(f1, f2, l1) == 0);
    free(f1);
    free(f2);
    f1 = slurp(ip, &l1);
    f2 = slurp(ip2, &l2);
    ck_assert(l1 == l2 && memcmp(f1, f2, l1) == 0);
    free(f1);
    free(f2);
    /* A loaded index grows like any other. */
    vn_tensor more = ix_matrix(qs, 2, d);
    VN_ASSERT_OK(vn_index_add(back, &more, NULL));
    int64_t id;
    VN_ASSERT_OK(vn_index_get(back, n + 1, NULL, &id));
    ck_assert_int_eq(id, n + 1);
    vn_index_destroy(back);

    /* Without an ids file the rows are numbered 0..n-1. */
    VN_ASSERT_OK(vn_index_load(&back, ctx, vp, NULL, m));
    VN_ASSERT_OK(vn_index_get(back, 77, NULL, &id));
    ck_assert_int_eq(id, 77);
    VN_ASSERT_OK(vn_index_search(back, &tq, k, ib, sb));
    for (int64_t i = 0; i < q * k; i++)
        EXPECT(ib[i] == row_of(ia[i]), "place %lld: %lld", (long long)i, (long long)ib[i]);
    vn_index_destroy(back);

    /* An empty index round-trips as [0, dim] and [0]. */
    vn_index *empty = NULL;
    VN_ASSERT_OK(vn_index_create(&empty, ctx, 7, m));
    VN_ASSERT_OK(vn_index_save(empty, vp, ip));
    vn_index_destroy(empty);
    VN_ASSERT_OK(vn_index_load(&empty, ctx, vp, ip, m));
    VN_ASSERT_OK(vn_index_size(empty, &size));
    VN_ASSERT_OK(vn_index_dim(empty, &dim));
    ck_assert_int_eq(size, 0);
    ck_assert_int_eq(dim, 7);
    vn_index_destroy(empty);
    free(ia);
    free(ib);
    free(sa);
    free(sb);
    vn_index_destroy(ix);
    free(x);
    free(qs);
    vn_context_destroy(ctx);
}
END_TEST

/* Load fails with the status and a message naming the file. */
static void assert_load_fails(vn_context *ctx, const char *vp, const char *ip, vn_status want, const char *names)
{
    vn_index *ix = (vn_index *)0x1;
    VN_ASSERT_FAILS(vn_index_load(&ix, ctx, vp, ip, VN_INDEX_COSINE), want);
    ck_assert_ptr_null(ix);
    ck_assert_msg(strstr(vn_last_error(), names) != NULL, "the message does not name %s: %s", names,
                  vn_last_error());
}

START_TEST(bad_files)
{
    vn_context *ctx = vn_test_cpu_context(1);
    const int64_t n = 10, d = 4;
    float *x = ix_randn(n * d, 95);
    vn_index *ix = ix_make(ctx, x, n, d, VN_INDEX_COSINE, 1);
    char vp[600], ip[600], bad[600], missing[600];
    path_in(vp, sizeof vp, "good_vectors.npy");
    path_in(ip, sizeof ip, "good_ids.npy");
    path_in(bad, sizeof bad, "bad.npy");
    path_in(missing, sizeof missing, "no_such_file.npy");
    VN_ASSERT_OK(vn_index_save(ix, vp, ip));
    char err[512];

    /* missing files */
    assert_load_fails(ctx, missing, ip, VN_ERR_IO, missing);
    assert_load_fails(ctx, vp, missing, VN_ERR_IO, missing);

    /* truncated: the data cut short, the header cut short, nothing but the magic */
    size_t len;
    unsigned char *good = slurp(vp, &len);
    spit(bad, good, len - 1);
    assert_load_fails(ctx, bad, ip, VN_ERR_FORMAT, bad);
    spit(bad, good, 40);
    assert_load_fails(ctx, bad, ip, VN_ERR_FORMAT, bad);
    spit(bad, good, 6);
    assert_load_fails(ctx, bad, ip, VN_ERR_FORMAT, bad);
    spit(bad, "", 0);
    assert_load_fails(ctx, bad, ip, VN_ERR_FORMAT, bad);
    /* corrupt: not a .npy file, a mangled header, a shape promising far more data */
    spit(bad, "this is not an array at all, just text\n", 39);
    assert_load_fails(ctx, bad, ip, VN_ERR_FORMAT, bad);
    unsigned char *mangled = malloc(len);
    memcpy(mangled, good, len);
    unsigned char *descr = memmem(mangled, len, "descr", 5);
    ck_assert_ptr_nonnull(descr);
    memcpy(descr, "xxxxx", 5);
    spit(bad, mangled, len);
    assert_load_fails(ctx, bad, ip, VN_ERR_FORMAT, bad);
    memcpy(mangled, good, len);
    unsigned char *shape = memmem(mangled, len, "(10, 4), }    ", 14);
    ck_assert_ptr_nonnull(shape); /* into the header's padding: a terabyte promised */
    memcpy(shape, "(99999999999, 4), }", 19);
    spit(bad, mangled, len);
    assert_load_fails(ctx, bad, ip, VN_ERR_FORMAT, bad);
    free(mangled);
    free(good);

    /* mismatched: wrong dtypes and ranks, counts that disagree, dim 0, a NaN */
    int64_t shp[2] = {n, d};
    unsigned char bytes[40] = {0};
    ck_assert_int_eq(vn_npy_write(bad, VN_NPY_U8, 2, shp, bytes, err, sizeof err), 0);
    assert_load_fails(ctx, bad, ip, VN_ERR_FORMAT, bad);
    ck_assert_int_eq(vn_npy_write(bad, VN_NPY_F32, 1, (int64_t[]){n * d}, x, err, sizeof err), 0);
    assert_load_fails(ctx, bad, ip, VN_ERR_FORMAT, bad);
    ck_assert_int_eq(vn_npy_write(bad, VN_NPY_F32, 3, (int64_t[]){n, 2, 2}, x, err, sizeof err), 0);
    assert_load_fails(ctx, bad, ip, VN_ERR_FORMAT, bad);
    ck_assert_int_eq(vn_npy_write(bad, VN_NPY_F32, 2, (int64_t[]){n, 0}, x, err, sizeof err), 0);
    assert_load_fails(ctx, bad, NULL, VN_ERR_FORMAT, bad);
    x[13] = NAN;
    ck_assert_int_eq(vn_npy_write(bad, VN_NPY_F32, 2, shp, x, err, sizeof err), 0);
    assert_load_fails(ctx, bad, ip, VN_ERR_FORMAT, bad);
    x[13] = 0.5f;
    ck_assert_int_eq(vn_npy_write(bad, VN_NPY_F32, 1, (int64_t[]){n}, x, err, sizeof err), 0);
    assert_load_fails(ctx, vp, bad, VN_ERR_FORMAT, bad); /* float ids */
    int64_t ids[11] = {0};
    ck_assert_int_eq(vn_npy_write(bad, VN_NPY_I64, 1, (int64_t[]){n + 1}, ids, err, sizeof err), 0);
    assert_load_fails(ctx, vp, bad, VN_ERR_FORMAT, bad); /* 11 ids for 10 rows */
    ck_assert_int_eq(vn_npy_write(bad, VN_NPY_I64, 2, (int64_t[]){n, 1}, ids, err, sizeof err), 0);
    assert_load_fails(ctx, vp, bad, VN_ERR_FORMAT, bad);
    ck_assert_int_eq(vn_npy_write(bad, VN_NPY_I64, 1, (int64_t[]){n}, ids, err, sizeof err), 0);
    unsigned char *ib = slurp(bad, &len);
    spit(bad, ib, len - 3);
    assert_load_fails(ctx, vp, bad, VN_ERR_FORMAT, bad); /* truncated ids */
    free(ib);

    /* Saving: into a missing directory fails naming the file and leaves nothing. */
    char nowhere[700];
    fmt_into(nowhere, sizeof nowhere, "%s/no_such_dir/v.npy", vn_test_tmpdir());
    VN_ASSERT_FAILS(vn_index_save(ix, nowhere, ip), VN_ERR_IO);
    ck_assert_msg(strstr(vn_last_error(), nowhere) != NULL, "%s", vn_last_error());
    VN_ASSERT_FAILS(vn_index_save(ix, vp, vp), VN_ERR_INVALID_ARG);
    /* A failed save leaves the previous files whole and no temp files. */
    vn_index *back = NULL;
    VN_ASSERT_OK(vn_index_load(&back, ctx, vp, ip, VN_INDEX_COSINE));
    vn_index_destroy(back);
    assert_no_temp_files();
    vn_index_destroy(ix);
    free(x);
    vn_context_destroy(ctx);
}
END_TEST

/* Non-finite vectors and queries are refused, and a refused add changes nothing. */
TCase *ix_files_tcase(void)
{
    TCase *tf = tcase_create("files");
    tcase_add_loop_test(tf, save_load_round_trip, 0, 2);
    tcase_add_test(tf, bad_files);
    return tf;
}
