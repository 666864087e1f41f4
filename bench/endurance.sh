#!/bin/sh
# Issue 12 item 7 in one command: builds bench/endurance_loader, generates 10,000 small videos
# (5% corrupt in five ways) under $VN_ENDURANCE_DIR (default /tmp/vn_endurance; reused when it
# already holds the same set), runs the loader over them for 5 epochs at nice 19 with the RSS
# sampled per batch, and writes docs/img/endurance_rss.csv and docs/img/endurance_rss.png.
# Exit 1 when a check fails (skip counts, clip counts, RSS growth or slope). Not part of CI.
#   ./bench/endurance.sh      (VN_BENCH_BUILD=dir picks the build tree, default build;
#                              VN_ENDURANCE_FILES, VN_ENDURANCE_EPOCHS override 10000 and 5)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${VN_BENCH_BUILD:-build}
data=${VN_ENDURANCE_DIR:-/tmp/vn_endurance}
files=${VN_ENDURANCE_FILES:-10000}
epochs=${VN_ENDURANCE_EPOCHS:-5}
cd "$root"
# the library's build packages, and python3-matplotlib (group test) for the plot
"$root/scripts/install-deps.sh" build test
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" --buildtype=release
fi
nice -n 19 ninja -C "$build" -j2 bench/endurance_loader
mkdir -p docs/img
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
status=0
nice -n 19 "$build/bench/endurance_loader" "$data" docs/img/endurance_rss.csv \
  --files "$files" --corrupt-every 20 --epochs "$epochs" --batch 16 || status=$?
/usr/bin/python3 "$root/bench/endurance_plot.py" docs/img/endurance_rss.csv docs/img/endurance_rss.png \
  "vn_loader: $files files (5% corrupt), $epochs epochs, batch 16, 2 workers" || status=1
exit $status
