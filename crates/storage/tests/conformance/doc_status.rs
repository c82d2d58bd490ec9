//! [`DocStatusStore`]: document status rows and their orders.

use std::collections::HashMap;

use lightrag_core::ports::{DocPageRequest, DocSort};
use lightrag_core::types::{DocStatus, DocStatusRecord};
use serde_json::json;

use super::{ids, open, record, s, strings, Backend};

fn counts(p: usize, ing: usize, ed: usize, f: usize) -> HashMap<DocStatus, usize> {
    HashMap::from([
        (DocStatus::Pending, p),
        (DocStatus::Processing, ing),
        (DocStatus::Processed, ed),
        (DocStatus::Failed, f),
    ])
}

/// Get a missing row, insert, replace every field, delete existing and missing ids.
pub async fn doc_status_upsert_get_delete(backend: &dyn Backend) {
    let ds = open(backend).await.doc_status;
    assert_eq!(ds.get("doc-1").await.unwrap(), None);
    let mut full = record(DocStatus::Processing, "2024-01-01T00:00:00Z", Some("h"));
    full.chunks_count = 2;
    full.chunks_list = strings(&["doc-1-chunk-000", "doc-1-chunk-001"]);
    full.error_msg = Some(s("none yet — ✓"));
    full.metadata
        .insert(s("process_start_time"), json!(1_700_000_000));
    full.metadata.insert(s("nested"), json!({"a": [1, "b"]}));
    full.track_id = s("insert_1");
    ds.upsert(vec![
        (s("doc-1"), full.clone()),
        (s("doc-2"), record(DocStatus::Pending, "2024-01-02", None)),
    ])
    .await
    .unwrap();
    assert_eq!(ds.get("doc-1").await.unwrap(), Some(full.clone()));
    assert_eq!(
        ds.get("doc-2").await.unwrap(),
        Some(record(DocStatus::Pending, "2024-01-02", None))
    );

    let mut replaced = record(DocStatus::Processed, "2024-01-01T00:00:00Z", None);
    replaced.content_summary = s("new summary");
    replaced.content_length = 99;
    replaced.file_path = s("b.txt");
    replaced.updated_at = s("2024-02-01");
    ds.upsert(vec![(s("doc-1"), replaced.clone())])
        .await
        .unwrap();
    assert_eq!(ds.get("doc-1").await.unwrap(), Some(replaced));

    ds.delete(&strings(&["doc-1", "doc-missing"]))
        .await
        .unwrap();
    assert_eq!(ds.get("doc-1").await.unwrap(), None);
    assert!(ds.get("doc-2").await.unwrap().is_some());
    assert_eq!(ds.counts().await.unwrap(), counts(1, 0, 0, 0));
}

/// `(created_at, id)` order across the statuses asked, whatever their order or repeats; a
/// status change moves the row, a delete removes it.
pub async fn doc_status_by_statuses_order(backend: &dyn Backend) {
    let ds = open(backend).await.doc_status;
    ds.upsert(vec![
        (s("doc-c"), record(DocStatus::Pending, "2024-01-02", None)),
        (s("doc-b"), record(DocStatus::Pending, "2024-01-01", None)),
        (s("doc-a"), record(DocStatus::Pending, "2024-01-02", None)),
        (s("doc-d"), record(DocStatus::Failed, "2024-01-01T12", None)),
        (s("doc-e"), record(DocStatus::Processed, "2023-12-31", None)),
    ])
    .await
    .unwrap();
    let by = |statuses: &'static [DocStatus]| {
        let ds = ds.clone();
        async move { ids(&ds.by_statuses(statuses).await.unwrap()) }
    };
    assert_eq!(
        by(&[DocStatus::Pending]).await,
        strings(&["doc-b", "doc-a", "doc-c"])
    );
    assert_eq!(
        by(&[DocStatus::Failed, DocStatus::Pending, DocStatus::Failed]).await,
        strings(&["doc-b", "doc-d", "doc-a", "doc-c"])
    );
    assert_eq!(
        by(&DocStatus::ALL).await,
        strings(&["doc-e", "doc-b", "doc-d", "doc-a", "doc-c"])
    );
    assert_eq!(by(&[]).await, Vec::<String>::new());
    assert_eq!(by(&[DocStatus::Processing]).await, Vec::<String>::new());
    // Rows come whole.
    let rows = ds.by_statuses(&[DocStatus::Processed]).await.unwrap();
    assert_eq!(
        rows,
        vec![(s("doc-e"), record(DocStatus::Processed, "2023-12-31", None))]
    );

    let mut a = ds.get("doc-a").await.unwrap().unwrap();
    a.status = DocStatus::Processing;
    ds.upsert(vec![(s("doc-a"), a)]).await.unwrap();
    assert_eq!(
        by(&[DocStatus::Pending]).await,
        strings(&["doc-b", "doc-c"])
    );
    assert_eq!(by(&[DocStatus::Processing]).await, strings(&["doc-a"]));

    ds.delete(&strings(&["doc-b", "doc-zz"])).await.unwrap();
    assert_eq!(by(&[DocStatus::Pending]).await, strings(&["doc-c"]));
}

