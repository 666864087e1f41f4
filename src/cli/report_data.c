/* The results file of `vnative report` into typed data, checked field by field: every
 * message names the file, the line and column, and the field ("probes[3].accuracy"). */
#include "cli/report.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "vnative/vnative.h"

/* Deep enough for the schema and for unknown keys, and within what json_writer can
 * re-emit (JW_MAX_DEPTH). */
#define RESULTS_MAX_DEPTH 24

__attribute__((format(printf, 3, 4))) static int bad(const rp_results *r, const jr_value *at, const char *fmt, ...)
{
    fprintf(stderr, "vnative %s: %s:%d:%d: ", RP_CMD, r->path, at ? at->line : 1, at ? at->col : 1);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return -1;
}

/* "where.key", or "key" at the top level (where is ""), for messages. */
static const char *field(char *buf, size_t cap, const char *where, const char *key)
{
    snprintf(buf, cap, "%s%s%s", where, *where ? "." : "", key);
    return buf;
}

/* Who lacks a field: an entry, or the file itself. */
static const char *owner(const char *where) { return *where ? where : "the results file"; }

/* obj's member key when it has the type want: returns 1 with *out set, 0 when it is
 * absent or null (an error when required), -1 after a message otherwise. what names the
 * type for messages ("a string"). */
static int member(const rp_results *r, const jr_value *obj, const char *where, const char *key, int required,
                  jr_type want, const char *what, const jr_value **out)
{
    char f[128];
    const jr_value *v = jr_get(obj, key);
    *out = NULL;
    if (!v || v->type == JR_NULL)
        return required ? bad(r, v ? v : obj, "%s has no \"%s\" (%s)", owner(where), key, what) : 0;
    if (v->type != want)
        return bad(r, v, "%s must be %s, got %s", field(f, sizeof f, where, key), what, jr_type_name(v->type));
    *out = v;
    return 1;
}

static int get_str(const rp_results *r, const jr_value *obj, const char *where, const char *key, int required,
                   const char **out)
{
    char f[128];
    const jr_value *v;
    int got = member(r, obj, where, key, required, JR_STRING, "a string", &v);
    *out = NULL;
    if (got <= 0)
        return got;
    if (required && !v->len)
        return bad(r, v, "%s must not be empty", field(f, sizeof f, where, key));
    *out = v->str;
    return 0;
}

/* A number in [lo, hi]; null counts as absent (json_writer writes NaN as null). */
static int get_num(const rp_results *r, const jr_value *obj, const char *where, const char *key, int required,
                   double lo, double hi, double *out)
{
    char f[128];
    const jr_value *v;
    int got = member(r, obj, where, key, required, JR_NUMBER, "a number", &v);
    *out = NAN;
    if (got <= 0)
        return got;
    if (!(v->num >= lo && v->num <= hi))
        return bad(r, v, "%s is %g; expected a number in [%g, %g]", field(f, sizeof f, where, key), v->num, lo, hi);
    *out = v->num;
    return 0;
}

static int get_int(const rp_results *r, const jr_value *obj, const char *where, const char *key, int64_t lo,
                   int64_t hi, int64_t dflt, int64_t *out)
{
    char f[128];
    const jr_value *v = jr_get(obj, key);
    *out = dflt;
    if (!v || v->type == JR_NULL)
        return 0;
    /* (double)INT64_MAX rounds up to 2^63, which does not convert back: keep below it */
    if (v->type != JR_NUMBER || v->num != floor(v->num) || v->num < (double)lo || v->num > (double)hi ||
        !(v->num < 0x1p63))
        return bad(r, v, "%s must be an integer in [%lld, %lld]", field(f, sizeof f, where, key), (long long)lo,
                   (long long)hi);
    *out = (int64_t)v->num;
    return 0;
}

/* An array member; absent or null gives *out = NULL. */
static int get_arr(const rp_results *r, const jr_value *obj, const char *where, const char *key, int required,
                   const jr_value **out)
{
    int got = member(r, obj, where, key, required, JR_ARRAY, "an array", out);
    return got < 0 ? -1 : 0;
}

static int num_array(const rp_results *r, const jr_value *arr, const char *where, double **out, size_t *n)
{
    *n = 0;
    *out = malloc((arr->n ? arr->n : 1) * sizeof **out);
    if (!*out)
        return bad(r, arr, "out of memory");
    size_t i = 0;
    for (const jr_value *c = arr->child; c; c = c->next, i++) {
        if (c->type != JR_NUMBER)
            return bad(r, c, "%s[%zu] must be a number, got %s", where, i, jr_type_name(c->type));
        (*out)[(*n)++] = c->num;
    }
    return 0;
}

