/* `vnative demo`'s probe suite: every model through every probe, written as the
 * "probes", "timevec", "video_projection" and "examples" of a results file (docs/REPORT.md). */
#ifndef VN_CLI_DEMO_SUITE_H
#define VN_CLI_DEMO_SUITE_H

#include <stdint.h>

#include "cli/json_writer.h"
#include "vnative/vnative.h"

#define DEMO_N_TASKS 6

/* A progress line: redrawn in place on a terminal, one line each otherwise. */
void demo_progress(int quiet, const char *model, const char *what);

typedef struct demo_model {
    const char *name, *family, *description, *log;
    vn_encoder *enc; /* NULL: the pixel baseline */
} demo_model;

typedef struct demo_plan {
    int n_train, n_test;            /* clips per world task for the linear and k-NN probes */
    int future_train, future_test;  /* queries of the future retrieval probe */
    int tv_clips;                   /* clips per task for the time vectors, seen both ways */
    const char *real;               /* a folder or manifest of real videos, or NULL */
    const vn_window_options *win;   /* how real videos are cut into windows */
    int frames, size;               /* of the encoders' clips (the pixel baseline's too) */
    int threads;
    uint64_t seed;
    int quiet;
} demo_plan;

/* Linear-probe accuracy per model and task (NaN where not run), for the printed table. */
typedef struct demo_table {
    double linear[8][DEMO_N_TASKS + 1]; /* the last column: real-footage aot */
    double future_hard[8];
    double tv_sign[8];
} demo_table;

/* The probes of every model, as the "probes" member of the open object of w. Returns 0,
 * or 1 after printing what went wrong. */
int demo_probes(const demo_plan *p, const demo_model *models, int n_models, demo_table *table, jw *w);

/* The time vectors of every encoder ("timevec"), and the projection along the longest
 * real video ("video_projection") when real footage is there. */
int demo_timevecs(const demo_plan *p, const demo_model *models, int n_models, demo_table *table, jw *w);

extern const vn_world_task demo_tasks[DEMO_N_TASKS];

#endif
