//! Reranking end to end, through the built binary and a rerank API (the in-repo test server):
//! the reranker reorders the chunks of every mode that uses chunks, MIN_RERANK_SCORE drops the
//! weak ones, `rerank_score` shows in the retrieved data, `--no-rerank` / `enable_rerank: false`
//! make no rerank call, a reranker that is down leaves the query working in retrieval order,
//! and `/health` reports the configuration.

use std::path::Path;
use std::process::{Command, Output, Stdio};

mod common;
use common::{get_json, ok, post_json};

use lightrag_testserver::{serve, Script, ServerConfig};
use serde_json::{json, Value};

const DOCS: [(&str, &str); 3] = [
    (
        "ferry.txt",
        "The Orin ferry is run by Orin Lines and crosses Lake Orin twice a day.",
    ),
    (
        "herons.txt",
        "The Orin Bird Trust counts herons on Lake Orin every spring.",
    ),
    (
        "museum.txt",
        "The Lake Orin museum opens at nine and shows the history of the Orin ferry.",
    ),
];

const QUESTION: &str = "Who counts the herons on Lake Orin?";

fn lightrag(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_lightrag"));
    c.arg("--working-dir")
        .arg(dir)
        .args(args)
        .current_dir(std::env::temp_dir())
        .env("EMBEDDING_BINDING", "hashing")
        .env("LLM_BINDING", "none");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run lightrag")
}

/// Inserts the three documents into `dir`.
fn insert(dir: &Path) {
    let docs = tempfile::tempdir().unwrap();
    for (name, text) in DOCS {
        std::fs::write(docs.path().join(name), text).unwrap();
    }
    let path = docs.path().to_string_lossy().into_owned();
    ok(&lightrag(dir, &[], &["insert", &path]));
}

/// `lightrag query --json` in `mode`: the retrieved chunks.
fn chunks(dir: &Path, env: &[(&str, &str)], mode: &str, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["query", QUESTION, "--json", "--mode", mode];
    args.extend_from_slice(extra);
    let out = ok(&lightrag(dir, env, &args));
    let v: Value = serde_json::from_str(&out).expect("JSON output");
    v["data"]["chunks"].as_array().cloned().unwrap_or_default()
}

fn ids(chunks: &[Value]) -> Vec<String> {
    chunks
        .iter()
        .map(|c| c["chunk_id"].as_str().unwrap_or_default().to_string())
        .collect()
}

async fn stats(base: &str) -> Value {
    reqwest::get(format!("{base}/test/stats"))
        .await
        .expect("stats")
        .json()
        .await
        .expect("JSON")
}

async fn rerank_calls(base: &str) -> u64 {
    stats(base).await["rerank_calls"].as_u64().unwrap_or(0)
}

