//! OpenAI-compatible servers (OpenAI, vLLM, llama.cpp, LM Studio, ...): chat through
//! `{host}/chat/completions` (SSE when streaming) with `temperature`, `max_tokens` and
//! `response_format: {"type": "json_object"}` for JSON mode; embeddings through
//! `{host}/embeddings`, base64 by default (LightRAG's EMBEDDING_USE_BASE64) or float.
//! The host includes `/v1`.

use std::sync::Arc;

use async_trait::async_trait;
use futures::stream::BoxStream;
use lightrag_core::error::Result;
use lightrag_core::ports::{ChatModel, ChatRequest, EmbedPurpose, Embedder};
use serde_json::{json, Value};

use super::http::{excerpt, Endpoint, Kind};
use super::ollama::identity_host;
use super::settings::{Binding, ChatSettings, EmbedSettings};
use super::stream::{Event, Framing};
use super::{identity_json, messages, prefixed, validate_embed, vectors};

/// A chat model behind an OpenAI-compatible API.
pub struct OpenAiChat {
    ep: Arc<Endpoint>,
    settings: ChatSettings,
    identity: String,
}

impl OpenAiChat {
    /// An adapter for `settings` (no request is made yet).
    pub fn new(settings: ChatSettings) -> Result<OpenAiChat> {
        let ep = Endpoint::new(
            Binding::OpenAi,
            Kind::Llm,
            &settings.host,
            &settings.model,
            settings.api_key.clone(),
            settings.timeouts.clone(),
            settings.retry.clone(),
        )?;
        let host = identity_host(&settings.host, Binding::OpenAi);
        let identity = identity_json("openai", &host, &settings.model, settings.role.as_deref());
        Ok(OpenAiChat {
            ep: Arc::new(ep),
            settings,
            identity,
        })
    }

    /// The settings in use.
    pub fn settings(&self) -> &ChatSettings {
        &self.settings
    }

    fn body(&self, req: &ChatRequest, stream: bool) -> Value {
        let s = &self.settings;
        let mut body = json!({"model": s.model, "messages": messages(req), "stream": stream});
        if let Some(t) = s.temperature {
            body["temperature"] = json!(t);
        }
        if let Some(n) = s.max_tokens {
            body["max_tokens"] = json!(n);
        }
        if req.json {
            body["response_format"] = json!({"type": "json_object"});
        }
        body
    }
}

/// The `error` of a reply, as text.
fn error_of(v: &Value) -> Option<String> {
    let e = v.get("error").filter(|e| !e.is_null())?;
    Some(
        e["message"]
            .as_str()
            .or_else(|| e.as_str())
            .map(str::to_string)
            .unwrap_or_else(|| e.to_string()),
    )
}

fn parse_event(data: &str) -> std::result::Result<Event, String> {
    if data.trim() == "[DONE]" {
        return Ok(Event {
            done: true,
            finish: true,
            ..Event::default()
        });
    }
    let v: Value = serde_json::from_str(data)
        .map_err(|e| format!("event is not JSON ({e}): {}", excerpt(data.as_bytes())))?;
    if let Some(e) = error_of(&v) {
        return Err(format!("server error: {e}"));
    }
    let choice = &v["choices"][0];
    Ok(Event {
        content: choice["delta"]["content"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        finish: !choice["finish_reason"].is_null(),
        done: false,
    })
}

#[async_trait]
impl ChatModel for OpenAiChat {
    fn identity(&self) -> String {
        self.identity.clone()
    }

    async fn complete(&self, req: &ChatRequest) -> Result<String> {
        let reply = self
            .ep
            .post_json("chat", "/chat/completions", &self.body(req, false))
            .await?;
        if let Some(e) = error_of(&reply) {
            return Err(self.ep.fail("chat", &format!("server error: {e}")));
        }
        let message = &reply["choices"][0]["message"];
        match &message["content"] {
            Value::String(s) => Ok(s.clone()),
            // A reply of only tool calls or a refusal has no content.
            Value::Null if message.is_object() => Ok(String::new()),
            _ => Err(self.ep.fail(
                "chat",
                &format!(
                    "reply has no choices[0].message.content: {}",
                    excerpt(reply.to_string().as_bytes())
                ),
            )),
        }
    }

    async fn stream(&self, req: &ChatRequest) -> Result<BoxStream<'static, Result<String>>> {
        let body = self.body(req, true);
        self.ep
            .post_stream(
                "chat",
                "/chat/completions",
                &body,
                Framing::Sse,
                parse_event,
            )
            .await
    }
}

/// An embedding model behind an OpenAI-compatible API.
pub struct OpenAiEmbedder {
    ep: Endpoint,
    settings: EmbedSettings,
}

impl OpenAiEmbedder {
    /// An adapter for `settings` (no request is made yet).
    pub fn new(settings: EmbedSettings) -> Result<OpenAiEmbedder> {
        validate_embed(&settings)?;
        let ep = Endpoint::new(
            Binding::OpenAi,
            Kind::Embedding,
            &settings.host,
            &settings.model,
            settings.api_key.clone(),
            settings.timeouts.clone(),
            settings.retry.clone(),
        )?;
        Ok(OpenAiEmbedder { ep, settings })
    }

    async fn embed_batch(&self, batch: &[String]) -> Result<Vec<Vec<f32>>> {
        let s = &self.settings;
        let format = if s.use_base64 { "base64" } else { "float" };
        let mut body = json!({"model": s.model, "input": batch, "encoding_format": format});
        if s.send_dim {
            body["dimensions"] = json!(s.dim);
        }
        let reply = self
            .ep
            .post_json("embeddings", "/embeddings", &body)
            .await?;
        let fail = |detail: String| self.ep.fail("embeddings", &detail);
        if let Some(e) = error_of(&reply) {
            return Err(fail(format!("server error: {e}")));
        }
        let Some(data) = reply["data"].as_array() else {
            return Err(fail(format!(
                "reply has no data list: {}",
                excerpt(reply.to_string().as_bytes())
            )));
        };
        // Items carry their index; servers may return them in any order.
        let mut slots: Vec<Option<Vec<f32>>> = vec![None; batch.len()];
        for (pos, item) in data.iter().enumerate() {
            let index = item["index"].as_u64().map_or(pos, |i| i as usize);
            let vector = match &item["embedding"] {
                Value::String(b64) => vectors::decode_base64_f32(b64).map_err(&fail)?,
                Value::Array(_) => {
                    serde_json::from_value(item["embedding"].clone()).map_err(|e| {
                        fail(format!("embedding {index} is not a list of numbers ({e})"))
                    })?
                }
                _ => return Err(fail(format!("item {pos} has no embedding"))),
            };
            match slots.get_mut(index) {
                Some(slot @ None) => *slot = Some(vector),
                _ => {
                    return Err(fail(format!(
                        "embedding index {index} is out of range or repeated (asked for {})",
                        batch.len()
                    )))
                }
            }
        }
        let vectors: Vec<Vec<f32>> = slots.into_iter().flatten().collect();
        vectors::check(&self.ep, "embeddings", vectors, batch.len(), s.dim)
    }
}

#[async_trait]
impl Embedder for OpenAiEmbedder {
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
