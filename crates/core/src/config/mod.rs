//! Configuration: one typed [`Config`], loaded from defaults < config file < `.env` <
//! environment < command-line flags, with LightRAG's and the seeds' setting names.
//!
//! Every key the engine reads is listed in [`KEYS`] (name, default, meaning); a test checks that
//! `docs/configuration.md` documents each of them.

mod build;
mod keys;
mod sources;

use std::path::PathBuf;

use crate::chunker::ChunkingOptions;

pub use keys::{default_in, undocumented, Key, KEYS};
pub use sources::{read_ini, Reader, Settings};

/// What to do when an entity or relation has more source chunk ids than its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceIdsLimit {
    /// Keep the first ids (LightRAG's default).
    Keep,
    /// Keep the newest ids.
    Fifo,
}

/// How chunks are picked for retrieved entities and relations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkPickMethod {
    Vector,
    Weight,
}

/// The chat model of one role (extraction, keywords, answers).
#[derive(Debug, Clone, PartialEq)]
pub struct LlmRole {
    /// `ollama` or `openai`.
    pub binding: String,
    pub model: String,
    /// Empty: the binding's default host.
    pub host: String,
    pub api_key: String,
}

/// Chat model settings.
#[derive(Debug, Clone)]
pub struct LlmConfig {
    pub extract: LlmRole,
    pub keyword: LlmRole,
    pub query: LlmRole,
    pub timeout_s: f64,
    pub max_retries: usize,
    pub temperature: f64,
    /// 0 = the server's limit.
    pub max_tokens: usize,
    pub ollama_num_ctx: usize,
    pub enable_cache: bool,
    pub max_gleaning: usize,
    pub use_json: bool,
    pub max_extraction_records: usize,
    pub max_extraction_entities: usize,
    pub max_extract_input_tokens: usize,
}

/// Retrieval settings (QueryParam defaults).
#[derive(Debug, Clone)]
pub struct QueryDefaults {
    pub top_k: usize,
    pub chunk_top_k: usize,
    pub max_entity_tokens: usize,
    pub max_relation_tokens: usize,
    pub max_total_tokens: usize,
    pub cosine_threshold: f32,
    pub related_chunk_number: usize,
    pub chunk_pick: ChunkPickMethod,
    pub max_graph_fanout: usize,
    /// A query's `enable_rerank` when it does not say: RERANK_BY_DEFAULT when a reranker is
    /// configured, off otherwise.
    pub enable_rerank: bool,
    /// Reranked chunks below this score leave the context (MIN_RERANK_SCORE).
    pub min_rerank_score: f32,
}

/// Where the reranker is and how to call it (RERANK_*); `None` in [`Config::rerank`] when
/// RERANK_BINDING is `null`.
#[derive(Debug, Clone, PartialEq)]
pub struct RerankConfig {
    /// `cohere`, `jina` or `aliyun`.
    pub binding: String,
    /// Empty: the binding's default model.
    pub model: String,
    /// The full endpoint URL; empty: the binding's default.
    pub host: String,
    pub api_key: String,
    pub timeout_s: f64,
    /// Requests in flight at once.
    pub max_async: usize,
    /// cohere only: score long documents window by window.
    pub enable_chunking: bool,
    pub max_tokens_per_doc: usize,
}

/// Graph merge limits.
#[derive(Debug, Clone)]
pub struct MergeLimits {
    pub max_source_ids_per_entity: usize,
    pub max_source_ids_per_relation: usize,
    pub source_ids_limit: SourceIdsLimit,
    pub max_file_paths: usize,
}

