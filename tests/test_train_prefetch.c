/*
 * The background render of world data (src/train/data.c, vn_train_data_prefetch): the
 * prefetched batches are the synchronous ones bit for bit, through steps, a save and a
 * resume, a data-parallel shard, seeks, shard and batch-size changes; a failing
 * background render reports what the synchronous one does; a trainer destroyed with a
 * render in flight stops it cleanly; VN_TRAIN_PREFETCH turns it off, on or leaves the
 * trainer to decide.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/host.h"
#include "train/train_internal.h"
#include "vn_test.h"

static vn_trainer *make(vn_context *ctx, const char *objectives, const char *data, int batch, int prefetch)
{
    vn_encoder_config c = vn_test_tiny_config(VN_ENCODER_VIDEO, 11);
    vn_train_options o = vn_test_tiny_train_options(objectives, data, batch);
    vn_trainer *tr = NULL;
    VN_ASSERT_OK(vn_trainer_create(&tr, ctx, &c, &o));
    VN_ASSERT_OK(vn_train_data_prefetch(&tr->data, prefetch, 0));
    ck_assert_int_eq(tr->data.pf != NULL, prefetch);
    return tr;
}

static int64_t hits(const vn_trainer *tr)
{
    vn_train_data_stats s;
    vn_train_data_get_stats(&tr->data, &s);
    return s.hits;
}

/* The batch each trainer trained on (clips and labels), and the data position. */
static void same_batch(const vn_trainer *a, const vn_trainer *b, const char *what, int step)
{
    size_t n = (size_t)(a->B * a->C * a->Tsrc * a->H * a->H);
    ck_assert_msg(!memcmp(a->clips, b->clips, n * sizeof(float)), "%s: step %d: the clips differ", what, step);
    ck_assert_msg(!memcmp(a->labels, b->labels, (size_t)a->B * sizeof(int32_t)), "%s: step %d: the labels differ",
                  what, step);
    ck_assert_int_eq(a->data.pos, b->data.pos);
    ck_assert_int_eq(a->clip0, b->clip0);
}

static void same_weights(const vn_trainer *a, const vn_trainer *b, const char *what)
{
    ck_assert_msg(!memcmp(a->groups[0].param, b->groups[0].param, (size_t)a->n_params * sizeof(float)),
                  "%s: the weights differ", what);
}

static void lockstep(vn_trainer *p, vn_trainer *s, int steps, const char *what)
{
    for (int i = 0; i < steps; i++) {
        VN_ASSERT_OK(vn_trainer_step(p, NULL));
        VN_ASSERT_OK(vn_trainer_step(s, NULL));
        same_batch(p, s, what, i);
    }
    same_weights(p, s, what);
}

/* Prefetched and synchronous trainers see the same batches and end with the same weights,
 * with and without labels, with a doubled clip (future) and two tasks taking turns. */
START_TEST(test_same_batches)
{
    vn_context *ctx = vn_test_cpu_context(2);
    const char *specs[] = {"aot=1,order=0.5,future=0.5,jepa=1", "label"};
    for (int k = 0; k < 2; k++) {
        vn_trainer *p = make(ctx, specs[k], "world:aot,gravity", 4, 1);
        vn_trainer *s = make(ctx, specs[k], "world:aot,gravity", 4, 0);
        lockstep(p, s, 5, specs[k]);
        /* the first batch is rendered in the caller (nothing was in flight), the rest
         * came from the background */
        ck_assert_int_eq(hits(p), 4);
        ck_assert_int_eq(hits(s), 0);
        vn_trainer_destroy(p);
        vn_trainer_destroy(s);
    }
    vn_context_destroy(ctx);
}
END_TEST

/* A resume moves the data position under a render in flight: the batch after it is the
 * resumed position's, as a straight run's. */
