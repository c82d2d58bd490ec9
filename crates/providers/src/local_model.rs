//! The default in-process embedding model: all-MiniLM-L6-v2 (384 dimensions) run on the CPU
//! with candle.
//!
//! It lets lightrag-rs index and query without any model server. The vectors match those of
//! sentence-transformers (mean pooling over the attention mask, then L2 normalisation) for any
//! text that fits the 256-token window. Longer texts are not truncated, as the Python library
//! would do: their word pieces are split into windows, every window is embedded, and the window
//! vectors are averaged (weighted by length) and normalised again.
//! The model is loaded once and shared; forward passes run on Tokio's blocking pool.

use std::env;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use candle_core::{DType, Device, Tensor, D};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config as BertConfig};
use lightrag_core::ports::{EmbedPurpose, Embedder};
use lightrag_core::{Error, Result};
use tokenizers::Tokenizer;

/// The name recorded in vector indexes built with this model.
pub const MODEL_NAME: &str = "all-MiniLM-L6-v2";

/// The vector dimension of all-MiniLM-L6-v2.
const DIM: usize = 384;
/// sentence-transformers' `max_seq_length` for this model, [CLS] and [SEP] included.
const MAX_SEQ_LEN: usize = 256;
/// Word pieces of the text itself that fit in one window.
const WINDOW_CONTENT: usize = MAX_SEQ_LEN - 2;
/// Windows per forward pass unless `with_batch_size` says otherwise.
const DEFAULT_BATCH_SIZE: usize = 32;
/// Padded tokens per forward pass (8 full windows). The largest activation, the attention
/// scores (rows x 12 heads x width^2 floats), then stays near 25 MB: under glibc's 32 MB
/// ceiling for reusing freed blocks, so a pass does not map and zero fresh pages for its
/// buffers as a batch of 32 full windows (100 MB of scores) does. Smaller batches also let a
/// call of a few dozen texts run on every core.
const BATCH_TOKENS: usize = 8 * MAX_SEQ_LEN;
/// The files a model directory must hold.
const MODEL_FILES: [&str; 3] = ["config.json", "tokenizer.json", "model.safetensors"];

/// The loaded model and tokenizer, shared between clones and blocking tasks.
struct Model {
    bert: BertModel,
    tokenizer: Tokenizer,
    device: Device,
    cls_id: u32,
    sep_id: u32,
    pad_id: u32,
    /// Forward passes run side by side (one per core).
    workers: usize,
}

/// One model input: up to `WINDOW_CONTENT` word pieces of one text, framed by [CLS] and [SEP].
struct Window {
    text: usize,
    ids: Vec<u32>,
}

/// all-MiniLM-L6-v2 loaded in memory; cheap to clone (the weights are shared).
#[derive(Clone)]
pub struct LocalEmbedder {
    model: Arc<Model>,
    batch_size: usize,
}

impl std::fmt::Debug for LocalEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalEmbedder")
            .field("model", &MODEL_NAME)
            .field("batch_size", &self.batch_size)
            .finish()
    }
}

