//! The engine's error type: one enum, each variant naming the stage or port that failed.

use thiserror::Error;

/// Everything the engine and its ports can fail with.
#[derive(Debug, Error)]
pub enum Error {
    /// A storage adapter failed (I/O, corruption, a database error).
    #[error("storage error: {0}")]
    Storage(String),
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
}

impl Error {
    /// Wraps any displayable storage failure.
    pub fn storage(e: impl std::fmt::Display) -> Self {
        Error::Storage(e.to_string())
    }
    /// Wraps any displayable embedding failure.
    pub fn embedding(e: impl std::fmt::Display) -> Self {
        Error::Embedding(e.to_string())
    }
}

/// The engine's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
