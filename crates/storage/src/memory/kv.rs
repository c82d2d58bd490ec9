//! The in-memory [`KvStore`]: one sorted map per namespace.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use lightrag_core::error::Result;
use lightrag_core::ports::{KvStore, Namespace};
use serde_json::Value;

use super::{read, write};

/// Records by namespace, then id (sorted, so `keys` needs no sort).
pub(super) type Tables = HashMap<Namespace, BTreeMap<String, Value>>;

/// Key-value records in memory.
#[derive(Clone)]
pub struct MemoryKv {
    tables: Arc<RwLock<Tables>>,
}

impl MemoryKv {
    pub(super) fn new(tables: Arc<RwLock<Tables>>) -> Self {
        MemoryKv { tables }
    }
}

#[async_trait]
impl KvStore for MemoryKv {
    async fn get(&self, ns: Namespace, id: &str) -> Result<Option<Value>> {
        let tables = read(&self.tables)?;
        Ok(tables.get(&ns).and_then(|t| t.get(id)).cloned())
    }

    async fn get_many(&self, ns: Namespace, ids: &[String]) -> Result<Vec<Option<Value>>> {
        let tables = read(&self.tables)?;
        let table = tables.get(&ns);
        Ok(ids
            .iter()
            .map(|id| table.and_then(|t| t.get(id)).cloned())
            .collect())
    }

    /// In batch order: the last record of a repeated id wins.
    async fn upsert(&self, ns: Namespace, items: Vec<(String, Value)>) -> Result<()> {
        if items.is_empty() {
            return Ok(());
        }
        let mut tables = write(&self.tables)?;
        tables.entry(ns).or_default().extend(items);
        Ok(())
    }

    async fn delete(&self, ns: Namespace, ids: &[String]) -> Result<()> {
        let mut tables = write(&self.tables)?;
        if let Some(table) = tables.get_mut(&ns) {
            for id in ids {
                table.remove(id);
            }
        }
        Ok(())
    }

    async fn keys(&self, ns: Namespace) -> Result<Vec<String>> {
        let tables = read(&self.tables)?;
        Ok(tables
            .get(&ns)
            .map(|t| t.keys().cloned().collect())
            .unwrap_or_default())
    }

    async fn clear(&self, ns: Namespace) -> Result<()> {
        write(&self.tables)?.remove(&ns);
        Ok(())
    }
}
