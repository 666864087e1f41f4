/*
 * vn_loader: manifests and directories, the deterministic order and batches, labels,
 * batch boundaries, corrupt files, the prefetch bound, time ranges and teardown.
 * Fixtures are written once by main() (the parent of Check's forked tests).
 */
#include "vn_test.h"
#include "loader_fixtures.h"
#include "io/loader_internal.h"

#include <math.h>
#include <stdarg.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define N_GOOD 16

#define N_BAD 4
#define CLIP_FRAMES 24
#define FRAME_W 64
#define FRAME_H 48

static char g_dir[512];
static char g_good[N_GOOD][600];
static char g_list_csv[600];    /* 10 good clips with labels */
static char g_corrupt_dir[600]; /* 16 good + 4 corrupt */
static char g_bad_names[N_BAD][32] = {"zero.mp4", "trunc.mp4", "noise.mkv", "noise.avi"};
static char g_ramp[600];        /* 32 frames at 10 fps, each its own gray level */

static const int list_labels[10] = {0, 1, 2, 0, -1, 2, 0, 1, 2, 0};

/* ---- helpers --------------------------------------------------------------------------- */

static void write_text(const char *path, const char *text)
{
    ck_assert_int_eq(lf_write_file(path, text, strlen(text)), 0);
}

static void path_in(char *out, size_t cap, const char *dir, const char *name)
{
    fmt_into(out, cap, "%s/%s", dir, name);
}

static vn_loader *make_loader(const char *source, int batch, int workers, vn_dtype dtype,
                              const vn_clip_options *clip, const vn_transform_options *tf)
{
    vn_loader_options o = VN_LOADER_OPTIONS_INIT;
    o.source = source;
    o.batch_size = batch;
    o.n_workers = workers;
    o.seed = 42;
    o.dtype = dtype;
    o.clip = clip;
    o.transform = tf;
    vn_loader *L = NULL;
    VN_ASSERT_OK(vn_loader_create(&L, &o));
    return L;
}

static vn_transform_options augmenting_transform(int crop)
{
    vn_transform_options t = VN_TRANSFORM_OPTIONS_INIT;
    t.crop_size = crop;
    t.random_resized_crop = 1;
    t.hflip_prob = 0.5f;
    return t;
}

static vn_clip_options short_clip(void)
{
    vn_clip_options c = VN_CLIP_OPTIONS_INIT;
    c.n_frames = 8;
    c.stride = 2;
    c.start = -1;
    return c;
}

/* Everything one epoch delivered, concatenated. */
typedef struct epoch_log {
    int n_batches;
    int64_t sizes[64];
    int64_t items[512];
    int64_t labels[512];
    int64_t n_items;
    unsigned char *data;
    size_t data_len;
} epoch_log;

static size_t batch_bytes(vn_loader *L, vn_dtype dtype, int64_t *shape)
{
    VN_ASSERT_OK(vn_loader_batch_shape(L, shape));
    size_t n = vn_dtype_size(dtype);
    for (int i = 0; i < 5; i++)
        n *= (size_t)shape[i];
    return n;
}

static void run_epoch(vn_loader *L, int64_t epoch, vn_dtype dtype, epoch_log *log)
{
    memset(log, 0, sizeof *log);
    int64_t shape[5];
    size_t bytes = batch_bytes(L, dtype, shape);
    void *buf = malloc(bytes);
    ck_assert_ptr_nonnull(buf);
    vn_tensor t;
    VN_ASSERT_OK(vn_tensor_init(&t, buf, dtype, 5, shape));
    VN_ASSERT_OK(vn_loader_start_epoch(L, epoch));
    int64_t labels[64], items[64], n = 0;
    vn_status s;
    while ((s = vn_loader_next(L, &t, labels, items, &n)) == VN_OK) {
        ck_assert_int_lt(log->n_batches, 64);
        ck_assert_int_ge(n, 1);
        ck_assert_int_le(n, shape[0]);
        log->sizes[log->n_batches++] = n;
        for (int64_t i = 0; i < n; i++) {
            ck_assert_int_lt(log->n_items, 512);
            log->items[log->n_items] = items[i];
            log->labels[log->n_items] = labels[i];
            log->n_items++;
        }
        for (int64_t i = n; i < shape[0]; i++) {
            ck_assert_int_eq(items[i], -1);
            ck_assert_int_eq(labels[i], -1);
        }
        log->data = realloc(log->data, log->data_len + bytes);
        ck_assert_ptr_nonnull(log->data);
        memcpy(log->data + log->data_len, buf, bytes);
        log->data_len += bytes;
    }
    ck_assert_msg(s == VN_ERR_END, "vn_loader_next ended with %s: %s", vn_status_str(s), vn_last_error());
    /* The end is sticky. */
    ck_assert_int_eq(vn_loader_next(L, &t, NULL, NULL, &n), VN_ERR_END);
    ck_assert_int_eq(n, 0);
    free(buf);
}

static int same_epoch(const epoch_log *a, const epoch_log *b)
{
    return a->n_items == b->n_items && a->n_batches == b->n_batches &&
           !memcmp(a->items, b->items, sizeof(int64_t) * (size_t)a->n_items) && a->data_len == b->data_len &&
           !memcmp(a->data, b->data, a->data_len);
}

/* A log callback that counts WARN lines mentioning each corrupt file. */
static pthread_mutex_t warn_mu = PTHREAD_MUTEX_INITIALIZER;
static int warn_counts[N_BAD];
static int warn_total;
static char warn_last[1024];

static void count_warnings(vn_log_level level, const char *msg, void *user)
{
    (void)user;
    if (level != VN_LOG_WARN)
        return;
    pthread_mutex_lock(&warn_mu);
    warn_total++;
    fmt_into(warn_last, sizeof warn_last, "%s", msg);
    for (int i = 0; i < N_BAD; i++) {
        char needle[64];
        fmt_into(needle, sizeof needle, "/%s ", g_bad_names[i]);
        if (strstr(msg, needle))
            warn_counts[i]++;
    }
    pthread_mutex_unlock(&warn_mu);
}

static void reset_warnings(void)
{
    pthread_mutex_lock(&warn_mu);
    memset(warn_counts, 0, sizeof warn_counts);
    warn_total = 0;
    warn_last[0] = '\0';
    pthread_mutex_unlock(&warn_mu);
}

