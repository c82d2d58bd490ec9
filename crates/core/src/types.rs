//! The records that flow through the engine, with LightRAG's field names.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A piece of a document, the unit of extraction and of naive retrieval (`text_chunks` row).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chunk {
    /// `doc-<md5>-chunk-NNN`.
    #[serde(default)]
    pub id: String,
    pub content: String,
    pub tokens: usize,
    pub chunk_order_index: usize,
    pub full_doc_id: String,
    pub file_path: String,
    /// Keys of the cached extraction results of this chunk (used by delete and rebuild).
    #[serde(default)]
    pub llm_cache_list: Vec<String>,
}

/// Where a document is in the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DocStatus {
    Pending,
    Processing,
    Processed,
    Failed,
}

impl DocStatus {
    /// All statuses, in pipeline order.
    pub const ALL: [DocStatus; 4] = [
        DocStatus::Pending,
        DocStatus::Processing,
        DocStatus::Processed,
        DocStatus::Failed,
    ];

    /// The lowercase name LightRAG uses.
    pub fn as_str(self) -> &'static str {
        match self {
            DocStatus::Pending => "pending",
            DocStatus::Processing => "processing",
            DocStatus::Processed => "processed",
            DocStatus::Failed => "failed",
        }
    }
}

impl std::fmt::Display for DocStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for DocStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DocStatus::ALL
            .into_iter()
            .find(|d| d.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown document status '{s}'"))
    }
}

/// A `doc_status` row (LightRAG's `DocProcessingStatus`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocStatusRecord {
    pub content_summary: String,
    pub content_length: usize,
    pub file_path: String,
    pub status: DocStatus,
    /// ISO-8601, UTC; immutable once set.
    pub created_at: String,
    pub updated_at: String,
    #[serde(default)]
    pub track_id: String,
    #[serde(default)]
    pub chunks_count: usize,
    #[serde(default)]
    pub chunks_list: Vec<String>,
    #[serde(default)]
    pub error_msg: Option<String>,
    #[serde(default)]
    pub metadata: serde_json::Map<String, Value>,
    #[serde(default)]
    pub content_hash: Option<String>,
}

/// A `full_docs` row: the text of a document as it was inserted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FullDoc {
    pub content: String,
    pub file_path: String,
    #[serde(default)]
    pub content_hash: Option<String>,
}

/// An entity as one chunk's extraction saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExtractedEntity {
    pub name: String,
    pub entity_type: String,
    pub description: String,
    /// The chunk it came from.
    pub source_id: String,
    pub file_path: String,
}

/// A relation as one chunk's extraction saw it (undirected).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExtractedRelation {
    pub src: String,
    pub tgt: String,
    /// Comma-separated keywords.
    pub keywords: String,
    pub description: String,
    pub weight: f64,
    pub source_id: String,
    pub file_path: String,
}

/// What extraction found in one chunk.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChunkExtraction {
    pub entities: Vec<ExtractedEntity>,
    pub relations: Vec<ExtractedRelation>,
}

/// A node of the knowledge graph, with LightRAG's node properties.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entity {
    /// The entity name (the node id).
    pub entity_id: String,
    pub entity_type: String,
    /// `<SEP>`-joined fragments or one summary.
    pub description: String,
    /// `<SEP>`-joined chunk ids (capped, see `MAX_SOURCE_IDS_PER_ENTITY`).
    pub source_id: String,
    /// `<SEP>`-joined file paths (capped, see `MAX_FILE_PATHS`).
    pub file_path: String,
    /// Epoch seconds of the last merge.
    pub created_at: i64,
    #[serde(default)]
    pub truncate: String,
}

/// An undirected edge of the knowledge graph; `src_id <= tgt_id` always.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Relation {
    pub src_id: String,
    pub tgt_id: String,
    pub weight: f64,
    pub description: String,
    /// Sorted, comma-joined keywords.
    pub keywords: String,
    pub source_id: String,
    pub file_path: String,
    pub created_at: i64,
    #[serde(default)]
    pub truncate: String,
}

impl Relation {
    /// The sorted endpoint pair that identifies the edge.
    pub fn pair(&self) -> (String, String) {
        (self.src_id.clone(), self.tgt_id.clone())
    }
}

/// A vector with the metadata a vector set keeps beside it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VectorRecord {
    pub id: String,
    pub vector: Vec<f32>,
    /// LightRAG's meta fields for the set (`content`, `file_path`, `entity_name`, ...).
    pub meta: Value,
}

/// A search hit: the id, its cosine similarity and its metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VectorHit {
    pub id: String,
    /// Cosine similarity (LightRAG calls it `distance`).
    pub score: f32,
    pub meta: Value,
}

/// The current time as LightRAG's ISO-8601 UTC string.
pub fn now_iso() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, false)
}

/// The current time in epoch seconds.
pub fn now_epoch() -> i64 {
    chrono::Utc::now().timestamp()
}
