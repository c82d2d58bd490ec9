//! Several processes on one PostgreSQL knowledge base. Each "process" here is a connection
//! pool and a coordinator of its own (what a `lightrag serve` replica has), so the database
//! sees exactly what it would see from separate processes: document leases shared out and
//! taken over, graph locks held across them, and two engines merging one hub entity at once.
//! The end-to-end test with real replica processes behind nginx is in the cli crate.

#![cfg(feature = "postgres")]

#[allow(dead_code)]
mod conformance;
mod pg;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use conformance::engine::{doc, embedder, harness, Harness, Scripted, EMBED_DIM};
use lightrag_core::ids::GRAPH_FIELD_SEP;
use lightrag_core::pipeline::process::NoProgress;
use lightrag_core::ports::{Embedder, Namespace, Stores};
use lightrag_core::types::{DocStatus, Entity, Relation};
use lightrag_core::Error;
use lightrag_storage::memory::MemoryBackend;
use pg::Pg;

const LONG: Duration = Duration::from_secs(60);

async fn process_view(pg: &Pg) -> Stores {
    pg.stores(conformance::MODEL, conformance::DIM)
        .await
        .expect("open")
}

/// Two processes never claim one document; when one dies holding leases, the other takes its
/// documents over once the leases run out (not before), and the dead one's token is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg_processes_share_documents_and_take_over_a_dead_ones() {
    let Some(pg) = Pg::new("pg_processes_share_documents").await else {
        return;
    };
    let a = process_view(&pg).await;
    let b = process_view(&pg).await;
    assert_ne!(a.coordinator.replica_id(), b.coordinator.replica_id());
    let rows = (0..6)
        .map(|i| {
            (
                format!("d{i}"),
                conformance::record(
                    DocStatus::Processing,
                    &format!("2020-01-01T00:00:0{i}"),
                    None,
                ),
            )
        })
        .collect();
    a.doc_status.upsert(rows).await.unwrap();

    let held_by_a = a
        .coordinator
        .claim(4, Duration::from_millis(1500), &[])
        .await
        .unwrap();
    let held_by_b = b.coordinator.claim(10, LONG, &[]).await.unwrap();
    let ids = |l: &[lightrag_core::ports::DocLease]| -> Vec<String> {
        l.iter().map(|l| l.doc_id.clone()).collect()
    };
    assert_eq!(ids(&held_by_a), ["d0", "d1", "d2", "d3"]);
    assert_eq!(ids(&held_by_b), ["d4", "d5"], "b skips a's live leases");
    let listed: BTreeSet<String> = b
        .coordinator
        .leases()
        .await
        .unwrap()
        .into_iter()
        .map(|l| format!("{}:{}", l.doc_id, l.owner == a.coordinator.replica_id()))
        .collect();
    assert_eq!(listed.len(), 6, "{listed:?}");

    // `a` dies: its pool and coordinator go away without giving anything up.
    let a_lease = held_by_a[0].clone();
    drop(a);
    assert!(b.coordinator.claim(10, LONG, &[]).await.unwrap().is_empty());
    tokio::time::sleep(Duration::from_millis(1700)).await;
    let taken = b.coordinator.claim(10, LONG, &[]).await.unwrap();
    assert_eq!(ids(&taken), ["d0", "d1", "d2", "d3"]);
    assert!(taken.iter().all(|l| l.taken_over));
    assert!(taken.iter().all(|l| l.token > held_by_b[1].token));

    // A write with the dead process's token (a zombie that wakes up) changes nothing.
    let zombie = process_view(&pg).await;
    let mut row = b.doc_status.get("d0").await.unwrap().unwrap();
    row.status = DocStatus::Processed;
    let refused = zombie
        .coordinator
        .write_status(&a_lease, row.clone(), true)
        .await;
    assert!(matches!(refused, Err(Error::LeaseLost(_))), "{refused:?}");
    assert_eq!(
        b.doc_status.get("d0").await.unwrap().unwrap().status,
        DocStatus::Processing
    );
    b.coordinator
        .write_status(&taken[0], row, true)
        .await
        .unwrap();
}

