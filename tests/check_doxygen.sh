#!/bin/sh
# Run doxygen on the public headers with the configuration of `ninja docs` (docs/Doxyfile.in),
# into a scratch directory, and fail on any warning: an undocumented public symbol, a broken
# command or reference. Every warning is printed as file:line: text.
set -u
doxyfile="$1"
out="$2"
command -v doxygen >/dev/null 2>&1 || { echo "SKIP: doxygen is not installed (apt-get install doxygen)"; exit 77; }
rm -rf "$out"
mkdir -p "$out"
echo "doxygen $(doxygen --version), $doxyfile"
# The configuration fails on warnings by itself (WARN_AS_ERROR); here every warning is
# collected first, then counted.
{ cat "$doxyfile"; echo "OUTPUT_DIRECTORY = $out"; echo "WARN_AS_ERROR = NO"; } |
    doxygen - >"$out/doxygen.log" 2>"$out/warnings.txt"
rc=$?
n=$(grep -c -E '(warning|error):' "$out/warnings.txt")
cat "$out/warnings.txt"
[ "$rc" -eq 0 ] || { echo "doxygen failed (exit $rc)"; cat "$out/doxygen.log"; exit 1; }
[ "$n" -eq 0 ] || { echo "doxygen printed $n warnings"; exit 1; }
[ -s "$out/html/index.html" ] || { echo "no HTML was written"; exit 1; }
pages=$(ls "$out"/html/*_8h.html 2>/dev/null | wc -l)
echo "doxygen: no warnings; $pages header pages in $out/html"
