/*
 * kernels_train.h: the launchers of the training kernels, attention
 * (kernels_attention.cu), losses (kernels_loss.cu) and the optimizer
 * (kernels_optim.cu), for the engine table's nn_attention.c, nn_loss.c and nn_optim.c.
 *
 * As in cuda_kernels.h, launchers rather than kernels cross the C/C++ boundary. Each
 * enqueues on the given stream, does not synchronise, and returns the launch status
 * (cudaGetLastError). Every pointer is device memory. Sizes are int64 and may be 0
 * unless a comment says otherwise.
 */
#ifndef VN_CUDA_KERNELS_TRAIN_H
#define VN_CUDA_KERNELS_TRAIN_H

#include <stdint.h>

#include <cuda_runtime_api.h>

#include "cuda_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- deterministic reductions ---------------------------------------------------------
 * A reduction kernel runs vn_cuda_reduce_blocks(units, per_block) blocks: the partition
 * depends on the sizes only, never on the device, so a sum is bit-identical from run
 * to run. With a single block the kernel writes its result itself; with more, each
 * block leaves its sum in part[block] and one more single-block kernel adds those in
 * block order. part is the context's VN_CUDA_REDUCE_BLOCKS doubles of scratch
 * (cuda_kernels.h, st->partials), in use until that last kernel has run. */
#define VN_CUDA_REDUCE_MAX_BLOCKS VN_CUDA_REDUCE_BLOCKS
#define VN_CUDA_ELEMS_PER_BLOCK 16384 /* units of the elementwise sums (bce, sumsq) */
#define VN_CUDA_ROWS_PER_BLOCK 64     /* units of the row losses (softmax_ce, infonce, ln_target) */

static inline int64_t vn_cuda_reduce_blocks(int64_t units, int64_t per_block)
{
    int64_t b = (units + per_block - 1) / per_block;
    return b < 1 ? 1 : b > VN_CUDA_REDUCE_MAX_BLOCKS ? VN_CUDA_REDUCE_MAX_BLOCKS : b;
}

/* ---- attention (kernels_attention.cu) -------------------------------------------------- */

/* The largest head size (C / NH) the attention kernels take. */
#define VN_CUDA_ATTN_MAX_HS 128

/* vn_attention_forward on qkv [B, T, 3C]: out [B, T, C], lse [B, NH, T] (NULL: not
 * saved). C % NH == 0, C / NH <= VN_CUDA_ATTN_MAX_HS, all sizes >= 1. */
cudaError_t vn_cuda_launch_attention_forward(cudaStream_t stream, float *out, float *lse, const float *qkv,
                                             int64_t B, int64_t T, int64_t C, int64_t NH);

/* vn_attention_backward: dqkv [B, T, 3C] += the gradient. dsum is scratch for B * NH * T
 * floats (the rows' dout . out). Sizes as for the forward. */
cudaError_t vn_cuda_launch_attention_backward(cudaStream_t stream, float *dqkv, const float *dout,
                                              const float *qkv, const float *out, const float *lse, float *dsum,
                                              int64_t B, int64_t T, int64_t C, int64_t NH);

/* vn_attnpool_forward up to its weighted sum (which is a GEMM):
 * attn[b, t] = softmax over t of (query . inp[b, t]) / sqrt(C). B, T, C >= 1. */
cudaError_t vn_cuda_launch_attnpool_scores(cudaStream_t stream, float *attn, const float *inp, const float *query,
                                           int64_t B, int64_t T, int64_t C);

/* The per-token part of vn_attnpool_backward: ds[b, t] = a_t (dout_b . x_t - sum_u a_u
 * dout_b . x_u) / sqrt(C) into ds [B, T], and, with dinp, dinp[b, t] += a_t dout_b +
 * ds[b, t] query. dquery (sum over (b, t) of ds x_t) is left to a GEMM. B, T, C >= 1. */
cudaError_t vn_cuda_launch_attnpool_backward(cudaStream_t stream, float *dinp, float *ds, const float *dout,
                                             const float *inp, const float *query, const float *attn, int64_t B,
                                             int64_t T, int64_t C);

/* ---- losses (kernels_loss.cu) ------------------------------------------------------------
 * Each writes the mean loss to *loss (device memory) and adds dloss * d(mean loss) to the
 * gradient when it is not NULL. part: the reduction scratch above; units and per_block
 * are given per loss. The mean of nothing is NaN, as on the host. */

/* units: N elements, VN_CUDA_ELEMS_PER_BLOCK */
cudaError_t vn_cuda_launch_bce_logits(cudaStream_t stream, float *loss, float *dlogits, const float *logits,
                                      const float *targets, int64_t N, float dloss, double *part);

/* Softmax cross-entropy of rows x [N, K] against labels [N]. With g: g = scale * (softmax
 * - onehot), added to g when accumulate, stored otherwise (infonce's dL/dlogits); scale =
 * dloss / N. The loss is the mean over rows. units: N rows, VN_CUDA_ROWS_PER_BLOCK. */
cudaError_t vn_cuda_launch_softmax_ce(cudaStream_t stream, float *loss, float *g, int accumulate, const float *x,
                                      const int32_t *labels, int64_t N, int64_t K, float dloss, double *part);

/* L1 (mse 0) or MSE (mse 1) between pred [N, C] and LayerNorm(target) (eps 1e-5, no
 * affine), which is left in ln [N, C]; the mean is over N * C. units: N rows,
 * VN_CUDA_ROWS_PER_BLOCK. */
cudaError_t vn_cuda_launch_ln_target(cudaStream_t stream, int mse, float *loss, float *dpred, const float *pred,
                                     const float *target, float *ln, int64_t N, int64_t C, float dloss,
                                     double *part);

/* ---- optimizer (kernels_optim.cu) ---------------------------------------------------------- */

/* One AdamW step over n elements with the scalars of vn_adamw_scalars, in its order. */
cudaError_t vn_cuda_launch_adamw(cudaStream_t stream, int64_t n, float *param, const float *grad, float *m,
                                 float *v, float decay, float w1, float b2, float w2, float step_size,
                                 float bc2_sqrt, float eps);

/* *acc += sum x^2 over n elements in double. part: the reduction scratch (units: n
 * elements, VN_CUDA_ELEMS_PER_BLOCK). */
cudaError_t vn_cuda_launch_sumsq(cudaStream_t stream, int64_t n, const float *x, double *acc, double *part);

/* c = max_norm / (sqrt(*sumsq) + 1e-6), read on the device: x *= (float)c when c < 1. */
cudaError_t vn_cuda_launch_clip_scale(cudaStream_t stream, int64_t n, float *x, const double *sumsq,
                                      double max_norm);

/* t = m t + (1 - m) o over n elements, 1 - m rounded to float first. */
cudaError_t vn_cuda_launch_ema(cudaStream_t stream, int64_t n, float *t, const float *o, float m);

#ifdef __cplusplus
}
#endif

#endif
