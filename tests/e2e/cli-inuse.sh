#!/usr/bin/env bash
# cli-inuse.sh ZEROFS_BINARY ZEROFS_9P_BINARY WORK_DIR: while a server serves the volume, the
# offline commands that would write refuse with exit code 6 ("volume in use") and change
# nothing, the read-only ones (ls, cat, fsck) work without disturbing the server, and
# --takeover writes anyway (fencing the server). A server killed with SIGKILL leaves a fresh
# lease naming a process that is gone: started again on the same host, without --takeover,
# it takes the volume over at once (a service manager's restart) and serves within 5 s.
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

# start_server: zerofs-9p in the background until its port accepts; sets server_pid and
# started_ms (how long it took to serve).
start_server() {
  local t0
  t0=$(date +%s%N)
  "$server" "${cfg[@]}" --listen "127.0.0.1:$port" >> "$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 200); do
    (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null && break
    kill -0 "$server_pid" 2> /dev/null || break
    sleep 0.05
  done
  started_ms=$((($(date +%s%N) - t0) / 1000000))
}
: > "$work/server.log"
start_server
(exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null || { cat "$work/server.log"; fail "server did not start"; }
kill -KILL "$server_pid"
wait "$server_pid" 2> /dev/null
[ -e "$work/bucket/lease" ] || fail "the killed server left no lease (nothing to test)"
start_server
trap 'kill "$server_pid" 2> /dev/null; wait "$server_pid" 2> /dev/null' EXIT
if (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null; then
  echo "ok: restarted after SIGKILL without --takeover, serving after ${started_ms} ms"
  [ "$started_ms" -le 5000 ] || fail "the restart took ${started_ms} ms to serve (over 5 s)"
else
  fail "the restart after SIGKILL does not serve"
  cat "$work/server.log"
fi
grep -q "no longer runs on this host; taking the volume over" "$work/server.log" ||
  fail "the restart did not log why it took the volume over"
expect 6 "put while the restarted server serves" -- "$zerofs" put "${cfg[@]}" "$work/file" /late
kill "$server_pid"
wait "$server_pid" 2> /dev/null
trap - EXIT
expect 0 "ls after the restarted server stopped" -- "$zerofs" ls "${cfg[@]}" /
[ "$(sort "$work/out" | tr '\n' ' ')" = "after before taken " ] || fail "ls at the end: $(cat "$work/out")"

finish
