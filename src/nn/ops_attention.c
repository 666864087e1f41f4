/*
 * ops_attention.c: the fused multi-head self-attention core (flash-attention style)
 * and the temporal regrouping of divided space-time attention.
 *
 * Work is split over (batch, head) pairs. Each thread first copies the pair's k (and in
 * the backward v) out of the interleaved [B, T, 3C] buffer into its own scratch slot,
 * transposed, so that every block product below is a row-major C += A @ B whose
 * innermost loop runs over a contiguous dimension and vectorises; q, v, k and dout are
 * read in place through their row strides, and the 1/sqrt(HS) scale goes into the
 * exponent (and onto dq and dk at the end) rather than into copies. Key blocks are
 * streamed with an online softmax; only the row log-sum-exp is kept. The backward recomputes the probabilities per block from q, k
 * and lse (flash-attention 2), so no [T, T] buffer exists anywhere.
 *
 * Determinism: the forward gives every output row to exactly one work item and the
 * backward gives every (batch, head) pair, and thus every gradient element, to exactly
 * one thread with a fixed loop order, so results do not depend on the thread count.
 */
/* The block products are written as separate multiplies and adds; under ISO C (meson's
 * c_std=c11) GCC would keep them apart, and fusing them makes the AVX-512 clone 25%
 * faster (measured). Set before the includes so that the inline helpers of
 * ops_internal.h share the option and still inline. */
#pragma GCC optimize("fp-contract=fast")

#include <math.h>
#include <omp.h>
#include <string.h>

#include "nn/ops.h"
#include "core/profile.h"
#include "backend/backend_nn.h"
#include "nn/ops_internal.h"

/* Query rows and key columns per block: a BQ x BK score tile plus the q, k rows it
 * touches stay in L1 for HS up to 64. */
#define BQ 32
#define BK 64

/* Per-thread scratch of the backward (the forward needs less); see the slot layout in
 * attn_slot. */
static int64_t slot_floats(int64_t T, int64_t HS)
{
    return 5 * T * HS + 2 * T + 2 * BQ * BK + BQ * HS + 2 * BQ;
}

/* One slot per thread: n_threads must be at least the nn->n_threads of the calls. */
int64_t vn_attention_scratch_floats(int64_t B, int64_t T, int64_t C, int64_t NH, int n_threads)
{
    (void)B;
    return (int64_t)(n_threads > 0 ? n_threads : 1) * slot_floats(T, C / NH);
}

typedef struct attn_slot {
    float *kt;      /* [HS, T] keys, transposed */
    float *vt;      /* [HS, T] values, transposed (backward) */
    float *dq, *dk, *dv; /* [T, HS] (backward) */
    float *lse, *dsum;   /* [T] */
    float *s, *dp;  /* [BQ, BK] */
    float *acc;     /* [BQ, HS] */
    float *m, *l;   /* [BQ] */
    int wide;       /* 8 x 16 tiles (AVX-512) */
} attn_slot;

static attn_slot slot_at(float *scratch, int tid, int64_t T, int64_t HS)
{
    float *p = scratch + (int64_t)tid * slot_floats(T, HS);
    attn_slot s;
    int64_t th = T * HS;
    s.kt = p;
    s.vt = p + th;
    s.dq = p + 2 * th;
    s.dk = p + 3 * th;
    s.dv = p + 4 * th;
    p += 5 * th;
    s.lse = p;
    s.dsum = p + T;
    p += 2 * T;
    s.s = p;
    s.dp = p + BQ * BK;
    p += 2 * BQ * BK;
    s.acc = p;
    p += BQ * HS;
    s.m = p;
    s.l = p + BQ;
#if defined(__x86_64__) && defined(__GNUC__)
    s.wide = __builtin_cpu_supports("avx512f");
#else
    s.wide = 0;
#endif
    return s;
}

/* The block kernels must inline into the cloned callers: an out-of-line copy is compiled
 * for the baseline target only and runs about 3x slower (measured). */
#define ALWAYS_INLINE inline __attribute__((always_inline))

/* One 4 x 16 tile of C (+)= A @ B, the accumulators in registers across the whole K
 * loop; GCC's SLP vectoriser turns each row into one vector (or two on AVX2). */