/// Every status is present in the counts, zeros included, and follows writes.
pub async fn doc_status_counts_with_zeros(backend: &dyn Backend) {
    let ds = open(backend).await.doc_status;
    assert_eq!(ds.counts().await.unwrap(), counts(0, 0, 0, 0));
    ds.upsert(vec![
        (s("p1"), record(DocStatus::Pending, "1", None)),
        (s("p2"), record(DocStatus::Pending, "2", None)),
        (s("p3"), record(DocStatus::Pending, "3", None)),
        (s("d1"), record(DocStatus::Processed, "4", None)),
    ])
    .await
    .unwrap();
    assert_eq!(ds.counts().await.unwrap(), counts(3, 0, 1, 0));
    // A replace of the same status counts once; a status change moves one count.
    ds.upsert(vec![
        (s("p1"), record(DocStatus::Pending, "1", Some("h"))),
        (s("p2"), record(DocStatus::Failed, "2", None)),
    ])
    .await
    .unwrap();
    assert_eq!(ds.counts().await.unwrap(), counts(2, 0, 1, 1));
    ds.delete(&strings(&["p1", "p3", "d1", "ghost"]))
        .await
        .unwrap();
    assert_eq!(ds.counts().await.unwrap(), counts(0, 0, 0, 1));
}

/// An upsert of an existing row keeps its stored `created_at`, in the row and in every order
/// built on it.
pub async fn doc_status_created_at_is_immutable(backend: &dyn Backend) {
    let ds = open(backend).await.doc_status;
    ds.upsert(vec![
        (s("doc-1"), record(DocStatus::Pending, "2024-01-01", None)),
        (s("doc-2"), record(DocStatus::Pending, "2024-06-01", None)),
    ])
    .await
    .unwrap();
    let mut later = record(DocStatus::Processed, "2025-06-06", None);
    later.updated_at = s("2025-06-07");
    ds.upsert(vec![(s("doc-1"), later)]).await.unwrap();

    let row = ds.get("doc-1").await.unwrap().unwrap();
    assert_eq!(row.created_at, "2024-01-01");
    assert_eq!(row.updated_at, "2025-06-07");
    assert_eq!(row.status, DocStatus::Processed);
    let rows = ds.by_statuses(&[DocStatus::Processed]).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].1.created_at, "2024-01-01");
    // Ordered by the kept value, not the one written.
    let mut doc2 = record(DocStatus::Processed, "2020-01-01", None);
    doc2.updated_at = s("2025-01-01");
    ds.upsert(vec![(s("doc-2"), doc2)]).await.unwrap();
    assert_eq!(
        ids(&ds.by_statuses(&[DocStatus::Processed]).await.unwrap()),
        strings(&["doc-1", "doc-2"])
    );
    assert_eq!(
        ids(&ds.by_track_id("track").await.unwrap()),
        strings(&["doc-1", "doc-2"])
    );
    let page = ds
        .page(&DocPageRequest {
            statuses: vec![DocStatus::Processed],
            sort: DocSort::CreatedAt,
            descending: false,
            offset: 0,
            limit: 10,
        })
        .await
        .unwrap();
    assert_eq!(ids(&page.rows), strings(&["doc-1", "doc-2"]));
    assert_eq!(page.rows[1].1.created_at, "2024-06-01");
    // After a delete the id is new again: its created_at is the one written.
    ds.delete(&[s("doc-1")]).await.unwrap();
    ds.upsert(vec![(
        s("doc-1"),
        record(DocStatus::Pending, "2030-01-01", None),
    )])
    .await
    .unwrap();
    assert_eq!(
        ds.get("doc-1").await.unwrap().unwrap().created_at,
        "2030-01-01"
    );
}

