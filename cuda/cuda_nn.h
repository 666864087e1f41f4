/*
 * cuda_nn.h: the cuda backend's engine ops (backend_nn.h), one function per table
 * entry. The memory, dense and embedding ops are in nn_dense.c (kernels in kernels_nn.cu,
 * launchers in kernels_nn.h); attention, losses and the optimizer in nn_attention.c,
 * nn_loss.c and nn_optim.c (kernels in kernels_attention.cu, kernels_loss.cu and
 * kernels_optim.cu, launchers in kernels_train.h).
 */
#ifndef VN_CUDA_NN_H
#define VN_CUDA_NN_H

#include "cuda_state.h"

vn_status vn_cuda_nn_fill(vn_backend_state *st, float *x, int64_t n, float value);
vn_status vn_cuda_nn_copy(vn_backend_state *st, float *dst, const float *src, int64_t n);
vn_status vn_cuda_nn_gather_rows(vn_backend_state *st, float *dst, const float *src, const int32_t *idx, int64_t
                 rows, int64_t width);
vn_status vn_cuda_nn_scatter_add_rows(vn_backend_state *st, float *dst, const float *src, const int32_t *idx, int64_t
                 rows, int64_t width);
vn_status vn_cuda_nn_bias_grad(vn_backend_state *st, float *db, const float *dout, int64_t N, int64_t OC);
vn_status vn_cuda_nn_layernorm_forward(vn_backend_state *st, float *out, float *mean, float *rstd, const float *inp,
                 const float *w, const float *b, int64_t N, int64_t C);
vn_status vn_cuda_nn_layernorm_backward(vn_backend_state *st, float *dinp, float *dw, float *db, const float *dout,
                 const float *inp, const float *w, const float *mean, const float *rstd, int64_t N, int64_t C);
vn_status vn_cuda_nn_gelu_forward(vn_backend_state *st, float *out, const float *inp, int64_t n);
vn_status vn_cuda_nn_gelu_backward(vn_backend_state *st, float *dinp, const float *inp, const float *dout, int64_t n);
vn_status vn_cuda_nn_softmax_forward(vn_backend_state *st, float *out, const float *inp, int64_t N, int64_t C);
vn_status vn_cuda_nn_softmax_backward(vn_backend_state *st, float *dinp, const float *out, const float *dout, int64_t
                 N, int64_t C);
vn_status vn_cuda_nn_meanpool_forward(vn_backend_state *st, float *out, const float *inp, int64_t B, int64_t T,
                 int64_t C);
vn_status vn_cuda_nn_meanpool_backward(vn_backend_state *st, float *dinp, const float *dout, int64_t B, int64_t T,
                 int64_t C);
vn_status vn_cuda_nn_l2norm_forward(vn_backend_state *st, float *y, float *norm, const float *x, int64_t N, int64_t
                 D);
vn_status vn_cuda_nn_l2norm_backward(vn_backend_state *st, float *dx, const float *dy, const float *y, const float
*norm, int64_t N, int64_t D);
vn_status vn_cuda_nn_unfold(vn_backend_state *st, float *patches, const float *clips, const int32_t *keep, int64_t
                 nk, int64_t B, int64_t Ch, int64_t Fr, int64_t H, int64_t W, int64_t tt, int64_t p);
vn_status vn_cuda_nn_pos_add(vn_backend_state *st, float *out, const float *inp, const float *pos, const int32_t
*pos_idx, int64_t rows, int64_t L, int64_t C);
vn_status vn_cuda_nn_pos_add_backward(vn_backend_state *st, float *dinp, float *dpos, const float *dout, const
                 int32_t *pos_idx, int64_t rows, int64_t L, int64_t C);
vn_status vn_cuda_nn_attention_forward(vn_backend_state *st, float *out, float *lse, const float *qkv, int64_t B,
                 int64_t T, int64_t C, int64_t NH);
vn_status vn_cuda_nn_attention_backward(vn_backend_state *st, float *dqkv, const float *dout, const float *qkv, const
                 float *out, const float *lse, int64_t B, int64_t T, int64_t C, int64_t NH);
vn_status vn_cuda_nn_group_temporal(vn_backend_state *st, float *dst, const float *src, int64_t B, int64_t F, int64_t
                 S, int64_t W);
vn_status vn_cuda_nn_ungroup_temporal(vn_backend_state *st, float *dst, const float *src, int64_t B, int64_t F,
                 int64_t S, int64_t W, int accumulate);
vn_status vn_cuda_nn_attnpool_forward(vn_backend_state *st, float *out, float *attn, const float *inp, const float
*query, int64_t B, int64_t T, int64_t C);
vn_status vn_cuda_nn_attnpool_backward(vn_backend_state *st, float *dinp, float *dquery, const float *dout, const
                 float *inp, const float *query, const float *attn, int64_t B, int64_t T, int64_t C);
vn_status vn_cuda_nn_bce_logits(vn_backend_state *st, float *loss, float *dlogits, const float *logits, const float
*targets, int64_t N, float dloss);
vn_status vn_cuda_nn_softmax_ce(vn_backend_state *st, float *loss, float *dlogits, const float *logits, const int32_t
*labels, int64_t N, int64_t K, float dloss);
vn_status vn_cuda_nn_infonce(vn_backend_state *st, float *loss, float *dq, float *dk, const float *q, const float *k,
                 const int32_t *pos, int64_t N, int64_t M, int64_t D, float tau, float dloss, float *scratch);
vn_status vn_cuda_nn_ln_target(vn_backend_state *st, int mse, float *loss, float *dpred, const float *pred, const
                 float *target, int64_t N, int64_t C, float dloss, float *scratch);
vn_status vn_cuda_nn_adamw(vn_backend_state *st, float *param, const float *grad, float *m, float *v, int64_t n,
                 const vn_adamw_scalars *sc);
vn_status vn_cuda_nn_sumsq(vn_backend_state *st, double *acc, const float *x, int64_t n);
vn_status vn_cuda_nn_clip_scale(vn_backend_state *st, float *x, int64_t n, const double *sumsq, double max_norm);
vn_status vn_cuda_nn_ema(vn_backend_state *st, float *t, const float *o, int64_t n, float m);
#endif
