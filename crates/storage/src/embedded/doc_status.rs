//! The embedded [`DocStatusStore`]: document status rows in the shared redb database.
//!
//! Rows (`doc_status`: id -> [`DocStatusRecord`] JSON) come with secondary indexes kept in the
//! same write transaction as the row, so the pipeline's questions are not full scans:
//!
//! * `doc_status_by_status`: `(status, created_at, id)` -> `()`, a range scan per status gives
//!   [`DocStatusStore::by_statuses`] already in `(created_at, id)` order;
//! * `doc_status_counts`: status -> row count, so [`DocStatusStore::counts`] reads four keys;
//! * `doc_status_by_hash`: `(content_hash, id)` -> `()`, for [`DocStatusStore::find_by_content_hash`];
//! * `doc_status_order`: `(status, field, value, id)` -> `()` for each sortable field
//!   (`u`pdated_at, `c`reated_at, `f`ile_path, `i`d), so [`DocStatusStore::page`] reads
//!   `offset + limit` keys per status, forwards or backwards;
//! * `doc_status_by_track`: `(track_id, created_at, id)` -> `()`, for
//!   [`DocStatusStore::by_track_id`].
//!
//! A database written before the last two indexes existed gets them built once on open.
//!
//! `created_at` is immutable: an upsert of an existing row keeps the stored value.

use std::collections::{BTreeSet, HashMap};

use async_trait::async_trait;
use lightrag_core::error::Result;
use lightrag_core::ports::{DocPage, DocPageRequest, DocSort, DocStatusStore};
use lightrag_core::types::{DocStatus, DocStatusRecord};
use redb::{ReadableTable, Table, TableDefinition};

use super::db::{
    commit, decode, encode, len_usize, open_read, open_write, EmbeddedDb, StorageResultExt,
};

/// Rows: id -> record JSON.
const ROWS: TableDefinition<&str, &[u8]> = TableDefinition::new("doc_status");
/// Status index: (status, created_at, id).
const BY_STATUS: TableDefinition<(&str, &str, &str), ()> =
    TableDefinition::new("doc_status_by_status");
/// Content-hash index: (hash, id).
const BY_HASH: TableDefinition<(&str, &str), ()> = TableDefinition::new("doc_status_by_hash");
/// Rows per status.
const COUNTS: TableDefinition<&str, u64> = TableDefinition::new("doc_status_counts");
/// Sort index: (status, field tag, value, id).
const ORDER: TableDefinition<(&str, &str, &str, &str), ()> =
    TableDefinition::new("doc_status_order");
/// Track index: (track_id, created_at, id).
const BY_TRACK: TableDefinition<(&str, &str, &str), ()> =
    TableDefinition::new("doc_status_by_track");

/// The tag of a sort field in [`ORDER`].
fn tag(sort: DocSort) -> &'static str {
    match sort {
        DocSort::UpdatedAt => "u",
        DocSort::CreatedAt => "c",
        DocSort::FilePath => "f",
        DocSort::Id => "i",
    }
}

const SORTS: [DocSort; 4] = [
    DocSort::UpdatedAt,
    DocSort::CreatedAt,
    DocSort::FilePath,
    DocSort::Id,
];

/// Document status rows with status, count and content-hash indexes.
#[derive(Debug, Clone)]
pub struct RedbDocStatus {
    db: EmbeddedDb,
}

/// The tables a write transaction touches.
struct WriteTables<'txn> {
    rows: Table<'txn, &'static str, &'static [u8]>,
    by_status: Table<'txn, (&'static str, &'static str, &'static str), ()>,
    by_hash: Table<'txn, (&'static str, &'static str), ()>,
    counts: Table<'txn, &'static str, u64>,
    order: Table<'txn, (&'static str, &'static str, &'static str, &'static str), ()>,
    by_track: Table<'txn, (&'static str, &'static str, &'static str), ()>,
}

