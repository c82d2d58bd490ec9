//! PostgreSQL (+ pgvector) for all four storage roles, shared by any number of processes.
//!
//! # Layout
//!
//! Every table has a `workspace` column first in its primary key, so one pool serves any
//! workspace ([`PgBackend::open`] hands out handles for one) and `clear` of a role deletes only
//! that workspace's rows. Text that is ordered or compared is `COLLATE "C"`: code point order,
//! the order of Rust's `str` and of the other backends, whatever the database's locale.
//!
//! | role | tables |
//! |---|---|
//! | key-value | `lightrag_rs_kv (workspace, namespace, id)` → `value jsonb`, LightRAG's namespaces |
//! | document status | `lightrag_rs_doc_status (workspace, id)`: status, created_at, updated_at, file_path, track_id, content_hash as columns (one index per page order, one for track ids, one for hashes), the record as `jsonb` |
//! | graph | `lightrag_rs_graph_nodes`, `lightrag_rs_graph_edges (workspace, src, tgt)` with `src <= tgt` and two `(end, weight DESC, other end)` indexes, `lightrag_rs_graph_degree` (maintained in the statement that writes edges, indexed by `(workspace, degree DESC, node)`) |
//! | vectors | `lightrag_rs_vdb_{chunks,entities,relationships}` (id, dim, `embedding vector`, `meta jsonb`), `lightrag_rs_vdb_binding` (the model and dimension of each workspace's set) |
//!
//! The `lightrag_rs_` prefix keeps these tables apart from LightRAG's own (`LIGHTRAG_DOC_STATUS`,
//! `lightrag_graph_nodes`, ...), so both can share one database, say while migrating. The schema
//! is versioned and migrated on connect under an advisory lock (see [`schema`]); a database
//! migrated by a newer lightrag is refused.
//!
//! # Requirements
//!
//! PostgreSQL 13 or newer, a UTF8 database, pgvector 0.7 or newer (0.8 for the iterative HNSW
//! scan; the extension is created on first connect when the user may, otherwise a superuser
//! must run `CREATE EXTENSION vector` once). pg_trgm is optional: with it, label search reads
//! its candidates from a trigram index.
//!
//! # Vectors
//!
//! A vector set of one workspace is bound to an embedding model and dimension on first open; a
//! later open with another model or dimension fails with [`Error::ModelMismatch`]. Each table
//! holds vectors of any dimension; each dimension in use gets a partial HNSW expression index
//! (`(embedding::vector(dim)) vector_cosine_ops WHERE dim = dim`; `halfvec` with
//! `halfvec_cosine_ops` above 2,000 dimensions, up to 4,000). The stored vector keeps its f32
//! precision whatever the index holds. A query of a workspace with more than
//! [`vectors::EXACT_SCAN_MAX`] vectors walks the HNSW index (`hnsw.ef_search` at least
//! `max(40, 2 * top_k)`, with pgvector 0.8's strictly ordered iterative scan, so the workspace
//! filter cannot starve it); a smaller one is scored exactly, which is cheaper and exact.
//!
//! # Writes
//!
//! Every batch is one statement (arrays bound as parameters, unnested server side: one round
//! trip whatever its size, far from the 65,535-parameter limit) or one transaction. Rows are
//! written in key order, so concurrent batches lock in one order; a statement that still loses
//! a race (deadlock, serialization failure) is run again a few times before it fails with
//! [`StorageErrorKind::Conflict`].
//!
//! # Failures
//!
//! Errors carry the backend name `postgres` and `host:port` (never the password). A server that
//! cannot be reached is [`StorageErrorKind::Unavailable`]:
//! at connect within [`CONNECT_TIMEOUT`], later within [`ACQUIRE_TIMEOUT`] (the pool's wait for
//! a connection); the pool reconnects by itself once the server is back. Text PostgreSQL cannot
//! hold (U+0000) is refused as invalid input; unreadable stored rows are `Corrupt`.

mod coordinator;
mod doc_status;
mod error;
mod graph;
mod kv;
pub mod schema;
pub mod vectors;

pub use coordinator::PgCoordinator;
pub use doc_status::PgDocStatus;
pub use graph::PgGraph;
pub use kv::PgKv;
pub use schema::SCHEMA_VERSION;
pub use vectors::PgVectorStore;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use lightrag_core::error::{Error, Result, StorageErrorKind};
use lightrag_core::ports::Stores;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::Connection;

use crate::select::PgSettings;

/// The backend name in this store's errors.
pub const BACKEND: &str = "postgres";

/// How long [`PgBackend::connect`] waits for the server before it gives up.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a call waits for a pooled connection (or a new one) before it fails as unavailable.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections of the pool that holds graph locks: merges and whole-graph work in flight in
/// one process (`MAX_PARALLEL_INSERT` documents, plus edits and deletes).
pub const LOCK_CONNECTIONS: u32 = 16;
/// The largest dimension indexed as `vector`; above it the index holds `halfvec`.
pub const MAX_VECTOR_DIM: usize = 2_000;
/// The largest dimension pgvector's HNSW index takes (as `halfvec`).
pub const MAX_HALFVEC_DIM: usize = 4_000;

