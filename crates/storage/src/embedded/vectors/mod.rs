//! The embedded vector set: one per LightRAG namespace (`chunks`, `entities`, `relationships`),
//! implementing [`VectorStore`] with zero external services.
//!
//! # Files
//!
//! * `vdb_<namespace>.redb` — **the source of truth**: every id with its vector (f32), its
//!   metadata (JSON) and its index key, plus the model binding (embedding model name and
//!   dimension), the key counter and the `pending` journal.
//! * `vdb_<namespace>.usearch` — a usearch HNSW snapshot (cosine metric). It is a **derived
//!   cache**: losing it or finding it stale costs a rebuild from redb, never data.
//!
//! # Why this design
//!
//! usearch gives the fastest build and query of the embedded ANN indexes measured for this
//! project and supports real deletes, but it persists by writing the whole index file. Saving
//! it on every write would cost O(n) per batch, and a crash between a redb commit and a save
//! would leave the two disagreeing. So every upsert and delete commits to redb first and, in
//! the **same transaction**, records the touched index keys in the `pending` journal; the
//! in-memory index is then updated. [`EmbeddedVectorStore::flush`] (also run when the journal
//! passes [`VectorStoreOptions::flush_threshold`] entries and, best effort, on drop) writes
//! the snapshot atomically (temporary file, fsync, rename) and then clears the journal.
//!
//! On open the snapshot is loaded and the journal replayed on top of it (remove each pending
//! key; add it back from redb if its id still exists), so a normal reopen — clean or after a
//! crash — does no full rebuild. The index is rebuilt from redb, with a warning, only when the
//! snapshot is missing, unreadable, not the one last recorded, or disagrees with redb's row
//! count after the replay. [`EmbeddedVectorStore::last_open_stats`] tells which path was taken.
//!
//! Keys: usearch keys are u64. Each id gets one from a counter stored in redb when first
//! inserted and keeps it when its vector is replaced (usearch: remove, then add); keys are
//! never reused, so a journal entry always names one id.
//!
//! Concurrency: writers (upsert, delete, clear, flush) are serialised by a mutex and keep their
//! redb transactions short; the index sits behind a `RwLock` (searches share it, updates take
//! it exclusively), and concurrent searches are capped by a semaphore at the number of usearch
//! thread contexts reserved. Blocking work runs on tokio's blocking pool.

mod ann;
mod layout;
mod open;
mod store;

pub use ann::HnswConfig;

use std::collections::HashMap;
use std::fmt::Display;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use lightrag_core::ports::VectorStore;
use lightrag_core::types::{VectorHit, VectorRecord};
use lightrag_core::{Error, Result};
use redb::{Database, ReadableDatabase, ReadableTableMetadata};
use serde_json::Value;
use tokio::sync::Semaphore;

use ann::Ann;
use layout::{PENDING, VECTORS};
use open::{bind_model, load_index, open_db};

/// Tuning of a vector set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VectorStoreOptions {
    /// HNSW parameters (M = 16, ef_construction = 128, ef_search = 64).
    pub hnsw: HnswConfig,
    /// Snapshot the index once the journal holds this many keys (default 1,000).
    pub flush_threshold: usize,
    /// Snapshot on drop when there are unsaved changes (default `true`; tests turn it off to
    /// simulate a crash).
    pub flush_on_drop: bool,
    /// usearch thread contexts reserved, which bounds the searches run at once
    /// (default: the number of CPUs, at least 4).
    pub threads: usize,
}

impl Default for VectorStoreOptions {
    fn default() -> Self {
        VectorStoreOptions {
            hnsw: HnswConfig::default(),
            flush_threshold: 1_000,
            flush_on_drop: true,
            threads: std::thread::available_parallelism()
                .map_or(4, |n| n.get())
                .max(4),
        }
    }
}

/// Where the in-memory index came from when the set was opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexOrigin {
    /// A new, empty set: nothing to load.
    Fresh,
    /// The snapshot, plus the journal replayed on top of it.
    Snapshot,
    /// Rebuilt from every vector in redb, for the reason given.
    Rebuilt { reason: String },
}

/// What opening the set did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenStats {
    pub origin: IndexOrigin,
    /// Vectors in the set.
    pub rows: usize,
    /// Journal entries replayed on top of the snapshot.
    pub replayed: usize,
    /// Vectors inserted by a full rebuild (0 unless `origin` is `Rebuilt`).
    pub rebuilt: usize,
    /// Time spent opening, index included.
    pub elapsed: Duration,
}

/// A vector set stored in redb with a usearch HNSW index (see the module documentation).
pub struct EmbeddedVectorStore {
    inner: Arc<Inner>,
}

