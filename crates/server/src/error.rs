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
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Engine(E::InvalidInput(_)) => StatusCode::BAD_REQUEST,
            ApiError::Engine(E::NotFound(_)) => StatusCode::NOT_FOUND,
            // A request the configuration cannot serve (e.g. bypass without an LLM).
            ApiError::Engine(E::Config(_)) => StatusCode::BAD_REQUEST,
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

    /// The `detail` to show: the message, or an opaque id for internal failures.
    pub fn detail(&self) -> Value {
        if self.status().is_server_error() {
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
