//! The in-memory [`DocStatusStore`]: rows in a map sorted by id; every question is a scan,
//! a filter and a sort, which states each method's answer plainly.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use lightrag_core::error::Result;
use lightrag_core::ports::{DocPage, DocPageRequest, DocStatusStore};
use lightrag_core::types::{DocStatus, DocStatusRecord};
use serde_json::Value;

use super::{read, write};

/// Rows by document id.
pub(super) type Rows = BTreeMap<String, DocStatusRecord>;

/// Document status rows in memory.
#[derive(Clone)]
pub struct MemoryDocStatus {
    rows: Arc<RwLock<Rows>>,
}

impl MemoryDocStatus {
    pub(super) fn new(rows: Arc<RwLock<Rows>>) -> Self {
        MemoryDocStatus { rows }
    }
}

/// Whether a row records a duplicate (LightRAG's `metadata.is_duplicate`).
fn is_duplicate(r: &DocStatusRecord) -> bool {
    r.metadata.get("is_duplicate") == Some(&Value::Bool(true))
}

/// The rows `keep` accepts, ordered by `(created_at, id)`.
fn by_created(
    rows: &Rows,
    keep: impl Fn(&DocStatusRecord) -> bool,
) -> Vec<(String, DocStatusRecord)> {
    let mut out: Vec<(String, DocStatusRecord)> = rows
        .iter()
        .filter(|(_, r)| keep(r))
        .map(|(id, r)| (id.clone(), r.clone()))
        .collect();
    // Ids are unique, so this order is total.
    out.sort_by(|a, b| (&a.1.created_at, &a.0).cmp(&(&b.1.created_at, &b.0)));
    out
}

#[async_trait]
impl DocStatusStore for MemoryDocStatus {
    async fn get(&self, id: &str) -> Result<Option<DocStatusRecord>> {
        Ok(read(&self.rows)?.get(id).cloned())
    }

    /// In batch order; an existing row keeps its stored `created_at` (it is immutable).
    async fn upsert(&self, items: Vec<(String, DocStatusRecord)>) -> Result<()> {
        let mut rows = write(&self.rows)?;
        for (id, mut rec) in items {
            if let Some(old) = rows.get(&id) {
                rec.created_at = old.created_at.clone();
            }
            rows.insert(id, rec);
        }
        Ok(())
    }

    async fn delete(&self, ids: &[String]) -> Result<()> {
        let mut rows = write(&self.rows)?;
        for id in ids {
            rows.remove(id);
        }
        Ok(())
    }

    async fn by_statuses(&self, statuses: &[DocStatus]) -> Result<Vec<(String, DocStatusRecord)>> {
        let rows = read(&self.rows)?;
        Ok(by_created(&rows, |r| statuses.contains(&r.status)))
    }

    /// Rows in the statuses, ordered by `(sort key, id)` (reversed when descending), then
    /// `offset` skipped and `limit` kept; `total` counts every matching row.
    async fn page(&self, req: &DocPageRequest) -> Result<DocPage> {
        let rows = read(&self.rows)?;
        let wanted: BTreeSet<DocStatus> = req.statuses.iter().copied().collect();
        let mut matching: Vec<(&String, &DocStatusRecord)> = rows
            .iter()
            .filter(|(_, r)| wanted.contains(&r.status))
            .collect();
        matching.sort_by(|(a_id, a), (b_id, b)| {
            (req.sort.key(a_id, a), a_id.as_str()).cmp(&(req.sort.key(b_id, b), b_id.as_str()))
        });
        if req.descending {
            matching.reverse();
        }
        let total = matching.len();
        let rows = matching
            .into_iter()
            .skip(req.offset)
            .take(req.limit)
            .map(|(id, r)| (id.clone(), r.clone()))
            .collect();
        Ok(DocPage { rows, total })
    }

    async fn by_track_id(&self, track_id: &str) -> Result<Vec<(String, DocStatusRecord)>> {
        let rows = read(&self.rows)?;
        Ok(by_created(&rows, |r| r.track_id == track_id))
    }

    async fn counts(&self) -> Result<HashMap<DocStatus, usize>> {
        let rows = read(&self.rows)?;
        let mut counts: HashMap<DocStatus, usize> =
            DocStatus::ALL.iter().map(|s| (*s, 0)).collect();
        for r in rows.values() {
            *counts.entry(r.status).or_default() += 1;
        }
        Ok(counts)
    }

    /// The first such row by id (the embedded store's order too).
    async fn find_by_content_hash(
        &self,
        hash: &str,
        exclude: Option<&str>,
    ) -> Result<Option<(String, DocStatusRecord)>> {
        let rows = read(&self.rows)?;
        Ok(rows
            .iter()
            .find(|(id, r)| {
                r.content_hash.as_deref() == Some(hash)
                    && exclude != Some(id.as_str())
                    && !is_duplicate(r)
            })
            .map(|(id, r)| (id.clone(), r.clone())))
    }

    async fn clear(&self) -> Result<()> {
        write(&self.rows)?.clear();
        Ok(())
    }
}
