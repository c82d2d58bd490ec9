//! Reranking of retrieved chunks, between merging and the token budget (where LightRAG's
//! `process_chunks_unified` does it): the reranker orders the merged candidates and keeps at
//! most `chunk_top_k` of them, chunks scoring under MIN_RERANK_SCORE leave, and the budget is
//! then filled in the new order. A reranker that fails, or answers nothing usable, leaves the
//! retrieval order: reranking can improve a query but never break it.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;

use super::chunks::ContextChunk;
use super::QueryParam;
use crate::engine::Rag;
use crate::ports::RerankHit;

/// Chunks after reranking, with the score of each chunk the reranker scored (by chunk id).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reranked {
    pub chunks: Vec<ContextChunk>,
    pub scores: HashMap<String, f32>,
}

impl Reranked {
    /// Chunks in their retrieval order, unscored.
    pub fn unscored(chunks: Vec<ContextChunk>) -> Reranked {
        Reranked {
            chunks,
            scores: HashMap::new(),
        }
    }

    /// The rerank score of a chunk, when it has one.
    pub fn score(&self, chunk_id: &str) -> Option<f32> {
        self.scores.get(chunk_id).copied()
    }
}

/// The chunks the hits name, best first (a stable sort by score, so equal scores keep the
/// reranker's order). Hits with an index out of range, a repeated index or a non-finite score
/// are dropped; `None` when no hit is usable.
pub fn order_by_hits(chunks: &[ContextChunk], hits: &[RerankHit]) -> Option<Reranked> {
    let mut seen = HashSet::new();
    let mut valid: Vec<RerankHit> = hits
        .iter()
        .filter(|h| h.index < chunks.len() && h.relevance_score.is_finite())
        .filter(|h| seen.insert(h.index))
        .copied()
        .collect();
    if valid.len() < hits.len() {
        tracing::warn!(
            "discarded {} malformed rerank result(s)",
            hits.len() - valid.len()
        );
    }
    if valid.is_empty() {
        return None;
    }
    valid.sort_by(|a, b| b.relevance_score.total_cmp(&a.relevance_score));
    let mut out = Reranked::default();
    for h in valid {
        let c = &chunks[h.index];
        out.scores.insert(c.chunk_id.clone(), h.relevance_score);
        out.chunks.push(c.clone());
    }
    Some(out)
}

/// Drops scored chunks below `min` (unscored chunks stay); `min <= 0` keeps everything.
pub fn drop_below(r: &mut Reranked, min: f32) {
    if min <= 0.0 {
        return;
    }
    let before = r.chunks.len();
    let scores = &r.scores;
    r.chunks
        .retain(|c| scores.get(&c.chunk_id).is_none_or(|s| *s >= min));
    if r.chunks.len() < before {
        tracing::info!(
            "rerank filtering: {} of {before} chunks scored at least {min}",
            r.chunks.len()
        );
    }
}

impl Rag {
    /// Reranks the merged chunks of a query when it asks for it and a reranker is configured.
    pub(crate) async fn rerank_chunks(
        &self,
        query: &str,
        chunks: Vec<ContextChunk>,
        param: &QueryParam,
    ) -> Reranked {
        if !param.enable_rerank || chunks.is_empty() {
            return Reranked::unscored(chunks);
        }
        let Some(reranker) = &self.reranker else {
            if !self.rerank_missing_warned.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    "a query asked for reranking but no reranker is configured (set RERANK_BINDING, or send enable_rerank=false); chunks keep their retrieval order"
                );
            }
            return Reranked::unscored(chunks);
        };
        let top_n = if param.chunk_top_k > 0 {
            param.chunk_top_k
        } else {
            chunks.len()
        };
        let texts: Vec<String> = chunks.iter().map(|c| c.content.clone()).collect();
        let started = std::time::Instant::now();
        let hits = match reranker.rerank(query, &texts, Some(top_n)).await {
            Ok(hits) => hits,
            Err(e) => {
                tracing::warn!(
                    binding = reranker.binding(),
                    model = reranker.model(),
                    retryable = e.is_retryable(),
                    "{e}; chunks keep their retrieval order"
                );
                return Reranked::unscored(chunks);
            }
        };
        let Some(mut reranked) = order_by_hits(&chunks, &hits) else {
            tracing::warn!(
                "the reranker returned no usable result; chunks keep their retrieval order"
            );
            return Reranked::unscored(chunks);
        };
        tracing::info!(
            "reranked {} of {} chunks in {:?}",
            reranked.chunks.len(),
            chunks.len(),
            started.elapsed()
        );
        drop_below(&mut reranked, self.cfg.query.min_rerank_score);
        reranked
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(n: usize) -> Vec<ContextChunk> {
        (0..n)
            .map(|i| ContextChunk {
                chunk_id: format!("c{i}"),
                content: format!("text {i}"),
                file_path: "f.txt".into(),
                tokens: 2,
            })
            .collect()
    }

    fn hit(index: usize, relevance_score: f32) -> RerankHit {
        RerankHit {
            index,
            relevance_score,
        }
    }

    fn ids(r: &Reranked) -> Vec<&str> {
        r.chunks.iter().map(|c| c.chunk_id.as_str()).collect()
    }

    #[test]
    fn hits_reorder_and_score_the_chunks() {
        let r = order_by_hits(&chunks(4), &[hit(2, 0.9), hit(0, 0.5), hit(3, 0.7)]).unwrap();
        assert_eq!(
            ids(&r),
            ["c2", "c3", "c0"],
            "best first, unnamed ones left out"
        );
        assert_eq!(r.score("c3"), Some(0.7));
        assert_eq!(r.score("c1"), None);
    }

    #[test]
    fn malformed_hits_are_dropped() {
        let hs = [hit(9, 1.0), hit(1, f32::NAN), hit(0, 0.2), hit(0, 0.8)];
        let r = order_by_hits(&chunks(2), &hs).unwrap();
        assert_eq!(ids(&r), ["c0"]);
        assert_eq!(
            r.score("c0"),
            Some(0.2),
            "the first hit for an index counts"
        );
        assert!(order_by_hits(&chunks(2), &[hit(5, 1.0)]).is_none());
        assert!(order_by_hits(&chunks(2), &[]).is_none());
    }

    #[test]
    fn low_scores_leave_unscored_stay() {
        let mut r = order_by_hits(&chunks(3), &[hit(0, 0.9), hit(1, 0.1)]).unwrap();
        r.chunks.push(chunks(3)[2].clone());
        drop_below(&mut r, 0.0);
        assert_eq!(r.chunks.len(), 3);
        drop_below(&mut r, 0.5);
        assert_eq!(ids(&r), ["c0", "c2"]);
    }
}
