/*
 * optim.c: AdamW, the learning-rate schedule and gradient clipping (optim.h).
 */
#include "nn/optim.h"

#include <math.h>

#include "backend/backend_nn.h"
#include "nn/ops_internal.h"


/* sqrtf's errno branch (ISO C keeps -fmath-errno, and neither the optimize pragma nor
 * the attribute reach the clones) leaves this loop scalar; at 28 bytes of traffic per
 * element it is close to memory-bound anyway. */
VN_NN_CLONES static void adamw_range(const vn_param_group *g, const vn_adamw_scalars *sc, int64_t lo, int64_t hi)
{
    float *restrict p = g->param, *restrict m = g->m, *restrict v = g->v;
    const float *restrict gr = g->grad;
    const float decay = sc->decay, w1 = sc->w1, b2 = sc->b2, w2 = sc->w2, step_size = sc->step_size,
                bc2_sqrt = sc->bc2_sqrt, eps = sc->eps;
    for (int64_t i = lo; i < hi; i++) {
        float pi = p[i] * decay;
        /* torch's lerp for weights below 0.5: self + w * (end - self) */
        float mi = m[i] + w1 * (gr[i] - m[i]);
        float vi = v[i] * b2;
        vi = vi + w2 * gr[i] * gr[i];
        float denom = sqrtf(vi) / bc2_sqrt + eps;
        /* addcdiv's order: self + (value * t1) / t2 */
        p[i] = pi + ((-step_size) * mi) / denom;
        m[i] = mi;
        v[i] = vi;
    }
}

/* Elements per work item: the threads split every group, large or small, evenly. */
#define OPT_BLOCK 16384

void vn_adamw_step(const vn_nn *nn, const vn_param_group *groups, int n_groups, double lr,
                   const vn_adamw_hparams *hp, int64_t step)
{
    double bc1 = 1.0 - pow(hp->beta1, (double)step), bc2 = 1.0 - pow(hp->beta2, (double)step);
    for (int gi = 0; gi < n_groups; gi++) {
        const vn_param_group *g = &groups[gi];
        vn_adamw_scalars sc = {
            .decay = (float)(1.0 - lr * g->weight_decay),
            .w1 = (float)(1.0 - hp->beta1),
            .b2 = (float)hp->beta2,
            .w2 = (float)(1.0 - hp->beta2),
            .step_size = (float)(lr / bc1),
            .bc2_sqrt = (float)sqrt(bc2),
            .eps = (float)hp->eps,
        };
        if (nn->dev) {
            vn_nn_record(nn->dev->adamw(nn->be->state, g->param, g->grad, g->m, g->v, g->n, &sc));
            continue;
        }
        int64_t nb = (g->n + OPT_BLOCK - 1) / OPT_BLOCK;
#pragma omp parallel for num_threads(nn->n_threads) schedule(static) if (nb > 1)
        for (int64_t blk = 0; blk < nb; blk++) {
            int64_t lo = blk * OPT_BLOCK, hi = lo + OPT_BLOCK < g->n ? lo + OPT_BLOCK : g->n;
            adamw_range(g, &sc, lo, hi);
        }
    }
}

double vn_lr_at(const vn_lr_schedule *s, int64_t step)
{
    if (step < s->warmup_steps)
        return s->start_lr + (s->ref_lr - s->start_lr) * (double)step / (double)s->warmup_steps;
    int64_t span = s->total_steps - s->warmup_steps, t = step - s->warmup_steps;
    if (span <= 0)
        return s->final_lr;
    if (t > span)
        t = span;
    return s->final_lr + (s->ref_lr - s->final_lr) * 0.5 * (1.0 + cos(M_PI * (double)t / (double)span));
}

VN_NN_CLONES static double sumsq_range(const float *restrict x, int64_t lo, int64_t hi)
{
    double acc[8] = {0};
    int64_t i = lo;
    for (; i + 8 <= hi; i += 8)
        for (int l = 0; l < 8; l++)
            acc[l] += (double)x[i + l] * x[i + l];
    double s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (; i < hi; i++)
        s += (double)x[i] * x[i];
    return s;
}

/* Chunks per group for the norm: fixed, so the summation tree is the same at any
 * thread count. */
#define NORM_CHUNKS 64

/* On a device the norm never leaves it until the end: the groups' squares accumulate
 * into a device double, clip_scale reads it there, and one download reports it. */
static double clip_on_device(const vn_nn *nn, const vn_param_group *groups, int n_groups, double max_norm)
{
    double *acc = (double *)(void *)nn->dev_scalars;
    double total = NAN;
    vn_status s = nn->dev->fill(nn->be->state, nn->dev_scalars, 2, 0.0f);
    for (int gi = 0; gi < n_groups && s == VN_OK; gi++)
        s = nn->dev->sumsq(nn->be->state, acc, groups[gi].grad, groups[gi].n);
    for (int gi = 0; gi < n_groups && s == VN_OK && isfinite(max_norm); gi++)
        s = nn->dev->clip_scale(nn->be->state, groups[gi].grad, groups[gi].n, acc, max_norm);
    if (s == VN_OK)
        s = vn_be_download(nn->be, &total, acc, sizeof total);
    vn_nn_record(s);
    return s == VN_OK ? sqrt(total) : NAN;
}

double vn_clip_grad_norm(const vn_nn *nn, const vn_param_group *groups, int n_groups, double max_norm)
{
    if (nn->dev)
        return clip_on_device(nn, groups, n_groups, max_norm);
    double total = 0.0;
    for (int gi = 0; gi < n_groups; gi++) {
        const vn_param_group *g = &groups[gi];
        double part[NORM_CHUNKS];
#pragma omp parallel for num_threads(nn->n_threads) schedule(static) if (g->n >= VN_NN_PAR_MIN)
        for (int c = 0; c < NORM_CHUNKS; c++)
            part[c] = sumsq_range(g->grad, g->n * c / NORM_CHUNKS, g->n * (c + 1) / NORM_CHUNKS);
        for (int c = 0; c < NORM_CHUNKS; c++)
            total += part[c];
    }
    double norm = sqrt(total);
    double coef = max_norm / (norm + 1e-6);
    if (coef < 1.0) {
        float cf = (float)coef;
        for (int gi = 0; gi < n_groups; gi++) {
            float *gr = groups[gi].grad;
            int64_t n = groups[gi].n;
#pragma omp parallel for num_threads(nn->n_threads) schedule(static) if (n >= VN_NN_PAR_MIN)
            for (int64_t i = 0; i < n; i++)
                gr[i] *= cf;
        }
    }
    return norm;
}
