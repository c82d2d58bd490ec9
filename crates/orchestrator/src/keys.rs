//! The settings the embedding orchestrator reads (seed 004's names), and their reading into
//! [`EmbeddingBatching`].

use lightrag_core::config::Settings;

lightrag_core::settings_table! {
    /// Every setting of the orchestrator.
    pub ORCHESTRATOR_KEYS {
        "EMBEDDING_BATCHING" = "false" : "Put the embedding batching orchestrator (seed 004) in front of the embedder: a priority queue that batches concurrent callers, a two-level cache, retries, a circuit breaker (ENABLE_EMBEDDING_BATCHING also works). See docs/orchestrator.md.",
        "OLLAMA_EMBEDDING_BATCH_SIZE" = "0" : "Orchestrator: texts per model call to start with; 0 = the model's default (bge-m3 32, mxbai-embed-large 32, nomic-embed-text 64, all-minilm 64, others 32). Never above EMBEDDING_MAX_BATCH_SIZE.",
        "EMBEDDING_MAX_BATCH_SIZE" = "0" : "Orchestrator: the most texts one call may carry; 0 = the model's limit (bge-m3 64, nomic-embed-text 128, all-minilm 256, others 64).",
        "OLLAMA_BATCH_TIMEOUT" = "30000" : "Orchestrator: milliseconds one batch call to the model may take before it counts as failed.",
        "BATCH_PROCESSING_INTERVAL" = "100" : "Orchestrator: milliseconds a text may wait for its batch to fill before the batch is sent anyway.",
        "MAX_BATCH_RETRIES" = "3" : "Orchestrator: retries of a failed batch (exponential backoff) before each text is sent alone.",
        "EMBEDDING_CACHE_TTL" = "3600" : "Orchestrator: seconds a cached embedding lives, in process and in Redis; 0 = no expiry.",
        "REDIS_URL" = "" : "Redis for the orchestrator's second cache level and shared queue, and for MAX_ASYNC_SCOPE=cluster (redis://host:port; REDIS_URI, LightRAG's name, also works); empty = REDIS_HOST/REDIS_PORT, or no Redis.",
        "MAX_ASYNC_SCOPE" = "process" : "`process`: MAX_ASYNC bounds this process's requests to each model server; `cluster`: MAX_ASYNC is one budget shared through Redis by every process (replicas, `lightrag insert` runs) calling the same model server.",
        "REDIS_HOST" = "" : "Redis host, when REDIS_URL is empty; empty = no Redis.",
        "REDIS_PORT" = "6379" : "Redis port, with REDIS_HOST.",
        "REDIS_EMBEDDING_DB" = "2" : "Redis database of the embedding cache and queue.",
        "EMBEDDING_SHARED_QUEUE" = "false" : "Orchestrator: queue requests in Redis so that several processes (server replicas) share one batcher pool; a claimed batch is leased, so a worker that dies loses nothing.",
        "EMBEDDING_QUEUE_WORKERS" = "1" : "Orchestrator: shared-queue workers this process runs (0 = it only submits work).",
        "EMBEDDING_QUEUE_LEASE" = "35000" : "Orchestrator: milliseconds a worker owns a claimed batch before another may take it over; must exceed OLLAMA_BATCH_TIMEOUT.",
        "EMBEDDING_ADAPTIVE_BATCH" = "true" : "Orchestrator: let load and measured batch latency move the batch size (up to EMBEDDING_MAX_BATCH_SIZE).",
        "EMBEDDING_BATCH_TARGET_LATENCY" = "2000" : "Orchestrator: milliseconds; slower batches shrink the adaptive batch size.",
        "EMBEDDING_BREAKER_THRESHOLD" = "5" : "Orchestrator: consecutive failed model calls that open the circuit breaker.",
        "EMBEDDING_BREAKER_COOLDOWN" = "30" : "Orchestrator: seconds an open circuit breaker rejects calls before one trial.",
        "EMBEDDING_MAX_INFLIGHT_BATCHES" = "1" : "Orchestrator: batches one process sends to the model at once.",
    }
}

