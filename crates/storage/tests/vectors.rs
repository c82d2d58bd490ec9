//! Tests of the embedded vector set (redb + usearch): search, deletes, replacement,
//! persistence, journal replay after a simulated crash, model binding and recall.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use lightrag_core::ports::VectorStore;
use lightrag_core::types::VectorRecord;
use lightrag_core::Error;
use lightrag_storage::embedded::vectors::{EmbeddedVectorStore, IndexOrigin, VectorStoreOptions};
use serde_json::json;

const MODEL: &str = "test-model";

/// xorshift64* with Box-Muller normals: deterministic, no dependencies.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn uniform(&mut self) -> f32 {
        ((self.next_u64() >> 40) as f32 + 0.5) / (1u64 << 24) as f32
    }
    fn normal(&mut self) -> f32 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos()
    }
    fn gaussian(&mut self, dim: usize) -> Vec<f32> {
        (0..dim).map(|_| self.normal()).collect()
    }
    fn unit(&mut self, dim: usize) -> Vec<f32> {
        normalize(self.gaussian(dim))
    }
}

fn normalize(mut v: Vec<f32>) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter_mut().for_each(|x| *x /= norm);
    v
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// `n` unit vectors around `centres` random centres (noise `spread` per dimension).
fn clustered(rng: &mut Rng, n: usize, dim: usize, centres: usize, spread: f32) -> Vec<Vec<f32>> {
    let centres: Vec<Vec<f32>> = (0..centres).map(|_| rng.gaussian(dim)).collect();
    (0..n)
        .map(|i| {
            let c = &centres[i % centres.len()];
            normalize(c.iter().map(|x| x + spread * rng.normal()).collect())
        })
        .collect()
}

fn id(i: usize) -> String {
    format!("id-{i:05}")
}

fn records(vectors: &[Vec<f32>], offset: usize) -> Vec<VectorRecord> {
    vectors
        .iter()
        .enumerate()
        .map(|(i, v)| VectorRecord {
            id: id(offset + i),
            vector: v.clone(),
            meta: json!({ "content": format!("text {}", offset + i), "n": offset + i }),
        })
        .collect()
}

fn open(dir: &Path, dim: usize) -> EmbeddedVectorStore {
    EmbeddedVectorStore::open(dir, "chunks", MODEL, dim).unwrap()
}

fn open_no_flush_on_drop(dir: &Path, dim: usize) -> EmbeddedVectorStore {
    let options = VectorStoreOptions {
        flush_on_drop: false,
        flush_threshold: usize::MAX,
        ..VectorStoreOptions::default()
    };
    EmbeddedVectorStore::open_with(dir, "chunks", MODEL, dim, options).unwrap()
}

async fn top_ids(store: &EmbeddedVectorStore, q: &[f32], k: usize) -> Vec<String> {
    store
        .query(q, k, -1.0)
        .await
        .unwrap()
        .into_iter()
        .map(|h| h.id)
        .collect()
}

#[tokio::test]
async fn upsert_then_query_finds_each_vector_first() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), 32);
    assert_eq!(store.last_open_stats().origin, IndexOrigin::Fresh);
    let mut rng = Rng::new(1);
    let vectors: Vec<_> = (0..300).map(|_| rng.unit(32)).collect();
    store.upsert(records(&vectors, 0)).await.unwrap();
    assert_eq!(store.len().unwrap(), 300);
    assert_eq!(store.index_size(), 300);
    for (i, v) in vectors.iter().enumerate() {
        let hits = store.query(v, 5, 0.0).await.unwrap();
        assert_eq!(hits[0].id, id(i));
        assert!(
            (hits[0].score - 1.0).abs() < 1e-3,
            "score {}",
            hits[0].score
        );
        assert_eq!(hits[0].meta["n"], json!(i));
        assert!(hits.windows(2).all(|w| w[0].score >= w[1].score));
    }
    assert_eq!(store.namespace(), "chunks");
}

