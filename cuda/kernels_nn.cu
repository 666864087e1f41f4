/*
 * The engine's memory, dense and embedding kernels (kernels_nn.h): the device twins of
 * the host ops in src/nn/ops_dense.c, ops_embed.c and ops_attention.c, with the same
 * formulas, so that results agree with the host to float rounding.
 *
 * Four shapes of kernel cover them:
 *  - elementwise: a grid-stride loop over n elements;
 *  - rowwise: a 2-D grid, threadIdx.x along a row (a warp reads 32 consecutive floats)
 *    and threadIdx.y across rows, for the copies and row-mapped adds;
 *  - one warp per row, reducing with shuffles, for layernorm, softmax and l2norm;
 *  - column reductions (bias and layernorm parameter gradients, mean pooling): one
 *    block per tile of columns, each thread summing a fixed stride of rows in double,
 *    then a fixed shared-memory tree over the threads of a column.
 * No float atomics anywhere: every sum has an order fixed by the shapes, so results are
 * the same bits on every run.
 */
#include "kernels_nn.h"

#include <math.h>

namespace {

#include "kernels_common.cuh"

constexpr int kThreads = 256;  /* elementwise blocks */
constexpr int kRowTX = 32;     /* rowwise blocks: one warp along a row ... */
constexpr int kRowTY = 8;      /* ... and eight rows */
constexpr int kRowWarps = 8;   /* warp-per-row blocks */

/* Column reductions: 8 columns x 64 row lanes. A warp then reads 4 rows x 32 bytes,
 * whole sectors, and a layer of OC = 768 still makes 96 blocks; 64 lanes keep enough
 * loads in flight per block to stream rows at full bandwidth. */
constexpr int kColTX = 8;
constexpr int kColTY = 64;

constexpr float kLnEps = 1e-5f; /* VN_NN_LN_EPS */

constexpr float kGeluS = 0.7978845608028654f; /* sqrt(2 / pi) */
constexpr float kGeluA = 0.044715f;

constexpr unsigned kFullMask = 0xffffffffu;

/* NaN never wins a comparison, so NaN elements are skipped, as vn_nn_max does. */
__device__ __forceinline__ float warp_max(float v)
{
    for (int o = 16; o > 0; o >>= 1) {
        float u = __shfl_xor_sync(kFullMask, v, o);
        v = u > v ? u : v;
    }
    return v;
}

/* tanh of GELU's inner argument exactly as ops_dense.c computes it: clamped to
 * |u| <= 10 (tanh is +-1 in float there) so that e^{2u} cannot overflow. The clamps
 * are comparisons, not fminf/fmaxf, so that NaN passes through as on the host. */
__device__ __forceinline__ float gelu_tanh(float x)
{
    float u = kGeluS * (x + kGeluA * x * x * x);
    u = u > 10.0f ? 10.0f : u;
    u = u < -10.0f ? -10.0f : u;
    return 1.0f - 2.0f / (1.0f + expf(2.0f * u));
}

/* ---- elementwise ------------------------------------------------------------------ */

template <class Op>
__global__ void __launch_bounds__(kThreads) elementwise_kernel(int64_t n, Op op)
{
    const int64_t step = (int64_t)gridDim.x * blockDim.x;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += step)
        op(i);
}

template <class Op>
cudaError_t launch_elementwise(cudaStream_t stream, int64_t n, const Op &op)
{
    elementwise_kernel<<<blocks_for(n, kThreads, kMaxBlocks), kThreads, 0, stream>>>(n, op);
    return cudaGetLastError();
}

struct Fill {
    float *x;
    float value;
    __device__ void operator()(int64_t i) const { x[i] = value; }
};

struct GeluForward {
    float *out;
    const float *inp;
    __device__ void operator()(int64_t i) const
    {
        float x = inp[i];
        out[i] = 0.5f * x * (1.0f + gelu_tanh(x));
    }
};

struct GeluBackward {
    float *dinp;
    const float *inp, *dout;
    __device__ void operator()(int64_t i) const
    {
        float x = inp[i];
        float t = gelu_tanh(x);
        float d = 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * kGeluS * (1.0f + 3.0f * kGeluA * x * x);
        dinp[i] += d * dout[i];
    }
};

