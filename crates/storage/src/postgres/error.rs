//! PostgreSQL failures as the engine's [`StorageError`]s, and the retry of writes that lost a
//! race (a deadlock or a serialization failure aborts the whole statement, so running it again
//! is safe).

use std::future::Future;
use std::time::Duration;

use lightrag_core::error::{Error, StorageError, StorageErrorKind};

use super::BACKEND;

/// A storage error of this backend.
pub(crate) fn storage(kind: StorageErrorKind, message: impl std::fmt::Display) -> Error {
    Error::Storage(StorageError::new(BACKEND, kind, message))
}

/// Stored data this build cannot read (a damaged or foreign row).
pub(crate) fn corrupt(message: impl std::fmt::Display) -> Error {
    storage(StorageErrorKind::Corrupt, message)
}

/// The SQLSTATE of a database error, if it is one.
fn sqlstate(e: &sqlx::Error) -> Option<String> {
    match e {
        sqlx::Error::Database(db) => db.code().map(|c| c.into_owned()),
        _ => None,
    }
}

/// Whether the statement lost a race and running it again can succeed.
fn is_race(e: &sqlx::Error) -> bool {
    matches!(sqlstate(e).as_deref(), Some("40001" | "40P01"))
}

/// Maps a sqlx error to a [`StorageError`] of the right kind. `endpoint` is `host:port` (never
/// the password) and `what` names the operation.
pub(crate) fn map(endpoint: &str, what: &str, e: sqlx::Error) -> Error {
    use StorageErrorKind::*;
    let (kind, message) = match &e {
        sqlx::Error::Io(io) => (
            Unavailable,
            format!("cannot reach PostgreSQL at {endpoint}: {io}"),
        ),
        sqlx::Error::Tls(t) => (
            Unavailable,
            format!("TLS with PostgreSQL at {endpoint} failed: {t}"),
        ),
        sqlx::Error::PoolTimedOut => (
            Unavailable,
            format!(
                "no connection to PostgreSQL at {endpoint} within {}s (server down or every \
                 connection of the pool busy)",
                super::ACQUIRE_TIMEOUT.as_secs()
            ),
        ),
        sqlx::Error::PoolClosed => (
            Other,
            format!("the PostgreSQL pool for {endpoint} is closed"),
        ),
        sqlx::Error::Protocol(p) => (
            Unavailable,
            format!("PostgreSQL at {endpoint}: protocol error: {p}"),
        ),
        sqlx::Error::ColumnDecode { .. }
        | sqlx::Error::Decode(_)
        | sqlx::Error::ColumnNotFound(_)
        | sqlx::Error::ColumnIndexOutOfBounds { .. } => (
            Corrupt,
            format!("PostgreSQL at {endpoint}: {what}: unreadable row: {e}"),
        ),
        sqlx::Error::Database(db) if matches!(db.code().as_deref(), Some("22P05" | "22021")) => {
            // Text PostgreSQL cannot hold: U+0000 (in text, or `\u0000` in JSON).
            return Error::InvalidInput(format!(
                "PostgreSQL at {endpoint}: {what}: {} (PostgreSQL cannot store the character \
                 U+0000 in text or JSONB)",
                db.message()
            ));
        }
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            let kind = match code.as_str() {
                // A lost race: serialization failure, deadlock, lock not available, a unique
                // key another writer took first.
                "40001" | "40P01" | "55P03" | "23505" => Conflict,
                // Connection exceptions, shutdown, too many connections, out of resources.
                c if c.starts_with("08") || c.starts_with("53") || c.starts_with("57P") => {
                    Unavailable
                }
                // Data the server refuses: retrying will not help.
                _ => Other,
            };
            (
                kind,
                format!(
                    "PostgreSQL at {endpoint}: {what}: {} (SQLSTATE {code})",
                    db.message()
                ),
            )
        }
        other => (Other, format!("PostgreSQL at {endpoint}: {what}: {other}")),
    };
    storage(kind, message)
}

/// How often a write that lost a race (deadlock, serialization failure) is run again.
const RACE_RETRIES: u32 = 5;

/// Runs `op` (one statement or one transaction), again when it lost a race to a concurrent
/// writer, and maps the final failure.
pub(crate) async fn retry_races<T, F, Fut>(
    endpoint: &str,
    what: &str,
    mut op: F,
) -> lightrag_core::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, sqlx::Error>>,
{
    let mut attempt = 0;
    loop {
        match op().await {
            Ok(v) => return Ok(v),
            Err(e) if is_race(&e) && attempt < RACE_RETRIES => {
                attempt += 1;
                tracing::debug!("PostgreSQL {what}: lost a race ({e}); attempt {attempt} again");
                // A short, growing pause, staggered by the attempt so racers drift apart.
                let jitter = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| u64::from(d.subsec_nanos() % 8));
                tokio::time::sleep(Duration::from_millis((5u64 << attempt) + jitter)).await;
            }
            Err(e) => return Err(map(endpoint, what, e)),
        }
    }
}
