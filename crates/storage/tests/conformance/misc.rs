//! Cases across every port: empty and large batches, concurrent writers, reopening.

use std::collections::{BTreeSet, HashMap};

use lightrag_core::ports::{DocPageRequest, DocSort, Namespace};
use lightrag_core::types::{DocStatus, Entity, Relation};
use serde_json::{json, Value};

use super::{entity, open, pair, pairs, record, relation, s, strings, vector, Backend, DIM, MODEL};

/// Upsert, read and delete of an empty batch answer empty and change nothing, on an empty
/// store and on a filled one.
pub async fn empty_batches_are_no_ops(backend: &dyn Backend) {
    let st = open(backend).await;
    for round in 0..2 {
        for ns in Namespace::ALL {
            st.kv.upsert(ns, vec![]).await.unwrap();
            assert_eq!(
                st.kv.get_many(ns, &[]).await.unwrap(),
                Vec::<Option<Value>>::new()
            );
            st.kv.delete(ns, &[]).await.unwrap();
        }
        st.doc_status.upsert(vec![]).await.unwrap();
        st.doc_status.delete(&[]).await.unwrap();
        assert!(st.doc_status.by_statuses(&[]).await.unwrap().is_empty());
        st.graph.upsert_nodes(vec![]).await.unwrap();
        st.graph.upsert_edges(vec![]).await.unwrap();
        st.graph.remove_nodes(&[]).await.unwrap();
        st.graph.remove_edges(&[]).await.unwrap();
        assert!(st.graph.get_nodes(&[]).await.unwrap().is_empty());
        assert!(st.graph.get_edges(&[]).await.unwrap().is_empty());
        assert!(st.graph.node_degrees(&[]).await.unwrap().is_empty());
        assert!(st.graph.node_edges(&[], 5).await.unwrap().is_empty());
        assert!(st.graph.edges_among(&[]).await.unwrap().is_empty());
        for set in [&st.chunks_vdb, &st.entities_vdb, &st.relationships_vdb] {
            set.upsert(vec![]).await.unwrap();
            set.delete(&[]).await.unwrap();
            assert!(set.get_vectors(&[]).await.unwrap().is_empty());
            assert!(set.get_meta(&[]).await.unwrap().is_empty());
        }
        if round == 0 {
            // Fill every store, then do it all again: nothing may change.
            st.kv
                .upsert(Namespace::FullDocs, vec![(s("k"), json!(1))])
                .await
                .unwrap();
            st.doc_status
                .upsert(vec![(s("d"), record(DocStatus::Pending, "1", Some("h")))])
                .await
                .unwrap();
            st.graph
                .upsert_nodes(vec![entity("A"), entity("B")])
                .await
                .unwrap();
            st.graph
                .upsert_edges(vec![relation("A", "B", 1.0)])
                .await
                .unwrap();
            st.chunks_vdb
                .upsert(vec![vector("v", [1.0, 0.0, 0.0, 0.0], json!({}))])
                .await
                .unwrap();
        }
    }
    assert_eq!(st.kv.keys(Namespace::FullDocs).await.unwrap(), vec![s("k")]);
    assert_eq!(
        st.doc_status.counts().await.unwrap()[&DocStatus::Pending],
        1
    );
    assert_eq!(st.graph.labels().await.unwrap(), strings(&["A", "B"]));
    assert_eq!(
        pairs(&st.graph.all_edges().await.unwrap()),
        vec![pair("A", "B")]
    );
    assert_eq!(st.chunks_vdb.ids().await.unwrap(), vec![s("v")]);
}

const N: usize = 10_000;

fn id(prefix: &str, i: usize) -> String {
    format!("{prefix}-{i:05}")
}

