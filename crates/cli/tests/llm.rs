//! The binary with an LLM: extraction, keywords and answers through an OpenAI-compatible
//! server (the in-repo protocol-level test server with scripted replies), the LLM cache, and a
//! model that is down.

use std::path::Path;
use std::process::{Command, Output};

use lightrag_testserver::{serve, Script, ServerConfig};

mod common;
use common::ok;

const FERRY: &str = "The Orin ferry is run by Orin Lines and crosses Lake Orin twice a day.";
const TRUST: &str = "The Orin Bird Trust counts herons on Lake Orin every spring.";

fn script() -> Script {
    let rules = serde_json::json!({"rules": [
        // Answers and keywords first: an answer prompt quotes the chunks the extraction rules match.
        {"match": "You pick search keywords", "reply": "{\"high_level_keywords\": [\"ferry service\"], \"low_level_keywords\": [\"Orin Lines\", \"Lake Orin\"]}"},
        {"match": "You answer questions using only", "reply": "Orin Lines runs the ferry across Lake Orin [1].\n\n### References\n\n* [1] ferry.txt"},
        {"match": "may be missing from your answer", "reply": "<|COMPLETE|>"},
        {"match": "Orin ferry", "reply": "entity<|#|>Orin Lines<|#|>Organization<|#|>Orin Lines runs the Orin ferry.\nentity<|#|>Lake Orin<|#|>Location<|#|>Lake Orin is crossed by the Orin ferry.\nrelation<|#|>Orin Lines<|#|>Lake Orin<|#|>ferry, transport<|#|>Orin Lines runs a ferry across Lake Orin.\n<|COMPLETE|>"},
        {"match": "Orin Bird Trust counts", "reply": "entity<|#|>Orin Bird Trust<|#|>Organization<|#|>The Orin Bird Trust counts herons.\nentity<|#|>Lake Orin<|#|>Location<|#|>Herons live at Lake Orin.\nrelation<|#|>Orin Bird Trust<|#|>Lake Orin<|#|>survey, birds<|#|>The Orin Bird Trust counts herons on Lake Orin.\n<|COMPLETE|>"}
    ]});
    Script::from_json(&rules.to_string()).expect("script")
}

fn run(dir: &Path, host: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lightrag"))
        .arg("--working-dir")
        .arg(dir)
        .args(args)
        .current_dir(std::env::temp_dir())
        .env("LLM_BINDING", "openai")
        .env("LLM_MODEL", "test-llm")
        .env("LLM_BINDING_HOST", host)
        .env("LLM_MAX_RETRIES", "1")
        .env("EMBEDDING_BINDING", "hashing")
        .output()
        .expect("run lightrag")
}

