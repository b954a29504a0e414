#!/usr/bin/env bash
# Stop the broker started by start.sh: SIGTERM, wait, then SIGKILL.
#
# Usage: scripts/kafka/stop.sh [--dir DIR] [--timeout SECS] [--clean]
#   --dir      runtime dir given to start.sh, default /tmp/seismo-kafka ($KAFKA_DIR)
#   --timeout  seconds to wait after SIGTERM before SIGKILL, default 30
#   --clean    also delete DIR (data, config, logs)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TIMEOUT=30
CLEAN=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dir) export KAFKA_DIR="$2"; shift 2 ;;
    --timeout) TIMEOUT="$2"; shift 2 ;;
    --clean) CLEAN=1; shift ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "stop.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
done
# shellcheck source=common.sh
source "$HERE/common.sh"
PIDFILE="$KAFKA_DIR/kafka.pid"
say() { echo "kafka: $*" >&2; }

alive() { kill -0 "$1" 2>/dev/null && tr '\0' ' ' < "/proc/$1/cmdline" 2>/dev/null | grep -q 'kafka\.Kafka'; }

if [[ ! -f "$PIDFILE" ]]; then
  say "not running (no pidfile in $KAFKA_DIR)"
else
  pid="$(cat "$PIDFILE")"
  if ! alive "$pid"; then
    say "not running (stale pidfile, pid $pid)"
  else
    kill -TERM "$pid"
    t=0
    while alive "$pid" && [[ $t -lt $((TIMEOUT * 5)) ]]; do sleep 0.2; t=$((t + 1)); done
    if alive "$pid"; then
      say "pid $pid still alive after ${TIMEOUT}s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    fi
    say "stopped (pid $pid)"
  fi
  rm -f "$PIDFILE"
fi
if [[ $CLEAN -eq 1 ]]; then
  rm -rf "$KAFKA_DIR"
  say "removed $KAFKA_DIR"
fi
