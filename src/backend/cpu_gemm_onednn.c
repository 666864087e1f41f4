/*
 * GEMM on oneDNN's matmul primitive.
 *
 * Creating a matmul primitive costs far more than running a small one, so
 * primitives are created once per (shape, strides, transposes, alpha, beta, bias)
 * and cached. Transposes and leading dimensions are expressed as memory strides,
 * batches as a third dimension (size 1 to broadcast), alpha as an output scale,
 * beta as a sum post-op and the bias as a binary-add post-op, so that
 * C = alpha*AB + beta*C + bias holds for any alpha, which matmul's own bias
 * argument (scaled by alpha) would not give.
 */
#include "backend/cpu_gemm_onednn.h"
#include "core/error.h"

#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl_debug.h>
#include <omp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GEMM_CACHE_CAP 128

typedef struct gemm_key {
    int64_t m, n, k, batch;
    int64_t lda, ldb, ldc;
    int64_t stride_a, stride_b, stride_c;
    int32_t trans_a, trans_b, has_bias, pad;
    float alpha, beta;
} gemm_key;

typedef struct gemm_entry {
    gemm_key key;
    dnnl_primitive_t prim;
    dnnl_memory_desc_t md_a, md_b, md_c, md_bias;
    int bias_arg;
    int refs;          /* 1 while a caller runs it (0 or 1: never shared); evicted only at 0 */
    uint64_t last_use;
} gemm_entry;

struct vn_onednn_gemm {
    dnnl_engine_t engine;
    pthread_mutex_t lock;
    gemm_entry *entries[GEMM_CACHE_CAP];
    int count;
    uint64_t tick;
    uint64_t hits, misses;
};

static vn_status dnnl_fail(dnnl_status_t st, const char *what)
{
    return vn_error(VN_ERR_BACKEND, "oneDNN %s failed: %s", what, dnnl_status2str(st));
}

vn_status vn_onednn_gemm_create(vn_onednn_gemm **out)
{
    vn_onednn_gemm *g = calloc(1, sizeof *g);
    if (!g)
        return vn_error(VN_ERR_OUT_OF_MEMORY, "cpu backend: out of memory");
    dnnl_status_t st = dnnl_engine_create(&g->engine, dnnl_cpu, 0);
    if (st != dnnl_success) {
        free(g);
        return dnnl_fail(st, "CPU engine creation");
    }
    pthread_mutex_init(&g->lock, NULL);
    *out = g;
    return VN_OK;
}

static void entry_destroy(gemm_entry *e)
{
    if (!e)
        return;
    dnnl_primitive_destroy(e->prim);
    free(e);
}

void vn_onednn_gemm_destroy(vn_onednn_gemm *g)
{
    if (!g)
        return;
    for (int i = 0; i < g->count; i++)
        entry_destroy(g->entries[i]);
    dnnl_engine_destroy(g->engine);
    pthread_mutex_destroy(&g->lock);
    free(g);
}

void vn_onednn_gemm_stats(vn_onednn_gemm *g, uint64_t *hits, uint64_t *misses, int *cached)
{
    pthread_mutex_lock(&g->lock);
    *hits = g->hits;
    *misses = g->misses;
    *cached = g->count;
    pthread_mutex_unlock(&g->lock);
}

/* A 2-D or 3-D plain f32 desc for op(X) of rows x cols, with X's batch stride. */
static dnnl_status_t matrix_md(dnnl_memory_desc_t *md, int ndims, int64_t batch, int64_t batch_stride,
                               int64_t rows, int64_t cols, int trans, int64_t ld)
{
    dnnl_dims_t dims, strides;
    int64_t rs = trans ? 1 : ld, cs = trans ? ld : 1;
    if (ndims == 2) {
        dims[0] = rows, dims[1] = cols;
        strides[0] = rs, strides[1] = cs;
    } else {
        int bcast = batch_stride == 0;
        dims[0] = bcast ? 1 : batch, dims[1] = rows, dims[2] = cols;
        /* A broadcast batch dim of size 1 still needs a stride that does not alias. */
        strides[0] = bcast ? rows * cols : batch_stride, strides[1] = rs, strides[2] = cs;
    }
    return dnnl_memory_desc_init_by_strides(md, ndims, dims, dnnl_f32, strides);
}

