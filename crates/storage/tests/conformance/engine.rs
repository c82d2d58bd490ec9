//! The engine on the backend: insert, re-insert, replace, duplicates, delete, resume after
//! failures and kills, drift checks and repair, model binding, batched graph reads, browsing
//! and maintenance.
//!
//! Extraction is scripted: words in [brackets] are entities, and entities in one sentence are
//! related, so every expected node, edge and source id can be written down.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use lightrag_core::config::{Config, Settings};
use lightrag_core::export::GraphFormat;
use lightrag_core::hashing::HashingEmbedder;
use lightrag_core::ids::{doc_id, entity_vector_id, relation_vector_id};
use lightrag_core::maintenance::ClearReport;
use lightrag_core::pipeline::process::NoProgress;
use lightrag_core::pipeline::{EnqueueOutcome, NewDocument};
use lightrag_core::ports::{
    DocPageRequest, DocSort, EmbedPurpose, Embedder, Extractor, GraphStore, Namespace, Stores,
};
use lightrag_core::query::{QueryMode, QueryParam};
use lightrag_core::types::{
    Chunk, ChunkExtraction, DocStatus, Entity, ExtractedEntity, ExtractedRelation, Relation,
};
use lightrag_core::{Error, Rag, Result};
use serde_json::json;

use super::{ids, pair, pairs, strings, Backend};

/// The dimension of the hashing embedder the engine cases use.
pub const EMBED_DIM: usize = 64;

