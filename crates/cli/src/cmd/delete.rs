//! `lightrag delete`: removes documents and what only they contributed.

use anyhow::{bail, Result};
use lightrag_core::ids::doc_id;

use crate::args::DeleteArgs;
use crate::setup::Engine;

pub async fn run(engine: &Engine, args: &DeleteArgs) -> Result<()> {
    let mut failures = 0;
    for arg in &args.ids {
        let id = if arg.starts_with("doc-") || arg.starts_with("dup-") {
            arg.clone()
        } else {
            doc_id(arg)
        };
        match engine.rag.delete_document(&id).await {
            Ok(r) => println!(
                "deleted {id}: {} chunks; {} entities and {} relations removed, {} entities and {} relations rebuilt",
                r.chunks, r.entities_deleted, r.relations_deleted, r.entities_rebuilt, r.relations_rebuilt
            ),
            Err(e) => {
                failures += 1;
                eprintln!("error: {arg}: {e}");
            }
        }
    }
    if failures == args.ids.len() {
        bail!("nothing was deleted");
    }
    Ok(())
}
