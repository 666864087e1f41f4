/*
 * nn_encoder_dump: builds an encoder, runs one forward and one backward on .npy inputs
 * and writes the parameters, the embeddings and every parameter gradient as .npy, for
 * the PyTorch parity check tests/python/parity_encoder.py.
 *
 *   nn_encoder_dump [options] DIR
 *
 * options (defaults: the xs preset of the family):
 *   --family frames|frames+temporal|video   --preset xs|s
 *   --frames T --size S --channels C --patch P --tubelet TT --dim D --depth L --heads H
 *   --mlp-ratio R --pooling mean|attentive --attention joint|divided --pos learned|sincos
 *   --temporal-depth J --seed N --init-std X --threads N
 *   --params-only        write DIR/params/<name>.npy and stop (no inputs needed)
 *
 * Unless --params-only: when DIR/init/<name>.npy exists it is loaded into parameter
 * <name> with vn_encoder_set_param before anything else (so that a test can use weights
 * of its own, e.g. non-zero biases). Reads DIR/clips.npy [N, C, T, H, W] and DIR/G.npy
 * [N, D] (the upstream gradient of the embeddings), runs vn_encoder_forward and
 * vn_encoder_backward(d_embeddings = G) into zeroed gradients, and writes
 * DIR/params/<name>.npy (the weights used), DIR/embeddings.npy [N, D],
 * DIR/tokens.npy [N, L, D] and DIR/grads/<name>.npy.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/npy.h"
#include "nn/encoder_train.h"
#include "vnative/context.h"
#include "vnative/encoder.h"
#include "vnative/tensor.h"

static char g_dir[3800];

static void die(const char *what)
{
    fprintf(stderr, "nn_encoder_dump: %s\n", what);
    exit(1);
}

static void die_vn(const char *what)
{
    fprintf(stderr, "nn_encoder_dump: %s: %s\n", what, vn_last_error());
    exit(1);
}

static void mkdir_or_die(const char *path)
{
    if (mkdir(path, 0777) != 0 && errno != EEXIST) {
        perror(path);
        exit(1);
    }
}

static void save(const char *sub, const char *name, const float *x, int ndim, const int64_t *shape)
{
    char path[4200], err[256];
    if (sub)
        snprintf(path, sizeof path, "%s/%s/%s.npy", g_dir, sub, name);
    else
        snprintf(path, sizeof path, "%s/%s.npy", g_dir, name);
    if (vn_npy_write(path, VN_NPY_F32, ndim, shape, x, err, sizeof err) != 0) {
        fprintf(stderr, "nn_encoder_dump: cannot write %s: %s\n", path, err);
        exit(1);
    }
}

/* Loads DIR/<name>.npy as float32; returns 0, or -1 when the file does not exist. */
static int load(const char *rel, vn_npy_array *a)
{
    char path[4800], err[256];
    snprintf(path, sizeof path, "%s/%s.npy", g_dir, rel);
    if (access(path, R_OK) != 0)
        return -1;
    if (vn_npy_read(path, a, err, sizeof err) != 0 || a->dtype != VN_NPY_F32) {
        fprintf(stderr, "nn_encoder_dump: cannot read %s as float32: %s\n", path, err);
        exit(1);
    }
    return 0;
}

static int64_t numel(int ndim, const int64_t *shape)
{
    int64_t n = 1;
    for (int i = 0; i < ndim; i++)
        n *= shape[i];
    return n;
}

static float *alloc_floats(int64_t n)
{
    float *p = calloc((size_t)(n > 0 ? n : 1), sizeof(float));
    if (!p)
        die("out of memory");
    return p;
}

static int parse_enum(const char *opt, const char *v, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(v, names[i]))
            return i;
    fprintf(stderr, "nn_encoder_dump: bad value '%s' for %s\n", v, opt);
    exit(2);
}