#[tokio::test]
async fn threshold_and_top_k_limit_hits() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), 16);
    let mut rng = Rng::new(2);
    let vectors: Vec<_> = (0..200).map(|_| rng.unit(16)).collect();
    store.upsert(records(&vectors, 0)).await.unwrap();
    let q = &vectors[7];
    let all = store.query(q, 200, -1.0).await.unwrap();
    assert_eq!(all.len(), 200);
    for threshold in [0.9_f32, 0.5, 0.2, 0.0] {
        let hits = store.query(q, 200, threshold).await.unwrap();
        let expected = vectors
            .iter()
            .filter(|v| dot(v, q) >= threshold + 1e-4)
            .count();
        assert!(hits.iter().all(|h| h.score >= threshold));
        assert!(
            hits.len() >= expected,
            "{threshold}: {} < {expected}",
            hits.len()
        );
        // scores are the cosine similarity
        for h in &hits {
            let n: usize = h.id[3..].parse().unwrap();
            assert!((h.score - dot(&vectors[n], q)).abs() < 1e-3);
        }
    }
    assert!(store.query(q, 10, 1.01).await.unwrap().is_empty());
    assert_eq!(store.query(q, 3, 0.0).await.unwrap().len(), 3);
    assert!(store.query(q, 0, 0.0).await.unwrap().is_empty());
}

#[tokio::test]
async fn deleted_ids_never_come_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), 24);
    let mut rng = Rng::new(3);
    let vectors = clustered(&mut rng, 400, 24, 8, 0.3);
    store.upsert(records(&vectors, 0)).await.unwrap();
    let deleted: Vec<String> = (0..400).step_by(3).map(id).collect();
    store.delete(&deleted).await.unwrap();
    store.delete(&["missing".to_string()]).await.unwrap();
    assert_eq!(store.len().unwrap(), 400 - deleted.len());
    assert_eq!(store.index_size(), 400 - deleted.len());
    for i in (0..400).step_by(3) {
        let hits = top_ids(&store, &vectors[i], 20).await;
        assert_eq!(hits.len(), 20);
        assert!(
            hits.iter().all(|h| !deleted.contains(h)),
            "deleted id returned"
        );
    }
    assert!(store.get_vectors(&deleted).await.unwrap().is_empty());
    assert!(store.get_meta(&deleted).await.unwrap().is_empty());
    let ids = store.ids().await.unwrap();
    assert_eq!(ids.len(), 400 - deleted.len());
    assert!(ids.windows(2).all(|w| w[0] < w[1]));

    // deleted ids survive a reopen as deleted
    drop(store);
    let store = open(dir.path(), 24);
    for i in (0..400).step_by(3) {
        let hits = top_ids(&store, &vectors[i], 20).await;
        assert!(hits.iter().all(|h| !deleted.contains(h)));
    }
}

#[tokio::test]
async fn replacing_a_vector_moves_the_id() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), 8);
    let mut rng = Rng::new(4);
    let others: Vec<_> = (0..50).map(|_| rng.unit(8)).collect();
    store.upsert(records(&others, 1)).await.unwrap();
    let v1 = normalize(vec![1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
    let v2 = normalize(vec![0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]);
    let rec = |v: &Vec<f32>, tag: &str| VectorRecord {
        id: "x".into(),
        vector: v.clone(),
        meta: json!({ "tag": tag }),
    };
    store.upsert(vec![rec(&v1, "one")]).await.unwrap();
    store.upsert(vec![rec(&v2, "two")]).await.unwrap();
    assert_eq!(store.len().unwrap(), 51);
    assert_eq!(store.index_size(), 51);
    let hits = store.query(&v2, 1, 0.0).await.unwrap();
    assert_eq!(hits[0].id, "x");
    assert_eq!(hits[0].meta, json!({ "tag": "two" }));
    let near_v1 = store.query(&v1, 51, 0.5).await.unwrap();
    assert!(near_v1.iter().all(|h| h.id != "x"));
    let stored = store.get_vectors(&["x".into()]).await.unwrap();
    assert_eq!(stored["x"], v2);

    // a repeated id within one batch: the last record wins
    store
        .upsert(vec![rec(&v2, "first"), rec(&v1, "last")])
        .await
        .unwrap();
    let hits = store.query(&v1, 1, 0.0).await.unwrap();
    assert_eq!(
        (hits[0].id.as_str(), &hits[0].meta),
        ("x", &json!({ "tag": "last" }))
    );
    assert_eq!(store.index_size(), 51);
}

#[tokio::test]
async fn reopen_loads_the_snapshot_without_rebuilding() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng::new(5);
    let vectors = clustered(&mut rng, 1500, 32, 15, 0.5);
    let queries: Vec<_> = (0..40).map(|i| vectors[i * 37].clone()).collect();
    let before = {
        let store = open(dir.path(), 32);
        store.upsert(records(&vectors, 0)).await.unwrap();
        let mut out = Vec::new();
        for q in &queries {
            out.push(store.query(q, 10, 0.2).await.unwrap());
        }
        out
    }; // dropped: flushed on drop
    assert!(dir.path().join("vdb_chunks.redb").exists());
    assert!(dir.path().join("vdb_chunks.usearch").exists());

    let store = open(dir.path(), 32);
    let stats = store.last_open_stats();
    assert_eq!(stats.origin, IndexOrigin::Snapshot);
    assert_eq!((stats.rows, stats.replayed, stats.rebuilt), (1500, 0, 0));
    assert_eq!(store.unsaved_changes(), 0);
    for (q, expected) in queries.iter().zip(&before) {
        assert_eq!(&store.query(q, 10, 0.2).await.unwrap(), expected);
    }
    assert_eq!(
        store.get_meta(&[id(3)]).await.unwrap()[&id(3)]["n"],
        json!(3)
    );
}

