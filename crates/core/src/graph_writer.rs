//! The one writer of the knowledge graph: every change to nodes, edges, their tracking rows and
//! their vectors (document merges, deletes, hand edits, rebuilds) is ordered here, and nowhere
//! else.
//!
//! * **Merges lock what they touch.** A document's merge holds the entities and relations it
//!   reads and writes (keys taken in sorted order, so two merges never deadlock) from its read
//!   of the stored records to its write of the merged ones, description summaries included.
//!   Merges that touch other entities run at the same time, so a summary waiting on the LLM
//!   holds up only the documents that share its entity.
//! * **Vectors land in merge order, per key.** A merge embeds after releasing its keys (the
//!   embedding is most of the work), then waits until the earlier merges of the same keys have
//!   written theirs, so an entity's vector always comes from its latest merged text.
//! * **Whole-graph work runs alone.** Deletes, rebuilds and hand edits take the graph
//!   exclusively: they wait for every merge in flight, vectors included, and merges wait for
//!   them.
//!
//! The locks above live in this process. When other processes share the stores
//! ([`Coordinator::shared`]), each merge also holds its keys across processes
//! ([`Coordinator::lock_keys`]) from its read to its vector writes, and whole-graph work holds
//! the graph across processes ([`Coordinator::lock_graph`]): between processes, vectors land
//! in merge order because a later merge of a key cannot start before the earlier one's
//! vectors are written. Local locks are taken first, so a process queues its own merges of a
//! key in memory and only one of them waits on the database.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{watch, OwnedMutexGuard, OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock};

use crate::error::Result;
use crate::ids::relation_key;
use crate::ports::{Coordinator, Held};

/// What a write touches: an entity by name, or a relation by its sorted pair.
pub(crate) fn entity_key(name: &str) -> String {
    format!("e\u{1f}{name}")
}

/// The key of the relation between `a` and `b` (sorted).
pub(crate) fn relation_lock_key(a: &str, b: &str) -> String {
    format!("r\u{1f}{}", relation_key(a, b))
}

/// Orders writes to the graph (see the module docs).
pub(crate) struct GraphWriter {
    /// Merges share it; whole-graph work takes it alone.
    gate: Arc<RwLock<()>>,
    keys: Arc<KeyLocks>,
    turns: Arc<VectorTurns>,
    coordinator: Arc<dyn Coordinator>,
}

/// The whole graph, held alone (in this process and, when shared, across processes). Work
/// that holds it changes the knowledge base: the generation is bumped when it is dropped,
/// after the writes, so query caches of every process drop what they hold.
pub(crate) struct GraphHold {
    _local: OwnedRwLockWriteGuard<()>,
    _shared: Box<dyn Held>,
    coordinator: Arc<dyn Coordinator>,
}

impl Drop for GraphHold {
    fn drop(&mut self) {
        let c = self.coordinator.clone();
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                if let Err(e) = c.bump_generation().await {
                    tracing::warn!("cannot record a change of the knowledge base: {e}");
                }
            });
        }
    }
}

impl GraphWriter {
    pub(crate) fn new(coordinator: Arc<dyn Coordinator>) -> GraphWriter {
        GraphWriter {
            gate: Default::default(),
            keys: Default::default(),
            turns: Default::default(),
            coordinator,
        }
    }

    /// Waits until `keys` are free and no whole-graph work runs, then holds them for a merge.
    pub(crate) async fn merge(&self, keys: Vec<String>) -> Result<MergePermit> {
        let gate = self.gate.clone().read_owned().await;
        let keys = self.keys.lock(keys).await;
        let shared = if self.coordinator.shared() {
            Some(self.coordinator.lock_keys(&keys.keys).await?)
        } else {
            None
        };
        Ok(MergePermit {
            gate,
            keys,
            shared,
            turns: self.turns.clone(),
        })
    }

    /// Waits for every merge in flight (vectors included) and holds the whole graph.
    pub(crate) async fn exclusive(&self) -> Result<GraphHold> {
        let local = self.gate.clone().write_owned().await;
        let shared = self.coordinator.lock_graph().await?;
        Ok(GraphHold {
            _local: local,
            _shared: shared,
            coordinator: self.coordinator.clone(),
        })
    }
}

