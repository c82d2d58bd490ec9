#!/usr/bin/env bash
# The main job on the embedded default, on a fresh machine: fetch the embedding model once,
# build, index the sample documents in examples/ into ./rag_storage, and answer a question.
# No LLM server, no database: everything runs in this process.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
command -v cargo >/dev/null || { echo "cargo is required (https://rustup.rs)"; exit 1; }
scripts/fetch-model.sh
cargo build --quiet -p lightrag-cli
bin="$CARGO_TARGET_DIR/debug/lightrag"
"$bin" insert examples/
echo
question="${1:-Who led the Upper Vell Expedition, and what did it find?}"
echo "Q: $question"
echo
"$bin" query "$question" --mode mix
