#!/usr/bin/env bash
# Description summaries under the graph writer (docs/benchmarks.md, "Summaries and the graph
# writer"): DOCS documents in GROUPS topics, each topic with its own three entities and two
# relations, indexed through the in-repo OpenAI-compatible test server at LATENCY_MS per call
# and MAX_ASYNC calls at once, with FORCE_LLM_SUMMARY_ON_MERGE=2 so that every merge after a
# topic's first summarises. Documents of different topics share no entity, so only the merge
# lock's scope decides whether their summaries overlap.
# Usage: scripts/bench-summaries.sh [LATENCY_MS] [DOCS] [GROUPS]   (BIN=dir with lightrag and
# lightrag-test-llm; default: a fresh debug build)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
latency="${1:-200}"
docs="${2:-100}"
groups="${3:-25}"
if [ -z "${BIN:-}" ]; then
  cargo build --quiet -p lightrag-cli -p lightrag-testserver
  BIN="$CARGO_TARGET_DIR/debug"
fi
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
python3 - "$work" "$docs" "$groups" <<'PY'
import json, os, sys
work, docs, groups = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.makedirs(f"{work}/docs")
rules = [{"match": "may be missing from your answer", "reply": "<|COMPLETE|>"}]
for d in range(docs):
    t = f"Topic{d % groups:03d}"
    e = [f"{t} Institute", f"{t} Founder", f"{t} Town"]
    # Each document says something new of its topic's entities: merges have fragments to join.
    rules.append({"match": f"marker-doc{d:04d}-end", "reply": "\n".join([
        f"entity<|#|>{e[0]}<|#|>Organization<|#|>{e[0]} published report {d} on the river.",
        f"entity<|#|>{e[1]}<|#|>Person<|#|>{e[1]} wrote report {d} for {e[0]}.",
        f"entity<|#|>{e[2]}<|#|>Location<|#|>{e[2]} is the subject of report {d}.",
        f"relation<|#|>{e[1]}<|#|>{e[0]}<|#|>founding<|#|>{e[1]} and {e[0]} worked on report {d}.",
        f"relation<|#|>{e[0]}<|#|>{e[2]}<|#|>location<|#|>{e[0]} surveyed {e[2]} in report {d}.",
        "<|COMPLETE|>"])})
json.dump({"rules": rules, "default_reply": "A merged description of the entity."},
          open(f"{work}/script.json", "w"))
for d in range(docs):
    t = f"Topic{d % groups:03d}"
    text = f"Report {d} on {t}, marker-doc{d:04d}-end. " + " ".join(f"Line {i} of report {d} about {t}." for i in range(40))
    open(f"{work}/docs/doc{d:04d}.txt", "w").write(text)
PY
"$BIN/lightrag-test-llm" --port 0 --latency-ms "$latency" --script "$work/script.json" > "$work/server.log" 2>&1 &
server=$!
for _ in $(seq 50); do grep -q "listening on" "$work/server.log" && break; sleep 0.1; done
addr=$(sed -n 's/^listening on //p' "$work/server.log" | head -1)
start=$(date +%s.%N)
LLM_BINDING=openai LLM_MODEL=test-llm LLM_BINDING_HOST="http://$addr/v1" \
EMBEDDING_BINDING=hashing MAX_ASYNC="${MAX_ASYNC:-4}" MAX_PARALLEL_INSERT="${MAX_PARALLEL_INSERT:-4}" \
FORCE_LLM_SUMMARY_ON_MERGE=2 \
  "$BIN/lightrag" --working-dir "$work/rag" insert "$work/docs" > "$work/insert.log" 2>&1
end=$(date +%s.%N)
tail -3 "$work/insert.log"
stats=$(python3 -c 'import sys,urllib.request;print(urllib.request.urlopen(sys.argv[1]).read().decode())' "http://$addr/test/stats")
python3 - "$start" "$end" "$docs" "$latency" "${MAX_ASYNC:-4}" "$stats" <<'PY'
import json, sys
start, end, docs, latency, max_async, stats = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), json.loads(sys.argv[6])
calls = stats.get("chat_calls", 0)
secs = end - start
allowed = max_async / (latency / 1000) / (calls / docs) if calls and latency else float("nan")
print(f"documents {docs}  seconds {secs:.1f}  documents/s {docs/secs:.2f}  chat calls {calls} ({calls/docs:.1f}/doc)  the limit allows {allowed:.2f} docs/s  ({100*docs/secs/allowed:.0f}%)")
print("server stats:", json.dumps(stats))
PY
