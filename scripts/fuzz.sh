#!/bin/sh
# The fuzzing stage (docs/RELIABILITY.md, "Fuzzing"): build the libFuzzer harnesses of
# tests/fuzz with clang, ASan and UBSan in build-fuzz, write the seed corpora, and run every
# harness for SECONDS (default 60, the CI stage).
#
#   scripts/fuzz.sh [SECONDS]
#
# Environment:
#   VN_FUZZ_JOBS=N        harnesses run at once (default 2: the CI machine's cores)
#   VN_FUZZ_TARGETS="…"   a subset of: video safetensors manifest npy
#   VN_FUZZ_KEEP_GOING=1  after a crash, save it and fuzz on until SECONDS are used (the long
#                         development runs); the stage still fails
#   VN_BUILD_FUZZ=DIR     the build directory (default build-fuzz)
# A crash, leak, timeout or out-of-memory stops a harness; its input is kept under
# DIR/artifacts/HARNESS/ and the stage fails. Exit status 0 on PASS (or SKIP: no clang, no root), 1 on FAIL.
set -u
vn_root=$(cd "$(dirname "$0")/.." && pwd)
seconds="${1:-60}"
jobs="${VN_FUZZ_JOBS:-2}"
targets="${VN_FUZZ_TARGETS:-video safetensors manifest npy}"
bdir="${VN_BUILD_FUZZ:-$vn_root/build-fuzz}"
t_start=$(date +%s)

case "$seconds" in '' | *[!0-9]*) echo "usage: scripts/fuzz.sh [SECONDS]" >&2; exit 2 ;; esac

if ! "$vn_root/scripts/install-deps.sh" build fuzz; then
    # As the other stages: without root a missing toolchain is a SKIP, with root a failure.
    if [ "$(id -u)" != 0 ] && ! command -v clang-14 >/dev/null 2>&1; then
        echo "fuzz: SKIP: clang-14 is not installed and installing it needs root"
        exit 0
    fi
    echo "fuzz: FAIL (dependencies)"
    exit 1
fi

# Only what the harnesses need: the library and tests/fuzz, no CUDA or MPI, assertions on.
if [ ! -f "$bdir/build.ninja" ]; then
    CC=clang-14 CXX=clang++-14 meson setup "$bdir" "$vn_root" -Dfuzz=true -Dtests=false -Dpython=false \
        -Dcuda=disabled -Dmpi=disabled -Dbuildtype=debugoptimized -Db_ndebug=false >"$bdir.setup.log" 2>&1 ||
        { cat "$bdir.setup.log"; echo "fuzz: FAIL (meson setup)"; exit 1; }
    rm -f "$bdir.setup.log"
fi
build_targets="tests/fuzz/make_seeds"
for t in $targets; do build_targets="$build_targets tests/fuzz/fuzz_$t"; done
# shellcheck disable=SC2086
ninja -C "$bdir" -j2 $build_targets >"$bdir/fuzz-build.log" 2>&1 ||
    { tail -40 "$bdir/fuzz-build.log"; echo "fuzz: FAIL (build)"; exit 1; }
t_built=$(date +%s)

# Seeds: the library's own writers, then videos of other containers and codecs from the ffmpeg
# CLI. A seed is added to the working corpus of its harness, which keeps what the fuzzer finds.
corpus="$bdir/corpus"
seeds="$bdir/seeds"
rm -rf "$seeds"
"$bdir/tests/fuzz/make_seeds" "$seeds" >/dev/null || { echo "fuzz: FAIL (seed generator)"; exit 1; }
if command -v ffmpeg >/dev/null 2>&1; then
    src="testsrc2=size=32x24:rate=10:duration=0.5"
    ff() { ffmpeg -nostdin -loglevel error -y -f lavfi -i "$src" "$@"; }
    ff -c:v mjpeg -pix_fmt yuvj420p "$seeds/video/mjpeg.avi"
    ff -c:v mpeg2video -g 3 "$seeds/video/mpeg2.ts"
    ff -c:v gif "$seeds/video/anim.gif"
    ff -pix_fmt yuv420p "$seeds/video/raw.y4m"
    ff -c:v mpeg4 -metadata:s:v rotate=90 "$seeds/video/rotated.mov"
    ff -c:v libtheora -q:v 3 "$seeds/video/theora.ogv" 2>/dev/null || true
    ff -c:v msmpeg4v2 "$seeds/video/msmpeg4.wmv" 2>/dev/null || true