START_TEST(test_resume)
{
    vn_context *ctx = vn_test_cpu_context(2);
    const char *spec = "aot=1,order=0.5,jepa=1", *data = "world:aot,gravity";
    char dir[512];
    snprintf(dir, sizeof dir, "%s/train_prefetch_%d", vn_test_tmpdir(), (int)getpid());
    vn_trainer *straight = make(ctx, spec, data, 4, 0);
    vn_trainer *p = make(ctx, spec, data, 4, 1);
    lockstep(p, straight, 3, "before the save");
    VN_ASSERT_OK(vn_trainer_save(p, dir));
    /* two steps past the checkpoint, then back to it with the step-6 batch in flight */
    VN_ASSERT_OK(vn_trainer_run(p, 2, NULL));
    VN_ASSERT_OK(vn_trainer_resume(p, dir));
    ck_assert_int_eq(p->data.pos, straight->data.pos);
    int64_t h = hits(p);
    lockstep(p, straight, 3, "after the resume");
    ck_assert_int_eq(hits(p), h + 2); /* the first batch after the seek was rendered in the caller */
    /* a resume to where the trainer is keeps the render in flight */
    VN_ASSERT_OK(vn_trainer_save(p, dir));
    VN_ASSERT_OK(vn_trainer_resume(p, dir));
    h = hits(p);
    lockstep(p, straight, 1, "after a resume in place");
    ck_assert_int_eq(hits(p), h + 1);
    /* a fresh prefetching trainer resumed from a checkpoint */
    VN_ASSERT_OK(vn_trainer_save(p, dir));
    vn_trainer *q = make(ctx, spec, data, 4, 1);
    VN_ASSERT_OK(vn_trainer_resume(q, dir));
    lockstep(q, straight, 3, "a fresh trainer resumed");
    vn_trainer_destroy(q);
    vn_trainer_destroy(p);
    vn_trainer_destroy(straight);
    vn_context_destroy(ctx);
}
END_TEST

/* The all-reduce of a replica whose peers have its own gradients: nothing to add. */
static vn_status self_allreduce(void *user, float *buf, int64_t n, char *msg, size_t cap)
{
    (void)user, (void)buf, (void)n, (void)msg, (void)cap;
    return VN_OK;
}

/* Rank 1 of 3 takes its share of every global batch, prefetched or not. */
START_TEST(test_sharded)
{
    vn_context *ctx = vn_test_cpu_context(2);
    vn_trainer *tr[2];
    for (int k = 0; k < 2; k++) {
        tr[k] = make(ctx, "aot=1,order=0.5", "world:aot,gravity,collision", 4, k == 0);
        vn_train_dist d = VN_TRAIN_DIST_INIT;
        d.rank = 1;
        d.world_size = 3;
        d.allreduce_sum = self_allreduce;
        VN_ASSERT_OK(vn_trainer_set_dist(tr[k], &d));
    }
    lockstep(tr[0], tr[1], 4, "rank 1 of 3");
    ck_assert_int_eq(tr[0]->data.pos, 4 * 3 * 4);
    ck_assert_int_eq(hits(tr[0]), 3);
    vn_trainer_destroy(tr[0]);
    vn_trainer_destroy(tr[1]);
    vn_context_destroy(ctx);
}
END_TEST

/* ---- the data source alone: every way the next batch can change under a render ------- */

typedef struct pair {
    vn_train_data a, b; /* prefetched, synchronous */
    float *ca, *cb;
    int32_t la[16], lb[16];
    int64_t per;
} pair;

static void pair_open(pair *p, const char *spec, int natural_only)
{
    vn_encoder_config c = vn_test_tiny_config(VN_ENCODER_VIDEO, 11);
    VN_ASSERT_OK(vn_train_data_open(&p->a, spec, &c, c.frames, natural_only, 9, 4, 0, 1, 2));
    VN_ASSERT_OK(vn_train_data_open(&p->b, spec, &c, c.frames, natural_only, 9, 4, 0, 1, 2));
    VN_ASSERT_OK(vn_train_data_prefetch(&p->a, 1, 0));
    p->per = (int64_t)c.channels * c.frames * c.size * c.size;
    p->ca = malloc((size_t)(16 * p->per) * sizeof(float));
    p->cb = malloc((size_t)(16 * p->per) * sizeof(float));
}

static void pair_close(pair *p)
{
    vn_train_data_close(&p->a);
    vn_train_data_close(&p->b);
    free(p->ca);
    free(p->cb);
}

static void pair_next(pair *p, int64_t B, const char *what)
{
    memset(p->ca, 0xff, (size_t)(B * p->per) * sizeof(float));
    VN_ASSERT_OK(vn_train_data_next(&p->a, p->ca, p->la, B));
    VN_ASSERT_OK(vn_train_data_next(&p->b, p->cb, p->lb, B));
    ck_assert_msg(!memcmp(p->ca, p->cb, (size_t)(B * p->per) * sizeof(float)), "%s: the clips differ", what);
    ck_assert_msg(!memcmp(p->la, p->lb, (size_t)B * sizeof(int32_t)), "%s: the labels differ", what);
    ck_assert_int_eq(p->a.pos, p->b.pos);
}

