#!/usr/bin/env bash
# What `npm test` needs besides npm packages (run by the pretest script; idempotent and quiet
# when everything is there): the Kafka broker's jars and kcat, Prometheus and promtool.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bash "$HERE/kafka/install.sh" --quiet-if-present
bash "$HERE/prometheus/install.sh" --quiet-if-present
