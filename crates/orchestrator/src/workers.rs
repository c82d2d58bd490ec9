//! The background tasks: the local batcher, and with a shared queue the poller (results of
//! this process's requests) and the shared-queue workers (batches for every process).

use std::sync::Arc;
use std::time::{Duration, Instant};

use lightrag_core::ports::EmbedPurpose;
use tokio::task::JoinHandle;

use crate::local_queue::Pending;
use crate::orchestrator::{lock, Core, DRAINING};
use crate::request::{CacheKey, Outcome, RequestId};
use crate::shared_queue::PollState;

/// How often the poller asks Redis for results while requests are out.
const POLL_EVERY: Duration = Duration::from_millis(2);
/// How often an idle shared-queue worker looks for work.
const IDLE_LOOK: Duration = Duration::from_millis(5);
/// Requests one poll asks about.
const POLL_CHUNK: usize = 1000;

/// Starts every task the configuration calls for.
pub(crate) fn spawn_all(core: &Arc<Core>) -> Vec<JoinHandle<()>> {
    let mut out = vec![tokio::spawn(local_loop(core.clone()))];
    if core.shared.is_some() {
        out.push(tokio::spawn(poll_loop(core.clone())));
        for _ in 0..core.cfg.workers {
            out.push(tokio::spawn(shared_worker(core.clone())));
        }
    }
    out
}

/// Whether the process is stopping and has nothing left to wait for.
fn drained(core: &Core) -> bool {
    core.state() >= DRAINING
        && lock(&core.queue).is_empty()
        && lock(&core.remote).is_empty()
        && core.batch_slots.available_permits() == core.cfg.max_in_flight_batches
}