static int check_object(const rp_results *r, const jr_value *v, const char *where)
{
    return v->type == JR_OBJECT ? 0 : bad(r, v, "%s must be an object, got %s", owner(where), jr_type_name(v->type));
}

/* The model an entry names: it must be one of "models". */
static int entry_model(const rp_results *r, const jr_value *obj, const char *where, int *out)
{
    const char *name;
    if (get_str(r, obj, where, "model", 1, &name) != 0)
        return -1;
    *out = rp_find_model(r, name);
    if (*out < 0)
        return bad(r, jr_get(obj, "model"), "%s.model \"%s\" is not one of the \"models\"", where, name);
    return 0;
}

/* Append name to list (which has room) unless it is there already. */
static void add_name(const char **list, size_t *n, const char *name)
{
    for (size_t i = 0; i < *n; i++)
        if (!strcmp(list[i], name))
            return;
    list[(*n)++] = name;
}

static int load_models(rp_results *r, const jr_value *arr)
{
    char where[64];
    if (!arr->n)
        return bad(r, arr, "\"models\" is empty; a report needs at least one model");
    r->models = calloc(arr->n, sizeof *r->models);
    if (!r->models)
        return bad(r, arr, "out of memory");
    for (const jr_value *c = arr->child; c; c = c->next) {
        rp_model *m = &r->models[r->n_models];
        snprintf(where, sizeof where, "models[%zu]", r->n_models);
        if (check_object(r, c, where) || get_str(r, c, where, "name", 1, &m->name) ||
            get_str(r, c, where, "family", 0, &m->family) ||
            get_str(r, c, where, "description", 0, &m->description) || get_str(r, c, where, "log", 0, &m->log_path))
            return -1;
        if (m->log_path && !*m->log_path)
            m->log_path = NULL;
        if (rp_find_model(r, m->name) >= 0)
            return bad(r, jr_get(c, "name"), "%s.name \"%s\" is already the name of another model", where, m->name);
        m->color = (int)r->n_models++;
    }
    return 0;
}

static int load_probes(rp_results *r, const jr_value *arr)
{
    char where[64];
    r->probes = calloc(arr->n ? arr->n : 1, sizeof *r->probes);
    r->kinds = calloc(arr->n ? arr->n : 1, sizeof *r->kinds);
    r->tasks = calloc(arr->n ? arr->n : 1, sizeof *r->tasks);
    if (!r->probes || !r->kinds || !r->tasks)
        return bad(r, arr, "out of memory");
    for (const jr_value *c = arr->child; c; c = c->next) {
        rp_probe *p = &r->probes[r->n_probes];
        snprintf(where, sizeof where, "probes[%zu]", r->n_probes);
        if (check_object(r, c, where) || entry_model(r, c, where, &p->model) ||
            get_str(r, c, where, "task", 1, &p->task) || get_str(r, c, where, "probe", 1, &p->kind))
            return -1;
        int retrieval = !strcmp(p->kind, "retrieval");
        if (get_num(r, c, where, "accuracy", !retrieval, 0, 1, &p->accuracy) ||
            get_num(r, c, where, "ci_low", 0, 0, 1, &p->ci_low) ||
            get_num(r, c, where, "ci_high", 0, 0, 1, &p->ci_high) ||
            get_num(r, c, where, "r1", retrieval, 0, 1, &p->r1) || get_num(r, c, where, "r5", 0, 0, 1, &p->r5) ||
            get_num(r, c, where, "mrr", 0, 0, 1, &p->mrr) || get_num(r, c, where, "hard_negative", 0, 0, 1, &p->hard) ||
            get_num(r, c, where, "hard_ci_low", 0, 0, 1, &p->hard_lo) ||
            get_num(r, c, where, "hard_ci_high", 0, 0, 1, &p->hard_hi))
            return -1;
        if (rp_find_probe(r, p->kind, p->task, p->model))
            return bad(r, c, "%s repeats the %s probe of model \"%s\" on task \"%s\"", where, p->kind,
                       r->models[p->model].name, p->task);
        add_name(r->kinds, &r->n_kinds, p->kind);
        add_name(r->tasks, &r->n_tasks, p->task);
        r->n_probes++;
    }
    return 0;
}

