//! `lightrag import FILE`: a file of `lightrag export` into the configured stores (the embedded
//! working directory, PostgreSQL, any mix). The whole file is checked first (format, version,
//! every line, the end marker), so a cut or damaged file is refused with its line number before
//! anything is written. Records the stores already hold unchanged are skipped, so an import
//! that stopped is run again and writes only what is missing; statuses come last in the file,
//! so no document claims to be processed before its data is in. The target is checked at the
//! end as `lightrag check` does.

use std::collections::BTreeMap;

use anyhow::{bail, Context, Result};
use lightrag_core::config::Config;
use lightrag_storage::copy::{
    Batch, CopyProgress, CopyReport, Part, Sink, StoreSink, VectorBatch, BATCH,
};

use crate::args::ImportArgs;
use crate::backup::{Line, Reader, Record};
use crate::progress::Bars;
use crate::setup::{self, Engine};

pub async fn run(cfg: Config, args: &ImportArgs) -> Result<()> {
    let file = &args.file;
    let mut check = Reader::open(file)?;
    while check.next_line()?.is_some() {}
    let (header, counts) = (check.header, check.counts);
    let embedder = setup::embedder(&cfg)?;
    let made = &header.embedding;
    if (made.model.as_str(), made.dim) != (embedder.model_name(), embedder.dim())
        && !args.rebuild_vectors
    {
        bail!(
            "{}'s vectors were made with {} model '{}' (dimension {}), and this lightrag is \
             configured for {} model '{}' (dimension {}): set EMBEDDING_BINDING, \
             EMBEDDING_MODEL and EMBEDDING_DIM to match, or import with --rebuild-vectors to \
             embed everything again with the configured model",
            file.display(),
            made.binding,
            made.model,
            made.dim,
            cfg.embedding_binding,
            embedder.model_name(),
            embedder.dim()
        );
    }
    let engine = Engine::open_with(cfg, embedder)
        .await
        .context("cannot open the stores to import into")?;
    let result = import(&engine, args, &counts).await;
    engine.close().await?;
    result
}

async fn import(
    engine: &Engine,
    args: &ImportArgs,
    counts: &BTreeMap<String, usize>,
) -> Result<()> {
    let file = &args.file;
    let mut reader = Reader::open(file)?;
    let mut sink = StoreSink::new(engine.rag.stores());
    let bars = Bars::new();
    let written = feed(&mut reader, &mut sink, &bars, counts, args.rebuild_vectors).await;
    bars.finish();
    let report = written.context(
        "the import stopped; run the same command again to resume (records already in place are \
         skipped)",
    )?;
    println!(
        "imported {} records from {} ({} already in place)",
        report.written + report.already_there,
        file.display(),
        report.already_there
    );
    if args.rebuild_vectors {
        let n = engine.rag.rebuild_vectors().await?;
        println!("rebuilt {n} vectors with the configured embedding model");
    }
    let check = engine.rag.check().await?;
    if !check.is_clean() {
        bail!(
            "the import does not check clean: {}",
            serde_json::to_string(&check)?
        );
    }
    println!("ok: the target checks clean");
    Ok(())
}

/// Reads the records of `reader` into `sink` in batches of one part.
async fn feed(
    reader: &mut Reader,
    sink: &mut dyn Sink,
    bars: &Bars,
    counts: &BTreeMap<String, usize>,
    skip_vectors: bool,
) -> Result<CopyReport> {
    let mut report = CopyReport::default();
    let mut pending: Option<(Part, Vec<Record>)> = None;
    while let Some(line) = reader.next_line()? {
        let Line::Record(part, record) = line else {
            continue;
        };
        if skip_vectors && matches!(part, Part::Vectors(_)) {
            continue;
        }
        match &mut pending {
            Some((p, records)) if *p == part && records.len() < BATCH => records.push(*record),
            _ => {
                let same_part = pending.as_ref().is_some_and(|(p, _)| *p == part);
                if let Some((p, records)) = pending.take() {
                    write(sink, bars, p, records, &mut report).await?;
                }
                if !same_part {
                    let total = counts.get(&part.name()).copied().unwrap_or(0);
                    bars.part(&part.name(), total);
                    sink.begin(part, total).await?;
                }
                pending = Some((part, vec![*record]));
            }
        }
    }
    if let Some((p, records)) = pending.take() {
        write(sink, bars, p, records, &mut report).await?;
    }
    Ok(report)
}

async fn write(
    sink: &mut dyn Sink,
    bars: &Bars,
    part: Part,
    records: Vec<Record>,
    report: &mut CopyReport,
) -> Result<()> {
    let n = records.len();
    let batch = match part {
        Part::Kv(ns) => Batch::Kv(
            ns,
            records
                .into_iter()
                .filter_map(|r| match r {
                    Record::Kv(id, v) => Some((id, v)),
                    _ => None,
                })
                .collect(),
        ),
        Part::Nodes => Batch::Nodes(
            records
                .into_iter()
                .filter_map(|r| match r {
                    Record::Node(e) => Some(e),
                    _ => None,
                })
                .collect(),
        ),
        Part::Edges => Batch::Edges(
            records
                .into_iter()
                .filter_map(|r| match r {
                    Record::Edge(e) => Some(e),
                    _ => None,
                })
                .collect(),
        ),
        Part::Vectors(set) => Batch::Vectors(
            set,
            VectorBatch::given(
                records
                    .into_iter()
                    .filter_map(|r| match r {
                        Record::Vector(v) => Some(v),
                        _ => None,
                    })
                    .collect(),
            ),
        ),
        Part::Statuses => Batch::Statuses(
            records
                .into_iter()
                .filter_map(|r| match r {
                    Record::Status(id, s) => Some((id, s)),
                    _ => None,
                })
                .collect(),
        ),
    };
    let r = sink.write(batch).await?;
    report.written += r.written;
    report.already_there += r.already_there;
    bars.advance(n);
    Ok(())
}
