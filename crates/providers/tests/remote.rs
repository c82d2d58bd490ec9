//! The remote adapters against the protocol-level test server (`lightrag-testserver`, run in
//! process on a random port): replies, streaming, request fields and embeddings here; retries,
//! timeouts and error messages in `failures`. Both bindings throughout.

#[path = "remote/failures.rs"]
mod failures;
#[path = "remote/support.rs"]
mod support;

use std::time::Duration;

use lightrag_core::hashing::HashingEmbedder;
use lightrag_core::ports::{ChatMessage, ChatModel, ChatRequest, EmbedPurpose};
use lightrag_core::Error;
use lightrag_providers::remote::{
    Binding, ChatSettings, EmbedSettings, RemoteChat, RemoteEmbedder,
};
use serde_json::Value;

use support::*;

#[tokio::test]
async fn complete_and_stream_both_bindings() {
    let script = r#"{"rules": [{"match": "capital", "reply": "Paris is the capital of France."}],
                     "default_reply": "echo: {{prompt}}"}"#;
    let srv = Server::start(script).await;
    for b in BINDINGS {
        let model = chat(b, chat_settings(b, srv.host(b)));
        let reply = model.complete(&ask("What is the capital?")).await.unwrap();
        assert_eq!(reply, "Paris is the capital of France.", "{b:?}");
        assert_eq!(model.complete(&ask("hello")).await.unwrap(), "echo: hello");
        let (pieces, err) = collect(model.as_ref(), &ask("the capital, please")).await;
        assert!(err.is_none(), "{b:?}: {err:?}");
        assert!(pieces.len() > 3, "{b:?} streamed in pieces: {pieces:?}");
        assert_eq!(pieces.concat(), "Paris is the capital of France.");
    }
    let stats = srv.stats().await;
    assert_eq!(stats["chat_calls"], 6);
    assert_eq!(stats["in_flight"], 0);
}

