//! Opening a vector set: the database, the model binding, and the index (snapshot plus journal
//! replay, or a rebuild from redb).

use std::fs;
use std::path::Path;

use lightrag_core::{Error, Result};
use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata};

use super::ann::Ann;
use super::layout::*;
use super::store::read_number;
use super::{Context, IndexOrigin, VectorStoreOptions};

/// Opens or creates the database; a file redb rejects, or on which it panics, is a storage error.
pub(super) fn open_db(path: &Path) -> Result<Database> {
    match std::panic::catch_unwind(|| Database::create(path)) {
        Ok(Ok(db)) => Ok(db),
        Ok(Err(e)) => Err(crate::embedded::fail(format!(
            "cannot open the vector database {}: {e}",
            path.display()
        ))),
        Err(_) => Err(crate::embedded::fail(format!(
            "cannot open the vector database {}: the file is corrupt",
            path.display()
        ))),
    }
}

/// Creates the tables and records (model, dim) on first open; later opens must match them.
pub(super) fn bind_model(
    db: &Database,
    label: &str,
    dir: &Path,
    namespace: &str,
    model: &str,
    dim: usize,
) -> Result<()> {
    let txn = db.begin_write().ctx(label, "begin write")?;
    txn.open_table(VECTORS).ctx(label, "create vectors")?;
    txn.open_table(META).ctx(label, "create meta")?;
    txn.open_table(KEYS).ctx(label, "create keys")?;
    txn.open_table(PENDING).ctx(label, "create journal")?;
    {
        let mut info = txn.open_table(INFO).ctx(label, "create info")?;
        let stored_model = info
            .get(INFO_MODEL)
            .ctx(label, "read info")?
            .map(|v| v.value().to_string());
        let stored_dim = read_number(&info, INFO_DIM, label)?;
        let format = info
            .get(INFO_FORMAT)
            .ctx(label, "read info")?
            .map(|v| v.value().to_string());
        match (stored_model, stored_dim) {
            (Some(stored_model), Some(stored_dim)) => {
                if format.as_deref() != Some(FORMAT) {
                    return Err(crate::embedded::fail(format!(
                        "{label}: unknown layout version {format:?} (this build reads {FORMAT})"
                    )));
                }
                if stored_model != model || stored_dim != dim as u64 {
                    return Err(Error::ModelMismatch(format!(
                        "vector set '{namespace}' in {} was built with {stored_model} ({stored_dim} dims); \
                         the configured embedder is {model} ({dim} dims). Use the original model, or run \
                         `lightrag rebuild-vectors` to re-embed the stored texts with the new one",
                        dir.display()
                    )));
                }
            }
            (None, None) => {
                info.insert(INFO_MODEL, model).ctx(label, "write info")?;
                info.insert(INFO_DIM, dim.to_string().as_str())
                    .ctx(label, "write info")?;
                info.insert(INFO_FORMAT, FORMAT).ctx(label, "write info")?;
                info.insert(INFO_NEXT_KEY, "0").ctx(label, "write info")?;
            }
            _ => {
                return Err(crate::embedded::fail(format!(
                    "{label}: the model binding is incomplete"
                )))
            }
        }
    }
    txn.commit().ctx(label, "commit")
}

/// The in-memory index: the snapshot with the journal replayed, or a rebuild from redb.
/// Returns the index, its origin, the journal entries replayed and the vectors rebuilt.
pub(super) fn load_index(
    db: &Database,
    label: &str,
    index_path: &Path,
    dim: usize,
    options: &VectorStoreOptions,
) -> Result<(Ann, IndexOrigin, usize, usize)> {
    let reason = match load_snapshot(db, label, index_path, dim, options)? {
        Ok((ann, replayed)) => return Ok((ann, IndexOrigin::Snapshot, replayed, 0)),
        Err(reason) => reason,
    };
    let txn = db.begin_read().ctx(label, "begin read")?;
    let vectors = txn.open_table(VECTORS).ctx(label, "open vectors")?;
    let rows = vectors.len().ctx(label, "read")? as usize;
    let ann = Ann::new(dim, options.hnsw, options.threads)
        .map_err(|e| crate::embedded::fail(format!("{label}: {e}")))?;
    if rows == 0 && !index_path.exists() {
        return Ok((ann, IndexOrigin::Fresh, 0, 0));
    }
    ann.reserve_extra(rows)
        .map_err(|e| crate::embedded::fail(format!("{label}: {e}")))?;
    let mut batch = Vec::with_capacity(rows.min(REBUILD_BATCH));
    for entry in vectors.iter().ctx(label, "read vectors")? {
        let (id, row) = entry.ctx(label, "read vectors")?;
        batch.push(decode_row(row.value(), dim).ctx(label, &format!("vector '{}'", id.value()))?);
        if batch.len() == REBUILD_BATCH {
            ann.upsert(&batch)
                .map_err(|e| crate::embedded::fail(format!("{label}: rebuild: {e}")))?;
            batch.clear();
        }
    }
    ann.upsert(&batch)
        .map_err(|e| crate::embedded::fail(format!("{label}: rebuild: {e}")))?;
    Ok((ann, IndexOrigin::Rebuilt { reason }, 0, rows))
}

