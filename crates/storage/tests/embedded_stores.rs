//! The embedded redb stores: key-value, document status and graph on one database file.

use std::collections::HashMap;
use std::path::Path;

use lightrag_core::ports::{DocStatusStore, GraphStore, KvStore, Namespace};
use lightrag_core::types::{DocStatus, DocStatusRecord, Entity, Relation};
use lightrag_core::Error;
use lightrag_storage::embedded::db::{EmbeddedDb, DB_FILE_NAME};
use lightrag_storage::embedded::doc_status::RedbDocStatus;
use lightrag_storage::embedded::graph::RedbGraph;
use lightrag_storage::embedded::kv::RedbKv;
use serde_json::json;

fn open(dir: &Path) -> EmbeddedDb {
    EmbeddedDb::open_in(dir).expect("open database")
}

fn s(x: &str) -> String {
    x.to_string()
}

fn pair(a: &str, b: &str) -> (String, String) {
    (s(a), s(b))
}

fn entity(name: &str) -> Entity {
    Entity {
        entity_id: s(name),
        entity_type: s("person"),
        description: format!("{name} description"),
        source_id: s("chunk-1"),
        file_path: s("a.txt"),
        created_at: 1,
        truncate: String::new(),
    }
}

fn relation(src: &str, tgt: &str, weight: f64) -> Relation {
    Relation {
        src_id: s(src),
        tgt_id: s(tgt),
        weight,
        description: format!("{src} and {tgt}"),
        keywords: s("k"),
        source_id: s("chunk-1"),
        file_path: s("a.txt"),
        created_at: 1,
        truncate: String::new(),
    }
}

fn record(status: DocStatus, created_at: &str, hash: Option<&str>) -> DocStatusRecord {
    DocStatusRecord {
        content_summary: s("summary"),
        content_length: 10,
        file_path: s("a.txt"),
        status,
        created_at: s(created_at),
        updated_at: s(created_at),
        track_id: s("track"),
        chunks_count: 0,
        chunks_list: Vec::new(),
        error_msg: None,
        metadata: serde_json::Map::new(),
        content_hash: hash.map(str::to_string),
    }
}

// ---------------------------------------------------------------- key-value

#[tokio::test]
async fn kv_roundtrip_batch_delete_keys_clear() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    let kv = RedbKv::new(&db);

    assert_eq!(kv.get(Namespace::FullDocs, "x").await.unwrap(), None);
    assert!(kv.keys(Namespace::FullDocs).await.unwrap().is_empty());

    kv.upsert(
        Namespace::FullDocs,
        vec![
            (s("b"), json!({"content": "B"})),
            (s("a"), json!({"content": "A"})),
            (s("c"), json!([1, 2, 3])),
        ],
    )
    .await
    .unwrap();
    kv.upsert(Namespace::TextChunks, vec![(s("a"), json!("chunk"))])
        .await
        .unwrap();

    assert_eq!(
        kv.get(Namespace::FullDocs, "a").await.unwrap(),
        Some(json!({"content": "A"}))
    );
    assert_eq!(
        kv.get(Namespace::TextChunks, "a").await.unwrap(),
        Some(json!("chunk"))
    );
    let many = kv
        .get_many(Namespace::FullDocs, &[s("c"), s("zz"), s("b")])
        .await
        .unwrap();
    assert_eq!(
        many,
        vec![Some(json!([1, 2, 3])), None, Some(json!({"content": "B"}))]
    );
    assert_eq!(
        kv.keys(Namespace::FullDocs).await.unwrap(),
        vec![s("a"), s("b"), s("c")]
    );

    // Replace and delete.
    kv.upsert(
        Namespace::FullDocs,
        vec![(s("a"), json!({"content": "A2"}))],
    )
    .await
    .unwrap();
    assert_eq!(
        kv.get(Namespace::FullDocs, "a").await.unwrap(),
        Some(json!({"content": "A2"}))
    );
    kv.delete(Namespace::FullDocs, &[s("b"), s("missing")])
        .await
        .unwrap();
    assert_eq!(
        kv.keys(Namespace::FullDocs).await.unwrap(),
        vec![s("a"), s("c")]
    );

    // Clear is per namespace.
    kv.clear(Namespace::FullDocs).await.unwrap();
    assert!(kv.keys(Namespace::FullDocs).await.unwrap().is_empty());
    assert_eq!(kv.get(Namespace::FullDocs, "a").await.unwrap(), None);
    assert_eq!(kv.keys(Namespace::TextChunks).await.unwrap(), vec![s("a")]);
    // A cleared namespace can be written again.
    kv.upsert(Namespace::FullDocs, vec![(s("n"), json!(1))])
        .await
        .unwrap();
    assert_eq!(kv.keys(Namespace::FullDocs).await.unwrap(), vec![s("n")]);
}

