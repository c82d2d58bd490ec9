//! /metrics carries seed 000's metric names, counts query-cache hits, and passes
//! `promtool check metrics` (Debian package `prometheus`, installed by scripts/promtool.sh).

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{TestServer, FERRY};
use serde_json::json;

/// The value of a sample line `name{labels} value` (labels matched as a substring).
fn sample(text: &str, name: &str, labels: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.starts_with(name) && l.contains(labels))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_have_the_seed_names_and_pass_promtool() {
    let s = TestServer::start(&[]).await;
    s.insert("", FERRY, "ferry.txt").await;
    let q = json!({"query": "Who runs the Orin ferry?"});
    for _ in 0..3 {
        assert_eq!(s.post("/query", "", q.clone()).await.0, 200);
    }
    assert_eq!(s.post("/query/data", "", q.clone()).await.0, 200);
    assert_eq!(s.get("/no/such/route", "").await.0, 404);
    let resp = s.client.get(s.url("/metrics")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = resp.text().await.unwrap();
    for name in [
        "# TYPE lightrag_query_latency_seconds histogram",
        "# TYPE lightrag_document_processing_seconds histogram",
        "# TYPE lightrag_active_requests gauge",
        "# TYPE lightrag_failed_requests_total counter",
        "lightrag_query_latency_seconds_bucket{",
        "lightrag_document_processing_seconds_count",
    ] {
        assert!(text.contains(name), "{name} missing from:\n{text}");
    }
    // Three identical queries: one miss, two hits.
    assert_eq!(
        sample(&text, "lightrag_query_cache_hits_total", ""),
        2.0,
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            "lightrag_query_latency_seconds_count",
            "cache=\"hit\""
        ),
        2.0
    );
    assert!(sample(&text, "lightrag_failed_requests_total", "status=\"404\"") >= 1.0);
    assert!(sample(&text, "lightrag_document_processing_seconds_count", "") >= 1.0);
    // Documents by status, read from the storage at scrape time.
    assert_eq!(
        sample(&text, "lightrag_documents{", "status=\"processed\""),
        1.0,
        "{text}"
    );
    assert_eq!(
        sample(&text, "lightrag_documents{", "status=\"pending\""),
        0.0
    );
    // This request is the active one.
    assert_eq!(sample(&text, "lightrag_active_requests", ""), 1.0);

    let services = std::env::var("LIGHTRAG_TEST_SERVICES").is_ok_and(|v| v == "1");
    let child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) if !services => {
            eprintln!(
                "SKIPPED promtool check: promtool not installed ({e}); run scripts/promtool.sh"
            );
            return;
        }
        Err(e) => panic!("promtool is required (scripts/promtool.sh installs it): {e}"),
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics failed:\n{}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    s.stop().await;
}
