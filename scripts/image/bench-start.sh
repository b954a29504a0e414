#!/usr/bin/env bash
# Start-to-ready of the image (BENCHMARKS.md "Container image"): a private broker, a small SKAB
# model trained inside the image, then N times: `podman run -d` of the image's default command
# until /readyz answers 200 (wall clock from the host), and Seismo's own "lifecycle starting" to
# "lifecycle ready" from its log. Also the bare container overhead (`podman run` of `node -e 0`).
# Usage: scripts/image/bench-start.sh [N=5]    env: SEISMO_IMAGE, BENCH_KAFKA_PORT (29097)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
# shellcheck source=common.sh
source "$HERE/common.sh"
N="${1:-5}"
PORT="${BENCH_KAFKA_PORT:-29097}"
DIR="/tmp/seismo-image-bench"
WORK="$(mktemp -d)"
cleanup() { "$PODMAN" rm -f seismo-bench-start >/dev/null 2>&1 || true; bash "$ROOT/scripts/kafka/stop.sh" --dir "$DIR" --clean >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT
BOOT=$(bash "$ROOT/scripts/kafka/start.sh" --port "$PORT" --dir "$DIR" --fresh 2>/dev/null | tail -1)
mkdir -p "$WORK/state" "$WORK/etc" "$WORK/data"
chown 1000:1000 "$WORK/state"
cp "$ROOT/../shared/data/skab/valve1/0.csv" "$WORK/data/"
cat > "$WORK/etc/seismo.yaml" <<YAML
input: { format: skab }
window: { lookback: 10, maxGapSeconds: 60 }
training: { maxRows: 400 }
model: { encoderUnits: [16, 8], epochs: 3, batchSize: 128 }
artifactDir: /var/lib/seismo/model
source: { kind: kafka, topics: [bench.readings], groupId: bench }
sink: { kind: kafka, topic: bench.flags, deadLetterTopic: bench.dlq }
kafka: { brokers: ["$BOOT"] }
YAML
V=(-v "$WORK/state:/var/lib/seismo" -v "$WORK/etc:/etc/seismo:ro" -v "$WORK/data:/data:ro")
bash "$HERE/run.sh" --rm --read-only --network host -e SEISMO_HTTP_ENABLED=false "${V[@]}" "$IMAGE" train -c /etc/seismo/seismo.yaml -d /data >/dev/null 2>&1
bash "$HERE/run.sh" --rm --read-only --network host "${V[@]}" "$IMAGE" produce -c /etc/seismo/seismo.yaml --data /data >/dev/null 2>&1
ms() { date +%s%3N; }
t0=$(ms); bash "$HERE/run.sh" --rm --no-healthcheck --entrypoint node "$IMAGE" -e 0; echo "bare podman run (node -e 0): $(( $(ms) - t0 )) ms"
HTTP=$(( PORT + 10 ))
for i in $(seq 1 "$N"); do
  t0=$(ms)
  bash "$HERE/run.sh" -d --name seismo-bench-start --read-only --network host -e SEISMO_HTTP_PORT=$HTTP "${V[@]}" "$IMAGE" >/dev/null 2>&1
  until curl -sf "http://127.0.0.1:$HTTP/readyz" >/dev/null; do sleep 0.05; done
  wall=$(( $(ms) - t0 ))
  "$PODMAN" stop --time 30 seismo-bench-start >/dev/null 2>&1
  app=$("$PODMAN" logs seismo-bench-start 2>&1 | node -e '
    const lines = require("fs").readFileSync(0, "utf8").split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
    const at = (s) => Date.parse(lines.find((l) => l.state === s)?.time);
    process.stdout.write(String(at("ready") - at("starting")));')
  echo "run $i: podman run -> /readyz 200: $wall ms (Seismo starting -> ready: $app ms)"
  "$PODMAN" rm seismo-bench-start >/dev/null 2>&1
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
