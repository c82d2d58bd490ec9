//! `lightrag insert`: enqueue files, then process everything pending (resuming interrupted work),
//! with a progress bar of documents, chunks and rate.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Result};
use lightrag_core::ids::track_id;
use lightrag_core::pipeline::{EnqueueOutcome, NewDocument};
use lightrag_server::file_text;
use serde_json::json;

use crate::args::InsertArgs;
use crate::files::collect;
use crate::progress::DocProgress;
use crate::setup::Engine;

pub async fn run(engine: &Engine, args: &InsertArgs) -> Result<()> {
    let rag = &engine.rag;
    let (files, skipped) = collect(&args.paths)?;
    let limits = file_text::parse_limits(rag.config());
    let track = track_id("insert");
    let mut rejected: Vec<(String, String)> = Vec::new();
    let mut outcomes: Vec<(String, EnqueueOutcome)> = Vec::new();
    let reading = reading_bar(files.len());
    for f in &files {
        reading.set_message(f.key.clone());
        let (size, text) = file_text::read_file_text(&f.path, &limits).await;
        reading.inc(1);
        let text = match text {
            Ok(t) => t,
            Err(why) => {
                // Listed by `lightrag status` with its reason until a readable version is
                // inserted.
                rag.record_extraction_failure(&f.key, &why, size, &track)
                    .await?;
                rejected.push((f.path.display().to_string(), why));
                continue;
            }
        };
        match rag
            .enqueue(
                vec![NewDocument {
                    key: f.key.clone(),
                    content: text,
                }],
                &track,
            )
            .await
        {
            Ok(mut o) => outcomes.push((f.key.clone(), o.remove(0))),
            Err(e) => rejected.push((f.path.display().to_string(), e.to_string())),
        }
    }
    reading.finish_and_clear();
    let count =
        |pred: fn(&EnqueueOutcome) -> bool| outcomes.iter().filter(|(_, o)| pred(o)).count();
    let added = count(|o| matches!(o, EnqueueOutcome::Added { .. }));
    let unchanged = count(|o| matches!(o, EnqueueOutcome::Unchanged { .. }));
    let requeued = count(|o| matches!(o, EnqueueOutcome::Requeued { .. }));
    let replaced = count(|o| matches!(o, EnqueueOutcome::Replaced { .. }));
    let duplicates: Vec<(String, String)> = outcomes
        .iter()
        .filter_map(|(k, o)| match o {
            EnqueueOutcome::Duplicate { original, .. } => Some((k.clone(), original.clone())),
            _ => None,
        })
        .collect();

    let progress = Arc::new(DocProgress::new(false));
    let started = Instant::now();
    let report = rag.process_pending(progress.clone()).await?;
    progress.finish();
    let secs = started.elapsed().as_secs_f64();

    if args.json {
        let v = json!({
            "track_id": track,
            "added": added, "unchanged": unchanged, "requeued": requeued, "replaced": replaced,
            "duplicates": duplicates.iter().map(|(k, o)| json!({"key": k, "original": o})).collect::<Vec<_>>(),
            "rejected": rejected.iter().map(|(p, w)| json!({"path": p, "error": w})).collect::<Vec<_>>(),
            "skipped": skipped.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
            "processed": report.processed,
            "failed": report.failed.iter().map(|(d, e)| json!({"doc_id": d, "error": e})).collect::<Vec<_>>(),
            "chunks": report.chunks, "entities": report.entities, "relations": report.relations,
            "extraction_cache_hits": report.extraction_cache_hits,
            "seconds": secs,
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        println!(
            "enqueued: {added} new, {replaced} replaced, {requeued} resumed, {unchanged} unchanged, {} duplicate, {} rejected, {} skipped",
            duplicates.len(),
            rejected.len(),
            skipped.len()
        );
        for (k, o) in &duplicates {
            println!("  duplicate: {k} has the same content as {o}");
        }
        for (p, why) in &rejected {
            println!("  rejected: {p}: {why}");
        }
        for p in &skipped {
            println!("  skipped (not a supported type): {}", p.display());
        }
        println!(
            "processed {} documents ({} chunks, {} entities, {} relations merged, {} cached extractions) in {secs:.1}s; {} failed",
            report.processed.len(),
            report.chunks,
            report.entities,
            report.relations,
            report.extraction_cache_hits,
            report.failed.len()
        );
        for (d, e) in &report.failed {
            println!("  failed: {d}: {e}");
        }
    }
    if files.is_empty() {
        bail!(
            "no supported files found (insert reads: {})",
            file_text::supported_extensions().join(", ")
        );
    }
    if outcomes.is_empty() || (!report.failed.is_empty() && report.processed.is_empty()) {
        bail!("nothing was indexed");
    }
    Ok(())
}

/// A bar over the files being read and parsed (PDFs and workbooks can take a while), on a
/// terminal only; the summary lists what could not be read.
fn reading_bar(files: usize) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() || files < 2 {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(files as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("reading {bar:30} {pos}/{len} files · {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}
