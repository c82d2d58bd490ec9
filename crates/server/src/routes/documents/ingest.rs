//! Getting documents in: upload, one text, many texts, scanning the input folder. Each request
//! enqueues and returns; processing happens in the background.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use axum::extract::{Multipart, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use lightrag_core::ids::{doc_id, track_id};
use lightrag_core::pipeline::{
    duplicate_row_id, is_extraction_failure, EnqueueOutcome, NewDocument,
};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Ws};
use crate::file_text;
use crate::serve::AppState;
use crate::workspace::Workspace;

/// A file name that can only name a file directly inside the input folder: no separators,
/// no drive or stream colon, no control characters, not `.`/`..`, not hidden, at most 255 bytes.
pub fn safe_file_name(name: &str) -> Result<&str, String> {
    let bad = name.is_empty()
        || name.len() > 255
        || name == "."
        || name == ".."
        || name.starts_with('.')
        || name
            .chars()
            .any(|c| matches!(c, '/' | '\\' | ':' | '\0') || c.is_control());
    if bad {
        return Err(format!(
            "'{}' is not a safe file name: use a plain name without path separators",
            name.escape_default()
        ));
    }
    Ok(name)
}

/// Refuses a name that a document of this workspace already uses (LightRAG's 409). A file
/// whose text could not be extracted does not count: sending it again is how it gets fixed.
/// Returns whether such a failed file is being replaced.
async fn ensure_new(ws: &Workspace, key: &str) -> ApiResult<bool> {
    match ws.rag.stores().doc_status.get(&doc_id(key)).await? {
        Some(row) if is_extraction_failure(&row) => Ok(true),
        Some(_) => Err(ApiError::Conflict(format!(
            "A document named '{key}' already exists; delete it first to replace it"
        ))),
        None => Ok(false),
    }
}

/// LightRAG's admission control: with MAX_PENDING_DOCUMENTS set, inserts that would put more
/// documents in waiting or processing than that are refused with 429 (retry in 30 s).
async fn admit(ws: &Workspace, cap: usize, adding: usize) -> ApiResult<()> {
    if cap == 0 {
        return Ok(());
    }
    let active = ws.unfinished_documents().await?;
    if active + adding > cap {
        return Err(ApiError::TooManyRequests {
            message: format!(
                "{active} documents are waiting or being processed (MAX_PENDING_DOCUMENTS = {cap}); try again later"
            ),
            retry_after: 30,
        });
    }
    Ok(())
}

/// Enqueues and starts background processing; returns the outcomes.
async fn enqueue(
    ws: &Arc<Workspace>,
    docs: Vec<NewDocument>,
    track: &str,
) -> ApiResult<Vec<EnqueueOutcome>> {
    let n = docs.len();
    let out = ws.rag.enqueue(docs, track).await.map_err(|e| match e {
        lightrag_core::Error::InvalidInput(m) => ApiError::BadRequest(m),
        other => ApiError::Engine(other),
    })?;
    ws.pipeline
        .log(format!("Enqueued {n} document(s) with track id {track}"));
    ws.process_in_background();
    Ok(out)
}

fn insert_response(status: &str, message: String, track: &str) -> Json<Value> {
    Json(json!({"status": status, "message": message, "track_id": track}))
}

