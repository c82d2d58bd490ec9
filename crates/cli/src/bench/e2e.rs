//! `lightrag bench --component e2e --url URL`: load on a running `lightrag serve` over HTTP,
//! from this (second) process. Phases: seed documents; the same questions again and again
//! (answered by the query cache after the first round); distinct context-only questions (no
//! cache, retrieval every time); inserts while queries run. Prints throughput, latency
//! percentiles and failed requests per phase.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use futures::stream::{self, StreamExt};
use indicatif::{ProgressBar, ProgressStyle};
use lightrag_core::tokenizer::TiktokenTokenizer;
use serde_json::{json, Value};

use super::corpus::documents;
use super::report::{emit, round, table, Latency, Machine};
use super::SEED;
use crate::args::BenchArgs;

/// What one phase measured.
struct Phase {
    name: &'static str,
    requests: usize,
    failed: usize,
    seconds: f64,
    latency: Latency,
}

impl Phase {
    fn rate(&self) -> f64 {
        self.requests as f64 / self.seconds.max(1e-9)
    }
    fn row(&self) -> Vec<String> {
        vec![
            self.name.to_string(),
            self.requests.to_string(),
            self.failed.to_string(),
            format!("{:.1}", self.rate()),
            format!("{:.2}", self.latency.p50),
            format!("{:.2}", self.latency.p99),
            format!("{:.2}", self.latency.max),
        ]
    }
    fn json(&self) -> Value {
        json!({"phase": self.name, "requests": self.requests, "failed": self.failed,
               "seconds": round(self.seconds, 3), "per_second": round(self.rate(), 1),
               "latency": self.latency.json()})
    }
}

struct Client {
    http: reqwest::Client,
    url: String,
    key: Option<String>,
}

impl Client {
    fn post(&self, path: &str, body: &Value) -> reqwest::RequestBuilder {
        let r = self.http.post(format!("{}{path}", self.url)).json(body);
        match &self.key {
            Some(k) => r.header("X-API-Key", k),
            None => r,
        }
    }

    async fn get(&self, path: &str) -> Result<Value> {
        let mut r = self.http.get(format!("{}{path}", self.url));
        if let Some(k) = &self.key {
            r = r.header("X-API-Key", k);
        }
        let resp = r.send().await.with_context(|| format!("GET {path}"))?;
        if !resp.status().is_success() {
            bail!("GET {path}: {}", resp.status());
        }
        Ok(resp.json().await?)
    }
}