/// Entities are `[Name]`; every pair in a sentence is related. Chunks containing `FAIL` fail
/// while `fail` is set; chunks containing `STALL` never finish while `stall` is set. Counts
/// calls.
#[derive(Default)]
pub struct Scripted {
    pub calls: AtomicUsize,
    pub fail: AtomicBool,
    pub stall: AtomicBool,
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
        if self.stall.load(Ordering::SeqCst) && chunk.content.contains("STALL") {
            std::future::pending::<()>().await;
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

/// Small chunks (40 tokens, no overlap) so documents have several; `extra` overrides.
/// The working directory is never touched: the backend holds the data.
pub fn config(extra: &[(&str, &str)]) -> Config {
    let mut s = Settings::default();
    s.set("CHUNK_SIZE", "40");
    s.set("CHUNK_OVERLAP_SIZE", "0");
    // A killed run's leases free its documents for a new process after this.
    s.set("DOCUMENT_LEASE_TTL", "1");
    for (k, v) in extra {
        s.set(k, *v);
    }
    s.to_config().expect("config")
}

/// An engine on one open of the backend, with its scripted extractor.
pub struct Harness {
    pub rag: Rag,
    pub extractor: Arc<Scripted>,
}

/// The hashing embedder every engine case uses (unless it wraps it).
pub fn embedder() -> Arc<HashingEmbedder> {
    Arc::new(HashingEmbedder::new(EMBED_DIM))
}

/// An engine on the backend with the hashing embedder and a new scripted extractor.
pub async fn open(backend: &dyn Backend, extra: &[(&str, &str)]) -> Harness {
    open_with(backend, extra, embedder(), Arc::new(Scripted::default())).await
}

/// An engine on the backend with the given embedder and extractor.
pub async fn open_with(
    backend: &dyn Backend,
    extra: &[(&str, &str)],
    embedder: Arc<dyn Embedder>,
    extractor: Arc<Scripted>,
) -> Harness {
    let stores = backend
        .open(embedder.model_name(), embedder.dim())
        .await
        .unwrap_or_else(|e| panic!("{}: open: {e}", backend.name()));
    harness(stores, extra, embedder, extractor)
}

/// An engine on stores already open (to wrap one of them).
pub fn harness(
    stores: Stores,
    extra: &[(&str, &str)],
    embedder: Arc<dyn Embedder>,
    extractor: Arc<Scripted>,
) -> Harness {
    let rag = Rag::new(config(extra), stores, embedder, extractor.clone());
    Harness { rag, extractor }
}

pub fn doc(key: &str, content: &str) -> NewDocument {
    NewDocument {
        key: key.into(),
        content: content.into(),
    }
}

pub const DOC_A: &str = "[Acme] builds rockets with [Jane Roe]. [Acme] is in [Ohio]. The weather in [Ohio] is cold in winter and warm in summer, said the report.";
pub const DOC_B: &str = "[Acme] sells rockets to [Boreal Air]. [Boreal Air] flies to [Oslo].";

/// Enqueues and processes; every document must succeed.
pub async fn insert(h: &Harness, docs: Vec<NewDocument>) -> Vec<EnqueueOutcome> {
    let out = h.rag.enqueue(docs, "insert_test").await.expect("enqueue");
    let report = h
        .rag
        .process_pending(Arc::new(NoProgress))
        .await
        .expect("process");
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    out
}

pub async fn node(h: &Harness, name: &str) -> Option<Entity> {
    h.rag
        .stores()
        .graph
        .get_nodes(&[name.to_string()])
        .await
        .unwrap()
        .remove(name)
}

/// Every node name, sorted.
pub async fn labels(h: &Harness) -> Vec<String> {
    h.rag.stores().graph.labels().await.unwrap()
}

/// Every edge's sorted pair, sorted.
pub async fn edge_pairs(h: &Harness) -> Vec<(String, String)> {
    pairs(&h.rag.stores().graph.all_edges().await.unwrap())
}

/// The chunk ids of a document, from its status row.
pub async fn chunk_ids(h: &Harness, id: &str) -> Vec<String> {
    h.rag
        .stores()
        .doc_status
        .get(id)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no status row {id}"))
        .chunks_list
}

/// Asserts that `check` finds nothing and returns the expected sizes of the three sets.
pub async fn assert_clean(h: &Harness) -> [usize; 3] {
    let report = h.rag.check().await.unwrap();
    assert!(report.is_clean(), "{report:?}");
    assert!(report.interrupted_documents.is_empty(), "{report:?}");
    let sizes: Vec<(usize, usize)> = report
        .vector_sets
        .iter()
        .map(|d| (d.expected, d.stored))
        .collect();
    for (expected, stored) in &sizes {
        assert_eq!(expected, stored, "{report:?}");
    }
    [sizes[0].0, sizes[1].0, sizes[2].0]
}

/// The graph as JSON without the merge times.
pub async fn graph_json(h: &Harness) -> serde_json::Value {
    let text = h.rag.export_graph(GraphFormat::Json).await.unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    for k in ["nodes", "edges"] {
        for x in v[k].as_array_mut().unwrap() {
            x.as_object_mut().unwrap().remove("created_at");
        }
    }
    v
}

fn names(xs: &[&str]) -> Vec<String> {
    strings(xs)
}

const AB_NODES: [&str; 5] = ["Acme", "Boreal Air", "Jane Roe", "Ohio", "Oslo"];

fn ab_edges() -> Vec<(String, String)> {
    vec![
        pair("Acme", "Boreal Air"),
        pair("Acme", "Jane Roe"),
        pair("Acme", "Ohio"),
        pair("Boreal Air", "Oslo"),
    ]
}

pub async fn engine_insert_reinsert_delete(backend: &dyn Backend) {
    let h = open(backend, &[]).await;
    let a_id = doc_id("a.txt");
    let b_id = doc_id("b.txt");
    let out = insert(&h, vec![doc("a.txt", DOC_A), doc("b.txt", DOC_B)]).await;
    assert_eq!(
        out,
        vec![
            EnqueueOutcome::Added {
                doc_id: a_id.clone()
            },
            EnqueueOutcome::Added {
                doc_id: b_id.clone()
            },
        ]
    );
    assert_eq!(labels(&h).await, names(&AB_NODES));
    assert_eq!(edge_pairs(&h).await, ab_edges());
    let (a_chunks, b_chunks) = (chunk_ids(&h, &a_id).await, chunk_ids(&h, &b_id).await);
    let acme = node(&h, "Acme").await.expect("Acme merged");
    let sources: BTreeSet<&str> = acme.source_id.split("<SEP>").collect();
    assert!(
        sources.iter().any(|s| s.starts_with(&a_id)),
        "{}",
        acme.source_id
    );
    assert!(
        sources.iter().any(|s| s.starts_with(&b_id)),
        "{}",
        acme.source_id
    );
    assert_eq!(
        acme.file_path.split("<SEP>").collect::<BTreeSet<_>>(),
        BTreeSet::from(["a.txt", "b.txt"])
    );
    let chunk_count = a_chunks.len() + b_chunks.len();
    assert_eq!(assert_clean(&h).await, [chunk_count, 5, 4]);
    let counts = h.rag.stores().doc_status.counts().await.unwrap();
    assert_eq!(counts[&DocStatus::Processed], 2);

    // Re-inserting an unchanged document does nothing and extracts nothing.
    let calls = h.extractor.calls.load(Ordering::SeqCst);
    let out = insert(&h, vec![doc("a.txt", DOC_A)]).await;
    assert_eq!(
        out,
        vec![EnqueueOutcome::Unchanged {
            doc_id: a_id.clone()
        }]
    );
    assert_eq!(h.extractor.calls.load(Ordering::SeqCst), calls);

    // Deleting A removes what only A supported and rebuilds what B still supports.
    let r = h.rag.delete_document(&a_id).await.unwrap();
    assert_eq!(
        (
            r.doc_id.as_str(),
            r.chunks,
            r.entities_deleted,
            r.relations_deleted
        ),
        (a_id.as_str(), a_chunks.len(), 2, 2),
        "{r:?}"
    );
    assert_eq!(labels(&h).await, names(&["Acme", "Boreal Air", "Oslo"]));
    assert_eq!(
        edge_pairs(&h).await,
        vec![pair("Acme", "Boreal Air"), pair("Boreal Air", "Oslo")]
    );
    let acme = node(&h, "Acme").await.expect("Acme still supported by B");
    assert!(
        acme.source_id.split("<SEP>").all(|s| s.starts_with(&b_id)),
        "{}",
        acme.source_id
    );
    assert!(!acme.description.contains("Ohio"), "{}", acme.description);
    assert_eq!(acme.file_path, "b.txt");
    let st = h.rag.stores();
    assert_eq!(st.entities_vdb.ids().await.unwrap(), {
        let mut v: Vec<String> = ["Acme", "Boreal Air", "Oslo"]
            .map(entity_vector_id)
            .to_vec();
        v.sort();
        v
    });
    assert_eq!(st.relationships_vdb.ids().await.unwrap(), {
        let mut v = vec![
            relation_vector_id("Acme", "Boreal Air"),
            relation_vector_id("Boreal Air", "Oslo"),
        ];
        v.sort();
        v
    });
    let mut want_chunks = b_chunks.clone();
    want_chunks.sort();
    assert_eq!(st.chunks_vdb.ids().await.unwrap(), want_chunks);
    assert_eq!(
        st.kv.keys(Namespace::TextChunks).await.unwrap(),
        want_chunks
    );
    assert_eq!(
        st.kv.keys(Namespace::FullDocs).await.unwrap(),
        vec![b_id.clone()]
    );
    assert_eq!(
        st.kv
            .get_many(Namespace::EntityChunks, &names(&["Jane Roe", "Ohio"]))
            .await
            .unwrap(),
        vec![None, None]
    );
    assert_eq!(st.doc_status.get(&a_id).await.unwrap(), None);
    assert_eq!(
        st.doc_status.counts().await.unwrap()[&DocStatus::Processed],
        1
    );
    assert_eq!(assert_clean(&h).await, [b_chunks.len(), 3, 2]);
    assert!(matches!(
        h.rag.delete_document(&a_id).await,
        Err(Error::NotFound(_))
    ));
}

pub async fn engine_every_mode_answers_with_references(backend: &dyn Backend) {
    let h = open(backend, &[("COSINE_THRESHOLD", "0.0")]).await;
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
        let files: BTreeSet<&str> = r
            .data
            .references
            .iter()
            .map(|x| x.file_path.as_str())
            .collect();
        assert!(!files.is_empty(), "{mode:?} has no references");
        assert!(
            files.is_subset(&BTreeSet::from(["a.txt", "b.txt"])),
            "{mode:?}: {files:?}"
        );
        assert!(!r.data.chunks.is_empty(), "{mode:?} has no chunks");
        assert!(
            r.answer.contains("### References"),
            "{mode:?}: {}",
            r.answer
        );
        if mode != QueryMode::Naive {
            assert!(
                r.context.contains("Knowledge Graph Data (Entity):"),
                "{mode:?}"
            );
            assert!(!r.data.entities.is_empty(), "{mode:?}");
        }
    }
    let mut p = QueryParam::from_defaults(&h.rag.config().query);
    p.mode = QueryMode::Bypass;
    let err = h.rag.query("Who builds rockets?", &p).await.unwrap_err();
    assert!(err.to_string().contains("no LLM is configured"), "{err}");
    p.mode = QueryMode::Mix;
    assert!(matches!(
        h.rag.query("  ", &p).await,
        Err(Error::InvalidInput(_))
    ));
}

pub async fn engine_changed_document_replaces_it(backend: &dyn Backend) {
    let h = open(backend, &[]).await;
    let id = doc_id("a.txt");
    let long = format!("{DOC_A} {DOC_B} [Kappa] meets [Lambda].");
    insert(&h, vec![doc("a.txt", &long)]).await;
    let chunks = chunk_ids(&h, &id).await.len();
    assert!(chunks >= 2, "want several chunks, got {chunks}");
    assert!(node(&h, "Lambda").await.is_some());
    let before = h.extractor.calls.load(Ordering::SeqCst);
    // Change only the end: the first chunks' text is unchanged, so their extraction is reused.
    let changed = format!("{DOC_A} {DOC_B} [Kappa] meets [Mu].");
    let out = insert(&h, vec![doc("a.txt", &changed)]).await;
    assert_eq!(out, vec![EnqueueOutcome::Replaced { doc_id: id.clone() }]);
    let extracted = h.extractor.calls.load(Ordering::SeqCst) - before;
    assert!(
        extracted < chunks,
        "re-extracted {extracted} of {chunks} chunks"
    );
    let mut want = names(&AB_NODES);
    want.extend(names(&["Kappa", "Mu"]));
    want.sort();
    assert_eq!(labels(&h).await, want);
    // A chunk boundary cuts "[Acme] sells rockets to [Boreal Air]": no Acme-Boreal Air edge.
    assert_eq!(
        edge_pairs(&h).await,
        vec![
            pair("Acme", "Jane Roe"),
            pair("Acme", "Ohio"),
            pair("Boreal Air", "Oslo"),
            pair("Kappa", "Mu"),
        ]
    );
    assert_eq!(
        h.rag.stores().doc_status.counts().await.unwrap()[&DocStatus::Processed],
        1
    );
    assert_eq!(
        h.rag.stores().kv.keys(Namespace::FullDocs).await.unwrap(),
        vec![id.clone()]
    );
    let n = chunk_ids(&h, &id).await.len();
    assert_eq!(assert_clean(&h).await, [n, 7, 4]);
}

pub async fn engine_duplicate_content_is_reported(backend: &dyn Backend) {
    let h = open(backend, &[]).await;
    insert(&h, vec![doc("a.txt", DOC_A)]).await;
    let original_id = doc_id("a.txt");
    let out = h
        .rag
        .enqueue(vec![doc("copy.txt", DOC_A)], "t-dup")
        .await
        .unwrap();
    let dup_id = lightrag_core::pipeline::enqueue::duplicate_row_id("copy.txt", DOC_A);
    assert_eq!(
        out,
        vec![EnqueueOutcome::Duplicate {
            doc_id: dup_id.clone(),
            original: original_id.clone(),
        }]
    );
    let st = h.rag.stores();
    let row = st.doc_status.get(&dup_id).await.unwrap().unwrap();
    assert_eq!(row.status, DocStatus::Failed);
    assert!(row
        .error_msg
        .as_deref()
        .unwrap()
        .starts_with("Identical content already exists under another filename."));
    assert_eq!(row.file_path, "copy.txt");
    assert_eq!(row.metadata["is_duplicate"], json!(true));
    assert_eq!(
        ids(&st.doc_status.by_track_id("t-dup").await.unwrap()),
        vec![dup_id.clone()]
    );
    // The original stays the content's row.
    assert_eq!(
        st.doc_status
            .find_by_content_hash(row.content_hash.as_deref().unwrap(), None)
            .await
            .unwrap()
            .map(|r| r.0),
        Some(original_id.clone())
    );
    // The same duplicate again updates its row.
    h.rag
        .enqueue(vec![doc("copy.txt", DOC_A)], "t-dup2")
        .await
        .unwrap();
    let counts = st.doc_status.counts().await.unwrap();
    assert_eq!(
        (counts[&DocStatus::Processed], counts[&DocStatus::Failed]),
        (1, 1)
    );
    // Processing skips duplicate rows and the original stays processed.
    let report = h.rag.process_pending(Arc::new(NoProgress)).await.unwrap();
    assert!(
        report.processed.is_empty() && report.failed.is_empty(),
        "{report:?}"
    );
    assert_eq!(
        st.doc_status
            .get(&original_id)
            .await
            .unwrap()
            .unwrap()
            .status,
        DocStatus::Processed
    );
    assert_eq!(
        st.kv.keys(Namespace::FullDocs).await.unwrap(),
        vec![original_id]
    );
}

pub async fn engine_failed_chunk_fails_its_document_only(backend: &dyn Backend) {
    let h = open(backend, &[]).await;
    h.extractor.fail.store(true, Ordering::SeqCst);
    let bad = format!("{DOC_B} [Zeta] joins [Eta] in the FAIL sentence.");
    h.rag
        .enqueue(vec![doc("good.txt", DOC_A), doc("bad.txt", &bad)], "t")
        .await
        .unwrap();
    let report = h.rag.process_pending(Arc::new(NoProgress)).await.unwrap();
    let (good_id, bad_id) = (doc_id("good.txt"), doc_id("bad.txt"));
    assert_eq!(report.processed, vec![good_id.clone()]);
    assert_eq!(ids(&report.failed), vec![bad_id.clone()]);
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
    assert_eq!(labels(&h).await, names(&["Acme", "Jane Roe", "Ohio"]));

    // A retry extracts only the chunk that failed.
    h.extractor.fail.store(false, Ordering::SeqCst);
    let before = h.extractor.calls.load(Ordering::SeqCst);
    let out = h
        .rag
        .enqueue(vec![doc("bad.txt", &bad)], "t2")
        .await
        .unwrap();
    assert_eq!(
        out,
        vec![EnqueueOutcome::Requeued {
            doc_id: bad_id.clone()
        }]
    );
    let report = h.rag.process_pending(Arc::new(NoProgress)).await.unwrap();
    assert_eq!(report.processed, vec![bad_id.clone()]);
    assert_eq!(h.extractor.calls.load(Ordering::SeqCst) - before, 1);
    let mut want = names(&AB_NODES);
    want.extend(names(&["Eta", "Zeta"]));
    want.sort();
    assert_eq!(labels(&h).await, want);
    let counts = h.rag.stores().doc_status.counts().await.unwrap();
    assert_eq!(
        (counts[&DocStatus::Processed], counts[&DocStatus::Failed]),
        (2, 0)
    );
    assert_clean(&h).await;
}

/// A crash after the merge but before the final status: the row says processing.
pub async fn engine_crash_after_merge_resumes_to_the_same_graph(backend: &dyn Backend) {
    let h = open(backend, &[]).await;
    insert(&h, vec![doc("a.txt", DOC_A), doc("b.txt", DOC_B)]).await;
    let before = graph_json(&h).await;
    let id = doc_id("b.txt");
    let mut row = h.rag.stores().doc_status.get(&id).await.unwrap().unwrap();
    row.status = DocStatus::Processing;
    h.rag
        .stores()
        .doc_status
        .upsert(vec![(id.clone(), row)])
        .await
        .unwrap();
    assert_eq!(
        h.rag.check().await.unwrap().interrupted_documents,
        vec![id.clone()]
    );
    let calls = h.extractor.calls.load(Ordering::SeqCst);
    let report = h.rag.process_pending(Arc::new(NoProgress)).await.unwrap();
    assert_eq!(report.processed, vec![id]);
    assert_eq!(report.extraction_cache_hits, report.chunks);
    assert_eq!(
        h.extractor.calls.load(Ordering::SeqCst),
        calls,
        "no chunk extracted twice"
    );
    assert_eq!(graph_json(&h).await, before);
    assert_clean(&h).await;
}

/// A run killed mid-extraction (its task dropped, the engine and every store handle with
/// it) resumes on a new engine over the same backend to the graph an uninterrupted run
/// builds, extracting only what had not finished.
pub async fn engine_killed_run_resumes_to_the_same_graph(backend: &dyn Backend) {
    let text = format!("{DOC_A} {DOC_B} [Kappa] meets [Lambda] at last, STALL here.");
    let id = doc_id("k.txt");
    let h = Arc::new(open(backend, &[]).await);
    h.extractor.stall.store(true, Ordering::SeqCst);
    h.rag.enqueue(vec![doc("k.txt", &text)], "t").await.unwrap();
    let worker = h.clone();
    let run = tokio::spawn(async move { worker.rag.process_pending(Arc::new(NoProgress)).await });
    // Wait until every chunk but the stalled last one has its extraction committed.
    let chunks = loop {
        let row = h.rag.stores().doc_status.get(&id).await.unwrap().unwrap();
        let cached = h
            .rag
            .stores()
            .kv
            .keys(Namespace::LlmResponseCache)
            .await
            .unwrap()
            .len();
        // ... and the stalled chunk's extractor call has started (after its own cache read,
        // which takes a round trip on a database).
        if row.status == DocStatus::Processing
            && row.chunks_count >= 2
            && cached == row.chunks_count - 1
            && h.extractor.calls.load(Ordering::SeqCst) == row.chunks_count
        {
            break row.chunks_count;
        }
        assert!(!run.is_finished(), "the run ended: {:?}", run.await);
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    run.abort();
    assert!(run.await.unwrap_err().is_cancelled());
    assert_eq!(
        Arc::strong_count(&h),
        1,
        "the killed run still holds the engine"
    );
    let calls = h.extractor.calls.load(Ordering::SeqCst);
    assert_eq!(calls, chunks);
    drop(h);

    // A new process: new handles, new engine; the killed run's lease runs out first.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let h = open(backend, &[]).await;
    assert_eq!(
        h.rag.check().await.unwrap().interrupted_documents,
        vec![id.clone()]
    );
    assert!(
        labels(&h).await.is_empty(),
        "nothing merged before the kill"
    );
    let report = h.rag.process_pending(Arc::new(NoProgress)).await.unwrap();
    assert_eq!(report.processed, vec![id.clone()]);
    assert_eq!(
        (report.chunks, report.extraction_cache_hits),
        (chunks, chunks - 1)
    );
    assert_eq!(
        h.extractor.calls.load(Ordering::SeqCst),
        1,
        "only the stalled chunk"
    );
    let mut want = names(&AB_NODES);
    want.extend(names(&["Kappa", "Lambda"]));
    want.sort();
    assert_eq!(labels(&h).await, want);
    let resumed = graph_json(&h).await;
    let sizes = assert_clean(&h).await;

    // The same document processed in one go gives the same graph.
    h.rag.clear_workspace().await.unwrap();
    insert(&h, vec![doc("k.txt", &text)]).await;
    assert_eq!(graph_json(&h).await, resumed);
    assert_eq!(assert_clean(&h).await, sizes);
}

pub async fn engine_vector_sets_refuse_another_model(backend: &dyn Backend) {
    {
        let h = open(backend, &[]).await;
        insert(&h, vec![doc("a.txt", DOC_A)]).await;
    }
    let err = backend
        .open("other-model", EMBED_DIM)
        .await
        .err()
        .expect("mismatch must fail");
    assert!(matches!(err, Error::ModelMismatch(_)), "{err}");
    let model = embedder().model_name().to_string();
    let err = backend
        .open(&model, 32)
        .await
        .err()
        .expect("dimension mismatch must fail");
    assert!(matches!(err, Error::ModelMismatch(_)), "{err}");
    assert!(
        err.to_string().contains("64") && err.to_string().contains("32"),
        "{err}"
    );
    // The data is untouched: the original model still opens it.
    let h = open(backend, &[]).await;
    assert_eq!(labels(&h).await, names(&["Acme", "Jane Roe", "Ohio"]));
    assert_clean(&h).await;
}

/// `check` finds missing, orphaned and stale vectors exactly; `rebuild_vectors` repairs them.
pub async fn engine_check_and_rebuild_vectors(backend: &dyn Backend) {
    let h = open(backend, &[]).await;
    insert(&h, vec![doc("a.txt", DOC_A), doc("b.txt", DOC_B)]).await;
    let chunk_list = {
        let mut v = chunk_ids(&h, &doc_id("a.txt")).await;
        v.extend(chunk_ids(&h, &doc_id("b.txt")).await);
        v.sort();
        v
    };
    assert_eq!(assert_clean(&h).await, [chunk_list.len(), 5, 4]);
    let st = h.rag.stores();
    let acme = entity_vector_id("Acme");
    st.entities_vdb
        .delete(std::slice::from_ref(&acme))
        .await
        .unwrap();
    let orphan = relation_vector_id("Nobody", "Nowhere");
    st.relationships_vdb
        .upsert(vec![lightrag_core::types::VectorRecord {
            id: orphan.clone(),
            vector: vec![0.5; EMBED_DIM],
            meta: json!({"src_id": "Nobody"}),
        }])
        .await
        .unwrap();
    let stale = chunk_list[0].clone();
    let v = st
        .chunks_vdb
        .get_vectors(std::slice::from_ref(&stale))
        .await
        .unwrap()[&stale]
        .clone();
    st.chunks_vdb
        .upsert(vec![lightrag_core::types::VectorRecord {
            id: stale.clone(),
            vector: v,
            meta: json!({"content": "outdated"}),
        }])
        .await
        .unwrap();

    let report = h.rag.check().await.unwrap();
    assert!(!report.is_clean());
    // Per set: (missing, orphaned, stale).
    let found: Vec<[Vec<String>; 3]> = report
        .vector_sets
        .iter()
        .map(|d| [d.missing.clone(), d.orphaned.clone(), d.stale.clone()])
        .collect();
    let sets: Vec<&str> = report.vector_sets.iter().map(|d| d.set.as_str()).collect();
    assert_eq!(sets, ["chunks", "entities", "relationships"]);
    assert_eq!(
        found,
        vec![
            [vec![], vec![], vec![stale.clone()]],
            [vec![acme.clone()], vec![], vec![]],
            [vec![], vec![orphan.clone()], vec![]],
        ]
    );
    assert!(report.dangling_edges.is_empty());

    let written = h.rag.rebuild_vectors().await.unwrap();
    assert_eq!(written, chunk_list.len() + 5 + 4);
    assert_eq!(assert_clean(&h).await, [chunk_list.len(), 5, 4]);
    assert_eq!(st.chunks_vdb.ids().await.unwrap(), chunk_list);
    assert!(st.entities_vdb.get_vectors(&[acme]).await.unwrap().len() == 1);
    assert!(st
        .relationships_vdb
        .get_meta(&[orphan])
        .await
        .unwrap()
        .is_empty());
    // Search works on the rebuilt sets.
    let mut p = QueryParam::from_defaults(&h.rag.config().query);
    p.mode = QueryMode::Local;
    p.ll_keywords = vec!["Acme".into()];
    p.only_need_context = true;
    let r = h.rag.query("Acme?", &p).await.unwrap();
    assert!(
        r.data
            .entities
            .iter()
            .any(|e| e["entity_name"] == json!("Acme")),
        "{:?}",
        r.data.entities
    );
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
        self.hit("all_nodes");
        self.inner.all_nodes().await
    }
    async fn all_edges(&self) -> Result<Vec<Relation>> {
        self.hit("all_edges");
        self.inner.all_edges().await
    }
    async fn labels(&self) -> Result<Vec<String>> {
        self.hit("labels");
        self.inner.labels().await
    }
    async fn search_labels(&self, needle: &str, limit: usize) -> Result<Vec<String>> {
        self.hit("search_labels");
        self.inner.search_labels(needle, limit).await
    }
    async fn top_labels(&self, limit: usize) -> Result<Vec<(String, usize)>> {
        self.hit("top_labels");
        self.inner.top_labels(limit).await
    }
    async fn edges_among(&self, names: &[String]) -> Result<Vec<Relation>> {
        self.hit("edges_among");
        self.inner.edges_among(names).await
    }
    async fn clear(&self) -> Result<()> {
        self.inner.clear().await
    }
}

/// A local query reads the graph once per hop, and a hub contributes at most
/// `MAX_GRAPH_FANOUT` edges; browsing reads a bounded number of times too.
pub async fn engine_graph_reads_are_batched_and_hubs_capped(backend: &dyn Backend) {
    // A hub: one entity related to 300 others, each in its own sentence.
    let mut text = String::new();
    for i in 0..300 {
        text.push_str(&format!("[Hub] meets [Spoke {i:03}]. "));
    }
    {
        let h = open(backend, &[("CHUNK_SIZE", "1200")]).await;
        insert(&h, vec![doc("hub.txt", &text)]).await;
        assert_eq!(h.rag.stores().graph.node_count().await.unwrap(), 301);
    }
    let emb = embedder();
    let mut stores = backend.open(emb.model_name(), emb.dim()).await.unwrap();
    let counting = Arc::new(Counting {
        inner: stores.graph.clone(),
        calls: Mutex::new(HashMap::new()),
    });
    stores.graph = counting.clone();
    let h = harness(
        stores,
        &[("MAX_GRAPH_FANOUT", "10"), ("COSINE_THRESHOLD", "0.0")],
        emb,
        Arc::new(Scripted::default()),
    );
    let mut p = QueryParam::from_defaults(&h.rag.config().query);
    p.mode = QueryMode::Local;
    p.top_k = 5;
    p.only_need_context = true;
    p.ll_keywords = vec!["Hub".into()];
    let r = h.rag.query("Who meets the hub?", &p).await.unwrap();
    let calls = std::mem::take(&mut *counting.calls.lock().unwrap());
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

    // Browsing: two hops around the hub, capped at 20 nodes.
    let sub = h.rag.subgraph("Hub", 2, 20).await.unwrap();
    assert_eq!(sub.nodes.len(), 20);
    assert!(sub.truncated);
    assert_eq!(sub.nodes[0].entity_id, "Hub");
    assert_eq!(sub.edges.len(), 19);
    let calls = std::mem::take(&mut *counting.calls.lock().unwrap());
    assert!(
        !calls.contains_key("all_nodes") && !calls.contains_key("all_edges"),
        "{calls:?}"
    );
    assert!(calls.values().sum::<usize>() <= 6, "{calls:?}");
    assert_eq!(
        h.rag.popular_labels(2).await.unwrap(),
        names(&["Hub", "Spoke 000"])
    );
    assert_eq!(
        h.rag.search_labels("spoke 29", 3).await.unwrap(),
        names(&["Spoke 290", "Spoke 291", "Spoke 292"])
    );
    let calls = std::mem::take(&mut *counting.calls.lock().unwrap());
    assert_eq!(
        calls,
        HashMap::from([("top_labels", 1), ("search_labels", 1)])
    );
}

pub async fn engine_descriptions_stay_bounded_without_llm(backend: &dyn Backend) {
    let h = open(backend, &[("CHUNK_SIZE", "12")]).await;
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
    assert_eq!(labels(&h).await, names(&["Delta"]));
    assert_clean(&h).await;
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
            tokio::time::sleep(Duration::from_millis(60u64.saturating_sub(12 * k))).await;
        }
        self.inner.embed(texts, purpose).await
    }
}

