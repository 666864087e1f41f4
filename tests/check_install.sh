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
cc -std=c99 -Wall -Werror "$program" $flags -o "$dest/user_program"
libdir=$(pkg-config --define-variable=prefix="$dest$prefix" --variable=libdir vnative)
out=$(LD_LIBRARY_PATH="$libdir" "$dest/user_program")
echo "$out"
echo "$out" | grep -q "^vnative " || { echo "user program did not run"; exit 1; }
LD_LIBRARY_PATH="$libdir" ldd "$dest/user_program" | grep -q "$libdir/libvnative.so" || { echo "user program did not load the installed library"; exit 1; }
echo "install ok"
