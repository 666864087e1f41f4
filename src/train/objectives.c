/*
 * objectives.c: the losses on pooled embeddings (aot, order, future, label). Each takes
 * the step's batch tr->clips [B, C, Tsrc, H, W], builds its inputs in tr->input, runs
 * the encoder, its head and its loss, and with backward set accumulates gradients
 * scaled by the objective's weight. jepa, which works on tokens, is in jepa.c.
 */
#include <math.h>
#include <string.h>

#include "core/error.h"
#include "train/train_internal.h"

/* Copy frames src_t[0..T) of a [C, Tsrc, H, W] clip into a [C, T, H, W] clip. */
static void pick_frames(const vn_trainer *tr, float *dst, const float *src, const int64_t *src_t)
{
    int64_t hw = tr->H * tr->H;
    for (int64_t c = 0; c < tr->C; c++)
        for (int64_t t = 0; t < tr->T; t++)
            memcpy(dst + (c * tr->T + t) * hw, src + (c * tr->Tsrc + src_t[t]) * hw, (size_t)hw * sizeof(float));
}

static float *clip_in(const vn_trainer *tr, int64_t i)
{
    return tr->clips + i * tr->C * tr->Tsrc * tr->H * tr->H;
}

static float *input_at(const vn_trainer *tr, int64_t i)
{
    return tr->input + i * tr->C * tr->T * tr->H * tr->H;
}

static void zero(float *x, int64_t n)
{
    memset(x, 0, (size_t)n * sizeof *x);
}

/* y = x / |x| per row, with the norms kept for the backward. */
static void l2norm_forward(float *y, float *norm, const float *x, int64_t N, int64_t D)
{
    for (int64_t i = 0; i < N; i++) {
        double s = 0;
        for (int64_t j = 0; j < D; j++)
            s += (double)x[i * D + j] * x[i * D + j];
        float n = (float)sqrt(s);
        if (n < 1e-12f)
            n = 1e-12f;
        norm[i] = n;
        for (int64_t j = 0; j < D; j++)
            y[i * D + j] = x[i * D + j] / n;
    }
}

/* dx += (dy - y (y . dy)) / |x| */
static void l2norm_backward(float *dx, const float *dy, const float *y, const float *norm, int64_t N, int64_t D)
{
    for (int64_t i = 0; i < N; i++) {
        double dot = 0;
        for (int64_t j = 0; j < D; j++)
            dot += (double)y[i * D + j] * dy[i * D + j];
        for (int64_t j = 0; j < D; j++)
            dx[i * D + j] += (float)((dy[i * D + j] - y[i * D + j] * dot) / norm[i]);
    }
}

int64_t vn_train_objective_work_floats(const vn_trainer *tr)
{
    int64_t B = tr->B, D = tr->D, K = tr->heads.K > 1 ? tr->heads.K : 1;
    return 2 * 3 * B * K + 8 * B * D + 4 * 2 * B * D + 2 * B * B + 3 * B + 64;
}

typedef struct work {
    float *logits, *dlogits;
    float *h, *g, *p, *q, *dq, *dp, *dg, *dh, *k, *dk, *scratch, *norms;
} work;

static work work_layout(const vn_trainer *tr)
{
    int64_t B = tr->B, D = tr->D, K = tr->heads.K > 1 ? tr->heads.K : 1;
    float *x = tr->work;
    work w;
    w.logits = x, x += 3 * B * K;
    w.dlogits = x, x += 3 * B * K;
    w.h = x, x += B * D;
    w.g = x, x += B * D;
    w.p = x, x += B * D;
    w.q = x, x += B * D;
    w.dq = x, x += B * D;
    w.dp = x, x += B * D;
    w.dg = x, x += B * D;
    w.dh = x, x += B * D;
    w.k = x, x += 2 * B * D;
    w.dk = x, x += 2 * B * D;
    w.scratch = x, x += 2 * B * B;
    w.norms = x;
    return w;
}

/* A binary head (aot or order) on inputs already in tr->input with targets[B]. */
static vn_status binary_head(vn_trainer *tr, int64_t off_w, int64_t off_b, const float *targets, float wt,
                             int backward, float *loss, float *acc)
{
    const vn_nn *nn = &tr->nn;
    int64_t B = tr->B, D = tr->D;
    work w = work_layout(tr);
    vn_status st = vn_encoder_forward(tr->enc, tr->acts, tr->input, B, tr->emb, NULL);
    if (st)
        return st;
    float *H = tr->heads.arena, *G = tr->heads.grad;
    vn_linear_forward(nn, w.logits, tr->emb, H + off_w, H + off_b, B, D, 1);
    zero(w.dlogits, B);
    *loss = vn_bce_logits_loss(nn, w.dlogits, w.logits, targets, B, wt);
    int right = 0;
    for (int64_t i = 0; i < B; i++)
        right += (w.logits[i] > 0) == (targets[i] > 0.5f);
    *acc = (float)right / (float)B;
    if ((st = vn_nn_take_error()) != VN_OK)
        return st;
    if (!backward)
        return VN_OK;
    zero(tr->demb, B * D);
    vn_linear_backward(nn, tr->demb, G + off_w, G + off_b, w.dlogits, tr->emb, H + off_w, B, D, 1);
    if ((st = vn_nn_take_error()) != VN_OK)
        return st;
    return vn_encoder_backward(tr->enc, tr->acts, tr->demb, tr->grad);
}

