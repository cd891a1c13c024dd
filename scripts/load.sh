#!/usr/bin/env bash
# load.sh CALLS DURATION: start a server in echo mode on a loopback port,
# run `frontdesk load` against it, print the report, stop the server.
# Used by `make load` and `make soak`; numbers go in docs/performance.md.
set -euo pipefail
calls=${1:-500}
duration=${2:-30s}
port=${PORT:-18080}
bin=${BIN:-bin/frontdesk}
tmp=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT

sed -e "s|^  listen: .*|  listen: \"127.0.0.1:$port\"|" \
    -e "s|^  public_url: .*|  public_url: \"http://127.0.0.1:$port\"|" \
    -e "s|^  mode: receptionist|  mode: echo|" \
    -e "s|^  max_calls: .*|  max_calls: 5000|" \
    configs/example.yaml > "$tmp/load.yaml"
grep -q 'mode: echo' "$tmp/load.yaml" || { echo "load.sh: could not switch the example config to echo mode" >&2; exit 1; }

"$bin" serve -config "$tmp/load.yaml" -log-level warn 2> "$tmp/server.log" &
pid=$!
for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
"$bin" load -config "$tmp/load.yaml" -calls "$calls" -duration "$duration"
echo "server warnings and errors: $(wc -l < "$tmp/server.log")"
head -5 "$tmp/server.log"
