//! The same documents through the engine on every backend give the same knowledge base: the
//! same nodes and edges (descriptions, weights, source ids, file paths) and the same query
//! contexts in every mode. Embedded and memory always; PostgreSQL with the `postgres` feature
//! and LIGHTRAG_TEST_PG_URL (required when LIGHTRAG_TEST_SERVICES=1).

use std::path::Path;
use std::sync::Arc;

use lightrag_core::config::Settings;
use lightrag_core::pipeline::process::NoProgress;
use lightrag_core::pipeline::NewDocument;
use lightrag_core::ports::StoreHandle;
use lightrag_core::query::{QueryMode, QueryParam};
use lightrag_core::types::{Entity, Relation};
use lightrag_core::Rag;
use lightrag_storage::select::{self, Place, StorageConfig};

mod common;

const DIM: usize = 48;

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
    let rag = common::engine(stores, DIM, &[]);
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
    Settings::from_pairs(pairs)
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
