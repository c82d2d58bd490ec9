//! Configuration: one typed [`Config`], loaded from defaults < config file < `.env` <
//! environment < command-line flags, with LightRAG's and the seeds' setting names.
//!
//! Every key the engine reads is listed in [`KEYS`] (name, default, meaning); a test checks that
//! `docs/configuration.md` documents each of them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::chunker::ChunkingOptions;
use crate::error::{Error, Result};

/// A setting: its name, its default as text, and what it does.
pub struct Key {
    pub name: &'static str,
    pub default: &'static str,
    pub help: &'static str,
}

macro_rules! keys {
    ($($name:literal = $default:literal : $help:literal),* $(,)?) => {
        /// Every setting the engine reads.
        pub const KEYS: &[Key] = &[$(Key { name: $name, default: $default, help: $help }),*];
    };
}

keys! {
    "WORKING_DIR" = "./rag_storage" : "Storage root of the embedded default.",
    "WORKSPACE" = "" : "Data-isolation namespace: data lives in WORKING_DIR/<workspace>/ when set.",
    "LIGHTRAG_CONFIG" = "./config.ini" : "Config file (INI: KEY=VALUE lines; a [section] prefixes its keys as SECTION_KEY).",
    "CHUNK_SIZE" = "1200" : "Tokens per chunk (tiktoken o200k_base).",
    "CHUNK_OVERLAP_SIZE" = "100" : "Tokens shared by consecutive chunks. CHUNK_OVERLAP (seed 000) is an alias.",
    "CHUNK_F_SPLIT_BY_CHARACTER" = "" : "Split documents on this sequence before token windows (\\n is a newline).",
    "CHUNK_F_SPLIT_BY_CHARACTER_ONLY" = "false" : "Each split piece is one chunk; a piece over CHUNK_SIZE fails the document.",
    "MAX_ASYNC" = "4" : "Concurrent extraction calls (LightRAG's MAX_ASYNC_LLM / MAX_ASYNC).",
    "MAX_PARALLEL_INSERT" = "3" : "Documents processed at once.",
    "PROCESSING_THREADS" = "0" : "CPU threads for local model work (seed 000); 0 = all cores.",
    "EMBEDDING_BINDING" = "local" : "Embedding adapter: `local` (in-process all-MiniLM-L6-v2) or `hashing` (feature hashing, no model: tests and pipeline benchmarks).",
    "EMBEDDING_MODEL" = "all-MiniLM-L6-v2" : "Embedding model name, recorded in every vector index.",
    "EMBEDDING_DIM" = "384" : "Embedding dimension of bindings that do not fix it (`hashing`).",
    "LOCAL_EMBEDDING_MODEL_DIR" = "" : "Directory with config.json, tokenizer.json, model.safetensors; default: the user cache (LIGHTRAG_MODEL_DIR also works).",
    "EMBEDDING_BATCH_NUM" = "32" : "Texts per embedding call. MAX_EMBED_CHUNK_SIZE (seed 000) is an alias. LightRAG uses 10 for remote APIs; the local model gains from larger batches.",
    "MAX_EMBED_TOKENS" = "8000" : "Token budget of one embedding call (seed 000): a batch is cut before it exceeds this.",
    "ENABLE_EMBEDDING_CACHE" = "true" : "Keep recent embeddings in process (seed 000).",
    "EMBEDDING_CACHE_SIZE" = "10000" : "Embeddings kept by that cache (seed 000).",
    "ENABLE_LLM_CACHE_FOR_EXTRACT" = "true" : "Keep extraction results per chunk content, so re-indexing and resumes never extract twice.",
    "TOP_K" = "40" : "Entities (local) / relations (global) retrieved from the vector sets.",
    "CHUNK_TOP_K" = "20" : "Chunks retrieved by vector search and kept after merging.",
    "MAX_ENTITY_TOKENS" = "6000" : "Token budget of the entity section of the context.",
    "MAX_RELATION_TOKENS" = "8000" : "Token budget of the relation section of the context.",
    "MAX_TOTAL_TOKENS" = "30000" : "Token budget of the whole prompt; chunks get what remains.",
    "COSINE_THRESHOLD" = "0.2" : "Minimum cosine similarity of a vector hit.",
    "RELATED_CHUNK_NUMBER" = "5" : "Chunks picked per entity or relation.",
    "KG_CHUNK_PICK_METHOD" = "VECTOR" : "VECTOR (similarity to the query) or WEIGHT (linear-gradient polling).",
    "MAX_GRAPH_FANOUT" = "100" : "Edges read per entity in local retrieval, heaviest first (hub cap).",
    "MAX_SOURCE_IDS_PER_ENTITY" = "200" : "Chunk ids kept on an entity's source_id.",
    "MAX_SOURCE_IDS_PER_RELATION" = "200" : "Chunk ids kept on a relation's source_id.",
    "SOURCE_IDS_LIMIT_METHOD" = "KEEP" : "KEEP (oldest ids) or FIFO (newest ids).",
    "MAX_FILE_PATHS" = "75" : "File paths kept per entity or relation.",
    "FORCE_LLM_SUMMARY_ON_MERGE" = "8" : "Description fragments that call for an LLM summary (without an LLM fragments are joined).",
    "SUMMARY_MAX_TOKENS" = "1200" : "Description tokens that call for an LLM summary.",
    "SUMMARY_CONTEXT_SIZE" = "12000" : "Tokens of descriptions one summary call may read (larger sets are map-reduced).",
    "SUMMARY_LENGTH_RECOMMENDED" = "600" : "Target length of a summary, in tokens.",
    "SUMMARY_LANGUAGE" = "English" : "Language of extracted descriptions, summaries and keywords.",
    "MAX_FILE_BYTES" = "104857600" : "Largest file `insert` accepts (LightRAG's MAX_UPLOAD_SIZE default).",
    "HOST" = "0.0.0.0" : "Server: address `lightrag serve` binds to.",
    "PORT" = "9621" : "Server: port (0 = any free port, printed at start).",
    "INPUT_DIR" = "./inputs" : "Server: upload and scan folder; a workspace's files live in INPUT_DIR/<workspace>/.",
    "TIMEOUT" = "300" : "Server: seconds a request may take until its response starts (`None` = no limit).",
    "LIGHTRAG_API_KEY" = "" : "Server: API key clients send in the X-API-Key header (never logged or shown).",
    "AUTH_ACCOUNTS" = "" : "Server: login accounts `user:password` or `user:{bcrypt}hash`, comma-separated.",
    "TOKEN_SECRET" = "" : "Server: HMAC secret of login tokens; required with AUTH_ACCOUNTS.",
    "JWT_ALGORITHM" = "HS256" : "Server: token signature algorithm (only HS256).",
    "TOKEN_EXPIRE_HOURS" = "48" : "Server: lifetime of a login token.",
    "GUEST_TOKEN_EXPIRE_HOURS" = "24" : "Server: lifetime of a guest token (no accounts configured).",
    "WHITELIST_PATHS" = "/health,/api/*" : "Server: paths open without credentials; `x/*` covers x and everything below it.",
    "CORS_ORIGINS" = "*" : "Server: allowed browser origins, comma-separated (`*` = any).",
    "MAX_REQUEST_BODY_BYTES" = "1048576" : "Server: largest request body (0 = no limit); /documents/text(s) allow 50 MiB unless this is set.",
    "MAX_UPLOAD_SIZE" = "104857600" : "Server: largest uploaded file (0 = no limit).",
    "LOGIN_MAX_FAILED_ATTEMPTS" = "5" : "Server: failed logins per client and user before a lockout (0 = no limit).",
    "LOGIN_LOCKOUT_WINDOW_SECONDS" = "300" : "Server: window of that count, and the lockout.",
    "ENABLE_QUERY_CACHE" = "true" : "Server: answer repeated queries (same question and parameters) from a cache (seed 000).",
    "QUERY_CACHE_TTL" = "3600" : "Server: seconds a cached query result lives; any change to the documents empties the cache.",
    "QUERY_CACHE_SIZE" = "1000" : "Server: query results kept per workspace.",
    "MAX_WORKSPACES" = "64" : "Server: workspaces open at once (each LIGHTRAG-WORKSPACE header value opens one).",
    "OLLAMA_EMULATING_MODEL_NAME" = "lightrag" : "Server: model name the Ollama emulation reports.",
    "OLLAMA_EMULATING_MODEL_TAG" = "latest" : "Server: model tag the Ollama emulation reports.",
    "MAX_GRAPH_NODES" = "1000" : "Server: most nodes /graphs returns.",
    "ENABLE_API_DOCS" = "true" : "Server: serve /docs and /openapi.json.",
    "WEBUI_TITLE" = "" : "Server: title shown in /health and /auth-status.",
    "WEBUI_DESCRIPTION" = "" : "Server: description shown in /health and /auth-status.",
    "TOKEN_AUTO_RENEW" = "true" : "Server: send a fresh token in the X-New-Token header when a login token nears its end.",
    "TOKEN_RENEW_THRESHOLD" = "0.5" : "Server: renew when less than this share of the token's lifetime remains.",
    "MAX_PENDING_DOCUMENTS" = "0" : "Server: refuse inserts with 429 while this many documents wait or are processed (0 = no limit).",
    "MAX_TEXTS_PER_REQUEST" = "0" : "Server: most texts one /documents/texts request may carry, else 413 (0 = no limit).",
    "LLM_BINDING" = "none" : "Chat model adapter: `none` (offline extraction, extractive answers), `ollama` or `openai` (any OpenAI-compatible server).",
    "LLM_MODEL" = "mistral-nemo:latest" : "Chat model name.",
    "LLM_BINDING_HOST" = "" : "Chat server URL; default http://localhost:11434 (ollama), https://api.openai.com/v1 (openai).",
    "LLM_BINDING_API_KEY" = "" : "API key of the chat server (sent as a Bearer token; never logged).",
    "LLM_TIMEOUT" = "240" : "Seconds one LLM request may take in all.",
    "LLM_MAX_RETRIES" = "3" : "Retries of an LLM or embedding request after a timeout, 429 or 5xx, with exponential backoff.",
    "LLM_TEMPERATURE" = "1.0" : "Sampling temperature (OPENAI_LLM_TEMPERATURE / OLLAMA_LLM_TEMPERATURE also work).",
    "LLM_MAX_TOKENS" = "0" : "Reply token limit, 0 = the server's (OPENAI_LLM_MAX_TOKENS / OLLAMA_LLM_NUM_PREDICT also work).",
    "OLLAMA_LLM_NUM_CTX" = "32768" : "Context window requested from Ollama.",
    "EXTRACT_LLM_MODEL" = "" : "Model for extraction and summaries (also EXTRACT_LLM_BINDING, EXTRACT_LLM_BINDING_HOST, EXTRACT_LLM_BINDING_API_KEY); empty = the main model.",
    "KEYWORD_LLM_MODEL" = "" : "Model for query keywords (also KEYWORD_LLM_BINDING, _BINDING_HOST, _BINDING_API_KEY); empty = the main model.",
    "QUERY_LLM_MODEL" = "" : "Model for answers (also QUERY_LLM_BINDING, _BINDING_HOST, _BINDING_API_KEY); empty = the main model.",
    "EMBEDDING_BINDING_HOST" = "" : "Embedding server URL for the ollama/openai bindings (falls back to LLM_BINDING_HOST, then the binding's default).",
    "EMBEDDING_BINDING_API_KEY" = "" : "API key of the embedding server.",
    "EMBEDDING_TIMEOUT" = "30" : "Seconds one embedding request may take.",
    "ENABLE_LLM_CACHE" = "true" : "Cache keyword and answer replies of the LLM in the KV store.",
    "MAX_GLEANING" = "1" : "Extra extraction passes for missed records (0 = off; LightRAG makes at most one).",
    "ENTITY_EXTRACTION_USE_JSON" = "false" : "Ask for JSON records (Ollama `format`, OpenAI `response_format`) instead of the delimiter format.",
    "MAX_EXTRACTION_RECORDS" = "100" : "Records one extraction reply may hold.",
    "MAX_EXTRACTION_ENTITIES" = "40" : "Entity records one extraction reply may hold.",
    "MAX_EXTRACT_INPUT_TOKENS" = "20480" : "Gleaning is skipped when its input would exceed this many tokens.",
    "EMBEDDING_BATCHING" = "false" : "Put the embedding batching orchestrator (seed 004) in front of the embedder: a priority queue that batches concurrent callers, a two-level cache, retries, a circuit breaker (ENABLE_EMBEDDING_BATCHING also works). See docs/orchestrator.md.",
    "OLLAMA_EMBEDDING_BATCH_SIZE" = "0" : "Orchestrator: texts per model call to start with; 0 = the model's default (bge-m3 32, mxbai-embed-large 32, nomic-embed-text 64, all-minilm 64, others 32). Never above EMBEDDING_MAX_BATCH_SIZE.",
    "EMBEDDING_MAX_BATCH_SIZE" = "0" : "Orchestrator: the most texts one call may carry; 0 = the model's limit (bge-m3 64, nomic-embed-text 128, all-minilm 256, others 64).",
    "OLLAMA_BATCH_TIMEOUT" = "30000" : "Orchestrator: milliseconds one batch call to the model may take before it counts as failed.",
    "BATCH_PROCESSING_INTERVAL" = "100" : "Orchestrator: milliseconds a text may wait for its batch to fill before the batch is sent anyway.",
    "MAX_BATCH_RETRIES" = "3" : "Orchestrator: retries of a failed batch (exponential backoff) before each text is sent alone.",
    "EMBEDDING_CACHE_TTL" = "3600" : "Orchestrator: seconds a cached embedding lives, in process and in Redis; 0 = no expiry.",
    "REDIS_URL" = "" : "Redis for the orchestrator's second cache level and shared queue (redis://host:port); empty = REDIS_HOST/REDIS_PORT, or no Redis.",
    "REDIS_HOST" = "" : "Redis host, when REDIS_URL is empty; empty = no Redis.",
    "REDIS_PORT" = "6379" : "Redis port, with REDIS_HOST.",
    "REDIS_EMBEDDING_DB" = "2" : "Redis database of the embedding cache and queue.",
    "EMBEDDING_SHARED_QUEUE" = "false" : "Orchestrator: queue requests in Redis so that several processes (server replicas) share one batcher pool; a claimed batch is leased, so a worker that dies loses nothing.",
    "EMBEDDING_QUEUE_WORKERS" = "1" : "Orchestrator: shared-queue workers this process runs (0 = it only submits work).",
    "EMBEDDING_QUEUE_LEASE" = "35000" : "Orchestrator: milliseconds a worker owns a claimed batch before another may take it over; must exceed OLLAMA_BATCH_TIMEOUT.",
    "EMBEDDING_ADAPTIVE_BATCH" = "true" : "Orchestrator: let load and measured batch latency move the batch size (up to EMBEDDING_MAX_BATCH_SIZE).",
    "EMBEDDING_BATCH_TARGET_LATENCY" = "2000" : "Orchestrator: milliseconds; slower batches shrink the adaptive batch size.",
    "EMBEDDING_BREAKER_THRESHOLD" = "5" : "Orchestrator: consecutive failed model calls that open the circuit breaker.",
    "EMBEDDING_BREAKER_COOLDOWN" = "30" : "Orchestrator: seconds an open circuit breaker rejects calls before one trial.",
    "EMBEDDING_MAX_INFLIGHT_BATCHES" = "1" : "Orchestrator: batches one process sends to the model at once.",
}

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
    /// `None` when LLM_BINDING is `none`: the offline path.
    pub llm: Option<LlmConfig>,
    pub embedding_host: String,
    pub embedding_api_key: String,
    pub embedding_timeout_s: f64,
    /// The embedding batching orchestrator, when EMBEDDING_BATCHING is on.
    pub embedding_batching: Option<EmbeddingBatching>,
}