/// The orchestrator's settings as configured: plain values, validated against the model by
/// [`crate::OrchestratorConfig::from_settings`].
#[derive(Debug, Clone, PartialEq)]
pub struct EmbeddingBatching {
    /// 0 = the model's default.
    pub batch_size: usize,
    /// 0 = the model's limit.
    pub max_batch_size: usize,
    pub batch_timeout_ms: u64,
    pub interval_ms: u64,
    pub max_retries: usize,
    pub cache_ttl_s: u64,
    /// Empty = no Redis.
    pub redis_url: String,
    pub redis_db: u32,
    pub shared_queue: bool,
    pub workers: usize,
    pub lease_ms: u64,
    pub adaptive: bool,
    pub target_latency_ms: u64,
    pub breaker_threshold: u32,
    pub breaker_cooldown_s: u64,
    pub max_in_flight_batches: usize,
}

impl EmbeddingBatching {
    /// The orchestrator's settings, or `None` when EMBEDDING_BATCHING is off.
    pub fn from_settings(s: &Settings) -> lightrag_core::Result<Option<EmbeddingBatching>> {
        let r = s.reader(ORCHESTRATOR_KEYS);
        if !r.flag(&["EMBEDDING_BATCHING", "ENABLE_EMBEDDING_BATCHING"])? {
            return Ok(None);
        }
        let redis_url = redis_url(s)?;
        Ok(Some(EmbeddingBatching {
            batch_size: r.parse(&["OLLAMA_EMBEDDING_BATCH_SIZE"])?,
            max_batch_size: r.parse(&["EMBEDDING_MAX_BATCH_SIZE"])?,
            batch_timeout_ms: r.parse(&["OLLAMA_BATCH_TIMEOUT"])?,
            interval_ms: r.parse(&["BATCH_PROCESSING_INTERVAL"])?,
            max_retries: r.parse(&["MAX_BATCH_RETRIES"])?,
            cache_ttl_s: r.parse(&["EMBEDDING_CACHE_TTL"])?,
            redis_url,
            redis_db: r.parse(&["REDIS_EMBEDDING_DB"])?,
            shared_queue: r.flag(&["EMBEDDING_SHARED_QUEUE"])?,
            workers: r.parse(&["EMBEDDING_QUEUE_WORKERS"])?,
            lease_ms: r.parse(&["EMBEDDING_QUEUE_LEASE"])?,
            adaptive: r.flag(&["EMBEDDING_ADAPTIVE_BATCH"])?,
            target_latency_ms: r.parse(&["EMBEDDING_BATCH_TARGET_LATENCY"])?,
            breaker_threshold: r.parse(&["EMBEDDING_BREAKER_THRESHOLD"])?,
            breaker_cooldown_s: r.parse(&["EMBEDDING_BREAKER_COOLDOWN"])?,
            max_in_flight_batches: r.parse(&["EMBEDDING_MAX_INFLIGHT_BATCHES"])?,
        }))
    }
}

/// The Redis URL configured (REDIS_URL or REDIS_URI, else REDIS_HOST and REDIS_PORT); empty
/// when there is none.
pub fn redis_url(s: &Settings) -> lightrag_core::Result<String> {
    let r = s.reader(ORCHESTRATOR_KEYS);
    let url = r.raw(&["REDIS_URL", "REDIS_URI"]);
    let host = r.raw(&["REDIS_HOST"]);
    if url.is_empty() && !host.is_empty() {
        let port: u16 = r.parse(&["REDIS_PORT"])?;
        return Ok(format!("redis://{host}:{port}"));
    }
    Ok(url)
}

/// Whether MAX_ASYNC is one budget for the cluster (`MAX_ASYNC_SCOPE=cluster`), with the Redis
/// URL that holds it; `None` for a per-process budget.
pub fn cluster_llm_budget(s: &Settings) -> lightrag_core::Result<Option<String>> {
    let r = s.reader(ORCHESTRATOR_KEYS);
    match r.raw(&["MAX_ASYNC_SCOPE"]).to_ascii_lowercase().as_str() {
        "" | "process" => Ok(None),
        "cluster" => {
            let url = redis_url(s)?;
            if url.is_empty() {
                return Err(lightrag_core::Error::Config(
                    "MAX_ASYNC_SCOPE=cluster shares the budget through Redis: set REDIS_URL \
                     (or REDIS_URI)"
                        .into(),
                ));
            }
            Ok(Some(url))
        }
        other => Err(lightrag_core::Error::Config(format!(
            "MAX_ASYNC_SCOPE = '{other}': use process or cluster"
        ))),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_key_is_documented() {
        let doc = include_str!("../../../docs/configuration.md");
        let missing = lightrag_core::config::undocumented(super::ORCHESTRATOR_KEYS, doc);
        assert!(
            missing.is_empty(),
            "missing from docs/configuration.md: {missing:?}"
        );
    }
}
