//! Maintenance: delete documents, clear everything, clear the LLM cache, retry failures.
//! Deletions run as the workspace's exclusive background job, as in LightRAG.

use std::sync::Arc;

use axum::Json;
use lightrag_core::ports::Namespace;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Ws};
use crate::workspace::Workspace;

/// `DELETE /documents/delete_document` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct DeleteRequest {
    pub doc_ids: Vec<String>,
    #[serde(default)]
    pub delete_file: bool,
    /// Accepted for compatibility; cached extraction results are kept, because other
    /// documents with the same chunk text share them.
    #[serde(default, rename = "delete_llm_cache")]
    pub _delete_llm_cache: bool,
}

/// `DELETE /documents/delete_document`: starts a background deletion.
#[utoipa::path(delete, path = "/documents/delete_document", tag = "documents", request_body = DeleteRequest, responses((status = 200, description = "Deletion started in the background")))]
pub async fn delete_documents(
    Ws(ws): Ws,
    ApiJson(req): ApiJson<DeleteRequest>,
) -> ApiResult<Json<Value>> {
    let mut ids: Vec<String> = Vec::new();
    for id in req.doc_ids {
        let id = id.trim().to_string();
        if id.is_empty() {
            return Err(ApiError::Unprocessable(
                "doc_ids must not contain blanks".into(),
            ));
        }
        if ids.contains(&id) {
            return Err(ApiError::Unprocessable(format!(
                "doc id '{id}' is listed twice"
            )));
        }
        ids.push(id);
    }
    if ids.is_empty() {
        return Err(ApiError::Unprocessable("doc_ids must not be empty".into()));
    }
    let joined = ids.join(", ");
    let job_ws = ws.clone();
    let delete_file = req.delete_file;
    let job = Box::pin(async move { delete_job(job_ws, ids, delete_file).await });
    if ws.cluster_busy().await || !ws.try_exclusive("Deleting documents", job) {
        return Ok(Json(json!({
            "status": "busy",
            "message": "The pipeline is busy; try again when it is idle",
            "doc_id": joined,
        })));
    }
    Ok(Json(json!({
        "status": "deletion_started",
        "message": format!("Document deletion for '{joined}' has been initiated. Processing will continue in background."),
        "doc_id": joined,
    })))
}

async fn delete_job(ws: Arc<Workspace>, ids: Vec<String>, delete_file: bool) {
    for id in ids {
        let file = match ws.rag.stores().doc_status.get(&id).await {
            Ok(Some(r)) => Some(r.file_path),
            _ => None,
        };
        match ws.rag.delete_document(&id).await {
            Ok(r) => {
                ws.pipeline.log(format!(
                    "Deleted {id}: {} chunk(s), {} entities and {} relations removed",
                    r.chunks, r.entities_deleted, r.relations_deleted
                ));
                if delete_file {
                    if let Some(name) = file.filter(|f| super::safe_file_name(f).is_ok()) {
                        let _ = tokio::fs::remove_file(ws.input_dir.join(name)).await;
                    }
                }
            }
            Err(e) => ws.pipeline.log(format!("Cannot delete {id}: {e}")),
        }
        ws.cache.invalidate();
    }
}

/// Clears the workspace's knowledge base (the engine keeps the LLM cache, as LightRAG does)
/// and removes the regular files of its input folder; returns how many files went.
async fn clear_everything(ws: &Workspace) -> lightrag_core::Result<usize> {
    ws.rag.clear_workspace().await?;
    let mut files = 0;
    if let Ok(mut dir) = tokio::fs::read_dir(&ws.input_dir).await {
        while let Ok(Some(e)) = dir.next_entry().await {
            let is_file = e.file_type().await.map(|t| t.is_file()).unwrap_or(false);
            if is_file && tokio::fs::remove_file(e.path()).await.is_ok() {
                files += 1;
            }
        }
    }
    Ok(files)
}

