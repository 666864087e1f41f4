/* `vnative probe --real`: which videos a folder or manifest names, and the real-footage
 * arrow-of-time probe on them. The CLI only calls the public API, so the library's own
 * manifest reader is out of reach; this one reads the same CSV layout, plus the TSV with
 * a "file" column that /work/shared/data/real and similar collections come with. */
#include "cli/probe_real.h"
#include "cli/video_files.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define MAX_FIELDS 64

typedef struct list {
    char **v;
    int n, cap;
} list;

/* Takes ownership of s. */
static int push(list *l, char *s)
{
    if (!s)
        return -1;
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 32;
        char **v = realloc(l->v, (size_t)cap * sizeof *v);
        if (!v) {
            free(s);
            return -1;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = s;
    return 0;
}

void vn_cli_free_videos(char **paths, int n)
{
    for (int i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
}

static int list_dir(const char *cmd, const char *dir, list *l)
{
    int64_t n;
    if (vn_cli_list_video_dir(cmd, "--real", dir, &l->v, &n) != 0)
        return 1;
    l->n = l->cap = (int)n;
    return 0;
}
/* Split line in place at delim; CSV fields may be "quoted" ("" for a quote). Returns
 * the field count, or -1 with *why set. */
static int split(char *line, char delim, char **f, const char **why)
{
    int n = 0;
    char *p = line;
    for (;;) {
        if (n == MAX_FIELDS) {
            *why = "more than 64 fields";
            return -1;
        }
        while (*p == ' ')
            p++;
        if (delim == ',' && *p == '"') {
            char *start = ++p, *w = p;
            for (;; p++) {
                if (!*p) {
                    *why = "a quoted field is not closed";
                    return -1;
                }
                if (*p == '"' && p[1] == '"')
                    *w++ = *p++;
                else if (*p == '"')
                    break;
                else
                    *w++ = *p;
            }
            *w = '\0';
            p = vn_cli_trim(p + 1);
            f[n++] = start;
            if (*p != delim && *p) {
                *why = "text after a closing quote";
                return -1;
            }
            if (!*p)
                return n;
            p++;
            continue;
        }
        char *end = strchr(p, delim);
        if (end)
            *end = '\0';
        f[n++] = vn_cli_trim(p);
        if (!end)
            return n;
        p = end + 1;
    }
}

static int list_manifest(const char *cmd, const char *path, list *l)
{
    FILE *fp = fopen(path, "r");
    if (!fp) {
        fprintf(stderr, "vnative %s: --real %s: %s\n", cmd, path, strerror(errno));
        return 1;
    }
    char *dir = strdup(path), *slash = dir ? strrchr(dir, '/') : NULL;
    if (dir) /* the manifest's directory: "" for the cwd, "/" for the root */
        *(slash ? (slash == dir ? slash + 1 : slash) : dir) = '\0';
    char *line = NULL, *f[MAX_FIELDS];
    size_t cap = 0;
    long lineno = 0;
    int col = -1, rc = dir ? 0 : 1;
    char delim = 0;
    while (!rc && getline(&line, &cap, fp) >= 0) {
        lineno++;
        line[strcspn(line, "\n")] = '\0';
        char *s = vn_cli_trim(line);
        if (!*s || *s == '#')
            continue;
        if (!delim)
            delim = strchr(s, '\t') ? '\t' : ',';
        const char *why = NULL;
        int n = split(s, delim, f, &why);
        if (n < 0) {
            fprintf(stderr, "vnative %s: --real %s, line %ld: %s\n", cmd, path, lineno, why);
            rc = 1;
            break;
        }
        if (col < 0) { /* the first row: a header names the column, else paths are first */
            col = 0;
            int header = 0;
            for (int i = 0; i < n && !header; i++)
                if (!strcasecmp(f[i], "path") || !strcasecmp(f[i], "file"))
                    col = i, header = 1;
            if (header)
                continue;
        }
        if (col >= n || !f[col][0]) {
            fprintf(stderr, "vnative %s: --real %s, line %ld: no path in column %d\n", cmd, path, lineno, col + 1);
            rc = 1;
        } else if (push(l, vn_cli_path_join(dir, f[col])) != 0) {
            fprintf(stderr, "vnative %s: out of memory reading %s\n", cmd, path);
            rc = 1;
        }
    }
    if (!rc && ferror(fp)) {
        fprintf(stderr, "vnative %s: --real %s: %s\n", cmd, path, strerror(errno));
        rc = 1;
    }
    free(line);
    free(dir);
    fclose(fp);
    return rc;
}

int vn_cli_list_videos(const char *cmd, const char *source, char ***paths, int *n)
{
    struct stat sb;
    list l = {NULL, 0, 0};
    if (stat(source, &sb) != 0) {
        fprintf(stderr, "vnative %s: --real %s: %s\n", cmd, source, strerror(errno));
        return 1;
    }
    int rc = S_ISDIR(sb.st_mode) ? list_dir(cmd, source, &l) : list_manifest(cmd, source, &l);
    if (!rc && l.n < 2) {
        fprintf(stderr, "vnative %s: --real %s names %d video%s; folds by source need at least 2\n", cmd, source,
                l.n, l.n == 1 ? "" : "s");
        rc = 1;
    }
    if (rc) {
        vn_cli_free_videos(l.v, l.n);
        return rc;
    }
    *paths = l.v;
    *n = l.n;
    return 0;
}

int vn_cli_real_aot(const char *cmd, const vn_encoder *enc, const char *source, const vn_window_options *win,
                    int folds, uint64_t seed, int quiet, vn_cli_real_result *res)
{
    char **paths = NULL;
    int n = 0;
    if (vn_cli_list_videos(cmd, source, &paths, &n) != 0)
        return 1;
    memset(res, 0, sizeof *res);
    res->videos = n;
    int rc = 1;
    /* Counted here, before the probe embeds them, for the progress line and the JSON. */
    for (int i = 0; i < n; i++) {
        int64_t w = 0;
        if (!quiet)
            fprintf(stderr, "\rvnative %s: real-aot   counting windows %d/%d", cmd, i + 1, n);
        if (vn_probe_embed_video(enc, paths[i], win, 0, NULL, NULL, &w) != VN_OK) {
            fprintf(stderr, "\nvnative %s: %s\n", cmd, vn_last_error());
            goto done;
        }
        res->windows += w;
        res->sources += w > 0;
    }
    res->folds = folds < res->sources ? folds : res->sources;
    if (!quiet)
        fprintf(stderr, "\rvnative %s: real-aot   %lld windows of %d videos, both ways, %d folds   ", cmd,
                (long long)res->windows, res->sources, res->folds);
    vn_real_aot_options o = VN_REAL_AOT_OPTIONS_INIT;
    o.folds = folds;
    o.window = win;
    o.seed = seed;
    vn_probe_result_init(&res->r, VN_PROBE_RESULT_VERSION);
    if (vn_probe_real_aot(enc, (const char *const *)paths, n, &o, &res->r) != VN_OK) {
        fprintf(stderr, "\nvnative %s: %s\n", cmd, vn_last_error());
        goto done;
    }
    if (!quiet)
        fprintf(stderr, "\r%78s\r", "");
    rc = 0;
done:
    vn_cli_free_videos(paths, n);
    return rc;
}
