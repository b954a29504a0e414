#!/usr/bin/env bash
# `podman run` with the flags this machine needs (see common.sh): runc, cgroupfs, ulimits.
#   scripts/image/run.sh --rm --network host localhost/seismo:latest --help
# On a machine where plain `podman run` / `docker run` works, use that instead.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=common.sh
source "$HERE/common.sh"
exec "$PODMAN" run "${RUN_FLAGS[@]}" "$@"
