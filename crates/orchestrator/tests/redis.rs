//! The orchestrator on a real Redis (scripts/redis.sh; scripts/test.sh starts it and sets
//! LIGHTRAG_TEST_SERVICES=1, which makes an unreachable Redis a failure): the second cache
//! level and its TTL, the shared queue's priorities, several processes sharing one batcher
//! pool, a worker killed mid-batch, and Redis stopped and restarted under a running
//! orchestrator.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use lightrag_core::ports::{EmbedPurpose, Embedder};
use lightrag_orchestrator::redis_link::RedisLink;
use lightrag_orchestrator::shared_queue::SharedQueue;
use lightrag_orchestrator::{
    BatchingEmbedder, Priority, RedisSettings, RedisStatus, RequestId, Status,
};
use support::{cli, test_config, unique_model, with_redis, OwnRedis, Recording, DIM};

fn texts(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix} {i}")).collect()
}

#[tokio::test]
async fn the_redis_level_serves_another_process_and_forgets_after_the_ttl() {
    let Some(url) = support::redis_url("redis cache") else {
        return;
    };
    let model = Recording::new(&unique_model("l2"));
    let mut cfg = with_redis(test_config(&model.model), &url);
    cfg.cache_ttl = Duration::from_millis(1500);
    let ts = texts("cached", 20);
    let first = BatchingEmbedder::new(model.clone(), cfg.clone()).unwrap();
    let a = first.embed(&ts, EmbedPurpose::Document).await.unwrap();
    assert_eq!(model.texts_embedded(), 20);
    let stats = first.cache_stats().await;
    assert_eq!(stats.redis_entries, Some(20), "written to Redis");
    let keys = cli(
        &url,
        2,
        &[
            "--scan",
            "--pattern",
            &format!("lightrag:emb:cache:{}:*", model.model),
        ],
    );
    let some_key = keys.lines().next().unwrap().to_string();
    let ttl: i64 = cli(&url, 2, &["PTTL", &some_key]).parse().unwrap();
    assert!(
        ttl > 0 && ttl <= 1500,
        "EMBEDDING_CACHE_TTL applies: {ttl} ms"
    );

    // A second orchestrator (another process's view: an empty memory level).
    let second = BatchingEmbedder::new(model.clone(), cfg.clone()).unwrap();
    let b = second.embed(&ts, EmbedPurpose::Document).await.unwrap();
    assert_eq!(a, b);
    assert_eq!(model.texts_embedded(), 20, "no model call: Redis answered");
    assert_eq!(second.metrics().redis_cache_hits, 20);
    // Queries are cached apart from documents (asymmetric models embed them differently).
    second.embed(&ts[..1], EmbedPurpose::Query).await.unwrap();
    assert_eq!(model.texts_embedded(), 21);

    tokio::time::sleep(Duration::from_millis(1700)).await;
    let third = BatchingEmbedder::new(model.clone(), cfg).unwrap();
    third.embed(&ts, EmbedPurpose::Document).await.unwrap();
    assert_eq!(model.texts_embedded(), 41, "expired: embedded again");
    assert_eq!(third.metrics().redis_cache_hits, 0);
    second
        .embed(&ts[..2], EmbedPurpose::Document)
        .await
        .unwrap();
    assert_eq!(
        second.metrics().memory_cache_hits,
        0,
        "the memory level expired too"
    );

    // Entries written without expiry get the TTL back from optimise; clear removes them.
    cli(&url, 2, &["PERSIST", &some_key]);
    assert_eq!(third.optimise_cache().await.redis_entries, Some(1));
    assert_eq!(third.clear_cache().await.redis_entries, Some(20));
    assert_eq!(third.cache_stats().await.redis_entries, Some(0));
}

#[tokio::test]
async fn the_shared_queue_serves_best_priority_first() {
    let Some(url) = support::redis_url("shared priorities") else {
        return;
    };
    let model = unique_model("sq-prio");
    let link = Arc::new(
        RedisLink::new(&RedisSettings { url, db: 2 }, Duration::from_millis(500)).unwrap(),
    );
    let q = SharedQueue::new(link, &model, Duration::from_secs(5));
    let item = |t: &'static str, p| (RequestId::new(), EmbedPurpose::Document, p, t);
    let items = vec![
        item("low", Priority::Low),
        item("normal 1", Priority::Normal),
        item("critical", Priority::Critical),
        item("normal 2", Priority::Normal),
        (
            RequestId::new(),
            EmbedPurpose::Query,
            Priority::High,
            "query",
        ),
    ];
    assert!(q.push(&items).await);
    let order = |c: lightrag_orchestrator::shared_queue::Claimed| {
        c.items.into_iter().map(|(_, t)| t).collect::<Vec<_>>()
    };
    assert_eq!(order(q.claim(2).await.unwrap()), ["critical", "normal 1"]);
    let next = q.claim(5).await.unwrap();
    assert_eq!(next.purpose, EmbedPurpose::Query, "a batch has one purpose");
    assert_eq!(order(next), ["query"]);
    assert_eq!(order(q.claim(5).await.unwrap()), ["normal 2", "low"]);
    let depth = q.depth().await.unwrap();
    assert_eq!((depth.pending, depth.leased), (0, 5));
}

/// A `lightrag-embed-worker` process.
struct Worker(Child);