#[tokio::test]
async fn request_fields_json_mode_options_and_key() {
    let srv = Server::start("[]").await;
    let req = ChatRequest {
        system: Some("You extract.".into()),
        history: vec![ChatMessage {
            role: "assistant".into(),
            content: "earlier".into(),
        }],
        prompt: "Give JSON".into(),
        json: true,
        no_think: true,
        ..ChatRequest::default()
    };
    for b in BINDINGS {
        let mut s = chat_settings(b, srv.host(b));
        s.temperature = Some(0.25);
        s.max_tokens = Some(77);
        s.api_key = Some("sk-secret-test-key".into());
        chat(b, s).complete(&req).await.unwrap();
    }
    let reqs = srv.requests().await;
    assert_eq!(reqs.len(), 2);
    let (ollama, openai) = (&reqs[0]["body"], &reqs[1]["body"]);
    for body in [ollama, openai] {
        let roles: Vec<&str> = body["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["role"].as_str().unwrap())
            .collect();
        assert_eq!(roles, ["system", "assistant", "user"]);
        assert_eq!(body["stream"], false);
    }
    assert_eq!(ollama["format"], "json");
    assert_eq!(ollama["think"], false);
    assert_eq!(ollama["options"]["temperature"], 0.25);
    assert_eq!(ollama["options"]["num_predict"], 77);
    assert_eq!(ollama["options"]["num_ctx"], 32768);
    assert_eq!(openai["response_format"]["type"], "json_object");
    assert_eq!(openai["temperature"], 0.25);
    assert_eq!(openai["max_tokens"], 77);
    assert_eq!(reqs[1]["authorization"], "Bearer sk-secret-test-key");

    // Without json/no_think: no format, and `think` only when configured.
    let model = RemoteChat::new(
        Binding::Ollama,
        chat_settings(Binding::Ollama, srv.host(Binding::Ollama)),
    )
    .unwrap()
    .with_think(Some(true));
    model.complete(&ask("plain")).await.unwrap();
    let last = srv.requests().await.pop().unwrap();
    assert!(last["body"].get("format").is_none());
    assert_eq!(last["body"]["think"], true);
    assert!(last["authorization"].is_null());
}

#[tokio::test]
async fn reasoning_text_is_not_part_of_the_reply() {
    let srv = Server::start(r#"[{"reply": "answer", "thinking": "let me think"}]"#).await;
    for b in BINDINGS {
        let model = chat(b, chat_settings(b, srv.host(b)));
        assert_eq!(model.complete(&ask("q")).await.unwrap(), "answer");
        let (pieces, err) = collect(model.as_ref(), &ask("q")).await;
        assert!(err.is_none());
        assert_eq!(pieces.concat(), "answer");
    }
}

#[tokio::test]
async fn identity_is_lightrag_llm_identity() {
    let mut s = ChatSettings::new(Binding::Ollama, "qwen3:8b");
    s.role = Some("extract".into());
    let model = RemoteChat::new(Binding::Ollama, s).unwrap();
    assert_eq!(
        model.identity(),
        r#"{"binding":"ollama","host":"http://localhost:11434","model":"qwen3:8b","role":"extract"}"#
    );
    let model = RemoteChat::new(
        Binding::OpenAi,
        ChatSettings::new(Binding::OpenAi, "gpt-4o-mini"),
    )
    .unwrap();
    assert_eq!(
        model.identity(),
        r#"{"binding":"openai","host":"https://api.openai.com/v1","model":"gpt-4o-mini"}"#
    );
}

#[tokio::test]
async fn embeddings_order_normalisation_base64_and_batches() {
    let srv = Server::with("[]", |c| c.embed_scale = 3.0).await;
    let texts: Vec<String> = [
        "alpha beta",
        "gamma",
        "delta epsilon zeta",
        "eta",
        "theta iota",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let reference = HashingEmbedder::new(384);
    for b in BINDINGS {
        for base64 in [true, false] {
            let mut s = embed_settings(srv.host(b), 384);
            s.batch_size = 2;
            s.use_base64 = base64;
            let e = embedder(b, s);
            assert_eq!(e.dim(), 384);
            assert_eq!(e.model_name(), "test-embed:latest");
            let vectors = e.embed(&texts, EmbedPurpose::Document).await.unwrap();
            assert_eq!(vectors.len(), texts.len());
            for (t, v) in texts.iter().zip(&vectors) {
                let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                assert!((norm - 1.0).abs() < 1e-5, "{b:?}: norm {norm}");
                let want = reference.embed_one(t);
                let diff: f32 = want.iter().zip(v).map(|(a, b)| (a - b).abs()).sum();
                assert!(
                    diff < 1e-4,
                    "{b:?} base64={base64}: {t} out of order or wrong"
                );
            }
        }
    }
    // 5 texts in batches of 2: 3 calls per adapter run, 4 runs.
    assert_eq!(srv.stats().await["embed_calls"], 12);
    let reqs = srv.requests().await;
    let formats: Vec<&Value> = reqs
        .iter()
        .filter(|r| r["path"] == "/v1/embeddings")
        .map(|r| &r["body"]["encoding_format"])
        .collect();
    assert_eq!(formats.first().and_then(|v| v.as_str()), Some("base64"));
    assert_eq!(formats.last().and_then(|v| v.as_str()), Some("float"));
    assert_eq!(reqs[0]["body"]["input"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn embedding_dimension_mismatch_names_both() {
    let srv = Server::start("[]").await;
    for b in BINDINGS {
        let e = embedder(b, embed_settings(srv.host(b), 256));
        match e.embed(&["x".to_string()], EmbedPurpose::Query).await {
            Err(Error::Embedding(m)) => {
                assert!(m.contains("384") && m.contains("256"), "{m}");
                assert!(
                    m.contains(b.as_str()) && m.contains("test-embed:latest"),
                    "{m}"
                );
            }
            other => panic!("expected an embedding error, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn concurrency_is_tracked() {
    let srv = Server::with("[]", |c| c.latency = Duration::from_millis(300)).await;
    let model = chat(
        Binding::Ollama,
        chat_settings(Binding::Ollama, srv.host(Binding::Ollama)),
    );
    let req = ask("x");
    let calls = (0..4).map(|_| model.complete(&req));
    for r in futures::future::join_all(calls).await {
        r.unwrap();
    }
    let stats = srv.stats().await;
    assert_eq!(stats["chat_calls"], 4);
    assert_eq!(stats["max_in_flight"], 4);
    assert_eq!(stats["in_flight"], 0);
}

#[tokio::test]
async fn bad_settings_are_refused() {
    let mut s = ChatSettings::new(Binding::Ollama, "m");
    s.host = "not a url".into();
    assert!(matches!(
        RemoteChat::new(Binding::Ollama, s),
        Err(Error::Config(_))
    ));
    assert!(matches!(
        RemoteChat::new(Binding::OpenAi, ChatSettings::new(Binding::OpenAi, " ")),
        Err(Error::Config(_))
    ));
    assert!(matches!(
        RemoteEmbedder::new(Binding::Ollama, EmbedSettings::new("m", 0)),
        Err(Error::Config(_))
    ));
}
