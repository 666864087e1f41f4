/*
 * The attention kernels of the engine table: the fused multi-head self-attention core
 * (flash-attention style, fp32) and the attentive pooling head.
 *
 * Attention works on (batch, head) pairs of the packed qkv [B, T, 3C] buffer. The
 * forward gives a block BQ query rows and streams BK-key tiles through shared memory
 * with an online softmax, so no [T, T] score matrix exists anywhere; it saves the row
 * log-sum-exp of the scaled scores in lse [B, NH, T]. The backward (flash-attention 2)
 * recomputes the probabilities from lse in two passes that each own what they write: one
 * block per key tile accumulates dK and dV over all query tiles, one block per query tile
 * accumulates dQ over all key tiles. Every gradient element is thus summed by one thread
 * in a fixed order, with no atomics, and results are the same on every run.
 *
 * The arithmetic mirrors src/nn/ops_attention.c: q is scaled by 1/sqrt(HS) as it is
 * loaded, the scores are (q/sqrt(HS)) . k, the backward's D_i = dout_i . out_i, and
 * dK = dS^T (Q/sqrt(HS)).
 */
#include "kernels_train.h"

#include <math.h>

namespace {

#include "kernels_common.cuh"

/* Four warps: every tile layout below divides its work among exactly this many. */
constexpr int kThreads = 128;
constexpr int kWarps = kThreads / 32;
/* The D and attentive-pooling kernels: eight warps, where a kernel works a warp per row. */
constexpr int kRowThreads = 256;

__device__ __forceinline__ float warp_max(float v)
{
#pragma unroll
    for (int m = 16; m > 0; m >>= 1)
        v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, m));
    return v;
}

/*
 * How the kThreads threads share an M x N block product: thread (ty, tx) owns rows
 * ty + i * GY and columns tx + j * GX. Interleaving the ownership (rather than giving a
 * thread a contiguous patch) makes the threads of a warp read consecutive columns, and,
 * with the odd leading dimensions of the shared tiles, distinct banks. GX is chosen to
 * keep the micro-tile near square, which balances shared loads against FMAs.
 */
template <int M, int N>
struct Tile {
    static constexpr int GX = N >= 4 * M ? 32 : N >= M ? 16 : 8;
    static constexpr int GY = kThreads / GX;
    static constexpr int TM = M / GY;
    static constexpr int TN = N / GX;
    static_assert(TM >= 1 && TN >= 1 && TM * GY == M && TN * GX == N, "tile does not divide among the threads");
    static __device__ __forceinline__ int tx() { return (int)threadIdx.x % GX; }
    static __device__ __forceinline__ int ty() { return (int)threadIdx.x / GX; }
};

/*
 * acc[i][j] += sum over k < K of A(r_i, k) * B(k, c_j), with A(r, k) = a[r * ARS + k * ACS]
 * and B(k, c) = b[k * BRS + c * BCS] in shared memory: the strides let either operand be
 * a transposed view. Each element is one fmaf chain in k order, so a score recomputed by
 * the backward has the forward's bits exactly.
 */
template <class L, int K, int ARS, int ACS, int BRS, int BCS>
__device__ __forceinline__ void block_mma(float (&acc)[L::TM][L::TN], const float *a, const float *b)
{
    const int tx = L::tx(), ty = L::ty();
#pragma unroll 4
    for (int k = 0; k < K; ++k) {
        float av[L::TM], bv[L::TN];
#pragma unroll
        for (int i = 0; i < L::TM; ++i)
            av[i] = a[(ty + i * L::GY) * ARS + k * ACS];
#pragma unroll
        for (int j = 0; j < L::TN; ++j)
            bv[j] = b[k * BRS + (tx + j * L::GX) * BCS];
#pragma unroll
        for (int i = 0; i < L::TM; ++i)
#pragma unroll
            for (int j = 0; j < L::TN; ++j)
                acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
    }
}

