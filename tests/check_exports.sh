#!/bin/sh
# Only vn_* symbols (and the version-script node) may leave libvnative.so,
# and the library must carry a SONAME.
set -eu
lib="$1"
bad=$(nm -D --defined-only "$lib" | awk '{print $NF}' | grep -v '^vn_' | grep -v '^VNATIVE_[0-9]*$' || true)
count=$(nm -D --defined-only "$lib" | awk '{print $NF}' | grep -c '^vn_' || true)
soname=$(objdump -p "$lib" | awk '/SONAME/ {print $2}')
echo "exported vn_* symbols: $count; SONAME: ${soname:-none}"
if [ -n "$bad" ]; then
    echo "symbols outside vn_* are exported:"
    echo "$bad"
    exit 1
fi
[ "$count" -ge 20 ] || { echo "too few vn_* exports ($count): is the version script applied?"; exit 1; }
case "$soname" in libvnative.so.*) ;; *) echo "no SONAME of the form libvnative.so.N"; exit 1 ;; esac
echo "exports ok"
