/*
 * optim.c: AdamW, the learning-rate schedule and gradient clipping (optim.h).
 */
#include "nn/optim.h"
#include "core/profile.h"

#include <math.h>
#include <stdlib.h>

#include "backend/backend_nn.h"
#include "nn/ops_internal.h"


/* sqrtf's errno branch (ISO C keeps -fmath-errno, and neither the optimize pragma nor
 * the attribute reach the clones) leaves this loop scalar; the AVX-512 twin below does
 * the same operations in the same order on 16 lanes. */
static inline void adamw_elems(const vn_param_group *g, const vn_adamw_scalars *sc, int64_t lo, int64_t hi)
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

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(VN_NO_CLONES)
#  include <immintrin.h>
#  define VN_ADAMW_AVX512 1

/* adamw_elems on 16 lanes: every operation is IEEE-exact in both (sqrt and division
 * included), and nothing is fused (this file keeps ISO C's fp-contract=off), so the
 * bits are the scalar loop's. */
__attribute__((target("avx512f"))) static void adamw_range_avx512(const vn_param_group *g,
                                                                  const vn_adamw_scalars *sc, int64_t lo, int64_t hi)
{
    float *p = g->param, *m = g->m, *v = g->v;
    const float *gr = g->grad;
    const __m512 decay = _mm512_set1_ps(sc->decay), w1 = _mm512_set1_ps(sc->w1), b2 = _mm512_set1_ps(sc->b2),
                 w2 = _mm512_set1_ps(sc->w2), nstep = _mm512_set1_ps(-sc->step_size),
                 bc2 = _mm512_set1_ps(sc->bc2_sqrt), eps = _mm512_set1_ps(sc->eps);
    int64_t i = lo;
    for (; i + 16 <= hi; i += 16) {
        __m512 pv = _mm512_loadu_ps(p + i), mv = _mm512_loadu_ps(m + i), vv = _mm512_loadu_ps(v + i);
        __m512 gv = _mm512_loadu_ps(gr + i);
        __m512 pi = _mm512_mul_ps(pv, decay);
        __m512 mi = _mm512_add_ps(mv, _mm512_mul_ps(w1, _mm512_sub_ps(gv, mv)));
        __m512 vi = _mm512_mul_ps(vv, b2);
        vi = _mm512_add_ps(vi, _mm512_mul_ps(_mm512_mul_ps(w2, gv), gv));
        __m512 denom = _mm512_add_ps(_mm512_div_ps(_mm512_sqrt_ps(vi), bc2), eps);
        _mm512_storeu_ps(p + i, _mm512_add_ps(pi, _mm512_div_ps(_mm512_mul_ps(nstep, mi), denom)));
        _mm512_storeu_ps(m + i, mi);
        _mm512_storeu_ps(v + i, vi);
    }
    adamw_elems(g, sc, i, hi);
}
#endif

static void adamw_range(const vn_param_group *g, const vn_adamw_scalars *sc, int64_t lo, int64_t hi)
{
#ifdef VN_ADAMW_AVX512
    if (__builtin_cpu_supports("avx512f")) {
        adamw_range_avx512(g, sc, lo, hi);
        return;
    }
#endif
    adamw_elems(g, sc, lo, hi);
}

/* Elements per work item: the threads split every group, large or small, evenly. */
#define OPT_BLOCK 16384

/* The work items of all groups in one list, so that a step over many small parameter
 * tensors is one parallel region instead of one per group (each a fork and a join).
 * first[g] is the index of group g's first block; first[n_groups] the total. NULL when
 * out of memory: the callers then go group by group, with the same results (every
 * element is computed alone). */
static int64_t *block_index(const vn_param_group *groups, int n_groups)
{
    int64_t *first = malloc((size_t)(n_groups + 1) * sizeof *first);
    if (!first)
        return NULL;
    first[0] = 0;
    for (int gi = 0; gi < n_groups; gi++)
        first[gi + 1] = first[gi] + (groups[gi].n + OPT_BLOCK - 1) / OPT_BLOCK;
    return first;
}

