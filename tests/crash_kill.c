/*
 * crash_kill: a training process killed with SIGKILL, again and again, each restart resuming
 * the checkpoint the last one left (the life of a job on preemptible machines).
 *
 *   crash_kill TRIALS SEED          the test (meson: crash_kill, suite crash)
 *   crash_kill --broken TRIALS SEED the same against a writer that saves in place, without a
 *                                   temp file and a rename: passes only if some trial catches
 *                                   it, which shows the checks can fail (crash_kill_detects)
 *   crash_kill --child DIR PAGE BROKEN PAUSE_US   the trainer the others start and kill
 *
 * The child trains a tiny video encoder on world:aot clips and saves a checkpoint after
 * every step. Its file operations go through fault_inject.c's hook, which in every other
 * trial slows each one down (so that kills land inside checkpoint writes often), and
 * always records in a shared page
 * where the child was: the parent reads it after the kill and counts the kills that landed
 * mid-write. After every kill the parent checks the directory holds only the checkpoint and
 * at most the hidden temp files of a dead save, that each file passes the reader's full
 * validation, that the checkpoint is the child's last completed save (or the one it was
 * committing), that a resumed trainer's next loss equals, bit for bit, that of an
 * uninterrupted run at the same step, and that a restart's first save removes the stale
 * temp files.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fault_inject.h"
#include "vnative/vnative.h"

extern char **environ;

/* Even trials save after every step and each file operation of a save sleeps this long
 * first: a save then takes tens of milliseconds against a step's few, so most kills land
 * inside one. Odd trials run at full speed and save every FAST_SAVE_EVERY steps, so that
 * more kills land in a step (a save's fsyncs still take longer than a tiny model's step). */
#define FAST_SAVE_EVERY 16
#define OP_PAUSE_US 150
static long op_pause_us;
#define MAX_TEMPS 64

/* Where the child is, written by it and read by the parent after the kill. */
typedef struct page {
    _Atomic int64_t saved_step;   /* step of the last save that returned VN_OK; 0: none */
    _Atomic int64_t saves;        /* completed saves of this child */
    _Atomic int64_t saving_step;  /* the step being saved, 0 outside vn_trainer_save */
    _Atomic int op_kind;          /* vn_fi_kind of the last file operation begun in a save */
    char op_path[512];            /* and its path */
    _Atomic int child_error;      /* a library call failed in the child */
    char error[512];
} page;

static page *pg;

/* snprintf that may cut: paths and names in fixed buffers. */
static void fmt(char *buf, size_t cap, const char *f, ...) __attribute__((format(printf, 3, 4)));
static void fmt(char *buf, size_t cap, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    vsnprintf(buf, cap, f, ap);
    va_end(ap);
}
static int n_fail;

#define STR_(x) #x
#define STR(x) STR_(x)

#define CHECK(cond, ...)                                                                          \
    do {                                                                                          \
        if (!(cond)) {                                                                            \
            fprintf(stderr, "FAIL: " __VA_ARGS__);                                                \
            fputc('\n', stderr);                                                                  \
            n_fail++;                                                                             \
        }                                                                                         \
    } while (0)

/* What both sides train: the child for real, the parent to resume and to compare. */
static vn_status make_trainer(vn_context *ctx, vn_trainer **tr)
{
    vn_encoder_config c = VN_ENCODER_CONFIG_INIT;
    c.family = VN_ENCODER_VIDEO;
    c.frames = 4;
    c.size = 16;
    c.patch = 8;
    c.tubelet_t = 2;
    c.dim = 16;
    c.depth = 1;
    c.heads = 2;
    c.mlp_ratio = 2.0f;
    c.seed = 11;
    vn_train_options o = VN_TRAIN_OPTIONS_INIT;
    o.objectives = "aot";
    o.data = "world:aot";
    o.batch = 2;
    o.total_steps = 100000;
    o.lr = 1e-3f;
    o.seed = 12;
    return vn_trainer_create(tr, ctx, &c, &o);
}

