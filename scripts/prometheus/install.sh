#!/usr/bin/env bash
# Prometheus and promtool from Debian, for the alert-rule tests and the dashboard test.
# Usage: scripts/prometheus/install.sh [--quiet-if-present]   (idempotent; root or sudo)
# The package's service is not started (tests run their own Prometheus on a free port).
set -euo pipefail
if command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; then
  [[ "${1:-}" == "--quiet-if-present" ]] || echo "prometheus: already installed ($(prometheus --version 2>&1 | head -1))"
  exit 0
fi
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "prometheus: installing from Debian packages" >&2
$SUDO apt-get update -qq
# policy-rc.d may refuse to start the service in containers; that is what we want anyway.
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null 2>&1 || {
  command -v promtool >/dev/null 2>&1 || { echo "prometheus: apt-get install prometheus failed" >&2; exit 1; }
}
echo "prometheus: $(prometheus --version 2>&1 | head -1)" >&2