/// The test server's count of chat requests (a plain HTTP/1.0 GET of /test/stats).
async fn chat_calls(addr: std::net::SocketAddr) -> u64 {
    let body = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(addr).expect("connect");
        s.write_all(b"GET /test/stats HTTP/1.0\r\nHost: localhost\r\n\r\n")
            .unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        text.split("\r\n\r\n")
            .nth(1)
            .unwrap_or_default()
            .to_string()
    })
    .await
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&body).expect("stats json");
    v["chat_calls"].as_u64().expect("chat_calls")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llm_extraction_keywords_answers_and_cache() {
    let (addr, _server) = serve(ServerConfig {
        script: script(),
        ..Default::default()
    })
    .await
    .unwrap();
    let host = format!("http://{addr}/v1");
    let docs = tempfile::tempdir().unwrap();
    std::fs::write(docs.path().join("ferry.txt"), FERRY).unwrap();
    std::fs::write(docs.path().join("trust.txt"), TRUST).unwrap();
    let w = tempfile::tempdir().unwrap();
    let (wd, dd, h) = (
        w.path().to_path_buf(),
        docs.path().to_path_buf(),
        host.clone(),
    );
    let blocking = move |args: Vec<String>| {
        let (wd, h) = (wd.clone(), h.clone());
        tokio::task::spawn_blocking(move || {
            let a: Vec<&str> = args.iter().map(String::as_str).collect();
            run(&wd, &h, &a)
        })
    };
    let docs_arg = dd.to_string_lossy().into_owned();

    let out = ok(&blocking(vec!["insert".into(), docs_arg.clone()])
        .await
        .unwrap());
    assert!(out.contains("processed 2 documents"), "{out}");
    let calls_after_insert = chat_calls(addr).await;
    // Two extractions and two gleaning passes.
    assert_eq!(calls_after_insert, 4);
    let graph = ok(&blocking(vec![
        "graph".into(),
        "export".into(),
        "--format".into(),
        "json".into(),
    ])
    .await
    .unwrap());
    for name in ["Orin Lines", "Lake Orin", "Orin Bird Trust"] {
        assert!(graph.contains(name), "{name} missing from {graph}");
    }
    assert!(graph.contains("\"entity_type\": \"organization\""));

    let answer = ok(&blocking(vec![
        "query".into(),
        "Who runs the ferry on Lake Orin?".into(),
    ])
    .await
    .unwrap());
    assert!(
        answer.contains("Orin Lines runs the ferry across Lake Orin [1]."),
        "{answer}"
    );
    let calls = chat_calls(addr).await;
    assert_eq!(calls, calls_after_insert + 2, "keywords + answer");
    // The same question again is answered from the cache.
    ok(&blocking(vec![
        "query".into(),
        "Who runs the ferry on Lake Orin?".into(),
    ])
    .await
    .unwrap());
    assert_eq!(chat_calls(addr).await, calls);
    // ...unless the cache is skipped.
    ok(&blocking(vec![
        "--no-cache".into(),
        "query".into(),
        "Who runs the ferry on Lake Orin?".into(),
    ])
    .await
    .unwrap());
    assert_eq!(chat_calls(addr).await, calls + 2);
    // A query makes only the calls its mode needs: naive searches with the question itself,
    // and keywords given by the caller skip the keyword call.
    let calls = chat_calls(addr).await;
    for extra in [
        &["--mode", "naive"][..],
        &[
            "--hl-keywords",
            "ferry service",
            "--ll-keywords",
            "Orin Lines",
        ][..],
    ] {
        let mut args = vec![
            "--no-cache".to_string(),
            "query".into(),
            "Who runs the ferry on Lake Orin?".into(),
        ];
        args.extend(extra.iter().map(|a| a.to_string()));
        ok(&blocking(args).await.unwrap());
    }
    assert_eq!(chat_calls(addr).await, calls + 2, "one answer call each");

    // Re-indexing with a warm cache makes no LLM call.
    let before = chat_calls(addr).await;
    ok(&blocking(vec![
        "delete".into(),
        "ferry.txt".into(),
        "trust.txt".into(),
    ])
    .await
    .unwrap());
    let out = ok(&blocking(vec!["insert".into(), docs_arg.clone()])
        .await
        .unwrap());
    assert!(out.contains("2 cached extractions"), "{out}");
    assert_eq!(chat_calls(addr).await, before);
    // Clearing the extraction cache makes the next re-index ask again.
    let out = ok(&blocking(vec![
        "cache".into(),
        "clear".into(),
        "--kind".into(),
        "extract".into(),
    ])
    .await
    .unwrap());
    assert!(out.contains("removed"), "{out}");
    ok(&blocking(vec!["delete".into(), "ferry.txt".into()])
        .await
        .unwrap());
    ok(&blocking(vec!["insert".into(), docs_arg.clone()])
        .await
        .unwrap());
    assert!(chat_calls(addr).await > before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_that_is_down_fails_the_document_and_a_later_run_retries_it() {
    let docs = tempfile::tempdir().unwrap();
    std::fs::write(docs.path().join("ferry.txt"), FERRY).unwrap();
    let w = tempfile::tempdir().unwrap();
    let docs_arg = docs.path().to_string_lossy().into_owned();
    // Nothing listens on port 9 of localhost.
    let (wd, da) = (w.path().to_path_buf(), docs_arg.clone());
    let o =
        tokio::task::spawn_blocking(move || run(&wd, "http://127.0.0.1:9/v1", &["insert", &da]))
            .await
            .unwrap();
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(!o.status.success(), "{out}");
    assert!(
        out.contains("failed: doc-") && out.contains("127.0.0.1:9"),
        "{out}"
    );
    let (wd, da) = (w.path().to_path_buf(), docs_arg.clone());
    let st = tokio::task::spawn_blocking(move || {
        run(&wd, "http://127.0.0.1:9/v1", &["status", "--json"])
    })
    .await
    .unwrap();
    let st: serde_json::Value = serde_json::from_slice(&st.stdout).unwrap();
    assert_eq!(st["status_counts"]["failed"], 1);
    assert!(st["failed"][0]["error_msg"]
        .as_str()
        .unwrap()
        .contains("openai chat failed"));

    let (addr, _server) = serve(ServerConfig {
        script: script(),
        ..Default::default()
    })
    .await
    .unwrap();
    let host = format!("http://{addr}/v1");
    let wd = w.path().to_path_buf();
    let out = tokio::task::spawn_blocking(move || ok(&run(&wd, &host, &["insert", &da])))
        .await
        .unwrap();
    assert!(
        out.contains("1 resumed") && out.contains("processed 1 documents"),
        "{out}"
    );
}