struct AddTo {
    float *y;
    const float *x;
    __device__ void operator()(int64_t i) const { y[i] += x[i]; }
};

/* ---- rowwise ------------------------------------------------------------------------
 * Op::row(r) does the per-row index arithmetic (divisions, index loads) once per row;
 * op(row, j) handles column j. */

template <class Op>
__global__ void __launch_bounds__(kRowTX * kRowTY) rowwise_kernel(int64_t rows, int64_t width, Op op)
{
    const int64_t col0 = (int64_t)blockIdx.x * kRowTX + threadIdx.x;
    if (col0 >= width)
        return;
    const int64_t col_step = (int64_t)gridDim.x * kRowTX;
    const int64_t row_step = (int64_t)gridDim.y * kRowTY;
    for (int64_t r = (int64_t)blockIdx.y * kRowTY + threadIdx.y; r < rows; r += row_step) {
        const typename Op::Row row = op.row(r);
        for (int64_t j = col0; j < width; j += col_step)
            op(row, j);
    }
}

template <class Op>
cudaError_t launch_rowwise(cudaStream_t stream, int64_t rows, int64_t width, const Op &op)
{
    const dim3 block(kRowTX, kRowTY);
    const dim3 grid(blocks_for(width, kRowTX, kMaxBlocks), blocks_for(rows, kRowTY, kMaxBlocks));
    rowwise_kernel<<<grid, block, 0, stream>>>(rows, width, op);
    return cudaGetLastError();
}

/* A destination row and the source row it pairs with. */
struct RowPair {
    float *d;
    const float *s;
};

struct GatherRows {
    float *dst;
    const float *src;
    const int32_t *idx;
    int64_t width;
    typedef RowPair Row;
    __device__ Row row(int64_t r) const { return {dst + r * width, src + (int64_t)idx[r] * width}; }
    __device__ void operator()(const Row &rw, int64_t j) const { rw.d[j] = rw.s[j]; }
};

/* The idx[r] are distinct, so every destination element has one writer. */
struct ScatterAddRows {
    float *dst;
    const float *src;
    const int32_t *idx;
    int64_t width;
    typedef RowPair Row;
    __device__ Row row(int64_t r) const { return {dst + (int64_t)idx[r] * width, src + r * width}; }
    __device__ void operator()(const Row &rw, int64_t j) const { rw.d[j] += rw.s[j]; }
};

struct MeanpoolBackward {
    float *dinp;
    const float *dout;
    int64_t T, C;
    typedef RowPair Row;
    __device__ Row row(int64_t r) const { return {dinp + r * C, dout + (r / T) * C}; }
    /* A correctly rounded g / T: the reference's double quotient rounded to float. */
    __device__ void operator()(const Row &rw, int64_t j) const { rw.d[j] += rw.s[j] / (float)T; }
};

/* Row r = (b, s, f) of the grouped layout and the row (b, f, s) of the token layout. */
__device__ inline int64_t token_row(int64_t r, int64_t F, int64_t S)
{
    int64_t f = r % F, s = (r / F) % S, b = r / (F * S);
    return (b * F + f) * S + s;
}

struct GroupTemporal {
    float *dst;
    const float *src;
    int64_t F, S, W;
    typedef RowPair Row;
    __device__ Row row(int64_t r) const { return {dst + r * W, src + token_row(r, F, S) * W}; }
    __device__ void operator()(const Row &rw, int64_t j) const { rw.d[j] = rw.s[j]; }
};

struct UngroupTemporal {
    float *dst;
    const float *src;
    int64_t F, S, W;
    int accumulate;
    typedef RowPair Row;
    __device__ Row row(int64_t r) const { return {dst + token_row(r, F, S) * W, src + r * W}; }
    __device__ void operator()(const Row &rw, int64_t j) const
    {
        if (accumulate)
            rw.d[j] += rw.s[j];
        else
            rw.d[j] = rw.s[j];
    }
};

/* Row r = (n, f, k) of the patches: the tubelet at spatial position s = keep[n, k] (or
 * k) over frames f*tt .. f*tt+tt-1; column j = (ch, kt, kh, kw). row() points s at the
 * clip element (n, ch 0, frame f*tt, pixel (lh*p, lw*p)); the column adds the rest. */
