//! The PostgreSQL [`VectorStore`]: one table per vector set (`lightrag_rs_vdb_chunks`, ...) holding
//! every workspace, searched by cosine distance through pgvector.
//!
//! Rows keep the vector as stored (f32, `vector` without a fixed dimension), its dimension, and
//! the metadata as JSONB. Each dimension in use has a partial HNSW expression index (see
//! `schema::ensure_hnsw`). A query is one statement that first counts the workspace's
//! rows, up to [`EXACT_SCAN_MAX`] + 1 (a short index range): a workspace that small is scored
//! exactly (ties by id, the other backends' order); a larger one walks the HNSW index.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use lightrag_core::error::{Error, Result};
use lightrag_core::ports::VectorStore;
use lightrag_core::types::{VectorHit, VectorRecord};
use pgvector::Vector;
use serde_json::Value;
use sqlx::{AssertSqlSafe, Row};

use super::schema::indexed_expr;
use super::{distinct, from_json, last_per_key, to_json, Ctx, VectorSet, SESSION_EF_SEARCH};

/// Up to this many vectors in a workspace's set, a query scores them all (exact, and cheaper
/// than an index walk that must skip the other workspaces' rows); above, it uses the HNSW index.
pub const EXACT_SCAN_MAX: usize = 5_000;

/// pgvector's largest `hnsw.ef_search`.
const MAX_EF_SEARCH: usize = 1_000;

/// The statements of one set, built once (table names and the dimension are part of the text).
struct Statements {
    upsert: Arc<str>,
    query: Arc<str>,
    delete: Arc<str>,
    vectors: Arc<str>,
    meta: Arc<str>,
    ids: Arc<str>,
    clear: Arc<str>,
}

impl Statements {
    fn new(set: VectorSet, dim: usize) -> Statements {
        let table = set.table();
        let expr = indexed_expr(dim);
        let ty = if dim > super::MAX_VECTOR_DIM {
            "halfvec"
        } else {
            "vector"
        };
        let distance = "(embedding <=> $2)";
        Statements {
            upsert: format!(
                "INSERT INTO {table} (workspace, id, dim, embedding, meta)
                 SELECT $1, t.id, {dim}, t.embedding, t.meta::jsonb
                 FROM unnest($2::text[], $3::vector[], $4::text[]) AS t(id, embedding, meta)
                 ORDER BY t.id
                 ON CONFLICT (workspace, id) DO UPDATE
                 SET dim = EXCLUDED.dim, embedding = EXCLUDED.embedding, meta = EXCLUDED.meta,
                     update_time = now()"
            )
            .into(),
            query: format!(
                "WITH n AS MATERIALIZED (
                     SELECT count(*) AS c FROM (
                         SELECT 1 FROM {table} WHERE workspace = $1 ORDER BY id LIMIT {probe}
                     ) x
                 )
                 (SELECT id, meta::text AS meta, {distance} AS distance FROM {table}
                  WHERE workspace = $1 AND dim = {dim} AND (SELECT c FROM n) <= {exact}
                  ORDER BY CASE WHEN {distance} = 'NaN' THEN 1 ELSE {distance} END, id
                  LIMIT $3)
                 UNION ALL
                 (SELECT id, meta::text, ({expr} <=> $2::{ty}({dim})) FROM {table}
                  WHERE workspace = $1 AND dim = {dim} AND (SELECT c FROM n) > {exact}
                  ORDER BY {expr} <=> $2::{ty}({dim})
                  LIMIT $3)",
                probe = EXACT_SCAN_MAX + 1,
                exact = EXACT_SCAN_MAX,
            )
            .into(),
            delete: format!("DELETE FROM {table} WHERE workspace = $1 AND id = ANY($2)").into(),
            vectors: format!(
                "SELECT id, embedding FROM {table} WHERE workspace = $1 AND id = ANY($2)"
            )
            .into(),
            meta: format!(
                "SELECT id, meta::text FROM {table} WHERE workspace = $1 AND id = ANY($2)"
            )
            .into(),
            ids: format!("SELECT id FROM {table} WHERE workspace = $1 ORDER BY id").into(),
            clear: format!("DELETE FROM {table} WHERE workspace = $1").into(),
        }
    }
}

/// One vector set of one workspace, bound to a model and dimension.
pub struct PgVectorStore {
    ctx: Ctx,
    set: VectorSet,
    model: String,
    dim: usize,
    sql: Statements,
}

