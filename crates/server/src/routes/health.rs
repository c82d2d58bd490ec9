//! `/health` for load balancers and probes, `/metrics` for Prometheus, `/` for humans.

use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use lightrag_core::ports::ChatRequest;
use lightrag_core::query::{QueryMode, QueryParam};
use serde_json::{json, Value};

use crate::auth;
use crate::error::ApiResult;
use crate::extract::workspace_name;
use crate::serve::{AppState, API_VERSION};
use crate::workspace::Workspace;

/// A server URL fit to show: without user and password (`https://user:key@host`) and without
/// a query string, where keys also travel (`?key=...`).
pub fn without_credentials(url: &str) -> String {
    let url = url.split(['?', '#']).next().unwrap_or("");
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    format!("{scheme}://{host}{path}")
}

/// `GET /`: the interactive API docs.
pub async fn root(State(state): State<AppState>) -> Response {
    if state.cfg.enable_api_docs {
        Redirect::temporary("/docs").into_response()
    } else {
        Json(
            json!({"status": "ok", "service": "lightrag-rs", "api_version": API_VERSION,
                    "message": "LightRAG-compatible API", "health_url": "/health"}),
        )
        .into_response()
    }
}

/// `GET /health`: always 200 while the process serves. Callers without credentials see the
/// status only; authenticated ones also see the configuration summary and the storage
/// counts (never a secret: keys and passwords are shown only as set or not).
#[utoipa::path(get, path = "/health", tag = "health", params(("deep" = Option<bool>, Query, description = "Also probe the models: one retrieval (embedder and stores) and, when configured, one LLM call")), responses((status = 200, description = "Status; configuration summary for authenticated callers")))]
pub async fn health(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HealthQuery>,
) -> ApiResult<Json<Value>> {
    let cfg = &state.cfg;
    let authenticated = auth::check(cfg, &headers).is_ok();
    let name = workspace_name(&headers, &cfg.default_workspace)?;
    // Anonymous callers see open workspaces only: a probe never creates a knowledge base.
    let ws = match state.workspaces.lookup(&name) {
        Some(ws) => Some(ws),
        None if authenticated => Some(state.workspaces.get(&name).await?),
        None => None,
    };
    let busy = ws.as_ref().is_some_and(|w| w.pipeline.busy());
    let mut m = json!({
        "status": "healthy",
        "auth_mode": if cfg.accounts.is_empty() { "disabled" } else { "enabled" },
        "core_version": env!("CARGO_PKG_VERSION"),
        "api_version": API_VERSION,
        "webui_available": false,
        "workspace_available": false,
        "api_docs_available": cfg.enable_api_docs,
        "webui_title": cfg.webui_title,
        "webui_description": cfg.webui_description,
        "ai_content_notice_enabled": false,
        "pipeline_busy": busy,
        "pipeline_active": busy,
    });
    let Some(ws) = ws.filter(|_| authenticated) else {
        return Ok(Json(m));
    };
    let rag = &ws.rag;
    let c = rag.config();
    let stores = rag.stores();
    // Reading the stores proves they answer; a database that does not is reported, and the
    // status is `degraded`.
    let read = async {
        let counts = stores.doc_status.counts().await?;
        let nodes = stores.graph.node_count().await?;
        let edges = stores.graph.edge_count().await?;
        let leases = stores.coordinator.leases().await?;
        Ok::<_, lightrag_core::Error>((counts, nodes, edges, leases))
    };
    let (storage, leases) = match read.await {
        Ok((counts, nodes, edges, leases)) => (
            json!({
                "reachable": true,
                "documents": counts.iter().map(|(s, n)| (s.as_str().to_string(), json!(n))).collect::<serde_json::Map<_,_>>(),
                "entities": nodes,
                "relations": edges,
            }),
            Some(leases),
        ),
        Err(e) => (json!({"reachable": false, "error": e.to_string()}), None),
    };
    let coordinator = &stores.coordinator;
    let me = coordinator.replica_id();
    let replica = json!({
        "id": me,
        "shared_storage": coordinator.shared(),
        "leases_held": leases.as_ref().map(|l| l.iter().filter(|l| l.owner == me).map(|l| json!({"doc_id": l.doc_id, "token": l.token, "expires_in_ms": l.expires_in_ms})).collect::<Vec<_>>()),
        "documents_in_flight_in_cluster": leases.as_ref().map(Vec::len),
    });
    let cluster_busy = busy || leases.as_ref().is_some_and(|l| !l.is_empty());
    let llm = c.llm.as_ref();
    let rerank = c.rerank.as_ref();
    let extra = json!({
        "working_directory": c.working_dir,
        "input_directory": cfg.input_dir,
        "server_mode": "tokio",
        "workers": 1,
        "pipeline_scanning": false,
        "pipeline_destructive_busy": false,
        "pipeline_pending_enqueues": 0,
        "uptime_seconds": state.started.elapsed().as_secs(),
        "workspace": ws.name,
        "open_workspaces": state.workspaces.all().len(),
        "storage": storage,
        "replica": replica,
        "pipeline_busy": cluster_busy,
        "pipeline_active": cluster_busy,
        "query_cache": {"enabled": ws.cache.enabled(), "entries": ws.cache.len()},
        "configuration": {
            "llm_binding": llm.map(|l| l.query.binding.as_str()).unwrap_or("none"),
            "llm_binding_host": without_credentials(llm.map(|l| l.query.host.as_str()).unwrap_or("")),
            "llm_model": llm.map(|l| l.query.model.as_str()).unwrap_or(""),
            "embedding_binding": c.embedding_binding,
            "embedding_binding_host": without_credentials(&c.embedding_host),
            "embedding_model": c.embedding_model,
            "summary_max_tokens": c.summary_max_tokens,
            "summary_context_size": c.summary_context_size,
            "enable_llm_cache_for_extract": c.enable_llm_cache_for_extract,
            "enable_llm_cache": llm.map(|l| l.enable_cache).unwrap_or(false),
            "workspace": cfg.default_workspace,
            "max_graph_nodes": cfg.max_graph_nodes,
            "enable_rerank": rag.reranker().is_some(),
            "rerank_binding": rerank.map_or("null", |r| r.binding.as_str()),
            "rerank_model": rag.reranker().map(|r| r.model().to_string()),
            "rerank_binding_host": rag.reranker().map(|r| without_credentials(r.host())),
            "rerank_max_async": rerank.map(|r| r.max_async),
            "rerank_timeout": rerank.map(|r| r.timeout_s),
            "min_rerank_score": c.query.min_rerank_score,
            "summary_language": c.language,
            "force_llm_summary_on_merge": c.force_llm_summary_on_merge,
            "max_parallel_insert": c.max_parallel_insert,
            "cosine_threshold": c.query.cosine_threshold,
            "related_chunk_number": c.query.related_chunk_number,
            "max_async": c.max_async,
            "llm_timeout": llm.map(|l| l.timeout_s),
            "embedding_batch_num": c.embedding_batch_num,
            "embedding_timeout": c.embedding_timeout_s,
            "auth": {
                "api_key_configured": cfg.api_key.is_some(),
                "accounts": cfg.accounts.len(),
            },
            "enable_query_cache": cfg.enable_query_cache,
            "query_cache_ttl": cfg.query_cache_ttl.as_secs_f64(),
        },
    });
    if let (Some(base), Some(extra)) = (m.as_object_mut(), extra.as_object()) {
        base.extend(extra.clone());
        if let Some(conf) = base.get_mut("configuration").and_then(Value::as_object_mut) {
            for (role, name) in ws.stores.names() {
                conf.insert(role.into(), json!(name));
            }
        }
        if let Some(extras) = &state.extras {
            base.extend(extras.health().await);
        }
        if base["storage"]["reachable"] == json!(false) {
            base.insert("status".into(), json!("degraded"));
        }
        if q.deep {
            let probes = probe_models(&ws).await;
            let failed = probes
                .values()
                .any(|p| p.get("reachable") == Some(&Value::Bool(false)));
            base.insert("models".into(), Value::Object(probes));
            if failed {
                base.insert("status".into(), json!("degraded"));
            }
        }
    }
    Ok(Json(m))
}

