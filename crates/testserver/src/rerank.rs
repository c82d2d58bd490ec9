//! The rerank APIs LightRAG calls: Cohere v2 `/v2/rerank`, Jina `/v1/rerank` and DashScope's
//! text-rerank route, each checked for its own request shape (400 otherwise) and, when the
//! server has a rerank key, for `Authorization: Bearer <key>` (401 otherwise).
//!
//! Scores come from a deterministic lexical scorer, [`lexical_scores`]: BM25 over the
//! candidates of the request, scaled to 0..1. It is no neural model, but it orders texts by
//! how well they cover the query's rarer words, which is enough to test reordering, top_n and
//! score thresholds, and to measure what a lexical second opinion does to vector retrieval.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State as Extract;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::script::RuleKind;
use crate::{accept, failure, play, State};

/// DashScope's text-rerank route.
pub(crate) const ALIYUN_PATH: &str = "/api/v1/services/rerank/text-rerank/text-rerank";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Api {
    Cohere,
    Jina,
    Aliyun,
}

impl Api {
    fn route(self) -> &'static str {
        match self {
            Api::Cohere => "/v2/rerank",
            Api::Jina => "/v1/rerank",
            Api::Aliyun => ALIYUN_PATH,
        }
    }

    fn error(self) -> crate::ErrorShape {
        match self {
            Api::Cohere => cohere_error,
            Api::Jina => jina_error,
            Api::Aliyun => aliyun_error,
        }
    }
}

fn cohere_error(status: u16, message: &str, retry_after: Option<u64>) -> Response {
    failure(status, json!({"message": message}), retry_after)
}

fn jina_error(status: u16, message: &str, retry_after: Option<u64>) -> Response {
    failure(status, json!({"detail": message}), retry_after)
}

fn aliyun_error(status: u16, message: &str, retry_after: Option<u64>) -> Response {
    let code = match status {
        400 => "InvalidParameter",
        401 => "InvalidApiKey",
        429 => "Throttling",
        _ => "InternalError",
    };
    let body = json!({"code": code, "message": message, "request_id": "test-request"});
    failure(status, body, retry_after)
}

pub(crate) async fn cohere(
    Extract(s): Extract<State>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(&s, Api::Cohere, &headers, &body).await
}

pub(crate) async fn jina(Extract(s): Extract<State>, headers: HeaderMap, body: Bytes) -> Response {
    handle(&s, Api::Jina, &headers, &body).await
}

pub(crate) async fn aliyun(
    Extract(s): Extract<State>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(&s, Api::Aliyun, &headers, &body).await
}

/// A rerank request, whatever its API.
struct Ask {
    query: String,
    documents: Vec<String>,
    top_n: Option<usize>,
    return_documents: bool,
}

async fn handle(s: &State, api: Api, headers: &HeaderMap, body: &Bytes) -> Response {
    let error = api.error();
    if let Some(key) = &s.cfg.rerank_api_key {
        let sent = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        if sent != Some(format!("Bearer {key}").as_str()) {
            return error(401, "invalid api token", None);
        }
    }
    let accepted = match accept(
        s,
        api.route(),
        RuleKind::Rerank,
        headers,
        body,
        "model is required",
        error,
    ) {
        Ok(a) => a,
        Err(resp) => return *resp,
    };
    let ask = match parse(api, &accepted.req) {
        Ok(a) => a,
        Err(msg) => return error(400, &msg, None),
    };
    let mut texts: Vec<&str> = vec![ask.query.as_str()];
    texts.extend(ask.documents.iter().map(String::as_str));
    let (plan, reply) = match play(
        s,
        RuleKind::Rerank,
        &texts,
        &ask.query,
        Duration::ZERO,
        error,
    )
    .await
    {
        Ok(p) => p,
        Err(resp) => return *resp,
    };
    if plan.scripted_reply {
        return ([(header::CONTENT_TYPE, "application/json")], reply).into_response();
    }
    let scores = lexical_scores(&ask.query, &ask.documents);
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    order.truncate(ask.top_n.unwrap_or(order.len()));
    let results: Vec<Value> = order
        .iter()
        .map(|&i| {
            let mut r = json!({"index": i, "relevance_score": scores[i]});
            if ask.return_documents {
                r["document"] = json!({"text": ask.documents[i]});
            }
            r
        })
        .collect();
    let tokens: usize = texts.iter().map(|t| t.split_whitespace().count()).sum();
    let reply = match api {
        Api::Cohere => json!({
            "id": "test-rerank",
            "results": results,
            "meta": {"api_version": {"version": "2"}, "billed_units": {"search_units": 1}},
        }),
        Api::Jina => json!({
            "model": accepted.model,
            "usage": {"total_tokens": tokens},
            "results": results,
        }),
        Api::Aliyun => json!({
            "output": {"results": results},
            "usage": {"total_tokens": tokens},
            "request_id": "test-request",
        }),
    };
    axum::Json(reply).into_response()
}

