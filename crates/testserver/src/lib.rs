//! A protocol-level stand-in for Ollama and OpenAI-compatible model servers, for tests.
//!
//! No real model server can be installed where the tests run, so this crate speaks the wire
//! protocols the remote adapters use (Ollama `/api/chat`, `/api/embed`; OpenAI
//! `/v1/chat/completions`, `/v1/embeddings`, streaming and not; the Cohere `/v2/rerank`, Jina
//! `/v1/rerank` and DashScope text-rerank APIs, scored lexically, see [`rerank`]) with scripted replies,
//! failures (`fail_times`), delays and stalls (see [`script`]), and counts what it served
//! (`GET /test/stats`, with how many requests each rule matched; the requests themselves at
//! `GET /test/requests`; `POST /test/reset`).
//! Embeddings come from an [`Embedder`] (deterministic feature hashing by default; the binary's
//! `--embedder local` computes real all-MiniLM-L6-v2 vectors, for benchmarks), through a fixed
//! number of model slots like Ollama's OLLAMA_NUM_PARALLEL (`embed_parallel`); `/test/stats`
//! reports the texts embedded and the seconds the model computed.
//!
//! Run it in process with [`serve`], or as the `lightrag-test-llm` binary.

pub mod script;

mod ollama;
mod openai;
mod rerank;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use lightrag_core::hashing::HashingEmbedder;
use lightrag_core::ports::{EmbedPurpose, Embedder};
use serde_json::{json, Value};
use tokio::task::JoinHandle;

use script::{Outcome, Plan};
pub use script::{Rule, RuleKind, Script};

/// How the server behaves.
#[derive(Clone)]
pub struct ServerConfig {
    /// 0 = any free port.
    pub port: u16,
    pub script: Script,
    /// Added before every chat response.
    pub latency: Duration,
    /// Computes embeddings.
    pub embedder: Arc<dyn Embedder>,
    /// Every embedding is multiplied by this (1.0 = as the embedder gives it), to check that
    /// clients normalise.
    pub embed_scale: f32,
    /// Names listed by `/api/tags` and `/v1/models`.
    pub models: Vec<String>,
    /// Print each new maximum of concurrent chat requests on stderr.
    pub report_concurrency: bool,
    /// Embedding calls computed at once (Ollama runs a model's requests through a fixed
    /// number of slots and queues the rest); 0 = no limit.
    pub embed_parallel: usize,
    /// Chat requests answered at once (a model server's parallel slots, as vLLM's or Ollama's
    /// OLLAMA_NUM_PARALLEL); the rest queue, each answered `latency` after it gets a slot. 0 =
    /// no limit.
    pub chat_parallel: usize,
    /// When set, the rerank routes want `Authorization: Bearer <this>` and answer 401 without.
    pub rerank_api_key: Option<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            port: 0,
            script: Script::default(),
            latency: Duration::ZERO,
            embedder: Arc::new(HashingEmbedder::new(384)),
            embed_scale: 1.0,
            models: vec!["test-llm:latest".into(), "test-embed:latest".into()],
            report_concurrency: false,
            embed_parallel: 0,
            chat_parallel: 0,
            rerank_api_key: None,
        }
    }
}

/// Requests kept for `/test/requests`.
const KEEP_REQUESTS: usize = 200;

pub(crate) struct AppState {
    pub(crate) cfg: ServerConfig,
    pub(crate) script: script::Scripted,
    chat_calls: AtomicU64,
    embed_calls: AtomicU64,
    pub(crate) rerank_calls: AtomicU64,
    embed_texts: AtomicU64,
    embed_compute_nanos: AtomicU64,
    embed_slots: Option<Arc<tokio::sync::Semaphore>>,
    chat_slots: Option<Arc<tokio::sync::Semaphore>>,
    in_flight: AtomicI64,
    max_in_flight: AtomicI64,
    requests: Mutex<VecDeque<Value>>,
}

pub(crate) type State = Arc<AppState>;

/// Counts a chat request as in flight until dropped.
pub(crate) struct InFlight(State);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

impl AppState {
    /// Records a request (path, JSON body, Authorization header) and counts it.
    pub(crate) fn record(&self, path: &str, headers: &HeaderMap, body: &Value) {
        let auth = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let mut reqs = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        if reqs.len() == KEEP_REQUESTS {
            reqs.pop_front();
        }
        reqs.push_back(json!({"path": path, "body": body, "authorization": auth}));
    }

    pub(crate) fn chat_started(self: &Arc<Self>) -> InFlight {
        self.chat_calls.fetch_add(1, Ordering::SeqCst);
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        let before = self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        if now > before && self.cfg.report_concurrency {
            eprintln!("max_in_flight {now}");
        }
        InFlight(self.clone())
    }

    pub(crate) fn embed_started(&self) {
        self.embed_calls.fetch_add(1, Ordering::SeqCst);
    }

