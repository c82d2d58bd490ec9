//! The derived vector records of chunks, entities and relations (LightRAG's meta fields and
//! `content` layouts), and writing them through the embedder.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::json;

use crate::engine::Rag;
use crate::error::Result;
use crate::ids::{entity_vector_id, relation_vector_id};
use crate::ports::{EmbedPurpose, VectorStore};
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

/// Whether a stored vector's metadata says it was embedded from `content`.
fn embeds(stored: Option<&serde_json::Value>, content: &str) -> bool {
    stored
        .and_then(|m| m.get("content"))
        .and_then(|c| c.as_str())
        == Some(content)
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
            .filter(|c| !embeds(stored.get(&c.id), &c.content))
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

    /// Stores entity vectors; only entities whose embedded text changed are embedded again.
    pub(crate) async fn index_entities(&self, entities: &[Entity]) -> Result<()> {
        self.write_items(VectorSet::Entities, entity_items(entities), HashMap::new())
            .await
    }

    /// Stores relation vectors; only relations whose embedded text changed are embedded again.
    pub(crate) async fn index_relations(&self, relations: &[Relation]) -> Result<()> {
        self.write_items(
            VectorSet::Relations,
            relation_items(relations),
            HashMap::new(),
        )
        .await
    }

    /// The whole graph, once every merge in flight has written its vectors (see
    /// [`crate::graph_writer`]): for deletes, rebuilds and hand edits, which write or remove
    /// vectors directly.
    pub(crate) async fn lock_graph(&self) -> Result<crate::graph_writer::GraphHold> {
        self.writer.exclusive().await
    }

    /// Writes the entity and relation vectors of one merge. The embedding, almost all of the
    /// work, runs at once, alongside other documents; the writes wait for the merges before
    /// this one, so a later version of an entity is never overwritten by an earlier one.
    pub(crate) async fn write_graph_vectors(&self, pending: PendingVectors) -> Result<()> {
        let ents = entity_items(&pending.entities);
        let rels = relation_items(&pending.relations);
        let ent_vectors = self.embed_changed(VectorSet::Entities, &ents).await?;
        let rel_vectors = self.embed_changed(VectorSet::Relations, &rels).await?;
        let mut turn = pending.turn;
        turn.wait().await;
        if let Some(lease) = &pending.lease {
            self.fence(lease).await?;
        }
        self.write_items(VectorSet::Entities, ents, ent_vectors)
            .await?;
        self.write_items(VectorSet::Relations, rels, rel_vectors)
            .await
        // `turn` drops here and lets the next merges of these keys write.
    }

    /// Embeds the items whose stored content differs from theirs, keyed by id.
    async fn embed_changed(
        &self,
        set: VectorSet,
        items: &[(String, String, serde_json::Value)],
    ) -> Result<HashMap<String, Vec<f32>>> {
        let ids: Vec<String> = items.iter().map(|(id, _, _)| id.clone()).collect();
        let stored = self.vector_store(set).get_meta(&ids).await?;
        let todo: Vec<&(String, String, serde_json::Value)> = items
            .iter()
            .filter(|(id, content, _)| !embeds(stored.get(id), content))
            .collect();
        if todo.is_empty() {
            return Ok(HashMap::new());
        }
        let texts: Vec<String> = todo.iter().map(|(_, t, _)| t.clone()).collect();
        let vectors = self.embed(&texts, EmbedPurpose::Document).await?;
        Ok(todo
            .into_iter()
            .map(|(id, _, _)| id.clone())
            .zip(vectors)
            .collect())
    }

    fn vector_store(&self, set: VectorSet) -> &Arc<dyn VectorStore> {
        match set {
            VectorSet::Entities => &self.stores.entities_vdb,
            VectorSet::Relations => &self.stores.relationships_vdb,
        }
    }

    /// Writes `(id, content, meta)` items: unchanged ones are skipped, ones whose content is
    /// unchanged keep their stored vector (only the metadata moves), the rest take their vector
    /// from `embedded` (computed from the same content) or are embedded now.
    async fn write_items(
        &self,
        set: VectorSet,
        items: Vec<(String, String, serde_json::Value)>,
        mut embedded: HashMap<String, Vec<f32>>,
    ) -> Result<()> {
        let store = self.vector_store(set);
        let ids: Vec<String> = items.iter().map(|(id, _, _)| id.clone()).collect();
        let stored = store.get_meta(&ids).await?;
        let mut records = Vec::with_capacity(items.len());
        let mut reuse = Vec::new();
        let mut fresh = Vec::new();
        for (id, content, meta) in items {
            let old = stored.get(&id);
            if old == Some(&meta) {
                continue;
            }
            if let Some(vector) = embedded.remove(&id) {
                records.push(VectorRecord { id, vector, meta });
            } else if embeds(old, &content) {
                reuse.push((id, content, meta));
            } else {
                fresh.push((id, content, meta));
            }
        }
        if !reuse.is_empty() {
            let ids: Vec<String> = reuse.iter().map(|(id, _, _)| id.clone()).collect();
            let mut vectors = store.get_vectors(&ids).await?;
            for (id, content, meta) in reuse {
                match vectors.remove(&id) {
                    Some(vector) => records.push(VectorRecord { id, vector, meta }),
                    None => fresh.push((id, content, meta)),
                }
            }
        }
        if !fresh.is_empty() {
            let texts: Vec<String> = fresh.iter().map(|(_, t, _)| t.clone()).collect();
            let vectors = self.embed(&texts, EmbedPurpose::Document).await?;
            for ((id, _, meta), vector) in fresh.into_iter().zip(vectors) {
                records.push(VectorRecord { id, vector, meta });
            }
        }
        if records.is_empty() {
            return Ok(());
        }
        self.timings
            .time_async(Stage::VectorWrites, store.upsert(records))
            .await
    }
}

/// The entity and relation records of one merge, waiting for their vectors.
pub(crate) struct PendingVectors {
    pub entities: Vec<Entity>,
    pub relations: Vec<Relation>,
    pub turn: crate::graph_writer::VectorTurn,
    /// The lease of the document merged, checked before the writes.
    pub lease: Option<crate::ports::DocLease>,
}

fn entity_items(entities: &[Entity]) -> Vec<(String, String, serde_json::Value)> {
    entities
        .iter()
        .map(|e| {
            (
                entity_vector_id(&e.entity_id),
                entity_content(e),
                entity_meta(e),
            )
        })
        .collect()
}

fn relation_items(relations: &[Relation]) -> Vec<(String, String, serde_json::Value)> {
    relations
        .iter()
        .map(|r| {
            let id = relation_vector_id(&r.src_id, &r.tgt_id);
            (id, relation_content(r), relation_meta(r))
        })
        .collect()
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
