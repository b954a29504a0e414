#!/usr/bin/env bash
# Debian packages the image build and the image test need: podman and buildah (build/run),
# runc (crun, podman's default runtime, fails here on cgroups hybrid mode and setrlimit),
# mmdebstrap (local base images when no registry is reachable), catatonit (`--init`, compose's
# `init: true`). Idempotent and quiet when present.
# Usage: scripts/image/install-podman.sh [--quiet-if-present]
set -euo pipefail
QUIET=0
[[ "${1:-}" == "--quiet-if-present" ]] && QUIET=1
missing=()
for pair in podman:podman buildah:buildah runc:runc mmdebstrap:mmdebstrap catatonit:catatonit; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  [[ $QUIET -eq 1 ]] || echo "podman: already installed ($(podman --version))"
  exit 0
fi
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "install-podman.sh: apt-get install ${missing[*]} (+ uidmap fuse-overlayfs slirp4netns)" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
  "${missing[@]}" uidmap fuse-overlayfs slirp4netns containernetworking-plugins >/dev/null
for tool in podman buildah runc mmdebstrap catatonit; do
  command -v "$tool" >/dev/null || { echo "install-podman.sh: $tool still missing after apt-get install" >&2; exit 1; }
done
echo "podman: installed ($(podman --version))"
