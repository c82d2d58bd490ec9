//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// lightrag: a graph-based retrieval-augmented generation engine (LightRAG in Rust).
#[derive(Debug, Parser)]
#[command(name = "lightrag", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Settings every command takes; they override the config file, `.env` and the environment.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Storage directory (WORKING_DIR, default ./rag_storage).
    #[arg(long, global = true, value_name = "DIR")]
    pub working_dir: Option<PathBuf>,
    /// Workspace inside the working directory (WORKSPACE).
    #[arg(long, global = true)]
    pub workspace: Option<String>,
    /// Any setting, as KEY=VALUE (repeatable), e.g. --set CHUNK_SIZE=800.
    #[arg(long = "set", global = true, value_name = "KEY=VALUE")]
    pub settings: Vec<String>,
    /// Call the LLM even where a cached reply exists (ENABLE_LLM_CACHE and
    /// ENABLE_LLM_CACHE_FOR_EXTRACT off for this run).
    #[arg(long, global = true)]
    pub no_cache: bool,
    /// More log output (-v info, -vv debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Index files or folders (.txt, .md); unchanged files are skipped, interrupted runs resume.
    Insert(InsertArgs),
    /// Ask a question.
    Query(QueryArgs),
    /// Documents per status, with the errors of failed ones.
    Status(StatusArgs),
    /// Remove documents (by id, or by the key/file path they were inserted under).
    Delete(DeleteArgs),
    /// Knowledge graph commands.
    Graph {
        #[command(subcommand)]
        command: GraphCommand,
    },
    /// Report drift between the graph/key-value stores and the vector indexes.
    Check(CheckArgs),
    /// Re-derive the vector indexes from the graph and the chunks (also after a model change).
    RebuildVectors,
    /// The LLM response cache.
    Cache {
        #[command(subcommand)]
        command: CacheCommand,
    },
    /// Copy the knowledge base to other stores (embedded to PostgreSQL and back), then check
    /// the copy.
    Migrate(MigrateArgs),
    /// Write the whole knowledge base (documents, chunks, graph, vectors, statuses, LLM cache
    /// unless --no-cache) to FILE as versioned JSON Lines (gzip when FILE ends in .gz); an
    /// interrupted export leaves FILE.partial, which the same command continues.
    Export(ExportArgs),
    /// Load a file of `lightrag export` into the configured stores, skipping what is already
    /// there (so an interrupted import run again resumes), then check them.
    Import(ImportArgs),
    /// Serve LightRAG's HTTP API (documents, query, graph, Ollama emulation) on HOST:PORT.
    Serve(ServeArgs),
    /// Measure ingest or retrieval on a generated corpus (see docs/benchmarks.md).
    Bench(BenchArgs),
    /// Exit 0 when a running server's /health answers 200 (the container's HEALTHCHECK).
    Healthcheck(HealthcheckArgs),
}

