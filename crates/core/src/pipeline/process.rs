//! Processing: pending and interrupted documents go through chunking, chunk embedding,
//! per-chunk extraction (each result committed as it finishes), graph merge and entity/relation
//! embedding; only then is a document `processed`. A failure fails that document alone.

use std::sync::Arc;

use futures::stream::{self, FuturesUnordered, StreamExt};
use serde_json::{json, Value};

use crate::chunker::chunk_text;
use crate::coordination::RETRY_FLAG;
use crate::engine::Rag;
use crate::error::{Error, Result};
use crate::ids::{args_hash, chunk_id};
use crate::merge::apply::{group, MergeStats};
use crate::ports::{Coordinator, DocLease, Namespace};
use crate::timings::Stage;
use crate::types::{now_epoch, now_iso, Chunk, ChunkExtraction, DocStatus, FullDoc};

/// Something the pipeline reports while it works (drives a progress bar or an API status).
#[derive(Debug, Clone)]
pub enum ProgressEvent {
    /// The run starts; this many documents need work now.
    Started { documents: usize },
    /// A document was claimed under a lease (`taken_over`: from a holder whose lease ran out).
    Claimed { doc_id: String, taken_over: bool },
    /// A document's lease ran out while this process worked on it; another takes it over.
    LeaseLost { doc_id: String },
    /// A document was cut into chunks.
    Chunked { doc_id: String, chunks: usize },
    /// One chunk's extraction finished (from the cache or the extractor).
    ChunkExtracted { doc_id: String },
    /// A document reached its final status.
    Finished {
        doc_id: String,
        status: DocStatus,
        error: Option<String>,
    },
}

/// Receives progress events.
pub trait Progress: Send + Sync {
    fn event(&self, ev: ProgressEvent);
}

/// Ignores progress.
pub struct NoProgress;
impl Progress for NoProgress {
    fn event(&self, _: ProgressEvent) {}
}

/// The outcome of a processing run.
#[derive(Debug, Default, Clone)]
pub struct ProcessReport {
    pub processed: Vec<String>,
    pub failed: Vec<(String, String)>,
    pub chunks: usize,
    pub entities: usize,
    pub relations: usize,
    /// Chunks whose extraction came from the cache.
    pub extraction_cache_hits: usize,
    /// Documents whose lease ran out while this run worked on them (another process took
    /// them over and reports them).
    pub lost: Vec<String>,
}

/// Tells the coordinator that a lease's task was dropped, or ended without giving the lease
/// up (see [`Coordinator::abandon`]), unless disarmed.
struct Abandon<'a> {
    coordinator: &'a dyn Coordinator,
    lease: &'a DocLease,
    armed: bool,
}

impl Drop for Abandon<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.coordinator.abandon(self.lease);
        }
    }
}

struct DocOutcome {
    chunks: usize,
    cache_hits: usize,
    merged: MergeStats,
}

