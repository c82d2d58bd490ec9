//! Settings of the remote adapters: where the server is, which model, which key, how long to
//! wait and how often to retry. Filled from [`lightrag_core::config`] by the `from_config`
//! constructors, or by hand.

use std::time::Duration;

use lightrag_core::config::{Config, LlmConfig, LlmRole};
use lightrag_core::error::{Error, Result};

use super::retry::RetryPolicy;

/// Ollama's default address.
pub const OLLAMA_DEFAULT_HOST: &str = "http://localhost:11434";
/// OpenAI's default base URL (it includes `/v1`: the chat path is `{host}/chat/completions`).
pub const OPENAI_DEFAULT_HOST: &str = "https://api.openai.com/v1";

/// A server protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    Ollama,
    /// Any OpenAI-compatible server (OpenAI, vLLM, llama.cpp, LM Studio, ...).
    OpenAi,
}

impl Binding {
    /// Parses LightRAG's binding name (`ollama`, `openai`).
    pub fn parse(name: &str) -> Result<Binding> {
        match name.trim().to_ascii_lowercase().as_str() {
            "ollama" => Ok(Binding::Ollama),
            "openai" => Ok(Binding::OpenAi),
            other => Err(Error::Config(format!(
                "binding '{other}' is not supported: use ollama or openai (any OpenAI-compatible server)"
            ))),
        }
    }

    /// LightRAG's name of the binding.
    pub fn as_str(self) -> &'static str {
        match self {
            Binding::Ollama => "ollama",
            Binding::OpenAi => "openai",
        }
    }

    /// The host used when none is configured.
    pub fn default_host(self) -> &'static str {
        match self {
            Binding::Ollama => OLLAMA_DEFAULT_HOST,
            Binding::OpenAi => OPENAI_DEFAULT_HOST,
        }
    }

    /// `host` trimmed, or the binding's default when that leaves nothing.
    pub fn host_or_default(self, host: &str) -> &str {
        match host.trim() {
            "" => self.default_host(),
            given => given,
        }
    }
}

/// The four limits of one request attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeouts {
    /// Establishing the TCP (and TLS) connection.
    pub connect: Duration,
    /// From sending the request to the response headers and, when streaming, the first body
    /// bytes. `None`: only `total` applies. A non-streaming server sends its headers only when
    /// the whole reply is ready, so keep this generous or unset for `complete`.
    pub first_token: Option<Duration>,
    /// Longest silence between two streamed chunks. `None`: only `total` applies.
    pub idle: Option<Duration>,
    /// The whole attempt, body included (LightRAG's LLM_TIMEOUT / EMBEDDING_TIMEOUT).
    pub total: Duration,
}

impl Timeouts {
    /// Chat defaults: connect 10 s, no separate first-token limit, idle 120 s, `total_s` in all
    /// (LightRAG: 240).
    pub fn llm(total_s: f64) -> Timeouts {
        Timeouts {
            connect: Duration::from_secs(10),
            first_token: None,
            idle: Some(Duration::from_secs(120)),
            total: secs(total_s, 240.0),
        }
    }

    /// Rerank defaults: connect 10 s, `total_s` in all (LightRAG's RERANK_TIMEOUT: 30).
    pub fn rerank(total_s: f64) -> Timeouts {
        Timeouts {
            connect: Duration::from_secs(10),
            first_token: None,
            idle: None,
            total: secs(total_s, 30.0),
        }
    }

    /// Embedding defaults: connect 10 s, `total_s` in all (LightRAG: 30).
    pub fn embedding(total_s: f64) -> Timeouts {
        Timeouts {
            connect: Duration::from_secs(10),
            first_token: None,
            idle: None,
            total: secs(total_s, 30.0),
        }
    }
}

fn secs(s: f64, fallback: f64) -> Duration {
    let s = if s.is_finite() && s > 0.0 {
        s
    } else {
        fallback
    };
    Duration::from_secs_f64(s)
}

/// Settings of a chat adapter.
#[derive(Debug, Clone)]
pub struct ChatSettings {
    /// Base URL; empty = the binding's default. OpenAI-compatible hosts include `/v1`.
    pub host: String,
    pub model: String,
    /// Sent as `Authorization: Bearer ...`; never logged or shown in errors.
    pub api_key: Option<String>,
    pub timeouts: Timeouts,
    pub retry: RetryPolicy,
    /// Sampling temperature; `None` = the server's.
    pub temperature: Option<f64>,
    /// Reply token limit (Ollama `num_predict`, OpenAI `max_tokens`); `None` = the server's.
    pub max_tokens: Option<usize>,
    /// Ollama only: the context window (`num_ctx`).
    pub num_ctx: Option<usize>,
    /// Ollama only: `think` sent with every request (OLLAMA_LLM_THINK); a request with
    /// `no_think` sends `false` whatever this says.
    pub think: Option<bool>,
    /// LightRAG's role (`extract`, `keyword`, `query`), part of the identity when set.
    pub role: Option<String>,
}

