//! The embedded [`KvStore`]: LightRAG's key-value namespaces in the shared redb database.
//!
//! Each [`Namespace`] is its own table (`kv_<namespace>`) mapping an id to the record's JSON
//! bytes. A batch upsert or delete is one write transaction, so a crash leaves either the whole
//! batch or none of it; reads of a batch share one read transaction (a consistent snapshot).

use async_trait::async_trait;
use lightrag_core::error::Result;
use lightrag_core::ports::{KvStore, Namespace};
use redb::{ReadableTable, TableDefinition};
use serde_json::Value;

use super::db::{
    commit, commit_deferred, decode, encode, open_read, open_write, EmbeddedDb, StorageResultExt,
};

/// Key-value records, one redb table per namespace.
#[derive(Debug, Clone)]
pub struct RedbKv {
    db: EmbeddedDb,
}

/// The table name of a namespace.
fn table_name(ns: Namespace) -> String {
    format!("kv_{}", ns.as_str())
}

/// The table of a namespace: id -> JSON bytes.
fn table_def(name: &str) -> TableDefinition<'_, &'static str, &'static [u8]> {
    TableDefinition::new(name)
}

impl RedbKv {
    /// A key-value store on the shared database.
    pub fn new(db: &EmbeddedDb) -> RedbKv {
        RedbKv { db: db.clone() }
    }

    fn get_many_sync(&self, ns: Namespace, ids: &[String]) -> Result<Vec<Option<Value>>> {
        let name = table_name(ns);
        let txn = self.db.read()?;
        let Some(table) = open_read(&txn, table_def(&name))? else {
            return Ok(vec![None; ids.len()]);
        };
        ids.iter()
            .map(|id| {
                let guard = table.get(id.as_str()).storage(&name)?;
                guard.map(|g| decode(&name, id, g.value())).transpose()
            })
            .collect()
    }

    fn upsert_sync(&self, ns: Namespace, items: Vec<(String, Value)>) -> Result<()> {
        if items.is_empty() {
            return Ok(());
        }
        let name = table_name(ns);
        let txn = self.db.write()?;
        {
            let mut table = open_write(&txn, table_def(&name))?;
            for (id, value) in &items {
                let bytes = encode(&name, id, value)?;
                table.insert(id.as_str(), bytes.as_slice()).storage(&name)?;
            }
        }
        // Extraction results must survive a crash (a resume must not extract again); the other
        // namespaces are derived and become durable with the next status write.
        if ns == Namespace::LlmResponseCache {
            commit(txn)
        } else {
            commit_deferred(txn)
        }
    }

    fn delete_sync(&self, ns: Namespace, ids: &[String]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let name = table_name(ns);
        let txn = self.db.write()?;
        {
            let mut table = open_write(&txn, table_def(&name))?;
            for id in ids {
                table.remove(id.as_str()).storage(&name)?;
            }
        }
        commit(txn)
    }

    fn keys_sync(&self, ns: Namespace) -> Result<Vec<String>> {
        let name = table_name(ns);
        let txn = self.db.read()?;
        let Some(table) = open_read(&txn, table_def(&name))? else {
            return Ok(Vec::new());
        };
        let mut keys = Vec::new();
        for entry in table.iter().storage(&name)? {
            let (k, _) = entry.storage(&name)?;
            keys.push(k.value().to_string());
        }
        Ok(keys)
    }

    fn clear_sync(&self, ns: Namespace) -> Result<()> {
        let name = table_name(ns);
        let txn = self.db.write()?;
        txn.delete_table(table_def(&name)).storage(&name)?;
        commit(txn)
    }
}

#[async_trait]
impl KvStore for RedbKv {
    async fn get(&self, ns: Namespace, id: &str) -> Result<Option<Value>> {
        let mut found = self.get_many_sync(ns, &[id.to_string()])?;
        Ok(found.pop().flatten())
    }

    async fn get_many(&self, ns: Namespace, ids: &[String]) -> Result<Vec<Option<Value>>> {
        self.get_many_sync(ns, ids)
    }

    async fn upsert(&self, ns: Namespace, items: Vec<(String, Value)>) -> Result<()> {
        self.upsert_sync(ns, items)
    }

    async fn delete(&self, ns: Namespace, ids: &[String]) -> Result<()> {
        self.delete_sync(ns, ids)
    }

    async fn keys(&self, ns: Namespace) -> Result<Vec<String>> {
        self.keys_sync(ns)
    }

    async fn clear(&self, ns: Namespace) -> Result<()> {
        self.clear_sync(ns)
    }
}
