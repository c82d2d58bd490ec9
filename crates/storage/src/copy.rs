//! Copying a knowledge base through the ports alone: one walk over a source's stores feeds a
//! [`Sink`]. Into other stores ([`StoreSink`]) it is `lightrag migrate`, the path from the
//! embedded default to PostgreSQL (and back); into a file it is `lightrag export`, and a file
//! read back into a [`StoreSink`] is `lightrag import`.
//!
//! Everything moves as stored: key-value records of every namespace, nodes, edges, the vectors
//! with their metadata (nothing is embedded again, so the target needs the same embedding
//! model, which opening it checks), and document statuses. The walk visits the [`Part`]s in one
//! fixed order, each part's records sorted by key (Rust `str` order, whatever the backend), in
//! batches; so a walk can resume after the last record a sink took ([`After`]). A
//! [`StoreSink`] skips the records the target already holds unchanged, so an interrupted copy
//! run again picks up where it stopped at the cost of reading what is there. Statuses go last:
//! a target whose copy was interrupted has no document that claims to be processed without its
//! chunks, graph and vectors (`lightrag check` on the target reports any drift).
//!
//! Memory: records move in batches of [`BATCH`]; the keys of a part (and the edges, which the
//! graph port lists only whole) are held while it is walked.

use std::collections::HashMap;

use async_trait::async_trait;
use lightrag_core::error::Result;
use lightrag_core::ports::{Namespace, Stores, VectorStore};
use lightrag_core::types::{DocStatus, DocStatusRecord, Entity, Relation, VectorRecord};
use serde_json::Value;

pub use crate::vector_set::VectorSet;

/// Records per batch.
pub const BATCH: usize = 500;

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
    fn add(&mut self, other: CopyReport) {
        self.written += other.written;
        self.already_there += other.already_there;
    }
}

/// A part of a knowledge base: what one stretch of a walk copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    Kv(Namespace),
    Nodes,
    Edges,
    Vectors(VectorSet),
    Statuses,
}

impl Part {
    /// Every part in walk order: key-value namespaces, nodes, edges, vector sets, statuses.
    /// Without `cache`, the LLM response cache is left out.
    pub fn all(cache: bool) -> Vec<Part> {
        let mut parts: Vec<Part> = Namespace::ALL
            .into_iter()
            .filter(|ns| cache || *ns != Namespace::LlmResponseCache)
            .map(Part::Kv)
            .collect();
        parts.extend([Part::Nodes, Part::Edges]);
        parts.extend(VectorSet::ALL.map(Part::Vectors));
        parts.push(Part::Statuses);
        parts
    }

    /// The part's name: `kv:<namespace>`, `graph:nodes`, `graph:edges`, `vectors:<set>`,
    /// `doc_status`.
    pub fn name(self) -> String {
        match self {
            Part::Kv(ns) => format!("kv:{}", ns.as_str()),
            Part::Nodes => "graph:nodes".into(),
            Part::Edges => "graph:edges".into(),
            Part::Vectors(set) => format!("vectors:{}", set.as_str()),
            Part::Statuses => "doc_status".into(),
        }
    }

    /// The part a name names, if any.
    pub fn parse(name: &str) -> Option<Part> {
        Part::all(true).into_iter().find(|p| p.name() == name)
    }
}

/// A record's key within its part: the id, or for an edge the sorted pair (other parts leave
/// the second field empty). Within a part a walk goes in increasing key order.
pub type Key = (String, String);

/// Where a walk resumes: after the record with `key` of `part`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct After {
    pub part: Part,
    pub key: Key,
}

/// The vectors of a batch: given with it (read from a file) or read from the source store for
/// the ids a sink asks for (a store sink asks only for those its target lacks).
enum Vectors<'a> {
    Given(HashMap<String, Vec<f32>>),
    Stored(&'a dyn VectorStore),
}

/// A batch of vector records: the ids with their metadata, in key order, and their vectors.
pub struct VectorBatch<'a> {
    pub meta: Vec<(String, Value)>,
    vectors: Vectors<'a>,
}

impl<'a> VectorBatch<'a> {
    /// A batch whose vectors are at hand.
    pub fn given(records: Vec<VectorRecord>) -> VectorBatch<'static> {
        let mut meta = Vec::with_capacity(records.len());
        let mut vectors = HashMap::with_capacity(records.len());
        for r in records {
            meta.push((r.id.clone(), r.meta));
            vectors.insert(r.id, r.vector);
        }
        VectorBatch {
            meta,
            vectors: Vectors::Given(vectors),
        }
    }

    /// The records of `ids` (those of the batch whose vector exists), in batch order.
    pub async fn records(&mut self, ids: &[String]) -> Result<Vec<VectorRecord>> {
        let mut vectors = match &mut self.vectors {
            Vectors::Given(v) => ids
                .iter()
                .filter_map(|id| Some((id.clone(), v.remove(id)?)))
                .collect(),
            Vectors::Stored(store) => store.get_vectors(ids).await?,
        };
        let wanted: std::collections::HashSet<&str> = ids.iter().map(String::as_str).collect();
        Ok(self
            .meta
            .iter()
            .filter(|(id, _)| wanted.contains(id.as_str()))
            .filter_map(|(id, meta)| {
                Some(VectorRecord {
                    id: id.clone(),
                    vector: vectors.remove(id)?,
                    meta: meta.clone(),
                })
            })
            .collect())
    }

    /// Every id of the batch.
    pub fn ids(&self) -> Vec<String> {
        self.meta.iter().map(|(id, _)| id.clone()).collect()
    }
}

