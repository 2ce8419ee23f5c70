#!/usr/bin/env bash
# cli-inuse.sh ZEROFS_BINARY ZEROFS_9P_BINARY WORK_DIR: while a server serves the volume, the
# offline commands that would write refuse with exit code 6 ("volume in use") and change
# nothing, the read-only ones (ls, cat, fsck) work without disturbing the server, and
# --takeover writes anyway (fencing the server).
set -uo pipefail
zerofs=$1 server=$2 work=$3
. "$(dirname "$0")/cli-lib.sh"
make_volume
cfg=(--config "$work/zerofs.toml")

echo data > "$work/file"
expect 0 "put before the server starts" -- "$zerofs" put "${cfg[@]}" "$work/file" /before

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$server" "${cfg[@]}" --listen "127.0.0.1:$port" > "$work/server.log" 2>&1 &
server_pid=$!
trap 'kill "$server_pid" 2> /dev/null; wait "$server_pid" 2> /dev/null' EXIT
for _ in $(seq 1 100); do
  (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null && break
  sleep 0.2
done
(exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null || { cat "$work/server.log"; echo "server did not start"; exit 1; }

expect 6 "put while served" -- "$zerofs" put "${cfg[@]}" "$work/file" /during
err_has "volume in use" "put refusal message"
expect 6 "mkdir while served" -- "$zerofs" mkdir "${cfg[@]}" /dir
expect 6 "rm while served" -- "$zerofs" rm "${cfg[@]}" /before
expect 0 "ls while served (read-only)" -- "$zerofs" ls "${cfg[@]}" /
[ "$(cat "$work/out")" = "before" ] || fail "ls while served: $(cat "$work/out")"
expect 0 "cat while served (read-only)" -- "$zerofs" cat "${cfg[@]}" /before
expect 0 "fsck while served (read-only)" -- "$zerofs" fsck "${cfg[@]}"
kill -0 "$server_pid" 2> /dev/null || fail "the server died while the offline commands ran"
grep -qi "fenced" "$work/server.log" && fail "an offline command fenced the server"

# --takeover writes anyway: the server is fenced.
expect 0 "put --takeover while served" -- "$zerofs" put --takeover "${cfg[@]}" "$work/file" /taken
expect 0 "ls after the takeover" -- "$zerofs" ls "${cfg[@]}" /
[ "$(sort "$work/out" | tr '\n' ' ')" = "before taken " ] || fail "ls after takeover: $(cat "$work/out")"

kill "$server_pid"
wait "$server_pid" 2> /dev/null
trap - EXIT
expect 0 "put after the server stopped" -- "$zerofs" put "${cfg[@]}" "$work/file" /after
expect 0 "ls after" -- "$zerofs" ls "${cfg[@]}" /
[ "$(sort "$work/out" | tr '\n' ' ')" = "after before taken " ] || fail "ls after: $(cat "$work/out")"

finish
