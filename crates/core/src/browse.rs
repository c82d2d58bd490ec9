//! Reading the knowledge base for people and viewers: label search, popular labels, bounded
//! subgraphs and pages of document statuses. Each is answered through the ports' indexed
//! operations, a bounded number of round trips per request, never by loading a whole store.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::engine::Rag;
use crate::error::{Error, Result};
use crate::ports::{DocPage, DocPageRequest};
use crate::types::{DocStatusRecord, Entity, Relation};

/// LightRAG's label search score of `label` for a lowercased `needle`: exact 1000, prefix 500,
/// otherwise `100 - length` plus 50 when the match starts a word; `None` when absent.
pub fn label_score(label: &str, needle: &str) -> Option<i64> {
    let l = label.to_lowercase();
    if l == needle {
        return Some(1000);
    }
    if l.starts_with(needle) {
        return Some(500);
    }
    let at = l.find(needle)?;
    let mut s = 100 - l.chars().count() as i64;
    if l[..at]
        .chars()
        .last()
        .is_some_and(|c| c == ' ' || c == '_' || c == '-')
    {
        s += 50;
    }
    Some(s)
}

/// Ranks `(label, score)` pairs best first, ties by label, and keeps `limit`: the one order
/// every backend's [`crate::ports::GraphStore::search_labels`] returns.
pub fn rank_labels(mut hits: Vec<(i64, String)>, limit: usize) -> Vec<String> {
    hits.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    hits.into_iter().take(limit).map(|(_, l)| l).collect()
}

/// A part of the graph for a viewer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Subgraph {
    /// In the order they were reached (the start first; each level by degree).
    pub nodes: Vec<Entity>,
    /// Edges between the nodes, sorted by pair.
    pub edges: Vec<Relation>,
    /// Whether the node cap cut something off.
    pub truncated: bool,
}

impl Rag {
    /// LightRAG's `/graphs`: `*` is the `max_nodes` best-connected nodes; a label is a
    /// breadth-first neighbourhood to `max_depth` hops, each level ranked by degree, at most
    /// `max_nodes` nodes. One batched read per hop; a hub contributes at most `max_nodes`
    /// of its heaviest edges per hop. An unknown label gives an empty graph.
    pub async fn subgraph(
        &self,
        label: &str,
        max_depth: usize,
        max_nodes: usize,
    ) -> Result<Subgraph> {
        if max_depth < 1 || max_nodes < 1 {
            return Err(Error::InvalidInput(
                "max_depth and max_nodes must be at least 1".into(),
            ));
        }
        let graph = &self.stores().graph;
        let (picked, truncated) = if label == "*" {
            let top = graph.top_labels(max_nodes + 1).await?;
            let truncated = top.len() > max_nodes;
            (
                top.into_iter().take(max_nodes).map(|(n, _)| n).collect(),
                truncated,
            )
        } else if graph.get_nodes(&[label.to_string()]).await?.is_empty() {
            (Vec::new(), false)
        } else {
            self.neighbourhood(label, max_depth, max_nodes).await?
        };
        let mut found: HashMap<String, Entity> = graph.get_nodes(&picked).await?;
        let nodes = picked.iter().filter_map(|n| found.remove(n)).collect();
        let edges = graph.edges_among(&picked).await?;
        Ok(Subgraph {
            nodes,
            edges,
            truncated,
        })
    }

    /// Breadth-first from `start`, each level by degree then name, until `cap` nodes.
    async fn neighbourhood(
        &self,
        start: &str,
        depth: usize,
        cap: usize,
    ) -> Result<(Vec<String>, bool)> {
        let graph = &self.stores().graph;
        let mut seen: HashSet<String> = HashSet::from([start.to_string()]);
        let mut order = vec![start.to_string()];
        let mut frontier = vec![start.to_string()];
        for _ in 0..depth {
            let edges = graph.node_edges(&frontier, cap).await?;
            let mut next: Vec<String> = Vec::new();
            for rels in edges.values() {
                for r in rels {
                    for n in [&r.src_id, &r.tgt_id] {
                        if seen.insert(n.clone()) {
                            next.push(n.clone());
                        }
                    }
                }
            }
            if next.is_empty() {
                break;
            }
            let degrees = graph.node_degrees(&next).await?;
            next.sort_by(|a, b| {
                let (da, db) = (degrees.get(a), degrees.get(b));
                db.cmp(&da).then_with(|| a.cmp(b))
            });
            frontier.clear();
            for n in next {
                if order.len() >= cap {
                    return Ok((order, true));
                }
                order.push(n.clone());
                frontier.push(n);
            }
        }
        Ok((order, false))
    }

    /// At most `limit` entity names containing `query` (case-insensitive), best first.
    pub async fn search_labels(&self, query: &str, limit: usize) -> Result<Vec<String>> {
        let needle = query.trim().to_lowercase();
        if needle.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        self.stores().graph.search_labels(&needle, limit).await
    }

    /// The `limit` entity names of highest degree.
    pub async fn popular_labels(&self, limit: usize) -> Result<Vec<String>> {
        let top = self.stores().graph.top_labels(limit).await?;
        Ok(top.into_iter().map(|(n, _)| n).collect())
    }

    /// One page of document statuses.
    pub async fn document_page(&self, req: &DocPageRequest) -> Result<DocPage> {
        if req.statuses.is_empty() || req.limit == 0 {
            return Ok(DocPage::default());
        }
        self.stores().doc_status.page(req).await
    }

    /// The documents of a track id and how many are in each status.
    pub async fn track(
        &self,
        track_id: &str,
    ) -> Result<(Vec<(String, DocStatusRecord)>, BTreeMap<String, usize>)> {
        let rows = self.stores().doc_status.by_track_id(track_id).await?;
        let mut summary = BTreeMap::new();
        for (_, r) in &rows {
            *summary.entry(r.status.as_str().to_string()).or_default() += 1;
        }
        Ok((rows, summary))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_scores_exact_then_prefix_then_boundary() {
        assert_eq!(label_score("Lake Orin", "lake orin"), Some(1000));
        assert_eq!(label_score("Lake Orin", "lake"), Some(500));
        assert_eq!(label_score("Lake Orin", "orin"), Some(100 - 9 + 50));
        assert_eq!(label_score("Lakeorin", "orin"), Some(100 - 8));
        assert_eq!(label_score("Lake", "sea"), None);
    }

    #[test]
    fn scores_rank_exact_prefix_word_then_shorter() {
        let hits: Vec<(i64, String)> = ["Orin", "Orin Lines", "Lake Orin", "Borin", "x"]
            .iter()
            .filter_map(|l| label_score(l, "orin").map(|s| (s, l.to_string())))
            .collect();
        assert_eq!(
            rank_labels(hits, 10),
            ["Orin", "Orin Lines", "Lake Orin", "Borin"]
        );
    }
}
