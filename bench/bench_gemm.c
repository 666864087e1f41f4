/*
 * GEMM throughput of the cpu backend (oneDNN, through vnative's dispatch and primitive
 * cache) on the shapes in bench/gemm_shapes.txt. Prints one JSON object per shape.
 * Internal API: this benchmark links the static library, as the tests do.
 *
 *   bench_gemm SHAPES_FILE THREADS
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/backend.h"
#include "core/rng.h"

#include "bench_clock.h"

static float *filled(vn_rng *r, size_t n)
{
    float *p = aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64);
    if (!p)
        return NULL;
    for (size_t i = 0; i < n; i++)
        p[i] = (float)vn_rng_uniform(r) - 0.5f;
    return p;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: bench_gemm SHAPES_FILE THREADS\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    vn_backend_config cfg = {atoi(argv[2]), 0, 0, 1};
    vn_be be;
    if (vn_be_open(&be, VN_BACKEND_CPU, &cfg) != VN_OK) {
        fprintf(stderr, "bench_gemm: %s\n", vn_last_error());
        return 1;
    }
    vn_rng r;
    vn_rng_seed(&r, 1, 0);
    char line[512];
    while (fgets(line, sizeof line, f)) {
        char name[64];
        long long batch, m, n, k;
        int ta, tb;
        if (line[0] == '#' || sscanf(line, "%63s %lld %lld %lld %lld %d %d", name, &batch, &m, &n, &k, &ta, &tb) != 7)
            continue;
        vn_gemm_desc d = vn_gemm_desc_plain(ta, tb, m, n, k);
        d.batch = batch;
        float *a = filled(&r, (size_t)(batch * m * k)), *b = filled(&r, (size_t)(batch * k * n));
        float *c = filled(&r, (size_t)(batch * m * n));
        if (!a || !b || !c) {
            fprintf(stderr, "bench_gemm: out of memory for %s\n", name);
            return 1;
        }
        double flops = 2.0 * (double)batch * (double)m * (double)n * (double)k;
        /* Warm up (creates and caches the primitive), then size the repetitions to ~0.2 s. */
        vn_be_gemm(&be, &d, a, b, NULL, c);
        double t0 = vn_bench_now();
        int iters = 0;
        while (vn_bench_now() - t0 < 0.05)
            vn_be_gemm(&be, &d, a, b, NULL, c), iters++;
        int reps = (int)(0.2 / ((vn_bench_now() - t0) / iters)) + 1;
        double times[7];
        for (int t = 0; t < 7; t++) {
            double s = vn_bench_now();
            for (int i = 0; i < reps; i++)
                if (vn_be_gemm(&be, &d, a, b, NULL, c) != VN_OK) {
                    fprintf(stderr, "bench_gemm: %s\n", vn_last_error());
                    return 1;
                }
            times[t] = (vn_bench_now() - s) / reps;
        }
        qsort(times, 7, sizeof times[0], vn_bench_cmp_double);
        printf("{\"name\": \"%s\", \"seconds\": %.9g, \"gflops\": %.4g}\n", name, times[3], flops / times[3] * 1e-9);
        fflush(stdout);
        free(a), free(b), free(c);
    }
    fclose(f);
    vn_be_close(&be);
    return 0;
}
