#!/bin/sh
# Install into a scratch prefix with `meson install --destdir`, then build and run a
# user program with nothing but `pkg-config --cflags --libs vnative` against it.
set -eu
builddir="$1"
program="$2"
dest="$builddir/tests/tmp/destdir"
rm -rf "$dest"
mkdir -p "$dest"
meson install -C "$builddir" --destdir "$dest" --quiet --no-rebuild
pc=$(find "$dest" -name vnative.pc | head -n 1)
[ -n "$pc" ] || { echo "vnative.pc was not installed"; exit 1; }
export PKG_CONFIG_PATH="$(dirname "$pc")"
prefix=$(pkg-config --variable=prefix vnative)
# Point the installed prefix into the destdir, as a packager staging the files would.
flags=$(pkg-config --define-variable=prefix="$dest$prefix" --cflags --libs vnative)
echo "pkg-config: $flags"
case "$flags" in *"$dest"*) ;; *) echo "pkg-config flags do not point into the destdir"; exit 1 ;; esac
# A library built with sanitizers (meson -Db_sanitize) needs its users built with them too.
san=""
case "${VN_TEST_SANITIZE:-none}" in none | "") ;; *) san="-fsanitize=$VN_TEST_SANITIZE" ;; esac
cc -std=c99 -Wall -Werror $san "$program" $flags -o "$dest/user_program"
libdir=$(pkg-config --define-variable=prefix="$dest$prefix" --variable=libdir vnative)
out=$(LD_LIBRARY_PATH="$libdir" "$dest/user_program")
echo "$out"
echo "$out" | grep -q "^vnative " || { echo "user program did not run"; exit 1; }
LD_LIBRARY_PATH="$libdir" ldd "$dest/user_program" | grep -q "$libdir/libvnative.so" || { echo "user program did not load the installed library"; exit 1; }
echo "install ok"

# A CUDA build installs its backend module beside the library, exporting one entry point.
if [ "${3:-false}" = "true" ]; then
    module="$libdir/vnative/libvnative-cuda.so"
    [ -f "$module" ] || { echo "the CUDA module is not installed at $module"; exit 1; }
    exports=$(nm -D --defined-only "$module" | awk '{print $NF}' | sed 's/@.*//' | grep -v '^VNATIVE_CUDA_[0-9]*$')
    [ "$exports" = "vn_cuda_module_entry" ] || { echo "the CUDA module exports: $exports"; exit 1; }
    LD_LIBRARY_PATH="$libdir" ldd "$libdir/libvnative.so" | grep -q -E 'libcudart|libcublas' &&
        { echo "libvnative links the CUDA libraries itself; only the module may"; exit 1; }
    echo "cuda module ok: $module"
fi
