//! `lightrag migrate`: copies the configured knowledge base into other stores, the path from
//! one machine's working directory to a shared PostgreSQL (and back). Nothing is embedded or
//! extracted again; a run that stopped is run again and writes only what is missing; the
//! target is checked at the end as `lightrag check` does.

use anyhow::{bail, Context, Result};
use lightrag_core::config::Config;
use lightrag_storage::copy::copy_all;

use crate::args::MigrateArgs;
use crate::progress::Bars;
use crate::setup::{self, Engine};

/// The target's configuration: the current settings, the roles `--to` names, then `--to-set`.
fn target_config(cfg: &Config, args: &MigrateArgs) -> Result<Config> {
    let mut s = cfg.settings.clone();
    let roles = [
        "LIGHTRAG_KV_STORAGE",
        "LIGHTRAG_DOC_STATUS_STORAGE",
        "LIGHTRAG_GRAPH_STORAGE",
        "LIGHTRAG_VECTOR_STORAGE",
    ];
    let names: Option<[&str; 4]> = match args.to.as_str() {
        "postgres" => Some([
            "PGKVStorage",
            "PGDocStatusStorage",
            "PGGraphStorage",
            "PGVectorStorage",
        ]),
        "embedded" => Some([
            "EmbeddedKVStorage",
            "EmbeddedDocStatusStorage",
            "EmbeddedGraphStorage",
            "EmbeddedVectorStorage",
        ]),
        "custom" => None,
        other => bail!("--to {other}: use postgres, embedded or custom"),
    };
    if let Some(names) = names {
        for (role, name) in roles.iter().zip(names) {
            s.set(role, name);
        }
    }
    if let Some(dir) = &args.to_dir {
        s.set("WORKING_DIR", dir.to_string_lossy());
    } else if args.to == "embedded" {
        bail!("--to embedded needs --to-dir DIR (the source's working directory is not a target)");
    }
    for kv in &args.to_settings {
        let Some((k, v)) = kv.split_once('=') else {
            bail!("--to-set expects KEY=VALUE, got '{kv}'");
        };
        s.set(k.trim(), v.trim());
    }
    Ok(s.to_config()?)
}

pub async fn run(cfg: Config, args: &MigrateArgs) -> Result<()> {
    let target_cfg = target_config(&cfg, args)?;
    let from_storage = lightrag_storage::select::StorageConfig::from_settings(&cfg.settings)?;
    let to_storage = lightrag_storage::select::StorageConfig::from_settings(&target_cfg.settings)?;
    if from_storage == to_storage && cfg.data_dir() == target_cfg.data_dir() {
        bail!("the target is the source: name other stores with --to, --to-dir or --to-set");
    }
    let embedder = setup::embedder(&cfg)?;
    let source = Engine::open_with(cfg, embedder.clone())
        .await
        .context("cannot open the source")?;
    let target = Engine::open_with(target_cfg, embedder)
        .await
        .context("cannot open the target")?;
    let bars = Bars::new();
    let copied = copy_all(source.rag.stores(), target.rag.stores(), &bars).await;
    bars.finish();
    let report = copied.context("the copy stopped; run the same command again to resume")?;
    println!(
        "copied {} records ({} already in place)",
        report.written, report.already_there
    );
    let check = target.rag.check().await?;
    source.close().await?;
    target.close().await?;
    if !check.is_clean() {
        bail!(
            "the copy does not check clean: {}",
            serde_json::to_string(&check)?
        );
    }
    println!("ok: the target checks clean");
    Ok(())
}