/// A non-duplicate row with the hash, other than `exclude`; a hash change moves the row.
pub async fn doc_status_content_hash_lookup(backend: &dyn Backend) {
    let ds = open(backend).await.doc_status;
    let mut dup = record(DocStatus::Failed, "2024-01-01", Some("h1"));
    dup.metadata.insert(s("is_duplicate"), json!(true));
    let mut not_dup = record(DocStatus::Pending, "2024-01-04", Some("h4"));
    not_dup.metadata.insert(s("is_duplicate"), json!(false));
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
        (s("doc-e"), not_dup.clone()),
    ])
    .await
    .unwrap();

    let (id, row) = ds.find_by_content_hash("h1", None).await.unwrap().unwrap();
    assert_eq!(id, "doc-b");
    assert_eq!(row, record(DocStatus::Processed, "2024-01-02", Some("h1")));
    // The only other row with h1 is a duplicate.
    assert_eq!(
        ds.find_by_content_hash("h1", Some("doc-b")).await.unwrap(),
        None
    );
    // Excluding another id changes nothing.
    assert_eq!(
        ds.find_by_content_hash("h1", Some("doc-c"))
            .await
            .unwrap()
            .map(|r| r.0),
        Some(s("doc-b"))
    );
    assert_eq!(
        ds.find_by_content_hash("h2", None)
            .await
            .unwrap()
            .map(|r| r.0),
        Some(s("doc-c"))
    );
    assert_eq!(
        ds.find_by_content_hash("h2", Some("doc-c")).await.unwrap(),
        None
    );
    // `is_duplicate: false` is not a duplicate.
    assert_eq!(
        ds.find_by_content_hash("h4", None).await.unwrap(),
        Some((s("doc-e"), not_dup))
    );
    // No prefix matching.
    assert_eq!(ds.find_by_content_hash("h", None).await.unwrap(), None);
    assert_eq!(ds.find_by_content_hash("", None).await.unwrap(), None);

    // A hash change moves the row.
    let mut c = ds.get("doc-c").await.unwrap().unwrap();
    c.content_hash = Some(s("h3"));
    ds.upsert(vec![(s("doc-c"), c)]).await.unwrap();
    assert_eq!(ds.find_by_content_hash("h2", None).await.unwrap(), None);
    assert_eq!(
        ds.find_by_content_hash("h3", None)
            .await
            .unwrap()
            .map(|r| r.0),
        Some(s("doc-c"))
    );
    // Two candidates: either may answer, but only those.
    ds.upsert(vec![(
        s("doc-f"),
        record(DocStatus::Pending, "2024-01-05", Some("h3")),
    )])
    .await
    .unwrap();
    let found = ds
        .find_by_content_hash("h3", None)
        .await
        .unwrap()
        .unwrap()
        .0;
    assert!(found == "doc-c" || found == "doc-f", "{found}");
    let other = if found == "doc-c" { "doc-f" } else { "doc-c" };
    assert_eq!(
        ds.find_by_content_hash("h3", Some(&found))
            .await
            .unwrap()
            .map(|r| r.0),
        Some(s(other))
    );
    // A deleted row is not found.
    ds.delete(&[s("doc-b")]).await.unwrap();
    assert_eq!(ds.find_by_content_hash("h1", None).await.unwrap(), None);
}

/// The page rows: id, status, created_at, updated_at, file_path.
const PAGE_ROWS: [(&str, DocStatus, &str, &str, &str); 7] = [
    (
        "d1",
        DocStatus::Processed,
        "2024-01-03",
        "2024-02-01",
        "b.txt",
    ),
    (
        "d2",
        DocStatus::Pending,
        "2024-01-01",
        "2024-02-05",
        "a.txt",
    ),
    ("d3", DocStatus::Failed, "2024-01-02", "2024-02-02", "c.txt"),
    (
        "d4",
        DocStatus::Processed,
        "2024-01-01",
        "2024-02-03",
        "a.txt",
    ),
    (
        "d5",
        DocStatus::Processing,
        "2024-01-05",
        "2024-02-04",
        "e.txt",
    ),
    (
        "d6",
        DocStatus::Pending,
        "2024-01-04",
        "2024-02-01",
        "d.txt",
    ),
    (
        "d7",
        DocStatus::Processed,
        "2024-01-06",
        "2024-02-06",
        "B.txt",
    ),
];

