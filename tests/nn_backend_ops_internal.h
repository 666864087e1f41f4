/*
 * What the two files of the engine-ops harness share (nn_backend_ops.c: the harness,
 * the memory, dense and embedding entries and the first half of the case table;
 * nn_backend_ops_attn_optim.c: the attention, loss and optimizer entries and the
 * second half). Private to them: a test executable uses nn_backend_ops.h.
 */
#ifndef VN_TEST_NN_BACKEND_OPS_INTERNAL_H
#define VN_TEST_NN_BACKEND_OPS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend_nn.h"
#include "core/rng.h"
#include "nn_backend_ops.h"

#define MAX_LIVE 64   /* host or device buffers of one shape */
#define MAX_TAPE 1024 /* results of one case, kept for the determinism pass */

typedef struct vn_nn_ops_env vn_nn_ops_env;

typedef struct vn_nn_ops_case {
    const char *name;
    void (*run)(vn_nn_ops_env *e, int shape);
    int variant; /* for run functions shared by several entries: which one */
    int shapes;
    /* NMSE allowed for every result of the entry; 0 demands the expected bits, and
     * < 0 takes the target's adamw_nmse. */
    double tol;
    size_t entry; /* offsetof the entry in vn_backend_nn, SIZE_MAX for none */
} vn_nn_ops_case;

struct vn_nn_ops_env {
    const vn_nn_ops_target *t;
    const vn_nn_ops_case *c;
    vn_be be;
    vn_backend_state *st;
    const vn_backend_nn *nn;
    vn_rng r;
    int pass; /* 0: against the expected values; 1: against pass 0's bits */
    char shape[200];
    void *host[MAX_LIVE], *dev[MAX_LIVE];
    int n_host, n_dev;
    void *tape[MAX_TAPE];
    size_t tape_bytes[MAX_TAPE];
    int n_tape, tape_pos;
};

/* A row of the case table. Tolerances (NMSE): 0 for data movement and for entries that
 * round once per element (scatter_add, pos_add, ungroup with accumulate), where any IEEE
 * device gives the same bits; 1e-7 for float arithmetic against a double reference;
 * 1e-14 for the double accumulator of sumsq; adamw per target (-1). */
#define NN_CASE(entry, fn, variant, shapes, tol) {#entry, fn, variant, shapes, tol, offsetof(vn_backend_nn, entry)}

/* The case table's second half (nn_backend_ops_attn_optim.c), which follows the first
 * in nn_backend_ops.c. */
extern const vn_nn_ops_case vn_nn_ops_attn_optim_cases[];
extern const int vn_nn_ops_n_attn_optim_cases;

/* ---- buffers ------------------------------------------------------------------------ */

static inline void *keep_host(vn_nn_ops_env *e, void *p)
{
    ck_assert_ptr_nonnull(p);
    ck_assert_int_lt(e->n_host, MAX_LIVE);
    return e->host[e->n_host++] = p;
}

static inline float *hbuf(vn_nn_ops_env *e, int64_t n)
{
    return keep_host(e, malloc((size_t)(n > 0 ? n : 1) * sizeof(float)));
}

static inline float *uni(vn_nn_ops_env *e, int64_t n, double lo, double hi)
{
    float *p = hbuf(e, n);
    for (int64_t i = 0; i < n; i++)
        p[i] = (float)(lo + (hi - lo) * vn_rng_uniform(&e->r));
    return p;
}

#define rnd(e, n) uni(e, n, -1.0, 1.0)

static inline float *nrm(vn_nn_ops_env *e, int64_t n, double scale)
{
    float *p = hbuf(e, n);
    for (int64_t i = 0; i < n; i++)
        p[i] = (float)(scale * vn_rng_normal(&e->r));
    return p;
}

static inline float *dup(vn_nn_ops_env *e, const float *x, int64_t n)
{
    return memcpy(hbuf(e, n), x, (size_t)(n > 0 ? n : 1) * sizeof(float));
}

