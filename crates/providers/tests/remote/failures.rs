//! Failures: retries (429, 5xx, Retry-After), no retry on other 4xx, connection refused,
//! the first-token, idle and total timeouts, broken streams, TLS.

use std::time::{Duration, Instant};

use lightrag_core::ports::EmbedPurpose;
use lightrag_core::Error;
use lightrag_providers::remote::Binding;

use crate::support::*;

#[tokio::test]
async fn embeddings_retry_after_429() {
    let srv = Server::start(r#"[{"kind": "embed", "status": 429, "fail_times": 2}]"#).await;
    let e = embedder(
        Binding::OpenAi,
        embed_settings(srv.host(Binding::OpenAi), 384),
    );
    let v = e
        .embed(&["a".to_string()], EmbedPurpose::Document)
        .await
        .unwrap();
    assert_eq!(v.len(), 1);
    assert_eq!(srv.stats().await["embed_calls"], 3);
}

#[tokio::test]
async fn rate_limit_is_retried_then_succeeds() {
    let script = r#"[{"match": "busy", "reply": "done at last", "status": 429, "fail_times": 2}]"#;
    for b in BINDINGS {
        let srv = Server::start(script).await;
        let model = chat(b, chat_settings(b, srv.host(b)));
        assert_eq!(model.complete(&ask("busy?")).await.unwrap(), "done at last");
        assert_eq!(srv.stats().await["chat_calls"], 3, "{b:?}");
        // A stream is retried as well while nothing was received.
        reqwest::Client::new()
            .post(format!("{}/test/reset", srv.base))
            .send()
            .await
            .unwrap();
        let (pieces, err) = collect(model.as_ref(), &ask("busy?")).await;
        assert!(err.is_none(), "{err:?}");
        assert_eq!(pieces.concat(), "done at last");
        assert_eq!(srv.stats().await["chat_calls"], 3);
    }
}

#[tokio::test]
async fn retry_after_is_respected() {
    let script = r#"[{"status": 429, "fail_times": 1, "retry_after": 1, "reply": "ok"}]"#;
    let srv = Server::start(script).await;
    let model = chat(
        Binding::OpenAi,
        chat_settings(Binding::OpenAi, srv.host(Binding::OpenAi)),
    );
    let start = Instant::now();
    assert_eq!(model.complete(&ask("x")).await.unwrap(), "ok");
    assert!(
        start.elapsed() >= Duration::from_millis(950),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn server_errors_exhaust_retries_with_a_clear_message() {
    let srv = Server::start(r#"[{"status": 500}]"#).await;
    for b in BINDINGS {
        let mut s = chat_settings(b, srv.host(b));
        s.api_key = Some("sk-never-shown".into());
        let err = llm_message(chat(b, s).complete(&ask("x")).await.unwrap_err());
        assert!(err.contains("HTTP 500"), "{err}");
        assert!(
            err.contains(&srv.base) && err.contains("test-llm:latest"),
            "{err}"
        );
        assert!(
            err.contains(b.as_str()) && err.contains("after 4 attempts"),
            "{err}"
        );
        assert!(err.contains("scripted failure"), "body excerpt: {err}");
        assert!(!err.contains("sk-never-shown"), "{err}");
    }
    assert_eq!(srv.stats().await["chat_calls"], 8);
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let srv = Server::start(r#"[{"status": 400}]"#).await;
    for b in BINDINGS {
        let err = llm_message(
            chat(b, chat_settings(b, srv.host(b)))
                .complete(&ask("x"))
                .await
                .unwrap_err(),
        );
        assert!(
            err.contains("HTTP 400") && !err.contains("attempts"),
            "{err}"
        );
        let (_, err) = collect(chat(b, chat_settings(b, srv.host(b))).as_ref(), &ask("x")).await;
        assert!(llm_message(err.unwrap()).contains("HTTP 400"));
    }
    assert_eq!(srv.stats().await["chat_calls"], 4);
}

#[tokio::test]
async fn connection_refused_is_reported() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    for b in BINDINGS {
        let host = format!("http://127.0.0.1:{port}");
        let mut s = chat_settings(b, host.clone());
        s.retry = fast_retry(1);
        let err = llm_message(chat(b, s).complete(&ask("x")).await.unwrap_err());
        assert!(
            err.contains("cannot connect") && err.contains(&host),
            "{err}"
        );
        assert!(err.contains("after 2 attempts"), "{err}");
        let e = embedder(b, embed_settings(host.clone(), 8));
        match e.embed(&["x".into()], EmbedPurpose::Query).await {
            Err(Error::Embedding(m)) => assert!(m.contains("cannot connect"), "{m}"),
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn first_token_timeout() {
    let srv = Server::start(r#"[{"delay_ms": 3000, "reply": "late"}]"#).await;
    for b in BINDINGS {
        let mut s = chat_settings(b, srv.host(b));
        s.timeouts = timeouts(Some(200), None, 10_000);
        s.retry = fast_retry(1);
        let model = chat(b, s);
        let start = Instant::now();
        let err = llm_message(model.complete(&ask("x")).await.unwrap_err());
        assert!(
            err.contains("first-token timeout") && err.contains("after 2 attempts"),
            "{err}"
        );
        let (pieces, err) = collect(model.as_ref(), &ask("x")).await;
        assert!(pieces.is_empty());
        assert!(llm_message(err.unwrap()).contains("first-token timeout"));
        assert!(
            start.elapsed() < Duration::from_millis(2500),
            "{:?}",
            start.elapsed()
        );
    }
}

#[tokio::test]
async fn idle_timeout_mid_stream() {
    let srv = Server::start(r#"[{"hang_ms": 3000, "reply": "one two three"}]"#).await;
    for b in BINDINGS {
        let mut s = chat_settings(b, srv.host(b));
        s.timeouts = timeouts(Some(2000), Some(200), 10_000);
        let start = Instant::now();
        let (pieces, err) = collect(chat(b, s).as_ref(), &ask("x")).await;
        let err = llm_message(err.expect("idle timeout"));
        assert!(err.contains("idle timeout"), "{err}");
        assert!(start.elapsed() < Duration::from_millis(2500));
        // Ollama's first line carries the first word; OpenAI's first event is the role header.
        let want: &[&str] = if b == Binding::Ollama { &["one "] } else { &[] };
        assert_eq!(pieces, want, "{b:?}");
    }
    assert_eq!(
        srv.stats().await["chat_calls"],
        2,
        "a started stream is not retried"
    );
}

#[tokio::test]
async fn total_timeout() {
    // Headers come at once; the body stalls (non-streaming) or drips (streaming).
    let script = r#"[{"match": "stall", "hang_ms": 3000}, {"match": "drip", "chunk_delay_ms": 150, "reply": "a b c d e f g h i j"}]"#;
    let srv = Server::start(script).await;
    for b in BINDINGS {
        let mut s = chat_settings(b, srv.host(b));
        s.timeouts = timeouts(None, Some(1000), 500);
        s.retry = fast_retry(0);
        let model = chat(b, s);
        let start = Instant::now();
        let err = llm_message(model.complete(&ask("stall")).await.unwrap_err());
        assert!(err.contains("total timeout"), "{err}");
        let (pieces, err) = collect(model.as_ref(), &ask("drip")).await;
        assert!(llm_message(err.unwrap()).contains("total timeout"));
        assert!(!pieces.is_empty() && pieces.len() < 10, "{pieces:?}");
        assert!(start.elapsed() < Duration::from_millis(2500));
    }
}

#[tokio::test]
async fn broken_stream_is_an_error() {
    let srv = Server::start(r#"[{"abort_after_chunks": 2, "reply": "one two three four"}]"#).await;
    for b in BINDINGS {
        let (pieces, err) =
            collect(chat(b, chat_settings(b, srv.host(b))).as_ref(), &ask("x")).await;
        let err = llm_message(err.expect("broken stream"));
        assert!(err.contains("stream"), "{err}");
        assert!(pieces.len() < 4);
    }
}

#[cfg(feature = "tls")]
#[tokio::test]
async fn https_host_goes_through_rustls() {
    let srv = Server::start("[]").await;
    let host = srv.base.replace("http://", "https://");
    let mut s = chat_settings(Binding::Ollama, host);
    s.retry = fast_retry(0);
    // The test server speaks plain HTTP: the TLS handshake fails, cleanly (the ring provider is
    // installed; without one rustls would panic).
    let err = llm_message(
        chat(Binding::Ollama, s)
            .complete(&ask("x"))
            .await
            .unwrap_err(),
    );
    assert!(
        err.contains("cannot connect") && err.contains("https://127.0.0.1"),
        "{err}"
    );
}
