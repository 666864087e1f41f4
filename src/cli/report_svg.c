/* SVG charts for the HTML report. Text is measured by a fixed per-character width (no
 * font metrics in C), generous enough for the sans-serif stack the page asks for. */
#include "cli/report_svg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/report.h"

#define CHAR_W 6.6 /* average advance of an 11px sans-serif character, rounded up */
#define FONT 11
#define GREY "#6b6b6b"
#define GRID "#e6e6e6"
#define REVERSED_FILL "#8c8c8c"

typedef struct frame {
    double x0, y0, x1, y1;     /* the plot area in pixels: left, top, right, bottom */
    double xlo, xhi, ylo, yhi; /* the data range it shows */
    int logy;
} frame;

static double px(const frame *fr, double x)
{
    return fr->x0 + (x - fr->xlo) / (fr->xhi - fr->xlo) * (fr->x1 - fr->x0);
}

static double py(const frame *fr, double y)
{
    double lo = fr->ylo, hi = fr->yhi;
    if (fr->logy) {
        y = log10(y);
        lo = log10(lo);
        hi = log10(hi);
    }
    return fr->y1 - (y - lo) / (hi - lo) * (fr->y1 - fr->y0);
}

/* A step of 1, 2 or 5 times a power of ten giving about target intervals over range. */
static double nice_step(double range, int target)
{
    double raw = range / target, p = pow(10.0, floor(log10(raw))), m = raw / p;
    return p * (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10);
}

/* Widen [lo, hi] to whole steps, and away from a zero width. */
static void nice_range(double *lo, double *hi, int target)
{
    if (!(*hi > *lo)) {
        double pad = fabs(*lo) > 0 ? fabs(*lo) * 0.1 : 1.0;
        *lo -= pad;
        *hi += pad;
    }
    double s = nice_step(*hi - *lo, target);
    *lo = floor(*lo / s + 1e-9) * s;
    *hi = ceil(*hi / s - 1e-9) * s;
}

static void fmt_tick(char *buf, size_t cap, double v, double step, int percent)
{
    if (percent) {
        v *= 100.0;
        step *= 100.0;
    }
    int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    if (fabs(v) < step * 1e-6)
        v = 0.0; /* no "-0" */
    snprintf(buf, cap, "%.*f", dec > 6 ? 6 : dec, v);
}

static void text(FILE *f, double x, double y, const char *anchor, const char *extra, const char *s)
{
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\"%s%s>", x, y, anchor, extra ? " " : "",
            extra ? extra : "");
    rp_put_text(f, s);
    fputs("</text>\n", f);
}

static void svg_begin(FILE *f, double w, double h, const char *title)
{
    fprintf(f,
            "<svg class=\"chart\" viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" role=\"img\" "
            "font-size=\"%d\" font-family=\"inherit\">\n<title>",
            w, h, w, h, FONT);
    rp_put_text(f, title);
    fputs("</title>\n", f);
    text(f, 8, 18, "start", "font-size=\"13\" font-weight=\"600\" fill=\"#222\"", title);
}

/* Horizontal grid lines and labels of the y axis, and its title turned on its side. */
static void y_axis(FILE *f, const frame *fr, int percent, const char *label)
{
    if (fr->logy) {
        double d0 = floor(log10(fr->ylo)), d1 = ceil(log10(fr->yhi));
        static const double mant[] = {1, 2, 5};
        for (double d = d0; d <= d1; d++)
            for (int k = 0; k < 3; k++) {
                double v = mant[k] * pow(10.0, d);
                if (v < fr->ylo * 0.999 || v > fr->yhi * 1.001 || (d1 - d0 > 3 && k))
                    continue;
                char buf[32];
                snprintf(buf, sizeof buf, "%g", v);
                fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>\n", fr->x0, fr->x1,
                        py(fr, v), py(fr, v), GRID);
                text(f, fr->x0 - 6, py(fr, v) + 4, "end", "fill=\"" GREY "\"", buf);
            }
    } else {
        double step = nice_step(fr->yhi - fr->ylo, 5);
        for (double v = ceil(fr->ylo / step - 1e-9) * step; v <= fr->yhi + step * 1e-9; v += step) {
            char buf[32];
            fmt_tick(buf, sizeof buf, v, step, percent);
            fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>\n", fr->x0, fr->x1,
                    py(fr, v), py(fr, v), GRID);
            text(f, fr->x0 - 6, py(fr, v) + 4, "end", "fill=\"" GREY "\"", buf);
        }
    }
    char rot[96];
    snprintf(rot, sizeof rot, "fill=\"%s\" transform=\"rotate(-90 14 %.1f)\"", GREY, (fr->y0 + fr->y1) / 2);
    text(f, 14, (fr->y0 + fr->y1) / 2 + 4, "middle", rot, label);
    fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#999\"/>\n", fr->x0, fr->x1, fr->y1,
            fr->y1);
}