/// Raw settings by name, highest-precedence source last applied.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    values: HashMap<String, String>,
}

impl Settings {
    /// Loads config file < `.env` (current directory) < process environment.
    /// The config file is `LIGHTRAG_CONFIG` (env or `.env`) or `./config.ini` when present.
    pub fn load() -> Result<Settings> {
        let mut s = Settings::default();
        let dotenv = read_dotenv(Path::new(".env"))?;
        let env: HashMap<String, String> = std::env::vars().collect();
        let explicit = env
            .get("LIGHTRAG_CONFIG")
            .or_else(|| dotenv.get("LIGHTRAG_CONFIG"))
            .cloned();
        let file = explicit
            .clone()
            .unwrap_or_else(|| "./config.ini".to_string());
        let path = Path::new(&file);
        if path.exists() {
            s.merge(read_ini(path)?);
        } else if explicit.is_some() {
            return Err(Error::Config(format!("config file {file} does not exist")));
        }
        s.merge(dotenv);
        s.merge(env);
        Ok(s)
    }

    /// Applies values over the current ones.
    pub fn merge(&mut self, values: HashMap<String, String>) {
        self.values.extend(values);
    }

    /// Sets one value (a command-line flag: the highest precedence).
    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        self.values.insert(key.to_string(), value.into());
    }

    /// The first of `names` that is set.
    pub fn get(&self, names: &[&str]) -> Option<&str> {
        names
            .iter()
            .find_map(|n| self.values.get(*n))
            .map(String::as_str)
    }

    fn default_of(name: &str) -> &'static str {
        KEYS.iter()
            .find(|k| k.name == name)
            .map(|k| k.default)
            .unwrap_or("")
    }

    /// The value of the first of `names` that is set (and that name), else the documented default.
    fn named(&self, names: &[&str]) -> (String, String) {
        for n in names {
            if let Some(v) = self.values.get(*n) {
                return (n.to_string(), v.clone());
            }
        }
        let name = names
            .iter()
            .find(|n| KEYS.iter().any(|k| k.name == **n))
            .unwrap_or(&names[0]);
        (name.to_string(), Self::default_of(name).to_string())
    }

    fn raw(&self, names: &[&str]) -> String {
        self.named(names).1
    }

    fn parse<T: std::str::FromStr>(&self, names: &[&str]) -> Result<T> {
        let (name, raw) = self.named(names);
        raw.trim().parse().map_err(|_| {
            let kind = std::any::type_name::<T>();
            let kind = match kind {
                "usize" | "u64" | "u32" | "u16" => "non-negative integer",
                "f32" | "f64" => "number",
                other => other,
            };
            Error::Config(format!("{name} = '{raw}' is not a valid {kind}"))
        })
    }

    fn flag(&self, names: &[&str]) -> Result<bool> {
        let (name, raw) = self.named(names);
        match raw.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "t" | "on" => Ok(true),
            "false" | "0" | "no" | "f" | "off" | "" => Ok(false),
            _ => Err(Error::Config(format!(
                "{name} = '{raw}' is not a boolean (true/false)"
            ))),
        }
    }

    /// Builds the typed configuration, rejecting values that cannot work.
    pub fn to_config(&self) -> Result<Config> {
        let workspace: String = self
            .raw(&["WORKSPACE"])
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let split = self
            .raw(&["CHUNK_F_SPLIT_BY_CHARACTER"])
            .replace("\\n", "\n");
        let chunking = ChunkingOptions {
            size: self.parse(&["CHUNK_F_SIZE", "CHUNK_SIZE"])?,
            overlap: self.parse(&[
                "CHUNK_F_OVERLAP_SIZE",
                "CHUNK_OVERLAP_SIZE",
                "CHUNK_OVERLAP",
            ])?,
            split_by_character: (!split.is_empty()).then_some(split),
            split_by_character_only: self.flag(&["CHUNK_F_SPLIT_BY_CHARACTER_ONLY"])?,
        };
        if chunking.size == 0 || chunking.overlap >= chunking.size {
            return Err(Error::Config(format!(
                "CHUNK_OVERLAP_SIZE ({}) must be smaller than CHUNK_SIZE ({}), and CHUNK_SIZE > 0",
                chunking.overlap, chunking.size
            )));
        }
        let positive = |name: &str, v: usize| -> Result<usize> {
            if v == 0 {
                Err(Error::Config(format!("{name} must be greater than 0")))
            } else {
                Ok(v)
            }
        };
        let pick = match self
            .raw(&["KG_CHUNK_PICK_METHOD"])
            .to_ascii_uppercase()
            .as_str()
        {
            "VECTOR" => ChunkPickMethod::Vector,
            "WEIGHT" => ChunkPickMethod::Weight,
            other => {
                return Err(Error::Config(format!(
                    "KG_CHUNK_PICK_METHOD = '{other}': use VECTOR or WEIGHT"
                )))
            }
        };
        let limit = match self
            .raw(&["SOURCE_IDS_LIMIT_METHOD"])
            .to_ascii_uppercase()
            .as_str()
        {
            "KEEP" => SourceIdsLimit::Keep,
            "FIFO" => SourceIdsLimit::Fifo,
            other => {
                return Err(Error::Config(format!(
                    "SOURCE_IDS_LIMIT_METHOD = '{other}': use KEEP or FIFO"
                )))
            }
        };
        let threshold: f32 = self.parse(&["COSINE_THRESHOLD"])?;
        if !threshold.is_finite() {
            return Err(Error::Config(
                "COSINE_THRESHOLD must be a finite number".into(),
            ));
        }
        let model_dir = self.raw(&["LOCAL_EMBEDDING_MODEL_DIR", "LIGHTRAG_MODEL_DIR"]);
        Ok(Config {
            working_dir: PathBuf::from(self.raw(&["WORKING_DIR"])),
            workspace,
            chunking,
            max_async: positive("MAX_ASYNC", self.parse(&["MAX_ASYNC", "MAX_ASYNC_LLM"])?)?,
            max_parallel_insert: positive(
                "MAX_PARALLEL_INSERT",
                self.parse(&["MAX_PARALLEL_INSERT"])?,
            )?,
            processing_threads: self.parse(&["PROCESSING_THREADS"])?,
            embedding_binding: self.raw(&["EMBEDDING_BINDING"]).to_ascii_lowercase(),
            embedding_model: self.raw(&["EMBEDDING_MODEL"]),
            embedding_dim: positive("EMBEDDING_DIM", self.parse(&["EMBEDDING_DIM"])?)?,
            local_model_dir: (!model_dir.is_empty()).then(|| PathBuf::from(model_dir)),
            embedding_batch_num: positive(
                "EMBEDDING_BATCH_NUM",
                self.parse(&["EMBEDDING_BATCH_NUM", "MAX_EMBED_CHUNK_SIZE"])?,
            )?,
            max_embed_tokens: positive("MAX_EMBED_TOKENS", self.parse(&["MAX_EMBED_TOKENS"])?)?,
            enable_embedding_cache: self.flag(&["ENABLE_EMBEDDING_CACHE"])?,
            embedding_cache_size: self.parse(&["EMBEDDING_CACHE_SIZE"])?,
            enable_llm_cache_for_extract: self.flag(&["ENABLE_LLM_CACHE_FOR_EXTRACT"])?,
            query: QueryDefaults {
                top_k: self.parse(&["TOP_K"])?,
                chunk_top_k: self.parse(&["CHUNK_TOP_K"])?,
                max_entity_tokens: self.parse(&["MAX_ENTITY_TOKENS"])?,
                max_relation_tokens: self.parse(&["MAX_RELATION_TOKENS"])?,
                max_total_tokens: self.parse(&["MAX_TOTAL_TOKENS"])?,
                cosine_threshold: threshold,
                related_chunk_number: self.parse(&["RELATED_CHUNK_NUMBER"])?,
                chunk_pick: pick,
                max_graph_fanout: positive("MAX_GRAPH_FANOUT", self.parse(&["MAX_GRAPH_FANOUT"])?)?,
            },
            merge: MergeLimits {
                max_source_ids_per_entity: positive(
                    "MAX_SOURCE_IDS_PER_ENTITY",
                    self.parse(&["MAX_SOURCE_IDS_PER_ENTITY"])?,
                )?,
                max_source_ids_per_relation: positive(
                    "MAX_SOURCE_IDS_PER_RELATION",
                    self.parse(&["MAX_SOURCE_IDS_PER_RELATION"])?,
                )?,
                source_ids_limit: limit,
                max_file_paths: positive("MAX_FILE_PATHS", self.parse(&["MAX_FILE_PATHS"])?)?,
            },
            force_llm_summary_on_merge: self.parse(&["FORCE_LLM_SUMMARY_ON_MERGE"])?,
            summary_max_tokens: self.parse(&["SUMMARY_MAX_TOKENS"])?,
            summary_context_size: positive(
                "SUMMARY_CONTEXT_SIZE",
                self.parse(&["SUMMARY_CONTEXT_SIZE"])?,
            )?,
            summary_length_recommended: self.parse(&["SUMMARY_LENGTH_RECOMMENDED"])?,
            language: self.raw(&["SUMMARY_LANGUAGE"]),
            max_file_bytes: self.parse(&["MAX_FILE_BYTES"])?,
            llm: self.llm_config()?,
            embedding_host: self.embedding_host(),
            embedding_api_key: self.raw(&["EMBEDDING_BINDING_API_KEY"]),
            embedding_timeout_s: self.parse(&["EMBEDDING_TIMEOUT"])?,
            embedding_batching: self.embedding_batching()?,
        })
    }

    /// EMBEDDING_BINDING_HOST, else LLM_BINDING_HOST when both bindings are the same server
    /// kind (as LightRAG falls back), else empty (the binding's default).
    fn embedding_host(&self) -> String {
        let own = self.raw(&["EMBEDDING_BINDING_HOST"]);
        if !own.is_empty() {
            return own;
        }
        let same = self
            .raw(&["EMBEDDING_BINDING"])
            .eq_ignore_ascii_case(&self.raw(&["LLM_BINDING"]));
        if same {
            self.raw(&["LLM_BINDING_HOST"])
        } else {
            String::new()
        }
    }

    fn role(&self, prefix: &str, base: &LlmRole) -> LlmRole {
        let get = |suffix: &str, fallback: &str| {
            self.get(&[&format!("{prefix}_{suffix}")])
                .filter(|v| !v.trim().is_empty())
                .map(str::to_string)
                .unwrap_or_else(|| fallback.to_string())
        };
        let binding = get("LLM_BINDING", &base.binding).to_ascii_lowercase();
        // Another binding than the base one shares none of its host or key.
        let same = binding == base.binding;
        LlmRole {
            model: get("LLM_MODEL", &base.model),
            host: get("LLM_BINDING_HOST", if same { &base.host } else { "" }),
            api_key: get("LLM_BINDING_API_KEY", if same { &base.api_key } else { "" }),
            binding,
        }
    }

    fn llm_config(&self) -> Result<Option<LlmConfig>> {
        if self.get(&["ENTITY_TYPES"]).is_some() {
            return Err(Error::Config(
                "ENTITY_TYPES is no longer supported (as in LightRAG 1.5): remove it; entity types are part of the extraction prompt".into(),
            ));
        }
        let binding = self.raw(&["LLM_BINDING"]).to_ascii_lowercase();
        if binding == "none" || binding.is_empty() {
            return Ok(None);
        }
        if !matches!(binding.as_str(), "ollama" | "openai") {
            return Err(Error::Config(format!(
                "LLM_BINDING={binding} is not supported: use none, ollama or openai (any OpenAI-compatible server)"
            )));
        }
        let base = LlmRole {
            binding,
            model: self.raw(&["LLM_MODEL"]),
            host: self.raw(&["LLM_BINDING_HOST"]),
            api_key: self.raw(&["LLM_BINDING_API_KEY"]),
        };
        let temperature: f64 = self.parse(&[
            "LLM_TEMPERATURE",
            "OPENAI_LLM_TEMPERATURE",
            "OLLAMA_LLM_TEMPERATURE",
        ])?;
        if !temperature.is_finite() {
            return Err(Error::Config(
                "LLM_TEMPERATURE must be a finite number".into(),
            ));
        }
        Ok(Some(LlmConfig {
            extract: self.role("EXTRACT", &base),
            keyword: self.role("KEYWORD", &base),
            query: self.role("QUERY", &base),
            timeout_s: self.parse(&["LLM_TIMEOUT"])?,
            max_retries: self.parse(&["LLM_MAX_RETRIES"])?,
            temperature,
            max_tokens: self.parse(&[
                "LLM_MAX_TOKENS",
                "OPENAI_LLM_MAX_TOKENS",
                "OLLAMA_LLM_NUM_PREDICT",
            ])?,
            ollama_num_ctx: self.parse(&["OLLAMA_LLM_NUM_CTX"])?,
            enable_cache: self.flag(&["ENABLE_LLM_CACHE"])?,
            max_gleaning: self.parse(&["MAX_GLEANING"])?,
            use_json: self.flag(&["ENTITY_EXTRACTION_USE_JSON"])?,
            max_extraction_records: self.parse(&["MAX_EXTRACTION_RECORDS"])?,
            max_extraction_entities: self.parse(&["MAX_EXTRACTION_ENTITIES"])?,
            max_extract_input_tokens: self.parse(&["MAX_EXTRACT_INPUT_TOKENS"])?,
        }))
    }
}

