#!/bin/sh
# The sanitizer stage (docs/RELIABILITY.md, "Sanitizers and valgrind" and "Thread safety"):
#   asan      build-asan: library, CLI and tests with -Db_sanitize=address,undefined, and the
#             whole meson test suite run there (C suites with leak checking)
#   valgrind  build-valgrind: a plain gcc build; representative programs under valgrind
#             memcheck (tests/valgrind.supp holds the third-party suppressions)
#   tsan      build-tsan: -Db_sanitize=thread; the thread_encode suite and the other
#             suites whose threads are the library's own
#
#   scripts/test-sanitizers.sh
#
# Environment:
#   VN_SAN_PARTS="asan valgrind tsan"   the parts to run (default all three)
#   VN_BUILD_ASAN, VN_BUILD_VALGRIND, VN_BUILD_TSAN   build directories (default build-asan,
#                                       build-valgrind, build-tsan in the tree)
# Exit status 0 on PASS (or SKIP: a tool missing and no root to install it), 1 on FAIL.
set -u
vn_root=$(cd "$(dirname "$0")/.." && pwd)
parts="${VN_SAN_PARTS:-asan valgrind tsan}"
b_asan="${VN_BUILD_ASAN:-$vn_root/build-asan}"
b_vg="${VN_BUILD_VALGRIND:-$vn_root/build-valgrind}"
b_tsan="${VN_BUILD_TSAN:-$vn_root/build-tsan}"
t0=$(date +%s)
failed=0
summary=""

