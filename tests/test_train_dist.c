/*
 * Data parallelism in the library (vn_trainer_set_dist), without MPI: two replicas in two
 * threads of this process, summing through shared memory, against one trainer with the
 * global batch. Checks the sharding, the keyed per-clip draws (aot, order and jepa's
 * masks), the gradient and metric averaging, a failing all-reduce, the world-size check
 * of a resume, and file data split by manifest rows.
 */
#include <math.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "io/loader_internal.h"
#include "loader_fixtures.h"
#include "train/train_internal.h"
#include "vn_test.h"

#define WORLD 2
#define STEPS 3

/* An all-reduce over threads: each rank posts its buffer, all wait, each sums the posted
 * buffers in rank order (the same bits everywhere), all wait again before reuse. */
typedef struct shared_sum {
    pthread_barrier_t barrier;
    float *posted[WORLD];
    int fail_at; /* the call on which rank 1 reports a failure, or -1 */
    int calls;
    int broken;  /* after the failure every call fails at once, as a dead link would */
} shared_sum;

typedef struct replica {
    shared_sum *sum;
    int rank;
    vn_trainer *tr;
    vn_status status;
    float *scratch;
} replica;

static vn_status thread_allreduce(void *user, float *buf, int64_t n, char *msg, size_t cap)
{
    replica *r = user;
    shared_sum *s = r->sum;
    if (s->broken) {
        snprintf(msg, cap, "rank %d: the link is down", r->rank);
        return VN_ERR_IO;
    }
    /* the failing call still meets the barriers, so that rank 0 is not left waiting */
    int fail = r->rank == 1 && s->fail_at >= 0 && s->calls == s->fail_at;
    s->posted[r->rank] = buf;
    pthread_barrier_wait(&s->barrier);
    for (int64_t i = 0; i < n; i++) {
        float acc = 0.0f;
        for (int k = 0; k < WORLD; k++)
            acc += s->posted[k][i];
        r->scratch[i] = acc;
    }
    pthread_barrier_wait(&s->barrier);
    memcpy(buf, r->scratch, (size_t)n * sizeof *buf);
    if (r->rank == 0)
        s->calls++;
    if (fail)
        s->broken = 1;
    pthread_barrier_wait(&s->barrier);
    if (fail) {
        snprintf(msg, cap, "rank 1: the link to rank 0 is down");
        return VN_ERR_IO;
    }
    return VN_OK;
}

/* Training data of the replicas: world data unless a test names a manifest. */
static const char *data_spec = "world:aot,gravity";

static vn_trainer *make(vn_context *ctx, const char *objectives, int batch)
{
    vn_train_options o = vn_test_tiny_train_options(objectives, data_spec, batch);
    o.num_classes = 2; /* a manifest's labels are 0 and 1 */
    vn_encoder_config c = vn_test_tiny_config(VN_ENCODER_VIDEO, 21);
    vn_trainer *tr = NULL;
    VN_ASSERT_OK(vn_trainer_create(&tr, ctx, &c, &o));
    return tr;
}

static void *run_replica(void *arg)
{
    replica *r = arg;
    for (int s = 0; s < STEPS && r->status == VN_OK; s++)
        r->status = vn_trainer_step(r->tr, NULL);
    return NULL;
}

/* Two replicas of batch B/2 run STEPS steps in parallel threads; returns rank 0's trainer
 * (rank 1's is checked against it and destroyed). */
static vn_trainer *run_pair(vn_context *ctx, const char *objectives, int half, int fail_at, vn_status *status)
{
    shared_sum sum = {.fail_at = fail_at};
    pthread_barrier_init(&sum.barrier, NULL, WORLD);
    replica reps[WORLD];
    pthread_t th[WORLD];
    vn_context *own[WORLD];
    for (int k = 0; k < WORLD; k++) {
        own[k] = ctx;
        reps[k] = (replica){&sum, k, make(own[k], objectives, half), VN_OK, NULL};
        reps[k].scratch = malloc((size_t)(4 << 20) * sizeof(float));
        vn_train_dist d = VN_TRAIN_DIST_INIT;
        d.rank = k;
        d.world_size = WORLD;
        d.allreduce_sum = thread_allreduce;
        d.user = &reps[k];
        VN_ASSERT_OK(vn_trainer_set_dist(reps[k].tr, &d));
    }
    for (int k = 0; k < WORLD; k++)
        pthread_create(&th[k], NULL, run_replica, &reps[k]);
    for (int k = 0; k < WORLD; k++)
        pthread_join(th[k], NULL);
    *status = reps[1].status;
    if (reps[0].status == VN_OK && reps[1].status == VN_OK)
        ck_assert_msg(!memcmp(reps[0].tr->groups[0].param, reps[1].tr->groups[0].param,
                              (size_t)reps[0].tr->n_params * sizeof(float)),
                      "the replicas' weights differ");
    vn_trainer_destroy(reps[1].tr);
    for (int k = 0; k < WORLD; k++)
        free(reps[k].scratch);
    pthread_barrier_destroy(&sum.barrier);
    return reps[0].tr;
}

static double rel_l2(const float *a, const float *b, int64_t n)
{
    double num = 0, den = 0;
    for (int64_t i = 0; i < n; i++) {
        num += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        den += (double)b[i] * b[i];
    }
    return sqrt(num / den);
}

