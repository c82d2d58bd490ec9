//! The PostgreSQL test server of the storage crate's tests: its URL (`LIGHTRAG_TEST_PG_URL`,
//! checked to answer), a workspace of its own per test (removed when the test ends), and the
//! settings to connect with.

#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use lightrag_core::ports::Stores;
use lightrag_core::Result;
use lightrag_storage::postgres::PgBackend;
use lightrag_storage::select::PgSettings;
use sqlx::{Connection, PgConnection};

/// Every table with a workspace column (the rows a test leaves are removed by it).
pub const TABLES: [&str; 10] = [
    "lightrag_rs_kv",
    "lightrag_rs_generation",
    "lightrag_rs_doc_status",
    "lightrag_rs_graph_nodes",
    "lightrag_rs_graph_edges",
    "lightrag_rs_graph_degree",
    "lightrag_rs_vdb_binding",
    "lightrag_rs_vdb_chunks",
    "lightrag_rs_vdb_entities",
    "lightrag_rs_vdb_relationships",
];

pub fn services() -> bool {
    std::env::var("LIGHTRAG_TEST_SERVICES").as_deref() == Ok("1")
}

/// `host:port` of a `postgres://` URL.
pub fn endpoint_of(url: &str) -> String {
    let rest = url
        .trim_start_matches("postgresql://")
        .trim_start_matches("postgres://");
    let authority = rest.split(['/', '?']).next().unwrap_or(rest);
    authority
        .rsplit_once('@')
        .map_or(authority, |(_, h)| h)
        .to_string()
}

/// The URL with another database name.
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{db}", &base[..path_start]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

pub fn settings(url: &str) -> PgSettings {
    PgSettings {
        url: url.to_string(),
        endpoint: endpoint_of(url),
        max_connections: 4,
        default_workspace: "default".into(),
    }
}

/// The test server's URL, checked to answer; `None` (after a note) when the run has none and
/// did not promise services.
pub async fn server(test: &str) -> Option<String> {
    let url = match std::env::var("LIGHTRAG_TEST_PG_URL") {
        Ok(u) if !u.trim().is_empty() => u.trim().to_string(),
        _ => {
            if services() {
                panic!(
                    "{test}: LIGHTRAG_TEST_SERVICES=1 but LIGHTRAG_TEST_PG_URL is not set \
                     (export LIGHTRAG_TEST_PG_URL=\"$(scripts/postgres.sh url)\")"
                );
            }
            eprintln!(
                "SKIPPED {test}: no LIGHTRAG_TEST_PG_URL; run scripts/postgres.sh start and \
                 export LIGHTRAG_TEST_PG_URL=\"$(scripts/postgres.sh url)\", or scripts/test.sh"
            );
            return None;
        }
    };
    match tokio::time::timeout(Duration::from_secs(10), PgConnection::connect(&url)).await {
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
            Some(url)
        }
        Ok(Err(e)) => panic!(
            "{test}: PostgreSQL at {} does not answer ({e}); scripts/postgres.sh start",
            endpoint_of(&url)
        ),
        Err(_) => panic!(
            "{test}: PostgreSQL at {} does not answer within 10s; scripts/postgres.sh start",
            endpoint_of(&url)
        ),
    }
}

/// A workspace name no other test (or run) uses.
pub fn unique(prefix: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "{prefix}_{}_{}_{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// One knowledge base: a workspace of the test server. Every open connects anew (a process
/// restarting); the workspace's rows are removed when the test ends.
pub struct Pg {
    pub url: String,
    pub workspace: String,
}

impl Pg {
    pub async fn new(test: &str) -> Option<Pg> {
        let url = server(test).await?;
        Some(Pg {
            url,
            workspace: unique("t"),
        })
    }
}

impl Pg {
    /// The stores of this workspace over a connection of their own: one process's view.
    pub async fn stores(&self, model: &str, dim: usize) -> Result<Stores> {
        let backend = PgBackend::connect(&settings(&self.url)).await?;
        backend.open(&self.workspace, model, dim).await
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        if std::env::var("LIGHTRAG_TEST_PG_KEEP").as_deref() == Ok("1") {
            eprintln!("kept workspace {}", self.workspace);
            return;
        }
        let (url, ws) = (self.url.clone(), self.workspace.clone());
        on_own_runtime(async move {
            let Ok(mut conn) = PgConnection::connect(&url).await else {
                return;
            };
            for table in TABLES {
                let sql = format!("DELETE FROM {table} WHERE workspace = $1");
                let _ = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(&ws)
                    .execute(&mut conn)
                    .await;
            }
            let _ = conn.close().await;
        });
    }
}

/// Runs `work` to its end on a thread with a runtime of its own: cleanup in `Drop`, which
/// runs inside the test's runtime, where it cannot block.
pub fn on_own_runtime(work: impl std::future::Future<Output = ()> + Send + 'static) {
    let thread = std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(work);
    });
    let _ = thread.join();
}
