/* report.html: one self-contained page (inline CSS, inline SVG, images as data: URIs, no
 * script), so that it can be mailed, archived or opened offline and look the same. */
#include "cli/report.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/report_svg.h"
#include "vnative/vnative.h"

#define MAX_LINE_POINTS 500 /* a noisy loss reads better averaged over a few more steps */

static const char css[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,'Noto Sans',"
    "'Liberation Sans',sans-serif;color:#222;background:#f3f3f1;margin:0;line-height:1.45}\n"
    "main{max-width:1000px;margin:0 auto;padding:28px 28px 64px;background:#fff}\n"
    "h1{font-size:26px;margin:0 0 4px}h2{font-size:19px;border-bottom:1px solid #e3e3e3;padding-bottom:4px;"
    "margin:40px 0 10px}h3{font-size:15px;margin:22px 0 4px}\n"
    ".meta{color:#666;font-size:13px;margin:0 0 12px}nav{font-size:14px}nav a{margin-right:14px;color:#3a6ea5;"
    "text-decoration:none}\n"
    "svg.chart{max-width:100%;height:auto;display:block;margin:6px 0 14px}"
    ".grid{display:flex;flex-wrap:wrap;gap:8px 16px}.grid svg.chart{width:460px;margin:0}\n"
    "table{border-collapse:collapse;font-size:13px;margin:6px 0 18px}th,td{padding:4px 10px;border-bottom:1px "
    "solid #eee;text-align:right;white-space:nowrap}th{background:#f5f5f5;font-weight:600}.l{text-align:left}"
    "td.desc{white-space:normal}\n"
    ".note{color:#6b5200;background:#fff8e1;border-left:3px solid #f0c040;padding:6px 10px;font-size:13px;"
    "margin:8px 0}.caption{color:#555;font-size:13px;margin:0 0 8px}\n"
    ".swatch{display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:6px;vertical-align:-1px}\n"
    "figure.sheet{margin:10px 0 20px}.sheet img{image-rendering:crisp-edges;image-rendering:pixelated;"
    "display:block;max-width:100%;height:auto;border:1px solid #ddd}figcaption{font-size:13px;color:#444;"
    "margin-top:4px}\n";

static void note(FILE *f, const char *text)
{
    fputs("<p class=\"note\">", f);
    rp_put_text(f, text);
    fputs("</p>\n", f);
}

/* Models with at least one probe of kind (or, for kind NULL, a time vector). */
static size_t models_with(const rp_results *r, const char *kind, int *idx)
{
    size_t n = 0;
    for (size_t m = 0; m < r->n_models; m++) {
        int has = 0;
        for (size_t i = 0; kind && i < r->n_probes; i++)
            has |= r->probes[i].model == (int)m && !strcmp(r->probes[i].kind, kind);
        for (size_t i = 0; !kind && i < r->n_tvs; i++)
            has |= r->tvs[i].model == (int)m;
        if (has)
            idx[n++] = (int)m;
    }
    return n;
}

/* Bars of one probe kind: tasks along x, a bar per model; retrieval splits each task into
 * its metrics, with the hard-negative interval as the whisker. */
static int kind_bars(FILE *f, const rp_results *r, const char *kind)
{
    const int retrieval = !strcmp(kind, "retrieval"), per = retrieval ? 4 : 1;
    static const char *metric[] = {"R@1", "R@5", "MRR", "hard-neg."};
    int *idx = malloc(r->n_models * sizeof *idx), *colors = malloc(r->n_models * sizeof *colors);
    const char **series = malloc(r->n_models * sizeof *series), **groups = malloc(r->n_tasks * 4 * sizeof *groups);
    char *labels = malloc(r->n_tasks * 4 * 96);
    double *v = malloc(r->n_tasks * 4 * r->n_models * 3 * sizeof *v);
    if (!idx || !colors || !series || !groups || !labels || !v) {
        free(idx), free(colors), free(series), free(groups), free(labels), free(v);
        fprintf(stderr, "vnative %s: out of memory\n", RP_CMD);
        return -1;
    }
    const size_t ns = models_with(r, kind, idx), cap = r->n_tasks * 4 * r->n_models;
    double *lo = v + cap, *hi = lo + cap;
    size_t ng = 0;
    for (size_t s = 0; s < ns; s++) {
        series[s] = r->models[idx[s]].name;
        colors[s] = r->models[idx[s]].color;
    }
    for (size_t k = 0; k < r->n_tasks; k++) {
        int any = 0;
        for (size_t s = 0; s < ns; s++)
            any |= rp_find_probe(r, kind, r->tasks[k], idx[s]) != NULL;
        for (int q = 0; any && q < per; q++, ng++) {
            char *label = labels + ng * 96;
            if (retrieval)
                snprintf(label, 96, "%.60s %s", r->tasks[k], metric[q]);
            else
                snprintf(label, 96, "%.90s", r->tasks[k]);
            groups[ng] = label;
            for (size_t s = 0; s < ns; s++) {
                const rp_probe *p = rp_find_probe(r, kind, r->tasks[k], idx[s]);
                size_t at = ng * ns + s;
                v[at] = !p           ? NAN
                        : !retrieval ? p->accuracy
                        : q == 0     ? p->r1
                        : q == 1     ? p->r5
                        : q == 2     ? p->mrr
                                     : p->hard;
                lo[at] = !p ? NAN : !retrieval ? p->ci_low : q == 3 ? p->hard_lo : NAN;
                hi[at] = !p ? NAN : !retrieval ? p->ci_high : q == 3 ? p->hard_hi : NAN;
            }
        }
    }
    char title[160];
    rp_kind_title(title, sizeof title - 40, kind);
    strcat(title, retrieval ? " of the true continuation" : " accuracy per task");
    rp_bars b = {title, retrieval ? "score (%)" : "accuracy (%)", ng, ns, groups, series, colors, v, lo, hi,
                 retrieval ? NAN : 0.5};
    rp_svg_bars(f, &b); /* its title is in the chart, which may be copied alone */
    free(idx), free(colors), free(series), free(groups), free(labels), free(v);
    return 0;
}

static int timevec_bars(FILE *f, const rp_results *r)
{
    const size_t nt = r->n_tv_tasks, cap = nt * r->n_models;
    int *idx = malloc(r->n_models * sizeof *idx), *colors = malloc(r->n_models * sizeof *colors);
    const char **series = malloc(r->n_models * sizeof *series);
    double *v = malloc(3 * cap * sizeof *v);
    if (!idx || !colors || !series || !v) {
        free(idx), free(colors), free(series), free(v);
        fprintf(stderr, "vnative %s: out of memory\n", RP_CMD);
        return -1;
    }
    double *lo = v + cap, *hi = lo + cap;
    const size_t ns = models_with(r, NULL, idx);
    for (size_t i = 0; i < 3 * cap; i++)
        v[i] = NAN;
    for (size_t s = 0; s < ns; s++) {
        series[s] = r->models[idx[s]].name;
        colors[s] = r->models[idx[s]].color;
        for (size_t i = 0; i < r->n_tvs; i++)
            for (size_t k = 0; k < nt && r->tvs[i].model == idx[s]; k++)
                if (!strcmp(r->tvs[i].task, r->tv_tasks[k])) {
                    v[k * ns + s] = r->tvs[i].sign;
                    lo[k * ns + s] = r->tvs[i].ci_low;
                    hi[k * ns + s] = r->tvs[i].ci_high;
                }
    }
    rp_bars b = {"Time vector: accuracy of its sign alone", "accuracy (%)", nt, ns, r->tv_tasks, series, colors,
                 v, lo, hi, 0.5};
    rp_svg_bars(f, &b);
    free(idx), free(colors), free(series), free(v);
    return 0;
}

static int section_accuracy(FILE *f, const rp_results *r)
{
    fprintf(f, "<section id=\"accuracy\"><h2>1. Accuracy</h2>\n<p class=\"caption\">Held-out accuracy of "
               "probes on frozen features, per task and model; whiskers are 95%% confidence intervals and "
               "the dashed line is chance (50%%).</p>\n");
    if (!r->n_probes)
        note(f, "No probe results: the results file has no \"probes\".");
    for (size_t k = 0; k < r->n_kinds; k++)
        if (kind_bars(f, r, r->kinds[k]) != 0)
            return -1;
    if (r->n_tvs && timevec_bars(f, r) != 0)
        return -1;
    fputs("</section>\n", f);
    return 0;
}

/* Lines of one kind of series (losses or eval accuracies) of every model's log: one line
 * per model, or, for a model with several objectives, its total and one per objective. */
static int log_chart(FILE *f, const rp_results *r, int acc, const char *title, const char *ylabel)
{
    size_t cap = 0, n = 0;
    for (size_t m = 0; m < r->n_models; m++)
        if (r->models[m].log)
            cap += acc ? r->models[m].log->n_acc : r->models[m].log->n_loss;
    rp_line *lines = calloc(cap ? cap : 1, sizeof *lines);
    rp_series *ds = calloc(cap ? cap : 1, sizeof *ds);
    char (*labels)[160] = calloc(cap ? cap : 1, sizeof *labels);
    int rc = lines && ds && labels ? 0 : -1;
    double ymin = HUGE_VAL, ymax = 0;
    for (size_t m = 0; !rc && m < r->n_models; m++) {
        const rp_log *l = r->models[m].log;
        size_t ns = !l ? 0 : acc ? l->n_acc : l->n_loss;
        const rp_series *s = !l ? NULL : acc ? l->acc : l->loss;
        /* The total of a single objective is that objective: draw it once. */
        int several = acc ? ns > 1 : ns > 2 || (ns == 2 && strcmp(s[0].name, "loss"));
        for (size_t i = 0; i < ns && !rc; i++) {
            int is_total = !acc && !strcmp(s[i].name, "loss");
            if (!several && i > 0)
                break;
            if (!s[i].n || rp_downsample(&s[i], MAX_LINE_POINTS, &ds[n]) != 0) {
                rc = s[i].n ? -1 : 0;
                continue;
            }
            if (several)
                snprintf(labels[n], sizeof labels[n], "%.70s: %.70s", r->models[m].name,
                         is_total ? "total" : s[i].name);
            else
                snprintf(labels[n], sizeof labels[n], "%.150s", r->models[m].name);
            for (size_t j = 0; j < ds[n].n; j++)
                ymin = fmin(ymin, ds[n].y[j]), ymax = fmax(ymax, ds[n].y[j]);
            /* objectives take the dashes in turn, counted without the total */
            int nth = (int)i - (!acc && strcmp(s[0].name, "loss") == 0 ? 1 : 0);
            lines[n] = (rp_line){labels[n], r->models[m].color, several && !is_total ? 1 + nth % 3 : 0, ds[n].x,
                                 ds[n].y, ds[n].n};
            n++;
        }
    }
    if (!rc && n) {
        rp_lines c = {title, "step", ylabel, lines, n, !acc && ymin > 0 && ymax / ymin > 10, acc, acc ? 0.5 : NAN};
        rp_svg_lines(f, &c);
    }
    for (size_t i = 0; i < n; i++)
        free(ds[i].x), free(ds[i].y);
    free(lines), free(ds), free(labels);
    if (rc)
        fprintf(stderr, "vnative %s: out of memory\n", RP_CMD);
    return rc;
}

static int section_training(FILE *f, const rp_results *r)
{
    fprintf(f, "<section id=\"training\"><h2>2. Training</h2>\n<p class=\"caption\">From the training logs: "
               "each line is the mean over runs of consecutive steps (at most %d points per line); a model "
               "with several objectives has its total (solid) and each objective (dashed).</p>\n",
               MAX_LINE_POINTS);
    rp_note notes[RP_MAX_NOTES];
    size_t nn = rp_notes(r, notes);
    for (size_t i = 0; i < nn; i++)
        if (strstr(notes[i].text, "training log"))
            note(f, notes[i].text);
    for (size_t m = 0; m < r->n_models; m++)
        if (r->models[m].log && r->models[m].log->skipped_tail) {
            char t[400];
            snprintf(t, sizeof t, "The log of %.100s ends in a partial line (a run still writing?); it was left out.",
                     r->models[m].name);
            note(f, t);
        }
    if (log_chart(f, r, 0, "Training loss", "loss") || log_chart(f, r, 1, "Held-out accuracy during training",
                                                                   "accuracy (%)"))
        return -1;
    fputs("</section>\n", f);
    return 0;
}

static void section_projections(FILE *f, const rp_results *r)
{
    fprintf(f, "<section id=\"projections\"><h2>3. Time-vector projections</h2>\n<p class=\"caption\">Each "
               "held-out clip projected on its task's time vector, played forward (colour) and reversed "
               "(grey): the further apart, the more the sign alone tells the direction of time.</p>\n");
    size_t drawn = 0;
    fputs("<div class=\"grid\">\n", f);
    for (size_t i = 0; i < r->n_tvs; i++) {
        const rp_timevec *t = &r->tvs[i];
        if (!t->n_fwd && !t->n_rev)
            continue;
        char title[200], la[64], lb[64];
        snprintf(title, sizeof title, "%.90s on %.90s", r->models[t->model].name, t->task);
        snprintf(la, sizeof la, "forward (%zu)", t->n_fwd);
        snprintf(lb, sizeof lb, "reversed (%zu)", t->n_rev);
        rp_svg_hist(f, title, la, t->fwd, t->n_fwd, r->models[t->model].color, lb, t->rev, t->n_rev);
        drawn++;
    }
    fputs("</div>\n", f);
    if (!drawn)
        note(f, r->n_tvs ? "No time-vector projections to draw histograms of."
                         : "No time-vector results: the results file has no \"timevec\".");
    fputs("</section>\n", f);
}

static void section_video(FILE *f, const rp_results *r)
{
    fprintf(f, "<section id=\"video\"><h2>4. Projection along a video</h2>\n<p class=\"caption\">A window "
               "slid through a video, each window projected on the time vector: it rises where the video "
               "runs the way its time vector points.</p>\n");
    rp_line *lines = calloc(r->n_vps ? r->n_vps : 1, sizeof *lines);
    char (*labels)[200] = calloc(r->n_vps ? r->n_vps : 1, sizeof *labels);
    for (size_t i = 0; lines && labels && i < r->n_vps; i++) {
        const rp_vproj *v = &r->vps[i];
        snprintf(labels[i], sizeof labels[i], "%.80s%s%.100s", r->models[v->model].name, v->video ? ": " : "",
                 v->video ? v->video : "");
        lines[i] = (rp_line){labels[i], r->models[v->model].color, (int)(i / 10) % 3, v->t, v->p, v->n};
    }
    if (!r->n_vps)
        note(f, "No projection along a video: the results file has no \"video_projection\".");
    else if (lines && labels) {
        rp_lines c = {"Projection on the time vector along the video", "window start (s)", "projection", lines,
                      r->n_vps, 0, 0, 0.0};
        rp_svg_lines(f, &c);
    }
    free(lines);
    free(labels);
    fputs("</section>\n", f);
}

static int section_examples(FILE *f, const rp_results *r)
{
    fprintf(f, "<section id=\"examples\"><h2>5. Example clips</h2>\n<p class=\"caption\">Clips of the "
               "procedural world as the encoders see them, frames left to right. A single frame does not "
               "give the label away: only how the frames follow each other does.</p>\n");
    if (!r->n_examples)
        note(f, "No example clips: the results file has no \"examples\".");
    for (size_t i = 0; i < r->n_examples; i++) {
        char where[64];
        snprintf(where, sizeof where, "examples[%zu]", i);
        if (rp_write_sheet(f, &r->examples[i], where) != 0)
            return -1;
    }
    fputs("</section>\n", f);
    return 0;
}

static int section_tables(FILE *f, const rp_results *r)
{
    rp_table *t = NULL;
    size_t n = 0;
    if (rp_build_tables(r, &t, &n) != 0)
        return -1;
    fprintf(f, "<section id=\"tables\"><h2>6. Tables</h2>\n<p class=\"caption\">Percentages; brackets are 95%% "
               "confidence intervals.</p>\n");
    if (!n)
        note(f, "No probe or time-vector results to tabulate.");
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "<h3>");
        rp_put_text(f, t[i].title);
        fprintf(f, "</h3>\n<table>\n");
        for (size_t row = 0; row <= t[i].n_rows; row++) {
            fputs("<tr>", f);
            for (size_t c = 0; c < t[i].n_cols; c++) {
                const char *s = t[i].cells[row * t[i].n_cols + c];
                fprintf(f, "<%s%s>", row ? "td" : "th", c < t[i].n_label_cols ? " class=\"l\"" : "");
                rp_put_text(f, s ? s : "");
                fprintf(f, "</%s>", row ? "td" : "th");
            }
            fputs("</tr>\n", f);
        }
        fputs("</table>\n", f);
    }
    fputs("</section>\n", f);
    rp_free_tables(t, n);
    return 0;
}

