#!/usr/bin/env bash
# Creates (once) a Python venv with TensorFlow/Keras for bench/keras_bench.py.
# Reuses the tensorflow-cpu wheel that scripts/native/install-tfjs-native.mjs already cached,
# so the Keras side runs the same TensorFlow build (2.12.1) as Seismo's native backend.
set -euo pipefail
CACHE="${SEISMO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/seismo}"
VENV="${SEISMO_KERAS_VENV:-$CACHE/keras-venv}"
TF_VERSION="${SEISMO_TF_VERSION:-2.12.1}"
PY="${PYTHON:-python3}"
stamp="$VENV/.seismo-keras-$TF_VERSION"

if [ -f "$stamp" ] && "$VENV/bin/python" -c 'import tensorflow' >/dev/null 2>&1; then
  echo "[setup-keras] venv ready: $VENV (tensorflow-cpu $TF_VERSION)" >&2
  exit 0
fi
echo "[setup-keras] creating $VENV with tensorflow-cpu==$TF_VERSION" >&2
"$PY" -m venv "$VENV"
mkdir -p "$CACHE/wheels"
# --find-links: the cached tensorflow_cpu wheel (232 MB) is used instead of a download.
"$VENV/bin/python" -m pip install --quiet --find-links "$CACHE/wheels" \
  "tensorflow-cpu==$TF_VERSION" "numpy<2"
"$VENV/bin/python" -c 'import tensorflow as tf; print("[setup-keras] tensorflow", tf.__version__)' >&2
touch "$stamp"
