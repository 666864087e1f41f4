/* `vnative train`: self-supervised training through the trainer of vnative/train.h, with
 * checkpoints, exact resume, Ctrl-C that keeps the work done, a progress bar and a log. */
#include "cli/cli_flags.h"
#include "cli/profile_table.h"
#include "cli/commands.h"
#include "cli/dist_mpi.h"
#include "cli/train_report.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vnative/vnative.h"

#define CMD "train"
/* The settings a resume must repeat, written by the first run so that --resume alone does. */
#define ARGS_FILE "train-args.txt"
#define PATH_CAP 4352

typedef struct targs {
    const char *model, *family, *attention, *pos, *objective, *data, *eval_data, *out, *log, *precision;
    int64_t steps, total_steps, batch, warmup, seed, threads, eval_every, eval_clips, save_every, num_classes;
    double lr, min_lr, weight_decay, grad_clip, dist_timeout;
    int resume, quiet, profile;
} targs;

#define FS(n, f) VN_FLAG_S(targs, n, f)
#define FI(n, f, lo, hi) VN_FLAG_I(targs, n, f, lo, hi)
#define FN(n, f, lo, hi) VN_FLAG_N(targs, n, f, lo, hi)
#define FB(n, f) VN_FLAG_B(targs, n, f)
#define BIG ((int64_t)1 << 40)

static const vn_cli_flag flags[] = {
    FS("--model", model), FS("--family", family), FS("--attention", attention), FS("--pos", pos),
    FS("--objective", objective), FS("--precision", precision),
    FS("--data", data), FS("--eval-data", eval_data), FS("--out", out), FS("--log", log),
    FI("--steps", steps, 1, BIG), FI("--total-steps", total_steps, 1, BIG), FI("--batch", batch, 2, 1 << 16),
    FI("--warmup", warmup, 0, BIG), FI("--seed", seed, 0, INT64_MAX), FI("--threads", threads, 0, 1024),
    FI("--eval-every", eval_every, 0, BIG), FI("--eval-clips", eval_clips, 1, 1 << 24),
    FI("--save-every", save_every, 0, BIG), FI("--num-classes", num_classes, 0, 1 << 20),
    FN("--lr", lr, 1e-12, 10.0), FN("--min-lr", min_lr, 0.0, 10.0), FN("--weight-decay", weight_decay, 0.0, 10.0),
    FN("--grad-clip", grad_clip, 0.0, 1e6), FN("--dist-timeout", dist_timeout, 1.0, 1e6), FB("--resume", resume),
    FB("--quiet", quiet), FB("--profile", profile),
};
#define N_FLAGS (int)(sizeof flags / sizeof flags[0])

static void usage(FILE *f, const targs *d)
{
    fprintf(f,
            "usage: vnative train --out DIR [options]\n\n"
            "Trains an encoder with self-supervised objectives and writes checkpoints to DIR\n"
            "(model.safetensors, which vn_encoder_load reads, and trainer.safetensors).\n\n"
            "  --model xs|s|FILE   a preset, or a model.safetensors whose config is used with\n"
            "                      fresh weights (default %s)\n"
            "  --family F          video, frames or frames+temporal (default video)\n"
            "  --attention A       joint or divided (video family; default the model's)\n"
            "  --pos P             learned or sincos positional embedding (default the model's)\n"
            "  --precision P       fp32, tf32 or bf16 matrix products (fp32 accumulation); bf16 runs\n"
            "                      on cuda and on CPUs with AVX512-BF16/AMX, tf32 on cuda (default fp32)\n"
            "  --objective SPEC    weighted objectives, e.g. aot=1,future=0.5,jepa=1; names are\n"
            "                      aot, order, future, jepa, label (default %s)\n"
            "  --data SRC          world:TASK[,TASK...], a CSV manifest or a directory of\n"
            "                      videos (default %s)\n"
            "  --eval-data SRC     held-out data (default: world data from another seed; none\n"
            "                      for files)\n"
            "  --steps N           train until step N (default %lld)\n"
            "  --total-steps N     length of the learning-rate schedule (default: --steps)\n"
            "  --batch B           clips per step (default %lld)\n"
            "  --lr X              peak learning rate (default %g)\n"
            "  --min-lr X          floor of the cosine decay (default %g)\n"
            "  --warmup N          linear warmup steps (default 5%% of --total-steps)\n"
            "  --weight-decay X    AdamW weight decay (default %g)\n"
            "  --grad-clip X       global gradient-norm clip, 0 = off (default %g)\n"
            "  --seed N            initial weights, data order and every random choice (default %lld)\n"
            "  --threads N         compute threads (default: every core)\n"
            "  --eval-every N      held-out evaluation every N steps, and at the end;\n"
            "                      0 = never (default %lld)\n"
            "  --eval-clips N      clips per evaluation (default %lld)\n"
            "  --save-every N      checkpoint every N steps; 0 = only at the end (default %lld)\n"
            "  --num-classes K     classes of the label objective (default: from the data)\n"
            "  --out DIR           checkpoint directory (required)\n"
            "  --resume            continue DIR's checkpoint: --steps is then the step to reach,\n"
            "                      and settings not given are those DIR/" ARGS_FILE " recorded\n"
            "  --log F.jsonl       one JSON object per step and per evaluation (appended to on\n"
            "                      --resume)\n"
            "  --quiet             no progress on stderr\n"
            "  --profile           at the end, where the steps' time went, op by op (vnative bench --profile)\n"
            "  --dist-timeout S    under mpirun: give up when the other ranks do not answer an\n"
            "                      all-reduce within S seconds (default 300)\n\n"
            "Runs repeat exactly: a resumed run ends with the same weights as an uninterrupted\n"
            "one (cpu backend). Ctrl-C (or SIGTERM) stops after the current step and writes a\n"
            "checkpoint; a second Ctrl-C exits at once.\n",
            d->model, d->objective, d->data, (long long)d->steps, (long long)d->batch, d->lr, d->min_lr,
            d->weight_decay, d->grad_clip, (long long)d->seed, (long long)d->eval_every, (long long)d->eval_clips,
            (long long)d->save_every);
}

