//! Turns settings into an engine: configuration layers, the configured stores (one lifecycle
//! for every backend, `lightrag_storage::select`), the embedder, the extractor and the
//! reranker.

use std::sync::Arc;

use anyhow::{bail, Context, Result};
use lightrag_core::config::{Config, Settings};
use lightrag_core::hashing::HashingEmbedder;
use lightrag_core::llm::cache::CachedChat;
use lightrag_core::llm::extract::{ExtractionSettings, LlmExtractor};
use lightrag_core::llm::limit::LimitedChat;
use lightrag_core::llm::prompts::DEFAULT_ENTITY_TYPES;
use lightrag_core::ports::{ChatModel, Embedder, Extractor, KvStore, StoreHandle};
use lightrag_core::tokenizer::TiktokenTokenizer;
use lightrag_core::{ChatModels, Rag};
use lightrag_orchestrator::{BatchingEmbedder, EmbeddingBatching, OrchestratorConfig};
use lightrag_providers::local_model::LocalEmbedder;
use lightrag_providers::offline::OfflineExtractor;
use lightrag_providers::remote;
use lightrag_storage::select::{self, Place, StorageConfig};

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
    if g.no_cache {
        s.set("ENABLE_LLM_CACHE", "false");
        s.set("ENABLE_LLM_CACHE_FOR_EXTRACT", "false");
    }
    let cfg = s.to_config()?;
    if cfg.processing_threads > 0 && std::env::var_os("RAYON_NUM_THREADS").is_none() {
        // The model's matrix kernels size their thread pool from this variable; set it
        // before any pool starts.
        std::env::set_var("RAYON_NUM_THREADS", cfg.processing_threads.to_string());
    }
    if std::env::var_os("CANDLE_NUM_THREADS").is_none() {
        // The local model already runs forward passes side by side (one per core, and one per
        // document in flight); candle's own pool for element-wise ops would only spin-wait
        // against them. Without it, insert ran 18% more documents/s (docs/benchmarks.md).
        std::env::set_var("CANDLE_NUM_THREADS", "1");
    }
    Ok(cfg)
}

/// The configured embedder, behind the batching orchestrator when EMBEDDING_BATCHING is on.
pub fn embedder(cfg: &Config) -> Result<Arc<dyn Embedder>> {
    Ok(embedder_and_orchestrator(cfg)?.0)
}

/// The embedder the engine uses, and the orchestrator (the same object) when there is one.
pub type EmbedderLayers = (Arc<dyn Embedder>, Option<Arc<BatchingEmbedder>>);

/// The configured embedder and, when EMBEDDING_BATCHING is on, the orchestrator in front of it
/// (the same object), for callers that report its metrics and health.
pub fn embedder_and_orchestrator(cfg: &Config) -> Result<EmbedderLayers> {
    let model = model_embedder(cfg)?;
    let Some(batching) = &EmbeddingBatching::from_settings(&cfg.settings)? else {
        return Ok((model, None));
    };
    let settings =
        OrchestratorConfig::from_settings(model.model_name(), batching, cfg.embedding_cache_size)?;
    let orchestrator = Arc::new(BatchingEmbedder::new(model, settings)?);
    Ok((orchestrator.clone(), Some(orchestrator)))
}

/// The embedding model of EMBEDDING_BINDING, without any layer.
pub fn model_embedder(cfg: &Config) -> Result<Arc<dyn Embedder>> {
    match cfg.embedding_binding.as_str() {
        "local" => {
            let dir = cfg.local_model_dir.clone().unwrap_or_else(LocalEmbedder::default_model_dir);
            let e = LocalEmbedder::load(&dir)?.with_batch_size(cfg.embedding_batch_num);
            Ok(Arc::new(e))
        }
        "hashing" => Ok(Arc::new(HashingEmbedder::new(cfg.embedding_dim))),
        "ollama" | "openai" => Ok(remote::embedder(cfg)?),
        other => bail!(
            "EMBEDDING_BINDING={other} is not supported: use local (the in-process model), ollama, openai (any OpenAI-compatible server) or hashing (tests)"
        ),
    }
}

