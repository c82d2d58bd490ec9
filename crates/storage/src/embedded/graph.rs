//! The embedded [`GraphStore`]: the knowledge graph in the shared redb database.
//!
//! Tables, all maintained together in one write transaction per batch:
//!
//! * `graph_nodes`: entity name -> [`Entity`] JSON;
//! * `graph_edges`: the sorted endpoint pair -> [`Relation`] JSON (edges are undirected);
//! * `graph_adj`: `(node, weight key, neighbour)` -> `()`, both directions of every edge. The
//!   weight key sorts heaviest first, so a node's first `cap` edges are a short range scan and a
//!   hub cannot blow up a query;
//! * `graph_degree`: node -> number of incident edges, so degrees are point reads;
//! * `graph_by_degree`: `(inverted degree, node)` -> `()`, so the best-connected nodes are the
//!   first keys (built once on open for a database written before it existed).
//!
//! An edge may reference a node that does not exist (the engine creates missing endpoints); it
//! still counts in the endpoints' degrees and adjacency. A self-loop counts once.

use std::collections::{BTreeSet, HashMap};

use async_trait::async_trait;
use lightrag_core::error::{Error, Result};
use lightrag_core::ids::sorted_pair;
use lightrag_core::ports::GraphStore;
use lightrag_core::types::{Entity, Relation};
use redb::{ReadOnlyTable, ReadableTable, ReadableTableMetadata, Table, TableDefinition};
use serde::Deserialize;

use lightrag_core::browse::{label_score, rank_labels};

use super::db::{
    commit, commit_deferred, decode, encode, len_usize, open_read, open_write, EmbeddedDb,
    StorageResultExt,
};

const NODES_NAME: &str = "graph_nodes";
const EDGES_NAME: &str = "graph_edges";
const ADJ_NAME: &str = "graph_adj";
const DEGREE_NAME: &str = "graph_degree";

/// Nodes: name -> entity JSON.
const NODES: TableDefinition<&str, &[u8]> = TableDefinition::new(NODES_NAME);
/// Edges: sorted pair -> relation JSON.
const EDGES: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new(EDGES_NAME);
/// Adjacency: (node, weight key, neighbour), heaviest first per node.
const ADJ: TableDefinition<(&str, u64, &str), ()> = TableDefinition::new(ADJ_NAME);
/// Degrees: node -> incident edge count.
const DEGREE: TableDefinition<&str, u64> = TableDefinition::new(DEGREE_NAME);
const BY_DEGREE_NAME: &str = "graph_by_degree";
/// Degree order: (u64::MAX - degree, node), highest degree first, ties by name.
const BY_DEGREE: TableDefinition<(u64, &str), ()> = TableDefinition::new(BY_DEGREE_NAME);

/// The knowledge graph with adjacency and degree indexes.
#[derive(Debug, Clone)]
pub struct RedbGraph {
    db: EmbeddedDb,
}

/// An order-preserving, inverted encoding of a weight: ascending keys are descending weights.
fn weight_key(weight: f64) -> u64 {
    // -0.0 and 0.0 are one weight (stored weights are finite, see `upsert_edges`).
    let w = if weight == 0.0 { 0.0 } else { weight };
    let bits = w.to_bits();
    let ordered = if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    };
    !ordered
}

/// Only the weight of a stored relation (to find its adjacency entries).
#[derive(Deserialize)]
struct StoredWeight {
    weight: f64,
}

/// A pair as a key in error messages.
fn pair_label(a: &str, b: &str) -> String {
    format!("({a}, {b})")
}

/// The tables a write transaction touches.
struct WriteTables<'txn> {
    nodes: Table<'txn, &'static str, &'static [u8]>,
    edges: Table<'txn, (&'static str, &'static str), &'static [u8]>,
    adj: Table<'txn, (&'static str, u64, &'static str), ()>,
    degree: Table<'txn, &'static str, u64>,
    by_degree: Table<'txn, (u64, &'static str), ()>,
}

