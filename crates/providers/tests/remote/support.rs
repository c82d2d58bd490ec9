//! Helpers of the remote adapter tests: the in-process test server, settings with fast
//! retries, and adapters by binding.

use std::time::Duration;

use futures::StreamExt;
use lightrag_core::ports::{ChatModel, ChatRequest, Embedder};
use lightrag_core::Error;
use lightrag_providers::remote::{
    Binding, ChatSettings, EmbedSettings, RemoteChat, RemoteEmbedder, RetryPolicy, Timeouts,
};
use lightrag_testserver::{serve, Script, ServerConfig};
use serde_json::Value;

pub const BINDINGS: [Binding; 2] = [Binding::Ollama, Binding::OpenAi];

pub struct Server {
    pub base: String,
    handle: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

impl Server {
    pub async fn start(script: &str) -> Server {
        Server::with(script, |_| {}).await
    }

    pub async fn with(script: &str, tweak: impl FnOnce(&mut ServerConfig)) -> Server {
        let mut cfg = ServerConfig {
            script: Script::from_json(script).expect("test script"),
            ..ServerConfig::default()
        };
        tweak(&mut cfg);
        let (addr, handle) = serve(cfg).await.expect("bind test server");
        Server {
            base: format!("http://{addr}"),
            handle,
        }
    }

    /// The adapter host of a binding (OpenAI-compatible hosts include /v1).
    pub fn host(&self, binding: Binding) -> String {
        match binding {
            Binding::Ollama => self.base.clone(),
            Binding::OpenAi => format!("{}/v1", self.base),
        }
    }

    pub async fn get(&self, path: &str) -> Value {
        let resp = reqwest::get(format!("{}{path}", self.base))
            .await
            .expect("GET");
        resp.json().await.expect("JSON")
    }

    pub async fn stats(&self) -> Value {
        self.get("/test/stats").await
    }

    pub async fn requests(&self) -> Vec<Value> {
        self.get("/test/requests")
            .await
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

pub fn fast_retry(max_retries: usize) -> RetryPolicy {
    RetryPolicy {
        max_retries,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(40),
    }
}

pub fn chat_settings(binding: Binding, host: String) -> ChatSettings {
    ChatSettings {
        host,
        retry: fast_retry(3),
        timeouts: Timeouts {
            connect: Duration::from_secs(2),
            first_token: None,
            idle: Some(Duration::from_secs(10)),
            total: Duration::from_secs(20),
        },
        ..ChatSettings::new(binding, "test-llm:latest")
    }
}

pub fn chat(binding: Binding, settings: ChatSettings) -> Box<dyn ChatModel> {
    Box::new(RemoteChat::new(binding, settings).expect("adapter"))
}

pub fn embedder(binding: Binding, settings: EmbedSettings) -> Box<dyn Embedder> {
    Box::new(RemoteEmbedder::new(binding, settings).expect("adapter"))
}

pub fn ask(prompt: &str) -> ChatRequest {
    ChatRequest {
        prompt: prompt.to_string(),
        ..ChatRequest::default()
    }
}

pub async fn collect(model: &dyn ChatModel, req: &ChatRequest) -> (Vec<String>, Option<Error>) {
    let mut pieces = Vec::new();
    let mut stream = match model.stream(req).await {
        Ok(s) => s,
        Err(e) => return (pieces, Some(e)),
    };
    while let Some(item) = stream.next().await {
        match item {
            Ok(p) => pieces.push(p),
            Err(e) => return (pieces, Some(e)),
        }
    }
    (pieces, None)
}

pub fn llm_message(e: Error) -> String {
    match e {
        Error::Llm(m) => m,
        other => panic!("expected Error::Llm, got {other:?}"),
    }
}

pub fn embed_settings(host: String, dim: usize) -> EmbedSettings {
    EmbedSettings {
        host,
        retry: fast_retry(3),
        ..EmbedSettings::new("test-embed:latest", dim)
    }
}

pub fn timeouts(first_token: Option<u64>, idle: Option<u64>, total: u64) -> Timeouts {
    Timeouts {
        connect: Duration::from_secs(2),
        first_token: first_token.map(Duration::from_millis),
        idle: idle.map(Duration::from_millis),
        total: Duration::from_millis(total),
    }
}
