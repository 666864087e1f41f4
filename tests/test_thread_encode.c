/*
 * One encoder shared by 8 threads (encoder.h: a model may be shared for encoding): each
 * thread encodes its own clips, embeddings and tokens, several rounds in a row, and every
 * result must be bit-identical to the same call made by a single thread beforehand. Also
 * two models on one shared context, each encoded by 4 threads (context.h: a context may
 * be shared; its GEMM primitive cache is the state both models write), and one vn_index
 * searched by 8 threads (index.h: the read-only calls may share an index).
 *
 * The threads start together behind a barrier, so the encoder's pool of activation
 * arenas (4 slots) is raced for by more callers than it holds, batch sizes differ per
 * thread so an arena taken from the pool is sometimes larger than the call needs, and
 * the OpenMP teams of the context's threads run inside every caller at once.
 *
 * Under ThreadSanitizer (scripts/test-sanitizers.sh) only contexts of one thread run:
 * libgomp synchronises its teams with futexes TSan cannot see, so a team of 2 reports
 * false races on every parallel region (docs/RELIABILITY.md, "Thread safety").
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vn_test.h"

enum { N_CALLERS = 8, ROUNDS = 4, MAX_BATCH = 3, FRAMES = 8, SIZE = 16 };

#if defined(__SANITIZE_THREAD__)
#define VN_UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define VN_UNDER_TSAN 1
#endif
#endif

/* One caller's work: batch clips of the shared set, and the single-thread results. */
typedef struct caller {
    const vn_encoder *enc;
    pthread_barrier_t *start;
    int64_t batch, first;    /* clips first..first+batch-1 of the shared set */
    const float *clips;      /* [batch, C, T, H, W], inside the shared set */
    float *ref_emb, *ref_tok; /* single-thread results */
    int64_t L, D;
    /* set by the thread */
    vn_status st;
    char msg[256];
    int mismatches;          /* rounds whose output differed from the reference */
} caller;

static int64_t clip_floats(void)
{
    return (int64_t)3 * FRAMES * SIZE * SIZE;
}

/* n float clips of the world's AOT task, [n, 3, FRAMES, SIZE, SIZE]: real content (moving
 * objects on a texture), each clip different. */
static float *world_clips(int64_t n)
{
    vn_world_options wo = VN_WORLD_OPTIONS_INIT;
    wo.seed = 41;
    wo.n_frames = FRAMES;
    wo.size = SIZE;
    wo.n_threads = 1;
    vn_world *w = NULL;
    VN_ASSERT_OK(vn_world_create(&w, &wo));
    float *x = malloc((size_t)(n * clip_floats()) * sizeof(float));
    ck_assert_ptr_nonnull(x);
    vn_tensor t;
    VN_ASSERT_OK(vn_tensor_init(&t, x, VN_DTYPE_F32, 5, (int64_t[]){n, 3, FRAMES, SIZE, SIZE}));
    VN_ASSERT_OK(vn_world_batch(w, VN_TASK_AOT, 0, &t, NULL));
    vn_world_destroy(w);
    return x;
}

static vn_status encode_into(const caller *c, float *emb, float *tok)
{
    vn_tensor tc, te, tt;
    vn_status st = vn_tensor_init(&tc, (void *)c->clips, VN_DTYPE_F32, 5,
                                  (int64_t[]){c->batch, 3, FRAMES, SIZE, SIZE});
    if (!st)
        st = vn_tensor_init(&te, emb, VN_DTYPE_F32, 2, (int64_t[]){c->batch, c->D});
    if (!st)
        st = vn_tensor_init(&tt, tok, VN_DTYPE_F32, 3, (int64_t[]){c->batch, c->L, c->D});
    if (!st)
        st = vn_encoder_encode(c->enc, &tc, &te);
    if (!st)
        st = vn_encoder_encode_tokens(c->enc, &tc, &tt);
    return st;
}

