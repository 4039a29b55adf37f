#!/usr/bin/env bash
# Choose the ASGI server and price the access log: wrk (1 thread, 32 connections, 10 s after a 3 s warm-up)
# against one worker of (a) the bare litestar endpoint and (b) POST /v1/page (home, demo store, memory),
# under granian and uvicorn, with the access log on and off. Needs wrk (apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PORT=${PORT:-8019}
LUA=$(mktemp --suffix .lua)
printf 'wrk.method = "POST"\nwrk.body = %s\nwrk.headers["Content-Type"] = "application/json"\n' \
  "'{\"page\":{\"type\":\"home\"},\"session_id\":\"bench-1\"}'" > "$LUA"

measure() {  # label url [wrk args]
  local label=$1 url=$2; shift 2
  for _ in $(seq 150); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/healthz" 2>/dev/null && break
    curl -sf -o /dev/null "$url" 2>/dev/null && break; sleep 0.2; done
  wrk -t1 -c32 -d3s "$@" "$url" >/dev/null
  printf '%-34s' "$label"
  wrk -t1 -c32 -d10s --latency "$@" "$url" | awk '/Requests\/sec/ {r=$2} / 50%/ {p50=$2} / 99%/ {p99=$2}
    END {printf "%9s req/s  p50 %8s  p99 %8s\n", r, p50, p99}'
}

for server in granian uvicorn; do
  if [ "$server" = granian ]; then
    $BIN/granian --interface asgi --factory --port "$PORT" --no-ws loadtests.bare_app:build >/dev/null 2>&1 &
  else
    $BIN/uvicorn --factory --port "$PORT" --no-access-log --log-level warning loadtests.bare_app:build >/dev/null 2>&1 &
  fi
  pid=$!; measure "bare endpoint, $server" "http://127.0.0.1:$PORT/bare"; kill $pid; wait $pid 2>/dev/null || true
  for log in true false; do
    PZ_ACCESS_LOG=$log $BIN/personalize serve --port "$PORT" --server "$server" >/dev/null 2>&1 &
    pid=$!; measure "/v1/page home, $server, log $log" "http://127.0.0.1:$PORT/v1/page" -s "$LUA"
    kill $pid; wait $pid 2>/dev/null || true
  done
done
rm -f "$LUA"
