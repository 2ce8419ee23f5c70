#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang (ASan + UBSan, the library instrumented
# for coverage) in a build directory of their own, writes each target's seed corpus, and runs
# each target for a bounded time. A crash leaves its reproducer in the build directory and
# makes the script fail.
#   scripts/run-fuzzers.sh [SECONDS_PER_TARGET]      (default 10)
# Environment: BUILD_DIR (default build-fuzz), FUZZ_TARGETS (default: all of them),
# FUZZ_JOBS (parallel fuzzing processes per target, default 1).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-10}
build_dir=${BUILD_DIR:-build-fuzz}
targets=${FUZZ_TARGETS:-"fuzz_frame fuzz_segment fuzz_key_file fuzz_index fuzz_ninep fuzz_nfs"}
jobs=${FUZZ_JOBS:-1}

cc=$(command -v clang || command -v clang-14 || true)
cxx=$(command -v clang++ || command -v clang++-14 || true)
if [ -z "$cc" ] || [ -z "$cxx" ]; then
  echo "run-fuzzers: clang is not installed (scripts/install-deps.sh test installs it)" >&2
  exit 2
fi

# The library gets coverage instrumentation (fuzzer-no-link) so that libFuzzer sees inside it;
# ZEROFS_SANITIZE=address adds ASan + UBSan everywhere. GCC-only warning flags are silenced.
mkdir -p "$build_dir"
cmake -S . -B "$build_dir" -G Ninja \
  -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link -Wno-unknown-warning-option" \
  -DZEROFS_SANITIZE=address -DZEROFS_FUZZ=ON -DZEROFS_BUILD_BENCH=OFF > "$build_dir/fuzz-cmake.log" 2>&1 \
  || { cat "$build_dir/fuzz-cmake.log" >&2; exit 1; }
# shellcheck disable=SC2086
ninja -C "$build_dir" $targets
build_dir=$(cd "$build_dir" && pwd)

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# With several jobs libFuzzer writes one fuzz-N.log per job into the working directory.
parallel=()
if [ "$jobs" -gt 1 ]; then parallel=(-jobs="$jobs" -workers="$jobs"); fi
status=0
for t in $targets; do
  bin=$build_dir/tests/fuzz/$t
  corpus=$build_dir/fuzz-corpus/$t
  artifacts=$build_dir/fuzz-artifacts/$t/
  mkdir -p "$corpus" "$artifacts"
  ZEROFS_FUZZ_WRITE_SEEDS="$corpus" "$bin" > /dev/null
  echo "== $t: ${seconds}s from $(find "$corpus" -type f | wc -l) corpus inputs" >&2
  if ! (cd "$build_dir" && "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
          -max_len=200000 "${parallel[@]}" -print_final_stats=1 -artifact_prefix="$artifacts" \
          "$corpus") 2> "$build_dir/$t.log"; then
    echo "run-fuzzers: $t FAILED; log: $build_dir/$t.log, reproducers in $artifacts" >&2
    tail -40 "$build_dir/$t.log" >&2
    status=1
  else
    grep -E "stat::number_of_executed_units|cov:" "$build_dir/$t.log" | tail -2 >&2 || true
  fi
done
exit $status
