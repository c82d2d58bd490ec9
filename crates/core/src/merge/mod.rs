//! Graph merge: combines one document's extraction records with the stored graph, following
//! LightRAG's rules (same-name entities merge, descriptions join, sources and file paths are
//! tracked with limits, relation weights add up, relations are undirected).

pub mod apply;
pub mod rules;
