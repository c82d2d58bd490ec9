//! Graph routes over HTTP: labels, search, subgraphs, and hand edits that retrieval sees.

mod common;

use common::{TestServer, FERRY, TRUST};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn labels_subgraphs_and_edits() {
    let s = TestServer::start(&[]).await;
    s.insert("", FERRY, "ferry.txt").await;
    s.insert("", TRUST, "trust.txt").await;
    s.wait_idle("").await;

    let (code, labels) = s.get("/graph/label/list", "").await;
    assert_eq!(code, 200);
    let labels: Vec<String> = serde_json::from_value(labels).unwrap();
    assert!(labels.contains(&"Orin Lines".to_string()), "{labels:?}");
    let mut sorted = labels.clone();
    sorted.sort();
    assert_eq!(labels, sorted);

    let (_, popular) = s.get("/graph/label/popular?limit=2", "").await;
    assert_eq!(popular.as_array().unwrap().len(), 2);
    let (_, found) = s.get("/graph/label/search?q=orin%20lines", "").await;
    assert_eq!(found[0], "Orin Lines", "{found}");
    let (code, _) = s.get("/graph/label/search?q=x&limit=0", "").await;
    assert_eq!(code, 422);

    let (_, e) = s.get("/graph/entity/exists?name=Orin%20Lines", "").await;
    assert_eq!(e["exists"], true);
    let (_, e) = s.get("/graph/entity/exists?name=Nobody", "").await;
    assert_eq!(e["exists"], false);

    let (code, g) = s.get("/graphs?label=Orin%20Lines&max_depth=1", "").await;
    assert_eq!(code, 200, "{g}");
    assert_eq!(g["nodes"][0]["id"], "Orin Lines");
    assert!(g["nodes"][0]["properties"]["description"].is_string());
    assert!(!g["edges"].as_array().unwrap().is_empty(), "{g}");
    assert_eq!(g["edges"][0]["type"], "DIRECTED");
    let (_, g) = s.get("/graphs?label=*&max_nodes=2", "").await;
    assert_eq!(g["nodes"].as_array().unwrap().len(), 2);
    assert_eq!(g["is_truncated"], true);
    let (_, g) = s.get("/graphs?label=Nobody", "").await;
    assert_eq!(g["nodes"].as_array().unwrap().len(), 0);

    // Create, edit, relate, merge, delete.
    let (code, v) = s
        .post("/graph/entity/create", "", json!({"entity_name": "Harbour Master",
            "entity_data": {"description": "Keeps the Orin harbour in order.", "entity_type": "person"}}))
        .await;
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["data"]["entity_type"], "person");
    let (code, _) = s
        .post(
            "/graph/entity/create",
            "",
            json!({"entity_name": "Harbour Master", "entity_data": {"description": "again"}}),
        )
        .await;
    assert_eq!(code, 400, "duplicate");
    let (code, _) = s
        .post(
            "/graph/entity/create",
            "",
            json!({"entity_name": "X", "entity_data": {"entity_type": "t"}}),
        )
        .await;
    assert_eq!(code, 400, "no description");

    let (code, v) = s
        .post("/graph/relation/create", "", json!({"source_entity": "Harbour Master", "target_entity": "Orin Lines",
            "relation_data": {"description": "The harbour master schedules Orin Lines ferries.", "keywords": "schedule"}}))
        .await;
    assert_eq!(code, 200, "{v}");
    let (code, v) = s
        .post(
            "/graph/relation/edit",
            "",
            json!({"source_id": "Orin Lines", "target_id": "Harbour Master",
            "updated_data": {"weight": 3.5}}),
        )
        .await;
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["data"]["weight"], 3.5);
    let (code, _) = s
        .post(
            "/graph/relation/edit",
            "",
            json!({"source_id": "Orin Lines", "target_id": "Nobody", "updated_data": {}}),
        )
        .await;
    assert_eq!(code, 404);

    // Retrieval sees the new entity at once.
    let (_, d) = s
        .post(
            "/query/data",
            "",
            json!({"query": "harbour master", "mode": "local", "ll_keywords": ["Harbour Master"]}),
        )
        .await;
    assert!(d.to_string().contains("Harbour Master"), "{d}");

    let (code, v) = s
        .post("/graph/entity/edit", "", json!({"entity_name": "Harbour Master",
            "updated_data": {"description": "Runs the harbour.", "entity_name": "Harbourmaster"}, "allow_rename": true}))
        .await;
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["data"]["entity_id"], "Harbourmaster");
    let (_, e) = s
        .get("/graph/entity/exists?name=Harbour%20Master", "")
        .await;
    assert_eq!(e["exists"], false);
    let (code, _) = s
        .post(
            "/graph/entity/edit",
            "",
            json!({"entity_name": "Harbourmaster", "updated_data": {"color": "red"}}),
        )
        .await;
    assert_eq!(code, 400, "unknown field");

    let (code, v) = s
        .post(
            "/graph/entities/merge",
            "",
            json!({"entities_to_change": ["Harbourmaster"], "entity_to_change_into": "Orin Lines"}),
        )
        .await;
    assert_eq!(code, 200, "{v}");
    assert!(
        v["data"]["description"]
            .as_str()
            .unwrap()
            .contains("Runs the harbour."),
        "{v}"
    );

    let (code, v) = s
        .delete(
            "/graph/relation/delete",
            "",
            json!({"source_entity": "Orin Lines", "target_entity": "Lake Orin"}),
        )
        .await;
    assert_eq!(code, 200, "{v}");
    let (code, v) = s
        .delete(
            "/graph/entity/delete",
            "",
            json!({"entity_name": "Orin Lines"}),
        )
        .await;
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["status_code"], 200);
    let (code, _) = s
        .delete(
            "/graph/entity/delete",
            "",
            json!({"entity_name": "Orin Lines"}),
        )
        .await;
    assert_eq!(code, 404);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merging_moves_relations_and_joins_the_ones_that_meet() {
    let s = TestServer::start(&[]).await;
    for (name, d) in [
        ("Xa", "x desc"),
        ("Ya", "y desc"),
        ("Za", "z desc"),
        ("Wa", "w desc"),
    ] {
        let (code, v) = s
            .post(
                "/graph/entity/create",
                "",
                json!({"entity_name": name, "entity_data": {"description": d}}),
            )
            .await;
        assert_eq!(code, 200, "{v}");
    }
    for (a, b, w, k) in [
        ("Xa", "Za", 1.0, "k1"),
        ("Ya", "Za", 2.0, "k2"),
        ("Xa", "Ya", 5.0, "k3"),
        ("Xa", "Wa", 1.5, "k4"),
    ] {
        let (code, v) = s
            .post(
                "/graph/relation/create",
                "",
                json!({"source_entity": a, "target_entity": b,
                "relation_data": {"description": format!("{a}-{b}"), "keywords": k, "weight": w}}),
            )
            .await;
        assert_eq!(code, 200, "{v}");
    }
    let (code, v) = s
        .post(
            "/graph/entities/merge",
            "",
            json!({"entities_to_change": ["Xa"], "entity_to_change_into": "Ya"}),
        )
        .await;
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["data"]["description"], "y desc<SEP>x desc");
    let (_, e) = s.get("/graph/entity/exists?name=Xa", "").await;
    assert_eq!(e["exists"], false);
    let (_, g) = s.get("/graphs?label=Ya&max_depth=1", "").await;
    let edges = g["edges"].as_array().unwrap();
    let find = |a: &str, b: &str| {
        edges
            .iter()
            .find(|e| {
                (e["source"] == a && e["target"] == b) || (e["source"] == b && e["target"] == a)
            })
            .cloned()
    };
    let yz = find("Ya", "Za").expect("Ya-Za");
    assert_eq!(yz["properties"]["weight"], 3.0, "weights add: {yz}");
    assert_eq!(yz["properties"]["keywords"], "k1,k2");
    assert!(find("Ya", "Wa").is_some(), "Xa's relation moved to Ya");
    assert!(
        edges.iter().all(|e| e["source"] != e["target"]),
        "the Xa-Ya relation became a loop and went"
    );
    assert_eq!(edges.len(), 2, "{g}");
    s.stop().await;
}
