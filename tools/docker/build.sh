#!/usr/bin/env bash
# Builds the project's images, one at a time (the machines that run CI are
# small, and a parallel build of seven images starves everything else), with
# the Dockerfile and build arguments docker-compose.yml gives each service
# (docker/README.md). The images of one language share their first layers:
# the first build of each language makes them, the others find them cached.
#
#   tools/docker/build.sh [SERVICE...]     # default: every service with a build
set -euo pipefail
source "$(dirname "$0")/common.sh"
use_engine
use_extra_ca
cd "$ROOT"

services=("$@")
if [ "${#services[@]}" -eq 0 ]; then
  mapfile -t services < <(docker compose config --format json | python3 -c '
import json, sys
for name, service in json.load(sys.stdin)["services"].items():
    if "build" in service:
        print(name)')
fi
mkdir -p "$DOCKER_RUN"
for service in "${services[@]}"; do
  began=$SECONDS
  build_log="$DOCKER_RUN/build-$service.log"
  docker compose build "$service" > "$build_log" 2>&1 \
    || { tail -n 40 "$build_log" >&2; die "building the $service image failed (log: $build_log)"; }
  log "$service image built in $((SECONDS - began)) s"
done
# Layers that a rebuild replaced are left untagged: drop those of earlier
# days. Today's stay: with the classic builder, the untagged images of the
# first stages are the cache that `docker compose up --build` (the tests'
# fixture) builds from; dropping them made it compile everything again.
docker image prune --force --filter "until=24h" > /dev/null