    /// Embeds `texts` in a model slot, scaled by `embed_scale`.
    pub(crate) async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, String> {
        let _slot = match &self.embed_slots {
            Some(s) => Some(s.acquire().await.map_err(|e| e.to_string())?),
            None => None,
        };
        let started = std::time::Instant::now();
        let result = self.cfg.embedder.embed(texts, EmbedPurpose::Document).await;
        self.embed_compute_nanos
            .fetch_add(started.elapsed().as_nanos() as u64, Ordering::SeqCst);
        self.embed_texts
            .fetch_add(texts.len() as u64, Ordering::SeqCst);
        let mut out = result.map_err(|e| e.to_string())?;
        if self.cfg.embed_scale != 1.0 {
            for v in &mut out {
                v.iter_mut().for_each(|x| *x *= self.cfg.embed_scale);
            }
        }
        Ok(out)
    }
}

/// Starts the server on 127.0.0.1; returns the bound address and the serving task.
pub async fn serve(cfg: ServerConfig) -> std::io::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", cfg.port)).await?;
    let addr = listener.local_addr()?;
    let state = Arc::new(AppState {
        script: script::Scripted::new(cfg.script.clone()),
        embed_slots: (cfg.embed_parallel > 0)
            .then(|| Arc::new(tokio::sync::Semaphore::new(cfg.embed_parallel))),
        chat_slots: (cfg.chat_parallel > 0)
            .then(|| Arc::new(tokio::sync::Semaphore::new(cfg.chat_parallel))),
        embed_texts: AtomicU64::new(0),
        embed_compute_nanos: AtomicU64::new(0),
        cfg,
        chat_calls: AtomicU64::new(0),
        embed_calls: AtomicU64::new(0),
        rerank_calls: AtomicU64::new(0),
        in_flight: AtomicI64::new(0),
        max_in_flight: AtomicI64::new(0),
        requests: Mutex::new(VecDeque::new()),
    });
    let app = Router::new()
        .route("/api/chat", post(ollama::chat))
        .route("/api/embed", post(ollama::embed))
        .route("/api/tags", get(ollama::tags))
        .route("/api/version", get(ollama::version))
        .route("/v1/chat/completions", post(openai::chat))
        .route("/v1/embeddings", post(openai::embeddings))
        .route("/v1/models", get(openai::models))
        .route("/v2/rerank", post(rerank::cohere))
        .route("/v1/rerank", post(rerank::jina))
        .route(rerank::ALIYUN_PATH, post(rerank::aliyun))
        .route("/test/stats", get(stats))
        .route("/test/requests", get(requests))
        .route("/test/reset", post(reset))
        .with_state(state);
    let handle = tokio::spawn(async move {
        // Without TCP_NODELAY, a response written in two segments waits for the client's delayed
        // ACK (about 40 ms): that would be the test server's latency, not the model's.
        use axum::serve::ListenerExt;
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        if let Err(e) = axum::serve(listener, app).await {
            eprintln!("test server stopped: {e}");
        }
    });
    Ok((addr, handle))
}

async fn stats(axum::extract::State(s): axum::extract::State<State>) -> Json<Value> {
    Json(json!({
        "chat_calls": s.chat_calls.load(Ordering::SeqCst),
        "embed_calls": s.embed_calls.load(Ordering::SeqCst),
        "rerank_calls": s.rerank_calls.load(Ordering::SeqCst),
        "embed_texts": s.embed_texts.load(Ordering::SeqCst),
        "embed_compute_seconds": s.embed_compute_nanos.load(Ordering::SeqCst) as f64 / 1e9,
        "max_in_flight": s.max_in_flight.load(Ordering::SeqCst),
        "in_flight": s.in_flight.load(Ordering::SeqCst),
        "rule_hits": s.script.hits(),
    }))
}

async fn requests(axum::extract::State(s): axum::extract::State<State>) -> Json<Value> {
    let reqs = s.requests.lock().unwrap_or_else(|e| e.into_inner());
    Json(Value::Array(reqs.iter().cloned().collect()))
}

async fn reset(axum::extract::State(s): axum::extract::State<State>) -> StatusCode {
    s.chat_calls.store(0, Ordering::SeqCst);
    s.embed_calls.store(0, Ordering::SeqCst);
    s.rerank_calls.store(0, Ordering::SeqCst);
    s.embed_texts.store(0, Ordering::SeqCst);
    s.embed_compute_nanos.store(0, Ordering::SeqCst);
    s.max_in_flight
        .store(s.in_flight.load(Ordering::SeqCst), Ordering::SeqCst);
    s.requests.lock().unwrap_or_else(|e| e.into_inner()).clear();
    s.script.reset();
    StatusCode::NO_CONTENT
}

