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
# The installed programs find the staged libzerofs by themselves: a RUNPATH relative to
# them, since the stage is no system library directory. (A build configured for /usr puts
# the library in /usr/lib/<multiarch>, where the loader looks anyway, and sets none: such
# a stage needs LD_LIBRARY_PATH.) A plain install leaves out the system files that only
# the Debian package carries (/etc/zerofs, the systemd units).
stage_lib=$(dirname "$(find "$work/stage" -name libzerofs.so.0 | head -1)")
run_env=(env -u LD_LIBRARY_PATH)
[ "$stage_lib" = "$work/stage/lib" ] || run_env=(env "LD_LIBRARY_PATH=$stage_lib")
for program in zerofs zerofs-nfs zerofs-9p zerofs-nbd zerofs-mount; do
  version=$("${run_env[@]}" "$work/stage/bin/$program" --version)
  case "$version" in
    "$program "[0-9]*) ;;
    *) echo "staged $program --version printed '$version'" >&2; exit 1 ;;
  esac
  libs=$("${run_env[@]}" ldd "$work/stage/bin/$program")
  # zerofs-mount links the 9P codec, not libzerofs (unit_mount_links).
  [[ $program == zerofs-mount ]] || grep -q "libzerofs.so.0 => $work/stage/" <<< "$libs" || {
    echo "staged $program does not load the staged libzerofs:" >&2
    echo "$libs" >&2
    exit 1
  }
  test -f "$work/stage/share/man/man1/$program.1.gz"
done
if grep -q -e /etc/zerofs -e systemd "$work/install.log"; then
  echo "a plain install installed system files:" >&2
  grep -e /etc/zerofs -e systemd "$work/install.log" >&2
  exit 1
fi
