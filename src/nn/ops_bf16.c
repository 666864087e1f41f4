/* ops_bf16.c: see ops_bf16.h. */
#include "nn/ops_bf16.h"
#include "core/profile.h"
#include "nn/ops_internal.h"

int vn_nn_bf16_act_ok(const vn_nn *nn)
{
    return nn && !nn->dev && nn->precision == VN_GEMM_BF16 && vn_be_supports(nn->be, VN_OP_GEMM_BF16_ACT);
}

void vn_layernorm_forward_bf16(const vn_nn *nn, uint16_t *out, const float *inp, const float *w, const float *b,
                               int64_t N, int64_t C)
{
    VN_PROF(nn->prof, VN_PROF_LAYERNORM_FWD);
    vn_nn_ln_bf16_host(nn, NULL, out, inp, NULL, w, b, N, C);
}

void vn_residual_layernorm_forward_bf16(const vn_nn *nn, float *out, uint16_t *ln, const float *a, const float *b,
                                        const float *w, const float *bias, int64_t N, int64_t C)
{
    VN_PROF(nn->prof, VN_PROF_LAYERNORM_FWD);
    vn_nn_ln_bf16_host(nn, out, ln, a, b, w, bias, N, C);
}

void vn_linear_forward_bf16_act(const vn_nn *nn, void *out, int out_bf16, const uint16_t *inp, const float *w,
                                const float *b, int64_t N, int64_t IC, int64_t OC, int gelu)
{
    VN_PROF(nn->prof, VN_PROF_LINEAR_FWD);
    vn_gemm_desc d = vn_gemm_desc_plain(0, 1, N, OC, IC);
    d.precision = VN_GEMM_BF16;
    d.epilogue = gelu ? VN_GEMM_EPI_GELU : VN_GEMM_EPI_NONE;
    VN_PROF_FLOPS(nn->prof, VN_PROF_GEMM, 2.0 * (double)N * (double)OC * (double)IC);
    vn_nn_record(vn_be_gemm_bf16_act(nn->be, &d, inp, w, b, out, out_bf16));
}