pub use crate::vector_set::VectorSet;

impl VectorSet {
    /// The PostgreSQL table of the set (all workspaces).
    pub fn table(self) -> &'static str {
        match self {
            VectorSet::Chunks => "lightrag_rs_vdb_chunks",
            VectorSet::Entities => "lightrag_rs_vdb_entities",
            VectorSet::Relationships => "lightrag_rs_vdb_relationships",
        }
    }
}

/// What every store of one workspace shares: the pool, the workspace, the endpoint for messages.
#[derive(Clone)]
pub(crate) struct Ctx {
    pub pool: PgPool,
    pub workspace: Arc<str>,
    pub endpoint: Arc<str>,
}

impl Ctx {
    /// Maps a sqlx error of operation `what`.
    pub fn err(&self, what: &str, e: sqlx::Error) -> Error {
        error::map(&self.endpoint, what, e)
    }

    /// Runs one write (a statement or a transaction), again when it lost a race.
    pub async fn write<T, F, Fut>(&self, what: &str, op: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = std::result::Result<T, sqlx::Error>>,
    {
        error::retry_races(&self.endpoint, what, op).await
    }
}

/// A pool of connections to one PostgreSQL database, its schema checked and migrated.
#[derive(Clone)]
pub struct PgBackend {
    pool: PgPool,
    /// Connections that hold graph locks (see [`coordinator`]), apart from the pool queries
    /// use.
    locks: PgPool,
    endpoint: Arc<str>,
}

impl std::fmt::Debug for PgBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgBackend")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

/// The `workspace` column's value for a workspace name (LightRAG's: empty is `default`).
fn workspace_value(workspace: &str) -> &str {
    if workspace.is_empty() {
        "default"
    } else {
        workspace
    }
}

impl PgBackend {
    /// Connects (failing within [`CONNECT_TIMEOUT`] when the server does not answer), checks
    /// the server (PostgreSQL 13+, UTF8, pgvector 0.7+), creates or migrates the schema under
    /// an advisory lock, and opens a pool of `max_connections`. A database at a newer schema
    /// version than [`SCHEMA_VERSION`] is refused.
    pub async fn connect(settings: &PgSettings) -> Result<PgBackend> {
        let endpoint: Arc<str> = settings.endpoint.as_str().into();
        let options = PgConnectOptions::from_str(&settings.url)
            .map_err(|e| {
                Error::Config(format!(
                    "the PostgreSQL connection settings for {endpoint} are not valid: {e}"
                ))
            })?
            .application_name("lightrag-rs")
            .statement_cache_capacity(256);

        // One connection first: it fails fast with the real cause (the pool would retry a
        // refused connection until its timeout), and it runs the migration.
        let mut conn =
            match tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(&options)).await
            {
                Ok(Ok(conn)) => conn,
                Ok(Err(e)) => return Err(connect_error(&endpoint, e)),
                Err(_) => {
                    return Err(error::storage(
                        StorageErrorKind::Unavailable,
                        format!(
                            "cannot reach PostgreSQL at {endpoint}: no answer within {}s",
                            CONNECT_TIMEOUT.as_secs()
                        ),
                    ))
                }
            };
        let info = schema::migrate(&mut conn, &endpoint).await;
        if let Err(e) = conn.close().await {
            tracing::debug!("PostgreSQL at {endpoint}: closing the setup connection: {e}");
        }
        let info = info?;

        let iterative_scan = info.iterative_scan();
        let locks = PgPoolOptions::new()
            .max_connections(LOCK_CONNECTIONS)
            .min_connections(0)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .idle_timeout(Some(Duration::from_secs(300)))
            .after_connect(|conn, _meta| {
                Box::pin(async move {
                    // PostgreSQL 14+: notice a closed client while waiting for a lock (see
                    // the coordinator); older servers notice when the wait ends.
                    let _ = sqlx::query(
                        "SELECT set_config('client_connection_check_interval', '1000', false)",
                    )
                    .execute(&mut *conn)
                    .await;
                    Ok(())
                })
            })
            .connect_lazy_with(options.clone());
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections)
            .min_connections(0)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .idle_timeout(Some(Duration::from_secs(300)))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    sqlx::raw_sql(session_settings(iterative_scan))
                        .execute(&mut *conn)
                        .await?;
                    Ok(())
                })
            })
            .connect_lazy_with(options);
        Ok(PgBackend {
            pool,
            locks,
            endpoint,
        })
    }

    /// The stores of one workspace (empty = `default`), the vector sets bound to `model` and
    /// `dim`: the first open of a workspace binds them, a later open with another model or
    /// dimension fails with [`Error::ModelMismatch`] naming both and changes nothing. A zero
    /// dimension, or one above [`MAX_HALFVEC_DIM`], is refused.
    pub async fn open(&self, workspace: &str, model: &str, dim: usize) -> Result<Stores> {
        if dim == 0 {
            return Err(Error::InvalidInput(
                "PostgreSQL vector sets: the dimension must be positive".into(),
            ));
        }
        if dim > MAX_HALFVEC_DIM {
            return Err(Error::Config(format!(
                "the embedder {model} has {dim} dimensions; pgvector's HNSW index takes at most \
                 {MAX_HALFVEC_DIM} (as halfvec). Use a model with fewer dimensions (or one that \
                 can shorten its vectors), or another vector storage"
            )));
        }
        let ctx = Ctx {
            pool: self.pool.clone(),
            workspace: workspace_value(workspace).into(),
            endpoint: self.endpoint.clone(),
        };
        vectors::bind_model(&ctx, model, dim).await?;
        schema::ensure_hnsw(&self.pool, &self.endpoint, dim).await?;
        let set = |s: VectorSet| -> Arc<PgVectorStore> {
            Arc::new(PgVectorStore::new(ctx.clone(), s, model, dim))
        };
        Ok(Stores {
            coordinator: Arc::new(PgCoordinator::new(ctx.clone(), self.locks.clone())),
            kv: Arc::new(PgKv::new(ctx.clone())),
            doc_status: Arc::new(PgDocStatus::new(ctx.clone())),
            graph: Arc::new(PgGraph::new(ctx.clone())),
            chunks_vdb: set(VectorSet::Chunks),
            entities_vdb: set(VectorSet::Entities),
            relationships_vdb: set(VectorSet::Relationships),
        })
    }

    /// Closes the pool: waits for connections in use to come back, then closes them all.
    pub async fn close(&self) {
        self.locks.close().await;
        self.pool.close().await;
    }

    /// The `host:port` this backend talks to.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }
}

