#!/bin/sh
# Joint against divided attention as the clip grows: the xs video encoder at 8, 16, 32 and
# 64 frames (batch 8), one training step and one encode, vnative against the same model in
# PyTorch (Debian python3-torch, OpenBLAS), 2 threads each, alternating rounds. Writes
# docs/img/attention_scaling.png and the table in docs/ATTENTION_SCALING.md (between the
# attention-scaling markers). About five minutes on a quiet 2-core machine; under load, configs
# whose best round is not yet confirmed get extra rounds within VN_BENCH_BUDGET_S (480 s).
#   ./bench/attention_scaling.sh   (VN_BENCH_ROUNDS, VN_BENCH_BUDGET_S, VN_BENCH_QUIET_S, VN_BENCH_QUIET_TOTAL_S,
#                                   VN_BENCH_THREADS, VN_BENCH_BATCH, VN_BENCH_REPS, VN_BENCH_BUILD)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${VN_BENCH_BUILD:-build}
cd "$root"
[ -f "$build/build.ninja" ] || meson setup "$build" --buildtype=release
ninja -C "$build" bench/bench_encoder bench/bench_gemm
exec /usr/bin/python3 "$root/bench/attention_scaling.py"
