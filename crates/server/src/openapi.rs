//! `/openapi.json` and `/docs`.

use axum::Router;

use crate::serve::AppState;

/// The documentation routes.
pub fn router() -> Router<AppState> {
    Router::new()
}
