//! The PostgreSQL [`GraphStore`]: the knowledge graph in plain tables (no Apache AGE).
//!
//! * `lightrag_rs_graph_nodes (workspace, name)`: the entity as JSONB, plus `name_lower` (Rust's
//!   lowercase of the name, served by a pg_trgm index when available) for label search;
//! * `lightrag_rs_graph_edges (workspace, src, tgt)` with `src <= tgt` (the sorted pair), the weight
//!   as a column, the relation as JSONB; indexes `(workspace, src, weight DESC, tgt)` and
//!   `(workspace, tgt, weight DESC, src)`, so a node's heaviest edges are the first entries of
//!   two index ranges, however many edges it has;
//! * `lightrag_rs_graph_degree (workspace, node)`: incident edges per node (a self-loop counts once,
//!   edges to names that are not nodes count), changed by the same statement that writes or
//!   removes edges (an upsert of each end's delta); indexed by `(workspace, degree DESC, node)`
//!   for the best-connected nodes. A degree that falls to zero keeps its row (readers skip it);
//!   removing a node drops it.
//!
//! Batch statements read and write one table at a time (`= ANY($n)` over arrays, upserts):
//! a join with the batch could be planned as a loop over both sides while the statistics have
//! not yet seen a workspace (a new one, a bulk load), which is quadratic; these stay linear
//! whatever the planner believes.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use async_trait::async_trait;
use lightrag_core::error::{Error, Result};
use lightrag_core::ids::sorted_pair;
use lightrag_core::ports::GraphStore;
use lightrag_core::types::{Entity, Relation};
use sqlx::Row;

use super::{distinct, from_json, to_json, Ctx};

const NODES: &str = "lightrag_rs_graph_nodes";
const EDGES: &str = "lightrag_rs_graph_edges";

/// The knowledge graph of one workspace.
pub struct PgGraph {
    ctx: Ctx,
}

