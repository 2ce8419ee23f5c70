#!/usr/bin/env bash
# Configures and builds the project into $BUILD_DIR (default: build).
#   scripts/build.sh [extra cmake -D options]
# Environment: BUILD_DIR, BUILD_TYPE (default RelWithDebInfo), ZEROFS_WERROR (default ON).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
cmake -S . -B "$build_dir" -G Ninja \
  -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" \
  -DZEROFS_WERROR="${ZEROFS_WERROR:-ON}" "$@"
cmake --build "$build_dir" --parallel "$(nproc)"
