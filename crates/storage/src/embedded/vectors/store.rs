//! The write, read and snapshot paths of a vector set.

use std::collections::HashMap;
use std::fmt::Display;
use std::sync::atomic::Ordering;
use std::sync::{MutexGuard, PoisonError, RwLockReadGuard, RwLockWriteGuard};

use lightrag_core::types::{VectorHit, VectorRecord};
use lightrag_core::{Error, Result};
use redb::{ReadableDatabase, ReadableTable, ReadableTableMetadata};
use serde_json::Value;

use super::ann::Ann;
use super::layout::*;
use super::{Context, Inner};

impl Inner {
    pub(super) fn lock_writer(&self) -> MutexGuard<'_, ()> {
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn read_ann(&self) -> RwLockReadGuard<'_, Ann> {
        self.ann.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn write_ann(&self) -> RwLockWriteGuard<'_, Ann> {
        self.ann.write().unwrap_or_else(PoisonError::into_inner)
    }

    fn storage(&self, step: &str, e: impl Display) -> Error {
        crate::embedded::fail(format!("{}: {step}: {e}", self.label))
    }

    pub(super) fn upsert(&self, records: Vec<VectorRecord>) -> Result<()> {
        // Validate everything before writing anything; the last record of a repeated id wins.
        let mut last = HashMap::with_capacity(records.len());
        for (i, r) in records.iter().enumerate() {
            if r.id.is_empty() {
                return Err(Error::InvalidInput(format!(
                    "{}: empty vector id",
                    self.label
                )));
            }
            if r.vector.len() != self.dim {
                return Err(Error::InvalidInput(format!(
                    "{}: vector '{}' has {} dims, but the set holds {}-dim vectors of {}",
                    self.label,
                    r.id,
                    r.vector.len(),
                    self.dim,
                    self.model
                )));
            }
            if r.vector.iter().any(|x| !x.is_finite()) {
                return Err(Error::InvalidInput(format!(
                    "{}: vector '{}' has a non-finite component",
                    self.label, r.id
                )));
            }
            last.insert(r.id.as_str(), i);
        }
        let keep: Vec<bool> = records
            .iter()
            .enumerate()
            .map(|(i, r)| last[r.id.as_str()] == i)
            .collect();
        let records: Vec<(VectorRecord, String)> = records
            .into_iter()
            .zip(keep)
            .filter(|(_, keep)| *keep)
            .map(|(r, _)| {
                let meta = serde_json::to_string(&r.meta).map_err(|e| {
                    Error::InvalidInput(format!("{}: meta of '{}': {e}", self.label, r.id))
                })?;
                Ok((r, meta))
            })
            .collect::<Result<_>>()?;

        let writer = self.lock_writer();
        let label = self.label.as_str();
        let txn = self.db.begin_write().ctx(label, "begin write")?;
        let mut items = Vec::with_capacity(records.len());
        let journal = {
            let mut vectors = txn.open_table(VECTORS).ctx(label, "open vectors")?;
            let mut metas = txn.open_table(META).ctx(label, "open meta")?;
            let mut keys = txn.open_table(KEYS).ctx(label, "open keys")?;
            let mut pending = txn.open_table(PENDING).ctx(label, "open pending")?;
            let mut info = txn.open_table(INFO).ctx(label, "open info")?;
            let mut next_key = read_number(&info, INFO_NEXT_KEY, label)?.unwrap_or(0);
            for (r, meta) in records {
                let id = r.id.as_str();
                let (existing, unchanged) = match vectors.get(id).ctx(label, "read vector")? {
                    Some(row) => {
                        let key = row_key(row.value()).ctx(label, "read vector")?;
                        (
                            Some(key),
                            row.value() == encode_row(key, &r.vector).as_slice(),
                        )
                    }
                    None => (None, false),
                };
                if unchanged {
                    // Only the metadata moved (a new source, a weight): re-inserting the same
                    // vector into the HNSW graph would cost as much as a new one.
                    metas.insert(id, meta.as_str()).ctx(label, "write meta")?;
                    continue;
                }
                let key = match existing {
                    Some(key) => key,
                    None => {
                        let key = next_key;
                        if key == u64::MAX {
                            return Err(self.storage("assign key", "the key space is exhausted"));
                        }
                        next_key += 1;
                        keys.insert(key, id).ctx(label, "write key")?;
                        key
                    }
                };
                vectors
                    .insert(id, encode_row(key, &r.vector).as_slice())
                    .ctx(label, "write vector")?;
                metas.insert(id, meta.as_str()).ctx(label, "write meta")?;
                pending.insert(key, ()).ctx(label, "write journal")?;
                items.push((key, r.vector));
            }
            info.insert(INFO_NEXT_KEY, next_key.to_string().as_str())
                .ctx(label, "write key counter")?;
            pending.len().ctx(label, "read journal")? as usize
        };
        txn.commit().ctx(label, "commit")?;
        self.unsaved.store(true, Ordering::SeqCst);
        self.journal.store(journal, Ordering::SeqCst);
        self.write_ann()
            .upsert(&items)
            .map_err(|e| self.index_failed(e))?;
        self.flush_if_due(&writer, journal);
        Ok(())
    }

    pub(super) fn delete(&self, ids: &[String]) -> Result<()> {
        let writer = self.lock_writer();
        let label = self.label.as_str();
        let txn = self.db.begin_write().ctx(label, "begin write")?;
        let mut removed = Vec::new();
        let journal = {
            let mut vectors = txn.open_table(VECTORS).ctx(label, "open vectors")?;
            let mut metas = txn.open_table(META).ctx(label, "open meta")?;
            let mut keys = txn.open_table(KEYS).ctx(label, "open keys")?;
            let mut pending = txn.open_table(PENDING).ctx(label, "open pending")?;
            for id in ids {
                let key = match vectors.remove(id.as_str()).ctx(label, "delete vector")? {
                    Some(row) => row_key(row.value()).ctx(label, "read vector")?,
                    None => continue,
                };
                metas.remove(id.as_str()).ctx(label, "delete meta")?;
                keys.remove(key).ctx(label, "delete key")?;
                pending.insert(key, ()).ctx(label, "write journal")?;
                removed.push(key);
            }
            pending.len().ctx(label, "read journal")? as usize
        };
        if removed.is_empty() {
            txn.abort().ctx(label, "abort")?;
            return Ok(());
        }
        txn.commit().ctx(label, "commit")?;
        self.unsaved.store(true, Ordering::SeqCst);
        self.journal.store(journal, Ordering::SeqCst);
        {
            let ann = self.write_ann();
            for key in removed {
                ann.remove(key).map_err(|e| self.index_failed(e))?;
            }
        }
        self.flush_if_due(&writer, journal);
        Ok(())
    }

    pub(super) fn clear(&self) -> Result<()> {
        let writer = self.lock_writer();
        let label = self.label.as_str();
        let txn = self.db.begin_write().ctx(label, "begin write")?;
        txn.delete_table(VECTORS).ctx(label, "clear vectors")?;
        txn.delete_table(META).ctx(label, "clear meta")?;
        txn.delete_table(KEYS).ctx(label, "clear keys")?;
        txn.delete_table(PENDING).ctx(label, "clear journal")?;
        txn.open_table(VECTORS).ctx(label, "create vectors")?;
        txn.open_table(META).ctx(label, "create meta")?;
        txn.open_table(KEYS).ctx(label, "create keys")?;
        txn.open_table(PENDING).ctx(label, "create journal")?;
        // The old snapshot no longer describes the set; the key counter and the model binding stay.
        txn.open_table(INFO)
            .ctx(label, "open info")?
            .remove(INFO_SNAPSHOT_LEN)
            .ctx(label, "write info")?;
        txn.commit().ctx(label, "commit")?;
        let fresh = Ann::new(self.dim, self.options.hnsw, self.options.threads)
            .map_err(|e| self.index_failed(e))?;
        *self.write_ann() = fresh;
        self.journal.store(0, Ordering::SeqCst);
        self.unsaved.store(true, Ordering::SeqCst);
        if let Err(e) = self.flush_locked(&writer) {
            tracing::warn!("{label}: cannot save the emptied index: {e}");
        }
        Ok(())
    }

    /// A committed change could not be applied to the in-memory index: the journal keeps it,
    /// snapshots are refused from now on, and the next open repairs the index.
    fn index_failed(&self, e: String) -> Error {
        self.out_of_sync.store(true, Ordering::SeqCst);
        self.storage(
            "update index (the change is committed; reopen the set to repair the index)",
            e,
        )
    }

    fn flush_if_due(&self, writer: &MutexGuard<'_, ()>, journal: usize) {
        if journal >= self.options.flush_threshold {
            // The write itself is committed; a failed snapshot only delays persistence.
            if let Err(e) = self.flush_locked(writer) {
                tracing::warn!("{}: cannot save the index snapshot: {e}", self.label);
            }
        }
    }

    /// Saves the snapshot and clears the journal. The caller holds the writer lock, so no
    /// write lands between the save and the journal clear.
    pub(super) fn flush_locked(&self, _writer: &MutexGuard<'_, ()>) -> Result<()> {
        if !self.unsaved.load(Ordering::SeqCst) {
            return Ok(());
        }
        if self.out_of_sync.load(Ordering::SeqCst) {
            // Saving would clear the journal that still describes the missed change.
            return Err(self.storage(
                "save index snapshot",
                "the in-memory index missed a change; reopen the set to repair it from the journal",
            ));
        }
        let len = self
            .read_ann()
            .save_atomic(&self.index_path)
            .map_err(|e| self.storage("save index snapshot", e))?;
        let label = self.label.as_str();
        let txn = self.db.begin_write().ctx(label, "begin write")?;
        txn.delete_table(PENDING).ctx(label, "clear journal")?;
        txn.open_table(PENDING).ctx(label, "create journal")?;
        txn.open_table(INFO)
            .ctx(label, "open info")?
            .insert(INFO_SNAPSHOT_LEN, len.to_string().as_str())
            .ctx(label, "write info")?;
        txn.commit().ctx(label, "commit")?;
        self.journal.store(0, Ordering::SeqCst);
        self.unsaved.store(false, Ordering::SeqCst);
        Ok(())
    }

    pub(super) fn query(
        &self,
        query: &[f32],
        top_k: usize,
        threshold: f32,
    ) -> Result<Vec<VectorHit>> {
        // A few spare candidates cover ids deleted in redb whose index removal is under way.
        let candidates = top_k + (top_k / 4).max(8);
        let found = self
            .read_ann()
            .search(query, candidates)
            .map_err(|e| self.storage("search", e))?;
        let found: Vec<(u64, f32)> = found
            .into_iter()
            .filter(|(_, score)| score.is_finite() && *score >= threshold)
            .collect();
        if found.is_empty() {
            return Ok(Vec::new());
        }
        let label = self.label.as_str();
        let txn = self.db.begin_read().ctx(label, "begin read")?;
        let keys = txn.open_table(KEYS).ctx(label, "open keys")?;
        let metas = txn.open_table(META).ctx(label, "open meta")?;
        let mut hits = Vec::with_capacity(top_k.min(found.len()));
        for (key, score) in found {
            if hits.len() == top_k {
                break;
            }
            let Some(id) = keys.get(key).ctx(label, "read key")? else {
                continue; // deleted
            };
            let id = id.value().to_string();
            let meta = match metas.get(id.as_str()).ctx(label, "read meta")? {
                Some(m) => parse_meta(m.value(), &id, label)?,
                None => Value::Object(Default::default()),
            };
            hits.push(VectorHit { id, score, meta });
        }
        Ok(hits)
    }

    pub(super) fn get_vectors(&self, ids: &[String]) -> Result<HashMap<String, Vec<f32>>> {
        let label = self.label.as_str();
        let txn = self.db.begin_read().ctx(label, "begin read")?;
        let vectors = txn.open_table(VECTORS).ctx(label, "open vectors")?;
        let mut out = HashMap::with_capacity(ids.len());
        for id in ids {
            if let Some(row) = vectors.get(id.as_str()).ctx(label, "read vector")? {
                let (_, vector) =
                    decode_row(row.value(), self.dim).ctx(label, &format!("read vector '{id}'"))?;
                out.insert(id.clone(), vector);
            }
        }
        Ok(out)
    }

    pub(super) fn get_meta(&self, ids: &[String]) -> Result<HashMap<String, Value>> {
        let label = self.label.as_str();
        let txn = self.db.begin_read().ctx(label, "begin read")?;
        let metas = txn.open_table(META).ctx(label, "open meta")?;
        let mut out = HashMap::with_capacity(ids.len());
        for id in ids {
            if let Some(m) = metas.get(id.as_str()).ctx(label, "read meta")? {
                out.insert(id.clone(), parse_meta(m.value(), id, label)?);
            }
        }
        Ok(out)
    }

    pub(super) fn ids(&self) -> Result<Vec<String>> {
        let label = self.label.as_str();
        let txn = self.db.begin_read().ctx(label, "begin read")?;
        let vectors = txn.open_table(VECTORS).ctx(label, "open vectors")?;
        let mut out = Vec::with_capacity(vectors.len().ctx(label, "read")? as usize);
        for entry in vectors.iter().ctx(label, "read ids")? {
            let (id, _) = entry.ctx(label, "read ids")?;
            out.push(id.value().to_string());
        }
        Ok(out) // redb orders &str keys bytewise, which is String's order
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if !self.options.flush_on_drop || !*self.unsaved.get_mut() {
            return;
        }
        let writer = self.lock_writer();
        if let Err(e) = self.flush_locked(&writer) {
            tracing::warn!(
                "{}: cannot save the index snapshot on close: {e}",
                self.label
            );
        }
    }
}

fn parse_meta(text: &str, id: &str, label: &str) -> Result<Value> {
    serde_json::from_str(text).ctx(label, &format!("meta of '{id}'"))
}

pub(super) fn read_number(
    info: &impl ReadableTable<&'static str, &'static str>,
    name: &str,
    label: &str,
) -> Result<Option<u64>> {
    match info.get(name).ctx(label, "read info")? {
        Some(v) => v
            .value()
            .parse::<u64>()
            .map(Some)
            .ctx(label, &format!("info '{name}' = '{}'", v.value())),
        None => Ok(None),
    }
}
