#!/usr/bin/env bash
# A PostgreSQL 15 server with pgvector for tests and benchmarks, on 127.0.0.1, without durability.
#
#   scripts/postgres.sh start|stop|restart|status|url
#
# Idempotent: installs PostgreSQL 15 with apt-get when missing, builds pgvector from Debian
# trixie's source package when PostgreSQL 15 lacks it (bookworm has no package for it), creates the
# cluster when its directory is new or gone, and starts the server only when it is not already
# answering. The port (default 5439, not PostgreSQL's 5432, to stay clear of a server the machine
# may run) comes from LIGHTRAG_PG_PORT; the cluster (data/), the socket and the log live in
# LIGHTRAG_PG_DIR (default ${TMPDIR:-/tmp}/lightrag-pg-$PORT). Tests that need their own server
# (to stop and restart it) call this script with another port and directory.
#
# The cluster is owned by the `postgres` system user (initdb and pg_ctl refuse to run as root),
# its superuser is `postgres` and it trusts every connection: it only listens on 127.0.0.1 and on a
# socket in its private directory. `start` creates the database `lightrag` and checks that
# `CREATE EXTENSION IF NOT EXISTS vector` works in it.
set -euo pipefail
port="${LIGHTRAG_PG_PORT:-5439}"
dir="${LIGHTRAG_PG_DIR:-${TMPDIR:-/tmp}/lightrag-pg-$port}"
data="$dir/data"
log="$dir/postgres.log"
bin=/usr/lib/postgresql/15/bin
db=lightrag

# Runs a command as the cluster's owner: `postgres` when we are root, ourselves otherwise.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends "$@" >/dev/null 2>&1 ||
    { apt-get update >/dev/null && apt-get install -y --no-install-recommends "$@" >/dev/null; }
}

vector_control() { echo "$("$bin/pg_config" --sharedir)/extension/vector.control"; }

# pgvector 0.8 has no bookworm package: fetch trixie's source package through a private apt
# configuration (the system's sources stay untouched) and build it against PostgreSQL 15.
build_pgvector() {
  echo "postgres: installing postgresql-server-dev-15 with apt-get ..." >&2
  apt_install postgresql-server-dev-15 make gcc
  local mirror tmp apto orig src
  # The mirror the image uses (deb822 sources), else Debian's own.
  mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null) ||
    true
  mirror="${mirror:-http://deb.debian.org/debian}"
  tmp=$(mktemp -d)
  trap "rm -rf '$tmp'" EXIT
  mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/src"
  echo "deb-src $mirror trixie main" >"$tmp/sources.list"
  apto=(-o "Dir::Etc::sourcelist=$tmp/sources.list" -o Dir::Etc::sourceparts=/nonexistent
    -o "Dir::State::Lists=$tmp/lists" -o "Dir::Cache=$tmp/cache" -o APT::Sandbox::User=root)
  echo "postgres: fetching pgvector's source package from $mirror trixie ..." >&2
  apt-get "${apto[@]}" update >/dev/null
  (cd "$tmp/src" && apt-get "${apto[@]}" source --download-only pgvector >/dev/null)
  orig=$(ls "$tmp"/src/pgvector_*.orig.tar.* | head -n1)
  tar -C "$tmp/src" -xf "$orig"
  src=$(find "$tmp/src" -mindepth 1 -maxdepth 1 -type d -name 'pgvector-*' | head -n1)
  echo "postgres: building pgvector from $(basename "$orig") ..." >&2
  # OPTFLAGS="" leaves out -march=native, so the library also runs on other CPUs.
  make -C "$src" -j"$(nproc)" OPTFLAGS="" PG_CONFIG="$bin/pg_config" >/dev/null
  make -C "$src" install PG_CONFIG="$bin/pg_config" >/dev/null
  rm -rf "$tmp"
  trap - EXIT
}

ensure_installed() {
  [ -x "$bin/pg_ctl" ] && [ -f "$(vector_control)" ] && return
  # One installer at a time: tests may start several clusters at once.
  exec 9>/tmp/lightrag-pg-install.lock
  flock 9
  if [ ! -x "$bin/pg_ctl" ]; then
    echo "postgres: installing postgresql-15 with apt-get ..." >&2
    apt_install postgresql-15
  fi
  [ -f "$(vector_control)" ] || build_pgvector
  [ -f "$(vector_control)" ] ||
    { echo "postgres: pgvector is not installed in $(dirname "$(vector_control)")" >&2; exit 1; }
  exec 9>&-
}

# -U and -d name a role and database that exist: pg_isready's defaults (the caller's name) would
# log a FATAL "role does not exist" in the server's log at every poll.
answering() {
  "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -t 2 2>/dev/null
}

sql() { "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres "$@"; }

ensure_database() {
  if [ "$(sql -d postgres -Atc "select 1 from pg_database where datname = '$db'")" != 1 ]; then
    sql -d postgres -c "create database $db" >/dev/null
  fi
  local out
  if ! out=$(sql -d "$db" -c "create extension if not exists vector" 2>&1); then
    echo "postgres: CREATE EXTENSION vector failed in database $db on 127.0.0.1:$port:" >&2
    echo "$out" >&2
    exit 1
  fi
}

start() {
  ensure_installed
  mkdir -p "$dir"
  if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi
  chmod 700 "$dir"
  as_owner test -w "$dir" ||
    { echo "postgres: $dir is not writable by the postgres user; set LIGHTRAG_PG_DIR" >&2; exit 1; }
  # One start at a time per cluster (initdb and CREATE DATABASE do not like company). The server
  # must not inherit this lock's descriptor (8>&- below), or it would hold the lock forever.
  exec 8>"$dir/start.lock"
  flock 8
  if answering; then
    ensure_database
    echo "postgres: 127.0.0.1:$port already running" >&2
    return
  fi
  if [ ! -s "$data/PG_VERSION" ]; then
    rm -rf "$data"  # a half-made cluster from an interrupted initdb
    echo "postgres: creating a cluster in $data ..." >&2
    as_owner "$bin/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  # fsync, synchronous_commit and full_page_writes are off: this is a disposable test cluster,
  # and a crash may lose or corrupt its data (delete $dir then).
  as_owner "$bin/pg_ctl" -D "$data" -l "$log" -w -t 60 -o "-p $port -k '$dir' \
    -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=256MB \
    -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null 8>&- 9>&- || {
    echo "postgres: 127.0.0.1:$port did not start; see $log" >&2
    exit 1
  }
  for _ in $(seq 100); do
    answering && break
    sleep 0.05
  done
  answering || { echo "postgres: 127.0.0.1:$port does not answer; see $log" >&2; exit 1; }
  ensure_database
  echo "postgres: 127.0.0.1:$port started" >&2
}

stop() {
  # `pg_ctl status` checks the PID in postmaster.pid, so a file left by a crash does not count.
  if [ -s "$data/postmaster.pid" ] && as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    as_owner "$bin/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null ||
      { echo "postgres: 127.0.0.1:$port did not stop; see $log" >&2; exit 1; }
  fi
  echo "postgres: 127.0.0.1:$port stopped" >&2
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  status) answering && echo "running" || { echo "stopped"; exit 1; } ;;
  url) echo "postgres://postgres@127.0.0.1:$port/$db" ;;
  *) echo "usage: $0 start|stop|restart|status|url" >&2; exit 2 ;;
esac
