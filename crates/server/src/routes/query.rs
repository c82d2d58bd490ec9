//! `/query`, `/query/stream`, `/query/data`: LightRAG's request fields and response shapes, with
//! the query result cache in front of the engine.

use std::sync::Arc;
use std::time::Instant;

use crate::query_cache::QueryCache;
use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use futures::StreamExt;
use lightrag_core::ports::ChatMessage;
use lightrag_core::query::{QueryMode, QueryParam, QueryResult};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Ws};
use crate::metrics::observe_query;
use crate::serve::AppState;
use crate::workspace::Workspace;

/// LightRAG's `QueryRequest`; unset fields take the server's defaults.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct QueryRequest {
    pub query: String,
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "mix")]
    pub mode: Option<QueryMode>,
    #[serde(default)]
    pub only_need_context: Option<bool>,
    #[serde(default)]
    pub only_need_prompt: Option<bool>,
    #[serde(default)]
    pub response_type: Option<String>,
    #[serde(default)]
    pub top_k: Option<usize>,
    #[serde(default)]
    pub chunk_top_k: Option<usize>,
    #[serde(default)]
    pub max_entity_tokens: Option<usize>,
    #[serde(default)]
    pub max_relation_tokens: Option<usize>,
    #[serde(default)]
    pub max_total_tokens: Option<usize>,
    #[serde(default)]
    pub hl_keywords: Vec<String>,
    #[serde(default)]
    pub ll_keywords: Vec<String>,
    #[serde(default)]
    #[schema(value_type = Option<Vec<Object>>)]
    pub conversation_history: Option<Vec<ChatMessage>>,
    #[serde(default)]
    pub user_prompt: Option<String>,
    #[serde(default)]
    pub enable_rerank: Option<bool>,
    #[serde(default = "yes")]
    pub include_references: bool,
    #[serde(default)]
    pub include_chunk_content: bool,
    /// `/query/stream` only: `{"progress": step}` lines first and `{"response_time"}` last.
    #[serde(default, skip_serializing)]
    pub include_progress: bool,
    #[serde(default)]
    #[serde(skip_serializing)]
    pub stream: Option<bool>,
}

fn yes() -> bool {
    true
}

impl QueryRequest {
    /// Checks LightRAG's bounds and builds the engine's parameters.
    pub fn to_param(&self, ws: &Workspace) -> ApiResult<QueryParam> {
        let q = self.query.trim();
        if q.is_empty() {
            return Err(ApiError::Unprocessable("query must not be empty".into()));
        }
        for (name, v) in [("top_k", self.top_k), ("chunk_top_k", self.chunk_top_k)] {
            if v.is_some_and(|k| !(1..=1000).contains(&k)) {
                return Err(ApiError::Unprocessable(format!(
                    "{name} must be between 1 and 1000"
                )));
            }
        }
        for (name, v) in [
            ("max_entity_tokens", self.max_entity_tokens),
            ("max_relation_tokens", self.max_relation_tokens),
            ("max_total_tokens", self.max_total_tokens),
        ] {
            if v.is_some_and(|k| !(1..=1_000_000).contains(&k)) {
                return Err(ApiError::Unprocessable(format!(
                    "{name} must be between 1 and 1000000"
                )));
            }
        }
        if let Some(h) = &self.conversation_history {
            if h.iter().any(|m| m.role.trim().is_empty()) {
                return Err(ApiError::Unprocessable(
                    "every conversation_history message needs a role".into(),
                ));
            }
        }
        let mut p = QueryParam::from_defaults(&ws.rag.config().query);
        if let Some(m) = self.mode {
            p.mode = m;
        }
        p.only_need_context = self.only_need_context.unwrap_or(false);
        p.only_need_prompt = self.only_need_prompt.unwrap_or(false);
        if let Some(r) = self.response_type.as_ref().filter(|r| !r.trim().is_empty()) {
            p.response_type = r.clone();
        }
        if let Some(k) = self.top_k {
            p.top_k = k;
        }
        if let Some(k) = self.chunk_top_k {
            p.chunk_top_k = k;
        }
        if let Some(k) = self.max_entity_tokens {
            p.max_entity_tokens = k;
        }
        if let Some(k) = self.max_relation_tokens {
            p.max_relation_tokens = k;
        }
        if let Some(k) = self.max_total_tokens {
            p.max_total_tokens = k;
        }
        p.hl_keywords = self.hl_keywords.clone();
        p.ll_keywords = self.ll_keywords.clone();
        p.conversation_history = self.conversation_history.clone().unwrap_or_default();
        p.user_prompt = self.user_prompt.clone();
        p.include_references = self.include_references;
        if let Some(r) = self.enable_rerank {
            p.enable_rerank = r;
        }
        // LightRAG's input ceilings, before any work (the engine checks them again).
        lightrag_core::query::limits::check_query(q, &p).map_err(ApiError::from_query)?;
        Ok(p)
    }

