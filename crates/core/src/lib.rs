//! lightrag-core: the engine of lightrag-rs.
//!
//! Documents become token chunks, chunks become entities and relations (an LLM or the offline
//! extractor), those merge into a knowledge graph with LightRAG's rules, and chunks, entities and
//! relations are embedded into three vector sets. Queries retrieve from the graph and the vectors
//! in LightRAG's modes and build a context in LightRAG's layout. Everything outside the engine is a
//! port ([`ports`]); this crate has no network or database dependency.

pub mod api_support;
pub mod browse;
pub mod chunker;
pub mod config;
pub mod coordination;
pub mod delete;
pub mod embedding;
pub mod engine;
pub mod error;
pub mod export;
pub mod graph_edit;
pub(crate) mod graph_writer;
pub mod hashing;
pub mod ids;
pub mod index;
pub mod llm;
pub mod locations;
pub mod maintenance;
pub mod merge;
pub mod pipeline;
pub mod ports;
pub mod prompts;
pub mod query;
pub mod text;
pub mod timings;
pub mod tokenizer;
pub mod types;

pub use engine::{ChatModels, Rag};
pub use error::{Error, Result, StorageError, StorageErrorKind};
