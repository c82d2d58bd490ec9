#!/usr/bin/env bash
# A Redis server for tests and benchmarks, on 127.0.0.1, without persistence.
#
#   scripts/redis.sh start|stop|restart|status|url
#
# Idempotent: installs redis-server with apt-get when missing, starts it only when it is not
# already answering. The port (default 6391, not Redis's 6379, to stay clear of a server the
# machine may run) comes from LIGHTRAG_REDIS_PORT; the pidfile and log live in
# LIGHTRAG_REDIS_DIR (default ${TMPDIR:-/tmp}/lightrag-redis-$PORT). Tests that need their own
# server (to stop and restart it) call this script with another port and directory.
set -euo pipefail
port="${LIGHTRAG_REDIS_PORT:-6391}"
dir="${LIGHTRAG_REDIS_DIR:-${TMPDIR:-/tmp}/lightrag-redis-$port}"
pidfile="$dir/redis.pid"

ensure_installed() {
  command -v redis-server >/dev/null && command -v redis-cli >/dev/null && return
  echo "redis: installing redis-server with apt-get ..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y redis-server redis-tools >/dev/null 2>&1 ||
    { apt-get update >/dev/null && apt-get install -y redis-server redis-tools >/dev/null; }
}

answering() { redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG; }

start() {
  ensure_installed
  if answering; then
    echo "redis: 127.0.0.1:$port already running" >&2
    return
  fi
  mkdir -p "$dir"
  redis-server --bind 127.0.0.1 --port "$port" --daemonize yes --pidfile "$pidfile" \
    --logfile "$dir/redis.log" --dir "$dir" --save '' --appendonly no >/dev/null
  for _ in $(seq 100); do
    answering && { echo "redis: 127.0.0.1:$port started" >&2; return; }
    sleep 0.05
  done
  echo "redis: 127.0.0.1:$port did not start; see $dir/redis.log" >&2
  exit 1
}

stop() {
  if [ -s "$pidfile" ]; then
    pid=$(cat "$pidfile")
    if kill "$pid" 2>/dev/null; then
      for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
      done
    fi
    rm -f "$pidfile"
  fi
  echo "redis: 127.0.0.1:$port stopped" >&2
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  status) answering && echo "running" || { echo "stopped"; exit 1; } ;;
  url) echo "redis://127.0.0.1:$port" ;;
  *) echo "usage: $0 start|stop|restart|status|url" >&2; exit 2 ;;
esac