/// Binds the workspace's three sets to `model` and `dim` (on first open) or checks that they
/// are bound to them, in one transaction: a mismatch changes nothing.
pub(crate) async fn bind_model(ctx: &Ctx, model: &str, dim: usize) -> Result<()> {
    let what = "bind the vector sets to the embedding model";
    let m = |e| ctx.err(what, e);
    let sets: Vec<&str> = VectorSet::ALL.iter().map(|s| s.as_str()).collect();
    let dim_i32 =
        i32::try_from(dim).map_err(|_| Error::InvalidInput(format!("dimension {dim}")))?;
    let mut tx = ctx.pool.begin().await.map_err(m)?;
    sqlx::query(
        "INSERT INTO lightrag_rs_vdb_binding (workspace, vector_set, model, dim)
         SELECT $1, s, $2, $3 FROM unnest($4::text[]) AS s
         ON CONFLICT (workspace, vector_set) DO NOTHING",
    )
    .bind(&*ctx.workspace)
    .bind(model)
    .bind(dim_i32)
    .bind(&sets)
    .execute(&mut *tx)
    .await
    .map_err(m)?;
    // A new statement: it sees a binding another process committed while ours waited.
    let rows = sqlx::query(
        "SELECT vector_set, model, dim FROM lightrag_rs_vdb_binding
         WHERE workspace = $1 AND vector_set = ANY($2) ORDER BY vector_set",
    )
    .bind(&*ctx.workspace)
    .bind(&sets)
    .fetch_all(&mut *tx)
    .await
    .map_err(m)?;
    for row in rows {
        let set: String = row.try_get(0).map_err(m)?;
        let bound_model: String = row.try_get(1).map_err(m)?;
        let bound_dim: i32 = row.try_get(2).map_err(m)?;
        if bound_model != model || bound_dim != dim_i32 {
            let ws = &ctx.workspace;
            return Err(Error::ModelMismatch(format!(
                "vector set '{set}' of workspace '{ws}' in PostgreSQL at {} was built with \
                 {bound_model} ({bound_dim} dims); the configured embedder is {model} ({dim} \
                 dims). Use the original model, or re-embed with the new one: delete the \
                 workspace's vectors and binding (DELETE FROM lightrag_rs_vdb_binding WHERE \
                 workspace = '{ws}', and its rows of lightrag_rs_vdb_chunks, _entities and \
                 _relationships), then run `lightrag rebuild-vectors`",
                ctx.endpoint
            )));
        }
    }
    tx.commit().await.map_err(m)
}

impl PgVectorStore {
    pub(crate) fn new(ctx: Ctx, set: VectorSet, model: &str, dim: usize) -> Self {
        PgVectorStore {
            ctx,
            set,
            model: model.to_string(),
            dim,
            sql: Statements::new(set, dim),
        }
    }

    /// A vector must have the set's dimension and finite components.
    fn check(&self, what: &str, vector: &[f32]) -> Result<()> {
        if vector.len() != self.dim {
            return Err(Error::InvalidInput(format!(
                "PostgreSQL vector set '{}': {what} has {} dims, but the set holds {}-dim vectors of {}",
                self.set.as_str(),
                vector.len(),
                self.dim,
                self.model
            )));
        }
        if vector.iter().any(|x| !x.is_finite()) {
            return Err(Error::InvalidInput(format!(
                "PostgreSQL vector set '{}': {what} has a non-finite component",
                self.set.as_str()
            )));
        }
        Ok(())
    }

    fn sql(s: &Arc<str>) -> AssertSqlSafe<Arc<str>> {
        AssertSqlSafe(s.clone())
    }
}

/// Similarity from pgvector's cosine distance; a vector without direction scores 0.
fn similarity(distance: f64) -> f32 {
    if distance.is_nan() {
        0.0
    } else {
        (1.0 - distance) as f32
    }
}

#[async_trait]
impl VectorStore for PgVectorStore {
    fn namespace(&self) -> &str {
        self.set.as_str()
    }

