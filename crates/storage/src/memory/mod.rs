//! The in-memory backend: every port held in plain Rust collections behind locks.
//!
//! What it is for:
//!
//! * **Fast engine tests.** Opening it costs nothing and touches no disk, so a test of the
//!   engine can build a fresh knowledge base per case.
//! * **The model for adapter authors.** Each method does exactly what its port documents
//!   (see `lightrag_core::ports`), in the fewest lines that make that obvious: a new backend
//!   (PostgreSQL, ...) copies these semantics, and the behavioural suite in
//!   `crates/storage/tests/conformance/` checks that it did. Reads here scan and sort; a
//!   database answers the same questions from indexes (see the embedded store), but the
//!   answers must be the same.
//!
//! It is **not durable**: the data lives as long as the [`MemoryBackend`] (or a handle it
//! gave out) and dies with the process.
//!
//! # Sharing and reopening
//!
//! A [`MemoryBackend`] is cheap to clone; clones share the data. Every
//! [`MemoryBackend::open`] returns new handles over that same data, so "closing" (dropping the
//! [`Stores`]) and opening again sees everything written before, as a restart of a process
//! over a durable store would (within one process).
//!
//! # Consistency
//!
//! Each store keeps its data behind one lock. A batch is validated before anything is
//! written and then applied under one write lock, so it is atomic and readers see it whole
//! or not at all. No lock is held across an `.await`.
//!
//! # Model binding
//!
//! The three vector sets are bound to the embedding model and dimension of the first
//! `open`; a later `open` with another model or dimension fails with
//! [`Error::ModelMismatch`], as the embedded store does for a working directory.

mod doc_status;
mod graph;
mod kv;
mod vectors;

pub use doc_status::MemoryDocStatus;
pub use graph::MemoryGraph;
pub use kv::MemoryKv;
pub use vectors::MemoryVectorStore;

use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use lightrag_core::coordination::LocalCoordinator;
use lightrag_core::error::{Error, Result, StorageError, StorageErrorKind};
use lightrag_core::ports::Stores;

/// The backend name in this store's errors.
pub const BACKEND: &str = "memory";

/// The vector sets, by LightRAG namespace (the order of [`Stores`]' fields).
const VECTOR_SETS: [&str; 3] = ["chunks", "entities", "relationships"];

/// A failure of the in-memory store (retrying will not help).
fn fail(message: impl std::fmt::Display) -> Error {
    Error::Storage(StorageError::new(BACKEND, StorageErrorKind::Other, message))
}

/// A lock whose holder panicked: the data it guards may be half written.
fn poisoned<T>(_: PoisonError<T>) -> Error {
    fail("a task panicked while writing; the in-memory data can no longer be trusted")
}

/// Shared read access to a store's data.
fn read<T>(lock: &RwLock<T>) -> Result<RwLockReadGuard<'_, T>> {
    lock.read().map_err(poisoned)
}

/// Exclusive write access to a store's data.
fn write<T>(lock: &RwLock<T>) -> Result<RwLockWriteGuard<'_, T>> {
    lock.write().map_err(poisoned)
}

/// The vector sets and the model they are bound to.
struct VectorSets {
    model: String,
    dim: usize,
    sets: [Arc<RwLock<vectors::Set>>; 3],
}

/// Every store of one knowledge base, in memory (see the module documentation).
#[derive(Clone, Default)]
pub struct MemoryBackend {
    kv: Arc<RwLock<kv::Tables>>,
    doc_status: Arc<RwLock<doc_status::Rows>>,
    graph: Arc<RwLock<graph::Graph>>,
    /// `None` until the first `open` binds the vector sets to a model.
    vectors: Arc<Mutex<Option<VectorSets>>>,
}

impl std::fmt::Debug for MemoryBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryBackend").finish_non_exhaustive()
    }
}

impl MemoryBackend {
    /// An empty knowledge base.
    pub fn new() -> Self {
        Self::default()
    }

    /// New handles over this backend's data, the vector sets bound to `model` and `dim`.
    ///
    /// The first call binds the vector sets; a later call with another model or dimension
    /// fails with [`Error::ModelMismatch`] naming both, and changes nothing. A zero dimension
    /// is refused with [`Error::InvalidInput`].
    pub fn open(&self, model: &str, dim: usize) -> Result<Stores> {
        if dim == 0 {
            return Err(Error::InvalidInput(
                "in-memory vector sets: the dimension must be positive".into(),
            ));
        }
        let mut binding = self.vectors.lock().map_err(poisoned)?;
        let bound = binding.get_or_insert_with(|| VectorSets {
            model: model.to_string(),
            dim,
            sets: Default::default(),
        });
        if bound.model != model || bound.dim != dim {
            return Err(Error::ModelMismatch(format!(
                "the in-memory vector sets were built with {} ({} dims); the configured \
                 embedder is {model} ({dim} dims). They stay bound to the first model until \
                 the process ends: use that model",
                bound.model, bound.dim
            )));
        }
        let set = |i: usize| -> Arc<MemoryVectorStore> {
            Arc::new(MemoryVectorStore::new(
                VECTOR_SETS[i],
                model,
                dim,
                bound.sets[i].clone(),
            ))
        };
        let doc_status: Arc<dyn lightrag_core::ports::DocStatusStore> =
            Arc::new(MemoryDocStatus::new(self.doc_status.clone()));
        Ok(Stores {
            kv: Arc::new(MemoryKv::new(self.kv.clone())),
            coordinator: Arc::new(LocalCoordinator::new(doc_status.clone())),
            doc_status,
            graph: Arc::new(MemoryGraph::new(self.graph.clone())),
            chunks_vdb: set(0),
            entities_vdb: set(1),
            relationships_vdb: set(2),
        })
    }
}