/// Checks the request against its API's shape.
fn parse(api: Api, req: &Value) -> Result<Ask, String> {
    let Some(obj) = req.as_object() else {
        return Err("the body must be a JSON object".into());
    };
    let allowed: &[&str] = match api {
        Api::Cohere => &["model", "query", "documents", "top_n", "max_tokens_per_doc"],
        Api::Jina => &["model", "query", "documents", "top_n", "return_documents"],
        Api::Aliyun => &["model", "input", "parameters"],
    };
    if let Some(k) = obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(format!("unknown field '{k}'"));
    }
    let (fields, params) = match api {
        Api::Aliyun => {
            let input = obj.get("input").ok_or("input is required")?;
            let params = match obj.get("parameters") {
                None => &Value::Null,
                Some(p) if p.is_object() => p,
                Some(_) => return Err("parameters must be an object".into()),
            };
            (input, params)
        }
        _ => (req, req),
    };
    let query = fields
        .get("query")
        .and_then(Value::as_str)
        .filter(|q| !q.trim().is_empty())
        .ok_or("query must be a non-empty string")?
        .to_string();
    let documents: Vec<String> = fields
        .get("documents")
        .and_then(Value::as_array)
        .ok_or("documents must be a list")?
        .iter()
        .map(|d| d.as_str().map(str::to_string))
        .collect::<Option<_>>()
        .ok_or("documents must be strings")?;
    if documents.is_empty() {
        return Err("documents must not be empty".into());
    }
    let top_n = match params.get("top_n") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_u64()
                .filter(|n| *n > 0)
                .ok_or("top_n must be a positive integer")? as usize,
        ),
    };
    let return_documents = match params.get("return_documents") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err("return_documents must be a boolean".into()),
    };
    Ok(Ask {
        query,
        documents,
        top_n,
        return_documents,
    })
}

/// Words that say nothing about what a text is about.
const STOPWORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "does", "for", "from", "how",
    "if", "in", "is", "it", "its", "may", "must", "of", "on", "or", "that", "the", "this", "to",
    "was", "what", "when", "where", "which", "who", "why", "will", "with", "you", "your",
];

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        .filter(|w| w.chars().count() >= 2 && !STOPWORDS.contains(&w.as_str()))
        .collect()
}

/// BM25 (k1 1.2, b 0.75) of each document for the query's distinct words, with document
/// frequencies taken over these documents, divided by the score a document matching every
/// word at saturation would get: 0 (no word shared) to below 1.
pub fn lexical_scores(query: &str, documents: &[String]) -> Vec<f32> {
    const K1: f64 = 1.2;
    const B: f64 = 0.75;
    let q: Vec<String> = {
        let mut seen = HashSet::new();
        words(query)
            .into_iter()
            .filter(|w| seen.insert(w.clone()))
            .collect()
    };
    let docs: Vec<HashMap<String, usize>> = documents
        .iter()
        .map(|d| {
            let mut tf = HashMap::new();
            for w in words(d) {
                *tf.entry(w).or_insert(0) += 1;
            }
            tf
        })
        .collect();
    let lens: Vec<f64> = docs
        .iter()
        .map(|tf| tf.values().sum::<usize>() as f64)
        .collect();
    let n = docs.len() as f64;
    let avg = (lens.iter().sum::<f64>() / n.max(1.0)).max(1.0);
    let idf: Vec<f64> = q
        .iter()
        .map(|w| {
            let df = docs.iter().filter(|tf| tf.contains_key(w)).count() as f64;
            ((n - df + 0.5) / (df + 0.5) + 1.0).ln()
        })
        .collect();
    let best: f64 = idf.iter().map(|i| i * (K1 + 1.0)).sum();
    docs.iter()
        .zip(&lens)
        .map(|(tf, len)| {
            if best <= 0.0 {
                return 0.0;
            }
            let s: f64 = q
                .iter()
                .zip(&idf)
                .map(|(w, i)| {
                    let f = tf.get(w).copied().unwrap_or(0) as f64;
                    i * f * (K1 + 1.0) / (f + K1 * (1.0 - B + B * len / avg))
                })
                .sum();
            (s / best) as f32
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_sharing_rare_words_score_higher() {
        let docs = vec![
            "The ferry crosses the lake twice a day.".to_string(),
            "Herons nest by the lake in spring.".to_string(),
            "Nothing relevant here at all.".to_string(),
        ];
        let s = lexical_scores("When do herons nest?", &docs);
        assert!(s[1] > s[0] && s[0] >= s[2], "{s:?}");
        assert_eq!(s[2], 0.0);
        assert!(s.iter().all(|x| (0.0..1.0).contains(x)));
        assert_eq!(lexical_scores("the of", &docs), vec![0.0; 3]);
    }

    #[test]
    fn shapes_are_checked() {
        let ok = json!({"model": "m", "query": "q", "documents": ["a"], "top_n": 1});
        assert!(parse(Api::Cohere, &ok).is_ok());
        let mut extra = ok.clone();
        extra["return_documents"] = json!(false);
        assert!(
            parse(Api::Cohere, &extra).is_err(),
            "v2 has no return_documents"
        );
        assert!(parse(Api::Jina, &extra).is_ok());
        assert!(parse(Api::Aliyun, &ok).is_err());
        let ali = json!({"model": "m", "input": {"query": "q", "documents": ["a", "b"]},
                         "parameters": {"top_n": 1, "return_documents": true}});
        let a = parse(Api::Aliyun, &ali).unwrap();
        assert_eq!(
            (a.top_n, a.return_documents, a.documents.len()),
            (Some(1), true, 2)
        );
        let bad = json!({"model": "m", "query": "q", "documents": [{"text": "a"}]});
        assert!(parse(Api::Jina, &bad).is_err());
        let zero = json!({"model": "m", "query": "q", "documents": ["a"], "top_n": 0});
        assert!(parse(Api::Jina, &zero).is_err());
    }
}
