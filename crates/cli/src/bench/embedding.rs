//! `bench --component embedding`: the batching orchestrator (seed 004) against unbatched
//! calls, like the seed's demo, on real model work.
//!
//! An Ollama-API-compatible server computes real all-MiniLM-L6-v2 embeddings (the test server
//! `lightrag-test-llm --embedder local`, started here unless `--embed-server` names one; no
//! Ollama can be installed where this was written). It runs one model call at a time, as an
//! Ollama with OLLAMA_NUM_PARALLEL=1 does (`--embed-parallel` changes that). Phases, each
//! with N concurrent requests of one text (N = `--requests`, default 1,000):
//! 1. unbatched: every request is its own `/api/embed` call;
//! 2. batched: the same requests through the orchestrator (caches off);
//! 3. repeated: a workload where 75 % of the requests repeat a text, arriving in four waves
//!    (each wave's requests at once, the next when it is answered), unbatched and through the
//!    orchestrator with its caches; with REDIS_URL set, also a second orchestrator (another
//!    replica: empty memory, same Redis) on the same workload;
//! 4. overhead: the orchestrator in front of a model that costs nothing, to measure its own
//!    CPU time per text against the model's time per text.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use async_trait::async_trait;
use lightrag_core::config::Config;
use lightrag_core::ports::{EmbedPurpose, Embedder};
use lightrag_orchestrator::{BatchingEmbedder, MetricsSnapshot, OrchestratorConfig};
use lightrag_providers::remote::{Binding, EmbedSettings, RemoteEmbedder, Timeouts};
use serde_json::{json, Value};

use super::cpu::{process_seconds, CpuMeter, CpuUse};
use super::report::{self, round, table, Latency, Machine};
use super::rng::Rng;
use super::words;
use super::SEED;
use crate::args::BenchArgs;

/// The name Ollama gives all-MiniLM-L6-v2 (its profile: batches of 64, at most 256).
const MODEL: &str = "all-minilm";
const DIM: usize = 384;
/// Share of the repeated workload's requests that repeat an earlier text.
const REPEAT_SHARE: f64 = 0.75;
/// Waves the repeated workload arrives in.
const WAVES: usize = 4;

