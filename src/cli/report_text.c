/* The report's tables and notes, and the two text outputs: report.md and report.json. */
#include "cli/report.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/json_writer.h"
#include "vnative/vnative.h"

#define DASH "-" /* an absent value; ASCII, so that it reads the same in every viewer */

void rp_fmt_pct(char *buf, size_t cap, double v, double lo, double hi)
{
    if (isnan(v))
        snprintf(buf, cap, DASH);
    else if (isnan(lo) || isnan(hi))
        snprintf(buf, cap, "%.1f", 100.0 * v);
    else
        snprintf(buf, cap, "%.1f [%.1f, %.1f]", 100.0 * v, 100.0 * lo, 100.0 * hi);
}

void rp_kind_title(char *buf, size_t cap, const char *kind)
{
    if (!strcmp(kind, "linear"))
        snprintf(buf, cap, "Linear probe");
    else if (!strcmp(kind, "knn"))
        snprintf(buf, cap, "k-NN probe");
    else if (!strcmp(kind, "retrieval"))
        snprintf(buf, cap, "Retrieval");
    else
        snprintf(buf, cap, "%s probe", kind);
}

static rp_table *table_new(rp_table *t, size_t rows, size_t cols, size_t label_cols, const char *title)
{
    memset(t, 0, sizeof *t);
    t->n_rows = rows;
    t->n_cols = cols;
    t->n_label_cols = label_cols;
    t->title = strdup(title);
    t->cells = calloc((rows + 1) * cols, sizeof *t->cells);
    return t->title && t->cells ? t : NULL;
}

/* Row -1 is the header. Returns -1 when out of memory. */
__attribute__((format(printf, 4, 5))) static int cell(rp_table *t, long row, size_t col, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char **c = &t->cells[(size_t)(row + 1) * t->n_cols + col];
    free(*c);
    return (*c = strdup(buf)) ? 0 : -1;
}

static int model_header(const rp_results *r, rp_table *t, size_t first)
{
    int rc = 0;
    for (size_t m = 0; m < r->n_models; m++)
        rc |= cell(t, -1, first + m, "%s", r->models[m].name);
    return rc;
}

static int kind_table(const rp_results *r, const char *kind, rp_table *t)
{
    char title[160], v[64];
    size_t rows = 0;
    for (size_t k = 0; k < r->n_tasks; k++)
        for (size_t m = 0; m < r->n_models; m++)
            if (rp_find_probe(r, kind, r->tasks[k], (int)m)) {
                rows++;
                break;
            }
    rp_kind_title(title, sizeof title - 16, kind);
    strcat(title, " accuracy (%)");
    if (!table_new(t, rows, 1 + r->n_models, 1, title))
        return -1;
    int rc = cell(t, -1, 0, "task") | model_header(r, t, 1);
    long row = 0;
    for (size_t k = 0; k < r->n_tasks; k++) {
        int any = 0;
        for (size_t m = 0; m < r->n_models; m++)
            any |= rp_find_probe(r, kind, r->tasks[k], (int)m) != NULL;
        if (!any)
            continue;
        rc |= cell(t, row, 0, "%s", r->tasks[k]);
        for (size_t m = 0; m < r->n_models; m++) {
            const rp_probe *p = rp_find_probe(r, kind, r->tasks[k], (int)m);
            rp_fmt_pct(v, sizeof v, p ? p->accuracy : NAN, p ? p->ci_low : NAN, p ? p->ci_high : NAN);
            rc |= cell(t, row, 1 + m, "%s", v);
        }
        row++;
    }
    return rc;
}

