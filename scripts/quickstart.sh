#!/usr/bin/env bash
# README command 1: installs what is needed, builds, and runs ZeroFS on the embedded
# default, a local-directory bucket.
#
# The filesystem servers and the FUSE mount are not part of this build yet, so for now
# the quickstart exercises what exists: it creates a volume in a bucket directory
# (`zerofs init`), stores and reads objects through the `zerofs objstore` tool, and shows
# what the bucket holds. The password comes from ZEROFS_PASSWORD (a demo password if unset).
#   scripts/quickstart.sh [BUCKET_DIR]   (default: /var/tmp/zerofs-quickstart/bucket)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh build
scripts/build.sh > /tmp/zerofs-quickstart-build.log 2>&1 || {
  tail -n 40 /tmp/zerofs-quickstart-build.log
  exit 1
}
zerofs=${BUILD_DIR:-build}/tools/zerofs/zerofs
bucket_dir=${1:-/var/tmp/zerofs-quickstart/bucket}
mkdir -p "$bucket_dir"
url="file://$(cd "$bucket_dir" && pwd)"

echo "== bucket: $url"
config=$(dirname "$bucket_dir")/zerofs.toml
cat > "$config" <<TOML
[storage]
url = "$url"
password = "\${ZEROFS_PASSWORD}"
TOML
if [ -z "${ZEROFS_PASSWORD:-}" ]; then
  echo "== ZEROFS_PASSWORD is not set; using the demo password 'zerofs-quickstart'"
  export ZEROFS_PASSWORD=zerofs-quickstart
fi
if [ -f "$bucket_dir/zerofs.key" ]; then
  echo "== the volume exists already ($config)"
else
  echo "== creating a volume: zerofs init --config $config"
  "$zerofs" init --config "$config"
fi
echo "== storing README.md as docs/readme and reading 64 bytes of it back"
"$zerofs" objstore --url "$url" put docs/readme README.md > /dev/null
"$zerofs" objstore --url "$url" get docs/readme --range 0:64
echo
echo "== compare-and-swap: replace only if nobody else changed it"
etag=$("$zerofs" objstore --url "$url" head docs/readme | sed -n 's/^etag: //p')
echo "updated at $(date -u +%FT%TZ)" | "$zerofs" objstore --url "$url" put --if-match "$etag" docs/readme - > /dev/null
"$zerofs" objstore --url "$url" get docs/readme
echo "== the bucket now holds:"
"$zerofs" objstore --url "$url" ls
echo "== done; try: $zerofs objstore --help"
