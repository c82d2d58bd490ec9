//! The engine's error type: one enum, each variant naming the stage or port that failed.

use thiserror::Error;

/// Everything the engine and its ports can fail with.
#[derive(Debug, Error)]
pub enum Error {
    /// A storage adapter failed; the error says which backend and whether a retry can help.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The embedding model failed or is missing.
    #[error("embedding error: {0}")]
    Embedding(String),
    /// The chat model failed.
    #[error("LLM error: {0}")]
    Llm(String),
    /// Entity/relation extraction failed for a chunk.
    #[error("extraction error: {0}")]
    Extraction(String),
    /// The input (a document, a query, a parameter) is not acceptable.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// A configuration value is wrong.
    #[error("configuration error: {0}")]
    Config(String),
    /// A working directory or index was built with another embedding model or dimension.
    #[error("embedding model mismatch: {0}")]
    ModelMismatch(String),
    /// The thing asked for does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// This process no longer holds the lease of a document (it expired and another process
    /// took the document over): its work on it stops without writing.
    #[error("lease lost: {0}")]
    LeaseLost(String),
}

impl Error {
    /// A record the engine cannot encode or decode: damaged data, retrying will not help.
    pub fn storage(e: impl std::fmt::Display) -> Self {
        Error::Storage(StorageError::new("engine", StorageErrorKind::Corrupt, e))
    }

    /// Whether trying the same call again later can succeed (a database that is down or
    /// busy, a write that lost a race).
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Storage(e) if e.is_retryable())
    }
    /// Wraps any displayable embedding failure.
    pub fn embedding(e: impl std::fmt::Display) -> Self {
        Error::Embedding(e.to_string())
    }
}

/// What kind of storage failure, which decides whether a retry can help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageErrorKind {
    /// The database cannot be reached, or refused the call for now: retry later.
    Unavailable,
    /// A concurrent writer got there first (a lock, a version, a unique key): retry now.
    Conflict,
    /// Stored data is damaged or in an unknown format: retrying will not help.
    Corrupt,
    /// Anything else (a refused operation, a bug): retrying will not help.
    Other,
}

impl std::fmt::Display for StorageErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StorageErrorKind::Unavailable => "unavailable",
            StorageErrorKind::Conflict => "conflict",
            StorageErrorKind::Corrupt => "corrupt",
            StorageErrorKind::Other => "failed",
        })
    }
}

/// A storage adapter's failure: which backend, what kind, and what happened.
#[derive(Debug, Clone, Error)]
#[error("storage {kind} ({backend}): {message}")]
pub struct StorageError {
    /// The backend that failed: `embedded`, `memory`, `postgres`, ...
    pub backend: &'static str,
    pub kind: StorageErrorKind,
    pub message: String,
}

impl StorageError {
    pub fn new(
        backend: &'static str,
        kind: StorageErrorKind,
        message: impl std::fmt::Display,
    ) -> Self {
        StorageError {
            backend,
            kind,
            message: message.to_string(),
        }
    }

    /// Whether a retry can help.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.kind,
            StorageErrorKind::Unavailable | StorageErrorKind::Conflict
        )
    }
}

/// The engine's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
