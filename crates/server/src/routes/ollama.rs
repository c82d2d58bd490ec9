//! `/api/*`: enough of Ollama's API for chat front ends (Open WebUI, the ollama client
//! libraries) to use lightrag-rs as a model. `/api/chat` answers through RAG, with LightRAG's
//! mode prefixes in the message (`/mix `, `/local `, `/context`, `/[extra instructions] ...`);
//! `/api/generate` and `/bypass ` go straight to the answer model.

use std::time::Instant;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::stream::BoxStream;
use futures::StreamExt;
use lightrag_core::ports::{ChatMessage, ChatRequest};
use lightrag_core::query::{limits, QueryMode, QueryParam};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, Ws};
use crate::metrics::observe_query;
use crate::serve::AppState;
use crate::workspace::Workspace;

const MODEL_SIZE: u64 = 7_365_960_935;
const CREATED: &str = "2024-01-15T00:00:00Z";

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

#[utoipa::path(get, path = "/api/version", tag = "ollama", responses((status = 200, description = "Ollama version emulated")))]
pub async fn version() -> Json<Value> {
    Json(json!({"version": "0.9.3"}))
}

#[utoipa::path(get, path = "/api/tags", tag = "ollama", responses((status = 200, description = "The emulated model")))]
pub async fn tags(State(state): State<AppState>) -> Json<Value> {
    let name = &state.cfg.ollama_model;
    let family = name.split(':').next().unwrap_or(name);
    Json(json!({"models": [{
        "name": name, "model": name, "modified_at": CREATED, "size": MODEL_SIZE,
        "digest": format!("sha256:{family}"),
        "details": {"parent_model": "", "format": "gguf", "family": family, "families": [family],
                    "parameter_size": "13B", "quantization_level": "Q4_0"}
    }]}))
}

