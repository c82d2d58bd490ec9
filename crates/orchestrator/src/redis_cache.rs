//! The second cache level: embeddings in Redis (REDIS_EMBEDDING_DB) with EMBEDDING_CACHE_TTL,
//! shared by every process that embeds with the same model. Vectors are stored as raw
//! little-endian f32 bytes: a 384-dimension vector is 1.5 KiB, and decoding is a copy.

use std::sync::Arc;
use std::time::Duration;

use crate::redis_link::RedisLink;
use crate::request::CacheKey;

/// Key prefix of cached embeddings.
pub const CACHE_PREFIX: &str = "lightrag:emb:cache:";

/// Embeddings in Redis.
pub struct RedisCache {
    link: Arc<RedisLink>,
    ttl: Duration,
    dim: usize,
    /// SCAN pattern of this model's entries (size, clear and optimise touch no other model).
    pattern: String,
}

impl RedisCache {
    pub fn new(link: Arc<RedisLink>, ttl: Duration, dim: usize, model: &str) -> RedisCache {
        let escaped: String = model
            .chars()
            .flat_map(|c| match c {
                '*' | '?' | '[' | ']' | '\\' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        RedisCache {
            link,
            ttl,
            dim,
            pattern: format!("{CACHE_PREFIX}{escaped}:*"),
        }
    }

    fn redis_key(key: &CacheKey) -> String {
        format!("{CACHE_PREFIX}{}", key.0)
    }

    /// One lookup per key, in one round trip; `None` for misses, and all `None` when Redis is
    /// down. A value of the wrong length (another model version wrote it) is a miss.
    pub async fn get_many(&self, keys: &[&CacheKey]) -> Vec<Option<Vec<f32>>> {
        if keys.is_empty() {
            return Vec::new();
        }
        let names: Vec<String> = keys.iter().map(|k| Self::redis_key(k)).collect();
        let got = self
            .link
            .run("cache read", |mut c| async move {
                redis::cmd("MGET")
                    .arg(&names)
                    .query_async::<Vec<Option<Vec<u8>>>>(&mut c)
                    .await
            })
            .await;
        match got {
            Some(values) if values.len() == keys.len() => values
                .into_iter()
                .map(|v| v.and_then(|b| decode(&b, self.dim)))
                .collect(),
            _ => vec![None; keys.len()],
        }
    }

    /// Stores vectors with the TTL, in one round trip; silently skipped when Redis is down.
    pub async fn put_many(&self, items: &[(CacheKey, Arc<[f32]>)]) {
        if items.is_empty() {
            return;
        }
        let mut pipe = redis::pipe();
        for (k, v) in items {
            let cmd = pipe.cmd("SET").arg(Self::redis_key(k)).arg(encode(v));
            if !self.ttl.is_zero() {
                cmd.arg("PX").arg(self.ttl.as_millis() as u64);
            }
            cmd.ignore();
        }
        self.link
            .run("cache write", |mut c| async move {
                pipe.query_async::<()>(&mut c).await
            })
            .await;
    }

    /// This model's cached embeddings in Redis, or `None` when Redis is down.
    pub async fn count(&self) -> Option<usize> {
        self.scan_keys().await.map(|k| k.len())
    }

    async fn scan_keys(&self) -> Option<Vec<String>> {
        let pattern = self.pattern.clone();
        self.link
            .run("cache scan", |mut c| async move {
                let mut cursor: u64 = 0;
                let mut keys = Vec::new();
                loop {
                    let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
                        .arg(cursor)
                        .arg("MATCH")
                        .arg(&pattern)
                        .arg("COUNT")
                        .arg(1000)
                        .query_async(&mut c)
                        .await?;
                    keys.extend(batch);
                    if next == 0 {
                        return Ok(keys);
                    }
                    cursor = next;
                }
            })
            .await
    }

    /// Deletes this model's cached embeddings; returns how many, or `None` when Redis is down.
    pub async fn clear(&self) -> Option<usize> {
        let keys = self.scan_keys().await?;
        let n = keys.len();
        for chunk in keys.chunks(1000) {
            let chunk = chunk.to_vec();
            self.link
                .run("cache clear", |mut c| async move {
                    redis::cmd("UNLINK")
                        .arg(chunk)
                        .query_async::<()>(&mut c)
                        .await
                })
                .await?;
        }
        Some(n)
    }

    /// Gives entries written without an expiry (by an older configuration with TTL 0) the
    /// current TTL, so the cache cannot grow forever; returns how many were fixed.
    pub async fn optimise(&self) -> Option<usize> {
        if self.ttl.is_zero() {
            return Some(0);
        }
        let keys = self.scan_keys().await?;
        let ttl_ms = self.ttl.as_millis() as u64;
        let mut fixed = 0;
        for chunk in keys.chunks(500) {
            let mut pipe = redis::pipe();
            for k in chunk {
                pipe.cmd("PTTL").arg(k);
            }
            let ttls: Vec<i64> = self
                .link
                .run("cache optimise", |mut c| async move {
                    pipe.query_async(&mut c).await
                })
                .await?;
            let mut set = redis::pipe();
            let mut any = false;
            for (k, t) in chunk.iter().zip(ttls) {
                if t == -1 {
                    set.cmd("PEXPIRE").arg(k).arg(ttl_ms).ignore();
                    fixed += 1;
                    any = true;
                }
            }
            if any {
                self.link
                    .run("cache optimise", |mut c| async move {
                        set.query_async::<()>(&mut c).await
                    })
                    .await?;
            }
        }
        Some(fixed)
    }
}

/// Raw little-endian f32 bytes.
pub fn encode(v: &[f32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len() * 4);
    for x in v {
        out.extend_from_slice(&x.to_le_bytes());
    }
    out
}

/// The vector of `encode`'s bytes, if it has `dim` dimensions (`dim` 0 = any).
pub fn decode(bytes: &[u8], dim: usize) -> Option<Vec<f32>> {
    if !bytes.len().is_multiple_of(4) || (dim != 0 && bytes.len() != dim * 4) {
        return None;
    }
    Some(
        bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn vectors_round_trip_and_wrong_lengths_are_misses() {
        let v = vec![0.5f32, -1.25, 3.0];
        let b = super::encode(&v);
        assert_eq!(super::decode(&b, 3), Some(v));
        assert_eq!(super::decode(&b, 4), None);
        assert_eq!(super::decode(&b[..5], 0), None);
    }
}
