//! The seed's metrics: counted in atomics for [`MetricsSnapshot`] and emitted through the
//! `metrics` facade, so whichever process installs an exporter (the HTTP server installs the
//! Prometheus one) publishes them. Without an exporter the facade calls cost next to nothing.
//!
//! | facade name | kind | meaning |
//! |---|---|---|
//! | `lightrag_embedding_requests_total` | counter | texts asked for |
//! | `lightrag_embedding_cache_hits_total{level}` | counter | texts answered by the `memory` or `redis` cache |
//! | `lightrag_embedding_cache_misses_total` | counter | texts that needed the model (or an identical text in flight) |
//! | `lightrag_embedding_deduplicated_total` | counter | texts that joined an identical text already in flight |
//! | `lightrag_embedding_batches_total` | counter | batches processed (one or more model calls each) |
//! | `lightrag_embedding_batch_size` | histogram | texts per batch |
//! | `lightrag_embedding_batch_seconds` | histogram | time of a batch, retries and fallback included |
//! | `lightrag_embedding_model_calls_total{kind}` | counter | model calls: `batch` or `individual` (fallback) |
//! | `lightrag_embedding_retries_total` | counter | batch calls retried |
//! | `lightrag_embedding_fallbacks_total` | counter | batches that fell back to one call per text |
//! | `lightrag_embedding_failures_total` | counter | texts that got an error |
//! | `lightrag_embedding_active_requests` | gauge | texts waiting for a vector now |
//! | `lightrag_embedding_batch_target` | gauge | the adaptive batch size |
//! | `lightrag_embedding_circuit_state` | gauge | 0 closed, 1 half-open, 2 open |
//! | `lightrag_embedding_cache_hit_rate` | gauge | hits / requests since the last reset |

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use metrics::{counter, gauge, histogram};
use serde::Serialize;

/// Which cache answered.
#[derive(Debug, Clone, Copy)]
pub enum CacheLevel {
    Memory,
    Redis,
}

/// Counters of one orchestrator.
#[derive(Default)]
pub struct Metrics {
    requests: AtomicU64,
    memory_hits: AtomicU64,
    redis_hits: AtomicU64,
    misses: AtomicU64,
    deduplicated: AtomicU64,
    batches: AtomicU64,
    batched_texts: AtomicU64,
    batch_nanos: AtomicU64,
    batch_calls: AtomicU64,
    individual_calls: AtomicU64,
    retries: AtomicU64,
    fallbacks: AtomicU64,
    failures: AtomicU64,
    model_nanos: AtomicU64,
    active: AtomicI64,
}

/// The metrics at one moment, with the seed's names and meanings.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct MetricsSnapshot {
    /// Texts asked for.
    pub total_requests: u64,
    pub memory_cache_hits: u64,
    pub redis_cache_hits: u64,
    pub cache_misses: u64,
    /// Texts that shared the model call of an identical text in flight.
    pub deduplicated: u64,
    /// (memory + Redis hits) / total requests.
    pub cache_hit_rate: f64,
    /// Batches processed.
    pub batches_processed: u64,
    /// Mean texts per batch.
    pub avg_batch_size: f64,
    /// Mean seconds per batch, retries and fallback included.
    pub average_batch_time: f64,
    /// Model calls carrying a batch.
    pub batch_requests: u64,
    /// Model calls carrying one text, made by the fallback.
    pub individual_requests: u64,
    /// Batch calls repeated after a failure.
    pub retries: u64,
    /// Batches that fell back to individual calls.
    pub fallbacks: u64,
    /// fallbacks / batches processed.
    pub fallback_rate: f64,
    /// Texts that got an error.
    pub failed_requests: u64,
    /// Seconds spent waiting on the model (all calls).
    pub model_seconds: f64,
    /// Texts waiting for their vector now.
    pub active_requests: i64,
}

impl Metrics {
    pub fn request(&self, n: usize) {
        self.requests.fetch_add(n as u64, Ordering::Relaxed);
        counter!("lightrag_embedding_requests_total").increment(n as u64);
        self.active_delta(n as i64);
    }

    /// Texts start or stop waiting for a vector.
    pub fn active_delta(&self, d: i64) {
        let now = self.active.fetch_add(d, Ordering::Relaxed) + d;
        gauge!("lightrag_embedding_active_requests").set(now as f64);
    }

    pub fn hit(&self, level: CacheLevel, n: usize) {
        if n == 0 {
            return;
        }
        let (field, label) = match level {
            CacheLevel::Memory => (&self.memory_hits, "memory"),
            CacheLevel::Redis => (&self.redis_hits, "redis"),
        };
        field.fetch_add(n as u64, Ordering::Relaxed);
        counter!("lightrag_embedding_cache_hits_total", "level" => label).increment(n as u64);
        self.publish_hit_rate();
    }