/* ---- manifests ------------------------------------------------------------------------- */

START_TEST(manifest_parses_every_row_form)
{
    char path[700], dir[600];
    path_in(dir, sizeof dir, g_dir, "mf");
    ck_assert_int_eq(lf_mkdir(dir), 0);
    path_in(path, sizeof path, dir, "m.csv");
    write_text(path, "\xEF\xBB\xBF# a comment\r\n"
                     "\n"
                     "Path,label,start_s,end_s\r\n"
                     "a.mp4\n"
                     "  b.mp4 , 7 \n"
                     "c.mp4,1.5,2.25\n"
                     "d.mp4,3,0,10\n"
                     "/abs/e.mp4,,4,5\n"
                     "\"f,with comma.mp4\",9\n"
                     "\"g \"\"quoted\"\".mp4\"\n"
                     "sub/h.mp4,\n");
    vn_loader_items it;
    VN_ASSERT_OK(vn_loader_items_read(path, &it));
    ck_assert_int_eq(it.n, 8);
    char want[700];
    fmt_into(want, sizeof want, "%s/a.mp4", dir);
    ck_assert_str_eq(it.v[0].path, want);
    ck_assert_int_eq(it.v[0].label, -1);
    ck_assert(it.v[0].start_s < 0);
    ck_assert_int_eq(it.v[1].label, 7);
    fmt_into(want, sizeof want, "%s/b.mp4", dir);
    ck_assert_str_eq(it.v[1].path, want);
    ck_assert_int_eq(it.v[2].label, -1);
    ck_assert(fabs(it.v[2].start_s - 1.5) < 1e-12 && fabs(it.v[2].end_s - 2.25) < 1e-12);
    ck_assert_int_eq(it.v[3].label, 3);
    ck_assert(it.v[3].start_s == 0.0 && it.v[3].end_s == 10.0);
    ck_assert_str_eq(it.v[4].path, "/abs/e.mp4");
    ck_assert_int_eq(it.v[4].label, -1);
    ck_assert(it.v[4].start_s == 4.0 && it.v[4].end_s == 5.0);
    fmt_into(want, sizeof want, "%s/f,with comma.mp4", dir);
    ck_assert_str_eq(it.v[5].path, want);
    ck_assert_int_eq(it.v[5].label, 9);
    fmt_into(want, sizeof want, "%s/g \"quoted\".mp4", dir);
    ck_assert_str_eq(it.v[6].path, want);
    fmt_into(want, sizeof want, "%s/sub/h.mp4", dir);
    ck_assert_str_eq(it.v[7].path, want);
    ck_assert_int_eq(it.v[7].label, -1);
    ck_assert_int_eq(it.from_manifest, 1);
    vn_loader_items_free(&it);

    /* Through the public API: the size is the row count, and files are not opened yet
     * (none of these exist) because a crop fixes the batch shape. */
    vn_transform_options tf = augmenting_transform(32);
    vn_clip_options clip = short_clip();
    vn_loader *L = make_loader(path, 2, 1, VN_DTYPE_F32, &clip, &tf);
    int64_t n = 0, shape[5];
    VN_ASSERT_OK(vn_loader_size(L, &n));
    ck_assert_int_eq(n, 8);
    VN_ASSERT_OK(vn_loader_batch_shape(L, shape));
    ck_assert_int_eq(shape[0], 2);
    ck_assert_int_eq(shape[1], 3);
    ck_assert_int_eq(shape[2], 8);
    ck_assert_int_eq(shape[3], 32);
    ck_assert_int_eq(shape[4], 32);
    vn_loader_destroy(L);
}
END_TEST

/* A header with other columns, in another order, maps the known ones by name: the
 * form `vnative world` writes. */
START_TEST(manifest_header_maps_columns_by_name)
{
    char path[700], dir[600];
    path_in(dir, sizeof dir, g_dir, "named");
    ck_assert_int_eq(lf_mkdir(dir), 0);
    path_in(path, sizeof path, dir, "manifest.csv");
    write_text(path, "path,label,task,split,seed,index,params\n"
                     "c0.mp4,1,aot,train,5,0,\"{\"\"a\"\": 1, \"\"b\"\": [2, 3]}\"\n"
                     "c1.mp4,0,aot,val,5,1,{}\n");
    vn_loader_items it;
    VN_ASSERT_OK(vn_loader_items_read(path, &it));
    ck_assert_int_eq(it.n, 2);
    ck_assert_int_eq(it.v[0].label, 1);
    ck_assert_int_eq(it.v[1].label, 0);
    ck_assert(it.v[0].start_s < 0 && it.v[1].start_s < 0);
    char want[700];
    fmt_into(want, sizeof want, "%s/c1.mp4", dir);
    ck_assert_str_eq(it.v[1].path, want);
    vn_loader_items_free(&it);

    write_text(path, "end_s,note,label,start_s,path\n"
                     "2.5,x,4,1,a.mp4\n"
                     ",y,,,b.mp4\n");
    VN_ASSERT_OK(vn_loader_items_read(path, &it));
    ck_assert_int_eq(it.n, 2);
    ck_assert_int_eq(it.v[0].label, 4);
    ck_assert(it.v[0].start_s == 1.0 && it.v[0].end_s == 2.5);
    ck_assert_int_eq(it.v[1].label, -1);
    ck_assert(it.v[1].start_s < 0);
    vn_loader_items_free(&it);
}
END_TEST

static const struct {
    const char *text;
    int line;
    const char *says;
} bad_manifests[] = {
    {"a.mp4\nb.mp4,1,2,3,4\n", 2, "more than 4 fields"},
    {"path\na.mp4,cat\n", 2, "label 'cat'"},
    {"a.mp4,-3\n", 1, "label '-3'"},
    {"# c\na.mp4,1,5,2\n", 2, "empty or negative"},
    {"a.mp4,x,2\n", 1, "must both be numbers"},
    {"a.mp4,1,,2\n", 1, "must both be numbers"},
    {"a.mp4,0,nan,2\n", 1, "must both be numbers"},
    {"a.mp4\n,1\n", 2, "path field is empty"},
    {"\"a.mp4,1\n", 1, "not closed"},
    {"\"a.mp4\"x,1\n", 1, "after a closing quote"},
    {"a\"b.mp4\n", 1, "quote inside"},
    {"# only comments\n\n", 0, "has no rows"},
    {"path,label\n", 0, "has no rows"},
    {"path,label,task\na.mp4,1,aot\nb.mp4,0\n", 3, "as many fields as the header"},
    {"path,task,path\na.mp4,aot,b.mp4\n", 1, "names a column twice"},
    {"path,start_s,task\na.mp4,1,aot\n", 1, "only one of start_s and end_s"},
    {"path,task,label\na.mp4,aot,dog\n", 2, "label 'dog'"},
};