static void equivalence(const char *objectives)
{
    vn_context *ctx = vn_test_cpu_context(1);
    vn_trainer *one = make(ctx, objectives, 2 * 4);
    for (int s = 0; s < STEPS; s++)
        VN_ASSERT_OK(vn_trainer_step(one, NULL));
    vn_status st;
    vn_trainer *two = run_pair(ctx, objectives, 4, -1, &st);
    VN_ASSERT_OK(st);
    double d = rel_l2(two->groups[0].param, one->groups[0].param, one->n_params);
    ck_assert_msg(d <= 1e-6, "%s: 2 replicas vs one trainer with the global batch: relative L2 %.3g", objectives, d);
    ck_assert_int_eq(two->clips_seen, one->clips_seen);
    vn_trainer_destroy(one);
    vn_trainer_destroy(two);
    vn_context_destroy(ctx);
}

START_TEST(test_same_as_global_batch)
{
    equivalence("aot=1,order=0.5");
    equivalence("jepa");
    equivalence("label");
}
END_TEST

/* A failed all-reduce stops the step with the transport's message. */
START_TEST(test_failing_allreduce)
{
    vn_context *ctx = vn_test_cpu_context(1);
    vn_status st;
    vn_trainer *tr = run_pair(ctx, "aot", 4, 0, &st);
    ck_assert_int_eq(st, VN_ERR_IO);
    vn_trainer_destroy(tr);
    vn_context_destroy(ctx);
}
END_TEST

/* A checkpoint of 2 replicas is refused by a single trainer, naming both counts. */
START_TEST(test_resume_world_size)
{
    vn_context *ctx = vn_test_cpu_context(1);
    vn_status st;
    vn_trainer *two = run_pair(ctx, "aot", 4, -1, &st);
    VN_ASSERT_OK(st);
    char dir[512];
    snprintf(dir, sizeof dir, "%s/train_dist_%d", vn_test_tmpdir(), (int)getpid());
    VN_ASSERT_OK(vn_trainer_save(two, dir));
    vn_trainer *one = make(ctx, "aot", 4);
    VN_ASSERT_FAILS(vn_trainer_resume(one, dir), VN_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(vn_last_error(), "2 replicas"));
    ck_assert_ptr_nonnull(strstr(vn_last_error(), "this one has 1"));
    vn_trainer_destroy(one);
    vn_trainer_destroy(two);
    vn_context_destroy(ctx);
}
END_TEST

/* Every n-th item, an equal count per shard. */
START_TEST(test_items_shard)
{
    vn_loader_items items = {0};
    items.n = items.cap = 7;
    items.v = calloc(7, sizeof *items.v);
    for (int i = 0; i < 7; i++) {
        items.v[i].path = malloc(8);
        snprintf(items.v[i].path, 8, "v%d", i);
    }
    vn_loader_items_shard(&items, 1, 2);
    ck_assert_int_eq(items.n, 3);
    ck_assert_str_eq(items.v[0].path, "v1");
    ck_assert_str_eq(items.v[1].path, "v3");
    ck_assert_str_eq(items.v[2].path, "v5");
    vn_loader_items_free(&items);
}
END_TEST

/* File data: each replica reads half the manifest's rows and the replicas stay equal. */
START_TEST(test_file_data_sharded)
{
    if (!lf_have_ffmpeg()) {
        printf("SKIP file data: no ffmpeg CLI here to write the fixture videos\n");
        return;
    }
    char dir[512], path[700], manifest[700];
    snprintf(dir, sizeof dir, "%s/train_dist_videos_%d", vn_test_tmpdir(), (int)getpid());
    ck_assert_int_eq(lf_mkdir(dir), 0);
    snprintf(manifest, sizeof manifest, "%s/train.csv", dir);
    FILE *m = fopen(manifest, "w");
    ck_assert_ptr_nonnull(m);
    fprintf(m, "path,label\n");
    for (int i = 0; i < 9; i++) {
        snprintf(path, sizeof path, "%s/v%d.mp4", dir, i);
        ck_assert_int_eq(lf_make_textured(path, 48, 40, 12, 25.0, "mpeg4", 40 * i), 0);
        fprintf(m, "%s,%d\n", path, i % 2);
    }
    fclose(m);
    data_spec = manifest;
    vn_context *ctx = vn_test_cpu_context(1);
    vn_status st;
    vn_trainer *tr = run_pair(ctx, "aot,label", 2, -1, &st);
    VN_ASSERT_OK(st);
    ck_assert_int_eq(tr->data.n_items, 4); /* 9 rows: 4 each, one left out */
    vn_trainer_destroy(tr);
    /* a shard of 4 rows cannot fill a batch of 5: refused, and the trainer, whose data may
     * be split already, refuses to train rather than run on a fraction of it */
    vn_trainer *big = make(ctx, "aot,label", 5);
    vn_train_dist d = VN_TRAIN_DIST_INIT;
    d.world_size = 2;
    d.allreduce_sum = thread_allreduce;
    VN_ASSERT_FAILS(vn_trainer_set_dist(big, &d), VN_ERR_INVALID_ARG);
    VN_ASSERT_FAILS(vn_trainer_step(big, NULL), VN_ERR_STATE);
    vn_trainer_destroy(big);
    vn_context_destroy(ctx);
    lf_remove_tree(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("train_dist");
    TCase *tc = tcase_create("replicas");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_same_as_global_batch);
    tcase_add_test(tc, test_failing_allreduce);
    tcase_add_test(tc, test_resume_world_size);
    tcase_add_test(tc, test_items_shard);
    tcase_add_test(tc, test_file_data_sharded);
    suite_add_tcase(s, tc);
    return vn_test_run(s);
}
