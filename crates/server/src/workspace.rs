//! Workspaces: one engine per knowledge base, opened on the first request that names it and
//! kept open. Each has its own background pipeline and query cache, so nothing is shared
//! between workspaces but the process.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use lightrag_core::ports::StoreHandle;
use lightrag_core::types::DocStatus;
use lightrag_core::Rag;

use crate::config::ServerConfig;
use crate::error::ApiError;
use crate::pipeline::Pipeline;
use crate::query_cache::QueryCache;

/// An engine over one workspace's stores, and the handle that describes and closes them.
pub struct OpenedEngine {
    pub rag: Rag,
    pub stores: Arc<dyn StoreHandle>,
}

/// Opens the engine of a workspace; the binary builds it from the configuration, tests from
/// whatever they need.
#[async_trait]
pub trait EngineOpener: Send + Sync {
    /// Opens (creating if needed) the stores of `workspace` ("" = the working directory itself).
    async fn open(&self, workspace: &str) -> Result<OpenedEngine, String>;
}

/// One open knowledge base.
pub struct Workspace {
    /// The sanitised name ("" = the default, unnamed workspace).
    pub name: String,
    pub rag: Arc<Rag>,
    pub pipeline: Pipeline,
    pub cache: QueryCache,
    /// Where this workspace's uploads go and what `/documents/scan` reads.
    pub input_dir: PathBuf,
    /// Records of recent `/documents/scan` runs, newest last.
    pub scans: std::sync::Mutex<std::collections::VecDeque<serde_json::Value>>,
    /// What the stores keep open; their names show in `/health`.
    pub stores: Arc<dyn StoreHandle>,
}

impl Workspace {
    /// Documents waiting or being processed.
    pub async fn unfinished_documents(&self) -> lightrag_core::Result<usize> {
        let counts = self.rag.stores().doc_status.counts().await?;
        Ok([DocStatus::Pending, DocStatus::Processing]
            .iter()
            .map(|s| counts.get(s).copied().unwrap_or(0))
            .sum())
    }

    /// Gives up this process's document leases (the pipeline has stopped: other processes
    /// take its documents over at once), saves in-memory state and closes connections; called
    /// once when the server stops.
    pub async fn close(&self) -> lightrag_core::Result<()> {
        match self.rag.stores().coordinator.release_all().await {
            Ok(n) if n > 0 => tracing::info!(
                workspace = %self.name,
                "gave up {n} document lease(s) for other processes to take over"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(workspace = %self.name, "cannot give up leases: {e}"),
        }
        self.stores.close().await
    }
}

/// The open workspaces.
pub struct Workspaces {
    opener: Arc<dyn EngineOpener>,
    cfg: ServerConfig,
    open: RwLock<HashMap<String, Arc<Workspace>>>,
    /// Serialises opening, so that one workspace is never opened twice.
    opening: tokio::sync::Mutex<()>,
}

impl Workspaces {
    pub fn new(opener: Arc<dyn EngineOpener>, cfg: ServerConfig) -> Workspaces {
        Workspaces {
            opener,
            cfg,
            open: RwLock::new(HashMap::new()),
            opening: tokio::sync::Mutex::new(()),
        }
    }

    /// The workspace if it is open (never opens it).
    pub fn lookup(&self, name: &str) -> Option<Arc<Workspace>> {
        self.open
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .cloned()
    }

    /// The workspace, opening it on first use; documents left pending or interrupted by an
    /// earlier run are picked up at once.
    pub async fn get(&self, name: &str) -> Result<Arc<Workspace>, ApiError> {
        if let Some(ws) = self.lookup(name) {
            return Ok(ws);
        }
        let _guard = self.opening.lock().await;
        if let Some(ws) = self.lookup(name) {
            return Ok(ws);
        }
        let count = self.open.read().map(|m| m.len()).unwrap_or(0);
        if count >= self.cfg.max_workspaces {
            return Err(ApiError::Unavailable(format!(
                "{count} workspaces are open, the limit set by MAX_WORKSPACES"
            )));
        }
        let opened = self
            .opener
            .open(name)
            .await
            .map_err(|e| ApiError::Internal(format!("cannot open workspace '{name}': {e}")))?;
        let input_dir = if name.is_empty() {
            self.cfg.input_dir.clone()
        } else {
            self.cfg.input_dir.join(name)
        };
        let ws = Arc::new(Workspace {
            name: name.to_string(),
            rag: Arc::new(opened.rag),
            pipeline: Pipeline::default(),
            cache: QueryCache::new(
                self.cfg.enable_query_cache,
                self.cfg.query_cache_ttl,
                self.cfg.query_cache_size,
            ),
            input_dir,
            scans: Default::default(),
            stores: opened.stores,
        });
        self.open
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name.to_string(), ws.clone());
        tracing::info!(workspace = name, "workspace opened");
        ws.watch_shared_work(self.cfg.pipeline_poll_interval);
        // Resume what an earlier run left; an idle workspace keeps its job slot free.
        if ws.unfinished_documents().await? > 0 {
            ws.process_in_background();
        }
        Ok(ws)
    }

    /// Every open workspace.
    pub fn all(&self) -> Vec<Arc<Workspace>> {
        self.open
            .read()
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Stops every workspace's pipeline (waiting at most `grace` for running jobs) and closes
    /// it (saving index snapshots); the pipeline's state is in the stores, so interrupted
    /// documents resume on the next start.
    pub async fn close_all(&self, grace: std::time::Duration) {
        for ws in self.all() {
            ws.pipeline.stop(grace).await;
        }
        for ws in self.all() {
            if let Err(e) = ws.close().await {
                tracing::error!(workspace = %ws.name, "cannot close: {e}");
            }
        }
    }
}
