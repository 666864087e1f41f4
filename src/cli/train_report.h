/* `vnative train`'s output while it trains: the progress bar or plain lines on stderr, and
 * the JSON-lines log. */
#ifndef VN_CLI_TRAIN_REPORT_H
#define VN_CLI_TRAIN_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "vnative/vnative.h"

typedef struct train_report {
    int tty;              /* redraw one line in place; otherwise plain lines */
    int quiet;            /* no progress at all */
    int64_t target;       /* the step the run ends at */
    int64_t start_step;   /* the step this process started from (non-zero after --resume) */
    int64_t every;        /* plain lines: one every this many steps */
    double t0;            /* wall clock when this process's first step began */
    double last_draw;
    double rate;          /* smoothed clips/s of the steps */
    int bar_on_screen;    /* the bar is drawn and its line not yet ended */
    int have_eval;
    vn_train_metrics last_eval;
} train_report;

double train_now_s(void);

/* "loss 0.6931 (aot 0.6931, future 1.2040)": the weighted loss, then each active objective. */
void train_format_losses(char *buf, size_t cap, const vn_train_metrics *m);

/* "aot 71.9%, future 40.6%", the objectives with an accuracy; "" when none has one. */
void train_format_accuracy(char *buf, size_t cap, const vn_train_metrics *m);

/* Show a step or an evaluation (and remember the evaluation for the bar). */
void train_report_metrics(train_report *r, const vn_train_metrics *m);

/* End the bar's line, so that whatever is printed next starts on a fresh one. */
void train_report_break(train_report *r);

/* One JSON object on a line, flushed. Returns 0, or -1 when the write failed. */
int train_log_line(FILE *f, const vn_train_metrics *m);

/* Drop the lines of a log whose "step" is past step: they belong to steps a resume is about
 * to redo. A missing log is fine. Returns 0, or -1 with errno set. */
int train_log_trim(const char *path, int64_t step);

#endif