pub async fn run(cfg: Config, args: &BenchArgs) -> Result<()> {
    if args.requests == 0 {
        bail!("--requests must be positive");
    }
    let machine = Machine::probe();
    let server = match &args.embed_server {
        Some(url) => EmbedServer::external(url)?,
        None => EmbedServer::spawn(args.embed_parallel)?,
    };
    let client: Arc<dyn Embedder> = Arc::new(client(&server.base)?);
    // The model is loaded at server start; one call warms caches and threads.
    client
        .embed(&texts(8, 0.0, 1), EmbedPurpose::Document)
        .await
        .context("the embedding server does not answer /api/embed")?;

    let distinct = texts(args.requests, 0.0, SEED);
    let repeated = texts(args.requests, REPEAT_SHARE, SEED + 1);
    let base = orchestrator_config(&cfg)?;

    eprintln!("unbatched: {} concurrent single-text calls…", args.requests);
    let unbatched = phase(&server, client.clone(), &distinct, 1, None).await?;
    eprintln!("batched: the same through the orchestrator…");
    let mut no_cache = base.clone();
    no_cache.cache_size = 0;
    no_cache.redis = None;
    let orch = Arc::new(BatchingEmbedder::new(client.clone(), no_cache.clone())?);
    let batched = phase(&server, orch.clone(), &distinct, 1, Some(&orch)).await?;
    orch.stop().await;

    eprintln!(
        "repeated: {:.0} % repeated texts, unbatched…",
        REPEAT_SHARE * 100.0
    );
    let rep_unbatched = phase(&server, client.clone(), &repeated, WAVES, None).await?;
    eprintln!("repeated: through the orchestrator with its caches…");
    let cached = Arc::new(BatchingEmbedder::new(client.clone(), base.clone())?);
    cached.clear_cache().await;
    let rep_batched = phase(&server, cached.clone(), &repeated, WAVES, Some(&cached)).await?;
    let redis_used = base.redis.is_some();
    cached.stop().await;
    let replica = if redis_used {
        eprintln!("repeated: a second replica (empty memory, same Redis)…");
        let second = Arc::new(BatchingEmbedder::new(client.clone(), base.clone())?);
        let p = phase(&server, second.clone(), &repeated, WAVES, Some(&second)).await?;
        second.clear_cache().await;
        second.stop().await;
        Some(p)
    } else {
        None
    };

    eprintln!("overhead: the orchestrator in front of a model that costs nothing…");
    let overhead = own_overhead(&no_cache, &distinct).await?;

    let model_per_text_ms = batched.server.compute_s * 1000.0 / batched.server.texts.max(1) as f64;
    let overhead_share = overhead.cpu_us_per_text / 1000.0 / model_per_text_ms.max(1e-9);
    let settings = json!({
        "requests": args.requests, "model": MODEL, "dim": DIM,
        "server": server.describe(), "batch_size": base.batch_size,
        "max_batch_size": base.max_batch_size, "adaptive": base.adaptive,
        "interval_ms": base.interval.as_millis() as u64,
        "max_in_flight_batches": base.max_in_flight_batches, "redis": redis_used,
    });
    let result = json!({
        "machine": machine.json(), "settings": settings,
        "unbatched": unbatched.json(), "batched": batched.json(),
        "repeated_unbatched": rep_unbatched.json(), "repeated_batched": rep_batched.json(),
        "repeated_second_replica": replica.as_ref().map(Phase::json), "waves": WAVES,
        "overhead": {
            "orchestrator_cpu_us_per_text": round(overhead.cpu_us_per_text, 2),
            "model_ms_per_text": round(model_per_text_ms, 3),
            "share_of_model_time": round(overhead_share, 5),
            "cpu": overhead.cpu.json(),
        },
    });
    let mut text = machine.text();
    text.push_str(&format!(
        "server: {} (all-MiniLM-L6-v2, {DIM} dimensions)\norchestrator: batch size {} (max {}, adaptive {}), interval {} ms, {} batch(es) at once\n\n",
        server.describe(),
        base.batch_size,
        base.max_batch_size,
        base.adaptive,
        base.interval.as_millis(),
        base.max_in_flight_batches
    ));
    text.push_str(&format!(
        "{} concurrent requests of one distinct text each:\n",
        args.requests
    ));
    text.push_str(&comparison(&unbatched, &batched));
    text.push_str(&contention(&[&unbatched, &batched]));
    text.push_str(&format!(
        "\n{} requests in {WAVES} waves, {:.0} % of them repeating a text ({} distinct texts){}:\n",
        args.requests,
        REPEAT_SHARE * 100.0,
        distinct_count(&repeated),
        if redis_used {
            ", with the Redis cache level"
        } else {
            ""
        }
    ));
    text.push_str(&comparison(&rep_unbatched, &rep_batched));
    text.push_str(&contention(&[&rep_unbatched, &rep_batched]));
    if let Some(m) = &rep_batched.metrics {
        text.push_str(&savings(m));
    }
    if let Some(r) = &replica {
        text.push_str(
            "\nthe same workload on a second replica (its own empty memory, the same Redis):\n",
        );
        text.push_str(&comparison(&rep_unbatched, r));
        if let Some(m) = &r.metrics {
            text.push_str(&savings(m));
        }
    }
    text.push_str(&format!(
        "\norchestrator overhead: {:.1} µs of CPU per text (queue, batching, bookkeeping; model cost 0), \
         against {:.2} ms of model time per text in the batched phase = {:.3} %\n",
        overhead.cpu_us_per_text,
        model_per_text_ms,
        overhead_share * 100.0
    ));
    report::emit(&text, args.json.then_some(&result))
}

/// The cores the model server, this process and the rest of the machine kept busy: other
/// processes on the same cores slow the model down and make a run pessimistic.
fn contention(phases: &[&Phase]) -> String {
    let f = |x: Option<f64>| x.map_or("?".to_string(), |c| format!("{c:.2}"));
    let mut s = String::from("  cores busy (unbatched / batched): ");
    let parts: Vec<String> = phases
        .iter()
        .map(|p| {
            let others = p
                .cpu
                .other_cores
                .zip(p.server_cores)
                .map(|(o, srv)| (o - srv).max(0.0));
            format!(
                "model server {}, benchmark {}, rest of the machine {}",
                f(p.server_cores),
                f(p.cpu.own_cores),
                f(others)
            )
        })
        .collect();
    s.push_str(&parts.join(" / "));
    s.push('\n');
    s
}

