#!/usr/bin/env bash
# Validates the compose files (deploy/compose/) and the Kubernetes manifests (deploy/k8s/) with
# checkers that install from package registries and then run offline:
#
#   scripts/validate-deploy.sh                   install what is missing, then check everything
#   scripts/validate-deploy.sh install           only install (exit 3: a checker cannot be had)
#   scripts/validate-deploy.sh check [DEPLOY]    check DEPLOY (default: the repository's deploy/)
#   scripts/validate-deploy.sh env-keys [DEPLOY] print every variable the lightrag containers
#                                                get, with its value, and every ${VAR} the
#                                                compose files read (format: see the helper)
#
# The checkers (installed idempotently; pinned where a registry serves them):
#   - check-jsonschema 0.39.0 (PyPI), whose builtin `vendor.compose-spec` schema is the Compose
#     specification's JSON schema: every compose file, as written and after interpolation.
#   - `docker compose config` when the Docker CLI has the compose plugin, else `docker-compose
#     config` (Debian's docker-compose 1.29.2 when nothing else is there): interpolation with
#     .env.example, references between services, volumes and profiles. Compose 1.x predates the
#     top-level `name:`, so it reads a copy without that line.
#   - kubernetes-validate 1.37.0 (PyPI), which ships the Kubernetes JSON schemas (1.25 to 1.37)
#     and validates offline, strictly (an unknown field is an error), here against 1.30 (the
#     oldest release the manifests support: preStop `sleep`) and 1.37. An object whose
#     kind/apiVersion has no schema is an error too.
#   - kubectl's built-in kustomize (the machine's kubectl, else Debian's kubernetes-client) renders
#     every kustomization.yaml; what it renders is validated as above.
# Plus the repository's own rules (each compose service has a health check, a restart policy and
# resource limits; the scaled API has replicas and start-first updates; each Deployment has its
# probes on /health, resources and a non-root securityContext; the HPA scales on CPU and on
# lightrag_active_requests; every manifest is in its kustomization) and deploy/compose/nginx.conf
# being deploy/nginx/lightrag.conf.template rendered for the compose service.
#
# Python packages go to a venv, ${LIGHTRAG_DEPLOY_VENV:-$HOME/.cache/lightrag-deploy-venv}; apt
# packages need root. Exits non-zero with the checkers' messages when anything fails.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
venv="${LIGHTRAG_DEPLOY_VENV:-$HOME/.cache/lightrag-deploy-venv}"
requirements="check-jsonschema==0.39.0 kubernetes-validate==1.37.0"
# Kubernetes releases the manifests are checked against.
k8s_versions="1.30.0 1.37.0"

say() { echo "validate-deploy: $*" >&2; }
die() { say "$*"; exit 1; }
# Exit 3: a checker is missing and cannot be installed here.
unavailable() { say "$*"; exit 3; }

apt_install() {
  [ "$(id -u)" = 0 ] || unavailable "$* missing, and installing it needs root (apt-get install $*)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq --no-install-recommends "$@" >/dev/null; } ||
    unavailable "apt-get install $* failed"
}

install_venv() {
  if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.requirements" 2>/dev/null)" = "$requirements" ]; then
    return
  fi
  local py
  py="$(command -v python3)" || apt_install python3 python3-venv
  py="$(command -v python3)"
  say "installing $requirements into $venv ..."
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  if ! "$py" -m venv "$venv" >/dev/null 2>&1; then
    # Debian's python3 keeps venv (ensurepip) in a package of its own.
    rm -rf "$venv"
    apt_install python3-venv
    "$py" -m venv "$venv" || unavailable "python3 -m venv $venv failed"
  fi
  # shellcheck disable=SC2086
  "$venv/bin/pip" install --quiet --disable-pip-version-check $requirements ||
    unavailable "pip install $requirements failed"
  echo "$requirements" >"$venv/.requirements"
}

# How to run compose's own `config`: the Docker CLI plugin, or a docker-compose binary.
compose_cmd() {
  if docker compose version >/dev/null 2>&1; then echo "docker compose"; return; fi
  if command -v docker-compose >/dev/null 2>&1; then echo "docker-compose"; return; fi
  return 1
}

install_all() {
  # One installer at a time: tests may run this script side by side.
  exec 9>/tmp/lightrag-validate-deploy.lock
  flock 9
  install_venv
  compose_cmd >/dev/null || apt_install docker-compose
  compose_cmd >/dev/null || unavailable "no docker compose after installing docker-compose"
  command -v kubectl >/dev/null 2>&1 || apt_install kubernetes-client
  command -v kubectl >/dev/null 2>&1 || unavailable "no kubectl after installing kubernetes-client"
  exec 9>&-
}