static vn_status entry_create(vn_onednn_gemm *g, const gemm_key *key, gemm_entry **out)
{
    gemm_entry *e = calloc(1, sizeof *e);
    if (!e)
        return vn_error(VN_ERR_OUT_OF_MEMORY, "cpu gemm: out of memory");
    e->key = *key;
    int nd = key->batch > 1 ? 3 : 2;
    dnnl_status_t st;
    st = matrix_md(&e->md_a, nd, key->batch, key->stride_a, key->m, key->k, key->trans_a, key->lda);
    if (st == dnnl_success)
        st = matrix_md(&e->md_b, nd, key->batch, key->stride_b, key->k, key->n, key->trans_b, key->ldb);
    if (st == dnnl_success)
        st = matrix_md(&e->md_c, nd, key->batch, key->stride_c, key->m, key->n, 0, key->ldc);
    if (st == dnnl_success && key->has_bias) {
        dnnl_dims_t bd = {1, 1, 1};
        bd[nd - 1] = key->n;
        st = dnnl_memory_desc_init_by_tag(&e->md_bias, nd, bd, dnnl_f32, nd == 3 ? dnnl_abc : dnnl_ab);
    }
    if (st != dnnl_success) {
        free(e);
        return dnnl_fail(st, "matmul memory descriptor");
    }

    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t po = NULL;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_matmul_desc_t desc;
    const char *what = "matmul descriptor";
    st = dnnl_matmul_desc_init(&desc, &e->md_a, &e->md_b, NULL, &e->md_c);
    if (st == dnnl_success) {
        what = "primitive attributes";
        st = dnnl_primitive_attr_create(&attr);
    }
    if (st == dnnl_success && key->alpha != 1.0f)
        st = dnnl_primitive_attr_set_output_scales(attr, 1, 0, &key->alpha);
    if (st == dnnl_success)
        st = dnnl_post_ops_create(&po);
    int n_post = 0;
    if (st == dnnl_success && key->beta != 0.0f) {
        st = dnnl_post_ops_append_sum(po, key->beta);
        n_post++;
    }
    if (st == dnnl_success && key->has_bias) {
        st = dnnl_post_ops_append_binary(po, dnnl_binary_add, &e->md_bias);
        e->bias_arg = DNNL_ARG_ATTR_MULTIPLE_POST_OP(n_post) | DNNL_ARG_SRC_1;
    }
    if (st == dnnl_success)
        st = dnnl_primitive_attr_set_post_ops(attr, po);
    if (st == dnnl_success) {
        what = "matmul primitive descriptor";
        st = dnnl_primitive_desc_create(&pd, &desc, attr, g->engine, NULL);
    }
    if (st == dnnl_success) {
        what = "matmul primitive";
        st = dnnl_primitive_create(&e->prim, pd);
    }
    dnnl_primitive_desc_destroy(pd);
    dnnl_post_ops_destroy(po);
    dnnl_primitive_attr_destroy(attr);
    if (st != dnnl_success) {
        free(e);
        return dnnl_fail(st, what);
    }
    *out = e;
    return VN_OK;
}

/*
 * Find or build the primitive for key and take it. A primitive runs for one caller at a
 * time: oneDNN's library-managed scratchpad belongs to the primitive, and Debian's
 * oneDNN is built without concurrent execution, so two threads running one primitive
 * at once overwrite each other's scratch (seen as wrong sums from two trainers sharing
 * a context; test concurrent_gemms_do_not_share_scratch). A busy entry is skipped and
 * a second one for the same key is built.
 */
static vn_status acquire(vn_onednn_gemm *g, const gemm_key *key, gemm_entry **out)
{
    pthread_mutex_lock(&g->lock);
    g->tick++;
    for (int i = 0; i < g->count; i++) {
        if (g->entries[i]->refs == 0 && memcmp(&g->entries[i]->key, key, sizeof *key) == 0) {
            gemm_entry *e = g->entries[i];
            e->refs++;
            e->last_use = g->tick;
            g->hits++;
            pthread_mutex_unlock(&g->lock);
            *out = e;
            return VN_OK;
        }
    }
    g->misses++;
    pthread_mutex_unlock(&g->lock);

    /* Build outside the lock: primitive creation can take milliseconds. */
    gemm_entry *e = NULL;
    vn_status s = entry_create(g, key, &e);
    if (s != VN_OK)
        return s;

    pthread_mutex_lock(&g->lock);
    e->refs = 1;
    e->last_use = g->tick;
    if (g->count == GEMM_CACHE_CAP) {
        int victim = -1;
        for (int i = 0; i < g->count; i++)
            if (g->entries[i]->refs == 0 && (victim < 0 || g->entries[i]->last_use < g->entries[victim]->last_use))
                victim = i;
        if (victim >= 0) {
            entry_destroy(g->entries[victim]);
            g->entries[victim] = g->entries[--g->count];
        }
    }
    if (g->count < GEMM_CACHE_CAP) {
        g->entries[g->count++] = e;
    } else {
        e->refs = -1; /* every cached entry is busy: this one is used once and dropped */
    }
    pthread_mutex_unlock(&g->lock);
    *out = e;
    return VN_OK;
}

static void release(vn_onednn_gemm *g, gemm_entry *e)
{
    if (e->refs < 0) {
        entry_destroy(e);
        return;
    }
    pthread_mutex_lock(&g->lock);
    e->refs--;
    pthread_mutex_unlock(&g->lock);
}

