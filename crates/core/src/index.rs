//! The derived vector records of chunks, entities and relations (LightRAG's meta fields and
//! `content` layouts), and writing them through the embedder.

use serde_json::json;

use crate::engine::Rag;
use crate::error::Result;
use crate::ids::{entity_vector_id, relation_vector_id};
use crate::ports::EmbedPurpose;
use crate::timings::Stage;
use crate::types::{Chunk, Entity, Relation, VectorRecord};

/// The text an entity is embedded from: `name\ndescription`.
pub fn entity_content(e: &Entity) -> String {
    format!("{}\n{}", e.entity_id, e.description)
}

/// The text a relation is embedded from: `keywords\tsrc\ntgt\ndescription`.
pub fn relation_content(r: &Relation) -> String {
    format!(
        "{}\t{}\n{}\n{}",
        r.keywords, r.src_id, r.tgt_id, r.description
    )
}

fn chunk_meta(c: &Chunk) -> serde_json::Value {
    json!({"full_doc_id": c.full_doc_id, "content": c.content, "file_path": c.file_path,
           "chunk_order_index": c.chunk_order_index, "tokens": c.tokens})
}

fn entity_meta(e: &Entity) -> serde_json::Value {
    json!({"entity_name": e.entity_id, "entity_type": e.entity_type, "content": entity_content(e),
           "source_id": e.source_id, "file_path": e.file_path})
}

fn relation_meta(r: &Relation) -> serde_json::Value {
    json!({"src_id": r.src_id, "tgt_id": r.tgt_id, "source_id": r.source_id,
           "content": relation_content(r), "keywords": r.keywords, "description": r.description,
           "weight": r.weight, "file_path": r.file_path})
}

impl Rag {
    /// Embeds and stores chunk vectors, skipping chunks whose stored content is unchanged.
    pub(crate) async fn index_chunks(&self, chunks: &[Chunk]) -> Result<()> {
        let ids: Vec<String> = chunks.iter().map(|c| c.id.clone()).collect();
        let stored = self.stores.chunks_vdb.get_meta(&ids).await?;
        let todo: Vec<&Chunk> = chunks
            .iter()
            .filter(|c| {
                stored
                    .get(&c.id)
                    .and_then(|m| m.get("content"))
                    .and_then(|v| v.as_str())
                    != Some(c.content.as_str())
            })
            .collect();
        if todo.is_empty() {
            return Ok(());
        }
        let texts: Vec<String> = todo.iter().map(|c| c.content.clone()).collect();
        let vectors = self.embed(&texts, EmbedPurpose::Document).await?;
        let records = todo
            .iter()
            .zip(vectors)
            .map(|(c, vector)| VectorRecord {
                id: c.id.clone(),
                vector,
                meta: chunk_meta(c),
            })
            .collect();
        let write = self.stores.chunks_vdb.upsert(records);
        self.timings.time_async(Stage::VectorWrites, write).await
    }

    /// Embeds and stores entity vectors, skipping entities whose stored content is unchanged.
    pub(crate) async fn index_entities(&self, entities: &[Entity]) -> Result<()> {
        let ids: Vec<String> = entities
            .iter()
            .map(|e| entity_vector_id(&e.entity_id))
            .collect();
        let stored = self.stores.entities_vdb.get_meta(&ids).await?;
        let mut texts = Vec::new();
        let mut metas = Vec::new();
        let mut todo_ids = Vec::new();
        for (e, id) in entities.iter().zip(ids) {
            let meta = entity_meta(e);
            if stored.get(&id) == Some(&meta) {
                continue;
            }
            texts.push(entity_content(e));
            metas.push(meta);
            todo_ids.push(id);
        }
        self.write_vectors(VectorSet::Entities, todo_ids, texts, metas)
            .await
    }

    /// Embeds and stores relation vectors, skipping relations whose stored content is unchanged.
    pub(crate) async fn index_relations(&self, relations: &[Relation]) -> Result<()> {
        let ids: Vec<String> = relations
            .iter()
            .map(|r| relation_vector_id(&r.src_id, &r.tgt_id))
            .collect();
        let stored = self.stores.relationships_vdb.get_meta(&ids).await?;
        let mut texts = Vec::new();
        let mut metas = Vec::new();
        let mut todo_ids = Vec::new();
        for (r, id) in relations.iter().zip(ids) {
            let meta = relation_meta(r);
            if stored.get(&id) == Some(&meta) {
                continue;
            }
            texts.push(relation_content(r));
            metas.push(meta);
            todo_ids.push(id);
        }
        self.write_vectors(VectorSet::Relations, todo_ids, texts, metas)
            .await
    }

    async fn write_vectors(
        &self,
        set: VectorSet,
        ids: Vec<String>,
        texts: Vec<String>,
        metas: Vec<serde_json::Value>,
    ) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let vectors = self.embed(&texts, EmbedPurpose::Document).await?;
        let records: Vec<VectorRecord> = ids
            .into_iter()
            .zip(vectors)
            .zip(metas)
            .map(|((id, vector), meta)| VectorRecord { id, vector, meta })
            .collect();
        let store = match set {
            VectorSet::Entities => &self.stores.entities_vdb,
            VectorSet::Relations => &self.stores.relationships_vdb,
        };
        self.timings
            .time_async(Stage::VectorWrites, store.upsert(records))
            .await
    }
}

#[derive(Clone, Copy)]
enum VectorSet {
    Entities,
    Relations,
}

/// The expected meta of an entity vector (used by drift checks).
pub fn expected_entity_meta(e: &Entity) -> serde_json::Value {
    entity_meta(e)
}

/// The expected meta of a relation vector (used by drift checks).
pub fn expected_relation_meta(r: &Relation) -> serde_json::Value {
    relation_meta(r)
}

/// The expected meta of a chunk vector (used by drift checks).
pub fn expected_chunk_meta(c: &Chunk) -> serde_json::Value {
    chunk_meta(c)
}
