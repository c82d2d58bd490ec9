//! `lightrag bench --component vectors`: the configured vector store's approximate search
//! against exact search. N vectors are written to one vector set of whatever
//! LIGHTRAG_VECTOR_STORAGE names: with `--vector-data text`, generated sentences through the
//! hashing embedder (sparse vectors, a hard case for graph indexes); with `dense`, points around
//! 1,000 random centres (the dense, clustered shape of model embeddings; no model needed). Then,
//! for Q other sentences or points, the
//! store's top 10 is compared with the exact top 10 by cosine (brute force in memory):
//! recall@10 (a hit counts when it is as similar as the exact 10th, since tied texts are
//! equally right), query latency and write rate.

use std::time::Instant;

use anyhow::{Context, Result};
use indicatif::ProgressBar;
use lightrag_core::config::Config;
use lightrag_core::hashing::HashingEmbedder;
use lightrag_core::ports::{EmbedPurpose, Embedder};
use lightrag_core::types::VectorRecord;
use lightrag_storage::select::{self, Place, StorageConfig};
use serde_json::json;

use super::report::{emit, round, table, Latency, Machine};
use super::rng::Rng;
use super::{words, BenchDir, SEED};
use crate::args::BenchArgs;

const K: usize = 10;
const BATCH: usize = 2_000;

/// The benchmark's words: the corpora's nouns, adjectives and topics, and invented names from
/// their syllables (thousands of them, so sentences differ as texts do).
fn vocabulary() -> Vec<String> {
    let mut v: Vec<String> = words::NOUNS
        .iter()
        .chain(words::ADJECTIVES)
        .chain(words::TOPICS)
        .map(|w| w.to_string())
        .collect();
    for o in words::ONSETS {
        for vw in words::VOWELS {
            for c in words::CODAS {
                v.push(format!("{o}{vw}{c}"));
            }
        }
    }
    v.sort();
    v.dedup();
    v
}