static int retrieval_table(const rp_results *r, rp_table *t)
{
    static const char *metrics[] = {"R@1", "R@5", "MRR", "hard-negative"};
    char v[64];
    size_t tasks = 0;
    for (size_t k = 0; k < r->n_tasks; k++)
        for (size_t m = 0; m < r->n_models; m++)
            if (rp_find_probe(r, "retrieval", r->tasks[k], (int)m)) {
                tasks++;
                break;
            }
    if (!table_new(t, 4 * tasks, 2 + r->n_models, 2, "Retrieval (%)"))
        return -1;
    int rc = cell(t, -1, 0, "task") | cell(t, -1, 1, "metric") | model_header(r, t, 2);
    long row = 0;
    for (size_t k = 0; k < r->n_tasks; k++) {
        int any = 0;
        for (size_t m = 0; m < r->n_models; m++)
            any |= rp_find_probe(r, "retrieval", r->tasks[k], (int)m) != NULL;
        for (int q = 0; any && q < 4; q++, row++) {
            rc |= cell(t, row, 0, "%s", r->tasks[k]) | cell(t, row, 1, "%s", metrics[q]);
            for (size_t m = 0; m < r->n_models; m++) {
                const rp_probe *p = rp_find_probe(r, "retrieval", r->tasks[k], (int)m);
                double x = !p ? NAN : q == 0 ? p->r1 : q == 1 ? p->r5 : q == 2 ? p->mrr : p->hard;
                rp_fmt_pct(v, sizeof v, x, p && q == 3 ? p->hard_lo : NAN, p && q == 3 ? p->hard_hi : NAN);
                rc |= cell(t, row, 2 + m, "%s", v);
            }
        }
    }
    return rc;
}

static int timevec_table(const rp_results *r, rp_table *t)
{
    static const char *head[] = {"task", "model", "sign accuracy", "pair accuracy", "reversal R@1",
                                 "R@1 without t", "cosines"};
    char v[4][64], cos[900];
    if (!table_new(t, r->n_tvs, 7, 2, "Time vectors (%)"))
        return -1;
    int rc = 0;
    for (size_t c = 0; c < 7; c++)
        rc |= cell(t, -1, c, "%s", head[c]);
    for (size_t i = 0; i < r->n_tvs; i++) {
        const rp_timevec *tv = &r->tvs[i];
        rp_fmt_pct(v[0], sizeof v[0], tv->sign, tv->ci_low, tv->ci_high);
        rp_fmt_pct(v[1], sizeof v[1], tv->pair, NAN, NAN);
        rp_fmt_pct(v[2], sizeof v[2], tv->rev_r1, NAN, NAN);
        rp_fmt_pct(v[3], sizeof v[3], tv->rev_r1_base, NAN, NAN);
        size_t at = 0;
        cos[0] = '\0';
        for (const jr_value *c = tv->cosines ? tv->cosines->child : NULL; c && at < sizeof cos - 64; c = c->next) {
            int n = snprintf(cos + at, sizeof cos - at, "%s%.40s %.2f", at ? ", " : "", c->key,
                             c->type == JR_NUMBER ? c->num : NAN);
            at += n > 0 ? (size_t)n : 0;
        }
        long row = (long)i;
        rc |= cell(t, row, 0, "%s", tv->task) | cell(t, row, 1, "%s", r->models[tv->model].name);
        for (int k = 0; k < 4; k++)
            rc |= cell(t, row, 2 + (size_t)k, "%s", v[k]);
        rc |= cell(t, row, 6, "%s", at ? cos : DASH);
    }
    return rc;
}

void rp_free_tables(rp_table *t, size_t n)
{
    for (size_t i = 0; t && i < n; i++) {
        for (size_t c = 0; t[i].cells && c < (t[i].n_rows + 1) * t[i].n_cols; c++)
            free(t[i].cells[c]);
        free(t[i].cells);
        free(t[i].title);
    }
    free(t);
}

int rp_build_tables(const rp_results *r, rp_table **out, size_t *n)
{
    rp_table *t = calloc(r->n_kinds + 2, sizeof *t);
    int rc = t ? 0 : -1;
    *n = 0;
    for (size_t k = 0; !rc && k < r->n_kinds; k++)
        if (strcmp(r->kinds[k], "retrieval"))
            rc = kind_table(r, r->kinds[k], &t[(*n)++]);
    for (size_t k = 0; !rc && k < r->n_kinds; k++)
        if (!strcmp(r->kinds[k], "retrieval"))
            rc = retrieval_table(r, &t[(*n)++]);
    if (!rc && r->n_tvs)
        rc = timevec_table(r, &t[(*n)++]);
    if (rc) {
        fprintf(stderr, "vnative %s: out of memory\n", RP_CMD);
        rp_free_tables(t, *n);
        *n = 0;
        return -1;
    }
    *out = t;
    return 0;
}