static int find_flag(const char *name)
{
    return vn_cli_find_flag(flags, N_FLAGS, name);
}

/* Fill the flags not given on the command line from the first run's record. A checkpoint
 * without one (written through the API) is resumed with the command line alone. */
static int merge_recorded(targs *a, const unsigned char *given, char **owned)
{
    char path[PATH_CAP], line[PATH_CAP], where[PATH_CAP + 32];
    snprintf(path, sizeof path, "%s/%s", a->out, ARGS_FILE);
    FILE *f = fopen(path, "r");
    if (!f && errno == ENOENT)
        return 0;
    if (!f) {
        fprintf(stderr, "vnative %s: cannot read %s: %s\n", CMD, path, strerror(errno));
        return -1;
    }
    int rc = 0;
    for (int n = 1; rc == 0 && fgets(line, sizeof line, f); n++) {
        line[strcspn(line, "\r\n")] = 0;
        if (!line[0] || line[0] == '#')
            continue;
        char *sp = strchr(line, ' ');
        int k = sp ? (*sp = 0, find_flag(line)) : -1;
        snprintf(where, sizeof where, "%s line %d: ", path, n);
        if (k < 0 || flags[k].kind == VN_FLAG_BOOL) {
            fprintf(stderr, "vnative %s: %snot a recorded setting: '%s'\n", CMD, where, line);
            rc = -1;
        } else if (!given[k]) {
            free(owned[k]);
            owned[k] = strdup(sp + 1);
            rc = owned[k] ? vn_cli_set_flag(CMD, &flags[k], a, owned[k], where) : -1;
        }
    }
    fclose(f);
    return rc;
}

