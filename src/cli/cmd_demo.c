/* `vnative demo`: the main job. Streams vn_world clips, trains a video-native encoder and a
 * bag-of-images baseline on the same budget, runs the whole probe suite on them beside a
 * random encoder and a pixel baseline, prints the comparison and writes the report. */
#include "cli/cli_flags.h"
#include "cli/commands.h"
#include "cli/demo_suite.h"
#include "cli/json_writer.h"
#include "cli/report.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CMD "demo"
#define PATH_CAP 4096
#define FILE_CAP (PATH_CAP + 64) /* a file inside a PATH_CAP directory */
#define DEFAULT_REAL "../shared/data/real"

typedef struct dargs {
    const char *out, *real;
    int64_t steps, threads, seed;
    int quick, no_real, quiet;
} dargs;

static const vn_cli_flag flags[] = {
    VN_FLAG_S(dargs, "--out", out),           VN_FLAG_S(dargs, "--real", real),
    VN_FLAG_I(dargs, "--steps", steps, 10, 1 << 24), VN_FLAG_I(dargs, "--threads", threads, 0, 1024),
    VN_FLAG_I(dargs, "--seed", seed, 0, INT64_MAX),  VN_FLAG_B(dargs, "--quick", quick),
    VN_FLAG_B(dargs, "--no-real", no_real),   VN_FLAG_B(dargs, "--quiet", quiet),
};
#define N_FLAGS (int)(sizeof flags / sizeof flags[0])

