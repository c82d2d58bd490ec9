//! Query: keywords → retrieval (naive | local | global | hybrid | mix) → context in LightRAG's
//! layout with a reference list → an answer (the chat model when configured, otherwise an
//! extractive answer built from the best-matching sentences).

pub mod answer;
pub mod chunks;
pub mod context;
pub mod keywords;
pub mod limits;
pub mod rerank;
pub mod retrieve;
pub mod run;
pub mod token_memo;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::QueryDefaults;
use crate::error::Error;
use crate::ports::ChatMessage;

/// LightRAG's retrieval strategies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QueryMode {
    Local,
    Global,
    Hybrid,
    Naive,
    Mix,
    Bypass,
}

impl QueryMode {
    /// LightRAG's name of the mode.
    pub fn as_str(self) -> &'static str {
        match self {
            QueryMode::Local => "local",
            QueryMode::Global => "global",
            QueryMode::Hybrid => "hybrid",
            QueryMode::Naive => "naive",
            QueryMode::Mix => "mix",
            QueryMode::Bypass => "bypass",
        }
    }
}

impl std::str::FromStr for QueryMode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "local" => QueryMode::Local,
            "global" => QueryMode::Global,
            "hybrid" => QueryMode::Hybrid,
            "naive" => QueryMode::Naive,
            "mix" => QueryMode::Mix,
            "bypass" => QueryMode::Bypass,
            other => {
                return Err(Error::InvalidInput(format!(
                    "unknown query mode '{other}': use naive, local, global, hybrid, mix or bypass"
                )))
            }
        })
    }
}

/// LightRAG's `QueryParam`.
#[derive(Debug, Clone)]
pub struct QueryParam {
    pub mode: QueryMode,
    pub only_need_context: bool,
    pub only_need_prompt: bool,
    pub response_type: String,
    pub top_k: usize,
    pub chunk_top_k: usize,
    pub max_entity_tokens: usize,
    pub max_relation_tokens: usize,
    pub max_total_tokens: usize,
    pub hl_keywords: Vec<String>,
    pub ll_keywords: Vec<String>,
    pub conversation_history: Vec<ChatMessage>,
    pub user_prompt: Option<String>,
    pub include_references: bool,
    /// Stream the answer (see [`crate::Rag::query_stream`]).
    pub stream: bool,
    /// Rerank the retrieved chunks when the engine has a reranker (LightRAG's `enable_rerank`).
    pub enable_rerank: bool,
}

impl QueryParam {
    /// Defaults from the configuration (TOP_K, CHUNK_TOP_K, token budgets), mode `mix`.
    pub fn from_defaults(d: &QueryDefaults) -> QueryParam {
        QueryParam {
            mode: QueryMode::Mix,
            only_need_context: false,
            only_need_prompt: false,
            response_type: "Multiple Paragraphs".into(),
            top_k: d.top_k,
            chunk_top_k: d.chunk_top_k,
            max_entity_tokens: d.max_entity_tokens,
            max_relation_tokens: d.max_relation_tokens,
            max_total_tokens: d.max_total_tokens,
            hl_keywords: vec![],
            ll_keywords: vec![],
            conversation_history: vec![],
            user_prompt: None,
            include_references: true,
            stream: false,
            enable_rerank: d.enable_rerank,
        }
    }
}

/// A reference: a numbered source file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reference {
    pub reference_id: String,
    pub file_path: String,
    /// Where in the file the chunks cited under this reference are, when the file has pages,
    /// slides or sheets: "pages 3-4", "slide 2", "sheet Sales!A12:D40".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

impl Reference {
    /// The reference as a reader sees it: the file, and where in it when known.
    pub fn label(&self) -> String {
        match &self.location {
            Some(l) => format!("{} ({l})", self.file_path),
            None => self.file_path.clone(),
        }
    }
}

/// The retrieved data, in LightRAG's `/query/data` shapes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QueryData {
    pub entities: Vec<Value>,
    pub relationships: Vec<Value>,
    pub chunks: Vec<Value>,
    pub references: Vec<Reference>,
}

/// Keywords used for retrieval.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Keywords {
    pub high_level: Vec<String>,
    pub low_level: Vec<String>,
}

/// Everything a query produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryResult {
    /// `success` or `failure`.
    pub status: String,
    pub message: String,
    pub mode: QueryMode,
    pub keywords: Keywords,
    pub data: QueryData,
    /// The context handed (or that would be handed) to the LLM.
    pub context: String,
    /// The answer text (the context itself when only the context was asked for).
    pub answer: String,
    /// Whether a chat model wrote the answer (false: extractive or canned).
    pub llm_generated: bool,
}

/// A query result, with the answer as a stream when one was asked for.
pub struct QueryOutput {
    pub result: QueryResult,
    pub stream: Option<futures::stream::BoxStream<'static, crate::Result<String>>>,
}

impl From<QueryResult> for QueryOutput {
    fn from(result: QueryResult) -> Self {
        QueryOutput {
            result,
            stream: None,
        }
    }
}

/// LightRAG's canned reply when nothing relevant was found.
pub const NO_CONTEXT_ANSWER: &str =
    "Sorry, I'm not able to provide an answer to that question.[no-context]";
