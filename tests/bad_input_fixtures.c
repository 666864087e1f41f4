/*
 * Fixtures of the bad-input matrix: files made once before the rows run, and handles
 * and buffers made inside a row's process and released after its call (bad_input.h).
 */
#include "bad_input.h"

#include <errno.h>
#include <string.h>

/* ---- what a row made, released in reverse order by bi_cleanup() ---------------------- */

typedef void (*bi_free_fn)(void *);

static struct {
    bi_free_fn fn;
    void *p;
} made[64];
static int n_made;

static void *keep(bi_free_fn fn, void *p)
{
    ck_assert_msg(n_made < (int)(sizeof made / sizeof made[0]), "a row made more than %d things",
                  (int)(sizeof made / sizeof made[0]));
    made[n_made].fn = fn;
    made[n_made].p = p;
    n_made++;
    return p;
}

void bi_cleanup(void)
{
    while (n_made > 0) {
        n_made--;
        made[n_made].fn(made[n_made].p);
    }
}

void *bi_alloc(size_t bytes)
{
    void *p = calloc(1, bytes ? bytes : 1);
    ck_assert_ptr_nonnull(p);
    return keep(free, p);
}

void *bi_copy(const void *v, size_t bytes)
{
    return memcpy(bi_alloc(bytes), v, bytes);
}

/* ---- paths --------------------------------------------------------------------------- */

static const char *in_tmp(char *buf, size_t cap, const char *name)
{
    fmt_into(buf, cap, "%s/%s", vn_test_tmpdir(), name);
    return buf;
}

#define BI_PATH_FN(fn, name)                                                                     \
    const char *fn(void)                                                                                             \
    {                                                                                                                \
        static char p[700];                                                                                          \
        return p[0] ? p : in_tmp(p, sizeof p, name);                                                                 \
    }
BI_PATH_FN(bi_video_path, "bi_video.mkv")
BI_PATH_FN(bi_weights_path, "bi_weights.safetensors")
BI_PATH_FN(bi_ckpt_dir, "bi_ckpt")
BI_PATH_FN(bi_manifest_path, "bi_manifest.csv")
BI_PATH_FN(bi_vectors_path, "bi_vectors.npy")
BI_PATH_FN(bi_ids_path, "bi_ids.npy")
BI_PATH_FN(bi_junk_path, "bi_junk.bin")

const char *bi_missing(const char *name)
{
    char buf[700];
    fmt_into(buf, sizeof buf, "%s/no-such-dir/%s", vn_test_tmpdir(), name);
    return bi_copy(buf, strlen(buf) + 1);
}

const char *bi_tmp(const char *name)
{
    char buf[700];
    in_tmp(buf, sizeof buf, name);
    return bi_copy(buf, strlen(buf) + 1);
}

/* ---- handles --------------------------------------------------------------------------- */

#define KEEP(destroy, p) keep((bi_free_fn)(destroy), (p))

vn_context *bi_ctx(void)
{
    return KEEP(vn_context_destroy, vn_test_cpu_context(1));
}

static vn_video *open_video(int approximate)
{
    vn_video_open_options o = VN_VIDEO_OPEN_OPTIONS_INIT;
    o.approximate = approximate;
    vn_video *v = NULL;
    VN_ASSERT_OK(vn_video_create(&v, bi_video_path(), &o));
    return KEEP(vn_video_destroy, v);
}

vn_video *bi_video(void)
{
    return open_video(0);
}

vn_video *bi_video_approx(void)
{
    return open_video(1);
}

vn_video_writer *bi_writer(void)
{
    vn_video_writer_options o = VN_VIDEO_WRITER_OPTIONS_INIT;
    o.width = 32;
    o.height = 16;
    o.codec = VN_CODEC_FFV1;
    vn_video_writer *w = NULL;
    VN_ASSERT_OK(vn_video_writer_create(&w, bi_tmp("bi_writer.mkv"), &o));
    return KEEP(vn_video_writer_destroy, w);
}

vn_video_writer *bi_writer_finished(void)
{
    vn_video_writer *w = bi_writer();
    VN_ASSERT_OK(vn_video_writer_finish(w));
    return w;
}

