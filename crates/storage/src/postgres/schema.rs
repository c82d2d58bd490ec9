//! The schema: versioned migrations run once under an advisory lock, the refusal of a database
//! newer than this build, and the per-dimension HNSW indexes of the vector tables.
//!
//! `lightrag_rs_schema_version` holds one row, the version the database is at. `migrate` reads
//! it without a lock (the common case: nothing to do), and otherwise takes
//! `pg_advisory_xact_lock` in a transaction, reads it again and applies the missing steps, so
//! any number of processes may start at once against a fresh database: one migrates, the others
//! wait for its commit and then find nothing to do.

use sqlx::postgres::PgConnection;
use sqlx::{Connection, Row};

use lightrag_core::error::{Error, Result, StorageErrorKind};

use super::error::{map, storage};
use super::VectorSet;

/// The schema version this build reads and writes.
pub const SCHEMA_VERSION: i32 = 3;

/// The advisory lock that serialises schema changes (`lightrag` in ASCII).
pub(crate) const SCHEMA_LOCK: i64 = 0x6c69_6768_7472_6167;

/// Text compared and ordered in code point order whatever the database's locale (Rust's `str`
/// order, which the other backends return).
const TEXT: &str = r#"text COLLATE "C" NOT NULL"#;

/// The statements of each version, in order: `STEPS[v - 1]` brings a database from `v - 1`
/// to `v`.
fn steps() -> Vec<Vec<String>> {
    let mut v1 = vec![
        // Key-value records: LightRAG's namespaces (`full_docs`, `text_chunks`, ...) in one table.
        format!(
            "CREATE TABLE lightrag_rs_kv (
                workspace {TEXT}, namespace {TEXT}, id {TEXT},
                value jsonb NOT NULL,
                create_time timestamptz NOT NULL DEFAULT now(),
                update_time timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (workspace, namespace, id))"
        ),
        // Document status: the fields questions are asked about as columns, the record as JSONB.
        format!(
            "CREATE TABLE lightrag_rs_doc_status (
                workspace {TEXT}, id {TEXT},
                status {TEXT}, created_at {TEXT}, updated_at {TEXT}, file_path {TEXT},
                track_id {TEXT}, content_hash text COLLATE \"C\",
                record jsonb NOT NULL,
                PRIMARY KEY (workspace, id))"
        ),
        "CREATE INDEX lightrag_rs_doc_status_by_id ON lightrag_rs_doc_status (workspace, status, id)".into(),
        "CREATE INDEX lightrag_rs_doc_status_by_created ON lightrag_rs_doc_status (workspace, status, created_at, id)".into(),
        "CREATE INDEX lightrag_rs_doc_status_by_updated ON lightrag_rs_doc_status (workspace, status, updated_at, id)".into(),
        "CREATE INDEX lightrag_rs_doc_status_by_file ON lightrag_rs_doc_status (workspace, status, file_path, id)".into(),
        "CREATE INDEX lightrag_rs_doc_status_by_track ON lightrag_rs_doc_status (workspace, track_id, created_at, id)".into(),
        "CREATE INDEX lightrag_rs_doc_status_by_hash ON lightrag_rs_doc_status (workspace, content_hash, id) \
         WHERE content_hash IS NOT NULL"
            .into(),
        // The graph: nodes, undirected edges keyed by the sorted pair, degrees.
        format!(
            "CREATE TABLE lightrag_rs_graph_nodes (
                workspace {TEXT}, name {TEXT},
                name_lower {TEXT},
                entity jsonb NOT NULL,
                update_time timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (workspace, name))"
        ),
        format!(
            "CREATE TABLE lightrag_rs_graph_edges (
                workspace {TEXT}, src {TEXT}, tgt {TEXT},
                weight double precision NOT NULL,
                relation jsonb NOT NULL,
                update_time timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (workspace, src, tgt),
                CHECK (src <= tgt))"
        ),
        // A node's edges heaviest first are one range of one of these two indexes.
        "CREATE INDEX lightrag_rs_graph_edges_by_src ON lightrag_rs_graph_edges (workspace, src, weight DESC, tgt)".into(),
        "CREATE INDEX lightrag_rs_graph_edges_by_tgt ON lightrag_rs_graph_edges (workspace, tgt, weight DESC, src)".into(),
        format!(
            "CREATE TABLE lightrag_rs_graph_degree (
                workspace {TEXT}, node {TEXT},
                degree bigint NOT NULL,
                PRIMARY KEY (workspace, node))"
        ),
        "CREATE INDEX lightrag_rs_graph_degree_order ON lightrag_rs_graph_degree (workspace, degree DESC, node)".into(),
        // Vectors: the (model, dim) each workspace's set is bound to, and one table per set.
        format!(
            "CREATE TABLE lightrag_rs_vdb_binding (
                workspace {TEXT}, vector_set {TEXT},
                model text NOT NULL, dim integer NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (workspace, vector_set))"
        ),
    ];
    for set in VectorSet::ALL {
        v1.push(format!(
            "CREATE TABLE {} (
                workspace {TEXT}, id {TEXT},
                dim integer NOT NULL,
                embedding vector NOT NULL,
                meta jsonb NOT NULL,
                create_time timestamptz NOT NULL DEFAULT now(),
                update_time timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (workspace, id))",
            set.table()
        ));
    }
    // Version 2: several processes on one knowledge base (leases, generation).
    let v2 = vec![
        "ALTER TABLE lightrag_rs_doc_status
            ADD COLUMN lease_owner text, ADD COLUMN lease_token bigint,
            ADD COLUMN lease_expires timestamptz"
            .into(),
        "CREATE SEQUENCE lightrag_rs_lease_token".into(),
        // Claims read the rows that may need work, oldest first.
        "CREATE INDEX lightrag_rs_doc_status_work ON lightrag_rs_doc_status \
         (workspace, created_at, id) WHERE status IN ('pending', 'processing', 'failed')"
            .into(),
        format!(
            "CREATE TABLE lightrag_rs_generation (
                workspace {TEXT} PRIMARY KEY,
                generation bigint NOT NULL)"
        ),
    ];
    // Version 3: cluster-wide cancel; leases listed from an index, not a scan.
    let v3 = vec![
        "ALTER TABLE lightrag_rs_generation ADD COLUMN cancels bigint NOT NULL DEFAULT 0".into(),
        "CREATE INDEX lightrag_rs_doc_status_leased ON lightrag_rs_doc_status (workspace, id) \
         WHERE lease_owner IS NOT NULL"
            .into(),
    ];
    vec![v1, v2, v3]
}