/// The chat models of the configured roles (each behind the LLM response cache) and the LLM
/// extractor, or `None` when LLM_BINDING is `none`.
pub fn chat_models(
    cfg: &Config,
    kv: &Arc<dyn KvStore>,
) -> Result<Option<(ChatModels, Arc<dyn Extractor>)>> {
    let Some(llm) = &cfg.llm else {
        return Ok(None);
    };
    // One Redis connection for every role's slots when the budget is the cluster's.
    let cluster = match lightrag_orchestrator::cluster_llm_budget(&cfg.settings)? {
        Some(url) => Some(Arc::new(
            lightrag_orchestrator::redis_link::RedisLink::new(
                &lightrag_orchestrator::RedisSettings { url, db: 0 },
                std::time::Duration::from_secs(2),
            )
            .map_err(|e| lightrag_core::Error::Config(e.to_string()))?,
        )),
        None => None,
    };
    // A slot of a process that dies comes back after the longest a request may take.
    let lease = std::time::Duration::from_secs_f64(llm.timeout_s.max(1.0) + 30.0);
    let cached =
        |name: &str, role: &lightrag_core::config::LlmRole| -> Result<Arc<dyn ChatModel>> {
            // The cache answers before the limit: a cached reply never waits for a slot.
            let remote = remote::chat_model(name, role, llm)?;
            let limited = Arc::new(match &cluster {
                Some(link) => LimitedChat::with_slots(
                    remote.clone(),
                    Arc::new(lightrag_orchestrator::RedisSlots::new(
                        link.clone(),
                        &remote.identity(),
                        cfg.max_async,
                        lease,
                    )),
                ),
                None => LimitedChat::new(remote, cfg.max_async),
            });
            Ok(Arc::new(CachedChat::new(
                limited,
                kv.clone(),
                llm.enable_cache,
            )))
        };
    let models = ChatModels {
        extract: cached("extract", &llm.extract)?,
        keyword: cached("keyword", &llm.keyword)?,
        query: cached("query", &llm.query)?,
    };
    let settings = ExtractionSettings {
        language: cfg.language.clone(),
        entity_types: DEFAULT_ENTITY_TYPES.to_string(),
        max_gleaning: llm.max_gleaning,
        max_total_records: llm.max_extraction_records,
        max_entity_records: llm.max_extraction_entities,
        max_extract_input_tokens: llm.max_extract_input_tokens,
        use_json: llm.use_json,
    };
    let extractor = LlmExtractor::new(
        models.extract.clone(),
        settings,
        Arc::new(TiktokenTokenizer::o200k()),
    );
    Ok(Some((models, Arc::new(extractor))))
}

/// An engine over the configured stores of the working directory or database, and the handle
/// that closes them.
pub struct Engine {
    pub rag: Rag,
    pub stores: Arc<dyn StoreHandle>,
}

impl Engine {
    /// Opens the configured stores with the configured embedder.
    pub async fn open(cfg: Config) -> Result<Engine> {
        let embedder = embedder(&cfg)?;
        Self::open_with(cfg, embedder).await
    }

    /// Opens the configured stores (LIGHTRAG_*_STORAGE) with a given embedder.
    pub async fn open_with(cfg: Config, embedder: Arc<dyn Embedder>) -> Result<Engine> {
        let storage = StorageConfig::from_settings(&cfg.settings)?;
        let dir = cfg.data_dir();
        let place = Place {
            data_dir: &dir,
            workspace: &cfg.workspace,
        };
        let (stores, handle) = select::open(&storage, place, embedder.model_name(), embedder.dim())
            .await
            .with_context(|| format!("cannot open the stores of {}", dir.display()))?;
        let reranker = remote::reranker(&cfg)?;
        let rag = match chat_models(&cfg, &stores.kv)? {
            None => Rag::new(cfg, stores, embedder, Arc::new(OfflineExtractor::new())),
            Some((models, extractor)) => {
                Rag::new(cfg, stores, embedder, extractor).with_chat_models(models)
            }
        };
        // RERANK_BINDING: chunks of every query that asks for it are reordered by the reranker.
        let rag = match reranker {
            Some(r) => rag.with_reranker(r),
            None => rag,
        };
        Ok(Engine {
            rag,
            stores: handle,
        })
    }

    /// Saves index snapshots and closes connections; call before exiting.
    pub async fn close(self) -> Result<()> {
        self.stores.close().await?;
        Ok(())
    }
}
