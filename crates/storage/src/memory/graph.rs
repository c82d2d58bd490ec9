//! The in-memory [`GraphStore`]: nodes and edges in sorted maps plus an adjacency map.
//!
//! Edges are undirected and keyed by the sorted endpoint pair
//! ([`lightrag_core::ids::sorted_pair`]); the stored [`Relation`] has `src_id <= tgt_id`.
//! An edge may reference a node that does not exist (the engine creates missing endpoints);
//! it still counts in its endpoints' degrees and adjacency. A self-loop counts once. Weights
//! must be finite: a batch with a NaN or infinite weight is refused whole.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use lightrag_core::browse::{label_score, rank_labels};
use lightrag_core::error::{Error, Result};
use lightrag_core::ids::sorted_pair;
use lightrag_core::ports::GraphStore;
use lightrag_core::types::{Entity, Relation};

use super::{read, write};

/// The knowledge graph.
#[derive(Default)]
pub(super) struct Graph {
    /// Entities by name.
    nodes: BTreeMap<String, Entity>,
    /// Relations by sorted pair.
    edges: BTreeMap<(String, String), Relation>,
    /// Every node that has an edge -> its neighbours (both directions; a self-loop is one
    /// entry). A node's degree is the size of its set.
    adjacency: HashMap<String, BTreeSet<String>>,
}

/// The sorted pair as owned strings.
fn key(a: &str, b: &str) -> (String, String) {
    let (a, b) = sorted_pair(a, b);
    (a.to_string(), b.to_string())
}

impl Graph {
    fn degree(&self, name: &str) -> usize {
        self.adjacency.get(name).map_or(0, BTreeSet::len)
    }

    fn link(&mut self, a: &str, b: &str) {
        self.adjacency
            .entry(a.to_string())
            .or_default()
            .insert(b.to_string());
        self.adjacency
            .entry(b.to_string())
            .or_default()
            .insert(a.to_string());
    }

    fn unlink_one_side(&mut self, a: &str, b: &str) {
        if let Some(set) = self.adjacency.get_mut(a) {
            set.remove(b);
            if set.is_empty() {
                self.adjacency.remove(a);
            }
        }
    }

    /// Removes an edge and its adjacency entries, if it exists.
    fn remove_edge(&mut self, a: &str, b: &str) {
        if self.edges.remove(&key(a, b)).is_some() {
            self.unlink_one_side(a, b);
            self.unlink_one_side(b, a);
        }
    }

    /// The edges of `name`, heaviest first, ties by neighbour name, at most `cap`.
    fn edges_of(&self, name: &str, cap: usize) -> Vec<Relation> {
        let Some(neighbours) = self.adjacency.get(name) else {
            return Vec::new();
        };
        let mut found: Vec<(&str, &Relation)> = neighbours
            .iter()
            .map(|nb| (nb.as_str(), &self.edges[&key(name, nb)]))
            .collect();
        // Weights are finite (checked on upsert), so `partial_cmp` is total; 0.0 == -0.0.
        found.sort_by(|(na, a), (nb, b)| {
            b.weight
                .partial_cmp(&a.weight)
                .unwrap_or(Ordering::Equal)
                .then_with(|| na.cmp(nb))
        });
        found
            .into_iter()
            .take(cap)
            .map(|(_, r)| r.clone())
            .collect()
    }
}

/// The knowledge graph in memory.
#[derive(Clone)]
pub struct MemoryGraph {
    graph: Arc<RwLock<Graph>>,
}

impl MemoryGraph {
    pub(super) fn new(graph: Arc<RwLock<Graph>>) -> Self {
        MemoryGraph { graph }
    }
}

#[async_trait]
impl GraphStore for MemoryGraph {
    async fn get_nodes(&self, names: &[String]) -> Result<HashMap<String, Entity>> {
        let g = read(&self.graph)?;
        Ok(names
            .iter()
            .filter_map(|n| g.nodes.get(n).map(|e| (n.clone(), e.clone())))
            .collect())
    }

    async fn upsert_nodes(&self, nodes: Vec<Entity>) -> Result<()> {
        let mut g = write(&self.graph)?;
        for node in nodes {
            g.nodes.insert(node.entity_id.clone(), node);
        }
        Ok(())
    }

    async fn get_edges(
        &self,
        pairs: &[(String, String)],
    ) -> Result<HashMap<(String, String), Relation>> {
        let g = read(&self.graph)?;
        Ok(pairs
            .iter()
            .filter_map(|(a, b)| {
                let k = key(a, b);
                g.edges.get(&k).map(|r| (k, r.clone()))
            })
            .collect())
    }

