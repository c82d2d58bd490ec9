//! A concurrency limit on a chat model (LightRAG's MAX_ASYNC): however many documents and
//! chunks are in flight, at most `n` requests reach the model at once. A stream holds its slot
//! until it ends. The slots are this process's ([`LocalSlots`]) or, with `MAX_ASYNC_SCOPE=cluster`,
//! one budget shared by every replica (the orchestrator crate's Redis slots), so that N
//! replicas do not send N times the load to one model server.

use std::sync::Arc;

use async_trait::async_trait;
use futures::stream::BoxStream;
use futures::StreamExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::{Error, Result};
use crate::ports::{ChatModel, ChatRequest, Held};

/// Where request slots come from.
#[async_trait]
pub trait Slots: Send + Sync {
    /// Waits for a slot; it is given back when the returned value is dropped.
    async fn acquire(&self) -> Result<Box<dyn Held>>;
}

/// `n` slots in this process.
pub struct LocalSlots(Arc<Semaphore>);

impl LocalSlots {
    pub fn new(n: usize) -> LocalSlots {
        LocalSlots(Arc::new(Semaphore::new(n.max(1))))
    }
}

impl Held for OwnedSemaphorePermit {}

#[async_trait]
impl Slots for LocalSlots {
    async fn acquire(&self) -> Result<Box<dyn Held>> {
        let permit = self
            .0
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| Error::Llm(e.to_string()))?;
        Ok(Box::new(permit))
    }
}

/// A chat model with at most `n` requests in flight.
pub struct LimitedChat {
    inner: Arc<dyn ChatModel>,
    slots: Arc<dyn Slots>,
}

impl LimitedChat {
    /// Wraps `inner` with `n` (at least 1) concurrent requests in this process.
    pub fn new(inner: Arc<dyn ChatModel>, n: usize) -> Self {
        Self::with_slots(inner, Arc::new(LocalSlots::new(n)))
    }

    /// Wraps `inner` with slots from `slots` (shared by several models, or processes).
    pub fn with_slots(inner: Arc<dyn ChatModel>, slots: Arc<dyn Slots>) -> Self {
        LimitedChat { inner, slots }
    }
}

#[async_trait]
impl ChatModel for LimitedChat {
    fn identity(&self) -> String {
        self.inner.identity()
    }

    async fn complete(&self, req: &ChatRequest) -> Result<String> {
        let _slot = self.slots.acquire().await?;
        self.inner.complete(req).await
    }

    async fn stream(&self, req: &ChatRequest) -> Result<BoxStream<'static, Result<String>>> {
        let slot = self.slots.acquire().await?;
        let inner = self.inner.stream(req).await?;
        // The permit moves into the stream and is released when the stream is dropped.
        Ok(Box::pin(inner.map(move |piece| {
            let _held = &slot;
            piece
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Slow {
        now: AtomicUsize,
        max: AtomicUsize,
    }

    #[async_trait]
    impl ChatModel for Slow {
        fn identity(&self) -> String {
            "slow".into()
        }
        async fn complete(&self, _: &ChatRequest) -> Result<String> {
            let n = self.now.fetch_add(1, Ordering::SeqCst) + 1;
            self.max.fetch_max(n, Ordering::SeqCst);
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            self.now.fetch_sub(1, Ordering::SeqCst);
            Ok("ok".into())
        }
    }

    #[tokio::test]
    async fn never_more_than_the_limit() {
        let slow = Arc::new(Slow {
            now: AtomicUsize::new(0),
            max: AtomicUsize::new(0),
        });
        let limited = Arc::new(LimitedChat::new(slow.clone(), 3));
        let req = ChatRequest::default();
        let calls = (0..20).map(|_| {
            let l = limited.clone();
            let r = req.clone();
            async move { l.complete(&r).await }
        });
        futures::future::join_all(calls).await;
        assert_eq!(slow.max.load(Ordering::SeqCst), 3);
    }
}