/// `DELETE /documents`: clears the workspace, refused while a job runs.
#[utoipa::path(delete, path = "/documents", tag = "documents", responses((status = 200, description = "Everything of the workspace removed")))]
pub async fn clear_all(Ws(ws): Ws) -> ApiResult<Json<Value>> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let job_ws = ws.clone();
    let job = Box::pin(async move {
        let r = clear_everything(&job_ws).await;
        job_ws.cache.invalidate();
        let _ = tx.send(r);
    });
    if ws.cluster_busy().await || !ws.try_exclusive("Clearing documents", job) {
        return Ok(Json(json!({
            "status": "busy",
            "message": "Cannot clear documents while the pipeline is busy",
        })));
    }
    match rx.await {
        Ok(Ok(files)) => {
            ws.pipeline.log("All documents cleared");
            Ok(Json(json!({
                "status": "success",
                "message": format!("All documents cleared successfully. Deleted {files} files."),
            })))
        }
        Ok(Err(e)) => Err(ApiError::Engine(e)),
        Err(_) => Err(ApiError::Internal("the clear job stopped".into())),
    }
}

/// `POST /documents/clear_cache`: drops the LLM response cache (and the query cache).
#[utoipa::path(post, path = "/documents/clear_cache", tag = "documents", responses((status = 200, description = "LLM response cache cleared")))]
pub async fn clear_cache(Ws(ws): Ws) -> ApiResult<Json<Value>> {
    ws.rag
        .stores()
        .kv
        .clear(Namespace::LlmResponseCache)
        .await?;
    ws.cache.invalidate();
    Ok(Json(
        json!({"status": "success", "message": "Successfully cleared all cache"}),
    ))
}

/// `POST /documents/reprocess_failed`: failed documents (not duplicates) go back to pending.
#[utoipa::path(post, path = "/documents/reprocess_failed", tag = "documents", responses((status = 200, description = "Failed documents queued again")))]
pub async fn reprocess_failed(Ws(ws): Ws) -> ApiResult<Json<Value>> {
    let n = ws.rag.requeue_failed().await?;
    ws.process_in_background();
    Ok(Json(json!({
        "status": "reprocessing_started",
        "message": format!("Reprocessing of {n} failed document(s) has been initiated in background"),
        "track_id": "",
    })))
}

/// `POST /documents/cancel_pipeline`: stops the running processing job.
#[utoipa::path(post, path = "/documents/cancel_pipeline", tag = "documents", responses((status = 200, description = "Cancellation requested, or nothing to cancel")))]
pub async fn cancel_pipeline(Ws(ws): Ws) -> ApiResult<Json<Value>> {
    Ok(if ws.cancel_everywhere().await? {
        Json(json!({"status": "cancellation_requested",
                    "message": "Processing stops at its next step in every replica; documents in flight end failed, waiting ones stay pending"}))
    } else {
        Json(json!({"status": "not_busy", "message": "No documents are being processed"}))
    })
}

/// `POST /documents/recovery/force_reset` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ForceReset {
    #[serde(default)]
    pub confirm: bool,
}

/// `POST /documents/recovery/force_reset`: LightRAG fences a workspace after a crashed
/// destructive job; here every job's state is in the stores and resumes by itself, so there
/// is never a fence to lift.
#[utoipa::path(post, path = "/documents/recovery/force_reset", tag = "documents", request_body = ForceReset, responses((status = 200, description = "Nothing to reset"), (status = 400, description = "confirm is not true")))]
pub async fn force_reset(Ws(_ws): Ws, ApiJson(req): ApiJson<ForceReset>) -> ApiResult<Json<Value>> {
    if !req.confirm {
        return Err(ApiError::BadRequest(
            "set \"confirm\": true to reset".into(),
        ));
    }
    Ok(Json(json!({"status": "no_recovery_required",
        "message": "No recovery fence: interrupted work resumes from the stores by itself",
        "cancelled_manual_retries": 0})))
}
