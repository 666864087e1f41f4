#!/bin/sh
# The tests: install what is missing, configure meson in build/, compile, run every suite.
# Extra arguments go to `meson test` (e.g. a suite name, or --suite unit).
set -eu
. "$(dirname "$0")/common.sh"
vn_prepare build test

status=0
meson test -C "$vn_build" --print-errorlogs --num-processes 2 "$@" || status=$?

# Check prints its own summary per suite; show those lines, then one total.
python3 "$vn_root/scripts/test_summary.py" "$vn_build/meson-logs/testlog.json" || status=1

# Reliability stages (docs/RELIABILITY.md), each its own script and build directory. They
# run on a whole-suite run only (no arguments); VN_TEST_QUICK=1 leaves them out.
if [ $# -eq 0 ] && [ "${VN_TEST_QUICK:-0}" != 1 ]; then
    "$vn_root/scripts/check-abi.sh" || status=1
    "$vn_root/scripts/fuzz.sh" || status=1
    "$vn_root/scripts/test-sanitizers.sh" || status=1
fi
exit $status
