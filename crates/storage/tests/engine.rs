//! The engine on the embedded default storage: insert, re-insert, replace, duplicates, delete,
//! resume after failures, drift checks, model binding, batched graph reads and the hub cap.
//!
//! Extraction is scripted: words in [brackets] are entities, and entities in one sentence are
//! related, so every expected node, edge and source id can be written down.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use lightrag_core::config::{Config, Settings};
use lightrag_core::hashing::HashingEmbedder;
use lightrag_core::pipeline::process::NoProgress;
use lightrag_core::pipeline::{EnqueueOutcome, NewDocument};
use lightrag_core::ports::{EmbedPurpose, Embedder, Extractor, GraphStore, Namespace, Stores};
use lightrag_core::query::{QueryMode, QueryParam};
use lightrag_core::types::{
    Chunk, ChunkExtraction, DocStatus, Entity, ExtractedEntity, ExtractedRelation, Relation,
};
use lightrag_core::{Error, Rag, Result};
use lightrag_storage::embedded;

/// Entities are `[Name]`; every pair in a sentence is related. Chunks containing `FAIL` fail
/// while `fail` is set. Counts calls.
#[derive(Default)]
struct Scripted {
    calls: AtomicUsize,
    fail: std::sync::atomic::AtomicBool,
}

#[async_trait]
impl Extractor for Scripted {
    fn identity(&self) -> String {
        "scripted-v1".into()
    }
    async fn extract(&self, chunk: &Chunk) -> Result<ChunkExtraction> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.fail.load(Ordering::SeqCst) && chunk.content.contains("FAIL") {
            return Err(Error::Extraction("scripted failure".into()));
        }
        let mut ex = ChunkExtraction::default();
        for sentence in chunk.content.split('.') {
            let names: Vec<String> = sentence
                .split('[')
                .skip(1)
                .filter_map(|p| p.split(']').next())
                .map(|n| n.trim().to_string())
                .filter(|n| !n.is_empty())
                .collect();
            for n in &names {
                ex.entities.push(ExtractedEntity {
                    name: n.clone(),
                    entity_type: "thing".into(),
                    description: format!("{} is mentioned: {}.", n, sentence.trim()),
                    source_id: chunk.id.clone(),
                    file_path: chunk.file_path.clone(),
                });
            }
            for i in 0..names.len() {
                for j in i + 1..names.len() {
                    if names[i] != names[j] {
                        ex.relations.push(ExtractedRelation {
                            src: names[i].clone(),
                            tgt: names[j].clone(),
                            keywords: "together".into(),
                            description: sentence.trim().to_string(),
                            weight: 1.0,
                            source_id: chunk.id.clone(),
                            file_path: chunk.file_path.clone(),
                        });
                    }
                }
            }
        }
        Ok(ex)
    }
}

fn config(dir: &Path, extra: &[(&str, &str)]) -> Config {
    let mut s = Settings::default();
    s.set("WORKING_DIR", dir.to_string_lossy());
    s.set("CHUNK_SIZE", "40");
    s.set("CHUNK_OVERLAP_SIZE", "0");
    for (k, v) in extra {
        s.set(k, *v);
    }
    s.to_config().expect("config")
}

struct Harness {
    rag: Rag,
    extractor: Arc<Scripted>,
    _stores: embedded::EmbeddedStores,
}

type Wrap = fn(Arc<dyn GraphStore>) -> Arc<dyn GraphStore>;

fn open(dir: &Path, extra: &[(&str, &str)], wrap_graph: Option<Wrap>) -> Harness {
    open_with(dir, extra, wrap_graph, Arc::new(HashingEmbedder::new(64)))
}

fn open_with(
    dir: &Path,
    extra: &[(&str, &str)],
    wrap_graph: Option<Wrap>,
    embedder: Arc<dyn Embedder>,
) -> Harness {
    let cfg = config(dir, extra);
    let opened = embedded::open(&cfg.data_dir(), "hashing-bow-64", 64).expect("open stores");
    let mut stores: Stores = opened.stores.clone();
    if let Some(wrap) = wrap_graph {
        stores.graph = wrap(stores.graph);
    }
    let extractor = Arc::new(Scripted::default());
    let rag = Rag::new(cfg, stores, embedder, extractor.clone());
    Harness {
        rag,
        extractor,
        _stores: opened,
    }
}

