/*
 * bench_nn_ops: the non-GEMM engine ops at the shapes the xs and s encoders run them
 * (attention forward and backward for joint, spatial and temporal groups, and the bf16
 * AMX forward where this machine has it; GELU; layernorm), on the cpu backend, the
 * fastest of repeated calls (a kernel's own speed, with the other processes of a shared
 * machine filtered out as well as a few calls can).
 * For working on a kernel: the whole-step picture is `vnative bench --profile`.
 *   bench_nn_ops [threads] [reps] [name filter]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_clock.h"
#include "backend/backend.h"
#include "backend/cpu_bf16.h"
#include "nn/ops.h"

static float *randu(int64_t n, unsigned *seed)
{
    float *x = malloc((size_t)n * sizeof *x);
    if (!x) {
        fprintf(stderr, "bench_nn_ops: out of memory\n");
        exit(1);
    }
    for (int64_t i = 0; i < n; i++) {
        *seed = *seed * 1664525u + 1013904223u;
        x[i] = (float)(*seed >> 8) / 16777216.0f * 3.0f - 1.5f;
    }
    return x;
}

static double best_ms(double *t, int n)
{
    qsort(t, (size_t)n, sizeof *t, vn_bench_cmp_double);
    return t[0] * 1e3;
}

typedef struct shape {
    const char *name;
    int64_t B, T, C, NH;
} shape;

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 2, reps = argc > 2 ? atoi(argv[2]) : 20;
    const char *only = argc > 3 ? argv[3] : "";
    if (threads < 1 || reps < 1 || reps > 10000) {
        fprintf(stderr, "usage: bench_nn_ops [threads >= 1] [reps 1..10000] [name filter]\n");
        return 2;
    }
    vn_backend_config cfg = {.n_threads = threads, .deterministic = 1, .device = 0, .seed = 1};
    vn_be be;
    if (vn_be_open(&be, VN_BACKEND_CPU, &cfg) != VN_OK) {
        fprintf(stderr, "bench_nn_ops: cannot open the cpu backend\n");
        return 1;
    }
    vn_nn nn = {.be = &be, .n_threads = threads, .deterministic = 1};
    /* xs: 16 clips, dim 128, 4 heads; s: 8 clips, dim 192, 3 heads (16 frames, patch 8) */
    static const shape shapes[] = {
        {"xs video joint (T 128)", 16, 128, 128, 4},   {"xs divided spatial (T 16)", 128, 16, 128, 4},
        {"xs divided temporal (T 8)", 256, 8, 128, 4}, {"xs frames (T 16)", 256, 16, 128, 4},
        {"s video joint (T 512)", 8, 512, 192, 3},     {"s divided spatial (T 64)", 64, 64, 192, 3},
        {"s divided temporal (T 8)", 512, 8, 192, 3},  {"s frames (T 64)", 128, 64, 192, 3},
    };
    unsigned seed = 1;
    double *t = calloc((size_t)reps, sizeof *t);
    printf("%-28s %10s %10s %10s %10s %10s %10s\n", "attention", "fwd ms", "GFLOP/s", "bwd ms", "GFLOP/s",
           "amx ms", "GFLOP/s");
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const shape *sh = &shapes[s];
        if (!strstr(sh->name, only))
            continue;
        int64_t B = sh->B, T = sh->T, C = sh->C, NH = sh->NH;
        float *qkv = randu(B * T * 3 * C, &seed), *dout = randu(B * T * C, &seed);
        float *out = randu(B * T * C, &seed), *lse = randu(B * NH * T, &seed), *dqkv = randu(B * T * 3 * C, &seed);
        float *scratch = randu(vn_attention_scratch_floats(B, T, C, NH, threads), &seed);
        for (int i = -2; i < reps; i++) {
            double t0 = vn_bench_now();
            vn_attention_forward(&nn, out, lse, qkv, B, T, C, NH, scratch);
            if (i >= 0)
                t[i] = vn_bench_now() - t0;
        }
        double fms = best_ms(t, reps);
        for (int i = -2; i < reps; i++) {
            double t0 = vn_bench_now();
            vn_attention_backward_set(&nn, dqkv, dout, qkv, out, lse, B, T, C, NH, scratch);
            if (i >= 0)
                t[i] = vn_bench_now() - t0;
        }
        double bms = best_ms(t, reps), fl = 4.0 * (double)B * (double)T * (double)T * (double)C;
        printf("%-28s %10.3f %10.1f %10.3f %10.1f", sh->name, fms, fl / fms * 1e-6, bms, 2 * fl / bms * 1e-6);
        /* the bf16 inference forward on AMX tiles, from the same values rounded to bf16 */
        if (vn_attention_bf16_supported(T, C / NH, NULL)) {
            uint16_t *qkv16 = malloc((size_t)(B * T * 3 * C) * 2), *out16 = malloc((size_t)(B * T * C) * 2);
            void *scratch16 = malloc((size_t)vn_attention_bf16_scratch_bytes(T, C / NH, threads));
            if (!qkv16 || !out16 || !scratch16) {
                fprintf(stderr, "bench_nn_ops: out of memory\n");
                return 1;
            }
            vn_bf16_convert(qkv16, qkv, B * T * 3 * C);
            for (int i = -2; i < reps; i++) {
                double t0 = vn_bench_now();
                vn_attention_forward_bf16(&nn, out16, qkv16, B, T, C, NH, scratch16);
                if (i >= 0)
                    t[i] = vn_bench_now() - t0;
            }
            double ams = best_ms(t, reps);
            printf(" %10.3f %10.1f\n", ams, fl / ams * 1e-6);
            free(qkv16), free(out16), free(scratch16);
        } else {
            printf(" %10s %10s\n", "-", "-");
        }
        free(qkv), free(dout), free(out), free(lse), free(dqkv), free(scratch);
    }
    /* GELU and layernorm at the MLP's and the block's widths */
    static const struct {
        const char *name;
        int64_t N, C;
    } ew[] = {{"xs video (2048 x 512)", 2048, 512}, {"s frames (8192 x 768)", 8192, 768}};
    printf("\n%-28s %10s %10s %10s %10s\n", "elementwise", "gelu ms", "Gelem/s", "ln fwd ms", "Gelem/s");
    for (size_t s = 0; s < sizeof ew / sizeof ew[0]; s++) {
        if (!strstr(ew[s].name, only))
            continue;
        int64_t N = ew[s].N, H = ew[s].C, C = H / 4;
        float *h = randu(N * H, &seed), *g = randu(N * H, &seed);
        float *x = randu(N * C, &seed), *y = randu(N * C, &seed), *w = randu(C, &seed), *b = randu(C, &seed);
        float *mean = randu(N, &seed), *rstd = randu(N, &seed);
        for (int i = -2; i < reps; i++) {
            double t0 = vn_bench_now();
            vn_gelu_forward(&nn, g, h, N * H);
            if (i >= 0)
                t[i] = vn_bench_now() - t0;
        }
        double gms = best_ms(t, reps);
        for (int i = -2; i < reps; i++) {
            double t0 = vn_bench_now();
            vn_layernorm_forward(&nn, y, mean, rstd, x, w, b, N, C);
            if (i >= 0)
                t[i] = vn_bench_now() - t0;
        }
        double lms = best_ms(t, reps);
        printf("%-28s %10.3f %10.2f %10.3f %10.2f\n", ew[s].name, gms, (double)(N * H) / gms * 1e-6, lms,
               (double)(N * C) / lms * 1e-6);
        free(h), free(g), free(x), free(y), free(w), free(b), free(mean), free(rstd);
    }
    free(t);
    vn_be_close(&be);
    return 0;
}
