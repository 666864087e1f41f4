/*
 * GEMM on oneDNN's matmul primitive.
 *
 * Creating a matmul primitive costs far more than running a small one, so
 * primitives are created once per (shape, strides, transposes, alpha, beta, bias,
 * precision) and cached. Transposes and leading dimensions are expressed as memory
 * strides, batches as a third dimension (size 1 to broadcast), alpha as an output
 * scale, beta as a sum post-op and the bias as a binary-add post-op, so that
 * C = alpha*AB + beta*C + bias holds for any alpha, which matmul's own bias
 * argument (scaled by alpha) would not give.
 *
 * bf16 (VN_GEMM_BF16): A and B are rounded into bf16 copies (cpu_bf16.c) and the
 * primitive multiplies those with fp32 accumulation into the fp32 C, on AMX or
 * avx512_bf16. oneDNN 2.6's fpmath_mode bf16 would take fp32 operands but leaves matmul
 * on its fp32 kernels (brg:avx512_core), and converting here makes the rounding the
 * reference's (round to nearest even) by construction. The copies are packed densely,
 * each stored matrix kept in its stored orientation (the primitive takes transposes as
 * strides as before) and a broadcast operand converted once; their memory comes from a
 * pool of buffers, one per concurrent caller, kept until the backend closes.
 */
#include "backend/cpu_gemm_onednn.h"
#include "backend/cpu_bf16.h"
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
    int32_t trans_a, trans_b, has_bias, precision;
    int32_t out; /* OUT_* flags */
    float alpha, beta;
} gemm_key;

/* What the primitive writes (gemm_bf16_act): C as bf16, and GELU of the sum as a post-op. */
#define OUT_BF16 1
#define OUT_GELU 2

typedef struct gemm_entry {
    gemm_key key;
    dnnl_primitive_t prim;
    dnnl_memory_desc_t md_a, md_b, md_c, md_bias;
    int bias_arg;
    int refs;          /* 1 while a caller runs it (0 or 1: never shared); evicted only at 0 */
    uint64_t last_use;
    char impl[48];     /* oneDNN's implementation name, for tests that check it is not a slow one */
} gemm_entry;

/* Memory for the bf16 copies of one GEMM's operands, taken for the length of a call. */
typedef struct bf16_scratch {
    struct bf16_scratch *next;
    size_t cap;
    uint16_t *buf;
} bf16_scratch;

struct vn_onednn_gemm {
    dnnl_engine_t engine;
    pthread_mutex_t lock;
    gemm_entry *entries[GEMM_CACHE_CAP];
    int count;
    uint64_t tick;
    uint64_t hits, misses;
    bf16_scratch *spare; /* scratch not in use; as many as callers have ever run at once */
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
    while (g->spare) {
        bf16_scratch *s = g->spare;
        g->spare = s->next;
        free(s->buf);
        free(s);
    }
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

/* A 2-D or 3-D plain desc of type dt for op(X) of rows x cols, with X's batch stride. */
static dnnl_status_t matrix_md(dnnl_memory_desc_t *md, int ndims, int64_t batch, int64_t batch_stride,
                               int64_t rows, int64_t cols, int trans, int64_t ld, dnnl_data_type_t dt)
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
    return dnnl_memory_desc_init_by_strides(md, ndims, dims, dt, strides);
}

static vn_status entry_create(vn_onednn_gemm *g, const gemm_key *key, gemm_entry **out)
{
    gemm_entry *e = calloc(1, sizeof *e);
    if (!e)
        return vn_error(VN_ERR_OUT_OF_MEMORY, "cpu gemm: out of memory");
    e->key = *key;
    int nd = key->batch > 1 ? 3 : 2;
    dnnl_data_type_t in = key->precision == VN_GEMM_BF16 ? dnnl_bf16 : dnnl_f32;
    dnnl_status_t st;
    st = matrix_md(&e->md_a, nd, key->batch, key->stride_a, key->m, key->k, key->trans_a, key->lda, in);
    if (st == dnnl_success)
        st = matrix_md(&e->md_b, nd, key->batch, key->stride_b, key->k, key->n, key->trans_b, key->ldb, in);
    if (st == dnnl_success)
        st = matrix_md(&e->md_c, nd, key->batch, key->stride_c, key->m, key->n, 0, key->ldc,
                       key->out & OUT_BF16 ? dnnl_bf16 : dnnl_f32);
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
        n_post++;
    }
    if (st == dnnl_success && (key->out & OUT_GELU))
        st = dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_gelu_tanh, 0.0f, 0.0f);
    if (st == dnnl_success)
        st = dnnl_primitive_attr_set_post_ops(attr, po);
    if (st == dnnl_success) {
        what = "matmul primitive descriptor";
        st = dnnl_primitive_desc_create(&pd, &desc, attr, g->engine, NULL);
    }
    if (st == dnnl_success) {
        const char *impl = NULL;
        if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) == dnnl_success && impl)
            snprintf(e->impl, sizeof e->impl, "%s", impl);
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

