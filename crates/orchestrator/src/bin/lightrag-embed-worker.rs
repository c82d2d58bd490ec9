//! `lightrag-embed-worker`: a shared-queue worker process with a stand-in model (feature
//! hashing, optionally slowed down), so tests can show several processes sharing one batcher
//! pool and a worker killed mid-batch losing nothing. Prints `ready` once started, then works
//! until killed.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use clap::Parser;
use lightrag_core::hashing::HashingEmbedder;
use lightrag_core::ports::{EmbedPurpose, Embedder};
use lightrag_orchestrator::{BatchingEmbedder, OrchestratorConfig, RedisSettings};

/// Works on the shared embedding queue in Redis.
#[derive(Parser)]
#[command(name = "lightrag-embed-worker")]
struct Args {
    /// Redis URL (redis://host:port).
    #[arg(long)]
    redis_url: String,
    /// Redis database.
    #[arg(long, default_value_t = 2)]
    db: u32,
    /// Model name (the queue is per model).
    #[arg(long, default_value = "test-hashing")]
    model: String,
    /// Vector dimension.
    #[arg(long, default_value_t = 64)]
    dim: usize,
    /// Milliseconds every model call takes (a slow model).
    #[arg(long, default_value_t = 0)]
    delay_ms: u64,
    /// Texts per batch.
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// Lease of a claimed batch, in milliseconds.
    #[arg(long, default_value_t = 35_000)]
    lease_ms: u64,
    /// Timeout of one model call, in milliseconds.
    #[arg(long, default_value_t = 30_000)]
    batch_timeout_ms: u64,
    /// Milliseconds a text waits for its batch to fill.
    #[arg(long, default_value_t = 20)]
    interval_ms: u64,
}

/// Feature hashing that takes its time, like a real model.
struct SlowHashing {
    inner: HashingEmbedder,
    delay: Duration,
    model: String,
}

#[async_trait]
impl Embedder for SlowHashing {
    fn model_name(&self) -> &str {
        &self.model
    }
    fn dim(&self) -> usize {
        self.inner.dim()
    }
    async fn embed(
        &self,
        texts: &[String],
        purpose: EmbedPurpose,
    ) -> lightrag_core::Result<Vec<Vec<f32>>> {
        tokio::time::sleep(self.delay).await;
        self.inner.embed(texts, purpose).await
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    let model = Arc::new(SlowHashing {
        inner: HashingEmbedder::new(a.dim),
        delay: Duration::from_millis(a.delay_ms),
        model: a.model.clone(),
    });
    let mut cfg = OrchestratorConfig::for_model(&a.model);
    cfg.redis = Some(RedisSettings {
        url: a.redis_url,
        db: a.db,
    });
    cfg.shared_queue = true;
    cfg.workers = 1;
    cfg.batch_size = a.batch_size;
    cfg.max_batch_size = a.batch_size.max(1);
    cfg.adaptive = false;
    cfg.lease = Duration::from_millis(a.lease_ms);
    cfg.batch_timeout = Duration::from_millis(a.batch_timeout_ms);
    cfg.interval = Duration::from_millis(a.interval_ms);
    let orchestrator = BatchingEmbedder::new(model, cfg).context("bad worker settings")?;
    orchestrator.start().context("cannot start")?;
    println!("ready");
    std::io::stdout().flush()?;
    tokio::signal::ctrl_c().await.ok();
    orchestrator.stop().await;
    Ok(())
}