/* Written with a temp file and a rename, so a crash never leaves half a record. */
static int write_recorded(const targs *a, const vn_encoder_config *cfg)
{
    char path[PATH_CAP], tmp[PATH_CAP + 8];
    snprintf(path, sizeof path, "%s/%s", a->out, ARGS_FILE);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    const char *strs[] = {a->model, a->objective, a->data, a->eval_data};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        if (strs[i] && strpbrk(strs[i], "\r\n")) {
            fprintf(stderr, "vnative %s: '%s' has a line break, which %s cannot record\n", CMD, strs[i], ARGS_FILE);
            return -1;
        }
    FILE *f = fopen(tmp, "w");
    if (!f) {
        fprintf(stderr, "vnative %s: cannot write %s: %s\n", CMD, tmp, strerror(errno));
        return -1;
    }
    fprintf(f, "# vnative train: the settings of this run; --resume reads them, flags given override them\n");
    fprintf(f, "--model %s\n--family %s\n", a->model, vn_encoder_family_name(cfg->family));
    if (cfg->family == VN_ENCODER_VIDEO)
        fprintf(f, "--attention %s\n", cfg->attention == VN_ATTENTION_DIVIDED ? "divided" : "joint");
    fprintf(f, "--pos %s\n", cfg->pos == VN_POS_SINCOS ? "sincos" : "learned");
    fprintf(f, "--objective %s\n--data %s\n", a->objective, a->data);
    if (a->eval_data)
        fprintf(f, "--eval-data %s\n", a->eval_data);
    fprintf(f, "--steps %lld\n--total-steps %lld\n--batch %lld\n", (long long)a->steps, (long long)a->total_steps,
            (long long)a->batch);
    if (a->warmup >= 0)
        fprintf(f, "--warmup %lld\n", (long long)a->warmup);
    /* %.17g: the doubles, hence the floats made from them, come back bit for bit */
    fprintf(f, "--lr %.17g\n--min-lr %.17g\n--weight-decay %.17g\n--grad-clip %.17g\n", a->lr, a->min_lr,
            a->weight_decay, a->grad_clip);
    fprintf(f, "--seed %lld\n--num-classes %lld\n--eval-every %lld\n--eval-clips %lld\n--save-every %lld\n",
            (long long)a->seed, (long long)a->num_classes, (long long)a->eval_every, (long long)a->eval_clips,
            (long long)a->save_every);
    int bad = fflush(f) != 0 || ferror(f);
    int e = errno;
    if (fclose(f) != 0 && !bad)
        bad = 1, e = errno;
    if (!bad && rename(tmp, path) != 0)
        bad = 1, e = errno;
    if (bad) {
        remove(tmp);
        fprintf(stderr, "vnative %s: cannot write %s: %s\n", CMD, path, strerror(e));
        return -1;
    }
    return 0;
}

/* World tasks are named now and files must exist, so that a typo costs no model building.
 * Paths become absolute (*canon, owned by the caller): the trainer's checkpoint remembers the
 * data's name, and a resume from another directory must give the same one. */
static int check_source(const char *flag, const char **specp, char **canon)
{
    const char *spec = *specp;
    if (!strncmp(spec, "world:", 6)) {
        char tasks[256];
        snprintf(tasks, sizeof tasks, "%s", spec + 6);
        if (!tasks[0]) {
            fprintf(stderr, "vnative %s: %s '%s' names no world task\n", CMD, flag, spec);
            return -1;
        }
        for (char *t = strtok(tasks, ","); t; t = strtok(NULL, ",")) {
            vn_world_task task;
            if (vn_world_task_from_name(t, &task) != VN_OK) {
                fprintf(stderr, "vnative %s: %s: %s\n", CMD, flag, vn_last_error());
                return -1;
            }
        }
        return 0;
    }
    if (access(spec, R_OK) != 0 || !(*canon = realpath(spec, NULL))) {
        fprintf(stderr, "vnative %s: %s: cannot read '%s': %s\n", CMD, flag, spec, strerror(errno));
        return -1;
    }
    *specp = *canon;
    return 0;
}

static int build_config(const targs *a, vn_encoder_config *cfg)
{
    return vn_cli_model_config(CMD, a->model, a->family, a->attention, a->pos, (uint64_t)a->seed, cfg);
}

/* The signal that asked us to stop, or 0. The handler does nothing else: the training loop
 * polls it between steps, where stopping and saving are safe. */
static volatile sig_atomic_t stop_signal = 0;

static void on_signal(int sig)
{
    stop_signal = sig;
}

static void install_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    /* SA_RESTART: the library's reads must not see EINTR. SA_RESETHAND: a second Ctrl-C
     * kills at once, which is safe because checkpoints are replaced atomically. */
    sa.sa_flags = SA_RESTART | SA_RESETHAND;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

typedef struct run {
    vn_trainer *tr;
    int writer; /* rank 0 (or a single process): the one that writes checkpoints and logs */
    const char *out, *log_path;
    FILE *log;
    int64_t save_every, saved_step, eval_every;
    train_report rep;
    int failed;
    int no_heldout; /* file data without --eval-data */
    char err[1024];
} run;

static int save(run *r, int64_t step)
{
    if (r->writer && vn_trainer_save(r->tr, r->out) != VN_OK) {
        snprintf(r->err, sizeof r->err, "%s", vn_last_error());
        r->failed = 1;
        return -1;
    }
    r->saved_step = step;
    return 0;
}

