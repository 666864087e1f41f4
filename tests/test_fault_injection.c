/*
 * The fault_injection suite: a checkpoint save, the .npy writer and an index save failed at
 * every one of their file operations (ENOSPC) in turn; a context's and a trainer's create, a
 * checkpoint save and resume and an encoder's load failed at every allocation (NULL) in
 * turn; all through the wrappers of fault_inject.h. Each failure must be a status and a
 * message naming the problem (and the file), must leak nothing, and must leave the previous
 * files whole and no temp file behind. Also a real ENOSPC on a full tmpfs
 * (test_fault_enospc.c) and on /dev/full.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint_fixtures.h"
#include "fault_enospc.h"
#include "fault_inject.h"
#include "io/npy.h"

/* The trainer every case uses: tiny video encoder, the arrow-of-time objective on world
 * clips, one thread (a save must then be byte-identical each time). */
static vn_trainer *tiny_trainer(vn_context *ctx)
{
    vn_encoder_config c = vn_test_tiny_config(VN_ENCODER_VIDEO, 3);
    vn_train_options o = vn_test_tiny_train_options("aot", "world:aot", 2);
    vn_trainer *tr = NULL;
    VN_ASSERT_OK(vn_trainer_create(&tr, ctx, &c, &o));
    return tr;
}

/* Whether the injected failure was the close of the directory a commit synced: its fd is
 * read-only and already synced, so there is nothing a failed close could lose, and the
 * writers rightly ignore it. */
static int fired_on_dir_close(const char *dir)
{
    char want[700];
    fmt_into(want, sizeof want, "(%s)", dir);
    const char *w = vn_fi_fired_what();
    return !strncmp(w, "close #", 7) && strstr(w, want) && !strcmp(strstr(w, want), want);
}

/* Names in dir other than the two it should hold (the checkpoint files unless named):
 * temp files a save left behind. */
static int stray_files_but(const char *dir, const char *a, const char *b, char *first, size_t cap)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    first[0] = '\0';
    for (struct dirent *e; (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || !strcmp(e->d_name, a) || !strcmp(e->d_name, b))
            continue;
        if (!n++)
            fmt_into(first, cap, "%s", e->d_name);
    }
    closedir(d);
    return n;
}

static int stray_files(const char *dir, char *first, size_t cap)
{
    return stray_files_but(dir, "model.safetensors", "trainer.safetensors", first, cap);
}

typedef struct snapshot {
    unsigned char *b[2];
    size_t n[2];
} snapshot;

static const char *const CKPT_FILES[2] = {"model.safetensors", "trainer.safetensors"};

static void take(snapshot *s, const char *dir)
{
    for (int i = 0; i < 2; i++) {
        char p[800];
        fmt_into(p, sizeof p, "%s/%s", dir, CKPT_FILES[i]);
        s->b[i] = slurp(p, &s->n[i]);
    }
}

static void put_back(const snapshot *s, const char *dir)
{
    for (int i = 0; i < 2; i++) {
        char p[800];
        fmt_into(p, sizeof p, "%s/%s", dir, CKPT_FILES[i]);
        spit(p, s->b[i], s->n[i]);
    }
}

static void drop(snapshot *s)
{
    free(s->b[0]);
    free(s->b[1]);
}

/* Which of old and new file i of dir equals, bit for bit: 0 old, 1 new, -1 neither. */
static int which_version(const char *dir, int i, const snapshot *old, const snapshot *fresh)
{
    char p[800];
    fmt_into(p, sizeof p, "%s/%s", dir, CKPT_FILES[i]);
    size_t n;
    unsigned char *b = slurp(p, &n);
    int v = n == old->n[i] && !memcmp(b, old->b[i], n) ? 0 : n == fresh->n[i] && !memcmp(b, fresh->b[i], n) ? 1 : -1;
    free(b);
    return v;
}

