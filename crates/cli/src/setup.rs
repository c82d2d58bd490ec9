//! Turns settings into an engine: configuration layers, the working directory's stores, the
//! embedder and the extractor.

use std::sync::Arc;

use anyhow::{bail, Context, Result};
use lightrag_core::config::{Config, Settings};
use lightrag_core::hashing::HashingEmbedder;
use lightrag_core::ports::Embedder;
use lightrag_core::Rag;
use lightrag_providers::local_model::LocalEmbedder;
use lightrag_providers::offline::OfflineExtractor;
use lightrag_storage::embedded::{self, EmbeddedStores};

use crate::args::GlobalArgs;

/// Loads the configuration: defaults < config file < .env < environment < flags.
pub fn load_config(g: &GlobalArgs) -> Result<Config> {
    let mut s = Settings::load()?;
    for kv in &g.settings {
        let Some((k, v)) = kv.split_once('=') else {
            bail!("--set expects KEY=VALUE, got '{kv}'");
        };
        s.set(k.trim(), v.trim());
    }
    if let Some(d) = &g.working_dir {
        s.set("WORKING_DIR", d.to_string_lossy());
    }
    if let Some(w) = &g.workspace {
        s.set("WORKSPACE", w.as_str());
    }
    let cfg = s.to_config()?;
    if cfg.processing_threads > 0 && std::env::var_os("RAYON_NUM_THREADS").is_none() {
        // The model's matrix kernels size their thread pool from this variable; set it
        // before any pool starts.
        std::env::set_var("RAYON_NUM_THREADS", cfg.processing_threads.to_string());
    }
    Ok(cfg)
}

/// The configured embedder.
pub fn embedder(cfg: &Config) -> Result<Arc<dyn Embedder>> {
    match cfg.embedding_binding.as_str() {
        "local" => {
            let dir = cfg.local_model_dir.clone().unwrap_or_else(LocalEmbedder::default_model_dir);
            let e = LocalEmbedder::load(&dir)?.with_batch_size(cfg.embedding_batch_num);
            Ok(Arc::new(e))
        }
        "hashing" => Ok(Arc::new(HashingEmbedder::new(cfg.embedding_dim))),
        other => bail!(
            "EMBEDDING_BINDING={other} is not available in this build; use `local` (the in-process model) or `hashing` (tests)"
        ),
    }
}

/// An engine over the embedded stores of the configured working directory.
pub struct Engine {
    pub rag: Rag,
    pub stores: EmbeddedStores,
}

impl Engine {
    /// Opens the working directory with the configured embedder.
    pub fn open(cfg: Config) -> Result<Engine> {
        let embedder = embedder(&cfg)?;
        Self::open_with(cfg, embedder)
    }

    /// Opens the working directory with a given embedder.
    pub fn open_with(cfg: Config, embedder: Arc<dyn Embedder>) -> Result<Engine> {
        let dir = cfg.data_dir();
        let stores = embedded::open(&dir, embedder.model_name(), embedder.dim())
            .with_context(|| format!("cannot open the working directory {}", dir.display()))?;
        let rag = Rag::new(
            cfg,
            stores.stores.clone(),
            embedder,
            Arc::new(OfflineExtractor::new()),
        );
        Ok(Engine { rag, stores })
    }

    /// Saves index snapshots; call before exiting.
    pub async fn close(self) -> Result<()> {
        self.stores.flush().await?;
        Ok(())
    }
}