struct Inner {
    namespace: String,
    model: String,
    dim: usize,
    /// Names the set in error messages: `vector set 'chunks' (<path>)`.
    label: String,
    db: Database,
    index_path: PathBuf,
    ann: RwLock<Ann>,
    /// Serialises writers: redb write transactions, index updates and snapshots.
    writer: Mutex<()>,
    /// Keys in the journal (exact while `writer` is held).
    journal: AtomicUsize,
    /// The index differs from the snapshot on disk (or there is none).
    unsaved: AtomicBool,
    /// A committed change is missing from the in-memory index (an index update failed).
    out_of_sync: AtomicBool,
    /// One permit per usearch thread context: usearch fails a search that finds none free.
    search_slots: Arc<Semaphore>,
    options: VectorStoreOptions,
    stats: OpenStats,
}

/// Attaches the vector set's label and the failed step to a low-level error.
trait Context<T> {
    fn ctx(self, label: &str, step: &str) -> Result<T>;
}

impl<T, E: Display> Context<T> for std::result::Result<T, E> {
    fn ctx(self, label: &str, step: &str) -> Result<T> {
        self.map_err(|e| crate::embedded::fail(format!("{label}: {step}: {e}")))
    }
}

impl EmbeddedVectorStore {
    /// Opens (creating if needed) the set `namespace` in `dir`, bound to the embedding `model`
    /// and dimension `dim`, with default options.
    ///
    /// Fails with [`Error::ModelMismatch`] if the set was built with another model or
    /// dimension, and with [`Error::Storage`] if its database cannot be opened.
    pub fn open(dir: &Path, namespace: &str, model: &str, dim: usize) -> Result<Self> {
        Self::open_with(dir, namespace, model, dim, VectorStoreOptions::default())
    }

    /// [`open`](Self::open) with explicit options.
    pub fn open_with(
        dir: &Path,
        namespace: &str,
        model: &str,
        dim: usize,
        options: VectorStoreOptions,
    ) -> Result<Self> {
        let started = Instant::now();
        if dim == 0 {
            return Err(Error::InvalidInput(format!(
                "vector set '{namespace}': the dimension must be positive"
            )));
        }
        if namespace.is_empty()
            || !namespace
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        {
            return Err(Error::InvalidInput(format!(
                "vector set name '{namespace}' must be non-empty ASCII letters, digits, '_', '-' or '.'"
            )));
        }
        fs::create_dir_all(dir).ctx(
            &format!("vector set '{namespace}'"),
            &format!("cannot create {}", dir.display()),
        )?;
        let db_path = dir.join(format!("vdb_{namespace}.redb"));
        let index_path = dir.join(format!("vdb_{namespace}.usearch"));
        let label = format!("vector set '{namespace}' ({})", db_path.display());

        let db = open_db(&db_path)?;
        bind_model(&db, &label, dir, namespace, model, dim)?;
        let threads = options.threads.max(1);
        let (ann, origin, replayed, rebuilt) = load_index(&db, &label, &index_path, dim, &options)?;
        let (rows, journal) = {
            let txn = db.begin_read().ctx(&label, "read")?;
            let rows = txn.open_table(VECTORS).ctx(&label, "read")?.len();
            let journal = txn.open_table(PENDING).ctx(&label, "read")?.len();
            (rows.ctx(&label, "read")?, journal.ctx(&label, "read")?)
        };
        let unsaved = journal > 0 || !matches!(origin, IndexOrigin::Snapshot);
        let stats = OpenStats {
            origin,
            rows: rows as usize,
            replayed,
            rebuilt,
            elapsed: Duration::ZERO,
        };
        let mut inner = Inner {
            namespace: namespace.to_string(),
            model: model.to_string(),
            dim,
            label,
            db,
            index_path,
            ann: RwLock::new(ann),
            writer: Mutex::new(()),
            journal: AtomicUsize::new(journal as usize),
            unsaved: AtomicBool::new(unsaved),
            out_of_sync: AtomicBool::new(false),
            search_slots: Arc::new(Semaphore::new(threads)),
            options,
            stats,
        };
        if let IndexOrigin::Rebuilt { reason } = &inner.stats.origin {
            tracing::warn!(
                "{}: rebuilt the HNSW index from {} stored vectors ({reason})",
                inner.label,
                inner.stats.rows
            );
            let writer = inner.lock_writer();
            if let Err(e) = inner.flush_locked(&writer) {
                tracing::warn!("{}: cannot save the rebuilt index: {e}", inner.label);
            }
        }
        inner.stats.elapsed = started.elapsed();
        tracing::debug!("{}: opened: {:?}", inner.label, inner.stats);
        Ok(EmbeddedVectorStore {
            inner: Arc::new(inner),
        })
    }

