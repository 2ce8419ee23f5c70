#!/usr/bin/env bash
# cli-errors.sh ZEROFS ZEROFS_NFS ZEROFS_9P ZEROFS_NBD ZEROFS_MOUNT WORK_DIR
#
# The exit codes docs/cli.md promises, for every subcommand that opens a volume (ls, cat, get,
# put, mkdir, rm, fsck, gc, checkpoint create|list|info|delete, nbd create|list|resize|delete,
# run, passwd): a wrong password (5; from the environment and from --password-file), no volume
# in the bucket (3), an unknown config key (2, the message names the file and the key), a
# missing config file (3); none of them changes the bucket. While zerofs-nfs serves the volume
# without a control socket, every command that would write it offline exits 6 and changes
# nothing, and the readers work. While `zerofs run` answers on its control socket, gc,
# checkpoint and nbd run in that server, put/mkdir/rm still exit 6, and a command for another
# volume opens that volume itself. Last, --help (exit 0, a usage line) and an unknown flag
# (exit 2) on every binary, subcommand and sub-subcommand.
set -uo pipefail
zerofs=$1 zerofs_nfs=$2 zerofs_9p=$3 zerofs_nbd=$4 zerofs_mount=$5 work=$6
. "$(dirname "$0")/cli-lib.sh"
exec < /dev/null  # nothing may wait for a prompt
make_volume
export ZEROFS_NEW_PASSWORD=$ZEROFS_PASSWORD  # passwd, should it get that far
t=(timeout -k 5 60)  # every command ends by itself
server_pid=""
trap '[ -n "$server_pid" ] && kill -KILL "$server_pid" 2> /dev/null' EXIT

# No server answers on $work/control.sock (so gc, checkpoint and nbd open the volume
# themselves, whatever runs on this machine); [servers.nfs] is for `zerofs run`.
volume_toml() {  # volume_toml BUCKET_DIR
  cat <<TOML
[storage]
url = "file://$1"
password = "\${ZEROFS_PASSWORD}"
[control]
socket = "$work/control.sock"
[servers.nfs]
listen = ["127.0.0.1:0"]
TOML
}
volume_toml "$work/bucket" > "$work/zerofs.toml"
mkdir -p "$work/empty"
volume_toml "$work/empty" > "$work/empty.toml"
volume_toml "$work/bucket" | sed 's/^url = /urll = /' > "$work/bad.toml"
volume_toml "$work/bucket" | sed '/^password = /d' > "$work/nopassword.toml"
printf 'wrong-password\n' > "$work/wrong-password"
cfg=(--config "$work/zerofs.toml")

# Content for the commands to find: a file, a checkpoint, a block device.
echo "before" > "$work/local"
expect 0 "put /before" -- "${t[@]}" "$zerofs" put "${cfg[@]}" "$work/local" /before
expect 0 "checkpoint create c0" -- "${t[@]}" "$zerofs" checkpoint create c0 "${cfg[@]}"
expect 0 "nbd create d0" -- "${t[@]}" "$zerofs" nbd create d0 1M "${cfg[@]}"

volume_cmds=(ls cat get put mkdir rm fsck gc "checkpoint create" "checkpoint list"
  "checkpoint info" "checkpoint delete" "nbd create" "nbd list" "nbd resize" "nbd delete"
  run passwd)
args_of() {  # args_of COMMAND: sets sub=(its words) and args=(valid arguments for it)
  read -r -a sub <<< "$1"
  case $1 in
    ls) args=(/) ;;
    cat) args=(/before) ;;
    get) args=(/before "$work/got") ;;
    put) args=("$work/local" /new) ;;
    mkdir) args=(/newdir) ;;
    rm) args=(/before) ;;
    fsck | "checkpoint list" | "nbd list") args=() ;;
    gc) args=(--grace 0) ;;
    "checkpoint create") args=(c1) ;;
    "checkpoint info" | "checkpoint delete") args=(c0) ;;
    "nbd create") args=(d1 1M) ;;
    "nbd resize") args=(d0 2M) ;;
    "nbd delete") args=(d0) ;;
    run) args=(--exit-after-start --control-socket "$work/run.sock") ;;
    passwd) args=(--argon2-opslimit 1 --argon2-memlimit-mib 8) ;;
    *) fail "no arguments known for '$1'"; args=() ;;
  esac
}
# The objects of a bucket (.zerofs-local holds the file store's own locks, docs/objstore.md).
objects() { (cd "$1" && find . -path ./.zerofs-local -prune -o -type f -print | sort); }
bucket_state() { objects "$work/bucket" | (cd "$work/bucket" && xargs -r md5sum); }

