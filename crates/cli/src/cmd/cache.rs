//! `lightrag cache clear`: drops cached LLM replies, so the next run asks the model again.

use anyhow::Result;
use lightrag_core::ports::Namespace;

use crate::args::CacheCommand;
use crate::setup::Engine;

pub async fn run(engine: &Engine, cmd: &CacheCommand) -> Result<()> {
    match cmd {
        CacheCommand::Clear { kind } => {
            let kv = &engine.rag.stores().kv;
            let keys = kv.keys(Namespace::LlmResponseCache).await?;
            // Keys are `{mode}:{cache_type}:{hash}`.
            let doomed: Vec<String> = keys
                .into_iter()
                .filter(|k| match kind {
                    None => true,
                    Some(kind) => k.split(':').nth(1) == Some(kind.as_str()),
                })
                .collect();
            kv.delete(Namespace::LlmResponseCache, &doomed).await?;
            println!("removed {} cached replies", doomed.len());
        }
    }
    Ok(())
}