/// Settings of the embedding batching orchestrator (seed 004; the `lightrag-orchestrator`
/// crate reads them). Plain values here, so the engine crate needs no network crate.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbeddingBatching {
    /// 0 = the model's default.
    pub batch_size: usize,
    /// 0 = the model's limit.
    pub max_batch_size: usize,
    pub batch_timeout_ms: u64,
    pub interval_ms: u64,
    pub max_retries: usize,
    pub cache_ttl_s: u64,
    /// Empty = no Redis.
    pub redis_url: String,
    pub redis_db: u32,
    pub shared_queue: bool,
    pub workers: usize,
    pub lease_ms: u64,
    pub adaptive: bool,
    pub target_latency_ms: u64,
    pub breaker_threshold: u32,
    pub breaker_cooldown_s: u64,
    pub max_in_flight_batches: usize,
}

impl Settings {
    /// The orchestrator's settings, or `None` when EMBEDDING_BATCHING is off. The Redis URL is
    /// REDIS_URL, else built from REDIS_HOST and REDIS_PORT.
    fn embedding_batching(&self) -> Result<Option<EmbeddingBatching>> {
        if !self.flag(&["EMBEDDING_BATCHING", "ENABLE_EMBEDDING_BATCHING"])? {
            return Ok(None);
        }
        let mut redis_url = self.raw(&["REDIS_URL"]).trim().to_string();
        let host = self.raw(&["REDIS_HOST"]).trim().to_string();
        if redis_url.is_empty() && !host.is_empty() {
            let port: u16 = self.parse(&["REDIS_PORT"])?;
            redis_url = format!("redis://{host}:{port}");
        }
        Ok(Some(EmbeddingBatching {
            batch_size: self.parse(&["OLLAMA_EMBEDDING_BATCH_SIZE"])?,
            max_batch_size: self.parse(&["EMBEDDING_MAX_BATCH_SIZE"])?,
            batch_timeout_ms: self.parse(&["OLLAMA_BATCH_TIMEOUT"])?,
            interval_ms: self.parse(&["BATCH_PROCESSING_INTERVAL"])?,
            max_retries: self.parse(&["MAX_BATCH_RETRIES"])?,
            cache_ttl_s: self.parse(&["EMBEDDING_CACHE_TTL"])?,
            redis_url,
            redis_db: self.parse(&["REDIS_EMBEDDING_DB"])?,
            shared_queue: self.flag(&["EMBEDDING_SHARED_QUEUE"])?,
            workers: self.parse(&["EMBEDDING_QUEUE_WORKERS"])?,
            lease_ms: self.parse(&["EMBEDDING_QUEUE_LEASE"])?,
            adaptive: self.flag(&["EMBEDDING_ADAPTIVE_BATCH"])?,
            target_latency_ms: self.parse(&["EMBEDDING_BATCH_TARGET_LATENCY"])?,
            breaker_threshold: self.parse(&["EMBEDDING_BREAKER_THRESHOLD"])?,
            breaker_cooldown_s: self.parse(&["EMBEDDING_BREAKER_COOLDOWN"])?,
            max_in_flight_batches: self.parse(&["EMBEDDING_MAX_INFLIGHT_BATCHES"])?,
        }))
    }
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

fn read_dotenv(path: &Path) -> Result<HashMap<String, String>> {
    if !path.exists() {
        return Ok(HashMap::new());
    }
    let iter = dotenvy::from_path_iter(path)
        .map_err(|e| Error::Config(format!("cannot read {}: {e}", path.display())))?;
    let mut out = HashMap::new();
    for item in iter {
        let (k, v) = item.map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
        out.insert(k, v);
    }
    Ok(out)
}

/// Reads an INI file: `KEY = VALUE` lines; keys in a `[section]` other than `[lightrag]`
/// become `SECTION_KEY` (so `[postgres] host` is `POSTGRES_HOST`); `#` and `;` start comments.
pub fn read_ini(path: &Path) -> Result<HashMap<String, String>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Config(format!("cannot read config file {}: {e}", path.display())))?;
    parse_ini(&text).map_err(|e| Error::Config(format!("{}: {e}", path.display())))
}