impl WriteTables<'_> {
    /// Removes a row and its index entries; returns the stored record.
    fn remove_row(&mut self, id: &str) -> Result<Option<DocStatusRecord>> {
        let old: Option<DocStatusRecord> = match self.rows.remove(id).storage(ROWS_NAME)? {
            Some(g) => Some(decode(ROWS_NAME, id, g.value())?),
            None => None,
        };
        if let Some(old) = &old {
            self.by_status
                .remove((old.status.as_str(), old.created_at.as_str(), id))
                .storage(BY_STATUS_NAME)?;
            if let Some(hash) = &old.content_hash {
                self.by_hash
                    .remove((hash.as_str(), id))
                    .storage(BY_HASH_NAME)?;
            }
            for sort in SORTS {
                self.order
                    .remove((old.status.as_str(), tag(sort), sort.key(id, old), id))
                    .storage(ORDER_NAME)?;
            }
            self.by_track
                .remove((old.track_id.as_str(), old.created_at.as_str(), id))
                .storage(BY_TRACK_NAME)?;
            self.add_count(old.status, -1)?;
        }
        Ok(old)
    }

    /// Inserts a row (none stored under `id`) and its index entries.
    fn insert_row(&mut self, id: &str, rec: &DocStatusRecord) -> Result<()> {
        let bytes = encode(ROWS_NAME, id, rec)?;
        self.rows.insert(id, bytes.as_slice()).storage(ROWS_NAME)?;
        self.by_status
            .insert((rec.status.as_str(), rec.created_at.as_str(), id), ())
            .storage(BY_STATUS_NAME)?;
        if let Some(hash) = &rec.content_hash {
            self.by_hash
                .insert((hash.as_str(), id), ())
                .storage(BY_HASH_NAME)?;
        }
        self.index_order(id, rec)?;
        self.add_count(rec.status, 1)
    }

    /// The sort and track index entries of a row.
    fn index_order(&mut self, id: &str, rec: &DocStatusRecord) -> Result<()> {
        for sort in SORTS {
            self.order
                .insert((rec.status.as_str(), tag(sort), sort.key(id, rec), id), ())
                .storage(ORDER_NAME)?;
        }
        self.by_track
            .insert((rec.track_id.as_str(), rec.created_at.as_str(), id), ())
            .storage(BY_TRACK_NAME)?;
        Ok(())
    }

    /// Adds `delta` (+1 or -1) to a status count.
    fn add_count(&mut self, status: DocStatus, delta: i64) -> Result<()> {
        let key = status.as_str();
        let current = self
            .counts
            .get(key)
            .storage(COUNTS_NAME)?
            .map(|g| g.value())
            .unwrap_or(0);
        let next = if delta < 0 {
            current.saturating_sub(delta.unsigned_abs())
        } else {
            current + delta.unsigned_abs()
        };
        if next == 0 {
            self.counts.remove(key).storage(COUNTS_NAME)?;
        } else {
            self.counts.insert(key, next).storage(COUNTS_NAME)?;
        }
        Ok(())
    }
}

const ROWS_NAME: &str = "doc_status";
const BY_STATUS_NAME: &str = "doc_status_by_status";
const BY_HASH_NAME: &str = "doc_status_by_hash";
const COUNTS_NAME: &str = "doc_status_counts";
const ORDER_NAME: &str = "doc_status_order";
const BY_TRACK_NAME: &str = "doc_status_by_track";

impl RedbDocStatus {
    /// A document status store on the shared database; builds the sort and track indexes of
    /// a database written before they existed.
    pub fn new(db: &EmbeddedDb) -> Result<RedbDocStatus> {
        let store = RedbDocStatus { db: db.clone() };
        store.backfill_indexes()?;
        Ok(store)
    }

    /// Indexes every row in [`ORDER`] and [`BY_TRACK`] when rows exist and those do not.
    fn backfill_indexes(&self) -> Result<()> {
        let txn = self.db.read()?;
        let rows_exist = match open_read(&txn, ROWS)? {
            Some(t) => t.first().storage(ROWS_NAME)?.is_some(),
            None => false,
        };
        let indexed = match open_read(&txn, ORDER)? {
            Some(t) => t.first().storage(ORDER_NAME)?.is_some(),
            None => false,
        };
        drop(txn);
        if !rows_exist || indexed {
            return Ok(());
        }
        let rows = self.by_statuses_sync(&DocStatus::ALL)?;
        tracing::info!("indexing {} document status rows for paging", rows.len());
        self.write(|t| {
            for (id, rec) in &rows {
                t.index_order(id, rec)?;
            }
            Ok(())
        })
    }

