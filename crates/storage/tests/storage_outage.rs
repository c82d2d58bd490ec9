//! A storage backend that goes away mid-insert: the document fails with a message naming the
//! backend and saying it is unavailable, and the next run takes it up again by itself, while a
//! failure a retry cannot fix stays failed. The backend here is the in-memory one with its KV
//! store made unavailable on demand (the real outage, PostgreSQL stopped mid-run, is in
//! conformance_postgres.rs).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use lightrag_core::pipeline::process::NoProgress;
use lightrag_core::pipeline::NewDocument;
use lightrag_core::ports::{KvStore, Namespace};
use lightrag_core::types::DocStatus;
use lightrag_core::{Error, Rag, Result, StorageError, StorageErrorKind};
use lightrag_storage::memory::MemoryBackend;
use serde_json::Value;

mod common;

/// A KV store whose writes fail as "unavailable" (or as "corrupt") while told to.
struct Flaky {
    inner: Arc<dyn KvStore>,
    down: AtomicBool,
    kind: StorageErrorKind,
}

impl Flaky {
    fn check(&self) -> Result<()> {
        if self.down.load(Ordering::SeqCst) {
            return Err(Error::Storage(StorageError::new(
                "testdb",
                self.kind,
                "cannot reach the database at 127.0.0.1:1",
            )));
        }
        Ok(())
    }
}

#[async_trait]
impl KvStore for Flaky {
    async fn get(&self, ns: Namespace, id: &str) -> Result<Option<Value>> {
        self.inner.get(ns, id).await
    }
    async fn get_many(&self, ns: Namespace, ids: &[String]) -> Result<Vec<Option<Value>>> {
        self.inner.get_many(ns, ids).await
    }
    async fn upsert(&self, ns: Namespace, items: Vec<(String, Value)>) -> Result<()> {
        if ns != Namespace::FullDocs {
            self.check()?;
        }
        self.inner.upsert(ns, items).await
    }
    async fn delete(&self, ns: Namespace, ids: &[String]) -> Result<()> {
        self.inner.delete(ns, ids).await
    }
    async fn keys(&self, ns: Namespace) -> Result<Vec<String>> {
        self.inner.keys(ns).await
    }
    async fn clear(&self, ns: Namespace) -> Result<()> {
        self.inner.clear(ns).await
    }
}

async fn engine(kind: StorageErrorKind) -> (Rag, Arc<Flaky>) {
    let mut stores = MemoryBackend::new().open("hashing", 32).unwrap();
    let flaky = Arc::new(Flaky {
        inner: stores.kv.clone(),
        down: AtomicBool::new(false),
        kind,
    });
    stores.kv = flaky.clone();
    let rag = common::engine(stores, 32, &[]);
    let doc = NewDocument {
        key: "ferry.txt".into(),
        content: "[Orin Lines] runs the ferry across [Lake Orin].".into(),
    };
    rag.enqueue(vec![doc], "track").await.unwrap();
    (rag, flaky)
}

#[tokio::test]
async fn an_unavailable_database_fails_the_document_and_the_next_run_resumes_it() {
    let (rag, db) = engine(StorageErrorKind::Unavailable).await;
    db.down.store(true, Ordering::SeqCst);
    let report = rag.process_pending(Arc::new(NoProgress)).await.unwrap();
    assert_eq!(report.failed.len(), 1);
    let (id, msg) = &report.failed[0];
    assert!(
        msg.contains("unavailable") && msg.contains("testdb") && msg.contains("127.0.0.1:1"),
        "{msg}"
    );
    let row = rag.stores().doc_status.get(id).await.unwrap().unwrap();
    assert_eq!(row.status, DocStatus::Failed);
    assert_eq!(row.error_msg.as_deref(), Some(msg.as_str()));

    // Back up: the next run takes the document up again, without a requeue.
    db.down.store(false, Ordering::SeqCst);
    let report = rag.process_pending(Arc::new(NoProgress)).await.unwrap();
    assert_eq!(report.processed, vec![id.clone()]);
    let row = rag.stores().doc_status.get(id).await.unwrap().unwrap();
    assert_eq!(row.status, DocStatus::Processed);
    assert!(!row.metadata.contains_key("retry_on_next_run"), "{row:?}");
    let nodes = rag
        .stores()
        .graph
        .get_nodes(&["Orin Lines".into(), "Lake Orin".into()])
        .await
        .unwrap();
    assert_eq!(nodes.len(), 2);
    assert!(rag.check().await.unwrap().is_clean());
}

#[tokio::test]
async fn a_failure_a_retry_cannot_fix_stays_failed() {
    let (rag, db) = engine(StorageErrorKind::Corrupt).await;
    db.down.store(true, Ordering::SeqCst);
    let report = rag.process_pending(Arc::new(NoProgress)).await.unwrap();
    assert_eq!(report.failed.len(), 1);
    db.down.store(false, Ordering::SeqCst);
    let report = rag.process_pending(Arc::new(NoProgress)).await.unwrap();
    assert!(report.processed.is_empty() && report.failed.is_empty());
    assert_eq!(rag.requeue_failed().await.unwrap(), 1);
    let report = rag.process_pending(Arc::new(NoProgress)).await.unwrap();
    assert_eq!(report.processed.len(), 1);
}
