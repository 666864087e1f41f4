/*
 * nn_dense.c: the cuda backend's memory, dense and embedding engine ops (cuda_nn.h),
 * each a launch of a kernel in kernels_nn.cu (or one async copy) on the context's
 * stream. None synchronises; launch errors come back as a status, faults inside a
 * kernel at the next synchronisation.
 */
#include "cuda_nn.h"

#include "kernels_nn.h"

/* Empty work returns before touching the device: a zero-block grid is a launch error,
 * and there is nothing to do. Otherwise the context's device is made current first. */
#define ENTER(st, empty)                                \
    do {                                                \
        if (empty)                                      \
            return VN_OK;                               \
        vn_status enter_s_ = vn_cuda_use_device(st);    \
        if (enter_s_ != VN_OK)                          \
            return enter_s_;                            \
    } while (0)

/* ---- memory -------------------------------------------------------------------------- */

vn_status vn_cuda_nn_fill(vn_backend_state *st, float *x, int64_t n, float value)
{
    ENTER(st, n <= 0);
    return vn_cuda_launched(vn_cuda_launch_fill(st->stream, x, n, value), "fill kernel launch");
}

vn_status vn_cuda_nn_copy(vn_backend_state *st, float *dst, const float *src, int64_t n)
{
    ENTER(st, n <= 0);
    cudaError_t e = cudaMemcpyAsync(dst, src, (size_t)n * sizeof(float), cudaMemcpyDeviceToDevice, st->stream);
    return e == cudaSuccess ? VN_OK : vn_cuda_fail(e, "copy (cudaMemcpyAsync)");
}

vn_status vn_cuda_nn_gather_rows(vn_backend_state *st, float *dst, const float *src, const int32_t *idx, int64_t rows,
                                 int64_t width)
{
    ENTER(st, rows <= 0 || width <= 0);
    return vn_cuda_launched(vn_cuda_launch_gather_rows(st->stream, dst, src, idx, rows, width),
                            "gather_rows kernel launch");
}

vn_status vn_cuda_nn_scatter_add_rows(vn_backend_state *st, float *dst, const float *src, const int32_t *idx,
                                      int64_t rows, int64_t width)
{
    ENTER(st, rows <= 0 || width <= 0);
    return vn_cuda_launched(vn_cuda_launch_scatter_add_rows(st->stream, dst, src, idx, rows, width),
                            "scatter_add_rows kernel launch");
}

/* ---- dense ----------------------------------------------------------------------------- */

vn_status vn_cuda_nn_bias_grad(vn_backend_state *st, float *db, const float *dout, int64_t N, int64_t OC)
{
    /* No rows add nothing: db += 0 is the identity. */
    ENTER(st, !db || N <= 0 || OC <= 0);
    return vn_cuda_launched(vn_cuda_launch_bias_grad(st->stream, db, dout, N, OC), "bias_grad kernel launch");
}

vn_status vn_cuda_nn_layernorm_forward(vn_backend_state *st, float *out, float *mean, float *rstd, const float *inp,
                                       const float *w, const float *b, int64_t N, int64_t C)
{
    ENTER(st, N <= 0 || C <= 0);
    return vn_cuda_launched(vn_cuda_launch_layernorm_forward(st->stream, out, mean, rstd, inp, w, b, N, C),
                            "layernorm_forward kernel launch");
}

vn_status vn_cuda_nn_layernorm_backward(vn_backend_state *st, float *dinp, float *dw, float *db, const float *dout,
                                        const float *inp, const float *w, const float *mean, const float *rstd,
                                        int64_t N, int64_t C)
{
    ENTER(st, (!dinp && !dw && !db) || N <= 0 || C <= 0);
    return vn_cuda_launched(
        vn_cuda_launch_layernorm_backward(st->stream, dinp, dw, db, dout, inp, w, mean, rstd, N, C),
        "layernorm_backward kernel launch");
}

vn_status vn_cuda_nn_gelu_forward(vn_backend_state *st, float *out, const float *inp, int64_t n)
{
    ENTER(st, n <= 0);
    return vn_cuda_launched(vn_cuda_launch_gelu_forward(st->stream, out, inp, n), "gelu_forward kernel launch");
}

vn_status vn_cuda_nn_gelu_backward(vn_backend_state *st, float *dinp, const float *inp, const float *dout, int64_t n)
{
    ENTER(st, !dinp || n <= 0);
    return vn_cuda_launched(vn_cuda_launch_gelu_backward(st->stream, dinp, inp, dout, n),
                            "gelu_backward kernel launch");
}

vn_status vn_cuda_nn_softmax_forward(vn_backend_state *st, float *out, const float *inp, int64_t N, int64_t C)
{
    ENTER(st, N <= 0 || C <= 0);
    return vn_cuda_launched(vn_cuda_launch_softmax_forward(st->stream, out, inp, N, C),
                            "softmax_forward kernel launch");
}