impl Rag {
    /// Processes every document that needs work ([`crate::coordination::needs_work`]):
    /// pending ones, interrupted ones (`processing` under no live lease) and failed ones a
    /// retry can fix, at most `MAX_PARALLEL_INSERT` at once. Each document is claimed under a
    /// lease first, so processes sharing the stores never work on one document together; a
    /// slot that frees claims the next document, so documents enqueued meanwhile (here or
    /// elsewhere) are taken in the same run.
    pub async fn process_pending(&self, progress: Arc<dyn Progress>) -> Result<ProcessReport> {
        let coordinator = self.stores.coordinator.clone();
        let ttl = self.cfg.document_lease_ttl;
        // Nothing to claim (all done, or leased by other processes): a quiet, empty run.
        let first = coordinator
            .claim(self.cfg.max_parallel_insert, ttl, &[])
            .await?;
        if first.is_empty() {
            return Ok(ProcessReport::default());
        }
        // Documents waiting now, from the counts (some may be leased by other processes).
        let counts = self.stores.doc_status.counts().await?;
        let waiting = [DocStatus::Pending, DocStatus::Processing]
            .iter()
            .map(|s| counts.get(s).copied().unwrap_or(0))
            .sum::<usize>()
            .max(first.len());
        progress.event(ProgressEvent::Started { documents: waiting });
        let mut report = ProcessReport::default();
        let mut running = FuturesUnordered::new();
        let mut claimed = Some(first);
        let mut failed_here: Vec<String> = Vec::new();
        loop {
            // A slot that frees claims again: documents enqueued meanwhile join this run.
            let free = self.cfg.max_parallel_insert.saturating_sub(running.len());
            if free > 0 {
                let claim = match claimed.take() {
                    Some(first) => Ok(first),
                    None => coordinator.claim(free, ttl, &failed_here).await,
                };
                match claim {
                    Ok(leases) => {
                        for lease in leases {
                            progress.event(ProgressEvent::Claimed {
                                doc_id: lease.doc_id.clone(),
                                taken_over: lease.taken_over,
                            });
                            let progress = progress.clone();
                            running.push(async move {
                                let r = self.process_leased(&lease, progress.as_ref()).await;
                                (lease, r)
                            });
                        }
                    }
                    // The run reports what it did; the next run claims again.
                    Err(e) => {
                        tracing::warn!("cannot claim documents: {e}");
                        if running.is_empty() {
                            break;
                        }
                    }
                }
            }
            let Some((lease, r)) = running.next().await else {
                break;
            };
            let id = lease.doc_id.clone();
            match r {
                Ok(o) => {
                    tracing::info!(doc_id = %id, chunks = o.chunks, "document processed");
                    report.chunks += o.chunks;
                    report.entities += o.merged.entities;
                    report.relations += o.merged.relations;
                    report.extraction_cache_hits += o.cache_hits;
                    progress.event(ProgressEvent::Finished {
                        doc_id: id.clone(),
                        status: DocStatus::Processed,
                        error: None,
                    });
                    report.processed.push(id);
                }
                Err(Error::LeaseLost(msg)) => {
                    // Another process owns the document now; it reports the outcome.
                    tracing::warn!(doc_id = %id, "stopped: {msg}");
                    progress.event(ProgressEvent::LeaseLost { doc_id: id.clone() });
                    report.lost.push(id);
                }
                Err(e) => {
                    let msg = e.to_string();
                    // Each document is tried once per run: a failure a retry can fix (marked
                    // so) waits for the next run instead of being claimed again at once.
                    failed_here.push(id.clone());
                    progress.event(ProgressEvent::Finished {
                        doc_id: id.clone(),
                        status: DocStatus::Failed,
                        error: Some(msg.clone()),
                    });
                    report.failed.push((id, msg));
                }
            }
        }
        Ok(report)
    }

    /// Processes one claimed document while a heartbeat renews its lease; stops (dropping
    /// the work, as a crash would) when the lease is lost.
    async fn process_leased(
        &self,
        lease: &DocLease,
        progress: &dyn Progress,
    ) -> Result<DocOutcome> {
        // Dropped with this future (a cancelled run): the lease can be claimed again here.
        let mut abandon = Abandon {
            coordinator: self.stores.coordinator.as_ref(),
            lease,
            armed: true,
        };
        let work = self.process_document(lease, progress);
        let beat = self.heartbeat(lease);
        let r = tokio::select! {
            r = work => r,
            e = beat => Err(e),
        };
        // Done, or lost to another process: nothing of ours to give up.
        abandon.armed = false;
        if let Err(e) = &r {
            if !matches!(e, Error::LeaseLost(_)) {
                let msg = e.to_string();
                tracing::warn!(doc_id = %lease.doc_id, "document failed: {msg}");
                // Record the failure; if even that fails the document stays resumable, and
                // this process may take it again at once.
                if let Err(e2) = self.mark_failed(lease, &msg, e.is_retryable()).await {
                    tracing::error!(doc_id = %lease.doc_id, "cannot record failure: {e2}");
                    if self.stores.coordinator.release(lease).await.is_err() {
                        abandon.armed = true;
                    }
                }
            }
        }
        r
    }

    /// Renews `lease` every third of its time to live; returns when it is lost: refused by
    /// the coordinator, or not renewed (the database unreachable) before it ran out.
    async fn heartbeat(&self, lease: &DocLease) -> Error {
        let ttl = self.cfg.document_lease_ttl;
        let mut held_until = tokio::time::Instant::now() + ttl;
        loop {
            tokio::time::sleep(ttl / 3).await;
            match self.stores.coordinator.renew(lease, ttl).await {
                Ok(true) => held_until = tokio::time::Instant::now() + ttl,
                Ok(false) => break,
                Err(e) => {
                    tracing::warn!(doc_id = %lease.doc_id, "cannot renew the lease: {e}");
                    if tokio::time::Instant::now() + ttl / 3 >= held_until {
                        break;
                    }
                }
            }
        }
        Error::LeaseLost(format!(
            "the lease of document {} (token {}) ran out or was taken over",
            lease.doc_id, lease.token
        ))
    }

