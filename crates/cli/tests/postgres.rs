//! Every `lightrag` command on PostgreSQL, as a user runs them: insert, query, status, delete,
//! graph export, check, rebuild-vectors, migrate (embedded -> PostgreSQL -> embedded, the same
//! graph and contexts) and serve. Needs LIGHTRAG_TEST_PG_URL (scripts/postgres.sh url); with
//! LIGHTRAG_TEST_SERVICES=1 a missing or silent server fails the test.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::ok;

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

/// The PostgreSQL URL to test against, or `None` (with a note) when none is configured.
fn pg_url() -> Option<String> {
    let url = std::env::var("LIGHTRAG_TEST_PG_URL")
        .ok()
        .filter(|u| !u.is_empty());
    if url.is_none() {
        assert!(
            std::env::var("LIGHTRAG_TEST_SERVICES").as_deref() != Ok("1"),
            "LIGHTRAG_TEST_SERVICES=1 but LIGHTRAG_TEST_PG_URL is not set"
        );
        eprintln!(
            "skipped: no PostgreSQL (set LIGHTRAG_TEST_PG_URL, e.g. from scripts/postgres.sh url)"
        );
    }
    url
}

/// `lightrag ARGS` with every role on PostgreSQL in workspace `ws` (plus `extra` settings).
fn run(dir: &Path, url: &str, ws: &str, args: &[&str], extra: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_lightrag"));
    c.arg("--working-dir")
        .arg(dir)
        .args(args)
        .current_dir(std::env::temp_dir())
        .env("EMBEDDING_BINDING", "hashing")
        .env("EMBEDDING_DIM", "64");
    common::on_postgres(&mut c, url, ws);
    for (k, v) in extra {
        c.env(k, v);
    }
    c.output().expect("run lightrag")
}

/// The embedded roles, overriding the PostgreSQL ones.
const EMBEDDED: [(&str, &str); 4] = [
    ("LIGHTRAG_KV_STORAGE", "EmbeddedKVStorage"),
    ("LIGHTRAG_DOC_STATUS_STORAGE", "EmbeddedDocStatusStorage"),
    ("LIGHTRAG_GRAPH_STORAGE", "EmbeddedGraphStorage"),
    ("LIGHTRAG_VECTOR_STORAGE", "EmbeddedVectorStorage"),
];

#[test]
fn every_command_works_on_postgres() {
    let Some(url) = pg_url() else { return };
    let dir = tempfile::tempdir().unwrap();
    let ws = format!("cli_{}", std::process::id());
    let pg = |args: &[&str]| ok(&run(dir.path(), &url, &ws, args, &[]));
    let out = pg(&["insert", examples().to_str().unwrap()]);
    assert!(out.contains("processed"), "{out}");
    let out = pg(&["query", "Who founded the Vell River Institute?"]);
    assert!(out.contains("### References"), "{out}");
    let status: serde_json::Value = serde_json::from_str(&pg(&["status", "--json"])).unwrap();
    let processed = status["status_counts"]["processed"].as_u64().unwrap();
    assert!(processed >= 2, "{status}");
    let graph = pg(&["graph", "export", "--format", "json"]);
    assert!(graph.contains("Vell River Institute"), "{graph}");
    pg(&["check"]);
    let out = pg(&["rebuild-vectors"]);
    assert!(out.contains("rebuilt"), "{out}");
    pg(&["check"]);

    // migrate: PostgreSQL -> embedded, the same graph and an answering context.
    let copy = dir.path().join("copy");
    let out = pg(&[
        "migrate",
        "--to",
        "embedded",
        "--to-dir",
        copy.to_str().unwrap(),
    ]);
    assert!(out.contains("ok: the target checks clean"), "{out}");
    let q = [
        "query",
        "Who founded the Vell River Institute?",
        "--context-only",
    ];
    let local = |args: &[&str]| ok(&run(&copy, &url, &ws, args, &EMBEDDED));
    // The embedded copy searches with HNSW, PostgreSQL exactly at this size: the contexts may
    // differ by a neighbour at the margin of top_k, so they are compared by content.
    for out in [pg(&q), local(&q)] {
        assert!(
            out.contains("Vell River Institute") && out.contains("Lindqvist"),
            "{out}"
        );
    }
    assert_eq!(
        pg(&["graph", "export", "--format", "json"]),
        local(&["graph", "export", "--format", "json"])
    );
    // ... and back into another PostgreSQL workspace.
    let ws2 = format!("{ws}_back");
    let back = |args: &[&str]| {
        let mut extra = EMBEDDED.to_vec();
        extra.push(("POSTGRES_WORKSPACE", ws2.as_str()));
        ok(&run(&copy, &url, &ws2, args, &extra))
    };
    let out = back(&["migrate", "--to", "postgres"]);
    assert!(out.contains("ok: the target checks clean"), "{out}");
    assert_eq!(ok(&run(dir.path(), &url, &ws2, &q, &[])), pg(&q));

    // delete removes a document and what only it contributed.
    let docs: serde_json::Value =
        serde_json::from_str(&pg(&["status", "--json", "--all"])).unwrap();
    let id = docs["documents"][0]["id"].as_str().unwrap().to_string();
    pg(&["delete", &id]);
    let after: serde_json::Value = serde_json::from_str(&pg(&["status", "--json"])).unwrap();
    assert_eq!(
        after["status_counts"]["processed"].as_u64().unwrap(),
        processed - 1,
        "{after}"
    );
    pg(&["check"]);

    // serve: /health names the PostgreSQL stores.
    let mut cmd = common::serve_command(dir.path(), None);
    common::on_postgres(&mut cmd, &url, &ws);
    for (k, v) in [("EMBEDDING_BINDING", "hashing"), ("EMBEDDING_DIM", "64")] {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("serve");
    let base = common::listening_url(&mut child).expect("listening");
    let health: serde_json::Value = reqwest_get(&format!("{base}/health"));
    let _ = child.kill();
    let _ = child.wait();
    let conf = &health["configuration"];
    assert_eq!(conf["graph_storage"], "PGGraphStorage", "{health}");
    assert_eq!(conf["vector_storage"], "PGVectorStorage", "{health}");
    assert!(
        health["storage"]["entities"].as_u64().unwrap() > 0,
        "{health}"
    );
}

/// A GET with a fresh runtime (the test itself is synchronous).
fn reqwest_get(url: &str) -> serde_json::Value {
    let _ = rustls::crypto::ring::default_provider().install_default();
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(async { reqwest::get(url).await.unwrap().json().await.unwrap() })
}