static int on_metrics(const vn_train_metrics *m, void *user)
{
    run *r = user;
    if (r->log && train_log_line(r->log, m) != 0) {
        snprintf(r->err, sizeof r->err, "writing %s: %s", r->log_path, strerror(errno));
        r->failed = 1;
        return 1;
    }
    train_report_metrics(&r->rep, m);
    /* on a signal the final checkpoint follows at once, so no periodic one first */
    if (!m->is_eval && r->save_every > 0 && m->step % r->save_every == 0 && !stop_signal)
        save(r, m->step);
    return stop_signal != 0 || r->failed;
}

static void summary(const run *r, int64_t step, int64_t target, int64_t start, double wall)
{
    if (start >= target)
        printf("at step %lld already (--steps %lld): nothing to do\n", (long long)step, (long long)target);
    else
        printf("%s step %lld of %lld (%lld step%s in this run, %.1f s)\n", stop_signal ? "stopped at" : "reached",
               (long long)step, (long long)target, (long long)(step - start), step - start == 1 ? "" : "s", wall);
    if (r->rep.have_eval) {
        char losses[256], acc[160];
        train_format_losses(losses, sizeof losses, &r->rep.last_eval);
        train_format_accuracy(acc, sizeof acc, &r->rep.last_eval);
        printf("held-out at step %lld: %s%s%s\n", (long long)r->rep.last_eval.step, losses,
               acc[0] ? ", accuracy " : "", acc);
    } else {
        printf("held-out: %s\n", r->no_heldout        ? "none (file data needs --eval-data for held-out clips)"
                                  : r->eval_every == 0 ? "none (--eval-every 0)"
                                                       : "no evaluation in this run");
    }
    if (r->saved_step > 0)
        printf("checkpoint: %s/model.safetensors, %s/trainer.safetensors (step %lld)\n", r->out, r->out,
               (long long)r->saved_step);
    else
        printf("checkpoint: none written\n");
}