#[utoipa::path(get, path = "/api/ps", tag = "ollama", responses((status = 200, description = "The emulated model, loaded")))]
pub async fn ps(State(state): State<AppState>) -> Json<Value> {
    let name = &state.cfg.ollama_model;
    let family = name.split(':').next().unwrap_or(name);
    Json(json!({"models": [{
        "name": name, "model": name, "size": MODEL_SIZE, "digest": format!("sha256:{family}"),
        "details": {"parent_model": "", "format": "gguf", "family": "llama", "families": ["llama"],
                    "parameter_size": "7.2B", "quantization_level": "Q4_0"},
        "expires_at": "2050-12-31T14:38:31.83753-07:00", "size_vram": MODEL_SIZE
    }]}))
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct Message {
    pub role: String,
    pub content: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ChatBody {
    #[serde(default)]
    pub model: Option<String>,
    pub messages: Vec<Message>,
    #[serde(default = "yes")]
    pub stream: bool,
    #[serde(default)]
    pub system: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct GenerateBody {
    #[serde(default)]
    pub model: Option<String>,
    pub prompt: String,
    #[serde(default)]
    pub system: Option<String>,
    #[serde(default)]
    pub stream: bool,
}

/// A chat message's query with its LightRAG prefix read off.
#[derive(Debug, PartialEq)]
pub struct Prefixed {
    pub mode: QueryMode,
    pub only_context: bool,
    pub user_prompt: Option<String>,
    pub query: String,
}

/// Reads LightRAG's prefixes: an optional `/mode[instructions]`, then `/local `, `/global `,
/// `/naive `, `/hybrid `, `/mix `, `/bypass `, `/context`, `/<mode>context`.
pub fn parse_prefix(text: &str) -> Prefixed {
    let mut q = text.to_string();
    let mut user_prompt = None;
    if let Some(rest) = q.strip_prefix('/') {
        let letters: String = rest
            .chars()
            .take_while(|c| c.is_ascii_lowercase())
            .collect();
        let after = &rest[letters.len()..];
        if let Some(inner) = after.strip_prefix('[') {
            if let Some(end) = inner.find(']') {
                user_prompt = Some(inner[..end].to_string()).filter(|p| !p.trim().is_empty());
                let remaining = inner[end + 1..].trim_start();
                q = if letters.is_empty() {
                    remaining.to_string()
                } else {
                    format!("/{letters} {remaining}")
                };
            }
        }
    }
    const PREFIXES: [(&str, QueryMode, bool); 12] = [
        ("/local ", QueryMode::Local, false),
        ("/global ", QueryMode::Global, false),
        ("/naive ", QueryMode::Naive, false),
        ("/hybrid ", QueryMode::Hybrid, false),
        ("/mix ", QueryMode::Mix, false),
        ("/bypass ", QueryMode::Bypass, false),
        ("/context", QueryMode::Mix, true),
        ("/localcontext", QueryMode::Local, true),
        ("/globalcontext", QueryMode::Global, true),
        ("/hybridcontext", QueryMode::Hybrid, true),
        ("/naivecontext", QueryMode::Naive, true),
        ("/mixcontext", QueryMode::Mix, true),
    ];
    for (prefix, mode, only_context) in PREFIXES {
        if let Some(rest) = q.strip_prefix(prefix) {
            return Prefixed {
                mode,
                only_context,
                user_prompt,
                query: rest.trim_start().to_string(),
            };
        }
    }
    Prefixed {
        mode: QueryMode::Mix,
        only_context: false,
        user_prompt,
        query: q,
    }
}

/// The model name to answer with: the client's (at most LightRAG's 256 characters) or ours.
fn model_name(given: Option<String>, state: &AppState) -> ApiResult<String> {
    match given {
        Some(m) => {
            limits::check_text("model", &m, limits::MAX_MODEL_NAME_CHARS)
                .map_err(ApiError::from_query)?;
            Ok(m)
        }
        None => Ok(state.cfg.ollama_model.clone()),
    }
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(body).map_err(|e| ApiError::BadRequest(format!("invalid request: {e}")))
}

/// Ollama's closing statistics (durations in nanoseconds, counts in tokens).
fn stats(ws: &Workspace, started: Instant, prompt: &str, answer: &str) -> Value {
    let total = started.elapsed().as_nanos() as u64;
    let tok = ws.rag.tokenizer();
    json!({"total_duration": total, "load_duration": 0,
           "prompt_eval_count": tok.count(prompt), "prompt_eval_duration": 0,
           "eval_count": tok.count(answer), "eval_duration": total})
}

/// The answer as pieces: a model stream, or one piece.
async fn answer(
    ws: &Workspace,
    p: &Prefixed,
    history: Vec<ChatMessage>,
    system: Option<String>,
    stream: bool,
    raw_query: &str,
) -> ApiResult<BoxStream<'static, lightrag_core::Result<String>>> {
    // Open WebUI's title and tag requests carry the chat in the prompt; RAG would only confuse them.
    let direct =
        p.mode == QueryMode::Bypass || (!stream && raw_query.contains("\n<chat_history>\nUSER:"));
    if direct {
        if let Some(model) = ws.rag.query_model() {
            let req = ChatRequest {
                system,
                history,
                prompt: p.query.clone(),
                ..Default::default()
            };
            return if stream {
                Ok(model.stream(&req).await?)
            } else {
                let text = model.complete(&req).await?;
                Ok(futures::stream::once(async move { Ok(text) }).boxed())
            };
        }
        if p.mode == QueryMode::Bypass {
            return Err(ApiError::Unavailable(
                "no LLM is configured (LLM_BINDING=none), so /bypass cannot answer".into(),
            ));
        }
    }
    let mut param = QueryParam::from_defaults(&ws.rag.config().query);
    param.mode = if p.mode == QueryMode::Bypass {
        QueryMode::Mix
    } else {
        p.mode
    };
    param.only_need_context = p.only_context;
    param.user_prompt = p.user_prompt.clone();
    param.conversation_history = history;
    param.stream = stream;
    let out = ws
        .rag
        .query_stream(&p.query, &param)
        .await
        .map_err(ApiError::from_query)?;
    Ok(match out.stream {
        Some(s) => s,
        None => {
            let text = out.result.answer;
            futures::stream::once(async move { Ok(text) }).boxed()
        }
    })
}

fn ndjson(lines: impl futures::Stream<Item = Value> + Send + 'static) -> Response {
    let body = lines.map(|v| Ok::<_, std::convert::Infallible>(format!("{v}\n")));
    (
        [(axum::http::header::CONTENT_TYPE, "application/x-ndjson")],
        axum::body::Body::from_stream(body),
    )
        .into_response()
}

/// `POST /api/chat`.
#[utoipa::path(post, path = "/api/chat", tag = "ollama", request_body = ChatBody, responses((status = 200, description = "The answer (NDJSON when streaming)")))]
pub async fn chat(
    State(state): State<AppState>,
    Ws(ws): Ws,
    Body(body): Body,
) -> ApiResult<Response> {
    let started = Instant::now();
    let req: ChatBody = parse(&body)?;
    if req.messages.len() > limits::MAX_MESSAGES {
        return Err(ApiError::Unprocessable(format!(
            "messages holds {} messages; at most {} are allowed",
            req.messages.len(),
            limits::MAX_MESSAGES
        )));
    }
    let Some((last, earlier)) = req.messages.split_last() else {
        return Err(ApiError::BadRequest("messages must not be empty".into()));
    };
    if last.role != "user" {
        return Err(ApiError::BadRequest(
            "the last message must be the user's".into(),
        ));
    }
    let model = model_name(req.model, &state)?;
    let history: Vec<ChatMessage> = earlier
        .iter()
        .map(|m| ChatMessage {
            role: m.role.clone(),
            content: m.content.clone(),
        })
        .collect();
    let system = req.system.as_deref().map(|s| ("the system prompt", s));
    limits::check_conversation(&last.content, limits::MAX_MESSAGE_CHARS, system, &history)
        .map_err(ApiError::from_query)?;
    let p = parse_prefix(&last.content);
    if p.query.trim().is_empty() {
        return Err(ApiError::BadRequest("the query is empty".into()));
    }
    let pieces = answer(&ws, &p, history, req.system, req.stream, &last.content).await?;
    let mode = p.mode.as_str();
    if !req.stream {
        let mut text = String::new();
        let mut pieces = pieces;
        while let Some(piece) = pieces.next().await {
            text.push_str(&piece?);
        }
        observe_query(started, mode, false);
        if text.is_empty() {
            text = "No response generated".into();
        }
        let mut v = json!({"model": model, "created_at": now(),
            "message": {"role": "assistant", "content": text, "images": null},
            "done_reason": "stop", "done": true});
        extend(&mut v, stats(&ws, started, &p.query, &text));
        return Ok(Json(v).into_response());
    }
    let query = p.query.clone();
    let (tx, rx) = tokio::sync::mpsc::channel::<Value>(16);
    tokio::spawn(async move {
        let mut pieces = pieces;
        let mut text = String::new();
        while let Some(piece) = pieces.next().await {
            match piece {
                Ok(s) if s.is_empty() => {}
                Ok(s) => {
                    text.push_str(&s);
                    let line = json!({"model": model, "created_at": now(),
                        "message": {"role": "assistant", "content": s, "images": null}, "done": false});
                    if tx.send(line).await.is_err() {
                        return;
                    }
                }
                Err(e) => {
                    let msg = format!("\n\nError: {e}");
                    let _ = tx
                        .send(json!({"model": model, "created_at": now(),
                        "message": {"role": "assistant", "content": msg, "images": null},
                        "error": msg, "done": false}))
                        .await;
                    let _ = tx
                        .send(json!({"model": model, "created_at": now(), "done": true}))
                        .await;
                    return;
                }
            }
        }
        observe_query(started, mode, false);
        let mut last = json!({"model": model, "created_at": now(),
            "message": {"role": "assistant", "content": "", "images": null},
            "done_reason": "stop", "done": true});
        extend(&mut last, stats(&ws, started, &query, &text));
        let _ = tx.send(last).await;
    });
    Ok(ndjson(futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|v| (v, rx))
    })))
}

