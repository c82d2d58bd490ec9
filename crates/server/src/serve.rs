//! Assembling the application (routers and layers) and running it until shutdown.

use std::future::Future;
use std::ops::Deref;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderName, HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::net::TcpListener;
use tower_http::cors::{AllowOrigin, Any, CorsLayer};

use crate::auth::{self, LoginAttempts, LoginLimiter};
use crate::config::ServerConfig;
use crate::connections::ConnectionLimits;
use crate::error::ApiError;
use crate::routes;
use crate::workspace::{EngineOpener, Workspaces};

/// The API version of LightRAG's interface this server follows.
pub const API_VERSION: &str = "0344";

/// Reports of parts the binary adds around the engine (the embedding orchestrator), shown in
/// `/health` without this crate knowing them (their metrics reach `/metrics` through the
/// `metrics` facade).
#[async_trait::async_trait]
pub trait Extras: Send + Sync {
    /// Sections added to the authenticated `/health` answer.
    async fn health(&self) -> serde_json::Map<String, serde_json::Value>;
}

/// What every handler can reach.
pub struct Shared {
    pub cfg: ServerConfig,
    pub extras: Option<Arc<dyn Extras>>,
    pub workspaces: Workspaces,
    pub logins: Arc<dyn LoginAttempts>,
    /// When each user last got a renewed token.
    pub renewals: std::sync::Mutex<std::collections::HashMap<String, Instant>>,
    pub metrics: Option<PrometheusHandle>,
    pub started: Instant,
}

/// The application state (cheap to clone).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    /// State over the engines `opener` opens; installs the metrics recorder on first use.
    pub fn new(cfg: ServerConfig, opener: Arc<dyn EngineOpener>) -> AppState {
        Self::with_extras(cfg, opener, None)
    }

    /// Like [`AppState::new`], with reports of the binary's own parts.
    pub fn with_extras(
        cfg: ServerConfig,
        opener: Arc<dyn EngineOpener>,
        extras: Option<Arc<dyn Extras>>,
    ) -> AppState {
        Self::with_parts(cfg, opener, extras, None)
    }

    /// Like [`AppState::with_extras`], counting failed logins in `logins` (shared by replicas)
    /// instead of in this process.
    pub fn with_parts(
        cfg: ServerConfig,
        opener: Arc<dyn EngineOpener>,
        extras: Option<Arc<dyn Extras>>,
        logins: Option<Arc<dyn LoginAttempts>>,
    ) -> AppState {
        AppState(Arc::new(Shared {
            extras,
            workspaces: Workspaces::new(opener, cfg.clone()),
            cfg,
            logins: logins.unwrap_or_else(|| Arc::new(LoginLimiter::default())),
            renewals: Default::default(),
            metrics: crate::metrics::install(),
            started: Instant::now(),
        }))
    }
}

/// Ends a request that takes longer than TIMEOUT with a JSON 504 (streamed bodies run on once
/// their response has started).
async fn timeout(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match state.cfg.timeout {
        None => next.run(req).await,
        Some(limit) => match tokio::time::timeout(limit, next.run(req)).await {
            Ok(resp) => resp,
            Err(_) => {
                let mut resp = ApiError::Unavailable(format!("Request timed out after {limit:?}"))
                    .into_response();
                *resp.status_mut() = axum::http::StatusCode::GATEWAY_TIMEOUT;
                resp
            }
        },
    }
}

fn cors(cfg: &ServerConfig) -> Option<CorsLayer> {
    if cfg.cors_origins.is_empty() {
        return None;
    }
    let expose = [HeaderName::from_static("x-new-token")];
    if cfg.cors_origins.iter().any(|o| o == "*") {
        return Some(
            CorsLayer::new()
                .allow_origin(Any)
                .allow_methods(Any)
                .allow_headers(Any)
                .expose_headers(expose),
        );
    }
    let origins: Vec<HeaderValue> = cfg
        .cors_origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::DELETE,
                Method::OPTIONS,
            ])
            .allow_headers(tower_http::cors::AllowHeaders::mirror_request())
            .allow_credentials(true)
            .expose_headers(expose),
    )
}

async fn not_found() -> ApiError {
    ApiError::NotFound("Not Found".into())
}

/// The whole application: routers per area, authentication on the protected ones, and the
/// cross-cutting layers.
pub fn build_app(state: AppState) -> Router {
    let cfg = &state.cfg;
    let protected = Router::new()
        .merge(routes::documents::router(cfg))
        .merge(routes::query::router())
        .merge(routes::graph::router())
        .merge(routes::ollama::router())
        .route("/metrics", get(routes::health::metrics))
        .route_layer(middleware::from_fn_with_state(state.clone(), auth::require));
    let mut public = Router::new()
        .route("/", get(routes::health::root))
        .route("/health", get(routes::health::health))
        .route("/auth-status", get(auth::auth_status))
        .route("/login", post(auth::login))
        .route("/auth/verify", get(auth::verify))
        .route("/ui/customization", get(routes::health::ui_customization));
    if cfg.enable_api_docs {
        public = public.merge(crate::openapi::router());
    }
    let body_limit = if cfg.max_request_body_bytes == 0 {
        DefaultBodyLimit::disable()
    } else {
        DefaultBodyLimit::max(cfg.max_request_body_bytes)
    };
    let mut app = protected
        .merge(public)
        .fallback(not_found)
        .layer(body_limit)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::cross_site::refuse,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), timeout))
        .layer(middleware::from_fn(crate::error::json_errors))
        .layer(middleware::from_fn(crate::metrics::track));
    if let Some(c) = cors(cfg) {
        app = app.layer(c);
    }
    app.with_state(state)
}

/// Serves until `shutdown` resolves, then lets in-flight requests finish (at most `grace`)
/// and closes every workspace. Documents still being processed stay `processing` in the
/// stores and resume on the next start.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    if state.cfg.auth_configured() {
        for route in auth::open_data_routes(&state.cfg.whitelist) {
            tracing::warn!(
                "WHITELIST_PATHS opens {route} to callers without credentials, and it reads data or calls a model"
            );
        }
    }
    let app = build_app(state.clone());
    let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
    let signal = async move {
        shutdown.await;
        tracing::info!("shutting down: finishing in-flight requests");
        let _ = stopping_tx.send(());
    };
    let limits = ConnectionLimits {
        max_connections: state.cfg.max_connections,
        idle_timeout: state.cfg.connection_idle_timeout,
    };
    let server = crate::connections::run(listener, app, limits, signal);
    let mut server = tokio::spawn(server);
    tokio::select! {
        r = &mut server => {
            r.map_err(std::io::Error::other)?;
        }
        _ = async {
            let _ = stopping_rx.await;
            tokio::time::sleep(grace).await;
        } => {
            tracing::warn!("in-flight requests still running after {grace:?}; stopping anyway");
            server.abort();
        }
    }
    state.workspaces.close_all(grace).await;
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
