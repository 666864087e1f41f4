/* `vnative demo`'s probe suite: the world tasks (linear and k-NN), future retrieval, the
 * arrow of time on real footage, the time vectors and example clips, for every model. */
#include "cli/demo_suite.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli_flags.h"
#include "cli/probe_real.h"

#define CMD "demo"
#define PIXEL_SIDE 8 /* the pixel baseline's cells per frame side */

const vn_world_task demo_tasks[DEMO_N_TASKS] = {VN_TASK_AOT,   VN_TASK_GRAVITY, VN_TASK_COLLISION,
                                                VN_TASK_ORDER, VN_TASK_SPEED,   VN_TASK_INTPHYS};

void demo_progress(int quiet, const char *model, const char *what)
{
    if (quiet)
        return;
    if (isatty(STDERR_FILENO))
        fprintf(stderr, "\r  %-8s %-46s", model, what);
    else
        fprintf(stderr, "  %-8s %s\n", model, what);
}

static void progress(const demo_plan *p, const char *model, const char *what)
{
    demo_progress(p->quiet, model, what);
}

static int fail(const char *what)
{
    fprintf(stderr, "\nvnative %s: %s: %s\n", CMD, what, vn_last_error());
    return 1;
}

static vn_world *open_world(const demo_plan *p, int frames, int size, int context)
{
    vn_world_options wo = VN_WORLD_OPTIONS_INIT;
    wo.seed = VN_CLI_PROBE_WORLD_SEED;
    wo.n_frames = frames;
    wo.size = size;
    wo.n_threads = p->threads;
    if (context > 0)
        wo.future_context = context;
    vn_world *w = NULL;
    return vn_world_create(&w, &wo) == VN_OK ? w : NULL;
}

static void json_probe(jw *w, const char *model, const char *task, const char *kind, const vn_probe_result *r)
{
    jw_object_begin(w, NULL);
    jw_string(w, "model", model);
    jw_string(w, "task", task);
    jw_string(w, "probe", kind);
    jw_double(w, "accuracy", r->accuracy);
    jw_double(w, "ci_low", r->ci_low);
    jw_double(w, "ci_high", r->ci_high);
    jw_object_end(w);
}

/* Features of one task's training and test clips: the encoder's embeddings, or the pixel
 * baseline's frame differences. */
static int task_features(const demo_plan *p, const demo_model *m, const vn_world *world, vn_world_task task,
                         float **x, int64_t *dim, int *labels)
{
    const int64_t n = p->n_train + p->n_test;
    int64_t L;
    if (m->enc) {
        vn_encoder_output_shape(m->enc, &L, dim);
    } else {
        *dim = (int64_t)(p->frames - 1) * PIXEL_SIDE * PIXEL_SIDE;
    }
    if (!(*x = malloc((size_t)(n * *dim) * sizeof **x)))
        return fail("no memory for the features");
    int64_t shape[2] = {n, *dim};
    vn_tensor t;
    vn_tensor_init(&t, *x, VN_DTYPE_F32, 2, shape);
    vn_status st = m->enc ? vn_probe_embed_world(m->enc, world, task, 0, 32, 0, &t, labels)
                          : vn_probe_pixels_world(world, task, 0, PIXEL_SIDE, &t, labels);
    return st == VN_OK ? 0 : fail(vn_world_task_name(task));
}