/// Timing of a streamed body.
pub(crate) struct Pace {
    /// Before the first piece (a non-streaming reply whose headers went out already).
    pub before_first: Duration,
    /// After the first piece (a stream that stalls).
    pub after_first: Duration,
    /// Between later pieces.
    pub between: Duration,
    /// Drop the connection after this many pieces.
    pub abort_after: Option<usize>,
}

/// A 200 response whose body is `pieces`, sent at `pace`; `guard` lives until the last piece.
pub(crate) fn paced(
    content_type: &'static str,
    pieces: Vec<String>,
    pace: Pace,
    guard: Option<InFlight>,
) -> Response {
    let (tx, rx) = futures::channel::mpsc::unbounded::<Result<String, std::io::Error>>();
    tokio::spawn(async move {
        let _guard = guard;
        tokio::time::sleep(pace.before_first).await;
        for (i, piece) in pieces.into_iter().enumerate() {
            if pace.abort_after == Some(i) {
                let err =
                    std::io::Error::new(std::io::ErrorKind::ConnectionAborted, "scripted abort");
                let _ = tx.unbounded_send(Err(err));
                return;
            }
            match i {
                0 => {}
                1 => tokio::time::sleep(pace.after_first.max(pace.between)).await,
                _ => tokio::time::sleep(pace.between).await,
            }
            if tx.unbounded_send(Ok(piece)).is_err() {
                return;
            }
        }
    });
    (
        [(header::CONTENT_TYPE, content_type)],
        Body::from_stream(rx),
    )
        .into_response()
}

/// An error response with a JSON body and an optional `Retry-After`.
pub(crate) fn failure(status: u16, body: Value, retry_after: Option<u64>) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = (code, Json(body)).into_response();
    if let Some(secs) = retry_after {
        if let Ok(v) = secs.to_string().parse() {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
    resp
}

/// Writes an error in one API's shape: status, message, `Retry-After`.
pub(crate) type ErrorShape = fn(u16, &str, Option<u64>) -> Response;

/// A chat or embedding request as both APIs take it in: parsed, recorded, counted, with its
/// model.
pub(crate) struct Accepted {
    pub(crate) req: Value,
    pub(crate) model: String,
    /// Held while a chat is answered (the concurrency counters); `None` for embeddings.
    pub(crate) in_flight: Option<InFlight>,
}

/// Takes in a request to `route`; `Err` is the 400 to send (boxed: a response is large) (`no_model` when `model` is missing).
pub(crate) fn accept(
    s: &State,
    route: &str,
    kind: RuleKind,
    headers: &HeaderMap,
    body: &Bytes,
    no_model: &str,
    error: ErrorShape,
) -> Result<Accepted, Box<Response>> {
    let req: Value = serde_json::from_slice(body)
        .map_err(|e| Box::new(error(400, &format!("invalid JSON body: {e}"), None)))?;
    s.record(route, headers, &req);
    let in_flight = match kind {
        RuleKind::Chat => Some(s.chat_started()),
        RuleKind::Embed => {
            s.embed_started();
            None
        }
        RuleKind::Rerank => {
            s.rerank_calls.fetch_add(1, Ordering::SeqCst);
            None
        }
    };
    let model = req["model"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| Box::new(error(400, no_model, None)))?;
    Ok(Accepted {
        req,
        model,
        in_flight,
    })
}

/// Plays the script for a request: waits `latency` plus the rule's delay, then gives the plan
/// and its reply, or the scripted failure as an error response.
pub(crate) async fn play(
    s: &State,
    kind: RuleKind,
    texts: &[&str],
    prompt: &str,
    latency: Duration,
    error: ErrorShape,
) -> Result<(Plan, String), Box<Response>> {
    let mut plan = s.script.plan(kind, texts, prompt);
    let _slot = match (&s.chat_slots, kind) {
        (Some(slots), RuleKind::Chat) => slots.acquire().await.ok(),
        _ => None,
    };
    tokio::time::sleep(latency + plan.delay).await;
    match std::mem::replace(&mut plan.outcome, Outcome::Reply(String::new())) {
        Outcome::Reply(reply) => Ok((plan, reply)),
        Outcome::Fail {
            status,
            message,
            retry_after,
        } => Err(Box::new(error(status, &message, retry_after))),
    }
}

/// Texts of a chat: (system messages, last user message), from OpenAI/Ollama `messages`.
pub(crate) fn chat_texts(body: &Value) -> (String, String) {
    let mut system = String::new();
    let mut user = String::new();
    for m in body["messages"].as_array().into_iter().flatten() {
        let content = m["content"].as_str().unwrap_or_default();
        match m["role"].as_str() {
            Some("system") => system.push_str(content),
            Some("user") => user = content.to_string(),
            _ => {}
        }
    }
    (system, user)
}

/// `input` as a list of texts (a string or a list of strings).
pub(crate) fn inputs(body: &Value) -> Option<Vec<String>> {
    match &body["input"] {
        Value::String(s) => Some(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => None,
    }
}

/// Seconds since the epoch.
pub(crate) fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