/// The name of the optional trigram index that serves label search.
const TRGM_INDEX: &str = "lightrag_rs_graph_nodes_name_trgm";

/// What the server offers, found while migrating.
#[derive(Debug, Clone)]
pub(crate) struct ServerInfo {
    /// pgvector's version, as (major, minor, patch).
    pub pgvector: (u32, u32, u32),
}

impl ServerInfo {
    /// Whether HNSW scans can continue past `ef_search` until enough rows pass a filter
    /// (pgvector 0.8).
    pub fn iterative_scan(&self) -> bool {
        self.pgvector >= (0, 8, 0)
    }
}

fn parse_version(v: &str) -> (u32, u32, u32) {
    let mut parts = v.split(['.', '-']).map(|p| p.parse::<u32>().unwrap_or(0));
    (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    )
}

fn refused(message: String) -> Error {
    storage(StorageErrorKind::Other, message)
}

/// The version the database is at; `None` when it has no lightrag schema yet.
async fn read_version(conn: &mut PgConnection, endpoint: &str) -> Result<Option<i32>> {
    let exists: bool =
        sqlx::query_scalar("SELECT to_regclass('lightrag_rs_schema_version') IS NOT NULL")
            .fetch_one(&mut *conn)
            .await
            .map_err(|e| map(endpoint, "read the schema version", e))?;
    if !exists {
        return Ok(None);
    }
    sqlx::query_scalar("SELECT max(version) FROM lightrag_rs_schema_version")
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| map(endpoint, "read the schema version", e))
}

/// Refuses a database a newer lightrag has migrated.
fn check_not_newer(version: i32, endpoint: &str) -> Result<()> {
    if version > SCHEMA_VERSION {
        return Err(refused(format!(
            "PostgreSQL at {endpoint}: this lightrag-rs ({}) is built for schema {SCHEMA_VERSION}, \
             database is at {version}: upgrade lightrag",
            env!("CARGO_PKG_VERSION")
        )));
    }
    Ok(())
}

