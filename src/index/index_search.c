/*
 * index_search.c: exact top-k search (vn_index_search, vn_index_search_shifted).
 *
 * Scores come a block at a time: up to VN_INDEX_QUERY_BLOCK queries against
 * VN_INDEX_BLOCK_ROWS stored rows in one GEMM on the context's backend, C = Q V^T, so
 * each query's scores of the block are one contiguous row of C, which the query offers
 * to a heap of its k best so far.
 *
 * Threads. On a host backend with several threads and several blocks, the blocks are
 * shared out among the threads in one parallel region (dynamic schedule): each thread
 * scores its blocks with single-threaded GEMMs into its own buffers and keeps its own
 * heaps for every query, and the heaps are merged per query at the end (in parallel
 * over the queries). One region per search, rather than a GEMM region and a top-k
 * region per block, keeps the threads busy when the machine is shared: a thread that
 * is descheduled just takes fewer blocks instead of stalling every join. With one block
 * or one thread, or on a device backend, the blocks run in order: the GEMM uses the
 * context's threads and the heap updates run in parallel over the queries.
 *
 * Ties: a heap's top is its worst entry, by lower score, then by higher row, and the
 * merge takes the higher score, then the lower row: equal scores keep the lower row,
 * whatever the thread count or block size.
 *
 * On a device backend (one whose memory the host cannot touch) each block of rows and
 * of queries is uploaded and its scores downloaded around the GEMM: correct, but the
 * scores cross the bus, so it is a convenience rather than a fast path.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/context_internal.h"
#include "core/error.h"
#include "index/index_internal.h"

/* At most this many threads share a search's blocks. */
#define MAX_WORKERS 64
/* Queries whose heaps are kept at once: the rows are streamed once per span. A span is
 * also cut so that one worker's heaps stay within HEAP_BUDGET bytes. */
#define QUERY_SPAN 4096
#define HEAP_BUDGET ((size_t)64 << 20)

/* Below this many scores a block's top-k update is not worth a parallel region. */
#define PAR_MIN_SCORES 32768

/* a ranks below b: a lower score, or the same score and a later row. */
static inline int worse(float sa, int64_t ra, float sb, int64_t rb)
{
    return sa < sb || (sa == sb && ra > rb);
}

static void heap_push(float *hs, int64_t *hr, int64_t size, float s, int64_t r)
{
    int64_t i = size;
    while (i > 0) {
        int64_t p = (i - 1) / 2;
        if (!worse(s, r, hs[p], hr[p]))
            break;
        hs[i] = hs[p];
        hr[i] = hr[p];
        i = p;
    }
    hs[i] = s;
    hr[i] = r;
}

/* Put (s, r) at the top of a heap of `size` entries and sift it down. */
static void heap_sift_top(float *hs, int64_t *hr, int64_t size, float s, int64_t r)
{
    int64_t i = 0;
    for (;;) {
        int64_t l = 2 * i + 1, rt = l + 1, w = l;
        if (l >= size)
            break;
        if (rt < size && worse(hs[rt], hr[rt], hs[l], hr[l]))
            w = rt;
        if (!worse(hs[w], hr[w], s, r))
            break;
        hs[i] = hs[w];
        hr[i] = hr[w];
        i = w;
    }
    hs[i] = s;
    hr[i] = r;
}

/* Offer one query's scores c[0..rb) of rows r0.. to its heap of `size` (<= kk) entries. */
static void offer_block(float *hs, int64_t *hr, int64_t size, int64_t kk, const float *c, int64_t rb, int64_t r0)
{
    int64_t j = 0;
    for (; j < rb && size < kk; j++) {
        float s = c[j];
        if (s != s) /* only an overflowing product gets here: it ranks last */
            s = -INFINITY;
        heap_push(hs, hr, size++, s, r0 + j);
    }
    if (j == rb)
        return;
    float top = hs[0];
    for (; j < rb; j++) {
        const float s = c[j];
        /* Most scores stop at the first test (NaN too). A worker's rows only grow, so an
         * equal score never wins on its row; the test keeps the order rule regardless. */
        if (!(s >= top) || (s == top && r0 + j > hr[0]))
            continue;
        heap_sift_top(hs, hr, kk, s, r0 + j);
        top = hs[0];
    }
}

