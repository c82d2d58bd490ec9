//! The rerank adapters (Cohere, Jina, DashScope) against the protocol-level test server, in
//! process on a random port: each API's request shape, the Bearer key, parsing and ordering of
//! replies, replies in an unknown shape, retries after 503 and none after 4xx, and scoring of
//! long documents by windows.

use std::time::Duration;

use lightrag_core::config::Settings;
use lightrag_core::ports::Reranker;
use lightrag_providers::remote::{
    reranker, RemoteReranker, RerankBinding, RerankSettings, RetryPolicy,
};
use lightrag_testserver::{serve, Script, ServerConfig};
use serde_json::{json, Value};

const BINDINGS: [RerankBinding; 3] = [
    RerankBinding::Cohere,
    RerankBinding::Jina,
    RerankBinding::Aliyun,
];

struct Server {
    base: String,
    handle: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

impl Server {
    async fn start(script: &str, key: Option<&str>) -> Server {
        let cfg = ServerConfig {
            script: Script::from_json(script).expect("script"),
            rerank_api_key: key.map(str::to_string),
            ..ServerConfig::default()
        };
        let (addr, handle) = serve(cfg).await.expect("bind");
        Server {
            base: format!("http://{addr}"),
            handle,
        }
    }

    /// The endpoint URL of a binding on this server (RERANK_BINDING_HOST).
    fn endpoint(&self, b: RerankBinding) -> String {
        let path = match b {
            RerankBinding::Cohere => "/v2/rerank",
            RerankBinding::Jina => "/v1/rerank",
            RerankBinding::Aliyun => "/api/v1/services/rerank/text-rerank/text-rerank",
        };
        format!("{}{path}", self.base)
    }

    async fn get(&self, path: &str) -> Value {
        reqwest::get(format!("{}{path}", self.base))
            .await
            .expect("GET")
            .json()
            .await
            .expect("JSON")
    }

