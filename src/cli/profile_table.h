/* The per-op profile of a context (vn_context_profile_*) as a table, for vnative bench
 * --profile and vnative train --profile. */
#ifndef VN_CLI_PROFILE_TABLE_H
#define VN_CLI_PROFILE_TABLE_H

#include <stdint.h>

#include "vnative/vnative.h"

/* Print the entries that ran, per step over `steps` steps of step_s seconds of wall time
 * each (<= 0: shares of the profiled total instead). json: a `, "profile": [...]` member
 * to close an object the caller opened; otherwise a text table on stdout. */
void vn_cli_print_profile(vn_context *ctx, int64_t steps, double step_s, int json);

#endif