vn_loader *bi_loader(void)
{
    vn_transform_options tf = VN_TRANSFORM_OPTIONS_INIT;
    tf.crop_size = 8;
    vn_loader_options o = VN_LOADER_OPTIONS_INIT;
    o.source = bi_manifest_path();
    o.transform = &tf;
    vn_loader *L = NULL;
    VN_ASSERT_OK(vn_loader_create(&L, &o));
    return KEEP(vn_loader_destroy, L);
}

vn_loader *bi_loader_ended(void)
{
    vn_loader *L = bi_loader();
    int64_t shape[5], n = 0;
    VN_ASSERT_OK(vn_loader_batch_shape(L, shape));
    vn_tensor *t = bi_t(VN_DTYPE_F32, "8x3x16x8x8");
    VN_ASSERT_OK(vn_loader_start_epoch(L, 0));
    /* the only row names a missing video: the epoch ends at once */
    VN_ASSERT_FAILS(vn_loader_next(L, t, NULL, NULL, &n), VN_ERR_END);
    return L;
}

static vn_world *make_world(int small)
{
    vn_world_options o = VN_WORLD_OPTIONS_INIT;
    if (small) {
        o.n_frames = 4;
        o.size = 16;
        o.future_context = 2;
        o.future_candidates = 3;
    }
    o.n_threads = 1;
    vn_world *w = NULL;
    VN_ASSERT_OK(vn_world_create(&w, &o));
    return KEEP(vn_world_destroy, w);
}

vn_world *bi_world(void)
{
    return make_world(1);
}

vn_world *bi_world_default(void)
{
    return make_world(0);
}

vn_encoder_config *bi_encoder_config(void)
{
    vn_encoder_config c = VN_ENCODER_CONFIG_INIT;
    c.frames = 2;
    c.size = 8;
    c.channels = 1;
    c.patch = 4;
    c.tubelet_t = 2;
    c.dim = 8;
    c.depth = 1;
    c.heads = 2;
    return bi_copy(&c, sizeof c);
}

vn_encoder_config *bi_trainer_config(void)
{
    vn_encoder_config *c = bi_encoder_config();
    c->size = 16;
    c->patch = 8;
    return c;
}

vn_train_options *bi_train_options(void)
{
    vn_train_options t = VN_TRAIN_OPTIONS_INIT;
    t.batch = 2;
    t.eval_clips = 2;
    return bi_copy(&t, sizeof t);
}

vn_encoder *bi_encoder(void)
{
    vn_encoder *enc = NULL;
    VN_ASSERT_OK(vn_encoder_create(&enc, bi_ctx(), bi_encoder_config()));
    return KEEP(vn_encoder_destroy, enc);
}

vn_encoder *bi_encoder_with(const vn_encoder_config *cfg)
{
    vn_encoder *enc = NULL;
    VN_ASSERT_OK(vn_encoder_create(&enc, bi_ctx(), cfg));
    return KEEP(vn_encoder_destroy, enc);
}

vn_world *bi_world_for(const vn_encoder_config *cfg, int future)
{
    vn_world_options o = VN_WORLD_OPTIONS_INIT;
    o.n_frames = future ? 2 * cfg->frames : cfg->frames;
    o.future_context = cfg->frames;
    o.future_candidates = 3;
    o.size = cfg->size;
    o.channels = cfg->channels;
    o.n_threads = 1;
    vn_world *w = NULL;
    VN_ASSERT_OK(vn_world_create(&w, &o));
    return KEEP(vn_world_destroy, w);
}

vn_encoder *bi_encoder_xs(void)
{
    vn_encoder_config c = VN_ENCODER_CONFIG_INIT;
    vn_encoder *enc = NULL;
    VN_ASSERT_OK(vn_encoder_create(&enc, bi_ctx(), &c));
    return KEEP(vn_encoder_destroy, enc);
}

vn_trainer *bi_trainer(void)
{
    vn_trainer *tr = NULL;
    VN_ASSERT_OK(vn_trainer_create(&tr, bi_ctx(), bi_trainer_config(), bi_train_options()));
    return KEEP(vn_trainer_destroy, tr);
}