struct Unfold {
    float *patches;
    const float *clips;
    const int32_t *keep;
    int64_t nk, F, Ch, Fr, H, W, tt, p, Lw, K;
    typedef RowPair Row;
    __device__ Row row(int64_t r) const
    {
        int64_t k = r % nk, f = (r / nk) % F, n = r / (nk * F);
        int64_t s = keep ? (int64_t)keep[n * nk + k] : k;
        int64_t lh = s / Lw, lw = s % Lw;
        return {patches + r * K, clips + ((n * Ch * Fr + f * tt) * H + lh * p) * W + lw * p};
    }
    __device__ void operator()(const Row &rw, int64_t j) const
    {
        int64_t q = j / p, kw = j - q * p;
        int64_t q2 = q / p, kh = q - q2 * p;
        int64_t ch = q2 / tt, kt = q2 - ch * tt;
        rw.d[j] = rw.s[((ch * Fr + kt) * H + kh) * W + kw];
    }
};

/* out may alias inp: each element is read and then written by the same thread. */
struct PosAdd {
    float *out;
    const float *inp, *pos;
    const int32_t *pos_idx;
    int64_t L, C;
    struct Row {
        float *o;
        const float *x, *p;
    };
    __device__ Row row(int64_t r) const
    {
        int64_t l = pos_idx ? (int64_t)pos_idx[r] : r % L;
        return {out + r * C, inp + r * C, pos + l * C};
    }
    __device__ void operator()(const Row &rw, int64_t j) const { rw.o[j] = rw.x[j] + rw.p[j]; }
};

/* dpos[l] += dout[l] + dout[l + L] + ... for the rows r = l (mod L): one thread per
 * (l, column) sums them in row order, as vn_posembed_backward does (the sum starts from
 * the first term, so the bits match the host's). Launched over l < min(L, rows). */
struct PosGradStrided {
    float *dpos;
    const float *dout;
    int64_t rows, L, C;
    struct Row {
        float *d;
        int64_t l;
    };
    __device__ Row row(int64_t l) const { return {dpos + l * C, l}; }
    __device__ void operator()(const Row &rw, int64_t j) const
    {
        float acc = dout[rw.l * C + j];
        for (int64_t r = rw.l + L; r < rows; r += L)
            acc += dout[r * C + j];
        rw.d[j] += acc;
    }
};

/* ---- one warp per row --------------------------------------------------------------
 * Op(n, lane) handles row n; lane strides over the columns, so any C works. The row
 * loop is warp-uniform, so every shuffle has the whole warp. */

template <class Op>
__global__ void __launch_bounds__(kRowWarps * 32) warp_rows_kernel(int64_t N, Op op)
{
    const int lane = (int)(threadIdx.x & 31);
    const int64_t step = (int64_t)gridDim.x * kRowWarps;
    for (int64_t n = (int64_t)blockIdx.x * kRowWarps + (threadIdx.x >> 5); n < N; n += step)
        op(n, lane);
}

template <class Op>
cudaError_t launch_warp_rows(cudaStream_t stream, int64_t N, const Op &op)
{
    warp_rows_kernel<<<blocks_for(N, kRowWarps, kMaxBlocks), kRowWarps * 32, 0, stream>>>(N, op);
    return cudaGetLastError();
}

/* Two passes over the row for the statistics (mean, then squared deviations), biased
 * variance, as vn_nn_row_stats; the later passes re-read the row from cache. */
struct LayerNormForward {
    float *out, *mean, *rstd;
    const float *inp, *w, *b;
    int64_t C;
    __device__ void operator()(int64_t n, int lane) const
    {
        const float *x = inp + n * C;
        float s = 0.0f;
        for (int64_t c = lane; c < C; c += 32)
            s += x[c];
        const float m = warp_sum(s) / (float)C;
        float ss = 0.0f;
        for (int64_t c = lane; c < C; c += 32) {
            float d = x[c] - m;
            ss += d * d;
        }
        const float r = 1.0f / sqrtf(warp_sum(ss) / (float)C + kLnEps);
        float *y = out + n * C;
        for (int64_t c = lane; c < C; c += 32)
            y[c] = (x[c] - m) * r * (w ? w[c] : 1.0f) + (b ? b[c] : 0.0f);
        if (lane == 0) {
            if (mean)
                mean[n] = m;
            if (rstd)
                rstd[n] = r;
        }
    }
};

