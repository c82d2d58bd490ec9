//! Three `lightrag serve` replicas on different ports behind nginx (the repo's configuration,
//! `scripts/nginx.sh`), one PostgreSQL, the scripted test LLM: 200 documents inserted through
//! nginx while queries run through it, one replica SIGKILLed mid-run and started again later.
//! Every document ends processed; only the documents in flight on the killed replica are
//! extracted twice (counted at the test LLM: each replica has a test LLM of its own); the graph
//! equals the one a single embedded process builds from the same documents; and every replica
//! gives the same context.
//!
//! Needs LIGHTRAG_TEST_PG_URL and nginx (scripts/test.sh installs it); with
//! LIGHTRAG_TEST_SERVICES=1 a missing one fails the test.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use lightrag_testserver::{serve, Script, ServerConfig};
use serde_json::{json, Value};

mod common;
use common::{get_json as get, ok, post_json as post};

const DOCS: usize = 200;
const KILLED: usize = 1;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn services() -> bool {
    std::env::var("LIGHTRAG_TEST_SERVICES").as_deref() == Ok("1")
}

fn pg_url() -> Option<String> {
    let url = std::env::var("LIGHTRAG_TEST_PG_URL")
        .ok()
        .filter(|u| !u.is_empty());
    if url.is_none() {
        assert!(
            !services(),
            "LIGHTRAG_TEST_SERVICES=1 but no LIGHTRAG_TEST_PG_URL"
        );
        eprintln!("skipped: no PostgreSQL (LIGHTRAG_TEST_PG_URL)");
    }
    url
}

fn nginx_available() -> bool {
    let found = Command::new(repo().join("scripts/nginx.sh"))
        .arg("path")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            !services(),
            "LIGHTRAG_TEST_SERVICES=1 but nginx is not installed"
        );
        eprintln!("skipped: no nginx (scripts/nginx.sh install)");
    }
    found
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The text of document `i`: one chunk naming the hub, a node of its own and, for every tenth,
/// the harbour.
fn text(i: usize) -> String {
    let place = if i.is_multiple_of(10) {
        " at the Harbour"
    } else {
        ""
    };
    format!("Report {i:03}: the Hub met Node {i:03}{place} during the spring survey.")
}

fn key(i: usize) -> String {
    format!("r{i:03}.txt")
}

/// The test LLM's script: keywords and answers first (their prompts may quote chunks), then
/// one extraction reply per document, matched by its `Report NNN:` marker.
fn script() -> Script {
    let mut rules = vec![
        json!({"match": "You pick search keywords", "reply": "{\"high_level_keywords\": [\"survey\"], \"low_level_keywords\": [\"Hub\", \"Harbour\"]}"}),
        json!({"match": "You answer questions using only", "reply": "The hub met many nodes."}),
    ];
    for i in 0..DOCS {
        let mut reply = format!(
            "entity<|#|>Hub<|#|>Organization<|#|>The Hub met Node {i:03} in report {i:03}.\n\
             entity<|#|>Node {i:03}<|#|>Location<|#|>Node {i:03} was met by the Hub.\n\
             relation<|#|>Hub<|#|>Node {i:03}<|#|>survey<|#|>The Hub met Node {i:03}.\n"
        );
        if i.is_multiple_of(10) {
            reply.push_str(&format!(
                "entity<|#|>Harbour<|#|>Location<|#|>The Harbour hosted meeting {i:03}.\n\
                 relation<|#|>Hub<|#|>Harbour<|#|>meeting<|#|>The Hub met at the Harbour in report {i:03}.\n"
            ));
        }
        reply.push_str("<|COMPLETE|>");
        rules.push(json!({"match": format!("Report {i:03}:"), "reply": reply}));
    }
    Script::from_json(&json!({ "rules": rules }).to_string()).expect("script")
}

/// The rule index of document `i`'s extraction in [`script`].
fn rule_of(i: usize) -> usize {
    i + 2
}