impl LocalEmbedder {
    /// `~/.cache/lightrag-rs/models/all-MiniLM-L6-v2` honouring $XDG_CACHE_HOME; $LIGHTRAG_MODEL_DIR overrides.
    pub fn default_model_dir() -> PathBuf {
        if let Some(dir) = non_empty_env("LIGHTRAG_MODEL_DIR") {
            return PathBuf::from(dir);
        }
        let cache = non_empty_env("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| non_empty_env("HOME").map(|home| PathBuf::from(home).join(".cache")))
            .unwrap_or_else(|| PathBuf::from(".cache"));
        cache.join("lightrag-rs").join("models").join(MODEL_NAME)
    }

    /// Loads config.json, tokenizer.json and model.safetensors from `dir`.
    pub fn load(dir: &Path) -> Result<Self> {
        if !dir.is_dir() {
            return Err(missing(&format!(
                "model directory {} does not exist",
                dir.display()
            )));
        }
        for file in MODEL_FILES {
            let path = dir.join(file);
            if !path.is_file() {
                return Err(missing(&format!(
                    "model file {} is missing",
                    path.display()
                )));
            }
        }

        let config_path = dir.join("config.json");
        let config_text = std::fs::read_to_string(&config_path)
            .map_err(|e| Error::Config(format!("cannot read {}: {e}", config_path.display())))?;
        let config: BertConfig = serde_json::from_str(&config_text)
            .map_err(|e| Error::Config(format!("invalid {}: {e}", config_path.display())))?;
        if config.hidden_size != DIM {
            return Err(Error::Config(format!(
                "{} describes a model with {} dimensions; {MODEL_NAME} has {DIM}",
                config_path.display(),
                config.hidden_size
            )));
        }
        if config.max_position_embeddings < MAX_SEQ_LEN {
            return Err(Error::Config(format!(
                "{} allows only {} positions; {MAX_SEQ_LEN} are needed",
                config_path.display(),
                config.max_position_embeddings
            )));
        }

        let tokenizer_path = dir.join("tokenizer.json");
        let mut tokenizer = Tokenizer::from_file(&tokenizer_path)
            .map_err(|e| Error::Config(format!("invalid {}: {e}", tokenizer_path.display())))?;
        // Windowing is done here, so the file's own truncation and fixed padding must not apply.
        tokenizer
            .with_truncation(None)
            .map_err(|e| Error::Config(format!("tokenizer setup failed: {e}")))?;
        tokenizer.with_padding(None);
        let token_id = |token: &str| {
            tokenizer.token_to_id(token).ok_or_else(|| {
                Error::Config(format!("{} has no {token} token", tokenizer_path.display()))
            })
        };
        let cls_id = token_id("[CLS]")?;
        let sep_id = token_id("[SEP]")?;
        let pad_id = token_id("[PAD]")?;

        let device = Device::Cpu;
        let weights_path = dir.join("model.safetensors");
        let tensors = candle_core::safetensors::load(&weights_path, &device)
            .map_err(|e| Error::Config(format!("cannot load {}: {e}", weights_path.display())))?;
        let vb = VarBuilder::from_tensors(tensors, DType::F32, &device);
        let bert = BertModel::load(vb, &config).map_err(|e| {
            Error::Config(format!(
                "{} does not hold a BERT model: {e}",
                weights_path.display()
            ))
        })?;

        Ok(Self {
            model: Arc::new(Model {
                bert,
                tokenizer,
                device,
                cls_id,
                sep_id,
                pad_id,
                workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
            }),
            batch_size: DEFAULT_BATCH_SIZE,
        })
    }

    /// The most windows per forward pass (default 32; fewer when they are long).
    pub fn with_batch_size(mut self, n: usize) -> Self {
        self.batch_size = n.max(1);
        self
    }
}

#[async_trait]
impl Embedder for LocalEmbedder {
    fn model_name(&self) -> &str {
        MODEL_NAME
    }

    fn dim(&self) -> usize {
        DIM
    }

    /// The model is symmetric: queries and documents are embedded alike.
    async fn embed(&self, texts: &[String], _purpose: EmbedPurpose) -> Result<Vec<Vec<f32>>> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let model = Arc::clone(&self.model);
        let batch_size = self.batch_size;
        let texts = texts.to_vec();
        tokio::task::spawn_blocking(move || model.embed_texts(&texts, batch_size))
            .await
            .map_err(|e| Error::Embedding(format!("embedding task failed: {e}")))?
    }
}

