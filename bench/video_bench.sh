#!/bin/sh
# The clip I/O benchmark of issue 3, in one command: builds what is missing, runs vnative,
# the ffmpeg CLI and PyAV on the same inputs, and writes the table into docs/PERFORMANCE.md.
#   ./bench/video_bench.sh            (VN_BENCH_QUICK=1 for a short smoke run)
# Needs: ffmpeg (with libx264), Debian's python3-av and python3-numpy for /usr/bin/python3.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${VN_BENCH_BUILD:-build}
cd "$root"
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" --buildtype=release
fi
ninja -C "$build" bench/bench_video
# The peer must use Debian's interpreter, where python3-av lives, not a pyenv python3 on PATH.
/usr/bin/python3 -c 'import av, numpy' 2>/dev/null || {
  echo "video_bench.sh: /usr/bin/python3 cannot import av and numpy: apt-get install python3-av python3-numpy" >&2
  exit 1
}
exec /usr/bin/python3 "$root/bench/run_bench.py"
