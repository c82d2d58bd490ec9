#!/usr/bin/env bash
# nginx as a load balancer in front of several `lightrag serve` replicas, for tests and benchmarks.
#
#   scripts/nginx.sh install
#   scripts/nginx.sh start  <listen_port> <host:port>...   (again on a running one: new replicas, reload)
#   scripts/nginx.sh reload <listen_port> [<host:port>...] (re-renders the template, then reloads)
#   scripts/nginx.sh stop   <listen_port>
#   scripts/nginx.sh status <listen_port>
#   scripts/nginx.sh render <listen> <host:port>...        (prints the config, e.g. for conf.d/)
#   scripts/nginx.sh path                                  (prints the nginx binary)
#
# The configuration is deploy/nginx/lightrag.conf.template (LIGHTRAG_NGINX_TEMPLATE overrides),
# rendered into a private prefix, ${LIGHTRAG_NGINX_DIR:-$HOME/.cache/lightrag-nginx}/<port>/, with
# its own nginx.conf, pid file, logs and temp directories: nothing under /etc/nginx, /var/log or
# /var/lib is used. nginx listens on 127.0.0.1:<port> only. Each response carries an
# X-Upstream-Addr header naming the replica that served it (set here, not in the template), and
# logs/access.log records it too. `install` is idempotent: it installs Debian's nginx package
# with apt-get when there is no nginx binary.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
template="${LIGHTRAG_NGINX_TEMPLATE:-$here/../deploy/nginx/lightrag.conf.template}"
base="${LIGHTRAG_NGINX_DIR:-$HOME/.cache/lightrag-nginx}"

die() { echo "nginx: $*" >&2; exit 1; }

# Debian puts nginx in /usr/sbin, which a non-root PATH may lack.
nginx_bin() {
  command -v nginx 2>/dev/null && return
  [ -x /usr/sbin/nginx ] && { echo /usr/sbin/nginx; return; }
  return 1
}

ensure_installed() {
  nginx_bin >/dev/null && command -v curl >/dev/null && return
  # One installer at a time: tests may start several balancers at once.
  exec 9>/tmp/lightrag-nginx-install.lock
  flock 9
  if ! nginx_bin >/dev/null || ! command -v curl >/dev/null; then
    echo "nginx: installing nginx with apt-get ..." >&2
    # The package's postinst would start the system's nginx on port 80; a policy-rc.d that
    # says no (what container images ship) prevents that. Only added when there is none.
    local policy=/usr/sbin/policy-rc.d added=
    if [ ! -e "$policy" ]; then
      printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && added=1
    fi
    export DEBIAN_FRONTEND=noninteractive
    local rc=0
    apt-get install -y --no-install-recommends nginx curl >/dev/null 2>&1 ||
      { apt-get update >/dev/null && apt-get install -y --no-install-recommends nginx curl >/dev/null; } ||
      rc=$?
    if [ -n "$added" ]; then rm -f "$policy"; fi
    [ "$rc" = 0 ] || die "apt-get install nginx failed"
  fi
  exec 9>&-
  nginx_bin >/dev/null || die "no nginx binary after installing the package"
}

check_port() {
  if ! [[ "$1" =~ ^[0-9]+$ ]] || [ "$1" -lt 1 ] || [ "$1" -gt 65535 ]; then die "bad port: $1"; fi
}

# host:port, [v6]:port or unix:/path; nothing that could break out of the nginx directive.
check_upstream() {
  local re='^(unix:/[A-Za-z0-9._/+-]+|[A-Za-z0-9._-]+:[0-9]+|\[[0-9A-Fa-f:.]+\]:[0-9]+)$'
  [[ "$1" =~ $re ]] || die "bad upstream (want host:port): $1"
}

