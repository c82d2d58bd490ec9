//! Knowledge-graph retrieval per mode (LightRAG's `_perform_kg_search`): entities from the
//! entity vectors and their edges (local), relations from the relation vectors and their
//! endpoints (global), both merged round-robin (hybrid, mix). Graph reads are batched: one call
//! per hop, and a node's edges are capped by weight.

use std::collections::{HashMap, HashSet};

use crate::engine::Rag;
use crate::error::Result;
use crate::types::{Entity, Relation, VectorHit};

/// A retrieved entity with its degree (`rank`).
#[derive(Debug, Clone)]
pub struct RankedEntity {
    pub entity: Entity,
    pub rank: usize,
}

/// A retrieved relation with its edge degree (`rank`).
#[derive(Debug, Clone)]
pub struct RankedRelation {
    pub relation: Relation,
    pub rank: usize,
}

/// Entities then relations, in retrieval order.
#[derive(Debug, Clone, Default)]
pub struct KgHits {
    pub entities: Vec<RankedEntity>,
    pub relations: Vec<RankedRelation>,
}

/// Round-robin merge of two lists, deduplicated by `key` (LightRAG's ⊕).
pub fn round_robin<T: Clone, K: std::hash::Hash + Eq>(
    a: &[T],
    b: &[T],
    key: impl Fn(&T) -> K,
) -> Vec<T> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for i in 0..a.len().max(b.len()) {
        for list in [a, b] {
            if let Some(x) = list.get(i) {
                if seen.insert(key(x)) {
                    out.push(x.clone());
                }
            }
        }
    }
    out
}

impl Rag {
    /// Local retrieval: entities nearest to the low-level keywords, then their edges.
    pub(crate) async fn local_search(&self, hits: &[VectorHit]) -> Result<KgHits> {
        let names: Vec<String> = hits
            .iter()
            .filter_map(|h| {
                h.meta
                    .get("entity_name")
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
            })
            .collect();
        if names.is_empty() {
            return Ok(KgHits::default());
        }
        let graph = &self.stores.graph;
        let (entities, degrees) = self.ranked_entities(&names).await?;
        // One hop: every edge of those entities (heaviest first, capped per node).
        let found: Vec<String> = entities
            .iter()
            .map(|e| e.entity.entity_id.clone())
            .collect();
        let edges = graph
            .node_edges(&found, self.cfg.query.max_graph_fanout)
            .await?;
        let mut seen = HashSet::new();
        let mut relations: Vec<Relation> = Vec::new();
        for n in &found {
            for r in edges.get(n).into_iter().flatten() {
                if seen.insert(r.pair()) {
                    relations.push(r.clone());
                }
            }
        }
        let relations = self.rank_relations(relations, &degrees, true).await?;
        Ok(KgHits {
            entities,
            relations,
        })
    }

    /// Global retrieval: relations nearest to the high-level keywords, then their endpoints.
    pub(crate) async fn global_search(&self, hits: &[VectorHit]) -> Result<KgHits> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for h in hits {
            let a = h.meta.get("src_id").and_then(|v| v.as_str());
            let b = h.meta.get("tgt_id").and_then(|v| v.as_str());
            if let (Some(a), Some(b)) = (a, b) {
                let (a, b) = crate::ids::sorted_pair(a, b);
                pairs.push((a.to_string(), b.to_string()));
            }
        }
        if pairs.is_empty() {
            return Ok(KgHits::default());
        }
        let graph = &self.stores.graph;
        let edges = graph.get_edges(&pairs).await?;
        let relations: Vec<Relation> = pairs.iter().filter_map(|p| edges.get(p).cloned()).collect();
        let mut names = Vec::new();
        let mut seen = HashSet::new();
        for r in &relations {
            for n in [&r.src_id, &r.tgt_id] {
                if seen.insert(n.clone()) {
                    names.push(n.clone());
                }
            }
        }
        let (entities, degrees) = self.ranked_entities(&names).await?;
        // Kept in vector order (LightRAG does not re-sort global relations).
        let relations = self.rank_relations(relations, &degrees, false).await?;
        Ok(KgHits {
            entities,
            relations,
        })
    }

    /// The existing nodes among `names`, in that order, with their degrees (two batched reads).
    async fn ranked_entities(
        &self,
        names: &[String],
    ) -> Result<(Vec<RankedEntity>, HashMap<String, usize>)> {
        let nodes = self.stores.graph.get_nodes(names).await?;
        let degrees = self.stores.graph.node_degrees(names).await?;
        let ranked = names
            .iter()
            .filter_map(|n| {
                nodes.get(n).map(|e| RankedEntity {
                    entity: e.clone(),
                    rank: degrees.get(n).copied().unwrap_or(0),
                })
            })
            .collect();
        Ok((ranked, degrees))
    }

    /// Attaches edge degrees (sum of endpoint degrees); optionally sorts by (rank, weight) desc.
    async fn rank_relations(
        &self,
        relations: Vec<Relation>,
        known: &HashMap<String, usize>,
        sort: bool,
    ) -> Result<Vec<RankedRelation>> {
        let missing: Vec<String> = relations
            .iter()
            .flat_map(|r| [r.src_id.clone(), r.tgt_id.clone()])
            .filter(|n| !known.contains_key(n))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let more = self.stores.graph.node_degrees(&missing).await?;
        let deg = |n: &str| known.get(n).or_else(|| more.get(n)).copied().unwrap_or(0);
        let mut ranked: Vec<RankedRelation> = relations
            .into_iter()
            .map(|r| RankedRelation {
                rank: deg(&r.src_id) + deg(&r.tgt_id),
                relation: r,
            })
            .collect();
        if sort {
            ranked.sort_by(|a, b| {
                b.rank
                    .cmp(&a.rank)
                    .then(b.relation.weight.total_cmp(&a.relation.weight))
            });
        }
        Ok(ranked)
    }
}