/// One batch of one part's records, in key order.
pub enum Batch<'a> {
    Kv(Namespace, Vec<(String, Value)>),
    Nodes(Vec<Entity>),
    Edges(Vec<Relation>),
    Vectors(VectorSet, VectorBatch<'a>),
    Statuses(Vec<(String, DocStatusRecord)>),
}

/// Where a walk's records go: other stores ([`StoreSink`]) or a file.
#[async_trait]
pub trait Sink: Send {
    /// A part starts; `total` records of it follow in this walk.
    async fn begin(&mut self, _part: Part, _total: usize) -> Result<()> {
        Ok(())
    }
    /// Takes one batch; says how many records it wrote and how many it found in place.
    async fn write(&mut self, batch: Batch<'_>) -> Result<CopyReport>;
}

/// Copies everything in `from` into `to` (see the module docs).
pub async fn copy_all(from: &Stores, to: &Stores, p: &dyn CopyProgress) -> Result<CopyReport> {
    walk(from, &Part::all(true), None, &mut StoreSink::new(to), p).await
}

/// Feeds the records of `parts` (in walk order) from `from` to `sink`, after `after` when
/// resuming.
pub async fn walk(
    from: &Stores,
    parts: &[Part],
    after: Option<&After>,
    sink: &mut dyn Sink,
    p: &dyn CopyProgress,
) -> Result<CopyReport> {
    let mut report = CopyReport::default();
    let resume_at = after.and_then(|a| parts.iter().position(|x| *x == a.part));
    for (i, part) in parts.iter().copied().enumerate() {
        let skip_to = match (resume_at, after) {
            (Some(r), _) if i < r => continue,
            (Some(r), Some(a)) if i == r => Some(&a.key),
            _ => None,
        };
        walk_part(from, part, skip_to, sink, p, &mut report).await?;
    }
    Ok(report)
}

/// Sorted keys, those after `skip_to` only.
fn keys_after(mut keys: Vec<String>, skip_to: Option<&Key>) -> Vec<String> {
    keys.sort_unstable();
    match skip_to {
        Some((k, _)) => keys.into_iter().filter(|x| x > k).collect(),
        None => keys,
    }
}

async fn walk_part(
    from: &Stores,
    part: Part,
    skip_to: Option<&Key>,
    sink: &mut dyn Sink,
    p: &dyn CopyProgress,
    report: &mut CopyReport,
) -> Result<()> {
    let name = part.name();
    match part {
        Part::Kv(ns) => {
            let keys = keys_after(from.kv.keys(ns).await?, skip_to);
            start(sink, p, part, &name, keys.len()).await?;
            for batch in keys.chunks(BATCH) {
                let values = from.kv.get_many(ns, batch).await?;
                let items = batch
                    .iter()
                    .zip(values)
                    .filter_map(|(id, v)| Some((id.clone(), v?)))
                    .collect();
                report.add(sink.write(Batch::Kv(ns, items)).await?);
                p.advance(batch.len());
            }
        }
        Part::Nodes => {
            let names = keys_after(from.graph.labels().await?, skip_to);
            start(sink, p, part, &name, names.len()).await?;
            for batch in names.chunks(BATCH) {
                let mut nodes = from.graph.get_nodes(batch).await?;
                let nodes = batch.iter().filter_map(|n| nodes.remove(n)).collect();
                report.add(sink.write(Batch::Nodes(nodes)).await?);
                p.advance(batch.len());
            }
        }
        Part::Edges => {
            let mut edges = from.graph.all_edges().await?;
            edges.sort_by(|a, b| (&a.src_id, &a.tgt_id).cmp(&(&b.src_id, &b.tgt_id)));
            if let Some((s, t)) = skip_to {
                edges.retain(|e| (&e.src_id, &e.tgt_id) > (s, t));
            }
            start(sink, p, part, &name, edges.len()).await?;
            let mut edges = edges.into_iter().peekable();
            while edges.peek().is_some() {
                let batch: Vec<Relation> = edges.by_ref().take(BATCH).collect();
                let n = batch.len();
                report.add(sink.write(Batch::Edges(batch)).await?);
                p.advance(n);
            }
        }
        Part::Vectors(set) => {
            let store = set.of(from).as_ref();
            let ids = keys_after(store.ids().await?, skip_to);
            start(sink, p, part, &name, ids.len()).await?;
            for batch in ids.chunks(BATCH) {
                let mut meta = store.get_meta(batch).await?;
                let meta = batch
                    .iter()
                    .filter_map(|id| Some((id.clone(), meta.remove(id)?)))
                    .collect();
                let vectors = VectorBatch {
                    meta,
                    vectors: Vectors::Stored(store),
                };
                report.add(sink.write(Batch::Vectors(set, vectors)).await?);
                p.advance(batch.len());
            }
        }
        Part::Statuses => {
            let mut rows = from.doc_status.by_statuses(&DocStatus::ALL).await?;
            rows.sort_by(|a, b| a.0.cmp(&b.0));
            if let Some((k, _)) = skip_to {
                rows.retain(|(id, _)| id > k);
            }
            start(sink, p, part, &name, rows.len()).await?;
            for batch in rows.chunks(BATCH) {
                report.add(sink.write(Batch::Statuses(batch.to_vec())).await?);
                p.advance(batch.len());
            }
        }
    }
    Ok(())
}

async fn start(
    sink: &mut dyn Sink,
    p: &dyn CopyProgress,
    part: Part,
    name: &str,
    total: usize,
) -> Result<()> {
    p.part(name, total);
    sink.begin(part, total).await
}

/// Writes into a set of stores what they do not already hold unchanged.
pub struct StoreSink<'a> {
    to: &'a Stores,
    /// The target's statuses, read once at the first batch of statuses (the port has no
    /// batched get; status rows are small and there is one per document).
    statuses_there: Option<HashMap<String, DocStatusRecord>>,
}

