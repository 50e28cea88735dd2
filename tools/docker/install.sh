#!/usr/bin/env bash
# Installs a Docker engine and the Compose v2 plugin from Debian packages,
# when they are missing. Debian bookworm ships engine 20.10 but only the old
# Python docker-compose 1.x; trixie's docker-compose package is the v2 Go
# plugin, a single static binary: it is fetched with an apt configuration of
# its own (the system's sources stay untouched), unpacked, and placed in
# $DOCKER_CONFIG/cli-plugins.
set -euo pipefail
source "$(dirname "$0")/common.sh"

need_packages=()
command -v dockerd >/dev/null || need_packages+=(docker.io containerd runc iptables)
command -v docker >/dev/null || need_packages+=(docker.io)
command -v debootstrap >/dev/null || need_packages+=(debootstrap)
if [ "${#need_packages[@]}" -gt 0 ]; then
  log "installing Debian packages: ${need_packages[*]}"
  bash "$ROOT/tools/install-debian-packages.sh" "${need_packages[@]}"
fi

if docker compose version >/dev/null 2>&1; then
  exit 0
fi

log "installing the Compose v2 plugin (Debian trixie's docker-compose) into $DOCKER_CONFIG/cli-plugins"
apt_dir="$DOCKER_CACHE/apt-trixie"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial" "$apt_dir/etc/preferences.d" "$apt_dir/etc/sources.list.d"
printf 'deb %s trixie main\n' "$(debian_mirror)" > "$apt_dir/etc/sources.list"
apt_opts=(
  -o "Dir::Etc::SourceList=$apt_dir/etc/sources.list"
  -o "Dir::Etc::SourceParts=$apt_dir/etc/sources.list.d"
  -o "Dir::Etc::Preferences=$apt_dir/etc/preferences"
  -o "Dir::Etc::PreferencesParts=$apt_dir/etc/preferences.d"
  -o "Dir::State::Lists=$apt_dir/lists"
  -o "Dir::Cache::Archives=$apt_dir/archives"
  -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache="
  -o "APT::Sandbox::User=root"
)
apt-get "${apt_opts[@]}" -qq update
(cd "$apt_dir/archives" && apt-get "${apt_opts[@]}" -qq download docker-compose)
unpacked="$apt_dir/unpacked"
rm -rf "$unpacked"
dpkg -x "$(ls "$apt_dir"/archives/docker-compose_*.deb | tail -n1)" "$unpacked"
mkdir -p "$DOCKER_CONFIG/cli-plugins"
install -m 0755 "$unpacked/usr/libexec/docker/cli-plugins/docker-compose" "$DOCKER_CONFIG/cli-plugins/"
docker compose version