    pub fn miss(&self, n: usize) {
        if n == 0 {
            return;
        }
        self.misses.fetch_add(n as u64, Ordering::Relaxed);
        counter!("lightrag_embedding_cache_misses_total").increment(n as u64);
        self.publish_hit_rate();
    }

    pub fn deduplicated(&self) {
        self.deduplicated.fetch_add(1, Ordering::Relaxed);
        counter!("lightrag_embedding_deduplicated_total").increment(1);
    }

    fn publish_hit_rate(&self) {
        gauge!("lightrag_embedding_cache_hit_rate").set(self.hit_rate());
    }

    fn hit_rate(&self) -> f64 {
        let hits =
            self.memory_hits.load(Ordering::Relaxed) + self.redis_hits.load(Ordering::Relaxed);
        let total = self.requests.load(Ordering::Relaxed);
        if total == 0 {
            0.0
        } else {
            hits as f64 / total as f64
        }
    }

    /// A batch finished (whatever its outcome).
    pub fn batch(&self, size: usize, took: Duration) {
        self.batches.fetch_add(1, Ordering::Relaxed);
        self.batched_texts.fetch_add(size as u64, Ordering::Relaxed);
        self.batch_nanos
            .fetch_add(took.as_nanos() as u64, Ordering::Relaxed);
        counter!("lightrag_embedding_batches_total").increment(1);
        histogram!("lightrag_embedding_batch_size").record(size as f64);
        histogram!("lightrag_embedding_batch_seconds").record(took.as_secs_f64());
    }

    /// One call to the model.
    pub fn model_call(&self, individual: bool, took: Duration) {
        let (field, kind) = if individual {
            (&self.individual_calls, "individual")
        } else {
            (&self.batch_calls, "batch")
        };
        field.fetch_add(1, Ordering::Relaxed);
        self.model_nanos
            .fetch_add(took.as_nanos() as u64, Ordering::Relaxed);
        counter!("lightrag_embedding_model_calls_total", "kind" => kind).increment(1);
    }

    pub fn retry(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
        counter!("lightrag_embedding_retries_total").increment(1);
    }

    pub fn fallback(&self) {
        self.fallbacks.fetch_add(1, Ordering::Relaxed);
        counter!("lightrag_embedding_fallbacks_total").increment(1);
    }

    pub fn failed(&self, n: usize) {
        if n == 0 {
            return;
        }
        self.failures.fetch_add(n as u64, Ordering::Relaxed);
        counter!("lightrag_embedding_failures_total").increment(n as u64);
    }

    pub fn batch_target(&self, target: usize) {
        gauge!("lightrag_embedding_batch_target").set(target as f64);
    }

    pub fn circuit(&self, level: f64) {
        gauge!("lightrag_embedding_circuit_state").set(level);
    }

    /// The counters now.
    pub fn snapshot(&self) -> MetricsSnapshot {
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let batches = l(&self.batches);
        let per_batch = |x: f64| {
            if batches == 0 {
                0.0
            } else {
                x / batches as f64
            }
        };
        MetricsSnapshot {
            total_requests: l(&self.requests),
            memory_cache_hits: l(&self.memory_hits),
            redis_cache_hits: l(&self.redis_hits),
            cache_misses: l(&self.misses),
            deduplicated: l(&self.deduplicated),
            cache_hit_rate: self.hit_rate(),
            batches_processed: batches,
            avg_batch_size: per_batch(l(&self.batched_texts) as f64),
            average_batch_time: per_batch(l(&self.batch_nanos) as f64 / 1e9),
            batch_requests: l(&self.batch_calls),
            individual_requests: l(&self.individual_calls),
            retries: l(&self.retries),
            fallbacks: l(&self.fallbacks),
            fallback_rate: per_batch(l(&self.fallbacks) as f64),
            failed_requests: l(&self.failures),
            model_seconds: l(&self.model_nanos) as f64 / 1e9,
            active_requests: self.active.load(Ordering::Relaxed),
        }
    }

    /// Zeroes the counters (not the active gauge: those texts are still waiting).
    pub fn reset(&self) {
        for a in [
            &self.requests,
            &self.memory_hits,
            &self.redis_hits,
            &self.misses,
            &self.deduplicated,
            &self.batches,
            &self.batched_texts,
            &self.batch_nanos,
            &self.batch_calls,
            &self.individual_calls,
            &self.retries,
            &self.fallbacks,
            &self.failures,
            &self.model_nanos,
        ] {
            a.store(0, Ordering::Relaxed);
        }
        self.publish_hit_rate();
    }
}