START_TEST(manifest_malformed_rows_name_the_line)
{
    char path[700];
    path_in(path, sizeof path, g_dir, "bad.csv");
    for (size_t i = 0; i < sizeof bad_manifests / sizeof bad_manifests[0]; i++) {
        write_text(path, bad_manifests[i].text);
        vn_loader_options o = VN_LOADER_OPTIONS_INIT;
        o.source = path;
        vn_loader *L = (vn_loader *)0x1;
        VN_ASSERT_FAILS(vn_loader_create(&L, &o), VN_ERR_FORMAT);
        ck_assert_ptr_null(L);
        const char *msg = vn_last_error();
        ck_assert_msg(strstr(msg, bad_manifests[i].says), "case %zu: message '%s' lacks '%s'", i, msg,
                      bad_manifests[i].says);
        ck_assert_msg(strstr(msg, path), "case %zu: message '%s' does not name the manifest", i, msg);
        if (bad_manifests[i].line > 0) {
            char line[32];
            fmt_into(line, sizeof line, "line %d:", bad_manifests[i].line);
            ck_assert_msg(strstr(msg, line), "case %zu: message '%s' lacks '%s'", i, msg, line);
        }
    }
}
END_TEST

START_TEST(missing_sources_and_missing_videos)
{
    char path[700];
    path_in(path, sizeof path, g_dir, "no-such-manifest.csv");
    vn_loader_options o = VN_LOADER_OPTIONS_INIT;
    o.source = path;
    vn_loader *L = NULL;
    VN_ASSERT_FAILS(vn_loader_create(&L, &o), VN_ERR_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(vn_last_error(), "no-such-manifest.csv"));

    char empty[700];
    path_in(empty, sizeof empty, g_dir, "empty-dir");
    ck_assert_int_eq(lf_mkdir(empty), 0);
    o.source = empty;
    VN_ASSERT_FAILS(vn_loader_create(&L, &o), VN_ERR_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(vn_last_error(), "no video files"));

    /* A row naming a video that is not there is skipped at load time, not at create. */
    path_in(path, sizeof path, g_dir, "with-missing.csv");
    char text[2048];
    fmt_into(text, sizeof text, "%s,1\nmissing-video.mp4,2\n%s,3\n", g_good[0], g_good[2]);
    write_text(path, text);
    reset_warnings();
    vn_set_log_callback(count_warnings, NULL);
    vn_clip_options clip = short_clip();
    vn_transform_options tf = augmenting_transform(32);
    L = make_loader(path, 2, 2, VN_DTYPE_F32, &clip, &tf);
    epoch_log e;
    run_epoch(L, 0, VN_DTYPE_F32, &e);
    vn_set_log_callback(NULL, NULL);
    ck_assert_int_eq(e.n_items, 2);
    ck_assert_int_eq(e.n_batches, 1);
    vn_loader_stats st = VN_LOADER_STATS_INIT;
    VN_ASSERT_OK(vn_loader_get_stats(L, &st));
    ck_assert_int_eq(st.n_skipped, 1);
    ck_assert_int_eq(st.n_loaded, 2);
    ck_assert_int_eq(warn_total, 1);
    ck_assert_msg(strstr(warn_last, "missing-video.mp4") && strstr(warn_last, "VN_ERR_NOT_FOUND"),
                  "warning '%s' does not name the file and its reason", warn_last);
    free(e.data);
    vn_loader_destroy(L);
}
END_TEST

/* ---- directories ----------------------------------------------------------------------- */

START_TEST(directory_lists_videos_sorted)
{
    vn_loader_items it;
    VN_ASSERT_OK(vn_loader_items_read(g_corrupt_dir, &it));
    ck_assert_int_eq(it.n, N_GOOD + N_BAD);
    ck_assert_int_eq(it.from_manifest, 0);
    for (int64_t i = 0; i < it.n; i++) {
        ck_assert_int_eq(it.v[i].label, -1);
        ck_assert(it.v[i].start_s < 0);
        ck_assert_ptr_null(strstr(it.v[i].path, "notes.txt"));
        ck_assert_ptr_null(strstr(it.v[i].path, ".hidden"));
        ck_assert_ptr_null(strstr(it.v[i].path, "sub.mp4"));
        if (i > 0)
            ck_assert_msg(strcmp(it.v[i - 1].path, it.v[i].path) < 0, "%s listed before %s", it.v[i - 1].path,
                          it.v[i].path);
    }
    vn_loader_items_free(&it);
    ck_assert(vn_loader_is_video_name("x.MKV"));
    ck_assert(vn_loader_is_video_name("a.b.webm"));
    ck_assert(!vn_loader_is_video_name("mp4"));
    ck_assert(!vn_loader_is_video_name("clip.mp4.part"));
}
END_TEST

/* ---- determinism ----------------------------------------------------------------------- */

