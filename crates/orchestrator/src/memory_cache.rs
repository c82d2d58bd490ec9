//! The first cache level: a bounded least-recently-used map in process, with the same TTL as
//! the Redis level so both forget an embedding at about the same time.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::request::CacheKey;

struct Entry {
    vector: Arc<[f32]>,
    stored: Instant,
    tick: u64,
}

#[derive(Default)]
struct Inner {
    map: HashMap<CacheKey, Entry>,
    /// Use order: tick → key; the smallest tick is the least recently used.
    order: BTreeMap<u64, CacheKey>,
    tick: u64,
}

/// A bounded LRU map of embeddings.
pub struct MemoryCache {
    capacity: usize,
    ttl: Duration,
    inner: Mutex<Inner>,
}

impl MemoryCache {
    /// At most `capacity` vectors, each for at most `ttl` (zero = forever).
    pub fn new(capacity: usize, ttl: Duration) -> MemoryCache {
        MemoryCache {
            capacity,
            ttl,
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn expired(&self, e: &Entry, now: Instant) -> bool {
        !self.ttl.is_zero() && now.duration_since(e.stored) >= self.ttl
    }

    /// The vector under `key`, marking it recently used.
    pub fn get(&self, key: &CacheKey) -> Option<Arc<[f32]>> {
        if self.capacity == 0 {
            return None;
        }
        let now = Instant::now();
        let mut inner = self.lock();
        inner.tick += 1;
        let tick = inner.tick;
        let Inner { map, order, .. } = &mut *inner;
        let e = map.get_mut(key)?;
        if !self.ttl.is_zero() && now.duration_since(e.stored) >= self.ttl {
            order.remove(&e.tick);
            map.remove(key);
            return None;
        }
        order.remove(&e.tick);
        e.tick = tick;
        order.insert(tick, key.clone());
        Some(e.vector.clone())
    }

    /// Stores a vector, evicting the least recently used ones beyond capacity.
    pub fn put(&self, key: CacheKey, vector: Arc<[f32]>) {
        if self.capacity == 0 {
            return;
        }
        let mut inner = self.lock();
        inner.tick += 1;
        let tick = inner.tick;
        let Inner { map, order, .. } = &mut *inner;
        if let Some(old) = map.insert(
            key.clone(),
            Entry {
                vector,
                stored: Instant::now(),
                tick,
            },
        ) {
            order.remove(&old.tick);
        }
        order.insert(tick, key);
        while map.len() > self.capacity {
            let Some((_, oldest)) = order.pop_first() else {
                break;
            };
            map.remove(&oldest);
        }
    }

    /// Vectors held now.
    pub fn len(&self) -> usize {
        self.lock().map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets everything.
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.map.clear();
        inner.order.clear();
    }

    /// Drops expired entries and returns memory the maps no longer need; returns how many
    /// entries were dropped.
    pub fn optimise(&self) -> usize {
        let now = Instant::now();
        let mut inner = self.lock();
        let dead: Vec<(u64, CacheKey)> = inner
            .map
            .iter()
            .filter(|(_, e)| self.expired(e, now))
            .map(|(k, e)| (e.tick, k.clone()))
            .collect();
        for (tick, key) in &dead {
            inner.order.remove(tick);
            inner.map.remove(key);
        }
        inner.map.shrink_to_fit();
        dead.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> CacheKey {
        CacheKey(s.into())
    }

    #[test]
    fn evicts_the_least_recently_used() {
        let c = MemoryCache::new(2, Duration::ZERO);
        c.put(key("a"), Arc::from(vec![1.0]));
        c.put(key("b"), Arc::from(vec![2.0]));
        assert!(c.get(&key("a")).is_some(), "a is now the most recent");
        c.put(key("c"), Arc::from(vec![3.0]));
        assert!(c.get(&key("b")).is_none(), "b was least recently used");
        assert!(c.get(&key("a")).is_some() && c.get(&key("c")).is_some());
        assert_eq!(c.len(), 2);
        c.clear();
        assert!(c.is_empty());
    }

    #[test]
    fn entries_expire() {
        let c = MemoryCache::new(10, Duration::from_millis(30));
        c.put(key("a"), Arc::from(vec![1.0]));
        c.put(key("b"), Arc::from(vec![1.0]));
        assert!(c.get(&key("a")).is_some());
        std::thread::sleep(Duration::from_millis(40));
        assert!(c.get(&key("a")).is_none());
        assert_eq!(c.optimise(), 1, "b is dropped by optimise");
        assert!(c.is_empty());
    }
}