/* Sort a full heap best first: the worst goes to the end, repeatedly. */
static void heap_sort(float *hs, int64_t *hr, int64_t size)
{
    for (int64_t end = size - 1; end > 0; end--) {
        const float s = hs[end];
        const int64_t r = hr[end];
        hs[end] = hs[0];
        hr[end] = hr[0];
        heap_sift_top(hs, hr, end, s, r);
    }
}

/* One thread's share of a search: its heaps (qs_max x kk, stride kk) and buffers. */
typedef struct worker {
    float *hs;
    int64_t *hr;
    int64_t seen; /* rows offered to the heaps in this span */
    float *cbuf;  /* qb_max x rb_max scores */
    float *vbuf;  /* cosine: rb_max x dim normalised rows */
    float *dv, *dq, *dc; /* device copies of a row block, a query block and its scores */
} worker;

typedef struct plan {
    const vn_index *ix;
    const vn_be *be;
    int device, cosine, inner_threads;
    int64_t dim, kk, rb_max, qb_max;
    const float *queries; /* all q, prepared */
    int64_t q0, qn;       /* the current span */
} plan;

static void worker_free(const plan *p, worker *w)
{
    free(w->hs);
    free(w->hr);
    free(w->cbuf);
    free(w->vbuf);
    if (p->device) {
        vn_be_free(p->be, w->dv);
        vn_be_free(p->be, w->dq);
        vn_be_free(p->be, w->dc);
    }
}

static vn_status worker_init(const char *fn, const plan *p, int64_t qs_max, worker *w)
{
    const size_t heap = (size_t)qs_max * (size_t)p->kk;
    w->hs = malloc(heap * sizeof *w->hs);
    w->hr = malloc(heap * sizeof *w->hr);
    w->cbuf = malloc((size_t)p->qb_max * (size_t)p->rb_max * sizeof *w->cbuf);
    if (p->cosine)
        w->vbuf = malloc((size_t)p->rb_max * (size_t)p->dim * sizeof *w->vbuf);
    if (!w->hs || !w->hr || !w->cbuf || (p->cosine && !w->vbuf))
        return vn_error(VN_ERR_OUT_OF_MEMORY, "%s: out of memory for the heaps of %lld queries (k %lld)", fn,
                        (long long)qs_max, (long long)p->kk);
    if (p->device) {
        vn_status st;
        if ((st = vn_be_alloc(p->be, (size_t)p->rb_max * (size_t)p->dim * sizeof(float), (void **)&w->dv)) ||
            (st = vn_be_alloc(p->be, (size_t)p->qb_max * (size_t)p->dim * sizeof(float), (void **)&w->dq)) ||
            (st = vn_be_alloc(p->be, (size_t)p->qb_max * (size_t)p->rb_max * sizeof(float), (void **)&w->dc)))
            return vn_error_prefix(st, "%s: device buffers for a block: ", fn);
    }
    return VN_OK;
}

/* C[qb, rb] = Q[qb, dim] V[rb, dim]^T on the backend; host pointers in and out (on a
 * device, w->dv already holds V). */
static vn_status score_block(const plan *p, worker *w, const float *q, int64_t qb, const float *v, int64_t rb)
{
    const vn_gemm_desc d = vn_gemm_desc_plain(0, 1, qb, rb, p->dim);
    if (!p->device)
        return vn_be_gemm(p->be, &d, q, v, NULL, w->cbuf);
    vn_status st = vn_be_upload(p->be, w->dq, q, (size_t)qb * (size_t)p->dim * sizeof(float));
    if (st == VN_OK)
        st = vn_be_gemm(p->be, &d, w->dq, w->dv, NULL, w->dc);
    if (st == VN_OK)
        st = vn_be_download(p->be, w->cbuf, w->dc, (size_t)qb * (size_t)rb * sizeof(float));
    return st;
}

