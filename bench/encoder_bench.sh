#!/bin/sh
# One training step and one encode of the xs (batch 16) and s (batch 8) encoders of each
# family, vnative against the same model in PyTorch (Debian python3-torch, OpenBLAS), 2
# threads each, alternating rounds; GFLOP/s against the oneDNN sgemm peak measured in the
# same run. Writes the table into docs/PERFORMANCE.md (between the encoder-bench markers).
#   ./bench/encoder_bench.sh          (VN_BENCH_ROUNDS, VN_BENCH_THREADS, VN_BENCH_BUILD)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${VN_BENCH_BUILD:-build}
cd "$root"
[ -f "$build/build.ninja" ] || meson setup "$build" --buildtype=release
ninja -C "$build" bench/bench_encoder bench/bench_gemm
exec /usr/bin/python3 "$root/bench/run_encoder_bench.py"