#[tokio::test]
async fn kv_every_namespace_is_separate() {
    let dir = tempfile::tempdir().unwrap();
    let kv = RedbKv::new(&open(dir.path()));
    for ns in Namespace::ALL {
        kv.upsert(ns, vec![(s("id"), json!(ns.as_str()))])
            .await
            .unwrap();
    }
    for ns in Namespace::ALL {
        assert_eq!(kv.get(ns, "id").await.unwrap(), Some(json!(ns.as_str())));
    }
}

// ---------------------------------------------------------------- document status

#[tokio::test]
async fn doc_status_order_counts_and_index_moves() {
    let dir = tempfile::tempdir().unwrap();
    let ds = RedbDocStatus::new(&open(dir.path())).unwrap();

    let zeros = ds.counts().await.unwrap();
    assert_eq!(zeros.len(), DocStatus::ALL.len());
    assert!(zeros.values().all(|n| *n == 0));

    ds.upsert(vec![
        (s("doc-c"), record(DocStatus::Pending, "2024-01-02", None)),
        (s("doc-b"), record(DocStatus::Pending, "2024-01-01", None)),
        (s("doc-a"), record(DocStatus::Pending, "2024-01-02", None)),
        (s("doc-d"), record(DocStatus::Failed, "2024-01-01T12", None)),
        (s("doc-e"), record(DocStatus::Processed, "2023-12-31", None)),
    ])
    .await
    .unwrap();

    let ids = |rows: Vec<(String, DocStatusRecord)>| -> Vec<String> {
        rows.into_iter().map(|(id, _)| id).collect()
    };
    assert_eq!(
        ids(ds.by_statuses(&[DocStatus::Pending]).await.unwrap()),
        vec![s("doc-b"), s("doc-a"), s("doc-c")]
    );
    assert_eq!(
        ids(ds
            .by_statuses(&[DocStatus::Failed, DocStatus::Pending, DocStatus::Failed])
            .await
            .unwrap()),
        vec![s("doc-b"), s("doc-d"), s("doc-a"), s("doc-c")]
    );
    assert!(ds.by_statuses(&[]).await.unwrap().is_empty());

    let counts = ds.counts().await.unwrap();
    assert_eq!(
        counts,
        HashMap::from([
            (DocStatus::Pending, 3),
            (DocStatus::Processing, 0),
            (DocStatus::Processed, 1),
            (DocStatus::Failed, 1),
        ])
    );

    // A status change moves the index entry and the counts.
    let mut a = ds.get("doc-a").await.unwrap().unwrap();
    a.status = DocStatus::Processing;
    ds.upsert(vec![(s("doc-a"), a)]).await.unwrap();
    assert_eq!(
        ids(ds.by_statuses(&[DocStatus::Pending]).await.unwrap()),
        vec![s("doc-b"), s("doc-c")]
    );
    assert_eq!(
        ids(ds.by_statuses(&[DocStatus::Processing]).await.unwrap()),
        vec![s("doc-a")]
    );
    let counts = ds.counts().await.unwrap();
    assert_eq!(counts[&DocStatus::Pending], 2);
    assert_eq!(counts[&DocStatus::Processing], 1);

    // Delete removes the row and its index entries.
    ds.delete(&[s("doc-b"), s("doc-zz")]).await.unwrap();
    assert_eq!(ds.get("doc-b").await.unwrap(), None);
    assert_eq!(
        ids(ds.by_statuses(&[DocStatus::Pending]).await.unwrap()),
        vec![s("doc-c")]
    );
    assert_eq!(ds.counts().await.unwrap()[&DocStatus::Pending], 1);
}

#[tokio::test]
async fn doc_status_created_at_is_immutable() {
    let dir = tempfile::tempdir().unwrap();
    let ds = RedbDocStatus::new(&open(dir.path())).unwrap();
    ds.upsert(vec![(
        s("doc-1"),
        record(DocStatus::Pending, "2024-01-01", None),
    )])
    .await
    .unwrap();
    let mut later = record(DocStatus::Processed, "2025-06-06", None);
    later.updated_at = s("2025-06-06");
    ds.upsert(vec![(s("doc-1"), later)]).await.unwrap();

    let row = ds.get("doc-1").await.unwrap().unwrap();
    assert_eq!(row.created_at, "2024-01-01");
    assert_eq!(row.updated_at, "2025-06-06");
    assert_eq!(row.status, DocStatus::Processed);
    let rows = ds.by_statuses(&[DocStatus::Processed]).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].1.created_at, "2024-01-01");
}

