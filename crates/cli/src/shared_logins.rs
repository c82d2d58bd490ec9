//! Failed logins counted in Redis, so that the lockout (LOGIN_MAX_FAILED_ATTEMPTS within
//! LOGIN_LOCKOUT_WINDOW_SECONDS) holds across replicas: each failure is a member of a sorted
//! set per client and user, scored by its time; members older than the window are dropped
//! when counted. While Redis cannot be reached, failures are counted in this process.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use lightrag_orchestrator::redis_link::RedisLink;
use lightrag_server::auth::{LoginAttempts, LoginLimiter};

/// Drops the failures older than the window; returns the seconds to wait when at least
/// `max` remain, else 0.
const LOCKED: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  return 0
end
local oldest = tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2])
return math.max(1, math.ceil((oldest + window - now) / 1000))
"#;

const FAIL: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now, t[1] .. '.' .. t[2] .. '.' .. ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
"#;

/// The lockout's counter in Redis, with this process's as the fallback.
pub struct RedisLogins {
    link: Arc<RedisLink>,
    local: LoginLimiter,
}

impl RedisLogins {
    pub fn new(link: Arc<RedisLink>) -> RedisLogins {
        RedisLogins {
            link,
            local: LoginLimiter::default(),
        }
    }

    fn key(key: &str) -> String {
        format!("lightrag:login_failures:{key}")
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

#[async_trait]
impl LoginAttempts for RedisLogins {
    async fn locked(&self, key: &str, max: usize, window: Duration) -> Option<u64> {
        if max == 0 {
            return None;
        }
        let k = Self::key(key);
        let wait = self
            .link
            .run("check the login lockout", |mut c| async move {
                redis::Script::new(LOCKED)
                    .key(k)
                    .arg(max)
                    .arg(millis(window))
                    .invoke_async::<u64>(&mut c)
                    .await
            })
            .await;
        match wait {
            Some(0) => None,
            Some(s) => Some(s),
            None => self.local.locked_now(key, max, window),
        }
    }

    async fn fail(&self, key: &str, window: Duration) {
        let k = Self::key(key);
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let nonce = format!(
            "{}.{}",
            std::process::id(),
            N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let counted = self
            .link
            .run("count a failed login", |mut c| async move {
                redis::Script::new(FAIL)
                    .key(k)
                    .arg(millis(window))
                    .arg(nonce)
                    .invoke_async::<i64>(&mut c)
                    .await
            })
            .await;
        if counted.is_none() {
            self.local.fail_now(key.to_string());
        }
    }

    async fn succeed(&self, key: &str) {
        let k = Self::key(key);
        self.link
            .run("forget failed logins", |mut c| async move {
                redis::cmd("DEL").arg(k).query_async::<i64>(&mut c).await
            })
            .await;
        self.local.succeed_now(key);
    }
}