/* A fresh trainer resumes dir, and lands on the step its trainer file holds. */
static void expect_resumes(vn_context *ctx, const char *dir, int64_t want_step)
{
    vn_trainer *tr = tiny_trainer(ctx);
    VN_ASSERT_OK(vn_trainer_resume(tr, dir));
    int64_t step = -1;
    VN_ASSERT_OK(vn_trainer_get_step(tr, &step));
    ck_assert_int_eq(step, want_step);
    vn_trainer_destroy(tr);
}

/* Every file operation of a save, in turn, runs out of space. The checkpoint saved at step 1
 * must survive each (a file that was already renamed into place is the complete step-2
 * one), no temp file may remain, and the message must name the file and the error. */
START_TEST(save_enospc_at_every_file_operation)
{
    char dir[600], ref[600], stray[256];
    fresh_dir(dir, sizeof dir, "fi_enospc");
    fresh_dir(ref, sizeof ref, "fi_enospc_ref");
    vn_context *ctx = cpu_ctx();
    vn_trainer *tr = tiny_trainer(ctx);
    VN_ASSERT_OK(vn_trainer_step(tr, NULL));
    VN_ASSERT_OK(vn_trainer_save(tr, dir));
    VN_ASSERT_OK(vn_trainer_step(tr, NULL));
    VN_ASSERT_OK(vn_trainer_save(tr, ref));
    snapshot old, fresh;
    take(&old, dir);
    take(&fresh, ref);
    ck_assert_msg(old.n[1] != fresh.n[1] || memcmp(old.b[1], fresh.b[1], old.n[1]), "steps 1 and 2 saved alike");

    int points = 0, renamed_in_place = 0, dir_closes = 0;
    for (long nth = 1;; nth++) {
        vn_fi_arm(VN_FI_FILE_OPS, nth, ENOSPC);
        vn_clear_error();
        vn_status st = vn_trainer_save(tr, dir);
        vn_fi_disarm();
        if (!vn_fi_fired()) {
            VN_ASSERT_OK(st);
            break;
        }
        points++;
        if (st == VN_OK && fired_on_dir_close(dir)) {
            dir_closes++;
            put_back(&old, dir);
            continue;
        }
        const char *msg = vn_last_error();
        ck_assert_msg(st == VN_ERR_IO, "%s: %s (%s)", vn_fi_fired_what(), vn_status_str(st), msg);
        ck_assert_msg(strstr(msg, "No space left on device") && strstr(msg, dir) && strstr(msg, ".safetensors"),
                      "%s: the message names no file or error: %s", vn_fi_fired_what(), msg);
        ck_assert_msg(stray_files(dir, stray, sizeof stray) == 0, "%s left '%s' in %s", vn_fi_fired_what(), stray,
                      dir);
        int v[2] = {which_version(dir, 0, &old, &fresh), which_version(dir, 1, &old, &fresh)};
        ck_assert_msg(v[0] >= 0 && v[1] >= 0, "%s: model %d, trainer %d: a file is neither the old nor the new one",
                      vn_fi_fired_what(), v[0], v[1]);
        /* The model file is committed first: a new trainer file means both were renamed
         * into place and only the last directory sync failed; a new model file alone, that
         * the trainer file's save or the model file's directory sync failed. */
        if (v[1])
            ck_assert_msg(v[0] && strstr(msg, "the new file is in place") && strstr(msg, CKPT_FILES[1]),
                          "%s: the trainer file is new: %s", vn_fi_fired_what(), msg);
        else if (v[0])
            ck_assert_msg(strstr(msg, CKPT_FILES[1]) || strstr(msg, "the new file is in place"),
                          "%s: the model file is new: %s", vn_fi_fired_what(), msg);
        else
            ck_assert_msg(strstr(msg, CKPT_FILES[0]) && !strstr(msg, "in place"),
                          "%s: nothing was replaced: %s", vn_fi_fired_what(), msg);
        renamed_in_place += v[1] == 1;
        expect_resumes(ctx, dir, v[1] ? 2 : 1);
        put_back(&old, dir);
    }
    printf("save_enospc: %d file operations in a checkpoint save, each failed in turn; %d of them closes of the "
           "synced directory (ignored, rightly), %d failed after the trainer file was already in place\n", points,
           dir_closes, renamed_in_place);
    ck_assert_int_ge(points, 10);
    ck_assert_int_eq(which_version(dir, 0, &old, &fresh), 1);
    ck_assert_int_eq(which_version(dir, 1, &old, &fresh), 1);
    drop(&old);
    drop(&fresh);
    vn_trainer_destroy(tr);
    vn_context_destroy(ctx);
}
END_TEST