    /// Runs `f` on the tables of one write transaction and commits.
    fn write<F>(&self, f: F) -> Result<()>
    where
        F: FnOnce(&mut WriteTables<'_>) -> Result<()>,
    {
        let txn = self.db.write()?;
        {
            let mut tables = WriteTables {
                rows: open_write(&txn, ROWS)?,
                by_status: open_write(&txn, BY_STATUS)?,
                by_hash: open_write(&txn, BY_HASH)?,
                counts: open_write(&txn, COUNTS)?,
                order: open_write(&txn, ORDER)?,
                by_track: open_write(&txn, BY_TRACK)?,
            };
            f(&mut tables)?;
        }
        commit(txn)
    }

    fn get_sync(&self, id: &str) -> Result<Option<DocStatusRecord>> {
        let txn = self.db.read()?;
        let Some(rows) = open_read(&txn, ROWS)? else {
            return Ok(None);
        };
        let guard = rows.get(id).storage(ROWS_NAME)?;
        guard.map(|g| decode(ROWS_NAME, id, g.value())).transpose()
    }

    fn upsert_sync(&self, items: Vec<(String, DocStatusRecord)>) -> Result<()> {
        if items.is_empty() {
            return Ok(());
        }
        self.write(|t| {
            for (id, mut rec) in items {
                if let Some(old) = t.remove_row(&id)? {
                    rec.created_at = old.created_at;
                }
                t.insert_row(&id, &rec)?;
            }
            Ok(())
        })
    }

    fn delete_sync(&self, ids: &[String]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        self.write(|t| {
            for id in ids {
                t.remove_row(id)?;
            }
            Ok(())
        })
    }

    fn by_statuses_sync(&self, statuses: &[DocStatus]) -> Result<Vec<(String, DocStatusRecord)>> {
        let txn = self.db.read()?;
        let (Some(index), Some(rows)) = (open_read(&txn, BY_STATUS)?, open_read(&txn, ROWS)?)
        else {
            return Ok(Vec::new());
        };
        let wanted: BTreeSet<DocStatus> = statuses.iter().copied().collect();
        let mut keys: Vec<(String, String)> = Vec::new();
        for status in wanted {
            let s = status.as_str();
            for entry in index.range((s, "", "")..).storage(BY_STATUS_NAME)? {
                let (k, _) = entry.storage(BY_STATUS_NAME)?;
                let (st, created_at, id) = k.value();
                if st != s {
                    break;
                }
                keys.push((created_at.to_string(), id.to_string()));
            }
        }
        keys.sort();
        let mut out = Vec::with_capacity(keys.len());
        for (_, id) in keys {
            let Some(g) = rows.get(id.as_str()).storage(ROWS_NAME)? else {
                return Err(crate::embedded::fail(format!(
                    "table {BY_STATUS_NAME}: index entry for missing row {id}"
                )));
            };
            let rec = decode(ROWS_NAME, &id, g.value())?;
            out.push((id, rec));
        }
        Ok(out)
    }

    /// Reads the records of `ids` (index entries whose row is missing are corruption).
    fn rows_of(
        &self,
        txn: &redb::ReadTransaction,
        index: &str,
        ids: Vec<String>,
    ) -> Result<Vec<(String, DocStatusRecord)>> {
        let Some(rows) = open_read(txn, ROWS)? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let Some(g) = rows.get(id.as_str()).storage(ROWS_NAME)? else {
                return Err(crate::embedded::corrupt(format!(
                    "table {index}: index entry for missing row {id}"
                )));
            };
            let rec = decode(ROWS_NAME, &id, g.value())?;
            out.push((id, rec));
        }
        Ok(out)
    }

    fn page_sync(&self, req: &DocPageRequest) -> Result<DocPage> {
        let counts = self.counts_sync()?;
        let wanted: BTreeSet<DocStatus> = req.statuses.iter().copied().collect();
        let total = wanted
            .iter()
            .map(|s| counts.get(s).copied().unwrap_or(0))
            .sum();
        let txn = self.db.read()?;
        let Some(order) = open_read(&txn, ORDER)? else {
            return Ok(DocPage {
                rows: vec![],
                total,
            });
        };
        let need = req.offset.saturating_add(req.limit);
        let t = tag(req.sort);
        // The first `need` keys of each status in the asked order, then merged.
        let mut keys: Vec<(String, String)> = Vec::new();
        for status in wanted {
            let s = status.as_str();
            let range = order
                .range((s, t, "", "")..=(s, t, "\u{10ffff}", "\u{10ffff}"))
                .storage(ORDER_NAME)?;
            let mut take = |entry: std::result::Result<_, redb::StorageError>| -> Result<()> {
                let (k, _): (redb::AccessGuard<(&str, &str, &str, &str)>, _) =
                    entry.storage(ORDER_NAME)?;
                let (_, _, value, id) = k.value();
                keys.push((value.to_string(), id.to_string()));
                Ok(())
            };
            if req.descending {
                for entry in range.rev().take(need) {
                    take(entry)?;
                }
            } else {
                for entry in range.take(need) {
                    take(entry)?;
                }
            }
        }
        keys.sort();
        if req.descending {
            keys.reverse();
        }
        let ids: Vec<String> = keys
            .into_iter()
            .skip(req.offset)
            .take(req.limit)
            .map(|(_, id)| id)
            .collect();
        let rows = self.rows_of(&txn, ORDER_NAME, ids)?;
        Ok(DocPage { rows, total })
    }

