//! lightrag-core: the engine of lightrag-rs.
//!
//! Documents become token chunks, chunks become entities and relations (an LLM or the offline
//! extractor), those merge into a knowledge graph with LightRAG's rules, and chunks, entities and
//! relations are embedded into three vector sets. Queries retrieve from the graph and the vectors
//! in LightRAG's modes and build a context in LightRAG's layout. Everything outside the engine is a
//! port ([`ports`]); this crate has no network or database dependency.

pub mod error;
pub mod ids;
pub mod ports;
pub mod types;

pub use error::{Error, Result};