/* The .npy writer that the index and `vnative encode` use, the same way. */
START_TEST(npy_enospc_at_every_file_operation)
{
    char dir[600], path[700], err[512], stray[256];
    fresh_dir(dir, sizeof dir, "fi_npy");
    fmt_into(path, sizeof path, "%s/model.safetensors", dir); /* a name stray_files() accepts */
    float a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {6, 5, 4, 3, 2, 1};
    int64_t shape[2] = {2, 3};
    ck_assert_int_eq(vn_npy_write_atomic(path, VN_NPY_F32, 2, shape, a, err, sizeof err), 0);
    size_t n0;
    unsigned char *before = slurp(path, &n0);
    int points = 0;
    for (long nth = 1;; nth++) {
        vn_fi_arm(VN_FI_FILE_OPS, nth, ENOSPC);
        int rc = vn_npy_write_atomic(path, VN_NPY_F32, 2, shape, b, err, sizeof err);
        vn_fi_disarm();
        if (!vn_fi_fired()) {
            ck_assert_int_eq(rc, 0);
            break;
        }
        points++;
        if (rc == 0 && fired_on_dir_close(dir)) {
            ck_assert_int_eq(vn_npy_write_atomic(path, VN_NPY_F32, 2, shape, a, err, sizeof err), 0);
            continue;
        }
        ck_assert_int_ne(rc, 0);
        ck_assert_msg(strstr(err, "No space left on device") && strstr(err, path), "%s", err);
        ck_assert_int_eq(stray_files(dir, stray, sizeof stray), 0);
        if (!strstr(err, "the new file is in place")) {
            size_t n;
            unsigned char *now = slurp(path, &n);
            ck_assert_msg(n == n0 && !memcmp(now, before, n), "%s changed the file: %s", vn_fi_fired_what(), err);
            free(now);
        }
    }
    printf("npy_enospc: %d file operations, each failed in turn\n", points);
    ck_assert_int_ge(points, 5);
    free(before);
}
END_TEST

static int same_bytes(const char *path, const unsigned char *b, size_t n)
{
    size_t m;
    unsigned char *now = slurp(path, &m);
    int same = m == n && !memcmp(now, b, n);
    free(now);
    return same;
}

/* vn_index_save commits two .npy files, both written and synced before either is renamed.
 * Failed at each file operation, it must name the file and the error and leave no temp
 * file; each file is the old or the new one, and the pair loads whole or is refused as a
 * mismatch (never half a file); only a failing rename of the second file can leave a
 * mismatched pair. */
