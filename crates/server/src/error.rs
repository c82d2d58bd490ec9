//! Errors as JSON with the status codes LightRAG's clients expect: `{"detail": ...}`; an
//! internal failure gets an opaque error id (the cause goes to the log, never to the client).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use thiserror::Error;

/// A setting of the server is wrong (startup fails with this message).
#[derive(Debug, Error)]
#[error("configuration error: {0}")]
pub struct ConfigError(pub String);

/// Everything a handler can fail with.
#[derive(Debug, Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    /// A body in a format the route does not take (JSON routes take JSON only).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// A request that parsed but is not valid (FastAPI's 422 with a list of problems).
    #[error("{0}")]
    Unprocessable(String),
    #[error("{message}")]
    TooManyRequests { message: String, retry_after: u64 },
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Engine(#[from] lightrag_core::Error),
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        use lightrag_core::Error as E;
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Engine(E::InvalidInput(_)) => StatusCode::BAD_REQUEST,
            ApiError::Engine(E::NotFound(_)) => StatusCode::NOT_FOUND,
            // A request the configuration cannot serve (e.g. bypass without an LLM).
            ApiError::Engine(E::Config(_)) => StatusCode::BAD_REQUEST,
            // A database that is down or busy: try again later (the message names it).
            ApiError::Engine(e) if e.is_retryable() => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Engine(_) | ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// An engine error on a query route: bad input is a validation error there (422).
    pub fn from_query(e: lightrag_core::Error) -> ApiError {
        match e {
            lightrag_core::Error::InvalidInput(m) => ApiError::Unprocessable(m),
            other => ApiError::Engine(other),
        }
    }

    /// Whether the message stays in the log: unexpected failures, whose text may name
    /// internals. Everything a client or operator can act on (a service unavailable, a limit,
    /// a missing model) is said in the response.
    fn opaque(&self) -> bool {
        matches!(self, ApiError::Internal(_))
            || (matches!(self, ApiError::Engine(_))
                && self.status() == StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The `detail` to show: the message, or an opaque id for internal failures.
    pub fn detail(&self) -> Value {
        if self.opaque() {
            let id = &uuid::Uuid::new_v4().simple().to_string()[..12];
            tracing::error!(error_id = id, "request failed: {self}");
            return json!(format!("Internal server error (error_id: {id})"));
        }
        match self {
            ApiError::Unprocessable(m) => {
                json!([{"type": "value_error", "loc": ["body"], "msg": m, "input": null}])
            }
            other => json!(other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut resp = (status, Json(json!({ "detail": self.detail() }))).into_response();
        if let ApiError::TooManyRequests { retry_after, .. } = &self {
            if let Ok(v) = HeaderValue::from_str(&retry_after.to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        resp
    }
}

/// Handler results.
pub type ApiResult<T> = Result<T, ApiError>;

/// Largest error body rewritten by [`json_errors`] (framework rejections are one line).
const MAX_ERROR_BODY: usize = 64 * 1024;

/// Layer body: every error answer is JSON in LightRAG's `{"detail": ...}` shape, including
/// the framework's own (a 405, a malformed query string or multipart body, a wrong form type),
/// which are plain text or empty. A 5xx says only its status; its cause is in the log.
pub async fn json_errors(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let resp = next.run(req).await;
    let status = resp.status();
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let text = if status.is_server_error() {
        String::new()
    } else {
        axum::body::to_bytes(body, MAX_ERROR_BODY)
            .await
            .map(|b| String::from_utf8_lossy(&b).trim().to_string())
            .unwrap_or_default()
    };
    let detail = if text.is_empty() {
        status.canonical_reason().unwrap_or("Error").to_string()
    } else {
        text
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(
        parts,
        axum::body::Body::from(json!({ "detail": detail }).to_string()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use lightrag_core::{StorageError, StorageErrorKind};

    #[test]
    fn a_database_that_is_down_is_a_503_that_names_it() {
        let down = ApiError::Engine(lightrag_core::Error::Storage(StorageError::new(
            "postgres",
            StorageErrorKind::Unavailable,
            "cannot reach PostgreSQL at db:5432: connection refused",
        )));
        assert_eq!(down.status(), StatusCode::SERVICE_UNAVAILABLE);
        let shown = down.detail().to_string();
        assert!(
            shown.contains("postgres") && shown.contains("db:5432"),
            "{shown}"
        );
        // A damaged row is not the client's to retry: opaque 500.
        let corrupt = ApiError::Engine(lightrag_core::Error::Storage(StorageError::new(
            "postgres",
            StorageErrorKind::Corrupt,
            "row x cannot be read",
        )));
        assert_eq!(corrupt.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(corrupt.detail().to_string().contains("error_id"));
    }
}
