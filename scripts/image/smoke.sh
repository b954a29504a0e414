#!/usr/bin/env bash
# npm run image:smoke: builds the image (layer cache: seconds when nothing changed) and runs
# test/deploy/image.test.ts, the same test `npm test` runs, against a fresh broker of its own
# (port 29095 unless SEISMO_TEST_KAFKA_PORT says otherwise, so a running suite is left alone).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
npm run build --silent
bash scripts/install-test-deps.sh
export SEISMO_TEST_KAFKA_PORT="${SEISMO_TEST_KAFKA_PORT:-29095}"
export SEISMO_TEST_KAFKA_DIR="${SEISMO_TEST_KAFKA_DIR:-/tmp/seismo-kafka-image-smoke}"
exec npx vitest run test/deploy/image.test.ts