template <class L>
__device__ __forceinline__ void zero(float (&acc)[L::TM][L::TN])
{
#pragma unroll
    for (int i = 0; i < L::TM; ++i)
#pragma unroll
        for (int j = 0; j < L::TN; ++j)
            acc[i][j] = 0.0f;
}

/* Rows row0 .. row0 + ROWS - 1 of one head (HS floats at src + t * ld) into a shared
 * [ROWS][HSP + 1] tile, times mul. Rows past T and columns past HS are zero: they then
 * add nothing to any product, and no garbage (NaN) enters one. */
template <int ROWS, int HSP>
__device__ __forceinline__ void load_tile(float *sh, const float *src, int64_t ld, int64_t row0, int64_t T, int HS,
                                          float mul)
{
    for (int idx = (int)threadIdx.x; idx < ROWS * HSP; idx += kThreads) {
        const int r = idx / HSP, d = idx % HSP;
        const int64_t t = row0 + r;
        sh[r * (HSP + 1) + d] = t < T && d < HS ? mul * src[t * ld + d] : 0.0f;
    }
}

/* Tiles per padded head size HSP (head sizes up to HSP run zero-padded): the largest
 * whose q, k|v and score tiles fit the 48 KB of static shared memory that every
 * architecture grants without an opt-in. */
template <int HSP>
struct FwdTiles;
template <>
struct FwdTiles<32> {
    static constexpr int BQ = 64, BK = 64;
};
template <>
struct FwdTiles<64> {
    static constexpr int BQ = 64, BK = 32;
};
template <>
struct FwdTiles<128> {
    static constexpr int BQ = 32, BK = 32;
};

/* The backward uses square tiles (BQ = BK) so that one layout serves S and dP alike;
 * 16 rows at HSP 128, where its four [BT][HSP + 1] tiles must still fit in 48 KB. */
template <int HSP>
struct BwdTiles {
    static constexpr int BT = HSP >= 128 ? 16 : 32;
};

/*
 * Forward. Per key tile: S = Q K^T into shared (keys past T at -inf), then one warp per
 * row moves its running max m and sum l on (rescale factor corr = e^(m_old - m_new)) and
 * turns S into P = e^(S - m_new), while the V tile loads into the buffer K used; then
 * O = corr O + P V in registers. At the end O / l goes out and m + log l is the lse.
 */