/* The group of global block gb. */
static int group_of(const int64_t *first, int n_groups, int64_t gb)
{
    int lo = 0, hi = n_groups - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (first[mid] <= gb)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

static vn_adamw_scalars adamw_scalars(const vn_param_group *g, double lr, const vn_adamw_hparams *hp, double bc1,
                                      double bc2)
{
    vn_adamw_scalars sc = {
        .decay = (float)(1.0 - lr * g->weight_decay),
        .w1 = (float)(1.0 - hp->beta1),
        .b2 = (float)hp->beta2,
        .w2 = (float)(1.0 - hp->beta2),
        .step_size = (float)(lr / bc1),
        .bc2_sqrt = (float)sqrt(bc2),
        .eps = (float)hp->eps,
    };
    return sc;
}

void vn_adamw_step(const vn_nn *nn, const vn_param_group *groups, int n_groups, double lr,
                   const vn_adamw_hparams *hp, int64_t step)
{
    VN_PROF(nn->prof, VN_PROF_ADAMW);
    double bc1 = 1.0 - pow(hp->beta1, (double)step), bc2 = 1.0 - pow(hp->beta2, (double)step);
    if (nn->dev) {
        for (int gi = 0; gi < n_groups; gi++) {
            const vn_param_group *g = &groups[gi];
            vn_adamw_scalars sc = adamw_scalars(g, lr, hp, bc1, bc2);
            vn_nn_record(nn->dev->adamw(nn->be->state, g->param, g->grad, g->m, g->v, g->n, &sc));
        }
        return;
    }
    int64_t *first = n_groups > 0 ? block_index(groups, n_groups) : NULL;
    if (first) {
        int64_t total = first[n_groups];
#pragma omp parallel for num_threads(nn->n_threads) schedule(static) if (total > 1)
        for (int64_t gb = 0; gb < total; gb++) {
            int gi = group_of(first, n_groups, gb);
            const vn_param_group *g = &groups[gi];
            vn_adamw_scalars sc = adamw_scalars(g, lr, hp, bc1, bc2);
            int64_t lo = (gb - first[gi]) * OPT_BLOCK, hi = lo + OPT_BLOCK < g->n ? lo + OPT_BLOCK : g->n;
            adamw_range(g, &sc, lo, hi);
        }
        free(first);
        return;
    }
    for (int gi = 0; gi < n_groups; gi++) {
        const vn_param_group *g = &groups[gi];
        vn_adamw_scalars sc = adamw_scalars(g, lr, hp, bc1, bc2);
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
    VN_PROF(nn->prof, VN_PROF_GRAD_CLIP);
    if (nn->dev)
        return clip_on_device(nn, groups, n_groups, max_norm);
    double total = 0.0;
    int64_t n_all = 0;
    for (int gi = 0; gi < n_groups; gi++)
        n_all += groups[gi].n;
    /* every group's chunks in one parallel region; the partials are then summed in the
     * fixed group and chunk order, as the group-by-group fallback does */
    double *part = n_groups > 0 ? malloc((size_t)n_groups * NORM_CHUNKS * sizeof *part) : NULL;
    if (part) {
        int64_t items = (int64_t)n_groups * NORM_CHUNKS;
#pragma omp parallel for num_threads(nn->n_threads) schedule(dynamic, 8) if (n_all >= VN_NN_PAR_MIN)
        for (int64_t it = 0; it < items; it++) {
            const vn_param_group *g = &groups[it / NORM_CHUNKS];
            int64_t c = it % NORM_CHUNKS;
            part[it] = sumsq_range(g->grad, g->n * c / NORM_CHUNKS, g->n * (c + 1) / NORM_CHUNKS);
        }
        for (int64_t it = 0; it < items; it++)
            total += part[it];
        free(part);
    } else {
        for (int gi = 0; gi < n_groups; gi++) {
            const vn_param_group *g = &groups[gi];
            double gp[NORM_CHUNKS];
#pragma omp parallel for num_threads(nn->n_threads) schedule(static) if (g->n >= VN_NN_PAR_MIN)
            for (int c = 0; c < NORM_CHUNKS; c++)
                gp[c] = sumsq_range(g->grad, g->n * c / NORM_CHUNKS, g->n * (c + 1) / NORM_CHUNKS);
            for (int c = 0; c < NORM_CHUNKS; c++)
                total += gp[c];
        }
    }
    double norm = sqrt(total);
    double coef = max_norm / (norm + 1e-6);
    if (coef < 1.0) {
        float cf = (float)coef;
        int64_t *first = n_groups > 0 ? block_index(groups, n_groups) : NULL;
        if (first) {
            int64_t nb = first[n_groups];
#pragma omp parallel for num_threads(nn->n_threads) schedule(static) if (n_all >= VN_NN_PAR_MIN)
            for (int64_t gb = 0; gb < nb; gb++) {
                int gi = group_of(first, n_groups, gb);
                float *gr = groups[gi].grad;
                int64_t lo = (gb - first[gi]) * OPT_BLOCK, n = groups[gi].n;
                int64_t hi = lo + OPT_BLOCK < n ? lo + OPT_BLOCK : n;
                for (int64_t i = lo; i < hi; i++)
                    gr[i] *= cf;
            }
            free(first);
        } else {
            for (int gi = 0; gi < n_groups; gi++) {
                float *gr = groups[gi].grad;
                int64_t n = groups[gi].n;
#pragma omp parallel for num_threads(nn->n_threads) schedule(static) if (n >= VN_NN_PAR_MIN)
                for (int64_t i = 0; i < n; i++)
                    gr[i] *= cf;
            }
        }
    }
    return norm;
}