    /// The cache key: every field that changes the answer (not how it is delivered).
    fn cache_key(&self, route: &str) -> String {
        let mut v = self.clone();
        v.query = v.query.trim().to_string();
        format!("{route}\n{}", serde_json::to_string(&v).unwrap_or_default())
    }
}

/// `references` in LightRAG's shape, with the chunk texts when asked for.
fn references(r: &QueryResult, with_content: bool) -> Value {
    let refs: Vec<Value> = r
        .data
        .references
        .iter()
        .map(|rf| {
            let mut o = json!({"reference_id": rf.reference_id, "file_path": rf.file_path});
            if with_content {
                let content: Vec<Value> = r
                    .data
                    .chunks
                    .iter()
                    .filter(|c| {
                        c.get("reference_id").and_then(Value::as_str)
                            == Some(rf.reference_id.as_str())
                    })
                    .filter_map(|c| c.get("content").cloned())
                    .collect();
                o["content"] = json!(content);
            }
            o
        })
        .collect();
    json!(refs)
}

/// The cached form of an answer: what `/query` returns minus the timing.
fn answer_json(req: &QueryRequest, r: &QueryResult) -> Value {
    let response = if r.answer.is_empty() {
        "No relevant context found for the query.".to_string()
    } else {
        r.answer.clone()
    };
    json!({
        "response": response,
        "references": if req.include_references { references(r, req.include_chunk_content) } else { Value::Null },
        "llm_generated": r.llm_generated,
    })
}

/// Whether the query cache may serve and store this query. Its entries are dropped first if
/// the knowledge base changed in any process sharing the stores (the shared generation
/// moved); when the generation cannot be read the cache is not used, so a replica never
/// serves an answer it cannot show to be current.
async fn cache_usable(ws: &crate::workspace::Workspace) -> bool {
    if !ws.cache.enabled() {
        return false;
    }
    match ws.rag.generation().await {
        Ok(g) => {
            ws.cache.observe(g);
            true
        }
        Err(e) => {
            tracing::debug!("query cache skipped: {e}");
            false
        }
    }
}

fn mode_name(req: &QueryRequest) -> &'static str {
    req.mode.unwrap_or(QueryMode::Mix).as_str()
}

/// `POST /query`.
#[utoipa::path(post, path = "/query", tag = "query", request_body = QueryRequest, responses((status = 200, description = "The answer with its references")))]
pub async fn query(Ws(ws): Ws, ApiJson(req): ApiJson<QueryRequest>) -> ApiResult<Json<Value>> {
    let started = Instant::now();
    let key = req.cache_key("answer");
    let cached = cache_usable(&ws).await;
    if let Some(hit) = ws.cache.get(&key).filter(|_| cached) {
        observe_query(started, mode_name(&req), true);
        let mut v = (*hit).clone();
        v["response_time"] = json!(started.elapsed().as_secs_f64());
        return Ok(Json(v));
    }
    let param = req.to_param(&ws)?;
    let generation = ws.cache.generation();
    let r = ws
        .rag
        .query(&req.query, &param)
        .await
        .map_err(ApiError::from_query)?;
    let mut v = answer_json(&req, &r);
    if cached {
        ws.cache.put(key, generation, v.clone());
    }
    observe_query(started, mode_name(&req), false);
    v["response_time"] = json!(started.elapsed().as_secs_f64());
    Ok(Json(v))
}

