#!/usr/bin/env bash
# Installs promtool (Debian package `prometheus`) and the blackbox exporter when missing, so
# that the metrics test can run `promtool check metrics` and the monitoring test can check the
# alert rules and probe real servers through the exporter. Idempotent; the package's own service is not
# started here (no systemd in CI), and nothing listens afterwards.
set -euo pipefail
if command -v promtool >/dev/null 2>&1 && command -v prometheus-blackbox-exporter >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "promtool.sh: promtool is missing and installing it needs root (apt-get install prometheus)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends prometheus prometheus-blackbox-exporter >/dev/null
command -v promtool >/dev/null
command -v prometheus-blackbox-exporter >/dev/null