START_TEST(same_seed_and_epoch_give_identical_batches)
{
    vn_clip_options clip = short_clip();
    vn_transform_options tf = augmenting_transform(32);
    vn_loader *one = make_loader(g_list_csv, 4, 1, VN_DTYPE_F32, &clip, &tf);
    vn_loader *three = make_loader(g_list_csv, 4, 3, VN_DTYPE_F32, &clip, &tf);
    epoch_log a, b, c, again;
    run_epoch(one, 3, VN_DTYPE_F32, &a);
    run_epoch(three, 3, VN_DTYPE_F32, &b);
    ck_assert_int_eq(a.n_items, 10);
    ck_assert_msg(same_epoch(&a, &b), "1 and 3 workers gave different batches for the same (seed, epoch)");

    /* A new epoch reshuffles and redraws the augmentation; going back repeats it exactly. */
    run_epoch(three, 4, VN_DTYPE_F32, &c);
    ck_assert_int_eq(c.n_items, 10);
    ck_assert_msg(memcmp(a.items, c.items, sizeof(int64_t) * 10) != 0, "epochs 3 and 4 have the same order");
    run_epoch(one, 3, VN_DTYPE_F32, &again);
    ck_assert(same_epoch(&a, &again));

    /* Every item exactly once per epoch. */
    int seen[10] = {0};
    for (int i = 0; i < 10; i++)
        seen[c.items[i]]++;
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(seen[i], 1);

    /* The same item gets other crops/starts in another epoch. */
    int64_t shape[5];
    size_t clip_bytes = batch_bytes(one, VN_DTYPE_F32, shape);
    clip_bytes /= (size_t)shape[0];
    int pos_a = -1, pos_c = -1;
    for (int i = 0; i < 10; i++) {
        if (a.items[i] == 0)
            pos_a = i;
        if (c.items[i] == 0)
            pos_c = i;
    }
    const unsigned char *clip_a = a.data + (size_t)(pos_a / 4) * 4 * clip_bytes + (size_t)(pos_a % 4) * clip_bytes;
    const unsigned char *clip_c = c.data + (size_t)(pos_c / 4) * 4 * clip_bytes + (size_t)(pos_c % 4) * clip_bytes;
    ck_assert_msg(memcmp(clip_a, clip_c, clip_bytes) != 0, "item 0 has the same augmentation in two epochs");

    /* Another seed, another order. */
    vn_loader_options o = VN_LOADER_OPTIONS_INIT;
    o.source = g_list_csv;
    o.batch_size = 4;
    o.seed = 43;
    o.clip = &clip;
    o.transform = &tf;
    vn_loader *other = NULL;
    VN_ASSERT_OK(vn_loader_create(&other, &o));
    epoch_log d;
    run_epoch(other, 3, VN_DTYPE_F32, &d);
    ck_assert(memcmp(a.items, d.items, sizeof(int64_t) * 10) != 0);

    free(a.data);
    free(b.data);
    free(c.data);
    free(d.data);
    free(again.data);
    vn_loader_destroy(one);
    vn_loader_destroy(three);
    vn_loader_destroy(other);
}
END_TEST

START_TEST(no_shuffle_keeps_source_order_and_labels)
{
    vn_loader_options o = VN_LOADER_OPTIONS_INIT;
    vn_clip_options clip = short_clip();
    clip.start = 0;
    o.source = g_list_csv;
    o.batch_size = 3;
    o.shuffle = 0;
    o.dtype = VN_DTYPE_U8;
    o.clip = &clip;
    vn_loader *L = NULL;
    /* No transform: the first video fixes the clip size. */
    VN_ASSERT_OK(vn_loader_create(&L, &o));
    int64_t shape[5];
    VN_ASSERT_OK(vn_loader_batch_shape(L, shape));
    ck_assert_int_eq(shape[0], 3);
    ck_assert_int_eq(shape[1], 8);
    ck_assert_int_eq(shape[2], FRAME_H);
    ck_assert_int_eq(shape[3], FRAME_W);
    ck_assert_int_eq(shape[4], 3);
    epoch_log e;
    run_epoch(L, 0, VN_DTYPE_U8, &e);
    ck_assert_int_eq(e.n_items, 10);
    for (int i = 0; i < 10; i++) {
        ck_assert_int_eq(e.items[i], i);
        ck_assert_int_eq(e.labels[i], list_labels[i]);
    }
    /* Each row holds its own item's frames: compare with a direct read of the same frames. */
    size_t clip_bytes = (size_t)(8 * FRAME_H * FRAME_W * 3);
    unsigned char *direct = malloc(clip_bytes);
    for (int i = 0; i < 10; i++) {
        vn_video *v = NULL;
        VN_ASSERT_OK(vn_video_create(&v, g_good[i], NULL));
        int64_t idx[8];
        for (int k = 0; k < 8; k++)
            idx[k] = 2 * k;
        vn_tensor t;
        int64_t fshape[4] = {8, FRAME_H, FRAME_W, 3};
        VN_ASSERT_OK(vn_tensor_init(&t, direct, VN_DTYPE_U8, 4, fshape));
        VN_ASSERT_OK(vn_video_read_frames(v, idx, 8, &t));
        vn_video_destroy(v);
        const unsigned char *row = e.data + (size_t)(i / 3) * 3 * clip_bytes + (size_t)(i % 3) * clip_bytes;
        ck_assert_msg(memcmp(row, direct, clip_bytes) == 0, "batch row for item %d is not that item's frames", i);
    }
    free(direct);
    free(e.data);
    vn_loader_destroy(L);
}
END_TEST

START_TEST(strided_output_matches_contiguous)
{
    vn_clip_options clip = short_clip();
    vn_transform_options tf = augmenting_transform(16);
    vn_loader *L = make_loader(g_list_csv, 4, 2, VN_DTYPE_F32, &clip, &tf);
    epoch_log e;
    run_epoch(L, 1, VN_DTYPE_F32, &e);

    /* The same epoch into a padded [N, C, T, H, W+3] buffer viewed as [N, C, T, H, W]. */
    int64_t shape[5];
    VN_ASSERT_OK(vn_loader_batch_shape(L, shape));
    int64_t wp = shape[4] + 3;
    size_t n_pad = (size_t)(shape[0] * shape[1] * shape[2] * shape[3] * wp);
    float *pad = malloc(n_pad * sizeof(float));
    vn_tensor t;
    VN_ASSERT_OK(vn_tensor_init(&t, pad, VN_DTYPE_F32, 5, shape));
    t.strides[3] = wp;
    t.strides[2] = shape[3] * wp;
    t.strides[1] = shape[2] * t.strides[2];
    t.strides[0] = shape[1] * t.strides[1];
    VN_ASSERT_OK(vn_loader_start_epoch(L, 1));
    int64_t n, batch = 0;
    size_t clip_elems = (size_t)(shape[1] * shape[2] * shape[3] * shape[4]);
    while (vn_loader_next(L, &t, NULL, NULL, &n) == VN_OK) {
        const float *want = (const float *)e.data + (size_t)batch * (size_t)shape[0] * clip_elems;
        for (int64_t i = 0; i < shape[0]; i++)
            for (int64_t c = 0; c < shape[1]; c++)
                for (int64_t f = 0; f < shape[2]; f++)
                    for (int64_t y = 0; y < shape[3]; y++)
                        for (int64_t x = 0; x < shape[4]; x++) {
                            float got = pad[i * t.strides[0] + c * t.strides[1] + f * t.strides[2] +
                                            y * t.strides[3] + x];
                            float exp = *want++;
                            ck_assert_msg(got == exp, "batch %lld differs at [%lld,%lld,%lld,%lld,%lld]",
                                          (long long)batch, (long long)i, (long long)c, (long long)f,
                                          (long long)y, (long long)x);
                        }
        batch++;
    }
    ck_assert_int_eq(batch, e.n_batches);
    free(pad);
    free(e.data);
    vn_loader_destroy(L);
}
END_TEST

