//! Fidelity: a scripted LLM returns fixed extraction records for a small corpus, and the graph
//! lightrag-rs builds equals what LightRAG's merge rules give for those records. The expected
//! graph below was worked out by hand from the rules in shared/reference/indexing.md §4-5.

use std::sync::Arc;

use async_trait::async_trait;
use lightrag_core::config::Settings;
use lightrag_core::hashing::HashingEmbedder;
use lightrag_core::ids::{chunk_id, doc_id};
use lightrag_core::llm::extract::{ExtractionSettings, LlmExtractor};
use lightrag_core::pipeline::process::NoProgress;
use lightrag_core::pipeline::NewDocument;
use lightrag_core::ports::{ChatModel, ChatRequest};
use lightrag_core::tokenizer::TiktokenTokenizer;
use lightrag_core::types::{Entity, Relation};
use lightrag_core::{Error, Rag, Result};
use lightrag_storage::embedded;

/// Answers each extraction prompt with the records scripted for the passage it contains.
struct Scripted(Vec<(&'static str, &'static str)>);

#[async_trait]
impl ChatModel for Scripted {
    fn identity(&self) -> String {
        r#"{"binding":"scripted","host":"","model":"fidelity"}"#.into()
    }
    async fn complete(&self, req: &ChatRequest) -> Result<String> {
        self.0
            .iter()
            .find(|(needle, _)| req.prompt.contains(needle))
            .map(|(_, reply)| reply.to_string())
            .ok_or_else(|| Error::Llm(format!("no scripted reply for {:?}", req.prompt)))
    }
}

const ALPHA: &str = "Alpha report: Jane Roe runs Acme Corp.";
const BETA: &str = "Beta report: Acme Corp, Ohio and Lake Erie.";
const GAMMA: &str = "Gamma report: Acme Corp, the place.";

fn script() -> Scripted {
    Scripted(vec![
        (
            ALPHA,
            "entity<|#|>Acme Corp<|#|>Organization<|#|>Acme Corp makes rockets.\n\
             entity<|#|>Jane Roe<|#|>Person<|#|>Jane Roe leads Acme Corp.\n\
             relation<|#|>Jane Roe<|#|>Acme Corp<|#|>leadership, employment<|#|>Jane Roe leads Acme Corp as CEO.\n\
             <|COMPLETE|>",
        ),
        (
            BETA,
            "entity<|#|>\"Acme Corp\"<|#|>organization<|#|>Acme Corp is based in Ohio.\n\
             entity<|#|>Ohio<|#|>Location<|#|>Ohio is a US state.\n\
             relation<|#|>Acme Corp<|#|>Jane Roe<|#|>funding<|#|>Acme Corp pays Jane Roe.\n\
             relation<|#|>Acme Corp<|#|>Ohio<|#|>location<|#|>Acme Corp is based in Ohio.\n\
             relation<|#|>Ohio<|#|>Lake Erie<|#|>geography<|#|>Ohio borders Lake Erie.\n\
             <|COMPLETE|>",
        ),
        (GAMMA, "entity<|#|>Acme Corp<|#|>Location<|#|>Acme Corp is a place name too.\n<|COMPLETE|>"),
    ])
}

fn node(name: &str, ty: &str, desc: &str, sources: &[&str], files: &str) -> Entity {
    Entity {
        entity_id: name.into(),
        entity_type: ty.into(),
        description: desc.into(),
        source_id: sources.join("<SEP>"),
        file_path: files.into(),
        created_at: 0,
        truncate: String::new(),
    }
}

fn edge(a: &str, b: &str, w: f64, kw: &str, desc: &str, sources: &[&str], files: &str) -> Relation {
    Relation {
        src_id: a.into(),
        tgt_id: b.into(),
        weight: w,
        description: desc.into(),
        keywords: kw.into(),
        source_id: sources.join("<SEP>"),
        file_path: files.into(),
        created_at: 0,
        truncate: String::new(),
    }
}

