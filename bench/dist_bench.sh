#!/bin/sh
# Data-parallel throughput on this machine (issue 9): `vnative train` on xs world:aot with
# 1 rank x 1 thread, 1 rank x 2 threads, and mpirun -np 2 with 1 thread each, at the same
# global batch; also 2 ranks at twice the global batch. Prints a markdown table of the
# median clips/s (steps after the first 5), the ratios, and the all-reduce time per step,
# for docs/DISTRIBUTED.md. Timings are wall clock on a shared machine: compare ratios.
#   ./bench/dist_bench.sh      (VN_BENCH_BUILD=dir, default build; VN_BENCH_STEPS, default 40)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${VN_BENCH_BUILD:-build}
steps=${VN_BENCH_STEPS:-40}
cd "$root"
[ -f "$build/build.ninja" ] || meson setup "$build" --buildtype=release
ninja -C "$build" src/cli/vnative >/dev/null
command -v mpirun >/dev/null || { echo "SKIP: mpirun is not installed (openmpi-bin)"; exit 0; }
cli="$root/$build/src/cli/vnative"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none
common="--model xs --objective aot --data world:aot --eval-every 0 --save-every 0 --steps $steps --quiet"
# name, launcher prefix, threads, local batch
run() {
  name=$1; shift; np=$1; threads=$2; batch=$3
  if [ "$np" = 1 ]; then
    "$cli" train $common --threads "$threads" --batch "$batch" --out "$tmp/$name" --log "$tmp/$name.jsonl" > "$tmp/$name.out"
  else
    mpirun -np "$np" "$cli" train $common --threads "$threads" --batch "$batch" --out "$tmp/$name" \
      --log "$tmp/$name.jsonl" > "$tmp/$name.out"
  fi
}
run one_t1 1 1 16
run one_t2 1 2 16
run two_t1 2 1 8
run two_t1_big 2 1 16
python3 - "$tmp" <<'PY'
import json, os, re, statistics, sys
tmp = sys.argv[1]
def med(name):
    rows = [json.loads(l) for l in open(os.path.join(tmp, name + ".jsonl")) if l.strip()]
    rates = [r["clips_per_s"] for r in rows if r.get("type") == "step"][5:]
    return statistics.median(rates)
def reduce_ms(name):
    m = re.search(r"all-reduce ([0-9.]+) ms per step", open(os.path.join(tmp, name + ".out")).read())
    return float(m.group(1)) if m else None
base = med("one_t1")
rows = [("1 rank x 1 thread", "16", "one_t1"), ("1 rank x 2 threads", "16", "one_t2"),
        ("2 ranks x 1 thread", "16 (8 + 8)", "two_t1"), ("2 ranks x 1 thread", "32 (16 + 16)", "two_t1_big")]
print("| run | global batch | clips/s (median) | vs 1 rank x 1 thread | all-reduce per step |")
print("|---|---|---:|---:|---:|")
for label, batch, name in rows:
    r, ms = med(name), reduce_ms(name)
    print(f"| {label} | {batch} | {r:.1f} | {r / base:.2f}x | {'%.1f ms' % ms if ms is not None else '-'} |")
PY
