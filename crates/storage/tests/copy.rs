//! `lightrag migrate`'s copy through the ports: a knowledge base built on the embedded store,
//! copied to the in-memory backend and back into a fresh working directory, answers the same
//! and checks clean; a copy run again after an interruption writes only what is missing.

use std::sync::Arc;

use lightrag_core::pipeline::process::NoProgress;
use lightrag_core::pipeline::NewDocument;
use lightrag_core::ports::{Namespace, Stores};
use lightrag_core::query::{QueryMode, QueryParam};
use lightrag_core::types::DocStatus;
use lightrag_core::Rag;
use lightrag_storage::copy::{copy_all, Quiet};
use lightrag_storage::embedded;
use lightrag_storage::memory::MemoryBackend;

mod common;

const DIM: usize = 32;

fn rag(stores: Stores) -> Rag {
    common::engine(stores, DIM, &[])
}

async fn context(r: &Rag, mode: QueryMode) -> String {
    let mut p = QueryParam::from_defaults(&r.config().query);
    p.mode = mode;
    p.only_need_context = true;
    r.query("Who runs the ferry across Lake Orin?", &p)
        .await
        .unwrap()
        .context
}

#[tokio::test]
async fn embedded_to_memory_and_back_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let source = embedded::open(&dir.path().join("a"), "hashing", DIM).unwrap();
    let a = rag(source.stores.clone());
    let docs = [
        (
            "ferry.txt",
            "[Orin Lines] runs the ferry on [Lake Orin]. [Orin Lines] also runs [Orin Buses].",
        ),
        (
            "birds.txt",
            "The [Orin Bird Trust] counts herons on [Lake Orin].",
        ),
    ];
    a.enqueue(
        docs.iter()
            .map(|(k, c)| NewDocument {
                key: k.to_string(),
                content: c.to_string(),
            })
            .collect(),
        "t",
    )
    .await
    .unwrap();
    a.process_pending(Arc::new(NoProgress)).await.unwrap();

    let mem = MemoryBackend::new().open("hashing", DIM).unwrap();
    let first = copy_all(&source.stores, &mem, &Quiet).await.unwrap();
    assert!(first.written > 20 && first.already_there == 0, "{first:?}");
    let back = embedded::open(&dir.path().join("b"), "hashing", DIM).unwrap();
    copy_all(&mem, &back.stores, &Quiet).await.unwrap();

    let b = rag(back.stores.clone());
    let (ga, gb) = (source.stores.graph.clone(), back.stores.graph.clone());
    assert_eq!(ga.all_nodes().await.unwrap(), gb.all_nodes().await.unwrap());
    assert_eq!(ga.all_edges().await.unwrap(), gb.all_edges().await.unwrap());
    for ns in Namespace::ALL {
        assert_eq!(
            source.stores.kv.keys(ns).await.unwrap(),
            back.stores.kv.keys(ns).await.unwrap(),
            "{ns:?}"
        );
    }
    assert_eq!(
        a.stores()
            .doc_status
            .by_statuses(&DocStatus::ALL)
            .await
            .unwrap(),
        b.stores()
            .doc_status
            .by_statuses(&DocStatus::ALL)
            .await
            .unwrap()
    );
    for mode in [
        QueryMode::Naive,
        QueryMode::Local,
        QueryMode::Global,
        QueryMode::Mix,
    ] {
        let (ca, cb) = (context(&a, mode).await, context(&b, mode).await);
        assert!(ca.contains("Orin Lines"), "{mode:?}: {ca}");
        assert_eq!(ca, cb, "{mode:?}");
    }
    assert!(b.check().await.unwrap().is_clean());

    // Run again after an "interruption" (part of the target lost): only that is written.
    let names = vec!["Orin Buses".to_string()];
    back.stores.graph.remove_nodes(&names).await.unwrap();
    let again = copy_all(&mem, &back.stores, &Quiet).await.unwrap();
    assert!(again.written >= 1 && again.written <= 3, "{again:?}");
    assert_eq!(ga.all_edges().await.unwrap(), gb.all_edges().await.unwrap());
    assert!(b.check().await.unwrap().is_clean());
}
