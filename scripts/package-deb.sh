#!/usr/bin/env bash
# Builds the Debian package zerofs_VERSION_ARCH.deb in a build directory of its own,
# configured for /usr (libzerofs in /usr/lib/<multiarch>, so the programs need no RUNPATH)
# and without the test suite; prints the package's path.
#   scripts/package-deb.sh [extra cmake -D options]
#   apt-get install ./build-deb/zerofs_*.deb      # pulls in the libraries it needs
# Environment: BUILD_DIR (default build-deb), ZEROFS_WERROR (default ON, as scripts/build.sh),
# BUILD_TYPE (default RelWithDebInfo; the
# package's programs are stripped). Needs scripts/install-deps.sh build (help2man,
# dpkg-dev). `cpack -G DEB` in any configured build directory makes the same package.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build-deb}
mkdir -p "$build_dir"
cmake -S . -B "$build_dir" -G Ninja \
  -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" -DZEROFS_WERROR="${ZEROFS_WERROR:-ON}" \
  -DCMAKE_INSTALL_PREFIX=/usr \
  -DZEROFS_BUILD_TESTS=OFF -DZEROFS_BUILD_BENCH=OFF "$@" > "$build_dir/cmake.log" 2>&1 ||
  { cat "$build_dir/cmake.log" >&2; exit 1; }
cmake --build "$build_dir" --parallel "$(nproc)"
(cd "$build_dir" && cpack -G DEB > cpack.log 2>&1) || { cat "$build_dir/cpack.log" >&2; exit 1; }
ls "$PWD/$build_dir"/zerofs_*.deb