static vn_context *make_context(void)
{
    vn_context_options o = VN_CONTEXT_OPTIONS_INIT;
    o.backend = VN_BACKEND_CPU;
    o.n_threads = 1;
    o.deterministic = 1;
    vn_context *ctx = NULL;
    return vn_context_create(&ctx, &o) == VN_OK ? ctx : NULL;
}

/* ---------------------------------------------------------------- child */

static void on_file_op(vn_fi_kind kind, const char *path)
{
    if (!atomic_load(&pg->saving_step))
        return;
    fmt(pg->op_path, sizeof pg->op_path, "%s", path);
    atomic_store(&pg->op_kind, (int)kind);
    struct timespec ts = {0, op_pause_us * 1000L};
    if (op_pause_us)
        nanosleep(&ts, NULL);
}

static int child_fail(const char *what)
{
    fmt(pg->error, sizeof pg->error, "%s: %s", what, vn_last_error());
    atomic_store(&pg->child_error, 1);
    return 3;
}

static int child(const char *dir, const char *page_path, int broken, long pause_us)
{
    op_pause_us = pause_us;
    const int64_t every = pause_us ? 1 : FAST_SAVE_EVERY;
    int fd = open(page_path, O_RDWR);
    if (fd < 0 || (pg = mmap(NULL, sizeof *pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED)
        return 2;
    close(fd);
    vn_fi_set_hook(on_file_op);
    vn_fi_set_inplace_writer(broken);
    vn_context *ctx = make_context();
    vn_trainer *tr = NULL;
    if (!ctx || make_trainer(ctx, &tr) != VN_OK)
        return child_fail("create");
    char state[4200];
    fmt(state, sizeof state, "%s/trainer.safetensors", dir);
    if (access(state, F_OK) == 0 && vn_trainer_resume(tr, dir) != VN_OK)
        return child_fail("resume");
    for (;;) {
        vn_train_metrics m = VN_TRAIN_METRICS_INIT;
        if (vn_trainer_step(tr, &m) != VN_OK)
            return child_fail("step");
        if (m.step % every)
            continue;
        atomic_store(&pg->saving_step, m.step);
        if (vn_trainer_save(tr, dir) != VN_OK)
            return child_fail("save");
        atomic_store(&pg->saved_step, m.step);
        atomic_store(&pg->saving_step, 0);
        atomic_fetch_add(&pg->saves, 1);
    }
}

/* ---------------------------------------------------------------- parent */

static int is_temp(const char *name)
{
    return !strncmp(name, ".model.safetensors.", 19) || !strncmp(name, ".trainer.safetensors.", 21);
}

/* The directory's temp files into temps (names); anything but the two checkpoint files
 * and temp files is a failure. */
static int list_dir(const char *dir, char temps[][64], int cap)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        const char *s = e->d_name;
        if (!strcmp(s, ".") || !strcmp(s, "..") || !strcmp(s, "model.safetensors") ||
            !strcmp(s, "trainer.safetensors"))
            continue;
        CHECK(is_temp(s), "%s holds '%s', neither a checkpoint file nor a save's temp file", dir, s);
        if (is_temp(s) && n < cap)
            fmt(temps[n++], 64, "%s", s);
    }
    closedir(d);
    return n;
}

/* FNV-1a over every parameter's bytes: equal weights, equal hashes. */
static uint64_t params_hash(const vn_encoder *enc)
{
    uint64_t h = 1469598103934665603ull;
    int np = 0;
    vn_encoder_param_count(enc, &np);
    for (int i = 0; i < np; i++) {
        const char *name;
        int ndim;
        int64_t shape[VN_MAX_DIMS], n = 1;
        vn_encoder_param_info(enc, i, &name, &ndim, shape);
        for (int d = 0; d < ndim; d++)
            n *= shape[d];
        float *x = malloc((size_t)n * sizeof *x);
        vn_tensor t;
        vn_tensor_init(&t, x, VN_DTYPE_F32, ndim, shape);
        if (!x || vn_encoder_get_param(enc, name, &t) != VN_OK) {
            free(x);
            return 0;
        }
        const unsigned char *c = (const unsigned char *)x;
        for (size_t j = 0; j < (size_t)n * sizeof *x; j++)
            h = (h ^ c[j]) * 1099511628211ull;
        free(x);
    }
    return h;
}