    fn by_track_sync(&self, track_id: &str) -> Result<Vec<(String, DocStatusRecord)>> {
        let txn = self.db.read()?;
        let Some(index) = open_read(&txn, BY_TRACK)? else {
            return Ok(Vec::new());
        };
        let mut ids = Vec::new();
        for entry in index.range((track_id, "", "")..).storage(BY_TRACK_NAME)? {
            let (k, _) = entry.storage(BY_TRACK_NAME)?;
            let (t, _, id) = k.value();
            if t != track_id {
                break;
            }
            ids.push(id.to_string());
        }
        self.rows_of(&txn, BY_TRACK_NAME, ids)
    }

    fn clear_sync(&self) -> Result<()> {
        let txn = self.db.write()?;
        for name in [
            ROWS_NAME,
            BY_STATUS_NAME,
            BY_HASH_NAME,
            COUNTS_NAME,
            ORDER_NAME,
            BY_TRACK_NAME,
        ] {
            txn.delete_table(redb::TableDefinition::<(), ()>::new(name))
                .storage(name)?;
        }
        commit(txn)
    }

    fn counts_sync(&self) -> Result<HashMap<DocStatus, usize>> {
        let txn = self.db.read()?;
        let table = open_read(&txn, COUNTS)?;
        let mut out = HashMap::new();
        for status in DocStatus::ALL {
            let n = match &table {
                Some(t) => t
                    .get(status.as_str())
                    .storage(COUNTS_NAME)?
                    .map(|g| g.value())
                    .unwrap_or(0),
                None => 0,
            };
            out.insert(status, len_usize(COUNTS_NAME, n)?);
        }
        Ok(out)
    }

    fn find_by_content_hash_sync(
        &self,
        hash: &str,
        exclude: Option<&str>,
    ) -> Result<Option<(String, DocStatusRecord)>> {
        let txn = self.db.read()?;
        let (Some(index), Some(rows)) = (open_read(&txn, BY_HASH)?, open_read(&txn, ROWS)?) else {
            return Ok(None);
        };
        for entry in index.range((hash, "")..).storage(BY_HASH_NAME)? {
            let (k, _) = entry.storage(BY_HASH_NAME)?;
            let (h, id) = k.value();
            if h != hash {
                break;
            }
            if exclude == Some(id) {
                continue;
            }
            let Some(g) = rows.get(id).storage(ROWS_NAME)? else {
                continue;
            };
            let rec: DocStatusRecord = decode(ROWS_NAME, id, g.value())?;
            let duplicate = rec
                .metadata
                .get("is_duplicate")
                .and_then(|v| v.as_bool())
                .unwrap_or(false);
            if !duplicate {
                return Ok(Some((id.to_string(), rec)));
            }
        }
        Ok(None)
    }
}

#[async_trait]
impl DocStatusStore for RedbDocStatus {
    async fn get(&self, id: &str) -> Result<Option<DocStatusRecord>> {
        self.get_sync(id)
    }

    async fn upsert(&self, items: Vec<(String, DocStatusRecord)>) -> Result<()> {
        self.upsert_sync(items)
    }

    async fn delete(&self, ids: &[String]) -> Result<()> {
        self.delete_sync(ids)
    }

    async fn by_statuses(&self, statuses: &[DocStatus]) -> Result<Vec<(String, DocStatusRecord)>> {
        self.by_statuses_sync(statuses)
    }

    async fn page(&self, req: &DocPageRequest) -> Result<DocPage> {
        self.page_sync(req)
    }

    async fn by_track_id(&self, track_id: &str) -> Result<Vec<(String, DocStatusRecord)>> {
        self.by_track_sync(track_id)
    }

    async fn counts(&self) -> Result<HashMap<DocStatus, usize>> {
        self.counts_sync()
    }

    async fn clear(&self) -> Result<()> {
        self.clear_sync()
    }

    async fn find_by_content_hash(
        &self,
        hash: &str,
        exclude: Option<&str>,
    ) -> Result<Option<(String, DocStatusRecord)>> {
        self.find_by_content_hash_sync(hash, exclude)
    }
}
