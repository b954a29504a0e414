#!/usr/bin/env bash
# Install jemalloc, the allocator Seismo runs on (bin/seismo.js preloads it; docs/operations.md,
# "Memory"), from Debian's libjemalloc2. Idempotent; --quiet-if-present says nothing when it is
# there. Run by scripts/install-test-deps.sh (npm test's pretest): test/observability/allocator.test.ts
# checks that a started daemon really runs on it.
# Usage: scripts/allocator/install.sh [--quiet-if-present]
set -euo pipefail
QUIET=0
[[ "${1:-}" == "--quiet-if-present" ]] && QUIET=1

# Not `ldconfig -p | grep -q`: grep -q exits at the first match and pipefail then fails the pipe.
present() { [[ "$(ldconfig -p 2>/dev/null)" == *'libjemalloc.so.2 '* ]]; }
if present; then
  [[ $QUIET -eq 1 ]] || echo "allocator: libjemalloc.so.2 is installed ($(ldconfig -p | awk '/libjemalloc\.so\.2 /{print $NF; exit}'))" >&2
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "allocator: no apt-get here; install jemalloc 5 with this system's package manager (bin/seismo.js looks in /usr/lib/<arch>-linux-gnu, /usr/lib64, /usr/lib, /usr/local/lib, or SEISMO_JEMALLOC_PATH)" >&2
  exit 1
fi
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "allocator: apt-get install libjemalloc2" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends libjemalloc2 >/dev/null
present || { echo "allocator: libjemalloc2 installed but libjemalloc.so.2 is not in the linker cache" >&2; exit 1; }
