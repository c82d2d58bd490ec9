//! The embedded default storage: a working directory, zero external services.
//!
//! `lightrag.redb` holds key-value records, document status and the graph; `vdb_<set>.redb` and
//! `vdb_<set>.usearch` hold each vector set. A marker file, `lightrag-rs.json`, says which
//! format the directory is in, so a foreign or damaged directory is refused before anything in
//! it is written.

pub mod db;
pub mod doc_status;
pub mod graph;
pub mod kv;
pub mod vectors;

use std::path::Path;
use std::sync::Arc;

use lightrag_core::error::{Error, Result, StorageError, StorageErrorKind};
use lightrag_core::ports::{Stores, VectorStore};

use db::EmbeddedDb;
use doc_status::RedbDocStatus;
use graph::RedbGraph;
use kv::RedbKv;
use vectors::EmbeddedVectorStore;

/// The backend name in this store's errors.
pub const BACKEND: &str = "embedded";

/// A failure of the embedded store (retrying will not help).
pub(crate) fn fail(message: String) -> Error {
    Error::Storage(StorageError::new(BACKEND, StorageErrorKind::Other, message))
}

/// Damaged or foreign data in the working directory.
pub(crate) fn corrupt(message: String) -> Error {
    Error::Storage(StorageError::new(
        BACKEND,
        StorageErrorKind::Corrupt,
        message,
    ))
}

/// The marker file of a lightrag-rs working directory.
pub const MARKER_FILE: &str = "lightrag-rs.json";
/// The on-disk format version this build reads and writes.
pub const FORMAT_VERSION: u64 = 1;

/// The three vector sets, by LightRAG namespace.
pub const VECTOR_SETS: [&str; 3] = ["chunks", "entities", "relationships"];

/// Checks (or creates) the marker of a working directory.
fn check_marker(dir: &Path) -> Result<()> {
    let marker = dir.join(MARKER_FILE);
    if marker.exists() {
        let text = std::fs::read_to_string(&marker)
            .map_err(|e| fail(format!("cannot read {}: {e}", marker.display())))?;
        let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
            corrupt(format!(
                "{} is damaged ({e}); this working directory cannot be trusted",
                marker.display()
            ))
        })?;
        let version = v
            .get("format_version")
            .and_then(|x| x.as_u64())
            .unwrap_or(0);
        if version != FORMAT_VERSION {
            return Err(fail(format!(
                "{} uses storage format {version}; this lightrag build reads format {FORMAT_VERSION}",
                dir.display()
            )));
        }
        return Ok(());
    }
    let entries: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| {
            fail(format!(
                "cannot read working directory {}: {e}",
                dir.display()
            ))
        })?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    if entries
        .iter()
        .any(|n| n.starts_with("kv_store_") || n.starts_with("vdb_") && n.ends_with(".json"))
    {
        return Err(fail(format!(
            "{} is a LightRAG (Python) working directory; lightrag-rs keeps its own format. \
             Use another WORKING_DIR (or --working-dir) and insert the documents again",
            dir.display()
        )));
    }
    if entries.iter().any(|n| n == db::DB_FILE_NAME) {
        return Err(fail(format!(
            "{} has a database but no {MARKER_FILE}; it was not written by lightrag-rs or is damaged",
            dir.display()
        )));
    }
    let body = serde_json::json!({"format_version": FORMAT_VERSION, "created_by": concat!("lightrag-rs ", env!("CARGO_PKG_VERSION"))});
    std::fs::write(&marker, body.to_string())
        .map_err(|e| fail(format!("cannot write {}: {e}", marker.display())))
}

/// The embedded stores of one working directory, plus handles for maintenance.
pub struct EmbeddedStores {
    pub stores: Stores,
    pub vector_sets: Vec<Arc<EmbeddedVectorStore>>,
}

impl EmbeddedStores {
    /// Saves every vector index snapshot (also done on drop).
    pub async fn flush(&self) -> Result<()> {
        for v in &self.vector_sets {
            v.flush_async().await?;
        }
        Ok(())
    }
}

/// Opens (creating if needed) the embedded stores in `dir`, bound to an embedding model.
pub fn open(dir: &Path, model: &str, dim: usize) -> Result<EmbeddedStores> {
    std::fs::create_dir_all(dir).map_err(|e| {
        fail(format!(
            "cannot create working directory {}: {e}",
            dir.display()
        ))
    })?;
    check_marker(dir)?;
    let db = EmbeddedDb::open_in(dir)?;
    let mut sets = Vec::new();
    for ns in VECTOR_SETS {
        sets.push(Arc::new(EmbeddedVectorStore::open(dir, ns, model, dim)?));
    }
    let as_port = |i: usize| -> Arc<dyn VectorStore> { sets[i].clone() };
    let doc_status: Arc<dyn lightrag_core::ports::DocStatusStore> =
        Arc::new(RedbDocStatus::new(&db)?);
    let stores = Stores {
        kv: Arc::new(RedbKv::new(&db)),
        // One process at a time opens the directory: leases in memory are enough.
        coordinator: Arc::new(lightrag_core::coordination::LocalCoordinator::new(
            doc_status.clone(),
        )),
        doc_status,
        graph: Arc::new(RedbGraph::new(&db)?),
        chunks_vdb: as_port(0),
        entities_vdb: as_port(1),
        relationships_vdb: as_port(2),
    };
    Ok(EmbeddedStores {
        stores,
        vector_sets: sets,
    })
}
