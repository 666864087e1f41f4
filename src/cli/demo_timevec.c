/* `vnative demo`'s time vectors: for every encoder, t on aot, on gravity and on real
 * footage, how they align, the held-out projections, and the projection along a video. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_flags.h"
#include "cli/demo_suite.h"
#include "cli/probe_real.h"
#include "cli/timevec_pairs.h"

#define CMD "demo"
#define N_TV 3 /* aot, gravity, real */
#define MAX_REAL_WINDOWS 4096

static const char *const tv_names[N_TV] = {"aot", "gravity", "real"};

typedef struct tv_entry {
    int have;
    float *t;
    double offset;
    vn_timevec_result res;
    double normal_cos;
    double *proj; /* held-out projections: n_test forward, then n_test reversed */
    int64_t n_test;
} tv_entry;

/* Every window of the real videos both ways; videos alternate between the fitting and the
 * scoring half, so that no video is in both. */
static int real_pairs(const demo_plan *p, const vn_encoder *enc, int64_t D, float **fwd, float **rev, int64_t *n,
                      int64_t *n_fit)
{
    char **paths = NULL;
    int nv = 0, rc = 1;
    if (vn_cli_list_videos(CMD, p->real, &paths, &nv) != 0)
        return 1;
    *fwd = malloc((size_t)(MAX_REAL_WINDOWS * D) * sizeof **fwd);
    *rev = malloc((size_t)(MAX_REAL_WINDOWS * D) * sizeof **rev);
    double *starts = malloc(MAX_REAL_WINDOWS * sizeof *starts);
    if (!*fwd || !*rev || !starts) {
        fprintf(stderr, "\nvnative %s: out of memory for %d windows of real footage\n", CMD, MAX_REAL_WINDOWS);
        goto done;
    }
    *n = 0;
    for (int half = 0; half < 2; half++) {
        if (half == 1)
            *n_fit = *n;
        for (int v = half; v < nv; v += 2) {
            /* each half gets at most half the room, so the scoring half always has some */
            int64_t total = 0, cap = (half + 1) * (MAX_REAL_WINDOWS / 2) - *n, shape[2] = {cap, D};
            if (cap < 1)
                break;
            vn_tensor tf, tr;
            vn_tensor_init(&tf, *fwd + *n * D, VN_DTYPE_F32, 2, shape);
            vn_tensor_init(&tr, *rev + *n * D, VN_DTYPE_F32, 2, shape);
            if (vn_probe_embed_video(enc, paths[v], p->win, 0, &tf, starts, &total) != VN_OK ||
                vn_probe_embed_video(enc, paths[v], p->win, VN_PROBE_EMBED_REVERSED, &tr, starts, &total) != VN_OK) {
                fprintf(stderr, "\nvnative %s: %s\n", CMD, vn_last_error());
                goto done;
            }
            *n += total < cap ? total : cap;
        }
    }
    rc = *n_fit >= 2 && *n - *n_fit >= 2 ? 0 : 1;
    if (rc)
        fprintf(stderr, "\nvnative %s: %s has too few windows for a real-footage time vector\n", CMD, p->real);
done:
    free(starts);
    vn_cli_free_videos(paths, nv);
    return rc;
}

static int fit_entry(const demo_plan *p, const demo_model *m, const vn_world *world, int k, int64_t D, tv_entry *e)
{
    float *fwd = NULL, *rev = NULL;
    int64_t n = p->tv_clips, n_fit = n / 2;
    int rc = 1;
    char what[64];
    snprintf(what, sizeof what, "time vector on %s", tv_names[k]);
    demo_progress(p->quiet, m->name, what);
    if (k < 2) {
        fwd = malloc((size_t)(n * D) * sizeof *fwd);
        rev = malloc((size_t)(n * D) * sizeof *rev);
        if (!fwd || !rev) {
            fprintf(stderr, "\nvnative %s: out of memory for %lld clips\n", CMD, (long long)n);
            goto done;
        }
        if (vn_cli_timevec_pairs(CMD, m->enc, world, k == 0 ? VN_TASK_AOT : VN_TASK_GRAVITY, n, 32, fwd, rev) != 0)
            goto done;
    } else if (real_pairs(p, m->enc, D, &fwd, &rev, &n, &n_fit) != 0) {
        goto done;
    }
    e->n_test = n - n_fit;
    e->t = malloc((size_t)D * sizeof *e->t);
    e->proj = malloc((size_t)(2 * e->n_test) * sizeof *e->proj);
    if (!e->t || !e->proj) {
        fprintf(stderr, "\nvnative %s: out of memory\n", CMD);
        goto done;
    }
    if (
        vn_cli_timevec_fit_score(CMD, fwd, rev, n, n_fit, D, p->seed, e->t, &e->offset, &e->res, &e->normal_cos,
                                 e->proj) != 0)
        goto done;
    e->have = 1;
    rc = 0;
done:
    free(fwd);
    free(rev);
    return rc;
}

