//! The connection to Redis, guarded so that a Redis outage costs a few milliseconds once and
//! then nothing: every command has a deadline, and after a failure a breaker skips Redis for a
//! second before trying again. Callers treat `None` as "Redis is not available" and carry on
//! in process.

use std::future::Future;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::breaker::{BreakerState, CircuitBreaker};
use crate::config::RedisSettings;
use crate::error::{OrchestratorError, Result};

/// How long Redis is skipped after a failed command.
const REDIS_COOLDOWN: Duration = Duration::from_secs(1);

/// A lazily connected, auto-reconnecting Redis connection with a failure breaker.
pub struct RedisLink {
    conn: ConnectionManager,
    breaker: CircuitBreaker,
    timeout: Duration,
    /// The URL without credentials, for health and logs.
    shown: String,
}

impl RedisLink {
    /// Prepares a connection; nothing is sent until the first command, so a Redis that is down
    /// at start-up does not stop the orchestrator.
    pub fn new(settings: &RedisSettings, timeout: Duration) -> Result<RedisLink> {
        let url = settings.url_with_db();
        let client = redis::Client::open(url.as_str()).map_err(|e| {
            OrchestratorError::Config(format!("REDIS_URL {}: {e}", without_password(&url)))
        })?;
        let cfg = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(200));
        let conn = ConnectionManager::new_lazy_with_config(client, cfg)
            .map_err(|e| OrchestratorError::Config(format!("Redis client: {e}")))?;
        Ok(RedisLink {
            conn,
            breaker: CircuitBreaker::new(1, REDIS_COOLDOWN),
            timeout,
            shown: without_password(&url),
        })
    }

    /// Runs one command (or pipeline, or script) against Redis; `None` when Redis is down, slow
    /// or skipped after a recent failure.
    pub async fn run<T, F, Fut>(&self, what: &str, f: F) -> Option<T>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        if !self.breaker.allow() {
            return None;
        }
        match tokio::time::timeout(self.timeout, f(self.conn.clone())).await {
            Ok(Ok(v)) => {
                self.breaker.success();
                Some(v)
            }
            Ok(Err(e)) => {
                if self.breaker.state() == BreakerState::Closed {
                    tracing::warn!("Redis {what} failed ({e}); continuing in process");
                }
                self.breaker.failure();
                None
            }
            Err(_) => {
                tracing::warn!(
                    "Redis {what} took over {:?}; continuing in process",
                    self.timeout
                );
                self.breaker.failure();
                None
            }
        }
    }

    /// Whether the last command worked (no recent failure).
    pub fn is_up(&self) -> bool {
        self.breaker.state() == BreakerState::Closed
    }

    /// Sends PING now (health checks), bypassing the skip window.
    pub async fn ping(&self) -> bool {
        let mut conn = self.conn.clone();
        let ok = matches!(
            tokio::time::timeout(
                self.timeout,
                redis::cmd("PING").query_async::<String>(&mut conn)
            )
            .await,
            Ok(Ok(_))
        );
        if ok {
            self.breaker.success();
        } else {
            self.breaker.failure();
        }
        ok
    }

    /// The URL, without any password.
    pub fn shown(&self) -> &str {
        &self.shown
    }
}

/// `redis://user:secret@host` → `redis://user:***@host`.
fn without_password(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let auth = &url[s + 3..at];
            match auth.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_hidden() {
        assert_eq!(
            super::without_password("redis://u:pw@h:1/2"),
            "redis://u:***@h:1/2"
        );
        assert_eq!(super::without_password("redis://h:1/2"), "redis://h:1/2");
    }
}