/* ---- batch boundaries ------------------------------------------------------------------ */

START_TEST(short_last_batch_and_drop_last)
{
    vn_clip_options clip = short_clip();
    vn_transform_options tf = augmenting_transform(16);
    vn_loader *L = make_loader(g_list_csv, 4, 2, VN_DTYPE_F32, &clip, &tf);
    epoch_log e;
    run_epoch(L, 0, VN_DTYPE_F32, &e);
    ck_assert_int_eq(e.n_batches, 3);
    ck_assert_int_eq(e.sizes[0], 4);
    ck_assert_int_eq(e.sizes[1], 4);
    ck_assert_int_eq(e.sizes[2], 2);
    /* The unused rows of a short batch are zeroed, not stale. */
    int64_t shape[5];
    size_t bytes = batch_bytes(L, VN_DTYPE_F32, shape);
    size_t clip_bytes = bytes / 4;
    const unsigned char *tail = e.data + 2 * bytes + 2 * clip_bytes;
    for (size_t i = 0; i < 2 * clip_bytes; i++)
        ck_assert_int_eq(tail[i], 0);
    vn_loader_stats st = VN_LOADER_STATS_INIT;
    VN_ASSERT_OK(vn_loader_get_stats(L, &st));
    ck_assert_int_eq(st.n_items, 10);
    ck_assert_int_eq(st.n_loaded, 10);
    ck_assert_int_eq(st.n_skipped, 0);
    free(e.data);
    vn_loader_destroy(L);

    vn_loader_options o = VN_LOADER_OPTIONS_INIT;
    o.source = g_list_csv;
    o.batch_size = 4;
    o.drop_last = 1;
    o.clip = &clip;
    o.transform = &tf;
    VN_ASSERT_OK(vn_loader_create(&L, &o));
    run_epoch(L, 0, VN_DTYPE_F32, &e);
    ck_assert_int_eq(e.n_batches, 2);
    ck_assert_int_eq(e.sizes[0], 4);
    ck_assert_int_eq(e.sizes[1], 4);
    VN_ASSERT_OK(vn_loader_get_stats(L, &st));
    ck_assert_int_eq(st.n_loaded, 8);
    free(e.data);

    /* A batch larger than the whole source: nothing with drop_last, one short batch without. */
    vn_loader_destroy(L);
    o.batch_size = 16;
    VN_ASSERT_OK(vn_loader_create(&L, &o));
    run_epoch(L, 0, VN_DTYPE_F32, &e);
    ck_assert_int_eq(e.n_batches, 0);
    free(e.data);
    vn_loader_destroy(L);
    o.drop_last = 0;
    VN_ASSERT_OK(vn_loader_create(&L, &o));
    run_epoch(L, 0, VN_DTYPE_F32, &e);
    ck_assert_int_eq(e.n_batches, 1);
    ck_assert_int_eq(e.sizes[0], 10);
    free(e.data);
    vn_loader_destroy(L);
}
END_TEST

START_TEST(next_before_an_epoch_is_a_state_error)
{
    vn_clip_options clip = short_clip();
    vn_transform_options tf = augmenting_transform(16);
    vn_loader *L = make_loader(g_list_csv, 2, 1, VN_DTYPE_F32, &clip, &tf);
    int64_t shape[5];
    size_t bytes = batch_bytes(L, VN_DTYPE_F32, shape);
    void *buf = malloc(bytes);
    vn_tensor t;
    VN_ASSERT_OK(vn_tensor_init(&t, buf, VN_DTYPE_F32, 5, shape));
    int64_t n;
    VN_ASSERT_FAILS(vn_loader_next(L, &t, NULL, NULL, &n), VN_ERR_STATE);
    /* A tensor of the wrong shape or dtype is refused before anything is copied. */
    VN_ASSERT_OK(vn_loader_start_epoch(L, 0));
    t.shape[3] = 15;
    VN_ASSERT_FAILS(vn_loader_next(L, &t, NULL, NULL, &n), VN_ERR_SHAPE);
    t.shape[3] = 16;
    t.dtype = VN_DTYPE_U8;
    VN_ASSERT_FAILS(vn_loader_next(L, &t, NULL, NULL, &n), VN_ERR_SHAPE);
    free(buf);
    vn_loader_destroy(L);
}
END_TEST

/* ---- corrupt files --------------------------------------------------------------------- */