static int load_projections(rp_results *r, const jr_value *obj, const char *where, rp_timevec *t)
{
    const jr_value *pr = jr_get(obj, "projections"), *fwd, *rev;
    char w[96];
    if (!pr || pr->type == JR_NULL)
        return 0;
    snprintf(w, sizeof w, "%s.projections", where);
    if (check_object(r, pr, w) || get_arr(r, pr, w, "forward", 1, &fwd) || get_arr(r, pr, w, "reversed", 1, &rev))
        return -1;
    snprintf(w, sizeof w, "%s.projections.forward", where);
    if (num_array(r, fwd, w, &t->fwd, &t->n_fwd))
        return -1;
    snprintf(w, sizeof w, "%s.projections.reversed", where);
    return num_array(r, rev, w, &t->rev, &t->n_rev);
}

static int load_timevecs(rp_results *r, const jr_value *arr)
{
    char where[64];
    r->tvs = calloc(arr->n ? arr->n : 1, sizeof *r->tvs);
    r->tv_tasks = calloc(arr->n ? arr->n : 1, sizeof *r->tv_tasks);
    if (!r->tvs || !r->tv_tasks)
        return bad(r, arr, "out of memory");
    for (const jr_value *c = arr->child; c; c = c->next) {
        rp_timevec *t = &r->tvs[r->n_tvs++]; /* counted now, so that rp_free sees its arrays */
        snprintf(where, sizeof where, "timevec[%zu]", r->n_tvs - 1);
        if (check_object(r, c, where) || entry_model(r, c, where, &t->model) ||
            get_str(r, c, where, "task", 1, &t->task) || get_num(r, c, where, "sign_accuracy", 1, 0, 1, &t->sign) ||
            get_num(r, c, where, "ci_low", 0, 0, 1, &t->ci_low) ||
            get_num(r, c, where, "ci_high", 0, 0, 1, &t->ci_high) ||
            get_num(r, c, where, "pair_accuracy", 0, 0, 1, &t->pair) ||
            get_num(r, c, where, "reversal_r1", 0, 0, 1, &t->rev_r1) ||
            get_num(r, c, where, "reversal_r1_base", 0, 0, 1, &t->rev_r1_base) || load_projections(r, c, where, t))
            return -1;
        const jr_value *cos = jr_get(c, "cosines");
        if (cos && cos->type != JR_NULL) {
            if (cos->type != JR_OBJECT)
                return bad(r, cos, "%s.cosines must be an object (task -> cosine), got %s", where,
                           jr_type_name(cos->type));
            for (const jr_value *k = cos->child; k; k = k->next)
                if (k->type != JR_NUMBER && k->type != JR_NULL)
                    return bad(r, k, "%s.cosines.%s must be a number, got %s", where, k->key, jr_type_name(k->type));
            t->cosines = cos;
        }
        add_name(r->tv_tasks, &r->n_tv_tasks, t->task);
    }
    return 0;
}

static int load_vprojs(rp_results *r, const jr_value *arr)
{
    char where[64], w[96];
    r->vps = calloc(arr->n ? arr->n : 1, sizeof *r->vps);
    if (!r->vps)
        return bad(r, arr, "out of memory");
    for (const jr_value *c = arr->child; c; c = c->next) {
        rp_vproj *v = &r->vps[r->n_vps++];
        const jr_value *pts;
        snprintf(where, sizeof where, "video_projection[%zu]", r->n_vps - 1);
        if (check_object(r, c, where) || entry_model(r, c, where, &v->model) ||
            get_str(r, c, where, "video", 0, &v->video) || get_arr(r, c, where, "points", 1, &pts))
            return -1;
        v->t = malloc((pts->n ? pts->n : 1) * sizeof *v->t);
        v->p = malloc((pts->n ? pts->n : 1) * sizeof *v->p);
        if (!v->t || !v->p)
            return bad(r, pts, "out of memory");
        for (const jr_value *q = pts->child; q; q = q->next, v->n++) {
            snprintf(w, sizeof w, "%s.points[%zu]", where, v->n);
            if (check_object(r, q, w) || get_num(r, q, w, "start_s", 1, 0, 1e12, &v->t[v->n]) ||
                get_num(r, q, w, "projection", 1, -HUGE_VAL, HUGE_VAL, &v->p[v->n]))
                return -1;
        }
    }
    return 0;
}

