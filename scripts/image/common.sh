# Shared by scripts/image/*.sh: podman invocation and the flags this machine needs.
PODMAN="${PODMAN:-podman}"
IMAGE="${SEISMO_IMAGE:-localhost/seismo:latest}"
# runc rather than crun (crun fails here on cgroups hybrid mode and setrlimit); cgroupfs since
# there is no systemd; ulimits at or below the host's.
RUN_FLAGS=(--runtime runc --cgroup-manager cgroupfs
           --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)

log() { echo "[image] $*" >&2; }
die() { echo "[image] ERROR: $*" >&2; exit 1; }
image_exists() { "$PODMAN" image exists "$1"; }
image_size() { "$PODMAN" image inspect --format '{{.Size}}' "$1" | awk '{ printf "%.0f MB", $1 / 1e6 }'; }
command -v "$PODMAN" >/dev/null 2>&1 || die "$PODMAN not found: bash scripts/image/install-podman.sh (Debian: podman buildah runc mmdebstrap)"
