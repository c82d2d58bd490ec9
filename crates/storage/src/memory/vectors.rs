//! The in-memory [`VectorStore`]: records in a map sorted by id, searched exactly (cosine
//! similarity against every vector), so it is also the reference an approximate index is
//! measured against.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use lightrag_core::error::{Error, Result};
use lightrag_core::ports::VectorStore;
use lightrag_core::types::{VectorHit, VectorRecord};
use serde_json::Value;

use super::{read, write};

/// A stored vector and its metadata.
pub(super) struct Stored {
    vector: Vec<f32>,
    meta: Value,
}

/// One vector set: records by id.
pub(super) type Set = BTreeMap<String, Stored>;

/// A vector set in memory, bound to the model and dimension of its backend.
pub struct MemoryVectorStore {
    namespace: &'static str,
    model: String,
    dim: usize,
    set: Arc<RwLock<Set>>,
}

impl MemoryVectorStore {
    pub(super) fn new(
        namespace: &'static str,
        model: &str,
        dim: usize,
        set: Arc<RwLock<Set>>,
    ) -> Self {
        MemoryVectorStore {
            namespace,
            model: model.to_string(),
            dim,
            set,
        }
    }

    /// A vector must have the set's dimension and finite components.
    fn check(&self, what: &str, vector: &[f32]) -> Result<()> {
        if vector.len() != self.dim {
            return Err(Error::InvalidInput(format!(
                "in-memory vector set '{}': {what} has {} dims, but the set holds {}-dim vectors of {}",
                self.namespace,
                vector.len(),
                self.dim,
                self.model
            )));
        }
        if vector.iter().any(|x| !x.is_finite()) {
            return Err(Error::InvalidInput(format!(
                "in-memory vector set '{}': {what} has a non-finite component",
                self.namespace
            )));
        }
        Ok(())
    }
}

/// The cosine similarity of two vectors of one length; 0 when either has no direction.
fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let (mut dot, mut na, mut nb) = (0f64, 0f64, 0f64);
    for (x, y) in a.iter().zip(b) {
        let (x, y) = (f64::from(*x), f64::from(*y));
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    if na == 0.0 || nb == 0.0 {
        return 0.0;
    }
    (dot / (na.sqrt() * nb.sqrt())) as f32
}

#[async_trait]
impl VectorStore for MemoryVectorStore {
    fn namespace(&self) -> &str {
        self.namespace
    }

    /// Validates the whole batch (no empty id, the set's dimension, finite components)
    /// before writing any of it; the last record of a repeated id wins.
    async fn upsert(&self, records: Vec<VectorRecord>) -> Result<()> {
        for r in &records {
            if r.id.is_empty() {
                return Err(Error::InvalidInput(format!(
                    "in-memory vector set '{}': empty vector id",
                    self.namespace
                )));
            }
            self.check(&format!("vector '{}'", r.id), &r.vector)?;
        }
        let mut set = write(&self.set)?;
        for r in records {
            set.insert(
                r.id,
                Stored {
                    vector: r.vector,
                    meta: r.meta,
                },
            );
        }
        Ok(())
    }

    /// Every vector scored; those with similarity >= `threshold`, best first (ties by id),
    /// at most `top_k`.
    async fn query(&self, vector: &[f32], top_k: usize, threshold: f32) -> Result<Vec<VectorHit>> {
        self.check("the query vector", vector)?;
        let set = read(&self.set)?;
        let mut scored: Vec<(f32, &String, &Stored)> = set
            .iter()
            .map(|(id, s)| (cosine(vector, &s.vector), id, s))
            .filter(|(score, _, _)| *score >= threshold)
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
        Ok(scored
            .into_iter()
            .take(top_k)
            .map(|(score, id, s)| VectorHit {
                id: id.clone(),
                score,
                meta: s.meta.clone(),
            })
            .collect())
    }

    async fn delete(&self, ids: &[String]) -> Result<()> {
        let mut set = write(&self.set)?;
        for id in ids {
            set.remove(id);
        }
        Ok(())
    }

    async fn get_vectors(&self, ids: &[String]) -> Result<HashMap<String, Vec<f32>>> {
        let set = read(&self.set)?;
        Ok(ids
            .iter()
            .filter_map(|id| set.get(id).map(|s| (id.clone(), s.vector.clone())))
            .collect())
    }

    async fn get_meta(&self, ids: &[String]) -> Result<HashMap<String, Value>> {
        let set = read(&self.set)?;
        Ok(ids
            .iter()
            .filter_map(|id| set.get(id).map(|s| (id.clone(), s.meta.clone())))
            .collect())
    }

    async fn ids(&self) -> Result<Vec<String>> {
        Ok(read(&self.set)?.keys().cloned().collect())
    }

    /// Empties the set; the model binding lives in the backend and stays.
    async fn clear(&self) -> Result<()> {
        write(&self.set)?.clear();
        Ok(())
    }
}
