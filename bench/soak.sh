#!/usr/bin/env bash
# Soak benchmark (issue 12) on a broker of its own (port 39292): npm run bench:soak [-- options]
# Default: 1 h at 5,000 readings/s. Options: see bench/soak.mjs. Results: bench/out/soak.csv,
# bench/out/soak.json and a Markdown table on stdout; exit 1 when memory or tensors grew > 5 %.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -p . >&2
bash scripts/kafka/install.sh --quiet-if-present --no-kcat
node bench/soak.mjs "$@"
