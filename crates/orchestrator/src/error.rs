//! The orchestrator's error type: what a caller of the queue API can run into.

use std::time::Duration;

use thiserror::Error;

use crate::request::RequestId;

/// Everything the orchestrator's own API can fail with.
#[derive(Debug, Clone, Error)]
pub enum OrchestratorError {
    /// The orchestrator was stopped; it accepts no new work (queued work is still finished).
    #[error("the embedding orchestrator is stopped and accepts no new requests")]
    Stopped,
    /// `result` was asked for an id this process never issued, or whose result was taken.
    #[error("no pending embedding request {0} (unknown, or its result was already taken)")]
    UnknownRequest(RequestId),
    /// The result did not arrive in time; the request stays pending and can be awaited again.
    #[error("embedding request {id} has no result after {waited:?}; it is still pending")]
    Timeout { id: RequestId, waited: Duration },
    /// The model failed for this text, after retries and the individual fallback.
    #[error("embedding failed: {0}")]
    Model(String),
    /// A setting cannot work.
    #[error("embedding orchestrator configuration: {0}")]
    Config(String),
}

impl From<OrchestratorError> for lightrag_core::Error {
    fn from(e: OrchestratorError) -> Self {
        match e {
            OrchestratorError::Config(m) => lightrag_core::Error::Config(m),
            other => lightrag_core::Error::Embedding(other.to_string()),
        }
    }
}

/// The orchestrator's result type.
pub type Result<T, E = OrchestratorError> = std::result::Result<T, E>;
