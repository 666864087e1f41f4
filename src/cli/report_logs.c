/* Training logs (JSON lines from `vnative train`) into series of (step, value) to draw.
 * A run that is still writing, or was killed, leaves a partial last line: that one line is
 * dropped; a bad line anywhere else means the file is not what it claims to be. */
#include "cli/report.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static rp_series *find_series(rp_series **list, size_t *n, const char *name)
{
    for (size_t i = 0; i < *n; i++)
        if (!strcmp((*list)[i].name, name))
            return &(*list)[i];
    rp_series *grown = realloc(*list, (*n + 1) * sizeof *grown);
    if (!grown)
        return NULL;
    *list = grown;
    rp_series *s = &grown[(*n)++];
    memset(s, 0, sizeof *s);
    if (!(s->name = strdup(name))) {
        (*n)--;
        return NULL;
    }
    return s;
}

static int append(rp_series *s, double x, double y)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 256;
        double *nx = realloc(s->x, cap * sizeof *nx);
        if (!nx)
            return -1;
        s->x = nx;
        double *ny = realloc(s->y, cap * sizeof *ny);
        if (!ny)
            return -1;
        s->y = ny;
        s->cap = cap;
    }
    s->x[s->n] = x;
    s->y[s->n] = y;
    s->n++;
    return 0;
}

static int add_point(rp_series **list, size_t *n, const char *name, double step, const jr_value *v)
{
    if (!v || v->type != JR_NUMBER) /* null: not measured at this step (NaN in the trainer) */
        return 0;
    rp_series *s = find_series(list, n, name);
    return s && append(s, step, v->num) == 0 ? 0 : -1;
}

/* The points of one parsed line. Returns 0, or -1 with what is wrong in msg. */
static int take_line(rp_log *log, const jr_value *o, char *msg, size_t cap)
{
    if (o->type != JR_OBJECT) {
        snprintf(msg, cap, "a line must be a JSON object, got %s", jr_type_name(o->type));
        return -1;
    }
    const jr_value *type = jr_get(o, "type"), *step = jr_get(o, "step");
    if (!type || type->type != JR_STRING) {
        snprintf(msg, cap, "a line needs \"type\" (a string: step or eval)");
        return -1;
    }
    int is_step = !strcmp(type->str, "step"), is_eval = !strcmp(type->str, "eval");
    if (!is_step && !is_eval)
        return 0; /* other kinds of lines may come; they draw nothing here */
    if (!step || step->type != JR_NUMBER) {
        snprintf(msg, cap, "a %s line needs \"step\" (a number)", type->str);
        return -1;
    }
    const jr_value *group = jr_get(o, is_step ? "losses" : "accuracy");
    if (group && group->type != JR_OBJECT && group->type != JR_NULL) {
        snprintf(msg, cap, "\"%s\" must be an object, got %s", is_step ? "losses" : "accuracy",
                 jr_type_name(group->type));
        return -1;
    }
    int rc = 0;
    if (is_step)
        rc |= add_point(&log->loss, &log->n_loss, "loss", step->num, jr_get(o, "loss"));
    for (const jr_value *c = group && group->type == JR_OBJECT ? group->child : NULL; c; c = c->next) {
        if (is_step)
            rc |= add_point(&log->loss, &log->n_loss, c->key, step->num, c);
        else
            rc |= add_point(&log->acc, &log->n_acc, c->key, step->num, c);
    }
    if (rc)
        snprintf(msg, cap, "out of memory");
    return rc;
}

static int blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
            return 0;
    return 1;
}

rp_log *rp_log_load(const char *path, const char *model)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "vnative %s: the log of model '%s', %s: %s\n", RP_CMD, model, path, strerror(errno));
        return NULL;
    }
    rp_log *log = calloc(1, sizeof *log);
    char *line = NULL, msg[512] = "", pending[600] = "";
    size_t cap = 0, lineno = 0;
    ssize_t got;
    int failed = !log || !(log->path = strdup(path));
    jr_limits lim = {(size_t)1 << 20, 16, (size_t)1 << 16};
    while (!failed && (got = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if (blank(line))
            continue;
        if (pending[0]) { /* a bad line with more after it: not a truncated tail */
            fprintf(stderr, "vnative %s: the log of model '%s', %s\n", RP_CMD, model, pending);
            failed = 1;
            break;
        }
        jr_doc *doc = jr_parse(line, (size_t)got, &lim, msg, sizeof msg);
        if (!doc) {
            snprintf(pending, sizeof pending, "%s:%zu:%s", path, lineno, strchr(msg, ':') + 1);
            continue;
        }
        if (take_line(log, jr_root(doc), msg, sizeof msg) != 0) {
            fprintf(stderr, "vnative %s: the log of model '%s', %s:%zu: %s\n", RP_CMD, model, path, lineno, msg);
            failed = 1;
        }
        log->lines++;
        jr_free(doc);
    }
    if (!failed && ferror(f)) {
        fprintf(stderr, "vnative %s: the log of model '%s', %s: %s\n", RP_CMD, model, path, strerror(errno));
        failed = 1;
    }
    if (!failed && pending[0])
        log->skipped_tail = 1;
    free(line);
    fclose(f);
    if (failed) {
        if (!log)
            fprintf(stderr, "vnative %s: out of memory\n", RP_CMD);
        rp_log_free(log);
        return NULL;
    }
    return log;
}

static void free_list(rp_series *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(s[i].name);
        free(s[i].x);
        free(s[i].y);
    }
    free(s);
}

void rp_log_free(rp_log *log)
{
    if (!log)
        return;
    free_list(log->loss, log->n_loss);
    free_list(log->acc, log->n_acc);
    free(log->path);
    free(log);
}

int rp_downsample(const rp_series *s, size_t max_points, rp_series *out)
{
    memset(out, 0, sizeof *out);
    size_t per = max_points && s->n > max_points ? (s->n + max_points - 1) / max_points : 1;
    size_t n = (s->n + per - 1) / per;
    out->x = malloc((n ? n : 1) * sizeof *out->x);
    out->y = malloc((n ? n : 1) * sizeof *out->y);
    if (!out->x || !out->y) {
        free(out->x);
        free(out->y);
        return -1;
    }
    for (size_t b = 0; b < n; b++) {
        size_t lo = b * per, hi = lo + per < s->n ? lo + per : s->n;
        double sx = 0.0, sy = 0.0;
        for (size_t i = lo; i < hi; i++) {
            sx += s->x[i];
            sy += s->y[i];
        }
        out->x[b] = sx / (double)(hi - lo);
        out->y[b] = sy / (double)(hi - lo);
    }
    out->n = out->cap = n;
    out->name = s->name;
    return 0;
}
