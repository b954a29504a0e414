#!/usr/bin/env bash
# Chaos benchmark (issue 12) on a broker of its own (port 39192): npm run bench:chaos [-- options]
# Options: see bench/chaos.mjs. Results: bench/out/chaos.json, bench/out/chaos-lag.csv and a Markdown table on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -p . >&2
bash scripts/kafka/install.sh --quiet-if-present --no-kcat
node bench/chaos.mjs "$@"
