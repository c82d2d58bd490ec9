//! What only the embedded store has: its files. One redb database per working directory,
//! opened once at a time, refused without being touched when it is not a lightrag-rs
//! database, and a marker file that says which format a directory is in.
//!
//! Everything the ports promise is checked on every backend by the behavioural suite
//! (`tests/conformance/`, run here by `conformance_embedded.rs`); the vector sets' index
//! snapshot and journal are tested in `vectors.rs`.

use lightrag_core::ports::{KvStore, Namespace};
use lightrag_core::{Error, StorageError};
use lightrag_storage::embedded::db::{EmbeddedDb, DB_FILE_NAME};
use lightrag_storage::embedded::kv::RedbKv;
use lightrag_storage::embedded::{self, MARKER_FILE};
use serde_json::json;

const MODEL: &str = "test-model";

/// The message of a storage error, or a panic naming what came instead.
fn storage_message(err: &Error) -> &str {
    let Error::Storage(StorageError { message, .. }) = err else {
        panic!("expected a storage error, got {err:?}");
    };
    message
}

#[tokio::test]
async fn the_database_is_opened_once_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = EmbeddedDb::open_in(dir.path()).unwrap();
        RedbKv::new(&db)
            .upsert(Namespace::FullDocs, vec![("d".into(), json!(1))])
            .await
            .unwrap();
        // A second open of the same file while it is open is refused.
        let err = EmbeddedDb::open_in(dir.path()).unwrap_err();
        storage_message(&err);
        let err = embedded::open(dir.path(), MODEL, 4).err().expect("refused");
        storage_message(&err);
    }
    // Closed: it opens again, with its data.
    let db = EmbeddedDb::open_in(dir.path()).unwrap();
    assert_eq!(
        RedbKv::new(&db)
            .get(Namespace::FullDocs, "d")
            .await
            .unwrap(),
        Some(json!(1))
    );
}

#[test]
fn a_garbage_file_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DB_FILE_NAME);
    let garbage: Vec<u8> = (0..10_000u32).map(|i| (i * 31 % 251) as u8).collect();
    std::fs::write(&path, &garbage).unwrap();

    let err = EmbeddedDb::open_in(dir.path()).unwrap_err();
    let msg = storage_message(&err);
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(msg.contains("damaged or not a lightrag-rs store"), "{msg}");
    assert_eq!(std::fs::read(&path).unwrap(), garbage);
}

#[test]
fn a_damaged_redb_file_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DB_FILE_NAME);
    {
        let _db = EmbeddedDb::open(&path).unwrap();
    }
    // Keep redb's magic number, scramble everything after it.
    let mut bytes = std::fs::read(&path).unwrap();
    for (i, b) in bytes.iter_mut().enumerate().skip(9) {
        *b = (i * 131 % 256) as u8;
    }
    std::fs::write(&path, &bytes).unwrap();

    let err = EmbeddedDb::open(&path).unwrap_err();
    storage_message(&err);
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
}

#[test]
fn the_marker_file_names_the_format() {
    let dir = tempfile::tempdir().unwrap();
    drop(embedded::open(dir.path(), MODEL, 4).unwrap());
    let marker = dir.path().join(MARKER_FILE);
    let body: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&marker).unwrap()).unwrap();
    assert_eq!(body["format_version"], json!(embedded::FORMAT_VERSION));
    // Reopening keeps it as it is.
    let before = std::fs::read(&marker).unwrap();
    drop(embedded::open(dir.path(), MODEL, 4).unwrap());
    assert_eq!(std::fs::read(&marker).unwrap(), before);
}

#[test]
fn a_foreign_or_damaged_directory_is_refused_and_left_alone() {
    // Another format version.
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join(MARKER_FILE);
    let future = json!({"format_version": embedded::FORMAT_VERSION + 1}).to_string();
    std::fs::write(&marker, &future).unwrap();
    let err = embedded::open(dir.path(), MODEL, 4).err().expect("refused");
    let msg = storage_message(&err);
    assert!(
        msg.contains(&format!("format {}", embedded::FORMAT_VERSION + 1)),
        "{msg}"
    );
    assert_eq!(std::fs::read_to_string(&marker).unwrap(), future);
    assert!(!dir.path().join(DB_FILE_NAME).exists());

    // A damaged marker.
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join(MARKER_FILE);
    std::fs::write(&marker, "{not json").unwrap();
    let err = embedded::open(dir.path(), MODEL, 4).err().expect("refused");
    assert!(storage_message(&err).contains(MARKER_FILE), "{err}");
    assert!(!dir.path().join(DB_FILE_NAME).exists());

    // A LightRAG (Python) working directory.
    let dir = tempfile::tempdir().unwrap();
    let python = dir.path().join("kv_store_full_docs.json");
    std::fs::write(&python, "{}").unwrap();
    let err = embedded::open(dir.path(), MODEL, 4).err().expect("refused");
    assert!(storage_message(&err).contains("LightRAG (Python)"), "{err}");
    assert!(!dir.path().join(MARKER_FILE).exists());
    assert_eq!(std::fs::read_to_string(&python).unwrap(), "{}");

    // A database without a marker.
    let dir = tempfile::tempdir().unwrap();
    drop(EmbeddedDb::open_in(dir.path()).unwrap());
    let err = embedded::open(dir.path(), MODEL, 4).err().expect("refused");
    assert!(storage_message(&err).contains(MARKER_FILE), "{err}");
    assert!(!dir.path().join(MARKER_FILE).exists());
}
