/*
 * linear.c: multinomial logistic regression fitted by L-BFGS in double precision, the
 * solver under the linear probe (linear_probe.c).
 *
 * Determinism does not depend on the thread count: the forward pass splits the rows
 * (each row's logits are computed whole by one thread), the gradient splits the feature
 * columns (each entry sums its rows in row order), and every sum across rows is taken
 * serially.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "probe/probe_internal.h"

#define LBFGS_MEMORY 10
#define ARMIJO_C1 1e-4
#define MAX_BACKTRACKS 40
/* Below this many multiply-adds a parallel region costs more than it saves (on a busy
 * machine a join can wait a whole scheduler slice). */
#define PAR_MIN (1 << 22)
/* Rows whose logits are computed together. */
#define ROW_GROUP 4
/* Columns of the gradient one thread owns at a time, rows per pass over them, and the
 * columns whose partial sums stay in registers. */
#define GRAD_COLS 64
#define GRAD_ROWS 256
#define GRAD_TILE 8

static inline double dot(const double *a, const double *b, int64_t n)
{
    double s = 0.0;
#pragma omp simd reduction(+ : s)
    for (int64_t j = 0; j < n; j++)
        s += a[j] * b[j];
    return s;
}

/* Logits of rows x .. x + (rows - 1) d (rows <= ROW_GROUP) into z[row][c]. Four rows
 * share each load of a class's weights; a short group repeats its first row, so every
 * row's logits take the same operations wherever it falls. */
static void logits(const double *params, int64_t d, int c, const double *x, int rows, double *z)
{
    const double *b = params + (int64_t)c * d;
    const double *x0 = x, *x1 = x + (rows > 1 ? d : 0), *x2 = x + (rows > 2 ? 2 * d : 0),
                 *x3 = x + (rows > 3 ? 3 * d : 0);
    for (int k = 0; k < c; k++) {
        const double *w = params + (int64_t)k * d;
        double a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0;
#pragma omp simd reduction(+ : a0, a1, a2, a3)
        for (int64_t j = 0; j < d; j++) {
            a0 += x0[j] * w[j];
            a1 += x1[j] * w[j];
            a2 += x2[j] * w[j];
            a3 += x3[j] * w[j];
        }
        const double a[ROW_GROUP] = {a0, a1, a2, a3};
        for (int r = 0; r < rows; r++)
            z[r * c + k] = b[k] + a[r];
    }
}

/* The arg max of z[0..c-1]; ties go to the lower class. */
static int argmax(const double *z, int c)
{
    int best = 0;
    for (int k = 1; k < c; k++)
        if (z[k] > z[best])
            best = k;
    return best;
}

/* The loss, and in rt the residual (softmax - onehot) / n that the gradient needs, stored
 * class-major (rt[k n + i]) so that the gradient reads each class's column contiguously. */
static double forward(const vn_logreg_problem *p, const double *params, double *rt, double *row_loss)
{
    const int64_t n = p->n, d = p->d, n_groups = (n + ROW_GROUP - 1) / ROW_GROUP;
    const int c = p->c;
    const double inv_n = 1.0 / (double)n;
#pragma omp parallel if (n * d * c >= PAR_MIN)
    {
        double z[ROW_GROUP * VN_PROBE_MAX_CLASSES];
#pragma omp for schedule(static)
        for (int64_t q = 0; q < n_groups; q++) {
            const int64_t i0 = q * ROW_GROUP;
            const int rows = n - i0 < ROW_GROUP ? (int)(n - i0) : ROW_GROUP;
            logits(params, d, c, p->x + i0 * d, rows, z);
            for (int r = 0; r < rows; r++) {
                const int64_t i = i0 + r;
                double *zi = z + r * c;
                double zmax = zi[0];
                for (int k = 1; k < c; k++)
                    zmax = fmax(zmax, zi[k]);
                double zy = zi[p->y[i]], sum = 0.0;
                for (int k = 0; k < c; k++) {
                    zi[k] = exp(zi[k] - zmax);
                    sum += zi[k];
                }
                row_loss[i] = zmax + log(sum) - zy;
                double inv = 1.0 / sum;
                for (int k = 0; k < c; k++)
                    rt[k * n + i] = (zi[k] * inv - (k == p->y[i])) * inv_n;
            }
        }
    }
    double loss = 0.0;
    for (int64_t i = 0; i < n; i++)
        loss += row_loss[i];
    loss *= inv_n;
    double w2 = 0.0;
    for (int64_t j = 0; j < (int64_t)c * d; j++)
        w2 += params[j] * params[j];
    return loss + 0.5 * p->wd * w2;
}

/* Two doubles: the width every x86-64 (SSE2) and AArch64 (NEON) target has, so GCC and
 * Clang keep it in one register without -march flags. */
typedef double pair2 __attribute__((vector_size(2 * sizeof(double))));

