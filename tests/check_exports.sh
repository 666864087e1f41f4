#!/bin/sh
# Only vn_* symbols (and the version-script node) may leave libvnative.so, the library
# must carry a SONAME, and, given the public header directory, the vn_* exports must be
# exactly the functions the headers declare with VN_API: an internal vn_* function can
# leak through the version script's vn_* wildcard (GCC's target_clones ifuncs ignore
# -fvisibility=hidden), and a leaked symbol becomes ABI that cannot be taken back.
set -eu
lib="$1"
incdir="${2:-}"
exports=$(nm -D --defined-only "$lib" | awk '{print $NF}' | sed 's/@.*//' | sort -u)
bad=$(printf '%s\n' "$exports" | grep -v '^vn_' | grep -v '^VNATIVE_[0-9]*$' || true)
count=$(printf '%s\n' "$exports" | grep -c '^vn_' || true)
soname=$(objdump -p "$lib" | awk '/SONAME/ {print $2}')
echo "exported vn_* symbols: $count; SONAME: ${soname:-none}"
status=0
if [ -n "$bad" ]; then
    echo "symbols outside vn_* are exported:"
    echo "$bad"
    status=1
fi
[ "$count" -ge 20 ] || { echo "too few vn_* exports ($count): is the version script applied?"; exit 1; }
case "$soname" in libvnative.so.*) ;; *) echo "no SONAME of the form libvnative.so.N"; status=1 ;; esac

if [ -n "$incdir" ]; then
    # One declaration per line starts with VN_API and names the function before its '('.
    decl_lines=$(grep -h '^VN_API' "$incdir"/*.h || true)
    named=$(printf '%s\n' "$decl_lines" | sed -n 's/^VN_API[^(]*[ *]\(vn_[A-Za-z0-9_]*\)(.*/\1/p')
    declared=$(printf '%s\n' "$named" | sort -u)
    n_lines=$(printf '%s\n' "$decl_lines" | grep -c . || true)
    n_named=$(printf '%s\n' "$named" | grep -c . || true)
    if [ "$n_lines" -ne "$n_named" ]; then
        echo "$((n_lines - n_named)) VN_API line(s) in $incdir do not name a vn_* function" \
             "before '(' on the same line:"
        printf '%s\n' "$decl_lines" | grep -v '^VN_API[^(]*[ *]vn_[A-Za-z0-9_]*(' || true
        status=1
    fi
    exported=$(printf '%s\n' "$exports" | grep '^vn_' || true)
    leaked=$(printf '%s\n' "$declared" "$declared" "$exported" | sort | uniq -u)
    missing=$(printf '%s\n' "$exported" "$exported" "$declared" | sort | uniq -u)
    echo "declared in $incdir: $(printf '%s\n' "$declared" | grep -c .)"
    if [ -n "$leaked" ]; then
        echo "exported but declared by no public header (make them static, rename them, or list them"
        echo "as local in lib/vnative.map):"
        echo "$leaked"
        status=1
    fi
    if [ -n "$missing" ]; then
        echo "declared with VN_API but not exported (not defined, or hidden by lib/vnative.map):"
        echo "$missing"
        status=1
    fi
fi
[ $status -eq 0 ] && echo "exports ok"
exit $status
