//! The queries of the retrieval benchmark: generated questions, timed runs per mode at a
//! given concurrency, and the local model's query-embedding latency measured on its own.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use lightrag_core::config::Config;
use lightrag_core::ports::{EmbedPurpose, Embedder};
use lightrag_core::query::{QueryMode, QueryParam};
use lightrag_providers::local_model::LocalEmbedder;
use serde_json::{json, Value};

use super::cpu::{CpuMeter, CpuUse};
use super::graphgen::Plan;
use super::report::{round, Latency};
use super::rng::{Rng, Zipf};
use super::words::TOPICS;
use super::SEED;
use crate::setup::Engine;

/// Questions about entities of the graph: half about hubs, half about any entity.
pub fn questions(plan: &Plan, n: usize) -> Vec<String> {
    let mut rng = Rng::new(SEED ^ 0x0051);
    let zipf = Zipf::new(plan.names.len(), 1.0);
    let name = |rng: &mut Rng| {
        let i = if rng.chance(0.5) {
            zipf.sample(rng)
        } else {
            rng.below(plan.names.len())
        };
        plan.names[i].clone()
    };
    (0..n)
        .map(|_| {
            let (a, b) = (name(&mut rng), name(&mut rng));
            let t = rng.pick(TOPICS);
            match rng.below(4) {
                0 => format!("What did {a} have to do with {b}?"),
                1 => format!("How was {a} involved in the {t}?"),
                2 => format!("Tell me about {a} and the {t}."),
                _ => format!("Why did {a} and {b} quarrel over {t}?"),
            }
        })
        .collect()
}

/// One mode's measurements.
pub struct ModeRun {
    pub mode: QueryMode,
    pub latency: Latency,
    pub wall_s: f64,
    pub hits: usize,
    pub errors: usize,
    pub first_error: Option<String>,
    pub entities: usize,
    pub relations: usize,
    pub chunks: usize,
    pub context_chars: usize,
    pub cpu: Option<CpuUse>,
}

impl ModeRun {
    pub fn avg(&self, x: usize) -> f64 {
        x as f64 / self.latency.n.max(1) as f64
    }
}

/// Runs every question once at `concurrency`, on tokio worker tasks.
pub async fn run_mode(
    engine: &Arc<Engine>,
    qs: &Arc<Vec<String>>,
    param: &QueryParam,
    concurrency: usize,
) -> Result<ModeRun> {
    let next = Arc::new(AtomicUsize::new(0));
    let meter = CpuMeter::start();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (engine, qs, param, next) = (engine.clone(), qs.clone(), param.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(q) = qs.get(i) else { break };
                let t = Instant::now();
                let r = engine.rag.query(q, &param).await;
                out.push((t.elapsed().as_secs_f64() * 1e3, r));
            }
            out
        }));
    }
    let mut run = ModeRun {
        mode: param.mode,
        latency: Latency::default(),
        wall_s: 0.0,
        hits: 0,
        errors: 0,
        first_error: None,
        entities: 0,
        relations: 0,
        chunks: 0,
        context_chars: 0,
        cpu: None,
    };
    let mut ms = Vec::with_capacity(qs.len());
    for t in tasks {
        for (lat, r) in t.await.context("a query task failed")? {
            ms.push(lat);
            match r {
                Ok(res) => {
                    run.hits += usize::from(res.status == "success");
                    run.entities += res.data.entities.len();
                    run.relations += res.data.relationships.len();
                    run.chunks += res.data.chunks.len();
                    run.context_chars += res.context.len();
                }
                Err(e) => {
                    run.errors += 1;
                    run.first_error.get_or_insert_with(|| e.to_string());
                }
            }
        }
    }
    run.wall_s = started.elapsed().as_secs_f64();
    run.cpu = Some(meter.finish());
    run.latency = Latency::of(&ms);
    Ok(run)
}

/// Latency of embedding questions with the local model, to add to the context-building time
/// when the graph was built with another embedder. `Err` says why it could not be measured.
pub async fn local_query_embedding(cfg: &Config, qs: &[String]) -> Result<Value, String> {
    let dir = cfg
        .local_model_dir
        .clone()
        .unwrap_or_else(LocalEmbedder::default_model_dir);
    let t = Instant::now();
    let model = LocalEmbedder::load(&dir).map_err(|e| e.to_string())?;
    let load_s = t.elapsed().as_secs_f64();
    let measure = |k: usize| {
        let model = model.clone();
        async move {
            let mut ms = Vec::new();
            for (i, q) in qs.iter().cycle().take(60).enumerate() {
                // What the engine sends in one call: the question, then its keyword strings.
                let kw = lightrag_core::query::keywords::offline_keywords(q);
                let texts: Vec<String> =
                    [q.clone(), kw.low_level.join(", "), kw.high_level.join(", ")]
                        .into_iter()
                        .take(k)
                        .collect();
                let t = Instant::now();
                model
                    .embed(&texts, EmbedPurpose::Query)
                    .await
                    .map_err(|e| e.to_string())?;
                if i >= 10 {
                    ms.push(t.elapsed().as_secs_f64() * 1e3);
                }
            }
            Ok::<Latency, String>(Latency::of(&ms))
        }
    };
    let one = measure(1).await?;
    let three = measure(3).await?;
    Ok(json!({"load_s": round(load_s, 3), "one_text": one.json(), "three_texts": three.json()}))
}
