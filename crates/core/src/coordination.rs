//! Coordination in one process: the [`Coordinator`] of stores no other process can open (the
//! embedded and in-memory backends). Leases live in memory, with the same contract as a shared
//! database's (claims, expiry, takeover, fencing tokens), so the engine runs one code path
//! whatever the backend; graph locks are the engine's own ([`crate::graph_writer`]), document
//! locks are per-key locks in memory.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::graph_writer::{KeyGuard, KeyLocks};
use crate::ports::{Coordinator, DocLease, DocStatusStore, Held, LeaseInfo};
use crate::types::{DocStatus, DocStatusRecord};

/// Metadata flag of a failed document the next run retries by itself (a database was down).
pub const RETRY_FLAG: &str = "retry_on_next_run";

/// Whether a document needs the pipeline: pending, interrupted (`processing`), or failed for
/// a reason a retry can fix; never a duplicate row.
pub fn needs_work(r: &DocStatusRecord) -> bool {
    if r.metadata.get("is_duplicate") == Some(&Value::Bool(true)) {
        return false;
    }
    match r.status {
        DocStatus::Pending | DocStatus::Processing => true,
        DocStatus::Failed => r.metadata.get(RETRY_FLAG) == Some(&Value::Bool(true)),
        _ => false,
    }
}

/// A replica id: host name, process id and a random suffix (unique per process start).
pub fn default_replica_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_string())
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into());
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    format!("{host}-{}-{:04x}", std::process::id(), h.finish() & 0xffff)
}

struct Lease {
    token: i64,
    expires: Instant,
}

#[derive(Default)]
struct State {
    leases: HashMap<String, Lease>,
    next_token: i64,
}

/// Leases in memory over any [`DocStatusStore`]; locks left to the engine.
pub struct LocalCoordinator {
    id: String,
    doc_status: Arc<dyn DocStatusStore>,
    state: std::sync::Mutex<State>,
    /// Documents listed by the last claim that found no candidate left, in claim order.
    queue: std::sync::Mutex<std::collections::VecDeque<String>>,
    /// Held across a claim and across a status write, so that the check of a token and the
    /// write are one step.
    serial: tokio::sync::Mutex<()>,
    generation: AtomicI64,
    cancels: AtomicI64,
    documents: Arc<KeyLocks>,
}

impl LocalCoordinator {
    pub fn new(doc_status: Arc<dyn DocStatusStore>) -> LocalCoordinator {
        LocalCoordinator {
            id: default_replica_id(),
            doc_status,
            state: Default::default(),
            queue: Default::default(),
            serial: Default::default(),
            documents: Default::default(),
            generation: AtomicI64::new(0),
            cancels: AtomicI64::new(0),
        }
    }
}

impl Held for KeyGuard {}

impl LocalCoordinator {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether `lease` is the document's current lease (nobody claimed it since), with at
    /// least `margin` left when one is given.
    fn queue(&self) -> std::sync::MutexGuard<'_, std::collections::VecDeque<String>> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn held(&self, lease: &DocLease, margin: Option<Duration>) -> bool {
        self.state().leases.get(&lease.doc_id).is_some_and(|l| {
            l.token == lease.token && margin.is_none_or(|m| l.expires > Instant::now() + m)
        })
    }
}

fn lost(lease: &DocLease) -> Error {
    Error::LeaseLost(format!(
        "document {} (token {}) is no longer leased to this process",
        lease.doc_id, lease.token
    ))
}

#[async_trait]
impl Coordinator for LocalCoordinator {
    fn replica_id(&self) -> &str {
        &self.id
    }

    fn shared(&self) -> bool {
        false
    }