fn doc(key: &str, content: &str) -> NewDocument {
    NewDocument {
        key: key.into(),
        content: content.into(),
    }
}

const DOC_A: &str = "[Acme] builds rockets with [Jane Roe]. [Acme] is in [Ohio]. The weather in [Ohio] is cold in winter and warm in summer, said the report.";
const DOC_B: &str = "[Acme] sells rockets to [Boreal Air]. [Boreal Air] flies to [Oslo].";

async fn insert(h: &Harness, docs: Vec<NewDocument>) -> Vec<EnqueueOutcome> {
    let out = h.rag.enqueue(docs, "insert_test").await.expect("enqueue");
    let report = h
        .rag
        .process_pending(Arc::new(NoProgress))
        .await
        .expect("process");
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    out
}

async fn node(h: &Harness, name: &str) -> Option<Entity> {
    h.rag
        .stores()
        .graph
        .get_nodes(&[name.to_string()])
        .await
        .unwrap()
        .remove(name)
}

#[tokio::test]
async fn insert_reinsert_delete_keep_graph_and_vectors_consistent() {
    let dir = tempfile::tempdir().unwrap();
    let h = open(dir.path(), &[], None);
    let out = insert(&h, vec![doc("a.txt", DOC_A), doc("b.txt", DOC_B)]).await;
    assert!(matches!(out[0], EnqueueOutcome::Added { .. }));
    let acme = node(&h, "Acme").await.expect("Acme merged");
    let a_id = lightrag_core::ids::doc_id("a.txt");
    let b_id = lightrag_core::ids::doc_id("b.txt");
    assert!(acme.source_id.contains(&a_id) && acme.source_id.contains(&b_id));
    assert!(acme.file_path.contains("a.txt") && acme.file_path.contains("b.txt"));
    assert!(h.rag.check().await.unwrap().is_clean());

    // Re-inserting unchanged documents does nothing and extracts nothing.
    let calls = h.extractor.calls.load(Ordering::SeqCst);
    let out = insert(&h, vec![doc("a.txt", DOC_A)]).await;
    assert!(matches!(out[0], EnqueueOutcome::Unchanged { .. }));
    assert_eq!(h.extractor.calls.load(Ordering::SeqCst), calls);

    // Deleting A removes what only A supported and rebuilds what B still supports.
    let r = h.rag.delete_document(&a_id).await.unwrap();
    assert!(r.entities_deleted >= 2, "{r:?}");
    assert!(node(&h, "Jane Roe").await.is_none());
    assert!(node(&h, "Ohio").await.is_none());
    let acme = node(&h, "Acme").await.expect("Acme still supported by B");
    assert!(!acme.source_id.contains(&a_id));
    assert!(!acme.description.contains("Ohio"), "{}", acme.description);
    assert!(!acme.file_path.contains("a.txt"));
    let edges = h
        .rag
        .stores()
        .graph
        .get_edges(&[("Acme".into(), "Jane Roe".into())])
        .await
        .unwrap();
    assert!(edges.is_empty());
    let rows = h
        .rag
        .stores()
        .kv
        .get_many(Namespace::EntityChunks, &["Jane Roe".into()])
        .await
        .unwrap();
    assert!(rows[0].is_none());
    assert!(h
        .rag
        .stores()
        .doc_status
        .get(&a_id)
        .await
        .unwrap()
        .is_none());
    let report = h.rag.check().await.unwrap();
    assert!(report.is_clean(), "{report:?}");
    assert!(matches!(
        h.rag.delete_document(&a_id).await,
        Err(Error::NotFound(_))
    ));
}

