/*
 * The guarded device stand-in (device_standin.h). Every entry follows the same steps:
 * check the pointers against the live buffers, unlock all buffers, run the host
 * implementation, lock them again. The checks matter as much as the locking: a host
 * pointer handed to an entry would run fine here and crash a GPU, so it is refused.
 */
#include "device_standin.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "backend/backend_nn.h"
#include "backend/host.h"
#include "core/error.h"
#include "nn/ops.h"

typedef struct region {
    char *map;   /* data pages, then one guard page that stays PROT_NONE */
    size_t span; /* bytes of the data pages (0 for an empty buffer) */
    char *data;  /* what callers get: 64-byte aligned, ending within 63 bytes of the guard */
    size_t bytes;
} region;

struct vn_backend_state {
    vn_be cpu;   /* the base ops */
    vn_nn host;  /* the engine ops: src/nn on host memory */
    region *regs;
    int64_t n_regs, cap_regs;
    int depth;
    size_t page;
    vn_status pending; /* an engine failure recorded before the current entry */
    vn_standin_counts counts;
};

static const vn_backend standin;

/* ---- memory ------------------------------------------------------------------------ */

static void set_access(vn_backend_state *st, int prot)
{
    for (int64_t i = 0; i < st->n_regs; i++)
        if (st->regs[i].span && mprotect(st->regs[i].map, st->regs[i].span, prot) != 0) {
            perror("device stand-in: mprotect");
            abort();
        }
}

/* Entries do not nest today; the depth keeps it harmless if one ever calls another. */
static void unlock(vn_backend_state *st)
{
    if (st->depth++ == 0)
        set_access(st, PROT_READ | PROT_WRITE);
}

static void lock(vn_backend_state *st)
{
    if (--st->depth == 0)
        set_access(st, PROT_NONE);
}

/* The buffer p points into; its one-past-the-end address counts, so that empty
 * ranges at the end of a buffer are valid. Buffers never touch (guard pages). */
static region *find(vn_backend_state *st, const void *p)
{
    uintptr_t u = (uintptr_t)p;
    for (int64_t i = 0; i < st->n_regs; i++) {
        uintptr_t d = (uintptr_t)st->regs[i].data;
        if (u >= d && u <= d + st->regs[i].bytes)
            return &st->regs[i];
    }
    return NULL;
}

typedef struct arg {
    const void *p;
    int64_t bytes;
    int optional; /* NULL allowed (a skipped gradient, an absent index array) */
    const char *name;
} arg;

static vn_status check_args(vn_backend_state *st, const char *op, const arg *a, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (a[i].bytes < 0)
            return vn_error(VN_ERR_SHAPE, "standin: %s: negative size for %s", op, a[i].name);
        if (!a[i].p) {
            if (a[i].optional || a[i].bytes == 0)
                continue;
            return vn_error(VN_ERR_INVALID_ARG, "standin: %s: %s is NULL", op, a[i].name);
        }
        region *r = find(st, a[i].p);
        if (!r)
            return vn_error(VN_ERR_INVALID_ARG, "standin: %s: %s = %p is not device memory", op, a[i].name, a[i].p);
        int64_t off = (int64_t)((const char *)a[i].p - r->data);
        if (off + a[i].bytes > (int64_t)r->bytes)
            return vn_error(VN_ERR_SHAPE, "standin: %s: %s needs %lld bytes at offset %lld of a %zu-byte buffer", op,
                            a[i].name, (long long)a[i].bytes, (long long)off, r->bytes);
    }
    return VN_OK;
}

#define ARG(p, n) {(p), (int64_t)(n) * (int64_t)sizeof *(p), 0, #p}
#define OPT(p, n) {(p), (int64_t)(n) * (int64_t)sizeof *(p), 1, #p}
#define CHECK(counter, op, ...)                                                                 \
    do {                                                                                        \
        const arg args_[] = {__VA_ARGS__};                                                      \
        st->counts.counter++;                                                                   \
        vn_status s_ = check_args(st, op, args_, sizeof args_ / sizeof args_[0]);               \
        if (s_ != VN_OK)                                                                        \
            return s_;                                                                          \
    } while (0)