/// `POST /documents/upload`: multipart field `file`, saved in the workspace's input folder.
#[utoipa::path(post, path = "/documents/upload", tag = "documents", request_body(content = UploadForm, content_type = "multipart/form-data"), responses((status = 200, description = "Saved and enqueued, with a track id")))]
pub async fn upload(
    State(state): State<AppState>,
    Ws(ws): Ws,
    mut form: Multipart,
) -> ApiResult<Json<Value>> {
    let too_large = |e: axum::extract::multipart::MultipartError| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge("The file is larger than MAX_UPLOAD_SIZE".into())
        } else {
            ApiError::BadRequest(format!("bad multipart body: {e}"))
        }
    };
    while let Some(field) = form.next_field().await.map_err(too_large)? {
        if field.name() != Some("file") {
            continue;
        }
        let name = field
            .file_name()
            .ok_or_else(|| ApiError::BadRequest("the file has no name".into()))?
            .to_string();
        let name = safe_file_name(&name)
            .map_err(ApiError::BadRequest)?
            .to_string();
        if !file_text::is_supported(&name) {
            return Err(ApiError::BadRequest(format!(
                "Unsupported file type of '{name}'. Supported: {}",
                file_text::supported_extensions().join(", ")
            )));
        }
        let bytes = field.bytes().await.map_err(too_large)?;
        let replacing_failed = ensure_new(&ws, &name).await?;
        admit(&ws, state.cfg.max_pending_documents, 1).await?;
        tokio::fs::create_dir_all(&ws.input_dir)
            .await
            .map_err(|e| ApiError::Internal(format!("cannot create the input folder: {e}")))?;
        let path = ws.input_dir.join(&name);
        if replacing_failed {
            // The unreadable version's file; removing a link removes the link, not its target.
            let _ = tokio::fs::remove_file(&path).await;
        }
        save_new_file(&path, &bytes)
            .await
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::AlreadyExists => {
                    ApiError::Conflict(format!("File '{name}' already exists in the input folder"))
                }
                _ => ApiError::Internal(format!("cannot save the upload: {e}")),
            })?;
        let track = track_id("upload");
        let limits = file_text::parse_limits(ws.rag.config());
        let size = bytes.len() as u64;
        let text = match file_text::text_of(&name, bytes.to_vec(), &limits).await {
            Ok(text) => text,
            Err(reason) => {
                ws.rag
                    .record_extraction_failure(&name, &reason, size, &track)
                    .await?;
                ws.pipeline
                    .log(format!("File '{name}' could not be read: {reason}"));
                return Ok(insert_response(
                    "failure",
                    format!(
                        "File '{name}' was saved, but its text could not be extracted: {reason}"
                    ),
                    &track,
                ));
            }
        };
        enqueue(
            &ws,
            vec![NewDocument {
                key: name.clone(),
                content: text,
            }],
            &track,
        )
        .await?;
        return Ok(insert_response(
            "success",
            format!("File '{name}' uploaded successfully. Processing will continue in background."),
            &track,
        ));
    }
    Err(ApiError::Unprocessable(
        "the multipart field 'file' is missing".into(),
    ))
}

/// Creates `path` with `bytes`, never through a link and never over anything already there:
/// `O_CREAT|O_EXCL` fails on any existing entry, a dangling symlink included, so an upload
/// cannot write outside the input folder. A failed write leaves no partial file.
async fn save_new_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt;
    let mut opts = tokio::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    opts.custom_flags(libc::O_NOFOLLOW);
    let mut file = opts.open(path).await?;
    let written = async {
        file.write_all(bytes).await?;
        file.sync_all().await
    }
    .await;
    if let Err(e) = written {
        drop(file);
        let _ = tokio::fs::remove_file(path).await;
        return Err(e);
    }
    Ok(())
}

/// `POST /documents/upload` form (for the API description).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // Only describes the form; the handler reads it with Multipart.
pub struct UploadForm {
    /// The file; its name must be a plain file name with a supported extension.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
}

/// `POST /documents/text` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct InsertText {
    pub text: String,
    #[serde(default)]
    pub file_source: Option<String>,
}

/// `POST /documents/texts` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct InsertTexts {
    pub texts: Vec<String>,
    #[serde(default)]
    pub file_sources: Option<Vec<String>>,
}

/// The key a text is stored under: its `file_source` (a basename), or one derived from the
/// content when the client gave none.
fn text_key(text: &str, source: Option<&str>) -> ApiResult<String> {
    match source.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => {
            let base = s.rsplit(['/', '\\']).next().unwrap_or(s);
            Ok(safe_file_name(base)
                .map_err(ApiError::BadRequest)?
                .to_string())
        }
        None => Ok(format!(
            "text_{}.txt",
            &lightrag_core::ids::md5_hex(text.trim())[..16]
        )),
    }
}

