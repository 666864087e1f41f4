/*
 * ops_bf16.h: the ops of an inference forward whose activations stay bf16 between the
 * layers that only feed GEMMs (norms into qkv and fc1, GELU into fc2, attention into
 * proj), so that no fp32 copy of them is written, read back and rounded by the GEMM.
 *
 * They exist for encoders at bf16 precision on the host (the cpu backend with
 * VN_OP_GEMM_BF16_ACT); vn_nn_bf16_act_ok says whether a vn_nn can run them. The values
 * are the fp32 ops' rounded to bf16 (round to nearest even), which is what the bf16
 * GEMMs would have rounded them to anyway; GELU is oneDNN's, fused into fc1's GEMM.
 */
#ifndef VN_NN_OPS_BF16_H
#define VN_NN_OPS_BF16_H

#include <stdint.h>

#include "nn/ops.h"

/* Host memory, bf16 GEMM precision, and a backend with gemm_bf16_act. */
int vn_nn_bf16_act_ok(const vn_nn *nn);

/* LayerNorm of inp [N, C] rounded to bf16 (no statistics kept). */
void vn_layernorm_forward_bf16(const vn_nn *nn, uint16_t *out, const float *inp, const float *w, const float *b,
                               int64_t N, int64_t C);

/* out = a + b, then ln = LayerNorm(out) rounded to bf16. */
void vn_residual_layernorm_forward_bf16(const vn_nn *nn, float *out, uint16_t *ln, const float *a, const float *b,
                                        const float *w, const float *bias, int64_t N, int64_t C);

/* out[N, OC] = inp[N, IC] @ w[OC, IC]^T + b with inp bf16; with gelu, GELU of that; out is
 * bf16 when out_bf16, else fp32. */
void vn_linear_forward_bf16_act(const vn_nn *nn, void *out, int out_bf16, const uint16_t *inp, const float *w,
                                const float *b, int64_t N, int64_t IC, int64_t OC, int gelu);

#endif
