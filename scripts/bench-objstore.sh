#!/usr/bin/env bash
# Prints PUT/GET throughput and p50/p99 latency of the object-store layer: 32 KiB, 1 MiB
# and 16 MiB objects at parallelism 1, 8 and 32, against a radosgw started on loopback and
# against LocalStore in a temporary directory.
#   scripts/bench-objstore.sh [extra objstore_bench options, e.g. --sizes 32K]
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
scripts/install-deps.sh all > /dev/null
scripts/build.sh > /dev/null
bench=$build_dir/tests/bench/objstore_bench
rgw_dir=$(mktemp -d /tmp/zerofs-bench-rgw.XXXXXX)
local_dir=$(mktemp -d /var/tmp/zerofs-bench-local.XXXXXX)
cleanup() {
  scripts/radosgw.sh stop "$rgw_dir" > /dev/null 2>&1 || true
  rm -rf "$rgw_dir" "$local_dir"
}
trap cleanup EXIT

echo "== starting radosgw on loopback" >&2
scripts/radosgw.sh start "$rgw_dir" > /dev/null
# shellcheck disable=SC1091
source "$rgw_dir/s3.env"
cfg=$rgw_dir/bench.toml
cat > "$cfg" <<TOML
[s3]
endpoint = "$ZEROFS_TEST_S3_ENDPOINT"
region = "$ZEROFS_TEST_S3_REGION"
access_key_id = "$ZEROFS_TEST_S3_ACCESS_KEY"
secret_access_key = "\${ZEROFS_BENCH_SECRET}"
max_parallel = 32
TOML
export ZEROFS_BENCH_SECRET=$ZEROFS_TEST_S3_SECRET_KEY

echo "== S3 (radosgw, in-memory OSD)"
"$bench" --url "s3://$ZEROFS_TEST_S3_BUCKET/bench" --config "$cfg" "$@"
echo
echo "== LocalStore ($local_dir)"
"$bench" --url "file://$local_dir" "$@"
