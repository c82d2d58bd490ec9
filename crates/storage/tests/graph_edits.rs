//! Hand edits write tracking rows as merges do, so a later document delete removes exactly what
//! only that document supports: a hand-made entity survives, merged entities and moved
//! relations go with their last document.

use std::sync::Arc;

use lightrag_core::graph_edit::EntityFields;
use lightrag_core::pipeline::process::NoProgress;
use lightrag_core::pipeline::NewDocument;
use lightrag_core::Rag;
use lightrag_storage::memory::MemoryBackend;

mod common;

async fn engine_with(docs: &[(&str, &str)]) -> Rag {
    let stores = MemoryBackend::new().open("hashing", 32).unwrap();
    let rag = common::engine(stores, 32, &[]);
    let docs = docs
        .iter()
        .map(|(k, c)| NewDocument {
            key: k.to_string(),
            content: c.to_string(),
        })
        .collect();
    rag.enqueue(docs, "t").await.unwrap();
    let report = rag.process_pending(Arc::new(NoProgress)).await.unwrap();
    assert!(report.failed.is_empty(), "{report:?}");
    rag
}

async fn names(rag: &Rag) -> Vec<String> {
    rag.stores().graph.labels().await.unwrap()
}

#[tokio::test]
async fn a_hand_made_entity_survives_the_delete_of_a_document_that_once_named_it() {
    let rag = engine_with(&[("a.txt", "[X] and [Y] meet at the pier.")]).await;
    rag.delete_entity("X").await.unwrap();
    let fields = EntityFields {
        description: Some("Made by hand.".into()),
        ..Default::default()
    };
    rag.create_entity("X", &fields).await.unwrap();
    rag.delete_document(&lightrag_core::ids::doc_id("a.txt"))
        .await
        .unwrap();
    assert_eq!(
        names(&rag).await,
        ["X"],
        "Y went with its document, X stays"
    );
    assert!(rag.check().await.unwrap().is_clean());
}

#[tokio::test]
async fn merged_entities_and_moved_relations_go_with_their_last_document() {
    let rag = engine_with(&[
        ("a.txt", "[X] and [Y] meet at the pier."),
        ("b.txt", "[Z] and [W] meet at the lake."),
    ])
    .await;
    // Y and Z become one entity T; its relations to X and W move to it.
    rag.merge_entities(&["Y".into(), "Z".into()], "T")
        .await
        .unwrap();
    assert_eq!(names(&rag).await, ["T", "W", "X"]);
    rag.delete_document(&lightrag_core::ids::doc_id("a.txt"))
        .await
        .unwrap();
    // T is still supported by b.txt (through Z); X and its relation to T went.
    assert_eq!(names(&rag).await, ["T", "W"]);
    let edges = rag.stores().graph.all_edges().await.unwrap();
    assert_eq!(
        edges.iter().map(|e| e.pair()).collect::<Vec<_>>(),
        [("T".to_string(), "W".to_string())]
    );
    rag.delete_document(&lightrag_core::ids::doc_id("b.txt"))
        .await
        .unwrap();
    assert_eq!(names(&rag).await, Vec::<String>::new());
    assert!(rag.check().await.unwrap().is_clean());
}
