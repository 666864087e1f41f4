#!/bin/sh
# The vn_world generation benchmark of issue 4, in one command: builds bench_world, measures
# clips/s per task at 16x64x64 RGB on 1 and 2 threads (uint8, and float32 on 2 threads), and
# writes the table into docs/PERFORMANCE.md and docs/WORLD.md between the world-bench markers
# (the rest of PERFORMANCE.md belongs to other benchmarks and is left alone).
#   ./bench/world_bench.sh        (VN_BENCH_BUILD=dir picks the build tree, default build;
#                                  VN_BENCH_SECONDS=s per repetition (5 of them), default 0.5)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${VN_BENCH_BUILD:-build}
seconds=${VN_BENCH_SECONDS:-0.5}
cd "$root"
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" --buildtype=release
fi
ninja -C "$build" bench/bench_world
load=$(cut -d' ' -f1 /proc/loadavg)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$build/bench/bench_world" --frames 16 --size 64 --channels 3 --threads 1,2 --seconds "$seconds" > "$tmp/u8.jsonl"
"$build/bench/bench_world" --frames 16 --size 64 --channels 3 --threads 2 --seconds "$seconds" --dtype f32 > "$tmp/f32.jsonl"
cores=$(nproc)
cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
python3 - "$tmp/u8.jsonl" "$tmp/f32.jsonl" "$root/docs" "$cores" "$cpu" "$load" <<'EOF'
import os
import datetime
import json
import sys

u8_path, f32_path, docs, cores, cpu, load = sys.argv[1:7]
rate = {}
for path in (u8_path, f32_path):
    for line in open(path):
        r = json.loads(line)
        rate[(r["task"], r["threads"], r["dtype"])] = (r["clips_per_s"], r["median_clips_per_s"])
tasks = ["aot", "gravity", "collision", "order", "speed", "intphys", "future"]
lines = [
    "<!-- BEGIN world-bench -->",
    "vn_world generation, 16 frames of 64 x 64 RGB per clip, `vn_world_batch` in batches of 64 "
    "(the future task: one `vn_world_future` query of 8 context frames and 8 candidates of 8 frames per call). "
    "Best of 5 repetitions (median in parentheses). Run %s on %s cores (%s) by bench/world_bench.sh; "
    "load average %s before the run (other work on the machine takes time slices from the 2-thread runs). "
    "Target: 1,000 clips/s on 2 cores."
    % (datetime.date.today().isoformat(), cores, cpu, load),
    "",
    "| task | uint8, 1 thread | uint8, 2 threads | float32, 2 threads |",
    "|---|---:|---:|---:|",
]
def cell(key, unit):
    best, med = rate[key]
    return "%.0f%s/s (%.0f)" % (best, unit, med)


for t in tasks:
    unit = " queries" if t == "future" else ""
    lines.append("| %s | %s | %s | %s |" % (t, cell((t, 1, "u8"), unit), cell((t, 2, "u8"), unit),
                                          cell((t, 2, "f32"), unit)))
lines.append("<!-- END world-bench -->")
block = "\n".join(lines)

begin, end = "<!-- BEGIN world-bench -->", "<!-- END world-bench -->"
for name in ("PERFORMANCE.md", "WORLD.md"):
    doc = os.path.join(docs, name)
    text = open(doc).read()
    if begin in text and end in text:
        a = text.index(begin)
        b = text.index(end) + len(end)
        text = text[:a] + block + text[b:]
    else:
        text = text.rstrip("\n") + "\n\n## Procedural clips (vn_world)\n\n" + block + "\n"
    open(doc, "w").write(text)
print(block)
EOF