static ALWAYS_INLINE void tile4x16(int64_t K, const float *restrict a, int64_t ars, int64_t acs, const float *restrict b,
                            int64_t ldb, float *restrict c, int64_t ldc, int accumulate)
{
    float c0[16], c1[16], c2[16], c3[16];
    float *r0 = c, *r1 = r0 + ldc, *r2 = r1 + ldc, *r3 = r2 + ldc;
    for (int l = 0; l < 16; l++) {
        c0[l] = accumulate ? r0[l] : 0.0f;
        c1[l] = accumulate ? r1[l] : 0.0f;
        c2[l] = accumulate ? r2[l] : 0.0f;
        c3[l] = accumulate ? r3[l] : 0.0f;
    }
    for (int64_t kk = 0; kk < K; kk++) {
        const float *bk = b + kk * ldb;
        float x0 = a[kk * acs], x1 = a[ars + kk * acs], x2 = a[2 * ars + kk * acs], x3 = a[3 * ars + kk * acs];
        for (int l = 0; l < 16; l++) {
            c0[l] += x0 * bk[l];
            c1[l] += x1 * bk[l];
            c2[l] += x2 * bk[l];
            c3[l] += x3 * bk[l];
        }
    }
    for (int l = 0; l < 16; l++) {
        r0[l] = c0[l];
        r1[l] = c1[l];
        r2[l] = c2[l];
        r3[l] = c3[l];
    }
}

/*
 * One 8 x 16 tile, for AVX-512 only: eight accumulator vectors keep both FMA pipes busy
 * (four leave them half idle on the 4-cycle FMA latency), where on AVX2 the same tile is
 * sixteen ymm accumulators and spills. Written with GCC vector types because the
 * vectoriser keeps an 8-row accumulator array in memory.
 */
typedef float v16f __attribute__((vector_size(64)));

static ALWAYS_INLINE void tile8x16(int64_t K, const float *restrict a, int64_t ars, int64_t acs,
                                   const float *restrict b, int64_t ldb, float *restrict c, int64_t ldc,
                                   int accumulate)
{
    v16f acc[8];
    for (int r = 0; r < 8; r++) {
        if (accumulate)
            memcpy(&acc[r], c + r * ldc, sizeof acc[r]);
        else
            acc[r] = (v16f){0};
    }
    for (int64_t kk = 0; kk < K; kk++) {
        v16f bk;
        memcpy(&bk, b + kk * ldb, sizeof bk);
        const float *ak = a + kk * acs;
        acc[0] += ak[0] * bk;
        acc[1] += ak[ars] * bk;
        acc[2] += ak[2 * ars] * bk;
        acc[3] += ak[3 * ars] * bk;
        acc[4] += ak[4 * ars] * bk;
        acc[5] += ak[5 * ars] * bk;
        acc[6] += ak[6 * ars] * bk;
        acc[7] += ak[7 * ars] * bk;
    }
    for (int r = 0; r < 8; r++)
        memcpy(c + r * ldc, &acc[r], sizeof acc[r]);
}

/*
 * One 4 x (16 NV) tile, NV = 2 or 4, for AVX-512 only: per k, NV loads of B and four
 * broadcasts of A feed 4 NV FMAs, where the 8 x 16 tile needs nine loads for eight, so
 * this one is bound by the FMA pipes rather than by loads. Every element is still one
 * FMA chain over k in order, so the tile shape does not change the bits.
 */
static ALWAYS_INLINE void tile4xv(int64_t K, const float *restrict a, int64_t ars, int64_t acs,
                                  const float *restrict b, int64_t ldb, float *restrict c, int64_t ldc, int accumulate,
                                  int NV)
{
    v16f acc[4][4];
    for (int r = 0; r < 4; r++)
        for (int v = 0; v < NV; v++) {
            if (accumulate)
                memcpy(&acc[r][v], c + r * ldc + 16 * v, sizeof acc[r][v]);
            else
                acc[r][v] = (v16f){0};
        }
    for (int64_t kk = 0; kk < K; kk++) {
        v16f bk[4];
        for (int v = 0; v < NV; v++)
            memcpy(&bk[v], b + kk * ldb + 16 * v, sizeof bk[v]);
        const float *ak = a + kk * acs;
        for (int r = 0; r < 4; r++) {
            float x = ak[r * ars];
            for (int v = 0; v < NV; v++)
                acc[r][v] += x * bk[v];
        }
    }
    for (int r = 0; r < 4; r++)
        for (int v = 0; v < NV; v++)
            memcpy(c + r * ldc + 16 * v, &acc[r][v], sizeof acc[r][v]);
}

/*
 * One 8 x 32 tile, for AVX-512 only: per k, two loads of B and eight broadcasts of A feed
 * sixteen FMAs, where the 4 x 32 tile needs six loads for eight (the P V product of a
 * 32-wide head is load-bound on it). Each element is still one FMA chain over k in order.
 */
