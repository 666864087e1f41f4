#!/bin/sh
# GEMM throughput of vnative's cpu backend against PyTorch (Debian python3-torch with
# OpenBLAS) on the shapes of the xs and s presets; writes the table into docs/PERFORMANCE.md.
#   ./bench/gemm_bench.sh
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${VN_BENCH_BUILD:-build}
cd "$root"
"$root/scripts/install-deps.sh" build bench
[ -f "$build/build.ninja" ] || meson setup "$build" --buildtype=release
ninja -C "$build" bench/bench_gemm
exec /usr/bin/python3 "$root/bench/run_gemm_bench.py"