static void x_axis(FILE *f, const frame *fr, const char *label)
{
    double step = nice_step(fr->xhi - fr->xlo, 6);
    for (double v = ceil(fr->xlo / step - 1e-9) * step; v <= fr->xhi + step * 1e-9; v += step) {
        char buf[32];
        fmt_tick(buf, sizeof buf, v, step, 0);
        fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#999\"/>\n", px(fr, v), px(fr, v),
                fr->y1, fr->y1 + 4);
        text(f, px(fr, v), fr->y1 + 16, "middle", "fill=\"" GREY "\"", buf);
    }
    text(f, (fr->x0 + fr->x1) / 2, fr->y1 + 32, "middle", "fill=\"" GREY "\"", label);
}

static const char *dash_of(int dash)
{
    /* 4 is the reference line's */
    static const char *d[] = {"", " stroke-dasharray=\"7 3\"", " stroke-dasharray=\"2 3\"",
                              " stroke-dasharray=\"9 3 2 3\"", " stroke-dasharray=\"6 4\""};
    return d[dash < 0 ? 0 : dash > 4 ? 4 : dash];
}

/* Legend entries laid out in rows within width w, starting at (x, y); returns the rows.
 * With draw = 0 only counts them, so that the chart's height can be known first. */
typedef struct legend_item {
    const char *label;
    const char *color;
    int dash, line; /* line: a stroke sample rather than a filled square */
    double opacity;
} legend_item;

static int legend(FILE *f, int draw, const legend_item *it, size_t n, double x, double y, double w)
{
    double cx = x;
    int rows = n ? 1 : 0;
    for (size_t i = 0; i < n; i++) {
        double iw = 22 + CHAR_W * (double)strlen(it[i].label) + 14;
        if (cx > x && cx + iw > x + w) {
            cx = x;
            rows++;
        }
        double ry = y + (rows - 1) * 18;
        if (draw) {
            if (it[i].line)
                fprintf(
                    f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2.5\"%s/>\n",
                    cx, cx + 16, ry - 4, ry - 4, it[i].color, dash_of(it[i].dash));
            else
                fprintf(f,
                        "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" fill=\"%s\" fill-opacity=\"%.2f\"/>\n",
                        cx, ry - 10, it[i].color, it[i].opacity);
            text(f, cx + 20, ry, "start", "fill=\"#333\"", it[i].label);
        }
        cx += iw;
    }
    return rows;
}

