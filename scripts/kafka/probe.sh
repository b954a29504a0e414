#!/usr/bin/env bash
# kafkajs 2.2.4 <-> running broker interop probe (see docs/KAFKA.md). Needs node, npm, kcat.
# Usage: scripts/kafka/probe.sh [BOOTSTRAP]   (default: address from start.sh, else 127.0.0.1:9092)
#   env: PROBE_DIR (scratch dir, default /tmp/kafka-probe), KAFKAJS_VERSION (default 2.2.4)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/common.sh"
BOOT="${1:-$(cat "$KAFKA_DIR/bootstrap" 2>/dev/null || echo "127.0.0.1:$KAFKA_PORT")}"
PROBE_DIR="${PROBE_DIR:-/tmp/kafka-probe}"
KAFKAJS_VERSION="${KAFKAJS_VERSION:-2.2.4}"
mkdir -p "$PROBE_DIR"
cd "$PROBE_DIR"
[[ -f package.json ]] || npm init -y >/dev/null 2>&1
if [[ "$(node -p "require('./node_modules/kafkajs/package.json').version" 2>/dev/null)" != "$KAFKAJS_VERSION" ]]; then
  npm i --no-audit --no-fund "kafkajs@$KAFKAJS_VERSION" >/dev/null 2>&1
fi
cp "$HERE/probe/probe.mjs" "$PROBE_DIR/probe.mjs"
echo "probe: kafkajs $KAFKAJS_VERSION against ${BOOT} (broker $(cat "$KAFKA_DIR/version" 2>/dev/null || echo '?'))"
exec node probe.mjs "$BOOT"