static vn_status execute(vn_onednn_gemm *g, gemm_entry *e, const void *a, const void *b, const float *bias,
                         void *c, int n_threads)
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

/* d with operands a and b of d->precision's type (fp32, or the packed bf16 copies); C is
 * fp32 unless out has OUT_BF16 (then batch 1 with dense rows, which the bias post-op takes). */
static vn_status run_operands(vn_onednn_gemm *g, const vn_gemm_desc *d, const void *a, const void *b,
                              const float *bias, void *c, int out, int n_threads)
{
    /* With A and B both broadcast, oneDNN cannot infer C's batch from its inputs and
     * rejects the descriptor; each output matrix is one plain GEMM on the same operands. */
    if (d->batch > 1 && d->stride_a == 0 && d->stride_b == 0) {
        vn_gemm_desc one = *d;
        one.batch = 1;
        for (int64_t bi = 0; bi < d->batch; bi++) {
            vn_status s = run_operands(g, &one, a, b, bias, (float *)c + bi * d->stride_c, out, n_threads);
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
     * packed (gaps between matrices), and for bf16 a 2-D C with padded rows and a bias
     * post-op gets only its reference kernel (ref:any; padded C alone gets gemm:jit): add
     * the bias in a second pass there. */
    int bias_after = bias && ((d->batch > 1 && d->stride_c != d->m * d->ldc) ||
                              (d->precision == VN_GEMM_BF16 && d->batch == 1 && d->ldc != d->n));
    key.trans_a = d->trans_a != 0, key.trans_b = d->trans_b != 0, key.has_bias = bias && !bias_after;
    key.precision = d->precision;
    key.out = out;
    key.alpha = d->alpha, key.beta = d->beta;

    gemm_entry *e = NULL;
    vn_status s = acquire(g, &key, &e);
    if (s != VN_OK)
        return s;
    s = execute(g, e, a, b, bias_after ? NULL : bias, c, n_threads);
    release(g, e);
    if (s == VN_OK && bias_after)
        add_bias_rows(d, bias, (float *)c);
    return s;
}

/* Scratch of at least bytes for one call: a spare buffer that is large enough, else a
 * spare one grown, else a new one. Buffers are kept, so a steady state allocates nothing. */
static vn_status scratch_take(vn_onednn_gemm *g, size_t bytes, bf16_scratch **out)
{
    pthread_mutex_lock(&g->lock);
    bf16_scratch **pick = NULL;
    for (bf16_scratch **p = &g->spare; *p; p = &(*p)->next)
        if ((*p)->cap >= bytes || !pick)
            pick = p;
    bf16_scratch *s = NULL;
    if (pick) {
        s = *pick;
        *pick = s->next;
    }
    pthread_mutex_unlock(&g->lock);
    if (!s && !(s = calloc(1, sizeof *s)))
        return vn_error(VN_ERR_OUT_OF_MEMORY, "gemm_bf16: out of memory");
    if (s->cap < bytes) {
        size_t cap = (bytes + 4095) / 4096 * 4096;
        uint16_t *buf = aligned_alloc(64, cap);
        if (!buf) {
            free(s->buf);
            free(s);
            return vn_error(VN_ERR_OUT_OF_MEMORY, "gemm_bf16: no memory for %zu bytes of bf16 operands", bytes);
        }
        free(s->buf);
        s->buf = buf, s->cap = cap;
    }
    *out = s;
    return VN_OK;
}

static void scratch_give(vn_onednn_gemm *g, bf16_scratch *s)
{
    pthread_mutex_lock(&g->lock);
    s->next = g->spare;
    g->spare = s;
    pthread_mutex_unlock(&g->lock);
}

/* Round A and B into packed bf16 copies and multiply those. */
static vn_status run_bf16(vn_onednn_gemm *g, const vn_gemm_desc *d, const float *a, const float *b,
                          const float *bias, float *c, int n_threads)
{
    const char *why = "";
    if (!vn_onednn_bf16_usable(&why))
        return vn_error(VN_ERR_UNSUPPORTED, "gemm_bf16: %s", why);
    int64_t a_rows = d->trans_a ? d->k : d->m, a_cols = d->trans_a ? d->m : d->k;
    int64_t b_rows = d->trans_b ? d->n : d->k, b_cols = d->trans_b ? d->k : d->n;
    int64_t a_nb = d->batch > 1 && d->stride_a != 0 ? d->batch : 1;
    int64_t b_nb = d->batch > 1 && d->stride_b != 0 ? d->batch : 1;
    /* B starts on a 64-byte boundary, as oneDNN prefers its inputs. */
    int64_t a_len = (a_nb * a_rows * a_cols + 31) / 32 * 32, b_len = b_nb * b_rows * b_cols;
    bf16_scratch *s = NULL;
    vn_status st = scratch_take(g, (size_t)(a_len + b_len) * sizeof(uint16_t), &s);
    if (st != VN_OK)
        return st;
    uint16_t *pa = s->buf, *pb = s->buf + a_len;
    const vn_bf16_pack_job jobs[2] = {
        {a, a_nb, a_rows, a_cols, d->lda, d->stride_a, pa},
        {b, b_nb, b_rows, b_cols, d->ldb, d->stride_b, pb},
    };
    vn_bf16_pack(n_threads, jobs, 2);
    vn_gemm_desc p = *d;
    p.lda = a_cols, p.ldb = b_cols;
    p.stride_a = a_nb > 1 ? a_rows * a_cols : 0;
    p.stride_b = b_nb > 1 ? b_rows * b_cols : 0;
    st = run_operands(g, &p, pa, pb, bias, c, 0, n_threads);
    scratch_give(g, s);
    return st;
}

vn_status vn_onednn_gemm_run_bf16_act(vn_onednn_gemm *g, const vn_gemm_desc *d, const uint16_t *a, const float *b,
                                      const float *bias, void *c, int c_bf16, int n_threads)
{
    const char *why = "";
    if (!vn_onednn_bf16_usable(&why))
        return vn_error(VN_ERR_UNSUPPORTED, "gemm_bf16_act: %s", why);
    int out = (c_bf16 ? OUT_BF16 : 0) | (d->epilogue == VN_GEMM_EPI_GELU ? OUT_GELU : 0);
    int64_t b_rows = d->trans_b ? d->n : d->k, b_cols = d->trans_b ? d->k : d->n;
    bf16_scratch *s = NULL;
    vn_status st = scratch_take(g, (size_t)(b_rows * b_cols) * sizeof(uint16_t), &s);
    if (st != VN_OK)
        return st;
    const vn_bf16_pack_job job = {b, 1, b_rows, b_cols, d->ldb, 0, s->buf};
    vn_bf16_pack(n_threads, &job, 1);
    vn_gemm_desc p = *d;
    p.ldb = b_cols;
    st = run_operands(g, &p, a, s->buf, bias, c, out, n_threads);
    scratch_give(g, s);
    return st;
}

vn_status vn_onednn_gemm_run(vn_onednn_gemm *g, const vn_gemm_desc *d, const float *a, const float *b,
                             const float *bias, float *c, int n_threads)
{
    if (d->precision == VN_GEMM_TF32)
        return vn_error(VN_ERR_UNSUPPORTED, "gemm_tf32: the cpu backend has no TF32 arithmetic");
    if (d->k == 0) {
        gemm_empty_k(d, bias, c);
        return VN_OK;
    }
    if (d->precision == VN_GEMM_BF16)
        return run_bf16(g, d, a, b, bias, c, n_threads);
    return run_operands(g, d, a, b, bias, c, 0, n_threads);
}

int vn_onednn_gemm_count_impl(vn_onednn_gemm *g, vn_gemm_precision precision, const char *prefix)
{
    int n = 0;
    pthread_mutex_lock(&g->lock);
    for (int i = 0; i < g->count; i++)
        if (g->entries[i]->key.precision == (int32_t)precision &&
            strncmp(g->entries[i]->impl, prefix, strlen(prefix)) == 0)
            n++;
    pthread_mutex_unlock(&g->lock);
    return n;
}

static int bf16_ok;
static char bf16_why[200];

static void bf16_probe(void)
{
    dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
    bf16_ok = (isa & dnnl_cpu_isa_avx512_core_bf16) == dnnl_cpu_isa_avx512_core_bf16;
    if (!bf16_ok)
        snprintf(bf16_why, sizeof bf16_why,
                 "oneDNN's effective CPU ISA here is %s, which has no bf16 dot products (bf16 GEMMs need "
                 "avx512_core_bf16 or avx512_core_amx; DNNL_MAX_CPU_ISA may be capping it)",
                 dnnl_cpu_isa2str(isa));
}

int vn_onednn_bf16_usable(const char **why)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, bf16_probe);
    if (why)
        *why = bf16_ok ? "" : bf16_why;
    return bf16_ok;
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
