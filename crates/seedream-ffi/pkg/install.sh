#!/bin/sh
# Installs libseedream for C and C++ builds:
#   <prefix>/include/seedream.h, seedream.hpp
#   <prefix>/lib/libseedream.a              (and libseedream.so with --shared)
#   <prefix>/lib/pkgconfig/seedream.pc      (pkg-config --cflags --libs seedream)
#   <prefix>/lib/cmake/seedream/            (find_package(seedream) -> seedream::seedream)
#
# usage: crates/seedream-ffi/pkg/install.sh [--shared] <prefix> [<dir holding libseedream.a>]
# The library directory defaults to target/release; build it first with
#   cargo build --release -p seedream-ffi
set -eu

shared=no
if [ "${1:-}" = "--shared" ]; then
  shared=yes
  shift
fi
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: $0 [--shared] <prefix> [<dir holding libseedream.a>]" >&2
  exit 2
fi

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
prefix=$1
libdir=${2:-$root/target/release}
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$root/Cargo.toml" | head -n 1)
major=${version%%.*}
minor=${version#*.}
minor=${minor%%.*}

if [ ! -f "$libdir/libseedream.a" ]; then
  echo "$libdir/libseedream.a not found: run cargo build --release -p seedream-ffi" >&2
  exit 1
fi

mkdir -p "$prefix/include" "$prefix/lib/pkgconfig" "$prefix/lib/cmake/seedream"
prefix=$(cd "$prefix" && pwd)
# -p keeps the build times, so that builds against the prefix relink only when the library changed.
cp -p "$root/include/seedream.h" "$root/include/seedream.hpp" "$prefix/include/"
cp -p "$libdir/libseedream.a" "$prefix/lib/"
if [ "$shared" = yes ]; then
  cp -p "$libdir/libseedream.so" "$prefix/lib/"
fi

fill() {
  sed -e "s|@PREFIX@|$prefix|g" -e "s|@VERSION@|$version|g" \
      -e "s|@VERSION_MAJOR@|$major|g" -e "s|@VERSION_MINOR@|$minor|g" "$1" > "$2"
}
fill "$here/seedream.pc.in" "$prefix/lib/pkgconfig/seedream.pc"
fill "$here/seedreamConfig.cmake.in" "$prefix/lib/cmake/seedream/seedreamConfig.cmake"
fill "$here/seedreamConfigVersion.cmake.in" "$prefix/lib/cmake/seedream/seedreamConfigVersion.cmake"
echo "installed libseedream $version in $prefix"