# render LISTEN UPSTREAM... : the template on stdout. A line holding @UPSTREAM@ is repeated once
# per upstream; @LISTEN@ is replaced everywhere. Comment lines are left as they are.
render() {
  [ $# -ge 2 ] || die "render needs a listen address and at least one upstream"
  [ -r "$template" ] || die "no template at $template"
  local listen="$1" u re='^[][A-Za-z0-9.:_-]+$'
  shift
  [[ "$listen" =~ $re ]] || die "bad listen address: $listen"
  for u in "$@"; do check_upstream "$u"; done
  awk -v listen="$listen" -v ups="$*" '
    BEGIN { n = split(ups, u, " ") }
    /^[[:space:]]*#/ { print; next }
    {
      gsub(/@LISTEN@/, listen)
      if (index($0, "@UPSTREAM@")) {
        for (i = 1; i <= n; i++) { line = $0; gsub(/@UPSTREAM@/, u[i], line); print line }
      } else print
    }' "$template"
}

prefix_of() { echo "$base/$1"; }
pid_of() {
  local pidfile pid
  pidfile="$(prefix_of "$1")/nginx.pid"
  [ -s "$pidfile" ] || return 1
  pid=$(cat "$pidfile")
  # A pid file left by a crash may name a pid now used by something else.
  [ "$(ps -o comm= -p "$pid" 2>/dev/null)" = nginx ] || return 1
  echo "$pid"
}
answering() { curl -fsS --max-time 2 -o /dev/null "http://127.0.0.1:$1/nginx-health" 2>/dev/null; }

# write_conf PORT UPSTREAM... : the template into <prefix>/lightrag.conf, and the private main
# config around it into <prefix>/nginx.conf; `nginx -t` checks both.
write_conf() {
  local port="$1" p nginx
  shift
  p="$(prefix_of "$port")"
  nginx="$(nginx_bin)"
  mkdir -p "$p/logs" "$p/temp"
  render "127.0.0.1:$port" "$@" >"$p/lightrag.conf.new"
  printf '%s\n' "$@" >"$p/upstreams.new"
  {
    echo "# Written by scripts/nginx.sh for a test balancer on 127.0.0.1:$port; rewritten at each start."
    # As root the workers would otherwise run as nobody, who cannot enter /root/.cache.
    if [ "$(id -u)" = 0 ]; then echo "user root root;"; fi
    cat <<EOF
worker_processes 1;
pid "$p/nginx.pid";
error_log "$p/logs/error.log" warn;
events { worker_connections 1024; }
http {
    default_type application/octet-stream;
    log_format lightrag '\$remote_addr [\$time_local] "\$request" \$status \$body_bytes_sent '
                        'upstream=\$upstream_addr upstream_status=\$upstream_status '
                        'time=\$request_time upstream_time=\$upstream_response_time';
    access_log "$p/logs/access.log" lightrag;
    # Tests see which replica answered. add_header is inherited only while the template's
    # server and location blocks have none of their own.
    add_header X-Upstream-Addr \$upstream_addr always;
    client_body_temp_path "$p/temp/body";
    proxy_temp_path "$p/temp/proxy";
    fastcgi_temp_path "$p/temp/fastcgi";
    uwsgi_temp_path "$p/temp/uwsgi";
    scgi_temp_path "$p/temp/scgi";
    include "$p/lightrag.conf";
}
EOF
  } >"$p/nginx.conf.new"
  # Check the new files under their final names, and keep the old ones if they fail.
  local f
  for f in nginx.conf lightrag.conf upstreams; do
    [ -e "$p/$f" ] && cp -p "$p/$f" "$p/$f.old"
    mv "$p/$f.new" "$p/$f"
  done
  local out
  if ! out=$("$nginx" -p "$p" -e "$p/logs/error.log" -c "$p/nginx.conf" -t 2>&1); then
    for f in nginx.conf lightrag.conf upstreams; do
      if [ -e "$p/$f.old" ]; then mv "$p/$f.old" "$p/$f"; else rm -f "$p/$f"; fi
    done
    echo "$out" >&2
    die "the configuration for 127.0.0.1:$port does not pass nginx -t"
  fi
  rm -f "$p/nginx.conf.old" "$p/lightrag.conf.old" "$p/upstreams.old"
}

# Workers still accepting connections: a worker that got the order to quit renames itself
# "worker process is shutting down" as it closes its listening sockets.
live_workers() {
  ps -o pid=,args= --ppid "$1" 2>/dev/null | awk '!/shutting down/ { print $1 }' | sort
}

# Reload is graceful: the master starts new workers, then tells the old ones to stop accepting,
# finish their open requests (streams included) and quit. Returns once no old worker accepts any
# more, so that the next request sees the new configuration.
signal_reload() {
  local port="$1" p master old now
  p="$(prefix_of "$port")"
  master=$(pid_of "$port") || die "127.0.0.1:$port is not running"
  old=$(live_workers "$master")
  "$(nginx_bin)" -p "$p" -e "$p/logs/error.log" -c "$p/nginx.conf" -s reload 8>&- ||
    die "reload of 127.0.0.1:$port failed; see $p/logs/error.log"
  for _ in $(seq 200); do
    now=$(live_workers "$master")
    if [ -n "$now" ] && [ -z "$(comm -12 <(echo "$old") <(echo "$now"))" ]; then return; fi
    sleep 0.05
  done
  die "127.0.0.1:$port did not switch to the new configuration; see $p/logs/error.log"
}

wait_answering() {
  local port="$1"
  for _ in $(seq 100); do
    answering "$port" && return
    sleep 0.05
  done
  die "127.0.0.1:$port does not answer /nginx-health; see $(prefix_of "$port")/logs/error.log"
}

start() {
  [ $# -ge 2 ] || die "usage: $0 start <listen_port> <host:port>..."
  local port="$1" p
  check_port "$port"
  ensure_installed
  p="$(prefix_of "$port")"
  mkdir -p "$p"
  # One start at a time per port. nginx must not inherit the lock's descriptor (8>&- below).
  exec 8>"$p/start.lock"
  flock 8
  write_conf "$@"
  if pid_of "$port" >/dev/null; then
    signal_reload "$port"
    wait_answering "$port"
    echo "nginx: 127.0.0.1:$port already running; reloaded with ${*:2}" >&2
    return
  fi
  rm -f "$p/nginx.pid"
  "$(nginx_bin)" -p "$p" -e "$p/logs/error.log" -c "$p/nginx.conf" 8>&- ||
    die "127.0.0.1:$port did not start; see $p/logs/error.log"
  wait_answering "$port"
  echo "nginx: 127.0.0.1:$port started in front of ${*:2}" >&2
}

reload() {
  [ $# -ge 1 ] || die "usage: $0 reload <listen_port> [<host:port>...]"
  local port="$1" p
  check_port "$port"
  p="$(prefix_of "$port")"
  pid_of "$port" >/dev/null || die "127.0.0.1:$port is not running"
  exec 8>"$p/start.lock"
  flock 8
  shift
  if [ $# -eq 0 ]; then
    [ -s "$p/upstreams" ] || die "no upstream list in $p/upstreams"
    local -a ups
    mapfile -t ups <"$p/upstreams"
    set -- "${ups[@]}"
  fi
  write_conf "$port" "$@"
  signal_reload "$port"
  wait_answering "$port"
  echo "nginx: 127.0.0.1:$port reloaded with $*" >&2
}

stop() {
  [ $# -eq 1 ] || die "usage: $0 stop <listen_port>"
  local port="$1" pid
  check_port "$port"
  if pid=$(pid_of "$port"); then
    # TERM is nginx's fast shutdown: open streams are cut, not waited for.
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 200); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
    kill -0 "$pid" 2>/dev/null && die "127.0.0.1:$port (pid $pid) did not stop"
  fi
  rm -f "$(prefix_of "$port")/nginx.pid"
  echo "nginx: 127.0.0.1:$port stopped" >&2
}

cmd="${1:-}"
[ $# -gt 0 ] && shift
case "$cmd" in
  install) ensure_installed ;;
  start) start "$@" ;;
  stop) stop "$@" ;;
  reload) reload "$@" ;;
  status)
    [ $# -eq 1 ] || die "usage: $0 status <listen_port>"
    if pid_of "$1" >/dev/null && answering "$1"; then echo running; else echo stopped; exit 1; fi
    ;;
  render) render "$@" ;;
  path) nginx_bin || die "nginx is not installed (run: $0 install)" ;;
  *)
    echo "usage: $0 install | start <port> <host:port>... | reload <port> [<host:port>...]" \
      "| stop <port> | status <port> | render <listen> <host:port>... | path" >&2
    exit 2
    ;;
esac
