#!/usr/bin/env python3
"""Queries against a model that answers in LATENCY_MS (docs/benchmarks.md, "Queries as fast as
the model allows"): per mode, the p50 and p90 latency of `/query` and the model calls each query
made: for answers, for context only (`only_need_context`), and for answers with the keywords
given by the caller (`hl_keywords`/`ll_keywords`).

The model is the in-repo OpenAI-compatible test server (`lightrag-test-llm`), LATENCY_MS per
call, CHAT_PARALLEL calls at once. examples/ is indexed through it first; then `lightrag serve`
runs with the LLM and query caches off, so every query pays for every call it makes.

Usage: scripts/bench-query-llm.py   (BIN = dir with `lightrag` and `lightrag-test-llm`;
default ~/.cache/lightrag-target/release; QUERIES per mode and kind, default 20)
"""
import json, os, statistics, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import free_port, get, post  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("BIN", os.path.expanduser("~/.cache/lightrag-target/release"))
LATENCY_MS = int(os.environ.get("LATENCY_MS", "200"))
CHAT_PARALLEL = int(os.environ.get("CHAT_PARALLEL", "4"))
QUERIES = int(os.environ.get("QUERIES", "20"))
MODES = ["naive", "local", "global", "hybrid", "mix", "bypass"]
QUESTIONS = [
    "Who founded the Vell River Institute?",
    "What happened in the Great Harrowmere flood of 1967?",
    "What did the Ostra Accord of 1984 decide?",
    "Who led the Upper Vell expedition in 1958?",
    "What does the Brightwater Hydro Corporation build?",
]
SCRIPT = {
    "rules": [
        {"match": "You pick search keywords",
         "reply": json.dumps({"high_level_keywords": ["river research", "floods"],
                              "low_level_keywords": ["Vell River Institute", "Harrowmere"]})},
        {"match": "You answer questions using only", "reply": "From the context: see [1]."},
        {"match": "may be missing from your answer", "reply": "<|COMPLETE|>"},
    ],
    # Extraction: the insert benchmark's scripted reply.
    "default_reply": json.load(open(os.path.join(ROOT, "scripts/bench/llm-script.json")))["default_reply"],
}


def main():
    work = tempfile.mkdtemp(prefix="bench-query-llm-")
    script = os.path.join(work, "script.json")
    json.dump(SCRIPT, open(script, "w"))
    llm = subprocess.Popen([f"{BIN}/lightrag-test-llm", "--port", "0", "--latency-ms", str(LATENCY_MS),
                            "--chat-parallel", str(CHAT_PARALLEL), "--script", script],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = llm.stdout.readline()
    assert line.startswith("listening on"), line
    llm_addr = line.split()[-1]
    env = dict(os.environ, LLM_BINDING="openai", LLM_MODEL="test-llm",
               LLM_BINDING_HOST=f"http://{llm_addr}/v1", EMBEDDING_BINDING="hashing",
               ENABLE_LLM_CACHE="false", ENABLE_QUERY_CACHE="false", RUST_LOG="warn")
    rag = os.path.join(work, "rag")
    subprocess.run([f"{BIN}/lightrag", "--working-dir", rag, "insert", os.path.join(ROOT, "examples")],
                   env=env, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen([f"{BIN}/lightrag", "--working-dir", rag, "serve"],
                              env=dict(env, HOST="127.0.0.1", PORT=str(port)),
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert server.stdout.readline().startswith("listening on")
        url = f"http://127.0.0.1:{port}"
        stats = f"http://{llm_addr}/test/stats"
        rows = []
        kinds = [("answer", {}), ("context only", {"only_need_context": True}),
                 ("answer, keywords given", {"hl_keywords": ["river research"],
                                             "ll_keywords": ["Vell River Institute"]})]
        for kind, extra in kinds:
            for mode in MODES:
                if mode == "bypass" and kind != "answer":
                    continue
                if mode == "naive" and "keywords" in kind:
                    continue
                calls0 = get(stats)["chat_calls"]
                times = []
                for i in range(QUERIES):
                    q = QUESTIONS[i % len(QUESTIONS)]
                    t = time.perf_counter()
                    post(f"{url}/query", dict({"query": q, "mode": mode}, **extra))
                    times.append(1000 * (time.perf_counter() - t))
                calls = (get(stats)["chat_calls"] - calls0) / QUERIES
                times.sort()
                rows.append({"mode": mode, "kind": kind,
                             "p50_ms": round(statistics.median(times), 1),
                             "p90_ms": round(times[int(0.9 * (len(times) - 1))], 1),
                             "llm_calls_per_query": calls})
        print(f"model: {LATENCY_MS} ms per call, {CHAT_PARALLEL} at once; {QUERIES} queries per row")
        print("| mode | kind | p50 ms | p90 ms | LLM calls per query |")
        print("|---|---|---|---|---|")
        for r in rows:
            print(f"| {r['mode']} | {r['kind']} | {r['p50_ms']} | {r['p90_ms']} | {r['llm_calls_per_query']:g} |")
    finally:
        server.terminate()
        server.wait(timeout=60)
        llm.terminate()


if __name__ == "__main__":
    sys.exit(main())
