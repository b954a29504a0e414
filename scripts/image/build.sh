#!/usr/bin/env bash
# npm run image:build: builds the Seismo image with podman from the repo's standard Dockerfile.
#  1. Base images: uses node:20-bookworm(-slim) if present, else pulls them, else (no registry
#     reachable, as on the dev/CI machine) makes local ones with bootstrap-base.sh.
#  2. podman build --pull=never (layer cache on: an unchanged tree rebuilds in seconds). The
#     build stage itself builds the native addon and fails unless tf.getBackend() is 'tensorflow'.
#  3. Checks the built image: runs `node` inside for the versions and the backend, prints size.
# Usage: scripts/image/build.sh [-t TAG]     env: SEISMO_IMAGE (default localhost/seismo:latest)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
if [[ "${1:-}" == "-t" && -n "${2:-}" ]]; then export SEISMO_IMAGE="$2"; fi
# shellcheck source=common.sh
source "$HERE/common.sh"

for base in docker.io/library/node:20-bookworm docker.io/library/node:20-bookworm-slim; do
  image_exists "$base" && continue
  if "$PODMAN" pull --quiet "$base" >/dev/null 2>&1; then
    log "pulled $base"
  else
    log "$base: not local and no registry answers; bootstrapping local base images"
    bash "$HERE/bootstrap-base.sh"
    break
  fi
done

log "building $IMAGE from $ROOT/Dockerfile"
t0=$(date +%s)
# --isolation=chroot: RUN steps without a nested container runtime (none works here);
# --layers: reuse cached layers; --pull=never: the base images are the local ones above;
# --format docker: the OCI image format has no HEALTHCHECK (podman would drop it).
"$PODMAN" build --format docker --isolation=chroot --pull=never --layers -t "$IMAGE" -f "$ROOT/Dockerfile" "$ROOT"
build_s=$(( $(date +%s) - t0 ))

versions=$("$PODMAN" run "${RUN_FLAGS[@]}" --rm --read-only --entrypoint node "$IMAGE" -e '
  const tf = require("@tensorflow/tfjs-node");
  const pkg = require("/app/package.json");
  const backend = tf.getBackend();
  console.log(JSON.stringify({ seismo: pkg.version, node: process.version, tfjs: tf.version.tfjs,
    tensorflow: tf.backend().binding.TF_Version, backend, MALLOC_CONF: process.env.MALLOC_CONF,
    allocator: (/lib(jemalloc|tcmalloc|mimalloc)/.exec(require("fs").readFileSync("/proc/self/maps", "utf8")) || [, "glibc"])[1],
    user: require("os").userInfo().username }));
  process.exit(backend === "tensorflow" ? 0 : 1);' 2>/dev/null | tail -1) \
  || die "the image does not load the native TensorFlow backend: $versions"
log "image $IMAGE: $(image_size "$IMAGE"), built in ${build_s}s"
log "inside: $versions"