#[tokio::test]
async fn the_graph_equals_lightrags_merge_of_the_same_records() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Settings::default();
    s.set("WORKING_DIR", dir.path().to_string_lossy());
    s.set("MAX_PARALLEL_INSERT", "1");
    let cfg = s.to_config().unwrap();
    let stores = embedded::open(dir.path(), "hashing-bow-64", 64).unwrap();
    let settings = ExtractionSettings {
        language: "English".into(),
        entity_types: lightrag_core::llm::prompts::DEFAULT_ENTITY_TYPES.into(),
        max_gleaning: 0,
        max_total_records: 100,
        max_entity_records: 40,
        max_extract_input_tokens: 20480,
        use_json: false,
    };
    let extractor = LlmExtractor::new(
        Arc::new(script()),
        settings,
        Arc::new(TiktokenTokenizer::o200k()),
    );
    let rag = Rag::new(
        cfg,
        stores.stores.clone(),
        Arc::new(HashingEmbedder::new(64)),
        Arc::new(extractor),
    );
    // One at a time, in this order, as LightRAG processes documents by creation time.
    for (key, text) in [
        ("alpha.txt", ALPHA),
        ("beta.txt", BETA),
        ("gamma.txt", GAMMA),
    ] {
        rag.enqueue(
            vec![NewDocument {
                key: key.into(),
                content: text.into(),
            }],
            "t",
        )
        .await
        .unwrap();
        let r = rag.process_pending(Arc::new(NoProgress)).await.unwrap();
        assert!(r.failed.is_empty(), "{:?}", r.failed);
    }
    let c1 = chunk_id(&doc_id("alpha.txt"), 0);
    let c2 = chunk_id(&doc_id("beta.txt"), 0);
    let c3 = chunk_id(&doc_id("gamma.txt"), 0);

    let expected_nodes = vec![
        // Types tie 1:1 between the new "location" and the stored "organization": the first
        // seen wins, and new records come first.
        node("Acme Corp", "location",
             "Acme Corp makes rockets.<SEP>Acme Corp is based in Ohio.<SEP>Acme Corp is a place name too.",
             &[&c1, &c2, &c3], "alpha.txt<SEP>beta.txt<SEP>gamma.txt"),
        // Jane Roe gains c2 as a source through the relation of beta.txt (file path unchanged).
        node("Jane Roe", "person", "Jane Roe leads Acme Corp.", &[&c1, &c2], "alpha.txt"),
        // A relation endpoint nobody described is created with type UNKNOWN.
        node("Lake Erie", "UNKNOWN", "Ohio borders Lake Erie.", &[&c2], "beta.txt"),
        node("Ohio", "location", "Ohio is a US state.", &[&c2], "beta.txt"),
    ];
    let expected_edges = vec![
        edge(
            "Acme Corp",
            "Jane Roe",
            2.0,
            "employment,funding,leadership",
            "Jane Roe leads Acme Corp as CEO.<SEP>Acme Corp pays Jane Roe.",
            &[&c1, &c2],
            "alpha.txt<SEP>beta.txt",
        ),
        edge(
            "Acme Corp",
            "Ohio",
            1.0,
            "location",
            "Acme Corp is based in Ohio.",
            &[&c2],
            "beta.txt",
        ),
        edge(
            "Lake Erie",
            "Ohio",
            1.0,
            "geography",
            "Ohio borders Lake Erie.",
            &[&c2],
            "beta.txt",
        ),
    ];
    let mut nodes = rag.stores().graph.all_nodes().await.unwrap();
    let mut edges = rag.stores().graph.all_edges().await.unwrap();
    nodes.iter_mut().for_each(|n| n.created_at = 0);
    edges.iter_mut().for_each(|e| e.created_at = 0);
    assert_eq!(nodes, expected_nodes);
    assert_eq!(edges, expected_edges);
    assert!(rag.check().await.unwrap().is_clean());
}

/// Extraction replies give "Vega" a new description per document; summary prompts get one
/// fixed summary.
struct Growing;

#[async_trait]
impl ChatModel for Growing {
    fn identity(&self) -> String {
        r#"{"binding":"scripted","host":"","model":"growing"}"#.into()
    }
    async fn complete(&self, req: &ChatRequest) -> Result<String> {
        if req.prompt.contains("Merge the descriptions below") {
            assert!(
                req.prompt.contains("Vega"),
                "the summary prompt names its subject"
            );
            return Ok("Vega is a station that appears in many reports (summary).".into());
        }
        let n = req
            .prompt
            .split("Report number ")
            .nth(1)
            .and_then(|r| r.split('.').next())
            .ok_or_else(|| Error::Llm("unexpected prompt".into()))?;
        Ok(format!(
            "entity<|#|>Vega<|#|>Location<|#|>Vega is mentioned in report {n}.\n<|COMPLETE|>"
        ))
    }
}

