//! Applies one document's extraction records to the stores: batched reads of the current
//! nodes, edges and tracking rows, the pure merge rules, then batched writes and vector updates.

use std::collections::{BTreeMap, HashMap};

use serde_json::{json, Value};

use super::rules::{dedup_in_order, limit_ids, merge_entity, merge_relation, split_sep};
use crate::engine::Rag;
use crate::error::Result;
use crate::graph_writer::{entity_key, relation_lock_key};
use crate::ids::{relation_key, sorted_pair, GRAPH_FIELD_SEP};
use crate::index::PendingVectors;
use crate::ports::{DocLease, Namespace};
use crate::timings::Stage;
use crate::types::{ChunkExtraction, Entity, ExtractedEntity, ExtractedRelation, Relation};
use futures::StreamExt;

/// What a merge changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct MergeStats {
    pub entities: usize,
    pub relations: usize,
}

/// Records grouped by entity name and by sorted relation pair, in first-seen order.
#[derive(Default)]
pub(crate) struct Grouped {
    pub entities: Vec<(String, Vec<ExtractedEntity>)>,
    pub relations: Vec<((String, String), Vec<ExtractedRelation>)>,
}

impl Grouped {
    /// The writer's keys of everything a merge of these records reads or writes: the
    /// entities, the relations and the relations' endpoints.
    pub(crate) fn keys(&self) -> Vec<String> {
        let mut keys = Vec::new();
        for (name, _) in &self.entities {
            keys.push(entity_key(name));
        }
        for ((a, b), _) in &self.relations {
            keys.push(entity_key(a));
            keys.push(entity_key(b));
            keys.push(relation_lock_key(a, b));
        }
        keys
    }
}

pub(crate) fn group(extractions: &[ChunkExtraction]) -> Grouped {
    let mut ent_index: HashMap<String, usize> = HashMap::new();
    let mut rel_index: HashMap<(String, String), usize> = HashMap::new();
    let mut g = Grouped::default();
    for ex in extractions {
        for e in &ex.entities {
            if e.name.trim().is_empty() || e.description.trim().is_empty() {
                continue;
            }
            let i = *ent_index.entry(e.name.clone()).or_insert_with(|| {
                g.entities.push((e.name.clone(), Vec::new()));
                g.entities.len() - 1
            });
            g.entities[i].1.push(e.clone());
        }
        for r in &ex.relations {
            if r.src == r.tgt || r.src.trim().is_empty() || r.tgt.trim().is_empty() {
                continue;
            }
            let (a, b) = sorted_pair(&r.src, &r.tgt);
            let key = (a.to_string(), b.to_string());
            let i = *rel_index.entry(key.clone()).or_insert_with(|| {
                g.relations.push((key, Vec::new()));
                g.relations.len() - 1
            });
            g.relations[i].1.push(r.clone());
        }
    }
    g
}

