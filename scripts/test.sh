#!/usr/bin/env bash
# README command 2: installs every dependency (idempotently), builds with warnings as
# errors, and runs the whole test suite: unit, integration (MemoryStore, LocalStore and a
# Ceph radosgw started on loopback), and end-to-end tests. The output ends with ctest's
# summary and the exit status is ctest's.
#   scripts/test.sh [extra ctest arguments, e.g. -L unit]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh all
# The tests and benchmarks are switched on explicitly: a build directory that
# scripts/quickstart.sh configured has them off.
scripts/build.sh -DZEROFS_BUILD_TESTS=ON -DZEROFS_BUILD_BENCH=ON
build_dir=${BUILD_DIR:-build}
exec ctest --test-dir "$build_dir" --output-on-failure --no-tests=error --parallel 2 \
  --timeout 900 "$@"
