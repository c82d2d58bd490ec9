//! The PostgreSQL [`Coordinator`]: how any number of processes share one knowledge base.
//!
//! * **Leases** are three columns of the status row (`lease_owner`, `lease_token`,
//!   `lease_expires`). A claim is one statement: it picks the oldest rows that need work and
//!   that no live lease holds, `FOR UPDATE SKIP LOCKED` (two claims at once never wait on each
//!   other nor take the same row; a row another claim just leased is re-checked and skipped),
//!   and stamps each with a token from one sequence, so tokens only grow.
//! * **Fencing**: a status write under a lease is `UPDATE ... WHERE lease_token = $token`: the
//!   check and the write are one statement, and after a takeover (a new token) the old
//!   holder's writes change nothing and fail. Expiry only decides when others may claim.
//! * **Graph locks** are session advisory locks, held on a connection of a small pool of their
//!   own (a merge waiting on a busy entity must not take a connection queries need). A merge
//!   holds the graph gate shared and its keys (64-bit hashes of workspace and key, taken in
//!   ascending order in one statement, so two merges cannot deadlock); whole-graph work holds
//!   the gate exclusively. A process that dies loses its connection and with it its locks.
//! * **Generation**: one counter row per workspace, bumped after each change.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use lightrag_core::coordination::{default_replica_id, RETRY_FLAG};
use lightrag_core::error::{Error, Result};
use lightrag_core::ports::{Coordinator, DocLease, Held, LeaseInfo};
use lightrag_core::types::DocStatusRecord;
use sqlx::pool::PoolConnection;
use sqlx::{PgPool, Postgres, Row};

use super::{to_json, Ctx};

/// The leases and locks of one workspace.
pub struct PgCoordinator {
    ctx: Ctx,
    locks: PgPool,
    id: String,
    /// Tokens of leases this process abandoned (their tasks dropped): claimable again here
    /// at once, while other processes wait for them to expire. By token, so a lease claimed
    /// since (a new token) is never mistaken for one.
    abandoned: Mutex<HashSet<i64>>,
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl PgCoordinator {
    pub(crate) fn new(ctx: Ctx, locks: PgPool) -> PgCoordinator {
        PgCoordinator {
            ctx,
            locks,
            id: default_replica_id(),
            abandoned: Mutex::new(HashSet::new()),
        }
    }

    fn abandoned(&self) -> std::sync::MutexGuard<'_, HashSet<i64>> {
        self.abandoned.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `lock` (a statement taking session advisory locks) on a connection of the lock
    /// pool, and holds them until the returned value is dropped.
    async fn lock_with(
        &self,
        what: &str,
        lock: sqlx::query::Query<'_, Postgres, sqlx::postgres::PgArguments>,
    ) -> Result<Box<dyn Held>> {
        let conn = self
            .locks
            .acquire()
            .await
            .map_err(|e| self.ctx.err(what, e))?;
        let held = PgHeld {
            conn: Some(conn),
            taken: false,
        };
        let held = held.take(lock).await.map_err(|e| self.ctx.err(what, e))?;
        Ok(Box::new(held))
    }

    fn lost(&self, lease: &DocLease) -> Error {
        Error::LeaseLost(format!(
            "document {} (token {}) is no longer leased to {} (taken over, or deleted)",
            lease.doc_id, lease.token, self.id
        ))
    }
}

/// The per-workspace counters of `lightrag_rs_generation`.
#[derive(Clone, Copy)]
enum Counter {
    /// Changes of the knowledge base (query caches compare it).
    Generation,
    /// Requests to cancel processing.
    Cancels,
}

impl Counter {
    fn column(self) -> &'static str {
        match self {
            Counter::Generation => "generation",
            Counter::Cancels => "cancels",
        }
    }
}

impl PgCoordinator {
    /// A counter's value (0 before its first bump).
    async fn counter(&self, c: Counter) -> Result<i64> {
        let sql = format!(
            "SELECT coalesce((SELECT {} FROM lightrag_rs_generation WHERE workspace = $1), 0)",
            c.column()
        );
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(&*self.ctx.workspace)
            .fetch_one(&self.ctx.pool)
            .await
            .map_err(|e| self.ctx.err(&format!("read the {}", c.column()), e))
    }

