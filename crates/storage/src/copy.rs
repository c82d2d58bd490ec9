//! Copying a knowledge base from one set of stores to another through the ports alone: the
//! path a user takes from the embedded default to PostgreSQL (and back), `lightrag migrate`.
//!
//! Everything moves as stored: key-value records of every namespace, document statuses, nodes,
//! edges, and the vectors with their metadata (nothing is embedded again, so the target needs
//! the same embedding model, which opening it checks). Records go in batches, and a batch
//! whose records the target already holds unchanged is skipped, so an interrupted copy run
//! again picks up where it stopped at the cost of reading what is there. Statuses go last:
//! a target whose copy was interrupted has no document that claims to be processed without
//! its chunks, graph and vectors (`lightrag check` on the target reports any drift).

use std::collections::HashMap;

use lightrag_core::error::Result;
use lightrag_core::ports::{Namespace, Stores, VectorStore};
use lightrag_core::types::{DocStatus, DocStatusRecord, VectorRecord};

/// Records per batch.
const BATCH: usize = 500;

/// What moves, for a progress display: the part being copied and how far it is.
pub trait CopyProgress: Send + Sync {
    /// Starts a part (`kv:text_chunks`, `graph:nodes`, `vectors:entities`, ...) of `total`
    /// records.
    fn part(&self, name: &str, total: usize);
    /// `done` more records of the current part are copied (or were already there).
    fn advance(&self, done: usize);
}

/// Reports nothing.
pub struct Quiet;
impl CopyProgress for Quiet {
    fn part(&self, _: &str, _: usize) {}
    fn advance(&self, _: usize) {}
}

/// How many records a copy wrote and how many it found already in place.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CopyReport {
    pub written: usize,
    pub already_there: usize,
}

impl CopyReport {
    fn add(&mut self, written: usize, there: usize) {
        self.written += written;
        self.already_there += there;
    }
}

/// Copies everything in `from` into `to` (see the module docs).
pub async fn copy_all(from: &Stores, to: &Stores, p: &dyn CopyProgress) -> Result<CopyReport> {
    let mut report = CopyReport::default();
    for ns in Namespace::ALL {
        copy_kv(from, to, ns, p, &mut report).await?;
    }
    copy_graph(from, to, p, &mut report).await?;
    for (name, a, b) in [
        ("vectors:chunks", &from.chunks_vdb, &to.chunks_vdb),
        ("vectors:entities", &from.entities_vdb, &to.entities_vdb),
        (
            "vectors:relationships",
            &from.relationships_vdb,
            &to.relationships_vdb,
        ),
    ] {
        copy_vectors(name, a.as_ref(), b.as_ref(), p, &mut report).await?;
    }
    copy_statuses(from, to, p, &mut report).await?;
    Ok(report)
}

async fn copy_kv(
    from: &Stores,
    to: &Stores,
    ns: Namespace,
    p: &dyn CopyProgress,
    report: &mut CopyReport,
) -> Result<()> {
    let keys = from.kv.keys(ns).await?;
    p.part(&format!("kv:{}", ns.as_str()), keys.len());
    for batch in keys.chunks(BATCH) {
        let values = from.kv.get_many(ns, batch).await?;
        let there = to.kv.get_many(ns, batch).await?;
        let mut items = Vec::new();
        for ((id, v), t) in batch.iter().zip(values).zip(there) {
            if let Some(v) = v {
                if t.as_ref() != Some(&v) {
                    items.push((id.clone(), v));
                }
            }
        }
        report.add(items.len(), batch.len() - items.len());
        to.kv.upsert(ns, items).await?;
        p.advance(batch.len());
    }
    Ok(())
}

async fn copy_graph(
    from: &Stores,
    to: &Stores,
    p: &dyn CopyProgress,
    report: &mut CopyReport,
) -> Result<()> {
    let names = from.graph.labels().await?;
    p.part("graph:nodes", names.len());
    for batch in names.chunks(BATCH) {
        let nodes = from.graph.get_nodes(batch).await?;
        let there = to.graph.get_nodes(batch).await?;
        let todo: Vec<_> = nodes
            .into_iter()
            .filter(|(n, e)| there.get(n) != Some(e))
            .map(|(_, e)| e)
            .collect();
        report.add(todo.len(), batch.len() - todo.len());
        to.graph.upsert_nodes(todo).await?;
        p.advance(batch.len());
    }
    let edges = from.graph.all_edges().await?;
    p.part("graph:edges", edges.len());
    for batch in edges.chunks(BATCH) {
        let pairs: Vec<(String, String)> = batch.iter().map(|e| e.pair()).collect();
        let there = to.graph.get_edges(&pairs).await?;
        let todo: Vec<_> = batch
            .iter()
            .filter(|e| there.get(&e.pair()) != Some(e))
            .cloned()
            .collect();
        report.add(todo.len(), batch.len() - todo.len());
        to.graph.upsert_edges(todo).await?;
        p.advance(batch.len());
    }
    Ok(())
}

async fn copy_vectors(
    name: &str,
    from: &dyn VectorStore,
    to: &dyn VectorStore,
    p: &dyn CopyProgress,
    report: &mut CopyReport,
) -> Result<()> {
    let ids = from.ids().await?;
    p.part(name, ids.len());
    for batch in ids.chunks(BATCH) {
        let there = to.get_meta(batch).await?;
        let meta = from.get_meta(batch).await?;
        let missing: Vec<String> = batch
            .iter()
            .filter(|id| meta.contains_key(*id) && there.get(*id) != meta.get(*id))
            .cloned()
            .collect();
        let mut vectors: HashMap<String, Vec<f32>> = from.get_vectors(&missing).await?;
        let records: Vec<VectorRecord> = missing
            .iter()
            .filter_map(|id| {
                Some(VectorRecord {
                    id: id.clone(),
                    vector: vectors.remove(id)?,
                    meta: meta.get(id)?.clone(),
                })
            })
            .collect();
        report.add(records.len(), batch.len() - records.len());
        to.upsert(records).await?;
        p.advance(batch.len());
    }
    Ok(())
}

async fn copy_statuses(
    from: &Stores,
    to: &Stores,
    p: &dyn CopyProgress,
    report: &mut CopyReport,
) -> Result<()> {
    let rows = from.doc_status.by_statuses(&DocStatus::ALL).await?;
    // What the target holds already, read once (the port has no batched get; status rows are
    // small and there is one per document).
    let there: HashMap<String, DocStatusRecord> = to
        .doc_status
        .by_statuses(&DocStatus::ALL)
        .await?
        .into_iter()
        .collect();
    p.part("doc_status", rows.len());
    for batch in rows.chunks(BATCH) {
        let todo: Vec<(String, DocStatusRecord)> = batch
            .iter()
            .filter(|(id, r)| there.get(id) != Some(r))
            .cloned()
            .collect();
        report.add(todo.len(), batch.len() - todo.len());
        to.doc_status.upsert(todo).await?;
        p.advance(batch.len());
    }
    Ok(())
}
