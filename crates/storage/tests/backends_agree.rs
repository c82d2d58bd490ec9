//! The same documents through the engine on every backend give the same knowledge base: the
//! same nodes and edges (descriptions, weights, source ids, file paths) and the same query
//! contexts in every mode. Embedded and memory always; PostgreSQL with the `postgres` feature
//! and LIGHTRAG_TEST_PG_URL (required when LIGHTRAG_TEST_SERVICES=1).

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use lightrag_core::config::Settings;
use lightrag_core::hashing::HashingEmbedder;
use lightrag_core::pipeline::process::NoProgress;
use lightrag_core::pipeline::NewDocument;
use lightrag_core::ports::{Extractor, StoreHandle};
use lightrag_core::query::{QueryMode, QueryParam};
use lightrag_core::types::{
    Chunk, ChunkExtraction, Entity, ExtractedEntity, ExtractedRelation, Relation,
};
use lightrag_core::{Rag, Result};
use lightrag_storage::select::{self, Place, StorageConfig};

const DIM: usize = 48;

/// `[Name]`s are entities; the names of one sentence are related, weight by their distance.
struct Brackets;

#[async_trait]
impl Extractor for Brackets {
    fn identity(&self) -> String {
        "brackets-agree".into()
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
                    description: format!("{n}: {}.", sentence.trim()),
                    source_id: chunk.id.clone(),
                    file_path: chunk.file_path.clone(),
                });
            }
            for (i, a) in names.iter().enumerate() {
                for (j, b) in names.iter().enumerate().skip(i + 1) {
                    ex.relations.push(ExtractedRelation {
                        src: a.to_string(),
                        tgt: b.to_string(),
                        description: format!("{a} and {b}: {}.", sentence.trim()),
                        keywords: "together".into(),
                        weight: 1.0 / (j - i) as f64,
                        source_id: chunk.id.clone(),
                        file_path: chunk.file_path.clone(),
                    });
                }
            }
        }
        Ok(ex)
    }
}

const DOCS: [(&str, &str); 4] = [
    ("ferry.txt", "[Orin Lines] runs the ferry across [Lake Orin] to [Harrowmere]. The ferry of [Orin Lines] leaves at dawn."),
    ("birds.txt", "The [Orin Bird Trust] counts herons on [Lake Orin] every spring. [Mara Vellin] leads the [Orin Bird Trust]."),
    ("town.txt", "[Harrowmere] has a market by [Lake Orin]. [Mara Vellin] was born in [Harrowmere]."),
    ("bus.txt", "[Orin Lines] also runs buses from [Harrowmere] to the [Vell River Institute]."),
];

/// Builds the knowledge base on the stores `settings` choose, in `dir` / `workspace`.
async fn build(settings: &Settings, dir: &Path, workspace: &str) -> (Rag, Arc<dyn StoreHandle>) {
    let storage = StorageConfig::from_settings(settings).unwrap();
    let place = Place {
        data_dir: dir,
        workspace,
    };
    let (stores, handle) = select::open(&storage, place, "hashing", DIM).await.unwrap();
    let mut s = settings.clone();
    s.set("EMBEDDING_BINDING", "hashing");
    s.set("EMBEDDING_DIM", DIM.to_string());
    // One document at a time: merge order (and so the order of description fragments) must
    // not depend on which backend answered first.
    s.set("MAX_PARALLEL_INSERT", "1");
    let rag = Rag::new(
        s.to_config().unwrap(),
        stores,
        Arc::new(HashingEmbedder::new(DIM)),
        Arc::new(Brackets),
    );
    let docs = DOCS
        .iter()
        .map(|(k, c)| NewDocument {
            key: k.to_string(),
            content: c.to_string(),
        })
        .collect();
    rag.enqueue(docs, "agree").await.unwrap();
    let report = rag.process_pending(Arc::new(NoProgress)).await.unwrap();
    assert!(report.failed.is_empty(), "{report:?}");
    (rag, handle)
}

