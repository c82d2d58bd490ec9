//! Enqueueing: a document gets its stable identity (its key), unchanged re-inserts are no-ops,
//! a changed document replaces its older version, and identical content under another key is
//! recorded as a duplicate.

use serde_json::{json, Map, Value};

use crate::engine::Rag;
use crate::error::{Error, Result};
use crate::ids::{doc_id, md5_hex};
use crate::ports::Namespace;
use crate::types::{now_iso, DocStatus, DocStatusRecord, FullDoc};

/// A document to insert: its key (a file path relative to what was inserted, or a caller key)
/// and its text.
#[derive(Debug, Clone)]
pub struct NewDocument {
    pub key: String,
    pub content: String,
}

/// What enqueueing did with one document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnqueueOutcome {
    /// New: now pending.
    Added { doc_id: String },
    /// Same key, same content, already processed: nothing to do.
    Unchanged { doc_id: String },
    /// Same key, same content, not yet processed (or failed): pending again.
    Requeued { doc_id: String },
    /// Same key, new content: the old version's contributions were removed; now pending.
    Replaced { doc_id: String },
    /// The same content exists under another key; recorded as a failed `dup-` row.
    Duplicate { doc_id: String, original: String },
}

/// The first 250 characters of the stripped body, as LightRAG's `content_summary`.
fn summary(content: &str) -> String {
    let mut s: String = content.chars().take(250).collect();
    if content.chars().count() > 250 {
        s.push_str("...");
    }
    s
}

/// The id of the failed row that records `key` as a duplicate of other content: one per key
/// and content, so inserting (or scanning) the same duplicate again updates that row instead of
/// adding another.
pub fn duplicate_row_id(key: &str, content: &str) -> String {
    format!(
        "dup-{}",
        md5_hex(&format!("{}-{}", doc_id(key), md5_hex(content.trim())))
    )
}

/// `metadata.error_type` of a document whose file could not be read as text (LightRAG's
/// value). Such a row has no text behind it: only inserting the file again can fix it.
pub const FILE_EXTRACTION_ERROR: &str = "file_extraction_error";

/// Whether a status row records a file whose text could not be extracted.
pub fn is_extraction_failure(r: &DocStatusRecord) -> bool {
    r.metadata.get("error_type").and_then(Value::as_str) == Some(FILE_EXTRACTION_ERROR)
}

impl Rag {
    /// Records a file whose text could not be extracted as a failed document under its own
    /// key, so the status lists it with the reason (LightRAG's `[File Extraction]` rows).
    /// Inserting the fixed file later replaces the row. A document already stored under the
    /// key (an earlier, readable version) is kept, and `false` returned.
    pub async fn record_extraction_failure(
        &self,
        key: &str,
        reason: &str,
        file_bytes: u64,
        track_id: &str,
    ) -> Result<bool> {
        let id = doc_id(key);
        let _held = self
            .stores
            .coordinator
            .lock_documents(std::slice::from_ref(&id))
            .await?;
        let store = &self.stores.doc_status;
        if let Some(existing) = store.get(&id).await? {
            if !is_extraction_failure(&existing) {
                return Ok(false);
            }
        }
        let mut metadata = Map::new();
        metadata.insert("error_type".into(), json!(FILE_EXTRACTION_ERROR));
        let now = now_iso();
        let row = DocStatusRecord {
            content_summary: summary(&format!("[File Extraction]{reason}")),
            content_length: file_bytes as usize,
            file_path: key.to_string(),
            status: DocStatus::Failed,
            created_at: now.clone(),
            updated_at: now,
            track_id: track_id.to_string(),
            chunks_count: 0,
            chunks_list: vec![],
            error_msg: Some(reason.to_string()),
            metadata,
            content_hash: None,
        };
        store.upsert(vec![(id, row)]).await?;
        Ok(true)
    }

