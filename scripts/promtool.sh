#!/usr/bin/env bash
# Installs promtool (Debian package `prometheus`) when it is missing, so that the server's
# metrics test can run `promtool check metrics`. Idempotent; the package's own service is not
# started here (no systemd in CI), and nothing listens afterwards.
set -euo pipefail
if command -v promtool >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "promtool.sh: promtool is missing and installing it needs root (apt-get install prometheus)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends prometheus >/dev/null
command -v promtool >/dev/null
