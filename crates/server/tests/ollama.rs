//! Ollama emulation over HTTP, and streamed answers from an LLM on /query/stream (references
//! first, then pieces; the same question again streams from the cache).

mod common;

use std::sync::Arc;

use common::{ndjson, send, FakeChat, TestServer, FERRY};
use serde_json::json;

async fn server() -> TestServer {
    let s = TestServer::start_with(&[], Some(Arc::new(FakeChat))).await;
    s.insert("", FERRY, "ferry.txt").await;
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn model_listing_routes() {
    let s = TestServer::start(&[("OLLAMA_EMULATING_MODEL_TAG", "v2")]).await;
    let (_, v) = s.get("/api/version", "").await;
    assert_eq!(v["version"], "0.9.3");
    let (_, v) = s.get("/api/tags", "").await;
    assert_eq!(v["models"][0]["name"], "lightrag:v2");
    assert_eq!(v["models"][0]["details"]["family"], "lightrag");
    let (_, v) = s.get("/api/ps", "").await;
    assert_eq!(v["models"][0]["model"], "lightrag:v2");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_answers_through_rag_streamed_and_not() {
    let s = server().await;
    let body = json!({"model": "lightrag:latest", "stream": false,
        "messages": [{"role": "user", "content": "/local Who runs the Orin ferry?"}]});
    // Sent as octet-stream: the body is JSON whatever the Content-Type says.
    let (code, v) = send(
        s.req(reqwest::Method::POST, "/api/chat", "")
            .header("content-type", "application/octet-stream")
            .body(body.to_string()),
    )
    .await;
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["done"], true);
    assert_eq!(v["message"]["role"], "assistant");
    assert_eq!(
        v["message"]["content"],
        "Orin Lines runs the ferry across Lake Orin [1]."
    );
    assert!(v["eval_count"].as_u64().unwrap() > 0);

    let resp = s
        .req(reqwest::Method::POST, "/api/chat", "")
        .json(&json!({"model": "lightrag:latest",
            "messages": [{"role": "user", "content": "Who runs the Orin ferry?"}]}))
        .send()
        .await
        .unwrap();
    let lines = ndjson(resp).await;
    assert!(lines.len() > 2, "{lines:?}");
    let text: String = lines[..lines.len() - 1]
        .iter()
        .map(|l| l["message"]["content"].as_str().unwrap())
        .collect();
    assert_eq!(text, "Orin Lines runs the ferry across Lake Orin [1].");
    assert!(lines[..lines.len() - 1].iter().all(|l| l["done"] == false));
    let last = lines.last().unwrap();
    assert_eq!(last["done"], true);
    assert_eq!(last["done_reason"], "stop");
    assert!(last["total_duration"].is_u64());

    // /context returns the retrieved context, /bypass goes straight to the model with history.
    let (_, v) = s
        .post(
            "/api/chat",
            "",
            json!({"stream": false,
            "messages": [{"role": "user", "content": "/context Orin ferry"}]}),
        )
        .await;
    assert!(
        v["message"]["content"]
            .as_str()
            .unwrap()
            .contains("Document Chunks"),
        "{v}"
    );
    let (_, v) = s
        .post("/api/chat", "", json!({"stream": false, "system": "be kind",
            "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"},
                         {"role": "user", "content": "/bypass tell me"}]}))
        .await;
    assert_eq!(
        v["message"]["content"],
        "direct reply to 'tell me' with system 'be kind' after 2 earlier messages"
    );

    // Bad requests.
    let (code, _) = s.post("/api/chat", "", json!({"messages": []})).await;
    assert_eq!(code, 400);
    let (code, _) = s
        .post(
            "/api/chat",
            "",
            json!({"messages": [{"role": "assistant", "content": "x"}]}),
        )
        .await;
    assert_eq!(code, 400);
    let (code, _) = send(s.req(reqwest::Method::POST, "/api/chat", "").body("{oops")).await;
    assert_eq!(code, 400);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generate_goes_straight_to_the_model() {
    let s = server().await;
    let (code, v) = s
        .post("/api/generate", "", json!({"model": "lightrag:latest", "prompt": "say hi", "system": "sys", "stream": false}))
        .await;
    assert_eq!(code, 200, "{v}");
    assert_eq!(
        v["response"],
        "direct reply to 'say hi' with system 'sys' after 0 earlier messages"
    );
    assert_eq!(v["done"], true);
    let resp = s
        .req(reqwest::Method::POST, "/api/generate", "")
        .json(&json!({"prompt": "say hi", "stream": true}))
        .send()
        .await
        .unwrap();
    let lines = ndjson(resp).await;
    let text: String = lines
        .iter()
        .map(|l| l["response"].as_str().unwrap())
        .collect();
    assert!(text.starts_with("direct reply to 'say hi'"), "{text}");
    assert_eq!(lines.last().unwrap()["done"], true);
    let (code, _) = s.post("/api/generate", "", json!({"prompt": "  "})).await;
    assert_eq!(code, 400);

    // Without an LLM, generate cannot answer.
    let offline = TestServer::start(&[]).await;
    let (code, v) = offline
        .post("/api/generate", "", json!({"prompt": "hi"}))
        .await;
    assert_eq!(code, 503, "{v}");
    // The reason is in the response, not only in the server's log.
    let detail = v["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("no LLM is configured"), "{v}");
    let (code, v) = offline
        .post(
            "/api/chat",
            "",
            json!({"messages": [{"role": "user", "content": "/bypass hi"}], "stream": false}),
        )
        .await;
    assert_eq!(code, 503, "{v}");
    assert!(
        v["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("/bypass cannot answer"),
        "{v}"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_stream_sends_references_first_and_replays_from_the_cache() {
    let s = server().await;
    let q = json!({"query": "Who runs the Orin ferry?", "mode": "mix"});
    let resp = s
        .req(reqwest::Method::POST, "/query/stream", "")
        .json(&q)
        .send()
        .await
        .unwrap();
    let lines = ndjson(resp).await;
    assert_eq!(
        lines[0]["references"][0]["file_path"], "ferry.txt",
        "{lines:?}"
    );
    assert!(lines.len() > 2, "the answer comes in pieces: {lines:?}");
    let text: String = lines[1..]
        .iter()
        .map(|l| l["response"].as_str().unwrap())
        .collect();
    assert_eq!(text, "Orin Lines runs the ferry across Lake Orin [1].");

    // The same question again: one line from the cache, same answer; /query agrees.
    let resp = s
        .req(reqwest::Method::POST, "/query/stream", "")
        .json(&q)
        .send()
        .await
        .unwrap();
    let again = ndjson(resp).await;
    assert_eq!(again.len(), 1, "{again:?}");
    assert_eq!(again[0]["response"], text.as_str());
    assert_eq!(again[0]["references"][0]["file_path"], "ferry.txt");
    let (_, v) = s.post("/query", "", q.clone()).await;
    assert_eq!(v["response"], text.as_str());
    assert_eq!(v["llm_generated"], true);
    s.stop().await;
}

/// A model that is down.
struct DownChat;

#[async_trait::async_trait]
impl lightrag_core::ports::ChatModel for DownChat {
    fn identity(&self) -> String {
        "down".into()
    }
    async fn complete(
        &self,
        _: &lightrag_core::ports::ChatRequest,
    ) -> lightrag_core::Result<String> {
        Err(lightrag_core::Error::Llm("connection refused".into()))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_health_probes_the_models() {
    let s = server().await;
    let (code, h) = s.get("/health?deep=true", "").await;
    assert_eq!(code, 200);
    assert_eq!(h["status"], "healthy", "{h}");
    assert_eq!(h["models"]["embedding"]["reachable"], true, "{h}");
    assert_eq!(h["models"]["llm"]["reachable"], true, "{h}");
    let (_, plain) = s.get("/health", "").await;
    assert!(
        plain.get("models").is_none(),
        "models are probed only when asked"
    );

    let down = TestServer::start_with(&[], Some(Arc::new(DownChat))).await;
    let (code, h) = down.get("/health?deep=true", "").await;
    assert_eq!(code, 200);
    assert_eq!(h["status"], "degraded", "{h}");
    assert_eq!(h["models"]["llm"]["reachable"], false);
    assert!(h["models"]["llm"]["error"]
        .as_str()
        .unwrap()
        .contains("connection refused"));
    let offline = TestServer::start(&[]).await;
    let (_, h) = offline.get("/health?deep=true", "").await;
    assert_eq!(h["models"]["llm"]["configured"], false);
    assert_eq!(h["status"], "healthy");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_with_progress_lines() {
    let s = server().await;
    let q = json!({"query": "Who runs the Orin ferry?", "include_progress": true});
    let resp = s
        .req(reqwest::Method::POST, "/query/stream", "")
        .json(&q)
        .send()
        .await
        .unwrap();
    let lines = ndjson(resp).await;
    assert_eq!(lines[0]["progress"], "extracting_keywords", "{lines:?}");
    assert_eq!(lines[1]["progress"], "generating_response", "{lines:?}");
    assert_eq!(lines[2]["references"][0]["file_path"], "ferry.txt");
    assert!(lines.last().unwrap()["response_time"].is_number());
    // With progress on, the response has started: a failure is an `error` line.
    let resp = s
        .req(reqwest::Method::POST, "/query/stream", "")
        .json(&json!({"query": "ab", "include_progress": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let lines = ndjson(resp).await;
    assert!(
        lines
            .iter()
            .any(|l| l["error"].as_str().is_some_and(|e| e.contains("too short"))),
        "{lines:?}"
    );
    assert!(lines.last().unwrap()["response_time"].is_number());
    s.stop().await;
}