static void usage(FILE *f)
{
    fprintf(f, "usage: vnative demo [--quick] [options]\n\n"
               "Does a video know more than a bag of its frames? Trains an xs video encoder with\n"
               "the arrow-of-time objective on procedural physics, and a frames (bag-of-images)\n"
               "encoder on the same budget; probes both, a random encoder and raw pixels on every\n"
               "world task, future retrieval and real footage; finds their time vectors; prints\n"
               "the table and writes OUT/report.html, report.md and report.json.\n\n"
               "  --quick        a smoke test in under 2 minutes (tiny budgets, same pipeline)\n"
               "  --out DIR      where the models and the report go (default demo-out, or\n"
               "                 demo-quick with --quick); a second run reuses trained models\n"
               "  --steps N      training steps of each encoder (default 2500; 60 with --quick)\n"
               "  --real SRC     real videos for the real-footage probes: a folder or manifest\n"
               "                 (default " DEFAULT_REAL " when it exists)\n"
               "  --no-real      skip real footage\n"
               "  --threads N    compute threads (default: every core)\n"
               "  --seed N       weights, data and probes (default 0)\n"
               "  --quiet        no progress on stderr\n");
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Run `vnative ARGS...` in a child process, as this same executable. */
static int run_self(const char **argv)
{
    char self[PATH_CAP];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        fprintf(stderr, "vnative %s: cannot find my own executable: %s\n", CMD, strerror(errno));
        return 1;
    }
    self[n] = 0;
    argv[0] = self;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "vnative %s: fork: %s\n", CMD, strerror(errno));
        return 1;
    }
    if (pid == 0) {
        execv(self, (char *const *)argv);
        fprintf(stderr, "vnative %s: cannot run %s: %s\n", CMD, self, strerror(errno));
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

/* Train one encoder with `vnative train` in a child process: its progress bar, log and
 * checkpoints are the train command's own. A directory that holds a checkpoint already
 * is resumed, which does nothing when it has reached the step. */
static int train(const dargs *a, const char *family, const char *dir, int64_t steps)
{
    char log[FILE_CAP], state[FILE_CAP], s_steps[32], s_threads[32], s_seed[32], s_eval[32], s_batch[16];
    snprintf(log, sizeof log, "%s/log.jsonl", dir);
    snprintf(state, sizeof state, "%s/trainer.safetensors", dir);
    snprintf(s_steps, sizeof s_steps, "%lld", (long long)steps);
    snprintf(s_threads, sizeof s_threads, "%lld", (long long)a->threads);
    snprintf(s_seed, sizeof s_seed, "%lld", (long long)a->seed);
    snprintf(s_eval, sizeof s_eval, "%lld", (long long)(steps >= 10 ? steps / 5 : steps));
    snprintf(s_batch, sizeof s_batch, "%d", a->quick ? 8 : 16);
    int resume = access(state, F_OK) == 0;
    const char *argv[40];
    int k = 0;
    argv[k++] = NULL; /* run_self puts the executable here */
    argv[k++] = "train";
    if (resume) {
        argv[k++] = "--resume";
    } else {
        const char *fixed[] = {"--model", "xs", "--family", family, "--pos", "sincos", "--objective", "aot",
                               "--data", "world:aot", "--lr", "1e-3", "--batch", s_batch, "--seed", s_seed,
                               "--eval-every", s_eval, "--eval-clips", a->quick ? "32" : "256", "--save-every", "0"};
        for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
            argv[k++] = fixed[i];
    }
    const char *rest[] = {"--steps", s_steps, "--threads", s_threads, "--out", dir, "--log", log};
    for (size_t i = 0; i < sizeof rest / sizeof *rest; i++)
        argv[k++] = rest[i];
    if (a->quiet)
        argv[k++] = "--quiet";
    argv[k] = NULL;
    if (run_self(argv) != 0) {
        fprintf(stderr, "vnative %s: training the %s encoder in %s failed (see above)%s\n", CMD, family, dir,
                resume ? "; it resumed a checkpoint there: another --out starts afresh" : "");
        return 1;
    }
    return 0;
}

static int load_model(const char *dir, vn_context *ctx, vn_encoder **enc)
{
    char path[FILE_CAP];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (vn_encoder_load(enc, ctx, path) != VN_OK) {
        fprintf(stderr, "vnative %s: %s\n", CMD, vn_last_error());
        return 1;
    }
    return 0;
}

static void print_table(const demo_model *models, int n, const demo_table *t, int have_real)
{
    printf("\nheld-out accuracy of a linear probe on frozen features (chance is 50%%)\n\n%-10s", "task");
    for (int m = 0; m < n; m++)
        printf(" %9s", models[m].name);
    printf("\n");
    for (int k = 0; k <= DEMO_N_TASKS; k++) {
        if (k == DEMO_N_TASKS && !have_real)
            break;
        printf("%-10s", k < DEMO_N_TASKS ? vn_world_task_name(demo_tasks[k]) : "real-aot");
        for (int m = 0; m < n; m++)
            if (isnan(t->linear[m][k]))
                printf(" %9s", "-");
            else
                printf(" %8.1f%%", 100 * t->linear[m][k]);
        printf("\n");
    }
    printf("%-10s", "future*");
    for (int m = 0; m < n; m++)
        isnan(t->future_hard[m]) ? printf(" %9s", "-") : printf(" %8.1f%%", 100 * t->future_hard[m]);
    printf("\n%-10s", "t-sign**");
    for (int m = 0; m < n; m++)
        isnan(t->tv_sign[m]) ? printf(" %9s", "-") : printf(" %8.1f%%", 100 * t->tv_sign[m]);
    printf("\n\n*  future: the true continuation scored above its own reversal (retrieval, frozen; a tie counts\n"
           "   half, so 50%% is blind to direction)\n"
           "** t-sign: forward or reversed from the sign of the projection on the aot time vector alone\n");
}

static void stage(const dargs *a, int i, const char *what, double t0)
{
    if (!a->quiet)
        fprintf(stderr, "\n[demo %d/4, %.0f s] %s\n", i, now_s() - t0, what);
}

/* The results file's "models" and "examples", around what the suite writes. */
static int write_results(const dargs *a, const demo_plan *p, const demo_model *models, int n, demo_table *tab,
                         const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "vnative %s: cannot write %s: %s\n", CMD, path, strerror(errno));
        return 1;
    }
    jw w;
    jw_init(&w, f);
    jw_object_begin(&w, NULL);
    jw_string(&w, "title", a->quick ? "vnative demo --quick" : "vnative demo");
    jw_array_begin(&w, "models");
    for (int i = 0; i < n; i++) {
        jw_object_begin(&w, NULL);
        jw_string(&w, "name", models[i].name);
        jw_string(&w, "family", models[i].family);
        jw_string(&w, "description", models[i].description);
        if (models[i].log)
            jw_string(&w, "log", models[i].log);
        jw_object_end(&w);
    }
    jw_array_end(&w);
    int rc = demo_probes(p, models, n, tab, &w);
    if (rc == 0)
        rc = demo_timevecs(p, models, n, tab, &w);
    if (rc == 0) {
        static const struct { const char *task; int index; } ex[] = {
            {"aot", 0}, {"aot", 1}, {"gravity", 0}, {"gravity", 1}, {"collision", 0}, {"future", 0}};
        jw_array_begin(&w, "examples");
        for (size_t i = 0; i < sizeof ex / sizeof *ex; i++) {
            int future = !strcmp(ex[i].task, "future");
            jw_object_begin(&w, NULL);
            jw_string(&w, "task", ex[i].task);
            jw_int(&w, "index", ex[i].index);
            jw_int(&w, "frames", future ? 2 * p->frames : p->frames);
            jw_int(&w, "size", 64);
            jw_int(&w, "world_seed", (int64_t)VN_CLI_PROBE_WORLD_SEED);
            jw_object_end(&w);
        }
        jw_array_end(&w);
        jw_object_end(&w);
        jw_finish(&w);
    }
    if (fclose(f) != 0 && rc == 0) {
        fprintf(stderr, "vnative %s: cannot write %s: %s\n", CMD, path, strerror(errno));
        rc = 1;
    }
    if (!p->quiet && isatty(STDERR_FILENO))
        fprintf(stderr, "\r%60s\r", "");
    return rc;
}

