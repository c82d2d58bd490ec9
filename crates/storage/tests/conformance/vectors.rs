//! [`VectorStore`]: vector sets with cosine search, bound to one embedding model.

use std::collections::HashMap;

use lightrag_core::ports::{Stores, VectorStore};
use lightrag_core::types::VectorHit;
use lightrag_core::Error;
use serde_json::json;

use super::{open, s, strings, vector, Backend, DIM, MODEL};

const Q: [f32; DIM] = [1.0, 0.0, 0.0, 0.0];

/// Six vectors at known cosine similarities to [`Q`].
async fn six(set: &dyn VectorStore) {
    set.upsert(vec![
        vector("v-far", [0.0, 1.0, 0.0, 0.0], json!({"n": "far"})),
        vector(
            "v-exact",
            [1.0, 0.0, 0.0, 0.0],
            json!({"n": "exact", "file_path": "a.txt"}),
        ),
        vector(
            "v-opposite",
            [-1.0, 0.0, 0.0, 0.0],
            json!({"n": "opposite"}),
        ),
        vector("v-close", [1.0, 1.0, 0.0, 0.0], json!({"n": "close"})),
        vector("v-scaled", [3.0, 0.1, 0.0, 0.0], json!({"n": "scaled"})),
        vector("v-mid", [1.0, 0.0, 1.0, 1.0], json!({"n": "mid"})),
    ])
    .await
    .unwrap();
}

/// The similarities of [`six`], best first.
fn six_scores() -> Vec<(&'static str, f32)> {
    vec![
        ("v-exact", 1.0),
        ("v-scaled", 3.0 / (9.01f32).sqrt()),
        ("v-close", 1.0 / 2f32.sqrt()),
        ("v-mid", 1.0 / 3f32.sqrt()),
        ("v-far", 0.0),
        ("v-opposite", -1.0),
    ]
}

/// Hits as (id, score), the scores checked against the expected ones within rounding.
fn check_hits(hits: &[VectorHit], want: &[(&str, f32)]) {
    let got: Vec<&str> = hits.iter().map(|h| h.id.as_str()).collect();
    let ids: Vec<&str> = want.iter().map(|(id, _)| *id).collect();
    assert_eq!(got, ids);
    for (h, (id, score)) in hits.iter().zip(want) {
        assert!(
            (h.score - score).abs() < 1e-4,
            "{id}: {} vs {score}",
            h.score
        );
    }
}

async fn query(
    set: &dyn VectorStore,
    q: [f32; DIM],
    top_k: usize,
    threshold: f32,
) -> Vec<VectorHit> {
    set.query(&q, top_k, threshold).await.unwrap()
}

/// Best first, at most `top_k`, only similarity >= `threshold`, each with its metadata.
pub async fn vectors_query_order_threshold_and_top_k(backend: &dyn Backend) {
    let stores = open(backend).await;
    let set = stores.chunks_vdb.as_ref();
    assert!(query(set, Q, 5, -1.5).await.is_empty());
    six(set).await;
    let all = six_scores();
    check_hits(&query(set, Q, 10, -1.5).await, &all);
    for top_k in 0..=all.len() {
        check_hits(&query(set, Q, top_k, -1.5).await, &all[..top_k]);
    }
    check_hits(&query(set, Q, 10, 0.5).await, &all[..4]);
    check_hits(&query(set, Q, 3, 0.5).await, &all[..3]);
    check_hits(&query(set, Q, 10, 0.99).await, &all[..2]);
    check_hits(&query(set, Q, 10, 1.01).await, &[]);
    let hits = query(set, Q, 2, 0.0).await;
    assert_eq!(hits[0].meta, json!({"n": "exact", "file_path": "a.txt"}));
    assert_eq!(hits[1].meta, json!({"n": "scaled"}));
    // The query's length does not matter, only its direction.
    check_hits(
        &query(set, [0.0, 0.0, 5.0, 5.0], 1, 0.0).await,
        &[("v-mid", (2.0f32 / 3.0).sqrt())],
    );
}

