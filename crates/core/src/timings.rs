//! Where ingest time goes: cumulative time per stage, summed over concurrent work (so the stages
//! can add up to more than the wall-clock time when documents overlap).

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use serde::Serialize;

/// The stages of ingest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Chunking,
    Extraction,
    Embedding,
    VectorWrites,
    StoreWrites,
    /// The graph merge under the merge lock: reads, rules, descriptions, graph and KV writes.
    Merge,
}

/// Cumulative nanoseconds per stage.
#[derive(Debug, Default)]
pub struct Timings {
    stages: [AtomicU64; 6],
}

/// Seconds per stage at one moment.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct TimingSnapshot {
    pub chunking_s: f64,
    pub extraction_s: f64,
    pub embedding_s: f64,
    pub vector_writes_s: f64,
    pub store_writes_s: f64,
    pub merge_s: f64,
}

impl Timings {
    /// Adds `nanos` to a stage.
    pub fn add(&self, stage: Stage, nanos: u64) {
        self.stages[stage as usize].fetch_add(nanos, Ordering::Relaxed);
    }

    /// Runs a synchronous step, counting its time.
    pub fn time<T>(&self, stage: Stage, f: impl FnOnce() -> T) -> T {
        let t = Instant::now();
        let out = f();
        self.add(stage, t.elapsed().as_nanos() as u64);
        out
    }

    /// Awaits a future, counting its time.
    pub async fn time_async<T>(&self, stage: Stage, f: impl Future<Output = T>) -> T {
        let t = Instant::now();
        let out = f.await;
        self.add(stage, t.elapsed().as_nanos() as u64);
        out
    }

    /// The totals so far.
    pub fn snapshot(&self) -> TimingSnapshot {
        let s = |st: Stage| self.stages[st as usize].load(Ordering::Relaxed) as f64 / 1e9;
        TimingSnapshot {
            chunking_s: s(Stage::Chunking),
            extraction_s: s(Stage::Extraction),
            embedding_s: s(Stage::Embedding),
            vector_writes_s: s(Stage::VectorWrites),
            store_writes_s: s(Stage::StoreWrites),
            merge_s: s(Stage::Merge),
        }
    }
}
