//! Ollama: chat through `/api/chat` (`stream: false` for `complete`, NDJSON lines for
//! `stream`) with `options` `temperature`, `num_ctx`, `num_predict`, `format: "json"` for JSON
//! mode and `think`; embeddings through `/api/embed`, many inputs per call.

use std::sync::Arc;

use async_trait::async_trait;
use futures::stream::BoxStream;
use lightrag_core::error::Result;
use lightrag_core::ports::{ChatModel, ChatRequest, EmbedPurpose, Embedder};
use serde_json::{json, Map, Value};

use super::http::{Endpoint, Kind};
use super::settings::{Binding, ChatSettings, EmbedSettings};
use super::stream::{Event, Framing};
use super::{identity_json, messages, prefixed, validate_embed, vectors};

/// A chat model served by Ollama.
pub struct OllamaChat {
    ep: Arc<Endpoint>,
    settings: ChatSettings,
    identity: String,
}

impl OllamaChat {
    /// An adapter for `settings` (no request is made yet).
    pub fn new(settings: ChatSettings) -> Result<OllamaChat> {
        let ep = Endpoint::new(
            Binding::Ollama,
            Kind::Llm,
            &settings.host,
            &settings.model,
            settings.api_key.clone(),
            settings.timeouts.clone(),
            settings.retry.clone(),
        )?;
        let host = identity_host(&settings.host, Binding::Ollama);
        let identity = identity_json("ollama", &host, &settings.model, settings.role.as_deref());
        Ok(OllamaChat {
            ep: Arc::new(ep),
            settings,
            identity,
        })
    }

    /// `think` sent with every request (`None`: not sent, the model's default); a request
    /// with `no_think` sends `false` regardless.
    pub fn with_think(mut self, think: Option<bool>) -> Self {
        self.settings.think = think;
        self
    }

    /// The settings in use.
    pub fn settings(&self) -> &ChatSettings {
        &self.settings
    }

    fn body(&self, req: &ChatRequest, stream: bool) -> Value {
        let s = &self.settings;
        let mut options = Map::new();
        if let Some(t) = s.temperature {
            options.insert("temperature".into(), json!(t));
        }
        if let Some(n) = s.num_ctx {
            options.insert("num_ctx".into(), json!(n));
        }
        if let Some(n) = s.max_tokens {
            options.insert("num_predict".into(), json!(n));
        }
        let mut body = json!({
            "model": s.model,
            "messages": messages(req),
            "stream": stream,
            "options": options,
        });
        if req.json {
            body["format"] = json!("json");
        }
        let think = if req.no_think { Some(false) } else { s.think };
        if let Some(t) = think {
            body["think"] = json!(t);
        }
        body
    }
}

/// The host as LightRAG's identity has it: the configured one, or the binding's default.
pub(crate) fn identity_host(host: &str, binding: Binding) -> String {
    let host = host.trim();
    if host.is_empty() {
        binding.default_host().to_string()
    } else {
        host.to_string()
    }
}

/// The text of an `/api/chat` reply or stream line; a reply with `error` is a failure.
fn content_of(v: &Value) -> std::result::Result<Option<&str>, String> {
    if let Some(e) = v.get("error") {
        let msg = e
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| e.to_string());
        return Err(format!("server error: {msg}"));
    }
    Ok(v["message"]["content"].as_str())
}

fn parse_line(line: &str) -> std::result::Result<Event, String> {
    let v: Value = serde_json::from_str(line).map_err(|e| {
        format!(
            "stream line is not JSON ({e}): {}",
            super::http::excerpt(line.as_bytes())
        )
    })?;
    let content = content_of(&v)?.unwrap_or_default().to_string();
    let done = v["done"].as_bool().unwrap_or(false);
    Ok(Event {
        content,
        finish: done,
        done,
    })
}

#[async_trait]
impl ChatModel for OllamaChat {
    fn identity(&self) -> String {
        self.identity.clone()
    }

    async fn complete(&self, req: &ChatRequest) -> Result<String> {
        let reply = self
            .ep
            .post_json("chat", "/api/chat", &self.body(req, false))
            .await?;
        match content_of(&reply) {
            Ok(Some(text)) => Ok(text.to_string()),
            Ok(None) => Err(self.ep.fail(
                "chat",
                &format!(
                    "reply has no message.content: {}",
                    super::http::excerpt(reply.to_string().as_bytes())
                ),
            )),
            Err(e) => Err(self.ep.fail("chat", &e)),
        }
    }

    async fn stream(&self, req: &ChatRequest) -> Result<BoxStream<'static, Result<String>>> {
        self.ep
            .post_stream(
                "chat",
                "/api/chat",
                &self.body(req, true),
                Framing::Ndjson,
                parse_line,
            )
            .await
    }
}

/// An embedding model served by Ollama.
pub struct OllamaEmbedder {
    ep: Endpoint,
    settings: EmbedSettings,
}

impl OllamaEmbedder {
    /// An adapter for `settings` (no request is made yet).
    pub fn new(settings: EmbedSettings) -> Result<OllamaEmbedder> {
        validate_embed(&settings)?;
        let ep = Endpoint::new(
            Binding::Ollama,
            Kind::Embedding,
            &settings.host,
            &settings.model,
            settings.api_key.clone(),
            settings.timeouts.clone(),
            settings.retry.clone(),
        )?;
        Ok(OllamaEmbedder { ep, settings })
    }

    async fn embed_batch(&self, batch: &[String]) -> Result<Vec<Vec<f32>>> {
        let mut body = json!({"model": self.settings.model, "input": batch});
        if let Some(n) = self.settings.num_ctx {
            body["options"] = json!({ "num_ctx": n });
        }
        let reply = self.ep.post_json("embeddings", "/api/embed", &body).await?;
        if let Some(e) = reply.get("error") {
            return Err(self.ep.fail("embeddings", &format!("server error: {e}")));
        }
        let vectors: Vec<Vec<f32>> =
            serde_json::from_value(reply["embeddings"].clone()).map_err(|e| {
                self.ep.fail(
                    "embeddings",
                    &format!("reply has no embeddings list of numbers ({e})"),
                )
            })?;
        vectors::check(
            &self.ep,
            "embeddings",
            vectors,
            batch.len(),
            self.settings.dim,
        )
    }
}

#[async_trait]
impl Embedder for OllamaEmbedder {
    fn model_name(&self) -> &str {
        &self.settings.model
    }

    fn dim(&self) -> usize {
        self.settings.dim
    }

    async fn embed(&self, texts: &[String], purpose: EmbedPurpose) -> Result<Vec<Vec<f32>>> {
        let texts = prefixed(texts, purpose, &self.settings);
        let mut out = Vec::with_capacity(texts.len());
        for batch in texts.chunks(self.settings.batch_size.max(1)) {
            out.extend(self.embed_batch(batch).await?);
        }
        Ok(out)
    }
}
