//! The engine: one value that owns the configuration, the ports and the shared state of a
//! working directory, and offers insert, process, query, delete and maintenance.

use std::sync::Arc;

use crate::config::Config;
use crate::embedding::{embed_all, EmbeddingCache};
use crate::error::Result;
use crate::ports::{ChatModel, EmbedPurpose, Embedder, Extractor, Reranker, Stores};
use crate::tokenizer::{TiktokenTokenizer, Tokenizer};

/// Chat models per role, as LightRAG 1.5 allows (each falls back to the main model).
#[derive(Clone)]
pub struct ChatModels {
    /// Extraction and description summaries.
    pub extract: Arc<dyn ChatModel>,
    /// Query keywords.
    pub keyword: Arc<dyn ChatModel>,
    /// Answers (and bypass).
    pub query: Arc<dyn ChatModel>,
}

impl ChatModels {
    /// One model for every role.
    pub fn single(chat: Arc<dyn ChatModel>) -> ChatModels {
        ChatModels {
            extract: chat.clone(),
            keyword: chat.clone(),
            query: chat,
        }
    }
}

/// A LightRAG-style engine over one set of stores.
pub struct Rag {
    pub(crate) cfg: Config,
    pub(crate) stores: Stores,
    pub(crate) embedder: Arc<dyn Embedder>,
    pub(crate) extractor: Arc<dyn Extractor>,
    /// The chat models by role; `None` gives extractive answers and offline keywords.
    pub(crate) chat: Option<ChatModels>,
    pub(crate) tokenizer: Arc<dyn Tokenizer>,
    /// Token counts of query context pieces already seen.
    pub(crate) token_memo: crate::query::token_memo::TokenMemo,
    pub(crate) embed_cache: Option<EmbeddingCache>,
    /// Time spent per ingest stage.
    pub(crate) timings: crate::timings::Timings,
    /// Orders every write to the graph: per entity and relation for merges, alone for the rest.
    pub(crate) writer: crate::graph_writer::GraphWriter,
    /// Reorders retrieved chunks before the context is cut to its budget; `None`: no reranking.
    pub(crate) reranker: Option<Arc<dyn Reranker>>,
    /// Set once a query asked for reranking without a reranker (that is logged once).
    pub(crate) rerank_missing_warned: std::sync::atomic::AtomicBool,
}

impl Rag {
    /// Builds an engine; the stores must already be bound to this embedder's model.
    pub fn new(
        cfg: Config,
        stores: Stores,
        embedder: Arc<dyn Embedder>,
        extractor: Arc<dyn Extractor>,
    ) -> Rag {
        let embed_cache = cfg
            .enable_embedding_cache
            .then(|| EmbeddingCache::new(cfg.embedding_cache_size));
        let writer = crate::graph_writer::GraphWriter::new(stores.coordinator.clone());
        Rag {
            cfg,
            stores,
            embedder,
            extractor,
            chat: None,
            tokenizer: Arc::new(TiktokenTokenizer::o200k()),
            token_memo: Default::default(),
            embed_cache,
            timings: Default::default(),
            writer,
            reranker: None,
            rerank_missing_warned: Default::default(),
        }
    }

    /// Reranks the chunks of every query that asks for it (`enable_rerank`).
    pub fn with_reranker(mut self, reranker: Arc<dyn Reranker>) -> Rag {
        self.reranker = Some(reranker);
        self
    }

    /// The reranker, when one is configured.
    pub fn reranker(&self) -> Option<&Arc<dyn Reranker>> {
        self.reranker.as_ref()
    }

    /// Uses chat models for keywords, summaries and answers (extraction goes through the
    /// `Extractor` port).
    pub fn with_chat_models(mut self, chat: ChatModels) -> Rag {
        self.chat = Some(chat);
        self
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// The stores.
    pub fn stores(&self) -> &Stores {
        &self.stores
    }

    /// The tokenizer budgets are counted with.
    pub fn tokenizer(&self) -> &dyn Tokenizer {
        self.tokenizer.as_ref()
    }

    /// Cumulative time per ingest stage since the engine was built.
    pub fn timings(&self) -> crate::timings::TimingSnapshot {
        self.timings.snapshot()
    }

    /// Embedding cache (hits, misses), when the cache is on.
    pub fn embedding_cache_stats(&self) -> Option<(u64, u64)> {
        self.embed_cache.as_ref().map(EmbeddingCache::stats)
    }

    /// A number that grows whenever the knowledge base changes, in any process sharing the
    /// stores: a cached answer computed at another generation is stale.
    pub async fn generation(&self) -> Result<i64> {
        self.stores.coordinator.generation().await
    }

    /// Records a change of the knowledge base (see [`Rag::generation`]); a failure is logged,
    /// caches then expire by their time to live.
    pub(crate) async fn knowledge_changed(&self) {
        if let Err(e) = self.stores.coordinator.bump_generation().await {
            tracing::warn!("cannot record a change of the knowledge base: {e}");
        }
    }

    /// Embeds texts in batches through the cache.
    pub(crate) async fn embed(
        &self,
        texts: &[String],
        purpose: EmbedPurpose,
    ) -> Result<Vec<Vec<f32>>> {
        let work = embed_all(
            self.embedder.as_ref(),
            self.tokenizer.as_ref(),
            self.embed_cache.as_ref(),
            texts,
            purpose,
            self.cfg.embedding_batch_num,
            self.cfg.max_embed_tokens,
        );
        self.timings
            .time_async(crate::timings::Stage::Embedding, work)
            .await
    }
}