#[tokio::test]
async fn changed_document_replaces_and_reuses_unchanged_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let h = open(dir.path(), &[], None);
    let long = format!("{DOC_A} {DOC_B} [Kappa] meets [Lambda].");
    insert(&h, vec![doc("a.txt", &long)]).await;
    let chunks = h
        .rag
        .stores()
        .doc_status
        .get(&lightrag_core::ids::doc_id("a.txt"))
        .await
        .unwrap()
        .unwrap()
        .chunks_count;
    assert!(chunks >= 2, "want several chunks, got {chunks}");
    let before = h.extractor.calls.load(Ordering::SeqCst);
    // Change only the end: the first chunk's text is unchanged.
    let changed = format!("{DOC_A} {DOC_B} [Kappa] meets [Mu].");
    let out = insert(&h, vec![doc("a.txt", &changed)]).await;
    assert!(matches!(out[0], EnqueueOutcome::Replaced { .. }));
    let extracted = h.extractor.calls.load(Ordering::SeqCst) - before;
    assert!(
        extracted < chunks,
        "re-extracted {extracted} of {chunks} chunks"
    );
    assert!(node(&h, "Lambda").await.is_none());
    assert!(node(&h, "Mu").await.is_some());
    assert!(h.rag.check().await.unwrap().is_clean());
}

#[tokio::test]
async fn duplicate_content_is_reported_not_lost() {
    let dir = tempfile::tempdir().unwrap();
    let h = open(dir.path(), &[], None);
    insert(&h, vec![doc("a.txt", DOC_A)]).await;
    let out = h
        .rag
        .enqueue(vec![doc("copy.txt", DOC_A)], "t")
        .await
        .unwrap();
    let EnqueueOutcome::Duplicate { doc_id, original } = &out[0] else {
        panic!("{out:?}")
    };
    assert_eq!(original, &lightrag_core::ids::doc_id("a.txt"));
    let row = h
        .rag
        .stores()
        .doc_status
        .get(doc_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, DocStatus::Failed);
    assert!(row
        .error_msg
        .unwrap()
        .starts_with("Identical content already exists under another filename."));
    assert_eq!(row.file_path, "copy.txt");
    // Processing skips duplicate rows and the original stays processed.
    let report = h.rag.process_pending(Arc::new(NoProgress)).await.unwrap();
    assert!(report.processed.is_empty() && report.failed.is_empty());
}

#[tokio::test]
async fn failed_chunk_fails_its_document_only_and_retry_reuses_finished_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let h = open(dir.path(), &[], None);
    h.extractor.fail.store(true, Ordering::SeqCst);
    let bad = format!("{DOC_B} [Zeta] joins [Eta] in the FAIL sentence.");
    h.rag
        .enqueue(vec![doc("good.txt", DOC_A), doc("bad.txt", &bad)], "t")
        .await
        .unwrap();
    let report = h.rag.process_pending(Arc::new(NoProgress)).await.unwrap();
    assert_eq!(report.processed.len(), 1);
    assert_eq!(report.failed.len(), 1);
    let bad_id = lightrag_core::ids::doc_id("bad.txt");
    let row = h
        .rag
        .stores()
        .doc_status
        .get(&bad_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, DocStatus::Failed);
    let msg = row.error_msg.unwrap();
    assert!(
        msg.contains("chunk-") && msg.contains("scripted failure"),
        "{msg}"
    );
    // Nothing of the failed document reached the graph.
    assert!(node(&h, "Boreal Air").await.is_none());

    // A retry extracts only the chunk that failed.
    h.extractor.fail.store(false, Ordering::SeqCst);
    let before = h.extractor.calls.load(Ordering::SeqCst);
    let out = h
        .rag
        .enqueue(vec![doc("bad.txt", &bad)], "t2")
        .await
        .unwrap();
    assert!(matches!(out[0], EnqueueOutcome::Requeued { .. }));
    let report = h.rag.process_pending(Arc::new(NoProgress)).await.unwrap();
    assert_eq!(report.processed, vec![bad_id.clone()]);
    assert_eq!(h.extractor.calls.load(Ordering::SeqCst) - before, 1);
    assert!(node(&h, "Zeta").await.is_some());
}

