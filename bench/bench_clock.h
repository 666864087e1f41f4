/*
 * bench_clock.h: what every benchmark times with: a monotonic clock in seconds and a
 * qsort comparator for taking medians of repeated runs.
 */
#ifndef VN_BENCH_CLOCK_H
#define VN_BENCH_CLOCK_H

#include <time.h>

static inline double vn_bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static inline int vn_bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

#endif