START_TEST(corrupt_files_are_skipped_counted_and_reported_once)
{
    reset_warnings();
    vn_set_log_callback(count_warnings, NULL);
    vn_clip_options clip = short_clip();
    vn_transform_options tf = augmenting_transform(32);
    vn_loader *L = make_loader(g_corrupt_dir, 3, 2, VN_DTYPE_F32, &clip, &tf);
    int64_t n;
    VN_ASSERT_OK(vn_loader_size(L, &n));
    ck_assert_int_eq(n, N_GOOD + N_BAD);

    epoch_log e;
    run_epoch(L, 0, VN_DTYPE_F32, &e);
    /* Skipped slots are refilled by the next good items: every batch but the last is full. */
    ck_assert_int_eq(e.n_items, N_GOOD);
    ck_assert_int_eq(e.n_batches, (N_GOOD + 2) / 3);
    for (int i = 0; i + 1 < e.n_batches; i++)
        ck_assert_int_eq(e.sizes[i], 3);
    vn_loader_stats st = VN_LOADER_STATS_INIT;
    VN_ASSERT_OK(vn_loader_get_stats(L, &st));
    ck_assert_int_eq(st.n_loaded, N_GOOD);
    ck_assert_int_eq(st.n_skipped, N_BAD);
    ck_assert_int_eq(st.n_skipped_total, N_BAD);
    for (int i = 0; i < N_BAD; i++)
        ck_assert_msg(warn_counts[i] == 1, "%s was reported %d times", g_bad_names[i], warn_counts[i]);
    ck_assert_int_eq(warn_total, N_BAD);

    /* The delivered items are exactly the good files. */
    vn_loader_items it;
    VN_ASSERT_OK(vn_loader_items_read(g_corrupt_dir, &it));
    for (int64_t i = 0; i < e.n_items; i++)
        for (int b = 0; b < N_BAD; b++)
            ck_assert_ptr_null(strstr(it.v[e.items[i]].path, g_bad_names[b]));
    vn_loader_items_free(&it);

    /* Next epoch: skipped again and counted, but not reported again. */
    epoch_log e2;
    run_epoch(L, 1, VN_DTYPE_F32, &e2);
    VN_ASSERT_OK(vn_loader_get_stats(L, &st));
    ck_assert_int_eq(e2.n_items, N_GOOD);
    ck_assert_int_eq(st.n_skipped, N_BAD);
    ck_assert_int_eq(st.n_skipped_total, N_BAD);
    ck_assert_int_eq(warn_total, N_BAD);
    vn_set_log_callback(NULL, NULL);
    free(e.data);
    free(e2.data);
    vn_loader_destroy(L);
}
END_TEST

START_TEST(a_file_over_the_time_limit_is_skipped)
{
    reset_warnings();
    vn_set_log_callback(count_warnings, NULL);
    vn_clip_options clip = short_clip();
    vn_transform_options tf = augmenting_transform(16);
    vn_loader_options o = VN_LOADER_OPTIONS_INIT;
    o.source = g_list_csv;
    o.batch_size = 4;
    o.clip = &clip;
    o.transform = &tf;
    /* No real open finishes within a nanosecond. */
    o.timeout_s = 1e-9;
    vn_loader *L = NULL;
    VN_ASSERT_OK(vn_loader_create(&L, &o));
    epoch_log e;
    run_epoch(L, 0, VN_DTYPE_F32, &e);
    vn_set_log_callback(NULL, NULL);
    ck_assert_int_eq(e.n_batches, 0);
    vn_loader_stats st = VN_LOADER_STATS_INIT;
    VN_ASSERT_OK(vn_loader_get_stats(L, &st));
    ck_assert_int_eq(st.n_skipped, 10);
    ck_assert_int_eq(warn_total, 10);
    ck_assert_msg(strstr(warn_last, "VN_ERR_TIMEOUT"), "the last warning '%s' gives no timeout", warn_last);
    free(e.data);
    vn_loader_destroy(L);
}
END_TEST

/* ---- the prefetch bound and teardown ---------------------------------------------------- */

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

START_TEST(slow_consumer_keeps_the_queue_within_prefetch)
{
    vn_clip_options clip = short_clip();
    vn_transform_options tf = augmenting_transform(32);
    vn_loader_options o = VN_LOADER_OPTIONS_INIT;
    o.source = g_corrupt_dir;
    o.batch_size = 2;
    o.n_workers = 3;
    o.prefetch = 2;
    o.clip = &clip;
    o.transform = &tf;
    vn_loader *L = NULL;
    VN_ASSERT_OK(vn_loader_create(&L, &o));
    int64_t shape[5];
    size_t bytes = batch_bytes(L, VN_DTYPE_F32, shape);
    void *buf = malloc(bytes);
    vn_tensor t;
    VN_ASSERT_OK(vn_tensor_init(&t, buf, VN_DTYPE_F32, 5, shape));
    VN_ASSERT_OK(vn_loader_start_epoch(L, 0));
    /* Let the workers run ahead of a consumer that has not started: they fill the queue
     * (within 20 s even on a loaded machine), then must stop there. */
    vn_loader_stats st = VN_LOADER_STATS_INIT;
    for (int waited = 0; waited < 20000; waited += 50) {
        VN_ASSERT_OK(vn_loader_get_stats(L, &st));
        if (st.queue_peak >= 2)
            break;
        sleep_ms(50);
    }
    sleep_ms(500);
    VN_ASSERT_OK(vn_loader_get_stats(L, &st));
    ck_assert_int_eq(st.queue_peak, 2);
    ck_assert_int_eq(st.n_loaded, 0);
    int64_t n, total = 0;
    while (vn_loader_next(L, &t, NULL, NULL, &n) == VN_OK) {
        total += n;
        sleep_ms(60);
        VN_ASSERT_OK(vn_loader_get_stats(L, &st));
        ck_assert_int_le(st.queue_peak, 2);
    }
    ck_assert_int_eq(total, N_GOOD);
    VN_ASSERT_OK(vn_loader_get_stats(L, &st));
    ck_assert_int_eq(st.queue_peak, 2);
    free(buf);
    vn_loader_destroy(L);
}
END_TEST