template <int HSP>
__global__ void __launch_bounds__(kThreads)
    attn_fwd_kernel(float *out, float *lse, const float *qkv, int64_t B, int64_t T, int64_t C, int64_t NH, float scale)
{
    constexpr int BQ = FwdTiles<HSP>::BQ, BK = FwdTiles<HSP>::BK;
    constexpr int LDH = HSP + 1, LDS = BK + 1;
    using LS = Tile<BQ, BK>;
    using LO = Tile<BQ, HSP>;
    __shared__ float q_sh[BQ * LDH];
    __shared__ float kv_sh[BK * LDH];
    __shared__ float s_sh[BQ * LDS];
    __shared__ float m_sh[BQ], l_sh[BQ], c_sh[BQ];

    const int HS = (int)(C / NH);
    const int warp = (int)threadIdx.x / 32, lane = (int)threadIdx.x % 32;
    const int64_t nqb = (T + BQ - 1) / BQ, items = B * NH * nqb;
    for (int64_t it = blockIdx.x; it < items; it += gridDim.x) {
        const int64_t pair = it / nqb, q0 = (it % nqb) * BQ, b = pair / NH, h = pair % NH;
        const float *base = qkv + b * T * 3 * C + h * HS;
        /* The previous item's last reads of the row statistics are done. */
        __syncthreads();
        load_tile<BQ, HSP>(q_sh, base, 3 * C, q0, T, HS, scale);
        for (int r = (int)threadIdx.x; r < BQ; r += kThreads) {
            m_sh[r] = -INFINITY;
            l_sh[r] = 0.0f;
        }
        float o[LO::TM][LO::TN];
        zero<LO>(o);
        for (int64_t k0 = 0; k0 < T; k0 += BK) {
            /* The previous tile's P V is done with kv_sh and s_sh. */
            __syncthreads();
            load_tile<BK, HSP>(kv_sh, base + C, 3 * C, k0, T, HS, 1.0f);
            __syncthreads();
            {
                float s[LS::TM][LS::TN];
                zero<LS>(s);
                block_mma<LS, HSP, LDH, 1, 1, LDH>(s, q_sh, kv_sh);
#pragma unroll
                for (int i = 0; i < LS::TM; ++i)
#pragma unroll
                    for (int j = 0; j < LS::TN; ++j) {
                        const int r = LS::ty() + i * LS::GY, c = LS::tx() + j * LS::GX;
                        s_sh[r * LDS + c] = k0 + c < T ? s[i][j] : -INFINITY;
                    }
            }
            __syncthreads();
            load_tile<BK, HSP>(kv_sh, base + 2 * C, 3 * C, k0, T, HS, 1.0f);
            for (int r = warp; r < BQ; r += kWarps) {
                float *row = s_sh + r * LDS;
                const float m_old = m_sh[r];
                float mx = m_old;
                for (int j = lane; j < BK; j += 32)
                    mx = fmaxf(mx, row[j]);
                mx = warp_max(mx);
                /* Every tile holds a key below T, so mx is finite; the first tile's m_old
                 * is -inf and its (zero) accumulator needs no rescaling. */
                const float corr = m_old == -INFINITY ? 0.0f : expf(m_old - mx);
                float sum = 0.0f;
                for (int j = lane; j < BK; j += 32) {
                    const float p = expf(row[j] - mx);
                    row[j] = p;
                    sum += p;
                }
                sum = warp_sum(sum);
                if (lane == 0) {
                    m_sh[r] = mx;
                    l_sh[r] = l_sh[r] * corr + sum;
                    c_sh[r] = corr;
                }
            }
            __syncthreads();
#pragma unroll
            for (int i = 0; i < LO::TM; ++i) {
                const float corr = c_sh[LO::ty() + i * LO::GY];
#pragma unroll
                for (int j = 0; j < LO::TN; ++j)
                    o[i][j] *= corr;
            }
            block_mma<LO, BK, LDS, 1, LDH, 1>(o, s_sh, kv_sh);
        }
        float *ob = out + b * T * C + h * HS;
#pragma unroll
        for (int i = 0; i < LO::TM; ++i) {
            const int r = LO::ty() + i * LO::GY;
            if (q0 + r >= T)
                continue;
            const float inv = 1.0f / l_sh[r];
#pragma unroll
            for (int j = 0; j < LO::TN; ++j) {
                const int c = LO::tx() + j * LO::GX;
                if (c < HS)
                    ob[(q0 + r) * C + c] = o[i][j] * inv;
            }
        }
        if (lse)
            for (int r = (int)threadIdx.x; r < BQ; r += kThreads)
                if (q0 + r < T)
                    lse[pair * T + q0 + r] = m_sh[r] + logf(l_sh[r]);
    }
}

/* D[b, h, t] = dout[b, t, head h] . out[b, t, head h], a warp per (b, t, h). Row
 * R = (b * T + t) * NH + h is the R-th run of HS floats of both buffers. */
__global__ void __launch_bounds__(kRowThreads)
    attn_dsum_kernel(float *dsum, const float *dout, const float *out, int64_t B, int64_t T, int64_t NH, int64_t HS)
{
    const int lane = (int)threadIdx.x % 32;
    const int64_t rows = B * T * NH, step = (int64_t)gridDim.x * (kRowThreads / 32);
    for (int64_t R = (int64_t)blockIdx.x * (kRowThreads / 32) + threadIdx.x / 32; R < rows; R += step) {
        const float *g = dout + R * HS, *o = out + R * HS;
        float acc = 0.0f;
        for (int64_t d = lane; d < HS; d += 32)
            acc += g[d] * o[d];
        acc = warp_sum(acc);
        if (lane == 0) {
            const int64_t h = R % NH, t = (R / NH) % T, b = R / (NH * T);
            dsum[(b * NH + h) * T + t] = acc;
        }
    }
}