START_TEST(index_save_enospc_at_every_file_operation)
{
    char dir[600], vec[700], ids[700], stray[256];
    fresh_dir(dir, sizeof dir, "fi_index");
    fmt_into(vec, sizeof vec, "%s/vectors.npy", dir);
    fmt_into(ids, sizeof ids, "%s/ids.npy", dir);
    vn_context *ctx = cpu_ctx();
    float x[5][4] = {{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}, {1, 1, 1, 1}};
    int64_t id[5] = {10, 11, 12, 13, 14}, shape[2] = {3, 4};
    vn_index *small, *big;
    VN_ASSERT_OK(vn_index_create(&small, ctx, 4, VN_INDEX_COSINE));
    VN_ASSERT_OK(vn_index_create(&big, ctx, 4, VN_INDEX_COSINE));
    vn_tensor t;
    vn_tensor_init(&t, x, VN_DTYPE_F32, 2, shape);
    VN_ASSERT_OK(vn_index_add(small, &t, id));
    shape[0] = 5;
    vn_tensor_init(&t, x, VN_DTYPE_F32, 2, shape);
    VN_ASSERT_OK(vn_index_add(big, &t, id));
    VN_ASSERT_OK(vn_index_save(small, vec, ids));
    size_t nv, ni;
    unsigned char *old_v = slurp(vec, &nv), *old_i = slurp(ids, &ni);
    int points = 0, mismatched = 0;
    for (long nth = 1;; nth++) {
        vn_fi_arm(VN_FI_FILE_OPS, nth, ENOSPC);
        vn_clear_error();
        vn_status st = vn_index_save(big, vec, ids);
        vn_fi_disarm();
        if (!vn_fi_fired()) {
            VN_ASSERT_OK(st);
            break;
        }
        points++;
        if (!(st == VN_OK && fired_on_dir_close(dir))) {
            ck_assert_msg(st == VN_ERR_IO && strstr(vn_last_error(), "No space left on device") &&
                              strstr(vn_last_error(), dir),
                          "%s: %s: %s", vn_fi_fired_what(), vn_status_str(st), vn_last_error());
        }
        ck_assert_msg(stray_files_but(dir, "vectors.npy", "ids.npy", stray, sizeof stray) == 0, "%s left %s",
                      vn_fi_fired_what(), stray);
        vn_index *back = NULL;
        vn_status lt = vn_index_load(&back, ctx, vec, ids, VN_INDEX_COSINE);
        int64_t n = -1;
        if (lt == VN_OK)
            vn_index_size(back, &n);
        ck_assert_msg((lt == VN_OK && (n == 3 || n == 5)) || lt == VN_ERR_FORMAT, "%s: reload %s (%s), %lld rows",
                      vn_fi_fired_what(), vn_status_str(lt), vn_last_error(), (long long)n);
        mismatched += lt != VN_OK;
        vn_index_destroy(back);
        spit(vec, old_v, nv);
        spit(ids, old_i, ni);
    }
    printf("index_enospc: %d file operations, each failed in turn; %d left the vectors of the new save beside the "
           "ids of the old one (refused on load as a mismatch)\n", points, mismatched);
    ck_assert_int_ge(points, 10);
    ck_assert_int_le(mismatched, 1);
    ck_assert_int_le(mismatched, 1);
    ck_assert(same_bytes(vec, old_v, nv) == 0);
    free(old_v);
    free(old_i);
    vn_index_destroy(small);
    vn_index_destroy(big);
    vn_context_destroy(ctx);
}
END_TEST

/* One allocation-failure sweep: op is run with its nth allocation failing for nth = 1, 2, ...
 * until it gets through without reaching the armed one. Each failure must be
 * VN_ERR_OUT_OF_MEMORY with a message and, after undo, leave as many blocks as before. */
typedef vn_status (*oom_op)(void *user);
typedef void (*oom_undo)(void *user, vn_status st);

static int oom_sweep(const char *name, oom_op op, oom_undo undo, void *user)
{
    int points = 0;
    for (long nth = 1;; nth++) {
        long live0 = vn_fi_live_blocks();
        vn_fi_arm(VN_FI_ALLOC, nth, ENOMEM);
        vn_clear_error();
        vn_status st = op(user);
        vn_fi_disarm();
        int fired = vn_fi_fired();
        char what[600], msg[1100];
        fmt_into(what, sizeof what, "%s", vn_fi_fired_what());
        fmt_into(msg, sizeof msg, "%s", vn_last_error());
        undo(user, st);
        if (!fired) {
            ck_assert_msg(st == VN_OK, "%s without a failure: %s: %s", name, vn_status_str(st), msg);
            break;
        }
        points++;
        ck_assert_msg(st == VN_ERR_OUT_OF_MEMORY, "%s, %s failing: %s (%s)", name, what, vn_status_str(st), msg);
        ck_assert_msg(msg[0] != '\0', "%s, %s failing: no message", name, what);
        long live = vn_fi_live_blocks();
        ck_assert_msg(live == live0, "%s, %s failing: %ld block(s) leaked", name, what, live - live0);
    }
    printf("oom: %s: %d allocations, each failed in turn\n", name, points);
    ck_assert_int_ge(points, 1);
    return points;
}