/// A merge's hold on its keys.
pub(crate) struct MergePermit {
    gate: OwnedRwLockReadGuard<()>,
    keys: KeyGuard,
    /// The keys held across processes, when the stores are shared.
    shared: Option<Box<dyn Held>>,
    turns: Arc<VectorTurns>,
}

impl MergePermit {
    /// Releases the keys in this process and takes this merge's place in the order of their
    /// vector writes (the merge still counts as in flight for whole-graph work until the turn
    /// is dropped). Keys held across processes stay held until then.
    pub(crate) fn into_turn(self) -> VectorTurn {
        let MergePermit {
            gate,
            keys,
            shared,
            turns,
        } = self;
        let ids = keys.keys.clone();
        drop(keys);
        turns.take(ids, gate, shared)
    }
}

/// Per-key async locks; an entry lives while someone holds or waits for it.
#[derive(Default)]
pub(crate) struct KeyLocks {
    map: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

pub(crate) struct KeyGuard {
    keys: Vec<String>,
    guards: Vec<OwnedMutexGuard<()>>,
    locks: Arc<KeyLocks>,
}

impl KeyLocks {
    /// Waits for every key (taken in sorted order, so two callers never deadlock).
    pub(crate) async fn lock(self: &Arc<Self>, mut keys: Vec<String>) -> KeyGuard {
        keys.sort();
        keys.dedup();
        let mut guards = Vec::with_capacity(keys.len());
        for k in &keys {
            let m = {
                let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
                map.entry(k.clone()).or_default().clone()
            };
            guards.push(m.lock_owned().await);
        }
        KeyGuard {
            keys,
            guards,
            locks: self.clone(),
        }
    }
}

impl Drop for KeyGuard {
    fn drop(&mut self) {
        self.guards.clear();
        let mut map = self.locks.map.lock().unwrap_or_else(|p| p.into_inner());
        for k in &self.keys {
            // Only the map holds it: nobody holds or waits for this key.
            if map.get(k).is_some_and(|m| Arc::strong_count(m) == 1) {
                map.remove(k);
            }
        }
    }
}

/// The latest vector turn of each key.
#[derive(Default)]
struct VectorTurns {
    last: Mutex<HashMap<String, (u64, watch::Receiver<()>)>>,
    next: AtomicU64,
}

impl VectorTurns {
    fn take(
        self: &Arc<Self>,
        keys: Vec<String>,
        gate: OwnedRwLockReadGuard<()>,
        shared: Option<Box<dyn Held>>,
    ) -> VectorTurn {
        let (tx, rx) = watch::channel(());
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let mut earlier = Vec::new();
        {
            let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
            for k in &keys {
                if let Some((_, prev)) = last.insert(k.clone(), (id, rx.clone())) {
                    earlier.push(prev);
                }
            }
        }
        VectorTurn {
            earlier,
            _done: Some(TurnDone {
                id,
                keys,
                _tx: tx,
                turns: self.clone(),
                _gate: gate,
                _shared: shared,
            }),
        }
    }
}

/// A merge's place in the order of vector writes of its keys.
pub(crate) struct VectorTurn {
    earlier: Vec<watch::Receiver<()>>,
    /// Dropped with the turn: lets the next merges of these keys write.
    _done: Option<TurnDone>,
}

impl VectorTurn {
    /// A turn with nobody before it: for writes made while holding the whole graph.
    pub(crate) fn alone() -> VectorTurn {
        VectorTurn {
            earlier: Vec::new(),
            _done: None,
        }
    }