/*
 * The probabilities and dS of one BT x BT tile, recomputed from the tiles in shared
 * memory as S = Q K^T and dP = dO V^T (in the forward's operation order, so S has the
 * forward's bits): P = e^(S - lse), dS = P (dP - D). Entries whose query or key is
 * past T are zero, so padded rows and columns contribute nothing.
 */
template <class L, int HSP, int LDH>
__device__ __forceinline__ void tile_p_ds(float (&p)[L::TM][L::TN], float (&ds)[L::TM][L::TN], const float *q_sh,
                                          const float *k_sh, const float *do_sh, const float *v_sh,
                                          const float *lse_sh, const float *d_sh, int64_t q0, int64_t k0, int64_t T)
{
    zero<L>(p);
    zero<L>(ds);
    block_mma<L, HSP, LDH, 1, 1, LDH>(p, q_sh, k_sh);
    block_mma<L, HSP, LDH, 1, 1, LDH>(ds, do_sh, v_sh);
#pragma unroll
    for (int i = 0; i < L::TM; ++i) {
        const int r = L::ty() + i * L::GY;
        const float li = lse_sh[r], di = d_sh[r];
#pragma unroll
        for (int j = 0; j < L::TN; ++j) {
            const int c = L::tx() + j * L::GX;
            const bool valid = q0 + r < T && k0 + c < T;
            const float pij = valid ? expf(p[i][j] - li) : 0.0f;
            ds[i][j] = pij * (ds[i][j] - di);
            p[i][j] = pij;
        }
    }
}

/* lse and D of query rows q0 .. q0 + BT - 1 into shared (zero past T). */
template <int BT>
__device__ __forceinline__ void load_row_stats(float *lse_sh, float *d_sh, const float *lse, const float *dsum,
                                               int64_t q0, int64_t T)
{
    for (int r = (int)threadIdx.x; r < BT; r += kThreads) {
        const bool in = q0 + r < T;
        lse_sh[r] = in ? lse[q0 + r] : 0.0f;
        d_sh[r] = in ? dsum[q0 + r] : 0.0f;
    }
}

