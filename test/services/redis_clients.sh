#!/usr/bin/env bash
# Real clients against mini-redis (samples/redis_server), from Debian's redis-tools:
#   1. redis-cli runs redis_cli.commands; its output must be redis_cli.expected, which is
#      what Debian's redis-server 7.0 answers to the same commands (regenerate it with
#      `redis-cli -p <redis port> < redis_cli.commands` against a fresh redis-server);
#   2. a subscriber (redis-cli SUBSCRIBE) gets what redis-cli PUBLISH sends;
#   3. redis-benchmark (SET, GET, INCR; 50 clients; with and without 16-deep pipelining)
#      runs to completion with no error, and the counter INCR'd N times reads N;
#   4. SIGTERM shuts the server down, exit status 0.
# Usage: redis_clients.sh <path to redis_server>
set -euo pipefail
server=$1
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$server" "127.0.0.1:$port" >"$work/server.log" 2>&1 &
pid=$!
# Until it answers (the bound only stops a hang).
for _ in $(seq 400); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.025; done
cli() { redis-cli -p "$port" "$@"; }

fail() { echo "redis_clients: $*" >&2; cat "$work/server.log" >&2; exit 1; }

# 1. Every reply as Redis gives it.
cli <"$here/redis_cli.commands" >"$work/cli.out"
diff -u "$here/redis_cli.expected" "$work/cli.out" || fail "redis-cli's output differs from redis-server's"

# 2. Pub/sub through redis-cli: publish until the subscriber is counted, then read what
# it printed.
redis-cli -p "$port" subscribe news >"$work/sub.out" &
sub=$!
for _ in $(seq 400); do [[ $(cli publish news hello) == 1 ]] && break; sleep 0.025; done
for _ in $(seq 400); do grep -q hello "$work/sub.out" && break; sleep 0.025; done
kill "$sub"
wait "$sub" 2>/dev/null || true
printf 'subscribe\nnews\n1\nmessage\nnews\nhello\n' | diff -u - <(head -6 "$work/sub.out") || fail "the subscriber did not get the message"

# 3. redis-benchmark, pipelined and not.
n=20000
cli del counter:__rand_int__ >/dev/null
for pipeline in 1 16; do
  out=$(redis-benchmark -p "$port" -t set,get,incr -n "$n" -c 50 -P "$pipeline" -q 2>&1 | tr '\r' '\n')
  for t in SET GET INCR; do
    grep -q "^$t: [0-9.]* requests per second" <<<"$out" || fail "redis-benchmark -P $pipeline: no result for $t: $out"
  done
  if grep -qi "error" <<<"$out"; then fail "redis-benchmark -P $pipeline reported an error: $out"; fi
done
[[ $(cli get counter:__rand_int__) == $((2 * n)) ]] || fail "INCR ran $((2 * n)) times, the counter reads $(cli get counter:__rand_int__)"

# 4. Graceful shutdown.
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
[[ $status == 0 ]] || fail "exit status $status after SIGTERM"
grep -q "signal 15: shutting down" "$work/server.log" || fail "no shutdown message"
echo "redis_clients: ok (redis-cli replies as redis-server's, pub/sub, redis-benchmark -P 1 and 16, shutdown)"