typedef struct oom_fix {
    vn_context *ctx;
    vn_trainer *tr;
    vn_encoder *enc;
    char dir[600], model[700];
    snapshot old, fresh;
} oom_fix;

static vn_status op_context(void *u)
{
    oom_fix *f = u;
    vn_context_options o = VN_CONTEXT_OPTIONS_INIT;
    o.backend = VN_BACKEND_CPU;
    o.n_threads = 1;
    f->ctx = (vn_context *)(uintptr_t)1; /* a failure must set it to NULL */
    vn_status st = vn_context_create(&f->ctx, &o);
    if (st)
        ck_assert_ptr_null(f->ctx);
    return st;
}

static void undo_context(void *u, vn_status st)
{
    oom_fix *f = u;
    vn_context_destroy(st ? NULL : f->ctx);
    f->ctx = NULL;
}

static vn_status op_trainer(void *u)
{
    oom_fix *f = u;
    vn_encoder_config c = vn_test_tiny_config(VN_ENCODER_VIDEO, 3);
    vn_train_options o = vn_test_tiny_train_options("aot", "world:aot", 2);
    vn_status st = vn_trainer_create(&f->tr, f->ctx, &c, &o);
    if (st)
        ck_assert_ptr_null(f->tr);
    return st;
}

static void undo_trainer(void *u, vn_status st)
{
    oom_fix *f = u;
    (void)st;
    vn_trainer_destroy(f->tr);
    f->tr = NULL;
}

static vn_status op_save(void *u)
{
    oom_fix *f = u;
    return vn_trainer_save(f->tr, f->dir);
}

/* A failed save leaves the previous trainer file, byte for byte, and no temp file; the
 * model file, committed first, may already be the new one. */
static void undo_save(void *u, vn_status st)
{
    oom_fix *f = u;
    char stray[256];
    ck_assert_msg(stray_files(f->dir, stray, sizeof stray) == 0, "a failed save left '%s'", stray);
    if (st) {
        ck_assert_msg(which_version(f->dir, 0, &f->old, &f->fresh) >= 0, "a failed save corrupted %s", CKPT_FILES[0]);
        ck_assert_msg(which_version(f->dir, 1, &f->old, &f->fresh) == 0, "a save that failed for memory changed %s",
                      CKPT_FILES[1]);
    }
}

static vn_status op_resume(void *u)
{
    oom_fix *f = u;
    return vn_trainer_resume(f->tr, f->dir);
}

/* A failed resume leaves the trainer where it was (step 0); a good one reaches step 1. */
static void undo_resume(void *u, vn_status st)
{
    oom_fix *f = u;
    int64_t step = -1;
    VN_ASSERT_OK(vn_trainer_get_step(f->tr, &step));
    ck_assert_int_eq(step, st ? 0 : 1);
}

static vn_status op_load(void *u)
{
    oom_fix *f = u;
    vn_status st = vn_encoder_load(&f->enc, f->ctx, f->model);
    if (st)
        ck_assert_ptr_null(f->enc);
    return st;
}

static void undo_load(void *u, vn_status st)
{
    oom_fix *f = u;
    (void)st;
    vn_encoder_destroy(f->enc);
    f->enc = NULL;
}

