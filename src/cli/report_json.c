/* report.json: the results as read (unknown keys too, so that nothing a newer producer
 * adds is lost), with the title and logs the command used, and what the report derived. */
#include "cli/report.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "cli/json_writer.h"
#include "vnative/vnative.h"

static void emit(jw *w, const char *key, const jr_value *v)
{
    switch (v->type) {
    case JR_NULL:
        jw_string(w, key, NULL);
        break;
    case JR_BOOL:
        jw_bool(w, key, v->boolean);
        break;
    case JR_NUMBER:
        jw_double(w, key, v->num); /* %.17g: the same double back */
        break;
    case JR_STRING:
        jw_string(w, key, v->str);
        break;
    case JR_ARRAY:
        jw_array_begin(w, key);
        for (const jr_value *c = v->child; c; c = c->next)
            emit(w, NULL, c);
        jw_array_end(w);
        break;
    case JR_OBJECT:
        jw_object_begin(w, key);
        for (const jr_value *c = v->child; c; c = c->next)
            emit(w, c->key, c);
        jw_object_end(w);
        break;
    }
}

/* A model as given, with "log" the one the report read (--logs may have replaced it). */
static void emit_model(jw *w, const jr_value *v, const rp_model *m)
{
    jw_object_begin(w, NULL);
    for (const jr_value *c = v->child; c; c = c->next)
        if (strcmp(c->key, "log"))
            emit(w, c->key, c);
    if (m->log_path)
        jw_string(w, "log", m->log_path);
    jw_object_end(w);
}

static void names(jw *w, const char *key, const char *const *list, size_t n)
{
    jw_array_begin(w, key);
    for (size_t i = 0; i < n; i++)
        jw_string(w, NULL, list[i]);
    jw_array_end(w);
}

static void log_summary(jw *w, const rp_model *m)
{
    const rp_log *l = m->log;
    jw_object_begin(w, NULL);
    jw_string(w, "model", m->name);
    jw_string(w, "path", l->path);
    jw_int(w, "lines", (int64_t)l->lines);
    jw_bool(w, "truncated_last_line", (int)l->skipped_tail);
    jw_object_begin(w, "last_loss");
    for (size_t i = 0; i < l->n_loss; i++)
        if (l->loss[i].n) {
            jw_object_begin(w, l->loss[i].name);
            jw_double(w, "step", l->loss[i].x[l->loss[i].n - 1]);
            jw_double(w, "value", l->loss[i].y[l->loss[i].n - 1]);
            jw_int(w, "points", (int64_t)l->loss[i].n);
            jw_object_end(w);
        }
    jw_object_end(w);
    jw_object_begin(w, "last_eval_accuracy");
    for (size_t i = 0; i < l->n_acc; i++)
        if (l->acc[i].n) {
            jw_object_begin(w, l->acc[i].name);
            jw_double(w, "step", l->acc[i].x[l->acc[i].n - 1]);
            jw_double(w, "value", l->acc[i].y[l->acc[i].n - 1]);
            jw_object_end(w);
        }
    jw_object_end(w);
    jw_object_end(w);
}

static void derived(jw *w, const rp_results *r)
{
    rp_note notes[RP_MAX_NOTES];
    size_t n_notes = rp_notes(r, notes);
    jw_object_begin(w, "derived");
    jw_array_begin(w, "models");
    for (size_t m = 0; m < r->n_models; m++)
        jw_string(w, NULL, r->models[m].name);
    jw_array_end(w);
    names(w, "probe_kinds", r->kinds, r->n_kinds);
    names(w, "probe_tasks", r->tasks, r->n_tasks);
    names(w, "timevec_tasks", r->tv_tasks, r->n_tv_tasks);
    jw_array_begin(w, "logs");
    for (size_t m = 0; m < r->n_models; m++)
        if (r->models[m].log)
            log_summary(w, &r->models[m]);
    jw_array_end(w);
    jw_array_begin(w, "absent");
    for (size_t i = 0; i < n_notes; i++)
        jw_string(w, NULL, notes[i].text);
    jw_array_end(w);
    jw_object_end(w);
}

int rp_write_json(const rp_results *r, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "vnative %s: %s: %s\n", RP_CMD, path, strerror(errno));
        return -1;
    }
    const jr_value *root = jr_root(r->doc);
    jw w;
    jw_init(&w, f);
    jw_object_begin(&w, NULL);
    jw_string(&w, "title", r->title);
    for (const jr_value *c = root->child; c; c = c->next) {
        if (!strcmp(c->key, "title") || !strcmp(c->key, "generated_by") || !strcmp(c->key, "derived"))
            continue;
        if (!strcmp(c->key, "models")) {
            /* A repeated "models" counts once, with its last value, as it did when read. */
            if (jr_get(root, "models") != c)
                continue;
            jw_array_begin(&w, "models");
            size_t i = 0;
            for (const jr_value *m = c->child; m; m = m->next, i++)
                emit_model(&w, m, &r->models[i]);
            jw_array_end(&w);
        } else {
            emit(&w, c->key, c);
        }
    }
    char version[64];
    snprintf(version, sizeof version, "vnative %s", vn_version());
    jw_string(&w, "generated_by", version);
    derived(&w, r);
    jw_object_end(&w);
    jw_finish(&w);
    if (ferror(f) | (fclose(f) != 0)) {
        fprintf(stderr, "vnative %s: writing %s failed\n", RP_CMD, path);
        return -1;
    }
    return 0;
}