#[tokio::test]
async fn doc_status_content_hash_lookup() {
    let dir = tempfile::tempdir().unwrap();
    let ds = RedbDocStatus::new(&open(dir.path())).unwrap();
    let mut dup = record(DocStatus::Failed, "2024-01-01", Some("h1"));
    dup.metadata.insert(s("is_duplicate"), json!(true));
    ds.upsert(vec![
        (s("doc-a-dup"), dup),
        (
            s("doc-b"),
            record(DocStatus::Processed, "2024-01-02", Some("h1")),
        ),
        (
            s("doc-c"),
            record(DocStatus::Pending, "2024-01-03", Some("h2")),
        ),
        (s("doc-d"), record(DocStatus::Pending, "2024-01-03", None)),
    ])
    .await
    .unwrap();

    let (id, row) = ds.find_by_content_hash("h1", None).await.unwrap().unwrap();
    assert_eq!(id, "doc-b");
    assert_eq!(row.status, DocStatus::Processed);
    // The only other row with h1 is a duplicate.
    assert_eq!(
        ds.find_by_content_hash("h1", Some("doc-b")).await.unwrap(),
        None
    );
    assert_eq!(
        ds.find_by_content_hash("h2", None)
            .await
            .unwrap()
            .unwrap()
            .0,
        "doc-c"
    );
    assert_eq!(
        ds.find_by_content_hash("h2", Some("doc-c")).await.unwrap(),
        None
    );
    assert_eq!(ds.find_by_content_hash("h", None).await.unwrap(), None);

    // A hash change moves the index entry.
    let mut c = ds.get("doc-c").await.unwrap().unwrap();
    c.content_hash = Some(s("h3"));
    ds.upsert(vec![(s("doc-c"), c)]).await.unwrap();
    assert_eq!(ds.find_by_content_hash("h2", None).await.unwrap(), None);
    assert_eq!(
        ds.find_by_content_hash("h3", None)
            .await
            .unwrap()
            .unwrap()
            .0,
        "doc-c"
    );
}

// ---------------------------------------------------------------- graph

#[tokio::test]
async fn graph_edges_are_undirected() {
    let dir = tempfile::tempdir().unwrap();
    let g = RedbGraph::new(&open(dir.path())).unwrap();
    g.upsert_nodes(vec![entity("A"), entity("B")])
        .await
        .unwrap();
    g.upsert_edges(vec![relation("B", "A", 2.0)]).await.unwrap();

    for query in [pair("A", "B"), pair("B", "A")] {
        let found = g.get_edges(&[query]).await.unwrap();
        let rel = &found[&pair("A", "B")];
        assert_eq!((rel.src_id.as_str(), rel.tgt_id.as_str()), ("A", "B"));
        assert_eq!(rel.weight, 2.0);
    }
    assert_eq!(g.edge_count().await.unwrap(), 1);
    // Upserting the reverse direction replaces the same edge.
    g.upsert_edges(vec![relation("A", "B", 3.0)]).await.unwrap();
    assert_eq!(g.edge_count().await.unwrap(), 1);
    assert_eq!(
        g.get_edges(&[pair("B", "A")]).await.unwrap()[&pair("A", "B")].weight,
        3.0
    );
    let degrees = g.node_degrees(&[s("A"), s("B"), s("C")]).await.unwrap();
    assert_eq!(degrees, HashMap::from([(s("A"), 1), (s("B"), 1)]));
    assert!(g.get_edges(&[pair("A", "C")]).await.unwrap().is_empty());
}