static ALWAYS_INLINE void tile8x32(int64_t K, const float *restrict a, int64_t ars, int64_t acs,
                                   const float *restrict b, int64_t ldb, float *restrict c, int64_t ldc,
                                   int accumulate)
{
    v16f acc[8][2];
    for (int r = 0; r < 8; r++)
        for (int v = 0; v < 2; v++) {
            if (accumulate)
                memcpy(&acc[r][v], c + r * ldc + 16 * v, sizeof acc[r][v]);
            else
                acc[r][v] = (v16f){0};
        }
    for (int64_t kk = 0; kk < K; kk++) {
        v16f b0, b1;
        memcpy(&b0, b + kk * ldb, sizeof b0);
        memcpy(&b1, b + kk * ldb + 16, sizeof b1);
        const float *ak = a + kk * acs;
        for (int r = 0; r < 8; r++) {
            float x = ak[r * ars];
            acc[r][0] += x * b0;
            acc[r][1] += x * b1;
        }
    }
    for (int r = 0; r < 8; r++)
        for (int v = 0; v < 2; v++)
            memcpy(c + r * ldc + 16 * v, &acc[r][v], sizeof acc[r][v]);
}

/*
 * C[M, N] (+)= A[M, K] @ B[K, N], with A addressed through a row and a column stride
 * (so A may be a transposed view) and B, C row-major. wide selects the 8 x 16 tiles
 * where N allows; the tails fall back to row-wise axpys, which still vectorise over N.
 */
static ALWAYS_INLINE void mm(int64_t M, int64_t N, int64_t K, const float *restrict a, int64_t ars, int64_t acs,
                      const float *restrict b, int64_t ldb, float *restrict c, int64_t ldc, int accumulate,
                      int wide)
{
    int64_t i = 0;
    if (wide && N == 32) {
        for (; i + 8 <= M; i += 8)
            tile8x32(K, a + i * ars, ars, acs, b, ldb, c + i * ldc, ldc, accumulate);
    } else if (wide && N % 32 == 0) {
        for (; i + 4 <= M; i += 4) {
            int64_t j = 0;
            for (; j + 64 <= N; j += 64)
                tile4xv(K, a + i * ars, ars, acs, b + j, ldb, c + i * ldc + j, ldc, accumulate, 4);
            if (j < N)
                tile4xv(K, a + i * ars, ars, acs, b + j, ldb, c + i * ldc + j, ldc, accumulate, 2);
        }
    } else if (wide && N % 16 == 0) {
        for (; i + 8 <= M; i += 8)
            for (int64_t j = 0; j < N; j += 16)
                tile8x16(K, a + i * ars, ars, acs, b + j, ldb, c + i * ldc + j, ldc, accumulate);
    }
    for (; i + 4 <= M; i += 4) {
        int64_t j = 0;
        for (; j + 16 <= N; j += 16)
            tile4x16(K, a + i * ars, ars, acs, b + j, ldb, c + i * ldc + j, ldc, accumulate);
        if (j < N) {
            for (int64_t r = i; r < i + 4; r++) {
                float *cr = c + r * ldc;
                if (!accumulate)
                    for (int64_t jj = j; jj < N; jj++)
                        cr[jj] = 0.0f;
                for (int64_t kk = 0; kk < K; kk++) {
                    float x = a[r * ars + kk * acs];
                    const float *bk = b + kk * ldb;
                    for (int64_t jj = j; jj < N; jj++)
                        cr[jj] += x * bk[jj];
                }
            }
        }
    }
    for (; i < M; i++) {
        float *cr = c + i * ldc;
        if (!accumulate)
            for (int64_t jj = 0; jj < N; jj++)
                cr[jj] = 0.0f;
        for (int64_t kk = 0; kk < K; kk++) {
            float x = a[i * ars + kk * acs];
            const float *bk = b + kk * ldb;
            for (int64_t jj = 0; jj < N; jj++)
                cr[jj] += x * bk[jj];
        }
    }
}

/* max(init, x[0..n)) with sixteen independent lanes: a single running maximum is a
 * serial chain of compares that costs more than the block product it follows. */
