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

/* Input clip dst of the batch takes frames src_t[0..T) of batch clip src: its C * T
 * frame rows come from rows (src * C + c) * Tsrc + src_t[t] of the batch. */
static void pick_frames(const vn_trainer *tr, int64_t dst, int64_t src, const int64_t *src_t)
{
    for (int64_t c = 0; c < tr->C; c++)
        for (int64_t t = 0; t < tr->T; t++)
            tr->frame_idx[(dst * tr->C + c) * tr->T + t] = (int32_t)((src * tr->C + c) * tr->Tsrc + src_t[t]);
}

/* Gather the picked frames of the first n input clips, on the engine. */
static vn_status gather_inputs(vn_trainer *tr, int64_t n)
{
    int64_t rows = n * tr->C * tr->T;
    vn_status st = vn_train_upload(tr, tr->frame_idx_dev, tr->frame_idx, (size_t)rows * sizeof(int32_t));
    if (!st)
        vn_nn_gather_rows(&tr->nn, tr->input, tr->clips_dev, tr->frame_idx_dev, rows, tr->H * tr->H);
    return st;
}

/* Bring n floats of engine memory to tr->readback for an accuracy. */
static const float *read_back(vn_trainer *tr, const float *src, int64_t n, vn_status *st)
{
    if (!tr->nn.dev)
        return src;
    *st = vn_nn_download(&tr->nn, tr->readback, src, (size_t)n * sizeof(float));
    return tr->readback;
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
    vn_status st = gather_inputs(tr, B);
    if (!st)
        st = vn_train_upload(tr, tr->targets_dev, targets, (size_t)B * sizeof(float));
    if (!st)
        st = vn_encoder_forward(tr->enc, tr->acts, tr->input, B, tr->emb, NULL);
    if (st)
        return st;
    float *H = tr->heads.arena, *G = tr->heads.grad;
    vn_linear_forward(nn, w.logits, tr->emb, H + off_w, H + off_b, B, D, 1);
    vn_nn_zero(nn, w.dlogits, B);
    *loss = vn_bce_logits_loss(nn, w.dlogits, w.logits, tr->targets_dev, B, wt);
    const float *logits = read_back(tr, w.logits, B, &st);
    if (st)
        return st;
    int right = 0;
    for (int64_t i = 0; i < B; i++)
        right += (logits[i] > 0) == (targets[i] > 0.5f);
    *acc = (float)right / (float)B;
    if ((st = vn_nn_take_error()) != VN_OK)
        return st;
    if (!backward)
        return VN_OK;
    vn_nn_zero(nn, tr->demb, B * D);
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
    uint64_t key = vn_rng_next(rng);
    for (int64_t i = 0; i < B; i++) {
        vn_rng ci;
        vn_train_clip_rng(&ci, key, tr->clip0 + i);
        int reversed = (int)(vn_rng_next(&ci) >> 63);
        targets[i] = reversed ? 0.0f : 1.0f;
        pick_frames(tr, i, i, reversed ? rev : fwd);
    }
    return binary_head(tr, tr->heads.aot_w, tr->heads.aot_b, targets, tr->w[VN_OBJECTIVE_AOT], backward, loss, acc);
}