/* The uninterrupted run: the loss of every step and the hash of the weights after it
 * (index = step), extended on demand. */
#define MAX_STEPS 16384
typedef struct reference {
    vn_trainer *tr;
    int64_t step;
    float loss[MAX_STEPS];
    uint64_t hash[MAX_STEPS];
} reference;

static int reference_reach(reference *r, int64_t step)
{
    if (step >= MAX_STEPS)
        return 0;
    const vn_encoder *enc = NULL;
    vn_trainer_get_encoder(r->tr, &enc);
    if (r->step == 0)
        r->hash[0] = params_hash(enc);
    while (r->step < step) {
        vn_train_metrics m = VN_TRAIN_METRICS_INIT;
        if (vn_trainer_step(r->tr, &m) != VN_OK) {
            CHECK(0, "reference step: %s", vn_last_error());
            return 0;
        }
        r->step = m.step;
        r->loss[m.step] = m.loss;
        r->hash[m.step] = params_hash(enc);
    }
    return 1;
}

typedef struct tally {
    int trials, in_step, in_save, creating, mid_write, at_commit, temps_left, temps_removed, between_files;
} tally;

/* Where the kill landed, from the page: a training step, about to create a temp file, the
 * write of one (its writes, fsync and close), or the commit of a file (rename, directory
 * sync). The hook runs before each operation, so "mid-write" may be just before the
 * first write, never after the rename. */
static const char *classify(tally *t)
{
    if (!atomic_load(&pg->saving_step)) {
        t->in_step++;
        return "a training step";
    }
    t->in_save++;
    const char *base = strrchr(pg->op_path, '/');
    base = base ? base + 1 : pg->op_path;
    int kind = atomic_load(&pg->op_kind);
    int model = strstr(pg->op_path, "model.safetensors") != NULL;
    if (kind == VN_FI_CREATE) {
        t->creating++;
        return model ? "creating model.safetensors' temp file" : "creating trainer.safetensors' temp file";
    }
    if (is_temp(base) && kind != VN_FI_RENAME) {
        t->mid_write++;
        return model ? "mid-write of model.safetensors" : "mid-write of trainer.safetensors";
    }
    t->at_commit++;
    return model ? "committing model.safetensors" : "committing trainer.safetensors";
}

