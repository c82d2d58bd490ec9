//! The behavioural suite (`conformance/`) on PostgreSQL + pgvector, plus what only a database
//! has: concurrent schema creation, a newer schema refused, an unreachable server, a hub of
//! 10,000 edges, workspaces side by side, label ranking on awkward names, wide vectors, the
//! HNSW path, racing edge writers and a server that goes away and comes back.
//!
//! The server is `LIGHTRAG_TEST_PG_URL` (`scripts/postgres.sh url`; scripts/test.sh starts it).
//! Each test works in its own workspace (removed again when the test ends), so tests run in
//! parallel on one database. With `LIGHTRAG_TEST_SERVICES=1` a missing URL or a server that
//! does not answer fails the test; without it and without a URL the test is skipped with a note.
//! Set `LIGHTRAG_TEST_PG_KEEP=1` to keep a test's rows for a look afterwards.

#![cfg(feature = "postgres")]

mod conformance;
mod pg;

use pg::{on_own_runtime, server, settings, unique, with_database, Pg};

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use lightrag_core::browse::{label_score, rank_labels};
use lightrag_core::ports::Stores;
use lightrag_core::types::{Entity, Relation, VectorRecord};
use lightrag_core::{Error, Result, StorageErrorKind};
use lightrag_storage::postgres::{PgBackend, SCHEMA_VERSION};
use serde_json::json;
use sqlx::{Connection, PgConnection};

#[async_trait]
impl conformance::Backend for Pg {
    fn name(&self) -> &'static str {
        "postgres"
    }

    async fn open(&self, model: &str, dim: usize) -> Result<Stores> {
        self.stores(model, dim).await
    }
}

conformance_tests!(
    match Pg::new(std::thread::current().name().unwrap_or("conformance")).await {
        Some(pg) => pg,
        None => return,
    }
);

// ---------------------------------------------------------------------------------------------
// What only a database has.

/// A database of its own (created here, dropped at the end) for schema tests.
struct FreshDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl FreshDatabase {
    async fn new(test: &str) -> Option<FreshDatabase> {
        let admin_url = server(test).await?;
        let name = unique("lightrag_schema");
        let mut admin = PgConnection::connect(&admin_url)
            .await
            .expect("admin connection");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .expect("create database");
        let _ = admin.close().await;
        let url = with_database(&admin_url, &name);
        Some(FreshDatabase {
            admin_url,
            name,
            url,
        })
    }
}

impl Drop for FreshDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        on_own_runtime(async move {
            let Ok(mut admin) = PgConnection::connect(&admin_url).await else {
                return;
            };
            let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
            if let Err(e) = sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&mut admin)
                .await
            {
                eprintln!("cannot drop the test database {name}: {e}");
            }
            let _ = admin.close().await;
        });
    }
}

/// Several processes starting at once on an empty database: every one succeeds (one migrates
/// under the advisory lock, the others wait and find the schema there), and the schema is
/// at this build's version.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pg_concurrent_connects_on_a_fresh_database_all_succeed() {
    let Some(db) = FreshDatabase::new("pg_concurrent_connects").await else {
        return;
    };
    let s = settings(&db.url);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let s = s.clone();
        tasks.spawn(async move { PgBackend::connect(&s).await });
    }
    let mut backends = Vec::new();
    while let Some(r) = tasks.join_next().await {
        backends.push(r.expect("task").expect("connect on a fresh database"));
    }
    // Each can open and use a workspace (the first opens also race on the HNSW indexes).
    let mut opens = tokio::task::JoinSet::new();
    for (i, b) in backends.iter().enumerate() {
        let b = b.clone();
        opens.spawn(async move {
            let st = b.open(&format!("w{i}"), "m", 8).await?;
            st.kv
                .upsert(
                    lightrag_core::ports::Namespace::FullDocs,
                    vec![("k".into(), json!(i))],
                )
                .await?;
            Result::<()>::Ok(())
        });
    }
    while let Some(r) = opens.join_next().await {
        r.expect("task").expect("open and write");
    }
    let mut conn = PgConnection::connect(&db.url).await.unwrap();
    let version: i32 = sqlx::query_scalar("SELECT version FROM lightrag_rs_schema_version")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM lightrag_rs_schema_version")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(rows, 1);
    let _ = conn.close().await;
    for b in backends {
        b.close().await;
    }
}

