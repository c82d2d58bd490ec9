//! `bench --component insert`: generated documents through the real pipeline, as
//! `lightrag insert` runs it (enqueue, then `process_pending`), with where the time goes.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Result};
use lightrag_core::config::Config;
use lightrag_core::ids::track_id;
use lightrag_core::pipeline::{EnqueueOutcome, NewDocument};
use lightrag_core::tokenizer::TiktokenTokenizer;
use serde_json::json;

use super::cpu::CpuMeter;
use super::report::{self, round, table, Machine};
use super::{corpus, BenchDir, SEED};
use crate::args::BenchArgs;
use crate::progress::DocProgress;
use crate::setup::{self, Engine};

/// Documents per second within each tenth of the run (by finish order): a falling rate means
/// per-document cost grows with the size of the graph.
fn rate_by_tenth(finished_at: &[f64]) -> Vec<f64> {
    let n = finished_at.len();
    if n < 10 {
        return vec![];
    }
    let mut t = finished_at.to_vec();
    t.sort_by(f64::total_cmp);
    (0..10)
        .map(|k| {
            let (lo, hi) = (k * n / 10, (k + 1) * n / 10);
            let start = if lo == 0 { 0.0 } else { t[lo - 1] };
            let span = (t[hi - 1] - start).max(1e-9);
            (hi - lo) as f64 / span
        })
        .collect()
}

