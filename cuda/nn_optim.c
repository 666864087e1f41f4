/*
 * nn_optim.c: the cuda engine table's optimizer entries (kernels_optim.cu): AdamW, the
 * global gradient norm (sumsq, then clip_scale reading the sum on the device) and the
 * EMA of the JEPA target.
 */
#include "cuda_nn.h"
#include "kernels_train.h"

vn_status vn_cuda_nn_adamw(vn_backend_state *st, float *param, const float *grad, float *m, float *v, int64_t n,
                           const vn_adamw_scalars *sc)
{
    if (n == 0)
        return VN_OK;
    vn_status s = vn_cuda_use_device(st);
    if (s != VN_OK)
        return s;
    return vn_cuda_launched(vn_cuda_launch_adamw(st->stream, n, param, grad, m, v, sc->decay, sc->w1, sc->b2, sc->w2,
                                                 sc->step_size, sc->bc2_sqrt, sc->eps),
                            "adamw kernel launch");
}

vn_status vn_cuda_nn_sumsq(vn_backend_state *st, double *acc, const float *x, int64_t n)
{
    if (n == 0)
        return VN_OK;
    vn_status s = vn_cuda_use_device(st);
    if (s != VN_OK)
        return s;
    /* Large groups leave one partial sum per block in st->partials, which every
     * reduction of the context shares: op_lock keeps another thread's reduction from
     * being queued between the two passes. */
    pthread_mutex_lock(&st->op_lock);
    cudaError_t e = vn_cuda_launch_sumsq(st->stream, n, x, acc, st->partials);
    pthread_mutex_unlock(&st->op_lock);
    return vn_cuda_launched(e, "sumsq kernel launch");
}

vn_status vn_cuda_nn_clip_scale(vn_backend_state *st, float *x, int64_t n, const double *sumsq, double max_norm)
{
    if (n == 0)
        return VN_OK;
    vn_status s = vn_cuda_use_device(st);
    if (s != VN_OK)
        return s;
    return vn_cuda_launched(vn_cuda_launch_clip_scale(st->stream, n, x, sumsq, max_norm), "clip_scale kernel launch");
}

vn_status vn_cuda_nn_ema(vn_backend_state *st, float *t, const float *o, int64_t n, float m)
{
    if (n == 0)
        return VN_OK;
    vn_status s = vn_cuda_use_device(st);
    if (s != VN_OK)
        return s;
    return vn_cuda_launched(vn_cuda_launch_ema(st->stream, n, t, o, m), "ema kernel launch");
}
