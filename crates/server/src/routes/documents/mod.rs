//! `/documents/*`: ingestion (returns at once with a track id; the workspace's background
//! pipeline processes), statuses, and maintenance.

pub(crate) mod ingest;
pub(crate) mod manage;
pub(crate) mod status;

use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post};
use axum::Router;

use crate::config::ServerConfig;
use crate::serve::AppState;

pub use ingest::safe_file_name;

fn limit(bytes: usize) -> DefaultBodyLimit {
    if bytes == 0 {
        DefaultBodyLimit::disable()
    } else {
        DefaultBodyLimit::max(bytes)
    }
}

/// The document routes, with their own body limits for text and uploads.
pub fn router(cfg: &ServerConfig) -> Router<AppState> {
    // Multipart framing needs some room beyond the file itself.
    let upload = if cfg.max_upload_size == 0 {
        0
    } else {
        cfg.max_upload_size + (1 << 20)
    };
    Router::new()
        .route(
            "/documents/upload",
            post(ingest::upload).layer(limit(upload)),
        )
        .route(
            "/documents/text",
            post(ingest::text).layer(limit(cfg.max_text_body_bytes)),
        )
        .route(
            "/documents/texts",
            post(ingest::texts).layer(limit(cfg.max_text_body_bytes)),
        )
        .route("/documents/scan", post(ingest::scan))
        .route(
            "/documents/scan/status/{track_id}",
            get(ingest::scan_status),
        )
        .route("/documents/supported_file_types", get(ingest::supported))
        .route("/documents/paginated", post(status::paginated))
        .route("/documents/status_counts", get(status::status_counts))
        .route(
            "/documents/track_status/{track_id}",
            get(status::track_status),
        )
        .route("/documents/pipeline_status", get(status::pipeline_status))
        .route("/documents", delete(manage::clear_all))
        .route(
            "/documents/delete_document",
            delete(manage::delete_documents),
        )
        .route("/documents/clear_cache", post(manage::clear_cache))
        .route(
            "/documents/reprocess_failed",
            post(manage::reprocess_failed),
        )
        .route("/documents/cancel_pipeline", post(manage::cancel_pipeline))
        .route("/documents/recovery/force_reset", post(manage::force_reset))
}