START_TEST(destroy_mid_epoch_and_restart_epochs)
{
    vn_clip_options clip = short_clip();
    vn_transform_options tf = augmenting_transform(32);
    /* Never started. */
    vn_loader *L = make_loader(g_corrupt_dir, 2, 3, VN_DTYPE_F32, &clip, &tf);
    vn_loader_destroy(L);
    /* Started, nothing taken. */
    L = make_loader(g_corrupt_dir, 2, 3, VN_DTYPE_F32, &clip, &tf);
    VN_ASSERT_OK(vn_loader_start_epoch(L, 0));
    vn_loader_destroy(L);
    /* One batch taken, workers blocked on the full queue. */
    L = make_loader(g_corrupt_dir, 2, 3, VN_DTYPE_F32, &clip, &tf);
    int64_t shape[5];
    size_t bytes = batch_bytes(L, VN_DTYPE_F32, shape);
    void *buf = malloc(bytes);
    vn_tensor t;
    VN_ASSERT_OK(vn_tensor_init(&t, buf, VN_DTYPE_F32, 5, shape));
    VN_ASSERT_OK(vn_loader_start_epoch(L, 0));
    int64_t n;
    VN_ASSERT_OK(vn_loader_next(L, &t, NULL, NULL, &n));
    sleep_ms(300);
    vn_loader_destroy(L);

    /* Restarting an epoch midway abandons the rest: the new one matches a fresh loader. */
    L = make_loader(g_corrupt_dir, 2, 3, VN_DTYPE_F32, &clip, &tf);
    VN_ASSERT_OK(vn_loader_start_epoch(L, 5));
    VN_ASSERT_OK(vn_loader_next(L, &t, NULL, NULL, &n));
    VN_ASSERT_OK(vn_loader_start_epoch(L, 6));
    VN_ASSERT_OK(vn_loader_next(L, &t, NULL, NULL, &n));
    epoch_log restarted, fresh;
    run_epoch(L, 7, VN_DTYPE_F32, &restarted);
    vn_loader *F = make_loader(g_corrupt_dir, 2, 1, VN_DTYPE_F32, &clip, &tf);
    run_epoch(F, 7, VN_DTYPE_F32, &fresh);
    ck_assert(same_epoch(&restarted, &fresh));
    vn_loader_stats st = VN_LOADER_STATS_INIT;
    VN_ASSERT_OK(vn_loader_get_stats(L, &st));
    ck_assert_int_eq(st.n_loaded, N_GOOD);
    ck_assert_int_eq(st.n_skipped, N_BAD);
    free(restarted.data);
    free(fresh.data);
    free(buf);
    vn_loader_destroy(L);
    vn_loader_destroy(F);
}
END_TEST

/* ---- time ranges ----------------------------------------------------------------------- */

/* The index of the full-decode frame equal to frame f of a U8 clip, or -1. */
static int64_t which_frame(const unsigned char *all, int64_t n_all, const unsigned char *frame, size_t frame_bytes)
{
    for (int64_t i = 0; i < n_all; i++)
        if (!memcmp(all + (size_t)i * frame_bytes, frame, frame_bytes))
            return i;
    return -1;
}

START_TEST(manifest_time_range_limits_sampling)
{
    vn_video *v = NULL;
    VN_ASSERT_OK(vn_video_create(&v, g_ramp, NULL));
    vn_video_info info = VN_VIDEO_INFO_INIT;
    VN_ASSERT_OK(vn_video_get_info(v, &info));
    ck_assert_int_eq(info.n_frames, 32);
    size_t frame_bytes = (size_t)(FRAME_W * FRAME_H * 3);
    unsigned char *all = malloc(32 * frame_bytes);
    int64_t idx[32];
    for (int i = 0; i < 32; i++)
        idx[i] = i;
    int64_t ashape[4] = {32, FRAME_H, FRAME_W, 3};
    vn_tensor at;
    VN_ASSERT_OK(vn_tensor_init(&at, all, VN_DTYPE_U8, 4, ashape));
    VN_ASSERT_OK(vn_video_read_frames(v, idx, 32, &at));
    vn_video_destroy(v);
    for (int i = 1; i < 32; i++)
        ck_assert_msg(memcmp(all, all + (size_t)i * frame_bytes, frame_bytes) != 0, "ramp frames 0 and %d are equal", i);

    /* At 10 fps, [1.0, 2.0) shows frames 10..19, and [1.0, 1.3) frames 10..12. */
    char csv[700], text[2048];
    path_in(csv, sizeof csv, g_dir, "ranges.csv");
    fmt_into(text, sizeof text, "%s,5,1.0,2.0\n%s,6,1.0,1.3\n", g_ramp, g_ramp);
    write_text(csv, text);
    for (int reverse = 0; reverse <= 1; reverse++) {
        vn_clip_options clip = VN_CLIP_OPTIONS_INIT;
        clip.n_frames = 4;
        clip.stride = 2;
        clip.start = -1;
        clip.reverse = reverse;
        vn_loader *L = make_loader(csv, 1, 2, VN_DTYPE_U8, &clip, NULL);
        int starts_seen[32] = {0};
        for (int epoch = 0; epoch < 12; epoch++) {
            epoch_log e;
            run_epoch(L, epoch, VN_DTYPE_U8, &e);
            ck_assert_int_eq(e.n_items, 2);
            for (int r = 0; r < 2; r++) {
                int64_t got[4];
                for (int f = 0; f < 4; f++) {
                    int out = reverse ? 3 - f : f;
                    got[f] = which_frame(all, 32, e.data + (size_t)(r * 4 + out) * frame_bytes, frame_bytes);
                    ck_assert_msg(got[f] >= 0, "a clip frame is not any frame of the video");
                }
                if (e.labels[r] == 5) {
                    ck_assert_msg(got[0] >= 10 && got[3] <= 19, "clip %lld..%lld leaves [10, 19]",
                                  (long long)got[0], (long long)got[3]);
                    for (int f = 1; f < 4; f++)
                        ck_assert_int_eq(got[f], got[0] + 2 * f);
                    starts_seen[got[0]] = 1;
                } else {
                    /* Too short for the clip: it starts at the range and repeats its last frame. */
                    ck_assert_int_eq(e.labels[r], 6);
                    ck_assert_int_eq(got[0], 10);
                    ck_assert_int_eq(got[1], 12);
                    ck_assert_int_eq(got[2], 12);
                    ck_assert_int_eq(got[3], 12);
                }
            }
            free(e.data);
        }
        int distinct = 0;
        for (int i = 0; i < 32; i++)
            distinct += starts_seen[i];
        ck_assert_msg(distinct >= 2, "12 epochs drew only %d distinct starts in [10, 13]", distinct);
        vn_loader_destroy(L);
    }
    free(all);
}
END_TEST

/* ---- options ----------------------------------------------------------------------------- */

