//! Embedding through the [`Embedder`] port: texts are grouped into batches bounded by count and
//! by tokens, and an optional in-process cache (ENABLE_EMBEDDING_CACHE) answers repeated texts.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use crate::error::{Error, Result};
use crate::ports::{EmbedPurpose, Embedder};
use crate::tokenizer::Tokenizer;

/// A bounded first-in-first-out cache of embeddings keyed by purpose and text.
pub struct EmbeddingCache {
    capacity: usize,
    inner: Mutex<CacheInner>,
}

#[derive(Default)]
struct CacheInner {
    map: HashMap<(bool, String), Vec<f32>>,
    order: VecDeque<(bool, String)>,
    hits: u64,
    misses: u64,
}

impl EmbeddingCache {
    /// A cache holding at most `capacity` vectors.
    pub fn new(capacity: usize) -> Self {
        EmbeddingCache {
            capacity,
            inner: Mutex::new(CacheInner::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CacheInner> {
        // A poisoned lock only means another thread panicked mid-update of plain data.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn get(&self, purpose: EmbedPurpose, text: &str) -> Option<Vec<f32>> {
        let mut inner = self.lock();
        let key = (purpose == EmbedPurpose::Query, text.to_string());
        let hit = inner.map.get(&key).cloned();
        if hit.is_some() {
            inner.hits += 1;
        } else {
            inner.misses += 1;
        }
        hit
    }

    fn put(&self, purpose: EmbedPurpose, text: &str, v: &[f32]) {
        if self.capacity == 0 {
            return;
        }
        let mut inner = self.lock();
        let key = (purpose == EmbedPurpose::Query, text.to_string());
        if inner.map.insert(key.clone(), v.to_vec()).is_none() {
            inner.order.push_back(key);
        }
        while inner.map.len() > self.capacity {
            match inner.order.pop_front() {
                Some(old) => {
                    inner.map.remove(&old);
                }
                None => break,
            }
        }
    }

    /// (hits, misses) so far.
    pub fn stats(&self) -> (u64, u64) {
        let inner = self.lock();
        (inner.hits, inner.misses)
    }
}

/// Embeds many texts: cached ones are answered at once, the rest go to the model in batches of
/// at most `batch_num` texts and `max_tokens` tokens.
pub async fn embed_all(
    embedder: &dyn Embedder,
    tokenizer: &dyn Tokenizer,
    cache: Option<&EmbeddingCache>,
    texts: &[String],
    purpose: EmbedPurpose,
    batch_num: usize,
    max_tokens: usize,
) -> Result<Vec<Vec<f32>>> {
    let mut out: Vec<Option<Vec<f32>>> = texts
        .iter()
        .map(|t| cache.and_then(|c| c.get(purpose, t)))
        .collect();
    let missing: Vec<usize> = (0..texts.len()).filter(|i| out[*i].is_none()).collect();
    let mut batch: Vec<usize> = Vec::new();
    let mut batch_tokens = 0;
    let mut batches: Vec<Vec<usize>> = Vec::new();
    for i in missing {
        let n = tokenizer.count(&texts[i]);
        if !batch.is_empty() && (batch.len() >= batch_num || batch_tokens + n > max_tokens) {
            batches.push(std::mem::take(&mut batch));
            batch_tokens = 0;
        }
        batch.push(i);
        batch_tokens += n;
    }
    if !batch.is_empty() {
        batches.push(batch);
    }
    for b in batches {
        let inputs: Vec<String> = b.iter().map(|i| texts[*i].clone()).collect();
        let vectors = embedder.embed(&inputs, purpose).await?;
        if vectors.len() != inputs.len() {
            return Err(Error::Embedding(format!(
                "the embedder returned {} vectors for {} texts",
                vectors.len(),
                inputs.len()
            )));
        }
        for (i, v) in b.into_iter().zip(vectors) {
            if v.len() != embedder.dim() {
                return Err(Error::Embedding(format!(
                    "the embedder returned a vector of {} dimensions, expected {}",
                    v.len(),
                    embedder.dim()
                )));
            }
            if let Some(c) = cache {
                c.put(purpose, &texts[i], &v);
            }
            out[i] = Some(v);
        }
    }
    out.into_iter()
        .map(|v| v.ok_or_else(|| Error::Embedding("a text was left unembedded".into())))
        .collect()
}
