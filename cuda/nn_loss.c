/*
 * nn_loss.c: the cuda engine table's losses (kernels_loss.cu, plus GEMMs for InfoNCE's
 * products). Each writes the mean loss into *loss on the device and adds
 * dloss * d(mean loss) to the gradients that are not NULL, as src/nn/ops_loss.c does on
 * the host. A loss over nothing (N = 0) is NaN there, 0 / 0, and is here too: the
 * caller downloads *loss after every loss, so it is always written.
 */
#include "cuda_nn.h"
#include "kernels_train.h"

/* The loss kernels' partial sums live in st->partials, which every reduction of the
 * context shares: op_lock is held while queueing, so that another thread's reduction
 * cannot land between a loss's two passes. */

vn_status vn_cuda_nn_bce_logits(vn_backend_state *st, float *loss, float *dlogits, const float *logits,
                                const float *targets, int64_t N, float dloss)
{
    vn_status s = vn_cuda_use_device(st);
    if (s != VN_OK)
        return s;
    pthread_mutex_lock(&st->op_lock);
    cudaError_t e = vn_cuda_launch_bce_logits(st->stream, loss, dlogits, logits, targets, N, dloss, st->partials);
    pthread_mutex_unlock(&st->op_lock);
    return vn_cuda_launched(e, "bce_logits kernel launch");
}

vn_status vn_cuda_nn_softmax_ce(vn_backend_state *st, float *loss, float *dlogits, const float *logits,
                                const int32_t *labels, int64_t N, int64_t K, float dloss)
{
    vn_status s = vn_cuda_use_device(st);
    if (s != VN_OK)
        return s;
    pthread_mutex_lock(&st->op_lock);
    cudaError_t e =
        vn_cuda_launch_softmax_ce(st->stream, loss, dlogits, 1, logits, labels, N, K, dloss, st->partials);
    pthread_mutex_unlock(&st->op_lock);
    return vn_cuda_launched(e, "softmax_ce kernel launch");
}

vn_status vn_cuda_nn_ln_target(vn_backend_state *st, int mse, float *loss, float *dpred, const float *pred,
                               const float *target, int64_t N, int64_t C, float dloss, float *scratch)
{
    vn_status s = vn_cuda_use_device(st);
    if (s != VN_OK)
        return s;
    pthread_mutex_lock(&st->op_lock);
    cudaError_t e = vn_cuda_launch_ln_target(st->stream, mse ? 1 : 0, loss, dpred, pred, target, scratch, N, C,
                                             dloss, st->partials);
    pthread_mutex_unlock(&st->op_lock);
    return vn_cuda_launched(e, "ln_target kernel launch");
}

/*
 * scratch[N, M] = q k^T / tau, the cross-entropy of its rows against pos, then
 * dq += G k / tau and dk += G^T q / tau with G = dL/d(scratch). backend_nn.h promises
 * the similarities in scratch on return, so G, which the host op writes over them, gets
 * a buffer of its own, from the arena: it goes back once the GEMMs reading it are queued,
 * since the arena reuses a buffer only for work queued later on the same stream.
 */
vn_status vn_cuda_nn_infonce(vn_backend_state *st, float *loss, float *dq, float *dk, const float *q, const float *k,
                             const int32_t *pos, int64_t N, int64_t M, int64_t D, float tau, float dloss,
                             float *scratch)
{
    vn_status s = vn_cuda_use_device(st);
    if (s != VN_OK)
        return s;
    const int nonempty = N > 0 && M > 0;
    const float inv_tau = 1.0f / tau;
    if (nonempty) {
        vn_gemm_desc d = vn_gemm_desc_plain(0, 1, N, M, D);
        d.alpha = inv_tau;
        s = vn_cuda_gemm(st, &d, q, k, NULL, scratch);
        if (s != VN_OK)
            return s;
    }
    /* With D = 0 the gradients have no columns; the loss (log M) still needs the rows. */
    const int grads = nonempty && D > 0 && (dq || dk);
    void *g = NULL;
    if (grads && (s = vn_cuda_arena_alloc(st, (size_t)(N * M) * sizeof(float), &g)) != VN_OK)
        return s;
    /* Not held across the GEMMs: they take op_lock themselves. */
    pthread_mutex_lock(&st->op_lock);
    cudaError_t e = vn_cuda_launch_softmax_ce(st->stream, loss, g, 0, scratch, pos, N, M, dloss, st->partials);
    pthread_mutex_unlock(&st->op_lock);
    s = vn_cuda_launched(e, "infonce kernel launch");
    if (s == VN_OK && grads && dq) {
        vn_gemm_desc d = vn_gemm_desc_plain(0, 0, N, D, M);
        d.alpha = inv_tau;
        d.beta = 1.0f;
        s = vn_cuda_gemm(st, &d, g, k, NULL, dq);
    }
    if (s == VN_OK && grads && dk) {
        vn_gemm_desc d = vn_gemm_desc_plain(1, 0, M, D, N);
        d.alpha = inv_tau;
        d.beta = 1.0f;
        s = vn_cuda_gemm(st, &d, g, q, NULL, dk);
    }
    if (g)
        vn_cuda_arena_free(st, g);
    return s;
}
