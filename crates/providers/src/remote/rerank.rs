//! Rerank APIs, as LightRAG's `cohere`, `jina` and `aliyun` bindings call them: one POST to the
//! configured endpoint URL with the query and the candidate texts, a Bearer key, and a list of
//! `{index, relevance_score}` back. Cohere v2 and Jina take `{model, query, documents, top_n}`
//! (Jina also `return_documents: false`) and answer `{results: [...]}`; DashScope nests them as
//! `{model, input: {query, documents}, parameters: {top_n, return_documents}}` and answers
//! `{output: {results: [...]}}`.
//!
//! Requests go through the shared HTTP layer (timeouts, retries after 429/5xx/timeouts, errors
//! that never show the key) and a per-adapter limit of requests in flight (MAX_ASYNC_RERANK).
//! With RERANK_ENABLE_CHUNKING (Cohere only, as in LightRAG) long documents are cut into
//! overlapping token windows, every window is scored, and a document gets its best window's
//! score.

use std::sync::Arc;

use async_trait::async_trait;
use lightrag_core::config::{Config, RerankConfig};
use lightrag_core::error::{Error, Result};
use lightrag_core::ports::{RerankError, RerankHit, Reranker};
use lightrag_core::tokenizer::{TiktokenTokenizer, Tokenizer};
use serde_json::{json, Value};

use super::http::{Endpoint, Failure, Kind};
use super::retry::RetryPolicy;
use super::settings::Timeouts;

/// Cohere's rerank endpoint (API v2).
pub const COHERE_DEFAULT_HOST: &str = "https://api.cohere.com/v2/rerank";
/// Jina AI's rerank endpoint.
pub const JINA_DEFAULT_HOST: &str = "https://api.jina.ai/v1/rerank";
/// Alibaba Cloud DashScope's text-rerank endpoint.
pub const ALIYUN_DEFAULT_HOST: &str =
    "https://dashscope.aliyuncs.com/api/v1/services/rerank/text-rerank/text-rerank";

/// Tokens shared by consecutive windows of a long document (LightRAG's default).
const WINDOW_OVERLAP_TOKENS: usize = 32;

/// A rerank API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RerankBinding {
    /// Cohere v2 `/rerank` and the proxies that speak it (LiteLLM, ...).
    Cohere,
    Jina,
    /// Alibaba Cloud DashScope text-rerank.
    Aliyun,
}

impl RerankBinding {
    /// Parses LightRAG's RERANK_BINDING value (`null` is no binding: not parsed here).
    pub fn parse(name: &str) -> Result<RerankBinding> {
        match name.trim().to_ascii_lowercase().as_str() {
            "cohere" => Ok(RerankBinding::Cohere),
            "jina" => Ok(RerankBinding::Jina),
            "aliyun" => Ok(RerankBinding::Aliyun),
            other => Err(Error::Config(format!(
                "rerank binding '{other}' is not supported: use cohere, jina or aliyun"
            ))),
        }
    }

    /// LightRAG's name of the binding.
    pub fn as_str(self) -> &'static str {
        match self {
            RerankBinding::Cohere => "cohere",
            RerankBinding::Jina => "jina",
            RerankBinding::Aliyun => "aliyun",
        }
    }

    /// The endpoint used when RERANK_BINDING_HOST is empty.
    pub fn default_host(self) -> &'static str {
        match self {
            RerankBinding::Cohere => COHERE_DEFAULT_HOST,
            RerankBinding::Jina => JINA_DEFAULT_HOST,
            RerankBinding::Aliyun => ALIYUN_DEFAULT_HOST,
        }
    }

    /// The model used when RERANK_MODEL is empty.
    pub fn default_model(self) -> &'static str {
        match self {
            RerankBinding::Cohere => "rerank-v3.5",
            RerankBinding::Jina => "jina-reranker-v2-base-multilingual",
            RerankBinding::Aliyun => "gte-rerank-v2",
        }
    }

    /// The request body.
    fn body(self, model: &str, query: &str, documents: &[String], top_n: Option<usize>) -> Value {
        match self {
            RerankBinding::Aliyun => {
                let mut parameters = json!({"return_documents": false});
                if let Some(n) = top_n {
                    parameters["top_n"] = json!(n);
                }
                json!({
                    "model": model,
                    "input": {"query": query, "documents": documents},
                    "parameters": parameters,
                })
            }
            RerankBinding::Cohere | RerankBinding::Jina => {
                let mut body = json!({"model": model, "query": query, "documents": documents});
                if let Some(n) = top_n {
                    body["top_n"] = json!(n);
                }
                // Cohere's v2 API refuses the field; Jina's would echo every text back.
                if self == RerankBinding::Jina {
                    body["return_documents"] = json!(false);
                }
                body
            }
        }
    }

    /// The list of results in a reply, or why there is none.
    fn results(self, reply: &Value) -> std::result::Result<&Vec<Value>, String> {
        let (found, path) = match self {
            RerankBinding::Aliyun => (reply.pointer("/output/results"), "output.results"),
            RerankBinding::Cohere | RerankBinding::Jina => (reply.get("results"), "results"),
        };
        found.and_then(Value::as_array).ok_or_else(|| {
            let shown = reply.to_string();
            let shown: String = shown.chars().take(200).collect();
            format!("the reply has no {path} list: {shown}")
        })
    }
}