static int world_probes(const demo_plan *p, const demo_model *m, int mi, const vn_world *world, demo_table *tab,
                        jw *w)
{
    const int64_t n = p->n_train + p->n_test;
    int *labels = malloc((size_t)n * sizeof *labels);
    if (!labels)
        return fail("no memory for labels");
    int rc = 0;
    for (int k = 0; k < DEMO_N_TASKS && rc == 0; k++) {
        const char *task = vn_world_task_name(demo_tasks[k]);
        char what[64];
        snprintf(what, sizeof what, "%s: linear and k-NN probes", task);
        progress(p, m->name, what);
        float *x = NULL;
        int64_t d = 0;
        if ((rc = task_features(p, m, world, demo_tasks[k], &x, &d, labels)))
            break;
        int64_t s_tr[2] = {p->n_train, d}, s_te[2] = {p->n_test, d};
        vn_tensor tr, te;
        vn_tensor_init(&tr, x, VN_DTYPE_F32, 2, s_tr);
        vn_tensor_init(&te, x + (int64_t)p->n_train * d, VN_DTYPE_F32, 2, s_te);
        vn_linear_probe_options lo = VN_LINEAR_PROBE_OPTIONS_INIT;
        vn_knn_probe_options ko = VN_KNN_PROBE_OPTIONS_INIT;
        lo.seed = ko.seed = p->seed;
        vn_probe_result lin = VN_PROBE_RESULT_INIT, knn = VN_PROBE_RESULT_INIT;
        if (vn_probe_linear(&tr, labels, NULL, &te, labels + p->n_train, NULL, 2, &lo, &lin) != VN_OK ||
            vn_probe_knn(&tr, labels, &te, labels + p->n_train, NULL, 2, &ko, &knn) != VN_OK) {
            rc = fail(task);
        } else {
            json_probe(w, m->name, task, "linear", &lin);
            json_probe(w, m->name, task, "knn", &knn);
            tab->linear[mi][k] = lin.accuracy;
        }
        free(x);
    }
    free(labels);
    return rc;
}

static int future_probe(const demo_plan *p, const demo_model *m, int mi, demo_table *tab, jw *w)
{
    vn_world *fw = open_world(p, 2 * p->frames, p->size, p->frames);
    if (!fw)
        return fail("the future world");
    progress(p, m->name, "future: retrieval of the true continuation");
    vn_future_probe_options o = VN_FUTURE_PROBE_OPTIONS_INIT;
    o.seed = p->seed;
    vn_future_probe_result r = VN_FUTURE_PROBE_RESULT_INIT;
    vn_status st = vn_probe_future(m->enc, fw, p->future_train, p->future_test, &o, &r);
    vn_world_destroy(fw);
    if (st != VN_OK)
        return fail("future");
    jw_object_begin(w, NULL);
    jw_string(w, "model", m->name);
    jw_string(w, "task", "future");
    jw_string(w, "probe", "retrieval");
    jw_double(w, "r1", r.r1);
    jw_double(w, "r5", r.r5);
    jw_double(w, "mrr", r.mrr);
    jw_double(w, "hard_negative", r.hard_negative);
    jw_double(w, "hard_ci_low", r.hard_ci_low);
    jw_double(w, "hard_ci_high", r.hard_ci_high);
    jw_object_end(w);
    tab->future_hard[mi] = r.hard_negative;
    return 0;
}

static int real_probe(const demo_plan *p, const demo_model *m, int mi, demo_table *tab, jw *w)
{
    progress(p, m->name, "real-aot: arrow of time on real footage");
    vn_cli_real_result r;
    if (vn_cli_real_aot(CMD, m->enc, p->real, p->win, 5, p->seed, 1, &r) != 0)
        return 1;
    json_probe(w, m->name, "real-aot", "linear", &r.r);
    tab->linear[mi][DEMO_N_TASKS] = r.r.accuracy;
    return 0;
}

int demo_probes(const demo_plan *p, const demo_model *models, int n_models, demo_table *tab, jw *w)
{
    vn_world *world = open_world(p, p->frames, p->size, 0);
    if (!world)
        return fail("the probe world");
    int rc = 0;
    jw_array_begin(w, "probes");
    for (int mi = 0; mi < n_models && rc == 0; mi++) {
        const demo_model *m = &models[mi];
        rc = world_probes(p, m, mi, world, tab, w);
        if (rc == 0 && m->enc)
            rc = future_probe(p, m, mi, tab, w);
        if (rc == 0 && m->enc && p->real)
            rc = real_probe(p, m, mi, tab, w);
    }
    jw_array_end(w);
    vn_world_destroy(world);
    return rc;
}
