/*
 * ops_fused.c: the fused and overwriting variants of ops.h. On the host each runs a
 * kernel of ops_dense.c or ops_gelu.c that shares its arithmetic with the plain ops
 * there, so the bits agree (tests/test_nn_ops.c checks each against its sequence); on a
 * device vn_nn each runs the equivalent sequence of plain ops, that is, of engine table
 * calls.
 */
#include "nn/ops.h"
#include "core/profile.h"

#include "backend/backend_nn.h"
#include "nn/ops_internal.h"

void vn_linear_backward_set(const vn_nn *nn, float *dinp, float *dw, float *db, const float *dout, const float *inp,
                            const float *w, int64_t N, int64_t IC, int64_t OC)
{
    {
        VN_PROF(nn->prof, VN_PROF_LINEAR_BWD);
        if (dinp) {
            /* dinp[N, IC] = dout[N, OC] @ W[OC, IC] */
            vn_gemm_desc d = vn_gemm_desc_plain(0, 0, N, IC, OC);
            vn_nn_gemm(nn, &d, dout, w, NULL, dinp);
        }
    }
    vn_linear_backward(nn, NULL, dw, db, dout, inp, w, N, IC, OC);
}

static float *gelu_backward_fused(const vn_nn *nn, float *dh, float *dout, float *db, const float *hg, int64_t N,
                                  int64_t OC, int saved)
{
    if (nn->dev) {
        vn_nn_zero(nn, dh, N * OC);
        vn_gelu_backward(nn, dh, hg, dout, N * OC);
        if (db)
            vn_bias_grad(nn, db, dh, N, OC);
        return dh;
    }
    VN_PROF(nn->prof, VN_PROF_GELU_BWD);
    if (N > 0 && OC > 0)
        vn_nn_gelu_backward_bias_host(nn, dout, db, hg, dout, N, OC, saved);
    return dout;
}

float *vn_gelu_backward_bias(const vn_nn *nn, float *dh, float *dout, float *db, const float *h, int64_t N,
                             int64_t OC)
{
    return gelu_backward_fused(nn, dh, dout, db, h, N, OC, 0);
}

float *vn_gelu_backward_saved(const vn_nn *nn, float *dh, float *dout, float *db, const float *hg, int64_t N,
                              int64_t OC)
{
    /* on a device hg is h: the plain backward */
    return gelu_backward_fused(nn, dh, dout, db, hg, N, OC, 1);
}

void vn_linear_gelu_forward_train(const vn_nn *nn, float *hg, float *g, const float *inp, const float *w,
                                  const float *b, int64_t N, int64_t IC, int64_t OC)
{
    if (nn->dev) {
        vn_linear_gelu_forward(nn, hg, g, inp, w, b, N, IC, OC);
        return;
    }
    vn_linear_forward(nn, hg, inp, w, b, N, IC, OC);
    VN_PROF(nn->prof, VN_PROF_GELU_FWD);
    vn_nn_gelu_forward_grad_host(nn, g, hg, N * OC);
}

void vn_layernorm_backward_bias(const vn_nn *nn, float *dinp, float *dw, float *db, const float *dout,
                                const float *inp, const float *w, const float *mean, const float *rstd, int64_t N,
                                int64_t C, float *dnext)
{
    if (nn->dev || !dinp) {
        vn_layernorm_backward(nn, dinp, dw, db, dout, inp, w, mean, rstd, N, C);
        if (dnext && dinp)
            vn_bias_grad(nn, dnext, dinp, N, C);
        return;
    }
    VN_PROF(nn->prof, VN_PROF_LAYERNORM_BWD);
    vn_nn_ln_backward_host(nn, dinp, dw, db, dout, inp, w, mean, rstd, N, C, dnext);
}

void vn_residual_layernorm_forward(const vn_nn *nn, float *out, float *ln, float *mean, float *rstd, const float *a,
                                   const float *b, const float *w, const float *bias, int64_t N, int64_t C)
{
    if (nn->dev) {
        vn_residual_forward(nn, out, a, b, N * C);
        vn_layernorm_forward(nn, ln, mean, rstd, out, w, bias, N, C);
        return;
    }
    VN_PROF(nn->prof, VN_PROF_LAYERNORM_FWD);
    vn_nn_residual_ln_host(nn, out, ln, mean, rstd, a, b, w, bias, N, C);
}
