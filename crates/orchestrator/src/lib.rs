//! The embedding batching orchestrator of seed 004, as a layer: [`BatchingEmbedder`] wraps any
//! [`Embedder`](lightrag_core::ports::Embedder) and is one, so the engine, the CLI and the
//! server use it without knowing (switched on by EMBEDDING_BATCHING).
//!
//! What it does to a text on its way to the model:
//! 1. **Caches** ([`memory_cache`], [`redis_cache`]): a bounded in-process LRU, then Redis
//!    (REDIS_EMBEDDING_DB, EMBEDDING_CACHE_TTL), keyed by model, purpose and a SHA-256 of the
//!    text. An identical text already on its way joins it instead of being embedded twice.
//! 2. **Queues** ([`local_queue`], or [`shared_queue`] in Redis so several processes share one
//!    batcher pool): by priority, then arrival; queries go ahead of documents.
//! 3. **Batches** ([`workers`], [`sizer`]): a batch leaves when it reaches the adaptive size
//!    (within 1..=the model's maximum, see [`profiles`]) or when its oldest text has waited
//!    BATCH_PROCESSING_INTERVAL.
//! 4. **Dispatches** ([`dispatch`], [`breaker`]): one call per batch, bounded by
//!    OLLAMA_BATCH_TIMEOUT, retried MAX_BATCH_RETRIES times with backoff, then one call per
//!    text; a circuit breaker stops calling a model that keeps failing.
//! 5. **Reports** ([`metrics`], [`health`]): the seed's metrics through the `metrics` facade
//!    and as a snapshot; a health check with integration, Redis and pipeline status.
//!
//! Redis is never required for embeddings to work: when it is down, every Redis step is
//! skipped (after one short timeout) and health says `degraded`. See docs/orchestrator.md.

pub mod breaker;
pub mod cluster_slots;
pub mod config;
mod controls;
pub mod dispatch;
pub mod error;
pub mod health;
pub mod keys;
pub mod local_queue;
pub mod memory_cache;
pub mod metrics;
mod orchestrator;
pub mod profiles;
pub mod redis_cache;
pub mod redis_link;
pub mod request;
pub mod shared_queue;
pub mod sizer;
mod workers;

pub use breaker::BreakerState;
pub use cluster_slots::RedisSlots;
pub use config::{OrchestratorConfig, RedisSettings};
pub use controls::{CacheReport, CacheStats};
pub use error::{OrchestratorError, Result};
pub use health::{Health, PipelineStatus, RedisStatus, Status};
pub use keys::{cluster_llm_budget, redis_url, EmbeddingBatching, ORCHESTRATOR_KEYS};
pub use metrics::MetricsSnapshot;
pub use orchestrator::BatchingEmbedder;
pub use profiles::{profile_for, ModelProfile};
pub use request::{Priority, RequestId};