START_TEST(allocation_failure_everywhere)
{
    oom_fix f;
    memset(&f, 0, sizeof f);
    fresh_dir(f.dir, sizeof f.dir, "fi_oom");
    fmt_into(f.model, sizeof f.model, "%s/model.safetensors", f.dir);
    int total = oom_sweep("vn_context_create", op_context, undo_context, &f);
    f.ctx = cpu_ctx();
    total += oom_sweep("vn_trainer_create", op_trainer, undo_trainer, &f);

    f.tr = tiny_trainer(f.ctx);
    VN_ASSERT_OK(vn_trainer_step(f.tr, NULL));
    VN_ASSERT_OK(vn_trainer_save(f.tr, f.dir));
    take(&f.old, f.dir);
    VN_ASSERT_OK(vn_trainer_step(f.tr, NULL));
    char ref[600];
    fresh_dir(ref, sizeof ref, "fi_oom_ref");
    VN_ASSERT_OK(vn_trainer_save(f.tr, ref));
    take(&f.fresh, ref);
    total += oom_sweep("vn_trainer_save", op_save, undo_save, &f);
    vn_trainer_destroy(f.tr);

    put_back(&f.old, f.dir);
    f.tr = tiny_trainer(f.ctx);
    total += oom_sweep("vn_trainer_resume", op_resume, undo_resume, &f);
    /* the resumed trainer trains on from its step */
    vn_train_metrics m = VN_TRAIN_METRICS_INIT;
    VN_ASSERT_OK(vn_trainer_step(f.tr, &m));
    ck_assert_int_eq(m.step, 2);
    ck_assert(isfinite(m.loss));
    vn_trainer_destroy(f.tr);

    total += oom_sweep("vn_encoder_load", op_load, undo_load, &f);
    printf("oom: %d allocation points in all\n", total);
    drop(&f.old);
    drop(&f.fresh);
    vn_context_destroy(f.ctx);
}
END_TEST

/* A write that fails with a real ENOSPC (/dev/full), through the plain .npy writer that
 * the CLI's dumps use: an error naming the device and the reason, and the device still
 * there afterwards (the writer removes what it wrote only when that is a regular file). */
START_TEST(npy_to_dev_full)
{
    struct stat before;
    if (stat("/dev/full", &before) != 0 || !S_ISCHR(before.st_mode)) {
        printf("npy_to_dev_full: no /dev/full character device here; case not run\n");
        return;
    }
    char err[512];
    float big[4096] = {0};
    int64_t shape[1] = {4096};
    ck_assert_int_ne(vn_npy_write("/dev/full", VN_NPY_F32, 1, shape, big, err, sizeof err), 0);
    ck_assert_msg(strstr(err, "/dev/full") && strstr(err, "No space left on device"), "%s", err);
    struct stat after;
    ck_assert_msg(stat("/dev/full", &after) == 0 && S_ISCHR(after.st_mode), "the failed write removed /dev/full");
}
END_TEST

static Suite *make(void)
{
    Suite *s = suite_create("fault_injection");
    TCase *tc = tcase_create("injected");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, save_enospc_at_every_file_operation);
    tcase_add_test(tc, npy_enospc_at_every_file_operation);
    tcase_add_test(tc, index_save_enospc_at_every_file_operation);
    tcase_add_test(tc, allocation_failure_everywhere);
    tcase_add_test(tc, npy_to_dev_full);
    suite_add_tcase(s, tc);
    return s;
}

int main(int argc, char **argv)
{
    /* The sweeps count allocations across create and destroy: the trainer's prefetch thread
     * would add its own at random moments. */
    setenv("VN_TRAIN_PREFETCH", "0", 1);
    /* `test_fault_injection tmpfs`: only the real-ENOSPC case, SKIP where no tmpfs can be mounted */
    if (argc > 1 && !strcmp(argv[1], "tmpfs"))
        return vn_fault_enospc_main();
    return vn_test_run(make());
}
