//! Hand edits of the knowledge graph (LightRAG's entity and relation create / edit / delete /
//! merge). They write through the same path as document merges (nodes, edges and their
//! tracking rows together, then the vectors), so retrieval sees an edit at once and a later
//! document delete knows which chunks stand behind an edited record. Each edit holds the whole
//! graph ([`crate::graph_writer`]): it waits for merges in flight and they wait for it.

use std::collections::{BTreeMap, BTreeSet};

use crate::engine::Rag;
use crate::error::{Error, Result};
use crate::ids::{relation_key, sorted_pair, GRAPH_FIELD_SEP};
use crate::merge::apply::tracking_row;
use crate::merge::rules::{dedup_in_order, split_sep};
use crate::ports::Namespace;
use crate::types::{now_epoch, Entity, Relation};

/// Entity fields to set; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct EntityFields {
    pub entity_type: Option<String>,
    pub description: Option<String>,
    pub source_id: Option<String>,
    pub file_path: Option<String>,
}

/// Relation fields to set; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct RelationFields {
    pub description: Option<String>,
    pub keywords: Option<String>,
    pub source_id: Option<String>,
    pub file_path: Option<String>,
    pub weight: Option<f64>,
}

impl EntityFields {
    fn apply(&self, e: &mut Entity) {
        if let Some(v) = &self.entity_type {
            e.entity_type = v.clone();
        }
        if let Some(v) = &self.description {
            e.description = v.clone();
        }
        if let Some(v) = &self.source_id {
            e.source_id = v.clone();
        }
        if let Some(v) = &self.file_path {
            e.file_path = v.clone();
        }
    }
}

impl RelationFields {
    fn apply(&self, r: &mut Relation) {
        if let Some(v) = &self.description {
            r.description = v.clone();
        }
        if let Some(v) = &self.keywords {
            r.keywords = v.clone();
        }
        if let Some(v) = &self.source_id {
            r.source_id = v.clone();
        }
        if let Some(v) = &self.file_path {
            r.file_path = v.clone();
        }
        if let Some(v) = self.weight {
            r.weight = v;
        }
    }
}

/// Joins `<SEP>` lists keeping the first occurrence of each value.
fn join_unique<'a>(parts: impl IntoIterator<Item = &'a str>) -> String {
    let mut seen = BTreeSet::new();
    let mut out: Vec<&str> = Vec::new();
    for p in parts {
        for v in p.split(GRAPH_FIELD_SEP).filter(|v| !v.is_empty()) {
            if seen.insert(v) {
                out.push(v);
            }
        }
    }
    out.join(GRAPH_FIELD_SEP)
}

/// The chunk ids an edited record's `source_id` names: its tracking row.
fn chunk_sources(source_id: &str) -> Vec<String> {
    split_sep(source_id)
}

fn blank(name: &str) -> Result<&str> {
    let n = name.trim();
    if n.is_empty() {
        return Err(Error::InvalidInput(
            "an entity name must not be blank".into(),
        ));
    }
    Ok(n)
}

impl Rag {
    async fn entity(&self, name: &str) -> Result<Option<Entity>> {
        Ok(self
            .stores
            .graph
            .get_nodes(&[name.to_string()])
            .await?
            .remove(name))
    }

    async fn relation(&self, a: &str, b: &str) -> Result<Option<Relation>> {
        let (a, b) = sorted_pair(a, b);
        let key = (a.to_string(), b.to_string());
        Ok(self
            .stores
            .graph
            .get_edges(std::slice::from_ref(&key))
            .await?
            .remove(&key))
    }

    /// Creates an entity; it must not exist yet and needs a description.
    pub async fn create_entity(&self, name: &str, fields: &EntityFields) -> Result<Entity> {
        let name = blank(name)?;
        if fields
            .description
            .as_deref()
            .is_none_or(|d| d.trim().is_empty())
        {
            return Err(Error::InvalidInput("an entity needs a description".into()));
        }
        let _guard = self.lock_graph().await?;
        if self.entity(name).await?.is_some() {
            return Err(Error::InvalidInput(format!(
                "entity '{name}' already exists"
            )));
        }
        let mut e = Entity {
            entity_id: name.to_string(),
            entity_type: "UNKNOWN".into(),
            description: String::new(),
            source_id: "manual_creation".into(),
            file_path: "manual_creation".into(),
            created_at: now_epoch(),
            truncate: String::new(),
        };
        fields.apply(&mut e);
        let row = (
            e.entity_id.clone(),
            tracking_row(&chunk_sources(&e.source_id)),
        );
        self.write_records(vec![e.clone()], vec![], vec![row], vec![])
            .await?;
        self.index_entities(std::slice::from_ref(&e)).await?;
        Ok(e)
    }

