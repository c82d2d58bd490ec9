//! [`BatchingEmbedder`]: the orchestrator's public face. It is an [`Embedder`] itself, so the
//! engine uses it without knowing; it also offers the seed's queue API (enqueue, await a
//! result, embed a list, metrics, cache and breaker controls, health, start/stop).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use lightrag_core::ports::{EmbedPurpose, Embedder};
use tokio::sync::{oneshot, Notify, Semaphore};
use tokio::task::JoinHandle;

use crate::breaker::CircuitBreaker;
use crate::config::OrchestratorConfig;
use crate::dispatch::Dispatcher;
use crate::error::{OrchestratorError, Result};
use crate::local_queue::LocalQueue;
use crate::memory_cache::MemoryCache;
use crate::metrics::{CacheLevel, Metrics};
use crate::redis_cache::RedisCache;
use crate::redis_link::RedisLink;
use crate::request::{CacheKey, Outcome, Priority, RequestId};
use crate::shared_queue::SharedQueue;
use crate::sizer::AdaptiveSizer;
use crate::workers;

/// Lifecycle states (an `AtomicU8`).
pub(crate) const IDLE: u8 = 0;
pub(crate) const RUNNING: u8 = 1;
pub(crate) const DRAINING: u8 = 2;
pub(crate) const STOPPED: u8 = 3;

/// A text this process pushed to the shared queue and waits for.
pub(crate) struct RemoteRequest {
    pub key: CacheKey,
    pub text: String,
    pub purpose: EmbedPurpose,
    pub priority: Priority,
    /// Whether Redis holds it yet: the poller asks only about pushed requests (one asked about
    /// before its push lands would look lost, and be embedded here as well).
    pub pushed: bool,
}

/// State shared by the handle and the background tasks.
pub(crate) struct Core {
    pub cfg: OrchestratorConfig,
    pub model: String,
    pub dim: usize,
    pub dispatcher: Dispatcher,
    pub metrics: Metrics,
    pub memory: MemoryCache,
    pub redis: Option<Arc<RedisLink>>,
    pub redis_cache: Option<RedisCache>,
    pub shared: Option<SharedQueue>,
    pub queue: Mutex<LocalQueue>,
    /// Texts on their way to the model, with everyone waiting for each.
    pub inflight: Mutex<HashMap<CacheKey, Vec<oneshot::Sender<Outcome>>>>,
    /// Texts pushed to the shared queue by this process.
    pub remote: Mutex<HashMap<RequestId, RemoteRequest>>,
    /// Results of `enqueue`, until `result` takes them.
    pub tickets: Mutex<HashMap<RequestId, oneshot::Receiver<Outcome>>>,
    pub sizer: Mutex<AdaptiveSizer>,
    pub state: AtomicU8,
    /// Wakes the local batcher (new work, or a state change).
    pub work: Notify,
    /// Wakes the shared-queue poller.
    pub remote_work: Notify,
    /// Batches this process may have at the model at once.
    pub batch_slots: Arc<Semaphore>,
    pub tasks: Mutex<Vec<JoinHandle<()>>>,
}

/// Locks a mutex, ignoring poisoning: the data are plain maps, valid after any panic.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Core {
    pub fn state(&self) -> u8 {
        self.state.load(Ordering::SeqCst)
    }

    /// Delivers an outcome to everyone waiting for `key`, and keeps a vector in process.
    pub fn complete(&self, key: &CacheKey, outcome: Outcome) {
        // Cached before the in-flight entry goes: a caller that finds no entry finds the vector.
        if let Ok(v) = &outcome {
            self.memory.put(key.clone(), Arc::from(v.as_slice()));
        }
        let waiters = lock(&self.inflight).remove(key).unwrap_or_default();
        self.metrics.active_delta(-(waiters.len() as i64));
        for w in waiters {
            let _ = w.send(outcome.clone());
        }
    }

    /// Queues texts in process and wakes the batcher.
    pub fn push_local(&self, items: Vec<(CacheKey, String, EmbedPurpose, Priority)>) {
        if items.is_empty() {
            return;
        }
        let mut q = lock(&self.queue);
        for (key, text, purpose, priority) in items {
            q.push(key, text, purpose, priority);
        }
        drop(q);
        self.work.notify_one();
    }

    /// Writes fresh vectors to the Redis level (when there is one).
    pub async fn cache_in_redis(&self, items: Vec<(CacheKey, Arc<[f32]>)>) {
        if let Some(rc) = &self.redis_cache {
            rc.put_many(&items).await;
        }
    }
}