fn parse_ini(text: &str) -> std::result::Result<HashMap<String, String>, String> {
    let mut out = HashMap::new();
    let mut section = String::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.trim().to_ascii_uppercase();
            continue;
        }
        let Some((k, v)) = line.split_once('=').or_else(|| line.split_once(':')) else {
            return Err(format!("line {}: expected KEY = VALUE", n + 1));
        };
        let key = k.trim().to_ascii_uppercase();
        let value = v.trim().trim_matches('"').to_string();
        let full = if section.is_empty() || section == "LIGHTRAG" {
            key
        } else {
            format!("{section}_{key}")
        };
        out.insert(full, value);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(pairs: &[(&str, &str)]) -> Settings {
        let mut s = Settings::default();
        for (k, v) in pairs {
            s.set(k, *v);
        }
        s
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
    fn ini_sections_prefix_keys() {
        let m = parse_ini("# c\nTOP_K = 9\n[postgres]\nhost = db\n[lightrag]\nchunk_size: 300\n")
            .unwrap();
        assert_eq!(m["TOP_K"], "9");
        assert_eq!(m["POSTGRES_HOST"], "db");
        assert_eq!(m["CHUNK_SIZE"], "300");
        assert!(parse_ini("garbage line").is_err());
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
    fn workspace_is_sanitised() {
        let c = with(&[("WORKSPACE", "a-b c")]).to_config().unwrap();
        assert_eq!(c.workspace, "a_b_c");
        assert!(c.data_dir().ends_with("a_b_c"));
    }
}

#[cfg(test)]
mod doc_tests {
    /// Every key is documented in docs/configuration.md.
    #[test]
    fn every_key_is_documented() {
        let doc = include_str!("../../../docs/configuration.md");
        for k in super::KEYS {
            assert!(
                doc.contains(&format!("`{}`", k.name)),
                "{} is missing from docs/configuration.md",
                k.name
            );
        }
    }
}
