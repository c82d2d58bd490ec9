//! A server on 127.0.0.1 and an ephemeral port, over engines on a temporary directory with the
//! hashing embedder and the offline extractor (or a scripted chat model), driven over HTTP.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use lightrag_core::config::Settings;
use lightrag_core::hashing::HashingEmbedder;
use lightrag_core::ports::{ChatModel, Embedder};
use lightrag_core::{ChatModels, Rag};
use lightrag_providers::offline::OfflineExtractor;
use lightrag_server::{AppState, EngineOpener, OpenedEngine, ServerConfig};
use lightrag_storage::select::{self, Place, StorageConfig};
use serde_json::{json, Value};
use tempfile::TempDir;

pub struct TestOpener {
    root: PathBuf,
    chat: Option<Arc<dyn ChatModel>>,
    /// Each chunk's extraction takes this long (to catch the pipeline while it works).
    extract_delay: Duration,
    /// LIGHTRAG_*_STORAGE and connection settings given to the server, passed to the stores.
    storage: Vec<(String, String)>,
}

/// The offline extractor, slowed down.
struct SlowExtractor(OfflineExtractor, Duration);

#[async_trait]
impl lightrag_core::ports::Extractor for SlowExtractor {
    fn identity(&self) -> String {
        self.0.identity()
    }
    async fn extract(
        &self,
        chunk: &lightrag_core::types::Chunk,
    ) -> lightrag_core::Result<lightrag_core::types::ChunkExtraction> {
        tokio::time::sleep(self.1).await;
        self.0.extract(chunk).await
    }
}

#[async_trait]
impl EngineOpener for TestOpener {
    async fn open(&self, workspace: &str) -> Result<OpenedEngine, String> {
        let mut s = Settings::default();
        s.set("WORKING_DIR", self.root.to_string_lossy());
        s.set("WORKSPACE", workspace);
        s.set("EMBEDDING_BINDING", "hashing");
        for (k, v) in &self.storage {
            s.set(k, v.as_str());
        }
        let cfg = s.to_config().map_err(|e| e.to_string())?;
        let emb = Arc::new(HashingEmbedder::new(cfg.embedding_dim));
        let storage = StorageConfig::from_settings(&cfg.settings).map_err(|e| e.to_string())?;
        let dir = cfg.data_dir();
        let place = Place {
            data_dir: &dir,
            workspace,
        };
        let (stores, handle) = select::open(&storage, place, emb.model_name(), emb.dim())
            .await
            .map_err(|e| e.to_string())?;
        let extractor: Arc<dyn lightrag_core::ports::Extractor> = if self.extract_delay.is_zero() {
            Arc::new(OfflineExtractor::new())
        } else {
            Arc::new(SlowExtractor(OfflineExtractor::new(), self.extract_delay))
        };
        let mut rag = Rag::new(cfg, stores, emb, extractor);
        if let Some(chat) = &self.chat {
            rag = rag.with_chat_models(ChatModels::single(chat.clone()));
        }
        Ok(OpenedEngine {
            rag,
            stores: handle,
        })
    }
}