static inline pair2 load2(const double *p)
{
    pair2 v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* g0[j0 .. j0+7] (and g1 when r1) += the sum over rows i0 .. i1-1 of r[i] x[i][j0 .. j0+7],
 * the partial sums held in registers across the rows (left to itself, the compiler
 * vectorises across rows instead, with strided loads). */
static void grad_tile(const double *x, int64_t d, const double *r0, const double *r1, int64_t i0, int64_t i1,
                      int64_t j0, double *g0, double *g1)
{
    pair2 a[GRAD_TILE / 2] = {{0}}, b[GRAD_TILE / 2] = {{0}};
    const double *r1_ = r1 ? r1 : r0;
    for (int64_t i = i0; i < i1; i++) {
        const double *xi = x + i * d + j0;
        const double u = r0[i], v = r1_[i];
        for (int t = 0; t < GRAD_TILE / 2; t++) {
            const pair2 xv = load2(xi + 2 * t);
            a[t] += u * xv;
            b[t] += v * xv;
        }
    }
    for (int t = 0; t < GRAD_TILE / 2; t++) {
        g0[j0 + 2 * t] += a[t][0];
        g0[j0 + 2 * t + 1] += a[t][1];
        if (r1) {
            g1[j0 + 2 * t] += b[t][0];
            g1[j0 + 2 * t + 1] += b[t][1];
        }
    }
}

static void backward(const vn_logreg_problem *p, const double *params, const double *rt, double *grad)
{
    const int64_t n = p->n, d = p->d;
    const int c = p->c;
    const int64_t n_chunks = (d + GRAD_COLS - 1) / GRAD_COLS;
#pragma omp parallel for schedule(static) if (n * d * c >= PAR_MIN && n_chunks > 1)
    for (int64_t ch = 0; ch < n_chunks; ch++) {
        const int64_t j0 = ch * GRAD_COLS, j1 = j0 + GRAD_COLS < d ? j0 + GRAD_COLS : d;
        for (int k = 0; k < c; k++)
            memset(grad + k * d + j0, 0, (size_t)(j1 - j0) * sizeof *grad);
        /* Row blocks keep the block's slice of x in cache across the classes. */
        for (int64_t i0 = 0; i0 < n; i0 += GRAD_ROWS) {
            const int64_t i1 = i0 + GRAD_ROWS < n ? i0 + GRAD_ROWS : n;
            for (int k = 0; k < c; k += 2) {
                const double *r0 = rt + k * n, *r1 = k + 1 < c ? r0 + n : NULL;
                double *g0 = grad + k * d, *g1 = g0 + d;
                int64_t j = j0;
                for (; j + GRAD_TILE <= j1; j += GRAD_TILE)
                    grad_tile(p->x, d, r0, r1, i0, i1, j, g0, g1);
                for (; j < j1; j++)
                    for (int64_t i = i0; i < i1; i++) {
                        g0[j] += r0[i] * p->x[i * d + j];
                        if (r1)
                            g1[j] += r1[i] * p->x[i * d + j];
                    }
            }
        }
        for (int k = 0; k < c; k++)
            for (int64_t j = j0; j < j1; j++)
                grad[k * d + j] += p->wd * params[k * d + j];
    }
    double *gb = grad + (int64_t)c * d;
    for (int k = 0; k < c; k++) {
        gb[k] = 0.0;
        for (int64_t i = 0; i < n; i++)
            gb[k] += rt[k * n + i];
    }
}

double vn_logreg_loss_grad(const vn_logreg_problem *p, const double *params, double *grad)
{
    double *r = malloc((size_t)(p->n * p->c) * sizeof *r);
    double *row_loss = malloc((size_t)p->n * sizeof *row_loss);
    double f = NAN;
    if (r && row_loss) {
        f = forward(p, params, r, row_loss);
        if (grad)
            backward(p, params, r, grad);
    }
    free(r);
    free(row_loss);
    return f;
}

static double inf_norm(const double *v, int64_t n)
{
    double m = 0.0;
    for (int64_t j = 0; j < n; j++)
        m = fmax(m, fabs(v[j]));
    return m;
}

/* dir = -H g by the two-loop recursion over the stored pairs, oldest first in ring order. */
static void two_loop(const double *g, int64_t np, double *const *s, double *const *y, const double *rho,
                     int n_pairs, int newest, double gamma, double *alpha, double *dir)
{
    for (int64_t j = 0; j < np; j++)
        dir[j] = -g[j];
    for (int m = 0; m < n_pairs; m++) {
        int k = (newest - m + LBFGS_MEMORY) % LBFGS_MEMORY;
        alpha[k] = rho[k] * dot(s[k], dir, np);
        for (int64_t j = 0; j < np; j++)
            dir[j] -= alpha[k] * y[k][j];
    }
    for (int64_t j = 0; j < np; j++)
        dir[j] *= gamma;
    for (int m = n_pairs - 1; m >= 0; m--) {
        int k = (newest - m + LBFGS_MEMORY) % LBFGS_MEMORY;
        double beta = rho[k] * dot(y[k], dir, np);
        for (int64_t j = 0; j < np; j++)
            dir[j] += (alpha[k] - beta) * s[k][j];
    }
}

vn_status vn_logreg_fit(const vn_logreg_problem *p, int max_iter, double gtol, double ftol, double *params,
                        vn_logreg_info *info)
{
    const int64_t np = (int64_t)p->c * (p->d + 1);
    /* One block: r, row_loss, g, g_new, trial, dir, then the pairs s and y. */
    const size_t total = (size_t)(p->n * p->c + p->n + np * (4 + 2 * LBFGS_MEMORY));
    double *block = malloc(total * sizeof *block);
    if (!block)
        return vn_error(VN_ERR_OUT_OF_MEMORY, "vn_probe_linear: out of memory for an L-BFGS fit of %lld x %lld",
                        (long long)p->n, (long long)p->d);
    double *r = block, *row_loss = r + p->n * p->c, *g = row_loss + p->n, *g_new = g + np, *trial = g_new + np,
           *dir = trial + np;
    double *s[LBFGS_MEMORY], *y[LBFGS_MEMORY], rho[LBFGS_MEMORY], alpha[LBFGS_MEMORY];
    for (int m = 0; m < LBFGS_MEMORY; m++) {
        s[m] = dir + np * (1 + 2 * m);
        y[m] = s[m] + np;
    }
    int n_pairs = 0, newest = -1, it = 0, evals = 1;
    double gamma = 1.0;
    double f = forward(p, params, r, row_loss);
    backward(p, params, r, g);
    while (it < max_iter && inf_norm(g, np) >= gtol) {
        two_loop(g, np, s, y, rho, n_pairs, newest, gamma, alpha, dir);
        double gd = dot(g, dir, np);
        if (!(gd < 0.0)) { /* lost descent to rounding: forget the curvature */
            n_pairs = 0;
            for (int64_t j = 0; j < np; j++)
                dir[j] = -g[j];
            gd = -dot(g, g, np);
        }
        double t = n_pairs == 0 ? fmin(1.0, 1.0 / sqrt(-gd)) : 1.0, f_new = f;
        int accepted = 0;
        for (int bt = 0; bt < MAX_BACKTRACKS; bt++, t *= 0.5) {
            for (int64_t j = 0; j < np; j++)
                trial[j] = params[j] + t * dir[j];
            f_new = forward(p, trial, r, row_loss);
            evals++;
            if (isfinite(f_new) && f_new <= f + ARMIJO_C1 * t * gd) {
                accepted = 1;
                break;
            }
        }
        if (!accepted) /* no step lowers the loss any more: this is as good as it gets */
            break;
        backward(p, trial, r, g_new);
        it++;
        int k = (newest + 1) % LBFGS_MEMORY;
        double sy = 0.0, yy = 0.0;
        for (int64_t j = 0; j < np; j++) {
            s[k][j] = trial[j] - params[j];
            y[k][j] = g_new[j] - g[j];
            sy += s[k][j] * y[k][j];
            yy += y[k][j] * y[k][j];
        }
        /* Keep only pairs of positive curvature, so that H stays positive definite. */
        if (sy > DBL_EPSILON * yy && yy > 0.0) {
            rho[k] = 1.0 / sy;
            gamma = sy / yy;
            newest = k;
            if (n_pairs < LBFGS_MEMORY)
                n_pairs++;
        }
        double drop = f - f_new;
        memcpy(params, trial, (size_t)np * sizeof *params);
        memcpy(g, g_new, (size_t)np * sizeof *g);
        f = f_new;
        if (ftol > 0.0 && drop <= ftol * fmax(fmax(fabs(f), fabs(f + drop)), 1.0))
            break;
    }
    if (info) {
        info->iterations = it;
        info->evaluations = evals;
        info->loss = f;
        info->grad_inf = inf_norm(g, np);
    }
    free(block);
    return VN_OK;
}

void vn_logreg_score(const double *params, int64_t d, int c, const double *x, const int *y, int64_t n,
                     unsigned char *correct)
{
    const int64_t n_groups = (n + ROW_GROUP - 1) / ROW_GROUP;
#pragma omp parallel if (n * d * c >= PAR_MIN)
    {
        double z[ROW_GROUP * VN_PROBE_MAX_CLASSES];
#pragma omp for schedule(static)
        for (int64_t q = 0; q < n_groups; q++) {
            const int64_t i0 = q * ROW_GROUP;
            const int rows = n - i0 < ROW_GROUP ? (int)(n - i0) : ROW_GROUP;
            logits(params, d, c, x + i0 * d, rows, z);
            for (int r = 0; r < rows; r++)
                correct[i0 + r] = argmax(z + r * c, c) == y[i0 + r];
        }
    }
}
