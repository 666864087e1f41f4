#!/bin/sh
# Issue 11's benchmark in one command: `vnative bench` (training step and encode of the xs
# and s presets, each family, fp32 and bf16 where the CPU has it) beside the same models
# in PyTorch (Debian python3-torch with OpenBLAS, same thread count), the oneDNN sgemm peak,
# the world generator and the clip loader, all in this run. Writes the table, the goals and
# a per-op profile into docs/PERFORMANCE.md (between the perf-bench markers).
#   ./bench/perf_bench.sh        (VN_BENCH_ROUNDS=2, VN_BENCH_THREADS=2, VN_BENCH_BUILD=build)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${VN_BENCH_BUILD:-build}
cd "$root"
"$root/scripts/install-deps.sh" build bench
[ -f "$build/build.ninja" ] || meson setup "$build" --buildtype=release
ninja -C "$build" src/cli/vnative bench/bench_gemm
exec /usr/bin/python3 "$root/bench/run_perf_bench.py"