/* The trainer's way: a prefetched batch trades buffers (B must stay the same). */
static void pair_next_swap(pair *p, int64_t B, const char *what)
{
    VN_ASSERT_OK(vn_train_data_next_swap(&p->a, &p->ca, p->la, B));
    VN_ASSERT_OK(vn_train_data_next(&p->b, p->cb, p->lb, B));
    ck_assert_msg(!memcmp(p->ca, p->cb, (size_t)(B * p->per) * sizeof(float)), "%s: the clips differ", what);
    ck_assert_msg(!memcmp(p->la, p->lb, (size_t)B * sizeof(int32_t)), "%s: the labels differ", what);
    ck_assert_int_eq(p->a.pos, p->b.pos);
}

static int64_t data_hits(const vn_train_data *d)
{
    vn_train_data_stats s;
    vn_train_data_get_stats(d, &s);
    return s.hits;
}

START_TEST(test_data_changes)
{
    pair p;
    pair_open(&p, "world:aot,speed,intphys", 0);
    pair_next(&p, 4, "first");
    pair_next(&p, 4, "second");
    ck_assert_int_eq(data_hits(&p.a), 1);
    VN_ASSERT_OK(vn_train_data_seek(&p.a, 0, 0, 0));
    VN_ASSERT_OK(vn_train_data_seek(&p.b, 0, 0, 0));
    pair_next(&p, 4, "after a seek back");
    VN_ASSERT_OK(vn_train_data_seek(&p.a, p.a.pos, 0, 0)); /* where it is: the render stays */
    pair_next(&p, 4, "after a seek in place");
    ck_assert_int_eq(data_hits(&p.a), 2);
    VN_ASSERT_OK(vn_train_data_seek(&p.a, 1000, 0, 0));
    VN_ASSERT_OK(vn_train_data_seek(&p.b, 1000, 0, 0));
    pair_next(&p, 4, "after a seek ahead");
    pair_next(&p, 4, "after a seek ahead, prefetched");
    VN_ASSERT_OK(vn_train_data_shard(&p.a, 2, 3, 4));
    VN_ASSERT_OK(vn_train_data_shard(&p.b, 2, 3, 4));
    pair_next(&p, 4, "a new shard");
    pair_next(&p, 4, "a new shard, prefetched");
    pair_next(&p, 7, "a larger batch");
    pair_next(&p, 7, "a larger batch, prefetched");
    pair_next(&p, 3, "a smaller batch");
    pair_next(&p, 3, "a smaller batch, prefetched");
    ck_assert_int_eq(data_hits(&p.a), 6);
    /* back to the synchronous path and on again */
    VN_ASSERT_OK(vn_train_data_prefetch(&p.a, 0, 0));
    ck_assert_ptr_null(p.a.pf);
    pair_next(&p, 3, "prefetch off");
    VN_ASSERT_OK(vn_train_data_prefetch(&p.a, 1, 10)); /* at a lower priority */
    pair_next(&p, 3, "prefetch on again");
    pair_next(&p, 3, "prefetch on again, prefetched");
    ck_assert_int_eq(data_hits(&p.a), 1);
    /* handed over by trading buffers: the caller's comes back as another, three times */
    float *first = p.ca;
    for (int i = 0; i < 3; i++)
        pair_next_swap(&p, 3, "swapped");
    ck_assert_ptr_ne(p.ca, first);
    ck_assert_int_eq(data_hits(&p.a), 4);
    pair_close(&p);

    /* the label-1 members only */
    pair_open(&p, "world:gravity,collision", 1);
    for (int i = 0; i < 4; i++)
        pair_next(&p, 5, "natural only");
    ck_assert_int_eq(data_hits(&p.a), 3);
    pair_close(&p);
}
END_TEST

/* A background render that fails stops the next step with the synchronous render's
 * message and leaves the position where it was; the step after it tries again. */
