//! `lightrag check` and `lightrag rebuild-vectors`.

use anyhow::{bail, Context, Result};
use lightrag_core::config::Config;
use lightrag_storage::embedded::db::DB_FILE_NAME;
use lightrag_storage::embedded::{MARKER_FILE, VECTOR_SETS};
use lightrag_storage::select::{Backend, Role, StorageConfig};

use crate::args::CheckArgs;
use crate::setup::Engine;

pub async fn check(engine: &Engine, args: &CheckArgs) -> Result<()> {
    let r = engine.rag.check().await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        for s in &r.vector_sets {
            println!(
                "{:<14} expected {:>6}  stored {:>6}  missing {:>4}  orphaned {:>4}  stale {:>4}",
                s.set,
                s.expected,
                s.stored,
                s.missing.len(),
                s.orphaned.len(),
                s.stale.len()
            );
            for id in s.missing.iter().take(5) {
                println!("    missing: {id}");
            }
            for id in s.orphaned.iter().take(5) {
                println!("    orphaned: {id}");
            }
            for id in s.stale.iter().take(5) {
                println!("    stale: {id}");
            }
        }
        for (a, b) in &r.dangling_edges {
            println!("dangling edge: {a} -- {b}");
        }
        if !r.interrupted_documents.is_empty() {
            println!(
                "{} documents were interrupted mid-processing; `lightrag insert` resumes them",
                r.interrupted_documents.len()
            );
        }
        if r.is_clean() {
            println!("ok: the vector indexes match the graph and the chunks");
        }
    }
    if !r.is_clean() {
        bail!("drift found: run `lightrag rebuild-vectors` to re-derive the vector indexes");
    }
    Ok(())
}

/// Re-derives the vector indexes with the configured embedder. The old index files are removed
/// first, so this also moves a working directory to another embedding model or dimension.
pub async fn rebuild_fresh(cfg: Config) -> Result<()> {
    let storage = StorageConfig::from_settings(&cfg.settings)?;
    if storage.backend(Role::Vectors) != Backend::Embedded {
        // A shared database's vector sets are re-derived in place (same model).
        let engine = Engine::open(cfg).await?;
        let n = engine.rag.rebuild_vectors().await?;
        engine.close().await?;
        println!("rebuilt {n} vectors");
        return Ok(());
    }
    let dir = cfg.data_dir();
    if !dir.join(MARKER_FILE).exists() || !dir.join(DB_FILE_NAME).exists() {
        bail!(
            "{} is not a lightrag-rs working directory: nothing to rebuild",
            dir.display()
        );
    }
    let embedder = crate::setup::embedder(&cfg)?;
    for set in VECTOR_SETS {
        for ext in ["redb", "usearch"] {
            let f = dir.join(format!("vdb_{set}.{ext}"));
            if f.exists() {
                std::fs::remove_file(&f)
                    .with_context(|| format!("cannot remove {}", f.display()))?;
            }
        }
    }
    let engine = Engine::open_with(cfg, embedder).await?;
    let n = engine.rag.rebuild_vectors().await?;
    engine.close().await?;
    println!("rebuilt {n} vectors");
    Ok(())
}
