//! Bad requests get JSON errors with the status codes LightRAG's clients expect.

mod common;

use common::{send, TestServer};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_json_errors() {
    let s = TestServer::start(&[("MAX_REQUEST_BODY_BYTES", "4096")]).await;
    // Missing field, wrong type, bad JSON, bad mode: 422 with a detail list.
    for body in [
        json!({}),
        json!({"query": 42}),
        json!({"query": "Who runs it?", "mode": "sideways"}),
        json!({"query": "Who runs it?", "top_k": 0}),
        json!({"query": "   "}),
        json!({"query": "ab"}),
    ] {
        let (code, v) = s.post("/query", "", body.clone()).await;
        assert_eq!(code, 422, "{body}: {v}");
        assert!(v["detail"].is_array(), "{v}");
    }
    let (code, v) = send(
        s.req(reqwest::Method::POST, "/query", "")
            .header("content-type", "application/json")
            .body("{not json"),
    )
    .await;
    assert_eq!(code, 422, "{v}");
    // /query/data reports validation errors as LightRAG does: 400 with a failure body.
    let (code, v) = s.post("/query/data", "", json!({"mode": "mix"})).await;
    assert_eq!(code, 400, "{v}");
    assert_eq!(v["status"], "failure");
    assert!(v["message"]
        .as_str()
        .unwrap()
        .starts_with("Validation error"));

    // Oversized bodies: 413.
    let big = "x".repeat(10_000);
    let (code, v) = s.post("/query", "", json!({"query": big})).await;
    assert_eq!(code, 413, "{v}");
    let (code, _) = s
        .post(
            "/documents/text",
            "",
            json!({"text": big, "file_source": "big.txt"}),
        )
        .await;
    assert_eq!(
        code, 413,
        "an explicit MAX_REQUEST_BODY_BYTES also governs text routes"
    );

    // Unknown route and unknown document.
    let (code, v) = s.get("/no/such/route", "").await;
    assert_eq!(code, 404);
    assert_eq!(v["detail"], "Not Found");
    let (code, v) = s
        .post("/documents/text", "", json!({"file_source": "x.txt"}))
        .await;
    assert_eq!(code, 422, "{v}");
    let (code, v) = s
        .post(
            "/documents/texts",
            "",
            json!({"texts": ["a b c", "d e f"], "file_sources": ["x.txt"]}),
        )
        .await;
    assert_eq!(code, 400, "{v}");
    let (code, v) = s
        .post(
            "/documents/text",
            "",
            json!({"text": "some text", "file_source": "../x.txt"}),
        )
        .await;
    assert_eq!(
        code, 200,
        "a path in file_source is reduced to its base name: {v}"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_over_the_limit_is_413() {
    let s = TestServer::start(&[("MAX_UPLOAD_SIZE", "1000")]).await;
    let (ct, body) = common::multipart("big.txt", "y".repeat(3 << 20).as_bytes());
    let (code, v) = send(
        s.req(reqwest::Method::POST, "/documents/upload", "")
            .header("content-type", ct)
            .body(body),
    )
    .await;
    assert_eq!(code, 413, "{v}");
    s.stop().await;
}

/// A model that takes two seconds to answer.
struct SlowChat;

#[async_trait::async_trait]
impl lightrag_core::ports::ChatModel for SlowChat {
    fn identity(&self) -> String {
        "slow".into()
    }
    async fn complete(
        &self,
        _: &lightrag_core::ports::ChatRequest,
    ) -> lightrag_core::Result<String> {
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        Ok("late".into())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_requests_time_out_as_json() {
    let s =
        TestServer::start_with(&[("TIMEOUT", "0.3")], Some(std::sync::Arc::new(SlowChat))).await;
    let t = std::time::Instant::now();
    let (code, v) = s
        .post(
            "/api/generate",
            "",
            json!({"prompt": "hello", "stream": false}),
        )
        .await;
    assert_eq!(code, 504, "{v}");
    assert!(v["detail"].is_string());
    assert!(t.elapsed() < std::time::Duration::from_millis(1500));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_describes_every_route_and_docs_load_it() {
    let s = TestServer::start(&[("LIGHTRAG_API_KEY", "k")]).await;
    let (code, api) = s.get("/openapi.json", "").await;
    assert_eq!(code, 200, "public even with a key");
    assert!(api["openapi"].as_str().unwrap().starts_with("3."));
    let paths = api["paths"].as_object().unwrap();
    for p in [
        "/query",
        "/query/stream",
        "/query/data",
        "/documents/text",
        "/documents/upload",
        "/documents/paginated",
        "/documents/track_status/{track_id}",
        "/graphs",
        "/graph/entity/edit",
        "/api/chat",
        "/api/generate",
        "/health",
        "/login",
    ] {
        assert!(paths.contains_key(p), "{p} missing");
    }
    let q = &api["paths"]["/query"]["post"];
    assert!(q["requestBody"].is_object());
    assert!(q["parameters"].to_string().contains("LIGHTRAG-WORKSPACE"));
    assert!(
        api["components"]["schemas"]["QueryRequest"]["properties"]["include_references"]
            .is_object()
    );
    assert!(api["components"]["securitySchemes"]["api_key"].is_object());
    let resp = s.client.get(s.url("/docs")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.unwrap().contains("openapi.json"));

    let off = TestServer::start(&[("ENABLE_API_DOCS", "false")]).await;
    assert_eq!(off.get("/openapi.json", "").await.0, 404);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admission_limits_refuse_with_429_and_413() {
    let s = TestServer::start(&[
        ("MAX_PENDING_DOCUMENTS", "2"),
        ("MAX_TEXTS_PER_REQUEST", "3"),
    ])
    .await;
    let (code, v) = s
        .post(
            "/documents/texts",
            "",
            json!({"texts": ["a a a", "b b b", "c c c", "d d d"]}),
        )
        .await;
    assert_eq!(code, 413, "{v}");
    let resp = s
        .req(reqwest::Method::POST, "/documents/texts", "")
        .json(&json!({"texts": ["one text here", "two text here", "three text here"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        429,
        "3 new documents exceed MAX_PENDING_DOCUMENTS = 2"
    );
    assert_eq!(resp.headers()["retry-after"], "30");
    let (code, v) = s
        .post(
            "/documents/texts",
            "",
            json!({"texts": ["one text here", "two text here"]}),
        )
        .await;
    assert_eq!(code, 200, "{v}");
    s.stop().await;
}