    async fn upsert_edges(&self, edges: Vec<Relation>) -> Result<()> {
        if let Some(bad) = edges.iter().find(|r| !r.weight.is_finite()) {
            return Err(Error::InvalidInput(format!(
                "relation ({}, {}) has a non-finite weight ({})",
                bad.src_id, bad.tgt_id, bad.weight
            )));
        }
        let mut g = write(&self.graph)?;
        for mut rel in edges {
            if rel.src_id > rel.tgt_id {
                std::mem::swap(&mut rel.src_id, &mut rel.tgt_id);
            }
            g.link(&rel.src_id, &rel.tgt_id);
            g.edges.insert(rel.pair(), rel);
        }
        Ok(())
    }

    async fn node_degrees(&self, names: &[String]) -> Result<HashMap<String, usize>> {
        let g = read(&self.graph)?;
        Ok(names
            .iter()
            .filter(|n| g.nodes.contains_key(n.as_str()))
            .map(|n| (n.clone(), g.degree(n)))
            .collect())
    }

    /// An entry for every name asked, empty when it has no edge (or does not exist).
    async fn node_edges(
        &self,
        names: &[String],
        cap: usize,
    ) -> Result<HashMap<String, Vec<Relation>>> {
        let g = read(&self.graph)?;
        Ok(names
            .iter()
            .map(|n| (n.clone(), g.edges_of(n, cap)))
            .collect())
    }

    async fn remove_nodes(&self, names: &[String]) -> Result<()> {
        let mut g = write(&self.graph)?;
        for name in names {
            let neighbours: Vec<String> = g
                .adjacency
                .get(name)
                .map(|s| s.iter().cloned().collect())
                .unwrap_or_default();
            for nb in neighbours {
                g.remove_edge(name, &nb);
            }
            g.nodes.remove(name);
        }
        Ok(())
    }

    async fn remove_edges(&self, pairs: &[(String, String)]) -> Result<()> {
        let mut g = write(&self.graph)?;
        for (a, b) in pairs {
            g.remove_edge(a, b);
        }
        Ok(())
    }

    async fn node_count(&self) -> Result<usize> {
        Ok(read(&self.graph)?.nodes.len())
    }

    async fn edge_count(&self) -> Result<usize> {
        Ok(read(&self.graph)?.edges.len())
    }

    async fn all_nodes(&self) -> Result<Vec<Entity>> {
        Ok(read(&self.graph)?.nodes.values().cloned().collect())
    }

    async fn all_edges(&self) -> Result<Vec<Relation>> {
        Ok(read(&self.graph)?.edges.values().cloned().collect())
    }

    async fn labels(&self) -> Result<Vec<String>> {
        Ok(read(&self.graph)?.nodes.keys().cloned().collect())
    }

    async fn search_labels(&self, needle: &str, limit: usize) -> Result<Vec<String>> {
        let g = read(&self.graph)?;
        let hits = g
            .nodes
            .keys()
            .filter_map(|name| label_score(name, needle).map(|s| (s, name.clone())))
            .collect();
        Ok(rank_labels(hits, limit))
    }

    /// Existing nodes with edges by degree (highest first, ties by name), then the nodes
    /// without edges by name.
    async fn top_labels(&self, limit: usize) -> Result<Vec<(String, usize)>> {
        let g = read(&self.graph)?;
        let mut ranked: Vec<(String, usize)> =
            g.nodes.keys().map(|n| (n.clone(), g.degree(n))).collect();
        ranked.sort_by(|(a, da), (b, db)| db.cmp(da).then_with(|| a.cmp(b)));
        ranked.truncate(limit);
        Ok(ranked)
    }

    async fn edges_among(&self, names: &[String]) -> Result<Vec<Relation>> {
        let g = read(&self.graph)?;
        let inside: BTreeSet<&str> = names.iter().map(String::as_str).collect();
        let mut found: BTreeMap<(String, String), Relation> = BTreeMap::new();
        for name in &inside {
            for nb in g.adjacency.get(*name).into_iter().flatten() {
                if inside.contains(nb.as_str()) {
                    let k = key(name, nb);
                    let rel = g.edges[&k].clone();
                    found.insert(k, rel);
                }
            }
        }
        Ok(found.into_values().collect())
    }

    async fn clear(&self) -> Result<()> {
        *write(&self.graph)? = Graph::default();
        Ok(())
    }
}