fn chunk_ids_of(v: Option<&Value>) -> Option<Vec<String>> {
    v.and_then(|v| v.get("chunk_ids"))
        .and_then(|c| c.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
}

/// A tracking row: the chunk ids behind an entity or a relation.
pub(crate) fn tracking_row(ids: &[String]) -> Value {
    json!({"chunk_ids": ids, "count": ids.len()})
}

impl Rag {
    /// Without a chat model to summarise, a description keeps its first fragments while they stay
    /// under the point where LightRAG would summarise (`FORCE_LLM_SUMMARY_ON_MERGE` fragments,
    /// `SUMMARY_MAX_TOKENS` tokens); at least one fragment is always kept. Later mentions still
    /// add their chunks to the sources, so retrieval reaches them.
    pub(crate) fn bound_fragments(&self, fragments: Vec<String>) -> String {
        let max_frags = self.cfg.force_llm_summary_on_merge.max(2) - 1;
        let mut kept: Vec<String> = Vec::new();
        let mut tokens = 0;
        for f in fragments {
            let n = self.tokenizer.count(&f);
            if !kept.is_empty()
                && (kept.len() >= max_frags || tokens + n >= self.cfg.summary_max_tokens)
            {
                break;
            }
            tokens += n;
            kept.push(f);
        }
        kept.join(GRAPH_FIELD_SEP)
    }

    /// Summarises (or bounds) the descriptions of merged records, up to `MAX_ASYNC` at once.
    async fn finish_descriptions(
        &self,
        nodes: &mut [Entity],
        edges: &mut [Relation],
    ) -> Result<()> {
        let jobs: Vec<(bool, usize, String, Vec<String>)> = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (true, i, n.entity_id.clone(), split_sep(&n.description)))
            .chain(edges.iter().enumerate().map(|(i, e)| {
                (
                    false,
                    i,
                    format!("({}, {})", e.src_id, e.tgt_id),
                    split_sep(&e.description),
                )
            }))
            .collect();
        let done: Vec<Result<(bool, usize, String)>> = futures::stream::iter(jobs)
            .map(|(is_node, i, name, frags)| async move {
                let kind = if is_node { "Entity" } else { "Relation" };
                Ok((is_node, i, self.describe(kind, &name, frags).await?))
            })
            .buffer_unordered(self.cfg.max_async)
            .collect()
            .await;
        for r in done {
            let (is_node, i, text) = r?;
            if is_node {
                nodes[i].description = text;
            } else {
                edges[i].description = text;
            }
        }
        Ok(())
    }

    /// Merges a document's records into the graph and tracking rows; returns what changed,
    /// whose vectors the caller writes with `write_graph_vectors`. The caller holds the keys
    /// of `grouped` ([`Grouped::keys`]) or the whole graph. `fresh` ignores stored state
    /// (rebuild after a delete).
    pub(crate) async fn apply_merge(
        &self,
        grouped: &Grouped,
        fresh: bool,
        lease: Option<&DocLease>,
    ) -> Result<(MergeStats, Vec<Entity>, Vec<Relation>)> {
        let limits = &self.cfg.merge;
        let now = crate::types::now_epoch();
        let mut names: Vec<String> = grouped.entities.iter().map(|(n, _)| n.clone()).collect();
        for ((a, b), _) in &grouped.relations {
            names.push(a.clone());
            names.push(b.clone());
        }
        let names = dedup_in_order(names);
        let pairs: Vec<(String, String)> =
            grouped.relations.iter().map(|(p, _)| p.clone()).collect();
        let rel_keys: Vec<String> = pairs.iter().map(|(a, b)| relation_key(a, b)).collect();

        // One batched read per kind.
        let stored_nodes = self.stores.graph.get_nodes(&names).await?;
        let stored_edges = self.stores.graph.get_edges(&pairs).await?;
        let ent_tracking = self
            .stores
            .kv
            .get_many(Namespace::EntityChunks, &names)
            .await?;
        let rel_tracking = self
            .stores
            .kv
            .get_many(Namespace::RelationChunks, &rel_keys)
            .await?;
        let ent_tracking: HashMap<&String, Vec<String>> = names
            .iter()
            .zip(ent_tracking.iter())
            .filter_map(|(n, v)| chunk_ids_of(v.as_ref()).map(|ids| (n, ids)))
            .collect();

        let mut nodes: BTreeMap<String, Entity> = BTreeMap::new();
        let mut node_ids: HashMap<String, Vec<String>> = HashMap::new();
        for (name, recs) in &grouped.entities {
            let stored = if fresh { None } else { stored_nodes.get(name) };
            let tracked = if fresh {
                None
            } else {
                ent_tracking.get(name).map(Vec::as_slice)
            };
            if let Some(m) = merge_entity(name, stored, tracked, recs, limits, now) {
                node_ids.insert(name.clone(), m.all_chunk_ids);
                nodes.insert(name.clone(), m.record);
            }
        }

        let mut edges = Vec::new();
        let mut edge_rows = Vec::new();
        for (((a, b), recs), key) in grouped.relations.iter().zip(&rel_keys) {
            let i = pairs
                .iter()
                .position(|p| p.0 == *a && p.1 == *b)
                .unwrap_or(0);
            let stored = if fresh {
                None
            } else {
                stored_edges.get(&(a.clone(), b.clone()))
            };
            let tracked = if fresh {
                None
            } else {
                chunk_ids_of(rel_tracking[i].as_ref())
            };
            let Some(m) = merge_relation((a, b), stored, tracked.as_deref(), recs, limits, now)
            else {
                continue;
            };
            // Endpoints: create missing ones, and make the relation's chunks sources of each.
            for end in [a, b] {
                let exists = nodes.contains_key(end) || stored_nodes.contains_key(end);
                if !exists {
                    // As LightRAG: the new node takes the merged relation's text and sources.
                    nodes.insert(
                        end.clone(),
                        Entity {
                            entity_id: end.clone(),
                            entity_type: "UNKNOWN".into(),
                            description: m.record.description.clone(),
                            source_id: m.record.source_id.clone(),
                            file_path: m.record.file_path.clone(),
                            created_at: now,
                            truncate: String::new(),
                        },
                    );
                    node_ids.insert(end.clone(), m.all_chunk_ids.clone());
                    continue;
                }
                let node = match nodes.get(end) {
                    Some(n) => n.clone(),
                    None => match stored_nodes.get(end) {
                        Some(n) => n.clone(),
                        None => continue,
                    },
                };
                let known = node_ids
                    .get(end)
                    .cloned()
                    .or_else(|| ent_tracking.get(end).cloned())
                    .unwrap_or_else(|| split_sep(&node.source_id));
                let extra: Vec<String> = recs
                    .iter()
                    .map(|r| r.source_id.clone())
                    .filter(|id| !known.contains(id))
                    .collect();
                if extra.is_empty() {
                    continue;
                }
                let all = dedup_in_order(known.into_iter().chain(extra));
                let (kept, _) = limit_ids(
                    &all,
                    limits.max_source_ids_per_entity,
                    limits.source_ids_limit,
                );
                // Only the sources change; the node keeps its text and creation time.
                let mut updated = node;
                updated.source_id = kept.join(GRAPH_FIELD_SEP);
                node_ids.insert(end.clone(), all);
                nodes.insert(end.clone(), updated);
            }
            edge_rows.push((key.clone(), tracking_row(&m.all_chunk_ids)));
            edges.push(m.record);
        }

        let mut node_list: Vec<Entity> = nodes.into_values().collect();
        self.finish_descriptions(&mut node_list, &mut edges).await?;
        let node_rows: Vec<(String, Value)> = node_ids
            .iter()
            .map(|(n, ids)| (n.clone(), tracking_row(ids)))
            .collect();
        let stats = MergeStats {
            entities: node_list.len(),
            relations: edges.len(),
        };
        // Summaries may have taken a while: a document whose lease lapsed meanwhile stops here.
        if let Some(lease) = lease {
            self.fence(lease).await?;
        }
        self.write_records(node_list.clone(), edges.clone(), node_rows, edge_rows)
            .await?;
        Ok((stats, node_list, edges))
    }

    /// Writes nodes and edges with their tracking rows (the chunk ids behind each, keyed by
    /// name and by [`relation_key`]): the one write path of merges and hand edits. The caller
    /// holds the records' keys or the whole graph ([`crate::graph_writer`]) and writes the
    /// vectors after.
    pub(crate) async fn write_records(
        &self,
        nodes: Vec<Entity>,
        edges: Vec<Relation>,
        node_rows: Vec<(String, Value)>,
        edge_rows: Vec<(String, Value)>,
    ) -> Result<()> {
        self.stores.graph.upsert_nodes(nodes).await?;
        self.stores.graph.upsert_edges(edges).await?;
        self.stores
            .kv
            .upsert(Namespace::EntityChunks, node_rows)
            .await?;
        self.stores
            .kv
            .upsert(Namespace::RelationChunks, edge_rows)
            .await
    }

    /// Removes nodes (with the edges that touch them, which the caller lists in `pairs`) and
    /// edges, with their tracking rows and vectors. The caller holds the whole graph.
    pub(crate) async fn remove_records(
        &self,
        names: &[String],
        pairs: &[(String, String)],
    ) -> Result<()> {
        let rel_keys: Vec<String> = pairs.iter().map(|(a, b)| relation_key(a, b)).collect();
        let rel_ids: Vec<String> = pairs
            .iter()
            .map(|(a, b)| crate::ids::relation_vector_id(a, b))
            .collect();
        let ent_ids: Vec<String> = names
            .iter()
            .map(|n| crate::ids::entity_vector_id(n))
            .collect();
        self.stores.graph.remove_edges(pairs).await?;
        self.stores.graph.remove_nodes(names).await?;
        self.stores
            .kv
            .delete(Namespace::RelationChunks, &rel_keys)
            .await?;
        self.stores
            .kv
            .delete(Namespace::EntityChunks, names)
            .await?;
        self.stores.relationships_vdb.delete(&rel_ids).await?;
        self.stores.entities_vdb.delete(&ent_ids).await
    }

    /// The tracking rows of `keys` in `ns` (chunk ids, in order), where they exist.
    pub(crate) async fn tracked_chunks(
        &self,
        ns: Namespace,
        keys: &[String],
    ) -> Result<HashMap<String, Vec<String>>> {
        let rows = self.stores.kv.get_many(ns, keys).await?;
        Ok(keys
            .iter()
            .zip(rows.iter())
            .filter_map(|(k, v)| chunk_ids_of(v.as_ref()).map(|ids| (k.clone(), ids)))
            .collect())
    }

    /// Merges a document's records as the graph's writer orders it: holding their keys while
    /// they merge, then writing their vectors in turn.
    pub(crate) async fn merge_document(
        &self,
        lease: &DocLease,
        grouped: &Grouped,
    ) -> Result<MergeStats> {
        let doc_id = lease.doc_id.as_str();
        let permit = self.writer.merge(grouped.keys()).await?;
        self.fence(lease).await?;
        let (ents, rels) = recovery_rows(grouped);
        self.stores
            .kv
            .upsert(Namespace::FullEntities, vec![(doc_id.to_string(), ents)])
            .await?;
        self.stores
            .kv
            .upsert(Namespace::FullRelations, vec![(doc_id.to_string(), rels)])
            .await?;
        let merge = self.apply_merge(grouped, false, Some(lease));
        let (stats, entities, relations) = self.timings.time_async(Stage::Merge, merge).await?;
        let pending = PendingVectors {
            entities,
            relations,
            turn: permit.into_turn(),
            lease: Some(lease.clone()),
        };
        // Embedding after the keys are released lets other documents merge them meanwhile.
        self.write_graph_vectors(pending).await?;
        Ok(stats)
    }
}

/// The recovery index rows of a document (`full_entities`, `full_relations`).
pub(crate) fn recovery_rows(g: &Grouped) -> (Value, Value) {
    let mut names: Vec<String> = g.entities.iter().map(|(n, _)| n.clone()).collect();
    for ((a, b), _) in &g.relations {
        names.push(a.clone());
        names.push(b.clone());
    }
    names.sort();
    names.dedup();
    let pairs: Vec<Vec<String>> = g
        .relations
        .iter()
        .map(|((a, b), _)| vec![a.clone(), b.clone()])
        .collect();
    (
        json!({"entity_names": names, "count": names.len()}),
        json!({"relation_pairs": pairs, "count": pairs.len()}),
    )
}