pub struct TestServer {
    pub url: String,
    pub client: reqwest::Client,
    pub dir: TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl TestServer {
    pub async fn start(settings: &[(&str, &str)]) -> TestServer {
        Self::start_with(settings, None).await
    }

    pub async fn start_with(
        settings: &[(&str, &str)],
        chat: Option<Arc<dyn ChatModel>>,
    ) -> TestServer {
        Self::start_full(settings, chat, Duration::ZERO).await
    }

    /// A server whose extraction takes `extract_delay` per chunk.
    pub async fn start_slow(settings: &[(&str, &str)], extract_delay: Duration) -> TestServer {
        Self::start_full(settings, None, extract_delay).await
    }

    pub async fn start_full(
        settings: &[(&str, &str)],
        chat: Option<Arc<dyn ChatModel>>,
        extract_delay: Duration,
    ) -> TestServer {
        // reqwest is built without a TLS provider in this workspace; plain HTTP needs none,
        // but the client insists on one being installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().expect("tempdir");
        let mut s = Settings::default();
        s.set("INPUT_DIR", dir.path().join("inputs").to_string_lossy());
        for (k, v) in settings {
            s.set(k, *v);
        }
        let cfg = ServerConfig::from_settings(&s, "").expect("server config");
        let storage = settings
            .iter()
            .filter(|(k, _)| {
                k.starts_with("LIGHTRAG_") && k.ends_with("_STORAGE") || k.starts_with("POSTGRES_")
            })
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let opener = Arc::new(TestOpener {
            root: dir.path().join("rag"),
            chat,
            extract_delay,
            storage,
        });
        let state = AppState::new(cfg, opener);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(lightrag_server::serve(
            listener,
            state,
            async move {
                let _ = rx.await;
            },
            Duration::from_secs(5),
        ));
        TestServer {
            url,
            client: reqwest::Client::new(),
            dir,
            stop: Some(tx),
            task: Some(task),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// A request in a workspace ("" = no header).
    pub fn req(&self, method: reqwest::Method, path: &str, ws: &str) -> reqwest::RequestBuilder {
        let r = self.client.request(method, self.url(path));
        if ws.is_empty() {
            r
        } else {
            r.header("LIGHTRAG-WORKSPACE", ws)
        }
    }

    pub async fn get(&self, path: &str, ws: &str) -> (u16, Value) {
        send(self.req(reqwest::Method::GET, path, ws)).await
    }

    pub async fn post(&self, path: &str, ws: &str, body: Value) -> (u16, Value) {
        send(self.req(reqwest::Method::POST, path, ws).json(&body)).await
    }

    pub async fn delete(&self, path: &str, ws: &str, body: Value) -> (u16, Value) {
        send(self.req(reqwest::Method::DELETE, path, ws).json(&body)).await
    }

    /// Inserts a text and waits until its track id's documents reached a final status.
    pub async fn insert(&self, ws: &str, text: &str, source: &str) -> String {
        let (code, v) = self
            .post(
                "/documents/text",
                ws,
                json!({"text": text, "file_source": source}),
            )
            .await;
        assert_eq!(code, 200, "{v}");
        let track = v["track_id"].as_str().expect("track id").to_string();
        self.wait_track(ws, &track).await;
        track
    }

    pub async fn wait_track(&self, ws: &str, track: &str) -> Value {
        for _ in 0..400 {
            let (code, v) = self
                .get(&format!("/documents/track_status/{track}"), ws)
                .await;
            assert_eq!(code, 200, "{v}");
            let docs = v["documents"].as_array().cloned().unwrap_or_default();
            if !docs.is_empty()
                && docs
                    .iter()
                    .all(|d| matches!(d["status"].as_str(), Some("processed" | "failed")))
            {
                return v;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("track {track} did not finish");
    }

    /// Waits until the workspace's pipeline is idle.
    pub async fn wait_idle(&self, ws: &str) {
        for _ in 0..400 {
            let (_, v) = self.get("/documents/pipeline_status", ws).await;
            if v["busy"] == json!(false) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("pipeline stayed busy");
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            t.await.expect("join").expect("serve");
        }
    }
}

pub async fn send(r: reqwest::RequestBuilder) -> (u16, Value) {
    let resp = r.send().await.expect("request");
    let code = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    let v = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (code, v)
}

/// A multipart body with one `file` field.
pub fn multipart(name: &str, content: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----lightragtestboundary";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: text/plain\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

pub const FERRY: &str = "The Orin ferry is run by Orin Lines and crosses Lake Orin twice a day. Orin Lines also runs buses around Lake Orin.";
pub const TRUST: &str = "The Orin Bird Trust counts herons on Lake Orin every spring. The Orin Bird Trust publishes a yearly heron report.";

/// A chat model with canned replies: keyword JSON for keyword prompts, a fixed answer for RAG
/// answer prompts, and an echo (with the system prompt) for direct calls. Streams word by word.
pub struct FakeChat;

impl FakeChat {
    fn reply(req: &lightrag_core::ports::ChatRequest) -> String {
        let sys = req.system.clone().unwrap_or_default();
        let all = format!("{sys}\n{}", req.prompt);
        if all.contains("You pick search keywords") {
            return r#"{"high_level_keywords": ["ferry service"], "low_level_keywords": ["Orin Lines", "Lake Orin"]}"#.into();
        }
        if all.contains("You answer questions using only") {
            return "Orin Lines runs the ferry across Lake Orin [1].".into();
        }
        format!(
            "direct reply to '{}' with system '{}' after {} earlier messages",
            req.prompt,
            sys,
            req.history.len()
        )
    }
}

#[async_trait]
impl ChatModel for FakeChat {
    fn identity(&self) -> String {
        "fake".into()
    }
    async fn complete(
        &self,
        req: &lightrag_core::ports::ChatRequest,
    ) -> lightrag_core::Result<String> {
        Ok(Self::reply(req))
    }
    async fn stream(
        &self,
        req: &lightrag_core::ports::ChatRequest,
    ) -> lightrag_core::Result<futures::stream::BoxStream<'static, lightrag_core::Result<String>>>
    {
        let text = Self::reply(req);
        let pieces: Vec<lightrag_core::Result<String>> = text
            .split_inclusive(' ')
            .map(|p| Ok(p.to_string()))
            .collect();
        Ok(Box::pin(futures::stream::iter(pieces)))
    }
}

/// Reads an NDJSON body into values.
pub async fn ndjson(resp: reqwest::Response) -> Vec<Value> {
    let text = resp.text().await.expect("body");
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect()
}