    /// Validates the whole batch (no empty id, the set's dimension, finite components) before
    /// writing any of it, then one statement; the last record of a repeated id wins.
    async fn upsert(&self, records: Vec<VectorRecord>) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        for r in &records {
            if r.id.is_empty() {
                return Err(Error::InvalidInput(format!(
                    "PostgreSQL vector set '{}': empty vector id",
                    self.set.as_str()
                )));
            }
            self.check(&format!("vector '{}'", r.id), &r.vector)?;
        }
        let records = last_per_key(records, |r| &r.id);
        let n = records.len();
        let (mut ids, mut vectors, mut metas) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        for r in records {
            metas.push(to_json(&format!("metadata of '{}'", r.id), &r.meta)?);
            vectors.push(Vector::from(r.vector));
            ids.push(r.id);
        }
        let ctx = &self.ctx;
        ctx.write("write vectors", || {
            sqlx::query(Self::sql(&self.sql.upsert))
                .bind(&*ctx.workspace)
                .bind(&ids)
                .bind(&vectors)
                .bind(&metas)
                .execute(&ctx.pool)
        })
        .await?;
        Ok(())
    }

    /// Best first, at most `top_k`, similarity (1 - cosine distance) >= `threshold`.
    async fn query(&self, vector: &[f32], top_k: usize, threshold: f32) -> Result<Vec<VectorHit>> {
        self.check("the query vector", vector)?;
        if top_k == 0 {
            return Ok(Vec::new());
        }
        let what = "search vectors";
        let m = |e| self.ctx.err(what, e);
        let limit = i64::try_from(top_k).unwrap_or(i64::MAX);
        let query = sqlx::query(Self::sql(&self.sql.query))
            .bind(&*self.ctx.workspace)
            .bind(Vector::from(vector.to_vec()))
            .bind(limit);
        let ef_search = (2 * top_k).clamp(40, MAX_EF_SEARCH);
        let rows = if ef_search <= SESSION_EF_SEARCH {
            query.fetch_all(&self.ctx.pool).await.map_err(m)?
        } else {
            // A wider candidate list for this query only.
            let mut tx = self.ctx.pool.begin().await.map_err(m)?;
            sqlx::query("SELECT set_config('hnsw.ef_search', $1, true)")
                .bind(ef_search.to_string())
                .execute(&mut *tx)
                .await
                .map_err(m)?;
            let rows = query.fetch_all(&mut *tx).await.map_err(m)?;
            tx.commit().await.map_err(m)?;
            rows
        };
        let mut hits = Vec::with_capacity(rows.len());
        for row in rows {
            let id: String = row.try_get(0).map_err(m)?;
            let meta: String = row.try_get(1).map_err(m)?;
            let distance: f64 = row.try_get(2).map_err(m)?;
            let score = similarity(distance);
            if score < threshold {
                continue;
            }
            let meta: Value = from_json(self.set.table(), &id, &meta)?;
            hits.push(VectorHit { id, score, meta });
        }
        hits.truncate(top_k);
        Ok(hits)
    }

    async fn delete(&self, ids: &[String]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let ids = distinct(ids);
        let ctx = &self.ctx;
        ctx.write("delete vectors", || {
            sqlx::query(Self::sql(&self.sql.delete))
                .bind(&*ctx.workspace)
                .bind(&ids)
                .execute(&ctx.pool)
        })
        .await?;
        Ok(())
    }

    async fn get_vectors(&self, ids: &[String]) -> Result<HashMap<String, Vec<f32>>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let what = "read vectors";
        let rows = sqlx::query(Self::sql(&self.sql.vectors))
            .bind(&*self.ctx.workspace)
            .bind(distinct(ids))
            .fetch_all(&self.ctx.pool)
            .await
            .map_err(|e| self.ctx.err(what, e))?;
        let mut out = HashMap::with_capacity(rows.len());
        for row in rows {
            let id: String = row.try_get(0).map_err(|e| self.ctx.err(what, e))?;
            let v: Vector = row.try_get(1).map_err(|e| self.ctx.err(what, e))?;
            out.insert(id, v.to_vec());
        }
        Ok(out)
    }

    async fn get_meta(&self, ids: &[String]) -> Result<HashMap<String, Value>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let what = "read vector metadata";
        let rows = sqlx::query(Self::sql(&self.sql.meta))
            .bind(&*self.ctx.workspace)
            .bind(distinct(ids))
            .fetch_all(&self.ctx.pool)
            .await
            .map_err(|e| self.ctx.err(what, e))?;
        let mut out = HashMap::with_capacity(rows.len());
        for row in rows {
            let id: String = row.try_get(0).map_err(|e| self.ctx.err(what, e))?;
            let text: String = row.try_get(1).map_err(|e| self.ctx.err(what, e))?;
            let meta = from_json(self.set.table(), &id, &text)?;
            out.insert(id, meta);
        }
        Ok(out)
    }

    async fn ids(&self) -> Result<Vec<String>> {
        sqlx::query_scalar(Self::sql(&self.sql.ids))
            .bind(&*self.ctx.workspace)
            .fetch_all(&self.ctx.pool)
            .await
            .map_err(|e| self.ctx.err("list vector ids", e))
    }

    /// Deletes the workspace's rows of this set; the model binding stays.
    async fn clear(&self) -> Result<()> {
        let ctx = &self.ctx;
        ctx.write("clear a vector set", || {
            sqlx::query(Self::sql(&self.sql.clear))
                .bind(&*ctx.workspace)
                .execute(&ctx.pool)
        })
        .await?;
        Ok(())
    }
}