/* Score rows r0..r0+rb against the span's queries and offer them to w's heaps. */
static vn_status process_block(const plan *p, worker *w, int64_t r0, int64_t rb)
{
    const int64_t dim = p->dim, kk = p->kk;
    const int nt = p->inner_threads;
    const float *vsrc = p->ix->vec + (size_t)r0 * (size_t)dim;
    vn_status st;
    if (p->cosine) {
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1 && rb * dim >= PAR_MIN_SCORES)
        for (int64_t i = 0; i < rb; i++)
            vn_index_row_as_searched(p->ix, r0 + i, w->vbuf + (size_t)i * (size_t)dim);
        vsrc = w->vbuf;
    }
    if (p->device && (st = vn_be_upload(p->be, w->dv, vsrc, (size_t)rb * (size_t)dim * sizeof(float))) != VN_OK)
        return vn_error_prefix(st, "uploading rows %lld..%lld: ", (long long)r0, (long long)(r0 + rb));
    /* Heaps hold min(rows seen, kk) entries, the same for every query. */
    const int64_t size0 = w->seen < kk ? w->seen : kk;
    for (int64_t c0 = 0; c0 < p->qn; c0 += p->qb_max) {
        const int64_t qb = p->qn - c0 < p->qb_max ? p->qn - c0 : p->qb_max;
        if ((st = score_block(p, w, p->queries + (size_t)(p->q0 + c0) * (size_t)dim, qb, vsrc, rb)) != VN_OK)
            return vn_error_prefix(st, "scoring rows %lld..%lld: ", (long long)r0, (long long)(r0 + rb));
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1 && qb * rb >= PAR_MIN_SCORES)
        for (int64_t i = 0; i < qb; i++) {
            const size_t at = (size_t)(c0 + i) * (size_t)kk;
            offer_block(w->hs + at, w->hr + at, size0, kk, w->cbuf + (size_t)i * (size_t)rb, rb, r0);
        }
    }
    w->seen += rb;
    return VN_OK;
}

/* Query i of the span: sort each worker's heap, merge them best first into the output
 * row (k places; past kk, id -1 and -INFINITY). */
static void merge_query(const plan *p, worker *ws, int n_workers, int64_t i, int64_t k, int64_t *ids, float *scores)
{
    const int64_t kk = p->kk;
    const size_t at = (size_t)i * (size_t)kk;
    int64_t pos[MAX_WORKERS], size[MAX_WORKERS];
    for (int w = 0; w < n_workers; w++) {
        size[w] = ws[w].seen < kk ? ws[w].seen : kk;
        pos[w] = 0;
        heap_sort(ws[w].hs + at, ws[w].hr + at, size[w]);
    }
    for (int64_t j = 0; j < kk; j++) {
        int best = -1;
        for (int w = 0; w < n_workers; w++) {
            if (pos[w] == size[w])
                continue;
            if (best < 0 || worse(ws[best].hs[at + pos[best]], ws[best].hr[at + pos[best]], ws[w].hs[at + pos[w]],
                                  ws[w].hr[at + pos[w]]))
                best = w;
        }
        /* every row went to some worker and kk <= n: a place is never left empty */
        ids[j] = p->ix->ids[ws[best].hr[at + pos[best]]];
        if (scores)
            scores[j] = ws[best].hs[at + pos[best]];
        pos[best]++;
    }
    for (int64_t j = kk; j < k; j++) {
        ids[j] = -1;
        if (scores)
            scores[j] = -INFINITY;
    }
}

