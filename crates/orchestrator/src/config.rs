//! The orchestrator's settings, from the engine configuration (the seed's environment
//! variables) and the model's profile.

use std::time::Duration;

use crate::keys::EmbeddingBatching;

use crate::error::{OrchestratorError, Result};
use crate::profiles::profile_for;

/// Where the second cache level and the shared queue live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisSettings {
    /// `redis://host:port` (any database path is replaced by `db`).
    pub url: String,
    /// The database of the embedding cache and queue (REDIS_EMBEDDING_DB).
    pub db: u32,
}

impl RedisSettings {
    /// The connection URL with the database selected.
    pub fn url_with_db(&self) -> String {
        let base = self.url.trim_end_matches('/');
        // Drop a database already in the URL: REDIS_EMBEDDING_DB decides.
        let base = match base.rfind('/') {
            Some(i)
                if i > "redis://".len() && base[i + 1..].chars().all(|c| c.is_ascii_digit()) =>
            {
                &base[..i]
            }
            _ => base,
        };
        format!("{base}/{}", self.db)
    }
}

/// Everything the orchestrator needs to know.
#[derive(Debug, Clone)]
pub struct OrchestratorConfig {
    /// Texts per call to start with (the adaptive sizer moves it within 1..=max_batch_size).
    pub batch_size: usize,
    /// The most texts per call: the model's limit.
    pub max_batch_size: usize,
    /// How long one call to the model may take (OLLAMA_BATCH_TIMEOUT).
    pub batch_timeout: Duration,
    /// How long a text may wait for its batch to fill (BATCH_PROCESSING_INTERVAL).
    pub interval: Duration,
    /// Retries of a failed batch before falling back to one call per text (MAX_BATCH_RETRIES).
    pub max_retries: usize,
    /// The first retry's delay; each next one doubles, with jitter.
    pub retry_base: Duration,
    /// Embeddings kept in process (EMBEDDING_CACHE_SIZE); 0 = none.
    pub cache_size: usize,
    /// Lifetime of a cached embedding in both levels (EMBEDDING_CACHE_TTL); zero = forever.
    pub cache_ttl: Duration,
    /// The Redis level and shared queue; `None` = in process only.
    pub redis: Option<RedisSettings>,
    /// Queue through Redis so that several processes share one batcher pool.
    pub shared_queue: bool,
    /// Shared-queue workers this process runs (0 = it only submits work).
    pub workers: usize,
    /// How long a worker owns a claimed batch before others may take it over.
    pub lease: Duration,
    /// Let load and measured latency move the batch size.
    pub adaptive: bool,
    /// Batches slower than this shrink the batch size.
    pub target_batch_latency: Duration,
    /// Consecutive failed model calls that open the circuit breaker.
    pub breaker_threshold: u32,
    /// How long an open breaker rejects calls before letting one trial through.
    pub breaker_cooldown: Duration,
    /// Batches sent to the model at once by one process.
    pub max_in_flight_batches: usize,
    /// How long one Redis command may take before Redis counts as down.
    pub redis_timeout: Duration,
}

impl OrchestratorConfig {
    /// The seed's defaults, sized for `model`.
    pub fn for_model(model: &str) -> OrchestratorConfig {
        let p = profile_for(model);
        OrchestratorConfig {
            batch_size: p.batch_size,
            max_batch_size: p.max_batch_size,
            batch_timeout: Duration::from_millis(30_000),
            interval: Duration::from_millis(100),
            max_retries: 3,
            retry_base: Duration::from_millis(100),
            cache_size: 10_000,
            cache_ttl: Duration::from_secs(3600),
            redis: None,
            shared_queue: false,
            workers: 1,
            lease: Duration::from_millis(35_000),
            adaptive: true,
            target_batch_latency: Duration::from_millis(2000),
            breaker_threshold: 5,
            breaker_cooldown: Duration::from_secs(30),
            max_in_flight_batches: 1,
            redis_timeout: Duration::from_millis(500),
        }
    }

    /// From the engine's configuration section; 0 for a batch size means the model's default.
    pub fn from_settings(
        model: &str,
        s: &EmbeddingBatching,
        cache_size: usize,
    ) -> Result<OrchestratorConfig> {
        let mut c = OrchestratorConfig::for_model(model);
        if s.max_batch_size > 0 {
            c.max_batch_size = s.max_batch_size;
        }
        if s.batch_size > 0 {
            c.batch_size = s.batch_size;
        }
        c.batch_timeout = Duration::from_millis(s.batch_timeout_ms);
        c.interval = Duration::from_millis(s.interval_ms);
        c.max_retries = s.max_retries;
        c.cache_size = cache_size;
        c.cache_ttl = Duration::from_secs(s.cache_ttl_s);
        c.redis = (!s.redis_url.is_empty()).then(|| RedisSettings {
            url: s.redis_url.clone(),
            db: s.redis_db,
        });
        c.shared_queue = s.shared_queue;
        c.workers = s.workers;
        c.lease = Duration::from_millis(s.lease_ms);
        c.adaptive = s.adaptive;
        c.target_batch_latency = Duration::from_millis(s.target_latency_ms);
        c.breaker_threshold = s.breaker_threshold;
        c.breaker_cooldown = Duration::from_secs(s.breaker_cooldown_s);
        c.max_in_flight_batches = s.max_in_flight_batches;
        c.validate()?;
        Ok(c)
    }

