#!/bin/sh
# Regenerate the ABI baseline lib/abi/libvnative.so.N.abi from the current tree (N: the
# soversion in meson.build). Run it deliberately, after a reviewed addition to the API or
# after an ABI break that came with a soversion bump (docs/ABI.md), and commit lib/abi/.
# It refuses to record a break under an unchanged soversion unless given --force.
set -eu
. "$(dirname "$0")/abi-common.sh"
force=0
case "${1:-}" in
    --force) force=1 ;;
    "") ;;
    *) echo "usage: $0 [--force]" >&2; exit 2 ;;
esac

"$vn_root/scripts/install-deps.sh" build abi
vn_abi_build "$vn_root" "$vn_abi_build_dir"
mkdir -p "$vn_abi_build_dir/abi" "$vn_abi_dir"
new="$vn_abi_build_dir/abi/current.abi"
vn_abi_dump "$vn_root" "$vn_abi_build_dir" "$new"
vn_abi_check_dump "$vn_root" "$new"
sov=$(vn_abi_soversion "$new")
[ -n "$sov" ] || { echo "update-abi-baseline: no SONAME libvnative.so.N in $new" >&2; exit 1; }
target="$vn_abi_dir/libvnative.so.$sov.abi"

for old in "$vn_abi_dir"/libvnative.so.*.abi; do
    [ -f "$old" ] || continue
    # Say what the refresh accepts, so that it is not done blind.
    report="$vn_abi_build_dir/abi/update-report.txt"
    verdict=$(vn_abi_compare "$old" "$new" "$report")
    echo "update-abi-baseline: $(basename "$old") -> $(basename "$target"): $verdict"
    [ "$verdict" = same ] || cat "$report"
    if [ "$verdict" = break ] && [ "$old" = "$target" ] && [ $force -eq 0 ]; then
        echo "update-abi-baseline: this is an ABI break under the same soversion $sov; bump" >&2
        echo "vn_soversion in meson.build instead, or pass --force if the break is intended" >&2
        echo "and nothing was released with the old interface" >&2
        exit 1
    fi
    [ "$verdict" != error ] || { echo "update-abi-baseline: abidiff failed" >&2; exit 1; }
    [ "$old" = "$target" ] || rm -f "$old"
done
cp "$new" "$target"
n=$(grep -c '<function-decl ' "$target")
echo "update-abi-baseline: wrote lib/abi/$(basename "$target") ($n functions)"