/* dK and dV of one key tile, over all query tiles in order. */
template <int HSP>
__global__ void __launch_bounds__(kThreads)
    attn_bwd_dkdv_kernel(float *dqkv, const float *dout, const float *qkv, const float *lse, const float *dsum,
                         int64_t B, int64_t T, int64_t C, int64_t NH, float scale)
{
    constexpr int BT = BwdTiles<HSP>::BT;
    constexpr int LDH = HSP + 1, LDS = BT + 1;
    using LS = Tile<BT, BT>;
    using LH = Tile<BT, HSP>;
    __shared__ float q_sh[BT * LDH], do_sh[BT * LDH], k_sh[BT * LDH], v_sh[BT * LDH];
    __shared__ float p_sh[BT * LDS], ds_sh[BT * LDS];
    __shared__ float lse_sh[BT], d_sh[BT];

    const int HS = (int)(C / NH);
    const int64_t nb = (T + BT - 1) / BT, items = B * NH * nb;
    for (int64_t it = blockIdx.x; it < items; it += gridDim.x) {
        const int64_t pair = it / nb, k0 = (it % nb) * BT, b = pair / NH, h = pair % NH;
        const float *base = qkv + b * T * 3 * C + h * HS, *dob = dout + b * T * C + h * HS;
        __syncthreads();
        load_tile<BT, HSP>(k_sh, base + C, 3 * C, k0, T, HS, 1.0f);
        load_tile<BT, HSP>(v_sh, base + 2 * C, 3 * C, k0, T, HS, 1.0f);
        float dk[LH::TM][LH::TN], dv[LH::TM][LH::TN];
        zero<LH>(dk);
        zero<LH>(dv);
        for (int64_t q0 = 0; q0 < T; q0 += BT) {
            /* The previous query tile's products are done with q, dO, P and dS. */
            __syncthreads();
            load_tile<BT, HSP>(q_sh, base, 3 * C, q0, T, HS, scale);
            load_tile<BT, HSP>(do_sh, dob, C, q0, T, HS, 1.0f);
            load_row_stats<BT>(lse_sh, d_sh, lse + pair * T, dsum + pair * T, q0, T);
            __syncthreads();
            {
                float p[LS::TM][LS::TN], ds[LS::TM][LS::TN];
                tile_p_ds<LS, HSP, LDH>(p, ds, q_sh, k_sh, do_sh, v_sh, lse_sh, d_sh, q0, k0, T);
#pragma unroll
                for (int i = 0; i < LS::TM; ++i)
#pragma unroll
                    for (int j = 0; j < LS::TN; ++j) {
                        const int r = LS::ty() + i * LS::GY, c = LS::tx() + j * LS::GX;
                        p_sh[r * LDS + c] = p[i][j];
                        ds_sh[r * LDS + c] = ds[i][j];
                    }
            }
            __syncthreads();
            /* dV += P^T dO and dK += dS^T (Q / sqrt(HS)): the transposes are strides. */
            block_mma<LH, BT, 1, LDS, LDH, 1>(dv, p_sh, do_sh);
            block_mma<LH, BT, 1, LDS, LDH, 1>(dk, ds_sh, q_sh);
        }
        float *gk = dqkv + b * T * 3 * C + C + h * HS;
#pragma unroll
        for (int i = 0; i < LH::TM; ++i) {
            const int r = LH::ty() + i * LH::GY;
            if (k0 + r >= T)
                continue;
            float *row = gk + (k0 + r) * 3 * C;
#pragma unroll
            for (int j = 0; j < LH::TN; ++j) {
                const int c = LH::tx() + j * LH::GX;
                if (c < HS) {
                    row[c] += dk[i][j];
                    row[C + c] += dv[i][j];
                }
            }
        }
    }
}