/// Settings of a rerank adapter.
#[derive(Debug, Clone)]
pub struct RerankSettings {
    /// The full endpoint URL; empty = the binding's default.
    pub host: String,
    /// Empty = the binding's default model.
    pub model: String,
    /// Sent as `Authorization: Bearer ...`; never logged or shown in errors.
    pub api_key: Option<String>,
    pub timeouts: Timeouts,
    pub retry: RetryPolicy,
    /// Requests in flight at once.
    pub max_async: usize,
    /// Score long documents window by window (Cohere only).
    pub enable_chunking: bool,
    /// Window size of `enable_chunking`, in tokens.
    pub max_tokens_per_doc: usize,
}

impl RerankSettings {
    /// LightRAG's defaults: 30 s per request, three attempts, the binding's host and model.
    pub fn new() -> RerankSettings {
        RerankSettings {
            host: String::new(),
            model: String::new(),
            api_key: None,
            timeouts: Timeouts::rerank(30.0),
            retry: RetryPolicy {
                max_retries: 2,
                ..RetryPolicy::default()
            },
            max_async: 4,
            enable_chunking: false,
            max_tokens_per_doc: 4096,
        }
    }

    /// From the configuration's RERANK_* settings.
    pub fn from_config(cfg: &RerankConfig) -> RerankSettings {
        RerankSettings {
            host: cfg.host.clone(),
            model: cfg.model.clone(),
            api_key: (!cfg.api_key.is_empty()).then(|| cfg.api_key.clone()),
            timeouts: Timeouts::rerank(cfg.timeout_s),
            max_async: cfg.max_async,
            enable_chunking: cfg.enable_chunking,
            max_tokens_per_doc: cfg.max_tokens_per_doc,
            ..RerankSettings::new()
        }
    }
}

impl Default for RerankSettings {
    fn default() -> Self {
        RerankSettings::new()
    }
}

/// A reranker behind a Cohere, Jina or DashScope rerank API.
pub struct RemoteReranker {
    ep: Endpoint,
    binding: RerankBinding,
    model: String,
    host: String,
    slots: tokio::sync::Semaphore,
    /// Cuts long documents into windows; `None` when chunking is off.
    windows: Option<(Arc<dyn Tokenizer>, usize)>,
}

impl RemoteReranker {
    /// An adapter for `settings` on `binding` (no request is made yet).
    pub fn new(binding: RerankBinding, settings: RerankSettings) -> Result<RemoteReranker> {
        let host = match settings.host.trim() {
            "" => binding.default_host(),
            given => given,
        };
        let model = match settings.model.trim() {
            "" => binding.default_model().to_string(),
            given => given.to_string(),
        };
        let ep = Endpoint::at(
            binding.as_str(),
            Kind::Rerank,
            host,
            &model,
            settings.api_key.clone(),
            settings.timeouts.clone(),
            settings.retry.clone(),
        )?;
        let windows = (settings.enable_chunking && binding == RerankBinding::Cohere).then(|| {
            let tok: Arc<dyn Tokenizer> = Arc::new(TiktokenTokenizer::o200k());
            (tok, settings.max_tokens_per_doc.max(1))
        });
        Ok(RemoteReranker {
            ep,
            binding,
            model,
            host: host.to_string(),
            slots: tokio::sync::Semaphore::new(settings.max_async.max(1)),
            windows,
        })
    }

