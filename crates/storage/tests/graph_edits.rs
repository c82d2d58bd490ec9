//! Hand edits write tracking rows as merges do, so a later document delete removes exactly what
//! only that document supports: a hand-made entity survives, merged entities and moved
//! relations go with their last document.

use std::sync::Arc;

use async_trait::async_trait;
use lightrag_core::config::Settings;
use lightrag_core::graph_edit::EntityFields;
use lightrag_core::hashing::HashingEmbedder;
use lightrag_core::pipeline::process::NoProgress;
use lightrag_core::pipeline::NewDocument;
use lightrag_core::ports::Extractor;
use lightrag_core::types::{Chunk, ChunkExtraction, ExtractedEntity, ExtractedRelation};
use lightrag_core::{Rag, Result};
use lightrag_storage::memory::MemoryBackend;

/// `[Name]`s are entities; the names of one sentence are related.
struct Brackets;

#[async_trait]
impl Extractor for Brackets {
    fn identity(&self) -> String {
        "brackets-related".into()
    }
    async fn extract(&self, chunk: &Chunk) -> Result<ChunkExtraction> {
        let mut ex = ChunkExtraction::default();
        for sentence in chunk.content.split('.') {
            let names: Vec<&str> = sentence
                .split('[')
                .skip(1)
                .filter_map(|p| p.split(']').next())
                .collect();
            for n in &names {
                ex.entities.push(ExtractedEntity {
                    name: n.to_string(),
                    entity_type: "thing".into(),
                    description: format!("{n} appears: {}.", sentence.trim()),
                    source_id: chunk.id.clone(),
                    file_path: chunk.file_path.clone(),
                });
            }
            for w in names.windows(2) {
                ex.relations.push(ExtractedRelation {
                    src: w[0].to_string(),
                    tgt: w[1].to_string(),
                    description: format!("{} meets {}.", w[0], w[1]),
                    keywords: "meets".into(),
                    weight: 1.0,
                    source_id: chunk.id.clone(),
                    file_path: chunk.file_path.clone(),
                });
            }
        }
        Ok(ex)
    }
}

async fn engine_with(docs: &[(&str, &str)]) -> Rag {
    let mut s = Settings::default();
    s.set("EMBEDDING_BINDING", "hashing");
    s.set("EMBEDDING_DIM", "32");
    let stores = MemoryBackend::new().open("hashing", 32).unwrap();
    let rag = Rag::new(
        s.to_config().unwrap(),
        stores,
        Arc::new(HashingEmbedder::new(32)),
        Arc::new(Brackets),
    );
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