impl Model {
    /// Tokenises, windows, embeds in length-sorted batches and pools back to one vector per text.
    fn embed_texts(&self, texts: &[String], batch_size: usize) -> Result<Vec<Vec<f32>>> {
        let inputs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let encodings = self
            .tokenizer
            .encode_batch_fast(inputs, false)
            .map_err(|e| Error::Embedding(format!("tokenisation failed: {e}")))?;

        let mut windows = Vec::new();
        for (text, encoding) in encodings.iter().enumerate() {
            for piece in split_even(encoding.get_ids(), WINDOW_CONTENT) {
                let mut ids = Vec::with_capacity(piece.len() + 2);
                ids.push(self.cls_id);
                ids.extend_from_slice(piece);
                ids.push(self.sep_id);
                windows.push(Window { text, ids });
            }
        }

        // Longest first, so each batch holds windows of similar length and little padding.
        let mut order: Vec<usize> = (0..windows.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(windows[i].ids.len()));

        let batches = token_batches(&order, &windows, batch_size);
        let outputs = self.forward_all(&windows, &batches)?;

        let mut sums = vec![vec![0f32; DIM]; texts.len()];
        let mut weights = vec![0f32; texts.len()];
        for (batch, vectors) in batches.iter().zip(outputs) {
            let group: Vec<&Window> = batch.iter().map(|&i| &windows[i]).collect();
            for (window, vector) in group.iter().zip(vectors) {
                let weight = window.ids.len() as f32;
                weights[window.text] += weight;
                for (sum, value) in sums[window.text].iter_mut().zip(vector) {
                    *sum += weight * value;
                }
            }
        }

        Ok(sums
            .into_iter()
            .zip(weights)
            .map(|(mut sum, weight)| {
                if weight > 0.0 {
                    sum.iter_mut().for_each(|v| *v /= weight);
                }
                normalise(&mut sum);
                sum
            })
            .collect())
    }

    /// Runs the batches on up to `self.workers` threads, each taking the next batch in turn.
    /// One forward pass keeps only about 1.2 cores busy (much of BERT besides the matrix
    /// products is single-threaded), so independent batches side by side fill the machine.
    fn forward_all(&self, windows: &[Window], batches: &[&[usize]]) -> Result<Vec<Vec<Vec<f32>>>> {
        let next = std::sync::atomic::AtomicUsize::new(0);
        let slots: Vec<std::sync::Mutex<Option<Vec<Vec<f32>>>>> = batches
            .iter()
            .map(|_| std::sync::Mutex::new(None))
            .collect();
        let work = || -> Result<()> {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(batch) = batches.get(i) else {
                    return Ok(());
                };
                let group: Vec<&Window> = batch.iter().map(|&w| &windows[w]).collect();
                let vectors = self.forward(&group)?;
                if let Ok(mut slot) = slots[i].lock() {
                    *slot = Some(vectors);
                }
            }
        };
        let workers = self.workers.min(batches.len()).max(1);
        std::thread::scope(|scope| {
            let handles: Vec<_> = (1..workers).map(|_| scope.spawn(work)).collect();
            let mut result = work();
            for h in handles {
                let joined = h
                    .join()
                    .unwrap_or_else(|_| Err(Error::Embedding("embedding worker panicked".into())));
                result = result.and(joined);
            }
            result
        })?;
        slots
            .into_iter()
            .map(|slot| {
                slot.into_inner()
                    .ok()
                    .flatten()
                    .ok_or_else(|| Error::Embedding("an embedding batch produced no output".into()))
            })
            .collect()
    }

    /// One forward pass: mean-pooled, L2-normalised vectors for windows of token ids.
    fn forward(&self, windows: &[&Window]) -> Result<Vec<Vec<f32>>> {
        let rows = windows.len();
        let width = windows.iter().map(|w| w.ids.len()).max().unwrap_or(0);
        let mut ids = Vec::with_capacity(rows * width);
        let mut mask = Vec::with_capacity(rows * width);
        for window in windows {
            ids.extend_from_slice(&window.ids);
            mask.extend(std::iter::repeat_n(1f32, window.ids.len()));
            let pad = width - window.ids.len();
            ids.extend(std::iter::repeat_n(self.pad_id, pad));
            mask.extend(std::iter::repeat_n(0f32, pad));
        }

        let run = || -> candle_core::Result<Vec<Vec<f32>>> {
            let ids = Tensor::from_vec(ids, (rows, width), &self.device)?;
            let mask = Tensor::from_vec(mask, (rows, width), &self.device)?;
            let token_types = ids.zeros_like()?;
            let hidden = self.bert.forward(&ids, &token_types, Some(&mask))?;
            // Mean over the real tokens: zero the padding, sum over positions, divide by count.
            let mask3 = mask.unsqueeze(2)?;
            let summed = hidden.broadcast_mul(&mask3)?.sum(1)?;
            let counts = mask.sum_keepdim(1)?.clamp(1e-9f32, f32::MAX)?;
            let mean = summed.broadcast_div(&counts)?;
            let norms = mean
                .sqr()?
                .sum_keepdim(D::Minus1)?
                .sqrt()?
                .clamp(1e-12f32, f32::MAX)?;
            mean.broadcast_div(&norms)?.to_vec2::<f32>()
        };
        run().map_err(|e| Error::Embedding(format!("{MODEL_NAME} forward pass failed: {e}")))
    }
}

