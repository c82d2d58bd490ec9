//! The PostgreSQL [`KvStore`]: LightRAG's key-value namespaces in one table,
//! `lightrag_rs_kv (workspace, namespace, id) -> value jsonb`.

use std::collections::HashMap;

use async_trait::async_trait;
use lightrag_core::error::Result;
use lightrag_core::ports::{KvStore, Namespace};
use serde_json::Value;
use sqlx::Row;

use super::{distinct, from_json, last_per_key, to_json, Ctx};

const TABLE: &str = "lightrag_rs_kv";

/// Key-value records of one workspace.
pub struct PgKv {
    ctx: Ctx,
}

impl PgKv {
    pub(crate) fn new(ctx: Ctx) -> Self {
        PgKv { ctx }
    }
}

#[async_trait]
impl KvStore for PgKv {
    async fn get(&self, ns: Namespace, id: &str) -> Result<Option<Value>> {
        let text: Option<String> = sqlx::query_scalar(
            "SELECT value::text FROM lightrag_rs_kv WHERE workspace = $1 AND namespace = $2 AND id = $3",
        )
        .bind(&*self.ctx.workspace)
        .bind(ns.as_str())
        .bind(id)
        .fetch_optional(&self.ctx.pool)
        .await
        .map_err(|e| self.ctx.err("read a record", e))?;
        text.map(|t| from_json(TABLE, id, &t)).transpose()
    }

    async fn get_many(&self, ns: Namespace, ids: &[String]) -> Result<Vec<Option<Value>>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(
            "SELECT id, value::text FROM lightrag_rs_kv
             WHERE workspace = $1 AND namespace = $2 AND id = ANY($3)",
        )
        .bind(&*self.ctx.workspace)
        .bind(ns.as_str())
        .bind(distinct(ids))
        .fetch_all(&self.ctx.pool)
        .await
        .map_err(|e| self.ctx.err("read records", e))?;
        let mut found = HashMap::with_capacity(rows.len());
        for row in rows {
            let id: String = row
                .try_get(0)
                .map_err(|e| self.ctx.err("read records", e))?;
            let text: String = row
                .try_get(1)
                .map_err(|e| self.ctx.err("read records", e))?;
            let value: Value = from_json(TABLE, &id, &text)?;
            found.insert(id, value);
        }
        Ok(ids.iter().map(|id| found.get(id).cloned()).collect())
    }

    /// One statement; the last record of a repeated id wins.
    async fn upsert(&self, ns: Namespace, items: Vec<(String, Value)>) -> Result<()> {
        if items.is_empty() {
            return Ok(());
        }
        let items = last_per_key(items, |(id, _)| id);
        let mut ids = Vec::with_capacity(items.len());
        let mut values = Vec::with_capacity(items.len());
        for (id, value) in items {
            values.push(to_json(&format!("record '{id}'"), &value)?);
            ids.push(id);
        }
        let ctx = &self.ctx;
        ctx.write("write records", || {
            sqlx::query(
                "INSERT INTO lightrag_rs_kv (workspace, namespace, id, value)
                 SELECT $1, $2, t.id, t.value::jsonb
                 FROM unnest($3::text[], $4::text[]) AS t(id, value)
                 ORDER BY t.id
                 ON CONFLICT (workspace, namespace, id)
                 DO UPDATE SET value = EXCLUDED.value, update_time = now()",
            )
            .bind(&*ctx.workspace)
            .bind(ns.as_str())
            .bind(&ids)
            .bind(&values)
            .execute(&ctx.pool)
        })
        .await?;
        Ok(())
    }

    async fn delete(&self, ns: Namespace, ids: &[String]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let ids = distinct(ids);
        let ctx = &self.ctx;
        ctx.write("delete records", || {
            sqlx::query(
                "DELETE FROM lightrag_rs_kv WHERE workspace = $1 AND namespace = $2 AND id = ANY($3)",
            )
            .bind(&*ctx.workspace)
            .bind(ns.as_str())
            .bind(&ids)
            .execute(&ctx.pool)
        })
        .await?;
        Ok(())
    }

    async fn keys(&self, ns: Namespace) -> Result<Vec<String>> {
        sqlx::query_scalar(
            "SELECT id FROM lightrag_rs_kv WHERE workspace = $1 AND namespace = $2 ORDER BY id",
        )
        .bind(&*self.ctx.workspace)
        .bind(ns.as_str())
        .fetch_all(&self.ctx.pool)
        .await
        .map_err(|e| self.ctx.err("list keys", e))
    }

    async fn clear(&self, ns: Namespace) -> Result<()> {
        let ctx = &self.ctx;
        ctx.write("clear a namespace", || {
            sqlx::query("DELETE FROM lightrag_rs_kv WHERE workspace = $1 AND namespace = $2")
                .bind(&*ctx.workspace)
                .bind(ns.as_str())
                .execute(&ctx.pool)
        })
        .await?;
        Ok(())
    }
}