/// A database a newer lightrag migrated is refused, saying which versions and what to do.
#[tokio::test]
async fn pg_newer_schema_is_refused() {
    let Some(db) = FreshDatabase::new("pg_newer_schema_is_refused").await else {
        return;
    };
    let s = settings(&db.url);
    PgBackend::connect(&s)
        .await
        .expect("first connect")
        .close()
        .await;
    let mut conn = PgConnection::connect(&db.url).await.unwrap();
    sqlx::query("UPDATE lightrag_rs_schema_version SET version = version + 1")
        .execute(&mut conn)
        .await
        .unwrap();
    let _ = conn.close().await;
    let err = PgBackend::connect(&s)
        .await
        .expect_err("a newer schema must be refused");
    let msg = err.to_string();
    let want = format!(
        "built for schema {SCHEMA_VERSION}, database is at {}: upgrade lightrag",
        SCHEMA_VERSION + 1
    );
    assert!(msg.contains(&want), "{msg}");
    assert!(
        matches!(&err, Error::Storage(e) if e.backend == "postgres" && !e.is_retryable()),
        "{err:?}"
    );
}

/// A closed port fails within seconds, as unavailable, naming host:port and not the password.
/// Needs no server.
#[tokio::test]
async fn pg_unreachable_server_fails_fast() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("postgres://someone:s3cret-pw@127.0.0.1:{port}/lightrag?sslmode=disable");
    let started = Instant::now();
    let err = PgBackend::connect(&settings(&url))
        .await
        .expect_err("nothing listens there");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(6), "took {took:?}");
    let Error::Storage(e) = &err else {
        panic!("expected a storage error, got {err:?}");
    };
    assert_eq!(
        (e.backend, e.kind),
        ("postgres", StorageErrorKind::Unavailable),
        "{err}"
    );
    assert!(err.is_retryable());
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("cannot reach PostgreSQL at 127.0.0.1:{port}")),
        "{msg}"
    );
    assert!(!msg.contains("s3cret"), "{msg}");
}

fn entity(name: &str) -> Entity {
    conformance::entity(name)
}

fn relation(a: &str, b: &str, w: f64) -> Relation {
    conformance::relation(a, b, w)
}

/// A hub with 10,000 edges, written in one batch in no particular order, on both sides of the
/// sorted pair (neighbours before and after its name): its first `cap` edges are its heaviest,
/// and so for every cap asked.
#[tokio::test]
async fn pg_hub_with_10000_edges_returns_its_heaviest() {
    let Some(pg) = Pg::new("pg_hub_with_10000_edges").await else {
        return;
    };
    let st = conformance::Backend::open(&pg, "m", 4).await.unwrap();
    let g = &st.graph;
    g.upsert_nodes(vec![entity("m-hub")]).await.unwrap();
    const N: u32 = 10_000;
    // Neighbours "a…" sort before the hub, "z…" after: both edge indexes serve it.
    let name = |i: u32| format!("{}{i:05}", if i.is_multiple_of(2) { "a" } else { "z" });
    let weight = |i: u32| f64::from((i * 7919) % N) / 10.0;
    let edges: Vec<Relation> = (0..N)
        .map(|i| relation(&name(i), "m-hub", weight(i)))
        .collect();
    g.upsert_edges(edges).await.unwrap();
    assert_eq!(
        g.node_degrees(&["m-hub".into()]).await.unwrap()["m-hub"],
        N as usize
    );
    let mut expected: Vec<(f64, String)> = (0..N).map(|i| (weight(i), name(i))).collect();
    expected.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    for cap in [1usize, 10, 25, 500] {
        let started = Instant::now();
        let got = g
            .node_edges(&["m-hub".into(), "a00000".into()], cap)
            .await
            .unwrap();
        let took = started.elapsed();
        let hub: Vec<(f64, String)> = got["m-hub"]
            .iter()
            .map(|r| {
                let other = if r.src_id == "m-hub" {
                    &r.tgt_id
                } else {
                    &r.src_id
                };
                (r.weight, other.clone())
            })
            .collect();
        assert_eq!(hub, expected[..cap].to_vec(), "cap {cap}");
        assert_eq!(got["a00000"].len(), 1);
        eprintln!("node_edges(hub of {N}, cap {cap}): {took:?}");
    }
    let all = g.node_edges(&["m-hub".into()], usize::MAX).await.unwrap();
    assert_eq!(all["m-hub"].len(), N as usize);
}