    /// Fails unless `lease` is still held with a third of its time left: checked before each
    /// write of the document's data, so a process whose lease lapsed stops writing.
    pub(crate) async fn fence(&self, lease: &DocLease) -> Result<()> {
        let margin = self.cfg.document_lease_ttl / 3;
        if self.stores.coordinator.holds(lease, margin).await? {
            Ok(())
        } else {
            Err(Error::LeaseLost(format!(
                "document {} (token {}) is no longer leased here",
                lease.doc_id, lease.token
            )))
        }
    }

    /// Records a failure under the lease and gives the lease up; a `retryable` one (a
    /// storage backend unavailable) is taken up again by the next run.
    async fn mark_failed(&self, lease: &DocLease, msg: &str, retryable: bool) -> Result<()> {
        let Some(mut row) = self.stores.doc_status.get(&lease.doc_id).await? else {
            return self.stores.coordinator.release(lease).await;
        };
        row.status = DocStatus::Failed;
        row.error_msg = Some(msg.to_string());
        row.updated_at = now_iso();
        if retryable {
            row.metadata.insert(RETRY_FLAG.into(), Value::Bool(true));
        } else {
            row.metadata.remove(RETRY_FLAG);
        }
        self.stores.coordinator.write_status(lease, row, true).await
    }