int main(int argc, char **argv)
{
    static const char *const pooling_names[] = {"mean", "attentive"};
    static const char *const attention_names[] = {"joint", "divided"};
    static const char *const pos_names[] = {"learned", "sincos"};
    const char *family_name = "video", *preset = "xs";
    int threads = 2, params_only = 0;
    /* First pass: the family and preset, which the other options override. */
    for (int i = 1; i + 1 < argc; i++) {
        if (!strcmp(argv[i], "--family"))
            family_name = argv[i + 1];
        else if (!strcmp(argv[i], "--preset"))
            preset = argv[i + 1];
    }
    vn_encoder_family family;
    if (vn_encoder_family_from_name(family_name, &family) != VN_OK)
        die_vn("--family");
    vn_encoder_config cfg;
    if (vn_encoder_config_init(&cfg, VN_ENCODER_CONFIG_VERSION) != VN_OK ||
        vn_encoder_config_preset(&cfg, preset, family) != VN_OK)
        die_vn("preset");
    int i = 1;
    for (; i < argc && !strncmp(argv[i], "--", 2); i++) {
        const char *o = argv[i];
        if (!strcmp(o, "--params-only")) {
            params_only = 1;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "nn_encoder_dump: %s needs a value\n", o);
            return 2;
        }
        const char *v = argv[++i];
        if (!strcmp(o, "--family") || !strcmp(o, "--preset"))
            ;
        else if (!strcmp(o, "--frames"))
            cfg.frames = atoi(v);
        else if (!strcmp(o, "--size"))
            cfg.size = atoi(v);
        else if (!strcmp(o, "--channels"))
            cfg.channels = atoi(v);
        else if (!strcmp(o, "--patch"))
            cfg.patch = atoi(v);
        else if (!strcmp(o, "--tubelet"))
            cfg.tubelet_t = atoi(v);
        else if (!strcmp(o, "--dim"))
            cfg.dim = atoi(v);
        else if (!strcmp(o, "--depth"))
            cfg.depth = atoi(v);
        else if (!strcmp(o, "--heads"))
            cfg.heads = atoi(v);
        else if (!strcmp(o, "--mlp-ratio"))
            cfg.mlp_ratio = (float)atof(v);
        else if (!strcmp(o, "--pooling"))
            cfg.pooling = (vn_pooling)parse_enum(o, v, pooling_names, 2);
        else if (!strcmp(o, "--attention"))
            cfg.attention = (vn_attention_kind)parse_enum(o, v, attention_names, 2);
        else if (!strcmp(o, "--pos"))
            cfg.pos = (vn_pos_embedding)parse_enum(o, v, pos_names, 2);
        else if (!strcmp(o, "--temporal-depth"))
            cfg.temporal_depth = atoi(v);
        else if (!strcmp(o, "--seed"))
            cfg.seed = strtoull(v, NULL, 10);
        else if (!strcmp(o, "--init-std"))
            cfg.init_std = (float)atof(v);
        else if (!strcmp(o, "--threads"))
            threads = atoi(v);
        else {
            fprintf(stderr, "nn_encoder_dump: unknown option %s\n", o);
            return 2;
        }
    }
    if (i != argc - 1) {
        fprintf(stderr, "usage: nn_encoder_dump [options] DIR\n");
        return 2;
    }
    snprintf(g_dir, sizeof g_dir, "%s", argv[i]);

    vn_context_options opts;
    vn_context_options_init(&opts, VN_CONTEXT_OPTIONS_VERSION);
    opts.backend = VN_BACKEND_CPU;
    opts.n_threads = threads;
    opts.deterministic = 1;
    opts.seed = 1;
    vn_context *ctx;
    if (vn_context_create(&ctx, &opts) != VN_OK)
        die_vn("context");
    vn_encoder *enc;
    if (vn_encoder_create(&enc, ctx, &cfg) != VN_OK)
        die_vn("vn_encoder_create");

    char sub[4000];
    snprintf(sub, sizeof sub, "%s/params", g_dir);
    mkdir_or_die(sub);
    int count;
    if (vn_encoder_param_count(enc, &count) != VN_OK)
        die_vn("param_count");

    /* Weights of the test's own, where it gave them. */
    if (!params_only) {
        for (int p = 0; p < count; p++) {
            const char *name;
            int ndim;
            int64_t shape[VN_MAX_DIMS];
            if (vn_encoder_param_info(enc, p, &name, &ndim, shape) != VN_OK)
                die_vn("param_info");
            char rel[600];
            snprintf(rel, sizeof rel, "init/%s", name);
            vn_npy_array a;
            if (load(rel, &a) != 0)
                continue;
            vn_tensor t;
            if (vn_tensor_init(&t, a.data, VN_DTYPE_F32, a.ndim, a.shape) != VN_OK ||
                vn_encoder_set_param(enc, name, &t) != VN_OK)
                die_vn(name);
            vn_npy_free(&a);
        }
    }

    for (int p = 0; p < count; p++) {
        const char *name;
        int ndim;
        int64_t shape[VN_MAX_DIMS];
        if (vn_encoder_param_info(enc, p, &name, &ndim, shape) != VN_OK)
            die_vn("param_info");
        float *buf = alloc_floats(numel(ndim, shape));
        vn_tensor t;
        if (vn_tensor_init(&t, buf, VN_DTYPE_F32, ndim, shape) != VN_OK || vn_encoder_get_param(enc, name, &t) != VN_OK)
            die_vn(name);
        save("params", name, buf, ndim, shape);
        free(buf);
    }
    if (params_only) {
        vn_encoder_destroy(enc);
        vn_context_destroy(ctx);
        return 0;
    }

    vn_npy_array clips, G;
    if (load("clips", &clips) != 0 || load("G", &G) != 0)
        die("DIR/clips.npy and DIR/G.npy are needed");
    int64_t L, D;
    if (vn_encoder_output_shape(enc, &L, &D) != VN_OK)
        die_vn("output_shape");
    int64_t N = clips.shape[0];
    if (clips.ndim != 5 || clips.shape[1] != cfg.channels || clips.shape[2] != cfg.frames ||
        clips.shape[3] != cfg.size || clips.shape[4] != cfg.size)
        die("clips.npy must be [N, C, T, H, W] of the config");
    if (G.ndim != 2 || G.shape[0] != N || G.shape[1] != D)
        die("G.npy must be [N, D]");

    vn_encoder_acts *acts;
    if (vn_encoder_acts_create(enc, N, &acts) != VN_OK)
        die_vn("acts_create");
    int64_t n_floats;
    vn_encoder_params(enc, &n_floats);
    float *grads = alloc_floats(n_floats), *emb = alloc_floats(N * D), *tokens = alloc_floats(N * L * D);
    if (vn_encoder_forward(enc, acts, clips.data, N, emb, tokens) != VN_OK)
        die_vn("vn_encoder_forward");
    if (vn_encoder_backward(enc, acts, G.data, grads) != VN_OK)
        die_vn("vn_encoder_backward");

    int64_t es[2] = {N, D}, ts[3] = {N, L, D};
    save(NULL, "embeddings", emb, 2, es);
    save(NULL, "tokens", tokens, 3, ts);
    snprintf(sub, sizeof sub, "%s/grads", g_dir);
    mkdir_or_die(sub);
    for (int p = 0; p < count; p++) {
        const char *name;
        int ndim;
        int64_t shape[VN_MAX_DIMS];
        if (vn_encoder_param_info(enc, p, &name, &ndim, shape) != VN_OK)
            die_vn("param_info");
        save("grads", name, grads + vn_encoder_param_offset(enc, p), ndim, shape);
    }

    free(grads), free(emb), free(tokens);
    vn_npy_free(&clips), vn_npy_free(&G);
    vn_encoder_acts_destroy(acts);
    vn_encoder_destroy(enc);
    vn_context_destroy(ctx);
    return 0;
}
