//! Token counts of context pieces seen before. Queries count the same entity and relation rows
//! and the same rendered system prompt again and again (hub entities come back in most
//! questions); counting them with tiktoken was a quarter of a graph query's time. Counts are
//! exact: a piece is counted once, then looked up by its hash and length.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Mutex, PoisonError};

use crate::tokenizer::Tokenizer;

/// Pieces remembered before the memo starts over (about 3 MB).
const CAPACITY: usize = 100_000;

/// Remembered token counts, bounded; shared by concurrent queries.
#[derive(Debug, Default)]
pub struct TokenMemo {
    counts: Mutex<HashMap<(u64, usize), usize>>,
}

impl TokenMemo {
    /// `tok`, counting through this memo.
    pub fn counter<'a>(&'a self, tok: &'a dyn Tokenizer) -> MemoCounter<'a> {
        MemoCounter { memo: self, tok }
    }

    fn count(&self, tok: &dyn Tokenizer, text: &str) -> usize {
        let mut h = DefaultHasher::new();
        text.hash(&mut h);
        let key = (h.finish(), text.len());
        let lock = || self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = lock().get(&key) {
            return *n;
        }
        let n = tok.count(text);
        let mut counts = lock();
        if counts.len() >= CAPACITY {
            counts.clear();
        }
        counts.insert(key, n);
        n
    }
}

/// A tokenizer whose `count` goes through a `TokenMemo`.
pub struct MemoCounter<'a> {
    memo: &'a TokenMemo,
    tok: &'a dyn Tokenizer,
}

impl Tokenizer for MemoCounter<'_> {
    fn encode(&self, text: &str) -> Vec<u32> {
        self.tok.encode(text)
    }
    fn decode(&self, tokens: &[u32]) -> String {
        self.tok.decode(tokens)
    }
    fn count(&self, text: &str) -> usize {
        self.memo.count(self.tok, text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenizer::TiktokenTokenizer;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Counting(TiktokenTokenizer, AtomicUsize);

    impl Tokenizer for Counting {
        fn encode(&self, text: &str) -> Vec<u32> {
            self.1.fetch_add(1, Ordering::SeqCst);
            self.0.encode(text)
        }
        fn decode(&self, tokens: &[u32]) -> String {
            self.0.decode(tokens)
        }
    }

    #[test]
    fn counts_once_and_stays_exact() {
        let tok = Counting(TiktokenTokenizer::o200k(), AtomicUsize::new(0));
        let memo = TokenMemo::default();
        let c = memo.counter(&tok);
        let rows = [
            "{\"entity\": \"Acme\"}",
            "{\"entity\": \"Oslo\"}",
            "{\"entity\": \"Acme\"}",
        ];
        for r in rows {
            assert_eq!(c.count(r), tok.0.count(r));
        }
        assert_eq!(tok.1.load(Ordering::SeqCst), 2);
    }
}