/// `/health` query parameters.
#[derive(Debug, Default, serde::Deserialize)]
pub struct HealthQuery {
    #[serde(default)]
    pub deep: bool,
}

/// Time allowed to each model probe.
const PROBE_TIMEOUT: Duration = Duration::from_secs(30);

/// Reachability of the models, measured: a naive context-only retrieval exercises the
/// embedder and the vector store; a one-line uncached completion exercises the LLM.
async fn probe_models(ws: &Workspace) -> serde_json::Map<String, Value> {
    let mut out = serde_json::Map::new();
    let rag = &ws.rag;
    let mut p = QueryParam::from_defaults(&rag.config().query);
    p.mode = QueryMode::Naive;
    p.only_need_context = true;
    p.chunk_top_k = 1;
    out.insert(
        "embedding".into(),
        probe(rag.query("health check probe", &p)).await,
    );
    let llm = match rag.query_model() {
        None => json!({"configured": false}),
        Some(llm) => {
            let req = ChatRequest {
                prompt: "Reply with the single word OK.".into(),
                ..Default::default()
            };
            probe(llm.complete(&req)).await
        }
    };
    out.insert("llm".into(), llm);
    let rerank = match rag.reranker() {
        None => json!({"configured": false}),
        Some(r) => {
            let docs = ["health check probe".to_string()];
            probe(r.rerank("health check probe", &docs, Some(1))).await
        }
    };
    out.insert("rerank".into(), rerank);
    out
}

