//! [`GraphStore`]: nodes, undirected edges, degrees, listings and label queries.

use std::collections::HashMap;

use lightrag_core::types::Relation;
use lightrag_core::Error;

use super::{entity, open, pair, pairs, relation, s, strings, Backend};

/// The other end of each edge of `me`, in order.
fn others(rels: &[Relation], me: &str) -> Vec<String> {
    rels.iter()
        .map(|r| {
            if r.src_id == me {
                r.tgt_id.clone()
            } else {
                r.src_id.clone()
            }
        })
        .collect()
}

/// Nodes by name: missing names are absent, a replace keeps one node with the new fields.
pub async fn graph_nodes_round_trip(backend: &dyn Backend) {
    let g = open(backend).await.graph;
    assert!(g.get_nodes(&strings(&["A"])).await.unwrap().is_empty());
    let mut a = entity("A");
    a.description = s("A — ünïcödé<SEP>second");
    a.truncate = s("KEEP 1/2");
    let b = entity("日本");
    g.upsert_nodes(vec![a.clone(), b.clone()]).await.unwrap();
    assert_eq!(
        g.get_nodes(&strings(&["A", "日本", "C", "A"]))
            .await
            .unwrap(),
        HashMap::from([(s("A"), a.clone()), (s("日本"), b.clone())])
    );
    let mut a2 = entity("A");
    a2.entity_type = s("organization");
    a2.created_at = 2;
    g.upsert_nodes(vec![a2.clone()]).await.unwrap();
    assert_eq!(
        g.get_nodes(&[s("A")]).await.unwrap(),
        HashMap::from([(s("A"), a2)])
    );
    assert_eq!(g.node_count().await.unwrap(), 2);
    // Within a batch the last node of a name wins.
    let mut a3 = entity("A");
    a3.description = s("last");
    g.upsert_nodes(vec![entity("A"), a3.clone()]).await.unwrap();
    assert_eq!(g.get_nodes(&[s("A")]).await.unwrap()[&s("A")], a3);
    assert_eq!(g.node_count().await.unwrap(), 2);
}

/// An edge is found by either order of its ends, stored with `src_id <= tgt_id`, and
/// upserting the reverse direction replaces it.
pub async fn graph_edges_are_undirected(backend: &dyn Backend) {
    let g = open(backend).await.graph;
    g.upsert_nodes(vec![entity("A"), entity("B")])
        .await
        .unwrap();
    g.upsert_edges(vec![relation("B", "A", 2.0)]).await.unwrap();
    let mut want = relation("A", "B", 2.0);
    want.description = s("B and A");
    for query in [pair("A", "B"), pair("B", "A")] {
        let found = g.get_edges(&[query]).await.unwrap();
        assert_eq!(found, HashMap::from([(pair("A", "B"), want.clone())]));
    }
    assert_eq!(g.edge_count().await.unwrap(), 1);
    g.upsert_edges(vec![relation("A", "B", 3.0)]).await.unwrap();
    assert_eq!(g.edge_count().await.unwrap(), 1);
    assert_eq!(
        g.get_edges(&[pair("B", "A")]).await.unwrap(),
        HashMap::from([(pair("A", "B"), relation("A", "B", 3.0))])
    );
    assert_eq!(
        g.node_degrees(&strings(&["A", "B", "C"])).await.unwrap(),
        HashMap::from([(s("A"), 1), (s("B"), 1)])
    );
    assert!(g.get_edges(&[pair("A", "C")]).await.unwrap().is_empty());
    let both = g
        .get_edges(&[pair("B", "A"), pair("A", "B"), pair("C", "A")])
        .await
        .unwrap();
    assert_eq!(
        both.keys().cloned().collect::<Vec<_>>(),
        vec![pair("A", "B")]
    );
    assert_eq!(g.all_edges().await.unwrap(), vec![relation("A", "B", 3.0)]);
}

