#!/usr/bin/env bash
# `make test-containers`: the end-to-end suite against the shop in
# containers, for real. In order:
#
#   1. a Docker engine and the Compose plugin (installed from Debian
#      packages when missing, which needs root),
#   2. the engine started (ours, unless one is running already),
#   3. stand-ins for the official base images, where those cannot be pulled,
#   4. the project's images, built one at a time,
#   5. pytest e2e-tests/containers with E2E_STACK=compose,
#
# and whatever happens, `docker compose down -v` and our engine stopped.
# Without an engine the run fails, saying so: it never passes by skipping.
set -euo pipefail
HERE="$(dirname "$0")"
source "$HERE/common.sh"

cleanup() {
  local code=$?
  if docker info >/dev/null 2>&1; then
    docker compose -f "$ROOT/docker-compose.yml" down --volumes --remove-orphans >/dev/null 2>&1 || true
  fi
  bash "$HERE/engine.sh" stop
  exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

began=$SECONDS
bash "$HERE/install.sh" || die "no Docker engine or Compose plugin could be installed: the container tests did NOT run"
bash "$HERE/engine.sh" start || die "no Docker engine could be started: the container tests did NOT run"
use_engine
use_extra_ca
log "engine ready after $((SECONDS - began)) s"

bash "$HERE/standins.sh"
log "base images ready after $((SECONDS - began)) s"
bash "$HERE/build.sh"
log "project images built after $((SECONDS - began)) s"

cd "$ROOT"
E2E_STACK=compose "$ROOT/.venv/bin/pytest" e2e-tests/containers -p no:cacheprovider \
  || die "the compose-backed end-to-end tests failed"
log "container tests passed in $((SECONDS - began)) s"