#[tokio::test]
async fn long_descriptions_are_summarised_by_the_llm() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Settings::default();
    s.set("WORKING_DIR", dir.path().to_string_lossy());
    s.set("MAX_PARALLEL_INSERT", "1");
    let cfg = s.to_config().unwrap();
    let stores = embedded::open(dir.path(), "hashing-bow-64", 64).unwrap();
    let chat: Arc<dyn ChatModel> = Arc::new(Growing);
    let settings = ExtractionSettings {
        language: "English".into(),
        entity_types: lightrag_core::llm::prompts::DEFAULT_ENTITY_TYPES.into(),
        max_gleaning: 0,
        max_total_records: 100,
        max_entity_records: 40,
        max_extract_input_tokens: 20480,
        use_json: false,
    };
    let extractor = LlmExtractor::new(chat.clone(), settings, Arc::new(TiktokenTokenizer::o200k()));
    let rag = Rag::new(
        cfg,
        stores.stores.clone(),
        Arc::new(HashingEmbedder::new(64)),
        Arc::new(extractor),
    )
    .with_chat_models(lightrag_core::ChatModels::single(chat));
    let vega = |rag: &Rag| {
        let graph = rag.stores().graph.clone();
        async move {
            graph
                .get_nodes(&["Vega".to_string()])
                .await
                .unwrap()
                .remove("Vega")
                .unwrap()
        }
    };
    // LightRAG joins fewer than FORCE_LLM_SUMMARY_ON_MERGE (8) fragments without the LLM...
    for i in 1..=7 {
        let doc = NewDocument {
            key: format!("r{i}.txt"),
            content: format!("Report number {i}. Vega again."),
        };
        rag.enqueue(vec![doc], "t").await.unwrap();
        rag.process_pending(Arc::new(NoProgress)).await.unwrap();
    }
    assert_eq!(vega(&rag).await.description.split("<SEP>").count(), 7);
    // ...and the eighth makes it summarise.
    let doc = NewDocument {
        key: "r8.txt".into(),
        content: "Report number 8. Vega again.".into(),
    };
    rag.enqueue(vec![doc], "t").await.unwrap();
    rag.process_pending(Arc::new(NoProgress)).await.unwrap();
    let v = vega(&rag).await;
    assert_eq!(
        v.description,
        "Vega is a station that appears in many reports (summary)."
    );
    assert_eq!(v.source_id.split("<SEP>").count(), 8);
    assert!(rag.check().await.unwrap().is_clean());
}

#[tokio::test]
async fn an_unparseable_reply_fails_the_chunk_and_its_document() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Settings::default();
    s.set("WORKING_DIR", dir.path().to_string_lossy());
    let cfg = s.to_config().unwrap();
    let stores = embedded::open(dir.path(), "hashing-bow-64", 64).unwrap();
    let chat = Scripted(vec![(
        "Refuse",
        "I am sorry, I cannot help with that request.",
    )]);
    let settings = ExtractionSettings {
        language: "English".into(),
        entity_types: lightrag_core::llm::prompts::DEFAULT_ENTITY_TYPES.into(),
        max_gleaning: 1,
        max_total_records: 100,
        max_entity_records: 40,
        max_extract_input_tokens: 20480,
        use_json: false,
    };
    let extractor = LlmExtractor::new(
        Arc::new(chat),
        settings,
        Arc::new(TiktokenTokenizer::o200k()),
    );
    let rag = Rag::new(
        cfg,
        stores.stores.clone(),
        Arc::new(HashingEmbedder::new(64)),
        Arc::new(extractor),
    );
    let doc = NewDocument {
        key: "r.txt".into(),
        content: "Refuse this one, please.".into(),
    };
    rag.enqueue(vec![doc], "t").await.unwrap();
    let report = rag.process_pending(Arc::new(NoProgress)).await.unwrap();
    assert_eq!(report.failed.len(), 1);
    let row = rag
        .stores()
        .doc_status
        .get(&doc_id("r.txt"))
        .await
        .unwrap()
        .unwrap();
    let msg = row.error_msg.unwrap();
    assert!(
        msg.contains("no parseable record") && msg.contains("cannot help"),
        "{msg}"
    );
    assert_eq!(rag.stores().graph.node_count().await.unwrap(), 0);
}