/// A node's edges heaviest first (ties by the neighbour's name), at most `cap`; weight
/// updates move an edge; an entry for every name asked.
pub async fn graph_node_edges_heaviest_first_with_cap(backend: &dyn Backend) {
    let g = open(backend).await.graph;
    g.upsert_nodes(["H", "a", "b", "c", "d"].map(entity).to_vec())
        .await
        .unwrap();
    g.upsert_edges(vec![
        relation("H", "a", 1.0),
        relation("b", "H", 5.0),
        relation("H", "d", 3.0),
        relation("H", "c", 3.0),
    ])
    .await
    .unwrap();
    let all = g.node_edges(&[s("H")], 10).await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(others(&all[&s("H")], "H"), strings(&["b", "c", "d", "a"]));
    assert_eq!(
        all[&s("H")].iter().map(|r| r.weight).collect::<Vec<_>>(),
        vec![5.0, 3.0, 3.0, 1.0]
    );
    // Stored edges come back as stored: sorted ends.
    assert_eq!(all[&s("H")][0].pair(), pair("H", "b"));
    let capped = g
        .node_edges(&strings(&["H", "a", "nobody"]), 2)
        .await
        .unwrap();
    assert_eq!(capped.len(), 3);
    assert_eq!(others(&capped[&s("H")], "H"), strings(&["b", "c"]));
    assert_eq!(others(&capped[&s("a")], "a"), strings(&["H"]));
    assert!(capped[&s("nobody")].is_empty());
    let zero = g.node_edges(&strings(&["H", "a"]), 0).await.unwrap();
    assert_eq!(zero.len(), 2);
    assert!(zero.values().all(Vec::is_empty));
    assert!(g.node_edges(&[], 10).await.unwrap().is_empty());

    // Raise a's edge to the top, lower b's to the bottom (negative and zero weights too).
    g.upsert_edges(vec![
        relation("a", "H", 10.0),
        relation("H", "b", -1.0),
        relation("H", "c", 0.0),
    ])
    .await
    .unwrap();
    let all = g.node_edges(&[s("H")], usize::MAX).await.unwrap();
    assert_eq!(others(&all[&s("H")], "H"), strings(&["a", "d", "c", "b"]));
    assert_eq!(
        all[&s("H")].iter().map(|r| r.weight).collect::<Vec<_>>(),
        vec![10.0, 3.0, 0.0, -1.0]
    );
    assert_eq!(
        g.node_degrees(&strings(&["H", "a", "b"])).await.unwrap(),
        HashMap::from([(s("H"), 4), (s("a"), 1), (s("b"), 1)])
    );
    // -0.0 is the same weight as 0.0: tie with c broken by name.
    g.upsert_edges(vec![relation("H", "d", -0.0)])
        .await
        .unwrap();
    let all = g.node_edges(&[s("H")], 10).await.unwrap();
    assert_eq!(others(&all[&s("H")], "H"), strings(&["a", "c", "d", "b"]));
}

/// A hub's first edges are its heaviest ones, whatever order they were written in.
pub async fn graph_hub_cap_returns_the_heaviest(backend: &dyn Backend) {
    let g = open(backend).await.graph;
    g.upsert_nodes(vec![entity("hub")]).await.unwrap();
    // Weights are a permutation of 0..5000, so the top 10 are 4999..4990.
    let edges: Vec<Relation> = (0..5000u32)
        .map(|i| relation("hub", &format!("n{i:05}"), f64::from((i * 7919) % 5000)))
        .collect();
    g.upsert_edges(edges).await.unwrap();
    assert_eq!(g.edge_count().await.unwrap(), 5000);
    assert_eq!(g.node_degrees(&[s("hub")]).await.unwrap()[&s("hub")], 5000);
    let top = g.node_edges(&[s("hub")], 10).await.unwrap();
    let weights: Vec<f64> = top[&s("hub")].iter().map(|r| r.weight).collect();
    let expected: Vec<f64> = (4990..5000).rev().map(f64::from).collect();
    assert_eq!(weights, expected);
    // n(i) has weight i*7919 mod 5000; 4999 is reached at i = 2321.
    assert_eq!(top[&s("hub")][0].pair(), pair("hub", "n02321"));
}