fn extend(v: &mut Value, more: Value) {
    if let (Some(a), Value::Object(b)) = (v.as_object_mut(), more) {
        a.extend(b);
    }
}

/// `POST /api/generate`: the prompt straight to the answer model, no retrieval.
#[utoipa::path(post, path = "/api/generate", tag = "ollama", request_body = GenerateBody, responses((status = 200, description = "The completion (NDJSON when streaming)")))]
pub async fn generate(
    State(state): State<AppState>,
    Ws(ws): Ws,
    Body(body): Body,
) -> ApiResult<Response> {
    let started = Instant::now();
    let req: GenerateBody = parse(&body)?;
    if req.prompt.trim().is_empty() {
        return Err(ApiError::BadRequest("prompt must not be empty".into()));
    }
    let system = req.system.as_deref().map(|s| ("the system prompt", s));
    limits::check_conversation(&req.prompt, limits::MAX_QUERY_CHARS, system, &[])
        .map_err(ApiError::from_query)?;
    let model = model_name(req.model, &state)?;
    let Some(llm) = ws.rag.query_model() else {
        return Err(ApiError::Unavailable(
            "no LLM is configured (LLM_BINDING=none), so /api/generate cannot answer".into(),
        ));
    };
    let chat = ChatRequest {
        system: req.system,
        prompt: req.prompt.clone(),
        ..Default::default()
    };
    if !req.stream {
        let text = llm.complete(&chat).await?;
        let mut v = json!({"model": model, "created_at": now(), "response": text, "done": true,
                           "done_reason": "stop", "context": []});
        extend(&mut v, stats(&ws, started, &req.prompt, &text));
        return Ok(Json(v).into_response());
    }
    let mut pieces = llm.stream(&chat).await?;
    let prompt = req.prompt;
    let (tx, rx) = tokio::sync::mpsc::channel::<Value>(16);
    tokio::spawn(async move {
        let mut text = String::new();
        while let Some(piece) = pieces.next().await {
            match piece {
                Ok(s) => {
                    text.push_str(&s);
                    let line =
                        json!({"model": model, "created_at": now(), "response": s, "done": false});
                    if tx.send(line).await.is_err() {
                        return;
                    }
                }
                Err(e) => {
                    let _ = tx
                        .send(json!({"model": model, "created_at": now(), "response": "",
                        "error": e.to_string(), "done": true}))
                        .await;
                    return;
                }
            }
        }
        let mut last = json!({"model": model, "created_at": now(), "response": "", "done": true,
                              "done_reason": "stop", "context": []});
        extend(&mut last, stats(&ws, started, &prompt, &text));
        let _ = tx.send(last).await;
    });
    Ok(ndjson(futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|v| (v, rx))
    })))
}