pub async fn engine_concurrent_merges_leave_the_latest_vectors(backend: &dyn Backend) {
    let embedder = Arc::new(SlowFirst {
        inner: HashingEmbedder::new(EMBED_DIM),
        hub_calls: AtomicUsize::new(0),
    });
    let h = open_with(
        backend,
        &[
            ("MAX_PARALLEL_INSERT", "4"),
            ("ENABLE_EMBEDDING_CACHE", "false"),
        ],
        embedder,
        Arc::new(Scripted::default()),
    )
    .await;
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
    assert_eq!(
        h.rag
            .stores()
            .graph
            .node_degrees(&names(&["Hub"]))
            .await
            .unwrap()["Hub"],
        6
    );
    assert_eq!(assert_clean(&h).await[1..], [7, 6]);
}

/// Hashing vectors, but the first call that embeds the hub sleeps, so a document's late vector
/// write can land after a graph edit made in the meantime.
struct SlowHubOnce {
    inner: HashingEmbedder,
    slept: AtomicBool,
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
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        self.inner.embed(texts, purpose).await
    }
}

pub async fn engine_graph_edit_not_undone_by_a_merge_still_writing(backend: &dyn Backend) {
    let embedder = Arc::new(SlowHubOnce {
        inner: HashingEmbedder::new(EMBED_DIM),
        slept: AtomicBool::new(false),
    });
    let h = Arc::new(
        open_with(
            backend,
            &[("ENABLE_EMBEDDING_CACHE", "false")],
            embedder,
            Arc::new(Scripted::default()),
        )
        .await,
    );
    h.rag
        .enqueue(vec![doc("d.txt", "[Hub] met [Guest] on day one.")], "t")
        .await
        .unwrap();
    let worker = h.clone();
    let run = tokio::spawn(async move { worker.rag.process_pending(Arc::new(NoProgress)).await });
    // The merge is done well before the document's hub vector (300 ms) is written.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let fields = lightrag_core::graph_edit::EntityFields {
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
    assert_clean(&h).await;
}