/* dQ of one query tile, over all key tiles in order. */
template <int HSP>
__global__ void __launch_bounds__(kThreads)
    attn_bwd_dq_kernel(float *dqkv, const float *dout, const float *qkv, const float *lse, const float *dsum,
                       int64_t B, int64_t T, int64_t C, int64_t NH, float scale)
{
    constexpr int BT = BwdTiles<HSP>::BT;
    constexpr int LDH = HSP + 1, LDS = BT + 1;
    using LS = Tile<BT, BT>;
    using LH = Tile<BT, HSP>;
    __shared__ float q_sh[BT * LDH], do_sh[BT * LDH], k_sh[BT * LDH], v_sh[BT * LDH];
    __shared__ float ds_sh[BT * LDS];
    __shared__ float lse_sh[BT], d_sh[BT];

    const int HS = (int)(C / NH);
    const int64_t nb = (T + BT - 1) / BT, items = B * NH * nb;
    for (int64_t it = blockIdx.x; it < items; it += gridDim.x) {
        const int64_t pair = it / nb, q0 = (it % nb) * BT, b = pair / NH, h = pair % NH;
        const float *base = qkv + b * T * 3 * C + h * HS, *dob = dout + b * T * C + h * HS;
        __syncthreads();
        load_tile<BT, HSP>(q_sh, base, 3 * C, q0, T, HS, scale);
        load_tile<BT, HSP>(do_sh, dob, C, q0, T, HS, 1.0f);
        load_row_stats<BT>(lse_sh, d_sh, lse + pair * T, dsum + pair * T, q0, T);
        float dq[LH::TM][LH::TN];
        zero<LH>(dq);
        for (int64_t k0 = 0; k0 < T; k0 += BT) {
            /* The previous key tile's dS K is done with k_sh and ds_sh. */
            __syncthreads();
            load_tile<BT, HSP>(k_sh, base + C, 3 * C, k0, T, HS, 1.0f);
            load_tile<BT, HSP>(v_sh, base + 2 * C, 3 * C, k0, T, HS, 1.0f);
            __syncthreads();
            {
                float p[LS::TM][LS::TN], ds[LS::TM][LS::TN];
                tile_p_ds<LS, HSP, LDH>(p, ds, q_sh, k_sh, do_sh, v_sh, lse_sh, d_sh, q0, k0, T);
#pragma unroll
                for (int i = 0; i < LS::TM; ++i)
#pragma unroll
                    for (int j = 0; j < LS::TN; ++j)
                        ds_sh[(LS::ty() + i * LS::GY) * LDS + LS::tx() + j * LS::GX] = ds[i][j];
            }
            __syncthreads();
            block_mma<LH, BT, LDS, 1, LDH, 1>(dq, ds_sh, k_sh);
        }
        /* K entered unscaled (the scores need it so), so the 1/sqrt(HS) of
         * dQ = dS (K / sqrt(HS)) is applied once here. */
        float *gq = dqkv + b * T * 3 * C + h * HS;
#pragma unroll
        for (int i = 0; i < LH::TM; ++i) {
            const int r = LH::ty() + i * LH::GY;
            if (q0 + r >= T)
                continue;
#pragma unroll
            for (int j = 0; j < LH::TN; ++j) {
                const int c = LH::tx() + j * LH::GX;
                if (c < HS)
                    gq[(q0 + r) * 3 * C + c] += scale * dq[i][j];
            }
        }
    }
}

template <int HSP>
cudaError_t attention_forward(cudaStream_t stream, float *out, float *lse, const float *qkv, int64_t B, int64_t T,
                              int64_t C, int64_t NH, float scale)
{
    constexpr int BQ = FwdTiles<HSP>::BQ;
    const int64_t items = B * NH * ((T + BQ - 1) / BQ);
    attn_fwd_kernel<HSP><<<blocks_for(items, 1, kMaxBlocks), kThreads, 0, stream>>>(out, lse, qkv, B, T, C, NH,
                                                                                   scale);
    return cudaGetLastError();
}

template <int HSP>
cudaError_t attention_backward(cudaStream_t stream, float *dqkv, const float *dout, const float *qkv,
                               const float *out, const float *lse, float *dsum, int64_t B, int64_t T, int64_t C,
                               int64_t NH, float scale)
{
    constexpr int BT = BwdTiles<HSP>::BT;
    const int64_t rows = B * T * NH, items = B * NH * ((T + BT - 1) / BT);
    attn_dsum_kernel<<<blocks_for(rows, kRowThreads / 32, kMaxBlocks), kRowThreads, 0, stream>>>(dsum, dout, out, B,
                                                                                                T, NH, C / NH);
    cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess)
        return e;
    attn_bwd_dkdv_kernel<HSP><<<blocks_for(items, 1, kMaxBlocks), kThreads, 0, stream>>>(dqkv, dout, qkv, lse, dsum,
                                                                                        B, T, C, NH, scale);
    e = cudaGetLastError();
    if (e != cudaSuccess)
        return e;
    attn_bwd_dq_kernel<HSP><<<blocks_for(items, 1, kMaxBlocks), kThreads, 0, stream>>>(dqkv, dout, qkv, lse, dsum,
                                                                                      B, T, C, NH, scale);
    return cudaGetLastError();
}

/* ---- attentive pooling ------------------------------------------------------------------ */

/* out[r] = alpha * (x[r, :] . v[r / T, :]), a warp per row of x [rows, C]; vstride 0
 * makes v one shared vector. */
