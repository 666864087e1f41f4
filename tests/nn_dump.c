/*
 * nn_dump: runs one op of src/nn (fast CPU path, 2 threads) on inputs read from .npy
 * files and writes the forward output and the input gradients back as .npy, for the
 * PyTorch parity check tests/python/parity_dense.py.
 *
 *   nn_dump <op> <dir>
 *
 * reads <dir>/<input>.npy (float32; labels and positives as float32 integers) and
 * <dir>/dout.npy (the upstream gradient; for losses a one-element dloss), and writes
 * <dir>/out.npy and <dir>/d<input>.npy for every differentiable input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/npy.h"
#include "nn/ops.h"

#define MAX_ARGS 4

typedef struct arr {
    float *x;
    int64_t shape[VN_NPY_MAX_DIMS];
    int ndim;
    int64_t n;
} arr;

static char g_dir[4096];

/* Every buffer the run allocates, freed together at exit so that leak checkers stay quiet. */
static void *g_allocs[64];
static int g_n_allocs;

static void *track(void *p)
{
    if (!p) {
        fprintf(stderr, "nn_dump: out of memory\n");
        exit(1);
    }
    if (g_n_allocs == (int)(sizeof g_allocs / sizeof g_allocs[0])) {
        fprintf(stderr, "nn_dump: more buffers than the tracker holds\n");
        exit(1);
    }
    g_allocs[g_n_allocs++] = p;
    return p;
}

static int load(const char *name, arr *a)
{
    char path[4200], err[256];
    snprintf(path, sizeof path, "%s/%s.npy", g_dir, name);
    vn_npy_array npy;
    if (vn_npy_read(path, &npy, err, sizeof err) != 0 || npy.dtype != VN_NPY_F32) {
        fprintf(stderr, "nn_dump: cannot read %s as float32: %s\n", path, err);
        return -1;
    }
    a->x = track(npy.data);
    a->ndim = npy.ndim;
    a->n = 1;
    for (int i = 0; i < npy.ndim; i++) {
        a->shape[i] = npy.shape[i];
        a->n *= npy.shape[i];
    }
    return 0;
}

static int save(const char *name, const float *x, int ndim, const int64_t *shape)
{
    char path[4200], err[256];
    snprintf(path, sizeof path, "%s/%s.npy", g_dir, name);
    if (vn_npy_write(path, VN_NPY_F32, ndim, shape, x, err, sizeof err) != 0) {
        fprintf(stderr, "nn_dump: cannot write %s: %s\n", path, err);
        return -1;
    }
    return 0;
}

static float *zeros(int64_t n)
{
    return track(calloc((size_t)(n > 0 ? n : 1), sizeof(float)));
}

static int32_t *as_labels(const arr *a)
{
    int32_t *l = track(malloc((size_t)(a->n > 0 ? a->n : 1) * sizeof *l));
    for (int64_t i = 0; i < a->n; i++)
        l[i] = (int32_t)a->x[i];
    return l;
}

/* Saves the gradient of input `name` with that input's shape. */
static int save_grad(const char *name, const float *g, const arr *like)
{
    char gname[64];
    snprintf(gname, sizeof gname, "d%s", name);
    return save(gname, g, like->ndim, like->shape);
}

