//! The health report: the seed's three statuses (integration, Redis, pipeline) plus what an
//! operator needs to act on them.

use serde::Serialize;

use crate::shared_queue::QueueDepth;

/// Overall status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Everything configured works.
    Healthy,
    /// Embeddings are served, but without something configured (Redis) or on trial (a
    /// half-open breaker).
    Degraded,
    /// Embeddings are not served: stopped, or the model's breaker is open.
    Unhealthy,
}

/// The Redis level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RedisStatus {
    Connected,
    /// Configured but not answering: the in-process path serves.
    Unreachable,
    /// Not configured.
    Disabled,
}

/// The batching pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PipelineStatus {
    /// Not started yet (it starts on first use).
    Idle,
    Running,
    /// Finishing queued work before stopping.
    Draining,
    Stopped,
}

/// What `health()` reports.
#[derive(Debug, Clone, Serialize)]
pub struct Health {
    pub integration_status: Status,
    pub redis_status: RedisStatus,
    pub pipeline_status: PipelineStatus,
    /// `closed`, `half-open` or `open`.
    pub circuit_breaker: &'static str,
    /// Texts waiting in this process.
    pub local_queue_depth: usize,
    /// The shared Redis queue, when used and reachable.
    pub shared_queue: Option<QueueDepth>,
    /// The adaptive batch size now.
    pub batch_size: usize,
    /// The reasons behind a status other than healthy.
    pub notes: Vec<String>,
}