/* Everything after the flags are settled: build, resume, train, save. */
static int train(targs *a, const vn_encoder_config *cfg)
{
    int rc = 1;
    vn_context *ctx = NULL;
    run r;
    memset(&r, 0, sizeof r);
    vn_cli_dist dist;
    char dmsg[512];
    if (vn_cli_dist_init(&dist, a->dist_timeout, dmsg, sizeof dmsg) != 0)
        return vn_cli_fail(CMD, dmsg);
    r.writer = dist.rank == 0;
    r.out = a->out;
    r.log_path = a->log;
    r.save_every = a->save_every;
    r.eval_every = a->eval_every;

    vn_context_options co = VN_CONTEXT_OPTIONS_INIT;
    co.n_threads = (int)a->threads;
    co.seed = (uint64_t)a->seed;
    co.deterministic = 1;
    /* ranks on one host take its GPUs in turn (NCCL needs one GPU per rank) */
    int n_gpus = 0;
    if (dist.size > 1 && vn_device_count(VN_BACKEND_CUDA, &n_gpus) == VN_OK && n_gpus > 1)
        co.device = vn_cli_dist_local_rank() % n_gpus;
    vn_train_options o;
    vn_train_options_init(&o, VN_TRAIN_OPTIONS_VERSION);
    o.objectives = a->objective;
    o.data = a->data;
    o.eval_data = a->eval_data;
    o.batch = (int)a->batch;
    o.total_steps = a->total_steps;
    o.lr = (float)a->lr;
    o.min_lr = (float)a->min_lr;
    o.warmup_steps = a->warmup;
    o.weight_decay = (float)a->weight_decay;
    o.grad_clip = (float)a->grad_clip;
    o.seed = (uint64_t)a->seed;
    o.num_classes = (int)a->num_classes;
    o.eval_every = a->eval_every;
    o.eval_clips = (int)a->eval_clips;
    o.callback = on_metrics;
    o.callback_user = &r;

    int64_t start = 0, step = 0;
    vn_status st = vn_context_create(&ctx, &co);
    if (st == VN_OK)
        st = vn_trainer_create(&r.tr, ctx, cfg, &o);
    vn_precision prec = VN_PRECISION_FP32;
    if (st == VN_OK && a->precision && (st = vn_precision_from_name(a->precision, &prec)) == VN_OK)
        st = vn_trainer_set_precision(r.tr, prec);
    unsigned char comm_id[256];
    size_t comm_len = 0;
    if (st == VN_OK && dist.size > 1) {
        if (vn_cli_dist_comm_id(&dist, ctx, comm_id, sizeof comm_id, &comm_len, dmsg, sizeof dmsg) != 0) {
            rc = vn_cli_fail(CMD, dmsg);
            goto done;
        }
        vn_train_dist hook = vn_cli_dist_hook(&dist);
        hook.comm_id = comm_len ? comm_id : NULL;
        hook.comm_id_len = comm_len;
        st = vn_trainer_set_dist(r.tr, &hook);
    }
    if (st != VN_OK) {
        rc = vn_cli_fail(CMD, vn_last_error());
        goto done;
    }
    if (a->resume && (st = vn_trainer_resume(r.tr, a->out)) != VN_OK) {
        rc = vn_cli_fail(CMD, vn_last_error());
        if (st == VN_ERR_INVALID_ARG)
            fprintf(stderr, "vnative %s: a resume repeats the first run's settings (%s/%s); a new --out starts "
                            "a run with other ones\n", CMD, a->out, ARGS_FILE);
        goto done;
    }
    vn_trainer_get_step(r.tr, &start);
    r.saved_step = start;
    if (r.writer && !a->resume && write_recorded(a, cfg) != 0)
        goto done;
    if (a->log && r.writer) {
        if (a->resume && train_log_trim(a->log, start) != 0) {
            fprintf(stderr, "vnative %s: cannot rewrite %s: %s\n", CMD, a->log, strerror(errno));
            goto done;
        }
        r.log = fopen(a->log, a->resume ? "a" : "w");
        if (!r.log) {
            fprintf(stderr, "vnative %s: cannot write %s: %s\n", CMD, a->log, strerror(errno));
            goto done;
        }
    }
    if (a->steps > a->total_steps && start < a->steps && !a->quiet)
        fprintf(stderr, "vnative %s: the schedule ends at step %lld (--total-steps); the steps after it use --min-lr\n",
                CMD, (long long)a->total_steps);

    r.rep.tty = isatty(STDERR_FILENO);
    r.rep.quiet = a->quiet || !r.writer;
    r.rep.target = a->steps;
    r.rep.start_step = start;
    r.rep.every = a->steps / 20 > 1 ? a->steps / 20 : 1;
    r.rep.t0 = train_now_s();
    if (a->profile)
        vn_context_set_profiling(ctx, 1);
    if (start < a->steps && !stop_signal) {
        vn_train_metrics last = VN_TRAIN_METRICS_INIT;
        st = vn_trainer_run(r.tr, a->steps - start, &last);
    }
    if (a->profile)
        vn_context_set_profiling(ctx, 0);
    train_report_break(&r.rep);
    if (st != VN_OK || r.failed) {
        rc = vn_cli_fail(CMD, st != VN_OK ? vn_last_error() : r.err);
        goto done;
    }
    vn_trainer_get_step(r.tr, &step);
    /* the summary should describe the final weights, not those of the last multiple of N */
    if (!stop_signal && a->eval_every > 0 && step > start && (!r.rep.have_eval || r.rep.last_eval.step != step)) {
        vn_train_metrics e = VN_TRAIN_METRICS_INIT;
        st = vn_trainer_evaluate(r.tr, &e);
        if (st == VN_OK)
            on_metrics(&e, &r);
        else if (st == VN_ERR_STATE) /* file data without held-out data */
            r.no_heldout = 1;
        else {
            rc = vn_cli_fail(CMD, vn_last_error());
            goto done;
        }
        train_report_break(&r.rep);
    }
    if (step != r.saved_step && save(&r, step) != 0) {
        rc = vn_cli_fail(CMD, r.err);
        goto done;
    }
    if (r.failed) {
        rc = vn_cli_fail(CMD, r.err);
        goto done;
    }
    if (dist.size > 1) {
        const vn_encoder *enc = NULL;
        vn_trainer_get_encoder(r.tr, &enc);
        int same = vn_cli_dist_same_weights(&dist, enc, dmsg, sizeof dmsg);
        if (same < 0 || !same) {
            rc = vn_cli_fail(CMD, same < 0 ? dmsg : "the ranks hold different weights after training");
            goto done;
        }
        if (r.writer && step > start)
            printf("data parallel: %d ranks, global batch %lld, the ranks' weights are identical; gradients "
                   "all-reduced %s; host all-reduce %.1f ms per step (rank 0, waiting for the slower rank "
                   "included)\n",
                   dist.size, (long long)(dist.size * a->batch), comm_len ? "on the device (NCCL)" : "through MPI",
                   1e3 * dist.reduce_s / (double)(step - start));
    }
    if (!r.writer)
        goto finished;
    summary(&r, step, a->steps, start, train_now_s() - r.rep.t0);
    if (a->profile && step > start)
        vn_cli_print_context_profile(ctx, "training step", "profile", step - start, 0.0, 0);
finished:
    fflush(stdout);
    rc = 0;
    if (stop_signal && r.writer) {
        const char *signame = stop_signal == SIGINT ? "SIGINT" : "SIGTERM";
        if (step > 0 && r.saved_step == step)
            fprintf(stderr, "vnative %s: stopped by %s at step %lld; checkpoint in %s (continue with --resume)\n",
                    CMD, signame, (long long)step, a->out);
        else
            fprintf(stderr, "vnative %s: stopped by %s before the first step; no checkpoint written\n", CMD, signame);
        rc = 128 + stop_signal;
    }
done:
    if (r.log && fclose(r.log) != 0 && rc == 0)
        rc = vn_cli_fail(CMD, "closing the log failed");
    vn_trainer_destroy(r.tr);
    vn_context_destroy(ctx);
    vn_cli_dist_end(&dist, rc);
    return rc;
}