#[tokio::test]
async fn an_interrupted_document_resumes_to_the_same_graph() {
    let dir = tempfile::tempdir().unwrap();
    let h = open(dir.path(), &[], None);
    insert(&h, vec![doc("a.txt", DOC_A), doc("b.txt", DOC_B)]).await;
    let before = h
        .rag
        .export_graph(lightrag_core::export::GraphFormat::Json)
        .await
        .unwrap();
    // Simulate a crash after the merge but before the final status: the row says processing.
    let id = lightrag_core::ids::doc_id("b.txt");
    let mut row = h.rag.stores().doc_status.get(&id).await.unwrap().unwrap();
    row.status = DocStatus::Processing;
    h.rag
        .stores()
        .doc_status
        .upsert(vec![(id.clone(), row)])
        .await
        .unwrap();
    let calls = h.extractor.calls.load(Ordering::SeqCst);
    let report = h.rag.process_pending(Arc::new(NoProgress)).await.unwrap();
    assert_eq!(report.processed, vec![id]);
    assert_eq!(report.extraction_cache_hits, report.chunks);
    assert_eq!(
        h.extractor.calls.load(Ordering::SeqCst),
        calls,
        "no chunk extracted twice"
    );
    let after = h
        .rag
        .export_graph(lightrag_core::export::GraphFormat::Json)
        .await
        .unwrap();
    let strip = |s: &str| -> serde_json::Value {
        let mut v: serde_json::Value = serde_json::from_str(s).unwrap();
        for k in ["nodes", "edges"] {
            for x in v[k].as_array_mut().unwrap() {
                x.as_object_mut().unwrap().remove("created_at");
            }
        }
        v
    };
    assert_eq!(strip(&before), strip(&after));
}

#[tokio::test]
async fn vector_sets_refuse_another_model() {
    let dir = tempfile::tempdir().unwrap();
    {
        let h = open(dir.path(), &[], None);
        insert(&h, vec![doc("a.txt", DOC_A)]).await;
    }
    let err = embedded::open(dir.path(), "other-model", 64)
        .err()
        .expect("mismatch must fail");
    assert!(matches!(err, Error::ModelMismatch(_)), "{err}");
    let err = embedded::open(dir.path(), "hashing-bow-64", 32)
        .err()
        .expect("dimension mismatch must fail");
    assert!(err.to_string().contains("64"), "{err}");
    // The data is untouched: the original model still opens it.
    let h = open(dir.path(), &[], None);
    assert!(node(&h, "Acme").await.is_some());
}

#[tokio::test]
async fn every_mode_answers_with_references() {
    let dir = tempfile::tempdir().unwrap();
    let h = open(dir.path(), &[("COSINE_THRESHOLD", "0.0")], None);
    insert(&h, vec![doc("a.txt", DOC_A), doc("b.txt", DOC_B)]).await;
    for mode in [
        QueryMode::Naive,
        QueryMode::Local,
        QueryMode::Global,
        QueryMode::Hybrid,
        QueryMode::Mix,
    ] {
        let mut p = QueryParam::from_defaults(&h.rag.config().query);
        p.mode = mode;
        let r = h
            .rag
            .query("Who builds rockets with Acme?", &p)
            .await
            .unwrap();
        assert_eq!(r.status, "success", "{mode:?}");
        assert!(!r.data.references.is_empty(), "{mode:?} has no references");
        assert!(!r.data.chunks.is_empty(), "{mode:?} has no chunks");
        assert!(
            r.answer.contains("### References"),
            "{mode:?}: {}",
            r.answer
        );
        if mode != QueryMode::Naive {
            assert!(r.context.contains("Knowledge Graph Data (Entity):"));
        }
    }
    let mut p = QueryParam::from_defaults(&h.rag.config().query);
    p.mode = QueryMode::Bypass;
    let err = h.rag.query("Who builds rockets?", &p).await.unwrap_err();
    assert!(err.to_string().contains("no LLM is configured"));
    p.mode = QueryMode::Mix;
    assert!(h.rag.query("  ", &p).await.is_err());
}

/// Counts graph calls, to prove reads are batched per hop.
struct Counting {
    inner: Arc<dyn GraphStore>,
    calls: Mutex<HashMap<&'static str, usize>>,
}

impl Counting {
    fn hit(&self, name: &'static str) {
        *self.calls.lock().unwrap().entry(name).or_default() += 1;
    }
}

