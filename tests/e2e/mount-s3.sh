#!/usr/bin/env bash
# mount-s3.sh ZEROFS ZEROFS_9P ZEROFS_MOUNT POSIX_SUITE FSX TREE_DIR WORK FILES
#
# mount-volume.sh on an s3:// volume in the test radosgw (the env file named by
# ZEROFS_TEST_S3_ENV_FILE, written by scripts/radosgw.sh): the POSIX suite, fsx, stress-ng,
# a copy of FILES files and a server restart, exactly as on a file:// volume.
set -uo pipefail
env_file=${ZEROFS_TEST_S3_ENV_FILE:-}
if [ -z "$env_file" ] || [ ! -f "$env_file" ]; then
  echo "FAIL: no radosgw: ZEROFS_TEST_S3_ENV_FILE='$env_file' (run through ctest's s3 fixture)"
  exit 1
fi
# shellcheck disable=SC1090
source "$env_file"
work=$7
rm -rf "$work"
mkdir -p "$work"
cat > "$work/s3.toml" <<TOML
[s3]
endpoint = "$ZEROFS_TEST_S3_ENDPOINT"
region = "$ZEROFS_TEST_S3_REGION"
access_key_id = "$ZEROFS_TEST_S3_ACCESS_KEY"
secret_access_key = "$ZEROFS_TEST_S3_SECRET_KEY"
path_style = true
TOML
chmod 600 "$work/s3.toml"
prefix="mount-e2e-$(date +%s)-$$"
exec "$(dirname "$0")/mount-volume.sh" "$@" \
  "s3://$ZEROFS_TEST_S3_BUCKET/$prefix"