/* dx += r (gn - mean(gn) - xhat mean(gn xhat)), gn = g w: ln_backward_row's formula. */
struct LayerNormBackward {
    float *dinp;
    const float *dout, *inp, *w, *mean, *rstd;
    int64_t C;
    __device__ void operator()(int64_t n, int lane) const
    {
        const float *x = inp + n * C, *g = dout + n * C;
        const float m = mean[n], r = rstd[n];
        float sg = 0.0f, sgx = 0.0f;
        for (int64_t c = lane; c < C; c += 32) {
            float gn = g[c] * (w ? w[c] : 1.0f);
            sg += gn;
            sgx += gn * ((x[c] - m) * r);
        }
        const float mg = warp_sum(sg) / (float)C, mgx = warp_sum(sgx) / (float)C;
        float *dx = dinp + n * C;
        for (int64_t c = lane; c < C; c += 32) {
            float xhat = (x[c] - m) * r;
            float gn = g[c] * (w ? w[c] : 1.0f);
            dx[c] += r * (gn - mg - xhat * mgx);
        }
    }
};

/* out may alias inp: pass two reads x[c] before writing y[c], in the same thread, and
 * pass three rescales what this thread wrote. */
struct SoftmaxForward {
    float *out;
    const float *inp;
    int64_t C;
    __device__ void operator()(int64_t n, int lane) const
    {
        const float *x = inp + n * C;
        float mx = -INFINITY;
        for (int64_t c = lane; c < C; c += 32) {
            float v = x[c];
            mx = v > mx ? v : mx;
        }
        mx = warp_max(mx);
        float *y = out + n * C;
        float s = 0.0f;
        for (int64_t c = lane; c < C; c += 32) {
            float e = expf(x[c] - mx);
            y[c] = e;
            s += e;
        }
        const float inv = 1.0f / warp_sum(s);
        for (int64_t c = lane; c < C; c += 32)
            y[c] *= inv;
    }
};

struct SoftmaxBackward {
    float *dinp;
    const float *out, *dout;
    int64_t C;
    __device__ void operator()(int64_t n, int lane) const
    {
        const float *y = out + n * C, *g = dout + n * C;
        float dot = 0.0f;
        for (int64_t c = lane; c < C; c += 32)
            dot += y[c] * g[c];
        dot = warp_sum(dot);
        float *dx = dinp + n * C;
        for (int64_t c = lane; c < C; c += 32)
            dx[c] += y[c] * (g[c] - dot);
    }
};

/* The objectives' l2norm: the square sum and the backward's dot in double, as on the
 * host (rows are few and short, so double costs nothing here). */
struct L2NormForward {
    float *y, *norm;
    const float *x;
    int64_t D;
    __device__ void operator()(int64_t n, int lane) const
    {
        const float *xr = x + n * D;
        double s = 0.0;
        for (int64_t c = lane; c < D; c += 32)
            s += (double)xr[c] * xr[c];
        float nrm = (float)sqrt(warp_sum(s));
        if (nrm < 1e-12f)
            nrm = 1e-12f;
        if (lane == 0 && norm)
            norm[n] = nrm;
        float *yr = y + n * D;
        for (int64_t c = lane; c < D; c += 32)
            yr[c] = xr[c] / nrm;
    }
};

struct L2NormBackward {
    float *dx;
    const float *dy, *y, *norm;
    int64_t D;
    __device__ void operator()(int64_t n, int lane) const
    {
        const float *yr = y + n * D, *gr = dy + n * D;
        double dot = 0.0;
        for (int64_t c = lane; c < D; c += 32)
            dot += (double)yr[c] * gr[c];
        dot = warp_sum(dot);
        const double nrm = norm[n];
        float *dr = dx + n * D;
        for (int64_t c = lane; c < D; c += 32)
            dr[c] += (float)(((double)gr[c] - (double)yr[c] * dot) / nrm);
    }
};

