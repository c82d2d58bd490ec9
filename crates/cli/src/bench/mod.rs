//! `lightrag bench`: measurements on generated data (see docs/benchmarks.md).
//!
//! * `--component insert`: generated documents through the whole pipeline (enqueue, chunking,
//!   extraction, embedding, merge), exactly as `lightrag insert` runs it.
//! * `--component retrieval`: a large generated graph written straight into the stores, then
//!   query context building (`only_need_context`) in every mode.
//! * `--component embedding`: the embedding batching orchestrator (seed 004) against unbatched
//!   calls to an Ollama-compatible server computing real embeddings (see docs/orchestrator.md).
//! * `--component e2e --url URL`: load on a running `lightrag serve` over HTTP (see
//!   docs/server.md).
//! * `--component vectors`: the configured vector store's approximate search against exact
//!   search (recall@10) and its query latency.
//!
//! Each prints what it measured and on what; `--json` also prints a JSON object (the human
//! report then goes to standard error, the JSON alone to standard output).

mod corpus;
mod cpu;
mod e2e;
mod embedding;
mod graphbuild;
mod graphgen;
mod insert;
mod queries;
mod report;
mod retrieval;
mod rng;
mod vectors;
mod words;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use lightrag_core::config::Config;

use crate::args::BenchArgs;

/// The seed of every generated corpus and graph (fixed: runs are comparable).
pub const SEED: u64 = 20_251_125;

pub async fn run(cfg: Config, args: &BenchArgs) -> Result<()> {
    match args.component.as_str() {
        "insert" => insert::run(cfg, args).await,
        "retrieval" => retrieval::run(cfg, args).await,
        "embedding" => embedding::run(cfg, args).await,
        "e2e" => e2e::run(args).await,
        "vectors" => vectors::run(cfg, args).await,
        other => {
            bail!("unknown benchmark component '{other}': use insert, retrieval, embedding, e2e or vectors")
        }
    }
}

/// The benchmark's working directory: `--bench-dir`, or a fresh temporary directory that is
/// removed when the benchmark ends.
pub struct BenchDir {
    pub path: PathBuf,
    temporary: bool,
}

impl BenchDir {
    pub fn create(given: Option<&Path>, what: &str) -> Result<BenchDir> {
        let (path, temporary) = match given {
            Some(p) => (p.to_path_buf(), false),
            None => {
                let nanos = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.subsec_nanos());
                let name = format!("lightrag-bench-{what}-{}-{nanos}", std::process::id());
                (std::env::temp_dir().join(name), true)
            }
        };
        std::fs::create_dir_all(&path)
            .with_context(|| format!("cannot create the benchmark directory {}", path.display()))?;
        Ok(BenchDir { path, temporary })
    }

    /// Whether the directory holds nothing yet.
    pub fn is_empty(&self) -> Result<bool> {
        let mut entries = std::fs::read_dir(&self.path)
            .with_context(|| format!("cannot read {}", self.path.display()))?;
        Ok(entries.next().is_none())
    }

    /// Bytes of every file below the directory.
    pub fn size_bytes(&self) -> u64 {
        fn walk(p: &Path) -> u64 {
            let Ok(rd) = std::fs::read_dir(p) else {
                return 0;
            };
            rd.filter_map(|e| e.ok())
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => walk(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        }
        walk(&self.path)
    }

    /// A description for the report.
    pub fn describe(&self) -> String {
        if self.temporary {
            format!("{} (temporary, removed at the end)", self.path.display())
        } else {
            self.path.display().to_string()
        }
    }
}

impl Drop for BenchDir {
    fn drop(&mut self) {
        if self.temporary {
            if let Err(e) = std::fs::remove_dir_all(&self.path) {
                eprintln!("warning: cannot remove {}: {e}", self.path.display());
            }
        }
    }
}