/// Runs `bodies` against `path` with `concurrency` in flight; a non-2xx answer or a transport
/// error is a failed request.
async fn load(
    c: &Client,
    name: &'static str,
    path: &'static str,
    bodies: Vec<Value>,
    concurrency: usize,
) -> Phase {
    let bar = ProgressBar::new(bodies.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{prefix:>22} {bar:30} {pos}/{len} {per_sec}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_prefix(name);
    let failed = AtomicUsize::new(0);
    let samples = Mutex::new(Vec::with_capacity(bodies.len()));
    let n = bodies.len();
    let started = Instant::now();
    stream::iter(bodies)
        .for_each_concurrent(concurrency.max(1), |body| {
            let (failed, samples, bar) = (&failed, &samples, &bar);
            async move {
                let t = Instant::now();
                let ok = match c.post(path, &body).send().await {
                    Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
                    _ => false,
                };
                if !ok {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
                if let Ok(mut s) = samples.lock() {
                    s.push(t.elapsed().as_secs_f64() * 1000.0);
                }
                bar.inc(1);
            }
        })
        .await;
    let seconds = started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let samples = samples.into_inner().unwrap_or_default();
    Phase {
        name,
        requests: n,
        failed: failed.into_inner(),
        seconds,
        latency: Latency::of(&samples),
    }
}

/// Waits until no document is pending or processing.
async fn settle(c: &Client, limit: Duration) -> Result<Value> {
    let t = Instant::now();
    loop {
        let v = c.get("/documents/status_counts").await?;
        let counts = &v["status_counts"];
        if counts["pending"] == 0 && counts["processing"] == 0 {
            return Ok(counts.clone());
        }
        if t.elapsed() > limit {
            bail!("documents still processing after {limit:?}: {counts}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Capitalised words of the generated documents: names to ask about.
fn names(texts: &[String]) -> Vec<String> {
    let mut out: Vec<String> = texts
        .iter()
        .flat_map(|t| t.split_whitespace())
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_string())
        .filter(|w| w.len() > 3 && w.chars().next().is_some_and(char::is_uppercase))
        .collect();
    out.sort();
    out.dedup();
    out
}

pub async fn run(args: &BenchArgs) -> Result<()> {
    let Some(url) = args.url.clone() else {
        bail!("--component e2e needs --url of a running `lightrag serve` (e.g. http://127.0.0.1:9621)");
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency.max(1))
        .build()?;
    let c = Client {
        http,
        url: url.trim_end_matches('/').to_string(),
        key: args.api_key.clone(),
    };
    let health = c
        .get("/health")
        .await
        .context("the server does not answer /health")?;
    let machine = Machine::probe();

    // Seed documents (skipped for documents the server already has).
    let tok = TiktokenTokenizer::o200k();
    let docs = documents(SEED, args.docs, args.doc_tokens, &tok);
    let texts: Vec<String> = docs.iter().map(|d| d.text.clone()).collect();
    let seed_started = Instant::now();
    for batch in docs.chunks(50) {
        let body = json!({"texts": batch.iter().map(|d| &d.text).collect::<Vec<_>>(),
                          "file_sources": batch.iter().map(|d| format!("bench-{}", d.key.replace('/', "_"))).collect::<Vec<_>>()});
        let r = c.post("/documents/texts", &body).send().await?;
        if !r.status().is_success() && r.status() != reqwest::StatusCode::CONFLICT {
            bail!(
                "seeding failed: {} {}",
                r.status(),
                r.text().await.unwrap_or_default()
            );
        }
    }
    let counts = settle(&c, Duration::from_secs(3600)).await?;
    let seed_seconds = seed_started.elapsed().as_secs_f64();

    let vocab = names(&texts);
    if vocab.len() < 2 {
        bail!("the generated corpus has no names to ask about");
    }
    let n = args.queries;
    let distinct = 20.min(n.max(1));
    let repeated: Vec<Value> = (0..n)
        .map(|i| {
            let w = &vocab[(i % distinct) * 7 % vocab.len()];
            json!({"query": format!("What is known about {w}?"), "mode": "mix"})
        })
        .collect();
    let context_only: Vec<Value> = (0..n)
        .map(|i| {
            let a = &vocab[(i * 13) % vocab.len()];
            let b = &vocab[(i * 31 + 5) % vocab.len()];
            json!({"query": format!("How are {a} and {b} related? ({i})"), "mode": "mix", "only_need_context": true})
        })
        .collect();
    let mut phases = vec![
        load(&c, "repeated (cache)", "/query", repeated, args.concurrency).await,
        load(
            &c,
            "distinct context-only",
            "/query",
            context_only.clone(),
            args.concurrency,
        )
        .await,
    ];

    // Inserts while context-only queries run.
    let inserts: Vec<Value> = (0..(n / 10).max(5))
        .map(|i| {
            let a = &vocab[(i * 17) % vocab.len()];
            json!({"text": format!("Bench note {i}: {a} met the harbour board on day {i} of the season.", ),
                   "file_source": format!("bench-note-{}-{i}.txt", std::process::id())})
        })
        .collect();
    let shifted: Vec<Value> = context_only
        .iter()
        .map(|b| {
            let mut b = b.clone();
            b["query"] = json!(format!("{} again", b["query"].as_str().unwrap_or_default()));
            b
        })
        .collect();
    let c = Arc::new(c);
    let (q, i) = tokio::join!(
        load(
            &c,
            "queries during inserts",
            "/query",
            shifted,
            args.concurrency
        ),
        load(&c, "inserts under load", "/documents/text", inserts, 2)
    );
    phases.push(q);
    phases.push(i);
    settle(&c, Duration::from_secs(3600)).await?;

    let failed: usize = phases.iter().map(|p| p.failed).sum();
    let rows: Vec<Vec<String>> = phases.iter().map(Phase::row).collect();
    let mut text = machine.text();
    text.push_str(&format!(
        "server: {} (embedding {}, llm {})\nseed: {} documents of ~{} tokens in {:.1} s: {}\nconcurrency: {}\n\n",
        c.url,
        health["configuration"]["embedding_binding"].as_str().unwrap_or("?"),
        health["configuration"]["llm_binding"].as_str().unwrap_or("?"),
        args.docs, args.doc_tokens, seed_seconds, counts, args.concurrency
    ));
    text.push_str(&table(
        &[
            "phase", "requests", "failed", "req/s", "p50 ms", "p99 ms", "max ms",
        ],
        &rows,
    ));
    text.push_str(&format!("\nfailed requests in all: {failed}\n"));
    let out = json!({"component": "e2e", "machine": machine.json(), "url": c.url,
        "concurrency": args.concurrency, "seed_documents": args.docs, "seed_seconds": round(seed_seconds, 2),
        "phases": phases.iter().map(Phase::json).collect::<Vec<_>>(), "failed": failed});
    emit(&text, args.json.then_some(&out))?;
    if failed > 0 {
        bail!("{failed} requests failed");
    }
    Ok(())
}
