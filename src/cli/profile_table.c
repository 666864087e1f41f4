/* vnative bench --profile and vnative train --profile: the profile as a table. */
#include <stdio.h>

#include "cli/profile_table.h"

void vn_cli_print_profile(vn_context *ctx, int64_t steps, double step_s, int json)
{
    int n = 0;
    vn_context_profile_count(ctx, &n);
    double covered = 0;
    for (int i = 0; i < n; i++) {
        double s = 0;
        vn_context_profile_entry(ctx, i, NULL, NULL, &s, NULL);
        covered += s;
    }
    /* the share's denominator: the wall time when the caller measured it */
    double total = step_s > 0 ? step_s * (double)steps : covered;
    if (json)
        printf(", \"profile\": [");
    else
        printf("\nwhere a training step's time goes (%lld profiled steps; self times, nested ops apart):\n"
               "  %-40s %9s %7s %10s %9s\n",
               (long long)steps, "op", "ms/step", "share", "calls/step", "GFLOP/s");
    int first = 1;
    for (int i = 0; i < n; i++) {
        const char *name;
        int64_t calls;
        double s, fl;
        vn_context_profile_entry(ctx, i, &name, &calls, &s, &fl);
        if (calls == 0)
            continue;
        double ms = s * 1e3 / (double)steps, gflops = s > 0 ? fl / s * 1e-9 : 0.0;
        if (json) {
            printf("%s{\"op\": \"%s\", \"ms_per_step\": %.4f, \"calls_per_step\": %.2f, \"gflops\": %.2f}",
                   first ? "" : ", ", name, ms, (double)calls / (double)steps, gflops);
            first = 0;
            continue;
        }
        printf("  %-40s %9.2f %6.1f%% %10.1f", name, ms, total > 0 ? 100.0 * s / total : 0.0,
               (double)calls / (double)steps);
        if (fl > 0)
            printf(" %9.1f", gflops);
        printf("\n");
    }
    if (json)
        printf("]");
    else if (step_s > 0)
        printf("  %-40s %9.2f %6.1f%%\n", "(outside the engine ops)", (total - covered) * 1e3 / (double)steps,
               total > 0 ? 100.0 * (total - covered) / total : 0.0);
}
