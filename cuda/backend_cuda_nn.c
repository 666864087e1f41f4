/*
 * backend_cuda_nn.c: the cuda backend's engine table. Every entry has a kernel (or a
 * cuBLAS call) behind it; none copies to the host.
 */
#include "cuda_nn.h"

const vn_backend_nn vn_cuda_nn = {
    .fill = vn_cuda_nn_fill,
    .copy = vn_cuda_nn_copy,
    .gather_rows = vn_cuda_nn_gather_rows,
    .scatter_add_rows = vn_cuda_nn_scatter_add_rows,
    .bias_grad = vn_cuda_nn_bias_grad,
    .layernorm_forward = vn_cuda_nn_layernorm_forward,
    .layernorm_backward = vn_cuda_nn_layernorm_backward,
    .gelu_forward = vn_cuda_nn_gelu_forward,
    .gelu_backward = vn_cuda_nn_gelu_backward,
    .softmax_forward = vn_cuda_nn_softmax_forward,
    .softmax_backward = vn_cuda_nn_softmax_backward,
    .meanpool_forward = vn_cuda_nn_meanpool_forward,
    .meanpool_backward = vn_cuda_nn_meanpool_backward,
    .l2norm_forward = vn_cuda_nn_l2norm_forward,
    .l2norm_backward = vn_cuda_nn_l2norm_backward,
    .unfold = vn_cuda_nn_unfold,
    .pos_add = vn_cuda_nn_pos_add,
    .pos_add_backward = vn_cuda_nn_pos_add_backward,
    .attention_forward = vn_cuda_nn_attention_forward,
    .attention_backward = vn_cuda_nn_attention_backward,
    .group_temporal = vn_cuda_nn_group_temporal,
    .ungroup_temporal = vn_cuda_nn_ungroup_temporal,
    .attnpool_forward = vn_cuda_nn_attnpool_forward,
    .attnpool_backward = vn_cuda_nn_attnpool_backward,
    .bce_logits = vn_cuda_nn_bce_logits,
    .softmax_ce = vn_cuda_nn_softmax_ce,
    .infonce = vn_cuda_nn_infonce,
    .ln_target = vn_cuda_nn_ln_target,
    .adamw = vn_cuda_nn_adamw,
    .sumsq = vn_cuda_nn_sumsq,
    .clip_scale = vn_cuda_nn_clip_scale,
    .ema = vn_cuda_nn_ema,};
