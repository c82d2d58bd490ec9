//! The background pipeline of a workspace. Requests only enqueue documents; one job at a time
//! runs the engine's resumable pipeline (or a deletion, or a clear) and records what it does, so
//! `/documents/pipeline_status` and the document statuses show the work as it moves.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures::future::BoxFuture;
use lightrag_core::pipeline::{Progress, ProgressEvent};
use lightrag_core::types::{now_iso, DocStatus};
use serde_json::{json, Value};

use crate::workspace::Workspace;

/// Lines of history kept for `/documents/pipeline_status`.
const HISTORY: usize = 1000;

#[derive(Default)]
struct State {
    busy: bool,
    /// Processing was asked for while a job ran: run it when the job ends.
    rerun: bool,
    job_name: String,
    job_start: Option<String>,
    docs: usize,
    batchs: usize,
    cur_batch: usize,
    latest_message: String,
    history: VecDeque<String>,
}

/// The job slot and status of one workspace.
pub struct Pipeline {
    state: Mutex<State>,
    /// Set once the server stops: no job starts, and processing is cut at its next await.
    stopping: tokio::sync::watch::Sender<bool>,
    /// Set by `/documents/cancel_pipeline` for the running processing job.
    cancel: tokio::sync::watch::Sender<bool>,
    /// The cluster's count of cancel requests last seen (`i64::MIN`: not looked yet).
    pub(crate) cancels_seen: std::sync::atomic::AtomicI64,
    /// After a cancel, documents left waiting stay waiting: the look for shared work pauses
    /// until documents are enqueued (here, or elsewhere: more unfinished than at the pause).
    /// `Some(usize::MAX)`: paused, count not taken yet.
    poll_pause: Mutex<Option<usize>>,
}

impl Default for Pipeline {
    fn default() -> Self {
        Pipeline {
            state: Mutex::new(State::default()),
            stopping: tokio::sync::watch::Sender::new(false),
            cancel: tokio::sync::watch::Sender::new(false),
            cancels_seen: std::sync::atomic::AtomicI64::new(i64::MIN),
            poll_pause: Mutex::new(None),
        }
    }
}

impl Pipeline {
    fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut self.state.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Records a message as the latest one and in the history.
    pub fn log(&self, msg: impl Into<String>) {
        let msg = msg.into();
        self.with(|s| {
            if s.history.len() >= HISTORY {
                s.history.pop_front();
            }
            s.history.push_back(msg.clone());
            s.latest_message = msg;
        });
    }

    /// Whether a job runs.
    pub fn busy(&self) -> bool {
        self.with(|s| s.busy)
    }

    /// LightRAG's `PipelineStatusResponse`.
    pub fn status_json(&self) -> Value {
        self.with(|s| {
            json!({
                "autoscanned": false,
                "busy": s.busy,
                "job_name": s.job_name,
                "job_start": s.job_start,
                "docs": s.docs,
                "batchs": s.batchs,
                "cur_batch": s.cur_batch,
                "request_pending": s.rerun,
                "latest_message": s.latest_message,
                "history_messages": s.history,
                "update_status": {},
                "recovery_required": false,
                "recovery_kind": null,
                "recovery_message": null,
                "destructive_busy": false,
                "scanning": false,
                "scanning_exclusive": false,
                "pending_enqueues": 0,
                "cancellation_requested": *self.cancel.borrow(),
            })
        })
    }

    fn stopping(&self) -> bool {
        *self.stopping.borrow()
    }

    /// Resolves once the server stops.
    pub async fn stopped(&self) {
        let mut rx = self.stopping.subscribe();
        let _ = rx.wait_for(|s| *s).await;
    }

