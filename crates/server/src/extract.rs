//! Request extractors: JSON bodies whose problems become LightRAG-style JSON errors, and the
//! workspace a request works on.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::serve::AppState;
use crate::workspace::Workspace;

/// The header that selects a workspace per request.
pub const WORKSPACE_HEADER: &str = "lightrag-workspace";

/// A JSON body: a request that does not say `Content-Type: application/json` is a 415 (as
/// LightRAG's routes answer), so that a page of another site cannot post to a JSON route
/// with a form or a `text/plain` body, which browsers send without asking CORS first. A
/// body that does not parse or lacks fields is a 422, one over the size limit a 413.
pub struct ApiJson<T>(pub T);

/// Whether the request declares a JSON body (`application/json`, `application/*+json`).
pub fn declares_json(headers: &axum::http::HeaderMap) -> bool {
    let Some(ct) = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || essence
            .strip_prefix("application/")
            .is_some_and(|sub| sub.ends_with("+json"))
}

fn body_error(e: BytesRejection) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge("Request body too large".into())
    } else {
        ApiError::BadRequest(format!("cannot read the request body: {e}"))
    }
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !declares_json(req.headers()) {
            return Err(ApiError::UnsupportedMediaType(
                "this route takes a JSON body: send Content-Type: application/json".into(),
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(body_error)?;
        serde_json::from_slice(&bytes)
            .map(ApiJson)
            .map_err(|e| ApiError::Unprocessable(format!("invalid request body: {e}")))
    }
}

/// Raw body bytes with the size limit mapped to 413.
pub struct Body(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Bytes::from_request(req, state)
            .await
            .map(Body)
            .map_err(body_error)
    }
}

/// The workspace named by the request's header (or the default one), opened on first use.
pub struct Ws(pub Arc<Workspace>);

/// Longest workspace name a request may give.
pub const MAX_WORKSPACE_CHARS: usize = 64;

/// The workspace a request names: its `LIGHTRAG-WORKSPACE` header, or the default when the
/// header is absent or empty. A name outside `[A-Za-z0-9_]{1,64}` is refused rather than
/// rewritten, so that `a/b`, `a-b` and `a b` never silently share one knowledge base.
pub fn workspace_name(headers: &axum::http::HeaderMap, default: &str) -> Result<String, ApiError> {
    let Some(v) = headers.get(WORKSPACE_HEADER) else {
        return Ok(default.to_string());
    };
    let name = v
        .to_str()
        .map_err(|_| ApiError::BadRequest("LIGHTRAG-WORKSPACE must be ASCII".into()))?;
    if name.is_empty() {
        return Ok(default.to_string());
    }
    let allowed = name.len() <= MAX_WORKSPACE_CHARS
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !allowed {
        return Err(ApiError::BadRequest(format!(
            "LIGHTRAG-WORKSPACE '{}' is not a workspace name: use 1 to {MAX_WORKSPACE_CHARS} letters, digits or '_'",
            name.escape_default()
        )));
    }
    Ok(name.to_string())
}

impl FromRequestParts<AppState> for Ws {
    type Rejection = ApiError;

    /// Opening a workspace that is not open yet takes credentials even on an open
    /// (whitelisted) path, so anonymous callers cannot create knowledge bases.
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let name = workspace_name(&parts.headers, &state.cfg.default_workspace)?;
        if let Some(ws) = state.workspaces.lookup(&name) {
            return Ok(Ws(ws));
        }
        crate::auth::check(&state.cfg, &parts.headers)?;
        state.workspaces.get(&name).await.map(Ws)
    }
}