/// A test server whose rerank routes answer `reply` (`None`: the lexical scorer) or fail with
/// `status`.
async fn rerank_server(rules: Value) -> (String, tokio::task::JoinHandle<()>) {
    let cfg = ServerConfig {
        script: Script::from_json(&rules.to_string()).expect("script"),
        rerank_api_key: Some("rk-test".into()),
        ..ServerConfig::default()
    };
    let (addr, handle) = serve(cfg).await.expect("bind");
    (format!("http://{addr}"), handle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rerank_orders_filters_and_can_be_turned_off() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    insert(dir);
    let plain = chunks(dir, &[], "naive", &[]);
    assert_eq!(plain.len(), 3, "{plain:?}");
    assert!(plain.iter().all(|c| c.get("rerank_score").is_none()));
    let before = ids(&plain);

    // The reranker puts the last candidate first and scores the first one low.
    let reply = json!({"results": [
        {"index": 2, "relevance_score": 0.9},
        {"index": 1, "relevance_score": 0.6},
        {"index": 0, "relevance_score": 0.05}
    ]});
    let (base, _srv) = rerank_server(json!([
        {"kind": "rerank", "match": "herons", "reply": reply.to_string()}
    ]))
    .await;
    let host = format!("{base}/v2/rerank");
    let env = [
        ("RERANK_BINDING", "cohere"),
        ("RERANK_BINDING_HOST", host.as_str()),
        ("RERANK_BINDING_API_KEY", "rk-test"),
    ];
    let reranked = chunks(dir, &env, "naive", &[]);
    assert_eq!(
        ids(&reranked),
        [before[2].clone(), before[1].clone(), before[0].clone()],
        "the reranker's order"
    );
    let scores: Vec<f64> = reranked
        .iter()
        .map(|c| c["rerank_score"].as_f64().expect("rerank_score"))
        .collect();
    assert_eq!(scores.len(), 3);
    assert!((scores[0] - 0.9).abs() < 1e-6 && (scores[2] - 0.05).abs() < 1e-6);
    assert_eq!(rerank_calls(&base).await, 1);
    let sent = reqwest::get(format!("{base}/test/requests"))
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let body = &sent[0]["body"];
    assert_eq!(body["query"], QUESTION);
    assert_eq!(body["top_n"], 20, "top_n is chunk_top_k");
    assert_eq!(body["documents"].as_array().unwrap().len(), 3);

    // MIN_RERANK_SCORE drops what scored below it.
    let strict = [env.as_slice(), &[("MIN_RERANK_SCORE", "0.1")]].concat();
    let kept = chunks(dir, &strict, "naive", &[]);
    assert_eq!(ids(&kept), [before[2].clone(), before[1].clone()]);

    // --no-rerank makes no call and keeps the retrieval order.
    let calls = rerank_calls(&base).await;
    let off = chunks(dir, &env, "naive", &["--no-rerank"]);
    assert_eq!(ids(&off), before);
    assert_eq!(rerank_calls(&base).await, calls);
    // RERANK_BY_DEFAULT=false does the same for every query.
    let off_by_default = [env.as_slice(), &[("RERANK_BY_DEFAULT", "false")]].concat();
    assert_eq!(ids(&chunks(dir, &off_by_default, "naive", &[])), before);
    assert_eq!(rerank_calls(&base).await, calls);

    // Every mode that uses chunks reranks them.
    for mode in ["local", "global", "hybrid", "mix"] {
        let n = rerank_calls(&base).await;
        let got = chunks(dir, &env, mode, &[]);
        assert!(!got.is_empty(), "{mode}");
        assert_eq!(
            rerank_calls(&base).await,
            n + 1,
            "{mode} made one rerank call"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_reranker_leaves_the_retrieval_order() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    insert(dir);
    let before = ids(&chunks(dir, &[], "naive", &[]));
    let (base, _srv) = rerank_server(json!([{"kind": "rerank", "status": 503}])).await;
    for (binding, path) in [
        ("cohere", "/v2/rerank"),
        ("jina", "/v1/rerank"),
        ("aliyun", "/api/v1/services/rerank/text-rerank/text-rerank"),
    ] {
        let host = format!("{base}{path}");
        let env = [
            ("RERANK_BINDING", binding),
            ("RERANK_BINDING_HOST", host.as_str()),
            ("RERANK_BINDING_API_KEY", "rk-test"),
            ("MIN_RERANK_SCORE", "0.5"),
        ];
        let got = chunks(dir, &env, "naive", &[]);
        assert_eq!(ids(&got), before, "{binding}");
        assert!(got.iter().all(|c| c.get("rerank_score").is_none()));
        // A text answer works too.
        let out = ok(&lightrag(
            dir,
            &env,
            &["query", QUESTION, "--mode", "naive"],
        ));
        assert!(out.contains("herons"), "{out}");
    }
    // Three attempts per query, as LightRAG makes.
    assert_eq!(rerank_calls(&base).await, 3 * 2 * 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_takes_enable_rerank_and_reports_the_reranker() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (base, _srv) = rerank_server(json!([])).await;
    let dir = tempfile::tempdir().unwrap();
    let host = format!("{base}/v1/rerank");
    let mut cmd = common::serve_command(dir.path(), None);
    cmd.current_dir(std::env::temp_dir())
        .stderr(Stdio::inherit())
        .env("EMBEDDING_BINDING", "hashing")
        .env("LLM_BINDING", "none")
        .env("RERANK_BINDING", "jina")
        .env("RERANK_BINDING_HOST", &host)
        .env("RERANK_BINDING_API_KEY", "rk-test")
        .env("MIN_RERANK_SCORE", "0.2");
    let mut child = cmd.spawn().expect("start lightrag serve");
    let url = common::listening_url(&mut child).expect("listening");
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _child = Kill(child);
    let c = reqwest::Client::new();

    let health: Value = get_json(&c, &format!("{url}/health")).await;
    let conf = &health["configuration"];
    assert_eq!(conf["enable_rerank"], true, "{health}");
    assert_eq!(conf["rerank_binding"], "jina");
    assert_eq!(conf["rerank_model"], "jina-reranker-v2-base-multilingual");
    assert_eq!(conf["rerank_binding_host"], host);
    assert_eq!(conf["rerank_timeout"], 30.0);
    assert!((conf["min_rerank_score"].as_f64().unwrap() - 0.2).abs() < 1e-6);

    for (name, text) in DOCS {
        let (status, r) = post_json(
            &c,
            &format!("{url}/documents/text"),
            json!({"text": text, "file_source": name}),
        )
        .await;
        assert_eq!(status, 200, "{r}");
    }
    // Wait until the three documents are processed.
    for _ in 0..400 {
        let v: Value = get_json(&c, &format!("{url}/documents/pipeline_status")).await;
        let counts: Value = get_json(&c, &format!("{url}/documents/status_counts")).await;
        if v["busy"] == json!(false) && counts["status_counts"]["processed"] == json!(3) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let data = |enable: Option<bool>| {
        let mut body = json!({"query": QUESTION, "mode": "naive"});
        if let Some(e) = enable {
            body["enable_rerank"] = json!(e);
        }
        let (c, url) = (c.clone(), url.clone());
        async move { post_json(&c, &format!("{url}/query/data"), body).await.1 }
    };
    let on = data(None).await;
    let chunks = on["data"]["chunks"].as_array().cloned().unwrap_or_default();
    assert!(!chunks.is_empty(), "{on}");
    let scores: Vec<f64> = chunks
        .iter()
        .map(|c| c["rerank_score"].as_f64().expect("rerank_score"))
        .collect();
    assert!(
        scores.windows(2).all(|w| w[0] >= w[1]),
        "best first: {scores:?}"
    );
    assert!(chunks[0]["content"].as_str().unwrap().contains("herons"));
    assert_eq!(
        chunks.len(),
        1,
        "the other chunks share only common words with the question: {on}"
    );
    assert_eq!(rerank_calls(&base).await, 1);
    let off = data(Some(false)).await;
    let off_chunks = off["data"]["chunks"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(off_chunks.len(), 3);
    assert!(off_chunks.iter().all(|c| c.get("rerank_score").is_none()));
    assert_eq!(
        rerank_calls(&base).await,
        1,
        "enable_rerank=false makes no call"
    );
    let (_, answer) = post_json(
        &c,
        &format!("{url}/query"),
        json!({"query": QUESTION, "mode": "naive", "enable_rerank": true}),
    )
    .await;
    assert!(
        answer["response"].as_str().unwrap().contains("herons"),
        "{answer}"
    );
}
