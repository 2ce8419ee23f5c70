#!/usr/bin/env bash
# find-package-example.sh BUILD_DIR EXAMPLE_SRC WORK_DIR
set -euo pipefail
build_dir=$1 example_src=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
cmake --install "$build_dir" --prefix "$work/stage" > "$work/install.log"
test -f "$work/stage/include/zerofs/objstore/object_store.h"
test -f "$work/stage/lib/cmake/zerofs/zerofsConfig.cmake" ||
  test -f "$work/stage/lib/x86_64-linux-gnu/cmake/zerofs/zerofsConfig.cmake"
cmake -S "$example_src" -B "$work/build" -G Ninja -DCMAKE_PREFIX_PATH="$work/stage" > "$work/configure.log"
cmake --build "$work/build" > "$work/build.log"
out=$("$work/build/embed-objstore" memory://example)
echo "$out"
case "$out" in
  *"read 'bucket' from a 13-byte object; replaced it"*) ;;
  *) echo "unexpected output from the example" >&2; exit 1 ;;
esac
# The example must use the staged library, not one in the build tree.
# (ldd's output is taken whole first: with pipefail, `ldd | grep -q` fails whenever grep
# stops reading before ldd has written everything.)
libs=$(ldd "$work/build/embed-objstore")
grep -q "$work/stage" <<< "$libs" || {
  echo "example is not linked against the staged install:" >&2
  ldd "$work/build/embed-objstore" >&2
  exit 1
}