/// Graph locks hold across processes: a key one holds waits in the other, other keys do not;
/// whole-graph work waits for every key holder, and key holders wait for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg_graph_locks_exclude_across_processes() {
    let Some(pg) = Pg::new("pg_graph_locks").await else {
        return;
    };
    let a = process_view(&pg).await;
    let b = process_view(&pg).await;
    let short = Duration::from_millis(300);
    let keys = |k: &[&str]| -> Vec<String> { k.iter().map(|s| s.to_string()).collect() };

    let held = a.coordinator.lock_keys(&keys(&["x", "y"])).await.unwrap();
    assert!(
        tokio::time::timeout(short, b.coordinator.lock_keys(&keys(&["y", "q"])))
            .await
            .is_err(),
        "y is held by the other process"
    );
    let other = tokio::time::timeout(LONG, b.coordinator.lock_keys(&keys(&["z"])))
        .await
        .expect("z is free")
        .unwrap();
    assert!(
        tokio::time::timeout(short, a.coordinator.lock_graph())
            .await
            .is_err(),
        "the whole graph waits for key holders"
    );
    drop(other);
    drop(held);
    let y = tokio::time::timeout(
        Duration::from_secs(5),
        b.coordinator.lock_keys(&keys(&["y"])),
    )
    .await
    .expect("y is free once released")
    .unwrap();
    drop(y);
    let all = tokio::time::timeout(Duration::from_secs(5), b.coordinator.lock_graph())
        .await
        .expect("nothing held")
        .unwrap();
    assert!(
        tokio::time::timeout(short, a.coordinator.lock_keys(&keys(&["x"])))
            .await
            .is_err(),
        "merges wait for whole-graph work"
    );
    drop(all);
    tokio::time::timeout(
        Duration::from_secs(5),
        a.coordinator.lock_keys(&keys(&["x"])),
    )
    .await
    .expect("free again")
    .unwrap();
}

/// Document `i` of a hub test: the hub, a node of its own and a shared harbour, in one
/// sentence (so the hub-harbour relation gains one record per document).
fn hub_doc(i: usize) -> lightrag_core::pipeline::NewDocument {
    doc(
        &format!("hub-{i:03}.txt"),
        &format!("Report {i}: [Hub] met [Node {i:03}] at [Harbour] today."),
    )
}

/// Keeps every description fragment (no LLM: fragments are joined, and bounded unless these
/// are raised), so two builds can be compared fragment by fragment.
const KEEP_ALL: [(&str, &str); 3] = [
    ("FORCE_LLM_SUMMARY_ON_MERGE", "100000"),
    ("SUMMARY_MAX_TOKENS", "10000000"),
    ("MAX_PARALLEL_INSERT", "4"),
];

fn engine(stores: Stores) -> Harness {
    harness(stores, &KEEP_ALL, embedder(), Arc::new(Scripted::default()))
}

