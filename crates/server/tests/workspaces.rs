//! Per-request workspaces: a `LIGHTRAG-WORKSPACE` header selects an isolated knowledge base for
//! every route; nothing inserted in one is visible from another.

mod common;

use common::{TestServer, FERRY, TRUST};
use serde_json::{json, Value};

fn texts(v: &Value) -> String {
    v.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_route_leaks_across_workspaces() {
    let s = TestServer::start(&[]).await;
    let ferry_track = s.insert("alpha", FERRY, "ferry.txt").await;
    s.insert("beta", TRUST, "trust.txt").await;

    // Documents: each workspace sees its own only.
    for (ws, mine, other) in [
        ("alpha", "ferry.txt", "trust.txt"),
        ("beta", "trust.txt", "ferry.txt"),
    ] {
        let (_, p) = s.post("/documents/paginated", ws, json!({})).await;
        assert_eq!(p["pagination"]["total_count"], 1, "{ws}: {p}");
        assert_eq!(p["documents"][0]["file_path"], mine);
        assert!(!texts(&p).contains(other));
        let (_, c) = s.get("/documents/status_counts", ws).await;
        assert_eq!(c["status_counts"]["all"], 1);
    }
    // The default workspace (no header) is a third, empty one.
    let (_, c) = s.get("/documents/status_counts", "").await;
    assert_eq!(c["status_counts"]["all"], 0);
    // A track id of alpha means nothing in beta.
    let (_, t) = s
        .get(&format!("/documents/track_status/{ferry_track}"), "beta")
        .await;
    assert_eq!(t["total_count"], 0);

    // Queries: beta cannot retrieve alpha's ferry, even from the cache.
    let q = json!({"query": "Who runs the Orin ferry?", "mode": "mix"});
    let (_, a) = s.post("/query", "alpha", q.clone()).await;
    assert!(texts(&a).contains("Orin Lines"), "{a}");
    for ws in ["beta", ""] {
        let (_, b) = s.post("/query", ws, q.clone()).await;
        assert!(!texts(&b).contains("ferry.txt"), "{ws}: {b}");
        let (_, d) = s
            .post("/query/data", ws, json!({"query": "Orin Lines ferry"}))
            .await;
        assert!(!texts(&d).contains("ferry.txt"), "{ws}: {d}");
        let resp = s
            .req(reqwest::Method::POST, "/query/stream", ws)
            .json(&q)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!resp.contains("ferry.txt"), "{ws}: {resp}");
    }

    // Graph: alpha's entities are not in beta.
    let (_, labels) = s.get("/graph/label/list", "alpha").await;
    assert!(texts(&labels).contains("Orin Lines"), "{labels}");
    let (_, labels) = s.get("/graph/label/list", "beta").await;
    assert!(!texts(&labels).contains("Orin Lines"), "{labels}");
    let (_, e) = s
        .get("/graph/entity/exists?name=Orin%20Lines", "beta")
        .await;
    assert_eq!(e["exists"], false);
    let (_, g) = s.get("/graphs?label=*", "beta").await;
    assert!(!texts(&g).contains("Orin Lines"), "{g}");

    // Clearing beta leaves alpha alone.
    let (code, _) = common::send(s.req(reqwest::Method::DELETE, "/documents", "beta")).await;
    assert_eq!(code, 200);
    let (_, c) = s.get("/documents/status_counts", "alpha").await;
    assert_eq!(c["status_counts"]["all"], 1);

    // Uploads go to the workspace's own input folder; a header cannot name a path.
    let upload = |ws: &'static str| {
        let (ct, body) = common::multipart("notes.txt", FERRY.as_bytes());
        s.req(reqwest::Method::POST, "/documents/upload", ws)
            .header("content-type", ct)
            .body(body)
    };
    let (code, v) = common::send(upload("../../etc")).await;
    assert_eq!(code, 400, "{v}");
    assert!(v["detail"]
        .as_str()
        .unwrap()
        .contains("not a workspace name"));
    let (code, _) = common::send(upload("beta")).await;
    assert_eq!(code, 200);
    assert!(s.dir.path().join("inputs/beta/notes.txt").exists());
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workspace_count_is_bounded() {
    let s = TestServer::start(&[("MAX_WORKSPACES", "2")]).await;
    assert_eq!(s.get("/documents/status_counts", "one").await.0, 200);
    assert_eq!(s.get("/documents/status_counts", "two").await.0, 200);
    let (code, v) = s.get("/documents/status_counts", "three").await;
    assert_eq!(code, 503, "{v}");
    assert_eq!(s.get("/documents/status_counts", "one").await.0, 200);
    s.stop().await;
}