/// One pool, two workspaces: the same ids are different records, and clearing a role of one
/// workspace leaves the other's rows.
#[tokio::test]
async fn pg_workspaces_are_separate() {
    let Some(a) = Pg::new("pg_workspaces_are_separate").await else {
        return;
    };
    let b = Pg {
        url: a.url.clone(),
        workspace: unique("t"),
    };
    let backend = PgBackend::connect(&settings(&a.url)).await.unwrap();
    let sa = backend.open(&a.workspace, "m", 4).await.unwrap();
    let sb = backend.open(&b.workspace, "other-model", 8).await.unwrap();
    let ns = lightrag_core::ports::Namespace::FullDocs;
    for (st, tag, dim) in [(&sa, "a", 4usize), (&sb, "b", 8)] {
        st.kv
            .upsert(ns, vec![("k".into(), json!(tag))])
            .await
            .unwrap();
        st.doc_status
            .upsert(vec![(
                "d".into(),
                conformance::record(lightrag_core::types::DocStatus::Pending, tag, Some("h")),
            )])
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
        let mut v = vec![0.0f32; dim];
        v[0] = 1.0;
        st.chunks_vdb
            .upsert(vec![VectorRecord {
                id: "v".into(),
                vector: v,
                meta: json!({"ws": tag}),
            }])
            .await
            .unwrap();
    }
    sa.kv.clear(ns).await.unwrap();
    sa.doc_status.clear().await.unwrap();
    sa.graph.clear().await.unwrap();
    sa.chunks_vdb.clear().await.unwrap();
    assert!(sa.kv.keys(ns).await.unwrap().is_empty());
    assert_eq!(sb.kv.get(ns, "k").await.unwrap(), Some(json!("b")));
    assert_eq!(
        sb.doc_status.get("d").await.unwrap().unwrap().created_at,
        "b"
    );
    assert_eq!(sb.graph.edge_count().await.unwrap(), 1);
    assert_eq!(
        sb.graph.node_degrees(&["A".into()]).await.unwrap(),
        HashMap::from([("A".to_string(), 1)])
    );
    assert_eq!(sb.chunks_vdb.ids().await.unwrap(), vec!["v".to_string()]);
    assert_eq!(sa.graph.node_count().await.unwrap(), 0);
    let hits = sb
        .chunks_vdb
        .query(&[1.0, 0., 0., 0., 0., 0., 0., 0.], 5, 0.5)
        .await
        .unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].meta, json!({"ws": "b"}));
    // Each workspace keeps its own model binding.
    let err = backend
        .open(&b.workspace, "m", 4)
        .await
        .err()
        .expect("refused");
    assert!(matches!(err, Error::ModelMismatch(_)), "{err}");
    backend.close().await;
}

