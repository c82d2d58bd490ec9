//! The LLM response cache, persisted in the KV store (`llm_response_cache`): a decorator around
//! any [`ChatModel`]. A request tagged with a [`CacheTag`] is answered from the cache when the
//! same prompt, history, format and model were seen (LightRAG's `{mode}:{cache_type}:{hash}`
//! keys), so re-running the same work makes no LLM call. Streamed replies are served from the
//! cache too, and stored once the stream ends without error (LightRAG never stores them, so a
//! terminal that always streams would never hit).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use futures::stream::BoxStream;
use futures::StreamExt;
use serde_json::json;

use crate::error::Result;
use crate::ids::args_hash;
use crate::ports::{ChatModel, ChatRequest, KvStore, Namespace};

/// A chat model whose tagged replies are cached in the KV store.
pub struct CachedChat {
    inner: Arc<dyn ChatModel>,
    kv: Arc<dyn KvStore>,
    enabled: bool,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl CachedChat {
    /// Wraps `inner`; with `enabled` false every call goes to the model (ENABLE_LLM_CACHE).
    pub fn new(inner: Arc<dyn ChatModel>, kv: Arc<dyn KvStore>, enabled: bool) -> Self {
        CachedChat {
            inner,
            kv,
            enabled,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// (hits, misses) so far.
    pub fn stats(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }

    fn key(&self, req: &ChatRequest) -> Option<String> {
        let tag = req.cache.as_ref().filter(|_| self.enabled)?;
        let history = serde_json::to_string(&req.history).unwrap_or_default();
        let hash = args_hash(&[
            req.system.as_deref().unwrap_or(""),
            &history,
            &req.prompt,
            "\n<response_format>\n",
            if req.json { "json_object" } else { "" },
            "\n<llm_identity>\n",
            &self.inner.identity(),
        ]);
        Some(format!("{}:{}:{hash}", tag.mode, tag.cache_type))
    }

    async fn lookup(&self, key: &str) -> Option<String> {
        let v = self.kv.get(Namespace::LlmResponseCache, key).await.ok()??;
        v.get("return").and_then(|r| r.as_str()).map(str::to_string)
    }
}

#[async_trait]
impl ChatModel for CachedChat {
    fn identity(&self) -> String {
        self.inner.identity()
    }

    async fn complete(&self, req: &ChatRequest) -> Result<String> {
        let Some(key) = self.key(req) else {
            return self.inner.complete(req).await;
        };
        if let Some(hit) = self.lookup(&key).await {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(hit);
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        let reply = self.inner.complete(req).await?;
        let tag = req
            .cache
            .as_ref()
            .map(|t| t.cache_type.clone())
            .unwrap_or_default();
        let record = json!({"return": reply, "cache_type": tag, "chunk_id": null,
                            "original_prompt": req.prompt, "queryparam": null});
        // A cache that cannot be written costs a later call, not this answer.
        if let Err(e) = self
            .kv
            .upsert(Namespace::LlmResponseCache, vec![(key, record)])
            .await
        {
            tracing::warn!("cannot store an LLM reply in the cache: {e}");
        }
        Ok(reply)
    }

    async fn stream(&self, req: &ChatRequest) -> Result<BoxStream<'static, Result<String>>> {
        let Some(key) = self.key(req) else {
            return self.inner.stream(req).await;
        };
        if let Some(hit) = self.lookup(&key).await {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(Box::pin(futures::stream::once(async move { Ok(hit) })));
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        let inner = self.inner.stream(req).await?;
        let kv = self.kv.clone();
        let tag = req
            .cache
            .as_ref()
            .map(|t| t.cache_type.clone())
            .unwrap_or_default();
        let prompt = req.prompt.clone();
        // Pass pieces through; when the stream ends cleanly, store the whole reply.
        struct State {
            inner: BoxStream<'static, Result<String>>,
            text: String,
            failed: bool,
        }
        let state = State {
            inner,
            text: String::new(),
            failed: false,
        };
        let stream = futures::stream::unfold(Some(state), move |state| {
            let (kv, key, tag, prompt) = (kv.clone(), key.clone(), tag.clone(), prompt.clone());
            async move {
                let mut st = state?;
                match st.inner.next().await {
                    Some(Ok(piece)) => {
                        st.text.push_str(&piece);
                        Some((Ok(piece), Some(st)))
                    }
                    Some(Err(e)) => {
                        st.failed = true;
                        Some((Err(e), Some(st)))
                    }
                    None => {
                        if !st.failed && !st.text.is_empty() {
                            let record = json!({"return": st.text, "cache_type": tag, "chunk_id": null,
                                                "original_prompt": prompt, "queryparam": null});
                            if let Err(e) = kv
                                .upsert(Namespace::LlmResponseCache, vec![(key, record)])
                                .await
                            {
                                tracing::warn!(
                                    "cannot store a streamed LLM reply in the cache: {e}"
                                );
                            }
                        }
                        None
                    }
                }
            }
        });
        Ok(Box::pin(stream))
    }
}
