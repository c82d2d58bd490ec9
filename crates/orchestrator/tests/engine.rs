//! The engine through the orchestrator: it indexes and answers as with any embedder, while its
//! concurrent embedding calls are merged into fewer, fuller batches.

mod support;

use std::sync::Arc;

use lightrag_core::config::Settings;
use lightrag_core::pipeline::process::NoProgress;
use lightrag_core::pipeline::NewDocument;
use lightrag_core::ports::Embedder;
use lightrag_core::query::{QueryMode, QueryParam};
use lightrag_core::Rag;
use lightrag_orchestrator::{BatchingEmbedder, OrchestratorConfig};
use lightrag_providers::offline::OfflineExtractor;
use lightrag_storage::embedded;
use support::{unique_model, Recording, DIM};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_indexes_and_queries_through_the_orchestrator() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Settings::default();
    s.set("WORKING_DIR", dir.path().to_string_lossy());
    s.set("EMBEDDING_BATCHING", "true");
    s.set("BATCH_PROCESSING_INTERVAL", "20");
    s.set("CHUNK_SIZE", "60");
    s.set("CHUNK_OVERLAP_SIZE", "0");
    let cfg = s.to_config().unwrap();
    let model = Recording::new(&unique_model("engine"));
    let settings = OrchestratorConfig::from_settings(
        model.model_name(),
        &lightrag_orchestrator::EmbeddingBatching::from_settings(&cfg.settings)
            .unwrap()
            .unwrap(),
        cfg.embedding_cache_size,
    )
    .unwrap();
    let orch = Arc::new(BatchingEmbedder::new(model.clone(), settings).unwrap());
    let stores = embedded::open(&cfg.data_dir(), orch.model_name(), DIM).unwrap();
    let rag = Rag::new(
        cfg.clone(),
        stores.stores.clone(),
        orch.clone(),
        Arc::new(OfflineExtractor::new()),
    );
    let docs: Vec<NewDocument> = [
        ("harbour.txt", "The Vell River Institute studies the Harbour of Ostra. Mara Lindqvist led the Institute after the flood of 1967. The Brightwater Hydro Corporation built the dam upstream."),
        ("accord.txt", "The Ostra Accord of 1984 was signed by the Vell River Institute and Brightwater Hydro Corporation. Mara Lindqvist negotiated the Accord in Ostra."),
        ("survey.txt", "The Upper Vell Expedition of 1958 mapped the valley. Its survey guided the Brightwater dam and the Institute's first flood models."),
    ]
    .into_iter()
    .map(|(k, c)| NewDocument {
        key: k.into(),
        content: c.into(),
    })
    .collect();
    rag.enqueue(docs, "orchestrator_test").await.unwrap();
    let report = rag.process_pending(Arc::new(NoProgress)).await.unwrap();
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    let mut p = QueryParam::from_defaults(&cfg.query);
    p.mode = QueryMode::Mix;
    let r = rag
        .query("Who negotiated the Ostra Accord?", &p)
        .await
        .unwrap();
    assert_eq!(r.status, "success", "{}", r.message);
    assert!(r.context.contains("Mara Lindqvist"), "{}", r.context);
    let m = orch.metrics();
    assert!(m.total_requests > 10, "{m:?}");
    assert_eq!(m.failed_requests, 0);
    assert!(
        (model.calls().len() as u64) < m.total_requests,
        "{} calls for {} texts",
        model.calls().len(),
        m.total_requests
    );
}