/* ---- column reductions --------------------------------------------------------------- */

/* The sum over threadIdx.y of v, by a fixed tree; every thread of the column gets it.
 * red is free again when this returns. */
__device__ double column_total(double (*red)[kColTX], double v)
{
    red[threadIdx.y][threadIdx.x] = v;
    __syncthreads();
    for (int s = kColTY / 2; s > 0; s >>= 1) {
        if ((int)threadIdx.y < s)
            red[threadIdx.y][threadIdx.x] += red[threadIdx.y + s][threadIdx.x];
        __syncthreads();
    }
    double total = red[0][threadIdx.x];
    __syncthreads();
    return total;
}

/* For every batch bi: total[c] = sum over n of x[bi, n, c] in double. With mean,
 * out[bi, c] = total / rows (mean pooling, rounded once as the reference does);
 * otherwise out[bi, c] += total (a bias gradient). Thread (tx, ty) sums rows ty,
 * ty + 64, ... in order, four loads in flight at a time. */
__global__ void __launch_bounds__(kColTX * kColTY)
    colsum_kernel(int64_t batch, int64_t rows, int64_t cols, const float *x, float *out, int mean)
{
    __shared__ double red[kColTY][kColTX];
    const int64_t ntiles = (cols + kColTX - 1) / kColTX;
    for (int64_t bi = blockIdx.y; bi < batch; bi += gridDim.y) {
        const float *xb = x + bi * rows * cols;
        for (int64_t tile = blockIdx.x; tile < ntiles; tile += gridDim.x) {
            const int64_t c = tile * kColTX + threadIdx.x;
            double acc = 0.0;
            if (c < cols) {
                int64_t n = threadIdx.y;
                for (; n + 3 * kColTY < rows; n += 4 * kColTY) {
                    float v[4];
#pragma unroll
                    for (int u = 0; u < 4; u++)
                        v[u] = xb[(n + u * kColTY) * cols + c];
#pragma unroll
                    for (int u = 0; u < 4; u++)
                        acc += v[u];
                }
                for (; n < rows; n += kColTY)
                    acc += xb[n * cols + c];
            }
            const double total = column_total(red, acc);
            if (threadIdx.y == 0 && c < cols) {
                if (mean)
                    out[bi * cols + c] = (float)(total / (double)rows);
                else
                    out[bi * cols + c] += (float)total;
            }
        }
    }
}

/* dw[c] += sum_n g xhat, db[c] += sum_n g, in double; xhat in float as the host's
 * fast path computes it. Either output may be NULL. */
__global__ void __launch_bounds__(kColTX * kColTY)
    layernorm_param_kernel(int64_t N, int64_t C, const float *dout, const float *inp, const float *mean,
                           const float *rstd, float *dw, float *db)
{
    __shared__ double red[kColTY][kColTX];
    const int64_t ntiles = (C + kColTX - 1) / kColTX;
    for (int64_t tile = blockIdx.x; tile < ntiles; tile += gridDim.x) {
        const int64_t c = tile * kColTX + threadIdx.x;
        double aw = 0.0, ab = 0.0;
        if (c < C) {
            int64_t n = threadIdx.y;
            for (; n + 3 * kColTY < N; n += 4 * kColTY) {
                float g[4], xhat[4];
#pragma unroll
                for (int u = 0; u < 4; u++) {
                    const int64_t m = n + u * kColTY;
                    g[u] = dout[m * C + c];
                    xhat[u] = (inp[m * C + c] - mean[m]) * rstd[m];
                }
#pragma unroll
                for (int u = 0; u < 4; u++) {
                    aw += (double)(g[u] * xhat[u]);
                    ab += (double)g[u];
                }
            }
            for (; n < N; n += kColTY) {
                float g = dout[n * C + c];
                aw += (double)(g * ((inp[n * C + c] - mean[n]) * rstd[n]));
                ab += (double)g;
            }
        }
        const double tw = column_total(red, aw);
        const double tb = column_total(red, ab);
        if (threadIdx.y == 0 && c < C) {
            if (dw)
                dw[c] += (float)tw;
            if (db)
                db[c] += (float)tb;
        }
    }
}

