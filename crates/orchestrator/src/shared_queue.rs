//! The Redis request queue that lets several processes share one batcher pool.
//!
//! Layout under `lightrag:emb:queue:<model>:` (one queue per model, since a batch goes to one
//! model):
//! * `pending`: sorted set of request ids, scored by priority rank × 10¹³ + a global sequence
//!   number (`seq`, kept a day after the last push), so the best priority comes first and
//!   ties keep arrival order across processes;
//! * `req:<id>`: hash with the purpose (`p`), the text (`t`) and the score (`s`); it expires
//!   after a day so abandoned requests cannot pile up;
//! * `leases`: sorted set of claimed ids, scored by the time (Redis's clock) the lease ends;
//! * `res:<id>`: the result (`V` + f32 bytes, or `E` + message), read once by the requester.
//!
//! Claiming moves ids from `pending` to `leases` in one script, so two workers never take the
//! same request. A worker that dies leaves its leases behind; any worker's reaper puts expired
//! leases back into `pending` (unless a result exists), so nothing is lost. Results are written
//! and requests removed in one transaction, so a requester polling sees "pending" or "done",
//! never neither; "neither" means Redis lost the request (a restart without persistence), and
//! the requester embeds the text itself.

use std::sync::Arc;
use std::time::Duration;

use lightrag_core::ports::EmbedPurpose;

use crate::redis_cache::{decode, encode};
use crate::redis_link::RedisLink;
use crate::request::{purpose_code, purpose_from_code, Outcome, Priority, RequestId};

/// How long an unclaimed request is kept.
const REQUEST_TTL_MS: u64 = 24 * 3600 * 1000;
/// How long an unread result is kept.
const RESULT_TTL_MS: u64 = 3600 * 1000;

const PUSH: &str = r#"
local n = 0
for i = 3, #ARGV, 4 do
  local key = ARGV[1] .. 'req:' .. ARGV[i]
  local seq = redis.call('INCR', KEYS[2])
  local score = string.format('%.0f', tonumber(ARGV[i + 2]) * 1e13 + seq)
  redis.call('HSET', key, 'p', ARGV[i + 1], 't', ARGV[i + 3], 's', score)
  redis.call('PEXPIRE', key, ARGV[2])
  redis.call('ZADD', KEYS[1], score, ARGV[i])
  n = n + 1
end
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return n
"#;

