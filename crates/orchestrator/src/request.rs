//! What travels through the queues: request ids, priorities, cache keys and outcomes.

use std::fmt;

use lightrag_core::ports::EmbedPurpose;
use sha2::{Digest, Sha256};

/// Identifies one queued text (a UUID, unique across processes sharing a Redis queue).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestId(pub String);

impl RequestId {
    /// A fresh random id.
    pub fn new() -> RequestId {
        RequestId(uuid::Uuid::new_v4().simple().to_string())
    }
}

impl Default for RequestId {
    fn default() -> Self {
        RequestId::new()
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How soon a text should be embedded: lower goes first. A user waiting on a query outranks
/// background indexing, so queries default to [`Priority::High`] and documents to
/// [`Priority::Normal`] (the seed's default priority 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    Critical = 0,
    High = 1,
    Normal = 2,
    Low = 3,
}

impl Priority {
    /// The default priority of a purpose.
    pub fn for_purpose(purpose: EmbedPurpose) -> Priority {
        match purpose {
            EmbedPurpose::Query => Priority::High,
            EmbedPurpose::Document => Priority::Normal,
        }
    }

    /// The numeric rank (0 = first), as stored in the shared queue.
    pub fn rank(self) -> u8 {
        self as u8
    }

    /// From a stored rank; anything unknown is [`Priority::Low`].
    pub fn from_rank(rank: u8) -> Priority {
        match rank {
            0 => Priority::Critical,
            1 => Priority::High,
            2 => Priority::Normal,
            _ => Priority::Low,
        }
    }
}

/// A one-letter code of a purpose, used in cache keys and the shared queue.
pub fn purpose_code(p: EmbedPurpose) -> &'static str {
    match p {
        EmbedPurpose::Document => "d",
        EmbedPurpose::Query => "q",
    }
}

/// The purpose of a code written by [`purpose_code`].
pub fn purpose_from_code(code: &str) -> Option<EmbedPurpose> {
    match code {
        "d" => Some(EmbedPurpose::Document),
        "q" => Some(EmbedPurpose::Query),
        _ => None,
    }
}

/// The identity of an embedding: model, purpose (asymmetric models embed queries differently)
/// and a SHA-256 of the text, so keys stay short whatever the text length.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CacheKey(pub String);

impl CacheKey {
    pub fn new(model: &str, purpose: EmbedPurpose, text: &str) -> CacheKey {
        let digest = Sha256::digest(text.as_bytes());
        let mut hex = String::with_capacity(64);
        for b in digest {
            hex.push_str(&format!("{b:02x}"));
        }
        CacheKey(format!("{model}:{}:{hex}", purpose_code(purpose)))
    }
}

/// What a caller receives for one text: its vector, or why there is none. Cloneable, because
/// identical texts in flight share one outcome.
pub type Outcome = std::result::Result<Vec<f32>, String>;