    /// Rejects settings that cannot work, naming the environment variable.
    pub fn validate(&mut self) -> Result<()> {
        let bad = |m: String| Err(OrchestratorError::Config(m));
        if self.max_batch_size == 0 {
            return bad("EMBEDDING_MAX_BATCH_SIZE must be greater than 0".into());
        }
        if self.batch_size == 0 {
            return bad("OLLAMA_EMBEDDING_BATCH_SIZE must be greater than 0".into());
        }
        // Never above what the model takes.
        self.batch_size = self.batch_size.min(self.max_batch_size);
        if self.batch_timeout.is_zero() {
            return bad("OLLAMA_BATCH_TIMEOUT must be greater than 0 ms".into());
        }
        if self.shared_queue && self.redis.is_none() {
            return bad("EMBEDDING_SHARED_QUEUE needs Redis: set REDIS_URL or REDIS_HOST".into());
        }
        if self.shared_queue && self.lease <= self.batch_timeout {
            return bad(format!(
                "EMBEDDING_QUEUE_LEASE ({} ms) must exceed OLLAMA_BATCH_TIMEOUT ({} ms), or live batches would be taken over",
                self.lease.as_millis(),
                self.batch_timeout.as_millis()
            ));
        }
        if self.breaker_threshold == 0 {
            return bad("EMBEDDING_BREAKER_THRESHOLD must be greater than 0".into());
        }
        self.max_in_flight_batches = self.max_in_flight_batches.max(1);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_comes_from_redis_embedding_db() {
        let r = |url: &str| {
            RedisSettings {
                url: url.into(),
                db: 2,
            }
            .url_with_db()
        };
        assert_eq!(r("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379/2");
        assert_eq!(r("redis://127.0.0.1:6379/0"), "redis://127.0.0.1:6379/2");
        assert_eq!(r("redis://h:1/"), "redis://h:1/2");
    }

    #[test]
    fn the_seeds_variables_reach_the_orchestrator() {
        use lightrag_core::config::Settings;
        let mut s = Settings::default();
        assert!(
            EmbeddingBatching::from_settings(&s).unwrap().is_none(),
            "off by default"
        );
        for (k, v) in [
            ("EMBEDDING_BATCHING", "true"),
            ("OLLAMA_EMBEDDING_BATCH_SIZE", "16"),
            ("OLLAMA_BATCH_TIMEOUT", "5000"),
            ("BATCH_PROCESSING_INTERVAL", "50"),
            ("MAX_BATCH_RETRIES", "2"),
            ("EMBEDDING_CACHE_TTL", "60"),
            ("REDIS_EMBEDDING_DB", "4"),
            ("REDIS_HOST", "10.0.0.5"),
            ("REDIS_PORT", "6380"),
        ] {
            s.set(k, v);
        }
        let b = EmbeddingBatching::from_settings(&s).unwrap().unwrap();
        let c = OrchestratorConfig::from_settings("bge-m3:latest", &b, 500).unwrap();
        assert_eq!((c.batch_size, c.max_batch_size), (16, 64));
        assert_eq!(c.batch_timeout, Duration::from_millis(5000));
        assert_eq!(c.interval, Duration::from_millis(50));
        assert_eq!(c.max_retries, 2);
        assert_eq!(c.cache_ttl, Duration::from_secs(60));
        assert_eq!(c.cache_size, 500);
        let r = c.redis.unwrap();
        assert_eq!(r.url_with_db(), "redis://10.0.0.5:6380/4");
        s.set("REDIS_URL", "redis://cache:7000");
        let b = EmbeddingBatching::from_settings(&s).unwrap().unwrap();
        assert_eq!(
            b.redis_url, "redis://cache:7000",
            "REDIS_URL wins over host and port"
        );
        s.set("OLLAMA_EMBEDDING_BATCH_SIZE", "0");
        s.set("EMBEDDING_SHARED_QUEUE", "true");
        s.set("EMBEDDING_QUEUE_LEASE", "1000");
        let b = EmbeddingBatching::from_settings(&s).unwrap().unwrap();
        let e = OrchestratorConfig::from_settings("nomic-embed-text", &b, 10).unwrap_err();
        assert!(e.to_string().contains("EMBEDDING_QUEUE_LEASE"), "{e}");
        s.set("EMBEDDING_QUEUE_LEASE", "6000");
        let b = EmbeddingBatching::from_settings(&s).unwrap().unwrap();
        let c = OrchestratorConfig::from_settings("nomic-embed-text", &b, 10).unwrap();
        assert_eq!(c.batch_size, 64, "0 = the model's default");
        s.set("MAX_BATCH_RETRIES", "many");
        assert!(EmbeddingBatching::from_settings(&s)
            .unwrap_err()
            .to_string()
            .contains("MAX_BATCH_RETRIES"));
    }

    #[test]
    fn batch_size_never_exceeds_the_model_limit() {
        let mut c = OrchestratorConfig::for_model("bge-m3:latest");
        c.batch_size = 500;
        c.validate().unwrap();
        assert_eq!(c.batch_size, 64);
        c.shared_queue = true;
        assert!(c.validate().is_err(), "a shared queue needs Redis");
    }
}
