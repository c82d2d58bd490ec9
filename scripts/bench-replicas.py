#!/usr/bin/env python3
"""Replicas on one PostgreSQL behind nginx (docs/benchmarks.md, "Replicas").

query:  N = 1, 2, 3 replicas (no LLM: offline extraction and keywords, hashing embeddings)
        behind nginx; `lightrag bench --component e2e` seeds a corpus through nginx and
        drives the query phases; the servers' CPU (replicas, PostgreSQL, nginx) is read from
        /proc around the run.
insert: N = 1, 3 replicas indexing DOCS one-chunk documents through the in-repo test LLM that
        answers CHAT_PARALLEL calls at once, LATENCY_MS each (the rest queue); time from the
        first insert to the last document processed, and CPU per document.

Usage: scripts/bench-replicas.py [query|insert|all]   (BIN = dir with release `lightrag` and
`lightrag-test-llm`; default ~/.cache/lightrag-target/release)
"""
import json, os, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import free_port, get, post  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("BIN", os.path.expanduser("~/.cache/lightrag-target/release"))
DOCS = int(os.environ.get("DOCS", "600"))
LATENCY_MS = int(os.environ.get("LATENCY_MS", "200"))
CHAT_PARALLEL = int(os.environ.get("CHAT_PARALLEL", "12"))
QUERIES = int(os.environ.get("QUERIES", "2000"))
CONCURRENCY = int(os.environ.get("CONCURRENCY", "16"))
TICK = os.sysconf("SC_CLK_TCK")


def sh(*args):
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip()


def cpu_seconds(pids):
    total = 0
    for pid in pids:
        try:
            f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            total += int(f[11]) + int(f[12])  # utime, stime
        except (FileNotFoundError, ProcessLookupError, IndexError):
            pass
    return total / TICK


