#!/usr/bin/env bash
# Builds and smoke-tests the container image (./Dockerfile) with podman on a machine without a
# container registry: the base images are made locally. Steps, run in the order given:
#
#   bases  (idempotent) podman, runc, debootstrap installed if missing; localhost/bookworm-local
#          (debootstrap --variant=minbase bookworm from the host's Debian mirror, trimmed like
#          debian:bookworm-slim) and localhost/rust-local (bookworm-local + build-essential,
#          pkg-config, ca-certificates + this host's Rust toolchain, rebuilt when it changes)
#   build  podman build of the Dockerfile on those bases; the crate registry (~/.cargo/registry)
#          and a target directory ($CACHE/target) are mounted, so a rebuild compiles only what
#          changed. MODEL=baked (default) stages the embedding model into the build context
#          (scripts/fetch-model.sh first); MODEL=mounted builds an image without it.
#   smoke  runs the image on a free port (--network host, bound to 127.0.0.1; MODEL=mounted:
#          with the host's model mounted): /health, a text document indexed, a query whose
#          answer and reference name it, the process's uid (10001, not root), the
#          HEALTHCHECK, a clean stop on SIGTERM
#   size   the image's size
#   clean  removes the image, smoke containers and the target directory
#
# Environment: LIGHTRAG_IMAGE (default localhost/lightrag-rs:latest, the compose files'
# default), LIGHTRAG_CONTAINER_CACHE (default ~/.cache/lightrag-container), BUILDER_IMAGE /
# RUNTIME_IMAGE (default the local bases), MODEL (baked|mounted), SMOKE_PORT (default: a free
# port).
# podman runs with runc, cgroupfs and a containers.conf without default ulimits: crun and
# setrlimit are refused in this sandbox (see docs/operations.md, "The container image").
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${LIGHTRAG_CONTAINER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lightrag-container}"
IMAGE="${LIGHTRAG_IMAGE:-localhost/lightrag-rs:latest}"
BASE_IMAGE=localhost/bookworm-local
RUST_IMAGE=localhost/rust-local
BUILDER_IMAGE="${BUILDER_IMAGE:-$RUST_IMAGE}"
RUNTIME_IMAGE="${RUNTIME_IMAGE:-$BASE_IMAGE}"
MODEL="${MODEL:-baked}"
CONF="$CACHE/containers.conf"
mkdir -p "$CACHE"

SMOKE_NAME=
TEMP_DIRS=()
cleanup() {
  local rc=$?
  if [ -n "$SMOKE_NAME" ]; then
    if [ "$rc" != 0 ]; then
      echo "--- container log ---" >&2
      pod logs "$SMOKE_NAME" 2>&1 | tail -50 >&2 || true
    fi
    pod rm -f "$SMOKE_NAME" >/dev/null 2>&1 || true
  fi
  [ "${#TEMP_DIRS[@]}" = 0 ] || rm -rf "${TEMP_DIRS[@]}"
}
trap cleanup EXIT

say() { echo "container: $*"; }
die() { echo "container: error: $*" >&2; exit 1; }
pod() { CONTAINERS_CONF="$CONF" podman --runtime runc --cgroup-manager cgroupfs "$@"; }

ensure_tools() {
  local missing=()
  for t in podman runc debootstrap; do command -v "$t" >/dev/null || missing+=("$t"); done
  if [ "${#missing[@]}" -gt 0 ]; then
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y podman runc debootstrap >/dev/null \
      || { apt-get update >/dev/null && apt-get install -y podman runc debootstrap >/dev/null; }
  fi
  [ -s "$CONF" ] || printf '[containers]\ndefault_ulimits = []\n' >"$CONF"
}

