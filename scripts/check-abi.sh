#!/bin/sh
# The ABI stage (docs/ABI.md): build libvnative.so with debug info in build-abi/, dump the
# ABI its public headers describe, and compare it with the baseline in lib/abi/. A break
# fails unless the soversion changed; compatible changes pass with a note. Then a self-test
# builds three altered copies of the library and proves the check tells additions from breaks.
# VN_ABI_SELFTEST=0 leaves the self-test out (a quick local run).
set -eu
. "$(dirname "$0")/abi-common.sh"
start=$(date +%s)
passed=0
failed=0

ok() { passed=$((passed + 1)); echo "abi: PASS: $*"; }
bad() { failed=$((failed + 1)); echo "abi: FAIL: $*"; }

if ! "$vn_root/scripts/install-deps.sh" build abi; then
    if [ "$(id -u)" != 0 ] && ! command -v abidiff >/dev/null 2>&1; then
        echo "check-abi: SKIP: abigail-tools is not installed and installing it needs root"
        exit 0
    fi
    echo "check-abi: FAIL: the build and abi packages could not be installed"
    exit 1
fi

work="$vn_abi_build_dir/abi"
mkdir -p "$work"
current="$work/current.abi"
if ! { vn_abi_build "$vn_root" "$vn_abi_build_dir" &&
       vn_abi_dump "$vn_root" "$vn_abi_build_dir" "$current" &&
       vn_abi_check_dump "$vn_root" "$current"; }; then
    echo "check-abi: FAIL: the library's ABI could not be built and dumped (above)"
    exit 1
fi
cur_sov=$(vn_abi_soversion "$current")

# --- the tree against the baseline ---------------------------------------------------------
if baseline=$(vn_abi_baseline); then
    base_sov=$(vn_abi_soversion "$baseline")
    report="$work/baseline-report.txt"
    verdict=$(vn_abi_compare "$baseline" "$current" "$report")
    echo "abi: lib/abi/$(basename "$baseline") (soversion $base_sov)" \
         "vs the tree (soversion $cur_sov): $verdict"
    if [ "$verdict" = error ]; then
        cat "$report"
        bad "abidiff failed"
    elif [ "$cur_sov" != "$base_sov" ]; then
        [ "$verdict" = same ] || cat "$report"
        ok "soversion bumped (from $base_sov to $cur_sov), so a break is allowed; refresh the" \
           "baseline with scripts/update-abi-baseline.sh and commit lib/abi/"
    elif [ "$verdict" = break ]; then
        cat "$report"
        bad "ABI break under the unchanged soversion $cur_sov (report above). Restore the interface," \
            "or, if the break is wanted, bump vn_soversion in meson.build and refresh the baseline" \
            "with scripts/update-abi-baseline.sh (docs/ABI.md)"
    elif [ "$verdict" = compatible ]; then
        cat "$report"
        ok "compatible changes only (above). Refresh the baseline with" \
           "scripts/update-abi-baseline.sh and commit lib/abi/, so later changes are judged against them"
    else
        ok "the public ABI is unchanged"
    fi
else
    bad "no usable baseline"
fi

# --- self-test: altered copies of the library must get the right verdict --------------------
# Each case edits a copy of the tree (the edit is checked to have taken, so a header that
# moved on fails the test instead of quietly testing nothing), builds it and compares its
# dump with the tree's own. The cases share one build directory, so after the first full
# build each costs a relink or the recompilation of what includes world.h.
selftest_case() # NAME EXPECTED WORD...: the verdict, and words the report must contain
{
    _name=$1 _want=$2
    shift 2
    _out="$work/selftest-$_name"
    vn_abi_build "$st_src" "$st_bld" ||
        { bad "self-test $_name: the altered library did not build"; return 0; }
    vn_abi_dump "$st_src" "$st_bld" "$_out.abi" || { bad "self-test $_name: abidw failed"; return 0; }
    _v=$(vn_abi_compare "$current" "$_out.abi" "$_out.txt")
    _missing=""
    for _w in "$@"; do
        grep -q -- "$_w" "$_out.txt" || _missing="$_missing $_w"
    done
    if [ "$_v" = "$_want" ] && [ -z "$_missing" ]; then
        ok "self-test $_name: $_v, naming $*"
    else
        cat "$_out.txt"
        bad "self-test $_name: verdict $_v (expected $_want); the report lacks:${_missing:- nothing}"
    fi
}

edit() # FILE SED-EXPRESSION: apply the edit, fail if it changed nothing
{
    cp "$1" "$1.orig"
    sed -i "$2" "$1"
    if cmp -s "$1" "$1.orig"; then
        echo "abi: self-test edit '$2' did not apply to $1: update the self-test in scripts/check-abi.sh" >&2
        return 1
    fi
}

if [ "${VN_ABI_SELFTEST:-1}" != 0 ]; then
    st_src="$vn_abi_build_dir/selftest/src"
    st_bld="$vn_abi_build_dir/selftest/build"
    rm -rf "$st_src"
    mkdir -p "$st_src"
    tar -C "$vn_root" --exclude=./.git --exclude='./build*' --exclude=./bench/out --exclude='./demo-*' \
        --exclude=__pycache__ -cf - . | tar -C "$st_src" -xf -
    hdr="$st_src/include/vnative/world.h"
    map="$st_src/lib/vnative.map"
    # additions: a new function, and a member appended to a versioned options struct.
    if edit "$hdr" 's/^} vn_world_options;/    int abi_selftest_appended;\n} vn_world_options;/' &&
       printf 'VN_API int vn_abi_selftest_added(void);\n' >>"$hdr" &&
       printf 'int vn_abi_selftest_added(void) { return 1; }\n' >>"$st_src/src/world/world.c"; then
        selftest_case additions compatible vn_abi_selftest_added vn_world_options
        # removal: an exported function hidden by the version script.
        if edit "$map" 's/^\(  local:\)$/\1\n    vn_world_describe;/'; then
            selftest_case removal break vn_world_describe
            cp "$map.orig" "$map" # a copy, not a move: the restored map must look newer to ninja
        else
            bad "self-test removal: the edit did not apply"
        fi
        # layout: a member of a versioned struct changes type, moving the members after it.
        if edit "$hdr" 's/^\( *\)float noise;/\1double noise;/'; then
            selftest_case layout break "type of 'float noise' changed"
        else
            bad "self-test layout: the edit did not apply"
        fi
    else
        bad "self-test: the additions edit did not apply"
    fi
fi

total=$((passed + failed))
result=PASS
[ $failed -eq 0 ] || result=FAIL
echo "check-abi: $result: $total checks, $passed passed, $failed failed ($(($(date +%s) - start)) s)"
[ $failed -eq 0 ]