    /// Changes an entity's fields, and renames it when `new_name` differs (into an existing
    /// entity only with `allow_merge`). Returns the entity as it now is.
    pub async fn edit_entity(
        &self,
        name: &str,
        new_name: Option<&str>,
        fields: &EntityFields,
        allow_merge: bool,
    ) -> Result<Entity> {
        let name = blank(name)?;
        let target = match new_name.map(str::trim) {
            Some(n) if !n.is_empty() && n != name => Some(n.to_string()),
            _ => None,
        };
        if let Some(target) = target {
            let exists = self.entity(&target).await?.is_some();
            if exists && !allow_merge {
                return Err(Error::InvalidInput(format!(
                    "entity '{target}' already exists; allow merging to rename into it"
                )));
            }
            if self.entity(name).await?.is_none() {
                return Err(Error::NotFound(format!("entity '{name}' does not exist")));
            }
            self.merge_entities(&[name.to_string()], &target).await?;
            return self.set_entity_fields(&target, fields).await;
        }
        self.set_entity_fields(name, fields).await
    }

    async fn set_entity_fields(&self, name: &str, fields: &EntityFields) -> Result<Entity> {
        let _guard = self.lock_graph().await?;
        let mut e = self
            .entity(name)
            .await?
            .ok_or_else(|| Error::NotFound(format!("entity '{name}' does not exist")))?;
        fields.apply(&mut e);
        // A new source list is the new tracking row; otherwise the row stays as merges left it.
        let rows = match &fields.source_id {
            Some(s) => vec![(e.entity_id.clone(), tracking_row(&chunk_sources(s)))],
            None => vec![],
        };
        self.write_records(vec![e.clone()], vec![], rows, vec![])
            .await?;
        self.index_entities(std::slice::from_ref(&e)).await?;
        Ok(e)
    }

    /// Removes an entity, its relations and their vectors.
    pub async fn delete_entity(&self, name: &str) -> Result<()> {
        let name = blank(name)?.to_string();
        let _guard = self.lock_graph().await?;
        if self.entity(&name).await?.is_none() {
            return Err(Error::NotFound(format!("entity '{name}' does not exist")));
        }
        let edges = self
            .stores
            .graph
            .node_edges(std::slice::from_ref(&name), usize::MAX)
            .await?
            .remove(&name)
            .unwrap_or_default();
        let pairs: Vec<(String, String)> = edges.iter().map(Relation::pair).collect();
        self.remove_records(std::slice::from_ref(&name), &pairs)
            .await
    }

    /// Creates a relation between two existing entities.
    pub async fn create_relation(
        &self,
        a: &str,
        b: &str,
        fields: &RelationFields,
    ) -> Result<Relation> {
        let (a, b) = (blank(a)?, blank(b)?);
        if a == b {
            return Err(Error::InvalidInput(
                "a relation needs two different entities".into(),
            ));
        }
        let _guard = self.lock_graph().await?;
        for n in [a, b] {
            if self.entity(n).await?.is_none() {
                return Err(Error::NotFound(format!("entity '{n}' does not exist")));
            }
        }
        if self.relation(a, b).await?.is_some() {
            return Err(Error::InvalidInput(format!(
                "a relation between '{a}' and '{b}' already exists"
            )));
        }
        let (s, t) = sorted_pair(a, b);
        let mut r = Relation {
            src_id: s.to_string(),
            tgt_id: t.to_string(),
            weight: 1.0,
            description: String::new(),
            keywords: String::new(),
            source_id: "manual_creation".into(),
            file_path: "manual_creation".into(),
            created_at: now_epoch(),
            truncate: String::new(),
        };
        fields.apply(&mut r);
        let row = (
            relation_key(&r.src_id, &r.tgt_id),
            tracking_row(&chunk_sources(&r.source_id)),
        );
        self.write_records(vec![], vec![r.clone()], vec![], vec![row])
            .await?;
        self.index_relations(std::slice::from_ref(&r)).await?;
        Ok(r)
    }

    /// Changes a relation's fields.
    pub async fn edit_relation(
        &self,
        a: &str,
        b: &str,
        fields: &RelationFields,
    ) -> Result<Relation> {
        let _guard = self.lock_graph().await?;
        let mut r = self
            .relation(a, b)
            .await?
            .ok_or_else(|| Error::NotFound(format!("no relation between '{a}' and '{b}'")))?;
        fields.apply(&mut r);
        let rows = match &fields.source_id {
            Some(s) => vec![(
                relation_key(&r.src_id, &r.tgt_id),
                tracking_row(&chunk_sources(s)),
            )],
            None => vec![],
        };
        self.write_records(vec![], vec![r.clone()], vec![], rows)
            .await?;
        self.index_relations(std::slice::from_ref(&r)).await?;
        Ok(r)
    }