    /// Stops the pipeline for shutdown: processing is dropped at its next await point (as a
    /// crash would stop it: its documents stay `processing` and resume on the next start),
    /// other jobs (deletions) finish. Waits at most `limit` for the slot to free.
    pub async fn stop(&self, limit: std::time::Duration) {
        self.stopping.send_replace(true);
        let t = Instant::now();
        while self.busy() && t.elapsed() < limit {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Asks the running processing job to stop: its documents in flight end `failed`
    /// ("cancelled"), waiting ones stay `pending`. False when nothing is being processed.
    pub fn cancel(&self) -> bool {
        *self.poll_pause() = Some(usize::MAX);
        let processing = self.with(|s| {
            s.rerun = false;
            s.busy && s.job_name == PROCESSING
        });
        if processing {
            self.cancel.send_replace(true);
        }
        processing
    }

    fn poll_pause(&self) -> std::sync::MutexGuard<'_, Option<usize>> {
        self.poll_pause.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether the look for shared work may start processing with `unfinished` documents
    /// waiting (see `poll_pause`).
    fn poll_resumes(&self, unfinished: usize) -> bool {
        let mut pause = self.poll_pause();
        match *pause {
            None => true,
            Some(usize::MAX) => {
                *pause = Some(unfinished);
                false
            }
            Some(at) if unfinished <= at => false,
            Some(_) => {
                *pause = None;
                true
            }
        }
    }

    /// Takes the job slot for `name`; false when another job holds it or the server stops.
    fn claim(&self, name: &str) -> bool {
        if self.stopping() {
            return false;
        }
        self.with(|s| {
            if s.busy {
                return false;
            }
            s.busy = true;
            self.cancel.send_replace(false);
            s.job_name = name.to_string();
            s.job_start = Some(now_iso());
            s.docs = 0;
            s.batchs = 0;
            s.cur_batch = 0;
            true
        })
    }
}

/// A job other than processing (deletion, clearing).
pub type Job = BoxFuture<'static, ()>;

const PROCESSING: &str = "Processing documents";

impl Workspace {
    /// Processes pending and interrupted documents in the background. If a job already runs,
    /// processing follows it (documents enqueued meanwhile are never left waiting).
    pub fn process_in_background(self: &Arc<Self>) {
        *self.pipeline.poll_pause() = None;
        self.start_processing();
    }

    fn start_processing(self: &Arc<Self>) {
        if !self.pipeline.claim(PROCESSING) {
            if !self.pipeline.stopping() {
                self.pipeline.with(|s| s.rerun = true);
            }
            return;
        }
        tokio::spawn(run_jobs(self.clone(), None));
    }

    /// Runs `job` in the background if no job runs; false (nothing started) otherwise.
    pub fn try_exclusive(self: &Arc<Self>, name: &str, job: Job) -> bool {
        if !self.pipeline.claim(name) {
            return false;
        }
        tokio::spawn(run_jobs(self.clone(), Some(job)));
        true
    }

    async fn process(self: &Arc<Self>) {
        let reporter = Arc::new(Reporter {
            ws: self.clone(),
            started: Mutex::new(HashMap::new()),
        });
        let rag = self.rag.clone();
        // A task of its own, so that a panic inside the engine frees the slot instead of
        // wedging it.
        let mut stop = self.pipeline.stopping.subscribe();
        let mut cancel = self.pipeline.cancel.subscribe();
        let run = tokio::spawn(async move {
            tokio::select! {
                r = rag.process_pending(reporter) => Some(r),
                _ = stop.wait_for(|s| *s) => None,
                _ = cancel.wait_for(|c| *c) => None,
            }
        })
        .await;
        match run {
            Ok(None) if *self.pipeline.cancel.borrow() => {
                let n = self.fail_in_flight().await;
                self.pipeline.cancel.send_replace(false);
                self.cache.invalidate();
                self.pipeline.log(format!(
                    "Cancelled: {n} document(s) in flight marked failed; waiting ones stay pending"
                ));
            }
            Ok(None) => self
                .pipeline
                .log("Stopped for shutdown; unfinished documents resume on the next start"),
            Ok(Some(Ok(r))) if r.processed.is_empty() && r.failed.is_empty() => {}
            Ok(Some(Ok(r))) => self.pipeline.log(format!(
                "Done: {} document(s) processed, {} failed",
                r.processed.len(),
                r.failed.len()
            )),
            Ok(Some(Err(e))) => self.pipeline.log(format!("Processing stopped: {e}")),
            Err(e) => self.pipeline.log(format!("Processing crashed: {e}")),
        }
    }
}

impl Workspace {
    /// The leases of the workspace's documents held now, by any process (none when the stores
    /// are not shared: this process's own work shows in the pipeline's state).
    async fn cluster_leases(&self) -> lightrag_core::Result<Vec<lightrag_core::ports::LeaseInfo>> {
        let c = &self.rag.stores().coordinator;
        if !c.shared() {
            return Ok(Vec::new());
        }
        c.leases().await
    }

    /// Whether a job runs here or any process sharing the stores is processing documents:
    /// what the busy guard of deletes, clears and graph edits asks. A database that cannot be
    /// read counts as busy (refusing is safe, going ahead is not).
    pub async fn cluster_busy(&self) -> bool {
        self.pipeline.busy() || self.cluster_leases().await.map_or(true, |l| !l.is_empty())
    }

    /// LightRAG's `PipelineStatusResponse`, with the work of every process sharing the
    /// stores: `busy` when any of them processes documents, and `cluster` naming them.
    pub async fn pipeline_status(&self) -> Value {
        let mut v = self.pipeline.status_json();
        let me = self.rag.stores().coordinator.replica_id().to_string();
        match self.cluster_leases().await {
            Ok(leases) => {
                let mut by_owner: std::collections::BTreeMap<String, usize> = Default::default();
                for l in &leases {
                    *by_owner.entry(l.owner.clone()).or_default() += 1;
                }
                if !leases.is_empty() {
                    v["busy"] = json!(true);
                }
                v["cluster"] = json!({
                    "replica_id": me,
                    "documents_in_flight": leases.len(),
                    "replicas": by_owner,
                });
            }
            Err(e) => v["cluster"] = json!({"replica_id": me, "error": e.to_string()}),
        }
        v
    }

    /// Cancels processing here and, through the shared stores, in every other process; false
    /// when nothing is being processed anywhere.
    pub async fn cancel_everywhere(&self) -> lightrag_core::Result<bool> {
        let busy_elsewhere = !self.cluster_leases().await?.is_empty();
        let c = &self.rag.stores().coordinator;
        if c.shared() {
            let n = c.request_cancel().await?;
            // Seen: the local cancel below is this process's part.
            self.pipeline
                .cancels_seen
                .store(n, std::sync::atomic::Ordering::SeqCst);
        }
        let here = self.pipeline.cancel();
        Ok(here || busy_elsewhere)
    }

    /// While other processes share the stores, looks for documents they enqueued every
    /// `every` (a claim finds nothing when every one is leased), so an idle replica picks up
    /// work inserted through another. Ends with the workspace or the server.
    pub fn watch_shared_work(self: &Arc<Self>, every: std::time::Duration) {
        if !self.rag.stores().coordinator.shared() {
            return;
        }
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                let Some(ws) = weak.upgrade() else { return };
                tokio::select! {
                    _ = tokio::time::sleep(every) => {}
                    _ = ws.pipeline.stopped() => return,
                }
                // A cancel asked through another process stops the run here too.
                if let Ok(n) = ws.rag.stores().coordinator.cancel_requests().await {
                    let seen = ws
                        .pipeline
                        .cancels_seen
                        .swap(n, std::sync::atomic::Ordering::SeqCst);
                    if seen != i64::MIN && n != seen {
                        ws.pipeline.cancel();
                    }
                }
                if ws.pipeline.busy() {
                    continue;
                }
                match ws.unfinished_documents().await {
                    Ok(n) if n > 0 && ws.pipeline.poll_resumes(n) => ws.start_processing(),
                    Ok(_) => {}
                    Err(e) => tracing::debug!(workspace = %ws.name, "cannot look for work: {e}"),
                }
            }
        });
    }

    /// Marks the documents left `processing` by a cancelled run as failed.
    async fn fail_in_flight(&self) -> usize {
        let store = &self.rag.stores().doc_status;
        let rows = match store.by_statuses(&[DocStatus::Processing]).await {
            Ok(r) => r,
            Err(e) => {
                self.pipeline
                    .log(format!("Cannot list documents in flight: {e}"));
                return 0;
            }
        };
        // Documents another process is working on are its to end.
        let others: std::collections::HashSet<String> = match self.cluster_leases().await {
            Ok(leases) => {
                let me = self.rag.stores().coordinator.replica_id();
                leases
                    .into_iter()
                    .filter(|l| l.owner != me)
                    .map(|l| l.doc_id)
                    .collect()
            }
            Err(_) => Default::default(),
        };
        let rows: Vec<_> = rows
            .into_iter()
            .filter(|(id, _)| !others.contains(id))
            .collect();
        let n = rows.len();
        let rows = rows
            .into_iter()
            .map(|(id, mut r)| {
                r.status = DocStatus::Failed;
                r.error_msg = Some("cancelled by /documents/cancel_pipeline".into());
                r.updated_at = now_iso();
                (id, r)
            })
            .collect();
        if let Err(e) = store.upsert(rows).await {
            self.pipeline
                .log(format!("Cannot mark cancelled documents: {e}"));
        }
        n
    }
}

