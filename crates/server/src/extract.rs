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

/// A JSON body, parsed whatever its Content-Type (as LightRAG's Ollama routes do); a body that
/// does not parse or lacks fields is a 422, one over the size limit a 413.
pub struct ApiJson<T>(pub T);

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

/// Keeps `[A-Za-z0-9_]`, replacing anything else by `_` (LightRAG's rule), so a header can
/// never name a path outside the working directory.
pub fn sanitize_workspace(raw: &str) -> String {
    raw.trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The workspace named by the request's header (or the default one), opened on first use.
pub struct Ws(pub Arc<Workspace>);

/// The workspace a request names: its sanitised `LIGHTRAG-WORKSPACE` header, or the default.
pub fn workspace_name(headers: &axum::http::HeaderMap, default: &str) -> Result<String, ApiError> {
    let Some(v) = headers.get(WORKSPACE_HEADER) else {
        return Ok(default.to_string());
    };
    let raw = v
        .to_str()
        .map_err(|_| ApiError::BadRequest("LIGHTRAG-WORKSPACE must be ASCII".into()))?;
    let name = sanitize_workspace(raw);
    if name.len() > 64 {
        return Err(ApiError::BadRequest(
            "LIGHTRAG-WORKSPACE is longer than 64 characters".into(),
        ));
    }
    Ok(if name.is_empty() {
        default.to_string()
    } else {
        name
    })
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