size_t rp_notes(const rp_results *r, rp_note *notes)
{
    size_t n = 0, have_proj = 0, logs = 0, at = 0;
    char missing[400] = "";
    if (!r->n_probes)
        snprintf(notes[n++].text, sizeof notes->text, "No probe results: the results file has no \"probes\".");
    if (!r->n_tvs)
        snprintf(notes[n++].text, sizeof notes->text, "No time-vector results: the results file has no \"timevec\".");
    for (size_t i = 0; i < r->n_tvs; i++)
        have_proj += r->tvs[i].n_fwd + r->tvs[i].n_rev > 0;
    if (r->n_tvs && !have_proj)
        snprintf(notes[n++].text, sizeof notes->text, "No time-vector projections to draw histograms of.");
    if (!r->n_vps)
        snprintf(notes[n++].text, sizeof notes->text,
                 "No projection along a video: the results file has no \"video_projection\".");
    if (!r->n_examples)
        snprintf(notes[n++].text, sizeof notes->text, "No example clips: the results file has no \"examples\".");
    for (size_t m = 0; m < r->n_models; m++) {
        if (r->models[m].log) {
            logs++;
            continue;
        }
        int w = snprintf(missing + at, sizeof missing - at, "%s%s", at ? ", " : "", r->models[m].name);
        at = w > 0 && (size_t)w < sizeof missing - at ? at + (size_t)w : at;
    }
    if (!logs)
        snprintf(notes[n++].text, sizeof notes->text, "No training logs: no model has a \"log\" (or --logs).");
    else if (at)
        snprintf(notes[n++].text, sizeof notes->text, "No training log for: %s.", missing);
    return n;
}

/* Markdown cell text: a '|' would end the cell, a line break the row. */
static void md_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            fputs("\\|", f);
        else if (*s == '\n' || *s == '\r')
            fputc(' ', f);
        else
            fputc(*s, f);
    }
}

static void md_table(FILE *f, const rp_table *t)
{
    fprintf(f, "\n## ");
    md_text(f, t->title);
    fprintf(f, "\n\n");
    for (size_t row = 0; row <= t->n_rows; row++) {
        for (size_t c = 0; c < t->n_cols; c++) {
            fputs(c ? " | " : "| ", f);
            md_text(f, t->cells[row * t->n_cols + c] ? t->cells[row * t->n_cols + c] : "");
        }
        fputs(" |\n", f);
        if (row == 0) {
            for (size_t c = 0; c < t->n_cols; c++)
                fputs(c < t->n_label_cols ? "|---" : "|---:", f);
            fputs("|\n", f);
        }
    }
}

int rp_write_md(const rp_results *r, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "vnative %s: %s: %s\n", RP_CMD, path, strerror(errno));
        return -1;
    }
    rp_table *tables = NULL;
    size_t n_tables = 0;
    rp_note notes[RP_MAX_NOTES];
    size_t n_notes = rp_notes(r, notes);
    int rc = rp_build_tables(r, &tables, &n_tables);
    fprintf(f, "# ");
    md_text(f, r->title);
    fprintf(f, "\n\nGenerated by vnative %s from `", vn_version());
    md_text(f, r->path);
    fprintf(f, "`. Percentages; brackets are 95%% confidence intervals.\n\n## Models\n\n"
               "| model | family | description | training log |\n|---|---|---|---|\n");
    for (size_t m = 0; m < r->n_models; m++) {
        const rp_model *md = &r->models[m];
        const char *cols[4] = {md->name, md->family ? md->family : DASH, md->description ? md->description : DASH,
                               md->log_path ? md->log_path : DASH};
        for (int c = 0; c < 4; c++) {
            fputs(c ? " | " : "| ", f);
            md_text(f, cols[c]);
        }
        fputs(" |\n", f);
    }
    for (size_t i = 0; i < n_tables; i++)
        md_table(f, &tables[i]);
    if (n_notes) {
        fprintf(f, "\n## Not in these results\n\n");
        for (size_t i = 0; i < n_notes; i++) {
            fputs("- ", f);
            md_text(f, notes[i].text);
            fputc('\n', f);
        }
    }
    rp_free_tables(tables, n_tables);
    if (fclose(f) != 0 || rc) {
        if (!rc)
            fprintf(stderr, "vnative %s: writing %s failed\n", RP_CMD, path);
        return -1;
    }
    return 0;
}
