/*
 * ops_attention_short.c: the attention core for short sequences: divided attention's
 * temporal groups (8 frames at the presets) and anything else under 16 positions, with
 * a head size that is a multiple of 16. A whole (b, h) pair is done at once, the keys of
 * a score row in the lanes of one vector; the block kernels of ops_attention.c spend
 * most of such a pair on tile set-up and column tails (temporal groups ran at 12 GFLOP/s
 * forward and 15 backward through them, measured; bench/bench_nn_ops).
 *
 * The pair's sizes are padded to TT = 8 or 16, a compile-time constant, so that a pair's
 * score rows and accumulators live in registers: rows past T read a zero row and are
 * never stored; lanes past T are -inf before a maximum and 0 after an exponential.
 *
 * Determinism: every pair, and thus every output and gradient element, belongs to one
 * thread with a fixed loop order, whatever the thread count.
 */
#pragma GCC optimize("fp-contract=fast")

#include <math.h>
#include <string.h>

#include "nn/ops.h"
#include "nn/ops_internal.h"

#define TT_MAX 16
#define HS_MAX 256

#define ALWAYS_INLINE inline __attribute__((always_inline))

typedef float v16f __attribute__((vector_size(64)));
typedef int v16i __attribute__((vector_size(64)));

int vn_nn_attention_short_ok(int64_t T, int64_t HS)
{
    /* at 16 the block kernels' 8 x 16 tiles fit a pair exactly and are as fast (measured) */
    return T >= 1 && T < TT_MAX && HS % 16 == 0 && HS <= HS_MAX;
}

/* x = max(x, y) lane by lane (a macro: vector arguments of functions change the ABI
 * between the clones, which GCC warns about) */
#define VMAX16(x, y)                                                                       \
    do {                                                                                   \
        v16i m_ = (x) > (y);                                                               \
        (x) = (v16f)((m_ & (v16i)(x)) | (~m_ & (v16i)(y)));                                \
    } while (0)

/* The largest of the sixteen lanes of *px, in four halving steps. */
static ALWAYS_INLINE float hmax16(const v16f *px)
{
    v16f x = *px, y;
    y = __builtin_shufflevector(x, x, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7);
    VMAX16(x, y);
    y = __builtin_shufflevector(x, x, 4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11);
    VMAX16(x, y);
    y = __builtin_shufflevector(x, x, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);
    VMAX16(x, y);
    y = __builtin_shufflevector(x, x, 1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14);
    VMAX16(x, y);
    return x[0];
}

/* The sum of the sixteen lanes of *px, in four halving steps (a simd reduction clause
 * ends in sixteen dependent scalar adds). */
static ALWAYS_INLINE float hsum16(const v16f *px)
{
    v16f x = *px;
    x += __builtin_shufflevector(x, x, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7);
    x += __builtin_shufflevector(x, x, 4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11);
    x += __builtin_shufflevector(x, x, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);
    x += __builtin_shufflevector(x, x, 1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14);
    return x[0];
}

static const float zero_row[HS_MAX];

/* t[d] lane j = rows[j * ld + d] for j < T, 0 past T: a pair's keys (or values) with the
 * positions in the lanes. */
static ALWAYS_INLINE void lanes_of(v16f *restrict t, const float *restrict rows, int64_t ld, int64_t T, int64_t HS)
{
    for (int64_t d = 0; d < HS; d++)
        t[d] = (v16f){0};
    for (int64_t j = 0; j < T; j++)
        for (int64_t d = 0; d < HS; d++)
            t[d][j] = rows[j * ld + d];
}

/* s[i] = sum_d a_i[d] t[d] for the TT rows a_i (rows past T: the zero row). */
static ALWAYS_INLINE void row_products(v16f *restrict s, const float *const *a, const v16f *restrict t, int64_t HS,
                                       const int TT)
{
    for (int i = 0; i < TT; i++)
        s[i] = (v16f){0};
    for (int64_t d = 0; d < HS; d++) {
        v16f x = t[d];
        for (int i = 0; i < TT; i++)
            s[i] += a[i][d] * x;
    }
}

/* out_i[d] = sum_j w[i][j] r_j[d] over j < T, for the TT rows i, stored for i < T
 * (accumulate: added to what out holds); r_j = rows + j * ld. */
