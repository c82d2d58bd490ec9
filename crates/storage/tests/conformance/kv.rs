//! [`KvStore`]: records by namespace and id.

use lightrag_core::ports::Namespace;
use serde_json::json;

use super::{open, s, strings, Backend};

/// Get, batch get (missing ids as `None`, in the order asked), replace, delete, sorted keys.
pub async fn kv_round_trip(backend: &dyn Backend) {
    let kv = open(backend).await.kv;
    let ns = Namespace::FullDocs;
    assert_eq!(kv.get(ns, "x").await.unwrap(), None);
    assert_eq!(kv.keys(ns).await.unwrap(), Vec::<String>::new());

    kv.upsert(
        ns,
        vec![
            (
                s("b"),
                json!({"content": "B", "n": 1.5, "list": [1, 2, {"deep": null}]}),
            ),
            (s("a"), json!({"content": "A"})),
            (s("c"), json!([1, 2, 3])),
            (s("n"), json!(null)),
            (s("t"), json!("text")),
        ],
    )
    .await
    .unwrap();
    assert_eq!(
        kv.get(ns, "a").await.unwrap(),
        Some(json!({"content": "A"}))
    );
    assert_eq!(
        kv.get(ns, "b").await.unwrap(),
        Some(json!({"content": "B", "n": 1.5, "list": [1, 2, {"deep": null}]}))
    );
    // A stored JSON null is a record, not a missing one.
    assert_eq!(kv.get(ns, "n").await.unwrap(), Some(json!(null)));
    assert_eq!(
        kv.get_many(ns, &strings(&["c", "zz", "b", "c", "n", "t"]))
            .await
            .unwrap(),
        vec![
            Some(json!([1, 2, 3])),
            None,
            Some(json!({"content": "B", "n": 1.5, "list": [1, 2, {"deep": null}]})),
            Some(json!([1, 2, 3])),
            Some(json!(null)),
            Some(json!("text")),
        ]
    );
    assert_eq!(
        kv.keys(ns).await.unwrap(),
        strings(&["a", "b", "c", "n", "t"])
    );

    // Replace; within one batch the last record of an id wins.
    kv.upsert(
        ns,
        vec![
            (s("a"), json!({"content": "A1"})),
            (s("a"), json!({"content": "A2"})),
        ],
    )
    .await
    .unwrap();
    assert_eq!(
        kv.get(ns, "a").await.unwrap(),
        Some(json!({"content": "A2"}))
    );
    assert_eq!(
        kv.keys(ns).await.unwrap(),
        strings(&["a", "b", "c", "n", "t"])
    );

    // Delete: missing ids are ignored.
    kv.delete(ns, &strings(&["b", "missing", "n"]))
        .await
        .unwrap();
    assert_eq!(kv.keys(ns).await.unwrap(), strings(&["a", "c", "t"]));
    assert_eq!(kv.get(ns, "b").await.unwrap(), None);
    assert_eq!(
        kv.get_many(ns, &strings(&["b", "a"])).await.unwrap(),
        vec![None, Some(json!({"content": "A2"}))]
    );
}

