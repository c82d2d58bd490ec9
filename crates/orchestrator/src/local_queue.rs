//! The in-process request queue: one priority heap per purpose (a batch goes to the model with
//! one purpose), best priority first, then arrival order.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

use lightrag_core::ports::EmbedPurpose;

use crate::request::{CacheKey, Priority};

/// A text waiting for its batch.
#[derive(Debug, Clone)]
pub struct Pending {
    pub key: CacheKey,
    pub text: String,
    pub purpose: EmbedPurpose,
    pub priority: Priority,
    pub seq: u64,
    pub enqueued: Instant,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        self.seq == other.seq
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    /// The max-heap's top is the best priority (lowest rank), then the oldest.
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .priority
            .cmp(&self.priority)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

/// Texts waiting in this process.
#[derive(Default)]
pub struct LocalQueue {
    documents: BinaryHeap<Pending>,
    queries: BinaryHeap<Pending>,
    seq: u64,
}

impl LocalQueue {
    fn heap(&mut self, p: EmbedPurpose) -> &mut BinaryHeap<Pending> {
        match p {
            EmbedPurpose::Document => &mut self.documents,
            EmbedPurpose::Query => &mut self.queries,
        }
    }

    /// Queues a text.
    pub fn push(&mut self, key: CacheKey, text: String, purpose: EmbedPurpose, priority: Priority) {
        self.seq += 1;
        let seq = self.seq;
        self.heap(purpose).push(Pending {
            key,
            text,
            purpose,
            priority,
            seq,
            enqueued: Instant::now(),
        });
    }

    pub fn len(&self) -> usize {
        self.documents.len() + self.queries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How long the longest-waiting text has waited.
    pub fn oldest_wait(&self) -> Option<Duration> {
        self.documents
            .iter()
            .chain(self.queries.iter())
            .map(|p| p.enqueued)
            .min()
            .map(|t| t.elapsed())
    }

    /// Up to `max` texts of one purpose: the purpose whose best waiting text comes first.
    pub fn pop_batch(&mut self, max: usize) -> Vec<Pending> {
        let purpose = match (self.documents.peek(), self.queries.peek()) {
            (None, None) => return Vec::new(),
            (Some(_), None) => EmbedPurpose::Document,
            (None, Some(_)) => EmbedPurpose::Query,
            (Some(d), Some(q)) => {
                if q >= d {
                    EmbedPurpose::Query
                } else {
                    EmbedPurpose::Document
                }
            }
        };
        let heap = self.heap(purpose);
        let mut out = Vec::with_capacity(max.min(heap.len()));
        while out.len() < max {
            match heap.pop() {
                Some(p) => out.push(p),
                None => break,
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn best_priority_first_then_arrival() {
        let mut q = LocalQueue::default();
        let k = |s: &str| CacheKey(s.into());
        q.push(k("a"), "a".into(), EmbedPurpose::Document, Priority::Low);
        q.push(k("b"), "b".into(), EmbedPurpose::Document, Priority::Normal);
        q.push(k("c"), "c".into(), EmbedPurpose::Document, Priority::Normal);
        q.push(k("d"), "d".into(), EmbedPurpose::Query, Priority::High);
        let first = q.pop_batch(10);
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].text, "d", "the query outranks the documents");
        let texts: Vec<String> = q.pop_batch(2).into_iter().map(|p| p.text).collect();
        assert_eq!(texts, ["b", "c"]);
        assert_eq!(q.pop_batch(2)[0].text, "a");
        assert!(q.is_empty());
    }
}