    /// Adds one to a counter; its new value.
    async fn bump(&self, c: Counter) -> Result<i64> {
        let col = c.column();
        // A new row starts both counters: the bumped one at 1, the other at 0.
        let (generation, cancels) = match c {
            Counter::Generation => (1, 0),
            Counter::Cancels => (0, 1),
        };
        let sql = format!(
            "INSERT INTO lightrag_rs_generation AS g (workspace, generation, cancels)
             VALUES ($1, {generation}, {cancels})
             ON CONFLICT (workspace) DO UPDATE SET {col} = g.{col} + 1
             RETURNING {col}"
        );
        let ctx = &self.ctx;
        ctx.write(&format!("bump the {col}"), || {
            sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone()))
                .bind(&*ctx.workspace)
                .fetch_one(&ctx.pool)
        })
        .await
    }
}

/// Advisory locks held on one connection; dropping releases them (the connection goes back
/// to the pool only once they are released, or is closed, which releases them too).
///
/// Made before the lock statement runs: if the caller gives up while it waits (a timeout, a
/// cancelled run), the statement may still take the locks later, so an unfinished hold closes
/// its connection, and the server ends the session, locks and all (it checks for a closed
/// client every second while it waits: `client_connection_check_interval`).
struct PgHeld {
    conn: Option<PoolConnection<Postgres>>,
    taken: bool,
}

impl PgHeld {
    /// Runs the statement that takes the locks on this hold's connection.
    async fn take(
        mut self,
        query: sqlx::query::Query<'_, Postgres, sqlx::postgres::PgArguments>,
    ) -> std::result::Result<Self, sqlx::Error> {
        if let Some(conn) = self.conn.as_mut() {
            query.execute(&mut **conn).await?;
        }
        self.taken = true;
        Ok(self)
    }
}

impl Held for PgHeld {}

impl Drop for PgHeld {
    fn drop(&mut self) {
        let Some(mut conn) = self.conn.take() else {
            return;
        };
        if !self.taken {
            drop(conn.detach());
            return;
        }
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            drop(conn.detach()); // closing the session releases its locks
            return;
        };
        rt.spawn(async move {
            let unlocked = sqlx::query("SELECT pg_advisory_unlock_all()")
                .execute(&mut *conn)
                .await;
            if unlocked.is_err() {
                drop(conn.detach());
            }
        });
    }
}

#[async_trait]
impl Coordinator for PgCoordinator {
    fn replica_id(&self) -> &str {
        &self.id
    }

    fn shared(&self) -> bool {
        true
    }

