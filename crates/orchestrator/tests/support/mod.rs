//! Test helpers: recording and failing stand-in models, and the real Redis the tests use.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use lightrag_core::hashing::HashingEmbedder;
use lightrag_core::ports::{EmbedPurpose, Embedder};
use lightrag_core::{Error, Result};
use lightrag_orchestrator::{OrchestratorConfig, RedisSettings};

pub const DIM: usize = 32;

/// A feature-hashing model that records every call and can be slowed down or made to fail.
pub struct Recording {
    pub model: String,
    inner: HashingEmbedder,
    pub calls: Mutex<Vec<Vec<String>>>,
    pub delay: Mutex<Duration>,
    /// Every call fails while set.
    pub down: AtomicBool,
    /// Calls with more than one text fail when any text contains "poison"; a call with the
    /// poison text alone always fails.
    pub poison: AtomicBool,
    pub attempts: AtomicUsize,
}

impl Recording {
    pub fn new(model: &str) -> Arc<Recording> {
        Arc::new(Recording {
            model: model.to_string(),
            inner: HashingEmbedder::new(DIM),
            calls: Mutex::new(Vec::new()),
            delay: Mutex::new(Duration::ZERO),
            down: AtomicBool::new(false),
            poison: AtomicBool::new(false),
            attempts: AtomicUsize::new(0),
        })
    }

    pub fn slow(self: &Arc<Self>, d: Duration) -> Arc<Self> {
        *self.delay.lock().unwrap() = d;
        self.clone()
    }

    /// Successful calls, in order.
    pub fn calls(&self) -> Vec<Vec<String>> {
        self.calls.lock().unwrap().clone()
    }

    /// Texts that reached the model in successful calls.
    pub fn texts_embedded(&self) -> usize {
        self.calls().iter().map(Vec::len).sum()
    }

    /// What the model gives for `t`.
    pub async fn expected(&self, t: &str) -> Vec<f32> {
        self.inner
            .embed(&[t.to_string()], EmbedPurpose::Document)
            .await
            .unwrap()
            .remove(0)
    }
}

#[async_trait]
impl Embedder for Recording {
    fn model_name(&self) -> &str {
        &self.model
    }
    fn dim(&self) -> usize {
        DIM
    }
    async fn embed(&self, texts: &[String], purpose: EmbedPurpose) -> Result<Vec<Vec<f32>>> {
        self.attempts.fetch_add(1, Ordering::SeqCst);
        let d = *self.delay.lock().unwrap();
        if !d.is_zero() {
            tokio::time::sleep(d).await;
        }
        if self.down.load(Ordering::SeqCst) {
            return Err(Error::Embedding("model server down".into()));
        }
        if self.poison.load(Ordering::SeqCst) && texts.iter().any(|t| t.contains("poison")) {
            return Err(Error::Embedding("input rejected".into()));
        }
        self.calls.lock().unwrap().push(texts.to_vec());
        self.inner.embed(texts, purpose).await
    }
}

/// A model name no other test uses (queues and cache keys are per model).
pub fn unique_model(what: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("test-{what}-{}-{nanos}", std::process::id())
}

/// Settings for tests: small batches, short waits, fast retries.
pub fn test_config(model: &str) -> OrchestratorConfig {
    let mut c = OrchestratorConfig::for_model(model);
    c.batch_size = 16;
    c.max_batch_size = 64;
    c.interval = Duration::from_millis(20);
    c.retry_base = Duration::from_millis(5);
    c.batch_timeout = Duration::from_secs(5);
    c.lease = Duration::from_secs(6);
    c.adaptive = false;
    c
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The shared test Redis (scripts/redis.sh, started by scripts/test.sh), or `None` when it is
/// not running and the run did not promise services. With LIGHTRAG_TEST_SERVICES=1 an
/// unreachable Redis fails the test: it never skips silently.
pub fn redis_url(test: &str) -> Option<String> {
    let url = std::env::var("LIGHTRAG_TEST_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6391".to_string());
    if reachable(&url) {
        return Some(url);
    }
    if std::env::var("LIGHTRAG_TEST_SERVICES").as_deref() == Ok("1") {
        panic!("{test}: LIGHTRAG_TEST_SERVICES=1 but Redis at {url} does not answer (scripts/redis.sh start)");
    }
    eprintln!("SKIPPED {test}: no Redis at {url}; run scripts/redis.sh start or scripts/test.sh");
    None
}

fn host_port(url: &str) -> (String, String) {
    let rest = url.trim_start_matches("redis://");
    let rest = rest.split('/').next().unwrap_or(rest);
    let (h, p) = rest.rsplit_once(':').unwrap_or((rest, "6379"));
    (h.to_string(), p.to_string())
}

/// Whether redis-cli gets a PONG.
pub fn reachable(url: &str) -> bool {
    let (h, p) = host_port(url);
    Command::new("redis-cli")
        .args(["-h", &h, "-p", &p, "ping"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("PONG"))
        .unwrap_or(false)
}

/// A Redis command through redis-cli, for checks from outside the orchestrator.
pub fn cli(url: &str, db: u32, args: &[&str]) -> String {
    let (h, p) = host_port(url);
    let out = Command::new("redis-cli")
        .args(["-h", &h, "-p", &p, "-n", &db.to_string()])
        .args(args)
        .output()
        .expect("redis-cli runs");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Points a config at a Redis the test expects to be healthy. The deadline per command is
/// generous: on a loaded CI machine one command can take longer than the default 500 ms, and
/// the orchestrator then (correctly) carries on in process, which these tests do not test.
/// Outage tests set their own deadline.
pub fn with_redis(mut c: OrchestratorConfig, url: &str) -> OrchestratorConfig {
    c.redis = Some(RedisSettings {
        url: url.to_string(),
        db: 2,
    });
    c.redis_timeout = Duration::from_secs(5);
    c
}

/// A Redis server of the test's own (started and stopped through scripts/redis.sh), so that
/// stopping it disturbs no other test.
pub struct OwnRedis {
    pub port: u16,
    dir: tempfile::TempDir,
}

impl OwnRedis {
    pub fn start(port: u16) -> OwnRedis {
        let dir = tempfile::tempdir().unwrap();
        let r = OwnRedis { port, dir };
        r.script("start");
        r
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn script(&self, cmd: &str) {
        let status = Command::new(repo_root().join("scripts/redis.sh"))
            .arg(cmd)
            .env("LIGHTRAG_REDIS_PORT", self.port.to_string())
            .env("LIGHTRAG_REDIS_DIR", self.dir.path())
            .status()
            .expect("scripts/redis.sh runs");
        assert!(status.success(), "scripts/redis.sh {cmd} failed");
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.script("stop");
    }
}