impl<'a> StoreSink<'a> {
    /// A sink into `to`.
    pub fn new(to: &'a Stores) -> StoreSink<'a> {
        StoreSink {
            to,
            statuses_there: None,
        }
    }
}

fn counted(written: usize, total: usize) -> CopyReport {
    CopyReport {
        written,
        already_there: total - written,
    }
}

#[async_trait]
impl Sink for StoreSink<'_> {
    async fn write(&mut self, batch: Batch<'_>) -> Result<CopyReport> {
        let to = self.to;
        match batch {
            Batch::Kv(ns, items) => {
                let ids: Vec<String> = items.iter().map(|(id, _)| id.clone()).collect();
                let there = to.kv.get_many(ns, &ids).await?;
                let total = items.len();
                let todo: Vec<_> = items
                    .into_iter()
                    .zip(there)
                    .filter(|((_, v), t)| t.as_ref() != Some(v))
                    .map(|(item, _)| item)
                    .collect();
                let n = todo.len();
                if n > 0 {
                    to.kv.upsert(ns, todo).await?;
                }
                Ok(counted(n, total))
            }
            Batch::Nodes(nodes) => {
                let names: Vec<String> = nodes.iter().map(|e| e.entity_id.clone()).collect();
                let there = to.graph.get_nodes(&names).await?;
                let total = nodes.len();
                let todo: Vec<Entity> = nodes
                    .into_iter()
                    .filter(|e| there.get(&e.entity_id) != Some(e))
                    .collect();
                let n = todo.len();
                if n > 0 {
                    to.graph.upsert_nodes(todo).await?;
                }
                Ok(counted(n, total))
            }
            Batch::Edges(edges) => {
                let pairs: Vec<(String, String)> = edges.iter().map(|e| e.pair()).collect();
                let there = to.graph.get_edges(&pairs).await?;
                let total = edges.len();
                let todo: Vec<Relation> = edges
                    .into_iter()
                    .filter(|e| there.get(&e.pair()) != Some(e))
                    .collect();
                let n = todo.len();
                if n > 0 {
                    to.graph.upsert_edges(todo).await?;
                }
                Ok(counted(n, total))
            }
            Batch::Vectors(set, mut batch) => {
                let target = set.of(to);
                let ids = batch.ids();
                let there = target.get_meta(&ids).await?;
                let missing: Vec<String> = batch
                    .meta
                    .iter()
                    .filter(|(id, m)| there.get(id) != Some(m))
                    .map(|(id, _)| id.clone())
                    .collect();
                let records = batch.records(&missing).await?;
                let n = records.len();
                if n > 0 {
                    target.upsert(records).await?;
                }
                Ok(counted(n, ids.len()))
            }
            Batch::Statuses(rows) => {
                if self.statuses_there.is_none() {
                    let rows = to.doc_status.by_statuses(&DocStatus::ALL).await?;
                    self.statuses_there = Some(rows.into_iter().collect());
                }
                let there = self.statuses_there.as_ref();
                let total = rows.len();
                let todo: Vec<(String, DocStatusRecord)> = rows
                    .into_iter()
                    .filter(|(id, r)| there.and_then(|t| t.get(id)) != Some(r))
                    .collect();
                let n = todo.len();
                if n > 0 {
                    to.doc_status.upsert(todo).await?;
                }
                Ok(counted(n, total))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_have_names_that_parse_back_in_walk_order() {
        let all = Part::all(true);
        assert_eq!(all.len(), 7 + 2 + 3 + 1);
        for p in &all {
            assert_eq!(Part::parse(&p.name()), Some(*p));
        }
        assert_eq!(all.last(), Some(&Part::Statuses));
        let without = Part::all(false);
        assert!(!without.contains(&Part::Kv(Namespace::LlmResponseCache)));
        assert_eq!(without.len(), all.len() - 1);
        assert_eq!(Part::parse("kv:nothing"), None);
    }
}