/// Vectors decoded and inserted at a time while rebuilding or replaying.
const REBUILD_BATCH: usize = 4096;

/// Loads the snapshot and replays the journal. `Ok(Err(reason))` says why the snapshot cannot
/// be used (the index must be rebuilt); `Err` is a failure of redb itself.
fn load_snapshot(
    db: &Database,
    label: &str,
    index_path: &Path,
    dim: usize,
    options: &VectorStoreOptions,
) -> Result<std::result::Result<(Ann, usize), String>> {
    let txn = db.begin_read().ctx(label, "begin read")?;
    let info = txn.open_table(INFO).ctx(label, "open info")?;
    let Some(recorded) = read_number(&info, INFO_SNAPSHOT_LEN, label)? else {
        return Ok(Err("no index snapshot was recorded".into()));
    };
    let actual = match fs::metadata(index_path) {
        Ok(m) => m.len(),
        Err(e) => {
            return Ok(Err(format!(
                "index snapshot {} unreadable: {e}",
                index_path.display()
            )))
        }
    };
    if actual != recorded {
        return Ok(Err(format!(
            "index snapshot {} has {actual} bytes, the last one saved had {recorded}",
            index_path.display()
        )));
    }
    let ann = match Ann::load(index_path, dim, options.hnsw, options.threads) {
        Ok(ann) => ann,
        Err(e) => return Ok(Err(format!("index snapshot {}: {e}", index_path.display()))),
    };

    let vectors = txn.open_table(VECTORS).ctx(label, "open vectors")?;
    let keys = txn.open_table(KEYS).ctx(label, "open keys")?;
    let pending = txn.open_table(PENDING).ctx(label, "open journal")?;
    let mut replayed = 0;
    let mut batch = Vec::new();
    for entry in pending.iter().ctx(label, "read journal")? {
        let (key, _) = entry.ctx(label, "read journal")?;
        let key = key.value();
        replayed += 1;
        if let Err(e) = ann.remove(key) {
            return Ok(Err(format!("journal replay: {e}")));
        }
        let Some(id) = keys.get(key).ctx(label, "read key")? else {
            continue; // deleted since the snapshot
        };
        let Some(row) = vectors.get(id.value()).ctx(label, "read vector")? else {
            return Ok(Err(format!(
                "key {key} names '{}', which has no vector",
                id.value()
            )));
        };
        let (row_key, vector) =
            decode_row(row.value(), dim).ctx(label, &format!("vector '{}'", id.value()))?;
        if row_key != key {
            return Ok(Err(format!(
                "key {key} names '{}', whose vector has key {row_key}",
                id.value()
            )));
        }
        batch.push((key, vector));
        if batch.len() == REBUILD_BATCH {
            if let Err(e) = ann.upsert(&batch) {
                return Ok(Err(format!("journal replay: {e}")));
            }
            batch.clear();
        }
    }
    if let Err(e) = ann.upsert(&batch) {
        return Ok(Err(format!("journal replay: {e}")));
    }
    let rows = vectors.len().ctx(label, "read")? as usize;
    if ann.size() != rows {
        return Ok(Err(format!(
            "the index holds {} vectors after replaying {replayed} journal entries, the database {rows}",
            ann.size()
        )));
    }
    Ok(Ok((ann, replayed)))
}