def pids_named(name):
    out = subprocess.run(["pgrep", "-x", name], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def pg_env(ws):
    url = sh(f"{ROOT}/scripts/postgres.sh", "url")
    return {"DATABASE_URL": url, "POSTGRES_SSL_MODE": "disable", "POSTGRES_WORKSPACE": ws,
            "LIGHTRAG_KV_STORAGE": "PGKVStorage", "LIGHTRAG_DOC_STATUS_STORAGE": "PGDocStatusStorage",
            "LIGHTRAG_GRAPH_STORAGE": "PGGraphStorage", "LIGHTRAG_VECTOR_STORAGE": "PGVectorStorage"}


class Cluster:
    """N `lightrag serve` replicas and an nginx in front."""

    def __init__(self, n, env, work):
        self.procs, self.ports = [], []
        for r in range(n):
            port = free_port()
            d = os.path.join(work, f"replica{r}")
            os.makedirs(d, exist_ok=True)
            e = dict(os.environ, HOST="127.0.0.1", PORT=str(port), RUST_LOG="warn",
                     INPUT_DIR=os.path.join(d, "inputs"), **env)
            p = subprocess.Popen([f"{BIN}/lightrag", "--working-dir", os.path.join(d, "rag"), "serve"],
                                 env=e, stdout=subprocess.PIPE, stderr=open(os.path.join(d, "log"), "w"),
                                 text=True)
            line = p.stdout.readline()
            assert line.startswith("listening on"), f"replica {r}: {line}"
            self.procs.append(p)
            self.ports.append(port)
        self.lb = free_port()
        sh(f"{ROOT}/scripts/nginx.sh", "start", str(self.lb), *[f"127.0.0.1:{p}" for p in self.ports])
        self.url = f"http://127.0.0.1:{self.lb}"

    def server_pids(self):
        return [p.pid for p in self.procs] + pids_named("postgres") + pids_named("nginx")

    def cpu(self):
        """CPU seconds so far of the replicas, PostgreSQL and nginx."""
        return {"replicas": cpu_seconds([p.pid for p in self.procs]),
                "postgres": cpu_seconds(pids_named("postgres")),
                "nginx": cpu_seconds(pids_named("nginx"))}


    def stop(self):
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            p.wait(timeout=60)
        subprocess.run([f"{ROOT}/scripts/nginx.sh", "stop", str(self.lb)], capture_output=True)


def cpu_split(before, after, n):
    """CPU milliseconds per unit of work, by process kind."""
    return {k: round(1000 * (after[k] - before[k]) / n, 2) for k in before}


def bench_queries(work):
    rows = []
    ws = f"bench_q_{int(time.time())}"
    for n in (1, 2, 3):
        env = dict(pg_env(ws), EMBEDDING_BINDING="hashing", EMBEDDING_DIM="384", LLM_BINDING="none",
                   ENABLE_QUERY_CACHE="false", PIPELINE_POLL_INTERVAL="1")
        c = Cluster(n, env, os.path.join(work, f"q{n}"))
        try:
            before, split0 = cpu_seconds(c.server_pids()), c.cpu()
            t = time.time()
            out = subprocess.run([f"{BIN}/lightrag", "bench", "--component", "e2e", "--url", c.url,
                                  "--docs", "100", "--doc-tokens", "400", "--queries", str(QUERIES),
                                  "--concurrency", str(CONCURRENCY), "--json"],
                                 capture_output=True, text=True)
            wall = time.time() - t
            cpu = cpu_seconds(c.server_pids()) - before
            split1 = c.cpu()
            assert out.returncode == 0, out.stderr + out.stdout
            result = json.loads(out.stdout[out.stdout.index("{"):])
            phases = {p["phase"]: p for p in result["phases"]}
            requests = sum(p["requests"] for p in result["phases"])
            d = phases["distinct context-only"]
            rows.append({"replicas": n, "distinct_per_s": d["per_second"],
                         "distinct_p50_ms": d["latency"]["p50_ms"], "distinct_p99_ms": d["latency"]["p99_ms"],
                         "cached_per_s": phases["repeated (cache)"]["per_second"],
                         "requests": requests, "server_cpu_s": round(cpu, 1),
                         "cpu_ms_per_request": round(1000 * cpu / requests, 2),
                         "cpu_ms_per_request_by_process": cpu_split(split0, split1, requests),
                         "wall_s": round(wall, 1)})
            print(json.dumps(rows[-1]), flush=True)
        finally:
            c.stop()
    return rows


# HUB=1 (default): every document also names one shared entity, whose lock every merge takes;
# HUB=0: documents share no entity.
HUB = os.environ.get("HUB", "1") == "1"


def insert_script(work):
    rules = [{"match": "may be missing from your answer", "reply": "<|COMPLETE|>"}]
    for i in range(DOCS):
        board = "Survey Board" if HUB else f"Survey Team {i:04d}"
        rules.append({"match": f"Survey {i:04d}:", "reply": "\n".join([
            f"entity<|#|>Station {i:04d}<|#|>Location<|#|>Station {i:04d} was surveyed in survey {i:04d}.",
            f"entity<|#|>{board}<|#|>Organization<|#|>The {board} ran survey {i:04d}.",
            f"relation<|#|>{board}<|#|>Station {i:04d}<|#|>survey<|#|>The {board} surveyed Station {i:04d}.",
            "<|COMPLETE|>"])})
    path = os.path.join(work, "script.json")
    json.dump({"rules": rules}, open(path, "w"))
    return path


def bench_inserts(work):
    script = insert_script(work)
    rows = []
    for n in [int(x) for x in os.environ.get("INSERT_REPLICAS", "1,3").split(",")]:
        llm_port = free_port()
        llm = subprocess.Popen([f"{BIN}/lightrag-test-llm", "--port", str(llm_port), "--script", script,
                                "--latency-ms", str(LATENCY_MS), "--chat-parallel", str(CHAT_PARALLEL)],
                               stdout=subprocess.PIPE, text=True)
        llm.stdout.readline()
        ws = f"bench_i{n}_{int(time.time())}"
        env = dict(pg_env(ws), EMBEDDING_BINDING="hashing", EMBEDDING_DIM="384", LLM_BINDING="openai",
                   LLM_MODEL="test-llm", LLM_BINDING_HOST=f"http://127.0.0.1:{llm_port}/v1",
                   MAX_GLEANING="0", MAX_PARALLEL_INSERT=os.environ.get("PARALLEL", "4"), MAX_ASYNC="4",
                   FORCE_LLM_SUMMARY_ON_MERGE="100000", SUMMARY_MAX_TOKENS="100000000",
                   MAX_SOURCE_IDS_PER_ENTITY="100000", PIPELINE_POLL_INTERVAL="0.5")
        c = Cluster(n, env, os.path.join(work, f"i{n}"))
        try:
            before, split0 = cpu_seconds(c.server_pids()), c.cpu()
            t = time.time()
            for b in range(0, DOCS, 50):
                ids = range(b, min(b + 50, DOCS))
                post(f"{c.url}/documents/texts", {
                    "texts": [f"Survey {i:04d}: the Survey Board visited Station {i:04d} in spring." for i in ids],
                    "file_sources": [f"survey-{i:04d}.txt" for i in ids]})
            while True:
                counts = get(f"{c.url}/documents/status_counts")["status_counts"]
                if counts.get("processed", 0) + counts.get("failed", 0) >= DOCS:
                    break
                time.sleep(0.2)
            wall = time.time() - t
            cpu = cpu_seconds(c.server_pids()) - before
            split1 = c.cpu()
            stats = get(f"http://127.0.0.1:{llm_port}/test/stats")
            rows.append({"replicas": n, "hub": HUB, "max_parallel_insert": int(os.environ.get("PARALLEL", "4")),
                         "documents": DOCS, "failed": counts.get("failed", 0),
                         "seconds": round(wall, 1), "docs_per_s": round(DOCS / wall, 1),
                         "model_bound_docs_per_s": round(CHAT_PARALLEL * 1000 / LATENCY_MS, 1),
                         "llm_calls": stats["chat_calls"], "llm_max_in_flight": stats["max_in_flight"],
                         "server_cpu_s": round(cpu, 1), "cpu_ms_per_doc": round(1000 * cpu / DOCS, 1),
                         "cpu_ms_per_doc_by_process": cpu_split(split0, split1, DOCS)})
            print(json.dumps(rows[-1]), flush=True)
        finally:
            c.stop()
            llm.terminate()
            llm.wait()
    return rows


def main():
    what = sys.argv[1] if len(sys.argv) > 1 else "all"
    sh(f"{ROOT}/scripts/postgres.sh", "start")
    sh(f"{ROOT}/scripts/nginx.sh", "install")
    out = {"commit": sh("git", "-C", ROOT, "rev-parse", "--short", "HEAD"),
           "cpus": os.cpu_count(), "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    with tempfile.TemporaryDirectory() as work:
        if what in ("query", "all"):
            out["query"] = bench_queries(work)
        if what in ("insert", "all"):
            out["insert"] = bench_inserts(work)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