# --- Errors every volume command shares (docs/cli.md, "Exit codes"). ---
bucket_state > "$work/state.before"
for c in "${volume_cmds[@]}"; do
  args_of "$c"
  expect 5 "$c: wrong password" -- env ZEROFS_PASSWORD=wrong-password \
    "${t[@]}" "$zerofs" "${sub[@]}" "${args[@]}" "${cfg[@]}"
  err_has "^zerofs: .*wrong password" "$c: wrong-password message"
  expect 5 "$c: wrong password from --password-file" -- env -u ZEROFS_PASSWORD \
    "${t[@]}" "$zerofs" "${sub[@]}" "${args[@]}" --config "$work/nopassword.toml" \
    --password-file "$work/wrong-password"
  err_has "^zerofs: .*wrong password" "$c: wrong-password message (--password-file)"
  expect 3 "$c: no volume in the bucket" -- "${t[@]}" "$zerofs" "${sub[@]}" "${args[@]}" \
    --config "$work/empty.toml"
  err_has "^zerofs: .*no volume.*zerofs init" "$c: missing-volume message"
  expect 2 "$c: unknown config key" -- "${t[@]}" "$zerofs" "${sub[@]}" "${args[@]}" \
    --config "$work/bad.toml"
  err_has "^zerofs: .*bad\.toml.*'storage\.urll'" "$c: the message names the file and the key"
  expect 3 "$c: missing config file" -- "${t[@]}" "$zerofs" "${sub[@]}" "${args[@]}" \
    --config "$work/none.toml"
  err_has "^zerofs: .*none\.toml" "$c: the message names the missing file"
done
bucket_state > "$work/state.after"
cmp -s "$work/state.before" "$work/state.after" ||
  fail "a refused command changed the bucket: $(diff "$work/state.before" "$work/state.after")"
[ -z "$(objects "$work/empty")" ] ||
  fail "a command wrote into the empty bucket: $(objects "$work/empty")"

# --- A server holds the volume and answers on no control socket: writers exit 6. ---
views() {  # what a user sees of the volume: files, checkpoints, block devices
  "$zerofs" ls -l "${cfg[@]}" / && "$zerofs" checkpoint list "${cfg[@]}" &&
    "$zerofs" nbd list "${cfg[@]}"
}
views > "$work/views.before" 2>&1 || fail "views before the server: $(cat "$work/views.before")"
volume_toml "$work/bucket" | sed '/^\[control\]/,/^socket/d' > "$work/server.toml"
"$zerofs_nfs" --config "$work/server.toml" --listen 127.0.0.1:0 > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 300); do
  grep -q "nfs: serving" "$work/server.log" && break
  kill -0 "$server_pid" 2> /dev/null || break
  sleep 0.1
done
grep -q "nfs: serving" "$work/server.log" ||
  { cat "$work/server.log"; echo "FAIL: zerofs-nfs did not start"; exit 1; }

for c in put mkdir rm gc "checkpoint create" "checkpoint delete" "nbd create" "nbd resize" \
  "nbd delete"; do
  args_of "$c"
  expect 6 "$c while zerofs-nfs serves" -- "${t[@]}" "$zerofs" "${sub[@]}" "${args[@]}" "${cfg[@]}"
  err_has "^zerofs: .*volume in use by zerofs-nfs .*\(pid $server_pid\)" "$c: names the holder"
done
args_of run
expect 6 "run while zerofs-nfs serves" -- "${t[@]}" "$zerofs" run "${args[@]}" "${cfg[@]}"
err_has "volume in use by zerofs-nfs" "run: names the holder"
for c in ls cat get fsck "checkpoint list" "checkpoint info" "nbd list"; do
  args_of "$c"
  expect 0 "$c while zerofs-nfs serves (read-only)" -- \
    "${t[@]}" "$zerofs" "${sub[@]}" "${args[@]}" "${cfg[@]}"
done
cmp -s "$work/local" "$work/got" || fail "get while served: the bytes differ"
kill -0 "$server_pid" 2> /dev/null || fail "zerofs-nfs died while the commands ran"
grep -qi "fenced" "$work/server.log" && fail "a command fenced zerofs-nfs"
kill -TERM "$server_pid"
wait "$server_pid"
rc=$?
server_pid=""
[ "$rc" -eq 0 ] || fail "zerofs-nfs exited $rc after SIGTERM"
views > "$work/views.after" 2>&1 || fail "views after the server: $(cat "$work/views.after")"
cmp -s "$work/views.before" "$work/views.after" ||
  fail "a refused command changed the volume: $(diff "$work/views.before" "$work/views.after")"

