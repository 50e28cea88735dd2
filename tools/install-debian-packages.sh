#!/usr/bin/env bash
# Installs Debian packages that a make target needs, or says how to.
set -euo pipefail
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "Please install these Debian packages (or your system's equivalent): $*" >&2
  exit 1
fi
echo "Installing Debian packages: $*"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
