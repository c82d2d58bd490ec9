//! Maintenance over the stores: the graph and key-value stores are authoritative and the vector
//! sets derived from them, so [`Rag::check`] reports any drift between the two and
//! [`Rag::rebuild_vectors`] re-derives the vector sets.

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;

use crate::engine::Rag;
use crate::error::Result;
use crate::ids::{entity_vector_id, relation_vector_id};
use crate::index::{expected_chunk_meta, expected_entity_meta, expected_relation_meta};
use crate::ports::{Namespace, VectorStore};
use crate::types::{Chunk, DocStatus};

/// Drift of one vector set against its source of truth.
#[derive(Debug, Default, Clone, Serialize, PartialEq, Eq)]
pub struct SetDrift {
    pub set: String,
    pub expected: usize,
    pub stored: usize,
    /// Expected ids with no vector.
    pub missing: Vec<String>,
    /// Vectors whose source no longer exists.
    pub orphaned: Vec<String>,
    /// Vectors whose metadata (and so whose embedded text) is out of date.
    pub stale: Vec<String>,
}

impl SetDrift {
    /// Whether the set matches its source.
    pub fn is_clean(&self) -> bool {
        self.missing.is_empty() && self.orphaned.is_empty() && self.stale.is_empty()
    }
}

/// What [`Rag::check`] found.
#[derive(Debug, Default, Clone, Serialize)]
pub struct CheckReport {
    pub vector_sets: Vec<SetDrift>,
    /// Edges whose endpoint entity does not exist.
    pub dangling_edges: Vec<(String, String)>,
    /// Documents left in `processing` (an interrupted run; the next insert resumes them).
    pub interrupted_documents: Vec<String>,
}

impl CheckReport {
    /// Whether everything is consistent.
    pub fn is_clean(&self) -> bool {
        self.vector_sets.iter().all(SetDrift::is_clean) && self.dangling_edges.is_empty()
    }
}

async fn drift(
    set: &dyn VectorStore,
    expected: HashMap<String, serde_json::Value>,
) -> Result<SetDrift> {
    let stored: BTreeSet<String> = set.ids().await?.into_iter().collect();
    let want: BTreeSet<String> = expected.keys().cloned().collect();
    let present: Vec<String> = want.intersection(&stored).cloned().collect();
    let metas = set.get_meta(&present).await?;
    let stale = present
        .into_iter()
        .filter(|id| metas.get(id) != expected.get(id))
        .collect();
    Ok(SetDrift {
        set: set.namespace().to_string(),
        expected: want.len(),
        stored: stored.len(),
        missing: want.difference(&stored).cloned().collect(),
        orphaned: stored.difference(&want).cloned().collect(),
        stale,
    })
}

impl Rag {
    async fn all_chunks(&self) -> Result<Vec<Chunk>> {
        let keys = self.stores.kv.keys(Namespace::TextChunks).await?;
        let rows = self
            .stores
            .kv
            .get_many(Namespace::TextChunks, &keys)
            .await?;
        Ok(keys
            .into_iter()
            .zip(rows)
            .filter_map(|(id, v)| {
                let mut c: Chunk = serde_json::from_value(v?).ok()?;
                c.id = id;
                Some(c)
            })
            .collect())
    }

