//! Remote model servers: chat and embedding adapters for Ollama (`/api/chat`, `/api/embed`)
//! and any OpenAI-compatible server (`/v1/chat/completions`, `/v1/embeddings`: OpenAI, vLLM,
//! llama.cpp, LM Studio, ...), as LightRAG's `ollama` and `openai` bindings, and rerank
//! adapters for LightRAG's `cohere`, `jina` and `aliyun` rerank bindings ([`RemoteReranker`]).
//!
//! All of them share one HTTP layer ([`http`](self)): retries with exponential backoff and
//! jitter after timeouts, connection failures, 429 and 5xx (honouring `Retry-After`), never
//! after another 4xx; four timeouts ([`Timeouts`]: connect, first token, idle gap between
//! streamed chunks, total); and errors that name the binding, host, model, HTTP status and a
//! body excerpt, never the API key. Embeddings are checked against the configured dimension
//! and L2-normalised.
//!
//! HTTPS uses rustls with the `ring` provider (feature `tls`, on by default), not reqwest's
//! default aws-lc-rs, whose C build is slow; without the feature only `http://` hosts work.

mod adapter;
mod http;
mod ollama;
mod openai;
mod rerank;
mod retry;
mod settings;
mod stream;
mod vectors;

use std::sync::Arc;

use lightrag_core::config::{Config, LlmConfig, LlmRole};
use lightrag_core::error::Result;
use lightrag_core::ports::{ChatMessage, ChatModel, ChatRequest, Embedder};
use serde_json::{json, Value};

pub use adapter::{RemoteChat, RemoteEmbedder};
pub use rerank::{
    reranker, windows as rerank_windows, RemoteReranker, RerankBinding, RerankSettings,
    ALIYUN_DEFAULT_HOST, COHERE_DEFAULT_HOST, JINA_DEFAULT_HOST,
};
pub use retry::{RetryPolicy, RETRY_AFTER_CAP};
pub use settings::{
    Binding, ChatSettings, EmbedSettings, Timeouts, OLLAMA_DEFAULT_HOST, OPENAI_DEFAULT_HOST,
};

/// The chat model of one role of the configuration (`role_name`: `extract`, `keyword`,
/// `query`), by its binding.
pub fn chat_model(role_name: &str, role: &LlmRole, cfg: &LlmConfig) -> Result<Arc<dyn ChatModel>> {
    let settings = ChatSettings::from_config(role_name, role, cfg)?;
    Ok(Arc::new(RemoteChat::new(
        Binding::parse(&role.binding)?,
        settings,
    )?))
}

/// The embedder of EMBEDDING_BINDING `ollama` or `openai`.
pub fn embedder(cfg: &Config) -> Result<Arc<dyn Embedder>> {
    let settings = EmbedSettings::from_config(cfg);
    Ok(Arc::new(RemoteEmbedder::new(
        Binding::parse(&cfg.embedding_binding)?,
        settings,
    )?))
}

/// LightRAG's `llm_identity`: compact JSON with sorted keys and ASCII escapes (Python's
/// `json.dumps(..., sort_keys=True, separators=(",", ":"))`) of binding, host, model and,
/// when set, role.
pub fn identity_json(binding: &str, host: &str, model: &str, role: Option<&str>) -> String {
    let mut fields = vec![("binding", binding), ("host", host), ("model", model)];
    if let Some(r) = role {
        fields.push(("role", r));
    }
    let body: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("\"{k}\":{}", ascii_json(v)))
        .collect();
    format!("{{{}}}", body.join(","))
}

/// A JSON string literal with every non-ASCII character as `\uXXXX` (as Python writes it).
fn ascii_json(s: &str) -> String {
    let quoted = Value::String(s.to_string()).to_string();
    let mut out = String::with_capacity(quoted.len());
    for c in quoted.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    out
}

/// The `messages` of a request: system, history, then the prompt as the user's turn.
fn messages(req: &ChatRequest) -> Vec<Value> {
    let mut out = Vec::with_capacity(req.history.len() + 2);
    if let Some(system) = req.system.as_deref().filter(|s| !s.is_empty()) {
        out.push(json!({"role": "system", "content": system}));
    }
    out.extend(
        req.history
            .iter()
            .map(|ChatMessage { role, content }| json!({"role": role, "content": content})),
    );
    out.push(json!({"role": "user", "content": req.prompt}));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_is_sorted_compact_ascii() {
        assert_eq!(
            identity_json("ollama", "http://h:1", "qwen3:8b", None),
            r#"{"binding":"ollama","host":"http://h:1","model":"qwen3:8b"}"#
        );
        assert_eq!(
            identity_json("openai", "h", "modèle😀", Some("extract")),
            r#"{"binding":"openai","host":"h","model":"mod\u00e8le\ud83d\ude00","role":"extract"}"#
        );
    }

    #[test]
    fn messages_order() {
        let req = ChatRequest {
            system: Some("sys".into()),
            history: vec![ChatMessage {
                role: "assistant".into(),
                content: "before".into(),
            }],
            prompt: "now".into(),
            ..ChatRequest::default()
        };
        let m = messages(&req);
        let roles: Vec<&str> = m.iter().filter_map(|v| v["role"].as_str()).collect();
        assert_eq!(roles, ["system", "assistant", "user"]);
    }
}