/// Label search ranks exactly as `label_score` + `rank_labels` on names where case mapping,
/// character counts and LIKE wildcards could go wrong.
#[tokio::test]
async fn pg_search_labels_equals_label_score() {
    let Some(pg) = Pg::new("pg_search_labels_equals_label_score").await else {
        return;
    };
    let st = conformance::Backend::open(&pg, "m", 4).await.unwrap();
    let names = [
        "İstanbul",
        "istanbul",
        "ISTANBUL Port",
        "Σίσυφος",
        "ΣΊΣΥΦΟΣ",
        "straße",
        "STRASSE",
        "ǅemal",
        "Große Straße",
        "x_100%",
        "x%",
        "100% sure",
        "a_b",
        "axb",
        "back\\slash",
        "Über-Ärger",
        "über ärger",
        "日本語のテキスト",
        "テキスト",
        "émile",
        "Émile Zola",
        "zola-émile",
        "   spaced",
        "tab\there",
    ];
    st.graph
        .upsert_nodes(names.iter().map(|n| entity(n)).collect())
        .await
        .unwrap();
    let needles = [
        "istanbul",
        "i̇stanbul",
        "σίσυφος",
        "straße",
        "strasse",
        "ǆemal",
        "%",
        "_",
        "x%",
        "\\",
        "ärger",
        "über",
        "テキスト",
        "émile",
        "e",
        "a",
        " ",
        "\t",
        "zola",
    ];
    for needle in needles {
        let needle = needle.to_lowercase();
        for limit in [1usize, 3, 100] {
            let hits = names
                .iter()
                .filter_map(|n| label_score(n, &needle).map(|s| (s, n.to_string())))
                .collect();
            let want = rank_labels(hits, limit);
            let got = st.graph.search_labels(&needle, limit).await.unwrap();
            assert_eq!(got, want, "needle {needle:?} limit {limit}");
        }
    }
}

/// Above 2,000 dimensions the index holds halfvec (the rows keep f32); above 4,000 the open
/// is refused, saying why.
#[tokio::test]
async fn pg_wide_vectors_use_halfvec_and_too_wide_are_refused() {
    let Some(pg) = Pg::new("pg_wide_vectors").await else {
        return;
    };
    let dim = 3072;
    let st = conformance::Backend::open(&pg, "wide-model", dim)
        .await
        .unwrap();
    let vector = |i: usize| -> Vec<f32> {
        (0..dim)
            .map(|j| if j == i { 1.0 } else { 0.001 * (j % 7) as f32 })
            .collect()
    };
    let records = (0..20)
        .map(|i| VectorRecord {
            id: format!("w{i:02}"),
            vector: vector(i),
            meta: json!({"i": i}),
        })
        .collect();
    st.chunks_vdb.upsert(records).await.unwrap();
    let hits = st.chunks_vdb.query(&vector(7), 3, 0.0).await.unwrap();
    assert_eq!(hits[0].id, "w07");
    assert!((hits[0].score - 1.0).abs() < 1e-5, "{}", hits[0].score);
    assert_eq!(
        st.chunks_vdb.get_vectors(&["w03".into()]).await.unwrap()["w03"],
        vector(3)
    );
    let mut conn = PgConnection::connect(&pg.url).await.unwrap();
    let def: String = sqlx::query_scalar("SELECT indexdef FROM pg_indexes WHERE indexname = $1")
        .bind(format!("lightrag_rs_vdb_chunks_hnsw_{dim}"))
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert!(
        def.contains("halfvec(3072)") && def.contains("halfvec_cosine_ops"),
        "{def}"
    );
    let _ = conn.close().await;

    let err = conformance::Backend::open(
        &Pg {
            url: pg.url.clone(),
            workspace: unique("t"),
        },
        "huge",
        4001,
    )
    .await
    .err()
    .expect("refused");
    assert!(
        matches!(&err, Error::Config(m) if m.contains("4001") && m.contains("4000")),
        "{err}"
    );
}