START_TEST(options_are_checked_at_create)
{
    vn_loader_options o = VN_LOADER_OPTIONS_INIT;
    o.source = g_list_csv;
    vn_loader *L = NULL;
    vn_clip_options clip = VN_CLIP_OPTIONS_INIT;
    clip.n_frames = 0;
    o.clip = &clip;
    VN_ASSERT_FAILS(vn_loader_create(&L, &o), VN_ERR_INVALID_ARG);
    clip.n_frames = 4;
    clip.stride = 0;
    VN_ASSERT_FAILS(vn_loader_create(&L, &o), VN_ERR_INVALID_ARG);
    clip.stride = 1;
    clip.version = 99;
    VN_ASSERT_FAILS(vn_loader_create(&L, &o), VN_ERR_VERSION);
    clip.version = VN_CLIP_OPTIONS_VERSION;
    vn_transform_options tf = VN_TRANSFORM_OPTIONS_INIT;
    tf.random_resized_crop = 1;
    o.transform = &tf;
    VN_ASSERT_FAILS(vn_loader_create(&L, &o), VN_ERR_INVALID_ARG);
    tf.crop_size = 16;
    tf.std[1] = 0.0f;
    VN_ASSERT_FAILS(vn_loader_create(&L, &o), VN_ERR_INVALID_ARG);
    tf.std[1] = 0.2f;
    tf.hflip_prob = 2.0f;
    VN_ASSERT_FAILS(vn_loader_create(&L, &o), VN_ERR_INVALID_ARG);
    tf.hflip_prob = 0.0f;
    VN_ASSERT_OK(vn_loader_create(&L, &o));
    vn_loader_destroy(L);
}
END_TEST

/* ---- fixtures and main ------------------------------------------------------------------ */

static int make_fixtures(void)
{
    fmt_into(g_dir, sizeof g_dir, "%s/loader", vn_test_tmpdir());
    char good_dir[600];
    path_in(good_dir, sizeof good_dir, g_dir, "good");
    path_in(g_corrupt_dir, sizeof g_corrupt_dir, g_dir, "corrupt");
    if (lf_mkdir(g_dir) || lf_mkdir(good_dir) || lf_mkdir(g_corrupt_dir))
        return -1;
    char csv[4096] = "path,label\n";
    for (int i = 0; i < N_GOOD; i++) {
        const char *ext = i % 4 == 1 ? "mkv" : i % 4 == 3 ? "avi" : "mp4";
        const char *codec = i % 4 == 1 ? "libx264" : "mpeg4";
        char name[32];
        fmt_into(name, sizeof name, "g%02d.%s", i, ext);
        path_in(g_good[i], sizeof g_good[i], good_dir, name);
        if (lf_make_textured(g_good[i], FRAME_W, FRAME_H, CLIP_FRAMES, 25.0, codec, 22 * i) != 0)
            return -1;
        char link_path[700];
        path_in(link_path, sizeof link_path, g_corrupt_dir, name);
        if (link(g_good[i], link_path) != 0)
            return -1;
        if (i < 10) {
            char row[64];
            if (list_labels[i] >= 0)
                fmt_into(row, sizeof row, "good/%s,%d\n", name, list_labels[i]);
            else
                fmt_into(row, sizeof row, "good/%s,\n", name);
            strcat(csv, row);
        }
    }
    path_in(g_list_csv, sizeof g_list_csv, g_dir, "list.csv");
    if (lf_write_file(g_list_csv, csv, strlen(csv)))
        return -1;

    char p[700];
    path_in(p, sizeof p, g_corrupt_dir, g_bad_names[0]);
    if (lf_write_file(p, "", 0))
        return -1;
    /* mp4 keeps its index (moov) at the end: the first 40% cannot be opened at all. */
    path_in(p, sizeof p, g_corrupt_dir, g_bad_names[1]);
    if (lf_make_truncated(g_good[0], p, 0.4))
        return -1;
    path_in(p, sizeof p, g_corrupt_dir, g_bad_names[2]);
    if (lf_make_random(p, 6000, 1))
        return -1;
    path_in(p, sizeof p, g_corrupt_dir, g_bad_names[3]);
    if (lf_make_random(p, 3000, 2))
        return -1;
    /* Not listed: another extension, a dot file and a directory named like a video. */
    path_in(p, sizeof p, g_corrupt_dir, "notes.txt");
    if (lf_write_file(p, "not a video\n", 12))
        return -1;
    path_in(p, sizeof p, g_corrupt_dir, ".hidden.mp4");
    if (link(g_good[0], p) != 0)
        return -1;
    path_in(p, sizeof p, g_corrupt_dir, "sub.mp4");
    if (lf_mkdir(p))
        return -1;

    path_in(g_ramp, sizeof g_ramp, g_dir, "ramp.mp4");
    return lf_make_ramp(g_ramp, FRAME_W, FRAME_H, 32, 10.0, "mpeg4");
}

static Suite *loader_suite(void)
{
    Suite *s = suite_create("loader");
    TCase *tc = tcase_create("loader");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, manifest_parses_every_row_form);
    tcase_add_test(tc, manifest_header_maps_columns_by_name);
    tcase_add_test(tc, manifest_malformed_rows_name_the_line);
    tcase_add_test(tc, missing_sources_and_missing_videos);
    tcase_add_test(tc, directory_lists_videos_sorted);
    tcase_add_test(tc, same_seed_and_epoch_give_identical_batches);
    tcase_add_test(tc, no_shuffle_keeps_source_order_and_labels);
    tcase_add_test(tc, strided_output_matches_contiguous);
    tcase_add_test(tc, short_last_batch_and_drop_last);
    tcase_add_test(tc, next_before_an_epoch_is_a_state_error);
    tcase_add_test(tc, corrupt_files_are_skipped_counted_and_reported_once);
    tcase_add_test(tc, a_file_over_the_time_limit_is_skipped);
    tcase_add_test(tc, slow_consumer_keeps_the_queue_within_prefetch);
    tcase_add_test(tc, destroy_mid_epoch_and_restart_epochs);
    tcase_add_test(tc, manifest_time_range_limits_sampling);
    tcase_add_test(tc, options_are_checked_at_create);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    if (!lf_have_ffmpeg()) {
        fprintf(stderr, "test_loader: the ffmpeg CLI is needed to write fixtures and is not on PATH\n");
        return EXIT_FAILURE;
    }
    if (make_fixtures() != 0) {
        fprintf(stderr, "test_loader: writing fixtures under %s failed\n", g_dir);
        return EXIT_FAILURE;
    }
    int rc = vn_test_run(loader_suite());
    if (rc == EXIT_SUCCESS)
        lf_remove_tree(g_dir);
    return rc;
}
