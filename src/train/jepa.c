/*
 * jepa.c: masked latent prediction, V-JEPA style.
 *
 * Per step: multiblock tube masks hide n_mask of the S patch positions of each clip in
 * every frame; the online encoder sees only the visible tokens; the EMA target encoder
 * sees the whole clip; the predictor maps the visible tokens and the positions of the
 * hidden ones to predictions of the target's features there, LayerNorm'd (no affine),
 * with an L1 loss. Only the online encoder and the predictor get gradients.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "nn/encoder_io.h"
#include "train/train_internal.h"

struct vn_train_jepa {
    vn_encoder *target;
    vn_encoder_acts *target_acts;
    vn_predictor *pred;
    vn_predictor_acts *pred_acts;
    float *pred_grad, *pred_m, *pred_v;
    int64_t pred_floats;
    int64_t F, Lh, Lw, S, n_mask, n_keep;
    int32_t *keep, *masked, *ctx_pos, *tgt_pos;
    unsigned char *mask_scratch;
    float *ctx_tok, *d_ctx, *tgt_full, *tgt_sel, *pred_out, *dpred, *scratch; /* engine memory */
    int32_t *tgt_rows, *tgt_rows_dev; /* [B * Kt] the target tokens' rows in tgt_full */
};

void vn_train_tube_masks(vn_rng *rng, int64_t B, int64_t Lh, int64_t Lw, int64_t n_mask, int32_t *keep,
                         int32_t *masked, unsigned char *m)
{
    int64_t S = Lh * Lw;
    for (int64_t b = 0; b < B; b++) {
        memset(m, 0, (size_t)S);
        int64_t count = 0;
        /* V-JEPA's multiblock recipe mixes many small blocks (15% of the area) with a few
         * large ones (70%), aspect ratio 0.75..1.5; blocks are drawn until enough is hidden. */
        while (count < n_mask) {
            double scale = vn_rng_uniform(rng) < 0.8 ? 0.15 : 0.7;
            double ar = 0.75 + 0.75 * vn_rng_uniform(rng);
            double area = scale * (double)S;
            int64_t h = lround(sqrt(area * ar)), w = lround(sqrt(area / ar));
            h = h < 1 ? 1 : h > Lh ? Lh : h;
            w = w < 1 ? 1 : w > Lw ? Lw : w;
            int64_t top = (int64_t)vn_rng_below(rng, (uint64_t)(Lh - h + 1));
            int64_t left = (int64_t)vn_rng_below(rng, (uint64_t)(Lw - w + 1));
            for (int64_t y = top; y < top + h; y++)
                for (int64_t x = left; x < left + w; x++)
                    if (!m[y * Lw + x]) {
                        m[y * Lw + x] = 1;
                        count++;
                    }
        }
        /* every clip hides exactly n_mask positions, so that the batch's token counts agree */
        while (count > n_mask) {
            int64_t k = (int64_t)vn_rng_below(rng, (uint64_t)count);
            for (int64_t s = 0; s < S; s++)
                if (m[s] && k-- == 0) {
                    m[s] = 0;
                    count--;
                    break;
                }
        }
        int32_t *kp = keep + b * (S - n_mask), *mp = masked + b * n_mask;
        for (int64_t s = 0; s < S; s++) {
            if (m[s])
                *mp++ = (int32_t)s;
            else
                *kp++ = (int32_t)s;
        }
    }
}

#define TAKE(ptr, n)                                                                   \
    do {                                                                               \
        (ptr) = calloc((size_t)(n) > 0 ? (size_t)(n) : 1, sizeof *(ptr));              \
        if (!(ptr))                                                                    \
            goto oom;                                                                  \
    } while (0)

/* A zeroed engine buffer of n floats. */
#define ENGINE(ptr, n)                                                                 \
    do {                                                                               \
        if (!((ptr) = vn_nn_alloc(&tr->nn, (n))))                                      \
            goto oom;                                                                  \
        vn_nn_zero(&tr->nn, (ptr), (n));                                               \
    } while (0)

