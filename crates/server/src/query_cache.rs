//! The query result cache (ENABLE_QUERY_CACHE, QUERY_CACHE_TTL from seed 000): the same question
//! with the same parameters within the TTL is answered from memory. Each workspace has its own
//! cache, and any change to a workspace's documents or graph empties it, so a cached answer is
//! never older than the data it was computed from.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Cached query results of one workspace.
pub struct QueryCache {
    enabled: bool,
    ttl: Duration,
    capacity: usize,
    entries: Mutex<HashMap<String, (Instant, Arc<Value>)>>,
    /// Bumped by every invalidation: a result computed before one is not stored.
    generation: AtomicU64,
    /// The knowledge base generation (shared by every process on the stores) the entries
    /// were computed at; `i64::MIN` before the first look.
    seen: AtomicI64,
}

impl QueryCache {
    pub fn new(enabled: bool, ttl: Duration, capacity: usize) -> QueryCache {
        QueryCache {
            enabled: enabled && capacity > 0 && !ttl.is_zero(),
            ttl,
            capacity,
            entries: Mutex::new(HashMap::new()),
            generation: AtomicU64::new(0),
            seen: AtomicI64::new(i64::MIN),
        }
    }

    /// Empties the cache when the knowledge base changed in any process since the last look
    /// (`shared` is [`lightrag_core::Rag::generation`]).
    pub fn observe(&self, shared: i64) {
        let before = self.seen.swap(shared, Ordering::AcqRel);
        if before != shared && before != i64::MIN {
            self.invalidate();
        }
    }

    /// Whether the cache is on.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// A generation [`QueryCache::put`] never stores under.
    pub const NEVER: u64 = u64::MAX;

    /// The generation to pass to [`QueryCache::put`] for a result computed from now on.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// A live entry, counted as a hit or a miss.
    pub fn get(&self, key: &str) -> Option<Arc<Value>> {
        if !self.enabled {
            return None;
        }
        let found = {
            let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            match map.get(key) {
                Some((at, v)) if at.elapsed() < self.ttl => Some(v.clone()),
                Some(_) => {
                    map.remove(key);
                    None
                }
                None => None,
            }
        };
        let name = if found.is_some() {
            "lightrag_query_cache_hits_total"
        } else {
            "lightrag_query_cache_misses_total"
        };
        metrics::counter!(name).increment(1);
        found
    }

    /// Stores a result computed at `generation`, unless the data changed since.
    pub fn put(&self, key: String, generation: u64, value: Value) {
        if !self.enabled {
            return;
        }
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if self.generation.load(Ordering::Acquire) != generation {
            return;
        }
        if map.len() >= self.capacity {
            map.retain(|_, (at, _)| at.elapsed() < self.ttl);
        }
        if map.len() >= self.capacity {
            if let Some(oldest) = map
                .iter()
                .min_by_key(|(_, (at, _))| *at)
                .map(|(k, _)| k.clone())
            {
                map.remove(&oldest);
            }
        }
        map.insert(key, (Instant::now(), Arc::new(value)));
    }

    /// Forgets everything: the documents or the graph changed.
    pub fn invalidate(&self) {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        self.generation.fetch_add(1, Ordering::AcqRel);
        map.clear();
    }

    /// Entries held (expired ones included until they are touched).
    pub fn len(&self) -> usize {
        self.entries.lock().map(|m| m.len()).unwrap_or(0)
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hits_within_ttl_and_forgets_on_invalidate() {
        let c = QueryCache::new(true, Duration::from_secs(60), 2);
        let g = c.generation();
        c.put("a".into(), g, json!(1));
        assert_eq!(c.get("a").as_deref(), Some(&json!(1)));
        c.invalidate();
        assert!(c.get("a").is_none());
        // A result computed before the invalidation is not stored.
        c.put("a".into(), g, json!(2));
        assert!(c.get("a").is_none());
    }

    #[test]
    fn expires_and_stays_bounded() {
        let c = QueryCache::new(true, Duration::from_millis(20), 2);
        for k in ["a", "b", "c"] {
            c.put(k.into(), c.generation(), json!(k));
        }
        assert_eq!(c.len(), 2);
        std::thread::sleep(Duration::from_millis(30));
        assert!(c.get("c").is_none());
        let off = QueryCache::new(false, Duration::from_secs(1), 10);
        off.put("a".into(), 0, json!(1));
        assert!(off.get("a").is_none());
    }
}