static void json_entry(jw *w, const demo_model *m, int k, const tv_entry *tv, int64_t D)
{
    const tv_entry *e = &tv[k];
    jw_object_begin(w, NULL);
    jw_string(w, "model", m->name);
    jw_string(w, "task", tv_names[k]);
    jw_double(w, "sign_accuracy", e->res.sign_accuracy);
    jw_double(w, "ci_low", e->res.ci_low);
    jw_double(w, "ci_high", e->res.ci_high);
    jw_double(w, "pair_accuracy", e->res.pair_accuracy);
    jw_double(w, "reversal_r1", e->res.reversal_r1);
    jw_double(w, "reversal_r1_base", e->res.reversal_r1_base);
    jw_double(w, "normal_cosine", e->normal_cos);
    jw_object_begin(w, "cosines");
    for (int j = 0; j < N_TV; j++)
        if (tv[j].have) {
            double c = 0.0;
            vn_timevec_cosine(e->t, tv[j].t, D, &c);
            jw_double(w, tv_names[j], c);
        }
    jw_object_end(w);
    jw_object_begin(w, "projections");
    jw_array_begin(w, "forward");
    for (int64_t i = 0; i < e->n_test; i++)
        jw_double(w, NULL, e->proj[i]);
    jw_array_end(w);
    jw_array_begin(w, "reversed");
    for (int64_t i = 0; i < e->n_test; i++)
        jw_double(w, NULL, e->proj[e->n_test + i]);
    jw_array_end(w);
    jw_object_end(w);
    jw_object_end(w);
}

/* The video with the most frames, windows every 4 frames forward, on the aot vector. */
static int video_projection(const demo_plan *p, const demo_model *m, const tv_entry *aot, int64_t D, jw *w)
{
    char **paths = NULL;
    int nv = 0, best = -1, rc = 1;
    int64_t most = 0;
    float *emb = NULL;
    double *starts = NULL, *proj = NULL;
    if (vn_cli_list_videos(CMD, p->real, &paths, &nv) != 0)
        return 1;
    vn_window_options wo = VN_WINDOW_OPTIONS_INIT;
    wo.window_stride = 4;
    for (int v = 0; v < nv; v++) {
        int64_t n = 0;
        if (vn_probe_embed_video(m->enc, paths[v], &wo, 0, NULL, NULL, &n) != VN_OK) {
            fprintf(stderr, "\nvnative %s: %s\n", CMD, vn_last_error());
            goto done;
        }
        if (n > most) {
            most = n;
            best = v;
        }
    }
    emb = malloc((size_t)((most > 0 ? most : 1) * D) * sizeof *emb);
    starts = malloc((size_t)(most > 0 ? most : 1) * sizeof *starts);
    proj = malloc((size_t)(most > 0 ? most : 1) * sizeof *proj);
    if (best < 0) { /* no video with a window: nothing to draw */
        rc = 0;
        goto done;
    }
    if (!emb || !starts || !proj) {
        fprintf(stderr, "\nvnative %s: out of memory for %lld windows of %s\n", CMD, (long long)most, paths[best]);
        goto done;
    }
    int64_t shape[2] = {most, D}, n = 0;
    vn_tensor te;
    vn_tensor_init(&te, emb, VN_DTYPE_F32, 2, shape);
    if (vn_probe_embed_video(m->enc, paths[best], &wo, 0, &te, starts, &n) != VN_OK ||
        vn_timevec_project(aot->t, &te, proj) != VN_OK) {
        fprintf(stderr, "\nvnative %s: %s\n", CMD, vn_last_error());
        goto done;
    }
    double shift = vn_cli_timevec_shift(aot->t, aot->offset, D);
    jw_object_begin(w, NULL);
    jw_string(w, "model", m->name);
    jw_string(w, "video", paths[best]);
    jw_array_begin(w, "points");
    for (int64_t i = 0; i < n && i < most; i++) {
        jw_object_begin(w, NULL);
        jw_double(w, "start_s", starts[i]);
        jw_double(w, "projection", proj[i] - shift);
        jw_object_end(w);
    }
    jw_array_end(w);
    jw_object_end(w);
    rc = 0;
done:
    free(emb);
    free(starts);
    free(proj);
    vn_cli_free_videos(paths, nv);
    return rc;
}

int demo_timevecs(const demo_plan *p, const demo_model *models, int n_models, demo_table *tab, jw *w)
{
    int rc = 0, first_enc = -1;
    tv_entry all[8][N_TV];
    memset(all, 0, sizeof all);
    vn_world_options wo = VN_WORLD_OPTIONS_INIT;
    wo.seed = VN_CLI_PROBE_WORLD_SEED;
    wo.n_frames = p->frames;
    wo.size = p->size;
    wo.n_threads = p->threads;
    vn_world *world = NULL;
    if (vn_world_create(&world, &wo) != VN_OK) {
        fprintf(stderr, "vnative %s: %s\n", CMD, vn_last_error());
        return 1;
    }
    jw_array_begin(w, "timevec");
    for (int mi = 0; mi < n_models && mi < 8 && rc == 0; mi++) {
        const demo_model *m = &models[mi];
        if (!m->enc)
            continue;
        if (first_enc < 0)
            first_enc = mi;
        int64_t L, D;
        vn_encoder_output_shape(m->enc, &L, &D);
        for (int k = 0; k < N_TV && rc == 0; k++)
            if (k < 2 || p->real)
                rc = fit_entry(p, m, world, k, D, &all[mi][k]);
        for (int k = 0; k < N_TV && rc == 0; k++)
            if (all[mi][k].have)
                json_entry(w, m, k, all[mi], D);
        tab->tv_sign[mi] = all[mi][0].res.sign_accuracy;
    }
    jw_array_end(w);
    if (rc == 0 && first_enc >= 0 && p->real && all[first_enc][0].have) {
        const demo_model *m = &models[first_enc];
        int64_t L, D;
        vn_encoder_output_shape(m->enc, &L, &D);
        demo_progress(p->quiet, m->name, "projection along a real video");
        jw_array_begin(w, "video_projection");
        rc = video_projection(p, m, &all[first_enc][0], D, w);
        jw_array_end(w);
    }
    for (int mi = 0; mi < 8; mi++)
        for (int k = 0; k < N_TV; k++) {
            free(all[mi][k].t);
            free(all[mi][k].proj);
        }
    vn_world_destroy(world);
    return rc;
}