impl Worker {
    fn spawn(url: &str, model: &str, extra: &[&str]) -> Worker {
        let mut child = Command::new(env!("CARGO_BIN_EXE_lightrag-embed-worker"))
            .args([
                "--redis-url",
                url,
                "--model",
                model,
                "--dim",
                &DIM.to_string(),
            ])
            .args(extra)
            .stdout(Stdio::piped())
            .spawn()
            .expect("the worker binary starts");
        let mut line = String::new();
        let stdout = child.stdout.take().unwrap();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        assert_eq!(line.trim(), "ready");
        Worker(child)
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_process_does_the_work_of_a_producer() {
    let Some(url) = support::redis_url("cross-process") else {
        return;
    };
    let model = Recording::new(&unique_model("xproc"));
    let _worker = Worker::spawn(&url, &model.model, &["--interval-ms", "10"]);
    let mut cfg = with_redis(test_config(&model.model), &url);
    cfg.shared_queue = true;
    cfg.workers = 0; // this process only submits
    let producer = Arc::new(BatchingEmbedder::new(model.clone(), cfg).unwrap());
    let mut tasks = Vec::new();
    for chunk in texts("shared", 120).chunks(6) {
        let p = producer.clone();
        let chunk = chunk.to_vec();
        tasks.push(tokio::spawn(async move {
            let v = p.embed(&chunk, EmbedPurpose::Document).await.unwrap();
            (chunk, v)
        }));
    }
    for t in tasks {
        let (chunk, vectors) = t.await.unwrap();
        for (text, v) in chunk.iter().zip(vectors) {
            assert_eq!(v, model.expected(text).await);
        }
    }
    assert_eq!(
        model.texts_embedded(),
        0,
        "the producer never called its model"
    );
    assert_eq!(producer.metrics().batches_processed, 0);
    assert_eq!(producer.metrics().total_requests, 120);
    let h = producer.health().await;
    assert_eq!(h.integration_status, Status::Healthy, "{h:?}");
    assert_eq!(h.shared_queue.unwrap().pending, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_batch_loses_nothing() {
    let Some(url) = support::redis_url("killed worker") else {
        return;
    };
    let model = Recording::new(&unique_model("kill"));
    let mut cfg = with_redis(test_config(&model.model), &url);
    cfg.shared_queue = true;
    cfg.workers = 0;
    let producer = Arc::new(BatchingEmbedder::new(model.clone(), cfg.clone()).unwrap());
    // A worker whose model takes 30 s: it claims the batch, then dies holding the lease.
    let mut doomed = Worker::spawn(
        &url,
        &model.model,
        &[
            "--delay-ms",
            "30000",
            "--lease-ms",
            "1500",
            "--batch-timeout-ms",
            "1000",
            "--batch-size",
            "64",
        ],
    );
    let ts = texts("leased", 40);
    let p = producer.clone();
    let submitted = ts.clone();
    let waiting = tokio::spawn(async move { p.embed(&submitted, EmbedPurpose::Document).await });
    let pattern = format!("lightrag:emb:queue:{}:leases", model.model);
    let deadline = Instant::now() + Duration::from_secs(10);
    while cli(&url, 2, &["ZCARD", &pattern]) != "40" {
        assert!(
            Instant::now() < deadline,
            "the doomed worker never claimed the batch"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    doomed.0.kill().unwrap();
    doomed.0.wait().unwrap();

    // A healthy worker (in this process) takes the batch over once the lease runs out.
    let mut rescue_cfg = cfg;
    rescue_cfg.workers = 1;
    let rescuer = BatchingEmbedder::new(model.clone(), rescue_cfg).unwrap();
    rescuer.start().unwrap();
    let vectors = tokio::time::timeout(Duration::from_secs(15), waiting)
        .await
        .expect("the requests finish after the lease expires")
        .unwrap()
        .unwrap();
    for (t, v) in ts.iter().zip(vectors) {
        assert_eq!(v, model.expected(t).await);
    }
    assert_eq!(
        model.texts_embedded(),
        40,
        "the rescuer embedded the whole batch"
    );
    assert_eq!(
        cli(&url, 2, &["ZCARD", &pattern]),
        "0",
        "no lease left behind"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_stopped_and_restarted_under_a_running_orchestrator() {
    // Fails rather than skips when services were promised and redis-server is missing.
    if support::redis_url("redis restart").is_none() {
        return;
    }
    let own = OwnRedis::start(6393);
    let model = Recording::new(&unique_model("restart"));
    let mut cfg = with_redis(test_config(&model.model), &own.url());
    cfg.redis_timeout = Duration::from_millis(500); // the stall this test bounds
    cfg.shared_queue = true;
    cfg.workers = 1;
    let orch = BatchingEmbedder::new(model.clone(), cfg).unwrap();
    orch.embed(&texts("before", 10), EmbedPurpose::Document)
        .await
        .unwrap();
    let h = orch.health().await;
    assert_eq!(
        (h.integration_status, h.redis_status),
        (Status::Healthy, RedisStatus::Connected)
    );

    own.script("stop");
    let t = Instant::now();
    let during = texts("during", 10);
    let v = orch.embed(&during, EmbedPurpose::Document).await.unwrap();
    assert_eq!(v[3], model.expected(&during[3]).await, "served in process");
    assert!(
        t.elapsed() < Duration::from_secs(3),
        "no long stall: {:?}",
        t.elapsed()
    );
    let h = orch.health().await;
    assert_eq!(h.integration_status, Status::Degraded, "{h:?}");
    assert_eq!(h.redis_status, RedisStatus::Unreachable);
    assert!(!h.notes.is_empty());

    own.script("start");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let h = orch.health().await;
        if h.redis_status == RedisStatus::Connected {
            assert_eq!(h.integration_status, Status::Healthy);
            break;
        }
        assert!(Instant::now() < deadline, "Redis never came back: {h:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let after = texts("after", 10);
    orch.embed(&after, EmbedPurpose::Document).await.unwrap();
    assert_eq!(
        orch.cache_stats().await.redis_entries,
        Some(10),
        "the fresh server (no persistence) holds what was embedded since"
    );
}
