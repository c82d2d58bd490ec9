//! `lightrag graph export`.

use anyhow::{Context, Result};
use lightrag_core::export::GraphFormat;

use crate::args::GraphCommand;
use crate::setup::Engine;

pub async fn run(engine: &Engine, cmd: &GraphCommand) -> Result<()> {
    match cmd {
        GraphCommand::Export { format, output } => {
            let text = engine
                .rag
                .export_graph(format.parse::<GraphFormat>()?)
                .await?;
            match output {
                Some(path) => {
                    std::fs::write(path, text)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    eprintln!("wrote {}", path.display());
                }
                None => print!("{text}"),
            }
        }
    }
    Ok(())
}