static vn_status check_finite(const char *fn, const char *what, const float *x, int64_t rows, int64_t dim)
{
    const size_t total = (size_t)rows * (size_t)dim;
    for (size_t i = 0; i < total; i++)
        if (!isfinite(x[i]))
            return vn_error(VN_ERR_INVALID_ARG, "%s: %s[%lld][%lld] is %g; it must be finite", fn, what,
                            (long long)(i / (size_t)dim), (long long)(i % (size_t)dim), (double)x[i]);
    return VN_OK;
}

static vn_status search(const char *fn, const vn_index *ix, const vn_tensor *queries, const float *direction,
                        float alpha, int64_t k, int64_t *ids, float *scores)
{
    vn_status st = vn_index_expect_matrix(fn, "queries", queries, ix->dim);
    if (st)
        return st;
    if (k < 1)
        return vn_error(VN_ERR_INVALID_ARG, "%s: k is %lld; it must be at least 1", fn, (long long)k);
    const int64_t q = queries->shape[0], dim = ix->dim, n = ix->n;
    if (q == 0)
        return VN_OK;
    if (k > (int64_t)(SIZE_MAX / sizeof(int64_t) / (size_t)q))
        return vn_error(VN_ERR_INVALID_ARG, "%s: %lld queries x k %lld results are too many to address", fn,
                        (long long)q, (long long)k);
    const float *qsrc = queries->data;
    if ((st = check_finite(fn, "queries", qsrc, q, dim)) != VN_OK)
        return st;
    if (direction) {
        if ((st = check_finite(fn, "direction", direction, 1, dim)) != VN_OK)
            return st;
        if (!isfinite(alpha))
            return vn_error(VN_ERR_INVALID_ARG, "%s: alpha is %g; it must be finite", fn, (double)alpha);
    }
    const int n_threads = ix->ctx->n_threads > 0 ? ix->ctx->n_threads : 1;
    const int64_t kk = k < n ? k : n;
    if (kk == 0) { /* an empty index */
        for (size_t i = 0; i < (size_t)q * (size_t)k; i++) {
            ids[i] = -1;
            if (scores)
                scores[i] = -INFINITY;
        }
        return VN_OK;
    }

    plan p = {0};
    p.ix = ix;
    p.be = &ix->ctx->be;
    p.device = vn_index_on_device(ix->ctx);
    p.cosine = ix->metric == VN_INDEX_COSINE;
    p.dim = dim;
    p.kk = kk;
    p.rb_max = n < VN_INDEX_BLOCK_ROWS ? n : VN_INDEX_BLOCK_ROWS;
    p.qb_max = q < VN_INDEX_QUERY_BLOCK ? q : VN_INDEX_QUERY_BLOCK;
    const int64_t n_blocks = (n + p.rb_max - 1) / p.rb_max;
    int n_workers = p.device ? 1 : n_threads;
    if (n_workers > MAX_WORKERS)
        n_workers = MAX_WORKERS;
    if (n_workers > n_blocks)
        n_workers = (int)n_blocks;
    p.inner_threads = n_workers == 1 ? n_threads : 1;
    int64_t qs_max = q < QUERY_SPAN ? q : QUERY_SPAN;
    const size_t per_query = (size_t)kk * (sizeof(float) + sizeof(int64_t));
    if ((size_t)qs_max * per_query > HEAP_BUDGET)
        qs_max = HEAP_BUDGET / per_query > 0 ? (int64_t)(HEAP_BUDGET / per_query) : 1;
    if (p.qb_max > qs_max)
        p.qb_max = qs_max;

    float *pq = NULL;
    worker ws[MAX_WORKERS];
    memset(ws, 0, sizeof ws);
    if (p.cosine || direction) {
        pq = malloc((size_t)q * (size_t)dim * sizeof *pq);
        if (!pq) {
            st = vn_error(VN_ERR_OUT_OF_MEMORY, "%s: out of memory for %lld queries of dim %lld", fn, (long long)q,
                          (long long)dim);
            goto done;
        }
#pragma omp parallel for num_threads(n_threads) schedule(static) if (q * dim >= PAR_MIN_SCORES)
        for (int64_t i = 0; i < q; i++) {
            const float *src = qsrc + (size_t)i * (size_t)dim;
            float *dst = pq + (size_t)i * (size_t)dim;
            for (int64_t j = 0; j < dim; j++)
                dst[j] = direction ? src[j] - alpha * direction[j] : src[j];
            if (p.cosine)
                vn_index_scale_row(dst, vn_index_inv_norm(dst, dim), dim, dst);
        }
        if (direction && (st = check_finite(fn, "the shifted queries", pq, q, dim)) != VN_OK)
            goto done;
        qsrc = pq;
    }
    p.queries = qsrc;
    for (int w = 0; w < n_workers; w++)
        if ((st = worker_init(fn, &p, qs_max, &ws[w])) != VN_OK)
            goto done;

    for (int64_t q0 = 0; q0 < q; q0 += qs_max) {
        p.q0 = q0;
        p.qn = q - q0 < qs_max ? q - q0 : qs_max;
        for (int w = 0; w < n_workers; w++)
            ws[w].seen = 0;
        if (n_workers == 1) {
            for (int64_t b = 0; b < n_blocks && st == VN_OK; b++) {
                const int64_t r0 = b * p.rb_max;
                st = process_block(&p, &ws[0], r0, n - r0 < p.rb_max ? n - r0 : p.rb_max);
            }
            if (st != VN_OK) {
                st = vn_error_prefix(st, "%s: ", fn);
                goto done;
            }
        } else {
            /* Errors happen on the workers' threads: the first one's message is carried
             * back to this one. */
            vn_status failed = VN_OK;
            char message[512] = "";
#pragma omp parallel for num_threads(n_workers) schedule(dynamic, 1)
            for (int64_t b = 0; b < n_blocks; b++) {
                vn_status bad;
#pragma omp atomic read
                bad = failed;
                if (bad != VN_OK)
                    continue;
#ifdef _OPENMP
                worker *w = &ws[omp_get_thread_num()];
#else
                worker *w = &ws[0];
#endif
                const int64_t r0 = b * p.rb_max;
                vn_status s = process_block(&p, w, r0, n - r0 < p.rb_max ? n - r0 : p.rb_max);
                if (s != VN_OK) {
#pragma omp critical(vn_index_search_error)
                    {
                        if (failed == VN_OK) {
                            snprintf(message, sizeof message, "%s", vn_last_error());
#pragma omp atomic write
                            failed = s;
                        }
                    }
                }
            }
            if (failed != VN_OK) {
                st = vn_error(failed, "%s: %s", fn, message);
                goto done;
            }
        }
#pragma omp parallel for num_threads(n_threads) schedule(static) if (p.qn * kk * n_workers >= PAR_MIN_SCORES / 8)
        for (int64_t i = 0; i < p.qn; i++) {
            const size_t out = (size_t)(q0 + i) * (size_t)k;
            merge_query(&p, ws, n_workers, i, k, ids + out, scores ? scores + out : NULL);
        }
    }

done:
    for (int w = 0; w < MAX_WORKERS; w++)
        worker_free(&p, &ws[w]);
    free(pq);
    return st;
}

vn_status vn_index_search(const vn_index *index, const vn_tensor *queries, int64_t k, int64_t *ids, float *scores)
{
    VN_CHECK_NULL(index);
    VN_CHECK_NULL(queries);
    VN_CHECK_NULL(ids);
    return search("vn_index_search", index, queries, NULL, 0.0f, k, ids, scores);
}

vn_status vn_index_search_shifted(const vn_index *index, const vn_tensor *queries, const float *direction,
                                  float alpha, int64_t k, int64_t *ids, float *scores)
{
    VN_CHECK_NULL(index);
    VN_CHECK_NULL(queries);
    VN_CHECK_NULL(direction);
    VN_CHECK_NULL(ids);
    return search("vn_index_search_shifted", index, queries, direction, alpha, k, ids, scores);
}