/// A workspace with more vectors than the exact-scan limit queries through the HNSW index:
/// the results match an exact ranking (recall 1.0 on this easy set), also for a top_k that
/// raises `ef_search` for its query.
#[tokio::test]
async fn pg_hnsw_path_matches_exact_ranking() {
    let Some(pg) = Pg::new("pg_hnsw_path").await else {
        return;
    };
    const DIM: usize = 8;
    let n = lightrag_storage::postgres::vectors::EXACT_SCAN_MAX + 1_000;
    let st = conformance::Backend::open(&pg, "m", DIM).await.unwrap();
    // A deterministic spread of directions (splitmix64 per component).
    let vector = |i: usize| -> Vec<f32> {
        (0..DIM)
            .map(|j| {
                let mut z = ((i * DIM + j) as u64).wrapping_add(0x9e37_79b9_7f4a_7c15);
                z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                z ^= z >> 31;
                (z % 2000) as f32 / 1000.0 - 1.0
            })
            .collect()
    };
    let records: Vec<VectorRecord> = (0..n)
        .map(|i| VectorRecord {
            id: format!("v{i:05}"),
            vector: vector(i),
            meta: json!({"i": i}),
        })
        .collect();
    st.entities_vdb.upsert(records).await.unwrap();
    let cosine = |a: &[f32], b: &[f32]| -> f64 {
        let dot: f64 = a
            .iter()
            .zip(b)
            .map(|(x, y)| f64::from(*x) * f64::from(*y))
            .sum();
        let na: f64 = a.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
        let nb: f64 = b.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
        dot / (na * nb)
    };
    let mut total = 0usize;
    let mut found = 0usize;
    for (q, top_k) in [(3usize, 10usize), (77, 10), (1234, 100), (4321, 5)] {
        let query = vector(q);
        let mut exact: Vec<(f64, String)> = (0..n)
            .map(|i| (cosine(&query, &vector(i)), format!("v{i:05}")))
            .collect();
        exact.sort_by(|a, b| b.0.total_cmp(&a.0));
        let started = Instant::now();
        let hits = st.entities_vdb.query(&query, top_k, -1.0).await.unwrap();
        eprintln!(
            "HNSW query of {n} vectors, top {top_k}: {:?}",
            started.elapsed()
        );
        assert_eq!(hits.len(), top_k);
        assert!(
            hits.windows(2).all(|w| w[0].score >= w[1].score - 1e-6),
            "best first"
        );
        let want: std::collections::HashSet<&str> =
            exact[..top_k].iter().map(|(_, id)| id.as_str()).collect();
        total += top_k;
        found += hits.iter().filter(|h| want.contains(h.id.as_str())).count();
        assert!(
            (f64::from(hits[0].score) - exact[0].0).abs() < 1e-4,
            "the best hit"
        );
    }
    let recall = found as f64 / total as f64;
    assert!(recall >= 0.95, "recall {recall}");
}