/// The whole configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub working_dir: PathBuf,
    pub workspace: String,
    pub chunking: ChunkingOptions,
    pub max_async: usize,
    pub max_parallel_insert: usize,
    /// How long a claim on a document lasts unless renewed (`DOCUMENT_LEASE_TTL`).
    pub document_lease_ttl: std::time::Duration,
    pub processing_threads: usize,
    pub embedding_binding: String,
    pub embedding_model: String,
    pub embedding_dim: usize,
    pub local_model_dir: Option<PathBuf>,
    pub embedding_batch_num: usize,
    pub max_embed_tokens: usize,
    pub enable_embedding_cache: bool,
    pub embedding_cache_size: usize,
    pub enable_llm_cache_for_extract: bool,
    pub query: QueryDefaults,
    pub merge: MergeLimits,
    pub force_llm_summary_on_merge: usize,
    pub summary_max_tokens: usize,
    pub summary_context_size: usize,
    pub summary_length_recommended: usize,
    pub language: String,
    pub max_file_bytes: u64,
    /// How long the text extraction of one file may take (`PARSE_TIMEOUT`).
    pub parse_timeout: std::time::Duration,
    /// Most bytes an archive-based document may unpack to (`MAX_UNPACKED_BYTES`).
    pub max_unpacked_bytes: u64,
    /// `None` when LLM_BINDING is `none`: the offline path.
    pub llm: Option<LlmConfig>,
    /// `None` when RERANK_BINDING is `null`: chunks keep their retrieval order.
    pub rerank: Option<RerankConfig>,
    pub embedding_host: String,
    pub embedding_api_key: String,
    pub embedding_timeout_s: f64,
    /// The raw settings this configuration was built from: adapters read their own keys
    /// (the stores' backends, the server's) from the same layers.
    pub settings: Settings,
}

impl Config {
    /// The directory this configuration's data lives in (workspace applied).
    pub fn data_dir(&self) -> PathBuf {
        if self.workspace.is_empty() {
            self.working_dir.clone()
        } else {
            self.working_dir.join(&self.workspace)
        }
    }

