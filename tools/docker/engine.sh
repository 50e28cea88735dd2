#!/usr/bin/env bash
# A private Docker engine for the test harness.
#
#   tools/docker/engine.sh start   # use the running engine, or start one of our own
#   tools/docker/engine.sh stop    # stop the one we started (by its pid), and its bridges
#   tools/docker/engine.sh env     # print the DOCKER_HOST to export
#
# Our engine keeps images in .cache/docker/engine (so later runs find the
# stand-in base images already built) and its socket, pid file and log in
# .run/docker. An engine that is already reachable is used and never stopped.
set -euo pipefail
source "$(dirname "$0")/common.sh"

PIDFILE="$DOCKER_RUN/dockerd.pid"
LOGFILE="$DOCKER_RUN/dockerd.log"
LINKS_BEFORE="$DOCKER_RUN/links-before"

bridge_links() { ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -E '^(docker0|br-)' || true; }

start() {
  if [ -n "${DOCKER_HOST:-}" ] || docker info >/dev/null 2>&1; then
    docker info >/dev/null 2>&1 || die "DOCKER_HOST=$DOCKER_HOST does not answer"
    log "using the running Docker engine (${DOCKER_HOST:-default socket})"
    return
  fi
  if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    log "the private engine is running already (pid $(cat "$PIDFILE"))"
    return
  fi
  command -v dockerd >/dev/null || die "no Docker engine (dockerd) installed: run tools/docker/install.sh as root"
  mkdir -p "$DOCKER_RUN" "$DOCKER_CACHE/engine"
  bridge_links > "$LINKS_BEFORE"
  log "starting a private Docker engine; its log is $LOGFILE"
  setsid dockerd \
    --host "unix://$PRIVATE_SOCKET" \
    --data-root "$DOCKER_CACHE/engine" \
    --exec-root "$DOCKER_RUN/exec" \
    --pidfile "$PIDFILE" \
    > "$LOGFILE" 2>&1 < /dev/null &
  local deadline=$((SECONDS + 60))
  until docker --host "unix://$PRIVATE_SOCKET" info >/dev/null 2>&1; do
    if ! kill -0 $! 2>/dev/null || [ "$SECONDS" -gt "$deadline" ]; then
      tail -n 20 "$LOGFILE" >&2 || true
      stop
      die "the Docker engine did not start (see $LOGFILE)"
    fi
    sleep 0.5
  done
  log "engine ready: export DOCKER_HOST=unix://$PRIVATE_SOCKET"
}

stop() {
  if [ -f "$PIDFILE" ]; then
    local pid
    pid="$(cat "$PIDFILE")"
    if kill -0 "$pid" 2>/dev/null; then
      log "stopping the private Docker engine (pid $pid)"
      kill -TERM "$pid"
      for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    fi
    rm -f "$PIDFILE"
  fi
  # Bridges the engine made (docker0, one br-* per Compose network) outlive it.
  if [ -f "$LINKS_BEFORE" ]; then
    for link in $(bridge_links); do
      grep -qx "$link" "$LINKS_BEFORE" || ip link delete "$link" 2>/dev/null || true
    done
    rm -f "$LINKS_BEFORE"
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env) use_engine; echo "export DOCKER_HOST=${DOCKER_HOST:-}" ;;
  *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
