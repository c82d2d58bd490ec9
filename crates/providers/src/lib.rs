//! Adapters for the engine's model ports: the in-process embedding model and the offline
//! (no LLM) entity/relation extractor.

#[cfg(feature = "local-model")]
pub mod local_model;
pub mod offline;
pub mod remote;
