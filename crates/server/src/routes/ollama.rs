//! `/api/*`: Ollama emulation.

use axum::Router;

use crate::serve::AppState;

/// The Ollama routes.
pub fn router() -> Router<AppState> {
    Router::new()
}
