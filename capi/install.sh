#!/usr/bin/env bash
# Builds the C library and installs it like a C library (cargo-c's `cinstall` layout):
#   PREFIX/lib/libhakoniwa.so.VERSION, libhakoniwa.so.0, libhakoniwa.so, libhakoniwa.a
#   PREFIX/include/hakoniwa.h
#   PREFIX/lib/pkgconfig/hakoniwa.pc
# Usage: capi/install.sh PREFIX [--debug]      (e.g. capi/install.sh /usr/local)
#
# The shared library is linked here from libhakoniwa.a with capi/hakoniwa.map, so that it
# exports only hakoniwa_* under the version node HAKONIWA_0 with the soname
# libhakoniwa.so.0. (Cargo's own cdylib has the soname too, but rustc adds an export list
# of its own that takes precedence over a second version script, so its symbols carry no
# version node.)
set -euo pipefail
if [ $# -lt 1 ]; then
  echo "usage: $0 PREFIX [--debug]" >&2
  exit 2
fi
prefix=$(realpath -m "$1")
profile=release
[ "${2:-}" = --debug ] && profile=debug
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
flags=()
[ "$profile" = release ] && flags=(--release)
cargo build "${flags[@]}" -p hakoniwa-capi
target=${CARGO_TARGET_DIR:-$root/target}/$profile
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)
# What the Rust standard library needs (`--print native-static-libs`).
libs_private="-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc"

libdir=$prefix/lib
mkdir -p "$libdir/pkgconfig" "$prefix/include"
install -m 0644 "$target/libhakoniwa.a" "$libdir/libhakoniwa.a"
# A release install carries no debug information (the build keeps it for profiling): 14 MiB
# of shared library and 46 MiB of archive otherwise.
strip_debug=()
if [ "$profile" = release ]; then
  strip --strip-debug "$libdir/libhakoniwa.a"
  strip_debug=(-Wl,--strip-debug)
fi
# shellcheck disable=SC2086
cc -shared -o "$libdir/libhakoniwa.so.$version" \
  -Wl,--whole-archive "$target/libhakoniwa.a" -Wl,--no-whole-archive \
  -Wl,-soname,libhakoniwa.so.0 -Wl,--version-script="$root/capi/hakoniwa.map" \
  -Wl,--gc-sections -Wl,-z,relro,-z,now "${strip_debug[@]}" $libs_private
ln -sfn "libhakoniwa.so.$version" "$libdir/libhakoniwa.so.0"
ln -sfn libhakoniwa.so.0 "$libdir/libhakoniwa.so"
install -m 0644 include/hakoniwa.h "$prefix/include/hakoniwa.h"
sed -e "s|@PREFIX@|$prefix|" -e "s|@VERSION@|$version|" -e "s|@LIBS_PRIVATE@|$libs_private|" \
  capi/hakoniwa.pc.in >"$libdir/pkgconfig/hakoniwa.pc"
echo "installed libhakoniwa $version under $prefix"