static void *caller_main(void *arg)
{
    caller *c = arg;
    size_t ne = (size_t)(c->batch * c->D), nt = (size_t)(c->batch * c->L * c->D);
    float *emb = malloc(ne * sizeof(float)), *tok = malloc(nt * sizeof(float));
    pthread_barrier_wait(c->start);
    if (!emb || !tok) {
        c->st = VN_ERR_OUT_OF_MEMORY;
        snprintf(c->msg, sizeof c->msg, "out of memory for the outputs");
    }
    for (int r = 0; r < ROUNDS && c->st == VN_OK; r++) {
        /* a stale value must not survive as a "match" */
        memset(emb, 0xff, ne * sizeof(float));
        memset(tok, 0xff, nt * sizeof(float));
        c->st = encode_into(c, emb, tok);
        if (c->st != VN_OK)
            snprintf(c->msg, sizeof c->msg, "round %d: %s", r, vn_last_error());
        else if (memcmp(emb, c->ref_emb, ne * sizeof(float)) || memcmp(tok, c->ref_tok, nt * sizeof(float)))
            c->mismatches++;
    }
    free(emb);
    free(tok);
    return NULL;
}

/* Callers [lo, hi) on enc, over the clips starting at clip first_clip: caller i takes
 * 1 + i % MAX_BATCH clips. Their references are computed here, one call at a time. */
static int64_t setup_callers(caller *cs, int lo, int hi, const vn_encoder *enc, const float *clips,
                             int64_t first_clip, pthread_barrier_t *start)
{
    int64_t L, D, next = first_clip;
    VN_ASSERT_OK(vn_encoder_output_shape(enc, &L, &D));
    for (int i = lo; i < hi; i++) {
        caller *c = &cs[i];
        memset(c, 0, sizeof *c);
        c->enc = enc, c->start = start, c->L = L, c->D = D;
        c->batch = 1 + i % MAX_BATCH;
        c->first = next;
        c->clips = clips + next * clip_floats();
        next += c->batch;
        c->ref_emb = malloc((size_t)(c->batch * D) * sizeof(float));
        c->ref_tok = malloc((size_t)(c->batch * L * D) * sizeof(float));
        ck_assert(c->ref_emb && c->ref_tok);
        VN_ASSERT_OK(encode_into(c, c->ref_emb, c->ref_tok));
    }
    return next;
}

static void run_and_check(caller *cs, int n, pthread_barrier_t *start, const char *what)
{
    pthread_t th[N_CALLERS];
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, caller_main, &cs[i]), 0);
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
    for (int i = 0; i < n; i++) {
        caller *c = &cs[i];
        ck_assert_msg(c->st == VN_OK, "%s: caller %d failed with %s: %s", what, i, vn_status_str(c->st), c->msg);
        ck_assert_msg(c->mismatches == 0,
                      "%s: caller %d (clips %lld..%lld): %d of %d rounds differ from the single-thread result", what,
                      i, (long long)c->first, (long long)(c->first + c->batch - 1), c->mismatches, ROUNDS);
        free(c->ref_emb);
        free(c->ref_tok);
    }
}

/* The references differ between callers (different clips give different embeddings), so
 * a result swapped between threads would be caught. */
static void assert_refs_distinct(const caller *cs, int n)
{
    for (int i = 1; i < n; i++)
        ck_assert_msg(memcmp(cs[i].ref_emb, cs[0].ref_emb, (size_t)cs[0].D * sizeof(float)) != 0,
                      "callers 0 and %d have the same first embedding: the clips do not differ", i);
}

static vn_encoder_config model_config(vn_encoder_family family, vn_attention_kind att, uint64_t seed)
{
    vn_encoder_config c = vn_test_small_config(family, seed);
    c.attention = att;
    c.depth = 2;
    return c;
}

