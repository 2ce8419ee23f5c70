#!/usr/bin/env bash
# quickstart-fresh.sh SOURCE_DIR WORK_DIR: README command 1 as a new machine runs it, where
# only the build group of scripts/install-deps.sh was installed. This machine has the test
# packages too, so they are hidden: in a private mount namespace every header, pkg-config
# file, CMake package file, development library link and program of the test-only packages
# is covered by an empty file, and there `scripts/quickstart.sh --check` configures a new
# build directory, builds, creates a volume, serves it, mounts it, writes and reads a file
# through the mount and stops.
#
# Test-only packages: the test group, less those that the build group pulls in anyway and
# those every Debian 12 system has (priority required or important).
set -uo pipefail
src=$1
work=$2

if [ "${ZEROFS_HIDDEN_NAMESPACE:-}" != 1 ]; then
  rm -rf "$work"
  mkdir -p "$work"
  exec unshare --mount --propagation private env ZEROFS_HIDDEN_NAMESPACE=1 "$0" "$@"
fi

fail() { echo "FAIL: $*"; exit 1; }

mapfile -t build_pkgs < <("$src/scripts/install-deps.sh" --list build)
mapfile -t test_pkgs < <("$src/scripts/install-deps.sh" --list test)
[ "${#build_pkgs[@]}" -gt 5 ] && [ "${#test_pkgs[@]}" -gt 5 ] ||
  fail "install-deps.sh --list printed too few packages"

# Everything the build group depends on, recursively (what a fresh machine gets with it).
closure=$(apt-cache depends --recurse --installed --no-recommends --no-suggests \
  --no-conflicts --no-breaks --no-replaces --no-enhances "${build_pkgs[@]}" 2> /dev/null |
  sed -n 's/^\([a-z0-9][^ :]*\).*/\1/p; s/^ *[A-Za-z]*Depends: \([^ <:]*\).*/\1/p' | sort -u)

# Names that installed packages provide (a virtual package is hidden with its provider).
provided=$(dpkg-query -W -f='${Provides}\n' | tr ',' '\n' | sed 's/^ *//; s/ .*//' | sort -u)

hidden_pkgs=()
for p in "${test_pkgs[@]}"; do
  grep -qxF "$p" <<< "$closure" && continue
  state=$(dpkg-query -W -f='${db:Status-Status} ${Priority} ${Essential}' "$p" 2> /dev/null)
  case "$state" in
    installed\ required* | installed\ important* | installed*yes) continue ;;
    installed*) ;;
    *)
      grep -qxF "$p" <<< "$provided" && continue
      fail "test package $p is not installed (scripts/install-deps.sh test)"
      ;;
  esac
  hidden_pkgs+=("$p")
done
echo "hiding the files of ${#hidden_pkgs[@]} test-only packages: ${hidden_pkgs[*]}"
hidden_list=$(printf '%s\n' "${hidden_pkgs[@]}")
for p in catch2 libnfs-dev; do
  grep -qxF "$p" <<< "$hidden_list" || fail "$p is not among the hidden packages"
done

hidden=0
for p in "${hidden_pkgs[@]}"; do
  while IFS= read -r f; do
    case "$f" in
      /usr/include/* | */pkgconfig/*.pc | /usr/lib/cmake/* | /usr/lib/*/cmake/* | \
        /usr/share/cmake/* | /usr/lib/*/*.so | /usr/bin/* | /usr/sbin/* | /bin/* | /sbin/*) ;;
      *) continue ;;
    esac
    # Regular files only: a symlink may point at a file of a package the build needs.
    [ -f "$f" ] && [ ! -L "$f" ] || continue
    mount --bind /dev/null "$f" || fail "cannot cover $f"
    hidden=$((hidden + 1))
  done < <(dpkg -L "$p")
done
echo "covered $hidden files"

# The hiding works: what the test suite's configuration needs is gone.
pkg-config --exists libnfs 2> /dev/null && fail "libnfs is still visible to pkg-config"
[ -s /usr/include/catch2/catch.hpp ] && fail "Catch2's header is still visible"
command -v nfs-ls > /dev/null && [ -s "$(command -v nfs-ls)" ] && fail "nfs-ls is still visible"

env BUILD_DIR="$work/build" ZEROFS_QUICKSTART_DIR="$work/quickstart" \
  "$src/scripts/quickstart.sh" --check < /dev/null
rc=$?
if [ "$rc" -ne 0 ]; then
  tail -n 60 "$work/quickstart/build.log" 2> /dev/null
  fail "scripts/quickstart.sh --check exited $rc with the test packages hidden"
fi
grep -q "ZEROFS_BUILD_TESTS:BOOL=OFF" "$work/build/CMakeCache.txt" ||
  fail "the quickstart's build directory was configured with the tests"
echo "quickstart: built, served and mounted with only the build packages visible"