__global__ void __launch_bounds__(kRowThreads)
    rows_dot_kernel(float *out, const float *x, const float *v, int64_t vstride, int64_t rows, int64_t T, int64_t C,
                    float alpha)
{
    const int lane = (int)threadIdx.x % 32;
    const int64_t step = (int64_t)gridDim.x * (kRowThreads / 32);
    for (int64_t r = (int64_t)blockIdx.x * (kRowThreads / 32) + threadIdx.x / 32; r < rows; r += step) {
        const float *xr = x + r * C, *vr = v + (r / T) * vstride;
        float acc = 0.0f;
        for (int64_t c = lane; c < C; c += 32)
            acc += vr[c] * xr[c];
        acc = warp_sum(acc);
        if (lane == 0)
            out[r] = alpha * acc;
    }
}

/* Block-wide sum or max of one value per thread, in a fixed tree; every thread gets the
 * result. red holds kRowThreads floats. */
template <bool MAX>
__device__ __forceinline__ float block_reduce(float v, float *red)
{
    red[threadIdx.x] = v;
    __syncthreads();
    for (int s = kRowThreads / 2; s > 0; s >>= 1) {
        if ((int)threadIdx.x < s)
            red[threadIdx.x] = MAX ? fmaxf(red[threadIdx.x], red[threadIdx.x + s]) : red[threadIdx.x] + red[threadIdx.x + s];
        __syncthreads();
    }
    const float r = red[0];
    /* red is reused by the next call. */
    __syncthreads();
    return r;
}

/* a[b, :] = softmax(a[b, :]) in place, a block per row, as vn_attnpool_forward: e^(a - max)
 * then times 1 / sum. */
__global__ void __launch_bounds__(kRowThreads) softmax_rows_kernel(float *a, int64_t B, int64_t T)
{
    __shared__ float red[kRowThreads];
    for (int64_t b = blockIdx.x; b < B; b += gridDim.x) {
        float *row = a + b * T;
        float mx = -INFINITY;
        for (int64_t t = threadIdx.x; t < T; t += kRowThreads)
            mx = fmaxf(mx, row[t]);
        mx = block_reduce<true>(mx, red);
        float sum = 0.0f;
        for (int64_t t = threadIdx.x; t < T; t += kRowThreads) {
            const float e = expf(row[t] - mx);
            row[t] = e;
            sum += e;
        }
        const float inv = 1.0f / block_reduce<false>(sum, red);
        for (int64_t t = threadIdx.x; t < T; t += kRowThreads)
            row[t] *= inv;
    }
}

/* ds[b, :] holds dout_b . x_t on entry; on exit scale * a_t * (that - sum_u a_u (dout_b . x_u)),
 * in vn_attnpool_backward's order. A block per row. */
__global__ void __launch_bounds__(kRowThreads)
    attnpool_ds_kernel(float *ds, const float *attn, int64_t B, int64_t T, float scale)
{
    __shared__ float red[kRowThreads];
    for (int64_t b = blockIdx.x; b < B; b += gridDim.x) {
        float *row = ds + b * T;
        const float *a = attn + b * T;
        float corr = 0.0f;
        for (int64_t t = threadIdx.x; t < T; t += kRowThreads)
            corr += a[t] * row[t];
        corr = block_reduce<false>(corr, red);
        for (int64_t t = threadIdx.x; t < T; t += kRowThreads)
            row[t] = scale * a[t] * (row[t] - corr);
    }
}

/* dinp[b, t, c] += a[b, t] dout[b, c] + ds[b, t] query[c], one thread per element. */
__global__ void __launch_bounds__(kRowThreads)
    attnpool_dinp_kernel(float *dinp, const float *ds, const float *dout, const float *query, const float *attn,
                         int64_t B, int64_t T, int64_t C)
{
    const int64_t n = B * T * C, step = (int64_t)gridDim.x * kRowThreads;
    for (int64_t i = (int64_t)blockIdx.x * kRowThreads + threadIdx.x; i < n; i += step) {
        const int64_t bt = i / C, c = i % C, b = bt / T;
        dinp[i] += attn[bt] * dout[b * C + c] + ds[bt] * query[c];
    }
}

} // namespace