vn_status vn_train_jepa_setup(vn_trainer *tr)
{
    struct vn_train_jepa *j = calloc(1, sizeof *j);
    if (!j)
        return vn_error(VN_ERR_OUT_OF_MEMORY, "vn_trainer_create: out of memory for jepa");
    tr->jepa = j;
    vn_encoder_token_grid(tr->enc, &j->F, &j->Lh, &j->Lw);
    j->S = j->Lh * j->Lw;
    if (j->S < 2)
        return vn_error(VN_ERR_INVALID_ARG,
                        "vn_trainer_create: jepa needs at least 2 patch positions per frame; size %d with patch %d "
                        "has %lld",
                        tr->cfg.size, tr->cfg.patch, (long long)j->S);
    j->n_mask = lround(tr->opt.jepa_mask_ratio * (double)j->S);
    if (j->n_mask < 1)
        j->n_mask = 1;
    if (j->n_mask > j->S - 1)
        j->n_mask = j->S - 1;
    j->n_keep = j->S - j->n_mask;
    vn_status st = vn_encoder_create(&j->target, tr->ctx, &tr->cfg);
    if (st)
        return vn_error_prefix(st, "vn_trainer_create: the jepa target encoder: ");
    int64_t n = 0;
    const float *online = vn_encoder_params(tr->enc, &n);
    vn_nn_copy(&tr->nn, vn_encoder_params(j->target, &n), online, n);
    if ((st = vn_encoder_acts_create(j->target, tr->B, &j->target_acts)))
        return st;
    vn_predictor_config pc = {tr->D, tr->opt.predictor_dim, tr->opt.predictor_depth, tr->opt.predictor_heads, 4.0f,
                              j->F, j->Lh, j->Lw, tr->opt.seed ^ 0x707265646963ULL, 0.02f};
    if ((st = vn_predictor_create(&j->pred, &tr->nn, &pc)))
        return vn_error_prefix(st, "vn_trainer_create: the jepa predictor: ");
    vn_predictor_params(j->pred, &j->pred_floats);
    int64_t B = tr->B, F = j->F, D = tr->D, Kc = F * j->n_keep, Kt = F * j->n_mask;
    if ((st = vn_predictor_acts_create(j->pred, B, Kc, Kt, &j->pred_acts)))
        return st;
    TAKE(j->keep, B * j->n_keep);
    TAKE(j->masked, B * j->n_mask);
    TAKE(j->mask_scratch, j->S);
    TAKE(j->ctx_pos, B * Kc);
    TAKE(j->tgt_pos, B * Kt);
    TAKE(j->tgt_rows, B * Kt);
    ENGINE(j->pred_grad, j->pred_floats);
    ENGINE(j->pred_m, j->pred_floats);
    ENGINE(j->pred_v, j->pred_floats);
    ENGINE(j->ctx_tok, B * Kc * D);
    ENGINE(j->d_ctx, B * Kc * D);
    ENGINE(j->tgt_full, B * F * j->S * D);
    ENGINE(j->tgt_sel, B * Kt * D);
    ENGINE(j->pred_out, B * Kt * D);
    ENGINE(j->dpred, B * Kt * D);
    ENGINE(j->scratch, B * Kt * D);
    if ((st = vn_train_twin(tr, (void **)&j->tgt_rows_dev, j->tgt_rows, (size_t)(B * Kt) * sizeof(int32_t))))
        return st;
    return vn_nn_take_error();
oom:
    (void)vn_nn_take_error();
    return vn_error(VN_ERR_OUT_OF_MEMORY, "vn_trainer_create: out of memory for jepa's buffers");
}