static int suite_and_report(const dargs *a, const char *vdir, const char *fdir, double t0)
{
    char vlog[FILE_CAP], flog[FILE_CAP], results[FILE_CAP];
    snprintf(vlog, sizeof vlog, "%s/log.jsonl", vdir);
    snprintf(flog, sizeof flog, "%s/log.jsonl", fdir);
    snprintf(results, sizeof results, "%s/results.json", a->out);
    vn_context_options co = VN_CONTEXT_OPTIONS_INIT;
    co.n_threads = (int)a->threads;
    co.deterministic = 1;
    vn_context *ctx = NULL;
    vn_encoder *video = NULL, *frames = NULL, *random = NULL;
    vn_encoder_config cfg;
    int rc = 1;
    if (vn_context_create(&ctx, &co) != VN_OK || vn_encoder_config_preset(&cfg, "xs", VN_ENCODER_VIDEO) != VN_OK) {
        fprintf(stderr, "vnative %s: %s\n", CMD, vn_last_error());
        goto done;
    }
    cfg.pos = VN_POS_SINCOS;
    cfg.seed = (uint64_t)a->seed + 1; /* not the trained one's starting point */
    if (load_model(vdir, ctx, &video) || load_model(fdir, ctx, &frames) ||
        vn_encoder_create(&random, ctx, &cfg) != VN_OK) {
        if (random == NULL && video && frames)
            fprintf(stderr, "vnative %s: %s\n", CMD, vn_last_error());
        goto done;
    }
    char vdesc[128], fdesc[128];
    snprintf(vdesc, sizeof vdesc, "xs video encoder, arrow of time, %lld steps", (long long)a->steps);
    snprintf(fdesc, sizeof fdesc, "xs frames encoder (bag of images), the same recipe and steps");
    demo_model models[4] = {
        {"video", "video", vdesc, vlog, video},
        {"frames", "frames", fdesc, flog, frames},
        {"random", "video", "xs video encoder with random weights (the floor)", NULL, random},
        {"pixels", "pixels", "linear probe on raw frame differences, 8 x 8 gray", NULL, NULL},
    };
    /* --quick: a few windows of each real video, so that it stays a smoke test */
    vn_window_options win = VN_WINDOW_OPTIONS_INIT;
    if (a->quick) {
        win.window_stride = 16;
        win.max_windows = 3;
    }
    demo_plan p = {a->quick ? 64 : 1000, a->quick ? 64 : 1000, a->quick ? 16 : 300, a->quick ? 16 : 300,
                   a->quick ? 32 : 512, a->real, &win, cfg.frames, cfg.size, (int)a->threads, (uint64_t)a->seed,
                   a->quiet};
    demo_table tab;
    for (int m = 0; m < 8; m++) {
        for (int k = 0; k <= DEMO_N_TASKS; k++)
            tab.linear[m][k] = NAN;
        tab.future_hard[m] = tab.tv_sign[m] = NAN;
    }
    stage(a, 3, "the probe suite: 4 models x (6 world tasks, future retrieval, real footage, time vectors)", t0);
    if (write_results(a, &p, models, 4, &tab, results) != 0)
        goto done;
    print_table(models, 4, &tab, a->real != NULL);
    stage(a, 4, "the report", t0);
    const char *argv[] = {NULL, "report", "--results", results, "--out", a->out, NULL};
    if (run_self(argv) != 0)
        goto done;
    rc = 0;
done:
    vn_encoder_destroy(video);
    vn_encoder_destroy(frames);
    vn_encoder_destroy(random);
    vn_context_destroy(ctx);
    return rc;
}