vn_index *bi_index(void)
{
    vn_index *ix = NULL;
    VN_ASSERT_OK(vn_index_create(&ix, bi_ctx(), 2, VN_INDEX_COSINE));
    KEEP(vn_index_destroy, ix);
    VN_ASSERT_OK(vn_index_add(ix, bi_features(3), NULL));
    return ix;
}

/* ---- tensors --------------------------------------------------------------------------- */

vn_tensor *bi_t(vn_dtype dtype, const char *dims)
{
    int64_t shape[VN_MAX_DIMS];
    int ndim = 0;
    int64_t numel = 1;
    for (const char *p = dims; *p && ndim < VN_MAX_DIMS;) {
        char *end;
        shape[ndim] = strtoll(p, &end, 10);
        ck_assert_msg(end != p, "bad dims '%s'", dims);
        numel *= shape[ndim++];
        p = *end == 'x' ? end + 1 : end;
    }
    vn_tensor *t = bi_alloc(sizeof *t);
    VN_ASSERT_OK(vn_tensor_init(t, bi_alloc((size_t)numel * vn_dtype_size(dtype)), dtype, ndim, shape));
    return t;
}

static vn_tensor *dup_tensor(const vn_tensor *t)
{
    return bi_copy(t, sizeof *t);
}

vn_tensor *bi_dtype(const vn_tensor *t, vn_dtype dtype)
{
    vn_tensor *c = dup_tensor(t);
    c->dtype = dtype;
    return c;
}

vn_tensor *bi_stride(const vn_tensor *t, int dim, int64_t stride)
{
    vn_tensor *c = dup_tensor(t);
    c->strides[dim] = stride;
    return c;
}

vn_tensor *bi_extent(const vn_tensor *t, int dim, int64_t extent)
{
    vn_tensor *c = dup_tensor(t);
    c->shape[dim] = extent;
    return c;
}

vn_tensor *bi_rank(const vn_tensor *t, int ndim)
{
    vn_tensor *c = dup_tensor(t);
    c->ndim = ndim;
    return c;
}

vn_tensor *bi_nodata(const vn_tensor *t)
{
    vn_tensor *c = dup_tensor(t);
    c->data = NULL;
    return c;
}

static const float feature_rows[] = {1, 0, 0.9f, 0.1f, 0, 1, 0.1f, 0.9f};
static const int feature_labels[] = {0, 0, 1, 1};

vn_tensor *bi_features(int64_t n)
{
    vn_tensor *t = bi_alloc(sizeof *t);
    VN_ASSERT_OK(vn_tensor_init(t, (void *)feature_rows, VN_DTYPE_F32, 2, (int64_t[]){n, 2}));
    return t;
}

const int *bi_labels(void)
{
    return feature_labels;
}

/* ---- files ------------------------------------------------------------------------------ */

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_msg(f != NULL, "cannot write %s: %s", path, strerror(errno));
    fputs(text, f);
    fclose(f);
}

void bi_make_files(void)
{
    vn_video_writer *w = NULL;
    vn_video_writer_options o = VN_VIDEO_WRITER_OPTIONS_INIT;
    o.width = 32;
    o.height = 16;
    o.codec = VN_CODEC_FFV1;
    VN_ASSERT_OK(vn_video_writer_create(&w, bi_video_path(), &o));
    VN_ASSERT_OK(vn_video_writer_write(w, bi_t(VN_DTYPE_U8, "4x16x32x3")));
    VN_ASSERT_OK(vn_video_writer_finish(w));
    vn_video_writer_destroy(w);
    VN_ASSERT_OK(vn_encoder_save(bi_encoder(), bi_weights_path()));
    VN_ASSERT_OK(vn_trainer_save(bi_trainer(), bi_ckpt_dir()));
    VN_ASSERT_OK(vn_index_save(bi_index(), bi_vectors_path(), bi_ids_path()));
    write_text(bi_manifest_path(), "never-opened.mp4,1\n");
    write_text(bi_junk_path(), "not a video, weights, checkpoint or array: just text\n");
    bi_cleanup();
}
