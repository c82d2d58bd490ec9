//! The chat and embedding adapters, the same for every binding. What differs between Ollama
//! and OpenAI-compatible servers (routes, request bodies, reply shapes, stream framing) is a
//! [`Protocol`] table in the binding's module; requests, retries, batching and the checks of
//! what comes back are written once, here.

use std::sync::Arc;

use async_trait::async_trait;
use futures::stream::BoxStream;
use lightrag_core::error::{Error, Result};
use lightrag_core::ports::{ChatModel, ChatRequest, EmbedPurpose, Embedder};
use serde_json::Value;

use super::http::{Endpoint, Kind};
use super::settings::{Binding, ChatSettings, EmbedSettings};
use super::stream::{Event, Framing};
use super::{identity_json, ollama, openai, vectors};

/// A detail of what went wrong, without the binding, host and model.
type Detail = String;

/// One vector per text.
type Vectors = Vec<Vec<f32>>;

/// What one server protocol decides. Errors are details; the adapter adds the binding, host
/// and model.
pub(crate) struct Protocol {
    /// The chat route, below the host.
    pub(crate) chat_path: &'static str,
    /// How a streamed chat reply is cut into payloads.
    pub(crate) framing: Framing,
    /// The body of a chat request (`stream`: whether the reply is streamed).
    pub(crate) chat_body: fn(&ChatSettings, &ChatRequest, bool) -> Value,
    /// The text of a complete chat reply, or why it has none.
    pub(crate) chat_text: fn(&Value) -> std::result::Result<String, Detail>,
    /// What one payload of a streamed reply means.
    pub(crate) stream_event: fn(&str) -> std::result::Result<Event, Detail>,
    /// The embedding route, below the host.
    pub(crate) embed_path: &'static str,
    /// The body of one embedding batch.
    pub(crate) embed_body: fn(&EmbedSettings, &[String]) -> Value,
    /// The vectors of a reply to `asked` texts, in the order asked.
    pub(crate) embeddings: fn(&Value, usize) -> std::result::Result<Vectors, Detail>,
}

fn protocol(binding: Binding) -> &'static Protocol {
    match binding {
        Binding::Ollama => &ollama::PROTOCOL,
        Binding::OpenAi => &openai::PROTOCOL,
    }
}

/// A chat model served by Ollama or an OpenAI-compatible server.
pub struct RemoteChat {
    ep: Arc<Endpoint>,
    protocol: &'static Protocol,
    settings: ChatSettings,
    identity: String,
}

impl RemoteChat {
    /// An adapter for `settings` on `binding` (no request is made yet).
    pub fn new(binding: Binding, settings: ChatSettings) -> Result<RemoteChat> {
        let ep = Endpoint::new(
            binding,
            Kind::Llm,
            &settings.host,
            &settings.model,
            settings.api_key.clone(),
            settings.timeouts.clone(),
            settings.retry.clone(),
        )?;
        // The host as LightRAG's identity has it: the configured one, or the binding's default.
        let identity = identity_json(
            binding.as_str(),
            binding.host_or_default(&settings.host),
            &settings.model,
            settings.role.as_deref(),
        );
        Ok(RemoteChat {
            ep: Arc::new(ep),
            protocol: protocol(binding),
            settings,
            identity,
        })
    }

    /// Ollama only: `think` sent with every request (`None`: not sent, the model's default);
    /// a request with `no_think` sends `false` regardless.
    pub fn with_think(mut self, think: Option<bool>) -> Self {
        self.settings.think = think;
        self
    }

    /// The settings in use.
    pub fn settings(&self) -> &ChatSettings {
        &self.settings
    }
}

#[async_trait]
impl ChatModel for RemoteChat {
    fn identity(&self) -> String {
        self.identity.clone()
    }

    async fn complete(&self, req: &ChatRequest) -> Result<String> {
        let p = self.protocol;
        let body = (p.chat_body)(&self.settings, req, false);
        let reply = self.ep.post_json("chat", p.chat_path, &body).await?;
        (p.chat_text)(&reply).map_err(|e| self.ep.fail("chat", &e))
    }

    async fn stream(&self, req: &ChatRequest) -> Result<BoxStream<'static, Result<String>>> {
        let p = self.protocol;
        let body = (p.chat_body)(&self.settings, req, true);
        self.ep
            .post_stream("chat", p.chat_path, &body, p.framing, p.stream_event)
            .await
    }
}

/// An embedding model served by Ollama or an OpenAI-compatible server.
pub struct RemoteEmbedder {
    ep: Endpoint,
    protocol: &'static Protocol,
    settings: EmbedSettings,
}

impl RemoteEmbedder {
    /// An adapter for `settings` on `binding` (no request is made yet).
    pub fn new(binding: Binding, settings: EmbedSettings) -> Result<RemoteEmbedder> {
        if settings.dim == 0 {
            return Err(Error::Config("EMBEDDING_DIM must be greater than 0".into()));
        }
        let ep = Endpoint::new(
            binding,
            Kind::Embedding,
            &settings.host,
            &settings.model,
            settings.api_key.clone(),
            settings.timeouts.clone(),
            settings.retry.clone(),
        )?;
        Ok(RemoteEmbedder {
            ep,
            protocol: protocol(binding),
            settings,
        })
    }

    async fn embed_batch(&self, batch: &[String]) -> Result<Vec<Vec<f32>>> {
        let p = self.protocol;
        let body = (p.embed_body)(&self.settings, batch);
        let reply = self.ep.post_json("embeddings", p.embed_path, &body).await?;
        let vectors =
            (p.embeddings)(&reply, batch.len()).map_err(|e| self.ep.fail("embeddings", &e))?;
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
impl Embedder for RemoteEmbedder {
    fn model_name(&self) -> &str {
        &self.settings.model
    }

    fn dim(&self) -> usize {
        self.settings.dim
    }

    async fn embed(&self, texts: &[String], purpose: EmbedPurpose) -> Result<Vec<Vec<f32>>> {
        let prefix = match purpose {
            EmbedPurpose::Query => &self.settings.query_prefix,
            EmbedPurpose::Document => &self.settings.document_prefix,
        };
        let texts: Vec<String> = texts.iter().map(|t| format!("{prefix}{t}")).collect();
        let mut out = Vec::with_capacity(texts.len());
        for batch in texts.chunks(self.settings.batch_size.max(1)) {
            out.extend(self.embed_batch(batch).await?);
        }
        Ok(out)
    }
}