    async fn claim(&self, limit: usize, ttl: Duration, skip: &[String]) -> Result<Vec<DocLease>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let abandoned: Vec<i64> = self.abandoned().iter().copied().collect();
        let ctx = &self.ctx;
        let rows = ctx
            .write("claim documents", || {
                sqlx::query(
                    "WITH c AS (
                        SELECT id FROM lightrag_rs_doc_status
                        WHERE workspace = $1
                          AND (status IN ('pending', 'processing')
                               OR (status = 'failed'
                                   AND record->'metadata'->$6 = 'true'::jsonb))
                          AND coalesce(record->'metadata'->'is_duplicate', 'false'::jsonb)
                              <> 'true'::jsonb
                          AND (lease_expires IS NULL OR lease_expires < now()
                               OR (lease_owner = $2 AND lease_token = ANY($3)))
                          AND NOT (id = ANY($7))
                        ORDER BY created_at, id
                        LIMIT $4
                        FOR UPDATE SKIP LOCKED)
                     UPDATE lightrag_rs_doc_status d
                     SET lease_owner = $2,
                         lease_token = nextval('lightrag_rs_lease_token'),
                         lease_expires = now() + $5 * interval '1 millisecond'
                     FROM c WHERE d.workspace = $1 AND d.id = c.id
                     RETURNING d.id, d.lease_token, d.status = 'processing' AS taken_over,
                               d.created_at",
                )
                .bind(&*ctx.workspace)
                .bind(&self.id)
                .bind(&abandoned)
                .bind(i64::try_from(limit).unwrap_or(i64::MAX))
                .bind(millis(ttl))
                .bind(RETRY_FLAG)
                .bind(skip)
                .fetch_all(&ctx.pool)
            })
            .await?;
        let what = "claim documents";
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let created: String = r.try_get("created_at").map_err(|e| ctx.err(what, e))?;
            out.push((
                created,
                DocLease {
                    doc_id: r.try_get("id").map_err(|e| ctx.err(what, e))?,
                    token: r.try_get("lease_token").map_err(|e| ctx.err(what, e))?,
                    taken_over: r.try_get("taken_over").map_err(|e| ctx.err(what, e))?,
                },
            ));
        }
        out.sort_by(|a, b| (&a.0, &a.1.doc_id).cmp(&(&b.0, &b.1.doc_id)));
        let mut gone = self.abandoned();
        for t in &abandoned {
            gone.remove(t);
        }
        Ok(out.into_iter().map(|(_, l)| l).collect())
    }

    async fn renew(&self, lease: &DocLease, ttl: Duration) -> Result<bool> {
        let ctx = &self.ctx;
        let n = ctx
            .write("renew a lease", || {
                sqlx::query(
                    "UPDATE lightrag_rs_doc_status
                     SET lease_expires = now() + $4 * interval '1 millisecond'
                     WHERE workspace = $1 AND id = $2 AND lease_token = $3
                       AND lease_owner IS NOT NULL",
                )
                .bind(&*ctx.workspace)
                .bind(&lease.doc_id)
                .bind(lease.token)
                .bind(millis(ttl))
                .execute(&ctx.pool)
            })
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    async fn holds(&self, lease: &DocLease, margin: Duration) -> Result<bool> {
        let what = "check a lease";
        sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM lightrag_rs_doc_status
                WHERE workspace = $1 AND id = $2 AND lease_token = $3
                  AND lease_owner IS NOT NULL
                  AND lease_expires > now() + $4 * interval '1 millisecond')",
        )
        .bind(&*self.ctx.workspace)
        .bind(&lease.doc_id)
        .bind(lease.token)
        .bind(millis(margin))
        .fetch_one(&self.ctx.pool)
        .await
        .map_err(|e| self.ctx.err(what, e))
    }

    async fn write_status(
        &self,
        lease: &DocLease,
        row: DocStatusRecord,
        release: bool,
    ) -> Result<()> {
        let record = to_json(&format!("document status '{}'", lease.doc_id), &row)?;
        let ctx = &self.ctx;
        let n = ctx
            .write("write a leased document status", || {
                sqlx::query(
                    "UPDATE lightrag_rs_doc_status SET
                        status = $4, updated_at = $5, file_path = $6, track_id = $7,
                        content_hash = $8,
                        record = jsonb_set($9::jsonb, '{created_at}', to_jsonb(created_at)),
                        lease_owner = CASE WHEN $10 THEN NULL ELSE lease_owner END,
                        lease_expires = CASE WHEN $10 THEN NULL ELSE lease_expires END
                     WHERE workspace = $1 AND id = $2 AND lease_token = $3
                       AND lease_owner IS NOT NULL",
                )
                .bind(&*ctx.workspace)
                .bind(&lease.doc_id)
                .bind(lease.token)
                .bind(row.status.as_str())
                .bind(&row.updated_at)
                .bind(&row.file_path)
                .bind(&row.track_id)
                .bind(&row.content_hash)
                .bind(&record)
                .bind(release)
                .execute(&ctx.pool)
            })
            .await?
            .rows_affected();
        if n == 0 {
            return Err(self.lost(lease));
        }
        Ok(())
    }

    async fn release(&self, lease: &DocLease) -> Result<()> {
        let ctx = &self.ctx;
        ctx.write("release a lease", || {
            sqlx::query(
                "UPDATE lightrag_rs_doc_status SET lease_owner = NULL, lease_expires = NULL
                 WHERE workspace = $1 AND id = $2 AND lease_token = $3",
            )
            .bind(&*ctx.workspace)
            .bind(&lease.doc_id)
            .bind(lease.token)
            .execute(&ctx.pool)
        })
        .await?;
        Ok(())
    }

    async fn release_all(&self) -> Result<usize> {
        let ctx = &self.ctx;
        let n = ctx
            .write("release this process's leases", || {
                sqlx::query(
                    "UPDATE lightrag_rs_doc_status SET lease_owner = NULL, lease_expires = NULL
                     WHERE workspace = $1 AND lease_owner = $2",
                )
                .bind(&*ctx.workspace)
                .bind(&self.id)
                .execute(&ctx.pool)
            })
            .await?
            .rows_affected();
        self.abandoned().clear();
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    fn abandon(&self, lease: &DocLease) {
        self.abandoned().insert(lease.token);
    }

    async fn leases(&self) -> Result<Vec<LeaseInfo>> {
        let what = "list leases";
        let rows = sqlx::query(
            "SELECT id, lease_owner, lease_token,
                    (extract(epoch FROM lease_expires - now()) * 1000)::bigint AS left_ms
             FROM lightrag_rs_doc_status
             WHERE workspace = $1 AND lease_owner IS NOT NULL AND lease_expires > now()
             ORDER BY id",
        )
        .bind(&*self.ctx.workspace)
        .fetch_all(&self.ctx.pool)
        .await
        .map_err(|e| self.ctx.err(what, e))?;
        rows.iter()
            .map(|r| {
                Ok(LeaseInfo {
                    doc_id: r.try_get("id").map_err(|e| self.ctx.err(what, e))?,
                    owner: r
                        .try_get("lease_owner")
                        .map_err(|e| self.ctx.err(what, e))?,
                    token: r
                        .try_get("lease_token")
                        .map_err(|e| self.ctx.err(what, e))?,
                    expires_in_ms: r.try_get("left_ms").map_err(|e| self.ctx.err(what, e))?,
                })
            })
            .collect()
    }

    async fn lock_keys(&self, keys: &[String]) -> Result<Box<dyn Held>> {
        // The gate first, then every key in ascending hash order (a subquery with ORDER BY is
        // not flattened, so the locks are taken in its order).
        let q = sqlx::query(
            "SELECT pg_advisory_lock_shared(hashtextextended($1 || chr(31) || 'graph', 0)),
                    (SELECT count(pg_advisory_lock(h)) FROM (
                        SELECT DISTINCT hashtextextended($1 || chr(30) || k, 0) AS h
                        FROM unnest($2::text[]) AS k ORDER BY 1) AS s)",
        )
        .bind(&*self.ctx.workspace)
        .bind(keys);
        self.lock_with("lock graph keys", q).await
    }

    async fn lock_graph(&self) -> Result<Box<dyn Held>> {
        let q =
            sqlx::query("SELECT pg_advisory_lock(hashtextextended($1 || chr(31) || 'graph', 0))")
                .bind(&*self.ctx.workspace);
        self.lock_with("lock the graph", q).await
    }

    async fn lock_documents(&self, names: &[String]) -> Result<Box<dyn Held>> {
        // A space of its own (chr(29)): no graph gate, so an enqueue holding these may take
        // the whole graph to replace a document.
        let q = sqlx::query(
            "SELECT count(pg_advisory_lock(h)) FROM (
                SELECT DISTINCT hashtextextended($1 || chr(29) || k, 0) AS h
                FROM unnest($2::text[]) AS k ORDER BY 1) AS s",
        )
        .bind(&*self.ctx.workspace)
        .bind(names);
        self.lock_with("lock documents", q).await
    }

    async fn generation(&self) -> Result<i64> {
        self.counter(Counter::Generation).await
    }

    async fn cancel_requests(&self) -> Result<i64> {
        self.counter(Counter::Cancels).await
    }

    async fn request_cancel(&self) -> Result<i64> {
        self.bump(Counter::Cancels).await
    }

    async fn bump_generation(&self) -> Result<i64> {
        self.bump(Counter::Generation).await
    }
}
