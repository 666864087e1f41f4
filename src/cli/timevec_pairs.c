/* Time-vector pairs: world clips both ways, and the fit on one half, score on the other. */
#include "cli/timevec_pairs.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int vn_cli_timevec_pairs(const char *cmd, const vn_encoder *enc, const vn_world *world, vn_world_task task,
                         int64_t n, int batch, float *fwd, float *rev)
{
    int64_t L, D;
    vn_encoder_output_shape(enc, &L, &D);
    int *labels = malloc((size_t)n * sizeof *labels), *l2 = malloc((size_t)n * sizeof *l2), rc = 1;
    int64_t shape[2] = {n, D};
    vn_tensor tf, tr;
    vn_tensor_init(&tf, fwd, VN_DTYPE_F32, 2, shape);
    vn_tensor_init(&tr, rev, VN_DTYPE_F32, 2, shape);
    if (!labels || !l2) {
        fprintf(stderr, "vnative %s: out of memory\n", cmd);
        goto done;
    }
    if (vn_probe_embed_world(enc, world, task, 0, batch, 0, &tf, labels) != VN_OK ||
        vn_probe_embed_world(enc, world, task, 0, batch, VN_PROBE_EMBED_REVERSED, &tr, l2) != VN_OK) {
        fprintf(stderr, "\nvnative %s: %s\n", cmd, vn_last_error());
        goto done;
    }
    if (task == VN_TASK_AOT)
        for (int64_t i = 0; i < n; i++)
            if (labels[i] == 0)
                for (int64_t j = 0; j < D; j++) {
                    float x = fwd[i * D + j];
                    fwd[i * D + j] = rev[i * D + j];
                    rev[i * D + j] = x;
                }
    rc = 0;
done:
    free(labels);
    free(l2);
    return rc;
}

int vn_cli_timevec_fit_score(const char *cmd, const float *fwd, const float *rev, int64_t n, int64_t n_fit,
                             int64_t D, uint64_t seed, float *t, double *offset, vn_timevec_result *res,
                             double *normal_cos, double *proj)
{
    int64_t s_fit[2] = {n_fit, D}, s_test[2] = {n - n_fit, D};
    vn_tensor ff, fr, tf, tr;
    vn_tensor_init(&ff, (float *)fwd, VN_DTYPE_F32, 2, s_fit);
    vn_tensor_init(&fr, (float *)rev, VN_DTYPE_F32, 2, s_fit);
    vn_tensor_init(&tf, (float *)fwd + n_fit * D, VN_DTYPE_F32, 2, s_test);
    vn_tensor_init(&tr, (float *)rev + n_fit * D, VN_DTYPE_F32, 2, s_test);
    vn_timevec_options o = VN_TIMEVEC_OPTIONS_INIT;
    o.seed = seed;
    vn_timevec_result_init(res, VN_TIMEVEC_RESULT_VERSION);
    vn_linear_probe_options lo = VN_LINEAR_PROBE_OPTIONS_INIT;
    lo.seed = seed;
    float *normal = malloc((size_t)D * sizeof *normal);
    if (!normal) {
        fprintf(stderr, "vnative %s: out of memory\n", cmd);
        return 1;
    }
    if (vn_timevec_fit(&ff, &fr, t, offset) != VN_OK || vn_timevec_evaluate(t, *offset, &tf, &tr, &o, res) != VN_OK ||
        vn_timevec_probe_normal(&ff, &fr, &lo, normal) != VN_OK || vn_timevec_cosine(t, normal, D, normal_cos) != VN_OK ||
        (proj && (vn_timevec_project(t, &tf, proj) != VN_OK || vn_timevec_project(t, &tr, proj + (n - n_fit)) != VN_OK))) {
        fprintf(stderr, "\nvnative %s: %s\n", cmd, vn_last_error());
        free(normal);
        return 1;
    }
    free(normal);
    if (proj) {
        double shift = vn_cli_timevec_shift(t, *offset, D);
        for (int64_t i = 0; i < 2 * (n - n_fit); i++)
            proj[i] -= shift;
    }
    return 0;
}

double vn_cli_timevec_shift(const float *t, double offset, int64_t D)
{
    double s = 0.0;
    for (int64_t j = 0; j < D; j++)
        s += (double)t[j] * t[j];
    return s > 0.0 ? offset / sqrt(s) : 0.0;
}