void vn_train_jepa_free(vn_trainer *tr)
{
    struct vn_train_jepa *j = tr->jepa;
    if (!j)
        return;
    vn_encoder_acts_destroy(j->target_acts);
    vn_encoder_destroy(j->target);
    vn_predictor_acts_destroy(j->pred_acts);
    vn_predictor_destroy(j->pred);
    float *f[] = {j->pred_grad, j->pred_m, j->pred_v, j->ctx_tok, j->d_ctx, j->tgt_full, j->tgt_sel,
                  j->pred_out, j->dpred, j->scratch};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        vn_nn_free(&tr->nn, f[i]);
    vn_train_free_twin(tr, j->tgt_rows_dev, j->tgt_rows);
    free(j->tgt_rows);
    free(j->keep);
    free(j->masked);
    free(j->mask_scratch);
    free(j->ctx_pos);
    free(j->tgt_pos);
    free(j);
    tr->jepa = NULL;
}

vn_status vn_train_jepa(vn_trainer *tr, vn_rng *rng, int backward, float *loss)
{
    struct vn_train_jepa *j = tr->jepa;
    int64_t B = tr->B, D = tr->D, F = j->F, S = j->S, nk = j->n_keep, nm = j->n_mask;
    int64_t Kc = F * nk, Kt = F * nm;
    uint64_t key = vn_rng_next(rng);
    for (int64_t b = 0; b < B; b++) {
        vn_rng cb;
        vn_train_clip_rng(&cb, key, tr->clip0 + b);
        vn_train_tube_masks(&cb, 1, j->Lh, j->Lw, nm, j->keep + b * nk, j->masked + b * nm, j->mask_scratch);
    }
    for (int64_t b = 0; b < B; b++)
        for (int64_t f = 0; f < F; f++) {
            for (int64_t k = 0; k < nk; k++)
                j->ctx_pos[b * Kc + f * nk + k] = (int32_t)(f * S + j->keep[b * nk + k]);
            for (int64_t k = 0; k < nm; k++)
                j->tgt_pos[b * Kt + f * nm + k] = (int32_t)(f * S + j->masked[b * nm + k]);
        }
    for (int64_t b = 0; b < B; b++)
        for (int64_t t = 0; t < Kt; t++)
            j->tgt_rows[b * Kt + t] = (int32_t)(b * F * S + j->tgt_pos[b * Kt + t]);
    vn_status st = vn_train_input_forward(tr);
    if (!st)
        st = vn_train_upload(tr, j->tgt_rows_dev, j->tgt_rows, (size_t)(B * Kt) * sizeof(int32_t));
    if (!st)
        st = vn_encoder_forward_masked(j->target, j->target_acts, tr->input, B, NULL, S, j->tgt_full);
    if (st)
        return vn_error_prefix(st, "jepa target: ");
    vn_nn_gather_rows(&tr->nn, j->tgt_sel, j->tgt_full, j->tgt_rows_dev, B * Kt, D);
    if ((st = vn_encoder_forward_masked(tr->enc, tr->acts, tr->input, B, j->keep, nk, j->ctx_tok)))
        return vn_error_prefix(st, "jepa context: ");
    if ((st = vn_predictor_forward(j->pred, j->pred_acts, j->ctx_tok, j->ctx_pos, Kc, j->tgt_pos, Kt, B,
                                   j->pred_out)))
        return vn_error_prefix(st, "jepa predictor: ");
    vn_nn_zero(&tr->nn, j->dpred, B * Kt * D);
    *loss = vn_l1_ln_target_loss(&tr->nn, j->dpred, j->pred_out, j->tgt_sel, B * Kt, D, tr->w[VN_OBJECTIVE_JEPA],
                                 j->scratch);
    if ((st = vn_nn_take_error()) != VN_OK || !backward)
        return st;
    vn_nn_zero(&tr->nn, j->d_ctx, B * Kc * D);
    if ((st = vn_predictor_backward(j->pred, j->pred_acts, j->dpred, j->pred_grad, j->d_ctx)))
        return vn_error_prefix(st, "jepa predictor: ");
    return vn_encoder_backward_tokens(tr->enc, tr->acts, j->d_ctx, tr->grad);
}

