//! Chunks for retrieved entities and relations (LightRAG's
//! `_find_related_text_unit_from_entities/relations`): each item's source chunks, deduplicated
//! across items and ordered by how many items share them, picked by similarity to the query
//! (VECTOR) or by linear-gradient polling (WEIGHT), then merged round-robin with vector hits.

use std::collections::{HashMap, HashSet};

use crate::config::ChunkPickMethod;
use crate::engine::Rag;
use crate::error::Result;
use crate::merge::rules::split_sep;
use crate::ports::Namespace;
use crate::types::Chunk;

/// A chunk as it enters the context.
#[derive(Debug, Clone, PartialEq)]
pub struct ContextChunk {
    pub chunk_id: String,
    pub content: String,
    pub file_path: String,
    /// Its token count from chunking (0 when unknown), so budgets need not re-tokenise it.
    pub tokens: usize,
}

impl ContextChunk {
    /// A chunk from a chunk-vector hit (its metadata carries the content and file path).
    pub fn from_hit(h: &crate::types::VectorHit) -> ContextChunk {
        let field = |k: &str| {
            h.meta
                .get(k)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string()
        };
        ContextChunk {
            chunk_id: h.id.clone(),
            content: field("content"),
            file_path: field("file_path"),
            tokens: h.meta.get("tokens").and_then(|v| v.as_u64()).unwrap_or(0) as usize,
        }
    }
}

/// Per item, its candidate chunk ids: ids taken by an earlier item (or in `taken`) are dropped,
/// and each list is stably sorted by how many items list the id.
pub fn candidate_lists(sources: &[&str], taken: &HashSet<String>) -> Vec<Vec<String>> {
    let lists: Vec<Vec<String>> = sources.iter().map(|s| split_sep(s)).collect();
    let mut count: HashMap<&str, usize> = HashMap::new();
    for l in &lists {
        for id in l {
            *count.entry(id.as_str()).or_default() += 1;
        }
    }
    let mut seen: HashSet<String> = taken.clone();
    let mut out = Vec::with_capacity(lists.len());
    for l in &lists {
        let mut mine: Vec<String> = l
            .iter()
            .filter(|id| seen.insert((*id).clone()))
            .cloned()
            .collect();
        mine.sort_by_key(|id| std::cmp::Reverse(count.get(id.as_str()).copied().unwrap_or(0)));
        out.push(mine);
    }
    out
}

/// Linear-gradient polling: the first item gets `max_per` chunks, the last gets 1, leftover quota
/// goes one id at a time from the top item down.
pub fn pick_by_weight(lists: &[Vec<String>], max_per: usize) -> Vec<String> {
    let items: Vec<&Vec<String>> = lists.iter().filter(|l| !l.is_empty()).collect();
    let n = items.len();
    if n == 0 || max_per == 0 {
        return vec![];
    }
    let mut taken = vec![0usize; n];
    let mut out = Vec::new();
    let mut leftover = 0usize;
    for (i, l) in items.iter().enumerate() {
        let quota = if n == 1 {
            max_per
        } else {
            let q = max_per as f64 - (i as f64 / (n - 1) as f64) * (max_per as f64 - 1.0);
            q.round() as usize
        };
        let k = quota.min(l.len());
        out.extend(l[..k].iter().cloned());
        taken[i] = k;
        leftover += quota - k;
    }
    while leftover > 0 {
        let mut gave = false;
        for (i, l) in items.iter().enumerate() {
            if leftover == 0 {
                break;
            }
            if taken[i] < l.len() {
                out.push(l[taken[i]].clone());
                taken[i] += 1;
                leftover -= 1;
                gave = true;
                break;
            }
        }
        if !gave {
            break;
        }
    }
    out
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let (mut dot, mut na, mut nb) = (0f32, 0f32, 0f32);
    for (x, y) in a.iter().zip(b) {
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na.sqrt() * nb.sqrt())
    }
}

impl Rag {
    /// Picks chunk ids for items (entities or relations) given their `source_id`s.
    pub(crate) async fn pick_chunks(
        &self,
        sources: &[&str],
        taken: &HashSet<String>,
        query_vec: Option<&[f32]>,
    ) -> Result<Vec<String>> {
        let lists = candidate_lists(sources, taken);
        let per = self.cfg.query.related_chunk_number;
        if let (ChunkPickMethod::Vector, Some(q)) = (self.cfg.query.chunk_pick, query_vec) {
            let with_chunks = lists.iter().filter(|l| !l.is_empty()).count();
            let n = (per * with_chunks) / 2;
            let all: Vec<String> = lists.iter().flatten().cloned().collect();
            if n > 0 && !all.is_empty() {
                let vectors = self.stores.chunks_vdb.get_vectors(&all).await?;
                if vectors.len() == all.len() {
                    let mut scored: Vec<(f32, String)> = all
                        .into_iter()
                        .map(|id| (cosine(q, &vectors[&id]), id))
                        .collect();
                    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
                    return Ok(scored.into_iter().take(n).map(|(_, id)| id).collect());
                }
            }
        }
        Ok(pick_by_weight(&lists, per))
    }

    /// Loads chunk rows in the given order; missing ones are skipped.
    pub(crate) async fn load_chunks(&self, ids: &[String]) -> Result<Vec<ContextChunk>> {
        let rows = self.stores.kv.get_many(Namespace::TextChunks, ids).await?;
        Ok(ids
            .iter()
            .zip(rows)
            .filter_map(|(id, v)| {
                let c: Chunk = serde_json::from_value(v?).ok()?;
                Some(ContextChunk {
                    chunk_id: id.clone(),
                    content: c.content,
                    file_path: c.file_path,
                    tokens: c.tokens,
                })
            })
            .collect())
    }
}

/// Round-robin over [vector, entity, relation] chunks at each index, deduplicated by id.
pub fn merge_chunk_lists(lists: [&[ContextChunk]; 3]) -> Vec<ContextChunk> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let longest = lists.iter().map(|l| l.len()).max().unwrap_or(0);
    for i in 0..longest {
        for l in lists {
            if let Some(c) = l.get(i) {
                if seen.insert(c.chunk_id.clone()) {
                    out.push(c.clone());
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn candidates_drop_taken_and_sort_by_sharing() {
        let l = candidate_lists(&["c1<SEP>c2<SEP>c3", "c3<SEP>c4", "c2"], &HashSet::new());
        // c2 and c3 are listed by two items: they come first for item 0
        assert_eq!(l[0], ids(&["c2", "c3", "c1"]));
        assert_eq!(l[1], ids(&["c4"]));
        assert!(l[2].is_empty());
    }

    #[test]
    fn weight_polling_gives_a_linear_gradient() {
        let lists: Vec<Vec<String>> = (0..3)
            .map(|i| (0..10).map(|j| format!("i{i}c{j}")).collect())
            .collect();
        let picked = pick_by_weight(&lists, 5);
        // quotas 5, 3, 1
        assert_eq!(picked.len(), 9);
        assert_eq!(picked.iter().filter(|c| c.starts_with("i0")).count(), 5);
        assert_eq!(picked.iter().filter(|c| c.starts_with("i1")).count(), 3);
        let short = vec![ids(&["a"]), ids(&["b1", "b2", "b3", "b4", "b5", "b6"])];
        // quotas 5 and 1; item 0 has only 1 chunk, its 4 leftover go to the next with room
        let p = pick_by_weight(&short, 5);
        assert_eq!(p, ids(&["a", "b1", "b2", "b3", "b4", "b5"]));
    }
}
