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

use crate::script::{pieces, RuleKind};
use crate::{accept, chat_texts, failure, inputs, now_secs, paced, play, Accepted, Pace, State};

fn error(status: u16, message: &str, retry_after: Option<u64>) -> Response {
    let kind = match status {
        429 => "rate_limit_exceeded",
        400..=499 => "invalid_request_error",
        _ => "server_error",
    };
    let body = json!({"error": {"message": message, "type": kind, "param": null, "code": null}});
    failure(status, body, retry_after)
}

fn tokens(text: &str) -> usize {
    text.split_whitespace().count()
}

pub(crate) async fn chat(Extract(s): Extract<State>, headers: HeaderMap, body: Bytes) -> Response {
    let (chat, no_model) = (RuleKind::Chat, "you must provide a model parameter");
    let route = "/v1/chat/completions";
    let Accepted {
        req,
        model,
        in_flight,
    } = match accept(&s, route, chat, &headers, &body, no_model, error) {
        Ok(a) => a,
        Err(resp) => return *resp,
    };
    let (system, user) = chat_texts(&req);
    let texts = [user.as_str(), system.as_str()];
    let (plan, reply) = match play(&s, chat, &texts, &user, s.cfg.latency, error).await {
        Ok(p) => p,
        Err(resp) => return *resp,
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
        return paced("application/json", vec![body], pace, in_flight);
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
    paced("text/event-stream", events, pace, in_flight)
}

pub(crate) async fn embeddings(
    Extract(s): Extract<State>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (embed, no_model) = (RuleKind::Embed, "you must provide a model parameter");
    let Accepted { req, model, .. } = match accept(
        &s,
        "/v1/embeddings",
        embed,
        &headers,
        &body,
        no_model,
        error,
    ) {
        Ok(a) => a,
        Err(resp) => return *resp,
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
    if let Err(resp) = play(&s, embed, &refs, "", Duration::ZERO, error).await {
        return *resp;
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