/// Degrees of the existing nodes asked: zero without edges, edges to missing nodes count,
/// a self-loop counts once.
pub async fn graph_node_degrees(backend: &dyn Backend) {
    let g = open(backend).await.graph;
    g.upsert_nodes(["A", "B", "C", "L", "Lonely"].map(entity).to_vec())
        .await
        .unwrap();
    g.upsert_edges(vec![
        relation("A", "B", 1.0),
        relation("A", "C", 1.0),
        relation("A", "Ghost", 1.0),
        relation("L", "L", 1.0),
        relation("L", "A", 1.0),
    ])
    .await
    .unwrap();
    assert_eq!(
        g.node_degrees(&strings(&[
            "A", "B", "C", "L", "Lonely", "Ghost", "Nobody", "A"
        ]))
        .await
        .unwrap(),
        HashMap::from([
            (s("A"), 4),
            (s("B"), 1),
            (s("C"), 1),
            (s("L"), 2),
            (s("Lonely"), 0),
        ])
    );
    assert_eq!(g.edge_count().await.unwrap(), 5);
    // The self-loop is one edge of L, with both ends L.
    let l = g.node_edges(&[s("L")], 10).await.unwrap();
    assert_eq!(pairs(&l[&s("L")]), vec![pair("A", "L"), pair("L", "L")]);
    assert_eq!(
        g.get_edges(&[pair("L", "L")]).await.unwrap()[&pair("L", "L")].pair(),
        pair("L", "L")
    );
    // The missing endpoint has its edge too, but no degree (it is not a node).
    let ghost = g.node_edges(&[s("Ghost")], 10).await.unwrap();
    assert_eq!(pairs(&ghost[&s("Ghost")]), vec![pair("A", "Ghost")]);
    // Once the node exists, its edge counts.
    g.upsert_nodes(vec![entity("Ghost")]).await.unwrap();
    assert_eq!(
        g.node_degrees(&[s("Ghost")]).await.unwrap(),
        HashMap::from([(s("Ghost"), 1)])
    );
    assert!(g.node_degrees(&[]).await.unwrap().is_empty());
}

/// Removing nodes removes every edge touching them and fixes the neighbours' degrees and
/// adjacency; a missing name is ignored.
pub async fn graph_remove_nodes_fixes_neighbours(backend: &dyn Backend) {
    let g = open(backend).await.graph;
    g.upsert_nodes(["A", "B", "C", "D"].map(entity).to_vec())
        .await
        .unwrap();
    g.upsert_edges(vec![
        relation("A", "B", 1.0),
        relation("A", "C", 1.0),
        relation("B", "C", 1.0),
        relation("C", "D", 1.0),
        relation("C", "C", 1.0),
        // An endpoint that is not a node yet still counts.
        relation("D", "Ghost", 1.0),
    ])
    .await
    .unwrap();
    let names = strings(&["A", "B", "C", "D"]);
    assert_eq!(
        g.node_degrees(&names).await.unwrap(),
        HashMap::from([(s("A"), 2), (s("B"), 2), (s("C"), 4), (s("D"), 2)])
    );

    g.remove_nodes(&strings(&["C", "Nobody", "C"]))
        .await
        .unwrap();
    assert_eq!(g.node_count().await.unwrap(), 3);
    assert_eq!(g.labels().await.unwrap(), strings(&["A", "B", "D"]));
    assert!(g.get_nodes(&[s("C")]).await.unwrap().is_empty());
    assert_eq!(
        pairs(&g.all_edges().await.unwrap()),
        vec![pair("A", "B"), pair("D", "Ghost")]
    );
    assert!(g
        .get_edges(&[
            pair("A", "C"),
            pair("C", "B"),
            pair("D", "C"),
            pair("C", "C")
        ])
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        g.node_degrees(&names).await.unwrap(),
        HashMap::from([(s("A"), 1), (s("B"), 1), (s("D"), 1)])
    );
    let edges = g
        .node_edges(&strings(&["A", "B", "C", "D"]), 10)
        .await
        .unwrap();
    assert_eq!(pairs(&edges[&s("A")]), vec![pair("A", "B")]);
    assert_eq!(pairs(&edges[&s("B")]), vec![pair("A", "B")]);
    assert_eq!(pairs(&edges[&s("C")]), vec![]);
    assert_eq!(pairs(&edges[&s("D")]), vec![pair("D", "Ghost")]);
    assert_eq!(
        g.top_labels(10).await.unwrap(),
        vec![(s("A"), 1), (s("B"), 1), (s("D"), 1)]
    );

    // Removing a name that is only an edge endpoint removes its edges.
    g.remove_nodes(&[s("Ghost")]).await.unwrap();
    assert_eq!(pairs(&g.all_edges().await.unwrap()), vec![pair("A", "B")]);
    assert_eq!(g.node_degrees(&[s("D")]).await.unwrap()[&s("D")], 0);
    // A removed node added again starts without edges.
    g.upsert_nodes(vec![entity("C")]).await.unwrap();
    assert_eq!(g.node_degrees(&[s("C")]).await.unwrap()[&s("C")], 0);
    assert!(g.node_edges(&[s("C")], 10).await.unwrap()[&s("C")].is_empty());
}