/// Ids and values in any script, ids with spaces and punctuation; keys sorted by code point
/// (Rust's `str` order: byte order of UTF-8, capitals before lowercase), not by a locale.
pub async fn kv_unicode_ids_and_values(backend: &dyn Backend) {
    let kv = open(backend).await.kv;
    let ns = Namespace::TextChunks;
    let items: Vec<(String, serde_json::Value)> = [
        "日本語",
        "Zürich",
        "zebra",
        "Ärger",
        "apple",
        "Banana",
        "emoji 🦀 key",
        "with space",
        "quote'\"<SEP>",
        "Ωmega",
        "a-b_c.d/e",
    ]
    .iter()
    .map(|id| {
        (
            s(id),
            json!({"content": format!("内容 of {id} — ünïcödé ✓ 🦀"), "id": id}),
        )
    })
    .collect();
    kv.upsert(ns, items.clone()).await.unwrap();
    for (id, value) in &items {
        assert_eq!(kv.get(ns, id).await.unwrap().as_ref(), Some(value), "{id}");
    }
    let mut expected: Vec<String> = items.iter().map(|(id, _)| id.clone()).collect();
    expected.sort();
    assert_eq!(
        expected,
        strings(&[
            "Banana",
            "Zürich",
            "a-b_c.d/e",
            "apple",
            "emoji 🦀 key",
            "quote'\"<SEP>",
            "with space",
            "zebra",
            "Ärger",
            "Ωmega",
            "日本語",
        ])
    );
    assert_eq!(kv.keys(ns).await.unwrap(), expected);
    let got = kv
        .get_many(ns, &strings(&["日本語", "nope", "emoji 🦀 key"]))
        .await
        .unwrap();
    assert_eq!(
        got,
        vec![Some(items[0].1.clone()), None, Some(items[6].1.clone())]
    );
    kv.delete(ns, &strings(&["日本語", "Ärger"])).await.unwrap();
    assert_eq!(kv.get(ns, "日本語").await.unwrap(), None);
    assert_eq!(kv.keys(ns).await.unwrap().len(), items.len() - 2);
}

/// The same id in every namespace is a different record; delete and clear touch one namespace.
pub async fn kv_namespaces_are_separate(backend: &dyn Backend) {
    let kv = open(backend).await.kv;
    for ns in Namespace::ALL {
        kv.upsert(
            ns,
            vec![(s("id"), json!(ns.as_str())), (s(ns.as_str()), json!(1))],
        )
        .await
        .unwrap();
    }
    for ns in Namespace::ALL {
        assert_eq!(kv.get(ns, "id").await.unwrap(), Some(json!(ns.as_str())));
        let mut want = vec![s("id"), s(ns.as_str())];
        want.sort();
        assert_eq!(kv.keys(ns).await.unwrap(), want, "{}", ns.as_str());
    }
    kv.delete(Namespace::TextChunks, &[s("id")]).await.unwrap();
    kv.clear(Namespace::FullEntities).await.unwrap();
    for ns in Namespace::ALL {
        let want = match ns {
            Namespace::TextChunks => None,
            Namespace::FullEntities => None,
            _ => Some(json!(ns.as_str())),
        };
        assert_eq!(kv.get(ns, "id").await.unwrap(), want, "{}", ns.as_str());
    }
    assert_eq!(
        kv.keys(Namespace::TextChunks).await.unwrap(),
        vec![s("text_chunks")]
    );
    assert_eq!(
        kv.keys(Namespace::FullEntities).await.unwrap(),
        Vec::<String>::new()
    );
}

/// Clear empties one namespace, which can be written again; clearing an empty one is fine.
pub async fn kv_clear(backend: &dyn Backend) {
    let kv = open(backend).await.kv;
    kv.clear(Namespace::FullDocs).await.unwrap();
    kv.upsert(
        Namespace::FullDocs,
        vec![(s("a"), json!(1)), (s("b"), json!(2))],
    )
    .await
    .unwrap();
    kv.upsert(Namespace::LlmResponseCache, vec![(s("a"), json!("kept"))])
        .await
        .unwrap();
    kv.clear(Namespace::FullDocs).await.unwrap();
    assert_eq!(
        kv.keys(Namespace::FullDocs).await.unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(kv.get(Namespace::FullDocs, "a").await.unwrap(), None);
    assert_eq!(
        kv.get_many(Namespace::FullDocs, &strings(&["a", "b"]))
            .await
            .unwrap(),
        vec![None, None]
    );
    assert_eq!(
        kv.get(Namespace::LlmResponseCache, "a").await.unwrap(),
        Some(json!("kept"))
    );
    kv.upsert(Namespace::FullDocs, vec![(s("n"), json!(3))])
        .await
        .unwrap();
    assert_eq!(kv.keys(Namespace::FullDocs).await.unwrap(), vec![s("n")]);
    kv.clear(Namespace::FullDocs).await.unwrap();
    kv.clear(Namespace::FullDocs).await.unwrap();
    assert_eq!(
        kv.keys(Namespace::FullDocs).await.unwrap(),
        Vec::<String>::new()
    );
}
