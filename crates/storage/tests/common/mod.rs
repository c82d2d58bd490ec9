//! What the storage crate's engine-level tests share: a scripted extractor and an engine on
//! given stores with the hashing embedder.

#![allow(dead_code)]

use std::sync::Arc;

use async_trait::async_trait;
use lightrag_core::config::Settings;
use lightrag_core::hashing::HashingEmbedder;
use lightrag_core::ports::{Extractor, Stores};
use lightrag_core::types::{Chunk, ChunkExtraction, ExtractedEntity, ExtractedRelation};
use lightrag_core::{Rag, Result};

/// `[Name]`s are entities (described by their sentence); every two names of one sentence are
/// related, weighted by how close they stand (1 for neighbours).
pub struct Brackets;

#[async_trait]
impl Extractor for Brackets {
    fn identity(&self) -> String {
        "brackets-v1".into()
    }
    async fn extract(&self, chunk: &Chunk) -> Result<ChunkExtraction> {
        let mut ex = ChunkExtraction::default();
        for sentence in chunk.content.split('.') {
            let names: Vec<&str> = sentence
                .split('[')
                .skip(1)
                .filter_map(|p| p.split(']').next())
                .collect();
            for n in &names {
                ex.entities.push(ExtractedEntity {
                    name: n.to_string(),
                    entity_type: "thing".into(),
                    description: format!("{n}: {}.", sentence.trim()),
                    source_id: chunk.id.clone(),
                    file_path: chunk.file_path.clone(),
                });
            }
            for (i, a) in names.iter().enumerate() {
                for (j, b) in names.iter().enumerate().skip(i + 1) {
                    ex.relations.push(ExtractedRelation {
                        src: a.to_string(),
                        tgt: b.to_string(),
                        description: format!("{a} and {b}: {}.", sentence.trim()),
                        keywords: "together".into(),
                        weight: 1.0 / (j - i) as f64,
                        source_id: chunk.id.clone(),
                        file_path: chunk.file_path.clone(),
                    });
                }
            }
        }
        Ok(ex)
    }
}

/// An engine over `stores` with the hashing embedder of `dim` dimensions and [`Brackets`],
/// one document at a time (merge order, and so fragment order, is then fixed), plus `extra`
/// settings.
pub fn engine(stores: Stores, dim: usize, extra: &[(&str, &str)]) -> Rag {
    let mut s = Settings::default();
    s.set("EMBEDDING_BINDING", "hashing");
    s.set("EMBEDDING_DIM", dim.to_string());
    s.set("MAX_PARALLEL_INSERT", "1");
    for (k, v) in extra {
        s.set(k, *v);
    }
    Rag::new(
        s.to_config().unwrap(),
        stores,
        Arc::new(HashingEmbedder::new(dim)),
        Arc::new(Brackets),
    )
}
