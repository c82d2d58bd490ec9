//! Ollama's API: `/api/chat` (NDJSON streaming by default, as Ollama), `/api/embed`,
//! `/api/tags`, `/api/version`. Errors are `{"error": "..."}` like Ollama's.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State as Extract;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::script::{pieces, RuleKind};
use crate::{accept, chat_texts, failure, inputs, paced, play, Accepted, Pace, State};

fn error(status: u16, message: &str, retry_after: Option<u64>) -> Response {
    failure(status, json!({ "error": message }), retry_after)
}

fn created_at() -> &'static str {
    "2025-01-01T00:00:00.000000Z"
}

pub(crate) async fn chat(Extract(s): Extract<State>, headers: HeaderMap, body: Bytes) -> Response {
    let (chat, no_model) = (RuleKind::Chat, "model is required");
    let Accepted {
        req,
        model,
        in_flight,
    } = match accept(&s, "/api/chat", chat, &headers, &body, no_model, error) {
        Ok(a) => a,
        Err(resp) => return *resp,
    };
    let (system, user) = chat_texts(&req);
    let texts = [user.as_str(), system.as_str()];
    let (plan, reply) = match play(&s, chat, &texts, &user, s.cfg.latency, error).await {
        Ok(p) => p,
        Err(resp) => return *resp,
    };
    let thinking = plan.thinking.filter(|_| req["think"] != Value::Bool(false));
    let stream = req["stream"].as_bool().unwrap_or(true);
    let done = |content: &str, thinking: Option<&str>| {
        let mut message = json!({"role": "assistant", "content": content});
        if let Some(t) = thinking {
            message["thinking"] = json!(t);
        }
        json!({
            "model": model, "created_at": created_at(), "message": message,
            "done": true, "done_reason": "stop", "total_duration": 1_000_000u64,
            "load_duration": 1000u64, "prompt_eval_count": user.split_whitespace().count(),
            "prompt_eval_duration": 1000u64, "eval_count": reply.split_whitespace().count(),
            "eval_duration": 1000u64,
        })
    };
    if !stream {
        let body = done(&reply, thinking.as_deref()).to_string();
        let pace = Pace {
            before_first: plan.hang,
            after_first: Duration::ZERO,
            between: Duration::ZERO,
            abort_after: None,
        };
        return paced(
            "application/json; charset=utf-8",
            vec![body],
            pace,
            in_flight,
        );
    }
    let mut lines: Vec<String> = Vec::new();
    if let Some(t) = &thinking {
        let msg = json!({"role": "assistant", "content": "", "thinking": t});
        lines.push(
            json!({"model": model, "created_at": created_at(), "message": msg, "done": false})
                .to_string(),
        );
    }
    for piece in pieces(&reply) {
        let msg = json!({"role": "assistant", "content": piece});
        lines.push(
            json!({"model": model, "created_at": created_at(), "message": msg, "done": false})
                .to_string(),
        );
    }
    lines.push(done("", None).to_string());
    let lines = lines.into_iter().map(|l| l + "\n").collect();
    let pace = Pace {
        before_first: Duration::ZERO,
        after_first: plan.hang,
        between: plan.chunk_delay,
        abort_after: plan.abort_after_chunks,
    };
    paced("application/x-ndjson", lines, pace, in_flight)
}

pub(crate) async fn embed(Extract(s): Extract<State>, headers: HeaderMap, body: Bytes) -> Response {
    let (embed, no_model) = (RuleKind::Embed, "model is required");
    let Accepted { req, model, .. } =
        match accept(&s, "/api/embed", embed, &headers, &body, no_model, error) {
            Ok(a) => a,
            Err(resp) => return *resp,
        };
    let Some(texts) = inputs(&req) else {
        return error(400, "input must be a string or a list of strings", None);
    };
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    if let Err(resp) = play(&s, embed, &refs, "", Duration::ZERO, error).await {
        return *resp;
    }
    match s.embed(&texts).await {
        Ok(vectors) => Json(json!({
            "model": model, "embeddings": vectors, "total_duration": 1000u64,
            "load_duration": 1000u64, "prompt_eval_count": texts.len(),
        }))
        .into_response(),
        Err(e) => error(500, &e, None),
    }
}

pub(crate) async fn tags(Extract(s): Extract<State>) -> Json<Value> {
    let models: Vec<Value> = s
        .cfg
        .models
        .iter()
        .map(|m| {
            json!({
                "name": m, "model": m, "modified_at": "2025-01-01T00:00:00Z", "size": 1_000_000u64,
                "digest": format!("{:064x}", m.len()),
                "details": {"format": "gguf", "family": "test", "parameter_size": "1B", "quantization_level": "Q4_0"},
            })
        })
        .collect();
    Json(json!({ "models": models }))
}

pub(crate) async fn version() -> Json<Value> {
    Json(json!({"version": "0.12.0"}))
}