/// The embedding batching orchestrator: wraps any [`Embedder`] and is one.
///
/// Dropping it stops it the way [`BatchingEmbedder::stop`] does, without waiting: the
/// background tasks finish every queued text first, so no caller is left without an answer.
pub struct BatchingEmbedder {
    pub(crate) core: Arc<Core>,
}

impl BatchingEmbedder {
    /// Wraps `embedder`. Nothing runs until first use or [`BatchingEmbedder::start`]; a Redis
    /// that is down now is tried again later.
    pub fn new(embedder: Arc<dyn Embedder>, mut cfg: OrchestratorConfig) -> Result<Self> {
        cfg.validate()?;
        let model = embedder.model_name().to_string();
        let dim = embedder.dim();
        let redis = match &cfg.redis {
            Some(r) => Some(Arc::new(RedisLink::new(r, cfg.redis_timeout)?)),
            None => None,
        };
        let redis_cache = redis
            .as_ref()
            .map(|l| RedisCache::new(l.clone(), cfg.cache_ttl, dim, &model));
        let shared = match (&redis, cfg.shared_queue) {
            (Some(l), true) => Some(SharedQueue::new(l.clone(), &model, cfg.lease)),
            _ => None,
        };
        let core = Core {
            dispatcher: Dispatcher {
                embedder,
                breaker: CircuitBreaker::new(cfg.breaker_threshold, cfg.breaker_cooldown),
                timeout: cfg.batch_timeout,
                max_retries: cfg.max_retries,
                retry_base: cfg.retry_base,
            },
            metrics: Metrics::default(),
            memory: MemoryCache::new(cfg.cache_size, cfg.cache_ttl),
            redis,
            redis_cache,
            shared,
            queue: Mutex::new(LocalQueue::default()),
            inflight: Mutex::new(HashMap::new()),
            remote: Mutex::new(HashMap::new()),
            tickets: Mutex::new(HashMap::new()),
            sizer: Mutex::new(AdaptiveSizer::new(
                cfg.batch_size,
                cfg.max_batch_size,
                cfg.target_batch_latency,
                cfg.adaptive,
            )),
            state: AtomicU8::new(IDLE),
            work: Notify::new(),
            remote_work: Notify::new(),
            batch_slots: Arc::new(Semaphore::new(cfg.max_in_flight_batches)),
            tasks: Mutex::new(Vec::new()),
            model,
            dim,
            cfg,
        };
        Ok(BatchingEmbedder {
            core: Arc::new(core),
        })
    }

    /// The settings in force (batch size capped by the model's maximum).
    pub fn config(&self) -> &OrchestratorConfig {
        &self.core.cfg
    }