static pid_t spawn_child(const char *self, const char *dir, const char *page_path, int broken, int pause)
{
    char *argv[] = {(char *)self, "--child", (char *)dir, (char *)page_path, broken ? "1" : "0",
                    pause ? STR(OP_PAUSE_US) : "0", NULL};
    pid_t pid;
    return posix_spawn(&pid, self, NULL, NULL, argv, environ) == 0 ? pid : -1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* One kill and everything checked after it. */
static void trial(int k, const char *self, const char *dir, const char *page_path, unsigned *rs, int broken,
                  vn_context *ctx, reference *ref, tally *t, char prev_temps[][64], int *n_prev)
{
    memset(pg, 0, sizeof *pg);
    pid_t pid = spawn_child(self, dir, page_path, broken, k % 2 == 0);
    CHECK(pid > 0, "posix_spawn: %s", strerror(errno));
    if (pid <= 0)
        return;
    /* let it resume and save once, so every restart makes progress; then a random moment */
    double deadline = now_s() + 60;
    while (atomic_load(&pg->saves) < 1 && !atomic_load(&pg->child_error) && now_s() < deadline)
        usleep(1000);
    unsigned delay_us = (unsigned)rand_r(rs) % 100000u;
    usleep(delay_us);
    kill(pid, SIGKILL);
    int ws = 0;
    waitpid(pid, &ws, 0);
    CHECK(!atomic_load(&pg->child_error), "trial %d: the child failed: %s", k, pg->error);
    CHECK(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL, "trial %d: the child ended on its own (status %d)", k, ws);
    t->trials++;
    const char *where = classify(t);
    int64_t saved = atomic_load(&pg->saved_step), saving = atomic_load(&pg->saving_step);

    char temps[MAX_TEMPS][64];
    int n_temps = list_dir(dir, temps, MAX_TEMPS);
    t->temps_left += n_temps;
    /* this child saved at least once: its first save must have removed the last one's temps */
    for (int i = 0; i < *n_prev; i++)
        for (int j = 0; j < n_temps; j++)
            CHECK(strcmp(prev_temps[i], temps[j]), "trial %d: the stale temp file %s survived a save", k, temps[j]);
    t->temps_removed += *n_prev;
    for (int i = 0; i < n_temps; i++)
        fmt(prev_temps[i], 64, "%s", temps[i]);
    *n_prev = n_temps;

    /* every byte of each file through the reader's validation, and a resume */
    char model[4200];
    fmt(model, sizeof model, "%s/model.safetensors", dir);
    vn_encoder *file_enc = NULL;
    vn_status st = vn_encoder_load(&file_enc, ctx, model);
    CHECK(st == VN_OK, "trial %d (%s): model.safetensors does not load: %s", k, where, vn_last_error());
    vn_trainer *tr = NULL;
    st = make_trainer(ctx, &tr);
    if (st == VN_OK && (st = vn_trainer_resume(tr, dir)) != VN_OK)
        CHECK(0, "trial %d (%s): the checkpoint does not resume: %s", k, where, vn_last_error());
    int64_t step = -1;
    vn_trainer_get_step(tr, &step);
    CHECK(step == saved || (saving && step == saving), "trial %d (%s): the checkpoint is at step %lld; the child "
          "had saved step %lld and was saving %lld", k, where, (long long)step, (long long)saved, (long long)saving);

    /* model.safetensors holds the trainer file's weights or, killed between the two files'
     * commits, those of the step being saved */
    const vn_encoder *tr_enc = NULL;
    vn_trainer_get_encoder(tr, &tr_enc);
    uint64_t file_hash = file_enc ? params_hash(file_enc) : 0;
    int same_step = st == VN_OK && file_enc && file_hash == params_hash(tr_enc);
    int ahead = !same_step && saving && reference_reach(ref, saving) && file_hash == ref->hash[saving];
    t->between_files += ahead;
    CHECK(same_step || ahead, "trial %d (%s): model.safetensors holds neither the checkpoint's weights (step %lld) "
          "nor those of the step being saved (%lld)", k, where, (long long)step, (long long)saving);
    vn_train_metrics m = VN_TRAIN_METRICS_INIT;
    vn_status sst = st == VN_OK ? vn_trainer_step(tr, &m) : st;
    CHECK(sst == VN_OK && m.step == step + 1 && isfinite(m.loss),
          "trial %d: the resumed trainer's step: %s, step %lld after %lld, loss %g", k, vn_status_str(sst),
          (long long)m.step, (long long)step, (double)m.loss);
    float want = sst == VN_OK && reference_reach(ref, m.step) ? ref->loss[m.step] : NAN;
    CHECK(sst != VN_OK || memcmp(&want, &m.loss, sizeof want) == 0,
          "trial %d: resumed from step %lld, step %lld has loss %.9g; the uninterrupted run %.9g", k,
          (long long)step, (long long)m.step, (double)m.loss, (double)want);
    CHECK(sst != VN_OK || params_hash(tr_enc) == ref->hash[m.step],
          "trial %d: resumed from step %lld, the weights after step %lld differ from the uninterrupted run's", k,
          (long long)step, (long long)m.step);
    printf("trial %2d (%s): killed %6.1f ms after the first save, in %s; checkpoint at step %lld (last completed save "
           "%lld), %d temp file(s) left; resumed step %lld loss %.6f%s\n",
           k, k % 2 == 0 ? "slowed, save every step" : "full speed, save every " STR(FAST_SAVE_EVERY),
           delay_us / 1000.0, where, (long long)step, (long long)saved, n_temps, (long long)m.step, (double)m.loss,
           ahead ? "; model.safetensors at the step being saved" : "");
    fflush(stdout);
    vn_trainer_destroy(tr);
    vn_encoder_destroy(file_enc);
}

static int parent(const char *self, int trials, unsigned seed, int broken)
{
    const char *base = getenv("VN_TEST_TMPDIR");
    char root[4096], dir[4200], page_path[4200];
    fmt(root, sizeof root, "%s/crash_kill%s", base && *base ? base : "/tmp", broken ? "_broken" : "");
    char cmd[4200];
    fmt(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s/ckpt'", root, root);
    if (system(cmd) != 0)
        return 1;
    fmt(dir, sizeof dir, "%s/ckpt", root);
    fmt(page_path, sizeof page_path, "%s/page", root);
    int fd = open(page_path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || ftruncate(fd, sizeof *pg) != 0 ||
        (pg = mmap(NULL, sizeof *pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED) {
        fprintf(stderr, "crash_kill: cannot map %s: %s\n", page_path, strerror(errno));
        return 1;
    }
    close(fd);
    printf("crash_kill: %d trials, seed %u, %s writer; even trials: %d us before each file operation of a save, "
           "odd trials: a save every %d steps\n",
           trials, seed, broken ? "a broken in-place" : "the library's", OP_PAUSE_US, FAST_SAVE_EVERY);
    vn_context *ctx = make_context();
    static reference ref;
    if (!ctx || make_trainer(ctx, &ref.tr) != VN_OK) {
        fprintf(stderr, "crash_kill: %s\n", vn_last_error());
        return 1;
    }
    tally t = {0};
    char prev_temps[MAX_TEMPS][64];
    int n_prev = 0;
    unsigned rs = seed;
    double t0 = now_s();
    for (int k = 0; k < trials && !(broken && n_fail); k++)
        trial(k, self, dir, page_path, &rs, broken, ctx, &ref, &t, prev_temps, &n_prev);
    printf("crash_kill: %d trials in %.1f s: %d killed in a training step, %d in a checkpoint save (%d creating a "
           "temp file, %d mid-write, %d committing a file; %d left model.safetensors ahead of the trainer "
           "file); %d stale temp file(s) seen, %d removed by the next save; reference run reached step %lld; %d "
           "failed check(s)\n",
           t.trials, now_s() - t0, t.in_step, t.in_save, t.creating, t.mid_write, t.at_commit, t.between_files,
           t.temps_left, t.temps_removed, (long long)ref.step, n_fail);
    vn_trainer_destroy(ref.tr);
    vn_context_destroy(ctx);
    if (broken) {
        printf("crash_kill --broken: %s\n", n_fail ? "the in-place writer was caught: the checks can fail"
                                                   : "NOT caught: these checks would miss a non-atomic writer");
        return n_fail ? 0 : 1;
    }
    if (t.mid_write < 3) {
        printf("crash_kill: only %d kill(s) landed mid-write; the test did not test enough\n", t.mid_write);
        return 1;
    }
    return n_fail ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc == 6 && !strcmp(argv[1], "--child"))
        return child(argv[2], argv[3], atoi(argv[4]), atol(argv[5]));
    int broken = argc > 1 && !strcmp(argv[1], "--broken");
    if (argc != 3 + broken) {
        fprintf(stderr, "usage: crash_kill [--broken] TRIALS SEED\n");
        return 2;
    }
    /* the children are this program again, wherever meson put it */
    return parent("/proc/self/exe", atoi(argv[1 + broken]), (unsigned)strtoul(argv[2 + broken], NULL, 10), broken);
}