    fn error(&self, f: Failure) -> RerankError {
        RerankError {
            message: f.message,
            retryable: f.retryable,
        }
    }
}

#[async_trait]
impl Reranker for RemoteReranker {
    fn binding(&self) -> &str {
        self.binding.as_str()
    }

    fn model(&self) -> &str {
        &self.model
    }

    fn host(&self) -> &str {
        &self.host
    }

    async fn rerank(
        &self,
        query: &str,
        documents: &[String],
        top_n: Option<usize>,
    ) -> std::result::Result<Vec<RerankHit>, RerankError> {
        if documents.is_empty() {
            return Ok(vec![]);
        }
        // With windows every window is scored (no top_n), then documents are ranked.
        let (texts, owners, api_top_n) = match &self.windows {
            Some((tok, max)) => {
                let (texts, owners) = windows(tok.as_ref(), documents, *max);
                (texts, Some(owners), None)
            }
            None => (documents.to_vec(), None, top_n),
        };
        let body = self.binding.body(&self.model, query, &texts, api_top_n);
        let reply = {
            let _slot = self.slots.acquire().await.map_err(|e| RerankError {
                message: format!("rerank slots closed: {e}"),
                retryable: false,
            })?;
            self.ep
                .try_post_json("rerank", "", &body)
                .await
                .map_err(|f| self.error(f))?
        };
        let results = self.binding.results(&reply).map_err(|d| RerankError {
            message: self.ep.describe("rerank", &d),
            retryable: false,
        })?;
        let mut hits = parse_hits(results, texts.len());
        if hits.len() < results.len() {
            tracing::warn!(
                binding = self.binding.as_str(),
                "discarded {} malformed rerank result(s)",
                results.len() - hits.len()
            );
        }
        if let Some(owners) = owners {
            hits = best_window_per_document(&hits, &owners, documents.len());
        }
        hits.sort_by(|a, b| b.relevance_score.total_cmp(&a.relevance_score));
        if let Some(n) = top_n {
            hits.truncate(n);
        }
        Ok(hits)
    }
}

/// The valid `{index, relevance_score}` entries: an integer index below `count`, seen once, and
/// a finite numeric score.
fn parse_hits(results: &[Value], count: usize) -> Vec<RerankHit> {
    let mut seen = vec![false; count];
    results
        .iter()
        .filter_map(|r| {
            let index = r.get("index")?.as_u64()? as usize;
            let score = r.get("relevance_score")?.as_f64()?;
            if index >= count || !score.is_finite() || std::mem::replace(&mut seen[index], true) {
                return None;
            }
            Some(RerankHit {
                index,
                relevance_score: score as f32,
            })
        })
        .collect()
}

/// Documents cut into windows of `max` tokens overlapping by [`WINDOW_OVERLAP_TOKENS`] (at
/// most half a window); returns the texts and, for each, the document it came from.
pub fn windows(tok: &dyn Tokenizer, documents: &[String], max: usize) -> (Vec<String>, Vec<usize>) {
    let max = max.max(1);
    let overlap = if WINDOW_OVERLAP_TOKENS >= max {
        max / 2
    } else {
        WINDOW_OVERLAP_TOKENS
    };
    let mut texts = Vec::new();
    let mut owners = Vec::new();
    for (i, doc) in documents.iter().enumerate() {
        let ids = tok.encode(doc);
        if ids.len() <= max {
            texts.push(doc.clone());
            owners.push(i);
            continue;
        }
        let mut start = 0;
        loop {
            let end = (start + max).min(ids.len());
            texts.push(tok.decode(&ids[start..end]));
            owners.push(i);
            if end == ids.len() {
                break;
            }
            start = end - overlap;
        }
    }
    (texts, owners)
}

