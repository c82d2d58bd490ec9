//! [`Settings::to_config`]: raw settings checked and turned into the typed [`Config`].

use std::path::PathBuf;

use super::{
    ChunkPickMethod, Config, LlmConfig, LlmRole, MergeLimits, QueryDefaults, RerankConfig,
    Settings, SourceIdsLimit,
};
use crate::chunker::ChunkingOptions;
use crate::error::{Error, Result};

impl Settings {
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
            document_lease_ttl: {
                let secs: f64 = self.parse(&["DOCUMENT_LEASE_TTL"])?;
                if !(secs.is_finite() && secs >= 0.3) {
                    return Err(Error::Config(format!(
                        "DOCUMENT_LEASE_TTL = {secs}: use a number of seconds, at least 0.3"
                    )));
                }
                std::time::Duration::from_secs_f64(secs)
            },
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
                // On by default only when there is a reranker to call.
                enable_rerank: self.flag(&["RERANK_BY_DEFAULT"])?
                    && !matches!(
                        self.raw(&["RERANK_BINDING"]).to_ascii_lowercase().as_str(),
                        "null" | "none" | ""
                    ),
                min_rerank_score: {
                    let v: f32 = self.parse(&["MIN_RERANK_SCORE"])?;
                    if !v.is_finite() {
                        return Err(Error::Config(
                            "MIN_RERANK_SCORE must be a finite number".into(),
                        ));
                    }
                    v
                },
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
            parse_timeout: {
                let secs: f64 = self.parse(&["PARSE_TIMEOUT"])?;
                if !(secs.is_finite() && secs > 0.0) {
                    return Err(Error::Config(format!(
                        "PARSE_TIMEOUT = {secs}: use a positive number of seconds"
                    )));
                }
                std::time::Duration::from_secs_f64(secs)
            },
            max_unpacked_bytes: positive(
                "MAX_UNPACKED_BYTES",
                self.parse(&["MAX_UNPACKED_BYTES"])?,
            )? as u64,
            llm: self.llm_config()?,
            rerank: self.rerank_config()?,
            embedding_host: self.embedding_host(),
            embedding_api_key: self.raw(&["EMBEDDING_BINDING_API_KEY"]),
            embedding_timeout_s: self.parse(&["EMBEDDING_TIMEOUT"])?,
            settings: self.clone(),
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

    fn rerank_config(&self) -> Result<Option<RerankConfig>> {
        let binding = self.raw(&["RERANK_BINDING"]).to_ascii_lowercase();
        let key_fallback = match binding.as_str() {
            "null" | "none" | "" => return Ok(None),
            "cohere" => "COHERE_API_KEY",
            "jina" => "JINA_API_KEY",
            "aliyun" => "DASHSCOPE_API_KEY",
            other => {
                return Err(Error::Config(format!(
                    "RERANK_BINDING={other} is not supported: use null, cohere, jina or aliyun"
                )))
            }
        };
        let timeout_s: f64 = self.parse(&["RERANK_TIMEOUT"])?;
        if !(timeout_s.is_finite() && timeout_s > 0.0) {
            return Err(Error::Config(format!(
                "RERANK_TIMEOUT = {timeout_s}: use a positive number of seconds"
            )));
        }
        let max_async: usize = match self.raw(&["MAX_ASYNC_RERANK"]).as_str() {
            "" => self.parse(&["MAX_ASYNC", "MAX_ASYNC_LLM"])?,
            _ => self.parse(&["MAX_ASYNC_RERANK"])?,
        };
        let max_tokens_per_doc: usize = self.parse(&["RERANK_MAX_TOKENS_PER_DOC"])?;
        if max_tokens_per_doc == 0 {
            return Err(Error::Config(
                "RERANK_MAX_TOKENS_PER_DOC must be at least 1".into(),
            ));
        }
        let mut api_key = self.raw(&["RERANK_BINDING_API_KEY"]);
        if api_key.is_empty() {
            api_key = self
                .get(&[key_fallback])
                .unwrap_or_default()
                .trim()
                .to_string();
        }
        Ok(Some(RerankConfig {
            model: self.raw(&["RERANK_MODEL"]),
            host: self.raw(&["RERANK_BINDING_HOST"]),
            api_key,
            timeout_s,
            max_async: max_async.max(1),
            enable_chunking: binding == "cohere" && self.flag(&["RERANK_ENABLE_CHUNKING"])?,
            max_tokens_per_doc,
            binding,
        }))
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
