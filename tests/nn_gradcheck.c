#include "nn_gradcheck.h"
#include "vn_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Central difference with the step actually taken, measured in double. */
static double central(float *x, double eps, vn_gradcheck_loss_fn loss, void *ctx)
{
    float x0 = *x;
    *x = (float)((double)x0 + eps);
    double hp = (double)*x - (double)x0;
    double lp = loss(ctx);
    *x = (float)((double)x0 - eps);
    double hm = (double)x0 - (double)*x;
    double lm = loss(ctx);
    *x = x0;
    return (lp - lm) / (hp + hm);
}

/* Richardson extrapolation of central differences at eps and eps/2: the eps^2 error
 * terms cancel, leaving O(eps^4), so ops with sharp curvature (softmax at a low
 * temperature) need no hand-tuned step. */
static double richardson(float *x, double eps, vn_gradcheck_loss_fn loss, void *ctx)
{
    double d1 = central(x, eps, loss, ctx);
    double d2 = central(x, 0.5 * eps, loss, ctx);
    return (4.0 * d2 - d1) / 3.0;
}

double vn_gradcheck(const char *label, const vn_gradcheck_input *inputs, int n_inputs, vn_gradcheck_loss_fn loss,
                    void *ctx, const vn_gradcheck_opts *opts)
{
    double eps = (opts && opts->eps > 0) ? opts->eps : 1e-2;
    int64_t max_checks = (opts && opts->max_checks > 0) ? opts->max_checks : 64;
    double floor_ = (opts && opts->floor > 0) ? opts->floor : 1e-6;
    int rich = opts && opts->richardson;
    double worst = 0.0;

    for (int k = 0; k < n_inputs; k++) {
        const vn_gradcheck_input *in = &inputs[k];
        int64_t count = in->n < max_checks ? in->n : max_checks;
        double diff2 = 0.0, num2 = 0.0, worst_abs = -1.0;
        int64_t worst_i = -1;
        double worst_a = 0.0, worst_n = 0.0;
        for (int64_t c = 0; c < count; c++) {
            /* Evenly spread so that every row and column of a matrix input is touched
             * in proportion, without a random subset that would change with count. */
            int64_t i = (int64_t)((double)c * (double)in->n / (double)count);
            double numeric = rich ? richardson(in->x + i, eps, loss, ctx) : central(in->x + i, eps, loss, ctx);
            double analytic = in->grad[i];
            double d = analytic - numeric;
            diff2 += d * d;
            num2 += numeric * numeric;
            if (fabs(d) > worst_abs) {
                worst_abs = fabs(d);
                worst_i = i;
                worst_a = analytic;
                worst_n = numeric;
            }
        }
        double norm = sqrt(num2);
        double rel = sqrt(diff2) / (norm > floor_ ? norm : floor_);
        printf("gradcheck %s d%s: rel %.3e over %lld of %lld (worst [%lld] analytic %.6e numeric %.6e)\n", label,
               in->name, rel, (long long)count, (long long)in->n, (long long)worst_i, worst_a, worst_n);
        if (rel > worst || isnan(rel))
            worst = isnan(rel) ? INFINITY : rel;
    }
    fflush(stdout);
    return worst;
}

double vn_gradcheck_dot(const float *out, const float *g, int64_t n)
{
    double s = 0.0;
    for (int64_t i = 0; i < n; i++)
        s += (double)out[i] * (double)g[i];
    return s;
}

double vn_rel_err(const char *label, const float *a, const float *b, int64_t n, double report_above)
{
    double diff2 = 0.0, ref2 = 0.0, worst = -1.0;
    int64_t worst_i = -1;
    int any_nan = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = (double)a[i] - (double)b[i];
        if (isnan(a[i]) != isnan(b[i]))
            any_nan = 1;
        diff2 += d * d;
        ref2 += (double)b[i] * b[i];
        if (fabs(d) > worst) {
            worst = fabs(d);
            worst_i = i;
        }
    }
    double rel = ref2 > 0 ? sqrt(diff2 / ref2) : sqrt(diff2);
    if (any_nan || isnan(rel))
        rel = INFINITY;
    if (rel > report_above && worst_i >= 0)
        printf("%s: rel err %.3e (worst [%lld] %.9g vs %.9g, n %lld)\n", label, rel, (long long)worst_i,
               (double)a[worst_i], (double)b[worst_i], (long long)n);
    fflush(stdout);
    return rel;
}

void vn_test_rng_seed(vn_test_rng *r, uint64_t seed)
{
    r->s = seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
}

/* splitmix64: tiny, and good enough for test data. */
static uint64_t next_u64(vn_test_rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double vn_test_uniform(vn_test_rng *r)
{
    return (double)(next_u64(r) >> 11) * 0x1.0p-53;
}

double vn_test_normal(vn_test_rng *r)
{
    double u1 = vn_test_uniform(r), u2 = vn_test_uniform(r);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

void vn_test_fill_uniform(vn_test_rng *r, float *x, int64_t n, float lo, float hi)
{
    for (int64_t i = 0; i < n; i++)
        x[i] = (float)(lo + (hi - lo) * vn_test_uniform(r));
}

void vn_test_fill_normal(vn_test_rng *r, float *x, int64_t n, float scale)
{
    for (int64_t i = 0; i < n; i++)
        x[i] = (float)(scale * vn_test_normal(r));
}

int64_t vn_test_randint(vn_test_rng *r, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(next_u64(r) % (uint64_t)(hi - lo + 1));
}

float *vn_test_zeros(int64_t n)
{
    return calloc((size_t)(n > 0 ? n : 1), sizeof(float));
}

float *vn_test_copy(const float *x, int64_t n)
{
    float *y = malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
    if (y && n > 0)
        memcpy(y, x, (size_t)n * sizeof(float));
    return y;
}

void env_open(nn_env *e, int threads)
{
    vn_backend_config cfg = {.n_threads = threads, .deterministic = 1, .device = 0, .seed = 1};
    VN_ASSERT_OK(vn_be_open(&e->be, VN_BACKEND_CPU, &cfg));
    e->nn = (vn_nn){.be = &e->be, .n_threads = threads, .deterministic = 1};
}