/// Everything the graph holds but the merge timestamps.
async fn graph(rag: &Rag) -> (Vec<Entity>, Vec<Relation>) {
    let mut nodes = rag.stores().graph.all_nodes().await.unwrap();
    let mut edges = rag.stores().graph.all_edges().await.unwrap();
    nodes.iter_mut().for_each(|n| n.created_at = 0);
    edges.iter_mut().for_each(|e| e.created_at = 0);
    (nodes, edges)
}

async fn contexts(rag: &Rag) -> Vec<String> {
    let mut out = Vec::new();
    for q in [
        "Who runs the ferry across Lake Orin?",
        "What does Mara Vellin lead?",
    ] {
        for mode in [
            QueryMode::Naive,
            QueryMode::Local,
            QueryMode::Global,
            QueryMode::Hybrid,
            QueryMode::Mix,
        ] {
            let mut p = QueryParam::from_defaults(&rag.config().query);
            p.mode = mode;
            p.only_need_context = true;
            out.push(rag.query(q, &p).await.unwrap().context);
        }
    }
    out
}

fn with(pairs: &[(&str, &str)]) -> Settings {
    let mut s = Settings::default();
    for (k, v) in pairs {
        s.set(k, *v);
    }
    s
}

/// PostgreSQL's settings for the test, when it is there to test.
fn postgres() -> Option<Settings> {
    let url = std::env::var("LIGHTRAG_TEST_PG_URL")
        .ok()
        .filter(|u| !u.is_empty());
    let required = std::env::var("LIGHTRAG_TEST_SERVICES").as_deref() == Ok("1");
    if !cfg!(feature = "postgres") {
        assert!(
            !(required && url.is_some()),
            "LIGHTRAG_TEST_PG_URL is set but lightrag-storage was built without `postgres`"
        );
        return None;
    }
    let Some(url) = url else {
        assert!(
            !required,
            "LIGHTRAG_TEST_SERVICES=1 but LIGHTRAG_TEST_PG_URL is not set"
        );
        eprintln!(
            "PostgreSQL not configured (LIGHTRAG_TEST_PG_URL): comparing embedded and memory only"
        );
        return None;
    };
    Some(with(&[
        ("DATABASE_URL", url.as_str()),
        ("POSTGRES_SSL_MODE", "disable"),
        ("LIGHTRAG_KV_STORAGE", "PGKVStorage"),
        ("LIGHTRAG_DOC_STATUS_STORAGE", "PGDocStatusStorage"),
        ("LIGHTRAG_GRAPH_STORAGE", "PGGraphStorage"),
        ("LIGHTRAG_VECTOR_STORAGE", "PGVectorStorage"),
    ]))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_backend_builds_the_same_knowledge_base() {
    let dir = tempfile::tempdir().unwrap();
    let (reference, ref_handle) =
        build(&Settings::default(), &dir.path().join("embedded"), "").await;
    let expected_graph = graph(&reference).await;
    let expected_contexts = contexts(&reference).await;
    assert_eq!(expected_graph.0.len(), 6, "{:?}", expected_graph.0);
    assert!(expected_contexts.iter().any(|c| c.contains("Orin Lines")));

    let mut others = vec![(
        "memory",
        with(&[
            ("LIGHTRAG_KV_STORAGE", "MemoryKVStorage"),
            ("LIGHTRAG_DOC_STATUS_STORAGE", "MemoryDocStatusStorage"),
            ("LIGHTRAG_GRAPH_STORAGE", "MemoryGraphStorage"),
            ("LIGHTRAG_VECTOR_STORAGE", "MemoryVectorStorage"),
        ]),
    )];
    if let Some(pg) = postgres() {
        others.push(("postgres", pg));
    }
    let workspace = format!("agree_{}", std::process::id());
    for (name, settings) in others {
        let (rag, handle) = build(&settings, &dir.path().join(name), &workspace).await;
        assert_eq!(graph(&rag).await, expected_graph, "{name}: graph");
        assert_eq!(contexts(&rag).await, expected_contexts, "{name}: contexts");
        rag.clear_workspace().await.unwrap();
        handle.close().await.unwrap();
    }
    ref_handle.close().await.unwrap();
}
