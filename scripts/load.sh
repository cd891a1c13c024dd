#!/usr/bin/env bash
# load.sh [MODE] [frontdesk load flags…]: start a server on a loopback port
# with the example config in agent MODE (echo, the default, or
# receptionist), run `frontdesk load` against it with the flags, stop the
# server. For compatibility, `load.sh CALLS DURATION` runs CALLS echo calls
# of DURATION.
# Used by `make load`, `make soak` and scripts/ramp.sh; numbers go in
# docs/performance.md.
set -euo pipefail
mode=echo
case "${1:-}" in
  echo|receptionist) mode=$1; shift ;;
  [0-9]*) set -- -calls "$1" -duration "${2:-30s}" ;;
esac
port=${PORT:-18080}
bin=${BIN:-bin/frontdesk}
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }; rm -rf "$tmp"' EXIT

sed -e "s|^  listen: .*|  listen: \"127.0.0.1:$port\"|" \
    -e "s|^  public_url: .*|  public_url: \"http://127.0.0.1:$port\"|" \
    -e "s|^  data_dir: .*|  data_dir: \"$tmp/data\"|" \
    -e "s|^  mode: receptionist|  mode: $mode|" \
    -e "s|^  max_calls: .*|  max_calls: 5000\n  limits: {max_conns: 20000, max_conns_per_ip: 0}|" \
    configs/example.yaml > "$tmp/load.yaml"
grep -q "^  mode: $mode" "$tmp/load.yaml" || { echo "load.sh: could not set the agent mode to $mode" >&2; exit 1; }

"$bin" serve -config "$tmp/load.yaml" -log-level warn 2> "$tmp/server.log" &
pid=$!
for _ in $(seq 300); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
echo "load.sh: $mode server on :$port; $(uptime)"
"$bin" load -config "$tmp/load.yaml" "$@"
echo "load.sh: done; $(uptime)"
echo "server warnings and errors: $(grep -vc 'ephemeral\|recording key' "$tmp/server.log" || true)"
grep -v 'ephemeral\|recording key' "$tmp/server.log" | head -5 || true