/// Forms batches from the in-process queue: when the adaptive size is reached, when the
/// oldest text has waited BATCH_PROCESSING_INTERVAL, or at once while stopping.
async fn local_loop(core: Arc<Core>) {
    loop {
        let (len, oldest) = {
            let q = lock(&core.queue);
            (q.len(), q.oldest_wait().unwrap_or_default())
        };
        let target = lock(&core.sizer).target();
        let stopping = core.state() >= DRAINING;
        if len > 0 && (len >= target || oldest >= core.cfg.interval || stopping) {
            let Ok(permit) = core.batch_slots.clone().acquire_owned().await else {
                return;
            };
            // The queue may have grown while a slot was busy: take the fullest batch now.
            let target = lock(&core.sizer).target();
            let batch = lock(&core.queue).pop_batch(target);
            if batch.is_empty() {
                continue;
            }
            let c = core.clone();
            tokio::spawn(async move {
                process_local(&c, batch).await;
                drop(permit);
                c.work.notify_one();
            });
            continue;
        }
        if len == 0 && drained(&core) {
            return;
        }
        let wait = if len > 0 {
            core.cfg.interval.saturating_sub(oldest)
        } else if stopping {
            Duration::from_millis(10)
        } else {
            Duration::from_secs(1)
        };
        tokio::select! {
            _ = core.work.notified() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// One in-process batch: the model, the Redis level, then every waiter (so that when a caller
/// has its vector, other processes find it in Redis too).
async fn process_local(core: &Core, batch: Vec<Pending>) {
    let purpose = batch[0].purpose;
    let texts: Vec<String> = batch.iter().map(|p| p.text.clone()).collect();
    let outcomes = run_batch(core, &texts, purpose).await;
    let fresh: Vec<(CacheKey, Arc<[f32]>)> = batch
        .iter()
        .zip(&outcomes)
        .filter_map(|(p, o)| {
            o.as_ref()
                .ok()
                .map(|v| (p.key.clone(), Arc::from(v.as_slice())))
        })
        .collect();
    core.cache_in_redis(fresh).await;
    for (p, o) in batch.into_iter().zip(outcomes) {
        core.complete(&p.key, o);
    }
}

/// The model call of a batch, with its metrics and the adaptive sizer's lesson.
async fn run_batch(core: &Core, texts: &[String], purpose: EmbedPurpose) -> Vec<Outcome> {
    let started = Instant::now();
    let outcomes = core.dispatcher.run(texts, purpose, &core.metrics).await;
    let took = started.elapsed();
    core.metrics.batch(texts.len(), took);
    let backlog = lock(&core.queue).len();
    let mut sizer = lock(&core.sizer);
    sizer.observe(texts.len(), took, backlog);
    core.metrics.batch_target(sizer.target());
    outcomes
}

/// Collects the results of this process's shared-queue requests. Requests Redis lost, and all
/// of them when Redis is down, are embedded in process instead.
async fn poll_loop(core: Arc<Core>) {
    let Some(shared) = &core.shared else {
        return;
    };
    loop {
        let (ids, waiting): (Vec<RequestId>, bool) = {
            let remote = lock(&core.remote);
            let ids = remote
                .iter()
                .filter(|(_, r)| r.pushed)
                .map(|(id, _)| id.clone())
                .take(POLL_CHUNK)
                .collect();
            (ids, !remote.is_empty())
        };
        if ids.is_empty() {
            if waiting {
                // Pushes in flight: their ids are polled once Redis holds them.
                tokio::time::sleep(POLL_EVERY).await;
                continue;
            }
            if core.state() >= DRAINING {
                return;
            }
            tokio::select! {
                _ = core.remote_work.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(200)) => {}
            }
            continue;
        }
        match shared.poll(&ids, core.dim).await {
            Some(states) => {
                let mut to_local = Vec::new();
                for (id, st) in ids.into_iter().zip(states) {
                    match st {
                        PollState::Pending => {}
                        PollState::Done(outcome) => {
                            if let Some(r) = lock(&core.remote).remove(&id) {
                                core.complete(&r.key, outcome);
                            }
                        }
                        PollState::Lost => {
                            if let Some(r) = lock(&core.remote).remove(&id) {
                                tracing::warn!("Redis lost a queued embedding request; embedding it in process");
                                to_local.push((r.key, r.text, r.purpose, r.priority));
                            }
                        }
                    }
                }
                core.push_local(to_local);
            }
            None => {
                // Pushes still in flight settle themselves (a failed one moves here).
                let moved: Vec<_> = {
                    let mut remote = lock(&core.remote);
                    let pushed: Vec<RequestId> = remote
                        .iter()
                        .filter(|(_, r)| r.pushed)
                        .map(|(id, _)| id.clone())
                        .collect();
                    pushed
                        .iter()
                        .filter_map(|id| remote.remove(id))
                        .map(|r| (r.key, r.text, r.purpose, r.priority))
                        .collect()
                };
                if !moved.is_empty() {
                    tracing::warn!(
                        "Redis is unreachable; embedding {} queued texts in process",
                        moved.len()
                    );
                }
                core.push_local(moved);
            }
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}

/// Takes batches from the shared queue for any process: puts expired leases back, waits for a
/// full batch or for BATCH_PROCESSING_INTERVAL, claims under a lease, embeds, publishes.
async fn shared_worker(core: Arc<Core>) {
    let Some(shared) = &core.shared else {
        return;
    };
    let reap_every = (core.cfg.lease / 4).max(Duration::from_millis(100));
    let mut last_reap: Option<Instant> = None;
    let mut waiting_since: Option<Instant> = None;
    loop {
        // While stopping, keep working until this process's own requests are answered: no
        // other process may be running workers.
        if core.state() >= DRAINING && lock(&core.remote).is_empty() {
            return;
        }
        if last_reap.is_none_or(|t| t.elapsed() >= reap_every) {
            if let Some(n) = shared.reap_expired().await {
                if n > 0 {
                    tracing::warn!(
                        "{n} embedding requests outlived their worker's lease; queued again"
                    );
                }
            }
            last_reap = Some(Instant::now());
        }
        let target = lock(&core.sizer).target();
        let pending = match shared.depth().await {
            None => {
                tokio::time::sleep(core.cfg.interval.max(IDLE_LOOK)).await;
                continue;
            }
            Some(d) => d.pending,
        };
        if pending == 0 {
            waiting_since = None;
            tokio::time::sleep(IDLE_LOOK).await;
            continue;
        }
        let since = *waiting_since.get_or_insert_with(Instant::now);
        if pending < target && since.elapsed() < core.cfg.interval && core.state() < DRAINING {
            tokio::time::sleep(Duration::from_millis(2)).await;
            continue;
        }
        waiting_since = None;
        let Ok(permit) = core.batch_slots.clone().acquire_owned().await else {
            return;
        };
        let Some(claimed) = shared.claim(target).await else {
            continue;
        };
        if claimed.items.is_empty() {
            continue;
        }
        let (ids, texts): (Vec<RequestId>, Vec<String>) = claimed.items.into_iter().unzip();
        let outcomes = run_batch(&core, &texts, claimed.purpose).await;
        drop(permit);
        let fresh: Vec<(CacheKey, Arc<[f32]>)> = texts
            .iter()
            .zip(&outcomes)
            .filter_map(|(t, o)| {
                o.as_ref().ok().map(|v| {
                    (
                        CacheKey::new(&core.model, claimed.purpose, t),
                        Arc::from(v.as_slice()),
                    )
                })
            })
            .collect();
        core.cache_in_redis(fresh).await;
        let results: Vec<(RequestId, Outcome)> = ids.into_iter().zip(outcomes).collect();
        if !shared.complete(&results).await {
            tracing::warn!(
                "cannot publish {} embeddings to Redis; their requesters will embed them again",
                results.len()
            );
        }
    }
}