    /// Registers documents for processing. Processing happens in [`Rag::process_pending`].
    pub async fn enqueue(
        &self,
        docs: Vec<NewDocument>,
        track_id: &str,
    ) -> Result<Vec<EnqueueOutcome>> {
        let mut out = Vec::with_capacity(docs.len());
        for doc in docs {
            out.push(self.enqueue_one(doc, track_id).await?);
        }
        Ok(out)
    }

    async fn enqueue_one(&self, doc: NewDocument, track_id: &str) -> Result<EnqueueOutcome> {
        let content = doc.content.trim().to_string();
        if content.is_empty() {
            return Err(Error::InvalidInput(format!(
                "{}: the document is empty",
                doc.key
            )));
        }
        let id = doc_id(&doc.key);
        let hash = md5_hex(&content);
        // Decided under the id and the content: two processes inserting one document (or one
        // content under two keys) at once see each other's rows.
        let _held = self
            .stores
            .coordinator
            .lock_documents(&[id.clone(), format!("content:{hash}")])
            .await?;
        let store = &self.stores.doc_status;
        let mut replaced = false;
        if let Some(existing) = store.get(&id).await? {
            if existing.content_hash.as_deref() == Some(hash.as_str()) {
                if existing.status == DocStatus::Processed {
                    return Ok(EnqueueOutcome::Unchanged { doc_id: id });
                }
                let mut row = existing;
                row.status = DocStatus::Pending;
                row.error_msg = None;
                row.updated_at = now_iso();
                store.upsert(vec![(id.clone(), row)]).await?;
                return Ok(EnqueueOutcome::Requeued { doc_id: id });
            }
            if is_extraction_failure(&existing) {
                // The file could not be read before; it holds nothing to remove.
                store.delete(std::slice::from_ref(&id)).await?;
            } else {
                self.delete_document(&id).await?;
                replaced = true;
            }
        }
        if let Some((original, orig_row)) = store.find_by_content_hash(&hash, Some(&id)).await? {
            let dup_id = duplicate_row_id(&doc.key, &content);
            let mut metadata = Map::new();
            metadata.insert("is_duplicate".into(), Value::Bool(true));
            metadata.insert("duplicate_kind".into(), json!("content_hash"));
            metadata.insert("original_doc_id".into(), json!(original));
            metadata.insert("original_track_id".into(), json!(orig_row.track_id));
            let now = now_iso();
            let row = DocStatusRecord {
                content_summary: format!("[DUPLICATE:content_hash] Original document: {original}"),
                content_length: content.chars().count(),
                file_path: doc.key.clone(),
                status: DocStatus::Failed,
                created_at: now.clone(),
                updated_at: now,
                track_id: track_id.to_string(),
                chunks_count: 0,
                chunks_list: vec![],
                error_msg: Some(format!(
                    "Identical content already exists under another filename. Original doc_id: {original}, Status: {}",
                    orig_row.status
                )),
                metadata,
                content_hash: Some(hash),
            };
            store.upsert(vec![(dup_id.clone(), row)]).await?;
            return Ok(EnqueueOutcome::Duplicate {
                doc_id: dup_id,
                original,
            });
        }
        let full = FullDoc {
            content: content.clone(),
            file_path: doc.key.clone(),
            content_hash: Some(hash.clone()),
        };
        let full = serde_json::to_value(&full).map_err(Error::storage)?;
        self.stores
            .kv
            .upsert(Namespace::FullDocs, vec![(id.clone(), full)])
            .await?;
        let now = now_iso();
        let row = DocStatusRecord {
            content_summary: summary(&content),
            content_length: content.chars().count(),
            file_path: doc.key,
            status: DocStatus::Pending,
            created_at: now.clone(),
            updated_at: now,
            track_id: track_id.to_string(),
            chunks_count: 0,
            chunks_list: vec![],
            error_msg: None,
            metadata: Map::new(),
            content_hash: Some(hash),
        };
        store.upsert(vec![(id.clone(), row)]).await?;
        Ok(if replaced {
            EnqueueOutcome::Replaced { doc_id: id }
        } else {
            EnqueueOutcome::Added { doc_id: id }
        })
    }
}