/// The session settings of every pooled connection: a wide enough HNSW candidate list for
/// LightRAG's usual `top_k` (queries asking for more raise it for themselves), and, with
/// pgvector 0.8, a strictly ordered iterative scan, so a workspace filter cannot leave a query
/// short of results.
fn session_settings(iterative_scan: bool) -> &'static str {
    // Custom plans always: after five runs of a prepared statement PostgreSQL may switch to a
    // generic plan, and for the vector query that plan sorts a whole workspace by distance
    // instead of walking the HNSW index (measured: 600 ms instead of 3 ms at 20,000 chunks).
    if iterative_scan {
        "SET plan_cache_mode = force_custom_plan; SET hnsw.ef_search = 100; \
         SET hnsw.iterative_scan = strict_order"
    } else {
        "SET plan_cache_mode = force_custom_plan; SET hnsw.ef_search = 100"
    }
}

/// The `ef_search` every pooled connection has (see [`session_settings`]).
pub(crate) const SESSION_EF_SEARCH: usize = 100;

/// A failure to open the first connection.
fn connect_error(endpoint: &str, e: sqlx::Error) -> Error {
    match &e {
        sqlx::Error::Io(io) => error::storage(
            StorageErrorKind::Unavailable,
            format!("cannot reach PostgreSQL at {endpoint}: {io}"),
        ),
        sqlx::Error::Tls(t) => error::storage(
            StorageErrorKind::Unavailable,
            format!("cannot reach PostgreSQL at {endpoint}: TLS failed: {t}"),
        ),
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            let hint = match code.as_str() {
                "28P01" | "28000" => " (check POSTGRES_USER / POSTGRES_PASSWORD or DATABASE_URL)",
                "3D000" => " (check POSTGRES_DATABASE or DATABASE_URL; create the database first)",
                _ => "",
            };
            let retry = code.starts_with("57P") || code.starts_with("53") || code.starts_with("08");
            error::storage(
                if retry {
                    StorageErrorKind::Unavailable
                } else {
                    StorageErrorKind::Other
                },
                format!(
                    "PostgreSQL at {endpoint} refused the connection: {}{hint}",
                    db.message()
                ),
            )
        }
        _ => error::map(endpoint, "connect", e),
    }
}

/// The last item of each key, sorted by key: a batch writes each row once (PostgreSQL refuses
/// to touch a row twice in one `INSERT ... ON CONFLICT`) and in key order, so concurrent batches
/// lock rows in one order.
pub(crate) fn last_per_key<T>(items: Vec<T>, key: impl Fn(&T) -> &str) -> Vec<T> {
    let mut by_key: std::collections::BTreeMap<String, T> = std::collections::BTreeMap::new();
    for item in items {
        by_key.insert(key(&item).to_string(), item);
    }
    by_key.into_values().collect()
}

/// The distinct strings of a batch, for `= ANY($n)`.
pub(crate) fn distinct(items: &[String]) -> Vec<&str> {
    let set: std::collections::BTreeSet<&str> = items.iter().map(String::as_str).collect();
    set.into_iter().collect()
}

/// A value as JSON text for a `::jsonb` parameter.
pub(crate) fn to_json<T: serde::Serialize>(what: &str, value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| {
        Error::InvalidInput(format!("PostgreSQL: {what} cannot be encoded as JSON: {e}"))
    })
}

/// A JSON column read back as text.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(
    table: &str,
    id: &str,
    text: &str,
) -> Result<T> {
    serde_json::from_str(text)
        .map_err(|e| error::corrupt(format!("table {table}: row '{id}' cannot be read: {e}")))
}
