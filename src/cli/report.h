/* `vnative report`: the results of a run (models, probes, time vectors, training logs) as
 * typed data, and the writers of report.json, report.md and report.html. Strings point
 * into the parsed results document, which outlives the report. */
#ifndef VN_CLI_REPORT_H
#define VN_CLI_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cli/json_reader.h"

#define RP_CMD "report"

/* One line of a training log, drawn: a series of (step, value). */
typedef struct rp_series {
    char *name; /* "loss", "aot", ...: an objective, or the weighted total */
    double *x, *y;
    size_t n, cap;
} rp_series;

typedef struct rp_log {
    char *path;
    rp_series *loss; /* "loss" first, then each objective of "losses" in order of appearance */
    size_t n_loss;
    rp_series *acc; /* held-out accuracy per objective, from "eval" lines */
    size_t n_acc;
    size_t lines, skipped_tail; /* lines read; 1 when a truncated last line was dropped */
} rp_log;

typedef struct rp_model {
    const char *name, *family, *description;
    const char *log_path; /* as given (input or --logs), or NULL */
    rp_log *log;          /* loaded, or NULL */
    int color;            /* index into the palette, the same in every plot */
} rp_model;

typedef struct rp_probe {
    int model;              /* index into the models */
    const char *task, *kind; /* kind: "linear", "knn", "retrieval", ... */
    /* NAN where absent. A retrieval entry uses r1..hard_hi; any other, accuracy..ci_high. */
    double accuracy, ci_low, ci_high;
    double r1, r5, mrr, hard, hard_lo, hard_hi;
} rp_probe;

typedef struct rp_timevec {
    int model;
    const char *task;
    double sign, ci_low, ci_high, pair, rev_r1, rev_r1_base; /* NAN where absent */
    const jr_value *cosines;                                  /* an object task -> number, or NULL */
    double *fwd, *rev;                                        /* projections, or NULL */
    size_t n_fwd, n_rev;
} rp_timevec;

typedef struct rp_vproj {
    int model;
    const char *video;
    double *t, *p; /* start seconds, projection */
    size_t n;
} rp_vproj;

typedef struct rp_example {
    const char *task;
    int64_t index, frames, size, world_seed;
} rp_example;

typedef struct rp_results {
    const char *path; /* the results file, for messages */
    const char *title;
    jr_doc *doc;
    rp_model *models;
    size_t n_models;
    rp_probe *probes;
    size_t n_probes;
    rp_timevec *tvs;
    size_t n_tvs;
    rp_vproj *vps;
    size_t n_vps;
    rp_example *examples;
    size_t n_examples;
    /* Distinct names, in order of first appearance. */
    const char **kinds, **tasks, **tv_tasks;
    size_t n_kinds, n_tasks, n_tv_tasks;
} rp_results;

/* Parse and check a results file. Prints "vnative report: PATH:L:C: what" and returns -1
 * when it cannot be read or a required field is missing or of the wrong type. */
int rp_load(rp_results *r, const char *path);
void rp_free(rp_results *r);
int rp_find_model(const rp_results *r, const char *name);

/* Read the JSON-lines training log of model. Prints what is wrong and returns NULL. */
rp_log *rp_log_load(const char *path, const char *model);
void rp_log_free(rp_log *log);

/* At most max_points points of s: the mean of x and of y over equal runs of points (a
 * running mean too, which is what a noisy loss needs to be read). out owns new arrays. */
int rp_downsample(const rp_series *s, size_t max_points, rp_series *out);

/* The probe of (kind, task, model), or NULL. */
const rp_probe *rp_find_probe(const rp_results *r, const char *kind, const char *task, int model);

/* "#4e79a7": a model's colour. */
const char *rp_color(int index);

/* A contact sheet of example e as an HTML <figure> with a PNG data: URI: its frames left
 * to right with 2 white pixels between them (a future example: the context, 10 pixels,
 * then the true continuation). where names the example in messages. 0 or -1. */
int rp_write_sheet(FILE *f, const rp_example *e, const char *where);

/* A table of the report, for report.md and report.html alike: cells[0 .. n_cols) is the
 * header row, then n_rows rows; the first n_label_cols columns name the row. */
typedef struct rp_table {
    char *title;
    size_t n_rows, n_cols, n_label_cols;
    char **cells;
} rp_table;

/* One table per probe kind, the retrieval metrics, and the time vectors. 0 or -1. */
int rp_build_tables(const rp_results *r, rp_table **out, size_t *n);
void rp_free_tables(rp_table *t, size_t n);

/* What the results do not have, as sentences ("No training log for: random."). */
#define RP_MAX_NOTES 8
typedef struct rp_note {
    char text[512];
} rp_note;
size_t rp_notes(const rp_results *r, rp_note *notes);

/* "99.0 [98.0, 100.0]" (percent), "99.0" without an interval, "-" without a value. */
void rp_fmt_pct(char *buf, size_t cap, double v, double lo, double hi);

/* "linear" -> "Linear probe", "knn" -> "k-NN probe", anything else -> "NAME probe". */
void rp_kind_title(char *buf, size_t cap, const char *kind);

/* Writers: 0, or -1 after printing what is wrong. */
int rp_write_json(const rp_results *r, const char *path);
int rp_write_md(const rp_results *r, const char *path);
int rp_write_html(const rp_results *r, const char *path);

/* CRC-32 (PNG, zlib's crc32) and Adler-32 (zlib's adler32), continuing from crc / adler
 * (start with 0 and 1). */
uint32_t rp_crc32(uint32_t crc, const uint8_t *p, size_t n);
uint32_t rp_adler32(uint32_t adler, const uint8_t *p, size_t n);

/* An 8-bit RGB PNG of rgb (h rows of w pixels) whose zlib stream is stored blocks: no
 * compressor to trust, and contact sheets are small. *out is malloc'd; returns its size,
 * or 0 when out of memory or w, h are not in 1..65535. */
size_t rp_png_encode(const uint8_t *rgb, int w, int h, uint8_t **out);

/* Write p[0..n) in base64 (RFC 4648, with padding, no line breaks). */
void rp_put_base64(FILE *f, const uint8_t *p, size_t n);

/* Text for HTML and SVG (both parsed as XML by strict readers): & < > " ' escaped, and
 * control characters, which XML cannot carry even escaped, replaced by U+FFFD. */
void rp_put_text(FILE *f, const char *s);

#endif
