//! Every setting the engine reads: name, default and meaning, in one table. Other crates keep
//! tables of their own keys (the server's, the orchestrator's, the stores') with
//! [`settings_table!`]; the tables are the source of `docs/configuration.md`'s key list
//! (`scripts/config-doc.py`), and a test in each crate checks that the document names its keys.

/// A setting: its name, its default as text, and what it does.
pub struct Key {
    pub name: &'static str,
    pub default: &'static str,
    pub help: &'static str,
}

/// Declares a crate's table of settings, each `"NAME" = "default" : "meaning"`: every crate
/// owns the keys it reads, and `scripts/config-doc.py` gathers the tables into
/// docs/configuration.md (each crate's test checks its table is documented, with
/// [`undocumented`]).
#[macro_export]
macro_rules! settings_table {
    ($(#[$meta:meta])* $vis:vis $table:ident { $($name:literal = $default:literal : $help:literal),* $(,)? }) => {
        $(#[$meta])*
        $vis const $table: &[$crate::config::Key] =
            &[$($crate::config::Key { name: $name, default: $default, help: $help }),*];
    };
}

/// The keys of `table` that `doc` does not name as `` `KEY` ``.
pub fn undocumented(table: &[Key], doc: &str) -> Vec<&'static str> {
    table
        .iter()
        .filter(|k| !doc.contains(&format!("`{}`", k.name)))
        .map(|k| k.name)
        .collect()
}

/// The default of `name` in `table` ("" when it has none).
pub fn default_in(table: &[Key], name: &str) -> &'static str {
    table
        .iter()
        .find(|k| k.name == name)
        .map(|k| k.default)
        .unwrap_or("")
}

settings_table! {
    /// Every setting the engine reads.
    pub KEYS {
    "WORKING_DIR" = "./rag_storage" : "Storage root of the embedded default.",
    "WORKSPACE" = "" : "Data-isolation namespace: data lives in WORKING_DIR/<workspace>/ when set.",
    "LIGHTRAG_CONFIG" = "./config.ini" : "Config file (INI: KEY=VALUE lines; a [section] prefixes its keys as SECTION_KEY).",
    "CHUNK_SIZE" = "1200" : "Tokens per chunk (tiktoken o200k_base).",
    "CHUNK_OVERLAP_SIZE" = "100" : "Tokens shared by consecutive chunks. CHUNK_OVERLAP (seed 000) is an alias.",
    "CHUNK_F_SPLIT_BY_CHARACTER" = "" : "Split documents on this sequence before token windows (\\n is a newline).",
    "CHUNK_F_SPLIT_BY_CHARACTER_ONLY" = "false" : "Each split piece is one chunk; a piece over CHUNK_SIZE fails the document.",
    "MAX_ASYNC" = "4" : "Concurrent extraction calls (LightRAG's MAX_ASYNC_LLM / MAX_ASYNC).",
    "MAX_PARALLEL_INSERT" = "3" : "Documents processed at once.",
    "DOCUMENT_LEASE_TTL" = "60" : "Seconds a process's claim on a document lasts unless renewed (every third of it, while it works); a process that dies leaves its documents to the others after this.",
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
    "PARSE_TIMEOUT" = "60" : "Seconds the text extraction of one file (PDF, DOCX, XLSX, ...) may take; a file that takes longer fails with a message and the others go on.",
    "MAX_UNPACKED_BYTES" = "536870912" : "Most bytes the parts of one DOCX, PPTX, XLSX, ODT or EPUB file may unpack to; more is refused as a zip bomb.",
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
    "RERANK_BINDING" = "null" : "Reranker of retrieved chunks: `null` (none), `cohere` (Cohere v2 /rerank and compatible proxies), `jina` (Jina /v1/rerank) or `aliyun` (DashScope text-rerank).",
    "RERANK_MODEL" = "" : "Rerank model; default rerank-v3.5 (cohere), jina-reranker-v2-base-multilingual (jina), gte-rerank-v2 (aliyun).",
    "RERANK_BINDING_HOST" = "" : "The full rerank endpoint URL; default https://api.cohere.com/v2/rerank, https://api.jina.ai/v1/rerank, https://dashscope.aliyuncs.com/api/v1/services/rerank/text-rerank/text-rerank.",
    "RERANK_BINDING_API_KEY" = "" : "API key of the rerank server, sent as a Bearer token (falls back to COHERE_API_KEY, JINA_API_KEY or DASHSCOPE_API_KEY by binding; never logged).",
    "RERANK_BY_DEFAULT" = "true" : "Default of a query's `enable_rerank` when RERANK_BINDING names a reranker (without one it is off); a query can turn reranking on or off for itself.",
    "MIN_RERANK_SCORE" = "0.0" : "Reranked chunks scoring below this are dropped from the context (0 keeps all).",
    "RERANK_TIMEOUT" = "30" : "Seconds one rerank request may take; a reranker that fails or times out leaves the retrieval order.",
    "MAX_ASYNC_RERANK" = "" : "Rerank requests in flight at once per process; empty = MAX_ASYNC.",
    "RERANK_ENABLE_CHUNKING" = "false" : "cohere only: cut documents longer than RERANK_MAX_TOKENS_PER_DOC into overlapping windows and score each document by its best window.",
    "RERANK_MAX_TOKENS_PER_DOC" = "4096" : "Window size in tokens for RERANK_ENABLE_CHUNKING.",
    }
}

#[cfg(test)]
mod tests {
    /// Every key is documented in docs/configuration.md.
    #[test]
    fn every_key_is_documented() {
        let doc = include_str!("../../../../docs/configuration.md");
        let missing = super::undocumented(super::KEYS, doc);
        assert!(
            missing.is_empty(),
            "missing from docs/configuration.md: {missing:?}"
        );
    }
}