/// How the orchestrator answered without the model.
fn savings(m: &MetricsSnapshot) -> String {
    let saved = m.memory_cache_hits + m.redis_cache_hits + m.deduplicated;
    format!(
        "  answered without the model: {saved} of {} ({:.1} %): memory cache {}, Redis {}, joined an identical text in flight {}\n  cache hit rate (cache hits / requests): {:.1} %\n",
        m.total_requests,
        100.0 * saved as f64 / m.total_requests.max(1) as f64,
        m.memory_cache_hits,
        m.redis_cache_hits,
        m.deduplicated,
        100.0 * m.cache_hit_rate
    )
}

/// The orchestrator's settings: the configuration's when EMBEDDING_BATCHING is on (so
/// REDIS_URL and the batching variables apply), else the model's defaults without Redis.
fn orchestrator_config(cfg: &Config) -> Result<OrchestratorConfig> {
    Ok(
        match &lightrag_orchestrator::EmbeddingBatching::from_settings(&cfg.settings)? {
            Some(b) => OrchestratorConfig::from_settings(MODEL, b, cfg.embedding_cache_size)?,
            None => OrchestratorConfig::for_model(MODEL),
        },
    )
}

/// An Ollama client for the benchmark server: no batch splitting (the orchestrator decides),
/// generous timeouts (1,000 queued requests take a while on a CPU).
fn client(base: &str) -> Result<RemoteEmbedder> {
    let mut s = EmbedSettings::new(MODEL, DIM);
    s.host = base.to_string();
    s.batch_size = 4096;
    s.timeouts = Timeouts::embedding(600.0);
    Ok(RemoteEmbedder::new(Binding::Ollama, s)?)
}

/// `n` sentences of about 25 words; with `repeat` > 0, that share of them repeats one of the
/// others (each distinct text appears about 1 / (1 - repeat) times), in shuffled order.
fn texts(n: usize, repeat: f64, seed: u64) -> Vec<String> {
    let mut rng = Rng::new(seed);
    let distinct = ((n as f64) * (1.0 - repeat)).round().max(1.0) as usize;
    let pool: Vec<String> = (0..distinct)
        .map(|i| {
            let mut s = format!(
                "Record {i}: the {} {} of {}",
                rng.pick(words::ADJECTIVES),
                rng.pick(words::NOUNS),
                rng.pick(words::TOPICS)
            );
            while s.split_whitespace().count() < 25 {
                s.push_str(&format!(
                    ", {} {} {}",
                    rng.pick(words::VERBS_PAST),
                    rng.pick(words::ADJECTIVES),
                    rng.pick(words::NOUNS)
                ));
            }
            s.push('.');
            s
        })
        .collect();
    let mut out: Vec<String> = (0..n).map(|i| pool[i % distinct].clone()).collect();
    for i in (1..out.len()).rev() {
        let j = rng.below(i + 1);
        out.swap(i, j);
    }
    out
}

fn distinct_count(texts: &[String]) -> usize {
    texts.iter().collect::<std::collections::HashSet<_>>().len()
}

/// What the server saw during a phase.
#[derive(Debug, Clone, Copy, Default)]
struct ServerStats {
    calls: u64,
    texts: u64,
    compute_s: f64,
}

/// One measured phase.
struct Phase {
    wall_s: f64,
    latency: Latency,
    server: ServerStats,
    cpu: CpuUse,
    /// Cores the model server kept busy (when this benchmark started it).
    server_cores: Option<f64>,
    metrics: Option<MetricsSnapshot>,
}

impl Phase {
    fn json(&self) -> Value {
        json!({
            "wall_s": round(self.wall_s, 3),
            "throughput_per_s": round(self.latency.n as f64 / self.wall_s, 1),
            "ms_per_text": round(self.wall_s * 1000.0 / self.latency.n.max(1) as f64, 3),
            "latency": self.latency.json(),
            "network_calls": self.server.calls, "texts_embedded": self.server.texts,
            "model_compute_s": round(self.server.compute_s, 3),
            "client_cpu": self.cpu.json(),
            "server_cores": self.server_cores.map(|c| round(c, 3)),
            "orchestrator": self.metrics.as_ref().map(|m| serde_json::to_value(m).unwrap_or_default()),
        })
    }
}

