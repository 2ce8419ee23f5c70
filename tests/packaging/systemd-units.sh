#!/usr/bin/env bash
# systemd-units.sh SCRATCH_ROOT WORK_DIR
#
# The systemd units as the Debian package installs them (SCRATCH_ROOT is the package
# unpacked by package-deb.sh). systemd-analyze verify checks that the programs a unit runs
# exist, so it runs on copies whose /usr/bin/ programs are those of SCRATCH_ROOT, with
# MANPATH there too for the man: links of Documentation=; it must print nothing at all.
# Then: the sandbox of zerofs.service stays tight (systemd-analyze security --offline),
# its writable directories and credential match the example config, and a misspelt
# setting makes verify complain (the check can fail).
set -uo pipefail
root=$1 work=$2
failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}
ok() { echo "ok: $*"; }
command -v systemd-analyze > /dev/null || { echo "FAIL: systemd-analyze not installed (scripts/install-deps.sh test)"; exit 1; }
units=$root/lib/systemd/system
[ -f "$units/zerofs.service" ] && [ -f "$units/zerofs-mount@.service" ] ||
  { echo "FAIL: the units are not in $units (package_deb unpacks the package there)"; exit 1; }
rm -rf "$work"
mkdir -p "$work/units"
for unit in zerofs.service zerofs-mount@.service; do
  sed -E "s#^(Exec[A-Za-z]*=[-@:+!]*)/usr/bin/#\\1$root/usr/bin/#" "$units/$unit" > "$work/units/$unit"
done
grep -qxF "ExecStart=$root/usr/bin/zerofs run --config /etc/zerofs/zerofs.toml" "$work/units/zerofs.service" ||
  fail "zerofs.service does not run /usr/bin/zerofs run --config /etc/zerofs/zerofs.toml"
grep -q "^ExecStart=$root/usr/bin/zerofs-mount -f " "$work/units/zerofs-mount@.service" ||
  fail "zerofs-mount@.service does not run /usr/bin/zerofs-mount -f"

verify() {
  (cd "$work/units" && MANPATH=$root/usr/share/man systemd-analyze verify "$@" 2>&1)
}
out=$(verify zerofs.service "zerofs-mount@mnt-zerofs.service")
rc=$?
if [ "$rc" -eq 0 ] && [ -z "$out" ]; then
  ok "systemd-analyze verify zerofs.service zerofs-mount@mnt-zerofs.service: clean"
else
  fail "systemd-analyze verify (exit $rc): $out"
fi

# The instance names the mount point: %f of mnt-zerofs is /mnt/zerofs.
grep -q ' %f$' "$work/units/zerofs-mount@.service" || fail "zerofs-mount@.service does not mount at %f"
[ "$(systemd-escape --path --unescape mnt-zerofs)" = /mnt/zerofs ] || fail "systemd-escape disagrees"

# A misspelt setting is reported: the verify above would have caught one.
sed 's/^ProtectSystem=/ProtectSystm=/' "$work/units/zerofs.service" > "$work/units/typo.service"
out=$(verify typo.service)
grep -q "Unknown key 'ProtectSystm'" <<< "$out" || fail "verify did not report a misspelt key: $out"

# The sandbox: systemd's own score of zerofs.service stays at "OK" (2.5 or less of 10).
if out=$(systemd-analyze security --offline=yes --threshold=25 "$work/units/zerofs.service" 2>&1); then
  ok "$(grep 'Overall exposure' <<< "$out")"
else
  echo "$out" | grep -v '✓'
  fail "systemd-analyze security: exposure above 2.5"
fi

# What the sandbox leaves writable covers what the example config writes, and the
# credential the unit loads is the password_file the config names.
config=$root/etc/zerofs/zerofs.toml
setting() { sed -n "s/^$1=//p" "$work/units/zerofs.service"; }
value() { sed -n "s/^$1 *= *\"\\(.*\\)\"$/\\1/p" "$config"; }
grep -qx 'ProtectSystem=strict' "$work/units/zerofs.service" || fail "zerofs.service lacks ProtectSystem=strict"
state=/var/lib/$(setting StateDirectory) cache=/var/cache/$(setting CacheDirectory) runtime=/run/$(setting RuntimeDirectory)
case "$(value url)" in "file://$state/"*) ;; *) fail "storage.url $(value url) is outside StateDirectory $state" ;; esac
[ "$(value dir)" = "$cache" ] || fail "cache.dir $(value dir) is not CacheDirectory $cache"
case "$(value socket)" in "$runtime/"*) ;; *) fail "control.socket $(value socket) is outside RuntimeDirectory $runtime" ;; esac
credential=$(setting LoadCredential)
[ "$credential" = "password:/etc/zerofs/password" ] || fail "LoadCredential=$credential"
[ "$(value password_file)" = "\${CREDENTIALS_DIRECTORY:-/etc/zerofs}/${credential%%:*}" ] ||
  fail "password_file $(value password_file) is not the credential ${credential%%:*} (else ${credential#*:})"
[ "/etc/zerofs/${credential%%:*}" = "${credential#*:}" ] || fail "the credential's source is not the config's fallback"
ok "writable paths and the credential agree with the example config"

if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all checks passed"
