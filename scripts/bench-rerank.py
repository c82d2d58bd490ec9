#!/usr/bin/env python3
"""Context recall with and without reranking (docs/benchmarks.md, "Reranking (issue 14)").

Indexes the licence texts of /usr/share/common-licenses with the real local embedding model
(scripts/fetch-model.sh) through `lightrag serve`, then asks the questions of
scripts/data/rerank-questions.json in naive mode through /query/data, once with
`enable_rerank: false` and once with `true`. The reranker is the test server's rerank route
(`lightrag-test-llm`, Cohere's API, lexical BM25 scores): no neural reranker can be had here.

A question is recalled at k when its gold passage (whitespace-normalised) lies within the first
k chunks of the context; k stands for a context budget of k chunks. Recall at chunk_top_k is the
same for both runs (reranking reorders the candidates, it does not fetch new ones) and bounds
what any reranker can reach.

Usage: cargo build --release -p lightrag-cli -p lightrag-testserver
       python3 scripts/bench-rerank.py [--bin DIR] [--chunk-size 200] [--top-k 20]
"""
import argparse, json, os, re, subprocess, sys, tempfile, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def http(method, url, body=None, timeout=120):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read() or b"null")


def start(cmd, env):
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline().strip()
    if not line.startswith("listening on "):
        p.kill()
        sys.exit(f"{cmd[0]} did not start: {line!r}")
    addr = line[len("listening on "):]
    return p, addr if addr.startswith("http") else "http://" + addr


def norm(t):
    return re.sub(r"\s+", " ", t)


def main():
    ap = argparse.ArgumentParser()
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    ap.add_argument("--bin", default=os.path.join(target, "release"))
    ap.add_argument("--chunk-size", type=int, default=200)
    ap.add_argument("--overlap", type=int, default=20)
    ap.add_argument("--top-k", type=int, default=20, help="chunk_top_k: candidates reranked")
    ap.add_argument("--ks", default="1,3,5,10")
    ap.add_argument("--data", default=os.path.join(ROOT, "scripts/data/rerank-questions.json"))
    a = ap.parse_args()
    ks = [int(k) for k in a.ks.split(",")]
    spec = json.load(open(a.data))
    corpus = spec["corpus"]
    questions = spec["questions"]

    llm, llm_url = start([os.path.join(a.bin, "lightrag-test-llm"), "--port", "0"], dict(os.environ))
    work = tempfile.mkdtemp(prefix="bench-rerank-")
    env = dict(os.environ, HOST="127.0.0.1", PORT="0", INPUT_DIR=os.path.join(work, "inputs"),
               EMBEDDING_BINDING="local", LLM_BINDING="none",
               CHUNK_SIZE=str(a.chunk_size), CHUNK_OVERLAP_SIZE=str(a.overlap),
               RERANK_BINDING="cohere", RERANK_BINDING_HOST=llm_url + "/v2/rerank",
               ENABLE_QUERY_CACHE="false")
    srv, url = start([os.path.join(a.bin, "lightrag"), "--working-dir", os.path.join(work, "rag"), "serve"], env)
    try:
        t0 = time.time()
        for name in spec["files"]:
            text = open(os.path.join(corpus, name), encoding="utf-8").read()
            http("POST", url + "/documents/text", {"text": text, "file_source": name})
        while True:
            counts = http("GET", url + "/documents/status_counts")["status_counts"]
            if counts.get("processed", 0) + counts.get("failed", 0) >= len(spec["files"]):
                break
            time.sleep(0.5)
        if counts.get("failed", 0):
            sys.exit(f"indexing failed: {counts}")
        index_s = time.time() - t0
        hits = {False: {k: 0 for k in ks + [a.top_k]}, True: {k: 0 for k in ks + [a.top_k]}}
        ms = {False: 0.0, True: 0.0}
        chunks_seen = 0
        for q in questions:
            gold = norm(q["gold"])
            # An untimed first call embeds the question (the embedding cache then serves both
            # timed calls alike), so the times compare the rest of the query.
            http("POST", url + "/query/data", {"query": q["q"], "mode": "naive",
                                                "chunk_top_k": a.top_k, "enable_rerank": False})
            for rerank in (False, True):
                t = time.time()
                r = http("POST", url + "/query/data", {"query": q["q"], "mode": "naive",
                                                        "chunk_top_k": a.top_k, "enable_rerank": rerank})
                ms[rerank] += (time.time() - t) * 1000
                contents = [norm(c["content"]) for c in r["data"]["chunks"]]
                chunks_seen = max(chunks_seen, len(contents))
                first = next((i for i, c in enumerate(contents) if gold in c), None)
                for k in hits[rerank]:
                    if first is not None and first < k:
                        hits[rerank][k] += 1
        stats = http("GET", llm_url + "/test/stats")
    finally:
        srv.terminate()
        llm.terminate()
        srv.wait()
        llm.wait()
    n = len(questions)
    print(f"corpus: {len(spec['files'])} files of {corpus}, CHUNK_SIZE={a.chunk_size}, "
          f"overlap {a.overlap}; {n} questions; naive mode, chunk_top_k={a.top_k}; "
          f"indexed in {index_s:.1f} s; rerank calls {stats['rerank_calls']}")
    print("| context (first k chunks) | recall, vector order | recall, reranked |")
    print("|---|---|---|")
    for k in ks + [a.top_k]:
        print(f"| k = {k} | {hits[False][k]}/{n} ({hits[False][k] / n:.0%}) "
              f"| {hits[True][k]}/{n} ({hits[True][k] / n:.0%}) |")
    print(f"mean /query/data time: {ms[False] / n:.1f} ms without, {ms[True] / n:.1f} ms with rerank")


if __name__ == "__main__":
    main()