    /// Starts the background batcher (and, with a shared queue, the poller and workers).
    /// Needs a Tokio runtime; use is enough to start it, this only makes it explicit.
    pub fn start(&self) -> Result<()> {
        let prev = self.core.state();
        if prev == RUNNING {
            return Ok(());
        }
        if prev == DRAINING {
            return Err(OrchestratorError::Stopped);
        }
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(OrchestratorError::Config(
                "the embedding orchestrator needs a Tokio runtime".into(),
            ));
        }
        if self
            .core
            .state
            .compare_exchange(prev, RUNNING, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            return Ok(()); // another caller started it at the same moment
        }
        let handles = workers::spawn_all(&self.core);
        lock(&self.core.tasks).extend(handles);
        Ok(())
    }

    /// Stops accepting work, finishes every queued text, and waits for the background tasks.
    pub async fn stop(&self) {
        let prev = self.core.state();
        if prev == IDLE || prev == STOPPED {
            self.core.state.store(STOPPED, Ordering::SeqCst);
            return;
        }
        self.core.state.store(DRAINING, Ordering::SeqCst);
        self.core.work.notify_one();
        self.core.remote_work.notify_one();
        let handles: Vec<JoinHandle<()>> = lock(&self.core.tasks).drain(..).collect();
        for h in handles {
            let _ = h.await;
        }
        self.core.state.store(STOPPED, Ordering::SeqCst);
    }

    fn accepting(&self) -> Result<()> {
        match self.core.state() {
            IDLE => self.start(),
            RUNNING => Ok(()),
            _ => Err(OrchestratorError::Stopped),
        }
    }

    /// Queues texts: answers from the caches at once, joins identical texts already in
    /// flight, and queues the rest (in Redis with a shared queue, else in process).
    async fn submit(
        &self,
        texts: &[String],
        purpose: EmbedPurpose,
        priority: Priority,
    ) -> Result<Vec<oneshot::Receiver<Outcome>>> {
        self.accepting()?;
        let core = &self.core;
        core.metrics.request(texts.len());
        let keys: Vec<CacheKey> = texts
            .iter()
            .map(|t| CacheKey::new(&core.model, purpose, t))
            .collect();
        let mut ready: Vec<Option<Vec<f32>>> = keys
            .iter()
            .map(|k| core.memory.get(k).map(|v| v.to_vec()))
            .collect();
        let memory_hits = ready.iter().filter(|r| r.is_some()).count();
        core.metrics.hit(CacheLevel::Memory, memory_hits);
        if let Some(rc) = &core.redis_cache {
            let missing: Vec<usize> = (0..texts.len()).filter(|i| ready[*i].is_none()).collect();
            let looked: Vec<&CacheKey> = missing.iter().map(|i| &keys[*i]).collect();
            let found = rc.get_many(&looked).await;
            let mut hits = 0;
            for (i, v) in missing.into_iter().zip(found) {
                if let Some(v) = v {
                    core.memory.put(keys[i].clone(), Arc::from(v.as_slice()));
                    ready[i] = Some(v);
                    hits += 1;
                }
            }
            core.metrics.hit(CacheLevel::Redis, hits);
        }
        let mut receivers = Vec::with_capacity(texts.len());
        let mut to_queue = Vec::new();
        let mut misses = 0;
        let mut late_hits = 0;
        {
            let mut inflight = lock(&core.inflight);
            for (i, r) in ready.into_iter().enumerate() {
                let (tx, rx) = oneshot::channel();
                receivers.push(rx);
                // Not in flight may mean finished while this call looked in Redis: `complete`
                // caches a vector before it drops the in-flight entry.
                let r = r.or_else(|| {
                    let late = (!inflight.contains_key(&keys[i]))
                        .then(|| core.memory.get(&keys[i]))
                        .flatten()?;
                    late_hits += 1;
                    Some(late.to_vec())
                });
                if let Some(v) = r {
                    let _ = tx.send(Ok(v));
                    core.metrics.active_delta(-1);
                    continue;
                }
                misses += 1;
                match inflight.get_mut(&keys[i]) {
                    Some(waiters) => {
                        waiters.push(tx);
                        core.metrics.deduplicated();
                    }
                    None => {
                        inflight.insert(keys[i].clone(), vec![tx]);
                        to_queue.push(i);
                    }
                }
            }
        }
        core.metrics.miss(misses);
        core.metrics.hit(CacheLevel::Memory, late_hits);
        let items: Vec<(CacheKey, String, EmbedPurpose, Priority)> = to_queue
            .into_iter()
            .map(|i| (keys[i].clone(), texts[i].clone(), purpose, priority))
            .collect();
        self.queue(items).await;
        Ok(receivers)
    }

    /// Puts texts in the shared queue, or in process when there is none or Redis is down.
    async fn queue(&self, items: Vec<(CacheKey, String, EmbedPurpose, Priority)>) {
        let core = &self.core;
        let Some(shared) = &core.shared else {
            core.push_local(items);
            return;
        };
        if items.is_empty() {
            return;
        }
        let ids: Vec<RequestId> = items.iter().map(|_| RequestId::new()).collect();
        {
            // Registered before the push, so that a stopping process waits for it.
            let mut remote = lock(&core.remote);
            for (id, (key, text, purpose, priority)) in ids.iter().zip(&items) {
                remote.insert(
                    id.clone(),
                    RemoteRequest {
                        key: key.clone(),
                        text: text.clone(),
                        purpose: *purpose,
                        priority: *priority,
                        pushed: false,
                    },
                );
            }
        }
        let refs: Vec<(RequestId, EmbedPurpose, Priority, &str)> = ids
            .iter()
            .zip(&items)
            .map(|(id, (_, text, purpose, priority))| {
                (id.clone(), *purpose, *priority, text.as_str())
            })
            .collect();
        if shared.push(&refs).await {
            let mut remote = lock(&core.remote);
            for id in &ids {
                if let Some(r) = remote.get_mut(id) {
                    r.pushed = true;
                }
            }
            drop(remote);
            core.remote_work.notify_one();
        } else {
            let mut remote = lock(&core.remote);
            for id in &ids {
                remote.remove(id);
            }
            drop(remote);
            core.push_local(items);
        }
    }

    /// Queues one document text (the seed's `queue_embedding_request`); await it with
    /// [`BatchingEmbedder::result`].
    pub async fn enqueue(&self, text: &str, priority: Priority) -> Result<RequestId> {
        self.enqueue_for(text, EmbedPurpose::Document, priority)
            .await
    }

    /// Queues one text for a purpose.
    pub async fn enqueue_for(
        &self,
        text: &str,
        purpose: EmbedPurpose,
        priority: Priority,
    ) -> Result<RequestId> {
        let mut rx = self.submit(&[text.to_string()], purpose, priority).await?;
        let id = RequestId::new();
        if let Some(rx) = rx.pop() {
            lock(&self.core.tickets).insert(id.clone(), rx);
        }
        Ok(id)
    }

    /// The vector of an enqueued text. After `timeout` the request stays pending and can be
    /// awaited again; `None` waits as long as it takes.
    pub async fn result(&self, id: &RequestId, timeout: Option<Duration>) -> Result<Vec<f32>> {
        let mut rx = lock(&self.core.tickets)
            .remove(id)
            .ok_or_else(|| OrchestratorError::UnknownRequest(id.clone()))?;
        let outcome = match timeout {
            None => (&mut rx).await,
            Some(t) => match tokio::time::timeout(t, &mut rx).await {
                Ok(r) => r,
                Err(_) => {
                    lock(&self.core.tickets).insert(id.clone(), rx);
                    return Err(OrchestratorError::Timeout {
                        id: id.clone(),
                        waited: t,
                    });
                }
            },
        };
        flatten(outcome)
    }

    /// Embeds a list (the seed's `process_embeddings_batch`): one vector per text, in order.
    pub async fn embed_many(
        &self,
        texts: &[String],
        purpose: EmbedPurpose,
        priority: Priority,
    ) -> Result<Vec<Vec<f32>>> {
        let receivers = self.submit(texts, purpose, priority).await?;
        let mut out = Vec::with_capacity(receivers.len());
        for rx in receivers {
            out.push(flatten(rx.await)?);
        }
        Ok(out)
    }
}