    async fn process_document(
        &self,
        lease: &DocLease,
        progress: &dyn Progress,
    ) -> Result<DocOutcome> {
        let id = lease.doc_id.as_str();
        let full = self
            .stores
            .kv
            .get(Namespace::FullDocs, id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("the text of document {id} is missing")))?;
        let full: FullDoc = serde_json::from_value(full)
            .map_err(|e| Error::storage(format!("full_docs row {id} is unreadable: {e}")))?;
        let mut row = self
            .stores
            .doc_status
            .get(id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("document {id} has no status row")))?;

        // Stage 1: chunks, and the status that lists them.
        let raw = self.timings.time(Stage::Chunking, || {
            let mut raw = chunk_text(self.tokenizer.as_ref(), &full.content, &self.cfg.chunking)?;
            crate::locations::anchor_chunks(&full.content, &mut raw, self.tokenizer.as_ref());
            Ok::<_, Error>(raw)
        })?;
        let old_chunks = std::mem::take(&mut row.chunks_list);
        let mut chunks: Vec<Chunk> = raw
            .into_iter()
            .map(|c| Chunk {
                id: chunk_id(id, c.chunk_order_index),
                content: c.content,
                tokens: c.tokens,
                chunk_order_index: c.chunk_order_index,
                full_doc_id: id.to_string(),
                file_path: full.file_path.clone(),
                llm_cache_list: vec![],
            })
            .collect();
        let new_ids: Vec<String> = chunks.iter().map(|c| c.id.clone()).collect();
        let stale: Vec<String> = old_chunks
            .into_iter()
            .filter(|c| !new_ids.contains(c))
            .collect();
        self.fence(lease).await?;
        if !stale.is_empty() {
            self.stores.chunks_vdb.delete(&stale).await?;
            self.stores.kv.delete(Namespace::TextChunks, &stale).await?;
        }
        row.status = DocStatus::Processing;
        row.metadata.remove(RETRY_FLAG);
        row.chunks_count = chunks.len();
        row.chunks_list = new_ids;
        row.error_msg = None;
        row.updated_at = now_iso();
        row.metadata
            .insert("process_start_time".into(), json!(now_epoch()));
        self.stores
            .coordinator
            .write_status(lease, row.clone(), false)
            .await?;
        progress.event(ProgressEvent::Chunked {
            doc_id: id.to_string(),
            chunks: chunks.len(),
        });

        // Stage 2: chunk rows and chunk vectors.
        let extractor_id = self.extractor.identity();
        for c in &mut chunks {
            c.llm_cache_list = vec![extraction_cache_key(&extractor_id, &c.content)];
        }
        let rows: Vec<(String, Value)> = chunks
            .iter()
            .map(|c| {
                Ok((
                    c.id.clone(),
                    serde_json::to_value(c).map_err(Error::storage)?,
                ))
            })
            .collect::<Result<_>>()?;
        self.fence(lease).await?;
        let write = self.stores.kv.upsert(Namespace::TextChunks, rows);
        self.timings.time_async(Stage::StoreWrites, write).await?;
        self.index_chunks(&chunks).await?;

        // Stage 3: extraction, each chunk's result committed as soon as it is known.
        let extractor_id = extractor_id.as_str();
        // By index, not by `&Chunk`: a closure taking a reference makes the whole future
        // lose `Send` (a known limit of the compiler with higher-ranked closures).
        let chunk_list = &chunks;
        let results: Vec<Result<(ChunkExtraction, bool)>> = stream::iter(0..chunks.len())
            .map(|i| async move {
                let r = self.extract_cached(&chunk_list[i], extractor_id).await;
                progress.event(ProgressEvent::ChunkExtracted {
                    doc_id: id.to_string(),
                });
                r
            })
            .buffered(self.cfg.max_async)
            .collect()
            .await;
        let mut extractions = Vec::with_capacity(results.len());
        let mut errors = Vec::new();
        let mut cache_hits = 0;
        for (c, r) in chunks.iter().zip(results) {
            match r {
                Ok((ex, hit)) => {
                    cache_hits += usize::from(hit);
                    extractions.push(ex);
                }
                Err(e) => errors.push(format!("{}: {e}", c.id)),
            }
        }
        if !errors.is_empty() {
            return Err(Error::Extraction(format!(
                "{} of {} chunks failed: {}",
                errors.len(),
                chunks.len(),
                errors.join("; ")
            )));
        }

        // Stage 4: merge into the graph (in the writer's order), then write the vectors.
        let grouped = group(&extractions);
        let merged = self.merge_document(lease, &grouped).await?;

        // Stage 5: only now is the document processed.
        row.status = DocStatus::Processed;
        row.updated_at = now_iso();
        row.metadata
            .insert("process_end_time".into(), json!(now_epoch()));
        self.stores
            .coordinator
            .write_status(lease, row, true)
            .await?;
        self.knowledge_changed().await;
        Ok(DocOutcome {
            chunks: chunks.len(),
            cache_hits,
            merged,
        })
    }

    /// The extraction of one chunk: from the cache when this extractor already saw this text.
    async fn extract_cached(
        &self,
        chunk: &Chunk,
        extractor_id: &str,
    ) -> Result<(ChunkExtraction, bool)> {
        let key = extraction_cache_key(extractor_id, &chunk.content);
        if self.cfg.enable_llm_cache_for_extract {
            if let Some(cached) = self
                .stores
                .kv
                .get(Namespace::LlmResponseCache, &key)
                .await?
            {
                if let Some(ex) = cached_extraction(&cached, chunk) {
                    return Ok((ex, true));
                }
            }
        }
        let ex = self
            .timings
            .time_async(Stage::Extraction, self.extractor.extract(chunk))
            .await?;
        let record = json!({
            "return": serde_json::to_string(&ex).map_err(Error::storage)?,
            "cache_type": "extract",
            "chunk_id": chunk.id,
            "original_prompt": "",
            "extractor": extractor_id,
        });
        self.stores
            .kv
            .upsert(Namespace::LlmResponseCache, vec![(key, record)])
            .await?;
        Ok((ex, false))
    }
}

/// `default:extract:<hash>` of the extractor identity and the chunk text: the same text seen by
/// the same extractor is never extracted twice, whatever document or chunk number it has.
pub(crate) fn extraction_cache_key(extractor_id: &str, content: &str) -> String {
    format!(
        "default:extract:{}",
        args_hash(&[content, "\n<llm_identity>\n", extractor_id])
    )
}

/// A cached extraction re-attributed to `chunk` (the same text may sit in another chunk).
pub(crate) fn cached_extraction(cached: &Value, chunk: &Chunk) -> Option<ChunkExtraction> {
    let text = cached.get("return")?.as_str()?;
    let mut ex: ChunkExtraction = serde_json::from_str(text).ok()?;
    for e in &mut ex.entities {
        e.source_id = chunk.id.clone();
        e.file_path = chunk.file_path.clone();
    }
    for r in &mut ex.relations {
        r.source_id = chunk.id.clone();
        r.file_path = chunk.file_path.clone();
    }
    Some(ex)
}

/// The server runs `process_pending` on its own tasks, which need a `Send` future.
#[allow(dead_code)]
fn process_pending_is_send(rag: &Rag) {
    fn assert_send<T: Send>(_: &T) {}
    let run = rag.process_pending(std::sync::Arc::new(NoProgress));
    assert_send(&run);
}