static vn_status order(vn_trainer *tr, vn_rng *rng, int backward, float *loss, float *acc)
{
    int64_t B = tr->B, T = tr->T;
    float *targets = tr->targets;
    int64_t *perm = tr->idx;
    uint64_t key = vn_rng_next(rng);
    for (int64_t i = 0; i < B; i++) {
        vn_rng ci;
        vn_train_clip_rng(&ci, key, tr->clip0 + i);
        int shuffled = (int)(vn_rng_next(&ci) >> 63);
        targets[i] = shuffled ? 0.0f : 1.0f;
        for (int64_t t = 0; t < T; t++)
            perm[t] = t;
        if (shuffled) {
            /* a uniform permutation other than the identity */
            int identity;
            do {
                for (int64_t t = T - 1; t > 0; t--) {
                    int64_t j = (int64_t)vn_rng_below(&ci, (uint64_t)t + 1), x = perm[t];
                    perm[t] = perm[j];
                    perm[j] = x;
                }
                identity = 1;
                for (int64_t t = 0; t < T; t++)
                    identity &= perm[t] == t;
            } while (identity);
        }
        pick_frames(tr, i, i, perm);
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
        pick_frames(tr, i, i, ctx);
        pick_frames(tr, B + i, i, cont);
        pick_frames(tr, 2 * B + i, i, rev);
    }
    int32_t *pos = tr->ipos;
    for (int64_t i = 0; i < B; i++)
        pos[i] = (int32_t)i;
    vn_status st = gather_inputs(tr, 3 * B);
    if (!st)
        st = vn_train_upload(tr, tr->ipos_dev, pos, (size_t)B * sizeof(int32_t));
    if (!st)
        st = vn_encoder_forward(tr->enc, tr->acts, tr->input, 3 * B, tr->emb, NULL);
    if (st)
        return st;
    const vn_train_heads *hd = &tr->heads;
    float *H = hd->arena, *G = hd->grad;
    vn_linear_forward(nn, w.h, tr->emb, H + hd->fut_w1, H + hd->fut_b1, B, D, D);
    vn_gelu_forward(nn, w.g, w.h, B * D);
    vn_linear_forward(nn, w.p, w.g, H + hd->fut_w2, H + hd->fut_b2, B, D, D);
    vn_l2norm_forward(nn, w.q, w.norms, w.p, B, D);
    vn_l2norm_forward(nn, w.k, w.norms + B, tr->emb + B * D, 2 * B, D);
    vn_nn_zero(nn, w.dq, B * D);
    vn_nn_zero(nn, w.dk, 2 * B * D);
    *loss = vn_infonce_loss(nn, w.dq, w.dk, w.q, w.k, tr->ipos_dev, B, 2 * B, D, tr->opt.future_tau,
                            tr->w[VN_OBJECTIVE_FUTURE], w.scratch);
    const float *q = w.q, *k = w.k;
    if (tr->nn.dev) {
        float *hq = tr->readback, *hk = tr->readback + B * D;
        if ((st = vn_nn_download(nn, hq, w.q, (size_t)(B * D) * sizeof(float))) ||
            (st = vn_nn_download(nn, hk, w.k, (size_t)(2 * B * D) * sizeof(float))))
            return st;
        q = hq;
        k = hk;
    }
    int right = 0;
    for (int64_t i = 0; i < B; i++) {
        int64_t best = 0;
        double best_s = -INFINITY;
        for (int64_t j = 0; j < 2 * B; j++) {
            double s = 0;
            for (int64_t d = 0; d < D; d++)
                s += (double)q[i * D + d] * k[j * D + d];
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
    vn_nn_zero(nn, tr->demb, 3 * B * D);
    vn_nn_zero(nn, w.dp, B * D);
    vn_l2norm_backward(nn, w.dp, w.dq, w.q, w.norms, B, D);
    vn_l2norm_backward(nn, tr->demb + B * D, w.dk, w.k, w.norms + B, 2 * B, D);
    vn_nn_zero(nn, w.dg, B * D);
    vn_linear_backward(nn, w.dg, G + hd->fut_w2, G + hd->fut_b2, w.dp, w.g, H + hd->fut_w2, B, D, D);
    vn_nn_zero(nn, w.dh, B * D);
    vn_gelu_backward(nn, w.dh, w.h, w.dg, B * D);
    vn_linear_backward(nn, tr->demb, G + hd->fut_w1, G + hd->fut_b1, w.dh, tr->emb, H + hd->fut_w1, B, D, D);
    if ((st = vn_nn_take_error()) != VN_OK)
        return st;
    return vn_encoder_backward(tr->enc, tr->acts, tr->demb, tr->grad);
}

/* Draws that concern one clip (its reversal, its shuffle, its masks) come from a stream
 * of its own, keyed by one draw of the step's stream and the clip's global index: the
 * same clip gets the same draws however the global batch is split among replicas. */
void vn_train_clip_rng(vn_rng *r, uint64_t key, int64_t global)
{
    vn_rng_seed(r, key, (uint64_t)global);
}

vn_status vn_train_input_forward(vn_trainer *tr)
{
    for (int64_t t = 0; t < tr->T; t++)
        tr->idx[t] = t;
    for (int64_t i = 0; i < tr->B; i++)
        pick_frames(tr, i, i, tr->idx);
    return gather_inputs(tr, tr->B);
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
    vn_status st = vn_train_input_forward(tr);
    if (!st)
        st = vn_encoder_forward(tr->enc, tr->acts, tr->input, B, tr->emb, NULL);
    if (st)
        return st;
    const vn_train_heads *hd = &tr->heads;
    float *H = hd->arena, *G = hd->grad;
    vn_linear_forward(nn, w.logits, tr->emb, H + hd->label_w, H + hd->label_b, B, D, K);
    vn_nn_zero(nn, w.dlogits, B * K);
    *loss = vn_softmax_ce_loss(nn, w.dlogits, w.logits, tr->labels_dev, B, K, tr->w[VN_OBJECTIVE_LABEL]);
    const float *logits = read_back(tr, w.logits, B * K, &st);
    if (st)
        return st;
    int right = 0;
    for (int64_t i = 0; i < B; i++) {
        int64_t best = 0;
        for (int64_t k = 1; k < K; k++)
            if (logits[i * K + k] > logits[i * K + best])
                best = k;
        right += best == tr->labels[i];
    }
    *acc = (float)right / (float)B;
    if ((st = vn_nn_take_error()) != VN_OK)
        return st;
    if (!backward)
        return VN_OK;
    vn_nn_zero(nn, tr->demb, B * D);
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