/// The requests in `waves` waves: a wave's requests (one text each) all at once, the next
/// wave when every answer of this one is in. Latency from the wave's start to each answer.
async fn phase(
    server: &EmbedServer,
    embedder: Arc<dyn Embedder>,
    texts: &[String],
    waves: usize,
    orch: Option<&Arc<BatchingEmbedder>>,
) -> Result<Phase> {
    server.reset()?;
    if let Some(o) = orch {
        o.reset_metrics();
    }
    let meter = CpuMeter::start();
    let server_cpu = server.cpu_seconds();
    let start = Instant::now();
    let mut latencies = Vec::with_capacity(texts.len());
    let per_wave = texts.len().div_ceil(waves.max(1)).max(1);
    for wave in texts.chunks(per_wave) {
        let wave_start = Instant::now();
        let mut tasks = Vec::with_capacity(wave.len());
        for t in wave {
            let e = embedder.clone();
            let t = t.clone();
            tasks.push(tokio::spawn(async move {
                let v = e
                    .embed(std::slice::from_ref(&t), EmbedPurpose::Document)
                    .await;
                (v, wave_start.elapsed())
            }));
        }
        for task in tasks {
            let (v, took) = task.await.context("a request task failed")?;
            let v = v.context("an embedding request failed")?;
            if v.len() != 1 || v[0].len() != DIM {
                bail!("an embedding request returned {} vectors", v.len());
            }
            latencies.push(took.as_secs_f64() * 1000.0);
        }
    }
    let wall_s = start.elapsed().as_secs_f64();
    let cpu = meter.finish();
    let server_cores = server
        .cpu_seconds()
        .zip(server_cpu)
        .map(|(after, before)| (after - before) / wall_s);
    Ok(Phase {
        wall_s,
        latency: Latency::of(&latencies),
        server: server.stats()?,
        cpu,
        server_cores,
        metrics: orch.map(|o| o.metrics()),
    })
}

/// The unbatched and batched rows side by side.
fn comparison(before: &Phase, after: &Phase) -> String {
    let n = before.latency.n.max(1) as f64;
    let fill = after.metrics.as_ref().map_or(1.0, |m| m.avg_batch_size);
    // A row of two measurements with `digits` decimals and the relative change.
    let row = |label: &str, b: f64, a: f64, digits: usize| {
        vec![
            label.to_string(),
            format!("{b:.digits$}"),
            format!("{a:.digits$}"),
            format!("{:+.1} %", (a - b) / b.max(1e-12) * 100.0),
        ]
    };
    let (bs, as_) = (&before.server, &after.server);
    let rows = vec![
        row("network calls", bs.calls as f64, as_.calls as f64, 0),
        row(
            "texts the model embedded",
            bs.texts as f64,
            as_.texts as f64,
            0,
        ),
        row("wall time (s)", before.wall_s, after.wall_s, 2),
        row(
            "time per request (ms)",
            before.wall_s * 1000.0 / n,
            after.wall_s * 1000.0 / n,
            2,
        ),
        vec![
            "throughput (requests/s)".into(),
            format!("{:.1}", n / before.wall_s),
            format!("{:.1}", n / after.wall_s),
            format!("x{:.2}", before.wall_s / after.wall_s.max(1e-12)),
        ],
        row("latency p50 (ms)", before.latency.p50, after.latency.p50, 0),
        row("latency p99 (ms)", before.latency.p99, after.latency.p99, 0),
        row("model compute (s)", bs.compute_s, as_.compute_s, 2),
        vec![
            "texts per call (batch fill)".into(),
            "1.0".into(),
            format!("{fill:.1}"),
            String::new(),
        ],
    ];
    table(&["", "unbatched", "batched", "change"], &rows)
}

/// A model that answers at once with a constant vector.
struct FreeModel;

#[async_trait]
impl Embedder for FreeModel {
    fn model_name(&self) -> &str {
        MODEL
    }
    fn dim(&self) -> usize {
        DIM
    }
    async fn embed(
        &self,
        texts: &[String],
        _purpose: EmbedPurpose,
    ) -> lightrag_core::Result<Vec<Vec<f32>>> {
        Ok(vec![vec![0.05; DIM]; texts.len()])
    }
}

struct Overhead {
    cpu_us_per_text: f64,
    cpu: CpuUse,
}

/// CPU time of every thread of this process so far, in nanoseconds, from
/// /proc/self/task/*/schedstat (nanosecond resolution; /proc/self/stat counts 10 ms ticks,
/// too coarse for a phase that costs milliseconds).
fn threads_cpu_ns() -> Option<u64> {
    let mut total = 0u64;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let path = task.ok()?.path().join("schedstat");
        let Ok(text) = std::fs::read_to_string(path) else {
            continue; // the thread ended meanwhile
        };
        total += text.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(total)
}

