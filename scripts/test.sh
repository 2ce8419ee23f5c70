#!/usr/bin/env bash
# README command 2: installs every dependency (idempotently), builds with warnings as
# errors, and runs the whole test suite: unit, integration (MemoryStore, LocalStore and a
# Ceph radosgw started on loopback), and end-to-end tests. The output ends with ctest's
# summary and the exit status is ctest's.
#   scripts/test.sh [extra ctest arguments, e.g. -L unit]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh all
scripts/build.sh
build_dir=${BUILD_DIR:-build}
exec ctest --test-dir "$build_dir" --output-on-failure --parallel 2 --timeout 900 "$@"
