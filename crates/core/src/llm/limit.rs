//! A concurrency limit on a chat model (LightRAG's MAX_ASYNC): however many documents and
//! chunks are in flight, at most `n` requests reach the model at once. A stream holds its slot
//! until it ends.

use std::sync::Arc;

use async_trait::async_trait;
use futures::stream::BoxStream;
use futures::StreamExt;
use tokio::sync::Semaphore;

use crate::error::{Error, Result};
use crate::ports::{ChatModel, ChatRequest};

/// A chat model with at most `n` requests in flight.
pub struct LimitedChat {
    inner: Arc<dyn ChatModel>,
    slots: Arc<Semaphore>,
}

impl LimitedChat {
    /// Wraps `inner` with `n` (at least 1) concurrent requests.
    pub fn new(inner: Arc<dyn ChatModel>, n: usize) -> Self {
        LimitedChat {
            inner,
            slots: Arc::new(Semaphore::new(n.max(1))),
        }
    }
}

#[async_trait]
impl ChatModel for LimitedChat {
    fn identity(&self) -> String {
        self.inner.identity()
    }

    async fn complete(&self, req: &ChatRequest) -> Result<String> {
        let _slot = self
            .slots
            .acquire()
            .await
            .map_err(|e| Error::Llm(e.to_string()))?;
        self.inner.complete(req).await
    }

    async fn stream(&self, req: &ChatRequest) -> Result<BoxStream<'static, Result<String>>> {
        let slot = self
            .slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| Error::Llm(e.to_string()))?;
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