static void shared_model(vn_encoder_family family, vn_attention_kind att, int ctx_threads)
{
    vn_context *ctx = vn_test_cpu_context(ctx_threads);
    vn_encoder_config cfg = model_config(family, att, 3);
    vn_encoder *enc = NULL;
    VN_ASSERT_OK(vn_encoder_create(&enc, ctx, &cfg));
    float *clips = world_clips(N_CALLERS * MAX_BATCH);
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, N_CALLERS);
    caller cs[N_CALLERS];
    setup_callers(cs, 0, N_CALLERS, enc, clips, 0, &start);
    assert_refs_distinct(cs, N_CALLERS);
    char what[96];
    fmt_into(what, sizeof what, "%s %s, context of %d threads", vn_encoder_family_name(family),
             att == VN_ATTENTION_DIVIDED ? "divided" : "joint", ctx_threads);
    run_and_check(cs, N_CALLERS, &start, what);
    pthread_barrier_destroy(&start);
    free(clips);
    vn_encoder_destroy(enc);
    vn_context_destroy(ctx);
}

static void two_models_one_context(int ctx_threads)
{
    vn_context *ctx = vn_test_cpu_context(ctx_threads);
    vn_encoder_config ca = model_config(VN_ENCODER_VIDEO, VN_ATTENTION_JOINT, 11);
    vn_encoder_config cb = model_config(VN_ENCODER_FRAMES_TEMPORAL, VN_ATTENTION_JOINT, 12);
    vn_encoder *a = NULL, *b = NULL;
    VN_ASSERT_OK(vn_encoder_create(&a, ctx, &ca));
    VN_ASSERT_OK(vn_encoder_create(&b, ctx, &cb));
    float *clips = world_clips(N_CALLERS * MAX_BATCH);
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, N_CALLERS);
    caller cs[N_CALLERS];
    int64_t next = setup_callers(cs, 0, N_CALLERS / 2, a, clips, 0, &start);
    setup_callers(cs, N_CALLERS / 2, N_CALLERS, b, clips, next, &start);
    char what[64];
    fmt_into(what, sizeof what, "two models, context of %d threads", ctx_threads);
    run_and_check(cs, N_CALLERS, &start, what);
    pthread_barrier_destroy(&start);
    free(clips);
    vn_encoder_destroy(a);
    vn_encoder_destroy(b);
    vn_context_destroy(ctx);
}

/* ---- one index searched by 8 threads ---------------------------------------------- */

enum { IX_ROWS = 3000, IX_DIM = 48, IX_QUERIES = 16, IX_K = 7 };

typedef struct searcher {
    const vn_index *ix;
    pthread_barrier_t *start;
    const float *queries;       /* IX_QUERIES x IX_DIM of the thread's own */
    int64_t ref_ids[IX_QUERIES * IX_K];
    float ref_scores[IX_QUERIES * IX_K];
    vn_status st;
    char msg[256];
    int mismatches;
} searcher;

static vn_status search_into(const searcher *s, int64_t *ids, float *scores)
{
    vn_tensor tq;
    vn_status st = vn_tensor_init(&tq, (void *)s->queries, VN_DTYPE_F32, 2, (int64_t[]){IX_QUERIES, IX_DIM});
    return st ? st : vn_index_search(s->ix, &tq, IX_K, ids, scores);
}

static void *searcher_main(void *arg)
{
    searcher *s = arg;
    int64_t ids[IX_QUERIES * IX_K];
    float scores[IX_QUERIES * IX_K];
    pthread_barrier_wait(s->start);
    for (int r = 0; r < ROUNDS && s->st == VN_OK; r++) {
        memset(ids, 0xff, sizeof ids);
        memset(scores, 0xff, sizeof scores);
        s->st = search_into(s, ids, scores);
        if (s->st != VN_OK)
            snprintf(s->msg, sizeof s->msg, "round %d: %s", r, vn_last_error());
        else if (memcmp(ids, s->ref_ids, sizeof ids) || memcmp(scores, s->ref_scores, sizeof scores))
            s->mismatches++;
    }
    return NULL;
}