async fn run_jobs(ws: Arc<Workspace>, first: Option<Job>) {
    match first {
        Some(job) => {
            if let Err(e) = tokio::spawn(job).await {
                ws.pipeline.log(format!("Job crashed: {e}"));
            }
        }
        None => ws.process().await,
    }
    loop {
        let stopping = ws.pipeline.stopping();
        let again = ws.pipeline.with(|s| {
            if s.rerun && !stopping {
                s.rerun = false;
                s.job_name = PROCESSING.into();
                s.job_start = Some(now_iso());
                true
            } else {
                s.busy = false;
                false
            }
        });
        if !again {
            return;
        }
        ws.process().await;
    }
}

/// Turns the engine's progress events into pipeline status, metrics and cache invalidation.
struct Reporter {
    ws: Arc<Workspace>,
    started: Mutex<HashMap<String, Instant>>,
}

impl Progress for Reporter {
    fn event(&self, ev: ProgressEvent) {
        let p = &self.ws.pipeline;
        match ev {
            ProgressEvent::Started { documents } => {
                p.with(|s| {
                    s.docs = documents;
                    s.batchs = documents;
                });
                if documents > 0 {
                    p.log(format!("Processing {documents} document(s)"));
                }
            }
            ProgressEvent::Chunked { doc_id, chunks } => {
                if let Ok(mut m) = self.started.lock() {
                    m.entry(doc_id.clone()).or_insert_with(Instant::now);
                }
                p.log(format!("Chunked {doc_id}: {chunks} chunk(s)"));
            }
            ProgressEvent::ChunkExtracted { .. } => {}
            ProgressEvent::Claimed { doc_id, taken_over } => {
                let replica = self.ws.rag.stores().coordinator.replica_id().to_string();
                metrics::counter!("lightrag_document_leases_total", "replica" => replica.clone())
                    .increment(1);
                if taken_over {
                    metrics::counter!("lightrag_document_leases_taken_over_total", "replica" => replica)
                        .increment(1);
                    p.log(format!("Took over {doc_id}: its earlier run stopped"));
                }
            }
            ProgressEvent::LeaseLost { doc_id } => {
                let replica = self.ws.rag.stores().coordinator.replica_id().to_string();
                metrics::counter!("lightrag_document_leases_expired_total", "replica" => replica)
                    .increment(1);
                p.log(format!(
                    "Stopped {doc_id}: its lease ran out and another process took it over"
                ));
            }
            ProgressEvent::Finished {
                doc_id,
                status,
                error,
            } => {
                let began = self.started.lock().ok().and_then(|mut m| m.remove(&doc_id));
                if let Some(t) = began {
                    metrics::histogram!("lightrag_document_processing_seconds")
                        .record(t.elapsed().as_secs_f64());
                }
                metrics::counter!("lightrag_documents_processed_total", "status" => status.as_str())
                    .increment(1);
                p.with(|s| s.cur_batch += 1);
                match (status, error) {
                    (DocStatus::Processed, _) => p.log(format!("Processed {doc_id}")),
                    (_, Some(e)) => p.log(format!("Failed {doc_id}: {e}")),
                    (s, None) => p.log(format!("{doc_id}: {s}")),
                }
                // The graph and the vectors changed: cached answers are stale.
                self.ws.cache.invalidate();
            }
        }
    }
}