/// Checks the server, then creates or migrates the schema (see the module documentation).
pub(crate) async fn migrate(conn: &mut PgConnection, endpoint: &str) -> Result<ServerInfo> {
    let what = "check the server";
    let row = sqlx::query(
        "SELECT current_setting('server_version_num')::int, current_setting('server_encoding')",
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| map(endpoint, what, e))?;
    let server: i32 = row.try_get(0).map_err(|e| map(endpoint, what, e))?;
    let encoding: String = row.try_get(1).map_err(|e| map(endpoint, what, e))?;
    if server < 130_000 {
        return Err(refused(format!(
            "PostgreSQL at {endpoint} is version {}; lightrag-rs needs PostgreSQL 13 or newer",
            server / 10_000
        )));
    }
    if !encoding.eq_ignore_ascii_case("UTF8") {
        return Err(refused(format!(
            "PostgreSQL at {endpoint}: the database's encoding is {encoding}; lightrag-rs needs a \
             UTF8 database (CREATE DATABASE ... ENCODING 'UTF8')"
        )));
    }

    let current = read_version(conn, endpoint).await?;
    if let Some(v) = current {
        check_not_newer(v, endpoint)?;
    }
    // The trigram index is retried at each start while pg_trgm is installable but not in use.
    let trgm_missing: bool = sqlx::query_scalar(
        "SELECT to_regclass($1) IS NULL
            AND EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm')",
    )
    .bind(TRGM_INDEX)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| map(endpoint, what, e))?;
    if current != Some(SCHEMA_VERSION) || trgm_missing {
        migrate_locked(conn, endpoint).await?;
    }

    let version: Option<String> =
        sqlx::query_scalar("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
            .fetch_optional(&mut *conn)
            .await
            .map_err(|e| map(endpoint, what, e))?;
    let pgvector = parse_version(version.as_deref().unwrap_or("0"));
    if pgvector < (0, 7, 0) {
        return Err(refused(format!(
            "PostgreSQL at {endpoint}: pgvector {} is too old; lightrag-rs needs 0.7 or newer \
             (ALTER EXTENSION vector UPDATE)",
            version.as_deref().unwrap_or("?")
        )));
    }
    Ok(ServerInfo { pgvector })
}

/// The migration proper, in one transaction under the schema lock.
async fn migrate_locked(conn: &mut PgConnection, endpoint: &str) -> Result<()> {
    let what = "migrate the schema";
    let m = |e| map(endpoint, what, e);
    let mut tx = conn.begin().await.map_err(m)?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(SCHEMA_LOCK)
        .execute(&mut *tx)
        .await
        .map_err(m)?;
    let has_vector: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'vector')")
            .fetch_one(&mut *tx)
            .await
            .map_err(m)?;
    if !has_vector {
        if let Err(e) = sqlx::query("CREATE EXTENSION vector")
            .execute(&mut *tx)
            .await
        {
            return Err(refused(format!(
                "PostgreSQL at {endpoint}: the pgvector extension is not installed in this \
                 database and cannot be created here ({e}); a superuser must run \
                 `CREATE EXTENSION vector` in it (pgvector 0.7 or newer)"
            )));
        }
    }
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS lightrag_rs_schema_version (
            singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
            version integer NOT NULL,
            migrated_at timestamptz NOT NULL DEFAULT now(),
            migrated_by text NOT NULL)",
    )
    .execute(&mut *tx)
    .await
    .map_err(m)?;
    let current: i32 =
        sqlx::query_scalar("SELECT coalesce(max(version), 0) FROM lightrag_rs_schema_version")
            .fetch_one(&mut *tx)
            .await
            .map_err(m)?;
    check_not_newer(current, endpoint)?;
    let steps = steps();
    for (i, step) in steps.iter().enumerate() {
        let version = i as i32 + 1;
        if version <= current {
            continue;
        }
        tracing::info!(
            "PostgreSQL at {endpoint}: migrating the lightrag schema to version {version}"
        );
        for statement in step {
            sqlx::raw_sql(sqlx::AssertSqlSafe(statement.clone()))
                .execute(&mut *tx)
                .await
                .map_err(m)?;
        }
    }
    if current < SCHEMA_VERSION {
        sqlx::query(
            "INSERT INTO lightrag_rs_schema_version (singleton, version, migrated_by)
             VALUES (true, $1, $2)
             ON CONFLICT (singleton) DO UPDATE
             SET version = EXCLUDED.version, migrated_at = now(), migrated_by = EXCLUDED.migrated_by",
        )
        .bind(SCHEMA_VERSION)
        .bind(concat!("lightrag-rs ", env!("CARGO_PKG_VERSION")))
        .execute(&mut *tx)
        .await
        .map_err(m)?;
    }
    trigram_index(&mut tx, endpoint).await?;
    tx.commit().await.map_err(m)
}