/// Every sort, both directions, offset and limit across several statuses, the total.
pub async fn doc_status_page(backend: &dyn Backend) {
    let ds = open(backend).await.doc_status;
    let rows: Vec<(String, DocStatusRecord)> = PAGE_ROWS
        .iter()
        .map(|(id, status, created, updated, path)| {
            let mut r = record(*status, created, None);
            r.updated_at = s(updated);
            r.file_path = s(path);
            (s(id), r)
        })
        .collect();
    ds.upsert(rows.clone()).await.unwrap();
    let page = |statuses: &[DocStatus], sort: DocSort, descending: bool, offset, limit| {
        let ds = ds.clone();
        let req = DocPageRequest {
            statuses: statuses.to_vec(),
            sort,
            descending,
            offset,
            limit,
        };
        async move {
            let p = ds.page(&req).await.unwrap();
            (ids(&p.rows), p.total)
        }
    };
    let all = DocStatus::ALL;
    let done_or_waiting = [DocStatus::Processed, DocStatus::Pending];
    // Ties in the sort field are ordered by id, both reversed when descending.
    let cases: Vec<(&[DocStatus], DocSort, bool, &[&str])> = vec![
        (
            &all,
            DocSort::Id,
            false,
            &["d1", "d2", "d3", "d4", "d5", "d6", "d7"],
        ),
        (
            &all,
            DocSort::Id,
            true,
            &["d7", "d6", "d5", "d4", "d3", "d2", "d1"],
        ),
        (
            &all,
            DocSort::CreatedAt,
            false,
            &["d2", "d4", "d3", "d1", "d6", "d5", "d7"],
        ),
        (
            &all,
            DocSort::CreatedAt,
            true,
            &["d7", "d5", "d6", "d1", "d3", "d4", "d2"],
        ),
        (
            &all,
            DocSort::UpdatedAt,
            false,
            &["d1", "d6", "d3", "d4", "d5", "d2", "d7"],
        ),
        (
            &all,
            DocSort::UpdatedAt,
            true,
            &["d7", "d2", "d5", "d4", "d3", "d6", "d1"],
        ),
        // Byte order: "B.txt" before "a.txt".
        (
            &all,
            DocSort::FilePath,
            false,
            &["d7", "d2", "d4", "d1", "d3", "d6", "d5"],
        ),
        (
            &all,
            DocSort::FilePath,
            true,
            &["d5", "d6", "d3", "d1", "d4", "d2", "d7"],
        ),
        (
            &done_or_waiting,
            DocSort::CreatedAt,
            false,
            &["d2", "d4", "d1", "d6", "d7"],
        ),
        (
            &done_or_waiting,
            DocSort::UpdatedAt,
            true,
            &["d7", "d2", "d4", "d6", "d1"],
        ),
        (&[DocStatus::Failed], DocSort::Id, false, &["d3"]),
    ];
    for (statuses, sort, desc, want) in cases {
        let (got, total) = page(statuses, sort, desc, 0, 100).await;
        assert_eq!(got, strings(want), "{statuses:?} {sort:?} desc={desc}");
        assert_eq!(total, want.len(), "{statuses:?} {sort:?} desc={desc}");
        // Every window of every size is the same slice of that order.
        for limit in 1..=3 {
            for offset in 0..=want.len() {
                let (got, total) = page(statuses, sort, desc, offset, limit).await;
                let slice: Vec<&str> = want.iter().skip(offset).take(limit).copied().collect();
                assert_eq!(
                    got,
                    strings(&slice),
                    "{sort:?} desc={desc} {offset}+{limit}"
                );
                assert_eq!(total, want.len());
            }
        }
    }
    // Past the end: no rows, the same total; limit 0: no rows.
    assert_eq!(page(&all, DocSort::Id, false, 50, 10).await, (vec![], 7));
    assert_eq!(page(&all, DocSort::Id, false, 0, 0).await, (vec![], 7));
    // Repeated statuses count once; no statuses or an empty status match nothing.
    assert_eq!(
        page(
            &[DocStatus::Failed, DocStatus::Failed],
            DocSort::Id,
            false,
            0,
            10
        )
        .await,
        (strings(&["d3"]), 1)
    );
    assert_eq!(page(&[], DocSort::Id, false, 0, 10).await, (vec![], 0));
    ds.delete(&strings(&["d1", "d2", "d3", "d4", "d5", "d6", "d7"]))
        .await
        .unwrap();
    assert_eq!(page(&all, DocSort::Id, false, 0, 10).await, (vec![], 0));
    // Rows come whole.
    ds.upsert(rows[..1].to_vec()).await.unwrap();
    let p = ds
        .page(&DocPageRequest {
            statuses: vec![DocStatus::Processed],
            sort: DocSort::Id,
            descending: false,
            offset: 0,
            limit: 1,
        })
        .await
        .unwrap();
    assert_eq!(p.rows, rows[..1].to_vec());
}

