/* What `vnative timevec` and `vnative demo` share: the clips of a world task embedded both
 * ways, and a time vector fitted on one half of the pairs and scored on the other. */
#ifndef VN_CLI_TIMEVEC_PAIRS_H
#define VN_CLI_TIMEVEC_PAIRS_H

#include <stdint.h>

#include "vnative/vnative.h"

/* Embed clips 0..n-1 of task forward (fwd [n, D]) and reversed (rev [n, D]), oriented so
 * that row i of fwd runs in the scene's own time: aot renders half its clips reversed
 * (label 0), and those are swapped back. Returns 0, or 1 after printing what is wrong. */
int vn_cli_timevec_pairs(const char *cmd, const vn_encoder *enc, const vn_world *world, vn_world_task task,
                         int64_t n, int batch, float *fwd, float *rev);

/* Fit t on pairs 0..n_fit-1 and score it on pairs n_fit..n-1 (fwd and rev are [n, D]).
 * *normal_cos gets the cosine between t and the normal of a linear probe fitted on the
 * same pairs. When proj is not NULL it receives the held-out projections, centred on the
 * threshold: 2 (n - n_fit) doubles, forward rows first. Returns 0, or 1 after printing. */
int vn_cli_timevec_fit_score(const char *cmd, const float *fwd, const float *rev, int64_t n, int64_t n_fit,
                             int64_t D, uint64_t seed, float *t, double *offset, vn_timevec_result *res,
                             double *normal_cos, double *proj);

/* Where the threshold sits along the unit t: offset / |t| (0 for a zero t). Subtracted
 * from vn_timevec_project's values, it centres them on the decision. */
double vn_cli_timevec_shift(const float *t, double offset, int64_t D);

#endif