/// Label search reads candidates through a pg_trgm index when the extension can be had; without
/// it the search still works, scanning the workspace's names.
async fn trigram_index(conn: &mut PgConnection, endpoint: &str) -> Result<()> {
    let m = |e| map(endpoint, "create the label search index", e);
    sqlx::query("SAVEPOINT lightrag_trgm")
        .execute(&mut *conn)
        .await
        .map_err(m)?;
    let made = async {
        sqlx::query("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            .execute(&mut *conn)
            .await?;
        sqlx::raw_sql(
            "CREATE INDEX IF NOT EXISTS lightrag_rs_graph_nodes_name_trgm \
             ON lightrag_rs_graph_nodes USING gin (name_lower gin_trgm_ops)",
        )
        .execute(&mut *conn)
        .await
    }
    .await;
    match made {
        Ok(_) => {
            sqlx::query("RELEASE SAVEPOINT lightrag_trgm")
                .execute(&mut *conn)
                .await
                .map_err(m)?;
        }
        Err(e) => {
            tracing::warn!(
                "PostgreSQL at {endpoint}: no pg_trgm index for label search ({e}); label \
                 search scans the names instead"
            );
            sqlx::query("ROLLBACK TO SAVEPOINT lightrag_trgm")
                .execute(&mut *conn)
                .await
                .map_err(m)?;
        }
    }
    Ok(())
}

/// The HNSW index of one vector table for one dimension: a partial expression index over the
/// rows of that dimension, as `vector(dim)` up to 2,000 dimensions and as `halfvec(dim)` above.
pub(crate) fn hnsw_index_name(set: VectorSet, dim: usize) -> String {
    format!("{}_hnsw_{dim}", set.table())
}

/// The expression the HNSW index of `dim` is built on (queries must order by the same one).
pub(crate) fn indexed_expr(dim: usize) -> String {
    if dim > super::MAX_VECTOR_DIM {
        format!("(embedding::halfvec({dim}))")
    } else {
        format!("(embedding::vector({dim}))")
    }
}

/// Creates the HNSW indexes of `dim` that are missing (under the schema lock, so two processes
/// never race on `CREATE INDEX`). Only the first open with a new dimension builds them; the
/// build reads the table and holds off writes to it meanwhile (quick for a new dimension, whose
/// rows do not exist yet).
pub(crate) async fn ensure_hnsw(pool: &sqlx::PgPool, endpoint: &str, dim: usize) -> Result<()> {
    let what = "create the vector indexes";
    let m = |e| map(endpoint, what, e);
    let names: Vec<String> = VectorSet::ALL
        .iter()
        .map(|s| hnsw_index_name(*s, dim))
        .collect();
    let missing: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM unnest($1::text[]) AS n(name) WHERE to_regclass(n.name) IS NULL",
    )
    .bind(&names)
    .fetch_one(pool)
    .await
    .map_err(m)?;
    if missing == 0 {
        return Ok(());
    }
    let mut tx = pool.begin().await.map_err(m)?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(SCHEMA_LOCK)
        .execute(&mut *tx)
        .await
        .map_err(m)?;
    let ops = if dim > super::MAX_VECTOR_DIM {
        "halfvec_cosine_ops"
    } else {
        "vector_cosine_ops"
    };
    for set in VectorSet::ALL {
        let sql = format!(
            "CREATE INDEX IF NOT EXISTS {} ON {} USING hnsw ({} {ops}) \
             WITH (m = 16, ef_construction = 64) WHERE dim = {dim}",
            hnsw_index_name(set, dim),
            set.table(),
            indexed_expr(dim),
        );
        tracing::info!(
            "PostgreSQL at {endpoint}: creating {}",
            hnsw_index_name(set, dim)
        );
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut *tx)
            .await
            .map_err(m)?;
    }
    tx.commit().await.map_err(m)
}
