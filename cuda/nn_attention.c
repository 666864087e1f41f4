/*
 * nn_attention.c: the cuda engine table's attention entries, the fused multi-head
 * self-attention core and the attentive pooling head (kernels_attention.cu). Shapes and
 * semantics are those of vn_attention_* and vn_attnpool_* in src/nn/ops.h.
 */
#include "core/error.h"
#include "cuda_nn.h"
#include "kernels_train.h"

/* Scratch comes from the context's arena and goes back as soon as the work that uses it
 * is queued: the arena hands a buffer out again only to work queued later on the same
 * stream (arena.c), so no entry waits for the device. */

static vn_status check_heads(int64_t C, int64_t NH)
{
    if (NH < 1 || C % NH != 0)
        return vn_error(VN_ERR_SHAPE, "cuda attention: %lld channels do not split into %lld heads", (long long)C,
                        (long long)NH);
    if (C / NH > VN_CUDA_ATTN_MAX_HS)
        return vn_error(VN_ERR_UNSUPPORTED, "cuda attention: head size %lld is above the kernels' maximum of %d",
                        (long long)(C / NH), VN_CUDA_ATTN_MAX_HS);
    return VN_OK;
}

vn_status vn_cuda_nn_attention_forward(vn_backend_state *st, float *out, float *lse, const float *qkv, int64_t B,
                                       int64_t T, int64_t C, int64_t NH)
{
    if (B == 0 || T == 0 || C == 0)
        return VN_OK;
    vn_status s = vn_cuda_use_device(st);
    if (s == VN_OK)
        s = check_heads(C, NH);
    if (s != VN_OK)
        return s;
    return vn_cuda_launched(vn_cuda_launch_attention_forward(st->stream, out, lse, qkv, B, T, C, NH),
                            "attention forward kernel launch");
}

vn_status vn_cuda_nn_attention_backward(vn_backend_state *st, float *dqkv, const float *dout, const float *qkv,
                                        const float *out, const float *lse, int64_t B, int64_t T, int64_t C,
                                        int64_t NH)
{
    if (!dqkv || B == 0 || T == 0 || C == 0)
        return VN_OK;
    vn_status s = vn_cuda_use_device(st);
    if (s == VN_OK)
        s = check_heads(C, NH);
    if (s != VN_OK)
        return s;
    /* D_t = dout_t . out_t per (b, h, t), which every key tile's pass reads for every
     * query: computed once rather than once per key tile. */
    void *dsum = NULL;
    s = vn_cuda_arena_alloc(st, (size_t)(B * NH * T) * sizeof(float), &dsum);
    if (s != VN_OK)
        return s;
    s = vn_cuda_launched(
        vn_cuda_launch_attention_backward(st->stream, dqkv, dout, qkv, out, lse, dsum, B, T, C, NH),
        "attention backward kernel launch");
    vn_cuda_arena_free(st, dsum);
    return s;
}

vn_status vn_cuda_nn_attnpool_forward(vn_backend_state *st, float *out, float *attn, const float *inp,
                                      const float *query, int64_t B, int64_t T, int64_t C)
{
    if (B == 0 || C == 0)
        return VN_OK;
    vn_status s = vn_cuda_use_device(st);
    if (s != VN_OK)
        return s;
    /* The host op needs attn for its probabilities; here a NULL one (the reference
     * twin's "not saved") gets scratch instead. */
    void *tmp = NULL;
    float *a = attn;
    if (!a && T > 0) {
        s = vn_cuda_arena_alloc(st, (size_t)(B * T) * sizeof(float), &tmp);
        if (s != VN_OK)
            return s;
        a = tmp;
    }
    if (T > 0)
        s = vn_cuda_launched(vn_cuda_launch_attnpool_scores(st->stream, a, inp, query, B, T, C),
                             "attnpool scores kernel launch");
    if (s == VN_OK) {
        /* out[b] = attn[b] @ inp[b]: B products [1, T] x [T, C]. With T = 0 the empty
         * product writes zeros, as the host's sum over no tokens does. */
        vn_gemm_desc d = vn_gemm_desc_plain(0, 0, 1, C, T);
        d.batch = B;
        d.stride_a = T;
        d.stride_b = T * C;
        d.stride_c = C;
        s = vn_cuda_gemm(st, &d, a, inp, NULL, out);
    }
    if (tmp)
        vn_cuda_arena_free(st, tmp);
    return s;
}

vn_status vn_cuda_nn_attnpool_backward(vn_backend_state *st, float *dinp, float *dquery, const float *dout,
                                       const float *inp, const float *query, const float *attn, int64_t B, int64_t T,
                                       int64_t C)
{
    if ((!dinp && !dquery) || B == 0 || T == 0 || C == 0)
        return VN_OK;
    vn_status s = vn_cuda_use_device(st);
    if (s != VN_OK)
        return s;
    void *ds = NULL;
    s = vn_cuda_arena_alloc(st, (size_t)(B * T) * sizeof(float), &ds);
    if (s != VN_OK)
        return s;
    s = vn_cuda_launched(vn_cuda_launch_attnpool_backward(st->stream, dinp, ds, dout, inp, query, attn, B, T, C),
                         "attnpool backward kernel launch");
    if (s == VN_OK && dquery) {
        /* dquery[1, C] += ds[1, B*T] @ inp[B*T, C]: one product over every token, which
         * cuBLAS (atomics off) sums the same way on every run. */
        vn_gemm_desc d = vn_gemm_desc_plain(0, 0, 1, C, B * T);
        d.beta = 1.0f;
        s = vn_cuda_gemm(st, &d, ds, inp, NULL, dquery);
    }
    vn_cuda_arena_free(st, ds);
    return s;
}