# The host's Debian mirror (first deb822 source carrying bookworm), else deb.debian.org.
mirror() {
  local m
  m=$(awk '/^URIs:/ {u=$2} /^Suites:/ && / bookworm( |$)/ {print u; exit}' \
        /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  echo "${m:-http://deb.debian.org/debian}"
}

bases() {
  ensure_tools
  if pod image exists "$BASE_IMAGE"; then
    say "$BASE_IMAGE: present"
  else
    local rootfs mirror_url
    mirror_url=$(mirror)
    rootfs=$(mktemp -d "$CACHE/rootfs.XXXXXX")
    TEMP_DIRS+=("$rootfs")
    say "$BASE_IMAGE: debootstrap --variant=minbase bookworm from $mirror_url"
    debootstrap --variant=minbase bookworm "$rootfs" "$mirror_url" >"$CACHE/debootstrap.log" 2>&1 \
      || { tail -20 "$CACHE/debootstrap.log" >&2; die "debootstrap failed"; }
    # Trimmed like debian:bookworm-slim: no package caches, documentation or translations,
    # and dpkg told to leave them out of later installs too.
    (cd "$rootfs" \
      && rm -rf var/cache/apt/archives/*.deb var/cache/apt/*.bin var/lib/apt/lists/* \
           usr/share/doc/* usr/share/man/* usr/share/info/* \
      && find usr/share/locale -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +)
    printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' \
      'path-exclude /usr/share/man/*' 'path-exclude /usr/share/info/*' \
      'path-exclude /usr/share/locale/*' 'path-include /usr/share/locale/locale.alias' \
      >"$rootfs/etc/dpkg/dpkg.cfg.d/slim"
    # The host's sources (with updates and security) when the host is bookworm too.
    if grep -qs 'bookworm' /etc/apt/sources.list.d/*.sources; then
      cp /etc/apt/sources.list.d/*.sources "$rootfs/etc/apt/sources.list.d/"
      rm -f "$rootfs/etc/apt/sources.list"
    fi
    tar --numeric-owner -C "$rootfs" -c . \
      | pod import --change 'CMD ["/bin/bash"]' - "$BASE_IMAGE" >/dev/null
    rm -rf "$rootfs"
    say "$BASE_IMAGE: imported"
  fi

  # The builder: this host's toolchain (the one the workspace is tested with), rebuilt when
  # `rustc --version` changes.
  local rustc_version sysroot have old_id
  rustc_version=$(rustc --version)
  sysroot=$(rustc --print sysroot)
  [ -x "$sysroot/bin/cargo" ] || die "no cargo in $sysroot/bin (a rustup toolchain is expected)"
  have=$(pod image inspect -f '{{index .Labels "rustc"}}' "$RUST_IMAGE" 2>/dev/null || true)
  old_id=$(pod image inspect -f '{{.Id}}' "$RUST_IMAGE" 2>/dev/null || true)
  if [ "$have" = "$rustc_version" ]; then
    say "$RUST_IMAGE: present ($have)"
    return
  fi
  say "$RUST_IMAGE: $BASE_IMAGE + build-essential + $rustc_version from $sysroot"
  local ctx
  ctx=$(mktemp -d "$CACHE/rust-local.XXXXXX")
  TEMP_DIRS+=("$ctx")
  cat >"$ctx/Containerfile" <<EOF
FROM $BASE_IMAGE
RUN apt-get update \\
 && apt-get install -y --no-install-recommends build-essential pkg-config ca-certificates \\
 && rm -rf /var/lib/apt/lists/*
RUN mkdir -p /usr/local/rust /usr/local/cargo/bin \\
 && cp -a /toolchain/bin /toolchain/lib /toolchain/libexec /usr/local/rust/
ENV CARGO_HOME=/usr/local/cargo \\
    PATH=/usr/local/cargo/bin:/usr/local/rust/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
LABEL rustc="$rustc_version"
RUN cargo --version && rustc --version && cc --version | head -1
EOF
  pod build --network host --pull=never -v "$sysroot:/toolchain:ro" -t "$RUST_IMAGE" \
    -f "$ctx/Containerfile" "$ctx" || die "building $RUST_IMAGE failed"
  # The builder of the previous toolchain, if any (1 GB).
  [ -z "$old_id" ] || pod rmi "$old_id" >/dev/null 2>&1 || true
}

# The host's copy of the embedding model (where scripts/fetch-model.sh puts it).
model_dir() {
  echo "${LIGHTRAG_MODEL_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/lightrag-rs/models/all-MiniLM-L6-v2}"
}

build() {
  ensure_tools
  local ctx start registry
  start=$(date +%s)
  registry="${CARGO_HOME:-$HOME/.cargo}/registry"
  mkdir -p "$CACHE/target" "$registry"
  # The build context: what .dockerignore lets through (manifests, crates) plus the model;
  # staged apart so that the model is never copied into the working tree. cp -a keeps the
  # modification times cargo's fingerprints compare.
  ctx=$(mktemp -d "$CACHE/context.XXXXXX")
  TEMP_DIRS+=("$ctx")
  cp -a Dockerfile .dockerignore Cargo.toml Cargo.lock crates "$ctx/"
  case "$MODEL" in
    baked)
      scripts/fetch-model.sh >/dev/null
      local model
      model=$(model_dir)
      mkdir -p "$ctx/models/all-MiniLM-L6-v2"
      cp -a "$model"/config.json "$model"/tokenizer.json "$model"/model.safetensors \
        "$ctx/models/all-MiniLM-L6-v2/"
      ;;
    mounted) ;;
    *) die "MODEL must be baked or mounted, not '$MODEL'" ;;
  esac
  say "building $IMAGE (builder $BUILDER_IMAGE, runtime $RUNTIME_IMAGE, model $MODEL)"
  local args=(--format docker --network host -f "$ctx/Dockerfile"
    --build-arg BUILDER_IMAGE="$BUILDER_IMAGE" --build-arg RUNTIME_IMAGE="$RUNTIME_IMAGE")
  # Two passes: the build stage alone with the host's caches mounted over the Dockerfile's
  # cache mounts (podman's -v wins), then the whole image, which reuses that stage's layer.
  # -v applies to every RUN of a build, so mounting it in the second pass would leave the
  # empty mount points in the runtime image.
  pod build "${args[@]}" --target build \
    -v "$registry:/usr/local/cargo/registry" -v "$CACHE/target:/src/target" "$ctx"
  local log="$CACHE/build-image.log"
  pod build "${args[@]}" -t "$IMAGE" "$ctx" 2>&1 | tee "$log"
  if grep -q 'Compiling lightrag-cli' "$log"; then
    die "the image build compiled again instead of reusing the build stage's layer"
  fi
  # Earlier builds' layers (all labelled by the Dockerfile) that no tag uses any more.
  pod image prune -f --filter label=org.opencontainers.image.title=lightrag-rs >/dev/null || true
  say "built $IMAGE in $(( $(date +%s) - start )) s"
}

size() {
  local bytes
  bytes=$(pod image inspect -f '{{.Size}}' "$IMAGE") || die "no image $IMAGE: run build first"
  say "$IMAGE: $(( bytes / 1000000 )) MB ($bytes bytes)"
  if pod image exists "$RUNTIME_IMAGE"; then
    bytes=$(pod image inspect -f '{{.Size}}' "$RUNTIME_IMAGE")
    say "$RUNTIME_IMAGE (its base): $(( bytes / 1000000 )) MB"
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# `json FIELD-PATH` prints a field of the JSON on stdin (python3, present wherever the tests run).
json() {
  python3 -c 'import json,sys
v=json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v[int(k)] if isinstance(v, list) else v.get(k)
print(v)' "$1"
}

smoke() {
  ensure_tools
  pod image exists "$IMAGE" || die "no image $IMAGE: run build first"
  local port name url t
  port="${SMOKE_PORT:-$(free_port)}"
  name="lightrag-smoke-$$"
  url="http://127.0.0.1:$port"
  SMOKE_NAME="$name"
  local run_args=(--name "$name" --network host -e HOST=127.0.0.1 -e PORT="$port")
  if [ "$MODEL" = mounted ]; then
    scripts/fetch-model.sh >/dev/null
    run_args+=(-v "$(model_dir):/opt/lightrag/models/all-MiniLM-L6-v2:ro")
    say "smoke: the model mounted from $(model_dir)"
  fi
  # (Without systemd, podman logs that it cannot schedule the periodic healthcheck timer;
  # `podman healthcheck run` below runs the check itself.)
  pod run -d "${run_args[@]}" "$IMAGE" \
    >/dev/null 2>"$CACHE/smoke-run.log" || { cat "$CACHE/smoke-run.log" >&2; die "podman run failed"; }
  t=$(date +%s)
  until curl -fsS "$url/health" >/dev/null 2>&1; do
    [ "$(pod inspect -f '{{.State.Running}}' "$name")" = true ] || die "the container stopped"
    [ $(( $(date +%s) - t )) -lt 180 ] || die "/health did not answer within 180 s"
    sleep 1
  done
  local health
  health=$(curl -fsS "$url/health")
  [ "$(echo "$health" | json status)" = healthy ] || die "/health: $health"
  [ "$(echo "$health" | json configuration.embedding_binding)" = local ] || die "/health: $health"
  say "smoke: /health healthy after $(( $(date +%s) - t )) s on $url"

  local pid uid
  pid=$(pod inspect -f '{{.State.Pid}}' "$name")
  uid=$(ps -o uid= -p "$pid" | tr -d ' ')
  [ "$uid" = 10001 ] || die "the server runs as uid $uid, not 10001"
  say "smoke: the server runs as uid $uid"

  local r
  r=$(curl -fsS -H 'Content-Type: application/json' "$url/documents/text" \
      -d '{"text": "The Orin ferry is run by Orin Lines and crosses Lake Orin twice a day.", "file_source": "ferry.txt"}')
  [ "$(echo "$r" | json status)" = success ] || die "POST /documents/text: $r"
  t=$(date +%s)
  until [ "$(curl -fsS "$url/documents/status_counts" | json status_counts.processed)" = 1 ]; do
    [ "$(curl -fsS "$url/documents/status_counts" | json status_counts.failed)" != 1 ] \
      || die "the document failed: $(curl -fsS "$url/documents")"
    [ $(( $(date +%s) - t )) -lt 180 ] || die "not processed within 180 s"
    sleep 1
  done
  say "smoke: document processed in $(( $(date +%s) - t )) s"
  local a
  a=$(curl -fsS -H 'Content-Type: application/json' "$url/query" \
      -d '{"query": "Who runs the ferry across Lake Orin?", "mode": "mix"}')
  [[ "$(echo "$a" | json response)" == *"Orin Lines"* ]] || die "the answer does not name Orin Lines: $a"
  [ "$(echo "$a" | json references.0.file_path)" = ferry.txt ] || die "no reference to ferry.txt: $a"
  say "smoke: the query's answer names Orin Lines, its reference ferry.txt"

  pod healthcheck run "$name" >/dev/null 2>&1 || die "the HEALTHCHECK failed"
  say "smoke: HEALTHCHECK (lightrag healthcheck) healthy"

  pod stop -t 30 "$name" >/dev/null 2>&1
  local code
  code=$(pod inspect -f '{{.State.ExitCode}}' "$name")
  [ "$code" = 0 ] || die "exit code $code after SIGTERM"
  say "smoke: stopped cleanly on SIGTERM; ok"
}

clean() {
  local c
  for c in $(pod ps -a --format '{{.Names}}' | grep '^lightrag-smoke-' || true); do
    pod rm -f "$c" >/dev/null
  done
  pod rmi -f "$IMAGE" >/dev/null 2>&1 || true
  rm -rf "$CACHE/target"
  say "removed $IMAGE and $CACHE/target (the bases stay; podman rmi them by name)"
}

[ $# -gt 0 ] || { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2; }
for step in "$@"; do
  case "$step" in
    bases|build|smoke|size|clean)
      t0=$(date +%s)
      "$step"
      say "$step: done in $(( $(date +%s) - t0 )) s"
      ;;
    *) die "unknown step '$step' (bases, build, smoke, size, clean)" ;;
  esac
done