#define NN_CHECK(op, ...) CHECK(nn_calls, op, __VA_ARGS__)
#define SHAPE(cond, op)                                                                         \
    do {                                                                                        \
        if (!(cond))                                                                            \
            return vn_error(VN_ERR_SHAPE, "standin: %s: shape check failed: %s", op, #cond);    \
    } while (0)

/* The host ops record GEMM failures thread-locally: keep an earlier failure of the
 * engine's out of this entry's status, and put it back afterwards so it still wins. */
static void begin(vn_backend_state *st)
{
    st->pending = vn_nn_take_error();
    unlock(st);
}

static vn_status end(vn_backend_state *st, vn_status s)
{
    lock(st);
    vn_status op = vn_nn_take_error();
    vn_nn_record(st->pending);
    st->pending = VN_OK;
    return s != VN_OK ? s : op;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* Indices are device data too, and a device would read or write out of bounds without
 * a word, so they are checked here (memory unlocked): idx[r] in [0, limit), or when
 * limit < 0 such that the row fits in base's buffer; distinct where the op needs it. */
static vn_status check_rows(vn_backend_state *st, const char *op, const void *base, const int32_t *idx, int64_t rows,
                            int64_t width, int64_t limit, int distinct)
{
    if (!idx || rows <= 0 || width <= 0)
        return VN_OK;
    if (limit < 0) {
        region *r = find(st, base);
        limit = (int64_t)(r->data + r->bytes - (const char *)base) / (width * (int64_t)sizeof(float));
    }
    for (int64_t r = 0; r < rows; r++)
        if (idx[r] < 0 || idx[r] >= limit)
            return vn_error(VN_ERR_INVALID_ARG, "standin: %s: index %d at %lld is outside [0, %lld)", op, idx[r],
                            (long long)r, (long long)limit);
    if (!distinct)
        return VN_OK;
    int32_t *s = malloc((size_t)rows * sizeof *s);
    if (!s)
        return vn_error(VN_ERR_OUT_OF_MEMORY, "standin: %s: out of memory", op);
    memcpy(s, idx, (size_t)rows * sizeof *s);
    qsort(s, (size_t)rows, sizeof *s, cmp_i32);
    vn_status st_ = VN_OK;
    for (int64_t r = 1; r < rows && st_ == VN_OK; r++)
        if (s[r] == s[r - 1])
            st_ = vn_error(VN_ERR_INVALID_ARG, "standin: %s: index %d appears twice", op, s[r]);
    free(s);
    return st_;
}

static vn_status sn_alloc(vn_backend_state *st, size_t bytes, void **out)
{
    if (st->n_regs == st->cap_regs) {
        int64_t cap = st->cap_regs ? 2 * st->cap_regs : 64;
        region *r = realloc(st->regs, (size_t)cap * sizeof *r);
        if (!r)
            return vn_error(VN_ERR_OUT_OF_MEMORY, "standin: out of memory for the buffer list");
        st->regs = r, st->cap_regs = cap;
    }
    size_t span = (bytes + st->page - 1) / st->page * st->page, tail = (bytes + 63) / 64 * 64;
    void *map = mmap(NULL, span + st->page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (map == MAP_FAILED)
        return vn_error(VN_ERR_OUT_OF_MEMORY, "standin: cannot map %zu bytes", bytes);
    region *r = &st->regs[st->n_regs++];
    r->map = map, r->span = span, r->data = r->map + span - tail, r->bytes = bytes;
    if (st->depth > 0 && span)
        mprotect(map, span, PROT_READ | PROT_WRITE);
    *out = r->data;
    return VN_OK;
}

static void sn_free(vn_backend_state *st, void *ptr)
{
    for (int64_t i = 0; i < st->n_regs; i++)
        if (st->regs[i].data == ptr) {
            munmap(st->regs[i].map, st->regs[i].span + st->page);
            st->regs[i] = st->regs[--st->n_regs];
            return;
        }
    /* A device would corrupt its heap or fail later; here the culprit is on the stack. */
    fprintf(stderr, "device stand-in: free of %p, which is not a live buffer\n", ptr);
    abort();
}

static vn_status sn_upload(vn_backend_state *st, void *dst, const void *src_host, size_t bytes)
{
    CHECK(uploads, "upload", ARG((const char *)dst, bytes));
    unlock(st);
    memcpy(dst, src_host, bytes);
    lock(st);
    return VN_OK;
}

static vn_status sn_download(vn_backend_state *st, void *dst_host, const void *src, size_t bytes)
{
    CHECK(downloads, "download", ARG((const char *)src, bytes));
    unlock(st);
    memcpy(dst_host, src, bytes);
    lock(st);
    return VN_OK;
}

static vn_status sn_synchronize(vn_backend_state *st)
{
    (void)st;
    return VN_OK;
}

/* ---- lifetime and queries ---------------------------------------------------------- */

static vn_status sn_init(vn_backend_state **out, const vn_backend_config *cfg)
{
    vn_backend_state *st = calloc(1, sizeof *st);
    if (!st)
        return vn_error(VN_ERR_OUT_OF_MEMORY, "standin: out of memory");
    st->page = (size_t)sysconf(_SC_PAGESIZE);
    vn_status s = vn_be_open(&st->cpu, VN_BACKEND_CPU, cfg);
    if (s == VN_OK)
        s = vn_nn_init(&st->host, &st->cpu, cfg->n_threads, cfg->deterministic);
    if (s != VN_OK) {
        vn_be_close(&st->cpu);
        free(st);
        return s;
    }
    *out = st;
    return VN_OK;
}

static void sn_fini(vn_backend_state *st)
{
    if (!st)
        return;
    while (st->n_regs > 0)
        sn_free(st, st->regs[st->n_regs - 1].data);
    free(st->regs);
    vn_nn_fini(&st->host);
    vn_be_close(&st->cpu);
    free(st);
}

static int sn_supports(const vn_backend_state *st, vn_op op)
{
    if (op == VN_OP_NN)
        return 1;
    if (op == VN_OP_GEMM_BF16_ACT) /* host memory only: not in its table */
        return 0;
    return st ? vn_be_supports(&st->cpu, op) : vn_backend_cpu.supports(NULL, op);
}

/* ---- base ops: the cpu backend's --------------------------------------------------- */

static int64_t span_of(int64_t batch, int64_t stride, int64_t rows, int64_t cols, int64_t ld)
{
    return rows == 0 || cols == 0 ? 0 : (batch - 1) * stride + (rows - 1) * ld + cols;
}

static vn_status base_end(vn_backend_state *st, vn_status s)
{
    lock(st);
    return s;
}

static vn_status sn_gemm(vn_backend_state *st, const vn_gemm_desc *d, const float *a, const float *b,
                         const float *bias, float *c)
{
    int64_t na = span_of(d->batch, d->stride_a, d->trans_a ? d->k : d->m, d->trans_a ? d->m : d->k, d->lda);
    int64_t nb = span_of(d->batch, d->stride_b, d->trans_b ? d->n : d->k, d->trans_b ? d->k : d->n, d->ldb);
    int64_t nc = span_of(d->batch, d->stride_c, d->m, d->n, d->ldc);
    const float *aux = d->epilogue == VN_GEMM_EPI_GELU ? d->aux : NULL;
    CHECK(base_calls, "gemm", ARG(a, na), ARG(b, nb), OPT(bias, d->n), ARG(c, nc), OPT(aux, nc));
    unlock(st);
    return base_end(st, vn_be_gemm(&st->cpu, d, a, b, bias, c));
}

static vn_status sn_add(vn_backend_state *st, int64_t n, const float *a, const float *b, float *y)
{
    CHECK(base_calls, "add", ARG(a, n), ARG(b, n), ARG(y, n));
    unlock(st);
    return base_end(st, vn_be_add(&st->cpu, n, a, b, y));
}

static vn_status sn_mul(vn_backend_state *st, int64_t n, const float *a, const float *b, float *y)
{
    CHECK(base_calls, "mul", ARG(a, n), ARG(b, n), ARG(y, n));
    unlock(st);
    return base_end(st, vn_be_mul(&st->cpu, n, a, b, y));
}

static vn_status sn_scale(vn_backend_state *st, int64_t n, float alpha, const float *x, float *y)
{
    CHECK(base_calls, "scale", ARG(x, n), ARG(y, n));
    unlock(st);
    return base_end(st, vn_be_scale(&st->cpu, n, alpha, x, y));
}

static vn_status sn_axpy(vn_backend_state *st, int64_t n, float alpha, const float *x, float *y)
{
    CHECK(base_calls, "axpy", ARG(x, n), ARG(y, n));
    unlock(st);
    return base_end(st, vn_be_axpy(&st->cpu, n, alpha, x, y));
}

static vn_status sn_sum(vn_backend_state *st, int64_t n, const float *x, float *out)
{
    CHECK(base_calls, "sum", ARG(x, n), ARG(out, 1));
    unlock(st);
    return base_end(st, vn_be_sum(&st->cpu, n, x, out));
}

static vn_status sn_sumsq(vn_backend_state *st, int64_t n, const float *x, float *out)
{
    CHECK(base_calls, "sumsq", ARG(x, n), ARG(out, 1));
    unlock(st);
    return base_end(st, vn_be_sumsq(&st->cpu, n, x, out));
}

static vn_status sn_max(vn_backend_state *st, int64_t n, const float *x, float *out)
{
    CHECK(base_calls, "max", ARG(x, n), ARG(out, 1));
    unlock(st);
    return base_end(st, vn_be_max(&st->cpu, n, x, out));
}

/* ---- engine ops: memory and dense ---------------------------------------------------- */

static vn_status sn_fill(vn_backend_state *st, float *x, int64_t n, float value)
{
    NN_CHECK("fill", ARG(x, n));
    begin(st);
    vn_nn_fill(&st->host, x, n, value);
    return end(st, VN_OK);
}

static vn_status sn_copy(vn_backend_state *st, float *dst, const float *src, int64_t n)
{
    NN_CHECK("copy", ARG(dst, n), ARG(src, n));
    begin(st);
    vn_nn_copy(&st->host, dst, src, n);
    return end(st, VN_OK);
}

static vn_status sn_gather_rows(vn_backend_state *st, float *dst, const float *src, const int32_t *idx, int64_t rows,
                                int64_t width)
{
    NN_CHECK("gather_rows", ARG(dst, rows * width), ARG(src, rows > 0 ? width : 0), ARG(idx, rows));
    begin(st);
    vn_status s = check_rows(st, "gather_rows", src, idx, rows, width, -1, 0);
    if (s == VN_OK)
        vn_nn_gather_rows(&st->host, dst, src, idx, rows, width);
    return end(st, s);
}

static vn_status sn_scatter_add_rows(vn_backend_state *st, float *dst, const float *src, const int32_t *idx,
                                     int64_t rows, int64_t width)
{
    NN_CHECK("scatter_add_rows", ARG(dst, rows > 0 ? width : 0), ARG(src, rows * width), ARG(idx, rows));
    begin(st);
    vn_status s = check_rows(st, "scatter_add_rows", dst, idx, rows, width, -1, 1);
    if (s == VN_OK)
        vn_nn_scatter_add_rows(&st->host, dst, src, idx, rows, width);
    return end(st, s);
}

static vn_status sn_bias_grad(vn_backend_state *st, float *db, const float *dout, int64_t N, int64_t OC)
{
    NN_CHECK("bias_grad", ARG(db, OC), ARG(dout, N * OC));
    begin(st);
    vn_bias_grad(&st->host, db, dout, N, OC);
    return end(st, VN_OK);
}

static vn_status sn_layernorm_forward(vn_backend_state *st, float *out, float *mean, float *rstd, const float *inp,
                                      const float *w, const float *b, int64_t N, int64_t C)
{
    NN_CHECK("layernorm_forward", ARG(out, N * C), ARG(mean, N), ARG(rstd, N), ARG(inp, N * C), OPT(w, C),
             OPT(b, C));
    begin(st);
    vn_layernorm_forward(&st->host, out, mean, rstd, inp, w, b, N, C);
    return end(st, VN_OK);
}

static vn_status sn_layernorm_backward(vn_backend_state *st, float *dinp, float *dw, float *db, const float *dout,
                                       const float *inp, const float *w, const float *mean, const float *rstd,
                                       int64_t N, int64_t C)
{
    NN_CHECK("layernorm_backward", OPT(dinp, N * C), OPT(dw, C), OPT(db, C), ARG(dout, N * C), ARG(inp, N * C),
             OPT(w, C), ARG(mean, N), ARG(rstd, N));
    begin(st);
    vn_layernorm_backward(&st->host, dinp, dw, db, dout, inp, w, mean, rstd, N, C);
    return end(st, VN_OK);
}

static vn_status sn_gelu_forward(vn_backend_state *st, float *out, const float *inp, int64_t n)
{
    NN_CHECK("gelu_forward", ARG(out, n), ARG(inp, n));
    begin(st);
    vn_gelu_forward(&st->host, out, inp, n);
    return end(st, VN_OK);
}

static vn_status sn_gelu_backward(vn_backend_state *st, float *dinp, const float *inp, const float *dout, int64_t n)
{
    NN_CHECK("gelu_backward", OPT(dinp, n), ARG(inp, n), ARG(dout, n));
    begin(st);
    vn_gelu_backward(&st->host, dinp, inp, dout, n);
    return end(st, VN_OK);
}

static vn_status sn_softmax_forward(vn_backend_state *st, float *out, const float *inp, int64_t N, int64_t C)
{
    NN_CHECK("softmax_forward", ARG(out, N * C), ARG(inp, N * C));
    begin(st);
    vn_softmax_forward(&st->host, out, inp, N, C);
    return end(st, VN_OK);
}

static vn_status sn_softmax_backward(vn_backend_state *st, float *dinp, const float *out, const float *dout,
                                     int64_t N, int64_t C)
{
    NN_CHECK("softmax_backward", OPT(dinp, N * C), ARG(out, N * C), ARG(dout, N * C));
    begin(st);
    vn_softmax_backward(&st->host, dinp, out, dout, N, C);
    return end(st, VN_OK);
}

static vn_status sn_meanpool_forward(vn_backend_state *st, float *out, const float *inp, int64_t B, int64_t T,
                                     int64_t C)
{
    NN_CHECK("meanpool_forward", ARG(out, B * C), ARG(inp, B * T * C));
    SHAPE(T > 0, "meanpool_forward");
    begin(st);
    vn_meanpool_forward(&st->host, out, inp, B, T, C);
    return end(st, VN_OK);
}

static vn_status sn_meanpool_backward(vn_backend_state *st, float *dinp, const float *dout, int64_t B, int64_t T,
                                      int64_t C)
{
    NN_CHECK("meanpool_backward", OPT(dinp, B * T * C), ARG(dout, B * C));
    SHAPE(T > 0, "meanpool_backward");
    begin(st);
    vn_meanpool_backward(&st->host, dinp, dout, B, T, C);
    return end(st, VN_OK);
}

static vn_status sn_l2norm_forward(vn_backend_state *st, float *y, float *norm, const float *x, int64_t N, int64_t D)
{
    NN_CHECK("l2norm_forward", ARG(y, N * D), ARG(norm, N), ARG(x, N * D));
    begin(st);
    vn_l2norm_forward(&st->host, y, norm, x, N, D);
    return end(st, VN_OK);
}

static vn_status sn_l2norm_backward(vn_backend_state *st, float *dx, const float *dy, const float *y,
                                    const float *norm, int64_t N, int64_t D)
{
    NN_CHECK("l2norm_backward", ARG(dx, N * D), ARG(dy, N * D), ARG(y, N * D), ARG(norm, N));
    begin(st);
    vn_l2norm_backward(&st->host, dx, dy, y, norm, N, D);
    return end(st, VN_OK);
}

/* ---- engine ops: embeddings and attention ------------------------------------------- */

static vn_status sn_unfold(vn_backend_state *st, float *patches, const float *clips, const int32_t *keep, int64_t nk,
                           int64_t B, int64_t Ch, int64_t Fr, int64_t H, int64_t W, int64_t tt, int64_t p)
{
    SHAPE(tt > 0 && p > 0 && nk >= 0, "unfold");
    int64_t rows = B * (Fr / tt) * nk, K = Ch * tt * p * p;
    NN_CHECK("unfold", ARG(patches, rows * K), ARG(clips, B * Ch * Fr * H * W), OPT(keep, B * nk));
    SHAPE(keep || nk == (H / p) * (W / p), "unfold");
    begin(st);
    vn_status s = check_rows(st, "unfold", NULL, keep, B * nk, 1, (H / p) * (W / p), 0);
    if (s == VN_OK)
        vn_unfold(&st->host, patches, clips, keep, nk, B, Ch, Fr, H, W, tt, p);
    return end(st, s);
}

static vn_status sn_pos_add(vn_backend_state *st, float *out, const float *inp, const float *pos,
                            const int32_t *pos_idx, int64_t rows, int64_t L, int64_t C)
{
    NN_CHECK("pos_add", ARG(out, rows * C), ARG(inp, rows * C), ARG(pos, L * C), OPT(pos_idx, rows));
    SHAPE(L > 0, "pos_add");
    begin(st);
    vn_status s = check_rows(st, "pos_add", NULL, pos_idx, rows, 1, L, 0);
    if (s == VN_OK)
        vn_pos_add_rows(&st->host, out, inp, pos, pos_idx, rows, L, C);
    return end(st, s);
}

static vn_status sn_pos_add_backward(vn_backend_state *st, float *dinp, float *dpos, const float *dout,
                                     const int32_t *pos_idx, int64_t rows, int64_t L, int64_t C)
{
    NN_CHECK("pos_add_backward", OPT(dinp, rows * C), OPT(dpos, L * C), ARG(dout, rows * C), OPT(pos_idx, rows));
    SHAPE(L > 0, "pos_add_backward");
    begin(st);
    vn_status s = check_rows(st, "pos_add_backward", NULL, pos_idx, rows, 1, L, 0);
    if (s == VN_OK)
        vn_pos_add_rows_backward(&st->host, dinp, dpos, dout, pos_idx, rows, L, C);
    return end(st, s);
}

/* The host kernel's per-thread scratch is host memory of the stand-in's own. */
static float *attn_scratch(vn_backend_state *st, int64_t B, int64_t T, int64_t C, int64_t NH)
{
    return malloc((size_t)vn_attention_scratch_floats(B, T, C, NH, st->host.n_threads) * sizeof(float) + 64);
}

static vn_status sn_attention_forward(vn_backend_state *st, float *out, float *lse, const float *qkv, int64_t B,
                                      int64_t T, int64_t C, int64_t NH)
{
    SHAPE(NH > 0 && C % NH == 0, "attention_forward");
    NN_CHECK("attention_forward", ARG(out, B * T * C), ARG(lse, B * NH * T), ARG(qkv, B * T * 3 * C));
    float *scratch = attn_scratch(st, B, T, C, NH);
    if (!scratch)
        return vn_error(VN_ERR_OUT_OF_MEMORY, "standin: attention_forward: out of memory");
    begin(st);
    vn_attention_forward(&st->host, out, lse, qkv, B, T, C, NH, scratch);
    vn_status s = end(st, VN_OK);
    free(scratch);
    return s;
}

static vn_status sn_attention_backward(vn_backend_state *st, float *dqkv, const float *dout, const float *qkv,
                                       const float *out, const float *lse, int64_t B, int64_t T, int64_t C,
                                       int64_t NH)
{
    SHAPE(NH > 0 && C % NH == 0, "attention_backward");
    NN_CHECK("attention_backward", OPT(dqkv, B * T * 3 * C), ARG(dout, B * T * C), ARG(qkv, B * T * 3 * C),
             ARG(out, B * T * C), ARG(lse, B * NH * T));
    float *scratch = attn_scratch(st, B, T, C, NH);
    if (!scratch)
        return vn_error(VN_ERR_OUT_OF_MEMORY, "standin: attention_backward: out of memory");
    begin(st);
    vn_attention_backward(&st->host, dqkv, dout, qkv, out, lse, B, T, C, NH, scratch);
    vn_status s = end(st, VN_OK);
    free(scratch);
    return s;
}

static vn_status sn_group_temporal(vn_backend_state *st, float *dst, const float *src, int64_t B, int64_t F,
                                   int64_t S, int64_t W)
{
    NN_CHECK("group_temporal", ARG(dst, B * F * S * W), ARG(src, B * F * S * W));
    begin(st);
    vn_attention_group_temporal(&st->host, dst, src, B, F, S, W);
    return end(st, VN_OK);
}

static vn_status sn_ungroup_temporal(vn_backend_state *st, float *dst, const float *src, int64_t B, int64_t F,
                                     int64_t S, int64_t W, int accumulate)
{
    NN_CHECK("ungroup_temporal", ARG(dst, B * F * S * W), ARG(src, B * F * S * W));
    begin(st);
    vn_attention_ungroup_temporal(&st->host, dst, src, B, F, S, W, accumulate);
    return end(st, VN_OK);
}

static vn_status sn_attnpool_forward(vn_backend_state *st, float *out, float *attn, const float *inp,
                                     const float *query, int64_t B, int64_t T, int64_t C)
{
    NN_CHECK("attnpool_forward", ARG(out, B * C), ARG(attn, B * T), ARG(inp, B * T * C), ARG(query, C));
    begin(st);
    vn_attnpool_forward(&st->host, out, attn, inp, query, B, T, C);
    return end(st, VN_OK);
}

static vn_status sn_attnpool_backward(vn_backend_state *st, float *dinp, float *dquery, const float *dout,
                                      const float *inp, const float *query, const float *attn, int64_t B, int64_t T,
                                      int64_t C)
{
    NN_CHECK("attnpool_backward", OPT(dinp, B * T * C), OPT(dquery, C), ARG(dout, B * C), ARG(inp, B * T * C),
             ARG(query, C), ARG(attn, B * T));
    begin(st);
    vn_attnpool_backward(&st->host, dinp, dquery, dout, inp, query, attn, B, T, C);
    return end(st, VN_OK);
}

/* ---- engine ops: losses -------------------------------------------------------------- */

static vn_status sn_bce_logits(vn_backend_state *st, float *loss, float *dlogits, const float *logits,
                               const float *targets, int64_t N, float dloss)
{
    NN_CHECK("bce_logits", ARG(loss, 1), OPT(dlogits, N), ARG(logits, N), ARG(targets, N));
    begin(st);
    *loss = vn_bce_logits_loss(&st->host, dlogits, logits, targets, N, dloss);
    return end(st, VN_OK);
}

static vn_status sn_softmax_ce(vn_backend_state *st, float *loss, float *dlogits, const float *logits,
                               const int32_t *labels, int64_t N, int64_t K, float dloss)
{
    NN_CHECK("softmax_ce", ARG(loss, 1), OPT(dlogits, N * K), ARG(logits, N * K), ARG(labels, N));
    begin(st);
    vn_status s = check_rows(st, "softmax_ce", NULL, labels, N, 1, K, 0);
    if (s == VN_OK)
        *loss = vn_softmax_ce_loss(&st->host, dlogits, logits, labels, N, K, dloss);
    return end(st, s);
}

static vn_status sn_infonce(vn_backend_state *st, float *loss, float *dq, float *dk, const float *q, const float *k,
                            const int32_t *pos, int64_t N, int64_t M, int64_t D, float tau, float dloss,
                            float *scratch)
{
    NN_CHECK("infonce", ARG(loss, 1), OPT(dq, N * D), OPT(dk, M * D), ARG(q, N * D), ARG(k, M * D), ARG(pos, N),
             ARG(scratch, N * M));
    begin(st);
    vn_status s = check_rows(st, "infonce", NULL, pos, N, 1, M, 0);
    if (s == VN_OK)
        *loss = vn_infonce_loss(&st->host, dq, dk, q, k, pos, N, M, D, tau, dloss, scratch);
    return end(st, s);
}

static vn_status sn_ln_target(vn_backend_state *st, int mse, float *loss, float *dpred, const float *pred,
                              const float *target, int64_t N, int64_t C, float dloss, float *scratch)
{
    NN_CHECK("ln_target", ARG(loss, 1), OPT(dpred, N * C), ARG(pred, N * C), ARG(target, N * C),
             ARG(scratch, N * C));
    begin(st);
    *loss = mse ? vn_mse_ln_target_loss(&st->host, dpred, pred, target, N, C, dloss, scratch)
                : vn_l1_ln_target_loss(&st->host, dpred, pred, target, N, C, dloss, scratch);
    return end(st, VN_OK);
}

/* ---- engine ops: optimizer ------------------------------------------------------------
 * nn/optim.c keeps these loops static; they are copied here operation for operation,
 * since the stand-in has to give its bits (the engine suite checks that it does). */

static vn_status sn_adamw(vn_backend_state *st, float *param, const float *grad, float *m, float *v, int64_t n,
                          const vn_adamw_scalars *sc)
{
    NN_CHECK("adamw", ARG(param, n), ARG(grad, n), ARG(m, n), ARG(v, n));
    if (!sc)
        return vn_error(VN_ERR_INVALID_ARG, "standin: adamw: no scalars");
    begin(st);
    for (int64_t i = 0; i < n; i++) {
        float pi = param[i] * sc->decay;
        float mi = m[i] + sc->w1 * (grad[i] - m[i]);
        float vi = v[i] * sc->b2;
        vi = vi + sc->w2 * grad[i] * grad[i];
        float denom = sqrtf(vi) / sc->bc2_sqrt + sc->eps;
        param[i] = pi + ((-sc->step_size) * mi) / denom;
        m[i] = mi;
        v[i] = vi;
    }
    return end(st, VN_OK);
}

/* vn_clip_grad_norm's summation tree: 64 fixed chunks of eight double lanes each. */
static vn_status sn_nn_sumsq(vn_backend_state *st, double *acc, const float *x, int64_t n)
{
    NN_CHECK("sumsq", ARG(acc, 1), ARG(x, n));
    begin(st);
    for (int c = 0; c < 64; c++) {
        int64_t lo = n * c / 64, hi = n * (c + 1) / 64, i = lo;
        double l[8] = {0};
        for (; i + 8 <= hi; i += 8)
            for (int k = 0; k < 8; k++)
                l[k] += (double)x[i + k] * x[i + k];
        double s = ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
        for (; i < hi; i++)
            s += (double)x[i] * x[i];
        *acc += s;
    }
    return end(st, VN_OK);
}

static vn_status sn_clip_scale(vn_backend_state *st, float *x, int64_t n, const double *sumsq, double max_norm)
{
    NN_CHECK("clip_scale", ARG(x, n), ARG(sumsq, 1));
    begin(st);
    double coef = max_norm / (sqrt(*sumsq) + 1e-6);
    if (coef < 1.0) {
        float cf = (float)coef;
        for (int64_t i = 0; i < n; i++)
            x[i] *= cf;
    }
    return end(st, VN_OK);
}

static vn_status sn_ema(vn_backend_state *st, float *t, const float *o, int64_t n, float m)
{
    NN_CHECK("ema", ARG(t, n), ARG(o, n));
    begin(st);
    vn_ema_update(&st->host, t, o, n, m);
    return end(st, VN_OK);
}

/* ---- the tables ---------------------------------------------------------------------- */

static const vn_backend_nn standin_nn = {
    .fill = sn_fill,
    .copy = sn_copy,
    .gather_rows = sn_gather_rows,
    .scatter_add_rows = sn_scatter_add_rows,
    .bias_grad = sn_bias_grad,
    .layernorm_forward = sn_layernorm_forward,
    .layernorm_backward = sn_layernorm_backward,
    .gelu_forward = sn_gelu_forward,
    .gelu_backward = sn_gelu_backward,
    .softmax_forward = sn_softmax_forward,
    .softmax_backward = sn_softmax_backward,
    .meanpool_forward = sn_meanpool_forward,
    .meanpool_backward = sn_meanpool_backward,
    .l2norm_forward = sn_l2norm_forward,
    .l2norm_backward = sn_l2norm_backward,
    .unfold = sn_unfold,
    .pos_add = sn_pos_add,
    .pos_add_backward = sn_pos_add_backward,
    .attention_forward = sn_attention_forward,
    .attention_backward = sn_attention_backward,
    .group_temporal = sn_group_temporal,
    .ungroup_temporal = sn_ungroup_temporal,
    .attnpool_forward = sn_attnpool_forward,
    .attnpool_backward = sn_attnpool_backward,
    .bce_logits = sn_bce_logits,
    .softmax_ce = sn_softmax_ce,
    .infonce = sn_infonce,
    .ln_target = sn_ln_target,
    .adamw = sn_adamw,
    .sumsq = sn_nn_sumsq,
    .clip_scale = sn_clip_scale,
    .ema = sn_ema,
};

static const vn_backend standin = {
    .kind = VN_BACKEND_REFERENCE,
    .name = "standin",
    .available = vn_host_available,
    .device_count = vn_host_device_count,
    .device_info = vn_host_device_info,
    .init = sn_init,
    .fini = sn_fini,
    .supports = sn_supports,
    .alloc = sn_alloc,
    .free = sn_free,
    .upload = sn_upload,
    .download = sn_download,
    .synchronize = sn_synchronize,
    .upload_async = sn_upload,
    .gemm = sn_gemm,
    .add = sn_add,
    .mul = sn_mul,
    .scale = sn_scale,
    .axpy = sn_axpy,
    .sum = sn_sum,
    .sumsq = sn_sumsq,
    .max = sn_max,
    .nn = &standin_nn,
};

const vn_backend *vn_standin_backend(void)
{
    return &standin;
}

vn_status vn_standin_open(vn_be *be, int n_threads)
{
    const vn_backend_config cfg = {.n_threads = n_threads, .deterministic = 1, .device = 0, .seed = 1};
    memset(be, 0, sizeof *be);
    vn_status s = standin.init(&be->state, &cfg);
    if (s == VN_OK)
        be->table = &standin;
    return s;
}

vn_standin_counts vn_standin_counters(const vn_be *be)
{
    vn_standin_counts c = {0};
    if (be && be->table == &standin && be->state) {
        c = be->state->counts;
        c.live_buffers = be->state->n_regs;
    }
    return c;
}
