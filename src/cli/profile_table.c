/* vnative bench --profile and vnative train --profile: the profile as a table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/profile_table.h"

typedef struct profile_row {
    char name[64];
    int64_t calls;
    double s, flops;
} profile_row;

struct vn_cli_profile {
    int n;
    profile_row rows[];
};

vn_cli_profile *vn_cli_profile_snapshot(vn_context *ctx)
{
    int n = 0;
    vn_context_profile_count(ctx, &n);
    vn_cli_profile *p = calloc(1, sizeof *p + (size_t)n * sizeof(profile_row));
    if (!p)
        return NULL;
    p->n = n;
    for (int i = 0; i < n; i++) {
        const char *name = "";
        profile_row *r = &p->rows[i];
        vn_context_profile_entry(ctx, i, &name, &r->calls, &r->s, &r->flops);
        snprintf(r->name, sizeof r->name, "%s", name);
    }
    return p;
}

void vn_cli_profile_free(vn_cli_profile *p)
{
    free(p);
}

void vn_cli_print_profile(const vn_cli_profile *p, const char *what, const char *key, int64_t calls, double call_s,
                          int json)
{
    double covered = 0;
    for (int i = 0; i < p->n; i++)
        covered += p->rows[i].s;
    /* the share's denominator: the wall time when the caller measured it */
    double total = call_s > 0 ? call_s * (double)calls : covered;
    /* per "step" for "training step": the last word names one call */
    const char *unit = strrchr(what, ' ') ? strrchr(what, ' ') + 1 : what;
    if (json) {
        printf(", \"%s\": [", key);
    } else {
        char ms[32], per[32];
        snprintf(ms, sizeof ms, "ms/%s", unit);
        snprintf(per, sizeof per, "calls/%s", unit);
        printf("\nwhere a%s %s's time goes (%lld profiled %ss; self times, nested ops apart):\n"
               "  %-40s %9s %7s %10s %9s\n",
               strchr("aeiou", what[0]) ? "n" : "", what, (long long)calls, unit, "op", ms, "share", per, "GFLOP/s");
    }
    int first = 1;
    for (int i = 0; i < p->n; i++) {
        const profile_row *r = &p->rows[i];
        if (r->calls == 0)
            continue;
        double ms = r->s * 1e3 / (double)calls, gflops = r->s > 0 ? r->flops / r->s * 1e-9 : 0.0;
        if (json) {
            printf("%s{\"op\": \"%s\", \"ms_per_call\": %.4f, \"calls_per_call\": %.2f, \"gflops\": %.2f}",
                   first ? "" : ", ", r->name, ms, (double)r->calls / (double)calls, gflops);
            first = 0;
            continue;
        }
        printf("  %-40s %9.2f %6.1f%% %10.1f", r->name, ms, total > 0 ? 100.0 * r->s / total : 0.0,
               (double)r->calls / (double)calls);
        if (r->flops > 0)
            printf(" %9.1f", gflops);
        printf("\n");
    }
    if (json)
        printf("]");
    else if (call_s > 0)
        printf("  %-40s %9.2f %6.1f%%\n", "(outside the engine ops)", (total - covered) * 1e3 / (double)calls,
               total > 0 ? 100.0 * (total - covered) / total : 0.0);
}

void vn_cli_print_context_profile(vn_context *ctx, const char *what, const char *key, int64_t calls, double call_s,
                                  int json)
{
    vn_cli_profile *p = vn_cli_profile_snapshot(ctx);
    if (!p) {
        fprintf(stderr, "vnative: out of memory for the profile table\n");
        return;
    }
    vn_cli_print_profile(p, what, key, calls, call_s, json);
    vn_cli_profile_free(p);
}