#[tokio::test]
async fn crash_without_flush_is_repaired_from_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng::new(6);
    let vectors = clustered(&mut rng, 600, 16, 10, 0.4);
    let replaced: Vec<_> = (0..10).map(|_| rng.unit(16)).collect();
    {
        let store = open_no_flush_on_drop(dir.path(), 16);
        store.upsert(records(&vectors[..500], 0)).await.unwrap();
        store.flush_async().await.unwrap();
        assert_eq!(store.unsaved_changes(), 0);
        // after the snapshot: 100 new, 20 deleted, 10 replaced
        store.upsert(records(&vectors[500..], 500)).await.unwrap();
        let deleted: Vec<String> = (100..120).map(id).collect();
        store.delete(&deleted).await.unwrap();
        store.upsert(records(&replaced, 200)).await.unwrap();
        assert_eq!(store.unsaved_changes(), 130);
    } // "crash": no snapshot on drop

    let store = open(dir.path(), 16);
    let stats = store.last_open_stats();
    assert_eq!(stats.origin, IndexOrigin::Snapshot, "{stats:?}");
    assert_eq!((stats.rows, stats.replayed, stats.rebuilt), (580, 130, 0));
    assert_eq!(store.index_size(), 580);
    for (i, v) in vectors.iter().enumerate().skip(500) {
        assert_eq!(top_ids(&store, v, 1).await, vec![id(i)]);
    }
    for (i, v) in vectors.iter().enumerate().take(120).skip(100) {
        assert!(!top_ids(&store, v, 20).await.contains(&id(i)));
    }
    for (j, v) in replaced.iter().enumerate() {
        let hits = store.query(v, 1, 0.0).await.unwrap();
        assert_eq!(hits[0].id, id(200 + j));
        assert!(hits[0].score > 0.999);
    }
    // the journal stays until the next snapshot, which clears it
    assert_eq!(store.unsaved_changes(), 130);
    store.flush().unwrap();
    assert_eq!(store.unsaved_changes(), 0);
    drop(store);
    let store = open(dir.path(), 16);
    assert_eq!(store.last_open_stats().replayed, 0);
    assert_eq!(store.last_open_stats().origin, IndexOrigin::Snapshot);
}

#[tokio::test]
async fn missing_or_damaged_snapshot_is_rebuilt_from_redb() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng::new(7);
    let vectors: Vec<_> = (0..300).map(|_| rng.unit(16)).collect();
    {
        let store = open(dir.path(), 16);
        store.upsert(records(&vectors, 0)).await.unwrap();
    }
    let snapshot = dir.path().join("vdb_chunks.usearch");
    let check = |store: EmbeddedVectorStore, what: &'static str| {
        let vectors = &vectors;
        let dir = dir.path();
        async move {
            let stats = store.last_open_stats();
            assert!(
                matches!(stats.origin, IndexOrigin::Rebuilt { .. }),
                "{what}: {stats:?}"
            );
            assert_eq!((stats.rows, stats.rebuilt), (300, 300));
            for (i, v) in vectors.iter().enumerate().step_by(17) {
                assert_eq!(top_ids(&store, v, 1).await, vec![id(i)], "{what}");
            }
            drop(store);
            let store = open(dir, 16);
            assert_eq!(
                store.last_open_stats().origin,
                IndexOrigin::Snapshot,
                "{what}"
            );
        }
    };

    std::fs::remove_file(&snapshot).unwrap();
    check(open(dir.path(), 16), "missing").await;

    let len = std::fs::metadata(&snapshot).unwrap().len();
    std::fs::write(&snapshot, vec![0u8; len as usize]).unwrap();
    check(open(dir.path(), 16), "zeroed").await;

    let bytes = std::fs::read(&snapshot).unwrap();
    std::fs::write(&snapshot, &bytes[..bytes.len() / 2]).unwrap();
    check(open(dir.path(), 16), "truncated").await;
}