/// A generated sentence of 8 to 20 words; common words come up more often (a square law).
fn sentence(rng: &mut Rng, vocab: &[String]) -> String {
    let n = 8 + rng.below(13);
    (0..n)
        .map(|_| {
            let u = rng.unit();
            vocab[((u * u) * vocab.len() as f64) as usize % vocab.len()].as_str()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A vector of standard normal values (Box-Muller).
fn gaussian(rng: &mut Rng, dim: usize) -> Vec<f32> {
    (0..dim)
        .map(|_| {
            let (u, v) = (rng.unit().max(1e-12), rng.unit());
            ((-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()) as f32
        })
        .collect()
}

fn unit(v: Vec<f32>) -> Vec<f32> {
    let n = v
        .iter()
        .map(|x| x * x)
        .sum::<f32>()
        .sqrt()
        .max(f32::MIN_POSITIVE);
    v.into_iter().map(|x| x / n).collect()
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The exact top `K` of `q` among `all` (unit vectors: cosine is the dot product).
fn exact_top(q: &[f32], all: &[Vec<f32>]) -> Vec<usize> {
    let mut scored: Vec<(f32, usize)> = all
        .iter()
        .enumerate()
        .map(|(i, v)| (dot(q, v), i))
        .collect();
    let k = K.min(scored.len());
    scored.select_nth_unstable_by(k.saturating_sub(1), |a, b| b.0.total_cmp(&a.0));
    let mut top: Vec<(f32, usize)> = scored[..k].to_vec();
    top.sort_by(|a, b| b.0.total_cmp(&a.0));
    top.into_iter().map(|(_, i)| i).collect()
}

pub async fn run(mut cfg: Config, args: &BenchArgs) -> Result<()> {
    let n = args.vectors;
    let dim = args.dim;
    let dir = BenchDir::create(args.bench_dir.as_deref(), "vectors")?;
    cfg.working_dir = dir.path.clone();
    cfg.workspace = format!("bench_vectors_{}", std::process::id());
    let storage = StorageConfig::from_settings(&cfg.settings)?;
    let backend = storage
        .names()
        .into_iter()
        .find(|(role, _)| *role == "vector_storage")
        .map(|(_, name)| name)
        .unwrap_or_default();
    let embedder = HashingEmbedder::new(dim);
    let data_dir = cfg.data_dir();
    let place = Place {
        data_dir: &data_dir,
        workspace: &cfg.workspace,
    };
    let (stores, handle) = select::open(&storage, place, embedder.model_name(), dim)
        .await
        .context("cannot open the vector store")?;
    let store = stores.chunks_vdb.clone();

    let mut rng = Rng::new(SEED);
    let vocab = vocabulary();
    let texts: Vec<String> = (0..n).map(|_| sentence(&mut rng, &vocab)).collect();
    let queries: Vec<String> = (0..args.queries)
        .map(|_| sentence(&mut rng, &vocab))
        .collect();
    let dense = args.vector_data == "dense";
    let centres: Vec<Vec<f32>> = (0..1000).map(|_| gaussian(&mut rng, dim)).collect();
    let point = |rng: &mut Rng| {
        let c = &centres[rng.below(centres.len())];
        let noise = gaussian(rng, dim);
        unit(c.iter().zip(&noise).map(|(a, b)| a + 0.5 * b).collect())
    };
    let mut points: Vec<Vec<f32>> = if dense {
        (0..n).map(|_| point(&mut rng)).collect()
    } else {
        Vec::new()
    };
    let query_points: Vec<Vec<f32>> = if dense {
        (0..args.queries).map(|_| point(&mut rng)).collect()
    } else {
        Vec::new()
    };
    let bar = ProgressBar::new(n as u64);
    let mut all: Vec<Vec<f32>> = Vec::with_capacity(n);
    let t = Instant::now();
    let mut write_s = 0.0;
    for (b, batch) in texts.chunks(BATCH).enumerate() {
        let vectors = if dense {
            points.drain(..batch.len()).collect()
        } else {
            embedder.embed(batch, EmbedPurpose::Document).await?
        };
        let records: Vec<VectorRecord> = vectors
            .iter()
            .enumerate()
            .map(|(i, v)| VectorRecord {
                id: format!("v{:07}", b * BATCH + i),
                vector: v.clone(),
                meta: json!({"content": batch[i]}),
            })
            .collect();
        let w = Instant::now();
        store.upsert(records).await?;
        write_s += w.elapsed().as_secs_f64();
        all.extend(vectors);
        bar.inc(batch.len() as u64);
    }
    store.flush().await?;
    bar.finish_and_clear();
    let build_s = t.elapsed().as_secs_f64();

    let mut latencies = Vec::with_capacity(queries.len());
    let mut found = 0usize;
    let mut expected = 0usize;
    for (qi, q) in queries.iter().enumerate() {
        let v = if dense {
            query_points[qi].clone()
        } else {
            embedder
                .embed(std::slice::from_ref(q), EmbedPurpose::Query)
                .await?
                .remove(0)
        };
        let t = Instant::now();
        let hits = store.query(&v, K, -1.0).await?;
        latencies.push(t.elapsed().as_secs_f64() * 1000.0);
        // A hit counts when it is as similar as the exact 10th: among tied texts any is right.
        let truth = exact_top(&v, &all);
        let Some(kth) = truth.last().map(|i| dot(&v, &all[*i])) else {
            continue;
        };
        expected += truth.len();
        found += hits
            .iter()
            .filter_map(|h| h.id.strip_prefix('v')?.parse::<usize>().ok())
            .filter(|i| all.get(*i).is_some_and(|x| dot(&v, x) >= kth - 1e-6))
            .count()
            .min(truth.len());
    }
    let recall = found as f64 / expected.max(1) as f64;
    let lat = Latency::of(&latencies);
    store.clear().await?;
    handle.close().await?;

    let machine = Machine::probe();
    let text =
        format!(
        "vector search: {backend}, {n} {} vectors of {dim} dimensions, {} queries, top {K}\n{}\n{}",
        args.vector_data,
        queries.len(),
        table(
            &["recall@10", "query p50 ms", "query p99 ms", "writes/s", "build s"],
            &[vec![
                format!("{:.3}", recall),
                format!("{:.2}", lat.p50),
                format!("{:.2}", lat.p99),
                format!("{:.0}", n as f64 / write_s.max(1e-9)),
                format!("{:.1}", build_s),
            ]],
        ),
        machine.text()
    );
    let json_out = json!({
        "component": "vectors", "backend": backend, "vectors": n, "dim": dim,
        "data": args.vector_data,
        "queries": queries.len(), "k": K, "recall_at_10": round(recall, 4),
        "query_ms": lat.json(), "writes_per_s": round(n as f64 / write_s.max(1e-9), 0),
        "build_s": round(build_s, 2), "machine": machine.json(),
    });
    emit(&text, args.json.then_some(&json_out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_top_is_best_first() {
        let all = vec![vec![1.0, 0.0], vec![0.0, 1.0], vec![0.8, 0.6]];
        assert_eq!(exact_top(&[1.0, 0.0], &all), vec![0, 2, 1]);
    }
}
