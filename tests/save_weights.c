/*
 * save_weights: the C side of the weights_interop test (tests/python/check_weights.py).
 *
 *   save_weights DIR
 *
 * Creates an xs video encoder with seed 1234, saves it as DIR/model.safetensors with
 * vn_encoder_save, writes a few of its parameters as DIR/<name>.npy through the library's
 * .npy writer (so the script can compare the safetensors bytes with arrays numpy reads on
 * its own), and prints vn_version() on stdout. Exit 0 on success, 1 with a message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/npy.h"
#include "vnative/vnative.h"

static int fail(const char *what)
{
    fprintf(stderr, "save_weights: %s: %s\n", what, vn_last_error());
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: save_weights DIR\n");
        return 2;
    }
    const char *dir = argv[1];
    vn_context_options o = VN_CONTEXT_OPTIONS_INIT;
    o.backend = VN_BACKEND_CPU;
    o.n_threads = 1;
    vn_context *ctx;
    if (vn_context_create(&ctx, &o) != VN_OK)
        return fail("vn_context_create");
    vn_encoder_config cfg;
    if (vn_encoder_config_preset(&cfg, "xs", VN_ENCODER_VIDEO) != VN_OK)
        return fail("vn_encoder_config_preset");
    cfg.seed = 1234;
    vn_encoder *enc;
    if (vn_encoder_create(&enc, ctx, &cfg) != VN_OK)
        return fail("vn_encoder_create");
    char path[4096];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (vn_encoder_save(enc, path) != VN_OK)
        return fail("vn_encoder_save");

    /* A conv weight (5-D), a Linear weight of each orientation, a positional table, a norm. */
    static const char *const dumped[] = {"patch_embed.proj.weight", "blocks.0.attn.qkv.weight",
                                         "blocks.3.mlp.fc1.weight", "blocks.3.mlp.fc2.weight", "pos_embed",
                                         "norm.weight"};
    int count;
    vn_encoder_param_count(enc, &count);
    for (int i = 0; i < count; i++) {
        const char *name;
        int ndim;
        int64_t shape[VN_MAX_DIMS], numel = 1;
        vn_encoder_param_info(enc, i, &name, &ndim, shape);
        int wanted = 0;
        for (size_t k = 0; k < sizeof dumped / sizeof *dumped; k++)
            wanted |= !strcmp(name, dumped[k]);
        if (!wanted)
            continue;
        for (int d = 0; d < ndim; d++)
            numel *= shape[d];
        float *buf = malloc((size_t)numel * sizeof(float));
        vn_tensor t;
        if (!buf || vn_tensor_init(&t, buf, VN_DTYPE_F32, ndim, shape) != VN_OK ||
            vn_encoder_get_param(enc, name, &t) != VN_OK)
            return fail(name);
        char npy[4200], err[256];
        snprintf(npy, sizeof npy, "%s/%s.npy", dir, name);
        if (vn_npy_write(npy, VN_NPY_F32, ndim, shape, buf, err, sizeof err) != 0) {
            fprintf(stderr, "save_weights: %s: %s\n", npy, err);
            return 1;
        }
        free(buf);
    }
    printf("%s\n", vn_version());
    vn_encoder_destroy(enc);
    vn_context_destroy(ctx);
    return 0;
}