/// Cuts the longest-first `order` into batches of at most `max_rows` windows and
/// [`BATCH_TOKENS`] padded tokens (a batch is as wide as its first, longest window).
fn token_batches<'a>(order: &'a [usize], windows: &[Window], max_rows: usize) -> Vec<&'a [usize]> {
    let mut batches = Vec::new();
    let mut rest = order;
    while let Some(&first) = rest.first() {
        let width = windows[first].ids.len().max(1);
        let rows = (BATCH_TOKENS / width)
            .clamp(1, max_rows.max(1))
            .min(rest.len());
        let (batch, tail) = rest.split_at(rows);
        batches.push(batch);
        rest = tail;
    }
    batches
}

/// Splits `ids` into the fewest windows of at most `max` items, sized as evenly as possible
/// (no tiny tail window). An empty input yields one empty window.
fn split_even(ids: &[u32], max: usize) -> Vec<&[u32]> {
    if ids.len() <= max {
        return vec![ids];
    }
    let count = ids.len().div_ceil(max);
    let base = ids.len() / count;
    let extra = ids.len() % count;
    let mut out = Vec::with_capacity(count);
    let mut start = 0;
    for i in 0..count {
        let len = base + usize::from(i < extra);
        out.push(&ids[start..start + len]);
        start += len;
    }
    out
}