#[tokio::test]
async fn graph_node_edges_heaviest_first_and_weight_updates_move() {
    let dir = tempfile::tempdir().unwrap();
    let g = RedbGraph::new(&open(dir.path())).unwrap();
    g.upsert_nodes(["H", "a", "b", "c", "d"].map(entity).to_vec())
        .await
        .unwrap();
    g.upsert_edges(vec![
        relation("H", "a", 1.0),
        relation("b", "H", 5.0),
        relation("H", "c", 3.0),
        relation("H", "d", 3.0),
    ])
    .await
    .unwrap();

    let others = |rels: &[Relation], me: &str| -> Vec<String> {
        rels.iter()
            .map(|r| {
                if r.src_id == me {
                    r.tgt_id.clone()
                } else {
                    r.src_id.clone()
                }
            })
            .collect()
    };
    let all = g.node_edges(&[s("H")], 10).await.unwrap();
    assert_eq!(
        others(&all[&s("H")], "H"),
        vec![s("b"), s("c"), s("d"), s("a")]
    );
    let capped = g
        .node_edges(&[s("H"), s("a"), s("nobody")], 2)
        .await
        .unwrap();
    assert_eq!(others(&capped[&s("H")], "H"), vec![s("b"), s("c")]);
    assert_eq!(others(&capped[&s("a")], "a"), vec![s("H")]);
    assert!(capped[&s("nobody")].is_empty());
    assert!(g.node_edges(&[s("H")], 0).await.unwrap()[&s("H")].is_empty());

    // Raise a's edge to the top, lower b's to the bottom.
    g.upsert_edges(vec![relation("a", "H", 10.0), relation("H", "b", -1.0)])
        .await
        .unwrap();
    let all = g.node_edges(&[s("H")], 10).await.unwrap();
    assert_eq!(
        others(&all[&s("H")], "H"),
        vec![s("a"), s("c"), s("d"), s("b")]
    );
    assert_eq!(all[&s("H")][0].weight, 10.0);
    // Weight changes do not change degrees.
    let degrees = g.node_degrees(&[s("H"), s("a"), s("b")]).await.unwrap();
    assert_eq!(
        degrees,
        HashMap::from([(s("H"), 4), (s("a"), 1), (s("b"), 1)])
    );
}

#[tokio::test]
async fn graph_remove_nodes_and_edges_fix_neighbours() {
    let dir = tempfile::tempdir().unwrap();
    let g = RedbGraph::new(&open(dir.path())).unwrap();
    g.upsert_nodes(["A", "B", "C", "D"].map(entity).to_vec())
        .await
        .unwrap();
    g.upsert_edges(vec![
        relation("A", "B", 1.0),
        relation("A", "C", 1.0),
        relation("B", "C", 1.0),
        relation("C", "D", 1.0),
        // An endpoint that is not a node yet still counts.
        relation("D", "Ghost", 1.0),
    ])
    .await
    .unwrap();
    let names = [s("A"), s("B"), s("C"), s("D")];
    assert_eq!(
        g.node_degrees(&names).await.unwrap(),
        HashMap::from([(s("A"), 2), (s("B"), 2), (s("C"), 3), (s("D"), 2)])
    );
    assert_eq!(
        g.node_edges(&[s("Ghost")], 5).await.unwrap()[&s("Ghost")].len(),
        1
    );

    g.remove_nodes(&[s("C")]).await.unwrap();
    assert_eq!(g.node_count().await.unwrap(), 3);
    assert_eq!(g.edge_count().await.unwrap(), 2);
    assert!(g.get_nodes(&[s("C")]).await.unwrap().is_empty());
    assert!(g
        .get_edges(&[pair("A", "C"), pair("C", "B"), pair("D", "C")])
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        g.node_degrees(&names).await.unwrap(),
        HashMap::from([(s("A"), 1), (s("B"), 1), (s("D"), 1)])
    );
    let edges = g.node_edges(&[s("A"), s("B"), s("D")], 10).await.unwrap();
    assert_eq!(edges[&s("A")].len(), 1);
    assert_eq!(edges[&s("B")].len(), 1);
    assert_eq!(edges[&s("D")][0].tgt_id, "Ghost");

    g.remove_edges(&[pair("B", "A"), pair("X", "Y")])
        .await
        .unwrap();
    assert_eq!(g.edge_count().await.unwrap(), 1);
    assert_eq!(
        g.node_degrees(&names).await.unwrap(),
        HashMap::from([(s("A"), 0), (s("B"), 0), (s("D"), 1)])
    );
    assert!(g.node_edges(&[s("A")], 10).await.unwrap()[&s("A")].is_empty());

    let all = g.all_edges().await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(
        (all[0].src_id.as_str(), all[0].tgt_id.as_str()),
        ("D", "Ghost")
    );
}

#[tokio::test]
async fn graph_listing_is_sorted_and_weights_must_be_finite() {
    let dir = tempfile::tempdir().unwrap();
    let g = RedbGraph::new(&open(dir.path())).unwrap();
    g.upsert_nodes(["c", "a", "b"].map(entity).to_vec())
        .await
        .unwrap();
    g.upsert_edges(vec![
        relation("c", "b", 1.0),
        relation("b", "a", 1.0),
        relation("c", "a", 1.0),
    ])
    .await
    .unwrap();
    let nodes: Vec<String> = g
        .all_nodes()
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.entity_id)
        .collect();
    assert_eq!(nodes, vec![s("a"), s("b"), s("c")]);
    let edges: Vec<(String, String)> = g
        .all_edges()
        .await
        .unwrap()
        .iter()
        .map(Relation::pair)
        .collect();
    assert_eq!(edges, vec![pair("a", "b"), pair("a", "c"), pair("b", "c")]);

    let err = g
        .upsert_edges(vec![relation("a", "b", f64::NAN)])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)), "{err}");
    // The failed batch changed nothing.
    assert_eq!(
        g.get_edges(&[pair("a", "b")]).await.unwrap()[&pair("a", "b")].weight,
        1.0
    );
}