static inline float row_max(const float *restrict x, int64_t n, float init)
{
    float lane[16];
    for (int l = 0; l < 16; l++)
        lane[l] = init;
    int64_t j = 0;
    for (; j + 16 <= n; j += 16)
        for (int l = 0; l < 16; l++)
            lane[l] = x[j + l] > lane[l] ? x[j + l] : lane[l];
    for (int w = 8; w >= 1; w /= 2)
        for (int l = 0; l < w; l++)
            lane[l] = lane[l + w] > lane[l] ? lane[l + w] : lane[l];
    float mx = lane[0];
    for (; j < n; j++)
        mx = x[j] > mx ? x[j] : mx;
    return mx;
}

/* The sum of x[0..n) over sixteen lanes and a halving tree: a simd reduction clause
 * ends in sixteen dependent scalar adds, which took a sixth of the forward (measured). */
static inline float row_sum(const float *restrict x, int64_t n)
{
    float lane[16] = {0};
    int64_t j = 0;
    for (; j + 16 <= n; j += 16)
        for (int l = 0; l < 16; l++)
            lane[l] += x[j + l];
    for (int w = 8; w >= 1; w /= 2)
        for (int l = 0; l < w; l++)
            lane[l] += lane[l + w];
    float sum = lane[0];
    for (; j < n; j++)
        sum += x[j];
    return sum;
}

/* One 16 x 16 tile transposed in registers: four rounds of interleaving rows i and i + 8
 * (a perfect shuffle each) turn rows into columns. */