static ALWAYS_INLINE void weighted_rows(float *restrict out, int64_t ldo, const float (*w)[TT_MAX],
                                        const float *restrict rows, int64_t ld, int64_t T, int64_t HS, float alpha,
                                        int accumulate, const int TT)
{
    for (int64_t d0 = 0; d0 < HS; d0 += 16) {
        v16f acc[TT_MAX];
        for (int i = 0; i < TT; i++)
            acc[i] = (v16f){0};
        for (int64_t j = 0; j < T; j++) {
            v16f r;
            memcpy(&r, rows + j * ld + d0, sizeof r);
            for (int i = 0; i < TT; i++)
                acc[i] += w[i][j] * r;
        }
        for (int64_t i = 0; i < T; i++) {
            v16f o = acc[i] * alpha;
            if (accumulate) {
                v16f prev;
                memcpy(&prev, out + i * ldo + d0, sizeof prev);
                o += prev;
            }
            memcpy(out + i * ldo + d0, &o, sizeof o);
        }
    }
}

/* The transpose of w restricted to T x T, padded with zeros to TT_MAX. */
static ALWAYS_INLINE void transpose_w(float (*wt)[TT_MAX], const float (*w)[TT_MAX], int64_t T)
{
    memset(wt, 0, TT_MAX * sizeof *wt);
    for (int64_t i = 0; i < T; i++)
        for (int64_t j = 0; j < T; j++)
            wt[j][i] = w[i][j];
}

static ALWAYS_INLINE void pad_lanes(v16f *pad, v16f *keep, int64_t T)
{
    for (int j = 0; j < TT_MAX; j++) {
        (*pad)[j] = j < T ? 0.0f : -INFINITY;
        (*keep)[j] = j < T ? 1.0f : 0.0f;
    }
}

static ALWAYS_INLINE void fwd_pair_tt(float *restrict out, float *restrict lse, const float *restrict qb, int64_t T,
                                      int64_t C, int64_t S, int64_t HS, float scale, const int TT)
{
    const int64_t ld = S * 3 * C;
    const float *qr[TT_MAX];
    v16f kt[HS_MAX], sc[TT_MAX], pad, keep;
    float p[TT_MAX][TT_MAX];
    for (int i = 0; i < TT; i++)
        qr[i] = i < T ? qb + i * ld : zero_row;
    lanes_of(kt, qb + C, ld, T, HS);
    row_products(sc, qr, kt, HS, TT);
    pad_lanes(&pad, &keep, T);
    for (int64_t i = 0; i < T; i++) {
        v16f x = sc[i] + pad;
        float mxs = hmax16(&x) * scale;
        v16f e;
#pragma omp simd
        for (int j = 0; j < TT_MAX; j++)
            e[j] = vn_nn_expf(sc[i][j] * scale - mxs) * keep[j];
        float sum = hsum16(&e), inv = 1.0f / sum;
        for (int j = 0; j < TT_MAX; j++)
            p[i][j] = e[j] * inv;
        lse[i] = mxs + logf(sum);
    }
    for (int64_t i = T; i < TT; i++)
        memset(p[i], 0, sizeof p[i]);
    weighted_rows(out, S * C, (const float(*)[TT_MAX])p, qb + 2 * C, ld, T, HS, 1.0f, 0, TT);
}

VN_NN_CLONES static void fwd_pair(float *out, float *lse, const float *qb, int64_t T, int64_t C, int64_t S,
                                  int64_t HS, float scale)
{
    if (T <= 8)
        fwd_pair_tt(out, lse, qb, T, C, S, HS, scale, 8);
    else
        fwd_pair_tt(out, lse, qb, T, C, S, HS, scale, 16);
}

/*
 * The backward of one pair, flash-attention 2 style on a whole pair: P is recomputed
 * from q, k and lse; dP = dO V^T; dS = P (dP - D) with D_i = dO_i . O_i; then
 * dq = scale dS K, dk = scale dS^T Q, dv = P^T dO, stored (set) or added into dqkv.
 */