int vn_cmd_train(int argc, char **argv)
{
    vn_train_options def;
    vn_train_options_init(&def, VN_TRAIN_OPTIONS_VERSION);
    targs a = {0};
    a.model = "xs";
    a.objective = "aot";
    a.data = "world:aot";
    a.steps = 1000;
    a.batch = def.batch;
    a.warmup = -1;
    a.eval_every = 100;
    a.eval_clips = def.eval_clips;
    a.save_every = 500;
    a.lr = def.lr;
    a.min_lr = def.min_lr;
    a.weight_decay = def.weight_decay;
    a.grad_clip = def.grad_clip;
    a.dist_timeout = 300.0;
    unsigned char given[N_FLAGS] = {0};
    int pr = vn_cli_parse_flags(CMD, flags, N_FLAGS, &a, argc, argv, given);
    if (pr == 1) {
        usage(stdout, &a);
        return 0;
    }
    if (pr != 0)
        return pr;
    if (!a.out) {
        fprintf(stderr, "vnative %s: --out DIR is required (where the checkpoints go)\n", CMD);
        return 2;
    }

    char state[PATH_CAP];
    snprintf(state, sizeof state, "%s/trainer.safetensors", a.out);
    if (a.resume && access(state, F_OK) != 0) {
        fprintf(stderr, "vnative %s: --resume: no checkpoint at %s: %s\n", CMD, state, strerror(errno));
        return 1;
    }
    if (!a.resume && access(state, F_OK) == 0) {
        fprintf(stderr, "vnative %s: %s holds a checkpoint already; --resume continues it, or choose another --out\n",
                CMD, a.out);
        return 2;
    }
    char *owned[N_FLAGS] = {0}, *canon[3] = {0};
    int rc = 2;
    vn_encoder_config cfg;
    float weights[VN_OBJECTIVE_COUNT];
    if (a.resume && merge_recorded(&a, given, owned) != 0) {
        rc = 1;
        goto done;
    }
    if (!given[find_flag("--total-steps")] && !(a.resume && owned[find_flag("--total-steps")]))
        a.total_steps = a.steps;
    if (vn_objectives_parse(a.objective, weights) != VN_OK) {
        fprintf(stderr, "vnative %s: --objective: %s\n", CMD, vn_last_error());
        goto done;
    }
    if (check_source("--data", &a.data, &canon[0]) != 0 ||
        (a.eval_data && check_source("--eval-data", &a.eval_data, &canon[1]) != 0) || build_config(&a, &cfg) != 0)
        goto done;
    if (!vn_cli_model_is_preset(a.model) && (canon[2] = realpath(a.model, NULL)))
        a.model = canon[2];
    if (!a.resume && vn_cli_mkdir_p(a.out) != 0) {
        fprintf(stderr, "vnative %s: cannot create directory %s: %s\n", CMD, a.out, strerror(errno));
        rc = 1;
        goto done;
    }
    install_handlers();
    rc = train(&a, &cfg);
done:
    for (int k = 0; k < N_FLAGS; k++)
        free(owned[k]);
    for (int k = 0; k < 3; k++)
        free(canon[k]);
    return rc;
}
