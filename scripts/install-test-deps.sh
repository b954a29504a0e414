#!/usr/bin/env bash
# What `npm test` needs besides npm packages (run by the pretest script; idempotent and quiet
# when everything is there): the Kafka broker's jars and kcat, Prometheus and promtool, podman,
# jemalloc.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bash "$HERE/kafka/install.sh" --quiet-if-present
bash "$HERE/prometheus/install.sh" --quiet-if-present
# Podman, Buildah, runc, mmdebstrap: test/deploy/image.test.ts builds and runs the image.
bash "$HERE/image/install-podman.sh" --quiet-if-present
# jemalloc: Seismo's allocator; test/observability/allocator.test.ts checks a daemon runs on it.
bash "$HERE/allocator/install.sh" --quiet-if-present