START_TEST(test_background_error)
{
    vn_context *ctx = vn_test_cpu_context(2);
    vn_trainer *tr[2];
    char msg[2][1024];
    for (int k = 0; k < 2; k++) {
        tr[k] = make(ctx, "aot", "world:aot,gravity", 4, k == 0);
        /* the second clip of the third batch */
        vn_train_data_fail_clip(&tr[k]->data, 2 * 4 + 1);
        VN_ASSERT_OK(vn_trainer_step(tr[k], NULL));
        VN_ASSERT_OK(vn_trainer_step(tr[k], NULL));
        VN_ASSERT_FAILS(vn_trainer_step(tr[k], NULL), VN_ERR_INTERNAL);
        snprintf(msg[k], sizeof msg[k], "%s", vn_last_error());
        ck_assert_int_eq(tr[k]->data.pos, 8);
    }
    ck_assert_str_eq(msg[0], msg[1]);
    ck_assert_ptr_nonnull(strstr(msg[0], "vn_trainer_step: world clip gravity #"));
    ck_assert_ptr_nonnull(strstr(msg[0], "forced failure"));
    ck_assert_int_eq(hits(tr[0]), 2); /* the failure came from the background */
    /* the same batch again, now in the caller: the same message */
    VN_ASSERT_FAILS(vn_trainer_step(tr[0], NULL), VN_ERR_INTERNAL);
    ck_assert_str_eq(vn_last_error(), msg[1]);
    ck_assert_int_eq(hits(tr[0]), 2);
    for (int k = 0; k < 2; k++)
        vn_train_data_fail_clip(&tr[k]->data, -1);
    lockstep(tr[0], tr[1], 3, "after the failure");
    for (int k = 0; k < 2; k++)
        vn_trainer_destroy(tr[k]);
    vn_context_destroy(ctx);
}
END_TEST

/* Destroyed with a render queued or running, idle, or never started: the thread is
 * stopped and joined (valgrind and helgrind see no leak or race; see docs/TRAINING.md). */
START_TEST(test_destroy_in_flight)
{
    vn_context *ctx = vn_test_cpu_context(2);
    for (int k = 0; k < 4; k++) {
        vn_trainer *tr = make(ctx, "aot", "world:aot", 8, 1);
        for (int s = 0; s < k; s++)
            VN_ASSERT_OK(vn_trainer_step(tr, NULL));
        vn_trainer_destroy(tr);
    }
    /* a render long enough to be caught in the middle: 16 clips of 64 x 64 */
    vn_encoder_config c = vn_test_tiny_config(VN_ENCODER_VIDEO, 11);
    c.size = 64;
    c.frames = 16;
    vn_train_data d;
    VN_ASSERT_OK(vn_train_data_open(&d, "world:aot", &c, 32, 1, 3, 16, 0, 1, 1));
    VN_ASSERT_OK(vn_train_data_prefetch(&d, 1, 0));
    float *clips = malloc((size_t)(16 * 3 * 32 * 64 * 64) * sizeof(float));
    int32_t labels[16];
    VN_ASSERT_OK(vn_train_data_next(&d, clips, labels, 16));
    vn_train_data_close(&d);
    free(clips);
    vn_context_destroy(ctx);
}
END_TEST

/* VN_TRAIN_PREFETCH at create: 0 synchronous, 1 prefetched; unset, empty or auto:
 * prefetched where the step leaves a core idle (more cores than compute threads). */
START_TEST(test_env)
{
    int cores = vn_host_cores();
    for (int nt = 1; nt <= 2; nt++) {
        vn_context *ctx = vn_test_cpu_context(nt);
        vn_encoder_config c = vn_test_tiny_config(VN_ENCODER_VIDEO, 11);
        const char *values[] = {"0", "1", "yes", "auto", "", NULL};
        for (int i = 0; i < 6; i++) {
            if (values[i])
                setenv("VN_TRAIN_PREFETCH", values[i], 1);
            else
                unsetenv("VN_TRAIN_PREFETCH");
            vn_train_options o = vn_test_tiny_train_options("aot", "world:aot", 4);
            vn_trainer *tr = NULL;
            VN_ASSERT_OK(vn_trainer_create(&tr, ctx, &c, &o));
            int want = i == 0 ? 0 : i < 3 ? 1 : cores > nt;
            ck_assert_msg((tr->data.pf != NULL) == want, "VN_TRAIN_PREFETCH=%s, %d threads of %d cores: prefetch %d",
                          values[i] ? values[i] : "(unset)", nt, cores, tr->data.pf != NULL);
            ck_assert_ptr_null(tr->eval.pf); /* held-out data stays synchronous */
            VN_ASSERT_OK(vn_trainer_step(tr, NULL));
            vn_trainer_destroy(tr);
        }
        vn_context_destroy(ctx);
    }
    unsetenv("VN_TRAIN_PREFETCH");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("train_prefetch");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_same_batches);
    tcase_add_test(tc, test_resume);
    tcase_add_test(tc, test_sharded);
    tcase_add_test(tc, test_data_changes);
    tcase_add_test(tc, test_background_error);
    tcase_add_test(tc, test_destroy_in_flight);
    tcase_add_test(tc, test_env);
    suite_add_tcase(s, tc);
    return vn_test_run(s);
}
