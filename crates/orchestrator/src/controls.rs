//! The orchestrator's controls beyond embedding: metrics, the breaker, both cache levels and
//! the health report.

use serde::Serialize;

use crate::breaker::BreakerState;
use crate::health::{Health, PipelineStatus, RedisStatus, Status};
use crate::metrics::MetricsSnapshot;
use crate::orchestrator::{lock, BatchingEmbedder, DRAINING, IDLE, RUNNING};

/// Cache figures for both levels.
#[derive(Debug, Clone, Serialize)]
pub struct CacheStats {
    pub memory_entries: usize,
    /// `None` without Redis or when it is down.
    pub redis_entries: Option<usize>,
    pub memory_hits: u64,
    pub redis_hits: u64,
    pub misses: u64,
    pub hit_rate: f64,
}

/// What `clear_cache` or `optimise_cache` did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CacheReport {
    pub memory_entries: usize,
    /// `None` without Redis or when it is down.
    pub redis_entries: Option<usize>,
}

impl BatchingEmbedder {
    /// The metrics now.
    pub fn metrics(&self) -> MetricsSnapshot {
        self.core.metrics.snapshot()
    }

    /// Zeroes the metrics.
    pub fn reset_metrics(&self) {
        self.core.metrics.reset();
    }

    /// The batch size the next batch may take.
    pub fn batch_target(&self) -> usize {
        lock(&self.core.sizer).target()
    }

    /// The model's circuit breaker state.
    pub fn circuit_state(&self) -> BreakerState {
        self.core.dispatcher.breaker.state()
    }

    /// Closes the model's circuit breaker by hand.
    pub fn reset_circuit_breaker(&self) {
        self.core.dispatcher.breaker.reset();
        self.core.metrics.circuit(BreakerState::Closed.level());
    }

    /// Sizes and hit counts of both cache levels.
    pub async fn cache_stats(&self) -> CacheStats {
        let m = self.core.metrics.snapshot();
        let redis_entries = match &self.core.redis_cache {
            Some(rc) => rc.count().await,
            None => None,
        };
        CacheStats {
            memory_entries: self.core.memory.len(),
            redis_entries,
            memory_hits: m.memory_cache_hits,
            redis_hits: m.redis_cache_hits,
            misses: m.cache_misses,
            hit_rate: m.cache_hit_rate,
        }
    }

    /// Empties both cache levels (this model's entries only); reports what was removed.
    pub async fn clear_cache(&self) -> CacheReport {
        let memory_entries = self.core.memory.len();
        self.core.memory.clear();
        let redis_entries = match &self.core.redis_cache {
            Some(rc) => rc.clear().await,
            None => None,
        };
        CacheReport {
            memory_entries,
            redis_entries,
        }
    }

    /// Drops expired entries in process and gives Redis entries without expiry the TTL;
    /// reports how many entries each level fixed.
    pub async fn optimise_cache(&self) -> CacheReport {
        let memory_entries = self.core.memory.optimise();
        let redis_entries = match &self.core.redis_cache {
            Some(rc) => rc.optimise().await,
            None => None,
        };
        CacheReport {
            memory_entries,
            redis_entries,
        }
    }

    /// The health report; pings Redis.
    pub async fn health(&self) -> Health {
        let core = &self.core;
        let mut notes = Vec::new();
        let pipeline_status = match core.state() {
            IDLE => PipelineStatus::Idle,
            RUNNING => PipelineStatus::Running,
            DRAINING => PipelineStatus::Draining,
            _ => PipelineStatus::Stopped,
        };
        let redis_status = match &core.redis {
            None => RedisStatus::Disabled,
            Some(link) if link.ping().await => RedisStatus::Connected,
            Some(link) => {
                notes.push(format!(
                    "Redis at {} does not answer: the cache and queue work in process only",
                    link.shown()
                ));
                RedisStatus::Unreachable
            }
        };
        let breaker = core.dispatcher.breaker.state();
        let shared_queue = match &core.shared {
            Some(q) if redis_status == RedisStatus::Connected => q.depth().await,
            _ => None,
        };
        let mut status = Status::Healthy;
        if redis_status == RedisStatus::Unreachable || breaker == BreakerState::HalfOpen {
            status = Status::Degraded;
        }
        if breaker == BreakerState::HalfOpen {
            notes.push("the model's circuit breaker is half-open: a trial call decides".into());
        }
        if breaker == BreakerState::Open {
            status = Status::Unhealthy;
            notes.push(format!(
                "the model's circuit breaker is open after repeated failures; next trial in {:.1} s",
                core.dispatcher.breaker.retry_in().as_secs_f64()
            ));
        }
        if matches!(
            pipeline_status,
            PipelineStatus::Draining | PipelineStatus::Stopped
        ) {
            status = Status::Unhealthy;
            notes.push("the orchestrator is stopping or stopped".into());
        }
        Health {
            integration_status: status,
            redis_status,
            pipeline_status,
            circuit_breaker: breaker.as_str(),
            local_queue_depth: lock(&core.queue).len(),
            shared_queue,
            batch_size: self.batch_target(),
            notes,
        }
    }
}
