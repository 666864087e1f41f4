#!/bin/sh
# The main job: install what is missing, configure and build, then run `vnative demo`:
# train a video encoder and a bag-of-images baseline on procedural physics, probe both
# (and a random encoder and raw pixels) on every temporal task and on the real clips in
# ../shared/data/real, print the table and write demo-out/report.html. About 15 minutes
# on 2 cores; `./scripts/demo.sh --quick` is the 2-minute smoke test. Other arguments
# go to `vnative demo` (see `vnative demo --help`).
set -eu
. "$(dirname "$0")/common.sh"
vn_prepare build
cd "$vn_root"
exec "$vn_build/src/cli/vnative" demo "$@"