void vn_train_jepa_ema(vn_trainer *tr)
{
    struct vn_train_jepa *j = tr->jepa;
    double frac = (double)tr->step / (double)tr->opt.total_steps;
    frac = frac > 1 ? 1 : frac;
    float m = (float)(tr->opt.ema_start + (tr->opt.ema_end - tr->opt.ema_start) * frac);
    int64_t n = 0;
    float *t = vn_encoder_params(j->target, &n);
    const float *o = vn_encoder_params(tr->enc, &n);
    vn_ema_update(&tr->nn, t, o, n, m);
}

void vn_train_jepa_set_precision(vn_trainer *tr, vn_gemm_precision g)
{
    if (!tr->jepa)
        return;
    tr->jepa->target->nn.precision = g;
    vn_predictor_set_precision(tr->jepa->pred, g);
}

int vn_train_jepa_n_params(const vn_trainer *tr)
{
    return vn_predictor_param_count(tr->jepa->pred);
}

int vn_train_jepa_groups(vn_trainer *tr, vn_param_group *out, int cap)
{
    struct vn_train_jepa *j = tr->jepa;
    int n = vn_predictor_param_count(j->pred), k = 0;
    if (n > cap)
        return -1; /* a silently untrained tail would be worse than failing */
    float *P = vn_predictor_params(j->pred, &j->pred_floats);
    for (int i = 0; i < n; i++) {
        const char *name;
        int ndim, decays;
        int64_t shape[VN_MAX_DIMS], off;
        vn_predictor_param_info(j->pred, i, &name, &ndim, shape, &off, &decays);
        int64_t numel = 1;
        for (int d = 0; d < ndim; d++)
            numel *= shape[d];
        out[k++] = (vn_param_group){P + off, j->pred_grad + off, j->pred_m + off, j->pred_v + off, numel,
                                    decays ? tr->opt.weight_decay : 0.0f};
    }
    return k;
}

/* The predictor's tensors under "predictor.", its moments under "adam.m.predictor." and
 * "adam.v.predictor.", and the EMA target's weights under "target.". */
static vn_status predictor_tensors(vn_trainer *tr, vn_st_writer *w, const vn_st_file *f)
{
    struct vn_train_jepa *j = tr->jepa;
    float *P = vn_predictor_params(j->pred, &j->pred_floats);
    float *arenas[3] = {P, j->pred_m, j->pred_v};
    const char *prefix[3] = {"predictor.", "adam.m.predictor.", "adam.v.predictor."};
    int n = vn_predictor_param_count(j->pred);
    for (int a = 0; a < 3; a++)
        for (int i = 0; i < n; i++) {
            const char *name;
            int ndim, decays;
            int64_t shape[VN_MAX_DIMS], off;
            vn_predictor_param_info(j->pred, i, &name, &ndim, shape, &off, &decays);
            char full[160];
            snprintf(full, sizeof full, "%s%s", prefix[a], name);
            vn_status st = vn_train_state_tensor(w, f, full, ndim, shape, arenas[a] + off);
            if (st)
                return st;
        }
    return VN_OK;
}

vn_status vn_train_jepa_add_tensors(vn_trainer *tr, vn_st_writer *w)
{
    int64_t n = 0;
    vn_status st = predictor_tensors(tr, w, NULL);
    return st ? st : vn_encoder_add_tensors(tr->jepa->target, w, "target.", vn_encoder_params(tr->jepa->target, &n));
}

vn_status vn_train_jepa_read_tensors(vn_trainer *tr, const vn_st_file *f)
{
    int64_t n = 0;
    vn_status st = predictor_tensors(tr, NULL, f);
    return st ? st : vn_encoder_read_tensors(tr->jepa->target, f, "target.", vn_encoder_params(tr->jepa->target, &n));
}

int vn_train_jepa_slots(vn_trainer *tr, float ***slot, int64_t *n, int cap)
{
    struct vn_train_jepa *j = tr->jepa;
    if (!j || cap < 4)
        return 0;
    slot[0] = vn_predictor_arena_slot(j->pred);
    n[0] = j->pred_floats;
    slot[1] = &j->pred_m;
    slot[2] = &j->pred_v;
    n[1] = n[2] = j->pred_floats;
    slot[3] = &j->target->arena;
    n[3] = j->target->n_floats;
    return 4;
}
