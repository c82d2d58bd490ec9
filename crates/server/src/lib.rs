//! lightrag-server: LightRAG's HTTP API over the lightrag-rs engine.
//!
//! The engine knows nothing of HTTP; this crate is a thin layer over it. Each area has its own
//! router ([`routes`]): documents, query, graph, Ollama emulation, health and metrics, auth.
//! Cross-cutting work is done by layers: authentication ([`auth`]), cross-site write refusal
//! ([`cross_site`]), body limits, timeouts, CORS, JSON errors and request metrics ([`metrics`]).
//! Connections are accepted by [`connections`], which bounds how many are open and how long an
//! idle one is kept.
//!
//! Every route works on a *workspace* chosen per request by the `LIGHTRAG-WORKSPACE` header
//! (falling back to `WORKSPACE`). Each workspace has its own engine, opened lazily through an
//! [`EngineOpener`] the binary provides, its own background pipeline and its own query cache
//! ([`workspace`]). Inserted documents are only enqueued by the request; the engine's resumable
//! pipeline processes them in the background and their status is visible while they move.

#![recursion_limit = "256"]

pub mod auth;
pub mod config;
pub mod connections;
pub mod cross_site;
pub mod error;
pub mod extract;
pub mod file_text;
pub mod keys;
pub mod metrics;
pub mod openapi;
pub mod pipeline;
pub mod query_cache;
pub mod routes;
pub mod serve;
pub mod workspace;

pub use config::ServerConfig;
pub use error::ApiError;
pub use serve::{build_app, serve, AppState, Extras};
pub use workspace::{EngineOpener, OpenedEngine};
