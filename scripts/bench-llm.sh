#!/usr/bin/env bash
# LLM-bound indexing benchmark (docs/benchmarks.md): DOCS generated documents through the
# in-repo OpenAI-compatible test server, with LATENCY_MS per chat call and at most MAX_ASYNC
# concurrent calls; prints the bench report and the server's call counts.
# Usage: scripts/bench-llm.sh [LATENCY_MS] [DOCS]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
latency="${1:-200}"
docs="${2:-300}"
profile="${PROFILE:-release}"
flag=$([ "$profile" = release ] && echo --release || true)
cargo build --quiet $flag -p lightrag-cli -p lightrag-testserver
bin="$CARGO_TARGET_DIR/$profile"
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
"$bin/lightrag-test-llm" --port 0 --latency-ms "$latency" --script scripts/bench/llm-script.json > "$work/server.log" 2>&1 &
server=$!
for _ in $(seq 50); do grep -q "listening on" "$work/server.log" && break; sleep 0.1; done
addr=$(sed -n 's/^listening on //p' "$work/server.log" | head -1)
LLM_BINDING=openai LLM_MODEL=test-llm LLM_BINDING_HOST="http://$addr/v1" \
EMBEDDING_BINDING=hashing MAX_ASYNC="${MAX_ASYNC:-4}" MAX_PARALLEL_INSERT="${MAX_PARALLEL_INSERT:-4}" \
  "$bin/lightrag" bench --component insert --docs "$docs" --doc-tokens 1000 --bench-dir "$work/rag"
echo "server: $(python3 -c 'import sys,urllib.request;print(urllib.request.urlopen(sys.argv[1]).read().decode())' "http://$addr/test/stats")"
