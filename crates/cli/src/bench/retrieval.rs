//! `bench --component retrieval`: query context building (`only_need_context`, no answer) on a
//! large generated graph, per mode, with latency percentiles and throughput.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use lightrag_core::config::Config;
use lightrag_core::query::{QueryMode, QueryParam};
use serde_json::{json, Value};

use super::graphbuild;
use super::graphgen::{self, Spec};
use super::queries::{local_query_embedding, questions, run_mode};
use super::report::{self, round, table, Machine};
use super::{BenchDir, SEED};
use crate::args::BenchArgs;
use crate::setup::{self, Engine};

/// The file that marks a directory as holding a finished benchmark graph.
const MARKER: &str = "lightrag-bench.json";
const MODES: [QueryMode; 5] = [
    QueryMode::Naive,
    QueryMode::Local,
    QueryMode::Global,
    QueryMode::Hybrid,
    QueryMode::Mix,
];
/// Unmeasured queries per mode before measuring.
const WARMUP: usize = 10;

pub async fn run(mut cfg: Config, args: &BenchArgs) -> Result<()> {
    if args.entities < 2 || args.queries == 0 || args.concurrency == 0 {
        bail!("--entities must be at least 2, --queries and --concurrency positive");
    }
    let machine = Machine::probe();
    let dir = BenchDir::create(args.bench_dir.as_deref(), "retrieval")?;
    cfg.working_dir = dir.path.clone();
    cfg.workspace = String::new();
    // Each measured query pays for its own embedding.
    cfg.enable_embedding_cache = false;
    let embedder = setup::embedder(&cfg)?;
    let (model, dim) = (embedder.model_name().to_string(), embedder.dim());
    let spec = Spec {
        entities: args.entities,
        relations: args.relations,
        chunks: (args.entities / 5).max(1),
        chunk_tokens: cfg.chunking.size,
        max_source_ids: cfg.merge.max_source_ids_per_entity,
        seed: SEED,
    };
    let wanted = json!({"spec": spec.json(), "model": model, "dim": dim});
    let marker = dir.path.join(MARKER);
    let previous: Option<Value> = if marker.exists() {
        let text = std::fs::read_to_string(&marker)
            .with_context(|| format!("cannot read {}", marker.display()))?;
        let v: Value = serde_json::from_str(&text)
            .with_context(|| format!("{} is damaged", marker.display()))?;
        if v.get("spec") != wanted.get("spec") || v.get("model") != wanted.get("model") {
            bail!(
                "{} holds a benchmark graph of another size or embedding model ({}); use another --bench-dir",
                dir.path.display(),
                v.get("spec").cloned().unwrap_or_default()
            );
        }
        Some(v)
    } else if !dir.is_empty()? {
        bail!(
            "{} is not empty and holds no finished benchmark graph; use an empty or new --bench-dir",
            dir.path.display()
        );
    } else {
        None
    };
    if previous.is_none() && cfg.embedding_binding == "local" && spec.entities > 20_000 {
        eprintln!(
            "warning: embedding {} texts with the local model will take hours on a CPU; \
             --set EMBEDDING_BINDING=hashing measures retrieval without the model",
            spec.entities + spec.relations + spec.chunks
        );
    }

    let t = Instant::now();
    let engine = Engine::open_with(cfg.clone(), embedder.clone()).await?;
    let open_s = t.elapsed().as_secs_f64();
    let (build, plan) = match &previous {
        Some(v) => (
            v.get("build").cloned().unwrap_or_default(),
            graphgen::plan(&spec),
        ),
        None => {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} · {msg} · eta {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            let (times, plan) =
                graphbuild::build(engine.rag.stores(), embedder.as_ref(), &spec, &bar).await?;
            bar.finish_and_clear();
            let build = times.json();
            let mut m = wanted.clone();
            m["build"] = build.clone();
            m["built_at"] = json!(report::utc_now());
            std::fs::write(&marker, serde_json::to_string_pretty(&m)?)
                .with_context(|| format!("cannot write {}", marker.display()))?;
            (build, plan)
        }
    };
    let reused = previous.is_some();
    let peak_build = report::peak_rss_mib();
    let rss_ready = report::rss_mib();
    let nodes = engine.rag.stores().graph.node_count().await?;
    let edges = engine.rag.stores().graph.edge_count().await?;
    let index_mib = engine.stores.index_memory_bytes() as f64 / 1048576.0;
    let disk = dir.size_bytes();
    let max_degree = plan.degree.iter().copied().max().unwrap_or(0);
    let hubs = plan.degree.iter().filter(|d| **d > 1000).count();
    let peak_reset = report::reset_peak_rss();

    let qs = Arc::new(questions(&plan, args.queries));
    drop(plan);
    let engine = Arc::new(engine);
    let mut runs = Vec::new();
    for mode in MODES {
        let mut param = QueryParam::from_defaults(&cfg.query);
        param.mode = mode;
        param.only_need_context = true;
        eprintln!(
            "{}: {} queries at concurrency {}…",
            mode.as_str(),
            qs.len(),
            args.concurrency
        );
        let warm = Arc::new(qs.iter().take(WARMUP).cloned().collect::<Vec<_>>());
        run_mode(&engine, &warm, &param, 1).await?;
        runs.push(run_mode(&engine, &qs, &param, args.concurrency).await?);
    }
    let peak_query = report::peak_rss_mib();
    let local = local_query_embedding(&cfg, &qs).await;

    let q = &cfg.query;
    let settings = json!({
        "top_k": q.top_k, "chunk_top_k": q.chunk_top_k, "max_entity_tokens": q.max_entity_tokens,
        "max_relation_tokens": q.max_relation_tokens, "max_total_tokens": q.max_total_tokens,
        "cosine_threshold": q.cosine_threshold, "related_chunk_number": q.related_chunk_number,
        "chunk_pick": format!("{:?}", q.chunk_pick), "max_graph_fanout": q.max_graph_fanout,
        "concurrency": args.concurrency, "queries_per_mode": args.queries, "warmup_per_mode": WARMUP,
        "embedding_cache": false, "only_need_context": true,
    });
    let mib = |x: Option<f64>| x.map_or("unknown".to_string(), |m| format!("{m:.0} MiB"));
    let mut text = String::from("== lightrag bench --component retrieval ==\n");
    text.push_str(&machine.text());
    text.push_str(&format!(
        "embedding: {} ({model}, {dim} dims)\nworking dir: {}\nsettings: {settings}\n",
        cfg.embedding_binding,
        dir.describe()
    ));
    text.push_str(&format!(
        "graph: {nodes} entities, {edges} relations, {} chunks of ~{} tokens; max degree {max_degree}, {hubs} entities with over 1000 edges\n",
        spec.chunks, spec.chunk_tokens
    ));
    let secs = |k: &str| build.get(k).and_then(Value::as_f64).unwrap_or(0.0);
    text.push_str(&format!(
        "build: {} in {:.1}s (generate {:.1}, graph writes {:.1}, kv writes {:.1}, embedding {:.1}, vector writes {:.1}, snapshots {:.1}); open {open_s:.2}s\n",
        if reused { "reused (times of the original build)" } else { "built" },
        secs("total_s"), secs("generate_s"), secs("graph_writes_s"), secs("kv_writes_s"),
        secs("embedding_s"), secs("vector_writes_s"), secs("flush_s")
    ));
    text.push_str(&format!(
        "disk: {:.0} MB; HNSW indexes in memory: {index_mib:.0} MiB\n\n",
        disk as f64 / 1e6
    ));
    let rows: Vec<Vec<String>> = runs
        .iter()
        .map(|r| {
            let l = &r.latency;
            vec![
                r.mode.as_str().to_string(),
                format!("{:.2}", l.p50),
                format!("{:.2}", l.p90),
                format!("{:.2}", l.p99),
                format!("{:.2}", l.mean),
                format!("{:.2}", l.max),
                format!("{:.1}", l.n as f64 / r.wall_s),
                format!("{}/{}", r.hits, l.n),
                format!("{:.1}", r.avg(r.entities)),
                format!("{:.1}", r.avg(r.relations)),
                format!("{:.1}", r.avg(r.chunks)),
                format!("{:.1}", r.avg(r.context_chars) / 1000.0),
                r.cpu
                    .and_then(|c| c.own_cores.zip(c.other_cores))
                    .map_or("?".into(), |(o, x)| format!("{o:.2}/{x:.2}")),
            ]
        })
        .collect();
    text.push_str(&table(
        &[
            "mode",
            "p50 ms",
            "p90 ms",
            "p99 ms",
            "mean ms",
            "max ms",
            "queries/s",
            "hits",
            "entities",
            "relations",
            "chunks",
            "context kB",
            "cores own/other",
        ],
        &rows,
    ));
    let busiest = runs
        .iter()
        .filter_map(|r| r.cpu.and_then(|c| c.other_cores))
        .fold(0.0, f64::max);
    if busiest > 0.2 {
        text.push_str(&format!(
            "warning: other processes kept up to {busiest:.2} cores busy during the queries; the latencies are pessimistic\n"
        ));
    }
    for r in runs.iter().filter(|r| r.errors > 0) {
        text.push_str(&format!(
            "  {}: {} errors, first: {}\n",
            r.mode.as_str(),
            r.errors,
            r.first_error.as_deref().unwrap_or("")
        ));
    }
    text.push_str(&format!(
        "\nmemory: peak RSS {} during {}, RSS {} when ready, peak RSS {} during the queries{}\n",
        mib(peak_build),
        if reused { "open" } else { "build" },
        mib(rss_ready),
        mib(peak_query),
        if peak_reset {
            ""
        } else {
            " (could not reset the peak: it includes the build)"
        }
    ));
    match &local {
        Ok(v) => text.push_str(&format!(
            "local model (all-MiniLM-L6-v2) query embedding, separately: load {}s; one question p50 {} ms, mean {} ms; \
             question + 2 keyword strings (one call, as the engine does) p50 {} ms, mean {} ms\n",
            v["load_s"], v["one_text"]["p50_ms"], v["one_text"]["mean_ms"],
            v["three_texts"]["p50_ms"], v["three_texts"]["mean_ms"]
        )),
        Err(e) => text.push_str(&format!("local model query embedding: not measured ({e})\n")),
    }

    let json_out = args.json.then(|| {
        json!({
            "component": "retrieval",
            "machine": machine.json(),
            "embedding": {"binding": cfg.embedding_binding, "model": model, "dim": dim},
            "settings": settings,
            "graph": {"entities": nodes, "relations": edges, "chunks": spec.chunks,
                      "chunk_tokens": spec.chunk_tokens, "max_degree": max_degree,
                      "hubs_over_1000_edges": hubs, "seed": SEED},
            "build": build, "reused": reused, "open_s": round(open_s, 3),
            "disk_bytes": disk, "hnsw_memory_mib": round(index_mib, 1),
            "modes": runs.iter().map(|r| json!({
                "mode": r.mode.as_str(), "latency": r.latency.json(),
                "queries_per_s": round(r.latency.n as f64 / r.wall_s, 2),
                "hits": r.hits, "errors": r.errors,
                "avg_entities": round(r.avg(r.entities), 2), "avg_relations": round(r.avg(r.relations), 2),
                "avg_chunks": round(r.avg(r.chunks), 2), "avg_context_chars": round(r.avg(r.context_chars), 0),
                "cpu": r.cpu.map(|c| c.json()),
            })).collect::<Vec<_>>(),
            "peak_rss_mib_build": peak_build.map(|m| round(m, 1)),
            "rss_mib_ready": rss_ready.map(|m| round(m, 1)),
            "peak_rss_mib_queries": peak_query.map(|m| round(m, 1)),
            "local_query_embedding": local.as_ref().map_or_else(|e| json!({"error": e}), Clone::clone),
        })
    });
    let engine =
        Arc::try_unwrap(engine).map_err(|_| anyhow::anyhow!("a query task is still running"))?;
    engine.close().await?;
    report::emit(&text, json_out.as_ref())
}