/// An upsert of an existing id replaces its vector and metadata; the last of a repeated id
/// in one batch wins; a metadata-only change is seen too.
pub async fn vectors_update_replaces(backend: &dyn Backend) {
    let stores = open(backend).await;
    let set = stores.entities_vdb.as_ref();
    six(set).await;
    set.upsert(vec![
        vector("v-far", [0.0, 0.0, 0.0, 1.0], json!({"n": "first"})),
        vector("v-far", [1.0, 0.0, 0.0, 0.01], json!({"n": "far moved"})),
    ])
    .await
    .unwrap();
    assert_eq!(set.ids().await.unwrap().len(), 6);
    let hits = query(set, Q, 2, 0.0).await;
    check_hits(
        &hits,
        &[("v-exact", 1.0), ("v-far", 1.0 / (1.0001f32).sqrt())],
    );
    assert_eq!(hits[1].meta, json!({"n": "far moved"}));
    assert_eq!(
        set.get_vectors(&[s("v-far")]).await.unwrap(),
        HashMap::from([(s("v-far"), vec![1.0, 0.0, 0.0, 0.01])])
    );
    // Same vector, new metadata.
    set.upsert(vec![vector("v-exact", Q, json!({"n": "exact", "v": 2}))])
        .await
        .unwrap();
    assert_eq!(
        set.get_meta(&[s("v-exact")]).await.unwrap(),
        HashMap::from([(s("v-exact"), json!({"n": "exact", "v": 2}))])
    );
    assert_eq!(
        query(set, Q, 1, 0.0).await[0].meta,
        json!({"n": "exact", "v": 2})
    );
    assert_eq!(set.ids().await.unwrap().len(), 6);
}

/// Deleted ids are gone from search, reads and ids; missing ids are ignored.
pub async fn vectors_delete(backend: &dyn Backend) {
    let stores = open(backend).await;
    let set = stores.relationships_vdb.as_ref();
    six(set).await;
    set.delete(&strings(&["v-exact", "missing", "v-mid"]))
        .await
        .unwrap();
    assert_eq!(
        set.ids().await.unwrap(),
        strings(&["v-close", "v-far", "v-opposite", "v-scaled"])
    );
    let all: Vec<(&str, f32)> = six_scores()
        .into_iter()
        .filter(|(id, _)| *id != "v-exact" && *id != "v-mid")
        .collect();
    check_hits(&query(set, Q, 10, -1.5).await, &all);
    assert!(set
        .get_vectors(&strings(&["v-exact", "v-mid"]))
        .await
        .unwrap()
        .is_empty());
    assert!(set
        .get_meta(&strings(&["v-exact"]))
        .await
        .unwrap()
        .is_empty());
    // Deleted, then inserted again.
    set.upsert(vec![vector("v-exact", Q, json!({"n": "back"}))])
        .await
        .unwrap();
    let hits = query(set, Q, 1, 0.0).await;
    assert_eq!(
        (hits[0].id.as_str(), &hits[0].meta),
        ("v-exact", &json!({"n": "back"}))
    );
    set.delete(&set.ids().await.unwrap()).await.unwrap();
    assert!(set.ids().await.unwrap().is_empty());
    assert!(query(set, Q, 10, -1.5).await.is_empty());
}

