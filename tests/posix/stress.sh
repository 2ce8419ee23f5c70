#!/usr/bin/env bash
# stress.sh DIR SECONDS: stress-ng's filesystem stressors, one worker each, all at once, in
# a fresh DIR/stress.PID, with data verification. Exit 0 when stress-ng reports success,
# non-zero otherwise. The stressors and why others are left out: tests/posix/README.md.
set -uo pipefail

if [ $# -ne 2 ] || [ ! -d "$1" ] || ! [[ "$2" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: stress.sh DIR SECONDS" >&2
  exit 2
fi
dir=$1 seconds=$2
command -v stress-ng > /dev/null || { echo "stress.sh: stress-ng missing (scripts/install-deps.sh test)" >&2; exit 2; }

# Each works through plain POSIX calls on files in --temp-path (see README.md for the
# reasons behind this list).
stressors=(
  hdd seek readahead fallocate fpunch copy-file sync-file iomix  # file data
  mmap msync                                                      # mapped file data
  dir dirdeep dirmany dentry getdent filename                     # directories and names
  link symlink rename                                             # links and renames
  chmod chown utime fstat xattr                                   # attributes
  lockf flock fcntl                                               # locks
)
# STRESS_EXCLUDE="a b": leave these out (e.g. xattr on NFSv3, which has no xattrs).
kept=()
for s in "${stressors[@]}"; do
  case " ${STRESS_EXCLUDE:-} " in *" $s "*) ;; *) kept+=("$s") ;; esac
done
stressors=("${kept[@]}")
args=()
for s in "${stressors[@]}"; do args+=("--$s" 1); done

work=$dir/stress.$$
mkdir "$work" || exit 2
chmod 0777 "$work"
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# Bounds on the data and inodes each stressor touches per iteration (the defaults go up to
# 1 GB and 8192 entries): a stressor finishes its current iteration after the timeout,
# which on a network mount in an emulated guest could otherwise take many minutes.
# --mmap-file maps a file in the directory under test instead of anonymous memory.
extra=()
for s in "${stressors[@]}"; do
  case $s in
    hdd) extra+=(--hdd-bytes 16M) ;;
    seek) extra+=(--seek-size 16M) ;;
    readahead) extra+=(--readahead-bytes 16M) ;;
    iomix) extra+=(--iomix-bytes 16M) ;;
    fallocate) extra+=(--fallocate-bytes 16M) ;;
    copy-file) extra+=(--copy-file-bytes 128M) ;;  # its minimum; the file is sparse
    sync-file) extra+=(--sync-file-bytes 16M) ;;
    mmap) extra+=(--mmap-file --mmap-bytes 4M) ;;
    msync) extra+=(--msync-bytes 4M) ;;
    dir) extra+=(--dir-dirs 256) ;;
    dentry) extra+=(--dentries 256) ;;
    dirdeep) extra+=(--dirdeep-dirs 1 --dirdeep-inodes 2000) ;;
  esac
done
stress-ng --temp-path "$work" --timeout "${seconds}s" --verify --metrics-brief \
  "${args[@]}" "${extra[@]}" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}

if [ "$rc" -eq 0 ] && grep -Eq "^stress-ng: (fail|error):|unsuccessful run" "$log"; then
  echo "stress.sh: stress-ng exited 0 but reported failures" >&2
  rc=1
fi
leftover=$(find "$work" -mindepth 1 2>/dev/null | wc -l)
rm -rf "$work"
if [ "$rc" -ne 0 ]; then
  case $rc in
    2) why="a stressor failed or --verify found bad data" ;;
    3) why="a stressor could not run: missing feature or resources (see STRESS_EXCLUDE)" ;;
    4) why="a stressor is not implemented here" ;;
    *) why="see its output" ;;
  esac
  echo "stress.sh: FAIL (stress-ng exit status $rc: $why)"
  exit 1
fi
echo "stress.sh: ok, ${#stressors[@]} stressors for ${seconds} s in $dir ($leftover paths left behind by stress-ng, removed)"
