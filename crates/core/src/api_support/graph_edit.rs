//! Hand edits of the knowledge graph (LightRAG's entity and relation create / edit / delete /
//! merge): the graph store changes and the affected entity and relation vectors follow, so
//! retrieval sees the edit at once. Edits hold the merge lock, as document merges do.

use std::collections::{BTreeMap, BTreeSet};

use crate::engine::Rag;
use crate::error::{Error, Result};
use crate::ids::{entity_vector_id, relation_vector_id, sorted_pair, GRAPH_FIELD_SEP};
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
        let _guard = self.lock_graph().await;
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
        self.stores.graph.upsert_nodes(vec![e.clone()]).await?;
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
        let _guard = self.lock_graph().await;
        let mut e = self
            .entity(name)
            .await?
            .ok_or_else(|| Error::NotFound(format!("entity '{name}' does not exist")))?;
        fields.apply(&mut e);
        self.stores.graph.upsert_nodes(vec![e.clone()]).await?;
        self.index_entities(std::slice::from_ref(&e)).await?;
        Ok(e)
    }

    /// Removes an entity, its relations and their vectors.
    pub async fn delete_entity(&self, name: &str) -> Result<()> {
        let name = blank(name)?.to_string();
        let _guard = self.lock_graph().await;
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
        let rel_ids: Vec<String> = edges
            .iter()
            .map(|r| relation_vector_id(&r.src_id, &r.tgt_id))
            .collect();
        self.stores
            .graph
            .remove_nodes(std::slice::from_ref(&name))
            .await?;
        self.stores.relationships_vdb.delete(&rel_ids).await?;
        self.stores
            .entities_vdb
            .delete(&[entity_vector_id(&name)])
            .await?;
        Ok(())
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
        let _guard = self.lock_graph().await;
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
        self.stores.graph.upsert_edges(vec![r.clone()]).await?;
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
        let _guard = self.lock_graph().await;
        let mut r = self
            .relation(a, b)
            .await?
            .ok_or_else(|| Error::NotFound(format!("no relation between '{a}' and '{b}'")))?;
        fields.apply(&mut r);
        self.stores.graph.upsert_edges(vec![r.clone()]).await?;
        self.index_relations(std::slice::from_ref(&r)).await?;
        Ok(r)
    }

    /// Removes a relation and its vector.
    pub async fn delete_relation(&self, a: &str, b: &str) -> Result<()> {
        let _guard = self.lock_graph().await;
        let r = self
            .relation(a, b)
            .await?
            .ok_or_else(|| Error::NotFound(format!("no relation between '{a}' and '{b}'")))?;
        self.stores.graph.remove_edges(&[r.pair()]).await?;
        self.stores
            .relationships_vdb
            .delete(&[relation_vector_id(&r.src_id, &r.tgt_id)])
            .await?;
        Ok(())
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
        let _guard = self.lock_graph().await;
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
        let old_rel_ids: Vec<String> = old_pairs
            .iter()
            .map(|(a, b)| relation_vector_id(a, b))
            .collect();
        let old_ent_ids: Vec<String> = sources.iter().map(|s| entity_vector_id(s)).collect();
        self.stores.graph.remove_nodes(&sources).await?;
        let pairs: Vec<(String, String)> = old_pairs.into_iter().collect();
        self.stores.graph.remove_edges(&pairs).await?;
        self.stores.relationships_vdb.delete(&old_rel_ids).await?;
        self.stores.entities_vdb.delete(&old_ent_ids).await?;
        self.stores.graph.upsert_nodes(vec![merged.clone()]).await?;
        let edges: Vec<Relation> = new_edges.into_values().collect();
        self.stores.graph.upsert_edges(edges.clone()).await?;
        self.index_entities(std::slice::from_ref(&merged)).await?;
        self.index_relations(&edges).await?;
        Ok(merged)
    }
}
