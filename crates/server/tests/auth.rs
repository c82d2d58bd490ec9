//! Security over HTTP: API key, JWT login with accounts, open paths, login lockout, CORS, and
//! no secret in /health.

mod common;

use common::{send, TestServer};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_key_guards_every_route_but_the_open_ones() {
    let s = TestServer::start(&[("LIGHTRAG_API_KEY", "k3y-s3cret")]).await;
    let q = json!({"query": "Who runs the ferry?"});
    let (code, v) = s.post("/query", "", q.clone()).await;
    assert_eq!(code, 403, "{v}");
    assert_eq!(v["detail"], "API Key required");
    let (code, v) = send(
        s.req(reqwest::Method::POST, "/query", "")
            .header("X-API-Key", "wrong")
            .json(&q),
    )
    .await;
    assert_eq!(code, 403);
    assert_eq!(v["detail"], "Invalid API Key");
    let (code, _) = send(
        s.req(reqwest::Method::POST, "/query", "")
            .header("X-API-Key", "k3y-s3cret")
            .json(&q),
    )
    .await;
    assert_eq!(code, 200);
    for path in [
        "/documents/status_counts",
        "/graph/label/list",
        "/documents/pipeline_status",
        "/metrics",
    ] {
        assert_eq!(s.get(path, "").await.0, 403, "{path}");
    }
    // Open by the default whitelist.
    let (code, h) = s.get("/health", "").await;
    assert_eq!(code, 200);
    assert!(
        h.get("configuration").is_none(),
        "no configuration for anonymous callers: {h}"
    );
    assert_eq!(s.get("/api/version", "").await.0, 200);
    // With the key, /health shows the configuration, and never the key itself.
    let (_, h) = send(
        s.req(reqwest::Method::GET, "/health", "")
            .header("X-API-Key", "k3y-s3cret"),
    )
    .await;
    assert_eq!(h["configuration"]["auth"]["api_key_configured"], true);
    assert!(!h.to_string().contains("k3y-s3cret"));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_gives_a_token_and_failures_lock_out() {
    let hash = bcrypt::hash("b-pass", 4).unwrap();
    let accounts = format!("admin:a-pass,bob:{{bcrypt}}{hash}");
    let s = TestServer::start(&[
        ("AUTH_ACCOUNTS", accounts.as_str()),
        ("TOKEN_SECRET", "jwt-s3cret-of-thirty-two-characters"),
        ("LOGIN_MAX_FAILED_ATTEMPTS", "3"),
    ])
    .await;
    let (code, v) = s.get("/auth-status", "").await;
    assert_eq!(code, 200);
    assert_eq!(v["auth_configured"], true);
    assert!(v.get("access_token").is_none());

    let (code, v) = s.get("/documents/status_counts", "").await;
    assert_eq!(code, 401, "{v}");
    assert_eq!(v["detail"], "No credentials provided. Please login.");

    // reqwest is built without its `form` feature here: the urlencoded body by hand.
    let login = |user: &'static str, pass: &'static str| {
        s.client
            .post(s.url("/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!(
                "username={user}&password={pass}&grant_type=password"
            ))
    };
    let (code, v) = send(login("admin", "a-pass")).await;
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["token_type"], "bearer");
    let token = v["access_token"].as_str().unwrap().to_string();
    let (code, _) = send(
        s.req(reqwest::Method::GET, "/documents/status_counts", "")
            .bearer_auth(&token),
    )
    .await;
    assert_eq!(code, 200);
    let (code, v) = send(
        s.req(reqwest::Method::GET, "/auth/verify", "")
            .bearer_auth(&token),
    )
    .await;
    assert_eq!((code, v["status"].as_str()), (200, Some("ok")));
    let (code, v) = send(
        s.req(reqwest::Method::GET, "/documents/status_counts", "")
            .bearer_auth("not.a.token"),
    )
    .await;
    assert_eq!(code, 401);
    assert_eq!(v["detail"], "Invalid token");

    let (code, _) = send(login("bob", "b-pass")).await;
    assert_eq!(code, 200, "bcrypt accounts work");

    for _ in 0..3 {
        let (code, v) = send(login("admin", "nope")).await;
        assert_eq!(code, 401);
        assert_eq!(v["detail"], "Incorrect credentials");
    }
    let resp = login("admin", "a-pass").send().await.unwrap();
    assert_eq!(
        resp.status(),
        429,
        "locked out, even with the right password"
    );
    assert!(resp.headers().contains_key("retry-after"));
    // Another user from the same address is not locked out.
    let (code, _) = send(login("bob", "b-pass")).await;
    assert_eq!(code, 200);

    let (_, h) = send(
        s.req(reqwest::Method::GET, "/health", "")
            .bearer_auth(&token),
    )
    .await;
    let text = h.to_string();
    for secret in [
        "jwt-s3cret-of-thirty-two-characters",
        "a-pass",
        "b-pass",
        hash.as_str(),
    ] {
        assert!(!text.contains(secret), "{secret} leaked into /health");
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_server_gives_guest_tokens_and_cors_answers_preflight() {
    let s = TestServer::start(&[("CORS_ORIGINS", "https://ui.example")]).await;
    let (_, v) = s.get("/auth-status", "").await;
    assert_eq!(v["auth_configured"], false);
    let guest = v["access_token"].as_str().unwrap().to_string();
    let (code, _) = send(
        s.req(reqwest::Method::GET, "/documents/status_counts", "")
            .bearer_auth(&guest),
    )
    .await;
    assert_eq!(code, 200);

    let resp = s
        .client
        .request(reqwest::Method::OPTIONS, s.url("/query"))
        .header("Origin", "https://ui.example")
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "content-type,x-api-key")
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
    assert_eq!(
        resp.headers()["access-control-allow-origin"],
        "https://ui.example"
    );
    let resp = s
        .client
        .get(s.url("/health"))
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(!resp.headers().contains_key("access-control-allow-origin"));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whitelist_is_configurable() {
    let s = TestServer::start(&[
        ("LIGHTRAG_API_KEY", "k"),
        ("WHITELIST_PATHS", "/health,/metrics"),
    ])
    .await;
    assert_eq!(s.get("/metrics", "").await.0, 200);
    assert_eq!(s.get("/api/tags", "").await.0, 403, "/api/* no longer open");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_callers_cannot_create_workspaces_through_open_paths() {
    let s = TestServer::start(&[("LIGHTRAG_API_KEY", "k")]).await;
    // /health and Ollama's model listing stay open, but neither opens a new workspace.
    let (code, _) = s.get("/health", "newbase").await;
    assert_eq!(code, 200);
    let (code, _) = s.get("/api/tags", "newbase").await;
    assert_eq!(code, 200, "no workspace needed");
    let (code, _) = s
        .post(
            "/api/chat",
            "newbase",
            json!({"stream": false, "messages": [{"role": "user", "content": "/context ferry"}]}),
        )
        .await;
    assert_eq!(code, 403);
    assert!(!s.dir.path().join("rag/newbase").exists());
    // With the key, the workspace opens; then the open path serves it.
    let (code, _) = send(
        s.req(reqwest::Method::GET, "/documents/status_counts", "newbase")
            .header("X-API-Key", "k"),
    )
    .await;
    assert_eq!(code, 200);
    // An open workspace is still not readable anonymously (security.rs has the details).
    let chat =
        json!({"stream": false, "messages": [{"role": "user", "content": "/context ferry"}]});
    let (code, _) = s.post("/api/chat", "newbase", chat.clone()).await;
    assert_eq!(code, 403);
    let (code, _) = send(
        s.req(reqwest::Method::POST, "/api/chat", "newbase")
            .bearer_auth("k")
            .json(&chat),
    )
    .await;
    assert_eq!(code, 200);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_near_their_end_are_renewed_once_a_minute() {
    // A threshold above 1 makes every token "near its end" at once.
    let s = TestServer::start(&[
        ("AUTH_ACCOUNTS", "admin:pw"),
        ("TOKEN_SECRET", "renewal-test-secret-of-32-chars!"),
        ("TOKEN_EXPIRE_HOURS", "0.01"),
        ("TOKEN_RENEW_THRESHOLD", "2"),
    ])
    .await;
    let (_, v) = send(
        s.client
            .post(s.url("/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("username=admin&password=pw"),
    )
    .await;
    let token = v["access_token"].as_str().unwrap().to_string();
    // Polling routes never renew.
    let r = s
        .req(reqwest::Method::GET, "/documents/pipeline_status", "")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(!r.headers().contains_key("x-new-token"));
    let r = s
        .req(reqwest::Method::GET, "/documents/status_counts", "")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let fresh = r.headers()["x-new-token"].to_str().unwrap().to_string();
    let (code, _) = send(
        s.req(reqwest::Method::GET, "/graph/label/list", "")
            .bearer_auth(&fresh),
    )
    .await;
    assert_eq!(code, 200, "the renewed token works");
    let r = s
        .req(reqwest::Method::GET, "/documents/status_counts", "")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(
        !r.headers().contains_key("x-new-token"),
        "once a minute per user"
    );
    s.stop().await;
}