/// Settings every process of the test shares (the embedded reference too).
fn common_env(c: &mut Command, llm: SocketAddr) {
    c.env("EMBEDDING_BINDING", "hashing")
        .env("EMBEDDING_DIM", "64")
        .env("LLM_BINDING", "openai")
        .env("LLM_MODEL", "test-llm")
        .env("LLM_BINDING_HOST", format!("http://{llm}/v1"))
        .env("LLM_MAX_RETRIES", "1")
        .env("MAX_GLEANING", "0")
        // Keep every description fragment: no summary calls, and graphs built in different
        // orders compare fragment by fragment.
        .env("FORCE_LLM_SUMMARY_ON_MERGE", "100000")
        .env("SUMMARY_MAX_TOKENS", "100000000")
        .env("MAX_SOURCE_IDS_PER_ENTITY", "1000")
        .env("MAX_FILE_PATHS", "1000")
        .env("MAX_PARALLEL_INSERT", "3")
        .env("MAX_ASYNC", "4")
        .env("RUST_LOG", "warn");
}

struct Replica {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Replica {
    fn start(dir: &Path, port: u16, url: &str, ws: &str, llm: SocketAddr) -> Replica {
        Self::start_with(dir, port, url, ws, llm, &[])
    }

    /// [`Replica::start`] with settings of the test's own (they override the defaults).
    fn start_with(
        dir: &Path,
        port: u16,
        url: &str,
        ws: &str,
        llm: SocketAddr,
        extra: &[(&str, &str)],
    ) -> Replica {
        std::fs::create_dir_all(dir).unwrap();
        let mut c = common::serve_command(dir, None);
        common_env(&mut c, llm);
        common::on_postgres(&mut c, url, ws);
        c.env("PORT", port.to_string())
            // A killed replica's documents go to the others 3 s after its last heartbeat.
            .env("DOCUMENT_LEASE_TTL", "3")
            .env("PIPELINE_POLL_INTERVAL", "0.3")
            .env("ENABLE_QUERY_CACHE", "true");
        for (k, v) in extra {
            c.env(k, v);
        }
        let mut child = c.spawn().expect("start lightrag serve");
        let shown = common::listening_url(&mut child);
        assert!(shown.is_ok(), "replica on {port} did not start: {shown:?}");
        Replica {
            child,
            port,
            dir: dir.to_path_buf(),
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn kill(&mut self) {
        let _ = self.child.kill(); // SIGKILL
        let _ = self.child.wait();
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `n` replicas on free ports, replica `r` calling the test LLM `llm(r)`; their ports too.
fn start_replicas(
    root: &Path,
    n: usize,
    url: &str,
    ws: &str,
    llm: impl Fn(usize) -> SocketAddr,
    extra: &[(&str, &str)],
) -> (Vec<u16>, Vec<Replica>) {
    let ports: Vec<u16> = (0..n).map(|_| free_port()).collect();
    let replicas = (0..n)
        .map(|r| {
            let dir = root.join(format!("replica{r}"));
            Replica::start_with(&dir, ports[r], url, ws, llm(r), extra)
        })
        .collect();
    (ports, replicas)
}

/// An nginx of the test's own in front of the replicas.
struct Nginx {
    port: u16,
}

impl Nginx {
    fn start(port: u16, upstreams: &[u16]) -> Nginx {
        let mut c = Command::new(repo().join("scripts/nginx.sh"));
        c.arg("start").arg(port.to_string());
        for p in upstreams {
            c.arg(format!("127.0.0.1:{p}"));
        }
        let out = c.output().expect("scripts/nginx.sh");
        assert!(
            out.status.success(),
            "nginx did not start: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        Nginx { port }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = Command::new(repo().join("scripts/nginx.sh"))
            .arg("stop")
            .arg(self.port.to_string())
            .output();
    }
}

async fn rule_hits(client: &reqwest::Client, llm: SocketAddr) -> Vec<u64> {
    get(client, &format!("http://{llm}/test/stats")).await["rule_hits"]
        .as_array()
        .expect("rule_hits")
        .iter()
        .map(|v| v.as_u64().unwrap_or(0))
        .collect()
}

async fn processed(client: &reqwest::Client, base: &str) -> u64 {
    let v = get(client, &format!("{base}/documents/status_counts")).await;
    v["status_counts"]["processed"].as_u64().unwrap_or(0)
}

/// A PostgreSQL workspace of this test run's own.
fn unique_workspace(prefix: &str) -> String {
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis())
    )
}

/// `n` test LLMs with [`script`], each answering after `latency_ms`.
async fn test_llms(n: usize, latency_ms: u64) -> Vec<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let mut llms = Vec::new();
    for _ in 0..n {
        let server = serve(ServerConfig {
            script: script(),
            latency: Duration::from_millis(latency_ms),
            ..Default::default()
        })
        .await
        .unwrap();
        llms.push(server);
    }
    llms
}

/// Documents `ids` (text and key as [`text`] and [`key`] make them) inserted through `base`.
async fn insert(client: &reqwest::Client, base: &str, ids: impl Iterator<Item = usize>) {
    let ids: Vec<usize> = ids.collect();
    let (status, body) = post(
        client,
        &format!("{base}/documents/texts"),
        json!({
            "texts": ids.iter().map(|i| text(*i)).collect::<Vec<_>>(),
            "file_sources": ids.iter().map(|i| key(*i)).collect::<Vec<_>>(),
        }),
    )
    .await;
    assert_eq!(status, 200, "insert {ids:?}: {body}");
}

/// The `/health` of the replica at `base` once it holds a document lease (within 20 s).
async fn leases_held_by(client: &reqwest::Client, base: &str) -> Value {
    let started = Instant::now();
    loop {
        let h = get(client, &format!("{base}/health")).await;
        if h["replica"]["leases_held"]
            .as_array()
            .is_some_and(|l| !l.is_empty())
        {
            return h;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{base} never worked: {h}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The sum of a counter family's samples in the `/metrics` of the replica at `base`.
async fn metric_sum(client: &reqwest::Client, base: &str, family: &str) -> f64 {
    let text = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .filter(|l| l.starts_with(family))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

type GraphView = (
    BTreeMap<String, (String, BTreeSet<String>, BTreeSet<String>)>,
    BTreeMap<(String, String), (String, BTreeSet<String>, BTreeSet<String>, String)>,
);

fn parts(v: &Value) -> BTreeSet<String> {
    v.as_str()
        .unwrap_or("")
        .split("<SEP>")
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// A graph export as sets: what builds in different orders must agree on.
fn graph_view(export: &str) -> GraphView {
    let v: Value = serde_json::from_str(export).expect("graph JSON");
    let nodes = v["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["entity_id"].as_str().unwrap().to_string(),
                (
                    n["entity_type"].as_str().unwrap_or("").to_string(),
                    parts(&n["description"]),
                    parts(&n["source_id"]),
                ),
            )
        })
        .collect();
    let edges = v["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                (
                    e["src_id"].as_str().unwrap().to_string(),
                    e["tgt_id"].as_str().unwrap().to_string(),
                ),
                (
                    format!("{}", e["weight"]),
                    parts(&e["description"]),
                    parts(&e["source_id"]),
                    e["keywords"].as_str().unwrap_or("").to_string(),
                ),
            )
        })
        .collect();
    (nodes, edges)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_replicas_behind_nginx_lose_nothing_when_one_is_killed() {
    let Some(url) = pg_url() else { return };
    if !nginx_available() {
        return;
    }
    let ws = unique_workspace("replicas");
    let tmp = tempfile::tempdir().unwrap();
    // One test LLM per replica (so each one's extractions are counted apart) and one for the
    // embedded reference. Each answers in 150 ms, so documents are in flight when one dies.
    let llms = test_llms(4, 150).await;
    let (ports, mut replicas) = start_replicas(tmp.path(), 3, &url, &ws, |r| llms[r].0, &[]);
    let lb_port = free_port();
    let _nginx = Nginx::start(lb_port, &ports);
    let lb = format!("http://127.0.0.1:{lb_port}");
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();

    // Queries run through nginx the whole time.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let queries = {
        let (client, lb, stop) = (client.clone(), lb.clone(), stop.clone());
        tokio::spawn(async move {
            let (mut ok, mut failed) = (0, Vec::new());
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let (status, body) = post(
                    &client,
                    &format!("{lb}/query"),
                    json!({"query": "Whom did the Hub meet?", "mode": "local", "only_need_context": true}),
                )
                .await;
                if status == 200 {
                    ok += 1;
                } else {
                    failed.push((status, body));
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            (ok, failed)
        })
    };

    // 200 documents through nginx, in batches of 20.
    let started = Instant::now();
    for batch in 0..DOCS / 20 {
        insert(&client, &lb, batch * 20..batch * 20 + 20).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Kill one replica while it works on documents: once 40 are processed and its test LLM
    // is answering it.
    let killed_llm = llms[KILLED].0;
    loop {
        let busy = get(&client, &format!("http://{killed_llm}/test/stats")).await["in_flight"]
            .as_u64()
            .unwrap_or(0);
        let done = processed(&client, &lb).await;
        if busy > 0 && done >= 40 {
            break;
        }
        assert!(
            done < DOCS as u64,
            "every document was processed before the kill"
        );
        assert!(started.elapsed() < Duration::from_secs(120), "no progress");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    replicas[KILLED].kill();
    let killed_at = processed(&client, &lb).await;

    // Start it again once the others have moved on.
    loop {
        if processed(&client, &lb).await >= killed_at + 40
            || processed(&client, &lb).await >= DOCS as u64
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "no progress after the kill"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let dir = replicas[KILLED].dir.clone();
    replicas[KILLED] = Replica::start(&dir, ports[KILLED], &url, &ws, killed_llm);

    // Every document ends processed.
    loop {
        let counts = get(&client, &format!("{lb}/documents/status_counts")).await;
        let done = counts["status_counts"]["processed"].as_u64().unwrap_or(0);
        let failed = counts["status_counts"]["failed"].as_u64().unwrap_or(0);
        assert_eq!(failed, 0, "{counts}");
        if done == DOCS as u64 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(240),
            "stuck: {counts}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let (ok_queries, failed_queries) = queries.await.unwrap();
    assert!(ok_queries > 10, "queries ran: {ok_queries}");
    // A query in flight on the replica that died gets nginx's 502; nothing else fails.
    assert!(
        failed_queries.iter().all(|(s, _)| *s == 502) && failed_queries.len() <= 3,
        "{failed_queries:?}"
    );

    // Extractions, counted at the test LLMs: each document once, except the ones in flight on
    // the killed replica (at most MAX_PARALLEL_INSERT documents of one chunk), twice.
    let mut hits = vec![0u64; DOCS];
    let per_replica: Vec<Vec<u64>> = {
        let mut v = Vec::new();
        for (addr, _) in &llms[..3] {
            v.push(rule_hits(&client, *addr).await);
        }
        v
    };
    for (i, h) in hits.iter_mut().enumerate() {
        *h = per_replica.iter().map(|r| r[rule_of(i)]).sum();
    }
    let twice: Vec<usize> = (0..DOCS).filter(|i| hits[*i] > 1).collect();
    assert!(hits.iter().all(|h| *h >= 1 && *h <= 2), "{hits:?}");
    assert!(twice.len() <= 3, "re-extracted: {twice:?}");
    for i in &twice {
        assert!(
            per_replica[KILLED][rule_of(*i)] >= 1,
            "document {i} was extracted twice, and not because the killed replica had it"
        );
    }
    let mut took_over = 0.0;
    for r in &replicas {
        took_over += metric_sum(
            &client,
            &r.url(),
            "lightrag_document_leases_taken_over_total",
        )
        .await;
    }
    assert!(
        took_over >= 1.0,
        "the killed replica's documents were taken over"
    );
    eprintln!(
        "killed after {killed_at} documents; re-extracted {twice:?}; leases taken over: \
         {took_over}; queries: {ok_queries} answered, {} failed; all processed after {:.1}s",
        failed_queries.len(),
        started.elapsed().as_secs_f64()
    );

    // The same graph as one embedded process builds from the same documents.
    let docs = tmp.path().join("docs");
    std::fs::create_dir_all(&docs).unwrap();
    for i in 0..DOCS {
        std::fs::write(docs.join(key(i)), text(i)).unwrap();
    }
    let reference = tmp.path().join("reference");
    let embedded = |args: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_lightrag"));
        c.arg("--working-dir").arg(&reference).args(args);
        common_env(&mut c, llms[3].0);
        ok(&c.output().expect("lightrag"))
    };
    embedded(&["insert", docs.to_str().unwrap()]);
    let shared_graph = {
        let mut c = Command::new(env!("CARGO_BIN_EXE_lightrag"));
        c.arg("--working-dir")
            .arg(tmp.path().join("export"))
            .args(["graph", "export", "--format", "json"]);
        common_env(&mut c, llms[3].0);
        common::on_postgres(&mut c, &url, &ws);
        ok(&c.output().expect("lightrag"))
    };
    let (shared_nodes, shared_edges) = graph_view(&shared_graph);
    let (single_nodes, single_edges) =
        graph_view(&embedded(&["graph", "export", "--format", "json"]));
    assert_eq!(shared_nodes.len(), DOCS + 2);
    assert_eq!(shared_nodes, single_nodes);
    assert_eq!(shared_edges, single_edges);

    // Every replica gives the same context.
    for q in ["Whom did the Hub meet?", "What happened at the Harbour?"] {
        for mode in ["local", "global", "hybrid", "naive", "mix"] {
            let mut contexts = Vec::new();
            for r in &replicas {
                let (status, body) = post(
                    &client,
                    &format!("{}/query", r.url()),
                    json!({"query": q, "mode": mode, "only_need_context": true}),
                )
                .await;
                assert_eq!(status, 200, "{body}");
                contexts.push(body["response"].as_str().unwrap_or("").to_string());
            }
            assert!(contexts[0].contains("Hub"), "{mode}: {}", contexts[0]);
            assert!(
                contexts.iter().all(|c| c == &contexts[0]),
                "{mode}: replicas differ"
            );
        }
    }
}

/// What must agree across replicas agrees: while one replica processes documents another
/// inserted, the other's pipeline status says busy and names both, its busy guard refuses a
/// clear, `/health` shows each replica's id and leases, and a cancel asked through one stops
/// the run in both: documents in flight end failed, waiting ones stay pending.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_share_busy_status_and_cancel() {
    let Some(url) = pg_url() else { return };
    let ws = unique_workspace("cancel");
    let tmp = tempfile::tempdir().unwrap();
    // Slow answers: documents stay in flight long enough to look at them.
    let llms = test_llms(2, 1500).await;
    let (_, replicas) = start_replicas(tmp.path(), 2, &url, &ws, |r| llms[r].0, &[]);
    let (a, b) = (replicas[0].url(), replicas[1].url());
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();
    insert(&client, &a, 0..12).await;

    // B picks up documents A's client inserted.
    let started = Instant::now();
    let health_b = leases_held_by(&client, &b).await;
    assert_eq!(health_b["replica"]["shared_storage"], json!(true));
    assert_eq!(health_b["storage"]["reachable"], json!(true));
    let b_id = health_b["replica"]["id"].as_str().unwrap().to_string();
    let a_id = get(&client, &format!("{a}/health")).await["replica"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(a_id, b_id);

    // A's view: busy, and both replicas at work.
    let status_a = get(&client, &format!("{a}/documents/pipeline_status")).await;
    assert_eq!(status_a["busy"], json!(true), "{status_a}");
    let working = status_a["cluster"]["replicas"].as_object().unwrap();
    assert!(working.contains_key(&b_id), "{status_a}");
    // The busy guard holds across replicas.
    let cleared: Value = client
        .delete(format!("{a}/documents"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cleared["status"], json!("busy"), "{cleared}");

    // One cancel, through A, stops both.
    let (status, body) = post(
        &client,
        &format!("{a}/documents/cancel_pipeline"),
        json!({}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], json!("cancellation_requested"), "{body}");
    let counts = loop {
        let s = get(&client, &format!("{a}/documents/pipeline_status")).await;
        let counts =
            get(&client, &format!("{a}/documents/status_counts")).await["status_counts"].clone();
        if s["busy"] == json!(false) && counts["processing"].as_u64().unwrap_or(0) == 0 {
            break counts;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "still busy after the cancel: {s} {counts}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let failed = counts["failed"].as_u64().unwrap_or(0);
    let pending = counts["pending"].as_u64().unwrap_or(0);
    assert!(failed >= 2, "documents in flight end failed: {counts}");
    assert!(pending >= 1, "waiting documents stay pending: {counts}");
    // ... and stay so: no replica resumes them by itself.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let later =
        get(&client, &format!("{b}/documents/status_counts")).await["status_counts"].clone();
    assert_eq!(later["pending"].as_u64().unwrap_or(0), pending, "{later}");
    assert_eq!(later["processing"].as_u64().unwrap_or(0), 0, "{later}");
}

/// The login lockout counts failures across replicas sharing a Redis: failures spent on one
/// replica lock the user out on the other too (each replica here has its own embedded
/// store; only Redis is shared).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_lockout_counts_attempts_across_replicas() {
    let url = match std::env::var("LIGHTRAG_TEST_REDIS_URL") {
        Ok(u) if !u.is_empty() => u,
        _ => {
            assert!(
                !services(),
                "LIGHTRAG_TEST_SERVICES=1 but no LIGHTRAG_TEST_REDIS_URL"
            );
            eprintln!("skipped: no Redis (LIGHTRAG_TEST_REDIS_URL)");
            return;
        }
    };
    let tmp = tempfile::tempdir().unwrap();
    // A user name of this run's own: the counter in Redis is shared by every test run.
    let user = format!("admin{}", std::process::id());
    let start = |name: &str| {
        let dir = tmp.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let mut c = common::serve_command(&dir, None);
        c.env("EMBEDDING_BINDING", "hashing")
            .env("AUTH_ACCOUNTS", format!("{user}:right"))
            .env("TOKEN_SECRET", "a-token-secret-of-at-least-32-chars!")
            .env("LOGIN_MAX_FAILED_ATTEMPTS", "3")
            .env("LOGIN_LOCKOUT_WINDOW_SECONDS", "60")
            .env("REDIS_URL", &url);
        let mut child = c.spawn().unwrap();
        let base = common::listening_url(&mut child).expect("listening");
        (child, base)
    };
    let (mut a, url_a) = start("a");
    let (mut b, url_b) = start("b");
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();
    let login = |base: &str, password: &str| {
        client
            .post(format!("{base}/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("username={user}&password={password}"))
            .send()
    };
    // /health (for a logged-in user) shows the shared Redis answering.
    let token: Value = login(&url_a, "right").await.unwrap().json().await.unwrap();
    let token = token["access_token"].as_str().expect("a token").to_string();
    let health: Value = client
        .get(format!("{url_a}/health"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["redis"]["reachable"], json!(true), "{health}");
    // Two failures on A, one on B: the third of the user's failures anywhere.
    for base in [&url_a, &url_a, &url_b] {
        assert_eq!(login(base, "wrong").await.unwrap().status(), 401);
    }
    for base in [&url_a, &url_b] {
        let r = login(base, "right").await.unwrap();
        assert_eq!(
            r.status(),
            429,
            "{base}: locked out, even with the right password"
        );
        assert!(r.headers().contains_key("retry-after"));
    }
    let _ = a.kill();
    let _ = b.kill();
    let _ = (a.wait(), b.wait());
}

/// A change made through one replica empties every replica's query cache at once, not after
/// QUERY_CACHE_TTL: a question cached on B before a document is added through A is answered
/// from the new knowledge base right after.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_change_through_one_replica_reaches_every_replicas_cache() {
    let Some(url) = pg_url() else { return };
    let ws = unique_workspace("cache");
    let tmp = tempfile::tempdir().unwrap();
    let (llm, _llm_task) = serve(ServerConfig {
        script: script(),
        ..Default::default()
    })
    .await
    .unwrap();
    let (_, replicas) = start_replicas(tmp.path(), 2, &url, &ws, |_| llm, &[]);
    let (a, b) = (replicas[0].url(), replicas[1].url());
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();
    let insert_and_wait = |i: usize, done: u64| {
        let (client, a) = (client.clone(), a.clone());
        async move {
            insert(&client, &a, i..i + 1).await;
            let started = Instant::now();
            while processed(&client, &a).await < done {
                assert!(started.elapsed() < Duration::from_secs(30), "not processed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    let ask = |base: String| {
        let client = client.clone();
        async move {
            let (status, body) = post(
                &client,
                &format!("{base}/query"),
                json!({"query": "Whom did the Hub meet?", "mode": "naive", "only_need_context": true}),
            )
            .await;
            assert_eq!(status, 200, "{body}");
            body["response"].as_str().unwrap_or("").to_string()
        }
    };
    insert_and_wait(0, 1).await;
    let before = ask(b.clone()).await;
    assert!(
        before.contains("Node 000") && !before.contains("Node 001"),
        "{before}"
    );
    assert_eq!(ask(b.clone()).await, before);
    let hits = metric_sum(&client, &b, "lightrag_query_cache_hits_total").await;
    assert!(hits >= 1.0, "the second question came from B's cache");
    insert_and_wait(1, 2).await;
    let after = ask(b.clone()).await;
    assert!(
        after.contains("Node 001"),
        "B's cache followed the change made through A: {after}"
    );
}

/// A replica stopped with SIGTERM (a rolling update) gives its documents up: another replica
/// takes them over at once, not after DOCUMENT_LEASE_TTL (a minute here).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_replica_stopped_with_sigterm_hands_its_documents_over() {
    let Some(url) = pg_url() else { return };
    let ws = unique_workspace("handover");
    let tmp = tempfile::tempdir().unwrap();
    let llms = test_llms(2, 800).await;
    let slow_lease = [("DOCUMENT_LEASE_TTL", "60")];
    let (_, mut replicas) = start_replicas(tmp.path(), 2, &url, &ws, |r| llms[r].0, &slow_lease);
    let (a, b) = (replicas[0].url(), replicas[1].url());
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();
    insert(&client, &a, 0..10).await;
    leases_held_by(&client, &b).await;
    // SIGTERM: B stops its run and gives its leases up as it exits.
    let pid = replicas[1].child.id().to_string();
    let out = Command::new("kill").args(["-TERM", &pid]).output().unwrap();
    assert!(out.status.success());
    let exited = replicas[1].child.wait().unwrap();
    assert!(exited.success(), "B exits cleanly: {exited:?}");
    let stopped = Instant::now();
    loop {
        let counts =
            get(&client, &format!("{a}/documents/status_counts")).await["status_counts"].clone();
        if counts["processed"].as_u64() == Some(10) {
            break;
        }
        assert!(
            stopped.elapsed() < Duration::from_secs(30),
            "B's documents were not taken over before their leases ran out: {counts}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