/// Many writers upserting and removing overlapping edges in opposite orders at once: no
/// error reaches them (lost races are retried), and every degree equals the edges stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pg_racing_edge_writers_keep_degrees_exact() {
    let Some(pg) = Pg::new("pg_racing_edge_writers").await else {
        return;
    };
    let st = conformance::Backend::open(&pg, "m", 4).await.unwrap();
    let names: Vec<String> = (0..12).map(|i| format!("n{i:02}")).collect();
    st.graph
        .upsert_nodes(names.iter().map(|n| entity(n)).collect())
        .await
        .unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for t in 0..16usize {
        let g = st.graph.clone();
        let names = names.clone();
        tasks.spawn(async move {
            for round in 0..10usize {
                let mut batch: Vec<Relation> = Vec::new();
                for i in 0..names.len() {
                    let j = (i + 1 + (t + round) % 5) % names.len();
                    batch.push(relation(&names[i], &names[j], (t * 10 + round) as f64));
                }
                if t % 2 == 1 {
                    batch.reverse();
                }
                g.upsert_edges(batch).await?;
                if round % 3 == 2 {
                    let pairs: Vec<(String, String)> = (0..names.len())
                        .step_by(3)
                        .map(|i| (names[i].clone(), names[(i + 2) % names.len()].clone()))
                        .collect();
                    g.remove_edges(&pairs).await?;
                }
            }
            Result::<()>::Ok(())
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.expect("task").expect("writers never see a lost race");
    }
    let edges = st.graph.all_edges().await.unwrap();
    let mut want: BTreeMap<String, usize> = names.iter().map(|n| (n.clone(), 0)).collect();
    for e in &edges {
        *want.get_mut(&e.src_id).unwrap() += 1;
        if e.tgt_id != e.src_id {
            *want.get_mut(&e.tgt_id).unwrap() += 1;
        }
    }
    let got: BTreeMap<String, usize> = st
        .graph
        .node_degrees(&names)
        .await
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(got, want);
    let listed = st.graph.node_edges(&names, usize::MAX).await.unwrap();
    for n in &names {
        assert_eq!(listed[n].len(), want[n], "{n}");
    }
}

/// PostgreSQL cannot hold U+0000 in text or JSONB: such a write is refused as invalid input,
/// saying so, and changes nothing.
#[tokio::test]
async fn pg_nul_characters_are_refused_clearly() {
    let Some(pg) = Pg::new("pg_nul_characters").await else {
        return;
    };
    let st = conformance::Backend::open(&pg, "m", 4).await.unwrap();
    let ns = lightrag_core::ports::Namespace::FullDocs;
    for (id, value) in [("ok", json!("a\u{0}b")), ("bad\u{0}id", json!("x"))] {
        let err = st
            .kv
            .upsert(ns, vec![("first".into(), json!(1)), (id.into(), value)])
            .await
            .expect_err("refused");
        assert!(
            matches!(&err, Error::InvalidInput(m) if m.contains("U+0000")),
            "{err:?}"
        );
    }
    assert!(st.kv.keys(ns).await.unwrap().is_empty());
}

/// Runs `scripts/postgres.sh cmd` for a private cluster (its own port and directory).
fn pg_script(port: u16, dir: &std::path::Path, cmd: &str) -> std::result::Result<String, String> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/postgres.sh");
    let out = std::process::Command::new(script)
        .arg(cmd)
        .env("LIGHTRAG_PG_PORT", port.to_string())
        .env("LIGHTRAG_PG_DIR", dir)
        .output()
        .map_err(|e| format!("scripts/postgres.sh: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "scripts/postgres.sh {cmd}: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// A private PostgreSQL cluster, stopped however the test ends.
struct PrivateServer {
    port: u16,
    dir: tempfile::TempDir,
}

impl PrivateServer {
    fn start() -> PrivateServer {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let server = PrivateServer {
            port,
            dir: tempfile::tempdir().unwrap(),
        };
        server.run("start");
        server
    }

    fn run(&self, cmd: &str) -> String {
        pg_script(self.port, &self.dir.path().join("pg"), cmd).unwrap_or_else(|e| panic!("{e}"))
    }
}

impl Drop for PrivateServer {
    fn drop(&mut self) {
        let _ = pg_script(self.port, &self.dir.path().join("pg"), "stop");
    }
}

/// A private server that stops mid-run: calls fail as unavailable (retryable), naming
/// host:port, and the same stores work again once it is back, without reopening.
#[tokio::test]
async fn pg_server_outage_is_unavailable_then_recovers() {
    // Uses the test server's installation (scripts/postgres.sh) for a cluster of its own.
    if server("pg_server_outage").await.is_none() {
        return;
    }
    let pg = PrivateServer::start();
    let url = pg.run("url");
    let port = pg.port;
    let backend = PgBackend::connect(&settings(&url)).await.expect("connect");
    let st = backend.open("outage", "m", 4).await.expect("open");
    let ns = lightrag_core::ports::Namespace::FullDocs;
    st.kv
        .upsert(ns, vec![("before".into(), json!(1))])
        .await
        .unwrap();
    pg.run("stop");
    let started = Instant::now();
    let err = st
        .kv
        .upsert(ns, vec![("during".into(), json!(2))])
        .await
        .expect_err("the server is down");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    let Error::Storage(e) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(
        (e.backend, e.kind),
        ("postgres", StorageErrorKind::Unavailable),
        "{err}"
    );
    assert!(
        err.to_string().contains(&format!("127.0.0.1:{port}")),
        "{err}"
    );
    pg.run("start");
    st.kv
        .upsert(ns, vec![("after".into(), json!(3))])
        .await
        .expect("works again");
    assert_eq!(
        st.kv.keys(ns).await.unwrap(),
        vec!["after".to_string(), "before".to_string()]
    );
    backend.close().await;
}

/// `[Name]`s are entities; each chunk takes a while, so a run can be caught mid-way.
struct SlowBrackets;

#[async_trait]
impl lightrag_core::ports::Extractor for SlowBrackets {
    fn identity(&self) -> String {
        "slow-brackets".into()
    }
    async fn extract(
        &self,
        chunk: &lightrag_core::types::Chunk,
    ) -> Result<lightrag_core::types::ChunkExtraction> {
        tokio::time::sleep(Duration::from_millis(150)).await;
        let mut ex = lightrag_core::types::ChunkExtraction::default();
        for name in chunk
            .content
            .split('[')
            .skip(1)
            .filter_map(|p| p.split(']').next())
        {
            ex.entities.push(lightrag_core::types::ExtractedEntity {
                name: name.to_string(),
                entity_type: "thing".into(),
                description: format!("{name} is named in {}.", chunk.file_path),
                source_id: chunk.id.clone(),
                file_path: chunk.file_path.clone(),
            });
        }
        Ok(ex)
    }
}

/// The engine inserting into a PostgreSQL that is stopped mid-run: documents in flight fail
/// with a message naming PostgreSQL (or stay `processing` when even that cannot be written),
/// nothing half-written is left that `check` does not report, and once the server is back the
/// next run finishes every document and checks clean.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg_engine_resumes_after_the_server_stops_mid_insert() {
    use lightrag_core::pipeline::process::NoProgress;
    use lightrag_core::pipeline::NewDocument;
    use lightrag_core::types::DocStatus;
    use std::sync::Arc;
    if server("pg_engine_outage").await.is_none() {
        return;
    }
    let pg = PrivateServer::start();
    let url = pg.run("url");
    let backend = PgBackend::connect(&settings(&url)).await.expect("connect");
    let stores = backend
        .open("engine_outage", "hashing", 32)
        .await
        .expect("open");
    let mut s = lightrag_core::config::Settings::default();
    s.set("EMBEDDING_BINDING", "hashing");
    s.set("EMBEDDING_DIM", "32");
    s.set("MAX_PARALLEL_INSERT", "2");
    let rag = Arc::new(lightrag_core::Rag::new(
        s.to_config().unwrap(),
        stores,
        Arc::new(lightrag_core::hashing::HashingEmbedder::new(32)),
        Arc::new(SlowBrackets),
    ));
    let docs: Vec<NewDocument> = (0..5)
        .map(|i| NewDocument {
            key: format!("d{i}.txt"),
            content: format!("Report {i}: [Orin Lines] and [Station {i}] by [Lake Orin]."),
        })
        .collect();
    rag.enqueue(docs, "outage").await.unwrap();
    let worker = rag.clone();
    let run = tokio::spawn(async move { worker.process_pending(Arc::new(NoProgress)).await });
    // Stop the server once some documents are done and others are in flight.
    loop {
        let counts = rag.stores().doc_status.counts().await.unwrap();
        if counts[&DocStatus::Processed] >= 2 {
            break;
        }
        assert!(!run.is_finished(), "the run ended before the outage");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    pg.run("stop");
    let report = run
        .await
        .unwrap()
        .expect("the run reports, it does not crash");
    assert!(!report.failed.is_empty(), "{report:?}");
    for (_, msg) in &report.failed {
        assert!(
            msg.contains("postgres") && msg.contains("unavailable"),
            "a failure names the database and says a retry can help: {msg}"
        );
    }
    pg.run("start");
    let again = rag.process_pending(Arc::new(NoProgress)).await.unwrap();
    assert!(again.failed.is_empty(), "{again:?}");
    let counts = rag.stores().doc_status.counts().await.unwrap();
    assert_eq!(counts[&DocStatus::Processed], 5, "{counts:?}");
    let nodes = rag.stores().graph.labels().await.unwrap();
    assert_eq!(nodes.len(), 7, "{nodes:?}");
    assert!(rag.check().await.unwrap().is_clean());
    backend.close().await;
}