const CLAIM: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local max = tonumber(ARGV[1])
local until_ms = string.format('%.0f', now + tonumber(ARGV[2]))
local ids = redis.call('ZRANGE', KEYS[1], 0, max * 4 - 1)
local out = {}
local purpose = false
local taken = 0
for _, id in ipairs(ids) do
  if taken >= max then break end
  local h = redis.call('HMGET', ARGV[3] .. 'req:' .. id, 'p', 't')
  if not h[1] then
    redis.call('ZREM', KEYS[1], id)
  elseif (not purpose) or h[1] == purpose then
    purpose = h[1]
    redis.call('ZREM', KEYS[1], id)
    redis.call('ZADD', KEYS[2], until_ms, id)
    out[#out + 1] = id
    out[#out + 1] = h[2]
    taken = taken + 1
  end
end
return {purpose or '', out}
"#;

const REAP: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
local n = 0
for _, id in ipairs(ids) do
  redis.call('ZREM', KEYS[2], id)
  local s = redis.call('HGET', ARGV[1] .. 'req:' .. id, 's')
  if s and redis.call('EXISTS', ARGV[1] .. 'res:' .. id) == 0 then
    redis.call('ZADD', KEYS[1], s, id)
    n = n + 1
  end
end
return n
"#;

const POLL: &str = r#"
local out = {}
for i = 2, #ARGV do
  local key = ARGV[1] .. 'res:' .. ARGV[i]
  local r = redis.call('GET', key)
  if r then
    out[#out + 1] = r
    redis.call('DEL', key)
  elseif redis.call('EXISTS', ARGV[1] .. 'req:' .. ARGV[i]) == 1 then
    out[#out + 1] = 'P'
  else
    out[#out + 1] = 'L'
  end
end
return out
"#;

/// What the requester learns about one of its requests.
#[derive(Debug, Clone, PartialEq)]
pub enum PollState {
    Done(Outcome),
    Pending,
    /// Redis no longer knows the request: embed it another way.
    Lost,
}

/// A batch claimed from the shared queue.
pub struct Claimed {
    pub purpose: EmbedPurpose,
    pub items: Vec<(RequestId, String)>,
}

/// Sizes of the shared queue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct QueueDepth {
    pub pending: usize,
    pub leased: usize,
}

/// The shared queue of one model.
pub struct SharedQueue {
    link: Arc<RedisLink>,
    prefix: String,
    lease: Duration,
    push: redis::Script,
    claim: redis::Script,
    reap: redis::Script,
    poll: redis::Script,
}

impl SharedQueue {
    pub fn new(link: Arc<RedisLink>, model: &str, lease: Duration) -> SharedQueue {
        SharedQueue {
            link,
            prefix: format!("lightrag:emb:queue:{model}:"),
            lease,
            push: redis::Script::new(PUSH),
            claim: redis::Script::new(CLAIM),
            reap: redis::Script::new(REAP),
            poll: redis::Script::new(POLL),
        }
    }

    fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// Queues texts; `false` when Redis is down (the caller embeds them in process instead).
    pub async fn push(&self, items: &[(RequestId, EmbedPurpose, Priority, &str)]) -> bool {
        if items.is_empty() {
            return true;
        }
        let mut inv = self.push.prepare_invoke();
        inv.key(self.key("pending"))
            .key(self.key("seq"))
            .arg(&self.prefix)
            .arg(REQUEST_TTL_MS);
        for (id, purpose, prio, text) in items {
            inv.arg(&id.0)
                .arg(purpose_code(*purpose))
                .arg(prio.rank())
                .arg(*text);
        }
        self.link
            .run("queue push", |mut c| async move {
                inv.invoke_async::<usize>(&mut c).await
            })
            .await
            .is_some()
    }

    /// Claims up to `max` requests of one purpose, best priority first, under a lease.
    /// `None` when Redis is down; an empty batch when nothing waits.
    pub async fn claim(&self, max: usize) -> Option<Claimed> {
        let mut inv = self.claim.prepare_invoke();
        inv.key(self.key("pending"))
            .key(self.key("leases"))
            .arg(max.max(1))
            .arg(self.lease.as_millis() as u64)
            .arg(&self.prefix);
        let (code, flat): (String, Vec<String>) = self
            .link
            .run("queue claim", |mut c| async move {
                inv.invoke_async(&mut c).await
            })
            .await?;
        let purpose = purpose_from_code(&code).unwrap_or(EmbedPurpose::Document);
        let items = flat
            .chunks_exact(2)
            .map(|p| (RequestId(p[0].clone()), p[1].clone()))
            .collect();
        Some(Claimed { purpose, items })
    }

    /// Publishes results and releases their leases, atomically.
    pub async fn complete(&self, results: &[(RequestId, Outcome)]) -> bool {
        if results.is_empty() {
            return true;
        }
        let mut pipe = redis::pipe();
        pipe.atomic();
        for (id, outcome) in results {
            let payload = match outcome {
                Ok(v) => {
                    let mut b = vec![b'V'];
                    b.extend(encode(v));
                    b
                }
                Err(e) => {
                    let mut b = vec![b'E'];
                    b.extend(e.as_bytes());
                    b
                }
            };
            pipe.cmd("SET")
                .arg(self.key(&format!("res:{}", id.0)))
                .arg(payload)
                .arg("PX")
                .arg(RESULT_TTL_MS)
                .ignore();
            pipe.cmd("DEL")
                .arg(self.key(&format!("req:{}", id.0)))
                .ignore();
            pipe.cmd("ZREM").arg(self.key("leases")).arg(&id.0).ignore();
        }
        self.link
            .run("queue complete", |mut c| async move {
                pipe.query_async::<()>(&mut c).await
            })
            .await
            .is_some()
    }

    /// Puts requests whose lease ran out back in the queue; returns how many.
    pub async fn reap_expired(&self) -> Option<usize> {
        let mut inv = self.reap.prepare_invoke();
        inv.key(self.key("pending"))
            .key(self.key("leases"))
            .arg(&self.prefix);
        self.link
            .run("queue reap", |mut c| async move {
                inv.invoke_async::<usize>(&mut c).await
            })
            .await
    }

    /// The state of each request (a finished one's result is taken out of Redis).
    pub async fn poll(&self, ids: &[RequestId], dim: usize) -> Option<Vec<PollState>> {
        if ids.is_empty() {
            return Some(Vec::new());
        }
        let mut inv = self.poll.prepare_invoke();
        inv.arg(&self.prefix);
        for id in ids {
            inv.arg(&id.0);
        }
        let raw: Vec<Vec<u8>> = self
            .link
            .run("queue poll", |mut c| async move {
                inv.invoke_async(&mut c).await
            })
            .await?;
        Some(
            raw.into_iter()
                .map(|r| match r.split_first() {
                    Some((b'V', rest)) => match decode(rest, dim) {
                        Some(v) => PollState::Done(Ok(v)),
                        None => PollState::Done(Err(format!(
                            "a shared-queue worker returned a vector of {} dimensions, expected {dim}",
                            rest.len() / 4
                        ))),
                    },
                    Some((b'E', rest)) => {
                        PollState::Done(Err(String::from_utf8_lossy(rest).into_owned()))
                    }
                    Some((b'P', [])) => PollState::Pending,
                    _ => PollState::Lost,
                })
                .collect(),
        )
    }

    /// Requests waiting and claimed, or `None` when Redis is down.
    pub async fn depth(&self) -> Option<QueueDepth> {
        let (p, l) = (self.key("pending"), self.key("leases"));
        self.link
            .run("queue depth", |mut c| async move {
                let (pending, leased): (usize, usize) = redis::pipe()
                    .cmd("ZCARD")
                    .arg(p)
                    .cmd("ZCARD")
                    .arg(l)
                    .query_async(&mut c)
                    .await?;
                Ok(QueueDepth { pending, leased })
            })
            .await
    }
}
