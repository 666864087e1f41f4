#include "world_probe.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- features ------------------------------------------------------------------ */

int wp_frame_features(const uint8_t *clip, int T, int S, int C, double *out)
{
    double joint[64] = {0}, marg[3][8] = {{0}}, grid[4][4][3] = {{{0}}};
    size_t px = (size_t)S * (size_t)S;
    for (int t = 0; t < T; t++) {
        const uint8_t *f = clip + (size_t)t * px * (size_t)C;
        for (int y = 0; y < S; y++) {
            int gy = y * 4 / S;
            for (int x = 0; x < S; x++) {
                const uint8_t *p = f + ((size_t)y * (size_t)S + (size_t)x) * (size_t)C;
                int gx = x * 4 / S;
                if (C == 3)
                    joint[(p[0] >> 6) * 16 + (p[1] >> 6) * 4 + (p[2] >> 6)] += 1.0;
                else
                    joint[p[0] >> 4] += 1.0;
                for (int c = 0; c < C; c++) {
                    marg[c][p[c] >> 5] += 1.0;
                    grid[gy][gx][c] += p[c];
                }
            }
        }
    }
    int k = 0;
    double n = (double)T * (double)px, cell = (double)T * (double)px / 16.0 * 255.0;
    int bins = C == 3 ? 64 : 16;
    for (int b = 0; b < bins; b++)
        out[k++] = joint[b] / n;
    for (int c = 0; c < C; c++)
        for (int b = 0; b < 8; b++)
            out[k++] = marg[c][b] / n;
    for (int gy = 0; gy < 4; gy++)
        for (int gx = 0; gx < 4; gx++)
            for (int c = 0; c < C; c++)
                out[k++] = grid[gy][gx][c] / cell;
    return k;
}

static int cmp_u8(const void *a, const void *b)
{
    return (int)*(const uint8_t *)a - (int)*(const uint8_t *)b;
}