    /// Writes the index snapshot if it has unsaved changes, then clears the journal.
    /// Blocking (it writes the whole index file); cheap when nothing changed.
    pub fn flush(&self) -> Result<()> {
        let writer = self.inner.lock_writer();
        self.inner.flush_locked(&writer)
    }

    /// [`flush`](Self::flush) on tokio's blocking pool, for async callers.
    pub async fn flush_async(&self) -> Result<()> {
        let inner = self.inner.clone();
        run_blocking(move || {
            let writer = inner.lock_writer();
            inner.flush_locked(&writer)
        })
        .await
    }

    /// What the last open did: snapshot loaded and journal replayed, or full rebuild.
    pub fn last_open_stats(&self) -> OpenStats {
        self.inner.stats.clone()
    }

    /// The embedding model the set is bound to.
    pub fn model(&self) -> &str {
        &self.inner.model
    }

    /// The vector dimension the set is bound to.
    pub fn dim(&self) -> usize {
        self.inner.dim
    }

    /// Vectors in the set.
    pub fn len(&self) -> Result<usize> {
        let inner = &self.inner;
        let txn = inner.db.begin_read().ctx(&inner.label, "read")?;
        let table = txn.open_table(VECTORS).ctx(&inner.label, "read")?;
        Ok(table.len().ctx(&inner.label, "read")? as usize)
    }

    /// Whether the set holds no vector.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }

    /// Keys changed since the last snapshot (the journal's length).
    pub fn unsaved_changes(&self) -> usize {
        self.inner.journal.load(Ordering::SeqCst)
    }

    /// Vectors in the in-memory index (equals [`len`](Self::len) unless a write is under way).
    pub fn index_size(&self) -> usize {
        self.inner.read_ann().size()
    }

    /// Memory used by the in-memory index, in bytes.
    pub fn index_memory_bytes(&self) -> usize {
        self.inner.read_ann().memory_usage()
    }

    fn check_query(&self, vector: &[f32]) -> Result<()> {
        let inner = &self.inner;
        if vector.len() != inner.dim {
            return Err(Error::InvalidInput(format!(
                "{}: query vector has {} dims, expected {} ({})",
                inner.label,
                vector.len(),
                inner.dim,
                inner.model
            )));
        }
        if vector.iter().any(|x| !x.is_finite()) {
            return Err(Error::InvalidInput(format!(
                "{}: query vector has a non-finite component",
                inner.label
            )));
        }
        Ok(())
    }
}

/// Runs blocking work on tokio's blocking pool (inline outside a tokio runtime).
async fn run_blocking<T, F>(f: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T> + Send + 'static,
{
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => handle
            .spawn_blocking(f)
            .await
            .map_err(|e| crate::embedded::fail(format!("vector set task failed: {e}")))?,
        Err(_) => f(),
    }
}

#[async_trait]
impl VectorStore for EmbeddedVectorStore {
    fn namespace(&self) -> &str {
        &self.inner.namespace
    }

    async fn flush(&self) -> Result<()> {
        self.flush_async().await
    }

    async fn upsert(&self, records: Vec<VectorRecord>) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let inner = self.inner.clone();
        run_blocking(move || inner.upsert(records)).await
    }

    async fn query(&self, vector: &[f32], top_k: usize, threshold: f32) -> Result<Vec<VectorHit>> {
        self.check_query(vector)?;
        if top_k == 0 {
            return Ok(Vec::new());
        }
        let permit = self
            .inner
            .search_slots
            .clone()
            .acquire_owned()
            .await
            .ctx(&self.inner.label, "search slots")?;
        let inner = self.inner.clone();
        let query = vector.to_vec();
        run_blocking(move || {
            let _permit = permit;
            inner.query(&query, top_k, threshold)
        })
        .await
    }

    async fn delete(&self, ids: &[String]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let inner = self.inner.clone();
        let ids = ids.to_vec();
        run_blocking(move || inner.delete(&ids)).await
    }

    async fn get_vectors(&self, ids: &[String]) -> Result<HashMap<String, Vec<f32>>> {
        let inner = self.inner.clone();
        let ids = ids.to_vec();
        run_blocking(move || inner.get_vectors(&ids)).await
    }

    async fn get_meta(&self, ids: &[String]) -> Result<HashMap<String, Value>> {
        let inner = self.inner.clone();
        let ids = ids.to_vec();
        run_blocking(move || inner.get_meta(&ids)).await
    }

    async fn ids(&self) -> Result<Vec<String>> {
        let inner = self.inner.clone();
        run_blocking(move || inner.ids()).await
    }

    async fn clear(&self) -> Result<()> {
        let inner = self.inner.clone();
        run_blocking(move || inner.clear()).await
    }
}