impl ChatSettings {
    /// Defaults for `model`: temperature 1.0, no token limit, LightRAG's 240 s timeout,
    /// 3 retries (and, for Ollama, a 32768-token context).
    pub fn new(binding: Binding, model: impl Into<String>) -> ChatSettings {
        ChatSettings {
            host: String::new(),
            model: model.into(),
            api_key: None,
            timeouts: Timeouts::llm(240.0),
            retry: RetryPolicy::default(),
            temperature: Some(1.0),
            max_tokens: None,
            num_ctx: (binding == Binding::Ollama).then_some(32768),
            think: None,
            role: None,
        }
    }

    /// The settings of one role of the configuration (`role_name`: `extract`, `keyword`,
    /// `query`).
    pub fn from_config(role_name: &str, role: &LlmRole, cfg: &LlmConfig) -> Result<ChatSettings> {
        let binding = Binding::parse(&role.binding)?;
        Ok(ChatSettings {
            host: role.host.clone(),
            api_key: (!role.api_key.is_empty()).then(|| role.api_key.clone()),
            timeouts: Timeouts::llm(cfg.timeout_s),
            retry: RetryPolicy {
                max_retries: cfg.max_retries,
                ..RetryPolicy::default()
            },
            temperature: Some(cfg.temperature),
            max_tokens: (cfg.max_tokens > 0).then_some(cfg.max_tokens),
            num_ctx: (binding == Binding::Ollama && cfg.ollama_num_ctx > 0)
                .then_some(cfg.ollama_num_ctx),
            role: Some(role_name.to_string()),
            ..ChatSettings::new(binding, role.model.clone())
        })
    }
}

/// Settings of an embedding adapter.
#[derive(Debug, Clone)]
pub struct EmbedSettings {
    /// Base URL; empty = the binding's default. OpenAI-compatible hosts include `/v1`.
    pub host: String,
    pub model: String,
    pub api_key: Option<String>,
    /// The dimension the model must return; another is an error naming both.
    pub dim: usize,
    pub timeouts: Timeouts,
    pub retry: RetryPolicy,
    /// Texts per request; larger batches are split (in order).
    pub batch_size: usize,
    /// OpenAI only: ask for base64 vectors (LightRAG's EMBEDDING_USE_BASE64, default true).
    pub use_base64: bool,
    /// OpenAI only: send `dimensions` (EMBEDDING_SEND_DIM).
    pub send_dim: bool,
    /// Ollama only: `num_ctx` of the embedding model.
    pub num_ctx: Option<usize>,
    /// Prefix of query texts (asymmetric models).
    pub query_prefix: String,
    /// Prefix of document texts (asymmetric models).
    pub document_prefix: String,
}

impl EmbedSettings {
    /// Defaults for `model` of `dim` dimensions: 30 s timeout, 3 retries, 64 texts per call,
    /// base64 transfer.
    pub fn new(model: impl Into<String>, dim: usize) -> EmbedSettings {
        EmbedSettings {
            host: String::new(),
            model: model.into(),
            api_key: None,
            dim,
            timeouts: Timeouts::embedding(30.0),
            retry: RetryPolicy::default(),
            batch_size: 64,
            use_base64: true,
            send_dim: false,
            num_ctx: None,
            query_prefix: String::new(),
            document_prefix: String::new(),
        }
    }

    /// From the configuration (EMBEDDING_MODEL, EMBEDDING_DIM, EMBEDDING_BINDING_HOST,
    /// EMBEDDING_BINDING_API_KEY, EMBEDDING_TIMEOUT, EMBEDDING_BATCH_NUM, LLM_MAX_RETRIES).
    pub fn from_config(cfg: &Config) -> EmbedSettings {
        EmbedSettings {
            host: cfg.embedding_host.clone(),
            api_key: (!cfg.embedding_api_key.is_empty()).then(|| cfg.embedding_api_key.clone()),
            timeouts: Timeouts::embedding(cfg.embedding_timeout_s),
            retry: RetryPolicy {
                max_retries: cfg
                    .llm
                    .as_ref()
                    .map_or(RetryPolicy::default().max_retries, |l| l.max_retries),
                ..RetryPolicy::default()
            },
            batch_size: cfg.embedding_batch_num.max(1),
            ..EmbedSettings::new(cfg.embedding_model.clone(), cfg.embedding_dim)
        }
    }
}