/// Scales `v` to unit length (a zero vector stays zero).
fn normalise(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

/// The value of an environment variable when set and not blank.
fn non_empty_env(name: &str) -> Option<String> {
    env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The error for a model that is not on disk, with the way to get it.
fn missing(what: &str) -> Error {
    Error::Config(format!(
        "{what}: the local embedding model {MODEL_NAME} is not installed; run \
         `scripts/fetch-model.sh` to download it (or set LIGHTRAG_MODEL_DIR / \
         LOCAL_EMBEDDING_MODEL_DIR to a directory holding config.json, tokenizer.json and \
         model.safetensors)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::OnceLock;

    /// The model, loaded once for all tests; a missing model fails the test with the load error.
    fn embedder() -> LocalEmbedder {
        static SHARED: OnceLock<std::result::Result<LocalEmbedder, String>> = OnceLock::new();
        match SHARED.get_or_init(|| {
            LocalEmbedder::load(&LocalEmbedder::default_model_dir()).map_err(|e| e.to_string())
        }) {
            Ok(embedder) => embedder.clone(),
            Err(message) => panic!("{message}"),
        }
    }

    fn cosine(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    fn norm(v: &[f32]) -> f32 {
        v.iter().map(|x| x * x).sum::<f32>().sqrt()
    }

    async fn embed(e: &LocalEmbedder, texts: &[&str]) -> Vec<Vec<f32>> {
        let texts: Vec<String> = texts.iter().map(|s| s.to_string()).collect();
        match e.embed(&texts, EmbedPurpose::Document).await {
            Ok(v) => v,
            Err(err) => panic!("embedding failed: {err}"),
        }
    }

    #[tokio::test]
    async fn matches_sentence_transformers_reference() {
        let e = embedder();
        assert_eq!(e.model_name(), MODEL_NAME);
        assert_eq!(e.dim(), 384);
        let v = embed(&e, &["This is an example sentence"]).await;
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].len(), 384);
        let expected = [0.067657f32, 0.063496, 0.048713, 0.079305, 0.037448];
        for (i, (got, want)) in v[0].iter().zip(expected).enumerate() {
            assert!((got - want).abs() < 1e-4, "dim {i}: got {got}, want {want}");
        }
        assert!((norm(&v[0]) - 1.0).abs() < 1e-5);
    }

    #[tokio::test]
    async fn similar_sentences_score_higher() {
        let e = embedder();
        let v = embed(
            &e,
            &[
                "The cat sits on the mat.",
                "A kitten is resting on a rug.",
                "Quarterly revenue grew by twelve percent.",
            ],
        )
        .await;
        let similar = cosine(&v[0], &v[1]);
        let unrelated = cosine(&v[0], &v[2]);
        assert!(
            similar > unrelated + 0.2,
            "similar {similar} vs unrelated {unrelated}"
        );
    }

    #[tokio::test]
    async fn batching_keeps_order_and_values() {
        let e = embedder();
        let texts = [
            "short",
            "a somewhat longer sentence about graphs and retrieval",
            "This is an example sentence",
            "",
            "knowledge graphs link entities with relations",
        ];
        let together = embed(&e.clone().with_batch_size(2), &texts).await;
        for (text, batched) in texts.iter().zip(&together) {
            let alone = embed(&e, &[text]).await;
            for (a, b) in alone[0].iter().zip(batched) {
                assert!((a - b).abs() < 1e-5, "{text:?}: padding changed the vector");
            }
        }
    }

    #[tokio::test]
    async fn empty_inputs() {
        let e = embedder();
        assert!(embed(&e, &[]).await.is_empty());
        let v = embed(&e, &["", "   "]).await;
        assert_eq!(v.len(), 2);
        for vector in &v {
            assert_eq!(vector.len(), 384);
            assert!(vector.iter().all(|x| x.is_finite()));
            assert!((norm(vector) - 1.0).abs() < 1e-5);
        }
    }

    #[tokio::test]
    async fn long_text_is_embedded_whole() {
        let e = embedder();
        let topics = [
            "The river flooded the valley after weeks of rain",
            "Engineers tuned the compiler to emit faster vector code",
            "The orchestra rehearsed a symphony by a forgotten composer",
            "Farmers rotated crops to keep the soil fertile",
            "Astronomers measured the light curve of a distant star",
        ];
        // Topics in blocks: the first window is all about rivers, the whole text is not.
        let text = (0..140)
            .map(|i| format!("{} (part {i}).", topics[i / 28]))
            .collect::<Vec<_>>()
            .join(" ");
        let ids = match e.model.tokenizer.encode_fast(text.as_str(), false) {
            Ok(enc) => enc.get_ids().to_vec(),
            Err(err) => panic!("tokenisation failed: {err}"),
        };
        assert!(ids.len() > 1800, "test text has only {} tokens", ids.len());

        let whole = embed(&e, &[text.as_str()]).await;
        assert!((norm(&whole[0]) - 1.0).abs() < 1e-5);

        let mut head = vec![e.model.cls_id];
        head.extend_from_slice(&ids[..WINDOW_CONTENT]);
        head.push(e.model.sep_id);
        let window = Window { text: 0, ids: head };
        let first = match e.model.forward(&[&window]) {
            Ok(v) => v,
            Err(err) => panic!("forward failed: {err}"),
        };
        let sim = cosine(&whole[0], &first[0]);
        assert!(
            sim < 0.99,
            "whole-text vector equals its first window (cosine {sim})"
        );
    }

    #[test]
    fn windows_are_even_and_bounded() {
        let ids: Vec<u32> = (0..600).collect();
        let parts = split_even(&ids, WINDOW_CONTENT);
        assert_eq!(parts.len(), 3);
        assert!(parts
            .iter()
            .all(|p| p.len() <= WINDOW_CONTENT && p.len() >= 199));
        assert_eq!(parts.concat(), ids);
        assert_eq!(split_even(&[], WINDOW_CONTENT), vec![&[] as &[u32]]);
    }

    #[test]
    fn batches_are_bounded_by_padded_tokens() {
        let lens = [256, 256, 200, 130, 128, 64, 64, 10];
        let mut windows: Vec<Window> = Vec::new();
        for (text, &n) in lens.iter().enumerate() {
            for _ in 0..10 {
                windows.push(Window {
                    text,
                    ids: vec![0; n],
                });
            }
        }
        let mut order: Vec<usize> = (0..windows.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(windows[i].ids.len()));
        let batches = token_batches(&order, &windows, 32);
        assert_eq!(batches.concat(), order, "every window once, in order");
        for b in &batches {
            let width = windows[b[0]].ids.len();
            assert!(b.len() <= 32);
            assert!(
                b.len() == 1 || b.len() * width <= BATCH_TOKENS,
                "{} x {width}",
                b.len()
            );
        }
        // A batch is as wide as its first window: 8 rows of 256, 10 of 200, 15 of 130...
        let sizes: Vec<usize> = batches.iter().map(|b| b.len()).collect();
        assert_eq!(sizes, [8, 8, 8, 10, 15, 16, 15]);
        let capped = token_batches(&order, &windows, 4);
        assert_eq!(capped.iter().map(|b| b.len()).max(), Some(4));
        assert!(token_batches(&[], &windows, 32).is_empty());
    }

    #[test]
    fn missing_directory_is_a_clear_config_error() {
        let dir = std::env::temp_dir().join("lightrag-rs-no-such-model-dir");
        match LocalEmbedder::load(&dir) {
            Err(Error::Config(message)) => {
                assert!(message.contains(&dir.display().to_string()), "{message}");
                assert!(message.contains("scripts/fetch-model.sh"), "{message}");
                assert!(message.contains("LIGHTRAG_MODEL_DIR"), "{message}");
            }
            Err(other) => panic!("expected a configuration error, got {other}"),
            Ok(_) => panic!("loading from {} should fail", dir.display()),
        }
    }

    #[test]
    fn missing_file_names_the_file() {
        let dir = match tempfile::tempdir() {
            Ok(d) => d,
            Err(err) => panic!("tempdir: {err}"),
        };
        if let Err(err) = std::fs::write(dir.path().join("config.json"), "{}") {
            panic!("write: {err}");
        }
        match LocalEmbedder::load(dir.path()) {
            Err(Error::Config(message)) => {
                assert!(message.contains("tokenizer.json"), "{message}");
                assert!(message.contains("scripts/fetch-model.sh"), "{message}");
            }
            Err(other) => panic!("expected a configuration error, got {other}"),
            Ok(_) => panic!("loading an incomplete directory should fail"),
        }
    }

    /// Throughput of ~130-token texts in batches of 32; run with `--ignored --nocapture`.
    #[tokio::test]
    #[ignore]
    async fn throughput() {
        let e = embedder();
        let sentence = "Graph-based retrieval links entities and relations extracted from \
                        documents so that answers can draw on connected context. ";
        let texts: Vec<String> = (0..256)
            .map(|i| format!("Document {i}. {}", sentence.repeat(6)))
            .collect();
        let tokens = e
            .model
            .tokenizer
            .encode_fast(texts[0].as_str(), true)
            .map(|enc| enc.get_ids().len())
            .unwrap_or(0);
        let _ = e.embed(&texts[..32], EmbedPurpose::Document).await;
        let start = std::time::Instant::now();
        let out = match e.embed(&texts, EmbedPurpose::Document).await {
            Ok(v) => v,
            Err(err) => panic!("embedding failed: {err}"),
        };
        let secs = start.elapsed().as_secs_f64();
        assert_eq!(out.len(), texts.len());
        println!(
            "{} texts of {tokens} tokens in {secs:.2}s: {:.1} texts/s",
            texts.len(),
            texts.len() as f64 / secs
        );
    }
}