impl WriteTables<'_> {
    /// Adds `delta` (+1 or -1) to a node's degree; a zero degree has no row.
    fn add_degree(&mut self, node: &str, delta: i64) -> Result<()> {
        let current = self
            .degree
            .get(node)
            .storage(DEGREE_NAME)?
            .map(|g| g.value())
            .unwrap_or(0);
        let next = if delta < 0 {
            current.saturating_sub(delta.unsigned_abs())
        } else {
            current + delta.unsigned_abs()
        };
        if current > 0 {
            self.by_degree
                .remove((u64::MAX - current, node))
                .storage(BY_DEGREE_NAME)?;
        }
        if next == 0 {
            self.degree.remove(node).storage(DEGREE_NAME)?;
        } else {
            self.degree.insert(node, next).storage(DEGREE_NAME)?;
            self.by_degree
                .insert((u64::MAX - next, node), ())
                .storage(BY_DEGREE_NAME)?;
        }
        Ok(())
    }

    /// Adds both adjacency entries of the edge `a`-`b`.
    fn link(&mut self, a: &str, b: &str, wk: u64) -> Result<()> {
        self.adj.insert((a, wk, b), ()).storage(ADJ_NAME)?;
        self.adj.insert((b, wk, a), ()).storage(ADJ_NAME)?;
        Ok(())
    }

    /// Removes both adjacency entries of the edge `a`-`b`.
    fn unlink(&mut self, a: &str, b: &str, wk: u64) -> Result<()> {
        self.adj.remove((a, wk, b)).storage(ADJ_NAME)?;
        self.adj.remove((b, wk, a)).storage(ADJ_NAME)?;
        Ok(())
    }

    /// Inserts or replaces one edge (endpoints sorted) and keeps the indexes in step.
    fn upsert_edge(&mut self, rel: &Relation) -> Result<()> {
        let (a, b) = (rel.src_id.as_str(), rel.tgt_id.as_str());
        let bytes = encode(EDGES_NAME, pair_label(a, b), rel)?;
        let new_wk = weight_key(rel.weight);
        let old: Option<StoredWeight> = match self.edges.insert((a, b), bytes.as_slice()) {
            Ok(Some(g)) => Some(decode(EDGES_NAME, pair_label(a, b), g.value())?),
            Ok(None) => None,
            Err(e) => return Err(crate::embedded::fail(format!("{EDGES_NAME}: {e}"))),
        };
        match old {
            Some(old) => {
                let old_wk = weight_key(old.weight);
                if old_wk != new_wk {
                    self.unlink(a, b, old_wk)?;
                    self.link(a, b, new_wk)?;
                }
            }
            None => {
                self.link(a, b, new_wk)?;
                self.add_degree(a, 1)?;
                if a != b {
                    self.add_degree(b, 1)?;
                }
            }
        }
        Ok(())
    }

    /// Removes one edge (sorted pair) and its index entries; false if it did not exist.
    fn remove_edge(&mut self, a: &str, b: &str) -> Result<bool> {
        let old: Option<StoredWeight> = match self.edges.remove((a, b)) {
            Ok(Some(g)) => Some(decode(EDGES_NAME, pair_label(a, b), g.value())?),
            Ok(None) => None,
            Err(e) => return Err(crate::embedded::fail(format!("{EDGES_NAME}: {e}"))),
        };
        let Some(old) = old else {
            return Ok(false);
        };
        self.unlink(a, b, weight_key(old.weight))?;
        self.add_degree(a, -1)?;
        if a != b {
            self.add_degree(b, -1)?;
        }
        Ok(true)
    }

    /// The neighbours of a node, from its adjacency entries.
    fn neighbours(&self, node: &str) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for entry in self.adj.range((node, 0u64, "")..).storage(ADJ_NAME)? {
            let (k, _) = entry.storage(ADJ_NAME)?;
            let (n, _, nb) = k.value();
            if n != node {
                break;
            }
            out.push(nb.to_string());
        }
        Ok(out)
    }
}

/// The first `cap` adjacency entries of `node` (heaviest first): its neighbours.
fn capped_neighbours(
    adj: &ReadOnlyTable<(&'static str, u64, &'static str), ()>,
    node: &str,
    cap: usize,
) -> Result<Vec<String>> {
    let mut out = Vec::new();
    if cap == 0 {
        return Ok(out);
    }
    for entry in adj.range((node, 0u64, "")..).storage(ADJ_NAME)? {
        let (k, _) = entry.storage(ADJ_NAME)?;
        let (n, _, nb) = k.value();
        if n != node {
            break;
        }
        out.push(nb.to_string());
        if out.len() == cap {
            break;
        }
    }
    Ok(out)
}

/// Reads one edge by sorted pair.
fn read_edge(
    edges: &ReadOnlyTable<(&'static str, &'static str), &'static [u8]>,
    a: &str,
    b: &str,
) -> Result<Option<Relation>> {
    let guard = edges.get((a, b)).storage(EDGES_NAME)?;
    guard
        .map(|g| decode(EDGES_NAME, pair_label(a, b), g.value()))
        .transpose()
}

