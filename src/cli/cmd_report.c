/* `vnative report`: a results file (and training logs) into report.json, report.md and one
 * self-contained report.html with SVG plots and contact sheets of example clips. */
#include "cli/cli_flags.h"
#include "cli/commands.h"
#include "cli/report.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vnative/vnative.h"

#define CMD RP_CMD
#define PATH_CAP 4096

typedef struct rargs {
    const char *results, *out, *title;
} rargs;

static const vn_cli_flag flags[] = {
    VN_FLAG_S(rargs, "--results", results),
    VN_FLAG_S(rargs, "--out", out),
    VN_FLAG_S(rargs, "--title", title),
};
#define N_FLAGS (int)(sizeof flags / sizeof flags[0])

static void usage(FILE *f)
{
    fprintf(f, "usage: vnative report --results FILE --out DIR [--title T] [--logs NAME=FILE.jsonl ...]\n\n"
               "Writes DIR/report.json (the results, normalised, with what was derived), DIR/report.md (the\n"
               "tables) and DIR/report.html: one self-contained page with the probes' accuracy, the\n"
               "training curves, the time-vector projections, the projection along a video, contact\n"
               "sheets of example clips and the tables. docs/REPORT.md describes the results file.\n\n"
               "  --results FILE       the results JSON (as `vnative demo` writes it)\n"
               "  --out DIR            where the report goes (created if missing)\n"
               "  --title T            the report's title (default: the results' \"title\")\n"
               "  --logs NAME=FILE     the training log (JSON lines of `vnative train`) of model NAME;\n"
               "                       repeatable; replaces the model's \"log\"\n\n"
               "A model's \"log\" that is a relative path is looked for next to the results file, then\n"
               "from the current directory.\n");
}

typedef struct log_flag {
    char *name;
    const char *path;
} log_flag;

/* Take the --logs pairs out of argv (the flag table holds one value per flag); the rest goes
 * to the shared parser. Returns 0, or 2 after saying what is wrong. */
static int split_logs(int argc, char **argv, char **rest, int *n_rest, log_flag *logs, int *n_logs)
{
    *n_rest = *n_logs = 0;
    for (int i = 0; i < argc; i++) {
        if (i == 0 || strcmp(argv[i], "--logs")) {
            rest[(*n_rest)++] = argv[i];
            continue;
        }
        const char *v = i + 1 < argc ? argv[++i] : NULL, *eq = v ? strchr(v, '=') : NULL;
        if (!v || !eq || eq == v || !eq[1]) {
            fprintf(stderr, "vnative %s: --logs needs NAME=FILE, got '%s'\n", CMD, v ? v : "");
            return 2;
        }
        log_flag *l = &logs[(*n_logs)++];
        l->path = eq + 1;
        if (!(l->name = strndup(v, (size_t)(eq - v)))) {
            fprintf(stderr, "vnative %s: out of memory\n", CMD);
            return 2;
        }
    }
    return 0;
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* A relative log path: next to the results file first (where `vnative demo` writes it), else
 * from the current directory. */
static void resolve_log(const char *results, const char *log, char *out, size_t cap)
{
    const char *slash = strrchr(results, '/');
    if (log[0] != '/' && slash) {
        snprintf(out, cap, "%.*s/%s", (int)(slash - results), results, log);
        if (exists(out))
            return;
    }
    snprintf(out, cap, "%s", log);
}

static int load_logs(rp_results *r, const log_flag *logs, int n_logs)
{
    for (int i = 0; i < n_logs; i++) {
        int m = rp_find_model(r, logs[i].name);
        if (m < 0) {
            fprintf(stderr, "vnative %s: --logs %s=...: %s has no model named '%s'\n", CMD, logs[i].name, r->path,
                    logs[i].name);
            return 2;
        }
        r->models[m].log_path = logs[i].path;
    }
    for (size_t m = 0; m < r->n_models; m++) {
        char path[PATH_CAP];
        if (!r->models[m].log_path)
            continue;
        resolve_log(r->path, r->models[m].log_path, path, sizeof path);
        if (!(r->models[m].log = rp_log_load(path, r->models[m].name)))
            return 1;
    }
    return 0;
}

/* Each file is written beside its final name and renamed into place, so that a viewer
 * never sees half a report, and a failed run leaves the last good one. */
static int write_one(const rp_results *r, const char *dir, const char *name,
                     int (*writer)(const rp_results *, const char *))
{
    char path[PATH_CAP], tmp[PATH_CAP + 8];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (writer(r, tmp) != 0) {
        remove(tmp);
        return -1;
    }
    if (rename(tmp, path) != 0) {
        fprintf(stderr, "vnative %s: %s: %s\n", CMD, path, strerror(errno));
        remove(tmp);
        return -1;
    }
    return 0;
}

int vn_cmd_report(int argc, char **argv)
{
    rargs a = {0};
    char **rest = malloc((size_t)(argc > 0 ? argc : 1) * sizeof *rest);
    log_flag *logs = calloc((size_t)(argc > 0 ? argc : 1), sizeof *logs);
    int n_rest = 0, n_logs = 0, rc = 2;
    rp_results r = {0};
    if (!rest || !logs) {
        fprintf(stderr, "vnative %s: out of memory\n", CMD);
        goto done;
    }
    if (split_logs(argc, argv, rest, &n_rest, logs, &n_logs) != 0)
        goto done;
    rc = vn_cli_parse_flags(CMD, flags, N_FLAGS, &a, n_rest, rest, NULL);
    if (rc == 1) {
        usage(stdout);
        rc = 0;
        goto done;
    }
    if (rc)
        goto done;
    if (!a.results || !a.out) {
        fprintf(stderr, "vnative %s: %s is required (see vnative %s --help)\n", CMD, a.results ? "--out" : "--results",
                CMD);
        rc = 2;
        goto done;
    }
    rc = 1;
    if (rp_load(&r, a.results) != 0)
        goto done;
    if (a.title)
        r.title = a.title;
    else if (!r.title || !*r.title)
        r.title = "vnative report";
    if ((rc = load_logs(&r, logs, n_logs)) != 0)
        goto done;
    rc = 1;
    if (vn_cli_mkdir_p(a.out) != 0) {
        fprintf(stderr, "vnative %s: cannot create the directory %s: %s\n", CMD, a.out, strerror(errno));
        goto done;
    }
    if (write_one(&r, a.out, "report.json", rp_write_json) || write_one(&r, a.out, "report.md", rp_write_md) ||
        write_one(&r, a.out, "report.html", rp_write_html))
        goto done;
    printf("vnative %s: wrote %s/report.html, report.md and report.json (%zu models, %zu probes, %zu time "
           "vectors, %zu examples)\n",
           CMD, a.out, r.n_models, r.n_probes, r.n_tvs, r.n_examples);
    rc = 0;
done:
    rp_free(&r);
    for (int i = 0; logs && i < n_logs; i++)
        free(logs[i].name);
    free(logs);
    free(rest);
    return rc;
}