/// A small graph: degrees Hub 3; Alpha, Beta, Gamma, Delta 2; Epsilon 1; Lonely 0.
const BROWSE_DOC: &str = "[Hub] meets [Alpha]. [Hub] meets [Beta]. [Hub] meets [Gamma]. \
    [Alpha] meets [Beta]. [Gamma] meets [Delta]. [Delta] meets [Epsilon]. [Lonely] sleeps.";

/// Subgraphs, label search, popular labels, document pages and tracking through the engine.
pub async fn engine_browse(backend: &dyn Backend) {
    let h = open(backend, &[("CHUNK_SIZE", "1200")]).await;
    // Enqueued apart in time, so creation times order them.
    for (key, text, track) in [
        ("browse.txt", BROWSE_DOC, "track-b"),
        ("other.txt", "[Other] is alone.", "track-b"),
        ("z.txt", "[Zed] is elsewhere.", "track-z"),
        ("fail.txt", "[Never] FAIL.", "track-b"),
    ] {
        h.rag.enqueue(vec![doc(key, text)], track).await.unwrap();
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    h.extractor.fail.store(true, Ordering::SeqCst);
    let report = h.rag.process_pending(Arc::new(NoProgress)).await.unwrap();
    assert_eq!((report.processed.len(), report.failed.len()), (3, 1));

    // Popular labels: by degree, then name; edgeless nodes last by name.
    assert_eq!(
        h.rag.popular_labels(100).await.unwrap(),
        names(&["Hub", "Alpha", "Beta", "Delta", "Gamma", "Epsilon", "Lonely", "Other", "Zed"])
    );
    assert_eq!(
        h.rag.popular_labels(3).await.unwrap(),
        names(&["Hub", "Alpha", "Beta"])
    );
    assert!(h.rag.popular_labels(0).await.unwrap().is_empty());

    // Label search: trimmed, case-insensitive, ranked.
    assert_eq!(
        h.rag.search_labels("  HUB ", 5).await.unwrap(),
        names(&["Hub"])
    );
    assert_eq!(
        h.rag.search_labels("ta", 10).await.unwrap(),
        names(&["Beta", "Delta"])
    );
    assert_eq!(
        h.rag.search_labels("e", 3).await.unwrap(),
        names(&["Epsilon", "Zed", "Beta"])
    );
    assert!(h.rag.search_labels("   ", 5).await.unwrap().is_empty());
    assert!(h.rag.search_labels("hub", 0).await.unwrap().is_empty());

    let node_names = |sub: &lightrag_core::browse::Subgraph| -> Vec<String> {
        sub.nodes.iter().map(|n| n.entity_id.clone()).collect()
    };
    // "*": the best-connected nodes and the edges among them.
    let sub = h.rag.subgraph("*", 1, 3).await.unwrap();
    assert_eq!(node_names(&sub), names(&["Hub", "Alpha", "Beta"]));
    assert_eq!(
        pairs(&sub.edges),
        vec![
            pair("Alpha", "Beta"),
            pair("Alpha", "Hub"),
            pair("Beta", "Hub")
        ]
    );
    assert!(sub.truncated);
    let sub = h.rag.subgraph("*", 1, 100).await.unwrap();
    assert_eq!(node_names(&sub).len(), 9);
    assert_eq!(sub.edges.len(), 6);
    assert!(!sub.truncated);
    // A label: breadth first, each level by degree then name.
    let sub = h.rag.subgraph("Gamma", 1, 100).await.unwrap();
    assert_eq!(node_names(&sub), names(&["Gamma", "Hub", "Delta"]));
    assert_eq!(
        pairs(&sub.edges),
        vec![pair("Delta", "Gamma"), pair("Gamma", "Hub")]
    );
    assert!(!sub.truncated);
    let sub = h.rag.subgraph("Gamma", 2, 100).await.unwrap();
    assert_eq!(
        node_names(&sub),
        names(&["Gamma", "Hub", "Delta", "Alpha", "Beta", "Epsilon"])
    );
    assert_eq!(
        pairs(&sub.edges),
        vec![
            pair("Alpha", "Beta"),
            pair("Alpha", "Hub"),
            pair("Beta", "Hub"),
            pair("Delta", "Epsilon"),
            pair("Delta", "Gamma"),
            pair("Gamma", "Hub"),
        ]
    );
    assert_eq!(sub.nodes[0], node(&h, "Gamma").await.unwrap());
    assert!(!sub.truncated);
    let sub = h.rag.subgraph("Gamma", 2, 4).await.unwrap();
    assert_eq!(node_names(&sub), names(&["Gamma", "Hub", "Delta", "Alpha"]));
    assert_eq!(
        pairs(&sub.edges),
        vec![
            pair("Alpha", "Hub"),
            pair("Delta", "Gamma"),
            pair("Gamma", "Hub")
        ]
    );
    assert!(sub.truncated);
    let sub = h.rag.subgraph("Lonely", 3, 10).await.unwrap();
    assert_eq!(
        (node_names(&sub), sub.edges.len(), sub.truncated),
        (names(&["Lonely"]), 0, false)
    );
    let sub = h.rag.subgraph("Nobody", 2, 10).await.unwrap();
    assert_eq!(sub, lightrag_core::browse::Subgraph::default());
    assert!(matches!(
        h.rag.subgraph("Hub", 0, 10).await,
        Err(Error::InvalidInput(_))
    ));
    assert!(matches!(
        h.rag.subgraph("Hub", 1, 0).await,
        Err(Error::InvalidInput(_))
    ));

    // Document pages.
    let (browse, other, z, fail) = (
        doc_id("browse.txt"),
        doc_id("other.txt"),
        doc_id("z.txt"),
        doc_id("fail.txt"),
    );
    let mut processed = vec![browse.clone(), other.clone(), z.clone()];
    processed.sort();
    let req = |statuses: Vec<DocStatus>, descending, offset, limit| DocPageRequest {
        statuses,
        sort: DocSort::Id,
        descending,
        offset,
        limit,
    };
    let page = h
        .rag
        .document_page(&req(vec![DocStatus::Processed], false, 0, 10))
        .await
        .unwrap();
    assert_eq!((ids(&page.rows), page.total), (processed.clone(), 3));
    let page = h
        .rag
        .document_page(&req(vec![DocStatus::Processed], true, 1, 1))
        .await
        .unwrap();
    assert_eq!(
        (ids(&page.rows), page.total),
        (vec![processed[1].clone()], 3)
    );
    let page = h
        .rag
        .document_page(&req(
            vec![DocStatus::Failed, DocStatus::Processed],
            false,
            0,
            10,
        ))
        .await
        .unwrap();
    assert_eq!(page.total, 4);
    assert_eq!(
        page.rows
            .iter()
            .find(|(id, _)| *id == fail)
            .unwrap()
            .1
            .status,
        DocStatus::Failed
    );
    let page = h
        .rag
        .document_page(&req(vec![], false, 0, 10))
        .await
        .unwrap();
    assert_eq!((page.rows.len(), page.total), (0, 0));
    let page = h
        .rag
        .document_page(&req(vec![DocStatus::Processed], false, 0, 0))
        .await
        .unwrap();
    assert_eq!((page.rows.len(), page.total), (0, 0));
    let mut by_file = h
        .rag
        .document_page(&DocPageRequest {
            statuses: DocStatus::ALL.to_vec(),
            sort: DocSort::FilePath,
            descending: false,
            offset: 0,
            limit: 10,
        })
        .await
        .unwrap()
        .rows
        .into_iter()
        .map(|(_, r)| r.file_path);
    assert_eq!(
        [(); 4].map(|_| by_file.next().unwrap()),
        ["browse.txt", "fail.txt", "other.txt", "z.txt"].map(String::from)
    );

    // Tracking: the documents of a track id, by creation, and how many per status.
    let (rows, summary) = h.rag.track("track-b").await.unwrap();
    assert_eq!(ids(&rows), vec![browse, other, fail]);
    assert_eq!(
        summary,
        BTreeMap::from([(String::from("failed"), 1), (String::from("processed"), 2)])
    );
    let (rows, summary) = h.rag.track("track-z").await.unwrap();
    assert_eq!(
        (ids(&rows), summary),
        (vec![z], BTreeMap::from([(String::from("processed"), 1)]))
    );
    let (rows, summary) = h.rag.track("nope").await.unwrap();
    assert!(rows.is_empty() && summary.is_empty());
}

/// Clearing the workspace removes every document, chunk, entity, relation and vector and
/// keeps the LLM response cache, so indexing again extracts nothing.
pub async fn engine_clear_workspace(backend: &dyn Backend) {
    let h = open(backend, &[]).await;
    insert(&h, vec![doc("a.txt", DOC_A), doc("b.txt", DOC_B)]).await;
    let st = h.rag.stores();
    let cached = st.kv.keys(Namespace::LlmResponseCache).await.unwrap();
    assert!(!cached.is_empty());
    let report = h.rag.clear_workspace().await.unwrap();
    assert_eq!(
        report,
        ClearReport {
            documents: 2,
            entities: 5,
            relations: 4
        }
    );
    assert_eq!(
        st.doc_status
            .counts()
            .await
            .unwrap()
            .values()
            .sum::<usize>(),
        0
    );
    assert_eq!(
        (
            st.graph.node_count().await.unwrap(),
            st.graph.edge_count().await.unwrap()
        ),
        (0, 0)
    );
    for ns in Namespace::ALL {
        let keys = st.kv.keys(ns).await.unwrap();
        if ns == Namespace::LlmResponseCache {
            assert_eq!(keys, cached);
        } else {
            assert!(keys.is_empty(), "{}: {keys:?}", ns.as_str());
        }
    }
    for set in [&st.chunks_vdb, &st.entities_vdb, &st.relationships_vdb] {
        assert!(set.ids().await.unwrap().is_empty(), "{}", set.namespace());
    }
    assert_eq!(assert_clean(&h).await, [0, 0, 0]);
    assert_eq!(
        h.rag.clear_workspace().await.unwrap(),
        ClearReport::default()
    );

    let calls = h.extractor.calls.load(Ordering::SeqCst);
    let out = insert(&h, vec![doc("a.txt", DOC_A)]).await;
    assert_eq!(
        out,
        vec![EnqueueOutcome::Added {
            doc_id: doc_id("a.txt")
        }]
    );
    assert_eq!(
        h.extractor.calls.load(Ordering::SeqCst),
        calls,
        "extraction came from the cache"
    );
    assert_eq!(labels(&h).await, names(&["Acme", "Jane Roe", "Ohio"]));
    assert_clean(&h).await;
}

/// Failed documents go back to pending (recorded duplicates do not) and the next run
/// processes them.
pub async fn engine_requeue_failed(backend: &dyn Backend) {
    let h = open(backend, &[]).await;
    assert_eq!(h.rag.requeue_failed().await.unwrap(), 0);
    insert(&h, vec![doc("a.txt", DOC_A)]).await;
    h.rag
        .enqueue(vec![doc("copy.txt", DOC_A)], "t")
        .await
        .unwrap();
    h.extractor.fail.store(true, Ordering::SeqCst);
    let bad = "[Zeta] joins [Eta] in the FAIL sentence.";
    h.rag.enqueue(vec![doc("bad.txt", bad)], "t").await.unwrap();
    let report = h.rag.process_pending(Arc::new(NoProgress)).await.unwrap();
    let bad_id = doc_id("bad.txt");
    assert_eq!(ids(&report.failed), vec![bad_id.clone()]);
    h.extractor.fail.store(false, Ordering::SeqCst);
    let st = h.rag.stores();
    let counts = st.doc_status.counts().await.unwrap();
    assert_eq!(
        (counts[&DocStatus::Processed], counts[&DocStatus::Failed]),
        (1, 2)
    );

    assert_eq!(h.rag.requeue_failed().await.unwrap(), 1);
    let row = st.doc_status.get(&bad_id).await.unwrap().unwrap();
    assert_eq!((row.status, row.error_msg), (DocStatus::Pending, None));
    let dup_id = lightrag_core::pipeline::enqueue::duplicate_row_id("copy.txt", DOC_A);
    assert_eq!(
        st.doc_status.get(&dup_id).await.unwrap().unwrap().status,
        DocStatus::Failed
    );
    assert_eq!(h.rag.requeue_failed().await.unwrap(), 0);

    let report = h.rag.process_pending(Arc::new(NoProgress)).await.unwrap();
    assert_eq!((report.processed, report.failed.len()), (vec![bad_id], 0));
    let counts = st.doc_status.counts().await.unwrap();
    assert_eq!(
        (counts[&DocStatus::Processed], counts[&DocStatus::Failed]),
        (2, 1)
    );
    assert_eq!(
        labels(&h).await,
        names(&["Acme", "Eta", "Jane Roe", "Ohio", "Zeta"])
    );
    assert_clean(&h).await;
}
