/*
 * bench_world: clips per second of vn_world_batch for every task (bench/world_bench.sh
 * runs it). Public API only, linked against the shared library.
 *
 *   bench_world [--frames 16] [--size 64] [--channels 3] [--threads 1,2] [--seconds 0.5]
 *               [--dtype u8|f32]
 *
 * For each thread count and task: after one warm-up batch, 5 repetitions that each
 * render batches of 64 clips for about --seconds; prints one JSON object per line with
 * the best and the median rate. The best is what the code can do; on a shared machine
 * the others lose time slices to whatever else runs.
 * The future task renders one query (context + 8 candidates) per call; its rate counts
 * queries and the frames they hold.
 */
#include "vnative/vnative.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_clock.h"

#define BATCH 64
#define REPS 5

static int fail(const char *what)
{
    fprintf(stderr, "bench_world: %s: %s\n", what, vn_last_error());
    return 1;
}

int main(int argc, char **argv)
{
    int frames = 16, size = 64, channels = 3;
    double seconds = 0.5;
    const char *threads_arg = "1,2";
    vn_dtype dtype = VN_DTYPE_U8;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--frames"))
            frames = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--size"))
            size = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--channels"))
            channels = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--threads"))
            threads_arg = argv[i + 1];
        else if (!strcmp(argv[i], "--seconds"))
            seconds = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--dtype"))
            dtype = !strcmp(argv[i + 1], "f32") ? VN_DTYPE_F32 : VN_DTYPE_U8;
        else {
            fprintf(stderr, "bench_world: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    size_t esize = vn_dtype_size(dtype);
    size_t clip_elems = (size_t)frames * (size_t)size * (size_t)size * (size_t)channels;
    void *buf = malloc(clip_elems * esize * BATCH);
    int labels[BATCH];
    if (!buf)
        return 1;
    char list[64];
    snprintf(list, sizeof list, "%s", threads_arg);
    for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
        int nt = atoi(tok);
        vn_world_options o = VN_WORLD_OPTIONS_INIT;
        o.seed = 1;
        o.n_frames = frames;
        o.size = size;
        o.channels = channels;
        o.n_threads = nt;
        o.future_context = frames / 2;
        vn_world *w = NULL;
        if (vn_world_create(&w, &o) != VN_OK)
            return fail("vn_world_create");
        for (int task = 0; task < VN_WORLD_TASK_COUNT; task++) {
            int64_t index = 0;
            double rates[REPS];
            for (int rep = -1; rep < REPS; rep++) {
                int64_t clips = 0;
                double t0 = vn_bench_now(), dt = 0.0;
                do {
                    if (task == VN_TASK_FUTURE) {
                        int64_t tc = o.future_context, tf = frames - tc, K = o.future_candidates;
                        vn_tensor ctx, cand;
                        int64_t cs[4] = {tc, size, size, channels}, ks[5] = {K, tf, size, size, channels};
                        int64_t fcs[4] = {channels, tc, size, size}, fks[5] = {K, channels, tf, size, size};
                        vn_tensor_init(&ctx, buf, dtype, 4, dtype == VN_DTYPE_U8 ? cs : fcs);
                        vn_tensor_init(&cand, (char *)buf + (size_t)tc * size * size * channels * esize, dtype, 5,
                                       dtype == VN_DTYPE_U8 ? ks : fks);
                        int ti;
                        for (int q = 0; q < 8; q++)
                            if (vn_world_future(w, index++, &ctx, &cand, NULL, &ti) != VN_OK)
                                return fail("vn_world_future");
                        clips += 8;
                    } else {
                        vn_tensor t;
                        int64_t s8[5] = {BATCH, frames, size, size, channels};
                        int64_t sf[5] = {BATCH, channels, frames, size, size};
                        vn_tensor_init(&t, buf, dtype, 5, dtype == VN_DTYPE_U8 ? s8 : sf);
                        if (vn_world_batch(w, (vn_world_task)task, index, &t, labels) != VN_OK)
                            return fail("vn_world_batch");
                        index += BATCH;
                        clips += BATCH;
                    }
                    dt = vn_bench_now() - t0;
                } while (rep >= 0 && dt < seconds);
                if (rep >= 0)
                    rates[rep] = clips / dt;
            }
            qsort(rates, REPS, sizeof rates[0], vn_bench_cmp_double);
            printf("{\"task\":\"%s\",\"threads\":%d,\"frames\":%d,\"size\":%d,\"channels\":%d,\"dtype\":\"%s\","
                   "\"reps\":%d,\"clips_per_s\":%.1f,\"median_clips_per_s\":%.1f}\n",
                   vn_world_task_name((vn_world_task)task), nt, frames, size, channels, vn_dtype_name(dtype), REPS,
                   rates[REPS - 1], rates[REPS / 2]);
            fflush(stdout);
        }
        vn_world_destroy(w);
    }
    free(buf);
    return 0;
}
