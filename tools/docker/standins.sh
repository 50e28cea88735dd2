#!/usr/bin/env bash
# Builds stand-ins for the official base images the project's Dockerfiles
# start FROM (python:3.12-slim, node:22-slim, apache/kafka:4.1.1), tagged
# with those names, for an engine that cannot pull from a registry.
#
# A harness step only: where the real images exist (pulled, or on a machine
# with registry access) they are left alone. Stand-ins carry the label
# polyshop.standin=<hash of their inputs> and are rebuilt when the inputs change.
#
# The Debian root file system (debootstrap, minbase) is cached as a tarball in
# .cache/docker/rootfs, so only the first run pays for it.
set -euo pipefail
source "$(dirname "$0")/common.sh"
use_engine

HERE="$ROOT/tools/docker/standins"
BASE=polyshop-standin/debian:bookworm
ROOTFS_TAR="$DOCKER_CACHE/rootfs/bookworm-minbase.tar"
CONTEXTS="$DOCKER_CACHE/contexts"

label_of() { docker image inspect -f '{{index .Config.Labels "polyshop.standin"}}' "$1" 2>/dev/null || true; }
exists() { docker image inspect "$1" >/dev/null 2>&1; }

base_image() {
  exists "$BASE" && return
  if [ ! -f "$ROOTFS_TAR" ]; then
    command -v debootstrap >/dev/null || die "debootstrap is missing: run tools/docker/install.sh"
    local rootfs="$DOCKER_CACHE/rootfs/bookworm"
    rm -rf "$rootfs"
    mkdir -p "$rootfs"
    log "debootstrap: a minimal Debian bookworm (first run only)"
    debootstrap --variant=minbase bookworm "$rootfs" "$(debian_mirror)" > "$DOCKER_CACHE/rootfs/debootstrap.log"
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -cf "$ROOTFS_TAR.partial" .
    mv "$ROOTFS_TAR.partial" "$ROOTFS_TAR"
    rm -rf "$rootfs"
  fi
  log "importing $BASE"
  docker import "$ROOTFS_TAR" "$BASE" > /dev/null
}

# build NAME DOCKERFILE CONTEXT: unless a real image has that name, or a
# stand-in built from the same inputs does.
build() {
  local name="$1" dockerfile="$2" context="$3" hash current
  hash="$( (cat "$dockerfile"; find "$context" -type f -printf '%P %s\n' | sort) | sha256sum | cut -c1-16)"
  current="$(label_of "$name")"
  if exists "$name" && [ -z "$current" ]; then
    log "$name: a real image is present, kept"
    return
  fi
  if [ "$current" = "$hash" ]; then
    log "$name: stand-in up to date"
    return
  fi
  log "$name: building the stand-in"
  local build_log="$DOCKER_RUN/build-${name//[\/:]/-}.log"
  mkdir -p "$DOCKER_RUN"
  docker build --label "polyshop.standin=$hash" -t "$name" -f "$dockerfile" "$context" \
    > "$build_log" 2>&1 || { tail -n 30 "$build_log" >&2; die "building the $name stand-in failed"; }
}

python_image() {
  local context="$CONTEXTS/python"
  mkdir -p "$context"
  build python:3.12-slim "$HERE/python.Dockerfile" "$context"
}

node_image() {
  local node prefix context="$CONTEXTS/node"
  node="$(readlink -f "$(command -v node)")" || die "Node.js is needed to build the node:22-slim stand-in"
  prefix="$(dirname "$(dirname "$node")")"
  rm -rf "$context"
  mkdir -p "$context/include"
  cp "$node" "$context/node"
  cp -r "$prefix/include/node" "$context/include/node"
  cp -r "$prefix/lib/node_modules/npm" "$context/npm"
  build node:22-slim "$HERE/node.Dockerfile" "$context"
}

kafka_image() {
  local libs="$DOCKER_CACHE/kafka-libs" context="$CONTEXTS/kafka"
  if [ ! -f "$libs/.complete" ]; then
    command -v mvn >/dev/null || die "Maven is needed to fetch the broker's jars for the apache/kafka stand-in"
    log "fetching the broker's and tools' jars (first run only)"
    rm -rf "$libs"
    mkdir -p "$DOCKER_RUN"
    mvn -B --no-transfer-progress -f "$HERE/kafka/pom.xml" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$libs" > "$DOCKER_RUN/mvn.log" 2>&1 \
      || { tail -n 30 "$DOCKER_RUN/mvn.log" >&2; die "fetching the broker's jars failed"; }
    touch "$libs/.complete"
  fi
  rm -rf "$context"
  mkdir -p "$context"
  cp -r "$HERE/kafka/bin" "$HERE/kafka/run" "$HERE/kafka/log4j2.properties" "$HERE/kafka/tools-log4j2.properties" "$context/"
  mkdir "$context/libs"
  cp "$libs"/*.jar "$context/libs/"
  build apache/kafka:4.1.1 "$HERE/kafka.Dockerfile" "$context"
}

base_image
python_image
node_image
kafka_image