#[tokio::test]
async fn another_model_or_dimension_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store =
            EmbeddedVectorStore::open(dir.path(), "chunks", "all-MiniLM-L6-v2", 384).unwrap();
        assert_eq!((store.model(), store.dim()), ("all-MiniLM-L6-v2", 384));
    }
    let err = EmbeddedVectorStore::open(dir.path(), "chunks", "nomic-embed-text", 768)
        .err()
        .unwrap();
    let Error::ModelMismatch(msg) = &err else {
        panic!("expected ModelMismatch, got {err:?}");
    };
    assert!(
        msg.contains("all-MiniLM-L6-v2") && msg.contains("384"),
        "{msg}"
    );
    assert!(
        msg.contains("nomic-embed-text") && msg.contains("768"),
        "{msg}"
    );
    assert!(msg.contains("chunks"), "{msg}");
    let err = EmbeddedVectorStore::open(dir.path(), "chunks", "all-MiniLM-L6-v2", 512)
        .err()
        .unwrap();
    assert!(matches!(err, Error::ModelMismatch(_)), "{err:?}");
    // other namespaces are independent sets
    EmbeddedVectorStore::open(dir.path(), "entities", "nomic-embed-text", 768).unwrap();
    EmbeddedVectorStore::open(dir.path(), "chunks", "all-MiniLM-L6-v2", 384).unwrap();
}

#[tokio::test]
async fn invalid_vectors_are_rejected_before_writing() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), 4);
    let good = VectorRecord {
        id: "good".into(),
        vector: vec![1.0, 0.0, 0.0, 0.0],
        meta: json!({}),
    };
    let short = VectorRecord {
        id: "short".into(),
        vector: vec![1.0, 0.0, 0.0],
        meta: json!({}),
    };
    let nan = VectorRecord {
        id: "nan".into(),
        vector: vec![1.0, f32::NAN, 0.0, 0.0],
        meta: json!({}),
    };
    let err = store.upsert(vec![good.clone(), short]).await.unwrap_err();
    assert!(
        matches!(&err, Error::InvalidInput(m) if m.contains("short") && m.contains("3")),
        "{err:?}"
    );
    let err = store.upsert(vec![good.clone(), nan]).await.unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)), "{err:?}");
    assert!(store.ids().await.unwrap().is_empty());
    let err = store.query(&[1.0, 0.0], 5, 0.0).await.unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)), "{err:?}");
    let err = store
        .query(&[f32::INFINITY, 0.0, 0.0, 0.0], 5, 0.0)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)), "{err:?}");
    store.upsert(vec![good]).await.unwrap();
    assert_eq!(store.ids().await.unwrap(), vec!["good".to_string()]);
    assert!(EmbeddedVectorStore::open(dir.path(), "../x", MODEL, 4).is_err());
    assert!(EmbeddedVectorStore::open(dir.path(), "zero", MODEL, 0).is_err());
}

#[tokio::test]
async fn a_corrupt_database_is_a_storage_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vdb_chunks.redb");
    let mut junk = Vec::new();
    let mut rng = Rng::new(8);
    for _ in 0..8192 {
        junk.push(rng.next_u64() as u8);
    }
    std::fs::write(&path, junk).unwrap();
    let err = EmbeddedVectorStore::open(dir.path(), "chunks", MODEL, 4)
        .err()
        .unwrap();
    let Error::Storage(lightrag_core::StorageError { message: msg, .. }) = &err else {
        panic!("expected Storage, got {err:?}");
    };
    assert!(msg.contains(&path.display().to_string()), "{msg}");
}

