# Shared by check-abi.sh and update-abi-baseline.sh: the one way the library is built for
# the ABI, dumped and compared, so that the committed baseline and CI compare like with like.
# Usage: . scripts/abi-common.sh, then the vn_abi_* functions below (docs/ABI.md).
vn_root=$(cd "$(dirname "$0")/.." && pwd)
vn_abi_build_dir="${VN_ABI_BUILD_DIR:-$vn_root/build-abi}"
vn_abi_dir="$vn_root/lib/abi"

# Build libvnative.so of source tree SRC in BUILD, with DWARF for abidw. -O0 because no
# exported type depends on optimisation and it keeps the stage cheap; no CUDA because no
# public header or export depends on it (VN_HAVE_CUDA only changes function bodies), so
# the ABI is the same on machines with and without nvcc.
vn_abi_build() # SRC BUILD
{
    _src=$1 _bld=$2
    set -- --buildtype=debug -Dtests=false -Dcuda=disabled -Dpython=false -Dmpi=disabled
    mkdir -p "$_bld"
    if [ -f "$_bld/build.ninja" ]; then
        set -- --reconfigure "$@"
    fi
    if ! meson setup "$@" "$_bld" "$_src" >"$_bld/abi-setup.log" 2>&1; then
        cat "$_bld/abi-setup.log"
        echo "abi: meson setup of $_bld failed" >&2
        return 1
    fi
    if ! meson compile -C "$_bld" -j 2 vnative:shared_library >"$_bld/abi-build.log" 2>&1; then
        cat "$_bld/abi-build.log"
        echo "abi: building libvnative.so in $_bld failed" >&2
        return 1
    fi
}

# Write the ABI of BUILD/libvnative.so as abidw XML to OUT, restricted to what the public
# headers of SRC declare (and the generated version.h). Directories, source locations and
# the DT_NEEDED list are left out (--short-locs keeps translation units' base names only),
# so that the dump depends only on the tree: it gives the same bytes wherever it is built.
vn_abi_dump() # SRC BUILD OUT
{
    if ! abidw --headers-dir "$1/include/vnative" --header-file "$2/include/vnative/version.h" \
            --no-corpus-path --no-comp-dir-path --no-show-locs --short-locs --no-elf-needed \
            --drop-private-types --drop-undefined-syms --type-id-style hash \
            --out-file "$3" "$2/libvnative.so"; then
        echo "abi: abidw failed on $2/libvnative.so" >&2
        return 1
    fi
}

# Check that DUMP (of source tree SRC) describes every function the headers declare.
vn_abi_check_dump() # SRC DUMP
{
    # A dump that lost functions (no debug info, a header filter that matched nothing)
    # would compare clean against anything: every VN_API declaration must be in it.
    _declared=$(cat "$1"/include/vnative/*.h | grep -c '^VN_API' || true)
    _dumped=$(grep -c '<function-decl ' "$2" || true)
    if [ "$_dumped" -ne "$_declared" ]; then
        echo "abi: $2 describes $_dumped functions but the headers declare $_declared with VN_API" >&2
        return 1
    fi
}

# The soversion a dump records (its SONAME libvnative.so.N).
vn_abi_soversion() # DUMP
{
    sed -n "s/.*<abi-corpus [^>]*soname='libvnative\.so\.\([0-9][0-9]*\)'.*/\1/p" "$1" | head -n 1
}

# The baseline dump in lib/abi/; exactly one must be there.
vn_abi_baseline()
{
    set -- "$vn_abi_dir"/libvnative.so.*.abi
    if [ ! -f "$1" ]; then
        echo "abi: no baseline in lib/abi/: create it with scripts/update-abi-baseline.sh" >&2
        return 1
    fi
    if [ $# -ne 1 ]; then
        echo "abi: more than one baseline in lib/abi/ ($*): keep the current soversion's" >&2
        return 1
    fi
    echo "$1"
}

# Suppressions for the versioned structs that NEW only appends to (scripts/abi_suppressions.py
# says why and how that is proved).
vn_abi_suppressions() # OLD NEW OUT
{
    python3 "$vn_root/scripts/abi_suppressions.py" "$1" "$2" >"$3"
}

# Compare OLD and NEW dumps; the report goes to REPORT. Prints one verdict:
#   same        no difference in the public interface
#   compatible  only added functions or variables, members appended to versioned structs,
#               and changes abidiff calls harmless (an appended enumerator, a const added
#               to a pointed-to parameter): callers built against OLD keep working
#   break       something callers depend on was removed or changed
#   error       abidiff itself failed
# abidiff's exit bits: 1 error, 2 usage, 4 ABI change, 8 incompatible change. Bit 8 covers
# removals only: a changed member type or offset gives bit 4 alone, as additions do, so
# the report's change summaries decide between compatible and a break.
vn_abi_compare() # OLD NEW REPORT
{
    _old=$1 _new=$2 _report=$3 _supp="$3.abignore"
    vn_abi_suppressions "$_old" "$_new" "$_supp" || { echo error; return 0; }
    set -- --no-show-locs --ignore-soname --suppressions "$_supp" "$_old" "$_new"
    _rc=0
    abidiff "$@" >"$_report" 2>&1 || _rc=$?
    if [ $((_rc & 3)) -ne 0 ] || [ "$_rc" -gt 15 ]; then
        echo error
    elif [ "$_rc" -eq 0 ]; then
        # Nothing harmful; what was filtered out still makes the baseline stale.
        _rc=0
        abidiff --harmless "$@" >"$_report" 2>&1 || _rc=$?
        if [ $((_rc & 3)) -ne 0 ] || [ "$_rc" -gt 15 ]; then
            echo error
        elif [ "$_rc" -ne 0 ] || [ -s "$_supp" ]; then
            vn_abi_note_appended "$_supp" "$_report"
            echo compatible
        else
            echo same
        fi
    else
        # "Functions changes summary: 0 Removed, 1 Changed (2 filtered out), 1 Added function"
        _lost=$(awk '/changes summary:/ {
                    for (i = 2; i <= NF; i++)
                        if ($i ~ /^(Removed|Changed)/ && $(i - 1) ~ /^[0-9]+$/) n += $(i - 1)
                 } END { print n + 0 }' "$_report")
        if [ $((_rc & 8)) -ne 0 ] || [ "$_lost" -gt 0 ]; then
            echo break
        else
            vn_abi_note_appended "$_supp" "$_report"
            echo compatible
        fi
    fi
}

# The suppressions hide appended members from abidiff's report: name the structs there.
vn_abi_note_appended() # SUPPRESSIONS REPORT
{
    if [ -s "$1" ]; then
        echo "Versioned structs with members appended (allowed, DESIGN.md convention 4):"
        sed -n 's/^  name = /  /p' "$1"
    fi >>"$2"
}