    async fn rerank_calls(&self) -> u64 {
        self.get("/test/stats").await["rerank_calls"]
            .as_u64()
            .expect("rerank_calls")
    }
}

fn settings(host: String, key: Option<&str>) -> RerankSettings {
    RerankSettings {
        host,
        api_key: key.map(str::to_string),
        retry: RetryPolicy {
            max_retries: 2,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
        },
        ..RerankSettings::new()
    }
}

fn adapter(b: RerankBinding, s: RerankSettings) -> RemoteReranker {
    RemoteReranker::new(b, s).expect("adapter")
}

fn docs() -> Vec<String> {
    [
        "The ferry crosses Lake Orin twice a day.",
        "Herons nest on the islands of Lake Orin in spring.",
        "The museum opens at nine.",
        "Heron counts are made by the Orin Bird Trust every spring; herons nest early.",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

#[tokio::test]
async fn each_binding_sends_its_shape_and_reads_its_reply() {
    let srv = Server::start("[]", Some("rk-secret")).await;
    for b in BINDINGS {
        let r = adapter(b, settings(srv.endpoint(b), Some("rk-secret")));
        let hits = r
            .rerank("When do herons nest?", &docs(), Some(2))
            .await
            .unwrap_or_else(|e| panic!("{b:?}: {e}"));
        let order: Vec<usize> = hits.iter().map(|h| h.index).collect();
        assert_eq!(order.len(), 2, "{b:?}: top_n");
        assert!(order.iter().all(|i| [1, 3].contains(i)), "{b:?}: {order:?}");
        assert!(hits[0].relevance_score >= hits[1].relevance_score);
        assert!(hits[1].relevance_score > 0.0);
        assert_eq!(r.binding(), b.as_str());
        assert_eq!(r.model(), b.default_model());
    }
    let reqs = srv.get("/test/requests").await;
    let reqs = reqs.as_array().unwrap();
    assert_eq!(reqs.len(), 3);
    for r in reqs {
        assert_eq!(r["authorization"], "Bearer rk-secret");
    }
    let cohere = &reqs[0]["body"];
    assert_eq!(reqs[0]["path"], "/v2/rerank");
    assert_eq!(
        *cohere,
        json!({"model": "rerank-v3.5", "query": "When do herons nest?", "documents": docs(), "top_n": 2})
    );
    let jina = &reqs[1]["body"];
    assert_eq!(reqs[1]["path"], "/v1/rerank");
    assert_eq!(jina["model"], "jina-reranker-v2-base-multilingual");
    assert_eq!(jina["return_documents"], false);
    assert_eq!(jina["top_n"], 2);
    let ali = &reqs[2]["body"];
    assert_eq!(ali["model"], "gte-rerank-v2");
    assert_eq!(ali["input"]["query"], "When do herons nest?");
    assert_eq!(ali["input"]["documents"], json!(docs()));
    assert_eq!(
        ali["parameters"],
        json!({"top_n": 2, "return_documents": false})
    );
    assert_eq!(srv.rerank_calls().await, 3);
}

#[tokio::test]
async fn a_missing_or_wrong_key_is_refused_once() {
    let srv = Server::start("[]", Some("rk-right")).await;
    for b in BINDINGS {
        for key in [None, Some("rk-wrong")] {
            let e = adapter(b, settings(srv.endpoint(b), key))
                .rerank("herons", &docs(), None)
                .await
                .unwrap_err();
            assert!(!e.is_retryable(), "{b:?}: {e}");
            assert!(e.message.contains("HTTP 401"), "{b:?}: {e}");
            assert!(e.message.contains(b.as_str()), "{e}");
            assert!(!e.message.contains("rk-wrong"), "the key never shows: {e}");
        }
    }
    let reqs = srv.get("/test/requests").await;
    assert_eq!(reqs.as_array().unwrap().len(), 0, "refused before reading");
}

#[tokio::test]
async fn replies_are_validated_and_ordered() {
    // A proxy that answers out of order, with one bad entry.
    let reply = json!({"results": [
        {"index": 0, "relevance_score": 0.1},
        {"index": 9, "relevance_score": 0.9},
        {"index": 2, "relevance_score": 0.8},
        {"index": 1, "relevance_score": "x"}
    ]});
    let script = json!([{"kind": "rerank", "match": "proxy", "reply": reply.to_string()}]);
    let srv = Server::start(&script.to_string(), None).await;
    let b = RerankBinding::Cohere;
    let hits = adapter(b, settings(srv.endpoint(b), None))
        .rerank("proxy question", &docs(), None)
        .await
        .unwrap();
    let pairs: Vec<(usize, f32)> = hits.iter().map(|h| (h.index, h.relevance_score)).collect();
    assert_eq!(pairs, [(2, 0.8), (0, 0.1)]);
}

#[tokio::test]
async fn a_reply_in_another_shape_is_an_error() {
    // Cohere's shape sent to a DashScope client, and text that is not JSON.
    let script = json!([
        {"kind": "rerank", "match": "shape", "reply": "{\"results\": []}"},
        {"kind": "rerank", "match": "garbage", "reply": "<html>busy</html>"}
    ]);
    let srv = Server::start(&script.to_string(), None).await;
    let b = RerankBinding::Aliyun;
    let r = adapter(b, settings(srv.endpoint(b), None));
    let e = r.rerank("shape", &docs(), None).await.unwrap_err();
    assert!(e.message.contains("output.results"), "{e}");
    assert!(!e.is_retryable());
    let e = r.rerank("garbage", &docs(), None).await.unwrap_err();
    assert!(e.message.contains("not JSON"), "{e}");
    assert!(!e.is_retryable());
}

#[tokio::test]
async fn unavailable_is_retried_then_succeeds_or_reported_as_retryable() {
    let script = r#"[{"kind": "rerank", "match": "busy", "status": 503, "fail_times": 2},
                     {"kind": "rerank", "match": "down", "status": 503}]"#;
    for b in BINDINGS {
        let srv = Server::start(script, None).await;
        let r = adapter(b, settings(srv.endpoint(b), None));
        let hits = r.rerank("busy herons", &docs(), Some(1)).await.unwrap();
        assert_eq!(hits.len(), 1, "{b:?}");
        assert_eq!(
            srv.rerank_calls().await,
            3,
            "{b:?}: two 503s, then the answer"
        );
        let e = r.rerank("down herons", &docs(), Some(1)).await.unwrap_err();
        assert!(e.is_retryable(), "{b:?}: {e}");
        assert!(
            e.message.contains("HTTP 503") && e.message.contains("after 3 attempts"),
            "{e}"
        );
        assert_eq!(srv.rerank_calls().await, 6);
    }
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let srv = Server::start(r#"[{"kind": "rerank", "status": 422}]"#, None).await;
    let b = RerankBinding::Jina;
    let e = adapter(b, settings(srv.endpoint(b), None))
        .rerank("herons", &docs(), None)
        .await
        .unwrap_err();
    assert!(e.message.contains("HTTP 422") && !e.is_retryable(), "{e}");
    assert_eq!(srv.rerank_calls().await, 1);
}

#[tokio::test]
async fn long_documents_are_scored_by_their_best_window() {
    let srv = Server::start("[]", None).await;
    let filler = "Budgets, minutes and the agenda of the annual meeting. ".repeat(60);
    let long = format!("{filler} Herons nest on the islands in spring. {filler}");
    let documents = vec![
        "The ferry crosses the lake.".to_string(),
        long,
        "The museum opens at nine.".to_string(),
    ];
    let mut s = settings(srv.endpoint(RerankBinding::Cohere), None);
    s.enable_chunking = true;
    s.max_tokens_per_doc = 64;
    let hits = adapter(RerankBinding::Cohere, s)
        .rerank("Where do herons nest?", &documents, Some(1))
        .await
        .unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].index, 1, "the window with the answer wins");
    let reqs = srv.get("/test/requests").await;
    let body = &reqs[0]["body"];
    assert!(body.get("top_n").is_none(), "every window is scored");
    assert!(body["documents"].as_array().unwrap().len() > 10);
}

#[tokio::test]
async fn settings_pick_the_binding_and_its_defaults() {
    let srv = Server::start("[]", Some("dk")).await;
    let s = Settings::from_pairs(&[
        ("RERANK_BINDING", "aliyun"),
        ("DASHSCOPE_API_KEY", "dk"),
        ("RERANK_MODEL", "gte-rerank-test"),
    ]);
    let mut cfg = s.to_config().unwrap();
    assert!(reranker(&Settings::default().to_config().unwrap())
        .unwrap()
        .is_none());
    let r = cfg.rerank.as_mut().unwrap();
    r.host = srv.endpoint(RerankBinding::Aliyun);
    let r = reranker(&cfg).unwrap().expect("a reranker");
    assert_eq!((r.binding(), r.model()), ("aliyun", "gte-rerank-test"));
    let hits = r.rerank("herons", &docs(), Some(3)).await.unwrap();
    assert_eq!(hits.len(), 3);
    let bad = Settings::from_pairs(&[
        ("RERANK_BINDING", "jina"),
        ("RERANK_BINDING_HOST", "ftp://x"),
    ]);
    assert!(reranker(&bad.to_config().unwrap()).is_err());
}