    /// Removes a relation and its vector.
    pub async fn delete_relation(&self, a: &str, b: &str) -> Result<()> {
        let _guard = self.lock_graph().await?;
        let r = self
            .relation(a, b)
            .await?
            .ok_or_else(|| Error::NotFound(format!("no relation between '{a}' and '{b}'")))?;
        self.remove_records(&[], &[r.pair()]).await
    }

    /// Merges `sources` into `target` (created from the first source when missing): their
    /// descriptions, sources and file paths are joined, their relations move to the target
    /// (relations that meet are joined, weights added; loops are dropped), and they go.
    pub async fn merge_entities(&self, sources: &[String], target: &str) -> Result<Entity> {
        let target = blank(target)?.to_string();
        let sources: Vec<String> = sources
            .iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty() && *s != target)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if sources.is_empty() {
            return Err(Error::InvalidInput(
                "name at least one entity to merge".into(),
            ));
        }
        let _guard = self.lock_graph().await?;
        let mut names = sources.clone();
        names.push(target.clone());
        let nodes = self.stores.graph.get_nodes(&names).await?;
        for s in &sources {
            if !nodes.contains_key(s) {
                return Err(Error::NotFound(format!("entity '{s}' does not exist")));
            }
        }
        let first = &nodes[&sources[0]];
        let base = nodes.get(&target).unwrap_or(first);
        let all: Vec<&Entity> = nodes
            .get(&target)
            .into_iter()
            .chain(sources.iter().map(|s| &nodes[s]))
            .collect();
        let merged = Entity {
            entity_id: target.clone(),
            entity_type: base.entity_type.clone(),
            description: join_unique(all.iter().map(|e| e.description.as_str())),
            source_id: join_unique(all.iter().map(|e| e.source_id.as_str())),
            file_path: join_unique(all.iter().map(|e| e.file_path.as_str())),
            created_at: now_epoch(),
            truncate: String::new(),
        };
        let edges = self.stores.graph.node_edges(&names, usize::MAX).await?;
        let moving: BTreeSet<&str> = names.iter().map(String::as_str).collect();
        // An edge between two merged names is listed under both: take each edge once.
        let originals: BTreeMap<(String, String), &Relation> =
            edges.values().flatten().map(|r| (r.pair(), r)).collect();
        let old_pairs: BTreeSet<(String, String)> = originals.keys().cloned().collect();
        let mut new_edges: BTreeMap<(String, String), Relation> = BTreeMap::new();
        for r in originals.values() {
            let end = |n: &str| {
                if moving.contains(n) {
                    target.clone()
                } else {
                    n.to_string()
                }
            };
            let (a, b) = (end(&r.src_id), end(&r.tgt_id));
            if a == b {
                continue;
            }
            let (s, t) = sorted_pair(&a, &b);
            let key = (s.to_string(), t.to_string());
            match new_edges.get_mut(&key) {
                Some(e) => {
                    e.weight += r.weight;
                    e.description = join_unique([e.description.as_str(), r.description.as_str()]);
                    e.source_id = join_unique([e.source_id.as_str(), r.source_id.as_str()]);
                    e.file_path = join_unique([e.file_path.as_str(), r.file_path.as_str()]);
                    let kw: BTreeSet<&str> = e
                        .keywords
                        .split(',')
                        .chain(r.keywords.split(','))
                        .map(str::trim)
                        .filter(|k| !k.is_empty())
                        .collect();
                    e.keywords = kw.into_iter().collect::<Vec<_>>().join(",");
                }
                None => {
                    let mut e = (*r).clone();
                    e.src_id = key.0.clone();
                    e.tgt_id = key.1.clone();
                    new_edges.insert(key, e);
                }
            }
        }
        // Tracking rows follow the records: the target's chunks are all merged names' chunks,
        // a moved relation's are those of every relation it was made from.
        let ent_rows = self.tracked_chunks(Namespace::EntityChunks, &names).await?;
        let chunks_of = |name: &String, source_id: &str| {
            ent_rows
                .get(name)
                .cloned()
                .unwrap_or_else(|| chunk_sources(source_id))
        };
        let target_chunks = dedup_in_order(
            nodes
                .get(&target)
                .into_iter()
                .chain(sources.iter().map(|s| &nodes[s]))
                .flat_map(|e| chunks_of(&e.entity_id, &e.source_id)),
        );
        let old_keys: Vec<String> = old_pairs.iter().map(|(a, b)| relation_key(a, b)).collect();
        let rel_rows = self
            .tracked_chunks(Namespace::RelationChunks, &old_keys)
            .await?;
        let mut new_rel_chunks: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
        for r in originals.values() {
            let end = |n: &str| {
                if moving.contains(n) {
                    target.clone()
                } else {
                    n.to_string()
                }
            };
            let (a, b) = (end(&r.src_id), end(&r.tgt_id));
            if a == b {
                continue;
            }
            let (s, t) = sorted_pair(&a, &b);
            let ids = rel_rows
                .get(&relation_key(&r.src_id, &r.tgt_id))
                .cloned()
                .unwrap_or_else(|| chunk_sources(&r.source_id));
            new_rel_chunks
                .entry((s.to_string(), t.to_string()))
                .or_default()
                .extend(ids);
        }
        let pairs: Vec<(String, String)> = old_pairs.into_iter().collect();
        self.remove_records(&sources, &pairs).await?;
        let edges: Vec<Relation> = new_edges.into_values().collect();
        let edge_rows = edges
            .iter()
            .map(|e| {
                let ids = new_rel_chunks.remove(&e.pair()).unwrap_or_default();
                (
                    relation_key(&e.src_id, &e.tgt_id),
                    tracking_row(&dedup_in_order(ids)),
                )
            })
            .collect();
        let node_rows = vec![(target.clone(), tracking_row(&target_chunks))];
        self.write_records(vec![merged.clone()], edges.clone(), node_rows, edge_rows)
            .await?;
        self.rename_in_recovery_rows(&target_chunks, &moving, &target)
            .await?;
        self.index_entities(std::slice::from_ref(&merged)).await?;
        self.index_relations(&edges).await?;
        Ok(merged)
    }

    /// The documents behind `chunks` name the merged entities in their recovery rows
    /// (`full_entities`, `full_relations`); they name the target instead, so deleting one of
    /// them later reaches the merged records.
    async fn rename_in_recovery_rows(
        &self,
        chunks: &[String],
        moving: &BTreeSet<&str>,
        target: &str,
    ) -> Result<()> {
        let docs: Vec<String> = chunks
            .iter()
            .filter_map(|c| crate::ids::doc_of_chunk(c))
            .map(str::to_string)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if docs.is_empty() {
            return Ok(());
        }
        let rename = |n: &str| {
            if moving.contains(n) {
                target.to_string()
            } else {
                n.to_string()
            }
        };
        let ents = self
            .stores
            .kv
            .get_many(Namespace::FullEntities, &docs)
            .await?;
        let rels = self
            .stores
            .kv
            .get_many(Namespace::FullRelations, &docs)
            .await?;
        let mut ent_rows = Vec::new();
        let mut rel_rows = Vec::new();
        for ((doc, e), r) in docs.iter().zip(ents).zip(rels) {
            if let Some(names) = e
                .as_ref()
                .and_then(|v| v.get("entity_names"))
                .and_then(|a| a.as_array())
            {
                let names: BTreeSet<String> = names
                    .iter()
                    .filter_map(|n| n.as_str())
                    .map(rename)
                    .collect();
                ent_rows.push((
                    doc.clone(),
                    serde_json::json!({"entity_names": names, "count": names.len()}),
                ));
            }
            if let Some(pairs) = r
                .as_ref()
                .and_then(|v| v.get("relation_pairs"))
                .and_then(|a| a.as_array())
            {
                let pairs: BTreeSet<(String, String)> = pairs
                    .iter()
                    .filter_map(|p| {
                        let p = p.as_array()?;
                        let (a, b) = (rename(p.first()?.as_str()?), rename(p.get(1)?.as_str()?));
                        let (a, b) = sorted_pair(&a, &b);
                        (a != b).then(|| (a.to_string(), b.to_string()))
                    })
                    .collect();
                let list: Vec<[String; 2]> = pairs.into_iter().map(|(a, b)| [a, b]).collect();
                rel_rows.push((
                    doc.clone(),
                    serde_json::json!({"relation_pairs": list, "count": list.len()}),
                ));
            }
        }
        self.stores
            .kv
            .upsert(Namespace::FullEntities, ent_rows)
            .await?;
        self.stores
            .kv
            .upsert(Namespace::FullRelations, rel_rows)
            .await
    }
}
