//! Ollama: chat through `/api/chat` (`stream: false` for `complete`, NDJSON lines for
//! `stream`) with `options` `temperature`, `num_ctx`, `num_predict`, `format: "json"` for JSON
//! mode and `think`; embeddings through `/api/embed`, many inputs per call.

use lightrag_core::ports::ChatRequest;
use serde_json::{json, Map, Value};

use super::adapter::Protocol;
use super::http::excerpt;
use super::messages;
use super::settings::{ChatSettings, EmbedSettings};
use super::stream::{Event, Framing};

pub(crate) static PROTOCOL: Protocol = Protocol {
    chat_path: "/api/chat",
    framing: Framing::Ndjson,
    chat_body,
    chat_text,
    stream_event,
    embed_path: "/api/embed",
    embed_body,
    embeddings,
};

fn chat_body(s: &ChatSettings, req: &ChatRequest, stream: bool) -> Value {
    let mut options = Map::new();
    if let Some(t) = s.temperature {
        options.insert("temperature".into(), json!(t));
    }
    if let Some(n) = s.num_ctx {
        options.insert("num_ctx".into(), json!(n));
    }
    if let Some(n) = s.max_tokens {
        options.insert("num_predict".into(), json!(n));
    }
    let mut body = json!({
        "model": s.model,
        "messages": messages(req),
        "stream": stream,
        "options": options,
    });
    if req.json {
        body["format"] = json!("json");
    }
    let think = if req.no_think { Some(false) } else { s.think };
    if let Some(t) = think {
        body["think"] = json!(t);
    }
    body
}

/// The `error` of a reply or stream line, as a failure detail.
fn server_error(v: &Value) -> Option<String> {
    let e = v.get("error")?;
    let msg = e
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| e.to_string());
    Some(format!("server error: {msg}"))
}

fn chat_text(reply: &Value) -> Result<String, String> {
    if let Some(e) = server_error(reply) {
        return Err(e);
    }
    match reply["message"]["content"].as_str() {
        Some(text) => Ok(text.to_string()),
        None => Err(format!(
            "reply has no message.content: {}",
            excerpt(reply.to_string().as_bytes())
        )),
    }
}

fn stream_event(line: &str) -> Result<Event, String> {
    let v: Value = serde_json::from_str(line).map_err(|e| {
        format!(
            "stream line is not JSON ({e}): {}",
            excerpt(line.as_bytes())
        )
    })?;
    if let Some(e) = server_error(&v) {
        return Err(e);
    }
    let done = v["done"].as_bool().unwrap_or(false);
    Ok(Event {
        content: v["message"]["content"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        finish: done,
        done,
    })
}

fn embed_body(s: &EmbedSettings, batch: &[String]) -> Value {
    let mut body = json!({"model": s.model, "input": batch});
    if let Some(n) = s.num_ctx {
        body["options"] = json!({ "num_ctx": n });
    }
    body
}

/// `embeddings` in the order of `input` (the count is checked by the adapter).
fn embeddings(reply: &Value, _asked: usize) -> Result<Vec<Vec<f32>>, String> {
    if let Some(e) = server_error(reply) {
        return Err(e);
    }
    serde_json::from_value(reply["embeddings"].clone())
        .map_err(|e| format!("reply has no embeddings list of numbers ({e})"))
}