    /// Compares every vector set with the graph and the chunk records.
    pub async fn check(&self) -> Result<CheckReport> {
        let chunks = self.all_chunks().await?;
        let nodes = self.stores.graph.all_nodes().await?;
        let edges = self.stores.graph.all_edges().await?;
        let chunk_want = chunks
            .iter()
            .map(|c| (c.id.clone(), expected_chunk_meta(c)))
            .collect();
        let ent_want = nodes
            .iter()
            .map(|e| (entity_vector_id(&e.entity_id), expected_entity_meta(e)))
            .collect();
        let rel_want = edges
            .iter()
            .map(|r| {
                (
                    relation_vector_id(&r.src_id, &r.tgt_id),
                    expected_relation_meta(r),
                )
            })
            .collect();
        let names: BTreeSet<&str> = nodes.iter().map(|n| n.entity_id.as_str()).collect();
        let dangling_edges = edges
            .iter()
            .filter(|r| !names.contains(r.src_id.as_str()) || !names.contains(r.tgt_id.as_str()))
            .map(|r| r.pair())
            .collect();
        let interrupted_documents = self
            .stores
            .doc_status
            .by_statuses(&[DocStatus::Processing])
            .await?
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        Ok(CheckReport {
            vector_sets: vec![
                drift(self.stores.chunks_vdb.as_ref(), chunk_want).await?,
                drift(self.stores.entities_vdb.as_ref(), ent_want).await?,
                drift(self.stores.relationships_vdb.as_ref(), rel_want).await?,
            ],
            dangling_edges,
            interrupted_documents,
        })
    }

    /// Re-derives the three vector sets from the chunk records and the graph.
    /// Returns the number of vectors written.
    pub async fn rebuild_vectors(&self) -> Result<usize> {
        let chunks = self.all_chunks().await?;
        let nodes = self.stores.graph.all_nodes().await?;
        let edges = self.stores.graph.all_edges().await?;
        self.stores.chunks_vdb.clear().await?;
        self.stores.entities_vdb.clear().await?;
        self.stores.relationships_vdb.clear().await?;
        for batch in chunks.chunks(256) {
            self.index_chunks(batch).await?;
        }
        for batch in nodes.chunks(512) {
            self.index_entities(batch).await?;
        }
        for batch in edges.chunks(512) {
            self.index_relations(batch).await?;
        }
        self.stores.chunks_vdb.flush().await?;
        self.stores.entities_vdb.flush().await?;
        self.stores.relationships_vdb.flush().await?;
        Ok(chunks.len() + nodes.len() + edges.len())
    }
}

/// What [`Rag::clear_workspace`] removed.
#[derive(Debug, Default, Clone, Serialize, PartialEq, Eq)]
pub struct ClearReport {
    pub documents: usize,
    pub entities: usize,
    pub relations: usize,
}

impl Rag {
    /// Removes every document, chunk, entity, relation and vector of the knowledge base; the
    /// LLM response cache stays (as LightRAG's `DELETE /documents` keeps it), so indexing the
    /// same texts again costs no model calls. One clear per store, whatever its size.
    pub async fn clear_workspace(&self) -> Result<ClearReport> {
        let s = self.stores();
        let counts = s.doc_status.counts().await?;
        let report = ClearReport {
            documents: counts.values().sum(),
            entities: s.graph.node_count().await?,
            relations: s.graph.edge_count().await?,
        };
        for ns in Namespace::ALL {
            if ns != Namespace::LlmResponseCache {
                s.kv.clear(ns).await?;
            }
        }
        s.doc_status.clear().await?;
        s.graph.clear().await?;
        for set in [&s.chunks_vdb, &s.entities_vdb, &s.relationships_vdb] {
            set.clear().await?;
        }
        Ok(report)
    }

    /// Puts failed documents back to pending (not recorded duplicates, nor files whose text
    /// could not be extracted: they have none); returns how many.
    /// The pipeline picks them up on its next run.
    pub async fn requeue_failed(&self) -> Result<usize> {
        let store = &self.stores().doc_status;
        let rows: Vec<_> = store
            .by_statuses(&[DocStatus::Failed])
            .await?
            .into_iter()
            .filter(|(_, r)| {
                r.metadata.get("is_duplicate") != Some(&serde_json::Value::Bool(true))
                    && !crate::pipeline::is_extraction_failure(r)
            })
            .map(|(id, mut r)| {
                r.status = DocStatus::Pending;
                r.error_msg = None;
                r.updated_at = crate::types::now_iso();
                (id, r)
            })
            .collect();
        let n = rows.len();
        if n > 0 {
            store.upsert(rows).await?;
        }
        Ok(n)
    }
}