fn ndjson(lines: impl futures::Stream<Item = Value> + Send + 'static) -> Response {
    let body = lines.map(|v| {
        let mut s = v.to_string();
        s.push('\n');
        Ok::<_, std::convert::Infallible>(s)
    });
    (
        [
            (header::CONTENT_TYPE, "application/x-ndjson"),
            (header::CACHE_CONTROL, "no-cache"),
            (header::HeaderName::from_static("x-accel-buffering"), "no"),
        ],
        Body::from_stream(body),
    )
        .into_response()
}

/// `POST /query/stream`: NDJSON, references first, then the answer in pieces; an answer that
/// is complete at once (cached, context only, no LLM) is one line.
#[utoipa::path(post, path = "/query/stream", tag = "query", request_body = QueryRequest, responses((status = 200, description = "NDJSON: references, then answer pieces")))]
pub async fn query_stream(Ws(ws): Ws, ApiJson(req): ApiJson<QueryRequest>) -> ApiResult<Response> {
    let started = Instant::now();
    let key = req.cache_key("answer");
    let progress = req.include_progress;
    let cached = cache_usable(&ws).await;
    if let Some(hit) = ws.cache.get(&key).filter(|_| cached) {
        observe_query(started, mode_name(&req), true);
        let mut v = (*hit).clone();
        if !req.include_references {
            if let Some(o) = v.as_object_mut() {
                o.remove("references");
            }
        }
        let mut lines = vec![v];
        if progress {
            lines.push(json!({"response_time": started.elapsed().as_secs_f64()}));
        }
        return Ok(ndjson(futures::stream::iter(lines)));
    }
    let mut param = req.to_param(&ws)?;
    param.stream = req.stream.unwrap_or(true);
    let generation = if cached {
        ws.cache.generation()
    } else {
        QueryCache::NEVER
    };
    if !progress {
        let out = ws
            .rag
            .query_stream(&req.query, &param)
            .await
            .map_err(ApiError::from_query)?;
        return Ok(ndjson(answer_lines(ws, req, out, key, generation, started)));
    }
    // With progress lines the response starts at once; a failure becomes an `error` line.
    let (tx, rx) = tokio::sync::mpsc::channel::<Value>(16);
    tokio::spawn(async move {
        let _ = tx.send(json!({"progress": "extracting_keywords"})).await;
        match ws.rag.query_stream(&req.query, &param).await {
            Err(e) => {
                let _ = tx.send(json!({"error": e.to_string()})).await;
            }
            Ok(out) => {
                if out.stream.is_some() {
                    let _ = tx.send(json!({"progress": "generating_response"})).await;
                }
                let mut lines = answer_lines(ws, req, out, key, generation, started);
                while let Some(line) = lines.next().await {
                    if tx.send(line).await.is_err() {
                        return;
                    }
                }
            }
        }
        let _ = tx
            .send(json!({"response_time": started.elapsed().as_secs_f64()}))
            .await;
    });
    Ok(ndjson(receiver_stream(rx)))
}

fn receiver_stream(
    rx: tokio::sync::mpsc::Receiver<Value>,
) -> impl futures::Stream<Item = Value> + Send + 'static {
    futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|v| (v, rx)) })
}

/// The NDJSON lines of an answer: one line when it is complete at once, else references
/// first and then the pieces; a streamed answer is cached whole once it has arrived.
fn answer_lines(
    ws: Arc<Workspace>,
    req: QueryRequest,
    out: lightrag_core::query::QueryOutput,
    key: String,
    generation: u64,
    started: Instant,
) -> futures::stream::BoxStream<'static, Value> {
    let whole = answer_json(&req, &out.result);
    let mode = mode_name(&req);
    let Some(mut stream) = out.stream else {
        ws.cache.put(key, generation, whole.clone());
        observe_query(started, mode, false);
        let mut v = whole;
        if !req.include_references {
            if let Some(o) = v.as_object_mut() {
                o.remove("references");
            }
        }
        return futures::stream::once(async move { v }).boxed();
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<Value>(16);
    tokio::spawn(async move {
        if req.include_references
            && tx
                .send(json!({"references": whole["references"]}))
                .await
                .is_err()
        {
            return;
        }
        let mut text = String::new();
        let mut failed = false;
        while let Some(piece) = stream.next().await {
            match piece {
                Ok(p) if p.is_empty() => {}
                Ok(p) => {
                    text.push_str(&p);
                    if tx.send(json!({"response": p})).await.is_err() {
                        return;
                    }
                }
                Err(e) => {
                    failed = true;
                    let _ = tx.send(json!({"error": e.to_string()})).await;
                    break;
                }
            }
        }
        observe_query(started, mode, false);
        if !failed {
            // The whole answer, so the next identical question is served from the cache.
            let mut v = whole;
            v["response"] = json!(text);
            ws.cache.put(key, generation, v);
        }
    });
    receiver_stream(rx).boxed()
}

