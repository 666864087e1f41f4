/*
 * heads.c: the objectives' small layers on the pooled embedding, in one float arena
 * with its gradient and AdamW moments, named as they appear in trainer checkpoints:
 *   heads.aot.{weight,bias}       [1, D], [1]
 *   heads.order.{weight,bias}     [1, D], [1]
 *   heads.future.fc1.{weight,bias}, heads.future.fc2.{weight,bias}  [D, D], [D]: the
 *                                 context-to-continuation predictor, Linear-GELU-Linear
 *   heads.label.{weight,bias}     [K, D], [K]
 * Only the active objectives' heads exist.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "train/train_internal.h"

static int64_t add(vn_train_heads *h, const char *name, int64_t rows, int64_t cols, int decays)
{
    vn_train_param *p = &h->params[h->n_params++];
    snprintf(p->name, sizeof p->name, "%s", name);
    p->ndim = cols ? 2 : 1;
    p->shape[0] = rows;
    p->shape[1] = cols;
    p->numel = cols ? rows * cols : rows;
    p->offset = h->n_floats;
    p->decays = decays;
    h->n_floats += p->numel;
    return p->offset;
}

static void linear(vn_train_heads *h, const char *prefix, int64_t out, int64_t in, int64_t *w, int64_t *b)
{
    char name[64];
    snprintf(name, sizeof name, "%s.weight", prefix);
    *w = add(h, name, out, in, 1);
    snprintf(name, sizeof name, "%s.bias", prefix);
    *b = add(h, name, out, 0, 0);
}

vn_status vn_train_heads_build(vn_train_heads *h, const vn_nn *nn, const float *weights, int64_t D, int64_t K,
                               uint64_t seed)
{
    memset(h, 0, sizeof *h);
    h->nn = nn;
    h->aot_w = h->aot_b = h->order_w = h->order_b = -1;
    h->fut_w1 = h->fut_b1 = h->fut_w2 = h->fut_b2 = h->label_w = h->label_b = -1;
    h->D = D;
    h->K = K;
    h->params = calloc(10, sizeof *h->params);
    if (!h->params)
        return vn_error(VN_ERR_OUT_OF_MEMORY, "vn_trainer_create: out of memory for the heads");
    if (weights[VN_OBJECTIVE_AOT] > 0)
        linear(h, "heads.aot", 1, D, &h->aot_w, &h->aot_b);
    if (weights[VN_OBJECTIVE_ORDER] > 0)
        linear(h, "heads.order", 1, D, &h->order_w, &h->order_b);
    if (weights[VN_OBJECTIVE_FUTURE] > 0) {
        linear(h, "heads.future.fc1", D, D, &h->fut_w1, &h->fut_b1);
        linear(h, "heads.future.fc2", D, D, &h->fut_w2, &h->fut_b2);
    }
    if (weights[VN_OBJECTIVE_LABEL] > 0)
        linear(h, "heads.label", K, D, &h->label_w, &h->label_b);
    int64_t n = h->n_floats > 0 ? h->n_floats : 1;
    float *host = calloc((size_t)n, sizeof(float));
    h->arena = vn_nn_alloc(nn, n);
    h->grad = vn_nn_alloc(nn, n);
    h->m = vn_nn_alloc(nn, n);
    h->v = vn_nn_alloc(nn, n);
    (void)vn_nn_take_error();
    if (!host || !h->arena || !h->grad || !h->m || !h->v) {
        free(host);
        vn_train_heads_free(h);
        return vn_error(VN_ERR_OUT_OF_MEMORY, "vn_trainer_create: out of memory for the heads");
    }
    vn_nn_zero(nn, h->grad, n);
    vn_nn_zero(nn, h->m, n);
    vn_nn_zero(nn, h->v, n);
    /* timm's trunc_normal_(std=0.02) for weights, zero biases */
    vn_rng r;
    vn_rng_seed(&r, seed, 0x6865616473ULL);
    for (int i = 0; i < h->n_params; i++) {
        const vn_train_param *p = &h->params[i];
        if (!p->decays)
            continue;
        for (int64_t j = 0; j < p->numel; j++) {
            double z;
            do
                z = vn_rng_normal(&r);
            while (fabs(z) > 2.0);
            host[p->offset + j] = (float)(0.02 * z);
        }
    }
    vn_status st = vn_nn_upload(nn, h->arena, host, (size_t)n * sizeof(float));
    free(host);
    if (st == VN_OK)
        st = vn_nn_take_error();
    return st;
}

void vn_train_heads_free(vn_train_heads *h)
{
    free(h->params);
    if (h->nn) {
        vn_nn_free(h->nn, h->arena);
        vn_nn_free(h->nn, h->grad);
        vn_nn_free(h->nn, h->m);
        vn_nn_free(h->nn, h->v);
    }
    memset(h, 0, sizeof *h);
}