cudaError_t launch_colsum(cudaStream_t stream, int64_t batch, int64_t rows, int64_t cols, const float *x, float *out,
                          int mean)
{
    const dim3 block(kColTX, kColTY);
    const dim3 grid(blocks_for(cols, kColTX, kMaxBlocks), blocks_for(batch, 1, kMaxBlocks));
    colsum_kernel<<<grid, block, 0, stream>>>(batch, rows, cols, x, out, mean);
    return cudaGetLastError();
}

/* ---- positional gradient through an index -----------------------------------------
 * dpos[pos_idx[r]] += dout[r] where rows sharing a pos row may lie anywhere, and no
 * scratch memory is available. A block owns kPosGroup consecutive pos rows x kPosCols
 * columns, so it is the only writer of that part of dpos. Its warps split the rows
 * into kPosWarps contiguous segments; each warp scans its segment's indices 32 at a
 * time, picks the rows that land in the block's pos rows with a ballot (in row order)
 * and adds them into its own shared accumulators. The block then adds the segments'
 * partial sums in segment order. The order is thus fixed by (rows, L, C) alone.
 *
 * Cost: dout is read once; the index array (L2-resident) once per block, i.e.
 * rows * ceil(L / 8) * ceil(C / 128) reads, twice dout's size at L = 2048, C = 1024.
 * Parallelism is that many blocks of 8 warps, ample from L ~ 100 up. */
constexpr int kPosWarps = 8;
constexpr int kPosGroup = 8;
constexpr int kPosColsPerLane = 4;
constexpr int kPosCols = 32 * kPosColsPerLane;

__global__ void __launch_bounds__(kPosWarps * 32)
    pos_grad_indexed_kernel(int64_t rows, int64_t L, int64_t C, const int32_t *pos_idx, const float *dout,
                            float *dpos)
{
    __shared__ float acc[kPosWarps][kPosGroup][kPosCols]; /* 32 KiB */
    __shared__ unsigned int hit[kPosWarps];
    const int lane = (int)(threadIdx.x & 31), warp = (int)(threadIdx.x >> 5);
    const int64_t ngroups = (L + kPosGroup - 1) / kPosGroup, ntiles = (C + kPosCols - 1) / kPosCols;
    const int64_t seg = (rows + kPosWarps - 1) / kPosWarps;
    const int64_t r_begin = warp * seg < rows ? warp * seg : rows;
    const int64_t r_end = r_begin + seg < rows ? r_begin + seg : rows;
    float(*a)[kPosCols] = acc[warp];

    for (int64_t job = blockIdx.x; job < ngroups * ntiles; job += gridDim.x) {
        const int64_t l0 = (job / ntiles) * kPosGroup, c0 = (job % ntiles) * kPosCols;
        /* Until the final sum, lane owns a[*][k * 32 + lane] alone: no barrier needed. */
        for (int g = 0; g < kPosGroup; g++)
            for (int k = 0; k < kPosColsPerLane; k++)
                a[g][k * 32 + lane] = 0.0f;
        unsigned int seen = 0; /* the block's pos rows this warp touched (warp-uniform) */
        for (int64_t base = r_begin; base < r_end; base += 32) {
            const int64_t r = base + lane;
            const int64_t rel = r < r_end ? (int64_t)pos_idx[r] - l0 : -1;
            unsigned int mask = __ballot_sync(kFullMask, rel >= 0 && rel < kPosGroup);
            while (mask) {
                const int src = __ffs((int)mask) - 1;
                mask &= mask - 1;
                const int g = __shfl_sync(kFullMask, (int)rel, src);
                seen |= 1u << g;
                const float *row = dout + (base + src) * C;
                float v[kPosColsPerLane];
#pragma unroll
                for (int k = 0; k < kPosColsPerLane; k++) {
                    const int64_t c = c0 + k * 32 + lane;
                    v[k] = c < C ? row[c] : 0.0f;
                }
#pragma unroll
                for (int k = 0; k < kPosColsPerLane; k++)
                    a[g][k * 32 + lane] += v[k];
            }
        }
        if (lane == 0)
            hit[warp] = seen;
        __syncthreads();
        unsigned int any = 0;
        for (int w = 0; w < kPosWarps; w++)
            any |= hit[w];
        /* Pos rows no row maps to are left alone, bits and all. */
        for (int e = (int)threadIdx.x; e < kPosGroup * kPosCols; e += (int)blockDim.x) {
            const int g = e / kPosCols, cc = e % kPosCols;
            const int64_t l = l0 + g, c = c0 + cc;
            if (l < L && c < C && ((any >> g) & 1u)) {
                float s = acc[0][g][cc];
                for (int w = 1; w < kPosWarps; w++)
                    s += acc[w][g][cc];
                dpos[l * C + c] += s;
            }
        }
        __syncthreads(); /* acc and hit are reused by the next job */
    }
}

} // namespace

