/*
 * kernels_nn.h: the launchers of the engine's memory, dense and embedding kernels
 * (kernels_nn.cu), called by nn_dense.c.
 *
 * Each launcher mirrors the vn_backend_nn entry of the same name (backend_nn.h has the
 * shapes and semantics; backward ops accumulate into their gradients), enqueues on the
 * given stream without synchronising, and returns the launch status
 * (cudaGetLastError). Every pointer is device memory, int32 index arrays included.
 *
 * Preconditions, checked by the callers: every size the work is counted in is >= 1
 * (no launcher is called for empty work, since a zero-block grid is a launch error),
 * and a gradient a launcher writes is not NULL unless its comment says it may be.
 * Index arrays are trusted: their values are in range, as backend_nn.h requires.
 *
 * No kernel uses floating-point atomics: every sum runs in an order fixed by the
 * shapes alone, so repeated runs give the same bits.
 */
#ifndef VN_CUDA_KERNELS_NN_H
#define VN_CUDA_KERNELS_NN_H

#include <stdint.h>

#include <cuda_runtime_api.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- memory ----------------------------------------------------------------------- */

cudaError_t vn_cuda_launch_fill(cudaStream_t stream, float *x, int64_t n, float value);
cudaError_t vn_cuda_launch_gather_rows(cudaStream_t stream, float *dst, const float *src, const int32_t *idx,
                                       int64_t rows, int64_t width);
cudaError_t vn_cuda_launch_scatter_add_rows(cudaStream_t stream, float *dst, const float *src, const int32_t *idx,
                                            int64_t rows, int64_t width);

/* ---- dense ------------------------------------------------------------------------ */

/* db += column sums of dout [N, OC], each summed in double. */
cudaError_t vn_cuda_launch_bias_grad(cudaStream_t stream, float *db, const float *dout, int64_t N, int64_t OC);
/* w and b may be NULL (scale 1, shift 0); so may mean and rstd (not stored). */
cudaError_t vn_cuda_launch_layernorm_forward(cudaStream_t stream, float *out, float *mean, float *rstd,
                                             const float *inp, const float *w, const float *b, int64_t N,
                                             int64_t C);
/* dinp, dw and db may each be NULL (skipped), w too (scale 1). */
cudaError_t vn_cuda_launch_layernorm_backward(cudaStream_t stream, float *dinp, float *dw, float *db,
                                              const float *dout, const float *inp, const float *w, const float *mean,
                                              const float *rstd, int64_t N, int64_t C);
cudaError_t vn_cuda_launch_gelu_forward(cudaStream_t stream, float *out, const float *inp, int64_t n);
cudaError_t vn_cuda_launch_gelu_backward(cudaStream_t stream, float *dinp, const float *inp, const float *dout,
                                         int64_t n);
cudaError_t vn_cuda_launch_softmax_forward(cudaStream_t stream, float *out, const float *inp, int64_t N, int64_t C);
cudaError_t vn_cuda_launch_softmax_backward(cudaStream_t stream, float *dinp, const float *out, const float *dout,
                                            int64_t N, int64_t C);
/* out[b, c] = mean over t of inp[b, t, c]; T may be 0 (the mean is then NaN, as on
 * the host). */
cudaError_t vn_cuda_launch_meanpool_forward(cudaStream_t stream, float *out, const float *inp, int64_t B, int64_t T,
                                            int64_t C);
cudaError_t vn_cuda_launch_meanpool_backward(cudaStream_t stream, float *dinp, const float *dout, int64_t B,
                                             int64_t T, int64_t C);
/* norm may be NULL (not stored). */
cudaError_t vn_cuda_launch_l2norm_forward(cudaStream_t stream, float *y, float *norm, const float *x, int64_t N,
                                          int64_t D);
cudaError_t vn_cuda_launch_l2norm_backward(cudaStream_t stream, float *dx, const float *dy, const float *y,
                                           const float *norm, int64_t N, int64_t D);

/* ---- embeddings ------------------------------------------------------------------- */

/* keep may be NULL (all positions; nk is then (H / p) * (W / p)). tt, p >= 1. */
cudaError_t vn_cuda_launch_unfold(cudaStream_t stream, float *patches, const float *clips, const int32_t *keep,
                                  int64_t nk, int64_t B, int64_t Ch, int64_t Fr, int64_t H, int64_t W, int64_t tt,
                                  int64_t p);
/* pos_idx may be NULL (row r % L, then L >= 1); out may alias inp. */
cudaError_t vn_cuda_launch_pos_add(cudaStream_t stream, float *out, const float *inp, const float *pos,
                                   const int32_t *pos_idx, int64_t rows, int64_t L, int64_t C);
/* dinp and dpos may each be NULL (skipped); L >= 1. A pos_idx value outside [0, L)
 * contributes nothing to dpos. */
cudaError_t vn_cuda_launch_pos_add_backward(cudaStream_t stream, float *dinp, float *dpos, const float *dout,
                                            const int32_t *pos_idx, int64_t rows, int64_t L, int64_t C);

/* ---- attention layout ------------------------------------------------------------- */

/* dst [B, S, F, W] = src [B, F, S, W] */
cudaError_t vn_cuda_launch_group_temporal(cudaStream_t stream, float *dst, const float *src, int64_t B, int64_t F,
                                          int64_t S, int64_t W);
/* dst [B, F, S, W] = (or += when accumulate) src [B, S, F, W] */
cudaError_t vn_cuda_launch_ungroup_temporal(cudaStream_t stream, float *dst, const float *src, int64_t B, int64_t F,
                                            int64_t S, int64_t W, int accumulate);

#ifdef __cplusplus
}
#endif

#endif