# --- zerofs run answers on its control socket: gc, checkpoint, nbd run in it. ---
mkdir -p "$work/other"
volume_toml "$work/other" > "$work/other.toml"
expect 0 "init a second volume" -- "${t[@]}" "$zerofs" init --config "$work/other.toml" \
  --argon2-opslimit 1 --argon2-memlimit-mib 8
expect 0 "put into the second volume" -- "${t[@]}" "$zerofs" put --config "$work/other.toml" \
  "$work/local" /other
sock=(--control-socket "$work/served.sock")
"$zerofs" run "${cfg[@]}" "${sock[@]}" --nbd 127.0.0.1:0 > "$work/run.out" 2> "$work/run.err" &
server_pid=$!
for _ in $(seq 300); do
  grep -q '^control ' "$work/run.out" && break
  kill -0 "$server_pid" 2> /dev/null || break
  sleep 0.1
done
grep -q '^control ' "$work/run.out" ||
  { cat "$work/run.err"; echo "FAIL: zerofs run did not start"; exit 1; }

for c in put mkdir rm; do  # they never go through the control socket
  args_of "$c"
  expect 6 "$c while zerofs run serves" -- "${t[@]}" "$zerofs" "${sub[@]}" "${args[@]}" "${cfg[@]}"
  err_has "volume in use by zerofs run" "$c: names the holder"
done
expect 0 "checkpoint create through the server" -- \
  "${t[@]}" "$zerofs" checkpoint create c1 "${cfg[@]}" "${sock[@]}"
expect 0 "checkpoint info through the server" -- \
  "${t[@]}" "$zerofs" checkpoint info c1 "${cfg[@]}" "${sock[@]}"
out_has "c1" "checkpoint info names it"
expect 0 "checkpoint delete through the server" -- \
  "${t[@]}" "$zerofs" checkpoint delete c1 "${cfg[@]}" "${sock[@]}"
expect 3 "checkpoint info of the deleted one" -- \
  "${t[@]}" "$zerofs" checkpoint info c1 "${cfg[@]}" "${sock[@]}"
expect 0 "checkpoint delete c0 through the server" -- \
  "${t[@]}" "$zerofs" checkpoint delete c0 "${cfg[@]}" "${sock[@]}"
expect 0 "nbd create through the server" -- \
  "${t[@]}" "$zerofs" nbd create d1 1M "${cfg[@]}" "${sock[@]}"
expect 0 "nbd resize through the server" -- \
  "${t[@]}" "$zerofs" nbd resize d1 2M "${cfg[@]}" "${sock[@]}"
expect 0 "nbd delete through the server" -- \
  "${t[@]}" "$zerofs" nbd delete d0 "${cfg[@]}" "${sock[@]}"
expect 0 "nbd list through the server" -- "${t[@]}" "$zerofs" nbd list "${cfg[@]}" "${sock[@]}"
if ! grep -Eq '^d1 ' "$work/out" || grep -Eq '^d0 ' "$work/out"; then
  fail "nbd list through the server: $(cat "$work/out")"
fi
expect 0 "gc through the server" -- "${t[@]}" "$zerofs" gc --grace 0 "${cfg[@]}" "${sock[@]}"
# A server for another volume on the socket: the command opens its own volume.
expect 0 "checkpoint create for another volume" -- \
  "${t[@]}" "$zerofs" checkpoint create elsewhere --config "$work/other.toml" "${sock[@]}"
expect 0 "gc for another volume" -- \
  "${t[@]}" "$zerofs" gc --grace 0 --config "$work/other.toml" "${sock[@]}"
kill -0 "$server_pid" 2> /dev/null || fail "zerofs run died while the commands ran"
grep -qi "fenced" "$work/run.err" && fail "a command fenced zerofs run"
kill -TERM "$server_pid"
wait "$server_pid"
rc=$?
server_pid=""
[ "$rc" -eq 0 ] || fail "zerofs run exited $rc after SIGTERM"
expect 0 "checkpoint list afterwards" -- "${t[@]}" "$zerofs" checkpoint list "${cfg[@]}"
[ -z "$(cat "$work/out")" ] || fail "checkpoints left on the served volume: $(cat "$work/out")"
expect 0 "the other volume holds its checkpoint" -- \
  "${t[@]}" "$zerofs" checkpoint list --config "$work/other.toml"
out_has "^elsewhere " "checkpoint of the other volume"
expect 0 "nbd list afterwards" -- "${t[@]}" "$zerofs" nbd list "${cfg[@]}"
out_has "^d1 +2097152|^d1 .*2(\.0)? ?Mi?B?" "the resize through the server is durable"