/* Each launcher reads cudaGetLastError() once before launching: an older, unrelated
 * non-sticky error left on this thread would otherwise be reported as ours. */

extern "C" cudaError_t vn_cuda_launch_fill(cudaStream_t stream, float *x, int64_t n, float value)
{
    (void)cudaGetLastError();
    return launch_elementwise(stream, n, Fill{x, value});
}

extern "C" cudaError_t vn_cuda_launch_gather_rows(cudaStream_t stream, float *dst, const float *src,
                                                  const int32_t *idx, int64_t rows, int64_t width)
{
    (void)cudaGetLastError();
    return launch_rowwise(stream, rows, width, GatherRows{dst, src, idx, width});
}

extern "C" cudaError_t vn_cuda_launch_scatter_add_rows(cudaStream_t stream, float *dst, const float *src,
                                                       const int32_t *idx, int64_t rows, int64_t width)
{
    (void)cudaGetLastError();
    return launch_rowwise(stream, rows, width, ScatterAddRows{dst, src, idx, width});
}

extern "C" cudaError_t vn_cuda_launch_bias_grad(cudaStream_t stream, float *db, const float *dout, int64_t N,
                                                int64_t OC)
{
    (void)cudaGetLastError();
    return launch_colsum(stream, 1, N, OC, dout, db, 0);
}

extern "C" cudaError_t vn_cuda_launch_layernorm_forward(cudaStream_t stream, float *out, float *mean, float *rstd,
                                                        const float *inp, const float *w, const float *b, int64_t N,
                                                        int64_t C)
{
    (void)cudaGetLastError();
    return launch_warp_rows(stream, N, LayerNormForward{out, mean, rstd, inp, w, b, C});
}

extern "C" cudaError_t vn_cuda_launch_layernorm_backward(cudaStream_t stream, float *dinp, float *dw, float *db,
                                                         const float *dout, const float *inp, const float *w,
                                                         const float *mean, const float *rstd, int64_t N, int64_t C)
{
    (void)cudaGetLastError();
    if (dw || db) {
        const dim3 block(kColTX, kColTY);
        layernorm_param_kernel<<<blocks_for(C, kColTX, kMaxBlocks), block, 0, stream>>>(N, C, dout, inp, mean, rstd,
                                                                                         dw, db);
        cudaError_t e = cudaGetLastError();
        if (e != cudaSuccess)
            return e;
    }
    if (dinp)
        return launch_warp_rows(stream, N, LayerNormBackward{dinp, dout, inp, w, mean, rstd, C});
    return cudaSuccess;
}

extern "C" cudaError_t vn_cuda_launch_gelu_forward(cudaStream_t stream, float *out, const float *inp, int64_t n)
{
    (void)cudaGetLastError();
    return launch_elementwise(stream, n, GeluForward{out, inp});
}

extern "C" cudaError_t vn_cuda_launch_gelu_backward(cudaStream_t stream, float *dinp, const float *inp,
                                                    const float *dout, int64_t n)
{
    (void)cudaGetLastError();
    return launch_elementwise(stream, n, GeluBackward{dinp, inp, dout});
}

extern "C" cudaError_t vn_cuda_launch_softmax_forward(cudaStream_t stream, float *out, const float *inp, int64_t N,
                                                      int64_t C)
{
    (void)cudaGetLastError();
    return launch_warp_rows(stream, N, SoftmaxForward{out, inp, C});
}

extern "C" cudaError_t vn_cuda_launch_softmax_backward(cudaStream_t stream, float *dinp, const float *out,
                                                       const float *dout, int64_t N, int64_t C)
{
    (void)cudaGetLastError();
    return launch_warp_rows(stream, N, SoftmaxBackward{dinp, out, dout, C});
}