vn_status vn_cuda_nn_softmax_backward(vn_backend_state *st, float *dinp, const float *out, const float *dout,
                                      int64_t N, int64_t C)
{
    ENTER(st, !dinp || N <= 0 || C <= 0);
    return vn_cuda_launched(vn_cuda_launch_softmax_backward(st->stream, dinp, out, dout, N, C),
                            "softmax_backward kernel launch");
}

vn_status vn_cuda_nn_meanpool_forward(vn_backend_state *st, float *out, const float *inp, int64_t B, int64_t T,
                                      int64_t C)
{
    /* T = 0 still runs: the mean of nothing is NaN, as on the host. */
    ENTER(st, B <= 0 || C <= 0 || T < 0);
    return vn_cuda_launched(vn_cuda_launch_meanpool_forward(st->stream, out, inp, B, T, C),
                            "meanpool_forward kernel launch");
}

vn_status vn_cuda_nn_meanpool_backward(vn_backend_state *st, float *dinp, const float *dout, int64_t B, int64_t T,
                                       int64_t C)
{
    ENTER(st, !dinp || B <= 0 || T <= 0 || C <= 0);
    return vn_cuda_launched(vn_cuda_launch_meanpool_backward(st->stream, dinp, dout, B, T, C),
                            "meanpool_backward kernel launch");
}

vn_status vn_cuda_nn_l2norm_forward(vn_backend_state *st, float *y, float *norm, const float *x, int64_t N, int64_t D)
{
    ENTER(st, N <= 0 || D <= 0);
    return vn_cuda_launched(vn_cuda_launch_l2norm_forward(st->stream, y, norm, x, N, D),
                            "l2norm_forward kernel launch");
}

vn_status vn_cuda_nn_l2norm_backward(vn_backend_state *st, float *dx, const float *dy, const float *y,
                                     const float *norm, int64_t N, int64_t D)
{
    ENTER(st, !dx || N <= 0 || D <= 0);
    return vn_cuda_launched(vn_cuda_launch_l2norm_backward(st->stream, dx, dy, y, norm, N, D),
                            "l2norm_backward kernel launch");
}

/* ---- embeddings ------------------------------------------------------------------------ */

vn_status vn_cuda_nn_unfold(vn_backend_state *st, float *patches, const float *clips, const int32_t *keep, int64_t nk,
                            int64_t B, int64_t Ch, int64_t Fr, int64_t H, int64_t W, int64_t tt, int64_t p)
{
    /* Frames past the last whole tubelet and pixels past the last whole patch are
     * dropped, as on the host; a clip without one whole tubelet has no rows. */
    ENTER(st, tt <= 0 || p <= 0 || nk <= 0 || B <= 0 || Ch <= 0 || Fr < tt || H < p || W < p);
    return vn_cuda_launched(vn_cuda_launch_unfold(st->stream, patches, clips, keep, nk, B, Ch, Fr, H, W, tt, p),
                            "unfold kernel launch");
}

vn_status vn_cuda_nn_pos_add(vn_backend_state *st, float *out, const float *inp, const float *pos,
                             const int32_t *pos_idx, int64_t rows, int64_t L, int64_t C)
{
    ENTER(st, rows <= 0 || C <= 0 || (!pos_idx && L <= 0));
    return vn_cuda_launched(vn_cuda_launch_pos_add(st->stream, out, inp, pos, pos_idx, rows, L, C),
                            "pos_add kernel launch");
}

vn_status vn_cuda_nn_pos_add_backward(vn_backend_state *st, float *dinp, float *dpos, const float *dout,
                                      const int32_t *pos_idx, int64_t rows, int64_t L, int64_t C)
{
    /* With no pos rows there is no dpos to accumulate into. */
    if (L <= 0)
        dpos = NULL;
    ENTER(st, (!dinp && !dpos) || rows <= 0 || C <= 0);
    return vn_cuda_launched(vn_cuda_launch_pos_add_backward(st->stream, dinp, dpos, dout, pos_idx, rows, L, C),
                            "pos_add_backward kernel launch");
}

/* ---- attention layout ------------------------------------------------------------------ */

vn_status vn_cuda_nn_group_temporal(vn_backend_state *st, float *dst, const float *src, int64_t B, int64_t F,
                                    int64_t S, int64_t W)
{
    ENTER(st, B <= 0 || F <= 0 || S <= 0 || W <= 0);
    return vn_cuda_launched(vn_cuda_launch_group_temporal(st->stream, dst, src, B, F, S, W),
                            "group_temporal kernel launch");
}

vn_status vn_cuda_nn_ungroup_temporal(vn_backend_state *st, float *dst, const float *src, int64_t B, int64_t F,
                                      int64_t S, int64_t W, int accumulate)
{
    ENTER(st, B <= 0 || F <= 0 || S <= 0 || W <= 0);
    return vn_cuda_launched(vn_cuda_launch_ungroup_temporal(st->stream, dst, src, B, F, S, W, accumulate),
                            "ungroup_temporal kernel launch");
}