#[tokio::test]
async fn graph_hub_cap_returns_the_heaviest() {
    let dir = tempfile::tempdir().unwrap();
    let g = RedbGraph::new(&open(dir.path())).unwrap();
    g.upsert_nodes(vec![entity("hub")]).await.unwrap();
    // Weights are a permutation of 0..5000 so the top 10 are 4999..4990.
    let edges: Vec<Relation> = (0..5000u32)
        .map(|i| {
            let w = f64::from((i * 7919) % 5000);
            relation("hub", &format!("n{i:05}"), w)
        })
        .collect();
    g.upsert_edges(edges).await.unwrap();
    assert_eq!(g.edge_count().await.unwrap(), 5000);
    assert_eq!(g.node_degrees(&[s("hub")]).await.unwrap()[&s("hub")], 5000);

    let top = g.node_edges(&[s("hub")], 10).await.unwrap();
    let weights: Vec<f64> = top[&s("hub")].iter().map(|r| r.weight).collect();
    let expected: Vec<f64> = (4990..5000).rev().map(f64::from).collect();
    assert_eq!(weights, expected);
}

// ---------------------------------------------------------------- the database file

#[tokio::test]
async fn reopening_sees_the_same_data() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = open(dir.path());
        RedbKv::new(&db)
            .upsert(
                Namespace::TextChunks,
                vec![(s("c1"), json!({"content": "x"}))],
            )
            .await
            .unwrap();
        RedbDocStatus::new(&db)
            .unwrap()
            .upsert(vec![(
                s("doc-1"),
                record(DocStatus::Processed, "2024", Some("h")),
            )])
            .await
            .unwrap();
        let g = RedbGraph::new(&db).unwrap();
        g.upsert_nodes(vec![entity("A"), entity("B")])
            .await
            .unwrap();
        g.upsert_edges(vec![relation("B", "A", 4.0)]).await.unwrap();
        // A second open of the same file while it is open is refused.
        let err = EmbeddedDb::open_in(dir.path()).unwrap_err();
        assert!(matches!(err, Error::Storage(_)), "{err}");
    }
    let db = open(dir.path());
    assert_eq!(
        RedbKv::new(&db)
            .get(Namespace::TextChunks, "c1")
            .await
            .unwrap(),
        Some(json!({"content": "x"}))
    );
    let ds = RedbDocStatus::new(&db).unwrap();
    assert_eq!(ds.counts().await.unwrap()[&DocStatus::Processed], 1);
    assert_eq!(
        ds.find_by_content_hash("h", None).await.unwrap().unwrap().0,
        "doc-1"
    );
    let g = RedbGraph::new(&db).unwrap();
    assert_eq!(g.node_count().await.unwrap(), 2);
    assert_eq!(g.edge_count().await.unwrap(), 1);
    assert_eq!(
        g.node_edges(&[s("A")], 5).await.unwrap()[&s("A")][0].weight,
        4.0
    );
    assert_eq!(g.node_degrees(&[s("B")]).await.unwrap()[&s("B")], 1);
}

#[test]
fn a_garbage_file_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DB_FILE_NAME);
    let garbage: Vec<u8> = (0..10_000u32).map(|i| (i * 31 % 251) as u8).collect();
    std::fs::write(&path, &garbage).unwrap();

    let err = EmbeddedDb::open_in(dir.path()).unwrap_err();
    let Error::Storage(lightrag_core::StorageError { message: msg, .. }) = &err else {
        panic!("expected a storage error, got {err:?}");
    };
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(msg.contains("damaged or not a lightrag-rs store"), "{msg}");
    assert_eq!(std::fs::read(&path).unwrap(), garbage);
}

#[test]
fn a_damaged_redb_file_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DB_FILE_NAME);
    {
        let _db = EmbeddedDb::open(&path).unwrap();
    }
    // Keep redb's magic number, scramble everything after it.
    let mut bytes = std::fs::read(&path).unwrap();
    for (i, b) in bytes.iter_mut().enumerate().skip(9) {
        *b = (i * 131 % 256) as u8;
    }
    std::fs::write(&path, &bytes).unwrap();

    let err = EmbeddedDb::open(&path).unwrap_err();
    assert!(matches!(err, Error::Storage(_)), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
}