fn set_of(joined: &str) -> BTreeSet<String> {
    joined
        .split(GRAPH_FIELD_SEP)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

type NodeView = (String, BTreeSet<String>, BTreeSet<String>);
type EdgeView = (u64, BTreeSet<String>, BTreeSet<String>, String);

/// The graph as sets: what two builds must agree on whatever order their merges ran in.
async fn graph_view(
    h: &Harness,
) -> (
    BTreeMap<String, NodeView>,
    BTreeMap<(String, String), EdgeView>,
) {
    let g = &h.rag.stores().graph;
    let nodes = g.all_nodes().await.unwrap();
    let edges = g.all_edges().await.unwrap();
    let nodes = nodes
        .into_iter()
        .map(|n: Entity| {
            (
                n.entity_id.clone(),
                (n.entity_type, set_of(&n.description), set_of(&n.source_id)),
            )
        })
        .collect();
    let edges = edges
        .into_iter()
        .map(|e: Relation| {
            (
                e.pair(),
                (
                    e.weight.to_bits(),
                    set_of(&e.description),
                    set_of(&e.source_id),
                    e.keywords,
                ),
            )
        })
        .collect();
    (nodes, edges)
}

/// Two processes each insert and process 50 documents that all merge into one hub entity and
/// one hub relation, at the same time. Nothing is lost: every fragment, source and unit of
/// weight is there, and the graph equals the one a single process builds from all 100.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pg_two_processes_merging_one_hub_lose_nothing() {
    let Some(pg) = Pg::new("pg_two_processes_merging_one_hub").await else {
        return;
    };
    let model = embedder().model_name().to_string();
    let open = || async { engine(pg.stores(&model, EMBED_DIM).await.expect("open")) };
    let a = Arc::new(open().await);
    let b = Arc::new(open().await);
    let docs_a: Vec<_> = (0..50).map(hub_doc).collect();
    let docs_b: Vec<_> = (50..100).map(hub_doc).collect();
    // Each inserts its own documents, then both process at once; each claims from the shared
    // queue, so the documents end up spread over the two.
    a.rag.enqueue(docs_a, "a").await.unwrap();
    b.rag.enqueue(docs_b, "b").await.unwrap();
    let (ra, rb) = tokio::join!(
        a.rag.process_pending(Arc::new(NoProgress)),
        b.rag.process_pending(Arc::new(NoProgress))
    );
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert!(
        ra.failed.is_empty() && rb.failed.is_empty(),
        "{ra:?} {rb:?}"
    );
    assert_eq!(ra.processed.len() + rb.processed.len(), 100);
    assert!(
        !ra.processed.is_empty() && !rb.processed.is_empty(),
        "both processes worked: {} and {}",
        ra.processed.len(),
        rb.processed.len()
    );
    let counts = a.rag.stores().doc_status.counts().await.unwrap();
    assert_eq!(counts[&DocStatus::Processed], 100, "{counts:?}");

    let hub = a
        .rag
        .stores()
        .graph
        .get_nodes(&["Hub".to_string()])
        .await
        .unwrap()
        .remove("Hub")
        .expect("the hub");
    assert_eq!(set_of(&hub.source_id).len(), 100, "every source of the hub");
    assert_eq!(set_of(&hub.description).len(), 100, "every fragment");
    let tracked = a
        .rag
        .stores()
        .kv
        .get(Namespace::EntityChunks, "Hub")
        .await
        .unwrap()
        .expect("tracking row");
    assert_eq!(tracked["count"], 100);
    let edge = a
        .rag
        .stores()
        .graph
        .get_edges(&[("Harbour".to_string(), "Hub".to_string())])
        .await
        .unwrap()
        .into_values()
        .next()
        .expect("the hub relation");
    assert_eq!(edge.weight, 100.0, "one unit of weight per document");
    assert_eq!(a.rag.stores().graph.node_count().await.unwrap(), 102);

    // The same documents in one process, in memory.
    let memory = MemoryBackend::new().open(&model, EMBED_DIM).unwrap();
    let single = engine(memory);
    single
        .rag
        .enqueue((0..100).map(hub_doc).collect(), "single")
        .await
        .unwrap();
    let r = single
        .rag
        .process_pending(Arc::new(NoProgress))
        .await
        .unwrap();
    assert_eq!(r.processed.len(), 100);
    let (shared_nodes, shared_edges) = graph_view(&a).await;
    let (single_nodes, single_edges) = graph_view(&single).await;
    assert_eq!(shared_nodes, single_nodes);
    assert_eq!(shared_edges, single_edges);
    assert!(a.rag.check().await.unwrap().is_clean());
}

/// Two processes inserting at once never both win an enqueue decision: the same content under
/// two keys gives one document and one duplicate row, the same key and content one document.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pg_concurrent_enqueues_decide_once() {
    let Some(pg) = Pg::new("pg_concurrent_enqueues").await else {
        return;
    };
    let model = embedder().model_name().to_string();
    let a = engine(pg.stores(&model, EMBED_DIM).await.expect("open"));
    let b = engine(pg.stores(&model, EMBED_DIM).await.expect("open"));
    for round in 0..10 {
        let text = format!("Round {round}: the [Ferry] left the [Harbour] at dawn.");
        // One content, two keys, two processes, at once.
        let (ra, rb) = tokio::join!(
            a.rag
                .enqueue(vec![doc(&format!("a-{round}.txt"), &text)], "a"),
            b.rag
                .enqueue(vec![doc(&format!("b-{round}.txt"), &text)], "b"),
        );
        let outcomes = [ra.unwrap().remove(0), rb.unwrap().remove(0)];
        let added = outcomes
            .iter()
            .filter(|o| matches!(o, lightrag_core::pipeline::EnqueueOutcome::Added { .. }))
            .count();
        let dups = outcomes
            .iter()
            .filter(|o| matches!(o, lightrag_core::pipeline::EnqueueOutcome::Duplicate { .. }))
            .count();
        assert_eq!((added, dups), (1, 1), "round {round}: {outcomes:?}");
        // One key, one content, both processes.
        let key = format!("same-{round}.txt");
        let other = format!("Round {round} again: the [Ferry] came back.");
        let (ra, rb) = tokio::join!(
            a.rag.enqueue(vec![doc(&key, &other)], "a"),
            b.rag.enqueue(vec![doc(&key, &other)], "b"),
        );
        let outcomes = [ra.unwrap().remove(0), rb.unwrap().remove(0)];
        let added = outcomes
            .iter()
            .filter(|o| matches!(o, lightrag_core::pipeline::EnqueueOutcome::Added { .. }))
            .count();
        assert_eq!(added, 1, "round {round}: {outcomes:?}");
    }
    let counts = a.rag.stores().doc_status.counts().await.unwrap();
    assert_eq!(counts[&DocStatus::Pending], 20, "{counts:?}");
}
