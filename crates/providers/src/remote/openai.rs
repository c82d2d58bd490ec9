//! OpenAI-compatible servers (OpenAI, vLLM, llama.cpp, LM Studio, ...): chat through
//! `{host}/chat/completions` (SSE when streaming) with `temperature`, `max_tokens` and
//! `response_format: {"type": "json_object"}` for JSON mode; embeddings through
//! `{host}/embeddings`, base64 by default (LightRAG's EMBEDDING_USE_BASE64) or float.
//! The host includes `/v1`.

use lightrag_core::ports::ChatRequest;
use serde_json::{json, Value};

use super::adapter::Protocol;
use super::http::excerpt;
use super::settings::{ChatSettings, EmbedSettings};
use super::stream::{Event, Framing};
use super::{messages, vectors};

pub(crate) static PROTOCOL: Protocol = Protocol {
    chat_path: "/chat/completions",
    framing: Framing::Sse,
    chat_body,
    chat_text,
    stream_event,
    embed_path: "/embeddings",
    embed_body,
    embeddings,
};

fn chat_body(s: &ChatSettings, req: &ChatRequest, stream: bool) -> Value {
    let mut body = json!({"model": s.model, "messages": messages(req), "stream": stream});
    if let Some(t) = s.temperature {
        body["temperature"] = json!(t);
    }
    if let Some(n) = s.max_tokens {
        body["max_tokens"] = json!(n);
    }
    if req.json {
        body["response_format"] = json!({"type": "json_object"});
    }
    body
}

/// The `error` of a reply, as a failure detail.
fn server_error(v: &Value) -> Option<String> {
    let e = v.get("error").filter(|e| !e.is_null())?;
    let msg = e["message"]
        .as_str()
        .or_else(|| e.as_str())
        .map(str::to_string)
        .unwrap_or_else(|| e.to_string());
    Some(format!("server error: {msg}"))
}

fn chat_text(reply: &Value) -> Result<String, String> {
    if let Some(e) = server_error(reply) {
        return Err(e);
    }
    let message = &reply["choices"][0]["message"];
    match &message["content"] {
        Value::String(s) => Ok(s.clone()),
        // A reply of only tool calls or a refusal has no content.
        Value::Null if message.is_object() => Ok(String::new()),
        _ => Err(format!(
            "reply has no choices[0].message.content: {}",
            excerpt(reply.to_string().as_bytes())
        )),
    }
}

fn stream_event(data: &str) -> Result<Event, String> {
    if data.trim() == "[DONE]" {
        return Ok(Event {
            done: true,
            finish: true,
            ..Event::default()
        });
    }
    let v: Value = serde_json::from_str(data)
        .map_err(|e| format!("event is not JSON ({e}): {}", excerpt(data.as_bytes())))?;
    if let Some(e) = server_error(&v) {
        return Err(e);
    }
    let choice = &v["choices"][0];
    Ok(Event {
        content: choice["delta"]["content"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        finish: !choice["finish_reason"].is_null(),
        done: false,
    })
}

fn embed_body(s: &EmbedSettings, batch: &[String]) -> Value {
    let format = if s.use_base64 { "base64" } else { "float" };
    let mut body = json!({"model": s.model, "input": batch, "encoding_format": format});
    if s.send_dim {
        body["dimensions"] = json!(s.dim);
    }
    body
}

/// `data` items carry their index; servers may return them in any order.
fn embeddings(reply: &Value, asked: usize) -> Result<Vec<Vec<f32>>, String> {
    if let Some(e) = server_error(reply) {
        return Err(e);
    }
    let Some(data) = reply["data"].as_array() else {
        return Err(format!(
            "reply has no data list: {}",
            excerpt(reply.to_string().as_bytes())
        ));
    };
    let mut slots: Vec<Option<Vec<f32>>> = vec![None; asked];
    for (pos, item) in data.iter().enumerate() {
        let index = item["index"].as_u64().map_or(pos, |i| i as usize);
        let vector = match &item["embedding"] {
            Value::String(b64) => vectors::decode_base64_f32(b64)?,
            Value::Array(_) => serde_json::from_value(item["embedding"].clone())
                .map_err(|e| format!("embedding {index} is not a list of numbers ({e})"))?,
            _ => return Err(format!("item {pos} has no embedding")),
        };
        match slots.get_mut(index) {
            Some(slot @ None) => *slot = Some(vector),
            _ => {
                return Err(format!(
                    "embedding index {index} is out of range or repeated (asked for {asked})"
                ))
            }
        }
    }
    Ok(slots.into_iter().flatten().collect())
}