/// The Ollama routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/version", get(version))
        .route("/api/tags", get(tags))
        .route("/api/ps", get(ps))
        .route("/api/chat", post(chat))
        .route("/api/generate", post(generate))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_pick_mode_context_and_instructions() {
        let p = parse_prefix("/local who runs it?");
        assert_eq!(
            (p.mode, p.only_context, p.query.as_str()),
            (QueryMode::Local, false, "who runs it?")
        );
        let p = parse_prefix("/mixcontext harbours");
        assert_eq!((p.mode, p.only_context), (QueryMode::Mix, true));
        let p = parse_prefix("/context harbours");
        assert_eq!(
            (p.mode, p.only_context, p.query.as_str()),
            (QueryMode::Mix, true, "harbours")
        );
        let p = parse_prefix("/naive[answer in one line] who?");
        assert_eq!(p.mode, QueryMode::Naive);
        assert_eq!(p.user_prompt.as_deref(), Some("answer in one line"));
        assert_eq!(p.query, "who?");
        let p = parse_prefix("/[be brief] who?");
        assert_eq!((p.mode, p.query.as_str()), (QueryMode::Mix, "who?"));
        let p = parse_prefix("/localfoo x");
        assert_eq!((p.mode, p.query.as_str()), (QueryMode::Mix, "/localfoo x"));
        assert_eq!(parse_prefix("/bypass hi").mode, QueryMode::Bypass);
    }
}