/// `usize` as a bound `LIMIT`, saturating.
fn bound(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The distinct sorted pairs asked: their first ends, and each pair as one key (see
/// [`PAIR_KEY`]).
fn pair_keys(pairs: &[(String, String)]) -> (Vec<&str>, Vec<String>) {
    let set: BTreeSet<(&str, &str)> = pairs.iter().map(|(a, b)| sorted_pair(a, b)).collect();
    let srcs: BTreeSet<&str> = set.iter().map(|(a, _)| *a).collect();
    let keys = set
        .iter()
        .map(|(a, b)| format!("{}:{a}{b}", a.chars().count()))
        .collect();
    (srcs.into_iter().collect(), keys)
}

/// An edge's pair as one text, unambiguous whatever the names hold: the length of `src` in
/// characters, a colon, `src`, `tgt` (built the same way by [`pair_keys`]). Batches of pairs
/// are matched with `src = ANY(..) AND key = ANY(..)` on the edge table alone: a join with the
/// list of pairs could be planned as a loop over both when the statistics have not seen the
/// workspace yet (a new workspace, a bulk load), which is quadratic.
const PAIR_KEY: &str = "(length(src) || ':' || src || tgt)";

/// A `LIKE` pattern matching names that contain `needle`.
fn contains_pattern(needle: &str) -> String {
    let mut p = String::with_capacity(needle.len() + 2);
    p.push('%');
    for c in needle.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

impl PgGraph {
    pub(crate) fn new(ctx: Ctx) -> Self {
        PgGraph { ctx }
    }

    /// Relations from rows whose column `relation` is the JSON text.
    fn relations(&self, rows: &[sqlx::postgres::PgRow], what: &str) -> Result<Vec<Relation>> {
        rows.iter()
            .map(|row| {
                let text: String = row.try_get("relation").map_err(|e| self.ctx.err(what, e))?;
                from_json(EDGES, "edge", &text)
            })
            .collect()
    }

    async fn count(&self, sql: &'static str, what: &str) -> Result<usize> {
        let n: i64 = sqlx::query_scalar(sql)
            .bind(&*self.ctx.workspace)
            .fetch_one(&self.ctx.pool)
            .await
            .map_err(|e| self.ctx.err(what, e))?;
        Ok(usize::try_from(n).unwrap_or(0))
    }
}

#[async_trait]
impl GraphStore for PgGraph {
    async fn get_nodes(&self, names: &[String]) -> Result<HashMap<String, Entity>> {
        if names.is_empty() {
            return Ok(HashMap::new());
        }
        let what = "read nodes";
        let rows = sqlx::query(
            "SELECT name, entity::text FROM lightrag_rs_graph_nodes
             WHERE workspace = $1 AND name = ANY($2)",
        )
        .bind(&*self.ctx.workspace)
        .bind(distinct(names))
        .fetch_all(&self.ctx.pool)
        .await
        .map_err(|e| self.ctx.err(what, e))?;
        let mut out = HashMap::with_capacity(rows.len());
        for row in rows {
            let name: String = row.try_get(0).map_err(|e| self.ctx.err(what, e))?;
            let text: String = row.try_get(1).map_err(|e| self.ctx.err(what, e))?;
            let entity = from_json(NODES, &name, &text)?;
            out.insert(name, entity);
        }
        Ok(out)
    }

    /// One statement; the last node of a repeated name wins.
    async fn upsert_nodes(&self, nodes: Vec<Entity>) -> Result<()> {
        if nodes.is_empty() {
            return Ok(());
        }
        let nodes = super::last_per_key(nodes, |n| &n.entity_id);
        let mut names = Vec::with_capacity(nodes.len());
        let mut lower = Vec::with_capacity(nodes.len());
        let mut entities = Vec::with_capacity(nodes.len());
        for node in nodes {
            entities.push(to_json(&format!("node '{}'", node.entity_id), &node)?);
            lower.push(node.entity_id.to_lowercase());
            names.push(node.entity_id);
        }
        let ctx = &self.ctx;
        ctx.write("write nodes", || {
            sqlx::query(
                "INSERT INTO lightrag_rs_graph_nodes (workspace, name, name_lower, entity)
                 SELECT $1, t.name, t.lower, t.entity::jsonb
                 FROM unnest($2::text[], $3::text[], $4::text[]) AS t(name, lower, entity)
                 ORDER BY t.name
                 ON CONFLICT (workspace, name) DO UPDATE
                 SET name_lower = EXCLUDED.name_lower, entity = EXCLUDED.entity,
                     update_time = now()",
            )
            .bind(&*ctx.workspace)
            .bind(&names)
            .bind(&lower)
            .bind(&entities)
            .execute(&ctx.pool)
        })
        .await?;
        Ok(())
    }

    async fn get_edges(
        &self,
        pairs: &[(String, String)],
    ) -> Result<HashMap<(String, String), Relation>> {
        if pairs.is_empty() {
            return Ok(HashMap::new());
        }
        let what = "read edges";
        let (srcs, keys) = pair_keys(pairs);
        let sql = format!(
            "SELECT relation::text AS relation FROM lightrag_rs_graph_edges
             WHERE workspace = $1 AND src = ANY($2) AND {PAIR_KEY} = ANY($3)"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&*self.ctx.workspace)
            .bind(&srcs)
            .bind(&keys)
            .fetch_all(&self.ctx.pool)
            .await
            .map_err(|e| self.ctx.err(what, e))?;
        Ok(self
            .relations(&rows, what)?
            .into_iter()
            .map(|r| (r.pair(), r))
            .collect())
    }

    /// One statement for the edges and the degrees of their new ends. A batch with a
    /// non-finite weight is refused whole; the last relation of a repeated pair wins.
    async fn upsert_edges(&self, edges: Vec<Relation>) -> Result<()> {
        if edges.is_empty() {
            return Ok(());
        }
        if let Some(bad) = edges.iter().find(|r| !r.weight.is_finite()) {
            return Err(Error::InvalidInput(format!(
                "relation ({}, {}) has a non-finite weight ({})",
                bad.src_id, bad.tgt_id, bad.weight
            )));
        }
        let mut by_pair: BTreeMap<(String, String), Relation> = BTreeMap::new();
        for mut rel in edges {
            if rel.src_id > rel.tgt_id {
                std::mem::swap(&mut rel.src_id, &mut rel.tgt_id);
            }
            by_pair.insert(rel.pair(), rel);
        }
        let n = by_pair.len();
        let (mut srcs, mut tgts, mut weights, mut relations) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        for ((src, tgt), rel) in by_pair {
            relations.push(to_json(&format!("relation ({src}, {tgt})"), &rel)?);
            weights.push(rel.weight);
            srcs.push(src);
            tgts.push(tgt);
        }
        let ctx = &self.ctx;
        ctx.write("write edges", || {
            sqlx::query(
                "WITH up AS (
                     INSERT INTO lightrag_rs_graph_edges (workspace, src, tgt, weight, relation)
                     SELECT $1, t.src, t.tgt, t.weight, t.relation::jsonb
                     FROM unnest($2::text[], $3::text[], $4::float8[], $5::text[])
                          AS t(src, tgt, weight, relation)
                     ORDER BY t.src, t.tgt
                     ON CONFLICT (workspace, src, tgt) DO UPDATE
                     SET weight = EXCLUDED.weight, relation = EXCLUDED.relation,
                         update_time = now()
                     RETURNING src, tgt, (xmax = 0) AS inserted
                 ),
                 ends AS (
                     SELECT src AS node FROM up WHERE inserted
                     UNION ALL
                     SELECT tgt FROM up WHERE inserted AND tgt <> src
                 )
                 INSERT INTO lightrag_rs_graph_degree AS g (workspace, node, degree)
                 SELECT $1, node, count(*) FROM ends GROUP BY node ORDER BY node
                 ON CONFLICT (workspace, node) DO UPDATE SET degree = g.degree + EXCLUDED.degree",
            )
            .bind(&*ctx.workspace)
            .bind(&srcs)
            .bind(&tgts)
            .bind(&weights)
            .bind(&relations)
            .execute(&ctx.pool)
        })
        .await?;
        Ok(())
    }

    /// Two scans of one table each (the nodes, their degree rows) in one statement: no join
    /// for a planner to misjudge.
    async fn node_degrees(&self, names: &[String]) -> Result<HashMap<String, usize>> {
        if names.is_empty() {
            return Ok(HashMap::new());
        }
        let what = "read degrees";
        let rows = sqlx::query(
            "SELECT name, NULL::bigint AS degree FROM lightrag_rs_graph_nodes
             WHERE workspace = $1 AND name = ANY($2)
             UNION ALL
             SELECT node, degree FROM lightrag_rs_graph_degree
             WHERE workspace = $1 AND node = ANY($2)",
        )
        .bind(&*self.ctx.workspace)
        .bind(distinct(names))
        .fetch_all(&self.ctx.pool)
        .await
        .map_err(|e| self.ctx.err(what, e))?;
        let mut nodes = BTreeSet::new();
        let mut degrees = HashMap::new();
        for row in rows {
            let name: String = row.try_get(0).map_err(|e| self.ctx.err(what, e))?;
            match row
                .try_get::<Option<i64>, _>(1)
                .map_err(|e| self.ctx.err(what, e))?
            {
                None => {
                    nodes.insert(name);
                }
                Some(d) => {
                    degrees.insert(name, usize::try_from(d).unwrap_or(0));
                }
            }
        }
        Ok(nodes
            .into_iter()
            .map(|n| {
                let d = degrees.get(&n).copied().unwrap_or(0);
                (n, d)
            })
            .collect())
    }

    /// One statement for every name: per name, the first `cap` entries of its two edge index
    /// ranges, merged and cut to `cap` (heaviest first, ties by the other end's name).
    async fn node_edges(
        &self,
        names: &[String],
        cap: usize,
    ) -> Result<HashMap<String, Vec<Relation>>> {
        let mut out: HashMap<String, Vec<Relation>> =
            names.iter().map(|n| (n.clone(), Vec::new())).collect();
        if names.is_empty() || cap == 0 {
            return Ok(out);
        }
        let what = "read the edges of nodes";
        let rows = sqlx::query(
            "SELECT q.name, e.relation::text AS relation
             FROM unnest($2::text[]) AS q(name)
             CROSS JOIN LATERAL (
                 SELECT x.relation, x.weight, x.other FROM (
                     (SELECT relation, weight, tgt AS other FROM lightrag_rs_graph_edges
                      WHERE workspace = $1 AND src = q.name
                      ORDER BY weight DESC, tgt LIMIT $3)
                     UNION ALL
                     (SELECT relation, weight, src AS other FROM lightrag_rs_graph_edges
                      WHERE workspace = $1 AND tgt = q.name AND src <> q.name
                      ORDER BY weight DESC, src LIMIT $3)
                 ) x
                 ORDER BY x.weight DESC, x.other
                 LIMIT $3
             ) e
             ORDER BY q.name, e.weight DESC, e.other",
        )
        .bind(&*self.ctx.workspace)
        .bind(distinct(names))
        .bind(bound(cap))
        .fetch_all(&self.ctx.pool)
        .await
        .map_err(|e| self.ctx.err(what, e))?;
        for row in rows {
            let name: String = row.try_get(0).map_err(|e| self.ctx.err(what, e))?;
            let text: String = row.try_get(1).map_err(|e| self.ctx.err(what, e))?;
            let rel: Relation = from_json(EDGES, &name, &text)?;
            out.entry(name).or_default().push(rel);
        }
        Ok(out)
    }

    /// One statement: the nodes, every edge touching them, the neighbours' degrees.
    async fn remove_nodes(&self, names: &[String]) -> Result<()> {
        if names.is_empty() {
            return Ok(());
        }
        let names = distinct(names);
        let ctx = &self.ctx;
        ctx.write("remove nodes", || {
            sqlx::query(
                "WITH gone AS (
                     DELETE FROM lightrag_rs_graph_edges
                     WHERE workspace = $1 AND (src = ANY($2) OR tgt = ANY($2))
                     RETURNING src, tgt
                 ),
                 ends AS (
                     SELECT src AS node FROM gone
                     UNION ALL
                     SELECT tgt FROM gone WHERE tgt <> src
                 ),
                 fixed AS (
                     INSERT INTO lightrag_rs_graph_degree AS g (workspace, node, degree)
                     SELECT $1, node, -count(*) FROM ends
                     WHERE NOT (node = ANY($2)) GROUP BY node ORDER BY node
                     ON CONFLICT (workspace, node) DO UPDATE SET degree = g.degree + EXCLUDED.degree
                     RETURNING 1
                 ),
                 dropped AS (
                     DELETE FROM lightrag_rs_graph_degree WHERE workspace = $1 AND node = ANY($2)
                     RETURNING 1
                 )
                 DELETE FROM lightrag_rs_graph_nodes WHERE workspace = $1 AND name = ANY($2)",
            )
            .bind(&*ctx.workspace)
            .bind(&names)
            .execute(&ctx.pool)
        })
        .await?;
        Ok(())
    }

    /// One statement: the edges and their ends' degrees.
    async fn remove_edges(&self, pairs: &[(String, String)]) -> Result<()> {
        if pairs.is_empty() {
            return Ok(());
        }
        let (srcs, keys) = pair_keys(pairs);
        let sql = format!(
            "WITH gone AS (
                 DELETE FROM lightrag_rs_graph_edges
                 WHERE workspace = $1 AND src = ANY($2) AND {PAIR_KEY} = ANY($3)
                 RETURNING src, tgt
             ),
             ends AS (
                 SELECT src AS node FROM gone
                 UNION ALL
                 SELECT tgt FROM gone WHERE tgt <> src
             )
             INSERT INTO lightrag_rs_graph_degree AS g (workspace, node, degree)
             SELECT $1, node, -count(*) FROM ends GROUP BY node ORDER BY node
             ON CONFLICT (workspace, node) DO UPDATE SET degree = g.degree + EXCLUDED.degree"
        );
        let ctx = &self.ctx;
        ctx.write("remove edges", || {
            sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .bind(&*ctx.workspace)
                .bind(&srcs)
                .bind(&keys)
                .execute(&ctx.pool)
        })
        .await?;
        Ok(())
    }

    async fn node_count(&self) -> Result<usize> {
        self.count(
            "SELECT count(*) FROM lightrag_rs_graph_nodes WHERE workspace = $1",
            "count nodes",
        )
        .await
    }

    async fn edge_count(&self) -> Result<usize> {
        self.count(
            "SELECT count(*) FROM lightrag_rs_graph_edges WHERE workspace = $1",
            "count edges",
        )
        .await
    }

    async fn all_nodes(&self) -> Result<Vec<Entity>> {
        let what = "read every node";
        let rows = sqlx::query(
            "SELECT name, entity::text FROM lightrag_rs_graph_nodes WHERE workspace = $1 ORDER BY name",
        )
        .bind(&*self.ctx.workspace)
        .fetch_all(&self.ctx.pool)
        .await
        .map_err(|e| self.ctx.err(what, e))?;
        rows.iter()
            .map(|row| {
                let name: String = row.try_get(0).map_err(|e| self.ctx.err(what, e))?;
                let text: String = row.try_get(1).map_err(|e| self.ctx.err(what, e))?;
                from_json(NODES, &name, &text)
            })
            .collect()
    }

    async fn all_edges(&self) -> Result<Vec<Relation>> {
        let what = "read every edge";
        let rows = sqlx::query(
            "SELECT relation::text AS relation FROM lightrag_rs_graph_edges
             WHERE workspace = $1 ORDER BY src, tgt",
        )
        .bind(&*self.ctx.workspace)
        .fetch_all(&self.ctx.pool)
        .await
        .map_err(|e| self.ctx.err(what, e))?;
        self.relations(&rows, what)
    }

    async fn labels(&self) -> Result<Vec<String>> {
        sqlx::query_scalar(
            "SELECT name FROM lightrag_rs_graph_nodes WHERE workspace = $1 ORDER BY name",
        )
        .bind(&*self.ctx.workspace)
        .fetch_all(&self.ctx.pool)
        .await
        .map_err(|e| self.ctx.err("list node names", e))
    }

    /// Candidates by `name_lower LIKE '%needle%'` (the trigram index), ranked in SQL by
    /// [`lightrag_core::browse::label_score`]'s formula: `name_lower` is Rust's lowercase of the
    /// name, and lengths and positions are in characters, so the scores are the same.
    async fn search_labels(&self, needle: &str, limit: usize) -> Result<Vec<String>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        sqlx::query_scalar(
            "SELECT name FROM lightrag_rs_graph_nodes
             WHERE workspace = $1 AND name_lower LIKE $2 ESCAPE '\\'
             ORDER BY
                 CASE
                     WHEN name_lower = $3 THEN 1000
                     WHEN starts_with(name_lower, $3) THEN 500
                     ELSE 100 - char_length(name_lower)
                          + CASE WHEN substr(name_lower, strpos(name_lower, $3) - 1, 1)
                                      IN (' ', '_', '-')
                                 THEN 50 ELSE 0 END
                 END DESC,
                 name
             LIMIT $4",
        )
        .bind(&*self.ctx.workspace)
        .bind(contains_pattern(needle))
        .bind(needle)
        .bind(bound(limit))
        .fetch_all(&self.ctx.pool)
        .await
        .map_err(|e| self.ctx.err("search node names", e))
    }

    /// Nodes with edges from the degree index, then (only when those run out) nodes without
    /// edges by name.
    async fn top_labels(&self, limit: usize) -> Result<Vec<(String, usize)>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let what = "rank nodes by degree";
        let rows = sqlx::query(
            "(SELECT d.node AS name, d.degree FROM lightrag_rs_graph_degree d
              WHERE d.workspace = $1 AND d.degree > 0
                AND EXISTS (SELECT 1 FROM lightrag_rs_graph_nodes n
                            WHERE n.workspace = $1 AND n.name = d.node)
              ORDER BY d.degree DESC, d.node
              LIMIT $2)
             UNION ALL
             (SELECT n.name, 0::bigint FROM lightrag_rs_graph_nodes n
              WHERE n.workspace = $1
                AND NOT EXISTS (SELECT 1 FROM lightrag_rs_graph_degree d
                                WHERE d.workspace = $1 AND d.node = n.name AND d.degree > 0)
              ORDER BY n.name
              LIMIT $2)
             LIMIT $2",
        )
        .bind(&*self.ctx.workspace)
        .bind(bound(limit))
        .fetch_all(&self.ctx.pool)
        .await
        .map_err(|e| self.ctx.err(what, e))?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let name: String = row.try_get(0).map_err(|e| self.ctx.err(what, e))?;
            let degree: i64 = row.try_get(1).map_err(|e| self.ctx.err(what, e))?;
            out.push((name, usize::try_from(degree).unwrap_or(0)));
        }
        // The two parts arrive in order; sorting again costs nothing and guards the order.
        out.sort_by(|(a, da), (b, db)| db.cmp(da).then_with(|| a.cmp(b)));
        out.truncate(limit);
        Ok(out)
    }

    /// One statement: edges whose two ends are among the names, by pair.
    async fn edges_among(&self, names: &[String]) -> Result<Vec<Relation>> {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let what = "read the edges among nodes";
        let rows = sqlx::query(
            "SELECT relation::text AS relation FROM lightrag_rs_graph_edges
             WHERE workspace = $1 AND src = ANY($2) AND tgt = ANY($2)
             ORDER BY src, tgt",
        )
        .bind(&*self.ctx.workspace)
        .bind(distinct(names))
        .fetch_all(&self.ctx.pool)
        .await
        .map_err(|e| self.ctx.err(what, e))?;
        self.relations(&rows, what)
    }

    async fn clear(&self) -> Result<()> {
        let ctx = &self.ctx;
        ctx.write("clear the graph", || {
            sqlx::query(
                "WITH edges AS (DELETE FROM lightrag_rs_graph_edges WHERE workspace = $1 RETURNING 1),
                      degrees AS (DELETE FROM lightrag_rs_graph_degree WHERE workspace = $1 RETURNING 1)
                 DELETE FROM lightrag_rs_graph_nodes WHERE workspace = $1",
            )
            .bind(&*ctx.workspace)
            .execute(&ctx.pool)
        })
        .await?;
        Ok(())
    }
}