/// Removing edges by either order of their ends; missing pairs are ignored; nodes stay.
pub async fn graph_remove_edges(backend: &dyn Backend) {
    let g = open(backend).await.graph;
    g.upsert_nodes(["A", "B", "C"].map(entity).to_vec())
        .await
        .unwrap();
    g.upsert_edges(vec![
        relation("A", "B", 1.0),
        relation("B", "C", 2.0),
        relation("C", "A", 3.0),
        relation("C", "C", 4.0),
    ])
    .await
    .unwrap();
    g.remove_edges(&[
        pair("B", "A"),
        pair("X", "Y"),
        pair("C", "C"),
        pair("A", "B"),
    ])
    .await
    .unwrap();
    assert_eq!(g.edge_count().await.unwrap(), 2);
    assert_eq!(g.node_count().await.unwrap(), 3);
    assert_eq!(
        pairs(&g.all_edges().await.unwrap()),
        vec![pair("A", "C"), pair("B", "C")]
    );
    assert_eq!(
        g.node_degrees(&strings(&["A", "B", "C"])).await.unwrap(),
        HashMap::from([(s("A"), 1), (s("B"), 1), (s("C"), 2)])
    );
    let edges = g.node_edges(&strings(&["A", "C"]), 10).await.unwrap();
    assert_eq!(others(&edges[&s("A")], "A"), strings(&["C"]));
    assert_eq!(others(&edges[&s("C")], "C"), strings(&["A", "B"]));
    g.remove_edges(&[pair("C", "A"), pair("B", "C")])
        .await
        .unwrap();
    assert_eq!(g.edge_count().await.unwrap(), 0);
    assert_eq!(
        g.node_degrees(&strings(&["A", "B", "C"])).await.unwrap(),
        HashMap::from([(s("A"), 0), (s("B"), 0), (s("C"), 0)])
    );
    assert!(g.node_edges(&[s("C")], 10).await.unwrap()[&s("C")].is_empty());
}

/// Counts, and every listing sorted: nodes by name, edges by pair, labels by name (names of
/// nodes only, not of missing endpoints).
pub async fn graph_counts_and_sorted_listings(backend: &dyn Backend) {
    let g = open(backend).await.graph;
    assert_eq!(
        (g.node_count().await.unwrap(), g.edge_count().await.unwrap()),
        (0, 0)
    );
    assert!(g.all_nodes().await.unwrap().is_empty());
    assert!(g.all_edges().await.unwrap().is_empty());
    assert!(g.labels().await.unwrap().is_empty());
    g.upsert_nodes(["c", "a", "B", "é", "b"].map(entity).to_vec())
        .await
        .unwrap();
    g.upsert_edges(vec![
        relation("c", "b", 1.0),
        relation("b", "a", 1.0),
        relation("c", "a", 1.0),
        relation("é", "B", 1.0),
        relation("a", "Zed", 1.0),
    ])
    .await
    .unwrap();
    assert_eq!(
        (g.node_count().await.unwrap(), g.edge_count().await.unwrap()),
        (5, 5)
    );
    let nodes: Vec<String> = g
        .all_nodes()
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.entity_id)
        .collect();
    assert_eq!(nodes, strings(&["B", "a", "b", "c", "é"]));
    assert_eq!(g.all_nodes().await.unwrap()[1], entity("a"));
    assert_eq!(
        pairs(&g.all_edges().await.unwrap()),
        vec![
            pair("B", "é"),
            pair("Zed", "a"),
            pair("a", "b"),
            pair("a", "c"),
            pair("b", "c"),
        ]
    );
    assert_eq!(
        g.labels().await.unwrap(),
        strings(&["B", "a", "b", "c", "é"])
    );
}