static double mean_of(const double *v, int n)
{
    double s = 0.0;
    for (int i = 0; i < n; i++)
        s += v[i];
    return n > 0 ? s / n : 0.0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Least-squares slope of v over 0..n-1. */
static double slope_of(const double *v, int n)
{
    double tm = (n - 1) / 2.0, num = 0.0, den = 0.0;
    for (int i = 0; i < n; i++) {
        num += (i - tm) * v[i];
        den += (i - tm) * (i - tm);
    }
    return den > 0 ? num / den : 0.0;
}

#define DIFF_THRESHOLD 20 /* 8-bit levels: about 3 sigma of the difference of two noisy frames */

int wp_temporal_features(const uint8_t *clip, int T, int S, int C, double *out)
{
    size_t px = (size_t)S * (size_t)S;
    uint8_t *luma = malloc((size_t)T * px), *bg = malloc(px), *col = malloc((size_t)T);
    double *e1 = calloc((size_t)T, sizeof *e1), *e2 = calloc((size_t)T, sizeof *e2);
    double *area = calloc((size_t)T, sizeof *area), *theta = calloc((size_t)T, sizeof *theta);
    for (int t = 0; t < T; t++)
        for (size_t i = 0; i < px; i++) {
            const uint8_t *p = clip + ((size_t)t * px + i) * (size_t)C;
            luma[(size_t)t * px + i] = C == 3 ? (uint8_t)((77 * p[0] + 150 * p[1] + 29 * p[2]) >> 8) : p[0];
        }
    /* The static background is the per-pixel temporal median. */
    for (size_t i = 0; i < px; i++) {
        for (int t = 0; t < T; t++)
            col[t] = luma[(size_t)t * px + i];
        qsort(col, (size_t)T, 1, cmp_u8);
        bg[i] = col[T / 2];
    }
    for (int t = 0; t < T; t++) {
        const uint8_t *f = luma + (size_t)t * px;
        int n1 = 0, n2 = 0, na = 0;
        double sx = 0.0, sy = 0.0;
        for (int y = 0; y < S; y++) {
            double ang = 6.283185307179586 * (y + 0.5) / S, cy = cos(ang), sn = sin(ang);
            for (int x = 0; x < S; x++) {
                size_t i = (size_t)y * (size_t)S + (size_t)x;
                if (t + 1 < T && abs((int)luma[(size_t)(t + 1) * px + i] - (int)f[i]) > DIFF_THRESHOLD)
                    n1++;
                if (t + 2 < T && abs((int)luma[(size_t)(t + 2) * px + i] - (int)f[i]) > DIFF_THRESHOLD)
                    n2++;
                int d = abs((int)f[i] - (int)bg[i]);
                if (d > DIFF_THRESHOLD) {
                    na++;
                    sx += d * cy;
                    sy += d * sn;
                }
            }
        }
        e1[t] = (double)n1 / px;
        e2[t] = (double)n2 / px;
        area[t] = (double)na / px;
        theta[t] = atan2(sy, sx);
    }
    /* Vertical motion of the foreground's circular centroid (the world may wrap). */
    double vel[4096], acc = 0.0, v_mean = 0.0;
    int nv = 0;
    for (int t = 1; t < T && nv < 4096; t++) {
        double d = theta[t] - theta[t - 1];
        while (d > 3.141592653589793)
            d -= 6.283185307179586;
        while (d < -3.141592653589793)
            d += 6.283185307179586;
        vel[nv++] = d / 6.283185307179586 * (T - 1); /* frames per clip */
    }
    for (int i = 0; i < nv; i++)
        v_mean += vel[i] / nv;
    acc = nv > 1 ? slope_of(vel, nv) * (T - 1) : 0.0;

    int n1 = T - 1, n2 = T > 2 ? T - 2 : 1;
    double m1 = mean_of(e1, n1), m2 = mean_of(e2, n2), ma = mean_of(area, T);
    double sorted[4096];
    int ns = n1 < 4096 ? n1 : 4096;
    memcpy(sorted, e1, (size_t)ns * sizeof *sorted);
    qsort(sorted, (size_t)ns, sizeof *sorted, cmp_double);
    double med = sorted[ns / 2], mx = sorted[ns - 1];
    const double eps = 1e-4;
    int k = 0;
    out[k++] = slope_of(e1, n1) * n1 / (m1 + 1e-3);      /* motion dying out or building up */
    out[k++] = log(m1 + eps);                           /* how much moves per frame */
    out[k++] = log(mx + eps) - log(med + eps);          /* a jump in the sequence */
    out[k++] = log(m2 + eps) - log(m1 + eps);           /* frames two apart differ more */
    out[k++] = log(ma + eps);                           /* how much foreground there is */
    out[k++] = slope_of(area, T) * T / (ma + 1e-3);     /* foreground growing or shrinking */
    out[k++] = acc;                                     /* vertical acceleration */
    out[k++] = v_mean;                                  /* vertical velocity */
    out[k++] = log(m1 + eps) - log(ma + eps);           /* motion relative to object size */
    free(luma);
    free(bg);
    free(col);
    free(e1);
    free(e2);
    free(area);
    free(theta);
    return k;
}

/* ---- logistic regression ------------------------------------------------------- */

/* Solve A x = b for a symmetric positive definite A (n x n) by Cholesky; A is overwritten. */
static int cholesky_solve(double *A, double *b, int n)
{
    for (int j = 0; j < n; j++) {
        double s = A[j * n + j];
        for (int k = 0; k < j; k++)
            s -= A[j * n + k] * A[j * n + k];
        if (s <= 0.0)
            return -1;
        double l = sqrt(s);
        A[j * n + j] = l;
        for (int i = j + 1; i < n; i++) {
            double t = A[i * n + j];
            for (int k = 0; k < j; k++)
                t -= A[i * n + k] * A[j * n + k];
            A[i * n + j] = t / l;
        }
    }
    for (int i = 0; i < n; i++) {
        double t = b[i];
        for (int k = 0; k < i; k++)
            t -= A[i * n + k] * b[k];
        b[i] = t / A[i * n + i];
    }
    for (int i = n - 1; i >= 0; i--) {
        double t = b[i];
        for (int k = i + 1; k < n; k++)
            t -= A[k * n + i] * b[k];
        b[i] = t / A[i * n + i];
    }
    return 0;
}

/* Newton's method on the mean log-loss + lambda/2 |w|^2 (the bias is not penalised).
 * x holds standardised rows; w has d + 1 entries, w[0] the bias. */
static void fit(const double *x, const int *y, const int *rows, int nr, int d, double lambda, double *w)
{
    int m = d + 1;
    double *g = malloc((size_t)m * sizeof *g), *H = malloc((size_t)m * (size_t)m * sizeof *H);
    double *z = malloc((size_t)m * sizeof *z);
    memset(w, 0, (size_t)m * sizeof *w);
    for (int iter = 0; iter < 40; iter++) {
        memset(g, 0, (size_t)m * sizeof *g);
        memset(H, 0, (size_t)m * (size_t)m * sizeof *H);
        for (int r = 0; r < nr; r++) {
            const double *xr = x + (size_t)rows[r] * (size_t)d;
            z[0] = 1.0;
            memcpy(z + 1, xr, (size_t)d * sizeof *z);
            double s = 0.0;
            for (int j = 0; j < m; j++)
                s += w[j] * z[j];
            double p = 1.0 / (1.0 + exp(-s)), q = p * (1.0 - p), e = p - y[rows[r]];
            for (int i = 0; i < m; i++) {
                g[i] += e * z[i];
                double qi = q * z[i];
                for (int j = 0; j <= i; j++)
                    H[i * m + j] += qi * z[j];
            }
        }
        for (int i = 0; i < m; i++) {
            g[i] /= nr;
            for (int j = 0; j <= i; j++) {
                H[i * m + j] /= nr;
                H[j * m + i] = H[i * m + j];
            }
        }
        for (int i = 1; i < m; i++) {
            g[i] += lambda * w[i];
            H[i * m + i] += lambda;
        }
        H[0] += 1e-9;
        if (cholesky_solve(H, g, m) != 0)
            break;
        double step = 0.0;
        for (int i = 0; i < m; i++) {
            w[i] -= g[i];
            step = fmax(step, fabs(g[i]));
        }
        if (step < 1e-9)
            break;
    }
    free(g);
    free(H);
    free(z);
}

static double accuracy(const double *x, const int *y, const int *rows, int nr, int d, const double *w)
{
    int ok = 0;
    for (int r = 0; r < nr; r++) {
        const double *xr = x + (size_t)rows[r] * (size_t)d;
        double s = w[0];
        for (int j = 0; j < d; j++)
            s += w[j + 1] * xr[j];
        ok += (s > 0.0) == (y[rows[r]] == 1);
    }
    return nr > 0 ? (double)ok / nr : 0.0;
}

wp_result wp_logreg_holdout(const double *x_raw, const int *y, int n, int d, int n_train)
{
    double *x = malloc((size_t)n * (size_t)d * sizeof *x);
    for (int j = 0; j < d; j++) {
        double mu = 0.0, var = 0.0;
        for (int i = 0; i < n_train; i++)
            mu += x_raw[(size_t)i * d + j] / n_train;
        for (int i = 0; i < n_train; i++) {
            double t = x_raw[(size_t)i * d + j] - mu;
            var += t * t / n_train;
        }
        double sd = sqrt(var);
        for (int i = 0; i < n; i++)
            x[(size_t)i * d + j] = sd > 1e-12 ? (x_raw[(size_t)i * d + j] - mu) / sd : 0.0;
    }
    static const double lambdas[] = {1e-3, 1e-2, 1e-1, 1.0};
    const int n_l = (int)(sizeof lambdas / sizeof lambdas[0]), folds = 3;
    int *rows = malloc((size_t)n * sizeof *rows), *val = malloc((size_t)n * sizeof *val);
    double *w = malloc((size_t)(d + 1) * sizeof *w);
    double best = -1.0, best_lambda = lambdas[0];
    for (int li = 0; li < n_l; li++) {
        double acc = 0.0;
        for (int f = 0; f < folds; f++) {
            /* Contiguous folds keep each (2k, 2k+1) pair together. */
            int lo = (n_train * f / folds) & ~1, hi = (n_train * (f + 1) / folds) & ~1;
            if (f == folds - 1)
                hi = n_train;
            int nr = 0, nv = 0;
            for (int i = 0; i < n_train; i++) {
                if (i >= lo && i < hi)
                    val[nv++] = i;
                else
                    rows[nr++] = i;
            }
            fit(x, y, rows, nr, d, lambdas[li], w);
            acc += accuracy(x, y, val, nv, d, w) / folds;
        }
        if (acc >= best) {
            best = acc;
            best_lambda = lambdas[li];
        }
    }
    wp_result res;
    for (int i = 0; i < n; i++)
        rows[i] = i;
    fit(x, y, rows, n_train, d, best_lambda, w);
    res.lambda = best_lambda;
    res.train_accuracy = accuracy(x, y, rows, n_train, d, w);
    res.heldout_accuracy = accuracy(x, y, rows + n_train, n - n_train, d, w);
    free(x);
    free(rows);
    free(val);
    free(w);
    return res;
}
