#!/usr/bin/env bash
# vfs-example.sh BUILD_DIR EXAMPLE_SRC WORK_DIR
# Builds the embed-vfs example against a staged install and runs it against a file:// bucket.
set -euo pipefail
build_dir=$1 example_src=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
cmake --install "$build_dir" --prefix "$work/stage" > "$work/install.log"
test -f "$work/stage/include/zerofs/vfs/filesystem.h"
cmake -S "$example_src" -B "$work/build" -G Ninja -DCMAKE_PREFIX_PATH="$work/stage" > "$work/configure.log"
cmake --build "$work/build" > "$work/build.log"
example="$work/build/embed-vfs"
# ldd's output taken whole: with pipefail, `ldd | grep -q` fails when grep stops early.
libs=$(ldd "$example")
grep -q "$work/stage" <<< "$libs" || {
  echo "example is not linked against the staged install:" >&2
  ldd "$example" >&2
  exit 1
}

bucket="file://$work/bucket"
expect() {  # expect OUTPUT PATTERN
  case "$1" in
    *"$2"*) ;;
    *) echo "expected '$2' in the output" >&2; exit 1 ;;
  esac
}
export ZEROFS_PASSWORD=example-password
out1=$("$example" "$bucket")
echo "$out1"
expect "$out1" "created a new volume"
expect "$out1" "run 1: read back 'hello from run 1' through /embed/latest"

out2=$("$example" "$bucket")
echo "$out2"
expect "$out2" "/embed/docs: notes hello-1.txt hello-2.txt"
expect "$out2" "run 2: read back 'hello from run 2' through /embed/latest"

if ZEROFS_PASSWORD=wrong-password "$example" "$bucket" > "$work/wrong.out" 2>&1; then
  echo "a wrong password was accepted" >&2
  exit 1
fi
grep -qi "password" "$work/wrong.out" || { cat "$work/wrong.out" >&2; exit 1; }
if ZEROFS_PASSWORD= "$example" "$bucket" > /dev/null 2>&1; then
  echo "an empty password was accepted" >&2
  exit 1
fi
echo "embed-vfs example OK"
