//! One concurrency budget for every process that calls a model (`MAX_ASYNC_SCOPE=cluster`):
//! request slots held in Redis, so that N replicas send at most `MAX_ASYNC` requests at once
//! to a model server, not N times that.
//!
//! A slot is a member of a sorted set scored by its expiry. Taking one is one script: drop
//! the expired members, then add this holder if fewer than the limit remain. A holder gives its
//! slot back when its request ends; one that dies loses it when it expires (the request's
//! longest time, `LLM_TIMEOUT`, plus a margin), so a crash costs a slot for at most that long.
//! While Redis cannot be reached, requests take this process's own slots instead (the budget
//! becomes per process for that time) rather than stopping.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use lightrag_core::error::Result;
use lightrag_core::llm::limit::{LocalSlots, Slots};
use lightrag_core::ports::Held;

use crate::redis_link::RedisLink;
use crate::request::RequestId;

const TAKE: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) * 2)
  return 1
end
return 0
"#;

/// Waits between tries for a slot: short at first, longer while the budget stays full.
const FIRST_WAIT: Duration = Duration::from_millis(10);
const MAX_WAIT: Duration = Duration::from_millis(200);

/// Slots of one model server, shared through Redis.
pub struct RedisSlots {
    link: Arc<RedisLink>,
    key: String,
    limit: usize,
    lease: Duration,
    fallback: LocalSlots,
}

impl RedisSlots {
    /// `limit` slots for the model named by `model_identity` (binding, model, host), each held
    /// at most `lease` by a holder that does not give it back.
    pub fn new(
        link: Arc<RedisLink>,
        model_identity: &str,
        limit: usize,
        lease: Duration,
    ) -> RedisSlots {
        RedisSlots {
            link,
            key: format!("lightrag:llm_slots:{model_identity}"),
            limit: limit.max(1),
            lease,
            fallback: LocalSlots::new(limit),
        }
    }
}

/// A slot in Redis, given back when dropped.
struct RedisSlot {
    link: Arc<RedisLink>,
    key: String,
    holder: String,
}

impl Held for RedisSlot {}

impl Drop for RedisSlot {
    fn drop(&mut self) {
        let (link, key, holder) = (self.link.clone(), self.key.clone(), self.holder.clone());
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                link.run("give back an LLM slot", |mut c| async move {
                    redis::cmd("ZREM")
                        .arg(&key)
                        .arg(&holder)
                        .query_async::<i64>(&mut c)
                        .await
                })
                .await;
            });
        }
    }
}

#[async_trait]
impl Slots for RedisSlots {
    async fn acquire(&self) -> Result<Box<dyn Held>> {
        let holder = RequestId::new().to_string();
        let lease_ms = u64::try_from(self.lease.as_millis()).unwrap_or(u64::MAX);
        let mut wait = FIRST_WAIT;
        loop {
            let taken = self
                .link
                .run("take an LLM slot", |mut c| {
                    let (key, holder) = (self.key.clone(), holder.clone());
                    let limit = self.limit;
                    async move {
                        redis::Script::new(TAKE)
                            .key(key)
                            .arg(holder)
                            .arg(limit)
                            .arg(lease_ms)
                            .invoke_async::<i64>(&mut c)
                            .await
                    }
                })
                .await;
            match taken {
                Some(1) => {
                    return Ok(Box::new(RedisSlot {
                        link: self.link.clone(),
                        key: self.key.clone(),
                        holder,
                    }))
                }
                Some(_) => {
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(MAX_WAIT);
                }
                // Redis down: this process's own budget meanwhile.
                None => return self.fallback.acquire().await,
            }
        }
    }
}
