//! Sends one batch to the model and gets a result for every text, whatever happens: the batch
//! call is bounded by OLLAMA_BATCH_TIMEOUT and retried MAX_BATCH_RETRIES times with backoff;
//! if it still fails, each text is sent alone (one bad text must not fail its neighbours);
//! every call first asks the circuit breaker, so a dead model fails callers at once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use lightrag_core::ports::{EmbedPurpose, Embedder};

use crate::breaker::CircuitBreaker;
use crate::metrics::Metrics;
use crate::request::Outcome;

/// The most a retry waits, whatever the attempt.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Calls the model for batches, with retries, fallback and the breaker.
pub struct Dispatcher {
    pub embedder: Arc<dyn Embedder>,
    pub breaker: CircuitBreaker,
    pub timeout: Duration,
    pub max_retries: usize,
    pub retry_base: Duration,
}

impl Dispatcher {
    /// One outcome per text, in order.
    pub async fn run(
        &self,
        texts: &[String],
        purpose: EmbedPurpose,
        metrics: &Metrics,
    ) -> Vec<Outcome> {
        let mut last_error = String::new();
        for attempt in 0..=self.max_retries {
            if attempt > 0 {
                metrics.retry();
                tokio::time::sleep(self.backoff(attempt)).await;
            }
            match self.call(texts, purpose, false, metrics).await {
                Ok(vectors) => return vectors.into_iter().map(Ok).collect(),
                Err(e) => last_error = e,
            }
            if !self.breaker.allow_peek() {
                break;
            }
        }
        if texts.len() == 1 {
            metrics.failed(1);
            return vec![Err(last_error)];
        }
        metrics.fallback();
        tracing::warn!(
            "an embedding batch of {} texts failed ({last_error}); sending each text alone",
            texts.len()
        );
        let mut out = Vec::with_capacity(texts.len());
        for t in texts {
            let one = std::slice::from_ref(t);
            match self.call(one, purpose, true, metrics).await {
                Ok(mut v) => out.push(Ok(v.remove(0))),
                Err(e) => {
                    metrics.failed(1);
                    out.push(Err(e));
                }
            }
        }
        out
    }

    /// One model call, through the breaker and the timeout, with its answer checked.
    async fn call(
        &self,
        texts: &[String],
        purpose: EmbedPurpose,
        individual: bool,
        metrics: &Metrics,
    ) -> Result<Vec<Vec<f32>>, String> {
        if !self.breaker.allow() {
            return Err(format!(
                "the embedding model's circuit breaker is open after repeated failures; next trial in {:.1} s",
                self.breaker.retry_in().as_secs_f64()
            ));
        }
        let started = Instant::now();
        let result = tokio::time::timeout(self.timeout, self.embedder.embed(texts, purpose)).await;
        metrics.model_call(individual, started.elapsed());
        let checked = match result {
            Err(_) => Err(format!(
                "the embedding model took over {} ms (OLLAMA_BATCH_TIMEOUT) for {} texts",
                self.timeout.as_millis(),
                texts.len()
            )),
            Ok(Err(e)) => Err(e.to_string()),
            Ok(Ok(v)) if v.len() != texts.len() => Err(format!(
                "the embedding model returned {} vectors for {} texts",
                v.len(),
                texts.len()
            )),
            Ok(Ok(v)) => match v.iter().find(|x| x.len() != self.embedder.dim()) {
                Some(bad) => Err(format!(
                    "the embedding model returned a vector of {} dimensions, expected {}",
                    bad.len(),
                    self.embedder.dim()
                )),
                None => Ok(v),
            },
        };
        match &checked {
            Ok(_) => self.breaker.success(),
            Err(_) => self.breaker.failure(),
        }
        metrics.circuit(self.breaker.state().level());
        checked
    }

    /// Exponential backoff with ±25 % jitter, so retrying processes do not stay in step.
    fn backoff(&self, attempt: usize) -> Duration {
        let exp = self
            .retry_base
            .saturating_mul(1u32 << (attempt - 1).min(16) as u32)
            .min(MAX_BACKOFF);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos())
            ^ std::process::id();
        let jitter = 0.75 + f64::from(nanos % 1000) / 2000.0;
        exp.mul_f64(jitter)
    }
}