/// A delivered outcome as a result; a dropped sender means the orchestrator went away.
fn flatten(r: std::result::Result<Outcome, oneshot::error::RecvError>) -> Result<Vec<f32>> {
    match r {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(OrchestratorError::Model(e)),
        Err(_) => Err(OrchestratorError::Model(
            "the orchestrator dropped the request (its task ended)".into(),
        )),
    }
}

impl Drop for BatchingEmbedder {
    fn drop(&mut self) {
        if self.core.state() == RUNNING {
            // The tasks hold the core: they finish the queued work, then end.
            self.core.state.store(DRAINING, Ordering::SeqCst);
            self.core.work.notify_one();
            self.core.remote_work.notify_one();
        }
    }
}

#[async_trait]
impl Embedder for BatchingEmbedder {
    fn model_name(&self) -> &str {
        &self.core.model
    }

    fn dim(&self) -> usize {
        self.core.dim
    }

    /// Queries go ahead of documents. After `stop`, calls go straight to the wrapped model.
    async fn embed(
        &self,
        texts: &[String],
        purpose: EmbedPurpose,
    ) -> lightrag_core::Result<Vec<Vec<f32>>> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        match self
            .embed_many(texts, purpose, Priority::for_purpose(purpose))
            .await
        {
            Err(OrchestratorError::Stopped) => {
                self.core.dispatcher.embedder.embed(texts, purpose).await
            }
            other => other.map_err(Into::into),
        }
    }
}
