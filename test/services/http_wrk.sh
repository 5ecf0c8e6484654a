#!/usr/bin/env bash
# samples/http_server under wrk (Debian's package): keep-alive, 100 connections, 2
# threads, 3 seconds. Every answer must be a 2xx with no socket error, and once wrk's
# connections are gone the server holds as many descriptors as before (no fd leak).
# Usage: http_wrk.sh <path to http_server>
set -euo pipefail
server=$1
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$server" "127.0.0.1:$port" >/dev/null &
pid=$!
trap 'kill -INT "$pid" 2>/dev/null || true' EXIT
for _ in $(seq 400); do (echo >/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.025; done
fds() { ls /proc/"$pid"/fd | wc -l; }
# The probe above has come and gone: wait (bounded) until its connection is closed too.
for _ in $(seq 400); do before=$(fds); sleep 0.025; [[ $(fds) == "$before" ]] && break; done
report=$(wrk -t2 -c100 -d3s "http://127.0.0.1:$port/")
echo "$report"
if grep -q "Socket errors\|Non-2xx" <<<"$report"; then
  echo "http_wrk: errors under load" >&2
  exit 1
fi
grep -q "Requests/sec" <<<"$report" || { echo "http_wrk: wrk gave no result" >&2; exit 1; }
# wrk has closed its connections; the server closes its ends as it reads end of stream.
for _ in $(seq 400); do [[ $(fds) == "$before" ]] && break; sleep 0.025; done
after=$(fds)
[[ $after == "$before" ]] || { echo "http_wrk: $before descriptors before wrk, $after after" >&2; exit 1; }
kill -INT "$pid"
wait "$pid"
trap - EXIT
echo "http_wrk: ok ($before descriptors before and after)"