/// Batches of 10,000 ids through every port (a database adapter must split what exceeds
/// its statement limits): upsert, batch reads with missing ids, delete.
pub async fn large_batches(backend: &dyn Backend) {
    let st = open(backend).await;
    // Key-value.
    let ns = Namespace::TextChunks;
    let items: Vec<(String, Value)> = (0..N).map(|i| (id("k", i), json!({"i": i}))).collect();
    st.kv.upsert(ns, items).await.unwrap();
    let keys = st.kv.keys(ns).await.unwrap();
    assert_eq!(keys, (0..N).map(|i| id("k", i)).collect::<Vec<_>>());
    // Every other id asked is missing.
    let asked: Vec<String> = (0..N)
        .map(|i| if i % 2 == 0 { id("k", i) } else { id("x", i) })
        .collect();
    let got = st.kv.get_many(ns, &asked).await.unwrap();
    assert_eq!(got.len(), N);
    for (i, v) in got.iter().enumerate() {
        assert_eq!(v, &(i % 2 == 0).then(|| json!({"i": i})), "{i}");
    }
    let gone: Vec<String> = (0..N).filter(|i| i % 4 != 0).map(|i| id("k", i)).collect();
    st.kv.delete(ns, &gone).await.unwrap();
    assert_eq!(
        st.kv.keys(ns).await.unwrap(),
        (0..N).step_by(4).map(|i| id("k", i)).collect::<Vec<_>>()
    );
    st.kv.delete(ns, &keys).await.unwrap();
    assert!(st.kv.keys(ns).await.unwrap().is_empty());

    // Document status.
    let rows = (0..N)
        .map(|i| {
            let status = DocStatus::ALL[i % 4];
            (
                id("doc", i),
                record(status, &format!("2024-{i:05}"), Some(&id("h", i))),
            )
        })
        .collect();
    st.doc_status.upsert(rows).await.unwrap();
    assert_eq!(
        st.doc_status.counts().await.unwrap(),
        DocStatus::ALL
            .iter()
            .map(|s| (*s, N / 4))
            .collect::<HashMap<_, _>>()
    );
    let pending = st
        .doc_status
        .by_statuses(&[DocStatus::Pending])
        .await
        .unwrap();
    assert_eq!(pending.len(), N / 4);
    assert_eq!(pending[1].0, id("doc", 4));
    let page = st
        .doc_status
        .page(&DocPageRequest {
            statuses: DocStatus::ALL.to_vec(),
            sort: DocSort::Id,
            descending: true,
            offset: 9_990,
            limit: 20,
        })
        .await
        .unwrap();
    assert_eq!(page.total, N);
    assert_eq!(
        super::ids(&page.rows),
        (0..10).rev().map(|i| id("doc", i)).collect::<Vec<_>>()
    );
    let all_docs: Vec<String> = (0..N).map(|i| id("doc", i)).collect();
    st.doc_status.delete(&all_docs).await.unwrap();
    assert_eq!(
        st.doc_status
            .counts()
            .await
            .unwrap()
            .values()
            .sum::<usize>(),
        0
    );

    // Graph: a chain of 10,000 nodes.
    let nodes: Vec<Entity> = (0..N).map(|i| entity(&id("n", i))).collect();
    st.graph.upsert_nodes(nodes).await.unwrap();
    let edges: Vec<Relation> = (1..N)
        .map(|i| relation(&id("n", i), &id("n", i - 1), i as f64))
        .collect();
    st.graph.upsert_edges(edges).await.unwrap();
    assert_eq!(st.graph.node_count().await.unwrap(), N);
    assert_eq!(st.graph.edge_count().await.unwrap(), N - 1);
    let names: Vec<String> = (0..N)
        .map(|i| id("n", i))
        .chain((0..10).map(|i| id("missing", i)))
        .collect();
    assert_eq!(st.graph.get_nodes(&names).await.unwrap().len(), N);
    let degrees = st.graph.node_degrees(&names).await.unwrap();
    assert_eq!(degrees.len(), N);
    assert_eq!(degrees.values().sum::<usize>(), 2 * (N - 1));
    let chain: Vec<(String, String)> = (1..N).map(|i| (id("n", i), id("n", i - 1))).collect();
    assert_eq!(st.graph.get_edges(&chain).await.unwrap().len(), N - 1);
    let edges = st.graph.node_edges(&names, 1).await.unwrap();
    assert_eq!(edges.len(), N + 10);
    assert_eq!(
        pairs(&edges[&id("n", 5)]),
        vec![pair(&id("n", 5), &id("n", 6))]
    );
    assert_eq!(st.graph.edges_among(&names).await.unwrap().len(), N - 1);
    st.graph.remove_edges(&chain[..N / 2]).await.unwrap();
    assert_eq!(st.graph.edge_count().await.unwrap(), N - 1 - N / 2);
    st.graph.remove_nodes(&names).await.unwrap();
    assert_eq!(
        (
            st.graph.node_count().await.unwrap(),
            st.graph.edge_count().await.unwrap()
        ),
        (0, 0)
    );

    // Vectors: spread pseudo-randomly, so an approximate index finds each one.
    let spread = |i: usize| -> [f32; DIM] {
        let mut x = (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        std::array::from_fn(|_| {
            x ^= x >> 29;
            x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
            x ^= x >> 32;
            (x % 2001) as f32 / 1000.0 - 1.0
        })
    };
    let records = (0..N)
        .map(|i| vector(&id("v", i), spread(i), json!({"i": i})))
        .collect();
    let set = &st.chunks_vdb;
    set.upsert(records).await.unwrap();
    let vids: Vec<String> = (0..N).map(|i| id("v", i)).collect();
    assert_eq!(set.ids().await.unwrap(), vids);
    let asked: Vec<String> = vids
        .iter()
        .cloned()
        .chain((0..10).map(|i| id("missing", i)))
        .collect();
    assert_eq!(set.get_vectors(&asked).await.unwrap().len(), N);
    let metas = set.get_meta(&asked).await.unwrap();
    assert_eq!(metas.len(), N);
    assert_eq!(metas[&id("v", 1234)], json!({"i": 1234}));
    let hits = set.query(&spread(1234), 3, -1.0).await.unwrap();
    assert_eq!(hits.len(), 3);
    assert_eq!(
        (hits[0].id.clone(), &hits[0].meta),
        (id("v", 1234), &json!({"i": 1234}))
    );
    assert!(
        hits[0].score > 0.9999 && hits[0].score >= hits[1].score && hits[1].score >= hits[2].score
    );
    set.delete(&vids[..N - 1]).await.unwrap();
    assert_eq!(set.ids().await.unwrap(), vec![id("v", N - 1)]);
}

/// Many tasks write one id at once: no error, and the result is one of the written values
/// (for the graph, one edge with the degrees of one edge).
pub async fn concurrent_upserts_of_one_id(backend: &dyn Backend) {
    let st = open(backend).await;
    const TASKS: usize = 32;
    let mut tasks: tokio::task::JoinSet<lightrag_core::Result<()>> = tokio::task::JoinSet::new();
    for t in 0..TASKS {
        let st = st.clone();
        tasks.spawn(async move {
            st.kv
                .upsert(Namespace::FullDocs, vec![(s("same"), json!({"writer": t}))])
                .await?;
            let mut row = record(DocStatus::Pending, &format!("c{t:02}"), None);
            row.content_summary = format!("writer {t}");
            st.doc_status.upsert(vec![(s("same"), row)]).await?;
            st.graph
                .upsert_nodes(vec![entity("A"), entity("B")])
                .await?;
            let (a, b) = if t % 2 == 0 { ("A", "B") } else { ("B", "A") };
            st.graph
                .upsert_edges(vec![relation(a, b, t as f64)])
                .await?;
            let v = [1.0, t as f32, 0.0, 0.0];
            st.chunks_vdb
                .upsert(vec![vector("same", v, json!({"writer": t}))])
                .await?;
            lightrag_core::Result::Ok(())
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.expect("task")
            .unwrap_or_else(|e| panic!("{}: {e}", backend.name()));
    }
    let writers: BTreeSet<usize> = (0..TASKS).collect();
    let writer = |v: &Value| v["writer"].as_u64().map(|w| w as usize);

    let kv = st
        .kv
        .get(Namespace::FullDocs, "same")
        .await
        .unwrap()
        .unwrap();
    assert!(writer(&kv).is_some_and(|w| writers.contains(&w)), "{kv}");
    assert_eq!(
        st.kv.keys(Namespace::FullDocs).await.unwrap(),
        vec![s("same")]
    );

    let row = st.doc_status.get("same").await.unwrap().unwrap();
    let t: usize = row.content_summary["writer ".len()..].parse().unwrap();
    assert!(writers.contains(&t));
    // The first write's created_at stays: one of the written ones, whichever came first.
    assert!(row.created_at.starts_with('c'), "{}", row.created_at);
    assert_eq!(
        st.doc_status.counts().await.unwrap()[&DocStatus::Pending],
        1
    );

    let edges = st.graph.all_edges().await.unwrap();
    assert_eq!(edges.len(), 1);
    assert_eq!(edges[0].pair(), pair("A", "B"));
    assert!(
        edges[0].weight >= 0.0 && edges[0].weight < TASKS as f64 && edges[0].weight.fract() == 0.0
    );
    assert_eq!(
        st.graph.node_degrees(&strings(&["A", "B"])).await.unwrap(),
        HashMap::from([(s("A"), 1), (s("B"), 1)])
    );
    let listed = st
        .graph
        .node_edges(&strings(&["A", "B"]), 10)
        .await
        .unwrap();
    assert_eq!(listed[&s("A")], edges);
    assert_eq!(listed[&s("B")], edges);

    assert_eq!(st.chunks_vdb.ids().await.unwrap(), vec![s("same")]);
    let meta = &st.chunks_vdb.get_meta(&[s("same")]).await.unwrap()[&s("same")];
    let w = writer(meta).expect("writer");
    assert!(writers.contains(&w));
    // Vector and metadata come from the same write.
    assert_eq!(
        st.chunks_vdb.get_vectors(&[s("same")]).await.unwrap()[&s("same")],
        vec![1.0, w as f32, 0.0, 0.0]
    );
    let hits = st
        .chunks_vdb
        .query(&[1.0, w as f32, 0.0, 0.0], 5, 0.0)
        .await
        .unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!((hits[0].id.as_str(), &hits[0].meta), ("same", meta));
}

/// What one open wrote, the next open sees, in every store.
pub async fn reopen_sees_the_same_data(backend: &dyn Backend) {
    let st = open(backend).await;
    st.kv
        .upsert(
            Namespace::TextChunks,
            vec![(s("c1"), json!({"content": "x"}))],
        )
        .await
        .unwrap();
    st.kv
        .upsert(
            Namespace::LlmResponseCache,
            vec![(s("default:extract:1"), json!({"return": "{}"}))],
        )
        .await
        .unwrap();
    let mut row = record(DocStatus::Processed, "2024", Some("h"));
    row.track_id = s("t1");
    st.doc_status
        .upsert(vec![(s("doc-1"), row.clone())])
        .await
        .unwrap();
    st.graph
        .upsert_nodes(vec![entity("A"), entity("B"), entity("C")])
        .await
        .unwrap();
    st.graph
        .upsert_edges(vec![relation("B", "A", 4.0), relation("A", "C", 1.0)])
        .await
        .unwrap();
    st.entities_vdb
        .upsert(vec![vector(
            "ent-a",
            [0.0, 1.0, 0.0, 0.0],
            json!({"entity_name": "A"}),
        )])
        .await
        .unwrap();
    st.entities_vdb.flush().await.unwrap();
    drop(st);

    let st = backend.open(MODEL, DIM).await.unwrap();
    assert_eq!(
        st.kv.get(Namespace::TextChunks, "c1").await.unwrap(),
        Some(json!({"content": "x"}))
    );
    assert_eq!(
        st.kv.keys(Namespace::LlmResponseCache).await.unwrap(),
        vec![s("default:extract:1")]
    );
    assert_eq!(st.doc_status.get("doc-1").await.unwrap(), Some(row.clone()));
    assert_eq!(
        st.doc_status.counts().await.unwrap()[&DocStatus::Processed],
        1
    );
    assert_eq!(
        st.doc_status.find_by_content_hash("h", None).await.unwrap(),
        Some((s("doc-1"), row))
    );
    assert_eq!(
        super::ids(&st.doc_status.by_track_id("t1").await.unwrap()),
        vec![s("doc-1")]
    );
    assert_eq!(st.graph.labels().await.unwrap(), strings(&["A", "B", "C"]));
    assert_eq!(
        pairs(&st.graph.all_edges().await.unwrap()),
        vec![pair("A", "B"), pair("A", "C")]
    );
    assert_eq!(
        pairs(&st.graph.node_edges(&[s("A")], 5).await.unwrap()[&s("A")]),
        vec![pair("A", "B"), pair("A", "C")]
    );
    assert_eq!(
        st.graph.top_labels(5).await.unwrap(),
        vec![(s("A"), 2), (s("B"), 1), (s("C"), 1)]
    );
    assert_eq!(st.entities_vdb.ids().await.unwrap(), vec![s("ent-a")]);
    let hits = st
        .entities_vdb
        .query(&[0.0, 1.0, 0.0, 0.0], 5, 0.5)
        .await
        .unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(
        (hits[0].id.as_str(), &hits[0].meta),
        ("ent-a", &json!({"entity_name": "A"}))
    );
    assert!(st.chunks_vdb.ids().await.unwrap().is_empty());
}