/// `POST /documents/text`.
#[utoipa::path(post, path = "/documents/text", tag = "documents", request_body = InsertText, responses((status = 200, description = "Enqueued, with a track id")))]
pub async fn text(
    State(state): State<AppState>,
    Ws(ws): Ws,
    ApiJson(body): ApiJson<InsertText>,
) -> ApiResult<Json<Value>> {
    if body.text.trim().is_empty() {
        return Err(ApiError::Unprocessable("text must not be empty".into()));
    }
    let key = text_key(&body.text, body.file_source.as_deref())?;
    ensure_new(&ws, &key).await?;
    admit(&ws, state.cfg.max_pending_documents, 1).await?;
    let track = track_id("insert");
    enqueue(
        &ws,
        vec![NewDocument {
            key,
            content: body.text,
        }],
        &track,
    )
    .await?;
    Ok(insert_response(
        "success",
        "Text successfully received. Processing will continue in background.".into(),
        &track,
    ))
}

/// `POST /documents/texts`.
#[utoipa::path(post, path = "/documents/texts", tag = "documents", request_body = InsertTexts, responses((status = 200, description = "Enqueued, with a track id")))]
pub async fn texts(
    State(state): State<AppState>,
    Ws(ws): Ws,
    ApiJson(body): ApiJson<InsertTexts>,
) -> ApiResult<Json<Value>> {
    if body.texts.is_empty() || body.texts.iter().any(|t| t.trim().is_empty()) {
        return Err(ApiError::Unprocessable(
            "texts must be a non-empty list of non-empty texts".into(),
        ));
    }
    let cap = state.cfg.max_texts_per_request;
    if cap > 0 && body.texts.len() > cap {
        return Err(ApiError::PayloadTooLarge(format!(
            "{} texts in one request; MAX_TEXTS_PER_REQUEST is {cap}",
            body.texts.len()
        )));
    }
    let sources = body.file_sources.unwrap_or_default();
    if !sources.is_empty() && sources.len() != body.texts.len() {
        return Err(ApiError::BadRequest(
            "file_sources must have one entry per text".into(),
        ));
    }
    let mut keys = Vec::with_capacity(body.texts.len());
    let mut seen = HashSet::new();
    for (i, t) in body.texts.iter().enumerate() {
        let key = text_key(t, sources.get(i).map(String::as_str))?;
        if !seen.insert(key.clone()) {
            return Err(ApiError::BadRequest(format!(
                "'{key}' appears twice in this request"
            )));
        }
        ensure_new(&ws, &key).await?;
        keys.push(key);
    }
    admit(&ws, state.cfg.max_pending_documents, keys.len()).await?;
    let docs = keys
        .into_iter()
        .zip(body.texts)
        .map(|(key, content)| NewDocument { key, content })
        .collect();
    let track = track_id("insert");
    enqueue(&ws, docs, &track).await?;
    Ok(insert_response(
        "success",
        "Texts successfully received. Processing will continue in background.".into(),
        &track,
    ))
}