static ALWAYS_INLINE void transpose16(v16f *r)
{
    for (int round = 0; round < 4; round++) {
        v16f t[16];
        for (int i = 0; i < 8; i++) {
            t[2 * i] = __builtin_shufflevector(r[i], r[i + 8], 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
            t[2 * i + 1] =
                __builtin_shufflevector(r[i], r[i + 8], 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
        }
        for (int i = 0; i < 16; i++)
            r[i] = t[i];
    }
}

/* The same, transposed to [HS, T]: 16 x 16 tiles through registers where they fit (each
 * source row of a tile is one cache line), scalar copies for the edges. */
static ALWAYS_INLINE void gather_cols(float *restrict dst, const float *restrict qkv, int64_t b, int64_t h,
                                      int which, int64_t T, int64_t C, int64_t HS)
{
    const float *src = qkv + b * T * 3 * C + which * C + h * HS;
    int64_t T16 = T & ~(int64_t)15, H16 = HS & ~(int64_t)15;
    for (int64_t t0 = 0; t0 < T16; t0 += 16)
        for (int64_t d0 = 0; d0 < H16; d0 += 16) {
            v16f r[16];
            for (int i = 0; i < 16; i++)
                memcpy(&r[i], src + (t0 + i) * 3 * C + d0, sizeof r[i]);
            transpose16(r);
            for (int i = 0; i < 16; i++)
                memcpy(dst + (d0 + i) * T + t0, &r[i], sizeof r[i]);
        }
    for (int64_t d = 0; d < HS; d++)
        for (int64_t t = d < H16 ? T16 : 0; t < T; t++)
            dst[d * T + t] = src[t * 3 * C + d];
}


/* The same for the rows pair (b, h) will write: nseg segments of HS floats, seg_stride
 * apart, in rows of ld floats. */
static void prefetch_writes(float *dst, int64_t ld, int nseg, int64_t seg_stride, int64_t b, int64_t h, int64_t T,
                            int64_t HS)
{
    for (int64_t t = 0; t < T; t++)
        for (int k = 0; k < nseg; k++) {
            float *row = dst + (b * T + t) * ld + k * seg_stride + h * HS;
            for (int64_t d = 0; d < HS; d += 16)
                __builtin_prefetch(row + d, 1, 2);
        }
}

/* The copies in and out of a slot are cloned too: in the baseline build they took a
 * fifth of the backward (measured). Only k and v are copied, transposed: q, v (in the
 * forward), k and dout are read where they are, through their row strides. */
VN_NN_CLONES static void fwd_gather(const attn_slot *sl, const float *qkv, int64_t b, int64_t h, int64_t T,
                                    int64_t C, int64_t HS)
{
    gather_cols(sl->kt, qkv, b, h, 1, T, C, HS);
}

/* Everything the backward of pair (b, h) reads besides q, k and dout, including
 * D_t = dout_t . out_t. */
VN_NN_CLONES static void bwd_gather(const attn_slot *sl, const float *qkv, const float *dout, const float *out,
                                    const float *lse, int64_t b, int64_t h, int64_t T, int64_t C, int64_t NH)
{
    int64_t HS = C / NH;
    gather_cols(sl->kt, qkv, b, h, 1, T, C, HS);
    gather_cols(sl->vt, qkv, b, h, 2, T, C, HS);
    const float *dob = dout + b * T * C + h * HS, *ob = out + b * T * C + h * HS;
    for (int64_t t = 0; t < T; t++) {
        const float *dr = dob + t * C, *orow = ob + t * C;
        float lane[8] = {0};
        int64_t d = 0;
        for (; d + 8 <= HS; d += 8)
            for (int l = 0; l < 8; l++)
                lane[l] += dr[d + l] * orow[d + l];
        float acc = ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
        for (; d < HS; d++)
            acc += dr[d] * orow[d];
        sl->dsum[t] = acc;
        sl->lse[t] = lse[(b * NH + h) * T + t];
    }
}

/* Add the pair's gradients into dqkv, or (set) store them: g + 0 is exactly what adding
 * into a zeroed buffer gives, -0 included. */
VN_NN_CLONES static void bwd_scatter(const attn_slot *sl, float *dqkv, int64_t b, int64_t h, int64_t T, int64_t C,
                                     int64_t HS, int set)
{
    float *dq = dqkv + b * T * 3 * C + h * HS;
    for (int64_t t = 0; t < T; t++) {
        float *restrict rq = dq + t * 3 * C, *restrict rk = rq + C, *restrict rv = rq + 2 * C;
        const float *restrict gq = sl->dq + t * HS, *restrict gk = sl->dk + t * HS, *restrict gv = sl->dv + t * HS;
        if (set) {
            for (int64_t d = 0; d < HS; d++)
                rq[d] = gq[d] + 0.0f;
            for (int64_t d = 0; d < HS; d++)
                rk[d] = gk[d] + 0.0f;
            for (int64_t d = 0; d < HS; d++)
                rv[d] = gv[d] + 0.0f;
            continue;
        }
        for (int64_t d = 0; d < HS; d++)
            rq[d] += gq[d];
        for (int64_t d = 0; d < HS; d++)
            rk[d] += gk[d];
        for (int64_t d = 0; d < HS; d++)
            rv[d] += gv[d];
    }
}

/* One block of query rows [q0, q0 + nq) of one (b, h) pair against all keys; qb is the
 * pair's first q row in qkv (rows 3C apart), v its first v row. Scores are kept
 * unscaled; the 1/sqrt(HS) goes into the exponent. */
VN_NN_CLONES static void fwd_block(const attn_slot *sl, float *out, float *lse, const float *qb, const float *vb,
                                   int64_t q0, int64_t nq, int64_t T, int64_t C, int64_t HS, float scale)
{
    float *restrict s = sl->s, *restrict acc = sl->acc, *restrict m = sl->m, *restrict l = sl->l;
    int64_t ld = 3 * C;
    for (int64_t i = 0; i < nq; i++) {
        m[i] = -INFINITY;
        l[i] = 0.0f;
    }
    memset(acc, 0, (size_t)(nq * HS) * sizeof *acc);
    for (int64_t k0 = 0; k0 < T; k0 += BK) {
        int64_t nk = T - k0 < BK ? T - k0 : BK;
        mm(nq, nk, HS, qb + q0 * ld, ld, 1, sl->kt + k0, T, s, BK, 0, sl->wide);
        for (int64_t i = 0; i < nq; i++) {
            float *si = s + i * BK;
            float mx = row_max(si, nk, m[i]);
            /* exp(-inf) is 0 for the first block, whose m is -inf. */
            float corr = m[i] == -INFINITY ? 0.0f : vn_nn_expf(scale * (m[i] - mx));
            float mxs = mx * scale;
            /* GCC left this loop scalar inside the clones; forcing it more than
             * doubled the forward's speed (measured). */
#pragma omp simd
            for (int64_t j = 0; j < nk; j++)
                si[j] = vn_nn_expf(si[j] * scale - mxs);
            l[i] = l[i] * corr + row_sum(si, nk);
            m[i] = mx;
            if (k0) {
                float *ai = acc + i * HS;
                for (int64_t d = 0; d < HS; d++)
                    ai[d] *= corr;
            }
        }
        mm(nq, HS, nk, s, BK, 1, vb + k0 * ld, ld, acc, HS, 1, sl->wide);
    }
    for (int64_t i = 0; i < nq; i++) {
        float inv = 1.0f / l[i];
        float *o = out + (q0 + i) * C;
        const float *ai = acc + i * HS;
        for (int64_t d = 0; d < HS; d++)
            o[d] = ai[d] * inv;
        lse[q0 + i] = m[i] * scale + logf(l[i]);
    }
}

void vn_attention_forward(const vn_nn *nn, float *out, float *lse, const float *qkv, int64_t B, int64_t T, int64_t C,
                          int64_t NH, float *scratch)
{
    VN_PROF_FLOPS(nn->prof, VN_PROF_ATTENTION_FWD, 4.0 * (double)B * (double)T * (double)T * (double)C);
    if (nn->dev) {
        vn_nn_record(nn->dev->attention_forward(nn->be->state, out, lse, qkv, B, T, C, NH));
        return;
    }
    if (vn_nn_attention_short_ok(T, C / NH)) {
        vn_nn_attention_forward_short(nn, out, lse, qkv, B, T, 1, C, NH);
        return;
    }
    int64_t HS = C / NH, nqb = (T + BQ - 1) / BQ, items = B * NH * nqb;
    float scale = 1.0f / sqrtf((float)HS);
    int nt = nn->n_threads > 0 ? nn->n_threads : 1;
    if (items == 0)
        return;
    if (items < nt)
        nt = (int)items;
#pragma omp parallel num_threads(nt)
    {
        int tid = omp_get_thread_num(), nth = omp_get_num_threads();
        attn_slot sl = slot_at(scratch, tid, T, HS);
        /* Contiguous ranges of items, so that a thread regathers only when its range
         * crosses into the next (b, h) pair. */
        int64_t lo = items * tid / nth, hi = items * (tid + 1) / nth, cur = -1;
        for (int64_t it = lo; it < hi; it++) {
            int64_t pair = it / nqb, qb = it % nqb, b = pair / NH, h = pair % NH;
            if (pair != cur) {
                fwd_gather(&sl, qkv, b, h, T, C, HS);
                prefetch_writes(out, C, 1, 0, b, h, T, HS);
                if ((pair + 1) * nqb < hi)
                    vn_nn_attention_prefetch_pair(qkv + (pair + 1) / NH * T * 3 * C + (pair + 1) % NH * HS, NULL,
                                                  NULL, T, C, 1, HS);
                cur = pair;
            }
            int64_t q0 = qb * BQ, nq = T - q0 < BQ ? T - q0 : BQ;
            const float *qbase = qkv + b * T * 3 * C + h * HS;
            fwd_block(&sl, out + b * T * C + h * HS, lse + pair * T, qbase, qbase + 2 * C, q0, nq, T, C, HS, scale);
        }
    }
}

/* The whole backward of one (b, h) pair into the slot's dq, dk, dv; qb is the pair's first q row (k is C further, rows 3C
 * apart), dob its first dout row (rows C apart). */
VN_NN_CLONES static void bwd_pair(const attn_slot *sl, const float *qb, const float *dob, int64_t T, int64_t C,
                                  int64_t HS, float scale)
{
    float *restrict s = sl->s, *restrict dp = sl->dp;
    const float *kb = qb + C;
    int64_t ld = 3 * C;
    memset(sl->dq, 0, (size_t)(3 * T * HS) * sizeof(float)); /* dq, dk, dv are adjacent */
    for (int64_t k0 = 0; k0 < T; k0 += BK) {
        int64_t nk = T - k0 < BK ? T - k0 : BK;
        for (int64_t q0 = 0; q0 < T; q0 += BQ) {
            int64_t nq = T - q0 < BQ ? T - q0 : BQ;
            const float *qi = qb + q0 * ld, *doi = dob + q0 * C;
            mm(nq, nk, HS, qi, ld, 1, sl->kt + k0, T, s, BK, 0, sl->wide);
            for (int64_t i = 0; i < nq; i++) {
                float *si = s + i * BK, li = sl->lse[q0 + i];
#pragma omp simd
                for (int64_t j = 0; j < nk; j++)
                    si[j] = vn_nn_expf(si[j] * scale - li);
            }
            /* dv_j += P^T dO_i */
            mm(nk, HS, nq, s, 1, BK, doi, C, sl->dv + k0 * HS, HS, 1, sl->wide);
            /* dP = dO_i V_j^T */
            mm(nq, nk, HS, doi, C, 1, sl->vt + k0, T, dp, BK, 0, sl->wide);
            for (int64_t i = 0; i < nq; i++) {
                float *si = s + i * BK, *dpi = dp + i * BK, di = sl->dsum[q0 + i];
#pragma omp simd
                for (int64_t j = 0; j < nk; j++)
                    dpi[j] = si[j] * (dpi[j] - di);
            }
            /* dq_i += dS K_j */
            mm(nq, HS, nk, dp, BK, 1, kb + k0 * ld, ld, sl->dq + q0 * HS, HS, 1, sl->wide);
            /* dk_j += dS^T Q_i */
            mm(nk, HS, nq, dp, 1, BK, qi, ld, sl->dk + k0 * HS, HS, 1, sl->wide);
        }
    }
    /* the 1/sqrt(HS) of the scores, here rather than in the scatter, so that the
     * accumulating scatter adds exactly these values */
    for (int64_t i = 0; i < 2 * T * HS; i++) /* dq and dk are adjacent */
        sl->dq[i] *= scale;
}

static void attention_backward_host(const vn_nn *nn, float *dqkv, const float *dout, const float *qkv,
                                    const float *out, const float *lse, int64_t B, int64_t T, int64_t C, int64_t NH,
                                    float *scratch, int set)
{
    int64_t HS = C / NH, pairs = B * NH;
    float scale = 1.0f / sqrtf((float)HS);
    int nt = nn->n_threads > 0 ? nn->n_threads : 1;
    if (pairs == 0 || T == 0)
        return;
    if (vn_nn_attention_short_ok(T, HS)) {
        vn_nn_attention_backward_short(nn, dqkv, dout, qkv, out, lse, B, T, 1, C, NH, set);
        return;
    }
    if (pairs < nt)
        nt = (int)pairs;
#pragma omp parallel num_threads(nt)
    {
        int tid = omp_get_thread_num(), nth = omp_get_num_threads();
        attn_slot sl = slot_at(scratch, tid, T, HS);
        int64_t lo = pairs * tid / nth, hi = pairs * (tid + 1) / nth;
        for (int64_t pair = lo; pair < hi; pair++) {
            int64_t b = pair / NH, h = pair % NH;
            bwd_gather(&sl, qkv, dout, out, lse, b, h, T, C, NH);
            prefetch_writes(dqkv, 3 * C, 3, C, b, h, T, HS);
            if (pair + 1 < hi) {
                int64_t nb = (pair + 1) / NH, nh = (pair + 1) % NH;
                vn_nn_attention_prefetch_pair(qkv + nb * T * 3 * C + nh * HS, dout + nb * T * C + nh * HS,
                                              out + nb * T * C + nh * HS, T, C, 1, HS);
            }
            bwd_pair(&sl, qkv + b * T * 3 * C + h * HS, dout + b * T * C + h * HS, T, C, HS, scale);
            bwd_scatter(&sl, dqkv, b, h, T, C, HS, set);
        }
    }
}

void vn_attention_backward(const vn_nn *nn, float *dqkv, const float *dout, const float *qkv, const float *out,
                           const float *lse, int64_t B, int64_t T, int64_t C, int64_t NH, float *scratch)
{
    VN_PROF_FLOPS(nn->prof, VN_PROF_ATTENTION_BWD, 8.0 * (double)B * (double)T * (double)T * (double)C);
    if (nn->dev) {
        vn_nn_record(nn->dev->attention_backward(nn->be->state, dqkv, dout, qkv, out, lse, B, T, C, NH));
        return;
    }
    if (!dqkv)
        return;
    attention_backward_host(nn, dqkv, dout, qkv, out, lse, B, T, C, NH, scratch, 0);
}

void vn_attention_backward_set(const vn_nn *nn, float *dqkv, const float *dout, const float *qkv, const float *out,
                               const float *lse, int64_t B, int64_t T, int64_t C, int64_t NH, float *scratch)
{
    if (!dqkv)
        return;
    if (nn->dev) {
        vn_nn_zero(nn, dqkv, B * T * 3 * C);
        vn_attention_backward(nn, dqkv, dout, qkv, out, lse, B, T, C, NH, scratch);
        return;
    }
    VN_PROF_FLOPS(nn->prof, VN_PROF_ATTENTION_BWD, 8.0 * (double)B * (double)T * (double)T * (double)C);
    attention_backward_host(nn, dqkv, dout, qkv, out, lse, B, T, C, NH, scratch, 1);
}

void vn_attention_group_temporal(const vn_nn *nn, float *dst, const float *src, int64_t B, int64_t F, int64_t S,
                                 int64_t W)
{
    VN_PROF(nn->prof, VN_PROF_ATTENTION_REGROUP);
    if (nn->dev) {
        vn_nn_record(nn->dev->group_temporal(nn->be->state, dst, src, B, F, S, W));
        return;
    }
    int64_t rows = B * S * F;
#pragma omp parallel for num_threads(nn->n_threads) schedule(static) if (rows * W >= VN_NN_PAR_MIN)
    for (int64_t r = 0; r < rows; r++) {
        int64_t f = r % F, s = (r / F) % S, b = r / (F * S);
        memcpy(dst + r * W, src + ((b * F + f) * S + s) * W, (size_t)W * sizeof *dst);
    }
}

void vn_attention_ungroup_temporal(const vn_nn *nn, float *dst, const float *src, int64_t B, int64_t F, int64_t S,
                                   int64_t W, int accumulate)
{
    VN_PROF(nn->prof, VN_PROF_ATTENTION_REGROUP);
    if (nn->dev) {
        vn_nn_record(nn->dev->ungroup_temporal(nn->be->state, dst, src, B, F, S, W, accumulate));
        return;
    }
    int64_t rows = B * S * F;
#pragma omp parallel for num_threads(nn->n_threads) schedule(static) if (rows * W >= VN_NN_PAR_MIN)
    for (int64_t r = 0; r < rows; r++) {
        int64_t f = r % F, s = (r / F) % S, b = r / (F * S);
        float *d = dst + ((b * F + f) * S + s) * W;
        const float *x = src + r * W;
        if (accumulate)
            for (int64_t i = 0; i < W; i++)
                d[i] += x[i];
        else
            memcpy(d, x, (size_t)W * sizeof *d);
    }
}

int vn_attention_temporal_in_place(const vn_nn *nn, int64_t F, int64_t C, int64_t NH)
{
    return !nn->dev && NH > 0 && C % NH == 0 && vn_nn_attention_short_ok(F, C / NH);
}

void vn_attention_forward_temporal(const vn_nn *nn, float *out, float *lse, const float *qkv, int64_t B, int64_t F,
                                   int64_t S, int64_t C, int64_t NH, float *qkvg, float *outg, float *scratch)
{
    if (!vn_attention_temporal_in_place(nn, F, C, NH)) {
        vn_attention_group_temporal(nn, qkvg, qkv, B, F, S, 3 * C);
        vn_attention_forward(nn, outg, lse, qkvg, B * S, F, C, NH, scratch);
        vn_attention_ungroup_temporal(nn, out, outg, B, F, S, C, 0);
        return;
    }
    VN_PROF_FLOPS(nn->prof, VN_PROF_ATTENTION_FWD, 4.0 * (double)(B * S) * (double)F * (double)F * (double)C);
    vn_nn_attention_forward_short(nn, out, lse, qkv, B * S, F, S, C, NH);
}

void vn_attention_backward_temporal_set(const vn_nn *nn, float *dqkv, const float *dout, const float *qkv,
                                        const float *out, const float *lse, int64_t B, int64_t F, int64_t S, int64_t C,
                                        int64_t NH, const float *qkvg, const float *outg, float *dqkvg, float *doutg,
                                        float *scratch)
{
    if (!dqkv)
        return;
    if (!vn_attention_temporal_in_place(nn, F, C, NH)) {
        vn_attention_group_temporal(nn, doutg, dout, B, F, S, C);
        vn_attention_backward_set(nn, dqkvg, doutg, qkvg, outg, lse, B * S, F, C, NH, scratch);
        vn_attention_ungroup_temporal(nn, dqkv, dqkvg, B, F, S, 3 * C, 0);
        return;
    }
    VN_PROF_FLOPS(nn->prof, VN_PROF_ATTENTION_BWD, 8.0 * (double)(B * S) * (double)F * (double)F * (double)C);
    vn_nn_attention_backward_short(nn, dqkv, dout, qkv, out, lse, B * S, F, S, C, NH, 1);
}

/* Pull the next pair's rows toward the cache while this one computes: a few lines at a
 * stride of S 3C (or S C) floats, which the hardware prefetchers miss. */
void vn_nn_attention_prefetch_pair(const float *qb, const float *dob, const float *ob, int64_t T, int64_t C,
                                   int64_t S, int64_t HS)
{
    for (int64_t t = 0; t < T; t++)
        for (int64_t d = 0; d < HS; d += 16) {
            const float *q = qb + t * S * 3 * C + d;
            __builtin_prefetch(q, 0, 2);
            __builtin_prefetch(q + C, 0, 2);
            __builtin_prefetch(q + 2 * C, 0, 2);
            if (dob) {
                __builtin_prefetch(dob + t * S * C + d, 0, 2);
                __builtin_prefetch(ob + t * S * C + d, 0, 2);
            }
        }
}