static void index_shared(int ctx_threads)
{
    vn_context *ctx = vn_test_cpu_context(ctx_threads);
    vn_index *ix = NULL;
    VN_ASSERT_OK(vn_index_create(&ix, ctx, IX_DIM, VN_INDEX_COSINE));
    /* rows and queries from a fixed LCG: the test needs distinct vectors, not a distribution */
    size_t nv = (size_t)IX_ROWS * IX_DIM, nq = (size_t)N_CALLERS * IX_QUERIES * IX_DIM;
    float *v = malloc((nv + nq) * sizeof(float));
    ck_assert_ptr_nonnull(v);
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < nv + nq; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        v[i] = (float)((double)(x >> 40) / (double)(1u << 24)) - 0.5f;
    }
    vn_tensor tv;
    VN_ASSERT_OK(vn_tensor_init(&tv, v, VN_DTYPE_F32, 2, (int64_t[]){IX_ROWS, IX_DIM}));
    VN_ASSERT_OK(vn_index_add(ix, &tv, NULL));
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, N_CALLERS);
    searcher ss[N_CALLERS];
    for (int i = 0; i < N_CALLERS; i++) {
        memset(&ss[i], 0, sizeof ss[i]);
        ss[i].ix = ix, ss[i].start = &start, ss[i].queries = v + nv + (size_t)i * IX_QUERIES * IX_DIM;
        VN_ASSERT_OK(search_into(&ss[i], ss[i].ref_ids, ss[i].ref_scores));
    }
    ck_assert_msg(memcmp(ss[0].ref_ids, ss[1].ref_ids, sizeof ss[0].ref_ids) != 0,
                  "two threads' queries found the same rows: the queries do not differ");
    pthread_t th[N_CALLERS];
    for (int i = 0; i < N_CALLERS; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, searcher_main, &ss[i]), 0);
    for (int i = 0; i < N_CALLERS; i++)
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
    for (int i = 0; i < N_CALLERS; i++) {
        ck_assert_msg(ss[i].st == VN_OK, "context of %d threads: searcher %d failed with %s: %s", ctx_threads, i, vn_status_str(ss[i].st),
                      ss[i].msg);
        ck_assert_msg(ss[i].mismatches == 0,
                      "context of %d threads: searcher %d: %d of %d rounds differ from the single-thread result",
                      ctx_threads, i, ss[i].mismatches, ROUNDS);
    }
    pthread_barrier_destroy(&start);
    free(v);
    vn_index_destroy(ix);
    vn_context_destroy(ctx);
}

/* Contexts of 2 threads only outside TSan (see the file comment). */
#ifdef VN_UNDER_TSAN
enum { MAX_CTX_THREADS = 1 };
#else
enum { MAX_CTX_THREADS = 2 };
#endif

static const struct {
    vn_encoder_family family;
    vn_attention_kind att;
    int ctx_threads;
} models[] = {
    {VN_ENCODER_VIDEO, VN_ATTENTION_JOINT, 1},  {VN_ENCODER_VIDEO, VN_ATTENTION_DIVIDED, 1},
    {VN_ENCODER_FRAMES_TEMPORAL, VN_ATTENTION_JOINT, 1}, {VN_ENCODER_VIDEO, VN_ATTENTION_JOINT, 2},
    {VN_ENCODER_FRAMES, VN_ATTENTION_JOINT, 2},
};

START_TEST(one_model_8_threads)
{
    shared_model(models[_i].family, models[_i].att, models[_i].ctx_threads);
}
END_TEST

/* _i: the context's threads */
START_TEST(two_models_one_context_8_threads) { two_models_one_context(_i); }
END_TEST
START_TEST(one_index_8_threads) { index_shared(_i); }
END_TEST

int main(void)
{
    int n_models = 0;
    while (n_models < (int)(sizeof models / sizeof models[0]) && models[n_models].ctx_threads <= MAX_CTX_THREADS)
        n_models++;
    if (MAX_CTX_THREADS < 2)
        printf("thread_encode: ThreadSanitizer build: contexts of 2 threads left out (libgomp's teams are "
               "invisible to TSan); the plain build runs them\n");
    Suite *s = suite_create("thread_encode");
    TCase *tc = tcase_create("shared");
    tcase_add_loop_test(tc, one_model_8_threads, 0, n_models);
    tcase_add_loop_test(tc, two_models_one_context_8_threads, 1, MAX_CTX_THREADS + 1);
    tcase_add_loop_test(tc, one_index_8_threads, 1, MAX_CTX_THREADS + 1);
    suite_add_tcase(s, tc);
    return vn_test_run(s);
}
