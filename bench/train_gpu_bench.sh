#!/bin/sh
# Training throughput (clips/s) and MFU of one full vn_trainer_step (aot on world:aot) on the
# CUDA backend, for the xs (batch 16) and s (batch 8) encoders at fp32, tf32 and bf16 matrix
# products: builds bench_train_gpu, runs it once per model and precision, prints each JSON
# line and then a table. The peak behind MFU is an estimate from the device's compute
# capability and SM count (bench/bench_train_gpu.c says how) unless VN_BENCH_PEAK_TFLOPS
# gives one; with one value for every precision, set it only when running one precision.
#
# Where no GPU is usable (no CUDA in the build, no driver, no device) it prints
# "SKIP: <the library's reason>" and exits 0, so it is safe to run anywhere.
#
# Unlike the other bench scripts it does not write docs/PERFORMANCE.md: the numbers exist
# only on a GPU machine, and a table filled in there should say which GPU it came from, so
# copying it into the docs is left to whoever ran it.
#   ./bench/train_gpu_bench.sh   (VN_BENCH_BUILD=dir, default build; VN_BENCH_MODELS, default
#                                 "xs s"; VN_BENCH_FAMILY=video|frames, default video;
#                                 VN_BENCH_PRECISIONS, default "fp32 tf32 bf16";
#                                 VN_BENCH_STEPS, default 50; VN_BENCH_WARMUP, default 10;
#                                 VN_BENCH_DEVICE, default 0; VN_BENCH_PEAK_TFLOPS;
#                                 VN_BENCH_OUT=file also keeps the JSON lines there)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${VN_BENCH_BUILD:-build}
models=${VN_BENCH_MODELS:-xs s}
family=${VN_BENCH_FAMILY:-video}
precisions=${VN_BENCH_PRECISIONS:-fp32 tf32 bf16}
steps=${VN_BENCH_STEPS:-50}
warmup=${VN_BENCH_WARMUP:-10}
device=${VN_BENCH_DEVICE:-0}
cd "$root"
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" --buildtype=release
fi
ninja -C "$build" bench/bench_train_gpu
bin="$build/bench/bench_train_gpu"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
set -- --family "$family" --steps "$steps" --warmup "$warmup" --device "$device" --json
if [ -n "${VN_BENCH_PEAK_TFLOPS:-}" ]; then
  set -- "$@" --peak-tflops "$VN_BENCH_PEAK_TFLOPS"
fi

failed=0
for model in $models; do
  for prec in $precisions; do
    # A failed run (say bf16 on a GPU without it) should not hide the others' numbers.
    if ! "$bin" --model "$model" --precision "$prec" "$@" > "$tmp/run.json"; then
      echo "FAILED: bench_train_gpu --model $model --precision $prec (see the message above)" >&2
      failed=1
      continue
    fi
    # The program decides whether the GPU is usable, so the first run is also the probe.
    if grep -q '"status":"skipped"' "$tmp/run.json"; then
      reason=$(sed -n 's/.*"reason":"\(.*\)"}.*/\1/p' "$tmp/run.json")
      echo "SKIP: ${reason:-the CUDA backend is not available}"
      exit 0
    fi
    cat "$tmp/run.json"
    cat "$tmp/run.json" >> "$tmp/all.jsonl"
  done
done

if [ -n "${VN_BENCH_OUT:-}" ] && [ -f "$tmp/all.jsonl" ]; then
  cp "$tmp/all.jsonl" "$VN_BENCH_OUT"
fi
if [ -f "$tmp/all.jsonl" ]; then
  python3 - "$tmp/all.jsonl" <<'EOF'
import json
import sys

rows = [json.loads(line) for line in open(sys.argv[1])]
r0 = rows[0]
print()
print("%s (sm_%s, %d SMs); %s family, %d warm-up + %d timed steps; aot on world:aot"
      % (r0["device"], r0["capability"].replace(".", ""), r0["sms"], r0["family"], r0["warmup"], r0["steps"]))
print()
print("| model | precision | batch | clips/s (median) | clips/s (mean) | GFLOP/clip | TFLOP/s | peak TFLOP/s | MFU |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
for r in rows:
    peak = "%.1f" % r["peak_tflops"] if r["peak_tflops"] is not None else "n/a"
    mfu = "%.1f%%" % (100 * r["mfu"]) if r["mfu"] is not None else "n/a"
    print("| %s | %s | %d | %.1f | %.1f | %.2f | %.2f | %s | %s |"
          % (r["model"], r["precision"], r["batch"], r["clips_per_s"], r["clips_per_s_mean"],
             r["flops_per_clip"] / 1e9, r["achieved_tflops"], peak, mfu))
print()
for src in sorted({(r["precision"], r["peak_source"]) for r in rows}):
    print("peak %s: %s" % src)
EOF
fi
exit "$failed"
