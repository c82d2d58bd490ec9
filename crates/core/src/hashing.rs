//! A deterministic bag-of-words embedder by feature hashing. It has no semantic knowledge; it
//! exists so that tests and pipeline benchmarks can run without the model files
//! (`EMBEDDING_BINDING=hashing`). The real default is the local MiniLM model.

use async_trait::async_trait;

use crate::error::Result;
use crate::ports::{EmbedPurpose, Embedder};

/// Hashes lowercase words (and word bigrams) into `dim` buckets, then L2-normalises.
pub struct HashingEmbedder {
    dim: usize,
    name: String,
}

impl HashingEmbedder {
    /// An embedder of `dim` dimensions.
    pub fn new(dim: usize) -> Self {
        HashingEmbedder {
            dim: dim.max(1),
            name: format!("hashing-bow-{dim}"),
        }
    }

    /// The vector of one text.
    pub fn embed_one(&self, text: &str) -> Vec<f32> {
        let mut v = vec![0f32; self.dim];
        let words: Vec<String> = crate::text::words(text)
            .iter()
            .map(|w| w.to_lowercase())
            .collect();
        let mut add = |s: &str, w: f32| {
            // FNV-1a: stable across runs and platforms.
            let mut h: u64 = 0xcbf29ce484222325;
            for b in s.as_bytes() {
                h ^= u64::from(*b);
                h = h.wrapping_mul(0x100000001b3);
            }
            let i = (h % self.dim as u64) as usize;
            let sign = if (h >> 63) == 0 { 1.0 } else { -1.0 };
            v[i] += sign * w;
        };
        for w in &words {
            add(w, 1.0);
        }
        for pair in words.windows(2) {
            add(&format!("{} {}", pair[0], pair[1]), 0.5);
        }
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            v.iter_mut().for_each(|x| *x /= norm);
        } else {
            v[0] = 1.0;
        }
        v
    }
}

#[async_trait]
impl Embedder for HashingEmbedder {
    fn model_name(&self) -> &str {
        &self.name
    }
    fn dim(&self) -> usize {
        self.dim
    }
    async fn embed(&self, texts: &[String], _purpose: EmbedPurpose) -> Result<Vec<Vec<f32>>> {
        Ok(texts.iter().map(|t| self.embed_one(t)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_vectors_and_similarity() {
        let e = HashingEmbedder::new(64);
        let a = e.embed_one("the red river flows north");
        let b = e.embed_one("the red river flows south");
        let c = e.embed_one("quarterly revenue grew strongly");
        let dot = |x: &[f32], y: &[f32]| x.iter().zip(y).map(|(p, q)| p * q).sum::<f32>();
        assert!((dot(&a, &a) - 1.0).abs() < 1e-5);
        assert!(dot(&a, &b) > dot(&a, &c));
        assert_eq!(e.embed_one(""), {
            let mut z = vec![0.0; 64];
            z[0] = 1.0;
            z
        });
    }
}