/* The launchers read cudaGetLastError() once before launching so that an older,
 * unrelated non-sticky error on this thread is not blamed on them. */

extern "C" cudaError_t vn_cuda_launch_attention_forward(cudaStream_t stream, float *out, float *lse,
                                                        const float *qkv, int64_t B, int64_t T, int64_t C,
                                                        int64_t NH)
{
    (void)cudaGetLastError();
    const int64_t HS = C / NH;
    /* The host rounds 1/sqrt(HS) to float the same way. */
    const float scale = 1.0f / sqrtf((float)HS);
    if (HS <= 32)
        return attention_forward<32>(stream, out, lse, qkv, B, T, C, NH, scale);
    if (HS <= 64)
        return attention_forward<64>(stream, out, lse, qkv, B, T, C, NH, scale);
    if (HS <= VN_CUDA_ATTN_MAX_HS)
        return attention_forward<128>(stream, out, lse, qkv, B, T, C, NH, scale);
    return cudaErrorInvalidValue;
}

extern "C" cudaError_t vn_cuda_launch_attention_backward(cudaStream_t stream, float *dqkv, const float *dout,
                                                         const float *qkv, const float *out, const float *lse,
                                                         float *dsum, int64_t B, int64_t T, int64_t C, int64_t NH)
{
    (void)cudaGetLastError();
    const int64_t HS = C / NH;
    const float scale = 1.0f / sqrtf((float)HS);
    if (HS <= 32)
        return attention_backward<32>(stream, dqkv, dout, qkv, out, lse, dsum, B, T, C, NH, scale);
    if (HS <= 64)
        return attention_backward<64>(stream, dqkv, dout, qkv, out, lse, dsum, B, T, C, NH, scale);
    if (HS <= VN_CUDA_ATTN_MAX_HS)
        return attention_backward<128>(stream, dqkv, dout, qkv, out, lse, dsum, B, T, C, NH, scale);
    return cudaErrorInvalidValue;
}

extern "C" cudaError_t vn_cuda_launch_attnpool_scores(cudaStream_t stream, float *attn, const float *inp,
                                                      const float *query, int64_t B, int64_t T, int64_t C)
{
    (void)cudaGetLastError();
    const float scale = 1.0f / sqrtf((float)C);
    rows_dot_kernel<<<blocks_for(B * T, kRowThreads / 32, kMaxBlocks), kRowThreads, 0, stream>>>(attn, inp, query, 0,
                                                                                                B * T, T, C, scale);
    cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess)
        return e;
    softmax_rows_kernel<<<blocks_for(B, 1, kMaxBlocks), kRowThreads, 0, stream>>>(attn, B, T);
    return cudaGetLastError();
}

extern "C" cudaError_t vn_cuda_launch_attnpool_backward(cudaStream_t stream, float *dinp, float *ds,
                                                        const float *dout, const float *inp, const float *query,
                                                        const float *attn, int64_t B, int64_t T, int64_t C)
{
    (void)cudaGetLastError();
    const float scale = 1.0f / sqrtf((float)C);
    rows_dot_kernel<<<blocks_for(B * T, kRowThreads / 32, kMaxBlocks), kRowThreads, 0, stream>>>(ds, inp, dout, C,
                                                                                                B * T, T, C, 1.0f);
    cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess)
        return e;
    attnpool_ds_kernel<<<blocks_for(B, 1, kMaxBlocks), kRowThreads, 0, stream>>>(ds, attn, B, T, scale);
    e = cudaGetLastError();
    if (e != cudaSuccess || !dinp)
        return e;
    attnpool_dinp_kernel<<<blocks_for(B * T * C, kRowThreads, kMaxBlocks), kRowThreads, 0, stream>>>(
        dinp, ds, dout, query, attn, B, T, C);
    return cudaGetLastError();
}