pub async fn run(mut cfg: Config, args: &BenchArgs) -> Result<()> {
    if args.docs == 0 || args.doc_tokens == 0 {
        bail!("--docs and --doc-tokens must be positive");
    }
    let machine = Machine::probe();
    let dir = BenchDir::create(args.bench_dir.as_deref(), "insert")?;
    if !dir.is_empty()? {
        bail!(
            "{} is not empty; the insert benchmark needs a fresh working directory",
            dir.path.display()
        );
    }
    cfg.working_dir = dir.path.clone();
    cfg.workspace = String::new();

    let tok = TiktokenTokenizer::o200k();
    eprintln!(
        "generating {} documents of about {} tokens…",
        args.docs, args.doc_tokens
    );
    let t = Instant::now();
    let docs = corpus::documents(SEED, args.docs, args.doc_tokens, &tok);
    let generate_s = t.elapsed().as_secs_f64();
    let doc_tokens: usize = docs.iter().map(|d| d.tokens).sum();
    let doc_bytes: usize = docs.iter().map(|d| d.text.len()).sum();

    let t = Instant::now();
    let embedder = setup::embedder(&cfg)?;
    let (model, dim) = (embedder.model_name().to_string(), embedder.dim());
    let binding = cfg.embedding_binding.clone();
    let settings = json!({
        "chunk_size": cfg.chunking.size, "chunk_overlap": cfg.chunking.overlap,
        "max_parallel_insert": cfg.max_parallel_insert, "max_async": cfg.max_async,
        "embedding_batch_num": cfg.embedding_batch_num,
        "enable_embedding_cache": cfg.enable_embedding_cache,
        "processing_threads": cfg.processing_threads,
    });
    let engine = Engine::open_with(cfg, embedder).await?;
    let open_s = t.elapsed().as_secs_f64();
    let rag = &engine.rag;

    let t = Instant::now();
    let track = track_id("bench");
    let mut added = 0;
    let mut not_added = 0;
    let mut docs = docs;
    while !docs.is_empty() {
        let rest = docs.split_off(docs.len().min(100));
        let batch: Vec<NewDocument> = std::mem::replace(&mut docs, rest)
            .into_iter()
            .map(|d| NewDocument {
                key: d.key,
                content: d.text,
            })
            .collect();
        for o in rag.enqueue(batch, &track).await? {
            match o {
                EnqueueOutcome::Added { .. } => added += 1,
                _ => not_added += 1,
            }
        }
    }
    let enqueue_s = t.elapsed().as_secs_f64();
    if not_added > 0 {
        bail!("{not_added} generated documents were not added as new (duplicates?)");
    }

    let progress = Arc::new(DocProgress::new(true));
    let meter = CpuMeter::start();
    let t = Instant::now();
    let processed = rag.process_pending(progress.clone()).await?;
    let process_s = t.elapsed().as_secs_f64();
    let cpu = meter.finish();
    progress.finish();
    let timings = rag.timings();
    let nodes = rag.stores().graph.node_count().await?;
    let edges = rag.stores().graph.edge_count().await?;
    let cache = rag.embedding_cache_stats();
    let t = Instant::now();
    engine.close().await?;
    let flush_s = t.elapsed().as_secs_f64();
    let peak = report::peak_rss_mib();
    let disk = dir.size_bytes();
    let tenths = rate_by_tenth(&progress.finish_times());
    if !processed.failed.is_empty() {
        eprintln!("warning: {} documents failed:", processed.failed.len());
        for (d, e) in processed.failed.iter().take(5) {
            eprintln!("  {d}: {e}");
        }
    }

    let n_docs = processed.processed.len();
    let chunks = processed.chunks;
    let wall = enqueue_s + process_s + flush_s;
    let stages = [
        ("chunking", timings.chunking_s),
        ("extraction", timings.extraction_s),
        ("embedding", timings.embedding_s),
        ("vector writes", timings.vector_writes_s),
        ("store writes (chunk rows)", timings.store_writes_s),
        ("graph merge (under the merge lock)", timings.merge_s),
    ];
    let staged: f64 = stages.iter().map(|(_, s)| s).sum();

    let mut text = String::new();
    text.push_str("== lightrag bench --component insert ==\n");
    text.push_str(&machine.text());
    text.push_str(&format!(
        "embedding: {binding} ({model}, {dim} dims)\nworking dir: {}\nsettings: {settings}\n",
        dir.describe()
    ));
    text.push_str(&format!(
        "corpus: {} documents, {doc_tokens} tokens ({:.0} per document), {:.1} MB, generated in {generate_s:.1}s\n\n",
        args.docs,
        doc_tokens as f64 / args.docs as f64,
        doc_bytes as f64 / 1e6
    ));
    text.push_str(&table(
        &["phase", "seconds"],
        &[
            vec!["open (stores + embedder)".into(), format!("{open_s:.2}")],
            vec!["enqueue".into(), format!("{enqueue_s:.2}")],
            vec!["process (the pipeline)".into(), format!("{process_s:.2}")],
            vec!["flush (index snapshots)".into(), format!("{flush_s:.2}")],
            vec!["total (enqueue → flush)".into(), format!("{wall:.2}")],
        ],
    ));
    text.push_str(&format!(
        "\nprocessed {n_docs} documents ({} failed), {chunks} chunks\n\
         throughput (process phase): {:.2} documents/s, {:.2} chunks/s, {:.0} tokens/s\n\
         throughput (enqueue → flush): {:.2} documents/s\n\
         graph at the end: {nodes} entities, {edges} relations (merged records: {} entities, {} relations)\n",
        processed.failed.len(),
        n_docs as f64 / process_s,
        chunks as f64 / process_s,
        doc_tokens as f64 / process_s,
        n_docs as f64 / wall,
        processed.entities,
        processed.relations
    ));
    text.push_str(&cpu.text(machine.cpus));
    text.push_str(&format!(
        "\nwhere the time goes (cumulative over concurrent documents, MAX_PARALLEL_INSERT={}):\n",
        settings["max_parallel_insert"]
    ));
    let mut rows: Vec<Vec<String>> = stages
        .iter()
        .map(|(name, s)| {
            vec![
                name.to_string(),
                format!("{s:.2}"),
                format!("{:.1}%", 100.0 * s / staged.max(1e-9)),
                format!("{:.1}%", 100.0 * s / process_s),
            ]
        })
        .collect();
    rows.push(vec![
        "sum of stages".into(),
        format!("{staged:.2}"),
        "100%".into(),
        format!("{:.1}%", 100.0 * staged / process_s),
    ]);
    text.push_str(&table(
        &["stage", "seconds", "share of stages", "of process wall"],
        &rows,
    ));
    text.push_str(
        "  (not in any stage: graph merge reads/writes, tracking rows, status rows, extraction-cache\n   rows, vector metadata reads)\n",
    );
    if !tenths.is_empty() {
        let r: Vec<String> = tenths.iter().map(|x| format!("{x:.2}")).collect();
        text.push_str(&format!(
            "documents/s by tenth of the run: {}\n",
            r.join(" · ")
        ));
    }
    if let Some((hits, misses)) = cache {
        text.push_str(&format!("embedding cache: {hits} hits, {misses} misses\n"));
    }
    text.push_str(&format!(
        "peak RSS (VmHWM): {}\ndisk: {:.1} MB in the working directory\n",
        peak.map_or("unknown".into(), |m| format!("{m:.0} MiB")),
        disk as f64 / 1e6
    ));

    let json_out = args.json.then(|| {
        json!({
            "component": "insert",
            "machine": machine.json(),
            "embedding": {"binding": binding, "model": model, "dim": dim},
            "settings": settings,
            "corpus": {"documents": args.docs, "doc_tokens_requested": args.doc_tokens,
                       "tokens": doc_tokens, "bytes": doc_bytes, "seed": SEED,
                       "generate_s": round(generate_s, 3)},
            "seconds": {"open": round(open_s, 3), "enqueue": round(enqueue_s, 3),
                        "process": round(process_s, 3), "flush": round(flush_s, 3),
                        "total": round(wall, 3)},
            "processed": n_docs, "failed": processed.failed.len(), "chunks": chunks,
            "documents_per_s": round(n_docs as f64 / process_s, 3),
            "chunks_per_s": round(chunks as f64 / process_s, 3),
            "tokens_per_s": round(doc_tokens as f64 / process_s, 1),
            "documents_per_s_total": round(n_docs as f64 / wall, 3),
            "cpu_process": cpu.json(),
            "graph": {"entities": nodes, "relations": edges},
            "stages_s": timings,
            "documents_per_s_by_tenth": tenths.iter().map(|x| round(*x, 3)).collect::<Vec<_>>(),
            "embedding_cache": cache.map(|(h, m)| json!({"hits": h, "misses": m})),
            "peak_rss_mib": peak.map(|m| round(m, 1)),
            "disk_bytes": disk,
            "added": added,
        })
    });
    report::emit(&text, json_out.as_ref())
}
