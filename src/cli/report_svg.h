/* The report's charts as inline SVG: grouped bars with whiskers, lines, and paired
 * histograms. Each chart is one well-formed <svg> element (no namespace prefixes, no
 * external references), sized by its viewBox so that CSS can scale it. */
#ifndef VN_CLI_REPORT_SVG_H
#define VN_CLI_REPORT_SVG_H

#include <stddef.h>
#include <stdio.h>

typedef struct rp_bars {
    const char *title, *ylabel;
    size_t n_groups, n_series;
    const char *const *groups; /* the x axis: tasks */
    const char *const *series; /* the legend: models */
    const int *colors;         /* palette index of each series */
    const double *v, *lo, *hi; /* [group * n_series + series] in [0, 1]; NAN: none */
    double chance;             /* a dashed line at this value; NAN: none */
} rp_bars;

/* Values are fractions; the axis shows percent from 0 to 100. */
void rp_svg_bars(FILE *f, const rp_bars *b);

typedef struct rp_line {
    const char *label;
    int color; /* palette index */
    int dash;  /* 0 solid, then ever sparser dashes: objectives of one model */
    const double *x, *y;
    size_t n;
} rp_line;

typedef struct rp_lines {
    const char *title, *xlabel, *ylabel;
    const rp_line *lines;
    size_t n_lines;
    int logy;     /* a log10 y axis (all y must be > 0) */
    int percent;  /* y are fractions shown as percent */
    double hline; /* a dashed reference line at this y; NAN: none */
} rp_lines;

void rp_svg_lines(FILE *f, const rp_lines *c);

/* Two distributions on shared bins, each as a share of its own count so that sets of
 * different sizes compare: a in colour (a palette index), b in grey. */
void rp_svg_hist(FILE *f, const char *title, const char *label_a, const double *a, size_t na, int color,
                 const char *label_b, const double *b, size_t nb);

#endif