/// LightRAG's `/query/data` failure shape.
fn data_failure(message: &str, mode: &str) -> Value {
    json!({"status": "failure", "message": message, "data": {},
           "metadata": {"failure_reason": "no_results", "mode": mode}})
}

/// `POST /query/data`: what retrieval found, without an answer. Validation problems are a 400
/// in LightRAG's failure shape, as its server does for this route.
#[utoipa::path(post, path = "/query/data", tag = "query", request_body = QueryRequest, responses((status = 200, description = "Retrieved entities, relations, chunks and references")))]
pub async fn query_data(Ws(ws): Ws, body: Result<ApiJson<QueryRequest>, ApiError>) -> Response {
    let req = match body {
        Ok(ApiJson(r)) => r,
        Err(e) => return data_validation_error(e),
    };
    match query_data_inner(&ws, &req).await {
        Ok(v) => Json(v).into_response(),
        Err(e @ (ApiError::Unprocessable(_) | ApiError::BadRequest(_))) => data_validation_error(e),
        Err(e) => e.into_response(),
    }
}

fn data_validation_error(e: ApiError) -> Response {
    if !matches!(e, ApiError::Unprocessable(_) | ApiError::BadRequest(_)) {
        return e.into_response();
    }
    let body = json!({"status": "failure", "message": format!("Validation error: {e}"), "data": {}, "metadata": {}});
    (axum::http::StatusCode::BAD_REQUEST, Json(body)).into_response()
}

async fn query_data_inner(ws: &Workspace, req: &QueryRequest) -> ApiResult<Value> {
    let started = Instant::now();
    let mode = mode_name(req);
    let key = req.cache_key("data");
    let cached = cache_usable(ws).await;
    if let Some(hit) = ws.cache.get(&key).filter(|_| cached) {
        observe_query(started, mode, true);
        return Ok((*hit).clone());
    }
    let mut param = req.to_param(ws)?;
    if param.mode == QueryMode::Bypass {
        return Ok(
            json!({"status": "success", "message": "Query processed successfully",
            "data": {"entities": [], "relationships": [], "chunks": [], "references": []},
            "metadata": {"query_mode": "bypass", "keywords": {"high_level": [], "low_level": []}}}),
        );
    }
    // Retrieval only: the context is built, no answer is written.
    param.only_need_context = true;
    param.only_need_prompt = false;
    let generation = ws.cache.generation();
    let r = ws
        .rag
        .query(&req.query, &param)
        .await
        .map_err(ApiError::from_query)?;
    let v = if r.status != "success" {
        data_failure("Query returned no results", mode)
    } else {
        let d = &r.data;
        let info = if param.mode == QueryMode::Naive {
            json!({"total_chunks_found": d.chunks.len(), "final_chunks_count": d.chunks.len()})
        } else {
            json!({
                "total_entities_found": d.entities.len(),
                "total_relations_found": d.relationships.len(),
                "entities_after_truncation": d.entities.len(),
                "relations_after_truncation": d.relationships.len(),
                "merged_chunks_count": d.chunks.len(),
                "final_chunks_count": d.chunks.len(),
            })
        };
        json!({
            "status": "success",
            "message": "Query processed successfully",
            "data": {"entities": d.entities, "relationships": d.relationships,
                     "chunks": d.chunks, "references": d.references},
            "metadata": {"query_mode": mode, "keywords": r.keywords, "processing_info": info},
        })
    };
    if cached {
        ws.cache.put(key, generation, v.clone());
    }
    observe_query(started, mode, false);
    Ok(v)
}

/// The query routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/query", post(query))
        .route("/query/stream", post(query_stream))
        .route("/query/data", post(query_data))
}