#[derive(Debug, Args)]
pub struct HealthcheckArgs {
    /// HOST:PORT to ask (default: PORT on 127.0.0.1, or on HOST when it is not a wildcard).
    #[arg(long, value_name = "HOST:PORT")]
    pub addr: Option<String>,
    /// Seconds to wait for the connection and for the answer.
    #[arg(long, default_value_t = 5)]
    pub timeout: u64,
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// Where to: `postgres` (every role PG*, from DATABASE_URL or POSTGRES_*), `embedded`
    /// (every role embedded, in --to-dir), or `custom` (only --to-set).
    #[arg(long, value_name = "postgres|embedded|custom")]
    pub to: String,
    /// The target's working directory (with --to embedded).
    #[arg(long, value_name = "DIR")]
    pub to_dir: Option<PathBuf>,
    /// A setting of the target only, as KEY=VALUE (repeatable), e.g.
    /// --to-set DATABASE_URL=postgres://... or --to-set LIGHTRAG_GRAPH_STORAGE=PGGraphStorage.
    #[arg(long = "to-set", value_name = "KEY=VALUE")]
    pub to_settings: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The file to write (FILE.partial until it is complete); .gz compresses it. The global
    /// --no-cache leaves the LLM response cache out.
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// A file written by `lightrag export` (plain or gzip).
    pub file: PathBuf,
    /// Leave the file's vectors out and embed everything again with the configured model
    /// (the way to restore into another embedding model or dimension).
    #[arg(long)]
    pub rebuild_vectors: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to bind (HOST, default 0.0.0.0).
    #[arg(long)]
    pub host: Option<String>,
    /// Port (PORT, default 9621; 0 = any free port).
    #[arg(long)]
    pub port: Option<u16>,
    /// API key clients must send in X-API-Key (LIGHTRAG_API_KEY).
    #[arg(long)]
    pub key: Option<String>,
    /// Seconds in-flight requests get to finish after SIGTERM.
    #[arg(long, default_value_t = 30)]
    pub shutdown_grace: u64,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// What to measure: insert (documents through the whole pipeline), retrieval (query
    /// context building on a large generated graph, no answer) or embedding (the batching
    /// orchestrator against unbatched calls).
    #[arg(long, default_value = "insert", value_parser = ["insert", "retrieval", "embedding", "e2e", "vectors"])]
    pub component: String,
    /// vectors: vectors to write.
    #[arg(long, default_value_t = 100_000)]
    pub vectors: usize,
    /// vectors: their dimension.
    #[arg(long, default_value_t = 384)]
    pub dim: usize,
    /// vectors: `dense` (points around 1,000 centres, like model embeddings) or `text`
    /// (generated sentences through the hashing embedder: sparse).
    #[arg(long, default_value = "dense", value_parser = ["dense", "text"])]
    pub vector_data: String,
    /// insert: documents to generate.
    #[arg(long, default_value_t = 1000)]
    pub docs: usize,
    /// insert: tokens per generated document (about).
    #[arg(long, default_value_t = 1000)]
    pub doc_tokens: usize,
    /// retrieval: entities in the generated graph.
    #[arg(long, default_value_t = 100_000)]
    pub entities: usize,
    /// retrieval: relations in the generated graph.
    #[arg(long, default_value_t = 200_000)]
    pub relations: usize,
    /// retrieval: queries per mode; e2e: queries per phase.
    #[arg(long, default_value_t = 200)]
    pub queries: usize,
    /// e2e: the running server to load (`lightrag serve`), e.g. http://127.0.0.1:9621.
    #[arg(long)]
    pub url: Option<String>,
    /// e2e: X-API-Key to send.
    #[arg(long)]
    pub api_key: Option<String>,
    /// retrieval: queries in flight at once.
    #[arg(long, default_value_t = 1)]
    pub concurrency: usize,
    /// embedding: concurrent requests per phase.
    #[arg(long, default_value_t = 1000)]
    pub requests: usize,
    /// embedding: an Ollama-compatible test server already running (default: start
    /// lightrag-test-llm --embedder local from this binary's directory).
    #[arg(long)]
    pub embed_server: Option<String>,
    /// embedding: model calls the started server computes at once (OLLAMA_NUM_PARALLEL).
    #[arg(long, default_value_t = 1)]
    pub embed_parallel: usize,
    /// Keep the generated working directory here (default: a temporary directory); an existing
    /// retrieval graph there is reused.
    #[arg(long)]
    pub bench_dir: Option<PathBuf>,
    /// Print the results as JSON too.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct InsertArgs {
    /// Files or folders (folders are walked recursively).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Print a JSON report instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    /// The question.
    pub question: String,
    /// Retrieval mode.
    #[arg(long, default_value = "mix", value_parser = ["naive", "local", "global", "hybrid", "mix", "bypass"])]
    pub mode: String,
    /// Print only the context that would be handed to the LLM (only_need_context).
    #[arg(long)]
    pub context_only: bool,
    /// Print only the full prompt (only_need_prompt).
    #[arg(long)]
    pub prompt_only: bool,
    /// Print the retrieved entities, relations, chunks and references as JSON.
    #[arg(long)]
    pub json: bool,
    /// Entities/relations to retrieve (TOP_K).
    #[arg(long)]
    pub top_k: Option<usize>,
    /// Chunks to retrieve (CHUNK_TOP_K).
    #[arg(long)]
    pub chunk_top_k: Option<usize>,
    /// Answer format, e.g. "Bullet Points".
    #[arg(long)]
    pub response_type: Option<String>,
    /// Extra instructions for the answer.
    #[arg(long)]
    pub user_prompt: Option<String>,
    /// High-level keywords (skips keyword extraction), comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub hl_keywords: Vec<String>,
    /// Low-level keywords (skips keyword extraction), comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub ll_keywords: Vec<String>,
    /// Keep the retrieval order of the chunks even when a reranker is configured
    /// (enable_rerank=false).
    #[arg(long)]
    pub no_rerank: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Also list every document.
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// Document ids (doc-...) or the keys they were inserted under (e.g. notes.md).
    #[arg(required = true)]
    pub ids: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum GraphCommand {
    /// Write the knowledge graph for Gephi, yEd or a script.
    Export {
        /// graphml or json.
        #[arg(long, default_value = "graphml", value_parser = ["graphml", "json"])]
        format: String,
        /// Output file (default: standard output).
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum CacheCommand {
    /// Remove cached LLM replies (and cached extraction results).
    Clear {
        /// Only this kind: extract, summary, keywords or query (default: all).
        #[arg(long, value_parser = ["extract", "summary", "keywords", "query"])]
        kind: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}