#[async_trait]
impl GraphStore for Counting {
    async fn get_nodes(&self, n: &[String]) -> Result<HashMap<String, Entity>> {
        self.hit("get_nodes");
        self.inner.get_nodes(n).await
    }
    async fn upsert_nodes(&self, n: Vec<Entity>) -> Result<()> {
        self.inner.upsert_nodes(n).await
    }
    async fn get_edges(
        &self,
        p: &[(String, String)],
    ) -> Result<HashMap<(String, String), Relation>> {
        self.hit("get_edges");
        self.inner.get_edges(p).await
    }
    async fn upsert_edges(&self, e: Vec<Relation>) -> Result<()> {
        self.inner.upsert_edges(e).await
    }
    async fn node_degrees(&self, n: &[String]) -> Result<HashMap<String, usize>> {
        self.hit("node_degrees");
        self.inner.node_degrees(n).await
    }
    async fn node_edges(&self, n: &[String], cap: usize) -> Result<HashMap<String, Vec<Relation>>> {
        self.hit("node_edges");
        self.inner.node_edges(n, cap).await
    }
    async fn remove_nodes(&self, n: &[String]) -> Result<()> {
        self.inner.remove_nodes(n).await
    }
    async fn remove_edges(&self, p: &[(String, String)]) -> Result<()> {
        self.inner.remove_edges(p).await
    }
    async fn node_count(&self) -> Result<usize> {
        self.inner.node_count().await
    }
    async fn edge_count(&self) -> Result<usize> {
        self.inner.edge_count().await
    }
    async fn all_nodes(&self) -> Result<Vec<Entity>> {
        self.inner.all_nodes().await
    }
    async fn all_edges(&self) -> Result<Vec<Relation>> {
        self.inner.all_edges().await
    }
    async fn labels(&self) -> Result<Vec<String>> {
        self.inner.labels().await
    }
    async fn search_labels(&self, needle: &str, limit: usize) -> Result<Vec<String>> {
        self.inner.search_labels(needle, limit).await
    }
    async fn top_labels(&self, limit: usize) -> Result<Vec<(String, usize)>> {
        self.inner.top_labels(limit).await
    }
    async fn clear(&self) -> Result<()> {
        self.inner.clear().await
    }
}

thread_local! {
    static COUNTER: std::cell::RefCell<Option<Arc<Counting>>> = const { std::cell::RefCell::new(None) };
}

#[tokio::test]
async fn graph_reads_are_batched_and_hubs_are_capped() {
    let dir = tempfile::tempdir().unwrap();
    // A hub: one entity related to 300 others, each in its own sentence.
    let mut text = String::new();
    for i in 0..300 {
        text.push_str(&format!("[Hub] meets [Spoke {i}]. "));
    }
    {
        let h = open(dir.path(), &[("CHUNK_SIZE", "1200")], None);
        insert(&h, vec![doc("hub.txt", &text)]).await;
    }
    fn wrap(inner: Arc<dyn GraphStore>) -> Arc<dyn GraphStore> {
        let c = Arc::new(Counting {
            inner,
            calls: Mutex::new(HashMap::new()),
        });
        COUNTER.with(|slot| *slot.borrow_mut() = Some(c.clone()));
        c
    }
    let h = open(
        dir.path(),
        &[("MAX_GRAPH_FANOUT", "10"), ("COSINE_THRESHOLD", "0.0")],
        Some(wrap),
    );
    let counting = COUNTER.with(|slot| slot.borrow().clone()).expect("wrapped");
    let mut p = QueryParam::from_defaults(&h.rag.config().query);
    p.mode = QueryMode::Local;
    p.top_k = 5;
    p.only_need_context = true;
    p.ll_keywords = vec!["Hub".into()];
    let r = h.rag.query("Who meets the hub?", &p).await.unwrap();
    let calls = counting.calls.lock().unwrap().clone();
    assert_eq!(calls.get("node_edges"), Some(&1), "{calls:?}");
    assert!(
        calls.values().sum::<usize>() <= 5,
        "one call per hop: {calls:?}"
    );
    // Each of the top_k entities contributes at most MAX_GRAPH_FANOUT edges: the hub's 300
    // edges never all come back.
    assert!(!r.data.relationships.is_empty());
    assert!(
        r.data.relationships.len() <= p.top_k * 10,
        "{}",
        r.data.relationships.len()
    );
}

#[tokio::test]
async fn without_an_llm_descriptions_stay_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let h = open(dir.path(), &[("CHUNK_SIZE", "12")], None);
    let text: String = (0..20)
        .map(|i| format!("[Delta] visited place number {i} today. "))
        .collect();
    insert(&h, vec![doc("d.txt", &text)]).await;
    let delta = node(&h, "Delta").await.unwrap();
    let fragments = delta.description.split("<SEP>").count();
    assert!(
        fragments <= 7,
        "{fragments} fragments: {}",
        delta.description
    );
    // Later mentions are still sources, so retrieval reaches them.
    assert!(
        delta.source_id.split("<SEP>").count() >= 14,
        "{}",
        delta.source_id
    );
    assert!(h.rag.check().await.unwrap().is_clean());
}