fi
for t in $targets; do
    mkdir -p "$corpus/$t" "$bdir/artifacts/$t"
    cp "$seeds/$t"/* "$corpus/$t/"
    # A seed that does not parse would only teach the fuzzer error paths.
    for f in "$seeds/$t"/*; do
        line=$(VN_FUZZ_VERBOSE=1 "$bdir/tests/fuzz/fuzz_$t" "$f" 2>&1 | grep '^vn_fuzz:' | head -1)
        case "$line" in *": VN_OK") ;; *) echo "fuzz: seed $f does not parse: $line"; echo "fuzz: FAIL (seeds)"; exit 1 ;; esac
    done
done
t_seeded=$(date +%s)

max_len() { [ "$1" = video ] && echo 32768 || echo 4096; }

# One harness for SECONDS; with VN_FUZZ_KEEP_GOING, restarted after a crash until the time
# is used. Writes DIR/logs/HARNESS.N.log per run and a summary line to DIR/logs/HARNESS.sum.
run_one()
{
    t=$1
    logs="$bdir/logs"
    mkdir -p "$logs"
    : >"$logs/$t.sum"
    end=$(($(date +%s) + seconds))
    run=0 execs=0 crashes=0
    while :; do
        left=$((end - $(date +%s)))
        [ "$left" -gt 0 ] || break
        run=$((run + 1))
        log="$logs/$t.$run.log"
        "$bdir/tests/fuzz/fuzz_$t" "$corpus/$t" -max_total_time="$left" -timeout=30 -rss_limit_mb=2048 \
            -max_len="$(max_len "$t")" -print_final_stats=1 -artifact_prefix="$bdir/artifacts/$t/" \
            >"$log" 2>&1
        rc=$?
        n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
        execs=$((execs + ${n:-0}))
        if [ "$rc" -ne 0 ]; then
            crashes=$((crashes + 1))
            art=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
            echo "fuzz: $t: CRASH (exit $rc) after $n executions: ${art:-no artifact}; log $log"
            grep -m3 -E 'ERROR: |runtime error|contract broken|SUMMARY' "$log" | sed 's/^/fuzz:   /'
            [ "${VN_FUZZ_KEEP_GOING:-0}" = 1 ] || break
        fi
    done
    el=$((seconds - (end - $(date +%s))))
    [ "$el" -gt 0 ] || el=1
    echo "$t $execs $crashes $run $el" >"$logs/$t.sum"
}

pids=""
n_running=0
for t in $targets; do
    run_one "$t" &
    pids="$pids $!"
    n_running=$((n_running + 1))
    if [ "$n_running" -ge "$jobs" ]; then
        wait
        n_running=0
    fi
done
wait

status=0
total=0
echo "fuzz: harness          executions   exec/s  crashes  runs   (each ${seconds}s, $jobs at a time)"
for t in $targets; do
    read -r _ execs crashes runs el <"$bdir/logs/$t.sum" || { execs=0 crashes=1 runs=0 el=1; }
    total=$((total + execs))
    printf 'fuzz: %-14s %12s %8s %8s %5s\n' "$t" "$execs" "$((execs / el))" "$crashes" "$runs"
    [ "$crashes" -eq 0 ] || status=1
done
t_end=$(date +%s)
echo "fuzz: build $((t_built - t_start))s, seeds $((t_seeded - t_built))s, fuzzing $((t_end - t_seeded))s, total $((t_end - t_start))s"
if [ "$status" -eq 0 ]; then
    echo "fuzz: PASS ($(echo "$targets" | wc -w) harnesses, $total executions, no crash)"
else
    echo "fuzz: FAIL (crash inputs under $bdir/artifacts/; replay one with $bdir/tests/fuzz/fuzz_HARNESS FILE)"
fi
exit $status