impl RedbGraph {
    /// A graph store on the shared database; builds the degree order of a database written
    /// before it existed.
    pub fn new(db: &EmbeddedDb) -> Result<RedbGraph> {
        let graph = RedbGraph { db: db.clone() };
        graph.backfill_degree_order()?;
        Ok(graph)
    }

    fn backfill_degree_order(&self) -> Result<()> {
        let txn = self.db.read()?;
        let degrees_exist = match open_read(&txn, DEGREE)? {
            Some(t) => t.first().storage(DEGREE_NAME)?.is_some(),
            None => false,
        };
        let ordered = match open_read(&txn, BY_DEGREE)? {
            Some(t) => t.first().storage(BY_DEGREE_NAME)?.is_some(),
            None => false,
        };
        if !degrees_exist || ordered {
            return Ok(());
        }
        let mut all = Vec::new();
        if let Some(t) = open_read(&txn, DEGREE)? {
            for entry in t.iter().storage(DEGREE_NAME)? {
                let (k, v) = entry.storage(DEGREE_NAME)?;
                all.push((k.value().to_string(), v.value()));
            }
        }
        drop(txn);
        self.write(|t| {
            for (node, d) in &all {
                t.by_degree
                    .insert((u64::MAX - d, node.as_str()), ())
                    .storage(BY_DEGREE_NAME)?;
            }
            Ok(())
        })
    }

