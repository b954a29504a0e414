#!/usr/bin/env bash
# Seismo vs Keras benchmark, everything in one go (~10 min on 2 cores):
#   bash bench/run.sh            (intended npm script: "bench": "bash bench/run.sh")
# Environment knobs:
#   BENCH_BUDGET=3         seconds of timed calls per cell (native, wasm, Keras)
#   BENCH_CPU_BUDGET=1     the same for the slow pure-JS cpu backend (B>=256: one call, ~6-25 s)
#   BENCH_LEAK_BATCHES=300 scoreRaw calls (batch 1) for the native tensor-leak check (10000 takes ~11 min)
#   BENCH_TRAIN_CSV=path  train on the first 400 rows of this SKAB CSV instead of the seeded simulator
#   BENCH_OLD=1            also time an old hardSigmoid artifact (Scorer path fused vs layers; 0 to skip)
#   BENCH_FUSED=0          1 = also run the fused-LSTM prototype and its op/time breakdown; BENCH_FUSED_BUDGET=1.5
# Results: bench/out/*.json, and the tables in bench/out/report.md (also printed), with the
# machine's 1-minute load average beside every cell.
set -euo pipefail
cd "$(dirname "$0")/.."
BUDGET="${BENCH_BUDGET:-3}"
CPU_BUDGET="${BENCH_CPU_BUDGET:-1}"
LEAK="${BENCH_LEAK_BATCHES:-300}"
FUSED="${BENCH_FUSED:-0}"
OLD="${BENCH_OLD:-1}"
CACHE="${SEISMO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/seismo}"
VENV="${SEISMO_KERAS_VENV:-$CACHE/keras-venv}"
export TF_CPP_MIN_LOG_LEVEL=2

# Each step's line carries the 1-minute load; every cell's JSON and table entry carries its own.
step() { echo "== $* ($(date +%T), load $(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo '?'))" >&2; }
busy() {
  if pgrep -f vitest >/dev/null 2>&1; then
    echo "   warning: vitest is running on this machine; numbers will be noisy (2 cores)" >&2
  fi
}
start=$(date +%s)
mkdir -p bench/out

step "build (npx tsc -p .)"
npx tsc -p . >&2 || { [ -f dist/score/scorer.js ] && echo "   tsc failed; using the existing dist/" >&2 || exit 1; }
step "Keras venv"
bash bench/setup-keras.sh

# Orthogonal-initializer warnings from tfjs are noise here.
quiet() { grep -v --line-buffered -e 'Orthogonal initializer' -e 'looks like you are running TensorFlow.js' -e '^=====' -e '^$' >&2 || true; }

step "Seismo native (scoring, export of weights, training, ${LEAK}-batch leak check)"; busy
node bench/scorer-bench.mjs --backend native --budget "$BUDGET" --export --train --leak "$LEAK" ${BENCH_TRAIN_CSV:+--train-csv "$BENCH_TRAIN_CSV"} 2> >(quiet)
step "Seismo wasm"; busy
node bench/scorer-bench.mjs --backend wasm --budget "$BUDGET" 2> >(quiet)
step "Seismo cpu"; busy
node bench/scorer-bench.mjs --backend cpu --budget "$CPU_BUDGET" 2> >(quiet)
step "Keras (same weights)"; busy
"$VENV/bin/python" bench/keras_bench.py --budget "$BUDGET" --train 2> >(grep -v --line-buffered '^WARNING' >&2 || true)
if [ "$OLD" != 0 ]; then
  step "Seismo native, old hardSigmoid artifact (fused vs layers)"; busy
  node bench/scorer-bench.mjs --backend native --budget "$BUDGET" --gates hardSigmoid --out bench/out/seismo-native-hardsigmoid.json 2> >(quiet)
fi
if [ "$FUSED" != 0 ]; then
  step "fused-LSTM prototype (native)"; busy
  node bench/fused-lstm-proto.mjs --budget "${BENCH_FUSED_BUDGET:-1.5}" 2> >(quiet)
fi
sleep 0.2  # let the stderr filters flush
step "report ($(( $(date +%s) - start )) s in total)"
node bench/report.mjs