    async fn claim(&self, limit: usize, ttl: Duration, skip: &[String]) -> Result<Vec<DocLease>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let _serial = self.serial.lock().await;
        let now = Instant::now();
        let mut out = Vec::new();
        let mut reloaded = false;
        while out.len() < limit {
            // Candidates in claim order, listed once and re-read one by one: a run of N
            // documents costs N reads, not N listings of N rows.
            let next = self.queue().pop_front();
            let id = match next {
                Some(id) => id,
                None if reloaded => break,
                None => {
                    reloaded = true;
                    let mut rows: Vec<(String, DocStatusRecord)> = self
                        .doc_status
                        .by_statuses(&[
                            DocStatus::Processing,
                            DocStatus::Pending,
                            DocStatus::Failed,
                        ])
                        .await?
                        .into_iter()
                        .filter(|(_, r)| needs_work(r))
                        .collect();
                    rows.sort_by(|a, b| (&a.1.created_at, &a.0).cmp(&(&b.1.created_at, &b.0)));
                    *self.queue() = rows.into_iter().map(|(id, _)| id).collect();
                    continue;
                }
            };
            if skip.contains(&id)
                || self
                    .state()
                    .leases
                    .get(&id)
                    .is_some_and(|l| l.expires > now)
            {
                continue;
            }
            // The row may have moved on since it was listed (processed, deleted).
            let Some(row) = self.doc_status.get(&id).await? else {
                continue;
            };
            if !needs_work(&row) {
                continue;
            }
            let mut st = self.state();
            st.next_token += 1;
            let token = st.next_token;
            st.leases.insert(
                id.clone(),
                Lease {
                    token,
                    expires: now + ttl,
                },
            );
            out.push(DocLease {
                doc_id: id,
                token,
                taken_over: row.status == DocStatus::Processing,
            });
        }
        Ok(out)
    }

    async fn renew(&self, lease: &DocLease, ttl: Duration) -> Result<bool> {
        // Expired but not claimed since is still held: only a claim ends a lease.
        let mut st = self.state();
        match st.leases.get_mut(&lease.doc_id) {
            Some(l) if l.token == lease.token => {
                l.expires = Instant::now() + ttl;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn holds(&self, lease: &DocLease, margin: Duration) -> Result<bool> {
        Ok(self.held(lease, Some(margin)))
    }

    async fn write_status(
        &self,
        lease: &DocLease,
        row: DocStatusRecord,
        release: bool,
    ) -> Result<()> {
        let _serial = self.serial.lock().await;
        if !self.held(lease, None) {
            return Err(lost(lease));
        }
        self.doc_status
            .upsert(vec![(lease.doc_id.clone(), row)])
            .await?;
        if release {
            self.abandon(lease);
        }
        Ok(())
    }

    async fn release(&self, lease: &DocLease) -> Result<()> {
        self.abandon(lease);
        Ok(())
    }

    fn abandon(&self, lease: &DocLease) {
        let mut st = self.state();
        if st
            .leases
            .get(&lease.doc_id)
            .is_some_and(|l| l.token == lease.token)
        {
            st.leases.remove(&lease.doc_id);
        }
    }

    async fn release_all(&self) -> Result<usize> {
        let mut st = self.state();
        let n = st.leases.len();
        st.leases.clear();
        Ok(n)
    }

    async fn leases(&self) -> Result<Vec<LeaseInfo>> {
        let st = self.state();
        let now = Instant::now();
        let mut out: Vec<LeaseInfo> = st
            .leases
            .iter()
            .filter(|(_, l)| l.expires > now)
            .map(|(id, l)| LeaseInfo {
                doc_id: id.clone(),
                owner: self.id.clone(),
                token: l.token,
                expires_in_ms: (l.expires - now).as_millis() as i64,
            })
            .collect();
        out.sort_by(|a, b| a.doc_id.cmp(&b.doc_id));
        Ok(out)
    }

    async fn lock_keys(&self, _keys: &[String]) -> Result<Box<dyn Held>> {
        Ok(Box::new(()))
    }

    async fn lock_graph(&self) -> Result<Box<dyn Held>> {
        Ok(Box::new(()))
    }

    async fn lock_documents(&self, names: &[String]) -> Result<Box<dyn Held>> {
        Ok(Box::new(self.documents.lock(names.to_vec()).await))
    }

    async fn generation(&self) -> Result<i64> {
        Ok(self.generation.load(Ordering::SeqCst))
    }

    async fn bump_generation(&self) -> Result<i64> {
        Ok(self.generation.fetch_add(1, Ordering::SeqCst) + 1)
    }

    async fn cancel_requests(&self) -> Result<i64> {
        Ok(self.cancels.load(Ordering::SeqCst))
    }

    async fn request_cancel(&self) -> Result<i64> {
        Ok(self.cancels.fetch_add(1, Ordering::SeqCst) + 1)
    }
}
