#!/usr/bin/env bash
# make loadtest: start a server (Redis store by default, on a redis-server of its own on a free port; never the
# machine's 6379) with the demo store, run Locust headless for LOADTEST_TIME, stop everything. The exit code is
# Locust's: non-zero when the thresholds of loadtests/locustfile.py are crossed.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
STORE=${LOADTEST_STORE:-redis}
TIME=${LOADTEST_TIME:-2m}
free_port() { "$BIN/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
url="memory://"
if [ "$STORE" = redis ]; then
  RPORT=$(free_port)
  redis-server --port "$RPORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" >"$work/redis.log" 2>&1 &
  pids+=($!)
  url="redis://127.0.0.1:$RPORT/0"
fi
export PZ_ACCESS_LOG=false PZ_SEGMENTS__EVERY_HOURS=0
# every simulated visitor comes from 127.0.0.1: the per-address limit would refuse them (sessions stay limited)
export PZ_LIMITS__IP_PER_SECOND=${PZ_LIMITS__IP_PER_SECOND:-0}
export PZ_API_KEY=${PZ_API_KEY:-demo-api-key} PZ_IDENTITY_SECRET=${PZ_IDENTITY_SECRET:-demo-identity-secret}
"$BIN/personalize" serve --port "$PORT" --store "$url" --demo >"$work/server.log" 2>&1 &
pids+=($!)
for _ in $(seq 600); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break; sleep 0.5; done
curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null || { echo "server did not start"; tail -20 "$work/server.log"; exit 1; }
echo "loadtest: $STORE store, server on port $PORT, $TIME"
"$BIN/locust" --config loadtests/locust.conf --host "http://127.0.0.1:$PORT" --run-time "$TIME"