extern "C" cudaError_t vn_cuda_launch_meanpool_forward(cudaStream_t stream, float *out, const float *inp, int64_t B,
                                                       int64_t T, int64_t C)
{
    (void)cudaGetLastError();
    return launch_colsum(stream, B, T, C, inp, out, 1);
}

extern "C" cudaError_t vn_cuda_launch_meanpool_backward(cudaStream_t stream, float *dinp, const float *dout,
                                                        int64_t B, int64_t T, int64_t C)
{
    (void)cudaGetLastError();
    return launch_rowwise(stream, B * T, C, MeanpoolBackward{dinp, dout, T, C});
}

extern "C" cudaError_t vn_cuda_launch_l2norm_forward(cudaStream_t stream, float *y, float *norm, const float *x,
                                                     int64_t N, int64_t D)
{
    (void)cudaGetLastError();
    return launch_warp_rows(stream, N, L2NormForward{y, norm, x, D});
}

extern "C" cudaError_t vn_cuda_launch_l2norm_backward(cudaStream_t stream, float *dx, const float *dy,
                                                      const float *y, const float *norm, int64_t N, int64_t D)
{
    (void)cudaGetLastError();
    return launch_warp_rows(stream, N, L2NormBackward{dx, dy, y, norm, D});
}

extern "C" cudaError_t vn_cuda_launch_unfold(cudaStream_t stream, float *patches, const float *clips,
                                             const int32_t *keep, int64_t nk, int64_t B, int64_t Ch, int64_t Fr,
                                             int64_t H, int64_t W, int64_t tt, int64_t p)
{
    (void)cudaGetLastError();
    const int64_t F = Fr / tt, K = Ch * tt * p * p;
    const Unfold op{patches, clips, keep, nk, F, Ch, Fr, H, W, tt, p, W / p, K};
    return launch_rowwise(stream, B * F * nk, K, op);
}

extern "C" cudaError_t vn_cuda_launch_pos_add(cudaStream_t stream, float *out, const float *inp, const float *pos,
                                              const int32_t *pos_idx, int64_t rows, int64_t L, int64_t C)
{
    (void)cudaGetLastError();
    return launch_rowwise(stream, rows, C, PosAdd{out, inp, pos, pos_idx, L, C});
}

extern "C" cudaError_t vn_cuda_launch_pos_add_backward(cudaStream_t stream, float *dinp, float *dpos,
                                                       const float *dout, const int32_t *pos_idx, int64_t rows,
                                                       int64_t L, int64_t C)
{
    (void)cudaGetLastError();
    if (dinp) {
        cudaError_t e = launch_elementwise(stream, rows * C, AddTo{dinp, dout});
        if (e != cudaSuccess)
            return e;
    }
    if (!dpos)
        return cudaSuccess;
    if (!pos_idx)
        return launch_rowwise(stream, rows < L ? rows : L, C, PosGradStrided{dpos, dout, rows, L, C});
    const int64_t jobs = ((L + kPosGroup - 1) / kPosGroup) * ((C + kPosCols - 1) / kPosCols);
    pos_grad_indexed_kernel<<<blocks_for(jobs, 1, kMaxBlocks), kPosWarps * 32, 0, stream>>>(rows, L, C, pos_idx,
                                                                                            dout, dpos);
    return cudaGetLastError();
}

extern "C" cudaError_t vn_cuda_launch_group_temporal(cudaStream_t stream, float *dst, const float *src, int64_t B,
                                                     int64_t F, int64_t S, int64_t W)
{
    (void)cudaGetLastError();
    return launch_rowwise(stream, B * S * F, W, GroupTemporal{dst, src, F, S, W});
}

extern "C" cudaError_t vn_cuda_launch_ungroup_temporal(cudaStream_t stream, float *dst, const float *src, int64_t B,
                                                       int64_t F, int64_t S, int64_t W, int accumulate)
{
    (void)cudaGetLastError();
    return launch_rowwise(stream, B * S * F, W, UngroupTemporal{dst, src, F, S, W, accumulate});
}