/// CPU time of the orchestrator itself per text: the batched phase's path with a model that
/// costs nothing (the waits for the interval cost no CPU). Five rounds, the best kept.
async fn own_overhead(cfg: &OrchestratorConfig, texts: &[String]) -> Result<Overhead> {
    let mut best: Option<Overhead> = None;
    for _ in 0..5 {
        let orch = Arc::new(BatchingEmbedder::new(Arc::new(FreeModel), cfg.clone())?);
        let meter = CpuMeter::start();
        let before = threads_cpu_ns().context("cannot read thread CPU times from /proc")?;
        let mut tasks = Vec::with_capacity(texts.len());
        for t in texts {
            let o = orch.clone();
            let t = t.clone();
            tasks.push(tokio::spawn(async move {
                o.embed(&[t], EmbedPurpose::Document).await
            }));
        }
        for task in tasks {
            task.await.context("a request task failed")??;
        }
        let after = threads_cpu_ns().context("cannot read thread CPU times from /proc")?;
        let cpu = meter.finish();
        orch.stop().await;
        let us = after.saturating_sub(before) as f64 / 1e3 / texts.len() as f64;
        if best.as_ref().is_none_or(|b| us < b.cpu_us_per_text) {
            best = Some(Overhead {
                cpu_us_per_text: us,
                cpu,
            });
        }
    }
    best.context("no overhead round ran")
}

/// The Ollama-compatible server the benchmark talks to.
struct EmbedServer {
    base: String,
    addr: String,
    child: Option<Child>,
    parallel: Option<usize>,
}

impl EmbedServer {
    /// `lightrag-test-llm --embedder local`, from the directory of this binary.
    fn spawn(parallel: usize) -> Result<EmbedServer> {
        let exe = std::env::current_exe().context("cannot find this binary's path")?;
        let server = exe.with_file_name("lightrag-test-llm");
        if !server.is_file() {
            bail!(
                "{} is missing: build it with `cargo build --release -p lightrag-testserver` (or pass --embed-server URL)",
                server.display()
            );
        }
        let mut child = Command::new(&server)
            .args(["--port", "0", "--embedder", "local", "--models", MODEL])
            .args(["--embed-parallel", &parallel.to_string()])
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot start {}", server.display()))?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let Some(addr) = line.trim().strip_prefix("listening on ") else {
            let _ = child.kill();
            bail!("the embedding server did not start (it printed {line:?})");
        };
        Ok(EmbedServer {
            base: format!("http://{addr}"),
            addr: addr.to_string(),
            child: Some(child),
            parallel: Some(parallel),
        })
    }

    /// A server someone else runs (it must be a `lightrag-test-llm` for the statistics).
    fn external(url: &str) -> Result<EmbedServer> {
        let addr = url
            .trim_end_matches('/')
            .trim_start_matches("http://")
            .to_string();
        Ok(EmbedServer {
            base: format!("http://{addr}"),
            addr,
            child: None,
            parallel: None,
        })
    }

    fn describe(&self) -> String {
        match self.parallel {
            Some(p) => format!(
                "lightrag-test-llm --embedder local on {} ({p} model call(s) at a time)",
                self.addr
            ),
            None => format!("external server {}", self.addr),
        }
    }

    /// CPU seconds the started server used so far (user + system).
    fn cpu_seconds(&self) -> Option<f64> {
        process_seconds(&self.child.as_ref()?.id().to_string())
    }

    fn reset(&self) -> Result<()> {
        http(&self.addr, "POST", "/test/reset").map(|_| ())
    }

    fn stats(&self) -> Result<ServerStats> {
        let v: Value = serde_json::from_str(&http(&self.addr, "GET", "/test/stats")?)
            .context("the server's /test/stats is not JSON")?;
        Ok(ServerStats {
            calls: v["embed_calls"].as_u64().unwrap_or(0),
            texts: v["embed_texts"].as_u64().unwrap_or(0),
            compute_s: v["embed_compute_seconds"].as_f64().unwrap_or(0.0),
        })
    }
}

impl Drop for EmbedServer {
    fn drop(&mut self) {
        if let Some(c) = &mut self.child {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A bodiless HTTP/1.1 request to the test server's statistics routes; returns the body.
fn http(addr: &str, method: &str, path: &str) -> Result<String> {
    let mut s = TcpStream::connect(addr).with_context(|| format!("cannot reach {addr}"))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    let body = out.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    Ok(body.to_string())
}
