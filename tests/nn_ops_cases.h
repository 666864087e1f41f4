/*
 * nn_ops_cases.h: the dense ops and losses of src/nn described uniformly for
 * test_nn_ops.c: a setup that draws random data for a size class, and forward/backward
 * runners that take a vn_nn for the fast path or NULL for the reference twin. The
 * backward runner reruns its own forward first, so that saved statistics (layernorm's
 * mean and rstd, softmax's output) come from the same path. Losses are ops with a
 * one-element output whose "dout" is dloss.
 */
#ifndef VN_TEST_NN_OPS_CASES_H
#define VN_TEST_NN_OPS_CASES_H

#include <stdint.h>

#include "nn_gradcheck.h"
#include "nn/ops.h"

#define MAX_IN 3

typedef struct op_case {
    int64_t d[3];
    float tau;
    int n_in;
    float *in[MAX_IN];
    int64_t in_n[MAX_IN];
    const char *in_name[MAX_IN];
    float *aux;       /* a non-differentiable input (targets) */
    int32_t *labels;  /* class labels or positives */
    float *save[2];   /* saved statistics or scratch */
    float *out;
    int64_t out_n;
    double loss64;    /* losses: the reference's unrounded mean, for finite differences */
} op_case;

/* Size classes: tiny for finite differences, random odd shapes, and large enough to
 * cross the ops' parallel thresholds. */
enum { SZ_TINY, SZ_RANDOM, SZ_LARGE };

typedef struct op_def {
    const char *name;
    void (*setup)(op_case *c, vn_test_rng *r, int size);
    void (*fwd)(const vn_nn *nn, op_case *c);
    void (*bwd)(const vn_nn *nn, op_case *c, float *const *grads, const float *dout);
    int thread_invariant; /* no GEMM inside: bit-identical at 1 and 2 threads */
    int is_loss;          /* out[0] is a mean loss; the reference fwd also sets loss64 */
} op_def;

void free_case(op_case *c);

extern const op_def OPS[];
extern const int N_OPS;

#endif
