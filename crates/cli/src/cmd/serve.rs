//! `lightrag serve`: the LightRAG-compatible HTTP API (crate lightrag-server) over engines
//! built by [`crate::setup`], one per workspace, sharing one embedder.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use async_trait::async_trait;
use lightrag_core::config::{Config, Settings};
use lightrag_core::ports::Embedder;
use lightrag_orchestrator::redis_link::RedisLink;
use lightrag_orchestrator::BatchingEmbedder;
use lightrag_server::serve::shutdown_signal;
use lightrag_server::{AppState, EngineOpener, Extras, OpenedEngine, ServerConfig};
use serde_json::{json, Map, Value};

use crate::args::{GlobalArgs, ServeArgs};
use crate::setup::{self, Engine};

/// Opens a workspace's engine with the shared embedder (the local model is loaded once).
struct CliOpener {
    cfg: Config,
    embedder: Arc<dyn Embedder>,
}

#[async_trait]
impl EngineOpener for CliOpener {
    async fn open(&self, workspace: &str) -> Result<OpenedEngine, String> {
        let mut cfg = self.cfg.clone();
        cfg.workspace = workspace.to_string();
        let Engine { rag, stores } = Engine::open_with(cfg, self.embedder.clone())
            .await
            .map_err(|e| format!("{e:#}"))?;
        Ok(OpenedEngine { rag, stores })
    }
}

/// What the binary adds to `/health`: the embedding orchestrator's health and counters (its
/// metrics reach `/metrics` through the `metrics` facade) and whether the Redis that replicas
/// share answers.
struct Report {
    orchestrator: Option<Arc<BatchingEmbedder>>,
    redis: Option<Arc<RedisLink>>,
}

#[async_trait]
impl Extras for Report {
    async fn health(&self) -> Map<String, Value> {
        let mut m = Map::new();
        if let Some(o) = &self.orchestrator {
            let health = serde_json::to_value(o.health().await).unwrap_or(Value::Null);
            let metrics = serde_json::to_value(o.metrics()).unwrap_or(Value::Null);
            m.insert(
                "embedding_orchestrator".into(),
                json!({"health": health, "metrics": metrics}),
            );
        }
        if let Some(link) = &self.redis {
            m.insert(
                "redis".into(),
                json!({"url": link.shown(), "reachable": link.ping().await}),
            );
        }
        m
    }
}

/// The server's settings: the same layers as the engine's, plus `--set`, `--host`, `--port`.
fn server_config(cfg: &Config, g: &GlobalArgs, args: &ServeArgs) -> Result<ServerConfig> {
    let mut s = Settings::load()?;
    for kv in &g.settings {
        let Some((k, v)) = kv.split_once('=') else {
            bail!("--set expects KEY=VALUE, got '{kv}'");
        };
        s.set(k.trim(), v.trim());
    }
    if let Some(h) = &args.host {
        s.set("HOST", h.as_str());
    }
    if let Some(p) = args.port {
        s.set("PORT", p.to_string());
    }
    if let Some(k) = &args.key {
        s.set("LIGHTRAG_API_KEY", k.as_str());
    }
    Ok(ServerConfig::from_settings(&s, &cfg.workspace)?)
}

pub async fn run(cfg: Config, g: &GlobalArgs, args: &ServeArgs) -> Result<()> {
    let scfg = server_config(&cfg, g, args)?;
    let (embedder, orchestrator) = setup::embedder_and_orchestrator(&cfg)?;
    let default_ws = scfg.default_workspace.clone();
    // With Redis, failed logins are counted there: the lockout holds across replicas.
    let redis = lightrag_orchestrator::redis_url(&cfg.settings)?;
    let redis = if redis.is_empty() {
        None
    } else {
        Some(Arc::new(RedisLink::new(
            &lightrag_orchestrator::RedisSettings { url: redis, db: 0 },
            Duration::from_secs(2),
        )?))
    };
    let logins = redis.clone().map(|link| {
        Arc::new(crate::shared_logins::RedisLogins::new(link))
            as Arc<dyn lightrag_server::auth::LoginAttempts>
    });
    let extras = (orchestrator.is_some() || redis.is_some()).then(|| {
        Arc::new(Report {
            orchestrator,
            redis,
        }) as Arc<dyn Extras>
    });
    let state = AppState::with_parts(
        scfg.clone(),
        Arc::new(CliOpener { cfg, embedder }),
        extras,
        logins,
    );
    // Open the default workspace now, so that a bad working directory fails at start.
    state
        .workspaces
        .get(&default_ws)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    lightrag_server::connections::raise_descriptor_limit();
    let listener = tokio::net::TcpListener::bind((scfg.host.as_str(), scfg.port))
        .await
        .with_context(|| format!("cannot listen on {}:{}", scfg.host, scfg.port))?;
    let addr = listener.local_addr()?;
    // Scripts and tests read the bound address (PORT=0 picks a free port) from this line.
    {
        use std::io::Write;
        let mut out = std::io::stdout();
        // A reader that went away (a closed pipe) is no reason to stop serving.
        let _ = writeln!(out, "listening on http://{addr}");
        let _ = out.flush();
    }
    tracing::info!(%addr, "lightrag server started");
    lightrag_server::serve(
        listener,
        state,
        shutdown_signal(),
        Duration::from_secs(args.shutdown_grace),
    )
    .await?;
    tracing::info!("lightrag server stopped");
    Ok(())
}