static void header(FILE *f, const rp_results *r)
{
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
               "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
    rp_put_text(f, r->title);
    fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<main>\n<h1>", css);
    rp_put_text(f, r->title);
    fprintf(f, "</h1>\n<p class=\"meta\">Generated by vnative %s from ", vn_version());
    rp_put_text(f, r->path);
    fprintf(f, ".</p>\n<nav><a href=\"#accuracy\">Accuracy</a><a href=\"#training\">Training</a>"
               "<a href=\"#projections\">Projections</a><a href=\"#video\">Video</a>"
               "<a href=\"#examples\">Examples</a><a href=\"#tables\">Tables</a></nav>\n"
               "<section id=\"models\"><h2>Models</h2>\n<table>\n<tr><th class=\"l\">model</th>"
               "<th class=\"l\">family</th><th class=\"l\">description</th><th class=\"l\">training log</th></tr>\n");
    for (size_t m = 0; m < r->n_models; m++) {
        const rp_model *md = &r->models[m];
        fprintf(f, "<tr><td class=\"l\"><span class=\"swatch\" style=\"background:%s\"></span>", rp_color(md->color));
        rp_put_text(f, md->name);
        fputs("</td><td class=\"l\">", f);
        rp_put_text(f, md->family ? md->family : "-");
        fputs("</td><td class=\"l desc\">", f);
        rp_put_text(f, md->description ? md->description : "-");
        fputs("</td><td class=\"l\">", f);
        rp_put_text(f, md->log_path ? md->log_path : "-");
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n</section>\n", f);
}

int rp_write_html(const rp_results *r, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "vnative %s: %s: %s\n", RP_CMD, path, strerror(errno));
        return -1;
    }
    header(f, r);
    int rc = section_accuracy(f, r);
    if (!rc)
        rc = section_training(f, r);
    if (!rc) {
        section_projections(f, r);
        section_video(f, r);
        rc = section_examples(f, r);
    }
    if (!rc)
        rc = section_tables(f, r);
    fputs("</main>\n</body>\n</html>\n", f);
    if ((ferror(f) | (fclose(f) != 0)) && !rc) {
        fprintf(stderr, "vnative %s: writing %s failed\n", RP_CMD, path);
        rc = -1;
    }
    return rc;
}