# --- --help and unknown flags on every binary and (sub-)subcommand. ---
expect 0 "zerofs --help" -- "${t[@]}" "$zerofs" --help
out_has "^Usage: (.*/)?zerofs " "zerofs usage line"
subs=$(awk '/^Subcommands:/ { s = 1; next } s && /^  [a-z]/ { print $1 }' "$work/out")
for documented in init passwd run ls cat get put mkdir rm fsck config gc checkpoint nbd flush \
  stats objstore; do
  grep -qx "$documented" <<< "$subs" || fail "zerofs --help lacks the subcommand $documented"
done
leaves=()
for s in $subs; do
  expect 0 "zerofs $s --help" -- "${t[@]}" "$zerofs" "$s" --help
  out_has "^Usage: (.*/)?zerofs $s( |\$)" "zerofs $s usage line"
  subsubs=$(awk '/^Subcommands:/ { s = 1; next } s && /^  [a-z]/ { print $1 }' "$work/out")
  if [ -z "$subsubs" ]; then
    leaves+=("$s")
    continue
  fi
  expect 2 "zerofs $s --frobnicate" -- "${t[@]}" "$zerofs" "$s" --frobnicate
  for u in $subsubs; do
    leaves+=("$s $u")
    expect 0 "zerofs $s $u --help" -- "${t[@]}" "$zerofs" "$s" "$u" --help
    out_has "^Usage: (.*/)?zerofs $s $u( |\$)" "zerofs $s $u usage line"
  done
done
for want in "checkpoint create" "checkpoint list" "checkpoint info" "checkpoint delete" \
  "nbd create" "nbd list" "nbd resize" "nbd delete" "config example" "config check" \
  "objstore ls" "objstore head" "objstore get" "objstore put" "objstore rm"; do
  grep -qx "$want" <<< "$(printf '%s\n' "${leaves[@]}")" || fail "no help for zerofs $want"
done

# An unknown flag, with otherwise valid arguments, is a usage error naming the flag.
volume_toml "$work/scratch" > "$work/scratch.toml"
mkdir -p "$work/scratch"
bucket="file://$work/bucket"
flag_args_of() {
  read -r -a sub <<< "$1"
  case $1 in
    "objstore ls") args=("$bucket/") ;;
    "objstore head") args=("$bucket/zerofs.key") ;;
    "objstore get") args=("$bucket/zerofs.key" -o "$work/object") ;;
    "objstore put") args=("file://$work/scratch/object" "$work/local") ;;
    "objstore rm") args=("file://$work/scratch/object") ;;
    init) args=(--config "$work/scratch.toml" --argon2-opslimit 1 --argon2-memlimit-mib 8) ;;
    "config example") args=() ;;
    "config check") args=(--config "$work/zerofs.toml") ;;
    flush | stats) args=(--control-socket "$work/control.sock") ;;
    *) args_of "$1"; args+=("${cfg[@]}") ;;
  esac
}
# docs/cli.md: "Errors are one line on stderr, starting with `zerofs: `".
unprefixed=()
expect 2 "zerofs --frobnicate" -- "${t[@]}" "$zerofs" --frobnicate ls "${cfg[@]}" /
for c in "${leaves[@]}"; do
  flag_args_of "$c"
  expect 2 "zerofs $c --frobnicate" -- \
    "${t[@]}" "$zerofs" "${sub[@]}" --frobnicate "${args[@]}"
  err_has "frobnicate" "zerofs $c: the message names the flag"
  [ "$(wc -l < "$work/err")" -eq 1 ] && grep -q "^zerofs: " "$work/err" || unprefixed+=("$c")
done
[ "${#unprefixed[@]}" -eq 0 ] || fail "an unknown flag's error is not one line starting with \
'zerofs: ' (e.g. '$(head -1 "$work/err")') for: ${unprefixed[*]}"

for b in "$zerofs_nfs" "$zerofs_9p" "$zerofs_nbd" "$zerofs_mount"; do
  name=$(basename "$b")
  expect 0 "$name --help" -- "${t[@]}" "$b" --help
  out_has "^Usage: (.*/)?$name " "$name usage line"
done
for b in "$zerofs_nfs" "$zerofs_9p" "$zerofs_nbd"; do
  name=$(basename "$b")
  expect 2 "$name --frobnicate" -- \
    timeout -k 5 20 "$b" --frobnicate "${cfg[@]}" --listen 127.0.0.1:0
  err_has "frobnicate" "$name: the message names the flag"
done
mkdir -p "$work/mnt"
expect 2 "zerofs-mount --frobnicate" -- \
  timeout -k 5 20 "$zerofs_mount" --frobnicate 127.0.0.1:1 "$work/mnt"
err_has "frobnicate" "zerofs-mount: the message names the flag"

finish