void rp_svg_bars(FILE *f, const rp_bars *b)
{
    const double W = 960, left = 56, right = 12, top = 34, plot_h = 220;
    const double pw = W - left - right, gw = pw / (double)(b->n_groups ? b->n_groups : 1);
    double longest = 0;
    for (size_t g = 0; g < b->n_groups; g++)
        longest = fmax(longest, CHAR_W * (double)strlen(b->groups[g]));
    /* Task names that do not fit their group's width are set at a slant. */
    const int slant = longest > gw - 8;
    const double label_h = slant ? fmin(longest, 140) * 0.6 + 18 : 22;
    legend_item *items = calloc(b->n_series + 1, sizeof *items);
    size_t ni = 0;
    for (size_t s = 0; items && s < b->n_series; s++)
        items[ni++] = (legend_item){b->series[s], rp_color(b->colors[s]), 0, 0, 1.0};
    if (items && !isnan(b->chance))
        items[ni++] = (legend_item){"chance", "#999", 4, 1, 1.0};
    int rows = legend(f, 0, items, ni, left, 0, pw);
    const double H = top + plot_h + label_h + 20 + rows * 18 + 6;
    svg_begin(f, W, H, b->title);
    frame fr = {left, top, W - right, top + plot_h, 0, 1, 0, 1, 0};
    y_axis(f, &fr, 1, b->ylabel);
    const double bw = fmin(36.0, (gw * 0.8) / (double)(b->n_series ? b->n_series : 1));
    for (size_t g = 0; g < b->n_groups; g++) {
        double gx = left + gw * (double)g + (gw - bw * (double)b->n_series) / 2;
        for (size_t s = 0; s < b->n_series; s++) {
            size_t k = g * b->n_series + s;
            double v = b->v[k], x = gx + bw * (double)s;
            if (isnan(v))
                continue;
            v = fmin(fmax(v, 0.0), 1.0);
            fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>", x + 1,
                    py(&fr, v), bw - 2, py(&fr, 0) - py(&fr, v), rp_color(b->colors[s]));
            rp_put_text(f, b->series[s]);
            fprintf(f, " on ");
            rp_put_text(f, b->groups[g]);
            fprintf(f, ": %.1f%%</title></rect>\n", 100.0 * b->v[k]);
            if (!isnan(b->lo[k]) && !isnan(b->hi[k])) {
                double cx = x + bw / 2, y0 = py(&fr, fmax(b->lo[k], 0)), y1 = py(&fr, fmin(b->hi[k], 1));
                fprintf(f,
                        "<path d=\"M%.1f %.1fV%.1fM%.1f %.1fh%.1fM%.1f %.1fh%.1f\" stroke=\"#222\" "
                        "stroke-width=\"1.2\" fill=\"none\"/>\n",
                        cx, y0, y1, cx - bw / 5, y0, 2 * bw / 5, cx - bw / 5, y1, 2 * bw / 5);
            }
        }
        double lx = left + gw * ((double)g + 0.5), ly = top + plot_h + 16;
        if (slant) {
            char rot[80];
            snprintf(rot, sizeof rot, "fill=\"#333\" transform=\"rotate(-35 %.1f %.1f)\"", lx, ly);
            text(f, lx, ly, "end", rot, b->groups[g]);
        } else {
            text(f, lx, ly, "middle", "fill=\"#333\"", b->groups[g]);
        }
    }
    if (!isnan(b->chance))
        fprintf(f,
                "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#999\" stroke-width=\"1.5\" "
                "stroke-dasharray=\"6 4\"/>\n",
                left, W - right, py(&fr, b->chance), py(&fr, b->chance));
    legend(f, 1, items, ni, left, top + plot_h + label_h + 20, pw);
    free(items);
    fputs("</svg>\n", f);
}

void rp_svg_lines(FILE *f, const rp_lines *c)
{
    const double W = 960, left = 64, right = 16, top = 34, plot_h = 260;
    frame fr = {left, top, W - right, top + plot_h, HUGE_VAL, -HUGE_VAL, HUGE_VAL, -HUGE_VAL, c->logy};
    for (size_t i = 0; i < c->n_lines; i++)
        for (size_t j = 0; j < c->lines[i].n; j++) {
            double x = c->lines[i].x[j], y = c->lines[i].y[j];
            if (!isfinite(x) || !isfinite(y) || (c->logy && !(y > 0)))
                continue;
            fr.xlo = fmin(fr.xlo, x), fr.xhi = fmax(fr.xhi, x);
            fr.ylo = fmin(fr.ylo, y), fr.yhi = fmax(fr.yhi, y);
        }
    if (fr.xlo > fr.xhi) /* nothing to draw: an empty frame rather than nonsense */
        fr.xlo = 0, fr.xhi = 1, fr.ylo = c->logy ? 0.1 : 0, fr.yhi = 1;
    if (!isnan(c->hline))
        fr.ylo = fmin(fr.ylo, c->hline), fr.yhi = fmax(fr.yhi, c->hline);
    nice_range(&fr.xlo, &fr.xhi, 6);
    if (c->logy) {
        fr.ylo = pow(10.0, floor(log10(fr.ylo) * 4) / 4); /* quarter decades: tight but round */
        fr.yhi = pow(10.0, ceil(log10(fr.yhi) * 4) / 4);
        if (!(fr.yhi > fr.ylo))
            fr.yhi = fr.ylo * 10;
    } else {
        nice_range(&fr.ylo, &fr.yhi, 5);
    }
    legend_item *items = calloc(c->n_lines ? c->n_lines : 1, sizeof *items);
    for (size_t i = 0; items && i < c->n_lines; i++)
        items[i] = (legend_item){c->lines[i].label, rp_color(c->lines[i].color), c->lines[i].dash, 1, 1.0};
    int rows = items ? legend(f, 0, items, c->n_lines, left, 0, W - left - right) : 0;
    const double H = top + plot_h + 44 + rows * 18 + 4;
    svg_begin(f, W, H, c->title);
    y_axis(f, &fr, c->percent, c->ylabel);
    x_axis(f, &fr, c->xlabel);
    if (!isnan(c->hline))
        fprintf(f,
                "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#999\" stroke-dasharray=\"6 4\"/>\n",
                fr.x0, fr.x1, py(&fr, c->hline), py(&fr, c->hline));
    for (size_t i = 0; i < c->n_lines; i++) {
        const rp_line *l = &c->lines[i];
        fprintf(f, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"1.8\" stroke-linejoin=\"round\"%s d=\"",
                rp_color(l->color), dash_of(l->dash));
        int pen = 0;
        for (size_t j = 0; j < l->n; j++) {
            if (!isfinite(l->x[j]) || !isfinite(l->y[j]) || (c->logy && !(l->y[j] > 0))) {
                pen = 0; /* a gap, not a line through a missing point */
                continue;
            }
            fprintf(f, "%c%.1f %.1f", pen ? 'L' : 'M', px(&fr, l->x[j]), py(&fr, l->y[j]));
            pen = 1;
        }
        fputs("\"/>\n", f);
        if (l->n <= 40) /* few points: show where they are */
            for (size_t j = 0; j < l->n; j++)
                if (isfinite(l->x[j]) && isfinite(l->y[j]) && (!c->logy || l->y[j] > 0))
                    fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"/>\n", px(&fr, l->x[j]),
                            py(&fr, l->y[j]), rp_color(l->color));
    }
    if (items)
        legend(f, 1, items, c->n_lines, left, top + plot_h + 56, W - left - right);
    free(items);
    fputs("</svg>\n", f);
}

