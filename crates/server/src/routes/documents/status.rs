//! Where documents are: paginated lists, counts, a track id's documents, the pipeline.

use axum::extract::Path;
use axum::Json;
use lightrag_core::ports::{DocPageRequest, DocSort};
use lightrag_core::types::{DocStatus, DocStatusRecord};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Ws};
use crate::workspace::Workspace;

/// LightRAG's statuses; ours are a subset, the others always count 0.
const LIGHTRAG_STATUSES: [&str; 7] = [
    "pending",
    "parsing",
    "analyzing",
    "processing",
    "preprocessed",
    "processed",
    "failed",
];

/// LightRAG's `DocStatusResponse`.
pub fn doc_json(id: &str, r: &DocStatusRecord) -> Value {
    json!({
        "id": id,
        "content_summary": r.content_summary,
        "content_length": r.content_length,
        "status": r.status.as_str(),
        "created_at": r.created_at,
        "updated_at": r.updated_at,
        "track_id": r.track_id,
        "chunks_count": r.chunks_count,
        "error_msg": r.error_msg,
        "metadata": r.metadata,
        "file_path": if r.file_path.is_empty() { "unknown_source" } else { r.file_path.as_str() },
    })
}

async fn counts_json(ws: &Workspace) -> ApiResult<Value> {
    let counts = ws.rag.stores().doc_status.counts().await?;
    let mut m = serde_json::Map::new();
    let mut all = 0;
    for name in LIGHTRAG_STATUSES {
        let n = name
            .parse::<DocStatus>()
            .ok()
            .and_then(|s| counts.get(&s).copied())
            .unwrap_or(0);
        all += n;
        m.insert(name.into(), json!(n));
    }
    m.insert("all".into(), json!(all));
    Ok(Value::Object(m))
}

/// `GET /documents/status_counts`.
#[utoipa::path(get, path = "/documents/status_counts", tag = "documents", responses((status = 200, description = "Documents per status")))]
pub async fn status_counts(Ws(ws): Ws) -> ApiResult<Json<Value>> {
    Ok(Json(json!({"status_counts": counts_json(&ws).await?})))
}

fn default_page() -> usize {
    1
}
fn default_page_size() -> usize {
    50
}
fn default_sort() -> String {
    "updated_at".into()
}
fn default_dir() -> String {
    "desc".into()
}

/// `POST /documents/paginated` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PageRequest {
    #[serde(default)]
    pub status_filter: Option<String>,
    #[serde(default)]
    pub status_filters: Option<Vec<String>>,
    #[serde(default = "default_page")]
    pub page: usize,
    #[serde(default = "default_page_size")]
    pub page_size: usize,
    #[serde(default = "default_sort")]
    pub sort_field: String,
    #[serde(default = "default_dir")]
    pub sort_direction: String,
}

/// Statuses asked for; LightRAG-only statuses match nothing here.
fn wanted(req: &PageRequest) -> ApiResult<Option<Vec<DocStatus>>> {
    let mut names: Vec<&str> = Vec::new();
    if let Some(s) = &req.status_filter {
        names.push(s);
    }
    if let Some(list) = &req.status_filters {
        names.extend(list.iter().map(String::as_str));
    }
    if names.is_empty() {
        return Ok(None);
    }
    let mut out = Vec::new();
    for n in names {
        let n = n.to_ascii_lowercase();
        if !LIGHTRAG_STATUSES.contains(&n.as_str()) {
            return Err(ApiError::Unprocessable(format!("unknown status '{n}'")));
        }
        if let Ok(s) = n.parse::<DocStatus>() {
            out.push(s);
        }
    }
    Ok(Some(out))
}

/// `POST /documents/paginated`.
#[utoipa::path(post, path = "/documents/paginated", tag = "documents", request_body = PageRequest, responses((status = 200, description = "One page of document statuses")))]
pub async fn paginated(Ws(ws): Ws, ApiJson(req): ApiJson<PageRequest>) -> ApiResult<Json<Value>> {
    if req.page < 1 {
        return Err(ApiError::Unprocessable("page must be at least 1".into()));
    }
    if !(10..=200).contains(&req.page_size) {
        return Err(ApiError::Unprocessable(
            "page_size must be between 10 and 200".into(),
        ));
    }
    let descending = match req.sort_direction.to_ascii_lowercase().as_str() {
        "desc" => true,
        "asc" => false,
        _ => {
            return Err(ApiError::Unprocessable(
                "sort_direction must be asc or desc".into(),
            ))
        }
    };
    let sort = match req.sort_field.as_str() {
        "updated_at" => DocSort::UpdatedAt,
        "created_at" => DocSort::CreatedAt,
        "id" => DocSort::Id,
        "file_path" => DocSort::FilePath,
        _ => {
            return Err(ApiError::Unprocessable(
                "sort_field must be updated_at, created_at, id or file_path".into(),
            ))
        }
    };
    let statuses = wanted(&req)?.unwrap_or_else(|| DocStatus::ALL.to_vec());
    let page = ws
        .rag
        .document_page(&DocPageRequest {
            statuses,
            sort,
            descending,
            offset: (req.page - 1).saturating_mul(req.page_size),
            limit: req.page_size,
        })
        .await?;
    let pages = page.total.div_ceil(req.page_size).max(1);
    let docs: Vec<Value> = page.rows.iter().map(|(id, r)| doc_json(id, r)).collect();
    Ok(Json(json!({
        "documents": docs,
        "pagination": {
            "page": req.page,
            "page_size": req.page_size,
            "total_count": page.total,
            "total_pages": pages,
            "has_next": req.page < pages,
            "has_prev": req.page > 1,
        },
        "status_counts": counts_json(&ws).await?,
    })))
}

/// `GET /documents/track_status/{track_id}`.
#[utoipa::path(get, path = "/documents/track_status/{track_id}", tag = "documents", params(("track_id" = String, Path, description = "Track id returned by an insert")), responses((status = 200, description = "Documents of a track id")))]
pub async fn track_status(Ws(ws): Ws, Path(track_id): Path<String>) -> ApiResult<Json<Value>> {
    let track_id = track_id.trim().to_string();
    if track_id.is_empty() {
        return Err(ApiError::BadRequest("track_id must not be empty".into()));
    }
    let (rows, summary) = ws.rag.track(&track_id).await?;
    let docs: Vec<Value> = rows.iter().map(|(id, r)| doc_json(id, r)).collect();
    Ok(Json(json!({
        "track_id": track_id,
        "documents": docs,
        "total_count": docs.len(),
        "status_summary": summary,
    })))
}

/// `GET /documents/pipeline_status`.
#[utoipa::path(get, path = "/documents/pipeline_status", tag = "documents", responses((status = 200, description = "What the background pipeline does")))]
pub async fn pipeline_status(Ws(ws): Ws) -> Json<Value> {
    Json(ws.pipeline_status().await)
}