/// Hashing vectors, but the first calls that mention the hub take the longest, so documents
/// that merged the hub earlier finish embedding later than the ones after them.
struct SlowFirst {
    inner: HashingEmbedder,
    hub_calls: AtomicUsize,
}

#[async_trait]
impl Embedder for SlowFirst {
    fn model_name(&self) -> &str {
        self.inner.model_name()
    }
    fn dim(&self) -> usize {
        self.inner.dim()
    }
    async fn embed(&self, texts: &[String], purpose: EmbedPurpose) -> Result<Vec<Vec<f32>>> {
        if texts.iter().any(|t| t.starts_with("Hub\n")) {
            let k = self.hub_calls.fetch_add(1, Ordering::SeqCst) as u64;
            tokio::time::sleep(std::time::Duration::from_millis(
                60u64.saturating_sub(12 * k),
            ))
            .await;
        }
        self.inner.embed(texts, purpose).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_merges_leave_the_latest_vectors() {
    let dir = tempfile::tempdir().unwrap();
    let embedder = Arc::new(SlowFirst {
        inner: HashingEmbedder::new(64),
        hub_calls: AtomicUsize::new(0),
    });
    let h = open_with(
        dir.path(),
        &[
            ("MAX_PARALLEL_INSERT", "4"),
            ("ENABLE_EMBEDDING_CACHE", "false"),
        ],
        None,
        embedder,
    );
    let docs = (0..6)
        .map(|i| {
            doc(
                &format!("d{i}.txt"),
                &format!("[Hub] met [Guest {i}] on day {i}."),
            )
        })
        .collect();
    insert(&h, docs).await;
    let hub = node(&h, "Hub").await.unwrap();
    assert_eq!(hub.source_id.split("<SEP>").count(), 6, "{}", hub.source_id);
    let report = h.rag.check().await.unwrap();
    assert!(report.is_clean(), "{report:?}");
}

/// Hashing vectors, but the first call that embeds the hub sleeps, so a document's late vector
/// write can land after a graph edit made in the meantime.
struct SlowHubOnce {
    inner: HashingEmbedder,
    slept: std::sync::atomic::AtomicBool,
}

#[async_trait]
impl Embedder for SlowHubOnce {
    fn model_name(&self) -> &str {
        self.inner.model_name()
    }
    fn dim(&self) -> usize {
        self.inner.dim()
    }
    async fn embed(&self, texts: &[String], purpose: EmbedPurpose) -> Result<Vec<Vec<f32>>> {
        if texts.iter().any(|t| t.starts_with("Hub\n")) && !self.slept.swap(true, Ordering::SeqCst)
        {
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        }
        self.inner.embed(texts, purpose).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graph_edit_is_not_undone_by_a_merge_still_writing() {
    let dir = tempfile::tempdir().unwrap();
    let embedder = Arc::new(SlowHubOnce {
        inner: HashingEmbedder::new(64),
        slept: std::sync::atomic::AtomicBool::new(false),
    });
    let h = Arc::new(open_with(
        dir.path(),
        &[("ENABLE_EMBEDDING_CACHE", "false")],
        None,
        embedder,
    ));
    h.rag
        .enqueue(vec![doc("d.txt", "[Hub] met [Guest] on day one.")], "t")
        .await
        .unwrap();
    let worker = h.clone();
    let run = tokio::spawn(async move { worker.rag.process_pending(Arc::new(NoProgress)).await });
    // The merge is done well before the document's hub vector (300 ms) is written.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let fields = lightrag_core::api_support::graph_edit::EntityFields {
        description: Some("Edited by hand.".into()),
        ..Default::default()
    };
    h.rag
        .edit_entity("Hub", None, &fields, false)
        .await
        .unwrap();
    let report = run.await.unwrap().unwrap();
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(
        node(&h, "Hub").await.unwrap().description,
        "Edited by hand."
    );
    let check = h.rag.check().await.unwrap();
    assert!(check.is_clean(), "{check:?}");
}