static vn_status aot(vn_trainer *tr, vn_rng *rng, int backward, float *loss, float *acc)
{
    int64_t B = tr->B, T = tr->T;
    float *targets = tr->targets;
    int64_t *fwd = tr->idx, *rev = tr->idx + T;
    for (int64_t t = 0; t < T; t++) {
        fwd[t] = t;
        rev[t] = T - 1 - t;
    }
    for (int64_t i = 0; i < B; i++) {
        int reversed = (int)(vn_rng_next(rng) >> 63);
        targets[i] = reversed ? 0.0f : 1.0f;
        pick_frames(tr, input_at(tr, i), clip_in(tr, i), reversed ? rev : fwd);
    }
    return binary_head(tr, tr->heads.aot_w, tr->heads.aot_b, targets, tr->w[VN_OBJECTIVE_AOT], backward, loss, acc);
}

static vn_status order(vn_trainer *tr, vn_rng *rng, int backward, float *loss, float *acc)
{
    int64_t B = tr->B, T = tr->T;
    float *targets = tr->targets;
    int64_t *perm = tr->idx;
    for (int64_t i = 0; i < B; i++) {
        int shuffled = (int)(vn_rng_next(rng) >> 63);
        targets[i] = shuffled ? 0.0f : 1.0f;
        for (int64_t t = 0; t < T; t++)
            perm[t] = t;
        if (shuffled) {
            /* a uniform permutation other than the identity */
            int identity;
            do {
                for (int64_t t = T - 1; t > 0; t--) {
                    int64_t j = (int64_t)vn_rng_below(rng, (uint64_t)t + 1), x = perm[t];
                    perm[t] = perm[j];
                    perm[j] = x;
                }
                identity = 1;
                for (int64_t t = 0; t < T; t++)
                    identity &= perm[t] == t;
            } while (identity);
        }
        pick_frames(tr, input_at(tr, i), clip_in(tr, i), perm);
    }
    return binary_head(tr, tr->heads.order_w, tr->heads.order_b, targets, tr->w[VN_OBJECTIVE_ORDER], backward,
                       loss, acc);
}

/* Context frames [0, T) against continuations [T, 2T): inputs are the B contexts, the B
 * continuations and the B reversed continuations, encoded as one batch of 3B. */
static vn_status future(vn_trainer *tr, int backward, float *loss, float *acc)
{
    const vn_nn *nn = &tr->nn;
    int64_t B = tr->B, D = tr->D, T = tr->T;
    work w = work_layout(tr);
    int64_t *ctx = tr->idx, *cont = tr->idx + T, *rev = tr->idx + 2 * T;
    for (int64_t t = 0; t < T; t++) {
        ctx[t] = t;
        cont[t] = T + t;
        rev[t] = 2 * T - 1 - t;
    }
    for (int64_t i = 0; i < B; i++) {
        pick_frames(tr, input_at(tr, i), clip_in(tr, i), ctx);
        pick_frames(tr, input_at(tr, B + i), clip_in(tr, i), cont);
        pick_frames(tr, input_at(tr, 2 * B + i), clip_in(tr, i), rev);
    }
    vn_status st = vn_encoder_forward(tr->enc, tr->acts, tr->input, 3 * B, tr->emb, NULL);
    if (st)
        return st;
    const vn_train_heads *hd = &tr->heads;
    float *H = hd->arena, *G = hd->grad;
    vn_linear_forward(nn, w.h, tr->emb, H + hd->fut_w1, H + hd->fut_b1, B, D, D);
    vn_gelu_forward(nn, w.g, w.h, B * D);
    vn_linear_forward(nn, w.p, w.g, H + hd->fut_w2, H + hd->fut_b2, B, D, D);
    l2norm_forward(w.q, w.norms, w.p, B, D);
    l2norm_forward(w.k, w.norms + B, tr->emb + B * D, 2 * B, D);
    int32_t *pos = tr->ipos;
    for (int64_t i = 0; i < B; i++)
        pos[i] = (int32_t)i;
    zero(w.dq, B * D);
    zero(w.dk, 2 * B * D);
    *loss = vn_infonce_loss(nn, w.dq, w.dk, w.q, w.k, pos, B, 2 * B, D, tr->opt.future_tau,
                            tr->w[VN_OBJECTIVE_FUTURE], w.scratch);
    int right = 0;
    for (int64_t i = 0; i < B; i++) {
        int64_t best = 0;
        double best_s = -INFINITY;
        for (int64_t j = 0; j < 2 * B; j++) {
            double s = 0;
            for (int64_t d = 0; d < D; d++)
                s += (double)w.q[i * D + d] * w.k[j * D + d];
            if (s > best_s) {
                best_s = s;
                best = j;
            }
        }
        right += best == i;
    }
    *acc = (float)right / (float)B;
    if ((st = vn_nn_take_error()) != VN_OK)
        return st;
    if (!backward)
        return VN_OK;
    zero(tr->demb, 3 * B * D);
    zero(w.dp, B * D);
    l2norm_backward(w.dp, w.dq, w.q, w.norms, B, D);
    l2norm_backward(tr->demb + B * D, w.dk, w.k, w.norms + B, 2 * B, D);
    zero(w.dg, B * D);
    vn_linear_backward(nn, w.dg, G + hd->fut_w2, G + hd->fut_b2, w.dp, w.g, H + hd->fut_w2, B, D, D);
    zero(w.dh, B * D);
    vn_gelu_backward(nn, w.dh, w.h, w.dg, B * D);
    vn_linear_backward(nn, tr->demb, G + hd->fut_w1, G + hd->fut_b1, w.dh, tr->emb, H + hd->fut_w1, B, D, D);
    if ((st = vn_nn_take_error()) != VN_OK)
        return st;
    return vn_encoder_backward(tr->enc, tr->acts, tr->demb, tr->grad);
}