# The repository's rules and the kubernetes-validate calls, in Python (PyYAML and
# kubernetes_validate come with the venv). `helper MODE ARGS...`.
helper() {
  "$venv/bin/python" - "$@" <<'PY'
import os, re, sys, yaml

mode, args = sys.argv[1], sys.argv[2:]
errors = []

def load_all(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]

def is_lightrag(svc):
    return "lightrag" in str(svc.get("image", ""))

if mode == "k8s":
    # k8s VERSIONS FILE... : every object of every file, strictly, for each version.
    import kubernetes_validate as kv
    versions, files = args[0].split(), args[1:]
    for path in files:
        try:
            docs = load_all(path)
        except yaml.YAMLError as e:
            errors.append(f"{path}: not YAML: {e}")
            continue
        if not docs:
            errors.append(f"{path}: no Kubernetes object in it")
        for doc in docs:
            if not isinstance(doc, dict) or "kind" not in doc or "apiVersion" not in doc:
                errors.append(f"{path}: an object without kind and apiVersion")
                continue
            name = f"{doc['kind']}/{(doc.get('metadata') or {}).get('name', '?')}"
            for v in versions:
                try:
                    kv.validate(doc, v, strict=True)
                except kv.SchemaNotFoundError:
                    errors.append(f"{path}: {name}: Kubernetes {v} has no kind {doc['kind']} in {doc['apiVersion']}")
                except kv.ValidationError as e:
                    where = ".".join(str(p) for p in e.path) or "(top)"
                    errors.append(f"{path}: {name} against Kubernetes {v}: {where}: {e.message}")

elif mode == "k8s-rules":
    # k8s-rules K8S_DIR: the repository's rules for the manifests.
    k8s = args[0]
    for dirpath, _, names in os.walk(k8s):
        yamls = sorted(n for n in names if n.endswith((".yaml", ".yml")))
        if "kustomization.yaml" in yamls:
            kust = yaml.safe_load(open(os.path.join(dirpath, "kustomization.yaml"))) or {}
            listed = set(kust.get("resources") or [])
            for n in yamls:
                if n != "kustomization.yaml" and n not in listed:
                    errors.append(f"{os.path.join(dirpath, n)}: not in {dirpath}/kustomization.yaml's resources")
        for n in yamls:
            path = os.path.join(dirpath, n)
            for doc in load_all(path):
                kind = doc.get("kind") if isinstance(doc, dict) else None
                if kind in ("Deployment", "StatefulSet"):
                    spec = doc["spec"]["template"]["spec"]
                    pod_sc = spec.get("securityContext") or {}
                    for c in spec.get("containers", []):
                        where = f"{path}: {kind} {doc['metadata']['name']}, container {c.get('name')}"
                        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                            p = (c.get(probe) or {}).get("httpGet") or {}
                            if p.get("path") != "/health":
                                errors.append(f"{where}: no {probe} on GET /health")
                        lim = (c.get("resources") or {}).get("limits") or {}
                        req = (c.get("resources") or {}).get("requests") or {}
                        if not {"cpu", "memory"} <= lim.keys() or not {"cpu", "memory"} <= req.keys():
                            errors.append(f"{where}: cpu and memory requests and limits wanted")
                        sc = c.get("securityContext") or {}
                        if not (sc.get("runAsNonRoot") or pod_sc.get("runAsNonRoot")):
                            errors.append(f"{where}: runAsNonRoot wanted")
                        if sc.get("allowPrivilegeEscalation") is not False:
                            errors.append(f"{where}: allowPrivilegeEscalation: false wanted")
                    if kind == "Deployment" and doc["spec"].get("replicas", 1) > 1:
                        ru = (doc["spec"].get("strategy") or {}).get("rollingUpdate") or {}
                        if ru.get("maxUnavailable") != 0:
                            errors.append(f"{path}: a replicated Deployment rolls start-first (maxUnavailable: 0)")
                if kind == "HorizontalPodAutoscaler":
                    ms = doc["spec"].get("metrics") or []
                    if not any(m.get("type") == "Resource" and m["resource"]["name"] == "cpu" for m in ms):
                        errors.append(f"{path}: the HPA does not scale on CPU")
                    if not any(m.get("type") == "Pods" and m["pods"]["metric"]["name"] == "lightrag_active_requests" for m in ms):
                        errors.append(f"{path}: the HPA does not scale on lightrag_active_requests")

elif mode == "compose-rules":
    # compose-rules FILE: the repository's rules for a compose file as written.
    path = args[0]
    doc = yaml.safe_load(open(path))
    services = doc.get("services") or {}
    for name, svc in services.items():
        where = f"{path}: service {name}"
        if "healthcheck" not in svc:
            errors.append(f"{where}: no healthcheck")
        elif "test" not in svc["healthcheck"]:
            errors.append(f"{where}: its healthcheck has no test")
        deploy = svc.get("deploy") or {}
        if "restart" not in svc and "restart_policy" not in deploy:
            errors.append(f"{where}: no restart policy (restart or deploy.restart_policy)")
        if "memory" not in ((deploy.get("resources") or {}).get("limits") or {}):
            errors.append(f"{where}: no deploy.resources.limits.memory")
        for dep, cond in (svc.get("depends_on") or {}).items() if isinstance(svc.get("depends_on"), dict) else []:
            if (cond or {}).get("condition") != "service_healthy":
                errors.append(f"{where}: depends_on {dep} without condition: service_healthy")
        if is_lightrag(svc) and "replicas" in deploy:
            if (deploy.get("update_config") or {}).get("order") != "start-first":
                errors.append(f"{where}: replicated, but deploy.update_config.order is not start-first")

elif mode == "env-keys":
    # env-keys DEPLOY: "kind<TAB>source<TAB>file<TAB>KEY<TAB>VALUE" lines. kind is `container`
    # (a variable a lightrag container gets; its value as deployed, compose's ${VAR} filled in
    # from .env.example) or `interpolation` (a variable the compose files read, no value);
    # source is what one container gets its variables from: a compose file, or a folder of
    # manifests (ConfigMap and Secret together).
    deploy = args[0]
    var = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)")
    rel = lambda p: os.path.relpath(p, deploy)
    out = set()
    cdir = os.path.join(deploy, "compose")
    example = {}
    if os.path.exists(os.path.join(cdir, ".env.example")):
        for line in open(os.path.join(cdir, ".env.example")):
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                k, v = line.split("=", 1)
                example[k.strip()] = v.strip()
                out.add(("interpolation", "compose/.env.example", "compose/.env.example", k.strip(), ""))

    def interpolate(value):
        # Compose's ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}; $$ is $.
        def one(m):
            name, op, arg = m.group(1), m.group(2) or "", m.group(3) or ""
            have = example.get(name)
            if op.startswith(":-"):
                return have if have else arg
            if op.startswith("-"):
                return have if have is not None else arg
            return have or ""
        value = re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)((?::?[-?])([^}]*))?\}", one, str(value))
        return value.replace("$$", "$")

    for n in sorted(os.listdir(cdir)):
        path = os.path.join(cdir, n)
        if not n.endswith((".yml", ".yaml")):
            continue
        text = open(path).read()
        for m in var.finditer(text):
            out.add(("interpolation", rel(path), rel(path), m.group(1), ""))
        doc = yaml.safe_load(text) or {}
        for svc in (doc.get("services") or {}).values():
            if not is_lightrag(svc):
                continue
            env = svc.get("environment") or {}
            pairs = env.items() if isinstance(env, dict) else [(e.split("=", 1) + [""])[:2] for e in env]
            for k, v in pairs:
                out.add(("container", rel(path), rel(path), k, interpolate("" if v is None else v)))
    for dirpath, _, names in os.walk(os.path.join(deploy, "k8s")):
        for n in sorted(names):
            if not n.endswith((".yaml", ".yml")) or n == "kustomization.yaml":
                continue
            path = os.path.join(dirpath, n)
            for doc in load_all(path):
                if doc.get("metadata", {}).get("namespace") == "monitoring":
                    continue  # the adapter's configuration, not the server's
                pairs = []
                if doc.get("kind") == "ConfigMap":
                    pairs = list((doc.get("data") or {}).items())
                elif doc.get("kind") == "Secret":
                    import base64
                    pairs = [(k, base64.b64decode(v).decode()) for k, v in (doc.get("data") or {}).items()]
                    pairs += list((doc.get("stringData") or {}).items())
                elif doc.get("kind") in ("Deployment", "StatefulSet"):
                    for c in doc["spec"]["template"]["spec"].get("containers", []):
                        pairs += [(e["name"], str(e.get("value", ""))) for e in c.get("env") or []]
                for k, v in pairs:
                    out.add(("container", rel(dirpath), rel(path), k, str(v)))
    for row in sorted(out):
        if any("\t" in f or "\n" in f for f in row):
            errors.append(f"{row[2]}: {row[3]}: a tab or newline in its value")
            continue
        print("\t".join(row))

