//! What an anonymous or hostile caller can do, over HTTP: each test holds one hole shut (the
//! connection-level ones, which need the built binary and a descriptor limit, are in
//! crates/cli/tests/serve_security.rs).

mod common;

use std::sync::Arc;

use common::{multipart, send, FakeChat, TestServer, FERRY, TRUST};
use reqwest::Method;
use serde_json::{json, Value};

const KEY: &str = "k3y-s3cret";

fn chat_body(content: &str) -> Value {
    json!({"stream": false, "messages": [{"role": "user", "content": content}]})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_key_no_ollama_route_reads_data_or_calls_the_model_anonymously() {
    let s = TestServer::start_with(&[("LIGHTRAG_API_KEY", KEY)], Some(Arc::new(FakeChat))).await;
    // The workspace exists and holds a document.
    let (code, v) = send(
        s.req(Method::POST, "/documents/text", "kb")
            .header("X-API-Key", KEY)
            .json(&json!({"text": FERRY, "file_source": "ferry.txt"})),
    )
    .await;
    assert_eq!(code, 200, "{v}");
    for (path, body) in [
        ("/api/chat", chat_body("/context Who runs the ferry?")),
        ("/api/chat", chat_body("/bypass say something")),
        ("/api/generate", json!({"prompt": "hello", "stream": false})),
    ] {
        let (code, v) = s.post(path, "kb", body.clone()).await;
        assert_eq!(code, 403, "{path} {body}: {v}");
        assert!(!v.to_string().contains("Orin"), "{v}");
    }
    // The model listing stays open for Ollama clients discovering the server.
    for path in ["/api/version", "/api/tags", "/api/ps", "/health"] {
        assert_eq!(s.get(path, "").await.0, 200, "{path}");
    }
    // Ollama clients send the key as a bearer token.
    let (code, v) = send(
        s.req(Method::POST, "/api/generate", "kb")
            .bearer_auth(KEY)
            .json(&json!({"prompt": "hello", "stream": false})),
    )
    .await;
    assert_eq!(code, 200, "{v}");
    let (code, _) = send(
        s.req(Method::POST, "/api/generate", "kb")
            .bearer_auth("not-the-key")
            .json(&json!({"prompt": "hello", "stream": false})),
    )
    .await;
    assert_eq!(code, 401);
    s.stop().await;

    // An operator who lists the route explicitly opens it (and is warned at start).
    let open = TestServer::start_with(
        &[
            ("LIGHTRAG_API_KEY", KEY),
            ("WHITELIST_PATHS", "/health,/api/*"),
        ],
        Some(Arc::new(FakeChat)),
    )
    .await;
    // (Opening a workspace always takes the key; `lightrag serve` opens the default one.)
    let (code, _) = send(
        open.req(Method::GET, "/documents/status_counts", "")
            .header("X-API-Key", KEY),
    )
    .await;
    assert_eq!(code, 200);
    let (code, v) = open
        .post(
            "/api/generate",
            "",
            json!({"prompt": "hello", "stream": false}),
        )
        .await;
    assert_eq!(code, 200, "{v}");
    open.stop().await;
}

/// A file outside the input folder, and a workspace input folder to put links in.
fn outside_and_inputs(s: &TestServer, ws: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let outside = s.dir.path().join("outside");
    let inputs = s.dir.path().join("inputs").join(ws);
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::create_dir_all(&inputs).unwrap();
    (outside, inputs)
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_reads_only_regular_files_inside_the_input_folder() {
    let s = TestServer::start(&[]).await;
    let (outside, inputs) = outside_and_inputs(&s, "kb");
    let secret = "The Zorblax vault code is kept by Quentin Marsh in the Zorblax vault.";
    std::fs::write(outside.join("secret.txt"), secret).unwrap();
    std::os::unix::fs::symlink(outside.join("secret.txt"), inputs.join("link.txt")).unwrap();
    std::os::unix::fs::symlink(&outside, inputs.join("dir.txt")).unwrap();
    std::fs::write(inputs.join("ferry.txt"), FERRY).unwrap();

    let (code, v) = send(s.req(Method::POST, "/documents/scan", "kb")).await;
    assert_eq!(code, 200, "{v}");
    s.wait_idle("kb").await;
    let (_, counts) = s.get("/documents/status_counts", "kb").await;
    assert_eq!(counts["status_counts"]["all"], 1, "{counts}");
    let (_, data) = s
        .post(
            "/query/data",
            "kb",
            json!({"query": "Who keeps the Zorblax vault code?", "mode": "mix"}),
        )
        .await;
    assert!(!data.to_string().contains("Quentin"), "{data}");
    s.stop().await;
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_never_write_through_a_link_or_over_a_file() {
    let s = TestServer::start(&[]).await;
    let (outside, inputs) = outside_and_inputs(&s, "kb");
    let upload = |name: &str| {
        let (ct, body) = multipart(name, FERRY.as_bytes());
        s.req(Method::POST, "/documents/upload", "kb")
            .header("content-type", ct)
            .body(body)
    };
    // A dangling link: following it would create a file outside.
    std::os::unix::fs::symlink(outside.join("created.txt"), inputs.join("dangling.txt")).unwrap();
    let (code, v) = send(upload("dangling.txt")).await;
    assert_eq!(code, 409, "{v}");
    assert!(!outside.join("created.txt").exists());
    // A link to an existing file: it is not replaced.
    std::fs::write(outside.join("kept.txt"), "untouched").unwrap();
    std::os::unix::fs::symlink(outside.join("kept.txt"), inputs.join("kept.txt")).unwrap();
    let (code, _) = send(upload("kept.txt")).await;
    assert_eq!(code, 409);
    assert_eq!(
        std::fs::read_to_string(outside.join("kept.txt")).unwrap(),
        "untouched"
    );
    // A plain new name still works.
    let (code, v) = send(upload("notes.txt")).await;
    assert_eq!(code, 200, "{v}");
    assert!(inputs.join("notes.txt").is_file());
    s.stop().await;
}

/// The `msg` of a 422's first problem.
fn problem(v: &Value) -> String {
    v["detail"][0]["msg"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_request_cannot_ask_for_unbounded_work() {
    // No LLM: keywords come from the question itself, the path that once made 832 of them.
    let s = TestServer::start(&[]).await;
    s.insert("", FERRY, "ferry.txt").await;
    let q = "Who runs the ferry across Lake Orin?";
    let many = |n: usize| (0..n).map(|i| format!("k{i}")).collect::<Vec<_>>();
    let history = |n: usize, len: usize| {
        (0..n)
            .map(|_| json!({"role": "user", "content": "x".repeat(len)}))
            .collect::<Vec<_>>()
    };
    for (body, limit) in [
        (json!({"query": q, "hl_keywords": many(10_000)}), "64"),
        (json!({"query": q, "ll_keywords": ["x".repeat(513)]}), "512"),
        (
            json!({"query": q, "conversation_history": history(10_000, 1)}),
            "128",
        ),
        (
            json!({"query": q, "conversation_history": history(1, 32 * 1024 + 1)}),
            "32768",
        ),
        (
            json!({"query": q, "conversation_history": history(5, 30 * 1024)}),
            "131072",
        ),
        (
            json!({"query": q, "user_prompt": "x".repeat(200_000)}),
            "32768",
        ),
        (json!({"query": q, "response_type": "x".repeat(257)}), "256"),
        (json!({"query": "who? ".repeat(14_000)}), "65536"),
    ] {
        let (code, v) = s.post("/query", "", body.clone()).await;
        assert_eq!(code, 422, "{v}");
        assert!(problem(&v).contains(limit), "limit {limit} not named: {v}");
    }
    // The Ollama routes: one message of 40 KB, 10,000 messages.
    let (code, v) = s
        .post("/api/chat", "", chat_body(&"ferry ".repeat(7_000)))
        .await;
    assert_eq!(code, 422, "{v}");
    assert!(problem(&v).contains("32768"), "{v}");
    let mut messages = history(10_000, 2);
    messages.push(json!({"role": "user", "content": q}));
    let (code, v) = s
        .post(
            "/api/chat",
            "",
            json!({"stream": false, "messages": messages}),
        )
        .await;
    assert_eq!(code, 422, "{v}");
    assert!(problem(&v).contains("128"), "{v}");
    let (code, v) = s
        .post(
            "/api/generate",
            "",
            json!({"prompt": "x".repeat(70_000), "stream": false}),
        )
        .await;
    assert_eq!(code, 422, "{v}");
    // A long question is answered, but turns into at most 64 keywords a list.
    let long: String = (0..900).map(|i| format!("term{i} ")).collect();
    let (code, v) = s
        .post("/query/data", "", json!({"query": long, "mode": "mix"}))
        .await;
    assert_eq!(code, 200, "{v}");
    for list in ["high_level", "low_level"] {
        let n = v["metadata"]["keywords"][list]
            .as_array()
            .map_or(0, Vec::len);
        assert!(n <= 64, "{list}: {n} keywords");
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_routes_take_json_only() {
    let s = TestServer::start(&[]).await;
    let body = json!({"text": FERRY, "file_source": "ferry.txt"}).to_string();
    for ct in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let mut r = s
            .req(Method::POST, "/documents/text", "")
            .body(body.clone());
        if let Some(ct) = ct {
            r = r.header("content-type", ct);
        }
        let (code, v) = send(r).await;
        assert_eq!(code, 415, "{ct:?}: {v}");
        assert!(v["detail"].as_str().unwrap().contains("application/json"));
    }
    let (code, v) = send(
        s.req(Method::POST, "/query/data", "")
            .header("content-type", "text/plain")
            .body(json!({"query": "Who runs the ferry?"}).to_string()),
    )
    .await;
    assert_eq!(code, 415, "{v}");
    let (_, counts) = s.get("/documents/status_counts", "").await;
    assert_eq!(
        counts["status_counts"]["all"], 0,
        "nothing inserted: {counts}"
    );
    // JSON with a charset, or a +json type, is JSON.
    let (code, v) = send(
        s.req(Method::POST, "/documents/text", "")
            .header("content-type", "application/json; charset=utf-8")
            .body(body),
    )
    .await;
    assert_eq!(code, 200, "{v}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_of_other_sites_cannot_write() {
    let s = TestServer::start(&[("CORS_ORIGINS", "https://ui.example")]).await;
    let evil = "https://evil.example";
    let form = |path: &str, origin: &str| {
        s.req(Method::POST, path, "")
            .header("origin", origin)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("a=b")
    };
    for path in [
        "/documents/scan",
        "/documents/clear_cache",
        "/documents/reprocess_failed",
        "/api/chat",
        "/login",
    ] {
        let (code, v) = send(form(path, evil)).await;
        assert_eq!(code, 403, "{path}: {v}");
        assert!(v["detail"].as_str().unwrap().contains("cross-site"), "{v}");
    }
    let (ct, body) = multipart("ferry.txt", FERRY.as_bytes());
    let upload = |origin: &str| {
        s.req(Method::POST, "/documents/upload", "")
            .header("origin", origin)
            .header("content-type", ct.clone())
            .body(body.clone())
    };
    let (code, _) = send(upload(evil)).await;
    assert_eq!(code, 403);
    let (code, v) = send(upload("https://ui.example")).await;
    assert_eq!(code, 200, "an origin listed by name may: {v}");
    // Same-origin pages, and clients that are not browsers, are not affected.
    let host = s.url.trim_start_matches("http://").to_string();
    let (code, v) = send(form("/documents/scan", &format!("http://{host}"))).await;
    assert_eq!(code, 200, "{v}");
    let (code, v) = send(
        s.req(Method::POST, "/documents/scan", "")
            .header("content-type", "application/x-www-form-urlencoded"),
    )
    .await;
    assert_eq!(code, 200, "{v}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rescanning_a_duplicate_keeps_one_row() {
    let s = TestServer::start(&[]).await;
    let (_, inputs) = outside_and_inputs(&s, "kb");
    std::fs::write(inputs.join("a.txt"), TRUST).unwrap();
    std::fs::write(inputs.join("b.txt"), TRUST).unwrap();
    for _ in 0..3 {
        let (code, _) = send(s.req(Method::POST, "/documents/scan", "kb")).await;
        assert_eq!(code, 200);
        s.wait_idle("kb").await;
    }
    let (_, counts) = s.get("/documents/status_counts", "kb").await;
    let c = &counts["status_counts"];
    assert_eq!(
        (c["all"].clone(), c["failed"].clone()),
        (json!(2), json!(1)),
        "{counts}"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workspace_names_are_taken_as_given_or_refused() {
    let s = TestServer::start(&[]).await;
    let long = "w".repeat(65);
    for bad in ["a/b", "a-b", "a b", "a.b", long.as_str()] {
        let (code, v) = s.get("/documents/status_counts", bad).await;
        assert_eq!(code, 400, "{bad}: {v}");
        assert!(
            v["detail"].as_str().unwrap().contains("workspace name"),
            "{v}"
        );
    }
    assert_eq!(s.get("/documents/status_counts", "a_b").await.0, 200);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unavailable_answers_say_why() {
    let s = TestServer::start(&[("MAX_WORKSPACES", "1")]).await;
    assert_eq!(s.get("/documents/status_counts", "one").await.0, 200);
    let (code, v) = s.get("/documents/status_counts", "two").await;
    assert_eq!(code, 503, "{v}");
    assert!(
        v["detail"].as_str().unwrap().contains("MAX_WORKSPACES"),
        "{v}"
    );
    let (code, v) = s
        .post(
            "/api/generate",
            "one",
            json!({"prompt": "hello", "stream": false}),
        )
        .await;
    assert_eq!(code, 503, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("LLM_BINDING"), "{v}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_error_is_json() {
    let s = TestServer::start(&[]).await;
    let cases = [
        // Method not allowed (empty body from the router).
        s.req(Method::GET, "/query", ""),
        // A query string that does not parse.
        s.req(Method::GET, "/graphs?label=x&max_depth=deep", ""),
        // A multipart body without a boundary.
        s.req(Method::POST, "/documents/upload", "")
            .header("content-type", "multipart/form-data")
            .body("x"),
        // A login that is not a form.
        s.req(Method::POST, "/login", "")
            .json(&json!({"username": "a", "password": "b"})),
        // A body over MAX_REQUEST_BODY_BYTES on a route without its own limit.
        s.req(Method::POST, "/query", "")
            .json(&json!({"query": "x".repeat(2 << 20)})),
    ];
    for r in cases {
        let resp = r.send().await.unwrap();
        let code = resp.status().as_u16();
        let ct = resp
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string());
        let text = resp.text().await.unwrap();
        assert!(code >= 400, "{code} {text}");
        assert_eq!(ct.as_deref(), Some("application/json"), "{code} {text}");
        let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert!(v["detail"].is_string() || v["detail"].is_array(), "{v}");
    }
    s.stop().await;
}