/// The rows of one track id by `(created_at, id)`; a track change moves the row.
pub async fn doc_status_by_track_id(backend: &dyn Backend) {
    let ds = open(backend).await.doc_status;
    let row = |track: &str, created: &str, status| {
        let mut r = record(status, created, None);
        r.track_id = s(track);
        r
    };
    ds.upsert(vec![
        (s("doc-3"), row("t1", "2024-01-02", DocStatus::Processed)),
        (s("doc-1"), row("t1", "2024-01-02", DocStatus::Pending)),
        (s("doc-2"), row("t1", "2024-01-01", DocStatus::Failed)),
        (s("doc-4"), row("t2", "2024-01-01", DocStatus::Pending)),
        (s("doc-5"), row("t10", "2024-01-01", DocStatus::Pending)),
    ])
    .await
    .unwrap();
    let t1 = ds.by_track_id("t1").await.unwrap();
    assert_eq!(ids(&t1), strings(&["doc-2", "doc-1", "doc-3"]));
    assert_eq!(t1[0].1, row("t1", "2024-01-01", DocStatus::Failed));
    assert_eq!(
        ids(&ds.by_track_id("t2").await.unwrap()),
        strings(&["doc-4"])
    );
    assert_eq!(
        ids(&ds.by_track_id("t").await.unwrap()),
        Vec::<String>::new()
    );
    assert_eq!(
        ids(&ds.by_track_id("").await.unwrap()),
        Vec::<String>::new()
    );

    ds.upsert(vec![(
        s("doc-1"),
        row("t2", "2099-01-01", DocStatus::Processed),
    )])
    .await
    .unwrap();
    assert_eq!(
        ids(&ds.by_track_id("t1").await.unwrap()),
        strings(&["doc-2", "doc-3"])
    );
    // doc-1 keeps its created_at (2024-01-02), so it sorts after doc-4.
    assert_eq!(
        ids(&ds.by_track_id("t2").await.unwrap()),
        strings(&["doc-4", "doc-1"])
    );
    ds.delete(&[s("doc-4")]).await.unwrap();
    assert_eq!(
        ids(&ds.by_track_id("t2").await.unwrap()),
        strings(&["doc-1"])
    );
}

/// Clear removes every row and every order built on them; the store is writable again.
pub async fn doc_status_clear(backend: &dyn Backend) {
    let ds = open(backend).await.doc_status;
    ds.clear().await.unwrap();
    ds.upsert(vec![
        (s("a"), record(DocStatus::Pending, "1", Some("h"))),
        (s("b"), record(DocStatus::Processed, "2", Some("h2"))),
    ])
    .await
    .unwrap();
    ds.clear().await.unwrap();
    assert_eq!(ds.get("a").await.unwrap(), None);
    assert_eq!(ds.counts().await.unwrap(), counts(0, 0, 0, 0));
    assert_eq!(ds.by_statuses(&DocStatus::ALL).await.unwrap(), vec![]);
    assert_eq!(ds.by_track_id("track").await.unwrap(), vec![]);
    assert_eq!(ds.find_by_content_hash("h", None).await.unwrap(), None);
    let p = ds
        .page(&DocPageRequest {
            statuses: DocStatus::ALL.to_vec(),
            sort: DocSort::Id,
            descending: false,
            offset: 0,
            limit: 10,
        })
        .await
        .unwrap();
    assert_eq!((p.rows.len(), p.total), (0, 0));
    // A cleared row is new again: the created_at written is kept.
    ds.upsert(vec![(s("a"), record(DocStatus::Failed, "9", Some("h")))])
        .await
        .unwrap();
    assert_eq!(ds.get("a").await.unwrap().unwrap().created_at, "9");
    assert_eq!(ds.counts().await.unwrap(), counts(0, 0, 0, 1));
    assert_eq!(
        ds.find_by_content_hash("h", None)
            .await
            .unwrap()
            .map(|r| r.0),
        Some(s("a"))
    );
}