note() { summary="$summary
  $*"; }
elapsed() { echo "$(($(date +%s) - $1))s"; }

if ! "$vn_root/scripts/install-deps.sh" build test sanitizers; then
    if [ "$(id -u)" != 0 ] && ! command -v valgrind >/dev/null 2>&1; then
        echo "test-sanitizers: SKIP: valgrind is not installed and installing it needs root"
        exit 0
    fi
    echo "test-sanitizers: FAIL (dependencies)"
    exit 1
fi

# meson setup DIR OPTIONS...: configure once, reconfigure (keeping the objects) after that.
setup() {
    dir=$1
    shift
    if [ -f "$dir/meson-private/coredata.dat" ]; then
        meson setup --reconfigure "$dir" "$vn_root" "$@" >"$dir.setup.log" 2>&1
    else
        meson setup "$dir" "$vn_root" "$@" >"$dir.setup.log" 2>&1
    fi || { cat "$dir.setup.log"; return 1; }
    rm -f "$dir.setup.log"
}

# "OK FAIL SKIP" counts of a meson testlog.json, and the names of the failures.
counts() {
    python3 - "$1" <<'EOF'
import json, sys
ok = fail = skip = 0
bad = []
for line in open(sys.argv[1]):
    if not line.strip():
        continue
    r = json.loads(line)
    if r["result"] == "OK":
        ok += 1
    elif r["result"] == "SKIP":
        skip += 1
    else:
        fail += 1
        bad.append(r["name"].split(" / ")[-1] + "=" + r["result"])
print(ok, fail, skip, ",".join(bad))
EOF
}

# Check's per-test timeouts are set for the plain build; sanitized code runs 2-5x slower.
export CK_TIMEOUT_MULTIPLIER=4

# --- AddressSanitizer + UndefinedBehaviorSanitizer, the whole suite -------------------------
# CUDA is left out: nvcc compiles the kernels and their host stubs without the sanitizer
# runtime, and with no GPU here that module runs only its no-GPU fallback, which the
# plain build's cuda_fallback suite covers. The Python suites get the ASan runtime
# preloaded by tests/meson.build.
run_asan() {
    t=$(date +%s)
    setup "$b_asan" -Dtests=true -Dcuda=disabled -Db_sanitize=address,undefined -Dbuildtype=debugoptimized ||
        { failed=1; note "asan+ubsan: FAIL (meson setup)"; return; }
    if ! ninja -C "$b_asan" -j2 >"$b_asan/san-build.log" 2>&1; then
        tail -40 "$b_asan/san-build.log"
        failed=1
        note "asan+ubsan: FAIL (build)"
        return
    fi
    tb=$(elapsed "$t")
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:print_summary=1 \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:print_summary=1 \
        meson test -C "$b_asan" --num-processes 2 --timeout-multiplier 3 --print-errorlogs >"$b_asan/san-test.log" 2>&1
    # shellcheck disable=SC2046 # four words: ok, failed, skipped, the failures
    set -- $(counts "$b_asan/meson-logs/testlog.json")
    if [ "$2" != 0 ]; then
        grep -v '^ninja' "$b_asan/san-test.log" | tail -150
        failed=1
        note "asan+ubsan: FAIL: $1 ok, $2 failed ($4), $3 skipped (build $tb, all $(elapsed "$t"))"
    else
        note "asan+ubsan: PASS: $1 ok, 0 failed, $3 skipped (build $tb, all $(elapsed "$t"))"
    fi
}

# --- valgrind memcheck on a plain build ----------------------------------------------------
# CK_FORK=no: one process per program, so every leak is counted once at its exit.
# OMP_WAIT_POLICY=passive: valgrind runs one thread at a time, and an OpenMP worker that
# spins waiting for the next parallel region would hold the CPU from the one with work.
# vg NAME CHECK_CASE PROGRAM ARGS...: CHECK_CASE names the one Check test case to
# run, or is empty for all; the verdict goes to $b_vg/vg-NAME.result.
vg() {
    name=$1
    ck_case=$2
    shift 2
    log="$b_vg/vg-$name.log"
    s=$(date +%s)
    if env CK_FORK=no OMP_WAIT_POLICY=passive ${ck_case:+CK_RUN_CASE=$ck_case} valgrind -q --leak-check=full \
        --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --error-exitcode=1 \
        --num-callers=40 --suppressions="$vn_root/tests/valgrind.supp" "$@" >"$log" 2>&1; then
        echo "PASS" >"$b_vg/vg-$name.result"
        echo "valgrind: PASS: $name ($(elapsed "$s"))"
    else
        echo "FAIL" >"$b_vg/vg-$name.result"
        tail -60 "$log"
        echo "valgrind: FAIL: $name ($(elapsed "$s")), log $log"
    fi
}

# Real footage: decode (the loader's workers, FFmpeg), a training step on it with the
# checkpoint written, a resumed step that reads it back, and a video embedded with it.
vg_real_lane() {
    real="$vn_root/../shared/data/real"
    a="$real/deb-mecavideo__Effet_force_magnetique.ogv"
    b="$real/deb-mecavideo__Force_constante.avi"
    if [ ! -f "$a" ] || [ ! -f "$b" ]; then
        for n in train_step train_resume encode_video; do echo "SKIP" >"$b_vg/vg-$n.result"; done
        echo "valgrind: SKIP: train_step, train_resume, encode_video: no real clips at $real"
        return
    fi
    mkdir -p "$tmp/videos"
    cp "$a" "$b" "$tmp/videos/"
    set -- --data "$tmp/videos" --batch 2 --threads 2 --eval-every 0 --quiet --out "$tmp/run"
    vg train_step '' "$cli" train "$@" --steps 1 --save-every 1
    vg train_resume '' "$cli" train "$@" --steps 2 --resume
    vg encode_video '' "$cli" encode --model "$tmp/run" --input "$tmp/videos/$(basename "$b")" --out "$tmp/emb.npy" \
        --threads 2 --quiet
}

run_valgrind() {
    t=$(date +%s)
    setup "$b_vg" -Dtests=true -Dcuda=disabled -Dpython=false -Dmpi=disabled -Dbuildtype=debugoptimized ||
        { failed=1; note "valgrind: FAIL (meson setup)"; return; }
    if ! ninja -C "$b_vg" -j2 tests/test_core tests/test_safetensors tests/test_checkpoint tests/test_encoder \
        src/cli/vnative >"$b_vg/san-build.log" 2>&1; then
        tail -40 "$b_vg/san-build.log"
        failed=1
        note "valgrind: FAIL (build)"
        return
    fi
    tb=$(elapsed "$t")
    tmp="$b_vg/vg-tmp"
    rm -rf "$tmp" "$b_vg"/vg-*.result
    mkdir -p "$tmp"
    export VN_TEST_SRCDIR="$vn_root" VN_TEST_BUILDDIR="$b_vg" VN_TEST_TMPDIR="$tmp" VN_BACKEND=
    cli="$b_vg/src/cli/vnative"
    # valgrind runs a program's threads one at a time: two lanes keep both cores busy.
    {
        vg encoder model "$b_vg/tests/test_encoder"
        vg core '' "$b_vg/tests/test_core"
        vg checkpoint round_trip "$b_vg/tests/test_checkpoint"
        vg safetensors '' "$b_vg/tests/test_safetensors"
    } &
    lane=$!
    vg_real_lane
    wait "$lane"
    set -- "$b_vg"/vg-*.result
    ok=$(cat "$@" | grep -c PASS)
    bad=$(cat "$@" | grep -c FAIL)
    skip=$(cat "$@" | grep -c SKIP)
    if [ "$bad" != 0 ]; then
        failed=1
        note "valgrind: FAIL: $ok ok, $bad failed, $skip skipped (build $tb, all $(elapsed "$t"))"
    else
        note "valgrind: PASS: $ok ok, 0 failed, $skip skipped (build $tb, all $(elapsed "$t"))"
    fi
}

# --- ThreadSanitizer -----------------------------------------------------------------------
# VN_NO_CLONES: the target_clones kernels are resolved by an ifunc that runs during
# relocation, before the TSan runtime is up, and the instrumented resolver crashes there.
# The clones are the same C compiled for other ISAs; the plain build tests them.
# The suites: one model shared by 8 threads (thread_encode), thread-local errors and the log
# callback (core), the loader's workers and queue (loader). Suites whose threads are OpenMP
# teams (train_prefetch, the nn suites) are not run: libgomp is not instrumented and its
# teams read as races on every parallel region.
tsan_suites="thread_encode core loader"
run_tsan() {
    t=$(date +%s)
    setup "$b_tsan" -Dtests=true -Dcuda=disabled -Dpython=false -Dmpi=disabled -Db_sanitize=thread \
        -Dbuildtype=debugoptimized -Dc_args=-DVN_NO_CLONES ||
        { failed=1; note "tsan: FAIL (meson setup)"; return; }
    targets=""
    for s in $tsan_suites; do targets="$targets tests/test_$s"; done
    # shellcheck disable=SC2086
    if ! ninja -C "$b_tsan" -j2 $targets >"$b_tsan/san-build.log" 2>&1; then
        tail -40 "$b_tsan/san-build.log"
        failed=1
        note "tsan: FAIL (build)"
        return
    fi
    tb=$(elapsed "$t")
    # shellcheck disable=SC2086
    TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$vn_root/tests/tsan.supp" \
        meson test -C "$b_tsan" --no-rebuild --num-processes 2 --print-errorlogs $tsan_suites \
        >"$b_tsan/san-test.log" 2>&1
    # shellcheck disable=SC2046 # four words: ok, failed, skipped, the failures
    set -- $(counts "$b_tsan/meson-logs/testlog.json")
    if [ "$2" != 0 ] || [ "$1" = 0 ]; then
        grep -v '^ninja' "$b_tsan/san-test.log" | tail -150
        failed=1
        note "tsan: FAIL: $1 ok, $2 failed ($4), $3 skipped (build $tb, all $(elapsed "$t"))"
    else
        note "tsan: PASS: $1 ok, 0 failed, $3 skipped: $tsan_suites (build $tb, all $(elapsed "$t"))"
    fi
}

for p in $parts; do
    case "$p" in
    asan) run_asan ;;
    valgrind) run_valgrind ;;
    tsan) run_tsan ;;
    *) echo "test-sanitizers: unknown part '$p' (asan, valgrind, tsan)" >&2; exit 2 ;;
    esac
done

echo "test-sanitizers:$summary"
if [ "$failed" != 0 ]; then
    echo "test-sanitizers: FAIL ($(elapsed "$t0"))"
    exit 1
fi
echo "test-sanitizers: PASS ($(elapsed "$t0"))"
exit 0
