#!/usr/bin/env bash
# Memory allocators side by side through a real broker (issue 15): npm run bench:allocators [-- options]
# Options: see bench/allocators.mjs. Results: bench/out/allocators.json and Markdown tables on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -p . >&2
bash scripts/kafka/install.sh --quiet-if-present --no-kcat
node bench/allocators.mjs "$@"