static int run(const vn_nn *nn, const char *op)
{
    arr a[MAX_ARGS] = {0}, dout = {0};
    int64_t one = 1;
    float loss;
    if (load("dout", &dout) != 0)
        return -1;

    if (!strcmp(op, "linear")) {
        if (load("inp", &a[0]) || load("w", &a[1]) || load("b", &a[2]))
            return -1;
        int64_t N = a[0].shape[0], IC = a[0].shape[1], OC = a[1].shape[0];
        float *out = zeros(N * OC), *di = zeros(N * IC), *dw = zeros(OC * IC), *db = zeros(OC);
        vn_linear_forward(nn, out, a[0].x, a[1].x, a[2].x, N, IC, OC);
        vn_linear_backward(nn, di, dw, db, dout.x, a[0].x, a[1].x, N, IC, OC);
        int64_t os[2] = {N, OC};
        return save("out", out, 2, os) || save_grad("inp", di, &a[0]) || save_grad("w", dw, &a[1]) ||
               save_grad("b", db, &a[2]);
    }
    if (!strcmp(op, "layernorm")) {
        if (load("inp", &a[0]) || load("w", &a[1]) || load("b", &a[2]))
            return -1;
        int64_t N = a[0].shape[0], C = a[0].shape[1];
        float *out = zeros(N * C), *m = zeros(N), *r = zeros(N), *di = zeros(N * C), *dw = zeros(C), *db = zeros(C);
        vn_layernorm_forward(nn, out, m, r, a[0].x, a[1].x, a[2].x, N, C);
        vn_layernorm_backward(nn, di, dw, db, dout.x, a[0].x, a[1].x, m, r, N, C);
        return save("out", out, 2, a[0].shape) || save_grad("inp", di, &a[0]) || save_grad("w", dw, &a[1]) ||
               save_grad("b", db, &a[2]);
    }
    if (!strcmp(op, "gelu") || !strcmp(op, "softmax") || !strcmp(op, "meanpool")) {
        if (load("inp", &a[0]))
            return -1;
        float *out = zeros(a[0].n), *di = zeros(a[0].n);
        int64_t os[2] = {a[0].shape[0], a[0].ndim == 3 ? a[0].shape[2] : 0};
        if (!strcmp(op, "gelu")) {
            vn_gelu_forward(nn, out, a[0].x, a[0].n);
            vn_gelu_backward(nn, di, a[0].x, dout.x, a[0].n);
        } else if (!strcmp(op, "softmax")) {
            vn_softmax_forward(nn, out, a[0].x, a[0].shape[0], a[0].shape[1]);
            vn_softmax_backward(nn, di, out, dout.x, a[0].shape[0], a[0].shape[1]);
        } else {
            vn_meanpool_forward(nn, out, a[0].x, a[0].shape[0], a[0].shape[1], a[0].shape[2]);
            vn_meanpool_backward(nn, di, dout.x, a[0].shape[0], a[0].shape[1], a[0].shape[2]);
            return save("out", out, 2, os) || save_grad("inp", di, &a[0]);
        }
        return save("out", out, a[0].ndim, a[0].shape) || save_grad("inp", di, &a[0]);
    }
    if (!strcmp(op, "bce_logits")) {
        if (load("logits", &a[0]) || load("targets", &a[1]))
            return -1;
        float *d = zeros(a[0].n);
        loss = vn_bce_logits_loss(nn, d, a[0].x, a[1].x, a[0].n, dout.x[0]);
        return save("out", &loss, 1, &one) || save_grad("logits", d, &a[0]);
    }
    if (!strcmp(op, "softmax_ce")) {
        if (load("logits", &a[0]) || load("labels", &a[1]))
            return -1;
        float *d = zeros(a[0].n);
        loss = vn_softmax_ce_loss(nn, d, a[0].x, as_labels(&a[1]), a[0].shape[0], a[0].shape[1], dout.x[0]);
        return save("out", &loss, 1, &one) || save_grad("logits", d, &a[0]);
    }
    if (!strcmp(op, "infonce")) {
        if (load("q", &a[0]) || load("k", &a[1]) || load("pos", &a[2]) || load("tau", &a[3]))
            return -1;
        int64_t N = a[0].shape[0], M = a[1].shape[0], D = a[0].shape[1];
        float *dq = zeros(N * D), *dk = zeros(M * D), *scratch = zeros(N * M);
        loss = vn_infonce_loss(nn, dq, dk, a[0].x, a[1].x, as_labels(&a[2]), N, M, D, a[3].x[0], dout.x[0], scratch);
        return save("out", &loss, 1, &one) || save_grad("q", dq, &a[0]) || save_grad("k", dk, &a[1]);
    }
    if (!strcmp(op, "l1_ln_target") || !strcmp(op, "mse_ln_target")) {
        if (load("pred", &a[0]) || load("target", &a[1]))
            return -1;
        int64_t N = a[0].shape[0], C = a[0].shape[1];
        float *d = zeros(N * C), *scratch = zeros(N * C);
        loss = op[0] == 'l' ? vn_l1_ln_target_loss(nn, d, a[0].x, a[1].x, N, C, dout.x[0], scratch)
                            : vn_mse_ln_target_loss(nn, d, a[0].x, a[1].x, N, C, dout.x[0], scratch);
        return save("out", &loss, 1, &one) || save_grad("pred", d, &a[0]);
    }
    fprintf(stderr, "nn_dump: unknown op '%s'\n", op);
    return -1;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: nn_dump <op> <dir>\n");
        return 2;
    }
    snprintf(g_dir, sizeof g_dir, "%s", argv[2]);
    vn_be be;
    vn_backend_config cfg = {.n_threads = 2, .deterministic = 1, .device = 0, .seed = 1};
    if (vn_be_open(&be, VN_BACKEND_CPU, &cfg) != VN_OK) {
        fprintf(stderr, "nn_dump: cannot open the cpu backend\n");
        return 1;
    }
    vn_nn nn = {.be = &be, .n_threads = 2, .deterministic = 1};
    int rc = run(&nn, argv[1]) == 0 ? 0 : 1;
    vn_be_close(&be);
    while (g_n_allocs > 0)
        free(g_allocs[--g_n_allocs]);
    return rc;
}