#[tokio::test]
async fn clear_empties_the_set_but_keeps_the_binding() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng::new(9);
    let vectors: Vec<_> = (0..100).map(|_| rng.unit(8)).collect();
    {
        let store = open(dir.path(), 8);
        store.upsert(records(&vectors, 0)).await.unwrap();
        store.clear().await.unwrap();
        assert!(store.ids().await.unwrap().is_empty());
        assert!(store.is_empty().unwrap());
        assert!(store.query(&vectors[0], 10, -1.0).await.unwrap().is_empty());
        assert_eq!(store.index_size(), 0);
        store.upsert(records(&vectors[..10], 1000)).await.unwrap();
        assert_eq!(top_ids(&store, &vectors[3], 1).await, vec![id(1003)]);
    }
    let store = open(dir.path(), 8);
    assert_eq!(store.last_open_stats().origin, IndexOrigin::Snapshot);
    assert_eq!(store.len().unwrap(), 10);
    assert_eq!(top_ids(&store, &vectors[3], 1).await, vec![id(1003)]);
    drop(store);
    assert!(matches!(
        EmbeddedVectorStore::open(dir.path(), "chunks", "other", 8),
        Err(Error::ModelMismatch(_))
    ));
}

#[tokio::test]
async fn the_journal_threshold_triggers_a_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let options = VectorStoreOptions {
        flush_threshold: 50,
        flush_on_drop: false,
        ..VectorStoreOptions::default()
    };
    let mut rng = Rng::new(10);
    let vectors: Vec<_> = (0..120).map(|_| rng.unit(8)).collect();
    {
        let store = EmbeddedVectorStore::open_with(dir.path(), "chunks", MODEL, 8, options.clone())
            .unwrap();
        store.upsert(records(&vectors[..40], 0)).await.unwrap();
        assert_eq!(store.unsaved_changes(), 40);
        store.upsert(records(&vectors[40..60], 40)).await.unwrap();
        assert_eq!(store.unsaved_changes(), 0);
        store.upsert(records(&vectors[60..], 60)).await.unwrap();
        assert_eq!(store.unsaved_changes(), 0); // 60 more: past the threshold again
        store.delete(&[id(0)]).await.unwrap();
        assert_eq!(store.unsaved_changes(), 1);
    }
    let store = EmbeddedVectorStore::open_with(dir.path(), "chunks", MODEL, 8, options).unwrap();
    let stats = store.last_open_stats();
    assert_eq!(
        (stats.origin, stats.replayed, stats.rows),
        (IndexOrigin::Snapshot, 1, 119)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_queries_and_writes() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(open(dir.path(), 32));
    let mut rng = Rng::new(11);
    let vectors = Arc::new(clustered(&mut rng, 1000, 32, 10, 0.5));
    store.upsert(records(&vectors[..800], 0)).await.unwrap();
    let mut tasks = Vec::new();
    for t in 0..64 {
        let (store, vectors) = (store.clone(), vectors.clone());
        tasks.push(tokio::spawn(async move {
            if t % 8 == 0 {
                let from = 800 + (t / 8) * 25;
                store
                    .upsert(records(&vectors[from..from + 25], from))
                    .await
                    .unwrap();
            } else {
                for i in 0..20 {
                    let n = (t * 20 + i) % 800;
                    let hits = store.query(&vectors[n], 10, 0.0).await.unwrap();
                    assert_eq!(hits[0].id, id(n));
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(store.len().unwrap(), 1000);
    assert_eq!(store.index_size(), 1000);
}

/// Exact top-k ids by cosine similarity.
fn exact_top(vectors: &[Vec<f32>], q: &[f32], k: usize) -> Vec<usize> {
    let mut scored: Vec<(f32, usize)> = vectors
        .iter()
        .enumerate()
        .map(|(i, v)| (dot(v, q), i))
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    scored.into_iter().take(k).map(|(_, i)| i).collect()
}

#[tokio::test]
async fn recall_at_10_on_clustered_vectors() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), 64);
    let mut rng = Rng::new(12);
    let all = clustered(&mut rng, 2100, 64, 20, 1.0);
    let (vectors, queries) = all.split_at(2000);
    store.upsert(records(vectors, 0)).await.unwrap();
    let mut found = 0;
    for q in queries {
        let truth = exact_top(vectors, q, 10);
        let hits = top_ids(&store, q, 10).await;
        found += truth.iter().filter(|i| hits.contains(&id(**i))).count();
    }
    let recall = found as f64 / (queries.len() * 10) as f64;
    println!("recall@10 = {recall:.4}");
    assert!(recall >= 0.95, "recall@10 = {recall}");
}

/// Timing on 20,000 × 384 (run with `--ignored --nocapture`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn bench_20k_x_384() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng::new(13);
    let all = clustered(&mut rng, 20_200, 384, 200, 0.8);
    let (vectors, queries) = all.split_at(20_000);
    let store = open(dir.path(), 384);
    let t = Instant::now();
    for (n, part) in vectors.chunks(1000).enumerate() {
        store.upsert(records(part, n * 1000)).await.unwrap();
    }
    println!("upsert 20k in batches of 1,000: {:?}", t.elapsed());
    let t = Instant::now();
    store.flush().unwrap();
    println!("flush: {:?}", t.elapsed());
    println!("index memory: {} MB", store.index_memory_bytes() >> 20);
    let mut found = 0;
    for q in queries {
        let hits = top_ids(&store, q, 10).await;
        found += exact_top(vectors, q, 10)
            .iter()
            .filter(|i| hits.contains(&id(**i)))
            .count();
    }
    let t = Instant::now();
    for q in queries {
        store.query(q, 10, 0.2).await.unwrap();
    }
    println!(
        "query top-10: {:.3} ms each; recall@10 {:.4}",
        t.elapsed().as_secs_f64() * 1000.0 / queries.len() as f64,
        found as f64 / (queries.len() * 10) as f64
    );
    let t = Instant::now();
    for q in queries {
        store.query(q, 60, 0.2).await.unwrap();
    }
    println!(
        "query top-60: {:.3} ms each",
        t.elapsed().as_secs_f64() * 1000.0 / queries.len() as f64
    );
    let t = Instant::now();
    let ids: Vec<String> = (0..1000).map(id).collect();
    store.delete(&ids).await.unwrap();
    println!("delete 1,000: {:?}", t.elapsed());
    drop(store);
    let t = Instant::now();
    let store = open(dir.path(), 384);
    println!("reopen: {:?} ({:?})", t.elapsed(), store.last_open_stats());
    drop(store);
    std::fs::remove_file(dir.path().join("vdb_chunks.usearch")).unwrap();
    let t = Instant::now();
    let store = open(dir.path(), 384);
    println!(
        "reopen with rebuild: {:?} ({} vectors)",
        t.elapsed(),
        store.last_open_stats().rebuilt
    );
    let sizes: Vec<_> = ["vdb_chunks.redb", "vdb_chunks.usearch"]
        .iter()
        .map(|f| std::fs::metadata(dir.path().join(f)).unwrap().len() >> 20)
        .collect();
    println!("files: redb {} MB, usearch {} MB", sizes[0], sizes[1]);
}

#[tokio::test]
async fn a_new_meta_for_the_same_vector_does_not_touch_the_index() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng::new(12);
    let vectors: Vec<_> = (0..10).map(|_| rng.unit(8)).collect();
    {
        let store = open_no_flush_on_drop(dir.path(), 8);
        store.upsert(records(&vectors, 0)).await.unwrap();
        store.flush().unwrap();
        assert_eq!(store.unsaved_changes(), 0);
        let moved: Vec<VectorRecord> = records(&vectors, 0)
            .into_iter()
            .map(|mut r| {
                r.meta = json!({ "content": "same text", "weight": 2 });
                r
            })
            .collect();
        store.upsert(moved).await.unwrap();
        // Nothing new for the HNSW index or its journal, but the metadata moved.
        assert_eq!(store.unsaved_changes(), 0);
        assert_eq!(store.index_size(), 10);
        let hits = store.query(&vectors[3], 1, 0.0).await.unwrap();
        assert_eq!(
            (hits[0].id.as_str(), &hits[0].meta),
            (
                id(3).as_str(),
                &json!({ "content": "same text", "weight": 2 })
            )
        );
    }
    // Reopened, the snapshot still finds each vector, with its new metadata.
    let store = open(dir.path(), 8);
    let hits = store.query(&vectors[7], 1, 0.0).await.unwrap();
    assert_eq!(
        (hits[0].id.as_str(), &hits[0].meta["weight"]),
        (id(7).as_str(), &json!(2))
    );
}