static ALWAYS_INLINE void bwd_pair_tt(float *restrict dqb, const float *restrict qb, const float *restrict dob,
                                      const float *restrict ob, const float *restrict lse, int64_t T, int64_t C,
                                      int64_t S, int64_t HS, float scale, int set, const int TT)
{
    const int64_t ld = S * 3 * C, ldo = S * C;
    const float *qr[TT_MAX], *dor[TT_MAX];
    v16f t[HS_MAX], sc[TT_MAX], dp[TT_MAX], pad, keep;
    float p[TT_MAX][TT_MAX], ds[TT_MAX][TT_MAX], wt[TT_MAX][TT_MAX];
    for (int i = 0; i < TT; i++) {
        qr[i] = i < T ? qb + i * ld : zero_row;
        dor[i] = i < T ? dob + i * ldo : zero_row;
    }
    pad_lanes(&pad, &keep, T);
    lanes_of(t, qb + C, ld, T, HS);
    row_products(sc, qr, t, HS, TT);
    lanes_of(t, qb + 2 * C, ld, T, HS);
    row_products(dp, dor, t, HS, TT);
    for (int64_t i = 0; i < T; i++) {
        const float *o = ob + i * ldo, *g = dor[i];
        float di = 0.0f;
        for (int64_t d = 0; d < HS; d++)
            di += g[d] * o[d];
        float li = lse[i];
#pragma omp simd
        for (int j = 0; j < TT_MAX; j++) {
            float e = vn_nn_expf(sc[i][j] * scale - li) * keep[j];
            p[i][j] = e;
            ds[i][j] = e * (dp[i][j] - di);
        }
    }
    for (int64_t i = T; i < TT; i++) {
        memset(p[i], 0, sizeof p[i]);
        memset(ds[i], 0, sizeof ds[i]);
    }
    int acc = !set;
    /* dq_i = scale sum_j dS_ij k_j */
    weighted_rows(dqb, ld, (const float(*)[TT_MAX])ds, qb + C, ld, T, HS, scale, acc, TT);
    /* dk_j = scale sum_i dS_ij q_i */
    transpose_w(wt, (const float(*)[TT_MAX])ds, T);
    weighted_rows(dqb + C, ld, (const float(*)[TT_MAX])wt, qb, ld, T, HS, scale, acc, TT);
    /* dv_j = sum_i P_ij dO_i */
    transpose_w(wt, (const float(*)[TT_MAX])p, T);
    weighted_rows(dqb + 2 * C, ld, (const float(*)[TT_MAX])wt, dob, ldo, T, HS, 1.0f, acc, TT);
}

VN_NN_CLONES static void bwd_pair(float *dqb, const float *qb, const float *dob, const float *ob, const float *lse,
                                  int64_t T, int64_t C, int64_t S, int64_t HS, float scale, int set)
{
    if (T <= 8)
        bwd_pair_tt(dqb, qb, dob, ob, lse, T, C, S, HS, scale, set, 8);
    else
        bwd_pair_tt(dqb, qb, dob, ob, lse, T, C, S, HS, scale, set, 16);
}

/* Sequence g's first row: sequences of T rows S apart, S of them interleaved in each
 * block of T S rows (S = 1: one after another). */
static inline int64_t seq_row(int64_t g, int64_t T, int64_t S)
{
    return g / S * T * S + g % S;
}

void vn_nn_attention_forward_short(const struct vn_nn *nn, float *out, float *lse, const float *qkv, int64_t G,
                                   int64_t T, int64_t S, int64_t C, int64_t NH)
{
    int64_t HS = C / NH, pairs = G * NH;
    float scale = 1.0f / sqrtf((float)HS);
#pragma omp parallel for num_threads(nn->n_threads) schedule(static) if (pairs * T * T * HS >= VN_NN_PAR_MIN)
    for (int64_t pair = 0; pair < pairs; pair++) {
        int64_t r = seq_row(pair / NH, T, S), h = pair % NH;
        if (pair + 1 < pairs)
            vn_nn_attention_prefetch_pair(qkv + seq_row((pair + 1) / NH, T, S) * 3 * C + (pair + 1) % NH * HS, NULL, NULL, T, C, S,
                          HS);
        fwd_pair(out + r * C + h * HS, lse + pair * T, qkv + r * 3 * C + h * HS, T, C, S, HS, scale);
    }
}

void vn_nn_attention_backward_short(const struct vn_nn *nn, float *dqkv, const float *dout, const float *qkv,
                                    const float *out, const float *lse, int64_t G, int64_t T, int64_t S, int64_t C,
                                    int64_t NH, int set)
{
    int64_t HS = C / NH, pairs = G * NH;
    float scale = 1.0f / sqrtf((float)HS);
#pragma omp parallel for num_threads(nn->n_threads) schedule(static) if (pairs * T * T * HS >= VN_NN_PAR_MIN)
    for (int64_t pair = 0; pair < pairs; pair++) {
        int64_t r = seq_row(pair / NH, T, S), h = pair % NH;
        if (pair + 1 < pairs) {
            int64_t nr = seq_row((pair + 1) / NH, T, S), nh = (pair + 1) % NH;
            vn_nn_attention_prefetch_pair(qkv + nr * 3 * C + nh * HS, dout + nr * C + nh * HS, out + nr * C + nh * HS, T, C, S, HS);
        }
        bwd_pair(dqkv + r * 3 * C + h * HS, qkv + r * 3 * C + h * HS, dout + r * C + h * HS, out + r * C + h * HS,
                 lse + pair * T, T, C, S, HS, scale, set);
    }
}
