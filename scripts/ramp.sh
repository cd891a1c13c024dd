#!/usr/bin/env bash
# ramp.sh: the side-by-side load figures of docs/performance.md in one run.
# Ramps echo calls, then full embedded-agent calls (pocketsphinx, rules,
# flite: the receptionist of configs/example.yaml, callers asking two
# questions), each against a fresh single server on this machine, and
# prints each table and its knee. Tunable through the environment:
#   ECHO_STEP=50 ECHO_MAX=800 ECHO_STEP_DURATION=20s
#   AGENT_STEP=5 AGENT_MAX=80 AGENT_STEP_DURATION=40s LATE_LIMIT=0.001
#   AGENT_PACING_LIMIT=40ms AGENT_REPLY_LIMIT=2s
# Agent calls are judged by the server's pacing lateness p99 and the reply
# latency p95, not by gaps at the caller's socket: replies go out with a
# 100 ms lead of Twilio-side buffer, so socket gaps inside a reply are not
# breaks in what the caller hears (see docs/performance.md).
set -euo pipefail
cd "$(dirname "$0")/.."
late=${LATE_LIMIT:-0.001}
echo "== ramp: $(nproc) cores, $(uptime)"
echo
echo "== echo calls"
./scripts/load.sh echo -ramp -start "${ECHO_START:-${ECHO_STEP:-50}}" -step "${ECHO_STEP:-50}" -max "${ECHO_MAX:-800}" \
  -step-duration "${ECHO_STEP_DURATION:-20s}" -late-limit "$late"
echo
echo "== full embedded-agent calls"
PORT=$(( ${PORT:-18080} + 1 )) ./scripts/load.sh receptionist -ramp -start "${AGENT_START:-${AGENT_STEP:-5}}" -step "${AGENT_STEP:-5}" \
  -max "${AGENT_MAX:-80}" -step-duration "${AGENT_STEP_DURATION:-40s}" -late-limit -1 -pacing-limit "${AGENT_PACING_LIMIT:-40ms}" \
  -reply-limit "${AGENT_REPLY_LIMIT:-2s}" -stagger 5s \
  -say "what are your opening hours" -say "do you take insurance"
