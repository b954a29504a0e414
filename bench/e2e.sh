#!/usr/bin/env bash
# End-to-end benchmark through a real Kafka broker (its own; --port, default 39092): npm run bench:e2e [-- options]
# Options: see bench/e2e.mjs. Results: bench/out/e2e.json and a Markdown table on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -p . >&2
bash scripts/kafka/install.sh --quiet-if-present --no-kcat
node bench/e2e.mjs "$@"
