#!/bin/sh
# The main job: install what is missing, configure and build, then run vnative.
# Until the training and probe parts land, that is `vnative info`: what this build
# contains and what the machine offers.
set -eu
. "$(dirname "$0")/common.sh"
vn_prepare build
"$vn_build/src/cli/vnative" info