/// One hit per document: the best score among its windows.
fn best_window_per_document(hits: &[RerankHit], owners: &[usize], docs: usize) -> Vec<RerankHit> {
    let mut best: Vec<Option<f32>> = vec![None; docs];
    for h in hits {
        let Some(&doc) = owners.get(h.index) else {
            continue;
        };
        let slot = &mut best[doc];
        if slot.is_none_or(|s| h.relevance_score > s) {
            *slot = Some(h.relevance_score);
        }
    }
    best.into_iter()
        .enumerate()
        .filter_map(|(index, s)| {
            s.map(|relevance_score| RerankHit {
                index,
                relevance_score,
            })
        })
        .collect()
}

/// The reranker of RERANK_BINDING, or `None` when it is `null`.
pub fn reranker(cfg: &Config) -> Result<Option<Arc<dyn Reranker>>> {
    let Some(r) = &cfg.rerank else {
        return Ok(None);
    };
    let binding = RerankBinding::parse(&r.binding)?;
    let adapter = RemoteReranker::new(binding, RerankSettings::from_config(r))?;
    Ok(Some(Arc::new(adapter)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_have_each_apis_shape() {
        let docs = vec!["a".to_string(), "b".to_string()];
        let c = RerankBinding::Cohere.body("m", "q", &docs, Some(1));
        assert_eq!(
            c,
            json!({"model": "m", "query": "q", "documents": ["a", "b"], "top_n": 1})
        );
        let j = RerankBinding::Jina.body("m", "q", &docs, None);
        assert_eq!(
            j,
            json!({"model": "m", "query": "q", "documents": ["a", "b"], "return_documents": false})
        );
        let a = RerankBinding::Aliyun.body("m", "q", &docs, Some(2));
        assert_eq!(
            a,
            json!({"model": "m", "input": {"query": "q", "documents": ["a", "b"]},
                   "parameters": {"top_n": 2, "return_documents": false}})
        );
    }

    #[test]
    fn malformed_results_are_skipped() {
        let results: Vec<Value> = serde_json::from_value(json!([
            {"index": 1, "relevance_score": 0.5},
            {"index": 1, "relevance_score": 0.9},
            {"index": 7, "relevance_score": 0.9},
            {"index": -1, "relevance_score": 0.9},
            {"index": 0.5, "relevance_score": 0.9},
            {"index": 0, "relevance_score": "high"},
            {"index": true, "relevance_score": 1.0},
            "junk",
            {"index": 0, "relevance_score": 0.25},
        ]))
        .unwrap();
        let hits = parse_hits(&results, 2);
        let pairs: Vec<(usize, f32)> = hits.iter().map(|h| (h.index, h.relevance_score)).collect();
        assert_eq!(pairs, [(1, 0.5), (0, 0.25)]);
    }

    #[test]
    fn long_documents_become_overlapping_windows() {
        let tok = TiktokenTokenizer::o200k();
        let long = (0..300)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        let docs = vec!["short text".to_string(), long.clone()];
        let (texts, owners) = windows(&tok, &docs, 100);
        assert_eq!(texts[0], "short text");
        assert!(texts.len() > 3, "{}", texts.len());
        assert!(owners[1..].iter().all(|&o| o == 1));
        assert!(texts[1..].iter().all(|t| tok.count(t) <= 100));
        assert!(long.starts_with(texts[1].as_str()));
        // A window no larger than the overlap still advances.
        let (t, _) = windows(&tok, &docs[1..], 8);
        assert!(t.len() < 2 * tok.count(&long));
    }

    #[test]
    fn a_document_scores_its_best_window() {
        let hits = [
            RerankHit {
                index: 0,
                relevance_score: 0.2,
            },
            RerankHit {
                index: 2,
                relevance_score: 0.9,
            },
            RerankHit {
                index: 1,
                relevance_score: 0.4,
            },
        ];
        let owners = [0, 1, 1];
        let per_doc = best_window_per_document(&hits, &owners, 3);
        let pairs: Vec<(usize, f32)> = per_doc
            .iter()
            .map(|h| (h.index, h.relevance_score))
            .collect();
        assert_eq!(pairs, [(0, 0.2), (1, 0.9)]);
    }
}
