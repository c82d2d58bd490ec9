//! Deleting a document: its chunks and whatever only it contributed to the graph and the vector
//! sets go; entities and relations that other documents also support are rebuilt from those
//! documents' cached extraction results (no extraction runs again).

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::engine::Rag;
use crate::error::{Error, Result};
use crate::ids::{entity_vector_id, relation_key, relation_vector_id, GRAPH_FIELD_SEP};
use crate::merge::apply::{tracking_row, Grouped};
use crate::merge::rules::split_sep;
use crate::pipeline::process::cached_extraction;
use crate::ports::Namespace;
use crate::types::{Chunk, Entity, Relation};

/// What a delete removed and rebuilt.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DeleteReport {
    pub doc_id: String,
    pub chunks: usize,
    pub entities_deleted: usize,
    pub relations_deleted: usize,
    pub entities_rebuilt: usize,
    pub relations_rebuilt: usize,
}

fn string_list(v: Option<&Value>, field: &str) -> Vec<String> {
    v.and_then(|v| v.get(field))
        .and_then(|a| a.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Sorts items by what remains of their sources once `deleted` chunks go: items with nothing
/// left are dropped, items that lost some are rebuilt from the rest, the others are untouched.
/// Sources are the tracking row's `chunk_ids`, else the graph's `source_id`.
fn split_by_remaining<'a, K: std::hash::Hash + Eq>(
    items: impl Iterator<Item = (K, Option<&'a Value>, &'a str)>,
    deleted: &HashSet<String>,
) -> (Vec<K>, HashMap<K, Vec<String>>) {
    let mut drop = Vec::new();
    let mut rebuild = HashMap::new();
    for (key, row, source_id) in items {
        let sources = match row {
            Some(r) => string_list(Some(r), "chunk_ids"),
            None => split_sep(source_id),
        };
        let remaining: Vec<String> = sources
            .iter()
            .filter(|s| !deleted.contains(*s))
            .cloned()
            .collect();
        if remaining.is_empty() {
            drop.push(key);
        } else if remaining.len() != sources.len() {
            rebuild.insert(key, remaining);
        }
    }
    (drop, rebuild)
}

impl Rag {
    /// Removes a document and its contributions. Unknown ids are `NotFound`.
    pub async fn delete_document(&self, doc_id: &str) -> Result<DeleteReport> {
        let row = self
            .stores
            .doc_status
            .get(doc_id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("no document with id {doc_id}")))?;
        let _guard = self.lock_graph().await?;
        let deleted: HashSet<String> = row.chunks_list.iter().cloned().collect();
        let ents = self.stores.kv.get(Namespace::FullEntities, doc_id).await?;
        let rels = self.stores.kv.get(Namespace::FullRelations, doc_id).await?;
        let names = string_list(ents.as_ref(), "entity_names");
        let pairs: Vec<(String, String)> = rels
            .as_ref()
            .and_then(|v| v.get("relation_pairs"))
            .and_then(|a| a.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|p| {
                        let p = p.as_array()?;
                        Some((
                            p.first()?.as_str()?.to_string(),
                            p.get(1)?.as_str()?.to_string(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();

        // Remaining sources of every candidate.
        let nodes = self.stores.graph.get_nodes(&names).await?;
        let ent_rows = self
            .stores
            .kv
            .get_many(Namespace::EntityChunks, &names)
            .await?;
        let rel_keys: Vec<String> = pairs.iter().map(|(a, b)| relation_key(a, b)).collect();
        let edges = self.stores.graph.get_edges(&pairs).await?;
        let rel_rows = self
            .stores
            .kv
            .get_many(Namespace::RelationChunks, &rel_keys)
            .await?;

        let mut report = DeleteReport {
            doc_id: doc_id.to_string(),
            chunks: deleted.len(),
            ..Default::default()
        };
        let node_sources = names.iter().zip(&ent_rows).filter_map(|(name, row)| {
            nodes
                .get(name)
                .map(|n| (name.clone(), row.as_ref(), n.source_id.as_str()))
        });
        let (drop_nodes, rebuild_nodes) = split_by_remaining(node_sources, &deleted);
        let edge_sources = pairs.iter().zip(&rel_rows).filter_map(|(pair, row)| {
            edges
                .get(pair)
                .map(|e| (pair.clone(), row.as_ref(), e.source_id.as_str()))
        });
        let (mut drop_edges, mut rebuild_edges) = split_by_remaining(edge_sources, &deleted);

        // Edges that vanish with a dropped node.
        let incident = self
            .stores
            .graph
            .node_edges(&drop_nodes, usize::MAX)
            .await?;
        for rels in incident.values() {
            for r in rels {
                let p = r.pair();
                rebuild_edges.remove(&p);
                if !drop_edges.contains(&p) {
                    drop_edges.push(p);
                }
            }
        }
        report.entities_deleted = drop_nodes.len();
        report.relations_deleted = drop_edges.len();

        let edge_vec_ids: Vec<String> = drop_edges
            .iter()
            .map(|(a, b)| relation_vector_id(a, b))
            .collect();
        let edge_keys: Vec<String> = drop_edges.iter().map(|(a, b)| relation_key(a, b)).collect();
        self.stores.relationships_vdb.delete(&edge_vec_ids).await?;
        self.stores.graph.remove_edges(&drop_edges).await?;
        self.stores
            .kv
            .delete(Namespace::RelationChunks, &edge_keys)
            .await?;
        let node_vec_ids: Vec<String> = drop_nodes.iter().map(|n| entity_vector_id(n)).collect();
        self.stores.entities_vdb.delete(&node_vec_ids).await?;
        self.stores.graph.remove_nodes(&drop_nodes).await?;
        self.stores
            .kv
            .delete(Namespace::EntityChunks, &drop_nodes)
            .await?;

        // Rebuild survivors from the cached extraction of their remaining chunks.
        let (ne, nr) = self
            .rebuild_from_chunks(&rebuild_nodes, &rebuild_edges)
            .await?;
        report.entities_rebuilt = ne;
        report.relations_rebuilt = nr;

        let chunk_ids: Vec<String> = row.chunks_list.clone();
        self.stores.chunks_vdb.delete(&chunk_ids).await?;
        self.stores
            .kv
            .delete(Namespace::TextChunks, &chunk_ids)
            .await?;
        let id = vec![doc_id.to_string()];
        self.stores.kv.delete(Namespace::FullEntities, &id).await?;
        self.stores.kv.delete(Namespace::FullRelations, &id).await?;
        self.stores.kv.delete(Namespace::FullDocs, &id).await?;
        self.stores.doc_status.delete(&id).await?;
        Ok(report)
    }

    /// Re-merges entities and relations from scratch out of the cached extraction results of
    /// the given chunks. Where a chunk has no cached result, only the source list shrinks.
    async fn rebuild_from_chunks(
        &self,
        nodes: &HashMap<String, Vec<String>>,
        edges: &HashMap<(String, String), Vec<String>>,
    ) -> Result<(usize, usize)> {
        if nodes.is_empty() && edges.is_empty() {
            return Ok((0, 0));
        }
        let mut chunk_ids: Vec<String> = nodes
            .values()
            .chain(edges.values())
            .flatten()
            .cloned()
            .collect();
        chunk_ids.sort();
        chunk_ids.dedup();
        let rows = self
            .stores
            .kv
            .get_many(Namespace::TextChunks, &chunk_ids)
            .await?;
        let chunks: Vec<Chunk> = rows
            .into_iter()
            .flatten()
            .filter_map(|v| serde_json::from_value(v).ok())
            .collect();
        let keys: Vec<String> = chunks
            .iter()
            .filter_map(|c| c.llm_cache_list.first().cloned())
            .collect();
        let cached = self
            .stores
            .kv
            .get_many(Namespace::LlmResponseCache, &keys)
            .await?;
        let mut by_key: HashMap<String, Value> = HashMap::new();
        for (k, v) in keys.into_iter().zip(cached) {
            if let Some(v) = v {
                by_key.insert(k, v);
            }
        }
        let mut grouped = Grouped::default();
        let mut ent_pos: HashMap<String, usize> = HashMap::new();
        let mut rel_pos: HashMap<(String, String), usize> = HashMap::new();
        let mut ordered = chunks.clone();
        ordered.sort_by(|a, b| {
            (&a.full_doc_id, a.chunk_order_index).cmp(&(&b.full_doc_id, b.chunk_order_index))
        });
        for c in &ordered {
            let Some(ex) = c
                .llm_cache_list
                .first()
                .and_then(|k| by_key.get(k))
                .and_then(|v| cached_extraction(v, c))
            else {
                continue;
            };
            for e in ex.entities {
                if nodes.get(&e.name).is_some_and(|ids| ids.contains(&c.id)) {
                    let i = *ent_pos.entry(e.name.clone()).or_insert_with(|| {
                        grouped.entities.push((e.name.clone(), vec![]));
                        grouped.entities.len() - 1
                    });
                    grouped.entities[i].1.push(e);
                }
            }
            for r in ex.relations {
                let (a, b) = crate::ids::sorted_pair(&r.src, &r.tgt);
                let key = (a.to_string(), b.to_string());
                if edges.get(&key).is_some_and(|ids| ids.contains(&c.id)) {
                    let i = *rel_pos.entry(key.clone()).or_insert_with(|| {
                        grouped.relations.push((key, vec![]));
                        grouped.relations.len() - 1
                    });
                    grouped.relations[i].1.push(r);
                }
            }
        }
        let (stats, mut entities, mut relations) = self.apply_merge(&grouped, true, None).await?;
        let (kept_nodes, kept_edges) = self.shrink_sources(&grouped, nodes, edges).await?;
        entities.extend(kept_nodes);
        relations.extend(kept_edges);
        // The caller holds the whole graph: nobody else writes vectors meanwhile.
        let pending = crate::index::PendingVectors {
            entities,
            relations,
            turn: crate::graph_writer::VectorTurn::alone(),
            lease: None,
        };
        self.write_graph_vectors(pending).await?;
        Ok((stats.entities, stats.relations))
    }

    /// Survivors that no cached extraction names (records made or merged by hand, chunks
    /// without a cached result) keep their text; their sources and tracking rows shrink to
    /// the chunks that remain, so the last document behind them takes them along.
    async fn shrink_sources(
        &self,
        grouped: &Grouped,
        nodes: &HashMap<String, Vec<String>>,
        edges: &HashMap<(String, String), Vec<String>>,
    ) -> Result<(Vec<Entity>, Vec<Relation>)> {
        let named: HashSet<&String> = grouped.entities.iter().map(|(n, _)| n).collect();
        let names: Vec<String> = nodes
            .keys()
            .filter(|n| !named.contains(n))
            .cloned()
            .collect();
        let moved: HashSet<&(String, String)> = grouped.relations.iter().map(|(p, _)| p).collect();
        let pairs: Vec<(String, String)> = edges
            .keys()
            .filter(|p| !moved.contains(p))
            .cloned()
            .collect();
        let mut kept_nodes: Vec<Entity> = self
            .stores
            .graph
            .get_nodes(&names)
            .await?
            .into_values()
            .collect();
        let mut kept_edges: Vec<Relation> = self
            .stores
            .graph
            .get_edges(&pairs)
            .await?
            .into_values()
            .collect();
        let mut node_rows = Vec::new();
        for n in &mut kept_nodes {
            let remaining = &nodes[&n.entity_id];
            n.source_id = remaining.join(GRAPH_FIELD_SEP);
            node_rows.push((n.entity_id.clone(), tracking_row(remaining)));
        }
        let mut edge_rows = Vec::new();
        for e in &mut kept_edges {
            let remaining = &edges[&e.pair()];
            e.source_id = remaining.join(GRAPH_FIELD_SEP);
            edge_rows.push((relation_key(&e.src_id, &e.tgt_id), tracking_row(remaining)));
        }
        self.write_records(kept_nodes.clone(), kept_edges.clone(), node_rows, edge_rows)
            .await?;
        Ok((kept_nodes, kept_edges))
    }
}