void vn_train_input_forward(vn_trainer *tr)
{
    for (int64_t t = 0; t < tr->T; t++)
        tr->idx[t] = t;
    for (int64_t i = 0; i < tr->B; i++)
        pick_frames(tr, input_at(tr, i), clip_in(tr, i), tr->idx);
}

static vn_status label(vn_trainer *tr, int backward, float *loss, float *acc)
{
    const vn_nn *nn = &tr->nn;
    int64_t B = tr->B, D = tr->D, K = tr->heads.K;
    work w = work_layout(tr);
    for (int64_t i = 0; i < B; i++)
        if (tr->labels[i] < 0 || tr->labels[i] >= K)
            return vn_error(VN_ERR_INVALID_ARG,
                            "label objective: clip %lld of the batch has label %d, outside 0..%lld (num_classes %lld)",
                            (long long)i, tr->labels[i], (long long)K - 1, (long long)K);
    vn_train_input_forward(tr);
    vn_status st = vn_encoder_forward(tr->enc, tr->acts, tr->input, B, tr->emb, NULL);
    if (st)
        return st;
    const vn_train_heads *hd = &tr->heads;
    float *H = hd->arena, *G = hd->grad;
    vn_linear_forward(nn, w.logits, tr->emb, H + hd->label_w, H + hd->label_b, B, D, K);
    zero(w.dlogits, B * K);
    *loss = vn_softmax_ce_loss(nn, w.dlogits, w.logits, tr->labels, B, K, tr->w[VN_OBJECTIVE_LABEL]);
    int right = 0;
    for (int64_t i = 0; i < B; i++) {
        int64_t best = 0;
        for (int64_t k = 1; k < K; k++)
            if (w.logits[i * K + k] > w.logits[i * K + best])
                best = k;
        right += best == tr->labels[i];
    }
    *acc = (float)right / (float)B;
    if ((st = vn_nn_take_error()) != VN_OK)
        return st;
    if (!backward)
        return VN_OK;
    zero(tr->demb, B * D);
    vn_linear_backward(nn, tr->demb, G + hd->label_w, G + hd->label_b, w.dlogits, tr->emb, H + hd->label_w, B, D, K);
    if ((st = vn_nn_take_error()) != VN_OK)
        return st;
    return vn_encoder_backward(tr->enc, tr->acts, tr->demb, tr->grad);
}

vn_status vn_train_objective(vn_trainer *tr, vn_objective o, vn_rng *rng, int backward, float *loss, float *accuracy)
{
    (void)vn_nn_take_error();
    *accuracy = NAN;
    switch (o) {
    case VN_OBJECTIVE_AOT:
        return aot(tr, rng, backward, loss, accuracy);
    case VN_OBJECTIVE_ORDER:
        return order(tr, rng, backward, loss, accuracy);
    case VN_OBJECTIVE_FUTURE:
        return future(tr, backward, loss, accuracy);
    case VN_OBJECTIVE_JEPA:
        return vn_train_jepa(tr, rng, backward, loss);
    case VN_OBJECTIVE_LABEL:
        return label(tr, backward, loss, accuracy);
    }
    return vn_error(VN_ERR_INTERNAL, "vn_train_objective: objective %d", (int)o);
}