int vn_cmd_demo(int argc, char **argv)
{
    dargs a = {0};
    int pr = vn_cli_parse_flags(CMD, flags, N_FLAGS, &a, argc, argv, NULL);
    if (pr == 1) {
        usage(stdout);
        return 0;
    }
    if (pr != 0)
        return pr;
    if (!a.out)
        a.out = a.quick ? "demo-quick" : "demo-out";
    if (!a.steps)
        a.steps = a.quick ? 60 : 2500;
    struct stat sb;
    if (a.no_real)
        a.real = NULL;
    else if (!a.real && stat(DEFAULT_REAL, &sb) == 0 && S_ISDIR(sb.st_mode))
        a.real = DEFAULT_REAL;
    if (strlen(a.out) > PATH_CAP - 16) {
        fprintf(stderr, "vnative %s: --out is longer than %d characters\n", CMD, PATH_CAP - 16);
        return 2;
    }
    if (vn_cli_mkdir_p(a.out) != 0) {
        fprintf(stderr, "vnative %s: cannot create %s: %s\n", CMD, a.out, strerror(errno));
        return 1;
    }
    char vdir[PATH_CAP], fdir[PATH_CAP];
    snprintf(vdir, sizeof vdir, "%s/video", a.out);
    snprintf(fdir, sizeof fdir, "%s/frames", a.out);
    double t0 = now_s();
    if (!a.quiet)
        fprintf(stderr, "vnative demo: %s; real footage: %s\n", a.quick ? "quick smoke test" : "the full run",
                a.real ? a.real : "none");
    stage(&a, 1, "training the video encoder on world:aot (arrow of time)", t0);
    if (train(&a, "video", vdir, a.steps) != 0)
        return 1;
    stage(&a, 2, "training the frames encoder (bag of images) on the same budget", t0);
    if (train(&a, "frames", fdir, a.steps) != 0)
        return 1;
    if (suite_and_report(&a, vdir, fdir, t0) != 0)
        return 1;
    printf("\nreport: %s/report.html (and report.md, report.json); %.0f s in all\n", a.out, now_s() - t0);
    return 0;
}