    /// Waits until every earlier merge of the same keys has written its vectors (or gave up).
    pub(crate) async fn wait(&mut self) {
        for rx in &mut self.earlier {
            // Err = the earlier turn is over (its sender dropped): written, failed or cancelled.
            while rx.changed().await.is_ok() {}
        }
        self.earlier.clear();
    }
}

/// Dropped when a merge's vectors are written: lets the next merges of its keys write.
struct TurnDone {
    id: u64,
    keys: Vec<String>,
    _tx: watch::Sender<()>,
    turns: Arc<VectorTurns>,
    _gate: OwnedRwLockReadGuard<()>,
    _shared: Option<Box<dyn Held>>,
}

impl Drop for TurnDone {
    fn drop(&mut self) {
        let mut last = self.turns.last.lock().unwrap_or_else(|p| p.into_inner());
        for k in &self.keys {
            if last.get(k).is_some_and(|(id, _)| *id == self.id) {
                last.remove(k);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn writer() -> GraphWriter {
        let store = Arc::new(NoRows);
        GraphWriter::new(Arc::new(crate::coordination::LocalCoordinator::new(store)))
    }

    /// A status store with no rows (the writer never reads it).
    struct NoRows;

    #[async_trait::async_trait]
    impl crate::ports::DocStatusStore for NoRows {
        async fn get(&self, _: &str) -> Result<Option<crate::types::DocStatusRecord>> {
            Ok(None)
        }
        async fn upsert(&self, _: Vec<(String, crate::types::DocStatusRecord)>) -> Result<()> {
            Ok(())
        }
        async fn delete(&self, _: &[String]) -> Result<()> {
            Ok(())
        }
        async fn by_statuses(
            &self,
            _: &[crate::types::DocStatus],
        ) -> Result<Vec<(String, crate::types::DocStatusRecord)>> {
            Ok(vec![])
        }
        async fn page(&self, _: &crate::ports::DocPageRequest) -> Result<crate::ports::DocPage> {
            Ok(Default::default())
        }
        async fn by_track_id(
            &self,
            _: &str,
        ) -> Result<Vec<(String, crate::types::DocStatusRecord)>> {
            Ok(vec![])
        }
        async fn counts(&self) -> Result<HashMap<crate::types::DocStatus, usize>> {
            Ok(HashMap::new())
        }
        async fn find_by_content_hash(
            &self,
            _: &str,
            _: Option<&str>,
        ) -> Result<Option<(String, crate::types::DocStatusRecord)>> {
            Ok(None)
        }
        async fn clear(&self) -> Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn merges_of_other_keys_run_together_and_of_one_key_in_turn() {
        let w = writer();
        let a = w.merge(vec!["x".into(), "y".into()]).await.unwrap();
        // Another key is free at once.
        let b = tokio::time::timeout(Duration::from_millis(100), w.merge(vec!["z".into()]))
            .await
            .expect("z is not held")
            .unwrap();
        // A shared key waits.
        assert!(
            tokio::time::timeout(Duration::from_millis(50), w.merge(vec!["y".into()]))
                .await
                .is_err()
        );
        let mut turn_a = a.into_turn();
        turn_a.wait().await;
        let mut second = w.merge(vec!["y".into()]).await.unwrap().into_turn();
        // Its vectors wait for the first merge's.
        assert!(
            tokio::time::timeout(Duration::from_millis(50), second.wait())
                .await
                .is_err()
        );
        drop(turn_a);
        tokio::time::timeout(Duration::from_millis(100), second.wait())
            .await
            .expect("the first turn is over");
        drop(second);
        drop(b);
        assert!(w.keys.map.lock().unwrap().is_empty());
        assert!(w.turns.last.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn whole_graph_work_waits_for_merges_and_their_vectors() {
        let w = writer();
        let turn = w.merge(vec!["x".into()]).await.unwrap().into_turn();
        assert!(
            tokio::time::timeout(Duration::from_millis(50), w.exclusive())
                .await
                .is_err(),
            "vectors still to write"
        );
        drop(turn);
        let all = tokio::time::timeout(Duration::from_millis(100), w.exclusive())
            .await
            .expect("nothing in flight")
            .unwrap();
        assert!(
            tokio::time::timeout(Duration::from_millis(50), w.merge(vec!["q".into()]))
                .await
                .is_err(),
            "merges wait for whole-graph work"
        );
        drop(all);
    }
}
