/* The per-op profile of a context (vn_context_profile_*) as a table, for vnative bench
 * --profile and vnative train --profile. */
#ifndef VN_CLI_PROFILE_TABLE_H
#define VN_CLI_PROFILE_TABLE_H

#include <stdint.h>

#include "vnative/vnative.h"

/* A copy of a context's profile entries, so that one profile can be printed after the
 * context has gone on to profile something else. */
typedef struct vn_cli_profile vn_cli_profile;

vn_cli_profile *vn_cli_profile_snapshot(vn_context *ctx); /* NULL when out of memory */
void vn_cli_profile_free(vn_cli_profile *p);

/* Print the entries that ran, per call of `what` ("training step", "encode") over `calls`
 * calls of call_s seconds of wall time each (<= 0: shares of the profiled total instead).
 * json: a `, "<key>": [...]` member to close an object the caller opened; otherwise a
 * text table on stdout. */
void vn_cli_print_profile(const vn_cli_profile *p, const char *what, const char *key, int64_t calls, double call_s,
                          int json);

/* Snapshot, print, free. */
void vn_cli_print_context_profile(vn_context *ctx, const char *what, const char *key, int64_t calls, double call_s,
                                  int json);

#endif