    /// The defaults alone.
    pub fn defaults() -> Config {
        // The defaults table is validated by a unit test, so this cannot fail.
        Settings::default()
            .to_config()
            .unwrap_or_else(|e| panic!("built-in defaults are invalid: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn with(pairs: &[(&str, &str)]) -> Settings {
        Settings::from_pairs(pairs)
    }

    #[test]
    fn defaults_are_lightrags() {
        let c = Config::defaults();
        assert_eq!(c.chunking.size, 1200);
        assert_eq!(c.chunking.overlap, 100);
        assert_eq!(c.query.top_k, 40);
        assert_eq!(c.query.chunk_top_k, 20);
        assert_eq!(c.query.max_total_tokens, 30000);
        assert!((c.query.cosine_threshold - 0.2).abs() < 1e-6);
        assert_eq!(c.merge.max_file_paths, 75);
        assert_eq!(c.max_parallel_insert, 3);
        assert_eq!(c.working_dir, PathBuf::from("./rag_storage"));
    }

    #[test]
    fn aliases_and_precedence() {
        let mut s = with(&[("CHUNK_OVERLAP", "20")]);
        assert_eq!(s.to_config().unwrap().chunking.overlap, 20);
        s.set("CHUNK_OVERLAP_SIZE", "30");
        assert_eq!(s.to_config().unwrap().chunking.overlap, 30);
        let mut file = HashMap::new();
        file.insert("TOP_K".to_string(), "5".to_string());
        let mut s = Settings::default();
        s.merge(file);
        s.set("TOP_K", "7");
        assert_eq!(s.to_config().unwrap().query.top_k, 7);
    }

    #[test]
    fn bad_values_are_clear_errors() {
        let e = with(&[("CHUNK_SIZE", "big")]).to_config().unwrap_err();
        assert!(e.to_string().contains("CHUNK_SIZE"), "{e}");
        let e = with(&[("CHUNK_OVERLAP_SIZE", "1200")])
            .to_config()
            .unwrap_err();
        assert!(e.to_string().contains("smaller"), "{e}");
        assert!(with(&[("ENABLE_EMBEDDING_CACHE", "maybe")])
            .to_config()
            .is_err());
        assert!(with(&[("KG_CHUNK_PICK_METHOD", "x")]).to_config().is_err());
    }

    #[test]
    fn llm_roles_fall_back_to_the_main_model() {
        assert!(Config::defaults().llm.is_none());
        let c = with(&[
            ("LLM_BINDING", "openai"),
            ("LLM_MODEL", "m1"),
            ("LLM_BINDING_API_KEY", "k"),
            ("KEYWORD_LLM_MODEL", "small"),
            ("QUERY_LLM_BINDING", "ollama"),
        ])
        .to_config()
        .unwrap();
        let llm = c.llm.unwrap();
        assert_eq!(
            llm.extract,
            LlmRole {
                binding: "openai".into(),
                model: "m1".into(),
                host: "".into(),
                api_key: "k".into()
            }
        );
        assert_eq!(llm.keyword.model, "small");
        assert_eq!(llm.query.binding, "ollama");
        assert_eq!(
            llm.query.api_key, "",
            "a key never leaks to another binding"
        );
        assert!(with(&[("ENTITY_TYPES", "a,b")]).to_config().is_err());
        assert!(with(&[("LLM_BINDING", "bedrock")]).to_config().is_err());
    }

    #[test]
    fn rerank_settings_follow_lightrag() {
        let c = Config::defaults();
        assert!(c.rerank.is_none(), "RERANK_BINDING defaults to null");
        assert!(
            !c.query.enable_rerank,
            "no reranker, so queries do not ask for one"
        );
        assert_eq!(c.query.min_rerank_score, 0.0);
        let c = with(&[
            ("RERANK_BINDING", "Cohere"),
            ("COHERE_API_KEY", "ck"),
            ("MAX_ASYNC", "7"),
            ("RERANK_ENABLE_CHUNKING", "true"),
            ("MIN_RERANK_SCORE", "0.3"),
            ("RERANK_BY_DEFAULT", "false"),
        ])
        .to_config()
        .unwrap();
        let r = c.rerank.unwrap();
        assert_eq!(r.binding, "cohere");
        assert_eq!(
            r.api_key, "ck",
            "the binding's own key variable is the fallback"
        );
        assert_eq!(r.max_async, 7, "MAX_ASYNC_RERANK falls back to MAX_ASYNC");
        assert!(r.enable_chunking);
        assert_eq!(r.max_tokens_per_doc, 4096);
        assert!((r.timeout_s - 30.0).abs() < 1e-9);
        assert!((c.query.min_rerank_score - 0.3).abs() < 1e-6);
        assert!(!c.query.enable_rerank);
        let jina = with(&[
            ("RERANK_BINDING", "jina"),
            ("RERANK_BINDING_API_KEY", "k"),
            ("JINA_API_KEY", "other"),
            ("RERANK_ENABLE_CHUNKING", "true"),
        ])
        .to_config()
        .unwrap()
        .rerank
        .unwrap();
        assert_eq!(jina.api_key, "k");
        assert!(!jina.enable_chunking, "chunking is cohere's only");
        let on = with(&[("RERANK_BINDING", "jina")]).to_config().unwrap();
        assert!(on.query.enable_rerank, "on by default with a reranker");
        assert!(with(&[("RERANK_BINDING", "voyage")]).to_config().is_err());
        assert!(with(&[("RERANK_BINDING", "none")])
            .to_config()
            .unwrap()
            .rerank
            .is_none());
        assert!(with(&[("MIN_RERANK_SCORE", "NaN")]).to_config().is_err());
        let zero = [
            ("RERANK_BINDING", "aliyun"),
            ("RERANK_MAX_TOKENS_PER_DOC", "0"),
        ];
        assert!(with(&zero).to_config().is_err());
    }

    #[test]
    fn workspace_is_sanitised() {
        let c = with(&[("WORKSPACE", "a-b c")]).to_config().unwrap();
        assert_eq!(c.workspace, "a_b_c");
        assert!(c.data_dir().ends_with("a_b_c"));
    }
}