/// Exact match, then prefix, then containing (word starts first, then shorter names), ties
/// by name; case-insensitive; at most `limit`; only names of nodes.
pub async fn graph_search_labels_ranking(backend: &dyn Backend) {
    let g = open(backend).await.graph;
    g.upsert_nodes(
        [
            "Orin",
            "Orin Lines",
            "ORIN-X",
            "Lake Orin",
            "lake_orin",
            "Borin",
            "Taborin Lake",
            "x",
            "Oslo",
        ]
        .map(entity)
        .to_vec(),
    )
    .await
    .unwrap();
    g.upsert_edges(vec![relation("Orin", "Orinoco", 1.0)])
        .await
        .unwrap();
    // Scores: Orin 1000; ORIN-X and Orin Lines 500 (prefix, ties by name); Lake Orin and
    // lake_orin 100-9+50 = 141; Borin 100-5 = 95; Taborin Lake 100-12 = 88.
    let all = strings(&[
        "Orin",
        "ORIN-X",
        "Orin Lines",
        "Lake Orin",
        "lake_orin",
        "Borin",
        "Taborin Lake",
    ]);
    assert_eq!(g.search_labels("orin", 100).await.unwrap(), all);
    assert_eq!(g.search_labels("orin", 3).await.unwrap(), all[..3].to_vec());
    assert_eq!(g.search_labels("orin", 1).await.unwrap(), all[..1].to_vec());
    assert_eq!(
        g.search_labels("orin", 0).await.unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(
        g.search_labels("lake", 10).await.unwrap(),
        strings(&["Lake Orin", "lake_orin", "Taborin Lake"])
    );
    assert_eq!(
        g.search_labels("o", 2).await.unwrap(),
        strings(&["ORIN-X", "Orin"])
    );
    assert_eq!(
        g.search_labels("zzz", 10).await.unwrap(),
        Vec::<String>::new()
    );
    // "Orinoco" is only an edge endpoint, not a node.
    assert_eq!(
        g.search_labels("orinoco", 10).await.unwrap(),
        Vec::<String>::new()
    );
    // Non-ASCII names match case-insensitively too.
    g.upsert_nodes(vec![entity("Ärger"), entity("Großes Ärgernis")])
        .await
        .unwrap();
    assert_eq!(
        g.search_labels("ärger", 10).await.unwrap(),
        strings(&["Ärger", "Großes Ärgernis"])
    );
}

/// Existing nodes by degree (highest first, ties by name), then nodes without edges by name,
/// at most `limit`; missing endpoints are not listed.
pub async fn graph_top_labels(backend: &dyn Backend) {
    let g = open(backend).await.graph;
    assert!(g.top_labels(5).await.unwrap().is_empty());
    g.upsert_nodes(
        ["hub", "b", "a", "c", "lonely2", "lonely1"]
            .map(entity)
            .to_vec(),
    )
    .await
    .unwrap();
    g.upsert_edges(vec![
        relation("hub", "a", 1.0),
        relation("hub", "b", 1.0),
        relation("hub", "c", 1.0),
        relation("hub", "Ghost", 1.0),
        relation("Ghost", "c", 1.0),
        relation("Ghost", "Ghost2", 1.0),
        relation("b", "b", 1.0),
    ])
    .await
    .unwrap();
    let all = vec![
        (s("hub"), 4),
        (s("b"), 2),
        (s("c"), 2),
        (s("a"), 1),
        (s("lonely1"), 0),
        (s("lonely2"), 0),
    ];
    assert_eq!(g.top_labels(100).await.unwrap(), all);
    for limit in 0..=all.len() {
        assert_eq!(
            g.top_labels(limit).await.unwrap(),
            all[..limit].to_vec(),
            "{limit}"
        );
    }
    // Degrees move with edge writes.
    g.remove_edges(&[pair("hub", "a"), pair("hub", "b"), pair("hub", "c")])
        .await
        .unwrap();
    g.upsert_edges(vec![relation("a", "lonely2", 1.0), relation("a", "c", 1.0)])
        .await
        .unwrap();
    assert_eq!(
        g.top_labels(100).await.unwrap(),
        vec![
            (s("a"), 2),
            (s("c"), 2),
            (s("b"), 1),
            (s("hub"), 1),
            (s("lonely2"), 1),
            (s("lonely1"), 0),
        ]
    );
}

/// The edges with both ends among the names, sorted by pair, once each.
pub async fn graph_edges_among(backend: &dyn Backend) {
    let g = open(backend).await.graph;
    g.upsert_nodes(["A", "B", "C", "D"].map(entity).to_vec())
        .await
        .unwrap();
    g.upsert_edges(vec![
        relation("B", "A", 1.0),
        relation("A", "C", 5.0),
        relation("C", "D", 1.0),
        relation("B", "B", 1.0),
        relation("A", "Ghost", 1.0),
    ])
    .await
    .unwrap();
    let among = |names: &[&str]| {
        let g = g.clone();
        let names = strings(names);
        async move { g.edges_among(&names).await.unwrap() }
    };
    assert_eq!(
        pairs(&among(&["C", "B", "A", "B"]).await),
        vec![pair("A", "B"), pair("A", "C"), pair("B", "B")]
    );
    assert_eq!(among(&["A", "C"]).await, vec![relation("A", "C", 5.0)]);
    assert_eq!(pairs(&among(&["A", "D"]).await), vec![]);
    assert_eq!(
        pairs(&among(&["A", "Ghost"]).await),
        vec![pair("A", "Ghost")]
    );
    assert_eq!(pairs(&among(&["A"]).await), vec![]);
    assert_eq!(pairs(&among(&[]).await), vec![]);
    assert_eq!(
        pairs(&among(&["A", "B", "C", "D", "Ghost"]).await),
        pairs(&g.all_edges().await.unwrap())
    );
}

/// Clear removes every node and edge and the degrees built on them.
pub async fn graph_clear(backend: &dyn Backend) {
    let g = open(backend).await.graph;
    g.clear().await.unwrap();
    g.upsert_nodes(["A", "B"].map(entity).to_vec())
        .await
        .unwrap();
    g.upsert_edges(vec![relation("A", "B", 1.0), relation("A", "Ghost", 1.0)])
        .await
        .unwrap();
    g.clear().await.unwrap();
    assert_eq!(
        (g.node_count().await.unwrap(), g.edge_count().await.unwrap()),
        (0, 0)
    );
    assert!(g.all_nodes().await.unwrap().is_empty());
    assert!(g.all_edges().await.unwrap().is_empty());
    assert!(g.labels().await.unwrap().is_empty());
    assert!(g.top_labels(10).await.unwrap().is_empty());
    assert!(g.search_labels("a", 10).await.unwrap().is_empty());
    assert!(g.get_edges(&[pair("A", "B")]).await.unwrap().is_empty());
    assert!(g.node_edges(&[s("Ghost")], 10).await.unwrap()[&s("Ghost")].is_empty());
    // Writable again, with degrees from zero.
    g.upsert_nodes(vec![entity("A"), entity("B")])
        .await
        .unwrap();
    g.upsert_edges(vec![relation("A", "B", 1.0)]).await.unwrap();
    assert_eq!(
        g.node_degrees(&strings(&["A", "B"])).await.unwrap(),
        HashMap::from([(s("A"), 1), (s("B"), 1)])
    );
    assert_eq!(
        g.top_labels(10).await.unwrap(),
        vec![(s("A"), 1), (s("B"), 1)]
    );
}

/// A NaN or infinite weight is refused (invalid input) and its whole batch changes nothing.
pub async fn graph_non_finite_weight_refused(backend: &dyn Backend) {
    let g = open(backend).await.graph;
    g.upsert_nodes(["a", "b"].map(entity).to_vec())
        .await
        .unwrap();
    g.upsert_edges(vec![relation("a", "b", 1.0)]).await.unwrap();
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let err = g
            .upsert_edges(vec![relation("b", "c", 2.0), relation("a", "b", bad)])
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidInput(_)), "{bad}: {err}");
    }
    assert_eq!(g.all_edges().await.unwrap(), vec![relation("a", "b", 1.0)]);
    assert_eq!(
        g.node_degrees(&strings(&["a", "b"])).await.unwrap(),
        HashMap::from([(s("a"), 1), (s("b"), 1)])
    );
}