/// `POST /documents/scan`: enqueues the supported files of the input folder not yet known;
/// a file whose text cannot be extracted becomes a failed document with the reason.
#[utoipa::path(post, path = "/documents/scan", tag = "documents", responses((status = 200, description = "New files of the input folder enqueued")))]
pub async fn scan(Ws(ws): Ws) -> ApiResult<Json<Value>> {
    let track = track_id("scan");
    let dir = ws.input_dir.clone();
    let names = tokio::task::spawn_blocking(move || list_folder(&dir))
        .await
        .map_err(|e| ApiError::Internal(format!("scan failed: {e}")))?;
    let found = names.len();
    let limits = file_text::parse_limits(ws.rag.config());
    let statuses = &ws.rag.stores().doc_status;
    let mut docs = Vec::new();
    let mut unreadable = 0usize;
    for name in names {
        // Known as a document (a file that failed to parse is tried again).
        if let Some(row) = statuses.get(&doc_id(&name)).await? {
            if !is_extraction_failure(&row) {
                continue;
            }
        }
        let (size, text) = file_text::read_file_text(&ws.input_dir.join(&name), &limits).await;
        match text {
            // Unless already recorded as a duplicate of another document.
            Ok(text) => {
                if statuses
                    .get(&duplicate_row_id(&name, &text))
                    .await?
                    .is_none()
                {
                    docs.push(NewDocument {
                        key: name,
                        content: text,
                    });
                }
            }
            Err(reason) => {
                tracing::warn!("scan: {name}: {reason}");
                ws.rag
                    .record_extraction_failure(&name, &reason, size, &track)
                    .await?;
                unreadable += 1;
            }
        }
    }
    let n = docs.len();
    if n > 0 {
        enqueue(&ws, docs, &track).await?;
    }
    let now = lightrag_core::types::now_iso();
    let record = json!({
        "track_id": track, "status": "completed",
        "counts": {"found": found, "enqueued": n, "unreadable": unreadable,
                   "already_known": found - n - unreadable},
        "counters_dropped": 0, "samples": {}, "created_at": now, "updated_at": now, "version": 1,
        "message": format!("{n} new file(s) enqueued, {unreadable} unreadable; their processing is tracked by this track id"),
    });
    if let Ok(mut scans) = ws.scans.lock() {
        if scans.len() >= 100 {
            scans.pop_front();
        }
        scans.push_back(record);
    }
    Ok(Json(json!({
        "status": "scanning_started",
        "message": format!("Scanning started: {n} new file(s) enqueued"),
        "track_id": track,
    })))
}

/// `GET /documents/scan/status/{track_id}`: what a scan found (scans run within their
/// request here, so a known scan is always `completed`).
#[utoipa::path(get, path = "/documents/scan/status/{track_id}", tag = "documents", params(("track_id" = String, Path, description = "Track id returned by /documents/scan")), responses((status = 200, description = "The scan record"), (status = 404, description = "Unknown scan")))]
pub async fn scan_status(
    Ws(ws): Ws,
    axum::extract::Path(track_id): axum::extract::Path<String>,
) -> ApiResult<Json<Value>> {
    let found = ws.scans.lock().ok().and_then(|scans| {
        scans
            .iter()
            .rev()
            .find(|r| r["track_id"] == track_id.as_str())
            .cloned()
    });
    found
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no scan with track id '{track_id}'")))
}

/// The names of the regular files directly in `dir` with a supported extension and a safe
/// name. A symlink is a symlink here, whatever it points to, so a link in the input folder
/// cannot bring in a file from elsewhere (and a FIFO cannot block the scan); the read
/// checks again on the open file.
fn list_folder(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if safe_file_name(&name).is_err() || !file_text::is_supported(&name) {
            continue;
        }
        if !e.file_type().is_ok_and(|t| t.is_file()) {
            tracing::warn!("scan: skipping {name}: not a regular file");
            continue;
        }
        out.push(name);
    }
    out.sort();
    out
}

/// `GET /documents/supported_file_types`.
#[utoipa::path(get, path = "/documents/supported_file_types", tag = "documents", responses((status = 200, description = "File extensions accepted")))]
pub async fn supported() -> impl IntoResponse {
    let exts: Vec<String> = file_text::supported_extensions()
        .iter()
        .map(|e| format!(".{e}"))
        .collect();
    (
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({"supported_extensions": exts, "engines": {"native": exts}})),
    )
}

#[cfg(test)]
mod tests {
    use super::safe_file_name;

    #[test]
    fn names_cannot_escape_the_folder() {
        for bad in [
            "../x.txt",
            "..",
            ".",
            "a/b.txt",
            "a\\b.txt",
            "c:x.txt",
            "x\u{0}.txt",
            "",
            ".env",
            "/etc/passwd",
            "x\n.txt",
        ] {
            assert!(safe_file_name(bad).is_err(), "{bad:?}");
        }
        assert!(safe_file_name("notes v2.md").is_ok());
    }
}