static inline int64_t pick(vn_nn_ops_env *e, int64_t lo, int64_t hi)
{
    return lo + (int64_t)vn_rng_below(&e->r, (uint64_t)(hi - lo + 1));
}

/* n indices in [0, of); distinct ones (of >= n) for ops that need them. */
int32_t *vn_nn_ops_ints(vn_nn_ops_env *e, int64_t n, int64_t of, int distinct);

static inline void ok(vn_nn_ops_env *e, vn_status s)
{
    ck_assert_msg(s == VN_OK, "%s: %s %s: returned %s: %s", e->be.table->name, e->c->name, e->shape,
                  vn_status_str(s), vn_last_error());
}

/* Device memory holding bytes of h (uninitialised when h is NULL). */
void *vn_nn_ops_dev(vn_nn_ops_env *e, const void *h, size_t bytes);
#define DF(h, n) ((float *)vn_nn_ops_dev(e, (h), (size_t)(n) * sizeof(float)))
#define DI(h, n) ((int32_t *)vn_nn_ops_dev(e, (h), (size_t)(n) * sizeof(int32_t)))
/* A device copy of h when want is set, else NULL: a gradient the call skips. */
#define DOPT(want, h, n) ((want) ? DF(h, n) : NULL)
#define HOPT(want, h) ((want) ? (h) : NULL)

/* The shape for messages: one-letter names ("NC") with as many int64_t values. */
void vn_nn_ops_dims(vn_nn_ops_env *e, const char *names, ...);

static inline void note(vn_nn_ops_env *e, const char *what)
{
    size_t len = strlen(e->shape);
    snprintf(e->shape + len, sizeof e->shape - len, "%s%s", *what ? " " : "", what);
}

/* Names the gradients a backward skips: bit k of mask clear means name k is NULL. */
static inline void nulls(vn_nn_ops_env *e, int mask, const char *n0, const char *n1, const char *n2)
{
    const char *names[3] = {n0, n1, n2};
    for (int k = 0; k < 3; k++)
        note(e, names[k] && !(mask & (1 << k)) ? names[k] : "");
}

/* Which gradients a backward gets: all, then each one left out in turn. */
static inline int grad_mask(int i, int n_grads)
{
    int m = (1 << n_grads) - 1;
    return i % (n_grads + 1) == 0 ? m : m & ~(1 << (i % (n_grads + 1) - 1));
}

/* ---- comparison ---------------------------------------------------------------------- */

/* Downloads n elements (esz bytes each) at d; pass 0 compares them with want, pass 1
 * with what pass 0 got. A NULL d is a gradient the call skipped: nothing to do. */
void vn_nn_ops_compare(vn_nn_ops_env *e, const char *what, const void *d, const void *want, int64_t n, int esz,
                       double tol);

#define TOL (e->c->tol < 0 ? e->t->adamw_nmse : e->c->tol)
#define EXPECT(what, d, want, n) vn_nn_ops_compare(e, what, d, want, n, (int)sizeof(float), TOL)
#define EXPECT_TOL(what, d, want, n, tol) vn_nn_ops_compare(e, what, d, want, n, (int)sizeof(float), tol)
#define UNCHANGED(what, d, h, n) vn_nn_ops_compare(e, what " (an input)", d, h, n, (int)sizeof(float), 0.0)

/* ---- shapes -------------------------------------------------------------------------- */

/* Lengths: single elements, odd sizes either side of 32, past the parallel thresholds
 * (32768 elements; adamw's 16384-element blocks), then random. */
#define N_LENS 9
int64_t vn_nn_ops_len_at(vn_nn_ops_env *e, int i);

/* Rows x columns for row ops; 300 x 200 crosses the parallel threshold. */
#define N_NC 8
void vn_nn_ops_nc_at(vn_nn_ops_env *e, int i, int64_t *N, int64_t *C);

/* Batch x tokens x channels, T = 1 included; 3 x 100 x 130 crosses the threshold. */
#define N_BTC 7
void vn_nn_ops_btc_at(vn_nn_ops_env *e, int i, int64_t *B, int64_t *T, int64_t *C);

#endif