void rp_svg_hist(FILE *f, const char *title, const char *label_a, const double *a, size_t na, int color,
                 const char *label_b, const double *b, size_t nb)
{
    enum { BINS = 24 };
    const double W = 460, left = 48, right = 10, top = 34, plot_h = 150;
    double lo = HUGE_VAL, hi = -HUGE_VAL, ha[BINS] = {0}, hb[BINS] = {0}, peak = 0;
    for (size_t i = 0; i < na; i++)
        lo = fmin(lo, a[i]), hi = fmax(hi, a[i]);
    for (size_t i = 0; i < nb; i++)
        lo = fmin(lo, b[i]), hi = fmax(hi, b[i]);
    if (!(lo <= hi))
        lo = -1, hi = 1;
    nice_range(&lo, &hi, 6);
    const double bin = (hi - lo) / BINS;
    for (size_t i = 0; i < na; i++)
        ha[(int)fmin(BINS - 1, floor((a[i] - lo) / bin))] += 1.0 / (double)na;
    for (size_t i = 0; i < nb; i++)
        hb[(int)fmin(BINS - 1, floor((b[i] - lo) / bin))] += 1.0 / (double)nb;
    for (int k = 0; k < BINS; k++)
        peak = fmax(peak, fmax(ha[k], hb[k]));
    frame fr = {left, top, W - right, top + plot_h, lo, hi, 0, peak > 0 ? peak : 1, 0};
    nice_range(&fr.ylo, &fr.yhi, 4);
    fr.ylo = 0;
    legend_item items[2] = {{label_a, rp_color(color), 0, 0, 0.6}, {label_b, REVERSED_FILL, 0, 0, 0.6}};
    const double H = top + plot_h + 44 + 18 * legend(f, 0, items, 2, left, 0, W - left - right) + 4;
    svg_begin(f, W, H, title);
    y_axis(f, &fr, 1, "share of clips (%)");
    x_axis(f, &fr, "projection on the time vector");
    for (int k = 0; k < BINS; k++) {
        double x = px(&fr, lo + bin * k), w = px(&fr, lo + bin * (k + 1)) - x;
        if (ha[k] > 0)
            fprintf(f,
                    "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" fill-opacity=\"0.6\"/>\n",
                    x, py(&fr, ha[k]), w, py(&fr, 0) - py(&fr, ha[k]), rp_color(color));
        if (hb[k] > 0)
            fprintf(f,
                    "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" fill-opacity=\"0.6\"/>\n",
                    x, py(&fr, hb[k]), w, py(&fr, 0) - py(&fr, hb[k]), REVERSED_FILL);
    }
    if (lo < 0 && hi > 0)
        fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#333\" stroke-dasharray=\"3 3\"/>\n",
                px(&fr, 0), px(&fr, 0), fr.y0, fr.y1);
    legend(f, 1, items, 2, left, top + plot_h + 56 - 6, W - left - right);
    fputs("</svg>\n", f);
}
