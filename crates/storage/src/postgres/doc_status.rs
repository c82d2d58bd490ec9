//! The PostgreSQL [`DocStatusStore`]: `lightrag_rs_doc_status (workspace, id)` with the fields
//! questions are asked about as columns and the whole record as JSONB.
//!
//! Indexes: `(workspace, status, <sort field>, id)` for each page order (a page of several
//! statuses reads the first `offset + limit` entries of each status and merges them),
//! `(workspace, track_id, created_at, id)` and `(workspace, content_hash, id)`. `created_at` is
//! immutable: an upsert of an existing row keeps the stored one, in the column and the record.

use std::collections::HashMap;

use async_trait::async_trait;
use lightrag_core::error::Result;
use lightrag_core::ports::{DocPage, DocPageRequest, DocSort, DocStatusStore};
use lightrag_core::types::{DocStatus, DocStatusRecord};
use sqlx::postgres::PgRow;
use sqlx::Row;

use super::error::corrupt;
use super::{distinct, from_json, last_per_key, to_json, Ctx};

const TABLE: &str = "lightrag_rs_doc_status";

/// Document status rows of one workspace.
pub struct PgDocStatus {
    ctx: Ctx,
}

/// The column a page order sorts by.
fn sort_column(sort: DocSort) -> &'static str {
    match sort {
        DocSort::UpdatedAt => "updated_at",
        DocSort::CreatedAt => "created_at",
        DocSort::Id => "id",
        DocSort::FilePath => "file_path",
    }
}

/// The distinct statuses asked, as their names.
fn status_names(statuses: &[DocStatus]) -> Vec<&'static str> {
    let set: std::collections::BTreeSet<DocStatus> = statuses.iter().copied().collect();
    set.into_iter().map(DocStatus::as_str).collect()
}

