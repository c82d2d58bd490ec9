//! `MAX_ASYNC_SCOPE=cluster` on a real Redis: two processes (two connections, two limiters)
//! calling one model together never have more than MAX_ASYNC requests in flight, and a slot
//! whose holder died comes back when its lease runs out.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use lightrag_core::llm::limit::{LimitedChat, Slots};
use lightrag_core::ports::{ChatModel, ChatRequest};
use lightrag_core::Result;
use lightrag_orchestrator::redis_link::RedisLink;
use lightrag_orchestrator::{RedisSettings, RedisSlots};

/// A model that counts the requests it serves at once.
#[derive(Default)]
struct Counting {
    now: AtomicUsize,
    max: AtomicUsize,
}

#[async_trait]
impl ChatModel for Counting {
    fn identity(&self) -> String {
        "counting".into()
    }
    async fn complete(&self, _: &ChatRequest) -> Result<String> {
        let n = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.max.fetch_max(n, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(40)).await;
        self.now.fetch_sub(1, Ordering::SeqCst);
        Ok("ok".into())
    }
}

fn link(url: &str) -> Arc<RedisLink> {
    Arc::new(
        RedisLink::new(
            &RedisSettings {
                url: url.to_string(),
                db: 2,
            },
            Duration::from_secs(5),
        )
        .unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_share_one_budget() {
    let Some(url) = support::redis_url("cluster slots") else {
        return;
    };
    let model_id = support::unique_model("slots");
    let model = Arc::new(Counting::default());
    // Two processes, each with its own connection and limiter, MAX_ASYNC = 3 for the cluster.
    let limiters: Vec<Arc<LimitedChat>> = (0..2)
        .map(|_| {
            let slots = RedisSlots::new(link(&url), &model_id, 3, Duration::from_secs(30));
            Arc::new(LimitedChat::with_slots(model.clone(), Arc::new(slots)))
        })
        .collect();
    let calls = (0..24).map(|i| {
        let l = limiters[i % 2].clone();
        async move { l.complete(&ChatRequest::default()).await }
    });
    for r in futures::future::join_all(calls).await {
        r.unwrap();
    }
    assert_eq!(
        model.max.load(Ordering::SeqCst),
        3,
        "at most MAX_ASYNC at once across both processes, and the budget was used"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_holders_slot_comes_back_after_its_lease() {
    let Some(url) = support::redis_url("cluster slots lease") else {
        return;
    };
    let model_id = support::unique_model("slots-lease");
    let dead = RedisSlots::new(link(&url), &model_id, 1, Duration::from_millis(600));
    // A process that dies holding its only slot never gives it back.
    std::mem::forget(dead.acquire().await.unwrap());
    let taken = std::time::Instant::now();
    let alive = RedisSlots::new(link(&url), &model_id, 1, Duration::from_millis(600));
    let slot = tokio::time::timeout(Duration::from_secs(5), alive.acquire())
        .await
        .expect("the slot comes back")
        .unwrap();
    // Not before the dead holder's lease ran out (measured from when it took the slot).
    let waited = taken.elapsed();
    assert!(
        waited >= Duration::from_millis(550),
        "it waited for the lease: {waited:?}"
    );
    drop(slot);
}