    /// Runs `f` on the tables of one write transaction and commits.
    fn write<F>(&self, f: F) -> Result<()>
    where
        F: FnOnce(&mut WriteTables<'_>) -> Result<()>,
    {
        let txn = self.db.write()?;
        {
            let mut tables = WriteTables {
                nodes: open_write(&txn, NODES)?,
                edges: open_write(&txn, EDGES)?,
                adj: open_write(&txn, ADJ)?,
                degree: open_write(&txn, DEGREE)?,
                by_degree: open_write(&txn, BY_DEGREE)?,
            };
            f(&mut tables)?;
        }
        // Derived from the extraction results: durable with the next status write.
        commit_deferred(txn)
    }

    fn get_nodes_sync(&self, names: &[String]) -> Result<HashMap<String, Entity>> {
        let txn = self.db.read()?;
        let Some(nodes) = open_read(&txn, NODES)? else {
            return Ok(HashMap::new());
        };
        let mut out = HashMap::new();
        for name in names {
            if let Some(g) = nodes.get(name.as_str()).storage(NODES_NAME)? {
                out.insert(name.clone(), decode(NODES_NAME, name, g.value())?);
            }
        }
        Ok(out)
    }

    fn upsert_nodes_sync(&self, nodes: Vec<Entity>) -> Result<()> {
        if nodes.is_empty() {
            return Ok(());
        }
        self.write(|t| {
            for node in &nodes {
                let bytes = encode(NODES_NAME, &node.entity_id, node)?;
                t.nodes
                    .insert(node.entity_id.as_str(), bytes.as_slice())
                    .storage(NODES_NAME)?;
            }
            Ok(())
        })
    }

    fn get_edges_sync(
        &self,
        pairs: &[(String, String)],
    ) -> Result<HashMap<(String, String), Relation>> {
        let txn = self.db.read()?;
        let Some(edges) = open_read(&txn, EDGES)? else {
            return Ok(HashMap::new());
        };
        let mut out = HashMap::new();
        for (x, y) in pairs {
            let (a, b) = sorted_pair(x, y);
            if let Some(rel) = read_edge(&edges, a, b)? {
                out.insert((a.to_string(), b.to_string()), rel);
            }
        }
        Ok(out)
    }

    fn upsert_edges_sync(&self, edges: Vec<Relation>) -> Result<()> {
        if edges.is_empty() {
            return Ok(());
        }
        let mut sorted = Vec::with_capacity(edges.len());
        for mut rel in edges {
            if !rel.weight.is_finite() {
                return Err(Error::InvalidInput(format!(
                    "relation {} has a non-finite weight ({})",
                    pair_label(&rel.src_id, &rel.tgt_id),
                    rel.weight
                )));
            }
            if rel.src_id > rel.tgt_id {
                std::mem::swap(&mut rel.src_id, &mut rel.tgt_id);
            }
            sorted.push(rel);
        }
        self.write(|t| {
            for rel in &sorted {
                t.upsert_edge(rel)?;
            }
            Ok(())
        })
    }

    fn node_degrees_sync(&self, names: &[String]) -> Result<HashMap<String, usize>> {
        let txn = self.db.read()?;
        let Some(nodes) = open_read(&txn, NODES)? else {
            return Ok(HashMap::new());
        };
        let degree = open_read(&txn, DEGREE)?;
        let mut out = HashMap::new();
        for name in names {
            if nodes.get(name.as_str()).storage(NODES_NAME)?.is_none() {
                continue;
            }
            let d = match &degree {
                Some(t) => t
                    .get(name.as_str())
                    .storage(DEGREE_NAME)?
                    .map(|g| g.value())
                    .unwrap_or(0),
                None => 0,
            };
            out.insert(name.clone(), len_usize(DEGREE_NAME, d)?);
        }
        Ok(out)
    }

    fn node_edges_sync(
        &self,
        names: &[String],
        cap: usize,
    ) -> Result<HashMap<String, Vec<Relation>>> {
        let mut out: HashMap<String, Vec<Relation>> =
            names.iter().map(|n| (n.clone(), Vec::new())).collect();
        let txn = self.db.read()?;
        let (Some(adj), Some(edges)) = (open_read(&txn, ADJ)?, open_read(&txn, EDGES)?) else {
            return Ok(out);
        };
        for (name, list) in out.iter_mut() {
            for nb in capped_neighbours(&adj, name, cap)? {
                let (a, b) = sorted_pair(name, &nb);
                let Some(rel) = read_edge(&edges, a, b)? else {
                    return Err(crate::embedded::fail(format!(
                        "table {ADJ_NAME}: adjacency entry {} without an edge",
                        pair_label(a, b)
                    )));
                };
                list.push(rel);
            }
        }
        Ok(out)
    }

    fn remove_nodes_sync(&self, names: &[String]) -> Result<()> {
        if names.is_empty() {
            return Ok(());
        }
        let unique: BTreeSet<&str> = names.iter().map(String::as_str).collect();
        self.write(|t| {
            for name in unique {
                for nb in t.neighbours(name)? {
                    let (a, b) = sorted_pair(name, &nb);
                    t.remove_edge(a, b)?;
                }
                t.degree.remove(name).storage(DEGREE_NAME)?;
                t.nodes.remove(name).storage(NODES_NAME)?;
            }
            Ok(())
        })
    }

    fn remove_edges_sync(&self, pairs: &[(String, String)]) -> Result<()> {
        if pairs.is_empty() {
            return Ok(());
        }
        self.write(|t| {
            for (x, y) in pairs {
                let (a, b) = sorted_pair(x, y);
                t.remove_edge(a, b)?;
            }
            Ok(())
        })
    }

    fn node_count_sync(&self) -> Result<usize> {
        let txn = self.db.read()?;
        match open_read(&txn, NODES)? {
            Some(t) => len_usize(NODES_NAME, t.len().storage(NODES_NAME)?),
            None => Ok(0),
        }
    }

    fn edge_count_sync(&self) -> Result<usize> {
        let txn = self.db.read()?;
        match open_read(&txn, EDGES)? {
            Some(t) => len_usize(EDGES_NAME, t.len().storage(EDGES_NAME)?),
            None => Ok(0),
        }
    }

    fn all_nodes_sync(&self) -> Result<Vec<Entity>> {
        let txn = self.db.read()?;
        let Some(nodes) = open_read(&txn, NODES)? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for entry in nodes.iter().storage(NODES_NAME)? {
            let (k, v) = entry.storage(NODES_NAME)?;
            out.push(decode(NODES_NAME, k.value(), v.value())?);
        }
        Ok(out)
    }

    fn labels_sync(&self) -> Result<Vec<String>> {
        let txn = self.db.read()?;
        let Some(nodes) = open_read(&txn, NODES)? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for entry in nodes.iter().storage(NODES_NAME)? {
            let (k, _) = entry.storage(NODES_NAME)?;
            out.push(k.value().to_string());
        }
        Ok(out)
    }

    /// A scan of the node names (keys only, no record is decoded).
    fn search_labels_sync(&self, needle: &str, limit: usize) -> Result<Vec<String>> {
        let txn = self.db.read()?;
        let Some(nodes) = open_read(&txn, NODES)? else {
            return Ok(Vec::new());
        };
        let mut hits = Vec::new();
        for entry in nodes.iter().storage(NODES_NAME)? {
            let (k, _) = entry.storage(NODES_NAME)?;
            if let Some(score) = label_score(k.value(), needle) {
                hits.push((score, k.value().to_string()));
            }
        }
        Ok(rank_labels(hits, limit))
    }

    /// Existing nodes from the degree order, then nodes without edges by name.
    fn top_labels_sync(&self, limit: usize) -> Result<Vec<(String, usize)>> {
        let txn = self.db.read()?;
        let Some(nodes) = open_read(&txn, NODES)? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        if let Some(order) = open_read(&txn, BY_DEGREE)? {
            for entry in order.iter().storage(BY_DEGREE_NAME)? {
                if out.len() >= limit {
                    return Ok(out);
                }
                let (k, _) = entry.storage(BY_DEGREE_NAME)?;
                let (inv, name) = k.value();
                if nodes.get(name).storage(NODES_NAME)?.is_some() {
                    out.push((name.to_string(), len_usize(BY_DEGREE_NAME, u64::MAX - inv)?));
                }
            }
        }
        let degree = open_read(&txn, DEGREE)?;
        for entry in nodes.iter().storage(NODES_NAME)? {
            if out.len() >= limit {
                break;
            }
            let (k, _) = entry.storage(NODES_NAME)?;
            let connected = match &degree {
                Some(d) => d.get(k.value()).storage(DEGREE_NAME)?.is_some(),
                None => false,
            };
            if !connected {
                out.push((k.value().to_string(), 0));
            }
        }
        Ok(out)
    }

    fn clear_sync(&self) -> Result<()> {
        let txn = self.db.write()?;
        for name in [
            NODES_NAME,
            EDGES_NAME,
            ADJ_NAME,
            DEGREE_NAME,
            BY_DEGREE_NAME,
        ] {
            txn.delete_table(TableDefinition::<(), ()>::new(name))
                .storage(name)?;
        }
        commit(txn)
    }

    fn all_edges_sync(&self) -> Result<Vec<Relation>> {
        let txn = self.db.read()?;
        let Some(edges) = open_read(&txn, EDGES)? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for entry in edges.iter().storage(EDGES_NAME)? {
            let (k, v) = entry.storage(EDGES_NAME)?;
            let (a, b) = k.value();
            out.push(decode(EDGES_NAME, pair_label(a, b), v.value())?);
        }
        Ok(out)
    }
}

#[async_trait]
impl GraphStore for RedbGraph {
    async fn get_nodes(&self, names: &[String]) -> Result<HashMap<String, Entity>> {
        self.get_nodes_sync(names)
    }