/// `usize` as a bound parameter (`LIMIT`, `OFFSET`), saturating.
fn bound(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl PgDocStatus {
    pub(crate) fn new(ctx: Ctx) -> Self {
        PgDocStatus { ctx }
    }

    /// A row `(id, created_at, record)` as the id and its record (`created_at` from its column).
    fn decode(&self, row: &PgRow, what: &str) -> Result<(String, DocStatusRecord)> {
        let id: String = row.try_get("id").map_err(|e| self.ctx.err(what, e))?;
        let created_at: String = row
            .try_get("created_at")
            .map_err(|e| self.ctx.err(what, e))?;
        let text: String = row.try_get("record").map_err(|e| self.ctx.err(what, e))?;
        let mut rec: DocStatusRecord = from_json(TABLE, &id, &text)?;
        rec.created_at = created_at;
        Ok((id, rec))
    }

    fn decode_all(&self, rows: &[PgRow], what: &str) -> Result<Vec<(String, DocStatusRecord)>> {
        rows.iter().map(|r| self.decode(r, what)).collect()
    }
}

#[async_trait]
impl DocStatusStore for PgDocStatus {
    async fn get(&self, id: &str) -> Result<Option<DocStatusRecord>> {
        let what = "read a document status";
        let row = sqlx::query(
            "SELECT id, created_at, record::text AS record FROM lightrag_rs_doc_status
             WHERE workspace = $1 AND id = $2",
        )
        .bind(&*self.ctx.workspace)
        .bind(id)
        .fetch_optional(&self.ctx.pool)
        .await
        .map_err(|e| self.ctx.err(what, e))?;
        Ok(row
            .map(|r| self.decode(&r, what))
            .transpose()?
            .map(|(_, rec)| rec))
    }

    /// One statement; the last record of a repeated id wins; an existing row keeps its
    /// `created_at`.
    async fn upsert(&self, items: Vec<(String, DocStatusRecord)>) -> Result<()> {
        if items.is_empty() {
            return Ok(());
        }
        let items = last_per_key(items, |(id, _)| id);
        let n = items.len();
        let (mut ids, mut statuses, mut created, mut updated) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        let (mut paths, mut tracks, mut hashes, mut records) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        for (id, rec) in items {
            records.push(to_json(&format!("document status '{id}'"), &rec)?);
            statuses.push(rec.status.as_str());
            created.push(rec.created_at);
            updated.push(rec.updated_at);
            paths.push(rec.file_path);
            tracks.push(rec.track_id);
            hashes.push(rec.content_hash);
            ids.push(id);
        }
        let ctx = &self.ctx;
        ctx.write("write document statuses", || {
            sqlx::query(
                "INSERT INTO lightrag_rs_doc_status AS d
                    (workspace, id, status, created_at, updated_at, file_path, track_id,
                     content_hash, record)
                 SELECT $1, t.id, t.status, t.created_at, t.updated_at, t.file_path, t.track_id,
                        t.content_hash, t.record::jsonb
                 FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                             $7::text[], $8::text[], $9::text[])
                      AS t(id, status, created_at, updated_at, file_path, track_id,
                           content_hash, record)
                 ORDER BY t.id
                 ON CONFLICT (workspace, id) DO UPDATE SET
                    status = EXCLUDED.status,
                    updated_at = EXCLUDED.updated_at,
                    file_path = EXCLUDED.file_path,
                    track_id = EXCLUDED.track_id,
                    content_hash = EXCLUDED.content_hash,
                    record = jsonb_set(EXCLUDED.record, '{created_at}', to_jsonb(d.created_at))",
            )
            .bind(&*ctx.workspace)
            .bind(&ids)
            .bind(&statuses)
            .bind(&created)
            .bind(&updated)
            .bind(&paths)
            .bind(&tracks)
            .bind(&hashes)
            .bind(&records)
            .execute(&ctx.pool)
        })
        .await?;
        Ok(())
    }

    async fn delete(&self, ids: &[String]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let ids = distinct(ids);
        let ctx = &self.ctx;
        ctx.write("delete document statuses", || {
            sqlx::query("DELETE FROM lightrag_rs_doc_status WHERE workspace = $1 AND id = ANY($2)")
                .bind(&*ctx.workspace)
                .bind(&ids)
                .execute(&ctx.pool)
        })
        .await?;
        Ok(())
    }

    async fn by_statuses(&self, statuses: &[DocStatus]) -> Result<Vec<(String, DocStatusRecord)>> {
        if statuses.is_empty() {
            return Ok(Vec::new());
        }
        let what = "read document statuses";
        let rows = sqlx::query(
            "SELECT id, created_at, record::text AS record FROM lightrag_rs_doc_status
             WHERE workspace = $1 AND status = ANY($2)
             ORDER BY created_at, id",
        )
        .bind(&*self.ctx.workspace)
        .bind(status_names(statuses))
        .fetch_all(&self.ctx.pool)
        .await
        .map_err(|e| self.ctx.err(what, e))?;
        self.decode_all(&rows, what)
    }

    /// One statement: the total from the status index, and for each status its first
    /// `offset + limit` rows in the asked order (an index range each), merged.
    async fn page(&self, req: &DocPageRequest) -> Result<DocPage> {
        let statuses = status_names(&req.statuses);
        if statuses.is_empty() {
            return Ok(DocPage::default());
        }
        let what = "read a page of document statuses";
        let col = sort_column(req.sort);
        let dir = if req.descending { "DESC" } else { "ASC" };
        let sql = format!(
            "SELECT t.total, p.id, p.created_at, p.record
             FROM (SELECT count(*) AS total FROM lightrag_rs_doc_status
                   WHERE workspace = $1 AND status = ANY($2)) t
             LEFT JOIN LATERAL (
                 SELECT x.id, x.created_at, x.record, x.k
                 FROM unnest($2::text[]) AS s(status)
                 CROSS JOIN LATERAL (
                     SELECT d.id, d.created_at, d.record::text AS record, d.{col} AS k
                     FROM lightrag_rs_doc_status d
                     WHERE d.workspace = $1 AND d.status = s.status
                     ORDER BY d.{col} {dir}, d.id {dir}
                     LIMIT $3
                 ) x
                 ORDER BY x.k {dir}, x.id {dir}
                 OFFSET $4 LIMIT $5
             ) p ON true
             ORDER BY p.k {dir}, p.id {dir}"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&*self.ctx.workspace)
            .bind(&statuses)
            .bind(bound(req.offset.saturating_add(req.limit)))
            .bind(bound(req.offset))
            .bind(bound(req.limit))
            .fetch_all(&self.ctx.pool)
            .await
            .map_err(|e| self.ctx.err(what, e))?;
        let mut page = DocPage::default();
        for row in &rows {
            let total: i64 = row.try_get("total").map_err(|e| self.ctx.err(what, e))?;
            page.total = usize::try_from(total).unwrap_or(0);
            let id: Option<String> = row.try_get("id").map_err(|e| self.ctx.err(what, e))?;
            if id.is_some() {
                page.rows.push(self.decode(row, what)?);
            }
        }
        Ok(page)
    }

    async fn by_track_id(&self, track_id: &str) -> Result<Vec<(String, DocStatusRecord)>> {
        let what = "read the documents of a track id";
        let rows = sqlx::query(
            "SELECT id, created_at, record::text AS record FROM lightrag_rs_doc_status
             WHERE workspace = $1 AND track_id = $2
             ORDER BY created_at, id",
        )
        .bind(&*self.ctx.workspace)
        .bind(track_id)
        .fetch_all(&self.ctx.pool)
        .await
        .map_err(|e| self.ctx.err(what, e))?;
        self.decode_all(&rows, what)
    }

    async fn counts(&self) -> Result<HashMap<DocStatus, usize>> {
        let what = "count document statuses";
        let rows = sqlx::query(
            "SELECT status, count(*) FROM lightrag_rs_doc_status WHERE workspace = $1 GROUP BY status",
        )
        .bind(&*self.ctx.workspace)
        .fetch_all(&self.ctx.pool)
        .await
        .map_err(|e| self.ctx.err(what, e))?;
        let mut counts: HashMap<DocStatus, usize> =
            DocStatus::ALL.iter().map(|s| (*s, 0)).collect();
        for row in rows {
            let status: String = row.try_get(0).map_err(|e| self.ctx.err(what, e))?;
            let n: i64 = row.try_get(1).map_err(|e| self.ctx.err(what, e))?;
            let status: DocStatus = status
                .parse()
                .map_err(|e| corrupt(format!("table {TABLE}: {e}")))?;
            counts.insert(status, usize::try_from(n).unwrap_or(0));
        }
        Ok(counts)
    }

    /// The first such row by id (the other backends' order).
    async fn find_by_content_hash(
        &self,
        hash: &str,
        exclude: Option<&str>,
    ) -> Result<Option<(String, DocStatusRecord)>> {
        let what = "find a document by content hash";
        let row = sqlx::query(
            "SELECT id, created_at, record::text AS record FROM lightrag_rs_doc_status
             WHERE workspace = $1 AND content_hash = $2
               AND ($3::text IS NULL OR id <> $3)
               AND (record -> 'metadata' -> 'is_duplicate') IS DISTINCT FROM 'true'::jsonb
             ORDER BY id
             LIMIT 1",
        )
        .bind(&*self.ctx.workspace)
        .bind(hash)
        .bind(exclude)
        .fetch_optional(&self.ctx.pool)
        .await
        .map_err(|e| self.ctx.err(what, e))?;
        row.map(|r| self.decode(&r, what)).transpose()
    }

    async fn clear(&self) -> Result<()> {
        let ctx = &self.ctx;
        ctx.write("clear document statuses", || {
            sqlx::query("DELETE FROM lightrag_rs_doc_status WHERE workspace = $1")
                .bind(&*ctx.workspace)
                .execute(&ctx.pool)
        })
        .await?;
        Ok(())
    }
}
