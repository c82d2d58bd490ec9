//! The one redb database file of a working directory (`<working_dir>/lightrag.redb`).
//!
//! Key-value records, document status and the knowledge graph all live in this single file so
//! that the embedded default is ACID and crash-safe: every store batch is one redb write
//! transaction, committed durably or not at all. This module opens the file (refusing, without
//! touching it, anything that is not a redb database) and is the one place where redb and serde
//! errors become [`Error::Storage`].

use std::fmt::Display;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use lightrag_core::error::{Error, Result};
use redb::{
    Database, DatabaseError, Key, ReadOnlyTable, ReadTransaction, ReadableDatabase, StorageError,
    Table, TableDefinition, TableError, TableHandle, Value, WriteTransaction,
};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// The database file name inside a working directory.
pub const DB_FILE_NAME: &str = "lightrag.redb";

/// A shared handle on the working directory's redb database (cheap to clone).
#[derive(Clone)]
pub struct EmbeddedDb {
    db: Arc<Database>,
    path: PathBuf,
}

impl std::fmt::Debug for EmbeddedDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedDb")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl EmbeddedDb {
    /// Opens the database file at `path`, creating it if it does not exist or is empty.
    ///
    /// A file that is not a redb database, or a damaged one, is refused with [`Error::Storage`]
    /// and left as it is.
    pub fn open(path: &Path) -> Result<EmbeddedDb> {
        // redb may panic (debug assertions) on a file damaged outside redb: report it instead.
        let opened = catch_unwind(AssertUnwindSafe(|| Database::create(path)));
        let db = match opened {
            Ok(Ok(db)) => db,
            Ok(Err(e)) => return Err(open_error(path, e)),
            Err(_) => return Err(damaged(path, "the database could not be read")),
        };
        Ok(EmbeddedDb {
            db: Arc::new(db),
            path: path.to_path_buf(),
        })
    }

    /// Opens `<working_dir>/lightrag.redb`, creating the directory and the file if needed.
    pub fn open_in(working_dir: &Path) -> Result<EmbeddedDb> {
        std::fs::create_dir_all(working_dir).map_err(|e| {
            crate::embedded::fail(format!(
                "cannot create working directory {}: {e}",
                working_dir.display()
            ))
        })?;
        Self::open(&working_dir.join(DB_FILE_NAME))
    }

    /// The path of the database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The underlying redb database (for adapters that keep their own tables in it).
    pub fn redb(&self) -> &Arc<Database> {
        &self.db
    }

    /// Begins a read transaction.
    pub(crate) fn read(&self) -> Result<ReadTransaction> {
        self.db.begin_read().storage("begin read transaction")
    }

    /// Begins a write transaction (redb serialises writers).
    pub(crate) fn write(&self) -> Result<WriteTransaction> {
        self.db.begin_write().storage("begin write transaction")
    }
}

/// The error for a file that is not a usable lightrag-rs database.
fn damaged(path: &Path, detail: impl Display) -> Error {
    crate::embedded::fail(format!(
        "cannot open {}: the working directory is damaged or not a lightrag-rs store ({detail}); \
         nothing was overwritten",
        path.display()
    ))
}

/// Maps a redb open failure to a message naming the file.
fn open_error(path: &Path, e: DatabaseError) -> Error {
    match e {
        DatabaseError::DatabaseAlreadyOpen => crate::embedded::fail(format!(
            "cannot open {}: the database is already open (another lightrag-rs process, or \
             another store in this process, uses this working directory)",
            path.display()
        )),
        DatabaseError::UpgradeRequired(v) => damaged(
            path,
            format_args!("file format version {v} needs an upgrade this build cannot do"),
        ),
        DatabaseError::Storage(StorageError::Io(io))
            if io.kind() != std::io::ErrorKind::InvalidData =>
        {
            crate::embedded::fail(format!("cannot open {}: {io}", path.display()))
        }
        other => damaged(path, other),
    }
}

/// Converts any displayable failure (redb, serde) into [`Error::Storage`] with a context.
pub(crate) trait StorageResultExt<T> {
    /// `Error::Storage("<what>: <error>")`.
    fn storage(self, what: &str) -> Result<T>;
}

impl<T, E: Display> StorageResultExt<T> for std::result::Result<T, E> {
    fn storage(self, what: &str) -> Result<T> {
        self.map_err(|e| crate::embedded::fail(format!("{what}: {e}")))
    }
}

/// Opens a table for reading; a table never written yet reads as `None` (empty).
pub(crate) fn open_read<K: Key + 'static, V: Value + 'static>(
    txn: &ReadTransaction,
    def: TableDefinition<K, V>,
) -> Result<Option<ReadOnlyTable<K, V>>> {
    match txn.open_table(def) {
        Ok(t) => Ok(Some(t)),
        Err(TableError::TableDoesNotExist(_)) => Ok(None),
        Err(e) => Err(crate::embedded::fail(format!(
            "open table {}: {e}",
            def.name()
        ))),
    }
}

/// Serialises a record as JSON for `table`/`key`.
pub(crate) fn encode<T: Serialize + ?Sized>(
    table: &str,
    key: impl Display,
    value: &T,
) -> Result<Vec<u8>> {
    serde_json::to_vec(value)
        .map_err(|e| crate::embedded::fail(format!("table {table}, key {key}: cannot encode: {e}")))
}

/// Deserialises a JSON record read from `table`/`key`; failure names both.
pub(crate) fn decode<T: DeserializeOwned>(
    table: &str,
    key: impl Display,
    bytes: &[u8],
) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| {
        crate::embedded::corrupt(format!(
            "table {table}, key {key}: stored record is unreadable: {e}"
        ))
    })
}

/// Opens a table for writing (creating it if needed).
pub(crate) fn open_write<'txn, K: Key + 'static, V: Value + 'static>(
    txn: &'txn WriteTransaction,
    def: TableDefinition<K, V>,
) -> Result<Table<'txn, K, V>> {
    txn.open_table(def)
        .map_err(|e| crate::embedded::fail(format!("open table {}: {e}", def.name())))
}

/// Commits a write transaction (durably: the batch is on disk or not applied at all).
pub(crate) fn commit(txn: WriteTransaction) -> Result<()> {
    txn.commit().storage("commit")
}

/// Commits without waiting for the disk: the batch becomes durable with the next durable commit,
/// and a crash before that loses it whole (never half of it; the file stays consistent).
///
/// The engine writes a document's derived records (chunks, graph, tracking rows) this way and
/// its status row durably *after* them, so "processed" is only on disk once they are; a crash
/// in between leaves the document `processing`, and the resumed run rewrites what was lost.
/// Extraction results and status rows are always durable: they are what a resume relies on.
pub(crate) fn commit_deferred(mut txn: WriteTransaction) -> Result<()> {
    txn.set_durability(redb::Durability::None)
        .map_err(|e| crate::embedded::fail(format!("set durability: {e}")))?;
    txn.commit().storage("commit")
}

/// A table length as `usize`.
pub(crate) fn len_usize(table: &str, n: u64) -> Result<usize> {
    usize::try_from(n).map_err(|e| crate::embedded::fail(format!("table {table}: length {n}: {e}")))
}
