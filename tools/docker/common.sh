# Shared settings of the scripts in tools/docker (sourced, never run).
#
# These scripts are a test harness: they give a machine without Docker a
# private Docker engine, the Compose plugin and stand-ins for the official
# base images, so that CI can run the shop with `docker compose` for real.
# None of it is needed on a machine that already has Docker.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DOCKER_CACHE="$ROOT/.cache/docker"   # engine data, stand-in rootfs tarballs
DOCKER_RUN="$ROOT/.run/docker"       # socket, pid file, engine log

# The private engine, when we start one, listens here; an engine that is
# already running (DOCKER_HOST, or the system's socket) is used as it is.
PRIVATE_SOCKET="$DOCKER_RUN/docker.sock"

# The Compose plugin goes into a Docker configuration folder of our own, so
# the user's ~/.docker is left alone.
export DOCKER_CONFIG="${DOCKER_CONFIG:-$DOCKER_CACHE/config}"

# The classic builder: BuildKit may look up a remote registry even when every
# base image is local. Ryuk (testcontainers' reaper) is an image we cannot pull.
export DOCKER_BUILDKIT=0
export COMPOSE_DOCKER_CLI_BUILD=0
export TESTCONTAINERS_RYUK_DISABLED=true

log() { printf '[docker] %s\n' "$*" >&2; }
die() {
  printf '\n[docker] ==================== FAILED ====================\n' >&2
  printf '[docker] %s\n' "$*" >&2
  printf '[docker] ================================================\n\n' >&2
  exit 1
}

# Point DOCKER_HOST at the private engine unless one is given or running.
use_engine() {
  if [ -z "${DOCKER_HOST:-}" ] && ! docker info >/dev/null 2>&1; then
    export DOCKER_HOST="unix://$PRIVATE_SOCKET"
  fi
}

# The Debian archive this machine's apt already uses (no host written here).
debian_mirror() {
  local uri
  uri="$(grep -rhoE '^(URIs:|deb) +https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null \
    | awk '{print $2}' | head -n1)"
  [ -n "$uri" ] || die "no Debian archive found in /etc/apt/sources.list*"
  printf '%s\n' "${uri%/}"
}

# Behind a TLS-inspecting proxy, the CA certificates the machine added to
# /usr/local/share/ca-certificates go to the image builds as EXTRA_CA_CERT
# (unless it is set already): pip, uv and npm inside the builds need them.
use_extra_ca() {
  if [ -z "${EXTRA_CA_CERT:-}" ] && compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    EXTRA_CA_CERT="$(cat /usr/local/share/ca-certificates/*.crt)"
    export EXTRA_CA_CERT
  fi
}
