//! `lightrag export FILE`: the configured knowledge base into one file (docs/operations.md,
//! "Backup and restore"), streamed batch by batch through the walk `lightrag migrate` uses.
//! The file is written as FILE.partial and renamed when complete; a run that stopped leaves
//! the .partial, and the same command run again continues it after its last complete record.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use lightrag_core::config::Config;
use lightrag_storage::copy::{walk, After, Part};

use crate::args::ExportArgs;
use crate::backup::{self, Embedding, FileSink, Header, Out, Reader};
use crate::progress::Bars;
use crate::setup::{self, Engine};

/// FILE.partial: where an export is written until it is complete.
fn partial_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

/// How an export starts, given what FILE.partial holds.
enum Start {
    Fresh,
    /// Continue after the records already in the .partial (its first `good_bytes`).
    Resume {
        counts: BTreeMap<String, usize>,
        after: Option<After>,
        good_bytes: u64,
    },
    /// The .partial is complete (the run stopped before renaming it).
    Complete,
}

fn inspect_partial(partial: &Path, header: &Header) -> Result<Start> {
    if !partial.exists() {
        return Ok(Start::Fresh);
    }
    let mut r = match Reader::open(partial) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e:#}: starting the export over");
            return Ok(Start::Fresh);
        }
    };
    if !r.header.same_export(header) {
        bail!(
            "{} was started with other settings (workspace, embedding model, parts or stores \
             differ; --no-cache leaves the LLM cache out): run the same command as before, or \
             remove it to start over",
            partial.display()
        );
    }
    loop {
        match r.next_line() {
            Ok(Some(_)) => {}
            Ok(None) => return Ok(Start::Complete),
            Err(_) if r.ended() => bail!(
                "{} is damaged after its end marker: remove it to start over",
                partial.display()
            ),
            // The first line that is cut short or damaged: everything before it stays.
            Err(_) => break,
        }
    }
    Ok(Start::Resume {
        after: r.last().map(|(part, key)| After { part, key }),
        counts: r.counts,
        good_bytes: r.good_bytes,
    })
}

/// Opens the .partial to write after its first `good_bytes`. A gzip file's valid prefix is
/// written again as one complete gzip member and the rest follows as another member.
fn reopen(partial: &Path, good_bytes: u64, gzip: bool) -> Result<Out> {
    if gzip {
        let tmp = partial.with_extension("partial.tmp");
        let mut out = Out::new(File::create(&tmp)?, true);
        backup::copy_prefix(partial, good_bytes, &mut out)?;
        out.finish()?;
        std::fs::rename(&tmp, partial)?;
        let file = OpenOptions::new().append(true).open(partial)?;
        return Ok(Out::new(file, true));
    }
    let mut file = OpenOptions::new().write(true).open(partial)?;
    file.set_len(good_bytes)?;
    file.seek(SeekFrom::End(0))?;
    Ok(Out::new(file, false))
}

pub async fn run(cfg: Config, no_cache: bool, args: &ExportArgs) -> Result<()> {
    let file = &args.file;
    if file.exists() {
        bail!(
            "{} exists: remove it or choose another name (an export never overwrites a file)",
            file.display()
        );
    }
    let embedder = setup::embedder(&cfg)?;
    let parts = Part::all(!no_cache);
    let mut header = Header {
        format: backup::FORMAT.into(),
        version: backup::VERSION,
        created_at: lightrag_core::types::now_iso(),
        workspace: cfg.workspace.clone(),
        embedding: Embedding {
            binding: cfg.embedding_binding.clone(),
            model: embedder.model_name().to_string(),
            dim: embedder.dim(),
        },
        parts: parts.iter().map(|p| p.name()).collect(),
        lightrag_version: env!("CARGO_PKG_VERSION").into(),
        source: BTreeMap::new(),
    };
    let engine = Engine::open_with(cfg, embedder)
        .await
        .context("cannot open the knowledge base to export")?;
    header.source = engine
        .stores
        .names()
        .into_iter()
        .map(|(role, name)| (role.to_string(), name))
        .collect();
    let result = export(&engine, &header, &parts, file).await;
    engine.close().await?;
    result
}

async fn export(engine: &Engine, header: &Header, parts: &[Part], file: &Path) -> Result<()> {
    let partial = partial_path(file);
    let gzip = file.extension().is_some_and(|e| e == "gz");
    let (out, counts, after) = match inspect_partial(&partial, header)? {
        Start::Complete => {
            std::fs::rename(&partial, file)?;
            println!(
                "{} was complete: renamed to {}",
                partial.display(),
                file.display()
            );
            return Ok(());
        }
        Start::Fresh => {
            let mut out = Out::new(File::create(&partial)?, gzip);
            backup::write_header(&mut out, header)?;
            (out, BTreeMap::new(), None)
        }
        Start::Resume {
            counts,
            after,
            good_bytes,
        } => {
            let done: usize = counts.values().sum();
            eprintln!(
                "continuing {} after its {done} complete records",
                partial.display()
            );
            (reopen(&partial, good_bytes, gzip)?, counts, after)
        }
    };
    let resumed: usize = counts.values().sum();
    let mut sink = FileSink::new(out, counts);
    let bars = Bars::new();
    let walked = walk(engine.rag.stores(), parts, after.as_ref(), &mut sink, &bars).await;
    bars.finish();
    walked.with_context(|| {
        format!(
            "the export stopped; {} keeps what was written: run the same command again to \
             continue it",
            partial.display()
        )
    })?;
    let counts = sink.finish()?;
    std::fs::rename(&partial, file)?;
    let total: usize = counts.values().sum();
    let resumed = if resumed > 0 {
        format!(", {resumed} of them from the earlier run")
    } else {
        String::new()
    };
    println!(
        "exported {total} records in {} parts to {}{resumed}",
        counts.len(),
        file.display()
    );
    Ok(())
}