static int load_examples(rp_results *r, const jr_value *arr)
{
    char where[64];
    r->examples = calloc(arr->n ? arr->n : 1, sizeof *r->examples);
    if (!r->examples)
        return bad(r, arr, "out of memory");
    for (const jr_value *c = arr->child; c; c = c->next) {
        rp_example *e = &r->examples[r->n_examples];
        snprintf(where, sizeof where, "examples[%zu]", r->n_examples);
        /* Up to 64 frames of up to 256 pixels: a contact sheet, not a video. */
        if (check_object(r, c, where) || get_str(r, c, where, "task", 1, &e->task) ||
            get_int(r, c, where, "index", 0, INT64_MAX / 2, 0, &e->index) ||
            get_int(r, c, where, "frames", 2, 64, 16, &e->frames) ||
            get_int(r, c, where, "size", 16, 256, 64, &e->size) ||
            get_int(r, c, where, "world_seed", 0, INT64_MAX, 0, &e->world_seed))
            return -1;
        const jr_value *index = jr_get(c, "index");
        if (!index || index->type == JR_NULL)
            return bad(r, c, "%s has no \"index\" (an integer)", where);
        vn_world_task task;
        if (vn_world_task_from_name(e->task, &task) != VN_OK)
            return bad(r, jr_get(c, "task"), "%s.task \"%s\" is not a world task", where, e->task);
        r->n_examples++;
    }
    return 0;
}

int rp_load(rp_results *r, const char *path)
{
    memset(r, 0, sizeof *r);
    r->path = path;
    jr_limits lim = JR_LIMITS_DEFAULT;
    lim.max_depth = RESULTS_MAX_DEPTH;
    char err[1024];
    if (!(r->doc = jr_parse_file(path, &lim, err, sizeof err))) {
        fprintf(stderr, "vnative %s: %s\n", RP_CMD, err);
        return -1;
    }
    const jr_value *root = jr_root(r->doc), *models, *probes, *tvs, *vps, *ex;
    if (check_object(r, root, "") || get_str(r, root, "", "title", 0, &r->title) ||
        get_arr(r, root, "", "models", 1, &models) || load_models(r, models) ||
        get_arr(r, root, "", "probes", 0, &probes) || (probes && load_probes(r, probes)) ||
        get_arr(r, root, "", "timevec", 0, &tvs) || (tvs && load_timevecs(r, tvs)) ||
        get_arr(r, root, "", "video_projection", 0, &vps) || (vps && load_vprojs(r, vps)) ||
        get_arr(r, root, "", "examples", 0, &ex) || (ex && load_examples(r, ex)))
        return -1;
    return 0;
}

void rp_free(rp_results *r)
{
    for (size_t i = 0; i < r->n_models; i++)
        rp_log_free(r->models[i].log);
    for (size_t i = 0; i < r->n_tvs; i++) {
        free(r->tvs[i].fwd);
        free(r->tvs[i].rev);
    }
    for (size_t i = 0; i < r->n_vps; i++) {
        free(r->vps[i].t);
        free(r->vps[i].p);
    }
    free(r->models);
    free(r->probes);
    free(r->kinds);
    free(r->tasks);
    free(r->tvs);
    free(r->tv_tasks);
    free(r->vps);
    free(r->examples);
    jr_free(r->doc);
    memset(r, 0, sizeof *r);
}

int rp_find_model(const rp_results *r, const char *name)
{
    for (size_t i = 0; i < r->n_models; i++)
        if (!strcmp(r->models[i].name, name))
            return (int)i;
    return -1;
}

const rp_probe *rp_find_probe(const rp_results *r, const char *kind, const char *task, int model)
{
    for (size_t i = 0; i < r->n_probes; i++) {
        const rp_probe *p = &r->probes[i];
        if (p->model == model && !strcmp(p->kind, kind) && !strcmp(p->task, task))
            return p;
    }
    return NULL;
}

const char *rp_color(int index)
{
    /* Tableau 10: distinct, muted, and readable on white. */
    static const char *palette[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
                                    "#b07aa1", "#edc948", "#9c755f", "#ff9da7", "#bab0ac"};
    return palette[(unsigned)index % (sizeof palette / sizeof palette[0])];
}

void rp_put_text(FILE *f, const char *s)
{
    const unsigned char *end = (const unsigned char *)s + strlen(s);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p >= 0x80) { /* input strings are valid UTF-8, but a name cut to fit may not be */
            int n = jr_utf8_len(p, end);
            if (n) {
                fwrite(p, 1, (size_t)n, f);
                p += n - 1;
            } else {
                fputs("\xef\xbf\xbd", f);
            }
            continue;
        }
        switch (*p) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default:
            if (*p < 0x20 && *p != '\t' && *p != '\n')
                fputs("\xef\xbf\xbd", f);
            else
                fputc(*p, f);
        }
    }
}
