//! Processing: pending and interrupted documents go through chunking, chunk embedding,
//! per-chunk extraction (each result committed as it finishes), graph merge and entity/relation
//! embedding; only then is a document `processed`. A failure fails that document alone.

use std::sync::Arc;

use futures::stream::{self, StreamExt};
use serde_json::{json, Value};

use crate::chunker::chunk_text;
use crate::engine::Rag;
use crate::error::{Error, Result};
use crate::ids::{args_hash, chunk_id};
use crate::merge::apply::{group, MergeStats};
use crate::ports::Namespace;
use crate::timings::Stage;
use crate::types::{now_epoch, now_iso, Chunk, ChunkExtraction, DocStatus, FullDoc};

/// Something the pipeline reports while it works (drives a progress bar or an API status).
#[derive(Debug, Clone)]
pub enum ProgressEvent {
    /// The run will process this many documents.
    Started { documents: usize },
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
}

/// Metadata flag of a failed document the next run retries by itself.
const RETRYABLE: &str = "retry_on_next_run";

struct DocOutcome {
    chunks: usize,
    cache_hits: usize,
    merged: MergeStats,
}

impl Rag {
    /// Processes every `pending` document and resumes every `processing` one (an interrupted
    /// run) and every `failed` one whose failure a retry can fix (a database that was down),
    /// at most `MAX_PARALLEL_INSERT` at once.
    pub async fn process_pending(&self, progress: Arc<dyn Progress>) -> Result<ProcessReport> {
        let rows = self
            .stores
            .doc_status
            .by_statuses(&[DocStatus::Processing, DocStatus::Pending, DocStatus::Failed])
            .await?;
        let ids: Vec<String> = rows
            .into_iter()
            .filter(|(_, r)| r.metadata.get("is_duplicate") != Some(&Value::Bool(true)))
            .filter(|(_, r)| {
                r.status != DocStatus::Failed
                    || r.metadata.get(RETRYABLE) == Some(&Value::Bool(true))
            })
            .map(|(id, _)| id)
            .collect();
        progress.event(ProgressEvent::Started {
            documents: ids.len(),
        });
        let mut report = ProcessReport::default();
        let mut runs = stream::iter(ids)
            .map(|id| {
                let progress = progress.clone();
                async move {
                    let r = self.process_document(&id, progress.as_ref()).await;
                    (id, r)
                }
            })
            .buffer_unordered(self.cfg.max_parallel_insert);
        // Each document is reported the moment it ends.
        while let Some((id, r)) = runs.next().await {
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
                Err(e) => {
                    let msg = e.to_string();
                    tracing::warn!(doc_id = %id, "document failed: {msg}");
                    // Record the failure; if even that fails the document stays resumable.
                    if let Err(e2) = self.mark_failed(&id, &msg, e.is_retryable()).await {
                        tracing::error!(doc_id = %id, "cannot record failure: {e2}");
                    }
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

    /// Records a failure; a `retryable` one (a storage backend unavailable) is taken up again
    /// by the next run.
    async fn mark_failed(&self, id: &str, msg: &str, retryable: bool) -> Result<()> {
        if let Some(mut row) = self.stores.doc_status.get(id).await? {
            row.status = DocStatus::Failed;
            row.error_msg = Some(msg.to_string());
            row.updated_at = now_iso();
            if retryable {
                row.metadata.insert(RETRYABLE.into(), Value::Bool(true));
            } else {
                row.metadata.remove(RETRYABLE);
            }
            self.stores
                .doc_status
                .upsert(vec![(id.to_string(), row)])
                .await?;
        }
        Ok(())
    }

    async fn process_document(&self, id: &str, progress: &dyn Progress) -> Result<DocOutcome> {
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
            chunk_text(self.tokenizer.as_ref(), &full.content, &self.cfg.chunking)
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
        if !stale.is_empty() {
            self.stores.chunks_vdb.delete(&stale).await?;
            self.stores.kv.delete(Namespace::TextChunks, &stale).await?;
        }
        row.status = DocStatus::Processing;
        row.metadata.remove(RETRYABLE);
        row.chunks_count = chunks.len();
        row.chunks_list = new_ids;
        row.error_msg = None;
        row.updated_at = now_iso();
        row.metadata
            .insert("process_start_time".into(), json!(now_epoch()));
        self.stores
            .doc_status
            .upsert(vec![(id.to_string(), row.clone())])
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
        let merged = self.merge_document(id, &grouped).await?;

        // Stage 5: only now is the document processed.
        row.status = DocStatus::Processed;
        row.updated_at = now_iso();
        row.metadata
            .insert("process_end_time".into(), json!(now_epoch()));
        self.stores
            .doc_status
            .upsert(vec![(id.to_string(), row)])
            .await?;
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
