//! The OpenAI-compatible API (as OpenAI, vLLM, llama.cpp serve it): `/v1/chat/completions`
//! (SSE streaming when `stream` is true), `/v1/embeddings` (float or base64 little-endian f32),
//! `/v1/models`. Errors are `{"error": {"message", "type", "param", "code"}}`.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State as Extract;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use serde_json::{json, Value};

use crate::script::{pieces, Outcome, RuleKind};
use crate::{chat_texts, failure, inputs, now_secs, paced, Pace, State};

fn error(status: u16, message: &str, retry_after: Option<u64>) -> Response {
    let kind = match status {
        429 => "rate_limit_exceeded",
        400..=499 => "invalid_request_error",
        _ => "server_error",
    };
    let body = json!({"error": {"message": message, "type": kind, "param": null, "code": null}});
    failure(status, body, retry_after)
}

/// The JSON body, or the 400 message.
fn parse(body: &Bytes) -> Result<Value, String> {
    serde_json::from_slice(body).map_err(|e| format!("invalid JSON body: {e}"))
}

fn tokens(text: &str) -> usize {
    text.split_whitespace().count()
}

pub(crate) async fn chat(Extract(s): Extract<State>, headers: HeaderMap, body: Bytes) -> Response {
    let req = match parse(&body) {
        Ok(v) => v,
        Err(e) => return error(400, &e, None),
    };
    s.record("/v1/chat/completions", &headers, &req);
    let guard = s.chat_started();
    let Some(model) = req["model"].as_str().map(str::to_string) else {
        return error(400, "you must provide a model parameter", None);
    };
    let (system, user) = chat_texts(&req);
    let plan = s.script.plan(RuleKind::Chat, &[&user, &system], &user);
    tokio::time::sleep(s.cfg.latency + plan.delay).await;
    let reply = match plan.outcome {
        Outcome::Reply(r) => r,
        Outcome::Fail {
            status,
            message,
            retry_after,
        } => return error(status, &message, retry_after),
    };
    let id = format!("chatcmpl-test{}", now_secs());
    let created = now_secs();
    let usage = json!({
        "prompt_tokens": tokens(&system) + tokens(&user),
        "completion_tokens": tokens(&reply),
        "total_tokens": tokens(&system) + tokens(&user) + tokens(&reply),
    });
    if !req["stream"].as_bool().unwrap_or(false) {
        let mut message = json!({"role": "assistant", "content": reply});
        if let Some(t) = &plan.thinking {
            message["reasoning_content"] = json!(t);
        }
        let body = json!({
            "id": id, "object": "chat.completion", "created": created, "model": model,
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": usage,
        })
        .to_string();
        let pace = Pace {
            before_first: plan.hang,
            after_first: Duration::ZERO,
            between: Duration::ZERO,
            abort_after: None,
        };
        return paced("application/json", vec![body], pace, Some(guard));
    }
    let chunk = |delta: Value, finish: Value| {
        let c = json!({
            "id": id, "object": "chat.completion.chunk", "created": created, "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        });
        format!("data: {c}\n\n")
    };
    let mut events = vec![chunk(
        json!({"role": "assistant", "content": ""}),
        Value::Null,
    )];
    if let Some(t) = &plan.thinking {
        events.push(chunk(json!({"reasoning_content": t}), Value::Null));
    }
    for piece in pieces(&reply) {
        events.push(chunk(json!({ "content": piece }), Value::Null));
    }
    events.push(chunk(json!({}), json!("stop")));
    if req["stream_options"]["include_usage"].as_bool() == Some(true) {
        let c = json!({
            "id": id, "object": "chat.completion.chunk", "created": created, "model": model,
            "choices": [], "usage": usage,
        });
        events.push(format!("data: {c}\n\n"));
    }
    events.push("data: [DONE]\n\n".to_string());
    let pace = Pace {
        before_first: Duration::ZERO,
        after_first: plan.hang,
        between: plan.chunk_delay,
        abort_after: plan.abort_after_chunks,
    };
    paced("text/event-stream", events, pace, Some(guard))
}

pub(crate) async fn embeddings(
    Extract(s): Extract<State>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let req = match parse(&body) {
        Ok(v) => v,
        Err(e) => return error(400, &e, None),
    };
    s.record("/v1/embeddings", &headers, &req);
    s.embed_started();
    let Some(model) = req["model"].as_str().map(str::to_string) else {
        return error(400, "you must provide a model parameter", None);
    };
    let Some(texts) = inputs(&req) else {
        return error(400, "'input' must be a string or an array of strings", None);
    };
    let base64 = match req["encoding_format"].as_str() {
        None | Some("float") => false,
        Some("base64") => true,
        Some(other) => return error(400, &format!("unknown encoding_format {other:?}"), None),
    };
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let plan = s.script.plan(RuleKind::Embed, &refs, "");
    tokio::time::sleep(plan.delay).await;
    if let Outcome::Fail {
        status,
        message,
        retry_after,
    } = plan.outcome
    {
        return error(status, &message, retry_after);
    }
    let vectors = match s.embed(&texts).await {
        Ok(v) => v,
        Err(e) => return error(500, &e, None),
    };
    let data: Vec<Value> = vectors
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let embedding = if base64 {
                let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
                json!(base64::engine::general_purpose::STANDARD.encode(bytes))
            } else {
                json!(v)
            };
            json!({"object": "embedding", "embedding": embedding, "index": i})
        })
        .collect();
    let prompt_tokens: usize = texts.iter().map(|t| tokens(t)).sum();
    Json(json!({
        "object": "list", "data": data, "model": model,
        "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens},
    }))
    .into_response()
}

pub(crate) async fn models(Extract(s): Extract<State>) -> Json<Value> {
    let data: Vec<Value> = s
        .cfg
        .models
        .iter()
        .map(|m| json!({"id": m, "object": "model", "created": 1_700_000_000u64, "owned_by": "lightrag-test"}))
        .collect();
    Json(json!({"object": "list", "data": data}))
}