static vn_status execute(vn_onednn_gemm *g, gemm_entry *e, const float *a, const float *b, const float *bias,
                         float *c, int n_threads)
{
    dnnl_memory_t mem[4] = {NULL, NULL, NULL, NULL};
    dnnl_stream_t stream = NULL;
    dnnl_status_t st = dnnl_stream_create(&stream, g->engine, dnnl_stream_default_flags);
    if (st == dnnl_success)
        st = dnnl_memory_create(&mem[0], &e->md_a, g->engine, (void *)a);
    if (st == dnnl_success)
        st = dnnl_memory_create(&mem[1], &e->md_b, g->engine, (void *)b);
    if (st == dnnl_success)
        st = dnnl_memory_create(&mem[2], &e->md_c, g->engine, c);
    if (st == dnnl_success && bias)
        st = dnnl_memory_create(&mem[3], &e->md_bias, g->engine, (void *)bias);
    if (st == dnnl_success) {
        dnnl_exec_arg_t args[4] = {
            {DNNL_ARG_SRC, mem[0]},
            {DNNL_ARG_WEIGHTS, mem[1]},
            {DNNL_ARG_DST, mem[2]},
            {e->bias_arg, mem[3]},
        };
        /* oneDNN sizes its OpenMP team from this thread's ICV; scope the context's count to the call. */
        int prev = omp_get_max_threads();
        omp_set_num_threads(n_threads);
        st = dnnl_primitive_execute(e->prim, stream, bias ? 4 : 3, args);
        if (st == dnnl_success)
            st = dnnl_stream_wait(stream);
        omp_set_num_threads(prev);
    }
    for (int i = 0; i < 4; i++)
        dnnl_memory_destroy(mem[i]);
    dnnl_stream_destroy(stream);
    return st == dnnl_success ? VN_OK : dnnl_fail(st, "matmul execution");
}

/* Add bias to every row of every C matrix, for layouts the post-op cannot take. */
static void add_bias_rows(const vn_gemm_desc *d, const float *bias, float *c)
{
    for (int64_t bi = 0; bi < d->batch; bi++)
        for (int64_t i = 0; i < d->m; i++) {
            float *row = c + bi * d->stride_c + i * d->ldc;
            for (int64_t j = 0; j < d->n; j++)
                row[j] += bias[j];
        }
}

/* k == 0: the product is empty, so C = beta*C + bias; oneDNN would not touch C at all. */
static void gemm_empty_k(const vn_gemm_desc *d, const float *bias, float *c)
{
    for (int64_t bi = 0; bi < d->batch; bi++)
        for (int64_t i = 0; i < d->m; i++) {
            float *row = c + bi * d->stride_c + i * d->ldc;
            for (int64_t j = 0; j < d->n; j++)
                row[j] = (d->beta != 0.0f ? d->beta * row[j] : 0.0f) + (bias ? bias[j] : 0.0f);
        }
}

vn_status vn_onednn_gemm_run(vn_onednn_gemm *g, const vn_gemm_desc *d, const float *a, const float *b,
                             const float *bias, float *c, int n_threads)
{
    if (d->k == 0) {
        gemm_empty_k(d, bias, c);
        return VN_OK;
    }
    /* With A and B both broadcast, oneDNN cannot infer C's batch from its inputs and
     * rejects the descriptor; each output matrix is one plain GEMM on the same operands. */
    if (d->batch > 1 && d->stride_a == 0 && d->stride_b == 0) {
        vn_gemm_desc one = *d;
        one.batch = 1;
        for (int64_t bi = 0; bi < d->batch; bi++) {
            vn_status s = vn_onednn_gemm_run(g, &one, a, b, bias, c + bi * d->stride_c, n_threads);
            if (s != VN_OK)
                return s;
        }
        return VN_OK;
    }
    gemm_key key;
    memset(&key, 0, sizeof key);
    key.m = d->m, key.n = d->n, key.k = d->k, key.batch = d->batch;
    key.lda = d->lda, key.ldb = d->ldb, key.ldc = d->ldc;
    if (d->batch > 1)
        key.stride_a = d->stride_a, key.stride_b = d->stride_b, key.stride_c = d->stride_c;
    /* oneDNN 2.6 broadcasts a binary post-op wrongly when C's batches are not densely
     * packed (gaps between matrices): add the bias in a second pass there. */
    int bias_after = bias && d->batch > 1 && d->stride_c != d->m * d->ldc;
    key.trans_a = d->trans_a != 0, key.trans_b = d->trans_b != 0, key.has_bias = bias && !bias_after;
    key.alpha = d->alpha, key.beta = d->beta;

    gemm_entry *e = NULL;
    vn_status s = acquire(g, &key, &e);
    if (s != VN_OK)
        return s;
    s = execute(g, e, a, b, bias_after ? NULL : bias, c, n_threads);
    release(g, e);
    if (s == VN_OK && bias_after)
        add_bias_rows(d, bias, c);
    return s;
}

static char version_buf[32];

static void version_fill(void)
{
    const dnnl_version_t *v = dnnl_version();
    snprintf(version_buf, sizeof version_buf, "%d.%d.%d", v->major, v->minor, v->patch);
}

const char *vn_onednn_version(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, version_fill);
    return version_buf;
}