/// Reads return the ids that exist, exactly as stored.
pub async fn vectors_get_missing_ids(backend: &dyn Backend) {
    let stores = open(backend).await;
    let set = stores.chunks_vdb.as_ref();
    assert!(set.get_vectors(&strings(&["a"])).await.unwrap().is_empty());
    assert!(set.get_meta(&strings(&["a"])).await.unwrap().is_empty());
    six(set).await;
    let odd = [0.1f32, -2.5e-7, 3.25, 1e6];
    set.upsert(vec![vector(
        "odd",
        odd,
        json!({"content": "ünï ✓", "n": 1.5, "list": [null]}),
    )])
    .await
    .unwrap();
    assert_eq!(
        set.get_vectors(&strings(&["odd", "nope", "v-close"]))
            .await
            .unwrap(),
        HashMap::from([
            (s("odd"), odd.to_vec()),
            (s("v-close"), vec![1.0, 1.0, 0.0, 0.0])
        ])
    );
    assert_eq!(
        set.get_meta(&strings(&["nope", "odd", "v-far"]))
            .await
            .unwrap(),
        HashMap::from([
            (
                s("odd"),
                json!({"content": "ünï ✓", "n": 1.5, "list": [null]})
            ),
            (s("v-far"), json!({"n": "far"})),
        ])
    );
    assert!(set.get_vectors(&[]).await.unwrap().is_empty());
    assert!(set.get_meta(&[]).await.unwrap().is_empty());
}

/// Ids sorted (code point order); the three sets are separate, each with its namespace.
pub async fn vectors_ids_sorted_and_sets_separate(backend: &dyn Backend) {
    let stores = open(backend).await;
    let sets = [
        &stores.chunks_vdb,
        &stores.entities_vdb,
        &stores.relationships_vdb,
    ];
    assert_eq!(
        sets.map(|s| s.namespace().to_string()),
        ["chunks", "entities", "relationships"].map(s)
    );
    let names = ["rel-b", "ent-Ω", "B", "ent-a", "chunk-2", "chunk-10", "a"];
    for (i, set) in sets.iter().enumerate() {
        let records = names
            .iter()
            .map(|n| vector(n, [1.0, i as f32, 0.0, 0.0], json!({"set": i, "id": n})))
            .collect();
        set.upsert(records).await.unwrap();
    }
    let mut sorted = strings(&names);
    sorted.sort();
    assert_eq!(
        sorted,
        strings(&["B", "a", "chunk-10", "chunk-2", "ent-a", "ent-Ω", "rel-b"])
    );
    for (i, set) in sets.iter().enumerate() {
        assert_eq!(set.ids().await.unwrap(), sorted);
        assert_eq!(
            set.get_meta(&[s("a")]).await.unwrap()[&s("a")],
            json!({"set": i, "id": "a"})
        );
        assert_eq!(
            set.get_vectors(&[s("a")]).await.unwrap()[&s("a")],
            vec![1.0, i as f32, 0.0, 0.0]
        );
    }
    stores
        .entities_vdb
        .delete(&strings(&["a", "B"]))
        .await
        .unwrap();
    stores.relationships_vdb.clear().await.unwrap();
    assert_eq!(stores.chunks_vdb.ids().await.unwrap(), sorted);
    assert_eq!(
        stores.entities_vdb.ids().await.unwrap(),
        strings(&["chunk-10", "chunk-2", "ent-a", "ent-Ω", "rel-b"])
    );
    assert!(stores.relationships_vdb.ids().await.unwrap().is_empty());
}

/// Reopens the backend after dropping every handle.
async fn reopen(
    backend: &dyn Backend,
    stores: Stores,
    model: &str,
    dim: usize,
) -> lightrag_core::Result<Stores> {
    drop(stores);
    backend.open(model, dim).await
}