    async fn upsert_nodes(&self, nodes: Vec<Entity>) -> Result<()> {
        self.upsert_nodes_sync(nodes)
    }

    async fn get_edges(
        &self,
        pairs: &[(String, String)],
    ) -> Result<HashMap<(String, String), Relation>> {
        self.get_edges_sync(pairs)
    }

    async fn upsert_edges(&self, edges: Vec<Relation>) -> Result<()> {
        self.upsert_edges_sync(edges)
    }

    async fn node_degrees(&self, names: &[String]) -> Result<HashMap<String, usize>> {
        self.node_degrees_sync(names)
    }

    async fn node_edges(
        &self,
        names: &[String],
        cap: usize,
    ) -> Result<HashMap<String, Vec<Relation>>> {
        self.node_edges_sync(names, cap)
    }

    async fn remove_nodes(&self, names: &[String]) -> Result<()> {
        self.remove_nodes_sync(names)
    }

    async fn remove_edges(&self, pairs: &[(String, String)]) -> Result<()> {
        self.remove_edges_sync(pairs)
    }

    async fn node_count(&self) -> Result<usize> {
        self.node_count_sync()
    }

    async fn edge_count(&self) -> Result<usize> {
        self.edge_count_sync()
    }

    async fn all_nodes(&self) -> Result<Vec<Entity>> {
        self.all_nodes_sync()
    }

    async fn labels(&self) -> Result<Vec<String>> {
        self.labels_sync()
    }

    async fn search_labels(&self, needle: &str, limit: usize) -> Result<Vec<String>> {
        self.search_labels_sync(needle, limit)
    }

    async fn top_labels(&self, limit: usize) -> Result<Vec<(String, usize)>> {
        self.top_labels_sync(limit)
    }

    async fn clear(&self) -> Result<()> {
        self.clear_sync()
    }

    async fn all_edges(&self) -> Result<Vec<Relation>> {
        self.all_edges_sync()
    }
}
