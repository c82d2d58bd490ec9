//! `lightrag-test-llm`: the test model server as a process, for manual runs and scripts.
//! Prints `listening on 127.0.0.1:PORT` as its first line, then serves until killed.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use lightrag_core::hashing::HashingEmbedder;
use lightrag_core::ports::Embedder;
use lightrag_providers::local_model::LocalEmbedder;
use lightrag_testserver::{serve, Script, ServerConfig};

/// A stand-in for Ollama and OpenAI-compatible servers with scripted replies.
#[derive(Parser)]
#[command(name = "lightrag-test-llm", version)]
struct Args {
    /// Port on 127.0.0.1 (0 = any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// JSON script: a list of rules, or {"rules": [...], "default_reply": "..."}.
    #[arg(long)]
    script: Option<PathBuf>,
    /// Milliseconds added before every chat response.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Dimension of the (feature hashing) embeddings.
    #[arg(long, default_value_t = 384)]
    embed_dim: usize,
    /// What computes embeddings: `hashing` (feature hashing, instant) or `local` (the real
    /// all-MiniLM-L6-v2 model in process, 384 dimensions, from --model-dir or the user cache
    /// where scripts/fetch-model.sh puts it).
    #[arg(long, default_value = "hashing", value_parser = ["hashing", "local"])]
    embedder: String,
    /// Model directory of `--embedder local`.
    #[arg(long)]
    model_dir: Option<PathBuf>,
    /// Embedding requests computed at once, like Ollama's OLLAMA_NUM_PARALLEL (0 = no limit).
    #[arg(long, default_value_t = 0)]
    embed_parallel: usize,
    /// Chat requests answered at once, like a model server's parallel slots (0 = no limit);
    /// the rest queue.
    #[arg(long, default_value_t = 0)]
    chat_parallel: usize,
    /// Multiply every embedding by this (checks client-side normalisation).
    #[arg(long, default_value_t = 1.0)]
    embed_scale: f32,
    /// Model names listed by /api/tags and /v1/models (comma-separated).
    #[arg(long, value_delimiter = ',')]
    models: Vec<String>,
    /// Print each new maximum of concurrent chat requests on stderr (GET /test/stats has it
    /// always).
    #[arg(long)]
    max_concurrency_report: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let script = match &args.script {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read script {}", path.display()))?;
            Script::from_json(&text)
                .with_context(|| format!("script {} is not valid", path.display()))?
        }
        None => Script::default(),
    };
    anyhow::ensure!(args.embed_dim > 0, "--embed-dim must be greater than 0");
    let embedder: Arc<dyn Embedder> = match args.embedder.as_str() {
        "local" => {
            let dir = args
                .model_dir
                .clone()
                .unwrap_or_else(LocalEmbedder::default_model_dir);
            let model = LocalEmbedder::load(&dir).with_context(|| {
                format!(
                    "cannot load the local model from {} (scripts/fetch-model.sh installs it)",
                    dir.display()
                )
            })?;
            Arc::new(model)
        }
        _ => Arc::new(HashingEmbedder::new(args.embed_dim)),
    };
    let mut cfg = ServerConfig {
        port: args.port,
        script,
        latency: Duration::from_millis(args.latency_ms),
        embedder,
        embed_parallel: args.embed_parallel,
        chat_parallel: args.chat_parallel,
        embed_scale: args.embed_scale,
        report_concurrency: args.max_concurrency_report,
        ..ServerConfig::default()
    };
    if !args.models.is_empty() {
        cfg.models = args.models;
    }
    let (addr, handle) = serve(cfg).await.context("cannot bind")?;
    println!("listening on {addr}");
    std::io::stdout().flush()?;
    handle.await.context("server task failed")?;
    Ok(())
}