/// Runs one probe within [`PROBE_TIMEOUT`]: whether it succeeded, how long it took, and why not.
async fn probe<T, E: std::fmt::Display>(
    work: impl std::future::Future<Output = Result<T, E>>,
) -> Value {
    let started = Instant::now();
    let outcome = match tokio::time::timeout(PROBE_TIMEOUT, work).await {
        Err(_) => Err("timed out".to_string()),
        Ok(r) => r.map(|_| ()).map_err(|e| e.to_string()),
    };
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    match outcome {
        Ok(()) => json!({"reachable": true, "latency_ms": ms}),
        Err(e) => json!({"reachable": false, "latency_ms": ms, "error": e}),
    }
}

/// `GET /metrics`: Prometheus text format.
#[utoipa::path(get, path = "/metrics", tag = "health", responses((status = 200, description = "Prometheus text format")))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    for ws in state.workspaces.all() {
        // Documents by status, read at scrape time: with shared storage every replica reports
        // the cluster's counts (alerts take the max). A store that does not answer leaves the
        // last values (its failure shows in /health).
        if let Ok(counts) = ws.rag.stores().doc_status.counts().await {
            for status in lightrag_core::types::DocStatus::ALL {
                metrics::gauge!(crate::metrics::DOCUMENTS, "workspace" => ws.name.clone(), "status" => status.as_str())
                    .set(counts.get(&status).copied().unwrap_or(0) as f64);
            }
        }
        if let Some((hits, misses)) = ws.rag.embedding_cache_stats() {
            metrics::counter!("lightrag_engine_embedding_cache_hits_total", "workspace" => ws.name.clone())
                .absolute(hits);
            metrics::counter!("lightrag_engine_embedding_cache_misses_total", "workspace" => ws.name.clone())
                .absolute(misses);
        }
    }
    let body = state
        .metrics
        .as_ref()
        .map(|h| crate::metrics::with_help(&h.render()))
        .unwrap_or_default();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// `GET /ui/customization`: the WebUI branding bundle LightRAG serves; none here.
pub async fn ui_customization(State(state): State<AppState>) -> Json<Value> {
    Json(json!({"customized": false,
                "brand": {"title": state.cfg.webui_title, "description": state.cfg.webui_description}}))
}

#[cfg(test)]
mod tests {
    use super::without_credentials;

    #[test]
    fn urls_lose_their_credentials() {
        assert_eq!(
            without_credentials("https://user:s3cret@llm.example:8443/v1?key=abc"),
            "https://llm.example:8443/v1"
        );
        assert_eq!(
            without_credentials("http://localhost:11434"),
            "http://localhost:11434"
        );
        assert_eq!(without_credentials(""), "");
        assert_eq!(without_credentials("http://a@b@host/x"), "http://host/x");
    }
}