/// Clear empties a set; the model binding stays (another model is still refused).
pub async fn vectors_clear_keeps_binding(backend: &dyn Backend) {
    let stores = open(backend).await;
    six(stores.chunks_vdb.as_ref()).await;
    six(stores.entities_vdb.as_ref()).await;
    stores.chunks_vdb.clear().await.unwrap();
    assert!(stores.chunks_vdb.ids().await.unwrap().is_empty());
    assert!(query(stores.chunks_vdb.as_ref(), Q, 10, -1.5)
        .await
        .is_empty());
    assert!(stores
        .chunks_vdb
        .get_vectors(&[s("v-exact")])
        .await
        .unwrap()
        .is_empty());
    assert_eq!(stores.entities_vdb.ids().await.unwrap().len(), 6);
    stores
        .chunks_vdb
        .upsert(vec![vector("new", Q, json!({}))])
        .await
        .unwrap();
    stores.chunks_vdb.flush().await.unwrap();

    let stores = reopen(backend, stores, MODEL, DIM).await.unwrap();
    assert_eq!(stores.chunks_vdb.ids().await.unwrap(), strings(&["new"]));
    check_hits(
        &query(stores.chunks_vdb.as_ref(), Q, 10, 0.5).await,
        &[("new", 1.0)],
    );
    for set in [
        &stores.chunks_vdb,
        &stores.entities_vdb,
        &stores.relationships_vdb,
    ] {
        set.clear().await.unwrap();
    }
    let err = reopen(backend, stores, "another-model", DIM)
        .await
        .err()
        .expect("refused");
    assert!(matches!(err, Error::ModelMismatch(_)), "{err}");
    let stores = backend.open(MODEL, DIM).await.unwrap();
    assert!(stores.chunks_vdb.ids().await.unwrap().is_empty());
}

/// A backend bound to a model refuses another model or dimension, naming both, and keeps
/// its data for the original model.
pub async fn vectors_reopen_with_another_model_refused(backend: &dyn Backend) {
    let stores = open(backend).await;
    six(stores.chunks_vdb.as_ref()).await;
    let err = reopen(backend, stores, "other-model", DIM)
        .await
        .err()
        .expect("refused");
    let Error::ModelMismatch(msg) = &err else {
        panic!("{}: expected a model mismatch, got {err:?}", backend.name());
    };
    assert!(msg.contains(MODEL) && msg.contains("other-model"), "{msg}");
    let err = backend.open(MODEL, DIM + 1).await.err().expect("refused");
    let Error::ModelMismatch(msg) = &err else {
        panic!("{}: expected a model mismatch, got {err:?}", backend.name());
    };
    assert!(
        msg.contains(&format!("{DIM} dims")) && msg.contains(&format!("{} dims", DIM + 1)),
        "{msg}"
    );
    let stores = backend.open(MODEL, DIM).await.unwrap();
    assert_eq!(stores.chunks_vdb.ids().await.unwrap().len(), 6);
    check_hits(
        &query(stores.chunks_vdb.as_ref(), Q, 10, -1.5).await,
        &six_scores(),
    );
}

/// A vector of another dimension, or with a non-finite component, is refused (invalid
/// input) and its whole batch changes nothing; so is such a query.
pub async fn vectors_wrong_dimension_refused(backend: &dyn Backend) {
    let stores = open(backend).await;
    let set = stores.chunks_vdb.as_ref();
    six(set).await;
    let bad_batches = [
        vec![0.5f32; DIM - 1],
        vec![0.5f32; DIM + 1],
        vec![],
        vec![1.0, f32::NAN, 0.0, 0.0],
        vec![f32::INFINITY, 0.0, 0.0, 0.0],
    ];
    for bad in bad_batches {
        let records = vec![
            vector("good-new", Q, json!({})),
            vector("v-far", Q, json!({"changed": true})),
            lightrag_core::types::VectorRecord {
                id: s("bad"),
                vector: bad.clone(),
                meta: json!({}),
            },
        ];
        let err = set.upsert(records).await.unwrap_err();
        assert!(matches!(err, Error::InvalidInput(_)), "{bad:?}: {err}");
        let err = set.query(&bad, 5, 0.0).await.unwrap_err();
        assert!(matches!(err, Error::InvalidInput(_)), "{bad:?}: {err}");
    }
    assert_eq!(
        set.ids().await.unwrap(),
        strings(&[
            "v-close",
            "v-exact",
            "v-far",
            "v-mid",
            "v-opposite",
            "v-scaled"
        ])
    );
    assert_eq!(
        set.get_meta(&[s("v-far")]).await.unwrap()[&s("v-far")],
        json!({"n": "far"})
    );
    check_hits(&query(set, Q, 10, -1.5).await, &six_scores());
}