for e in errors:
    print(e, file=sys.stderr)
sys.exit(1 if errors else 0)
PY
}

failures=0
fail() { say "FAILED: $*"; failures=$((failures + 1)); }

check_compose() {
  local compose_dir="$1" nginx_template="$2" f base tmp compose out
  read -r -a compose <<<"$(compose_cmd)"
  tmp="$(mktemp -d)"
  for f in "$compose_dir"/*.yml; do
    base="$(basename "$f")"
    # 1. The Compose specification's schema, on the file as written (it allows ${VAR} strings).
    "$venv/bin/check-jsonschema" --builtin-schema vendor.compose-spec "$f" >"$tmp/out" 2>&1 ||
      { cat "$tmp/out" >&2; fail "$base: compose-spec schema"; }
    # 2. Compose's own `config`: interpolation with .env.example, references, every profile.
    local input="$f" profiles=()
    if [ "${compose[0]}" = docker-compose ] && docker-compose version --short 2>/dev/null | grep -q '^1\.'; then
      input="$tmp/$base"
      sed '/^name:/d' "$f" >"$input"
    fi
    while read -r p; do profiles+=(--profile "$p"); done < <(
      "$venv/bin/python" -c 'import sys, yaml
d = yaml.safe_load(open(sys.argv[1])) or {}
print("\n".join(sorted({p for s in (d.get("services") or {}).values() for p in s.get("profiles", [])})))' "$f" | sed '/^$/d')
    if out="$("${compose[@]}" --project-directory "$compose_dir" --env-file "$compose_dir/.env.example" \
        -f "$input" "${profiles[@]}" config 2>&1)"; then
      # 3. The interpolated result against the schema again (numbers where ${VAR} stood).
      printf '%s\n' "$out" >"$tmp/interpolated.yml"
      "$venv/bin/check-jsonschema" --builtin-schema vendor.compose-spec "$tmp/interpolated.yml" >"$tmp/out" 2>&1 ||
        { cat "$tmp/out" >&2; fail "$base: compose-spec schema after interpolation"; }
    else
      printf '%s\n' "$out" >&2
      fail "$base: ${compose[*]} config"
    fi
    # 4. The repository's rules.
    helper compose-rules "$f" || fail "$base: rules"
  done
  # 5. nginx.conf is the template rendered for the compose service `lightrag`.
  if [ -e "$compose_dir/nginx.conf" ]; then
    if ! diff -u <(LIGHTRAG_NGINX_TEMPLATE="$nginx_template" "$here/nginx.sh" render 80 lightrag:9621) \
        <(sed '1,/^# -- end of header --$/d' "$compose_dir/nginx.conf") >&2; then
      fail "deploy/compose/nginx.conf differs from deploy/nginx/lightrag.conf.template rendered by" \
        "'scripts/nginx.sh render 80 lightrag:9621' (render it again)"
    fi
  fi
  rm -rf "$tmp"
}

check_k8s() {
  local k8s="$1" dir files=()
  # 1. Every manifest as written (kustomization.yaml files are kustomize's, checked below).
  while IFS= read -r -d '' f; do files+=("$f"); done < <(
    find "$k8s" -name '*.yaml' ! -name kustomization.yaml -print0 | sort -z)
  helper k8s "$k8s_versions" "${files[@]}" || fail "Kubernetes schemas"
  # 2. Every kustomization, rendered by kustomize, then validated.
  while IFS= read -r -d '' kust; do
    dir="$(dirname "$kust")"
    local rendered
    rendered="$(mktemp --suffix=.yaml)"
    if kubectl kustomize "$dir" >"$rendered" 2>"$rendered.err"; then
      helper k8s "$k8s_versions" "$rendered" || fail "$dir: the rendered kustomization"
    else
      cat "$rendered.err" >&2
      fail "$dir: kubectl kustomize"
    fi
    rm -f "$rendered" "$rendered.err"
  done < <(find "$k8s" -name kustomization.yaml -print0 | sort -z)
  # 3. The repository's rules.
  helper k8s-rules "$k8s" || fail "Kubernetes rules"
}

check() {
  local deploy="${1:-$root/deploy}"
  deploy="$(cd "$deploy" && pwd)"
  [ -d "$deploy/compose" ] || die "no $deploy/compose"
  [ -d "$deploy/k8s" ] || die "no $deploy/k8s"
  check_compose "$deploy/compose" "$deploy/nginx/lightrag.conf.template"
  check_k8s "$deploy/k8s"
  if [ "$failures" -gt 0 ]; then
    die "$failures check(s) failed in $deploy"
  fi
  say "ok: $deploy/compose (compose-spec schema, $(compose_cmd) config) and $deploy/k8s" \
    "(kubernetes-validate --strict against ${k8s_versions// /, }; kubectl kustomize)"
}

cmd="${1:-all}"
[ $# -gt 0 ] && shift
case "$cmd" in
  install) install_all ;;
  check) install_all; check "$@" ;;
  all) install_all; check ;;
  env-keys) install_all; helper env-keys "$(cd "${1:-$root/deploy}" && pwd)" ;;
  *) echo "usage: $0 [install | check [DEPLOY_DIR] | env-keys [DEPLOY_DIR]]" >&2; exit 2 ;;
esac
